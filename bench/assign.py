"""Benchmark of the assignment planner: 10,000 sessions x 30 raters x 4 strata keys.

Run with ``python bench/assign.py [--sessions N] [--raters R] [--repeat K]``.

It times :func:`coder.assignment.plan_assignments` (best of ``--repeat`` runs) and
reports the balance figures of the plan: max-min rater load, max-min pair count, and
the worst per-value spread of any stratify key. The baseline, measured in the same run
on the same sessions, is what a lab's spreadsheet does: sort the sessions by stratum,
deal primaries round-robin, draw the double-coded share at random and give each to the
next rater in the ring. The ratio is planner time / baseline time. Target: a plan in
under one second with perfect balance (loads and pair counts within one).

The last printed line is one JSON object with the figures, the baseline, the ratio and
the target.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict
from itertools import combinations

import numpy as np

from coder.assignment import PlanSession, plan_assignments

KEYS = ["therapist", "patient", "phase", "site"]
SHARE = 0.3
SEED = 20240601
TARGET_SECONDS = 1.0


def make_sessions(n: int, rng: np.random.Generator) -> list[PlanSession]:
    """Sessions nested site > therapist > patient, with three phases per patient."""
    sessions: list[PlanSession] = []
    patient = 0
    while len(sessions) < n:
        site = f"S{int(rng.integers(5))}"
        therapist = f"{site}-T{int(rng.integers(12))}"
        count = int(rng.integers(3, 9))
        for k in range(count):
            if len(sessions) == n:
                break
            sessions.append(
                PlanSession(
                    f"sess{len(sessions):06d}",
                    {
                        "therapist": therapist,
                        "patient": f"P{patient:05d}",
                        "phase": ("early", "middle", "late")[min(2, 3 * k // count)],
                        "site": site,
                    },
                )
            )
        patient += 1
    return sessions


def balance(
    codings: list[tuple[str, str]], sessions: list[PlanSession], raters: list[str]
) -> dict[str, int]:
    """Max-min load, max-min pair count and worst per-value spread of (session, rater)."""
    load = Counter(r for _, r in codings)
    by_session: dict[str, list[str]] = defaultdict(list)
    for s, r in codings:
        by_session[s].append(r)
    pairs = {p: 0 for p in combinations(sorted(raters), 2)}
    for coders in by_session.values():
        if len(coders) == 2:
            pairs[tuple(sorted(coders))] += 1  # type: ignore[index]
    spread = 0
    for key in KEYS:
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for s in sessions:
            for r in by_session[s.session_id]:
                counts[s.strata[key]][r] += 1
        for row in counts.values():
            values = [row[r] for r in raters]
            spread = max(spread, max(values) - min(values))
    loads = [load[r] for r in raters]
    return {
        "load_spread": max(loads) - min(loads),
        "pair_spread": max(pairs.values()) - min(pairs.values()),
        "strata_spread": spread,
    }


def round_robin(
    sessions: list[PlanSession], raters: list[str], share: float, seed: int
) -> list[tuple[str, str]]:
    """The spreadsheet way: sorted by stratum, primaries dealt in turn, random doubles."""
    rng = np.random.default_rng(seed)
    ordered = sorted(sessions, key=lambda s: (tuple(s.strata[k] for k in KEYS), s.session_id))
    r = len(raters)
    doubled = set(rng.choice(len(ordered), size=round(share * len(ordered)), replace=False))
    codings = []
    for i, s in enumerate(ordered):
        codings.append((s.session_id, raters[i % r]))
        if i in doubled:
            codings.append((s.session_id, raters[(i + 1) % r]))
    return codings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--raters", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    rng = np.random.default_rng(SEED)
    sessions = make_sessions(args.sessions, rng)
    raters = [f"R{i:02d}" for i in range(args.raters)]
    print(
        f"{len(sessions)} sessions, {len(raters)} raters, keys {KEYS}, "
        f"{len({s.strata['patient'] for s in sessions})} patients, {SHARE:.0%} double-coded"
    )

    plan_times = []
    for run in range(args.repeat):
        start = time.perf_counter()
        plan = plan_assignments(sessions, raters, double=SHARE, stratify=KEYS, seed=SEED + run)
        plan_times.append(time.perf_counter() - start)
    plan_seconds = min(plan_times)
    plan_balance = balance([(c.session_id, c.rater) for c in plan.codings], sessions, raters)
    print(f"planner:     {plan_seconds:.3f} s (best of {args.repeat}), balance {plan_balance}")
    if plan.relaxed:
        print(f"planner relaxed: {list(plan.relaxed)}")

    base_times = []
    for run in range(args.repeat):
        start = time.perf_counter()
        base = round_robin(sessions, raters, SHARE, SEED + run)
        base_times.append(time.perf_counter() - start)
    base_seconds = min(base_times)
    base_balance = balance(base, sessions, raters)
    print(f"round-robin: {base_seconds:.3f} s (best of {args.repeat}), balance {base_balance}")

    ratio = plan_seconds / base_seconds if base_seconds else float("inf")
    met = (
        plan_seconds < TARGET_SECONDS
        and plan_balance["load_spread"] <= 1
        and plan_balance["pair_spread"] <= 1
    )
    print(
        f"ratio planner/baseline time: {ratio:.1f}x; target under {TARGET_SECONDS:.0f} s "
        f"with load and pair spread <= 1: {'met' if met else 'NOT met'}"
    )
    print(
        json.dumps(
            {
                "benchmark": "assign",
                "sessions": len(sessions),
                "raters": len(raters),
                "strata_keys": len(KEYS),
                "double_share": SHARE,
                "seconds": round(plan_seconds, 4),
                "balance": plan_balance,
                "relaxed": len(plan.relaxed),
                "baseline": {
                    "name": "sorted round-robin with random doubles",
                    "seconds": round(base_seconds, 4),
                    "balance": base_balance,
                },
                "ratio": round(ratio, 2),
                "target": {"seconds": TARGET_SECONDS, "load_spread": 1, "pair_spread": 1},
                "target_met": met,
            }
        )
    )


if __name__ == "__main__":
    main()
