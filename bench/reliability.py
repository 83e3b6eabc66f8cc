"""Benchmark: reliability statistics of a double-coded project vs pingouin.

Usage::

    python bench/reliability.py [--sessions 10000] [--items 30] [--repeats 5]
                                [--pingouin-items N] [--seed 1] [--e2e-sessions 10000]
                                [--e2e-items 30] [--e2e-raters 30] [--e2e-repeats 2]

Builds a synthetic project: every session coded by two raters drawn from a pool of
eight (varying pairs, coder slot A = lower rater id), ``--items`` ordinal items 0-6.
Then, in the same run and interleaved so machine noise hits both sides alike:

- ours: for every item, all six ICC forms with F, p and 95 % CI, Cohen's kappa
  (unweighted, linear, quadratic), Krippendorff's alpha (nominal, ordinal, interval)
  and agreement (:func:`coder.reliability.pair_reliability_items`), plus Cronbach's alpha
  of the scale; input is the n x 2 coder-slot matrix of each item;
- baseline: ``pingouin.intraclass_corr`` (ICC only) on the same items, from the
  long format its API requires (its time includes its own long-to-wide pivot).

Each side's time is its best over ``--repeats`` rounds (ours runs 5 times per round:
it takes milliseconds, so a single scheduling hiccup would dominate it). Every ICC field is checked
against pingouin to 1e-9, and one item's kappa and alpha against scikit-learn and the
``krippendorff`` package. Extra figures: the general :func:`coder.reliability.icc`
path and the end-to-end :func:`coder.reliability.reliability_report` from a long
DataFrame (ids as strings, design check included).

End to end (``--e2e-sessions``, ``--e2e-items``, ``--e2e-raters``; 0 sessions skips
it): from a long table (string ids; every session coded by a pair drawn from a pool of
30 raters) to the full report, :func:`coder.reliability.reliability_report` (all
items, every statistic, the variance components with their bootstrap intervals and
the headline form) with the per-pair tables and their summary
(:func:`coder.reliability.study_reliability`), against ``pingouin.intraclass_corr`` (ICC only) on the same long data with
a coder-slot column (A = lower rater id; pingouin needs a complete sessions x raters
table, so it cannot take the rater ids of varying pairs; the slot column is made
before its clock starts). The three are timed in interleaved rounds
(``--e2e-repeats``), each side's best round counting. A second figure is the same
study without the variance components' parametric bootstrap
(``study_reliability(vc_bootstrap=False)``: their ICCs without intervals, everything
else as the default); ``to_json()`` of the study is timed apart and in neither figure.
The variance-component fit alone (no intervals, all items) is timed too. Targets: 20x
pingouin end to end, the fit <= 1 s.

The last line of output is one JSON object with the figures, the baselines, the
ratios and the targets (100x faster than pingouin for the kernels).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

try:
    import coder  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coder.reliability import (  # noqa: E402
    ICC_FORMS,
    cronbach_alpha,
    fit_variance_components,
    icc,
    pair_reliability_items,
    reliability_report,
    study_reliability,
)

TARGET_RATIO = 100.0
TARGET_E2E_RATIO = 20.0
TARGET_VC_SECONDS = 1.0
OURS_PER_ROUND = 5
TOLERANCE = 1e-9
PINGOUIN_NAMES = {
    "ICC(1,1)": "ICC1",
    "ICC(A,1)": "ICC2",
    "ICC(C,1)": "ICC3",
    "ICC(1,k)": "ICC1k",
    "ICC(A,k)": "ICC2k",
    "ICC(C,k)": "ICC3k",
}


def make_data(
    sessions: int, items: int, seed: int
) -> tuple[list[np.ndarray], list[pd.DataFrame], pd.DataFrame, np.ndarray]:
    """Synthetic double coding: slot matrices, pingouin long frames, the project frame,
    and the sessions x items matrix of coder A's scores (for Cronbach's alpha)."""
    rng = np.random.default_rng(seed)
    raters = np.array([f"R{r:02d}" for r in range(8)], dtype=object)
    first = rng.integers(0, 8, sessions)
    second = (first + rng.integers(1, 8, sessions)) % 8
    lo_idx = np.minimum(first, second)  # "R00" < "R07": index order is string order
    hi_idx = np.maximum(first, second)
    bias = rng.normal(0.0, 0.3, 8)
    session_ids = np.array([f"S{s:06d}" for s in range(sessions)], dtype=object)
    matrices: list[np.ndarray] = []
    long_frames: list[pd.DataFrame] = []
    project: list[pd.DataFrame] = []
    for item in range(items):
        truth = rng.normal(3.0, 1.4, sessions)
        a = np.clip(np.rint(truth + bias[lo_idx] + rng.normal(0, 0.7, sessions)), 0, 6)
        b = np.clip(np.rint(truth + bias[hi_idx] + rng.normal(0, 0.7, sessions)), 0, 6)
        matrix = np.column_stack([a, b]).astype(np.float64)
        matrices.append(matrix)
        long_frames.append(
            pd.DataFrame(
                {
                    "session": np.repeat(np.arange(sessions), 2),
                    "slot": np.tile(np.array(["A", "B"], dtype=object), sessions),
                    "score": matrix.reshape(-1),
                }
            )
        )
        project.append(
            pd.DataFrame(
                {
                    "session_id": np.repeat(session_ids, 2),
                    "rater_id": np.column_stack([raters[lo_idx], raters[hi_idx]]).reshape(-1),
                    "item_id": f"item{item:02d}",
                    "score": matrix.reshape(-1),
                }
            )
        )
    scale = np.column_stack([m[:, 0] for m in matrices])
    return matrices, long_frames, pd.concat(project, ignore_index=True), scale


def run_ours(matrices: list[np.ndarray], scale: np.ndarray) -> tuple[float, list[Any]]:
    start = time.perf_counter()
    results = pair_reliability_items(matrices, [range(7)] * len(matrices))
    cronbach_alpha(scale)
    return time.perf_counter() - start, results


def run_general_icc(matrices: list[np.ndarray]) -> float:
    start = time.perf_counter()
    for m in matrices:
        icc(m)
    return time.perf_counter() - start


def run_pingouin(long_frames: list[pd.DataFrame]) -> tuple[float, list[pd.DataFrame]]:
    import pingouin

    tables = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        for frame in long_frames:
            tables.append(pingouin.intraclass_corr(frame, "session", "slot", "score"))
        elapsed = time.perf_counter() - start
    return elapsed, tables


def compare(ours: list[Any], tables: list[pd.DataFrame]) -> float:
    """Largest relative difference over every ICC field of the compared items."""
    worst = 0.0
    for result, table in zip(ours, tables, strict=False):
        for _, row in table.iterrows():
            form = result.icc[PINGOUIN_NAMES[row["Type"]]]
            pairs = [
                (form.value, row["ICC"]),
                (form.f, row["F"]),
                (form.p, row["pval"]),
                (form.ci95[0], row["CI95"][0]),
                (form.ci95[1], row["CI95"][1]),
            ]
            if (form.df1, form.df2) != (int(row["df1"]), int(row["df2"])):
                return math.inf
            for got, want in pairs:
                if got is None:
                    return math.inf
                worst = max(worst, abs(got - float(want)) / max(1.0, abs(float(want))))
    return worst


def check_kappa_alpha(matrix: np.ndarray, result: Any) -> float:
    """Item 0: kappa vs scikit-learn and alpha vs the krippendorff package."""
    import krippendorff
    from sklearn.metrics import cohen_kappa_score

    worst = 0.0
    for weights in ("unweighted", "linear", "quadratic"):
        ref = cohen_kappa_score(
            matrix[:, 0],
            matrix[:, 1],
            labels=list(range(7)),
            weights=None if weights == "unweighted" else weights,
        )
        worst = max(worst, abs(result.kappa[weights].value - ref))
    for level in ("nominal", "ordinal", "interval"):
        ref = krippendorff.alpha(matrix.T, level_of_measurement=level, value_domain=range(7))
        worst = max(worst, abs(result.krippendorff_alpha[level].value - ref))
    return worst


def make_long(sessions: int, items: int, raters: int, seed: int) -> pd.DataFrame:
    """A long table: every session coded by a pair drawn from ``raters``, items 0-6."""
    rng = np.random.default_rng(seed)
    names = np.array([f"R{r:02d}" for r in range(raters)], dtype=object)
    first = rng.integers(0, raters, sessions)
    second = (first + rng.integers(1, raters, sessions)) % raters
    bias = rng.normal(0.0, 0.3, raters)
    session_ids = np.repeat(np.array([f"S{s:06d}" for s in range(sessions)], dtype=object), 2)
    rater_idx = np.column_stack([first, second]).reshape(-1)
    frames = []
    for item in range(items):
        truth = np.repeat(rng.normal(3.0, 1.4, sessions), 2)
        score = np.clip(np.rint(truth + bias[rater_idx] + rng.normal(0, 0.7, 2 * sessions)), 0, 6)
        frames.append(
            pd.DataFrame(
                {
                    "session_id": session_ids,
                    "rater_id": names[rater_idx],
                    "item_id": f"item{item:02d}",
                    "score": score,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def end_to_end(
    sessions: int, items: int, raters: int, seed: int, repeats: int = 2
) -> dict[str, Any]:
    """Long table -> full report (+ per-pair reports) vs pingouin ICC-only; VC fit alone."""
    import pingouin

    long_df = make_long(sessions, items, raters, seed)
    ranges = {f"item{i:02d}": (0, 6) for i in range(items)}
    # pingouin's input: the same long rows per item, with a coder-slot column.
    slot = long_df.sort_values(["item_id", "session_id", "rater_id"])
    slot = slot.assign(slot=np.tile(np.array(["A", "B"], dtype=object), len(slot) // 2))
    per_item = [frame for _, frame in slot.groupby("item_id", sort=True)]

    # Interleaved rounds (pingouin, ours with every interval, ours without the
    # variance-component bootstrap), so that load on the shared machine hits all alike;
    # each side's figure is its best round.
    ping_times: list[float] = []
    study_times: list[float] = []
    fast_times: list[float] = []
    report_times: list[float] = []
    json_times: list[float] = []
    study = None
    for _ in range(max(1, repeats)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            for frame in per_item:
                pingouin.intraclass_corr(frame, "session_id", "slot", "score")
            ping_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        study = study_reliability(long_df, ranges)
        study_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        study.to_json()
        json_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        study_reliability(long_df, ranges, vc_bootstrap=False)
        fast_times.append(time.perf_counter() - start)
    start = time.perf_counter()
    report = reliability_report(long_df, ranges)
    report_times.append(time.perf_counter() - start)
    assert study is not None
    # The fit as the report calls it: on integer codes (the report's id coding is in
    # report_seconds), without intervals.
    coded = [
        (
            pd.factorize(frame["session_id"])[0],
            pd.factorize(frame["rater_id"])[0],
            frame["score"].to_numpy(dtype=np.float64),
        )
        for frame in per_item
    ]
    start = time.perf_counter()
    for session, rater, score in coded:
        fit_variance_components(session, rater, score, bootstrap=0)
    vc_s = time.perf_counter() - start
    ping_s = min(ping_times)
    ours = min(study_times)
    fast = min(fast_times)
    report_s = min(report_times)
    headline = [it.recommended_form for it in report.items.values()]
    return {
        "sessions": sessions,
        "items": items,
        "raters": raters,
        "ratings": len(long_df),
        "rounds": len(ping_times),
        "report_seconds": report_s,
        "n_pairs": len(study.by_pair.pairs),
        "ours_seconds": ours,
        "ours_covers": (
            "study_reliability (default): reliability_report (icc6+F+p+ci, kappa, alpha+"
            "Hayes-Krippendorff bootstrap ci, agreement, chance-corrected coefficients+se+ci, "
            "variance components + parametric bootstrap ci, headline) + per-pair reports of "
            "every rater pair + pair_summary + fixed items; from the long frame with string ids"
        ),
        "ours_no_vc_bootstrap_seconds": fast,
        "ours_no_vc_bootstrap_covers": (
            "the same, study_reliability(vc_bootstrap=False): the variance-component ICCs "
            "without intervals (alpha's bootstrap ci kept)"
        ),
        "to_json_seconds": min(json_times),
        "vc_fit_seconds": vc_s,
        "vc_fit_target_seconds": TARGET_VC_SECONDS,
        "vc_fit_met": vc_s <= TARGET_VC_SECONDS,
        "baseline": "pingouin.intraclass_corr per item (ICC only), long frame with slot column",
        "pingouin_icc_seconds": ping_s,
        "ratio": ping_s / ours,
        "ratio_no_vc_bootstrap": ping_s / fast,
        "ratio_report_only": ping_s / report_s,
        "target": TARGET_E2E_RATIO,
        "met": ping_s / ours >= TARGET_E2E_RATIO,
        "met_no_vc_bootstrap": ping_s / fast >= TARGET_E2E_RATIO,
        "headline_forms": sorted(set(f for f in headline if f)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--pingouin-items",
        type=int,
        default=None,
        help="time pingouin on this many items and scale to all (default: all items)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--e2e-sessions", type=int, default=10_000)
    parser.add_argument("--e2e-items", type=int, default=30)
    parser.add_argument("--e2e-raters", type=int, default=30)
    parser.add_argument("--e2e-repeats", type=int, default=2)
    args = parser.parse_args(argv)
    import pingouin

    pingouin.options["round.column.CI95"] = None  # compare unrounded intervals

    n_ping = args.items if args.pingouin_items is None else min(args.pingouin_items, args.items)
    print(
        f"Reliability benchmark: {args.sessions:,} double-coded sessions x {args.items} items "
        f"(0-6), best of {args.repeats}"
    )
    t0 = time.perf_counter()
    matrices, long_frames, project, scale = make_data(args.sessions, args.items, args.seed)
    print(f"  data built in {time.perf_counter() - t0:.1f} s ({len(project):,} ratings)")

    run_ours(matrices[:1], scale)  # warm-up (imports, caches)
    run_pingouin(long_frames[:1])
    ours_times: list[float] = []
    ping_times: list[float] = []
    general_times: list[float] = []
    results: list[Any] = []
    tables: list[pd.DataFrame] = []
    for _ in range(args.repeats):
        # Ours takes milliseconds, so one scheduling hiccup of a busy machine is a large
        # share of it: run it a few times per round (pingouin's ~1 s round averages such
        # hiccups out instead). Each side's figure is its best time.
        for _ in range(OURS_PER_ROUND):
            elapsed, results = run_ours(matrices, scale)
            ours_times.append(elapsed)
        elapsed, tables = run_pingouin(long_frames[:n_ping])
        ping_times.append(elapsed)
        general_times.append(run_general_icc(matrices))
    report_times = []
    for _ in range(2):
        start = time.perf_counter()
        reliability_report(project, {f"item{i:02d}": (0, 6) for i in range(args.items)})
        report_times.append(time.perf_counter() - start)

    ours = min(ours_times)
    ping_measured = min(ping_times)
    ping_all = ping_measured * args.items / n_ping
    general = min(general_times)
    report = min(report_times)
    icc_diff = compare(results[:n_ping], tables)
    other_diff = check_kappa_alpha(matrices[0], results[0])
    equal = icc_diff <= TOLERANCE and other_diff <= TOLERANCE
    ratio = ping_all / ours
    per_item_ours = ours / args.items * 1e3
    per_item_ping = ping_measured / n_ping * 1e3

    scaled = (
        ""
        if n_ping == args.items
        else f" (timed on {n_ping} items, scaled x{args.items / n_ping:.1f})"
    )
    print(
        f"  ours   ICC (6 forms, F, p, CI) + kappa x3 + Krippendorff x3 + agreement, all items, "
        f"+ Cronbach: {ours * 1e3:8.1f} ms  ({per_item_ours:.3f} ms/item)"
    )
    print(
        f"  pingouin.intraclass_corr (ICC only), all items{scaled}: "
        f"{ping_all * 1e3:8.1f} ms  ({per_item_ping:.2f} ms/item, includes its long->wide pivot)"
    )
    print(
        f"  ratio: {ratio:.0f}x faster (target {TARGET_RATIO:.0f}x): "
        f"{'met' if ratio >= TARGET_RATIO else 'NOT met'}"
    )
    print(
        f"  general icc() path, all items: {general * 1e3:.1f} ms "
        f"({ping_all / general:.0f}x pingouin)"
    )
    print(
        f"  end to end reliability_report() from the long frame ({len(project):,} rows, string "
        f"ids, design check, all statistics): {report * 1e3:.0f} ms ({ping_all / report:.1f}x "
        "pingouin's ICC alone)"
    )
    print(
        f"  equality: ICC fields vs pingouin max rel. diff {icc_diff:.1e}; kappa vs sklearn and "
        f"alpha vs krippendorff (item 0) max diff {other_diff:.1e}: "
        f"{'equal to 1e-9' if equal else 'NOT EQUAL'}"
    )
    figures = {
        "benchmark": "reliability",
        "sessions": args.sessions,
        "items": args.items,
        "repeats": args.repeats,
        "ours_seconds": ours,
        "ours_ms_per_item": per_item_ours,
        "ours_covers": "icc6+F+p+ci, kappa x3, krippendorff x3, agreement, cronbach",
        "baseline": {
            "name": "pingouin.intraclass_corr",
            "version": pingouin.__version__,
            "seconds_all_items": ping_all,
            "items_timed": n_ping,
            "scaled": n_ping != args.items,
        },
        "ratio": ratio,
        "target": TARGET_RATIO,
        "met": ratio >= TARGET_RATIO,
        "general_icc_seconds": general,
        "report_end_to_end_seconds": report,
        "max_rel_diff_icc": icc_diff,
        "max_abs_diff_kappa_alpha": other_diff,
        "equal_1e-9": equal,
        "forms": list(ICC_FORMS),
    }
    if args.e2e_sessions > 0:
        e2e = end_to_end(
            args.e2e_sessions, args.e2e_items, args.e2e_raters, args.seed, args.e2e_repeats
        )
        print(
            f"  end to end, {e2e['sessions']:,} sessions x {e2e['items']} items, varying pairs "
            f"from {e2e['raters']} raters ({e2e['ratings']:,} ratings):"
        )
        print(
            f"    ours: study_reliability (report, per-pair tables of {e2e['n_pairs']} pairs, "
            f"pair summary) {e2e['ours_seconds']:.2f} s; of which the report alone (incl. "
            f"variance components + bootstrap CI) {e2e['report_seconds']:.2f} s"
        )
        print(
            f"    pingouin.intraclass_corr (ICC only, coder slots): "
            f"{e2e['pingouin_icc_seconds']:.2f} s"
        )
        print(
            f"    ratio: {e2e['ratio']:.2f}x (report alone {e2e['ratio_report_only']:.2f}x; "
            f"target {TARGET_E2E_RATIO:.0f}x): {'met' if e2e['met'] else 'NOT met'}"
        )
        print(
            f"    without the variance-component bootstrap (vc_bootstrap=False): "
            f"{e2e['ours_no_vc_bootstrap_seconds']:.2f} s, {e2e['ratio_no_vc_bootstrap']:.2f}x "
            f"({'met' if e2e['met_no_vc_bootstrap'] else 'NOT met'}); to_json of the "
            f"study {e2e['to_json_seconds']:.2f} s (in neither figure)"
        )
        print(
            f"    variance-component fit alone, all items: {e2e['vc_fit_seconds']:.3f} s "
            f"(target <= {TARGET_VC_SECONDS:.0f} s): "
            f"{'met' if e2e['vc_fit_met'] else 'NOT met'}"
        )
        figures["end_to_end"] = e2e
    print(json.dumps(figures, allow_nan=False))
    return 0 if equal else 1


if __name__ == "__main__":
    raise SystemExit(main())
