"""Behaviour that only Qt's X11 (xcb) platform shows, checked on a virtual X screen.

The suite runs offscreen, where a line edit knows none of X11's Emacs keys; on a lab's
Linux desktop it does. Each test here re-runs named tests in a subprocess under Xvfb
with the xcb platform. CI installs Xvfb (.ci/run), so there a missing Xvfb fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent.parent
X11_TESTS = [
    # Ctrl+U while typing a note must open "uncodable", not erase the note (X11 binds
    # Ctrl+U in a line edit to "delete to the start of the line").
    "tests/ui/test_notes_panel.py::test_ctrl_u_while_typing_a_note_opens_uncodable_and_keeps_the_note",
]


@pytest.fixture
def x_display() -> Iterator[str]:
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        if os.environ.get("CI"):
            pytest.fail("Xvfb is missing; .ci/run installs the xvfb package")
        pytest.skip("Xvfb is not installed (apt install xvfb) to run X11-only checks")
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write_end), "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()
    try:
        assert number, "Xvfb did not report its display"
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_x11_only_behaviour(x_display: str, tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", DISPLAY=x_display)
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *X11_TESTS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert f"{len(X11_TESTS)} passed" in out.stdout
