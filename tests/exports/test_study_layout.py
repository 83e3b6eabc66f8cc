"""Winsorizing per session number and the per-patient layout, on a small study.

The study (:func:`tests.factories.make_study_project`) has eight patients with sessions
1-3, scales sharing item ids, three-coder and uncodable sessions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from coder.errors import InputError
from coder.export_data import build_export_bundle
from coder.store.project import Project
from tests.cli import run_cli
from tests.factories import add_plain_sessions, session


def _final(bundle_final: pd.DataFrame, scale_id: str, session_id: str) -> pd.Series:
    rows = bundle_final[
        (bundle_final["scale_id"] == scale_id) & (bundle_final["session_id"] == session_id)
    ]
    assert len(rows) == 1
    return rows.iloc[0]


def test_winsorizing_is_per_session_number_with_whole_numbers_and_recomputed_composites(
    study: Project,
) -> None:
    plain = build_export_bundle(study)
    bundle = build_export_bundle(study, winsorize_iqr=1.5)
    # Session 1's specification: seven 2s and 3s and P8's 0. Q1 = 2, Q3 = 3, the lower
    # fence 0.5: the 0 becomes the nearest whole number inside, 1 (not 0.5).
    before = _final(plain.final, "thabs", "P8S1")
    after = _final(bundle.final, "thabs", "P8S1")
    assert (before["thabs_specification"], after["thabs_specification"]) == (0, 1)
    # The composite is recomputed from the winsorized items, not fenced on its own.
    items = [
        f"thabs_{i}" for i in ("specification", "rationale", "troubleshooting", "review", "praise")
    ]
    assert after["thabs_behaviour_mean"] == pytest.approx(after[items].mean())
    assert after["thabs_behaviour_mean"] != before["thabs_behaviour_mean"]
    # P7S2's 900-second duration is set to session 2's fence; session 1's are untouched.
    s2 = bundle.final[(bundle.final["scale_id"] == "thabs") & (bundle.final["session_number"] == 2)]
    durations = plain.final.loc[s2.index, "thabs_duration"]
    q1, q3 = np.quantile(durations, [0.25, 0.75])
    assert _final(bundle.final, "thabs", "P7S2")["thabs_duration"] == pytest.approx(
        q3 + 1.5 * (q3 - q1)
    )
    s1 = (bundle.final["scale_id"] == "thabs") & (bundle.final["session_number"] == 1)
    assert bundle.final.loc[s1, "thabs_duration"].equals(plain.final.loc[s1, "thabs_duration"])
    # No fractional value on any ordinal item; nominal items are left alone.
    for v in bundle.all_variables:
        if v.kind in ("ordinal", "nominal", "count"):
            values = bundle.final[v.column].dropna()
            assert (values == values.round()).all(), v.column
    w = bundle.winsorizing
    changed = w[w["adjusted_n"] > 0]
    assert sorted(
        zip(changed["variable"], changed["session_number"], changed["rule"], strict=True)
    ) == [
        ("thabs_behaviour_mean", 1, "composite"),
        ("thabs_duration", 2, "continuous"),
        ("thabs_specification", 1, "whole"),
    ]
    assert set(w.loc[w["variable"] == "extra_mood", "rule"]) == {"nominal"}
    assert bundle.adjusted_total == 2
    desc = bundle.descriptives
    spec = desc[(desc["scale_id"] == "thabs") & (desc["variable"] == "thabs_specification")].iloc[0]
    assert (spec["adjusted_n"], spec["min"]) == (1, 1)


def test_the_options_line_says_what_winsorizing_changed(study: Project) -> None:
    from coder.export_data import describe_options

    text = dict(describe_options(build_export_bundle(study, winsorize_iqr=1.5)))["Winsorizing"]
    assert "2 item value(s) changed in all" in text
    assert "thabs: 2 item value(s) changed (thabs_specification 1, thabs_duration 1)" in text
    assert "1 composite value(s) recomputed" in text
    assert "ghes: 0 item value(s) changed" in text
    assert "nearest whole number inside the fences" in text
    off = dict(describe_options(build_export_bundle(study)))["Winsorizing"]
    assert off.startswith("off")


def test_the_long_table_carries_the_session_fields(study: Project) -> None:
    long = build_export_bundle(study).long
    row = long[(long["session_id"] == "P6S2") & (long["item_id"] == "rationale")]
    assert set(
        zip(row["scale_id"], row["patient"], row["therapist"], row["session_number"], strict=True)
    ) == {
        ("thabs", "P6", "T2", 2),
        ("sthar", "P6", "T2", 2),
    }
    assert set(row["phase"]) == {"II"}


def test_patient_layout_puts_each_session_number_side_by_side(study: Project) -> None:
    bundle = build_export_bundle(study, final="mean", winsorize_iqr=1.5, layout="patient")
    patients = bundle.patients
    assert list(patients["patient"]) == [f"P{p}" for p in range(1, 9)]
    assert list(patients["therapist"]) == ["T1"] * 4 + ["T2"] * 4
    columns = list(patients.columns)
    assert len(columns) == len(set(columns))
    assert "thabs_rationale_s1" in columns and "sthar_rationale_s1" in columns
    assert "ghes_global_s2" in columns and "sthar_same_session_mean_s2" in columns
    assert "ghes_global_s1" not in columns  # GHES applies from session 2
    # Every cell is the final (winsorized, mean-rule) value of that session.
    final = bundle.final
    for scale_id, item in (("thabs", "specification"), ("sthar", "rationale"), ("ghes", "global")):
        for n in (1, 2, 3):
            column = f"{scale_id}_{item}_s{n}"
            if column not in columns:
                continue
            for p in range(1, 9):
                rows = final[(final["scale_id"] == scale_id) & (final["session_id"] == f"P{p}S{n}")]
                expected = rows[f"{scale_id}_{item}"].iloc[0] if len(rows) else np.nan
                got = patients.loc[patients["patient"] == f"P{p}", column].iloc[0]
                assert got == expected or (np.isnan(got) and np.isnan(expected)), (column, p)
    # P6's session 3 was uncodable on THABS: no value; P8's winsorized 0 is 1.
    assert np.isnan(patients.loc[5, "thabs_specification_s3"])
    assert patients.loc[7, "thabs_specification_s1"] == 1
    # The session layout leaves the table empty.
    assert build_export_bundle(study).patients.empty


def test_patient_layout_reaches_xlsx_and_csv(
    study: Project, study_file: Path, tmp_path: Path
) -> None:
    bundle = build_export_bundle(study, layout="patient")
    for fmt, out in (("xlsx", tmp_path / "s.xlsx"), ("csv", tmp_path / "s.csv")):
        done = run_cli("export", study_file, "--format", fmt, "--out", out, "--layout", "patient")
        assert done.returncode == 0, done.stderr
    sheet = pd.read_excel(tmp_path / "s.xlsx", sheet_name="patients")
    csv = pd.read_csv(tmp_path / "s_patients.csv")
    for frame in (sheet, csv):
        assert list(frame.columns) == list(bundle.patients.columns)
        pd.testing.assert_series_equal(
            frame["thabs_behaviour_mean_s2"], bundle.patients["thabs_behaviour_mean_s2"]
        )
    wb = openpyxl.load_workbook(tmp_path / "s.xlsx", read_only=True)
    assert wb.sheetnames.index("patients") == wb.sheetnames.index("final_extra") + 1
    readme = (tmp_path / "s_README.txt").read_text(encoding="utf-8")
    assert "thabs_rationale_s1: thabs: Provision of rationale (ordinal 0..4), session 1" in readme


def test_patient_layout_refuses_two_sessions_with_one_number(tmp_path: Path) -> None:
    from tests.factories import make_project, score_coding

    with make_project(tmp_path / "d.scproj", scales=("sthar",), raters=("R1",)) as project:
        add_plain_sessions(
            project, [session(k, patient="P1", session_number=2) for k in ("A", "B")]
        )
        for key in ("A", "B"):
            coding = project.add_coding(key, "R1", "sthar")
            items = [i.id for i in project.scale("sthar").items]
            score_coding(project, "R1", coding, dict.fromkeys(items, 2), submit=True)
        with pytest.raises(InputError, match="patient P1 has sessions A, B all numbered 2"):
            build_export_bundle(project, layout="patient")
        assert build_export_bundle(project).final.shape[0] == 2
    # From the command line: one clear line, exit 2, and no file written.
    out = tmp_path / "d.sav"
    done = run_cli(
        "export", tmp_path / "d.scproj", "--format", "sav", "--out", out, "--layout", "patient"
    )
    assert done.returncode == 2
    assert "patient P1 has sessions A, B all numbered 2" in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".sav") == []
