"""Writing a coding: its ratings, notes, spans and state, each with its history row.

Every function here works inside the caller's transaction (``s``) and appends the
history row the change needs, so every writer of a coding, the rater's
:class:`coder.store.project.RaterView`, the package merger and the lead's tools, writes
the same rows the same way. The rules that decide *whether* a change is allowed live
in :mod:`coder.coding_rules`; callers check them (the functions that take a rule's
input, such as :func:`open_for_change` and :func:`set_state`, check it themselves).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from coder.coding_rules import (
    StateChange,
    check_editable,
    duration_seconds,
    state_after_change,
    state_change,
)
from coder.errors import InputError
from coder.kinds import FINISHED_STATUSES, CodingStatus
from coder.store.models import CodingRow, NoteRow, RatingRow, SpanRow, utcnow
from coder.store.rows import log_change


def own_coding(
    s: DbSession, coding_id: int, *, rater_id: int, rater: str, lock: bool = False
) -> CodingRow:
    """The coding ``coding_id`` if it belongs to the rater, optionally locked for writing.

    Lab mode: the same rater may have the coding open on two machines (or an import
    may merge into it). Locking the coding row (SELECT ... FOR UPDATE on PostgreSQL)
    serialises every write to one coding, so the read-then-insert of
    :func:`set_rating` and the not_started -> in_progress step cannot race into a
    unique-constraint error or a doubled history row. SQLite renders no FOR UPDATE:
    there ``Store.transaction()`` holds the write lock from its first statement
    (BEGIN IMMEDIATE), which serialises writes the same way.

    Raises:
        InputError: no such coding in the rater's queue.
    """
    query = select(CodingRow).where(CodingRow.id == coding_id, CodingRow.rater_id == rater_id)
    if lock:
        query = query.with_for_update()
    row = s.scalar(query)
    if row is None:
        raise InputError(f"coding #{coding_id} is not in {rater}'s queue")
    return row


def open_for_change(s: DbSession, coding_id: int, *, rater_id: int, rater: str) -> CodingRow:
    """Lock the rater's coding for a change: refuse a finished one, start a new one.

    Raises:
        InputError: not the rater's coding, or finished and not reopened
            (:func:`coder.coding_rules.check_editable`).
    """
    row = own_coding(s, coding_id, rater_id=rater_id, rater=rater, lock=True)
    check_editable(row.state, row.reopen_allowed)
    start(s, row, actor=rater)
    return row


def start(s: DbSession, row: CodingRow, *, actor: str) -> None:
    """Record that a change was made: a not-started coding becomes in progress."""
    new = state_after_change(row.state)
    if new == row.state:
        return
    row.started_at = utcnow()
    apply_state(s, row, new, state_change(row.state, row.uncodable_reason, new), actor=actor)


def set_state(
    s: DbSession,
    row: CodingRow,
    new_state: str,
    *,
    actor: str,
    reason: str | None = None,
    text: str | None = None,
) -> None:
    """Change a coding's state, with its history row (:func:`coder.coding_rules.state_change`).

    Finishing a coding (submitted or uncodable) stamps ``submitted_at`` and ends a
    reopening the lead allowed. Check :func:`coder.coding_rules.check_uncodable` or
    :func:`coder.coding_rules.check_submittable` first.

    Args:
        reason: The uncodable reason to store (None keeps the stored one).
        text: The rater's words for it (None keeps the stored ones).
    """
    if new_state in FINISHED_STATUSES:
        row.submitted_at, row.reopen_allowed = utcnow(), False
    change = state_change(
        row.state,
        row.uncodable_reason,
        new_state,
        row.uncodable_reason if reason is None else reason,
        row.uncodable_text if text is None else text,
    )
    if reason is not None:
        row.uncodable_reason = reason
    if text is not None:
        row.uncodable_text = text
    apply_state(s, row, CodingStatus(new_state), change, actor=actor)


def apply_state(
    s: DbSession, row: CodingRow, new: CodingStatus, change: StateChange, *, actor: str
) -> None:
    """Set a coding's state and add the history row the rules name for the change
    (:func:`coder.coding_rules.state_change`)."""
    row.state = new
    log_change(
        s,
        actor,
        change.action,
        "coding",
        str(row.id),
        coding_id=row.id,
        field="state",
        old=change.old,
        new=change.new,
    )


def set_reopen_allowed(s: DbSession, coding_id: int, allowed: bool, *, actor: str) -> None:
    """Allow (or stop allowing) the rater to change a finished coding again.

    Raises:
        InputError: no such coding.
    """
    row = s.get(CodingRow, coding_id)
    if row is None:
        raise InputError(f"no coding #{coding_id}")
    old, row.reopen_allowed = row.reopen_allowed, allowed
    log_change(
        s,
        actor,
        "set",
        "coding",
        str(coding_id),
        coding_id=coding_id,
        field="reopen_allowed",
        old=old,
        new=allowed,
    )


def set_rating(
    s: DbSession,
    coding_id: int,
    item_id: str,
    *,
    value: float | None,
    text: str | None,
    actor: str,
) -> bool:
    """Store one rating (a number or a text) of a coding, with its history row.

    Check the value first (:func:`coder.coding_rules.check_rating`).

    Returns:
        False when the rating was already this value and nothing was written.
    """
    rating = s.scalar(
        select(RatingRow).where(RatingRow.coding_id == coding_id, RatingRow.item_id == item_id)
    )
    old = None
    new = text if text is not None else value
    if rating is None:
        rating = RatingRow(coding_id=coding_id, item_id=item_id)
        s.add(rating)
    else:
        old = rating.text if rating.text is not None else rating.value
        if old == new:
            return False
    rating.value, rating.text, rating.updated_at = value, text, utcnow()
    log_change(
        s, actor, "set", "rating", item_id, coding_id=coding_id, field=item_id, old=old, new=new
    )
    return True


def ratings(s: DbSession, coding_id: int) -> tuple[dict[str, float | None], dict[str, str]]:
    """A coding's numbers and texts, by item id."""
    rows = s.scalars(select(RatingRow).where(RatingRow.coding_id == coding_id)).all()
    values = {r.item_id: r.value for r in rows if r.text is None}
    texts = {r.item_id: r.text for r in rows if r.text is not None}
    return values, texts


def _note_unit(note: NoteRow) -> dict[str, Any]:
    return {"position_ms": note.position_ms, "text": note.text}


def add_note(s: DbSession, coding_id: int, position_ms: int, text: str, *, actor: str) -> NoteRow:
    """Add a note to a coding (check :func:`coder.coding_rules.check_note_text` first)."""
    note = NoteRow(coding_id=coding_id, position_ms=int(position_ms), text=text, deleted=False)
    s.add(note)
    s.flush()
    log_change(s, actor, "add", "note", str(note.id), coding_id=coding_id, new=_note_unit(note))
    return note


def edit_note(
    s: DbSession,
    note: NoteRow,
    *,
    text: str | None = None,
    position_ms: int | None = None,
    actor: str,
) -> None:
    """Change a note's text or time; writes a history row only if something changed."""
    old = _note_unit(note)
    if text is not None:
        note.text = text
    if position_ms is not None:
        note.position_ms = int(position_ms)
    new = _note_unit(note)
    if new != old:
        log_change(
            s, actor, "edit", "note", str(note.id), coding_id=note.coding_id, old=old, new=new
        )


def delete_note(s: DbSession, note: NoteRow, *, actor: str) -> None:
    """Delete a note (it is kept, marked deleted, for the history)."""
    note.deleted = True
    log_change(
        s, actor, "delete", "note", str(note.id), coding_id=note.coding_id, old=_note_unit(note)
    )


def own_child(s: DbSession, model: Any, child_id: int, coding_id: int) -> Any:
    """A note or span row of ``coding_id`` that is not deleted.

    Raises:
        InputError: no such note or span in the coding.
    """
    child = s.get(model, child_id)
    if child is None or child.coding_id != coding_id or child.deleted:
        raise InputError(f"no such {model.__tablename__[:-1]} #{child_id} in this coding")
    return child


def add_span(
    s: DbSession,
    coding_id: int,
    item_id: str,
    start_ms: int,
    end_ms: int | None,
    *,
    actor: str,
) -> SpanRow:
    """Add a span of a duration item and re-sum the item (check the item's kind first)."""
    span = SpanRow(
        coding_id=coding_id,
        item_id=item_id,
        start_ms=int(start_ms),
        end_ms=None if end_ms is None else int(end_ms),
        deleted=False,
    )
    s.add(span)
    s.flush()
    log_change(
        s,
        actor,
        "add",
        "span",
        str(span.id),
        coding_id=coding_id,
        new={"item": item_id, "start_ms": span.start_ms, "end_ms": span.end_ms},
    )
    sync_duration(s, coding_id, item_id, actor=actor)
    return span


def edit_span(
    s: DbSession,
    span: SpanRow,
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
    actor: str,
) -> None:
    """Move a span's start or end (a reversed span is stored the right way round)."""
    old = {"start_ms": span.start_ms, "end_ms": span.end_ms}
    if start_ms is not None:
        span.start_ms = int(start_ms)
    if end_ms is not None:
        span.end_ms = int(end_ms)
    if span.end_ms is not None and span.end_ms < span.start_ms:
        span.start_ms, span.end_ms = span.end_ms, span.start_ms
    log_change(
        s,
        actor,
        "edit",
        "span",
        str(span.id),
        coding_id=span.coding_id,
        old=old,
        new={"start_ms": span.start_ms, "end_ms": span.end_ms},
    )
    sync_duration(s, span.coding_id, span.item_id, actor=actor)


def delete_span(s: DbSession, span: SpanRow, *, actor: str) -> None:
    """Delete a span (kept, marked deleted) and re-sum its item."""
    span.deleted = True
    log_change(
        s,
        actor,
        "delete",
        "span",
        str(span.id),
        coding_id=span.coding_id,
        old={"item": span.item_id, "start_ms": span.start_ms, "end_ms": span.end_ms},
    )
    sync_duration(s, span.coding_id, span.item_id, actor=actor)


def sync_duration(s: DbSession, coding_id: int, item_id: str, *, actor: str) -> None:
    """Set a duration item to the sum of its spans (:func:`coder.coding_rules.duration_seconds`)."""
    s.flush()
    spans = s.scalars(
        select(SpanRow).where(
            SpanRow.coding_id == coding_id,
            SpanRow.item_id == item_id,
            SpanRow.deleted.is_(False),
        )
    ).all()
    total = duration_seconds(spans)
    if total is not None:
        set_rating(s, coding_id, item_id, value=total, text=None, actor=actor)
