"""Plans stored in a project: codings written, re-planning keeps started work, blinding."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from coder.errors import InputError
from coder.planning import PlanRequest, make_plan, plan_and_save, save_plan
from coder.scales import load_builtin_scale
from coder.store.project import Project, QueueEntry
from tests.cli import run_cli, run_cli_process
from tests.factories import add_plain_sessions, session


def seed_project(
    project: Project, n: int = 24, raters: tuple[str, ...] = ("A", "B", "C", "D")
) -> None:
    project.add_scale(load_builtin_scale("thabs"))
    project.add_scale(load_builtin_scale("resistance"))
    project.add_raters(raters)
    add_plain_sessions(
        project,
        [
            session(
                f"S{i:02d}",
                patient=f"P{i // 3}",
                therapist=f"T{i % 4}",
                session_number=i % 3 + 1,
                phase="I" if i % 3 == 0 else "II",
                audio_status="ok" if i != n - 1 else "missing",
                audio_reason="",
            )
            for i in range(n)
        ],
    )


REQUEST = PlanRequest("thabs", ("A", "B", "C", "D"), 0.3, ("therapist", "phase"), seed=7)


def test_a_stored_plan_becomes_every_raters_queue(new_project_args: dict[str, object]) -> None:
    with Project.create(new_project_args["path"], db_url=new_project_args["db_url"]) as project:  # type: ignore[arg-type]
        seed_project(project)
        plan, plan_id = plan_and_save(project, REQUEST)
        summary = plan.summary()
        # 23 sessions with audio; the one without is left out and said so.
        assert summary.double_coded == 7
        assert any("without usable audio" in r for r in summary.relaxed)
        loads = summary.loads
        assert sum(loads.values()) == 23 + 7 and max(loads.values()) - min(loads.values()) <= 1
        status = project.status()
        assert status.by_scale["thabs"]["not_started"] == 30
        queue = project.rater_view("A").queue()
        assert [q.position for q in queue] == sorted(q.position for q in queue)
        assert len(queue) == loads["A"]


def test_replanning_after_a_rater_leaves_moves_no_started_work(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.scproj") as project:
        seed_project(project)
        plan_and_save(project, REQUEST)
        leaver = project.rater_view("D")
        started = leaver.queue()[:2]
        leaver.set_value(started[0].coding_id, "specification", 3)
        for item in project.scale("thabs").items:
            leaver.set_value(started[1].coding_id, item.id, 10 if item.kind == "duration" else 2)
        leaver.submit(started[1].coding_id)
        before = {q.session_key for q in leaver.queue()}

        smaller = dataclasses.replace(REQUEST, raters=("A", "B", "C"))
        plan_and_save(project, smaller)
        after = leaver.queue()
        assert {q.session_key for q in after} == {q.session_key for q in started}
        assert {q.state for q in after} == {"in_progress", "submitted"}
        # The leaver's unstarted sessions went to the others; nothing was lost.
        others = set()
        for code in ("A", "B", "C"):
            others |= {q.session_key for q in project.rater_view(code).queue()}
        assert before - {q.session_key for q in started} <= others
        assert [h.action for h in project.history() if h.entity == "plan"] == ["plan", "plan"]


def test_pools_of_another_scale_can_be_kept_apart(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.scproj") as project:
        seed_project(project, raters=("A", "B", "C", "D", "E", "F"))
        plan_and_save(project, dataclasses.replace(REQUEST, raters=("A", "B", "C")))
        request = PlanRequest(
            "resistance",
            ("A", "B", "C", "D", "E", "F"),
            0.5,
            (),
            seed=1,
            exclude_pool_of=("thabs",),
        )
        plan = make_plan(project, request)
        assert {c.rater for c in plan.codings} <= {"D", "E", "F"}
        with pytest.raises(InputError, match="unknown rater"):
            make_plan(project, dataclasses.replace(request, raters=("Z",)))


def test_the_same_inputs_and_seed_give_the_same_plan(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.scproj") as project:
        seed_project(project)
        first = make_plan(project, REQUEST)
        assert make_plan(project, REQUEST) == first
        assert make_plan(project, dataclasses.replace(REQUEST, seed=8)) != first
        save_plan(project, REQUEST, first)


def test_a_rater_queue_reveals_no_double_coding() -> None:
    fields = {f.name for f in dataclasses.fields(QueueEntry)}
    assert not fields & {"role", "double_coded", "partner", "rater"}


def test_cli_assign_prints_the_contract_keys(tmp_path: Path) -> None:
    path = tmp_path / "p.scproj"
    with Project.create(path) as project:
        seed_project(project)
    # A real process (the entry point's smoke test); the refusal below runs in process.
    out = run_cli_process(
        *[
            "assign",
            str(path),
            "--scale",
            "thabs",
            "--raters",
            "A,B,C,D",
            "--double",
            "0.3",
            "--stratify",
            "therapist,patient,phase",
            "--seed",
            "7",
            "--json",
        ]
    )
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert {"loads", "pair_counts", "double_coded", "strata", "relaxed"} <= set(summary)
    assert all(set(p) == {"raters", "count"} for p in summary["pair_counts"])
    assert len(summary["pair_counts"]) == 6
    bad = run_cli(
        *[
            "assign",
            str(path),
            "--scale",
            "thabs",
            "--raters",
            "A,B",
            "--double",
            "lots",
            "--seed",
            "1",
        ]
    )
    assert bad.returncode == 2 and "--double 'lots'" in bad.stderr
