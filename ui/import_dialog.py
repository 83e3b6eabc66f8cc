"""Importing a session manifest from the lead's window, with progress and Cancel.

The import runs in a worker thread (``coder.importer.import_manifest``); its progress
reaches the dialog through a queued signal. Cancel stops between rows or inside the
hashing of a file, and the core never leaves a half-imported row.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
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
from coder.project import Project
from ui.dialogs import choose_file


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
    _progressed = Signal(object)
    _done = Signal(object)
    _failed = Signal(str)

    def __init__(self, project: Project, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import sessions")
        self.setMinimumWidth(560)
        self._project = project
        self._cancel = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import")
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
        self._progressed.connect(self._on_progressed, Qt.ConnectionType.QueuedConnection)
        self._done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        self._failed.connect(self._on_failed, Qt.ConnectionType.QueuedConnection)

    @Slot()
    def _on_choose_clicked(self) -> None:
        choose_file(
            self, "Choose a manifest", name_filter="Manifests (*.csv *.xlsx)", on_chosen=self.start
        )

    def start(self, manifest: str) -> None:
        """Import ``manifest`` in the worker thread."""
        if self._running:
            return
        self._running = True
        self._cancel.clear()
        self.choose_button.setEnabled(False)
        self.status.setText(f"Importing {Path(manifest).name} …")
        self._pool.submit(self._run, manifest)

    def _run(self, manifest: str) -> None:
        # Worker thread: touches no widget, only emits queued signals.
        try:
            report = import_manifest(
                self._project,
                manifest,
                progress=self._progressed.emit,
                cancelled=self._cancel.is_set,
            )
        except CoderError as exc:
            self._failed.emit(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - shown calmly; details stay in the log
            self._failed.emit(f"the import stopped unexpectedly ({type(exc).__name__})")
            return
        self._done.emit(report)

    @Slot(object)
    def _on_progressed(self, p: ImportProgress) -> None:
        if p.bytes_total:
            self.progress.setValue(int(1000 * p.bytes_done / p.bytes_total))
        self.status.setText(describe_progress(p))

    @Slot(object)
    def _on_done(self, report: ImportReport) -> None:
        self._running = False
        self.choose_button.setEnabled(True)
        self.progress.setValue(1000 if not report.cancelled else self.progress.value())
        self.status.setText(
            "Import cancelled: the rows imported so far are complete."
            if report.cancelled
            else "Import finished."
        )
        self.report.setPlainText(describe_report(report))
        self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Close)
        self.import_finished.emit(report)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
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
        self._cancel.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        super().done(result)
