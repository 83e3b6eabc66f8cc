"""Run ``session-coder`` commands in the test process, as a subprocess would see them.

Starting a Python process per command cost about half a second each (imports of
SQLAlchemy, Alembic, pandas), and most of the CLI tests' time. `run_cli` calls the
entry point in process instead, with stdin, stdout and stderr replaced by byte-backed
text streams and the root logger writing to stderr as ``logging.basicConfig`` does in
a fresh process, and returns what `subprocess.run` would: the exit code and both
streams as text.

What only a real process shows (the console script, exit codes on a crash, signals,
a closed pipe, locks held across processes) stays in subprocess tests:
`run_cli_process` runs the very same command as ``python -m launcher``, and every command
group keeps at least one test that goes through it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from launcher import main

# The format main() gives logging.basicConfig in a fresh process.
_LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


@dataclass(frozen=True)
class CliResult:
    """What a finished command gave back; the fields of `subprocess.CompletedProcess`."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


class _Stream(io.TextIOWrapper):
    """A text stream over bytes, with ``.buffer``, like ``sys.stdout`` in a process."""

    def __init__(self, data: bytes = b"") -> None:
        super().__init__(io.BytesIO(data), encoding="utf-8", newline=None, write_through=True)

    def text(self) -> str:
        self.flush()
        raw = self.buffer
        assert isinstance(raw, io.BytesIO)
        # As subprocess.run(text=True) reads a pipe: universal newlines.
        return raw.getvalue().decode("utf-8").replace("\r\n", "\n")


@contextlib.contextmanager
def _process_like_streams(stdin: str) -> Iterator[tuple[_Stream, _Stream]]:
    saved = sys.stdin, sys.stdout, sys.stderr
    fake_in, fake_out, fake_err = _Stream(stdin.encode("utf-8")), _Stream(), _Stream()
    handler = logging.StreamHandler(fake_err)
    handler.setFormatter(logging.Formatter(_LOG_FORMAT))
    root = logging.getLogger()
    saved_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    sys.stdin, sys.stdout, sys.stderr = fake_in, fake_out, fake_err
    try:
        yield fake_out, fake_err
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
        root.removeHandler(handler)
        root.setLevel(saved_level)


def run_cli(*args: str | os.PathLike[str], stdin: str = "", cwd: Path | None = None) -> CliResult:
    """Run ``session-coder ARGS`` in this process.

    Args:
        *args: The command line after ``session-coder``; paths are turned into text.
        stdin: What the command reads from standard input.
        cwd: Working directory during the command (the current one if None).

    Returns:
        The exit code and the text written to stdout and stderr.
    """
    argv = tuple(os.fspath(a) for a in args)
    with (
        contextlib.chdir(cwd or os.getcwd()),
        _process_like_streams(stdin) as (out, err),
    ):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse: --help, or a usage error
            if exc.code is None:
                code = 0
            elif isinstance(exc.code, int):
                code = exc.code
            else:
                sys.stderr.write(f"{exc.code}\n")
                code = 1
    return CliResult(argv, code, out.text(), err.text())


def run_cli_process(
    *args: str | os.PathLike[str],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m launcher ARGS`` (``session-coder``) as a real process (the smoke tests of each group)."""
    return subprocess.run(
        [sys.executable, "-m", "launcher", *(os.fspath(a) for a in args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=None if env is None else dict(env),
        timeout=timeout,
    )
