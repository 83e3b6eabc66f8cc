"""Exceptions that carry a message a person can act on.

Every error that reaches the CLI or the GUI is one of these; anything else is a bug.
The CLI prints ``str(error)`` on one line and exits with ``exit_code``; the GUI shows
the same text in a dialog.
"""

from __future__ import annotations


class CoderError(Exception):
    """Base class for expected, user-facing errors."""

    exit_code: int = 1


class InputError(CoderError):
    """Invalid input from a file, a flag or a URL (CLI exit code 2)."""

    exit_code = 2


class ProjectError(CoderError):
    """A project cannot be opened or changed as asked."""

    exit_code = 2


class AudioError(CoderError):
    """An audio file cannot be read; the message says why and what to do."""

    exit_code = 2


class Cancelled(CoderError):
    """The caller's ``cancelled()`` returned True; the work stopped between chunks.

    Long jobs of the core (decoding audio, writing a rater's package) poll a
    ``cancelled`` callable and raise this, after undoing what they had started.
    """

    exit_code = 130


class TextLimitError(InputError):
    """A text is too long, or holds a character a project cannot store (a NUL byte)."""


class DatabaseFault(ProjectError):
    """The project's database cannot do what was asked right now; nothing was changed.

    Raised at the storage boundary (:mod:`coder.store.faults`) in place of the driver's
    exception, so the CLI and the GUI show the same calm sentence.
    """

    exit_code = 1


class ProjectBusyError(DatabaseFault):
    """Another program held the project's write lock for longer than the wait allows."""


class ProjectReadOnlyError(DatabaseFault):
    """The project file (or its folder, or the server session) cannot be written."""


class DiskFullError(DatabaseFault):
    """The disk (or the database server's disk) holding the project is full."""


class ProjectDamagedError(DatabaseFault):
    """The project file is damaged (truncated, overwritten, not a database any more)."""

    exit_code = 2


class ProjectUnreachableError(DatabaseFault):
    """The project's file cannot be read or the database server cannot be reached."""


class ConcurrentChangeError(DatabaseFault):
    """Someone else changed the same rows at the same moment (a unique-key race)."""


class StorageLostError(ProjectError):
    """The project file lost this process's locks and was changed on disk meanwhile.

    Another program then treated the project as closed and removed its write-ahead log,
    so the last change may have gone into a deleted file. The store has reopened the
    project; the message says what to check.
    """

    exit_code = 1
