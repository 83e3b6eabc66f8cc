"""A project's reliability document: subsets, composites, training, and the design facts.

:func:`project_study` reads one scale of a project through the store (the
reliability pairs of :func:`coder.analysis_set.analysis_codings`, via
:func:`coder.discrepancies.reliability_frame`), optionally restricted to the sessions
meeting ``--where`` conditions (:func:`coder.store.queries.select_sessions`) and with
the training sessions every rater coded (:func:`coder.analysis_set.calibration_codings`),
and computes :func:`coder.reliability.study_reliability` on it. The result also keeps
what the methods paragraph needs (sessions coded, the stored plan), read in the same
call, so the paragraph and the tables come from the same objects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from coder.analysis_set import analysis_codings
from coder.discrepancies import reliability_frame, reliability_settings
from coder.errors import InputError
from coder.methods_text import MethodsFacts
from coder.reliability import StudyReliability, Subset, study_reliability
from coder.scale_analysis import analysis_scale
from coder.scales import RatingScale
from coder.store.project import Project
from coder.store.queries import StoredPlan, active_plan, coding_facts, select_sessions

_WHERE = re.compile(r"^\s*([^=]+?)\s*=(.*)$")


def parse_where(texts: Sequence[str] | None) -> tuple[tuple[str, str], ...]:
    """Parse ``--where COLUMN=VALUE`` options into ``(column, value)`` pairs.

    Raises:
        InputError: An option without ``=`` or without a column name.
    """
    out = []
    for text in texts or ():
        match = _WHERE.match(text)
        if not match or not match.group(1):
            raise InputError(
                f"--where {text!r}: write COLUMN=VALUE, e.g. --where session_number=1 "
                "or --where phase=early"
            )
        out.append((match.group(1), match.group(2).strip()))
    return tuple(out)


def _grouped(where: Sequence[tuple[str, str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    grouped: dict[str, list[str]] = {}
    for column, value in where:
        values = grouped.setdefault(column, [])
        if value not in values:
            values.append(value)
    return tuple((c, tuple(v)) for c, v in grouped.items())


@dataclass(frozen=True)
class ProjectStudy:
    """One scale's reliability document and the design facts around it.

    Attributes:
        scale: The scale's newest version.
        study: The reliability document.
        frame: The long data it was computed from.
        ranges: The category ranges used.
        n_coded: Sessions (of the subset) with a coding that counts for analysis.
        n_double_coded: Of those, the double-coded ones (in the reliability data).
        plan: The scale's stored plan in force, or None.
    """

    scale: RatingScale
    study: StudyReliability
    frame: pd.DataFrame
    ranges: Mapping[str, tuple[int, int]]
    n_coded: int
    n_double_coded: int
    plan: StoredPlan | None

    def methods_facts(self) -> MethodsFacts:
        """The design facts of the methods paragraph (scale, sessions coded, plan)."""
        labels = {i.id: i.label for i in self.scale.items}
        labels |= {c.id: c.label for c in self.scale.composites}
        return MethodsFacts(
            scale_name=self.scale.name,
            n_coded=self.n_coded,
            plan_params=None if self.plan is None else self.plan.params,
            plan_summary=None if self.plan is None else self.plan.summary,
            default_form=self.scale.reliability.icc,
            labels=labels,
        )


def project_study(
    project: Project,
    scale_id: str,
    *,
    where: Sequence[tuple[str, str]] = (),
    include_training: bool = False,
    ranges: Mapping[str, tuple[int, int]] | None = None,
    kinds: Mapping[str, str] | None = None,
    kappa_weights: str | None = None,
    alpha_level: str | None = None,
    icc_k: float | None = None,
) -> ProjectStudy:
    """Read and compute one scale's reliability document (blocking).

    Args:
        project: The open project.
        scale_id: The scale.
        where: ``(column, value)`` session conditions (see
            :func:`coder.store.queries.select_sessions`); empty for every session.
        include_training: Add the training sessions' report (ICC(2,k) of all raters).
        ranges: Category ranges that override the scale's (``--range``).
        kinds: Item kinds that override the scale's (``--kind``).
        kappa_weights: The reported kappa, instead of the scale's.
        alpha_level: The reported Krippendorff level, instead of the scale's.
        icc_k: The k of the variance-component ICC(.,k) forms (``--icc-k``).

    Returns:
        The :class:`ProjectStudy`.

    Raises:
        InputError: No such scale, a ``where`` column no session has, or a
            ``kinds`` item the data do not have.
    """
    # As the analysis sees it: dropped items out of the composites (and their labels).
    scale = analysis_scale(project, project.scale(scale_id))
    sessions = select_sessions(project, where) if where else None
    frame, scale_ranges = reliability_frame(project, scale_id, sessions=sessions)
    all_ranges = {**scale_ranges, **(ranges or {})}
    settings = reliability_settings(project, scale_id)
    all_kinds: dict[str, str | None] = dict(settings.kinds)
    check_kinds(kinds or {}, frame, all_ranges, all_kinds)
    all_kinds.update(kinds or {})
    training = None
    if include_training:
        training, _ = reliability_frame(project, scale_id, sessions=sessions, training=True)
    decided = analysis_codings(coding_facts(project, scale_ids=[scale_id]))
    coded = [c for c in decided.sessions.values() if sessions is None or c.session in sessions]
    composites = {c.id: c.items for c in scale.composites}
    study = study_reliability(
        frame,
        all_ranges,
        composites=composites,
        subset=Subset(_grouped(where), None if sessions is None else len(sessions)),
        training=training,
        scale_default=scale.reliability.icc,
        kinds=all_kinds,
        kappa_weights=kappa_weights or settings.kappa_weights,
        alpha_level=alpha_level or settings.alpha_level,
        icc_k=icc_k,
    )
    return ProjectStudy(
        scale=scale,
        study=study,
        frame=frame,
        ranges=all_ranges,
        n_coded=len(coded),
        n_double_coded=sum(1 for c in coded if c.double_coded),
        plan=active_plan(project, scale_id),
    )


def check_kinds(
    given: Mapping[str, str],
    frame: pd.DataFrame,
    ranges: Mapping[str, object],
    kinds: Mapping[str, object],
) -> None:
    """A clear error for a ``--kind`` naming an item the rating data do not have."""
    known = {str(i) for i in frame["item_id"].unique()} | set(ranges) | set(kinds)
    unknown = [item for item in given if item not in known]
    if unknown:
        raise InputError(
            f"--kind {unknown[0]}=...: no item {unknown[0]!r} in the rating data; check the item id"
        )


def check_where_needs_project(where: Sequence[str] | None, include_training: bool) -> None:
    """A clear error when ``--where`` or ``--include-training`` come with ``--long``."""
    if where or include_training:
        flag = "--where" if where else "--include-training"
        raise InputError(
            f"{flag} selects sessions of a project: give PROJECT --scale ID (a long CSV "
            "has no session columns; filter the file instead)"
        )


__all__ = [
    "ProjectStudy",
    "check_kinds",
    "check_where_needs_project",
    "parse_where",
    "project_study",
]
