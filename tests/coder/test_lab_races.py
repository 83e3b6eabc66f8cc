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

import multiprocessing as mp
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from coder.errors import InputError
from coder.importer import import_manifest
from coder.scales import load_builtin_scale
from coder.store.lab_security import Credential
from coder.store.project import Project
from tests.factories import add_plain_sessions, session

ITEMS = ("specification", "rationale", "troubleshooting", "review", "praise")


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


# --------------------------------------------------------------------------- own logins


def _as(url: str, credential: Credential) -> str:
    return (
        make_url(url)
        .set(username=credential.login, password=credential.password)
        .render_as_string(hide_password=False)
    )


def test_two_leads_giving_out_the_same_login_at_once_get_a_clear_answer(lab: str) -> None:
    login = f"{make_url(lab).database}_same"
    with Project.open(lab) as project:

        def give_out() -> InputError | None:
            try:
                project.add_person(kind="rater", code="R1", login=login)
            except InputError as exc:  # what the lead is told: no IntegrityError
                return exc
            return None

        # The other lead's CREATE ROLE is uncommitted while ours waits on the name.
        refused = _race(lab, f'CREATE ROLE "{login}" LOGIN', {}, give_out)
        assert isinstance(refused, InputError) and "already has a login" in str(refused)
        # The other lead's login is there once; this one can choose another name.
        credential = project.add_person(kind="rater", code="R1", login=f"{login}2")
        assert credential.login == f"{login}2"


def _rater_machine(url: str, rater: str, start: Any, errors: Any) -> None:
    """A rater on their own login: score the whole queue, one transaction per change."""
    try:
        start.wait(timeout=60)
        with Project.open(url) as project:
            view = project.rater_view(rater)
            for entry in view.queue():
                for item in ITEMS:
                    view.set_value(entry.coding_id, item, _score(rater, entry.session_key, item))
                view.add_span(entry.coding_id, "duration", 1_000, 31_000)
                view.add_note(entry.coding_id, 5_000, f"{rater} on {entry.session_key}")
                view.submit(entry.coding_id)
    except BaseException:  # noqa: BLE001 - reported to the parent process
        errors.put(f"{rater}: {traceback.format_exc()}")


def _lead_machine(url: str, name: str, start: Any, errors: Any) -> None:
    """A lead on their own login: raters, sessions, assignments and settings, at once
    with the other lead (the same new rater codes) and the raters."""
    try:
        start.wait(timeout=60)
        with Project.open(url) as project:
            for i in range(6):
                project.add_raters([f"N{i}", f"{name}{i}"])
                add_plain_sessions(project, [session(f"{name}-X{i}")])
                project.add_coding(f"{name}-X{i}", f"N{i}", "thabs")
                project.update_setting(
                    "lab_notes", lambda old, i=i: {**(old or {}), f"{name}{i}": i}
                )
    except BaseException:  # noqa: BLE001 - reported to the parent process
        errors.put(f"{name}: {traceback.format_exc()}")


def _score(rater: str, key: str, item: str) -> int:
    return (int(rater[1:]) + int(key[1:]) + ITEMS.index(item)) % 5


def test_raters_and_two_leads_on_their_own_logins_at_once_lose_nothing(lab: str) -> None:
    raters = ["R1", "R2", "R3"]
    with Project.open(lab) as project:
        project.add_scale(load_builtin_scale("thabs"))
        add_plain_sessions(project, [session(f"S{i}") for i in range(6)])
        people = {r: project.add_person(kind="rater", code=r) for r in raters}
        database = make_url(lab).database
        leads = {
            name: project.add_person(kind="lead", login=f"{database}_{name.lower()}")
            for name in ("A", "B")
        }
        # Each session is coded by two raters: every rater's partner writes beside them.
        for k, rater in enumerate(raters):
            for j in range(4):
                project.add_coding(f"S{(2 * k + j) % 6}", rater, "thabs", queue_position=j)
    ctx = mp.get_context("spawn")
    jobs = [(_rater_machine, _as(lab, people[r]), r) for r in raters]
    jobs += [(_lead_machine, _as(lab, leads[n]), n) for n in leads]
    start = ctx.Barrier(len(jobs))
    errors = ctx.Queue()
    workers = [ctx.Process(target=t, args=(url, who, start, errors)) for t, url, who in jobs]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=180)
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    assert not problems, "\n".join(problems)
    assert [w.exitcode for w in workers] == [0] * len(workers)
    with Project.open(lab) as project:
        for rater in raters:
            queue = project.rater_view(rater).queue()
            assert len(queue) == 4 and {q.state for q in queue} == {"submitted"}
            for entry in queue:
                values = project.rater_view(rater).coding(entry.coding_id).values
                assert {i: values[i] for i in ITEMS} == {
                    i: _score(rater, entry.session_key, i) for i in ITEMS
                }
        codes = [r.code for r in project.raters()]
        assert len(codes) == len(set(codes))
        assert {f"N{i}" for i in range(6)} | {f"A{i}" for i in range(6)} <= set(codes)
        assert project.settings()["lab_notes"] == {
            f"{n}{i}": i for n in ("A", "B") for i in range(6)
        }
        assert {s.key for s in project.sessions()} >= {f"{n}-X{i}" for n in "AB" for i in range(6)}
        history = [(h.actor, h.login) for h in project.history()]
    # Every row a rater or a lead wrote carries that person's login, set by the server.
    for rater in raters:
        assert {login for actor, login in history if actor == rater} == {people[rater].login}
    lead_logins = {login for actor, login in history if actor == "lead"}
    assert {leads["A"].login, leads["B"].login} <= lead_logins
