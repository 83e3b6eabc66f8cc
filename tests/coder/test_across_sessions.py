"""Composites spanning two sessions: StHAR's global (issue 13, source studies as published).

Haller & Watzke pair StH-A of the previous session with StH-R of the current one. The
scale file marks the composite with ``previous_session``; the exports derive it from
the final scores of the same patient's session number minus one (real SQLite project,
real exports read back).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from coder.export_data import build_export_bundle
from coder.scale_analysis import across_session_scores, drop_item, previous_rows
from coder.scales import ScaleValidationError, load_builtin_scale, parse_scale
from coder.store.project import Project
from exports import write_export
from tests.factories import make_project, score_coding, session

STH_A = ("rationale", "tailoring", "challenges", "specifying", "comprehension")
STH_R = ("review_extent", "conclusions", "self_efficacy")

# patient -> session number -> (StH-A score, StH-R score), every item of a subscale alike.
# Session 1's StH-A is 2 but for P1 (3) and P5 (0): both beyond the fences at any K.
SCORES = {
    "P1": {1: (3, 0), 2: (2, 3), 3: (1, 1)},
    "P2": {1: (2, 0), 3: (0, 4)},  # no session 2: session 3 has no previous session
    "P3": {1: (2, 1), 2: (2, 2)},
    "P4": {1: (2, 1), 2: (2, 2)},
    "P5": {1: (0, 1), 2: (2, 2)},
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    project = make_project(
        tmp_path_factory.mktemp("across") / "across.scproj",
        scales=("sthar",),
        raters=("R1",),
        sessions=[
            session(f"{p}S{n}", patient=p, therapist="T1", session_number=n)
            for p, numbers in SCORES.items()
            for n in numbers
        ],
    )
    for p, numbers in SCORES.items():
        for n, (a, r) in numbers.items():
            coding = project.add_coding(f"{p}S{n}", "R1", "sthar", role="primary")
            values = {i: float(a) for i in STH_A} | {i: float(r) for i in STH_R}
            score_coding(project, "R1", coding, values, submit=True)
    yield project
    project.close()


def test_the_builtin_global_takes_sth_a_from_the_previous_session() -> None:
    scale = load_builtin_scale("sthar")
    assert scale.version == 2
    assert [c.id for c in scale.composites] == ["sth_a", "sth_r", "same_session_mean"]
    (global_,) = scale.across_sessions
    assert global_.id == "global" and global_.method == "mean"
    assert global_.previous_session == STH_A
    assert global_.items == STH_A + STH_R
    assert "previous session" in global_.label
    # Within one coding it is never computed (the rater's screen, reliability).
    assert "global" not in scale.composite_scores(dict.fromkeys(STH_A + STH_R, 1.0))
    # Our reading of how the pair is combined is marked as ours.
    assert any("global is the mean of the eight items" in r for r in scale.invented_rules)
    current = dict.fromkeys(STH_A, 0.0) | dict.fromkeys(STH_R, 4.0)
    previous = dict.fromkeys(STH_A, 2.0) | dict.fromkeys(STH_R, 0.0)
    assert global_.compute_across(current, previous) == pytest.approx((5 * 2 + 3 * 4) / 8)
    assert global_.compute_across(current, None) is None


def test_the_previous_session_is_the_same_patients_number_minus_one() -> None:
    rows = previous_rows(
        ["s", "s", "s", "s", "s", "t", "s", "s"],
        ["P1", "P1", "P2", "P2", "P1", "P1", None, "P3"],
        [1, 2, 3, 2, 3, 2, 2, float("nan")],
    )
    # P1 2 -> row 0; P2 3 -> row 3; P1 3 -> row 1; scale t has no P1 1; no patient or
    # no number -> None.
    assert rows == [None, 0, 3, None, 1, None, None, None]
    # pandas' missing number (a session without one) is missing, not an error.
    numbers = pd.array([None, 2, 1], dtype="Int64")
    assert previous_rows(["s"] * 3, ["P1"] * 3, list(numbers)) == [None, 2, None]
    # Two rows with the same patient and number: not clear which, so none.
    assert previous_rows(["s"] * 3, ["P1"] * 3, [1, 1, 2]) == [None, None, None]
    comp = load_builtin_scale("sthar").across_sessions[0]
    scores = [dict.fromkeys(STH_A + STH_R, float(v)) for v in (0, 4)]
    assert across_session_scores(comp, scores, [None, 0]) == [None, pytest.approx(1.5)]


def test_a_previous_session_item_must_be_one_of_the_composite_items() -> None:
    text = """
id: two
name: Two sessions
version: 1
citation: Ours.
instructions: Rate it.
rated: therapist
window: whole
applies_to: all
items:
  - {id: a, label: A, kind: ordinal, min: 0, max: 2, anchors: {0: no, 2: yes}}
  - {id: b, label: B, kind: ordinal, min: 0, max: 2, anchors: {0: no, 2: yes}}
composites:
  - {id: c, label: C, method: sum, items: [a, b], previous_session: [x]}
  - {id: d, label: D, method: sum, items: [a, b], previous_session: [a, b]}
"""
    with pytest.raises(ScaleValidationError) as err:
        parse_scale(text, source_name="two.yaml")
    message = str(err.value)
    assert "composites[0].previous_session[0]: 'x' is not one of this composite's items" in (
        message
    )
    assert "composites[1].previous_session: lists every item" in message


def _final(bundle_final: pd.DataFrame) -> dict[str, float]:
    rows = bundle_final[bundle_final["scale_id"] == "sthar"]
    return {str(k): float(v) for k, v in zip(rows["session_id"], rows["sthar_global"], strict=True)}


def test_the_export_derives_global_from_both_sessions(project: Project, tmp_path: Path) -> None:
    bundle = build_export_bundle(project, layout="patient", descriptives_by="session_number")
    got = _final(bundle.final)
    # P1S2: StH-A of P1S1 (3) x 5 and StH-R of P1S2 (3) x 3, over 8.
    assert got["P1S2"] == pytest.approx((5 * 3 + 3 * 3) / 8)
    assert got["P1S3"] == pytest.approx((5 * 2 + 3 * 1) / 8)
    assert math.isnan(got["P1S1"]) and math.isnan(got["P2S1"])  # first sessions
    assert math.isnan(got["P2S3"])  # P2 has no session 2
    # The same-session mean stays what it was.
    same = bundle.final.set_index("session_id")["sthar_same_session_mean"]
    assert same["P1S2"] == pytest.approx((5 * 2 + 3 * 3) / 8)
    assert got["P3S2"] == pytest.approx((5 * 2 + 3 * 2) / 8)
    # Only in the final and patient tables: no per-coding score, pair or reliability.
    assert "sthar_global" not in bundle.scale_table("scores", "sthar").columns
    assert not any(c.startswith("sthar_global") for c in bundle.scale_table("pairs", "sthar"))
    assert "sthar_global" not in set(bundle.long["variable"])
    assert "sthar_global" not in set(bundle.reliability["variable"])
    patients = bundle.patients.set_index("patient")
    assert patients.loc["P1", "sthar_global_s2"] == pytest.approx(got["P1S2"])
    by_session = bundle.descriptives_by_session
    row = by_session[
        (by_session["variable"] == "sthar_global") & (by_session["session_number"] == 3)
    ]
    assert int(row["n"].iloc[0]) == 1  # P2S3 has no previous session
    # The codebook and the README say what it is.
    codebook = bundle.variables.set_index("column").loc["sthar_global"]
    assert "previous session (session number minus one)" in codebook["composite_of"]
    assert "no reliability" in codebook["composite_of"]
    # Read back from the files.
    xlsx = write_export(bundle, "xlsx", tmp_path / "across.xlsx")[0]
    sheet = pd.read_excel(xlsx, sheet_name="final_sthar")
    assert sheet.set_index("session_id")["sthar_global"]["P1S3"] == pytest.approx(13 / 8)
    assert "sthar_global" not in pd.read_excel(xlsx, sheet_name="scores_sthar").columns
    wb = openpyxl.load_workbook(xlsx, read_only=True)
    readme = " ".join(str(c.value) for r in wb["README"].iter_rows() for c in r if c.value)
    assert "sthar: global spans two sessions" in readme
    wb.close()
    csv = write_export(bundle, "csv", tmp_path / "across.csv")
    final_csv = pd.read_csv(next(p for p in csv if p.name == "across_final_sthar.csv"))
    assert final_csv.set_index("session_id")["sthar_global"]["P1S2"] == pytest.approx(3.0)
    sav = write_export(bundle, "sav", tmp_path / "across.sav")
    pyreadstat = pytest.importorskip("pyreadstat")
    frame, _ = pyreadstat.read_sav(str(next(p for p in sav if p.name == "across_sthar.sav")))
    assert frame.set_index("session_id")["sthar_global"]["P1S2"] == pytest.approx(3.0)
    # A first session's empty global is -7 (nothing to pair with), not -9 (left blank).
    path = str(next(p for p in sav if p.name == "across_sthar.sav"))
    coded, _ = pyreadstat.read_sav(path, user_missing=True)
    assert coded.set_index("session_id")["sthar_global"]["P1S1"] == -7
    scores, _ = pyreadstat.read_sav(
        str(next(p for p in sav if p.name == "across_sthar_scores.sav"))
    )
    assert "sthar_global" not in scores.columns


def test_dropping_an_item_takes_it_out_of_global(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "drop.scproj",
        scales=("sthar",),
        raters=("R1",),
        sessions=[session(f"P1S{n}", patient="P1", session_number=n) for n in (1, 2)],
    )
    try:
        for n, (a, r) in ((1, (4, 0)), (2, (0, 2))):
            coding = project.add_coding(f"P1S{n}", "R1", "sthar", role="primary")
            values = {i: float(a) for i in STH_A} | {i: float(r) for i in STH_R}
            values["rationale"] = 0.0
            score_coding(project, "R1", coding, values, submit=True)
        before = _final(build_export_bundle(project).final)["P1S2"]
        assert before == pytest.approx((0 + 4 * 4 + 3 * 2) / 8)
        drop_item(project, "sthar", "rationale", "low reliability")
        bundle = build_export_bundle(project)
        assert _final(bundle.final)["P1S2"] == pytest.approx((4 * 4 + 3 * 2) / 7)
        label = bundle.variables.set_index("column").loc["sthar_global", "label"]
        assert "without rationale: dropped" in label
    finally:
        project.close()


def test_winsorizing_recomputes_global_from_the_winsorized_items(project: Project) -> None:
    plain = build_export_bundle(project)
    fenced = build_export_bundle(project, winsorize_iqr=1.5)
    # Session 1's StH-A of P1 (3) and P5 (0) are pulled to 2; P1S2's StH-R 3 to 2.
    assert _final(plain.final)["P5S2"] == pytest.approx((5 * 0 + 3 * 2) / 8)
    assert _final(fenced.final)["P5S2"] == pytest.approx((5 * 2 + 3 * 2) / 8)
    assert _final(fenced.final)["P1S2"] == pytest.approx(2.0)
    # The winsorizing table counts the recomputed values (P1S2 and P5S2).
    w = fenced.winsorizing
    counted = w[(w["variable"] == "sthar_global") & (w["rule"] == "composite")]
    assert dict(zip(counted["session_number"], counted["adjusted_n"], strict=True)) == {
        1: 0,
        2: 2,
        3: 0,
    }
    final = fenced.final[fenced.final["scale_id"] == "sthar"].reset_index(drop=True)
    previous = previous_rows(
        list(final["scale_id"]), list(final["patient"]), list(final["session_number"])
    )
    for row, before in enumerate(previous):
        if before is None:
            assert np.isnan(final.loc[row, "sthar_global"])
            continue
        a = final.loc[before, [f"sthar_{i}" for i in STH_A]].astype(float)
        r = final.loc[row, [f"sthar_{i}" for i in STH_R]].astype(float)
        assert final.loc[row, "sthar_global"] == pytest.approx((a.sum() + r.sum()) / 8)


def test_a_session_without_a_number_has_no_global_and_exports(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "nonumber.scproj",
        scales=("sthar",),
        raters=("R1",),
        sessions=[session("X", patient="P1"), session("P1S2", patient="P1", session_number=2)],
    )
    try:
        for key in ("X", "P1S2"):
            coding = project.add_coding(key, "R1", "sthar", role="primary")
            score_coding(project, "R1", coding, dict.fromkeys(STH_A + STH_R, 2.0), submit=True)
        got = _final(build_export_bundle(project, winsorize_iqr=1.5).final)
        assert math.isnan(got["X"]) and math.isnan(got["P1S2"])  # no session 1 of P1
    finally:
        project.close()
