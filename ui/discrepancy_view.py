"""Discrepancies on double-coded sessions, with both coders' notes.

The list shows every (session, item, pair of coders) whose scores differ by more than
the threshold (one point by default). Selecting a row shows both coders' notes with
their times; double-clicking a note, or "Open at note", asks for the session to be
opened in the player at that moment (:attr:`DiscrepancyView.open_session_requested`;
the lead's window decides how it is played).

Given the project and the task runner, "Record consensus…" (or "Change consensus…"
once there is one) asks for the score the coders agreed on and why
(:class:`ConsensusDialog`), "Withdraw consensus…" asks why it no longer stands
(:class:`WithdrawConsensusDialog`); both record it with
:func:`coder.consensus.record_consensus` as a mutation of the runner
(:meth:`~ui.tasks.TaskRunner.run_op`), and the list shows each recorded consensus in
its own column, read again whenever a mutation changes consensus scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from coder.changes import OpChanges
from coder.consensus import ConsensusMap, load_consensus, record_consensus
from coder.discrepancies import Discrepancy
from coder.kinds import ItemKind
from coder.scales import RatingScale, ScaleItem
from coder.store.project import Note, Project
from ui.dialogs import dialog_hub, show_error
from ui.rows_table_model import RowsTableModel
from ui.tasks import TaskRunner

HEADERS = (
    "Session",
    "Item",
    "Rater A",
    "Score A",
    "Rater B",
    "Score B",
    "Difference",
    "Consensus",
)


def format_mmss(position_ms: int) -> str:
    """``83_500`` -> ``"01:23"``; ``h:mm:ss`` from an hour on (whole seconds)."""
    total = max(0, int(position_ms)) // 1000
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes:02d}:{seconds:02d}"


def _score(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 3)


class _ConsensusReasonDialog(QDialog):
    """The frame both consensus dialogs share: a sentence on the discrepancy, their
    own fields, a reason that OK insists on (it is kept in the history), and OK/Cancel.

    The dialogs only collect values (:meth:`value`, :meth:`reason`); the caller
    records them through ``record_consensus``.
    """

    #: What the red line under the fields says while the reason is empty.
    missing_reason = ""

    def __init__(
        self,
        title: str,
        intro_html: str,
        ok_text: str,
        placeholder: str,
        parent: QWidget | None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        intro = QLabel(intro_html)
        intro.setWordWrap(True)
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText(placeholder)
        self.problem = QLabel("")
        self.problem.setStyleSheet("color: #a33;")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.form = QFormLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(self.form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        # Room for a reason of a sentence: at its natural width the field showed the
        # last few words only (seen at 1366x768).
        self.setMinimumWidth(480)

    def value(self) -> float | None:
        """The agreed score; None when the consensus is withdrawn."""
        return None

    def reason(self) -> str:
        return self.reason_edit.text().strip()

    def accept(self) -> None:
        if not self.reason():
            self.problem.setText(self.missing_reason)
            return
        super().accept()


class ConsensusDialog(_ConsensusReasonDialog):
    """Ask for the score the coders agreed on for one item, and why."""

    missing_reason = "Say in a few words why the coders agreed on this score."

    def __init__(
        self,
        discrepancy: Discrepancy,
        item: ScaleItem,
        current: tuple[float, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        d = discrepancy
        super().__init__(
            "Record consensus" if current is None else "Change consensus",
            f"<b>{d.session_id}</b> · {d.item_label}: {d.rater_a} scored "
            f"{_score(d.score_a)}, {d.rater_b} scored {_score(d.score_b)}. "
            "Their own scores stay as they are; reliability always uses those.",
            "Record" if current is None else "Change",
            "Why the coders agreed on this score (kept)",
            parent,
        )
        self.value_spin = QDoubleSpinBox()
        whole = item.kind != ItemKind.DURATION
        self.value_spin.setDecimals(0 if whole else 1)
        if item.values:
            self.value_spin.setRange(item.values[0], item.values[-1])
        else:  # counts and durations: not negative, no upper bound in the scale
            self.value_spin.setRange(0, 1_000_000)
        self.value_spin.setValue(current[0] if current is not None else d.score_a)
        # A change needs its own reason: the one recorded before stays in the history.
        if current is not None:
            self.reason_edit.setText(current[1])
            self.reason_edit.selectAll()
        self.form.addRow("Agreed score", self.value_spin)
        self.form.addRow("Reason", self.reason_edit)

    def value(self) -> float:
        return float(self.value_spin.value())


class WithdrawConsensusDialog(_ConsensusReasonDialog):
    """Ask why a recorded consensus score is withdrawn (the reason is kept).

    :meth:`value` is None: that is how a withdrawal is recorded.
    """

    missing_reason = "Say in a few words why the consensus is withdrawn."

    def __init__(
        self,
        discrepancy: Discrepancy,
        current: tuple[float, str],
        parent: QWidget | None = None,
    ) -> None:
        d = discrepancy
        super().__init__(
            "Withdraw consensus",
            f"<b>{d.session_id}</b> · {d.item_label}: the consensus is "
            f"<b>{_score(current[0])}</b> ({current[1]}). Withdrawn, the final score "
            "goes back to the raters' own scores; the consensus stays in the history.",
            "Withdraw",
            "Why the consensus no longer stands (kept)",
            parent,
        )
        self.form.addRow("Reason", self.reason_edit)


class DiscrepancyView(QWidget):
    """The discrepancy list and the notes of the selected one.

    Args:
        project: The project, for recording consensus scores (without it, and the
            runner, the list is read only).
        runner: Runs the consensus reads and writes off the GUI thread.

    Signals:
        open_session_requested(str, int): open this session (key) in the player at
            this position (ms).
        consensus_recorded(object): a consensus score was recorded, changed or
            withdrawn; the discrepancy.
    """

    open_session_requested = Signal(str, int)
    consensus_recorded = Signal(object)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        project: Project | None = None,
        runner: TaskRunner | None = None,
    ) -> None:
        super().__init__(parent)
        self._project = project
        self._runner = runner
        self._all: list[Discrepancy] = []
        self._shown: list[Discrepancy] = []
        self._consensus: ConsensusMap = {}
        self._consensus_dialog: (
            tuple[Discrepancy, ConsensusDialog | WithdrawConsensusDialog] | None
        ) = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(QLabel("Coders differ by more than"))
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setDecimals(0)
        self.threshold_spin.setRange(0, 100)
        self.threshold_spin.setValue(1)
        self.threshold_spin.setSuffix(" point(s)")
        self.threshold_spin.valueChanged.connect(self._apply_filter)
        top.addWidget(self.threshold_spin)
        self.count_label = QLabel("")
        top.addWidget(self.count_label, 1)
        layout.addLayout(top)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.model = RowsTableModel(list(HEADERS), self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        splitter.addWidget(self.table)

        notes = QWidget()
        notes_layout = QVBoxLayout(notes)
        notes_layout.setContentsMargins(6, 0, 0, 0)
        self.notes_title = QLabel("Select a discrepancy to see both coders' notes.")
        self.notes_title.setWordWrap(True)
        notes_layout.addWidget(self.notes_title)
        self.notes_a_box = QGroupBox("Coder A")
        self.notes_a = QListWidget()
        self.notes_b_box = QGroupBox("Coder B")
        self.notes_b = QListWidget()
        for box, lst in ((self.notes_a_box, self.notes_a), (self.notes_b_box, self.notes_b)):
            inner = QVBoxLayout(box)
            inner.setContentsMargins(4, 4, 4, 4)
            lst.setWordWrap(True)
            lst.itemDoubleClicked.connect(self._on_note_double_clicked)
            lst.currentItemChanged.connect(self._on_note_current_changed)
            inner.addWidget(lst)
            notes_layout.addWidget(box, 1)
        buttons = QHBoxLayout()
        self.open_start_button = QPushButton("Open session")
        self.open_start_button.setToolTip("Open the recording from the start")
        self.open_start_button.clicked.connect(self._open_start)
        self.open_note_button = QPushButton("Open at note")
        self.open_note_button.setToolTip("Open the recording at the selected note (double-click)")
        self.open_note_button.clicked.connect(self._open_at_note)
        self.consensus_button = QPushButton("Record consensus…")
        self.consensus_button.setToolTip("Record the score both coders agreed on, and why")
        self.consensus_button.clicked.connect(self._on_consensus_clicked)
        self.consensus_button.setVisible(project is not None and runner is not None)
        self.withdraw_button = QPushButton("Withdraw consensus…")
        self.withdraw_button.setToolTip("Withdraw the recorded consensus score, and say why")
        self.withdraw_button.clicked.connect(self._on_withdraw_clicked)
        self.withdraw_button.setVisible(project is not None and runner is not None)
        buttons.addWidget(self.consensus_button)
        buttons.addWidget(self.withdraw_button)
        buttons.addStretch(1)
        buttons.addWidget(self.open_start_button)
        buttons.addWidget(self.open_note_button)
        notes_layout.addLayout(buttons)
        splitter.addWidget(notes)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)
        self._selected_note: tuple[str, int] | None = None
        self._show_notes(None)
        if runner is not None:
            runner.changed.connect(self._on_changed)

    # ------------------------------------------------------------------ data

    def set_discrepancies(self, discrepancies: Sequence[Discrepancy]) -> None:
        """Show these (usually every differing pair; the threshold filters them)."""
        self._all = list(discrepancies)
        self._apply_filter()
        self._load_consensus()

    def threshold(self) -> float:
        return float(self.threshold_spin.value())

    def shown(self) -> list[Discrepancy]:
        """The discrepancies in the list, in row order."""
        return list(self._shown)

    def current(self) -> Discrepancy | None:
        rows = self.table.selectionModel().selectedRows()
        return self._shown[rows[0].row()] if rows else None

    def consensus_of(self, d: Discrepancy) -> tuple[float, str] | None:
        """The recorded consensus (score, reason) of a discrepancy's item, if any."""
        return self._consensus.get((d.scale_id, d.session_id, d.item_id))

    def _consensus_text(self, d: Discrepancy) -> int | float | None:
        agreed = self.consensus_of(d)
        return None if agreed is None else _score(agreed[0])

    def _apply_filter(self) -> None:
        limit = self.threshold()
        self._shown = [d for d in self._all if d.difference > limit]
        self._set_rows()
        sessions = len({d.session_id for d in self._shown})
        self.count_label.setText(
            f"  {len(self._shown)} discrepanc{'y' if len(self._shown) == 1 else 'ies'} "
            f"on {sessions} session{'s' if sessions != 1 else ''}"
        )
        self._show_notes(None)

    def _set_rows(self) -> None:
        self.model.set_rows(
            [
                (
                    d.session_id,
                    d.item_label,
                    d.rater_a,
                    _score(d.score_a),
                    d.rater_b,
                    _score(d.score_b),
                    _score(d.difference),
                    self._consensus_text(d),
                )
                for d in self._shown
            ],
            self._shown,
        )

    # ------------------------------------------------------------------ consensus

    @Slot(object)
    def _on_changed(self, changes: OpChanges) -> None:
        if changes.consensus:
            self._load_consensus()

    def _load_consensus(self) -> None:
        if self._project is None or self._runner is None:
            return
        self._runner.read(
            load_consensus,
            self._project,
            on_done=self._on_consensus_loaded,
            on_error=self._on_consensus_failed,
            latest=(self, "consensus"),  # a newer load supersedes this one
        )

    def _on_consensus_loaded(self, consensus: ConsensusMap) -> None:
        self._consensus = consensus
        # Redraw the rows without losing the lead's selection (the model is reset).
        current = self.current()
        with_signals = self.table.selectionModel().blockSignals(True)
        try:
            self._set_rows()
            if current is not None and current in self._shown:
                self.table.selectionModel().select(
                    self.model.index(self._shown.index(current), 0),
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
        finally:
            self.table.selectionModel().blockSignals(with_signals)
        if current is None or current not in self._shown:
            self._show_notes(None)
        else:
            self._update_consensus_buttons(current)

    def _update_consensus_buttons(self, d: Discrepancy | None) -> None:
        agreed = None if d is None else self.consensus_of(d)
        self.consensus_button.setEnabled(d is not None)
        self.consensus_button.setText("Change consensus…" if agreed else "Record consensus…")
        self.withdraw_button.setEnabled(agreed is not None)

    def _on_consensus_failed(self, error: BaseException) -> None:
        show_error(self, error, title="Consensus")

    def _on_consensus_clicked(self) -> None:
        d = self.current()
        if d is None or self._project is None or self._runner is None:
            return
        self.consensus_button.setEnabled(False)
        # The scale (for the item's range) comes from the store: read it in the worker.
        self._runner.read(
            self._project.scale,
            d.scale_id,
            on_done=partial(self._on_scale_for_consensus, d),
            on_error=self._on_consensus_failed,
        )

    def _on_scale_for_consensus(self, d: Discrepancy, scale: RatingScale) -> None:
        self._update_consensus_buttons(self.current())
        self._open_consensus_dialog(
            d, ConsensusDialog(d, scale.item(d.item_id), self.consensus_of(d), self)
        )

    def _on_withdraw_clicked(self) -> None:
        d = self.current()
        agreed = None if d is None else self.consensus_of(d)
        if d is not None and agreed is not None:
            self._open_consensus_dialog(d, WithdrawConsensusDialog(d, agreed, self))

    def _open_consensus_dialog(self, d: Discrepancy, dialog: _ConsensusReasonDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        # A bound method, not a partial holding the dialog: a slot that keeps its own
        # sender alive crashes PySide when Qt deletes the dialog.
        self._consensus_dialog = (d, dialog)
        dialog.accepted.connect(self._on_consensus_accepted)
        dialog.finished.connect(self._on_consensus_dialog_finished)
        dialog.open()
        dialog_hub().announce(dialog)

    def _on_consensus_dialog_finished(self, _result: int) -> None:
        self._consensus_dialog = None

    def _on_consensus_accepted(self) -> None:
        if self._consensus_dialog is None or self._project is None or self._runner is None:
            return
        d, dialog = self._consensus_dialog
        # Recorded, changed or withdrawn (no value) by the one core function, as the CLI.
        write = partial(
            record_consensus,
            self._project,
            d.scale_id,
            d.session_id,
            d.item_id,
            dialog.value(),
            dialog.reason(),
        )
        self._runner.run_op(
            write,
            on_done=partial(self._on_consensus_written, d),
            on_error=self._on_consensus_failed,
        )

    def _on_consensus_written(self, d: Discrepancy, _result: object) -> None:
        # The change notification has asked for the consensus scores already.
        self.consensus_recorded.emit(d)

    # ------------------------------------------------------------------ notes

    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._show_notes(self.current())

    def _show_notes(self, d: Discrepancy | None) -> None:
        self.notes_a.clear()
        self.notes_b.clear()
        self._selected_note = None
        self.open_note_button.setEnabled(False)
        self.open_start_button.setEnabled(d is not None)
        self._update_consensus_buttons(d)
        if d is None:
            self.notes_title.setText("Select a discrepancy to see both coders' notes.")
            self.notes_a_box.setTitle("Coder A")
            self.notes_b_box.setTitle("Coder B")
            return
        self.notes_title.setText(
            f"<b>{d.session_id}</b> · {d.item_label}: {d.rater_a} scored "
            f"{_score(d.score_a)}, {d.rater_b} scored {_score(d.score_b)}"
        )
        for box, lst, rater, score, notes in (
            (self.notes_a_box, self.notes_a, d.rater_a, d.score_a, d.notes_a),
            (self.notes_b_box, self.notes_b, d.rater_b, d.score_b, d.notes_b),
        ):
            box.setTitle(f"Notes of {rater} (scored {_score(score)})")
            self._fill(lst, d.session_id, notes)

    @staticmethod
    def _fill(lst: QListWidget, session_id: str, notes: Sequence[Note]) -> None:
        if not notes:
            empty = QListWidgetItem("(no notes)")
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            lst.addItem(empty)
            return
        for note in notes:
            item = QListWidgetItem(f"{format_mmss(note.position_ms)}   {note.text}")
            item.setData(Qt.ItemDataRole.UserRole, (session_id, int(note.position_ms)))
            item.setToolTip("Double-click to open the session here")
            lst.addItem(item)

    def note_texts(self, which: str) -> list[str]:
        """The note lines shown for coder ``"A"`` or ``"B"``."""
        lst = self.notes_a if which == "A" else self.notes_b
        return [lst.item(i).text() for i in range(lst.count())]

    def _on_note_current_changed(
        self, current: QListWidgetItem | None, _previous: QListWidgetItem | None
    ) -> None:
        target = current.data(Qt.ItemDataRole.UserRole) if current is not None else None
        if current is not None and target is not None:
            # One selected note at a time, across both coders' lists.
            other = self.notes_b if current.listWidget() is self.notes_a else self.notes_a
            other.setCurrentRow(-1)
            self._selected_note = (str(target[0]), int(target[1]))
        else:
            self._selected_note = None
        self.open_note_button.setEnabled(self._selected_note is not None)

    def _on_note_double_clicked(self, item: QListWidgetItem) -> None:
        target = item.data(Qt.ItemDataRole.UserRole)
        if target is not None:
            session_id, position = target
            self.open_session_requested.emit(str(session_id), int(position))

    def _open_at_note(self) -> None:
        if self._selected_note is not None:
            session_id, position = self._selected_note
            self.open_session_requested.emit(session_id, position)

    def _open_start(self) -> None:
        d = self.current()
        if d is not None:
            self.open_session_requested.emit(d.session_id, 0)
