"""The test suite never writes into the real home (caches, settings, logs, demo)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_a_test_run_writes_nothing_into_the_real_home(tmp_path: Path) -> None:
    """Writes at import, in a test and at exit all stay out of $HOME."""
    real_home = tmp_path / "real-home"
    real_home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("XDG_") and k not in {"HOME", "PYTEST_ADDOPTS"}
    }
    env["HOME"] = str(real_home)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        + [str(REPO / "tests" / "isolation_probe.py")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    written = sorted(str(p.relative_to(real_home)) for p in real_home.rglob("*"))
    assert written == [], f"the test run wrote into the real home: {written}"
