"""Importing a session manifest from the lead's window, with progress and Cancel.

The import (``coder.importer.import_manifest``) writes to the project, so it runs as a
mutation of the app's :class:`~ui.tasks.TaskRunner` (:meth:`~ui.tasks.TaskRunner.run_op`),
in its single storage worker: the project keeps one writer, and every tab that shows
sessions hears of the import. Its progress reaches the dialog through the runner's queued
signal; the worker never touches a widget. Cancel stops while the recordings are
checked and hashed, before anything is written: the core writes every good row in one
transaction at the end, so a cancelled import leaves the project as it was.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from coder.errors import CoderError
from coder.importer import ImportProgress, ImportReport, import_manifest
from coder.store.project import Project
from ui.dialogs import choose_file
from ui.tasks import TaskRunner

log = logging.getLogger(__name__)


def describe_progress(p: ImportProgress) -> str:
    left = f", about {p.seconds_left:.0f} s left" if p.seconds_left is not None else ""
    return (
        f"{p.files_done} of {p.files_total} files, "
        f"{p.bytes_done / 1e6:.0f} of {p.bytes_total / 1e6:.0f} MB{left}"
    )


def describe_report(report: ImportReport) -> str:
    lines = [
        ("Cancelled. " if report.cancelled else "")
        + f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged "
        f"({report.hashed} file(s) hashed)."
    ]
    if report.metadata_columns:
        lines.append(
            "Kept as metadata (never shown to raters): " + ", ".join(report.metadata_columns)
        )
    lines += [str(p) for p in report.problems]
    return "\n".join(lines)


class ImportDialog(QDialog):
    """Choose a manifest, import it in the background, show every problem row.

    Signals:
        import_finished(object): the ImportReport, on the GUI thread.
    """

    import_finished = Signal(object)

    def __init__(self, project: Project, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import sessions")
        self.setMinimumWidth(560)
        self._project = project
        self._runner = runner
        self._cancel = threading.Event()
        layout = QVBoxLayout(self)
        self.intro = QLabel(
            "A manifest is a CSV or Excel file with the columns session_id, audio, patient, "
            "therapist, session_number, phase, date (audio relative to the manifest's "
            "folder). Further columns are kept as metadata."
        )
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self.choose_button = QPushButton("Choose manifest…")
        self.choose_button.clicked.connect(self._on_choose_clicked)
        layout.addWidget(self.choose_button)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        layout.addWidget(self.progress)
        self.status = QLabel("")
        layout.addWidget(self.status)
        self.report = QPlainTextEdit()
        self.report.setReadOnly(True)
        layout.addWidget(self.report, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self._on_cancel)
        layout.addWidget(self.buttons)
        self._running = False

    @Slot()
    def _on_choose_clicked(self) -> None:
        choose_file(
            self, "Choose a manifest", name_filter="Manifests (*.csv *.xlsx)", on_chosen=self.start
        )

    def start(self, manifest: str) -> None:
        """Import ``manifest`` in the runner's storage worker (the one writer)."""
        if self._running:
            return
        self._running = True
        self._cancel.clear()
        self.choose_button.setEnabled(False)
        self.status.setText(f"Importing {Path(manifest).name} …")
        # The worker gets the project, the path and the Event's is_set: plain objects.
        # The runner passes it a ``progress`` callable that reaches _on_progressed on
        # the GUI thread.
        self._runner.run_op(
            import_manifest,
            self._project,
            manifest,
            cancelled=self._cancel.is_set,
            on_progress=self._on_progressed,
            on_done=self._on_done,
            on_error=self._on_failed,
        )

    @Slot(object)
    def _on_progressed(self, p: ImportProgress) -> None:
        if not self._running:
            return
        if p.bytes_total:
            self.progress.setValue(int(1000 * p.bytes_done / p.bytes_total))
        self.status.setText(describe_progress(p))

    @Slot(object)
    def _on_done(self, report: ImportReport) -> None:
        self._running = False
        self.choose_button.setEnabled(True)
        self.progress.setValue(1000 if not report.cancelled else self.progress.value())
        self.status.setText(
            "Import cancelled: nothing was imported; the project is as it was."
            if report.cancelled
            else "Import finished."
        )
        self.report.setPlainText(describe_report(report))
        self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Close)
        self.import_finished.emit(report)

    @Slot(object)
    def _on_failed(self, error: BaseException) -> None:
        if isinstance(error, CoderError):
            message = str(error)
        else:  # shown calmly; the details go to the log
            log.error("import failed", exc_info=error)
            message = f"the import stopped unexpectedly ({type(error).__name__})"
        self._running = False
        self.choose_button.setEnabled(True)
        self.status.setText("Nothing was imported.")
        self.report.setPlainText(message)

    @Slot()
    def _on_cancel(self) -> None:
        if self._running:
            self._cancel.set()
            self.status.setText("Cancelling after the current file …")
            return
        self.reject()

    def done(self, result: int) -> None:
        # Closing stops a running import at its next check; its result is then shown
        # (or dropped, if the dialog is gone) by the runner.
        self._cancel.set()
        super().done(result)
