"""All two-coder statistics of one item at once, from a single contingency table.

Double coding is the usual design: two coders per session. For whole-number scores on
a range of V categories, every statistic of SPEC section 5 is a weighted sum over the
V x V table C of (position of A, position of B) counts, so one pass over the n
sessions (``numpy.bincount``) and a few operations on V x V tables give them all. With
positions u = score - min (sums of squares, kappa and alpha do not change under a
shift), T = sum(a + b), D = sum(a - b):

- ICC (``_icc.icc_from_sums``): SSB = sum C (a + b)^2 / 2 - T^2 / 2n,
  SSJ = D^2 / 2n, SSE = (sum C (a - b)^2 - D^2 / n) / 2, the two-way ANOVA of the
  n x 2 matrix written with the table;
- Cohen's kappa with disagreement weights 0/1, |i - j| or (i - j)^2 on category
  positions: 1 - n sum(C W) / sum(row_i col_j W) (Cohen 1968);
- Krippendorff's alpha from the coincidence matrix o = C + C^T (each session with two
  values contributes both ordered pairs, m_u - 1 = 1): 1 - (N - 1) sum(o delta) /
  sum(n_c n_k delta) with N = 2n (Krippendorff 2011), with the nominal, ordinal and
  interval delta of the ``krippendorff`` package;
- exact and within-one agreement: the diagonal and the |i - j| <= 1 band.

All these sums are integers (or half-integers) held exactly in float64, so perfect
agreement gives SSE = 0 exactly. Scores that are not whole numbers, category lists
with gaps, or more than 256 categories take the general functions instead; the
results are the same to rounding (tested).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from coder.reliability._agreement import (
    Agreement,
    agreement_counts,
    agreement_from_counts,
)
from coder.reliability._common import (
    FloatArray,
    Statistic,
    as_float_array,
    format_value,
    undefined,
)
from coder.reliability._icc import IccResult, icc, icc_from_sums_many
from coder.reliability._kappa import KAPPA_WEIGHTS, category_positions, kappa_from_positions
from coder.reliability._krippendorff import ALPHA_LEVELS, alphas_from_units

MAX_TABLE_CATEGORIES = 256


@dataclass(frozen=True, slots=True)
class PairReliability:
    """ICC, kappa, Krippendorff's alpha and agreement of two coders on one item.

    Attributes:
        n: Sessions with both scores present (listwise).
        icc: The six ICC forms (k = 2).
        kappa: ``{"unweighted", "linear", "quadratic"}`` -> :class:`Statistic`.
        krippendorff_alpha: ``{"nominal", "ordinal", "interval"}`` -> Statistic.
        agreement: Exact and within-one agreement.
    """

    n: int
    icc: IccResult
    kappa: Mapping[str, Statistic]
    krippendorff_alpha: Mapping[str, Statistic]
    agreement: Agreement

    def to_dict(self) -> dict[str, Any]:
        """Return the ``icc``/``kappa``/``krippendorff_alpha``/``agreement`` JSON parts."""
        return {
            "icc": self.icc.to_dict(),
            "kappa": {w: s.to_dict() for w, s in self.kappa.items()},
            "krippendorff_alpha": {lv: s.to_dict() for lv, s in self.krippendorff_alpha.items()},
            "agreement": self.agreement.to_dict(),
        }


@lru_cache(maxsize=64)
def _weight_stack(v: int) -> npt.NDArray[np.float64]:
    """The V x V weights every statistic needs, flattened and stacked (read-only).

    Rows, on category positions i, j: 1 - [i = j] (nominal), |i - j| (linear),
    (i - j)^2 (quadratic and interval), (i + j)^2 (for the between-session sum of
    squares), [|i - j| <= 1] (within one point). ``stack @ table.ravel()`` gives all
    their weighted sums in one BLAS call.
    """
    idx = np.arange(v, dtype=np.float64)
    diff = idx[:, None] - idx[None, :]
    total = idx[:, None] + idx[None, :]
    stack = np.stack(
        [
            1.0 - np.eye(v),
            np.abs(diff),
            diff * diff,
            total * total,
            (np.abs(diff) <= 1.0).astype(np.float64),
        ]
    ).reshape(5, v * v)
    stack.setflags(write=False)
    return stack


def pair_reliability(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    categories: Sequence[float] | None = None,
) -> PairReliability:
    """Every two-coder statistic of one item: ICC, kappa, Krippendorff's alpha, agreement.

    Gives the same numbers as :func:`icc` on ``[a, b]`` (after listwise deletion),
    :func:`cohens_kappa` with ``categories``, :func:`krippendorff_alpha` on ``[a, b]``
    and :func:`agreement`, in one pass (see the module docstring). Krippendorff's
    alpha on all observed ratings equals alpha on the complete pairs here, because a
    session with one score cannot be paired. For many items at once,
    :func:`pair_reliability_items` is faster.

    Edge cases are those of the single functions: fewer than 2 complete pairs, no
    variance, or perfect agreement are reported through ``value=None`` and ``why``
    (or, for perfect agreement, ICC = 1 with infinite F), never NaN.

    Args:
        a: Scores of coder A (the lower rater id), NaN where missing.
        b: Scores of coder B, same length.
        categories: The full ordered category list (e.g. ``range(0, 7)``), or None
            for the observed min..max of whole-number scores; kappa is not defined
            for scores that are not whole numbers unless categories are given.

    Returns:
        A :class:`PairReliability`.

    Raises:
        ValueError: If lengths differ or a score is not among ``categories``.
    """
    return pair_reliability_items([(a, b)], [categories])[0]


def pair_reliability_items(
    pairs: Sequence[tuple[npt.ArrayLike, npt.ArrayLike] | npt.NDArray[np.float64]],
    categories: Sequence[Sequence[float] | None] | None = None,
) -> list[PairReliability]:
    """:func:`pair_reliability` for many items (e.g. all items of a scale) at once.

    Each item keeps its own sessions and categories. Items with whole-number scores
    on a contiguous category range are tabulated one by one and their statistics then
    computed together, vectorised across items (about 0.1 ms per item at 10,000
    sessions); any other item takes the general route.

    Args:
        pairs: One entry per item: ``(a, b)``, coder A's and coder B's scores, or an
            n x 2 array with those columns (the fastest form); NaN where missing;
            items may have different numbers of sessions.
        categories: One category list (or None) per item, or None for all.

    Returns:
        One :class:`PairReliability` per item, in order.

    Raises:
        ValueError: If an item's a and b differ in length, an array is not n x 2,
            ``categories`` has the wrong length, or a score is not among its item's
            categories.
    """
    cats: Sequence[Sequence[float] | None] = (
        [None] * len(pairs) if categories is None else categories
    )
    if len(cats) != len(pairs):
        raise ValueError(f"categories has {len(cats)} entries for {len(pairs)} items")
    results: list[PairReliability | None] = [None] * len(pairs)
    tabled: list[tuple[int, npt.NDArray[np.intp], float, int, float]] = []
    for index, (pair, item_categories) in enumerate(zip(pairs, cats, strict=True)):
        prepared = _prepare_pair(_pair_matrix(pair), item_categories)
        if isinstance(prepared, PairReliability):
            results[index] = prepared
        else:
            tabled.append((index, *prepared))
    if tabled:
        width = max(entry[3] for entry in tabled)
        tables = np.zeros((len(tabled), width, width), dtype=np.float64)
        for row, (_, codes, _, v, _) in enumerate(tabled):
            tables[row, :v, :v] = np.bincount(codes, minlength=v * v).reshape(v, v)
        bases = np.array([entry[2] for entry in tabled])
        firsts = np.array([entry[4] for entry in tabled])
        computed = _from_tables(tables.reshape(len(tabled), -1), width, bases, firsts)
        for (index, *_), result in zip(tabled, computed, strict=True):
            results[index] = result
    return [r for r in results if r is not None]


def _pair_matrix(
    pair: tuple[npt.ArrayLike, npt.ArrayLike] | npt.NDArray[np.float64],
) -> FloatArray:
    """An item as a C-contiguous n x 2 float matrix (no copy when it already is one)."""
    if isinstance(pair, np.ndarray):
        matrix = np.ascontiguousarray(pair, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != 2:
            raise ValueError(f"an item array must be n x 2 (A, B); got shape {matrix.shape}")
        return matrix
    a, b = pair
    xa = as_float_array(a, "a").reshape(-1)
    xb = as_float_array(b, "b").reshape(-1)
    if xa.shape != xb.shape:
        raise ValueError(f"a and b must have the same length ({xa.size} != {xb.size})")
    return np.column_stack([xa, xb])


def _prepare_pair(
    matrix: FloatArray, categories: Sequence[float] | None
) -> PairReliability | tuple[npt.NDArray[np.intp], float, int, float]:
    """Table codes for the table route, or the finished result of the general route.

    Returns ``(codes, base, V, first score)`` with ``codes = V * (a - base) + (b - base)``.
    """
    if matrix.shape[0] == 0:
        return _general(matrix[:, 0], matrix[:, 1], categories)
    # numpy's min/max propagate NaN, so they double as the check for missing scores.
    lo = float(matrix.min())
    hi = float(matrix.max())
    if not (math.isfinite(lo) and math.isfinite(hi)):
        matrix = matrix[np.isfinite(matrix).all(axis=1)]
        if matrix.shape[0] == 0:
            return _general(matrix[:, 0], matrix[:, 1], categories)
        lo = float(matrix.min())
        hi = float(matrix.max())
    if matrix.shape[0] < 2:
        return _general(matrix[:, 0], matrix[:, 1], categories)
    if categories is None:
        if not hi - lo < MAX_TABLE_CATEGORIES:  # also catches an infinite spread
            return _general(matrix[:, 0], matrix[:, 1], categories)
        base = lo
        n_cat = int(hi - lo) + 1
    else:
        values = as_float_array(categories, "categories").reshape(-1)
        if (
            values.size == 0
            or not float(values[0]).is_integer()
            or not bool(np.all(np.diff(values) == 1.0))
        ):  # gaps or fractions in the category list: weights by position, general route
            return _general(matrix[:, 0], matrix[:, 1], categories)
        if lo < values[0] or hi > values[-1]:
            category_positions(matrix[:, 0], matrix[:, 1], categories)  # raises
        base = float(values[0])
        n_cat = int(values.size)
    if not base.is_integer() or n_cat > MAX_TABLE_CATEGORIES:
        return _general(matrix[:, 0], matrix[:, 1], categories)
    shifted = matrix - base if base else matrix
    positions = shifted.astype(np.intp)
    if not np.array_equal(positions, shifted):  # not whole numbers: no table, no kappa
        return _general(matrix[:, 0], matrix[:, 1], categories)
    codes = positions[:, 0] * n_cat
    codes += positions[:, 1]
    return codes, base, n_cat, float(matrix[0, 0])


def _general(xa: FloatArray, xb: FloatArray, categories: Sequence[float] | None) -> PairReliability:
    """The slow but general route: the single functions, one after the other."""
    n = int(xa.size)
    matrix = np.column_stack([xa, xb])
    icc_result = icc(matrix)
    if n < 2:
        why = f"needs at least 2 sessions scored by both coders; there {_are(n)}"
        kappas: dict[str, Statistic] = {w: undefined(why, n) for w in KAPPA_WEIGHTS}
    else:
        mapped = category_positions(xa, xb, categories)
        if isinstance(mapped, str):
            kappas = {w: undefined(mapped, n) for w in KAPPA_WEIGHTS}
        else:
            pos_a, pos_b, n_cat = mapped
            kappas = {
                w: kappa_from_positions(pos_a, pos_b, n_cat, w, float(xa[0])) for w in KAPPA_WEIGHTS
            }
    units = np.repeat(np.arange(n, dtype=np.intp), 2)
    alphas = alphas_from_units(units, matrix.reshape(-1), ALPHA_LEVELS)
    agree = agreement_from_counts(*agreement_counts(matrix))
    return PairReliability(n, icc_result, kappas, alphas, agree)


def pair_tables(tables: FloatArray, v: int, bases: FloatArray) -> list[PairReliability]:
    """Every two-coder statistic of M contingency tables at once.

    Args:
        tables: M x (V * V) counts of (position of A, position of B), positions being
            score - ``bases[m]``; every table has at least 2 sessions.
        v: V, the positions per coder.
        bases: The score of position 0 of each table.

    Returns:
        One :class:`PairReliability` per table, as :func:`pair_reliability_items`
        gives for the same scores with the categories ``bases[m]`` onwards.
    """
    used = (tables.reshape(-1, v, v).sum(axis=2) + tables.reshape(-1, v, v).sum(axis=1)) > 0
    # The first score only names the one category of a table whose sessions all have it.
    firsts = bases + np.argmax(used, axis=1)
    return _from_tables(tables, v, bases, firsts)


def _from_tables(
    tables: FloatArray, v: int, bases: FloatArray, firsts: FloatArray
) -> list[PairReliability]:
    """Every statistic of M items from their (A, B) tables, vectorised across items.

    ``tables`` is M x (V * V): row m counts (position of A, position of B) pairs of
    item m, positions being score - ``bases[m]`` (items with fewer categories leave
    the last ones empty). Sums of squares, kappa and alpha do not change when scores
    shift by a constant, and with whole numbers every sum below is an exact integer in
    float64, so perfect agreement gives SSE = 0 exactly.
    """
    m = tables.shape[0]
    square = tables.reshape(m, v, v)
    count_a = square.sum(axis=2)
    count_b = square.sum(axis=1)
    n_c = count_a + count_b
    n = count_a.sum(axis=1)
    stack = _weight_stack(v)
    observed = tables @ stack.T  # M x 5 weighted sums, one BLAS call
    nominal_o, linear_o, quadratic_o, total_sq, near = observed.T
    u = np.arange(v, dtype=np.float64)
    used = n_c > 0
    lo = bases + np.argmax(used, axis=1)
    hi = bases + (v - 1 - np.argmax(used[:, ::-1], axis=1))
    single = used.sum(axis=1) == 1

    # ICC: SSB = sum (a + b)^2 / 2 - T^2 / 2n, SSJ = D^2 / 2n, SSE = (sum d^2 - D^2/n) / 2
    sum_a = count_a @ u
    sum_b = count_b @ u
    total = sum_a + sum_b
    dsum = sum_a - sum_b
    ss_b = total_sq / 2.0 - total * total / (2.0 * n)
    ss_j = dsum * dsum / (2.0 * n)
    ss_e = (quadratic_o - dsum * dsum / n) / 2.0

    # Cohen's kappa: 1 - n sum(C W) / sum(a_i b_j W), W = 0/1, |i - j|, (i - j)^2.
    chance = np.einsum("mi,kij,mj->mk", count_a, stack[:3].reshape(3, v, v), count_b)
    # chance is 0 only when both coders used one and the same category ("single").
    kappa_values = 1.0 - n[:, None] * observed[:, :3] / np.where(chance == 0.0, 1.0, chance)

    # Krippendorff's alpha: coincidences o = C + C^T over N = 2n pairable values.
    big_n = 2.0 * n
    ranks = np.cumsum(n_c, axis=1) - n_c / 2.0
    rank_sq = ranks * ranks
    rank_obs = np.einsum("mi,mi->m", n_c, rank_sq) - 2.0 * np.einsum(
        "mi,mij,mj->m", ranks, square, ranks
    )
    s1 = n_c @ u
    s1r = np.einsum("mi,mi->m", n_c, ranks)
    alpha_obs = np.stack([2.0 * nominal_o, 2.0 * rank_obs, 2.0 * quadratic_o], axis=1)
    alpha_exp = np.stack(
        [
            big_n * big_n - np.einsum("mi,mi->m", n_c, n_c),
            2.0 * big_n * np.einsum("mi,mi->m", n_c, rank_sq) - 2.0 * s1r * s1r,
            2.0 * big_n * (n_c @ (u * u)) - 2.0 * s1 * s1,
        ],
        axis=1,
    )
    alpha_values = 1.0 - (big_n - 1.0)[:, None] * alpha_obs / np.where(
        alpha_exp == 0.0, 1.0, alpha_exp
    )

    results: list[PairReliability] = []
    # The sums are exact integers on positions u = score - base, so the zero
    # tolerance only needs the positions' range.
    iccs = icc_from_sums_many(
        n.astype(np.int64), np.full(m, 2, dtype=np.int64), ss_b, ss_j, ss_e, lo, hi, hi - lo
    )
    for i in range(m):
        n_i = int(n[i])
        icc_result = iccs[i]
        if single[i]:  # one category for everybody: chance agreement 1, no variation
            first = format_value(firsts[i])
            why_k = (
                f"both coders gave every session the same score {first}: chance agreement "
                "is 1, so kappa is 0 / 0 and not defined"
            )
            why_a = (
                f"every paired rating is {first}: with no variation, expected disagreement "
                "is 0 and alpha is not defined"
            )
            kappas: dict[str, Statistic] = {w: undefined(why_k, n_i) for w in KAPPA_WEIGHTS}
            alphas: dict[str, Statistic] = {lv: undefined(why_a, n_i) for lv in ALPHA_LEVELS}
        else:
            kappas = {
                w: Statistic(value=float(kappa_values[i, j]), n=n_i)
                for j, w in enumerate(KAPPA_WEIGHTS)
            }
            alphas = {
                lv: Statistic(value=float(alpha_values[i, j]), n=n_i)
                for j, lv in enumerate(ALPHA_LEVELS)
            }
        agree = agreement_from_counts(
            n_i, n_i - int(round(float(nominal_o[i]))), int(round(float(near[i])))
        )
        results.append(PairReliability(n_i, icc_result, kappas, alphas, agree))
    return results


def _are(n: int) -> str:
    return "is 1" if n == 1 else f"are {n}"
