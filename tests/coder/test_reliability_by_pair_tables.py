"""reliability_by_pair's table route against the per-pair report it replaces.

The per-pair statistics of every pair and item are computed together from contingency
tables (:func:`coder.reliability._report._by_pair`). The reference here is the
definition: for each pair of raters, the rows of the two raters on the sessions both
coded, cut out of the long frame with pandas, and the item route of the report run on
them as a report of its own. Every number of every pair's JSON must agree to 1e-12 on
designs that take the table route (clean pairs) and on those that do not (missing
scores, three raters on a session, items a rater skipped, fractional scores).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from coder.reliability import reliability_by_pair, study_reliability
from coder.reliability._io import validate_long_frame
from coder.reliability._report import (
    PairReport,
    ReliabilityByPair,
    _categories,
    _Plans,
    _prepare,
    _report_items,
    _VcOptions,
)


def reference_by_pair(
    long_df: pd.DataFrame, ranges: dict[str, tuple[int, int]] | None, **how: Any
) -> ReliabilityByPair:
    prep = _prepare(long_df)
    categories = _categories(prep, ranges)
    plans = _Plans.of(how.get("kinds"), how.get("kappa_weights"), how.get("alpha_level"))
    df = validate_long_frame(long_df, check_duplicates=False)
    rows_of: dict[str, dict[str, np.ndarray]] = {}
    for key, idx in df.groupby(["session_id", "rater_id"], sort=False).indices.items():
        rows_of.setdefault(str(key[0]), {})[str(key[1])] = np.asarray(idx, dtype=np.intp)
    shared: dict[tuple[str, str], list[str]] = {}
    for sid, by_rater in rows_of.items():
        ordered = sorted(by_rater)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                shared.setdefault((a, b), []).append(sid)
    pairs = []
    for (a, b), sessions in sorted(shared.items()):
        idx = np.sort(np.concatenate([rows_of[s][r] for s in sessions for r in (a, b)]))
        sub = _prepare(df.iloc[idx])
        items = _report_items(
            sub,
            {i: categories[i] for i in sub.items},
            (),
            _VcOptions(fit=False),
            plans,
            alpha_ci=False,
        )
        pairs.append(PairReport((a, b), len(sessions), items))
    return ReliabilityByPair(tuple(pairs))


def assert_close(x: Any, y: Any, path: str = "") -> None:
    if isinstance(x, dict):
        assert isinstance(y, dict) and list(x) == list(y), path
        for key in x:
            assert_close(x[key], y[key], f"{path}.{key}")
    elif isinstance(x, list):
        assert isinstance(y, list) and len(x) == len(y), path
        for i, (a, b) in enumerate(zip(x, y, strict=True)):
            assert_close(a, b, f"{path}[{i}]")
    elif isinstance(x, float) and isinstance(y, (float, int)):
        assert abs(x - y) <= 1e-12 * max(1.0, abs(x)), (path, x, y)
    else:
        assert x == y, (path, x, y)


def make(
    seed: int,
    n_sessions: int = 80,
    n_raters: int = 6,
    nan: float = 0.0,
    triple: float = 0.0,
    skip: float = 0.0,
    fractional: bool = False,
    constant: bool = False,
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_sessions):
        raters = rng.choice(n_raters, 3 if rng.random() < triple else 2, replace=False)
        truth = rng.normal(3.0, 1.3)
        for r in raters:
            for i in (2, 0, 3, 1):  # items first seen out of name order
                if rng.random() < skip:
                    continue
                v = float(np.clip(np.rint(truth + rng.normal(0.0, 0.8)), 0, 6))
                v += 0.5 if fractional and i == 1 else 0.0
                v = 2.0 if constant and i == 3 else v
                rows.append(
                    (f"S{s:03d}", f"R{r}", f"item{i}", math.nan if rng.random() < nan else v)
                )
    return pd.DataFrame(rows, columns=["session_id", "rater_id", "item_id", "score"])


DESIGNS = {
    "clean": {},
    "missing scores": {"nan": 0.05},
    "three raters on some sessions": {"triple": 0.3},
    "items skipped": {"skip": 0.1},
    "fractional item": {"fractional": True},
    "few sessions": {"n_sessions": 12, "n_raters": 5},
    # One value throughout (every rater scored 2): a category table one wide, on which
    # the chance-corrected coefficients are not defined (it divided by zero once).
    "one value throughout": {"constant": True},
}


@pytest.mark.parametrize("design", list(DESIGNS))
@pytest.mark.parametrize("ranges", [None, {f"item{i}": (0, 7) for i in range(4)}])
@pytest.mark.parametrize(
    "how",
    [{}, {"kinds": {"item1": "nominal", "item2": "count"}, "kappa_weights": "linear"}],
    ids=["default", "kinds"],
)
def test_table_route_equals_the_per_pair_reports(
    design: str, ranges: dict[str, tuple[int, int]] | None, how: dict[str, Any]
) -> None:
    df = make(len(design), **DESIGNS[design])
    want = reference_by_pair(df, ranges, **how).to_json()
    got = reliability_by_pair(df, ranges, **how).to_json()
    assert len(got["pairs"]) >= 5
    assert_close(want, got)


def test_study_pairs_equal_reliability_by_pair_and_vc_bootstrap_can_be_left_out() -> None:
    df = make(7, nan=0.02)
    study = study_reliability(df, vc_bootstrap=False)
    assert_close(reliability_by_pair(df).to_json(), study.by_pair.to_json())
    for item in study.report.items.values():
        assert item.icc_vc is not None and item.icc_vc.ci_method is None
        assert all(
            form.ci95 is None and form.value is not None for form in item.icc_vc.forms.values()
        )
    full = study_reliability(df)
    for item_id, item in full.report.items.items():
        assert item.icc_vc is not None and item.icc_vc.ci_method == "parametric_bootstrap"
        fast = study.report.items[item_id].icc_vc
        assert fast is not None
        assert fast.forms["ICC_A1"].value == item.icc_vc.forms["ICC_A1"].value


def test_tables_of_several_widths_in_small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Items of different ranges are tabulated width by width, in chunks bounded by
    _TABLE_CELLS (a 0..200 count item would otherwise hold 40,000 cells per table)."""
    from coder.reliability import _report

    monkeypatch.setattr(_report, "_TABLE_CELLS", 1_000)
    df = make(11)
    ranges = {"item0": (0, 6), "item1": (0, 200), "item2": (-3, 9), "item3": (0, 7)}
    want = reference_by_pair(df, ranges).to_json()
    got = reliability_by_pair(df, ranges).to_json()
    assert len(got["pairs"]) >= 9
    assert_close(want, got)
