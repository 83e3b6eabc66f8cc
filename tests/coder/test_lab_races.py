"""Two leads writing the same new rows at once (issue 9, item 10).

On PostgreSQL both transactions read "not there yet" and both insert; the second is
refused with a unique-key violation. The race is made deterministic: a real second
connection inserts the row and keeps its transaction open, our writer (in a thread)
blocks on the unique index, then the other connection commits. The writer must retry,
find the row, and treat it as already there: no IntegrityError, no duplicate.
On SQLite the same two writers are serialised by the write lock; two real CLI
processes adding the same codes at once must both succeed.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from coder.importer import import_manifest
from coder.scales import load_builtin_scale
from coder.store.project import Project


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll a condition of another process (no Qt here); fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(0.02)


def _race(url: str, insert_sql: str, params: dict[str, Any], write: Callable[[], Any]) -> Any:
    """Run ``write`` while another connection holds an uncommitted insert of the same key."""
    outcome: dict[str, Any] = {}
    with (
        psycopg.connect(_libpq(url)) as other,
        psycopg.connect(_libpq(url), autocommit=True) as watch,
    ):
        other.execute(insert_sql, params)  # inside a transaction, not committed

        def run() -> None:
            try:
                outcome["result"] = write()
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                outcome["error"] = exc

        worker = threading.Thread(target=run)
        worker.start()

        def blocked() -> bool:
            row = watch.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            ).fetchone()
            return bool(row and row[0] >= 1)

        _wait_until(blocked, "our writer waits on the other's uncommitted row")
        other.commit()
        worker.join(timeout=60)
    assert "error" not in outcome, repr(outcome.get("error"))
    return outcome["result"]


@pytest.fixture
def lab(pg_url: str, tmp_path: Path) -> str:
    with Project.create(tmp_path / "lab.scproj", db_url=pg_url) as project:
        project.add_raters(["R1"])
    return pg_url


def test_a_rater_added_by_another_lead_at_the_same_moment_is_kept_once(lab: str) -> None:
    with Project.open(lab) as project:
        added = _race(
            lab,
            "INSERT INTO raters (code, name, active, created_at) VALUES (%(c)s, '', true, now())",
            {"c": "R5"},
            lambda: project.add_raters(["R5", "R6"]),
        )
        assert added == ["R6"]  # R5 was there after the retry: skipped, not an error
        assert [r.code for r in project.raters()] == ["R1", "R5", "R6"]


def test_a_scale_added_by_another_lead_at_the_same_moment_is_kept_once(lab: str) -> None:
    scale = load_builtin_scale("thabs")
    with Project.open(lab) as project:
        added = _race(
            lab,
            "INSERT INTO scales (scale_id, version, name, source, added_at) "
            "VALUES (%(id)s, %(v)s, %(n)s, %(s)s, now())",
            {"id": scale.id, "v": scale.version, "n": scale.name, "s": scale.source},
            lambda: project.add_scales([load_builtin_scale("ghes"), scale]),
        )
        assert added == [True, False]
        assert sorted(s.id for s in project.scales()) == ["ghes", "thabs"]


def test_a_session_imported_by_another_lead_at_the_same_moment_is_updated(
    lab: str, tmp_path: Path
) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("session_id,audio,patient\nS1,,P1\nS2,,P2\n", encoding="utf-8")
    with Project.open(lab) as project:
        report = _race(
            lab,
            "INSERT INTO sessions (session_key, patient, therapist, session_number, phase, "
            "date, metadata_json, audio_id, audio_status, audio_reason, training) VALUES "
            "('S1', 'P0', '', NULL, '', '', '{}', NULL, 'missing', '', false)",
            {},
            lambda: import_manifest(project, manifest),
        )
        assert (report.added, report.updated) == (1, 1)
        sessions = {s.key: s.patient for s in project.sessions()}
        assert sessions == {"S1": "P1", "S2": "P2"}


def test_two_cli_processes_adding_the_same_raters_on_sqlite_both_succeed(tmp_path: Path) -> None:
    path = tmp_path / "lab.scproj"
    Project.create(path).close()
    codes = [f"R{i}" for i in range(1, 40)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "coder", "raters", "add", str(path), *codes],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert all(err == "" for _out, err in results)
    with Project.open(path) as project:
        assert sorted(r.code for r in project.raters()) == sorted(codes)
