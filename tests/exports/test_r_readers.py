"""The xlsx and csv exports as R reads them: readxl, readr and base R's read.csv.

One project of three scales that share item ids (``rationale`` in thabs and sthar,
``global`` in ghes and sthar), with three-coder sessions, uncodable sessions, text
answers (one left empty), the per-patient layout and more than 1,000 THABS codings, whose ``praise`` item is
only scored after the first 1,050 sessions (readxl's and readr's type guess looks at
1,000 rows; a score of 0 there must still read as the number 0). R reads every sheet
and file; each value and type R sees is compared with the export's tables, and the
THABS scores with the values loaded into the database. Skipped without R locally;
CI installs R (tests/r_lang.py).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coder.export_data import CLOCK_COLUMNS, ExportBundle, build_export_bundle
from coder.reliability import icc
from coder.scales import load_builtin_scale
from coder.store.bulk import LoadedCoding, load_codings
from coder.store.project import Project
from coder.store.sessions import NewSession, add_sessions
from exports.csv_export import csv_files, escape_formula, write_csv
from exports.xlsx_export import sheet_layout, write_xlsx
from tests.factories import score_coding
from tests.r_lang import require_r, run_r

N_THABS = 1_100
LATE = 1_050  # praise is scored from this session on
RATERS = ("R1", "R2", "R3", "R4")
THIRD_CODER = (10, 20, 30)  # sessions with a third (extra) THABS coder
THABS_ITEMS = ("specification", "rationale", "troubleshooting", "review", "praise")


@dataclass(frozen=True)
class Study:
    """The exported files, the bundle they came from and what was loaded."""

    bundle: ExportBundle
    xlsx: Path
    csv: Path
    loaded: dict[tuple[str, str], dict[str, float]]  # (session, rater) -> THABS scores
    uncodable: set[tuple[str, str]]
    out: Path  # R's dumps


def _key(i: int) -> str:
    return f"S{i:04d}"


def _thabs_codings(rng: np.random.Generator) -> list[LoadedCoding]:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    codings = []
    for i in range(N_THABS):
        coders = [(RATERS[i % 4], "primary")]
        if i % 5 == 0:
            coders.append((RATERS[(i + 1) % 4], "second"))
        if i in THIRD_CODER:
            coders.append((RATERS[(i + 2) % 4], "second"))
        for rater, role in coders:
            uncodable = i % 97 == 5 and role == "primary"
            values: dict[str, float] = {}
            spans: list[tuple[str, int, int]] = []
            if not uncodable:
                values = {item: float(rng.integers(0, 5)) for item in THABS_ITEMS[:4]}
                if i >= LATE:
                    values["praise"] = float(i % 5)  # 0 among them
                length = int(rng.integers(10, 600)) * 1000
                spans.append(("duration", 0, length))
                values["duration"] = length / 1000
            codings.append(
                LoadedCoding(
                    session_key=_key(i),
                    rater=rater,
                    role=role,
                    state="uncodable" if uncodable else "submitted",
                    values=values,
                    notes=[(1_000, "=1+1 said the client")] if i == 3 else [],
                    spans=spans,
                    uncodable_reason="Audio failure" if uncodable else "",
                    uncodable_text="silent" if uncodable else "",
                    submitted_at=start + timedelta(minutes=i),
                    queue_position=i,
                )
            )
    return codings


def _sthar_codings(project: Project, rng: np.random.Generator) -> list[LoadedCoding]:
    scale = project.scale("sthar")
    items = [item for item in scale.items if item.is_numeric]
    codings = []
    for i in range(40):
        coders = [(RATERS[i % 4], "primary")]
        if i % 2 == 0:
            coders.append((RATERS[(i + 1) % 4], "second"))
        if i == 4:
            coders.append((RATERS[(i + 2) % 4], "second"))
        for rater, role in coders:
            uncodable = i == 7
            values = {item.id: float(rng.choice(item.values)) for item in items if not uncodable}
            codings.append(
                LoadedCoding(
                    session_key=_key(i),
                    rater=rater,
                    role=role,
                    state="uncodable" if uncodable else "submitted",
                    values=values,
                    uncodable_reason="Audio failure" if uncodable else "",
                    submitted_at=datetime(2025, 2, 1, tzinfo=UTC),
                )
            )
    return codings


R_SCRIPT = r"""
args <- commandArgs(TRUE)
xlsx <- args[1]; csvdir <- args[2]; out <- args[3]
suppressPackageStartupMessages({ library(readxl); library(readr) })
warned <- character(0)
keep <- function(expr, what) withCallingHandlers(expr, warning = function(w) {
  warned <<- c(warned, paste(what, conditionMessage(w)))
  invokeRestart("muffleWarning")
})
dump <- function(df, name) {
  df <- as.data.frame(df, check.names = FALSE, stringsAsFactors = FALSE)
  cls <- vapply(df, function(x) class(x)[1], "")
  writeLines(paste(names(df), cls, sep = "\t"), file.path(out, paste0(name, ".types")))
  text <- lapply(df, function(x) {
    if (inherits(x, "POSIXct")) return(format(x, "%Y-%m-%d %H:%M:%S", tz = "UTC"))
    if (inherits(x, "Date")) return(format(x, "%Y-%m-%d"))
    if (is.double(x)) return(ifelse(is.na(x), NA, sprintf("%.17g", x)))
    if (is.logical(x)) return(ifelse(is.na(x), NA, ifelse(x, "TRUE", "FALSE")))
    as.character(x)
  })
  text <- as.data.frame(text, check.names = FALSE, stringsAsFactors = FALSE)
  write.table(text, file.path(out, paste0(name, ".tsv")), sep = "\t", na = "<NA>",
              row.names = FALSE, qmethod = "double", fileEncoding = "UTF-8")
}
for (s in excel_sheets(xlsx)) {
  if (s == "README") next
  dump(keep(read_excel(xlsx, sheet = s), s), paste0("xlsx-", s))
}
for (f in list.files(csvdir, pattern = "[.]csv$")) {
  name <- sub("[.]csv$", "", f)
  path <- file.path(csvdir, f)
  dump(keep(read_csv(path, show_col_types = FALSE, progress = FALSE), f), paste0("readr-", name))
  dump(keep(read.csv(path, check.names = FALSE, stringsAsFactors = FALSE), f),
       paste0("base-", name))
}
writeLines(warned, file.path(out, "warnings.txt"))
cat("done\n")
"""


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Study]:
    require_r("readxl", "readr")
    folder = tmp_path_factory.mktemp("r-readers")
    rng = np.random.default_rng(12)
    project = Project.create(folder / "study.scproj", name="R readers")
    try:
        for scale_id in ("thabs", "ghes", "sthar"):
            project.add_scale(load_builtin_scale(scale_id))
        project.add_raters(RATERS)
        first = datetime(2024, 1, 1)
        add_sessions(
            project,
            [
                NewSession(
                    key=_key(i),
                    patient=f"P{i // 4:03d}",
                    therapist=f"T{i % 7}",
                    session_number=i % 4 + 1,
                    phase="I" if i % 4 < 2 else "II",
                    date=(first + timedelta(days=i)).date().isoformat(),
                    audio_status="ok",
                )
                for i in range(N_THABS)
            ],
        )
        thabs = _thabs_codings(rng)
        load_codings(project, "thabs", thabs)
        load_codings(project, "sthar", _sthar_codings(project, rng))
        ghes = load_builtin_scale("ghes")
        numeric = [item.id for item in ghes.items if item.is_numeric]
        for i, (rater, role, log) in enumerate(
            [("R1", "primary", "thought records"), ("R2", "second", ""), ("R3", "primary", "-")]
        ):
            coding = project.add_coding(_key(i // 2), rater, "ghes", role=role)
            values = {item: float((i + j) % 5) for j, item in enumerate(numeric)}
            score_coding(project, rater, coding, values, texts={"completed_log": log}, submit=False)
            texts = [item.id for item in ghes.items if not item.is_numeric]
            for item in texts[1:]:
                project.rater_view(rater).set_text(coding, item, f"{item} answer")
            project.rater_view(rater).submit(coding)
        bundle = build_export_bundle(
            project, include_metadata=True, layout="patient", descriptives_by="session_number"
        )
    finally:
        project.close()
    xlsx = write_xlsx(bundle, folder / "study.xlsx")
    (folder / "csv").mkdir()
    write_csv(bundle, folder / "csv" / "study.csv")
    out = folder / "r"
    out.mkdir()
    assert run_r(R_SCRIPT, str(xlsx), str(folder / "csv"), str(out), packages=("readxl", "readr"))
    loaded = {(c.session_key, c.rater): dict(c.values) for c in thabs if c.state == "submitted"}
    uncodable = {(c.session_key, c.rater) for c in thabs if c.state == "uncodable"}
    yield Study(bundle, xlsx, folder / "csv", loaded, uncodable, out)


def _read_dump(out: Path, name: str) -> tuple[dict[str, str], list[dict[str, str | None]]]:
    types = dict(
        line.split("\t")
        for line in (out / f"{name}.types").read_text(encoding="utf-8").splitlines()
    )
    with (out / f"{name}.tsv").open(encoding="utf-8", newline="") as fh:
        rows = [
            {k: (None if v == "<NA>" else v) for k, v in row.items()}
            for row in csv.DictReader(fh, delimiter="\t")
        ]
    return types, rows


def _expected_class(series: pd.Series, column: str, reader: str) -> set[str]:
    """The R classes a column may have: its type, or logical when it holds no value."""
    empty = {"logical"} if series.isna().all() else set()
    return _typed_class(series, column, reader) | empty


def _typed_class(series: pd.Series, column: str, reader: str) -> set[str]:
    dtype = series.dtype
    if column in CLOCK_COLUMNS and reader == "readr":
        return {"hms"}  # 0:01:30 read as a time of day: 90 seconds
    if pd.api.types.is_bool_dtype(dtype):
        return {"logical"}
    if pd.api.types.is_datetime64_any_dtype(dtype):
        if column == "date" and reader != "xlsx":
            return {"Date"} if reader == "readr" else {"character"}
        return {"POSIXct"} if reader != "base" else {"character"}
    if pd.api.types.is_numeric_dtype(dtype):
        return {"numeric", "integer"} if reader == "base" else {"numeric"}
    return {"character"}


def _same(expected: object, seen: str | None, column: str, reader: str) -> bool:
    if column in CLOCK_COLUMNS and isinstance(expected, str) and reader != "xlsx":
        parts = [int(p) for p in expected.split(":")]
        if reader == "readr":  # hms: seconds
            return seen is not None and float(seen) == sum(
                p * 60**i for i, p in enumerate(reversed(parts))
            )
        return seen == expected if len(parts) == 3 else seen == f"0:{expected}"
    if (
        expected is None
        or expected is pd.NA
        or (isinstance(expected, float) and math.isnan(expected))
    ):
        return seen is None or (reader == "base" and seen == "")
    if seen is None:
        return False
    if isinstance(expected, (bool, np.bool_)):
        return seen == ("TRUE" if expected else "FALSE")
    if isinstance(expected, pd.Timestamp):
        wanted = expected.strftime("%Y-%m-%d" if column == "date" else "%Y-%m-%d %H:%M:%S")
        return seen.startswith(wanted) if reader != "base" else seen == wanted
    if isinstance(expected, (int, float, np.integer, np.floating)):
        return math.isclose(float(seen), float(expected), rel_tol=1e-12, abs_tol=1e-12)
    text = str(expected)
    if reader != "xlsx":
        text = str(escape_formula(text)).replace("\r\n", "\n").replace("\r", "\n")
    return seen == text


def _compare(frame: pd.DataFrame, out: Path, name: str, reader: str) -> None:
    types, rows = _read_dump(out, name)
    assert list(types) == [str(c) for c in frame.columns], name
    assert len(rows) == len(frame), name
    for column in frame.columns:
        series = frame[column]
        assert types[column] in _expected_class(series, str(column), reader), (
            name,
            column,
            types[column],
        )
        for i, expected in enumerate(series.tolist()):
            seen = rows[i][column]
            assert _same(expected, seen, str(column), reader), (name, column, i, expected, seen)


def test_r_reads_no_warning(study: Study) -> None:
    assert (study.out / "warnings.txt").read_text(encoding="utf-8").strip() == ""


def test_readxl_reads_every_sheet_with_the_exports_values_and_types(study: Study) -> None:
    sheets = sheet_layout(study.bundle)
    assert {
        "scores_thabs",
        "scores_ghes",
        "scores_sthar",
        "final_thabs",
        "patients",
        "descriptives_by_session",
    } <= {s.name for s in sheets}
    # StHAR's global (spanning two sessions) is a column of its final sheet only.
    final = next(s.frame for s in sheets if s.name == "final_sthar")
    assert final["sthar_global"].notna().any()
    for sheet in sheets:
        _compare(sheet.frame, study.out, f"xlsx-{sheet.name}", "xlsx")


def test_readr_and_read_csv_read_every_file_with_the_exports_values_and_types(
    study: Study,
) -> None:
    for file in csv_files(study.bundle, study.csv / "study.csv"):
        if file.table == "README":
            continue
        frame = (
            study.bundle.table(file.table)
            if file.scale_id is None
            else study.bundle.scale_table(file.table, file.scale_id)
        )
        _compare(frame, study.out, f"readr-{file.path.stem}", "readr")
        if file.scale_id is not None and file.table == "scores":
            _compare(frame, study.out, f"base-{file.path.stem}", "base")


@pytest.mark.parametrize("source", ["xlsx-scores_thabs", "readr-study_scores_thabs"])
def test_scores_as_r_reads_them_equal_the_database(study: Study, source: str) -> None:
    types, rows = _read_dump(study.out, source)
    assert types["thabs_praise"] == "numeric"  # not logical: the 0s are numbers
    assert types["thabs_rationale"] == "numeric" and "sthar_rationale" not in types
    assert types["double_coded"] == "logical"
    assert types["date"] == ("POSIXct" if source.startswith("xlsx") else "Date")
    seen = 0
    for row in rows:
        key = (str(row["session_id"]), str(row["rater"]))
        if key in study.uncodable:
            assert row["state"] == "uncodable"
            assert all(row[f"thabs_{item}"] is None for item in THABS_ITEMS)
            continue
        values = study.loaded[key]
        for item in THABS_ITEMS:
            got = row[f"thabs_{item}"]
            if item in values:
                assert got is not None and float(got) == values[item], (key, item)
            else:
                assert got is None, (key, item)  # missing is NA, not 0 or FALSE
        seen += 1
    assert seen == len(study.loaded)
    late_zero = [r for r in rows if r["thabs_praise"] is not None and float(r["thabs_praise"]) == 0]
    assert late_zero  # a 0 beyond row 1,000 read as the number 0


def test_text_answers_missing_and_formula_like_text(study: Study) -> None:
    _, rows = _read_dump(study.out, "xlsx-scores_ghes")
    logs = {r["rater"]: r["ghes_completed_log"] for r in rows}
    assert logs == {"R1": "thought records", "R2": None, "R3": "-"}  # empty is NA
    _, rows = _read_dump(study.out, "readr-study_scores_ghes")
    assert {r["rater"]: r["ghes_completed_log"] for r in rows}["R3"] == "'-"
    _, notes = _read_dump(study.out, "readr-study_notes")
    assert [n["text"] for n in notes] == ["'=1+1 said the client"]


def test_pairs_and_reliability_sheet_use_the_same_sessions_with_three_coders(
    study: Study,
) -> None:
    types, pairs = _read_dump(study.out, "xlsx-pairs_thabs")
    _, reliability = _read_dump(study.out, "xlsx-reliability")
    sessions = [p["session_id"] for p in pairs]
    assert len(sessions) == len(set(sessions))  # one row per session, three coders or not
    assert {_key(i) for i in THIRD_CODER} <= set(sessions)
    rel_types, _ = _read_dump(study.out, "xlsx-reliability")
    assert rel_types["ICC2_F"] == "numeric" and rel_types["ICC2_F_infinite"] == "logical"
    for item in ("specification", "rationale"):
        row = next(r for r in reliability if r["variable"] == f"thabs_{item}")
        matrix = np.array(
            [
                [float(p[f"thabs_{item}_A"] or "nan"), float(p[f"thabs_{item}_B"] or "nan")]
                for p in pairs
            ]
        )
        matrix = matrix[~np.isnan(matrix).any(axis=1)]
        assert int(float(row["n_sessions"] or 0)) == len(matrix)
        recomputed = icc(matrix)
        for form in ("ICC1", "ICC2", "ICC3k"):
            assert float(row[form] or "nan") == pytest.approx(
                recomputed.forms[form].value, abs=1e-9
            )
    assert types["thabs_rationale_A"] == "numeric"
