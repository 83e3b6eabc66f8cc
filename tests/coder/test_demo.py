"""The demo build: its process pool dies with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import alive, descendants, wait_until

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="needs Linux /proc to see child processes"
)


def test_killing_demo_build_ends_its_workers(tmp_path: Path) -> None:
    """``kill -9`` of ``session-coder demo`` while it makes audio leaves no worker behind."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "launcher", "demo", str(tmp_path / "demo"), "--no-gui"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: set[int] = set()
    try:

        def workers_started() -> bool:
            workers.update(descendants(proc.pid))
            assert proc.poll() is None, "the demo build ended before its workers started"
            return bool(workers)

        wait_until(workers_started, timeout=120, what="the demo's pool workers")
        workers.update(descendants(proc.pid))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        # Bounded, generous wait: the kernel kills them at once; the watcher thread
        # (the fallback) within half a second.
        wait_until(lambda: not alive(workers), timeout=20, what=f"workers {sorted(workers)} to end")
    finally:
        proc.kill()
        proc.wait()
        for pid in alive(workers):  # only the workers this test started
            os.kill(pid, signal.SIGKILL)
