"""Demo content: stored plans and simulated, mostly finished codings.

Each session gets a "true" level per item; each rater scores it with a small personal
bias and noise, so the demo's reliability is good but not perfect, and the exports,
the reliability view and the discrepancy list have something real to show. Raters
coded the whole session in order, dropping notes and, for duration items, spans.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from coder.kinds import CodingRole, ItemKind
from coder.planning import PlanRequest, plan_and_save
from coder.scales import ScaleItem
from coder.store.project import Project

# (scale, share double-coded, stratification keys); both at about 30 %.
DEMO_PLANS = (
    ("thabs", 0.3, ("therapist", "patient", "phase")),
    ("hw_adherence", 0.35, ("therapist", "phase")),
)
NOTE_TEXTS = (
    "therapist introduces the week's task",
    "client hesitant about the worksheet",
    "reviews last week's mood diary",
    "praises the client for trying",
    "rationale linked to the case formulation",
    "client raises a practical obstacle",
)


def add_demo_work(project: Project, say: Callable[[str], None]) -> None:
    rng = np.random.default_rng(20261126)
    raters = [r.code for r in project.raters()]
    bias = {code: rng.normal(0, 0.35) for code in raters}
    truth: dict[tuple[str, str], float] = {}
    durations = {s.key: s.duration_ms or 0 for s in project.sessions()}
    double_coded: set[tuple[str, str]] = set()
    for scale_id, share, stratify in DEMO_PLANS:
        request = PlanRequest(scale_id, tuple(raters), share, stratify, seed=7)
        plan, _plan_id = plan_and_save(project, request)
        double_coded |= {
            (scale_id, c.session_id) for c in plan.codings if c.role == CodingRole.SECOND
        }
        say(f"planned {scale_id}: {plan.summary().double_coded} double-coded sessions")
    uncodable_made: set[str] = set()
    for code in raters:
        view = project.rater_view(code)
        queue = view.queue()
        # Most of each queue is done. The last single-coded entry of each scale is left
        # open for every rater to try the workstation on (the queue runs plan by plan,
        # so "the last two entries" would all be of the last scale planned);
        # double-coded ones are finished so that reliability, the discrepancy list and
        # the pairs sheet have content.
        last_single = {
            e.scale_id: e.coding_id
            for e in queue
            if (e.scale_id, e.session_key) not in double_coded
        }
        open_ones = set(last_single.values())
        for position, entry in enumerate(queue):
            if entry.coding_id in open_ones:
                continue
            scale = project.scale(entry.scale_id)
            coding = entry.coding_id
            # The first single-coded session of each scale in the last rater's queue is
            # uncodable, so the uncodable tables have content (never a double-coded
            # one: each rater pair keeps its shared sessions for the per-pair tables).
            single = (entry.scale_id, entry.session_key) not in double_coded
            if single and code == raters[-1] and entry.scale_id not in uncodable_made:
                uncodable_made.add(entry.scale_id)
                view.set_uncodable(coding, "Audio failure")
                continue
            length = durations.get(entry.session_key, 180_000)
            start = scale.window.start_ms
            end = min(length, scale.window.end_ms or length)
            for k in range(int(rng.integers(1, 4))):
                at = int(rng.integers(start, max(start + 1, end)))
                view.add_note(coding, at, NOTE_TEXTS[(k + position) % len(NOTE_TEXTS)])
            for item in scale.items:
                value = _simulated(item, truth, entry.session_key, bias[code], rng)
                if item.kind == ItemKind.DURATION:
                    seconds = max(5.0, value)
                    span_start = int(rng.integers(start, max(start + 1, end - 60_000)))
                    view.add_span(
                        coding, item.id, span_start, min(end, span_start + int(seconds * 1000))
                    )
                elif item.kind == ItemKind.TEXT:
                    view.set_text(coding, item.id, "worksheet on activity scheduling")
                elif value is not None:
                    view.set_value(coding, item.id, value)
            view.set_playhead(coding, end)
            view.submit(coding)
    say("simulated codings added")


def _simulated(
    item: ScaleItem,
    truth: dict[tuple[str, str], float],
    session: str,
    bias: float,
    rng: np.random.Generator,
) -> float:
    key = (session, item.id)
    if item.kind == ItemKind.DURATION:
        if key not in truth:
            truth[key] = float(rng.uniform(20, 150))
        return round(truth[key] * float(rng.uniform(0.85, 1.15)), 1)
    if item.kind != ItemKind.ORDINAL or item.min is None or item.max is None:
        return 0.0
    if key not in truth:
        truth[key] = float(rng.uniform(item.min, item.max))
    noisy = truth[key] + bias + rng.normal(0, 0.45)
    return float(min(item.max, max(item.min, round(noisy))))
