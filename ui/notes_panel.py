"""Timestamped notes: a table of the coding's notes, added at the playhead with one key.

``NotesTableModel`` adapts the session's notes (time, text) for a QTableView; the text
column is editable in place. Clicking a note seeks there. N (a window action) calls
:meth:`NotesPanel.add_note_at`, which opens the new note's text for typing; Return
keeps it and gives the keyboard back to the player.

Nothing typed waits for Return: the text is saved as it is typed (``NOTE_SAVE_DELAY_MS``
after the last keystroke, and at once when the editor loses the focus or the window
closes), through the session and so the single storage worker. Escape puts back the
text the note had when the edit began; for a brand-new note that is no text, and the
core's rule (:func:`coder.coding_rules.note_text_is_kept`) then removes the note, as it
does for a note the rater empties.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from coder.coding_session import CodingSession
from coder.store.project import Note
from ui.timefmt import format_ms

_Index = QModelIndex | QPersistentModelIndex

# Typing pauses this long before the note's text is written: one write per burst of
# keys, not one per key, and never more than this much typing lost to a crash.
NOTE_SAVE_DELAY_MS = 400

# How a note outside the coding window is flagged in the time column.
OUTSIDE_MARK = "(outside window)"
OUTSIDE_COLOR = "#b45309"


class NotesTableModel(QAbstractTableModel):
    """The session's notes in time order: column 0 the time, column 1 the (editable) text."""

    HEADERS = ("Time", "Note")

    def __init__(self, session: CodingSession, parent: Any = None) -> None:
        super().__init__(parent)
        self._session = session
        self._notes: list[Note] = session.notes()
        session.notes_changed.connect(self._on_notes_changed)
        session.reset.connect(self._on_notes_changed)

    def detach(self) -> None:
        self._session.notes_changed.disconnect(self._on_notes_changed)
        self._session.reset.disconnect(self._on_notes_changed)

    def _on_notes_changed(self) -> None:
        notes = self._session.notes()
        if [n.id for n in notes] == [n.id for n in self._notes]:
            # Same notes in the same order (a text edit): repaint the changed rows in
            # place, so an open editor survives.
            old, self._notes = self._notes, notes
            for row, (before, after) in enumerate(zip(old, notes, strict=True)):
                if before != after:
                    self.dataChanged.emit(self.index(row, 0), self.index(row, 1))
            return
        self.beginResetModel()
        self._notes = notes
        self.endResetModel()

    def note_at(self, row: int) -> Note:
        return self._notes[row]

    def row_of(self, note_id: int) -> int:
        return next(i for i, n in enumerate(self._notes) if n.id == note_id)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._notes)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 2

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        note = self._notes[index.row()]
        outside = not self._session.note_in_window(note)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if index.column() == 1:
                return note.text
            time = format_ms(note.position_ms)
            return (
                f"{time} {OUTSIDE_MARK}"
                if outside and role == Qt.ItemDataRole.DisplayRole
                else time
            )
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 0 and outside:
            return (
                f"Outside the coding window ({self._session.window.describe()}): "
                "flagged for the lab lead"
            )
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 1:
            return note.text or None
        if role == Qt.ItemDataRole.ForegroundRole and outside:
            return QColor(OUTSIDE_COLOR)
        return None

    def is_outside_window(self, row: int) -> bool:
        """Whether the note of a row lies outside the coding window (shown flagged)."""
        return not self._session.note_in_window(self._notes[row])

    def flags(self, index: _Index) -> Qt.ItemFlag:
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == 1 and self._session.editable:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or index.column() != 1:
            return False
        note = self._notes[index.row()]
        if not self._session.editable or note.id not in {n.id for n in self._session.notes()}:
            return False  # finished or reset while the editor was open
        # The edit is finished: a blank text deletes the note (the core's rule).
        self._session.update_note(note.id, text=str(value))
        return True


class NoteLineEdit(QLineEdit):
    """The one-line note editor; the window's Ctrl shortcuts win over its own.

    On X11 a QLineEdit claims Ctrl+U (erase to the start of the line), Ctrl+K and other
    Emacs keys before the window's shortcuts see them. A rater who presses Ctrl+U
    ("uncodable") while typing a note would erase the note instead, and the emptied
    note is then deleted. So only the standard editing keys stay the editor's.
    """

    _EDITING_KEYS = (
        QKeySequence.StandardKey.Copy,
        QKeySequence.StandardKey.Cut,
        QKeySequence.StandardKey.Paste,
        QKeySequence.StandardKey.Undo,
        QKeySequence.StandardKey.Redo,
        QKeySequence.StandardKey.SelectAll,
        QKeySequence.StandardKey.MoveToNextWord,
        QKeySequence.StandardKey.MoveToPreviousWord,
        QKeySequence.StandardKey.SelectNextWord,
        QKeySequence.StandardKey.SelectPreviousWord,
        QKeySequence.StandardKey.DeleteStartOfWord,
        QKeySequence.StandardKey.DeleteEndOfWord,
    )

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            ctrl = event.modifiers() & (
                Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
            )
            if ctrl and not any(event.matches(key) for key in self._EDITING_KEYS):
                event.ignore()  # not overridden: the window's shortcut runs
                return True
        return super().event(event)


class NoteTextDelegate(QStyledItemDelegate):
    """The note text editor: reports each keystroke so the panel can save as typed.

    Signals:
        editing_started(int, str, QWidget): an editor opened on this note (its id, the
            text it had then, the editor).
        text_typed(QWidget, str): the rater changed the text in this editor.
    """

    editing_started = Signal(int, str, QWidget)
    text_typed = Signal(QWidget, str)

    def __init__(self, model: NotesTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: _Index) -> QWidget:
        editor = NoteLineEdit(parent)
        editor.setFrame(False)
        note = self._model.note_at(index.row())
        editor.textEdited.connect(self._on_text_edited)
        self.editing_started.emit(note.id, note.text, editor)
        return editor

    @Slot(str)
    def _on_text_edited(self, text: str) -> None:
        editor = self.sender()
        if isinstance(editor, QWidget):
            self.text_typed.emit(editor, text)

    def setEditorData(self, editor: QWidget, index: _Index) -> None:
        # The model repaints a note while it is typed (its text was just saved); setting
        # the same text again would move the rater's cursor to the end.
        if isinstance(editor, QLineEdit) and editor.text() == index.data(Qt.ItemDataRole.EditRole):
            return
        super().setEditorData(editor, index)


class NotesPanel(QWidget):
    """The list of notes with add, edit, move and delete.

    Signals:
        seek_requested(int): a note was clicked (its time in ms).
    """

    seek_requested = Signal(int)

    def __init__(
        self,
        session: CodingSession,
        *,
        playhead: Callable[[], int],
        focus_home: Callable[[], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self._playhead = playhead
        self._focus_home = focus_home
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel(
            "<b>Notes</b>  <span style='color:#6b7280;'>N adds one at the playhead · "
            "click to go there · double-click to edit</span>"
        )
        title.setWordWrap(True)
        layout.addWidget(title)
        self.model = NotesTableModel(session, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.setWordWrap(True)
        self.table.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.table.clicked.connect(self._on_clicked)
        self._delegate = NoteTextDelegate(self.model, self.table)
        self.table.setItemDelegateForColumn(1, self._delegate)
        self._delegate.editing_started.connect(self._on_editing_started)
        self._delegate.text_typed.connect(self._on_text_typed)
        # Return in the editor keeps the note; then the keys go back to the player.
        self._delegate.closeEditor.connect(self._on_editor_closed)
        # The note being edited: its id, its text when the edit began (what Escape
        # restores), and its editor.
        self._editing: tuple[int, str, QWidget] | None = None
        self._draft_timer = QTimer(self)
        self._draft_timer.setSingleShot(True)
        self._draft_timer.setInterval(NOTE_SAVE_DELAY_MS)
        self._draft_timer.timeout.connect(self._save_draft)
        # A reset closes every editor without closeEditor: forget the one being typed.
        self.model.modelAboutToBeReset.connect(self._forget_editor)
        # Delete is the window's "delete_note" action (ui.keymap), wherever the focus is:
        # a shortcut of the table's own would make the key ambiguous there.
        layout.addWidget(self.table, 1)

        buttons = QHBoxLayout()
        self._add = QPushButton("Add note (N)")
        self._move = QPushButton("Move to playhead")
        self._delete = QPushButton("Delete")
        for button in (self._add, self._move, self._delete):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            buttons.addWidget(button)
        buttons.addStretch(1)
        self._add.clicked.connect(lambda: self.add_note_at(self._playhead()))
        self._move.clicked.connect(self.move_selected_to_playhead)
        self._delete.clicked.connect(self.delete_selected)
        layout.addLayout(buttons)
        session.state_changed.connect(self._on_state_changed)
        session.reset.connect(self._on_reset)
        self._on_state_changed(session.state)

    def row_count(self) -> int:
        return self.model.rowCount()

    def add_note_at(self, position_ms: int) -> int:
        """Add a note and open its text for typing; returns the note's id."""
        if self.table.state() == QAbstractItemView.State.EditingState:
            # Keep the note being typed: its editor commits when it loses the focus.
            self._focus_home()
        note_id = self.session.add_note(position_ms)
        index = self.model.index(self.model.row_of(note_id), 1)
        self.table.setFocus()
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index)
        self.table.edit(index)
        return note_id

    def selected_note(self) -> Note | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            index = self.table.currentIndex()
            return self.model.note_at(index.row()) if index.isValid() else None
        return self.model.note_at(rows[0].row())

    def delete_selected(self) -> Note | None:
        """Delete the selected note (as its Delete button does); returns it, or None."""
        note = self.selected_note()
        if note is not None and self.session.editable:
            self.session.delete_note(note.id)
            return note
        return None

    def move_selected_to_playhead(self) -> None:
        note = self.selected_note()
        if note is not None and self.session.editable:
            self.session.update_note(note.id, position_ms=self._playhead())

    def _on_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.seek_requested.emit(self.model.note_at(index.row()).position_ms)

    @Slot(int, str, QWidget)
    def _on_editing_started(self, note_id: int, text: str, editor: QWidget) -> None:
        self._draft_timer.stop()
        self._editing = (note_id, text, editor)

    @Slot(QWidget, str)
    def _on_text_typed(self, editor: QWidget, _text: str) -> None:
        if self._editing is not None and self._editing[2] is editor:
            self._draft_timer.start()

    @Slot()
    def _save_draft(self) -> None:
        """Write what the open editor holds now (the rater paused typing)."""
        if self._editing is None:
            return
        note_id, _origin, editor = self._editing
        if isinstance(editor, QLineEdit):
            self.session.draft_note_text(note_id, editor.text())

    def _on_editor_closed(self, editor: QWidget, hint: QAbstractItemDelegate.EndEditHint) -> None:
        # On Return or focus-out Qt has just committed the text (setData); a draft still
        # waiting would only repeat it.
        self._draft_timer.stop()
        editing, self._editing = self._editing, None
        if (
            hint == QAbstractItemDelegate.EndEditHint.RevertModelCache
            and editing is not None
            and editing[2] is editor
        ):
            note_id, origin, _editor = editing
            if note_id in {n.id for n in self.session.notes()} and self.session.editable:
                # Escape: back to the text the note had (none for a new note: it goes).
                self.session.update_note(note_id, text=origin)
        self._focus_home()

    @Slot()
    def _forget_editor(self) -> None:
        self._draft_timer.stop()
        self._editing = None

    def flush(self) -> None:
        """Finish the edit of a note being typed: its text is committed now.

        The window calls this when it closes. Moving the focus away usually commits the
        editor, but not when the window is inactive (Qt then sends no focus-out), so the
        editor is committed and closed here explicitly.
        """
        self._draft_timer.stop()
        editing, self._editing = self._editing, None
        if editing is None:
            return
        editor = editing[2]
        if isValid(editor) and self.session.editable:
            self.table.commitData(editor)
            self.table.closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)

    def _on_state_changed(self, _state: str) -> None:
        editable = self.session.editable
        for button in (self._add, self._move, self._delete):
            button.setEnabled(editable)

    def _on_reset(self) -> None:
        self._on_state_changed(self.session.state)

    def detach(self) -> None:
        self._draft_timer.stop()
        self.model.detach()
        self.session.state_changed.disconnect(self._on_state_changed)
        self.session.reset.disconnect(self._on_reset)
