"""Reliability statistics against published worked examples and reference libraries.

References used here (all installed with the test extras, none at run time):
pingouin (``intraclass_corr``, ``cronbach_alpha``; validated by its authors against
R ``psych::ICC``), the ``krippendorff`` package, and scikit-learn's
``cohen_kappa_score``.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import krippendorff
import numpy as np
import numpy.typing as npt
import pandas as pd
import pingouin
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from coder.reliability import (
    ICC_FORMS,
    agreement,
    cohens_kappa,
    complete_rows,
    cronbach_alpha,
    icc,
    krippendorff_alpha,
    pair_reliability,
    pair_reliability_items,
)
from coder.reliability import _krippendorff as kripp_module

# --------------------------------------------------------------------------- helpers

PINGOUIN_NAMES = {
    "ICC(1,1)": "ICC1",
    "ICC(A,1)": "ICC2",
    "ICC(C,1)": "ICC3",
    "ICC(1,k)": "ICC1k",
    "ICC(A,k)": "ICC2k",
    "ICC(C,k)": "ICC3k",
}

# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges.
SHROUT_FLEISS = np.array(
    [
        [9, 2, 5, 8],
        [6, 1, 3, 2],
        [8, 4, 6, 8],
        [7, 1, 2, 6],
        [10, 5, 6, 9],
        [6, 2, 4, 7],
    ],
    dtype=float,
)


@contextmanager
def _unrounded_pingouin() -> Iterator[None]:
    """pingouin rounds CI95 to 2 decimals by default; compare unrounded values."""
    old = dict(pingouin.options)
    pingouin.options["round"] = None
    pingouin.options["round.column.CI95"] = None
    try:
        yield
    finally:
        pingouin.options.clear()
        pingouin.options.update(old)


def pingouin_icc(matrix: npt.NDArray[np.float64]) -> dict[str, dict[str, Any]]:
    """Reference ICC table from pingouin, keyed by psych names."""
    n, k = matrix.shape
    long = pd.DataFrame(
        {
            "session": np.repeat(np.arange(n), k),
            "coder": np.tile(np.arange(k), n),
            "score": matrix.reshape(-1),
        }
    )
    with _unrounded_pingouin(), warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        table = pingouin.intraclass_corr(long, "session", "coder", "score")
    out: dict[str, dict[str, Any]] = {}
    for _, row in table.iterrows():
        out[PINGOUIN_NAMES[row["Type"]]] = {
            "value": float(row["ICC"]),
            "F": float(row["F"]),
            "df1": int(row["df1"]),
            "df2": int(row["df2"]),
            "p": float(row["pval"]),
            "ci95": [float(row["CI95"][0]), float(row["CI95"][1])],
        }
    return out


def assert_icc_matches_pingouin(matrix: npt.ArrayLike, tol: float = 1e-9) -> None:
    """Every value, F, df, p and CI bound of all six forms equals pingouin."""
    x = np.asarray(matrix, dtype=float)
    ours = icc(x)
    ref = pingouin_icc(x)
    for name in ICC_FORMS:
        form = ours[name]
        want = ref[name]
        assert form.value == pytest.approx(want["value"], rel=tol, abs=tol), name
        assert form.f == pytest.approx(want["F"], rel=tol, abs=tol), name
        assert (form.df1, form.df2) == (want["df1"], want["df2"]), name
        assert form.p == pytest.approx(want["p"], rel=1e-7, abs=1e-12), name
        assert form.ci95 is not None, name
        assert form.ci95[0] == pytest.approx(want["ci95"][0], rel=tol, abs=tol), name
        assert form.ci95[1] == pytest.approx(want["ci95"][1], rel=tol, abs=tol), name


def reference_alpha(matrix: npt.ArrayLike, level: Any, domain: Any = None) -> float:
    """krippendorff.alpha on a sessions x coders matrix (the package wants coders x units)."""
    x = np.asarray(matrix, dtype=float)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return float(krippendorff.alpha(x.T, level_of_measurement=level, value_domain=domain))


def counts_to_pairs(table: list[list[int]]) -> tuple[npt.NDArray[np.float64], ...]:
    """Expand a contingency table (rows: coder A's category 0.., columns: B's) to pairs."""
    a: list[int] = []
    b: list[int] = []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [i] * count
            b += [j] * count
    return np.array(a, dtype=float), np.array(b, dtype=float)


def rater_matrix(seed: int, n: int, k: int, levels: int, missing: float) -> np.ndarray:
    """Correlated integer ratings with some missing cells."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, levels, size=(n, 1))
    x = np.clip(truth + rng.integers(-1, 2, size=(n, k)), 0, levels - 1).astype(float)
    x[rng.random((n, k)) < missing] = np.nan
    return x


# ------------------------------------------------------------------------------- ICC


def test_icc_reproduces_shrout_fleiss_table_2() -> None:
    result = icc(SHROUT_FLEISS)
    published = {
        "ICC1": 0.17,
        "ICC2": 0.29,
        "ICC3": 0.71,
        "ICC1k": 0.44,
        "ICC2k": 0.62,
        "ICC3k": 0.91,
    }
    assert {name: round(result[name].value or 0.0, 2) for name in ICC_FORMS} == published
    assert (result.n, result.k) == (6, 4)


def test_icc_shrout_fleiss_equals_pingouin_in_every_field() -> None:
    assert_icc_matches_pingouin(SHROUT_FLEISS)


def test_icc_shrout_fleiss_mean_squares_match_the_paper() -> None:
    # Shrout & Fleiss (1979) Table 2 footnote: BMS 11.24, WMS 6.26, JMS 32.49, EMS 1.02.
    result = icc(SHROUT_FLEISS)
    assert result.ms_sessions == pytest.approx(11.24, abs=0.005)
    assert result.ms_within == pytest.approx(6.26, abs=0.005)
    assert result.ms_raters == pytest.approx(32.49, abs=0.005)
    assert result.ms_error == pytest.approx(1.02, abs=0.005)


def test_icc_names_follow_mcgraw_and_wong() -> None:
    result = icc(SHROUT_FLEISS)
    assert result["ICC2"].mcgraw_wong == "ICC(A,1)"
    assert "absolute agreement, single rater" in result["ICC2"].description
    assert result["ICC3k"].mcgraw_wong == "ICC(C,k)"
    assert "consistency" in result["ICC3k"].description
    assert result["ICC1"].shrout_fleiss == "ICC(1,1)"
    assert list(result.to_dict()) == list(ICC_FORMS)


@pytest.mark.parametrize(
    "matrix",
    [
        pytest.param(rater_matrix(1, 40, 2, 7, 0.0), id="two-coders-0-6"),
        pytest.param(rater_matrix(2, 25, 3, 5, 0.0), id="three-coders-1-5"),
        pytest.param(rater_matrix(3, 12, 5, 3, 0.0), id="five-coders-three-levels"),
        pytest.param(
            np.array([[4, 4], [4, 4], [4, 3], [4, 4], [3, 4], [4, 4], [2, 3], [4, 4]], float),
            id="ceiling-effect",
        ),
        pytest.param(
            np.array([[312.5, 298.0], [120.25, 131.0], [0.0, 12.5], [605.0, 590.75], [48.0, 61.5]]),
            id="continuous-seconds",
        ),
        pytest.param(np.array([[1, 2], [2, 1], [1, 1], [2, 2]], float), id="tiny"),
    ],
)
def test_icc_matches_pingouin_on_varied_data(matrix: np.ndarray) -> None:
    assert_icc_matches_pingouin(matrix)


def test_icc_after_listwise_deletion_matches_pingouin_omit() -> None:
    x = rater_matrix(7, 30, 3, 5, 0.15)
    n, k = x.shape
    long = pd.DataFrame(
        {"s": np.repeat(np.arange(n), k), "r": np.tile(np.arange(k), n), "x": x.reshape(-1)}
    )
    with _unrounded_pingouin(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pingouin.intraclass_corr(long, "s", "r", "x", nan_policy="omit")
    complete = complete_rows(x)
    assert complete.shape[0] < n  # the fixture really has missing scores
    ours = icc(complete)
    for _, row in ref.iterrows():
        form = ours[PINGOUIN_NAMES[row["Type"]]]
        assert form.value == pytest.approx(float(row["ICC"]), rel=1e-9, abs=1e-12)
        assert form.df2 == int(row["df2"])


def test_icc_rejects_missing_scores() -> None:
    with pytest.raises(ValueError, match="complete_rows"):
        icc(np.array([[1.0, 2.0], [np.nan, 3.0], [2.0, 2.0]]))


def test_icc_rejects_non_matrix() -> None:
    with pytest.raises(ValueError, match="2-D"):
        icc(np.array([1.0, 2.0, 3.0]))


def test_perfect_agreement_gives_one_with_infinite_f() -> None:
    x = np.array([[1, 1], [3, 3], [2, 2], [5, 5]], dtype=float)
    result = icc(x)
    for name in ICC_FORMS:
        form = result[name]
        assert form.value == 1.0, name
        assert form.f == math.inf, name
        assert form.p == 0.0, name
        assert form.ci95 == (1.0, 1.0), name
    encoded = json.dumps(result.to_dict(), allow_nan=False)
    assert json.loads(encoded)["ICC2"]["F"] == "Infinity"


def test_perfect_agreement_with_float_rounding_is_still_exact() -> None:
    # 0.1 * 3 is not exactly 0.3 in binary; the zero tolerance must absorb it.
    col = np.array([0.1, 0.2, 0.30000000000000004, 0.7])
    result = icc(np.column_stack([col, col, col]))
    assert result["ICC1"].value == 1.0
    assert result["ICC3"].f == math.inf


def test_constant_offset_is_perfect_consistency_but_not_agreement() -> None:
    a = np.array([1.0, 2.0, 4.0, 3.0, 5.0, 2.0])
    result = icc(np.column_stack([a, a + 1.0]))
    assert result["ICC3"].value == 1.0
    assert result["ICC3"].f == math.inf
    assert result["ICC3"].ci95 == (1.0, 1.0)
    assert result["ICC2"].value is not None and result["ICC2"].value < 1.0
    assert result["ICC1"].value is not None and result["ICC1"].value < 1.0
    # psych/pingouin give NaN for the ICC2 interval here (0/0); ours is the limit, so it
    # must be close to the reference on the same data with a tiny residual.
    jitter = np.array([1e-7, -1e-7, 0.0, 1e-7, 0.0, -1e-7])
    near = pingouin_icc(np.column_stack([a, a + 1.0 + jitter]))["ICC2"]["ci95"]
    assert result["ICC2"].ci95 is not None
    assert result["ICC2"].ci95[0] == pytest.approx(near[0], abs=1e-5)
    assert result["ICC2"].ci95[1] == pytest.approx(near[1], abs=1e-5)


@pytest.mark.parametrize(
    ("matrix", "fragment"),
    [
        (np.array([[3.0, 3.0], [3.0, 3.0], [3.0, 3.0]]), "all 6 scores are 3"),
        (np.array([[1.0, 2.0]]), "at least 2 sessions"),
        (np.zeros((0, 2)), "at least 2 sessions"),
        (np.array([[1.0], [2.0], [3.0]]), "at least 2 coders"),
    ],
)
def test_degenerate_icc_is_undefined_with_reason(matrix: np.ndarray, fragment: str) -> None:
    result = icc(matrix)
    assert result.why is not None and fragment in result.why
    for form in result:
        assert form.value is None and form.f is None and form.ci95 is None
        assert form.why is not None and fragment in form.why
    json.dumps(result.to_dict(), allow_nan=False)


def test_no_between_session_variance_leaves_single_forms_defined() -> None:
    # Every session mean is 1.5: MSB = 0, so the k-forms divide by zero.
    x = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 2.0], [2.0, 1.0]])
    result = icc(x)
    ref = pingouin_icc(x)
    assert result["ICC1"].value == pytest.approx(ref["ICC1"]["value"], abs=1e-12)
    assert result["ICC1"].value == pytest.approx(-1.0)
    for name in ("ICC1k", "ICC3k"):
        form = result[name]
        assert form.value is None
        assert form.why is not None and "MSB = 0" in form.why
    json.dumps(result.to_dict(), allow_nan=False)


def test_coders_constant_but_different_leave_consistency_undefined() -> None:
    x = np.array([[3.0, 4.0], [3.0, 4.0], [3.0, 4.0]])
    result = icc(x)
    assert result["ICC3"].value is None
    assert result["ICC3"].why is not None and "MSE = 0" in result["ICC3"].why
    assert result["ICC2"].value == pytest.approx(0.0)
    assert result["ICC1"].value == pytest.approx(-1.0)
    json.dumps(result.to_dict(), allow_nan=False)


def test_icc_is_fast_and_exact_on_a_large_matrix() -> None:
    # 10,000 x 2 must not need a Python loop over sessions; compare with pingouin once.
    x = rater_matrix(11, 10_000, 2, 7, 0.0)
    assert_icc_matches_pingouin(x)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(2, 25),
    k=st.integers(2, 5),
    levels=st.integers(2, 8),
    seed=st.integers(0, 2**32 - 1),
)
@example(n=2, k=3, levels=3, seed=32214)  # MSB = MSE = 0: pingouin says -0.5, ours undefined
def test_icc_matches_pingouin_on_random_data(n: int, k: int, levels: int, seed: int) -> None:
    assume(n * k >= 5)  # pingouin's ANOVA refuses fewer than 5 values
    x = rater_matrix(seed, n, k, levels, 0.0)
    ours = icc(x)
    ref = pingouin_icc(x)
    for name in ICC_FORMS:
        want = ref[name]
        got = ours[name]
        if not math.isfinite(want["value"]):
            assert got.value is None and got.why
            continue
        if got.value is None:
            # Ours is undefined only where the formula divides by zero: pingouin then
            # divides rounding noise (a huge value), or 0 / 0 in exact arithmetic gives
            # it any value (e.g. -0.5 for [[1, 2, 2], [1, 2, 2]]: MSB = MSE = 0).
            session_means = x.mean(axis=1)
            residual = x - session_means[:, None] - x.mean(axis=0)[None, :] + x.mean()
            degenerate = np.ptp(session_means) < 1e-9 or float(np.abs(residual).max()) < 1e-9
            assert degenerate or abs(want["value"]) > 1e6, (name, x.tolist(), want)
            continue
        assert got.value == pytest.approx(want["value"], rel=1e-9, abs=1e-9)
        if got.f is not None and math.isfinite(got.f) and math.isfinite(want["F"]):
            assert got.f == pytest.approx(want["F"], rel=1e-9, abs=1e-9)
            assert got.p == pytest.approx(want["p"], rel=1e-6, abs=1e-12)
        if got.ci95 is not None and all(math.isfinite(c) for c in want["ci95"]):
            assert got.ci95[0] == pytest.approx(want["ci95"][0], rel=1e-8, abs=1e-9)
            assert got.ci95[1] == pytest.approx(want["ci95"][1], rel=1e-8, abs=1e-9)
    json.dumps(ours.to_dict(), allow_nan=False)


# ----------------------------------------------------------------------------- kappa


def test_kappa_wikipedia_two_by_two_example() -> None:
    # 50 grant proposals, yes/yes 20, yes/no 5, no/yes 10, no/no 15:
    # p_o = 0.7, p_e = 0.5, kappa = 0.4 (Wikipedia, "Cohen's kappa", worked example).
    a, b = counts_to_pairs([[20, 5], [10, 15]])
    result = cohens_kappa(a, b)
    assert result.value == pytest.approx(0.4, abs=1e-12)
    assert result.n == 50


# Cohen (1968), p. 216 (the ``cohen`` example of psych::cohen.kappa): proportions
# .44 .07 .09 / .05 .20 .05 / .01 .03 .06 of 200 pairs.
COHEN_1968 = [[88, 14, 18], [10, 40, 10], [2, 6, 12]]


def test_kappa_cohen_1968_unweighted_value() -> None:
    # p_o = .70, p_e = .6*.5 + .3*.3 + .1*.2 = .41, kappa = .29 / .59 = .492 (published).
    a, b = counts_to_pairs(COHEN_1968)
    result = cohens_kappa(a, b, categories=[0, 1, 2])
    assert round(result.value or 0.0, 3) == 0.492
    assert result.value == pytest.approx(29 / 59, abs=1e-15)


def test_kappa_cohen_1968_weighted_by_hand() -> None:
    a, b = counts_to_pairs(COHEN_1968)
    p = np.array(COHEN_1968, dtype=float) / 200
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    for weights, power in (("linear", 1), ("quadratic", 2)):
        w = np.abs(np.subtract.outer(np.arange(3), np.arange(3))) ** power
        by_hand = 1 - (p * w).sum() / (np.outer(rows, cols) * w).sum()
        got = cohens_kappa(a, b, [0, 1, 2], weights).value  # type: ignore[arg-type]
        assert got == pytest.approx(by_hand, abs=1e-14)
    # Linear: observed disagreement .07+.09*2+.05+.05+.01*2+.03 = .40,
    # expected .6*(.3+.4)+.3*(.5+.2)+.1*(1.0+.3) = .76, kappa = 1 - .40/.76.
    assert cohens_kappa(a, b, [0, 1, 2], "linear").value == pytest.approx(1 - 0.40 / 0.76)


def test_quadratic_kappa_equals_its_moment_formula() -> None:
    # Fleiss & Cohen (1973): quadratic-weighted kappa = 2 s_ab / (s_a^2 + s_b^2 + (ma - mb)^2)
    # with 1/n moments, when the categories are equally spaced.
    rng = np.random.default_rng(5)
    a = rng.integers(0, 7, 300).astype(float)
    b = np.clip(a + rng.integers(-2, 3, 300), 0, 6)
    cov = np.mean((a - a.mean()) * (b - b.mean()))
    moments = 2 * cov / (a.var() + b.var() + (a.mean() - b.mean()) ** 2)
    assert cohens_kappa(a, b, range(7), "quadratic").value == pytest.approx(moments, abs=1e-12)


@pytest.mark.parametrize("weights", ["unweighted", "linear", "quadratic"])
def test_kappa_matches_sklearn_with_full_label_range(weights: str) -> None:
    rng = np.random.default_rng(8)
    a = rng.integers(1, 6, 120).astype(float)
    b = np.clip(a + rng.integers(-1, 2, 120), 1, 5)
    ref = cohen_kappa_score(
        a, b, labels=[1, 2, 3, 4, 5], weights=None if weights == "unweighted" else weights
    )
    assert cohens_kappa(a, b, range(1, 6), weights).value == pytest.approx(ref, abs=1e-12)  # type: ignore[arg-type]


def test_weighted_kappa_uses_the_full_range_not_only_observed_values() -> None:
    # Observed scores 0, 2, 3 on a 0..6 scale: weights follow the score distance, as
    # psych::cohen.kappa(levels = 0:6) does, not positions among observed values.
    a = np.array([0, 2, 3, 3, 0, 2, 3, 0], dtype=float)
    b = np.array([2, 2, 3, 0, 0, 3, 3, 2], dtype=float)
    full = cohen_kappa_score(a, b, labels=list(range(7)), weights="linear")
    observed_only = cohen_kappa_score(a, b, labels=[0, 2, 3], weights="linear")
    ours = cohens_kappa(a, b, range(7), "linear").value
    assert ours == pytest.approx(full, abs=1e-12)
    assert ours != pytest.approx(observed_only, abs=1e-6)
    # Without categories the observed min..max (0..3) gives the same distances.
    assert cohens_kappa(a, b, None, "linear").value == pytest.approx(full, abs=1e-12)


def test_kappa_uses_listwise_pairs_only() -> None:
    a = np.array([1, 2, np.nan, 3, 2, 1], dtype=float)
    b = np.array([1, 2, 3, np.nan, 3, 1], dtype=float)
    keep = ~(np.isnan(a) | np.isnan(b))
    result = cohens_kappa(a, b, range(1, 4))
    assert result.n == 4
    ref = cohen_kappa_score(a[keep], b[keep], labels=[1, 2, 3])
    assert result.value == pytest.approx(ref, abs=1e-12)


def test_kappa_is_one_for_identical_ratings() -> None:
    a = np.array([0, 1, 2, 3, 2, 1], dtype=float)
    for weights in ("unweighted", "linear", "quadratic"):
        assert cohens_kappa(a, a.copy(), range(4), weights).value == 1.0  # type: ignore[arg-type]


def test_kappa_undefined_when_both_coders_always_choose_the_same_category() -> None:
    a = np.full(10, 3.0)
    result = cohens_kappa(a, a.copy(), range(0, 7), "linear")
    assert result.value is None
    assert result.why is not None and "same score 3" in result.why


def test_kappa_is_zero_when_each_coder_is_constant_but_they_differ() -> None:
    result = cohens_kappa(np.full(6, 1.0), np.full(6, 2.0), range(1, 4))
    assert result.value == 0.0


def test_kappa_needs_two_pairs() -> None:
    result = cohens_kappa([1.0, np.nan], [1.0, 2.0])
    assert result.value is None and result.why is not None and "at least 2" in result.why


def test_kappa_undefined_for_continuous_scores() -> None:
    result = cohens_kappa([1.5, 2.0, 3.0], [1.5, 2.5, 3.0])
    assert result.value is None
    assert result.why is not None and "whole-number" in result.why


def test_kappa_rejects_scores_outside_the_categories() -> None:
    with pytest.raises(ValueError, match="score 7 is not one of the categories 0..6"):
        cohens_kappa([1.0, 7.0], [1.0, 2.0], range(7))


def test_kappa_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="same length"):
        cohens_kappa([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="weights"):
        cohens_kappa([1.0, 2.0], [1.0, 2.0], weights="cubic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="increasing"):
        cohens_kappa([1.0, 2.0], [1.0, 2.0], categories=[2, 1])


@settings(max_examples=150, deadline=None)
@given(
    pairs=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=2, max_size=60),
    weights=st.sampled_from(["unweighted", "linear", "quadratic"]),
)
def test_kappa_matches_sklearn_on_random_pairs(pairs: list[tuple[int, int]], weights: str) -> None:
    a = np.array([p[0] for p in pairs], dtype=float)
    b = np.array([p[1] for p in pairs], dtype=float)
    ours = cohens_kappa(a, b, range(7), weights)  # type: ignore[arg-type]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        ref = cohen_kappa_score(
            a, b, labels=list(range(7)), weights=None if weights == "unweighted" else weights
        )
    if math.isnan(ref):
        assert ours.value is None and ours.why
    else:
        assert ours.value == pytest.approx(ref, abs=1e-12)


# --------------------------------------------------------------- Krippendorff's alpha

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the 4 observers x
# 12 units example (units as rows here): alpha nominal .743, ordinal .815,
# interval .849.
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
        [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan],
    ]
).T


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]
)
def test_alpha_reproduces_krippendorff_2011(level: str, published: float) -> None:
    result = krippendorff_alpha(KRIPPENDORFF_2011, level)  # type: ignore[arg-type]
    assert round(result.value or 0.0, 3) == published
    assert result.value == pytest.approx(reference_alpha(KRIPPENDORFF_2011, level), abs=1e-12)
    assert result.n == 11  # unit 12 has a single value and cannot be paired


def test_alpha_package_docstring_example() -> None:
    data = np.array(
        [
            [np.nan] * 5 + [3, 4, 1, 2, 1, 1, 3, 3, np.nan, 3],
            [1, np.nan, 2, 1, 3, 3, 4, 3] + [np.nan] * 7,
            [np.nan, np.nan, 2, 1, 3, 4, 4, np.nan, 2, 1, 1, 3, 3, np.nan, 4],
        ]
    ).T
    assert krippendorff_alpha(data, "nominal").value == pytest.approx(0.691358, abs=5e-7)
    assert krippendorff_alpha(data, "interval").value == pytest.approx(0.810845, abs=5e-7)


def test_alpha_value_domain_is_checked_but_does_not_change_the_value() -> None:
    x = rater_matrix(4, 30, 3, 5, 0.2)
    plain = krippendorff_alpha(x, "ordinal").value
    with_domain = krippendorff_alpha(x, "ordinal", value_domain=range(0, 10)).value
    assert plain == pytest.approx(with_domain, abs=1e-15)
    assert with_domain == pytest.approx(reference_alpha(x, "ordinal", list(range(10))), abs=1e-12)
    with pytest.raises(ValueError, match="outside the value domain"):
        krippendorff_alpha(x, "ordinal", value_domain=[0, 1])


def test_alpha_undefined_without_pairable_sessions() -> None:
    x = np.array([[1.0, np.nan], [np.nan, 2.0], [3.0, np.nan]])
    result = krippendorff_alpha(x, "interval")
    assert result.value is None and result.why is not None and "two or more" in result.why


def test_alpha_undefined_without_variation() -> None:
    x = np.array([[2.0, 2.0], [2.0, 2.0], [2.0, np.nan]])
    result = krippendorff_alpha(x, "nominal")
    assert result.value is None and result.why is not None and "no variation" in result.why


def test_alpha_rejects_unknown_level() -> None:
    with pytest.raises(ValueError, match="level"):
        krippendorff_alpha(np.ones((2, 2)), "ratio")  # type: ignore[arg-type]


def test_alpha_nominal_sorting_path_equals_package(monkeypatch: pytest.MonkeyPatch) -> None:
    # Many distinct values (continuous seconds) take the sorting path; force it here.
    monkeypatch.setattr(kripp_module, "_NOMINAL_TABLE_LIMIT", -(10**12))
    rng = np.random.default_rng(9)
    x = np.round(rng.normal(300, 40, size=(40, 3)), 0)
    x[:, 1] = np.where(rng.random(40) < 0.4, x[:, 0], x[:, 1])
    x[rng.random((40, 3)) < 0.2] = np.nan
    assert krippendorff_alpha(x, "nominal").value == pytest.approx(
        reference_alpha(x, "nominal"), abs=1e-12
    )


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_alpha_on_continuous_seconds_matches_package(level: str) -> None:
    x = np.array(
        [[312.5, 298.0, np.nan], [120.25, 131.0, 125.0], [0.0, 12.5, 0.0], [605.0, 590.75, 600.0]]
    )
    assert krippendorff_alpha(x, level).value == pytest.approx(  # type: ignore[arg-type]
        reference_alpha(x, level), abs=1e-12
    )


@settings(max_examples=120, deadline=None)
@given(
    n=st.integers(1, 30),
    m=st.integers(2, 5),
    levels=st.integers(2, 7),
    missing=st.floats(0.0, 0.6),
    seed=st.integers(0, 2**32 - 1),
    level=st.sampled_from(["nominal", "ordinal", "interval"]),
)
def test_alpha_matches_package_on_random_designs(
    n: int, m: int, levels: int, missing: float, seed: int, level: str
) -> None:
    x = rater_matrix(seed, n, m, levels, missing)
    ours = krippendorff_alpha(x, level, value_domain=range(levels))  # type: ignore[arg-type]
    try:
        ref = reference_alpha(x, level, list(range(levels)))
    except ValueError:  # the package refuses data with no pairable unit
        ref = math.nan
    if math.isnan(ref):
        assert ours.value is None and ours.why
    else:
        assert ours.value == pytest.approx(ref, abs=1e-9)


# ------------------------------------------------------------------------- agreement


def test_agreement_counts_every_rater_pair_with_both_scores() -> None:
    x = np.array(
        [
            [1.0, 2.0, 4.0],  # pairs: |1-2| = 1, |1-4| = 3, |2-4| = 2
            [3.0, 3.0, np.nan],  # one pair: exact
            [5.0, np.nan, np.nan],  # no pair
        ]
    )
    result = agreement(x)
    assert result.exact.n == 4
    assert result.exact.value == pytest.approx(1 / 4)
    assert result.within_one.value == pytest.approx(2 / 4)


def test_agreement_within_one_tolerates_binary_rounding() -> None:
    result = agreement(np.array([[12.3, 11.3], [5.0, 7.0]]))
    assert result.within_one.value == pytest.approx(0.5)
    assert result.exact.value == 0.0


def test_agreement_undefined_without_pairs() -> None:
    result = agreement(np.array([[1.0, np.nan]]))
    assert result.exact.value is None and result.exact.why
    assert result.to_dict()["within_one"]["value"] is None


# ------------------------------------------------------------------ Cronbach's alpha


def test_cronbach_alpha_by_hand() -> None:
    # Items (1,2,3), (1,3,3), (2,3,4): item variances 1, 4/3, 1; totals 4, 8, 10 have
    # variance 28/3, so alpha = 3/2 * (1 - (10/3) / (28/3)) = 3/2 * 18/28 = 27/28.
    items = np.array([[1, 1, 2], [2, 3, 3], [3, 3, 4]], dtype=float)
    assert cronbach_alpha(items).value == pytest.approx(27 / 28, abs=1e-15)


def test_cronbach_alpha_matches_pingouin_listwise() -> None:
    rng = np.random.default_rng(12)
    items = rng.normal(size=(60, 6)) + rng.normal(size=(60, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, ci = pingouin.cronbach_alpha(pd.DataFrame(items))
    ours = cronbach_alpha(items)
    assert ours.value == pytest.approx(value, abs=1e-12)
    assert ours.ci95 is not None
    # pingouin rounds its Feldt interval to 3 decimals.
    assert ours.ci95[0] == pytest.approx(ci[0], abs=5e-4)
    assert ours.ci95[1] == pytest.approx(ci[1], abs=5e-4)

    items[rng.random((60, 6)) < 0.05] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, _ = pingouin.cronbach_alpha(pd.DataFrame(items), nan_policy="listwise")
    ours = cronbach_alpha(items)
    assert ours.value == pytest.approx(value, abs=1e-12)
    # (pingouin's interval keeps n before listwise deletion; ours uses the sessions used.)
    assert ours.n == int(np.isfinite(items).all(axis=1).sum()) < 60


@pytest.mark.parametrize(
    ("items", "fragment"),
    [
        (np.array([[1.0], [2.0], [3.0]]), "at least 2 items"),
        (np.array([[1.0, 2.0]]), "at least 2 sessions"),
        (np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]]), "no variance"),
    ],
)
def test_cronbach_alpha_degenerate(items: np.ndarray, fragment: str) -> None:
    result = cronbach_alpha(items)
    assert result.value is None and result.why is not None and fragment in result.why


# ------------------------------------------------------------- two-coder fast path


def _stat_values(result: Any) -> dict[str, Any]:
    return json.loads(json.dumps(result.to_dict(), allow_nan=False))


def _assert_same_numbers(left: Any, right: Any, path: str = "") -> None:
    if isinstance(left, dict):
        assert set(left) == set(right), path
        for key in left:
            if key == "why":
                assert (left[key] is None) == (right[key] is None), path
                continue
            _assert_same_numbers(left[key], right[key], f"{path}.{key}")
    elif isinstance(left, list):
        assert len(left) == len(right), path
        for i, (x, y) in enumerate(zip(left, right, strict=True)):
            _assert_same_numbers(x, y, f"{path}[{i}]")
    elif isinstance(left, float) and isinstance(right, float):
        # A bound far outside [-1, 1] (like -2.7e9 from k r / (1 + (k - 1) r) with r near
        # -1 / (k - 1)) is ill-conditioned: both routes agree only to ~1e-7 there.
        rel = 1e-9 if abs(right) < 10 else 1e-5
        assert left == pytest.approx(right, rel=rel, abs=1e-12), path
    else:
        assert left == right, path


@settings(max_examples=150, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(st.one_of(st.integers(0, 6), st.none()), st.one_of(st.integers(0, 6), st.none())),
        min_size=0,
        max_size=50,
    ),
    full_range=st.booleans(),
)
def test_pair_fast_path_equals_the_general_functions(
    pairs: list[tuple[int | None, int | None]], full_range: bool
) -> None:
    a = np.array([np.nan if p[0] is None else p[0] for p in pairs], dtype=float)
    b = np.array([np.nan if p[1] is None else p[1] for p in pairs], dtype=float)
    categories = range(0, 7) if full_range else None
    fast = pair_reliability(a, b, categories)
    matrix = np.column_stack([a, b]) if pairs else np.zeros((0, 2))
    complete = complete_rows(matrix)
    _assert_same_numbers(_stat_values(fast.icc), _stat_values(icc(complete)))
    for weights in ("unweighted", "linear", "quadratic"):
        _assert_same_numbers(
            fast.kappa[weights].to_dict(),
            cohens_kappa(a, b, categories, weights).to_dict(),  # type: ignore[arg-type]
        )
    for level in ("nominal", "ordinal", "interval"):
        _assert_same_numbers(
            fast.krippendorff_alpha[level].to_dict(),
            krippendorff_alpha(matrix, level).to_dict(),  # type: ignore[arg-type]
        )
    _assert_same_numbers(fast.agreement.to_dict(), agreement(matrix).to_dict())


def test_pair_reliability_on_continuous_scores_uses_the_general_route() -> None:
    a = np.array([312.5, 120.25, 0.0, 605.0, 48.0])
    b = np.array([298.0, 131.0, 12.5, 590.75, 61.5])
    result = pair_reliability(a, b)
    assert result.kappa["linear"].value is None
    assert result.icc["ICC2"].value == pytest.approx(
        pingouin_icc(np.column_stack([a, b]))["ICC2"]["value"], abs=1e-12
    )
    assert result.krippendorff_alpha["interval"].value == pytest.approx(
        reference_alpha(np.column_stack([a, b]), "interval"), abs=1e-12
    )


def test_pair_reliability_with_gapped_categories_weights_by_position() -> None:
    a = np.array([1, 2, 4, 4, 1, 2], dtype=float)
    b = np.array([1, 4, 4, 2, 2, 2], dtype=float)
    ref = cohen_kappa_score(a, b, labels=[1, 2, 4], weights="linear")
    assert pair_reliability(a, b, [1, 2, 4]).kappa["linear"].value == pytest.approx(ref, abs=1e-12)


def _general_dict(a: np.ndarray, b: np.ndarray, categories: Any) -> dict[str, Any]:
    """The four statistic groups computed by the one-purpose functions."""
    matrix = np.column_stack([a, b]) if a.size else np.zeros((0, 2))
    weights = ("unweighted", "linear", "quadratic")
    levels = ("nominal", "ordinal", "interval")
    return {
        "icc": _stat_values(icc(complete_rows(matrix))),
        "kappa": {w: cohens_kappa(a, b, categories, w).to_dict() for w in weights},  # type: ignore[arg-type]
        "krippendorff_alpha": {lv: krippendorff_alpha(matrix, lv).to_dict() for lv in levels},  # type: ignore[arg-type]
        "agreement": agreement(matrix).to_dict(),
    }


def test_pair_reliability_items_batches_items_of_any_shape() -> None:
    rng = np.random.default_rng(17)
    items: list[tuple[np.ndarray, np.ndarray]] = []
    categories: list[Any] = []
    for n, lo, hi in ((50, 0, 6), (20, 1, 5), (35, 0, 4), (8, 10, 12)):
        a = rng.integers(lo, hi + 1, n).astype(float)
        b = np.clip(a + rng.integers(-1, 2, n), lo, hi)
        a[rng.random(n) < 0.1] = np.nan
        items.append((a, b))
        categories.append(range(lo, hi + 1))
    items.append((np.array([1.5, 2.0, 3.25]), np.array([1.5, 2.5, 3.0])))  # general route
    categories.append(None)
    items.append((np.full(6, 2.0), np.full(6, 2.0)))  # one category for everybody
    categories.append(range(0, 5))
    results = pair_reliability_items(items, categories)
    assert len(results) == len(items)
    for (a, b), cats, result in zip(items, categories, results, strict=True):
        _assert_same_numbers(_stat_values(result), _general_dict(a, b, cats))
    assert results[-1].kappa["linear"].value is None
    assert results[-1].icc["ICC1"].value is None


def test_pair_reliability_items_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="entries for 1 items"):
        pair_reliability_items([([1.0, 2.0], [1.0, 2.0])], [None, None])
    with pytest.raises(ValueError, match="not one of the categories"):
        pair_reliability_items([([1.0, 9.0], [1.0, 2.0])], [range(0, 7)])
    assert pair_reliability_items([]) == []


@pytest.mark.parametrize("magnitude", [1e-242, 1e-30, 1e30, 1e200, 8e307])
def test_extreme_magnitudes_give_the_scale_free_values(magnitude: float) -> None:
    # ICC, alpha (interval) and Cronbach's alpha do not change when scores are scaled;
    # squares of 1e200 overflow and of 1e-242 underflow unless the code guards.
    unit = np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0], [2.0, 1.0]])
    scaled = unit * magnitude
    for name in ICC_FORMS:
        assert icc(scaled)[name].value == pytest.approx(icc(unit)[name].value, rel=1e-9)
    got = krippendorff_alpha(scaled, "interval").value
    assert got == pytest.approx(krippendorff_alpha(unit, "interval").value, rel=1e-9)
    assert cronbach_alpha(scaled).value == pytest.approx(cronbach_alpha(unit).value, rel=1e-9)
    pair = pair_reliability(scaled[:, 0], scaled[:, 1])
    json.dumps(_stat_values(pair), allow_nan=False)
    assert pair.icc["ICC2"].value == pytest.approx(icc(unit)["ICC2"].value, rel=1e-9)
