"""Shared read queries of the analysis: the codings, their scores, notes and consensus.

Every function returns plain data (dataclasses, dicts, DataFrames), never a database
row, so the analysis modules (:mod:`coder.export_data`, :mod:`coder.discrepancies`,
:mod:`coder.consensus`, :mod:`coder.reliability_view`) need no SQL. Which codings count
for analysis is never decided here: the queries read :class:`CodingFact` rows
(:func:`read_coding_facts`) and ask :func:`coder.analysis_set.analysis_codings`, the one
rule, for the answer.

Functions that take a ``project`` open their own read; the few that take ``s`` run in
the caller's transaction (for other store modules, such as
:mod:`coder.store.consensus_store`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from coder.analysis_set import CodingFact, analysis_codings, calibration_codings
from coder.coding_data import Note
from coder.errors import InputError
from coder.kinds import FINISHED_STATUSES, CodingRole, CodingStatus
from coder.scales import RatingScale
from coder.store.models import (
    AudioFileRow,
    CodingRow,
    ConsensusScoreRow,
    NoteRow,
    PlanRow,
    RaterRow,
    RatingRow,
    ScaleRow,
    SessionRow,
    SpanRow,
)
from coder.store.project import Project

# --------------------------------------------------------------------------- facts


# The columns a CodingFact is made of, in its field order (joined as in _joined).
_FACT_COLUMNS: tuple[Any, ...] = (
    CodingRow.id,
    ScaleRow.scale_id,
    SessionRow.session_key,
    RaterRow.code,
    CodingRow.role,
    CodingRow.state,
    SessionRow.training,
    CodingRow.recode_of,
)


def _joined(*columns: Any) -> Any:
    """SELECT ``columns`` over codings joined with their scale, session and rater."""
    return (
        select(*columns)
        .join(ScaleRow, ScaleRow.id == CodingRow.scale_pk)
        .join(SessionRow, SessionRow.id == CodingRow.session_id)
        .join(RaterRow, RaterRow.id == CodingRow.rater_id)
    )


def _fact(row: Any) -> CodingFact:
    """The :class:`CodingFact` of a row that starts with :data:`_FACT_COLUMNS`."""
    cid, scale, key, code, role, state, training, recode_of = row[: len(_FACT_COLUMNS)]
    return CodingFact(
        int(cid),
        str(scale),
        str(key),
        str(code),
        str(role),
        str(state),
        bool(training),
        None if recode_of is None or recode_of != recode_of else int(recode_of),
    )


def read_coding_facts(
    s: DbSession,
    *,
    scale_ids: Collection[str] | None = None,
    session_key: str | None = None,
) -> list[CodingFact]:
    """Read the :class:`CodingFact` of codings in one query (in the caller's session).

    Args:
        s: An open database session (``project.store.read()`` or ``transaction()``).
        scale_ids: Only these scales (every stored version); None for all.
        session_key: Only this session; None for all.

    Returns:
        The facts, by coding id.
    """
    query = _joined(*_FACT_COLUMNS).order_by(CodingRow.id)
    if scale_ids is not None:
        query = query.where(ScaleRow.scale_id.in_(list(scale_ids)))
    if session_key is not None:
        query = query.where(SessionRow.session_key == session_key)
    return [_fact(row) for row in s.execute(query).all()]


def coding_facts(
    project: Project,
    *,
    scale_ids: Collection[str] | None = None,
    session_key: str | None = None,
) -> list[CodingFact]:
    """The :class:`CodingFact` of a project's codings (see :func:`read_coding_facts`)."""
    with project.store.read() as s:
        return read_coding_facts(s, scale_ids=scale_ids, session_key=session_key)


# --------------------------------------------------------------------------- scales


def scale_versions(project: Project, scale_ids: Collection[str]) -> dict[int, RatingScale]:
    """Every stored version of some scales: scale row id -> definition, in storing order.

    A coding points at the scale version it was made with (its ``scale_pk``); the
    analysis computes composites with that version's definition.

    Args:
        project: The open project.
        scale_ids: The scales (unknown ids give no versions; check them first with
            :meth:`Project.scale` for a clear error).

    Returns:
        ``{scale row id: RatingScale}``.
    """
    with project.store.read() as s:
        pks = s.scalars(
            select(ScaleRow.id).where(ScaleRow.scale_id.in_(list(scale_ids))).order_by(ScaleRow.id)
        ).all()
        return {int(pk): project.scale_by_pk(s, int(pk)) for pk in pks}


# --------------------------------------------------------------------------- reliability


def _as_utc(value: Any) -> datetime | None:
    """A stored time stamp as an aware UTC datetime (SQLite returns naive UTC ones)."""
    if value is None:
        return None
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(at, datetime):
        raise TypeError(f"not a time stamp: {value!r}")
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at.astimezone(UTC)


@dataclass(frozen=True)
class ScoredCoding:
    """A submitted coding with its numeric item values.

    Attributes:
        coding_id: The coding's id.
        scale_pk: The scale version it was made with (a key of :func:`scale_versions`).
        rater: The rater's code.
        session_key: The session's key.
        session_pk: The session's row id (sessions sort in import order by it).
        submitted_at: When it was submitted (aware, UTC), or None in older data.
        values: item id -> value (None for a blank item); text items are left out.
    """

    coding_id: int
    scale_pk: int
    rater: str
    session_key: str
    session_pk: int
    submitted_at: datetime | None
    values: dict[str, float | None]


def reliability_codings(
    project: Project,
    scale_id: str,
    *,
    sessions: Collection[str] | None = None,
    training: bool = False,
) -> list[ScoredCoding]:
    """The reliability pairs of a scale's double-coded sessions, with their scores.

    Which codings these are is :func:`coder.analysis_set.analysis_codings`'s decision
    (:attr:`~coder.analysis_set.AnalysisSet.reliability_ids`): two per double-coded
    session; with ``training`` it is :func:`coder.analysis_set.calibration_codings`'s
    instead (every rater's coding of each training session). Read in one
    transaction, so the pairs and their scores agree.

    Args:
        project: The open project.
        scale_id: The scale (every stored version).
        sessions: Only these session keys (a subset, :func:`select_sessions`); the
            rule decides per session, so a subset keeps each session's coders. None
            for all.
        training: Read the training (calibration) sessions instead of the analysis.

    Returns:
        The codings, ordered by session (import order), rater code and coding id.
    """
    keep = None if sessions is None else frozenset(sessions)
    with project.store.read() as s:
        # The facts and the coding data come from one statement, so they agree even
        # where each statement sees the newest data (PostgreSQL's READ COMMITTED).
        rows = s.execute(
            _joined(
                *_FACT_COLUMNS, CodingRow.scale_pk, CodingRow.submitted_at, SessionRow.id
            ).where(ScaleRow.scale_id == scale_id)
        ).all()
        facts = [_fact(row) for row in rows]
        if training:
            wanted = frozenset(
                c.coding_id for cs in calibration_codings(facts).values() for c in cs
            )
        else:
            wanted = analysis_codings(facts).reliability_ids
        if keep is not None:
            wanted = frozenset(
                f.coding_id for f in facts if f.coding_id in wanted and f.session in keep
            )
        # Filtered in Python, not with IN (ids): a large project has more reliability
        # codings than SQLite takes bound parameters.
        ratings = s.execute(
            select(RatingRow.coding_id, RatingRow.item_id, RatingRow.value)
            .join(CodingRow, CodingRow.id == RatingRow.coding_id)
            .join(ScaleRow, ScaleRow.id == CodingRow.scale_pk)
            .where(ScaleRow.scale_id == scale_id, RatingRow.text.is_(None))
        ).all()
    values: dict[int, dict[str, float | None]] = defaultdict(dict)
    for coding_id, item_id, value in ratings:
        if coding_id in wanted:
            values[coding_id][item_id] = None if value is None else float(value)
    codings = []
    for row, fact in zip(rows, facts, strict=True):
        if fact.coding_id in wanted:
            pk, at, session_pk = row[len(_FACT_COLUMNS) :]
            codings.append(
                ScoredCoding(
                    fact.coding_id,
                    int(pk),
                    fact.rater,
                    fact.session,
                    int(session_pk),
                    _as_utc(at),
                    values.get(fact.coding_id, {}),
                )
            )
    codings.sort(key=lambda c: (c.session_pk, c.rater, c.coding_id))
    return codings


#: The session columns every project has, as ``--where`` names them (manifest names).
SESSION_COLUMNS: tuple[str, ...] = (
    "session_id",
    "patient",
    "therapist",
    "session_number",
    "phase",
    "date",
    "training",
)


@dataclass(frozen=True)
class SessionAttributes:
    """Every session's columns as text, for selecting a subset of sessions.

    Attributes:
        columns: :data:`SESSION_COLUMNS`, then the manifest's further (metadata)
            columns in name order.
        values: session key -> column -> value as text (``""`` when empty;
            ``training`` is ``"true"`` or ``"false"``).
    """

    columns: tuple[str, ...]
    values: Mapping[str, Mapping[str, str]]


def session_attributes(project: Project) -> SessionAttributes:
    """Read every session's manifest columns and metadata (one SELECT)."""
    with project.store.read() as s:
        rows = s.execute(
            select(
                SessionRow.session_key,
                SessionRow.patient,
                SessionRow.therapist,
                SessionRow.session_number,
                SessionRow.phase,
                SessionRow.date,
                SessionRow.training,
                SessionRow.metadata_json,
            ).order_by(SessionRow.id)
        ).all()
    values: dict[str, dict[str, str]] = {}
    extra: set[str] = set()
    for key, patient, therapist, number, phase, date, training, meta in rows:
        row = {
            "session_id": str(key),
            "patient": str(patient or ""),
            "therapist": str(therapist or ""),
            "session_number": "" if number is None else str(number),
            "phase": str(phase or ""),
            "date": str(date or ""),
            "training": "true" if training else "false",
        }
        for name, value in (json.loads(meta or "{}") or {}).items():
            if name not in row:
                row[str(name)] = "" if value is None else str(value)
                extra.add(str(name))
        values[str(key)] = row
    return SessionAttributes(SESSION_COLUMNS + tuple(sorted(extra)), values)


def _same(a: str, b: str) -> bool:
    """Two column values compare as text, trimmed; whole numbers as numbers (01 = 1)."""
    a, b = a.strip(), b.strip()
    if a == b:
        return True
    try:
        return int(a) == int(b)
    except ValueError:
        return False


def select_sessions(project: Project, where: Collection[tuple[str, str]]) -> frozenset[str]:
    """The keys of the sessions meeting every condition ``(column, value)``.

    Conditions on one column are alternatives (``phase=early`` and ``phase=mid``: either);
    conditions on different columns must all hold. Values compare as text, trimmed,
    whole numbers as numbers (``session_number=1`` and ``session_number=01`` match the
    number 1; a session without the metadata column has ``""``).

    Raises:
        InputError: A column no session has (naming the columns there are), a value
            no session has in its column (naming the values there are), or
            conditions no session meets together.
    """
    attributes = session_attributes(project)
    wanted: dict[str, list[str]] = {}
    for column, value in where:
        if column not in attributes.columns:
            raise InputError(
                f"--where {column}={value}: no session column {column!r}; the columns are "
                + ", ".join(attributes.columns)
            )
        wanted.setdefault(column, []).append(value.strip())
    rows = attributes.values
    for column, values in wanted.items():
        present = sorted({row.get(column, "") for row in rows.values()})
        for value in values:
            if not any(_same(p, value) for p in present):
                shown = ", ".join(repr(p) for p in present[:12])
                more = f" and {len(present) - 12} more" if len(present) > 12 else ""
                raise InputError(
                    f"--where {column}={value}: no session has {column} {value!r}; the "
                    f"values are {shown}{more}"
                )
    keys = frozenset(
        key
        for key, row in rows.items()
        if all(any(_same(row.get(c, ""), v) for v in vs) for c, vs in wanted.items())
    )
    if not keys:
        said = " and ".join(f"{c}={' or '.join(vs)}" for c, vs in wanted.items())
        raise InputError(f"--where: no session has {said} together; loosen the conditions")
    return keys


def coding_notes(project: Project, coding_ids: Collection[int]) -> dict[int, tuple[Note, ...]]:
    """The notes of some codings (deleted ones left out), each coding's in time order.

    Args:
        project: The open project.
        coding_ids: The codings.

    Returns:
        ``{coding id: notes}``; codings without notes are left out.
    """
    if not coding_ids:
        return {}
    with project.store.read() as s:
        return notes_of(s, coding_ids)


def notes_of(s: DbSession, coding_ids: Collection[int]) -> dict[int, tuple[Note, ...]]:
    """:func:`coding_notes` inside the caller's transaction."""
    out: dict[int, list[Note]] = defaultdict(list)
    rows = s.execute(
        select(NoteRow.coding_id, NoteRow.id, NoteRow.position_ms, NoteRow.text)
        .where(NoteRow.coding_id.in_(list(coding_ids)), NoteRow.deleted.is_(False))
        .order_by(NoteRow.position_ms, NoteRow.id)
    ).all()
    for coding_id, note_id, position_ms, text in rows:
        out[coding_id].append(Note(note_id, position_ms, text))
    return {k: tuple(v) for k, v in out.items()}


# --------------------------------------------------------------------------- consensus


@dataclass(frozen=True)
class PairCoding:
    """One of the two reliability codings of a session (for consensus).

    Attributes:
        coding_id: The coding's id.
        rater: The rater's code.
        role: The coding's role.
        scale_pk: The scale version it was made with.
    """

    coding_id: int
    rater: str
    role: str
    scale_pk: int


def _not_double_coded(scale_id: str, session_key: str) -> InputError:
    """The error for a consensus asked of a session that is not double-coded."""
    return InputError(
        f"session {session_key!r} is not double-coded on {scale_id} (it needs two "
        "raters' submitted codings, outside training, master and certification "
        "codings); a consensus is recorded only there"
    )


def read_consensus_pair(
    s: DbSession, scale_id: str, session_key: str
) -> tuple[int, tuple[PairCoding, PairCoding]]:
    """A session's row id and its reliability pair, in the caller's session.

    The pair is :func:`coder.analysis_set.analysis_codings`'s, the same as the
    reliability report's and the discrepancy list's; it comes in coding id order.

    Raises:
        InputError: no such session, or it is not double-coded on the scale.
    """
    session_pk = s.scalar(select(SessionRow.id).where(SessionRow.session_key == session_key))
    if session_pk is None:
        raise InputError(f"no session {session_key!r} in this project")
    chosen = analysis_codings(read_coding_facts(s, scale_ids=[scale_id], session_key=session_key))
    coders = chosen.session(scale_id, session_key)
    if coders is None or coders.pair is None:
        raise _not_double_coded(scale_id, session_key)
    scale_pk = dict(
        s.execute(
            select(CodingRow.id, CodingRow.scale_pk).where(
                CodingRow.id.in_([c.coding_id for c in coders.pair])
            )
        ).all()
    )
    a, b = sorted(coders.pair, key=lambda c: c.coding_id)
    return int(session_pk), (
        PairCoding(a.coding_id, a.rater, a.role, int(scale_pk[a.coding_id])),
        PairCoding(b.coding_id, b.rater, b.role, int(scale_pk[b.coding_id])),
    )


def pair_scale_pk(pair: tuple[PairCoding, PairCoding]) -> int:
    """The scale version of a consensus: the primary coding's, else the first one's."""
    primary = next((c for c in pair if c.role == CodingRole.PRIMARY), pair[0])
    return primary.scale_pk


@dataclass(frozen=True)
class ConsensusRecord:
    """One recorded consensus score (a row of :func:`consensus_records`)."""

    scale_id: str
    session_id: str
    item_id: str
    value: float | None
    reason: str
    actor: str
    updated_at: datetime | None


def consensus_records(project: Project, scale_id: str | None = None) -> list[ConsensusRecord]:
    """Every recorded consensus score (of one scale, or all), unsorted."""
    query = (
        select(
            ScaleRow.scale_id,
            SessionRow.session_key,
            ConsensusScoreRow.item_id,
            ConsensusScoreRow.value,
            ConsensusScoreRow.reason,
            ConsensusScoreRow.actor,
            ConsensusScoreRow.updated_at,
        )
        .join(ScaleRow, ScaleRow.id == ConsensusScoreRow.scale_pk)
        .join(SessionRow, SessionRow.id == ConsensusScoreRow.session_id)
    )
    if scale_id is not None:
        query = query.where(ScaleRow.scale_id == scale_id)
    with project.store.read() as s:
        return [ConsensusRecord(*row) for row in s.execute(query).all()]


@dataclass(frozen=True)
class PairReview:
    """What the lead's review of a double-coded session reads.

    Attributes:
        scale: The scale version of the consensus (:func:`pair_scale_pk`).
        raters: The pair's rater codes, in coding id order.
        values: item id -> rater -> independent score (None when blank).
        notes: rater -> notes in time order.
        consensus: item id -> (consensus score, reason) recorded so far.
    """

    scale: RatingScale
    raters: tuple[str, str]
    values: dict[str, dict[str, float | None]]
    notes: dict[str, tuple[Note, ...]]
    consensus: dict[str, tuple[float | None, str]]


def pair_review(project: Project, scale_id: str, session_key: str) -> PairReview:
    """Both reliability coders' scores and notes, and the consensus so far (one read).

    Raises:
        InputError: no such session, or it is not double-coded on the scale.
    """
    with project.store.read() as s:
        session_pk, pair = read_consensus_pair(s, scale_id, session_key)
        scale = project.scale_by_pk(s, pair_scale_pk(pair))
        code_of = {c.coding_id: c.rater for c in pair}
        values: dict[str, dict[str, float | None]] = {}
        for coding_id, item_id, value in s.execute(
            select(RatingRow.coding_id, RatingRow.item_id, RatingRow.value).where(
                RatingRow.coding_id.in_(list(code_of))
            )
        ):
            values.setdefault(item_id, {})[code_of[coding_id]] = value
        notes_by_coding = notes_of(s, list(code_of))
        agreed = {
            item_id: (value, reason)
            for item_id, value, reason in s.execute(
                select(ConsensusScoreRow.item_id, ConsensusScoreRow.value, ConsensusScoreRow.reason)
                .join(ScaleRow, ScaleRow.id == ConsensusScoreRow.scale_pk)
                .where(ConsensusScoreRow.session_id == session_pk, ScaleRow.scale_id == scale_id)
            )
        }
    notes = {c.rater: notes_by_coding.get(c.coding_id, ()) for c in pair}
    return PairReview(scale, (pair[0].rater, pair[1].rater), values, notes, agreed)


# --------------------------------------------------------------------------- plan view


def coding_state_counts(project: Project, scale_id: str) -> dict[tuple[str, str], int]:
    """How many codings of one scale (every version) each rater has in each state.

    Returns:
        ``{(rater code, state): n}`` for the pairs that occur.
    """
    with project.store.read() as s:
        rows = s.execute(
            select(RaterRow.code, CodingRow.state, func.count(CodingRow.id))
            .join(RaterRow, RaterRow.id == CodingRow.rater_id)
            .join(ScaleRow, ScaleRow.id == CodingRow.scale_pk)
            .where(ScaleRow.scale_id == scale_id)
            .group_by(RaterRow.code, CodingRow.state)
        ).all()
    return {(str(code), str(state)): int(n) for code, state, n in rows}


@dataclass(frozen=True)
class StoredPlan:
    """The scale's plan in force: its inputs (``PlanRequest.as_dict``) and summary."""

    plan_id: int
    created_at: datetime | None
    params: Mapping[str, Any]
    summary: Mapping[str, Any]


def active_plan(project: Project, scale_id: str) -> StoredPlan | None:
    """The active stored plan of a scale with the inputs it was made with, or None."""
    with project.store.read() as s:
        row = s.execute(
            select(PlanRow.id, PlanRow.created_at, PlanRow.params_json, PlanRow.summary_json)
            .join(ScaleRow, ScaleRow.id == PlanRow.scale_pk)
            .where(ScaleRow.scale_id == scale_id, PlanRow.active.is_(True))
            .order_by(PlanRow.id.desc())
            .limit(1)
        ).first()
    if row is None:
        return None
    plan_id, created_at, params, summary = row
    return StoredPlan(plan_id, _as_utc(created_at), json.loads(params), json.loads(summary))


# --------------------------------------------------------------------------- export


@dataclass
class ExportRows:
    """The raw rows of an export (:func:`export_rows`), read in one transaction.

    Attributes:
        codings: One row per coding of the scales (any state), with its session and
            rater: ``coding_id``, ``scale_id``, ``scale_pk``, ``role``, ``queue_position``,
            ``state``, ``uncodable_reason``, ``uncodable_text``, ``submitted_at``,
            ``rater``, ``session_pk``, ``session_id``, ``patient``, ``therapist``,
            ``session_number``, ``phase``, ``training_session``; plus ``date`` and
            ``metadata_json`` and ``audio_path`` when asked for. Values as the
            driver returns them (SQLite: text time stamps, 0/1 flags).
        ratings: ``coding_id``, ``item_id``, ``value``, ``text`` of submitted codings.
        notes: ``coding_id``, ``position_ms``, ``text`` of finished codings.
        spans: ``coding_id``, ``item_id``, ``start_ms``, ``end_ms`` of finished codings.
        facts: The :class:`CodingFact` of the rows of ``codings`` (from the same
            statement), for :func:`coder.analysis_set.analysis_codings`.
    """

    codings: pd.DataFrame
    ratings: pd.DataFrame
    notes: pd.DataFrame
    spans: pd.DataFrame
    facts: list[CodingFact]


def export_rows(
    project: Project,
    scale_ids: Collection[str],
    *,
    include_audio_paths: bool,
    include_metadata: bool,
) -> ExportRows:
    """Four bulk queries: codings (with scale, session and rater), ratings, notes, spans.

    Args:
        project: The open project.
        scale_ids: The scales (every stored version of each).
        include_audio_paths: Add the ``audio_path`` column to ``codings``.
        include_metadata: Add ``date`` and ``metadata_json`` to ``codings``.

    Returns:
        The :class:`ExportRows`.
    """
    pks = select(ScaleRow.id).where(ScaleRow.scale_id.in_(list(scale_ids)))
    columns: list[Any] = [
        CodingRow.id.label("coding_id"),
        ScaleRow.scale_id,
        CodingRow.scale_pk,
        CodingRow.role,
        CodingRow.queue_position,
        CodingRow.state,
        CodingRow.uncodable_reason,
        CodingRow.uncodable_text,
        CodingRow.submitted_at,
        RaterRow.code.label("rater"),
        SessionRow.id.label("session_pk"),
        SessionRow.session_key.label("session_id"),
        SessionRow.patient,
        SessionRow.therapist,
        SessionRow.session_number,
        SessionRow.phase,
        SessionRow.training.label("training_session"),
        CodingRow.recode_of,
    ]
    if include_metadata:
        columns += [SessionRow.date, SessionRow.metadata_json]
    if include_audio_paths:
        columns.append(AudioFileRow.path.label("audio_path"))
    query = _joined(*columns).where(CodingRow.scale_pk.in_(pks))
    if include_audio_paths:
        query = query.outerjoin(AudioFileRow, AudioFileRow.id == SessionRow.audio_id)
    finished = CodingRow.state.in_([str(state) for state in FINISHED_STATUSES])
    with project.store.read() as s:
        # Core-level results on the session's connection: no ORM row processing.
        conn = s.connection()
        codings = _frame(conn, query)
        ratings = _frame(
            conn,
            select(RatingRow.coding_id, RatingRow.item_id, RatingRow.value, RatingRow.text)
            .join(CodingRow, CodingRow.id == RatingRow.coding_id)
            .where(CodingRow.scale_pk.in_(pks), CodingRow.state == CodingStatus.SUBMITTED.value),
        )
        notes = _frame(
            conn,
            select(NoteRow.coding_id, NoteRow.position_ms, NoteRow.text)
            .join(CodingRow, CodingRow.id == NoteRow.coding_id)
            .where(CodingRow.scale_pk.in_(pks), finished, NoteRow.deleted.is_(False)),
        )
        spans = _frame(
            conn,
            select(SpanRow.coding_id, SpanRow.item_id, SpanRow.start_ms, SpanRow.end_ms)
            .join(CodingRow, CodingRow.id == SpanRow.coding_id)
            .where(CodingRow.scale_pk.in_(pks), finished, SpanRow.deleted.is_(False)),
        )
    # The facts come from the very rows exported, so the tables and the rule agree.
    facts = [
        _fact(row)
        for row in zip(
            codings["coding_id"],
            codings["scale_id"],
            codings["session_id"],
            codings["rater"],
            codings["role"],
            codings["state"],
            codings["training_session"],
            codings["recode_of"],
            strict=True,
        )
    ]
    return ExportRows(codings, ratings, notes, spans, facts)


def _frame(conn: Any, query: Any) -> pd.DataFrame:
    """A query's rows as a DataFrame, column by column.

    The compiled SQL runs on the session's own DB-API cursor: SQLAlchemy's result
    rows cost more than the query itself at 300,000 ratings, and every column is
    converted in bulk afterwards (so SQLite's text datetimes and 0/1 booleans, and
    PostgreSQL's native ones, come out alike).
    """
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params: Any = compiled.params
    if compiled.positional:
        params = tuple(compiled.params[name] for name in compiled.positiontup)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        cursor.close()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pd.DataFrame({name: list(col) for name, col in zip(names, columns, strict=True)})


__all__ = [
    "ConsensusRecord",
    "ExportRows",
    "PairCoding",
    "PairReview",
    "ScoredCoding",
    "StoredPlan",
    "active_plan",
    "coding_facts",
    "coding_notes",
    "coding_state_counts",
    "consensus_records",
    "export_rows",
    "pair_review",
    "pair_scale_pk",
    "read_coding_facts",
    "read_consensus_pair",
    "reliability_codings",
    "scale_versions",
]
