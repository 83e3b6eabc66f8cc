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
from sqlalchemy import select

from coder.analysis_set import CodingRole, analysis_codings, read_coding_facts
from coder.changes import OpChanges
from coder.errors import InputError
from coder.store.models import (
    CodingRow,
    ConsensusScoreRow,
    NoteRow,
    RaterRow,
    RatingRow,
    ScaleRow,
    SessionRow,
    utcnow,
)
from coder.store.project import LEAD, Note, Project
from coder.store.rows import log_change

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


def _analysis_codings(s: Any, scale_id: str, session_key: str) -> tuple[SessionRow, list[Any]]:
    """The session and its two reliability codings (empty unless it is double-coded).

    Which codings these are is :func:`coder.analysis_set.analysis_codings`'s decision,
    the same as for the reliability report and the discrepancy list.
    """
    session = s.scalar(select(SessionRow).where(SessionRow.session_key == session_key))
    if session is None:
        raise InputError(f"no session {session_key!r} in this project")
    chosen = analysis_codings(read_coding_facts(s, scale_ids=[scale_id], session_key=session_key))
    coders = chosen.session(scale_id, session_key)
    if coders is None or coders.pair is None:
        return session, []
    ids = [c.coding_id for c in coders.pair]
    rows = s.execute(
        select(CodingRow, RaterRow.code)
        .join(RaterRow, RaterRow.id == CodingRow.rater_id)
        .where(CodingRow.id.in_(ids))
        .order_by(CodingRow.id)
    ).all()
    return session, list(rows)


def _check_double_coded(scale_id: str, session_key: str, rows: list[Any]) -> None:
    if len(rows) < 2:
        raise InputError(
            f"session {session_key!r} is not double-coded on {scale_id} (it needs two "
            "raters' submitted codings, outside training, master and certification "
            "codings); a consensus is recorded only there"
        )


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
    with project.store.transaction() as s:
        project.scale(scale_id)  # a clear error for an unknown scale
        # Lock the session so two leads recording at once cannot both insert the row.
        s.execute(
            select(SessionRow.id).where(SessionRow.session_key == session_key).with_for_update()
        )
        session, rows = _analysis_codings(s, scale_id, session_key)
        _check_double_coded(scale_id, session_key, rows)
        primary = next((c for c, _code in rows if c.role == CodingRole.PRIMARY), rows[0][0])
        scale = project.scale_by_pk(s, primary.scale_pk)
        try:
            item = scale.item(item_id)
        except KeyError:
            raise InputError(f"scale {scale_id!r} has no item {item_id!r}") from None
        if not item.is_numeric:
            raise InputError(f"item {item_id!r} is free text; a consensus is a score")
        item.check_value(value)
        row = s.scalar(
            select(ConsensusScoreRow)
            .join(ScaleRow, ScaleRow.id == ConsensusScoreRow.scale_pk)
            .where(
                ConsensusScoreRow.session_id == session.id,
                ScaleRow.scale_id == scale_id,
                ConsensusScoreRow.item_id == item_id,
            )
        )
        old = None if row is None else {"value": row.value, "reason": row.reason}
        new = None if value is None else {"value": float(value), "reason": reason.strip()}
        if old == new or (row is None and value is None):
            return OpChanges()
        if value is None:
            assert row is not None
            s.delete(row)
        else:
            if row is None:
                row = ConsensusScoreRow(
                    session_id=session.id, scale_pk=primary.scale_pk, item_id=item_id
                )
                s.add(row)
            row.value, row.reason, row.actor, row.updated_at = (
                float(value),
                reason.strip(),
                actor,
                utcnow(),
            )
        log_change(
            s,
            actor,
            "set" if value is not None else "delete",
            "consensus",
            f"{scale_id}:{session_key}",
            field=item_id,
            old=old,
            new=new if new is not None else {"reason": reason.strip()},
        )
    return OpChanges(consensus=True)


def consensus_scores(project: Project, scale_id: str | None = None) -> pd.DataFrame:
    """Every recorded consensus score (of one scale, or all), for exports.

    Returns:
        A DataFrame with :data:`CONSENSUS_COLUMNS`, one row per (scale, session, item),
        sorted by scale, session and item.
    """
    with project.store.read() as s:
        query = (
            select(
                ScaleRow.scale_id,
                SessionRow.session_key,
                ConsensusScoreRow.item_id,
                ConsensusScoreRow.value,
                ConsensusScoreRow.reason,
                ConsensusScoreRow.actor,
                ConsensusScoreRow.updated_at,
            )
            .join(ScaleRow, ScaleRow.id == ConsensusScoreRow.scale_pk)
            .join(SessionRow, SessionRow.id == ConsensusScoreRow.session_id)
        )
        if scale_id is not None:
            project.scale(scale_id)
            query = query.where(ScaleRow.scale_id == scale_id)
        rows = s.execute(query).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(CONSENSUS_COLUMNS))
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
    return {
        (str(r.scale_id), str(r.session_id), str(r.item_id)): (float(r.value), str(r.reason))
        for r in frame.itertuples(index=False)
    }


def consensus_review(project: Project, scale_id: str, session_key: str) -> ConsensusReview:
    """Both (all) raters' independent scores, notes and the consensus so far.

    For the lead's review of a double-coded session; never for a rater.

    Raises:
        InputError: the session is not double-coded on the scale.
    """
    with project.store.read() as s:
        session, rows = _analysis_codings(s, scale_id, session_key)
        _check_double_coded(scale_id, session_key, rows)
        primary = next((c for c, _code in rows if c.role == CodingRole.PRIMARY), rows[0][0])
        scale = project.scale_by_pk(s, primary.scale_pk)
        ids = [c.id for c, _code in rows]
        code_of = {c.id: code for c, code in rows}
        values: dict[str, dict[str, float | None]] = {}
        for r in s.scalars(select(RatingRow).where(RatingRow.coding_id.in_(ids))):
            values.setdefault(r.item_id, {})[code_of[r.coding_id]] = r.value
        notes: dict[str, list[Note]] = {code: [] for code in code_of.values()}
        for n in s.scalars(
            select(NoteRow)
            .where(NoteRow.coding_id.in_(ids), NoteRow.deleted.is_(False))
            .order_by(NoteRow.position_ms, NoteRow.id)
        ):
            notes[code_of[n.coding_id]].append(Note(n.id, n.position_ms, n.text))
        agreed = {
            c.item_id: c
            for c in s.scalars(
                select(ConsensusScoreRow)
                .join(ScaleRow, ScaleRow.id == ConsensusScoreRow.scale_pk)
                .where(ConsensusScoreRow.session_id == session.id, ScaleRow.scale_id == scale_id)
            )
        }
    raters = tuple(code_of[i] for i in ids)
    items = tuple(
        ReviewItem(
            item.id,
            item.label,
            {code: values.get(item.id, {}).get(code) for code in raters},
            agreed[item.id].value if item.id in agreed else None,
            agreed[item.id].reason if item.id in agreed else "",
        )
        for item in scale.scored_items
    )
    return ConsensusReview(
        scale_id, session_key, raters, items, {k: tuple(v) for k, v in notes.items()}
    )


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
