"""The lead's Certification tab: certifying raters against master codings, in the GUI.

Everything the ``session-coder certify`` commands do, each through the same core
function of :mod:`coder.certification`:

- above, the criterion in force (**Criterion…**) and whether plans give real sessions
  only to certified raters (the **Require certification** box);
- when raters cannot be certified yet, a box that says what to do next
  (:meth:`~coder.certification.CertificationOverview.next_step`) with the buttons for it;
- one row per active rater: the state (in training, certified, lapsed), the compared
  sessions, the ICC and the share within one point behind it, and why; **Override…**
  (with its mandatory reason), **Give training sessions…** and **Schedule drift
  checks…**;
- below, the training sessions with their master codings (**Mark training
  sessions…**, **Assign master coding…**, **Enter master coding**, which opens the
  coding window as the master rater), the selected rater's agreement with the master
  over time (a :class:`~ui.drift_chart.DriftChart`), and the history of overrides.

The figures are computed in a worker; every change runs through
:meth:`~ui.tasks.TaskRunner.run_op`, and the tab computes again when the broadcast
changes (sessions, raters, scales, codings or certification).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from coder.certification import (
    AgreementPoint,
    CertificationOverview,
    CertificationStatus,
    MasterCodingsReport,
    RecalibrationReport,
    TrainingReport,
    add_master_codings,
    agreement_over_time,
    assign_training,
    certification_overview,
    schedule_recalibration,
    set_criterion,
    set_override,
    set_require_certification,
    set_training_sessions,
    update_criterion,
)
from coder.changes import OpChanges
from coder.coding_session import OpenedCoding, open_coding
from coder.kinds import CodingStatus
from coder.scales import RatingScale
from coder.store.certification_store import TrainingSessionRecord
from coder.store.project import Project, RaterView, SessionInfo
from ui.certification_dialogs import (
    ChecklistDialog,
    CriterionDialog,
    MasterCodingDialog,
    OverrideDialog,
    RecalibrationDialog,
)
from ui.coding_window import CodingWindow
from ui.dialogs import show_error, show_message
from ui.drift_chart import DriftChart, DriftPoint
from ui.keymap import Keymap
from ui.rows_table_model import RowsTableModel
from ui.settings import AppSettings
from ui.tasks import TaskRunner

HEADERS = ("Rater", "State", "Sessions", "ICC", "Within one", "Why")
TRAINING_HEADERS = ("Session", "Master", "Master coding", "Raters coding it")
HISTORY_HEADERS = ("When", "By", "Change")
STATE_LABELS = {"in_training": "in training", "certified": "certified", "lapsed": "lapsed"}
MASTER_STATE_LABELS = {
    CodingStatus.NOT_STARTED: "not started",
    CodingStatus.IN_PROGRESS: "in progress",
    CodingStatus.SUBMITTED: "submitted",
    CodingStatus.UNCODABLE: "uncodable",
}
CHART_WITHIN_ONE = "within_one"
CHART_ICC = "icc"


def status_row(status: CertificationStatus, *, master: bool = False) -> tuple[object, ...]:
    """The table row of one rater: the recent figures once certified, else training."""
    figures = status.recent if status.recent is not None else status.training
    state = STATE_LABELS.get(status.state, status.state)
    why = status.why
    if master and figures.sessions == 0:
        state, why = "master", "enters master codings of this scale"
    if status.override is not None:
        state += " (allowed by the lead)" if status.override else " (held back by the lead)"
    return (
        status.rater,
        state,
        figures.sessions,
        "—" if figures.icc is None else f"{figures.icc:.2f}",
        "—" if figures.within_one is None else f"{figures.within_one:.0%}",
        why,
    )


def training_row(record: TrainingSessionRecord) -> tuple[object, ...]:
    """The row of one training session: its master coding and how many code it."""
    if record.master_rater is None:
        master, state = "—", "none yet"
    else:
        master = record.master_rater
        state = MASTER_STATE_LABELS.get(record.master_state or "", record.master_state or "")
    coding = (
        f"{record.trainees_submitted} of {record.trainees} submitted" if record.trainees else "—"
    )
    return (record.session_key, master, state, coding)


def chart_points(points: list[AgreementPoint], statistic: str) -> list[DriftPoint]:
    """The chart's points: each compared coding's share within one point of the master,
    or the criterion's ICC over it and the codings just before it."""
    out = []
    for i, p in enumerate(points):
        when = "" if p.submitted_at is None else f", submitted {p.submitted_at:%Y-%m-%d}"
        kind = "training" if p.kind == "training" else "drift check"
        detail = f"Session {p.session_key} ({kind}{when})"
        if statistic == CHART_ICC:
            value, why, n = p.rolling.icc, p.rolling.icc_why, p.rolling.sessions
        else:
            value = p.within_one
            why = None if value is not None else "no item compared"
            n = 1
        out.append(DriftPoint(str(i + 1), detail, value, None, n, why))
    return out


def _open_master_coding(
    project: Project, rater: str, coding_id: int
) -> tuple[RaterView, OpenedCoding]:
    """The master rater's view and the coding to open (blocking: run in a worker)."""
    view = project.rater_view(rater)
    return view, open_coding(project, view, coding_id)


class CertificationTab(QWidget):
    """Certification of the raters on one scale, and every lead action on it.

    Signals:
        status_shown(): the tab shows a freshly computed overview.
        chart_shown(): the chart shows a freshly computed series.
        master_window_opened(object): a coding window opened on a master coding.
    """

    #: What the tab shows: it computes again when a mutation changes any of these. The
    #: master, training and drift-check codings it lists come with ``certification``.
    SHOWS = OpChanges(sessions=True, raters=True, scales=True, codings=True, certification=True)

    status_shown = Signal()
    chart_shown = Signal()
    master_window_opened = Signal(object)

    def __init__(
        self,
        project: Project,
        runner: TaskRunner,
        parent: QWidget | None = None,
        *,
        settings: AppSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self.project = project
        self.runner = runner
        self._settings = settings
        self._keymap: Keymap | None = None
        self._loading = False
        self._scales: dict[str, RatingScale] = {}
        self.overview: CertificationOverview | None = None
        self.master_window: CodingWindow | None = None
        self.dialog: QWidget | None = None

        # --- top: scale, criterion, requirement
        self.scale_combo = QComboBox()
        self.refresh_button = QPushButton("Refresh")
        self.settings_label = QLabel("")
        self.settings_label.setWordWrap(True)
        self.criterion_button = QPushButton("Criterion…")
        self.require_box = QCheckBox("Require certification for real sessions")
        self.require_box.setToolTip(
            "Plans then give real sessions only to certified raters (or those you allow)."
        )
        self.require_box.setEnabled(False)
        self.status_label = QLabel("Loading…")
        # What the lead's last action did (the status line is rewritten on every refresh).
        self.message_label = QLabel("")
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("color:#1e3a8a;")

        # --- what to do next
        self.guide = QFrame()
        self.guide.setObjectName("certificationGuide")
        self.guide.setStyleSheet(
            "#certificationGuide { background:#eff6ff; border:1px solid #bfdbfe; "
            "border-radius:4px; }"
        )
        self.guide_label = QLabel("")
        self.guide_label.setWordWrap(True)
        self.guide_mark_button = QPushButton("Mark training sessions…")
        self.guide_master_button = QPushButton("Assign master coding…")
        self.guide_enter_button = QPushButton("Enter master coding")
        self.guide_train_button = QPushButton("Give training sessions…")
        guide_buttons = QHBoxLayout()
        for button in (
            self.guide_mark_button,
            self.guide_master_button,
            self.guide_enter_button,
            self.guide_train_button,
        ):
            guide_buttons.addWidget(button)
        guide_buttons.addStretch(1)
        guide_layout = QVBoxLayout(self.guide)
        guide_layout.addWidget(self.guide_label)
        guide_layout.addLayout(guide_buttons)
        self.guide.hide()

        # --- raters
        self.model = RowsTableModel(list(HEADERS), self)
        self.table = self._table(self.model)
        self.table.setWordWrap(True)
        self.override_button = QPushButton("Override…")
        self.train_button = QPushButton("Give training sessions…")
        self.recalibrate_button = QPushButton("Schedule drift checks…")
        rater_buttons = QHBoxLayout()
        rater_buttons.addWidget(self.override_button)
        rater_buttons.addWidget(self.train_button)
        rater_buttons.addWidget(self.recalibrate_button)
        rater_buttons.addStretch(1)
        raters = QWidget()
        raters_layout = QVBoxLayout(raters)
        raters_layout.setContentsMargins(0, 0, 0, 0)
        raters_layout.addWidget(self.table, 1)
        raters_layout.addLayout(rater_buttons)

        # --- training sessions
        self.training_model = RowsTableModel(list(TRAINING_HEADERS), self)
        self.training_table = self._table(self.training_model)
        self.training_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.mark_button = QPushButton("Mark training sessions…")
        self.master_button = QPushButton("Assign master coding…")
        self.enter_button = QPushButton("Enter master coding")
        self.enter_button.setEnabled(False)
        training_buttons = QHBoxLayout()
        training_buttons.addWidget(self.mark_button)
        training_buttons.addWidget(self.master_button)
        training_buttons.addWidget(self.enter_button)
        training_buttons.addStretch(1)
        training = QWidget()
        training_layout = QVBoxLayout(training)
        training_layout.addWidget(self.training_table, 1)
        training_layout.addLayout(training_buttons)

        # --- agreement over time
        self.chart_rater = QComboBox()
        self.chart_statistic = QComboBox()
        self.chart_statistic.addItem("Within one point of the master", CHART_WITHIN_ONE)
        self.chart_statistic.addItem("ICC over the latest sessions", CHART_ICC)
        self.chart = DriftChart()
        self.chart.clear("Choose a rater.")
        self._chart_series: list[AgreementPoint] = []
        chart_top = QHBoxLayout()
        chart_top.addWidget(QLabel("Rater"))
        chart_top.addWidget(self.chart_rater, 1)
        chart_top.addWidget(QLabel("Show"))
        chart_top.addWidget(self.chart_statistic, 2)
        agreement = QWidget()
        agreement_layout = QVBoxLayout(agreement)
        agreement_layout.addLayout(chart_top)
        agreement_layout.addWidget(self.chart, 1)

        # --- override history
        self.history_model = RowsTableModel(list(HISTORY_HEADERS), self)
        self.history_table = self._table(self.history_model)
        history = QWidget()
        history_layout = QVBoxLayout(history)
        history_layout.addWidget(self.history_table)

        self.pages = QTabWidget()
        self.pages.addTab(training, "Training sessions")
        self.pages.addTab(agreement, "Agreement over time")
        self.pages.addTab(history, "Override history")

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(raters)
        splitter.addWidget(self.pages)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)

        top = QHBoxLayout()
        top.addWidget(QLabel("Scale"))
        top.addWidget(self.scale_combo, 1)
        top.addWidget(self.refresh_button)
        settings_row = QHBoxLayout()
        settings_row.addWidget(self.settings_label, 1)
        settings_row.addWidget(self.require_box)
        settings_row.addWidget(self.criterion_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(settings_row)
        layout.addWidget(self.guide)
        layout.addWidget(splitter, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label)
        bottom.addWidget(self.message_label, 1)
        layout.addLayout(bottom)

        self.scale_combo.currentIndexChanged.connect(self._on_scale_changed)
        self.refresh_button.clicked.connect(self.refresh)
        self.criterion_button.clicked.connect(self._on_criterion_clicked)
        self.require_box.clicked.connect(self._on_require_clicked)
        self.override_button.clicked.connect(self._on_override_clicked)
        self.train_button.clicked.connect(self._on_train_clicked)
        self.guide_train_button.clicked.connect(self._on_train_clicked)
        self.recalibrate_button.clicked.connect(self._on_recalibrate_clicked)
        self.mark_button.clicked.connect(self._on_mark_clicked)
        self.guide_mark_button.clicked.connect(self._on_mark_clicked)
        self.master_button.clicked.connect(self._on_master_clicked)
        self.guide_master_button.clicked.connect(self._on_master_clicked)
        self.enter_button.clicked.connect(self._on_enter_clicked)
        self.guide_enter_button.clicked.connect(self._on_enter_clicked)
        self.table.selectionModel().selectionChanged.connect(self._on_rater_selected)
        self.training_table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.training_table.doubleClicked.connect(self._on_enter_clicked)
        self.chart_rater.currentIndexChanged.connect(self._on_chart_rater_changed)
        self.chart_statistic.currentIndexChanged.connect(self._show_chart)
        runner.changed.connect(self._on_changed)
        self._update_buttons()
        self._load_scales()

    @staticmethod
    def _table(model: RowsTableModel) -> QTableView:
        table = QTableView()
        table.setModel(model)
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setAlternatingRowColors(True)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        return table

    # ------------------------------------------------------------------ loading

    def current_scale_id(self) -> str | None:
        data = self.scale_combo.currentData()
        return None if data is None else str(data)

    def _scale_name(self) -> str:
        scale = self._scales.get(self.current_scale_id() or "")
        return scale.name if scale is not None else "this scale"

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
        self._scales = {s.id: s for s in scales}
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
    def refresh(self, *, after_writes: bool = False) -> None:
        """Recompute the chosen scale's certification overview in a worker.

        Args:
            after_writes: Compute in the storage worker, after every write queued so far
                (the writes of a coding window that just closed).
        """
        scale_id = self.current_scale_id()
        if scale_id is None:
            return
        self.refresh_button.setEnabled(False)
        self.status_label.setText("Computing…")
        run = self.runner.read if after_writes else self.runner.submit
        run(
            certification_overview,
            self.project,
            scale_id,
            on_done=self._on_status,
            on_error=self._on_failed,
            latest=(self, "status"),  # the lead may choose another scale meanwhile
        )

    def _on_status(self, overview: CertificationOverview) -> None:
        self.overview = overview
        self.refresh_button.setEnabled(True)
        self.settings_label.setText(overview.settings_sentence())
        self.require_box.setEnabled(True)
        self.require_box.setChecked(overview.required)
        masters = overview.masters
        selected = self.selected_rater()
        rows = sorted(overview.statuses.values(), key=lambda s: s.rater)
        self.model.set_rows([status_row(s, master=s.rater in masters) for s in rows], rows)
        self._select_row(self.table, self.model, selected)
        chosen = self.selected_training_session()
        self.training_model.set_rows(
            [training_row(t) for t in overview.training], list(overview.training)
        )
        self._select_row(self.training_table, self.training_model, chosen)
        self.history_model.set_rows(
            [(f"{e.at:%Y-%m-%d %H:%M}", e.actor, e.sentence()) for e in overview.overrides],
            list(overview.overrides),
        )
        step = overview.next_step()
        self.guide.setVisible(step is not None)
        if step is not None:
            self.guide_label.setText(f"<b>To certify raters on {self._scale_name()}:</b> {step}")
        trainees = [s.rater for s in rows if s.rater not in masters]
        self._fill_chart_raters(trainees)
        certified = sum(1 for s in rows if s.state == "certified")
        self.status_label.setText(
            f"{certified} of {len(trainees)} rater{'s' if len(trainees) != 1 else ''} certified."
            if trainees
            else "No active raters."
        )
        self._update_buttons()
        self.status_shown.emit()
        self._load_chart()

    @staticmethod
    def _select_row(table: QTableView, model: RowsTableModel, key: str | None) -> None:
        for row in range(model.rowCount()):
            if model.row(row)[0] == key:
                table.selectRow(row)
                return

    def _on_failed(self, error: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        text = str(error).strip() or "The certification status could not be computed."
        self.status_label.setText(text[0].upper() + text[1:])

    # ------------------------------------------------------------------ selection

    def selected_rater(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return None if not rows else str(self.model.row(rows[0].row())[0])

    def selected_training_session(self) -> str | None:
        rows = self.training_table.selectionModel().selectedRows()
        return None if not rows else str(self.training_model.row(rows[0].row())[0])

    def _selected_record(self) -> TrainingSessionRecord | None:
        rows = self.training_table.selectionModel().selectedRows()
        if not rows:
            return None
        record = self.training_model.payload(rows[0].row())
        assert isinstance(record, TrainingSessionRecord)
        return record

    def _master_to_enter(self) -> TrainingSessionRecord | None:
        """The selected training session's unfinished master coding, else the first one."""
        record = self._selected_record()
        if record is not None:
            return record if _enterable(record) else None
        if self.overview is None:
            return None
        return next((t for t in self.overview.training if _enterable(t)), None)

    @Slot()
    def _update_buttons(self, *_args: object) -> None:
        ready = self.overview is not None
        has_rater = self.selected_rater() is not None
        self.override_button.setEnabled(ready and has_rater)
        self.criterion_button.setEnabled(ready)
        training = self.overview.training if self.overview is not None else ()
        mastered = any(t.master_rater is not None for t in training)
        self.train_button.setEnabled(mastered)
        self.train_button.setToolTip("" if mastered else "Assign master codings first.")
        certified = self.overview is not None and any(
            s.state != "in_training" for s in self.overview.statuses.values()
        )
        self.recalibrate_button.setEnabled(mastered and certified)
        self.recalibrate_button.setToolTip(
            "" if mastered and certified else "Drift checks are for certified raters."
        )
        enterable = self._master_to_enter() is not None
        self.enter_button.setEnabled(enterable)
        self.enter_button.setToolTip(
            "" if enterable else "Select a training session whose master coding is not submitted."
        )
        self.guide_master_button.setVisible(bool(training))
        self.guide_enter_button.setVisible(enterable)
        self.guide_train_button.setVisible(
            any(t.master_state == CodingStatus.SUBMITTED for t in training)
        )

    @Slot()
    def _on_rater_selected(self, *_args: object) -> None:
        self._update_buttons()
        rater = self.selected_rater()
        if rater is not None and self.chart_rater.findText(rater) >= 0:
            self.chart_rater.setCurrentText(rater)

    # ------------------------------------------------------------------ chart

    def _fill_chart_raters(self, raters: list[str]) -> None:
        current = self.chart_rater.currentText()
        self._loading = True
        try:
            self.chart_rater.clear()
            self.chart_rater.addItems(raters)
            if current in raters:
                self.chart_rater.setCurrentText(current)
        finally:
            self._loading = False

    @Slot(int)
    def _on_chart_rater_changed(self, _index: int) -> None:
        if not self._loading:
            self._load_chart()

    def _load_chart(self) -> None:
        scale_id = self.current_scale_id()
        rater = self.chart_rater.currentText()
        if scale_id is None or not rater:
            self._chart_series = []
            self.chart.clear("No rater to show.")
            self.chart_shown.emit()
            return
        self.runner.submit(
            agreement_over_time,
            self.project,
            rater,
            scale_id,
            on_done=partial(self._on_chart_series, rater),
            on_error=self._on_failed,
            latest=(self, "chart"),
        )

    def _on_chart_series(self, rater: str, series: list[AgreementPoint]) -> None:
        self._chart_series = series
        self._chart_for = rater
        self._show_chart()
        self.chart_shown.emit()

    @Slot()
    def _show_chart(self, *_args: object) -> None:
        rater = getattr(self, "_chart_for", "")
        if not self._chart_series:
            self.chart.clear(
                f"{rater} has no submitted coding of a master-coded session yet."
                if rater
                else "No rater to show."
            )
            return
        statistic = str(self.chart_statistic.currentData())
        criterion = self.overview.criterion if self.overview is not None else None
        if statistic == CHART_ICC:
            form = criterion.icc_form if criterion is not None else "ICC"
            n = criterion.min_sessions if criterion is not None else 0
            title = f"{rater}: {form} with the master over the latest {n} sessions"
            threshold = criterion.min_icc if criterion is not None else None
        else:
            title = f"{rater}: share of items within one point of the master"
            threshold = criterion.min_within_one if criterion is not None else None
        self.chart.set_points(
            chart_points(self._chart_series, statistic),
            title=title,
            bands=statistic == CHART_ICC,
            x_title="compared session (training or drift check), in order of submission",
            threshold=threshold,
        )

    # ------------------------------------------------------------------ actions

    def _run(self, fn: Callable[..., Any], *args: Any, done_text: str = "", **kwargs: Any) -> None:
        """Run a certification change as a lead-side mutation (broadcast once)."""
        self.message_label.setText("Saving…")
        self.runner.run_op(
            fn,
            *args,
            on_done=partial(self._on_saved, done_text),
            on_error=self._on_action_failed,
            **kwargs,
        )

    def _on_saved(self, done_text: str, result: object) -> None:
        text = done_text
        if isinstance(result, TrainingReport):
            total = sum(len(v) for v in result.added.values())
            text = f"{total} training coding{'s' if total != 1 else ''} given."
        elif isinstance(result, MasterCodingsReport):
            n = len(result.codings)
            text = f"{n} master coding{'s' if n != 1 else ''} assigned to {result.master_rater}."
            if result.new_rater:
                text += f" {result.master_rater} is now a rater of the project."
        elif isinstance(result, RecalibrationReport):
            total = sum(len(v) for v in result.added.values())
            text = f"{total} drift check{'s' if total != 1 else ''} added."
            if result.short:
                text += " " + "; ".join(
                    f"{rater}: {n} due but no unseen master-coded session left"
                    for rater, n in sorted(result.short.items())
                )
                text += ". Master-code more training sessions."
        self.message_label.setText(text)

    def _on_action_failed(self, error: BaseException) -> None:
        self.message_label.setText("Not saved.")
        show_error(self, error, title="Certification")
        self.refresh()

    def _keep(self, dialog: QWidget) -> None:
        self.dialog = dialog

    @Slot()
    def _on_require_clicked(self, checked: bool = False) -> None:
        self._run(
            set_require_certification,
            self.project,
            bool(checked),
            done_text=(
                "Plans now give real sessions only to certified raters."
                if checked
                else "Certification is no longer required for plans."
            ),
        )

    @Slot()
    def _on_criterion_clicked(self) -> None:
        if self.overview is None:
            return
        dialog = CriterionDialog(self._scale_name(), self.overview.criterion, self)
        scale_id = self.overview.scale_id

        def done() -> None:
            if dialog.reset_requested:
                self._run(
                    set_criterion,
                    self.project,
                    scale_id,
                    None,
                    done_text="Back to the scale file's criterion.",
                )
                return
            c = dialog.criterion()
            self._run(
                update_criterion,
                self.project,
                scale_id,
                icc_form=c.icc_form,
                min_icc=c.min_icc,
                min_within_one=c.min_within_one,
                min_sessions=c.min_sessions,
                done_text="Criterion saved.",
            )

        dialog.accepted.connect(done)
        self._keep(dialog)
        dialog.open()

    @Slot()
    def _on_override_clicked(self) -> None:
        rater = self.selected_rater()
        if self.overview is None or rater is None:
            return
        status = self.overview.statuses.get(rater)
        dialog = OverrideDialog(
            rater,
            self._scale_name(),
            None if status is None else status.override,
            "" if status is None else status.override_reason,
            self,
        )
        scale_id = self.overview.scale_id

        def done() -> None:
            self._run(
                set_override,
                self.project,
                scale_id,
                rater,
                dialog.choice(),
                reason=dialog.reason.text(),
                done_text=f"Override of {rater} saved.",
            )

        dialog.accepted.connect(done)
        self._keep(dialog)
        dialog.open()

    @Slot()
    def _on_mark_clicked(self) -> None:
        self.message_label.setText("Loading the sessions…")
        self.runner.submit(
            self.project.sessions, on_done=self._on_sessions_for_marking, on_error=self._on_failed
        )

    def _on_sessions_for_marking(self, sessions: list[SessionInfo]) -> None:
        self.message_label.setText("")
        if not sessions:
            show_message(self, "Training sessions", "The project has no sessions yet.")
            return

        def shown(s: SessionInfo) -> str:
            number = "" if s.session_number is None else f", session {s.session_number}"
            return f"{s.key}  (patient {s.patient}, therapist {s.therapist}{number})"

        before = {s.key for s in sessions if s.training}
        dialog = ChecklistDialog(
            "Training sessions",
            "Tick the sessions raters are certified on. Training sessions leave the "
            "analysis: they are for training and drift checks only.",
            [(s.key, shown(s), s.training) for s in sessions],
            self,
            allow_none=True,  # unticking every session is a change too
        )

        def done() -> None:
            after = set(dialog.checked())
            on, off = sorted(after - before), sorted(before - after)
            if on:
                self._run(
                    set_training_sessions,
                    self.project,
                    on,
                    True,
                    done_text=f"{_sessions(len(on))} now training sessions.",
                )
            if off:
                self._run(
                    set_training_sessions,
                    self.project,
                    off,
                    False,
                    done_text=f"{_sessions(len(off))} no longer training sessions.",
                )

        dialog.accepted.connect(done)
        self._keep(dialog)
        dialog.open()

    @Slot()
    def _on_master_clicked(self) -> None:
        if self.overview is None:
            return
        todo = [t.session_key for t in self.overview.training if t.master_rater is None]
        if not todo:
            show_message(
                self,
                "Master codings",
                "Every training session has a master coding of this scale."
                if self.overview.training
                else "Mark training sessions first.",
            )
            return
        raters = sorted(self.overview.statuses)
        masters = sorted(self.overview.masters)
        dialog = MasterCodingDialog(
            self._scale_name(), todo, raters, masters[0] if masters else None, self
        )
        scale_id = self.overview.scale_id

        def done() -> None:
            self._run(
                add_master_codings,
                self.project,
                dialog.checked(),
                scale_id,
                dialog.master_rater(),
                new_rater=dialog.is_new_rater(),
            )

        dialog.accepted.connect(done)
        self._keep(dialog)
        dialog.open()

    @Slot()
    def _on_train_clicked(self) -> None:
        if self.overview is None:
            return
        masters = self.overview.masters
        trainees = [
            (code, code, s.state == "in_training")
            for code, s in sorted(self.overview.statuses.items())
            if code not in masters
        ]
        dialog = ChecklistDialog(
            "Give training sessions",
            f"The ticked raters get every master-coded {self._scale_name()} training "
            "session they do not code yet, at the top of their queue. After submitting each "
            "they see their scores beside the master's.",
            trainees,
            self,
        )
        scale_id = self.overview.scale_id

        def done() -> None:
            self._run(assign_training, self.project, scale_id, dialog.checked())

        dialog.accepted.connect(done)
        self._keep(dialog)
        dialog.open()

    @Slot()
    def _on_recalibrate_clicked(self) -> None:
        if self.overview is None:
            return
        dialog = RecalibrationDialog(self._scale_name(), self.overview.recalibration_every, self)
        scale_id = self.overview.scale_id

        def done() -> None:
            self._run(schedule_recalibration, self.project, scale_id, every=dialog.every.value())

        dialog.accepted.connect(done)
        self._keep(dialog)
        dialog.open()

    @Slot()
    def _on_enter_clicked(self, *_args: object) -> None:
        record = self._master_to_enter()
        if record is None or self.master_window is not None:
            return
        assert record.master_rater is not None and record.master_coding_id is not None
        self.message_label.setText(f"Opening the master coding of {record.session_key}…")
        self.runner.read(
            _open_master_coding,
            self.project,
            record.master_rater,
            int(record.master_coding_id),
            on_done=self._on_master_loaded,
            on_error=self._on_action_failed,
        )

    def _on_master_loaded(self, loaded: tuple[RaterView, OpenedCoding]) -> None:
        view, opened = loaded
        if self._settings is None:
            self._settings = AppSettings()
        if self._keymap is None:
            self._keymap = Keymap(self._settings, self)
        window = CodingWindow(self.project, view, opened, self.runner, self._settings, self._keymap)
        window.setWindowTitle(f"Master coding · {window.windowTitle()}")
        window.closed.connect(self._on_master_closed)
        self.master_window = window
        self.message_label.setText(
            f"Master coding of {opened.state.session_key} open as {view.code}."
        )
        window.fit_to_screen()
        window.show()
        self.master_window_opened.emit(window)

    def close_master_window(self) -> None:
        """Close the master coding's window, if open (its last writes are saved)."""
        if self.master_window is not None:
            self.master_window.close()

    @Slot()
    def _on_master_closed(self) -> None:
        if self.master_window is not None:
            self.master_window.deleteLater()
        self.master_window = None
        # The coding window's writes are the master's, not lead mutations: no broadcast.
        self.refresh(after_writes=True)


def _sessions(n: int) -> str:
    return f"{n} session{'s' if n != 1 else ''}"


def _enterable(record: TrainingSessionRecord) -> bool:
    return record.master_coding_id is not None and record.master_state in (
        CodingStatus.NOT_STARTED,
        CodingStatus.IN_PROGRESS,
    )
