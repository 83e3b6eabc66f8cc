"""The scoring side of the workstation, generated from the scale definition.

Every item is a :class:`ScoreItemWidget` in a scrolling list; one of them is the
*current* item (highlighted), which the number keys score and the Up/Down keys move.
On opening, the current item is the first one not yet scored (where the rater left
off). Composites, progress, the save state ("All changes saved"), "uncodable" and
"submit" stay visible below the list, which scrolls rather than making the window
taller than a laptop screen.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from coder.coding_session import CodingSession
from coder.kinds import CodingStatus, ItemKind
from coder.scales import ScaleItem
from ui.score_item_widget import ScoreItemWidget

# The item list asks for this much height at most; it scrolls for the rest, so the
# biggest built-in scale still fits a 1366x768 screen with its title bar and taskbar.
ITEMS_HINT_HEIGHT = 260

SAVED_TEXT = "All changes saved"


class _ItemsScrollArea(QScrollArea):
    """The scrolling item list, whose size hint does not grow with the number of items."""

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(hint.width(), min(hint.height(), ITEMS_HINT_HEIGHT))


# What a rater reads for each state: "not started", "in progress", "submitted", ...
STATE_LABELS: dict[str, str] = {status: status.replace("_", " ") for status in CodingStatus}


class ScoringPanel(QWidget):
    """Items, composites, progress and the submit and uncodable buttons.

    Signals:
        submit_requested(): the rater pressed "Submit".
        uncodable_requested(): the rater pressed "Mark uncodable…".
        span_toggle_requested(str): start/stop a span of this duration item.
        seek_requested(int): go to this time (a span was clicked).
        current_changed(str): the current item changed (its id).
    """

    submit_requested = Signal()
    uncodable_requested = Signal()
    span_toggle_requested = Signal(str)
    seek_requested = Signal(int)
    current_changed = Signal(str)

    def __init__(
        self,
        session: CodingSession,
        *,
        focus_home: Callable[[], None],
        scale_label: str = "",
        parent: QWidget | None = None,
    ) -> None:
        """``scale_label`` names the scale on the buttons, for a window that codes several
        scales of the session together (each has its own panel, submitted on its own)."""
        super().__init__(parent)
        self.session = session
        scale = session.scale
        self._current = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)

        header = QHBoxLayout()
        title = QLabel(
            f"<b>Items</b> <span style='color:#6b7280;'>{scale.id} version {scale.version} · "
            "Up/Down choose the item, number keys score it</span>"
        )
        title.setWordWrap(True)
        header.addWidget(title, 1)
        self._instructions_button = QToolButton()
        self._instructions_button.setText("Instructions")
        self._instructions_button.setCheckable(True)
        self._instructions_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header.addWidget(self._instructions_button)
        layout.addLayout(header)
        window = session.window  # this session's (coder.session_window)
        window_text = (
            "Rate the whole session."
            if window.whole_session
            else f"Coding window: {window.describe()} (shaded on the waveform)."
        )
        # Wording and rules that are not the published source's are said as such.
        notes = "".join(f"\n\n{line}" for line in scale.rater_notes())
        self._instructions = QLabel(f"{scale.instructions}\n\n{window_text}{notes}")
        self._instructions.setWordWrap(True)
        self._instructions.setObjectName("instructions")
        self._instructions.setVisible(False)
        self._instructions_button.toggled.connect(self._instructions.setVisible)
        layout.addWidget(self._instructions)
        if not window.whole_session:
            hint = QLabel(window_text)
            hint.setObjectName("description")
            layout.addWidget(hint)

        self._scroll = _ItemsScrollArea()
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 4, 0)
        body_layout.setSpacing(6)
        self.items: list[ScoreItemWidget] = []
        for number, item in enumerate(scale.items, 1):
            widget = ScoreItemWidget(session, item, number, focus_home=focus_home)
            widget.activated.connect(lambda w=widget: self.set_current(self.items.index(w)))
            widget.span_toggle_requested.connect(self.span_toggle_requested)
            widget.seek_requested.connect(self.seek_requested)
            body_layout.addWidget(widget)
            self.items.append(widget)
        body_layout.addStretch(1)
        self._scroll.setWidget(body)
        layout.addWidget(self._scroll, 1)

        footer = QFrame()
        footer.setObjectName("footer")
        footer_layout = QVBoxLayout(footer)
        footer_layout.setContentsMargins(8, 6, 8, 6)
        self.composites_label = QLabel("")
        self.composites_label.setWordWrap(True)
        self.composites_label.setVisible(bool(scale.composites))
        footer_layout.addWidget(self.composites_label)
        row = QHBoxLayout()
        self._progress = QLabel("")
        row.addWidget(self._progress, 1)
        # Beside Submit, where the rater looks, not in a status bar at the window's foot.
        self.save_state = QLabel(SAVED_TEXT)
        self.save_state.setObjectName("saved")
        self.save_state.setToolTip("Every change is saved as you make it.")
        row.addWidget(self.save_state)
        self.uncodable_button = QPushButton(
            f"Mark {scale_label} uncodable…" if scale_label else "Mark uncodable…"
        )
        self.uncodable_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.uncodable_button.setToolTip("The session cannot be coded (Ctrl+U)")
        self.uncodable_button.clicked.connect(self.uncodable_requested)
        self.submit_button = QPushButton(
            f"Submit {scale_label}  (Ctrl+Enter)" if scale_label else "Submit  (Ctrl+Enter)"
        )
        self.submit_button.setObjectName("submit")
        self.submit_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.submit_button.clicked.connect(self.submit_requested)
        self.submit_button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        row.addWidget(self.uncodable_button)
        row.addWidget(self.submit_button)
        footer_layout.addLayout(row)
        layout.addWidget(footer)

        session.value_changed.connect(self._on_value_changed)
        session.text_changed.connect(self._on_value_changed)
        session.state_changed.connect(self._on_state_changed)
        session.reset.connect(self._on_reset)
        self._update_summary()
        self._on_state_changed(session.state)
        # Reopened work continues where it stopped: at the first item not yet scored.
        self.set_current(session.first_unscored_index())

    # ------------------------------------------------------------------ current item

    @property
    def current_index(self) -> int:
        return self._current

    def current_item(self) -> ScaleItem:
        return self.items[self._current].item

    def set_current(self, index: int) -> None:
        if not self.items:
            return
        index = max(0, min(index, len(self.items) - 1))
        self.items[self._current].set_current(False)
        self._current = index
        widget = self.items[index]
        widget.set_current(True)
        self._scroll.ensureWidgetVisible(widget, 0, 12)
        self.current_changed.emit(widget.item.id)

    def next_item(self) -> None:
        self.set_current(self._current + 1)

    def previous_item(self) -> None:
        self.set_current(self._current - 1)

    def select_item(self, item_id: str) -> None:
        for index, widget in enumerate(self.items):
            if widget.item.id == item_id:
                self.set_current(index)
                return

    def score_digit(self, digit: int) -> bool:
        """Give the current item ``digit``; False if that is not one of its values."""
        return self.items[self._current].choose(digit)

    def clear_current(self) -> None:
        self.items[self._current].clear()

    def duration_item_for_spans(self) -> ScaleItem | None:
        """The current item if it is a duration item, else the scale's first one."""
        current = self.current_item()
        if current.kind == ItemKind.DURATION:
            return current
        return next((i for i in self.session.scale.items if i.kind == ItemKind.DURATION), None)

    def mark_missing(self, labels: list[str]) -> None:
        """Highlight the items named in ``labels`` and show the first of them."""
        first = None
        for index, widget in enumerate(self.items):
            missing = widget.item.label in labels
            widget.set_missing(missing)
            if missing and first is None:
                first = index
        if first is not None:
            self.set_current(first)

    def flush(self) -> None:
        for widget in self.items:
            widget.flush_text()

    def show_save_state(self, text: str) -> None:
        """Show how far the writes are ("Saving…", "All changes saved", "Not saved")."""
        self.save_state.setText(text)
        self.save_state.setProperty("problem", text != SAVED_TEXT and text != "Saving…")
        self.save_state.style().unpolish(self.save_state)
        self.save_state.style().polish(self.save_state)

    def detach(self) -> None:
        for widget in self.items:
            widget.detach()
        self.session.value_changed.disconnect(self._on_value_changed)
        self.session.text_changed.disconnect(self._on_value_changed)
        self.session.state_changed.disconnect(self._on_state_changed)
        self.session.reset.disconnect(self._on_reset)

    # ------------------------------------------------------------------ session out

    def _on_value_changed(self, _item_id: str, _value: object) -> None:
        self._update_summary()

    def _on_state_changed(self, _state: str) -> None:
        editable = self.session.editable
        for widget in self.items:
            widget.set_editable(editable)
        self.submit_button.setEnabled(editable)
        self.uncodable_button.setEnabled(editable)
        self._update_summary()

    def _on_reset(self) -> None:
        for widget in self.items:
            widget.refresh()
        self._on_state_changed(self.session.state)

    def _update_summary(self) -> None:
        session = self.session
        total = len(session.scale.items)
        state = STATE_LABELS.get(session.state, session.state)
        text = f"{session.items_scored()} of {total} items scored · {state}"
        if session.state == CodingStatus.UNCODABLE:
            text += f" ({session.uncodable_reason})"
        if not session.editable:
            text += " · read only"
        self._progress.setText(text)
        if session.scale.composites:
            scores = session.composite_scores()
            parts = []
            for composite in session.scale.composites:
                value = scores.get(composite.id)
                shown = "—" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")
                parts.append(f"{composite.label}: <b>{shown}</b>")
            self.composites_label.setText("<br>".join(parts))
