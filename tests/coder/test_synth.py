"""Tests for coder.synth: the demo's synthetic two-speaker recordings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from coder.synth import (
    CLIENT_F0_HZ,
    THERAPIST_F0_HZ,
    plan_turns,
    synthesize_session,
    write_tone,
)


def _pitch_hz(samples: np.ndarray, rate: int) -> float:
    """Median autocorrelation pitch over the loud 40 ms frames of ``samples``."""
    frame = int(0.04 * rate)
    lo, hi = int(rate / 400), int(rate / 60)
    estimates = []
    for start in range(0, len(samples) - frame, frame):
        x = samples[start : start + frame].astype(np.float64)
        if np.sqrt(np.mean(x**2)) < 0.05:
            continue
        x = x - x.mean()
        ac = np.correlate(x, x, mode="full")[frame - 1 :]
        estimates.append(rate / (lo + int(np.argmax(ac[lo:hi]))))
    return float(np.median(estimates))


def test_same_seed_gives_the_same_file_and_another_seed_does_not(tmp_path: Path) -> None:
    a = synthesize_session(tmp_path / "a.wav", 8.0, seed=3)
    b = synthesize_session(tmp_path / "b.wav", 8.0, seed=3)
    c = synthesize_session(tmp_path / "c.wav", 8.0, seed=4)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


@pytest.mark.parametrize(("fmt", "rate"), [("WAV", 16000), ("FLAC", 22050), ("OGG", 16000)])
def test_length_and_format_are_as_asked(tmp_path: Path, fmt: str, rate: int) -> None:
    path = synthesize_session(tmp_path / f"s.{fmt.lower()}", 5.5, seed=1, sample_rate=rate, fmt=fmt)
    info = sf.info(path)
    assert info.frames == round(5.5 * rate) and info.samplerate == rate
    assert info.format == fmt and info.channels == 1


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        synthesize_session(tmp_path / "s.xyz", 1.0, seed=1)


def test_turns_alternate_speakers_with_pauses_and_cover_the_file() -> None:
    turns = plan_turns(120.0, seed=5)
    assert turns[0].start_frame == 0 and turns[-1].end_frame == 120 * 16000
    assert all(a.end_frame == b.start_frame for a, b in zip(turns, turns[1:], strict=False))
    speakers = [t.speaker for t in turns if t.speaker is not None]
    assert speakers[0] == "therapist"
    assert all(a != b for a, b in zip(speakers, speakers[1:], strict=False))
    full = [t for t in turns[:-1] if t.speaker is not None]
    assert all(2 * 16000 <= t.end_frame - t.start_frame <= 12 * 16000 for t in full)


def test_speakers_have_distinct_pitches_near_110_and_210_hz(tmp_path: Path) -> None:
    path = synthesize_session(tmp_path / "s.wav", 40.0, seed=11)
    samples, rate = sf.read(path, dtype="float32")
    pitches: dict[str, list[float]] = {"therapist": [], "client": []}
    for turn in plan_turns(40.0, seed=11, sample_rate=rate):
        if turn.speaker is not None and turn.end_frame - turn.start_frame > rate:
            pitch = _pitch_hz(samples[turn.start_frame : turn.end_frame], rate)
            pitches[turn.speaker].append(pitch)
    therapist = float(np.median(pitches["therapist"]))
    client = float(np.median(pitches["client"]))
    assert THERAPIST_F0_HZ * 0.8 < therapist < THERAPIST_F0_HZ * 1.2
    assert CLIENT_F0_HZ * 0.8 < client < CLIENT_F0_HZ * 1.2


def test_speech_is_loud_pauses_are_quiet_and_nothing_clips(tmp_path: Path) -> None:
    path = synthesize_session(tmp_path / "s.wav", 30.0, seed=2)
    samples, rate = sf.read(path, dtype="float32")
    assert 0.2 < np.abs(samples).max() < 0.99
    turns = plan_turns(30.0, seed=2, sample_rate=rate)
    speech = np.concatenate([samples[t.start_frame : t.end_frame] for t in turns if t.speaker])
    pause = np.concatenate([samples[t.start_frame : t.end_frame] for t in turns if not t.speaker])
    speech_rms = np.sqrt(np.mean(speech**2))
    pause_rms = np.sqrt(np.mean(pause**2))
    assert speech_rms > 0.03 and 0 < pause_rms < speech_rms / 30


def test_write_tone_levels_each_channel(tmp_path: Path) -> None:
    path = write_tone(tmp_path / "t.flac", 0.5, 1000.0, 16000, 3)
    samples, rate = sf.read(path, dtype="float32", always_2d=True)
    assert samples.shape == (8000, 3) and rate == 16000
    np.testing.assert_allclose(np.abs(samples).max(axis=0), [0.5, 0.4, 0.32], atol=2e-3)
