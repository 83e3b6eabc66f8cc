"""The lab lead's export dialog: choose what to export and where, then export in the background.

The dialog collects the choices (scale, format, file, final rule, winsorizing, privacy
options) into a plain :class:`ExportRequest`, runs
:func:`coder.export_data.build_export_bundle` and :func:`exports.write_export` on the
app's :class:`~ui.tasks.TaskRunner` (in its storage worker, so the export sees every
write queued before it), and gets progress and the result back on the GUI thread from
the runner. The worker never touches or holds a widget; the scale list is read there
too, never on the GUI thread. Errors are shown as one calm line in the dialog, never
a traceback; closing or pressing Cancel while an export runs stops it between steps,
and the writers leave no half-written file.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from coder.errors import CoderError
from coder.export_data import ExportCancelled, build_export_bundle
from coder.scales import RatingScale
from coder.store.project import Project
from exports import SUFFIXES, write_export
from ui.dialogs import choose_file
from ui.tasks import TaskRunner

log = logging.getLogger(__name__)

FORMAT_CHOICES = (
    ("xlsx", "Excel workbook (.xlsx)"),
    ("csv", "CSV files for R and pandas (.csv)"),
    ("sav", "SPSS data file (.sav)"),
)
FINAL_CHOICES = (
    ("primary", "Primary coder's scores"),
    ("mean", "Mean of the coders (double-coded sessions)"),
    ("consensus", "Recorded consensus, else the mean (double-coded sessions)"),
)
_NAME_FILTERS = {
    "xlsx": "Excel workbook (*.xlsx)",
    "csv": "CSV files (*.csv)",
    "sav": "SPSS data file (*.sav)",
}
_PROGRESS_STEPS = 1000
# Building the tables takes about half of an export, writing the other half.
_BUILD_SHARE = 0.5


@dataclass(frozen=True)
class ExportRequest:
    """Everything the worker needs, copied out of the widgets on the GUI thread."""

    scale_ids: tuple[str, ...] | None
    fmt: str
    path: Path
    final: str
    winsorize_iqr: float | None
    include_audio_paths: bool
    include_metadata: bool
    layout: str = "session"  # or "patient": the final scores one row per patient too
    descriptives_by: str = "scale"  # or "session_number": descriptives per session number too


def run_export(
    project: Project,
    request: ExportRequest,
    *,
    progress: Callable[[float], None],
    cancelled: Callable[[], bool],
) -> list[Path]:
    """Build the tables and write them (blocking: run it in a worker).

    Args:
        project: The open project.
        request: What to export and where.
        progress: Called with the fraction done, 0..1.
        cancelled: Polled between steps; True stops the export with ExportCancelled.

    Returns:
        The files written.
    """

    def build_progress(fraction: float) -> None:
        progress(fraction * _BUILD_SHARE)

    def write_progress(fraction: float) -> None:
        # The writers have no cancel hook of their own; raising here stops them, and
        # they delete their partial file on the way out.
        if cancelled():
            raise ExportCancelled("the export was cancelled; nothing was written")
        progress(_BUILD_SHARE + fraction * (1 - _BUILD_SHARE))

    bundle = build_export_bundle(
        project,
        scale_ids=request.scale_ids,
        final=request.final,  # type: ignore[arg-type]
        winsorize_iqr=request.winsorize_iqr,
        include_audio_paths=request.include_audio_paths,
        include_metadata=request.include_metadata,
        layout=request.layout,  # type: ignore[arg-type]
        descriptives_by=request.descriptives_by,  # type: ignore[arg-type]
        progress=build_progress,
        cancelled=cancelled,
    )
    return write_export(bundle, request.fmt, request.path, progress=write_progress)


class ExportDialog(QDialog):
    """Export a project's scores and reliability to xlsx, csv or sav.

    Signals:
        export_finished(object): the list of files written (``list[Path]``).
        export_failed(str): the message shown when an export failed.
        export_cancelled(): the export was cancelled; nothing was written.
    """

    export_finished = Signal(object)
    export_failed = Signal(str)
    export_cancelled = Signal()
    scales_loaded = Signal()

    def __init__(self, project: Project, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export scores and reliability")
        self.setMinimumWidth(560)
        self._project = project
        self._runner = runner
        self._cancel = threading.Event()
        self._running = False

        self.scale_box = QComboBox()
        self.scale_box.addItem("All scales", None)
        self.format_box = QComboBox()
        for key, text in FORMAT_CHOICES:
            self.format_box.addItem(text, key)
        self.path_edit = QLineEdit(str(self._default_path("xlsx")))
        self.browse_button = QPushButton("Choose…")
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        self.final_box = QComboBox()
        for key, text in FINAL_CHOICES:
            self.final_box.addItem(text, key)
        self.winsorize_check = QCheckBox("Set outliers to the fence at")
        self.k_spin = QDoubleSpinBox()
        self.k_spin.setRange(0.5, 10.0)
        self.k_spin.setSingleStep(0.5)
        self.k_spin.setDecimals(1)
        self.k_spin.setValue(1.5)
        self.k_spin.setSuffix(" × IQR beyond the quartiles")
        self.k_spin.setEnabled(False)
        winsor_row = QHBoxLayout()
        winsor_row.addWidget(self.winsorize_check)
        winsor_row.addWidget(self.k_spin, 1)
        self.patient_check = QCheckBox(
            "Add the final scores one row per patient (a column per session number)"
        )
        self.by_session_check = QCheckBox("Add descriptives and outlier fences per session number")
        self.audio_check = QCheckBox("Include audio file paths")
        self.metadata_check = QCheckBox("Include session dates and manifest metadata")
        privacy_note = QLabel(
            "Exports are pseudonymous by default: session, patient, therapist and rater codes only."
        )
        privacy_note.setWordWrap(True)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, _PROGRESS_STEPS)
        self.progress_bar.setValue(0)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.close_button = QPushButton("Close")

        form = QFormLayout()
        form.addRow("Scale", self.scale_box)
        form.addRow("Format", self.format_box)
        form.addRow("Save to", path_row)
        form.addRow("Final scores", self.final_box)
        form.addRow("Outliers", winsor_row)
        form.addRow("Layout", self.patient_check)
        form.addRow("Descriptives", self.by_session_check)
        form.addRow("Privacy", self.audio_check)
        form.addRow("", self.metadata_check)
        form.addRow("", privacy_note)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)

        self.format_box.currentIndexChanged.connect(self._on_format_changed)
        self.winsorize_check.toggled.connect(self.k_spin.setEnabled)
        self.browse_button.clicked.connect(self._on_browse_clicked)
        self.export_button.clicked.connect(self._on_export_clicked)
        self.close_button.clicked.connect(self._on_close_clicked)
        self.finished.connect(self._on_finished)
        self._runner.submit(
            project.scales, on_done=self._on_scales, on_error=self._on_scales_failed
        )

    # ------------------------------------------------------------------ state

    @property
    def running(self) -> bool:
        return self._running

    def _on_scales(self, scales: list[RatingScale]) -> None:
        for scale in scales:
            self.scale_box.addItem(f"{scale.name} ({scale.id})", scale.id)
        self.scales_loaded.emit()

    def _on_scales_failed(self, error: BaseException) -> None:
        # "All scales" still works; say why the list is short.
        self._show_status(_message(error), error=True)
        self.scales_loaded.emit()

    def request(self) -> ExportRequest:
        """The export the widgets describe now."""
        fmt = str(self.format_box.currentData())
        scale = self.scale_box.currentData()
        return ExportRequest(
            scale_ids=None if scale is None else (str(scale),),
            fmt=fmt,
            path=Path(self.path_edit.text().strip()).expanduser(),
            final=str(self.final_box.currentData()),
            winsorize_iqr=self.k_spin.value() if self.winsorize_check.isChecked() else None,
            include_audio_paths=self.audio_check.isChecked(),
            include_metadata=self.metadata_check.isChecked(),
            layout="patient" if self.patient_check.isChecked() else "session",
            descriptives_by="session_number" if self.by_session_check.isChecked() else "scale",
        )

    def _default_path(self, fmt: str) -> Path:
        location = self._project.store.location.path
        if location is not None:
            return location.with_name(f"{location.stem}_export{SUFFIXES[fmt]}")
        return Path.home() / f"session_coder_export{SUFFIXES[fmt]}"

    def _set_running(self, running: bool) -> None:
        for widget in (
            self.scale_box,
            self.format_box,
            self.path_edit,
            self.browse_button,
            self.final_box,
            self.winsorize_check,
            self.patient_check,
            self.by_session_check,
            self.audio_check,
            self.metadata_check,
            self.export_button,
        ):
            widget.setEnabled(not running)
        self.k_spin.setEnabled(not running and self.winsorize_check.isChecked())
        self.close_button.setText("Cancel" if running else "Close")

    def _show_status(self, text: str, *, error: bool = False) -> None:
        self.status_label.setStyleSheet("color: #a33;" if error else "")
        self.status_label.setText(text)

    # ------------------------------------------------------------------ user actions

    @Slot(int)
    def _on_format_changed(self, _index: int) -> None:
        fmt = str(self.format_box.currentData())
        text = self.path_edit.text().strip()
        if not text:
            return
        path = Path(text)
        if path.suffix.lower() in SUFFIXES.values():
            self.path_edit.setText(str(path.with_suffix(SUFFIXES[fmt])))

    @Slot()
    def _on_browse_clicked(self) -> None:
        fmt = str(self.format_box.currentData())
        current = Path(self.path_edit.text().strip() or str(self._default_path(fmt)))
        choose_file(
            self,
            "Save the export as",
            name_filter=_NAME_FILTERS[fmt],
            directory=str(current),
            on_chosen=self._on_path_chosen,
            save=True,
        )

    @Slot(str)
    def _on_path_chosen(self, path: str) -> None:
        chosen = Path(path)
        suffix = SUFFIXES[str(self.format_box.currentData())]
        if chosen.suffix.lower() != suffix:
            chosen = chosen.with_name(chosen.name + suffix)
        self.path_edit.setText(str(chosen))

    @Slot()
    def _on_export_clicked(self) -> None:
        if self.running:
            return
        if not self.path_edit.text().strip():
            self._show_status("Choose where to save the export first.", error=True)
            return
        request = self.request()
        self._cancel.clear()
        self.progress_bar.setValue(0)
        self._show_status("Exporting…")
        self._set_running(True)
        self._running = True
        # In the storage worker: the export then includes every write made before it.
        # The runner delivers only the newest export's progress and result.
        self._runner.read(
            run_export,
            self._project,
            request,
            cancelled=self._cancel.is_set,
            on_progress=self._on_progress_reported,
            on_done=self._on_job_done,
            on_error=self._on_job_failed,
            latest=(self, "export"),
        )

    @Slot()
    def _on_close_clicked(self) -> None:
        if self.running:
            self._cancel.set()
            self._show_status("Cancelling…")
            return
        self.accept()

    def reject(self) -> None:
        # Escape or the window's close button while exporting cancels the export first.
        if self.running:
            self._on_close_clicked()
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.running:
            self._on_close_clicked()
            event.ignore()
            return
        super().closeEvent(event)

    # ------------------------------------------------------------------ results (GUI thread)

    def _on_progress_reported(self, fraction: float) -> None:
        self.progress_bar.setValue(round(max(0.0, min(1.0, fraction)) * _PROGRESS_STEPS))

    def _on_job_done(self, files: list[Path]) -> None:
        self._running = False
        self._set_running(False)
        self.progress_bar.setValue(_PROGRESS_STEPS)
        more = f" and {len(files) - 1} more files beside it" if len(files) > 1 else ""
        self._show_status(f"Exported to {files[0]}{more}.")
        self.export_finished.emit(files)

    def _on_job_failed(self, error: BaseException) -> None:
        self._running = False
        self._set_running(False)
        self.progress_bar.setValue(0)
        if isinstance(error, ExportCancelled):
            self._show_status("Export cancelled; nothing was written.")
            self.export_cancelled.emit()
            return
        self._show_status(_message(error), error=True)
        self.export_failed.emit(self.status_label.text())

    @Slot(int)
    def _on_finished(self, _result: int) -> None:
        # A running export stops at its next check; nothing half-written is left.
        self._cancel.set()


def _message(error: BaseException) -> str:
    """One calm sentence for the person exporting; details go to the log, not the screen."""
    if isinstance(error, CoderError):
        text = str(error).strip() or "The export could not be made."
    elif isinstance(error, OSError):
        reason = error.strerror or str(error)
        where = f" ({error.filename})" if error.filename else ""
        text = f"The export could not be written: {reason}{where}. Choose another place."
    else:
        log.error("export failed", exc_info=error)
        text = "Something unexpected went wrong; nothing was exported. The log has details."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."
