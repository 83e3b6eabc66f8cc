"""Assignment plans in a project: from stored sessions to stored codings and back.

The planner itself (:mod:`coder.assignment`) is pure; this module feeds it the
project's sessions, raters and already-started work, and writes its plan as codings
in one transaction. Started codings (in progress, submitted, uncodable) never move;
unstarted ones are re-planned.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from coder.assignment import (
    NotCodable,
    Plan,
    PlannedCoding,
    PlanSession,
    PlanSummary,
    plan_assignments,
    replan,
)
from coder.attrition import no_audio_reason
from coder.certification import UNPLANNED_ROLES, certification_required, eligible_raters
from coder.changes import OpChanges
from coder.discrepancies import progress_by_rater, stored_plan_params
from coder.errors import InputError
from coder.kinds import CodingRole, CodingStatus
from coder.pools import RaterPool, check_plan_raters
from coder.scales import RatingScale
from coder.session_window import WindowShortfall, window_shortfalls
from coder.store import plans as store
from coder.store.pools import list_pools, pool
from coder.store.project import LEAD, Project, Rater, SessionInfo
from coder.store.queries import StoredPlan

STRATA_KEYS = ("therapist", "patient", "phase", "session_number")


@dataclass(frozen=True)
class PlanRequest:
    """The lead's inputs for a plan of one scale, or of several planned together.

    ``with_scales`` names further scales planned together with ``scale_id``
    (``assign --scale A --scale B``): every session of the plan gets the same raters,
    roles and queue positions on each of them, the rater codes them in one listening,
    and each scale still has its own codings (so reliability and exports stay per
    scale). The sessions are those every scale of the group applies to.
    """

    scale_id: str
    raters: tuple[str, ...]
    double: float | int
    stratify: tuple[str, ...]
    seed: int
    exclude_pool_of: tuple[str, ...] = ()
    session_numbers: tuple[int, ...] = ()
    training: tuple[str, ...] = ()
    # Plan the sessions coded under an older version of the scale again under the
    # newest one (see coder.store.plans.store_plans).
    recode: bool = False
    pool: str | None = None
    with_scales: tuple[str, ...] = ()

    @property
    def scale_ids(self) -> tuple[str, ...]:
        """The plan's scales: ``scale_id`` first, then those planned together with it."""
        return (self.scale_id, *self.with_scales)

    def as_dict(self) -> dict[str, Any]:
        return {
            **({"pool": self.pool} if self.pool else {}),
            "scale": self.scale_id,
            **({"with_scales": list(self.with_scales)} if self.with_scales else {}),
            "raters": list(self.raters),
            "double": self.double,
            "stratify": list(self.stratify),
            "seed": self.seed,
            "exclude_pool_of": list(self.exclude_pool_of),
            "session_numbers": list(self.session_numbers),
            "training": list(self.training),
            "recode": self.recode,
        }


def parse_double(text: str) -> float | int:
    """'0.3' or '30%' is a share, '12' a count of sessions.

    Raises:
        InputError: for anything else.
    """
    text = text.strip()
    try:
        if text.endswith("%"):
            return float(text[:-1]) / 100
        if "." in text:
            return float(text)
        return int(text)
    except ValueError:
        raise InputError(
            f"--double {text!r}: give a share (0.3 or 30%) or a count of sessions (12)"
        ) from None


def _eligible_sessions(
    project: Project, request: PlanRequest
) -> tuple[list[PlanSession], list[str], list[NotCodable]]:
    """The sessions a plan may use, notes on the ones it leaves out, and those left out
    as not codable with the reason (:func:`coder.attrition.no_audio_reason`)."""
    scales = [project.scale(scale_id) for scale_id in request.scale_ids]
    for key in request.stratify:
        if key not in STRATA_KEYS:
            raise InputError(f"cannot stratify by {key!r}; use any of: {', '.join(STRATA_KEYS)}")
    notes = []
    chosen = []
    not_codable: list[NotCodable] = []
    short: list[WindowShortfall] = []
    for session in project.sessions():
        if request.session_numbers and session.session_number not in request.session_numbers:
            continue
        if not all(scale.applies_to.matches(session.session_number) for scale in scales):
            continue
        reason = no_audio_reason(session.audio_status, session.audio_reason)
        if reason is not None:
            not_codable.append(NotCodable(session.key, reason))
            continue
        short += window_shortfalls([session], scales)
        chosen.append(PlanSession(session.key, _strata(session, request.stratify)))
    if not_codable:
        notes.append(
            f"coverage: {len(not_codable)} session(s) without usable audio were left out "
            "(listed as not codable); import or re-link their audio and plan again"
        )
    for shortfall in short:
        notes.append(f"short recording: {shortfall.session_id}: {shortfall.window.shortfall()}")
    if not chosen:
        raise InputError(
            "no session of the project fits "
            + (
                f"scale {scales[0].id!r}"
                if len(scales) == 1
                else f"every one of the scales {', '.join(s.id for s in scales)}"
            )
            + (
                f" and session numbers {list(request.session_numbers)}"
                if request.session_numbers
                else ""
            )
            + " with usable audio"
        )
    return chosen, notes, not_codable


def _with_pool_raters(project: Project, request: PlanRequest) -> PlanRequest:
    """The request with the raters of its pool (``--pool``), checked against the teams.

    Raises:
        InputError: both a pool and raters given, an unknown or empty pool, or raters
            from two separate pools (:func:`coder.pools.check_plan_raters`).
    """
    pools = list_pools(project)
    if request.pool:
        if request.raters:
            raise InputError("give --raters or --pool, not both (the pool names the plan's raters)")
        chosen = next((p for p in pools if p.name == request.pool), None)
        if chosen is None:
            pool(project, request.pool)  # raises naming the project's pools
        assert chosen is not None
        active = {r.code for r in project.raters()}
        raters = tuple(r for r in chosen.raters if r in active)
        if not raters:
            raise InputError(f"pool {request.pool!r} has no active rater")
        request = dataclasses.replace(request, raters=raters)
    check_plan_raters(request.raters, pools)
    return request


def _excluded_raters(project: Project, request: PlanRequest) -> tuple[set[str], list[str]]:
    """The raters ``--exclude-pool-of`` keeps out, and notes naming the ones dropped.

    Each value is another scale (its raters: every rater with a coding of it) or a
    named pool (its raters).

    Raises:
        InputError: the scale being planned, an unknown scale or pool, or a scale
            that has no coding yet (it has no raters to keep out: plan it first, or
            name its pool).
    """
    excluded: set[str] = set()
    notes: list[str] = []
    pools = {p.name: p for p in list_pools(project)}
    scale_ids = {s.id for s in project.scales()}
    for other in request.exclude_pool_of:
        if other in request.scale_ids:
            raise InputError(
                "--exclude-pool-of names the scale being planned"
                + (f" ({other})" if request.with_scales else "")
            )
        if other in scale_ids:
            found = store.raters_coding(project, other)
            if not found:
                raise InputError(
                    f"--exclude-pool-of {other}: scale {other!r} has no coding yet, so "
                    "it has no raters to keep out; plan it first, or name its rater "
                    "pool instead (--exclude-pool-of POOL; see session-coder pool list)"
                )
        elif other in pools:
            found = set(pools[other].raters)
        else:
            raise InputError(
                f"--exclude-pool-of {other}: no scale or rater pool of that name (scales: "
                f"{', '.join(sorted(scale_ids)) or 'none'}; pools: "
                f"{', '.join(sorted(pools)) or 'none'})"
            )
        dropped = sorted(found & set(request.raters))
        if dropped:
            notes.append(
                f"pool separation: {', '.join(dropped)} left out (they code {other}; "
                "--exclude-pool-of)"
            )
        excluded |= found
    return excluded, notes


def _stored_plan(
    project: Project, scale_ids: Sequence[str]
) -> tuple[Plan | None, set[tuple[str, str]]]:
    """The scales' codings as one Plan, and the (session, rater) pairs already started.

    For scales planned together the plan is the union over them (the first scale's
    role and queue position where several have the pair), and work started on any of
    them counts as started: the group's raters of a session stay its raters.
    """
    latest: dict[tuple[str, str], store.StoredCoding] = {}
    started: set[tuple[str, str]] = set()
    params: dict[str, Any] = {}
    for scale_id in scale_ids:
        # Master codings and certification / drift-check codings are not plan work.
        rows, scale_params = store.scale_codings(project, scale_id, leave_out_roles=UNPLANNED_ROLES)
        params = params or scale_params
        # One planned coding per (session, rater): a re-code under a newer version is
        # the same assignment as the coding it re-codes.
        own = {(row.session_key, row.rater): row for row in rows}
        for key, row in own.items():
            latest.setdefault(key, row)
        started |= {
            (row.session_key, row.rater) for row in rows if row.state != CodingStatus.NOT_STARTED
        }
    if not latest:
        return None, set()
    codings = tuple(
        PlannedCoding(row.session_key, row.rater, row.role, row.queue_position)  # type: ignore[arg-type]
        for row in latest.values()
    )
    previous = Plan(
        codings=codings,
        relaxed=(),
        seed=int(params.get("seed", 0)),
        raters=tuple(sorted({c.rater for c in codings})),
        stratify=tuple(params.get("stratify", ())),
        training=tuple(params.get("training", ())),
    )
    return previous, started


def _check_group(project: Project, request: PlanRequest) -> None:
    """Scales planned together: each known, none twice.

    Raises:
        InputError: a scale named twice, or one the project does not have.
    """
    seen: set[str] = set()
    for scale_id in request.scale_ids:
        if scale_id in seen:
            raise InputError(f"--scale {scale_id} is given twice; name each scale once")
        seen.add(scale_id)
        project.scale(scale_id)  # raises naming the project's scales


def make_plan(project: Project, request: PlanRequest) -> Plan:
    """Plan (or re-plan) a scale without storing anything: the preview."""
    _check_group(project, request)
    request = _with_pool_raters(project, request)
    known = {r.code for r in project.raters()}
    unknown = [r for r in request.raters if r not in known]
    if unknown:
        raise InputError(
            f"unknown rater(s) {', '.join(unknown)}; add them with session-coder raters add"
        )
    trainees: tuple[str, ...] = ()
    if certification_required(project):
        # Real sessions go only to raters certified on the scale (or allowed by the
        # lead); the others keep just the plan's training sessions.
        # Scales planned together: certified on every one of them.
        allowed = eligible_raters(project, request.scale_id, request.raters)
        for other in request.with_scales:
            also = set(eligible_raters(project, other, request.raters))
            allowed = [rater for rater in allowed if rater in also]
        trainees = tuple(r for r in request.raters if r not in allowed)
        if not allowed:
            raise InputError(
                f"no rater of the pool is certified on {' and '.join(request.scale_ids)} "
                "and the project "
                "requires certification; see session-coder certify status, or let a rater "
                "code real sessions with session-coder certify override"
            )
        request = dataclasses.replace(request, raters=tuple(allowed))
    sessions, notes, not_codable = _eligible_sessions(project, request)
    for scale_id in request.scale_ids:
        notes += _version_notes(project, dataclasses.replace(request, scale_id=scale_id))
    excluded, exclusion_notes = _excluded_raters(project, request)
    notes += exclusion_notes
    previous, started = _stored_plan(project, request.scale_ids)
    if previous is None:
        plan = plan_assignments(
            sessions,
            list(request.raters),
            double=request.double,
            stratify=list(request.stratify),
            seed=request.seed,
            excluded_raters=excluded,
            training=request.training,
        )
    else:
        # Sessions of started work stay in the plan even if no longer eligible.
        present = {s.session_id for s in sessions}
        keep = {key for key, _rater in started} - present
        if keep:
            sessions += [
                PlanSession(s.key, _strata(s, request.stratify))
                for s in project.sessions()
                if s.key in keep
            ]
        plan = replan(
            previous,
            sessions=sessions,
            raters=list(request.raters),
            double=request.double,
            stratify=list(request.stratify),
            seed=request.seed,
            started=started,
            training=request.training,
            excluded_raters=excluded,
        )
    if trainees:
        plan = _with_trainees(plan, trainees, request)
        notes.append(
            f"certification: {', '.join(trainees)} not certified on "
            f"{' and '.join(request.scale_ids)}: "
            "no real sessions, training sessions only"
        )
    if notes:
        plan = Plan(**{**plan.__dict__, "relaxed": tuple(plan.relaxed) + tuple(notes)})
    return dataclasses.replace(plan, not_codable=tuple(not_codable))


def _version_notes(project: Project, request: PlanRequest) -> list[str]:
    """Say which sessions stay on an older scale version, or are re-coded (``recode``)."""
    newest = project.scale(request.scale_id).version
    rows, _params = store.scale_codings(project, request.scale_id, leave_out_roles=UNPLANNED_ROLES)
    coded: dict[str, int] = {}
    for row in rows:
        if row.state != CodingStatus.NOT_STARTED or row.recode_of is not None:
            coded[row.session_key] = max(coded.get(row.session_key, 0), row.version)
    older = sorted(key for key, version in coded.items() if version < newest)
    if not older:
        return []
    versions = ", ".join(str(v) for v in sorted({coded[key] for key in older}))
    if request.recode:
        return [
            f"re-code: {len(older)} session(s) coded under {request.scale_id} version "
            f"{versions} are planned again under version {newest} for their raters; "
            "each earlier coding counts until its re-code is finished"
        ]
    return [
        f"version: {len(older)} session(s) already coded under {request.scale_id} version "
        f"{versions} stay on that version (so do their new codings); plan with --recode "
        f"to have them coded again under version {newest}"
    ]


def _with_trainees(plan: Plan, trainees: Sequence[str], request: PlanRequest) -> Plan:
    """Add the plan's training sessions to the queues of raters still in training."""
    have = {(c.session_id, c.rater) for c in plan.codings}
    extra = []
    for rater in trainees:
        position = 1 + max((c.queue_position for c in plan.codings if c.rater == rater), default=-1)
        for key in sorted(request.training):
            if (key, rater) not in have:
                extra.append(PlannedCoding(key, rater, CodingRole.TRAINING, position))
                position += 1
    codings = tuple(sorted(plan.codings + tuple(extra), key=lambda c: (c.rater, c.queue_position)))
    return Plan(**{**plan.__dict__, "codings": codings})


def _strata(session: Any, keys: Sequence[str]) -> dict[str, str]:
    values = {
        "therapist": session.therapist,
        "patient": session.patient,
        "phase": session.phase,
        "session_number": str(session.session_number or ""),
    }
    return {k: values[k] for k in keys}


def save_plan(project: Project, request: PlanRequest, plan: Plan, *, actor: str = LEAD) -> int:
    """Store a plan: its codings replace the scale's unstarted ones, in one transaction.

    Scales planned together (``request.with_scales``) are stored in the same
    transaction, each with the same codings, linked as a group.

    Returns:
        The stored plan's id (of ``request.scale_id``'s plan for a group).
    """
    if request.pool and not request.raters:  # the params name the pool and its raters
        request = _with_pool_raters(project, request)
    return store.store_plans(
        project,
        request.scale_ids,
        plan.codings,
        params=request.as_dict(),
        summary=plan.summary().as_dict(),
        keep_roles=UNPLANNED_ROLES,
        actor=actor,
        recode=request.recode,
    )[0]


class SavedPlan(NamedTuple):
    """A plan made and stored by :func:`plan_and_save`: ``plan, plan_id = saved``."""

    plan: Plan
    plan_id: int

    @property
    def changes(self) -> OpChanges:
        """What storing a plan changes: the stored plan and the assignments."""
        return OpChanges(plan=True, assignments=True)


def plan_and_save(project: Project, request: PlanRequest, *, actor: str = LEAD) -> SavedPlan:
    """Make the plan of ``request`` and store it (the GUI's "Save plan")."""
    plan = make_plan(project, request)
    return SavedPlan(plan, save_plan(project, request, plan, actor=actor))


@dataclass(frozen=True)
class PlanState:
    """What the lead's plan tab shows of a project and one scale.

    Attributes:
        scale_id: The scale shown (None when the project has no scales).
        stored: The scale's plan in force, or None.
        stored_summary: That plan's summary, or None.
        progress: rater -> state -> codings of the scale.
        pools: The project's named rater pools (a plan may draw its raters from one).
    """

    scales: list[RatingScale]
    raters: list[Rater]
    sessions: list[SessionInfo]
    scale_id: str | None
    stored: StoredPlan | None = None
    stored_summary: PlanSummary | None = None
    progress: dict[str, dict[str, int]] = field(default_factory=dict)
    pools: list[RaterPool] = field(default_factory=list)


def load_plan_state(project: Project, scale_id: str | None) -> PlanState:
    """Read the scales, raters, sessions and the scale's stored plan and progress.

    Blocking: the GUI runs it in a worker. With ``scale_id`` None (or unknown) the
    first scale is used.
    """
    scales = project.scales()
    raters = project.raters()
    sessions = project.sessions()
    pools = list_pools(project)
    if scale_id is None or scale_id not in {s.id for s in scales}:
        scale_id = scales[0].id if scales else None
    if scale_id is None:
        return PlanState(scales, raters, sessions, None, pools=pools)
    stored = stored_plan_params(project, scale_id)
    return PlanState(
        scales,
        raters,
        sessions,
        scale_id,
        stored,
        None if stored is None else PlanSummary.from_dict(stored.summary),
        progress_by_rater(project, scale_id),
        pools,
    )
