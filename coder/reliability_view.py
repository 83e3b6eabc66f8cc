"""What the lead's "Reliability" tab shows for one scale, computed without Qt.

:func:`compute_reliability` reads a scale's double-coded data through the same core
function as ``session-coder reliability PROJECT`` (:func:`coder.reliability_project.project_study`:
the reliability pairs of :func:`coder.analysis_set.analysis_codings`, optionally a subset
of sessions as ``--where`` and the calibration sessions as ``--include-training``) and
computes every view's statistics in one blocking call; ``ui.reliability_panel`` runs
it in a worker and only lays the result out. :func:`compute_drift` recomputes the
drift view with another window from data already read. :func:`subset_choices` lists
the session columns and values a subset can be chosen by, and :func:`headline_stat`
finds an item's headline form (:func:`coder.reliability.recommend_form`) in any report
of that item: a drift window's, a rater pair's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from coder.discrepancies import (
    Discrepancy,
    ReliabilitySettings,
    find_discrepancies,
    reliability_settings,
    submission_order,
)
from coder.reliability import (
    IccForm,
    ItemReliability,
    PairReport,
    PairSummary,
    Recommendation,
    ReliabilityDrift,
    ReliabilityReport,
    Subset,
    VcForm,
    pair_form,
    reliability_drift,
)
from coder.reliability_project import project_study
from coder.scales import RatingScale
from coder.store.project import Project
from coder.store.queries import session_attributes

#: Session columns not offered as a subset: the key selects one session, and training
#: sessions are never in the reliability data (they come as the calibration report).
_NOT_A_SUBSET = frozenset({"session_id", "training"})


@dataclass(frozen=True)
class ReliabilityData:
    """Everything the reliability tab shows for one scale.

    Attributes:
        scale: The scale's newest version.
        frame: The long rating data (:func:`coder.discrepancies.reliability_frame`).
        ranges: Each ordinal and nominal item's category range.
        order: When each double-coded session became double-coded (for drift).
        items: The reliability report's items (item id -> statistics).
        pairs: The statistics per pair of raters.
        drift: The drift of the statistics over windows of sessions.
        discrepancies: Every differing pair of scores (threshold 0).
        window: The drift window (sessions) ``drift`` was computed with.
        pair_summary: Each ICC form of each item over the rater pairs (range, mean,
            median: :func:`coder.reliability.summarize_pairs` of ``pairs``).
        settings: The item kinds and reported kappa and alpha the statistics follow.
        subset: The session conditions the data were selected with (empty: all).
        training: The calibration sessions' report (every rater's coding), when asked
            for, else None.
        n_training_sessions: The calibration sessions in ``training``.
    """

    scale: RatingScale
    frame: pd.DataFrame
    ranges: dict[str, tuple[int, int]]
    order: dict[str, datetime]
    items: Mapping[str, ItemReliability]
    pairs: Sequence[PairReport]
    drift: ReliabilityDrift
    discrepancies: list[Discrepancy]
    window: int
    settings: ReliabilitySettings | None = None
    pair_summary: PairSummary = field(default_factory=dict)
    subset: Subset = field(default_factory=Subset)
    training: ReliabilityReport | None = None
    n_training_sessions: int = 0

    @property
    def n_double_coded(self) -> int:
        """The number of double-coded sessions in :attr:`frame`."""
        return int(self.frame["session_id"].nunique()) if not self.frame.empty else 0


def compute_reliability(
    project: Project,
    scale_id: str,
    window: int,
    *,
    where: Sequence[tuple[str, str]] = (),
    include_training: bool = False,
) -> ReliabilityData:
    """Read the scale's double-coded data and compute every view's statistics.

    Blocking: run it in a worker. The items, pairs and their summary are
    :func:`coder.reliability_project.project_study`'s, the CLI's own. Discrepancies
    are found with threshold 0 (every differing pair); the view filters them by the
    threshold the lead chooses.

    Args:
        project: The open project.
        scale_id: The scale.
        window: The drift window, in double-coded sessions.
        where: ``(column, value)`` session conditions, as ``--where`` (empty: every
            session).
        include_training: Add the calibration sessions' report, as
            ``--include-training``.

    Returns:
        The :class:`ReliabilityData`.

    Raises:
        InputError: The project has no such scale, or no session meets ``where``.
    """
    found = project_study(project, scale_id, where=where, include_training=include_training)
    study = found.study
    frame = found.frame
    ranges = dict(found.ranges)
    settings = reliability_settings(project, scale_id)
    order = submission_order(project, scale_id)
    drift = reliability_drift(frame, order, window, ranges, **_how(settings))
    discrepancies = find_discrepancies(project, scale_id, threshold=0)
    if where:
        shown = {str(s) for s in frame["session_id"].unique()}
        discrepancies = [d for d in discrepancies if d.session_id in shown]
    return ReliabilityData(
        found.scale,
        frame,
        ranges,
        order,
        study.report.items,
        study.by_pair.pairs,
        drift,
        discrepancies,
        window,
        settings,
        study.pair_summary,
        study.subset,
        study.training,
        study.n_training_sessions,
    )


def _how(settings: ReliabilitySettings | None) -> dict[str, Any]:
    """The keyword arguments that make the statistics follow the kinds and settings."""
    if settings is None:
        return {}
    return {
        "kinds": settings.kinds,
        "kappa_weights": settings.kappa_weights,
        "alpha_level": settings.alpha_level,
    }


def compute_drift(data: ReliabilityData, window: int) -> ReliabilityDrift:
    """Drift of already-read data with another window (blocking: run it in a worker)."""
    return reliability_drift(data.frame, data.order, window, data.ranges, **_how(data.settings))


def subset_choices(project: Project) -> dict[str, list[str]]:
    """The session columns a subset can be chosen by, each with its values (blocking).

    The columns of :func:`coder.store.queries.session_attributes` (the manifest's, then
    its metadata), but the session key and the training mark; the values are those the
    sessions have, empty ones left out, whole numbers in numeric order.
    """
    attributes = session_attributes(project)
    out: dict[str, list[str]] = {}
    for column in attributes.columns:
        if column in _NOT_A_SUBSET:
            continue
        values = {row.get(column, "") for row in attributes.values.values()} - {""}
        if values:
            out[column] = sorted(values, key=_value_order)
    return out


def _value_order(value: str) -> tuple[int, float, str]:
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def headline_stat(
    item: ItemReliability | None, recommendation: Recommendation | None
) -> IccForm | VcForm | None:
    """The headline form of ``recommendation`` in ``item``, any report of the item.

    The form is decided once, on the whole data (:func:`coder.reliability.recommend_form`),
    and read the same in a drift window's report. A rater pair's report (a crossed
    two-rater design without variance components) gives its per-pair counterpart
    (:func:`coder.reliability.pair_form`, e.g. ICC(2,1) for ICC(A,1)).

    Args:
        item: The item's report (None: not in these data).
        recommendation: The item's headline on the whole data.

    Returns:
        The statistic, or None when the item or the headline has none.
    """
    if item is None or recommendation is None or recommendation.form is None:
        return None
    if recommendation.source == "icc_vc":
        if item.icc_vc is not None:
            return item.icc_vc[recommendation.form]
        return item.icc[pair_form(recommendation.form)]
    return item.icc[recommendation.form]


__all__ = [
    "ReliabilityData",
    "compute_drift",
    "compute_reliability",
    "headline_stat",
    "subset_choices",
]
