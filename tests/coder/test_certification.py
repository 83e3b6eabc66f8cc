"""Certification against master codes: feedback, status, the planner gate, drift checks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from coder.certification import (
    add_master_coding,
    agreement_over_time,
    assign_training,
    certification_feedback,
    certification_status,
    criterion_for,
    schedule_recalibration,
    set_criterion,
    set_override,
    set_require_certification,
)
from coder.errors import InputError
from coder.planning import PlanRequest, make_plan, plan_and_save
from coder.scales import (
    CertificationCriterion,
    ScaleValidationError,
    load_builtin_scale,
    parse_scale,
)
from coder.store.project import Project
from tests.factories import add_plain_sessions, score_coding, session

ITEMS = ("specification", "rationale", "troubleshooting", "review", "praise")
# The master's scores of the training sessions T1..T8: varied, so the ICC is defined.
MASTER = {f"T{i}": {item: (i + j) % 5 for j, item in enumerate(ITEMS)} for i in range(1, 9)}


def _sessions(project: Project, keys: list[str], *, training: bool) -> None:
    add_plain_sessions(
        project,
        [
            session(
                key,
                patient=f"P{n % 3}",
                therapist=f"T{n % 2}",
                session_number=2,
                phase="I",
                training=training,
            )
            for n, key in enumerate(keys)
        ],
    )


def _score(project: Project, rater: str, coding: int, scores: dict[str, int]) -> None:
    score_coding(project, rater, coding, {**scores, "duration": 60}, submit=True)


def _coding_of(project: Project, rater: str, session_key: str) -> int:
    return next(
        q.coding_id for q in project.rater_view(rater).queue() if q.session_key == session_key
    )


def _near(scores: dict[str, int], shift: int) -> dict[str, int]:
    """The master's scores, one item moved by one point (still within one)."""
    out = dict(scores)
    out["praise"] = min(4, max(0, out["praise"] + shift))
    return out


def _far(scores: dict[str, int]) -> dict[str, int]:
    return {item: 4 - v if abs(4 - 2 * v) >= 2 else (v + 2) % 5 for item, v in scores.items()}


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    with Project.create(tmp_path / "cert.scproj") as project:
        project.add_scale(load_builtin_scale("thabs"))
        project.add_raters(["M", "A", "B", "C"])
        _sessions(project, list(MASTER), training=True)
        _sessions(project, [f"S{i:02d}" for i in range(12)], training=False)
        for key, scores in MASTER.items():
            coding = add_master_coding(project, key, "thabs", "M")
            _score(project, "M", coding, scores)
        yield project


def _train(project: Project, rater: str, good: bool, n: int = 5) -> None:
    keys = [f"T{i}" for i in range(1, n + 1)]
    assign_training(project, "thabs", [rater], session_keys=keys)
    done = {q.session_key for q in project.rater_view(rater).queue() if q.state == "submitted"}
    for i, key in enumerate(keys):
        if key in done:
            continue
        scores = _near(MASTER[key], 1 if i % 2 else -1) if good else _far(MASTER[key])
        _score(project, rater, _coding_of(project, rater, key), scores)


def test_a_rater_meeting_the_criterion_is_certified_and_one_below_stays_in_training(
    project: Project,
) -> None:
    _train(project, "A", good=True, n=4)
    status = certification_status(project, "thabs")["A"]
    assert status.state == "in_training" and "4 of 5 training sessions" in status.why
    _train(project, "A", good=True, n=5)  # the fifth session
    _train(project, "B", good=False)
    status = certification_status(project, "thabs")
    assert status["A"].state == "certified" and status["A"].eligible
    assert status["A"].training.sessions == 5 and status["A"].training.units == 25
    assert status["A"].training.icc is not None and status["A"].training.icc >= 0.7
    assert status["A"].training.within_one == 1.0
    assert status["B"].state == "in_training" and not status["B"].eligible
    assert "below the criterion" in status["B"].why
    assert status["C"].state == "in_training" and status["C"].training.sessions == 0


def test_feedback_compares_item_by_item_only_after_submitting(project: Project) -> None:
    assign_training(project, "thabs", ["A", "B"], session_keys=["T1"])
    coding = _coding_of(project, "A", "T1")
    view = project.rater_view("A")
    view.set_value(coding, "specification", 3)
    with pytest.raises(InputError, match="submit the coding first"):
        certification_feedback(project, "A", coding)
    _score(project, "B", _coding_of(project, "B", "T1"), _far(MASTER["T1"]))
    _score(project, "A", coding, _near(MASTER["T1"], 1))
    master = _coding_of(project, "M", "T1")
    project.allow_reopen(master)
    project.rater_view("M").add_note(master, 90_500, "rationale given here")
    feedback = certification_feedback(project, "A", coding)
    by_item = {i.item_id: i for i in feedback.items}
    assert by_item["praise"].rater_value == _near(MASTER["T1"], 1)["praise"]
    assert by_item["praise"].master_value == MASTER["T1"]["praise"]
    assert by_item["specification"].difference == 0
    assert by_item["specification"].master_anchor  # the anchor text of the master's score
    assert [(n.position_ms, n.text) for n in feedback.master_notes] == [
        (90_500, "rationale given here")
    ]
    assert feedback.within_one == 1.0
    # Nothing of B's coding is in it: only the rater's and the master's values.
    b_scores = _far(MASTER["T1"])
    assert all(
        i.rater_value != b_scores[i.item_id] or i.rater_value == i.master_value
        for i in feedback.items
        if i.item_id in b_scores and i.item_id != "praise"
    )
    assert set(feedback.as_dict()) == {
        "coding_id",
        "rater",
        "session",
        "scale",
        "exact",
        "within_one",
        "items",
        "master_notes",
    }
    # Another rater cannot ask for it; real sessions give none.
    with pytest.raises(InputError, match="not in B's queue"):
        certification_feedback(project, "B", coding)
    real = project.add_coding("S00", "A", "thabs")
    _score(project, "A", real, MASTER["T1"])
    with pytest.raises(InputError, match="training sessions only"):
        certification_feedback(project, "A", real)


def test_the_planner_gives_real_sessions_only_to_certified_raters(project: Project) -> None:
    _train(project, "A", good=True)
    _train(project, "C", good=True)
    _train(project, "B", good=False)
    request = PlanRequest("thabs", ("A", "B", "C"), 0.3, (), seed=3, session_numbers=(2,))
    before = make_plan(project, request)  # certification not required yet
    assert before.summary().loads["B"] > 0
    set_require_certification(project, True)
    plan, _ = plan_and_save(project, request)
    summary = plan.summary()
    assert "B" not in summary.loads and summary.loads["A"] > 0
    assert any(r.startswith("certification: B not certified") for r in summary.relaxed)
    queue_b = project.rater_view("B").queue()
    assert {q.session_key for q in queue_b} == {f"T{i}" for i in range(1, 6)}  # training only
    # Master and training codings survived the plan.
    assert len(project.rater_view("M").queue()) == len(MASTER)
    # The lead lets B code anyway; the decision is in the history.
    set_override(project, "thabs", "B", True, reason="certified in the previous study")
    assert certification_status(project, "thabs")["B"].eligible
    plan, _ = plan_and_save(project, request)
    assert plan.summary().loads["B"] > 0
    logged = [h for h in project.history() if h.entity_id == "certification_overrides"]
    assert logged and logged[-1].new == {
        "thabs": {"B": {"allow": True, "reason": "certified in the previous study"}}
    }
    set_override(project, "thabs", "B", None)
    assert not certification_status(project, "thabs")["B"].eligible


def test_no_certified_rater_is_a_clear_error(project: Project) -> None:
    set_require_certification(project, True)
    with pytest.raises(InputError, match="no rater of the pool is certified on thabs"):
        make_plan(project, PlanRequest("thabs", ("A", "B"), 0.3, (), seed=1))


def test_drift_checks_are_unannounced_and_a_drifting_rater_lapses(project: Project) -> None:
    _train(project, "A", good=True)
    for i in range(9):
        project.add_coding(f"S{i:02d}", "A", "thabs", queue_position=10 + i)
    report = schedule_recalibration(project, "thabs", every=3, seed=5)
    assert len(report.added["A"]) == 3 and not report.short
    assert set(report.added["A"]) == {"T6", "T7", "T8"}  # the master-coded sessions A lacks
    assert schedule_recalibration(project, "thabs").added == {}  # nothing more is due
    queue = project.rater_view("A").queue()
    keys = [q.session_key for q in queue if q.state == "not_started"]
    # One drift check after every third real session, and nothing marks it.
    assert [k.startswith("T") for k in keys] == [False, False, False, True] * 3
    check = next(q for q in queue if q.session_key in report.added["A"])
    assert set(check.__dict__) == {
        "coding_id",
        "session_key",
        "scale_id",
        "scale_name",
        "state",
        "position",
        "items_scored",
        "items_total",
        "scale_group",
    }
    # Planned alone, like the real sessions of this plan: no group marks it either.
    assert check.scale_group is None and {q.scale_group for q in queue} == {None}
    for key in report.added["A"]:
        coding = _coding_of(project, "A", key)
        _score(project, "A", coding, _far(MASTER[key]))
        with pytest.raises(InputError, match="training sessions only"):
            certification_feedback(project, "A", coding)
    status = certification_status(project, "thabs")["A"]
    assert status.state == "lapsed" and not status.eligible
    assert status.recalibrations == 3 and "fell below" in status.why
    points = agreement_over_time(project, "A", "thabs")
    assert [p.kind for p in points] == ["training"] * 5 + ["recalibration"] * 3
    assert points[0].within_one == 1.0 and points[-1].within_one is not None
    assert points[-1].within_one < 0.8 and not points[-1].rolling.meets


def test_the_criterion_comes_from_the_scale_file_or_the_project(project: Project) -> None:
    assert criterion_for(project, "thabs") == CertificationCriterion()
    source = load_builtin_scale("hw_adherence").source.replace(
        "reliability:\n", "certification:\n  min_icc: 0.8\n  min_sessions: 3\nreliability:\n"
    )
    scale = parse_scale(source)
    assert scale.certification == CertificationCriterion(min_icc=0.8, min_sessions=3)
    with pytest.raises(ScaleValidationError, match=r"certification.min_within_one: 80 is out"):
        parse_scale(source.replace("min_sessions: 3", "min_within_one: 80"))
    _train(project, "A", good=True)
    set_criterion(project, "thabs", CertificationCriterion(min_sessions=6))
    assert criterion_for(project, "thabs").min_sessions == 6
    assert certification_status(project, "thabs")["A"].state == "in_training"
    with pytest.raises(InputError, match="write 0.8 for 80 %"):
        set_criterion(project, "thabs", CertificationCriterion(min_within_one=80))
    set_criterion(project, "thabs", None)
    assert certification_status(project, "thabs")["A"].state == "certified"


def test_master_codings_need_a_training_session_and_are_one_per_session(
    project: Project,
) -> None:
    with pytest.raises(InputError, match="not a training session"):
        add_master_coding(project, "S00", "thabs", "M")
    with pytest.raises(InputError, match="already has a master coding"):
        add_master_coding(project, "T1", "thabs", "A")
