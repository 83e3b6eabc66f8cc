"""A project's double-coded data for the reliability view: long frame, order, discrepancies.

Plain functions over an open :class:`~coder.store.project.Project`, no Qt and no SQL:
they read through :mod:`coder.store.queries` (a few bulk SELECTs, not one query per
coding).

What counts is decided by :func:`coder.analysis_set.analysis_codings`, the rule the
analysis exports, consensus and the CLI share (read its docstring for the rules):

* a session is *double-coded* on a scale when two or more raters submitted codings of
  it that count for analysis; its two *reliability coders* (the plan's primary and
  second coder) are the codings every function here reads, a third coder is left out;
* every numeric item (ordinal, duration, count, nominal) and every composite of the
  scale is an item of the long frame; composite ids are further item ids, computed
  with the definition of the scale version each coding was made with.

The module also holds two small read helpers of the lead's plan view:
:func:`progress_by_rater` (per-scale coding states) and :func:`stored_plan_params`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations
from typing import Any

import pandas as pd

from coder.coding_data import Note
from coder.kinds import ItemKind
from coder.scale_analysis import analysis_definitions
from coder.scales import RatingScale
from coder.store.project import CODING_STATES, Project
from coder.store.queries import (
    ScoredCoding,
    StoredPlan,
    active_plan,
    coding_notes,
    coding_state_counts,
    reliability_codings,
)

#: Item kinds whose scores are points on a scale, compared by :func:`find_discrepancies`.
#: Durations (seconds) and nominal categories have no "points" to differ by.
DISCREPANCY_KINDS = (ItemKind.ORDINAL, ItemKind.COUNT)


@dataclass(frozen=True)
class Discrepancy:
    """Two coders of one double-coded session whose scores on an item differ too much.

    Attributes:
        scale_id: The scale.
        session_id: The session's key (as in the manifest).
        item_id: The item.
        item_label: The item's label, for display.
        rater_a: The coder with the lower rater code (string order).
        score_a: Coder A's score.
        rater_b: The other coder.
        score_b: Coder B's score.
        coding_a: Coder A's coding id.
        coding_b: Coder B's coding id.
        notes_a: Coder A's notes on the session, in time order.
        notes_b: Coder B's notes on the session, in time order.
    """

    scale_id: str
    session_id: str
    item_id: str
    item_label: str
    rater_a: str
    score_a: float
    rater_b: str
    score_b: float
    coding_a: int
    coding_b: int
    notes_a: tuple[Note, ...] = ()
    notes_b: tuple[Note, ...] = ()

    @property
    def difference(self) -> float:
        """``|score_a - score_b|``."""
        return abs(self.score_a - self.score_b)


@dataclass(frozen=True)
class _Variable:
    item_id: str
    label: str
    kind: str  # item kind, or "composite"


def _definitions(project: Project, scale_id: str) -> dict[int, RatingScale]:
    """Every stored version of a scale as the analysis sees it (the lead's composite
    definition, dropped items left out; :mod:`coder.scale_analysis`): scale row id ->
    definition (raises if unknown)."""
    project.scale(scale_id)  # a clear InputError for an unknown scale
    return analysis_definitions(project, [scale_id])[0]


def _variables(newest: RatingScale, definitions: Mapping[int, RatingScale]) -> list[_Variable]:
    """Numeric items, then composites, of the newest version; then old-version-only ones."""
    out: list[_Variable] = []
    seen: set[str] = set()
    ordered = [newest, *sorted(definitions.values(), key=lambda d: -d.version)]
    for definition in ordered:
        for item in definition.items:
            if item.is_numeric and item.id not in seen:
                out.append(_Variable(item.id, item.label, item.kind))
                seen.add(item.id)
        for comp in definition.composites:
            if comp.id not in seen:
                out.append(_Variable(comp.id, comp.label, "composite"))
                seen.add(comp.id)
    return out


def _double_coded(
    project: Project,
    scale_id: str,
    sessions: Collection[str] | None = None,
    training: bool = False,
) -> tuple[dict[int, RatingScale], list[ScoredCoding]]:
    """The reliability pairs of the scale's double-coded sessions (:func:`analysis_codings`).

    Returns the scale's definitions by row id and the codings
    (:func:`coder.store.queries.reliability_codings`, optionally of some sessions
    only, or of the training sessions), ordered by session (import order) and rater
    code, each with its numeric item values.
    """
    definitions = _definitions(project, scale_id)
    return definitions, reliability_codings(project, scale_id, sessions=sessions, training=training)


def _newest(definitions: Mapping[int, RatingScale]) -> RatingScale:
    return max(definitions.values(), key=lambda d: d.version)


def reliability_frame(
    project: Project,
    scale_id: str,
    *,
    sessions: Collection[str] | None = None,
    training: bool = False,
) -> tuple[pd.DataFrame, dict[str, tuple[int, int]]]:
    """The long rating data of a scale's double-coded sessions, and its category ranges.

    One row per reliability coder of a double-coded session (two per session, see
    :func:`coder.analysis_set.analysis_codings`) and per numeric
    item and composite of the scale (a blank item gives a row with a missing score,
    so the session still counts as coded for that item). Rows come session by
    session (in import order), rater by rater, in the scale's item order, items
    before composites, so :func:`coder.reliability.reliability_report` lists the items
    in the scale's order.

    Args:
        project: The open project.
        scale_id: The scale.
        sessions: Only these session keys (a subset; see
            :func:`coder.store.queries.select_sessions`), or None for all.
        training: The training (calibration) sessions instead, every rater's coding
            of each (:func:`coder.analysis_set.calibration_codings`).

    Returns:
        ``(frame, ranges)``: ``frame`` has the columns ``session_id`` (session key),
        ``rater_id`` (rater code), ``item_id`` and ``score`` (float, NaN = missing);
        ``ranges`` maps each ordinal and nominal item to its full category range
        ``(min, max)`` (nominal categories are coded 1..n).

    Raises:
        InputError: The project has no such scale.
    """
    definitions, codings = _double_coded(project, scale_id, sessions, training)
    newest = _newest(definitions)
    variables = _variables(newest, definitions)
    keys: list[str] = []
    raters: list[str] = []
    items: list[str] = []
    scores: list[float] = []
    for coding in codings:
        definition = definitions[coding.scale_pk]
        composites = definition.composite_scores(coding.values)
        for var in variables:
            if var.kind == "composite":
                value = composites.get(var.item_id)
            else:
                value = coding.values.get(var.item_id)
            keys.append(coding.session_key)
            raters.append(coding.rater)
            items.append(var.item_id)
            scores.append(math.nan if value is None else float(value))
    frame = pd.DataFrame(
        {
            "session_id": pd.Series(keys, dtype=object),
            "rater_id": pd.Series(raters, dtype=object),
            "item_id": pd.Series(items, dtype=object),
            "score": pd.Series(scores, dtype="float64"),
        }
    )
    ranges: dict[str, tuple[int, int]] = {}
    for item in newest.items:
        if item.kind in (ItemKind.ORDINAL, ItemKind.NOMINAL) and item.values:
            ranges[item.id] = (item.values[0], item.values[-1])
    return frame, ranges


@dataclass(frozen=True)
class ReliabilitySettings:
    """What decides a scale's reliability statistics besides the data.

    Attributes:
        kinds: Item kind (or ``"composite"``) of every numeric item and composite of
            :func:`reliability_frame`, by id.
        kappa_weights: The scale's reported kappa weights (its reliability defaults).
        alpha_level: The scale's reported Krippendorff level.
    """

    kinds: dict[str, str]
    kappa_weights: str
    alpha_level: str


def reliability_settings(project: Project, scale_id: str) -> ReliabilitySettings:
    """The item kinds and reported kappa and alpha of a scale (newest version wins).

    Pass them to :func:`coder.reliability.reliability_report` (``kinds=``,
    ``kappa_weights=``, ``alpha_level=``) with the data of :func:`reliability_frame`.

    Raises:
        InputError: The project has no such scale.
    """
    definitions = _definitions(project, scale_id)
    newest = _newest(definitions)
    return ReliabilitySettings(
        kinds={v.item_id: str(v.kind) for v in _variables(newest, definitions)},
        kappa_weights=newest.reliability.kappa_weights,
        alpha_level=newest.reliability.alpha_level,
    )


def submission_order(project: Project, scale_id: str) -> dict[str, datetime]:
    """When each double-coded session of a scale became double-coded (for drift).

    Args:
        project: The open project.
        scale_id: The scale.

    Returns:
        ``{session key: time}``: the latest ``submitted_at`` (aware, UTC) among the
        session's two reliability codings, i.e. when its second coder submitted. A
        coding without a recorded time (older data) counts as the epoch, so it sorts
        first.

    Raises:
        InputError: The project has no such scale.
    """
    _, codings = _double_coded(project, scale_id)
    epoch = datetime.fromtimestamp(0, UTC)
    out: dict[str, datetime] = {}
    for coding in codings:
        at = coding.submitted_at or epoch
        previous = out.get(coding.session_key)
        if previous is None or at > previous:
            out[coding.session_key] = at
    return out


def find_discrepancies(
    project: Project,
    scale_id: str,
    threshold: float = 1,
    *,
    kinds: Collection[str] = DISCREPANCY_KINDS,
) -> list[Discrepancy]:
    """Double-coded sessions where two coders differ by more than ``threshold`` on an item.

    The two reliability codings of each double-coded session (the coders the
    reliability report uses, :func:`coder.analysis_set.analysis_codings`) are compared on
    every item of the listed kinds (ordinal and count items by default) that both
    scored; a pair is reported when ``|a - b| > threshold``. Coder A is the lower
    rater code in string order, as in the reliability report.

    Args:
        project: The open project.
        scale_id: The scale.
        threshold: The largest difference that is not a discrepancy (1 = differ by
            more than one point).
        kinds: Item kinds to compare.

    Returns:
        The discrepancies in session (import) order, then the scale's item order, then
        rater pair; each with both coders' notes in time order.

    Raises:
        InputError: The project has no such scale.
    """
    definitions, codings = _double_coded(project, scale_id)
    newest = _newest(definitions)
    items = [item for item in newest.items if item.kind in kinds]
    by_session: dict[str, list[ScoredCoding]] = {}
    for coding in codings:
        by_session.setdefault(coding.session_key, []).append(coding)
    found: list[tuple[str, str, str, ScoredCoding, float, ScoredCoding, float]] = []
    for key, group in by_session.items():
        for item in items:
            for a, b in combinations(sorted(group, key=lambda c: c.rater), 2):
                va, vb = a.values.get(item.id), b.values.get(item.id)
                if va is None or vb is None:
                    continue
                if abs(va - vb) > threshold:
                    found.append((key, item.id, item.label, a, va, b, vb))
    notes = coding_notes(project, {c.coding_id for f in found for c in (f[3], f[5])})
    return [
        Discrepancy(
            scale_id=scale_id,
            session_id=key,
            item_id=item_id,
            item_label=label,
            rater_a=a.rater,
            score_a=va,
            rater_b=b.rater,
            score_b=vb,
            coding_a=a.coding_id,
            coding_b=b.coding_id,
            notes_a=notes.get(a.coding_id, ()),
            notes_b=notes.get(b.coding_id, ()),
        )
        for key, item_id, label, a, va, b, vb in found
    ]


# --------------------------------------------------------------------------- plan view


def progress_by_rater(project: Project, scale_id: str) -> dict[str, dict[str, int]]:
    """Codings of one scale by rater and state (every state present, also with 0).

    Args:
        project: The open project.
        scale_id: The scale (every stored version counts).

    Returns:
        ``{rater code: {"not_started": n, "in_progress": n, "submitted": n,
        "uncodable": n}}`` for every rater with a coding of the scale, sorted by code.
    """
    _definitions(project, scale_id)  # a clear InputError for an unknown scale
    out: dict[str, dict[str, int]] = {}
    for (code, state), n in coding_state_counts(project, scale_id).items():
        counts = out.setdefault(code, dict.fromkeys(CODING_STATES, 0))
        counts[state] = counts.get(state, 0) + n
    return dict(sorted(out.items()))


def stored_plan_params(project: Project, scale_id: str) -> StoredPlan | None:
    """The active stored plan of a scale with the inputs it was made with, or None."""
    return active_plan(project, scale_id)


def pair_matrix(raters: Sequence[str], pair_counts: Sequence[Mapping[str, Any]]) -> list[list[int]]:
    """The symmetric rater x rater matrix of a plan summary's ``pair_counts``.

    Args:
        raters: Row and column order.
        pair_counts: ``[{"raters": [a, b], "count": n}, ...]``.

    Returns:
        ``m[i][j]`` = sessions ``raters[i]`` and ``raters[j]`` double-code together
        (0 on the diagonal and for pairs not listed).
    """
    index = {r: i for i, r in enumerate(raters)}
    m = [[0] * len(raters) for _ in raters]
    for entry in pair_counts:
        a, b = entry["raters"]
        if a in index and b in index:
            m[index[a]][index[b]] = m[index[b]][index[a]] = int(entry["count"])
    return m
