"""The lab lead's window: a home for the lead's tabs.

Progress, Plans, Pools, Reliability, Exports, Packages, Certification and Prepared
fields, each a widget of its own module; a session asked for from the discrepancy list
opens in a read-only :class:`ListenWindow`.

The window wires no tab to another. Every lead-side mutation runs through
:meth:`~ui.tasks.TaskRunner.run_op`, which broadcasts what it changed once
(:attr:`~ui.tasks.TaskRunner.changed`); each tab subscribes itself and refreshes only
for the changes it shows. The window connects navigation only (open a session).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from coder.store.project import Project
from ui.certification_tab import CertificationTab
from ui.export_dialog import ExportDialog
from ui.listen_window import ListenWindow
from ui.packages_tab import PackagesTab
from ui.plan_panel import PlanPanel
from ui.pools_tab import PoolsTab
from ui.prepared_fields_tab import PreparedFieldsTab
from ui.progress_tab import ProgressTab
from ui.reliability_panel import ReliabilityPanel
from ui.tasks import TaskRunner


class ExportsTab(QWidget):
    """Explains the exports and opens the export dialog."""

    def __init__(self, project: Project, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._project = project
        self._runner = runner
        layout = QVBoxLayout(self)
        text = QLabel(
            "<h3>Exports for analysis</h3>"
            "<p><b>Excel</b>: a README sheet, scores (one row per session and rater), "
            "double-coded pairs side by side, final scores, reliability per item, "
            "descriptives, notes and spans with mm:ss, uncodable sessions and the plan.</p>"
            "<p><b>CSV</b>: the long (tidy) table for R and pandas, other tables beside it. "
            "<b>SPSS</b>: the scores with variable and value labels from the anchors.</p>"
            "<p>Exports are pseudonymous unless you ask otherwise: ids and codes only, "
            "no audio paths and no free-text session metadata.</p>"
        )
        text.setWordWrap(True)
        layout.addWidget(text)
        self.export_button = QPushButton("Export…")
        self.export_button.clicked.connect(self._on_export_clicked)
        # A normal-width button at the right, not a bar across the window.
        layout.addWidget(self.export_button, 0, Qt.AlignmentFlag.AlignRight)
        layout.addStretch(1)
        self.dialog: ExportDialog | None = None

    @Slot()
    def _on_export_clicked(self) -> None:
        self.dialog = ExportDialog(self._project, self._runner, self)
        self.dialog.open()


class LeadWindow(QMainWindow):
    """Tabs of the lead's work on one project.

    Signals:
        closed(): the window closed.
    """

    closed = Signal()

    def __init__(self, project: Project, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.runner = runner
        self.setWindowTitle(f"{project.name} — Session Coder (lab lead)")
        self.resize(1100, 700)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        self.progress_tab = ProgressTab(project, runner)
        self.add_tab("Progress", self.progress_tab)
        self.plan_panel = PlanPanel(project, runner)
        self.add_tab("Plans", self.plan_panel)
        self.pools_tab = PoolsTab(project, runner)
        self.add_tab("Pools", self.pools_tab)
        self.reliability_panel = ReliabilityPanel(project, runner)
        self.add_tab("Reliability", self.reliability_panel)
        self.exports_tab = ExportsTab(project, runner)
        self.add_tab("Exports", self.exports_tab)
        self.packages_tab = PackagesTab(project, runner)
        self.add_tab("Packages", self.packages_tab)
        self.certification_tab = CertificationTab(project, runner)
        self.add_tab("Certification", self.certification_tab)
        self.prepared_fields_tab = PreparedFieldsTab(project, runner)
        self.add_tab("Prepared fields", self.prepared_fields_tab)
        self.listen_windows: list[ListenWindow] = []
        self.reliability_panel.open_session_requested.connect(self._on_open_session_requested)

    def add_tab(self, title: str, widget: QWidget) -> int:
        """Add a tab (Plans, Reliability, Exports, ...); returns its index."""
        return self.tabs.addTab(widget, title)

    @Slot(str, int)
    def _on_open_session_requested(self, session_key: str, position_ms: int) -> None:
        window = ListenWindow(self.project, self.runner, session_key, position_ms)
        self.listen_windows.append(window)
        window.show()

    def closeEvent(self, event: QCloseEvent) -> None:
        for window in self.listen_windows:
            window.close()
        self.certification_tab.close_master_window()
        event.accept()
        self.closed.emit()
