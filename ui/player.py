"""Playback: a QMediaPlayer with skip, seek, speed, volume and the scale's coding window.

``Player`` is the one object that talks to Qt Multimedia. Positions are integer
milliseconds. While "stay in window" is on (the default when the scale has a coding
window), seeks are clamped to the window and playback pauses exactly at its end: a
one-shot QTimer is armed for the remaining time divided by the speed whenever
playback starts, seeks or changes speed. Pausing from ``positionChanged`` instead
would overshoot by up to one notification interval (about 100 ms at 2x).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, QUrl, Signal, Slot
from PySide6.QtMultimedia import QAudioOutput, QMediaDevices, QMediaPlayer

SPEEDS: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0)
MIN_SPEED, MAX_SPEED = SPEEDS[0], SPEEDS[-1]
# When the end timer fires but the decoder reports a position this far short of the
# window end (playback stalled), the timer is re-armed instead of pausing early.
_STALL_MS = 250


def _noop() -> None:
    pass


def has_audio_output() -> bool:
    """Whether the computer has a sound output device (speakers, headphones).

    Without one Qt Multimedia "plays" in silence without any error, so the caller has
    to ask and tell the rater.
    """
    return bool(QMediaDevices.audioOutputs()) and not QMediaDevices.defaultAudioOutput().isNull()


def _warm_up_notify_overrides(*objects: QObject) -> None:
    """Connect and disconnect once on the GUI thread, so teardown cannot deadlock.

    Qt Multimedia's FFmpeg threads connect to and disconnect from the player and its
    audio output, which makes Qt call their ``connectNotify``/``disconnectNotify``
    while holding a signal-slot mutex. On a PySide wrapper the first such call looks
    up a Python override and needs the GIL; if the GUI thread holds the GIL and waits
    for that same mutex (``stop()``, ``setSource()``), both wait forever (seen as a
    hang in ``stop()`` during window close). Shiboken caches a "not overridden" answer
    per object and method, so one connect/disconnect here, with the GIL ours, means
    the FFmpeg threads never ask for the GIL again.
    """
    for obj in objects:
        obj.destroyed.connect(_noop)
        obj.destroyed.disconnect(_noop)


class Player(QObject):
    """Plays one recording; see the module docstring.

    Signals:
        position_changed(int): the playhead moved (playback or seek), in ms.
        duration_changed(int): the recording's length became known, in ms.
        playing_changed(bool): playback started or stopped.
        rate_changed(float): the speed changed.
        volume_changed(float): the volume (0..1) changed.
        window_changed(): the coding window or the stay-inside toggle changed.
        window_end_reached(): playback paused at the end of the coding window.
        loaded(): the recording is ready to play.
        failed(str, str): the recording cannot be played: a kind ("missing",
            "unsupported", "decoder", "corrupt", "other") and Qt's message.
    """

    position_changed = Signal(int)
    duration_changed = Signal(int)
    playing_changed = Signal(bool)
    rate_changed = Signal(float)
    volume_changed = Signal(float)
    window_changed = Signal()
    window_end_reached = Signal()
    loaded = Signal()
    failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._media = QMediaPlayer(self)
        # Parented to the player: an unparented QAudioOutput crashes at teardown.
        self._audio = QAudioOutput(self._media)
        self._media.setAudioOutput(self._audio)
        _warm_up_notify_overrides(self._media, self._audio)
        self.pitch_compensation = self._enable_pitch_compensation()
        self._position = 0
        self._duration = 0
        self._pending_seek: int | None = None
        self._window_start = 0
        self._window_end: int | None = None
        self._stay_in_window = False
        self._end_timer = QTimer(self)
        self._end_timer.setSingleShot(True)
        self._end_timer.timeout.connect(self._on_end_timer)
        self._media.positionChanged.connect(self._on_media_position)
        self._media.durationChanged.connect(self._on_media_duration)
        self._media.playbackStateChanged.connect(self._on_media_state)
        self._media.mediaStatusChanged.connect(self._on_media_status)
        self._media.errorOccurred.connect(self._on_media_error)

    def _enable_pitch_compensation(self) -> bool:
        """Keep voices at their pitch when sped up or slowed down, where Qt can."""
        try:
            available = self._media.pitchCompensationAvailability()
        except AttributeError:  # Qt < 6.10
            return False
        if available == QMediaPlayer.PitchCompensationAvailability.Unavailable:
            return False
        self._media.setPitchCompensation(True)
        return bool(self._media.pitchCompensation())

    # ------------------------------------------------------------------ loading

    def load(self, path: str | Path, *, position_ms: int = 0, duration_ms: int = 0) -> None:
        """Open a recording and put the playhead at ``position_ms`` once it is loaded."""
        self._end_timer.stop()
        self._duration = max(0, duration_ms)
        self._position = max(0, position_ms)
        self._pending_seek = self._position
        self._media.setSource(QUrl.fromLocalFile(str(path)))
        self.position_changed.emit(self._position)

    def unload(self) -> None:
        self._end_timer.stop()
        self._media.stop()
        self._media.setSource(QUrl())

    @property
    def is_loaded(self) -> bool:
        return self._media.mediaStatus() in (
            QMediaPlayer.MediaStatus.LoadedMedia,
            QMediaPlayer.MediaStatus.BufferingMedia,
            QMediaPlayer.MediaStatus.BufferedMedia,
            QMediaPlayer.MediaStatus.EndOfMedia,
        )

    @property
    def load_settled(self) -> bool:
        """True once the recording has loaded, or the player has reported why it cannot."""
        return self.is_loaded or self._media.error() != QMediaPlayer.Error.NoError

    # ------------------------------------------------------------------ state

    def position(self) -> int:
        """The playhead in ms (the last seek target until the decoder reports)."""
        return self._position

    def duration(self) -> int:
        return self._duration

    def is_playing(self) -> bool:
        return self._media.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    def rate(self) -> float:
        # Qt keeps the rate as a 32-bit float; our speeds have two decimals.
        return round(float(self._media.playbackRate()), 2)

    def volume(self) -> float:
        return float(self._audio.volume())

    def window(self) -> tuple[int, int | None]:
        return self._window_start, self._window_end

    @property
    def has_window(self) -> bool:
        return self._window_start > 0 or self._window_end is not None

    def stays_in_window(self) -> bool:
        return self._stay_in_window and self.has_window

    # ------------------------------------------------------------------ control

    def play(self) -> None:
        if self.stays_in_window():
            end = self._window_end
            if end is not None and self._position >= end - 20:
                self.window_end_reached.emit()
                return
            if self._position < self._window_start:
                self.seek(self._window_start)
        self._media.play()
        self._arm_end_timer()

    def pause(self) -> None:
        self._end_timer.stop()
        self._media.pause()

    def toggle(self) -> None:
        if self.is_playing():
            self.pause()
        else:
            self.play()

    def seek(self, position_ms: int) -> None:
        """Move the playhead (clamped to the recording, and to the window when staying in it)."""
        position = self._clamp(int(position_ms))
        self._position = position
        if self.is_loaded:
            self._media.setPosition(position)
        else:
            self._pending_seek = position
        self.position_changed.emit(position)
        self._arm_end_timer()

    def skip(self, delta_ms: int) -> None:
        self.seek(self._position + int(delta_ms))

    def set_rate(self, rate: float) -> None:
        rate = min(MAX_SPEED, max(MIN_SPEED, round(float(rate), 2)))
        if abs(rate - self.rate()) < 1e-6:
            return
        self._media.setPlaybackRate(rate)
        self.rate_changed.emit(rate)
        self._arm_end_timer()

    def faster(self) -> None:
        self.set_rate(next((s for s in SPEEDS if s > self.rate() + 1e-6), MAX_SPEED))

    def slower(self) -> None:
        self.set_rate(next((s for s in reversed(SPEEDS) if s < self.rate() - 1e-6), MIN_SPEED))

    def set_volume(self, volume: float) -> None:
        volume = min(1.0, max(0.0, float(volume)))
        self._audio.setVolume(volume)
        self.volume_changed.emit(volume)

    def set_window(self, start_ms: int, end_ms: int | None, *, stay_inside: bool = True) -> None:
        """Set the scale's coding window (``end_ms`` None: to the end of the recording)."""
        self._window_start = max(0, int(start_ms))
        self._window_end = None if end_ms is None else int(end_ms)
        self._stay_in_window = stay_inside
        self.window_changed.emit()
        self._arm_end_timer()

    def set_stay_in_window(self, stay: bool) -> None:
        """Keep playback and seeks inside the coding window (off: the rater leaves it)."""
        if stay == self._stay_in_window:
            return
        self._stay_in_window = stay
        if stay and self.has_window:
            clamped = self._clamp(self._position)
            if clamped != self._position:
                self.seek(clamped)
        self.window_changed.emit()
        self._arm_end_timer()

    # ------------------------------------------------------------------ internals

    def _clamp(self, position: int) -> int:
        hi = self._duration if self._duration > 0 else max(position, 0)
        if self.stays_in_window():
            lo = self._window_start
            if self._window_end is not None:
                hi = min(hi, self._window_end) if self._duration > 0 else self._window_end
            return min(max(position, lo), max(lo, hi))
        return min(max(position, 0), hi)

    def _arm_end_timer(self) -> None:
        self._end_timer.stop()
        end = self._window_end
        if not (self.is_playing() and self.stays_in_window() and end is not None):
            return
        remaining = max(0, end - self._position)
        self._end_timer.start(round(remaining / max(self.rate(), MIN_SPEED)))

    @Slot()
    def _on_end_timer(self) -> None:
        end = self._window_end
        if end is None or not self.stays_in_window():
            return
        reported = self._media.position()
        if self.is_playing() and reported < end - _STALL_MS:
            # The decoder fell behind (buffering): wait for the rest, from where it is.
            self._position = reported
            self._arm_end_timer()
            return
        self._media.pause()
        self._media.setPosition(end)
        self._position = end
        self.position_changed.emit(end)
        self.window_end_reached.emit()

    @Slot("qlonglong")
    def _on_media_position(self, position: int) -> None:
        if self._pending_seek is not None or not self.is_playing():
            # Position reports of a paused player echo our own seeks; keep our target.
            return
        self._position = int(position)
        self.position_changed.emit(self._position)

    @Slot("qlonglong")
    def _on_media_duration(self, duration: int) -> None:
        if duration > 0:
            self._duration = int(duration)
            self.duration_changed.emit(self._duration)

    @Slot(QMediaPlayer.PlaybackState)
    def _on_media_state(self, state: QMediaPlayer.PlaybackState) -> None:
        playing = state == QMediaPlayer.PlaybackState.PlayingState
        if not playing:
            self._end_timer.stop()
        self.playing_changed.emit(playing)

    @Slot(QMediaPlayer.MediaStatus)
    def _on_media_status(self, status: QMediaPlayer.MediaStatus) -> None:
        if status == QMediaPlayer.MediaStatus.LoadedMedia and self._pending_seek is not None:
            target = self._clamp(self._pending_seek)
            self._pending_seek = None
            self._position = target
            self._media.setPosition(target)
            self.position_changed.emit(target)
            self.loaded.emit()
        elif status == QMediaPlayer.MediaStatus.EndOfMedia:
            self._position = self._duration
            self.position_changed.emit(self._position)
        elif status == QMediaPlayer.MediaStatus.InvalidMedia:
            # errorOccurred follows with the reason; nothing to do here.
            pass

    @Slot(QMediaPlayer.Error, str)
    def _on_media_error(self, error: QMediaPlayer.Error, message: str) -> None:
        kinds = {
            QMediaPlayer.Error.ResourceError: "missing",
            QMediaPlayer.Error.FormatError: "unsupported",
            QMediaPlayer.Error.AccessDeniedError: "missing",
        }
        self.failed.emit(kinds.get(error, "other"), message)
