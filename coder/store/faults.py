"""Database faults in one sentence: the one place that reads driver errors.

SQLite (``sqlite3``) and PostgreSQL (``psycopg``) report the same faults (the file is
locked by another program, read-only, on a full disk, damaged; two writers raced for
the same key) as different exceptions and codes. :func:`translate_db_error` maps each
to a :class:`~coder.errors.DatabaseFault` subclass with a message that says what
happened and what to do; :func:`db_faults` applies it around a block, and the store
(:class:`coder.store.engine.Store`) wraps every transaction and read in it, so the CLI, the
GUI and the exporters all get the same sentence and never a driver's raw text.

Every fault is raised while the transaction is rolled back, so "nothing was changed"
in the messages is true.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from coder.errors import (
    CoderError,
    ConcurrentChangeError,
    DiskFullError,
    ProjectBusyError,
    ProjectDamagedError,
    ProjectReadOnlyError,
    ProjectUnreachableError,
    TextLimitError,
)

T = TypeVar("T")

BUSY_TIMEOUT_ENV = "SESSION_CODER_BUSY_TIMEOUT_MS"
DEFAULT_BUSY_TIMEOUT_MS = 10_000

# A unique-key race is retried this many times in all: the retry reads what the other
# writer committed, so the second attempt normally finds the row and skips it.
RETRY_ATTEMPTS = 3

_SQLITE_UNIQUE = {sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY}
# SQLite reports a full disk as SQLITE_FULL when a page write fails, but as this I/O
# error when growing the WAL index (-shm) fails: on Linux that means no space left.
_SQLITE_IOERR_SHMSIZE = 4874
# An I/O error on a drive with less free space than this is reported as a full disk.
_NEARLY_FULL_BYTES = 1 << 20


def busy_timeout_ms() -> int:
    """How long a writer waits for another program's write lock (SQLite), in ms.

    Ten seconds by default; ``$SESSION_CODER_BUSY_TIMEOUT_MS`` changes it (tests use a
    short wait so a "project busy" check does not take ten seconds).
    """
    raw = os.environ.get(BUSY_TIMEOUT_ENV, "").strip()
    try:
        value = int(raw) if raw else DEFAULT_BUSY_TIMEOUT_MS
    except ValueError:
        value = DEFAULT_BUSY_TIMEOUT_MS
    return max(0, value)


def _seconds(ms: int) -> str:
    return f"{ms / 1000:g} s"


def _read_only(path: Path | None) -> bool:
    """Whether the project file or its folder cannot be written (by this user).

    ``os.access`` answers for the effective user and says EROFS for a read-only
    mount, so it is right for root on a read-only drive too.
    """
    if path is None:
        return False
    folder = path.parent
    return (path.exists() and not os.access(path, os.W_OK)) or not os.access(folder, os.W_OK)


def _nearly_full(path: Path | None) -> bool:
    if path is None:
        return False
    try:
        return shutil.disk_usage(path.parent).free < _NEARLY_FULL_BYTES
    except OSError:
        return False


def _sqlite_fault(exc: sqlite3.Error, where: str, path: Path | None) -> CoderError | None:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        # Errors raised by the sqlite3 module itself (not by the library) carry no code;
        # a file that is not a database at all says so in words only.
        text = str(exc).lower()
        if "not a database" in text or "malformed" in text:
            code = sqlite3.SQLITE_CORRUPT
        else:
            return None
    primary = code & 0xFF
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return ProjectBusyError(
            f"the project {where} is busy: another program has been writing to it for more "
            f"than {_seconds(busy_timeout_ms())}; nothing was changed: try again in a moment, "
            "or close the other copy of Session Coder that has it open"
        )
    if primary == sqlite3.SQLITE_READONLY or (
        primary in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR) and _read_only(path)
    ):
        return ProjectReadOnlyError(
            f"the project {where} is read-only (the file, its folder or the drive cannot be "
            "written); nothing was changed: copy it to a folder you can write to, or ask "
            "for write permission"
        )
    if primary == sqlite3.SQLITE_FULL or (
        primary == sqlite3.SQLITE_IOERR and (code == _SQLITE_IOERR_SHMSIZE or _nearly_full(path))
    ):
        return DiskFullError(
            f"the disk holding the project {where} is full; nothing was changed: free some "
            "space on it and try again"
        )
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return ProjectDamagedError(
            f"the project file {where} is damaged (truncated or overwritten); nothing was "
            "changed: restore it from a backup copy (a .bak file beside it, or the lab's "
            "backup)"
        )
    if primary == sqlite3.SQLITE_CANTOPEN:
        return ProjectUnreachableError(
            f"cannot open the project file {where}: it, or its folder, cannot be read or "
            "written; check that the drive is connected and that you may write to the folder"
        )
    if primary == sqlite3.SQLITE_IOERR:
        return ProjectUnreachableError(
            f"the disk holding the project {where} reported a read or write error; nothing "
            "was changed: check the drive (is it full or unplugged?) and try again"
        )
    if primary == sqlite3.SQLITE_CONSTRAINT and code in _SQLITE_UNIQUE:
        return _race(where)
    return None


def _race(where: str) -> ConcurrentChangeError:
    return ConcurrentChangeError(
        f"someone else changed the same data in the project {where} at the same moment; "
        "nothing was changed by this step: run it again"
    )


def _postgres_fault(sqlstate: str, where: str) -> CoderError | None:
    if sqlstate in ("23505", "40001", "40P01"):  # unique race, serialization, deadlock
        return _race(where)
    if sqlstate in ("55P03", "57014", "53300"):  # lock wait, statement timeout, slots
        return ProjectBusyError(
            f"the lab database {where} is busy (another user holds what this step needs); "
            "nothing was changed: try again in a moment"
        )
    if sqlstate in ("25006", "42501"):  # read-only transaction, no privilege
        return ProjectReadOnlyError(
            f"the lab database {where} does not let this login make this change (read-only "
            "or no permission); nothing was changed: ask the lab lead for write access"
        )
    if sqlstate.startswith("53"):  # 53100 disk_full, 53200 out_of_memory
        return DiskFullError(
            f"the lab database server for {where} is out of disk space or memory; nothing "
            "was changed: ask the server's administrator to free some, then try again"
        )
    if sqlstate in ("XX001", "XX002"):
        return ProjectDamagedError(
            f"the lab database {where} reports damaged data; nothing was changed: ask the "
            "server's administrator to restore it from a backup"
        )
    if sqlstate.startswith("08") or sqlstate in ("57P01", "57P02", "57P03"):
        return ProjectUnreachableError(
            f"lost the connection to the lab database {where}; nothing was changed: check "
            "the network and that the server is running, then try again"
        )
    if sqlstate in ("22001", "22021", "22P05"):  # too long, bad character, NUL
        return TextLimitError(
            "a text is too long or holds a character the lab database cannot store; "
            "nothing was changed: shorten the text or remove control characters"
        )
    return None


def translate_db_error(
    exc: BaseException, where: str, path: Path | None = None
) -> CoderError | None:
    """The user-facing error for a database driver's exception, or None if not a fault.

    Args:
        exc: An exception from SQLAlchemy, ``sqlite3`` or ``psycopg``.
        where: The project as the user knows it (a path, or a URL without password).
        path: The SQLite file, to tell a read-only folder or a full disk from other
            faults; None in lab mode.

    Returns:
        A :class:`~coder.errors.CoderError` to raise instead, or None when ``exc`` is
        not a known fault (a bug, which must stay visible as one).
    """
    if isinstance(exc, CoderError):
        return exc
    orig: BaseException | None = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(orig, sqlite3.Error):
        return _sqlite_fault(orig, where, path)
    sqlstate = getattr(orig, "sqlstate", None)  # psycopg errors carry the SQLSTATE
    if isinstance(sqlstate, str):
        return _postgres_fault(sqlstate, where)
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return ProjectUnreachableError(
            f"lost the connection to the database of {where}; nothing was changed: try again"
        )
    return None


def _driver_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [SQLAlchemyError, sqlite3.Error]
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency, but lab mode only
        pass
    else:
        errors.append(psycopg.Error)
    return tuple(errors)


DRIVER_ERRORS = _driver_errors()


@contextmanager
def db_faults(where: str, path: Path | None = None) -> Iterator[None]:
    """Raise a driver's known fault inside the block as its one-sentence CoderError.

    Unknown driver errors (bugs such as a wrong column name) pass through unchanged.
    """
    try:
        yield
    except DRIVER_ERRORS as exc:
        fault = translate_db_error(exc, where, path)
        if fault is None:
            raise
        raise fault from exc


def retry_on_conflict(fn: Callable[[], T], *, attempts: int = RETRY_ATTEMPTS) -> T:
    """Run ``fn`` (one whole transaction) again when it lost a race to another writer.

    Two lab machines adding the same rater, scale or session at once both see "not
    there yet" and both insert; the database keeps one and refuses the other with a
    unique-key violation. Running the loser's transaction again reads the winner's
    row, and the idempotent writers (``add_raters``, ``add_scales``, the importer) then
    skip or update it. After ``attempts`` tries the race is reported in one sentence.

    Raises:
        ConcurrentChangeError: the race was lost ``attempts`` times.
    """
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except ConcurrentChangeError:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")  # pragma: no cover
