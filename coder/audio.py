"""Audio files: probing, content hashes, waveform peaks and sample lookup.

Everything here is blocking and free of Qt; ``ui/`` runs it on a worker thread and
passes ``progress`` and ``cancelled`` callbacks, which are called between chunks.

Decoders, fastest first:

* **WAV** (PCM 8/16/24/32-bit, float 32/64): the RIFF header is parsed here and two
  worker threads read the data chunk in 4 MiB chunks straight into numpy buffers and
  reduce them, so peaks cost little more than reading the bytes once.
* **FLAC, OGG, MP3** and anything else libsndfile reads: ``soundfile``, streamed in
  blocks into one reused buffer.
* **M4A/AAC** and anything libsndfile cannot read: an ``ffmpeg`` subprocess that pipes
  16-bit PCM (as a WAV stream), read in chunks; ``ffprobe`` for probing. ffmpeg is a
  system program; without it these files raise `DecoderMissingError` naming what to
  install.

No whole recording is ever held in memory: a 60-minute 44.1 kHz stereo file is 635 MB
of samples, and peaks at 100 per second are 2.9 MB. Peaks are cached on disk by the
file's SHA-256 (`load_or_compute_peaks`), so re-opening a recording is a file load.

Recordings are confidential: paths appear only in DEBUG log records and in error
messages meant for the person who chose the file, never in INFO records.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, cast

import numpy as np
import soundfile as sf
from numpy.typing import NDArray

from coder.errors import AudioError, Cancelled
from coder.store.open_files import open_database_path

__all__ = [
    "AUDIO_EXTENSIONS",
    "MAX_SEGMENT_MS",
    "PEAKS_CACHE_VERSION",
    "AudioError",
    "AudioInfo",
    "AudioMissingError",
    "Cancelled",
    "CorruptAudioError",
    "DecoderMissingError",
    "Peaks",
    "UnsupportedAudioError",
    "compute_peaks",
    "ffmpeg_available",
    "load_or_compute_peaks",
    "peaks_cache_path",
    "probe_audio",
    "read_segment",
    "sha256_file",
]

log = logging.getLogger(__name__)

StrPath = str | os.PathLike[str]
ProgressCallback = Callable[[int], None]
CancelledCallback = Callable[[], bool]
FloatArray = NDArray[np.float32]

# Bump when the layout or the meaning of cached peaks changes; old files are ignored.
PEAKS_CACHE_VERSION = 1

# Read size for hashing and WAV peaks: a few MiB keeps per-call overhead negligible
# while the chunk still fits in the CPU cache for the min and max passes.
_CHUNK_BYTES = 4 * 1024 * 1024
# Threads that read and reduce WAV chunks; two use the cores a laptop can spare while
# the GUI stays responsive.
_WAV_WORKERS = 2
# Frames compared at the end of a file to catch truncation the header hides.
_TAIL_FRAMES = 1024
# `read_segment` is for short spans (a zoomed-in waveform, a preview), not whole files.
MAX_SEGMENT_MS = 10 * 60 * 1000
_FFPROBE_TIMEOUT_S = 120.0

# Suffix -> format name, for files libsndfile reads (with ffmpeg as the fallback).
_SNDFILE_SUFFIXES: dict[str, str] = {
    ".wav": "WAV",
    ".wave": "WAV",
    ".bwf": "WAV",
    ".flac": "FLAC",
    ".ogg": "OGG",
    ".oga": "OGG",
    ".opus": "OPUS",
    ".mp3": "MP3",
    ".aif": "AIFF",
    ".aiff": "AIFF",
    ".aifc": "AIFF",
    ".caf": "CAF",
    ".w64": "W64",
    ".rf64": "WAV",
}
# Suffix -> format name, for files only ffmpeg reads.
_FFMPEG_SUFFIXES: dict[str, str] = {
    ".m4a": "M4A",
    ".m4b": "M4A",
    ".mp4": "MP4",
    ".aac": "AAC",
    ".wma": "WMA",
    ".webm": "WEBM",
    ".mka": "MKA",
    ".amr": "AMR",
    ".3gp": "3GP",
    ".ac3": "AC3",
}
AUDIO_EXTENSIONS: frozenset[str] = frozenset(_SNDFILE_SUFFIXES) | frozenset(_FFMPEG_SUFFIXES)
"""Lower-case file suffixes accepted as audio (for file dialogs and manifest checks)."""

_INSTALL_FFMPEG = (
    "install it with `apt install ffmpeg` (Linux), `brew install ffmpeg` (macOS) or "
    "`winget install ffmpeg` (Windows) and try again, or convert the file to WAV or FLAC"
)


# --------------------------------------------------------------------------- errors


class AudioMissingError(AudioError):
    """The audio file is not where the project says, or cannot be opened."""


class UnsupportedAudioError(AudioError):
    """The file is not in an audio format Session Coder reads."""


class DecoderMissingError(AudioError):
    """The format needs a system decoder (ffmpeg) that is not installed.

    Attributes:
        decoder: The program that is missing, e.g. ``"ffmpeg"``.
    """

    def __init__(self, message: str, *, decoder: str = "ffmpeg") -> None:
        super().__init__(message)
        self.decoder = decoder


class CorruptAudioError(AudioError):
    """The file claims to be audio but is damaged, truncated or empty."""


# ---------------------------------------------------------------------- public types


@dataclass(frozen=True)
class AudioInfo:
    """What an import records about one audio file.

    Attributes:
        duration_ms: Length of the audio, rounded to the nearest millisecond.
        sample_rate: Frames per second.
        channels: Number of channels.
        size_bytes: File size.
        sha256: Lower-case hex SHA-256 of the file's bytes.
        format: Container name: ``"WAV"``, ``"FLAC"``, ``"OGG"``, ``"MP3"``, ``"M4A"``, ...
    """

    duration_ms: int
    sample_rate: int
    channels: int
    size_bytes: int
    sha256: str
    format: str


@dataclass(frozen=True, eq=False)
class Peaks:
    """Waveform overview: the min and max sample of each block of frames.

    Block ``i`` covers frames ``[i * samples_per_peak, (i + 1) * samples_per_peak)``
    (the last block may be shorter) across all channels. Values are in -1..1. The
    arrays are read-only, so one `Peaks` can be shared between threads.

    Attributes:
        mins: Minimum of each block, float32.
        maxs: Maximum of each block, float32.
        samples_per_peak: Frames per block.
        sample_rate: Frames per second of the recording.
        duration_ms: Length of the decoded audio in milliseconds.
    """

    mins: FloatArray
    maxs: FloatArray
    samples_per_peak: int
    sample_rate: int
    duration_ms: int

    def __post_init__(self) -> None:
        if self.mins.shape != self.maxs.shape or self.mins.ndim != 1:
            raise ValueError("mins and maxs must be 1-D arrays of the same length")
        self.mins.setflags(write=False)
        self.maxs.setflags(write=False)

    def __len__(self) -> int:
        return int(self.mins.shape[0])

    @property
    def ms_per_peak(self) -> float:
        """Milliseconds covered by one block."""
        return self.samples_per_peak * 1000.0 / self.sample_rate

    def level(self, quantile: float = 0.999) -> float:
        """How loud the recording gets: the ``quantile`` of the blocks' absolute peaks.

        A quantile, not the maximum, so one click or thump does not set the scale of a
        whole session's overview. 0.0 for silence or no blocks.
        """
        if len(self) == 0:
            return 0.0
        loudest = np.maximum(np.abs(self.mins), np.abs(self.maxs))
        return float(np.quantile(loudest, quantile))

    def window(self, start_ms: float, end_ms: float, columns: int) -> tuple[FloatArray, FloatArray]:
        """Reduce the peaks of ``[start_ms, end_ms)`` to ``columns`` pixel columns.

        Column ``i`` covers ``[start_ms + i * w, start_ms + (i + 1) * w)`` with
        ``w = (end_ms - start_ms) / columns``. It gets the min and max of the blocks
        from the one under its left edge up to, not including, the one under the next
        column's left edge; zoomed in further than one block per column, that is the
        block under its left edge alone (use `read_segment` for real samples). Columns
        before 0 or after the end of the audio are 0.

        Args:
            start_ms: Left edge in milliseconds (may be negative).
            end_ms: Right edge in milliseconds; greater than ``start_ms``.
            columns: Number of columns, at least 1.

        Returns:
            ``(mins, maxs)``, two float32 arrays of length ``columns``.

        Raises:
            ValueError: ``columns < 1`` or ``end_ms <= start_ms``.
        """
        if columns < 1:
            raise ValueError(f"columns must be at least 1, got {columns}")
        if not end_ms > start_ms:
            raise ValueError(f"end_ms ({end_ms}) must be greater than start_ms ({start_ms})")
        out_min = np.zeros(columns, dtype=np.float32)
        out_max = np.zeros(columns, dtype=np.float32)
        n = len(self)
        if n == 0:
            return out_min, out_max
        edges = start_ms + (end_ms - start_ms) * (np.arange(columns + 1) / columns)
        blocks = np.floor(edges / self.ms_per_peak)
        first = blocks[:-1]
        inside = (edges[1:] > 0) & (first < n)
        if not inside.any():
            return out_min, out_max
        stop = int(np.clip(np.ceil(edges[-1] / self.ms_per_peak), 1, n))
        starts = np.clip(first[inside], 0, stop - 1).astype(np.intp)
        # reduceat gives element starts[i] alone when starts[i] >= starts[i + 1]:
        # exactly the "block under the left edge" rule for zoomed-in columns.
        out_min[inside] = np.minimum.reduceat(self.mins[:stop], starts)
        out_max[inside] = np.maximum.reduceat(self.maxs[:stop], starts)
        return out_min, out_max


# ---------------------------------------------------------------------- small helpers


def _check_cancelled(cancelled: CancelledCallback | None) -> None:
    if cancelled is not None and cancelled():
        raise Cancelled("Cancelled.")


def _fmt_duration(ms: int) -> str:
    """Format milliseconds as ``h:mm:ss`` or ``m:ss``."""
    seconds = ms // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _frames_to_ms(frames: int, sample_rate: int) -> int:
    """Round ``frames / sample_rate`` seconds to the nearest millisecond, exactly."""
    return (2 * frames * 1000 + sample_rate) // (2 * sample_rate)


def _check_file(path: Path) -> tuple[int, str]:
    """Check that ``path`` is a readable, non-empty file with an audio suffix.

    Returns:
        ``(size_bytes, suffix)`` with the suffix in lower case.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        raise AudioMissingError(
            f"Audio file not found: {path}. It may have been moved, renamed or be on a "
            "drive that is not connected; check the path, or re-link the file."
        ) from None
    except OSError as exc:
        raise AudioMissingError(
            f"Cannot open audio file {path}: {exc.strerror or exc}. Check that the drive "
            "is connected and that you may read the file."
        ) from None
    if path.is_dir():
        raise AudioMissingError(f"{path} is a folder, not an audio file.")
    if open_database_path(path) is not None:
        # Reading it would open and close the project's file here, dropping its locks.
        raise UnsupportedAudioError(
            f"{path.name} is a file of the open project, not a recording; choose the audio file."
        )
    suffix = path.suffix.lower()
    if suffix not in AUDIO_EXTENSIONS:
        names = sorted(set(_SNDFILE_SUFFIXES.values()) | set(_FFMPEG_SUFFIXES.values()))
        raise UnsupportedAudioError(
            f"{path.name}: '{path.suffix or '(no extension)'}' is not an audio format "
            f"Session Coder reads. Supported: {', '.join(names)}. Convert the recording "
            f'to WAV or FLAC (for example `ffmpeg -i "{path.name}" out.flac`).'
        )
    if st.st_size == 0:
        raise CorruptAudioError(
            f"{path.name}: the file is empty (0 bytes). Copy it again from the original recording."
        )
    if not os.access(path, os.R_OK):
        raise AudioMissingError(
            f"Cannot read audio file {path}: permission denied. Ask for read access."
        )
    return st.st_size, suffix


def _format_name(suffix: str) -> str:
    return _SNDFILE_SUFFIXES.get(suffix) or _FFMPEG_SUFFIXES.get(suffix) or suffix[1:].upper()


def _corrupt(path: Path, detail: str = "") -> CorruptAudioError:
    fmt = _format_name(path.suffix.lower())
    why = f" ({detail})" if detail else ""
    hint = ""
    if path.suffix.lower() in _SNDFILE_SUFFIXES and not ffmpeg_available():
        hint = " If it plays in other software, installing ffmpeg may let Session Coder read it."
    return CorruptAudioError(
        f"{path.name}: cannot be read as {fmt} audio{why}. The file may be damaged, only "
        f"partly copied, or not audio at all; copy it again from the original recording.{hint}"
    )


def _truncated(path: Path, declared_ms: int | None, actual_ms: int | None) -> CorruptAudioError:
    if declared_ms is not None and actual_ms is not None:
        what = (
            f"its header promises {_fmt_duration(declared_ms)} of audio but it holds only "
            f"{_fmt_duration(actual_ms)}"
        )
    else:
        what = "it ends before the audio its header promises"
    return CorruptAudioError(
        f"{path.name}: the file is truncated: {what}. It was probably copied or recorded "
        "incompletely; copy it again from the original recording."
    )


class _ReadsInto(Protocol):
    def readinto(self, buffer: memoryview, /) -> int | None: ...


def _readinto_full(f: _ReadsInto, view: memoryview) -> int:
    """Fill ``view`` from ``f``; fewer bytes only at end of file. Returns the count."""
    total = 0
    size = len(view)
    while total < size:
        n = f.readinto(view[total:])
        if not n:
            break
        total += n
    return total


# ------------------------------------------------------------------------ hashing


def sha256_file(
    path: StrPath,
    *,
    progress: ProgressCallback | None = None,
    cancelled: CancelledCallback | None = None,
) -> str:
    """Compute the SHA-256 of a file, reading it in 4 MiB chunks.

    Args:
        path: The file.
        progress: Called after each chunk with the number of bytes read so far.
        cancelled: Polled before each chunk; returning True stops the work.

    Returns:
        The lower-case hex digest.

    Raises:
        AudioMissingError: The file does not exist or cannot be opened.
        Cancelled: ``cancelled()`` returned True.
    """
    path = Path(path)
    if open_database_path(path) is not None:
        # Hashing would open and close the open project's file here, dropping its locks.
        raise AudioMissingError(f"{path.name} is a file of the open project, not a recording.")
    digest = hashlib.sha256()
    buf = bytearray(_CHUNK_BYTES)
    view = memoryview(buf)
    done = 0
    try:
        f = open(path, "rb", buffering=0)  # closed by the with below
    except FileNotFoundError:
        raise AudioMissingError(f"Audio file not found: {path}.") from None
    except OSError as exc:
        raise AudioMissingError(f"Cannot open {path}: {exc.strerror or exc}.") from None
    with f:
        while True:
            _check_cancelled(cancelled)
            n = _readinto_full(f, view)
            if not n:
                break
            digest.update(view[:n])  # hashlib releases the GIL for large buffers
            done += n
            if progress is not None:
                progress(done)
            if n < len(buf):
                break
    return digest.hexdigest()


# ------------------------------------------------------------------------ WAV header

_SampleFormat = Literal["u8", "i16", "i24", "i32", "f32", "f64"]
_WAVE_FORMAT_PCM = 0x0001
_WAVE_FORMAT_IEEE_FLOAT = 0x0003
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE
# (format tag, bits per sample) -> how the samples are stored.
_WAV_SAMPLE_FORMATS: dict[tuple[int, int], _SampleFormat] = {
    (_WAVE_FORMAT_PCM, 8): "u8",
    (_WAVE_FORMAT_PCM, 16): "i16",
    (_WAVE_FORMAT_PCM, 24): "i24",
    (_WAVE_FORMAT_PCM, 32): "i32",
    (_WAVE_FORMAT_IEEE_FLOAT, 32): "f32",
    (_WAVE_FORMAT_IEEE_FLOAT, 64): "f64",
}
# Recorders that crash or stream write these in place of the data size.
_PLACEHOLDER_SIZES = (0, 0xFFFFFFFF)


@dataclass(frozen=True)
class _WavLayout:
    """Where the samples of a plain PCM or float WAV file are, and how they are stored."""

    data_offset: int
    frames: int  # whole frames present in the file
    declared_frames: int  # frames the data chunk header promises
    channels: int
    sample_rate: int
    sample_format: _SampleFormat
    block_align: int


def _parse_wav(path: Path, file_size: int) -> _WavLayout | None:
    """Parse the RIFF header of a WAV file.

    Returns:
        The layout, or None when the file is not a RIFF/WAVE file with PCM or float
        samples this module reads directly (RF64, ADPCM, ...); soundfile then decides.
    """
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        fmt: tuple[int, int, int, int, int] | None = None
        pos = 12
        while pos + 8 <= file_size:
            f.seek(pos)
            chunk_id, size = struct.unpack("<4sI", f.read(8))
            body = pos + 8
            if chunk_id == b"fmt ":
                raw = f.read(min(size, 40))
                if len(raw) < 16:
                    return None
                tag, channels, rate, _, align, bits = struct.unpack("<HHIIHH", raw[:16])
                if tag == _WAVE_FORMAT_EXTENSIBLE and len(raw) >= 26:
                    tag = struct.unpack("<H", raw[24:26])[0]  # first bytes of the GUID
                fmt = (tag, channels, rate, align, bits)
            elif chunk_id == b"data":
                if fmt is None:
                    return None
                tag, channels, rate, align, bits = fmt
                sample_format = _WAV_SAMPLE_FORMATS.get((tag, bits))
                if (
                    sample_format is None
                    or channels < 1
                    or rate < 1
                    or align != channels * bits // 8
                ):
                    return None
                available = (file_size - body) // align
                if size in _PLACEHOLDER_SIZES:
                    declared = available
                else:
                    declared = size // align
                return _WavLayout(
                    data_offset=body,
                    frames=min(declared, available),
                    declared_frames=declared,
                    channels=channels,
                    sample_rate=rate,
                    sample_format=sample_format,
                    block_align=align,
                )
            pos = body + size + (size & 1)  # chunks are padded to even sizes
    return None


# ------------------------------------------------------------------------ probing


@dataclass(frozen=True)
class _StreamInfo:
    duration_ms: int
    sample_rate: int
    channels: int
    format: str


def ffmpeg_available() -> bool:
    """Return True when both ``ffmpeg`` and ``ffprobe`` are on the PATH.

    Looked up on every call (cheap), so installing ffmpeg while the app runs works.
    """
    return shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None


def _require_ffmpeg(path: Path) -> tuple[str, str]:
    """Return the paths of ffmpeg and ffprobe, or raise `DecoderMissingError`."""
    ffmpeg = shutil.which("ffmpeg")
    ffprobe = shutil.which("ffprobe")
    if ffmpeg is None or ffprobe is None:
        fmt = _format_name(path.suffix.lower())
        if fmt in ("M4A", "AAC", "MP4"):
            fmt = "M4A/AAC"
        missing = "ffmpeg" if ffmpeg is None else "ffprobe (part of ffmpeg)"
        raise DecoderMissingError(
            f"{path.name}: {fmt} audio needs ffmpeg, and {missing} is not installed: "
            f"{_INSTALL_FFMPEG}.",
            decoder="ffmpeg",
        )
    return ffmpeg, ffprobe


def _ffmpeg_input(path: Path) -> str:
    # "file:" keeps names with a colon or a leading dash from being read as a protocol
    # or an option.
    return "file:" + os.path.abspath(path)


def _no_window() -> int:
    # A GUI app on Windows would otherwise flash a console window per subprocess.
    return getattr(subprocess, "CREATE_NO_WINDOW", 0) if sys.platform == "win32" else 0


def _stderr_reason(text: str, path: Path) -> str:
    """Last meaningful line of ffmpeg's stderr, with the full path reduced to the name."""
    lines = [ln.strip() for ln in text.replace(os.path.abspath(path), path.name).splitlines()]
    lines = [ln for ln in lines if ln]
    reason = lines[-1] if lines else "unknown error"
    reason = reason.replace("file:" + path.name, path.name)
    return re.sub(r"^\[[^\]]*\]\s*", "", reason)[:200]


def _run_ffprobe(ffprobe: str, path: Path, *args: str) -> dict[str, Any]:
    cmd = [ffprobe, "-v", "error", "-of", "json", *args, _ffmpeg_input(path)]
    try:
        result = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=_FFPROBE_TIMEOUT_S,
            creationflags=_no_window(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise _corrupt(path, "ffprobe did not finish") from None
    except OSError as exc:
        raise DecoderMissingError(
            f"{path.name}: ffprobe could not be started ({exc}): {_INSTALL_FFMPEG}."
        ) from None
    if result.returncode != 0:
        raise _corrupt(path, _stderr_reason(result.stderr, path))
    try:
        data = json.loads(result.stdout or "{}")
    except json.JSONDecodeError:
        raise _corrupt(path, "ffprobe gave no readable answer") from None
    return data if isinstance(data, dict) else {}


def _as_float(value: object) -> float | None:
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return result if np.isfinite(result) else None


def _probe_ffmpeg(path: Path) -> _StreamInfo:
    """Probe the first audio stream of ``path`` with ffprobe."""
    _, ffprobe = _require_ffmpeg(path)
    data = _run_ffprobe(
        ffprobe,
        path,
        "-select_streams",
        "a:0",
        "-show_entries",
        "stream=codec_name,profile,sample_rate,channels,duration:format=format_name,duration",
    )
    streams = data.get("streams") or []
    if not streams:
        raise _corrupt(path, "it contains no audio stream")
    stream = streams[0]
    rate = int(_as_float(stream.get("sample_rate")) or 0)
    channels = int(stream.get("channels") or 0)
    if rate <= 0 or channels <= 0:
        raise _corrupt(path, "its audio stream has no sample rate or channel count")
    fmt_info = data.get("format") or {}
    seconds = _as_float(stream.get("duration")) or _as_float(fmt_info.get("duration"))
    if fmt_info.get("format_name") == "aac":
        # Raw ADTS streams have no length in any header and ffprobe estimates it from
        # the bit rate (a few % off); counting packets (demux only, no decoding) is
        # exact: each holds 1024 frames, 2048 after HE-AAC's spectral band replication.
        counted = _run_ffprobe(
            ffprobe,
            path,
            "-select_streams",
            "a:0",
            "-count_packets",
            "-show_entries",
            "stream=nb_read_packets",
        )
        packets = _as_float(((counted.get("streams") or [{}])[0]).get("nb_read_packets"))
        if packets:
            per_packet = 2048 if "HE" in str(stream.get("profile", "")) else 1024
            seconds = packets * per_packet / rate
    if seconds is None or seconds <= 0:
        raise _corrupt(path, "it contains no audio")
    return _StreamInfo(round(seconds * 1000), rate, channels, _format_name(path.suffix.lower()))


def _soundfile_format(info_format: str, subtype: str, suffix: str) -> str:
    if subtype == "OPUS":
        return "OPUS"
    return {"WAVEX": "WAV", "RF64": "WAV"}.get(info_format, info_format or _format_name(suffix))


def _probe_soundfile(path: Path, size: int) -> _StreamInfo:
    """Probe with libsndfile (and the WAV header parser); raise ``sf.LibsndfileError``
    when libsndfile cannot open the file at all."""
    suffix = path.suffix.lower()
    if _SNDFILE_SUFFIXES.get(suffix) == "WAV":
        layout = _parse_wav(path, size)
        if layout is not None:
            # libsndfile silently shortens a WAV whose data chunk runs past the end of
            # the file; a short copy must be reported, not imported as a shorter session.
            if layout.frames < layout.declared_frames:
                raise _truncated(
                    path,
                    _frames_to_ms(layout.declared_frames, layout.sample_rate),
                    _frames_to_ms(layout.frames, layout.sample_rate),
                )
            if layout.frames == 0:
                raise _corrupt(path, "it contains no audio")
            return _StreamInfo(
                _frames_to_ms(layout.frames, layout.sample_rate),
                layout.sample_rate,
                layout.channels,
                "WAV",
            )
    with sf.SoundFile(path) as f:
        frames, rate, channels = f.frames, f.samplerate, f.channels
        fmt = _soundfile_format(f.format, f.subtype, suffix)
        if frames <= 0 or rate <= 0:
            raise _corrupt(path, "it contains no audio")
        # FLAC and MP3 headers give the length up front; read the last frames to be
        # sure they are there (a cut-off copy fails here, not halfway through coding).
        tail = min(frames, _TAIL_FRAMES)
        try:
            f.seek(frames - tail)
            got = len(f.read(tail, dtype="float32"))
        except (sf.LibsndfileError, RuntimeError) as exc:
            log.debug("tail check failed for %s: %s", path, exc)
            got = -1
        if got < tail:
            raise _truncated(path, _frames_to_ms(frames, rate), None)
    return _StreamInfo(_frames_to_ms(frames, rate), rate, channels, fmt)


def _probe_stream(path: Path, size: int, suffix: str) -> _StreamInfo:
    if suffix in _FFMPEG_SUFFIXES:
        return _probe_ffmpeg(path)
    try:
        return _probe_soundfile(path, size)
    except sf.LibsndfileError as exc:
        log.debug("libsndfile cannot open %s: %s", path, exc)
        if not ffmpeg_available():
            raise _corrupt(path) from None
    try:
        return _probe_ffmpeg(path)
    except CorruptAudioError:
        raise _corrupt(path) from None


def probe_audio(
    path: StrPath,
    *,
    sha256: str | None = None,
    progress: ProgressCallback | None = None,
    cancelled: CancelledCallback | None = None,
) -> AudioInfo:
    """Read an audio file's length, format and content hash.

    The header is checked before the file is hashed, so a bad file fails fast.
    WAV, FLAC, OGG and MP3 lengths are exact frame counts (libsndfile); M4A/AAC and
    what libsndfile cannot read go through ffprobe.

    Args:
        path: The audio file.
        sha256: The known hash of an unchanged file (same size and mtime as when it
            was hashed); when given the file is not read again.
        progress: Called with the number of bytes hashed so far.
        cancelled: Polled between chunks; returning True stops the work.

    Returns:
        The file's `AudioInfo`.

    Raises:
        AudioMissingError: The file is missing or cannot be opened.
        UnsupportedAudioError: The suffix is not an audio format Session Coder reads.
        DecoderMissingError: The format needs ffmpeg, which is not installed.
        CorruptAudioError: The file is empty, damaged, truncated or holds no audio.
        Cancelled: ``cancelled()`` returned True.
    """
    path = Path(path)
    size, suffix = _check_file(path)
    _check_cancelled(cancelled)
    stream = _probe_stream(path, size, suffix)
    if sha256 is None:
        digest = sha256_file(path, progress=progress, cancelled=cancelled)
    else:
        digest = _checked_sha256(sha256)
    return AudioInfo(
        duration_ms=stream.duration_ms,
        sample_rate=stream.sample_rate,
        channels=stream.channels,
        size_bytes=size,
        sha256=digest,
        format=stream.format,
    )


def _checked_sha256(sha256: str) -> str:
    digest = sha256.lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return digest


# ------------------------------------------------------------------------ peaks


class _PeakCollector:
    """Collects per-block min/max of interleaved chunks whose length is a multiple of
    the block (only the last chunk may be shorter)."""

    def __init__(self, samples_per_peak: int, channels: int) -> None:
        self.block = samples_per_peak * channels
        self.mins: list[NDArray[Any]] = []
        self.maxs: list[NDArray[Any]] = []
        self._starts = np.zeros(0, dtype=np.intp)

    def add(self, flat: NDArray[Any]) -> None:
        if flat.size == 0:
            return
        count = -(-flat.size // self.block)
        if self._starts.size < count:
            self._starts = np.arange(count, dtype=np.intp) * self.block
        # reduceat over block starts: one pass per reduction, and the shorter last
        # block needs no special case (reshape(-1, block) would need whole blocks).
        starts = self._starts[:count]
        self.mins.append(np.minimum.reduceat(flat, starts))
        self.maxs.append(np.maximum.reduceat(flat, starts))

    def result(self) -> tuple[NDArray[Any], NDArray[Any]]:
        if not self.mins:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.float32)
        return np.concatenate(self.mins), np.concatenate(self.maxs)


def _to_unit(values: NDArray[Any], sample_format: str) -> FloatArray:
    """Scale integer or float sample values to float32 in -1..1."""
    if sample_format == "u8":
        out = (values.astype(np.float32) - 128.0) / 128.0
    elif sample_format == "i16":
        out = values.astype(np.float32) / 32768.0
    elif sample_format in ("i24", "i32"):  # 24-bit samples sit in the top of an int32
        out = (values.astype(np.float64) / 2147483648.0).astype(np.float32)
    else:
        out = np.clip(values, -1.0, 1.0).astype(np.float32)
    return out


_NUMPY_DTYPES: dict[str, str] = {
    "u8": "u1",
    "i16": "<i2",
    "i32": "<i4",
    "f32": "<f4",
    "f64": "<f8",
}


def _wav_peaks(
    path: Path,
    layout: _WavLayout,
    spp: int,
    progress: ProgressCallback | None,
    cancelled: CancelledCallback | None,
) -> tuple[NDArray[Any], NDArray[Any], int]:
    """Peaks of a PCM/float WAV, reading the data chunk in fixed-size chunks.

    Plain reads rather than numpy.memmap: as fast here, memory stays bounded (a
    memmap's pages count against the process), and an I/O error on a network share
    or a file cut short while open raises OSError instead of killing the app with
    SIGBUS. Two worker threads each read and reduce whole chunks (file reads and
    numpy reductions both release the GIL): the min and max passes cost about as
    much as the read itself, and sharing them out keeps the total near one read.
    """
    align = layout.block_align
    peak_bytes = spp * align
    chunk_bytes = max(1, _CHUNK_BYTES // peak_bytes) * peak_bytes
    total_bytes = layout.frames * align
    block = spp * layout.channels  # samples per peak, all channels
    starts = np.arange(chunk_bytes // peak_bytes, dtype=np.intp) * block
    local = threading.local()

    def reduce_chunk(offset: int) -> tuple[NDArray[Any], NDArray[Any], int]:
        if getattr(local, "raw", None) is None:
            local.raw = np.empty(chunk_bytes, dtype=np.uint8)
            if layout.sample_format == "i24":
                local.padded = np.zeros((chunk_bytes // 3, 4), dtype=np.uint8)
        raw: NDArray[np.uint8] = local.raw
        size = min(chunk_bytes, total_bytes - offset)
        with open(path, "rb", buffering=0) as f:
            f.seek(layout.data_offset + offset)
            n = _readinto_full(f, memoryview(raw)[:size])  # type: ignore[arg-type]
        n -= n % align
        if layout.sample_format == "i24":
            # Little-endian 3-byte samples into the top 3 bytes of an int32: one
            # strided copy, and min/max stay exact.
            padded: NDArray[np.uint8] = local.padded[: n // 3]
            padded[:, 1:] = raw[:n].reshape(-1, 3)
            samples = padded.view("<i4").reshape(-1)
        else:
            samples = raw[:n].view(_NUMPY_DTYPES[layout.sample_format])
        if samples.size == 0:
            return np.zeros(0, samples.dtype), np.zeros(0, samples.dtype), 0
        # reduceat over block starts: one pass per reduction, and the shorter last
        # block needs no special case (reshape(-1, block) would need whole blocks).
        index = starts[: -(-samples.size // block)]
        return np.minimum.reduceat(samples, index), np.maximum.reduceat(samples, index), n

    mins_parts: list[NDArray[Any]] = []
    maxs_parts: list[NDArray[Any]] = []
    frames_done = 0
    pool = ThreadPoolExecutor(_WAV_WORKERS, thread_name_prefix="coder-wav-peaks")
    try:
        for part_min, part_max, n in pool.map(reduce_chunk, range(0, total_bytes, chunk_bytes)):
            _check_cancelled(cancelled)
            if n == 0:
                break  # the file shrank while we read it
            mins_parts.append(part_min)
            maxs_parts.append(part_max)
            frames_done += n // align
            if progress is not None:
                progress(_frames_to_ms(frames_done, layout.sample_rate))
            if n < chunk_bytes:
                break
    finally:
        # On Cancelled (or an error) drop the chunks not started yet.
        pool.shutdown(wait=True, cancel_futures=True)
    if not mins_parts:
        return np.zeros(0, np.float32), np.zeros(0, np.float32), 0
    mins, maxs = np.concatenate(mins_parts), np.concatenate(maxs_parts)
    return _to_unit(mins, layout.sample_format), _to_unit(maxs, layout.sample_format), frames_done


def _soundfile_peaks(
    path: Path,
    f: sf.SoundFile,
    spp: int,
    progress: ProgressCallback | None,
    cancelled: CancelledCallback | None,
) -> tuple[NDArray[Any], NDArray[Any], int]:
    """Peaks of anything libsndfile decodes, in blocks into one reused buffer.

    float32 output: libsndfile's MP3 decoder is float inside, and int16 output was
    measured 30 % slower for MP3 and no faster for FLAC.
    """
    channels = f.channels
    block_frames = max(1, _CHUNK_BYTES // (4 * channels * spp)) * spp
    buf = np.empty((block_frames, channels), dtype=np.float32)
    collector = _PeakCollector(spp, channels)
    frames_done = 0
    while True:
        _check_cancelled(cancelled)
        try:
            data = f.read(block_frames, dtype="float32", always_2d=True, out=buf)
        except (sf.LibsndfileError, RuntimeError) as exc:
            log.debug("decoding failed in %s after %d frames: %s", path, frames_done, exc)
            done = _fmt_duration(_frames_to_ms(frames_done, f.samplerate))
            raise _corrupt(path, f"decoding failed after {done}") from None
        got = len(data)
        if got == 0:
            break
        collector.add(data.reshape(-1))
        frames_done += got
        if progress is not None:
            progress(_frames_to_ms(frames_done, f.samplerate))
        if got < block_frames:
            break
    mins, maxs = collector.result()
    return _to_unit(mins, "f32"), _to_unit(maxs, "f32"), frames_done


def _enlarge_pipe(fd: int) -> None:
    # Linux pipes hold 64 KiB; a larger one lets ffmpeg run ahead of the reader.
    if sys.platform.startswith("linux"):
        import fcntl

        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, 1031, 1 << 20)  # F_SETPIPE_SZ


def _ffmpeg_peaks(
    path: Path,
    spp_for_rate: Callable[[int], int],
    progress: ProgressCallback | None,
    cancelled: CancelledCallback | None,
) -> tuple[NDArray[Any], NDArray[Any], int, int, int]:
    """Peaks via an ffmpeg subprocess piping 16-bit PCM WAV at the native rate.

    All channels are kept (not downmixed), so the overview folds channels the same way
    for every format; downmixing was also measured slower. The stream's WAV header
    gives the rate and channel count, which saves an ffprobe run (0.2 s for an hour
    of M4A, 10 % of the decode).

    Returns:
        ``(mins, maxs, frames, sample_rate, samples_per_peak)``.
    """
    ffmpeg, _ = _require_ffmpeg(path)
    cmd = [
        ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-v",
        "error",
        "-i",
        _ffmpeg_input(path),
        "-map",
        "0:a:0",
        "-map_metadata",
        "-1",
        "-f",
        "wav",
        "-acodec",
        "pcm_s16le",
        "pipe:1",
    ]
    # stderr goes to a file: a pipe nobody reads could fill up and stall ffmpeg.
    with tempfile.TemporaryFile() as errfile:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errfile,
            bufsize=0,
            creationflags=_no_window(),
        )
        frames_done = 0
        rate = spp = 0
        collector: _PeakCollector | None = None
        try:
            assert proc.stdout is not None
            # bufsize=0 above makes stdout a raw FileIO, which has readinto.
            stdout = cast(io.RawIOBase, proc.stdout)
            _enlarge_pipe(stdout.fileno())
            header = _read_wav_stream_header(stdout)
            if header is not None:
                channels, rate = header
                spp = spp_for_rate(rate)
                collector = _PeakCollector(spp, channels)
                frames_done = _pipe_peaks(stdout, collector, channels, rate, progress, cancelled)
            returncode = proc.wait()
        finally:
            if proc.poll() is None:  # cancelled or failed: do not leave ffmpeg running
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if returncode != 0 or frames_done == 0:
            errfile.seek(0)
            reason = _stderr_reason(errfile.read(64 * 1024).decode("utf-8", "replace"), path)
            raise _corrupt(path, reason if returncode != 0 else "it contains no audio")
    assert collector is not None  # frames were decoded, so the header was read
    mins, maxs = collector.result()
    return _to_unit(mins, "i16"), _to_unit(maxs, "i16"), frames_done, rate, spp


def _read_wav_stream_header(stream: _ReadsInto) -> tuple[int, int] | None:
    """Read a WAV header from a stream up to the data; return (channels, sample rate)."""

    def read(n: int) -> bytes:
        buf = bytearray(n)
        got = _readinto_full(stream, memoryview(buf))
        return bytes(buf[:got])

    head = read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    fmt: tuple[int, int] | None = None
    for _ in range(64):  # ffmpeg writes three or four chunks before the data
        chunk = read(8)
        if len(chunk) < 8:
            return None
        chunk_id, size = struct.unpack("<4sI", chunk)
        if chunk_id == b"data":
            return fmt
        if size > 1 << 20:
            return None
        body = read(size + (size & 1))
        if chunk_id == b"fmt " and len(body) >= 16:
            _, channels, rate = struct.unpack("<HHI", body[:8])
            if channels >= 1 and rate >= 1:
                fmt = (channels, rate)
    return None


def _pipe_peaks(
    stream: _ReadsInto,
    collector: _PeakCollector,
    channels: int,
    rate: int,
    progress: ProgressCallback | None,
    cancelled: CancelledCallback | None,
) -> int:
    """Feed interleaved 16-bit samples from ``stream`` to ``collector``; return frames."""
    spp = collector.block // channels
    align = 2 * channels
    chunk_bytes = max(1, _CHUNK_BYTES // (spp * align)) * spp * align
    raw = np.empty(chunk_bytes, dtype=np.uint8)
    view = memoryview(raw)  # type: ignore[arg-type]
    frames_done = 0
    while True:
        _check_cancelled(cancelled)
        n = _readinto_full(stream, view)
        n -= n % align
        if n == 0:
            break
        collector.add(raw[:n].view("<i2"))
        frames_done += n // align
        if progress is not None:
            progress(_frames_to_ms(frames_done, rate))
        if n < chunk_bytes:
            break
    return frames_done


def compute_peaks(
    path: StrPath,
    *,
    peaks_per_second: int = 100,
    progress: ProgressCallback | None = None,
    cancelled: CancelledCallback | None = None,
) -> Peaks:
    """Compute the waveform overview of a recording, streaming it in chunks.

    Channels are folded together: each block's min and max are over all channels.

    Args:
        path: The audio file.
        peaks_per_second: Blocks per second of audio (1..1000); the block length is
            ``round(sample_rate / peaks_per_second)`` frames.
        progress: Called after each chunk with the milliseconds of audio done so far.
        cancelled: Polled between chunks; returning True stops the work.

    Returns:
        The `Peaks`.

    Raises:
        AudioMissingError, UnsupportedAudioError, DecoderMissingError,
        CorruptAudioError: As for `probe_audio`.
        Cancelled: ``cancelled()`` returned True.
        ValueError: ``peaks_per_second`` is out of range.
    """
    if not 1 <= peaks_per_second <= 1000:
        raise ValueError(f"peaks_per_second must be 1..1000, got {peaks_per_second}")
    path = Path(path)
    size, suffix = _check_file(path)
    started = time.perf_counter()

    def spp_for_rate(rate: int) -> int:
        return max(1, round(rate / peaks_per_second))

    decoded: tuple[NDArray[Any], NDArray[Any], int, int, int] | None = None
    route = "ffmpeg"
    if suffix in _SNDFILE_SUFFIXES:
        layout = _parse_wav(path, size) if _SNDFILE_SUFFIXES[suffix] == "WAV" else None
        if layout is not None:
            # A WAV cut short still shows what it holds; probe_audio reports the damage.
            route = "wav"
            spp = spp_for_rate(layout.sample_rate)
            mins, maxs, frames = _wav_peaks(path, layout, spp, progress, cancelled)
            decoded = (mins, maxs, frames, layout.sample_rate, spp)
        else:
            try:
                f = sf.SoundFile(path)
            except sf.LibsndfileError as exc:
                log.debug("libsndfile cannot open %s: %s", path, exc)
                if not ffmpeg_available():
                    raise _corrupt(path) from None
            else:
                with f:
                    route = "soundfile"
                    spp = spp_for_rate(f.samplerate)
                    mins, maxs, frames = _soundfile_peaks(path, f, spp, progress, cancelled)
                    decoded = (mins, maxs, frames, f.samplerate, spp)
    if decoded is None:
        decoded = _ffmpeg_peaks(path, spp_for_rate, progress, cancelled)
    mins, maxs, frames, rate, spp = decoded
    if frames == 0:
        raise _corrupt(path, "it contains no audio")
    log.info(
        "waveform peaks: %d blocks from %.0f s of %s audio in %.2f s (%s)",
        len(mins),
        frames / rate,
        _format_name(suffix),
        time.perf_counter() - started,
        route,
    )
    return Peaks(
        mins=mins,
        maxs=maxs,
        samples_per_peak=spp,
        sample_rate=rate,
        duration_ms=_frames_to_ms(frames, rate),
    )


# ------------------------------------------------------------------------ cache


def peaks_cache_path(cache_dir: StrPath, sha256: str, peaks_per_second: int = 100) -> Path:
    """Return the cache file for a recording's peaks (it may not exist yet).

    The name holds the content hash, the resolution and `PEAKS_CACHE_VERSION`, so a
    changed file, another resolution or a new cache layout never reads stale data.
    """
    digest = _checked_sha256(sha256)  # also keeps the name free of path separators
    return Path(cache_dir) / f"{digest}.{peaks_per_second}pps.v{PEAKS_CACHE_VERSION}.npy"


def _cache_dtype(peaks: int) -> np.dtype[np.void]:
    """One record: metadata, then the two arrays.

    A single .npy record keeps the metadata that must travel with the arrays (block
    length, sample rate, exact duration) in the same file, written and renamed at
    once. .npz would do the same but CRC-checks on write and read: measured 3-4 ms
    against about 1 ms for this, per open of an hour-long recording.
    """
    return np.dtype([("meta", "<i8", (5,)), ("mins", "<f4", (peaks,)), ("maxs", "<f4", (peaks,))])


def _load_cached_peaks(cache_file: Path, peaks_per_second: int) -> Peaks | None:
    """Load cached peaks; None if the file is missing, damaged or from another version."""
    try:
        record = np.load(cache_file, allow_pickle=False)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, EOFError) as exc:
        log.warning("ignoring a damaged waveform cache file (%s)", type(exc).__name__)
        log.debug("damaged cache file %s: %s", cache_file, exc)
        return None
    names = record.dtype.names or ()
    if record.shape != (1,) or names != ("meta", "mins", "maxs"):
        log.warning("ignoring a waveform cache file with unexpected contents")
        return None
    meta, mins, maxs = record["meta"][0], record["mins"][0], record["maxs"][0]
    if (
        meta.shape != (5,)
        or int(meta[0]) != PEAKS_CACHE_VERSION
        or int(meta[1]) != peaks_per_second
        or mins.dtype != np.float32
        or mins.shape != maxs.shape
        or int(meta[2]) < 1
        or int(meta[3]) < 1
    ):
        log.warning("ignoring a waveform cache file with unexpected contents")
        return None
    return Peaks(
        mins=mins,
        maxs=maxs,
        samples_per_peak=int(meta[2]),
        sample_rate=int(meta[3]),
        duration_ms=int(meta[4]),
    )


def _save_cached_peaks(cache_file: Path, peaks: Peaks, peaks_per_second: int) -> None:
    """Write the cache file atomically: a temporary file in the same folder, renamed.

    No fsync: after a power cut a cache file may be empty or damaged, and the loader
    then recomputes it, which is cheaper than syncing on every open.
    """
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    record = np.empty(1, dtype=_cache_dtype(len(peaks)))
    record["meta"][0] = (
        PEAKS_CACHE_VERSION,
        peaks_per_second,
        peaks.samples_per_peak,
        peaks.sample_rate,
        peaks.duration_ms,
    )
    record["mins"][0] = peaks.mins
    record["maxs"][0] = peaks.maxs
    fd, tmp_name = tempfile.mkstemp(dir=cache_file.parent, prefix=".peaks-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, record, allow_pickle=False)
        os.replace(tmp_name, cache_file)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise


def load_or_compute_peaks(
    path: StrPath,
    sha256: str,
    cache_dir: StrPath,
    *,
    peaks_per_second: int = 100,
    progress: ProgressCallback | None = None,
    cancelled: CancelledCallback | None = None,
) -> Peaks:
    """Return a recording's peaks from the cache, computing and caching them if needed.

    The cache file (see `peaks_cache_path`) is one ``.npy`` record holding the two
    float32 arrays and the metadata that must travel with them (samples per peak,
    sample rate, exact duration); loading one for a 60-minute recording takes about a
    millisecond. A cache that cannot be written is logged and otherwise ignored.

    Args:
        path: The audio file (not touched on a cache hit).
        sha256: The file's content hash, as recorded at import.
        cache_dir: Folder for cache files; created if needed.
        peaks_per_second: As for `compute_peaks`.
        progress: As for `compute_peaks`; not called on a cache hit.
        cancelled: As for `compute_peaks`.

    Returns:
        The `Peaks`.

    Raises:
        The errors of `compute_peaks`, and ValueError for a malformed ``sha256``.
    """
    cache_file = peaks_cache_path(cache_dir, sha256, peaks_per_second)
    cached = _load_cached_peaks(cache_file, peaks_per_second)
    if cached is not None:
        return cached
    peaks = compute_peaks(
        path, peaks_per_second=peaks_per_second, progress=progress, cancelled=cancelled
    )
    try:
        _save_cached_peaks(cache_file, peaks, peaks_per_second)
    except OSError as exc:
        log.warning("could not write the waveform cache (%s)", exc.strerror or type(exc).__name__)
        log.debug("cache write to %s failed: %s", cache_file, exc)
    return peaks


# ------------------------------------------------------------------------ samples


def read_segment(path: StrPath, start_ms: int, end_ms: int) -> tuple[FloatArray, int]:
    """Decode the samples of ``[start_ms, end_ms)`` (clipped to the recording).

    Meant for short spans, such as a zoomed-in waveform; at most `MAX_SEGMENT_MS`.

    Args:
        path: The audio file.
        start_ms: Start in milliseconds.
        end_ms: End in milliseconds, greater than ``start_ms``.

    Returns:
        ``(samples, sample_rate)``: float32 samples of shape ``(frames, channels)``.

    Raises:
        ValueError: The span is empty, negative or longer than `MAX_SEGMENT_MS`.
        AudioMissingError, UnsupportedAudioError, DecoderMissingError,
        CorruptAudioError: As for `probe_audio`.
    """
    if start_ms < 0 or end_ms <= start_ms or end_ms - start_ms > MAX_SEGMENT_MS:
        raise ValueError(
            f"segment [{start_ms}, {end_ms}) ms must be non-empty, start at or after 0 "
            f"and last at most {MAX_SEGMENT_MS} ms"
        )
    path = Path(path)
    _, suffix = _check_file(path)
    if suffix in _SNDFILE_SUFFIXES:
        try:
            f = sf.SoundFile(path)
        except sf.LibsndfileError as exc:
            log.debug("libsndfile cannot open %s: %s", path, exc)
            if not ffmpeg_available():
                raise _corrupt(path) from None
        else:
            with f:
                rate = f.samplerate
                start = min(f.frames, start_ms * rate // 1000)
                stop = min(f.frames, end_ms * rate // 1000)
                try:
                    f.seek(start)
                    data = f.read(stop - start, dtype="float32", always_2d=True)
                except (sf.LibsndfileError, RuntimeError) as exc:
                    log.debug("reading a segment of %s failed: %s", path, exc)
                    raise _corrupt(path, "decoding failed") from None
                return np.ascontiguousarray(data), rate
    ffmpeg, _ = _require_ffmpeg(path)
    info = _probe_ffmpeg(path)
    cmd = [
        ffmpeg,
        "-nostdin",
        "-v",
        "error",
        # -ss before -i seeks in the demuxer (fast) and decodes from there sample-exactly.
        "-ss",
        f"{start_ms / 1000:.3f}",
        "-t",
        f"{(end_ms - start_ms) / 1000:.3f}",
        "-i",
        _ffmpeg_input(path),
        "-map",
        "0:a:0",
        "-ac",
        str(info.channels),
        "-ar",
        str(info.sample_rate),
        "-f",
        "f32le",
        "-acodec",
        "pcm_f32le",
        "pipe:1",
    ]
    result = subprocess.run(cmd, capture_output=True, check=False, creationflags=_no_window())
    if result.returncode != 0:
        raise _corrupt(path, _stderr_reason(result.stderr.decode("utf-8", "replace"), path))
    samples = np.frombuffer(result.stdout, dtype="<f4")
    samples = samples[: samples.size - samples.size % info.channels]
    return samples.reshape(-1, info.channels).astype(np.float32), info.sample_rate
