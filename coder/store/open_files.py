"""The SQLite project files this process has open, without touching the database.

A file of an open project must never be opened, copied, hashed or sniffed with plain
file I/O in this process: closing that descriptor drops the store's SQLite locks (POSIX
locks belong to the process, not the descriptor). The engine registers each file it
opens here (:func:`register_open`); anything about to read a file asks
:func:`open_database_path` first (the audio probe, the package reader). This module
imports no database library, so such callers need not either.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

# The SQLite project files this process has open, by (st_dev, st_ino), with a count of
# stores per file. Identity, not path: another spelling, a symlink or a hard link of an
# open project is the same file, and opening it by that name drops the locks just the same.
_OPEN_LOCK = threading.Lock()
_OPEN_FILES: dict[tuple[int, int], tuple[Path, int]] = {}
# SQLite's working files beside a database; their locks (the -shm) matter just as much.
_COMPANIONS = ("-wal", "-shm", "-journal")


def _file_key(path: str | Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino)


def same_file(a: Path, b: str | Path) -> bool:
    """True when both paths name one existing file (same device and inode)."""
    key = _file_key(b)
    return key is not None and key == _file_key(a)


def open_database_path(path: str | Path) -> Path | None:
    """The open project database that ``path`` is, or is a working file of, if any.

    Code in this process must not open such a file with ``open()`` (nor copy, hash or
    sniff it): closing that descriptor would drop the SQLite locks of the open store.

    Args:
        path: Any file path.

    Returns:
        The path the open store was opened with, or None when ``path`` is neither an
        open project database of this process nor its ``-wal``, ``-shm`` or ``-journal``.
    """
    text = str(path)
    candidates = [text] + [text[: -len(sfx)] for sfx in _COMPANIONS if text.endswith(sfx)]
    with _OPEN_LOCK:
        if not _OPEN_FILES:
            return None
        for candidate in candidates:
            key = _file_key(candidate)
            if key is not None and key in _OPEN_FILES:
                return _OPEN_FILES[key][0]
    return None


def register_open(path: Path) -> tuple[int, int] | None:
    """Count one more store on ``path``; returns the key to unregister it with."""
    key = _file_key(path)
    if key is not None:
        with _OPEN_LOCK:
            known, count = _OPEN_FILES.get(key, (path, 0))
            _OPEN_FILES[key] = (known, count + 1)
    return key


def unregister_open(key: tuple[int, int] | None) -> None:
    """Count one store less on the file of ``key`` (from :func:`register_open`)."""
    if key is None:
        return
    with _OPEN_LOCK:
        known, count = _OPEN_FILES.get(key, (Path(), 0))
        if count <= 1:
            _OPEN_FILES.pop(key, None)
        else:
            _OPEN_FILES[key] = (known, count - 1)
