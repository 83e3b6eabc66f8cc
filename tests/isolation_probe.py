"""Run only by tests/test_isolation.py: writes where the app would, outside any test.

Not collected on its own (its name does not start with ``test_``).
"""

from __future__ import annotations

import atexit
from pathlib import Path

from platformdirs import user_cache_dir, user_config_dir, user_data_dir, user_log_dir


def _write_app_files(tag: str) -> None:
    for folder in (
        Path(user_cache_dir("session-coder", appauthor=False)) / "peaks",
        Path(user_config_dir("session-coder", appauthor=False)),
        Path(user_data_dir("session-coder", appauthor=False)) / "demo",
        Path(user_log_dir("session-coder", appauthor=False)),
        Path.home(),
    ):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"probe-{tag}").write_text(tag)


# At import (as module-level code of the app would) and at exit (as a worker thread
# that outlives its test would): both are outside every per-test fixture.
_write_app_files("import")
atexit.register(_write_app_files, "exit")


def test_writes_inside_a_test() -> None:
    _write_app_files("test")
