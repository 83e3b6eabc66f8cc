"""Tests of the assignment planner (coder/assignment.py).

The expected figures (double-coded count, per-stratum floor/ceiling, pair lists,
loads) are recomputed here from the plan's codings, not taken from the summary, so a
wrong summary fails as well as a wrong plan.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from fractions import Fraction
from itertools import combinations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coder.assignment import (
    Plan,
    PlannedCoding,
    PlanSession,
    PlanSummary,
    StratumCoverage,
    add_double_coding,
    plan_assignments,
    replan,
)
from coder.errors import InputError

KEYS = ("therapist", "patient", "phase")
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- helpers


def make_sessions(layout: list[list[int]], prefix: str = "") -> list[PlanSession]:
    """Sessions for therapists -> patients -> session counts; phases cycle I, II, III."""
    sessions = []
    for t, patients in enumerate(layout):
        for p, count in enumerate(patients):
            for k in range(count):
                sessions.append(
                    PlanSession(
                        f"{prefix}T{t}P{p}S{k}",
                        {
                            "therapist": f"T{t}",
                            "patient": f"T{t}-P{p}",
                            "phase": ("I", "II", "III")[k % 3],
                        },
                    )
                )
    return sessions


def expected_double(double: float | int, n: int) -> tuple[int, Fraction]:
    """Double-coded count (share rounded half up) and the share for the min-one rule."""
    if isinstance(double, int):
        return double, Fraction(double, n) if n else Fraction(0)
    exact = Fraction(repr(double))
    return math.floor(exact * n + Fraction(1, 2)), exact


def work(plan: Plan) -> dict[str, list[PlannedCoding]]:
    """Analysis codings (primary and second) per session."""
    out: dict[str, list[PlannedCoding]] = defaultdict(list)
    for c in plan.codings:
        if c.role != "training":
            out[c.session_id].append(c)
    return out


def loads(plan: Plan) -> dict[str, int]:
    counted = Counter(c.rater for c in plan.codings if c.role != "training")
    return {r: counted[r] for r in plan.raters}


def pair_counts(plan: Plan) -> dict[tuple[str, str], int]:
    counts = {pair: 0 for pair in combinations(sorted(plan.raters), 2)}
    for codings in work(plan).values():
        if len(codings) == 2:
            pair = tuple(sorted(c.rater for c in codings))
            if pair in counts:
                counts[pair] += 1  # type: ignore[index]
    return counts  # type: ignore[return-value]


def topics(plan: Plan) -> set[str]:
    return {reason.split(":", 1)[0] for reason in plan.relaxed}


def spread_cases(plan: Plan) -> list[tuple[str, str, str]]:
    """(key, value, rater) where a rater codes every session of a value others could share."""
    coders = {sid: {c.rater for c in cs} for sid, cs in work(plan).items()}
    cases = []
    training = set(plan.training)
    for key in plan.stratify:
        groups: dict[str, list[str]] = defaultdict(list)
        for s in plan.sessions:
            if s.session_id not in training:
                groups[s.strata[key]].append(s.session_id)
        for value, ids in groups.items():
            codings = sum(len(coders.get(i, ())) for i in ids)
            if len(ids) < 2 or codings > len(plan.raters) * (len(ids) - 1):
                continue  # pigeonhole: someone must code them all
            for rater in plan.raters:
                if all(rater in coders.get(i, ()) for i in ids):
                    cases.append((key, value, rater))
    return cases


def assert_well_formed(plan: Plan, sessions: list[PlanSession], training: set[str]) -> None:
    """Every analysis session has one primary, at most one second, distinct raters;
    training sessions are coded by every pool rater; queues are 0..n-1."""
    by_session = work(plan)
    for s in sessions:
        if s.session_id in training:
            assert s.session_id not in by_session
            coders = sorted(
                c.rater
                for c in plan.codings
                if c.session_id == s.session_id and c.role == "training"
            )
            assert coders == sorted(plan.raters)
            continue
        roles = Counter(c.role for c in by_session[s.session_id])
        assert roles["primary"] == 1
        assert roles["second"] <= 1
        raters = [c.rater for c in by_session[s.session_id]]
        assert len(raters) == len(set(raters)), "a rater codes a session twice"
    positions: dict[str, list[int]] = defaultdict(list)
    for c in plan.codings:
        positions[c.rater].append(c.queue_position)
    for rater, pos in positions.items():
        assert sorted(pos) == list(range(len(pos))), rater


@st.composite
def designs(draw: st.DrawFn) -> dict[str, object]:
    layout = draw(
        st.lists(st.lists(st.integers(1, 6), min_size=1, max_size=5), min_size=1, max_size=4)
    )
    sessions = make_sessions(layout)
    n_raters = draw(st.integers(1, 8))
    raters = [f"R{i}" for i in range(n_raters)]
    excluded = draw(st.lists(st.sampled_from(raters), max_size=2, unique=True))
    if len(excluded) == len(raters):
        excluded = excluded[:-1]
    ids = [s.session_id for s in sessions]
    training = draw(st.lists(st.sampled_from(ids), max_size=2, unique=True))
    if len(training) == len(ids):
        training = training[:-1]
    n = len(ids) - len(training)
    double: float | int = draw(
        st.one_of(
            st.sampled_from([0.0, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 1.0]),
            st.floats(0, 1, allow_nan=False),
            st.integers(0, n),
        )
    )
    stratify = draw(
        st.permutations(KEYS).flatmap(lambda ks: st.integers(0, 3).map(lambda k: ks[:k]))
    )
    seed = draw(st.integers(0, 2**32 - 1))
    return {
        "sessions": sessions,
        "raters": raters,
        "double": double,
        "stratify": list(stratify),
        "seed": seed,
        "excluded_raters": excluded,
        "training": training,
    }


# --------------------------------------------------------------------------- fresh plans


@PROPERTY
@given(designs())
def test_fresh_plan_meets_every_guarantee_or_says_why(design: dict[str, object]) -> None:
    plan = plan_assignments(**design)  # type: ignore[arg-type]
    sessions: list[PlanSession] = design["sessions"]  # type: ignore[assignment]
    training = set(design["training"])  # type: ignore[arg-type]
    excluded = set(design["excluded_raters"])  # type: ignore[arg-type]
    pool = sorted(set(design["raters"]) - excluded)  # type: ignore[arg-type]
    assert list(plan.raters) == pool
    assert_well_formed(plan, sessions, training)
    assert not {c.rater for c in plan.codings} & excluded

    # Loads within one, pair counts within one: always possible in a fresh plan.
    load = loads(plan)
    assert max(load.values()) - min(load.values()) <= 1
    pairs = pair_counts(plan)
    if pairs:
        assert max(pairs.values()) - min(pairs.values()) <= 1

    # The double-coded count and its spread over strata (largest remainder, min one).
    analysis = [s for s in sessions if s.session_id not in training]
    d, share = expected_double(design["double"], len(analysis))  # type: ignore[arg-type]
    doubled = {sid for sid, cs in work(plan).items() if len(cs) == 2}
    if len(pool) < 2 and d > 0:
        assert not doubled
        assert "double coding" in topics(plan)
        return
    assert len(doubled) == d
    strata: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for s in analysis:
        strata[tuple(s.strata[k] for k in plan.stratify)].append(s.session_id)
    for members in strata.values():
        got = sum(1 for sid in members if sid in doubled)
        quota = Fraction(d * len(members), len(analysis))
        assert math.floor(quota) <= got <= math.ceil(quota)
        if share > 0 and len(members) * share >= 1:
            assert got >= 1
    assert not topics(plan) & {"loads", "pairs", "strata"}

    # Spread: a rater holding every session of a value is either avoided or reported.
    for key, value, rater in spread_cases(plan):
        assert any(
            r.startswith("spread:") and f"rater {rater} " in r and f"{key}={value}" in r
            for r in plan.relaxed
        )

    # The summary agrees with the codings.
    summary = plan.summary()
    assert PlanSummary.from_dict(json.loads(json.dumps(summary.as_dict()))) == summary
    assert summary.loads == load
    assert [(p.raters, p.count) for p in summary.pair_counts] == sorted(pairs.items())
    assert summary.double_coded == d
    assert sum(e.sessions for e in summary.strata.values()) == len(analysis)


@PROPERTY
@given(designs())
def test_same_inputs_and_seed_give_the_same_plan_whatever_the_input_order(
    design: dict[str, object],
) -> None:
    plan = plan_assignments(**design)  # type: ignore[arg-type]
    shuffled = dict(design)
    shuffled["sessions"] = list(reversed(design["sessions"]))  # type: ignore[call-overload]
    shuffled["raters"] = list(reversed(design["raters"]))  # type: ignore[call-overload]
    assert plan_assignments(**shuffled) == plan  # type: ignore[arg-type]


def test_different_seeds_give_different_queue_orders() -> None:
    sessions = make_sessions([[5, 5, 5], [6, 4]])
    a = plan_assignments(sessions, ["A", "B", "C"], double=0.3, stratify=["therapist"], seed=1)
    b = plan_assignments(sessions, ["A", "B", "C"], double=0.3, stratify=["therapist"], seed=2)
    assert [(c.session_id, c.rater) for c in a.queue("A")] != [
        (c.session_id, c.rater) for c in b.queue("A")
    ]
    assert a == plan_assignments(
        sessions, ["A", "B", "C"], double=0.3, stratify=["therapist"], seed=1
    )


def haller_watzke_sessions() -> list[PlanSession]:
    """197 sessions, 8 therapists, 36 patients, three treatment phases (made-up layout
    in the spirit of Haller & Watzke's double-coded homework-adherence study)."""
    layout = [
        [6, 5, 7, 5, 6],
        [5, 6, 5, 6],
        [7, 5, 6, 5, 6],
        [6, 6, 5, 5],
        [5, 7, 6, 5, 4],
        [6, 5, 6, 5],
        [5, 6, 5, 5],
        [6, 5, 5, 5, 4],
    ]
    sessions = make_sessions(layout)
    assert len(sessions) == 197
    return sessions


def test_haller_watzke_design_balances_pairs_loads_and_strata() -> None:
    sessions = haller_watzke_sessions()
    raters = ["AB", "CD", "EF", "GH", "IJ"]
    plan = plan_assignments(sessions, raters, double=0.4, stratify=list(KEYS), seed=2024)
    pairs = pair_counts(plan)
    assert len(pairs) == 10
    assert max(pairs.values()) - min(pairs.values()) <= 1
    load = loads(plan)
    assert max(load.values()) - min(load.values()) <= 1
    assert sum(load.values()) == 197 + 79  # 40 % of 197 = 78.8, rounded to 79
    assert plan.summary().double_coded == 79
    assert plan.relaxed == ()
    # Every therapist's codings are shared out: no rater is more than two codings
    # away from another on any therapist.
    per_therapist: dict[str, Counter[str]] = defaultdict(Counter)
    therapist = {s.session_id: s.strata["therapist"] for s in sessions}
    for c in plan.codings:
        per_therapist[therapist[c.session_id]][c.rater] += 1
    for counts in per_therapist.values():
        values = [counts[r] for r in raters]
        assert max(values) - min(values) <= 2
    strata = plan.summary().strata
    assert "T0|T0-P0|I" in strata


def test_more_raters_than_codings_still_plans_and_says_what_was_relaxed() -> None:
    sessions = make_sessions([[3]])
    plan = plan_assignments(sessions, list("ABCDE"), double=0.4, stratify=[], seed=3)
    assert_well_formed(plan, sessions, set())
    load = loads(plan)
    assert sum(load.values()) == 4  # round(0.4 * 3) = 1 double-coded session
    assert max(load.values()) - min(load.values()) <= 1
    assert "coverage" in topics(plan)
    assert any("without a session (A)" in r or "without a session" in r for r in plan.relaxed)
    assert any("never double-code" in r for r in plan.relaxed)
    assert plan.summary().strata == {"all": StratumCoverage(sessions=3, double_coded=1)}


def test_single_rater_pool_relaxes_double_coding() -> None:
    sessions = make_sessions([[4]])
    plan = plan_assignments(
        sessions, ["A", "B"], double=0.5, stratify=["therapist"], seed=1, excluded_raters=["B"]
    )
    assert plan.summary().double_coded == 0
    assert [r for r in plan.relaxed if r.startswith("double coding:")]
    assert {c.rater for c in plan.codings} == {"A"}


def test_patient_level_strata_share_double_coding_by_largest_remainder() -> None:
    # 20 patients with 2 sessions and 10 with 1, at 50 %: 25 double codings; each
    # two-session patient (2 >= 1/0.5) gets exactly one, the singletons share the rest.
    sessions = [PlanSession(f"d{i}", {"patient": f"P{i // 2:02d}"}) for i in range(40)] + [
        PlanSession(f"s{i}", {"patient": f"Q{i:02d}"}) for i in range(10)
    ]
    plan = plan_assignments(sessions, list("ABCD"), double=0.5, stratify=["patient"], seed=7)
    strata = plan.summary().strata
    assert len(strata) == 30
    assert all(e.double_coded == 1 for k, e in strata.items() if k.startswith("P"))
    assert sum(e.double_coded for k, e in strata.items() if k.startswith("Q")) == 5
    assert plan.relaxed == ()


def test_strata_labels_join_values_in_stratify_order() -> None:
    sessions = [PlanSession("a", {"phase": "I", "therapist": "T1"})]
    plan = plan_assignments(sessions, ["A"], double=0, stratify=["therapist", "phase"], seed=0)
    assert list(plan.summary().strata) == ["T1|I"]


def test_training_sessions_come_first_and_stay_out_of_loads() -> None:
    sessions = make_sessions([[4, 4]])
    training = [sessions[0].session_id, sessions[5].session_id]
    plan = plan_assignments(
        sessions, ["A", "B", "C"], double=0.5, stratify=["patient"], seed=4, training=training
    )
    for rater in plan.raters:
        queue = plan.queue(rater)
        assert {c.session_id for c in queue[:2]} == set(training)
        assert all(c.role == "training" for c in queue[:2])
    summary = plan.summary()
    assert summary.training == {"A": 2, "B": 2, "C": 2}
    assert sum(summary.loads.values()) == 6 + 3  # 6 analysis sessions, 3 doubled


def test_the_summary_document_keeps_the_cli_contracts_keys_and_shapes() -> None:
    # SPEC section 9: `assign --json` prints this document; its keys must not change.
    sessions = make_sessions([[3, 3]])
    plan = plan_assignments(sessions, ["A", "B", "C"], double=0.5, stratify=["patient"], seed=2)
    document = plan.summary().as_dict()
    assert list(document) == [
        "loads",
        "pair_counts",
        "double_coded",
        "strata",
        "relaxed",
        "training",
        "spread",
        "seed",
        "not_codable",  # added beside the contract's keys (sessions left out, with reason)
    ]
    assert document["not_codable"] == []
    assert document["pair_counts"] == [
        {"raters": [a, b], "count": p.count}
        for (a, b), p in zip(
            [("A", "B"), ("A", "C"), ("B", "C")], plan.summary().pair_counts, strict=True
        )
    ]
    strata = document["strata"]
    assert isinstance(strata, dict)
    assert all(set(e) == {"sessions", "double_coded"} for e in strata.values())
    assert json.loads(json.dumps(document)) == document


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"double": 1.5}, "outside 0..1"),
        ({"double": -0.1}, "outside 0..1"),
        ({"double": 99}, "outside 0..8"),
        ({"double": True}, "neither a share"),
        ({"stratify": ["site"]}, "unknown stratify key 'site'"),
        ({"raters": []}, "pool is empty"),
        ({"excluded_raters": ["A", "B"]}, "every rater in the pool is excluded"),
        ({"raters": ["A", "A"]}, "listed twice"),
        ({"seed": -1}, "non-negative"),
        ({"training": ["nope"]}, "not among the sessions"),
        ({"sessions": []}, "no sessions"),
    ],
)
def test_invalid_input_raises_input_error_saying_what_to_do(
    change: dict[str, object], fragment: str
) -> None:
    args: dict[str, object] = {
        "sessions": make_sessions([[4, 4]]),
        "raters": ["A", "B"],
        "double": 0.3,
        "stratify": ["therapist"],
        "seed": 1,
    }
    args.update(change)
    with pytest.raises(InputError, match=fragment.replace(".", r"\.").replace("(", r"\(")):
        plan_assignments(**args)  # type: ignore[arg-type]


def test_missing_stratify_value_on_one_session_is_an_input_error() -> None:
    sessions = [PlanSession("a", {"therapist": "T1"}), PlanSession("b", {})]
    with pytest.raises(InputError, match="session 'b' has no value for stratify key"):
        plan_assignments(sessions, ["A"], double=0, stratify=["therapist"], seed=1)


# --------------------------------------------------------------------------- re-planning


def started_prefix(plan: Plan, depth: dict[str, int]) -> set[tuple[str, str]]:
    return {
        (c.session_id, c.rater) for c in plan.codings if c.queue_position < depth.get(c.rater, 0)
    }


def kept_exactly(before: Plan, after: Plan, started: set[tuple[str, str]]) -> bool:
    old = {
        (c.session_id, c.rater, c.role, c.queue_position)
        for c in before.codings
        if (c.session_id, c.rater) in started
    }
    return old <= {(c.session_id, c.rater, c.role, c.queue_position) for c in after.codings}


@PROPERTY
@given(
    designs(),
    st.lists(st.integers(0, 6), min_size=8, max_size=8),
    st.sampled_from(["remove", "add_rater", "add_sessions"]),
)
def test_replan_never_moves_started_work(
    design: dict[str, object], depths: list[int], change: str
) -> None:
    plan = plan_assignments(**design)  # type: ignore[arg-type]
    depth = {r: depths[i] for i, r in enumerate(plan.raters)}
    started = started_prefix(plan, depth)
    sessions: list[PlanSession] = list(design["sessions"])  # type: ignore[call-overload]
    raters: list[str] = list(design["raters"])  # type: ignore[call-overload]
    if change == "remove" and len(plan.raters) > 1:
        raters.remove(plan.raters[-1])
    elif change == "add_rater":
        raters.append("NEW")
    else:
        sessions += make_sessions([[3, 2]], prefix="x")
    new = replan(
        plan,
        sessions=sessions,
        raters=raters,
        double=design["double"] if isinstance(design["double"], float) else 0.3,  # type: ignore[arg-type]
        stratify=design["stratify"],  # type: ignore[arg-type]
        seed=design["seed"] + 1,  # type: ignore[operator]
        started=started,
        training=design["training"],  # type: ignore[arg-type]
    )
    assert kept_exactly(plan, new, started)
    training = set(design["training"])  # type: ignore[call-overload]
    by_session = work(new)
    for s in sessions:
        if s.session_id not in training:
            roles = Counter(c.role for c in by_session[s.session_id])
            if roles["primary"] == 0:
                # Only possible for a started second coding whose rater is the last one
                # in the pool; the plan must say so.
                assert len(new.raters) == 1
                assert any(s.session_id in r and "no other rater" in r for r in new.relaxed)
            else:
                assert roles["primary"] == 1
            assert roles["second"] <= 1
            assert len({c.rater for c in by_session[s.session_id]}) == len(by_session[s.session_id])
    # Unstarted work only goes to the current pool.
    for c in new.codings:
        if (c.session_id, c.rater) not in started:
            assert c.rater in new.raters
    # Whatever balance the started work breaks is reported.
    load = loads(new)
    if max(load.values()) - min(load.values()) > 1:
        assert "loads" in topics(new)
    pairs = pair_counts(new)
    if pairs and new.summary().double_coded and max(pairs.values()) - min(pairs.values()) > 1:
        assert "pairs" in topics(new)


def test_replan_without_started_work_equals_a_fresh_plan() -> None:
    sessions = haller_watzke_sessions()
    args = {"double": 0.3, "stratify": list(KEYS), "seed": 11}
    plan = plan_assignments(sessions, list("ABCDE"), **args)  # type: ignore[arg-type]
    assert replan(plan, sessions=sessions, raters=list("ABCDE"), started=(), **args) == plan  # type: ignore[arg-type]


def test_removing_a_rater_moves_no_started_work_and_rebalances_the_rest() -> None:
    sessions = haller_watzke_sessions()
    raters = ["AB", "CD", "EF", "GH", "IJ"]
    plan = plan_assignments(sessions, raters, double=0.4, stratify=list(KEYS), seed=5)
    started = started_prefix(plan, {r: 10 for r in raters})
    new = replan(
        plan,
        sessions=sessions,
        raters=raters[:-1],
        double=0.4,
        stratify=list(KEYS),
        seed=5,
        started=started,
    )
    assert kept_exactly(plan, new, started)
    gone = [c for c in new.codings if c.rater == "IJ"]
    assert {(c.session_id, c.rater) for c in gone} == {(sid, r) for sid, r in started if r == "IJ"}
    load = loads(new)  # pool raters only
    assert set(load) == set(raters[:-1])
    assert max(load.values()) - min(load.values()) <= 1
    pairs = pair_counts(new)
    assert max(pairs.values()) - min(pairs.values()) <= 1
    assert new.summary().loads["IJ"] == 10  # the leaver keeps its started codings
    assert new.summary().double_coded == 79


def test_adding_sessions_keeps_started_codings_and_plans_the_new_ones() -> None:
    sessions = haller_watzke_sessions()
    raters = ["AB", "CD", "EF", "GH", "IJ"]
    plan = plan_assignments(sessions, raters, double=0.4, stratify=list(KEYS), seed=8)
    started = started_prefix(plan, {"AB": 20, "CD": 3, "EF": 12})
    added = make_sessions([[6, 5], [4]], prefix="late-")
    new = replan(
        plan,
        sessions=sessions + added,
        raters=raters,
        double=0.4,
        stratify=list(KEYS),
        seed=8,
        started=started,
    )
    assert kept_exactly(plan, new, started)
    by_session = work(new)
    assert all(len(by_session[s.session_id]) >= 1 for s in added)
    assert new.summary().double_coded == round(0.4 * (197 + 15))
    load = loads(new)
    assert max(load.values()) - min(load.values()) <= 1


def test_adding_a_rater_gives_them_training_and_a_share_of_unstarted_work() -> None:
    sessions = make_sessions([[5, 5], [5, 5]])
    training = [sessions[0].session_id]
    plan = plan_assignments(
        sessions, ["A", "B"], double=0.3, stratify=["therapist"], seed=2, training=training
    )
    started = started_prefix(plan, {"A": 4, "B": 4})
    new = replan(
        plan,
        sessions=sessions,
        raters=["A", "B", "C"],
        double=0.3,
        stratify=["therapist"],
        seed=2,
        started=started,
        training=training,
    )
    assert kept_exactly(plan, new, started)
    queue = new.queue("C")
    assert queue[0].role == "training" and queue[0].session_id == training[0]
    load = loads(new)
    assert max(load.values()) - min(load.values()) <= 1


def test_started_coding_unknown_to_the_previous_plan_is_an_input_error() -> None:
    sessions = make_sessions([[3]])
    plan = plan_assignments(sessions, ["A", "B"], double=0, stratify=[], seed=1)
    with pytest.raises(InputError, match="not in the previous plan"):
        replan(
            plan,
            sessions=sessions,
            raters=["A", "B"],
            double=0,
            stratify=[],
            seed=1,
            started=[("T0P0S0", "Z")],
        )


# --------------------------------------------------------------------------- raising the share


@PROPERTY
@given(
    designs(),
    st.sampled_from([0.0, 0.1, 0.2, 0.3]),
    st.sampled_from([0.1, 0.2, 0.4]),
    st.integers(0, 4),
)
def test_raising_the_share_keeps_every_existing_coding(
    design: dict[str, object], first: float, step: float, depth: int
) -> None:
    design = dict(design, double=first)
    plan = plan_assignments(**design)  # type: ignore[arg-type]
    started = started_prefix(plan, {r: depth for r in plan.raters})
    higher = min(1.0, first + step)
    new = add_double_coding(
        plan,
        sessions=design["sessions"],  # type: ignore[arg-type]
        raters=design["raters"],  # type: ignore[arg-type]
        double=higher,
        stratify=design["stratify"],  # type: ignore[arg-type]
        seed=design["seed"],  # type: ignore[arg-type]
        started=started,
    )
    old = {(c.session_id, c.rater, c.role) for c in plan.codings}
    assert old <= {(c.session_id, c.rater, c.role) for c in new.codings}
    assert kept_exactly(plan, new, started)
    training = set(design["training"])  # type: ignore[call-overload]
    n = len(design["sessions"]) - len(training)  # type: ignore[arg-type]
    d, _ = expected_double(higher, n)
    if len(plan.raters) >= 2:
        assert new.summary().double_coded == max(d, plan.summary().double_coded)
    # Unstarted old codings keep their relative order in each queue.
    for rater in plan.raters:
        before = [(c.session_id, c.role) for c in plan.queue(rater)]
        after = [
            (c.session_id, c.role)
            for c in new.queue(rater)
            if (c.session_id, c.role) in set(before)
        ]
        assert after == before
    load = loads(new)
    if max(load.values()) - min(load.values()) > 1:
        assert "loads" in topics(new)


def test_raising_haller_watzke_from_30_to_40_percent() -> None:
    sessions = haller_watzke_sessions()
    raters = ["AB", "CD", "EF", "GH", "IJ"]
    plan = plan_assignments(sessions, raters, double=0.3, stratify=list(KEYS), seed=9)
    started = started_prefix(plan, {r: 15 for r in raters})
    new = add_double_coding(
        plan,
        sessions=sessions,
        raters=raters,
        double=0.4,
        stratify=list(KEYS),
        seed=9,
        started=started,
    )
    assert {(c.session_id, c.rater, c.role) for c in plan.codings} <= {
        (c.session_id, c.rater, c.role) for c in new.codings
    }
    assert kept_exactly(plan, new, started)
    assert plan.summary().double_coded == 59
    assert new.summary().double_coded == 79
    # Only second codings are new, and only on sessions that were single-coded.
    old_doubled = {sid for sid, cs in work(plan).items() if len(cs) == 2}
    added = set(new.codings) - set(plan.codings)
    new_keys = {(c.session_id, c.rater) for c in new.codings} - {
        (c.session_id, c.rater) for c in plan.codings
    }
    assert len(new_keys) == 20
    assert all(
        c.role == "second" and c.session_id not in old_doubled
        for c in added
        if (c.session_id, c.rater) in new_keys
    )
    load = loads(new)
    assert max(load.values()) - min(load.values()) <= 1


def test_lowering_the_share_with_add_double_coding_removes_nothing() -> None:
    sessions = make_sessions([[5, 5], [5]])
    plan = plan_assignments(sessions, ["A", "B", "C"], double=0.6, stratify=[], seed=1)
    new = add_double_coding(
        plan, sessions=sessions, raters=["A", "B", "C"], double=0.2, stratify=[], seed=1
    )
    assert {(c.session_id, c.rater, c.role) for c in new.codings} == {
        (c.session_id, c.rater, c.role) for c in plan.codings
    }
    assert any(r.startswith("double coding:") and "never removes" in r for r in new.relaxed)
