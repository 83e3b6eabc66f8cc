"""Coding a whole session with the keyboard alone, then reading the store back."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from coder.store.project import Project
from ui.dialogs import dialog_hub


def _type_note(qtbot, window, text: str) -> None:  # type: ignore[no-untyped-def]
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit), "N must put the cursor in the new note"
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    # Qt commits an item editor from the event loop; then the keys go back to the window.
    qtbot.waitUntil(lambda: window.waveform.hasFocus())


def test_code_a_whole_session_with_the_keyboard_alone(qtbot, window, built, runner):  # type: ignore[no-untyped-def]
    w, player = window, window.player
    coding_id = built.codings["S1"]
    qtbot.waitUntil(lambda: player.is_loaded and w.waveform.has_peaks(), timeout=10_000)

    # Play, skip forward 5 s twice, drop a note (its text has digits: they go into the note).
    qtbot.keyClick(w, Qt.Key.Key_Space)
    qtbot.waitUntil(player.is_playing)
    qtbot.keyClick(w, Qt.Key.Key_Right)
    qtbot.keyClick(w, Qt.Key.Key_Right)
    assert player.position() >= 10_000
    first_note_at = player.position()
    qtbot.keyClick(w, Qt.Key.Key_N)
    _type_note(qtbot, w, "client reports 3 attempts")
    assert player.is_playing(), "typing the note must not have touched playback"

    # Pause, jump 30 s on (Shift+Right), a second note.
    qtbot.keyClick(w, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not player.is_playing())
    qtbot.keyClick(w, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    second_note_at = player.position()
    assert second_note_at >= first_note_at + 30_000
    qtbot.keyClick(w, Qt.Key.Key_N)
    _type_note(qtbot, w, "homework assigned")

    # Back 5 s, then a 30-second span: M, six skips of 5 s, M.
    qtbot.keyClick(w, Qt.Key.Key_Left)
    span_start = player.position()
    qtbot.keyClick(w, Qt.Key.Key_M)
    for _ in range(6):
        qtbot.keyClick(w, Qt.Key.Key_Right)
    qtbot.keyClick(w, Qt.Key.Key_M)
    assert w.session.value("duration") == 30.0

    # Score the five behaviour items: 3 2 4 1 0 (Down moves to the next item).
    w.focus_home()
    qtbot.keyClick(w, Qt.Key.Key_Home)  # a key with no meaning for the items
    for _ in range(6):
        qtbot.keyClick(w, Qt.Key.Key_Up)
    for index, digit in enumerate((3, 2, 4, 1, 0)):
        assert w.scoring.current_index == index
        qtbot.keyClick(w, getattr(Qt.Key, f"Key_{digit}"))
        qtbot.keyClick(w, Qt.Key.Key_Down)
    assert w.scoring.current_item().id == "duration"

    # Submit: Ctrl+Enter, then Enter on the confirmation; Escape stays on the page.
    qtbot.keyClick(w, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    confirm = dialog_hub().last()
    assert confirm is not None and "Submit" in confirm.windowTitle()
    qtbot.keyClick(confirm, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.session.state == "submitted")
    done = dialog_hub().last()
    assert done is not None and done.windowTitle() == "Submitted"
    qtbot.keyClick(done, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: runner.pending_writes == 0)

    with Project.open(built.path) as fresh:
        state = fresh.rater_view("R1").coding(coding_id)
        history = fresh.history(coding_id=coding_id)
    assert state.state == "submitted"
    assert dict(state.values) == {
        "specification": 3.0,
        "rationale": 2.0,
        "troubleshooting": 4.0,
        "review": 1.0,
        "praise": 0.0,
        "duration": 30.0,
    }
    assert [(n.position_ms, n.text) for n in state.notes] == [
        (first_note_at, "client reports 3 attempts"),
        (second_note_at, "homework assigned"),
    ]
    assert [(s.item_id, s.start_ms, s.end_ms) for s in state.spans] == [
        ("duration", span_start, span_start + 30_000)
    ]
    actions = [(h.action, h.entity) for h in history]
    assert actions.count(("set", "rating")) == 6
    assert actions.count(("add", "note")) == 2
    # A note goes into the store with its text: never an empty insert edited later.
    assert actions.count(("edit", "note")) == 0
    assert ("add", "span") in actions and ("edit", "span") in actions
    assert ("submit", "coding") in actions
    assert all(h.actor == "R1" for h in history if h.action != "assign")
