"""Percentage agreement and internal consistency (Cronbach's alpha)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from coder.reliability._common import FloatArray, Statistic, as_matrix, undefined

# Differences this close to the "within" threshold count as within it: 12.3 - 11.3 is
# 1.0000000000000009 in binary floating point, and a lab would call that one point.
_WITHIN_SLACK = 1e-9


@dataclass(frozen=True, slots=True)
class Agreement:
    """Exact and within-one-point agreement, as fractions of comparisons.

    Attributes:
        exact: Share of (session, rater pair) comparisons with identical scores.
        within_one: Share whose scores differ by at most one point.
    """

    exact: Statistic
    within_one: Statistic

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"exact": {...}, "within_one": {...}}`` (SPEC section 9)."""
        return {"exact": self.exact.to_dict(), "within_one": self.within_one.to_dict()}


def agreement_counts(matrix: FloatArray, within: float = 1.0) -> tuple[int, int, int]:
    """Count comparisons, exact matches and near matches over all coder pairs.

    Args:
        matrix: n sessions x m coders (or coder slots), NaN where missing.
        within: The "near" threshold in score points.

    Returns:
        ``(comparisons, exact, within)`` over every session and every pair of
        columns where both scores are present.
    """
    total = exact = near = 0
    m = matrix.shape[1]
    present = np.isfinite(matrix)
    for j in range(m):
        for k in range(j + 1, m):
            both = present[:, j] & present[:, k]
            d = np.abs(matrix[both, j] - matrix[both, k])
            total += int(d.size)
            exact += int(np.count_nonzero(d == 0))
            near += int(np.count_nonzero(d <= within + _WITHIN_SLACK))
    return total, exact, near


def agreement_from_counts(total: int, exact: int, near: int) -> Agreement:
    """Build :class:`Agreement` from counts (not defined when there is no comparison)."""
    if total == 0:
        why = "no session has two coders' scores to compare"
        return Agreement(undefined(why), undefined(why))
    return Agreement(
        Statistic(value=exact / total, n=total), Statistic(value=near / total, n=total)
    )


def agreement(matrix: npt.ArrayLike, within: float = 1.0) -> Agreement:
    """Exact and within-``within``-points agreement of a sessions x coders matrix.

    The unit is the (session, rater pair) comparison with both scores present: a
    session coded by three raters gives three comparisons, one with a missing score
    gives fewer. Proportions are fractions (0.68, not 68 %). This is the plain
    percentage agreement labs report beside kappa (e.g. Hallgren 2012, Tutor. Quant.
    Methods Psychol. 8(1), 23-34). A difference within 1e-9 of ``within`` counts as
    within (guards against binary rounding such as 12.3 - 11.3).

    Args:
        matrix: n x m scores, NaN where missing.
        within: The tolerance in score points for ``within_one`` (default 1).

    Returns:
        An :class:`Agreement` whose statistics have ``n`` = comparisons; both are not
        defined when no session has two scores.
    """
    return agreement_from_counts(*agreement_counts(as_matrix(matrix), within))


def cronbach_alpha(items: npt.ArrayLike) -> Statistic:
    """Cronbach's alpha of a multi-item scale, with the Feldt 95 % interval.

    alpha = p / (p - 1) * (1 - sum of item variances / variance of the total), with
    sample variances (Cronbach 1951), on the sessions where every item is present
    (listwise, as ``pingouin.cronbach_alpha(nan_policy="listwise")`` and
    ``psych::alpha(use = "complete.obs")``). The interval is Feldt, Woodruff & Salih
    (1987): 1 - (1 - alpha) * F_{0.025 / 0.975}(n - 1, (n - 1)(p - 1)) upper
    quantiles, as pingouin computes it (pingouin rounds it to 3 decimals; we do not).

    McDonald's omega is deliberately not offered: ``psych::omega`` fits a factor
    model whose result depends on the rotation and extraction settings, and without
    R to check against it could not be shown to match to 1e-6.

    Edge cases: fewer than 2 items or 2 complete sessions, or a total score with no
    variance, give ``value=None`` with a ``why``. Alpha can be negative (items
    that correlate negatively); it is reported as is.

    Args:
        items: n sessions x p items, NaN where missing.

    Returns:
        A :class:`Statistic` with ``n`` = sessions used and ``ci95``.
    """
    x = as_matrix(items, "items")
    n, p = x.shape
    # Column means through BLAS double as the missing-value check: NaN propagates.
    col_means = np.full(n, 1.0 / n) @ x if n else np.zeros(p)
    if not np.isfinite(col_means).all():
        x = x[np.isfinite(x).all(axis=1)]
        n = x.shape[0]
        col_means = np.full(n, 1.0 / n) @ x if n else np.zeros(p)
    if p < 2:
        return undefined(f"needs at least 2 items; there {_are(p)}", n)
    if n < 2:
        return undefined(f"needs at least 2 sessions with every item scored; there {_are(n)}", n)
    # With C the covariance matrix of the items, alpha = p / (p - 1) * (1 - trace(C) /
    # sum(C)) (pingouin's formula). Only the trace and the sum are needed: the trace is
    # the sum of squared deviations and sum(C) the variance of the row totals, two
    # passes over the data instead of a p x p matrix product.
    centred = x - col_means
    spread = max(float(centred.max()), -float(centred.min()))
    if spread > 0.0 and not 1e-100 <= spread <= 1e100:
        # Alpha is scale-free: rescale extreme scores so squares neither overflow nor
        # underflow (ordinary data never comes here and stays bit-identical).
        centred = centred / spread
    flat = centred.reshape(-1)
    squares = float(flat @ flat)
    totals = centred @ np.ones(p)
    sum_item_var = squares / (n - 1)
    total_var = float(totals @ totals) / (n - 1)
    # Items that cancel exactly (e.g. x and 4 - x) leave rounding noise of ~1e-32 in the
    # total variance; dividing by it would print alpha = -1e31.
    if total_var <= 1e-12 * sum_item_var:
        return undefined("the scale total is the same in every session (no variance)", n)
    value = p / (p - 1) * (1.0 - sum_item_var / total_var)
    df1 = n - 1
    df2 = df1 * (p - 1)
    lower = 1.0 - (1.0 - value) * float(stats.f.isf(0.025, df1, df2))
    upper = 1.0 - (1.0 - value) * float(stats.f.isf(0.975, df1, df2))
    return Statistic(value=value, n=n, ci95=(lower, upper))


def _are(n: int) -> str:
    return "is 1" if n == 1 else f"are {n}"
