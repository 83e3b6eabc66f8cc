"""Notes in the workstation: saved as typed, never kept empty, Escape cancels."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from coder.store.project import Project
from tests.ui.helpers import BuiltProject


def _stored_notes(built: BuiltProject) -> list[tuple[int, str]]:
    with Project.open(built.path) as project:
        state = project.rater_view("R1").coding(built.codings["S1"])
    return [(n.position_ms, n.text) for n in state.notes]


def _note_editor() -> QLineEdit:
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit), "N must put the cursor in the new note"
    return editor


def test_n_then_escape_leaves_no_note(qtbot, window, built, runner) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(window, Qt.Key.Key_N)
    editor = _note_editor()
    assert window.notes.row_count() == 1
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.waveform.hasFocus())
    assert window.notes.row_count() == 0
    assert window.session.notes() == []
    qtbot.waitUntil(lambda: runner.pending_writes == 0)
    assert _stored_notes(built) == []


def test_escape_after_typing_a_new_note_removes_it_from_the_store_too(
    qtbot, window, built, runner
) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(window, Qt.Key.Key_N)
    editor = _note_editor()
    qtbot.keyClicks(editor, "half a thought")
    # The text is saved once typing pauses, before any Return.
    qtbot.waitUntil(lambda: bool(_stored_notes(built)), timeout=5_000)
    assert [t for _, t in _stored_notes(built)] == ["half a thought"]
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert window.notes.row_count() == 0
    qtbot.waitUntil(lambda: runner.pending_writes == 0)
    assert _stored_notes(built) == []


def test_note_text_is_saved_as_typed_without_return(qtbot, window, built, runner) -> None:  # type: ignore[no-untyped-def]
    window.player.seek(7_000)
    qtbot.keyClick(window, Qt.Key.Key_N)
    editor = _note_editor()
    qtbot.keyClicks(editor, "client goes quiet")
    qtbot.waitUntil(lambda: _stored_notes(built) == [(7_000, "client goes quiet")], timeout=5_000)
    assert editor.isVisible(), "the rater is still typing; the editor stays open"
    qtbot.keyClicks(editor, " again")
    qtbot.waitUntil(
        lambda: _stored_notes(built) == [(7_000, "client goes quiet again")], timeout=5_000
    )


def test_escape_on_an_existing_note_restores_its_text_and_emptying_deletes_it(
    qtbot, window, built, runner
) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(window, Qt.Key.Key_N)
    qtbot.keyClicks(_note_editor(), "kept note")
    qtbot.keyClick(_note_editor(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.waveform.hasFocus())
    table = window.notes.table
    index = window.notes.model.index(0, 1)

    table.setFocus()
    table.edit(index)
    editor = _note_editor()
    editor.selectAll()
    qtbot.keyClicks(editor, "rewritten")
    # The first save of "kept note" may still be queued on a busy machine: compare lists.
    qtbot.waitUntil(lambda: [t for _, t in _stored_notes(built)] == ["rewritten"], timeout=5_000)
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert [n.text for n in window.session.notes()] == ["kept note"]
    qtbot.waitUntil(lambda: runner.pending_writes == 0)
    assert [t for _, t in _stored_notes(built)] == ["kept note"]

    table.setFocus()
    table.edit(index)
    editor = _note_editor()
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    # Qt commits an item editor from the event loop.
    qtbot.waitUntil(lambda: window.notes.row_count() == 0)
    qtbot.waitUntil(lambda: runner.pending_writes == 0)
    assert _stored_notes(built) == []


def test_closing_the_window_while_typing_keeps_the_note(qtbot, make_window, built, runner) -> None:  # type: ignore[no-untyped-def]
    window = make_window(built)
    qtbot.keyClick(window, Qt.Key.Key_N)
    qtbot.keyClicks(_note_editor(), "typed just before closing")
    window.close()  # before the typing pause has passed
    assert [t for _, t in _stored_notes(built)] == ["typed just before closing"]


def test_ctrl_u_while_typing_a_note_opens_uncodable_and_keeps_the_note(
    qtbot, window, built, runner, dialogs
) -> None:  # type: ignore[no-untyped-def]
    # On X11 a line edit takes Ctrl+U as "erase the line": the typed note was wiped and,
    # emptied, deleted when Enter followed. The window's shortcut must win instead.
    from ui.coding_window import UncodableDialog

    qtbot.keyClick(window, Qt.Key.Key_N)
    editor = _note_editor()
    qtbot.keyClicks(editor, "client forgot the diary")
    qtbot.keyClick(editor, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: any(isinstance(d, UncodableDialog) for d in dialogs))
    dialog = next(d for d in dialogs if isinstance(d, UncodableDialog))
    qtbot.keyClick(dialog, Qt.Key.Key_Return)  # no reason chosen: nothing happens
    assert window.session.state != "uncodable"
    dialog.reject()
    qtbot.waitUntil(lambda: runner.pending_writes == 0)
    assert [t for _, t in _stored_notes(built)] == ["client forgot the diary"]
    assert [n.text for n in window.session.notes()] == ["client forgot the diary"]


def test_delete_removes_the_selected_note_while_the_keyboard_is_on_the_player(
    qtbot, window, built, runner
) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(window, Qt.Key.Key_Delete)  # nothing selected: said, nothing deleted
    assert "No note selected" in window.statusBar().currentMessage()
    for position, text in ((3_000, "first"), (9_000, "second")):
        window.player.seek(position)
        qtbot.keyClick(window, Qt.Key.Key_N)
        editor = _note_editor()
        qtbot.keyClicks(editor, text)
        qtbot.keyClick(editor, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: window.waveform.hasFocus())
    qtbot.waitUntil(lambda: len(_stored_notes(built)) == 2, timeout=5_000)
    # Click the first note (it seeks there), then the keyboard goes back to the player.
    rect = window.notes.table.visualRect(window.notes.model.index(0, 1))
    qtbot.mouseClick(window.notes.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    window.focus_home()
    assert window.waveform.hasFocus()
    qtbot.keyClick(window.waveform, Qt.Key.Key_Delete)
    assert [n.text for n in window.session.notes()] == ["second"]
    assert "Deleted the note at 0:03" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: runner.pending_writes == 0)
    assert _stored_notes(built) == [(9_000, "second")]
    # In the list itself the same key works (one action, no ambiguous shortcut).
    window.notes.table.setFocus()
    window.notes.table.selectRow(0)
    qtbot.keyClick(window.notes.table, Qt.Key.Key_Delete)
    assert window.session.notes() == []


def test_the_f1_overlay_lists_the_delete_note_key(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    assert window.keymap.keys_text("delete_note") == "Del"
    qtbot.keyClick(window, Qt.Key.Key_F1)
    texts = [w.text() for w in window.help_overlay.findChildren(type(window.state_label))]
    assert "Delete the selected note" in texts and "Del" in texts
