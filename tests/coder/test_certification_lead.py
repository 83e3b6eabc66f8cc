"""The lead's certification jobs as the GUI and the CLI share them: one core function each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from coder.certification import (
    add_master_codings,
    assign_training,
    certification_overview,
    criterion_for,
    override_history,
    set_override,
    set_training_sessions,
    training_sessions,
    update_criterion,
)
from coder.changes import OpChanges
from coder.errors import InputError
from coder.kinds import CodingStatus
from coder.scales import load_builtin_scale
from coder.store.project import Project
from tests.cli import run_cli
from tests.coder.test_certification import MASTER, _score, _sessions, _train


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[Project]:
    """A project with sessions and raters but nothing of certification yet."""
    with Project.create(tmp_path / "bare.scproj") as project:
        project.add_scale(load_builtin_scale("thabs"))
        project.add_raters(["M", "A", "B"])
        _sessions(project, list(MASTER), training=False)
        yield project


def test_next_step_walks_the_lead_from_nothing_to_compared_raters(bare: Project) -> None:
    steps = [certification_overview(bare, "thabs").next_step()]
    assert steps[0] is not None and "marking at least 5 sessions" in steps[0]
    assert set_training_sessions(bare, ["T1", "T2", "T3", "T4", "T5"]) == OpChanges(sessions=True)
    step = certification_overview(bare, "thabs").next_step()
    assert step is not None and "master coding" in step
    report = add_master_codings(bare, ["T1", "T2", "T3", "T4", "T5"], "thabs", "M")
    assert report.changes == OpChanges(assignments=True, certification=True)
    assert list(report.codings) == ["T1", "T2", "T3", "T4", "T5"]
    step = certification_overview(bare, "thabs").next_step()
    assert step is not None and "enter the master codings" in step
    for key, coding in report.codings.items():
        _score(bare, "M", coding, MASTER[key])
    overview = certification_overview(bare, "thabs")
    assert overview.masters == {"M"}
    assert (
        overview.next_step() == "Next, give the raters the master-coded training sessions to code."
    )
    trained = assign_training(bare, "thabs", ["A"])
    assert trained.changes == OpChanges(assignments=True, certification=True)
    assert trained.added == {"A": ["T1", "T2", "T3", "T4", "T5"]}
    step = certification_overview(bare, "thabs").next_step()
    assert step is not None and "as soon as they submit" in step
    _train(bare, "A", good=True, n=1)
    assert certification_overview(bare, "thabs").next_step() is None


def test_too_few_master_coded_sessions_is_said(bare: Project) -> None:
    set_training_sessions(bare, ["T1", "T2"])
    report = add_master_codings(bare, ["T1", "T2"], "thabs", "M")
    for key, coding in report.codings.items():
        _score(bare, "M", coding, MASTER[key])
    step = certification_overview(bare, "thabs").next_step()
    assert (
        step
        == "Only 2 training sessions of 5 needed have a master coding: mark and master-code more."
    )


def test_training_sessions_show_their_master_coding_and_trainees(bare: Project) -> None:
    set_training_sessions(bare, ["T2", "T1"])
    add_master_codings(bare, ["T1"], "thabs", "M")
    records = {r.session_key: r for r in training_sessions(bare, "thabs")}
    assert list(records) == ["T1", "T2"]
    assert records["T1"].master_rater == "M"
    assert records["T1"].master_state == CodingStatus.NOT_STARTED
    assert records["T2"].master_rater is None and records["T2"].master_coding_id is None
    _score(bare, "M", int(records["T1"].master_coding_id or 0), MASTER["T1"])
    assign_training(bare, "thabs", ["A", "B"])
    t1 = training_sessions(bare, "thabs")[0]
    assert t1.master_state == CodingStatus.SUBMITTED
    assert (t1.trainees, t1.trainees_submitted) == (2, 0)


def test_master_codings_of_several_sessions_are_all_or_nothing(bare: Project) -> None:
    set_training_sessions(bare, ["T1", "T2"])
    with pytest.raises(InputError, match="'T3' is not a training session"):
        add_master_codings(bare, ["T1", "T3"], "thabs", "M")
    assert all(r.master_rater is None for r in training_sessions(bare, "thabs"))
    with pytest.raises(InputError, match="at least one training session"):
        add_master_codings(bare, [], "thabs", "M")
    with pytest.raises(InputError, match="at least one rater"):
        assign_training(bare, "thabs", [])


def test_a_new_master_code_is_added_with_its_codings_or_not_at_all(bare: Project) -> None:
    set_training_sessions(bare, ["T1", "T2"])
    with pytest.raises(InputError, match="no rater 'MASTER'"):
        add_master_codings(bare, ["T1"], "thabs", "MASTER")
    with pytest.raises(InputError, match="'T3' is not a training session"):
        add_master_codings(bare, ["T1", "T3"], "thabs", "MASTER", new_rater=True)
    with pytest.raises(InputError, match="is not valid"):
        add_master_codings(bare, ["T1"], "thabs", "MY MASTER", new_rater=True)
    assert "MASTER" not in [r.code for r in bare.raters()]
    report = add_master_codings(bare, ["T1", "T2"], "thabs", "MASTER", new_rater=True)
    assert report.new_rater
    assert report.changes == OpChanges(raters=True, assignments=True, certification=True)
    assert "MASTER" in [r.code for r in bare.raters()]
    assert [q.session_key for q in bare.rater_view("MASTER").queue()] == ["T1", "T2"]
    # An existing code is no new rater.
    set_training_sessions(bare, ["T3"])
    again = add_master_codings(bare, ["T3"], "thabs", "MASTER", new_rater=True)
    assert not again.new_rater and not again.changes.raters


def test_marking_no_session_or_an_unknown_one_changes_nothing(bare: Project) -> None:
    with pytest.raises(InputError, match="at least one session"):
        set_training_sessions(bare, [])
    with pytest.raises(InputError, match="no session 'X9'"):
        set_training_sessions(bare, ["T1", "X9"])
    assert not any(s.training for s in bare.sessions())


def test_update_criterion_changes_only_the_fields_given(bare: Project) -> None:
    assert update_criterion(bare, "thabs") == OpChanges()
    changes = update_criterion(bare, "thabs", min_sessions=3, min_within_one=0.9)
    assert changes == OpChanges(certification=True)
    c = criterion_for(bare, "thabs")
    assert (c.icc_form, c.min_icc, c.min_within_one, c.min_sessions) == ("ICC2", 0.7, 0.9, 3)
    with pytest.raises(InputError, match="outside 0..1"):
        update_criterion(bare, "thabs", min_within_one=80)
    assert criterion_for(bare, "thabs").min_within_one == 0.9


def test_override_history_keeps_each_change_with_its_reason(bare: Project) -> None:
    set_override(bare, "thabs", "A", True, reason="certified in the previous study")
    set_override(bare, "thabs", "B", False, reason="left the lab for a term")
    set_override(bare, "thabs", "A", None)
    events = override_history(bare, "thabs")
    assert [(e.rater, e.allow, e.reason) for e in events] == [
        ("A", None, ""),
        ("B", False, "left the lab for a term"),
        ("A", True, "certified in the previous study"),
    ]
    assert events[1].sentence() == "B barred from real sessions: left the lab for a term"
    assert events[2].actor == "lead"
    overview = certification_overview(bare, "thabs")
    assert overview.overrides == tuple(events)


def test_the_cli_runs_the_same_core_functions(tmp_path: Path) -> None:
    path = tmp_path / "cli.scproj"
    with Project.create(path) as project:
        project.add_scale(load_builtin_scale("thabs"))
        project.add_raters(["M", "A"])
        _sessions(project, list(MASTER), training=False)
    out = run_cli("certify", "sessions", str(path), "T1", "T2")
    assert out.returncode == 0, out.stderr
    out = run_cli("certify", "master", str(path), "T1", "T3", "--scale", "thabs", "--rater", "M")
    assert out.returncode == 2 and "'T3' is not a training session" in out.stderr
    out = run_cli("certify", "master", str(path), "T1", "T2", "--scale", "thabs", "--rater", "EXP")
    assert out.returncode == 2 and "no rater 'EXP'" in out.stderr
    out = run_cli(
        "certify",
        "master",
        str(path),
        "T1",
        "T2",
        "--scale",
        "thabs",
        "--rater",
        "M",
        "--add-rater",
    )
    assert out.returncode == 0 and out.stdout.count("master coding #") == 2
    out = run_cli("certify", "criterion", str(path), "--scale", "thabs", "--min-sessions", "2")
    assert out.returncode == 0
    assert out.stdout.strip() == (
        "thabs: ICC2 >= 0.7 and 80% within one point over at least 2 training session(s)"
    )
    out = run_cli("certify", "train", str(path), "--scale", "thabs", "--raters", "A")
    assert out.returncode == 0 and out.stdout.strip() == "A: 2 training session(s) added (T1, T2)"
    with Project.open(path) as project:
        records = training_sessions(project, "thabs")
        assert [(r.session_key, r.master_rater, r.trainees) for r in records] == [
            ("T1", "M", 1),
            ("T2", "M", 1),
        ]
