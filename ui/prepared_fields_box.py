"""The "Prepared by the lab" box of the coding window: read-only session fields.

What the lead chose to show the raters of a scale (:mod:`coder.prepared_fields`),
such as the homework log a research assistant filled in before the rating (Haller &
Watzke). The texts are shown as plain text, can be selected and copied, and never take
the keyboard focus: the keys stay the rater's coding keys. Hidden when the lab prepared
nothing for the scale.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGroupBox,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from coder.coding_data import PreparedField

TITLE = "Prepared by the lab (read-only)"
EMPTY_TEXT = "(none given for this session)"
_MAX_HEIGHT = 140  # a few lines; longer texts scroll inside the box


class PreparedFieldsBox(QGroupBox):
    """A compact, clearly labelled, read-only list of the fields the lab prepared."""

    def __init__(self, fields: Sequence[PreparedField], parent: QWidget | None = None) -> None:
        super().__init__(TITLE, parent)
        self.setObjectName("preparedFields")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setToolTip("Information the lab prepared for this session. You cannot change it here.")
        inner = QWidget()
        form = QFormLayout(inner)
        form.setContentsMargins(4, 2, 4, 2)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.value_labels: dict[str, QLabel] = {}
        for field in fields:
            value = QLabel(field.value or EMPTY_TEXT)
            value.setTextFormat(Qt.TextFormat.PlainText)  # a cell is never markup
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            if not field.value:
                value.setStyleSheet("color: #6b7280;")
            name = QLabel(f"{field.name}:")
            name.setTextFormat(Qt.TextFormat.PlainText)
            form.addRow(name, value)
            self.value_labels[field.name] = value
        scroll = QScrollArea()
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        scroll.setMaximumHeight(_MAX_HEIGHT)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(scroll)
        self.setVisible(bool(fields))

    def shown_text(self) -> dict[str, str]:
        """Field name -> the text on screen (for tests and accessibility checks)."""
        return {name: label.text() for name, label in self.value_labels.items()}
