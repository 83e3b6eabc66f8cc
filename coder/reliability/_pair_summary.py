"""Per-pair ICC tables and their summary over pairs (issue 11, as papers report them).

Haller & Watzke report an ICC per rater pair, summarised by its range, mean and
median over the pairs. The per-pair statistics are :func:`reliability_by_pair`'s
(one :class:`PairReport` per pair, the two raters' shared sessions, a fully crossed
two-rater design); this module only summarises and presents them:

- :func:`summarize_pairs` gives ``{item: {form: PairSpread}}``: over the pairs where
  the form is defined, their number, the sessions they rest on, min, max, mean and
  median (a pair whose ICC is not defined, e.g. one shared session, is left out and
  counted in ``n_undefined``);
- :func:`by_pair_json` and :func:`pair_summary_json` give the ``by_pair`` and
  ``pair_summary`` keys of the reliability JSON;
- :func:`format_pair_tables` the CLI's plain-text tables.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from coder.reliability._common import json_number
from coder.reliability._icc import ICC_FORMS
from coder.reliability._report import PairReport, ReliabilityByPair, _table


@dataclass(frozen=True, slots=True)
class PairSpread:
    """One ICC form of one item summarised over the rater pairs.

    Attributes:
        n_pairs: Pairs where the form is defined (the ones summarised).
        n_sessions: Shared sessions of those pairs, summed (each double-coded
            session belongs to exactly one pair of the reliability data).
        n_undefined: Pairs where the form is not defined (too few sessions, no
            variance), left out of the summary.
        min: Lowest value over the pairs (None when ``n_pairs`` is 0).
        max: Highest value.
        mean: Arithmetic mean of the pairs' values (unweighted: each pair counts once).
        median: Median of the pairs' values.
    """

    n_pairs: int
    n_sessions: int
    n_undefined: int
    min: float | None
    max: float | None
    mean: float | None
    median: float | None

    def to_json(self) -> dict[str, Any]:
        """Return ``{"n_pairs", "n_sessions", "n_undefined", "min", "max", "mean", "median"}``."""
        return {
            "n_pairs": self.n_pairs,
            "n_sessions": self.n_sessions,
            "n_undefined": self.n_undefined,
            "min": json_number(self.min),
            "max": json_number(self.max),
            "mean": json_number(self.mean),
            "median": json_number(self.median),
        }


PairSummary = Mapping[str, Mapping[str, PairSpread]]
"""``{item: {ICC form: PairSpread}}``, items in the order of the pair reports."""


def _spread(pairs: Sequence[PairReport], item: str, form: str) -> PairSpread:
    values: list[float] = []
    sessions = 0
    undefined = 0
    for pair in pairs:
        report = pair.items.get(item)
        if report is None:
            continue
        value = report.icc[form].value
        if value is None:
            undefined += 1
            continue
        values.append(float(value))
        sessions += report.n_sessions
    if not values:
        return PairSpread(0, 0, undefined, None, None, None, None)
    return PairSpread(
        n_pairs=len(values),
        n_sessions=sessions,
        n_undefined=undefined,
        min=min(values),
        max=max(values),
        mean=statistics.fmean(values),
        median=statistics.median(values),
    )


def summarize_pairs(by_pair: ReliabilityByPair, forms: Sequence[str] = ICC_FORMS) -> PairSummary:
    """Summarise every ICC form of every item over the rater pairs.

    Args:
        by_pair: The result of :func:`reliability_by_pair`.
        forms: The ICC forms to summarise (default: all six).

    Returns:
        ``{item: {form: PairSpread}}`` for every item of any pair, in first-seen order.
        ``n_sessions`` of a spread counts the sessions of the item's ICC (listwise)
        in the pairs summarised.
    """
    items: dict[str, None] = {}
    for pair in by_pair.pairs:
        items.update(dict.fromkeys(pair.items))
    return {item: {form: _spread(by_pair.pairs, item, form) for form in forms} for item in items}


def by_pair_json(by_pair: ReliabilityByPair) -> list[dict[str, Any]]:
    """The ``by_pair`` key: ``[{"raters": [a, b], "n", "items": {ITEM: {"icc", ...}}}]``.

    ``n`` is the pair's shared sessions; per item ``icc`` holds the same six forms as
    the report's items (``n_sessions`` and ``k`` beside it: sessions in the ICC
    after listwise deletion, and coders per session).
    """
    out = []
    for pair in by_pair.pairs:
        out.append(
            {
                "raters": list(pair.raters),
                "n": pair.n_sessions,
                "items": {
                    item_id: {
                        "icc": item.icc.to_dict(),
                        "n_sessions": item.n_sessions,
                        "k": item.k,
                    }
                    for item_id, item in pair.items.items()
                },
            }
        )
    return out


def pair_summary_json(summary: PairSummary) -> dict[str, dict[str, dict[str, Any]]]:
    """The ``pair_summary`` key: ``{ITEM: {FORM: {n_pairs, min, max, mean, median, ...}}}``."""
    return {
        item: {form: spread.to_json() for form, spread in forms.items()}
        for item, forms in summary.items()
    }


#: The Shrout & Fleiss form of a pair (a crossed two-rater design) that equals a
#: variance-component form in the crossed case; other keys map to themselves.
PAIR_FORM_OF: Mapping[str, str] = {
    "ICC_A1": "ICC2",
    "ICC_Ak": "ICC2k",
    "ICC_C1": "ICC3",
    "ICC_Ck": "ICC3k",
}


def pair_form(form: str) -> str:
    """The per-pair form that reports ``form`` (a key of ``icc`` or ``icc_vc``) per pair.

    A pair of raters on their shared sessions is fully crossed, where ICC(A,1) of the
    variance components is the Shrout & Fleiss ICC(2,1), and so on
    (:data:`PAIR_FORM_OF`).
    """
    return PAIR_FORM_OF.get(form, form)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def format_pair_tables(
    by_pair: ReliabilityByPair, summary: PairSummary, form: str = "ICC2"
) -> list[str]:
    """The CLI's per-pair table and the summary over pairs, of one ICC form.

    The JSON (:func:`by_pair_json`, :func:`pair_summary_json`) holds every form; the
    text keeps to the form the report leads with, so the tables stay readable.

    Args:
        by_pair: The per-pair reports.
        summary: Their :func:`summarize_pairs`.
        form: The form of the per-pair table (the scale's reported form).

    Returns:
        Text lines (no trailing newline); empty when no pair shares a session.
    """
    if not by_pair.pairs:
        return []
    items = list(summary)
    lines = [f"{form} per rater pair (n = shared sessions)"]
    rows = [
        [f"{a} & {b}", str(pair.n_sessions)]
        + [_fmt(pair.items[i].icc[form].value) if i in pair.items else "n/a" for i in items]
        for pair in by_pair.pairs
        for a, b in (pair.raters,)
    ]
    lines += _table(["pair", "n", *items], rows, left=(0,))
    lines += ["", f"{form} over rater pairs (the pairs where it is defined)"]
    rows = []
    for item in items:
        spread = summary[item].get(form)
        if spread is None:
            continue
        rows.append(
            [
                item,
                str(spread.n_pairs),
                str(spread.n_sessions),
                _fmt(spread.min),
                _fmt(spread.max),
                _fmt(spread.mean),
                _fmt(spread.median),
            ]
        )
    lines += _table(["item", "pairs", "sessions", "min", "max", "mean", "median"], rows, left=(0,))
    return lines


__all__ = [
    "PAIR_FORM_OF",
    "PairSpread",
    "PairSummary",
    "by_pair_json",
    "format_pair_tables",
    "pair_form",
    "pair_summary_json",
    "summarize_pairs",
]
