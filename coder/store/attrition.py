"""The reads :mod:`coder.attrition` needs beyond the coding facts."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select

from coder.kinds import CodingStatus
from coder.store.models import CodingRow, ScaleRow
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
