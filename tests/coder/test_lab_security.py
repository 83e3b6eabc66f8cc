"""Lab mode keeps raters blind by the database, not by the app (issue 14).

A real PostgreSQL server; each person logs in with their own login. Every attempt a
curious rater could make with raw SQL (``psycopg``, as from psql) to read another
rater's rows, the sessions' metadata or the history, or to change anything not
theirs, must be refused by PostgreSQL itself. The lead sees everything; nobody but
the owner changes the history.
"""

from __future__ import annotations

import stat
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from coder.errors import ProjectError
from coder.scales import load_builtin_scale
from coder.store.lab_security import Credential
from coder.store.models import Base
from coder.store.project import Project
from tests.cli import run_cli
from tests.factories import add_plain_sessions, session
from tests.pg_server import PostgresServer

pytestmark = pytest.mark.postgres


@dataclass
class Lab:
    url: str  # the owner's URL (the test server's superuser)
    pointer: Path
    r1: Credential
    r2: Credential
    lead: Credential
    shared: int  # S1's id: coded by R1 and R2 (double-coded)
    r1_coding: int  # R1's coding of S1
    r2_coding: int  # R2's coding of S1
    r2_only: int  # R2's coding of S2


def _libpq(url: str, credential: Credential | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if credential is not None:
        parsed = parsed.set(username=credential.login, password=credential.password)
    return parsed.render_as_string(hide_password=False)


def _as(lab: Lab, credential: Credential) -> psycopg.Connection:
    return psycopg.connect(_libpq(lab.url, credential), autocommit=True)


def _app_url(lab: Lab, credential: Credential) -> str:
    return (
        make_url(lab.url)
        .set(username=credential.login, password=credential.password)
        .render_as_string(hide_password=False)
    )


@pytest.fixture
def lab(pg_url: str, tmp_path: Path) -> Lab:
    pointer = tmp_path / "lab.scproj"
    with Project.create(pointer, db_url=pg_url) as project:
        project.add_scale(load_builtin_scale("thabs"))
        project.set_setting("certification_overrides", {"thabs": {"R2": {"allow": False}}})
        add_plain_sessions(
            project,
            [
                session(
                    "S1",
                    patient="P-secret",
                    therapist="T-secret",
                    date="2024-01-02",
                    metadata={"site": "Clinic-secret", "window_offset": "1:30"},
                ),
                session("S2", patient="P2", therapist="T2", metadata={"window_offset": "20"}),
            ],
        )
        r1 = project.add_person(kind="rater", code="R1")
        r2 = project.add_person(kind="rater", code="R2")
        lead = project.add_person(kind="lead", login=f"{make_url(pg_url).database}_boss")
        c1 = project.add_coding("S1", "R1", "thabs", role="primary")
        c2 = project.add_coding("S1", "R2", "thabs", role="second")
        c3 = project.add_coding("S2", "R2", "thabs")
        project.rater_view("R2").set_value(c2, "praise", 4)
        project.rater_view("R2").add_note(c2, 1_000, "R2 thinks S1 is hard")
        shared = next(s.id for s in project.sessions() if s.key == "S1")
    return Lab(pg_url, pointer, r1, r2, lead, shared, c1, c2, c3)


def _refused(conn: psycopg.Connection, sql: str, params: object = None) -> str:
    """Run ``sql``; it must be refused by the server. Returns the server's message."""
    with pytest.raises(psycopg.Error) as info:
        conn.execute(sql, params)  # type: ignore[arg-type]
    return str(info.value)


def _rows(conn: psycopg.Connection, sql: str, params: object = None) -> list[tuple[object, ...]]:
    return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def test_a_rater_reads_only_their_own_codings_and_sessions(lab: Lab) -> None:
    with _as(lab, lab.r1) as conn:
        assert _rows(conn, "SELECT id FROM codings") == [(lab.r1_coding,)]
        assert _rows(conn, "SELECT id FROM public.codings") == [(lab.r1_coding,)]
        # The partner's scores and notes on the shared session: not there.
        assert _rows(conn, "SELECT * FROM ratings") == []
        assert _rows(conn, "SELECT * FROM public.notes") == []
        assert _rows(conn, "SELECT * FROM ratings WHERE coding_id = %s", (lab.r2_coding,)) == []
        assert _rows(conn, "SELECT session_key FROM sessions") == [("S1",)]
        assert _rows(conn, "SELECT code FROM raters") == [("R1",)]
        # The view's blinded columns are empty; the table's are refused.
        # Of the metadata, only where the coding window lies (as a package carries it).
        assert _rows(conn, "SELECT patient, therapist, date, metadata_json FROM sessions") == [
            ("", "", "", '{"window_offset": "1:30"}')
        ]
        assert _rows(conn, "SELECT public.sc_rater_metadata(2)") == [(None,)]  # not theirs
        assert _rows(conn, "SELECT role, plan_id FROM codings") == [("", None)]
        for column in ("patient", "therapist", "date", "metadata_json", "training", "phase"):
            assert "permission denied" in _refused(conn, f"SELECT {column} FROM public.sessions")
        assert "permission denied" in _refused(conn, "SELECT * FROM public.sessions")
        for column in ("role", "plan_id", "recode_of"):
            assert "permission denied" in _refused(conn, f"SELECT {column} FROM public.codings")


def test_a_rater_cannot_read_the_history_plans_or_anything_of_the_lead(lab: Lab) -> None:
    with _as(lab, lab.r1) as conn:
        for sql in (
            "SELECT * FROM history",
            "SELECT actor, old, new FROM public.history",
            "SELECT * FROM plans",
            "SELECT * FROM rater_pools",
            "SELECT * FROM consensus_scores",
            "SELECT * FROM rater_packages",
        ):
            assert "permission denied" in _refused(conn, sql), sql
        # Every other table, also one a later revision adds, is closed to a rater.
        open_to_raters = {"scales", "raters", "audio_files", "ratings", "notes", "spans"}
        for table in sorted(set(Base.metadata.tables) - open_to_raters):
            assert "permission denied" in _refused(conn, f"SELECT * FROM public.{table}"), table
        # The project's name, not its settings (e.g. other raters' certification).
        assert _rows(conn, "SELECT name, settings_json FROM project") == [("lab", "{}")]
        assert "permission denied" in _refused(conn, "SELECT settings_json FROM public.project")
        # Nor through the planner's statistics of the tables with row security.
        stats = "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = 'public'"
        with psycopg.connect(_libpq(lab.url), autocommit=True) as owner:
            owner.execute("ANALYZE")
            assert "ratings" in {t for (t,) in _rows(owner, stats)}
        secured = {"ratings", "notes", "spans", "codings", "sessions", "history", "raters"}
        assert {t for (t,) in _rows(conn, stats)}.isdisjoint(secured)
        # Only the ids of history rows this login wrote (none yet), for INSERT ... RETURNING.
        assert _rows(conn, "SELECT id FROM history") == []
        # Its role cannot be switched to the lead's.
        groups = make_url(lab.url).database
        _refused(conn, f'SET ROLE "{groups}_lead"')


def test_a_rater_cannot_change_anything_not_theirs(lab: Lab) -> None:
    with _as(lab, lab.r1) as conn:
        # Another rater's rows: invisible, so an UPDATE or DELETE touches nothing...
        cur = conn.execute("UPDATE ratings SET value = 0 WHERE coding_id = %s", (lab.r2_coding,))
        assert cur.rowcount == 0
        cur = conn.execute(
            "UPDATE public.codings SET state = 'submitted' WHERE id = %s", (lab.r2_only,)
        )
        assert cur.rowcount == 0
        # ...and writing into their coding, deleting or re-assigning is refused outright.
        assert "row-level security" in _refused(
            conn,
            "INSERT INTO ratings (coding_id, item_id, value, updated_at) VALUES (%s, 'praise', 1, now())",
            (lab.r2_coding,),
        )
        assert "row-level security" in _refused(
            conn,
            "INSERT INTO notes (coding_id, position_ms, text, deleted) VALUES (%s, 1, 'x', false)",
            (lab.r2_coding,),
        )
        for sql in (
            "DELETE FROM ratings",
            "DELETE FROM public.codings",
            "DELETE FROM notes",
            "DELETE FROM spans",
            "UPDATE public.codings SET rater_id = rater_id",
            "UPDATE public.codings SET role = 'primary'",
            "UPDATE public.sessions SET patient = 'x'",
            "UPDATE raters SET code = 'X'",
            "UPDATE raters SET login = NULL",
            "INSERT INTO raters (code, name, active, created_at) VALUES ('R9', '', true, now())",
            "INSERT INTO codings (session_id, rater_id, scale_pk, role, queue_position, state, "
            "uncodable_reason, uncodable_text, playhead_ms, reopen_allowed) "
            "SELECT 2, rater_id, scale_pk, 'primary', 0, 'not_started', '', '', 0, false FROM codings",
            "UPDATE project SET settings_json = '{}'",
            "UPDATE scales SET name = 'x'",
            "UPDATE history SET actor = 'x'",
            "DELETE FROM history",
            "TRUNCATE history",
            "DROP TABLE ratings",
            "ALTER TABLE ratings DISABLE ROW LEVEL SECURITY",
            "CREATE TABLE public.mine (x int)",
        ):
            _refused(conn, sql)
        # A history row in another rater's coding is refused too.
        assert "row-level security" in _refused(
            conn,
            "INSERT INTO history (at, actor, action, entity, entity_id, coding_id, field) "
            "VALUES (now(), 'R2', 'set', 'rating', 'x', %s, 'praise')",
            (lab.r2_coding,),
        )
    with Project.open(lab.url) as project:
        state = project.rater_view("R2").coding(lab.r2_coding)
        assert state.values["praise"] == 4 and state.state == "in_progress"
        assert [n.text for n in state.notes] == ["R2 thinks S1 is hard"]


def test_the_lead_sees_and_changes_everything_but_the_history(lab: Lab) -> None:
    with _as(lab, lab.lead) as conn:
        assert len(_rows(conn, "SELECT id FROM codings")) == 3
        assert _rows(conn, "SELECT patient FROM sessions WHERE session_key = 'S1'") == [
            ("P-secret",)
        ]
        assert _rows(conn, "SELECT value FROM ratings") == [(4.0,)]
        assert len(_rows(conn, "SELECT actor, old, new FROM history")) > 5
        conn.execute("UPDATE sessions SET phase = 'I' WHERE session_key = 'S2'")
        assert "permission denied" in _refused(conn, "UPDATE history SET actor = 'x'")
        _refused(conn, "DELETE FROM history")
        _refused(conn, "TRUNCATE history")
        _refused(conn, "DROP TRIGGER sc_history_append_only ON history")
    # Even a right granted by mistake does not open the history: the trigger refuses.
    database = make_url(lab.url).database
    with psycopg.connect(_libpq(lab.url), autocommit=True) as owner:
        owner.execute(f'GRANT UPDATE, DELETE, TRUNCATE ON history TO "{database}_lead"')
        owner.execute(f'CREATE POLICY oops ON history FOR ALL TO "{database}_lead" USING (true)')
    with _as(lab, lab.lead) as conn:
        assert "append-only" in _refused(conn, "UPDATE history SET actor = 'x'")
        assert "append-only" in _refused(conn, "DELETE FROM history")
        assert "append-only" in _refused(conn, "TRUNCATE history")
    with Project.open(_app_url(lab, lab.lead)) as project:
        assert project.login_kind() == "lead"
        assert {s.patient for s in project.sessions()} == {"P-secret", "P2"}
        assert project.status().codings == 3


def test_history_rows_carry_the_login_set_by_the_server(lab: Lab) -> None:
    with _as(lab, lab.r1) as conn:
        conn.execute(
            "INSERT INTO history (at, actor, action, entity, entity_id, coding_id, field, login) "
            "VALUES (now(), 'R2', 'set', 'rating', 'x', %s, 'praise', 'someone_else')",
            (lab.r1_coding,),
        )
    with psycopg.connect(_libpq(lab.url), autocommit=True) as owner:
        rows = _rows(
            owner, "SELECT actor, login FROM history WHERE coding_id = %s", (lab.r1_coding,)
        )
        # The client claimed another actor and login: the login is the server's word.
        assert ("R2", lab.r1.login) in rows
        owner_login = make_url(lab.url).username
        assert {
            login for (login,) in _rows(owner, "SELECT login FROM history WHERE actor = 'lead'")
        } == {owner_login}
        # The owner alone may still correct the history (e.g. a migration).
        owner.execute("UPDATE history SET field = field WHERE coding_id = %s", (lab.r1_coding,))


def test_the_raters_app_works_through_what_the_rater_may_see(lab: Lab) -> None:
    with Project.open(_app_url(lab, lab.r1)) as project:
        assert project.login_kind() == "rater"
        assert project.my_rater_code() == "R1"
        assert [r.code for r in project.raters()] == ["R1"]
        view = project.rater_view("R1")
        [entry] = view.queue()
        assert entry.coding_id == lab.r1_coding and entry.session_key == "S1"
        for item in ("specification", "rationale", "troubleshooting", "review", "praise"):
            view.set_value(entry.coding_id, item, 3)
        view.set_value(entry.coding_id, "praise", 2)
        note = view.add_note(entry.coding_id, 2_000, "mine")
        view.update_note(entry.coding_id, note, text="mine, edited")
        span = view.add_span(entry.coding_id, "duration", 0, 60_000)
        view.update_span(entry.coding_id, span, end_ms=30_000)
        view.set_playhead(entry.coding_id, 12_000)
        view.record_window(entry.coding_id, inside=False, position_ms=12_000)  # left on purpose
        view.submit(entry.coding_id)
        state = view.coding(entry.coding_id)
        assert state.state == "submitted" and state.values["praise"] == 2
        assert state.window_offset_ms == 90_000
        assert state.values["duration"] == 30.0
        # Another rater's coding, through the app: refused.
        with pytest.raises(Exception, match="not|no "):
            project.rater_view("R2")
    with Project.open(lab.url) as project:
        history = project.history(coding_id=lab.r1_coding)
        assert {h.actor for h in history if h.action != "assign"} == {"R1"}
        assert [h.new for h in history if h.action == "leave_window"] == [{"position_ms": 12_000}]


def test_the_cli_with_a_raters_login_is_refused(lab: Lab, tmp_path: Path) -> None:
    url = _app_url(lab, lab.r1)
    for args in (
        ["status", url, "--json"],
        ["raters", "list", url],
        ["export", url, "--format", "csv", "--out", str(tmp_path / "x.csv")],
        ["lab", "add", url, "R7"],
        ["lab", "people", url],
    ):
        result = run_cli(*args)
        assert result.returncode != 0, args
        assert "rater's" in result.stderr and "Traceback" not in result.stderr, result.stderr
        assert lab.r1.password not in result.stderr + result.stdout
        assert "P-secret" not in result.stdout and "S2" not in result.stdout
    result = run_cli("lab", "whoami", url, "--json")
    assert result.returncode == 0 and '"rater": "R1"' in result.stdout
    # The lead's login does lead work from the command line.
    result = run_cli("lab", "people", _app_url(lab, lab.lead), "--json")
    assert result.returncode == 0, result.stderr
    assert lab.r2.login in result.stdout and lab.r2.password not in result.stdout


def test_the_pointer_file_holds_no_password_and_is_private(pg_url: str, tmp_path: Path) -> None:
    secret_url = (
        make_url(pg_url).set(password="hunter2-secret").render_as_string(hide_password=False)
    )
    pointer = tmp_path / "p.scproj"
    with Project.create(pointer, db_url=secret_url):
        pass
    text = pointer.read_text()
    assert "hunter2" not in text and "session-coder-project" in text
    assert stat.S_IMODE(pointer.stat().st_mode) == 0o600


def test_a_pgpass_others_can_read_is_refused_clearly(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(lab.r1.pgpass_line + "\n")
    pgpass.chmod(0o644)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    result = run_cli("lab", "whoami", lab.pointer)
    assert result.returncode != 0 and "chmod 600" in result.stderr
    assert lab.r1.password not in result.stderr
    pgpass.chmod(0o600)
    monkeypatch.setenv("SESSION_CODER_LOGIN", lab.r1.login)
    result = run_cli("lab", "whoami", lab.pointer, "--json")
    assert result.returncode == 0 and '"rater": "R1"' in result.stdout, result.stderr


def test_the_readme_steps_with_an_owner_that_is_not_a_superuser(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """The administrator creates an owner (CREATEROLE) and its database; the owner
    creates the project and a lead; the lead adds a rater; each works as themselves."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    owner = f"{name}_owner"
    with psycopg.connect(postgres.admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{owner}" LOGIN CREATEROLE')
        admin.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
    try:
        owner_url = (
            make_url(postgres.url(name)).set(username=owner).render_as_string(hide_password=False)
        )
        pointer = tmp_path / "lab.scproj"
        with Project.create(pointer, db_url=owner_url) as project:
            assert project.login_kind() == "owner"
            project.add_scale(load_builtin_scale("thabs"))
            add_plain_sessions(project, [session("S1", patient="P1")])
            lead = project.add_person(kind="lead", login=f"{name}_maria")
        lead_url = (
            make_url(owner_url).set(username=lead.login).render_as_string(hide_password=False)
        )
        with Project.open(lead_url) as project:
            assert project.login_kind() == "lead"
            rater = project.add_person(kind="rater", code="AK")
            project.add_coding("S1", "AK", "thabs")
            assert [p["login"] for p in project.people()] == sorted([lead.login, rater.login])
        rater_url = (
            make_url(owner_url).set(username=rater.login).render_as_string(hide_password=False)
        )
        with Project.open(rater_url) as project:
            view = project.rater_view("AK")
            [entry] = view.queue()
            view.set_value(entry.coding_id, "praise", 3)
        with Project.open(lead_url) as project:
            [entry] = project.history(limit=None)[-1:]
            assert entry.actor == "AK"
            project.remove_person(rater.login)
            assert [p["active"] for p in project.people() if p["login"] == rater.login] == [False]
        with pytest.raises(ProjectError):
            Project.open(rater_url)
    finally:
        postgres.drop_database(name)


def test_an_older_lab_project_is_migrated_and_secured_by_its_owner(
    pg_url: str, tmp_path: Path
) -> None:
    from alembic import command
    from sqlalchemy import create_engine

    from coder.store.engine import _alembic_config, head_revision, normalize_db_url

    engine = create_engine(normalize_db_url(pg_url))
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "r0003")
        conn.exec_driver_sql(
            "INSERT INTO project (id, name, created_at, settings_json) VALUES (1, 'old', now(), '{}')"
        )
    engine.dispose()
    with Project.open(pg_url) as project:
        assert project.store.schema_revision() == head_revision()
        project.add_scale(load_builtin_scale("thabs"))
        add_plain_sessions(project, [session("S1", patient="P1")])
        rater = project.add_person(kind="rater", code="R1")
        project.add_coding("S1", "R1", "thabs")
        # Opening again (as the owner) re-applies the rights without harm.
        project.secure()
    with Project.open(pg_url) as project:
        pass
    with _as(Lab(pg_url, tmp_path, rater, rater, rater, 0, 0, 0, 0), rater) as conn:
        assert _rows(conn, "SELECT session_key, patient FROM sessions") == [("S1", "")]
        assert "permission denied" in _refused(conn, "SELECT * FROM history")


def _submitted_r1_coding(lab: Lab) -> tuple[int, int, int]:
    """R1 scores, notes, marks a span and submits through the app (as R1's login).

    Returns the ids of the note and the span."""
    with Project.open(_app_url(lab, lab.r1)) as project:
        view = project.rater_view("R1")
        for item in ("specification", "rationale", "troubleshooting", "review", "praise"):
            view.set_value(lab.r1_coding, item, 3)
        note = view.add_note(lab.r1_coding, 2_000, "mine")
        span = view.add_span(lab.r1_coding, "duration", 0, 60_000)
        view.submit(lab.r1_coding)
    return lab.r1_coding, note, span


# Each change a rater may not make to their own finished coding with raw SQL.
_LOCKED_CHANGES = (
    "UPDATE ratings SET value = 1 WHERE coding_id = %(c)s",
    "INSERT INTO ratings (coding_id, item_id, value, updated_at) VALUES (%(c)s, 'extra', 1, now())",
    "DELETE FROM ratings WHERE coding_id = %(c)s",
    "UPDATE notes SET text = 'changed' WHERE id = %(note)s",
    "INSERT INTO notes (coding_id, position_ms, text, deleted) VALUES (%(c)s, 5, 'x', false)",
    "UPDATE spans SET end_ms = 1 WHERE id = %(span)s",
    "UPDATE spans SET deleted = true WHERE id = %(span)s",
    "INSERT INTO spans (coding_id, item_id, start_ms, end_ms, deleted) "
    "VALUES (%(c)s, 'duration', 0, 5, false)",
    "UPDATE codings SET state = 'in_progress' WHERE id = %(c)s",
    "UPDATE public.codings SET state = 'uncodable', uncodable_reason = 'x' WHERE id = %(c)s",
    "UPDATE public.codings SET uncodable_text = 'x' WHERE id = %(c)s",
    "UPDATE public.codings SET submitted_at = now() WHERE id = %(c)s",
    "UPDATE public.codings SET reopen_allowed = true WHERE id = %(c)s",
)


def test_a_rater_cannot_change_their_own_finished_coding(lab: Lab) -> None:
    coding, note, span = _submitted_r1_coding(lab)
    ids = {"c": coding, "note": note, "span": span}
    scores = "SELECT item_id, value, text FROM ratings WHERE coding_id = %s ORDER BY item_id"
    with psycopg.connect(_libpq(lab.url), autocommit=True) as owner:
        before = _rows(owner, scores, (coding,))
    assert ("praise", 3.0, None) in before
    with _as(lab, lab.r1) as conn:
        for sql in _LOCKED_CHANGES:
            message = _refused(conn, sql, ids)
            assert "only the lead" in message or "permission denied" in message, sql
        # Reopening it themselves, by any road, is refused by the server.
        assert "only the lead may allow reopening" in _refused(
            conn, "UPDATE codings SET reopen_allowed = true WHERE id = %s", (coding,)
        )
        # Where the playhead stands is not a change of the coding: still allowed.
        conn.execute("UPDATE codings SET playhead_ms = 7 WHERE id = %s", (coding,))
    with psycopg.connect(_libpq(lab.url), autocommit=True) as owner:
        assert _rows(
            owner, "SELECT state, reopen_allowed, playhead_ms FROM codings WHERE id = %s", (coding,)
        ) == [("submitted", False, 7)]
        assert _rows(owner, scores, (coding,)) == before
        assert _rows(owner, "SELECT text FROM notes WHERE coding_id = %s", (coding,)) == [("mine",)]
        assert _rows(owner, "SELECT end_ms, deleted FROM spans WHERE id = %s", (span,)) == [
            (60_000, False)
        ]


def test_a_rater_cannot_change_lead_only_columns_of_their_open_coding(lab: Lab) -> None:
    with _as(lab, lab.r1) as conn:
        # In progress and theirs, yet what the lead decides stays the lead's.
        conn.execute(
            "UPDATE codings SET playhead_ms = 5, state = 'in_progress' WHERE id = %s",
            (lab.r1_coding,),
        )
        assert "only the lead may allow reopening" in _refused(
            conn, "UPDATE codings SET reopen_allowed = true WHERE id = %s", (lab.r1_coding,)
        )
        for column, value in (
            ("role", "'second'"),
            ("plan_id", "NULL"),
            ("scale_pk", "scale_pk"),
            ("recode_of", "1"),
            ("queue_position", "9"),
            ("rater_id", "rater_id"),
            ("session_id", "session_id"),
        ):
            _refused(
                conn,
                f"UPDATE public.codings SET {column} = {value} WHERE id = %s",
                (lab.r1_coding,),
            )
    # Even a column right granted by mistake does not open them: the trigger refuses.
    database = make_url(lab.url).database
    with psycopg.connect(_libpq(lab.url), autocommit=True) as owner:
        owner.execute(f'GRANT UPDATE ON public.codings TO "{database}_rater"')
    with _as(lab, lab.r1) as conn:
        for sql in (
            "UPDATE public.codings SET role = 'second' WHERE id = %s",
            "UPDATE public.codings SET queue_position = 9 WHERE id = %s",
            "UPDATE public.codings SET recode_of = 1 WHERE id = %s",
        ):
            assert "only the lead may change" in _refused(conn, sql, (lab.r1_coding,)), sql


def test_the_lead_may_still_change_a_finished_coding(lab: Lab) -> None:
    coding, note, span = _submitted_r1_coding(lab)
    ids = {"c": coding, "note": note, "span": span}
    with _as(lab, lab.lead) as conn:
        for sql in _LOCKED_CHANGES:
            conn.execute(sql, ids)
        conn.execute(
            "UPDATE public.codings SET role = 'second', queue_position = 4 WHERE id = %s", (coding,)
        )
        assert _rows(
            conn, "SELECT state, reopen_allowed, role FROM codings WHERE id = %s", (coding,)
        ) == [("uncodable", True, "second")]


def test_a_reopened_coding_is_changed_and_resubmitted_through_the_app(lab: Lab) -> None:
    coding, _, _ = _submitted_r1_coding(lab)
    with _as(lab, lab.r1) as conn:
        _refused(conn, "UPDATE ratings SET value = 1 WHERE coding_id = %s", (coding,))
    with Project.open(_app_url(lab, lab.lead)) as project:
        project.allow_reopen(coding)
    with Project.open(_app_url(lab, lab.r1)) as project:
        view = project.rater_view("R1")
        view.set_value(coding, "praise", 1)
        view.add_note(coding, 3_000, "second thoughts")
        view.submit(coding)
        state = view.coding(coding)
        assert state.state == "submitted" and state.values["praise"] == 1
    # Locked again by the resubmission: the rater's own raw SQL is refused once more.
    with _as(lab, lab.r1) as conn:
        assert "only the lead" in _refused(
            conn, "UPDATE ratings SET value = 2 WHERE coding_id = %s", (coding,)
        )
        assert "only the lead" in _refused(
            conn, "UPDATE codings SET reopen_allowed = true WHERE id = %s", (coding,)
        )
