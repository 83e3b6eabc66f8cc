"""Tests for coder.audio: probing, hashing, peaks, the peaks cache and the errors.

Every file is generated in tmp_path (seconds long), so the suite needs no fixtures on
disk. M4A tests need ffmpeg and are skipped with a reason without it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from coder import audio
from coder.audio import (
    AudioError,
    AudioMissingError,
    Cancelled,
    CorruptAudioError,
    DecoderMissingError,
    Peaks,
    UnsupportedAudioError,
    compute_peaks,
    ffmpeg_available,
    load_or_compute_peaks,
    peaks_cache_path,
    probe_audio,
    read_segment,
    sha256_file,
)
from coder.synth import synthesize_session, write_tone

needs_ffmpeg = pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg/ffprobe not installed")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _reference_peaks(samples: np.ndarray, spp: int) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force per-block min/max over all channels, block by block in Python."""
    frames = samples.reshape(len(samples), -1)
    mins, maxs = [], []
    for start in range(0, len(frames), spp):
        block = frames[start : start + spp]
        mins.append(block.min())
        maxs.append(block.max())
    return np.array(mins), np.array(maxs)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Short recordings in every format; lengths are deliberately not whole blocks."""
    d = tmp_path_factory.mktemp("audio")
    out = {
        "wav16": synthesize_session(d / "mono16k.wav", 3.0037, seed=7),
        "wav44": write_tone(d / "stereo44k.wav", 1.2345, 330.0, 44100, 2),
        "flac": synthesize_session(d / "mono16k.flac", 3.0037, seed=7),
        "ogg": synthesize_session(d / "mono16k.ogg", 3.0037, seed=7),
        "mp3": synthesize_session(d / "mono16k.mp3", 3.0037, seed=7),
    }
    if ffmpeg_available():
        m4a = d / "stereo44k.m4a"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(out["wav44"]), str(m4a)],
            check=True,
        )
        out["m4a"] = m4a
    return out


# ----------------------------------------------------------------------- probing


@pytest.mark.parametrize(
    ("key", "rate", "channels", "fmt", "frames"),
    [
        ("wav16", 16000, 1, "WAV", round(3.0037 * 16000)),
        ("wav44", 44100, 2, "WAV", round(1.2345 * 44100)),
        ("flac", 16000, 1, "FLAC", round(3.0037 * 16000)),
        ("ogg", 16000, 1, "OGG", round(3.0037 * 16000)),
        ("mp3", 16000, 1, "MP3", round(3.0037 * 16000)),
    ],
)
def test_probe_reports_exact_length_rate_channels_size_and_hash(
    files: dict[str, Path], key: str, rate: int, channels: int, fmt: str, frames: int
) -> None:
    path = files[key]
    info = probe_audio(path)
    assert info.sample_rate == rate
    assert info.channels == channels
    assert info.format == fmt
    assert info.size_bytes == path.stat().st_size
    assert info.sha256 == _sha(path)
    # Exact to the millisecond (less than one frame away from the true length).
    assert abs(info.duration_ms - frames * 1000 / rate) <= 0.5


@needs_ffmpeg
def test_probe_reads_m4a_through_ffprobe(files: dict[str, Path]) -> None:
    info = probe_audio(files["m4a"])
    assert (info.sample_rate, info.channels, info.format) == (44100, 2, "M4A")
    assert abs(info.duration_ms - 1234.5) <= 30  # AAC frames are 23 ms long
    assert info.sha256 == _sha(files["m4a"])


def test_probe_with_known_hash_does_not_read_the_file_again(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object, **kwargs: object) -> str:
        raise AssertionError("hashed although the hash was given")

    monkeypatch.setattr(audio, "sha256_file", fail)
    info = probe_audio(files["wav16"], sha256="AB" * 32)
    assert info.sha256 == "ab" * 32


def test_sha256_reports_progress_in_bytes_and_matches_hashlib(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(9 * 1024 * 1024 + 17))  # three chunks, the last short
    seen: list[int] = []
    assert sha256_file(path, progress=seen.append) == _sha(path)
    assert seen == sorted(seen) and seen[-1] == path.stat().st_size and len(seen) == 3


# ----------------------------------------------------------------------- peaks


@pytest.mark.parametrize("key", ["wav16", "wav44"])
def test_wav_peaks_equal_brute_force_min_max_exactly(files: dict[str, Path], key: str) -> None:
    path = files[key]
    samples, rate = sf.read(path, dtype="int16", always_2d=True)
    peaks = compute_peaks(path, peaks_per_second=100)
    spp = round(rate / 100)
    ref_min, ref_max = _reference_peaks(samples, spp)
    assert peaks.samples_per_peak == spp and peaks.sample_rate == rate
    assert peaks.mins.dtype == np.float32 and len(peaks) == -(-len(samples) // spp)
    np.testing.assert_array_equal(peaks.mins, (ref_min / 32768).astype(np.float32))
    np.testing.assert_array_equal(peaks.maxs, (ref_max / 32768).astype(np.float32))
    assert peaks.duration_ms == round(len(samples) * 1000 / rate)


def test_stereo_peaks_fold_both_channels(files: dict[str, Path]) -> None:
    peaks = compute_peaks(files["wav44"])
    # write_tone: channel 0 at 0.5, channel 1 at 0.4; the fold keeps the louder.
    assert peaks.maxs.max() == pytest.approx(0.5, abs=1e-3)
    assert peaks.mins.min() == pytest.approx(-0.5, abs=1e-3)


@pytest.mark.parametrize(
    ("subtype", "read_dtype", "scale"),
    [("PCM_U8", "int16", 32768), ("PCM_24", "int32", 2**31), ("PCM_32", "int32", 2**31)],
)
def test_wav_peaks_handle_8_24_and_32_bit_pcm_exactly(
    tmp_path: Path, subtype: str, read_dtype: str, scale: int
) -> None:
    rng = np.random.default_rng(1)
    data = rng.uniform(-0.9, 0.9, size=(4410 + 37, 2))
    path = tmp_path / f"{subtype}.wav"
    sf.write(path, data, 44100, subtype=subtype)
    ints, _ = sf.read(path, dtype=read_dtype, always_2d=True)
    ref_min, ref_max = _reference_peaks(ints.astype(np.int64), 441)
    peaks = compute_peaks(path)
    np.testing.assert_array_equal(peaks.mins, (ref_min / scale).astype(np.float32))
    np.testing.assert_array_equal(peaks.maxs, (ref_max / scale).astype(np.float32))


def test_float_wav_peaks_are_clipped_to_unit_range(tmp_path: Path) -> None:
    data = np.linspace(-1.5, 1.5, 16000, dtype=np.float32)
    path = tmp_path / "float.wav"
    sf.write(path, data, 16000, subtype="FLOAT")
    peaks = compute_peaks(path)
    assert peaks.mins[0] == -1.0 and peaks.maxs[-1] == 1.0
    ref_min, _ = _reference_peaks(data, 160)
    inside = slice(20, -20)  # the first and last sixth of the ramp are clipped
    np.testing.assert_array_equal(peaks.mins[inside], ref_min[inside])


def test_flac_peaks_equal_brute_force_min_max_exactly(files: dict[str, Path]) -> None:
    # libsndfile decodes 16-bit FLAC to float as int / 32768, which float32 holds exactly.
    samples, _ = sf.read(files["flac"], dtype="int16", always_2d=True)
    ref_min, ref_max = _reference_peaks(samples, 160)
    flac = compute_peaks(files["flac"])
    np.testing.assert_array_equal(flac.mins, (ref_min / 32768).astype(np.float32))
    np.testing.assert_array_equal(flac.maxs, (ref_max / 32768).astype(np.float32))
    assert flac.duration_ms == compute_peaks(files["wav16"]).duration_ms


@pytest.mark.parametrize("key", ["ogg", "mp3"])
def test_lossy_peaks_follow_the_original(files: dict[str, Path], key: str) -> None:
    wav, lossy = compute_peaks(files["wav16"]), compute_peaks(files[key])
    assert abs(len(lossy) - len(wav)) <= 1
    n = min(len(wav), len(lossy))
    envelope = np.maximum(np.abs(wav.mins[:n]), wav.maxs[:n])
    lossy_env = np.maximum(np.abs(lossy.mins[:n]), lossy.maxs[:n])
    assert np.corrcoef(envelope, lossy_env)[0, 1] > 0.9


@needs_ffmpeg
def test_m4a_peaks_come_from_ffmpeg_and_follow_the_original(files: dict[str, Path]) -> None:
    seen: list[int] = []
    wav, m4a = compute_peaks(files["wav44"]), compute_peaks(files["m4a"], progress=seen.append)
    assert m4a.sample_rate == 44100 and abs(len(m4a) - len(wav)) <= 5
    # Median: AAC overshoots at the tone's abrupt start (pre-echo).
    assert float(np.median(m4a.maxs[:-5])) == pytest.approx(0.5, abs=0.02)
    assert seen and seen[-1] == m4a.duration_ms


def test_peaks_progress_counts_milliseconds_of_audio(files: dict[str, Path]) -> None:
    for key in ("wav16", "flac"):
        seen: list[int] = []
        peaks = compute_peaks(files[key], progress=seen.append)
        assert seen == sorted(seen) and seen[-1] == peaks.duration_ms


def test_peaks_per_second_sets_the_block_length(files: dict[str, Path]) -> None:
    peaks = compute_peaks(files["wav16"], peaks_per_second=50)
    assert peaks.samples_per_peak == 320 and peaks.ms_per_peak == 20.0
    with pytest.raises(ValueError):
        compute_peaks(files["wav16"], peaks_per_second=0)


# ----------------------------------------------------------------------- window


def _toy_peaks() -> Peaks:
    mins = (-np.arange(1, 101) / 100).astype(np.float32)
    return Peaks(mins=mins, maxs=-mins, samples_per_peak=160, sample_rate=16000, duration_ms=1000)


def test_window_over_everything_at_one_column_per_peak_is_the_identity() -> None:
    peaks = _toy_peaks()
    mins, maxs = peaks.window(0, 1000, 100)
    np.testing.assert_array_equal(mins, peaks.mins)
    np.testing.assert_array_equal(maxs, peaks.maxs)


def test_window_reduces_blocks_to_columns() -> None:
    mins, maxs = _toy_peaks().window(0, 1000, 10)
    np.testing.assert_allclose(maxs, np.arange(10, 101, 10) / 100)
    np.testing.assert_allclose(mins, -np.arange(10, 101, 10) / 100)
    mins, maxs = _toy_peaks().window(200, 400, 2)  # blocks 20..29 and 30..39
    np.testing.assert_allclose(maxs, [0.30, 0.40])


def test_window_zoomed_in_repeats_the_block_under_each_column() -> None:
    mins, maxs = _toy_peaks().window(0, 20, 8)  # two blocks over eight columns
    np.testing.assert_allclose(maxs, [0.01] * 4 + [0.02] * 4)


def test_window_is_zero_outside_the_audio() -> None:
    mins, maxs = _toy_peaks().window(-100, 1100, 12)
    assert maxs[0] == 0 and maxs[-1] == 0 and mins[-1] == 0
    np.testing.assert_allclose(maxs[1:11], np.arange(10, 101, 10) / 100)


def test_window_rejects_empty_ranges_and_no_columns() -> None:
    with pytest.raises(ValueError):
        _toy_peaks().window(10, 10, 5)
    with pytest.raises(ValueError):
        _toy_peaks().window(0, 10, 0)


def test_peaks_are_read_only() -> None:
    with pytest.raises(ValueError):
        _toy_peaks().mins[0] = 1.0


# ----------------------------------------------------------------------- cache


def test_cached_peaks_load_without_recomputing(
    files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, digest = files["wav16"], _sha(files["wav16"])
    first = load_or_compute_peaks(path, digest, tmp_path / "cache")
    cache_file = peaks_cache_path(tmp_path / "cache", digest)
    mtime = cache_file.stat().st_mtime_ns
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [cache_file.name]  # no temp left

    calls = 0

    def counting(*args: object, **kwargs: object) -> Peaks:
        nonlocal calls
        calls += 1
        raise AssertionError("recomputed although cached")

    monkeypatch.setattr(audio, "compute_peaks", counting)
    again = load_or_compute_peaks(path, digest, tmp_path / "cache")
    assert calls == 0 and cache_file.stat().st_mtime_ns == mtime
    np.testing.assert_array_equal(again.mins, first.mins)
    np.testing.assert_array_equal(again.maxs, first.maxs)
    assert (again.samples_per_peak, again.sample_rate, again.duration_ms) == (
        first.samples_per_peak,
        first.sample_rate,
        first.duration_ms,
    )


@pytest.mark.parametrize("damage", ["garbage", "truncated", "plain_array"])
def test_damaged_cache_is_recomputed_and_replaced(
    files: dict[str, Path], tmp_path: Path, damage: str
) -> None:
    digest = _sha(files["wav16"])
    good = load_or_compute_peaks(files["wav16"], digest, tmp_path / "good")
    cache_file = peaks_cache_path(tmp_path, digest)
    if damage == "garbage":
        cache_file.write_bytes(b"not a cache file")
    elif damage == "truncated":
        whole = peaks_cache_path(tmp_path / "good", digest).read_bytes()
        cache_file.write_bytes(whole[: len(whole) // 2])
    else:
        np.save(cache_file, np.zeros(10, dtype=np.float32))
    peaks = load_or_compute_peaks(files["wav16"], digest, tmp_path)
    np.testing.assert_array_equal(peaks.maxs, good.maxs)
    assert load_or_compute_peaks(files["wav16"], digest, tmp_path).duration_ms == good.duration_ms


def test_cache_key_includes_resolution_and_version(tmp_path: Path) -> None:
    a = peaks_cache_path(tmp_path, "a" * 64, 100)
    b = peaks_cache_path(tmp_path, "a" * 64, 200)
    assert a != b and f"v{audio.PEAKS_CACHE_VERSION}" in a.name
    with pytest.raises(ValueError):
        peaks_cache_path(tmp_path, "../../etc/passwd")


def test_unwritable_cache_still_returns_peaks(files: dict[str, Path], tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    peaks = load_or_compute_peaks(files["wav16"], _sha(files["wav16"]), blocker / "cache")
    assert len(peaks) > 0


# ----------------------------------------------------------------------- cancellation


def _cancel_after(calls: int) -> tuple[list[int], object]:
    count = [0]

    def cancelled() -> bool:
        count[0] += 1
        return count[0] > calls

    return count, cancelled


def test_cancelling_hashing_peaks_and_probe_raises_cancelled(
    files: dict[str, Path], tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(9 * 1024 * 1024))
    with pytest.raises(Cancelled):
        sha256_file(big, cancelled=_cancel_after(1)[1])  # type: ignore[arg-type]
    with pytest.raises(Cancelled):
        probe_audio(files["wav16"], cancelled=lambda: True)
    long_wav = write_tone(tmp_path / "long.wav", 30, 440.0, 44100, 2)  # several chunks
    count, cancelled = _cancel_after(1)
    with pytest.raises(Cancelled):
        compute_peaks(long_wav, cancelled=cancelled)  # type: ignore[arg-type]
    assert count[0] == 2  # stopped at the first check after the first chunk
    with pytest.raises(Cancelled):
        compute_peaks(files["flac"], cancelled=lambda: True)
    assert Cancelled("x").exit_code == 130


@needs_ffmpeg
def test_cancelling_ffmpeg_peaks_stops_the_decoder(files: dict[str, Path]) -> None:
    with pytest.raises(Cancelled):
        compute_peaks(files["m4a"], cancelled=lambda: True)


# ----------------------------------------------------------------------- errors


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "session_017.wav"
    for call in (probe_audio, compute_peaks, sha256_file):
        with pytest.raises(AudioMissingError, match="session_017.wav"):
            call(missing)


def test_random_bytes_named_wav_are_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "noise.wav"
    path.write_bytes(np.random.default_rng(0).bytes(50_000))
    with pytest.raises(CorruptAudioError, match="noise.wav"):
        probe_audio(path)
    with pytest.raises(CorruptAudioError, match="noise.wav"):
        compute_peaks(path)


@pytest.mark.parametrize("key", ["wav16", "flac", "mp3"])
def test_truncated_file_is_reported_as_truncated(
    files: dict[str, Path], tmp_path: Path, key: str
) -> None:
    source = files[key]
    cut = tmp_path / f"cut_{source.name}"
    cut.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    with pytest.raises(CorruptAudioError, match=f"cut_{source.name}.*truncated"):
        probe_audio(cut)


def test_truncated_wav_still_shows_the_audio_it_holds(
    files: dict[str, Path], tmp_path: Path
) -> None:
    source = files["wav16"]
    cut = tmp_path / "cut.wav"
    cut.write_bytes(source.read_bytes()[: 44 + 2 * 16000])  # header + one second
    assert compute_peaks(cut).duration_ms == 1000


def test_header_only_wav_is_corrupt(files: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "header.wav"
    path.write_bytes(files["wav16"].read_bytes()[:30])
    with pytest.raises(CorruptAudioError, match="header.wav"):
        probe_audio(path)


def test_empty_file_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "empty.flac"
    path.write_bytes(b"")
    with pytest.raises(CorruptAudioError, match="empty.flac.*empty"):
        probe_audio(path)


def test_unsupported_extension_is_refused_with_the_supported_list(tmp_path: Path) -> None:
    path = tmp_path / "notes.docx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(UnsupportedAudioError, match=r"notes.docx.*WAV.*FLAC"):
        probe_audio(path)
    assert ".m4a" in audio.AUDIO_EXTENSIONS and ".wav" in audio.AUDIO_EXTENSIONS


def test_m4a_without_ffmpeg_names_the_missing_decoder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "session.m4a"
    path.write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(100))
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    assert not ffmpeg_available()
    for call in (probe_audio, compute_peaks):
        with pytest.raises(DecoderMissingError, match=r"session.m4a.*M4A/AAC.*ffmpeg") as info:
            call(path)
        assert "apt install ffmpeg" in str(info.value) and "brew install ffmpeg" in str(info.value)
        assert info.value.decoder == "ffmpeg"


def test_every_audio_error_is_an_input_error_with_exit_code_2() -> None:
    for cls in (AudioMissingError, UnsupportedAudioError, DecoderMissingError, CorruptAudioError):
        assert issubclass(cls, AudioError) and cls("x").exit_code == 2


# ----------------------------------------------------------------------- segments


def test_read_segment_returns_the_exact_samples(files: dict[str, Path]) -> None:
    everything, rate = sf.read(files["wav44"], dtype="float32", always_2d=True)
    segment, seg_rate = read_segment(files["wav44"], 100, 350)
    assert seg_rate == rate and segment.shape == (round(0.25 * rate), 2)
    np.testing.assert_array_equal(segment, everything[4410 : 4410 + segment.shape[0]])
    with pytest.raises(ValueError):
        read_segment(files["wav44"], 500, 100)


@needs_ffmpeg
def test_read_segment_decodes_m4a(files: dict[str, Path]) -> None:
    segment, rate = read_segment(files["m4a"], 200, 700)
    assert rate == 44100 and segment.shape[1] == 2
    assert abs(segment.shape[0] - 22050) <= 1024
    assert np.abs(segment).max() == pytest.approx(0.5, abs=0.05)
