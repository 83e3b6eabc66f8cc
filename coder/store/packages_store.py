"""The database side of offline rater packages (:mod:`coder.packages`).

:mod:`coder.packages` decides what a package holds and how it merges back; this module
reads and writes the rows:

* opening a package file in a given journal mode (:func:`open_file`), its integrity
  (:func:`quick_check`), what its hash covers (:func:`package_contents`), its units
  (:func:`package_units`) and its embedded audio (:func:`embed_audio`,
  :func:`embedded_audio`, :func:`audio_chunks`, :func:`set_audio_path`);
* on the lead's side, a rater's work to export (:func:`rater_work`,
  :func:`write_rater_work`, :func:`record_export`), the project's records of packages
  (:func:`package_records`), and one merge or resolve in one transaction
  (:func:`package_transaction` and its :class:`PackageTx`, whose writes add the
  history rows with the rater as the actor).

A *unit* is one mergeable piece in plain data: a coding's state
(:func:`state_unit`), a note (:func:`note_unit`), a span (:func:`span_unit`), or an
item's score ``[value, text]``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session as DbSession

from coder.coding_data import prepared_values
from coder.coding_rules import state_change
from coder.errors import Cancelled, CoderError, InputError
from coder.kinds import FINISHED_STATUSES, CodingRole, CodingStatus
from coder.scales import parse_scale
from coder.session_window import WINDOW_OFFSET_FIELD
from coder.store import codings, prepared_store
from coder.store.engine import copy_database, open_store, resolve_location
from coder.store.models import (
    AudioFileRow,
    CodingRow,
    NoteRow,
    ProjectRow,
    RaterPackageRow,
    RaterRow,
    RatingRow,
    ScaleRow,
    SessionRow,
    SpanRow,
    utcnow,
)
from coder.store.project import Project
from coder.store.rows import log_change, rater_row

__all__ = [
    "ExportedPackage",
    "PackageTx",
    "RaterWork",
    "UnreadableFile",
    "audio_chunks",
    "copy_database",
    "embed_audio",
    "embedded_audio",
    "is_lab_mode",
    "journal_mode",
    "note_unit",
    "open_file",
    "package_contents",
    "package_records",
    "package_transaction",
    "package_units",
    "quick_check",
    "rater_work",
    "record_export",
    "set_audio_path",
    "span_unit",
    "state_unit",
    "write_rater_work",
]

_CHUNK = 4 * 1024 * 1024


class UnreadableFile(CoderError):
    """SQLite cannot read a file (the message is the driver's first line)."""


# --------------------------------------------------------------------------- units


def state_unit(coding: Any) -> dict[str, Any]:
    """A coding's state as a unit: state, uncodable reason and text."""
    return {
        "state": coding.state,
        "uncodable_reason": coding.uncodable_reason,
        "uncodable_text": coding.uncodable_text,
    }


def note_unit(note: Any) -> dict[str, Any]:
    """A note as a unit: position, text, deleted."""
    return {"position_ms": note.position_ms, "text": note.text, "deleted": bool(note.deleted)}


def span_unit(span: Any) -> dict[str, Any]:
    """A span as a unit: item, start, end, deleted."""
    return {
        "item_id": span.item_id,
        "start_ms": span.start_ms,
        "end_ms": span.end_ms,
        "deleted": bool(span.deleted),
    }


def _iso(at: datetime | None) -> str | None:
    if at is None:
        return None
    if at.tzinfo is None:  # SQLite gives naive datetimes back; they were stored as UTC
        at = at.replace(tzinfo=UTC)
    return at.isoformat()


def _from_iso(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


# --------------------------------------------------------------------------- files


def is_lab_mode(path: str | Path) -> bool:
    """True when ``path`` names a PostgreSQL project (a pointer file or URL).

    Raises:
        CoderError: the path is no project at all (see ``resolve_location``).
    """
    return resolve_location(path).is_postgres


def open_file(path: str | Path, *, journal_mode: str | None) -> Project:
    """Open a SQLite project file in a journal mode (None: the file's own).

    Raises:
        UnreadableFile: SQLite cannot read the file (damaged, not a database).
        CoderError: any other reason the project cannot be opened.
    """
    try:
        location = dataclasses.replace(resolve_location(path), journal_mode=journal_mode)
        return Project(open_store(location))
    except SQLAlchemyError as exc:
        raise UnreadableFile(_reason(exc)) from None


def _reason(exc: SQLAlchemyError) -> str:
    return str(exc.orig if isinstance(exc, DBAPIError) else exc).splitlines()[0]


def journal_mode(project: Project) -> str:
    """The SQLite journal mode the open file is in, upper case (``DELETE``, ``WAL``)."""
    with project.store.read() as s:
        return str(s.execute(text("PRAGMA journal_mode")).scalar()).upper()


def quick_check(project: Project) -> list[str]:
    """SQLite's ``quick_check`` of the open file: ``["ok"]``, or what is wrong."""
    try:
        with project.store.read() as s:
            return [str(row[0]) for row in s.execute(text("PRAGMA quick_check")).all()]
    except SQLAlchemyError as exc:
        return [_reason(exc)]


# --------------------------------------------------------------------------- package side


def _embedded(s: DbSession) -> list[str]:
    if not inspect(s.connection()).has_table("package_audio"):
        return []  # a package without audio
    return [r[0] for r in s.execute(text("SELECT DISTINCT sha256 FROM package_audio")).all()]


def _window_metadata(metadata_json: str | None) -> dict[str, str]:
    """The part of a session's metadata a package carries: its window offset, if any."""
    offset = json.loads(metadata_json or "{}").get(WINDOW_OFFSET_FIELD, "")
    return {WINDOW_OFFSET_FIELD: str(offset)} if offset else {}


def package_contents(package: Project) -> dict[str, Any]:
    """What a package's hash covers besides its manifest, as sorted plain lists.

    Scales (id, version, source), sessions (key and audio SHA-256, duration, size),
    rater codes, codings (id, session, scale, version, queue position, rater) and the
    SHA-256 of the embedded audio.
    """
    with package.store.read() as s:
        scales = sorted(
            [r.scale_id, r.version, r.source] for r in s.scalars(select(ScaleRow)).all()
        )
        sessions = sorted(
            [sess.session_key, a.sha256 if a else None, a.duration_ms if a else None]
            + [a.size_bytes if a else None]
            # A window offset is covered too (absent ones add nothing, so the hash of a
            # package without offsets is what it always was).
            + list(_window_metadata(sess.metadata_json).values())
            for sess, a in s.execute(
                select(SessionRow, AudioFileRow).outerjoin(
                    AudioFileRow, AudioFileRow.id == SessionRow.audio_id
                )
            ).all()
        )
        raters = sorted(s.scalars(select(RaterRow.code)).all())
        codings = sorted(
            [c.id, key, sid, version, c.queue_position, code]
            for c, key, sid, version, code in s.execute(
                select(
                    CodingRow,
                    SessionRow.session_key,
                    ScaleRow.scale_id,
                    ScaleRow.version,
                    RaterRow.code,
                )
                .join(SessionRow, SessionRow.id == CodingRow.session_id)
                .join(ScaleRow, ScaleRow.id == CodingRow.scale_pk)
                .join(RaterRow, RaterRow.id == CodingRow.rater_id)
            ).all()
        )
        audio = _embedded(s)
    return {
        "scales": scales,
        "sessions": sessions,
        "raters": raters,
        "codings": codings,
        "audio": sorted(audio),
    }


def package_units(package: Project) -> dict[str, dict[str, Any]]:
    """Every coding of a package as units, by the package's coding id (as text).

    Each coding: ``scale`` (the parsed scale), ``state``, ``started_at`` and
    ``submitted_at`` (ISO 8601 or None), ``playhead_ms``, and ``ratings`` (item ->
    ``[value, text]``), ``notes`` and ``spans`` (package id as text -> unit).
    """
    codings: dict[str, dict[str, Any]] = {}
    with package.store.read() as s:
        scales = {r.id: parse_scale(r.source) for r in s.scalars(select(ScaleRow))}
        for c in s.scalars(select(CodingRow)):
            codings[str(c.id)] = {
                "scale": scales[c.scale_pk],
                "state": state_unit(c),
                "started_at": _iso(c.started_at),
                "submitted_at": _iso(c.submitted_at),
                "playhead_ms": c.playhead_ms,
                "ratings": {},
                "notes": {},
                "spans": {},
            }
        for r in s.scalars(select(RatingRow)):
            codings[str(r.coding_id)]["ratings"][r.item_id] = [r.value, r.text]
        for n in s.scalars(select(NoteRow)):
            codings[str(n.coding_id)]["notes"][str(n.id)] = note_unit(n)
        for sp in s.scalars(select(SpanRow)):
            codings[str(sp.coding_id)]["spans"][str(sp.id)] = span_unit(sp)
    return codings


def embed_audio(
    package: Project,
    audio: Sequence[tuple[str, str]],
    *,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> None:
    """Store audio files in the package (table ``package_audio``, in chunks).

    Args:
        package: The package being written.
        audio: ``(path, sha256)`` of each file; a SHA-256 is stored once.
        progress: Called after each chunk with the bytes stored so far and the bytes
            to store in all.
        cancelled: Polled before each chunk; when it returns True the file being
            stored is rolled back and :class:`~coder.errors.Cancelled` is raised.

    Raises:
        InputError: a file cannot be read.
        Cancelled: ``cancelled()`` returned True.
    """
    with package.store.transaction() as p:
        p.execute(
            text(
                "CREATE TABLE package_audio (sha256 VARCHAR(64) NOT NULL, seq INTEGER NOT NULL, "
                "data BLOB NOT NULL, PRIMARY KEY (sha256, seq))"
            )
        )
    unique: dict[str, str] = {}  # sha256 -> the first path with it
    for path, sha in audio:
        unique.setdefault(sha, path)
    try:
        total = sum(Path(path).stat().st_size for path in unique.values())
    except OSError as exc:
        raise InputError(f"cannot read the audio file {exc.filename}: {exc.strerror}") from None
    stored = 0
    for sha, path in unique.items():
        try:
            with Path(path).open("rb") as fh, package.store.transaction() as p:
                seq = 0
                while True:
                    if cancelled is not None and cancelled():
                        raise Cancelled("the package was not written (cancelled)")
                    chunk = fh.read(_CHUNK)
                    if not chunk:
                        break
                    p.execute(
                        text("INSERT INTO package_audio VALUES (:sha, :seq, :data)"),
                        {"sha": sha, "seq": seq, "data": chunk},
                    )
                    seq += 1
                    stored += len(chunk)
                    if progress is not None:
                        progress(stored, max(total, stored))
        except OSError as exc:
            raise InputError(f"cannot read the audio file {path}: {exc.strerror}") from None


def embedded_audio(package: Project) -> list[tuple[int, str, str]]:
    """The package's audio rows whose file is embedded: ``(audio id, path, sha256)``."""
    with package.store.read() as s:
        embedded = set(_embedded(s))
        return [
            (row.id, row.path, str(row.sha256))
            for row in s.scalars(select(AudioFileRow))
            if row.sha256 in embedded
        ]


def audio_chunks(package: Project, sha256: str) -> Iterator[bytes]:
    """The embedded file with this SHA-256, chunk by chunk."""
    with package.store.read() as s:
        for (chunk,) in s.execute(
            text("SELECT data FROM package_audio WHERE sha256 = :sha ORDER BY seq"),
            {"sha": sha256},
        ):
            yield chunk


def set_audio_path(package: Project, audio_id: int, path: str) -> None:
    """Point a package's audio row at the file unpacked on this machine (no history)."""
    with package.store.transaction() as s:
        row = s.get(AudioFileRow, audio_id)
        assert row is not None
        row.path = path


# --------------------------------------------------------------------------- export


@dataclass(frozen=True)
class RaterWork:
    """A rater's codings as read for an export (rows stay inside the store).

    Attributes:
        rater: The rater's code.
        codings: How many codings (every state).
        audio: ``(path, sha256)`` of each coding's fingerprinted recording.
    """

    rater: str
    codings: int
    audio: tuple[tuple[str, str], ...]
    _rater_id: int
    _rows: tuple[Any, ...]
    _scales: Mapping[int, Any]
    _ratings: tuple[Any, ...]
    _notes: tuple[Any, ...]
    _spans: tuple[Any, ...]


def rater_work(project: Project, rater: str) -> RaterWork:
    """Read a rater's codings with their sessions, audio, scales, scores, notes, spans.

    Raises:
        InputError: no such rater, or the rater has no codings.
    """
    with project.store.read() as s:
        rater_rec = rater_row(s, rater)
        rows = s.execute(
            select(CodingRow, SessionRow, AudioFileRow)
            .join(SessionRow, SessionRow.id == CodingRow.session_id)
            .outerjoin(AudioFileRow, AudioFileRow.id == SessionRow.audio_id)
            .where(CodingRow.rater_id == rater_rec.id)
            .order_by(CodingRow.queue_order, CodingRow.id)
        ).all()
        if not rows:
            raise InputError(f"{rater} has no codings to take offline; assign some first")
        scale_rows = {
            r.id: r
            for r in s.scalars(
                select(ScaleRow).where(ScaleRow.id.in_({c.scale_pk for c, _s, _a in rows}))
            )
        }
        ids = [c.id for c, _s, _a in rows]
        ratings = s.scalars(select(RatingRow).where(RatingRow.coding_id.in_(ids))).all()
        notes = s.scalars(
            select(NoteRow).where(NoteRow.coding_id.in_(ids), NoteRow.deleted.is_(False))
        ).all()
        spans = s.scalars(
            select(SpanRow).where(SpanRow.coding_id.in_(ids), SpanRow.deleted.is_(False))
        ).all()
    return RaterWork(
        rater=rater,
        codings=len(rows),
        audio=tuple((a.path, a.sha256) for _c, _s, a in rows if a is not None and a.sha256),
        _rater_id=rater_rec.id,
        _rows=tuple(tuple(r) for r in rows),
        _scales=scale_rows,
        _ratings=tuple(ratings),
        _notes=tuple(notes),
        _spans=tuple(spans),
    )


def prepared_for(project: Project, work: RaterWork) -> dict[str, Any]:
    """The fields the lab prepared for the rater's scales, as a package carries them.

    A package's sessions keep only their window offset, so each field's text (the
    lead's entered value, else the manifest's: :func:`coder.coding_data.prepared_values`)
    travels as an entered value of the package's session; only the fields the lead
    shows the package's scales, on the package's sessions. ``{}`` when none.
    """
    settings = prepared_store.read(project)
    scale_ids = {row.scale_id for row in work._scales.values()}
    shown = {sid: fields for sid, fields in settings.shown.items() if sid in scale_ids}
    names = list(dict.fromkeys(f for fields in shown.values() for f in fields))
    if not names:
        return {}
    values: dict[str, dict[str, str]] = {}
    for _coding, sess, _audio in work._rows:
        entered = settings.values.get(sess.session_key, {})
        metadata = json.loads(sess.metadata_json or "{}")
        for field in prepared_values(names, metadata, entered):
            if field.value:
                values.setdefault(sess.session_key, {})[field.name] = field.value
    entry: dict[str, Any] = {"shown": {k: list(v) for k, v in shown.items()}}
    if values:
        entry["values"] = values
    return {prepared_store.SETTING: entry}


def write_rater_work(
    package: Project, work: RaterWork, settings: Mapping[str, Any]
) -> dict[str, Any]:
    """Write a rater's work into a new, empty package project, in one transaction.

    The package gets the rater (id 1), the scales, each session's key and audio
    reference (file name, size, duration, format, SHA-256; nothing about the patient),
    the codings (every role as ``primary``) with their scores, notes and spans, and
    ``settings`` as the project's settings.

    Returns:
        The project's record of the package: ``{"codings": {package coding id:
        entry}, "conflicts": []}``, each entry mapping the package's ids to the
        project's and keeping the units as exported (the base of a later merge).
    """
    state: dict[str, Any] = {"codings": {}, "conflicts": []}
    with package.store.transaction() as p:
        p.add(RaterRow(id=1, code=work.rater, name="", active=True))
        scale_pk = {}
        for i, (pk, row) in enumerate(sorted(work._scales.items()), start=1):
            p.add(
                ScaleRow(
                    id=i,
                    scale_id=row.scale_id,
                    version=row.version,
                    name=row.name,
                    source=row.source,
                )
            )
            scale_pk[pk] = i
        session_pk: dict[int, int] = {}
        for _coding, sess, audio in work._rows:
            if sess.id in session_pk:
                continue
            audio_pk = None
            if audio is not None:
                a = AudioFileRow(
                    path=Path(audio.path).name,
                    size_bytes=audio.size_bytes,
                    duration_ms=audio.duration_ms,
                    sample_rate=audio.sample_rate,
                    channels=audio.channels,
                    sha256=audio.sha256,
                    format=audio.format,
                )
                p.add(a)
                p.flush()
                audio_pk = a.id
            new = SessionRow(
                session_key=sess.session_key,
                patient="",
                therapist="",
                session_number=None,
                phase="",
                date="",
                # Only the window offset: the rater's screen must place the coding
                # window where the lead's project does (coder.session_window).
                metadata_json=json.dumps(_window_metadata(sess.metadata_json)),
                audio_id=audio_pk,
                audio_status=sess.audio_status,
                audio_reason="",
                training=False,
            )
            p.add(new)
            p.flush()
            session_pk[sess.id] = new.id
        by_coding: dict[int, dict[str, Any]] = {}
        for pkg_id, (coding, sess, _audio) in enumerate(work._rows, start=1):
            p.add(
                CodingRow(
                    id=pkg_id,
                    session_id=session_pk[sess.id],
                    rater_id=1,
                    scale_pk=scale_pk[coding.scale_pk],
                    plan_id=None,
                    role=CodingRole.PRIMARY,  # roles stay with the lead
                    queue_position=coding.queue_position,
                    queue_order=coding.queue_order,
                    state=coding.state,
                    uncodable_reason=coding.uncodable_reason,
                    uncodable_text=coding.uncodable_text,
                    started_at=coding.started_at,
                    submitted_at=coding.submitted_at,
                    playhead_ms=coding.playhead_ms,
                    reopen_allowed=coding.reopen_allowed,
                )
            )
            entry = {
                "coding_id": coding.id,
                "session": sess.session_key,
                "scale": work._scales[coding.scale_pk].scale_id,
                "reopen_allowed": coding.reopen_allowed,
                "base": {
                    "state": state_unit(coding),
                    "playhead_ms": coding.playhead_ms,
                    "ratings": {},
                },
                "notes": {},
                "spans": {},
            }
            state["codings"][str(pkg_id)] = entry
            by_coding[coding.id] = {"pkg": pkg_id, "entry": entry}
        p.flush()
        for r in work._ratings:
            target = by_coding[r.coding_id]
            p.add(
                RatingRow(
                    coding_id=target["pkg"],
                    item_id=r.item_id,
                    value=r.value,
                    text=r.text,
                    updated_at=r.updated_at,
                )
            )
            target["entry"]["base"]["ratings"][r.item_id] = [r.value, r.text]
        for n in work._notes:
            target = by_coding[n.coding_id]
            note = NoteRow(
                coding_id=target["pkg"],
                position_ms=n.position_ms,
                text=n.text,
                deleted=False,
            )
            p.add(note)
            p.flush()
            target["entry"]["notes"][str(note.id)] = {"id": n.id, "base": note_unit(n)}
        for sp in work._spans:
            target = by_coding[sp.coding_id]
            span = SpanRow(
                coding_id=target["pkg"],
                item_id=sp.item_id,
                start_ms=sp.start_ms,
                end_ms=sp.end_ms,
                deleted=False,
            )
            p.add(span)
            p.flush()
            target["entry"]["spans"][str(span.id)] = {"id": sp.id, "base": span_unit(sp)}
        settings_row = p.get(ProjectRow, 1)
        assert settings_row is not None
        settings_row.settings_json = json.dumps(dict(settings))
    return state


def record_export(
    project: Project,
    work: RaterWork,
    *,
    package_id: str,
    content_sha256: str,
    with_audio: bool,
    state: Mapping[str, Any],
    actor: str,
) -> None:
    """Keep the project's record of an exported package, with its history row."""
    with project.store.transaction() as s:
        s.add(
            RaterPackageRow(
                id=package_id,
                rater_id=work._rater_id,
                created_at=utcnow(),
                created_by=actor,
                content_sha256=content_sha256,
                with_audio=with_audio,
                state_json=json.dumps(state, sort_keys=True),
                imported_at=None,
                import_count=0,
            )
        )
        log_change(
            s,
            actor,
            "export",
            "package",
            package_id,
            new={"rater": work.rater, "codings": work.codings, "with_audio": with_audio},
        )


# --------------------------------------------------------------------------- lead's records


@dataclass(frozen=True)
class ExportedPackage:
    """The project's record of one exported package (``state`` as :func:`write_rater_work`)."""

    id: str
    rater: str
    created_at: datetime
    created_by: str
    with_audio: bool
    imported_at: datetime | None
    import_count: int
    state: Mapping[str, Any]


def package_records(project: Project, package_id: str | None = None) -> list[ExportedPackage]:
    """The records of every exported package (or of one), oldest first."""
    with project.store.read() as s:
        query = select(RaterPackageRow, RaterRow.code).join(
            RaterRow, RaterRow.id == RaterPackageRow.rater_id
        )
        if package_id is not None:
            query = query.where(RaterPackageRow.id == package_id)
        rows = s.execute(query.order_by(RaterPackageRow.created_at, RaterPackageRow.id)).all()
    return [
        ExportedPackage(
            row.id,
            code,
            row.created_at,
            row.created_by,
            row.with_audio,
            row.imported_at,
            row.import_count,
            json.loads(row.state_json),
        )
        for row, code in rows
    ]


class PackageTx:
    """One merge or resolve of a package, inside one transaction of the project.

    Reads lock what they read for writing (PostgreSQL); every write adds its history
    row with the package's rater as the actor, and counts itself in :attr:`applied`.
    Scores and notes are written by :mod:`coder.store.codings`, as the rater's own
    writes are. A span and a state are written here: a span's duration item is a
    unit of its own in the merge (``codings.add_span`` would re-sum it), and a state
    keeps the package's start and submit times (``codings.set_state`` stamps now).
    Raising inside :func:`package_transaction` rolls everything back.

    Attributes:
        rater: The code of the rater the package was exported for.
        content_sha256: The package's hash as exported.
        state: The project's record of the package (see :func:`write_rater_work`).
        applied: How many ratings, states, notes and spans were written.
    """

    def __init__(self, s: DbSession, record: RaterPackageRow, rater: str) -> None:
        self._s = s
        self._record = record
        self.rater = rater
        self.content_sha256 = record.content_sha256
        self.state: dict[str, Any] = json.loads(record.state_json)
        self.applied = {"ratings": 0, "states": 0, "notes": 0, "spans": 0}

    # reads

    def coding(self, coding_id: int) -> dict[str, Any] | None:
        """A project coding: ``rater`` (code), ``state`` (unit), ``playhead_ms``."""
        row = self._coding_row(coding_id)
        if row is None:
            return None
        code = self._s.scalar(select(RaterRow.code).where(RaterRow.id == row.rater_id))
        return {"rater": code, "state": state_unit(row), "playhead_ms": row.playhead_ms}

    def _coding_row(self, coding_id: int) -> CodingRow | None:
        return self._s.scalar(select(CodingRow).where(CodingRow.id == coding_id).with_for_update())

    def ratings(self, coding_id: int) -> dict[str, list[Any]]:
        """A project coding's scores: item -> ``[value, text]``."""
        return {
            r.item_id: [r.value, r.text]
            for r in self._s.scalars(select(RatingRow).where(RatingRow.coding_id == coding_id))
        }

    def note(self, note_id: int) -> dict[str, Any] | None:
        """A project note as a unit, or None when it is gone."""
        row = self._s.get(NoteRow, note_id)
        return None if row is None else note_unit(row)

    def span(self, span_id: int) -> dict[str, Any] | None:
        """A project span as a unit, or None when it is gone."""
        row = self._s.get(SpanRow, span_id)
        return None if row is None else span_unit(row)

    # writes

    def set_rating(self, coding_id: int, item_id: str, unit: Sequence[Any]) -> None:
        """Write an item's score ``[value, text]`` (the rater's change)."""
        value, txt = unit
        codings.set_rating(self._s, coding_id, item_id, value=value, text=txt, actor=self.rater)
        self.applied["ratings"] += 1

    def set_state(self, coding_id: int, unit: Mapping[str, Any], times: Mapping[str, Any]) -> None:
        """Write a coding's state unit, with the package's start and submit times."""
        coding = self._coding_row(coding_id)
        assert coding is not None
        old = state_unit(coding)
        coding.uncodable_reason = unit["uncodable_reason"]
        coding.uncodable_text = unit["uncodable_text"]
        coding.started_at = _from_iso(times.get("started_at")) or coding.started_at
        coding.submitted_at = _from_iso(times.get("submitted_at"))
        if unit["state"] in FINISHED_STATUSES:
            coding.reopen_allowed = False
        change = state_change(
            old["state"],
            old["uncodable_reason"],
            unit["state"],
            unit["uncodable_reason"],
            unit["uncodable_text"],
        )
        codings.apply_state(self._s, coding, CodingStatus(unit["state"]), change, actor=self.rater)
        self.applied["states"] += 1

    def put_note(self, coding_id: int, note_id: int | None, unit: Mapping[str, Any]) -> int:
        """Add a note (``note_id`` None) or write a unit over one; returns its id."""
        if note_id is None:
            note = codings.add_note(
                self._s, coding_id, unit["position_ms"], unit["text"], actor=self.rater
            )
        else:
            found = self._s.get(NoteRow, note_id)
            assert found is not None
            note = found
            if unit["deleted"] and not note.deleted:
                codings.delete_note(self._s, note, actor=self.rater)
            else:
                note.deleted = unit["deleted"]
                codings.edit_note(
                    self._s,
                    note,
                    text=unit["text"],
                    position_ms=unit["position_ms"],
                    actor=self.rater,
                )
        self.applied["notes"] += 1
        return int(note.id)

    def put_span(self, coding_id: int, span_id: int | None, unit: Mapping[str, Any]) -> int:
        """Add a span (``span_id`` None) or write a unit over one; returns its id."""
        values = {"item": unit["item_id"], "start_ms": unit["start_ms"], "end_ms": unit["end_ms"]}
        if span_id is None:
            span = SpanRow(
                coding_id=coding_id,
                item_id=unit["item_id"],
                start_ms=unit["start_ms"],
                end_ms=unit["end_ms"],
                deleted=False,
            )
            self._s.add(span)
            self._s.flush()
            log_change(
                self._s, self.rater, "add", "span", str(span.id), coding_id=coding_id, new=values
            )
        else:
            found = self._s.get(SpanRow, span_id)
            assert found is not None
            span = found
            old = {"item": span.item_id, "start_ms": span.start_ms, "end_ms": span.end_ms}
            if unit["deleted"] and not span.deleted:
                span.deleted = True
                log_change(
                    self._s,
                    self.rater,
                    "delete",
                    "span",
                    str(span.id),
                    coding_id=coding_id,
                    old=old,
                )
            else:
                span.deleted = unit["deleted"]
                span.start_ms, span.end_ms = unit["start_ms"], unit["end_ms"]
                log_change(
                    self._s,
                    self.rater,
                    "edit",
                    "span",
                    str(span.id),
                    coding_id=coding_id,
                    old={"start_ms": old["start_ms"], "end_ms": old["end_ms"]},
                    new={"start_ms": span.start_ms, "end_ms": span.end_ms},
                )
        self.applied["spans"] += 1
        return int(span.id)

    def set_playhead(self, coding_id: int, position_ms: int) -> None:
        """Move a coding's playhead to where the rater stopped (no history row)."""
        coding = self._coding_row(coding_id)
        assert coding is not None
        coding.playhead_ms = position_ms

    def save_state(self, *, imported: bool) -> None:
        """Store :attr:`state` as the project's record; ``imported`` counts an import."""
        self._record.state_json = json.dumps(self.state, sort_keys=True)
        if imported:
            self._record.imported_at = utcnow()
            self._record.import_count += 1

    def log(self, actor: str, action: str, package_id: str, **fields: Any) -> None:
        """Add the history row of the merge or resolve itself (``log_change`` fields)."""
        log_change(self._s, actor, action, "package", package_id, **fields)


@contextmanager
def package_transaction(project: Project, package_id: str) -> Iterator[PackageTx | None]:
    """One transaction on a package's record (locked for update); None when there is none.

    Committed when the block ends; rolled back (nothing written) when it raises.
    """
    with project.store.transaction() as s:
        record = s.scalar(
            select(RaterPackageRow).where(RaterPackageRow.id == package_id).with_for_update()
        )
        if record is None:
            yield None
            return
        rater = s.get(RaterRow, record.rater_id)
        assert rater is not None
        yield PackageTx(s, record, rater.code)
