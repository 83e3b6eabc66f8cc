"""What a rater sees when something is wrong: calm messages that say what to do."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import shiboken6
from PySide6.QtWidgets import QFileDialog, QMessageBox

from coder.errors import InputError
from coder.scales import load_builtin_scale, parse_scale
from coder.store.project import Project
from coder.synth import synthesize_session
from tests.ui.helpers import relink_by_reimport
from ui.app import install_excepthook, log_path

BAD_MEDIA = ("Could not open media.*", "Invalid data found.*")


def _boxes(dialogs: list) -> list[QMessageBox]:  # type: ignore[type-arg]
    """The message boxes opened so far and still open (answered ones delete themselves)."""
    return [d for d in dialogs if shiboken6.isValid(d) and isinstance(d, QMessageBox)]


def _button(box: QMessageBox, prefix: str):  # type: ignore[no-untyped-def]
    return next(b for b in box.buttons() if b.text().startswith(prefix))


def test_missing_recording_offers_to_locate_it_and_checks_its_content(
    qtbot,
    make_window,
    built,
    dialogs,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    moved = tmp_path / "elsewhere" / "renamed.wav"
    moved.parent.mkdir()
    shutil.move(built.audio["S1"], moved)
    impostor = synthesize_session(tmp_path / "elsewhere" / "other.wav", 90, seed=99)

    window = make_window(built)
    qtbot.waitUntil(lambda: bool(_boxes(dialogs)))
    box = _boxes(dialogs)[0]
    assert box.windowTitle() == "Recording not found"
    assert "session S1 cannot be found" in box.text() and "Traceback" not in box.text()
    assert "moved, renamed" in box.informativeText()
    assert window.locate_action.isEnabled()  # also from the menu, after "Close"

    # A file with other content is refused, with a calm word and another try.
    _button(box, "Locate").click()
    chooser = next(d for d in dialogs if isinstance(d, QFileDialog))
    chooser.selectFile(str(impostor))
    chooser.accept()
    qtbot.waitUntil(lambda: any(b.windowTitle() == "Not this file" for b in _boxes(dialogs)))
    refusal = next(b for b in _boxes(dialogs) if b.windowTitle() == "Not this file")
    assert "content differs" in refusal.text()

    # The moved recording itself is accepted, remembered, and played.
    _button(refusal, "Choose another").click()
    chooser = [d for d in dialogs if isinstance(d, QFileDialog)][-1]
    chooser.selectFile(str(moved))
    chooser.accept()
    qtbot.waitUntil(lambda: window.player.is_loaded and window.waveform.has_peaks(), timeout=10_000)
    assert window.session.coding.audio_path == str(moved.resolve())
    assert not window.locate_action.isEnabled()
    with Project.open(built.path) as fresh:
        assert fresh.rater_view("R1").coding(built.codings["S1"]).audio_path == str(moved.resolve())


@pytest.mark.qt_log_ignore(*BAD_MEDIA, extend=True)
def test_a_damaged_recording_gets_one_calm_message(qtbot, make_window, built, dialogs) -> None:  # type: ignore[no-untyped-def]
    built.audio["S1"].write_bytes(b"RIFF" + b"\0" * 4000)
    window = make_window(built)
    qtbot.waitUntil(lambda: bool(_boxes(dialogs)), timeout=5000)
    # The player fails too (after the waveform's decoder, or before it): still one message.
    qtbot.waitUntil(lambda: window.player.load_settled, timeout=10_000)
    boxes = _boxes(dialogs)
    assert len(boxes) == 1
    assert boxes[0].windowTitle() in ("The recording is damaged", "Format not supported")
    assert "uncodable" in boxes[0].informativeText()
    assert window.waveform.has_peaks() is False


@pytest.mark.qt_log_ignore(*BAD_MEDIA, extend=True)
def test_an_unsupported_format_says_so(qtbot, make_window, built, dialogs) -> None:  # type: ignore[no-untyped-def]
    odd = built.audio["S1"].with_suffix(".xyz")
    shutil.copy(built.audio["S1"], odd)
    relink_by_reimport(built, "S1", odd)
    make_window(built)
    qtbot.waitUntil(lambda: bool(_boxes(dialogs)), timeout=5000)
    box = _boxes(dialogs)[0]
    assert box.windowTitle() == "Format not supported"
    assert "not an audio format" in box.text() and "convert" in box.informativeText()


def test_a_missing_decoder_is_named(qtbot, make_window, built, dialogs, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is needed to make the M4A file")
    m4a = built.audio["S1"].with_suffix(".m4a")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(built.audio["S1"]), "-c:a", "aac", str(m4a)],
        check=True,
    )
    relink_by_reimport(built, "S1", m4a)
    monkeypatch.setenv("PATH", str(built.path.parent / "no-programs-here"))
    make_window(built)
    qtbot.waitUntil(lambda: bool(_boxes(dialogs)), timeout=5000)
    box = _boxes(dialogs)[0]
    assert box.windowTitle() == "A decoder is missing"
    assert "ffmpeg" in box.text() and "install" in box.text()


def test_a_changed_scale_is_explained_and_the_coding_keeps_its_version(
    qtbot,
    built,
    make_window,
    dialogs,  # type: ignore[no-untyped-def]
) -> None:
    source = load_builtin_scale("thabs").source.replace("version: 1", "version: 2", 1)
    with Project.open(built.path) as project:
        project.add_scale(parse_scale(source))
    window = make_window(built)
    qtbot.waitUntil(lambda: bool(_boxes(dialogs)))
    box = _boxes(dialogs)[0]
    assert box.windowTitle() == "The scale has changed"
    assert "version 2" in box.text() and "keeps version 1" in box.informativeText()
    assert window.session.scale.version == 1


def test_uncaught_errors_are_logged_and_shown_calmly(qtbot, app, dialogs, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    install_excepthook()
    try:
        raise ZeroDivisionError("boom")
    except ZeroDivisionError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    box = _boxes(dialogs)[-1]
    assert box.text() == "Something unexpected went wrong."
    assert "Traceback" not in box.text() + box.informativeText()
    assert "ZeroDivisionError" in log_path().read_text()
    box.close()
    sys.excepthook(InputError, InputError("the time 99:99 is not in the recording"), None)
    assert _boxes(dialogs)[-1].text() == "The time 99:99 is not in the recording."
    _boxes(dialogs)[-1].close()
