"""Lab mode's people and what the database lets each of them do (PostgreSQL only).

Blinding and the audit trail rest on the server, not on the app:

- Every person has their own login role. Two group roles per database hold the
  rights: ``<db>_lead`` (everything but changing the history) and ``<db>_rater``. The
  schema owner (the login that created the project) is used for migrations and for
  setting this up; it is not anyone's everyday login.
- Row-level security on every table with a rater's data: a rater's login reaches only
  its own rater row, its own codings and their ratings, notes and spans, the sessions
  assigned to it and their recordings. Column privileges and the views of the
  ``sc_rater`` schema (first on a rater's search path, so the app's queries find them
  under the tables' names) leave out patient, therapist, date, session number, phase,
  metadata, training marks, coding roles and plans. Of the metadata a rater reads only
  its coding window's offset and, through ``sc_prepared_fields``, the fields the lead
  chose to show the raters of a scale (on its own codings). Other tables (plans, pools,
  consensus, packages) are closed to raters.
- A finished coding stays locked against its rater: triggers of migration r0006
  (``sc_coding_lock``) refuse a rater's change of the lead-only columns of a coding,
  turning ``reopen_allowed`` on, and any change of a submitted or uncodable coding
  (its state, ratings, notes, spans) the lead has not reopened.
- The history is append-only: raters and leads may only insert; a trigger refuses
  UPDATE, DELETE and TRUNCATE by anyone but the owner, and sets each new row's
  ``login`` to the session's login (the client cannot choose it).

:func:`install` is idempotent: run at creation, after every migration, and by
``session-coder lab setup``. :func:`add_person` creates a login and returns its
one-time password; it needs a login that may create roles (the owner, or a lead).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from coder.errors import ConcurrentChangeError, InputError, ProjectError

RATER_SCHEMA = "sc_rater"

# What a rater's login may read and change, column by column.
_RATER_CODING_READ = (
    "id, session_id, rater_id, scale_pk, queue_position, state, uncodable_reason, "
    "uncodable_text, started_at, submitted_at, playhead_ms, reopen_allowed, queue_order, "
    "scale_group_id"
)
_RATER_CODING_WRITE = (
    "state, uncodable_reason, uncodable_text, started_at, submitted_at, playhead_ms, reopen_allowed"
)
_RATER_SESSION_READ = "id, session_key, audio_id, audio_status, audio_reason"
_RATER_PROJECT_READ = "id, name, created_at"
_RATER_CHILD_TABLES = ("ratings", "notes", "spans")
_RLS_TABLES = (
    "raters",
    "audio_files",
    "sessions",
    "codings",
    "ratings",
    "notes",
    "spans",
    "history",
)

# unique_violation (pg_authid's name index), duplicate_object, deadlock: lost races.
_RACES = ("23505", "42710", "40P01")

# A login name: what PostgreSQL accepts unquoted, so people can type it anywhere.
_LOGIN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A quoted SQL string literal (for statements that take no parameters)."""
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Groups:
    """The group roles of one lab database."""

    lead: str
    rater: str

    @classmethod
    def of(cls, database: str) -> Groups:
        return cls(lead=f"{database}_lead"[:63], rater=f"{database}_rater"[:63])


@dataclass(frozen=True)
class Credential:
    """A new person's login, handed out once (``session-coder lab add``)."""

    login: str
    password: str
    kind: str  # "lead" or "rater"
    code: str | None  # the rater code (None for a lead)
    host: str
    port: int
    database: str

    @property
    def pgpass_line(self) -> str:
        """The line for the person's ``~/.pgpass`` (``:`` and ``\\`` escaped)."""

        def esc(value: str) -> str:
            return value.replace("\\", "\\\\").replace(":", "\\:")

        return ":".join(
            esc(v) for v in (self.host, str(self.port), self.database, self.login, self.password)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "login": self.login,
            "password": self.password,
            "kind": self.kind,
            "rater": self.code,
            "host": self.host,
            "port": self.port,
            "database": self.database,
            "pgpass": self.pgpass_line,
        }


def _exec(conn: Connection, sql: str) -> None:
    # No parameters, but the driver still reads % as a placeholder: double them.
    conn.exec_driver_sql(sql.replace("%", "%%"))


def _exec_secret(conn: Connection, sql: str, what: str) -> None:
    """Run a statement that holds a password; its failure never shows the statement.

    Raises:
        ProjectError: the server refused it (its reason, without the statement).
    """
    try:
        _exec(conn, sql)
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) in _RACES:
            # Another lead created the same login at this moment: the caller retries
            # (coder.store.faults.retry_on_conflict) and then finds it taken.
            raise ConcurrentChangeError(
                f"another lead changed the logins at the same moment; nothing was changed by "
                f"this step: {what} again"
            ) from None
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else "refused"
        raise ProjectError(f"the server refused to {what}: {reason}") from None


# This login's rater id, as a sub-select: the planner runs it once per query (an
# InitPlan), not once per row as it would the function call itself.
_ME = "(SELECT public.sc_my_rater_id())"


def _own_codings() -> str:
    return f"SELECT c.id FROM public.codings c WHERE c.rater_id = {_ME}"


def install(conn: Connection) -> None:
    """Create (or bring up to date) the groups, grants, policies, views and triggers.

    Runs as the schema owner in the caller's transaction.

    Raises:
        ProjectError: the owner may not create roles.
    """
    database = conn.exec_driver_sql("SELECT current_database()").scalar_one()
    owner = conn.exec_driver_sql("SELECT current_user").scalar_one()
    groups = Groups.of(database)
    can_create = conn.exec_driver_sql(
        "SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user"
    ).scalar_one()
    for group in (groups.lead, groups.rater):
        exists = conn.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": group}
        ).scalar()
        if exists:
            continue
        if not can_create:
            raise ProjectError(
                f"the login {owner!r} may not create roles, which lab mode needs for its "
                f"groups {groups.lead} and {groups.rater}: ask the server's administrator "
                f"to run ALTER ROLE {owner} CREATEROLE, or to create both groups (NOLOGIN)"
            )
        _exec(conn, f"CREATE ROLE {ident(group)} NOLOGIN")
    lead, rater = ident(groups.lead), ident(groups.rater)
    both = f"{lead}, {rater}"

    # Only the lab's people may connect (when this login owns the database; else the
    # server's administrator decides who may), and nobody else may create objects.
    owns_database = conn.exec_driver_sql(
        "SELECT pg_has_role(current_user, datdba, 'MEMBER') FROM pg_database "
        "WHERE datname = current_database()"
    ).scalar_one()
    if owns_database:
        _exec(conn, f"REVOKE ALL ON DATABASE {ident(database)} FROM PUBLIC")
        _exec(conn, f"GRANT CONNECT, TEMPORARY ON DATABASE {ident(database)} TO {both}")
    _exec(conn, "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    _exec(conn, f"GRANT USAGE ON SCHEMA public TO {both}")

    # Who is this login, as a rater (NULL for anyone else). SECURITY DEFINER: a rater
    # may not read the raters table beyond its own row, and the policies need this.
    _exec(
        conn,
        "CREATE OR REPLACE FUNCTION public.sc_my_rater_id() RETURNS integer "
        "LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS "
        "$$ SELECT id FROM public.raters WHERE login = session_user $$",
    )
    _exec(conn, "REVOKE ALL ON FUNCTION public.sc_my_rater_id() FROM PUBLIC")
    _exec(conn, f"GRANT EXECUTE ON FUNCTION public.sc_my_rater_id() TO {both}")

    # The history: append-only for everyone but the owner, login set by the server.
    _exec(
        conn,
        "CREATE OR REPLACE FUNCTION public.sc_history_guard() RETURNS trigger "
        "LANGUAGE plpgsql SET search_path = public, pg_temp AS $$\n"
        "BEGIN\n"
        "  IF TG_OP = 'INSERT' THEN\n"
        "    NEW.login := session_user;\n"
        "    RETURN NEW;\n"
        "  END IF;\n"
        "  IF NOT pg_has_role(session_user, "
        "(SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN\n"
        "    RAISE EXCEPTION 'the history is append-only: % of history rows is refused', "
        "TG_OP USING ERRCODE = 'insufficient_privilege';\n"
        "  END IF;\n"
        "  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;\n"
        "  RETURN NEW;\n"
        "END $$",
    )
    _exec(conn, "DROP TRIGGER IF EXISTS sc_history_append_only ON public.history")
    _exec(
        conn,
        "CREATE TRIGGER sc_history_append_only BEFORE INSERT OR UPDATE OR DELETE "
        "ON public.history FOR EACH ROW EXECUTE FUNCTION public.sc_history_guard()",
    )
    _exec(conn, "DROP TRIGGER IF EXISTS sc_history_no_truncate ON public.history")
    _exec(
        conn,
        "CREATE TRIGGER sc_history_no_truncate BEFORE TRUNCATE ON public.history "
        "FOR EACH STATEMENT EXECUTE FUNCTION public.sc_history_guard()",
    )

    # Table privileges, from nothing each time (idempotent). Every table of the models
    # (also one a later revision adds): the lead's, never a rater's unless listed here.
    from coder.store.models import Base

    for table in (*Base.metadata.tables, "alembic_version"):
        _exec(conn, f"REVOKE ALL ON public.{table} FROM PUBLIC, {both}")
        if table == "history":
            _exec(conn, f"GRANT SELECT, INSERT ON public.history TO {lead}")
        elif table == "alembic_version":
            _exec(conn, f"GRANT SELECT ON public.alembic_version TO {both}")
        else:
            _exec(conn, f"GRANT SELECT, INSERT, UPDATE, DELETE ON public.{table} TO {lead}")
    _exec(conn, f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC, {rater}")
    _exec(conn, f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {lead}")
    for table in ("scales", "raters", "audio_files"):
        _exec(conn, f"GRANT SELECT ON public.{table} TO {rater}")
    # The project's name, not its settings (other raters' certification overrides).
    _exec(conn, f"GRANT SELECT ({_RATER_PROJECT_READ}) ON public.project TO {rater}")
    _exec(conn, f"GRANT SELECT ({_RATER_CODING_READ}) ON public.codings TO {rater}")
    _exec(conn, f"GRANT UPDATE ({_RATER_CODING_WRITE}) ON public.codings TO {rater}")
    _exec(conn, f"GRANT SELECT ({_RATER_SESSION_READ}) ON public.sessions TO {rater}")
    for table in _RATER_CHILD_TABLES:
        _exec(conn, f"GRANT SELECT, INSERT, UPDATE ON public.{table} TO {rater}")
    # INSERT ... RETURNING id needs the id (of the rater's own rows only, see below).
    _exec(conn, f"GRANT INSERT, SELECT (id) ON public.history TO {rater}")
    for table in (*_RATER_CHILD_TABLES, "history"):
        _exec(conn, f"GRANT USAGE ON SEQUENCE public.{table}_id_seq TO {rater}")

    # Row-level security.
    own = _own_codings()
    rater_rows = {
        "raters": "login = session_user",
        "codings": f"rater_id = {_ME}",
        "sessions": f"id IN (SELECT c.session_id FROM public.codings c WHERE c.rater_id = {_ME})",
        "audio_files": "id IN (SELECT s.audio_id FROM public.sessions s)",
        **{table: f"coding_id IN ({own})" for table in _RATER_CHILD_TABLES},
    }
    for table in _RLS_TABLES:
        _exec(conn, f"ALTER TABLE public.{table} ENABLE ROW LEVEL SECURITY")
        for name in ("sc_lead", "sc_lead_read", "sc_lead_add", "sc_rater", "sc_rater_add"):
            _exec(conn, f"DROP POLICY IF EXISTS {name} ON public.{table}")
    for table in _RLS_TABLES:
        if table == "history":
            _exec(
                conn,
                f"CREATE POLICY sc_lead_read ON public.history FOR SELECT TO {lead} USING (true)",
            )
            _exec(
                conn,
                f"CREATE POLICY sc_lead_add ON public.history FOR INSERT TO {lead} WITH CHECK (true)",
            )
            _exec(
                conn,
                f"CREATE POLICY sc_rater ON public.history FOR SELECT TO {rater} "
                "USING (login = session_user)",
            )
            _exec(
                conn,
                f"CREATE POLICY sc_rater_add ON public.history FOR INSERT TO {rater} "
                f"WITH CHECK (coding_id IS NULL OR coding_id IN ({own}))",
            )
            continue
        _exec(
            conn,
            f"CREATE POLICY sc_lead ON public.{table} TO {lead} USING (true) WITH CHECK (true)",
        )
        condition = rater_rows[table]
        _exec(
            conn,
            f"CREATE POLICY sc_rater ON public.{table} TO {rater} USING ({condition}) "
            f"WITH CHECK ({condition})",
        )

    # Of a session's metadata a rater sees only where its coding window lies (the
    # manifest's window_offset), as an offline package carries it; of their own
    # sessions only.
    _exec(
        conn,
        "CREATE OR REPLACE FUNCTION public.sc_rater_metadata(session integer) RETURNS text "
        "LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$ "
        "SELECT CASE WHEN m ? 'window_offset' "
        "THEN jsonb_build_object('window_offset', m -> 'window_offset')::text ELSE '{}' END "
        "FROM (SELECT s.metadata_json::jsonb AS m FROM public.sessions s WHERE s.id = session "
        "AND s.id IN (SELECT c.session_id FROM public.codings c "
        "WHERE c.rater_id = public.sc_my_rater_id())) x $$",
    )
    _exec(conn, "REVOKE ALL ON FUNCTION public.sc_rater_metadata(integer) FROM PUBLIC")
    _exec(conn, f"GRANT EXECUTE ON FUNCTION public.sc_rater_metadata(integer) TO {rater}")

    # What the lab prepared for the raters of a scale (coder.prepared_fields), of the
    # rater's own coding only: the fields the lead chose for the coding's scale, in the
    # lead's order, each the lead's entered value, else the manifest's (the rule of
    # coder.coding_data.prepared_values). A JSON list of [name, value].
    _exec(
        conn,
        "CREATE OR REPLACE FUNCTION public.sc_prepared_fields(coding integer) RETURNS text "
        "LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$ "
        "SELECT COALESCE(json_agg(json_build_array(f.name, COALESCE("
        "p.settings_json::jsonb -> 'prepared_fields' -> 'values' -> s.session_key ->> f.name, "
        "s.metadata_json::jsonb ->> f.name, '')) ORDER BY f.pos)::text, '[]') "
        "FROM public.codings c "
        "JOIN public.sessions s ON s.id = c.session_id "
        "JOIN public.scales sc ON sc.id = c.scale_pk "
        "JOIN public.project p ON p.id = 1 "
        "CROSS JOIN LATERAL jsonb_array_elements_text(COALESCE("
        "p.settings_json::jsonb -> 'prepared_fields' -> 'shown' -> sc.scale_id, '[]'::jsonb)) "
        "WITH ORDINALITY AS f(name, pos) "
        "WHERE c.id = coding AND c.rater_id = public.sc_my_rater_id() $$",
    )
    _exec(conn, "REVOKE ALL ON FUNCTION public.sc_prepared_fields(integer) FROM PUBLIC")
    _exec(conn, f"GRANT EXECUTE ON FUNCTION public.sc_prepared_fields(integer) TO {rater}")

    # The rater's views: the tables' names and columns, blinded columns left empty.
    schema = ident(RATER_SCHEMA)
    _exec(conn, f"CREATE SCHEMA IF NOT EXISTS {schema}")
    _exec(conn, f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC")
    _exec(conn, f"GRANT USAGE ON SCHEMA {schema} TO {both}")
    for table in _RATER_VIEWS:
        _exec(conn, f"DROP VIEW IF EXISTS {schema}.{table}")
        _exec(
            conn,
            f"CREATE VIEW {schema}.{table} WITH (security_invoker = true) AS "
            f"SELECT {_rater_columns(conn, table)} FROM public.{table}",
        )
    _exec(conn, f"GRANT SELECT ON {schema}.sessions, {schema}.project TO {rater}")
    _exec(conn, f"GRANT SELECT, UPDATE ({_RATER_CODING_WRITE}) ON {schema}.codings TO {rater}")


# What a rater's view shows in place of a blinded column (any other column not in the
# rater's read list, e.g. one a later migration adds, is NULL until listed here).
_BLINDED = {
    "patient": "''::varchar(200)",
    "therapist": "''::varchar(200)",
    "session_number": "NULL::integer",
    "phase": "''::varchar(50)",
    "date": "''::varchar(40)",
    "metadata_json": "COALESCE(public.sc_rater_metadata(id), '{}')",
    "training": "false",
    "plan_id": "NULL::integer",
    "role": "''::varchar(20)",
    "settings_json": "'{}'::text",
}
_RATER_VIEWS = ("sessions", "codings", "project")


def _rater_columns(conn: Connection, table: str) -> str:
    """The select list of a rater's view: the table's columns in its order, the ones a
    rater may read as they are, the others blinded."""
    from coder.store.models import Base

    readable = {
        "sessions": set(_RATER_SESSION_READ.split(", ")),
        "codings": set(_RATER_CODING_READ.split(", ")),
        "project": set(_RATER_PROJECT_READ.split(", ")),
    }[table]
    parts = []
    for column in Base.metadata.tables[table].columns:
        if column.name in readable:
            parts.append(column.name)
        else:
            kind = column.type.compile(dialect=conn.dialect)
            blank = _BLINDED.get(column.name, f"NULL::{kind}")
            parts.append(f"{blank} AS {column.name}")
    return ", ".join(parts)


def drop_views(conn: Connection) -> None:
    """Drop the raters' views (before a migration; :func:`install` makes them again)."""
    schema = ident(RATER_SCHEMA)
    _exec(conn, f"DROP VIEW IF EXISTS {', '.join(f'{schema}.{t}' for t in _RATER_VIEWS)}")


def groups_of(conn: Connection) -> Groups:
    return Groups.of(conn.exec_driver_sql("SELECT current_database()").scalar_one())


def login_kind(conn: Connection) -> str:
    """What this connection's login is: "owner", "lead", "rater", or "other"."""
    groups = groups_of(conn)
    row = conn.execute(
        text(
            "SELECT r.rolsuper OR pg_has_role(current_user, "
            "(SELECT relowner FROM pg_class WHERE oid = 'public.history'::regclass), 'MEMBER'), "
            "pg_has_role(current_user, r2.oid, 'MEMBER') "
            "FROM pg_roles r LEFT JOIN pg_roles r2 ON r2.rolname = :lead "
            "WHERE r.rolname = current_user"
        ),
        {"lead": groups.lead},
    ).one()
    if row[0]:
        return "owner"
    if row[1]:
        return "lead"
    rater = conn.execute(
        text("SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = :r"),
        {"r": groups.rater},
    ).scalar()
    return "rater" if rater else "other"


def check_login_name(login: str) -> str:
    """Check a new login's name.

    Raises:
        InputError: not lower-case letters, digits and _, starting with a letter or _.
    """
    if not _LOGIN.match(login):
        raise InputError(
            f"login {login!r} is not valid: use lower-case letters, digits and _, starting "
            "with a letter (at most 63 characters), e.g. --login lab1_ak"
        )
    return login


def default_login(database: str, code: str) -> str:
    """The login a person gets unless one is chosen: ``<database>_<code>``, lower case."""
    return re.sub(r"[^a-z0-9_]", "_", f"{database}_{code}".lower())[:63]


def add_person(
    conn: Connection, url: str, *, kind: str, login: str, code: str | None
) -> Credential:
    """Create a person's login role with a fresh password (in the caller's transaction).

    A rater's login is linked to the rater code (``raters.login``) and finds the
    rater views first on its search path; a lead's may create and manage the raters'
    logins in turn.

    Raises:
        InputError: the login exists already, or the rater code has a login.
        ProjectError: this login may not create roles.
    """
    check_login_name(login)
    groups = groups_of(conn)
    database = conn.exec_driver_sql("SELECT current_database()").scalar_one()
    if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": login}).scalar():
        raise InputError(
            f"the server already has a login {login!r}; choose another with --login NAME"
        )
    allowed = conn.exec_driver_sql(
        "SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user"
    ).scalar_one()
    if not allowed:
        raise ProjectError(
            "this login may not add people: run the command as the lab lead or the owner"
        )
    password = secrets.token_urlsafe(18)
    version = int(conn.exec_driver_sql("SHOW server_version_num").scalar_one())
    if kind == "lead":
        _exec_secret(
            conn,
            f"CREATE ROLE {ident(login)} LOGIN CREATEROLE PASSWORD {literal(password)} "
            f"IN ROLE {ident(groups.lead)}",
            f"create the login {login}",
        )
        if version >= 160000:
            # From PostgreSQL 16, a role that creates others may grant only the groups
            # it administers: a lead adds raters (and other leads).
            for group in (groups.rater, groups.lead):
                _exec(
                    conn,
                    f"GRANT {ident(group)} TO {ident(login)} "
                    "WITH ADMIN OPTION, INHERIT FALSE, SET FALSE",
                )
    else:
        assert code is not None
        # Locked: two leads giving the same rater a login at once are served in turn.
        row = conn.execute(
            text("SELECT login FROM raters WHERE code = :c FOR UPDATE"), {"c": code}
        ).one()
        if row[0]:
            raise InputError(
                f"rater {code!r} already has the login {row[0]!r}; remove it first with "
                f"session-coder lab remove PROJECT {row[0]}"
            )
        _exec_secret(
            conn,
            f"CREATE ROLE {ident(login)} LOGIN PASSWORD {literal(password)} "
            f"IN ROLE {ident(groups.rater)}",
            f"create the login {login}",
        )
        _exec(
            conn,
            f"ALTER ROLE {ident(login)} IN DATABASE {ident(database)} "
            f"SET search_path = {ident(RATER_SCHEMA)}, public",
        )
        conn.execute(text("UPDATE raters SET login = :l WHERE code = :c"), {"l": login, "c": code})
    parsed = make_url(url)
    return Credential(
        login=login,
        password=password,
        kind=kind,
        code=code,
        host=parsed.host or "localhost",
        port=parsed.port or 5432,
        database=database,
    )


def remove_person(conn: Connection, login: str) -> None:
    """Take a person's login away (NOLOGIN; their history rows keep the name).

    Raises:
        InputError: no such login of this lab.
    """
    groups = groups_of(conn)
    member = conn.execute(
        text(
            "SELECT 1 FROM pg_roles r WHERE r.rolname = :l AND (pg_has_role(r.oid, "
            "(SELECT oid FROM pg_roles WHERE rolname = :lead), 'MEMBER') OR "
            "pg_has_role(r.oid, (SELECT oid FROM pg_roles WHERE rolname = :rater), 'MEMBER'))"
        ),
        {"l": login, "lead": groups.lead, "rater": groups.rater},
    ).scalar()
    if not member:
        raise InputError(f"{login!r} is not a login of this lab (see session-coder lab people)")
    _exec(conn, f"ALTER ROLE {ident(login)} NOLOGIN")
    conn.execute(text("UPDATE raters SET login = NULL WHERE login = :l"), {"l": login})


def people(conn: Connection) -> list[dict[str, Any]]:
    """The lab's logins: name, kind (lead or rater), rater code, may log in."""
    groups = groups_of(conn)
    rows = conn.execute(
        text(
            "SELECT r.rolname, g.rolname, r.rolcanlogin FROM pg_auth_members m "
            "JOIN pg_roles r ON r.oid = m.member JOIN pg_roles g ON g.oid = m.roleid "
            "WHERE g.rolname IN (:lead, :rater) ORDER BY r.rolname"
        ),
        {"lead": groups.lead, "rater": groups.rater},
    ).all()
    codes: dict[str, str] = dict(
        conn.execute(text("SELECT login, code FROM raters WHERE login IS NOT NULL")).all()
    )
    found: dict[str, dict[str, Any]] = {}
    for name, group, can_login in rows:
        kind = "lead" if group == groups.lead else "rater"
        entry = found.setdefault(
            name, {"login": name, "kind": kind, "rater": codes.get(name), "active": can_login}
        )
        if kind == "lead":
            entry["kind"] = "lead"
    return list(found.values())


def change_own_password(conn: Connection, password: str) -> None:
    """Set this login's own password (every login may)."""
    if len(password) < 8:
        raise InputError("choose a password of at least 8 characters")
    login = conn.exec_driver_sql("SELECT session_user").scalar_one()
    _exec_secret(
        conn, f"ALTER ROLE {ident(login)} PASSWORD {literal(password)}", "change the password"
    )
