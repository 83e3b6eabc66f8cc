"""``./dev``, the README's set-up command, as a newcomer calls it."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
STAMP = REPO / ".venv" / ".installed"


@pytest.mark.skipif(
    not STAMP.exists() or STAMP.stat().st_mtime < (REPO / "pyproject.toml").stat().st_mtime,
    reason="./dev has not set up .venv yet (it would install everything first)",
)
def test_dev_run_takes_relative_paths_from_the_callers_folder(tmp_path: Path) -> None:
    name = f"rel-{uuid.uuid4().hex[:8]}.scproj"
    try:
        run = subprocess.run(
            [str(REPO / "dev"), "run", "init", name],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stderr
        assert (tmp_path / name).is_file()
    finally:
        (REPO / name).unlink(missing_ok=True)  # where the old ./dev put it
    assert not (REPO / name).exists()


@pytest.mark.skipif(
    not STAMP.exists() or STAMP.stat().st_mtime < (REPO / "pyproject.toml").stat().st_mtime,
    reason="./dev has not set up .venv yet (it would install everything first)",
)
def test_dev_lint_runs_ruff_and_the_import_contracts(tmp_path: Path) -> None:
    run = subprocess.run([str(REPO / "dev"), "lint"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "All checks passed!" in run.stdout  # ruff
    assert "Only coder.store talks to the database KEPT" in run.stdout  # lint-imports
