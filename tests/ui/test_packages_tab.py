"""The lead's Packages tab: export a rater's package with progress and Cancel, import it
back, and resolve each conflict side by side, all from the lead window (issue 15)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from coder.packages import export_package, list_packages, open_package, package_conflicts
from coder.store.project import Project
from tests.ui.helpers import BuiltProject
from ui.lead_window import LeadWindow
from ui.packages_tab import (
    ConflictDialog,
    PackageExportDialog,
    PackageImportDialog,
    PackagesTab,
)
from ui.tasks import TaskRunner


@pytest.fixture
def lead(qtbot, runner: TaskRunner, built: BuiltProject) -> Iterator[LeadWindow]:  # type: ignore[no-untyped-def]
    project = Project.open(built.path)
    window = LeadWindow(project, runner)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    bar = window.tabs.tabBar()
    index = next(i for i in range(window.tabs.count()) if window.tabs.tabText(i) == "Packages")
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert window.tabs.currentWidget() is window.packages_tab
    try:
        yield window
    finally:
        window.close()
        runner.wait_for_writes()
        qtbot.waitUntil(lambda: runner.pending_writes == 0)
        project.close()


def _click(qtbot, widget) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def _export_dialog(qtbot, tab: PackagesTab) -> PackageExportDialog:  # type: ignore[no-untyped-def]
    _click(qtbot, tab.export_button)
    dialog = tab.dialog
    assert isinstance(dialog, PackageExportDialog)
    qtbot.waitUntil(lambda: dialog.rater_combo.count() == 2, timeout=10_000)
    return dialog


@contextmanager
def _storage_held(runner: TaskRunner) -> Iterator[None]:
    """Keep the one storage worker busy inside the block: a job started there waits."""
    release = threading.Event()
    runner.write(release.wait)
    try:
        yield
    finally:
        release.set()


def test_export_a_raters_package_with_progress(qtbot, lead: LeadWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tab = lead.packages_tab
    dialog = _export_dialog(qtbot, tab)
    assert [dialog.rater_combo.itemText(i) for i in range(2)] == ["R1", "R2"]
    qtbot.keyClicks(dialog.rater_combo, "R1")
    assert dialog.rater_combo.currentText() == "R1"
    _click(qtbot, dialog.audio_check)
    assert dialog.audio_check.isChecked()
    # Without a file name nothing starts, and the dialog says why.
    _click(qtbot, dialog.start_button)
    assert "where to save" in dialog.status.text() and not dialog.running
    out = tmp_path / "R1.scpkg"
    qtbot.keyClicks(dialog.path_edit, str(out))
    shown: list[int] = []
    dialog.progress.valueChanged.connect(shown.append)
    with qtbot.waitSignal(dialog.exported, timeout=30_000) as blocker:
        _click(qtbot, dialog.start_button)
        assert dialog.running and not dialog.start_button.isEnabled()
    manifest = blocker.args[0]
    assert manifest.rater == "R1" and manifest.with_audio and out.is_file()
    assert "Wrote R1.scpkg: 1 coding(s) of R1 with the recordings." == dialog.status.text()
    # The bar moved through the job (not just 0 then 100) and ended full.
    assert any(0 < v < 100 for v in shown) and shown[-1] == 100 and shown == sorted(shown)
    assert dialog.cancel_button.text() == "Close"
    # The broadcast refreshed the tab's list.
    qtbot.waitUntil(lambda: tab.packages_model.rowCount() == 1, timeout=10_000)
    assert tab.packages_model.row(0)[0] == "R1" and tab.packages_model.row(0)[3] == "yes"
    _click(qtbot, dialog.cancel_button)
    assert not dialog.isVisible()


def test_cancel_stops_an_export_and_leaves_no_file(  # type: ignore[no-untyped-def]
    qtbot, lead: LeadWindow, runner: TaskRunner, tmp_path: Path
) -> None:
    tab = lead.packages_tab
    dialog = _export_dialog(qtbot, tab)
    out = tmp_path / "R1.scpkg"
    qtbot.keyClicks(dialog.path_edit, str(out))
    _click(qtbot, dialog.audio_check)
    with _storage_held(runner):  # the export waits behind another write
        _click(qtbot, dialog.start_button)
        assert dialog.running
        _click(qtbot, dialog.cancel_button)  # Cancel while it runs: stop, do not close
        assert dialog.isVisible() and dialog.status.text() == "Cancelling …"
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    assert dialog.status.text() == (f"The export was cancelled; no package was written to {out}")
    assert list(tmp_path.iterdir()) == [tmp_path / "lab"]  # no file, no temporary file
    assert dialog.start_button.isEnabled() and dialog.path_edit.isEnabled()
    with Project.open(lead.project.store.location.path) as again:  # type: ignore[arg-type]
        assert list_packages(again) == []
    # Escape closes the dialog once nothing runs.
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def _import(qtbot, tab: PackagesTab, package: Path) -> PackageImportDialog:  # type: ignore[no-untyped-def]
    _click(qtbot, tab.import_button)
    dialog = tab.dialog
    assert isinstance(dialog, PackageImportDialog)
    qtbot.keyClicks(dialog.path_edit, str(package))
    return dialog


def test_import_a_package_and_resolve_its_conflicts_side_by_side(  # type: ignore[no-untyped-def]
    qtbot, lead: LeadWindow, built: BuiltProject, tmp_path: Path, dialogs, gui_queries
) -> None:
    tab = lead.packages_tab
    package = tmp_path / "R1.scpkg"
    coding = built.codings["S1"]
    with gui_queries.allowed(), Project.open(built.path) as project:
        export_package(project, "R1", package)
    with open_package(package) as offline:  # R1 codes at home
        offline.view.set_value(coding, "specification", 2)
        offline.view.set_value(coding, "specification", 3)
        offline.view.set_value(coding, "rationale", 4)
    with gui_queries.allowed():  # meanwhile, in the project
        lead.project.rater_view("R1").set_value(coding, "specification", 1)

    dialog = _import(qtbot, tab, package)
    with qtbot.waitSignal(dialog.imported, timeout=30_000):
        _click(qtbot, dialog.start_button)
    assert dialog.status.text().startswith("R1's package: merged 1 ratings.")
    assert "1 conflict(s) left for you" in dialog.status.text()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)

    qtbot.waitUntil(lambda: tab.conflicts_model.rowCount() == 1, timeout=10_000)
    assert tab.conflicts_model.row(0) == ("R1", "S1", "thabs", "score", "specification", "1", "3")
    assert tab.conflicts_title.text() == "<b>Open conflicts</b> (1)"
    assert not tab.resolve_button.isEnabled()
    rect = tab.conflicts_table.visualRect(tab.conflicts_model.index(0, 0))
    qtbot.mouseClick(tab.conflicts_table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert tab.resolve_button.isEnabled()
    _click(qtbot, tab.resolve_button)
    qtbot.waitUntil(lambda: any(isinstance(d, ConflictDialog) for d in dialogs), timeout=10_000)
    conflict = next(d for d in dialogs if isinstance(d, ConflictDialog))
    # Both values, side by side, each with its own history.
    assert (conflict.project_value.text(), conflict.package_value.text()) == ("1", "3")
    project_lines = [conflict.project_history.item(i).text() for i in range(1)]
    assert conflict.project_history.count() == 1 and "R1  set: (none) → 1" in project_lines[0]
    package_lines = [
        conflict.package_history.item(i).text() for i in range(conflict.package_history.count())
    ]
    assert [line.split("  ", 2)[2] for line in package_lines] == [
        "set: (none) → 2",
        "set: 2 → 3",
    ]
    left = conflict.project_box.geometry()
    right = conflict.package_box.geometry()
    assert left.right() < right.left() and left.top() == right.top()  # side by side
    with qtbot.waitSignal(tab.conflict_resolved, timeout=10_000):
        _click(qtbot, conflict.take_button)
    qtbot.waitUntil(lambda: tab.conflicts_model.rowCount() == 0, timeout=10_000)
    assert tab.conflicts_title.text() == "<b>Open conflicts</b> (0)"
    with gui_queries.allowed():
        state = lead.project.rater_view("R1").coding(coding)
        assert state.values["specification"] == 3 and state.values["rationale"] == 4
        assert package_conflicts(lead.project) == []
        resolve = [h for h in lead.project.history() if h.action == "resolve"]
        assert [h.new for h in resolve] == [{"take": "package"}]


def test_keep_the_projects_value_of_a_double_clicked_conflict(  # type: ignore[no-untyped-def]
    qtbot, lead: LeadWindow, built: BuiltProject, tmp_path: Path, dialogs, gui_queries
) -> None:
    tab = lead.packages_tab
    package = tmp_path / "R1.scpkg"
    coding = built.codings["S1"]
    with gui_queries.allowed(), Project.open(built.path) as project:
        export_package(project, "R1", package)
    with open_package(package) as offline:
        offline.view.set_value(coding, "praise", 4)
    with gui_queries.allowed():
        lead.project.rater_view("R1").set_value(coding, "praise", 0)
    dialog = _import(qtbot, tab, package)
    with qtbot.waitSignal(dialog.imported, timeout=30_000):
        qtbot.keyClick(dialog.path_edit, Qt.Key.Key_Return)  # Enter starts the import
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: tab.conflicts_model.rowCount() == 1, timeout=10_000)
    tab.conflicts_table.setFocus()
    qtbot.keyClick(tab.conflicts_table, Qt.Key.Key_Down)
    assert tab.current_conflict() is not None
    # A double-click is a press and release, then the double-click event.
    where = tab.conflicts_table.visualRect(tab.conflicts_model.index(0, 0)).center()
    viewport = tab.conflicts_table.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=where)
    qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=where)
    qtbot.waitUntil(lambda: any(isinstance(d, ConflictDialog) for d in dialogs), timeout=10_000)
    conflict = next(d for d in dialogs if isinstance(d, ConflictDialog))
    conflict.keep_button.setFocus()
    with qtbot.waitSignal(tab.conflict_resolved, timeout=10_000):
        qtbot.keyClick(conflict.keep_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: tab.conflicts_model.rowCount() == 0, timeout=10_000)
    with gui_queries.allowed():
        assert lead.project.rater_view("R1").coding(coding).values["praise"] == 0


def test_cancel_stops_an_import_before_anything_is_merged(  # type: ignore[no-untyped-def]
    qtbot, lead: LeadWindow, built: BuiltProject, runner: TaskRunner, tmp_path: Path, gui_queries
) -> None:
    tab = lead.packages_tab
    package = tmp_path / "R1.scpkg"
    coding = built.codings["S1"]
    with gui_queries.allowed(), Project.open(built.path) as project:
        export_package(project, "R1", package, with_audio=True)
    with open_package(package, audio_dir=tmp_path / "unpacked") as offline:
        offline.view.set_value(coding, "specification", 2)
    dialog = _import(qtbot, tab, package)
    with _storage_held(runner):
        _click(qtbot, dialog.start_button)
        _click(qtbot, dialog.cancel_button)
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    assert dialog.status.text() == f"The import of {package} was cancelled; nothing was merged"
    with gui_queries.allowed():
        assert lead.project.rater_view("R1").coding(coding).values.get("specification") is None
        assert list_packages(lead.project)[0].import_count == 0
    # Then the same dialog imports it.
    with qtbot.waitSignal(dialog.imported, timeout=30_000):
        _click(qtbot, dialog.start_button)
    with gui_queries.allowed():
        assert lead.project.rater_view("R1").coding(coding).values["specification"] == 2
    assert QApplication.activeModalWidget() in (dialog, None)
