"""CSV exports are safe to open in a spreadsheet program (issue 9, item 10).

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
written with a leading ``'`` (OWASP "CSV Injection"), and a carriage return cannot end
a row early; numbers, negative ones included, are never changed.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from coder.export_data import build_export_bundle
from exports.csv_export import (
    FORMULA_TRIGGERS,
    escape_formula,
    escape_formulas,
    write_csv,
)
from tests.exports._project import build_coded_project

NASTY_NOTES = [
    '=HYPERLINK("http://evil.example","click")',
    "+SUM(A1:A9)",
    "-2+3",
    "@cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize(
    "value,expected",
    [
        ("=1+1", "'=1+1"),
        ("+1+1", "'+1+1"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-3", "-3"),  # a plain number written as text is no formula
        ("+1.5e3", "+1.5e3"),
        ("client said =", "client said ="),
        (-3.5, -3.5),
        (-2, -2),
        (None, None),
    ],
)
def test_escape_formula_prefixes_only_formula_like_text(value: object, expected: object) -> None:
    assert escape_formula(value) == expected


def test_numeric_columns_keep_negative_numbers() -> None:
    frame = pd.DataFrame(
        {"icc": [-0.25, 0.5], "n": [-1, 2], "note": ["-oops", "fine"], "flag": [True, False]}
    )
    safe = escape_formulas(frame)
    assert safe["icc"].tolist() == [-0.25, 0.5] and safe["icc"].dtype == frame["icc"].dtype
    assert safe["n"].tolist() == [-1, 2] and safe["n"].dtype == frame["n"].dtype
    assert safe["flag"].dtype == frame["flag"].dtype
    assert safe["note"].tolist() == ["'-oops", "fine"]
    assert frame["note"].tolist() == ["-oops", "fine"]  # the input is not changed


def test_no_exported_text_cell_starts_a_formula(tmp_path: Path) -> None:
    project = build_coded_project(tmp_path / "study.scproj")
    try:
        view = project.rater_view("R1")
        coding = next(e.coding_id for e in view.queue() if e.state == "submitted")
        project.allow_reopen(coding)
        for i, text in enumerate(NASTY_NOTES):
            view.add_note(coding, 1_000 * (i + 1), text)
        view.submit(coding)
        bundle = build_export_bundle(project, winsorize_iqr=1.5)
    finally:
        project.close()
    written = write_csv(bundle, tmp_path / "study.csv")
    cells = []
    for path in written:
        if path.suffix != ".csv":
            continue
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh):
                cells.extend(row)
    unsafe = [c for c in cells if c.startswith(FORMULA_TRIGGERS) and escape_formula(c) != c]
    assert unsafe == []
    notes = pd.read_csv(tmp_path / "study_notes.csv", keep_default_na=False)
    assert {f"'{t}".replace("\r", "\n") for t in NASTY_NOTES} <= set(notes["text"])
    assert "client shifts topic" in set(notes["text"])  # ordinary text untouched
