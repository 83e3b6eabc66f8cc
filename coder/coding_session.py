"""One open coding, kept in memory, with every change written through an injected writer.

A :class:`CodingSession` is what a rater's screen works on: the scores, texts, notes,
spans, state and playhead of one coding. A change is checked against the rules of
:mod:`coder.coding_rules`, updates the memory copy at once, announces itself through
plain callback lists (no Qt here), and hands the write to ``writer``, a callable that
runs a zero-argument function *somewhere*: the GUI passes its single storage worker,
tests and scripts pass :func:`run_now`. Writes are queued in order by that one worker,
so a later write (edit a note) always runs after the earlier one it depends on (add
the note) has committed. The write itself goes to ``store``, anything with the
methods of :class:`CodingWriter` (the rater's
:class:`coder.store.project.RaterView`); this module imports no database code.

New notes and spans get a negative local id at once, so the screen can show, edit and
delete them before the database has answered; the worker records the stored id when
the insert commits and later writes translate through that map.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Generic, ParamSpec, Protocol

from coder import coding_rules as rules
from coder.coding_data import CodingState, Note, Span
from coder.errors import InputError
from coder.kinds import CodingStatus, ItemKind
from coder.scales import RatingScale, ScaleItem
from coder.session_window import SessionWindow

Writer = Callable[[Callable[[], None]], None]
P = ParamSpec("P")


class CodingWriter(Protocol):
    """What a :class:`CodingSession` writes through: one rater's coding-write methods.

    :class:`coder.store.project.RaterView` is the store's implementation; each method
    is one transaction that checks the rules again and writes the history.
    """

    def set_value(self, coding_id: int, item_id: str, value: float | None) -> None: ...

    def set_text(self, coding_id: int, item_id: str, text: str) -> None: ...

    def add_note(self, coding_id: int, position_ms: int, text: str = "") -> int: ...

    def update_note(
        self,
        coding_id: int,
        note_id: int,
        *,
        text: str | None = None,
        position_ms: int | None = None,
    ) -> None: ...

    def delete_note(self, coding_id: int, note_id: int) -> None: ...

    def add_span(
        self, coding_id: int, item_id: str, start_ms: int, end_ms: int | None = None
    ) -> int: ...

    def update_span(
        self,
        coding_id: int,
        span_id: int,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> None: ...

    def delete_span(self, coding_id: int, span_id: int) -> None: ...

    def set_playhead(self, coding_id: int, position_ms: int) -> None: ...

    def set_uncodable(self, coding_id: int, reason: str, text: str = "") -> None: ...

    def submit(self, coding_id: int) -> None: ...

    def record_window(self, coding_id: int, *, inside: bool, position_ms: int) -> None: ...


class CodingReader(Protocol):
    """Loads one of a rater's codings (:meth:`coder.store.project.RaterView.coding`)."""

    def coding(self, coding_id: int) -> CodingState: ...


class ScaleCatalog(Protocol):
    """Finds the newest stored version of a scale (:meth:`coder.store.project.Project.scale`)."""

    def scale(self, scale_id: str) -> RatingScale: ...


@dataclass(frozen=True)
class OpenedCoding:
    """What the rater's workstation needs to open a coding (see :func:`open_coding`).

    Attributes:
        state: The coding as stored.
        newest_scale_version: The newest version of its scale in the project (the
            coding keeps the version it was assigned with; the screen says so).
        audio_exists: Whether the recording is at its stored path.
    """

    state: CodingState
    newest_scale_version: int
    audio_exists: bool


def open_coding(project: ScaleCatalog, view: CodingReader, coding_id: int) -> OpenedCoding:
    """Load a coding for the workstation (blocking: the GUI runs it in a worker).

    Args:
        project: The open project (for the newest version of the coding's scale).
        view: The rater's view of the project.
        coding_id: One of the rater's codings.

    Raises:
        InputError: the coding is not in the rater's queue.
    """
    state = view.coding(coding_id)
    try:
        newest = project.scale(state.scale.id).version
    except InputError:
        newest = state.scale.version
    exists = bool(state.audio_path) and Path(str(state.audio_path)).is_file()
    return OpenedCoding(state, newest, exists)


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


class CodingSession:
    """The in-memory state of one coding; every change is also written to the store.

    Args:
        store: Where the changes are written (the rater's ``RaterView``).
        state: The coding as loaded by ``store.coding(coding_id)``.
        writer: Runs a write function (see the module docstring).

    Events (callback lists): ``value_changed(item_id, value)``,
    ``text_changed(item_id, text)``, ``notes_changed()``, ``spans_changed(item_id)``,
    ``state_changed(state)``, ``reset()`` (everything was replaced).
    """

    def __init__(self, store: CodingWriter, state: CodingState, writer: Writer = run_now) -> None:
        self.store = store
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
        # True after leave_window until return_to_window (the screen's toggle mirrors it).
        self.outside_window = False
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
        return rules.is_editable(self.state, self.reopen_allowed)

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

    @property
    def window(self) -> SessionWindow:
        """This session's coding window (:func:`coder.session_window.session_window`)."""
        return self.coding.window

    def note_in_window(self, note: Note) -> bool:
        """Whether a note lies inside the coding window (the notes panel flags the others)."""
        return self.window.contains(note.position_ms)

    def span_in_window(self, span: Span) -> bool:
        """Whether a span lies wholly inside the coding window."""
        return self.window.contains_span(span.start_ms, span.end_ms)

    def leave_window(self, position_ms: int) -> None:
        """The rater chose to listen outside the coding window: kept in the history.

        The screen asks the rater first; this records the choice (the player then
        stops keeping to the window).
        """
        self._record_window(inside=False, position_ms=position_ms)

    def return_to_window(self, position_ms: int) -> None:
        """The rater went back to keeping inside the coding window: kept in the history."""
        self._record_window(inside=True, position_ms=position_ms)

    def _record_window(self, *, inside: bool, position_ms: int) -> None:
        self.outside_window = not inside
        store, coding_id, position = self.store, self.coding_id, max(0, int(position_ms))
        self._write(lambda: store.record_window(coding_id, inside=inside, position_ms=position))

    def composite_scores(self) -> dict[str, float | None]:
        return self.scale.composite_scores(self._values)

    def is_scored(self, item: ScaleItem) -> bool:
        """Whether ``item`` counts as scored (:func:`coder.coding_rules.is_scored`)."""
        return rules.is_scored(item, self._values, self._texts)

    def admits(self, item: ScaleItem, value: float | None) -> bool:
        """Whether ``item`` admits ``value`` as its score (the screen asks before offering it)."""
        return rules.value_admissible(item, value)

    def items_scored(self) -> int:
        return sum(1 for item in self.scale.items if self.is_scored(item))

    def first_unscored_index(self) -> int:
        """Position (0-based) of the first item not yet scored; 0 when all are scored."""
        return next((n for n, item in enumerate(self.scale.items) if not self.is_scored(item)), 0)

    def missing_required(self) -> list[str]:
        """Labels of required items not yet scored (:func:`coder.coding_rules.missing_required`)."""
        return rules.missing_required(self.scale, self._values, self._texts)

    # ------------------------------------------------------------------ writing

    def _check_editable(self) -> None:
        rules.check_editable(self.state, self.reopen_allowed)

    def _touch(self) -> None:
        """The first change of a coding starts it (the store applies the same rule)."""
        new = rules.state_after_change(self.state)
        if new != self.state:
            self.state = new
            self.state_changed.emit(self.state)

    def set_value(self, item_id: str, value: float | None) -> None:
        """Score a numeric item (None clears it).

        Raises:
            InputError: the value is not admissible, or the coding is not editable.
        """
        self._check_editable()
        item = rules.item_of(self.scale, item_id)
        rules.check_number(item, value)
        if value is not None and item.kind != ItemKind.DURATION:
            value = float(value)
        if self._values.get(item_id) == value and item_id in self._values:
            return
        self._touch()
        self._values[item_id] = value
        store, coding_id = self.store, self.coding_id
        self._write(lambda: store.set_value(coding_id, item_id, value))
        self.value_changed.emit(item_id, value)

    def set_text(self, item_id: str, text: str) -> None:
        self._check_editable()
        rules.check_text_item(rules.item_of(self.scale, item_id))
        if self._texts.get(item_id, "") == text:
            return
        self._touch()
        self._texts[item_id] = text
        store, coding_id = self.store, self.coding_id
        self._write(lambda: store.set_text(coding_id, item_id, text))
        self.text_changed.emit(item_id, text)

    def add_note(self, position_ms: int, text: str = "") -> int:
        """Drop a note; returns its local id (usable at once for edits and deletes).

        A note without text (the usual case: N drops it, then the rater types) lives
        in memory only until it has text (:func:`coder.coding_rules.note_text_is_kept`), so a crash or an
        Escape never leaves an empty note in the store.
        """
        self._check_editable()
        local = next(self._local_ids)
        position_ms = max(0, int(position_ms))
        self._notes[local] = Note(local, position_ms, text)
        self._unstored_notes.add(local)
        if rules.note_text_is_kept(text):
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
        store, coding_id, ids = self.store, self.coding_id, self._db_ids

        def write() -> None:
            ids[note_id] = store.add_note(coding_id, position_ms, text)

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
        if rules.note_text_is_kept(text):
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
        if text is not None and not rules.note_text_is_kept(text):
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
            if rules.note_text_is_kept(note.text):
                self._store_note(note_id)
            return
        if not rules.note_text_is_kept(note.text):
            # Only the time changed while the text is blank mid-edit: keep the stored text.
            text = None
        else:
            text = note.text
        store, coding_id, ids, position_ms = (
            self.store,
            self.coding_id,
            self._db_ids,
            note.position_ms,
        )
        self._write(
            lambda: store.update_note(coding_id, ids[note_id], text=text, position_ms=position_ms)
        )

    def delete_note(self, note_id: int) -> None:
        self._check_editable()
        del self._notes[note_id]
        if note_id in self._unstored_notes:
            self._unstored_notes.discard(note_id)  # never written: nothing to delete
        else:
            store, coding_id, ids = self.store, self.coding_id, self._db_ids
            self._write(lambda: store.delete_note(coding_id, ids[note_id]))
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
        rules.item_of(self.scale, item_id, ItemKind.DURATION)
        self._touch()
        local = next(self._local_ids)
        start_ms = max(0, int(start_ms))
        end_ms = None if end_ms is None else max(0, int(end_ms))
        if end_ms is not None and end_ms < start_ms:
            start_ms, end_ms = end_ms, start_ms
        self._spans[local] = Span(local, item_id, start_ms, end_ms)
        store, coding_id, ids = self.store, self.coding_id, self._db_ids

        def write() -> None:
            ids[local] = store.add_span(coding_id, item_id, start_ms, end_ms)

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
        store, coding_id, ids = self.store, self.coding_id, self._db_ids
        self._write(
            lambda: store.update_span(
                coding_id, ids[span_id], start_ms=new.start_ms, end_ms=new.end_ms
            )
        )
        self._spans_changed(span.item_id)

    def delete_span(self, span_id: int) -> None:
        self._check_editable()
        span = self._spans.pop(span_id)
        store, coding_id, ids = self.store, self.coding_id, self._db_ids
        self._write(lambda: store.delete_span(coding_id, ids[span_id]))
        self._spans_changed(span.item_id)

    def _spans_changed(self, item_id: str) -> None:
        # The store re-sums the item in the same transaction; mirror it here.
        total = rules.duration_seconds(self.spans(item_id))
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
        rules.check_uncodable(self.scale.uncodable_reasons, reason, text)
        self.state, self.reopen_allowed = CodingStatus.UNCODABLE, False
        self.uncodable_reason, self.uncodable_text = reason, text
        store, coding_id = self.store, self.coding_id
        self._write(lambda: store.set_uncodable(coding_id, reason, text))
        self.state_changed.emit(self.state)

    def submit(self) -> None:
        """Submit the coding.

        Raises:
            InputError: naming every required item not yet scored (nothing is written).
        """
        self._check_editable()
        rules.check_submittable(self.scale, self._values, self._texts)
        self.state, self.reopen_allowed = CodingStatus.SUBMITTED, False
        store, coding_id = self.store, self.coding_id
        self._write(lambda: store.submit(coding_id))
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
        store, coding_id = self.store, self.coding_id
        self._write(lambda: store.set_playhead(coding_id, position))
        return True
