"""The coding window in the workstation: the session's offset, a short recording,
leaving the window only after a confirmation (recorded), notes outside it flagged
(issue 13, item 7)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from coder.importer import import_manifest
from coder.store.project import Project
from tests.ui.helpers import BuiltProject, build_project
from ui.notes_panel import OUTSIDE_MARK


def _resistance_with_offset(folder: Path, offset: str) -> BuiltProject:
    """Resistance (5:00-20:00 of session 1) on a 30-second recording, shifted by ``offset``."""
    built = build_project(folder, scale_id="resistance", seconds=30, session_number=1)
    manifest = built.path.parent / "manifest.csv"
    lines = manifest.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",window_offset", *(line + f",{offset}" for line in lines[1:])]
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Project.open(built.path) as project:
        report = import_manifest(project, manifest)
        assert not report.problems and report.updated == 1
    return built


def _answer(qtbot, dialogs, text: str) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: any(isinstance(d, QMessageBox) and d.isVisible() for d in dialogs))
    box = next(d for d in reversed(dialogs) if isinstance(d, QMessageBox) and d.isVisible())
    assert box.windowTitle() == "Listen outside the coding window?"
    button = next(b for b in box.buttons() if b.text() == text)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _window_history(built: BuiltProject) -> list[tuple[str, int]]:
    with Project.open(built.path) as project:
        return [
            (h.action, h.new["position_ms"])
            for h in project.history(coding_id=built.codings["S1"])
            if h.field == "window"
        ]


def test_leaving_the_window_is_confirmed_and_recorded(
    qtbot, make_window, dialogs, runner, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    built = _resistance_with_offset(tmp_path / "lab", "-4:50")
    window = make_window(built)
    # The scale's 5:00-20:00 moved by -4:50: 0:10-15:10 in this recording.
    assert window.player.window() == (10_000, 910_000)
    assert window.player.stays_in_window()
    # The recording (0:30) ends long before the window: the rater is told.
    assert window.window_notice.isVisible()
    assert window.window_notice.text() == (
        "Short recording: ends at 0:30, the coding window at 15:10"
    )
    assert "only 0:20 of its 15:00 can be coded" in window.window_notice.toolTip()

    window.player.seek(12_000)
    qtbot.keyClick(window, Qt.Key.Key_W)
    _answer(qtbot, dialogs, "Stay inside")
    assert window.player.stays_in_window(), "declining keeps the rater inside"

    qtbot.keyClick(window, Qt.Key.Key_W)
    _answer(qtbot, dialogs, "Listen outside")
    qtbot.waitUntil(lambda: not window.player.stays_in_window())
    window.player.seek(2_000)  # outside the window: allowed now
    assert window.player.position() == 2_000
    qtbot.keyClick(window, Qt.Key.Key_W)  # back inside: no question, but recorded
    assert window.player.stays_in_window()
    assert window.player.position() == 10_000
    qtbot.waitUntil(lambda: runner.pending_writes == 0)
    assert _window_history(built) == [("leave_window", 12_000), ("return_to_window", 10_000)]


def test_the_stay_box_asks_too_and_notes_outside_are_flagged(
    qtbot, make_window, dialogs, runner, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    built = _resistance_with_offset(tmp_path / "lab", "-295")
    window = make_window(built)
    assert window.player.window() == (5_000, 905_000)
    window.player.seek(6_000)
    window.transport.stay_box.click()
    assert window.transport.stay_box.isChecked(), "the box waits for the answer"
    _answer(qtbot, dialogs, "Listen outside")
    qtbot.waitUntil(lambda: not window.transport.stay_box.isChecked())

    window.notes.add_note_at(1_000)
    window.session.update_note(window.session.notes()[0].id, text="before the window")
    window.notes.add_note_at(6_000)
    window.session.update_note(window.session.notes()[1].id, text="inside")
    model = window.notes.model
    assert [model.is_outside_window(r) for r in range(model.rowCount())] == [True, False]
    assert model.index(0, 0).data() == f"0:01 {OUTSIDE_MARK}"
    assert model.index(1, 0).data() == "0:06"
    qtbot.waitUntil(lambda: runner.pending_writes == 0)
    assert _window_history(built) == [("leave_window", 6_000)]
