"""The lead's "Progress" tab: counts of codings by scale and rater, and reopening.

Everything is read in a worker (:func:`coder.progress.load_progress`); "Allow
reopening" is a mutation run by :meth:`~ui.tasks.TaskRunner.run_op`. The tab reads
again whenever a mutation changes sessions, raters, scales, assignments or codings,
whichever tab or dialog made it.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from coder.changes import OpChanges
from coder.progress import FinishedCoding, ProgressData, load_progress
from coder.store.project import CODING_STATES, Project
from ui.dialogs import show_error
from ui.import_dialog import ImportDialog
from ui.rows_table_model import RowsTableModel
from ui.scoring_panel import STATE_LABELS
from ui.tasks import TaskRunner


def _table(model: RowsTableModel, *, counts: bool = False) -> QTableView:
    """A read-only table; with ``counts``, the number columns (all but the first) take
    their contents' width and the first (a scale or rater name) the rest."""
    table = QTableView()
    table.setModel(model)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    if counts:
        for column in range(1, model.columnCount()):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    return table


class ProgressTab(QWidget):
    """Status tables and the list of finished codings the lead may reopen.

    Signals:
        loaded(): the tables show a fresh read of the project.
    """

    #: What the tab shows: it reads again when a mutation changes any of these.
    SHOWS = OpChanges(sessions=True, raters=True, scales=True, assignments=True, codings=True)

    loaded = Signal()

    def __init__(self, project: Project, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.runner = runner
        states = [STATE_LABELS[s] for s in CODING_STATES]
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.summary = QLabel("Loading…")
        self.summary.setWordWrap(True)
        top.addWidget(self.summary, 1)
        self.import_button = QPushButton("Import sessions…")
        self.import_button.setToolTip("Import a manifest (CSV or Excel) with the sessions' audio")
        self.import_button.clicked.connect(self._on_import_clicked)
        top.addWidget(self.import_button)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        top.addWidget(refresh)
        self.import_dialog: ImportDialog | None = None
        layout.addLayout(top)
        self.by_scale = RowsTableModel(["Scale", *states, "Total"], self)
        self.by_rater = RowsTableModel(["Rater", *states, "Total"], self)
        tables = QHBoxLayout()
        for title, model in (("By scale", self.by_scale), ("By rater", self.by_rater)):
            box = QVBoxLayout()
            box.addWidget(QLabel(f"<b>{title}</b>"))
            box.addWidget(_table(model, counts=True))
            tables.addLayout(box)
        layout.addLayout(tables, 1)
        layout.addWidget(
            QLabel(
                "<b>Finished codings</b> — a rater can change a finished "
                "coding only after you allow reopening it."
            )
        )
        self.finished = RowsTableModel(["Session", "Rater", "Scale", "State"], self)
        self.finished_table = _table(self.finished)
        layout.addWidget(self.finished_table, 1)
        row = QHBoxLayout()
        # What became of the lead's last "Allow reopening" (the summary above is
        # redrawn by every refresh).
        self.reopen_status = QLabel("")
        self.reopen_status.setWordWrap(True)
        row.addWidget(self.reopen_status, 1)
        self.reopen_button = QPushButton("Allow reopening")
        self.reopen_button.clicked.connect(self.allow_reopen_selected)
        row.addWidget(self.reopen_button)
        layout.addLayout(row)
        runner.changed.connect(self._on_changed)
        self.refresh()

    @Slot()
    def _on_import_clicked(self) -> None:
        # The import is a mutation: its change notification refreshes this tab.
        self.import_dialog = ImportDialog(self.project, self.runner, self)
        self.import_dialog.open()

    @Slot(object)
    def _on_changed(self, changes: OpChanges) -> None:
        if changes & self.SHOWS:
            self.refresh()

    @Slot()
    def refresh(self) -> None:
        """Read the status and the finished codings again, in a worker."""
        self.runner.submit(
            load_progress,
            self.project,
            on_done=self._on_loaded,
            on_error=self._on_failed,
            latest=(self, "progress"),
        )

    def _on_loaded(self, data: ProgressData) -> None:
        status = data.status
        audio = ", ".join(f"{k} {v}" for k, v in sorted(status.sessions_by_audio_status.items()))
        self.summary.setText(
            f"<b>{status.project}</b>: {status.sessions} sessions"
            f"{f' (audio: {audio})' if audio else ''}, {status.raters} raters, "
            f"{status.codings} codings."
        )
        for model, table in (
            (self.by_scale, status.by_scale),
            (self.by_rater, status.by_rater),
        ):
            rows = [
                (key, *(counts[s] for s in CODING_STATES), sum(counts.values()))
                for key, counts in sorted(table.items())
            ]
            model.set_rows(rows)
        self.finished.set_rows(
            [(f.session_key, f.rater, f.scale_id, STATE_LABELS[f.state]) for f in data.finished],
            data.finished,
        )
        self.reopen_button.setEnabled(bool(data.finished))
        self.loaded.emit()

    def _on_failed(self, error: BaseException) -> None:
        self.summary.setText("The progress could not be read.")
        show_error(self, error)

    def allow_reopen_selected(self) -> None:
        rows = self.finished_table.selectionModel().selectedRows()
        if not rows:
            self.reopen_status.setText("Select a finished coding first.")
            return
        coding: FinishedCoding = self.finished.payload(rows[0].row())
        # The project method itself, not a lambda over self: a worker holds no widget.
        self.runner.run_op(
            self.project.allow_reopen,
            coding.coding_id,
            True,
            on_done=partial(self._on_reopened, coding),
            on_error=self._on_reopen_failed,
        )

    def _on_reopen_failed(self, error: BaseException) -> None:
        show_error(self, error)

    def _on_reopened(self, coding: FinishedCoding, _result: object = None) -> None:
        self.reopen_status.setText(
            f"Rater {coding.rater} can now change their coding of {coding.session_key}."
        )
