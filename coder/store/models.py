"""The project database schema (SQLAlchemy 2 ORM), the same on SQLite and PostgreSQL.

The tables here describe the newest schema revision: a new SQLite project is made from
them (``create_all``). Alembic migrations in ``coder/store/migrations/versions`` upgrade
older files and create PostgreSQL databases; tests check that migrating from the first
revision produces exactly these tables. Columns that a migration added to existing rows
carry that migration's server default here too, so both ways give the same schema.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from coder.kinds import CodingRole, CodingStatus


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class ProjectRow(Base):
    """One row: the project's name and settings (JSON)."""

    __tablename__ = "project"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    settings_json: Mapped[str] = mapped_column(Text, default="{}")


class ScaleRow(Base):
    """A copy of a scale definition as it was when added; codings point at it."""

    __tablename__ = "scales"
    __table_args__ = (UniqueConstraint("scale_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scale_id: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RaterRow(Base):
    __tablename__ = "raters"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Lab mode: the rater's own PostgreSQL login (coder.store.lab_security); None in a
    # single-file project and for raters who have no login yet.
    login: Mapped[str | None] = mapped_column(String(100), nullable=True, unique=True)


class RaterPoolRow(Base):
    """A named group of raters (e.g. the raters of one scale, kept apart from another's)."""

    __tablename__ = "rater_pools"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class RaterPoolMemberRow(Base):
    __tablename__ = "rater_pool_members"
    pool_id: Mapped[int] = mapped_column(ForeignKey("rater_pools.id"), primary_key=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("raters.id"), primary_key=True)


class AudioFileRow(Base):
    """A probed audio file. ``sha256`` lets a moved file be found again by content."""

    __tablename__ = "audio_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    mtime_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sample_rate: Mapped[int | None] = mapped_column(Integer, nullable=True)
    channels: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    format: Mapped[str | None] = mapped_column(String(20), nullable=True)


class SessionRow(Base):
    """A recorded therapy session. ``audio_status`` is ok, missing or unreadable."""

    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_key: Mapped[str] = mapped_column(String(200), unique=True)
    patient: Mapped[str] = mapped_column(String(200), default="")
    therapist: Mapped[str] = mapped_column(String(200), default="")
    session_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    phase: Mapped[str] = mapped_column(String(50), default="")
    date: Mapped[str] = mapped_column(String(40), default="")
    metadata_json: Mapped[str] = mapped_column(Text, default="{}")
    audio_id: Mapped[int | None] = mapped_column(ForeignKey("audio_files.id"), nullable=True)
    audio_status: Mapped[str] = mapped_column(String(20), default="ok")
    audio_reason: Mapped[str] = mapped_column(Text, default="")
    training: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class PlanRow(Base):
    """A stored assignment plan: its inputs and summary (JSON)."""

    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scale_pk: Mapped[int] = mapped_column(ForeignKey("scales.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    params_json: Mapped[str] = mapped_column(Text, default="{}")
    summary_json: Mapped[str] = mapped_column(Text, default="{}")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ScaleGroupRow(Base):
    """Scales planned together (``assign --scale A --scale B``): for every session of
    the plan the same raters code all of them, in one listening.

    ``scales`` lists the scale ids in the order the lead gave them (the order of the
    rater's tabs); the codings stay one per scale and name their group
    (``codings.scale_group_id``).
    """

    __tablename__ = "scale_groups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scales: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")


class CodingRow(Base):
    """One rater's coding of one session on one scale.

    ``state`` is not_started, in_progress, submitted or uncodable. ``role`` (primary,
    second, training) is never shown to raters.
    """

    __tablename__ = "codings"
    __table_args__ = (UniqueConstraint("session_id", "rater_id", "scale_pk"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("raters.id"), index=True)
    scale_pk: Mapped[int] = mapped_column(ForeignKey("scales.id"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), nullable=True)
    role: Mapped[str] = mapped_column(String(20), default=CodingRole.PRIMARY)
    queue_position: Mapped[int] = mapped_column(Integer, default=0)
    # The coding's place in its rater's queue over every scale (ties: by id), set when
    # the coding is made (:func:`coder.store.rows.queue_end`) and never renumbered: a
    # new plan appends its work, so the rater's queue keeps its order. ``queue_position``
    # is the plan's order of the rater's work on one scale (what re-planning reads).
    queue_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    state: Mapped[str] = mapped_column(String(20), default=CodingStatus.NOT_STARTED)
    uncodable_reason: Mapped[str] = mapped_column(String(200), default="")
    uncodable_text: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    playhead_ms: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reopen_allowed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The coding this one re-codes under a newer scale version (planned with --recode);
    # once finished it counts in that coding's place.
    recode_of: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The scales this coding is planned together with (None: planned alone); the
    # rater's codings of the session with the same group open in one coding window.
    scale_group_id: Mapped[int | None] = mapped_column(ForeignKey("scale_groups.id"), nullable=True)


class RatingRow(Base):
    """An item's value in a coding: ``value`` for numbers, ``text`` for text items."""

    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("coding_id", "item_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    coding_id: Mapped[int] = mapped_column(ForeignKey("codings.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(100))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NoteRow(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    coding_id: Mapped[int] = mapped_column(ForeignKey("codings.id"), index=True)
    position_ms: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class SpanRow(Base):
    """A marked time span for a duration item (``end_ms`` None while still open)."""

    __tablename__ = "spans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    coding_id: Mapped[int] = mapped_column(ForeignKey("codings.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(100))
    start_ms: Mapped[int] = mapped_column(Integer)
    end_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class HistoryRow(Base):
    """Append-only: who changed what, when, from which value to which.

    ``actor`` is the rater code or "lead" the app names. In lab mode ``login`` is the
    database login that wrote the row, set by the server (a trigger), never by the
    client, and the server refuses every UPDATE and DELETE but the owner's
    (coder.store.lab_security); it stays None in a single-file project.
    """

    __tablename__ = "history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(200))
    coding_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    field: Mapped[str] = mapped_column(String(100), default="")
    old: Mapped[str | None] = mapped_column(Text, nullable=True)
    new: Mapped[str | None] = mapped_column(Text, nullable=True)
    login: Mapped[str | None] = mapped_column(String(100), nullable=True)


class ConsensusScoreRow(Base):
    """The score raters agreed on for one item of a double-coded session, and why.

    The independent scores in ``ratings`` are never touched; exports may use these as
    the final score and reliability still uses the independent ones.
    """

    __tablename__ = "consensus_scores"
    __table_args__ = (UniqueConstraint("session_id", "scale_pk", "item_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    scale_pk: Mapped[int] = mapped_column(ForeignKey("scales.id"))
    item_id: Mapped[str] = mapped_column(String(100))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    actor: Mapped[str] = mapped_column(String(100), default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RaterPackageRow(Base):
    """An offline rater package the lead exported, as the lead's side remembers it.

    ``state_json`` maps the package's coding, note and span ids to the project's and
    keeps the values as of the export (or the last import): the base of the three-way
    merge on import, and the conflicts left for the lead. None of it is in the package.
    """

    __tablename__ = "rater_packages"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("raters.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="", server_default="")
    content_sha256: Mapped[str] = mapped_column(String(64))
    with_audio: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    state_json: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    imported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    import_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
