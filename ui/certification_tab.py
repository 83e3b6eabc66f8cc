"""The lead's Certification tab: every rater's certification on a chosen scale.

One row per active rater: the state (in training, certified, lapsed), the compared
sessions, the ICC and the share within one point behind it, and the one sentence of
:func:`coder.certification.certification_status` saying why; above it, the criterion in
force and whether plans require certification. The figures are computed
in a worker; the tab only shows them, and computes them again whenever a mutation
changes sessions, raters, scales, codings or certification settings and overrides.
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from coder.certification import (
    CertificationOverview,
    CertificationStatus,
    certification_overview,
)
from coder.changes import OpChanges
from coder.scales import RatingScale
from coder.store.project import Project
from ui.rows_table_model import RowsTableModel
from ui.tasks import TaskRunner

HEADERS = ("Rater", "State", "Sessions", "ICC", "Within one", "Why")
STATE_LABELS = {"in_training": "in training", "certified": "certified", "lapsed": "lapsed"}


def status_row(status: CertificationStatus) -> tuple[object, ...]:
    """The table row of one rater: the recent figures once certified, else training."""
    figures = status.recent if status.recent is not None else status.training
    state = STATE_LABELS.get(status.state, status.state)
    if status.override is not None:
        state += " (allowed by the lead)" if status.override else " (held back by the lead)"
    return (
        status.rater,
        state,
        figures.sessions,
        "—" if figures.icc is None else f"{figures.icc:.2f}",
        "—" if figures.within_one is None else f"{figures.within_one:.0%}",
        status.why,
    )


class CertificationTab(QWidget):
    """Certification status of every rater on one scale, refreshed in a worker.

    Signals:
        status_shown(): the table shows a freshly computed status.
    """

    #: What the tab shows: it computes again when a mutation changes any of these.
    SHOWS = OpChanges(sessions=True, raters=True, scales=True, codings=True, certification=True)

    status_shown = Signal()

    def __init__(self, project: Project, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.runner = runner
        self._loading = False

        self.scale_combo = QComboBox()
        self.refresh_button = QPushButton("Refresh")
        self.status_label = QLabel("Loading…")
        self.settings_label = QLabel("")
        self.settings_label.setWordWrap(True)
        self.model = RowsTableModel(list(HEADERS), self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

        top = QHBoxLayout()
        top.addWidget(QLabel("Scale"))
        top.addWidget(self.scale_combo, 1)
        top.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.settings_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status_label)

        self.scale_combo.currentIndexChanged.connect(self._on_scale_changed)
        self.refresh_button.clicked.connect(self.refresh)
        runner.changed.connect(self._on_changed)
        self._load_scales()

    def current_scale_id(self) -> str | None:
        data = self.scale_combo.currentData()
        return None if data is None else str(data)

    def _load_scales(self) -> None:
        self.runner.submit(
            self.project.scales,
            on_done=self._on_scales,
            on_error=self._on_failed,
            latest=(self, "scales"),
        )

    @Slot(object)
    def _on_changed(self, changes: OpChanges) -> None:
        if changes.scales:
            self._load_scales()  # then computes again
        elif changes & self.SHOWS:
            self.refresh()

    def _on_scales(self, scales: list[RatingScale]) -> None:
        chosen = self.current_scale_id()
        self._loading = True
        try:
            self.scale_combo.clear()
            for scale in scales:
                self.scale_combo.addItem(f"{scale.name} ({scale.id})", scale.id)
            self.scale_combo.setCurrentIndex(max(self.scale_combo.findData(chosen), 0))
        finally:
            self._loading = False
        if not scales:
            self.status_label.setText("The project has no scales yet.")
            return
        self.refresh()

    @Slot(int)
    def _on_scale_changed(self, _index: int) -> None:
        if not self._loading:
            self.refresh()

    @Slot()
    def refresh(self) -> None:
        """Recompute the chosen scale's certification status in a worker."""
        scale_id = self.current_scale_id()
        if scale_id is None:
            return
        self.refresh_button.setEnabled(False)
        self.status_label.setText("Computing…")
        self.runner.submit(
            certification_overview,
            self.project,
            scale_id,
            on_done=self._on_status,
            on_error=self._on_failed,
            latest=(self, "status"),  # the lead may choose another scale meanwhile
        )

    def _on_status(self, overview: CertificationOverview) -> None:
        self.refresh_button.setEnabled(True)
        self.settings_label.setText(overview.settings_sentence())
        rows = sorted(overview.statuses.values(), key=lambda s: s.rater)
        self.model.set_rows([status_row(s) for s in rows], rows)
        certified = sum(1 for s in rows if s.state == "certified")
        self.status_label.setText(
            f"{certified} of {len(rows)} rater{'s' if len(rows) != 1 else ''} certified."
            if rows
            else "No active raters."
        )
        self.status_shown.emit()

    def _on_failed(self, error: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        text = str(error).strip() or "The certification status could not be computed."
        self.status_label.setText(text[0].upper() + text[1:])
