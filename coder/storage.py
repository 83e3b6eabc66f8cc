"""Opening, creating and migrating project databases (SQLite file or PostgreSQL).

A project is named by a path. The path is either a SQLite database (the default:
one file, nothing to install) or a small *pointer file* that holds the URL of a
PostgreSQL database (lab mode: every copy of the app opens the same pointer file or
the URL itself). The schema carries an Alembic revision; an older project is
migrated forward on open (a SQLite file is backed up first), a newer one is refused.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from coder.db_faults import busy_timeout_ms, db_faults, translate_db_error
from coder.errors import ProjectDamagedError, ProjectError
from coder.text_limits import check_session_texts

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
    journal_mode: str = "WAL"

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
    with path.open("rb") as fh:
        head = fh.read(len(_SQLITE_MAGIC))
    if head == _SQLITE_MAGIC:
        return Location(f"sqlite:///{path.resolve()}", path)
    try:
        pointer = json.loads(path.read_text(encoding="utf-8"))
        if pointer.get("kind") != POINTER_KIND:
            raise ValueError
        return Location(normalize_db_url(pointer["db"]), path)
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        raise ProjectError(
            f"{path} is not a Session Coder project (neither a project database nor a "
            "lab-mode pointer file)"
        ) from None


def _make_engine(location: Location) -> Engine:
    if location.is_postgres:
        return create_engine(location.url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    engine = create_engine(location.url)

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
        cursor.execute(f"PRAGMA journal_mode={location.journal_mode}")
        cursor.execute("PRAGMA synchronous=FULL")
        # How long a writer queues behind another program's write lock before the
        # user is told the project is busy (coder.db_faults); 10 s unless configured.
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


def head_revision() -> str:
    script = ScriptDirectory(str(_MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    return head


def _known_revisions() -> set[str]:
    script = ScriptDirectory(str(_MIGRATIONS))
    return {rev.revision for rev in script.walk_revisions()}


class Store:
    """An open project database: an engine, a session factory and schema checks."""

    def __init__(self, location: Location, engine: Engine) -> None:
        self.location = location
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # Text limits are checked on every flush, so SQLite refuses what PostgreSQL would.
        event.listen(self._sessions, "before_flush", check_session_texts)

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
        with (
            db_faults(self.location.display(), self.location.path),
            self._sessions.begin() as session,
        ):
            if not self.location.is_postgres:
                session.connection(execution_options={_SQLITE_IMMEDIATE: True})
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session; driver faults are raised as DatabaseFault subclasses."""
        with db_faults(self.location.display(), self.location.path), self._sessions() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()

    def schema_revision(self) -> str | None:
        with db_faults(self.location.display(), self.location.path), self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()


def _connect_checked(location: Location) -> Engine:
    engine = _make_engine(location)
    try:
        with engine.connect():
            pass
    except DatabaseError as exc:  # OperationalError, and a damaged file's DatabaseError
        engine.dispose()
        fault = translate_db_error(exc, location.display(), location.path)
        if fault is not None:
            raise fault from None
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ProjectError(f"cannot open the database at {location.display()}: {reason}") from None
    return engine


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
            command.upgrade(_alembic_config(conn), "head")
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
        if location.path is not None and not location.is_postgres:
            backup = location.path.with_name(location.path.name + f".before-{head_revision()}.bak")
            engine.dispose()
            shutil.copy2(location.path, backup)
            engine = _make_engine(location)
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
            command.upgrade(_alembic_config(conn), "head")
        if not location.is_postgres:
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def write_pointer_file(path: Path, url: str) -> None:
    """Write a lab-mode pointer file naming a PostgreSQL database."""
    payload = {"kind": POINTER_KIND, "db": url}
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
