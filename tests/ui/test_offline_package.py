"""An offline rater opens a package in the app, codes, and the lead merges it back."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from coder.packages import export_package, import_package
from coder.store.project import Project
from tests.ui.helpers import build_project
from ui.app import AppController
from ui.settings import AppSettings


def test_a_package_opens_for_its_rater_only_and_merges_back(qtbot, app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    built = build_project(tmp_path / "lab")
    package = tmp_path / "R1.scpkg"
    with Project.open(built.path) as project:
        export_package(project, "R1", package, with_audio=True)
    controller = AppController(AppSettings())
    qtbot.addWidget(controller.start_window)
    start = controller.start_window
    try:
        controller.start(package)
        qtbot.waitUntil(lambda: start.who_list.count() == 1, timeout=10_000)
        assert start.who_list.item(0).text() == "Rater R1"  # no other rater, no lead
        qtbot.keyClick(start.who_list, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: start.queue_model.rowCount() == 1, timeout=10_000)
        qtbot.keyClick(start.queue_table, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: controller.coding_window is not None, timeout=10_000)
        window = controller.coding_window
        assert window is not None
        qtbot.waitUntil(lambda: window.player.is_loaded, timeout=10_000)  # audio from the package
        qtbot.keyClick(window, Qt.Key.Key_3)  # the focused first item
        qtbot.waitUntil(lambda: controller.runner.pending_writes == 0, timeout=10_000)
        window.close()
        qtbot.waitUntil(lambda: controller.coding_window is None, timeout=10_000)
    finally:
        controller.shutdown()
    with Project.open(built.path) as project:
        report = import_package(project, package)
        assert report.conflicts == ()
        state = project.rater_view("R1").coding(built.codings["S1"])
        assert state.values["specification"] == 3
        assert any(h.actor == "R1" and h.field == "specification" for h in project.history())
