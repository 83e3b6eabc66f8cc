"""Rater certification against master codes, feedback on training, and drift checks.

How it fits the project model (no table of its own):

* A **training session** is a session marked with :meth:`Project.set_training`.
* Its **master coding** is an ordinary coding with role ``"master"``, entered by a
  master rater code through a :class:`~coder.store.project.RaterView` like any coding (a
  consensus of experts is entered under one code, e.g. ``MASTER``). One per session
  and scale: :func:`add_master_coding`.
* Raters in training code those sessions in codings with role ``"certification"``
  (:func:`assign_training`) or ``"training"`` (a plan's training sessions). Every
  submitted coding of a rater on a session with a submitted master coding is
  *compared*; :func:`certification_feedback` shows the rater the item-by-item
  comparison after they submit, on training sessions only.
* **Drift checks**: :func:`schedule_recalibration` drops master-coded sessions the
  rater has not seen, with role ``"recalibration"``, among a certified rater's real
  codings at a chosen rate. Raters cannot tell them apart (roles are never shown), and
  they get no feedback on them.
* :func:`certification_status` applies the scale's :class:`CertificationCriterion`
  (or the project's override): *in_training* until the rater's training comparisons
  meet it, then *certified*; *lapsed* when, after certification, the figures over the
  latest ``min_sessions`` compared codings fall below it.

Roles ``master``, ``certification`` and ``recalibration`` are outside assignment
plans: the planner neither counts nor moves them (:data:`UNPLANNED_ROLES`), and since
they lie on training sessions the exports leave them out of the analysis.

Settings (all lead-editable, every change in the history) are a typed
:class:`~coder.certification_settings.CertificationSettings`: whether certification is
required, per-scale criteria, per-rater overrides and drift-check rates. The reads and
writes are in :mod:`coder.store.certification_store`; this module keeps the rules.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np

from coder.certification_settings import (
    OVERRIDES_SETTING,
    CertificationSettings,
    RaterOverride,
    RecalibrationRate,
    check_criterion,
)
from coder.changes import OpChanges
from coder.coding_data import CodingId, Note
from coder.errors import InputError
from coder.kinds import CodingRole, CodingStatus, ItemKind
from coder.reliability import agreement, icc
from coder.scales import CertificationCriterion, RatingScale, ScaleItem
from coder.store import certification_store as store
from coder.store.certification_store import (
    MasterComparison,
    QueuedCoding,
    TrainingSessionRecord,
)
from coder.store.project import LEAD, Project

MASTER_ROLE = CodingRole.MASTER
CERTIFICATION_ROLE = CodingRole.CERTIFICATION
RECALIBRATION_ROLE = CodingRole.RECALIBRATION
#: Roles the assignment planner leaves alone (neither re-plans nor deletes).
UNPLANNED_ROLES: frozenset[str] = frozenset({MASTER_ROLE, CERTIFICATION_ROLE, RECALIBRATION_ROLE})

CertificationState = Literal["in_training", "certified", "lapsed"]


# --------------------------------------------------------------------------- types


@dataclass(frozen=True)
class FeedbackItem:
    """One item of a rater's training coding beside the master's.

    ``difference`` is rater minus master (None unless both are numbers).
    """

    item_id: str
    label: str
    kind: str
    rater_value: float | None
    master_value: float | None
    rater_text: str | None = None
    master_text: str | None = None
    rater_anchor: str | None = None
    master_anchor: str | None = None

    @property
    def difference(self) -> float | None:
        if self.rater_value is None or self.master_value is None:
            return None
        return self.rater_value - self.master_value

    @property
    def within_one(self) -> bool | None:
        d = self.difference
        return None if d is None else abs(d) <= 1 + 1e-9


@dataclass(frozen=True)
class Feedback:
    """Item-by-item feedback on one submitted training coding (only the rater's and
    the master's scores; never another rater's).

    Attributes:
        exact: Share of compared items scored exactly as the master did (None when no
            item could be compared).
        within_one: Share within one point of the master.
        master_notes: The master's timestamped notes on the session.
    """

    coding_id: CodingId
    rater: str
    session_key: str
    scale_id: str
    items: tuple[FeedbackItem, ...]
    master_notes: tuple[Note, ...]
    exact: float | None
    within_one: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "coding_id": int(self.coding_id),
            "rater": self.rater,
            "session": self.session_key,
            "scale": self.scale_id,
            "exact": self.exact,
            "within_one": self.within_one,
            "items": [
                {
                    "item": i.item_id,
                    "label": i.label,
                    "kind": i.kind,
                    "rater": i.rater_text if i.kind == ItemKind.TEXT else i.rater_value,
                    "master": i.master_text if i.kind == ItemKind.TEXT else i.master_value,
                    "difference": i.difference,
                    "rater_anchor": i.rater_anchor,
                    "master_anchor": i.master_anchor,
                }
                for i in self.items
            ],
            "master_notes": [
                {"position_ms": n.position_ms, "text": n.text} for n in self.master_notes
            ],
        }


@dataclass(frozen=True)
class CertificationFigures:
    """Agreement with the master over some compared codings.

    Attributes:
        sessions: Compared codings (sessions) the figures rest on.
        units: (session, item) pairs with both scores.
        icc: The criterion's ICC form, or None with ``icc_why``.
        within_one: Share of units within one point.
        exact: Share of units scored exactly as the master.
        meets: Whether the figures meet the criterion (enough sessions included).
    """

    sessions: int
    units: int
    icc: float | None
    icc_why: str | None
    within_one: float | None
    exact: float | None
    meets: bool

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "sessions": self.sessions,
            "units": self.units,
            "icc": self.icc,
            "within_one": self.within_one,
            "exact": self.exact,
            "meets": self.meets,
        }
        if self.icc_why:
            out["icc_why"] = self.icc_why
        return out


@dataclass(frozen=True)
class CertificationStatus:
    """A rater's certification on one scale.

    Attributes:
        state: ``in_training``, ``certified`` or ``lapsed``.
        training: Figures over every compared training coding.
        recent: Figures over the latest ``min_sessions`` compared codings (training and
            recalibration), the basis of drift flags; None before certification.
        override: The lead's per-rater decision (True: may code real sessions, False:
            may not), or None.
        eligible: Whether plans may give this rater real sessions when certification
            is required: the override if set, else ``state == "certified"``.
        why: One sentence saying why the state is what it is.
    """

    rater: str
    scale_id: str
    state: CertificationState
    criterion: CertificationCriterion
    training: CertificationFigures
    recent: CertificationFigures | None
    recalibrations: int
    override: bool | None
    override_reason: str
    eligible: bool
    why: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "rater": self.rater,
            "scale": self.scale_id,
            "state": self.state,
            "eligible": self.eligible,
            "override": self.override,
            "override_reason": self.override_reason,
            "criterion": self.criterion.as_dict(),
            "training": self.training.as_dict(),
            "recent": None if self.recent is None else self.recent.as_dict(),
            "recalibrations": self.recalibrations,
            "why": self.why,
        }


@dataclass(frozen=True)
class AgreementPoint:
    """One compared coding in a rater's agreement-over-time series.

    ``rolling`` holds the figures over this coding and the ``min_sessions - 1`` before
    it (fewer at the start); ``kind`` is ``training`` or ``recalibration``.
    """

    coding_id: int
    session_key: str
    kind: str
    submitted_at: datetime | None
    units: int
    exact: float | None
    within_one: float | None
    mean_abs_difference: float | None
    rolling: CertificationFigures

    def as_dict(self) -> dict[str, Any]:
        return {
            "coding_id": self.coding_id,
            "session": self.session_key,
            "kind": self.kind,
            "submitted_at": None if self.submitted_at is None else self.submitted_at.isoformat(),
            "units": self.units,
            "exact": self.exact,
            "within_one": self.within_one,
            "mean_abs_difference": self.mean_abs_difference,
            "rolling": self.rolling.as_dict(),
        }


@dataclass(frozen=True)
class RecalibrationReport:
    """What :func:`schedule_recalibration` did.

    Attributes:
        added: rater -> session keys of the recalibration codings added now.
        short: rater -> how many due recalibrations found no master-coded session the
            rater has not coded yet (master-code more training sessions).
        rate_changed: The drift-check rate given differs from the one remembered.
    """

    every: int
    added: dict[str, list[str]] = field(default_factory=dict)
    short: dict[str, int] = field(default_factory=dict)
    rate_changed: bool = False

    @property
    def changes(self) -> OpChanges:
        """What scheduling changed: the assignments and the certification data, if a
        drift check was added; the certification settings, if the rate changed."""
        added = any(self.added.values())
        return OpChanges(assignments=added, certification=added or self.rate_changed)


@dataclass(frozen=True)
class MasterCodingsReport:
    """What :func:`add_master_codings` added.

    Attributes:
        master_rater: The code that enters the master codings.
        codings: session key -> the new master coding.
        new_rater: The master's code was added as a rater.
    """

    master_rater: str
    codings: dict[str, CodingId]
    new_rater: bool = False

    @property
    def changes(self) -> OpChanges:
        """What adding them changed: the assignments and the certification data, and
        the raters when the master's code was added."""
        added = bool(self.codings)
        return OpChanges(assignments=added, certification=added, raters=self.new_rater)


@dataclass(frozen=True)
class TrainingReport:
    """What :func:`assign_training` added: rater -> the session keys added."""

    added: dict[str, list[str]]

    @property
    def changes(self) -> OpChanges:
        """What giving the sessions changed: the assignments and the certification data,
        if any coding was added."""
        added = any(self.added.values())
        return OpChanges(assignments=added, certification=added)


@dataclass(frozen=True)
class OverrideEvent:
    """One change of the lead's override of a rater on a scale, from the history.

    ``allow`` is None when the override was removed (the rater follows the criterion
    again); ``reason`` is the reason given with it.
    """

    at: datetime
    actor: str
    rater: str
    allow: bool | None
    reason: str

    def sentence(self) -> str:
        what = {
            True: "allowed real sessions",
            False: "barred from real sessions",
            None: "back to the criterion",
        }[self.allow]
        return f"{self.rater} {what}" + (f": {self.reason}" if self.reason else "")


@dataclass(frozen=True)
class _Comparison:
    coding_id: int
    session_key: str
    kind: str
    submitted_at: datetime | None
    pairs: tuple[tuple[float, float], ...]  # (rater, master) per compared item


# --------------------------------------------------------------------------- settings


def certification_settings(project: Project) -> CertificationSettings:
    """The project's certification settings (typed; see :class:`CertificationSettings`)."""
    return store.load_settings(project)


def criterion_for(project: Project, scale_id: str) -> CertificationCriterion:
    """The criterion in force: the project's override, else the scale file's block."""
    scale = project.scale(scale_id)
    return certification_settings(project).criterion(scale_id, scale.certification)


def set_criterion(
    project: Project,
    scale_id: str,
    criterion: CertificationCriterion | None,
    *,
    actor: str = LEAD,
) -> OpChanges:
    """Override a scale's certification criterion for this project (None: back to the
    scale file's).

    Returns:
        What changed: the certification settings.

    Raises:
        InputError: an unknown scale or ICC form, or a bound out of range.
    """
    project.scale(scale_id)
    if criterion is not None:
        check_criterion(criterion, f"the criterion of {scale_id}")
    store.change_settings(
        project, lambda settings: settings.with_criterion(scale_id, criterion), actor=actor
    )
    return OpChanges(certification=True)


def update_criterion(
    project: Project,
    scale_id: str,
    *,
    icc_form: str | None = None,
    min_icc: float | None = None,
    min_within_one: float | None = None,
    min_sessions: int | None = None,
    actor: str = LEAD,
) -> OpChanges:
    """Change some fields of a scale's criterion in this project; the others keep the
    value in force (the project's, else the scale file's). Nothing given: no change.

    Returns:
        What changed: the certification settings (nothing when no field is given).

    Raises:
        InputError: an unknown scale or ICC form, or a bound out of range.
    """
    if icc_form is None and min_icc is None and min_within_one is None and min_sessions is None:
        return OpChanges()
    current = criterion_for(project, scale_id)
    criterion = CertificationCriterion(
        icc_form=current.icc_form if icc_form is None else icc_form,
        min_icc=current.min_icc if min_icc is None else min_icc,
        min_within_one=current.min_within_one if min_within_one is None else min_within_one,
        min_sessions=current.min_sessions if min_sessions is None else min_sessions,
    )
    return set_criterion(project, scale_id, criterion, actor=actor)


def set_require_certification(project: Project, required: bool, *, actor: str = LEAD) -> OpChanges:
    """Turn on (or off) that plans give real sessions only to certified raters.

    Returns:
        What changed: the certification settings.
    """
    store.change_settings(
        project, lambda settings: settings.with_required(bool(required)), actor=actor
    )
    return OpChanges(certification=True)


def certification_required(project: Project) -> bool:
    return certification_settings(project).required


def set_override(
    project: Project,
    scale_id: str,
    rater: str,
    allow: bool | None,
    *,
    reason: str = "",
    actor: str = LEAD,
) -> OpChanges:
    """The lead's per-rater decision on a scale, whatever the figures say.

    ``allow=True`` lets an uncertified rater code real sessions, ``False`` keeps a
    certified one out, ``None`` removes the override. The change (with ``reason``) is
    in the history.

    Returns:
        What changed: the certification overrides.
    """
    project.scale(scale_id)
    if rater not in {r.code for r in project.raters(include_inactive=True)}:
        raise InputError(f"no rater {rater!r} in this project")
    override = None if allow is None else RaterOverride(bool(allow), reason)
    store.change_settings(
        project, lambda settings: settings.with_override(scale_id, rater, override), actor=actor
    )
    return OpChanges(certification=True)


def override_history(project: Project, scale_id: str) -> list[OverrideEvent]:
    """Every change of the lead's rater overrides on a scale, newest first, with the
    reason given (read from the append-only history)."""
    events = []
    for row in project.history(entity="setting", entity_id=OVERRIDES_SETTING):
        old = CertificationSettings.from_stored({OVERRIDES_SETTING: row.old})
        new = CertificationSettings.from_stored({OVERRIDES_SETTING: row.new})
        before = old.overrides.get(scale_id, {})
        after = new.overrides.get(scale_id, {})
        for rater in sorted(set(before) | set(after)):
            if before.get(rater) == after.get(rater):
                continue
            entry = after.get(rater)
            events.append(
                OverrideEvent(
                    at=row.at,
                    actor=row.actor,
                    rater=rater,
                    allow=None if entry is None else entry.allow,
                    reason="" if entry is None else entry.reason,
                )
            )
    events.reverse()
    return events


# --------------------------------------------------------------------------- codings


def add_master_codings(
    project: Project,
    session_keys: Sequence[str],
    scale_id: str,
    master_rater: str,
    *,
    new_rater: bool = False,
    actor: str = LEAD,
) -> MasterCodingsReport:
    """Assign the master codings of training sessions to a master rater code, in one
    transaction (on any error none is added).

    With ``new_rater``, a code the project does not have yet is added as a rater in the
    same transaction (e.g. ``MASTER`` for a consensus of experts).

    The master then scores each in their queue like any coding (``project.rater_view``;
    the lead's window opens it in the coding window).

    Raises:
        InputError: no session given; a session is not a training session, already has
            a master coding on the scale, or the rater already codes it.
    """
    codings, created = store.add_master_codings(
        project, session_keys, scale_id, master_rater, actor=actor, new_rater=new_rater
    )
    return MasterCodingsReport(master_rater, codings, new_rater=created)


def add_master_coding(
    project: Project, session_key: str, scale_id: str, master_rater: str, *, actor: str = LEAD
) -> CodingId:
    """Assign the master coding of one training session (:func:`add_master_codings`).

    Returns:
        The new coding.
    """
    report = add_master_codings(project, [session_key], scale_id, master_rater, actor=actor)
    return report.codings[session_key]


def assign_training(
    project: Project,
    scale_id: str,
    raters: Sequence[str],
    *,
    session_keys: Sequence[str] | None = None,
    actor: str = LEAD,
) -> TrainingReport:
    """Give raters the training sessions of a scale to code against the master.

    By default every training session with a master coding of the scale (submitted or
    not) is given; a rater who already codes a session does not get it again. The new
    codings (role ``certification``) come before the rest of the rater's queue.

    Returns:
        rater -> the session keys added, and what changed.

    Raises:
        InputError: no rater given, an unknown rater, or no master-coded session.
    """
    if not raters:
        raise InputError("choose at least one rater to give the training sessions to")
    added = store.add_training_codings(
        project, scale_id, raters, session_keys=session_keys, actor=actor
    )
    return TrainingReport(added)


def training_sessions(project: Project, scale_id: str) -> list[TrainingSessionRecord]:
    """Every training session with its master coding of a scale, if it has one (blocking)."""
    return store.training_sessions(project, scale_id)


def set_training_sessions(
    project: Project, session_keys: Sequence[str], training: bool = True, *, actor: str = LEAD
) -> OpChanges:
    """Mark sessions as training sessions (or no longer); they leave the analysis.

    Raises:
        InputError: no session given, or an unknown session (nothing is changed).
    """
    if not session_keys:
        raise InputError("choose at least one session")
    return project.set_training(session_keys, training, actor=actor)


# --------------------------------------------------------------------------- feedback


def certification_feedback(project: Project, rater: str, coding_id: int) -> Feedback:
    """Item-by-item feedback on a rater's submitted training coding, against the master.

    Only the rater's own coding and the master's are read; nothing of any other rater
    is returned.

    Raises:
        InputError: the coding is not the rater's, is not on a training session (drift
            checks get no feedback either), is not submitted yet, or the session has no
            submitted master coding.
    """
    codings = store.feedback_codings(project, rater, coding_id)
    # Recalibration codings are drift checks the rater must not recognise: they get the
    # same answer as any non-training session.
    if not codings.training or codings.role in (RECALIBRATION_ROLE, MASTER_ROLE):
        raise InputError("feedback against the master is given on training sessions only")
    if codings.state != CodingStatus.SUBMITTED:
        raise InputError("submit the coding first; the feedback comes after submitting")
    if codings.master_state != CodingStatus.SUBMITTED:
        raise InputError("the master coding of this session is not finished yet; ask the lead")
    scale = codings.scale
    items = []
    for item in scale.items:
        rv, rt = codings.ratings.get(item.id, (None, None))
        mv, mt = codings.master_ratings.get(item.id, (None, None))
        items.append(
            FeedbackItem(
                item.id,
                item.label,
                item.kind,
                rv,
                mv,
                rt,
                mt,
                _anchor(item, rv),
                _anchor(item, mv),
            )
        )
    compared = [i for i in items if i.difference is not None]
    exact = (
        sum(1 for i in compared if abs(i.difference or 0) < 1e-9) / len(compared)
        if compared
        else None
    )
    within = sum(1 for i in compared if i.within_one) / len(compared) if compared else None
    return Feedback(
        codings.coding_id,
        rater,
        codings.session_key,
        scale.id,
        tuple(items),
        codings.master_notes,
        exact,
        within,
    )


def load_feedback(project: Project, rater: str, coding_id: int) -> Feedback | None:
    """The feedback on a submitted coding, or None when there is none (blocking).

    The GUI runs it in the storage worker after the submit write, so that it sees the
    submitted coding.
    """
    try:
        return certification_feedback(project, rater, coding_id)
    except InputError:
        return None


def feedback_available(project: Project, rater: str, coding_id: int) -> bool:
    """Whether :func:`certification_feedback` would answer (for a GUI button)."""
    return load_feedback(project, rater, coding_id) is not None


def _anchor(item: ScaleItem, value: float | None) -> str | None:
    """The anchor a trainee sees for a value: only published wording (a placeholder
    text shows as the "no published wording" mark, as in the scoring widget)."""
    if value is None or value != int(value):
        return None
    return item.shown_label(int(value))


# --------------------------------------------------------------------------- status


def _compared_items(scale: RatingScale) -> tuple[ScaleItem, ...]:
    ordinal = tuple(i for i in scale.items if i.kind == ItemKind.ORDINAL)
    return ordinal or scale.scored_items


def _comparisons(
    project: Project, scale_id: str, raters: Iterable[str] | None = None
) -> dict[str, list[_Comparison]]:
    """Every rater's submitted codings on master-coded sessions, oldest first."""
    out: dict[str, list[_Comparison]] = {}
    for c in store.master_comparisons(project, scale_id, raters):
        out.setdefault(c.rater, []).append(_comparison(c))
    for series in out.values():
        series.sort(key=lambda c: (_sort_time(c.submitted_at), c.coding_id))
    return out


def _comparison(c: MasterComparison) -> _Comparison:
    pairs = tuple(
        (c.values[i.id], c.master_values[i.id])
        for i in _compared_items(c.scale)
        if i.id in c.values and i.id in c.master_values
    )
    kind = "recalibration" if c.role == RECALIBRATION_ROLE else "training"
    return _Comparison(c.coding_id, c.session_key, kind, c.submitted_at, pairs)


def _sort_time(at: datetime | None) -> float:
    return at.timestamp() if at is not None else 0.0


def _figures(
    comparisons: Sequence[_Comparison], criterion: CertificationCriterion
) -> CertificationFigures:
    pairs = [p for c in comparisons for p in c.pairs]
    sessions = sum(1 for c in comparisons if c.pairs)
    if len(pairs) == 0:
        why = "no compared scores yet"
        return CertificationFigures(sessions, 0, None, why, None, None, False)
    matrix = np.asarray(pairs, dtype=float)
    form = icc(matrix)[criterion.icc_form]
    agree = agreement(matrix)
    within, exact = agree.within_one.value, agree.exact.value
    meets = (
        sessions >= criterion.min_sessions
        and form.value is not None
        and form.value >= criterion.min_icc - 1e-12
        and within is not None
        and within >= criterion.min_within_one - 1e-12
    )
    return CertificationFigures(
        sessions,
        len(pairs),
        form.value,
        form.why if form.value is None else None,
        within,
        exact,
        meets,
    )


def certification_status(
    project: Project, scale_id: str, *, raters: Iterable[str] | None = None
) -> dict[str, CertificationStatus]:
    """Every active rater's certification on a scale (or only ``raters``).

    A rater is *certified* from the first moment their training comparisons (at least
    ``min_sessions``) meet the criterion; once certified, the figures over the latest
    ``min_sessions`` compared codings (training and drift checks alike) decide between
    *certified* and *lapsed*. A lapsed rater is certified again when new comparisons
    (more training, or better drift checks) lift those figures back over the criterion.
    """
    criterion = criterion_for(project, scale_id)
    codes = list(raters) if raters is not None else [r.code for r in project.raters()]
    comparisons = _comparisons(project, scale_id, codes)
    settings = certification_settings(project)
    out: dict[str, CertificationStatus] = {}
    for code in codes:
        series = comparisons.get(code, [])
        out[code] = _status(code, scale_id, series, criterion, settings.override(scale_id, code))
    return out


def _status(
    code: str,
    scale_id: str,
    series: Sequence[_Comparison],
    criterion: CertificationCriterion,
    override: RaterOverride | None,
) -> CertificationStatus:
    training = [c for c in series if c.kind == "training"]
    recalibrations = sum(1 for c in series if c.kind == "recalibration")
    certified_at: int | None = None  # index in ``series`` of the certifying coding
    seen: list[_Comparison] = []
    for index, comp in enumerate(series):
        if comp.kind != "training":
            continue
        seen.append(comp)
        if len(seen) >= criterion.min_sessions and _figures(seen, criterion).meets:
            certified_at = index
            break
    training_figures = _figures(training, criterion)
    recent: CertificationFigures | None = None
    state: CertificationState
    if certified_at is None:
        state = "in_training"
        if training_figures.sessions < criterion.min_sessions:
            why = (
                f"{training_figures.sessions} of {criterion.min_sessions} training sessions "
                "compared with the master"
            )
        else:
            why = "agreement with the master is below the criterion: " + _shortfall(
                training_figures, criterion
            )
    else:
        recent = _figures(series[-criterion.min_sessions :], criterion)
        if len(series) - 1 > certified_at and not recent.meets:
            state = "lapsed"
            why = "agreement over the latest sessions fell below the criterion: " + _shortfall(
                recent, criterion
            )
        else:
            state = "certified"
            why = "agreement with the master meets the criterion"
    allow = None if override is None else override.allow
    reason = "" if override is None else override.reason
    eligible = allow if allow is not None else state == "certified"
    if allow is not None:
        why += f"; the lead {'allows' if allow else 'bars'} real sessions ({reason})"
    return CertificationStatus(
        rater=code,
        scale_id=scale_id,
        state=state,
        criterion=criterion,
        training=training_figures,
        recent=recent,
        recalibrations=recalibrations,
        override=allow,
        override_reason=reason,
        eligible=eligible,
        why=why,
    )


def _shortfall(f: CertificationFigures, c: CertificationCriterion) -> str:
    parts = []
    if f.icc is None:
        parts.append(f"{c.icc_form} not defined ({f.icc_why})")
    elif f.icc < c.min_icc:
        parts.append(f"{c.icc_form} {f.icc:.2f} < {c.min_icc:.2f}")
    if f.within_one is None or f.within_one < c.min_within_one:
        share = "none" if f.within_one is None else f"{f.within_one:.0%}"
        parts.append(f"within one point {share} < {c.min_within_one:.0%}")
    if f.sessions < c.min_sessions:
        parts.append(f"{f.sessions} of {c.min_sessions} sessions")
    return "; ".join(parts) or "criterion not met"


@dataclass(frozen=True)
class CertificationOverview:
    """A scale's certification at a glance: the settings in force, every rater's status,
    the training sessions and the lead's overrides.

    Attributes:
        required: Whether plans give real sessions only to certified raters.
        criterion: The criterion in force on the scale.
        statuses: rater code -> status, every active rater.
        training: Every training session with its master coding of the scale, if any.
        overrides: The changes of the lead's rater overrides on the scale, newest first.
        recalibration_every: The remembered drift-check rate (one in every N real
            codings), or None when drift checks were never scheduled on the scale.
    """

    scale_id: str
    required: bool
    criterion: CertificationCriterion
    statuses: Mapping[str, CertificationStatus]
    training: tuple[TrainingSessionRecord, ...] = ()
    overrides: tuple[OverrideEvent, ...] = ()
    recalibration_every: int | None = None

    @property
    def masters(self) -> frozenset[str]:
        """The rater codes that enter master codings of the scale."""
        return frozenset(t.master_rater for t in self.training if t.master_rater is not None)

    def settings_sentence(self) -> str:
        """One sentence on the criterion and whether plans require it."""
        c = self.criterion
        rule = (
            f"Certified at {c.icc_form} ≥ {c.min_icc:.2f} and {c.min_within_one:.0%} within "
            f"one point of the master over at least {c.min_sessions} training session"
            f"{'s' if c.min_sessions != 1 else ''}."
        )
        if self.required:
            return rule + " Plans give real sessions only to certified raters."
        return rule + " Certification is not required for plans."

    def next_step(self) -> str | None:
        """What the lead does next to get raters certified, or None once raters are
        being compared with the master and enough sessions are master-coded."""
        need = self.criterion.min_sessions
        mastered = [t for t in self.training if t.master_rater is not None]
        submitted = [t for t in mastered if t.master_state == CodingStatus.SUBMITTED]
        plural = "s" if need != 1 else ""
        if not self.training:
            return (
                f"Start by marking at least {need} session{plural} as training sessions "
                "(they leave the analysis): raters are certified on them."
            )
        if not mastered:
            return (
                "Next, choose who enters the master coding of the training sessions: an "
                "expert, or a consensus of experts entered under one rater code. Raters "
                "are compared with those scores."
            )
        if not submitted:
            return (
                "Next, enter the master codings: select a training session and choose "
                "Enter master coding (submit it when done)."
            )
        if len(mastered) < need:
            return (
                f"Only {len(mastered)} training session{'s' if len(mastered) != 1 else ''} "
                f"of {need} needed have a master coding: mark and master-code more."
            )
        if not any(t.trainees for t in self.training):
            return "Next, give the raters the master-coded training sessions to code."
        compared = any(
            s.training.sessions for code, s in self.statuses.items() if code not in self.masters
        )
        if not compared:
            return (
                "The raters have their training sessions; each is compared with the master "
                "as soon as they submit it and the master coding is submitted."
            )
        return None


def certification_overview(project: Project, scale_id: str) -> CertificationOverview:
    """The settings in force on a scale, every active rater's status, the training
    sessions and the override history (blocking: the GUI runs it in a worker)."""
    settings = certification_settings(project)
    scale = project.scale(scale_id)
    rate = settings.recalibration.get(scale_id)
    return CertificationOverview(
        scale_id=scale_id,
        required=settings.required,
        criterion=settings.criterion(scale_id, scale.certification),
        statuses=certification_status(project, scale_id),
        training=tuple(training_sessions(project, scale_id)),
        overrides=tuple(override_history(project, scale_id)),
        recalibration_every=None if rate is None else rate.every,
    )


def eligible_raters(project: Project, scale_id: str, raters: Sequence[str]) -> list[str]:
    """The raters (in the given order) that plans may give real sessions of a scale."""
    status = certification_status(project, scale_id, raters=raters)
    return [r for r in raters if status[r].eligible]


# --------------------------------------------------------------------------- drift


def agreement_over_time(project: Project, rater: str, scale_id: str) -> list[AgreementPoint]:
    """A rater's agreement with the master, coding by coding, oldest first.

    Each point is one submitted coding of a master-coded session (training or drift
    check), with its own exact and within-one shares and the rolling figures of the
    criterion over it and the ``min_sessions - 1`` codings before it.
    """
    if rater not in {r.code for r in project.raters(include_inactive=True)}:
        raise InputError(f"no rater {rater!r} in this project")
    criterion = criterion_for(project, scale_id)
    series = _comparisons(project, scale_id, [rater]).get(rater, [])
    points = []
    for index, comp in enumerate(series):
        diffs = [abs(a - b) for a, b in comp.pairs]
        n = len(diffs)
        window = series[max(0, index - criterion.min_sessions + 1) : index + 1]
        points.append(
            AgreementPoint(
                coding_id=comp.coding_id,
                session_key=comp.session_key,
                kind=comp.kind,
                submitted_at=comp.submitted_at,
                units=n,
                exact=sum(1 for d in diffs if d < 1e-9) / n if n else None,
                within_one=sum(1 for d in diffs if d <= 1 + 1e-9) / n if n else None,
                mean_abs_difference=sum(diffs) / n if n else None,
                rolling=_figures(window, criterion),
            )
        )
    return points


def schedule_recalibration(
    project: Project,
    scale_id: str,
    *,
    every: int | None = None,
    seed: int | None = None,
    actor: str = LEAD,
) -> RecalibrationReport:
    """Drop master-coded sessions, unannounced, into certified raters' queues.

    Each certified (or lapsed) rater gets one drift-check coding for every ``every``
    real (primary or second) codings of the scale in their queue, placed right after
    the ``every``-th, ``2 x every``-th, ... of them (or among the unstarted ones when
    the rater is past that point). The session is a master-coded training session the
    rater has not coded, chosen at random (seeded). Run it again after plans change:
    it only adds what is due. ``every`` and ``seed`` are remembered for the scale.

    Raises:
        InputError: ``every`` below 2, or no rate given or remembered.
    """
    stored = certification_settings(project).recalibration.get(scale_id)
    if every is None:
        if stored is None:
            raise InputError(
                f"say how often to check {scale_id}: one in every N sessions (--every N)"
            )
        every = stored.every
    if seed is None:
        seed = stored.seed if stored is not None else 0
    rate = RecalibrationRate(int(every), int(seed))
    if stored != rate:
        store.change_settings(
            project, lambda settings: settings.with_recalibration(scale_id, rate), actor=actor
        )
    status = certification_status(project, scale_id)
    certified = [code for code, st in status.items() if st.state != "in_training"]

    def plan(
        code: str, queue: Sequence[QueuedCoding], mastered: Mapping[int, str]
    ) -> tuple[list[tuple[int, int]], int]:
        return _drift_checks(code, queue, mastered, scale_id, rate)

    added, short = store.add_recalibration_codings(project, scale_id, certified, plan, actor=actor)
    return RecalibrationReport(rate.every, added, short, rate_changed=stored != rate)


def _drift_checks(
    code: str,
    queue: Sequence[QueuedCoding],
    mastered: Mapping[int, str],
    scale_id: str,
    rate: RecalibrationRate,
) -> tuple[list[tuple[int, int]], int]:
    """The drift checks due in a rater's queue that are not there yet.

    Returns:
        (session id, queue position) of each check to add, and how many due checks
        found no master-coded session the rater has not coded.
    """
    real = [c for c in queue if c.role in (CodingRole.PRIMARY, CodingRole.SECOND)]
    have = sum(1 for c in queue if c.role == RECALIBRATION_ROLE)
    due = len(real) // rate.every
    coded = {c.session_id for c in queue}
    checks: list[tuple[int, int]] = []
    for j in range(have + 1, due + 1):
        candidates = sorted((sid for sid in mastered if sid not in coded), key=mastered.__getitem__)
        if not candidates:
            return checks, due - j + 1
        rng = random.Random(f"{rate.seed}|{scale_id}|{code}|{j}")
        sid = rng.choice(candidates)
        coded.add(sid)
        checks.append((sid, _slot(real, j * rate.every - 1)))
    return checks, 0


def _slot(real: Sequence[QueuedCoding], index: int) -> int:
    """The queue position for a drift check due after the ``index``-th real coding.

    It shares that coding's position (ties in a queue are broken by id, so it comes
    right after). When the rater has already started that coding or later ones, it
    goes next to the first unstarted one instead, so that it is still ahead of them.
    """
    index = min(index, len(real) - 1)
    later = [r for r in real[index:] if r.state == CodingStatus.NOT_STARTED]
    if later:
        return later[0].queue_position
    unstarted = [r for r in real if r.state == CodingStatus.NOT_STARTED]
    if unstarted:
        return unstarted[0].queue_position
    return (real[-1].queue_position if real else 0) + 1
