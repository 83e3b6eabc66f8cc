"""The lead passphrase of a single-file project: the rule, once (issue 14, point 5).

A single project file cannot keep a determined reader out: whoever can open the file
can read all of it with any SQLite tool. What the passphrase does is keep honest
raters out of the lead's window and the lead's commands, so nobody lands in the
discrepancy list by a slip. Lab mode, where the database refuses a rater's login the
lead's data, is the answer when blinding must be guaranteed.

The passphrase is stored as a salted scrypt hash (``hashlib.scrypt``), never in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from typing import Any

from coder.errors import InputError

#: The project setting that holds the hash record.
SETTING = "lead_passphrase"
#: A passphrase for scripts (the lead's own machine), instead of a prompt.
PASSPHRASE_ENV = "SESSION_CODER_LEAD_PASSPHRASE"
MIN_LENGTH = 8

# scrypt's cost: 16 MiB of memory and about 50 ms per check (OWASP's minimum is N=2^17
# with r=8 for logins over a network; a local file has no throttling to add to it).
_N, _R, _P = 2**14, 8, 1

#: What a single file protects against, in the words the app and the README use.
SINGLE_FILE_NOTE = (
    "A single project file keeps raters apart by the app only: anyone who can open the "
    "file can read all of it, the lead's view included. The lead passphrase guards "
    "against mistakes, not a determined reader; use lab mode (a PostgreSQL server with "
    "a login per person) when blinding must be guaranteed."
)


def make_record(passphrase: str) -> dict[str, Any]:
    """The stored form of a new passphrase: scrypt parameters, salt and hash (hex).

    Raises:
        InputError: shorter than :data:`MIN_LENGTH` characters.
    """
    if len(passphrase) < MIN_LENGTH:
        raise InputError(f"choose a lead passphrase of at least {MIN_LENGTH} characters")
    salt = os.urandom(16)
    return {
        "kdf": "scrypt",
        "n": _N,
        "r": _R,
        "p": _P,
        "salt": salt.hex(),
        "hash": _derive(passphrase, salt, _N, _R, _P).hex(),
    }


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        passphrase.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=2 * 128 * r * n + 2**20
    )


def verify(record: Mapping[str, Any] | None, passphrase: str) -> bool:
    """Whether ``passphrase`` matches the stored record (True when none is set)."""
    if not record:
        return True
    try:
        expected = bytes.fromhex(str(record["hash"]))
        got = _derive(
            passphrase,
            bytes.fromhex(str(record["salt"])),
            int(record["n"]),
            int(record["r"]),
            int(record["p"]),
        )
    except (KeyError, TypeError, ValueError):
        return False  # a damaged record opens nothing
    return hmac.compare_digest(expected, got)
