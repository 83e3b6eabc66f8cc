"""Lab-mode logins on a server that checks passwords (issue 14, point 4).

The pointer file holds no password; a person's password comes from ``~/.pgpass``, the
OS keyring (``keyring``) or a prompt, and a wrong one is refused, from ``psycopg`` (as
psql would) and from the command line, with a message that shows no password.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import psycopg
import pytest
from keyring.backend import KeyringBackend
from sqlalchemy.engine import make_url

from coder.errors import ProjectError
from coder.store import credentials
from coder.store.lab_security import Credential
from coder.store.project import Project
from tests.cli import run_cli
from tests.pg_server import PostgresServer

pytestmark = pytest.mark.postgres


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps passwords in memory (the API the OS ones implement)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.passwords.pop((service, username), None)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """An empty keyring of our own: the machine's (a desktop's, or none in CI) is never
    read or written by a test."""
    saved = keyring.get_keyring()
    ours = MemoryKeyring()
    keyring.set_keyring(ours)
    yield ours
    keyring.set_keyring(saved)


@pytest.fixture
def lab(
    postgres_with_passwords: PostgresServer, tmp_path: Path
) -> Iterator[tuple[Path, Credential]]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    postgres_with_passwords.create_database(name)
    pointer = tmp_path / "lab.scproj"
    with Project.create(pointer, db_url=postgres_with_passwords.url(name)) as project:
        rater = project.add_person(kind="rater", code="R1")
    yield pointer, rater
    postgres_with_passwords.drop_database(name)


@pytest.fixture
def no_prompt() -> Iterator[None]:
    saved = credentials.prompt()
    credentials.set_prompt(None)
    yield
    credentials.set_prompt(saved)


def _url(pointer: Path, credential: Credential, password: str | None) -> str:
    import json

    url = make_url(json.loads(pointer.read_text())["db"]).set(username=credential.login)
    if password is not None:
        url = url.set(password=password)
    return url.render_as_string(hide_password=False)


def test_the_pointer_file_names_no_password(lab: tuple[Path, Credential]) -> None:
    pointer, _rater = lab
    text = pointer.read_text()
    assert "owner-pw" not in text and "postgres@" in text


def test_a_wrong_password_is_refused_by_the_server_and_the_cli(
    lab: tuple[Path, Credential], no_prompt: None
) -> None:
    pointer, rater = lab
    libpq = make_url(_url(pointer, rater, "wrong-pw")).set(drivername="postgresql")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(libpq.render_as_string(hide_password=False)).close()
    result = run_cli("lab", "whoami", _url(pointer, rater, "wrong-pw"))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "wrong-pw" not in result.stderr + result.stdout
    # The right one works.
    result = run_cli("lab", "whoami", _url(pointer, rater, rater.password), "--json")
    assert result.returncode == 0 and '"rater": "R1"' in result.stdout, result.stderr


def test_without_a_password_anywhere_the_message_says_where_to_put_it(
    lab: tuple[Path, Credential], no_prompt: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    pointer, rater = lab
    monkeypatch.setenv(credentials.LOGIN_ENV, rater.login)
    with pytest.raises(ProjectError, match=r"refused the login .*~/\.pgpass") as info:
        Project.open(pointer)
    assert rater.password not in str(info.value)


def test_the_password_comes_from_pgpass(
    lab: tuple[Path, Credential], no_prompt: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pointer, rater = lab
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(rater.pgpass_line + "\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    monkeypatch.setenv(credentials.LOGIN_ENV, rater.login)
    with Project.open(pointer) as project:
        assert project.my_rater_code() == "R1"


def test_the_password_comes_from_the_keyring(
    lab: tuple[Path, Credential],
    no_prompt: None,
    monkeypatch: pytest.MonkeyPatch,
    memory_keyring: MemoryKeyring,
) -> None:
    pointer, rater = lab
    assert credentials.remember_in_keyring(
        rater.host, rater.port, rater.database, rater.login, rater.password
    )
    assert rater.password in memory_keyring.passwords.values()
    monkeypatch.setenv(credentials.LOGIN_ENV, rater.login)
    with Project.open(pointer) as project:
        assert project.login_kind() == "rater"


def test_the_prompt_is_asked_again_after_a_wrong_password(lab: tuple[Path, Credential]) -> None:
    pointer, rater = lab
    asked: list[Any] = []

    def prompt(request: credentials.LoginRequest) -> tuple[str, str]:
        asked.append(request)
        return rater.login, "nope" if len(asked) == 1 else rater.password

    saved = credentials.prompt()
    credentials.set_prompt(prompt)
    try:
        with Project.open(pointer) as project:
            assert project.my_rater_code() == "R1"
    finally:
        credentials.set_prompt(saved)
    assert [r.retry for r in asked] == [False, True]
    # The pointer's login (the owner's) is not offered; the typed one is, on a retry.
    assert [r.login for r in asked] == ["", rater.login]
    assert all("owner-pw" not in r.where and "@" not in r.where for r in asked)
