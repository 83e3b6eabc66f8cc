"""The lead's window: its tabs, and listening to a session from the discrepancy list."""

from __future__ import annotations

from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QTableView

from coder.store.project import Project
from tests.ui.helpers import BuiltProject
from ui.lead_window import LeadWindow
from ui.tasks import TaskRunner


def test_lead_window_has_every_tab_and_opens_a_listening_window(
    qtbot,
    runner: TaskRunner,
    built: BuiltProject,  # type: ignore[no-untyped-def]
) -> None:
    project = Project.open(built.path)
    try:
        window = LeadWindow(project, runner)
        qtbot.addWidget(window)
        titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
        assert titles == [
            "Progress",
            "Plans",
            "Pools",
            "Reliability",
            "Exports",
            "Packages",
            "Certification",
            "Prepared fields",
        ]

        window.reliability_panel.open_session_requested.emit("S1", 30_000)
        assert len(window.listen_windows) == 1
        listen = window.listen_windows[0]
        qtbot.addWidget(listen)
        qtbot.waitUntil(lambda: listen.player.is_loaded, timeout=10_000)
        qtbot.waitUntil(lambda: listen.waveform.has_peaks(), timeout=10_000)
        qtbot.waitUntil(lambda: abs(listen.player.position() - 30_000) < 200, timeout=10_000)
        assert "read-only" in listen.status.text()

        window.reliability_panel.open_session_requested.emit("NOPE", 0)
        missing = window.listen_windows[1]
        qtbot.addWidget(missing)
        qtbot.waitUntil(lambda: "not available" in missing.status.text(), timeout=10_000)
        window.close()
        assert not listen.isVisible()
    finally:
        runner.wait_for_writes()
        project.close()


def test_the_lead_window_and_its_dialogs_query_the_database_only_in_workers(
    qtbot,
    runner: TaskRunner,
    built: BuiltProject,
    gui_queries,  # type: ignore[no-untyped-def]
) -> None:
    """Issue 9: a query on the GUI thread freezes the window while the database is slow."""
    project = Project.open(built.path)
    try:
        window = LeadWindow(project, runner)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        assert project.name in window.windowTitle()
        qtbot.waitUntil(lambda: "sessions" in window.progress_tab.summary.text(), timeout=10_000)
        qtbot.waitUntil(lambda: window.certification_tab.scale_combo.count() == 1, timeout=10_000)
        window.exports_tab.export_button.click()
        export = window.exports_tab.dialog
        qtbot.waitUntil(lambda: export.scale_box.count() == 2, timeout=10_000)
        assert export.scale_box.itemData(1) == "thabs"
        export.reject()
        window.progress_tab.import_button.click()
        window.progress_tab.import_dialog.reject()
        runner.wait_for_writes()
        qtbot.waitUntil(lambda: runner.pending_writes == 0)
        assert gui_queries.queries == []
        window.close()
    finally:
        runner.wait_for_writes()
        project.close()


def test_the_export_button_is_a_normal_button_at_the_right_not_a_bar(
    qtbot,
    runner: TaskRunner,
    built: BuiltProject,  # type: ignore[no-untyped-def]
) -> None:
    project = Project.open(built.path)
    try:
        window = LeadWindow(project, runner)
        qtbot.addWidget(window)
        window.resize(1366, 768)
        window.show()
        window.tabs.setCurrentWidget(window.exports_tab)
        qtbot.waitUntil(lambda: window.exports_tab.export_button.isVisible())
        button = window.exports_tab.export_button
        tab = window.exports_tab
        assert button.width() < tab.width() / 4
        # Aligned right: its right edge near the tab's, its left edge far from the tab's.
        assert button.geometry().right() > tab.width() - 40
        assert button.geometry().left() > tab.width() / 2
    finally:
        project.close()


def test_at_1366x768_the_progress_tabs_scale_names_are_not_truncated(
    qtbot,
    app,
    runner: TaskRunner,
    built: BuiltProject,  # type: ignore[no-untyped-def]
) -> None:
    font = app.font()
    font.setPointSizeF(font.pointSizeF() * 1.5)  # a desktop with a large font
    app.setFont(font)
    project = Project.open(built.path)
    try:
        window = LeadWindow(project, runner)
        qtbot.addWidget(window)
        with qtbot.waitSignal(window.progress_tab.loaded, timeout=10_000):
            pass
        window.resize(1366, 768)
        window.show()
        app.processEvents()
        model = window.progress_tab.by_scale
        table = next(t for t in window.progress_tab.findChildren(QTableView) if t.model() is model)
        assert model.rowCount() > 0
        metrics = QFontMetrics(table.font())
        # The scale ids shown, and the example of a truncated one.
        names = [str(model.index(row, 0).data()) for row in range(model.rowCount())]
        for name in [*names, "hw_adherence"]:
            assert metrics.horizontalAdvance(name) + 8 <= table.columnWidth(0), name
    finally:
        font.setPointSizeF(font.pointSizeF() / 1.5)
        app.setFont(font)
        project.close()
