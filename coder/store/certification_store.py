"""Reads and writes of rater certification (the rules are in :mod:`coder.certification`).

The certification settings are parsed into :class:`CertificationSettings` here and
only here. The coding writes (master codings, training and drift-check codings) each
run in one transaction with their history rows; the reads return plain records that
:mod:`coder.certification` turns into feedback, figures and states.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from coder.certification_settings import SETTING_KEYS, CertificationSettings
from coder.coding_data import CodingId, Note
from coder.errors import InputError
from coder.kinds import CodingRole, CodingStatus
from coder.scales import RatingScale
from coder.store.models import (
    CodingRow,
    RaterRow,
    RatingRow,
    ScaleRow,
    SessionRow,
)
from coder.store.project import Project, check_rater_code, insert_coding
from coder.store.queries import notes_of
from coder.store.rows import latest_scale_pk, locked_settings, log_change, rater_row

# --------------------------------------------------------------------------- settings


def load_settings(project: Project) -> CertificationSettings:
    """The project's certification settings.

    Raises:
        InputError: a stored value is malformed (the message names it).
    """
    return CertificationSettings.from_stored(project.settings())


def change_settings(
    project: Project,
    change: Callable[[CertificationSettings], CertificationSettings],
    *,
    actor: str,
) -> CertificationSettings:
    """Read, change and write the certification settings in one locked transaction.

    ``change`` gets the current settings and returns the new ones. Each stored key that
    changes gets one history row (old and new value); a change that changes nothing
    writes nothing. Locked, so two lab machines editing different entries at once
    cannot lose one of the edits.

    Returns:
        The new settings.
    """
    with project.store.transaction() as s:
        row, document = locked_settings(s)
        current = CertificationSettings.from_stored(document)
        new = change(current)
        before, after = current.stored(), new.stored()
        changed = [key for key in SETTING_KEYS if after[key] != before[key]]
        for key in changed:
            old = document.get(key)
            if after[key] is None:
                document.pop(key, None)
            else:
                document[key] = after[key]
            log_change(s, actor, "set", "setting", key, old=old, new=after[key])
        if changed:
            row.settings_json = json.dumps(document, sort_keys=True)
        return new


# --------------------------------------------------------------------------- codings


def _scale_pks(s: DbSession, scale_id: str) -> list[int]:
    return list(s.scalars(select(ScaleRow.id).where(ScaleRow.scale_id == scale_id)).all())


def add_master_codings(
    project: Project,
    session_keys: Sequence[str],
    scale_id: str,
    master_rater: str,
    *,
    actor: str,
    new_rater: bool = False,
) -> tuple[dict[str, CodingId], bool]:
    """Add the master codings of training sessions (see
    :func:`coder.certification.add_master_codings`), with their history rows, in one
    transaction: on any error none is added (nor the new rater).

    The session rows are locked while the checks run, so two leads cannot both add one.

    Args:
        new_rater: Add ``master_rater`` as a rater first when the project has no such
            code (a MASTER code for a consensus of experts).

    Returns:
        session key -> the new master coding, in the order given; and whether the
        master's code was added as a rater.

    Raises:
        InputError: no session given; no such session, scale or rater; a session is
            not a training session, already has a master coding on the scale, or the
            rater already codes it.
    """
    keys = list(dict.fromkeys(session_keys))
    if not keys:
        raise InputError("choose at least one training session for the master coding")
    added: dict[str, CodingId] = {}
    with project.store.transaction() as s:
        scale_pk = latest_scale_pk(s, scale_id)
        scale_pks = _scale_pks(s, scale_id)
        rater = s.scalar(select(RaterRow).where(RaterRow.code == master_rater))
        created = rater is None and new_rater
        if rater is None and new_rater:
            check_rater_code(master_rater)
            rater = RaterRow(code=master_rater, name="", active=True)
            s.add(rater)
            s.flush()
            log_change(s, actor, "add", "rater", master_rater)
        if rater is None:
            rater = rater_row(s, master_rater)  # raises: no such rater
        for session_key in keys:
            session = s.scalar(
                select(SessionRow).where(SessionRow.session_key == session_key).with_for_update()
            )
            if session is None:
                raise InputError(f"no session {session_key!r} in this project")
            if not session.training:
                raise InputError(
                    f"session {session_key!r} is not a training session; mark it first "
                    "(session-coder certify sessions PROJECT KEY...)"
                )
            existing = s.execute(
                select(CodingRow.role, RaterRow.code)
                .join(RaterRow, RaterRow.id == CodingRow.rater_id)
                .where(CodingRow.session_id == session.id, CodingRow.scale_pk.in_(scale_pks))
            ).all()
            for role, code in existing:
                if role == CodingRole.MASTER.value:
                    raise InputError(
                        f"session {session_key!r} already has a master coding of {scale_id} "
                        f"(by {code})"
                    )
                if code == master_rater:
                    raise InputError(f"{master_rater} already codes session {session_key!r}")
            row = insert_coding(
                s,
                session_id=session.id,
                rater_id=rater.id,
                scale_pk=scale_pk,
                role=CodingRole.MASTER.value,
                queue_position=0,
                actor=actor,
                described={"session": session_key, "rater": master_rater, "scale": scale_id},
            )
            added[session_key] = CodingId(row.id)
    return added, created


@dataclass(frozen=True)
class TrainingSessionRecord:
    """A training session as the lead's certification view sees it, for one scale.

    Attributes:
        master_rater: The code that enters the master coding, or None when the session
            has no master coding of the scale yet.
        master_coding_id: That coding.
        master_state: Its state (a :class:`~coder.kinds.CodingStatus` value).
        trainees: Other raters' codings of the session on the scale (training and
            drift checks).
        trainees_submitted: How many of them are submitted.
    """

    session_key: str
    master_rater: str | None
    master_coding_id: CodingId | None
    master_state: str | None
    trainees: int
    trainees_submitted: int


def training_sessions(project: Project, scale_id: str) -> list[TrainingSessionRecord]:
    """Every training session with its master coding of a scale (if any), in one read,
    by session key."""
    project.scale(scale_id)
    with project.store.read() as s:
        pks = _scale_pks(s, scale_id)
        sessions = s.execute(
            select(SessionRow.id, SessionRow.session_key)
            .where(SessionRow.training.is_(True))
            .order_by(SessionRow.session_key)
        ).all()
        ids = [sid for sid, _key in sessions]
        codings = s.execute(
            select(
                CodingRow.id, CodingRow.session_id, CodingRow.role, CodingRow.state, RaterRow.code
            )
            .join(RaterRow, RaterRow.id == CodingRow.rater_id)
            .where(CodingRow.session_id.in_(ids), CodingRow.scale_pk.in_(pks))
        ).all()
    by_session: dict[int, list[tuple[int, str, str, str]]] = {}
    for coding_id, session_id, role, state, code in codings:
        by_session.setdefault(session_id, []).append((coding_id, role, state, code))
    out = []
    for session_id, key in sessions:
        rows = by_session.get(session_id, [])
        master = next((r for r in rows if r[1] == CodingRole.MASTER.value), None)
        others = [r for r in rows if r[1] != CodingRole.MASTER.value]
        out.append(
            TrainingSessionRecord(
                session_key=key,
                master_rater=None if master is None else master[3],
                master_coding_id=None if master is None else CodingId(master[0]),
                master_state=None if master is None else master[2],
                trainees=len(others),
                trainees_submitted=sum(1 for r in others if r[2] == CodingStatus.SUBMITTED.value),
            )
        )
    return out


def add_training_codings(
    project: Project,
    scale_id: str,
    raters: Sequence[str],
    *,
    session_keys: Sequence[str] | None,
    actor: str,
) -> dict[str, list[str]]:
    """Add certification codings of master-coded training sessions to raters' queues
    (see :func:`coder.certification.assign_training`), in one transaction.

    Returns:
        rater -> the session keys added.
    """
    added: dict[str, list[str]] = {}
    with project.store.transaction() as s:
        scale_pk = latest_scale_pk(s, scale_id)
        scale_pks = _scale_pks(s, scale_id)
        mastered = dict(
            s.execute(
                select(SessionRow.session_key, SessionRow.id)
                .join(CodingRow, CodingRow.session_id == SessionRow.id)
                .where(
                    CodingRow.role == CodingRole.MASTER.value,
                    CodingRow.scale_pk.in_(scale_pks),
                    SessionRow.training.is_(True),
                )
            ).all()
        )
        if session_keys is None:
            keys = sorted(mastered)
        else:
            keys = list(dict.fromkeys(session_keys))
            missing = [k for k in keys if k not in mastered]
            if missing:
                raise InputError(
                    f"no master coding of {scale_id} on training session(s) "
                    f"{', '.join(missing)}; add one first (session-coder certify master)"
                )
        if not keys:
            raise InputError(
                f"no training session has a master coding of {scale_id} yet; add them first "
                "(session-coder certify master)"
            )
        for code in raters:
            rater = rater_row(s, code)
            coded = set(
                s.scalars(
                    select(CodingRow.session_id).where(
                        CodingRow.rater_id == rater.id, CodingRow.scale_pk.in_(scale_pks)
                    )
                ).all()
            )
            first = s.scalar(
                select(CodingRow.queue_position)
                .where(CodingRow.rater_id == rater.id)
                .order_by(CodingRow.queue_position)
                .limit(1)
            )
            first_order = s.scalar(
                select(func.min(CodingRow.queue_order)).where(CodingRow.rater_id == rater.id)
            )
            todo = [k for k in keys if mastered[k] not in coded]
            # Before the rest of the queue (certification comes before real work).
            start = min(0, first if first is not None else 0) - len(todo)
            start_order = min(0, first_order if first_order is not None else 0) - len(todo)
            for i, key in enumerate(todo):
                insert_coding(
                    s,
                    session_id=mastered[key],
                    rater_id=rater.id,
                    scale_pk=scale_pk,
                    role=CodingRole.CERTIFICATION.value,
                    queue_position=start + i,
                    queue_order=start_order + i,
                    actor=actor,
                    described={"session": key, "rater": code, "scale": scale_id},
                )
            added[code] = todo
    return added


@dataclass(frozen=True)
class QueuedCoding:
    """One coding of a rater's queue on a scale, as drift-check scheduling sees it."""

    session_id: int
    role: str
    state: str
    queue_position: int


#: Given a rater's code, their queue on the scale (queue order) and the master-coded
#: training sessions (id -> key), the drift checks to add as (session id, queue
#: position) and how many due checks found no session.
DriftPlanner = Callable[
    [str, Sequence[QueuedCoding], Mapping[int, str]], tuple[list[tuple[int, int]], int]
]


def add_recalibration_codings(
    project: Project,
    scale_id: str,
    raters: Iterable[str],
    plan: DriftPlanner,
    *,
    actor: str,
) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Add the drift-check codings ``plan`` chooses for each rater, in one transaction.

    Each rater's codings of the scale are locked while ``plan`` decides, so two leads
    scheduling at once cannot both add the same check.

    Returns:
        rater -> the session keys added (only raters with additions), and rater -> the
        number of due checks that found no master-coded session (only when short).
    """
    added: dict[str, list[str]] = {}
    short: dict[str, int] = {}
    with project.store.transaction() as s:
        pks = _scale_pks(s, scale_id)
        scale_pk = latest_scale_pk(s, scale_id)
        mastered = dict(
            s.execute(
                select(SessionRow.id, SessionRow.session_key)
                .join(CodingRow, CodingRow.session_id == SessionRow.id)
                .where(
                    CodingRow.role == CodingRole.MASTER.value,
                    CodingRow.scale_pk.in_(pks),
                    CodingRow.state == CodingStatus.SUBMITTED.value,
                    SessionRow.training.is_(True),
                )
            ).all()
        )
        for code in raters:
            rater = rater_row(s, code)
            rows = s.scalars(
                select(CodingRow)
                .where(CodingRow.rater_id == rater.id, CodingRow.scale_pk.in_(pks))
                .order_by(CodingRow.queue_position, CodingRow.id)
                .with_for_update()
            ).all()
            queue = [QueuedCoding(r.session_id, r.role, r.state, r.queue_position) for r in rows]
            checks, missing = plan(code, queue, mastered)
            if missing:
                short[code] = missing
            for session_id, position in checks:
                # Right after the coding whose place it shares (ties go by id), else last.
                beside = next((r for r in rows if r.queue_position == position), None)
                insert_coding(
                    s,
                    session_id=session_id,
                    rater_id=rater.id,
                    scale_pk=scale_pk,
                    role=CodingRole.RECALIBRATION.value,
                    queue_position=position,
                    queue_order=beside.queue_order if beside is not None else None,
                    actor=actor,
                    described={"session": mastered[session_id], "rater": code, "scale": scale_id},
                )
            if checks:
                added[code] = [mastered[sid] for sid, _position in checks]
    return added, short


# --------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class MasterComparison:
    """A rater's submitted coding of a session with a submitted master coding.

    Attributes:
        values: The rater's numeric scores by item.
        master_values: The master's numeric scores by item.
        scale: The scale version of the master coding.
    """

    coding_id: int
    rater: str
    session_key: str
    role: str
    submitted_at: datetime | None
    scale: RatingScale
    values: Mapping[str, float]
    master_values: Mapping[str, float]


def master_comparisons(
    project: Project, scale_id: str, raters: Iterable[str] | None = None
) -> list[MasterComparison]:
    """Every submitted non-master coding of a scale on a session whose master coding is
    submitted (only ``raters``' codings when given), in one read."""
    project.scale(scale_id)
    out: list[MasterComparison] = []
    with project.store.read() as s:
        pks = _scale_pks(s, scale_id)
        masters = {
            row.session_id: row
            for row in s.scalars(
                select(CodingRow).where(
                    CodingRow.scale_pk.in_(pks),
                    CodingRow.role == CodingRole.MASTER.value,
                    CodingRow.state == CodingStatus.SUBMITTED.value,
                )
            )
        }
        if not masters:
            return out
        query = (
            select(CodingRow, RaterRow.code, SessionRow.session_key)
            .join(RaterRow, RaterRow.id == CodingRow.rater_id)
            .join(SessionRow, SessionRow.id == CodingRow.session_id)
            .where(
                CodingRow.scale_pk.in_(pks),
                CodingRow.session_id.in_(list(masters)),
                CodingRow.role != CodingRole.MASTER.value,
                CodingRow.state == CodingStatus.SUBMITTED.value,
            )
        )
        if raters is not None:
            query = query.where(RaterRow.code.in_(list(raters)))
        rows = s.execute(query).all()
        ids = [row.id for row, _c, _k in rows] + [m.id for m in masters.values()]
        values: dict[int, dict[str, float]] = {}
        for r in s.scalars(
            select(RatingRow).where(RatingRow.coding_id.in_(ids), RatingRow.value.is_not(None))
        ):
            values.setdefault(r.coding_id, {})[r.item_id] = float(r.value)  # type: ignore[arg-type]
        for row, code, key in rows:
            master = masters[row.session_id]
            out.append(
                MasterComparison(
                    coding_id=row.id,
                    rater=code,
                    session_key=key,
                    role=row.role,
                    submitted_at=row.submitted_at,
                    scale=project.scale_by_pk(s, master.scale_pk),
                    values=values.get(row.id, {}),
                    master_values=values.get(master.id, {}),
                )
            )
    return out


@dataclass(frozen=True)
class FeedbackCodings:
    """A rater's coding and the master coding of its session, as feedback needs them.

    Attributes:
        ratings: The rater's (value, text) by item.
        master_state: The master coding's state, or None when the session has none.
        master_ratings: The master's (value, text) by item (empty without a master).
        master_notes: The master's notes, by position.
    """

    coding_id: CodingId
    role: str
    state: str
    session_key: str
    training: bool
    scale: RatingScale
    ratings: Mapping[str, tuple[float | None, str | None]]
    master_state: str | None
    master_ratings: Mapping[str, tuple[float | None, str | None]]
    master_notes: tuple[Note, ...]


def _ratings(s: DbSession, coding_id: int) -> dict[str, tuple[float | None, str | None]]:
    return {
        r.item_id: (r.value, r.text)
        for r in s.scalars(select(RatingRow).where(RatingRow.coding_id == coding_id))
    }


def feedback_codings(project: Project, rater: str, coding_id: int) -> FeedbackCodings:
    """Read a rater's own coding and its session's master coding, nothing of any other
    rater.

    Raises:
        InputError: no such rater, or the coding is not in the rater's queue.
    """
    with project.store.read() as s:
        rater_rec = rater_row(s, rater)
        row = s.scalar(
            select(CodingRow).where(CodingRow.id == coding_id, CodingRow.rater_id == rater_rec.id)
        )
        if row is None:
            raise InputError(f"coding #{coding_id} is not in {rater}'s queue")
        session = s.get(SessionRow, row.session_id)
        assert session is not None
        scale = project.scale_by_pk(s, row.scale_pk)
        master = s.scalar(
            select(CodingRow).where(
                CodingRow.session_id == row.session_id,
                CodingRow.scale_pk.in_(_scale_pks(s, scale.id)),
                CodingRow.role == CodingRole.MASTER.value,
            )
        )
        notes = () if master is None else notes_of(s, [master.id]).get(master.id, ())
        return FeedbackCodings(
            coding_id=CodingId(row.id),
            role=row.role,
            state=row.state,
            session_key=session.session_key,
            training=session.training,
            scale=scale,
            ratings=_ratings(s, row.id),
            master_state=None if master is None else master.state,
            master_ratings={} if master is None else _ratings(s, master.id),
            master_notes=notes,
        )
