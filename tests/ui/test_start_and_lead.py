"""Start: open a project (in a worker), say who you are, see only your queue; the lead's window."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from coder.store.project import LEAD, Project
from tests.ui.helpers import BuiltProject, build_project
from ui.app import AppController
from ui.settings import AppSettings


def _controller(qtbot) -> AppController:  # type: ignore[no-untyped-def]
    controller = AppController(AppSettings())
    qtbot.addWidget(controller.start_window)
    return controller


def test_a_rater_sees_only_their_own_queue_and_opens_a_session(qtbot, app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    built = build_project(tmp_path / "lab", sessions=2)
    with Project.open(built.path) as project:
        project.add_coding("S2", "R2", "thabs")  # another rater's work: never shown to R1
        project.rater_view("R1").set_value(built.codings["S2"], "praise", 2)
    controller = _controller(qtbot)
    start = controller.start_window
    try:
        controller.start(built.path)
        qtbot.waitUntil(lambda: start.who_list.count() == 3)  # R1, R2, Lab lead
        assert [start.who_list.item(i).text() for i in range(3)] == [
            "Rater R1",
            "Rater R2",
            "Lab lead",
        ]
        start.who_list.setCurrentRow(0)
        qtbot.keyClick(start.who_list, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: start.queue_model.rowCount() == 2)
        rows = [start.queue_model.row(r) for r in range(2)]
        assert rows == [
            (
                1,
                "S1",
                "THABS - Therapist Homework Adherence Behavior Scale",
                "not started",
                "0 / 6",
            ),
            (
                2,
                "S2",
                "THABS - Therapist Homework Adherence Behavior Scale",
                "in progress",
                "1 / 6",
            ),
        ]
        qtbot.keyClick(start.queue_table, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: controller.coding_window is not None)
        window = controller.coding_window
        assert window is not None and window.session.session_key == "S1"
        assert not start.isVisible()
        window.close()
        qtbot.waitUntil(lambda: start.isVisible() and controller.coding_window is None)
        assert AppSettings().last_project == built.path.resolve()
        assert AppSettings().last_rater == "R1"
    finally:
        controller.shutdown()


def test_the_last_project_opens_when_started_without_one(qtbot, app, built: BuiltProject) -> None:  # type: ignore[no-untyped-def]
    AppSettings().last_project = built.path
    controller = _controller(qtbot)
    try:
        controller.start(None)
        qtbot.waitUntil(lambda: controller.project is not None)
        assert "study" in controller.start_window.project_label.text()
    finally:
        controller.shutdown()


def test_a_project_that_cannot_be_opened_gets_a_message(qtbot, app, tmp_path, dialogs) -> None:  # type: ignore[no-untyped-def]
    bogus = tmp_path / "not-a-project.scproj"
    bogus.write_text("hello")
    controller = _controller(qtbot)
    try:
        controller.start(bogus)
        qtbot.waitUntil(lambda: bool(dialogs))
        assert "not a Session Coder project" in dialogs[-1].text()
        assert controller.project is None
        dialogs[-1].close()
    finally:
        controller.shutdown()


def test_the_lead_sees_progress_and_can_allow_reopening(qtbot, app, built: BuiltProject) -> None:  # type: ignore[no-untyped-def]
    coding = built.codings["S1"]
    with Project.open(built.path) as project:
        view = project.rater_view("R1")
        for item in view.coding(coding).scale.items:
            view.set_value(coding, item.id, 1)
        view.submit(coding)
    controller = _controller(qtbot)
    try:
        controller.start(built.path)
        qtbot.waitUntil(lambda: controller.project is not None)
        controller.choose_identity(LEAD)
        lead = controller.lead_window
        assert lead is not None and lead.tabs.tabText(0) == "Progress"
        tab = lead.progress_tab
        qtbot.waitUntil(lambda: tab.finished.rowCount() == 1)
        assert tab.by_scale.row(0) == ("thabs", 0, 0, 1, 0, 1)
        assert tab.by_rater.row(0) == ("R1", 0, 0, 1, 0, 1)
        from PySide6.QtWidgets import QLabel

        index = lead.add_tab("Extra", QLabel("later"))
        assert index == lead.tabs.count() - 1 and lead.tabs.tabText(index) == "Extra"
        tab.finished_table.selectRow(0)
        # Allowing reopening changes a coding: the tab reads the project again.
        with qtbot.waitSignal(tab.loaded, timeout=10_000):
            tab.reopen_button.click()
        qtbot.waitUntil(lambda: "can now change" in tab.reopen_status.text())
        assert "sessions" in tab.summary.text()  # the counts stay where they were
        with Project.open(built.path) as project:
            assert project.rater_view("R1").coding(coding).reopen_allowed
        lead.close()
    finally:
        controller.shutdown()


def test_run_gui_starts_on_the_given_project_with_a_calm_excepthook(built: BuiltProject) -> None:
    """``session-coder gui PROJECT`` in its own process: the start window lists the raters."""
    import os
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from ui.app import make_application, run_gui\n"
        "from ui.start_window import StartWindow\n"
        "app = make_application()\n"
        "def poll():\n"
        "    starts = [w for w in QApplication.topLevelWidgets() if isinstance(w, StartWindow)]\n"
        "    if starts and starts[0].who_list.count():\n"
        "        who = starts[0].who_list\n"
        "        print('WHO', [who.item(i).text() for i in range(who.count())])\n"
        "        print('HOOK', sys.excepthook.__module__)\n"
        "        app.quit()\n"
        "    else:\n"
        "        QTimer.singleShot(20, poll)\n"
        "QTimer.singleShot(0, poll)\n"
        "sys.exit(run_gui(Path(sys.argv[1])))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(built.path)],
        cwd=Path(__file__).parent.parent.parent,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "WHO ['Rater R1', 'Rater R2', 'Lab lead']" in out.stdout
    assert "HOOK ui.app" in out.stdout
    assert "Traceback" not in out.stderr
