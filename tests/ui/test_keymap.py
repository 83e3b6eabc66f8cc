"""The keyboard map: window-wide keys, typing wins in text fields, keys can be changed."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPlainTextEdit

from coder.store.project import Project
from tests.ui.helpers import build_project
from ui.keymap import ACTIONS, KeymapDialog
from ui.settings import AppSettings


def test_every_action_has_a_key_and_no_key_is_used_twice(window) -> None:  # type: ignore[no-untyped-def]
    keys = {spec.id: window.keymap.keys_text(spec.id) for spec in ACTIONS}
    assert all(keys.values())
    assert window.keymap.conflicts(keys) == []
    assert set(window.actions_by_id) == {spec.id for spec in ACTIONS}


def test_keys_work_wherever_the_focus_is_but_not_inside_a_text_field(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: window.player.is_loaded)
    window.notes.table.setFocus()  # a pedal press while the notes list has the focus
    qtbot.keyClick(window.notes.table, Qt.Key.Key_Right)
    assert window.player.position() == 5_000
    field = window.transport.jump_field
    field.setFocus()
    qtbot.keyClicks(field, "1 2")  # digits and Space go into the field
    assert field.text() == "1 2" and not window.player.is_playing()
    assert window.session.value("specification") is None
    qtbot.keyClick(field, Qt.Key.Key_Escape)
    assert window.waveform.hasFocus()
    qtbot.keyClick(window, Qt.Key.Key_2)
    assert window.session.value("specification") == 2.0


def test_changed_keys_are_stored_and_used_at_once(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    window.keymap.apply({"add_note": "F9", "play_pause": "Space; F8"})
    assert AppSettings().shortcut("add_note") == "F9"
    assert AppSettings().shortcut("play_pause") == "Space; F8"
    qtbot.keyClick(window, Qt.Key.Key_N)
    assert window.notes.row_count() == 0
    qtbot.keyClick(window, Qt.Key.Key_F9)
    assert window.notes.row_count() == 1
    window.focus_home()
    window.keymap.apply({"add_note": "N"})  # back to the default: stored as no entry
    assert AppSettings().shortcut("add_note") is None


def test_the_keymap_dialog_refuses_a_key_given_twice(qtbot, window, dialogs) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    dialog = next(d for d in dialogs if isinstance(d, KeymapDialog))
    row = [spec.id for spec in ACTIONS].index("add_note")
    dialog.table.item(row, 1).setText("Space")
    dialog.accept()
    assert dialog.isVisible() and "Space is used by both" in dialog.problem.text()
    dialog.table.item(row, 1).setText("Ctrl+Shift+N")
    dialog.accept()
    assert not dialog.isVisible()
    assert window.actions_by_id["add_note"].shortcut().toString() == "Ctrl+Shift+N"


def test_the_help_overlay_lists_the_keys_and_any_key_closes_it(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(window, Qt.Key.Key_F1)
    overlay = window.help_overlay
    assert overlay.isVisible()
    texts = " ".join(w.text() for w in overlay.findChildren(type(window.state_label)))
    assert "Play / pause" in texts and "Note at the playhead" in texts and "Ctrl+Return" in texts
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)
    assert not overlay.isVisible() and not window.player.is_playing()


def test_text_items_keep_digits_and_save_after_a_pause(qtbot, make_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    built = build_project(tmp_path / "ghes", scale_id="ghes")
    window = make_window(built)
    widget = next(w for w in window.scoring.items if w.item.kind == "text")
    field = widget.findChild(QPlainTextEdit)
    field.setFocus()
    qtbot.keyClicks(field, "did 3 of 4 worksheets")
    item_id = widget.item.id
    assert window.session.text(item_id) == ""  # not yet: saved 500 ms after typing stops
    qtbot.waitUntil(lambda: window.session.text(item_id) == "did 3 of 4 worksheets", timeout=2000)
    assert all(v is None for v in window.session.values().values())
    qtbot.keyClick(field, Qt.Key.Key_Escape)
    assert window.waveform.hasFocus()
    qtbot.waitUntil(lambda: window.runner.pending_writes == 0)
    with Project.open(built.path) as project:
        texts = project.rater_view("R1").coding(built.codings["S1"]).texts
    assert texts[item_id] == "did 3 of 4 worksheets"


def test_the_help_overlay_says_how_long_a_skip_is(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    window.settings.skip_s = 3.5
    window.settings.long_skip_s = 12
    qtbot.keyClick(window, Qt.Key.Key_F1)
    overlay = window.help_overlay
    texts = [w.text() for w in overlay.findChildren(type(window.state_label))]
    assert "Skip back (3.5 s)" in texts and "Skip forward (3.5 s)" in texts
    assert "Skip back (long) (12 s)" in texts and "Skip forward (long) (12 s)" in texts
