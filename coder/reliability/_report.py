"""Design check and the reliability report of long rating data (SPEC sections 5 and 9)."""

from __future__ import annotations

import datetime as _dt
import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from coder.errors import InputError
from coder.reliability._agreement import (
    Agreement,
    agreement_counts,
    agreement_from_counts,
)
from coder.reliability._alpha_boot import alpha_intervals
from coder.reliability._chance import (
    chance_agreement_from_units,
    chance_keys,
    coefficients_of_profiles,
    pair_profiles,
    weight_matrix,
)
from coder.reliability._common import (
    FloatArray,
    IntArray,
    Statistic,
    format_value,
    undefined,
)
from coder.reliability._icc import (
    ICC_FORMS,
    ICC_LABELS,
    IccForm,
    IccResult,
    complete_rows,
    icc,
)
from coder.reliability._io import LONG_COLUMNS, id_codes, score_array, validate_long_frame
from coder.reliability._kappa import (
    KAPPA_WEIGHTS,
    MAX_KAPPA_CATEGORIES,
    KappaWeights,
    kappa_from_positions,
)
from coder.reliability._kinds import StatisticPlan, statistics_for
from coder.reliability._krippendorff import ALPHA_LEVELS, alphas_from_units
from coder.reliability._pairs import (
    MAX_TABLE_CATEGORIES,
    PairReliability,
    pair_reliability_items,
    pair_tables,
)
from coder.reliability._recommend import Recommendation, recommend_form
from coder.reliability._vc import VC_FORMS, VC_LABELS, IccVc, VcForm, fit_variance_components

DesignName = Literal["crossed", "varying_pairs", "varying_raters", "one_way", "not_double_coded"]

#: How each design reads in a table (the report's text table and the GUI's items view).
DESIGN_LABELS: Mapping[str, str] = {
    "crossed": "crossed",
    "varying_pairs": "varying pairs",
    "varying_raters": "varying raters",
    "one_way": "one-way",
    "not_double_coded": "not double-coded",
}

CategorySource = Literal["range", "observed"]


@dataclass(frozen=True, slots=True)
class ItemDesign:
    """Who coded what for one item, and the n x k matrix the ICC and kappa use.

    Attributes:
        item_id: The item.
        design: ``"crossed"`` (the same raters on every double-coded session),
            ``"varying_pairs"`` (two raters per session, pairs vary),
            ``"varying_raters"`` (sets of raters vary and sessions have different
            numbers of raters, or more than two) or ``"not_double_coded"``.
        k: Columns of ``matrix``: coders per session.
        columns: Rater ids for a crossed design; coder slots ``"A"``, ``"B"``, ...
            otherwise (A = the lowest rater id of the session in string order).
        raters: Every rater who coded a double-coded session, in string order.
        sessions: Row labels of ``matrix``.
        matrix: Scores, sessions x k, NaN where a coder left the item blank; before
            listwise deletion (use :func:`complete_rows`).
        n_double_coded: Sessions of this item with two or more coders.
        n_excluded: Double-coded sessions left out of ``matrix`` because they have
            another number of coders than ``k`` (only in ``"varying_raters"``).
        note: One or two sentences for the report: the design and its caveat.
    """

    item_id: str
    design: DesignName
    k: int
    columns: tuple[str, ...]
    raters: tuple[str, ...]
    sessions: tuple[str, ...]
    matrix: FloatArray
    n_double_coded: int
    n_excluded: int
    note: str


@dataclass(frozen=True, slots=True)
class CategoryRange:
    """The categories of one item: its full range, or the observed min..max.

    Attributes:
        lo: The lowest category (None when the item has no score at all).
        hi: The highest category (None likewise).
        source: ``"range"`` (given by the scale or ``--range``) or ``"observed"``.
    """

    lo: float | None
    hi: float | None
    source: CategorySource

    def to_json(self) -> list[int | float | None]:
        """Return ``[min, max]`` as in SPEC section 9 (whole numbers as integers)."""
        return [_json_category(self.lo), _json_category(self.hi)]


def _json_category(x: float | None) -> int | float | None:
    if x is None:
        return None
    return int(x) if float(x).is_integer() else float(x)


STATISTIC_GROUPS = ("icc", "kappa", "krippendorff_alpha", "agreement", "agreement_coefficients")
"""The groups of statistics of an item, in the order of the JSON document."""


@dataclass(frozen=True, slots=True)
class ItemReliability:
    """The reliability of one item (or composite): design check and every statistic.

    Numbers stay numbers: an infinite F is ``math.inf`` and a statistic that is not
    defined has ``value`` None and a ``why``. Only :meth:`to_json` turns them into the
    strict JSON of SPEC section 9.

    Attributes:
        item_id: The item.
        n_sessions: Sessions in the ICC and kappa (after listwise deletion).
        n_raters: Distinct raters on the double-coded sessions.
        design: As :attr:`ItemDesign.design`.
        categories: The category range and where it comes from.
        icc: The six ICC forms.
        kappa: ``{"unweighted", "linear", "quadratic"}`` -> Cohen's kappa.
        krippendorff_alpha: ``{"nominal", "ordinal", "interval"}`` -> alpha.
        agreement: Exact and within-one agreement.
        k: Coders per session in the ICC and kappa.
        n_double_coded: Sessions of this item with two or more coders.
        raters: The raters of :attr:`n_raters`, in string order.
        design_note: The design and its caveat in words.
        kind: The item kind the statistics follow (:func:`statistics_for`), or None.
        kappa_weights: The kappa the scale reports for this item (None when kappa does
            not apply), also the weights of :attr:`agreement_coefficients`.
        alpha_level: The Krippendorff level the scale reports for this item.
        agreement_coefficients: ``{"fleiss_kappa", "gwet_ac1" or "gwet_ac2",
            "brennan_prediger"}`` -> :class:`Statistic` with ``se`` and ``ci95``.
        icc_vc: ICC(A,1), ICC(A,k), ICC(C,1), ICC(C,k) from the variance components
            of the crossed random-effects model (None where not computed, e.g. in
            per-pair reports).
        recommendation: The headline form and why (:func:`recommend_form`).
    """

    item_id: str
    n_sessions: int
    n_raters: int
    design: DesignName
    categories: CategoryRange
    icc: IccResult
    kappa: Mapping[str, Statistic]
    krippendorff_alpha: Mapping[str, Statistic]
    agreement: Agreement
    k: int
    n_double_coded: int
    raters: tuple[str, ...]
    design_note: str
    kind: str | None = None
    kappa_weights: str | None = "quadratic"
    alpha_level: str = "ordinal"
    agreement_coefficients: Mapping[str, Statistic] = field(default_factory=dict)
    icc_vc: IccVc | None = None
    recommendation: Recommendation | None = None

    @property
    def recommended_form(self) -> str | None:
        """The key of the headline form in ``icc`` or ``icc_vc`` (None if none)."""
        return self.recommendation.form if self.recommendation else None

    def groups(self) -> dict[str, Mapping[str, IccForm | Statistic]]:
        """Every statistic by group (:data:`STATISTIC_GROUPS`) and key, in JSON order."""
        return {
            "icc": self.icc.forms,
            "kappa": self.kappa,
            "krippendorff_alpha": self.krippendorff_alpha,
            "agreement": {"exact": self.agreement.exact, "within_one": self.agreement.within_one},
            "agreement_coefficients": self.agreement_coefficients,
        }

    def to_json(self) -> dict[str, Any]:
        """Return the item's object of the SPEC section 9 document (strict JSON)."""
        return {
            "n_sessions": self.n_sessions,
            "n_raters": self.n_raters,
            "design": self.design,
            "categories": self.categories.to_json(),
            "category_source": self.categories.source,
            "icc": self.icc.to_dict(),
            "kappa": {w: s.to_dict() for w, s in self.kappa.items()},
            "krippendorff_alpha": {
                level: s.to_dict() for level, s in self.krippendorff_alpha.items()
            },
            "agreement": self.agreement.to_dict(),
            "k": self.k,
            "n_double_coded": self.n_double_coded,
            "raters": list(self.raters),
            "design_note": self.design_note,
            "kind": self.kind,
            "kappa_weights": self.kappa_weights,
            "alpha_level": self.alpha_level,
            "agreement_coefficients": {
                key: s.to_dict() for key, s in self.agreement_coefficients.items()
            },
            "recommended_form": self.recommended_form,
            "recommended": self.recommendation.to_dict() if self.recommendation else None,
            "icc_vc": self.icc_vc.to_dict() if self.icc_vc else None,
        }


def _items_json(items: Mapping[str, ItemReliability]) -> dict[str, dict[str, Any]]:
    return {item_id: item.to_json() for item_id, item in items.items()}


@dataclass(frozen=True, slots=True)
class ReliabilityReport:
    """The result of :func:`reliability_report`.

    Attributes:
        items: ``{item_id: ItemReliability}`` in the order of the report.
    """

    items: Mapping[str, ItemReliability]

    def to_json(self) -> dict[str, Any]:
        """Return the JSON document of SPEC section 9, ``{"items": {...}}``.

        The one place where the report becomes JSON: it passes
        ``json.dumps(..., allow_nan=False)`` and an infinite F is ``"Infinity"``.
        """
        return {"items": _items_json(self.items)}


@dataclass(frozen=True, slots=True)
class PairReport:
    """The reliability of one pair of raters on the sessions both of them coded.

    Attributes:
        raters: ``(a, b)`` with a < b in string order.
        n_sessions: Sessions both raters coded.
        items: The item reports on those sessions and those two raters.
    """

    raters: tuple[str, str]
    n_sessions: int
    items: Mapping[str, ItemReliability]

    def to_json(self) -> dict[str, Any]:
        """Return ``{"raters": [a, b], "n_sessions": n, "items": {...}}``."""
        return {
            "raters": list(self.raters),
            "n_sessions": self.n_sessions,
            "items": _items_json(self.items),
        }


@dataclass(frozen=True, slots=True)
class ReliabilityByPair:
    """The result of :func:`reliability_by_pair`: one report per pair, in string order."""

    pairs: tuple[PairReport, ...]

    def to_json(self) -> dict[str, Any]:
        """Return ``{"pairs": [...]}`` (strict JSON)."""
        return {"pairs": [pair.to_json() for pair in self.pairs]}


@dataclass(frozen=True, slots=True)
class DriftWindow:
    """One block of consecutive double-coded sessions of :func:`reliability_drift`.

    Attributes:
        index: 0 for the first block.
        sessions: The block's sessions, in order.
        first: The order value of the first session, as given (e.g. a datetime).
        last: The order value of the last session.
        items: The item reports on the block's sessions.
    """

    index: int
    sessions: tuple[str, ...]
    first: object
    last: object
    items: Mapping[str, ItemReliability]

    @property
    def n_sessions(self) -> int:
        """Sessions in the block."""
        return len(self.sessions)

    def to_json(self) -> dict[str, Any]:
        """Return the block's JSON object; dates become ISO text."""
        return {
            "index": self.index,
            "n_sessions": self.n_sessions,
            "first": _json_order_value(self.first),
            "last": _json_order_value(self.last),
            "sessions": list(self.sessions),
            "items": _items_json(self.items),
        }


@dataclass(frozen=True, slots=True)
class ReliabilityDrift:
    """The result of :func:`reliability_drift`.

    Attributes:
        window: Sessions per block (the last block may hold fewer).
        windows: The blocks, in order.
    """

    window: int
    windows: tuple[DriftWindow, ...]

    def to_json(self) -> dict[str, Any]:
        """Return ``{"window": n, "windows": [...]}`` (strict JSON)."""
        return {"window": self.window, "windows": [w.to_json() for w in self.windows]}


@dataclass(frozen=True, slots=True)
class _Prepared:
    """Long data sorted by (item, session, rater), ids replaced by integer codes."""

    items: list[str]
    session_names: npt.NDArray[np.object_]
    rater_names: npt.NDArray[np.object_]  # in string order: codes compare like the ids
    session: IntArray
    rater: IntArray
    score: FloatArray
    bounds: IntArray  # rows of item i are bounds[i]:bounds[i + 1]
    rows: IntArray  # position of each row in the long data

    def item_rows(self, i: int) -> tuple[IntArray, IntArray, FloatArray]:
        lo, hi = int(self.bounds[i]), int(self.bounds[i + 1])
        return self.session[lo:hi], self.rater[lo:hi], self.score[lo:hi]


def _prepare(long_df: pd.DataFrame) -> _Prepared:
    missing = [c for c in LONG_COLUMNS if c not in long_df.columns]
    if missing:
        raise InputError(
            f"rating data: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}; it needs {','.join(LONG_COLUMNS)}"
        )
    item_codes, item_names = id_codes(long_df["item_id"], "item_id")
    session_codes, session_names = id_codes(long_df["session_id"], "session_id")
    rater_codes, rater_names = id_codes(long_df["rater_id"], "rater_id", sort=True)
    scores = score_array(long_df["score"])
    order = np.lexsort((rater_codes, session_codes, item_codes))
    item_s = item_codes[order]
    session_s = session_codes[order]
    rater_s = rater_codes[order]
    if order.size > 1:
        same = (
            (item_s[1:] == item_s[:-1])
            & (session_s[1:] == session_s[:-1])
            & (rater_s[1:] == rater_s[:-1])
        )
        if same.any():
            i = int(np.argmax(same))
            first, second = sorted((int(order[i]), int(order[i + 1])))
            raise InputError(
                f"rating data, row {second}: duplicate row for session "
                f"{session_names[session_codes[first]]!r}, rater "
                f"{rater_names[rater_codes[first]]!r}, item {item_names[item_codes[first]]!r} "
                f"(first at row {first}); keep one score per session, rater and item"
            )
    bounds = np.searchsorted(item_s, np.arange(len(item_names) + 1)).astype(np.intp)
    return _Prepared(
        items=item_names,
        session_names=np.asarray(session_names, dtype=object),
        rater_names=np.asarray(rater_names, dtype=object),
        session=session_s,
        rater=rater_s,
        score=scores[order],
        bounds=bounds,
        rows=order.astype(np.intp),
    )


def _slot_names(k: int) -> tuple[str, ...]:
    return tuple(chr(65 + j) if k <= 26 else f"coder {j + 1}" for j in range(k))


def _design(
    item: str,
    session: IntArray,
    rater: IntArray,
    score: FloatArray,
    session_names: npt.NDArray[np.object_],
    rater_names: npt.NDArray[np.object_],
) -> tuple[ItemDesign, IntArray]:
    """Classify the design of one item and build its n x k matrix.

    Returns the design and ``m_s``, the number of coders of every session (rows of
    the item, in session order), which the agreement count reuses.
    """
    n_rows = session.size
    if n_rows == 0:
        empty = ItemDesign(
            item, "not_double_coded", 0, (), (), (), np.zeros((0, 0)), 0, 0,
            "No ratings for this item.",
        )  # fmt: skip
        return empty, np.zeros(0, dtype=np.intp)
    new = np.empty(n_rows, dtype=bool)
    new[0] = True
    np.not_equal(session[1:], session[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    m_s = np.diff(np.append(starts, n_rows))
    double = m_s >= 2
    n_dc = int(np.count_nonzero(double))
    if n_dc == 0:
        none = ItemDesign(
            item, "not_double_coded", 0, (), (), (), np.zeros((0, 0)), 0, 0,
            "No session of this item is coded by two or more raters.",
        )  # fmt: skip
        return none, m_s
    row_dc = np.repeat(double, m_s)
    r_dc = rater[row_dc]
    used = np.flatnonzero(np.bincount(r_dc, minlength=len(rater_names)))
    raters = tuple(rater_names[int(i)] for i in used)
    ms = m_s[double]
    if bool(np.all(ms == ms[0])):
        k = int(ms[0])
        rows = row_dc
        n_excluded = 0
    else:
        values, counts = np.unique(ms, return_counts=True)
        k = int(values[counts == counts.max()].max())
        rows = np.repeat(double & (m_s == k), m_s)
        n_excluded = int(np.count_nonzero(double & (m_s != k)))
    grid = rater[rows].reshape(-1, k)
    matrix = score[rows].reshape(-1, k)
    sessions = tuple(session_names[session[rows][::k]].tolist())
    if n_excluded == 0 and bool(np.all(grid == grid[0])):
        columns = tuple(rater_names[int(r)] for r in grid[0])
        note = (
            f"Fully crossed: the same {k} raters ({', '.join(columns)}) coded all "
            f"{n_dc} double-coded sessions."
        )
        design: DesignName = "crossed"
    else:
        columns = _slot_names(k)
        caveat = (
            "The headline is ICC(A,1) from the variance components (see the recommended "
            "form); the two-way Shrout & Fleiss forms (ICC2, ICC3, ICC2k, ICC3k) and kappa "
            "are computed on coder position (A = the lower rater id in string order, B = "
            "the other), change when rater codes are swapped, and carry that caveat."
        )
        if int(np.bincount(rater).max()) <= 1:
            note = (
                f"One-way: no rater coded more than one session ({len(raters)} raters, each "
                "on a single session), so rater effects cannot be told apart from error; "
                "ICC1 (one-way) is the correct model, and the two-way forms and kappa are "
                "computed on coder position (A = the lowest rater id of the session)."
            )
            design = "one_way"
        elif k == 2 and n_excluded == 0:
            n_pairs = int(np.unique(grid[:, 0] * len(rater_names) + grid[:, 1]).size)
            note = (
                f"Rater pairs vary across sessions ({len(raters)} raters in {n_pairs} "
                f"different pairs). {caveat}"
            )
            design = "varying_pairs"
        else:
            note = (
                f"Raters vary across sessions ({len(raters)} raters; sessions have "
                f"{_coder_counts(ms)} coders). The headline is ICC(A,1) from the variance "
                "components of every rating (see the recommended form); the two-way Shrout & "
                "Fleiss forms (ICC2, ICC3, ICC2k, ICC3k) and kappa are computed on coder "
                "position (A = the lowest rater id of the session in string order, B the "
                "next, ...), change when rater codes are swapped, and carry that caveat."
            )
            if n_excluded:
                note += (
                    f" The ICC and kappa use the {matrix.shape[0]} sessions with {k} coders; "
                    f"{n_excluded} session(s) with another number of coders are left out of "
                    "them (Krippendorff's alpha and agreement use every rating)."
                )
            design = "varying_raters"
    return (
        ItemDesign(item, design, k, columns, raters, sessions, matrix, n_dc, n_excluded, note),
        m_s,
    )


def _coder_counts(ms: IntArray) -> str:
    values = [int(v) for v in np.unique(ms)]
    if len(values) == 1:
        return str(values[0])
    return ", ".join(str(v) for v in values[:-1]) + f" or {values[-1]}"


def check_design(long_df: pd.DataFrame, item_id: str | None = None) -> ItemDesign:
    """Check the coding design of one item of long rating data.

    A session counts as double-coded when two or more raters have a row for the
    item (a blank score still counts as coded; listwise deletion happens later).
    The design is ``"crossed"`` when every double-coded session has the same set of
    raters, ``"varying_pairs"`` when every one has exactly two raters but the pairs
    differ, and ``"varying_raters"`` otherwise; then the matrix uses the most common
    number of coders per session (ties: the larger) and sessions with another
    number are left out of it. Outside a crossed design the columns are coder
    positions: A is the lowest rater id of the session in string order.

    Args:
        long_df: Long data (``session_id,rater_id,item_id,score``).
        item_id: The item; may be None when the data hold a single item.

    Returns:
        The :class:`ItemDesign`, with the n x k matrix before listwise deletion.

    Raises:
        InputError: If the data are malformed, or ``item_id`` is None while there
            are several items, or names an item not in the data.
    """
    prep = _prepare(long_df)
    if item_id is None:
        if len(prep.items) != 1:
            raise InputError(f"rating data hold {len(prep.items)} items; name the item to check")
        index = 0
    else:
        if item_id not in prep.items:
            raise InputError(f"item {item_id!r} is not in the rating data")
        index = prep.items.index(item_id)
    session, rater, score = prep.item_rows(index)
    design, _ = _design(
        prep.items[index], session, rater, score, prep.session_names, prep.rater_names
    )
    return design


def _categories(
    prep: _Prepared, ranges: Mapping[str, tuple[int, int]] | None
) -> dict[str, CategoryRange]:
    """Category range of every item: from ``ranges`` or the observed min..max."""
    out: dict[str, CategoryRange] = {}
    given = dict(ranges or {})
    for item, bounds in given.items():
        try:
            lo, hi = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise InputError(
                f"range for item {item!r}: {bounds!r} is not two numbers; give it as MIN..MAX"
            ) from None
        if not (lo.is_integer() and hi.is_integer()) or lo >= hi:
            raise InputError(
                f"range for item {item!r}: {format_value(lo)}..{format_value(hi)} must be "
                "two whole numbers with MIN below MAX, e.g. 0..6"
            )
        out[str(item)] = CategoryRange(lo, hi, "range")
    for i, item in enumerate(prep.items):
        session, rater, score = prep.item_rows(i)
        present = np.isfinite(score)
        if item in out:
            cat = out[item]
            assert cat.lo is not None and cat.hi is not None
            outside = present & ((score < cat.lo) | (score > cat.hi))
            if outside.any():
                j = int(np.argmax(outside))
                raise InputError(
                    f"item {item!r}: score {format_value(score[j])} of rater "
                    f"{prep.rater_names[int(rater[j])]!r} on session "
                    f"{prep.session_names[int(session[j])]!r} is outside the range "
                    f"{format_value(cat.lo)}..{format_value(cat.hi)}; fix the score or the range"
                )
        elif present.any():
            values = score[present]
            out[item] = CategoryRange(float(values.min()), float(values.max()), "observed")
        else:
            out[item] = CategoryRange(None, None, "observed")
    return out


def _kappas(design: ItemDesign, complete: FloatArray, cat: CategoryRange) -> dict[str, Statistic]:
    if design.k != 2:
        why = (
            "no session is coded by two raters"
            if design.k == 0
            else f"Cohen's kappa is for exactly two coders per session; this item has "
            f"{design.k} (see Krippendorff's alpha)"
        )
        return {w: undefined(why) for w in KAPPA_WEIGHTS}
    n = complete.shape[0]
    if n < 2:
        why = f"needs at least 2 sessions scored by both coders; there {_are(n)}"
        return {w: undefined(why, n) for w in KAPPA_WEIGHTS}
    values = complete.reshape(-1)
    whole = values == np.floor(values)
    if not whole.all():
        why = (
            "kappa needs whole-number categories and these scores are not whole numbers "
            f"(e.g. {format_value(values[~whole][0])}); use the ICC or Krippendorff's alpha "
            "(interval)"
        )
        return {w: undefined(why, n) for w in KAPPA_WEIGHTS}
    assert cat.lo is not None and cat.hi is not None
    lo = math.floor(cat.lo)
    n_cat = int(math.floor(cat.hi)) - lo + 1
    pos = (complete - lo).astype(np.intp)
    pos_a = np.ascontiguousarray(pos[:, 0])
    pos_b = np.ascontiguousarray(pos[:, 1])
    first = float(complete[0, 0])
    return {w: kappa_from_positions(pos_a, pos_b, n_cat, w, first) for w in KAPPA_WEIGHTS}


def _agreement(score: FloatArray, m_s: IntArray) -> Agreement:
    total = exact = near = 0
    for m in np.unique(m_s):
        if m < 2:
            continue
        rows = np.repeat(m_s == m, m_s)
        t, e, w = agreement_counts(score[rows].reshape(-1, int(m)))
        total += t
        exact += e
        near += w
    return agreement_from_counts(total, exact, near)


@dataclass(frozen=True, slots=True)
class _ItemWork:
    """One item between the design check and its statistics."""

    item: str
    design: ItemDesign
    m_s: IntArray
    complete: FloatArray
    session: IntArray
    score: FloatArray
    cat: CategoryRange
    plan: StatisticPlan
    rater: IntArray

    @property
    def two_coders(self) -> bool:
        # Two coders on every double-coded session: one contingency table gives it
        # all (single-rated sessions cannot be paired, so alpha and agreement lose
        # nothing by using the complete pairs only).
        return self.design.k == 2 and self.design.n_excluded == 0

    def kappa_categories(self) -> range | None:
        """The item's whole-number category range, or None when scores are not whole."""
        values = self.complete.reshape(-1)
        cat = self.cat
        if cat.lo is None or cat.hi is None or not bool(np.all(values == np.floor(values))):
            return None
        if cat.hi - cat.lo >= MAX_KAPPA_CATEGORIES:
            return None  # kappa then says why it is not defined
        return range(math.floor(cat.lo), math.floor(cat.hi) + 1)


def _item_work(
    item: str,
    session: IntArray,
    rater: IntArray,
    score: FloatArray,
    prep: _Prepared,
    cat: CategoryRange,
    plan: StatisticPlan,
) -> _ItemWork:
    design, m_s = _design(item, session, rater, score, prep.session_names, prep.rater_names)
    complete = complete_rows(design.matrix) if design.k else np.zeros((0, 0))
    return _ItemWork(item, design, m_s, complete, session, score, cat, plan, rater)


@dataclass(frozen=True, slots=True)
class _VcOptions:
    """How the report fits the variance components and picks the headline form.

    Attributes:
        fit: Fit the variance-component model (off for per-pair reports, which are
            crossed two-rater designs).
        scale_default: The scale file's ``reliability.icc``, or None.
        icc_k: The k of the ICC(.,k) forms; None for the coders per session.
        bootstrap: Give the ICCs their parametric bootstrap intervals.
    """

    fit: bool = True
    scale_default: str | None = None
    icc_k: float | None = None
    bootstrap: bool = True


def _vc_of(work: _ItemWork, options: _VcOptions) -> IccVc | None:
    if not options.fit or work.design.k == 0 or not work.plan.icc:
        return None
    k = float(options.icc_k) if options.icc_k is not None else float(work.design.k)
    return fit_variance_components(
        work.session, work.rater, work.score, k=k, bootstrap=None if options.bootstrap else 0
    )


def _item_report(
    work: _ItemWork,
    pair: PairReliability | None,
    options: _VcOptions = _VcOptions(),
    alpha_ci: bool = True,
    chance: dict[str, Statistic] | None = None,
) -> ItemReliability:
    design = work.design
    plan = work.plan
    if pair is not None:
        icc_result = pair.icc
        kappas = dict(pair.kappa)
        alphas = dict(pair.krippendorff_alpha)
        agree = pair.agreement
    else:
        icc_result = icc(work.complete) if design.k and plan.icc else _no_icc(design.note)
        kappas = _kappas(design, work.complete, work.cat)
        alphas = alphas_from_units(work.session, work.score, ALPHA_LEVELS)
        agree = _agreement(work.score, work.m_s)
    # The item's kind decides which statistics apply (coder.reliability._kinds); the
    # others keep their keys, with no value and the reason.
    why_not = plan.why_not
    if not plan.icc:
        icc_result = _no_icc(why_not[0].upper() + why_not[1:] + ".")
    kappas = {w: s if w in plan.kappa else undefined(why_not) for w, s in kappas.items()}
    alphas = {lv: s if lv in plan.alpha else undefined(why_not) for lv, s in alphas.items()}
    if not (plan.exact and plan.within_one):
        agree = Agreement(
            agree.exact if plan.exact else undefined(why_not),
            agree.within_one if plan.within_one else undefined(why_not),
        )
    if alpha_ci:
        wanted = [lv for lv in plan.alpha if alphas[lv].value is not None]
        if wanted:
            intervals = alpha_intervals(work.session, work.score, wanted)
            alphas = {
                lv: replace(s, ci95=intervals.get(lv)) if intervals.get(lv) else s
                for lv, s in alphas.items()
            }
    icc_vc = _vc_of(work, options)
    return ItemReliability(
        item_id=work.item,
        n_sessions=int(work.complete.shape[0]),
        n_raters=len(design.raters),
        design=design.design,
        categories=work.cat,
        icc=icc_result,
        kappa=kappas,
        krippendorff_alpha=alphas,
        agreement=agree,
        k=design.k,
        n_double_coded=design.n_double_coded,
        raters=design.raters,
        design_note=design.note,
        kind=plan.kind,
        kappa_weights=plan.kappa_weights,
        alpha_level=plan.alpha_level,
        agreement_coefficients=_chance(work) if chance is None else chance,
        icc_vc=icc_vc,
        recommendation=recommend_form(
            design.design, design.k, icc_result, icc_vc, options.scale_default
        )
        if plan.icc
        else Recommendation(None, None, "", None, None, f"No ICC: {why_not}.", None),
    )


def _chance(work: _ItemWork) -> dict[str, Statistic]:
    """Fleiss' kappa, Gwet's AC1/AC2 and Brennan-Prediger on every observed rating."""
    plan = work.plan
    keys = chance_keys(plan.chance_weights)
    if not plan.chance:
        return dict.fromkeys(keys, undefined(plan.why_not))
    cat = work.cat
    present = np.isfinite(work.score)
    values = work.score[present]
    if cat.lo is None or cat.hi is None or values.size == 0:
        return dict.fromkeys(keys, undefined("no session has two or more ratings"))
    if not bool(np.all(values == np.floor(values))):
        why = (
            "needs whole-number categories and these scores are not whole numbers "
            f"(e.g. {format_value(values[values != np.floor(values)][0])}); use the ICC or "
            "Krippendorff's alpha (interval)"
        )
        return dict.fromkeys(keys, undefined(why))
    if cat.hi - cat.lo >= MAX_KAPPA_CATEGORIES:
        why = f"{format_value(cat.hi - cat.lo + 1)} categories is too many for a category table"
        return dict.fromkeys(keys, undefined(why))
    categories = np.arange(math.floor(cat.lo), math.floor(cat.hi) + 1, dtype=np.float64)
    return chance_agreement_from_units(
        work.session[present], values, categories.tolist(), plan.chance_weights
    )


def _no_icc(note: str) -> IccResult:
    """ICC result for an item without double coding: every form not defined."""
    why = note[0].lower() + note[1:].rstrip(".")
    forms = {
        name: IccForm(name, *ICC_LABELS[name], None, None, 0, 0, None, None, why)
        for name in ICC_FORMS
    }
    return IccResult(0, 0, None, None, None, None, forms, why)


def _are(n: int) -> str:
    return "is 1" if n == 1 else f"are {n}"


def _report_items(
    prep: _Prepared,
    categories: Mapping[str, CategoryRange],
    extra_items: Sequence[str] = (),
    options: _VcOptions = _VcOptions(),
    plans: _Plans | None = None,
    alpha_ci: bool = True,
) -> dict[str, ItemReliability]:
    plans = plans or _Plans.of(None)
    work: list[_ItemWork] = []
    for i, item in enumerate(prep.items):
        session, rater, score = prep.item_rows(i)
        plan = plans.get(item)
        work.append(_item_work(item, session, rater, score, prep, categories[item], plan))
    empty = np.zeros(0, dtype=np.intp)
    for item in extra_items:
        if item not in prep.items:
            plan = plans.get(item)
            work.append(_item_work(item, empty, empty, np.zeros(0), prep, categories[item], plan))
    # All two-coder items in one vectorised pass (pair_reliability_items).
    paired = [w for w in work if w.two_coders]
    results = pair_reliability_items(
        [w.complete for w in paired], [w.kappa_categories() for w in paired]
    )
    by_item = {w.item: r for w, r in zip(paired, results, strict=True)}
    return {w.item: _item_report(w, by_item.get(w.item), options, alpha_ci) for w in work}


def reliability_report(
    long_df: pd.DataFrame,
    ranges: Mapping[str, tuple[int, int]] | None = None,
    kinds: Mapping[str, str | None] | None = None,
    kappa_weights: str | None = None,
    alpha_level: str | None = None,
    *,
    scale_default: str | None = None,
    icc_k: float | None = None,
    vc_bootstrap: bool = True,
) -> ReliabilityReport:
    """Reliability of every item of long rating data (SPEC sections 5 and 9).

    For each item (in order of first appearance, then items named only in
    ``ranges``): the design check (:func:`check_design`), the six ICC forms on the
    sessions with every coder's score (listwise), Cohen's kappa (unweighted, linear,
    quadratic; only with exactly two coders per session, A/B by coder slot),
    Krippendorff's alpha (nominal, ordinal, interval; every observed rating) and
    exact / within-one agreement over (session, rater pair) comparisons, Fleiss'
    kappa, Gwet's AC1/AC2 and Brennan-Prediger with standard errors and intervals
    (:func:`coder.reliability.chance_agreement`, every observed rating), and a
    bootstrap 95 % interval for each alpha (Hayes & Krippendorff 2007, seeded: the
    same data give the same interval). An item's kind decides which statistics apply
    (:func:`coder.reliability.statistics_for`): the others are not defined, with the
    reason "not applicable to ... items".

    Each item is an :class:`ItemReliability`. A statistic that is not defined has
    ``value`` None and a ``why``; an infinite F stays ``math.inf``.
    :meth:`ReliabilityReport.to_json` gives the JSON document of SPEC section 9
    (keys per item: ``n_sessions``, ``n_raters``, ``design``, ``categories``,
    ``category_source``, ``icc``, ``kappa``, ``krippendorff_alpha``, ``agreement``;
    beyond the contract ``k``, ``n_double_coded``, ``raters``, ``design_note``,
    ``kind``, ``kappa_weights``, ``alpha_level`` and ``agreement_coefficients``), where
    an infinite F is ``"Infinity"``.

    Each item also gets the variance-component ICCs (``icc_vc``: REML fit of score ~
    1 + (1|session) + (1|rater) on every rating, :func:`fit_variance_components`) and
    its headline form (``recommended_form`` and ``recommended``, decided by
    :func:`recommend_form` from the design and the scale's default).

    Args:
        long_df: Columns ``session_id``, ``rater_id``, ``item_id``, ``score``
            (score NaN = missing). Composite scores are just further item ids.
        ranges: ``{item_id: (min, max)}``, the full category range of ordinal
            items. Items without a range use the observed min..max. A range for an
            item absent from the data yields an item with no ratings (so a typo shows).
        kinds: ``{item_id: kind}`` (an :class:`~coder.kinds.ItemKind` value or
            ``"composite"``); items not named get every statistic.
        kappa_weights: The scale's reported kappa weights (None: quadratic).
        alpha_level: The scale's reported Krippendorff level (None: ordinal).
        scale_default: The scale file's ``reliability.icc`` (e.g. ``"ICC2"``): its
            unit (single rater or mean of k) is the intent the headline follows, and a
            default that does not fit the design is reported as such.
        icc_k: The k of ICC(A,k) and ICC(C,k) of the variance components; None for
            the coders per double-coded session.
        vc_bootstrap: Give the variance-component ICCs their parametric bootstrap
            intervals (the default). False leaves ``ci95`` None and ``ci_method`` null:
            the bootstrap refits the model a few hundred times per item, most of the
            report's time on large data.

    Returns:
        The :class:`ReliabilityReport`.

    Raises:
        InputError: Malformed data (missing column, non-numeric score, duplicate
            (session, rater, item)), a malformed range, a score outside its range, or
            an unknown kind, weights or level.
    """
    prep = _prepare(long_df)
    return _report_of(
        prep,
        _categories(prep, ranges),
        _Plans.of(kinds, kappa_weights, alpha_level),
        _VcOptions(scale_default=scale_default, icc_k=icc_k, bootstrap=vc_bootstrap),
    )


def _report_of(
    prep: _Prepared,
    categories: Mapping[str, CategoryRange],
    plans: _Plans,
    options: _VcOptions,
) -> ReliabilityReport:
    """:func:`reliability_report` on prepared data."""
    extra = [item for item in categories if item not in prep.items]
    icc_k = options.icc_k
    if icc_k is not None and not float(icc_k) >= 1.0:
        raise InputError(f"--icc-k {icc_k}: k is the number of raters to average, at least 1")
    return ReliabilityReport(_report_items(prep, categories, extra, options, plans))


@dataclass(frozen=True, slots=True)
class _Plans:
    """:func:`statistics_for` of every item: the named kinds, else ``default``."""

    by_item: Mapping[str, StatisticPlan]
    default: StatisticPlan

    def get(self, item: str) -> StatisticPlan:
        return self.by_item.get(item, self.default)

    @classmethod
    def of(
        cls,
        kinds: Mapping[str, str | None] | None,
        kappa_weights: str | None = None,
        alpha_level: str | None = None,
    ) -> _Plans:
        """The plans, with a bad kind, weights or level as an InputError."""
        try:
            default = statistics_for(None, kappa_weights, alpha_level)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        by_item: dict[str, StatisticPlan] = {}
        for item, kind in (kinds or {}).items():
            try:
                by_item[str(item)] = statistics_for(kind, kappa_weights, alpha_level)
            except ValueError as exc:
                raise InputError(f"item {item!r}: {exc}") from None
        return cls(by_item, default)


def _sub_report(
    long_df: pd.DataFrame,
    categories: Mapping[str, CategoryRange],
    plans: _Plans | None = None,
    options: _VcOptions = _VcOptions(),
) -> dict[str, ItemReliability]:
    # Sub-reports (pairs, drift windows) skip the alpha bootstrap: many small reports,
    # each a thousand resamples, would cost more than the whole report.
    prep = _prepare(long_df)
    return _report_items(
        prep, {item: categories[item] for item in prep.items}, (), options, plans, alpha_ci=False
    )


def reliability_by_pair(
    long_df: pd.DataFrame,
    ranges: Mapping[str, tuple[int, int]] | None = None,
    kinds: Mapping[str, str | None] | None = None,
    kappa_weights: str | None = None,
    alpha_level: str | None = None,
) -> ReliabilityByPair:
    """Reliability of every pair of raters on the sessions both of them coded.

    For each pair (a, b) with a < b in string order that shares at least one
    session: the item reports of :func:`reliability_report` computed on those
    sessions and those two raters only (a fully crossed two-rater design, so
    kappa and every ICC form apply). Category ranges come from ``ranges`` or from
    the observed scores of all the data, so pairs are comparable.

    Args:
        long_df: Long rating data, as for :func:`reliability_report`.
        ranges: As for :func:`reliability_report`.
        kinds: As for :func:`reliability_report`.
        kappa_weights: As for :func:`reliability_report`.
        alpha_level: As for :func:`reliability_report`.

    Returns:
        One :class:`PairReport` per pair, pairs in string order (``to_json()`` gives
        ``{"pairs": [{"raters": [a, b], "n_sessions", "items"}, ...]}``).

    Raises:
        InputError: As :func:`reliability_report`.
    """
    prep = _prepare(long_df)
    categories = _categories(prep, ranges)
    return _by_pair(prep, categories, _Plans.of(kinds, kappa_weights, alpha_level))


@dataclass(frozen=True, slots=True)
class _PairEntries:
    """Every (rater pair, shared session), sorted by pair (in string order) then session.

    ``pair_a``/``pair_b`` are the rater codes of each pair; entries of pair p are
    ``bounds[p]:bounds[p + 1]`` of ``session``.
    """

    pair_a: IntArray
    pair_b: IntArray
    bounds: IntArray
    session: IntArray
    entry_a: IntArray
    entry_b: IntArray


#: Cells of the pair tables tabulated at once (bounds the memory of wide ranges).
_TABLE_CELLS = 1 << 22


def _pair_entries(prep: _Prepared) -> _PairEntries:
    """The raters of each session (any item), and every pair of them on it."""
    n_r = max(len(prep.rater_names), 1)
    key = np.unique(prep.session.astype(np.int64) * n_r + prep.rater)
    sess, rater = key // n_r, key % n_r
    starts = np.flatnonzero(np.r_[True, sess[1:] != sess[:-1]]) if key.size else key[:0]
    sizes = np.diff(np.r_[starts, key.size])
    a_parts, b_parts, s_parts = [], [], []
    for m in np.unique(sizes):
        if m < 2:
            continue
        first = starts[sizes == m]
        i, j = np.triu_indices(int(m), 1)
        a_parts.append(rater[first[:, None] + i[None, :]].reshape(-1))
        b_parts.append(rater[first[:, None] + j[None, :]].reshape(-1))
        s_parts.append(np.repeat(sess[first], i.size))
    if not a_parts:
        empty = np.zeros(0, dtype=np.intp)
        return _PairEntries(empty, empty, np.zeros(1, dtype=np.intp), empty, empty, empty)
    a = np.concatenate(a_parts).astype(np.intp)
    b = np.concatenate(b_parts).astype(np.intp)
    session = np.concatenate(s_parts).astype(np.intp)
    order = np.lexsort((session, b, a))
    a, b, session = a[order], b[order], session[order]
    code = a * n_r + b
    new = np.r_[True, code[1:] != code[:-1]]
    first = np.flatnonzero(new)
    bounds = np.r_[first, code.size].astype(np.intp)
    return _PairEntries(a[first], b[first], bounds, session, a, b)


def _sub_prepared(prep: _Prepared, sel: IntArray) -> _Prepared:
    """The long data of the rows ``sel`` (positions in ``prep``) as :func:`_prepare` of
    those rows would give it: items and sessions numbered by first appearance, rater
    codes (and names) kept, so codes still compare like the ids."""
    item_of = np.searchsorted(prep.bounds, sel, side="right") - 1
    by_row = np.argsort(prep.rows[sel], kind="stable")
    items_u, item_first = np.unique(item_of[by_row], return_index=True)
    item_rank = np.empty(items_u.size, dtype=np.intp)
    item_rank[np.argsort(item_first, kind="stable")] = np.arange(items_u.size)
    item_local = item_rank[np.searchsorted(items_u, item_of)]
    sess_u, sess_first = np.unique(prep.session[sel][by_row], return_index=True)
    sess_order = np.argsort(sess_first, kind="stable")
    sess_rank = np.empty(sess_u.size, dtype=np.intp)
    sess_rank[sess_order] = np.arange(sess_u.size)
    sess_local = sess_rank[np.searchsorted(sess_u, prep.session[sel])]
    rater = prep.rater[sel]
    order = np.lexsort((rater, sess_local, item_local))
    item_s = item_local[order]
    names = [prep.items[int(i)] for i in items_u[np.argsort(item_first, kind="stable")]]
    return _Prepared(
        items=names,
        session_names=prep.session_names[sess_u[sess_order]],
        rater_names=prep.rater_names,
        session=sess_local[order],
        rater=rater[order],
        score=prep.score[sel][order],
        bounds=np.searchsorted(item_s, np.arange(len(names) + 1)).astype(np.intp),
        rows=prep.rows[sel][order],
    )


def _by_pair(
    prep: _Prepared, categories: Mapping[str, CategoryRange], plans: _Plans
) -> ReliabilityByPair:
    """:func:`reliability_by_pair` on prepared data.

    A pair of raters on their shared sessions is a crossed two-rater design. Where
    both of them scored an item on every shared session with whole numbers of the
    item's range (the usual case), its statistics come from the pair's contingency
    table, and the tables of every pair and item are tabulated with one ``bincount``
    and computed together (:func:`coder.reliability._pairs.pair_tables`). A pair with
    any other item (a missing or blank score, fractional scores, a long range) gets
    :func:`reliability_report`'s item route on its rows, as a report of its own.
    """
    entries = _pair_entries(prep)
    n_pairs = entries.pair_a.size
    if n_pairs == 0:
        return ReliabilityByPair(())
    n_items = len(prep.items)
    n_s = max(len(prep.session_names), 1)
    n_r = max(len(prep.rater_names), 1)
    item_of = np.repeat(np.arange(n_items, dtype=np.int64), np.diff(prep.bounds))
    keys = (item_of * n_s + prep.session) * n_r + prep.rater
    base = (np.arange(n_items, dtype=np.int64)[:, None] * n_s + entries.session[None, :]) * n_r

    def lookup(rater: IntArray) -> tuple[npt.NDArray[np.bool_], IntArray]:
        query = base + rater[None, :]
        pos = np.minimum(np.searchsorted(keys, query), max(keys.size - 1, 0))
        found = keys[pos] == query if keys.size else np.zeros(query.shape, dtype=bool)
        return found, pos

    found_a, pos_a = lookup(entries.entry_a)
    found_b, pos_b = lookup(entries.entry_b)
    score_a = np.where(found_a, prep.score[pos_a], np.nan)
    score_b = np.where(found_b, prep.score[pos_b], np.nan)
    starts = entries.bounds[:-1]
    n_per_pair = np.diff(entries.bounds)

    def per_pair_all(x: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        return np.logical_and.reduceat(x, starts, axis=1)

    any_row = np.logical_or.reduceat(found_a | found_b, starts, axis=1)  # items x pairs
    first_row = np.minimum.reduceat(
        np.minimum(
            np.where(found_a, prep.rows[pos_a], np.iinfo(np.intp).max),
            np.where(found_b, prep.rows[pos_b], np.iinfo(np.intp).max),
        ),
        starts,
        axis=1,
    )
    both = found_a & found_b & np.isfinite(score_a) & np.isfinite(score_b)
    # The table route per item: whole-number categories of the item's range.
    lo_item = np.zeros(n_items)
    v_item = np.zeros(n_items, dtype=np.intp)
    for i, item in enumerate(prep.items):
        cat = categories[item]
        if (
            cat.lo is None
            or cat.hi is None
            or not (float(cat.lo).is_integer() and float(cat.hi).is_integer())
        ):
            continue
        if cat.hi - cat.lo < min(MAX_KAPPA_CATEGORIES, MAX_TABLE_CATEGORIES):
            lo_item[i] = cat.lo
            v_item[i] = int(cat.hi - cat.lo) + 1
    pos_a_cat = np.where(both, score_a, lo_item[:, None]) - lo_item[:, None]
    pos_b_cat = np.where(both, score_b, lo_item[:, None]) - lo_item[:, None]
    whole = (pos_a_cat == np.floor(pos_a_cat)) & (pos_b_cat == np.floor(pos_b_cat))
    clean = per_pair_all(both & whole) & (v_item[:, None] > 0) & (n_per_pair[None, :] >= 2)
    # A pair takes the table route when every item it has is clean.
    fast_pair = np.all(clean | ~any_row, axis=0)

    fast_cells = np.flatnonzero((clean & any_row & fast_pair[None, :]).reshape(-1))
    results: dict[tuple[int, int], ItemReliability] = {}
    cell_item_all, cell_pair_all = np.divmod(fast_cells, n_pairs)
    pa = pos_a_cat.astype(np.intp)
    pb = pos_b_cat.astype(np.intp)
    stacked = np.stack([score_a, score_b], axis=2)  # items x entries x (A, B)
    shapes: dict[int, _PairShape] = {}
    options = _VcOptions(fit=False)
    width_of = v_item[cell_item_all]
    # Tables of one width at a time, in chunks of bounded size (a 0..255 count item
    # has 65,536 cells per table).
    for width in np.unique(width_of).tolist():
        members = np.flatnonzero(width_of == width)
        chunk = max(1, _TABLE_CELLS // (width * width))
        for lo_m in range(0, members.size, chunk):
            part = members[lo_m : lo_m + chunk]
            cell_item, cell_pair = cell_item_all[part], cell_pair_all[part]
            # Table m counts (A, B) positions over the entries of its pair.
            lens = n_per_pair[cell_pair]
            m_rep = np.repeat(np.arange(part.size), lens)
            entry = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
            entry += np.repeat(entries.bounds[cell_pair], lens)
            i_rep = cell_item[m_rep]
            codes = (m_rep * width + pa[i_rep, entry]) * width + pb[i_rep, entry]
            tables = np.bincount(codes, minlength=part.size * width * width).astype(np.float64)
            tables = tables.reshape(part.size, width * width)
            stats = pair_tables(tables, width, lo_item[cell_item])
            chance = _pair_chance(tables, width, cell_item, v_item, prep, plans)
            for m, (i, p) in enumerate(zip(cell_item.tolist(), cell_pair.tolist(), strict=True)):
                shape = shapes.get(p)
                if shape is None:
                    shape = shapes[p] = _PairShape.of(prep, entries, p)
                item = prep.items[i]
                complete = stacked[i, shape.lo : shape.hi]
                work = shape.work(item, complete, categories[item], plans.get(item))
                results[(i, p)] = _item_report(
                    work, stats[m], options, alpha_ci=False, chance=chance[m]
                )

    pairs: list[PairReport] = []
    for p in range(n_pairs):
        a, b = int(entries.pair_a[p]), int(entries.pair_b[p])
        names = (str(prep.rater_names[a]), str(prep.rater_names[b]))
        n_shared = int(n_per_pair[p])
        if fast_pair[p]:
            present = np.flatnonzero(any_row[:, p])
            present = present[np.argsort(first_row[present, p], kind="stable")]
            items = {prep.items[int(i)]: results[(int(i), p)] for i in present}
        else:
            lo_e, hi_e = int(entries.bounds[p]), int(entries.bounds[p + 1])
            sel = np.concatenate(
                [
                    pos_a[:, lo_e:hi_e][found_a[:, lo_e:hi_e]],
                    pos_b[:, lo_e:hi_e][found_b[:, lo_e:hi_e]],
                ]
            )
            sub = _sub_prepared(prep, np.sort(sel))
            items = _report_items(
                sub,
                {item: categories[item] for item in sub.items},
                (),
                _VcOptions(fit=False),
                plans,
                alpha_ci=False,
            )
        pairs.append(PairReport(names, n_shared, items))
    return ReliabilityByPair(tuple(pairs))


@dataclass(frozen=True, slots=True)
class _PairShape:
    """What the clean items of one pair share: its raters, sessions and their layout."""

    lo: int
    hi: int
    columns: tuple[str, str]
    sessions: tuple[str, ...]
    session: IntArray  # per rating: (A, B) of each session in turn
    rater: IntArray
    m_s: IntArray
    note: str

    @classmethod
    def of(cls, prep: _Prepared, entries: _PairEntries, p: int) -> _PairShape:
        lo, hi = int(entries.bounds[p]), int(entries.bounds[p + 1])
        a, b = int(entries.pair_a[p]), int(entries.pair_b[p])
        sessions = entries.session[lo:hi]
        n = hi - lo
        columns = (str(prep.rater_names[a]), str(prep.rater_names[b]))
        note = (
            f"Fully crossed: the same 2 raters ({', '.join(columns)}) coded all "
            f"{n} double-coded sessions."
        )
        return cls(
            lo,
            hi,
            columns,
            tuple(prep.session_names[sessions].tolist()),
            np.repeat(sessions, 2),
            np.tile(np.array([a, b], dtype=np.intp), n),
            np.full(n, 2, dtype=np.intp),
            note,
        )

    def work(
        self, item: str, complete: FloatArray, cat: CategoryRange, plan: StatisticPlan
    ) -> _ItemWork:
        """The :class:`_ItemWork` of a clean item: both raters' scores on every session."""
        n = self.hi - self.lo
        design = ItemDesign(
            item, "crossed", 2, self.columns, self.columns, self.sessions, complete, n, 0,
            self.note,
        )  # fmt: skip
        return _ItemWork(
            item, design, self.m_s, complete, self.session, complete.reshape(-1), cat, plan,
            self.rater,
        )  # fmt: skip


def _pair_chance(
    tables: FloatArray,
    width: int,
    cell_item: IntArray,
    v_item: IntArray,
    prep: _Prepared,
    plans: _Plans,
) -> list[dict[str, Statistic] | None]:
    """The chance-corrected coefficients of every pair table, grouped by categories and
    weights (None where the item's kind has none: :func:`_chance` then says why)."""
    out: list[dict[str, Statistic] | None] = [None] * tables.shape[0]
    groups: dict[tuple[int, KappaWeights], list[int]] = {}
    for m, i in enumerate(cell_item.tolist()):
        plan = plans.get(prep.items[i])
        if plan.chance:
            groups.setdefault((int(v_item[i]), plan.chance_weights), []).append(m)
    square = tables.reshape(-1, width, width)
    for (v, weights), members in groups.items():
        mult = square[members][:, :v, :v].reshape(len(members), v * v)
        found = coefficients_of_profiles(
            pair_profiles(v), mult, weight_matrix(v, weights), chance_keys(weights)
        )
        for m, stat in zip(members, found, strict=True):
            out[m] = stat
    return out


def _json_order_value(value: Any) -> Any:
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, np.integer):
        return int(value)
    return str(value)


def reliability_drift(
    long_df: pd.DataFrame,
    order: Mapping[str, Any],
    window: int,
    ranges: Mapping[str, tuple[int, int]] | None = None,
    kinds: Mapping[str, str | None] | None = None,
    kappa_weights: str | None = None,
    alpha_level: str | None = None,
) -> ReliabilityDrift:
    """Reliability over coding time, in consecutive blocks of double-coded sessions.

    The double-coded sessions (two or more raters on any item) are put in the order
    of ``order[session_id]`` (for example when the second coding was submitted; ties
    by session id) and cut into consecutive, non-overlapping blocks of ``window``
    sessions; the last block holds the remainder and may be smaller. Each block gets
    the item reports of :func:`reliability_report` on its sessions, with category
    ranges fixed from ``ranges`` or the observed scores of all the data, so a change
    from block to block is drift, not a change of scale. A block too small for a
    statistic reports it as not defined, with the reason.

    Args:
        long_df: Long rating data, as for :func:`reliability_report`.
        order: ``{session_id: timestamp}``; any values that sort (numbers, dates,
            ISO strings). Every double-coded session needs one.
        window: Sessions per block, at least 2.
        ranges: As for :func:`reliability_report`.
        kinds: As for :func:`reliability_report`.
        kappa_weights: As for :func:`reliability_report`.
        alpha_level: As for :func:`reliability_report`.

    Returns:
        The :class:`ReliabilityDrift`: one :class:`DriftWindow` per block, whose
        ``first``/``last`` are the order values of its first and last session
        (``to_json()`` gives ``{"window", "windows": [{"index", "n_sessions",
        "first", "last", "sessions", "items"}, ...]}`` with dates as ISO text).

    Raises:
        InputError: If ``window`` < 2, a double-coded session has no order value, or
            the data are malformed as in :func:`reliability_report`.
    """
    if int(window) < 2:
        raise InputError(f"drift window must be at least 2 sessions, not {window}")
    prep = _prepare(long_df)
    categories = _categories(prep, ranges)
    plans = _Plans.of(kinds, kappa_weights, alpha_level)
    df = validate_long_frame(long_df, check_duplicates=False)
    coders = df.groupby(["session_id", "item_id"], sort=False)["rater_id"].size()
    double = sorted({str(s) for s in coders[coders >= 2].index.get_level_values("session_id")})
    missing = [s for s in double if s not in order]
    if missing:
        shown = ", ".join(repr(s) for s in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise InputError(
            f"drift order: no time for double-coded session(s) {shown}{more}; give every "
            "double-coded session a time"
        )
    try:
        ordered = sorted(double, key=lambda s: (order[s], s))
    except TypeError as exc:
        raise InputError(f"drift order: the times cannot be compared ({exc})") from exc
    windows: list[DriftWindow] = []
    for index, start in enumerate(range(0, len(ordered), int(window))):
        block = ordered[start : start + int(window)]
        sub = df[df["session_id"].isin(block)]
        windows.append(
            DriftWindow(
                index=index,
                sessions=tuple(block),
                first=order[block[0]],
                last=order[block[-1]],
                items=_sub_report(sub, categories, plans),
            )
        )
    return ReliabilityDrift(int(window), tuple(windows))


# ----------------------------------------------------------------------------- table


def _fmt(stat: IccForm | Statistic | VcForm | _Shown, digits: int = 3) -> str:
    if stat.value is None:
        return "n/a"
    return f"{stat.value:.{digits}f}"


def _fmt_ci(stat: IccForm | Statistic | VcForm | _Shown) -> str:
    ci = stat.ci95
    if stat.value is None or ci is None or math.isnan(ci[0]) or math.isnan(ci[1]):
        return "n/a"
    return f"[{ci[0]:.2f}, {ci[1]:.2f}]"


def _fmt_f(form: IccForm) -> str:
    # An infinite F (perfect agreement) prints as "inf".
    return "n/a" if form.f is None else f"{form.f:.2f}"


def _fmt_p(form: IccForm) -> str:
    p = form.p
    if p is None:
        return "n/a"
    return "<.001" if p < 0.001 else f"{p:.3f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], left: Sequence[int]) -> list[str]:
    """Align columns: text columns (indices in ``left``) to the left, numbers right."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def format_report_table(report: ReliabilityReport) -> str:
    """Render a :func:`reliability_report` result as plain-text tables for the CLI.

    Four tables (ICC values; ICC 95 % intervals and F tests; kappa, Krippendorff's
    alpha, agreement and categories; the kappa and alpha the scale reports, with the
    alpha's bootstrap interval, and the chance-corrected agreement coefficients), then
    notes: each item's design caveat and the
    reason for every "n/a". Values have 3 decimals, intervals 2.

    Args:
        report: The result of :func:`reliability_report`.

    Returns:
        The text, lines separated by newlines, without a trailing newline.
    """
    items = report.items
    if not items:
        return "No items in the rating data."
    names = list(items)
    lines = [
        f"Reliability of {len(names)} item(s) on double-coded sessions",
        "(n = sessions with every coder's score, k = coders per session)",
        "",
    ]
    lines += _headline_lines(items)
    rows = [
        [
            name,
            str(it.n_sessions),
            str(it.k),
            DESIGN_LABELS.get(it.design, it.design),
            *(_fmt(it.icc[form]) for form in ICC_FORMS),
        ]
        for name, it in items.items()
    ]
    lines += _table(["item", "n", "k", "design", *ICC_FORMS], rows, left=(0, 3))
    lines.append(
        "ICC1 = ICC(1,1) one-way; ICC2 = ICC(2,1) = ICC(A,1) absolute agreement;\n"
        "ICC3 = ICC(3,1) = ICC(C,1) consistency; ...k = the mean of k raters."
    )
    lines.append("")
    rows = []
    for name, it in items.items():
        for form in ("ICC1", "ICC2", "ICC3"):
            stat = it.icc[form]
            rows.append(
                [
                    name,
                    f"{form} {ICC_LABELS[form][1]}",
                    _fmt(stat),
                    _fmt_ci(stat),
                    _fmt_f(stat),
                    f"{stat.df1}, {stat.df2}",
                    _fmt_p(stat),
                ]
            )
    lines += _table(["item", "form", "ICC", "95% CI", "F", "df", "p"], rows, left=(0, 1))
    lines.append("")
    rows = [
        [
            name,
            _fmt(it.kappa["unweighted"]),
            _fmt(it.kappa["linear"]),
            _fmt(it.kappa["quadratic"]),
            _fmt(it.krippendorff_alpha["nominal"]),
            _fmt(it.krippendorff_alpha["ordinal"]),
            _fmt(it.krippendorff_alpha["interval"]),
            _fmt(it.agreement.exact, 2),
            _fmt(it.agreement.within_one, 2),
            _categories_text(it.categories),
        ]
        for name, it in items.items()
    ]
    header = [
        "item", "kappa", "k.lin", "k.quad", "a.nom", "a.ord", "a.int", "exact", "+-1",
        "categories",
    ]  # fmt: skip
    lines += _table(header, rows, left=(0, 9))
    lines.append(
        "kappa = Cohen's kappa (k.lin/k.quad: linear/quadratic weights);\n"
        "a.* = Krippendorff's alpha; exact/+-1 = share of rater-pair comparisons."
    )
    lines.append("")
    lines += _reported_table(items)
    # The same design caveat for many items is printed once, naming all of them.
    caveats: dict[str, list[str]] = {}
    reasons: dict[str, list[str]] = {}
    for name, it in items.items():
        if it.design != "crossed" and it.design_note:
            caveats.setdefault(it.design_note, []).append(name)
        for group, stats in it.groups().items():
            undefined_here = [
                (key, stat.why) for key, stat in stats.items() if stat.value is None and stat.why
            ]
            for key, why in undefined_here:
                where = (
                    f"{name} {group}"
                    if len(undefined_here) == len(stats)
                    else f"{name} {group}.{key}"
                )
                if where not in reasons.setdefault(why, []):
                    reasons[why].append(where)
    notes = [f"{', '.join(names_)}: {note}" for note, names_ in caveats.items()]
    notes += [f"n/a in {', '.join(where)}: {why}" for why, where in reasons.items()]
    if notes:
        lines += ["", "Notes:"]
        for note in notes:
            lines += textwrap.wrap(note, width=100, initial_indent="- ", subsequent_indent="  ")
    return "\n".join(lines)


def _headline_lines(items: Mapping[str, ItemReliability]) -> list[str]:
    """The recommended form of every item first, with the reasons and the scale
    default's discrepancies, then the variance components and their ICCs."""
    rows = []
    for name, it in items.items():
        rec = it.recommendation
        if rec is None:
            continue
        stat = _Shown(rec.value, rec.ci95)
        rows.append(
            [
                name,
                DESIGN_LABELS.get(it.design, it.design),
                rec.label or "n/a",
                _fmt(stat),
                _fmt_ci(stat),
                "" if rec.scale_default is None else rec.scale_default,
                {True: "yes", False: "NO", None: ""}[rec.scale_default_fits],
            ]
        )
    if not rows:
        return []
    header = ["item", "design", "headline", "ICC", "95% CI", "scale default", "fits"]
    out = ["Headline ICC (the form that fits each item's design):"]
    out += _table(header, rows, left=(0, 1, 2, 5))
    reasons: dict[str, list[str]] = {}
    for name, it in items.items():
        rec = it.recommendation
        if rec is not None:
            reasons.setdefault(rec.reason, []).append(name)
            if rec.scale_default_note:
                reasons.setdefault(f"Scale default: {rec.scale_default_note}.", []).append(name)
    for why, names_ in reasons.items():
        out += textwrap.wrap(
            f"{', '.join(names_)}: {why}", width=100, initial_indent="- ", subsequent_indent="  "
        )
    vc_rows = []
    ci_rows = []
    method = ""
    for name, it in items.items():
        vc = it.icc_vc
        if vc is None or vc.components is None:
            continue
        c = vc.components
        vc_rows.append(
            [
                name,
                f"{c.session:.4g}",
                f"{c.rater:.4g}",
                f"{c.residual:.4g}",
                f"{vc.k:g}",
                *(_fmt(vc[f]) for f in VC_FORMS),
            ]
        )
        ci_rows.append([name, *(_fmt_ci(vc[f]) for f in VC_FORMS)])
        method = method or (vc.ci_description or "")
    if vc_rows:
        out += ["", "Variance components (REML, score ~ 1 + (1|session) + (1|rater), all ratings):"]
        labels = [VC_LABELS[f][0] for f in VC_FORMS]
        header = ["item", "s2 session", "s2 rater", "s2 resid", "k", *labels]
        out += _table(header, vc_rows, left=(0,))
        out += [""]
        out += _table(["item", *(f"{label} 95% CI" for label in labels)], ci_rows, left=(0,))
        if method:
            out += textwrap.wrap(f"95% CI: {method}.", width=100)
    return [*out, ""]


@dataclass(frozen=True, slots=True)
class _Shown:
    """A value and interval shaped like a statistic, for the table helpers."""

    value: float | None
    ci95: tuple[float, float] | None


def _reported_table(items: Mapping[str, ItemReliability]) -> list[str]:
    """The kappa and alpha the scale reports (by kind), and the chance-corrected coefficients."""
    rows = []
    chance_rows = []
    for name, it in items.items():
        kappa = it.kappa.get(it.kappa_weights) if it.kappa_weights else None
        alpha = it.krippendorff_alpha.get(it.alpha_level)
        rows.append(
            [
                name,
                it.kind or "-",
                f"{_fmt(kappa)} {it.kappa_weights}" if kappa is not None else "n/a",
                f"{_fmt(alpha)} {it.alpha_level}" if alpha is not None else "n/a",
                _fmt_ci(alpha) if alpha is not None else "n/a",
            ]
        )
        coeffs = it.agreement_coefficients
        if not any(stat.value is not None for stat in coeffs.values()):
            continue
        gwet = "gwet_ac2" if "gwet_ac2" in coeffs else "gwet_ac1"
        chance_rows.append(
            [
                name,
                it.kappa_weights or "unweighted",
                *(
                    f"{_fmt(coeffs[key])} {_fmt_ci(coeffs[key])}"
                    for key in ("fleiss_kappa", gwet, "brennan_prediger")
                ),
            ]
        )
    header = ["item", "kind", "kappa (reported)", "alpha (reported)", "alpha 95% CI"]
    lines = _table(header, rows, left=(0, 1, 2, 3))
    lines.append(
        "reported = the scale's kappa weights and alpha level, as the item's kind allows;\n"
        "alpha 95% CI = bootstrap of pairable values (Hayes & Krippendorff 2007, 1000\n"
        "resamples, fixed seed)."
    )
    if chance_rows:
        lines.append("")
        header = ["item", "weights", "Fleiss [95% CI]", "Gwet AC1/AC2 [95% CI]", "B-P [95% CI]"]
        lines += _table(header, chance_rows, left=(0, 1))
        lines.append(
            "Fleiss' kappa, Gwet's AC1 (unweighted) or AC2 (weighted) and Brennan-Prediger\n"
            "with the reported kappa weights; intervals from Gwet's (2014) standard errors."
        )
    return lines


def _categories_text(categories: CategoryRange) -> str:
    if categories.lo is None or categories.hi is None:
        return "none"
    return f"{format_value(categories.lo)}..{format_value(categories.hi)} ({categories.source})"
