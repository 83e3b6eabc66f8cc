"""The reads :mod:`coder.attrition` needs beyond the coding facts, and the record of
raters leaving the coding window (:mod:`coder.session_window`)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select

from coder.kinds import CodingStatus
from coder.session_window import LEAVE_WINDOW
from coder.store.models import CodingRow, HistoryRow, ScaleRow
from coder.store.project import Project


def uncodable_reasons(project: Project, scale_ids: Collection[str]) -> dict[int, str]:
    """coding id -> the rater's uncodable reason, for the uncodable codings of some scales."""
    with project.store.read() as s:
        rows = s.execute(
            select(CodingRow.id, CodingRow.uncodable_reason)
            .join(ScaleRow, ScaleRow.id == CodingRow.scale_pk)
            .where(ScaleRow.scale_id.in_(list(scale_ids)))
            .where(CodingRow.state == CodingStatus.UNCODABLE.value)
        ).all()
    return {int(cid): str(reason) for cid, reason in rows}


def window_exits(project: Project, scale_ids: Collection[str]) -> dict[str, dict[int, int]]:
    """scale id -> coding id -> how often its rater left the coding window on purpose
    (the ``leave_window`` rows :meth:`coder.store.project.RaterView.record_window` wrote);
    codings that never left it are absent."""
    with project.store.read() as s:
        rows = s.execute(
            select(ScaleRow.scale_id, HistoryRow.coding_id, func.count())
            .join(CodingRow, CodingRow.id == HistoryRow.coding_id)
            .join(ScaleRow, ScaleRow.id == CodingRow.scale_pk)
            .where(HistoryRow.action == LEAVE_WINDOW)
            .where(ScaleRow.scale_id.in_(list(scale_ids)))
            .group_by(ScaleRow.scale_id, HistoryRow.coding_id)
        ).all()
    out: dict[str, dict[int, int]] = {}
    for scale_id, coding_id, n in rows:
        if coding_id is not None:  # joined on it: never None, but the column allows it
            out.setdefault(str(scale_id), {})[int(coding_id)] = int(n)
    return out
