"""The workstation on a laptop screen: it fits, its save state shows, it resumes, it warns."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtMultimedia import QMediaDevices
from PySide6.QtWidgets import QWidget

from coder.store.project import Project
from tests.ui.helpers import build_project
from ui.coding_window import UncodableDialog

# 1366x768 minus a title bar (~30 px) and a taskbar (~40 px).
USABLE_WIDTH, USABLE_HEIGHT = 1366, 700


def _inside(widget: QWidget, window: QWidget) -> bool:
    top_left = widget.mapTo(window, QPoint(0, 0))
    return window.rect().contains(QRect(top_left, widget.size()))


@pytest.mark.parametrize("scale_id", ["ghes", "sthar", "thabs", "resistance", "hw_adherence"])
def test_the_window_fits_a_laptop_screen_with_the_biggest_scales(
    qtbot, make_window, tmp_path: Path, scale_id: str
) -> None:  # type: ignore[no-untyped-def]
    window = make_window(build_project(tmp_path / scale_id, scale_id=scale_id, seconds=5))
    for hint in (window.minimumSizeHint(), window.sizeHint()):
        assert hint.width() <= USABLE_WIDTH and hint.height() <= USABLE_HEIGHT, (scale_id, hint)
    window.resize(USABLE_WIDTH, USABLE_HEIGHT)
    qtbot.waitUntil(lambda: window.height() == USABLE_HEIGHT)
    for widget in (
        window.scoring.submit_button,
        window.scoring.save_state,
        window.statusBar(),
        window.notes.table,
        window.transport.play_button,
    ):
        assert widget.isVisible() and _inside(widget, window), widget


def test_the_save_state_is_beside_submit_and_visible_after_a_write(qtbot, window, runner) -> None:  # type: ignore[no-untyped-def]
    window.resize(USABLE_WIDTH, USABLE_HEIGHT)
    qtbot.waitUntil(lambda: window.height() == USABLE_HEIGHT)
    label = window.save_label
    assert window.scoring.isAncestorOf(label), "the save state belongs where the rater looks"
    with qtbot.waitSignal(runner.writes_idle):
        qtbot.keyClick(window, Qt.Key.Key_2)
    assert label.text() == "All changes saved"
    assert label.isVisible() and _inside(label, window)


def test_fit_to_screen_leaves_room_for_the_title_bar(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    window.fit_to_screen()
    available = window.screen().availableGeometry()
    assert window.width() <= max(available.width(), window.minimumSizeHint().width())
    assert window.height() <= max(available.height() - 30, window.minimumSizeHint().height())


def test_reopening_a_coding_selects_the_first_unscored_item(
    qtbot, make_window, built, runner
) -> None:  # type: ignore[no-untyped-def]
    with Project.open(built.path) as project:
        view = project.rater_view("R1")
        for item_id in ("specification", "rationale"):
            view.set_value(built.codings["S1"], item_id, 3)
    window = make_window(built)
    assert window.scoring.current_index == 2
    assert window.scoring.current_item().id == "troubleshooting"


def test_ctrl_u_then_enter_does_not_mark_the_coding_uncodable(qtbot, window, dialogs) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(window, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    dialog = next(d for d in dialogs if isinstance(d, UncodableDialog))
    assert dialog.reason.currentIndex() == -1, "no reason may be chosen in advance"
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Enter)
    assert window.session.state == "not_started"
    assert dialog.isVisible()

    dialog.reason.setCurrentText("Other")
    assert not dialog.ok_button.isEnabled(), "“Other” needs a few words"
    qtbot.keyClicks(dialog.text, "tape runs backwards")
    assert dialog.ok_button.isEnabled()
    dialog.text.clear()
    dialog.reason.setCurrentText("Audio failure")
    assert dialog.ok_button.isEnabled()
    qtbot.keyClick(dialog, Qt.Key.Key_Return)  # a complete choice: Enter confirms
    qtbot.waitUntil(lambda: window.session.state == "uncodable")
    assert window.session.uncodable_reason == "Audio failure"


def test_no_sound_output_is_said_calmly_in_the_window(window) -> None:  # type: ignore[no-untyped-def]
    # The test machines have no sound device, like a lab PC without headphones plugged
    # in; on a desk with speakers the notice must stay hidden instead.
    silent = not QMediaDevices.audioOutputs()
    notice = window.audio_notice
    assert notice.isVisible() is silent
    if silent:
        assert _inside(notice, window)
    assert "No sound output" in notice.text() and "headphones" in notice.text()


def test_the_uncodable_dialog_has_room_for_its_title_and_placeholder(qtbot, app) -> None:  # type: ignore[no-untyped-def]
    dialog = UncodableDialog(("Audio unusable", "Other"))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    metrics = QFontMetrics(dialog.text.font())
    placeholder = dialog.text.placeholderText()
    # The line edit's frame and text margins take a few pixels either side.
    assert dialog.text.width() >= metrics.horizontalAdvance(placeholder) + 12
    title = QFontMetrics(dialog.font()).horizontalAdvance(dialog.windowTitle())
    assert dialog.width() >= title + 120  # the title bar's icon and buttons beside it
