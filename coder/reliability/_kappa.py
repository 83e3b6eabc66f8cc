"""Cohen's kappa, unweighted and with linear or quadratic weights.

Cohen (1960) for unweighted kappa, Cohen (1968) for weighted kappa, with the weights
of R ``psych::cohen.kappa``: agreement weights ``1 - |i - j|^p / (V - 1)^p`` (p = 1
linear, p = 2 quadratic) on the category *positions* i, j in the full category list,
so ``psych::cohen.kappa(x, levels = min:max)``. scikit-learn's
``cohen_kappa_score(labels=..., weights=...)`` uses the equivalent disagreement form

    kappa_w = 1 - sum(w_ij * O_ij) / sum(w_ij * E_ij),  w_ij = |i - j|^p,

which is what is computed here (the (V - 1)^p normalisation cancels). Expected
frequencies are the products of the two coders' marginal distributions (Fleiss, Cohen
& Everitt 1969).

The sums are taken over integer counts with Python integers, so the result is exact
up to the final division; no V x V table is built, which keeps categories such as
"seconds 0..3600" cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

from coder.reliability._common import (
    IntArray,
    Statistic,
    as_float_array,
    format_value,
    undefined,
)

KappaWeights = Literal["unweighted", "linear", "quadratic"]
KAPPA_WEIGHTS: tuple[KappaWeights, ...] = ("unweighted", "linear", "quadratic")

MAX_KAPPA_CATEGORIES = 100_000
"""Above this many categories (e.g. milliseconds as "categories") kappa is not
computed: it would be meaningless, and the count arrays would not fit in memory."""


def category_positions(
    a: npt.NDArray[np.float64],
    b: npt.NDArray[np.float64],
    categories: Sequence[float] | None,
) -> tuple[IntArray, IntArray, int] | str:
    """Map two coders' scores to positions in the category list.

    Args:
        a: Finite scores of coder A.
        b: Finite scores of coder B (same length).
        categories: Ordered category values, or None for the observed min..max of
            whole-number scores (``levels = min:max`` in psych).

    Returns:
        ``(positions_a, positions_b, number_of_categories)``, or a reason string when
        the scores are not whole numbers and no categories were given.

    Raises:
        ValueError: If ``categories`` is not strictly increasing or a score is not one
            of the categories.
    """
    if categories is None:
        both = np.concatenate([a, b])
        if not np.all(both == np.floor(both)):
            bad = both[both != np.floor(both)][0]
            return (
                "kappa needs whole-number categories and these scores are not whole "
                f"numbers (e.g. {format_value(bad)}); use the ICC or Krippendorff's alpha "
                "(interval) for continuous scores"
            )
        lo = float(both.min())
        span = float(both.max()) - lo
        if span >= MAX_KAPPA_CATEGORIES:
            return (
                f"the scores span {format_value(span + 1)} whole-number categories; kappa is "
                "for rating categories, use the ICC or Krippendorff's alpha (interval)"
            )
        n_cat = int(span) + 1
        return (a - lo).astype(np.intp), (b - lo).astype(np.intp), n_cat
    cats = as_float_array(categories, "categories").reshape(-1)
    if cats.size == 0 or not np.all(np.isfinite(cats)):
        raise ValueError("categories must be a non-empty list of finite numbers")
    if cats.size > 1 and not np.all(np.diff(cats) > 0):
        raise ValueError("categories must be strictly increasing")
    pos_a = np.searchsorted(cats, a)
    pos_b = np.searchsorted(cats, b)
    for scores, pos in ((a, pos_a), (b, pos_b)):
        clipped = np.minimum(pos, cats.size - 1)
        wrong = cats[clipped] != scores
        if np.any(wrong):
            raise ValueError(
                f"score {format_value(scores[wrong][0])} is not one of the categories "
                f"{format_value(cats[0])}..{format_value(cats[-1])}"
            )
    return pos_a.astype(np.intp), pos_b.astype(np.intp), int(cats.size)


def kappa_from_positions(
    pos_a: IntArray,
    pos_b: IntArray,
    n_categories: int,
    weights: KappaWeights,
    first_score: float | None = None,
) -> Statistic:
    """Cohen's kappa from category positions (see the module docstring for formulas).

    Args:
        pos_a: Category positions 0..V-1 of coder A, one per session.
        pos_b: Category positions of coder B, same length.
        n_categories: V, the number of categories.
        weights: ``"unweighted"``, ``"linear"`` or ``"quadratic"``.
        first_score: The score of the first session, only to name it in the reason
            when kappa is not defined.

    Returns:
        The kappa with ``n`` = number of sessions, or not defined when there are
        fewer than 2 sessions or when chance agreement is perfect (both coders gave
        every session one and the same category).
    """
    n = int(pos_a.size)
    if n < 2:
        return undefined(f"needs at least 2 sessions scored by both coders; there {_are(n)}", n)
    count_a = np.bincount(pos_a, minlength=n_categories).astype(np.int64)
    count_b = np.bincount(pos_b, minlength=n_categories).astype(np.int64)
    if weights == "unweighted":
        agree = int(np.count_nonzero(pos_a == pos_b))
        chance = int(count_a @ count_b)  # n^2 * expected agreement
        num = agree * n - chance
        den = n * n - chance
    elif weights == "linear":
        diff = np.abs(pos_a - pos_b)
        observed = int(diff.sum())  # n * mean |i - j|
        idx = np.arange(n_categories, dtype=np.int64)
        cum0 = np.cumsum(count_a)
        cum1 = np.cumsum(count_a * idx)
        # sum_i count_a[i] * |i - j| for every j, from cumulative sums.
        dist = idx * cum0 - cum1 + (int(cum1[-1]) - cum1) - idx * (n - cum0)
        expected = int(count_b @ dist)  # n^2 * E|i - j| under independence
        num = expected - observed * n
        den = expected
    elif weights == "quadratic":
        diff = pos_a - pos_b
        observed = int(diff @ diff)
        idx = np.arange(n_categories, dtype=np.int64)
        s1a = int(count_a @ idx)
        s1b = int(count_b @ idx)
        s2a = int(count_a @ (idx * idx))
        s2b = int(count_b @ (idx * idx))
        expected = n * s2a + n * s2b - 2 * s1a * s1b  # n^2 * E(i - j)^2
        num = expected - observed * n
        den = expected
    else:
        raise ValueError(f"weights must be one of {KAPPA_WEIGHTS}, not {weights!r}")
    if den == 0:
        which = (
            f"score {format_value(first_score)}"
            if first_score is not None
            else f"category position {int(pos_a[0])}"
        )
        return undefined(
            f"both coders gave every session the same {which}: chance agreement is 1, "
            "so kappa is 0 / 0 and not defined",
            n,
        )
    # Python integers are exact; int / int is correctly rounded.
    return Statistic(value=num / den, n=n)


def cohens_kappa(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    categories: Sequence[float] | None = None,
    weights: KappaWeights = "unweighted",
) -> Statistic:
    """Cohen's kappa of two coders, unweighted or with linear/quadratic weights.

    Matches R ``psych::cohen.kappa(cbind(a, b), levels = categories)`` (Cohen 1960,
    1968) and scikit-learn ``cohen_kappa_score(a, b, labels=categories,
    weights=...)``. Only sessions where both scores are present are used (listwise).
    Weights are by category position in ``categories``; for a whole-number range
    such as 0..6 that is the score difference. Categories that nobody used change
    nothing, but a gap in the *observed* scores does (weights follow the full range,
    not the observed values).

    Edge cases: fewer than 2 complete pairs, or both coders giving every session the
    same single category (expected agreement 1), give ``value=None`` with a ``why``.
    Two coders who each always give one, but different, category get kappa 0.
    Non-whole scores without ``categories`` are not defined (kappa is for
    categories; use the ICC).

    Args:
        a: Scores of coder A (slot A: the lower rater id), NaN for missing.
        b: Scores of coder B, same length.
        categories: The full ordered category list (e.g. ``range(0, 7)`` for a 0-6
            item), or None for the observed min..max of whole-number scores.
        weights: ``"unweighted"``, ``"linear"`` or ``"quadratic"``.

    Returns:
        A :class:`Statistic` whose ``n`` is the number of complete pairs.

    Raises:
        ValueError: If ``a`` and ``b`` differ in length, ``weights`` is unknown, or a
            score is not among ``categories``.
    """
    if weights not in KAPPA_WEIGHTS:
        raise ValueError(f"weights must be one of {KAPPA_WEIGHTS}, not {weights!r}")
    xa = as_float_array(a, "a").reshape(-1)
    xb = as_float_array(b, "b").reshape(-1)
    if xa.shape != xb.shape:
        raise ValueError(f"a and b must have the same length ({xa.size} != {xb.size})")
    keep = np.isfinite(xa) & np.isfinite(xb)
    xa = xa[keep]
    xb = xb[keep]
    if xa.size < 2:
        return undefined(
            f"needs at least 2 sessions scored by both coders; there {_are(int(xa.size))}",
            int(xa.size),
        )
    mapped = category_positions(xa, xb, categories)
    if isinstance(mapped, str):
        return undefined(mapped, int(xa.size))
    pos_a, pos_b, n_cat = mapped
    return kappa_from_positions(pos_a, pos_b, n_cat, weights, float(xa[0]))


def _are(n: int) -> str:
    return "is 1" if n == 1 else f"are {n}"
