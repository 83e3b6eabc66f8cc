"""What the lead's "Reliability" tab shows for one scale, computed without Qt.

:func:`compute_reliability` reads a scale's double-coded data (the reliability pairs
of :func:`coder.analysis_set.analysis_codings`, via :mod:`coder.discrepancies`) and
computes every view's statistics in one blocking call; ``ui.reliability_panel`` runs
it in a worker and only lays the result out. :func:`compute_drift` recomputes the
drift view with another window from data already read.
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
    reliability_frame,
    reliability_settings,
    submission_order,
)
from coder.reliability import (
    ItemReliability,
    PairReport,
    PairSummary,
    ReliabilityDrift,
    reliability_by_pair,
    reliability_drift,
    reliability_report,
    summarize_pairs,
)
from coder.scales import RatingScale
from coder.store.project import Project


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

    @property
    def n_double_coded(self) -> int:
        """The number of double-coded sessions in :attr:`frame`."""
        return int(self.frame["session_id"].nunique()) if not self.frame.empty else 0


def compute_reliability(project: Project, scale_id: str, window: int) -> ReliabilityData:
    """Read the scale's double-coded data and compute every view's statistics.

    Blocking: run it in a worker. Discrepancies are found with threshold 0 (every
    differing pair); the view filters them by the threshold the lead chooses.

    Args:
        project: The open project.
        scale_id: The scale.
        window: The drift window, in double-coded sessions.

    Returns:
        The :class:`ReliabilityData`.

    Raises:
        InputError: The project has no such scale.
    """
    scale = project.scale(scale_id)
    frame, ranges = reliability_frame(project, scale_id)
    settings = reliability_settings(project, scale_id)
    order = submission_order(project, scale_id)
    how = _how(settings)
    items = reliability_report(frame, ranges, scale_default=scale.reliability.icc, **how).items
    by_pair = reliability_by_pair(frame, ranges, **how)
    drift = reliability_drift(frame, order, window, ranges, **how)
    discrepancies = find_discrepancies(project, scale_id, threshold=0)
    return ReliabilityData(
        scale,
        frame,
        ranges,
        order,
        items,
        by_pair.pairs,
        drift,
        discrepancies,
        window,
        settings,
        summarize_pairs(by_pair),
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


__all__ = ["ReliabilityData", "compute_drift", "compute_reliability"]
