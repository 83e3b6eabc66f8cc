"""Scales planned together (issue 13, item 5): the same raters for every scale of a
session, one coding per scale linked as a group, per-scale submission, per-scale
reliability and exports, and the CLI's repeated ``--scale``."""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from coder.coding_groups import group_state, open_coding_group, queue_lines
from coder.coding_session import CodingSession
from coder.errors import InputError
from coder.kinds import CodingStatus
from coder.planning import PlanRequest, make_plan, plan_and_save
from coder.scales import load_builtin_scale
from coder.session_window import SessionWindow, group_window
from coder.store.project import Project
from tests.cli import run_cli
from tests.factories import add_plain_sessions, session

GROUP = PlanRequest(
    "ghes",
    ("A", "B", "C"),
    0.5,
    ("therapist",),
    seed=11,
    with_scales=("sthar",),
)


def seed(project: Project, n: int = 12) -> None:
    for scale_id in ("ghes", "sthar", "thabs", "resistance"):
        project.add_scale(load_builtin_scale(scale_id))
    project.add_raters(["A", "B", "C", "D"])
    add_plain_sessions(
        project,
        [
            session(
                f"S{i:02d}",
                patient=f"P{i // 3}",
                therapist=f"T{i % 3}",
                session_number=i % 3 + 1,
                phase="I",
            )
            for i in range(n)
        ],
    )


def raters_by_session(project: Project, scale_id: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for code in ("A", "B", "C", "D"):
        for entry in project.rater_view(code).queue():
            if entry.scale_id == scale_id:
                found[entry.session_key].add(code)
    return dict(found)


def test_scales_planned_together_get_the_same_raters_per_session(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.scproj") as project:
        seed(project)
        plan, _plan_id = plan_and_save(project, GROUP)
        ghes = raters_by_session(project, "ghes")
        sthar = raters_by_session(project, "sthar")
        assert ghes == sthar
        assert len(ghes) == 12
        assert sum(1 for raters in ghes.values() if len(raters) == 2) == 6
        # One coding per (session, rater, scale): each scale has the plan's codings.
        status = project.status()
        assert status.by_scale["ghes"]["not_started"] == len(plan.codings) == 18
        assert status.by_scale["sthar"]["not_started"] == 18
        # A rater's codings of a session are linked as one group, per session.
        queue = project.rater_view("A").queue()
        groups = {(e.session_key, e.scale_group) for e in queue}
        assert all(group is not None for _key, group in groups)
        assert len({group for _key, group in groups}) == 1
        assert len(queue_lines(queue)) == len(queue) // 2
        # The scales of a session stand side by side in the queue.
        keys = [e.session_key for e in queue]
        assert keys[0::2] == keys[1::2]


def test_a_group_plan_takes_only_sessions_every_scale_applies_to(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.scproj") as project:
        seed(project)
        # resistance applies to session 1 only: a group with it plans session 1 only.
        request = dataclasses.replace(GROUP, scale_id="resistance", with_scales=("ghes",))
        plan = make_plan(project, request)
        numbers = {
            s.session_number
            for s in project.sessions()
            if s.key in {p.session_id for p in plan.sessions}
        }
        assert numbers == {1}


def test_a_group_is_refused_with_a_repeated_or_unknown_scale(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.scproj") as project:
        seed(project)
        with pytest.raises(InputError, match="given twice"):
            make_plan(project, dataclasses.replace(GROUP, with_scales=("ghes",)))
        with pytest.raises(InputError, match="nosuch"):
            make_plan(project, dataclasses.replace(GROUP, with_scales=("nosuch",)))
        with pytest.raises(InputError, match="being planned"):
            make_plan(project, dataclasses.replace(GROUP, exclude_pool_of=("sthar",)))
        assert project.status().by_scale.get("ghes", {}).get("not_started", 0) == 0


def test_replanning_a_group_keeps_started_work_on_every_scale_with_its_rater(
    tmp_path: Path,
) -> None:
    with Project.create(tmp_path / "p.scproj") as project:
        seed(project)
        plan_and_save(project, GROUP)
        view = project.rater_view("C")
        started = next(e for e in view.queue() if e.scale_id == "sthar")
        view.set_value(started.coding_id, "rationale", 3)
        plan_and_save(project, dataclasses.replace(GROUP, raters=("A", "B", "D")))
        # C's started StHAR coding keeps C on that session for GHES too.
        ghes = raters_by_session(project, "ghes")
        sthar = raters_by_session(project, "sthar")
        assert ghes == sthar
        assert "C" in ghes[started.session_key]
        assert {k for k, r in ghes.items() if "C" in r} == {started.session_key}
        assert any("D" in raters for raters in ghes.values())


def test_a_plan_of_one_scale_ungroups_its_unstarted_codings(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.scproj") as project:
        seed(project)
        plan_and_save(project, GROUP)
        alone = dataclasses.replace(GROUP, with_scales=())
        plan_and_save(project, alone)
        queue = project.rater_view("A").queue()
        assert {e.scale_group for e in queue if e.scale_id == "ghes"} == {None}
        stored = json.loads(json.dumps(alone.as_dict()))
        assert "with_scales" not in stored


def test_each_scale_of_a_group_is_submitted_through_its_own_rules(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.scproj") as project:
        seed(project)
        plan_and_save(project, GROUP)
        view = project.rater_view("A")
        entry = next(e for e in view.queue() if e.scale_id == "sthar")
        group = open_coding_group(project, view, entry.coding_id)
        assert [o.state.scale.id for o in group.codings] == ["ghes", "sthar"]
        assert group.codings[group.current].state.coding_id == entry.coding_id
        ghes, sthar = (CodingSession(view, o.state) for o in group.codings)
        # GHES is incomplete: its submission is refused and nothing of it changes.
        ghes.set_value("engagement", 2)
        with pytest.raises(InputError, match="not yet scored"):
            ghes.submit()
        for item in sthar.scale.items:
            sthar.set_value(item.id, 3)
        sthar.submit()
        states = {e.scale_id: e.state for e in view.queue() if e.session_key == entry.session_key}
        assert states == {"ghes": CodingStatus.IN_PROGRESS, "sthar": CodingStatus.SUBMITTED}
        line = next(q for q in queue_lines(view.queue()) if q.session_key == entry.session_key)
        assert line.scale_ids == ("ghes", "sthar")
        assert (line.state, line.finished, line.scales) == (CodingStatus.IN_PROGRESS, 1, 2)
        # The line opens the scale still to do.
        assert line.coding_id == ghes.coding_id


def test_group_state_and_window() -> None:
    assert group_state(["submitted", "submitted"]) == "submitted"
    assert group_state(["not_started", "submitted"]) == "in_progress"
    assert group_state(["uncodable", "submitted"]) == "submitted"
    whole = SessionWindow(0, None, 0, 600_000, whole_session=True)
    part = SessionWindow(300_000, 1_200_000, 0, 1_500_000)
    later = SessionWindow(600_000, 1_400_000, 0, 1_500_000)
    assert group_window([part, later]) == SessionWindow(300_000, 1_400_000, 0, 1_500_000)
    assert group_window([part, whole]).whole_session
    assert group_window([part]) is part
    # Each scale still flags against its own window.
    assert group_window([part, later]).contains(1_300_000) and not part.contains(1_300_000)


def test_cli_assign_plans_several_scales_together(tmp_path: Path) -> None:
    path = tmp_path / "p.scproj"
    with Project.create(path) as project:
        seed(project)
    result = run_cli(
        "assign",
        path,
        "--scale",
        "ghes",
        "--scale",
        "sthar",
        "--raters",
        "A,B,C",
        "--double",
        "50%",
        "--stratify",
        "therapist",
        "--seed",
        "11",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["scales"] == ["ghes", "sthar"]
    assert out["double_coded"] == 6
    assert {"loads", "pair_counts", "double_coded", "strata", "relaxed"} <= set(out)
    with Project.open(path) as project:
        assert raters_by_session(project, "ghes") == raters_by_session(project, "sthar")
    # The single --scale contract is unchanged: no "scales" key.
    single = run_cli(
        "assign", path, "--scale", "thabs", "--raters", "A,B", "--double", "2", "--seed", "1",
        "--json",
    )  # fmt: skip
    assert single.returncode == 0, single.stderr
    assert "scales" not in json.loads(single.stdout)
    text = run_cli(
        "assign", path, "--scale", "ghes", "--scale", "sthar", "--raters", "A,B,C",
        "--double", "50%", "--seed", "11", "--preview",
    )  # fmt: skip
    assert text.returncode == 0, text.stderr
    assert "for ghes + sthar" in text.stdout and "one listening" in text.stdout
    bad = run_cli(
        "assign", path, "--scale", "ghes", "--scale", "ghes", "--raters", "A,B",
        "--double", "1", "--seed", "1",
    )  # fmt: skip
    assert bad.returncode == 2
    assert "given twice" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.postgres
def test_a_raters_login_in_lab_mode_opens_the_group_blind(pg_url: str, tmp_path: Path) -> None:
    pointer = tmp_path / "lab.scproj"
    with Project.create(pointer, db_url=pg_url) as project:
        project.add_scale(load_builtin_scale("ghes"))
        project.add_scale(load_builtin_scale("sthar"))
        add_plain_sessions(project, [session("S1"), session("S2")])
        login = project.add_person(kind="rater", code="R1")
        project.add_raters(["R2"])
        plan_and_save(
            project, PlanRequest("ghes", ("R1", "R2"), 0, (), seed=2, with_scales=("sthar",))
        )
    url = (
        make_url(pg_url)
        .set(username=login.login, password=login.password)
        .render_as_string(hide_password=False)
    )
    with Project.open(url) as project:
        assert project.login_kind() == "rater"
        view = project.rater_view("R1")
        queue = view.queue()
        # The rater's view of codings carries the group (and nothing of the plan).
        assert queue and all(e.scale_group is not None for e in queue)
        lines = queue_lines(queue)
        assert all(line.scale_ids == ("ghes", "sthar") for line in lines)
        group = open_coding_group(project, view, lines[0].coding_id)
        assert [o.state.scale.id for o in group.codings] == ["ghes", "sthar"]
        assert {o.state.session_key for o in group.codings} == {lines[0].session_key}
