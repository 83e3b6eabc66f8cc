"""The start window: Enter keeps working after a dialog; the queue hides finished work."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from coder.planning import PlanRequest, plan_and_save
from coder.scales import load_builtin_scale
from coder.store.project import Project
from tests.ui.helpers import build_project
from ui.app import AppController
from ui.dialogs import show_error
from ui.settings import AppSettings


def _controller(qtbot) -> AppController:  # type: ignore[no-untyped-def]
    controller = AppController(AppSettings())
    qtbot.addWidget(controller.start_window)
    return controller


def _active(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def test_enter_works_after_cancelling_open_project_and_after_a_message(
    qtbot, app, tmp_path: Path, dialogs
) -> None:  # type: ignore[no-untyped-def]
    built = build_project(tmp_path / "lab", sessions=2)
    controller = _controller(qtbot)
    start = controller.start_window
    try:
        controller.start(built.path)
        qtbot.waitUntil(lambda: start.who_list.count() == 3)
        _active(qtbot, start)
        qtbot.mouseClick(start.open_button, Qt.MouseButton.LeftButton)
        chooser = next(d for d in dialogs if isinstance(d, QFileDialog))
        assert start.focusWidget() is start.open_button  # the click took the keyboard
        chooser.reject()  # "Cancel"
        _active(qtbot, start)
        qtbot.waitUntil(lambda: start.who_list.hasFocus())
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: start.queue_model.rowCount() == 2)
        assert start.queue_table.hasFocus()
        # A message on the queue page: once it is closed, the keyboard is on the queue.
        show_error(start, RuntimeError("disk went away"))
        box = next(d for d in reversed(dialogs) if isinstance(d, QMessageBox))
        box.buttons()[0].click()
        _active(qtbot, start)
        qtbot.waitUntil(lambda: start.queue_table.hasFocus())
        # Enter on a button that took the focus (a main window has no default button)
        # does what the page's default button does: open the selected session.
        refresh = next(
            b for b in start.findChildren(type(start.open_button)) if b.text() == "Refresh"
        )
        refresh.setFocus()
        qtbot.keyClick(refresh, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: controller.coding_window is not None)
        assert controller.coding_window is not None
        assert controller.coding_window.session.session_key == "S1"
        controller.coding_window.close()
        qtbot.waitUntil(lambda: controller.coding_window is None and start.isVisible())
    finally:
        controller.shutdown()


def _numbers_and_keys(start) -> list[tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    return [
        (row[0], row[1], row[3])
        for row in (start.queue_model.row(r) for r in range(start.queue_model.rowCount()))
    ]


def test_the_queue_keeps_its_order_and_can_hide_finished_work(qtbot, app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    built = build_project(tmp_path / "lab", sessions=3)
    with Project.open(built.path) as project:
        project.rater_view("R1").set_uncodable(built.codings["S2"], "Audio failure")
    controller = _controller(qtbot)
    start = controller.start_window
    try:
        controller.start(built.path)
        qtbot.waitUntil(lambda: start.who_list.count() == 3)
        start.who_list.setCurrentRow(0)
        qtbot.keyClick(start.who_list, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: start.queue_model.rowCount() == 3)
        before = _numbers_and_keys(start)
        assert before == [
            (1, "S1", "not started"),
            (2, "S2", "uncodable"),
            (3, "S3", "not started"),
        ]
        # The lead saves a plan of another scale meanwhile: it goes after this work.
        with Project.open(built.path) as project:
            project.add_scale(load_builtin_scale("sthar"))
            plan_and_save(
                project,
                PlanRequest(scale_id="sthar", raters=("R1",), double=0, stratify=(), seed=3),
            )
        refresh = next(
            b for b in start.findChildren(type(start.open_button)) if b.text() == "Refresh"
        )
        qtbot.mouseClick(refresh, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: start.queue_model.rowCount() == 6)
        after = _numbers_and_keys(start)
        assert after[:3] == before
        assert [n for n, _key, _state in after[3:]] == [4, 5, 6]
        # Hide finished: the uncodable S2 goes, the numbers stay those of the queue.
        assert not start.hide_finished_check.isChecked()
        qtbot.mouseClick(start.hide_finished_check, Qt.MouseButton.LeftButton)
        assert [n for n, _key, _state in _numbers_and_keys(start)] == [1, 3, 4, 5, 6]
        assert "1 of 6 finished (hidden)" in start.queue_status.text()
        assert AppSettings().hide_finished is True
    finally:
        controller.shutdown()
    # Remembered: the next start window hides finished work from the start.
    again = _controller(qtbot)
    try:
        assert again.start_window.hide_finished_check.isChecked()
    finally:
        again.shutdown()
