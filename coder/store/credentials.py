"""Where a lab-mode login's password comes from: never from the project's files.

The pointer file names the server, the database and (as a default) a login, never a
password. A person's login is the one in a ``postgresql://`` URL given instead of the
file, else ``$SESSION_CODER_LOGIN``, else the pointer file's (the owner's, a default),
and a prompt may change it. Its password: one given in a URL on the command
line (masked in every message), ``$PGPASSWORD`` or ``~/.pgpass`` (read by libpq
itself; this module refuses a ``.pgpass`` that others may read, which libpq would
silently ignore), the operating system's keyring through the ``keyring`` package when
it is installed, or a prompt the front end registers (:func:`set_prompt`: a dialog
in the app, ``getpass`` on a terminal).
"""

from __future__ import annotations

import getpass
import logging
import os
import re
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from coder.errors import ProjectError

log = logging.getLogger(__name__)

KEYRING_SERVICE = "session-coder"
LOGIN_ENV = "SESSION_CODER_LOGIN"


@dataclass(frozen=True)
class LoginRequest:
    """What a prompt is asked: which server and database, and the login so far."""

    where: str  # the database as the user knows it (no password)
    login: str
    retry: bool  # a password was tried and refused
    host: str = ""
    port: int = 5432
    database: str = ""


#: A prompt returns (login, password), or None when the person cancels.
Prompt = Callable[[LoginRequest], "tuple[str, str] | None"]

_prompt: Prompt | None = None


def set_prompt(prompt: Prompt | None) -> None:
    """Register how to ask for a password (None: never ask, fail with a message)."""
    global _prompt
    _prompt = prompt


def prompt() -> Prompt | None:
    return _prompt


def pgpass_path() -> Path:
    return Path(os.environ.get("PGPASSFILE") or Path.home() / ".pgpass")


def check_pgpass() -> None:
    """Refuse a password file that other users may read.

    Raises:
        ProjectError: ``~/.pgpass`` (or ``$PGPASSFILE``) is readable by group or others.
    """
    path = pgpass_path()
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if stat.S_ISREG(mode) and mode & 0o077:
        raise ProjectError(
            f"{path} holds passwords but other users may read it (mode "
            f"{stat.S_IMODE(mode):04o}); make it private with: chmod 600 {path}"
        )


def keyring_key(host: str, port: int, database: str) -> str:
    return f"{KEYRING_SERVICE}:{host}:{port}/{database}"


def keyring_password(host: str, port: int, database: str, login: str) -> str | None:
    """The password kept in the OS keyring for this login, or None (also without keyring)."""
    try:
        import keyring
    except ImportError:
        return None
    try:
        found = keyring.get_password(keyring_key(host, port, database), login)
    except Exception:  # noqa: BLE001 - any backend failure means "not there"
        log.info("the OS keyring could not be read")
        return None
    return found if isinstance(found, str) and found else None


def remember_in_keyring(host: str, port: int, database: str, login: str, password: str) -> bool:
    """Keep a password in the OS keyring; False when there is none to keep it in."""
    try:
        import keyring
    except ImportError:
        return False
    try:
        keyring.set_password(keyring_key(host, port, database), login, password)
    except Exception:  # noqa: BLE001 - no usable backend
        log.info("the OS keyring could not store the password")
        return False
    return True


def is_auth_failure(message: str) -> bool:
    """Whether a connection error means a missing or wrong password (libpq's wording)."""
    text = message.lower()
    return (
        "no password supplied" in text
        or "password authentication failed" in text
        or "authentication failed" in text
    )


_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def mask_passwords(text: str) -> str:
    """``postgresql://u:secret@h/db`` -> ``postgresql://u:***@h/db``, anywhere in a text."""
    return _URL_PASSWORD.sub(r"\1***@", text)


def terminal_prompt(request: LoginRequest) -> tuple[str, str] | None:
    """Ask on the terminal (stderr): the login when none is known, then the password."""
    if request.retry:
        sys.stderr.write("that login or password was refused; try again\n")
    login = request.login
    try:
        if not login:
            sys.stderr.write(f"login for {request.where}: ")
            sys.stderr.flush()
            login = sys.stdin.readline().strip()
        password = getpass.getpass(f"password of {login} for {request.where}: ")
    except (EOFError, KeyboardInterrupt):
        return None
    return login, password
