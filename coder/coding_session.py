"""One open coding, kept in memory, with every change written through an injected writer.

A :class:`CodingSession` is what a rater's screen works on: the scores, texts, notes,
spans, state and playhead of one coding. A change updates the memory copy at once,
announces itself through plain callback lists (no Qt here), and hands the write to
``writer``, a callable that runs a zero-argument function *somewhere*: the GUI passes
its single storage worker, tests and scripts pass :func:`run_now`. Writes are queued
in order by that one worker, so a later write (edit a note) always runs after the
earlier one it depends on (add the note) has committed.

New notes and spans get a negative local id at once, so the screen can show, edit and
delete them before the database has answered; the worker records the stored id when
the insert commits and later writes translate through that map.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Generic, ParamSpec

from coder.coding_rules import check_uncodable, note_text_is_kept
from coder.errors import InputError
from coder.scales import RatingScale, ScaleItem
from coder.store.project import CodingState, Note, RaterView, Span

Writer = Callable[[Callable[[], None]], None]
P = ParamSpec("P")

EDITABLE_STATES = ("not_started", "in_progress")


def run_now(write: Callable[[], None]) -> None:
    """A writer that runs the write immediately, in the caller's thread."""
    write()


class Event(Generic[P]):
    """A minimal callback list: ``connect`` a callable, ``emit`` calls them all in order."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[P, Any]] = []

    def connect(self, callback: Callable[P, Any]) -> None:
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[P, Any]) -> None:
        try:
            self._callbacks.remove(callback)
        except ValueError:
            pass

    def emit(self, *args: P.args, **kwargs: P.kwargs) -> None:
        for callback in list(self._callbacks):
            callback(*args, **kwargs)


def duration_from_spans(spans: list[Span] | tuple[Span, ...]) -> float | None:
    """A duration item's value from its spans, by the rule of ``RaterView._sync_duration``.

    Returns:
        The sum of the closed spans in seconds (rounded to ms), or None when the only
        spans are still open (the value is then left as it was).
    """
    closed = [sp for sp in spans if sp.end_ms is not None]
    if not closed and any(sp.end_ms is None for sp in spans):
        return None
    return round(sum(sp.length_ms for sp in closed) / 1000, 3)


class CodingSession:
    """The in-memory state of one coding; every change is also written to the store.

    Args:
        view: The rater's data layer.
        state: The coding as loaded by ``view.coding(coding_id)``.
        writer: Runs a write function (see the module docstring).

    Events (callback lists): ``value_changed(item_id, value)``,
    ``text_changed(item_id, text)``, ``notes_changed()``, ``spans_changed(item_id)``,
    ``state_changed(state)``, ``reset()`` (everything was replaced).
    """

    def __init__(self, view: RaterView, state: CodingState, writer: Writer = run_now) -> None:
        self.view = view
        self._write = writer
        self.value_changed: Event[[str, float | None]] = Event()
        self.text_changed: Event[[str, str]] = Event()
        self.notes_changed: Event[[]] = Event()
        self.spans_changed: Event[[str]] = Event()
        self.state_changed: Event[[str]] = Event()
        self.reset: Event[[]] = Event()
        self._local_ids = itertools.count(-1, -1)
        # local id -> stored id; filled in by the writer's thread, read only there.
        self._db_ids: dict[int, int] = {}
        self._load(state)

    def _load(self, state: CodingState) -> None:
        self.coding = state
        self.coding_id = int(state.coding_id)
        self.scale: RatingScale = state.scale
        self.session_key = state.session_key
        self.state = state.state
        self.reopen_allowed = state.reopen_allowed
        self.uncodable_reason = state.uncodable_reason
        self.uncodable_text = state.uncodable_text
        self._values: dict[str, float | None] = dict(state.values)
        self._texts: dict[str, str] = dict(state.texts)
        self._notes: dict[int, Note] = {n.id: n for n in state.notes}
        # Notes not written yet because they have no text (GUI thread only).
        self._unstored_notes: set[int] = set()
        self._spans: dict[int, Span] = {s.id: s for s in state.spans}
        for known in (*self._notes, *self._spans):
            self._db_ids[known] = known
        self.playhead_ms = state.playhead_ms
        self._saved_playhead = state.playhead_ms

    def replace_state(self, state: CodingState) -> None:
        """Take a freshly loaded state (after a failed write, or a re-open by the lead)."""
        self._load(state)
        self.reset.emit()

    # ------------------------------------------------------------------ reading

    @property
    def editable(self) -> bool:
        """False once submitted or uncodable, unless the lead allowed reopening."""
        return self.state in EDITABLE_STATES or self.reopen_allowed

    def value(self, item_id: str) -> float | None:
        return self._values.get(item_id)

    def text(self, item_id: str) -> str:
        return self._texts.get(item_id, "")

    def values(self) -> dict[str, float | None]:
        return dict(self._values)

    def notes(self) -> list[Note]:
        """Notes in time order."""
        return sorted(self._notes.values(), key=lambda n: (n.position_ms, abs(n.id)))

    def note(self, note_id: int) -> Note:
        return self._notes[note_id]

    def spans(self, item_id: str | None = None) -> list[Span]:
        """Spans (of one item, or all) in time order."""
        spans = [s for s in self._spans.values() if item_id is None or s.item_id == item_id]
        return sorted(spans, key=lambda s: (s.start_ms, abs(s.id)))

    def open_span(self, item_id: str) -> Span | None:
        """The span of ``item_id`` that has a start and no stop yet, if any."""
        return next((s for s in self.spans(item_id) if s.end_ms is None), None)

    def composite_scores(self) -> dict[str, float | None]:
        return self.scale.composite_scores(self._values)

    def is_scored(self, item: ScaleItem) -> bool:
        if item.kind == "text":
            return bool(self._texts.get(item.id, "").strip())
        return self._values.get(item.id) is not None

    def items_scored(self) -> int:
        return sum(1 for item in self.scale.items if self.is_scored(item))

    def first_unscored_index(self) -> int:
        """Position (0-based) of the first item not yet scored; 0 when all are scored."""
        return next((n for n, item in enumerate(self.scale.items) if not self.is_scored(item)), 0)

    def missing_required(self) -> list[str]:
        """Labels of required items not yet scored (as ``RaterView.missing_required``)."""
        return [
            item.label for item in self.scale.items if item.required and not self.is_scored(item)
        ]

    # ------------------------------------------------------------------ writing

    def _check_editable(self) -> None:
        if not self.editable:
            raise InputError("this coding is submitted; ask the lead to allow reopening it")

    def _touch(self) -> None:
        """The first change of a coding starts it (the core does the same in the store)."""
        if self.state == "not_started":
            self.state = "in_progress"
            self.state_changed.emit(self.state)

    def _item(self, item_id: str, *kinds: str) -> ScaleItem:
        try:
            item = self.scale.item(item_id)
        except KeyError:
            raise InputError(f"scale {self.scale.id!r} has no item {item_id!r}") from None
        if kinds and item.kind not in kinds:
            raise InputError(f"item {item_id!r} is not a {' or '.join(kinds)} item")
        return item

    def set_value(self, item_id: str, value: float | None) -> None:
        """Score a numeric item (None clears it).

        Raises:
            InputError: the value is not admissible, or the coding is not editable.
        """
        self._check_editable()
        item = self._item(item_id)
        if item.kind == "text":
            raise InputError(f"item {item_id!r} takes text, not a number")
        item.check_value(value)
        if value is not None and item.kind != "duration":
            value = float(value)
        if self._values.get(item_id) == value and item_id in self._values:
            return
        self._touch()
        self._values[item_id] = value
        view, coding_id = self.view, self.coding_id
        self._write(lambda: view.set_value(coding_id, item_id, value))
        self.value_changed.emit(item_id, value)

    def set_text(self, item_id: str, text: str) -> None:
        self._check_editable()
        self._item(item_id, "text")
        if self._texts.get(item_id, "") == text:
            return
        self._touch()
        self._texts[item_id] = text
        view, coding_id = self.view, self.coding_id
        self._write(lambda: view.set_text(coding_id, item_id, text))
        self.text_changed.emit(item_id, text)

    def add_note(self, position_ms: int, text: str = "") -> int:
        """Drop a note; returns its local id (usable at once for edits and deletes).

        A note without text (the usual case: N drops it, then the rater types) lives
        in memory only until it has text (:func:`note_text_is_kept`), so a crash or an
        Escape never leaves an empty note in the store.
        """
        self._check_editable()
        local = next(self._local_ids)
        position_ms = max(0, int(position_ms))
        self._notes[local] = Note(local, position_ms, text)
        self._unstored_notes.add(local)
        if note_text_is_kept(text):
            self._store_note(local)
        self.notes_changed.emit()
        return local

    def is_note_stored(self, note_id: int) -> bool:
        """True once the note's insert has been handed to the writer."""
        return note_id in self._notes and note_id not in self._unstored_notes

    def _store_note(self, note_id: int) -> None:
        """Queue the insert of a note that has text now (it was memory only)."""
        self._touch()
        self._unstored_notes.discard(note_id)
        note = self._notes[note_id]
        position_ms, text = note.position_ms, note.text
        view, coding_id, ids = self.view, self.coding_id, self._db_ids

        def write() -> None:
            ids[note_id] = view.add_note(coding_id, position_ms, text)

        self._write(write)

    def draft_note_text(self, note_id: int, text: str) -> None:
        """Save a note's text as the rater types it (the editor is still open).

        Text that is kept is written at once (the note's insert, or an update), so a
        crash loses nothing typed. A blank text in the middle of typing (the rater
        cleared the field to retype it) is held in memory only: the note keeps its last
        stored text until the edit ends with :meth:`update_note`. A note deleted in the
        meantime is ignored (a late keystroke timer must not bring it back).
        """
        if note_id not in self._notes or not self.editable:
            return
        note = self._notes[note_id]
        if note.text == text:
            return
        self._notes[note_id] = replace(note, text=text)
        if note_text_is_kept(text):
            self._write_note(note_id)
        self.notes_changed.emit()

    def update_note(
        self, note_id: int, *, text: str | None = None, position_ms: int | None = None
    ) -> None:
        """Change a note's text or time (the edit is finished).

        A text that is not kept (blank) deletes the note: the rater emptied it, or an
        Escape restored the empty text of a brand-new note.
        """
        self._check_editable()
        if text is not None and not note_text_is_kept(text):
            self.delete_note(note_id)
            return
        note = self._notes[note_id]
        new = replace(
            note,
            text=note.text if text is None else text,
            position_ms=note.position_ms if position_ms is None else max(0, int(position_ms)),
        )
        if new == note:
            return
        self._notes[note_id] = new
        self._write_note(note_id)
        self.notes_changed.emit()

    def _write_note(self, note_id: int) -> None:
        """Queue what the store needs to hold the note as it is in memory now."""
        note = self._notes[note_id]
        if note_id in self._unstored_notes:
            if note_text_is_kept(note.text):
                self._store_note(note_id)
            return
        if not note_text_is_kept(note.text):
            # Only the time changed while the text is blank mid-edit: keep the stored text.
            text = None
        else:
            text = note.text
        view, coding_id, ids, position_ms = (
            self.view,
            self.coding_id,
            self._db_ids,
            note.position_ms,
        )
        self._write(
            lambda: view.update_note(coding_id, ids[note_id], text=text, position_ms=position_ms)
        )

    def delete_note(self, note_id: int) -> None:
        self._check_editable()
        del self._notes[note_id]
        if note_id in self._unstored_notes:
            self._unstored_notes.discard(note_id)  # never written: nothing to delete
        else:
            view, coding_id, ids = self.view, self.coding_id, self._db_ids
            self._write(lambda: view.delete_note(coding_id, ids[note_id]))
        self.notes_changed.emit()

    def toggle_span(self, item_id: str, position_ms: int) -> int:
        """Start a span of ``item_id`` at ``position_ms``, or stop the open one there.

        Returns:
            The local id of the span started or stopped.
        """
        open_span = self.open_span(item_id)
        if open_span is None:
            return self.add_span(item_id, position_ms)
        self.update_span(open_span.id, end_ms=position_ms)
        return open_span.id

    def add_span(self, item_id: str, start_ms: int, end_ms: int | None = None) -> int:
        self._check_editable()
        self._item(item_id, "duration")
        self._touch()
        local = next(self._local_ids)
        start_ms = max(0, int(start_ms))
        end_ms = None if end_ms is None else max(0, int(end_ms))
        if end_ms is not None and end_ms < start_ms:
            start_ms, end_ms = end_ms, start_ms
        self._spans[local] = Span(local, item_id, start_ms, end_ms)
        view, coding_id, ids = self.view, self.coding_id, self._db_ids

        def write() -> None:
            ids[local] = view.add_span(coding_id, item_id, start_ms, end_ms)

        self._write(write)
        self._spans_changed(item_id)
        return local

    def update_span(
        self, span_id: int, *, start_ms: int | None = None, end_ms: int | None = None
    ) -> None:
        self._check_editable()
        span = self._spans[span_id]
        new = replace(
            span,
            start_ms=span.start_ms if start_ms is None else max(0, int(start_ms)),
            end_ms=span.end_ms if end_ms is None else max(0, int(end_ms)),
        )
        if new.end_ms is not None and new.end_ms < new.start_ms:
            new = replace(new, start_ms=new.end_ms, end_ms=new.start_ms)
        self._spans[span_id] = new
        view, coding_id, ids = self.view, self.coding_id, self._db_ids
        self._write(
            lambda: view.update_span(
                coding_id, ids[span_id], start_ms=new.start_ms, end_ms=new.end_ms
            )
        )
        self._spans_changed(span.item_id)

    def delete_span(self, span_id: int) -> None:
        self._check_editable()
        span = self._spans.pop(span_id)
        view, coding_id, ids = self.view, self.coding_id, self._db_ids
        self._write(lambda: view.delete_span(coding_id, ids[span_id]))
        self._spans_changed(span.item_id)

    def _spans_changed(self, item_id: str) -> None:
        # The store re-sums the item in the same transaction; mirror it here.
        total = duration_from_spans(self.spans(item_id))
        self.spans_changed.emit(item_id)
        if total is not None and self._values.get(item_id) != total:
            self._values[item_id] = total
            self.value_changed.emit(item_id, total)

    def set_uncodable(self, reason: str, text: str = "") -> None:
        """Mark the session uncodable with one of the scale's reasons.

        Raises:
            InputError: an unknown reason, or "Other" without a text.
        """
        self._check_editable()
        check_uncodable(self.scale.uncodable_reasons, reason, text)
        self.state, self.reopen_allowed = "uncodable", False
        self.uncodable_reason, self.uncodable_text = reason, text
        view, coding_id = self.view, self.coding_id
        self._write(lambda: view.set_uncodable(coding_id, reason, text))
        self.state_changed.emit(self.state)

    def submit(self) -> None:
        """Submit the coding.

        Raises:
            InputError: naming every required item not yet scored (nothing is written).
        """
        self._check_editable()
        missing = self.missing_required()
        if missing:
            raise InputError("not yet scored: " + "; ".join(missing))
        self.state, self.reopen_allowed = "submitted", False
        view, coding_id = self.view, self.coding_id
        self._write(lambda: view.submit(coding_id))
        self.state_changed.emit(self.state)

    # ------------------------------------------------------------------ playhead

    def set_playhead(self, position_ms: int) -> None:
        """Remember where the rater is (memory only; see :meth:`save_playhead`)."""
        self.playhead_ms = max(0, int(position_ms))

    def save_playhead(self) -> bool:
        """Write the playhead if it moved since the last save; True if a write was queued."""
        position = self.playhead_ms
        if position == self._saved_playhead:
            return False
        self._saved_playhead = position
        view, coding_id = self.view, self.coding_id
        self._write(lambda: view.set_playhead(coding_id, position))
        return True
