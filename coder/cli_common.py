"""What every module of the command line shares: the parser class, JSON output, opening
a project, comma lists.

The command modules (``cli``, ``cli_analysis``, ``cli_lab``, and the launcher outside
``coder``) each import this one and never each other's private helpers, so they form
no import cycle.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, TypeAlias

if TYPE_CHECKING:
    from coder.store.project import Project

#: What ``Parser.add_subparsers()`` returns: the commands of a parser.
Commands: TypeAlias = "argparse._SubParsersAction[Parser]"

#: A function that adds a module's commands to the main parser.
AddCommands: TypeAlias = Callable[[Commands], None]

PROG = "session-coder"


class Parser(argparse.ArgumentParser):
    """argparse that reports usage errors on one line with exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def add_group(commands: Commands, name: str, help_text: str) -> Commands:
    """Add a command that has actions of its own (``scales check``, ``certify status``).

    Args:
        commands: the main parser's commands.
        name: the command, e.g. ``"scales"``.
        help_text: one line for ``--help``.

    Returns:
        The group's actions, to add each one with ``add_parser``.
    """
    group = commands.add_parser(name, help=help_text)
    return group.add_subparsers(
        dest=f"{name}_command", metavar="ACTION", parser_class=Parser, required=True
    )


def print_json(data: Any) -> None:
    """Write ``data`` to stdout as one strict JSON document (no NaN or Infinity)."""
    sys.stdout.write(json.dumps(data, indent=2, allow_nan=False, sort_keys=False) + "\n")


def open_project(project: str, *, rater_ok: bool = False) -> Project:
    """Open a project file or ``postgresql://`` URL, as every command takes it.

    The command line is the lab lead's: in lab mode a rater's login is refused here
    (the database refuses it the lead's data anyway), unless ``rater_ok`` (a
    person's own password, who am I).

    Raises:
        ProjectError: a rater's login, for a lead's command.
    """
    from coder.errors import ProjectError
    from coder.store.project import Project

    opened = Project.open(project)
    if not rater_ok:
        try:
            kind = opened.login_kind()
        except BaseException:
            opened.close()
            raise
        if kind == "rater":
            opened.close()
            raise ProjectError(
                "this login is a rater's: the command line is for the lab lead, and raters "
                "code in the app (session-coder gui); ask the lab lead for lead work"
            )
        try:
            _check_lead_passphrase(opened)
        except BaseException:
            opened.close()
            raise
    return opened


def _check_lead_passphrase(project: Project) -> None:
    """A single file with a lead passphrase: the lead's commands need it.

    From ``$SESSION_CODER_LEAD_PASSPHRASE``, else asked on the terminal (three tries).

    Raises:
        ProjectError: no passphrase, or a wrong one.
    """
    import getpass
    import os

    from coder import lead_passphrase
    from coder.errors import ProjectError

    record = project.lead_passphrase_record()
    if record is None:
        return
    given = os.environ.get(lead_passphrase.PASSPHRASE_ENV)
    if given is not None:
        if lead_passphrase.verify(record, given):
            return
        raise ProjectError(
            f"${lead_passphrase.PASSPHRASE_ENV} is not this project's lead passphrase"
        )
    if sys.stdin.isatty():
        for _ in range(3):
            try:
                typed = getpass.getpass("lead passphrase: ")
            except (EOFError, KeyboardInterrupt):
                break
            if lead_passphrase.verify(record, typed):
                return
            sys.stderr.write("that is not the lead passphrase\n")
    raise ProjectError(
        "this project's lead commands need the lead passphrase: type it when asked, or "
        f"set ${lead_passphrase.PASSPHRASE_ENV}"
    )


def csv_list(text: str) -> list[str]:
    """``"R1, R2,,R3"`` -> ``["R1", "R2", "R3"]``: a comma list, blanks dropped."""
    return [part.strip() for part in text.split(",") if part.strip()]


def add_final_arguments(p: argparse.ArgumentParser) -> None:
    """``--final`` and ``--winsorize-iqr``: how the final scores are made (export,
    descriptives)."""
    p.add_argument(
        "--final",
        default="primary",
        choices=("primary", "mean", "consensus"),
        help="final score per session: the primary coder's, or the pair mean",
    )
    p.add_argument(
        "--winsorize-iqr",
        type=float,
        metavar="K",
        help="pull values beyond K x IQR outside the quartiles to that fence",
    )


class PercentLine:
    """A one-line, self-overwriting ``stage: NN%`` display on stderr.

    Shown only when stderr is a terminal (a script or a log file gets nothing). Give
    the instance as a core job's ``progress`` callback; it reads the ``stage`` and
    ``percent`` of what it is called with (:class:`coder.packages.PackageProgress`).
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._shown = False

    def __call__(self, p: Any) -> None:
        if not self.enabled:
            return
        sys.stderr.write(f"\r  {p.stage}: {p.percent:3d}%\033[K")
        sys.stderr.flush()
        self._shown = True

    def end(self) -> None:
        """End the line (when the job is done, failed or was cancelled)."""
        if self._shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self._shown = False


@contextmanager
def ctrl_c_cancels() -> Iterator[Callable[[], bool]]:
    """Inside the block, Ctrl-C asks the running job to stop instead of killing it.

    Yields the ``cancelled`` callable to hand to the core job, which polls it and stops
    between steps, cleaning up after itself (a killed job could leave a half-written
    file). A second Ctrl-C interrupts at once, as usual. Outside the main thread (no
    signal handler can be set there) Ctrl-C keeps its usual meaning.
    """
    event = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield event.is_set
        return

    def on_ctrl_c(_signum: int, _frame: object) -> None:
        if event.is_set():
            raise KeyboardInterrupt
        event.set()
        sys.stderr.write("\n  cancelling (Ctrl-C again to stop at once) ...\n")
        sys.stderr.flush()

    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        yield event.is_set
    finally:
        signal.signal(signal.SIGINT, previous)
