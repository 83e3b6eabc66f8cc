"""The CSV export: tidy (long) scores for R and pandas, with every other table beside it.

``write_csv(bundle, "study.csv")`` writes, in the folder of ``study.csv``:

=============================  ==========================================================
file                           content
=============================  ==========================================================
``study.csv``                  the long table: scale_id, session_id, rater, item_id,
                               kind (item/composite), value, text
``study_scores.csv``           wide scores, one row per session x rater
``study_pairs.csv``            double-coded sessions side by side (``_A`` / ``_B``)
``study_final.csv``            one row per session (primary or pair mean, winsorized?)
``study_reliability.csv``      ICC (six forms), kappa, alpha, agreement per variable
``study_descriptives.csv``     n, M, SD, quartiles, outliers, adjusted_n per variable
``study_notes.csv``            notes with ``position_ms`` and ``time`` (mm:ss)
``study_spans.csv``            spans of duration items
``study_uncodable.csv``        uncodable codings with reason and text
``study_uncodable_counts.csv`` uncodable codings counted by reason
``study_plan.csv``             the assignment plan
``study_variables.csv``        the codebook: labels, ranges, anchors of every column
``study_README.txt``           the options used and every column explained
=============================  ==========================================================

When ``path`` is an existing folder, the files are ``export.csv``, ``export_scores.csv``
... inside it. Files are UTF-8 without a byte-order mark, comma-separated, with a
header row; a missing value is an empty field; booleans are ``True``/``False``;
``submitted_at`` is ``YYYY-MM-DD HH:MM:SS`` (UTC); an infinite F is ``inf``. Both
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
from pathlib import Path
from typing import Any

import pandas as pd

from coder.export_data import (
    TABLE_DOCS,
    ExportBundle,
    describe_columns,
    describe_options,
)

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


LONG_TABLE = "long"
BESIDE: tuple[str, ...] = (
    "scores",
    "pairs",
    "final",
    "reliability",
    "reliability_pairs",
    "reliability_pair_summary",
    "descriptives",
    "notes",
    "spans",
    "uncodable",
    "uncodable_counts",
    "plan",
    "variables",
)


def csv_paths(path: str | Path) -> dict[str, Path]:
    """Where each table goes for a given ``path`` (table name -> file), README last."""
    path = Path(path)
    if path.is_dir():
        folder, stem, main = path, "export", path / "export.csv"
    else:
        folder, stem, main = path.parent, path.stem, path
    out = {LONG_TABLE: main}
    for table in BESIDE:
        out[table] = folder / f"{stem}_{table}.csv"
    out["README"] = folder / f"{stem}_README.txt"
    return out


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
    targets = csv_paths(path)
    partial: dict[Path, Path] = {}
    total = sum(max(1, bundle.table(t).size) for t in targets if t != "README")
    done = 0
    try:
        for table, target in targets.items():
            tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
            partial[target] = tmp
            if table == "README":
                tmp.write_text(_readme(bundle, targets), encoding="utf-8")
                continue
            frame = escape_formulas(bundle.table(table))
            frame.to_csv(
                tmp,
                index=False,
                na_rep="",
                date_format="%Y-%m-%d %H:%M:%S",
                lineterminator="\n",
                encoding="utf-8",
            )
            done += max(1, frame.size)
            if progress is not None:
                progress(min(0.99, done / total))
        for target, tmp in partial.items():
            os.replace(tmp, target)
    except BaseException:
        for tmp in partial.values():
            tmp.unlink(missing_ok=True)
        raise
    if progress is not None:
        progress(1.0)
    return list(targets.values())


def _readme(bundle: ExportBundle, targets: dict[str, Path]) -> str:
    lines = ["Session Coder export (CSV)", "=" * 26, ""]
    for key, text in describe_options(bundle):
        lines.append(f"{key}: {text}")
    lines += [
        "",
        "Files are UTF-8, comma-separated, with a header row; a missing value is an empty",
        "field; booleans are True/False; submitted_at is YYYY-MM-DD HH:MM:SS (UTC); an",
        "infinite F statistic (perfect agreement) is inf. A text that begins with =, +,",
        "-, @, a tab or a carriage return starts with an added ' so that spreadsheet",
        "programs do not run it as a formula; numbers are never changed. Line breaks in",
        "texts are written as a newline (a carriage return is never written).",
        "",
    ]
    for table, target in targets.items():
        if table == "README":
            continue
        lines += [target.name, "-" * len(target.name), TABLE_DOCS[table], ""]
        for column, description in describe_columns(bundle, table):
            lines.append(f"  {column}: {description}")
        lines.append("")
    return "\n".join(lines)
