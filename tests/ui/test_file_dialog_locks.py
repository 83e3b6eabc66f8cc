"""File dialogs never cost the open project its SQLite locks, nor a rater their scores.

Qt's own file dialog used to open every file it listed to guess its type; in the app's
process that close dropped the project's POSIX locks, another process then deleted the
WAL, and every later score went into a deleted file while the app said "All changes
saved". The end-to-end test opens each file dialog of the real app on the project's
folder, lets another process open and close the database, scores, kills the app and
finds every acknowledged score. The scan keeps future dialogs on the safe factory.
"""

from __future__ import annotations

import ast
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from queue import Empty, Queue

import pytest

from coder.store.project import Project
from tests.ui.helpers import BuiltProject

ROOT = Path(__file__).parent.parent.parent
# Names whose use lists files through Qt's file-system model and its icon provider.
_FILE_LISTING = {
    "QFileDialog",
    "QFileSystemModel",
    "QFileIconProvider",
    "QAbstractFileIconProvider",
}
_DIALOG_FACTORY = ROOT / "ui" / "dialogs.py"
KILL_AFTER = 7  # ACK 7 is the playhead at 0:52 (N alone writes nothing since notes need text)


def test_only_the_dialog_factory_lists_files() -> None:
    offences = []
    for path in sorted((ROOT / "ui").rglob("*.py")):
        if path == _DIALOG_FACTORY:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Name):
                names = [node.id]
            elif isinstance(node, ast.Attribute):
                names = [node.attr]
            elif isinstance(node, ast.ImportFrom):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names = [node.value]  # getattr(QtWidgets, "QFileDialog") and the like
            for name in names:
                if (
                    name in _FILE_LISTING
                    or name.startswith("getOpenFileName")
                    or name
                    in (
                        "getSaveFileName",
                        "getSaveFileUrl",
                        "getExistingDirectory",
                        "getExistingDirectoryUrl",
                    )
                ):
                    offences.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    assert not offences, (
        "file dialogs must come from ui.dialogs.choose_file (its icon provider never opens "
        "files, which would drop an open project's SQLite locks):\n" + "\n".join(offences)
    )


def test_the_factory_dialog_decides_types_by_name_only(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from ui.dialogs import NameOnlyIconProvider, choose_file

    dialog = choose_file(None, "Choose", directory=str(tmp_path), on_chosen=lambda _p: None)
    qtbot.addWidget(dialog)
    assert isinstance(dialog.iconProvider(), NameOnlyIconProvider)
    assert dialog.testOption(dialog.Option.DontUseCustomDirectoryIcons)
    dialog.reject()


def _start(built: BuiltProject) -> subprocess.Popen[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "tests.ui.dialogs_app", str(built.path), str(built.codings["S1"])],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _read_until(proc: subprocess.Popen[str], wanted: str, lines: list[str]) -> None:
    """Collect the app's lines until ``wanted``; a generous deadline for a loaded machine."""
    assert proc.stdout is not None
    queue: Queue[str] = _reader(proc)
    deadline = time.monotonic() + 180
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = queue.get(timeout=left)
        except Empty:
            break
        if line == "":
            break  # the app ended
        lines.append(line.strip())
        if line.strip() == wanted:
            return
    proc.kill()
    raise AssertionError(f"never saw {wanted!r}; got {lines}")


_READERS: dict[int, Queue[str]] = {}


def _reader(proc: subprocess.Popen[str]) -> Queue[str]:
    """The app's stdout lines, read by a thread (a blocked readline cannot time out)."""
    if proc.pid not in _READERS:
        queue: Queue[str] = Queue()

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                queue.put(line)
            queue.put("")

        threading.Thread(target=pump, daemon=True).start()
        _READERS[proc.pid] = queue
    return _READERS[proc.pid]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX lock semantics")
def test_every_file_dialog_then_another_process_loses_no_score(built: BuiltProject) -> None:
    proc = _start(built)
    lines: list[str] = []
    try:
        _read_until(proc, "DIALOGS DONE", lines)
        # Another program reads the project (the CLI's status, a backup, sqlite3).
        con = sqlite3.connect(built.path)
        assert con.execute("SELECT count(*) FROM codings").fetchone()[0] >= 1
        con.close()
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
        # ACK 7 is the playhead at 0:52 (as in test_crash_safety); the last step may be
        # in flight when the app is killed.
        _read_until(proc, f"ACK {KILL_AFTER}", lines)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    cancelled = [line for line in lines if line.startswith("CANCELLED")]
    assert len(cancelled) == 4, lines  # open project, export, manifest, recording
    assert not [line for line in lines if line.startswith("FAILED")], lines
    acks = [line for line in lines if line.startswith("ACK")]
    assert acks == [f"ACK {n}" for n in range(1, KILL_AFTER + 1)], lines

    with Project.open(built.path) as project:
        state = project.rater_view("R1").coding(built.codings["S1"])
    assert state.values["specification"] == 3.0
    assert state.values["rationale"] == 2.0
    assert state.values["duration"] == 10.0
    assert [(n.position_ms, n.text) for n in state.notes] == [(42_000, "pedal note")]
    assert [(s.start_ms, s.end_ms) for s in state.spans] == [(42_000, 52_000)]
    assert state.playhead_ms == 52_000
