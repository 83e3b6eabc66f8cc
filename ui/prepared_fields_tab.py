"""The lead's "Prepared fields" tab: what raters of a scale see "prepared by the lab".

The lead ticks, per scale, the manifest columns or entered fields its raters see
read-only in the coding window (:class:`ui.prepared_fields_box.PreparedFieldsBox`), and
enters a session's value for raters (as research assistants filled in the homework
log before the rating in Haller & Watzke). The rules are :mod:`coder.prepared_fields`;
reads run in a worker, writes in the storage worker; no value is ever listed here
(confidential clinical data), only the field names and how many sessions have them.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from coder.changes import OpChanges
from coder.errors import CoderError
from coder.prepared_fields import FieldsState, fields_state, set_value, show_fields
from coder.store.project import Project
from ui.tasks import TaskRunner

INTRO = (
    "<p>Choose what the raters of a scale see, read-only, beside the scoring: a column of "
    "the manifest, or a value you enter for a session below (in Haller &amp; Watzke, "
    "research assistants filled in the homework log before the rating). Nothing else "
    "about a session is shown to raters. The choice and each entry are kept in the "
    "history (never the text); the texts reach an export only when you include the "
    "manifest metadata.</p>"
)


class PreparedFieldsTab(QWidget):
    """Choose the fields shown to raters, per scale; enter a session's value."""

    def __init__(self, project: Project, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._project = project
        self._runner = runner
        self._state: FieldsState | None = None
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        self.scale_combo = QComboBox()
        self.field_list = QListWidget()
        self.field_list.setMaximumHeight(180)
        self.show_button = QPushButton("Show the ticked fields to this scale's raters")
        self.session_combo = QComboBox()
        self.field_edit = QLineEdit()
        self.field_edit.setPlaceholderText("e.g. homework_log")
        self.value_edit = QPlainTextEdit()
        self.value_edit.setPlaceholderText("The text raters see (empty: remove the value)")
        self.value_edit.setMaximumHeight(100)
        self.save_value_button = QPushButton("Save the value")
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)

        chooser = QGroupBox("Shown to raters")
        form = QFormLayout(chooser)
        form.addRow("Scale", self.scale_combo)
        form.addRow("Fields", self.field_list)
        form.addRow("", self.show_button)
        entry = QGroupBox("Enter a value for one session")
        entry_form = QFormLayout(entry)
        entry_form.addRow("Session", self.session_combo)
        entry_form.addRow("Field", self.field_edit)
        entry_form.addRow("Value", self.value_edit)
        entry_form.addRow("", self.save_value_button)
        row = QHBoxLayout()
        row.addWidget(chooser, 1)
        row.addWidget(entry, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.status_label)
        layout.addStretch(1)

        self.scale_combo.currentIndexChanged.connect(self._on_scale_changed)
        self.show_button.clicked.connect(self._on_show_clicked)
        self.save_value_button.clicked.connect(self._on_save_value_clicked)
        runner.changed.connect(self._on_changed)
        self.refresh()

    def refresh(self) -> None:
        """Read the scales, fields and sessions again (in a worker)."""
        self._runner.submit(
            fields_state,
            self._project,
            on_done=self._on_state_loaded,
            on_error=self._on_failed,
            latest=(self, "state"),
        )

    # A manifest import (new columns, sessions) or a new scale changes what there is.
    SHOWS = OpChanges(sessions=True, scales=True)

    @Slot(object)
    def _on_changed(self, changes: OpChanges) -> None:
        if changes & self.SHOWS:
            self.refresh()

    @Slot(object)
    def _on_state_loaded(self, state: FieldsState) -> None:
        self._state = state
        current = self.scale_combo.currentText()
        self.scale_combo.blockSignals(True)
        self.scale_combo.clear()
        self.scale_combo.addItems(list(state.scale_ids))
        if current in state.scale_ids:
            self.scale_combo.setCurrentText(current)
        self.scale_combo.blockSignals(False)
        session = self.session_combo.currentText()
        self.session_combo.clear()
        self.session_combo.addItems(list(state.sessions))
        if session in state.sessions:
            self.session_combo.setCurrentText(session)
        self._fill_fields()

    def _fill_fields(self) -> None:
        self.field_list.clear()
        state = self._state
        if state is None:
            return
        shown = state.overview.shown.get(self.scale_combo.currentText(), ())
        where: dict[str, list[str]] = {}
        for name, n in state.overview.manifest.items():
            where.setdefault(name, []).append(f"manifest, {n} session(s)")
        for name, n in state.overview.entered.items():
            where.setdefault(name, []).append(f"entered, {n} session(s)")
        names = [*shown, *(n for n in where if n not in shown)]
        for name in names:
            item = QListWidgetItem(f"{name}  ({'; '.join(where.get(name, ['no value']))})")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = Qt.CheckState.Checked if name in shown else Qt.CheckState.Unchecked
            item.setCheckState(checked)
            self.field_list.addItem(item)

    def ticked(self) -> list[str]:
        """The ticked field names, in the list's order."""
        out = []
        for row in range(self.field_list.count()):
            item = self.field_list.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return out

    @Slot(int)
    def _on_scale_changed(self, _index: int) -> None:
        self._fill_fields()

    @Slot()
    def _on_show_clicked(self) -> None:
        scale_id = self.scale_combo.currentText()
        if not scale_id:
            return
        fields = self.ticked()
        self._runner.write(
            show_fields,
            self._project,
            scale_id,
            fields,
            on_done=self._on_saved,
            on_error=self._on_failed,
        )
        what = ", ".join(fields) or "no field"
        self.status_label.setText(f"Raters of {scale_id} will see: {what}")

    @Slot()
    def _on_save_value_clicked(self) -> None:
        session = self.session_combo.currentText()
        field = self.field_edit.text()
        self._runner.write(
            set_value,
            self._project,
            session,
            field,
            self.value_edit.toPlainText(),
            on_done=self._on_saved,
            on_error=self._on_failed,
        )
        self.status_label.setText(f"Saving {field.strip()} of {session} …")

    @Slot(object)
    def _on_saved(self, _changed: Any) -> None:
        self.status_label.setStyleSheet("")
        self.status_label.setText("Saved.")
        self.refresh()

    @Slot(object)
    def _on_failed(self, error: BaseException) -> None:
        text = str(error) if isinstance(error, CoderError) else "the change could not be saved"
        self.status_label.setStyleSheet("color: #a33;")
        self.status_label.setText(f"Not saved: {text}")
