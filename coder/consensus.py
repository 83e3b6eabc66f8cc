"""Consensus scores of double-coded sessions.

After the lead reviews a discrepancy with both raters, the score they agree on is
recorded per item, with the reason (:func:`record_consensus`). The independent scores
stay exactly as the raters gave them: reliability is always computed from those, and
the consensus only feeds the final scores of an export with ``final="consensus"``
(:func:`coder.export_data.build_export_bundle`). Every change is in the history
(entity ``consensus``).

A session is *double-coded* on a scale, and gets a consensus, when
:func:`coder.analysis_set.analysis_codings` (the rule of the exports, the reliability
report and the discrepancy list) gives it a reliability pair; the review shows that
pair's scores and notes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from coder.changes import OpChanges
from coder.coding_data import Note
from coder.coding_rules import check_number, item_of
from coder.errors import InputError
from coder.scales import RatingScale
from coder.store.consensus_store import write_consensus
from coder.store.project import LEAD, Project
from coder.store.queries import consensus_records, pair_review

#: (scale id, session key, item id) -> (consensus score, reason): :func:`load_consensus`.
ConsensusMap = dict[tuple[str, str, str], tuple[float, str]]

#: Columns of :func:`consensus_scores`.
CONSENSUS_COLUMNS = (
    "scale_id",
    "session_id",
    "item_id",
    "value",
    "reason",
    "actor",
    "updated_at",
)


@dataclass(frozen=True)
class ReviewItem:
    """One item of a double-coded session under review.

    Attributes:
        scores: rater -> independent score (None when blank).
        consensus: The recorded consensus score, or None.
        spread: Largest minus smallest independent score (None with fewer than two).
    """

    item_id: str
    label: str
    scores: dict[str, float | None]
    consensus: float | None
    reason: str

    @property
    def spread(self) -> float | None:
        values = [v for v in self.scores.values() if v is not None]
        return max(values) - min(values) if len(values) >= 2 else None


@dataclass(frozen=True)
class ConsensusReview:
    """Everything the lead needs to agree a session's scores with its raters."""

    scale_id: str
    session_key: str
    raters: tuple[str, ...]
    items: tuple[ReviewItem, ...]
    notes: dict[str, tuple[Note, ...]]


def record_consensus(
    project: Project,
    scale_id: str,
    session_key: str,
    item_id: str,
    value: float | None,
    reason: str,
    actor: str = LEAD,
) -> OpChanges:
    """Record (or change) the consensus score of one item of a double-coded session.

    ``value=None`` withdraws the consensus (the reason is still required and kept in
    the history). The raters' own scores are not touched.

    Returns:
        What changed: the consensus scores, or nothing when the score was already so.

    Raises:
        InputError: the session is not double-coded on the scale, the item is not a
            numeric item of it, the value is not admissible, or no reason is given.
    """
    if not reason.strip():
        raise InputError("say why the raters agreed on this score (the reason is kept)")
    if value is not None and (isinstance(value, bool) or not math.isfinite(float(value))):
        raise InputError(f"{value!r} is not a score")
    project.scale(scale_id)  # a clear error for an unknown scale
    reason = reason.strip()

    def check(scale: RatingScale) -> None:
        item = item_of(scale, item_id)
        if not item.is_numeric:
            raise InputError(f"item {item_id!r} is free text; a consensus is a score")
        check_number(item, value)

    changed = write_consensus(
        project,
        scale_id,
        session_key,
        item_id,
        None if value is None else float(value),
        reason,
        actor=actor,
        check=check,
    )
    return OpChanges(consensus=changed)


def consensus_scores(project: Project, scale_id: str | None = None) -> pd.DataFrame:
    """Every recorded consensus score (of one scale, or all), for exports.

    Returns:
        A DataFrame with :data:`CONSENSUS_COLUMNS`, one row per (scale, session, item),
        sorted by scale, session and item.
    """
    if scale_id is not None:
        project.scale(scale_id)
    rows = [
        (r.scale_id, r.session_id, r.item_id, r.value, r.reason, r.actor, r.updated_at)
        for r in consensus_records(project, scale_id)
    ]
    frame = pd.DataFrame(rows, columns=list(CONSENSUS_COLUMNS))
    frame["value"] = frame["value"].astype("float64")
    return frame.sort_values(["scale_id", "session_id", "item_id"], kind="stable").reset_index(
        drop=True
    )


def load_consensus(project: Project) -> ConsensusMap:
    """Every recorded consensus score of the project, by item (blocking; run it in a worker).

    Args:
        project: The open project.

    Returns:
        ``{(scale id, session key, item id): (consensus score, reason)}``.
    """
    frame = consensus_scores(project)
    columns = (frame[c] for c in ("scale_id", "session_id", "item_id", "value", "reason"))
    return {
        (str(scale_id), str(session_id), str(item_id)): (float(value), str(reason))
        for scale_id, session_id, item_id, value, reason in zip(*columns, strict=True)
    }


def consensus_review(project: Project, scale_id: str, session_key: str) -> ConsensusReview:
    """Both (all) raters' independent scores, notes and the consensus so far.

    For the lead's review of a double-coded session; never for a rater.

    Raises:
        InputError: the session is not double-coded on the scale.
    """
    read = pair_review(project, scale_id, session_key)
    items = tuple(
        ReviewItem(
            item.id,
            item.label,
            {code: read.values.get(item.id, {}).get(code) for code in read.raters},
            read.consensus[item.id][0] if item.id in read.consensus else None,
            read.consensus[item.id][1] if item.id in read.consensus else "",
        )
        for item in read.scale.scored_items
    )
    return ConsensusReview(scale_id, session_key, read.raters, items, read.notes)


def consensus_history(project: Project, scale_id: str, session_key: str) -> list[Any]:
    """The history of a session's consensus scores (oldest first)."""
    key = f"{scale_id}:{session_key}"
    return [h for h in project.history() if h.entity == "consensus" and h.entity_id == key]


__all__ = [
    "CONSENSUS_COLUMNS",
    "ConsensusMap",
    "ConsensusReview",
    "ReviewItem",
    "consensus_history",
    "consensus_review",
    "consensus_scores",
    "load_consensus",
    "record_consensus",
]
