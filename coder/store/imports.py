"""The import's reads and writes: sessions and their recordings, from a manifest.

:mod:`coder.importer` reads and checks a manifest and probes the audio without a
database; this module is its door to the store. :func:`write_import` writes every good
row in one transaction (retried as a whole when another lead imports at the same
moment), refusing, row by row and before that row's first write, a change of recording
under coded work; :func:`relink` points a recording at the file it moved to.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from coder.kinds import CodingStatus
from coder.store.faults import retry_on_conflict
from coder.store.models import AudioFileRow, CodingRow, SessionRow
from coder.store.project import Project
from coder.store.rows import log_change
from coder.store.sessions import NewSession, insert_session


@dataclass(frozen=True)
class StoredAudio:
    """An audio file the project knows, as an import needs it to skip re-hashing."""

    id: int
    path: str
    size_bytes: int | None
    mtime_ns: int | None
    duration_ms: int | None
    sha256: str | None


@dataclass(frozen=True)
class RowOutcome:
    """What writing one manifest row did.

    Attributes:
        key: The session id.
        outcome: ``added``, ``updated``, ``unchanged``, or ``refused`` (nothing written).
        note: The reason of a refusal, or the row's audio problem to report ("").
    """

    key: str
    outcome: str
    note: str


@dataclass(frozen=True)
class LinkedRecording:
    """A session and the audio row of its recording."""

    session_key: str
    session_pk: int
    audio_pk: int
    path: str
    size_bytes: int | None
    sha256: str | None


class _Refused(Exception):
    """A row that must not be written; the message is the reason for the report."""


def known_audio(project: Project) -> dict[str, StoredAudio]:
    """Every audio file the project knows, by path."""
    with project.store.read() as s:
        return {
            row.path: StoredAudio(
                row.id, row.path, row.size_bytes, row.mtime_ns, row.duration_ms, row.sha256
            )
            for row in s.scalars(select(AudioFileRow))
        }


def write_import(
    project: Project,
    rows: Sequence[tuple[NewSession, Mapping[str, Any]]],
    *,
    actor: str,
    allow_audio_change: bool,
) -> list[RowOutcome]:
    """Insert or update every row's session (and audio row) in one transaction.

    Args:
        project: The open project.
        rows: Each checked session with its probed audio: ``status`` (ok, missing,
            unreadable), ``reason``, ``path``, and for a readable file ``sha256`` with
            either ``info`` (a fresh :class:`coder.audio.AudioInfo`) and ``mtime_ns``,
            or ``audio_id`` (an unchanged known file).
        actor: Who the history names.
        allow_audio_change: Let a row change the recording of a session with coded
            work (the change is kept in the history either way).

    Returns:
        One outcome per row, in order. A refused row wrote nothing.
    """

    def write_all() -> list[RowOutcome]:
        # Two leads importing at once race for the same new session ids: the loser's
        # transaction runs again (coder.store.faults), its rows then updates of the
        # winner's, so the outcomes are rebuilt on each try.
        outcomes: list[RowOutcome] = []
        with project.store.transaction() as s:
            for row, audio in rows:
                try:
                    outcome, note = _write_session(s, row, audio, actor, allow_audio_change)
                except _Refused as exc:
                    outcomes.append(RowOutcome(row.key, "refused", str(exc)))
                    continue
                outcomes.append(RowOutcome(row.key, outcome, note))
        return outcomes

    return retry_on_conflict(write_all)


def _coded_work(s: DbSession, session_pk: int) -> int:
    """How many codings of a session hold work: begun, submitted or uncodable."""
    return int(
        s.scalar(
            select(func.count())
            .select_from(CodingRow)
            .where(CodingRow.session_id == session_pk, CodingRow.state != CodingStatus.NOT_STARTED)
        )
        or 0
    )


def _sessions_with_work_on(s: DbSession, audio_pk: int) -> list[str]:
    """The sessions using one audio row whose codings hold work."""
    return list(
        s.scalars(
            select(SessionRow.session_key)
            .join(CodingRow, CodingRow.session_id == SessionRow.id)
            .where(SessionRow.audio_id == audio_pk, CodingRow.state != CodingStatus.NOT_STARTED)
            .distinct()
            .order_by(SessionRow.session_key)
        )
    )


def _fingerprint(path: str | None, sha: str | None) -> dict[str, str | None]:
    return {"path": path, "sha256": sha}


def _write_session(
    s: DbSession, row: NewSession, audio: Mapping[str, Any], actor: str, allow_audio_change: bool
) -> tuple[str, str]:
    """Insert or update one session (and its audio row) inside the import's transaction.

    Every check comes before the first write, so a refused row writes nothing.

    Returns:
        added, updated or unchanged; and the row's audio problem for the report ("").

    Raises:
        _Refused: the row would change the recording under coded work.
    """
    existing = s.scalar(select(SessionRow).where(SessionRow.session_key == row.key))
    old_audio = None
    if existing is not None and existing.audio_id is not None:
        old_audio = s.get(AudioFileRow, existing.audio_id)
    new_sha = audio.get("sha256")
    recording_change: tuple[dict[str, Any], dict[str, Any]] | None = None
    if existing is not None and old_audio is not None and old_audio.sha256:
        old = _fingerprint(old_audio.path, old_audio.sha256)
        if (
            new_sha is None
            and audio.get("path") != old_audio.path
            and audio["status"] != "missing"
            and not allow_audio_change
            and (work := _coded_work(s, existing.id))
        ):
            raise _Refused(
                f"its recording would change under coded work ({work} coding(s) begun or "
                f"finished) to {Path(audio['path']).name}, whose content cannot be read "
                f"and checked ({audio['reason']}); nothing was changed for this session. "
                "If this is intended, import again with --allow-audio-change"
            )
        if new_sha is None and audio.get("path") != old_audio.path:
            if audio["status"] != "missing":
                recording_change = (old, _fingerprint(audio["path"], None))
            else:
                # The manifest names a file that is not there (a stale path after a
                # relink): never trade the session's fingerprinted recording for it,
                # which would also lose what relink needs to find it again.
                here = Path(old_audio.path).is_file()
                audio = {
                    **audio,
                    "keep_audio_id": old_audio.id,
                    "status": "ok" if here else audio["status"],
                    "note": f"{audio['reason']}; the session keeps its recording {old_audio.path}",
                }
        elif new_sha is not None and new_sha != old_audio.sha256:
            work = _coded_work(s, existing.id)
            if work and not allow_audio_change:
                raise _Refused(
                    f"its recording would change under coded work ({work} coding(s) begun "
                    f"or finished): was {Path(old_audio.path).name} (sha256 "
                    f"{old_audio.sha256[:12]}), now {Path(audio['path']).name} (sha256 "
                    f"{new_sha[:12]}); nothing was changed for this session. If this is "
                    "intended, import again with --allow-audio-change"
                )
            recording_change = (old, _fingerprint(audio["path"], new_sha))
        elif new_sha is not None and audio["path"] != old_audio.path:
            recording_change = (old, _fingerprint(audio["path"], new_sha))  # moved
    audio = dict(audio)
    audio_id = audio.get("keep_audio_id", audio.get("audio_id"))
    info = audio.get("info")
    if "keep_audio_id" in audio:
        pass
    elif info is not None:
        audio_row = s.scalar(select(AudioFileRow).where(AudioFileRow.path == audio["path"]))
        if audio_row is None:
            audio_row = AudioFileRow(path=audio["path"])
            s.add(audio_row)
        elif audio_row.sha256 and audio_row.sha256 != info.sha256 and not allow_audio_change:
            # The file's row may be another session's recording too: new bytes would
            # swap that session's recording as well.
            others = _sessions_with_work_on(s, audio_row.id)
            if others:
                raise _Refused(
                    f"the content of {Path(audio['path']).name} changed (sha256 "
                    f"{audio_row.sha256[:12]} -> {info.sha256[:12]}) and it is the recording "
                    f"of {', '.join(others)}, which has coded work; nothing was changed for "
                    "this session. If this is intended, import again with --allow-audio-change"
                )
        audio_row.size_bytes = info.size_bytes
        audio_row.mtime_ns = audio["mtime_ns"]
        audio_row.duration_ms = info.duration_ms
        audio_row.sample_rate = info.sample_rate
        audio_row.channels = info.channels
        audio_row.sha256 = info.sha256
        audio_row.format = info.format
        s.flush()
        audio_id = audio_row.id
    elif audio_id is None and audio.get("path"):
        # Keep the path of a missing or unreadable file so it can be re-linked later.
        audio_row = s.scalar(select(AudioFileRow).where(AudioFileRow.path == audio["path"]))
        if audio_row is None:
            audio_row = AudioFileRow(path=audio["path"])
            s.add(audio_row)
            s.flush()
        audio_id = audio_row.id
    note = str(audio.get("note") or ("" if audio["status"] == "ok" else audio["reason"]))
    fields: dict[str, Any] = {
        "patient": row.patient,
        "therapist": row.therapist,
        "session_number": row.session_number,
        "phase": row.phase,
        "date": row.date,
        "metadata_json": json.dumps(dict(row.metadata), sort_keys=True),
        "audio_id": audio_id,
        "audio_status": audio["status"],
        "audio_reason": "" if audio["status"] == "ok" else audio["reason"],
    }
    if existing is None:
        status, reason = fields["audio_status"], fields["audio_reason"]
        new = dataclasses.replace(row, audio_status=status, audio_reason=reason)
        insert_session(s, new, audio_id=audio_id, actor=actor, action="import")
        return "added", note
    changed = {k: (getattr(existing, k), v) for k, v in fields.items() if getattr(existing, k) != v}
    if recording_change is not None:
        log_change(
            s,
            actor,
            "reimport",
            "audio",
            row.key,
            field="recording",
            old=recording_change[0],
            new=recording_change[1],
        )
    if not changed:
        return ("unchanged" if recording_change is None else "updated"), note
    for key, (_old, new) in changed.items():
        setattr(existing, key, new)
    log_change(
        s,
        actor,
        "reimport",
        "session",
        row.key,
        old={k: o for k, (o, _n) in changed.items() if k != "metadata_json"},
        new={k: n for k, (_o, n) in changed.items() if k != "metadata_json"},
    )
    return "updated", note


def session_recordings(project: Project, session_key: str | None = None) -> list[LinkedRecording]:
    """The sessions that have an audio row (of one session, when a key is given)."""
    query = select(SessionRow, AudioFileRow).join(
        AudioFileRow, AudioFileRow.id == SessionRow.audio_id
    )
    if session_key is not None:
        query = query.where(SessionRow.session_key == session_key)
    with project.store.read() as s:
        return [
            LinkedRecording(
                sess.session_key, sess.id, audio.id, audio.path, audio.size_bytes, audio.sha256
            )
            for sess, audio in s.execute(query).all()
        ]


def relink(project: Project, recording: LinkedRecording, path: str, actor: str) -> None:
    """Point an audio row at a file already known to hold its content (with history)."""
    with project.store.transaction() as s:
        audio_row = s.get(AudioFileRow, recording.audio_pk)
        session_row = s.get(SessionRow, recording.session_pk)
        assert audio_row is not None and session_row is not None
        old = audio_row.path
        audio_row.path = path
        audio_row.mtime_ns = os.stat(path).st_mtime_ns
        if audio_row.duration_ms is not None:
            session_row.audio_status, session_row.audio_reason = "ok", ""
        log_change(
            s, actor, "relink", "audio", session_row.session_key, field="path", old=old, new=path
        )
