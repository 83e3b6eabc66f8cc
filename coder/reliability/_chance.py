"""Chance-corrected agreement of many raters: Fleiss' kappa, Gwet's AC1/AC2, Brennan-Prediger.

Gwet, K. L. (2014). *Handbook of Inter-Rater Reliability* (4th ed.), chapters 2-5, in
the form of the R package ``irrCAC`` and its Python port (``irrCAC.raw.CAC``), which
the tests match to 1e-9. For n units (sessions) with r_i ratings each, r_ik of them in
category k, weights w_kl (identity, or linear / quadratic on the category positions
as for weighted kappa) and r*_ik = sum_l w_kl r_il:

    p_a = mean over units with r_i >= 2 of  sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1))
    pi_k = mean over all n rated units of  r_ik / r_i

and the coefficient is (p_a - p_e) / (1 - p_e) with the chance agreement

- Fleiss' kappa (Fleiss 1971, generalised to weights and missing ratings):
  p_e = sum_kl w_kl pi_k pi_l;
- Gwet's AC1 (identity weights) / AC2 (Gwet 2008):
  p_e = sum_kl w_kl / (q (q - 1)) * sum_k pi_k (1 - pi_k);
- Brennan-Prediger (1981): p_e = sum_kl w_kl / q^2.

The standard errors are Gwet's linearisation over units, conditional on the raters
(irrCAC's ``se``, finite population correction off), and the 95 % interval is
value -/+ t_{0.975, n-1} se with the upper end capped at 1, as irrCAC gives it. Only
the (unit, category) counts enter, so rater identity does not matter: the
coefficients suit varying rater pairs as well as crossed designs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy import stats

from coder.reliability._common import (
    FloatArray,
    Statistic,
    as_float_array,
    as_matrix,
    format_value,
    undefined,
)
from coder.reliability._kappa import KAPPA_WEIGHTS, MAX_KAPPA_CATEGORIES, KappaWeights

#: The keys of :func:`chance_agreement`, in JSON order: Gwet's coefficient is AC1 with
#: unweighted (identity) weights and AC2 with linear or quadratic weights.
CHANCE_KEYS = ("fleiss_kappa", "gwet_ac1", "gwet_ac2", "brennan_prediger")

#: How each coefficient reads in a table.
CHANCE_LABELS: Mapping[str, str] = {
    "fleiss_kappa": "Fleiss' kappa",
    "gwet_ac1": "Gwet's AC1",
    "gwet_ac2": "Gwet's AC2",
    "brennan_prediger": "Brennan-Prediger",
}


def gwet_key(weights: KappaWeights) -> str:
    """``"gwet_ac1"`` for unweighted agreement, ``"gwet_ac2"`` with weights."""
    return "gwet_ac1" if weights == "unweighted" else "gwet_ac2"


def chance_keys(weights: KappaWeights) -> tuple[str, str, str]:
    """The three keys :func:`chance_agreement` returns for ``weights``."""
    return ("fleiss_kappa", gwet_key(weights), "brennan_prediger")


def weight_matrix(n_categories: int, weights: KappaWeights) -> FloatArray:
    """Agreement weights 1 - (|k - l| / (q - 1))^p on category positions (p = 1, 2).

    Identity for ``"unweighted"``. These are irrCAC's ``linear`` and ``quadratic``
    weights on consecutive whole-number categories, and the weights of Cohen's
    weighted kappa (:mod:`coder.reliability._kappa`).
    """
    if weights not in KAPPA_WEIGHTS:
        raise ValueError(f"weights must be one of {KAPPA_WEIGHTS}, not {weights!r}")
    q = int(n_categories)
    if weights == "unweighted" or q < 2:
        return np.eye(q)
    idx = np.arange(q, dtype=np.float64)
    dist = np.abs(idx[:, None] - idx[None, :]) / (q - 1)
    return 1.0 - (dist if weights == "linear" else dist * dist)


def chance_agreement_from_units(
    units: npt.ArrayLike,
    values: npt.ArrayLike,
    categories: Sequence[float],
    weights: KappaWeights = "unweighted",
) -> dict[str, Statistic]:
    """Fleiss' kappa, Gwet's AC1/AC2 and Brennan-Prediger from (unit, value) pairs.

    Args:
        units: Unit (session) code of every rating: non-negative integers, or any
            sortable labels.
        values: The ratings, same length; NaN entries are ignored.
        categories: Every category in increasing order (e.g. ``range(0, 7)``); the
            weights and Brennan-Prediger's q use all of them, used or not.
        weights: ``"unweighted"`` (AC1), ``"linear"`` or ``"quadratic"`` (AC2).

    Returns:
        ``{"fleiss_kappa", "gwet_ac1" or "gwet_ac2", "brennan_prediger"}`` ->
        :class:`Statistic` with ``se``, ``ci95`` and ``n`` = rated units. Not defined
        (with the reason) when no unit has two ratings, when there are fewer than two
        categories or units, or when chance agreement is perfect.

    Raises:
        ValueError: If a value is not one of ``categories``, or ``weights`` is unknown.
    """
    keys = chance_keys(weights)
    cats = as_float_array(list(categories), "categories").reshape(-1)
    u = np.asarray(units).reshape(-1)
    x = as_float_array(values, "values").reshape(-1)
    if u.shape != x.shape:
        raise ValueError("units and values must have the same length")
    keep = np.isfinite(x)
    u, x = u[keep], x[keep]
    q = int(cats.size)
    if q < 2:
        why = "needs at least 2 categories"
        return dict.fromkeys(keys, undefined(why))
    if q > MAX_KAPPA_CATEGORIES:
        why = f"{q} categories is too many for a category table; use the ICC or alpha"
        return dict.fromkeys(keys, undefined(why))
    if q > 1 and bool(np.all(np.diff(cats) == 1.0)):  # consecutive whole numbers: no search
        pos = np.clip(x - cats[0], 0, q - 1).astype(np.intp)
    else:
        pos = np.searchsorted(cats, x)
    bad = (pos >= q) | (cats[np.minimum(pos, q - 1)] != x)
    if bad.any():
        raise ValueError(
            f"score {format_value(x[bad][0])} is not one of the categories "
            f"{format_value(cats[0])}..{format_value(cats[-1])}"
        )
    if u.size == 0:
        return dict.fromkeys(keys, undefined("no session has two or more ratings"))
    if u.dtype.kind in "iu" and int(u.min()) >= 0 and int(u.max()) <= 4 * u.size + 1024:
        # Integer unit codes (the report's): number the used ones without a sort.
        used = np.bincount(u) > 0
        u_codes = (np.cumsum(used) - 1)[u]
    else:
        u_codes = np.unique(u, return_inverse=True)[1].reshape(-1)
    n = int(u_codes.max()) + 1
    table = np.bincount(u_codes * q + pos, minlength=n * q).reshape(n, q).astype(np.float64)
    return _coefficients(table, weight_matrix(q, weights), keys)


def chance_agreement(
    matrix: npt.ArrayLike,
    categories: Sequence[float],
    weights: KappaWeights = "unweighted",
) -> dict[str, Statistic]:
    """The coefficients of :func:`chance_agreement_from_units` for a sessions x raters matrix.

    Equals ``irrCAC.raw.CAC(frame, weights=..., categories=list(categories))`` with
    its ``fleiss()``, ``gwet()`` and ``bp()`` (value, ``se`` and interval), where
    ``frame`` holds the matrix with one column per rater and NaN for a missing score.

    Args:
        matrix: n sessions x m raters, NaN where a rater did not score a session.
        categories: As for :func:`chance_agreement_from_units`.
        weights: As for :func:`chance_agreement_from_units`.

    Returns:
        As :func:`chance_agreement_from_units`.
    """
    x = as_matrix(matrix)
    units = np.repeat(np.arange(x.shape[0], dtype=np.intp), x.shape[1])
    return chance_agreement_from_units(units, x.reshape(-1), categories, weights)


@lru_cache(maxsize=4096)
def _t975(df: int) -> float:
    """The 97.5 % quantile of Student's t with ``df`` degrees of freedom (cached: the
    per-pair reports ask for the same few ``df`` thousands of times)."""
    return float(stats.t.ppf(0.975, df))


def _coefficients(
    table: FloatArray, w: FloatArray, keys: tuple[str, str, str]
) -> dict[str, Statistic]:
    """The three coefficients from the units x categories count table (every r_i >= 1)."""
    return coefficients_of_profiles(table, np.ones((1, table.shape[0])), w, keys)[0]


def pair_profiles(q: int) -> FloatArray:
    """The (q * q) x q category counts of a unit rated twice, in the cells of a pair table.

    Row ``a * q + b`` counts the categories of a unit whose two ratings are at
    positions a and b: one in each, or two in category a when a = b. With a two-coder
    contingency table as the multiplicities, :func:`coefficients_of_profiles` gives the
    coefficients of the complete pairs without a row per session.
    """
    eye = np.eye(q)
    return (eye[:, None, :] + eye[None, :, :]).reshape(q * q, q)


def coefficients_of_profiles(
    profiles: FloatArray, mult: FloatArray, w: FloatArray, keys: tuple[str, str, str]
) -> list[dict[str, Statistic]]:
    """The three coefficients of M data sets that share their unit profiles.

    Each data set m has ``mult[m, i]`` units with the category counts of row i of
    ``profiles`` (a plain units x categories table is the one data set with every
    multiplicity 1). Every sum over units is a sum over profiles weighted by the
    multiplicities, vectorised across the data sets.

    Args:
        profiles: P x q category counts per unit profile (every row sum >= 1).
        mult: M x P units per profile (0 where a data set has none).
        w: The q x q agreement weights.
        keys: The three keys (:func:`chance_keys`).

    Returns:
        One ``{key: Statistic}`` per data set.
    """
    p_rows, q = profiles.shape
    if q < 2:  # as chance_agreement: the coefficients need two categories to tell apart
        why = "needs at least 2 categories"
        return [dict.fromkeys(keys, undefined(why)) for _ in range(mult.shape[0])]
    # Row sums as matrix-vector products: numpy's axis=1 sums over a handful of
    # categories are several times slower.
    r_i = profiles @ np.ones(q)
    multi = (r_i >= 2).astype(np.float64)
    n = mult.sum(axis=1)
    n2 = mult @ multi
    weighted = profiles @ w.T
    sum_q = np.einsum("ij,ij->i", profiles, weighted) - r_i
    pairs = r_i * (r_i - 1.0)
    pa_i = np.zeros(p_rows)
    pa_i[multi > 0] = sum_q[multi > 0] / pairs[multi > 0]
    safe_n = np.where(n > 0, n, 1.0)
    safe_n2 = np.where(n2 > 0, n2, 1.0)
    pa = (mult @ pa_i) / safe_n2
    inv_r = 1.0 / r_i
    pi = ((mult * inv_r) @ profiles) / safe_n[:, None]
    w_sum = float(w.sum())
    gwet_c = w_sum / (q * (q - 1))
    pe = np.stack(
        [
            np.einsum("mk,kl,ml->m", pi, w, pi),
            gwet_c * np.einsum("mk,mk->m", pi, 1.0 - pi),
            np.full(mult.shape[0], w_sum / (q * q)),
        ]
    )  # 3 x M
    # Each unit's share of the chance agreement (Gwet 2014, ch. 5): the linearisation
    # term of Fleiss and Gwet; Brennan-Prediger's chance agreement is a constant.
    pi_sym = (pi @ w.T + pi @ w) / 2.0
    pe_i = [(pi_sym @ profiles.T) * inv_r, gwet_c * ((1.0 - pi) @ profiles.T) * inv_r, None]
    defined = (1.0 - pe) > 1e-12
    safe_q = np.where(defined, 1.0 - pe, 1.0)
    values = (pa[None, :] - pe) / safe_q
    scale = (n / safe_n2)[:, None]
    se = np.zeros_like(values)
    for j in range(3):
        per_unit = scale * (pa_i[None, :] - pe[j][:, None] * multi[None, :]) / safe_q[j][:, None]
        share = pe_i[j]
        if share is not None:
            per_unit = (
                per_unit
                - 2.0 * (1.0 - values[j])[:, None] * (share - pe[j][:, None]) / safe_q[j][:, None]
            )
        dev = per_unit - values[j][:, None]
        se[j] = np.sqrt(np.einsum("mi,mi->m", mult * dev, dev) / (safe_n * np.maximum(n - 1, 1)))
    out: list[dict[str, Statistic]] = []
    for m in range(mult.shape[0]):
        n_m = int(round(float(n[m])))
        if n2[m] == 0:
            out.append(dict.fromkeys(keys, undefined("no session has two or more ratings", n_m)))
            continue
        if n_m < 2:
            why = "needs at least 2 rated sessions; there is 1"
            out.append(dict.fromkeys(keys, undefined(why, n_m)))
            continue
        t = _t975(n_m - 1)
        row: dict[str, Statistic] = {}
        for j, key in enumerate(keys):
            if not defined[j, m]:
                row[key] = undefined(
                    "chance agreement is perfect (every rating in one category), so the "
                    "coefficient is not defined",
                    n_m,
                )
                continue
            value = float(values[j, m])
            s = float(se[j, m])
            row[key] = Statistic(
                value=value, n=n_m, se=s, ci95=(value - t * s, min(1.0, value + t * s))
            )
        out.append(row)
    return out
