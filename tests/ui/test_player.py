"""Player on a real WAV: skip, seek, speed, and staying inside the coding window."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from coder.synth import synthesize_session
from ui.player import MAX_SPEED, MIN_SPEED, Player


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    return synthesize_session(tmp_path / "session.wav", 60, seed=7)


@pytest.fixture
def player(qtbot, app, wav: Path) -> Iterator[Player]:  # type: ignore[no-untyped-def]
    player = Player()
    player.load(wav)
    qtbot.waitUntil(lambda: player.is_loaded and player.duration() == 60_000, timeout=5000)
    yield player
    player.unload()
    player.deleteLater()


def test_skip_and_seek_stay_inside_the_recording(player: Player) -> None:
    player.seek(10_000)
    assert player.position() == 10_000
    player.skip(5_000)
    assert player.position() == 15_000
    player.skip(-20_000)
    assert player.position() == 0
    player.seek(99_000)
    assert player.position() == 60_000


def test_resume_position_is_applied_once_loaded(qtbot, app, wav: Path) -> None:  # type: ignore[no-untyped-def]
    player = Player()
    positions: list[int] = []
    player.position_changed.connect(positions.append)
    with qtbot.waitSignal(player.loaded, timeout=5000):
        player.load(wav, position_ms=42_000)
    assert player.position() == 42_000 and positions[-1] == 42_000
    player.unload()


def test_speed_steps_are_clamped_and_playback_runs_faster(qtbot, player: Player) -> None:  # type: ignore[no-untyped-def]
    player.set_rate(5.0)
    assert player.rate() == MAX_SPEED
    player.faster()
    assert player.rate() == MAX_SPEED
    player.set_rate(0.1)
    assert player.rate() == MIN_SPEED
    player.set_rate(1.0)
    player.faster()
    assert player.rate() == 1.1
    player.slower()
    player.slower()
    assert player.rate() == 0.9

    player.set_rate(2.0)
    player.seek(5_000)
    player.play()
    # Playback runs, at the rate the media player was given. (No wall-clock timing: on a
    # loaded machine the elapsed time proves nothing.)
    qtbot.waitUntil(lambda: player.position() >= 6_500, timeout=10_000)
    player.pause()
    assert player.rate() == 2.0  # read back from the QMediaPlayer itself


def test_playback_pauses_exactly_at_the_end_of_the_coding_window(qtbot, player: Player) -> None:  # type: ignore[no-untyped-def]
    player.set_window(10_000, 11_200, stay_inside=True)
    player.seek(0)
    assert player.position() == 10_000  # clamped to the window start
    player.seek(30_000)
    assert player.position() == 11_200  # and to its end
    player.seek(10_000)
    player.set_rate(2.0)
    with qtbot.waitSignal(player.window_end_reached, timeout=10_000):
        player.play()
    qtbot.waitUntil(lambda: not player.is_playing(), timeout=10_000)
    assert player.position() == 11_200
    # At the end, play does not run past it ...
    with qtbot.waitSignal(player.window_end_reached, timeout=10_000):
        player.play()
    assert not player.is_playing()
    # ... unless the rater leaves the window on purpose.
    player.set_stay_in_window(False)
    player.seek(30_000)
    assert player.position() == 30_000
    player.set_stay_in_window(True)
    assert player.position() == 11_200  # back inside


def test_pitch_compensation_state_is_known(player: Player) -> None:
    assert isinstance(player.pitch_compensation, bool)


@pytest.mark.qt_log_ignore("Could not open media.*", extend=True)
def test_a_file_that_is_not_audio_is_reported(qtbot, app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bogus = tmp_path / "notes.wav"
    bogus.write_bytes(b"this is not a RIFF file at all" * 100)
    player = Player()
    with qtbot.waitSignal(player.failed, timeout=5000) as blocker:
        player.load(bogus)
    assert blocker.args[0] in ("unsupported", "missing", "corrupt", "other")
    player.unload()
