"""The lead's "Pools" tab: named rater pools, their members and their keep-apart mark.

A pool is a named group of raters a plan can draw from (the Plans tab's "Rater pool").
A pool marked *separate* is a coder team kept apart from the other separate pools: no
rater may be in two of them, and a plan never pairs raters of two teams (SPEC section
4). The rules live in :mod:`coder.pools`; each button here calls the same core
function as ``session-coder pool add / edit / remove`` (:mod:`coder.store.pools`)
through :meth:`~ui.tasks.TaskRunner.run_op`, which broadcasts what changed. A refusal
(a rater who would be in two separate pools, an empty pool, a taken name) is shown
in full above the buttons, and nothing is changed.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QSignalBlocker, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from coder.changes import OpChanges
from coder.errors import CoderError
from coder.pools import PoolChange, RaterPool
from coder.store.pools import add_pool, edit_pool, list_pools, remove_pool
from coder.store.project import Project, Rater
from ui.dialogs import Choice, as_sentence, show_error, show_message
from ui.rows_table_model import RowsTableModel
from ui.tasks import TaskRunner

_PROBLEM_STYLE = (
    "QLabel { background: #fff7ed; border: 1px solid #fdba74; padding: 6px; color: #7c2d12; }"
)
_DONE_STYLE = "QLabel { color: #166534; }"


def read_pools(project: Project) -> tuple[list[Rater], list[RaterPool]]:
    """The project's raters and pools (blocking: the tab runs it in a worker)."""
    return project.raters(), list_pools(project)


class PoolsTab(QWidget):
    """List, create, edit and delete rater pools; see the module docstring.

    Signals:
        pools_loaded(): the pools on screen were read again.
        pool_saved(str): a pool was created, changed or deleted (its name).
        refused(str): the core refused a change (its message; nothing changed).
    """

    #: Changes that read the raters and pools again.
    SHOWN = OpChanges(raters=True, pools=True)

    pools_loaded = Signal()
    pool_saved = Signal(str)
    refused = Signal(str)

    def __init__(self, project: Project, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.runner = runner
        self.pools: list[RaterPool] = []
        self._raters: list[Rater] = []
        self._editing: str | None = None  # the pool in the editor (None: a new one)
        self._build()
        runner.changed.connect(self._on_changed)
        self.refresh()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        outer = QHBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        left = QVBoxLayout()
        intro = QLabel(
            "A <b>rater pool</b> is a named group of raters; a plan can take its raters "
            "from one (Plans tab, <i>Rater pool</i>). A <b>separate</b> pool is a coder "
            "team kept apart from the other separate pools: no rater is in two of them, "
            "and no plan pairs raters of two teams."
        )
        intro.setWordWrap(True)
        left.addWidget(intro)
        self.model = RowsTableModel(["Pool", "Raters", "Kept apart"], self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().currentRowChanged.connect(self._on_row_changed)
        left.addWidget(self.table, 1)
        self.new_button = QPushButton("New pool")
        self.new_button.clicked.connect(self.start_new)
        row = QHBoxLayout()
        row.addWidget(self.new_button)
        row.addStretch(1)
        left.addLayout(row)
        outer.addLayout(left, 3)

        self.editor = QGroupBox("New pool")
        form = QFormLayout(self.editor)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. thabs-team")
        form.addRow("Name", self.name_edit)
        self.rater_list = QListWidget()
        self.rater_list.setToolTip("Tick the raters of the pool")
        self.rater_list.setMinimumHeight(5 * (self.fontMetrics().height() + 10) + 4)
        form.addRow("Raters", self.rater_list)
        self.separate_check = QCheckBox("Keep apart from the other separate pools")
        self.separate_check.setToolTip(
            "A coder team: its raters may be in no other separate pool, and a plan never "
            "pairs them with another team's raters"
        )
        form.addRow(self.separate_check)
        self.problem_label = QLabel("")
        self.problem_label.setObjectName("pool_problem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem_label.setVisible(False)
        form.addRow(self.problem_label)
        buttons = QHBoxLayout()
        self.delete_button = QPushButton("Delete pool")
        self.delete_button.clicked.connect(self.delete_current)
        self.save_button = QPushButton("Create pool")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        form.addRow(buttons)
        outer.addWidget(self.editor, 2)
        self._show_editor(None)

    # ------------------------------------------------------------------ loading

    def refresh(self) -> None:
        """Read the raters and pools again (in a worker)."""
        self.runner.submit(
            read_pools,
            self.project,
            on_done=self._on_loaded,
            on_error=self._on_load_failed,
            latest=(self, "pools"),
        )

    @Slot(object)
    def _on_changed(self, changes: OpChanges) -> None:
        if changes & self.SHOWN:
            self.refresh()

    def _on_loaded(self, loaded: tuple[list[Rater], list[RaterPool]]) -> None:
        self._raters, self.pools = loaded
        names = [p.name for p in self.pools]
        self.model.set_rows(
            [
                (p.name, ", ".join(p.raters), "yes (separate team)" if p.separate else "no")
                for p in self.pools
            ],
            names,
        )
        self.table.resizeRowsToContents()
        keep = self._editing if self._editing in names else None
        if keep is not None:
            # Re-selecting the row shown is no new choice: keep the message on screen.
            with QSignalBlocker(self.table.selectionModel()):
                self.table.selectRow(names.index(keep))
        self._show_editor(next((p for p in self.pools if p.name == keep), None), fresh=False)
        self.pools_loaded.emit()

    def _on_load_failed(self, error: BaseException) -> None:
        show_error(self, error, title="Cannot read the rater pools")

    # ------------------------------------------------------------------ editor

    def _on_row_changed(self, current: object, _previous: object) -> None:
        row = self.table.currentIndex().row()
        if 0 <= row < len(self.pools):
            self._show_editor(self.pools[row])

    @Slot()
    def start_new(self) -> None:
        """Empty the editor for a new pool."""
        self.table.clearSelection()
        self._show_editor(None)
        self.name_edit.setFocus()

    def select_pool(self, name: str) -> None:
        """Show a pool in the editor (as a click on its row does)."""
        names = [p.name for p in self.pools]
        self.table.selectRow(names.index(name))

    def _show_editor(self, pool: RaterPool | None, *, fresh: bool = True) -> None:
        """Show ``pool`` (None: a new pool) in the editor.

        ``fresh``: the lead chose it (a row, "New pool"): an empty new pool, and no
        message. Otherwise the data were read again: a new pool keeps what was typed
        and ticked, and the message stays.
        """
        self._editing = pool.name if pool is not None else None
        self.editor.setTitle(f"Pool {pool.name}" if pool is not None else "New pool")
        self.name_edit.setReadOnly(pool is not None)
        self.save_button.setText("Save changes" if pool is not None else "Create pool")
        self.delete_button.setEnabled(pool is not None)
        if pool is not None:
            self.name_edit.setText(pool.name)
        elif fresh:
            self.name_edit.clear()
        if pool is not None:
            ticked = set(pool.raters)
        else:
            ticked = set() if fresh else set(self.ticked_raters())
        self.rater_list.clear()
        for rater in self._raters:
            label = rater.code if not rater.name else f"{rater.code} ({rater.name})"
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, rater.code)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if rater.code in ticked else Qt.CheckState.Unchecked
            )
            self.rater_list.addItem(item)
        if pool is not None:
            self.separate_check.setChecked(pool.separate)
        elif fresh:
            self.separate_check.setChecked(False)
        if fresh:
            self._set_problem("")

    def ticked_raters(self) -> list[str]:
        return [
            str(self.rater_list.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.rater_list.count())
            if self.rater_list.item(i).checkState() == Qt.CheckState.Checked
        ]

    def set_rater_ticked(self, code: str, ticked: bool) -> None:
        for i in range(self.rater_list.count()):
            item = self.rater_list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == code:
                item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)

    def problem(self) -> str:
        """The refusal on screen ("" when none)."""
        return self.problem_label.text() if self.problem_label.isVisible() else ""

    def _set_problem(self, text: str, *, done: bool = False) -> None:
        self.problem_label.setText(text)
        self.problem_label.setStyleSheet(_DONE_STYLE if done else _PROBLEM_STYLE)
        self.problem_label.setVisible(bool(text))

    # ------------------------------------------------------------------ changes

    @Slot()
    def save(self) -> None:
        """Create the pool in the editor, or save the changes of the one shown."""
        raters = self.ticked_raters()
        separate = self.separate_check.isChecked()
        if self._editing is None:
            op = partial(add_pool, self.project, self.name_edit.text(), raters, separate=separate)
        else:
            op = partial(edit_pool, self.project, self._editing, raters=raters, separate=separate)
        self._run(op, removing=False)

    @Slot()
    def delete_current(self) -> None:
        """Delete the pool shown, after asking (its raters and their codings stay)."""
        name = self._editing
        if name is None:
            return
        show_message(
            self,
            "Delete the pool?",
            f"Delete the rater pool {name}?",
            details="Its raters and their codings stay; plans already stored keep their raters.",
            icon="question",
            choices=[
                Choice("delete", "Delete pool"),
                Choice("cancel", "Cancel", QMessageBox.ButtonRole.RejectRole),
            ],
            default="cancel",
            on_choice=partial(self._on_delete_choice, name),
        )

    def _on_delete_choice(self, name: str, key: str) -> None:
        if key == "delete":
            self._run(partial(remove_pool, self.project, name), removing=True)

    def _run(self, op: partial[PoolChange], *, removing: bool) -> None:
        self.save_button.setEnabled(False)
        self.delete_button.setEnabled(False)
        self.runner.run_op(op, on_done=partial(self._on_done, removing), on_error=self._on_refused)

    def _on_done(self, removed: bool, result: PoolChange) -> None:
        self.save_button.setEnabled(True)
        if removed:
            self._editing = None
            self._show_editor(None)
            self._set_problem(f"Pool {result.pool.name} deleted.", done=True)
        else:
            self._editing = result.pool.name
            self.delete_button.setEnabled(True)
            self._set_problem(
                f"Pool {result.pool.name} saved." if result.changed else "Nothing to change.",
                done=True,
            )
        self.pool_saved.emit(result.pool.name)

    def _on_refused(self, error: BaseException) -> None:
        self.save_button.setEnabled(True)
        self.delete_button.setEnabled(self._editing is not None)
        if isinstance(error, CoderError):
            text = as_sentence(str(error)) or type(error).__name__
            self._set_problem(text)
            self.refused.emit(text)
        else:
            show_error(self, error)
