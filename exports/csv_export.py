"""The CSV export: tidy (long) scores for R and pandas, with every other table beside it.

``write_csv(bundle, "study.csv")`` writes, in the folder of ``study.csv`` (one file
per exported scale where the name says ``<scale>``):

====================================  ===================================================
file                                  content
====================================  ===================================================
``study.csv``                         the long table: scale_id, session_id, rater,
                                      item_id, variable, kind (item/composite), value,
                                      text
``study_codebook.csv``                every variable: scale, label, kind, range, anchors
``study_scores_<scale>.csv``          wide scores, one row per session x rater
``study_final_<scale>.csv``           one row per session (final rule, winsorized?)
``study_patients.csv``                with ``--layout patient``: the final scores one row
                                      per patient, ``<scale>_<item>_s<number>``
``study_pairs_<scale>.csv``           double-coded sessions side by side (``_A``/``_B``)
``study_reliability.csv``             ICC (six forms), kappa, alpha, agreement per
                                      variable
``study_reliability_pairs.csv``       every ICC form per rater pair and variable; the
                                      summary over pairs (range, mean, median) is in
                                      ``study_reliability_pair_summary.csv``
``study_descriptives.csv``            n, M, SD, quartiles, outliers, adjusted_n
``study_descriptives_by_session.csv`` with ``--descriptives-by session_number``: the
                                      same per session number, with Tukey's fences
``study_winsorizing.csv``             fences per scale, session number and variable
``study_notes.csv``                   notes with ``position_ms`` and ``time`` (mm:ss)
``study_spans.csv``                   spans of duration items
``study_uncodable.csv``               uncodable codings with reason and text
``study_uncodable_counts.csv``        uncodable codings counted by reason
``study_plan.csv``                    the assignment plan
``study_README.txt``                  the options used and every column explained
====================================  ===================================================

Item and composite columns are named ``<scale>_<item>`` (``thabs_rationale``; see
:func:`coder.export_data.variable_column`), the same in every file and format.
``path`` without ``.csv`` gets it added (``study`` writes ``study.csv`` and the rest
beside it). When ``path`` is an existing folder, or ends with ``/`` (a new folder is
created), the files are ``export.csv``, ``export_codebook.csv`` ... inside it. Files
are UTF-8 without a byte-order mark, comma-separated, with a header row; a missing
value is an empty field; booleans are ``TRUE``/``FALSE``; the session ``date`` is
``YYYY-MM-DD``, ``submitted_at`` ``YYYY-MM-DD HH:MM:SS`` (UTC); no number is
infinite (an infinite F is empty, with ``<form>_F_infinite`` TRUE); the time
texts of notes and spans are ``h:mm:ss`` (``0:01:30``: readr reads them as times). Both
``read.csv`` / ``readr::read_csv`` and ``pandas.read_csv`` read them as they are.
Every file is written beside its final name and moved into place only when all of
them are complete, so a failed export leaves no half-written set.

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is written with a leading ``'`` (OWASP's advice against CSV formula injection), so a
spreadsheet program shows a rater's note such as ``=HYPERLINK(...)`` as text instead
of running it. Numbers, including negative ones, are never changed. A carriage return
inside a text is written as a newline, so it cannot end the row early.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coder.export_data import (
    CLOCK_COLUMNS,
    DATE_COLUMNS,
    TABLE_DOCS,
    ExportBundle,
    describe_columns,
    describe_options,
)
from exports.file_set import all_or_none

Progress = Callable[[float], None]

# Characters that make a spreadsheet program read a cell as a formula (OWASP, "CSV
# Injection"); tab and carriage return can hide one behind leading whitespace.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A text that is a plain number ("-3", "+1.5e3") is no formula, and stays as it is.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def escape_formula(value: Any) -> Any:
    """Make a text cell safe to open in a spreadsheet program; other values unchanged.

    Args:
        value: One cell.

    Returns:
        ``value`` with a ``'`` in front when it is a text starting with a formula
        trigger (and is not a plain number); anything else as it was.
    """
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_TRIGGERS)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def _safe_cell(value: Any) -> Any:
    escaped = escape_formula(value)
    if isinstance(escaped, str) and "\r" in escaped:
        # The writer quotes a field only for "\n" (our line end), so a bare carriage
        # return would end the row early in a spreadsheet and start the next cell with
        # whatever follows it (a formula, even): line breaks are written as "\n".
        escaped = escaped.replace("\r\n", "\n").replace("\r", "\n")
    return escaped


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and header are safe for spreadsheets.

    Text that starts a formula gets a leading ``'`` (:func:`escape_formula`), and a
    carriage return inside a text becomes a newline (which the writer quotes). Only
    columns that can hold text (object or string dtype) are looked at, so numeric
    columns keep their dtype and their values, negative numbers included.
    """
    out = frame.copy()
    for position in range(out.shape[1]):  # by position: safe with repeated names
        cells = out.iloc[:, position]
        if not (pd.api.types.is_object_dtype(cells) or pd.api.types.is_string_dtype(cells)):
            continue
        # Only the cells that need it are replaced: the column keeps its dtype (dates
        # and booleans held as objects are written as before).
        unsafe = cells.map(lambda v: _safe_cell(v) is not v).astype(bool)
        if unsafe.any():
            escaped = cells.where(~unsafe, cells[unsafe].map(_safe_cell))
            out.isetitem(position, escaped.array)  # the array: same rows, dtype kept
    out.columns = [_safe_cell(c) for c in out.columns]
    return out


def csv_values(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the values R and pandas read back as their types.

    Booleans become ``TRUE``/``FALSE`` (what ``read.csv`` and ``readr`` read as
    logical; pandas too), a calendar date (:data:`coder.export_data.DATE_COLUMNS`)
    ``YYYY-MM-DD``, a time text (:data:`coder.export_data.CLOCK_COLUMNS`) always
    ``h:mm:ss`` (readr takes ``mm:ss`` for hours and minutes), and an infinite number
    an empty field (the tables flag infinite statistics in a column of their own).
    Everything else is unchanged.
    """
    out: pd.DataFrame | None = None
    for position, column in enumerate(frame.columns):
        cells = frame.iloc[:, position]
        dtype = cells.dtype
        new: list[Any] | np.ndarray | None = None
        if pd.api.types.is_bool_dtype(dtype):
            new = [None if v is pd.NA else ("TRUE" if v else "FALSE") for v in cells.tolist()]
        elif column in CLOCK_COLUMNS and not pd.api.types.is_numeric_dtype(dtype):
            # readr reads "01:30" as 1 h 30 min; "0:01:30" is read right (hms).
            new = [_full_clock(v) for v in cells.tolist()]
        elif column in DATE_COLUMNS and pd.api.types.is_datetime64_any_dtype(dtype):
            new = [None if pd.isna(v) else v.strftime("%Y-%m-%d") for v in cells.tolist()]
        elif pd.api.types.is_float_dtype(dtype):
            values = cells.to_numpy(dtype="float64", na_value=np.nan)
            if np.isinf(values).any():
                new = np.where(np.isinf(values), np.nan, values)
        if new is not None:
            if out is None:
                out = frame.copy()
            out.isetitem(
                position, new if isinstance(new, np.ndarray) else np.array(new, dtype=object)
            )
    return frame if out is None else out


def _full_clock(value: Any) -> Any:
    """``mm:ss`` as ``h:mm:ss`` (``01:30`` -> ``0:01:30``); anything else unchanged."""
    if isinstance(value, str) and value.count(":") == 1:
        return f"0:{value}"
    return value


LONG_TABLE = "long"
#: The files beside the long table, in order; ``{scale}`` stands for one file per
#: exported scale (``study_scores_thabs.csv``, ``study_scores_ghes.csv``, ...).
BESIDE: tuple[str, ...] = (
    "codebook",
    "scores_{scale}",
    "final_{scale}",
    "pairs_{scale}",
    "reliability",
    "reliability_pairs",
    "reliability_pair_summary",
    "descriptives",
    "winsorizing",
    "notes",
    "spans",
    "uncodable",
    "uncodable_counts",
    "plan",
)


@dataclass(frozen=True)
class CsvFile:
    """One file of a CSV export: where it goes and which table (and scale) it holds."""

    path: Path
    table: str
    scale_id: str | None = None


def csv_files(bundle: ExportBundle, path: str | Path) -> list[CsvFile]:
    """Every file of the export for ``path``, the long table first and the README last.

    ``path`` is the long table's file, named as given when it ends in ``.csv`` and
    with ``.csv`` added otherwise (``--out study`` writes ``study.csv``,
    ``study_scores_thabs.csv`` ...). An existing folder, or a path written with a
    trailing ``/``, is a folder: the files are ``export.csv``, ``export_scores_thabs.csv``
    ... inside it.
    """
    folder, stem = csv_location(path)
    given = Path(os.fspath(path)).name
    main = given if given.lower().endswith(".csv") and given[:-4] == stem else f"{stem}.csv"
    files = [CsvFile(folder / main, LONG_TABLE)]
    for pattern in BESIDE:
        if "{scale}" in pattern:
            table = pattern.split("_", 1)[0]
            files += [
                CsvFile(folder / f"{stem}_{table}_{scale_id}.csv", table, scale_id)
                for scale_id in bundle.variables_by_scale
            ]
            if table == "final" and bundle.options.layout == "patient":
                files.append(CsvFile(folder / f"{stem}_patients.csv", "patients"))
        else:
            table = "variables" if pattern == "codebook" else pattern
            files.append(CsvFile(folder / f"{stem}_{pattern}.csv", table))
            if table == "descriptives" and bundle.options.descriptives_by == "session_number":
                by_session = "descriptives_by_session"
                files.append(CsvFile(folder / f"{stem}_{by_session}.csv", by_session))
    files.append(CsvFile(folder / f"{stem}_README.txt", "README"))
    return files


def csv_location(path: str | Path) -> tuple[Path, str]:
    """The folder and the file-name stem of a CSV export written to ``path``."""
    text = os.fspath(path)
    target = Path(text).expanduser()
    if target.is_dir() or text.endswith(("/", os.sep)):
        return target, "export"
    name = target.name
    stem = name[:-4] if name.lower().endswith(".csv") else name
    return target.parent, stem


def write_csv(
    bundle: ExportBundle, path: str | Path, *, progress: Progress | None = None
) -> list[Path]:
    """Write the long table to ``path`` and every other table beside it.

    Args:
        bundle: The tables (:func:`coder.export_data.build_export_bundle`).
        path: The long table's file (or an existing folder); see the module docstring.
        progress: Called with the fraction done, 0.0 to 1.0.

    Returns:
        Every file written, the long table first and the README last.

    Raises:
        OSError: A file cannot be written (no file of the set is left half-written).
    """
    files = csv_files(bundle, path)
    files[0].path.parent.mkdir(exist_ok=True)  # a new folder given as "NEWDIR/"
    frames = {
        id(f): bundle.table(f.table)
        if f.scale_id is None
        else bundle.scale_table(f.table, f.scale_id)
        for f in files
        if f.table != "README"
    }
    total = sum(max(1, frame.size) for frame in frames.values())
    done = 0
    with all_or_none() as temp_for:
        for file in files:
            tmp = temp_for(file.path)
            if file.table == "README":
                tmp.write_text(_readme(bundle, files), encoding="utf-8")
                continue
            frame = frames[id(file)]
            write_table_csv(frame, tmp)
            done += max(1, frame.size)
            if progress is not None:
                progress(min(0.99, done / total))
    if progress is not None:
        progress(1.0)
    return [f.path for f in files]


def write_table_csv(frame: pd.DataFrame, target: Path) -> None:
    """Write one table as a file of this export (see the module docstring).

    The values are those R and pandas read back as their types (:func:`csv_values`)
    and text cells are safe to open in a spreadsheet (:func:`escape_formulas`); the
    SPSS export writes its codebook with this too.
    """
    escape_formulas(csv_values(frame)).to_csv(
        target,
        index=False,
        na_rep="",
        date_format="%Y-%m-%d %H:%M:%S",
        lineterminator="\n",
        encoding="utf-8",
    )


def _readme(bundle: ExportBundle, files: list[CsvFile]) -> str:
    lines = ["Session Coder export (CSV)", "=" * 26, ""]
    for key, text in describe_options(bundle):
        lines.append(f"{key}: {text}")
    if bundle.methods:
        lines += [
            "",
            "Methods (the reliability in words, for a paper; numbers as in",
            "the reliability files, rounded)",
            "",
        ]
        for scale_id, paragraph in bundle.methods.items():
            lines += [f"{scale_id}: {paragraph}", ""]
    lines += [
        "",
        "Files are UTF-8, comma-separated, with a header row; a missing value is an empty",
        "field; booleans are TRUE/FALSE; the session date is YYYY-MM-DD and submitted_at",
        "YYYY-MM-DD HH:MM:SS (UTC); an infinite F statistic (perfect agreement) is empty,",
        "with <form>_F_infinite TRUE; time texts (time, start, end) are h:mm:ss, e.g.",
        "0:01:30. Columns are named <scale>_<item> (the codebook",
        "lists them). A text that begins with =, +,",
        "-, @, a tab or a carriage return starts with an added ' so that spreadsheet",
        "programs do not run it as a formula; numbers are never changed. Line breaks in",
        "texts are written as a newline (a carriage return is never written).",
        "",
    ]
    for file in files:
        if file.table == "README":
            continue
        name = file.path.name
        doc = TABLE_DOCS[file.table]
        if file.scale_id is not None:
            doc = f"Scale {file.scale_id}. {doc}"
        lines += [name, "-" * len(name), doc, ""]
        for column, description in describe_columns(bundle, file.table, file.scale_id):
            lines.append(f"  {column}: {description}")
        lines.append("")
    return "\n".join(lines)
