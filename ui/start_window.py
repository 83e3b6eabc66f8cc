"""The first window: open a project, say who you are, and (as a rater) pick a session.

The window only shows and collects; :class:`ui.app.AppController` does the work
(opening the project in a worker, loading the queue) and calls the ``show_*`` methods.
A rater sees their own queue only: session, scale, state and progress, in queue order
(new work comes after older work; a new plan never renumbers it, see
:func:`coder.store.rows.queue_end`). "Hide finished" (kept in the settings) leaves out
submitted and uncodable codings; the numbers stay those of the whole queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
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

from coder.coding_groups import QueueLine, queue_lines
from coder.store.project import LEAD, QueueEntry
from ui.dialogs import dialog_hub
from ui.rows_table_model import RowsTableModel
from ui.scoring_panel import STATE_LABELS
from ui.settings import AppSettings


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

    def __init__(self, settings: AppSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings if settings is not None else AppSettings()
        self._code = ""
        self._entries: list[QueueEntry] = []
        self.setWindowTitle("Session Coder")
        self.resize(760, 560)
        self.pages = QStackedWidget()
        self.setCentralWidget(self.pages)
        self.pages.addWidget(self._build_who_page())
        self.pages.addWidget(self._build_queue_page())
        # Whatever dialog of this window closes (a cancelled "Open project…", an error,
        # the lead passphrase), the keyboard goes back to the list of the page shown.
        dialog_hub().dialog_opened.connect(self._on_dialog_opened)

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
        hint_row = QHBoxLayout()
        hint = QLabel("Open a session with Enter or a double-click. Your work is saved as you go.")
        hint.setObjectName("description")
        hint.setWordWrap(True)
        hint_row.addWidget(hint, 1)
        self.hide_finished_check = QCheckBox("Hide finished")
        self.hide_finished_check.setToolTip("Show only the sessions you have not finished yet")
        self.hide_finished_check.setChecked(self._settings.hide_finished)
        self.hide_finished_check.toggled.connect(self._on_hide_finished_toggled)
        hint_row.addWidget(self.hide_finished_check)
        layout.addLayout(hint_row)
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
        """Show a rater's queue (in the order given), finished work hidden if asked."""
        self.pages.setCurrentIndex(1)
        self._code, self._entries = code, list(entries)
        self.queue_title.setText(
            f"<span style='font-size:14pt;'><b>Your sessions</b></span> — rater {code}"
        )
        self._fill_queue()
        self.queue_table.setFocus()

    def hides_finished(self) -> bool:
        return self.hide_finished_check.isChecked()

    def _fill_queue(self, keep: int | None = None) -> None:
        """Fill the table; select coding ``keep`` if shown, else the first unfinished."""
        # Scales planned together are one line: one listening codes them all.
        lines = queue_lines(self._entries)
        hide = self.hides_finished()
        # The number is the place in the whole queue: hiding never renumbers.
        shown = [
            (number, line)
            for number, line in enumerate(lines, 1)
            if not (hide and line.finished == line.scales)
        ]
        rows = [
            (
                number,
                line.session_key,
                " + ".join(line.scale_names),
                _line_state(line),
                f"{line.items_scored} / {line.items_total}",
            )
            for number, line in shown
        ]
        self.queue_model.set_rows(rows, [line.coding_id for _n, line in shown])
        done = sum(1 for line in lines if line.finished == line.scales)
        if not lines:
            status = "No sessions assigned to you yet."
        elif hide and done:
            status = f"{done} of {len(lines)} finished (hidden)."
            if not shown:
                status += " Everything is finished: untick “Hide finished” to see it."
        else:
            status = f"{done} of {len(lines)} finished."
        self.queue_status.setText(status)
        self.open_coding_button.setEnabled(bool(shown))
        if shown:
            ids = [line.coding_id for _n, line in shown]
            row = ids.index(keep) if keep in ids else None
            if row is None:
                row = next(
                    (i for i, (_n, line) in enumerate(shown) if line.finished < line.scales), 0
                )
            self.queue_table.selectRow(row)

    @Slot(bool)
    def _on_hide_finished_toggled(self, hide: bool) -> None:
        self._settings.hide_finished = hide
        current = self.queue_table.currentIndex()
        keep = int(self.queue_model.payload(current.row())) if current.isValid() else None
        self._fill_queue(keep)
        self.focus_home()

    # ------------------------------------------------------------------ keyboard

    def focus_home(self) -> None:
        """Put the keyboard on the page's list: who you are, or your queue."""
        home = self.who_list if self.pages.currentIndex() == 0 else self.queue_table
        if home.isEnabled():
            home.setFocus(Qt.FocusReason.OtherFocusReason)

    @Slot(object)
    def _on_dialog_opened(self, dialog: QDialog) -> None:
        parent = dialog.parentWidget()
        if parent is not None and parent.window() is self:
            dialog.finished.connect(self._on_dialog_finished)

    @Slot()
    def _on_dialog_finished(self) -> None:
        # After the dialog has gone: Qt gives the focus back to the widget that had it
        # (the "Open project…" button) when the window is active again.
        QTimer.singleShot(0, self.focus_home)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter anywhere in the window does what the page's default button does.

        A main window has no default button (only dialogs do), so Enter on a button
        that has the focus did nothing; it reaches here instead.
        """
        plain = not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and plain:
            if self.pages.currentIndex() == 0:
                self._choose_identity()
            elif self.open_coding_button.isEnabled():
                self._on_queue_activated(self.queue_table.currentIndex())
            event.accept()
            return
        super().keyPressEvent(event)

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


def _line_state(line: QueueLine) -> str:
    """A queue line's state in words; scales coded together say how many are finished."""
    text = STATE_LABELS.get(line.state, line.state)
    if line.scales > 1 and 0 < line.finished < line.scales:
        text += f" ({line.finished} of {line.scales} scales finished)"
    return text
