"""The row of playback controls under the waveform, for the mouse (keys do the same)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QToolButton,
    QWidget,
)

from coder.errors import InputError
from ui.focus import EscapeReturnsFocus
from ui.player import SPEEDS, Player
from ui.timefmt import format_ms, parse_time
from ui.waveform_view import WaveformView


def _tool(text: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return button


class TransportBar(QWidget):
    """Play, skip, time, jump, speed, volume, stay-in-window and zoom controls."""

    def __init__(
        self,
        player: Player,
        waveform: WaveformView,
        *,
        skip_ms: Callable[[], int],
        focus_home: Callable[[], None],
        toggle_stay: Callable[[], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """``toggle_stay``: what the stay-in-window box does when clicked (the coding
        window asks and records it); None lets the box switch the player directly."""
        super().__init__(parent)
        self._player = player
        self._toggle_stay = toggle_stay
        self._skip_ms = skip_ms
        self._focus_home = focus_home
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)

        back = _tool("« Back", "Skip back (Left; Shift+Left: long skip)")
        back.clicked.connect(lambda: player.skip(-self._skip_ms()))
        self.play_button = QPushButton("Play")
        self.play_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.setMinimumWidth(70)
        self.play_button.clicked.connect(player.toggle)
        forward = _tool("Forward »", "Skip forward (Right; Shift+Right: long skip)")
        forward.clicked.connect(lambda: player.skip(self._skip_ms()))
        layout.addWidget(back)
        layout.addWidget(self.play_button)
        layout.addWidget(forward)

        self.time_label = QLabel("0:00 / 0:00")
        self.time_label.setObjectName("time")
        self.time_label.setMinimumWidth(120)
        layout.addWidget(self.time_label)

        self.jump_field = QLineEdit()
        self.jump_field.setPlaceholderText("go to m:ss (J)")
        self.jump_field.setMaximumWidth(110)
        self.jump_field.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.jump_field.returnPressed.connect(self._on_jump)
        EscapeReturnsFocus(focus_home, self.jump_field).watch(self.jump_field)
        layout.addWidget(self.jump_field)

        layout.addSpacing(8)
        layout.addWidget(QLabel("Speed"))
        self.speed_box = QComboBox()
        self.speed_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for speed in SPEEDS:
            self.speed_box.addItem(f"{speed:g}×", speed)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_box.currentIndexChanged.connect(
            lambda i: player.set_rate(self.speed_box.itemData(i))
        )
        if player.pitch_compensation:
            tip = "Playback speed ([ slower, ] faster). Voices keep their pitch."
        else:
            tip = (
                "Playback speed ([ slower, ] faster). This system's audio backend cannot "
                "keep the pitch: voices sound higher when faster and lower when slower."
            )
        self.speed_box.setToolTip(tip)
        layout.addWidget(self.speed_box)

        layout.addSpacing(8)
        layout.addWidget(QLabel("Volume"))
        self.volume_slider = QSlider(Qt.Orientation.Horizontal)
        self.volume_slider.setRange(0, 100)
        self.volume_slider.setMaximumWidth(100)
        self.volume_slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.volume_slider.setToolTip("Volume (- and +)")
        self.volume_slider.setValue(round(player.volume() * 100))
        self.volume_slider.valueChanged.connect(lambda v: player.set_volume(v / 100))
        layout.addWidget(self.volume_slider)

        self.stay_box = QCheckBox("Stay in coding window (W)")
        self.stay_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.stay_box.setToolTip(
            "Playback stops at the end of the scale's coding window, and seeks stay "
            "inside it. Untick to listen outside the window on purpose."
        )
        self.stay_box.toggled.connect(self._on_stay_box_toggled)
        layout.addWidget(self.stay_box)
        layout.addStretch(1)

        zoom_in = _tool("+", "Zoom in around the playhead (Z); or drag over the waveform")
        zoom_in.clicked.connect(lambda: waveform.zoom_in())
        zoom_out = _tool("−", "Zoom back out (Shift+Z; right-click on the waveform)")
        zoom_out.clicked.connect(waveform.zoom_out)
        zoom_all = _tool("All", "Show the whole recording (Ctrl+0)")
        zoom_all.clicked.connect(waveform.zoom_all)
        for button in (zoom_in, zoom_out, zoom_all):
            layout.addWidget(button)

        player.position_changed.connect(self._on_player_position_changed)
        player.duration_changed.connect(self._on_player_position_changed)
        player.playing_changed.connect(self._on_player_playing_changed)
        player.rate_changed.connect(self._on_player_rate_changed)
        player.volume_changed.connect(self._on_player_volume_changed)
        player.window_changed.connect(self._on_player_window_changed)
        self._on_player_window_changed()

    def focus_jump_field(self) -> None:
        self.jump_field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.jump_field.selectAll()

    @Slot()
    def _on_jump(self) -> None:
        try:
            position = parse_time(self.jump_field.text())
        except InputError as exc:
            self.jump_field.setToolTip(str(exc))
            self.jump_field.setStyleSheet("border: 1px solid #b91c1c;")
            return
        self.jump_field.setStyleSheet("")
        self.jump_field.setToolTip("")
        self.jump_field.clear()
        self._player.seek(position)
        self._focus_home()

    @Slot(int)
    def _on_player_position_changed(self, _value: int) -> None:
        self.time_label.setText(
            f"{format_ms(self._player.position(), tenths=True)} / {format_ms(self._player.duration())}"
        )

    @Slot(bool)
    def _on_player_playing_changed(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")

    @Slot(float)
    def _on_player_rate_changed(self, rate: float) -> None:
        index = self.speed_box.findData(rate)
        if index < 0:
            self.speed_box.addItem(f"{rate:g}×", rate)
            index = self.speed_box.count() - 1
        self.speed_box.blockSignals(True)
        self.speed_box.setCurrentIndex(index)
        self.speed_box.blockSignals(False)

    @Slot(float)
    def _on_player_volume_changed(self, volume: float) -> None:
        self.volume_slider.blockSignals(True)
        self.volume_slider.setValue(round(volume * 100))
        self.volume_slider.blockSignals(False)

    @Slot(bool)
    def _on_stay_box_toggled(self, checked: bool) -> None:
        if self._toggle_stay is None:
            self._player.set_stay_in_window(checked)
            return
        # The box shows the player's state; the owner decides (it may ask first).
        self._on_player_window_changed()
        self._toggle_stay()

    @Slot()
    def _on_player_window_changed(self) -> None:
        self.stay_box.setVisible(self._player.has_window)
        self.stay_box.blockSignals(True)
        self.stay_box.setChecked(self._player.stays_in_window())
        self.stay_box.blockSignals(False)
