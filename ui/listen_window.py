"""The lead's listening window: play a session at a moment, read-only.

Opened from the discrepancy list ("open at note"): the lead hears what both coders
heard, with both coders' notes drawn on the waveform. Nothing here writes to the
project.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from PySide6.QtCore import Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from coder.audio import Peaks
from coder.store.project import Project, SessionInfo
from ui.coding_window import _load_peaks
from ui.player import Player
from ui.tasks import TaskRunner
from ui.transport_bar import TransportBar
from ui.waveform_view import WaveformView

SKIP_MS = 5_000


def find_session(project: Project, session_key: str) -> SessionInfo | None:
    """The session with ``session_key``, or None (blocking: run it in a worker)."""
    return next((s for s in project.sessions() if s.key == session_key), None)


class ListenWindow(QWidget):
    """Plays one session from ``position_ms``, with note marks; for the lab lead."""

    def __init__(
        self,
        project: Project,
        runner: TaskRunner,
        session_key: str,
        position_ms: int,
        *,
        note_positions: Sequence[int] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.project = project
        self.runner = runner
        self.session_key = session_key
        self._start_ms = int(position_ms)
        self._cancel = threading.Event()
        self.setWindowTitle(f"Listen: {session_key}")
        self.resize(1000, 260)
        self.player = Player(self)
        self.waveform = WaveformView()
        self.waveform.set_notes(list(note_positions))
        self.waveform.seek_requested.connect(self.player.seek)
        self.player.position_changed.connect(self.waveform.set_playhead)
        self.player.duration_changed.connect(self.waveform.set_duration)
        self.player.failed.connect(self._on_player_failed)
        self.transport = TransportBar(
            self.player, self.waveform, skip_ms=lambda: SKIP_MS, focus_home=self.setFocus
        )
        self.status = QLabel(f"Session {session_key} — opening the recording…")
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.waveform, 1)
        layout.addWidget(self.transport)
        # A plain function with plain arguments: a worker must hold no widget.
        self.runner.read(
            find_session,
            project,
            session_key,
            on_done=self._on_session_found,
            on_error=self._on_error,
        )

    @Slot(object)
    def _on_session_found(self, session: SessionInfo | None) -> None:
        if session is None or not session.audio_path or session.audio_status != "ok":
            self.status.setText(
                f"Session {self.session_key}: the recording is not available "
                "(missing or unreadable); re-link it with session-coder relink."
            )
            return
        self.status.setText(f"Session {self.session_key} (read-only; nothing you do here is saved)")
        self.player.load(
            session.audio_path, position_ms=self._start_ms, duration_ms=session.duration_ms or 0
        )
        self.waveform.set_message("Drawing the waveform…")
        self.runner.submit(
            _load_peaks,
            session.audio_path,
            session.sha256,
            self._cancel.is_set,
            on_done=self._on_peaks,
            on_error=self._on_error,
        )

    @Slot(object)
    def _on_peaks(self, peaks: Peaks) -> None:
        self.waveform.set_peaks(peaks)

    @Slot(object)
    def _on_error(self, error: BaseException) -> None:
        self.status.setText(f"Session {self.session_key}: {error}")

    @Slot(str, str)
    def _on_player_failed(self, _kind: str, message: str) -> None:
        self.status.setText(f"Session {self.session_key}: cannot play the recording ({message})")

    def closeEvent(self, event: QCloseEvent) -> None:
        self._cancel.set()
        self.player.unload()
        event.accept()
