"""The app in lab mode: a rater's own login sees only that rater, never the lead's door;
the login dialog; and "Lab lead" is never preselected (issue 14)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from coder.store import credentials
from coder.store.project import LEAD, Project
from tests.ui.helpers import build_project
from ui.app import AppController
from ui.login_dialog import LoginDialog, LoginPrompter
from ui.settings import AppSettings


def _controller(qtbot) -> AppController:  # type: ignore[no-untyped-def]
    controller = AppController(AppSettings())
    qtbot.addWidget(controller.start_window)
    return controller


def _items(controller: AppController) -> list[str]:
    who = controller.start_window.who_list
    return [who.item(i).text() for i in range(who.count())]


def test_lab_lead_is_not_preselected_after_the_lead_used_it(qtbot, app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    built = build_project(tmp_path / "p")
    AppSettings().last_rater = LEAD
    controller = _controller(qtbot)
    try:
        controller.start(built.path)
        qtbot.waitUntil(lambda: controller.start_window.who_list.count() == 3)
        assert controller.start_window.who_list.currentItem().text() == "Rater R1"
        qtbot.keyClick(controller.start_window.who_list, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: controller.view is not None)
        assert controller.lead_window is None
    finally:
        controller.shutdown()


@pytest.mark.postgres
def test_a_raters_login_sees_only_that_rater_and_codes(  # type: ignore[no-untyped-def]
    qtbot, app, tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = build_project(tmp_path / "lab", sessions=2, db_url=pg_url)
    with Project.open(built.path) as project:
        other = project.add_coding("S1", "R2", "thabs", role="second")
        project.rater_view("R2").set_value(other, "praise", 4)
        rater = project.add_person(kind="rater", code="R1")
    monkeypatch.setenv(credentials.LOGIN_ENV, rater.login)
    controller = _controller(qtbot)
    start = controller.start_window
    try:
        controller.start(built.path)
        qtbot.waitUntil(lambda: start.who_list.count() >= 1)
        assert _items(controller) == ["Rater R1"]  # no R2, no "Lab lead"
        controller.open_lead_window()  # what a tampered start window could ask for
        assert controller.lead_window is None
        qtbot.keyClick(start.who_list, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: start.queue_model.rowCount() == 2)
        assert [start.queue_model.row(r)[1] for r in range(2)] == ["S1", "S2"]
        qtbot.keyClick(start.queue_table, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: controller.coding_window is not None, timeout=20_000)
        window = controller.coding_window
        assert window is not None and window.session.session_key == "S1"
        assert controller.view is not None
        controller.view.set_value(built.codings["S1"], "praise", 1)
        window.close()
        qtbot.waitUntil(lambda: controller.coding_window is None)
    finally:
        controller.shutdown()
    with Project.open(pg_url) as project:
        assert project.rater_view("R1").coding(built.codings["S1"]).values["praise"] == 1
        assert project.rater_view("R2").coding(other).values["praise"] == 4
        logins = {h.actor: h for h in project.history(coding_id=built.codings["S1"])}
        assert logins["R1"].action == "set"


def _answer_when_shown(qtbot, fill) -> QTimer:  # type: ignore[no-untyped-def]
    """Fill the login dialog from inside its own event loop (exec blocks the test)."""
    timer = QTimer()
    timer.setInterval(20)

    def check() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, LoginDialog):
            timer.stop()
            fill(dialog)

    timer.timeout.connect(check)
    timer.start()
    return timer


def test_the_login_dialog_answers_a_worker_thread(qtbot, app) -> None:  # type: ignore[no-untyped-def]
    prompter = LoginPrompter()
    request = credentials.LoginRequest("postgresql://lab.example:5432/study", "", True)
    answers: list[object] = []
    seen: list[LoginDialog] = []

    def fill(dialog: LoginDialog) -> None:
        seen.append(dialog)
        assert dialog.password_edit.echoMode() == dialog.password_edit.EchoMode.Password
        dialog.login_edit.setText("study_ak")
        dialog.password_edit.setText("s3cret-pw")
        dialog.accept()

    timer = _answer_when_shown(qtbot, fill)
    worker = threading.Thread(target=lambda: answers.append(prompter(request)))
    worker.start()
    qtbot.waitUntil(lambda: not worker.is_alive())
    assert answers == [("study_ak", "s3cret-pw")] and len(seen) == 1
    # Cancelled: no answer.
    timer = _answer_when_shown(qtbot, lambda dialog: dialog.reject())
    worker = threading.Thread(target=lambda: answers.append(prompter(request)))
    worker.start()
    qtbot.waitUntil(lambda: not worker.is_alive())
    assert answers[-1] is None
    timer.stop()


def test_the_lead_window_of_a_single_file_needs_its_passphrase(qtbot, app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    built = build_project(tmp_path / "p")
    with Project.open(built.path) as project:
        project.set_lead_passphrase("the lab's secret")
    controller = _controller(qtbot)
    start = controller.start_window
    try:
        controller.start(built.path)
        qtbot.waitUntil(lambda: start.who_list.count() == 3)
        assert "not a determined reader" in start.blinding_label.text()
        assert "lab mode" in start.blinding_label.text()
        controller.choose_identity(LEAD)
        dialog = controller.passphrase_dialog
        assert dialog is not None and controller.lead_window is None
        dialog.passphrase_edit.setText("a guess")
        dialog.accept()
        assert controller.lead_window is None
        assert "not the lead passphrase" in start.status_label.text()
        controller.choose_identity(LEAD)
        dialog = controller.passphrase_dialog
        assert dialog is not None
        dialog.passphrase_edit.setText("the lab's secret")
        dialog.accept()
        assert controller.lead_window is not None
    finally:
        controller.shutdown()
