"""The reliability and export commands of SPEC section 9.

They run in process (tests/cli.py); the contract test and the demo build (the
`demo_project` fixture of tests/conftest.py) run as real processes, so the entry point,
its exit code and its stdout are proven too.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from tests.cli import run_cli as run
from tests.cli import run_cli_process

# Shrout & Fleiss (1979), Table 2: 6 targets x 4 judges.
SHROUT_FLEISS = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]


def write_long(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    lines = ["session_id,rater_id,item_id,score"] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_long_csv_reliability_json_follows_the_contract(tmp_path: Path) -> None:
    rows = [
        (f"s{i}", f"j{j}", "x", str(v))
        for i, row in enumerate(SHROUT_FLEISS)
        for j, v in enumerate(row)
    ]
    # As a real process: the smoke test of the analysis commands' entry point.
    out = run_cli_process(
        "reliability", "--long", str(write_long(tmp_path / "l.csv", rows)), "--json"
    )
    assert out.returncode == 0, out.stderr
    item = json.loads(out.stdout)["items"]["x"]
    assert (item["n_sessions"], item["n_raters"]) == (6, 4)
    assert item["category_source"] == "observed" and item["categories"] == [1, 10]
    expected = {
        "ICC1": 0.17,
        "ICC2": 0.29,
        "ICC3": 0.71,
        "ICC1k": 0.44,
        "ICC2k": 0.62,
        "ICC3k": 0.91,
    }
    for form, value in expected.items():
        stat = item["icc"][form]
        assert round(stat["value"], 2) == value
        assert {"F", "df1", "df2", "p", "ci95"} <= set(stat)
    assert set(item["kappa"]) == {"unweighted", "linear", "quadratic"}
    assert item["kappa"]["unweighted"]["value"] is None  # four coders: no Cohen's kappa
    assert item["kappa"]["unweighted"]["why"]
    assert set(item["krippendorff_alpha"]) == {"nominal", "ordinal", "interval"}
    assert 0 <= item["agreement"]["exact"]["value"] <= 1


def test_perfect_agreement_is_strict_json_with_infinity(tmp_path: Path) -> None:
    rows = [(f"s{i}", r, "x", str(i % 5)) for i in range(10) for r in ("A", "B")]
    out = run(
        "reliability",
        "--long",
        str(write_long(tmp_path / "l.csv", rows)),
        "--range",
        "x=0..6",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    item = json.loads(out.stdout)["items"]["x"]
    assert "NaN" not in out.stdout and ": Infinity" not in out.stdout
    assert item["icc"]["ICC2"]["value"] == 1 and item["icc"]["ICC2"]["F"] == "Infinity"
    assert item["icc"]["ICC2"]["ci95"] == [1, 1]
    assert item["categories"] == [0, 6] and item["category_source"] == "range"
    assert item["agreement"]["exact"]["value"] == 1


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("session_id,rater_id,score\ns1,A,1\n", (), "item_id"),
        ("session_id,rater_id,item_id,score\ns1,A,x,high\n", (), "line 2, column score"),
        ("session_id,rater_id,item_id,score\ns1,A,x,1\n", ("--range", "x=5"), "ITEM=MIN..MAX"),
    ],
)
def test_bad_long_input_is_one_line_exit_2(
    tmp_path: Path, content: str, args: tuple[str, ...], message: str
) -> None:
    path = tmp_path / "l.csv"
    path.write_text(content)
    out = run("reliability", "--long", str(path), *args)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr


@pytest.mark.slow
def test_demo_project_has_content_for_every_view(demo_project: Path) -> None:
    status = json.loads(run("status", str(demo_project), "--json").stdout)
    assert status["sessions"] == 24 and status["raters"] == 4
    assert status["scales"] == ["hw_adherence", "thabs", "resistance", "ghes", "sthar"]
    assert status["by_scale"]["thabs"]["submitted"] > 15
    report = json.loads(run("reliability", str(demo_project), "--scale", "thabs", "--json").stdout)
    assert report["items"]["specification"]["n_sessions"] >= 5
    assert report["items"]["duration"]["icc"]["ICC2"]["value"] is not None


@pytest.mark.slow
def test_export_xlsx_from_the_cli_is_pseudonymous(demo_project: Path, tmp_path: Path) -> None:
    out_path = tmp_path / "demo.xlsx"
    out = run(
        "export",
        str(demo_project),
        "--format",
        "xlsx",
        "--out",
        str(out_path),
        "--final",
        "mean",
        "--winsorize-iqr",
        "1.5",
    )
    assert out.returncode == 0, out.stderr
    book = openpyxl.load_workbook(out_path, read_only=True)
    assert book.sheetnames[0] == "README"
    for sheet in (
        "codebook",
        "scores_thabs",
        "pairs_thabs",
        "final_thabs",
        "scores_sthar",
        "long",
        "reliability",
        "descriptives",
        "notes",
        "spans",
        "uncodable",
        "uncodable_counts",
        "plan",
    ):
        assert sheet in book.sheetnames
    scores = list(book["scores_thabs"].iter_rows(values_only=True))
    header = scores[0]
    assert "thabs_specification" in header and "session_id" in header
    assert "sthar_rationale" not in header  # the other scale's item of the same id
    assert isinstance(scores[1][header.index("thabs_specification")], (int, float, type(None)))
    text = "".join(
        str(c)
        for ws in book.worksheets
        for row in ws.iter_rows(values_only=True)
        for c in row
        if c is not None
    )
    assert "/audio/" not in text and ".ogg" not in text and "site" not in header
