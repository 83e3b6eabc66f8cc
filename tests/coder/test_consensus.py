"""Consensus scores: recorded with reasons and history, used by final="consensus" exports
while reliability keeps using the independent scores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coder.consensus import (
    consensus_history,
    consensus_review,
    consensus_scores,
    load_consensus,
    record_consensus,
)
from coder.errors import InputError
from coder.export_data import build_export_bundle
from coder.store.project import Project
from tests.cli import run_cli, run_cli_process
from tests.exports._project import build_coded_project


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    project = build_coded_project(tmp_path / "study.scproj")
    yield project
    project.close()


def _row(frame: pd.DataFrame, scale_id: str, session_id: str) -> pd.Series:
    rows = frame[(frame["scale_id"] == scale_id) & (frame["session_id"] == session_id)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_a_consensus_score_is_final_while_reliability_uses_the_independent_scores(
    project: Project,
) -> None:
    before = build_export_bundle(project, final="mean")
    # S01: R1 scored rationale 2 and review 1, R2 scored 3 and 2.
    record_consensus(project, "thabs", "S01", "rationale", 3, "R1 missed the second rationale")
    bundle = build_export_bundle(project, final="consensus")
    s01 = _row(bundle.final, "thabs", "S01")
    assert s01["thabs_rationale"] == 3  # the consensus, not the pair mean 2.5
    assert s01["thabs_review"] == 1.5  # no consensus: the pair mean
    assert s01["thabs_behaviour_mean"] == pytest.approx((3 + 3 + 4 + 1.5 + 0) / 5)  # recomputed
    assert s01["final_source"] == "consensus on rationale; otherwise mean of R1, R2"
    assert _row(bundle.final, "thabs", "S04")["final_source"] == "R1 (only coder)"
    # The independent scores and everything computed from them are untouched.
    scores = bundle.scores[
        (bundle.scores["session_id"] == "S01") & (bundle.scores["scale_id"] == "thabs")
    ]
    assert sorted(scores["thabs_rationale"]) == [2, 3]
    pd.testing.assert_frame_equal(bundle.reliability, before.reliability)
    pd.testing.assert_frame_equal(bundle.pairs, before.pairs)
    assert dict(bundle.options.__dict__)["final"] == "consensus"


def test_consensus_is_kept_with_its_history_and_can_be_withdrawn(project: Project) -> None:
    record_consensus(project, "thabs", "S02", "specification", 2, "both heard the task", "lead")
    record_consensus(project, "thabs", "S02", "specification", 2, "both heard the task", "lead")
    record_consensus(project, "thabs", "S02", "specification", 1, "on re-listening", "AK")
    frame = consensus_scores(project, "thabs")
    assert list(frame.columns) == [
        "scale_id", "session_id", "item_id", "value", "reason", "actor", "updated_at",
    ]  # fmt: skip
    assert frame[["session_id", "item_id", "value", "reason", "actor"]].values.tolist() == [
        ["S02", "specification", 1.0, "on re-listening", "AK"]
    ]
    record_consensus(project, "thabs", "S02", "specification", None, "back to the pair mean")
    assert consensus_scores(project).empty
    history = consensus_history(project, "thabs", "S02")
    assert [(h.actor, h.action, h.old, h.new) for h in history] == [
        ("lead", "set", None, {"value": 2.0, "reason": "both heard the task"}),
        (
            "AK",
            "set",
            {"value": 2.0, "reason": "both heard the task"},
            {"value": 1.0, "reason": "on re-listening"},
        ),
        (
            "lead",
            "delete",
            {"value": 1.0, "reason": "on re-listening"},
            {"reason": "back to the pair mean"},
        ),
    ]
    assert all(h.field == "specification" for h in history)


def test_the_consensus_map_of_the_views_holds_every_recorded_score(project: Project) -> None:
    assert load_consensus(project) == {}
    record_consensus(project, "thabs", "S01", "review", 2, "agreed")
    record_consensus(project, "thabs", "S02", "specification", 1, "on re-listening")
    assert load_consensus(project) == {
        ("thabs", "S01", "review"): (2.0, "agreed"),
        ("thabs", "S02", "specification"): (1.0, "on re-listening"),
    }


def test_consensus_is_refused_where_it_does_not_fit(project: Project) -> None:
    with pytest.raises(InputError, match="not double-coded"):
        record_consensus(project, "thabs", "S04", "specification", 1, "only one coder")
    with pytest.raises(InputError, match="outside 0..4"):
        record_consensus(project, "thabs", "S01", "specification", 7, "typo")
    with pytest.raises(InputError, match="free text"):
        record_consensus(project, "ghes", "S02", "completed_log", 1, "text")
    with pytest.raises(InputError, match="has no item 'nope'"):
        record_consensus(project, "thabs", "S01", "nope", 1, "x")
    with pytest.raises(InputError, match="say why"):
        record_consensus(project, "thabs", "S01", "specification", 3, "  ")
    with pytest.raises(InputError, match="no session 'S99'"):
        record_consensus(project, "thabs", "S99", "specification", 3, "x")
    assert consensus_scores(project).empty


def test_review_shows_both_raters_scores_and_notes(project: Project) -> None:
    record_consensus(project, "thabs", "S01", "review", 2, "agreed")
    review = consensus_review(project, "thabs", "S01")
    assert review.raters == ("R1", "R2")
    by_item = {i.item_id: i for i in review.items}
    assert by_item["rationale"].scores == {"R1": 2, "R2": 3}
    assert by_item["rationale"].spread == 1 and by_item["rationale"].consensus is None
    assert (by_item["review"].consensus, by_item["review"].reason) == (2, "agreed")
    assert [n.text for n in review.notes["R1"]][0] == "client shifts topic"
    assert review.notes["R2"] == ()
    assert np.isfinite(by_item["duration"].scores["R1"] or np.nan)


def test_cli_records_and_lists_consensus_and_reports_certification(tmp_path: Path) -> None:
    path = tmp_path / "study.scproj"
    build_coded_project(path).close()

    run = run_cli
    common = ("--scale", "thabs", "--session", "S01", "--item", "rationale")
    # The first command as a real process (the entry point's smoke test), the rest in process.
    out = run_cli_process(
        "consensus", "set", str(path), *common, "--value", "3", "--reason", "agreed"
    )
    assert out.returncode == 0, out.stderr
    listed = json.loads(run("consensus", "list", str(path), "--json").stdout)
    assert [(r["session_id"], r["item_id"], r["value"]) for r in listed] == [
        ("S01", "rationale", 3.0)
    ]
    out = run("consensus", "set", str(path), *common, "--value", "9", "--reason", "typo")
    assert out.returncode == 2 and "outside 0..4" in out.stderr
    status = json.loads(run("certify", "status", str(path), "--scale", "thabs", "--json").stdout)
    assert status["required"] is False
    assert {r["state"] for r in status["raters"].values()} == {"in_training"}


def test_cli_withdraws_and_changes_a_consensus_with_reasons_in_the_history(
    project: Project,
) -> None:
    path = project.store.location.path
    assert path is not None
    where = ("--scale", "thabs", "--session", "S01", "--item", "rationale")
    out = run_cli("consensus", "set", path, *where, "--value", "3", "--reason", "agreed")
    assert out.returncode == 0, out.stderr
    out = run_cli("consensus", "set", path, *where, "--value", "2", "--reason", "listened again")
    assert out.returncode == 0 and "consensus 2" in out.stdout
    # A withdrawal needs its reason too (argparse: a usage error, exit 2).
    out = run_cli("consensus", "withdraw", path, *where)
    assert out.returncode == 2 and "--reason" in out.stderr
    out = run_cli("consensus", "withdraw", path, *where, "--reason", "S01 is a training tape")
    assert out.returncode == 0 and "consensus withdrawn" in out.stdout, out.stderr
    assert consensus_scores(project).empty
    out = run_cli("consensus", "withdraw", path, *where, "--reason", "again")
    assert out.returncode == 2 and "no consensus score to withdraw" in out.stderr
    out = run_cli("consensus", "history", path, "--scale", "thabs", "--session", "S01", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [(r["action"], r["old"], r["new"]) for r in rows] == [
        ("set", None, {"value": 3.0, "reason": "agreed"}),
        ("set", {"value": 3.0, "reason": "agreed"}, {"value": 2.0, "reason": "listened again"}),
        (
            "delete",
            {"value": 2.0, "reason": "listened again"},
            {"reason": "S01 is a training tape"},
        ),
    ]
    out = run_cli("consensus", "history", path, "--scale", "thabs", "--session", "S01")
    lines = out.stdout.splitlines()
    assert len(lines) == 3 and lines[-1].endswith("2 -> withdrawn\tS01 is a training tape")
