"""Loading finished codings in bulk, checked by the rules every writer follows.

Coding by hand writes one score at a time (:class:`coder.store.project.RaterView`);
:func:`load_codings` writes many codings with their scores, notes and spans in one
transaction with bulk inserts, for benchmarks and test projects of realistic size. It
refuses, before writing anything, what the rater's path refuses: an unknown session,
rater, role, state or item, a value the item does not admit
(:func:`coder.coding_rules.check_number`), an uncodable reason the scale lacks or an
"Other" without a text (:func:`coder.coding_rules.check_uncodable`), an empty note
(:func:`coder.coding_rules.check_note_text`), a span of an item that is not a duration
or that ends before it starts, and any text over its limit. Each coding gets one history
row (action ``load``) naming its session, rater, scale, role and state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select

from coder.coding_data import CodingId
from coder.coding_rules import check_note_text, check_number, check_uncodable, item_of
from coder.errors import InputError
from coder.kinds import CodingRole, CodingStatus, ItemKind
from coder.scales import RatingScale
from coder.store.models import CodingRow, NoteRow, RaterRow, RatingRow, SessionRow, SpanRow, utcnow
from coder.store.project import LEAD, Project
from coder.store.rows import latest_scale_pk, log_change, queue_end
from coder.store.text_checks import check_fields


@dataclass(frozen=True)
class LoadedCoding:
    """One finished (or begun) coding to load.

    Attributes:
        session_key: The session's id.
        rater: The rater's code.
        role: A :class:`~coder.kinds.CodingRole` value.
        state: A :class:`~coder.kinds.CodingStatus` value.
        values: Item id -> score (numeric items).
        notes: ``(position_ms, text)`` of each note.
        spans: ``(item_id, start_ms, end_ms)`` of each span of a duration item.
        uncodable_reason: For an uncodable coding, one of the scale's reasons.
        uncodable_text: The rater's words (required for "Other").
        submitted_at: When it was submitted (None when not submitted).
        queue_position: Its place in the plan's order of the rater's work on the scale
            (in the rater's queue the codings follow the rater's other work, in this
            order).
    """

    session_key: str
    rater: str
    role: str = CodingRole.PRIMARY.value
    state: str = CodingStatus.SUBMITTED.value
    values: Mapping[str, float] = field(default_factory=dict)
    notes: Sequence[tuple[int, str]] = ()
    spans: Sequence[tuple[str, int, int]] = ()
    uncodable_reason: str = ""
    uncodable_text: str = ""
    submitted_at: datetime | None = None
    queue_position: int = 0


def _check(coding: LoadedCoding, scale: RatingScale) -> None:
    """Refuse a coding any rater's write would refuse (see the module docstring)."""
    where = f"coding of {coding.session_key} by {coding.rater}"
    if coding.role not in {r.value for r in CodingRole}:
        raise InputError(f"{where}: {coding.role!r} is not a coding role")
    if coding.state not in {s.value for s in CodingStatus}:
        raise InputError(f"{where}: {coding.state!r} is not a coding state")
    try:
        for item_id, value in coding.values.items():
            check_number(item_of(scale, item_id), value)
        if coding.state == CodingStatus.UNCODABLE:
            check_uncodable(scale.uncodable_reasons, coding.uncodable_reason, coding.uncodable_text)
        for _position, text in coding.notes:
            check_note_text(text)
            check_fields(NoteRow, {"text": text})
        check_fields(CodingRow, {"uncodable_text": coding.uncodable_text})
        for item_id, _start_ms, _end_ms in coding.spans:
            item_of(scale, item_id, ItemKind.DURATION)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None
    for item_id, start_ms, end_ms in coding.spans:
        if start_ms < 0 or end_ms < start_ms:
            raise InputError(f"{where}: a span of {item_id!r} ends before it starts")
    for position, _text in coding.notes:
        if position < 0:
            raise InputError(f"{where}: a note has a negative time")


def load_codings(
    project: Project, scale_id: str, codings: Sequence[LoadedCoding], *, actor: str = LEAD
) -> list[CodingId]:
    """Write codings of one scale with their scores, notes and spans, all or none.

    Args:
        project: The open project (sessions and raters already in it).
        scale_id: The scale; its newest version is coded.
        codings: The codings; a session has at most one per rater.
        actor: Who the history names.

    Returns:
        The new codings' ids, in the given order.

    Raises:
        InputError: an unknown scale, session or rater, or a coding that breaks a
            rule (see the module docstring); nothing is written.
    """
    scale = project.scale(scale_id)
    for coding in codings:
        _check(coding, scale)
    with project.store.transaction() as s:
        scale_pk = latest_scale_pk(s, scale_id)
        raters = dict(s.execute(select(RaterRow.code, RaterRow.id)).all())
        sessions = dict(s.execute(select(SessionRow.session_key, SessionRow.id)).all())
        for coding in codings:
            if coding.session_key not in sessions:
                raise InputError(f"no session {coding.session_key!r} in this project")
            if coding.rater not in raters:
                raise InputError(
                    f"no rater {coding.rater!r} in this project; add it with "
                    "session-coder raters add"
                )
        now = utcnow()
        next_order = {r: queue_end(s, raters[r]) for r in {c.rater for c in codings}}
        orders = [0] * len(codings)
        for i in sorted(range(len(codings)), key=lambda i: codings[i].queue_position):
            orders[i] = next_order[codings[i].rater]
            next_order[codings[i].rater] += 1
        ids = list(
            s.scalars(
                insert(CodingRow).returning(CodingRow.id, sort_by_parameter_order=True),
                [
                    {
                        "session_id": sessions[c.session_key],
                        "rater_id": raters[c.rater],
                        "scale_pk": scale_pk,
                        "role": c.role,
                        "queue_position": c.queue_position,
                        "queue_order": order,
                        "state": c.state,
                        "uncodable_reason": c.uncodable_reason,
                        "uncodable_text": c.uncodable_text,
                        "started_at": None if c.state == CodingStatus.NOT_STARTED else now,
                        "submitted_at": c.submitted_at,
                        "playhead_ms": 0,
                        "reopen_allowed": False,
                    }
                    for c, order in zip(codings, orders, strict=True)
                ],
            )
        )
        ratings = [
            {"coding_id": ids[n], "item_id": item, "value": float(v), "updated_at": now}
            for n, c in enumerate(codings)
            for item, v in c.values.items()
        ]
        notes = [
            {"coding_id": ids[n], "position_ms": pos, "text": text, "deleted": False}
            for n, c in enumerate(codings)
            for pos, text in c.notes
        ]
        spans = [
            {
                "coding_id": ids[n],
                "item_id": item,
                "start_ms": start,
                "end_ms": end,
                "deleted": False,
            }
            for n, c in enumerate(codings)
            for item, start, end in c.spans
        ]
        for model, rows in ((RatingRow, ratings), (NoteRow, notes), (SpanRow, spans)):
            if rows:
                s.execute(insert(model), rows)
        for n, c in enumerate(codings):
            log_change(
                s,
                actor,
                "load",
                "coding",
                str(ids[n]),
                coding_id=ids[n],
                new={
                    "session": c.session_key,
                    "rater": c.rater,
                    "scale": scale_id,
                    "role": c.role,
                    "state": c.state,
                },
            )
    return [CodingId(i) for i in ids]
