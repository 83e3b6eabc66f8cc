"""Killing the app loses nothing that was acknowledged; reopening restores it all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from coder.store.project import Project
from tests.ui.helpers import BuiltProject
from tests.ui.smoke_app import NOTE_TEXT

ROOT = Path(__file__).parent.parent.parent
KILL_AFTER = 7  # ACK 7 is the playhead at 0:52; the last step may be in flight


def _start(built: BuiltProject, mode: str) -> subprocess.Popen[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.ui.smoke_app",
            str(built.path),
            str(built.codings["S1"]),
            mode,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _read_until(proc: subprocess.Popen[str], wanted: str, timeout_s: float = 45.0) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
        if line.strip() == wanted:
            return lines
    proc.kill()
    raise AssertionError(f"never saw {wanted!r}; got {lines}")


def test_sigkill_after_acknowledged_writes_loses_none_of_them(built: BuiltProject) -> None:
    proc = _start(built, "code")
    try:
        lines = _read_until(proc, f"ACK {KILL_AFTER}")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert [f"ACK {n}" for n in range(1, KILL_AFTER + 1)] == [
        line for line in lines if line.startswith("ACK")
    ]

    with Project.open(built.path) as project:
        state = project.rater_view("R1").coding(built.codings["S1"])
    assert state.values["specification"] == 3.0
    assert state.values["rationale"] == 2.0
    assert state.values["duration"] == 10.0
    assert [(n.position_ms, n.text) for n in state.notes] == [(42_000, "pedal note")]
    assert [(s.start_ms, s.end_ms) for s in state.spans] == [(42_000, 52_000)]
    assert state.playhead_ms == 52_000
    assert state.state == "in_progress"

    # Restart: the workstation comes back with everything, the playhead included.
    proc = _start(built, "show")
    out, _ = proc.communicate(timeout=45)
    assert proc.returncode == 0
    shown = json.loads(out.strip().splitlines()[-1])
    assert shown["values"]["specification"] == 3.0
    assert shown["values"]["rationale"] == 2.0
    assert shown["values"]["duration"] == 10.0
    assert shown["notes"] == [[42_000, "pedal note"]]
    assert shown["spans"] == [["duration", 42_000, 52_000]]
    assert shown["player_ms"] == 52_000


def test_sigkill_while_a_note_is_being_typed_keeps_its_text(built: BuiltProject) -> None:
    """Issue 9 item 4: the text of a note still open for typing survives kill -9."""
    proc = _start(built, "note")
    try:
        _read_until(proc, "TYPED")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()

    with Project.open(built.path) as project:
        state = project.rater_view("R1").coding(built.codings["S1"])
    assert [n.text for n in state.notes] == [NOTE_TEXT]
