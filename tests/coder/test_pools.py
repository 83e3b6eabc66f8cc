"""Named rater pools: created, edited and removed through the CLI, used by plans, and
separate coder teams kept apart (issue 13, item 9)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from coder.errors import InputError
from coder.planning import PlanRequest, make_plan, plan_and_save
from coder.pools import RaterPool, check_plan_raters, check_teams_apart
from coder.store.pools import add_pool, edit_pool, list_pools, remove_pool
from coder.store.project import Project
from tests.cli import run_cli
from tests.coder.test_planning import seed_project

RATERS = ("A", "B", "C", "D", "E", "F")


@pytest.fixture
def project_path(tmp_path: Path) -> Path:
    path = tmp_path / "p.scproj"
    with Project.create(path) as project:
        seed_project(project, raters=RATERS)
    return path


def test_pool_commands_create_edit_list_and_remove(project_path: Path) -> None:
    p = str(project_path)
    result = run_cli("pool", "add", p, "thabs-team", "--raters", "A,B,C", "--separate")
    assert result.returncode == 0, result.stderr
    assert "separate team" in result.stdout
    assert run_cli("pool", "add", p, "spare", "--raters", "D").returncode == 0
    result = run_cli("pool", "edit", p, "spare", "--add", "E,F", "--remove", "D")
    assert result.returncode == 0, result.stderr
    listed = json.loads(run_cli("pool", "list", p, "--json").stdout)
    assert listed == {
        "pools": [
            {"name": "spare", "raters": ["E", "F"], "separate": False},
            {"name": "thabs-team", "raters": ["A", "B", "C"], "separate": True},
        ]
    }
    assert "thabs-team\tA, B, C\t(separate team)" in run_cli("pool", "list", p).stdout
    assert run_cli("pool", "remove", p, "spare").returncode == 0
    with Project.open(project_path) as project:
        assert [x.name for x in list_pools(project)] == ["thabs-team"]
        # raters list --json still shows the pools (SPEC contract of raters list).
        assert project.pools() == {"thabs-team": ["A", "B", "C"]}
        actions = [(h.action, h.entity_id) for h in project.history() if h.entity == "pool"]
    assert actions == [
        ("add", "thabs-team"),
        ("add", "spare"),
        ("edit", "spare"),
        ("remove", "spare"),
    ]


def test_pool_commands_refuse_bad_input_with_a_clear_line(project_path: Path) -> None:
    p = str(project_path)
    run_cli("pool", "add", p, "team1", "--raters", "A,B", "--separate")
    cases = [
        (("pool", "add", p, "team1", "--raters", "C"), "already has a rater pool 'team1'"),
        (("pool", "add", p, "x", "--raters", "A,Z"), "no rater 'Z'"),
        (("pool", "edit", p, "nope", "--add", "C"), "no rater pool 'nope' (it has: team1)"),
        (("pool", "edit", p, "team1", "--remove", "C"), "C not in pool 'team1'"),
        (("pool", "edit", p, "team1", "--remove", "A,B"), "would have no rater left"),
        (("pool", "remove", p, "nope"), "no rater pool 'nope'"),
    ]
    for args, message in cases:
        result = run_cli(*args)
        assert result.returncode == 2, args
        assert message in result.stderr and "Traceback" not in result.stderr, result.stderr
    with Project.open(project_path) as project:
        assert list_pools(project) == [RaterPool("team1", ("A", "B"), True)]


def test_a_rater_in_two_separate_pools_is_refused(new_project_args: dict[str, object]) -> None:
    # On SQLite and on a lab server (PostgreSQL).
    with Project.create(new_project_args["path"], db_url=new_project_args["db_url"]) as project:  # type: ignore[arg-type]
        seed_project(project, raters=RATERS)
        add_pool(project, "thabs-team", ["A", "B", "C"], separate=True)
        add_pool(project, "resistance-team", ["D", "E"], separate=True)
        with pytest.raises(InputError, match="C is in both 'resistance-team' and 'thabs-team'"):
            edit_pool(project, "resistance-team", add=["C"])
        with pytest.raises(InputError, match="must not share raters"):
            add_pool(project, "third", ["A", "F"], separate=True)
        # A pool that is not a separate team may share raters with any team ...
        add_pool(project, "everyone", list(RATERS))
        # ... but cannot become one while it shares them.
        with pytest.raises(InputError, match="A is in both 'everyone' and 'thabs-team'"):
            edit_pool(project, "everyone", separate=True)
        # Nothing half-written: the refused changes left the pools as they were.
        assert list_pools(project) == [
            RaterPool("everyone", RATERS, False),
            RaterPool("resistance-team", ("D", "E"), True),
            RaterPool("thabs-team", ("A", "B", "C"), True),
        ]
        assert project.settings()["separate_pools"] == ["resistance-team", "thabs-team"]
        remove_pool(project, "thabs-team")
        assert project.settings()["separate_pools"] == ["resistance-team"]
        edit_pool(project, "everyone", remove=["D", "E"], separate=True)
        assert RaterPool("everyone", ("A", "B", "C", "F"), True) in list_pools(project)


def test_team_rules_are_pure_and_name_the_teams() -> None:
    teams = [RaterPool("t1", ("A", "B"), True), RaterPool("t2", ("C",), True)]
    check_teams_apart(teams)
    check_plan_raters(["A", "B", "D"], teams)  # D is in no team: it may join
    with pytest.raises(InputError, match=r"t1: A; t2: C"):
        check_plan_raters(["A", "C"], teams)
    check_plan_raters(["A", "C"], [dataclasses.replace(t, separate=False) for t in teams])


def test_a_plan_draws_its_raters_from_a_pool(project_path: Path) -> None:
    p = str(project_path)
    run_cli("pool", "add", p, "thabs-team", "--raters", "A,B,C", "--separate")
    result = run_cli(
        "assign", p, "--scale", "thabs", "--pool", "thabs-team", "--double", "0.3",
        "--seed", "3", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)["loads"]) == {"A", "B", "C"}
    with Project.open(project_path) as project:
        plans = [h.new for h in project.history() if h.entity == "plan"]
        assert plans[-1]["params"]["pool"] == "thabs-team"
        assert plans[-1]["params"]["raters"] == ["A", "B", "C"]
    both = run_cli(
        "assign", p, "--scale", "thabs", "--pool", "thabs-team", "--raters", "A",
        "--double", "0.3", "--seed", "3",
    )  # fmt: skip
    assert both.returncode == 2 and "not both" in both.stderr
    unknown = run_cli(
        "assign", p, "--scale", "thabs", "--pool", "nope", "--double", "0.3", "--seed", "3"
    )
    assert unknown.returncode == 2 and "no rater pool 'nope'" in unknown.stderr


def test_a_plan_never_pairs_raters_of_separate_teams(project_path: Path) -> None:
    with Project.open(project_path) as project:
        add_pool(project, "team1", ["A", "B", "C"], separate=True)
        add_pool(project, "team2", ["D", "E", "F"], separate=True)
        request = PlanRequest("thabs", RATERS, 0.3, (), seed=1)
        with pytest.raises(InputError, match="separate coder teams"):
            make_plan(project, request)
        plan, _ = plan_and_save(project, dataclasses.replace(request, raters=(), pool="team1"))
        pairs = {tuple(p.raters) for p in plan.summary().pair_counts}
        assert pairs == {("A", "B"), ("A", "C"), ("B", "C")}


def test_exclude_pool_of_takes_a_pool_and_names_whom_it_drops(project_path: Path) -> None:
    p = str(project_path)
    with Project.open(project_path) as project:
        add_pool(project, "resistance-team", ["D", "E", "F"], separate=True)
        # A scale without codings has no raters to keep out: said, not ignored.
        request = PlanRequest("thabs", RATERS, 0.3, (), seed=1, exclude_pool_of=("resistance",))
        with pytest.raises(InputError, match="scale 'resistance' has no coding yet"):
            make_plan(project, request)
        with pytest.raises(InputError, match="no scale or rater pool of that name"):
            make_plan(project, dataclasses.replace(request, exclude_pool_of=("nope",)))
    result = run_cli(
        "assign", p, "--scale", "thabs", "--raters", ",".join(RATERS), "--double", "0.3",
        "--seed", "1", "--exclude-pool-of", "resistance-team", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary["loads"]) == {"A", "B", "C"}
    assert any("D, E, F left out" in r for r in summary["relaxed"])
    # Once thabs is planned, excluding its scale keeps its raters out of resistance.
    result = run_cli(
        "assign", p, "--scale", "resistance", "--raters", ",".join(RATERS), "--double", "0.3",
        "--seed", "1", "--exclude-pool-of", "thabs",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "relaxed: pool separation: A, B, C left out" in result.stdout
