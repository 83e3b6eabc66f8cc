"""SQLite locks lost in this process never make a write silently vanish.

POSIX locks belong to the process: closing any descriptor of a file drops all of them,
SQLite's included. Each test drops them the way a file dialog or a header read did
(plain ``open()`` and ``close()`` of the project's files in this process), lets another
process open and close the database (which then believes it is the last user,
checkpoints and deletes the WAL), writes, and asks a fresh process what is on disk.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from coder.errors import ProjectError, StorageLostError
from coder.store.project import Project

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the guard reads Linux's /proc/locks"
)

_OTHER = """
import json, sqlite3, sys
con = sqlite3.connect(sys.argv[1])
print(json.dumps(sorted(r[0] for r in con.execute("SELECT code FROM raters"))))
con.close()
"""


def _other_process_reads(db: Path) -> list[str]:
    """Open the database in another process with the plain sqlite3 module, read, close."""
    out = subprocess.run(
        [sys.executable, "-c", _OTHER, str(db)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return list(json.loads(out.stdout))


def _drop_locks_in_this_process(db: Path) -> None:
    """Open and close the project's files here: the kernel drops our locks on them."""
    for name in (str(db), f"{db}-wal", f"{db}-shm"):
        if os.path.exists(name):
            with open(name, "rb") as fh:
                fh.read(16)


def _held_lock_inodes() -> set[int]:
    """Inodes this process holds POSIX locks on, read from /proc/locks (not via coder)."""
    pid = str(os.getpid())
    with open("/proc/locks", encoding="ascii") as fh:
        rows = [line.split() for line in fh]
    return {
        int(r[5].rsplit(":", 1)[1]) for r in rows if len(r) >= 8 and r[1] != "->" and r[4] == pid
    }


def _locks_held(db: Path) -> bool:
    held = _held_lock_inodes()
    return os.stat(db).st_ino in held and os.stat(f"{db}-shm").st_ino in held


@pytest.fixture
def project(tmp_path: Path) -> Project:
    project = Project.create(tmp_path / "study.scproj")
    project.add_raters(["R1"])
    yield project
    project.close()


def test_write_after_lost_locks_and_a_deleted_wal_reaches_the_disk(project: Project) -> None:
    db = project.store.location.path
    assert db is not None and _locks_held(db)
    _drop_locks_in_this_process(db)
    assert not _locks_held(db)
    # The other process now thinks it is the last user: it checkpoints and deletes the WAL.
    assert _other_process_reads(db) == ["R1"]
    assert not Path(f"{db}-wal").exists()

    project.add_raters(["R2"])  # nothing committed since the last check: no error due

    assert _other_process_reads(db) == ["R1", "R2"]
    assert _locks_held(db)
    project.add_raters(["R3"])
    assert _other_process_reads(db) == ["R1", "R2", "R3"]


def test_lost_locks_with_the_wal_still_in_place_are_taken_again(project: Project) -> None:
    db = project.store.location.path
    assert db is not None
    _drop_locks_in_this_process(db)
    assert not _locks_held(db)

    project.add_raters(["R2"])

    assert _locks_held(db)
    wal = os.stat(f"{db}-wal").st_ino
    # With the locks back, another process is not the last user and keeps the WAL.
    assert _other_process_reads(db) == ["R1", "R2"]
    assert os.stat(f"{db}-wal").st_ino == wal
    project.add_raters(["R3"])
    assert _other_process_reads(db) == ["R1", "R2", "R3"]


def test_commit_into_a_deleted_wal_is_reported_never_silent(project: Project) -> None:
    db = project.store.location.path
    assert db is not None
    from coder.store.models import RaterRow

    lost: StorageLostError | None = None
    try:
        with project.store.transaction() as s:
            # The locks go while the transaction runs (after the check before it), and
            # another process deletes the WAL this transaction then commits into.
            _drop_locks_in_this_process(db)
            assert _other_process_reads(db) == ["R1"]
            s.add(RaterRow(code="R2"))
    except StorageLostError as exc:
        lost = exc
    on_disk = _other_process_reads(db)
    assert on_disk == ["R1", "R2"] or lost is not None, "a committed write silently vanished"
    if lost is not None:
        message = str(lost)
        assert str(db) in message and "enter it again" in message
        assert "\n" not in message
    # The store is connected to the files on disk again: the next write lands.
    project.add_raters(["R3"])
    assert "R3" in _other_process_reads(db)
    assert _locks_held(db)


def test_opening_an_open_project_again_keeps_its_locks(project: Project) -> None:
    db = project.store.location.path
    assert db is not None
    for spelling in (db, Path(os.path.relpath(db)), db.parent / "." / db.name):
        with Project.open(spelling) as again:
            assert [r.code for r in again.raters()] == ["R1"]
        assert _locks_held(db), f"opening {spelling} dropped the open project's locks"
    from coder.store.engine import open_database_path

    assert open_database_path(db) == db
    assert open_database_path(f"{db}-wal") == db


def test_a_working_file_of_an_open_project_is_refused_without_opening_it(
    project: Project,
) -> None:
    db = project.store.location.path
    assert db is not None
    for suffix in ("-wal", "-shm"):
        with pytest.raises(ProjectError, match=f"working file of the open project {db}"):
            Project.open(f"{db}{suffix}")
        assert _locks_held(db)


def test_copying_an_open_project_keeps_its_locks_and_its_latest_writes(
    project: Project, tmp_path: Path
) -> None:
    from coder.store.engine import copy_database

    db = project.store.location.path
    assert db is not None
    project.add_raters(["R2"])  # still in the WAL: a file copy of the database would miss it
    copy_database(db, tmp_path / "copy.scproj")
    assert _locks_held(db)
    assert _other_process_reads(tmp_path / "copy.scproj") == ["R1", "R2"]


def test_closed_project_is_no_longer_registered(tmp_path: Path) -> None:
    from coder.store.engine import open_database_path

    path = tmp_path / "study.scproj"
    Project.create(path).close()
    assert open_database_path(path) is None


def test_an_open_project_file_chosen_as_audio_is_refused_without_reading_it(
    project: Project,
) -> None:
    from coder.audio import AudioError, probe_audio, sha256_file

    db = project.store.location.path
    assert db is not None
    for name in (str(db), f"{db}-wal", f"{db}-shm"):
        with pytest.raises(AudioError, match="file of the open project"):
            sha256_file(name)
        with pytest.raises(AudioError):
            probe_audio(name)
        assert _locks_held(db)


def test_stale_connections_that_cannot_close_safely_refuse_every_later_write(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where SQLite cannot be told to skip the close-time checkpoint, the stale
    connections stay open and the project takes no more writes, with the same sentence."""
    import coder.store.engine as storage

    monkeypatch.setattr(storage, "_skip_checkpoint_on_close", lambda *_args: False)
    db = project.store.location.path
    assert db is not None
    _drop_locks_in_this_process(db)
    assert _other_process_reads(db) == ["R1"]  # checkpoints and deletes the WAL
    for codes in (["R2"], ["R3"]):
        with pytest.raises(StorageLostError, match="close the app, open the project again"):
            project.add_raters(codes)
    assert _other_process_reads(db) == ["R1"]
