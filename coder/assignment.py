"""Assignment planner: which rater codes which session, and in what order.

Pure functions over plain data (no Qt, no database). The lab lead gives the sessions
with their strata values (therapist, patient, phase, ...), the rater pool, the share
or number of sessions to double-code, the stratification keys and a seed; the planner
returns a :class:`Plan` with a primary rater for every session, a second rater for the
double-coded subset, and each rater's queue order.

Guarantees of a fresh plan (:func:`plan_assignments`), whenever the pool allows them:

* rater loads (primary + second codings; training codings are counted separately,
  see :meth:`Plan.summary`) differ by at most one;
* the double-coded subset is proportional across strata: each stratum gets the floor
  or the ceiling of its exact quota (largest-remainder rounding, Hamilton's method),
  and every stratum with at least ``1 / share`` sessions gets at least one
  double-coded session;
* every unordered pair of pool raters double-codes together a number of times that
  differs by at most one across pairs;
* no rater codes a session twice, and excluded raters (who code another scale of the
  same sessions) get nothing;
* each rater's codings spread over the values of every stratification key (counts
  are steered towards each rater's proportional share of each therapist, patient,
  phase, ...), and no rater codes every session of one value when others could;
* each queue is a seeded random order; equal inputs and seed give an equal plan,
  whatever the order of the input sequences.

When a guarantee cannot hold (one rater and a double share; started work that cannot
move), the plan still comes out and :attr:`Plan.relaxed` holds one human-readable
reason per relaxed guarantee. Each reason starts with a topic word (``"loads:"``,
``"pairs:"``, ``"strata:"``, ``"spread:"``, ``"double coding:"``, ``"coverage:"``) so a
caller can group them.

Re-planning (:func:`replan`) keeps every started coding exactly and plans the rest
afresh; :func:`add_double_coding` raises the double-coded share without moving any
existing coding.

Method: the double-coded sessions are drawn per stratum by largest remainder. The
multiset of rater pairs is fixed first (whole rounds of all pairs plus one
near-regular remainder graph built by Havel-Hakimi, so pair counts and pair degrees
both differ by at most one); load targets follow from it. Sessions are then given to
pairs and raters greedily, in seeded random order, choosing the pair or rater with
the largest remaining deficit against its proportional share of the session's
stratum values (a multi-key form of Sainte-Laguë apportionment), with a penalty on
handing a rater the last session of a value it would then hold completely. A final
pass swaps codings between raters with the same partner (or none) to break up the
remaining cases; such swaps keep loads and pair counts.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import combinations
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from coder.errors import InputError
from coder.kinds import CodingRole

Role = Literal[CodingRole.PRIMARY, CodingRole.SECOND, CodingRole.TRAINING]

#: Label used in ``summary().strata`` when no stratification keys are given.
ALL_SESSIONS_STRATUM = "all"

_Mode = Literal["plan", "replan", "add"]

# Outweighs any stratum deficit (those stay within a few codings) but not pair balance
# (weighted 1e3), which is a hard guarantee while spread is best effort.
_GUARD_PENALTY = 100.0


@dataclass(frozen=True)
class PlanSession:
    """A session to plan, with its values for the stratification keys.

    Attributes:
        session_id: The session's id in the project.
        strata: Key to value, e.g. ``{"therapist": "T1", "patient": "P03", "phase": "I"}``.
            Values are stored as strings; the mapping is copied and read-only.
    """

    session_id: str
    strata: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.session_id, str) or not self.session_id:
            raise InputError(
                f"session id {self.session_id!r} is not a non-empty text; give every session an id"
            )
        # Copy into a read-only mapping so a caller mutating its dict cannot change a plan.
        frozen = MappingProxyType({str(k): str(v) for k, v in dict(self.strata).items()})
        object.__setattr__(self, "strata", frozen)

    def __hash__(self) -> int:
        return hash((self.session_id, tuple(sorted(self.strata.items()))))


@dataclass(frozen=True)
class PlannedCoding:
    """One rater coding one session.

    Attributes:
        session_id: The session.
        rater: The rater code.
        role: ``"primary"`` (every analysis session has one), ``"second"`` (the
            double-coded subset) or ``"training"`` (coded by everyone, excluded from
            analysis).
        queue_position: 0-based position in that rater's queue.
    """

    session_id: str
    rater: str
    role: Role
    queue_position: int


@dataclass(frozen=True)
class PairCount:
    """How many sessions two pool raters double-code together (``a < b``)."""

    raters: tuple[str, str]
    count: int

    def as_dict(self) -> dict[str, object]:
        return {"raters": list(self.raters), "count": self.count}


@dataclass(frozen=True)
class StratumCoverage:
    """A stratum's analysis sessions and how many of them are double-coded."""

    sessions: int
    double_coded: int

    def as_dict(self) -> dict[str, int]:
        return {"sessions": self.sessions, "double_coded": self.double_coded}


@dataclass(frozen=True)
class NotCodable:
    """A session a plan could not use, and why (e.g. "audio file not found")."""

    session_id: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"session_id": self.session_id, "reason": self.reason}


@dataclass(frozen=True)
class PlanSummary:
    """What a plan gives each rater and how well it keeps its guarantees.

    Attributes:
        loads: rater -> primary + second codings. Every pool rater appears (also
            with 0); a rater outside the pool appears only if it keeps started codings.
            Training codings are not counted here.
        pair_counts: One entry per unordered pair of pool raters (zero counts
            included), in order: the sessions the two double-code together.
        double_coded: Analysis sessions with two codings.
        strata: stratum label (values of ``stratify`` joined by ``"|"``, or ``"all"``
            without keys) -> its coverage, analysis sessions only.
        relaxed: The reasons in :attr:`Plan.relaxed`.
        training: rater -> training codings (every pool rater; empty without training
            sessions).
        spread: key -> the largest difference, over the key's values, between the most
            and the least codings any two pool raters have of that value.
        seed: The seed.
        not_codable: The sessions the scale applies to that the plan could not use
            (no usable recording), each with its reason (:attr:`Plan.not_codable`).
    """

    loads: Mapping[str, int]
    pair_counts: tuple[PairCount, ...]
    double_coded: int
    strata: Mapping[str, StratumCoverage]
    relaxed: tuple[str, ...]
    training: Mapping[str, int]
    spread: Mapping[str, int]
    seed: int
    not_codable: tuple[NotCodable, ...] = ()

    def __post_init__(self) -> None:
        for name in ("loads", "strata", "training", "spread"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def as_dict(self) -> dict[str, object]:
        """The JSON document (``session-coder assign --json``; stored with the plan)."""
        return {
            "loads": dict(self.loads),
            "pair_counts": [p.as_dict() for p in self.pair_counts],
            "double_coded": self.double_coded,
            "strata": {label: e.as_dict() for label, e in self.strata.items()},
            "relaxed": list(self.relaxed),
            "training": dict(self.training),
            "spread": dict(self.spread),
            "seed": self.seed,
            "not_codable": [n.as_dict() for n in self.not_codable],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlanSummary:
        """Read a stored :meth:`as_dict` document (keys an older version did not store
        are empty)."""
        return cls(
            loads={str(k): int(v) for k, v in data.get("loads", {}).items()},
            pair_counts=tuple(
                PairCount((str(p["raters"][0]), str(p["raters"][1])), int(p["count"]))
                for p in data.get("pair_counts", [])
            ),
            double_coded=int(data.get("double_coded", 0)),
            strata={
                str(k): StratumCoverage(int(e["sessions"]), int(e["double_coded"]))
                for k, e in data.get("strata", {}).items()
            },
            relaxed=tuple(str(r) for r in data.get("relaxed", [])),
            training={str(k): int(v) for k, v in data.get("training", {}).items()},
            spread={str(k): int(v) for k, v in data.get("spread", {}).items()},
            seed=int(data.get("seed", 0)),
            not_codable=tuple(
                NotCodable(str(n["session_id"]), str(n["reason"]))
                for n in data.get("not_codable", [])
            ),
        )


@dataclass(frozen=True)
class Plan:
    """An assignment plan: codings, queue order and the guarantees it had to relax.

    Attributes:
        codings: Every coding, sorted by rater and queue position.
        relaxed: One reason per guarantee that could not hold (empty when all hold).
        seed: The seed the plan was made with.
        raters: The pool that received new work (input raters minus excluded), sorted.
        stratify: The stratification keys, in the order given.
        sessions: Every session of the plan (analysis and training), sorted by id.
        training: Ids of the training sessions, sorted.
        excluded_raters: Raters kept out because they code another scale, sorted.
        double: The double-coding share (float) or count (int) asked for.
        not_codable: Sessions left out as not codable, with the reason (the caller
            that chose the sessions fills it in).
    """

    codings: tuple[PlannedCoding, ...]
    relaxed: tuple[str, ...]
    seed: int
    raters: tuple[str, ...] = ()
    stratify: tuple[str, ...] = ()
    sessions: tuple[PlanSession, ...] = ()
    training: tuple[str, ...] = ()
    excluded_raters: tuple[str, ...] = ()
    double: float | int = 0
    not_codable: tuple[NotCodable, ...] = ()

    def queue(self, rater: str) -> tuple[PlannedCoding, ...]:
        """Return a rater's codings in queue order (training sessions first)."""
        return tuple(
            sorted((c for c in self.codings if c.rater == rater), key=lambda c: c.queue_position)
        )

    def summary(self) -> PlanSummary:
        """Return the plan summary (its :meth:`PlanSummary.as_dict` is the ``assign --json``
        document)."""
        training_ids = set(self.training)
        loads: dict[str, int] = {r: 0 for r in self.raters}
        training_loads: dict[str, int] = {r: 0 for r in self.raters} if self.training else {}
        by_session: dict[str, list[str]] = {}
        for c in self.codings:
            if c.role == CodingRole.TRAINING:
                training_loads[c.rater] = training_loads.get(c.rater, 0) + 1
                continue
            loads[c.rater] = loads.get(c.rater, 0) + 1
            by_session.setdefault(c.session_id, []).append(c.rater)
        pool = sorted(self.raters)
        pair_index = {(a, b): 0 for i, a in enumerate(pool) for b in pool[i + 1 :]}
        for raters in by_session.values():
            if len(raters) == 2:
                a, b = sorted(raters)
                if (a, b) in pair_index:
                    pair_index[(a, b)] += 1
        strata: dict[str, dict[str, int]] = {}
        for s in self.sessions:
            if s.session_id in training_ids:
                continue
            label = stratum_label(s, self.stratify)
            entry = strata.setdefault(label, {"sessions": 0, "double_coded": 0})
            entry["sessions"] += 1
            if len(by_session.get(s.session_id, ())) >= 2:
                entry["double_coded"] += 1
        spread: dict[str, int] = {}
        for key in self.stratify:
            counts: dict[str, dict[str, int]] = {}
            for s in self.sessions:
                if s.session_id in training_ids:
                    continue
                value = s.strata[key]
                row = counts.get(value)
                if row is None:
                    row = counts[value] = {r: 0 for r in pool}
                for r in by_session.get(s.session_id, ()):
                    if r in row:
                        row[r] += 1
            spread[key] = max(
                (max(row.values()) - min(row.values()) for row in counts.values() if row),
                default=0,
            )
        return PlanSummary(
            loads=dict(sorted(loads.items())),
            pair_counts=tuple(PairCount((a, b), n) for (a, b), n in sorted(pair_index.items())),
            double_coded=sum(1 for v in by_session.values() if len(v) >= 2),
            strata={
                label: StratumCoverage(e["sessions"], e["double_coded"])
                for label, e in sorted(strata.items())
            },
            relaxed=tuple(self.relaxed),
            training=dict(sorted(training_loads.items())),
            spread=spread,
            seed=self.seed,
            not_codable=self.not_codable,
        )


def stratum_label(session: PlanSession, stratify: Sequence[str]) -> str:
    """Return a session's stratum label: its values for ``stratify`` joined by ``"|"``."""
    if not stratify:
        return ALL_SESSIONS_STRATUM
    return "|".join(session.strata[k] for k in stratify)


# --------------------------------------------------------------------------- public API


def plan_assignments(
    sessions: Sequence[PlanSession],
    raters: Sequence[str],
    *,
    double: float | int,
    stratify: Sequence[str],
    seed: int,
    excluded_raters: Collection[str] = (),
    training: Collection[str] = (),
) -> Plan:
    """Plan primary and second raters and queue orders for a set of sessions.

    Args:
        sessions: The sessions to plan, with their strata values.
        raters: The rater pool (codes).
        double: Share of sessions to double-code (float in 0..1, rounded half up to a
            count) or the number of sessions (int). ``1.0`` means all sessions, ``1``
            means one session.
        stratify: Keys of ``PlanSession.strata`` that define strata; every session needs
            a value for each.
        seed: Non-negative integer; equal inputs and seed give an equal plan.
        excluded_raters: Raters who code another scale of the same sessions; they get no
            work here (pool separation).
        training: Ids of sessions (among ``sessions``) coded by every pool rater for
            training; they are excluded from double-coding, loads and strata and come
            first in every queue.

    Returns:
        The plan; ``plan.relaxed`` says which guarantees could not hold and why.

    Raises:
        InputError: Empty pool or session list, a share outside 0..1, a count above the
            number of sessions, an unknown stratify key, duplicate ids, a negative seed,
            or a training id that is not among the sessions.
    """
    return _plan(
        sessions,
        raters,
        double=double,
        stratify=stratify,
        seed=seed,
        excluded=excluded_raters,
        training=training,
        kept=(),
        started=frozenset(),
        mode="plan",
    )


def replan(
    previous: Plan,
    *,
    sessions: Sequence[PlanSession],
    raters: Sequence[str],
    double: float | int,
    stratify: Sequence[str],
    seed: int,
    started: Collection[tuple[str, str]],
    training: Collection[str] = (),
    excluded_raters: Collection[str] | None = None,
) -> Plan:
    """Re-plan unstarted work after sessions or raters were added or removed.

    Every started coding (completed or in progress) keeps its session, rater and role,
    also when its rater left the pool, and stays at the front of the rater's queue in
    its previous order (so a started prefix keeps its exact queue positions). All other
    work is planned afresh around it: with no started codings the result equals
    :func:`plan_assignments` with the same arguments. Balance that the started work
    makes impossible is reported in ``relaxed``.

    Args:
        previous: The plan in force.
        sessions: All sessions of the new plan (old and added ones).
        raters: The new pool (add or drop codes here).
        double: Share (float) or count (int) of sessions to double-code.
        stratify: Stratification keys.
        seed: Seed for the re-planned part.
        started: ``(session_id, rater)`` codings of ``previous`` that have started.
        training: Ids of training sessions; new pool raters get their training codings.
        excluded_raters: Raters coding another scale of these sessions; ``None`` keeps
            the previous plan's exclusions.

    Returns:
        The new plan.

    Raises:
        InputError: As :func:`plan_assignments`, and when a started coding is not in
            ``previous`` or its session is missing from ``sessions``.
    """
    started_keys = _check_started(previous, started)
    kept = [c for c in previous.codings if (c.session_id, c.rater) in started_keys]
    return _plan(
        sessions,
        raters,
        double=double,
        stratify=stratify,
        seed=seed,
        excluded=previous.excluded_raters if excluded_raters is None else excluded_raters,
        training=training,
        kept=kept,
        started=started_keys,
        mode="replan",
    )


def add_double_coding(
    previous: Plan,
    *,
    sessions: Sequence[PlanSession],
    raters: Sequence[str],
    double: float | int,
    stratify: Sequence[str],
    seed: int,
    started: Collection[tuple[str, str]] = (),
) -> Plan:
    """Raise the double-coded share without moving any existing coding.

    Every coding of ``previous`` keeps its session, rater and role. New second codings
    go to the single-coded sessions the larger share needs (per stratum, by largest
    remainder), with second raters chosen to even out loads and pair counts. In each
    queue, started codings keep their place at the front; the new codings are mixed
    at random among the unstarted ones, whose relative order is kept, so raters do not
    meet the reliability sessions as one block at the end. Sessions in ``sessions``
    that ``previous`` lacks are planned as new work. Training sessions and exclusions
    carry over from ``previous``. A share lower than the existing one removes nothing
    (use :func:`replan` for that) and is reported in ``relaxed``.

    Args:
        previous: The plan in force.
        sessions: All sessions (at least those of ``previous``).
        raters: The pool for the new codings.
        double: The new share (float) or count (int).
        stratify: Stratification keys.
        seed: Seed for the new codings.
        started: ``(session_id, rater)`` codings already started (queue placement only).

    Returns:
        The new plan.

    Raises:
        InputError: As :func:`plan_assignments`, and when a session of ``previous`` is
            missing from ``sessions``.
    """
    started_keys = _check_started(previous, started)
    return _plan(
        sessions,
        raters,
        double=double,
        stratify=stratify,
        seed=seed,
        excluded=previous.excluded_raters,
        training=previous.training,
        kept=list(previous.codings),
        started=started_keys,
        mode="add",
    )


# --------------------------------------------------------------------------- validation


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or int(seed) < 0:
        raise InputError(f"seed {seed!r} is not a non-negative integer; give a seed such as 1")
    return int(seed)


def _check_stratify(stratify: Sequence[str]) -> tuple[str, ...]:
    if isinstance(stratify, str):
        raise InputError(
            f"stratify keys must be a list, not the text {stratify!r}; "
            "split comma-separated keys first"
        )
    keys = tuple(str(k) for k in stratify)
    if len(set(keys)) != len(keys):
        raise InputError(f"stratify keys {list(keys)} repeat a key; give each key once")
    return keys


def _check_sessions(
    sessions: Sequence[PlanSession], stratify: tuple[str, ...]
) -> list[PlanSession]:
    if not sessions:
        raise InputError("there are no sessions to assign; import sessions or widen the filter")
    seen: set[str] = set()
    for s in sessions:
        if not isinstance(s, PlanSession):
            raise InputError(f"{s!r} is not a PlanSession")
        if s.session_id in seen:
            raise InputError(f"session {s.session_id!r} is listed twice; give each session once")
        seen.add(s.session_id)
    known = sorted({k for s in sessions for k in s.strata})
    for key in stratify:
        missing = [s.session_id for s in sessions if key not in s.strata]
        if len(missing) == len(sessions):
            raise InputError(
                f"unknown stratify key {key!r}; the sessions have {known or 'no keys'}"
            )
        if missing:
            raise InputError(
                f"session {sorted(missing)[0]!r} has no value for stratify key {key!r} "
                f"({len(missing)} sessions lack it); add it to the manifest or drop the key"
            )
    return sorted(sessions, key=lambda s: s.session_id)


def _check_pool(raters: Sequence[str], excluded: Collection[str]) -> tuple[list[str], list[str]]:
    if isinstance(raters, str):
        raise InputError(
            f"raters must be a list of codes, not the text {raters!r}; split it at commas"
        )
    codes = [str(r) for r in raters]
    if any(not r for r in codes):
        raise InputError("a rater code is empty; give every rater a code")
    if len(set(codes)) != len(codes):
        dup = sorted({r for r in codes if codes.count(r) > 1})
        raise InputError(f"rater {dup[0]!r} is listed twice; give each rater once")
    excluded_set = {str(r) for r in excluded}
    pool = sorted(set(codes) - excluded_set)
    if not pool:
        if codes:
            raise InputError(
                "every rater in the pool is excluded (they code another scale of these "
                "sessions); add raters who do not"
            )
        raise InputError("the rater pool is empty; add at least one rater")
    return pool, sorted(excluded_set)


def _double_target(double: float | int, n: int) -> tuple[int, Fraction]:
    """Return the double-coded count and the share that defines eligible strata."""
    if isinstance(double, bool) or not isinstance(double, int | float | np.integer | np.floating):
        raise InputError(
            f"double {double!r} is neither a share (0..1) nor a count; give e.g. 0.3 or 20"
        )
    if isinstance(double, int | np.integer):
        count = int(double)
        if count < 0 or count > n:
            raise InputError(
                f"double count {count} is outside 0..{n} (the number of sessions to plan); "
                "give a count in that range or a share such as 0.3"
            )
        return count, Fraction(count, n) if n else Fraction(0)
    share = float(double)
    if not math.isfinite(share) or share < 0 or share > 1:
        raise InputError(f"double share {share} is outside 0..1; give a share such as 0.3 for 30 %")
    # repr() round-trips, so 0.3 becomes exactly 3/10 and 0.3 * 10 rounds to 3, not 2.
    exact = Fraction(repr(share))
    return math.floor(exact * n + Fraction(1, 2)), exact


def _check_started(
    previous: Plan, started: Collection[tuple[str, str]]
) -> frozenset[tuple[str, str]]:
    existing = {(c.session_id, c.rater) for c in previous.codings}
    keys: set[tuple[str, str]] = set()
    for item in started:
        try:
            session_id, rater = item
        except (TypeError, ValueError):
            raise InputError(f"started coding {item!r} is not a (session_id, rater) pair") from None
        key = (str(session_id), str(rater))
        if key not in existing:
            raise InputError(
                f"started coding of session {key[0]!r} by rater {key[1]!r} is not in the "
                "previous plan; pass the plan those codings were made from"
            )
        keys.add(key)
    return frozenset(keys)


# --------------------------------------------------------------------------- planning


def _largest_remainder(
    sizes: Sequence[int], total: int, share: Fraction, rng: np.random.Generator
) -> list[int]:
    """Split ``total`` over strata of ``sizes`` by largest remainder (Hamilton).

    Every stratum gets the floor or the ceiling of its quota ``total * size / N``.
    Strata with ``size * share >= 1`` that would round to zero are served first. With
    ``total = round(share * N)`` largest remainder already gives them a seat (their
    remainder is at least ``1 - 1/(2 * share * N)``, and too few strata can beat it to
    use up the seats), so this is a safeguard that never leaves the floor/ceiling
    bounds. Ties are broken by a seeded random order.
    """
    n = sum(sizes)
    if n == 0 or total == 0:
        return [0] * len(sizes)
    floors = [total * k // n for k in sizes]
    remainders = [total * k % n for k in sizes]
    seats = total - sum(floors)
    tiebreak = rng.permutation(len(sizes))
    num, den = share.numerator, share.denominator
    order = sorted(
        range(len(sizes)),
        key=lambda i: (
            not (floors[i] == 0 and sizes[i] * num >= den),
            -remainders[i],
            int(tiebreak[i]),
        ),
    )
    for i in order[:seats]:
        floors[i] += 1
    return floors


def _near_regular_pairs(r: int, m: int, rank: NDArray[np.int64]) -> list[tuple[int, int]]:
    """Return ``m`` distinct pairs of ``r`` raters whose degrees differ by at most one.

    Havel-Hakimi on the degree sequence ``floor/ceil(2m / r)``; such a sequence is always
    graphical (Erdős-Gallai), and Havel-Hakimi finds a graph for any graphical sequence
    whatever the tie-breaking. ``rank`` (a seeded permutation) breaks ties and decides
    which raters get the higher degree.
    """
    if m == 0:
        return []
    base, high = divmod(2 * m, r)
    order = sorted(range(r), key=lambda i: int(rank[i]))
    remaining = {v: base + (1 if k < high else 0) for k, v in enumerate(order)}
    pairs: list[tuple[int, int]] = []
    while True:
        live = sorted(
            (v for v in remaining if remaining[v] > 0), key=lambda v: (-remaining[v], int(rank[v]))
        )
        if not live:
            break
        v, rest = live[0], live[1:]
        d = remaining[v]
        if d > len(rest):  # cannot happen for a graphical sequence; guard anyway
            raise AssertionError("degree sequence is not graphical")
        for w in rest[:d]:
            pairs.append((min(v, w), max(v, w)))
            remaining[w] -= 1
        remaining[v] = 0
    return pairs


class _Engine:
    """Mutable state of one planning run: counts per rater, per stratum value and pair."""

    def __init__(
        self,
        values: list[NDArray[np.int64]],
        n_values: list[int],
        pool_size: int,
        rng: np.random.Generator,
    ) -> None:
        self.values = values  # per key: value index of every session
        self.r = pool_size
        self.rng = rng
        self.counts = [np.zeros((nv, pool_size)) for nv in n_values]
        self.targets = [np.zeros((nv, pool_size)) for nv in n_values]
        self.pair = np.zeros((pool_size, pool_size), dtype=np.int64)
        self.load = np.zeros(pool_size, dtype=np.int64)
        self.guard: list[NDArray[np.float64]] = [np.full(nv, np.inf) for nv in n_values]

    def set_targets(self, session_codings: NDArray[np.float64], loads: NDArray[np.float64]) -> None:
        """Target of rater r for value v: codings of v-sessions times r's load share."""
        total = float(loads.sum())
        share = loads / total if total else loads
        self.guard = []
        for k, vals in enumerate(self.values):
            n_values = self.counts[k].shape[0]
            per_value = np.bincount(vals, weights=session_codings, minlength=n_values)
            self.targets[k] = np.outer(per_value, share)
            size = np.bincount(vals, minlength=n_values).astype(np.float64)
            # Pigeonhole: only when codings <= raters * (sessions - 1) can every rater
            # miss at least one session of the value; elsewhere the guard is off.
            avoidable = (size >= 2) & (per_value <= self.r * (size - 1))
            self.guard.append(np.where(avoidable, size - 1, np.inf))

    def add(self, s: int, r: int) -> None:
        for k, vals in enumerate(self.values):
            self.counts[k][vals[s], r] += 1
        self.load[r] += 1

    def remove(self, s: int, r: int) -> None:
        for k, vals in enumerate(self.values):
            self.counts[k][vals[s], r] -= 1
        self.load[r] -= 1

    def deficit(self, s: int) -> NDArray[np.float64]:
        """Per rater: how far below its proportional share of this session's values."""
        out = np.zeros(self.r)
        for k, vals in enumerate(self.values):
            v = vals[s]
            row = self.counts[k][v]
            out += self.targets[k][v] - row
            # Steer away from a rater who would then code every session of this value.
            out -= _GUARD_PENALTY * (row >= self.guard[k][v])
        return out

    def noise(self, shape: int | tuple[int, int]) -> NDArray[np.float64]:
        return self.rng.random(shape) * 1e-6


@dataclass
class _Slot:
    """Codings of one analysis session while planning."""

    kept: list[PlannedCoding]
    double: bool = False
    new: list[tuple[int, Role]] = field(default_factory=list)  # (pool index, role)


def _plan(
    sessions: Sequence[PlanSession],
    raters: Sequence[str],
    *,
    double: float | int,
    stratify: Sequence[str],
    seed: int,
    excluded: Collection[str],
    training: Collection[str],
    kept: Sequence[PlannedCoding],
    started: frozenset[tuple[str, str]],
    mode: _Mode,
) -> Plan:
    seed = _check_seed(seed)
    keys = _check_stratify(stratify)
    ordered = _check_sessions(sessions, keys)
    pool, excluded_sorted = _check_pool(raters, excluded)
    by_id = {s.session_id: s for s in ordered}
    training_ids = sorted({str(t) for t in training})
    for t in training_ids:
        if t not in by_id:
            raise InputError(
                f"training session {t!r} is not among the sessions; add it or drop it from "
                "the training list"
            )
    training_set = set(training_ids)
    analysis = [s for s in ordered if s.session_id not in training_set]
    if not analysis and not training_ids:
        raise InputError("there are no sessions to assign; import sessions first")
    n = len(analysis)
    d_target, share = _double_target(double, n)
    rng = np.random.default_rng(seed)
    reasons: list[str] = []
    r_count = len(pool)
    rater_index = {r: i for i, r in enumerate(pool)}

    # Kept codings (started ones, or all in add mode) grouped by session.
    index_of = {s.session_id: i for i, s in enumerate(analysis)}
    slots = [_Slot(kept=[]) for _ in analysis]
    kept_training: list[PlannedCoding] = []
    for c in kept:
        if c.session_id not in by_id:
            raise InputError(
                f"session {c.session_id!r} has a started coding by {c.rater!r} but is not among "
                "the sessions; keep it in the session list"
            )
        if c.role == CodingRole.TRAINING:
            if c.session_id not in training_set:
                raise InputError(
                    f"session {c.session_id!r} has started training codings; keep it in the "
                    "training list"
                )
            kept_training.append(c)
            continue
        if c.session_id in training_set:
            raise InputError(
                f"session {c.session_id!r} has a started {c.role} coding; it cannot become a "
                "training session"
            )
        slots[index_of[c.session_id]].kept.append(c)
    fresh = not any(slot.kept for slot in slots)

    if d_target > 0 and r_count < 2:
        reasons.append(
            f"double coding: needs at least 2 raters but the pool has {r_count} "
            f"({', '.join(pool)}"
            + (f"; {', '.join(excluded_sorted)} excluded" if excluded_sorted else "")
            + f"), so none of the {_plural(d_target, 'session')} asked for is double-coded"
        )
        d_target = 0

    # ---- which sessions are double-coded: largest remainder per stratum
    labels = [tuple(s.strata[k] for k in keys) for s in analysis]
    strata = sorted(set(labels))
    stratum_of = {lab: i for i, lab in enumerate(strata)}
    members: list[list[int]] = [[] for _ in strata]
    for i, lab in enumerate(labels):
        members[stratum_of[lab]].append(i)
    sizes = [len(m) for m in members]
    alloc = _largest_remainder(sizes, d_target, share, rng)
    # In add mode, which single-coded sessions get a second coding is decided later,
    # together with the second rater, so the fixed primaries do not skew pair counts.
    pending: list[tuple[int, list[int], int]] = []  # (stratum, candidates, how many)
    for st, idxs in enumerate(members):
        forced = [
            i
            for i in idxs
            if len(slots[i].kept) >= 2 or any(c.role == CodingRole.SECOND for c in slots[i].kept)
        ]
        forced_set = set(forced)
        rest = [i for i in idxs if i not in forced_set]
        extra = max(0, alloc[st] - len(forced))
        if mode == "add":
            with_primary = [i for i in rest if slots[i].kept]
            later = min(extra, len(with_primary))
            if later:
                pending.append((st, with_primary, later))
            rest = [i for i in rest if not slots[i].kept]
            extra -= later
        chosen = forced + [rest[j] for j in sorted(rng.permutation(len(rest))[:extra])]
        for i in chosen:
            slots[i].double = True
    d_actual = sum(1 for slot in slots if slot.double) + sum(k for _, _, k in pending)
    if mode == "add":
        previous_double = sum(1 for slot in slots if len(slot.kept) >= 2)
        if previous_double > d_target:
            reasons.append(
                f"double coding: {previous_double} sessions are already double-coded, more than "
                f"the {d_target} asked for; add_double_coding never removes codings "
                "(re-plan to drop unstarted second codings)"
            )
    elif d_actual > d_target:
        reasons.append(
            f"double coding: {d_actual} sessions are double-coded instead of {d_target} "
            "because started second codings cannot be dropped"
        )

    # ---- values of each stratify key, for rater spread
    value_lists = [sorted({s.strata[k] for s in analysis}) for k in keys]
    values = []
    for k, vl in zip(keys, value_lists, strict=True):
        position = {v: j for j, v in enumerate(vl)}
        values.append(np.array([position[s.strata[k]] for s in analysis], dtype=np.int64))
    engine = _Engine(values, [len(vl) for vl in value_lists], r_count, rng)

    need = np.array([2 if slot.double else 1 for slot in slots], dtype=np.int64)
    expected_need = need.astype(np.float64)
    for _, candidates, count in pending:
        expected_need[candidates] += count / len(candidates)
    kept_load = np.zeros(r_count, dtype=np.int64)
    outside = np.zeros(n, dtype=np.float64)  # codings kept by raters outside the pool
    for i, slot in enumerate(slots):
        for c in slot.kept:
            if c.rater in rater_index:
                engine.add(i, rater_index[c.rater])
                kept_load[rater_index[c.rater]] += 1
            else:
                outside[i] += 1
        for first, other in combinations(slot.kept, 2):
            if first.rater in rater_index and other.rater in rater_index:
                fi, oi = rater_index[first.rater], rater_index[other.rater]
                engine.pair[fi, oi] += 1
                engine.pair[oi, fi] += 1
    open_slots = np.maximum(need - np.array([len(s.kept) for s in slots], dtype=np.int64), 0)
    pending_total = sum(k for _, _, k in pending)
    free_double = [i for i, slot in enumerate(slots) if slot.double and not slot.kept]
    half_double = [i for i, slot in enumerate(slots) if slot.double and len(slot.kept) == 1]
    singles = [i for i, slot in enumerate(slots) if not slot.double and not slot.kept]

    # ---- load targets and the pair multiset of the free double-coded sessions
    quota = np.zeros((r_count, r_count), dtype=np.int64)
    if fresh:
        targets, quota = _fresh_targets(n, len(free_double), r_count, rng)
    else:
        targets = _water_fill(kept_load, int(open_slots.sum()) + pending_total, rng)
    engine.set_targets(expected_need - outside, targets.astype(np.float64))
    capacity = targets - kept_load

    if pending:
        half_double = (
            _pick_seconds(slots, pending, engine, capacity, rater_index, rng) + half_double
        )

    # Sessions with one kept coding get a partner first: their choice is the most constrained.
    for i in [half_double[j] for j in rng.permutation(len(half_double))]:
        if slots[i].new:  # partner already chosen by _pick_seconds
            continue
        c = slots[i].kept[0]
        x = rater_index.get(c.rater)
        ok = np.ones(r_count, dtype=bool)
        if x is not None:
            ok[x] = False
        if not ok.any():
            # Only the rater of the kept coding is left in the pool. A started second
            # coding cannot be turned into a primary one, so the role stays open.
            missing = CodingRole.PRIMARY if c.role == CodingRole.SECOND else CodingRole.SECOND
            reasons.append(
                f"double coding: session {c.session_id} has a started {c.role} coding by "
                f"{c.rater} and no other rater in the pool can take its {missing} coding; "
                "add a rater and re-plan"
            )
            continue
        has_room = ok & (capacity > 0)
        if has_room.any():
            ok = has_room
        score = engine.deficit(i) + engine.noise(r_count)
        if x is not None:
            score = score - 1e3 * engine.pair[x]
        score[~ok] = -np.inf
        b = int(np.argmax(score))
        role: Role = CodingRole.SECOND if c.role == CodingRole.PRIMARY else CodingRole.PRIMARY
        slots[i].new.append((b, role))
        engine.add(i, b)
        capacity[b] -= 1
        if x is not None:
            engine.pair[x, b] += 1
            engine.pair[b, x] += 1

    if not fresh:
        quota = _greedy_pair_quota(engine.pair, capacity, len(free_double), rng)
    capacity = capacity - quota.sum(axis=0) - quota.sum(axis=1)
    upper = np.triu(np.ones((r_count, r_count), dtype=bool), k=1)
    for i in [free_double[j] for j in rng.permutation(len(free_double))]:
        d = engine.deficit(i)
        score = d[:, None] + d[None, :] + engine.noise((r_count, r_count))
        score[~(upper & (quota > 0))] = -np.inf
        flat = int(np.argmax(score))
        a, b = divmod(flat, r_count)
        quota[a, b] -= 1
        engine.pair[a, b] += 1
        engine.pair[b, a] += 1
        slots[i].new.extend([(a, CodingRole.PRIMARY), (b, CodingRole.SECOND)])
        engine.add(i, a)
        engine.add(i, b)

    for i in [singles[j] for j in rng.permutation(len(singles))]:
        score = engine.deficit(i) + engine.noise(r_count)
        room = capacity > 0
        if room.any():
            score[~room] = -np.inf
        r = int(np.argmax(score))
        capacity[r] -= 1
        slots[i].new.append((r, CodingRole.PRIMARY))
        engine.add(i, r)

    _repair_spread(slots, engine, rng)
    _orient(slots, free_double, targets, n, r_count, rng)

    # ---- training codings and queues
    kept_training_keys = {(c.session_id, c.rater) for c in kept_training}
    new_training: dict[int, list[str]] = {r: [] for r in range(r_count)}
    for r in range(r_count):
        for t in training_ids:
            if (t, pool[r]) not in kept_training_keys:
                new_training[r].append(t)
    new_work: dict[int, list[tuple[str, Role]]] = {r: [] for r in range(r_count)}
    for i, slot in enumerate(slots):
        for r, role in slot.new:
            new_work[r].append((analysis[i].session_id, role))

    codings = _queues(
        pool,
        kept_training + [c for slot in slots for c in slot.kept],
        started,
        new_training,
        new_work,
        mode,
        rng,
    )
    plan = Plan(
        codings=codings,
        relaxed=(),
        seed=seed,
        raters=tuple(pool),
        stratify=keys,
        sessions=tuple(ordered),
        training=tuple(training_ids),
        excluded_raters=tuple(excluded_sorted),
        double=double,
    )
    reasons += _check_guarantees(plan, share, fresh, d_target > 0 or d_actual > 0, mode)
    return Plan(
        codings=plan.codings,
        relaxed=tuple(reasons),
        seed=seed,
        raters=plan.raters,
        stratify=plan.stratify,
        sessions=plan.sessions,
        training=plan.training,
        excluded_raters=plan.excluded_raters,
        double=double,
    )


def _pick_seconds(
    slots: list[_Slot],
    pending: list[tuple[int, list[int], int]],
    engine: _Engine,
    capacity: NDArray[np.int64],
    rater_index: Mapping[str, int],
    rng: np.random.Generator,
) -> list[int]:
    """Choose single-coded sessions to double-code and their second raters (add mode).

    Capacity first: each step takes the second rater with the most room left in its
    load target, pairs it with the primary it has double-coded with least among the
    strata that still need a double coding, and takes the session of that stratum and
    primary where the second rater is furthest below its share of the strata values.
    Keeping the second rater's room as the first criterion fills the load targets
    exactly; the pair choice then evens out pair counts.
    """
    r = engine.r
    left = {st: k for st, _, k in pending}
    by_primary: dict[int, dict[int, list[int]]] = {}  # primary -> stratum -> sessions
    for st, candidates, _ in pending:
        for i in candidates:
            x = rater_index.get(slots[i].kept[0].rater, -1)
            by_primary.setdefault(x, {}).setdefault(st, []).append(i)
    options = {st: 0 for st in left}
    for groups in by_primary.values():
        for st in groups:
            options[st] += 1
    tiebreak = {st: int(t) for st, t in zip(sorted(left), rng.permutation(len(left)), strict=True)}
    picked: list[int] = []
    while left:
        order = np.argsort(-(capacity + engine.noise(r)), kind="stable")
        choice: tuple[int, int, int] | None = None
        for b in (int(v) for v in order):
            xs = [x for x in sorted(by_primary) if x != b and by_primary[x]]
            if not xs:
                continue
            pair_use = np.array([engine.pair[x, b] if x >= 0 else 0 for x in xs], dtype=np.float64)
            x = xs[int(np.argmin(pair_use + engine.noise(len(xs))))]
            # The stratum with the most double codings still owed per primary left goes
            # first: its choice is the most constrained.
            st = max(by_primary[x], key=lambda g: (left[g] / options[g], -tiebreak[g]))
            choice = (b, x, st)
            break
        if choice is None:  # every remaining candidate's primary is the only rater
            break
        b, x, st = choice
        sessions = by_primary[x][st]
        sample = sessions[:16]  # a bounded sample keeps this cheap for big strata
        i = max(sample, key=lambda j: (float(engine.deficit(j)[b]), -j))
        sessions.remove(i)
        if not sessions:
            del by_primary[x][st]
            options[st] -= 1
        left[st] -= 1
        if not left[st]:
            del left[st]
            for groups in by_primary.values():
                groups.pop(st, None)
            options.pop(st)
        slots[i].double = True
        role: Role = (
            CodingRole.SECOND if slots[i].kept[0].role == CodingRole.PRIMARY else CodingRole.PRIMARY
        )
        slots[i].new.append((b, role))
        engine.add(i, b)
        capacity[b] -= 1
        if x >= 0:
            engine.pair[x, b] += 1
            engine.pair[b, x] += 1
        picked.append(i)
    return picked


def _fresh_targets(
    n: int, d: int, r: int, rng: np.random.Generator
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Return load targets and pair quotas for a plan without kept codings.

    ``d // P`` whole rounds of all ``P`` pairs plus a near-regular remainder graph give
    pair counts and pair degrees that differ by at most one. Raters with the higher
    degree get the higher load, which keeps their single-coded share non-negative.
    """
    rank = rng.permutation(r).astype(np.int64)
    quota = np.zeros((r, r), dtype=np.int64)
    if r >= 2 and d > 0:
        n_pairs = r * (r - 1) // 2
        rounds, rest = divmod(d, n_pairs)
        quota[np.triu_indices(r, k=1)] = rounds
        for a, b in _near_regular_pairs(r, rest, rank):
            quota[a, b] += 1
    degree = quota.sum(axis=0) + quota.sum(axis=1)
    total = n + d
    base, extra = divmod(total, r)
    order = sorted(range(r), key=lambda i: (-int(degree[i]), int(rank[i])))
    targets = np.full(r, base, dtype=np.int64)
    for i in order[:extra]:
        targets[i] += 1
    return targets, quota


def _water_fill(
    kept: NDArray[np.int64], open_total: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """Return load targets ``>= kept`` that add ``open_total`` and are as even as possible."""
    r = len(kept)
    total = int(kept.sum()) + open_total
    level = max(int(kept.min()), 0)
    # Raise the level until the raters below it can absorb the open work.
    while int(np.maximum(level + 1 - kept, 0).sum()) <= open_total and level < total:
        level += 1
    targets = np.maximum(kept, level)
    left = total - int(targets.sum())
    if left > 0:
        candidates = [i for i in rng.permutation(r) if kept[i] <= level]
        for i in candidates[:left]:
            targets[i] += 1
    return targets


def _greedy_pair_quota(
    pair: NDArray[np.int64], capacity: NDArray[np.int64], count: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """Pick ``count`` pairs one by one: least-used pair first, then the most free room."""
    r = len(capacity)
    quota = np.zeros((r, r), dtype=np.int64)
    if count == 0 or r < 2:
        return quota
    current = pair.astype(np.float64).copy()
    room = capacity.astype(np.float64).copy()
    upper = np.triu(np.ones((r, r), dtype=bool), k=1)
    for _ in range(count):
        both = (room[:, None] > 0) & (room[None, :] > 0) & upper
        allowed = both if both.any() else upper
        score = -1e3 * current + room[:, None] + room[None, :] + rng.random((r, r)) * 1e-6
        score[~allowed] = -np.inf
        a, b = divmod(int(np.argmax(score)), r)
        quota[a, b] += 1
        current[a, b] += 1
        current[b, a] += 1
        room[a] -= 1
        room[b] -= 1
    return quota


def _orient(
    slots: list[_Slot],
    free_double: list[int],
    targets: NDArray[np.int64],
    n: int,
    r: int,
    rng: np.random.Generator,
) -> None:
    """Choose primary and second within each new pair to even out primary counts."""
    primaries = np.zeros(r)
    paired = set(free_double)
    for i, slot in enumerate(slots):
        if i in paired:
            continue
        for x, role in slot.new:
            if role == CodingRole.PRIMARY:
                primaries[x] += 1
    total = float(targets.sum())
    wanted = targets * (n / total) if total else targets.astype(np.float64)
    for i in [free_double[j] for j in rng.permutation(len(free_double))]:
        (a, _), (b, _) = slots[i].new
        gap = wanted - primaries
        if gap[b] > gap[a] or (gap[b] == gap[a] and rng.random() < 0.5):
            a, b = b, a
        slots[i].new = [(a, CodingRole.PRIMARY), (b, CodingRole.SECOND)]
        primaries[a] += 1


def _repair_spread(slots: list[_Slot], engine: _Engine, rng: np.random.Generator) -> None:
    """Swap codings so no rater holds every session of a value that others could share.

    A swap gives rater ``r``'s coding of session ``s`` to rater ``q`` and ``q``'s coding
    of session ``t`` to ``r``, where both have the same partner in their session (or
    both code alone). Loads and pair counts stay the same; the swap is kept only if it
    creates no new case. Kept (started) codings never move.
    """
    if not engine.values or engine.r < 2:
        return

    def is_full(r: int, s: int) -> bool:
        return any(
            engine.counts[k][vals[s], r] > engine.guard[k][vals[s]]
            for k, vals in enumerate(engine.values)
        )

    def partner(i: int, r: int) -> int:
        others = [x for x, _ in slots[i].new if x != r]
        return others[0] if others else -1

    groups: dict[tuple[int, int], list[int]] = {}
    for i, slot in enumerate(slots):
        if not slot.kept:
            for x, _ in slot.new:
                groups.setdefault((x, partner(i, x)), []).append(i)
    members = [
        [np.flatnonzero(vals == v) for v in range(engine.counts[k].shape[0])]
        for k, vals in enumerate(engine.values)
    ]

    def swap(s: int, r: int, t: int, q: int) -> None:
        p = partner(s, r)
        slots[s].new = [(q if x == r else x, role) for x, role in slots[s].new]
        slots[t].new = [(r if x == q else x, role) for x, role in slots[t].new]
        engine.remove(s, r)
        engine.remove(t, q)
        engine.add(s, q)
        engine.add(t, r)
        groups[(r, p)].remove(s)
        groups[(q, p)].remove(t)
        groups.setdefault((q, p), []).append(s)
        groups.setdefault((r, p), []).append(t)
        if p >= 0:
            groups[(p, r)].remove(s)
            groups[(p, q)].remove(t)
            groups.setdefault((p, q), []).append(s)
            groups.setdefault((p, r), []).append(t)

    for _ in range(3):  # each successful swap removes one case; a few passes suffice
        changed = False
        for k, vals in enumerate(engine.values):
            for value in np.flatnonzero(np.isfinite(engine.guard[k])):
                v = int(value)
                for full in np.flatnonzero(engine.counts[k][v] > engine.guard[k][v]):
                    r = int(full)
                    done = False
                    for s in (int(x) for x in members[k][v]):
                        if slots[s].kept or all(x != r for x, _ in slots[s].new):
                            continue
                        p = partner(s, r)
                        coders_s = {x for x, _ in slots[s].new}
                        for q in (int(x) for x in rng.permutation(engine.r)):
                            if q in coders_s:
                                continue
                            for t in list(groups.get((q, p), [])):
                                if vals[t] == v or any(x == r for x, _ in slots[t].new):
                                    continue
                                swap(s, r, t, q)
                                if is_full(q, s) or is_full(r, t):
                                    swap(s, q, t, r)  # undo
                                    continue
                                done = changed = True
                                break
                            if done:
                                break
                        if done:
                            break
        if not changed:
            break


def _queues(
    pool: list[str],
    kept: list[PlannedCoding],
    started: frozenset[tuple[str, str]],
    new_training: dict[int, list[str]],
    new_work: dict[int, list[tuple[str, Role]]],
    mode: _Mode,
    rng: np.random.Generator,
) -> tuple[PlannedCoding, ...]:
    """Build every rater's queue.

    Order per rater: started codings in their previous order; then training sessions;
    then the work. In add mode the new work is mixed at random positions among the
    kept unstarted codings, whose relative order is kept.
    """
    kept_by: dict[str, list[PlannedCoding]] = {}
    for c in kept:
        kept_by.setdefault(c.rater, []).append(c)
    out: list[PlannedCoding] = []
    raters = sorted(set(pool) | set(kept_by))
    index = {r: i for i, r in enumerate(pool)}
    for rater in raters:
        own = sorted(kept_by.get(rater, []), key=lambda c: c.queue_position)
        first = [(c.session_id, c.role) for c in own if (c.session_id, c.rater) in started]
        later = [(c.session_id, c.role) for c in own if (c.session_id, c.rater) not in started]
        r = index.get(rater)
        training: list[tuple[str, Role]] = []
        work: list[tuple[str, Role]] = []
        if r is not None:
            t_ids = new_training[r]
            training = [(t_ids[j], CodingRole.TRAINING) for j in rng.permutation(len(t_ids))]
            w = sorted(new_work[r])
            work = [w[j] for j in rng.permutation(len(w))]
        if mode == "add" and later and work:
            size = len(later) + len(work)
            slots_new = set(int(x) for x in rng.choice(size, size=len(work), replace=False))
            mixed: list[tuple[str, Role]] = []
            it_old, it_new = iter(later), iter(work)
            for pos in range(size):
                mixed.append(next(it_new) if pos in slots_new else next(it_old))
            tail = mixed
        else:
            tail = later + work
        # Kept training codings sit in `first`/`later` already; new ones go before the work.
        if mode == "add":
            sequence = first + training + tail
        else:
            sequence = first + later + training + work
        out.extend(
            PlannedCoding(session_id=s, rater=rater, role=role, queue_position=pos)
            for pos, (s, role) in enumerate(sequence)
        )
    return tuple(out)


# --------------------------------------------------------------------------- checks


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _check_guarantees(
    plan: Plan, share: Fraction, fresh: bool, doubling: bool, mode: _Mode
) -> list[str]:
    """Return a reason for every guarantee the finished plan does not meet."""
    cause = {
        "plan": "",
        "replan": " because started codings cannot move",
        "add": " because existing codings are kept",
    }[mode]
    reasons: list[str] = []
    summary = plan.summary()
    loads: dict[str, int] = {r: n for r, n in summary.loads.items() if r in set(plan.raters)}
    if loads:
        hi = max(loads, key=lambda r: (loads[r], r))
        lo = min(loads, key=lambda r: (loads[r], r))
        if loads[hi] - loads[lo] > 1:
            reasons.append(
                f"loads: rater loads differ by {loads[hi] - loads[lo]} "
                f"({hi}: {loads[hi]}, {lo}: {loads[lo]}){cause}"
            )
    pairs = summary.pair_counts
    doubled = summary.double_coded
    if pairs and doubling:
        counts = [p.count for p in pairs]
        if max(counts) - min(counts) > 1:
            most = max(pairs, key=lambda p: p.count)
            least = min(pairs, key=lambda p: p.count)
            reasons.append(
                f"pairs: pair counts differ by {max(counts) - min(counts)} "
                f"({'-'.join(most.raters)}: {most.count}, "
                f"{'-'.join(least.raters)}: {least.count}){cause}"
            )
        zero = sum(1 for c in counts if c == 0)
        if zero and doubled:
            reasons.append(
                f"coverage: {zero} of {len(counts)} rater pairs never double-code a session "
                f"together ({_plural(doubled, 'double-coded session')} for "
                f"{len(counts)} pairs), so their pairwise agreement cannot be estimated"
            )
    idle = [r for r, n in loads.items() if n == 0]
    if idle:
        reasons.append(
            f"coverage: {_plural(len(idle), 'rater')} without a session ({', '.join(idle)}): "
            f"{sum(loads.values())} codings for {len(loads)} raters"
        )
    strata = summary.strata
    n = sum(e.sessions for e in strata.values())
    d = doubled
    if n and doubling:
        for label, e in strata.items():
            low, rest = divmod(d * e.sessions, n)
            if not low <= e.double_coded <= low + (1 if rest else 0):
                quota = Fraction(d * e.sessions, n)
                reasons.append(
                    f"strata: stratum {label} has {e.double_coded} double-coded of "
                    f"{e.sessions} sessions, outside its proportional share "
                    f"{float(quota):.2f}{cause}"
                )
            elif (
                share > 0
                and e.sessions * share.numerator >= share.denominator
                and not e.double_coded
            ):
                reasons.append(
                    f"strata: stratum {label} has {e.sessions} sessions but none "
                    f"double-coded{cause}"
                )
    reasons += _spread_reasons(plan, cause)
    return reasons


def _spread_reasons(plan: Plan, cause: str) -> list[str]:
    """Report raters who code every session of a value that others could have shared."""
    training = set(plan.training)
    pool = set(plan.raters)
    coders: dict[str, list[str]] = {}
    for c in plan.codings:
        if c.role != CodingRole.TRAINING and c.rater in pool:
            coders.setdefault(c.session_id, []).append(c.rater)
    reasons: list[str] = []
    for key in plan.stratify:
        groups: dict[str, list[str]] = {}
        for s in plan.sessions:
            if s.session_id not in training:
                groups.setdefault(s.strata[key], []).append(s.session_id)
        for value in sorted(groups):
            ids = groups[value]
            codings = sum(len(coders.get(i, ())) for i in ids)
            # Pigeonhole: if codings > raters * (sessions - 1) someone must code them all.
            if len(ids) < 2 or codings > len(pool) * (len(ids) - 1):
                continue
            for rater in sorted(pool):
                if all(rater in coders.get(i, ()) for i in ids):
                    reasons.append(
                        f"spread: rater {rater} codes all {len(ids)} sessions with "
                        f"{key}={value}"
                        + (cause or "; no swap with another rater kept loads and pair counts even")
                    )
    return reasons
