"""Offline rater packages in the lead's window: export, import, and conflicts side by side.

The tab lists the packages exported from the project and the conflicts their imports
left open. Every job calls the same core function as the command line
(:mod:`coder.packages`): :func:`~coder.packages.export_package` and
:func:`~coder.packages.import_package` run as mutations of the app's
:class:`~ui.tasks.TaskRunner` (:meth:`~ui.tasks.TaskRunner.run_op`) with progress and
Cancel (:class:`PackageExportDialog`, :class:`PackageImportDialog`);
:func:`~coder.packages.resolve_conflict` settles the conflict the lead picked in
:class:`ConflictDialog`, which shows the project's and the package's value with each
one's history. The workers get the project and plain values only; the progress and the
result come back to the dialogs on the GUI thread. The tab reads again whenever a
mutation changes the packages (:attr:`~ui.tasks.TaskRunner.changed`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from coder.changes import OpChanges
from coder.errors import Cancelled, CoderError
from coder.packages import (
    Conflict,
    ConflictSides,
    ImportReport,
    PackageManifest,
    PackageProgress,
    PackageRecord,
    Take,
    conflict_sides,
    export_package,
    import_package,
    list_packages,
    package_conflicts,
    resolve_conflict,
    unit_text,
)
from coder.store.project import HistoryEntry, Project
from ui.dialogs import choose_file, dialog_hub, show_error
from ui.rows_table_model import RowsTableModel
from ui.tasks import TaskRunner

log = logging.getLogger(__name__)

PACKAGE_HEADERS = ("Rater", "Exported", "Codings", "Audio", "Imported", "Open conflicts")
CONFLICT_HEADERS = ("Rater", "Session", "Scale", "What", "Item", "Project has", "Package has")
PACKAGE_FILTER = "Rater packages (*.scpkg)"
_WHAT = {
    "rating": "score",
    "state": "state",
    "note": "note",
    "span": "span",
    "coding": "coding",
    "locked": "submitted coding",
}


@dataclass(frozen=True)
class PackagesState:
    """What the tab shows: the exported packages and the open conflicts."""

    packages: tuple[PackageRecord, ...]
    conflicts: tuple[Conflict, ...]


def load_packages_state(project: Project) -> PackagesState:
    """The packages and open conflicts of the project (blocking; run it in a worker)."""
    return PackagesState(tuple(list_packages(project)), tuple(package_conflicts(project)))


def history_line(entry: HistoryEntry) -> str:
    """One history row as the lead reads it: when, who, what became what."""

    def shown(value: Any) -> str:
        if isinstance(value, dict):
            return ", ".join(f"{k} {v}" for k, v in value.items() if v not in (None, ""))
        return "(none)" if value is None else unit_text("", value)

    change = f"{shown(entry.old)} → {shown(entry.new)}"
    return f"{entry.at:%Y-%m-%d %H:%M}  {entry.actor}  {entry.action}: {change}"


def _message(error: BaseException) -> str:
    if isinstance(error, CoderError):
        text = str(error).strip()
        return text[:1].upper() + text[1:]
    log.error("package job failed", exc_info=error)
    return f"The job stopped unexpectedly ({type(error).__name__}); nothing was changed."


# --------------------------------------------------------------------------- job dialogs


class _PackageJobDialog(QDialog):
    """A package job with a progress bar, a status line and Cancel.

    The job runs in the runner's storage worker; Cancel (or closing the dialog) sets
    an Event the core polls between steps, and the core then leaves nothing behind.
    """

    def __init__(self, project: Project, runner: TaskRunner, parent: QWidget | None) -> None:
        super().__init__(parent)
        self._project = project
        self._runner = runner
        self._cancel = threading.Event()
        self.running = False
        self.setMinimumWidth(560)
        self.form = QFormLayout()
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox()
        self.start_button = self.buttons.addButton("Start", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.start_button.clicked.connect(self._on_start_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        layout = QVBoxLayout(self)
        self.intro = QLabel("")
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        layout.addLayout(self.form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

    def _run(self, fn: Any, *args: Any, **kwargs: Any) -> None:
        self.running = True
        self._cancel.clear()
        self.progress.setValue(0)
        self.start_button.setEnabled(False)
        self._set_inputs_enabled(False)
        # The worker gets the project, plain values and the Event's is_set; the runner
        # hands it a ``progress`` callable that reaches _on_progressed on this thread.
        self._runner.run_op(
            fn,
            *args,
            cancelled=self._cancel.is_set,
            on_progress=self._on_progressed,
            on_done=self._on_done,
            on_error=self._on_failed,
            **kwargs,
        )

    def _set_inputs_enabled(self, enabled: bool) -> None:
        raise NotImplementedError

    def _on_start_clicked(self) -> None:
        raise NotImplementedError

    def _finished(self, result: object) -> None:
        raise NotImplementedError

    def _show_status(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet("color: #a33;" if error else "")
        self.status.setText(text)

    @Slot(object)
    def _on_progressed(self, p: PackageProgress) -> None:
        if self.running and not self._cancel.is_set():
            self.progress.setValue(p.percent)
            self._show_status(f"{p.stage[:1].upper()}{p.stage[1:]} …")

    @Slot(object)
    def _on_done(self, result: object) -> None:
        self.running = False
        self.progress.setValue(100)
        self.cancel_button.setText("Close")
        self._finished(result)

    @Slot(object)
    def _on_failed(self, error: BaseException) -> None:
        self.running = False
        self.start_button.setEnabled(True)
        self._set_inputs_enabled(True)
        self.progress.setValue(0)
        self._show_status(_message(error), error=not isinstance(error, Cancelled))

    @Slot()
    def _on_cancel_clicked(self) -> None:
        if self.running:
            self._cancel.set()
            self._show_status("Cancelling …")
            return
        self.reject()

    def done(self, result: int) -> None:
        # Closing stops a running job at its next check; the core cleans up after it.
        self._cancel.set()
        super().done(result)


class PackageExportDialog(_PackageJobDialog):
    """Export one rater's package, with progress and Cancel.

    Signals:
        exported(object): the package's manifest, once written and recorded.
    """

    exported = Signal(object)

    def __init__(self, project: Project, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(project, runner, parent)
        self.setWindowTitle("Export a rater's package")
        self.intro.setText(
            "A package holds one rater's codings (and, if you like, the recordings) so "
            "they can code without the project. When they send it back, import it here. "
            "Nothing in it names a patient or the other raters."
        )
        self.rater_combo = QComboBox()
        self.rater_combo.setPlaceholderText("Loading raters …")
        self.rater_combo.setMinimumContentsLength(12)
        self.form.addRow("Rater", self.rater_combo)
        self.audio_check = QCheckBox("Put the recordings inside (a larger file)")
        self.form.addRow("", self.audio_check)
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("A new file, e.g. R1.scpkg")
        self.choose_button = QPushButton("Choose…")
        self.choose_button.clicked.connect(self._on_choose_clicked)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.choose_button)
        self.form.addRow("Save as", row)
        self.start_button.setText("Export")
        runner.read(project.raters, on_done=self._on_raters_loaded, on_error=self._on_failed)

    @Slot(object)
    def _on_raters_loaded(self, raters: list[Any]) -> None:
        self.rater_combo.clear()
        self.rater_combo.addItems([r.code for r in raters])
        self.rater_combo.setPlaceholderText("No raters yet")
        if raters:
            self.rater_combo.setCurrentIndex(0)

    def _set_inputs_enabled(self, enabled: bool) -> None:
        for widget in (self.rater_combo, self.audio_check, self.path_edit, self.choose_button):
            widget.setEnabled(enabled)

    @Slot()
    def _on_choose_clicked(self) -> None:
        name = f"{self.rater_combo.currentText() or 'rater'}.scpkg"
        folder = Path(self.path_edit.text()).parent if self.path_edit.text() else Path.home()
        choose_file(
            self,
            "Save the package as",
            name_filter=PACKAGE_FILTER,
            directory=str(folder / name),
            on_chosen=self.path_edit.setText,
            save=True,
        )

    def _on_start_clicked(self) -> None:
        rater = self.rater_combo.currentText()
        path = self.path_edit.text().strip()
        if not rater:
            self._show_status("Choose the rater first.", error=True)
            return
        if not path:
            self._show_status("Choose where to save the package first.", error=True)
            return
        self._show_status(f"Exporting {rater}'s package …")
        self._run(
            export_package, self._project, rater, path, with_audio=self.audio_check.isChecked()
        )

    def _finished(self, result: object) -> None:
        assert isinstance(result, PackageManifest)
        self._show_status(
            f"Wrote {Path(self.path_edit.text()).name}: {result.codings} coding(s) of "
            f"{result.rater}" + (" with the recordings." if result.with_audio else ".")
        )
        self.exported.emit(result)


class PackageImportDialog(_PackageJobDialog):
    """Merge a package a rater sent back, with progress and Cancel.

    Signals:
        imported(object): the :class:`~coder.packages.ImportReport`.
    """

    imported = Signal(object)

    def __init__(self, project: Project, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(project, runner, parent)
        self.setWindowTitle("Import a rater's package")
        self.intro.setText(
            "Merge the package a rater sent back. Their changes are applied where only "
            "they changed something; where the project changed too, nothing is "
            "overwritten and you choose in the list of conflicts."
        )
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("The .scpkg file the rater sent")
        self.choose_button = QPushButton("Choose…")
        self.choose_button.clicked.connect(self._on_choose_clicked)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.choose_button)
        self.form.addRow("Package", row)
        self.start_button.setText("Import")

    def _set_inputs_enabled(self, enabled: bool) -> None:
        self.path_edit.setEnabled(enabled)
        self.choose_button.setEnabled(enabled)

    @Slot()
    def _on_choose_clicked(self) -> None:
        choose_file(
            self,
            "Choose the package",
            name_filter=PACKAGE_FILTER,
            on_chosen=self.path_edit.setText,
        )

    def _on_start_clicked(self) -> None:
        path = self.path_edit.text().strip()
        if not path:
            self._show_status("Choose the package file first.", error=True)
            return
        self._show_status(f"Importing {Path(path).name} …")
        self._run(import_package, self._project, path)

    def _finished(self, result: object) -> None:
        assert isinstance(result, ImportReport)
        applied = ", ".join(f"{n} {kind}" for kind, n in result.applied.items() if n)
        lines = [f"{result.rater}'s package: merged {applied or 'nothing new'}."]
        if result.conflicts:
            lines.append(
                f"{len(result.conflicts)} conflict(s) left for you in the list of "
                "conflicts; nothing was overwritten."
            )
        lines += list(result.warnings)
        self._show_status("\n".join(lines))
        self.imported.emit(result)


# --------------------------------------------------------------------------- conflicts


class ConflictDialog(QDialog):
    """One conflict side by side: the project's value and the package's, with history.

    The dialog only collects the lead's choice (:meth:`choice`: ``"project"`` or
    ``"package"``, also sent as :attr:`chosen`); the tab resolves it.

    Signals:
        chosen(str): the lead picked ``"project"`` or ``"package"``.
    """

    chosen = Signal(str)

    def __init__(self, sides: ConflictSides, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        c = sides.conflict
        self.sides = sides
        self._choice: Take | None = None
        self.setWindowTitle("Resolve a conflict")
        self.setMinimumWidth(760)
        intro = QLabel(
            f"<b>{c.session_key}</b> · {c.scale_id} · {_WHAT.get(c.what, c.what)} "
            f"<b>{c.key}</b>: changed both in the project and in {c.rater}'s package since "
            f"the export (it was <b>{unit_text(c.what, c.base)}</b>). Choose the value to keep."
        )
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)
        self.project_box, self.project_value, self.project_history = self._side(
            "In the project", unit_text(c.what, c.project), sides.project_history
        )
        self.package_box, self.package_value, self.package_history = self._side(
            f"In {c.rater}'s package", unit_text(c.what, c.package), sides.package_history
        )
        self.keep_button = QPushButton("Keep the project's")
        self.keep_button.clicked.connect(self._on_keep_clicked)
        self.take_button = QPushButton("Take the package's")
        self.take_button.clicked.connect(self._on_take_clicked)
        self.take_button.setEnabled(c.can_take_package)
        self.project_box.layout().addWidget(self.keep_button)
        self.package_box.layout().addWidget(self.take_button)
        self.why_not = QLabel(
            ""
            if c.can_take_package
            else "The package's version cannot be taken: the coding was submitted when the "
            "package was made, or is no longer the rater's. Reopen it and ask the rater "
            "to enter the change."
        )
        self.why_not.setWordWrap(True)
        self.why_not.setVisible(not c.can_take_package)
        sides_row = QHBoxLayout()
        sides_row.addWidget(self.project_box, 1)
        sides_row.addWidget(self.package_box, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(sides_row, 1)
        layout.addWidget(self.why_not)
        layout.addWidget(buttons)

    @staticmethod
    def _side(
        title: str, value: str, history: tuple[HistoryEntry, ...] | None
    ) -> tuple[QGroupBox, QLabel, QListWidget]:
        box = QGroupBox(title)
        inner = QVBoxLayout(box)
        shown = QLabel(value)
        shown.setWordWrap(True)
        shown.setStyleSheet("font-size: 14pt; font-weight: bold;")
        shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        inner.addWidget(shown)
        inner.addWidget(QLabel("History (oldest first)"))
        lst = QListWidget()
        lst.setWordWrap(True)
        if history is None:
            lst.addItem("(not kept by the version that imported this package)")
        elif not history:
            lst.addItem("(no changes recorded)")
        else:
            lst.addItems([history_line(h) for h in history])
        inner.addWidget(lst, 1)
        return box, shown, lst

    def choice(self) -> Take | None:
        return self._choice

    @Slot()
    def _on_keep_clicked(self) -> None:
        self._choice = "project"
        self.chosen.emit(self._choice)
        self.accept()

    @Slot()
    def _on_take_clicked(self) -> None:
        self._choice = "package"
        self.chosen.emit(self._choice)
        self.accept()


# --------------------------------------------------------------------------- the tab


class PackagesTab(QWidget):
    """Exported packages, the export and import dialogs, and the open conflicts.

    Signals:
        conflict_resolved(object): a conflict was resolved; the :class:`Conflict`.
        loaded(): the lists were read again.
    """

    conflict_resolved = Signal(object)
    loaded = Signal()

    def __init__(self, project: Project, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._project = project
        self._runner = runner
        self._conflicts: tuple[Conflict, ...] = ()
        self._resolving: Conflict | None = None
        self.dialog: QDialog | None = None
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Raters without access to the project code offline in a package: export "
            "their package, send it to them, and import it when they send it back."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        buttons = QHBoxLayout()
        self.export_button = QPushButton("Export a rater's package…")
        self.export_button.clicked.connect(self._on_export_clicked)
        self.import_button = QPushButton("Import a package…")
        self.import_button.clicked.connect(self._on_import_clicked)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        self.packages_model = RowsTableModel(list(PACKAGE_HEADERS), self)
        self.packages_table = self._table(self.packages_model)
        self.packages_table.setMaximumHeight(200)
        layout.addWidget(QLabel("<b>Packages exported</b>"))
        layout.addWidget(self.packages_table)

        self.conflicts_title = QLabel("<b>Open conflicts</b>")
        layout.addWidget(self.conflicts_title)
        self.conflicts_model = RowsTableModel(list(CONFLICT_HEADERS), self)
        self.conflicts_table = self._table(self.conflicts_model)
        self.conflicts_table.horizontalHeader().setSectionResizeMode(
            5, QHeaderView.ResizeMode.Stretch
        )
        self.conflicts_table.horizontalHeader().setSectionResizeMode(
            6, QHeaderView.ResizeMode.Stretch
        )
        self.conflicts_table.doubleClicked.connect(self._on_conflict_double_clicked)
        self.conflicts_table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        layout.addWidget(self.conflicts_table, 1)
        row = QHBoxLayout()
        self.resolve_button = QPushButton("Resolve…")
        self.resolve_button.setToolTip("See both values side by side, with their history")
        self.resolve_button.setEnabled(False)
        self.resolve_button.clicked.connect(self._on_resolve_clicked)
        row.addStretch(1)
        row.addWidget(self.resolve_button)
        layout.addLayout(row)
        runner.changed.connect(self._on_changed)
        self.reload()

    @staticmethod
    def _table(model: RowsTableModel) -> QTableView:
        table = QTableView()
        table.setModel(model)
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setAlternatingRowColors(True)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        return table

    # ------------------------------------------------------------------ reading

    def reload(self) -> None:
        """Read the packages and open conflicts again (in a worker)."""
        self._runner.read(
            load_packages_state,
            self._project,
            on_done=self._on_loaded,
            on_error=self._on_failed,
            latest=(self, "packages"),
        )

    @Slot(object)
    def _on_changed(self, changes: OpChanges) -> None:
        # The conflicts keep the values found at the import: the list changes only with
        # the packages (an export, an import, a resolved conflict).
        if changes.packages:
            self.reload()

    @Slot(object)
    def _on_loaded(self, state: PackagesState) -> None:
        self.packages_model.set_rows(
            [
                (
                    r.rater,
                    f"{r.created_at:%Y-%m-%d %H:%M}",
                    r.codings,
                    "yes" if r.with_audio else "no",
                    (
                        f"{r.imported_at:%Y-%m-%d %H:%M} ({r.import_count}×)"
                        if r.imported_at is not None
                        else "not yet"
                    ),
                    r.open_conflicts,
                )
                for r in state.packages
            ],
            list(state.packages),
        )
        self._conflicts = state.conflicts
        self.conflicts_model.set_rows(
            [
                (
                    c.rater,
                    c.session_key,
                    c.scale_id,
                    _WHAT.get(c.what, c.what),
                    c.key if c.what == "rating" else "",
                    unit_text(c.what, c.project),
                    unit_text(c.what, c.package),
                )
                for c in state.conflicts
            ],
            list(state.conflicts),
        )
        self.conflicts_title.setText(f"<b>Open conflicts</b> ({len(state.conflicts)})")
        self._on_selection_changed()
        self.loaded.emit()

    @Slot(object)
    def _on_failed(self, error: BaseException) -> None:
        show_error(self, error, title="Packages")

    def conflicts(self) -> tuple[Conflict, ...]:
        """The open conflicts, in row order."""
        return self._conflicts

    def current_conflict(self) -> Conflict | None:
        rows = self.conflicts_table.selectionModel().selectedRows()
        return self._conflicts[rows[0].row()] if rows else None

    # ------------------------------------------------------------------ dialogs

    def _open(self, dialog: QDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.finished.connect(self._on_dialog_finished)
        dialog.open()
        dialog_hub().announce(dialog)

    @Slot(int)
    def _on_dialog_finished(self, _result: int) -> None:
        self.dialog = None

    @Slot()
    def _on_export_clicked(self) -> None:
        self._open(PackageExportDialog(self._project, self._runner, self))

    @Slot()
    def _on_import_clicked(self) -> None:
        self._open(PackageImportDialog(self._project, self._runner, self))

    @Slot()
    def _on_selection_changed(self, *_args: object) -> None:
        self.resolve_button.setEnabled(self.current_conflict() is not None)

    @Slot(QModelIndex)
    def _on_conflict_double_clicked(self, _index: QModelIndex) -> None:
        self._on_resolve_clicked()

    @Slot()
    def _on_resolve_clicked(self) -> None:
        c = self.current_conflict()
        if c is None:
            return
        self.resolve_button.setEnabled(False)
        self._runner.read(
            conflict_sides,
            self._project,
            c.package_id,
            c.id,
            on_done=self._on_sides_loaded,
            on_error=self._on_failed,
        )

    @Slot(object)
    def _on_sides_loaded(self, sides: ConflictSides) -> None:
        self._on_selection_changed()
        self._resolving = sides.conflict
        dialog = ConflictDialog(sides, self)
        dialog.chosen.connect(self._on_conflict_chosen)
        self._open(dialog)

    @Slot(str)
    def _on_conflict_chosen(self, take: str) -> None:
        c = self._resolving
        if c is None:
            return
        self._resolving = None
        self._runner.run_op(
            resolve_conflict,
            self._project,
            c.package_id,
            c.id,
            take,
            on_done=partial(self._on_resolved, c),
            on_error=self._on_failed,
        )

    def _on_resolved(self, c: Conflict, _changes: OpChanges) -> None:
        # The change notification has asked for the lists already.
        self.conflict_resolved.emit(c)
