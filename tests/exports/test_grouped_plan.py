"""Scales planned together stay per scale in reliability and in the exports (issue 13,
item 5): a GHES + StHAR plan's codings, scored in one listening, appear as two scales
with their own items and rows, in ``reliability --json`` and the xlsx and csv files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest

from coder.planning import PlanRequest, plan_and_save
from coder.scales import load_builtin_scale
from coder.store.project import Project
from tests.cli import run_cli
from tests.factories import add_plain_sessions, session

SESSIONS = 8
DOUBLE = 4


@pytest.fixture(scope="module")
def grouped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose GHES and StHAR were planned together and fully scored."""
    path = tmp_path_factory.mktemp("grouped") / "study.scproj"
    with Project.create(path) as project:
        for scale_id in ("ghes", "sthar"):
            project.add_scale(load_builtin_scale(scale_id))
        project.add_raters(["A", "B", "C"])
        add_plain_sessions(
            project,
            [
                session(f"S{i}", patient=f"P{i}", therapist=f"T{i % 2}", session_number=2)
                for i in range(SESSIONS)
            ],
        )
        plan_and_save(
            project,
            PlanRequest("ghes", ("A", "B", "C"), DOUBLE, (), seed=3, with_scales=("sthar",)),
        )
        for code in ("A", "B", "C"):
            view = project.rater_view(code)
            for number, entry in enumerate(view.queue()):
                # Scores that vary by scale, session and rater.
                value = (number + ord(code) + (0 if entry.scale_id == "ghes" else 2)) % 5
                for item in project.scale(entry.scale_id).items:
                    if item.kind == "text":
                        view.set_text(entry.coding_id, item.id, "worksheet")
                    else:
                        view.set_value(entry.coding_id, item.id, value)
                view.submit(entry.coding_id)
    return path


def test_reliability_of_a_grouped_plan_is_per_scale(grouped: Path) -> None:
    results = {}
    for scale_id in ("ghes", "sthar"):
        result = run_cli("reliability", grouped, "--scale", scale_id, "--json")
        assert result.returncode == 0, result.stderr
        results[scale_id] = json.loads(result.stdout)["items"]
    assert {"engagement", "benefit"} <= set(results["ghes"])
    assert "rationale" not in results["ghes"]
    assert {"rationale", "specifying"} <= set(results["sthar"])
    assert "engagement" not in results["sthar"]
    assert results["ghes"]["engagement"]["n_sessions"] == DOUBLE
    assert results["sthar"]["rationale"]["n_sessions"] == DOUBLE


def test_xlsx_and_csv_exports_of_a_grouped_plan_are_per_scale(
    grouped: Path, tmp_path: Path
) -> None:
    xlsx = tmp_path / "study.xlsx"
    result = run_cli("export", grouped, "--format", "xlsx", "--out", xlsx)
    assert result.returncode == 0, result.stderr
    book = openpyxl.load_workbook(xlsx, read_only=True)
    for scale_id, own, other in (
        ("ghes", "ghes_engagement", "sthar_"),
        ("sthar", "sthar_rationale", "ghes_"),
    ):
        rows = list(book[f"scores_{scale_id}"].iter_rows(values_only=True))
        header = [str(h) for h in rows[0]]
        assert own in header
        assert not any(h.startswith(other) for h in header)
        # One row per session and rater: every session once, the double-coded twice.
        assert len(rows) - 1 == SESSIONS + DOUBLE
    book.close()

    out = tmp_path / "csv" / "study.csv"
    out.parent.mkdir()
    result = run_cli("export", grouped, "--format", "csv", "--out", out)
    assert result.returncode == 0, result.stderr
    for scale_id, own in (("ghes", "ghes_engagement"), ("sthar", "sthar_rationale")):
        with (out.parent / f"study_scores_{scale_id}.csv").open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == SESSIONS + DOUBLE
        assert own in rows[0]
        assert len({(r["session_id"], r["rater"]) for r in rows}) == SESSIONS + DOUBLE
