"""A rater's queue keeps its order: new plans append, nothing is renumbered."""

from __future__ import annotations

from pathlib import Path

from coder.planning import PlanRequest, plan_and_save
from coder.scales import load_builtin_scale
from coder.store.project import Project
from tests.ui.helpers import build_project


def _queue(project: Project, rater: str) -> list[tuple[str, str, str]]:
    return [(e.session_key, e.scale_id, e.state) for e in project.rater_view(rater).queue()]


def test_a_new_plan_appends_to_the_queue_and_keeps_its_order(tmp_path: Path) -> None:
    built = build_project(tmp_path / "lab", sessions=4)
    with Project.open(built.path) as project:
        view = project.rater_view("R1")
        view.set_uncodable(built.codings["S2"], "Audio failure")  # finished
        before = _queue(project, "R1")
        assert [key for key, _scale, _state in before] == ["S1", "S2", "S3", "S4"]
        # A second scale planned later: its codings come after R1's earlier work,
        # not in between (the plan numbers each scale's queue from 0).
        project.add_scale(load_builtin_scale("sthar"))
        plan_and_save(
            project,
            PlanRequest(scale_id="sthar", raters=("R1",), double=0, stratify=(), seed=5),
        )
        after = _queue(project, "R1")
        assert after[:4] == before
        assert {(scale, state) for _key, scale, state in after[4:]} == {("sthar", "not_started")}
        assert sorted(key for key, _scale, _state in after[4:]) == ["S1", "S2", "S3", "S4"]
        # Re-planning the same scale with another seed reorders nothing the rater sees.
        plan_and_save(
            project,
            PlanRequest(scale_id="sthar", raters=("R1",), double=0, stratify=(), seed=9),
        )
        assert _queue(project, "R1") == after
        positions = [e.position for e in project.rater_view("R1").queue()]
        assert positions == sorted(positions)
