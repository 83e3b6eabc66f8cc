"""Start a throw-away PostgreSQL server on loopback for the test suite.

Used when $SESSION_CODER_TEST_PG_URL is not set (``.ci/run`` sets it after starting a
server itself). The server runs from a temporary data folder on a free port and is
stopped at the end of the session.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url


@dataclass
class PostgresServer:
    admin_url: str  # a libpq URL to the maintenance database (postgres)
    _stop: list[list[str]] = field(default_factory=list)
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
        for cmd in self._stop:
            subprocess.run(cmd, capture_output=True, check=False)
        for path in self._cleanup:
            shutil.rmtree(path, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def start_postgres() -> tuple[PostgresServer | None, str]:
    """Return a running server, or None and the reason there is none."""
    url = os.environ.get("SESSION_CODER_TEST_PG_URL")
    if url:
        try:
            with psycopg.connect(url, connect_timeout=5):
                pass
        except psycopg.Error as exc:
            return None, f"SESSION_CODER_TEST_PG_URL is set but unreachable: {exc}"
        return PostgresServer(url), ""
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        return (
            None,
            "initdb/pg_ctl not found (install postgresql, or set SESSION_CODER_TEST_PG_URL)",
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
    run = subprocess.run(
        prefix
        + [
            initdb,
            "-D",
            str(data / "db"),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        return None, f"initdb failed: {run.stderr.strip()[-300:]}"
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {data} -c fsync=off"
    run = subprocess.run(
        prefix
        + [pg_ctl, "-D", str(data / "db"), "-o", options, "-w", "-l", str(data / "log"), "start"],
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        return None, f"pg_ctl start failed: {run.stderr.strip()[-300:]}"
    server = PostgresServer(f"postgresql://postgres@127.0.0.1:{port}/postgres")
    server._stop.append(prefix + [pg_ctl, "-D", str(data / "db"), "-m", "immediate", "stop"])
    server._cleanup.append(data)
    return server, ""
