"""One item of a scale on screen: label, description, anchors and the way to score it.

Ordinal and nominal items show a row of value buttons with every anchor's text under
its button (not only in a tooltip). Count items have a number field, duration items a
seconds field plus their marked spans, text items a multi-line field saved 500 ms
after typing stops and when the field loses the focus.

The widget calls the :class:`CodingSession` and redraws from its notifications; it
never keeps the only copy of a value.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from coder.coding_data import Span
from coder.coding_rules import value_bounds
from coder.coding_session import CodingSession
from coder.errors import InputError
from coder.kinds import ItemKind
from coder.scales import CHOICE_KINDS, ScaleItem
from ui.focus import EscapeReturnsFocus
from ui.timefmt import format_ms

TEXT_SAVE_DELAY_MS = 500
#: Shown after a description written for Session Coder rather than taken from the source.
OUR_WORDING = "Description written for Session Coder, not the published wording."


class _AnchorLabel(QLabel):
    """An anchor's text under its value button; clicking it clicks the button."""

    def __init__(self, text: str, button: QAbstractButton) -> None:
        super().__init__(text)
        self._button = button
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.setObjectName("anchor")
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._button.isEnabled():
            self._button.click()
        event.accept()


class ScoreItemWidget(QFrame):
    """Shows and scores one item. See the module docstring.

    Signals:
        activated(): the rater clicked into this item (it becomes the current one).
        span_toggle_requested(str): the span button of this duration item was pressed.
        seek_requested(int): a span was clicked (ms of its start).
    """

    activated = Signal()
    span_toggle_requested = Signal(str)
    seek_requested = Signal(int)

    def __init__(
        self,
        session: CodingSession,
        item: ScaleItem,
        number: int,
        *,
        focus_home: Callable[[], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.item = item
        self.setObjectName(f"item_{item.id}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setProperty("current", False)
        self.setProperty("missing", False)
        self._escape = EscapeReturnsFocus(focus_home, self)
        self._buttons: dict[int, QPushButton] = {}
        self._group: QButtonGroup | None = None
        self._spin: QSpinBox | QDoubleSpinBox | None = None
        self._text: QPlainTextEdit | None = None
        self._span_button: QPushButton | None = None
        self._span_box: QVBoxLayout | None = None
        self._text_timer = QTimer(self)
        self._text_timer.setSingleShot(True)
        self._text_timer.setInterval(TEXT_SAVE_DELAY_MS)
        self._text_timer.timeout.connect(self.flush_text)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 8)
        layout.setSpacing(4)
        title = QLabel(self._title_html(number))
        title.setWordWrap(True)
        title.setTextFormat(Qt.TextFormat.RichText)
        self._title = title
        layout.addWidget(title)
        if item.description:
            description = QLabel(item.description)
            description.setWordWrap(True)
            description.setObjectName("description")
            layout.addWidget(description)
            if item.wording == "ours":
                ours = QLabel(OUR_WORDING)
                ours.setWordWrap(True)
                ours.setObjectName("wording_ours")
                ours.setStyleSheet("color:#6b7280; font-style:italic;")
                layout.addWidget(ours)
        if item.kind in CHOICE_KINDS:
            layout.addLayout(self._build_choices())
        elif item.kind == ItemKind.COUNT:
            layout.addLayout(self._build_count())
        elif item.kind == ItemKind.DURATION:
            layout.addLayout(self._build_duration())
        else:
            layout.addWidget(self._build_text())
        session.value_changed.connect(self._on_value_changed)
        session.text_changed.connect(self._on_text_changed)
        session.spans_changed.connect(self._on_spans_changed)
        self.refresh()

    def _title_html(self, number: int) -> str:
        required = ' <span style="color:#b45309;">• required</span>' if self.item.required else ""
        keys = ""
        if self.item.kind in CHOICE_KINDS and self.item.values:
            lo, hi = self.item.values[0], self.item.values[-1]
            if hi <= 9:
                keys = f' <span style="color:#6b7280;">keys {lo}–{hi}</span>'
        if self.item.shortcut:
            keys += f' <span style="color:#6b7280;">(select: {self.item.shortcut})</span>'
        return f"<b>{number}. {self.item.label}</b>{required}{keys}"

    # ------------------------------------------------------------------ building

    def _build_choices(self) -> QGridLayout:
        grid = QGridLayout()
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        self._group = QButtonGroup(self)
        self._group.setExclusive(False)  # clicking the chosen value again clears it
        for column, value in enumerate(self.item.values):
            button = QPushButton(str(value))
            button.setCheckable(True)
            # Buttons never take the keyboard: it stays with the window's shortcuts.
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setMinimumWidth(36)
            button.setObjectName(f"value_{value}")
            # Raters see only published wording (a placeholder shows as the mark).
            anchor = self.item.shown_label(value) or ""
            button.setToolTip(f"{value}: {anchor}" if anchor else str(value))
            button.clicked.connect(lambda _checked=False, v=value: self._on_value_clicked(v))
            self._group.addButton(button, value)
            self._buttons[value] = button
            grid.addWidget(button, 0, column)
            label = _AnchorLabel(anchor, button)
            if value in self.item.placeholder_values:
                label.setObjectName("anchor_unpublished")
                label.setStyleSheet("color:#6b7280; font-style:italic;")
            grid.addWidget(label, 1, column)
            grid.setColumnStretch(column, 1)
        return grid

    def _build_count(self) -> QHBoxLayout:
        row = QHBoxLayout()
        spin = QSpinBox()
        # -1 stands for "not scored" and shows as a blank field; scores are 0 and up.
        spin.setRange(-1, self._top())
        spin.setSpecialValueText(" ")
        spin.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        spin.editingFinished.connect(self._on_spin_edited)
        self._escape.watch(spin)
        self._spin = spin
        row.addWidget(QLabel("Count:"))
        row.addWidget(spin)
        row.addStretch(1)
        return row

    def _build_duration(self) -> QVBoxLayout:
        box = QVBoxLayout()
        row = QHBoxLayout()
        spin = QDoubleSpinBox()
        spin.setRange(-1, self._top())  # -1: not scored, shown blank
        spin.setSpecialValueText(" ")
        spin.setDecimals(1)
        spin.setSuffix(" s")
        spin.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        spin.setToolTip("The sum of the marked spans; you can correct it by hand.")
        spin.editingFinished.connect(self._on_spin_edited)
        self._escape.watch(spin)
        self._spin = spin
        self._duration_label = QLabel("")
        self._duration_label.setObjectName("description")
        button = QPushButton("Start span (M)")
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setToolTip("Start a span at the playhead; press again to stop it there.")
        button.clicked.connect(lambda: self.span_toggle_requested.emit(self.item.id))
        self._span_button = button
        row.addWidget(QLabel("Seconds:"))
        row.addWidget(spin)
        row.addWidget(self._duration_label)
        row.addStretch(1)
        row.addWidget(button)
        box.addLayout(row)
        self._span_box = QVBoxLayout()
        self._span_box.setSpacing(0)
        box.addLayout(self._span_box)
        return box

    def _top(self) -> int:
        """The highest number the item admits (the core's rule), for its number field."""
        bounds = value_bounds(self.item)
        assert bounds is not None  # only numeric items have a number field
        return bounds[1]

    def _build_text(self) -> QPlainTextEdit:
        edit = QPlainTextEdit()
        edit.setTabChangesFocus(True)
        edit.setPlaceholderText("Type here; saved as you type. Esc returns to the player keys.")
        edit.setFixedHeight(72)
        edit.textChanged.connect(self._text_timer.start)
        edit.installEventFilter(self)
        self._escape.watch(edit)
        self._text = edit
        return edit

    # ------------------------------------------------------------------ state in

    def refresh(self) -> None:
        """Redraw everything from the session."""
        self._on_value_changed(self.item.id, self.session.value(self.item.id))
        if self._text is not None:
            self._on_text_changed(self.item.id, self.session.text(self.item.id))
        if self._span_box is not None:
            self._on_spans_changed(self.item.id)
        self.set_editable(self.session.editable)

    def set_editable(self, editable: bool) -> None:
        for button in self._buttons.values():
            button.setEnabled(editable)
        for widget in (self._spin, self._text, self._span_button):
            if widget is not None:
                widget.setEnabled(editable)
        if self._span_box is not None:
            self._on_spans_changed(self.item.id)

    def set_current(self, current: bool) -> None:
        self._restyle("current", current)

    def set_missing(self, missing: bool) -> None:
        self._restyle("missing", missing)

    def _restyle(self, name: str, value: bool) -> None:
        if self.property(name) == value:
            return
        self.setProperty(name, value)
        self.style().unpolish(self)
        self.style().polish(self)

    def _on_value_changed(self, item_id: str, value: float | None) -> None:
        if item_id != self.item.id:
            return
        if self._group is not None:
            for v, button in self._buttons.items():
                button.setChecked(value is not None and int(value) == v)
        if self._spin is not None:
            with QSignalBlocker(self._spin):
                self._spin.setValue(-1 if value is None else value)  # type: ignore[arg-type]
        if self.item.kind == ItemKind.DURATION:
            self._duration_label.setText("" if value is None else f"= {format_ms(value * 1000)}")
        if self.session.is_scored(self.item):
            self.set_missing(False)

    def _on_text_changed(self, item_id: str, text: str) -> None:
        if item_id != self.item.id or self._text is None:
            return
        if self._text.toPlainText() != text:
            with QSignalBlocker(self._text):
                self._text.setPlainText(text)
        if self.session.is_scored(self.item):
            self.set_missing(False)

    def _on_spans_changed(self, item_id: str) -> None:
        if item_id != self.item.id or self._span_box is None:
            return
        while self._span_box.count():
            child = self._span_box.takeAt(0)
            if child.widget() is not None:
                child.widget().deleteLater()
        editable = self.session.editable
        spans = self.session.spans(self.item.id)
        for number, span in enumerate(spans, 1):
            self._span_box.addWidget(self._span_row(number, span, editable))
        if self._span_button is not None:
            is_open = self.session.open_span(self.item.id) is not None
            self._span_button.setText("Stop span (M)" if is_open else "Start span (M)")

    def _span_row(self, number: int, span: Span, editable: bool) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        if span.end_ms is None:
            text = f"Span {number}: {format_ms(span.start_ms)} – … (open)"
        else:
            text = (
                f"Span {number}: {format_ms(span.start_ms)} – {format_ms(span.end_ms)}"
                f"  ({span.length_ms / 1000:.1f} s)"
            )
        if not self.session.span_in_window(span):
            text += "  (outside window)"
        go = QToolButton()
        go.setText(text)
        go.setAutoRaise(True)
        go.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        go.setToolTip("Go to the start of this span")
        go.clicked.connect(lambda: self.seek_requested.emit(span.start_ms))
        delete = QToolButton()
        delete.setText("Remove")
        delete.setAutoRaise(True)
        delete.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        delete.setEnabled(editable)
        delete.clicked.connect(lambda: self._delete_span(span.id))
        layout.addWidget(go)
        layout.addStretch(1)
        layout.addWidget(delete)
        return row

    # ------------------------------------------------------------------ user in

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.activated.emit()
        super().mousePressEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._text:
            if event.type() == QEvent.Type.FocusIn:
                self.activated.emit()
            elif event.type() == QEvent.Type.FocusOut:
                self.flush_text()
        return False

    def _on_value_clicked(self, value: int) -> None:
        self.activated.emit()
        current = self.session.value(self.item.id)
        new = None if current is not None and int(current) == value else value
        self._set(new)

    def choose(self, digit: int) -> bool:
        """Score ``digit`` from the keyboard; False if the item has no such value.

        Choice and count items take the digit when the core admits it; a duration is
        typed or marked with spans, and a text item takes no digit key.
        """
        if self.item.kind not in (*CHOICE_KINDS, ItemKind.COUNT):
            return False
        if not self.session.admits(self.item, digit):
            return False
        self._set(digit)
        return True

    def clear(self) -> None:
        if self.item.kind == ItemKind.TEXT:
            if self._text is not None:
                self._text.clear()
                self.flush_text()
        else:
            self._set(None)

    def _set(self, value: float | None) -> None:
        try:
            self.session.set_value(self.item.id, value)
        except InputError:
            self.refresh()  # e.g. submitted meanwhile: show what is stored
            raise

    def _on_spin_edited(self) -> None:
        if self._spin is None or not self._spin.isEnabled():
            return
        value = self._spin.value()
        new = (
            None
            if value < 0
            else (int(value) if self.item.kind == ItemKind.COUNT else float(value))
        )
        current = self.session.value(self.item.id)
        decimals = self._spin.decimals() if isinstance(self._spin, QDoubleSpinBox) else 0
        # The field shows the stored value rounded; leaving it untouched changes nothing.
        if current is not None and new is not None and round(current, decimals) == new:
            return
        if new != current:
            self._set(new)

    def flush_text(self) -> None:
        """Save the text field now (called after the pause in typing and on focus-out)."""
        self._text_timer.stop()
        if self._text is None or not self._text.isEnabled():
            return
        text = self._text.toPlainText()
        if text != self.session.text(self.item.id):
            self.session.set_text(self.item.id, text)

    def _delete_span(self, span_id: int) -> None:
        self.session.delete_span(span_id)

    def detach(self) -> None:
        """Stop listening to the session (the window is closing)."""
        self.flush_text()
        self.session.value_changed.disconnect(self._on_value_changed)
        self.session.text_changed.disconnect(self._on_text_changed)
        self.session.spans_changed.disconnect(self._on_spans_changed)
