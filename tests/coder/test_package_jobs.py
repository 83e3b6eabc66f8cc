"""Offline packages as long jobs: progress, cancel (no partial file), Ctrl-C on the CLI,
and each conflict's two sides with their history."""

from __future__ import annotations

import operator
import os
import pty
import signal
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

from coder.cli_common import ctrl_c_cancels
from coder.errors import Cancelled
from coder.packages import (
    PackageProgress,
    conflict_sides,
    export_package,
    import_package,
    list_packages,
    package_conflicts,
    resolve_conflict,
    unit_text,
)
from coder.store.project import RaterView
from tests.coder.test_packages import _coding, _offline, build, dump, work


def _note_stage(stages: list[str], p: PackageProgress) -> None:
    stages.append(p.stage)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_export_reports_progress_up_to_done(tmp_path: Path) -> None:
    seen: list[PackageProgress] = []
    (tmp_path / "out").mkdir()
    with build(tmp_path / "p.scproj", tmp_path / "audio") as project:
        export_package(
            project, "A", tmp_path / "out" / "A.scpkg", with_audio=True, progress=seen.append
        )
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions)  # never goes back
    assert fractions[0] == 0.0 and seen[-1] == PackageProgress("done", 1.0)
    audio = [p for p in seen if p.stage == "adding the audio"]
    assert len(audio) == 3  # one per recording (each is one chunk)
    assert 0.1 < audio[0].fraction < audio[-1].fraction <= 0.95
    assert _leftovers(tmp_path / "out") == ["A.scpkg"]


@pytest.mark.parametrize("stop_after", [0, 1, 2])
def test_a_cancelled_export_leaves_no_file_and_no_record(tmp_path: Path, stop_after: int) -> None:
    """Cancelled before anything, after the first recording, or after the second."""
    out = tmp_path / "out"
    out.mkdir()
    audio_steps: list[float] = []

    def progress(p: PackageProgress) -> None:
        if p.stage == "adding the audio":
            audio_steps.append(p.fraction)

    def cancelled() -> bool:
        return len(audio_steps) >= stop_after

    with build(tmp_path / "p.scproj", tmp_path / "audio") as project:
        history_before = len(project.history())
        with pytest.raises(Cancelled, match="no package was written"):
            export_package(
                project,
                "A",
                out / "A.scpkg",
                with_audio=True,
                progress=progress,
                cancelled=cancelled,
            )
        assert len(audio_steps) == stop_after
        assert _leftovers(out) == []  # no package, no temporary file, no sidecar
        assert list_packages(project) == []
        assert not [h for h in project.history()[history_before:] if h.entity == "package"]
        # The same file name can be used at once: nothing is in the way.
        export_package(project, "A", out / "A.scpkg")
        assert _leftovers(out) == ["A.scpkg"]


def test_a_cancelled_import_merges_nothing(tmp_path: Path) -> None:
    with build(tmp_path / "p.scproj", tmp_path / "audio") as project:
        package_file = tmp_path / "A.scpkg"
        export_package(project, "A", package_file, with_audio=True)
        _offline(package_file, work)
        before = dump(project)
        for stop_at in ("copying the package", "checking the package"):
            stages: list[str] = []
            with pytest.raises(Cancelled, match="nothing was merged"):
                import_package(
                    project,
                    package_file,
                    progress=partial(_note_stage, stages),
                    cancelled=partial(operator.contains, stages, stop_at),
                )
            assert "merging" not in stages
            assert dump(project) == before
            assert list_packages(project)[0].import_count == 0
        stages = []
        report = import_package(project, package_file, progress=partial(_note_stage, stages))
        assert report.changed and stages[-2:] == ["merging", "done"]
        assert dump(project) != before


def test_each_side_of_a_conflict_comes_with_its_history(tmp_path: Path) -> None:
    with build(tmp_path / "p.scproj", tmp_path / "audio") as project:
        package_file = tmp_path / "A.scpkg"
        export_package(project, "A", package_file)

        def offline(view: RaterView) -> None:
            s1, s3 = _coding(view, "S1"), _coding(view, "S3")
            view.set_value(s1, "specification", 2)
            view.set_value(s1, "specification", 3)
            view.update_note(s3, view.coding(s3).notes[0].id, text="offline text")

        _offline(package_file, offline)
        online = project.rater_view("A")
        s1, s3 = _coding(online, "S1"), _coding(online, "S3")
        online.set_value(s1, "specification", 1)
        online.set_value(s1, "rationale", 4)  # another item: not this conflict's history
        online.update_note(s3, online.coding(s3).notes[0].id, text="online text")
        report = import_package(project, package_file)

        spec = next(c for c in report.conflicts if c.what == "rating")
        sides = conflict_sides(project, report.package_id, spec.id)
        assert sides.conflict == spec
        assert [(h.actor, h.old, h.new) for h in sides.project_history] == [("A", None, 1.0)]
        assert sides.package_history is not None
        assert [(h.old, h.new) for h in sides.package_history] == [(None, 2.0), (2.0, 3.0)]
        assert (unit_text(spec.what, spec.project), unit_text(spec.what, spec.package)) == (
            "1",
            "3",
        )

        note = next(c for c in report.conflicts if c.what == "note")
        sides = conflict_sides(project, report.package_id, note.id)
        assert [h.new["text"] for h in sides.project_history if h.action == "edit"] == [
            "online text"
        ]
        assert sides.package_history is not None
        assert [h.new["text"] for h in sides.package_history] == ["offline text"]
        assert unit_text("note", note.package) == "at 0:05: offline text"

        resolve_conflict(project, report.package_id, spec.id, "package")
        assert [c.id for c in package_conflicts(project)] == [note.id]
        with pytest.raises(Exception, match="no open conflict"):
            conflict_sides(project, report.package_id, spec.id)


def test_ctrl_c_asks_a_job_to_stop_once_and_interrupts_the_second_time() -> None:
    with ctrl_c_cancels() as cancelled:
        assert not cancelled()
        signal.raise_signal(signal.SIGINT)
        assert cancelled()
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    # Outside the block Ctrl-C means what it meant before.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_in_the_cli_export_stops_cleanly_with_no_file(tmp_path: Path) -> None:
    """A real process with a terminal on stderr: the progress line shows, Ctrl-C stops it."""
    path = tmp_path / "p.scproj"
    audio = tmp_path / "audio"
    audio.mkdir()
    # Large recordings (the export then takes many chunks), written before the project
    # fingerprints them.
    for i in range(1, 5):
        with (audio / f"S{i}.wav").open("wb") as fh:
            block = os.urandom(1 << 20)
            for _ in range(48):
                fh.write(block)
    build(path, audio).close()
    out = tmp_path / "out"
    out.mkdir()
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "launcher", "package", "export", str(path), "--rater", "A"]
        + ["--out", str(out / "A.scpkg"), "--with-audio"],
        stdout=subprocess.PIPE,
        stderr=follower,
        text=True,
    )
    os.close(follower)
    seen = b""
    try:
        while b"adding the audio" not in seen:
            chunk = os.read(leader, 1024)
            assert chunk, f"the export ended before adding audio: {seen!r}"
            seen += chunk
        proc.send_signal(signal.SIGINT)
        while True:
            try:
                chunk = os.read(leader, 1024)
            except OSError:  # the process closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        stdout, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
    text = seen.decode(errors="replace")
    assert proc.returncode == 130, text
    assert "export was cancelled; no package was written" in text
    assert "Traceback" not in text and stdout == ""
    assert _leftovers(out) == []
