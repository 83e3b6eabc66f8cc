"""Descriptives and Tukey's fences per scale, session number and variable (issue 13.10).

On the study of :func:`tests.factories.make_study_project`: eight patients, sessions
1-3, P8S1 scores 0 on THABS specification among 2s and 3s, P7S2 has a 900-second THABS
duration among 30-65.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from coder.errors import InputError
from coder.export_data import TUKEY_K, build_export_bundle, tukey_fences
from coder.store.project import Project
from exports import write_export
from tests.cli import run_cli


def _row(table: pd.DataFrame, variable: str, number: int) -> pd.Series:
    rows = table[(table["variable"] == variable) & (table["session_number"] == number)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_each_session_number_is_described_with_its_own_fences(study: Project) -> None:
    bundle = build_export_bundle(study, descriptives_by="session_number")
    table = bundle.descriptives_by_session
    final = bundle.final
    for number in (1, 2, 3):
        values = final.loc[
            (final["scale_id"] == "thabs") & (final["session_number"] == number),
            "thabs_specification",
        ].dropna()
        row = _row(table, "thabs_specification", number)
        q1, q3 = np.quantile(values, [0.25, 0.75])
        assert row["n"] == len(values)
        assert row["mean"] == pytest.approx(values.mean())
        assert row["sd"] == pytest.approx(values.std(ddof=1))
        assert row["median"] == pytest.approx(values.median())
        assert (row["min"], row["max"]) == (values.min(), values.max())
        assert row["lower_fence"] == pytest.approx(q1 - 1.5 * (q3 - q1))
        assert row["upper_fence"] == pytest.approx(q3 + 1.5 * (q3 - q1))
        assert row["fence_k"] == TUKEY_K
    # P8S1's 0 lies below session 1's fence; session 2 has no such value.
    assert _row(table, "thabs_specification", 1)["n_outliers"] == 1
    assert _row(table, "thabs_specification", 2)["n_outliers"] == 0
    # P7S2's 900 seconds is an outlier of session 2 only.
    assert _row(table, "thabs_duration", 2)["n_outliers"] == 1
    assert _row(table, "thabs_duration", 1)["n_outliers"] == 0
    # Composites are described too; text items are not.
    assert not table[table["variable"] == "thabs_behaviour_mean"].empty
    assert table[table["kind"] == "composite"]["variable"].nunique() >= 1
    assert "ghes_completed_log" not in set(table["variable"])
    # GHES applies to sessions 2 and 3 only: no session-1 group.
    assert set(table.loc[table["scale_id"] == "ghes", "session_number"]) == {2, 3}


def test_the_fences_are_the_winsorizing_fences(study: Project) -> None:
    bundle = build_export_bundle(study, winsorize_iqr=2.0, descriptives_by="session_number")
    table = bundle.descriptives_by_session
    w = bundle.winsorizing
    merged = table.merge(w[w["rule"] != "composite"], on=["scale_id", "session_number", "variable"])
    assert len(merged) > 20
    assert (merged["fence_k"] == 2.0).all()
    assert np.allclose(merged["lower_fence_x"], merged["lower_fence_y"], equal_nan=True)
    assert np.allclose(merged["upper_fence_x"], merged["upper_fence_y"], equal_nan=True)
    # The statistics describe the exported (winsorized) values: P7S2's duration was
    # pulled in to the fence, so session 2's max is the fence, and the outlier is still
    # counted on the values as coded.
    row = _row(table, "thabs_duration", 2)
    assert row["max"] == pytest.approx(row["upper_fence"])
    assert row["n_outliers"] == 1


def test_one_fence_rule_for_outlier_counts() -> None:
    values = np.array([2.0, 3.0, 3.0, 2.0, np.nan, 0.0, 3.0, 2.0])
    fences = tukey_fences(values, 1.5)
    assert fences is not None
    assert (fences.q1, fences.q3, fences.lower, fences.upper) == (2.0, 3.0, 0.5, 4.5)
    assert fences.outside(values).tolist() == [False] * 5 + [True, False, False]
    assert tukey_fences(np.array([np.nan]), 1.5) is None


def test_without_the_option_no_table_is_written(study: Project, tmp_path: Path) -> None:
    bundle = build_export_bundle(study)
    assert bundle.descriptives_by_session.empty
    paths = write_export(bundle, "csv", tmp_path / "plain.csv")
    assert not any("by_session" in p.name for p in paths)
    wb = openpyxl.load_workbook(write_export(bundle, "xlsx", tmp_path / "plain.xlsx")[0])
    assert "descriptives_by_session" not in wb.sheetnames
    with pytest.raises(InputError, match="session_number"):
        build_export_bundle(study, descriptives_by="therapist")  # type: ignore[arg-type]


def test_the_table_reaches_xlsx_and_csv(study: Project, tmp_path: Path) -> None:
    bundle = build_export_bundle(study, descriptives_by="session_number")
    expected = bundle.descriptives_by_session
    xlsx = write_export(bundle, "xlsx", tmp_path / "study.xlsx")[0]
    wb = openpyxl.load_workbook(xlsx, read_only=True)
    names = wb.sheetnames
    assert names.index("descriptives_by_session") == names.index("descriptives") + 1
    sheet = pd.read_excel(xlsx, sheet_name="descriptives_by_session")
    assert list(sheet.columns) == list(expected.columns)
    assert len(sheet) == len(expected)
    assert sheet["mean"].tolist() == pytest.approx(expected["mean"].tolist(), nan_ok=True)
    assert sheet["session_number"].dtype.kind in "if"
    readme = [str(c.value) for row in wb["README"].iter_rows() for c in row if c.value]
    assert any("descriptives_by_session" in text for text in readme)
    assert any("Tukey's fences at K = 1.5" in text for text in readme)
    wb.close()
    paths = write_export(bundle, "csv", tmp_path / "study.csv")
    csv = next(p for p in paths if p.name == "study_descriptives_by_session.csv")
    read = pd.read_csv(csv)
    assert read["n_outliers"].tolist() == expected["n_outliers"].tolist()
    assert read["upper_fence"].tolist() == pytest.approx(
        expected["upper_fence"].tolist(), nan_ok=True
    )


def test_the_cli_shows_the_table_and_export_takes_the_option(
    study_file: Path, tmp_path: Path
) -> None:
    done = run_cli("descriptives", str(study_file), "--scale", "thabs", "--by", "session_number")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["scale_id", "session_number", "variable"]
    spec1 = next(line for line in lines if line.split()[1:3] == ["1", "thabs_specification"])
    assert spec1.split()[-1] == "1"  # one outlier
    assert "Q1 - 1.5 x IQR" in lines[-1]
    done = run_cli(
        "descriptives", str(study_file), "--by", "session_number", "--scale", "thabs", "--json"
    )
    doc = json.loads(done.stdout)
    assert doc["by"] == "session_number"
    rows = [r for r in doc["descriptives"] if r["variable"] == "thabs_duration"]
    assert [r["session_number"] for r in rows] == [1, 2, 3]
    assert [r["n_outliers"] for r in rows] == [0, 1, 0]
    assert all(r["sd"] is None or math.isfinite(r["sd"]) for r in doc["descriptives"])
    plain = json.loads(run_cli("descriptives", str(study_file), "--json").stdout)
    assert plain["by"] == "scale" and "session_number" not in plain["descriptives"][0]
    out = tmp_path / "cli.xlsx"
    done = run_cli(
        "export",
        str(study_file),
        "--format",
        "xlsx",
        "--out",
        str(out),
        "--descriptives-by",
        "session_number",
    )
    assert done.returncode == 0, done.stderr
    assert "descriptives_by_session" in openpyxl.load_workbook(out, read_only=True).sheetnames


def test_the_cli_prints_an_empty_table_when_nothing_is_coded(tmp_path: Path) -> None:
    from tests.factories import make_project

    path = tmp_path / "empty.scproj"
    make_project(path, scales=("thabs",), sessions=["S1"]).close()
    done = run_cli("descriptives", str(path), "--by", "session_number")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[:3] == ["scale_id", "session_number", "variable"]
    doc = json.loads(run_cli("descriptives", str(path), "--json").stdout)
    assert doc == {"by": "scale", "descriptives": doc["descriptives"]}
    assert all(row["n"] == 0 for row in doc["descriptives"])
    bad = run_cli("descriptives", str(path), "--scale", "nope")
    assert bad.returncode == 2 and "nope" in bad.stderr
