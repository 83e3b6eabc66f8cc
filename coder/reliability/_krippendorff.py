"""Krippendorff's alpha for nominal, ordinal and interval data, any design.

Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School
for Communication, University of Pennsylvania (and Krippendorff 2019, *Content
Analysis*, 4th ed., ch. 12). With m_u values in unit (session) u, n = sum of m_u
over *pairable* units (m_u >= 2), n_c the number of pairable values equal to c and a
difference function delta:

    alpha = 1 - (n - 1) * sum_u [ sum_{i != j in u} delta(x_i, x_j) / (m_u - 1) ]
                        / sum_{c, k} n_c n_k delta(c, k)

This is the coincidence-matrix formula of the ``krippendorff`` package (Castro,
``krippendorff.alpha``) summed without building the V x V matrices:

- nominal: delta = [c != k], so the sums are m_u^2 - sum_c n_uc^2 and
  n^2 - sum_c n_c^2;
- interval: delta = (c - k)^2, so sum_{i != j} (x_i - x_j)^2 = 2 m sum (x - mean)^2;
- ordinal: delta(c, k) = (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2, which equals
  (t_k - t_c)^2 with the "mid-rank" t_c = sum_{g<c} n_g + n_c / 2, so ordinal alpha
  is interval alpha on t.

Categories in the value domain that nobody used have n_g = 0 and change nothing, so a
full ``value_domain`` (the scale's range) gives the same number as the observed
values; it is still checked that every score lies in it. The tests compare with the
``krippendorff`` package (0.9) to 1e-9 on many designs. The package itself is not
called at run time: it builds N x V x V arrays, about 10 ms per item at 10,000
sessions and out of memory for duration items with thousands of distinct values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from coder.reliability._common import (
    FloatArray,
    IntArray,
    Statistic,
    as_float_array,
    as_matrix,
    format_value,
    integer_codes,
    undefined,
)

AlphaLevel = Literal["nominal", "ordinal", "interval"]

# Up to this many (unit, category) cells the nominal sums use one bincount; beyond it
# (many distinct values, e.g. seconds) they sort instead, to bound memory.
_NOMINAL_TABLE_LIMIT = 1 << 20
ALPHA_LEVELS: tuple[AlphaLevel, ...] = ("nominal", "ordinal", "interval")


def _moderate(x: FloatArray) -> FloatArray:
    """Shift and scale values with an extreme spread to [0, 1] (alpha is invariant).

    Differences of 1e-200 would underflow when squared and of 1e200 overflow; ordinary
    ratings and seconds are returned unchanged, so results stay bit-identical.
    """
    lo = float(x.min())
    spread = float(x.max()) - lo
    if 1e-100 <= spread <= 1e100:
        return x
    if not np.isfinite(spread):
        big = float(np.abs(x).max())
        x = x / big
        lo = float(x.min())
        spread = float(x.max()) - lo
    return (x - lo) / spread


def _interval_sums(
    units: IntArray, values: FloatArray, m_u: npt.NDArray[np.int64]
) -> tuple[float, float]:
    """Observed and expected interval sums: (sum_u S_u / (m_u - 1), sum_{c,k} ...)."""
    s1 = np.bincount(units, weights=values, minlength=m_u.size)
    present = m_u > 0
    means = np.zeros(m_u.size)
    means[present] = s1[present] / m_u[present]
    dev = values - means[units]
    ss_u = np.bincount(units, weights=dev * dev, minlength=m_u.size)
    observed = float(np.sum(2.0 * m_u[present] * ss_u[present] / (m_u[present] - 1)))
    centred = values - values.mean()
    expected = 2.0 * values.size * float(centred @ centred)
    return observed, expected


@dataclass(frozen=True, slots=True)
class _Pairable:
    """Pairable ratings, prepared once for all levels of measurement."""

    units: IntArray  # unit code of each pairable value
    values: FloatArray
    codes: IntArray  # value codes 0..V-1 in increasing value order
    m_u: npt.NDArray[np.int64]  # values per unit (0 for units that are not pairable)
    n_units: int


def _prepare(
    units: npt.ArrayLike, values: npt.ArrayLike, value_domain: Sequence[float] | None
) -> _Pairable | Statistic:
    u = np.asarray(units).reshape(-1)
    x = as_float_array(values, "values").reshape(-1)
    if u.shape != x.shape:
        raise ValueError("units and values must have the same length")
    keep = np.isfinite(x)
    if not keep.all():
        u = u[keep]
        x = x[keep]
    if value_domain is not None and x.size:
        domain = as_float_array(value_domain, "value_domain").reshape(-1)
        outside = ~np.isin(x, domain)
        if np.any(outside):
            raise ValueError(
                f"score {format_value(x[outside][0])} is outside the value domain "
                f"{format_value(domain.min())}..{format_value(domain.max())}"
            )
    if u.size == 0:
        return undefined("no session has two or more ratings")
    if u.dtype.kind in "iu" and int(u.min()) >= 0:
        u_codes = u.astype(np.intp, copy=False)
    else:  # any other labels: number them
        u_codes = np.unique(u, return_inverse=True)[1].astype(np.intp).reshape(-1)
    m_u = np.bincount(u_codes).astype(np.int64)
    pairable_unit = m_u >= 2
    n_units = int(np.count_nonzero(pairable_unit))
    if n_units == 0:
        return undefined("no session has two or more ratings")
    if n_units < m_u.size:
        pairable = pairable_unit[u_codes]
        u_codes = u_codes[pairable]
        x = x[pairable]
        m_u = np.where(pairable_unit, m_u, 0)
    if float(x.min()) == float(x.max()):
        return undefined(
            f"every paired rating is {format_value(x[0])}: with no variation, expected "
            "disagreement is 0 and alpha is not defined",
            n_units,
        )
    codes, _domain = integer_codes(x)
    return _Pairable(u_codes, x, codes, m_u, n_units)


def _alpha_level(data: _Pairable, level: AlphaLevel) -> Statistic:
    n = data.values.size
    codes = data.codes
    m_u = data.m_u
    if level == "nominal":
        counts = np.bincount(codes).astype(np.float64)
        expected = float(n) * n - float(counts @ counts)
        n_cat = counts.size
        if m_u.size * n_cat <= 8 * n + _NOMINAL_TABLE_LIMIT:
            per_unit = np.bincount(data.units * n_cat + codes, minlength=m_u.size * n_cat)
            sq = (per_unit.reshape(m_u.size, n_cat).astype(np.float64) ** 2).sum(axis=1)
        else:  # many categories (e.g. seconds): count equal (unit, value) runs by sorting
            order = np.lexsort((codes, data.units))
            su = data.units[order]
            sc = codes[order]
            new_run = np.ones(n, dtype=bool)
            new_run[1:] = (su[1:] != su[:-1]) | (sc[1:] != sc[:-1])
            starts = np.flatnonzero(new_run)
            run_len = np.diff(np.append(starts, n)).astype(np.float64)
            sq = np.bincount(su[starts], weights=run_len * run_len, minlength=m_u.size)
        present = m_u > 0
        mu = m_u[present].astype(np.float64)
        observed = float(np.sum((mu * mu - sq[present]) / (mu - 1)))
    elif level in ("ordinal", "interval"):
        x = _moderate(data.values)
        if level == "ordinal":
            counts = np.bincount(codes).astype(np.float64)
            ranks = np.cumsum(counts) - counts / 2.0
            x = ranks[codes]
        observed, expected = _interval_sums(data.units, x, m_u)
    else:
        raise ValueError(f"level must be one of {ALPHA_LEVELS}, not {level!r}")
    if not (expected > 0.0 and math.isfinite(expected) and math.isfinite(observed)):
        # Only reachable with extreme magnitudes (differences of 1e-200 underflow to 0,
        # squares of 1e200 overflow): report it rather than divide by 0 or inf.
        return undefined(
            "the ratings differ by amounts too small or too large for floating point "
            "(expected disagreement is 0 or infinite), so alpha is not defined",
            data.n_units,
        )
    return Statistic(value=1.0 - (n - 1) * observed / expected, n=data.n_units)


def alpha_from_units(
    units: npt.ArrayLike,
    values: npt.ArrayLike,
    level: AlphaLevel,
    value_domain: Sequence[float] | None = None,
) -> Statistic:
    """Krippendorff's alpha from (unit, value) pairs, the long form of the data.

    Args:
        units: Unit (session) label of every rating: non-negative integer codes, or
            any sortable labels.
        values: The ratings, same length; NaN entries are ignored.
        level: ``"nominal"``, ``"ordinal"`` or ``"interval"``.
        value_domain: Every allowed value (e.g. ``range(0, 7)``), or None.

    Returns:
        A :class:`Statistic` whose ``n`` is the number of pairable units (sessions
        with two or more ratings). Not defined when no unit has two ratings, or when
        all pairable ratings are the same value (expected disagreement 0).

    Raises:
        ValueError: If ``level`` is unknown, lengths differ, or a value is outside
            ``value_domain``.
    """
    return alphas_from_units(units, values, (level,), value_domain)[level]


def alphas_from_units(
    units: npt.ArrayLike,
    values: npt.ArrayLike,
    levels: Sequence[AlphaLevel] = ALPHA_LEVELS,
    value_domain: Sequence[float] | None = None,
) -> dict[str, Statistic]:
    """Krippendorff's alpha at several levels, sharing the preparation of the data.

    Args:
        units: As in :func:`alpha_from_units`.
        values: As in :func:`alpha_from_units`.
        levels: The levels wanted, by default all three.
        value_domain: As in :func:`alpha_from_units`.

    Returns:
        ``{level: Statistic}`` in the order of ``levels``.

    Raises:
        ValueError: As :func:`alpha_from_units`.
    """
    for level in levels:
        if level not in ALPHA_LEVELS:
            raise ValueError(f"level must be one of {ALPHA_LEVELS}, not {level!r}")
    data = _prepare(units, values, value_domain)
    if isinstance(data, Statistic):
        return {level: data for level in levels}
    return {level: _alpha_level(data, level) for level in levels}


def krippendorff_alpha(
    matrix: npt.ArrayLike,
    level: AlphaLevel = "interval",
    value_domain: Sequence[float] | None = None,
) -> Statistic:
    """Krippendorff's alpha of a sessions x coders matrix with missing scores.

    Equals ``krippendorff.alpha(matrix.T, level_of_measurement=level,
    value_domain=value_domain)`` (note the package wants coders x units). Every
    observed rating is used; sessions with a single rating cannot be paired and
    drop out, as in Krippendorff (2011). See the module docstring for the formulas.

    Edge cases: no session with two ratings, or every paired rating the same value,
    give ``value=None`` with a ``why`` (the package raises or returns NaN there).

    Args:
        matrix: n sessions x m coders, NaN where a coder did not score a session.
        level: ``"nominal"``, ``"ordinal"`` or ``"interval"``.
        value_domain: The full set of allowed values, e.g. ``range(0, 7)``; only
            checked, because unused categories do not change alpha.

    Returns:
        A :class:`Statistic` whose ``n`` is the number of pairable sessions.

    Raises:
        ValueError: If ``level`` is unknown or a score lies outside ``value_domain``.
    """
    x = as_matrix(matrix)
    units = np.repeat(np.arange(x.shape[0], dtype=np.intp), x.shape[1])
    return alpha_from_units(units, x.reshape(-1), level, value_domain)
