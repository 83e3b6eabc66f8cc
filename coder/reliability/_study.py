"""The whole reliability document of one analysed set: items, pairs, composites, subset.

:func:`study_reliability` runs :func:`reliability_report` and
:func:`reliability_by_pair` once on the same long data and adds what a paper reports
beside them; :class:`StudyReliability` holds the typed results, which the CLI's JSON
(:meth:`StudyReliability.to_json`), its text (:func:`format_study`), the exports and
the methods paragraph all read, so every number is computed once.

Composites (subscales and totals) are further item ids of the long data (their
scores derived by :meth:`coder.scales.RatingScale.composite_scores` when a project
is read), so they get every item statistic as rows of ``items``; the ``composites``
section adds what only a composite has: Cronbach's alpha of its items.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from coder.reliability._agreement import cronbach_alpha
from coder.reliability._common import Statistic, json_number
from coder.reliability._io import validate_long_frame
from coder.reliability._pair_summary import (
    PairSummary,
    by_pair_json,
    format_pair_tables,
    pair_form,
    pair_summary_json,
    summarize_pairs,
)
from coder.reliability._report import (
    ReliabilityByPair,
    ReliabilityReport,
    _by_pair,
    _categories,
    _Plans,
    _prepare,
    _Prepared,
    _report_of,
    _VcOptions,
    format_report_table,
    reliability_report,
)


@dataclass(frozen=True, slots=True)
class CompositeAlpha:
    """Cronbach's alpha of one composite's items.

    Attributes:
        composite_id: The composite (an item id of the report).
        items: Its items, in the scale's order.
        alpha: Cronbach's alpha with the Feldt 95 % interval; ``n`` = codings used
            (every coding of the analysed set with all of the composite's items scored).
    """

    composite_id: str
    items: tuple[str, ...]
    alpha: Statistic

    def to_json(self) -> dict[str, Any]:
        """Return ``{"items": [...], "cronbach_alpha": {value, n, ci95[, why]}}``."""
        return {"items": list(self.items), "cronbach_alpha": self.alpha.to_dict()}


@dataclass(frozen=True, slots=True)
class Subset:
    """Which sessions were analysed: the conditions and how many sessions met them.

    Attributes:
        where: ``(column, (values...))`` conditions, all of which a session meets
            (a session meets one when its column equals any of the values).
        n_sessions: Sessions of the project meeting them (coded or not).
    """

    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    n_sessions: int | None = None

    def to_json(self) -> dict[str, Any]:
        """Return ``{"where": {COLUMN: [VALUE, ...]}, "n_sessions": n}``."""
        return {
            "where": {column: list(values) for column, values in self.where},
            "n_sessions": self.n_sessions,
        }

    def describe(self) -> str:
        """The conditions in words, e.g. ``"session_number = 1 and phase = early or mid"``."""
        return " and ".join(f"{c} = {' or '.join(v)}" for c, v in self.where)


@dataclass(frozen=True, slots=True)
class StudyReliability:
    """Everything the reliability command reports on one analysed set.

    Attributes:
        report: The item report (items and composites).
        by_pair: The item reports per rater pair.
        pair_summary: Each ICC form of each item over the pairs.
        fixed: Items whose every rating in the analysed set is the same value
            (item -> that value): structurally fixed, not unreliable (for instance a
            review item in session 1, where there is nothing to review yet).
        composites: Cronbach's alpha of each composite, by composite id.
        subset: The session conditions (empty: every session).
        training: The report of the training (calibration) sessions coded by all
            raters, when asked for (``--include-training``), else None.
        n_training_sessions: Training sessions in ``training``.
    """

    report: ReliabilityReport
    by_pair: ReliabilityByPair
    pair_summary: PairSummary
    fixed: Mapping[str, float]
    composites: Mapping[str, CompositeAlpha] = field(default_factory=dict)
    subset: Subset = field(default_factory=Subset)
    training: ReliabilityReport | None = None
    n_training_sessions: int = 0

    def to_json(self) -> dict[str, Any]:
        """The reliability JSON (strict): the report's ``items`` plus the added keys.

        Per item ``structurally_fixed`` (bool) and ``fixed_value`` (the one value, or
        null); at the top level ``by_pair``, ``pair_summary``, ``composites``
        (``{ID: {"items", "cronbach_alpha"}}``), ``subset`` and, with training,
        ``training`` (``{"n_sessions", "form": "ICC2k", "items": {...}}``).
        """
        doc = self.report.to_json()
        for item_id, item in doc["items"].items():
            value = self.fixed.get(item_id)
            item["structurally_fixed"] = value is not None
            item["fixed_value"] = (
                int(value) if value is not None and value.is_integer() else json_number(value)
            )
        doc["by_pair"] = by_pair_json(self.by_pair)
        doc["pair_summary"] = pair_summary_json(self.pair_summary)
        doc["composites"] = {cid: c.to_json() for cid, c in self.composites.items()}
        doc["subset"] = self.subset.to_json()
        if self.training is not None:
            doc["training"] = {
                "n_sessions": self.n_training_sessions,
                "form": "ICC2k",
                "items": self.training.to_json()["items"],
            }
        return doc


def fixed_items(long_df: pd.DataFrame) -> dict[str, float]:
    """Items whose every present score is one and the same value (item -> value)."""
    return _fixed_values(_prepare(long_df))


def _fixed_values(prep: _Prepared) -> dict[str, float]:
    out: dict[str, float] = {}
    for i, item in enumerate(prep.items):
        scores = prep.item_rows(i)[2]
        scores = scores[np.isfinite(scores)]
        if scores.size and float(scores.min()) == float(scores.max()):
            out[item] = float(scores[0])
    return out


def composite_alphas(
    long_df: pd.DataFrame, composites: Mapping[str, Sequence[str]]
) -> dict[str, CompositeAlpha]:
    """Cronbach's alpha of each composite over the codings of the long data.

    Each coding (session x rater) is one case and each of the composite's items one
    variable; codings missing one of the items are left out (listwise, as
    :func:`cronbach_alpha`).

    Args:
        long_df: Long rating data (``session_id, rater_id, item_id, score``).
        composites: ``{composite id: its item ids}``.

    Returns:
        ``{composite id: CompositeAlpha}``, in the order given.
    """
    out: dict[str, CompositeAlpha] = {}
    wide = long_df.pivot_table(
        index=["session_id", "rater_id"],
        columns="item_id",
        values="score",
        aggfunc="first",
        dropna=False,
    )
    for cid, items in composites.items():
        items = tuple(items)
        columns = [wide[i].to_numpy(dtype=float) if i in wide else None for i in items]
        if not items or any(c is None for c in columns) or wide.empty:
            matrix = np.zeros((0, len(items)))
        else:
            matrix = np.column_stack([c for c in columns if c is not None])
        out[cid] = CompositeAlpha(cid, items, cronbach_alpha(matrix))
    return out


def study_reliability(
    long_df: pd.DataFrame,
    ranges: Mapping[str, tuple[int, int]] | None = None,
    *,
    composites: Mapping[str, Sequence[str]] | None = None,
    subset: Subset | None = None,
    training: pd.DataFrame | None = None,
    scale_default: str | None = None,
    icc_k: float | None = None,
    kinds: Mapping[str, str | None] | None = None,
    kappa_weights: str | None = None,
    alpha_level: str | None = None,
    vc_bootstrap: bool = True,
) -> StudyReliability:
    """The reliability document of one analysed set (see the module docstring).

    Args:
        long_df: Long rating data of the analysed sessions (items and composites).
        ranges: Category ranges, as for :func:`reliability_report`.
        composites: ``{composite id: item ids}`` for the ``composites`` section.
        subset: The session conditions the data were selected with.
        training: Long rating data of the training sessions (every rater's coding),
            or None when not asked for.
        scale_default: The scale file's ``reliability.icc``, for the headline form
            (as :func:`reliability_report`).
        icc_k: The k of the variance-component ICC(.,k) forms (as
            :func:`reliability_report`).
        kinds: Item kinds, which decide the statistics (as :func:`reliability_report`).
        kappa_weights: The reported kappa (as :func:`reliability_report`).
        alpha_level: The reported Krippendorff level (as :func:`reliability_report`).
        vc_bootstrap: Bootstrap intervals of the variance-component ICCs (as
            :func:`reliability_report`).

    Returns:
        The :class:`StudyReliability`.

    Raises:
        InputError: Malformed data, as :func:`reliability_report`.
    """
    how: dict[str, Any] = {
        "kinds": kinds,
        "kappa_weights": kappa_weights,
        "alpha_level": alpha_level,
    }
    # One reading of the data (ids numbered, sorted, checked) serves the report, the
    # pairs and the fixed items.
    prep = _prepare(long_df)
    categories = _categories(prep, ranges)
    plans = _Plans.of(kinds, kappa_weights, alpha_level)
    options = _VcOptions(scale_default=scale_default, icc_k=icc_k, bootstrap=vc_bootstrap)
    report = _report_of(prep, categories, plans, options)
    by_pair = _by_pair(prep, categories, plans)
    alphas = (
        composite_alphas(validate_long_frame(long_df, check_duplicates=False), composites)
        if composites
        else {}
    )
    train_report = None
    n_train = 0
    if training is not None:
        train_report = reliability_report(
            training, ranges, **how, scale_default="ICC2k", vc_bootstrap=vc_bootstrap
        )
        n_train = int(training["session_id"].nunique()) if not training.empty else 0
    return StudyReliability(
        report=report,
        by_pair=by_pair,
        pair_summary=summarize_pairs(by_pair),
        fixed=_fixed_values(prep),
        composites=alphas,
        subset=subset or Subset(),
        training=train_report,
        n_training_sessions=n_train,
    )


def headline_pair_form(study: StudyReliability, default: str = "ICC2") -> str:
    """The Shrout & Fleiss form the per-pair tables lead with.

    The per-pair counterpart (:func:`pair_form`) of the first item's recommended
    form, or ``default`` when no item has one.
    """
    for item in study.report.items.values():
        if item.recommended_form is not None:
            return pair_form(item.recommended_form)
    return default


def _fmt(stat: Statistic) -> str:
    return "n/a" if stat.value is None else f"{stat.value:.3f}"


def format_study(study: StudyReliability, form: str | None = None) -> str:
    """The CLI's text: the item tables, then pairs, composites, fixed items, training.

    Args:
        study: The document.
        form: The ICC form the per-pair tables show; None for
            :func:`headline_pair_form`.

    Returns:
        The text, without a trailing newline.
    """
    lines: list[str] = []
    if study.subset.where:
        lines += [f"Subset: sessions with {study.subset.describe()}", ""]
    lines.append(format_report_table(study.report))
    if study.fixed:
        shown = ", ".join(f"{i} (always {v:g})" for i, v in study.fixed.items())
        lines += ["", f"Structurally fixed in these data (no variance to agree on): {shown}"]
    pair_lines = format_pair_tables(
        study.by_pair, study.pair_summary, form or headline_pair_form(study)
    )
    if pair_lines:
        lines += ["", *pair_lines]
    if study.composites:
        lines += ["", "Cronbach's alpha of each composite (codings with all its items)"]
        for cid, comp in study.composites.items():
            a = comp.alpha
            ci = (
                f" [{a.ci95[0]:.2f}, {a.ci95[1]:.2f}]"
                if a.value is not None and a.ci95 is not None
                else ""
            )
            why = f" ({a.why})" if a.value is None and a.why else ""
            lines.append(
                f"- {cid} ({len(comp.items)} items, n = {a.n}): alpha = {_fmt(a)}{ci}{why}"
            )
    if study.training is not None:
        lines += ["", f"Training sessions coded by all raters: {study.n_training_sessions}"]
        for item_id, item in study.training.items.items():
            stat = item.icc["ICC2k"]
            value = "n/a" if stat.value is None else f"{stat.value:.3f}"
            lines.append(f"- {item_id}: ICC(2,k) = {value} (k = {item.k}, n = {item.n_sessions})")
    return "\n".join(lines)


__all__ = [
    "CompositeAlpha",
    "StudyReliability",
    "Subset",
    "composite_alphas",
    "fixed_items",
    "format_study",
    "headline_pair_form",
    "study_reliability",
]
