"""The CLI's last lines of defence (issue 9, item 10): atomic ``scales add``, a closed
pipe, a crash log that cannot be written. Always one clear line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from coder import cli
from coder.cli import main
from coder.scales import builtin_scale_path
from coder.store.project import Project


def _project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "lab.scproj"
    assert main(["init", str(path)]) == 0
    capsys.readouterr()
    return path


def _variant(tmp_path: Path, name: str, *, scale_id: str, label: str) -> Path:
    """A valid copy of the homework-adherence scale with another id and item label."""
    text = builtin_scale_path("hw_adherence").read_text(encoding="utf-8")
    text = text.replace("id: hw_adherence", f"id: {scale_id}", 1)
    text = text.replace("label: Homework adherence", f"label: {label}", 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _scale_ids(path: Path) -> list[str]:
    with Project.open(path) as project:
        return [s.id for s in project.scales()]


def test_scales_add_keeps_nothing_when_a_later_scale_clashes_with_a_stored_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path, capsys)
    assert main(["scales", "add", str(project), "thabs"]) == 0
    clash = _variant(tmp_path, "clash.yaml", scale_id="thabs", label="Changed")
    clash.write_text(
        builtin_scale_path("thabs").read_text(encoding="utf-8").replace("name: ", "name: X ", 1),
        encoding="utf-8",
    )
    fresh = _variant(tmp_path, "fresh.yaml", scale_id="lab_effort", label="Effort")
    capsys.readouterr()
    assert main(["scales", "add", str(project), str(fresh), str(clash)]) == 2
    err = capsys.readouterr().err
    assert "already in the project with a different definition" in err
    assert "Traceback" not in err
    assert _scale_ids(project) == ["thabs"]  # lab_effort was not kept


def test_scales_add_keeps_nothing_when_two_files_clash_with_each_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path, capsys)
    one = _variant(tmp_path, "one.yaml", scale_id="lab_effort", label="Effort")
    two = _variant(tmp_path, "two.yaml", scale_id="lab_effort", label="Effort, revised")
    assert main(["scales", "add", str(project), str(one), str(two)]) == 2
    assert "given twice with different definitions" in capsys.readouterr().err
    assert _scale_ids(project) == []


def test_scales_add_reports_every_bad_file_and_adds_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path, capsys)
    good = _variant(tmp_path, "good.yaml", scale_id="lab_effort", label="Effort")
    assert main(["scales", "add", str(project), str(good), "nonsense", "missing.yaml"]) == 2
    err = capsys.readouterr().err
    assert "'nonsense' is neither a scale file" in err and "missing.yaml" in err
    assert err.strip().endswith("no scale was added")
    assert _scale_ids(project) == []
    assert main(["scales", "add", str(project), str(good), "thabs"]) == 0
    assert _scale_ids(project) == ["lab_effort", "thabs"]


def test_a_closed_stdout_pipe_ends_quietly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``session-coder raters list P | head -0``: the reader is gone before any write."""
    project = _project(tmp_path, capsys)
    assert main(["raters", "add", str(project), *(f"R{i}" for i in range(200))]) == 0
    read_end, write_end = os.pipe()
    os.close(read_end)  # no reader at all: the first write gets EPIPE, deterministically
    try:
        done = subprocess.run(
            [sys.executable, "-m", "coder", "raters", "list", str(project)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 1


def test_an_unwritable_crash_log_still_gives_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path, capsys)
    # The log folder's parent is a file: the log cannot be created, as on a read-only
    # or missing home folder (chmod does not stop root, a file in the way does).
    blocker = tmp_path / "state"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))

    def broken_command(_args: object) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "cmd_status", broken_command)
    assert main(["status", str(project)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("session-coder: internal error: RuntimeError; this is a bug")
    assert "no crash log could be written" in err
