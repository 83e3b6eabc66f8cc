"""Feedback after a training coding: the rater's scores beside the master's.

Shown, without blocking, after a rater submits a coding of a training session that
has a finished master coding (:func:`coder.certification.load_feedback` reads it). It
shows only the rater's own scores and the master's (never another rater's), with the
anchor text of each score, the difference, and the master's timestamped notes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from coder.certification import Feedback, FeedbackItem
from ui.rows_table_model import RowsTableModel
from ui.timefmt import format_ms

ITEM_HEADERS = ("Item", "Your score", "Master's score", "Difference")
NOTE_HEADERS = ("Time", "Master's note")


def _score_text(value: float | None, text: str | None, anchor: str | None) -> str:
    if text is not None:
        return text
    if value is None:
        return "—"
    number = f"{value:g}"
    return f"{number} · {anchor}" if anchor else number


def _difference_text(item: FeedbackItem) -> str:
    difference = item.difference
    if difference is None:
        return ""
    return "same" if abs(difference) < 1e-9 else f"{difference:+g}"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


class FeedbackDialog(QDialog):
    """The item-by-item comparison of one training coding with the master's."""

    def __init__(self, feedback: Feedback, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.feedback = feedback
        self.setWindowTitle(f"Feedback on {feedback.session_key}")
        self.setMinimumSize(640, 460)

        self.summary_label = QLabel(
            f"Your coding of training session {feedback.session_key} beside the master's: "
            f"{_share(feedback.exact)} of the items scored exactly the same, "
            f"{_share(feedback.within_one)} within one point."
        )
        self.summary_label.setWordWrap(True)
        self.items_model = RowsTableModel(list(ITEM_HEADERS), self)
        self.items_model.set_rows(
            [
                (
                    i.label,
                    _score_text(i.rater_value, i.rater_text, i.rater_anchor),
                    _score_text(i.master_value, i.master_text, i.master_anchor),
                    _difference_text(i),
                )
                for i in feedback.items
            ],
            list(feedback.items),
        )
        self.items_table = _table(self.items_model)
        self.notes_model = RowsTableModel(list(NOTE_HEADERS), self)
        self.notes_model.set_rows(
            [(format_ms(n.position_ms), n.text) for n in feedback.master_notes],
            list(feedback.master_notes),
        )
        self.notes_table = _table(self.notes_model)
        self.notes_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        notes_title = QLabel(
            "The master's notes" if feedback.master_notes else "The master left no notes."
        )
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.items_table, 3)
        layout.addWidget(notes_title)
        layout.addWidget(self.notes_table, 1)
        layout.addWidget(buttons)


def _table(model: RowsTableModel) -> QTableView:
    table = QTableView()
    table.setModel(model)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    table.setWordWrap(True)
    table.setTextElideMode(Qt.TextElideMode.ElideNone)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table
