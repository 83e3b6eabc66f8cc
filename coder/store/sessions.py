"""Adding sessions to a project: the public way, with the importer's checks.

A session normally comes from a manifest (:func:`coder.importer.import_manifest`);
:func:`add_session` and :func:`add_sessions` add sessions directly (for tests, benches
and tools) with the same checks (:func:`session_problems`) and the same rows: one
``sessions`` row, an ``audio_files`` row when a recording is given, and a history row
per session (:func:`insert_session`, which the importer's store module uses for its
new sessions too).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from coder.errors import InputError, TextLimitError
from coder.session_fields import (
    CONTROL,
    check_session_number,
    parse_session_date,
    session_id_problem,
    shown,
)
from coder.store.faults import retry_on_conflict
from coder.store.models import AudioFileRow, SessionRow
from coder.store.project import LEAD, Project, SessionId
from coder.store.rows import log_change
from coder.store.text_checks import check_fields
from coder.text_limits import check_metadata

AUDIO_STATUSES = ("ok", "missing", "unreadable")
NO_AUDIO_REASON = "no audio file given"  # the importer's reason for a row without audio


@dataclass(frozen=True)
class Recording:
    """What is known about a session's audio file (as an import probes it)."""

    path: str
    duration_ms: int | None = None
    size_bytes: int | None = None
    mtime_ns: int | None = None
    sample_rate: int | None = None
    channels: int | None = None
    sha256: str | None = None
    format: str | None = None


@dataclass(frozen=True)
class NewSession:
    """A session to add. See :func:`add_session` for the fields.

    ``audio_status`` defaults to ``ok`` with a recording and ``missing`` without one;
    ``audio_reason`` to "" when the status is ``ok`` and otherwise to the importer's
    reason for a row without audio.
    """

    key: str
    patient: str = ""
    therapist: str = ""
    session_number: int | None = None
    phase: str = ""
    date: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
    training: bool = False
    recording: Recording | None = None
    audio_status: str | None = None
    audio_reason: str | None = None

    @property
    def status(self) -> str:
        """The audio status to store."""
        if self.audio_status is not None:
            return self.audio_status
        return "ok" if self.recording is not None else "missing"

    @property
    def reason(self) -> str:
        """The audio reason to store."""
        if self.audio_reason is not None:
            return self.audio_reason
        return "" if self.status == "ok" else NO_AUDIO_REASON

    def texts(self) -> dict[str, str]:
        """The short text fields by column name (the id under ``session_key``)."""
        return {
            "session_key": self.key,
            "patient": self.patient,
            "therapist": self.therapist,
            "phase": self.phase,
            "date": self.date,
        }


def check_session_limits(session: NewSession) -> None:
    """Apply the text limits of every backend to a session's texts and metadata.

    Raises:
        TextLimitError: the first text that breaks a limit (NUL, or too long for its
            column or for :data:`coder.text_limits.METADATA_VALUE_LIMIT`).
    """
    check_fields(SessionRow, session.texts())
    check_metadata(json.dumps(dict(session.metadata)))


def session_problems(session: NewSession) -> list[str]:
    """Everything that keeps a session from being stored, as the importer words it.

    The rules are the manifest's (:mod:`coder.session_fields`) and the text limits
    (:func:`check_session_limits`); a duplicate id is found when writing.

    Returns:
        The reasons, in the order the importer reports them; empty when it can be added.
    """
    reasons: list[str] = []
    texts = {
        "session_id": session.key,
        **{k: v for k, v in session.texts().items() if k != "session_key"},
        **{str(k): str(v) for k, v in session.metadata.items()},
    }
    bad_text = [name for name, value in texts.items() if CONTROL.search(value)]
    if bad_text:
        reasons.append(f"{bad_text[0]} holds a control character (such as NUL); remove it")
    id_problem = session_id_problem(session.key, control=False)
    if id_problem is not None:
        reasons.append(id_problem)
    try:
        check_session_number(session.session_number)
    except ValueError as exc:
        reasons.append(str(exc))
    if session.date:
        try:
            if parse_session_date(session.date) != session.date:
                reasons.append(
                    f"date {shown(session.date)} is not written as YYYY-MM-DD, e.g. 2024-03-31"
                )
        except ValueError as exc:
            reasons.append(str(exc))
    if session.status not in AUDIO_STATUSES:
        reasons.append(f"audio status {session.status!r} is not one of {', '.join(AUDIO_STATUSES)}")
    if not reasons:
        try:
            check_session_limits(session)
        except TextLimitError as exc:
            reasons.append(str(exc))
    return reasons


def insert_session(
    s: DbSession,
    session: NewSession,
    *,
    audio_id: int | None,
    actor: str,
    action: str = "add",
) -> SessionRow:
    """Add one session row and its history row, in the caller's transaction.

    The caller has checked the session (:func:`session_problems`) and that its key is
    new; ``audio_id`` is its recording's ``audio_files`` row, if any.
    """
    row = SessionRow(
        session_key=session.key,
        patient=session.patient,
        therapist=session.therapist,
        session_number=session.session_number,
        phase=session.phase,
        date=session.date,
        metadata_json=json.dumps(dict(session.metadata), sort_keys=True),
        audio_id=audio_id,
        audio_status=session.status,
        audio_reason=session.reason,
        training=session.training,
    )
    s.add(row)
    s.flush()
    log_change(s, actor, action, "session", session.key)
    return row


def _audio_row(s: DbSession, session: NewSession) -> int | None:
    """The id of the session's recording row: the row of its path, or a new one."""
    rec = session.recording
    if rec is None:
        return None
    row = s.scalar(select(AudioFileRow).where(AudioFileRow.path == rec.path))
    if row is not None:
        if row.sha256 != rec.sha256:
            raise InputError(
                f"cannot add session {session.key!r}: its recording {rec.path} is already "
                "in the project with other content; import a manifest to change a recording"
            )
        return int(row.id)
    row = AudioFileRow(
        path=rec.path,
        size_bytes=rec.size_bytes,
        mtime_ns=rec.mtime_ns,
        duration_ms=rec.duration_ms,
        sample_rate=rec.sample_rate,
        channels=rec.channels,
        sha256=rec.sha256,
        format=rec.format,
    )
    s.add(row)
    s.flush()
    return int(row.id)


def add_sessions(
    project: Project, sessions: Sequence[NewSession], *, actor: str = LEAD
) -> list[SessionId]:
    """Add sessions in one transaction: all of them, or (on any problem) none.

    Returns:
        The new sessions' ids, in the given order.

    Raises:
        InputError: a session breaks a rule of :func:`session_problems` (the message
            names it and every reason), its id is given twice or is already in the
            project, or its recording's path is known with other content.
    """
    keys: set[str] = set()
    for session in sessions:
        reasons = session_problems(session)
        if session.key in keys:
            reasons.append("its session_id is given twice")
        keys.add(session.key)
        if reasons:
            raise InputError(
                f"cannot add session {session.key[:64]!r}: {'; '.join(reasons)}; nothing was added"
            )

    def add_all() -> list[SessionId]:
        ids: list[SessionId] = []
        with project.store.transaction() as s:
            existing = set(
                s.scalars(select(SessionRow.session_key).where(SessionRow.session_key.in_(keys)))
            )
            if existing:
                raise InputError(
                    f"session {sorted(existing)[0]!r} is already in this project; nothing was "
                    "added (re-import its manifest to change a session)"
                )
            for session in sessions:
                row = insert_session(s, session, audio_id=_audio_row(s, session), actor=actor)
                ids.append(SessionId(row.id))
        return ids

    return retry_on_conflict(add_all)


def add_session(
    project: Project,
    key: str,
    *,
    patient: str = "",
    therapist: str = "",
    session_number: int | None = None,
    phase: str = "",
    date: str = "",
    metadata: Mapping[str, str] | None = None,
    training: bool = False,
    recording: Recording | None = None,
    audio_status: str | None = None,
    audio_reason: str | None = None,
    actor: str = LEAD,
) -> SessionId:
    """Add one session, checked as a manifest row is, with its history row.

    Args:
        project: The open project.
        key: The session id users see (``session_id`` in a manifest).
        patient: Patient id.
        therapist: Therapist id.
        session_number: Plain number up to ``MAX_SESSION_NUMBER``, or None.
        phase: Phase name.
        date: ``YYYY-MM-DD`` or "".
        metadata: The manifest's extra columns (column -> text).
        training: A training session (see :meth:`Project.set_training`).
        recording: The session's audio file, as probed; None for no audio.
        audio_status: ``ok``, ``missing`` or ``unreadable`` (default: ``ok`` with a
            recording, ``missing`` without).
        audio_reason: Why the audio is not ok (default: the importer's reason).
        actor: Who the history names.

    Returns:
        The new session's id.

    Raises:
        InputError: see :func:`add_sessions`.
    """
    session = NewSession(
        key=key,
        patient=patient,
        therapist=therapist,
        session_number=session_number,
        phase=phase,
        date=date,
        metadata=dict(metadata or {}),
        training=training,
        recording=recording,
        audio_status=audio_status,
        audio_reason=audio_reason,
    )
    return add_sessions(project, [session], actor=actor)[0]
