"""A project: its scales, raters, sessions, plans and codings, and every change to them.

``Project`` is the one door to a project's data for the CLI, the GUI and the exporters.
Every public method that writes runs in one transaction and appends to the history.
A rater's work goes through :class:`RaterView`, which filters by rater in its queries,
so a rater-scoped caller cannot reach another rater's rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NewType

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from coder import lead_passphrase
from coder.changes import OpChanges
from coder.coding_data import CodingId, CodingState, Note, Span
from coder.coding_rules import (
    check_note_text,
    check_number,
    check_submittable,
    check_text_item,
    check_uncodable,
    item_of,
    missing_required,
)
from coder.errors import InputError, ProjectError
from coder.kinds import CodingRole, CodingStatus, ItemKind
from coder.scales import RatingScale, parse_scale
from coder.session_window import LEAVE_WINDOW, RETURN_TO_WINDOW, offset_of
from coder.store import codings, lab_security, prepared_store
from coder.store.engine import (
    Location,
    Store,
    create_store,
    normalize_db_url,
    open_store,
    resolve_location,
    write_pointer_file,
)
from coder.store.faults import retry_on_conflict
from coder.store.models import (
    CodingRow,
    HistoryRow,
    NoteRow,
    ProjectRow,
    RaterPoolMemberRow,
    RaterPoolRow,
    RaterRow,
    RatingRow,
    ScaleRow,
    SessionRow,
    SpanRow,
)
from coder.store.rows import (
    latest_scale_pk,
    locked_settings,
    log_change,
    queue_end,
    rater_row,
)
from coder.text_limits import CODE_LIMIT, check_text

SessionId = NewType("SessionId", int)

# The states in their lifecycle order, for tables and counts (coder.analysis_set names them).
CODING_STATES: tuple[str, ...] = tuple(state.value for state in CodingStatus)
LEAD = "lead"


@dataclass(frozen=True)
class Rater:
    code: str
    name: str = ""
    active: bool = True


def check_rater_code(code: str) -> None:
    """Check a new rater code.

    Raises:
        InputError: the code is empty, has spaces or commas, or is too long
            (``coder.text_limits``).
    """
    if not code or any(ch.isspace() for ch in code) or "," in code:
        raise InputError(f"rater code {code!r} is not valid: use letters, digits, - or _")
    check_text("rater code", code, CODE_LIMIT)


@dataclass(frozen=True)
class SessionInfo:
    """A session as the lead sees it (raters see only ``key`` and the audio)."""

    id: SessionId
    key: str
    patient: str
    therapist: str
    session_number: int | None
    phase: str
    date: str
    audio_path: str | None
    audio_status: str
    audio_reason: str
    duration_ms: int | None
    sha256: str | None
    training: bool = False
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueEntry:
    """One line of a rater's queue: what the rater may see about an assigned coding."""

    coding_id: CodingId
    session_key: str
    scale_id: str
    scale_name: str
    state: str
    position: int
    items_scored: int
    items_total: int
    # The group of scales planned together that this coding belongs to (None: alone);
    # the rater's codings of the session with the same group are coded in one window.
    scale_group: int | None = None


@dataclass(frozen=True)
class DuplicateRecording:
    """Sessions that share one recording: the same SHA-256 (or the same missing file).

    Almost always a manifest error (a copied row, a wrong file name).
    """

    basis: str  # "SHA-256" or "file" (the file could not be read, so its path)
    key: str  # the SHA-256, or the path
    path: str  # the recording's file (one of them, for messages)
    session_ids: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "basis": self.basis,
            "key": self.key,
            "path": self.path,
            "session_ids": list(self.session_ids),
        }


@dataclass(frozen=True)
class ProjectStatus:
    """Counts of a project's sessions and codings (``session-coder status``).

    Attributes:
        project: The project's name.
        sessions: Every session.
        sessions_by_audio_status: audio status -> sessions.
        raters: Every rater (also inactive ones).
        scales: The scale ids.
        codings: Every coding.
        by_state: state -> codings (every state, also with 0).
        by_scale: scale id -> state -> codings (every state), scales with codings only.
        by_rater: rater code -> state -> codings (every state), raters with codings only.
        duplicate_recordings: Sessions that share one recording.
    """

    project: str
    sessions: int
    sessions_by_audio_status: Mapping[str, int]
    raters: int
    scales: tuple[str, ...]
    codings: int
    by_state: Mapping[str, int]
    by_scale: Mapping[str, Mapping[str, int]]
    by_rater: Mapping[str, Mapping[str, int]]
    duplicate_recordings: tuple[DuplicateRecording, ...]

    def as_dict(self) -> dict[str, Any]:
        """The JSON document of ``session-coder status --json``."""
        return {
            "project": self.project,
            "sessions": self.sessions,
            "sessions_by_audio_status": dict(self.sessions_by_audio_status),
            "raters": self.raters,
            "scales": list(self.scales),
            "codings": self.codings,
            "by_state": dict(self.by_state),
            "by_scale": {k: dict(v) for k, v in self.by_scale.items()},
            "by_rater": {k: dict(v) for k, v in self.by_rater.items()},
            "duplicate_recordings": [d.as_dict() for d in self.duplicate_recordings],
        }


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    coding_id: int | None
    field: str
    old: Any
    new: Any
    # Lab mode: the database login that wrote the row (set by the server); else None.
    login: str | None = None


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class Project:
    """An open project. Use :meth:`create` or :meth:`open`; close it when done."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._scale_cache: dict[int, RatingScale] = {}
        # Read once here (in whatever thread opens the project), so that asking for the
        # name later, e.g. for a window title on the GUI thread, never runs a query.
        # Nothing renames a project once it is created.
        with store.read() as s:
            row = s.get(ProjectRow, 1)
            self._name = row.name if row else ""

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def create(cls, path: str | Path, *, db_url: str | None = None, name: str = "") -> Project:
        """Create a project file (SQLite), or a pointer file to a PostgreSQL database.

        Raises:
            ProjectError: the path exists, its folder is missing, or the database is
                unreachable or not empty. Nothing is left behind on failure.
        """
        path = Path(path).expanduser()
        if path.exists():
            raise ProjectError(f"{path} already exists; choose a new file name or open it")
        if not path.parent.is_dir():
            raise ProjectError(f"the folder {path.parent} does not exist; create it first")
        if db_url is not None:
            location = Location(normalize_db_url(db_url), path)
        else:
            location = Location(f"sqlite:///{path.resolve()}", path)
        try:
            store = create_store(location)
        except ProjectError:
            if db_url is None:
                path.unlink(missing_ok=True)
            raise
        with store.transaction() as s:
            s.add(ProjectRow(id=1, name=name or path.stem, settings_json="{}"))
            log_change(s, LEAD, "create", "project", path.stem)
        if db_url is not None:
            write_pointer_file(path, location.url)
        return cls(store)

    @classmethod
    def open(cls, project: str | Path) -> Project:
        """Open an existing project (file path, pointer file, or postgresql:// URL)."""
        store = open_store(resolve_location(project))
        try:
            return cls(store)
        except BaseException:
            store.close()
            raise

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def name(self) -> str:
        """The project's name, as read when it was opened (no query)."""
        return self._name

    # ------------------------------------------------------------------ settings

    def settings(self) -> dict[str, Any]:
        with self.store.read() as s:
            row = s.get(ProjectRow, 1)
            return json.loads(row.settings_json) if row else {}

    def set_setting(self, key: str, value: Any, *, actor: str = LEAD) -> None:
        with self.store.transaction() as s:
            row, settings = locked_settings(s)
            old = settings.get(key)
            settings[key] = value
            row.settings_json = json.dumps(settings, sort_keys=True)
            log_change(s, actor, "set", "setting", key, old=old, new=value)

    def update_setting(self, key: str, change: Callable[[Any], Any], *, actor: str = LEAD) -> Any:
        """Read, change and write one setting in one locked transaction.

        ``change`` gets the current value (None when unset) and returns the new one;
        returning the same value writes nothing. Use it for settings that hold a
        mapping (per-scale options), so two lab machines editing different entries at
        once cannot lose one of the edits.

        Returns:
            The new value.
        """
        with self.store.transaction() as s:
            row, settings = locked_settings(s)
            old = settings.get(key)
            new = change(json.loads(json.dumps(old)))  # the callee gets its own copy
            if new == old:
                return new
            if new is None:
                settings.pop(key, None)
            else:
                settings[key] = new
            row.settings_json = json.dumps(settings, sort_keys=True)
            log_change(s, actor, "set", "setting", key, old=old, new=new)
            return new

    # ------------------------------------------------------------------ scales

    def add_scale(self, scale: RatingScale, *, actor: str = LEAD) -> bool:
        """Store a copy of a scale definition. Returns False if it was already there.

        Raises:
            InputError: the same id and version is stored with a different definition
                (stored scores would change meaning: bump ``version`` instead).
        """
        return self.add_scales([scale], actor=actor)[0]

    def add_scales(self, scales: Sequence[RatingScale], *, actor: str = LEAD) -> list[bool]:
        """Store several scale definitions in one transaction: all of them or none.

        A scale already stored with the same definition is skipped (False in the
        result, in the order given). A race with another machine adding the same scale
        is retried, and then finds it stored.

        Raises:
            InputError: a scale's id and version is stored (or given twice) with a
                different definition; nothing is added.
        """

        def add_all() -> list[bool]:
            added: list[bool] = []
            with self.store.transaction() as s:
                given: dict[tuple[str, int], RatingScale] = {}
                for scale in scales:
                    key = (scale.id, scale.version)
                    if key in given:
                        if parse_scale(given[key].source) != parse_scale(scale.source):
                            raise InputError(
                                f"scale {scale.id!r} version {scale.version} is given twice "
                                "with different definitions; nothing was added"
                            )
                        added.append(False)
                        continue
                    given[key] = scale
                    added.append(self._add_scale_row(s, scale, actor))
            return added

        return retry_on_conflict(add_all)

    def _add_scale_row(self, s: DbSession, scale: RatingScale, actor: str) -> bool:
        row = s.scalar(
            select(ScaleRow).where(ScaleRow.scale_id == scale.id, ScaleRow.version == scale.version)
        )
        if row is not None:
            if parse_scale(row.source) == parse_scale(scale.source):
                return False
            raise InputError(
                f"scale {scale.id!r} version {scale.version} is already in the project with "
                "a different definition; raise 'version' in the file to add the change "
                "(nothing was added)"
            )
        s.add(
            ScaleRow(scale_id=scale.id, version=scale.version, name=scale.name, source=scale.source)
        )
        # Flushed now, so a race with another machine shows inside the retried block.
        s.flush()
        log_change(s, actor, "add", "scale", f"{scale.id}@{scale.version}")
        return True

    def scales(self) -> list[RatingScale]:
        """The newest stored version of each scale, in the order they were added."""
        with self.store.read() as s:
            rows = s.scalars(select(ScaleRow).order_by(ScaleRow.id)).all()
        newest: dict[str, ScaleRow] = {}
        for row in rows:
            if row.scale_id not in newest or row.version > newest[row.scale_id].version:
                newest[row.scale_id] = row
        return [self._scale_from_row(row) for row in newest.values()]

    def scale(self, scale_id: str) -> RatingScale:
        for scale in self.scales():
            if scale.id == scale_id:
                return scale
        known = ", ".join(s.id for s in self.scales()) or "none yet"
        raise InputError(
            f"the project has no scale {scale_id!r} (it has: {known}); add it with "
            f"session-coder scales add"
        )

    def _scale_from_row(self, row: ScaleRow) -> RatingScale:
        cached = self._scale_cache.get(row.id)
        if cached is None:
            cached = parse_scale(row.source, source_name=f"stored scale {row.scale_id}")
            self._scale_cache[row.id] = cached
        return cached

    def scale_by_pk(self, s: DbSession, pk: int) -> RatingScale:
        if pk not in self._scale_cache:
            row = s.get(ScaleRow, pk)
            if row is None:
                raise ProjectError(f"stored scale #{pk} is missing; the project is damaged")
            return self._scale_from_row(row)
        return self._scale_cache[pk]

    # ------------------------------------------------------------------ raters

    def add_raters(self, codes: Iterable[str], *, actor: str = LEAD) -> list[str]:
        """Add rater codes; returns the codes that were new. Existing codes are kept.

        Adding a code that exists is not an error (it is skipped), also when another
        machine adds it at the same moment: that race is retried and then skips it.

        Raises:
            InputError: a code is empty, has spaces or commas, or is too long
                (``coder.text_limits``); nothing is added.
        """
        codes = [c.strip() for c in codes]
        for code in codes:
            check_rater_code(code)

        def add_all() -> list[str]:
            added = []
            with self.store.transaction() as s:
                existing = set(s.scalars(select(RaterRow.code)).all())
                for code in codes:
                    if code in existing:
                        continue
                    s.add(RaterRow(code=code, name="", active=True))
                    existing.add(code)
                    added.append(code)
                    log_change(s, actor, "add", "rater", code)
            return added

        return retry_on_conflict(add_all)

    def raters(self, *, include_inactive: bool = False) -> list[Rater]:
        with self.store.read() as s:
            rows = s.scalars(select(RaterRow).order_by(RaterRow.code)).all()
        return [Rater(r.code, r.name, r.active) for r in rows if r.active or include_inactive]

    def pools(self) -> dict[str, list[str]]:
        """Pool name -> rater codes (:mod:`coder.store.pools` creates and edits pools)."""
        with self.store.read() as s:
            return {p.name: self._pool_codes(s, p.id) for p in s.scalars(select(RaterPoolRow))}

    @staticmethod
    def _pool_codes(s: DbSession, pool_id: int) -> list[str]:
        return sorted(
            s.scalars(
                select(RaterRow.code)
                .join(RaterPoolMemberRow, RaterPoolMemberRow.rater_id == RaterRow.id)
                .where(RaterPoolMemberRow.pool_id == pool_id)
            ).all()
        )

    # ------------------------------------------------------------------ sessions

    def sessions(self) -> list[SessionInfo]:
        from coder.store.models import AudioFileRow

        with self.store.read() as s:
            rows = s.execute(
                select(SessionRow, AudioFileRow)
                .outerjoin(AudioFileRow, AudioFileRow.id == SessionRow.audio_id)
                .order_by(SessionRow.id)
            ).all()
        return [_session_info(sess, audio) for sess, audio in rows]

    def set_training(
        self, session_keys: Iterable[str], training: bool = True, *, actor: str = LEAD
    ) -> OpChanges:
        """Mark sessions as training sessions (or no longer): they leave the analysis.

        Returns:
            What changed: the sessions (their training marks).
        """
        with self.store.transaction() as s:
            for key in session_keys:
                row = s.scalar(select(SessionRow).where(SessionRow.session_key == key))
                if row is None:
                    raise InputError(f"no session {key!r} in this project")
                old, row.training = row.training, training
                log_change(s, actor, "set", "session", key, field="training", old=old, new=training)
        return OpChanges(sessions=True)

    def duplicate_recordings(self) -> list[DuplicateRecording]:
        """Groups of sessions that share one recording, by SHA-256 or by missing path."""
        from coder.store.models import AudioFileRow

        with self.store.read() as s:
            rows = s.execute(
                select(SessionRow.session_key, AudioFileRow.sha256, AudioFileRow.path)
                .join(AudioFileRow, AudioFileRow.id == SessionRow.audio_id)
                .order_by(SessionRow.session_key)
            ).all()
        groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for key, sha, path in rows:
            basis = ("SHA-256", sha) if sha else ("file", path)
            groups.setdefault(basis, []).append((key, path))
        return [
            DuplicateRecording(basis, value, members[0][1], tuple(k for k, _p in members))
            for (basis, value), members in sorted(groups.items())
            if len(members) > 1
        ]

    # ------------------------------------------------------------------ status

    def status(self) -> ProjectStatus:
        """Counts of codings by scale, rater and state, and of sessions by audio status."""
        with self.store.read() as s:
            sessions = dict(
                s.execute(
                    select(SessionRow.audio_status, func.count()).group_by(SessionRow.audio_status)
                ).all()
            )
            rows = s.execute(
                select(ScaleRow.scale_id, RaterRow.code, CodingRow.state, func.count())
                .join(ScaleRow, ScaleRow.id == CodingRow.scale_pk)
                .join(RaterRow, RaterRow.id == CodingRow.rater_id)
                .group_by(ScaleRow.scale_id, RaterRow.code, CodingRow.state)
            ).all()
            n_raters = s.scalar(select(func.count()).select_from(RaterRow)) or 0
            scales = [r.id for r in self.scales()]
        by_scale: dict[str, dict[str, int]] = {}
        by_rater: dict[str, dict[str, int]] = {}
        by_state = {state: 0 for state in CODING_STATES}
        for scale_id, code, state, count in rows:
            by_scale.setdefault(scale_id, {st: 0 for st in CODING_STATES})[state] += count
            by_rater.setdefault(code, {st: 0 for st in CODING_STATES})[state] += count
            by_state[state] += count
        return ProjectStatus(
            project=self.name,
            sessions=sum(sessions.values()),
            sessions_by_audio_status=sessions,
            raters=n_raters,
            scales=tuple(scales),
            codings=sum(by_state.values()),
            by_state=by_state,
            by_scale=by_scale,
            by_rater=by_rater,
            duplicate_recordings=tuple(self.duplicate_recordings()),
        )

    # ------------------------------------------------------------------ history

    def history(
        self,
        *,
        coding_id: int | None = None,
        entity: str | None = None,
        entity_id: str | None = None,
        limit: int | None = None,
    ) -> list[HistoryEntry]:
        """The history, oldest first: all of it, or only one coding's or one entity's rows
        (``entity="setting", entity_id=KEY``: one setting's changes)."""
        with self.store.read() as s:
            query = select(HistoryRow).order_by(HistoryRow.id)
            if coding_id is not None:
                query = query.where(HistoryRow.coding_id == coding_id)
            if entity is not None:
                query = query.where(HistoryRow.entity == entity)
            if entity_id is not None:
                query = query.where(HistoryRow.entity_id == entity_id)
            if limit is not None:
                query = query.limit(limit)
            rows = s.scalars(query).all()
        return [
            HistoryEntry(
                r.at,
                r.actor,
                r.action,
                r.entity,
                r.entity_id,
                r.coding_id,
                r.field,
                _load(r.old),
                _load(r.new),
                r.login,
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ lead passphrase

    def lead_passphrase_record(self) -> dict[str, Any] | None:
        """A single file's lead passphrase (its salted hash), or None when unset."""
        record = self.settings().get(lead_passphrase.SETTING)
        return record if isinstance(record, dict) else None

    def set_lead_passphrase(self, passphrase: str | None, *, actor: str = LEAD) -> None:
        """Set (or, with None, clear) the lead passphrase of a single-file project.

        The history says that it changed, never the hash.

        Raises:
            InputError: too short.
            ProjectError: a lab-mode project (its people have logins instead).
        """
        if self.store.location.is_postgres:
            raise ProjectError(
                "a lab-mode project has a login per person instead of a lead passphrase: "
                "give leads and raters their own logins with session-coder lab add"
            )
        record = None if passphrase is None else lead_passphrase.make_record(passphrase)
        with self.store.transaction() as s:
            row, settings = locked_settings(s)
            if record is None:
                settings.pop(lead_passphrase.SETTING, None)
            else:
                settings[lead_passphrase.SETTING] = record
            row.settings_json = json.dumps(settings, sort_keys=True)
            log_change(s, actor, "set" if record else "clear", "setting", lead_passphrase.SETTING)

    # ------------------------------------------------------------------ lab logins

    def login_kind(self) -> str | None:
        """Lab mode: "owner", "lead", "rater" or "other"; None for a single file."""
        return self.store.login_kind()

    def my_rater_code(self) -> str | None:
        """Lab mode, a rater's login: the rater code it is linked to (else None)."""
        if self.login_kind() != "rater":
            return None
        with self.store.read() as s:
            return s.scalar(select(RaterRow.code).where(RaterRow.login.is_not(None)))

    def secure(self) -> None:
        """Lab mode: (re)install the groups, rights, row policies and history guard.

        Raises:
            ProjectError: not lab mode, or this login is not the schema owner.
        """
        with self.store.admin() as conn:
            if lab_security.login_kind(conn) != "owner":
                raise ProjectError(
                    "only the project's owner login (the one that created it) may set up "
                    "its rights: run this with the owner's login"
                )
            lab_security.install(conn)

    def add_person(
        self, *, kind: str, code: str | None = None, login: str | None = None
    ) -> lab_security.Credential:
        """Lab mode: create a lead's or a rater's own login; returns its one-time password.

        A rater code that is not in the project yet is added. The person's history rows
        carry ``login``; the password is shown once and kept nowhere.

        Raises:
            InputError: a bad or taken login, or a rater code that has a login already.
            ProjectError: not lab mode, or this login may not add people.
        """
        if kind not in ("lead", "rater"):
            raise InputError(f"a person is a lead or a rater, not {kind!r}")
        with self.store.admin():
            pass  # not lab mode: refused before anything is added
        if kind == "lead" and not login:
            raise InputError("give the lead's own login with --login NAME (e.g. lab1_maria)")
        if kind == "rater":
            if not code:
                raise InputError("give the rater's code, e.g. session-coder lab add PROJECT AK")
            self.add_raters([code])

        def create() -> lab_security.Credential:
            with self.store.admin() as conn:
                database = conn.exec_driver_sql("SELECT current_database()").scalar_one()
                name = login or lab_security.default_login(database, code or "lead")
                return lab_security.add_person(
                    conn, self.store.location.url, kind=kind, login=name, code=code
                )

        credential = retry_on_conflict(create)
        with self.store.transaction() as s:
            log_change(s, LEAD, "add", "login", credential.login, new={"kind": kind, "rater": code})
        return credential

    def remove_person(self, login: str) -> None:
        """Lab mode: stop a login from logging in (its history rows keep its name)."""
        with self.store.admin() as conn:
            lab_security.remove_person(conn, login)
        with self.store.transaction() as s:
            log_change(s, LEAD, "remove", "login", login)

    def people(self) -> list[dict[str, Any]]:
        """Lab mode: every login of the lab (login, kind, rater, active)."""
        with self.store.admin() as conn:
            return lab_security.people(conn)

    def change_password(self, password: str) -> None:
        """Lab mode: set this login's own password (after a one-time one)."""
        with self.store.admin() as conn:
            lab_security.change_own_password(conn, password)

    # ------------------------------------------------------------------ codings

    def rater_view(self, code: str) -> RaterView:
        """The data layer a rater works through: only their own codings."""
        with self.store.read() as s:
            rater = rater_row(s, code)
        return RaterView(self, rater.id, rater.code)

    def add_coding(
        self,
        session_key: str,
        rater: str,
        scale_id: str,
        *,
        role: str = CodingRole.PRIMARY,
        queue_position: int = 0,
        plan_id: int | None = None,
        recode: bool = False,
        actor: str = LEAD,
    ) -> CodingId:
        """Assign one coding directly, under the scale's newest version (plans normally
        do this in bulk).

        Args:
            recode: The coding re-codes the rater's earlier coding of the session on an
                older version of the scale, and counts in its place once finished (see
                :func:`coder.analysis_set.analysis_codings`).

        Raises:
            InputError: an unknown session, rater or scale; with ``recode``, no earlier
                coding of the rater to re-code.
        """
        with self.store.transaction() as s:
            session = s.scalar(select(SessionRow).where(SessionRow.session_key == session_key))
            if session is None:
                raise InputError(f"no session {session_key!r} in this project")
            rater_id = rater_row(s, rater).id
            scale_pk = latest_scale_pk(s, scale_id)
            recode_of = None
            if recode:
                recode_of = s.scalar(
                    select(func.max(CodingRow.id))
                    .join(ScaleRow, ScaleRow.id == CodingRow.scale_pk)
                    .where(
                        CodingRow.session_id == session.id,
                        CodingRow.rater_id == rater_id,
                        ScaleRow.scale_id == scale_id,
                        CodingRow.scale_pk != scale_pk,
                    )
                )
                if recode_of is None:
                    raise InputError(
                        f"{rater} has no coding of {session_key} on an older version of "
                        f"{scale_id} to re-code"
                    )
            row = insert_coding(
                s,
                session_id=session.id,
                rater_id=rater_id,
                scale_pk=scale_pk,
                role=role,
                queue_position=queue_position,
                plan_id=plan_id,
                actor=actor,
                described={"session": session_key, "rater": rater, "scale": scale_id},
            )
            if recode_of is not None:
                row.recode_of = int(recode_of)
                log_change(
                    s,
                    actor,
                    "recode",
                    "coding",
                    str(row.id),
                    coding_id=row.id,
                    field="recode_of",
                    new=int(recode_of),
                )
            return CodingId(row.id)

    def allow_reopen(self, coding_id: int, allowed: bool = True, *, actor: str = LEAD) -> OpChanges:
        """Let the rater change a finished coding again (or stop letting them).

        Returns:
            What changed: the coding (its reopen permission).
        """
        with self.store.transaction() as s:
            codings.set_reopen_allowed(s, coding_id, allowed, actor=actor)
        return OpChanges(codings=True)


def _session_info(sess: SessionRow, audio: Any) -> SessionInfo:
    return SessionInfo(
        id=SessionId(sess.id),
        key=sess.session_key,
        patient=sess.patient,
        therapist=sess.therapist,
        session_number=sess.session_number,
        phase=sess.phase,
        date=sess.date,
        audio_path=audio.path if audio is not None else None,
        audio_status=sess.audio_status,
        audio_reason=sess.audio_reason,
        duration_ms=audio.duration_ms if audio is not None else None,
        sha256=audio.sha256 if audio is not None else None,
        training=sess.training,
        metadata=json.loads(sess.metadata_json or "{}"),
    )


def insert_coding(
    s: DbSession,
    *,
    session_id: int,
    rater_id: int,
    scale_pk: int,
    role: str,
    queue_position: int,
    actor: str,
    described: Mapping[str, Any],
    plan_id: int | None = None,
    queue_order: int | None = None,
) -> CodingRow:
    """Add one not-started coding and its history row (in the caller's transaction).

    ``described`` names the session, rater and scale for the history (by key and
    code, not by database id); the role is added to it. ``queue_order``: its place in
    the rater's queue; by default at the end (:func:`coder.store.rows.queue_end`).
    """
    row = CodingRow(
        session_id=session_id,
        rater_id=rater_id,
        scale_pk=scale_pk,
        plan_id=plan_id,
        role=role,
        queue_position=queue_position,
        queue_order=queue_end(s, rater_id) if queue_order is None else queue_order,
        state=CodingStatus.NOT_STARTED,
        uncodable_reason="",
        uncodable_text="",
        playhead_ms=0,
        reopen_allowed=False,
    )
    s.add(row)
    s.flush()
    log_change(
        s, actor, "assign", "coding", str(row.id), coding_id=row.id, new={**described, "role": role}
    )
    return row


class RaterView:
    """One rater's window on a project: their queue and their codings, nothing else.

    Every query joins on this rater's id, so it cannot return another rater's rows,
    and nothing returned says whether a session is double-coded.
    """

    def __init__(self, project: Project, rater_id: int, code: str) -> None:
        self._project = project
        self._rater_id = rater_id
        self.code = code

    def queue(self) -> list[QueueEntry]:
        """This rater's codings in queue order (new work after older; never renumbered)."""
        project = self._project
        with project.store.read() as s:
            rows = s.execute(
                select(CodingRow, SessionRow.session_key)
                .join(SessionRow, SessionRow.id == CodingRow.session_id)
                .where(CodingRow.rater_id == self._rater_id)
                .order_by(CodingRow.queue_order, CodingRow.id)
            ).all()
            counts = dict(
                s.execute(
                    select(RatingRow.coding_id, func.count())
                    .join(CodingRow, CodingRow.id == RatingRow.coding_id)
                    .where(CodingRow.rater_id == self._rater_id)
                    .where((RatingRow.value.is_not(None)) | (RatingRow.text.is_not(None)))
                    .group_by(RatingRow.coding_id)
                ).all()
            )
            entries = []
            for coding, key in rows:
                scale = project.scale_by_pk(s, coding.scale_pk)
                entries.append(
                    QueueEntry(
                        CodingId(coding.id),
                        key,
                        scale.id,
                        scale.name,
                        coding.state,
                        coding.queue_order,
                        counts.get(coding.id, 0),
                        len(scale.items),
                        coding.scale_group_id,
                    )
                )
        return entries

    def group_codings(self, coding_id: int) -> list[CodingId]:
        """The codings opened together with one of this rater's codings: those of the
        same session whose scales were planned together with its scale (the coding
        itself among them), in the order they were planned; just ``[coding_id]`` for a
        coding planned alone.

        Raises:
            InputError: the coding is not this rater's.
        """
        with self._project.store.read() as s:
            row = self._own(s, coding_id)
            if row.scale_group_id is None:
                return [CodingId(row.id)]
            rows = s.execute(
                select(CodingRow.id, ScaleRow.scale_id)
                .join(ScaleRow, ScaleRow.id == CodingRow.scale_pk)
                .where(
                    CodingRow.rater_id == self._rater_id,
                    CodingRow.session_id == row.session_id,
                    CodingRow.scale_group_id == row.scale_group_id,
                )
                .order_by(CodingRow.id)
            ).all()
        # One coding per scale: a re-code under a newer version stands for the coding
        # it re-codes (and the coding asked for always stands for its scale).
        own_scale = next(scale for coding, scale in rows if coding == row.id)
        newest: dict[str, int] = {}
        for coding, scale in rows:
            newest[scale] = row.id if scale == own_scale else coding
        return [CodingId(i) for i in sorted(newest.values())]

    def _own(self, s: DbSession, coding_id: int, *, lock: bool = False) -> CodingRow:
        return codings.own_coding(s, coding_id, rater_id=self._rater_id, rater=self.code, lock=lock)

    def coding(self, coding_id: int) -> CodingState:
        """Load one of this rater's codings with its scores, notes, spans and playhead."""
        from coder.store.models import AudioFileRow

        project = self._project
        as_rater = project.login_kind() == "rater"  # asked once per project, then kept
        with project.store.read() as s:
            row = self._own(s, coding_id)
            session = s.get(SessionRow, row.session_id)
            assert session is not None
            audio = s.get(AudioFileRow, session.audio_id) if session.audio_id else None
            scale = project.scale_by_pk(s, row.scale_pk)
            values, texts = codings.ratings(s, row.id)
            prepared = prepared_store.for_coding(
                s,
                coding_id=row.id,
                scale_id=scale.id,
                session_key=session.session_key,
                metadata_json=session.metadata_json,
                as_rater=as_rater,
            )
            notes = s.scalars(
                select(NoteRow)
                .where(NoteRow.coding_id == row.id, NoteRow.deleted.is_(False))
                .order_by(NoteRow.position_ms, NoteRow.id)
            ).all()
            spans = s.scalars(
                select(SpanRow)
                .where(SpanRow.coding_id == row.id, SpanRow.deleted.is_(False))
                .order_by(SpanRow.start_ms, SpanRow.id)
            ).all()
        return CodingState(
            coding_id=CodingId(row.id),
            rater=self.code,
            session_key=session.session_key,
            scale=scale,
            state=row.state,
            values=values,
            texts=texts,
            notes=tuple(Note(n.id, n.position_ms, n.text) for n in notes),
            spans=tuple(Span(sp.id, sp.item_id, sp.start_ms, sp.end_ms) for sp in spans),
            uncodable_reason=row.uncodable_reason,
            uncodable_text=row.uncodable_text,
            playhead_ms=row.playhead_ms,
            audio_path=audio.path if audio else None,
            audio_status=session.audio_status,
            audio_reason=session.audio_reason,
            duration_ms=audio.duration_ms if audio else None,
            sha256=audio.sha256 if audio else None,
            reopen_allowed=row.reopen_allowed,
            window_offset_ms=offset_of(
                session.session_key, json.loads(session.metadata_json or "{}")
            ),
            prepared=prepared,
        )

    # Writes. Each is one transaction with its history row(s), written by
    # coder.store.codings after the rules of coder.coding_rules allow the change.

    def _editable(self, s: DbSession, coding_id: int) -> CodingRow:
        return codings.open_for_change(s, coding_id, rater_id=self._rater_id, rater=self.code)

    def set_value(self, coding_id: int, item_id: str, value: float | None) -> None:
        """Score a numeric item (None clears it)."""
        with self._project.store.transaction() as s:
            row = self._editable(s, coding_id)
            item = item_of(self._project.scale_by_pk(s, row.scale_pk), item_id)
            check_number(item, value)
            codings.set_rating(s, row.id, item_id, value=value, text=None, actor=self.code)

    def set_text(self, coding_id: int, item_id: str, text: str) -> None:
        """Write a text item's text ("" clears it)."""
        with self._project.store.transaction() as s:
            row = self._editable(s, coding_id)
            check_text_item(item_of(self._project.scale_by_pk(s, row.scale_pk), item_id))
            codings.set_rating(s, row.id, item_id, value=None, text=text, actor=self.code)

    def add_note(self, coding_id: int, position_ms: int, text: str = "") -> int:
        check_note_text(text)  # an empty note is never stored
        with self._project.store.transaction() as s:
            row = self._editable(s, coding_id)
            return codings.add_note(s, row.id, position_ms, text, actor=self.code).id

    def update_note(
        self,
        coding_id: int,
        note_id: int,
        *,
        text: str | None = None,
        position_ms: int | None = None,
    ) -> None:
        if text is not None:
            check_note_text(text)  # clearing a note is delete_note, not an empty text
        with self._project.store.transaction() as s:
            row = self._editable(s, coding_id)
            note = codings.own_child(s, NoteRow, note_id, row.id)
            codings.edit_note(s, note, text=text, position_ms=position_ms, actor=self.code)

    def delete_note(self, coding_id: int, note_id: int) -> None:
        with self._project.store.transaction() as s:
            row = self._editable(s, coding_id)
            codings.delete_note(s, codings.own_child(s, NoteRow, note_id, row.id), actor=self.code)

    def add_span(
        self, coding_id: int, item_id: str, start_ms: int, end_ms: int | None = None
    ) -> int:
        with self._project.store.transaction() as s:
            row = self._editable(s, coding_id)
            item_of(self._project.scale_by_pk(s, row.scale_pk), item_id, ItemKind.DURATION)
            return codings.add_span(s, row.id, item_id, start_ms, end_ms, actor=self.code).id

    def update_span(
        self,
        coding_id: int,
        span_id: int,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> None:
        with self._project.store.transaction() as s:
            row = self._editable(s, coding_id)
            span = codings.own_child(s, SpanRow, span_id, row.id)
            codings.edit_span(s, span, start_ms=start_ms, end_ms=end_ms, actor=self.code)

    def delete_span(self, coding_id: int, span_id: int) -> None:
        with self._project.store.transaction() as s:
            row = self._editable(s, coding_id)
            codings.delete_span(s, codings.own_child(s, SpanRow, span_id, row.id), actor=self.code)

    def set_playhead(self, coding_id: int, position_ms: int) -> None:
        """Remember where the rater is (not a scoring change: no history row)."""
        with self._project.store.transaction() as s:
            self._own(s, coding_id, lock=True).playhead_ms = max(0, int(position_ms))

    def record_window(self, coding_id: int, *, inside: bool, position_ms: int) -> None:
        """Record in the coding's history that the rater left the coding window on
        purpose (``inside`` False) or went back to it (True), and where the playhead was."""
        with self._project.store.transaction() as s:
            row = self._own(s, coding_id)
            log_change(
                s,
                self.code,
                RETURN_TO_WINDOW if inside else LEAVE_WINDOW,
                "coding",
                str(row.id),
                coding_id=row.id,
                field="window",
                new={"position_ms": max(0, int(position_ms))},
            )

    def set_uncodable(self, coding_id: int, reason: str, text: str = "") -> None:
        """Mark the session uncodable with one of the scale's reasons.

        Raises:
            InputError: an unknown reason, or "Other" without a text.
        """
        with self._project.store.transaction() as s:
            row = self._editable(s, coding_id)
            scale = self._project.scale_by_pk(s, row.scale_pk)
            check_uncodable(scale.uncodable_reasons, reason, text)
            codings.set_state(
                s, row, CodingStatus.UNCODABLE, actor=self.code, reason=reason, text=text
            )

    def missing_required(self, coding_id: int) -> list[str]:
        """Labels of the required items not yet scored (spans count for durations)."""
        state = self.coding(coding_id)
        return missing_required(state.scale, state.values, state.texts)

    def submit(self, coding_id: int) -> None:
        """Submit a coding.

        Raises:
            InputError: naming every required item not yet scored (nothing is written).
        """
        with self._project.store.transaction() as s:
            row = self._editable(s, coding_id)
            values, texts = codings.ratings(s, row.id)
            check_submittable(self._project.scale_by_pk(s, row.scale_pk), values, texts)
            codings.set_state(s, row, CodingStatus.SUBMITTED, actor=self.code)
