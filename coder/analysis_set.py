"""Which codings count for analysis: the one rule every consumer calls.

The analysis exports (:mod:`coder.export_data`: ``pairs``, ``final``, ``reliability``,
``descriptives`` and the ``double_coded`` flag), the project reliability report
(``session-coder reliability PROJECT --scale``, via
:func:`coder.discrepancies.reliability_frame`), the GUI's reliability tab
(:func:`coder.reliability_view.compute_reliability`), the discrepancy list
(:func:`coder.discrepancies.find_discrepancies`) and consensus eligibility
(:mod:`coder.consensus`) all take their codings from :func:`analysis_codings`. A
consumer must not filter codings by role, state or training flag on its own: the
copies drifted apart before (a master coding paired with a trainee in the export
while the reliability tab ignored both).

:func:`analysis_codings` is pure (this module imports no database code): it takes
plain :class:`CodingFact` rows and returns an :class:`AnalysisSet`.
:func:`coder.store.queries.read_coding_facts` is the one query that produces those
rows from a project; the store's analysis queries
(:func:`coder.store.queries.reliability_codings`,
:func:`~coder.store.queries.read_consensus_pair`,
:func:`~coder.store.queries.export_rows`) hand them to this rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from coder.kinds import FINISHED_STATUSES, CodingRole, CodingStatus

#: Roles whose codings never count for analysis: plan training codings, and the master,
#: certification and drift-check (recalibration) codings of rater certification. A
#: master coding must never pass for a second coder, nor a trainee's coding for a first.
NON_ANALYSIS_ROLES: frozenset[str] = frozenset(
    {
        CodingRole.TRAINING,
        CodingRole.MASTER,
        CodingRole.CERTIFICATION,
        CodingRole.RECALIBRATION,
    }
)

# Order in which a session's coders are taken for its reliability pair: the plan's
# primary coder, then its second coder, then any other independent coder.
_ROLE_RANK: Mapping[str, int] = {CodingRole.PRIMARY: 0, CodingRole.SECOND: 1}


@dataclass(frozen=True, slots=True)
class CodingFact:
    """What the rule needs to know about one coding (plain data, no database row).

    Attributes:
        coding_id: The coding's id; a higher id is a later coding.
        scale_id: The scale (every stored version of it shares the id).
        session: The session's key.
        rater: The rater's code.
        role: The coding's role (:class:`CodingRole`, or another plan role).
        status: The coding's state (:class:`CodingStatus`).
        training_session: The session's *current* training flag.
        recode_of: The coding this one re-codes (planned with ``assign --recode``
            under a newer scale version), or None.
    """

    coding_id: int
    scale_id: str
    session: str
    rater: str
    role: str
    status: str
    training_session: bool
    recode_of: int | None = None


@dataclass(frozen=True, slots=True)
class SessionCoders:
    """The codings of one session on one scale that count for analysis.

    Attributes:
        scale_id: The scale.
        session: The session's key.
        counted: The finished codings that count (one per rater), in pair order:
            primary role first, then second, then other roles, each by coding id.
        primary: The coding with the primary role among ``counted`` (submitted or
            uncodable), or None.
        pair: The session's two reliability coders, rater A (the lower rater code in
            string order) first; None when fewer than two raters submitted.
        extra: Submitted counted codings beyond the pair (a third or later coder);
            they are in ``final`` (mean rule) but not in reliability, ``pairs``,
            discrepancies or consensus.
    """

    scale_id: str
    session: str
    counted: tuple[CodingFact, ...]
    primary: CodingFact | None
    pair: tuple[CodingFact, CodingFact] | None
    extra: tuple[CodingFact, ...]

    @property
    def double_coded(self) -> bool:
        """True when the session has a reliability pair."""
        return self.pair is not None


@dataclass(frozen=True)
class AnalysisSet:
    """The result of :func:`analysis_codings`.

    Attributes:
        sessions: ``(scale_id, session key) -> SessionCoders`` for every session with
            at least one counted coding, in the order the facts first named them.
    """

    sessions: Mapping[tuple[str, str], SessionCoders]

    def session(self, scale_id: str, session: str) -> SessionCoders | None:
        """The counted codings of one session, or None when none counts."""
        return self.sessions.get((scale_id, session))

    def double_coded(self, scale_id: str | None = None) -> Iterator[SessionCoders]:
        """The double-coded sessions (of one scale, or all), in fact order."""
        for coders in self.sessions.values():
            if coders.pair is not None and (scale_id is None or coders.scale_id == scale_id):
                yield coders

    @property
    def counted_ids(self) -> frozenset[int]:
        """Ids of every counted coding (submitted or uncodable)."""
        return frozenset(c.coding_id for s in self.sessions.values() for c in s.counted)

    @property
    def reliability_ids(self) -> frozenset[int]:
        """Ids of the codings in a reliability pair (two per double-coded session)."""
        return frozenset(c.coding_id for s in self.double_coded() for c in s.pair or ())

    @property
    def uncodable(self) -> tuple[CodingFact, ...]:
        """Counted codings marked uncodable (reported apart from reliability)."""
        return tuple(
            c
            for s in self.sessions.values()
            for c in s.counted
            if c.status == CodingStatus.UNCODABLE
        )


def counts_for_analysis(fact: CodingFact) -> bool:
    """Whether one coding may count for analysis at all (before one-per-rater).

    Args:
        fact: The coding.

    Returns:
        True for a finished coding (submitted or uncodable) whose role is not in
        :data:`NON_ANALYSIS_ROLES`, on a session not currently marked as training.
    """
    return (
        fact.status in FINISHED_STATUSES
        and fact.role not in NON_ANALYSIS_ROLES
        and not fact.training_session
    )


def _rank(fact: CodingFact) -> tuple[int, int]:
    return (_ROLE_RANK.get(fact.role, 2), fact.coding_id)


def _speaking(own: list[CodingFact]) -> CodingFact:
    """Rule 4: of one rater's finished codings of a session, the one that counts."""
    replaced = {f.recode_of for f in own if f.recode_of is not None}
    standing = [f for f in own if f.coding_id not in replaced] or own
    return min(standing, key=lambda f: f.coding_id)


def analysis_codings(facts: Iterable[CodingFact]) -> AnalysisSet:
    """Decide which codings count for analysis, which sessions are double-coded, and how.

    The rules, in order (this docstring is their one written statement):

    1. **Roles.** Master, certification and recalibration (drift-check) codings never
       count, nor plan ``training`` codings (:data:`NON_ANALYSIS_ROLES`). Every other
       role (``primary``, ``second``, or any other the lead gave) is an independent
       coder.
    2. **Training sessions.** Nothing on a session whose *current* training flag is
       set counts. Un-marking a session brings its independent codings in; its master
       and certification codings stay out by rule 1.
    3. **Finished only.** Submitted and uncodable codings count; not started and in
       progress ones do not. Only *submitted* codings carry scores: they alone make
       a session double-coded and enter reliability. Counted uncodable ones are
       in :attr:`AnalysisSet.uncodable` (the export's ``uncodable`` sheet, like its
       ``scores``, lists every finished coding with its role, counted or not).
    4. **One coding per rater.** When a rater has several finished codings of one
       session on one scale (under several versions of it), the first (lowest id)
       speaks, unless a later one is a finished *re-code* of it (the lead planned it
       with ``session-coder assign --recode``; its ``recode_of`` names the coding it
       re-codes): then the re-code speaks in its place. Adding a scale version alone
       never changes which coding counts; only the lead's re-code does.
    5. **Roles from the plan.** A session's primary coder is its counted coding with
       the ``primary`` role (the lowest id if several).
    6. **Double-coded, and 3+ coders.** A session is double-coded on a scale when two
       or more raters submitted counted codings. Its *reliability pair* is the first
       two of them in pair order: primary role, then ``second``, then any other role,
       ties by coding id (the plan's pair, or the first two to be assigned). Every
       consumer uses exactly that pair: the reliability report (so every double-coded
       session has k = 2 coders and none is dropped from the ICC for having another
       number of coders), the export's ``pairs`` table (one row per double-coded
       session, so the reliability sheet can be recomputed from it), the discrepancy
       list and consensus. A third or later coder is ``extra``: kept in ``scores``
       and in a ``final`` mean, never in agreement figures.

    Args:
        facts: Codings of any scales and sessions, in any order.

    Returns:
        The :class:`AnalysisSet`.
    """
    finished: dict[tuple[str, str], dict[str, list[CodingFact]]] = {}
    for fact in facts:
        if counts_for_analysis(fact):
            own = finished.setdefault((fact.scale_id, fact.session), {})
            own.setdefault(fact.rater, []).append(fact)
    sessions: dict[tuple[str, str], SessionCoders] = {}
    for (scale_id, session), by_rater in finished.items():
        counted = tuple(sorted((_speaking(f) for f in by_rater.values()), key=_rank))
        primary = next((c for c in counted if c.role == CodingRole.PRIMARY), None)
        submitted = [c for c in counted if c.status == CodingStatus.SUBMITTED]
        pair: tuple[CodingFact, CodingFact] | None = None
        if len(submitted) >= 2:
            a, b = sorted(submitted[:2], key=lambda c: c.rater)
            pair = (a, b)
        sessions[(scale_id, session)] = SessionCoders(
            scale_id, session, counted, primary, pair, tuple(submitted[2:])
        )
    return AnalysisSet(sessions)


#: Roles whose codings of a training session count for its calibration reliability: every
#: rater's own coding. The master coding is the reference raters are certified against,
#: not one more rater, so it stays out.
CALIBRATION_ROLES_EXCLUDED: frozenset[str] = frozenset({CodingRole.MASTER})


def is_training_fact(fact: CodingFact) -> bool:
    """Whether a coding belongs to training: a plan training coding, or a training session."""
    return fact.training_session or fact.role == CodingRole.TRAINING


def calibration_codings(
    facts: Iterable[CodingFact],
) -> dict[tuple[str, str], tuple[CodingFact, ...]]:
    """The codings of training (calibration) sessions that count for their reliability.

    The counterpart of :func:`analysis_codings` for ``session-coder reliability
    --include-training``: the sessions every rater codes for calibration, reported
    apart from the analysis (ICC(2,k) of all raters). The rules:

    1. **Training only.** A coding counts when it belongs to training
       (:func:`is_training_fact`: the session's *current* training flag is set, or
       the plan gave it the ``training`` role); analysis codings never do.
    2. **Raters, not the reference.** Master codings (the certification reference)
       are left out (:data:`CALIBRATION_ROLES_EXCLUDED`); training, certification,
       recalibration and any independent role count.
    3. **Submitted only, one per rater.** Only submitted codings carry scores; a
       rater's newest (highest id) submitted coding of the session speaks.

    Args:
        facts: Codings of any scales and sessions, in any order.

    Returns:
        ``{(scale_id, session key): codings}`` for every training session with at least
        two such codings, each session's codings in rater order.
    """
    newest: dict[tuple[str, str], dict[str, CodingFact]] = {}
    for fact in facts:
        if (
            not is_training_fact(fact)
            or fact.role in CALIBRATION_ROLES_EXCLUDED
            or fact.status != CodingStatus.SUBMITTED
        ):
            continue
        by_rater = newest.setdefault((fact.scale_id, fact.session), {})
        held = by_rater.get(fact.rater)
        if held is None or fact.coding_id > held.coding_id:
            by_rater[fact.rater] = fact
    return {
        key: tuple(sorted(by_rater.values(), key=lambda c: c.rater))
        for key, by_rater in newest.items()
        if len(by_rater) >= 2
    }


__all__ = [
    "CALIBRATION_ROLES_EXCLUDED",
    "FINISHED_STATUSES",
    "NON_ANALYSIS_ROLES",
    "AnalysisSet",
    "CodingFact",
    "CodingRole",
    "CodingStatus",
    "SessionCoders",
    "analysis_codings",
    "calibration_codings",
    "counts_for_analysis",
    "is_training_fact",
]
