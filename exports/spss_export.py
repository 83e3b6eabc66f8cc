"""The SPSS export: the scores table (one row per session x rater) as a .sav file.

Variable names are made SPSS-safe: ASCII letters, digits and ``_`` only, starting with
a letter, at most 64 bytes, not a reserved word (ALL, AND, BY, ...), and unique
ignoring case (``_2``, ``_3`` ... on a clash). Each variable carries a label: the
item or composite label, or a description of a fixed column; a renamed column's label
names its original column. Ordinal items get their anchor texts as value labels and
nominal items their categories (coded 1..n); ``double_coded`` is 0/1 with labels no
and yes. Measurement levels: ordinal items ordinal, nominal items and codes nominal,
durations, counts and composites scale. Text answers are string variables (empty when
not given); ``submitted_at`` is an SPSS date-time (UTC). The file's document (File >
Display Data File Information) holds the export options.
"""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat

from coder.export_data import ExportBundle, Variable, describe_columns, describe_options
from coder.kinds import ItemKind

Progress = Callable[[float], None]

RESERVED = frozenset(
    {"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"}
)
MAX_NAME_BYTES = 64
MAX_LABEL_BYTES = 255
MAX_VALUE_LABEL_BYTES = 120
_NOT_NAME = re.compile(r"[^A-Za-z0-9_]+")


def spss_names(columns: Iterable[str]) -> dict[str, str]:
    """SPSS-safe, case-insensitively unique names for ``columns`` (original -> safe)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        base = _NOT_NAME.sub("_", str(column)).strip("_") or "var"
        if not base[0].isalpha():
            base = "v_" + base
        if base.upper() in RESERVED:
            base += "_"
        base = base[:MAX_NAME_BYTES]
        name, n = base, 1
        while name.upper() in taken:
            n += 1
            suffix = f"_{n}"
            name = base[: MAX_NAME_BYTES - len(suffix)] + suffix
        taken.add(name.upper())
        out[str(column)] = name
    return out


def _truncate(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore")


def write_sav(bundle: ExportBundle, path: str | Path, *, progress: Progress | None = None) -> Path:
    """Write the scores table as an SPSS .sav file with variable and value labels.

    Args:
        bundle: The tables (:func:`coder.export_data.build_export_bundle`).
        path: The .sav file to write (replaced if it exists).
        progress: Called with the fraction done, 0.0 to 1.0.

    Returns:
        The path written.

    Raises:
        OSError: The file cannot be written (nothing is left behind).
    """
    path = Path(path)
    scores = bundle.scores
    names = spss_names(scores.columns)
    by_column: dict[str, list[Variable]] = {}
    for v in bundle.all_variables:
        by_column.setdefault(v.column, []).append(v)
    docs = dict(describe_columns(bundle, "scores"))

    frame = pd.DataFrame(index=scores.index)
    labels: dict[str, str | None] = {}
    value_labels: dict[str, dict[float, str]] = {}
    measure: dict[str, str] = {}
    for column in scores.columns:
        name = names[column]
        series = scores[column]
        variables = by_column.get(column, [])
        if column == "double_coded":
            frame[name] = series.astype("float64")
            value_labels[name] = {0.0: "no", 1.0: "yes"}
            measure[name] = "nominal"
        elif pd.api.types.is_datetime64_any_dtype(series.dtype):
            frame[name] = series
            measure[name] = "scale"
        elif pd.api.types.is_numeric_dtype(series.dtype):
            frame[name] = series.astype("float64")
            measure[name] = _measure(variables)
            merged = _value_labels(variables)
            if merged:
                value_labels[name] = merged
        else:
            frame[name] = series.astype("str").where(series.notna(), "").astype("str")
            measure[name] = "nominal"
        label = _variable_label(column, variables, docs.get(column, ""))
        if name != column:
            label = f"{column}: {label}" if label else column
        labels[name] = _truncate(label, MAX_LABEL_BYTES)
    if progress is not None:
        progress(0.3)
    # SPSS keeps a file's document as lines of at most 80 bytes.
    note = [
        line
        for key, text in describe_options(bundle)
        for line in textwrap.wrap(f"{key}: {text}", width=80)
    ]
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        pyreadstat.write_sav(
            frame,
            str(tmp),
            file_label=_truncate(f"Session Coder scores: {bundle.project_name}", 64),
            column_labels=labels,
            variable_value_labels=value_labels,
            variable_measure=measure,
            note=note,
        )
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if progress is not None:
        progress(1.0)
    return path


def _variable_label(column: str, variables: list[Variable], doc: str) -> str:
    if not variables:
        return doc.rstrip(".")
    if len({v.label for v in variables}) == 1:
        return variables[0].label
    return " | ".join(f"{v.scale_id}: {v.label}" for v in variables)


def _measure(variables: list[Variable]) -> str:
    kinds = {v.kind for v in variables}
    if kinds == {ItemKind.ORDINAL}:
        return "ordinal"
    if kinds == {ItemKind.NOMINAL}:
        return "nominal"
    return "scale"


def _value_labels(variables: list[Variable]) -> dict[float, str]:
    """The anchors of a column; none when scales sharing the column disagree on them."""
    sets: list[dict[Any, str]] = [dict(v.value_labels) for v in variables if v.value_labels]
    if not sets or any(s != sets[0] for s in sets[1:]):
        return {}
    return {float(k): _truncate(t, MAX_VALUE_LABEL_BYTES) for k, t in sets[0].items()}
