"""The SPSS export: one .sav file per scale and table, typed for SPSS and R haven.

``write_sav(bundle, "study.sav")`` writes, in the folder of ``study.sav``:

==============================  =======================================================
file                            content
==============================  =======================================================
``study_<scale>.sav``           the final table of the scale: one row per session, by
                                the final rule (``--final``), winsorized when asked
                                (``--winsorize-iqr``)
``study_<scale>_scores.sav``    every finished coding of the scale with its own scores
``study_<scale>_pairs.sav``     the double-coded sessions' reliability pairs (``_A``,
                                ``_B``)
``study_reliability.sav``       the reliability table of every scale (and
                                ``study_reliability_<table>.sav`` for each further
                                reliability table, such as the per-pair ones)
``study_patients.sav``          with ``--layout patient``: the final scores one row per
                                patient, ``<scale>_<item>_s<number>``
``study_codebook.csv``          the codebook (:func:`sav_codebook`): every item and
                                composite variable with its scale, label, item text,
                                kind, range, anchors, the scale version and file
                                SHA-256, its SPSS name and its user-missing codes
==============================  =======================================================

Score variables are named ``<scale>_<item>`` (``thabs_rationale``, as in every format:
:func:`coder.export_data.variable_column`), and each file holds one scale's, so two
scales sharing an item id (``rationale`` in THABS and StHAR) never share a variable.

Variables:

* Names are SPSS-safe: ASCII letters, digits and ``_`` only, starting with a letter,
  at most 64 bytes, not a reserved word (ALL, AND, BY, ...), and unique ignoring case
  (``_2``, ``_3`` ... on a clash); a renamed column's label names its original column.
* Labels: the item or composite label, or a description of a fixed column. SPSS keeps
  at most 255 bytes of a variable label and 120 of a value label: a longer one is cut
  and the file's document says which (``study_codebook.csv`` has the full text).
* Scores are numbers with **user-missing codes** (:data:`MISSING_CODES`): -7 not
  administered (no coding of this scale for the session, or, in the patient file, no
  such session), -8 uncodable, -9 left blank. They carry value labels and are
  declared missing, so SPSS and ``haven::read_sav(user_na = TRUE)`` see why a score
  is missing; ``haven::read_sav()`` reads them as NA.
* Measurement levels from the item kinds: ordinal items ordinal, nominal items
  nominal, counts, durations and composites scale; codes and texts nominal.
* Display formats from the values: whole numbers ``F2.0`` for a 0-4 item (wide enough
  for the missing codes), decimals only where values have them, at most three (the
  mean of five whole scores ``F3.1``, a three-coder mean ``F5.3``).
* Value labels: an ordinal item's anchors, a nominal item's categories (coded 1..n),
  the missing codes; ``double_coded`` is 0/1 labelled no/yes.
* ``submitted_at`` is an SPSS date-time (UTC), the session ``date`` (``--include-
  metadata``) an SPSS date; texts are string variables as wide as their longest value.

Each file's document (File > Display Data File Information) holds the export options
it applied: the final rule and winsorizing only in the files they shaped. Every file
is written beside its final name and moved into place when all are complete.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyreadstat

from coder.export_data import (
    MISSING_REASONS,
    SCALE_TABLES,
    TABLE_DOCS,
    TABLES,
    ExportBundle,
    MissingReason,
    Variable,
    describe_columns,
    describe_options,
    patient_column,
    row_missing_reasons,
)
from coder.kinds import ItemKind
from exports.csv_export import write_table_csv
from exports.file_set import all_or_none

Progress = Callable[[float], None]

RESERVED = frozenset(
    {"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"}
)
MAX_NAME_BYTES = 64
MAX_LABEL_BYTES = 255
MAX_VALUE_LABEL_BYTES = 120
MAX_DECIMALS = 3
#: The user-missing codes of every score variable (declared missing, with value labels).
MISSING_CODES: dict[MissingReason, int] = {
    "not_administered": -7,
    "uncodable": -8,
    "left_blank": -9,
}
_MISSING_LABELS = {
    float(code): MISSING_REASONS[reason].split(":")[0] for reason, code in MISSING_CODES.items()
}
#: The codebook's ``spss_missing_codes`` of a score variable: every code and its reason
#: (led by a word: a cell starting with ``-`` would get the csv formula escape ``'``).
SPSS_MISSING_TEXT = "user-missing " + "; ".join(
    f"{code:.0f} = {label}" for code, label in _MISSING_LABELS.items()
)
#: The codebook's ``spss_missing_codes`` of a text item (a string variable).
SPSS_TEXT_MISSING = "none: a string variable, empty when there is no answer"
#: The columns the SPSS codebook adds to the codebook of every format.
SAV_CODEBOOK_COLUMNS = ("spss_name", "spss_missing_codes")
CODEBOOK = "codebook"
_NOT_NAME = re.compile(r"[^A-Za-z0-9_]+")
#: The reliability tables, each a file of its own: ``reliability`` and every
#: ``reliability_*`` table of the bundle (the per-pair tables).
RELIABILITY_TABLES: tuple[str, ...] = tuple(
    t for t in TABLES if t == "reliability" or t.startswith("reliability_")
)


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


@dataclass
class SavTable:
    """One .sav file to write: a table, the variable behind each score column, and
    why a score is missing (a row-level reason, per column where it differs)."""

    table: str
    scale_id: str | None
    frame: pd.DataFrame
    variables: dict[str, tuple[Variable, str]] = field(default_factory=dict)
    row_reasons: list[MissingReason | None] = field(default_factory=list)
    cell_reasons: dict[str, list[MissingReason | None]] = field(default_factory=dict)


def sav_paths(bundle: ExportBundle, path: str | Path) -> dict[tuple[str, str | None], Path]:
    """Where each file goes for ``path``: (table, scale id or None) -> file, in order."""
    path = Path(path)
    folder, stem = path.parent, path.stem
    out: dict[tuple[str, str | None], Path] = {}
    for scale_id in bundle.options.scale_ids:
        out[("final", scale_id)] = folder / f"{stem}_{scale_id}.sav"
        out[("scores", scale_id)] = folder / f"{stem}_{scale_id}_scores.sav"
        out[("pairs", scale_id)] = folder / f"{stem}_{scale_id}_pairs.sav"
    for table in RELIABILITY_TABLES:
        out[(table, None)] = folder / f"{stem}_{table}.sav"
    if bundle.options.layout == "patient":
        out[("patients", None)] = folder / f"{stem}_patients.sav"
    return out


def codebook_path(path: str | Path) -> Path:
    """The codebook written beside the .sav files for ``path`` (``study_codebook.csv``)."""
    path = Path(path)
    return path.parent / f"{path.stem}_{CODEBOOK}.csv"


def sav_codebook(
    bundle: ExportBundle, tables: dict[tuple[str, str | None], SavTable]
) -> pd.DataFrame:
    """The codebook of the .sav files: the codebook of every format, plus SPSS columns.

    The rows and columns are the bundle's ``variables`` table (the xlsx codebook sheet
    and ``study_codebook.csv`` of the csv export), followed by :data:`SAV_CODEBOOK_COLUMNS`:
    ``spss_name``, the variable's name in the .sav files (``<name>_A``/``_B`` in the
    pairs file, ``<name>_s<number>`` in the patient file), and ``spss_missing_codes``,
    the user-missing codes a score variable carries (:data:`MISSING_CODES`).

    Args:
        bundle: The tables of the export.
        tables: The .sav tables (:func:`sav_tables`); the names come from the
            scores file of each scale, which holds every variable of the scale but
            the composites spanning two sessions (those from the final file).
    """
    frame = bundle.table("variables").reset_index(drop=True).copy()
    names: dict[str, str] = {}
    numeric: dict[str, bool] = {}
    for scale_id in bundle.options.scale_ids:
        for table in (tables[("scores", scale_id)], tables[("final", scale_id)]):
            found = spss_names(table.frame.columns)
            for column, (variable, _) in table.variables.items():
                names.setdefault(column, found[column])
                numeric[column] = variable.is_numeric
    frame["spss_name"] = [names.get(c) for c in frame["column"]]
    frame["spss_missing_codes"] = [
        None if c not in numeric else SPSS_MISSING_TEXT if numeric[c] else SPSS_TEXT_MISSING
        for c in frame["column"]
    ]
    return frame


def sav_tables(bundle: ExportBundle) -> dict[tuple[str, str | None], SavTable]:
    """The tables of the .sav files, keyed as :func:`sav_paths`."""
    out: dict[tuple[str, str | None], SavTable] = {}
    for scale_id in bundle.options.scale_ids:
        variables = bundle.variables_by_scale[scale_id]
        numeric = {v.column: (v, "") for v in variables if v.is_numeric}
        final = SavTable("final", scale_id, bundle.scale_table("final", scale_id), numeric)
        _mark_no_previous_session(final)
        out[("final", scale_id)] = final
        # A composite spanning two sessions has no per-coding score (final only).
        numeric = {c: (v, x) for c, (v, x) in numeric.items() if not v.across_sessions}
        scores = SavTable(
            "scores",
            scale_id,
            bundle.scale_table("scores", scale_id),
            {v.column: (v, "") for v in variables if not v.across_sessions},
        )
        _mark_other_versions(bundle, scores)
        out[("scores", scale_id)] = scores
        sides = {
            f"{column}_{side}": (v, f"rater {side}")
            for column, (v, _) in numeric.items()
            for side in ("A", "B")
        }
        out[("pairs", scale_id)] = SavTable(
            "pairs", scale_id, bundle.scale_table("pairs", scale_id), sides
        )
    for name in RELIABILITY_TABLES:
        out[(name, None)] = SavTable(name, None, bundle.table(name).reset_index(drop=True))
    if bundle.options.layout == "patient":
        out[("patients", None)] = _patient_table(bundle)
    for table in out.values():
        if not table.row_reasons:
            table.row_reasons = row_missing_reasons(table.frame)
    return out


def _mark_no_previous_session(table: SavTable) -> None:
    """A composite spanning two sessions, empty in a scored row: -7 (no previous
    session's score to pair with), not -9 (left blank)."""
    table.row_reasons = row_missing_reasons(table.frame)
    for column, (v, _) in table.variables.items():
        if v.across_sessions:
            empty = table.frame[column].isna().to_numpy()
            table.cell_reasons[column] = [
                "not_administered" if r is None and gone else r
                for r, gone in zip(table.row_reasons, empty, strict=True)
            ]


def _mark_other_versions(bundle: ExportBundle, table: SavTable) -> None:
    """A coding made with a scale version without an item: -7 there, not -9."""
    table.row_reasons = row_missing_reasons(table.frame)
    versions = table.frame["scale_version"]
    for column, (v, _) in table.variables.items():
        if not v.is_numeric:
            continue
        reasons = list(table.row_reasons)
        changed = False
        for i, version in enumerate(versions):
            ids = None if pd.isna(version) else bundle.version_ids.get((v.scale_id, int(version)))
            if reasons[i] is None and ids is not None and v.item_id not in ids:
                reasons[i] = "not_administered"
                changed = True
        if changed:
            table.cell_reasons[column] = reasons


def _patient_table(bundle: ExportBundle) -> SavTable:
    frame = bundle.patients.reset_index(drop=True)
    table = SavTable("patients", None, frame, row_reasons=[None] * len(frame))
    final = bundle.final
    reasons = row_missing_reasons(final)
    row_of = {p: i for i, p in enumerate(frame["patient"])}
    for scale_id, variables in bundle.variables_by_scale.items():
        at = (final["scale_id"] == scale_id).to_numpy()
        numbers = final.loc[at, "session_number"]
        patients = final.loc[at, "patient"]
        why = [r for r, keep in zip(reasons, at, strict=True) if keep]
        for number in sorted({int(n) for n in numbers.dropna()}):
            by_patient: list[MissingReason | None] = ["not_administered"] * len(frame)
            for p, n, r in zip(patients, numbers, why, strict=True):
                if not pd.isna(n) and int(n) == number and p in row_of:
                    by_patient[row_of[p]] = r
            for v in variables:
                column = patient_column(v.column, number)
                if column in frame.columns:
                    table.variables[column] = (v, f"session {number}")
                    table.cell_reasons[column] = by_patient
    return table


def write_sav(
    bundle: ExportBundle, path: str | Path, *, progress: Progress | None = None
) -> list[Path]:
    """Write the .sav files of :func:`sav_paths` (see the module docstring).

    Args:
        bundle: The tables (:func:`coder.export_data.build_export_bundle`).
        path: Names the files: ``study.sav`` gives ``study_<scale>.sav`` and the rest
            beside it (each replaced if it exists).
        progress: Called with the fraction done, 0.0 to 1.0.

    Returns:
        Every file written, the first scale's final table first and the codebook
        (``study_codebook.csv``) last.

    Raises:
        OSError: A file cannot be written (no file of the set is left half-written).
    """
    targets = sav_paths(bundle, path)
    tables = sav_tables(bundle)
    codebook = codebook_path(path)
    with all_or_none() as temp_for:
        for i, (key, target) in enumerate(targets.items()):
            _write_one(bundle, tables[key], temp_for(target), codebook.name)
            if progress is not None:
                progress(min(0.99, (i + 1) / (len(targets) + 1)))
        write_table_csv(sav_codebook(bundle, tables), temp_for(codebook))
    if progress is not None:
        progress(1.0)
    return [*targets.values(), codebook]


def _write_one(bundle: ExportBundle, table: SavTable, target: Path, codebook: str) -> None:
    frame = table.frame
    names = spss_names(frame.columns)
    docs = dict(
        describe_columns(
            bundle, table.table, table.scale_id if table.table in SCALE_TABLES else None
        )
    )
    columns: dict[str, Any] = {}  # one DataFrame at the end: a wide table stays whole
    labels: dict[str, str | None] = {}
    value_labels: dict[str, dict[float, str]] = {}
    measure: dict[str, str] = {}
    formats: dict[str, str] = {}
    missing: dict[str, list[int | float | str | Any]] = {}
    cut: list[str] = []
    for column in frame.columns:
        name = names[column]
        series = frame[column]
        found = table.variables.get(column)
        if found is not None and found[0].is_numeric:
            variable, _ = found
            values = series.to_numpy(dtype="float64", na_value=np.nan)
            reasons = table.cell_reasons.get(column, table.row_reasons)
            codes = np.array([MISSING_CODES[r or "left_blank"] for r in reasons], dtype="float64")
            blank = np.isnan(values)
            columns[name] = np.where(blank, codes, values)
            measure[name] = _measure(variable)
            formats[name] = _format(values[~blank], codes)
            anchors = _distinct_labels(
                {
                    float(k): _truncate(t, MAX_VALUE_LABEL_BYTES)
                    for k, t in variable.value_labels.items()
                }
            )
            if any(
                len(t.encode("utf-8")) > MAX_VALUE_LABEL_BYTES
                for t in variable.value_labels.values()
            ):
                cut.append(f"{name} (value labels)")
            value_labels[name] = {**anchors, **_MISSING_LABELS}
            missing[name] = list(MISSING_CODES.values())
            label = variable.label + (f" ({found[1]})" if found[1] else "")
            if table.table == "patients":
                label = f"{variable.scale_id}: {label}"
        elif found is not None:  # a text item
            columns[name] = series.astype("str").where(series.notna(), "").astype("str")
            measure[name] = "nominal"
            label = found[0].label
        elif column == "date":
            columns[name] = [_as_date(v) for v in series]
            measure[name] = "scale"
            formats[name] = "DATE11"
            label = docs.get(column, "").rstrip(".")
        elif pd.api.types.is_bool_dtype(series.dtype):
            columns[name] = series.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
            value_labels[name] = {0.0: "no", 1.0: "yes"}
            measure[name] = "nominal"
            formats[name] = "F1.0"
            label = docs.get(column, "").rstrip(".")
        elif pd.api.types.is_datetime64_any_dtype(series.dtype):
            columns[name] = series
            measure[name] = "scale"
            label = docs.get(column, "").rstrip(".")
        elif pd.api.types.is_numeric_dtype(series.dtype):
            values = series.to_numpy(dtype="float64", na_value=np.nan)
            values = np.where(np.isinf(values), np.nan, values)
            columns[name] = values
            measure[name] = "scale"
            formats[name] = _format(values[~np.isnan(values)], np.array([]))
            label = docs.get(column, "").rstrip(".")
        else:
            columns[name] = series.astype("str").where(series.notna(), "").astype("str")
            measure[name] = "nominal"
            label = docs.get(column, "").rstrip(".")
        if name != column:
            label = f"{column}: {label}" if label else column
        if len(label.encode("utf-8")) > MAX_LABEL_BYTES:
            cut.append(name)
        labels[name] = _truncate(label, MAX_LABEL_BYTES)
    out = pd.DataFrame(columns, index=frame.index)
    pyreadstat.write_sav(
        out,
        str(target),
        file_label=_truncate(f"Session Coder {_title(table)}: {bundle.project_name}", 64),
        column_labels=labels,
        variable_value_labels=value_labels,
        variable_measure=measure,
        variable_format=formats,
        missing_ranges=missing,
        note=_notes(bundle, table, cut, codebook),
    )


def _title(table: SavTable) -> str:
    return table.table if table.scale_id is None else f"{table.scale_id} {table.table}"


def _notes(bundle: ExportBundle, table: SavTable, cut: list[str], codebook: str) -> list[str]:
    """The file's document: what it holds and only the options that shaped it."""
    lines: list[tuple[str, str]] = [("This file", f"{_title(table)}: {TABLE_DOCS[table.table]}")]
    shaped = table.table in ("final", "patients")
    for key, text in describe_options(bundle):
        if key in ("Final rule", "Winsorizing") and not shaped:
            text = (
                "does not apply to this file: it holds every coding's own scores."
                if not table.table.startswith("reliability")
                else "does not apply: reliability uses the coders' independent scores."
            )
        lines.append((key, text))
    if table.variables:
        codes = ", ".join(
            f"{code} = {MISSING_REASONS[reason]}" for reason, code in MISSING_CODES.items()
        )
        lines.append(("Missing codes", f"user-missing (declared missing, labelled): {codes}."))
        lines.append(
            (
                "Codebook",
                f"{codebook} beside this file lists every score variable: "
                "scale, label, item text, kind, range, anchors, missing codes, and the "
                "scale version and file SHA-256 it was coded under.",
            )
        )
    if any(str(c).endswith("_F_infinite") for c in table.frame.columns):
        lines.append(
            (
                "Infinite F",
                "an infinite F statistic (perfect agreement) is empty, with "
                "<form>_F_infinite = 1 (yes).",
            )
        )
    if cut:
        lines.append(
            (
                "Labels cut",
                f"SPSS keeps 255 bytes of a variable label and 120 of a value label; cut "
                f"here: {', '.join(cut)} ({codebook} has the full text).",
            )
        )
    # SPSS keeps a file's document as lines of at most 80 bytes.
    return [
        _truncate(line, 80)
        for key, text in lines
        for line in textwrap.wrap(f"{key}: {text}", width=80)
    ]


def _distinct_labels(labels: dict[float, str]) -> dict[float, str]:
    """Value labels with no text shared by two values: a shared text gets its value in
    front ("1: (no published wording)"). Readers turn labels into factor levels
    (haven's ``as_factor``, SPSS's "use value labels"), and values 1, 2 and 3 that all
    read "(no published wording)" would become one level and lose the score."""
    counts = Counter(labels.values())
    return {
        v: _truncate(f"{v:g}: {t}", MAX_VALUE_LABEL_BYTES) if counts[t] > 1 else t
        for v, t in labels.items()
    }


def _measure(variable: Variable) -> str:
    if variable.kind == ItemKind.ORDINAL:
        return "ordinal"
    if variable.kind == ItemKind.NOMINAL:
        return "nominal"
    return "scale"


def _decimals(values: np.ndarray) -> int:
    for d in range(MAX_DECIMALS + 1):
        scaled = values * 10**d
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6):
            return d
    return MAX_DECIMALS


def _format(values: np.ndarray, codes: np.ndarray) -> str:
    """``Fw.d``: the decimals the values have (at most 3), wide enough for every value."""
    values = values[np.isfinite(values)]
    d = _decimals(values) if values.size else 0
    shown = [f"{v:.{d}f}" for v in values] + [f"{c:.0f}" for c in np.unique(codes)]
    width = max([len(s) for s in shown] + [d + 2 if d else 1])
    return f"F{width}.{d}"


def _as_date(value: Any) -> date | None:
    if value is None or pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
