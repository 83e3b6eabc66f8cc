"""Intraclass correlations in the six Shrout & Fleiss (1979) forms.

The computation follows R ``psych::ICC(lmer = FALSE)`` (Revelle) and
``pingouin.intraclass_corr`` line by line: the classic two-way ANOVA of an n sessions x
k coders matrix without interaction gives the mean squares

- MSB (between sessions, df n - 1),
- MSJ (between coders/judges, df k - 1),
- MSE (residual, df (n - 1)(k - 1)),
- MSW = (SSJ + SSE) / (n (k - 1)) (within sessions, the one-way error term),

and from them (Shrout & Fleiss 1979, Table 1; McGraw & Wong 1996, Table 4):

- ICC1  = (MSB - MSW) / (MSB + (k - 1) MSW)
- ICC2  = (MSB - MSE) / (MSB + (k - 1) MSE + k (MSJ - MSE) / n)
- ICC3  = (MSB - MSE) / (MSB + (k - 1) MSE)
- ICC1k = (MSB - MSW) / MSB
- ICC2k = (MSB - MSE) / (MSB + (MSJ - MSE) / n)
- ICC3k = (MSB - MSE) / MSB

with F = MSB / MSW (one-way forms) or MSB / MSE (two-way forms) and the confidence
intervals of Shrout & Fleiss (1979, eqs. 6-13) and McGraw & Wong (1996, Table 7) as
``psych`` codes them, including the Satterthwaite-type degrees of freedom for ICC2.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

from coder.reliability._common import (
    ZERO_RELATIVE,
    FloatArray,
    as_matrix,
    format_value,
    json_interval,
    json_number,
)

ICC_FORMS: tuple[str, ...] = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")
"""The six forms, in the order and with the names of R ``psych::ICC``."""

# name -> (Shrout & Fleiss label, McGraw & Wong label, plain description)
ICC_LABELS: Mapping[str, tuple[str, str, str]] = {
    "ICC1": ("ICC(1,1)", "ICC(1)", "one-way random effects, absolute agreement, single rater"),
    "ICC2": ("ICC(2,1)", "ICC(A,1)", "two-way random effects, absolute agreement, single rater"),
    "ICC3": ("ICC(3,1)", "ICC(C,1)", "two-way mixed effects, consistency, single rater"),
    "ICC1k": (
        "ICC(1,k)",
        "ICC(k)",
        "one-way random effects, absolute agreement, mean of k raters",
    ),
    "ICC2k": (
        "ICC(2,k)",
        "ICC(A,k)",
        "two-way random effects, absolute agreement, mean of k raters",
    ),
    "ICC3k": ("ICC(3,k)", "ICC(C,k)", "two-way mixed effects, consistency, mean of k raters"),
}

_Q = 0.975  # upper quantile of a two-sided 95 % interval, as psych's 1 - alpha / 2


@dataclass(frozen=True, slots=True)
class IccForm:
    """One ICC form with its F test and 95 % confidence interval.

    Attributes:
        name: ``"ICC1"`` ... ``"ICC3k"`` (R ``psych`` names).
        shrout_fleiss: Shrout & Fleiss (1979) label, e.g. ``"ICC(2,1)"``.
        mcgraw_wong: McGraw & Wong (1996) label, e.g. ``"ICC(A,1)"``.
        description: Model, type and unit in words, e.g. "two-way random effects,
            absolute agreement, single rater".
        value: The coefficient, or None when it is not defined.
        f: F statistic; ``math.inf`` when the error mean square is zero (perfect
            agreement or consistency); None when undefined (0 / 0).
        df1: Numerator degrees of freedom (n - 1).
        df2: Denominator degrees of freedom (n (k - 1) or (n - 1)(k - 1)).
        p: Upper-tail p of the F test; None when F is undefined.
        ci95: 95 % confidence interval, or None when it cannot be computed.
        why: Why ``value`` (or a part such as the interval) is missing.
    """

    name: str
    shrout_fleiss: str
    mcgraw_wong: str
    description: str
    value: float | None
    f: float | None
    df1: int
    df2: int
    p: float | None
    ci95: tuple[float, float] | None
    why: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the strict-JSON object of SPEC section 9 for this form.

        An infinite F becomes the string ``"Infinity"``; anything undefined is null.
        """
        out: dict[str, Any] = {
            "value": json_number(self.value),
            "F": json_number(self.f),
            "df1": int(self.df1),
            "df2": int(self.df2),
            "p": json_number(self.p),
            "ci95": json_interval(self.ci95),
            "shrout_fleiss": self.shrout_fleiss,
            "mcgraw_wong": self.mcgraw_wong,
            "description": self.description,
        }
        if self.why is not None:
            out["why"] = self.why
        return out


@dataclass(frozen=True, slots=True)
class IccResult:
    """All six ICC forms of one n x k matrix, with the ANOVA mean squares.

    Attributes:
        n: Sessions (rows) used.
        k: Coders (columns).
        ms_sessions: MSB, between-sessions mean square (None when undefined).
        ms_raters: MSJ, between-coders mean square.
        ms_error: MSE, residual mean square of the two-way model.
        ms_within: MSW, within-sessions mean square of the one-way model.
        forms: ``{"ICC1": IccForm, ...}`` in :data:`ICC_FORMS` order.
        why: Set when no form is defined, for a reason common to all (too few
            sessions or coders, or no variance at all).
    """

    n: int
    k: int
    ms_sessions: float | None
    ms_raters: float | None
    ms_error: float | None
    ms_within: float | None
    forms: Mapping[str, IccForm]
    why: str | None = None

    def __getitem__(self, name: str) -> IccForm:
        return self.forms[name]

    def __iter__(self) -> Iterator[IccForm]:
        return iter(self.forms.values())

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Return ``{"ICC1": {...}, ..., "ICC3k": {...}}`` as in SPEC section 9."""
        return {name: form.to_dict() for name, form in self.forms.items()}


def complete_rows(matrix: npt.ArrayLike) -> FloatArray:
    """Listwise deletion: keep the sessions (rows) where every coder has a score.

    This is what ``psych::ICC(missing = TRUE)`` and ``pingouin.intraclass_corr(
    nan_policy="omit")`` do before the ANOVA.

    Args:
        matrix: n x k scores, NaN where a score is missing.

    Returns:
        The rows without any NaN (possibly zero rows).
    """
    x = as_matrix(matrix)
    return x[np.isfinite(x).all(axis=1)]


def _all_undefined(n: int, k: int, why: str) -> IccResult:
    df1 = max(n - 1, 0)
    forms = {
        name: IccForm(
            name,
            *ICC_LABELS[name],
            value=None,
            f=None,
            df1=df1,
            df2=max(n * (k - 1), 0) if name in ("ICC1", "ICC1k") else max(df1 * (k - 1), 0),
            p=None,
            ci95=None,
            why=why,
        )
        for name in ICC_FORMS
    }
    return IccResult(n, k, None, None, None, None, forms, why)


def icc(matrix: npt.ArrayLike) -> IccResult:
    """Compute the six Shrout & Fleiss ICC forms of a complete n x k matrix.

    Values, F tests, p values and 95 % intervals equal R ``psych::ICC(lmer = FALSE)``
    and ``pingouin.intraclass_corr`` (see the module docstring for the formulas;
    Shrout & Fleiss 1979; McGraw & Wong 1996). The work is a handful of vectorised
    passes over the matrix, so 10,000 x 2 takes well under a millisecond.

    Edge cases (the result never contains NaN):

    - fewer than 2 sessions or 2 coders, or all scores identical: every form has
      ``value=None`` and a ``why``;
    - perfect agreement with variance between sessions (MSW = MSE = 0): every ICC is
      1 with interval [1, 1], F is ``math.inf`` and p is 0;
    - perfect consistency but a constant offset between coders (MSE = 0 < MSJ):
      ICC3/ICC3k are 1 with F = inf and interval [1, 1]; ICC1/ICC2 stay below 1 and
      the ICC2 interval uses the limit of psych's formula as MSE -> 0 (its degrees of
      freedom tend to k - 1; psych and pingouin return NaN there);
    - no variance between sessions (MSB = 0): the average-measure forms divide by MSB
      (or by a zero denominator) and are reported as not defined; single-measure
      forms are defined (for example ICC1 = -1 / (k - 1));
    - a mean square whose root is below 1e-12 of the score range is set to
      exactly 0 so that floating-point noise cannot turn perfect agreement into
      1 - 1e-17 with an absurd F; likewise a denominator that cancels to below 1e-12
      of the mean squares (e.g. MSB + (MSJ - MSE) / n = 0 for ICC2k) makes that form
      not defined instead of printing 1e15 (pingouin prints the 1e15);
    - where psych's interval is NaN (its ICC2 degrees of freedom are 0, or a k-rater
      bound divides by zero) ``ci95`` is None and ``why`` says so, while the value,
      F and p are still reported.

    Args:
        matrix: n sessions x k coders, every cell a finite score. Use
            :func:`complete_rows` first when scores are missing.

    Returns:
        An :class:`IccResult`.

    Raises:
        ValueError: If the matrix is not 2-D or contains NaN or infinity.
    """
    x = as_matrix(matrix)
    n, k = x.shape
    if n and k and not np.isfinite(x).all():
        raise ValueError(
            "the ICC matrix contains missing or infinite scores; drop incomplete sessions "
            "first (complete_rows(matrix)) as psych::ICC and pingouin do"
        )
    if k < 2 or n < 2:
        return icc_from_sums(n, k, 0.0, 0.0, 0.0, 0.0, 0.0)
    lo = float(x.min())
    hi = float(x.max())
    if lo == hi:
        return icc_from_sums(n, k, 0.0, 0.0, 0.0, lo, hi)
    # The ICC does not change when scores are shifted or scaled. Shifting by the
    # minimum keeps the sums of squares at the size of the spread (x - lo is exact for
    # data far from zero, e.g. timestamps), and extreme spreads are scaled to 1 so
    # that squares neither overflow (1e200) nor underflow (1e-200).
    spread = hi - lo
    if not math.isfinite(spread):
        big = max(abs(lo), abs(hi))
        x, lo_s, spread = x / big, lo / big, hi / big - lo / big
    else:
        lo_s = lo
    x = x - lo_s
    if not 1e-100 <= spread <= 1e100:
        x = x / spread
        spread = 1.0
    ss_b, ss_j, ss_e = _anova_sums(x)
    return icc_from_sums(n, k, ss_b, ss_j, ss_e, lo, hi, spread)


def _anova_sums(x: FloatArray) -> tuple[float, float, float]:
    """Sums of squares of the two-way ANOVA without interaction (balanced data).

    Residuals are formed explicitly (not as SST - SSB - SSJ), so perfect agreement
    gives SSE = 0 up to rounding of the means, not up to rounding of SST.
    """
    n, k = x.shape
    # Row sums through BLAS: numpy's own reduction along a length-2 axis is ~20x slower.
    row_means = x @ np.full(k, 1.0 / k)
    col_means = np.full(n, 1.0 / n) @ x
    grand = float(row_means.mean())
    dev_rows = row_means - grand
    dev_cols = col_means - grand
    ss_b = k * float(dev_rows @ dev_rows)
    ss_j = n * float(dev_cols @ dev_cols)
    ss_e = 0.0
    if k <= 32:  # column by column: contiguous work, no n x k temporary
        for j in range(k):
            resid = x[:, j] - row_means
            resid -= dev_cols[j]
            ss_e += float(resid @ resid)
    else:
        resid2 = (x - row_means[:, None]) - dev_cols[None, :]
        flat = resid2.reshape(-1)
        ss_e = float(flat @ flat)
    return ss_b, ss_j, ss_e


def icc_from_sums(
    n: int,
    k: int,
    ss_b: float,
    ss_j: float,
    ss_e: float,
    lo: float,
    hi: float,
    spread: float | None = None,
) -> IccResult:
    """The six ICC forms from the sums of squares of the two-way ANOVA.

    :func:`icc` and the two-coder fast path of :func:`pair_reliability` both end
    here (through :func:`icc_from_sums_many`), so edge cases are handled in one place.

    Args:
        n: Sessions.
        k: Coders.
        ss_b: Sum of squares between sessions.
        ss_j: Sum of squares between coders.
        ss_e: Residual sum of squares.
        lo: Smallest score (for the zero-variance check and its message).
        hi: Largest score.
        spread: The range of the scores in the units the sums of squares were
            computed in (default ``hi - lo``); a mean square whose root is below
            1e-12 of it is rounding noise and set to 0.

    Returns:
        An :class:`IccResult` (see :func:`icc` for the edge cases).
    """
    return icc_from_sums_many(
        np.array([n]),
        np.array([k]),
        np.array([ss_b], dtype=np.float64),
        np.array([ss_j], dtype=np.float64),
        np.array([ss_e], dtype=np.float64),
        np.array([lo], dtype=np.float64),
        np.array([hi], dtype=np.float64),
        None if spread is None else np.array([spread], dtype=np.float64),
    )[0]


def _ratios(num: FloatArray, den: FloatArray) -> FloatArray:
    """num / den element-wise with IEEE semantics without warnings (x / 0 = +-inf, 0 / 0 = NaN)."""
    zero = den == 0.0
    out = num / np.where(zero, 1.0, den)
    return np.where(
        zero, np.where((num == 0.0) | np.isnan(num), math.nan, np.copysign(math.inf, num)), out
    )


def _spearman_browns(r: FloatArray, k: npt.NDArray[np.int64]) -> FloatArray:
    """k r / (1 + (k - 1) r) element-wise: the k-rater bound from a single-rater bound
    (psych's CI); NaN where the denominator vanishes (r = -1 / (k - 1)) instead of a
    1e16 artefact."""
    den = 1.0 + r * (k - 1)
    bad = ~np.isfinite(den) | (np.abs(den) <= 1e-12)
    return np.where(bad, math.nan, r * k / np.where(bad, 1.0, den))


def icc_from_sums_many(
    n: npt.NDArray[np.int64],
    k: npt.NDArray[np.int64],
    ss_b: FloatArray,
    ss_j: FloatArray,
    ss_e: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    spread: FloatArray | None = None,
) -> list[IccResult]:
    """:func:`icc_from_sums` of many data sets at once (arrays of one entry per set).

    The mean squares, coefficients, F tests and intervals are computed element-wise
    (the same operations as one by one, so the same numbers); only the result
    objects are made one by one.
    """
    n = np.asarray(n, dtype=np.int64)
    k = np.asarray(k, dtype=np.int64)
    out: list[IccResult | None] = [None] * n.size
    ok = (k >= 2) & (n >= 2) & (lo != hi)
    for i in np.flatnonzero(~ok).tolist():
        ni, ki = int(n[i]), int(k[i])
        if ki < 2:
            out[i] = _all_undefined(
                ni, ki, f"needs at least 2 coders per session; there {_are(ki)}"
            )
        elif ni < 2:
            out[i] = _all_undefined(
                ni, ki, f"needs at least 2 sessions with every coder's score; there {_are(ni)}"
            )
        else:
            out[i] = _all_undefined(
                ni,
                ki,
                f"all {ni * ki} scores are {format_value(float(lo[i]))}: with no variance at "
                "all the ICC is not defined",
            )
    idx = np.flatnonzero(ok)
    if idx.size:
        n, k = n[idx], k[idx]
        spread_v = np.abs(hi[idx] - lo[idx]) if spread is None else spread[idx]
        with np.errstate(all="ignore"):
            done = _icc_arrays(n, k, ss_b[idx], ss_j[idx], ss_e[idx], spread_v)
        for j, i in enumerate(idx.tolist()):
            out[i] = _icc_result(done, j)
    return [r for r in out if r is not None]


def _icc_arrays(
    n: npt.NDArray[np.int64],
    k: npt.NDArray[np.int64],
    ss_b: FloatArray,
    ss_j: FloatArray,
    ss_e: FloatArray,
    spread: FloatArray,
) -> dict[str, Any]:
    """Every number of :func:`icc_from_sums` for valid data sets (n, k >= 2, lo < hi)."""
    df_b = n - 1
    df_j = k - 1
    df_e = df_b * df_j
    df_w = n * df_j
    msb = ss_b / df_b
    msj = ss_j / df_j
    mse = ss_e / df_e
    msw = (ss_j + ss_e) / df_w

    scale = np.minimum(spread, 1e150)  # no overflow below
    tiny = (ZERO_RELATIVE * scale) ** 2
    msb = np.where(msb <= tiny, 0.0, msb)
    msj = np.where(msj <= tiny, 0.0, msj)
    mse = np.where(mse <= tiny, 0.0, mse)
    msw = np.where((msj == 0.0) & (mse == 0.0), 0.0, msw)

    # A denominator that cancels to ~1e-17 of the mean squares (e.g. MSB = (MSE - MSJ) / n
    # for ICC2k) is zero in exact arithmetic; dividing by the rounding noise would print
    # 1e15. Treat it as zero, so the form is reported as not defined.
    big = np.maximum(np.maximum(msb, msj), np.maximum(mse, msw))

    def coefficient(num: FloatArray, den: FloatArray) -> FloatArray:
        return _ratios(num, np.where(np.abs(den) <= 1e-12 * big, 0.0, den))

    icc1 = coefficient(msb - msw, msb + (k - 1) * msw)
    icc2 = coefficient(msb - mse, msb + (k - 1) * mse + k * (msj - mse) / n)
    icc3 = coefficient(msb - mse, msb + (k - 1) * mse)
    icc1k = coefficient(msb - msw, msb)
    icc2k = coefficient(msb - mse, msb + (msj - mse) / n)
    icc3k = coefficient(msb - mse, msb)

    f1 = _ratios(msb, msw)
    f3 = _ratios(msb, mse)
    p1 = np.where(np.isnan(f1), math.nan, special.fdtrc(df_b, df_w, f1))
    p3 = np.where(np.isnan(f3), math.nan, special.fdtrc(df_b, df_e, f3))

    # One-way forms (Shrout & Fleiss 1979, eqs. 6-7 and 12).
    f1l = f1 / special.fdtri(df_b, df_w, _Q)
    f1u = f1 * special.fdtri(df_w, df_b, _Q)
    ci1 = ((f1l - 1) / (f1l + k - 1), (f1u - 1) / (f1u + k - 1))
    ci1k = (np.where(f1l > 0, 1 - 1 / f1l, math.nan), np.where(f1l > 0, 1 - 1 / f1u, math.nan))
    one1 = np.isinf(f1)

    # Consistency forms (eqs. 10-11 and 13).
    f3l = f3 / special.fdtri(df_b, df_e, _Q)
    f3u = f3 * special.fdtri(df_e, df_b, _Q)
    ci3 = ((f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1))
    ci3k = (np.where(f3l > 0, 1 - 1 / f3l, math.nan), np.where(f3l > 0, 1 - 1 / f3u, math.nan))
    one3 = np.isinf(f3)

    # Absolute agreement (eqs. 8-9; McGraw & Wong 1996, Table 7), as psych codes it.
    # psych writes v with Fj = MSJ / MSE; multiplying numerator and denominator by
    # MSE^2 gives the same number and stays finite when MSE = 0.
    c = n * (1 + (k - 1) * icc2) - k * icc2
    inner = k * icc2 * msj + c * mse
    # Cancels exactly (e.g. MSB = 0): v = 0 and psych gives NaN.
    inner = np.where(
        np.abs(inner) <= 1e-12 * (np.abs(k * icc2 * msj) + np.abs(c * mse)), 0.0, inner
    )
    v_num = df_e * inner**2
    v_den = df_b * (k * icc2 * msj) ** 2 + (c * mse) ** 2
    v = _ratios(v_num, v_den)
    v_ok = np.isfinite(v) & (v > 0)
    v_safe = np.where(v_ok, v, 1.0)
    f2u = special.fdtri(df_b, v_safe, _Q)
    f2l = special.fdtri(v_safe, df_b, _Q)
    base = k * msj + (k * n - k - n) * mse
    l2 = _ratios(n * (msb - f2u * mse), f2u * base + n * msb)
    u2 = _ratios(n * (f2l * msb - mse), base + n * f2l * msb)
    ci2 = (np.where(v_ok, l2, math.nan), np.where(v_ok, u2, math.nan))
    ci2k = (
        np.where(v_ok, _spearman_browns(l2, k), math.nan),
        np.where(v_ok, _spearman_browns(u2, k), math.nan),
    )
    one2 = msw == 0.0
    values = (icc1, icc2, icc3, icc1k, icc2k, icc3k)
    bounds = (ci1, ci2, ci3, ci1k, ci2k, ci3k)
    # Which interval each form has: [1, 1] at an infinite F (or MSW = 0 for ICC2),
    # none where F (or ICC2) is NaN, else the formula's when both ends are finite.
    one = (one1, one2, one3, one1, one2, one3)
    none = (
        np.zeros(n.size, dtype=bool),
        np.isnan(icc2) & ~one2,
        np.isnan(f3) & ~one3,
        np.zeros(n.size, dtype=bool),
        np.isnan(icc2) & ~one2,
        np.isnan(f3) & ~one3,
    )
    kind = [
        np.where(
            none[f] | ~np.isfinite(value),
            0,
            np.where(one[f], 1, np.where(np.isfinite(lo) & np.isfinite(hi), 2, 3)),
        ).tolist()
        for f, (value, (lo, hi)) in enumerate(zip(values, bounds, strict=True))
    ]
    return {
        "n": n.tolist(),
        "k": k.tolist(),
        "ms": [x.tolist() for x in (msb, msj, mse, msw)],
        "df": [x.tolist() for x in (df_b, df_w, df_e)],
        "value": [np.where(np.isfinite(x), x, math.nan).tolist() for x in values],
        "f": [np.where(np.isnan(x), math.nan, x).tolist() for x in (f1, f3)],
        "f_nan": [np.isnan(f1).tolist(), np.isnan(f3).tolist()],
        "p": [p1.tolist(), p3.tolist()],
        "p_nan": [np.isnan(p1).tolist(), np.isnan(p3).tolist()],
        "ci": [(lo.tolist(), hi.tolist()) for lo, hi in bounds],
        "kind": kind,
    }


_WHY_B0 = (
    "the sessions do not differ (every session has the same mean score, MSB = 0), "
    "so the average-measure ICC divides by zero and is not defined"
)
_WHY_E0 = (
    "no variance is left once coder means are removed (MSB = MSE = 0), so the "
    "consistency ICC is 0 / 0 and not defined"
)
_WHY_GENERIC = "not defined for these data (a zero denominator in the mean squares)"
_WHY_CI = "the 95 % interval is not defined for these data (0 / 0 in its formula)"


def _icc_result(a: dict[str, Any], j: int) -> IccResult:
    """Data set ``j`` of :func:`_icc_arrays` as an :class:`IccResult`."""
    msb, msj, mse, msw = (x[j] for x in a["ms"])
    df_b, df_w, df_e = (x[j] for x in a["df"])
    f_of = (a["f"][0][j], a["f"][1][j])
    f_nan = (a["f_nan"][0][j], a["f_nan"][1][j])
    p_of = (a["p"][0][j], a["p"][1][j])
    p_nan = (a["p_nan"][0][j], a["p_nan"][1][j])
    why_k = _WHY_B0 if msb == 0.0 else _WHY_GENERIC
    whys = (
        _WHY_GENERIC,
        _WHY_GENERIC,
        _WHY_E0 if msb == 0.0 and mse == 0.0 else _WHY_GENERIC,
        why_k,
        why_k,
        why_k,
    )
    forms: dict[str, IccForm] = {}
    for f, name in enumerate(ICC_FORMS):
        test = 0 if f in (0, 3) else 1  # one-way forms: F = MSB / MSW
        kind = a["kind"][f][j]
        ci: tuple[float, float] | None = None
        why: str | None = None
        value: float | None = a["value"][f][j]
        if kind == 0 and value != value:  # not defined (NaN)
            value, why = None, whys[f]
        elif kind == 1:
            ci = (1.0, 1.0)
        elif kind == 2:
            ci = (a["ci"][f][0][j], a["ci"][f][1][j])
        else:
            why = _WHY_CI
        forms[name] = IccForm(
            name,
            *ICC_LABELS[name],
            value=value,
            f=None if f_nan[test] else f_of[test],
            df1=df_b,
            df2=df_w if test == 0 else df_e,
            p=None if p_nan[test] else p_of[test],
            ci95=ci,
            why=why,
        )
    return IccResult(a["n"][j], a["k"][j], msb, msj, mse, msw, forms, None)


def _are(n: int) -> str:
    return "is 1" if n == 1 else f"are {n}"
