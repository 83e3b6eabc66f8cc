"""The lead's progress reads: finished codings of every rater, in one query."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from coder.kinds import FINISHED_STATUSES
from coder.store.models import CodingRow, RaterRow, ScaleRow, SessionRow
from coder.store.project import Project


@dataclass(frozen=True)
class FinishedCoding:
    """A submitted or uncodable coding, which the lead may let its rater reopen."""

    coding_id: int
    session_key: str
    rater: str
    scale_id: str
    state: str


def finished_codings(project: Project) -> list[FinishedCoding]:
    """Every rater's submitted and uncodable codings (inactive raters too), sorted by
    scale, session and rater; one query whatever the number of raters."""
    with project.store.read() as s:
        rows = s.execute(
            select(
                CodingRow.id,
                SessionRow.session_key,
                RaterRow.code,
                ScaleRow.scale_id,
                CodingRow.state,
            )
            .join(SessionRow, SessionRow.id == CodingRow.session_id)
            .join(RaterRow, RaterRow.id == CodingRow.rater_id)
            .join(ScaleRow, ScaleRow.id == CodingRow.scale_pk)
            .where(CodingRow.state.in_(sorted(str(state) for state in FINISHED_STATUSES)))
        ).all()
    finished = [FinishedCoding(*row) for row in rows]
    finished.sort(key=lambda f: (f.scale_id, f.session_key, f.rater))
    return finished
