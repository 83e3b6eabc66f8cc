"""Synthetic, speech-like recordings for the demo project, tests and benchmarks.

No real therapy audio may leave a lab, so the demo and the test suite use audio made
here: two alternating "voices" (a lower therapist voice near 110 Hz and a higher client
voice near 210 Hz) built like a source-filter vowel synthesiser. A glottal pulse train
with a slowly moving pitch is shaped by a spectral tilt and three formant resonators
(Klatt 1980 cascade resonators, vowel formants from Peterson & Barney 1952), switched
vowel by vowel at a syllable rate of 3-5 Hz under a rise-and-fall envelope. Turns last
2-12 s and are separated by pauses; a light noise floor runs underneath.

Everything is deterministic by seed and streamed to disk turn by turn, so memory stays
small whatever the length, and a three-minute file takes a small fraction of a second.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import soundfile as sf
from numpy.typing import NDArray
from scipy.signal import sosfilt

Speaker = Literal["therapist", "client"]

THERAPIST_F0_HZ = 110.0
CLIENT_F0_HZ = 210.0

# (F1, F2, F3) in Hz for adult male vowels (Peterson & Barney 1952): /a/ /ae/ /e/ /i/
# /o/ /u/ /schwa/. The client voice scales them up, as shorter vocal tracts do.
_VOWEL_FORMANTS: tuple[tuple[float, float, float], ...] = (
    (730.0, 1090.0, 2440.0),
    (660.0, 1720.0, 2410.0),
    (530.0, 1840.0, 2480.0),
    (270.0, 2290.0, 3010.0),
    (570.0, 840.0, 2410.0),
    (300.0, 870.0, 2240.0),
    (500.0, 1500.0, 2500.0),
)
_FORMANT_BANDWIDTHS_HZ = (80.0, 100.0, 140.0)
_CLIENT_FORMANT_SCALE = 1.17
# Noise floor about 55 dB below full scale: audible in pauses, as in a real room.
_NOISE_FLOOR_RMS = 10 ** (-55 / 20)

# libsndfile writes these containers; each gets the subtype a recorder would use.
_SUBTYPES: dict[str, str] = {
    "WAV": "PCM_16",
    "FLAC": "PCM_16",
    "OGG": "VORBIS",
    "MP3": "MPEG_LAYER_III",
}


@dataclass(frozen=True)
class Turn:
    """One stretch of the synthetic conversation; ``speaker`` is None for a pause."""

    speaker: Speaker | None
    start_frame: int
    end_frame: int


def plan_turns(seconds: float, *, seed: int, sample_rate: int = 16000) -> list[Turn]:
    """Lay out who speaks when in a synthetic session.

    The therapist speaks first; speakers alternate; turns last 2-12 s and pauses
    0.3-1.5 s. The plan uses its own random stream, so tests can find the turns of a
    file written by `synthesize_session` with the same arguments.

    Args:
        seconds: Length of the session; the last turn is cut to fit.
        seed: Random seed; the same seed gives the same plan.
        sample_rate: Frames per second used for the frame positions.

    Returns:
        Turns and pauses covering ``[0, round(seconds * sample_rate))`` without gaps.
    """
    total = round(seconds * sample_rate)
    rng = np.random.default_rng([seed, 0])
    turns: list[Turn] = []
    pos = 0
    speaker: Speaker = "therapist"
    while pos < total:
        if turns:
            pause = round(rng.uniform(0.3, 1.5) * sample_rate)
            end = min(total, pos + pause)
            turns.append(Turn(None, pos, end))
            pos = end
            if pos >= total:
                break
        length = round(rng.uniform(2.0, 12.0) * sample_rate)
        end = min(total, pos + length)
        turns.append(Turn(speaker, pos, end))
        pos = end
        speaker = "client" if speaker == "therapist" else "therapist"
    return turns


def _resonator_sos(freq: float, bandwidth: float, sample_rate: int) -> list[float]:
    """Return one Klatt resonator (unity gain at 0 Hz) as a second-order section."""
    c = -np.exp(-2.0 * np.pi * bandwidth / sample_rate)
    b = 2.0 * np.exp(-np.pi * bandwidth / sample_rate) * np.cos(2.0 * np.pi * freq / sample_rate)
    a = 1.0 - b - c
    return [a, 0.0, 0.0, 1.0, -b, -c]


@functools.lru_cache(maxsize=64)
def _vowel_sos(
    formants: tuple[float, float, float], scale: float, sample_rate: int
) -> NDArray[np.float64]:
    """Second-order sections for spectral tilt plus the formants below Nyquist.

    Cached (seven vowels, two voices): it is asked for every syllable. The array is
    only read.
    """
    # Two one-pole low-passes give the -12 dB/octave tilt of a glottal pulse.
    pole = 0.9
    sections = [[1.0 - pole, 0.0, 0.0, 1.0, -pole, 0.0]] * 2
    for freq, bandwidth in zip(formants, _FORMANT_BANDWIDTHS_HZ, strict=True):
        if freq * scale < 0.45 * sample_rate:
            sections.append(_resonator_sos(freq * scale, bandwidth * scale, sample_rate))
    return np.asarray(sections, dtype=np.float64)


def _render_turn(
    speaker: Speaker,
    frames: int,
    sample_rate: int,
    f0_base: float,
    rng: np.random.Generator,
) -> NDArray[np.float32]:
    """Render one speaker's turn as float32 samples peaking near the speaker's level."""
    duration = max(frames / sample_rate, 1e-3)
    # Intonation, drawn at 8 points per second and interpolated (per-sample maths here
    # dominated the run time): a slow wobble, a fall across the turn (declination)
    # and a random contour.
    knots = np.arange(0.0, duration + 0.25, 0.125)
    wobble = 0.06 * np.sin(2.0 * np.pi * rng.uniform(0.2, 0.5) * knots + rng.uniform(0, 2 * np.pi))
    contour = 1.0 + wobble - 0.08 * knots / duration + 0.04 * rng.standard_normal(len(knots))
    f0 = np.interp(np.arange(frames, dtype=np.float64), knots * sample_rate, f0_base * contour)
    # One impulse per glottal period: where the accumulated phase crosses an integer.
    phase = np.cumsum(f0 / sample_rate)
    periods = np.searchsorted(phase, np.arange(1.0, float(phase[-1])))
    excitation = 0.03 * rng.standard_normal(frames)  # breathiness
    excitation[periods] += 1.0

    out = np.zeros(frames, dtype=np.float64)
    scale = _CLIENT_FORMANT_SCALE if speaker == "client" else 1.0
    pos = 0
    while pos < frames:
        length = min(frames - pos, max(1, round(sample_rate / rng.uniform(3.0, 5.0))))
        if rng.random() < 0.12:
            pos += length  # a short break between words or phrases
            continue
        vowel = _VOWEL_FORMANTS[rng.integers(len(_VOWEL_FORMANTS))]
        seg = sosfilt(_vowel_sos(vowel, scale, sample_rate), excitation[pos : pos + length])
        envelope = np.square(np.sin(np.pi / length * np.arange(length)))
        seg *= envelope * rng.uniform(0.55, 1.0) / max(float(np.abs(seg).max()), 1e-9)
        if rng.random() < 0.4:  # a fricative-like consonant at the syllable onset
            burst = min(length, round(sample_rate * rng.uniform(0.03, 0.07)))
            hiss = np.diff(rng.standard_normal(burst + 1)) * np.hanning(burst)
            seg[:burst] += 0.12 * hiss
        out[pos : pos + length] = seg
        pos += length
    level = (0.45 if speaker == "therapist" else 0.4) * rng.uniform(0.8, 1.1)
    return (out * level).astype(np.float32)


def iter_session_blocks(
    seconds: float, *, seed: int, sample_rate: int = 16000
) -> Iterator[NDArray[np.float32]]:
    """Yield a synthetic session as consecutive mono float32 blocks (one per turn/pause).

    Args:
        seconds: Length of the session.
        seed: Random seed; the same seed gives the same samples.
        sample_rate: Frames per second.

    Yields:
        Mono float32 arrays in -1..1 whose lengths add up to ``round(seconds * sample_rate)``.
    """
    rng = np.random.default_rng([seed, 1])
    # Each session gets its own pair of voices near the nominal pitches.
    f0s: dict[Speaker, float] = {
        "therapist": THERAPIST_F0_HZ * rng.uniform(0.93, 1.07),
        "client": CLIENT_F0_HZ * rng.uniform(0.93, 1.07),
    }
    for turn in plan_turns(seconds, seed=seed, sample_rate=sample_rate):
        frames = turn.end_frame - turn.start_frame
        noise = rng.standard_normal(frames, dtype=np.float32)
        noise *= _NOISE_FLOOR_RMS
        if turn.speaker is None:
            yield noise
        else:
            yield _render_turn(turn.speaker, frames, sample_rate, f0s[turn.speaker], rng) + noise


def _open_for_writing(path: Path, sample_rate: int, channels: int, fmt: str | None) -> sf.SoundFile:
    """Open ``path`` for writing in ``fmt`` (or the format its extension names)."""
    container = (fmt or path.suffix.lstrip(".") or "WAV").upper()
    if container not in _SUBTYPES:
        raise ValueError(f"cannot write {container!r}; use one of {', '.join(_SUBTYPES)}")
    if container not in sf.available_formats():
        raise ValueError(f"this libsndfile ({sf.__libsndfile_version__}) cannot write {container}")
    return sf.SoundFile(
        path,
        mode="w",
        samplerate=sample_rate,
        channels=channels,
        format=container,
        subtype=_SUBTYPES[container],
    )


# libsndfile 1.2.2 crashes (SIGSEGV) in its Vorbis encoder when one write call carries
# about a minute of 44.1 kHz stereo; slices this size are safe and cost nothing.
_WRITE_FRAMES = 1 << 16


def _write(out: sf.SoundFile, samples: NDArray[np.float32]) -> None:
    for start in range(0, len(samples), _WRITE_FRAMES):
        out.write(samples[start : start + _WRITE_FRAMES])


def synthesize_session(
    path: Path, seconds: float, *, seed: int, sample_rate: int = 16000, fmt: str | None = None
) -> Path:
    """Write a speech-like two-speaker recording to ``path``.

    Args:
        path: File to write (overwritten if it exists).
        seconds: Length of the recording.
        seed: Random seed; the same arguments give the same samples.
        sample_rate: Frames per second (MP3 allows 8000-48000).
        fmt: ``"WAV"``, ``"FLAC"``, ``"OGG"`` or ``"MP3"``; None takes it from the
            file extension. WAV and FLAC are 16-bit PCM, OGG is Vorbis.

    Returns:
        ``path``.

    Raises:
        ValueError: The format is unknown or this libsndfile cannot write it.
    """
    path = Path(path)
    with _open_for_writing(path, sample_rate, 1, fmt) as out:
        for block in iter_session_blocks(seconds, seed=seed, sample_rate=sample_rate):
            _write(out, block)
    return path


def write_tone(
    path: Path,
    seconds: float,
    freq: float = 440.0,
    sample_rate: int = 16000,
    channels: int = 1,
    fmt: str | None = None,
) -> Path:
    """Write a sine tone, channel ``c`` at amplitude ``0.5 * 0.8**c``; for tests.

    Channels differ in level so that code folding channels together can be checked.

    Args:
        path: File to write (overwritten if it exists).
        seconds: Length of the tone.
        freq: Frequency in Hz.
        sample_rate: Frames per second.
        channels: Number of channels.
        fmt: As for `synthesize_session`.

    Returns:
        ``path``.
    """
    path = Path(path)
    total = round(seconds * sample_rate)
    gains = 0.5 * 0.8 ** np.arange(channels, dtype=np.float64)
    with _open_for_writing(path, sample_rate, channels, fmt) as out:
        for start in range(0, total, sample_rate * 10):  # 10 s at a time: bounded memory
            n = np.arange(start, min(total, start + sample_rate * 10), dtype=np.float64)
            wave = np.sin(2.0 * np.pi * freq * n / sample_rate)
            _write(out, (wave[:, None] * gains[None, :]).astype(np.float32))
    return path
