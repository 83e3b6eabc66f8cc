"""The lead's "Plans" tab: build, preview and store the assignment plan of a scale.

The inputs are those of ``session-coder assign``; the raters are ticked one by one or
drawn from a named rater pool (``--pool``, the Pools tab makes them). "Preview" runs
:func:`coder.planning.make_plan` in a worker and shows the plan's summary without
storing anything: rater loads, the rater-pair heat-map, strata coverage and the
guarantees the plan had to relax. "Save plan" plans again and stores the plan in the
storage worker (:func:`coder.planning.plan_and_save`: the same inputs and seed give
the same plan, and planning at save time sees any work started since the preview).
The tab also shows each rater's progress on the scale.

The tab follows the runner's change notifications (:attr:`~ui.tasks.TaskRunner.changed`):
a change of sessions, raters or scales reads everything again and fills the inputs
anew; a change of the stored plan, the assignments or the codings (a plan saved here
or elsewhere, a coding reopened) reads the stored plan and the progress only, and
leaves the inputs and the summary on screen as they are.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from coder.assignment import Plan, PlanSummary
from coder.changes import OpChanges
from coder.errors import InputError
from coder.planning import (
    STRATA_KEYS,
    PlanRequest,
    PlanState,
    load_plan_state,
    make_plan,
    plan_and_save,
)
from coder.store.project import CODING_STATES, Project
from ui.dialogs import Choice, as_sentence, show_error, show_message
from ui.pair_matrix_view import PairMatrixView
from ui.rows_table_model import RowsTableModel
from ui.scoring_panel import STATE_LABELS
from ui.tasks import TaskRunner

DEFAULT_SHARE_PERCENT = 30
DEFAULT_SEED = 1
SHARE_UNIT = "% of sessions"
COUNT_UNIT = "sessions"
NO_POOL = "None: tick the raters"
STRATA_LABELS = {
    "therapist": "Therapist",
    "patient": "Patient",
    "phase": "Treatment phase",
    "session_number": "Session number",
}
TOPIC_LABELS = {
    "loads": "Loads",
    "pairs": "Rater pairs",
    "strata": "Strata",
    "spread": "Spread",
    "double coding": "Double coding",
    "coverage": "Coverage",
    "certification": "Certification",
    "version": "Scale version",
    "re-code": "Re-code",
}


def relaxed_sentence(reason: str) -> tuple[str, str]:
    """Split a relaxed-guarantee reason into its topic and a plain sentence.

    ``"coverage: 1 rater without a session (A)"`` ->
    ``("Coverage", "1 rater without a session (A).")``.
    """
    topic, sep, text = reason.partition(":")
    topic = topic.strip()
    # Reasons start with a short topic word ("loads:", "double coding:"); anything
    # else is shown whole.
    if not sep or not re.fullmatch(r"[a-z][a-z ]{0,24}", topic):
        topic, text = "", reason
    text = text.strip()
    if text:
        text = text[0].upper() + text[1:]
        if not text.endswith((".", "!", "?")):
            text += "."
    return TOPIC_LABELS.get(topic, topic.capitalize()), text


def parse_session_numbers(text: str) -> tuple[int, ...]:
    """``"2, 3"`` or ``"2-4"`` -> ``(2, 3, 4)``; empty text -> ``()`` (all sessions).

    Raises:
        InputError: the text is not a list of numbers and ranges.
    """
    numbers: list[int] = []
    for part in re.split(r"[,\s;]+", text.strip()):
        if not part:
            continue
        match = re.fullmatch(r"(\d+)(?:\s*[-–]\s*(\d+))?", part)
        if match is None:
            raise InputError(
                f"session numbers: {part!r} is not a number or a range; write e.g. 2, 3 or 2-4"
            )
        lo = int(match.group(1))
        hi = int(match.group(2) or lo)
        if hi < lo:
            lo, hi = hi, lo
        numbers.extend(range(lo, hi + 1))
    return tuple(sorted(set(numbers)))


def _format_numbers(numbers: Any) -> str:
    return ", ".join(str(n) for n in numbers)


def _table(model: RowsTableModel, *, stretch_first: bool = True) -> QTableView:
    table = QTableView()
    table.setModel(model)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(24)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    if stretch_first:
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    return table


def _box(title: str, widget: QWidget, note: QLabel | None = None) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(6, 6, 6, 6)
    if note is not None:
        layout.addWidget(note)
    layout.addWidget(widget)
    return box


class PlanPanel(QWidget):
    """Inputs, preview and storing of an assignment plan; see the module docstring.

    Signals:
        state_loaded(): the scale's stored plan and progress are shown.
        preview_shown(): a preview's summary is shown.
        plan_saved(int): a plan was stored; its id.
    """

    #: Changes that read everything again and fill the inputs anew.
    INPUTS = OpChanges(sessions=True, raters=True, scales=True, pools=True)
    #: Changes that read the stored plan and the progress again.
    STORED = OpChanges(plan=True, assignments=True, codings=True)

    state_loaded = Signal()
    preview_shown = Signal()
    plan_saved = Signal(int)

    def __init__(self, project: Project, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.runner = runner
        self._state: PlanState | None = None
        self._sessions_total = 0
        self._loading = False
        self._full_read_pending = False
        self.summary: PlanSummary | None = None  # the summary on screen
        self._build()
        runner.changed.connect(self._on_changed)
        self.refresh()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        outer = QHBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        inputs = QWidget()
        form = QFormLayout(inputs)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.scale_combo = QComboBox()
        self.scale_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.scale_combo.setMinimumContentsLength(16)
        self.scale_combo.currentIndexChanged.connect(self._on_scale_changed)
        form.addRow("Scale", self.scale_combo)
        # What in the chosen scale is not the published source's (placeholder anchors,
        # our descriptions and rules): the lead sees it before planning.
        self.scale_notes = QLabel("")
        self.scale_notes.setObjectName("scale_notes")
        self.scale_notes.setWordWrap(True)
        self.scale_notes.setStyleSheet("color: #9a3412;")
        self.scale_notes.setVisible(False)
        form.addRow(self.scale_notes)
        # Scales planned together (assign --scale A --scale B): the same raters on each,
        # coded in one listening; each scale keeps its own codings.
        self.together_list = QListWidget()
        self.together_list.setMaximumHeight(4 * (self.fontMetrics().height() + 10) + 4)
        self.together_list.setToolTip(
            "Ticked scales are planned with this one: every session gets the same raters "
            "on each, who code them in one listening (each scale keeps its own codings, "
            "reliability and exports)"
        )
        form.addRow("Plan together\nwith", self.together_list)
        self.pool_combo = QComboBox()
        self.pool_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.pool_combo.setMinimumContentsLength(16)
        self.pool_combo.setToolTip(
            "Take the plan's raters from a named pool (the Pools tab makes them), or "
            "tick them one by one"
        )
        self.pool_combo.currentIndexChanged.connect(self._on_pool_changed)
        form.addRow("Rater pool", self.pool_combo)
        self.rater_list = QListWidget()
        self.rater_list.setMaximumHeight(110)
        self.rater_list.setToolTip("The raters of this plan (tick to include)")
        form.addRow("Raters", self.rater_list)
        double_row = QHBoxLayout()
        self.double_spin = QSpinBox()
        self.double_spin.setRange(0, 100)
        self.double_spin.setValue(DEFAULT_SHARE_PERCENT)
        self.double_unit = QComboBox()
        self.double_unit.addItems([SHARE_UNIT, COUNT_UNIT])
        self.double_unit.currentIndexChanged.connect(self._on_double_unit_changed)
        double_row.addWidget(self.double_spin)
        double_row.addWidget(self.double_unit, 1)
        form.addRow("Double-code", double_row)
        strata = QVBoxLayout()
        strata.setSpacing(2)
        self.strata_checks: dict[str, QCheckBox] = {}
        for key in STRATA_KEYS:
            check = QCheckBox(STRATA_LABELS.get(key, key))
            self.strata_checks[key] = check
            strata.addWidget(check)
        form.addRow("Stratify by", strata)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2_147_483_647)
        self.seed_spin.setValue(DEFAULT_SEED)
        self.seed_spin.setToolTip("The same inputs and seed always give the same plan")
        form.addRow("Seed", self.seed_spin)
        self.exclude_list = QListWidget()
        # Five rows (its items are padded by the style sheet), not a three-row slit.
        self.exclude_list.setMinimumHeight(5 * (self.fontMetrics().height() + 10) + 4)
        self.exclude_list.setMaximumHeight(6 * (self.fontMetrics().height() + 10) + 4)
        self.exclude_list.setToolTip(
            "Raters who code a ticked scale get no work on this one, so the ratings of "
            "one scale cannot colour those of another on the same sessions"
        )
        form.addRow("Keep apart from\nraters of", self.exclude_list)
        self.session_numbers_edit = QLineEdit()
        self.session_numbers_edit.setPlaceholderText("all (or e.g. 2, 3 or 2-4)")
        form.addRow("Session numbers", self.session_numbers_edit)
        self.training_edit = QLineEdit()
        self.training_edit.setPlaceholderText("none (session ids, comma-separated)")
        self.training_edit.setToolTip(
            "Sessions every rater codes for training; they are left out of the analysis"
        )
        form.addRow("Training sessions", self.training_edit)
        self.recode_check = QCheckBox("Re-code sessions coded under an older version")
        self.recode_check.setToolTip(
            "Without it, sessions already coded under an older version of the scale stay "
            "on it. With it, their raters code them again under the newest version; each "
            "earlier coding counts until its re-code is submitted."
        )
        form.addRow(self.recode_check)
        buttons = QHBoxLayout()
        self.preview_button = QPushButton("Preview")
        self.preview_button.setDefault(True)
        self.preview_button.clicked.connect(self.preview)
        self.save_button = QPushButton("Save plan")
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.preview_button)
        buttons.addWidget(self.save_button)
        form.addRow(buttons)
        self.input_problem = QLabel("")
        self.input_problem.setWordWrap(True)
        self.input_problem.setStyleSheet("color: #9a3412;")
        form.addRow(self.input_problem)
        scroll = QScrollArea()
        scroll.setWidget(inputs)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setMinimumWidth(330)
        scroll.setMaximumWidth(380)
        outer.addWidget(scroll)

        results = QVBoxLayout()
        self.result_title = QLabel("Loading…")
        self.result_title.setWordWrap(True)
        self.result_title.setTextFormat(Qt.TextFormat.RichText)
        results.addWidget(self.result_title)
        grid = QGridLayout()
        grid.setSpacing(8)
        self.loads_model = RowsTableModel(["Rater", "Codings", "Training"], self)
        self.loads_table = _table(self.loads_model)
        grid.addWidget(_box("Load per rater", self.loads_table), 0, 0)
        self.pair_view = PairMatrixView()
        grid.addWidget(_box("Sessions double-coded together, by rater pair", self.pair_view), 0, 1)
        self.strata_model = RowsTableModel(["Stratum", "Sessions", "Double-coded"], self)
        self.strata_table = _table(self.strata_model)
        self.strata_keys_label = QLabel("")
        self.strata_keys_label.setStyleSheet("color: #4b5563;")
        grid.addWidget(_box("Strata coverage", self.strata_table, self.strata_keys_label), 1, 0)
        # Two-line headers ("Not / started") and columns as wide as their contents: six
        # columns fit the half-width box at 1366x768, none clipped, none scrolled away.
        self.progress_model = RowsTableModel(
            [
                "Rater",
                *(STATE_LABELS[s].capitalize().replace(" ", "\n", 1) for s in CODING_STATES),
                "Total",
            ],
            self,
        )
        self.progress_table = _table(self.progress_model)
        progress_header = self.progress_table.horizontalHeader()
        progress_header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.progress_box = _box("Progress on this scale (stored codings)", self.progress_table)
        grid.addWidget(self.progress_box, 1, 1)
        # The right column holds the widest tables (pair matrix, six progress columns).
        grid.setColumnStretch(0, 4)
        grid.setColumnStretch(1, 5)
        grid.setRowStretch(0, 1)
        grid.setRowStretch(1, 1)
        results.addLayout(grid, 1)
        self.relaxed_label = QLabel("")
        self.relaxed_label.setWordWrap(True)
        self.relaxed_label.setTextFormat(Qt.TextFormat.RichText)
        self.relaxed_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.relaxed_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        results.addWidget(self.relaxed_label)
        outer.addLayout(results, 1)

    # ------------------------------------------------------------------ loading

    def refresh(self) -> None:
        """Re-read the scales, raters and the current scale's stored plan and progress."""
        self._full_read_pending = True
        self.runner.submit(
            load_plan_state,
            self.project,
            self.current_scale_id(),
            on_done=self._on_state_loaded,
            on_error=self._on_failed,
            latest=(self, "state"),  # a newer request supersedes this one
        )

    def _reload_stored(self) -> None:
        """Re-read the current scale's stored plan and progress; the inputs stay."""
        self.runner.submit(
            load_plan_state,
            self.project,
            self.current_scale_id(),
            on_done=self._on_stored_loaded,
            on_error=self._on_failed,
            latest=(self, "state"),
        )

    @Slot(object)
    def _on_changed(self, changes: OpChanges) -> None:
        # A full read still on its way would be superseded by a narrower one: widen.
        if changes & self.INPUTS or (changes & self.STORED and self._full_read_pending):
            self.refresh()
        elif changes & self.STORED:
            self._reload_stored()

    def current_scale_id(self) -> str | None:
        data = self.scale_combo.currentData()
        return str(data) if data is not None else None

    def _on_scale_changed(self, _index: int) -> None:
        if not self._loading:
            self.refresh()

    def _on_state_loaded(self, state: PlanState) -> None:
        self._full_read_pending = False
        self._state = state
        self._loading = True
        try:
            self._fill_inputs(state)
        finally:
            self._loading = False
        self._show_progress(state.progress)
        self._show_scale_notes(state)
        if state.scale_id is None:
            self.result_title.setText("The project has no scales yet; add one first.")
            self._clear_summary()
        elif state.stored is not None and state.stored_summary is not None:
            when = (
                state.stored.created_at.astimezone().strftime("%d %b %Y, %H:%M")
                if state.stored.created_at
                else "earlier"
            )
            self._show_summary(
                state.stored_summary,
                tuple(state.stored.params.get("stratify", ())),
                f"<b>Plan in force</b> (saved {when}). Change the inputs and press "
                "<i>Preview</i> to see a new plan; started work never moves.",
            )
        else:
            self.result_title.setText(
                "<b>No plan stored for this scale yet.</b> Set the inputs and press <i>Preview</i>."
            )
            self._clear_summary()
        self.state_loaded.emit()

    def _show_scale_notes(self, state: PlanState) -> None:
        scale = next((sc for sc in state.scales if sc.id == state.scale_id), None)
        lines = scale.lead_notes() if scale is not None else []
        self.scale_notes.setText("\n".join(f"• {line}" for line in lines))
        self.scale_notes.setVisible(bool(lines))

    def _fill_inputs(self, state: PlanState) -> None:
        self.scale_combo.clear()
        for scale in state.scales:
            self.scale_combo.addItem(scale.name, scale.id)
            self.scale_combo.setItemData(
                self.scale_combo.count() - 1,
                f"{scale.name} ({scale.id})",
                Qt.ItemDataRole.ToolTipRole,
            )
        if state.scale_id is not None:
            self.scale_combo.setCurrentIndex(self.scale_combo.findData(state.scale_id))
        params: dict[str, Any] = dict(state.stored.params) if state.stored else {}
        chosen = set(params.get("raters", [r.code for r in state.raters]))
        self.rater_list.clear()
        for rater in state.raters:
            item = QListWidgetItem(rater.code if not rater.name else f"{rater.code} ({rater.name})")
            item.setData(Qt.ItemDataRole.UserRole, rater.code)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if rater.code in chosen else Qt.CheckState.Unchecked
            )
            self.rater_list.addItem(item)
        self._sessions_total = len(state.sessions)
        double = params.get("double", DEFAULT_SHARE_PERCENT / 100)
        if isinstance(double, float):
            self.double_unit.setCurrentText(SHARE_UNIT)
            self._on_double_unit_changed(0)
            self.double_spin.setValue(round(double * 100))
        else:
            self.double_unit.setCurrentText(COUNT_UNIT)
            self._on_double_unit_changed(1)
            self.double_spin.setValue(int(double))
        stratify = set(params.get("stratify", ()))
        for key, check in self.strata_checks.items():
            check.setChecked(key in stratify)
        self.seed_spin.setValue(int(params.get("seed", DEFAULT_SEED)))
        self.pool_combo.clear()
        self.pool_combo.addItem(NO_POOL, None)
        for found in state.pools:
            label = f"{found.name} (separate team)" if found.separate else found.name
            self.pool_combo.addItem(label, found.name)
            self.pool_combo.setItemData(
                self.pool_combo.count() - 1, ", ".join(found.raters), Qt.ItemDataRole.ToolTipRole
            )
        self.pool_combo.setCurrentIndex(max(0, self.pool_combo.findData(params.get("pool"))))
        self._on_pool_changed(self.pool_combo.currentIndex())
        # A stored group plan names its first scale and the others (with_scales).
        together = {params.get("scale"), *params.get("with_scales", ())} - {state.scale_id}
        others = [(sc.id, sc.id, sc.name) for sc in state.scales if sc.id != state.scale_id]
        _fill_checks(self.together_list, others, together)
        pools = [
            (p.name, f"pool {p.name}", f"The raters of pool {p.name}: {', '.join(p.raters)}")
            for p in state.pools
        ]
        _fill_checks(self.exclude_list, pools + others, set(params.get("exclude_pool_of", ())))
        self.session_numbers_edit.setText(_format_numbers(params.get("session_numbers", ())))
        # Without a stored plan, the sessions the project marks as training are proposed.
        training = (
            params.get("training") if params else [s.key for s in state.sessions if s.training]
        )
        self.training_edit.setText(", ".join(training or ()))
        self.input_problem.setText("")

    def current_pool(self) -> str | None:
        """The pool the plan's raters come from, or None (raters ticked one by one)."""
        data = self.pool_combo.currentData()
        return str(data) if data is not None else None

    def _on_pool_changed(self, _index: int) -> None:
        """A pool ticks its raters (and only them); the list is then read only."""
        name = self.current_pool()
        found = (
            next((p for p in self._state.pools if p.name == name), None) if self._state else None
        )
        if found is not None:
            for i in range(self.rater_list.count()):
                item = self.rater_list.item(i)
                inside = item.data(Qt.ItemDataRole.UserRole) in found.raters
                item.setCheckState(Qt.CheckState.Checked if inside else Qt.CheckState.Unchecked)
        self.rater_list.setEnabled(found is None)

    def _on_double_unit_changed(self, _index: int) -> None:
        if self.double_unit.currentText() == SHARE_UNIT:
            self.double_spin.setRange(0, 100)
            self.double_spin.setSuffix(" %")
        else:
            self.double_spin.setRange(0, max(self._sessions_total, 1))
            self.double_spin.setSuffix("")

    # ------------------------------------------------------------------ inputs

    def request(self) -> PlanRequest:
        """The plan request the inputs describe.

        Raises:
            InputError: no scale, no rater ticked, or unreadable session numbers.
        """
        scale_id = self.current_scale_id()
        if scale_id is None:
            raise InputError("choose a scale first")
        pool = self.current_pool()
        # With a pool the core takes its raters (and checks the teams), as --pool does.
        raters = (
            ()
            if pool
            else tuple(
                str(self.rater_list.item(i).data(Qt.ItemDataRole.UserRole))
                for i in range(self.rater_list.count())
                if self.rater_list.item(i).checkState() == Qt.CheckState.Checked
            )
        )
        if not raters and not pool:
            raise InputError("tick at least one rater, or choose a rater pool")
        if self.double_unit.currentText() == SHARE_UNIT:
            double: float | int = self.double_spin.value() / 100
        else:
            double = int(self.double_spin.value())
        stratify = tuple(k for k in STRATA_KEYS if self.strata_checks[k].isChecked())
        apart = _ticked(self.exclude_list)
        together = _ticked(self.together_list)
        training = tuple(
            dict.fromkeys(t for t in re.split(r"[,\s;]+", self.training_edit.text()) if t)
        )
        return PlanRequest(
            scale_id=scale_id,
            raters=raters,
            double=double,
            stratify=stratify,
            seed=int(self.seed_spin.value()),
            exclude_pool_of=apart,
            session_numbers=parse_session_numbers(self.session_numbers_edit.text()),
            training=training,
            recode=self.recode_check.isChecked(),
            pool=pool,
            with_scales=together,
        )

    def _checked_request(self) -> PlanRequest | None:
        try:
            request = self.request()
        except InputError as error:
            self.input_problem.setText(as_sentence(str(error)))
            return None
        self.input_problem.setText("")
        return request

    # ------------------------------------------------------------------ preview

    def preview(self) -> None:
        """Plan with the current inputs in a worker and show the summary (nothing stored)."""
        request = self._checked_request()
        if request is None:
            return
        self.preview_button.setEnabled(False)
        self.result_title.setText("Planning…")
        self.runner.submit(
            make_plan,
            self.project,
            request,
            on_done=partial(self._on_preview, request),
            on_error=self._on_plan_failed,
        )

    def _on_preview(self, request: PlanRequest, plan: Plan) -> None:
        self.preview_button.setEnabled(True)
        summary = plan.summary()
        self._show_summary(
            summary,
            request.stratify,
            f"<b>Preview — not saved.</b>{_together_words(request)} {len(plan.sessions)} sessions, "
            f"{summary.double_coded} double-coded, seed {request.seed}. "
            "Press <i>Save plan</i> to store it.",
        )
        self.preview_shown.emit()

    def _on_plan_failed(self, error: BaseException) -> None:
        self.preview_button.setEnabled(True)
        self.save_button.setEnabled(True)
        self.result_title.setText("<b>The plan could not be made.</b>")
        if isinstance(error, InputError):
            message = as_sentence(str(error))
            self.input_problem.setText(message)
            # The inputs may be scrolled: say why where the result goes, always in view.
            self.result_title.setText(f"<b>The plan could not be made:</b> {_escape(message)}")
        else:
            show_error(self, error)

    # ------------------------------------------------------------------ save

    def save(self) -> None:
        """Store the plan of the current inputs (asks first when it replaces one)."""
        request = self._checked_request()
        if request is None:
            return
        if self._state is not None and self._state.stored is not None:
            show_message(
                self,
                "Replace the plan?",
                f"Replace the plan in force for {' + '.join(request.scale_ids)}?",
                details="Codings not yet started are planned again; started and finished "
                "work stays with its rater.",
                icon="question",
                choices=[
                    Choice("replace", "Replace plan"),
                    Choice("cancel", "Cancel", QMessageBox.ButtonRole.RejectRole),
                ],
                default="replace",
                on_choice=partial(self._on_replace_choice, request),
            )
            return
        self._store(request)

    def _on_replace_choice(self, request: PlanRequest, key: str) -> None:
        if key == "replace":
            self._store(request)

    def _store(self, request: PlanRequest) -> None:
        self.save_button.setEnabled(False)
        self.result_title.setText("Saving the plan…")
        self.runner.run_op(
            partial(plan_and_save, self.project, request),
            on_done=partial(self._on_saved, request),
            on_error=self._on_plan_failed,
        )

    def _on_saved(self, request: PlanRequest, result: tuple[Plan, int]) -> None:
        plan, plan_id = result
        self.save_button.setEnabled(True)
        summary = plan.summary()
        self._show_summary(
            summary,
            request.stratify,
            f"<b>Plan saved</b> (#{plan_id}){_together_words(request)}: "
            f"{len(plan.sessions)} sessions, "
            f"{summary.double_coded} double-coded. The raters see it in their queues.",
        )
        # The change notification has asked for the stored plan and progress already.
        self.plan_saved.emit(plan_id)

    def _on_stored_loaded(self, state: PlanState) -> None:
        self._state = state
        self._show_progress(state.progress)
        self.state_loaded.emit()

    # ------------------------------------------------------------------ showing

    def _clear_summary(self) -> None:
        self.summary = None
        self.loads_model.set_rows([])
        self.strata_model.set_rows([])
        self.strata_keys_label.setText("")
        self.pair_view.clear("No plan yet.")
        self.relaxed_label.setText("")
        self.relaxed_label.setStyleSheet("")

    def _show_summary(self, summary: PlanSummary, stratify: tuple[str, ...], title: str) -> None:
        self.summary = summary
        self.result_title.setText(title)
        raters = sorted(set(summary.loads) | set(summary.training))
        self.loads_model.set_rows(
            [(r, summary.loads.get(r, 0), summary.training.get(r, 0)) for r in raters]
        )
        pool = sorted({r for p in summary.pair_counts for r in p.raters})
        if len(pool) >= 2:
            self.pair_view.set_pairs(pool, [p.as_dict() for p in summary.pair_counts])
        else:
            self.pair_view.clear("One rater: no pairs to double-code.")
        keys = " · ".join(STRATA_LABELS.get(k, k).lower() for k in stratify)
        self.strata_keys_label.setText(
            f"Strata by {keys}." if stratify else "No stratification: all sessions are one stratum."
        )
        rows = []
        for label, entry in summary.strata.items():
            shown = " · ".join(label.split("|")) if stratify else "all sessions"
            rows.append((shown, entry.sessions, entry.double_coded))
        self.strata_model.set_rows(rows)
        sentences = [relaxed_sentence(r) for r in summary.relaxed]
        if sentences:
            items = "".join(
                f"<li>{f'<b>{topic}:</b> ' if topic else ''}{_escape(text)}</li>"
                for topic, text in sentences
            )
            self.relaxed_label.setText(
                "<b>Guarantees this plan could not keep</b>"
                f"<ul style='margin-left:-20px; margin-top:2px;'>{items}</ul>"
            )
            self.relaxed_label.setStyleSheet(
                "QLabel { background: #fff7ed; border: 1px solid #fdba74; padding: 6px; }"
            )
        else:
            self.relaxed_label.setText(
                "All guarantees hold: loads and pair counts differ by at most one, and the "
                "double-coded sessions are spread proportionally over the strata."
            )
            self.relaxed_label.setStyleSheet(
                "QLabel { background: #f0fdf4; border: 1px solid #86efac; padding: 6px; }"
            )

    def relaxed_sentences(self) -> list[str]:
        """The relaxed guarantees on screen, as plain sentences ("Topic: sentence")."""
        if self.summary is None:
            return []
        out = []
        for reason in self.summary.relaxed:
            topic, text = relaxed_sentence(reason)
            out.append(f"{topic}: {text}" if topic else text)
        return out

    def _show_progress(self, progress: dict[str, dict[str, int]]) -> None:
        rows = [
            (rater, *(counts.get(s, 0) for s in CODING_STATES), sum(counts.values()))
            for rater, counts in sorted(progress.items())
        ]
        self.progress_model.set_rows(rows)

    @Slot(object)
    def _on_failed(self, error: BaseException) -> None:
        self._full_read_pending = False
        self.result_title.setText("The project could not be read.")
        show_error(self, error)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fill_checks(items: QListWidget, choices: list[tuple[str, str, str]], ticked: set[Any]) -> None:
    """Fill a list with check boxes: ``(id, text, tooltip)`` each, ticked if in ``ticked``."""
    items.clear()
    for key, text, tip in choices:
        item = QListWidgetItem(text)
        item.setToolTip(tip)
        item.setData(Qt.ItemDataRole.UserRole, key)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if key in ticked else Qt.CheckState.Unchecked)
        items.addItem(item)
    if not choices:
        none = QListWidgetItem("(no other scale in the project)")
        none.setFlags(Qt.ItemFlag.NoItemFlags)
        items.addItem(none)


def _ticked(items: QListWidget) -> tuple[str, ...]:
    """The ids (user data) of the ticked items of a list, in list order."""
    return tuple(
        str(items.item(i).data(Qt.ItemDataRole.UserRole))
        for i in range(items.count())
        if items.item(i).checkState() == Qt.CheckState.Checked
    )


def _together_words(request: PlanRequest) -> str:
    """ " for ghes + sthar (the same raters on each)" for scales planned together."""
    if not request.with_scales:
        return ""
    return f" for {' + '.join(request.scale_ids)} (the same raters on each)"
