"""The keyboard map: every action of the workstation, its keys, and where they are kept.

Each action is a ``QAction`` on the coding window with ``Qt.WindowShortcut`` context:
it fires whichever child widget has the focus, so a foot pedal that sends key presses
works with no extra code. A text field that has the focus still gets the keys it
types (Qt asks the focused widget first, through ``ShortcutOverride``, and line and
text edits claim printable keys), so digits go into a note, not into a score.

Keys are stored per user in QSettings (``keys/<action id>``, Qt's portable text,
several sequences separated by "; "); :class:`KeymapDialog` edits them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QColor, QKeyEvent, QKeySequence, QMouseEvent, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.settings import AppSettings

_SEP = "; "


@dataclass(frozen=True)
class ActionSpec:
    """An action the rater can take, with its default keys (Qt portable text)."""

    id: str
    label: str
    group: str
    defaults: tuple[str, ...]


def _score_actions() -> tuple[ActionSpec, ...]:
    return tuple(
        ActionSpec(f"score_{d}", f"Score {d} on the current item", "Scoring", (str(d),))
        for d in range(10)
    )


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("play_pause", "Play / pause", "Playback", ("Space", "Toggle Media Play/Pause")),
    ActionSpec("skip_back", "Skip back", "Playback", ("Left",)),
    ActionSpec("skip_forward", "Skip forward", "Playback", ("Right",)),
    ActionSpec("skip_back_long", "Skip back (long)", "Playback", ("Shift+Left",)),
    ActionSpec("skip_forward_long", "Skip forward (long)", "Playback", ("Shift+Right",)),
    ActionSpec("jump_to_time", "Jump to a time (mm:ss)", "Playback", ("J",)),
    ActionSpec("go_window_start", "Go to the start of the coding window", "Playback", ("Home",)),
    ActionSpec("speed_down", "Slower", "Playback", ("[",)),
    ActionSpec("speed_up", "Faster", "Playback", ("]",)),
    ActionSpec("speed_reset", "Normal speed", "Playback", ("\\",)),
    ActionSpec("volume_down", "Volume down", "Playback", ("-",)),
    ActionSpec("volume_up", "Volume up", "Playback", ("=", "+")),
    ActionSpec("stay_in_window", "Stay inside the coding window (on/off)", "Playback", ("W",)),
    ActionSpec("zoom_in", "Zoom in around the playhead", "Waveform", ("Z", "Ctrl+=")),
    ActionSpec("zoom_out", "Zoom back out", "Waveform", ("Shift+Z", "Ctrl+-")),
    ActionSpec("zoom_all", "Show the whole recording", "Waveform", ("Ctrl+0",)),
    ActionSpec("add_note", "Note at the playhead", "Notes and spans", ("N",)),
    ActionSpec("delete_note", "Delete the selected note", "Notes and spans", ("Delete",)),
    ActionSpec("span_toggle", "Start / stop a span at the playhead", "Notes and spans", ("M",)),
    ActionSpec("span_start", "Start a span at the playhead", "Notes and spans", ("S",)),
    ActionSpec("span_stop", "Stop the open span at the playhead", "Notes and spans", ("E",)),
    ActionSpec("next_item", "Next item", "Scoring", ("Down",)),
    ActionSpec("prev_item", "Previous item", "Scoring", ("Up",)),
    *_score_actions(),
    ActionSpec("clear_score", "Clear the current item's score", "Scoring", ("Backspace",)),
    ActionSpec("uncodable", "Mark the session uncodable…", "Scoring", ("Ctrl+U",)),
    ActionSpec("submit", "Submit the coding", "Scoring", ("Ctrl+Return", "Ctrl+Enter")),
    ActionSpec("help", "Show the keyboard map", "Help", ("F1", "?")),
    ActionSpec("edit_keys", "Change the keys…", "Help", ("Ctrl+K",)),
    ActionSpec("close_coding", "Back to my queue", "Help", ("Ctrl+W",)),
)

ACTIONS_BY_ID = {spec.id: spec for spec in ACTIONS}


def parse_keys(text: str) -> list[QKeySequence]:
    """Key sequences from "Ctrl+Return; F5" (empty parts are skipped).

    Raises:
        ValueError: a part is not a key Qt knows.
    """
    out = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        seq = QKeySequence.fromString(part, QKeySequence.SequenceFormat.PortableText)
        if seq.isEmpty() or seq[0].key() == Qt.Key.Key_unknown:
            raise ValueError(f"{part!r} is not a key")
        out.append(seq)
    return out


def format_keys(sequences: Iterable[QKeySequence], *, native: bool = False) -> str:
    fmt = (
        QKeySequence.SequenceFormat.NativeText
        if native
        else QKeySequence.SequenceFormat.PortableText
    )
    return _SEP.join(s.toString(fmt) for s in sequences)


class Keymap(QObject):
    """The keys of every action: the user's choice from QSettings, else the defaults."""

    changed = Signal()

    def __init__(self, settings: AppSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings = settings

    @property
    def settings(self) -> AppSettings:
        """The settings the keys (and the player's skip lengths) are read from."""
        return self._settings

    def keys(self, action_id: str) -> list[QKeySequence]:
        stored = self._settings.shortcut(action_id)
        if stored is not None:
            try:
                return parse_keys(stored)
            except ValueError:
                pass  # a hand-edited settings file: fall back to the defaults
        return parse_keys(_SEP.join(ACTIONS_BY_ID[action_id].defaults))

    def keys_text(self, action_id: str) -> str:
        return format_keys(self.keys(action_id))

    def apply(self, keys: dict[str, str]) -> None:
        """Store new keys (action id -> "K1; K2"); the defaults are stored as no entry."""
        for action_id, text in keys.items():
            default = _SEP.join(ACTIONS_BY_ID[action_id].defaults)
            same = format_keys(parse_keys(text)) == format_keys(parse_keys(default))
            self._settings.set_shortcut(action_id, None if same else text)
        self._settings.sync()
        self.changed.emit()

    def conflicts(self, keys: dict[str, str]) -> list[str]:
        """Descriptions of key sequences given to more than one action."""
        owner: dict[str, str] = {}
        problems = []
        for action_id, text in keys.items():
            for seq in parse_keys(text):
                name = seq.toString(QKeySequence.SequenceFormat.PortableText)
                if name in owner:
                    problems.append(
                        f"{name} is used by both “{ACTIONS_BY_ID[owner[name]].label}” "
                        f"and “{ACTIONS_BY_ID[action_id].label}”"
                    )
                else:
                    owner[name] = action_id
        return problems


def make_actions(
    window: QWidget, keymap: Keymap, handlers: dict[str, Callable[[], None]]
) -> dict[str, QAction]:
    """Create one window-wide QAction per action id in ``handlers``, keyed by id."""
    actions: dict[str, QAction] = {}
    for spec in ACTIONS:
        handler = handlers.get(spec.id)
        if handler is None:
            continue
        action = QAction(spec.label, window)
        action.setShortcuts(keymap.keys(spec.id))
        # WindowShortcut: fires whatever child has the focus (pedals, mouse users).
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setAutoRepeat(
            spec.id not in ("add_note", "delete_note", "span_toggle", "submit", "help")
        )
        action.triggered.connect(handler)
        window.addAction(action)
        actions[spec.id] = action

    def refresh() -> None:
        for action_id, action in actions.items():
            action.setShortcuts(keymap.keys(action_id))

    keymap.changed.connect(refresh)
    return actions


class KeymapDialog(QDialog):
    """An editable table of every action and its keys; returns them via :meth:`keys`."""

    def __init__(self, keymap: Keymap, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard map")
        self._keymap = keymap
        self.resize(560, 600)
        layout = QVBoxLayout(self)
        hint = QLabel(
            "Double-click a key cell to change it. Several keys for one action are "
            "separated by “;” (e.g. “Space; F9” for a foot pedal that sends F9)."
        )
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.table = QTableWidget(len(ACTIONS), 2, self)
        self.table.setHorizontalHeaderLabels(["Action", "Keys"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        for row, spec in enumerate(ACTIONS):
            name = QTableWidgetItem(spec.label)
            name.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.table.setItem(row, 0, name)
            self.table.setItem(row, 1, QTableWidgetItem(keymap.keys_text(spec.id)))
        layout.addWidget(self.table)
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #a33;")
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        defaults = QPushButton("Reset to defaults")
        buttons.addButton(defaults, QDialogButtonBox.ButtonRole.ResetRole)
        defaults.clicked.connect(self._reset)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def keys(self) -> dict[str, str]:
        return {spec.id: self.table.item(row, 1).text() for row, spec in enumerate(ACTIONS)}

    def _reset(self) -> None:
        for row, spec in enumerate(ACTIONS):
            self.table.item(row, 1).setText(_SEP.join(spec.defaults))

    def problems(self) -> list[str]:
        keys = self.keys()
        out = []
        for spec in ACTIONS:
            try:
                parse_keys(keys[spec.id])
            except ValueError as exc:
                out.append(f"{spec.label}: {exc}")
        return out or self._keymap.conflicts(keys)

    def accept(self) -> None:
        problems = self.problems()
        if problems:
            self.problem.setText("\n".join(problems))
            return
        super().accept()


class HelpOverlay(QWidget):
    """Every shortcut, laid over the window; any key or click closes it."""

    def __init__(self, keymap: Keymap, parent: QWidget) -> None:
        super().__init__(parent)
        self._keymap = keymap
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, False)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(40, 30, 40, 30)
        self._grid.setHorizontalSpacing(28)
        self.hide()
        parent.installEventFilter(self)

    def _fill(self) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        title = QLabel("<b>Keyboard map</b> — press any key or click to close; Ctrl+K changes keys")
        title.setStyleSheet("color: white; font-size: 14pt;")
        self._grid.addWidget(title, 0, 0, 1, 6)
        groups: dict[str, list[ActionSpec]] = {}
        for spec in ACTIONS:
            if spec.id.startswith("score_") and spec.id != "score_0":
                continue
            groups.setdefault(spec.group, []).append(spec)
        column, row = 0, 1
        rows_per_column = 17
        for group, specs in groups.items():
            if row + len(specs) + 1 > rows_per_column + 1:
                column, row = column + 2, 1
            heading = QLabel(f"<b>{group}</b>")
            heading.setStyleSheet("color: #ffd27f;")
            self._grid.addWidget(heading, row, column, 1, 2)
            row += 1
            for spec in specs:
                if spec.id == "score_0":
                    keys, label = "0 – 9", "Score the current item"
                else:
                    keys = format_keys(self._keymap.keys(spec.id), native=True)
                    label = spec.label
                    # How far a skip goes: the player's setting, read each time it opens.
                    if spec.id in ("skip_back", "skip_forward"):
                        label = f"{label} ({self._keymap.settings.skip_s:g} s)"
                    elif spec.id in ("skip_back_long", "skip_forward_long"):
                        label = f"{label} ({self._keymap.settings.long_skip_s:g} s)"
                key_label = QLabel(keys or "—")
                key_label.setStyleSheet("color: #ffd27f; font-family: monospace;")
                text = QLabel(label)
                text.setStyleSheet("color: white;")
                self._grid.addWidget(key_label, row, column)
                self._grid.addWidget(text, row, column + 1)
                row += 1
        self._grid.setRowStretch(rows_per_column + 2, 1)

    def show_over(self) -> None:
        self._fill()
        self.setGeometry(self.parentWidget().rect())
        self.raise_()
        self.show()
        self.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.parentWidget().rect())
        return False

    def paintEvent(self, _event: object) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(20, 24, 32, 225))

    def event(self, event: QEvent) -> bool:
        # Claim every key while shown, so Space closes the map instead of playing.
        if event.type() == QEvent.Type.ShortcutOverride:
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        self.hide()
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.hide()
        event.accept()
