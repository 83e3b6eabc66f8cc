"""Start a throw-away PostgreSQL server on loopback for the test suite.

Used when $SESSION_CODER_TEST_PG_URL is not set (``.ci/run`` sets it after starting a
server itself). The server runs from a temporary data folder on a free port and is
stopped at the end of the session. ``postgres`` runs as a direct child of the test
process (not daemonized by ``pg_ctl``) with a parent-death signal, so a killed test
run (Ctrl+C twice, ``kill -9``, a CI timeout) never leaves a server behind.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from coder.lifetime import parent_death_preexec

# How long the server may take to accept connections after it starts.
START_TIMEOUT_S = 60.0


@dataclass
class PostgresServer:
    admin_url: str  # a libpq URL to the maintenance database (postgres)
    process: subprocess.Popen[bytes] | None = None  # the postmaster, when started here
    _cleanup: list[Path] = field(default_factory=list)

    def url(self, database: str) -> str:
        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(self.admin_url, autocommit=True)

    def create_database(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # SIGQUIT: PostgreSQL's immediate shutdown (a throw-away server has nothing
            # to flush).
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for path in self._cleanup:
            shutil.rmtree(path, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def start_postgres(password: str | None = None) -> tuple[PostgresServer | None, str]:
    """Return a running server, or None and the reason there is none.

    Args:
        password: start a server of our own (never $SESSION_CODER_TEST_PG_URL's) that
            checks passwords on TCP (scram-sha-256), the superuser's being this one;
            None: a server that trusts every login (the usual one).
    """
    url = os.environ.get("SESSION_CODER_TEST_PG_URL")
    if url and password is None:
        try:
            with psycopg.connect(url, connect_timeout=5):
                pass
        except psycopg.Error as exc:
            return None, f"SESSION_CODER_TEST_PG_URL is set but unreachable: {exc}"
        return PostgresServer(url), ""
    initdb = _bin("initdb")
    if initdb is None:
        return (
            None,
            "initdb not found (install postgresql, or set SESSION_CODER_TEST_PG_URL)",
        )
    prefix: list[str] = []
    data = Path(tempfile.mkdtemp(prefix="sc-pg-"))
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root; run it as the packaged 'postgres' user.
        if (
            shutil.which("runuser") is None
            or subprocess.run(["id", "postgres"], capture_output=True).returncode != 0
        ):
            return None, "running as root and there is no 'postgres' user to run the server"
        shutil.chown(data, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    auth = ["--auth=trust"]
    if password is not None:
        pwfile = data / "pwfile"
        pwfile.write_text(password + "\n")
        if prefix:
            shutil.chown(pwfile, "postgres")
        auth = ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}"]
    run = subprocess.run(
        prefix
        + [
            initdb,
            "-D",
            str(data / "db"),
            "-U",
            "postgres",
            *auth,
            "-E",
            "UTF8",
            "--no-sync",
        ],
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        return None, f"initdb failed: {run.stderr.strip()[-300:]}"
    postgres = _bin("postgres")
    if postgres is None:
        return None, "the postgres server binary was not found next to initdb"
    log = (data / "log").open("wb")
    try:
        process = subprocess.Popen(
            [postgres, "-D", str(data / "db"), "-c", "listen_addresses=127.0.0.1"]
            + ["-p", str(port), "-k", str(data), "-c", "fsync=off"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # PostgreSQL refuses to run as root: switch to its user in the child. The
            # switch happens before preexec_fn, which matters: changing the user id
            # clears the parent-death signal.
            **_as_postgres_user(),
            preexec_fn=parent_death_preexec(),
        )
    finally:
        log.close()
    login = "postgres" if password is None else f"postgres:{password}"
    server = PostgresServer(f"postgresql://{login}@127.0.0.1:{port}/postgres", process)
    server._cleanup.append(data)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with psycopg.connect(server.admin_url, connect_timeout=2):
                return server, ""
        except psycopg.OperationalError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            tail = (data / "log").read_text(errors="replace").strip()[-300:]
            return None, f"postgres did not start: {tail}"
        time.sleep(0.1)


def _as_postgres_user() -> dict[str, object]:
    """Popen arguments that run the child as the 'postgres' user when we are root."""
    if os.geteuid() != 0:
        return {}
    user = pwd.getpwnam("postgres")
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
