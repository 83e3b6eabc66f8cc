"""The per-pair reliability tables of the exports, flattened from one study.

:func:`pair_rows` and :func:`pair_summary_rows` turn a
:class:`coder.reliability.StudyReliability` (its ``by_pair`` and ``pair_summary``,
computed once with the export's reliability sheet) into the rows of the
``reliability_pairs`` and ``reliability_pair_summary`` tables; the exports add the
scale and variable columns. Statistics stay numbers (NaN where not defined).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from coder.reliability import ICC_FORMS, StudyReliability

#: Columns of the per-pair table: one row per scale, rater pair and variable.
PAIR_TABLE_COLUMNS: tuple[str, ...] = (
    "scale_id",
    "rater_A",
    "rater_B",
    "n_shared",
    "variable",
    "kind",
    "n_sessions",
    *(f"{form}{suffix}" for form in ICC_FORMS for suffix in ("", "_ci_low", "_ci_high")),
)

#: Columns of the summary over pairs: one row per scale, variable and ICC form.
PAIR_SUMMARY_COLUMNS: tuple[str, ...] = (
    "scale_id",
    "variable",
    "kind",
    "form",
    "n_pairs",
    "n_sessions",
    "n_undefined",
    "min",
    "max",
    "mean",
    "median",
)

PAIR_TABLE_DOCS: Mapping[str, str] = {
    "rater_A": "The pair's rater with the lower code (string order).",
    "rater_B": "The pair's other rater.",
    "n_shared": "Double-coded sessions the two raters share.",
    "n_sessions": "Of those, the sessions in the ICC (both scores present).",
    **{
        f"{form}{suffix}": f"{form} of this pair{what}."
        for form in ICC_FORMS
        for suffix, what in (
            ("", ""),
            ("_ci_low", ", 95% confidence interval, lower bound"),
            ("_ci_high", ", 95% confidence interval, upper bound"),
        )
    },
}

PAIR_SUMMARY_DOCS: Mapping[str, str] = {
    "form": "The ICC form (ICC1 ... ICC3k, as in the reliability sheet).",
    "n_pairs": "Rater pairs where the form is defined (the ones summarised).",
    "n_sessions": "Sessions in those pairs' ICCs.",
    "n_undefined": "Pairs where it is not defined (too few sessions, no variance).",
    "min": "Lowest value over the pairs.",
    "max": "Highest value over the pairs.",
    "mean": "Mean over the pairs (each pair counts once).",
    "median": "Median over the pairs.",
}


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)


def pair_rows(
    scale_id: str, study: StudyReliability, variables: Mapping[str, tuple[str, str]]
) -> list[dict[str, Any]]:
    """Rows of the per-pair table of one scale.

    Args:
        scale_id: The scale.
        study: Its reliability study.
        variables: item id -> (column name, ``"item"`` or ``"composite"``), in the
            order of the table; items of the study not named are left out.
    """
    rows = []
    for pair in study.by_pair.pairs:
        for item_id, (column, kind) in variables.items():
            item = pair.items.get(item_id)
            if item is None:
                continue
            row: dict[str, Any] = {
                "scale_id": scale_id,
                "rater_A": pair.raters[0],
                "rater_B": pair.raters[1],
                "n_shared": pair.n_sessions,
                "variable": column,
                "kind": kind,
                "n_sessions": item.n_sessions,
            }
            for form in ICC_FORMS:
                stat = item.icc[form]
                ci = stat.ci95 or (None, None)
                row[form] = _number(stat.value)
                row[f"{form}_ci_low"] = _number(ci[0])
                row[f"{form}_ci_high"] = _number(ci[1])
            rows.append(row)
    return rows


def pair_summary_rows(
    scale_id: str, study: StudyReliability, variables: Mapping[str, tuple[str, str]]
) -> list[dict[str, Any]]:
    """Rows of the summary over pairs of one scale (see :func:`pair_rows`)."""
    rows = []
    for item_id, (column, kind) in variables.items():
        forms = study.pair_summary.get(item_id)
        if not forms:
            continue
        for form, spread in forms.items():
            rows.append(
                {
                    "scale_id": scale_id,
                    "variable": column,
                    "kind": kind,
                    "form": form,
                    "n_pairs": spread.n_pairs,
                    "n_sessions": spread.n_sessions,
                    "n_undefined": spread.n_undefined,
                    "min": _number(spread.min),
                    "max": _number(spread.max),
                    "mean": _number(spread.mean),
                    "median": _number(spread.median),
                }
            )
    return rows


def pair_frames(
    pairs: list[dict[str, Any]], summary: list[dict[str, Any]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two tables from their rows, with their column order and dtypes."""
    by_pair = pd.DataFrame.from_records(pairs, columns=list(PAIR_TABLE_COLUMNS))
    for col in ("n_shared", "n_sessions"):
        by_pair[col] = by_pair[col].astype("Int64")
    for col in PAIR_TABLE_COLUMNS[7:]:
        by_pair[col] = by_pair[col].astype("float64")
    spread = pd.DataFrame.from_records(summary, columns=list(PAIR_SUMMARY_COLUMNS))
    for col in ("n_pairs", "n_sessions", "n_undefined"):
        spread[col] = spread[col].astype("Int64")
    for col in ("min", "max", "mean", "median"):
        spread[col] = spread[col].astype("float64")
    return by_pair, spread


__all__ = [
    "PAIR_SUMMARY_COLUMNS",
    "PAIR_SUMMARY_DOCS",
    "PAIR_TABLE_COLUMNS",
    "PAIR_TABLE_DOCS",
    "pair_frames",
    "pair_rows",
    "pair_summary_rows",
]
