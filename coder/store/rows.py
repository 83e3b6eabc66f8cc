"""Small helpers every store module uses inside its own transaction.

They take the caller's database session (``s``) and never commit: the history row
of a change (:func:`log_change`), and the rows a change refers to by the codes users
see (:func:`latest_scale_pk`, :func:`rater_row`).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from coder.errors import InputError, ProjectError
from coder.store.models import CodingRow, HistoryRow, ProjectRow, RaterRow, ScaleRow, utcnow


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def log_change(
    s: DbSession,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    *,
    coding_id: int | None = None,
    field: str = "",
    old: Any = None,
    new: Any = None,
) -> None:
    """Add the append-only history row of one change (old and new values as JSON)."""
    s.add(
        HistoryRow(
            at=utcnow(),
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            coding_id=coding_id,
            field=field,
            old=_dump(old),
            new=_dump(new),
        )
    )


def queue_end(s: DbSession, rater_id: int) -> int:
    """The ``queue_order`` after every coding of the rater: where new work goes.

    The one rule of a rater's queue order: a coding made later comes after those
    already there (whatever scale or plan made them), so a new plan never inserts
    work between codings the rater has seen.
    """
    last = s.scalar(select(func.max(CodingRow.queue_order)).where(CodingRow.rater_id == rater_id))
    return 0 if last is None else int(last) + 1


def latest_scale_pk(s: DbSession, scale_id: str) -> int:
    """The row id of the newest stored version of a scale.

    Raises:
        InputError: the project has no such scale.
    """
    pk = s.scalar(
        select(ScaleRow.id)
        .where(ScaleRow.scale_id == scale_id)
        .order_by(ScaleRow.version.desc())
        .limit(1)
    )
    if pk is None:
        raise InputError(
            f"the project has no scale {scale_id!r}; add it with session-coder scales add"
        )
    return pk


def rater_row(s: DbSession, code: str) -> RaterRow:
    """The rater with this code.

    Raises:
        InputError: the project has no such rater.
    """
    row = s.scalar(select(RaterRow).where(RaterRow.code == code))
    if row is None:
        raise InputError(f"no rater {code!r} in this project; add it with session-coder raters add")
    return row


def locked_settings(s: DbSession) -> tuple[ProjectRow, dict[str, Any]]:
    """The project row, locked for this transaction, and its settings document.

    Settings are one JSON document: two lab machines changing different keys at once
    must not lose one of the changes, so every change reads it under this lock. The
    caller writes ``row.settings_json`` back when something changed.

    Raises:
        ProjectError: the project row is missing (a damaged file).
    """
    row = s.get(ProjectRow, 1, with_for_update=True)
    if row is None:
        raise ProjectError("the project row is missing; the file is damaged")
    return row, json.loads(row.settings_json)
