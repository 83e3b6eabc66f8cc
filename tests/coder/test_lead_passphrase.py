"""The lead passphrase of a single-file project (issue 14, point 5): a salted scrypt
hash in the settings, never the passphrase; the lead's commands need it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coder import lead_passphrase
from coder.errors import InputError, ProjectError
from coder.store.project import Project
from tests.cli import run_cli


def test_the_record_is_a_salted_scrypt_hash() -> None:
    one = lead_passphrase.make_record("correct horse")
    two = lead_passphrase.make_record("correct horse")
    assert one["kdf"] == "scrypt" and one["salt"] != two["salt"] and one["hash"] != two["hash"]
    assert "correct horse" not in json.dumps(one)
    assert lead_passphrase.verify(one, "correct horse")
    assert not lead_passphrase.verify(one, "correct horsE")
    assert not lead_passphrase.verify({**one, "salt": "zz"}, "correct horse")  # damaged
    assert lead_passphrase.verify(None, "anything")  # none set
    with pytest.raises(InputError, match="at least 8"):
        lead_passphrase.make_record("short")


def test_the_lead_commands_need_the_passphrase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "p.scproj"
    Project.create(path).close()
    monkeypatch.setenv(f"{lead_passphrase.PASSPHRASE_ENV}_NEW", "the lab's secret")
    result = run_cli("lead-passphrase", "set", path)
    assert result.returncode == 0, result.stderr
    assert "not a determined reader" in result.stdout
    monkeypatch.delenv(f"{lead_passphrase.PASSPHRASE_ENV}_NEW")
    with Project.open(path) as project:
        record = project.lead_passphrase_record()
        assert record is not None and lead_passphrase.verify(record, "the lab's secret")
        # The history says it was set; it holds neither the passphrase nor the hash.
        rows = [h for h in project.history() if h.entity_id == lead_passphrase.SETTING]
        assert [(h.action, h.old, h.new) for h in rows] == [("set", None, None)]
    result = run_cli("status", path)
    assert result.returncode != 0 and "lead passphrase" in result.stderr
    monkeypatch.setenv(lead_passphrase.PASSPHRASE_ENV, "wrong one!")
    result = run_cli("raters", "add", path, "R1")
    assert result.returncode != 0 and "not this project's lead passphrase" in result.stderr
    monkeypatch.setenv(lead_passphrase.PASSPHRASE_ENV, "the lab's secret")
    result = run_cli("raters", "add", path, "R1")
    assert result.returncode == 0, result.stderr
    result = run_cli("lead-passphrase", "clear", path)
    assert result.returncode == 0
    monkeypatch.delenv(lead_passphrase.PASSPHRASE_ENV)
    assert run_cli("status", path).returncode == 0


@pytest.mark.postgres
def test_a_lab_project_has_logins_instead(pg_url: str, tmp_path: Path) -> None:
    with Project.create(tmp_path / "lab.scproj", db_url=pg_url) as project:
        with pytest.raises(ProjectError, match="login per person"):
            project.set_lead_passphrase("the lab's secret")


def test_logins_are_lab_modes_only(tmp_path: Path) -> None:
    path = tmp_path / "p.scproj"
    Project.create(path).close()
    result = run_cli("lab", "add", path, "R1")
    assert result.returncode != 0 and "only in lab mode" in result.stderr
    with Project.open(path) as project:
        assert project.raters() == []  # refused before anything was added
