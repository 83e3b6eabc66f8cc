"""Attrition: what became of every session a scale applies to (issue 13, item 8).

A paper reports "N sessions existed, n were rated, k were uncodable (by reason), m had
no usable recording (by reason)". This module is the one place that sorts each
session of each scale into one of those outcomes, so ``session-coder status``, plans
and the exports' attrition table give the same counts.

:func:`session_outcomes` is pure (plain data in, plain data out);
:func:`project_attrition` reads a project and applies it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from coder.analysis_set import CodingFact, analysis_codings
from coder.kinds import CodingStatus
from coder.scales import RatingScale

if TYPE_CHECKING:
    from coder.store.project import Project

# The outcomes, in the order a report lists them.
RATED = "rated"
UNCODABLE = "uncodable"
NO_AUDIO = "no_audio"
PENDING = "pending"
OUTCOMES: tuple[str, ...] = (RATED, UNCODABLE, NO_AUDIO, PENDING)

# Why a session has no usable recording, in words fit for a report (the importer's own
# reason names the file path, which an export must not show).
NO_FILE_GIVEN = "no audio file given"
FILE_NOT_FOUND = "audio file not found"
FILE_UNREADABLE = "audio file unreadable"


def no_audio_reason(audio_status: str, audio_reason: str) -> str | None:
    """The report's reason for a session without usable audio (None when the audio is ok).

    Args:
        audio_status: ``ok``, ``missing`` or ``unreadable`` (as imported).
        audio_reason: The importer's reason (it may name a path; never returned).
    """
    if audio_status == "ok":
        return None
    if audio_status == "unreadable":
        return FILE_UNREADABLE
    return NO_FILE_GIVEN if audio_reason.strip() == NO_FILE_GIVEN else FILE_NOT_FOUND


class SessionLike(Protocol):
    """What the rule needs of a session (:class:`coder.store.project.SessionInfo` has it)."""

    @property
    def key(self) -> str: ...

    @property
    def session_number(self) -> int | None: ...

    @property
    def audio_status(self) -> str: ...

    @property
    def audio_reason(self) -> str: ...

    @property
    def training(self) -> bool: ...


@dataclass(frozen=True)
class SessionOutcome:
    """What became of one session on one scale.

    Attributes:
        scale_id: The scale.
        session_id: The session's key.
        outcome: ``rated`` (a counted coding was submitted), ``uncodable`` (counted
            codings exist and all are uncodable), ``no_audio`` (no usable recording and
            no finished coding) or ``pending`` (not rated yet).
        reason: The uncodable reason (of the primary coder when there is one) or the
            no-audio reason; "" for rated and pending sessions.
    """

    scale_id: str
    session_id: str
    outcome: str
    reason: str = ""


@dataclass(frozen=True)
class ScaleAttrition:
    """The counts of one scale: every session it applies to, by outcome and reason."""

    scale_id: str
    sessions: int
    rated: int
    uncodable: Mapping[str, int]
    no_audio: Mapping[str, int]
    pending: int

    def as_dict(self) -> dict[str, Any]:
        """The ``attrition`` entry of ``session-coder status --json``."""
        return {
            "sessions": self.sessions,
            "rated": self.rated,
            "uncodable": dict(self.uncodable),
            "no_audio": dict(self.no_audio),
            "pending": self.pending,
        }

    def line(self) -> str:
        """One line for a report: N existing, n rated, k uncodable (by reason), ..."""

        def by_reason(counts: Mapping[str, int]) -> str:
            if not counts:
                return ""
            return " (" + ", ".join(f"{reason}: {n}" for reason, n in counts.items()) + ")"

        return (
            f"{self.sessions} existing, {self.rated} rated, "
            f"{sum(self.uncodable.values())} uncodable{by_reason(self.uncodable)}, "
            f"{sum(self.no_audio.values())} without audio{by_reason(self.no_audio)}, "
            f"{self.pending} not rated yet"
        )


@dataclass(frozen=True)
class Attrition:
    """Every scale's counts and every session's outcome (see :func:`session_outcomes`)."""

    scales: tuple[ScaleAttrition, ...]
    outcomes: tuple[SessionOutcome, ...]

    def as_dict(self) -> dict[str, Any]:
        return {s.scale_id: s.as_dict() for s in self.scales}


def _sorted_counts(reasons: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for reason in reasons:
        counts[reason] = counts.get(reason, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def session_outcomes(
    sessions: Sequence[SessionLike],
    scales: Sequence[RatingScale],
    facts: Iterable[CodingFact],
    uncodable_reasons: Mapping[int, str],
) -> Attrition:
    """Sort every session of every scale into rated, uncodable, no_audio or pending.

    The sessions of a scale are the ones its ``applies_to`` admits, training sessions
    left out. Which codings count is :func:`coder.analysis_set.analysis_codings`'s
    rule; a session is *rated* when one of its counted codings is submitted, else
    *uncodable* when a counted coding is uncodable, else *no_audio* when its
    recording is missing or unreadable, else *pending*.

    Args:
        sessions: The project's sessions.
        scales: The scales to report, in report order.
        facts: The project's codings (:func:`coder.store.queries.coding_facts`).
        uncodable_reasons: coding id -> the rater's uncodable reason.
    """
    counted = analysis_codings(facts)
    outcomes: list[SessionOutcome] = []
    summaries: list[ScaleAttrition] = []
    for scale in scales:
        mine: list[SessionOutcome] = []
        for session in sessions:
            if session.training or not scale.applies_to.matches(session.session_number):
                continue
            coders = counted.session(scale.id, session.key)
            finished = coders.counted if coders is not None else ()
            uncodable = [c for c in finished if c.status == CodingStatus.UNCODABLE]
            missing = no_audio_reason(session.audio_status, session.audio_reason)
            if any(c.status == CodingStatus.SUBMITTED for c in finished):
                mine.append(SessionOutcome(scale.id, session.key, RATED))
            elif uncodable:
                speaker = coders.primary if coders and coders.primary in uncodable else None
                reason = uncodable_reasons.get((speaker or uncodable[0]).coding_id, "")
                mine.append(SessionOutcome(scale.id, session.key, UNCODABLE, reason))
            elif missing is not None:
                mine.append(SessionOutcome(scale.id, session.key, NO_AUDIO, missing))
            else:
                mine.append(SessionOutcome(scale.id, session.key, PENDING))
        outcomes += mine
        summaries.append(
            ScaleAttrition(
                scale_id=scale.id,
                sessions=len(mine),
                rated=sum(1 for o in mine if o.outcome == RATED),
                uncodable=_sorted_counts(o.reason for o in mine if o.outcome == UNCODABLE),
                no_audio=_sorted_counts(o.reason for o in mine if o.outcome == NO_AUDIO),
                pending=sum(1 for o in mine if o.outcome == PENDING),
            )
        )
    return Attrition(tuple(summaries), tuple(outcomes))


def project_attrition(project: Project, scale_ids: Sequence[str] | None = None) -> Attrition:
    """:func:`session_outcomes` of a project (blocking: a GUI runs it in a worker).

    Args:
        project: The open project.
        scale_ids: The scales to report (default: every scale, in the order added).
    """
    from coder.store.attrition import uncodable_reasons
    from coder.store.queries import coding_facts

    scales = project.scales()
    if scale_ids is not None:
        by_id = {s.id: s for s in scales}
        scales = [by_id[i] if i in by_id else project.scale(i) for i in scale_ids]
    chosen = [s.id for s in scales]
    return session_outcomes(
        project.sessions(),
        scales,
        coding_facts(project, scale_ids=chosen),
        uncodable_reasons(project, chosen),
    )
