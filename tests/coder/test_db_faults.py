"""Database faults reach the user as one sentence, and change nothing (issue 9, item 7).

Every fault here is real: another process holding the write lock, a read-only mount,
a full tmpfs, a truncated or overwritten file. The CLI is called in-process
(``coder.cli.main``) and must print exactly one line, no traceback.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from coder.cli import main
from coder.errors import ProjectDamagedError
from coder.store.project import Project

LOCK_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "internal error" not in err, err
    assert "sqlite3" not in err and "OperationalError" not in err, err
    return lines[0]


def _new_project(path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["init", str(path)]) == 0
    assert main(["raters", "add", str(path), "R1"]) == 0
    capsys.readouterr()
    return path


def _raters(path: Path) -> list[str]:
    with Project.open(path) as project:
        return [r.code for r in project.raters(include_inactive=True)]


@contextmanager
def _write_lock_held(path: Path) -> Iterator[None]:
    """Another process holds the project's write lock until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=30)


@contextmanager
def _tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr!r}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def test_a_project_busy_in_another_process_gets_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _new_project(tmp_path / "lab.scproj", capsys)
    monkeypatch.setenv("SESSION_CODER_BUSY_TIMEOUT_MS", "200")
    with _write_lock_held(project):
        assert main(["raters", "add", str(project), "R2"]) == 1
        line = _one_error_line(capsys)
    assert "is busy" in line and "0.2 s" in line and "try again" in line
    assert _raters(project) == ["R1"]


def test_a_read_only_project_gets_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with _tmpfs(tmp_path / "drive", "4m") as drive:
        project = _new_project(drive / "lab.scproj", capsys)
        subprocess.run(["mount", "-o", "remount,ro", str(drive)], check=True)
        for argv in (["raters", "add", str(project), "R2"], ["status", str(project)]):
            assert main(argv) == 1
            line = _one_error_line(capsys)
            assert "read-only" in line and "copy it to a folder you can write to" in line
        subprocess.run(["mount", "-o", "remount,rw", str(drive)], check=True)
        assert _raters(project) == ["R1"]


def test_a_full_disk_gets_one_sentence_and_keeps_the_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with _tmpfs(tmp_path / "drive", "1m") as drive:
        project = _new_project(drive / "lab.scproj", capsys)
        # Fill the drive but for 40 KiB: the WAL index fits, the new pages do not.
        free = os.statvfs(drive).f_bavail * os.statvfs(drive).f_frsize
        (drive / "filler").write_bytes(b"\0" * max(0, free - 40 * 1024))
        codes = [f"R{i:04d}" for i in range(2, 4000)]
        assert main(["raters", "add", str(project), *codes]) == 1
        line = _one_error_line(capsys)
        assert "disk holding the project" in line and "is full" in line and "free" in line
        (drive / "filler").unlink()
        assert _raters(project) == ["R1"]


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _overwrite_a_page(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[3 * 4096 : 3 * 4096 + 2000] = bytes((i * 37 + 11) % 256 for i in range(2000))
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [_truncate, _overwrite_a_page], ids=["truncated", "garbled"])
@pytest.mark.parametrize(
    "argv", [["status", "{p}"], ["raters", "add", "{p}", "R2"], ["raters", "list", "{p}"]]
)
def test_a_damaged_project_is_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: object, argv: list[str]
) -> None:
    project = _new_project(tmp_path / "lab.scproj", capsys)
    damage(project)  # type: ignore[operator]
    before = hashlib.sha256(project.read_bytes()).hexdigest()
    assert main([a.format(p=project) for a in argv]) == 2
    line = _one_error_line(capsys)
    assert "is damaged" in line and "restore it from a backup" in line
    assert hashlib.sha256(project.read_bytes()).hexdigest() == before
    assert not Path(f"{project}-wal").exists() or Path(f"{project}-wal").stat().st_size == 0


def test_opening_a_damaged_project_raises_the_coder_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _new_project(tmp_path / "lab.scproj", capsys)
    _overwrite_a_page(project)
    with pytest.raises(ProjectDamagedError, match="is damaged"):
        Project.open(project)
