"""Opening, creating and migrating project databases (SQLite file or PostgreSQL).

A project is named by a path. The path is either a SQLite database (the default:
one file, nothing to install) or a small *pointer file* that holds the URL of a
PostgreSQL database (lab mode: every copy of the app opens the same pointer file or
the URL itself). The schema carries an Alembic revision; an older project is
migrated forward on open (a SQLite file is backed up first), a newer one is refused.

SQLite's locks are POSIX (fcntl) locks: they belong to the process, and closing *any*
descriptor of the file drops all of them, SQLite's included. Two guards follow from it.
This process never opens an open project's files itself (:func:`open_database_path`
tells; :func:`resolve_location` and backups use it), and after every write a project
store checks that its locks are still held and its write-ahead log is still the one on
disk (:class:`_LockGuard`), so lost locks are repaired or reported, never silent.
"""

from __future__ import annotations

import ctypes
import functools
import json
import logging
import os
import re
import sqlite3
import sys
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from coder.errors import ProjectDamagedError, ProjectError, StorageLostError
from coder.store import credentials, lab_security
from coder.store.faults import busy_timeout_ms, db_faults, translate_db_error
from coder.store.models import Base
from coder.store.open_files import open_database_path, register_open, same_file, unregister_open
from coder.store.text_checks import check_session_texts

log = logging.getLogger(__name__)

POINTER_KIND = "session-coder-project"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_MIGRATIONS = Path(__file__).parent / "migrations"
_SQLITE_IMMEDIATE = "session_coder_sqlite_immediate"


@dataclass(frozen=True)
class Location:
    """Where a project's data lives: a SQLAlchemy URL, and the path that named it."""

    url: str
    path: Path | None
    # SQLite only. Projects use WAL (readers work while a writer commits); an offline
    # rater package uses DELETE, so every acknowledged change is inside the one file
    # the rater sends back (in WAL it would wait in the "-wal" sidecar until a
    # checkpoint, and a package copied without it loses those edits).
    # None keeps the file's own mode: used to look into a file before deciding what it
    # is (coder.packages), since switching modes writes to the file.
    journal_mode: str | None = "WAL"

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith("postgresql")

    def display(self) -> str:
        """The location without any password, for messages and logs."""
        if self.is_postgres:
            return make_url(self.url).render_as_string(hide_password=True)
        return str(self.path)


def normalize_db_url(url: str) -> str:
    """Validate a lab-mode URL and pin the psycopg 3 driver.

    Raises:
        ProjectError: for anything but a postgresql:// URL with a host and database.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ProjectError(
            f"{url!r} is not a database URL; write postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
        ) from None
    if parsed.get_backend_name() != "postgresql":
        raise ProjectError(
            f"unsupported database {parsed.get_backend_name()!r}: lab mode uses "
            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE (a plain project is a file path)"
        )
    if not parsed.database:
        raise ProjectError("the PostgreSQL URL names no database: add /DATABASE at its end")
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def resolve_location(project: str | Path) -> Location:
    """Find where an existing project's data lives.

    Raises:
        ProjectError: the path does not exist or is not a Session Coder project.
    """
    text = str(project)
    if text.startswith("postgresql"):
        return Location(normalize_db_url(text), None)
    path = Path(project).expanduser()
    if not path.exists():
        raise ProjectError(f"no project at {path}; create one with: session-coder init {path}")
    if path.is_dir():
        raise ProjectError(f"{path} is a folder; a project is a file (e.g. {path / 'lab.scproj'})")
    open_here = open_database_path(path)
    if open_here is not None and not same_file(open_here, path):
        raise ProjectError(
            f"{path} is a working file of the open project {open_here}; open {open_here} itself"
        )
    if open_here is not None:
        # Already open in this process: it is a project database, and reading its
        # header would open and close it, which drops the locks of the open store.
        head = _SQLITE_MAGIC
    else:
        with path.open("rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
    if head == _SQLITE_MAGIC:
        return Location(f"sqlite:///{path.resolve()}", path)
    try:
        pointer = json.loads(path.read_text(encoding="utf-8"))
        if pointer.get("kind") != POINTER_KIND:
            raise ValueError
        url = normalize_db_url(pointer["db"])
        if make_url(url).password is not None:
            log.warning(
                "the pointer file %s holds a password: remove it (the login's password "
                "belongs in ~/.pgpass or the keyring)",
                path,
            )
        return Location(url, path)
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        raise ProjectError(
            f"{path} is not a Session Coder project (neither a project database nor a "
            "lab-mode pointer file)"
        ) from None


def copy_database(source: str | Path, target: str | Path) -> None:
    """Copy a SQLite database through SQLite itself (its online backup).

    A plain file copy would open and close the source, dropping this process's locks on
    it if a store has it open, and would miss what is still in its write-ahead log.
    SQLite's own connection shares the open store's lock bookkeeping and keeps its
    descriptors until no lock needs them, and the backup includes the log's content.

    Raises:
        ProjectError: the source is not a SQLite database or cannot be read.
    """
    source, target = Path(source), Path(target)
    try:
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(target)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise ProjectError(f"cannot copy {source}: {exc}") from None


# --------------------------------------------------------------------------- lock guard

# sqlite3_db_config option (sqlite3.h): do not checkpoint (nor delete the WAL) on close.
_SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE = 1006


class _Connections:
    """The DBAPI connections an engine has open (kept by its pool events)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open: dict[int, Any] = {}
        # Connections whose files were replaced on disk: closed when they come back.
        self.doomed: set[int] = set()

    def attach(self, engine: Engine) -> None:
        event.listen(engine, "connect", self._on_connect)
        event.listen(engine, "close", self._on_close)
        event.listen(engine, "close_detached", self._on_close_detached)
        event.listen(engine, "checkin", self._on_checkin)

    def _on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        with self.lock:
            self.open[id(dbapi_connection)] = dbapi_connection

    def _on_close(self, dbapi_connection: Any, _record: Any) -> None:
        self._on_close_detached(dbapi_connection)

    def _on_close_detached(self, dbapi_connection: Any) -> None:
        with self.lock:
            self.open.pop(id(dbapi_connection), None)
            self.doomed.discard(id(dbapi_connection))

    def _on_checkin(self, dbapi_connection: Any, record: Any) -> None:
        # A connection that was in use in another thread when the files were replaced:
        # close it now (it cannot checkpoint, see _LockGuard._abandon), so that no stale
        # connection keeps SQLite's per-file state alive for the fresh ones.
        if dbapi_connection is not None and id(dbapi_connection) in self.doomed:
            record.invalidate()

    def count(self) -> int:
        with self.lock:
            return len(self.open)

    def snapshot(self) -> list[Any]:
        with self.lock:
            return list(self.open.values())


def _skip_checkpoint_on_close(dbapi_connection: Any, db_path: Path) -> bool:
    """Make closing this SQLite connection leave the files alone; True when it worked.

    Closing the last connection of a process normally checkpoints the WAL into the
    database and deletes the WAL and -shm files. For a connection whose WAL was deleted
    by another process that is harmful twice over: it would copy its orphaned log over
    newer pages, and delete the path that may now be the other process's live WAL.
    """
    setconfig = getattr(dbapi_connection, "setconfig", None)  # Python 3.12+
    if setconfig is not None:
        try:
            setconfig(_SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, True)
            return True
        except sqlite3.Error:
            return False
    try:
        # Python 3.11 has no setconfig: call sqlite3_db_config on the connection's
        # handle, the first field after the object header of CPython's Connection.
        # The handle is checked by asking SQLite for the file name it has open.
        lib = ctypes.CDLL(sys.modules["_sqlite3"].__file__)
        handle = ctypes.c_void_p.from_address(id(dbapi_connection) + object.__basicsize__)
        if not handle.value:
            return True  # already closed: nothing left to checkpoint
        lib.sqlite3_db_filename.restype = ctypes.c_char_p
        lib.sqlite3_db_filename.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        name = lib.sqlite3_db_filename(handle, b"main")
        if not name or not same_file(Path(os.fsdecode(name)), db_path):
            return False
        done = ctypes.c_int(0)
        rc = lib.sqlite3_db_config(
            handle,
            ctypes.c_int(_SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE),
            ctypes.c_int(1),
            ctypes.byref(done),
        )
        return rc == 0 and done.value == 1
    except (OSError, AttributeError, KeyError, TypeError, ValueError):
        return False


def _held_lock_inodes() -> set[int] | None:
    """Inode numbers of the files this process holds POSIX locks on (Linux), or None.

    Read from /proc/locks: ``N: POSIX ADVISORY READ PID MAJ:MIN:INODE START END``;
    lines with ``->`` are requests still waiting, not held locks (their fifth field is
    not a pid, so the pattern skips them). Only the inode is compared: the device
    number there can differ from ``st_dev`` (overlay file systems), and our own pid
    already narrows it to files this process has locked. The file can list thousands
    of locks on a busy machine and is read around every write, so it is matched with
    one regular expression rather than split line by line.
    """
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return None
    # N: CLASS MODE TYPE <pid> MAJ:MIN:INODE (re keeps the compiled pattern cached)
    own = rf"^\d+:[ \t]+\S+[ \t]+\S+[ \t]+\S+[ \t]+{os.getpid()}[ \t]+\S*:(\d+)[ \t]"
    return {int(inode) for inode in re.findall(own, text, re.M)}


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


class _LockGuard:
    """Checks, around each write, that a WAL project still has its locks and its log.

    In WAL mode every open connection keeps a shared lock on the database file and on
    the "DMS" byte of the -shm file; that is how another process knows it is not the
    last user. If something in this process opens and closes one of those files (a
    file dialog sniffing types, a header read), the kernel drops the locks. The next
    process to close the project then checkpoints, deletes the -wal and -shm, and our
    connections go on committing into the deleted log: saved for us, gone for everyone.

    Before and after each write transaction: if the locks are held, remember the WAL's
    inode (nobody else may delete it while we hold them). If they are lost and the WAL
    on disk is still the remembered file, every commit is in it: reconnect, which takes
    the locks again. If the WAL was deleted or replaced, a commit since the last check
    may be in the orphaned file: close the connections without a checkpoint, reconnect
    to the files on disk, and raise :class:`StorageLostError` after a write.

    The check costs one read of /proc/locks and two ``stat`` calls. It is skipped off
    Linux and when this process's locks cannot be seen there right after opening.
    """

    def __init__(self, db_path: Path, engine: Engine, connections: _Connections) -> None:
        self.db = db_path
        self.wal = Path(f"{db_path}-wal")
        self.shm = Path(f"{db_path}-shm")
        self.engine = engine
        self.connections = connections
        self.lock = threading.Lock()
        self.wal_inode: int | None = None
        # Set when stale connections could not be closed safely: every write is refused.
        self.lost = False
        self.enabled = sys.platform.startswith("linux") and self._calibrate()

    def _calibrate(self) -> bool:
        """Whether this process's SQLite locks show in /proc/locks (with a connection open)."""
        with self.engine.connect():
            ok = self._locks_held()
            if ok:
                self.wal_inode = _inode(self.wal)
        if not ok:
            log.info("SQLite locks of %s are not visible in /proc/locks: not guarded", self.db)
        return ok

    def _locks_held(self) -> bool:
        held = _held_lock_inodes()
        if held is None:
            return False
        db, shm = _inode(self.db), _inode(self.shm)
        return db is not None and shm is not None and db in held and shm in held

    def before_write(self) -> None:
        """Repair lost locks before a write (nothing uncommitted can be lost yet)."""
        self._check(after_write=False)

    def after_write(self) -> None:
        """Check a committed write reached the files on disk.

        Raises:
            StorageLostError: the WAL was deleted or replaced while the locks were lost.
        """
        self._check(after_write=True)

    def _check(self, *, after_write: bool) -> None:
        if self.lost:
            raise StorageLostError(self._lost_message(retry=False, restart=True))
        if not self.enabled:
            return
        with self.lock:
            if self.connections.doomed and self.connections.count():
                # Stale connections are still in use elsewhere; a new one would share
                # SQLite's per-file state with them. Refuse until they are back.
                raise StorageLostError(self._lost_message(retry=True))
            if self.connections.count() == 0:
                # No connection open: the next one takes fresh locks on fresh files.
                self.wal_inode = None
                return
            if self._locks_held():
                self.wal_inode = _inode(self.wal)
                return
            wal = _inode(self.wal)
            if wal is not None and wal == self.wal_inode:
                log.warning("SQLite locks of %s were lost; reconnecting", self.db)
                self._reconnect()
                return
            log.warning("the WAL of %s was replaced while its locks were lost", self.db)
            self._abandon()
            if after_write:
                raise StorageLostError(self._lost_message(retry=False))

    def _reconnect(self) -> None:
        """Close every pooled connection and open one: fresh descriptors, fresh locks."""
        self.engine.dispose()
        with self.engine.connect():
            self.wal_inode = _inode(self.wal) if self._locks_held() else self.wal_inode

    def _abandon(self) -> None:
        """Drop connections whose WAL is gone, without letting them checkpoint."""
        stale = self.connections.snapshot()
        if not all(_skip_checkpoint_on_close(c, self.db) for c in stale):
            # They cannot be closed safely: keep them open for the life of the process
            # (closing one could delete another process's live WAL) and refuse writes.
            _KEPT_CONNECTIONS.extend(stale)
            self.lost = True
            self.engine.dispose(close=False)
            raise StorageLostError(self._lost_message(retry=False, restart=True))
        with self.connections.lock:
            self.connections.doomed.update(id(c) for c in stale)
        self.engine.dispose()  # closes those not in use; the others close on check-in
        self.wal_inode = None
        if not self.connections.doomed:
            with self.engine.connect():
                if self._locks_held():
                    self.wal_inode = _inode(self.wal)

    def _lost_message(self, *, retry: bool, restart: bool = False) -> str:
        what = (
            f"another program opened the project {self.db} while this app had lost its "
            "lock on the file"
        )
        if restart:
            todo = "close the app, open the project again and check it"
        elif retry:
            return f"{what}; the app is reconnecting, so try that change again in a moment"
        else:
            todo = "check it on screen and enter it again"
        return f"{what}, so your last change may not have been saved: {todo}"


# Connections that could not be closed safely (see _LockGuard._abandon); never closed.
_KEPT_CONNECTIONS: list[Any] = []

# The open-connection tracker of each SQLite engine made by _make_engine.
_ENGINE_CONNECTIONS: weakref.WeakKeyDictionary[Engine, _Connections] = weakref.WeakKeyDictionary()


def _make_engine(location: Location, login: Login | None = None) -> Engine:
    if location.is_postgres:
        url = make_url(location.url)
        connect_args: dict[str, Any] = {"connect_timeout": 10}
        if login is not None:
            url = url.set(username=login.user)
            if login.password is not None:
                # In the connection's arguments, not the URL: it never shows in a message.
                connect_args["password"] = login.password
        return create_engine(
            url.render_as_string(hide_password=False),
            pool_pre_ping=True,
            connect_args=connect_args,
        )
    engine = create_engine(location.url)
    connections = _Connections()
    connections.attach(engine)
    _ENGINE_CONNECTIONS[engine] = connections

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # The sqlite3 module would BEGIN only before INSERT/UPDATE/DELETE, so the reads
        # of a read-modify-write ran outside the transaction: two processes could both
        # read "no score yet" and both insert it. We turn that off and BEGIN ourselves
        # (_sqlite_begin), as the SQLAlchemy documentation recommends for pysqlite.
        dbapi_connection.isolation_level = None
        # WAL lets readers work while the single writer commits; synchronous=FULL makes
        # each commit durable at once, so a crash loses at most the keystroke in flight.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if location.journal_mode is not None:
            cursor.execute(f"PRAGMA journal_mode={location.journal_mode}")
        cursor.execute("PRAGMA synchronous=FULL")
        # How long a writer queues behind another program's write lock before the
        # user is told the project is busy (coder.store.faults); 10 s unless configured.
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms()}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Any) -> None:
        # Store.transaction() asks for IMMEDIATE: the write lock is taken before the
        # first read, so concurrent writers (another app or CLI on the same file)
        # queue up (busy_timeout) instead of deciding on stale reads. SQLite's
        # counterpart of PostgreSQL's SELECT ... FOR UPDATE. Reads stay DEFERRED.
        immediate = conn.get_execution_options().get(_SQLITE_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _alembic_config(connection: Any) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def _scripts() -> ScriptDirectory:
    """The migration scripts, read once per process: they do not change while it runs,
    and reading them (Alembic loads every revision file) cost about as much as the rest
    of opening a project, twice per open."""
    return ScriptDirectory(str(_MIGRATIONS))


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None
    return head


def create_newest_schema(conn: Any) -> None:
    """Give a new, empty SQLite database the newest schema and mark it as at the head
    revision (Alembic's recipe for a new database: ``create_all``, then ``stamp``).

    Running every migration from the first one cost about ten times as long, most of it
    batch-mode table copies, on every new project. The migrations still upgrade older
    files, and tests/coder/test_storage.py checks that migrating an empty file from the
    first revision gives this very schema (tables, columns, defaults, keys, indexes).
    Not for PostgreSQL: its migrations also create server-side functions and triggers
    (r0006's finished-coding lock) that the models do not describe.
    """
    Base.metadata.create_all(conn)
    MigrationContext.configure(conn).stamp(_scripts(), "head")


def _known_revisions() -> set[str]:
    return {rev.revision for rev in _scripts().walk_revisions()}


class Store:
    """An open project database: an engine, a session factory and schema checks."""

    def __init__(self, location: Location, engine: Engine) -> None:
        self.location = location
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # Text limits are checked on every flush, so SQLite refuses what PostgreSQL would.
        event.listen(self._sessions, "before_flush", check_session_texts)
        self._guard: _LockGuard | None = None
        self._login_kind: str | None = None
        self._open_key: tuple[int, int] | None = None
        self._closed = False
        connections = _ENGINE_CONNECTIONS.get(engine)
        db_path = _sqlite_path(location)
        if db_path is not None:
            self._open_key = register_open(db_path)
            if connections is not None:
                self._guard = _LockGuard(db_path, engine, connections)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any error.

        On SQLite it holds the database's write lock from its start (BEGIN IMMEDIATE),
        so its reads cannot go stale before its writes; on PostgreSQL, writers lock the
        rows they change (``SELECT ... FOR UPDATE`` where a read decides a write).

        Raises:
            DatabaseFault: a subclass naming the fault (busy, read-only, disk full,
                damaged, a race with another writer); the transaction is rolled back.
            TextLimitError: a text breaks a limit (coder.text_limits).
        """
        if self._guard is not None:
            self._guard.before_write()
        with (
            db_faults(self.location.display(), self.location.path),
            self._sessions.begin() as session,
        ):
            if not self.location.is_postgres:
                session.connection(execution_options={_SQLITE_IMMEDIATE: True})
            yield session
        # Committed, and the connection is back in the pool: did it reach the disk's files?
        if self._guard is not None:
            self._guard.after_write()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session; driver faults are raised as DatabaseFault subclasses."""
        with db_faults(self.location.display(), self.location.path), self._sessions() as session:
            yield session

    def login_kind(self) -> str | None:
        """In lab mode, who this login is: "owner", "lead", "rater" or "other"; None
        for a single-file project (asked once, then remembered)."""
        if not self.location.is_postgres:
            return None
        if self._login_kind is None:
            with db_faults(self.location.display()), self.engine.connect() as conn:
                self._login_kind = lab_security.login_kind(conn)
        return self._login_kind

    @contextmanager
    def admin(self) -> Iterator[Any]:
        """A lab-mode connection in one transaction, for managing logins and rights.

        Raises:
            ProjectError: a single-file project (it has no logins).
        """
        if not self.location.is_postgres:
            raise ProjectError(
                "logins and database rights exist only in lab mode (a project on a "
                "PostgreSQL server); a single-file project has none"
            )
        with db_faults(self.location.display()), self.engine.begin() as conn:
            yield conn

    def close(self) -> None:
        self.engine.dispose()
        if not self._closed:
            self._closed = True
            unregister_open(self._open_key)

    def schema_revision(self) -> str | None:
        with db_faults(self.location.display(), self.location.path), self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()


def _sqlite_path(location: Location) -> Path | None:
    """The database file of a SQLite location (None for PostgreSQL or in-memory)."""
    if location.is_postgres:
        return None
    database = make_url(location.url).database
    return Path(database) if database and database != ":memory:" else None


@dataclass(frozen=True)
class Login:
    """Who a lab-mode connection logs in as; the password only in memory (or None:
    libpq finds it in $PGPASSWORD or ~/.pgpass)."""

    user: str | None
    password: str | None = field(default=None, repr=False)


def _try_connect(
    location: Location, login: Login | None
) -> tuple[Engine | None, DatabaseError | None]:
    engine = _make_engine(location, login)
    try:
        with engine.connect():
            pass
    except DatabaseError as exc:  # OperationalError, and a damaged file's DatabaseError
        engine.dispose()
        return None, exc
    return engine, None


def _open_failure(location: Location, exc: DatabaseError) -> ProjectError:
    fault = translate_db_error(exc, location.display(), location.path)
    if isinstance(fault, ProjectError):
        return fault
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return ProjectError(f"cannot open the database at {location.display()}: {reason}")


def _connect_checked(location: Location) -> Engine:
    if location.is_postgres:
        return _connect_postgres(location)
    engine, error = _try_connect(location, None)
    if error is not None:
        raise _open_failure(location, error) from None
    assert engine is not None
    return engine


def _connect_postgres(location: Location) -> Engine:
    """Log in as the person using the app (see coder.store.credentials).

    Raises:
        ProjectError: the server cannot be reached, or no password was accepted.
    """
    credentials.check_pgpass()
    url = make_url(location.url)
    # $SESSION_CODER_LOGIN replaces a pointer file's default login, not one given in a URL.
    chosen = os.environ.get(credentials.LOGIN_ENV) if location.path is not None else None
    user = chosen or url.username
    given = url.password is not None
    login = Login(user, None if url.password is None else str(url.password))
    engine, error = _try_connect(location, login)
    if engine is not None:
        return engine
    assert error is not None
    if given or not credentials.is_auth_failure(str(error.orig or error)):
        raise _open_failure(location, error) from None
    host, port, database = url.host or "localhost", url.port or 5432, url.database or ""
    stored = credentials.keyring_password(host, port, database, user or "")
    if stored is not None:
        engine, error = _try_connect(location, Login(user, stored))
        if engine is not None:
            return engine
    ask = credentials.prompt()
    where = pointer_url(location.url, keep_login=False)
    retry = False
    # A pointer file's login is the owner's, a default: the prompt does not offer it.
    shown = user if (chosen or location.path is None) else None
    for _attempt in range(3):
        if ask is None:
            break
        answer = ask(credentials.LoginRequest(where, shown or "", retry, host, port, database))
        if answer is None:
            raise ProjectError(f"no password given for {where}; nothing was opened")
        user, password = answer
        shown = user
        engine, error = _try_connect(location, Login(user or None, password))
        if engine is not None:
            return engine
        assert error is not None
        if not credentials.is_auth_failure(str(error.orig or error)):
            raise _open_failure(location, error) from None
        retry = True
    raise ProjectError(
        f"the lab database {where} refused the login {user or '(none)'}: give its password "
        f"in ~/.pgpass (mode 600), the OS keyring, or when asked; the lab lead can hand out "
        "a new one with session-coder lab add"
    )


def create_store(location: Location) -> Store:
    """Create the schema in an empty database and return the open store.

    Raises:
        ProjectError: the database already holds tables, or cannot be reached.
    """
    engine = _connect_checked(location)
    existing = inspect(engine).get_table_names()
    if existing:
        engine.dispose()
        raise ProjectError(
            f"{location.display()} already holds a database; open it, or choose an empty one"
        )
    try:
        with engine.begin() as conn:
            if location.is_postgres:
                command.upgrade(_alembic_config(conn), "head")
                lab_security.install(conn)
            else:
                create_newest_schema(conn)
    except SQLAlchemyError as exc:
        engine.dispose()
        fault = translate_db_error(exc, location.display(), location.path)
        if fault is not None:
            raise fault from None
        raise ProjectError(f"cannot create the project at {location.display()}: {exc}") from None
    return Store(location, engine)


def open_store(location: Location) -> Store:
    """Open a project database, migrating an older schema forward.

    Raises:
        ProjectError: a newer or foreign database, or one that cannot be reached.
    """
    engine = _connect_checked(location)
    try:
        with db_faults(location.display(), location.path):
            _check_integrity(engine, location)
            with engine.connect() as conn:
                current = MigrationContext.configure(conn).get_current_revision()
                tables = set(inspect(conn).get_table_names())
    except BaseException:
        engine.dispose()
        raise
    if current is None:
        engine.dispose()
        kind = "an empty database" if not tables else "not a Session Coder project"
        raise ProjectError(f"{location.display()} is {kind}")
    if current not in _known_revisions():
        engine.dispose()
        raise ProjectError(
            f"{location.display()} was saved by a newer version of Session Coder (schema "
            f"{current}); update the app to open it"
        )
    if current != head_revision():
        if location.is_postgres and not _is_owner(engine):
            engine.dispose()
            raise ProjectError(
                f"{location.display()} needs an upgrade to this version's schema, which only "
                "its owner may run: ask the lab lead to open it once with the owner's login"
            )
        if location.path is not None and not location.is_postgres:
            backup = location.path.with_name(location.path.name + f".before-{head_revision()}.bak")
            # Through SQLite, not a file copy: the copy then holds what is still in the
            # WAL, and opening the file ourselves cannot drop any open store's locks.
            copy_database(location.path, backup)
        with db_faults(location.display(), location.path):
            _upgrade(engine, location)
    return Store(location, engine)


def _check_integrity(engine: Engine, location: Location) -> None:
    """Refuse a damaged SQLite project (or package) before anything writes to it.

    ``PRAGMA quick_check(1)`` reads every page once but skips the index-content
    checks of ``integrity_check``, so it costs about one sequential read of the file
    and stops at the first problem. PostgreSQL checks its own pages.

    Raises:
        ProjectDamagedError: the file is truncated or overwritten.
    """
    if location.is_postgres:
        return
    with engine.connect() as conn:
        rows = [str(r[0]) for r in conn.exec_driver_sql("PRAGMA quick_check(1)")]
    if rows != ["ok"]:
        raise ProjectDamagedError(
            f"the project file {location.display()} is damaged (its integrity check "
            "failed); nothing was changed: restore it from a backup copy (a .bak file "
            "beside it, or the lab's backup)"
        )


def _upgrade(engine: Engine, location: Location) -> None:
    """Migrate to the newest revision in one transaction."""
    with engine.connect() as conn:
        if not location.is_postgres:
            # SQLite migrations copy tables (batch mode); foreign keys must be off for
            # that, and the pragma only takes effect outside a transaction, so it goes
            # straight to the driver (SQLAlchemy would BEGIN first, see _sqlite_begin).
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        with conn.begin():
            if location.is_postgres:
                # The raters' views depend on the tables a migration may change; they
                # are made anew from the new tables right after.
                lab_security.drop_views(conn)
            command.upgrade(_alembic_config(conn), "head")
            if location.is_postgres:
                lab_security.install(conn)
        if not location.is_postgres:
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def _is_owner(engine: Engine) -> bool:
    with engine.connect() as conn:
        return lab_security.login_kind(conn) == "owner"


def pointer_url(url: str, *, keep_login: bool = True) -> str:
    """The URL a pointer file keeps: the server, database and login, no password."""
    parsed = make_url(url)
    # URL.set(password=None) keeps the password: build the URL anew without it.
    return URL.create(
        parsed.drivername,
        username=parsed.username if keep_login else None,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    ).render_as_string(hide_password=False)


def write_pointer_file(path: Path, url: str) -> None:
    """Write a lab-mode pointer file naming a PostgreSQL database (no password, mode 600).

    Raises:
        ProjectError: the file exists already.
    """
    payload = {"kind": POINTER_KIND, "db": pointer_url(url)}
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ProjectError(f"{path} already exists; choose a new file name") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(payload, indent=2) + "\n")
