"""The first window: open a project, say who you are, and (as a rater) pick a session.

The window only shows and collects; :class:`ui.app.AppController` does the work
(opening the project in a worker, loading the queue) and calls the ``show_*`` methods.
A rater sees their own queue only: session, scale, state and progress, in plan order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from coder.kinds import FINISHED_STATUSES
from coder.store.project import LEAD, QueueEntry
from ui.rows_table_model import RowsTableModel
from ui.scoring_panel import STATE_LABELS


class StartWindow(QMainWindow):
    """Project, identity and queue. See the module docstring.

    Signals:
        open_project_requested(): the rater asked to choose a project file.
        identity_chosen(str): a rater code, or ``coder.store.project.LEAD``.
        coding_chosen(int): the coding id to open.
        back_requested(): back from the queue to "who are you".
        refresh_requested(): reload the queue.
    """

    open_project_requested = Signal()
    identity_chosen = Signal(str)
    coding_chosen = Signal(int)
    back_requested = Signal()
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Session Coder")
        self.resize(760, 560)
        self.pages = QStackedWidget()
        self.setCentralWidget(self.pages)
        self.pages.addWidget(self._build_who_page())
        self.pages.addWidget(self._build_queue_page())

    # ------------------------------------------------------------------ pages

    def _build_who_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.setSpacing(10)
        title = QLabel("<span style='font-size:18pt;'><b>Session Coder</b></span>")
        layout.addWidget(title)
        row = QHBoxLayout()
        self.project_label = QLabel("No project open.")
        self.project_label.setWordWrap(True)
        row.addWidget(self.project_label, 1)
        self.open_button = QPushButton("Open project…")
        self.open_button.clicked.connect(self.open_project_requested)
        row.addWidget(self.open_button)
        layout.addLayout(row)
        self.who_label = QLabel("<b>Who are you?</b>")
        layout.addWidget(self.who_label)
        self.who_list = QListWidget()
        self.who_list.itemActivated.connect(lambda _item: self._choose_identity())
        layout.addWidget(self.who_list, 1)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.status_label.setObjectName("description")
        layout.addWidget(self.status_label)
        # What keeps raters blind in this project (a single file, or lab mode).
        self.blinding_label = QLabel("")
        self.blinding_label.setWordWrap(True)
        self.blinding_label.setObjectName("description")
        layout.addWidget(self.blinding_label)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.continue_button = QPushButton("Continue")
        self.continue_button.setDefault(True)
        self.continue_button.clicked.connect(self._choose_identity)
        buttons.addWidget(self.continue_button)
        layout.addLayout(buttons)
        self._set_who_enabled(False)
        return page

    def _build_queue_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.setSpacing(10)
        self.queue_title = QLabel("")
        layout.addWidget(self.queue_title)
        hint = QLabel("Open a session with Enter or a double-click. Your work is saved as you go.")
        hint.setObjectName("description")
        layout.addWidget(hint)
        self.queue_model = RowsTableModel(["#", "Session", "Scale", "State", "Items scored"], self)
        self.queue_table = QTableView()
        self.queue_table.setModel(self.queue_model)
        self.queue_table.verticalHeader().setVisible(False)
        self.queue_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.queue_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.queue_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.queue_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.queue_table.activated.connect(self._on_queue_activated)
        layout.addWidget(self.queue_table, 1)
        self.queue_status = QLabel("")
        self.queue_status.setObjectName("description")
        layout.addWidget(self.queue_status)
        buttons = QHBoxLayout()
        back = QPushButton("Not me: back")
        back.clicked.connect(self.back_requested)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh_requested)
        self.open_coding_button = QPushButton("Open session")
        self.open_coding_button.setDefault(True)
        self.open_coding_button.clicked.connect(
            lambda: self._on_queue_activated(self.queue_table.currentIndex())
        )
        buttons.addWidget(back)
        buttons.addWidget(refresh)
        buttons.addStretch(1)
        buttons.addWidget(self.open_coding_button)
        layout.addLayout(buttons)
        return page

    # ------------------------------------------------------------------ shown by the app

    def show_busy(self, text: str) -> None:
        self.status_label.setText(text)
        self.queue_status.setText(text)
        self._set_who_enabled(False)
        self.open_button.setEnabled(False)

    def show_problem(self, text: str) -> None:
        self.status_label.setText(text)
        self.queue_status.setText(text)
        self.open_button.setEnabled(True)

    def show_no_project(self) -> None:
        self.pages.setCurrentIndex(0)
        self.project_label.setText("No project open. Open the project file your lab gave you.")
        self.who_list.clear()
        self._set_who_enabled(False)
        self.open_button.setEnabled(True)
        self.status_label.setText("")
        self.blinding_label.setText("")

    def show_identities(
        self,
        project_name: str,
        path: Path | str,
        raters: Sequence[str],
        last: str = "",
        *,
        allow_lead: bool = True,
        note: str = "",
    ) -> None:
        """List the rater codes and "Lead"; the last rater code used is preselected.

        "Lab lead" is never preselected, also after the lead used it: Enter alone must
        not open the lead's window. An offline rater package, and a rater's login in
        lab mode, have no lead: ``allow_lead`` is False for them.
        """
        self.pages.setCurrentIndex(0)
        self.project_label.setText(f"Project <b>{project_name}</b><br><small>{path}</small>")
        self.who_list.clear()
        for code in raters:
            item = QListWidgetItem(f"Rater {code}")
            item.setData(Qt.ItemDataRole.UserRole, code)
            self.who_list.addItem(item)
        if allow_lead:
            lead = QListWidgetItem("Lab lead")
            lead.setData(Qt.ItemDataRole.UserRole, LEAD)
            self.who_list.addItem(lead)
        chosen = next(
            (
                i
                for i in range(self.who_list.count())
                if self.who_list.item(i).data(Qt.ItemDataRole.UserRole) == last and last != LEAD
            ),
            0 if raters else -1,
        )
        self.who_list.setCurrentRow(chosen)
        self._set_who_enabled(True)
        self.open_button.setEnabled(True)
        self.status_label.setText("" if raters else "This project has no raters yet.")
        self.blinding_label.setText(note)
        self.who_list.setFocus()

    def show_queue(self, code: str, entries: Sequence[QueueEntry]) -> None:
        self.pages.setCurrentIndex(1)
        self.queue_title.setText(
            f"<span style='font-size:14pt;'><b>Your sessions</b></span> — rater {code}"
        )
        rows = [
            (
                number,
                e.session_key,
                e.scale_name,
                STATE_LABELS.get(e.state, e.state),
                f"{e.items_scored} / {e.items_total}",
            )
            for number, e in enumerate(entries, 1)
        ]
        self.queue_model.set_rows(rows, [int(e.coding_id) for e in entries])
        done = sum(1 for e in entries if e.state in FINISHED_STATUSES)
        self.queue_status.setText(
            f"{done} of {len(entries)} finished." if entries else "No sessions assigned to you yet."
        )
        self.open_coding_button.setEnabled(bool(entries))
        if entries:
            first_open = next(
                (i for i, e in enumerate(entries) if e.state not in FINISHED_STATUSES),
                0,
            )
            self.queue_table.selectRow(first_open)
        self.queue_table.setFocus()

    # ------------------------------------------------------------------ internals

    def _set_who_enabled(self, enabled: bool) -> None:
        self.who_list.setEnabled(enabled)
        self.continue_button.setEnabled(enabled)

    def _choose_identity(self) -> None:
        item = self.who_list.currentItem()
        if item is not None and self.who_list.isEnabled():
            self.identity_chosen.emit(str(item.data(Qt.ItemDataRole.UserRole)))

    def _on_queue_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.coding_chosen.emit(int(self.queue_model.payload(index.row())))
