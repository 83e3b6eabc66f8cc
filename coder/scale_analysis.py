"""Which definition of a scale the analysis uses: composites and dropped items.

Composites and subscales are never stored: every consumer (the exports, the project
reliability report and the GUI's reliability tab, the discrepancy list) derives them
from the stored item scores at analysis time through :func:`analysis_definitions`, so
a lead's choice applies everywhere at once and no stale composite can remain.

A composite spanning two sessions (a ``previous_session`` list in the scale file, such
as StHAR's global: StH-A of the previous session with StH-R of this one) has no value
within one coding. The exports derive it from the final scores of a session and of the
same patient's previous session (:func:`previous_rows`, :func:`across_session_scores`).

The lead's choices per scale (:class:`ScaleAnalysis`, changed with ``session-coder
scale drop-item | restore-item | composites``, each recorded in the history):

* **Composite definition.** ``newest`` (the default): every coding's composites follow
  the newest stored version's definition, so one composite column means one thing for
  every session, whichever version a session was coded under (an item the coding's
  version did not have leaves the composite empty). ``coded``: each coding's
  composites follow the version it was coded under (the exports then state each
  version's definition).
* **Dropped items.** An item the lead left out of the analysis (say, for low
  reliability) is left out of every composite that lists it (a mean is then the mean
  of the remaining items, a sum their sum) and out of the analysis tables, the
  reliability report and the discrepancy list. Its stored scores are kept; restoring
  the item brings everything back. No new coding round is needed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from coder.errors import InputError
from coder.scales import Composite, RatingScale
from coder.store import scale_choices as store
from coder.store.project import LEAD, Project
from coder.store.queries import scale_versions

CompositeDefinition = Literal["newest", "coded"]
COMPOSITE_DEFINITIONS: tuple[str, ...] = ("newest", "coded")


@dataclass(frozen=True)
class DroppedItem:
    """An item left out of the analysis, and why (as the lead recorded it)."""

    item_id: str
    reason: str
    by: str = ""
    at: str = ""


@dataclass(frozen=True)
class ScaleAnalysis:
    """The lead's analysis choices for one scale (the defaults when never changed)."""

    scale_id: str
    composites: CompositeDefinition = "newest"
    dropped: tuple[DroppedItem, ...] = field(default=())

    @property
    def dropped_ids(self) -> frozenset[str]:
        return frozenset(d.item_id for d in self.dropped)

    def apply(self, coded: RatingScale, newest: RatingScale) -> RatingScale:
        """The definition a coding under ``coded`` is analysed with.

        Args:
            coded: The version the coding was coded under.
            newest: The newest stored version of the scale.

        Returns:
            ``coded`` with the dropped items removed and the composites of the chosen
            definition, each without the dropped items (a composite left with no item
            is removed; one that lost items says so in its label).
        """
        base = newest if self.composites == "newest" else coded
        return dataclasses.replace(
            coded,
            items=tuple(i for i in coded.items if i.id not in self.dropped_ids),
            composites=self._without_dropped(base.composites),
            across_sessions=self._without_dropped(base.across_sessions),
        )

    def _without_dropped(self, composites: tuple[Composite, ...]) -> tuple[Composite, ...]:
        dropped = self.dropped_ids
        out = []
        for comp in composites:
            kept = tuple(i for i in comp.items if i not in dropped)
            earlier = tuple(i for i in comp.previous_session if i not in dropped)
            if not kept or (comp.previous_session and (not earlier or earlier == kept)):
                continue  # nothing left, or no longer spanning two sessions
            if kept != comp.items:
                left_out = ", ".join(i for i in comp.items if i in dropped)
                comp = Composite(
                    comp.id,
                    f"{comp.label} (without {left_out}: dropped)",
                    comp.method,
                    kept,
                    earlier,
                )
            out.append(comp)
        return tuple(out)

    def describe(self, newest: RatingScale) -> list[str]:
        """Sentences for export documents: the composite definition and dropped items."""
        if not newest.composites and not newest.across_sessions and not self.dropped:
            return []
        if self.composites == "newest":
            lines = [
                f"{self.scale_id}: composites are computed at export time from the stored "
                f"item scores with the definition of version {newest.version} (the newest) "
                "for every coding, whichever version it was coded under"
            ]
        else:
            lines = [
                f"{self.scale_id}: composites are computed at export time from the stored "
                "item scores with the definition of the version each coding was coded under"
            ]
        for comp in newest.across_sessions:
            lines.append(
                f"{self.scale_id}: {comp.id} spans two sessions: {across_session_rule(comp)}"
            )
        for d in self.dropped:
            when = f", {d.at[:10]}" if d.at else ""
            by = f" by {d.by}" if d.by else ""
            lines.append(
                f"{self.scale_id}: item {d.item_id} is dropped from the analysis{by}{when} "
                f"(reason: {d.reason}); it is in no table, composite or reliability figure"
            )
        return lines


def across_session_rule(comp: Composite) -> str:
    """What a composite spanning two sessions is, in one sentence (codebook, README)."""
    now = [i for i in comp.items if i not in comp.previous_session]
    return (
        f"the {comp.method} of {', '.join(comp.previous_session)} from the same patient's "
        f"previous session (session number minus one) and {', '.join(now)} from this "
        "session, computed at export time from the final scores of both sessions; empty "
        "when the previous session has no final score for one of them (always in a "
        "patient's first session) or the session has no number. Only in the final and "
        "patient tables: it has no per-coding score and no reliability"
    )


def previous_rows(
    scale_ids: Sequence[object], patients: Sequence[object], numbers: Sequence[object]
) -> list[int | None]:
    """For each row, the row of the same scale and patient one session number earlier.

    The one rule of "the previous session" for composites spanning two sessions:
    the same patient's session whose number is this one's minus one. A row without a
    patient or a number, or whose previous number is missing (or held by two rows, so
    it is not clear which), has None.

    Args:
        scale_ids, patients, numbers: The rows' scale id, patient and session number
            (None, NaN or "" for missing).
    """

    def given(value: Any) -> bool:  # one cell: a scalar
        return not pd.isna(value) and value != ""  # None, NaN, NaT and pandas' NA

    at: dict[tuple[object, object, int], int | None] = {}
    for row, key in enumerate(zip(scale_ids, patients, numbers, strict=True)):
        if given(key[1]) and given(key[2]):
            k = (key[0], key[1], int(key[2]))  # type: ignore[call-overload]
            at[k] = None if k in at else row
    out: list[int | None] = []
    for sid, patient, number in zip(scale_ids, patients, numbers, strict=True):
        if not (given(patient) and given(number)):
            out.append(None)
            continue
        out.append(at.get((sid, patient, int(number) - 1)))  # type: ignore[call-overload]
    return out


def across_session_scores(
    comp: Composite,
    rows: Sequence[Mapping[str, float | None]],
    previous: Sequence[int | None],
) -> list[float | None]:
    """A composite spanning two sessions, row by row (:meth:`Composite.compute_across`).

    Args:
        comp: The composite (with ``previous_session`` items).
        rows: Each row's final item scores (item id -> score, None when missing).
        previous: Each row's previous-session row (:func:`previous_rows`).
    """
    return [
        comp.compute_across(current, None if before is None else rows[before])
        for current, before in zip(rows, previous, strict=True)
    ]


def scale_analysis(project: Project, scale_id: str) -> ScaleAnalysis:
    """The stored choices of one scale (the defaults when the lead changed nothing)."""
    return _parse(scale_id, store.read_choices(project).get(scale_id, {}))


def _parse(scale_id: str, entry: Mapping[str, object]) -> ScaleAnalysis:
    composites = entry.get("composites", "newest")
    dropped_raw = entry.get("dropped", {})
    dropped = []
    if isinstance(dropped_raw, Mapping):
        for item_id, info in sorted(dropped_raw.items()):
            info = info if isinstance(info, Mapping) else {"reason": str(info)}
            dropped.append(
                DroppedItem(
                    str(item_id),
                    str(info.get("reason", "")),
                    str(info.get("by", "")),
                    str(info.get("at", "")),
                )
            )
    return ScaleAnalysis(scale_id, "coded" if composites == "coded" else "newest", tuple(dropped))


def analysis_definitions(
    project: Project, scale_ids: Collection[str]
) -> tuple[dict[int, RatingScale], dict[str, ScaleAnalysis]]:
    """Every stored version of some scales as the analysis sees it, and the choices.

    Returns:
        ``({scale row id: definition after ScaleAnalysis.apply}, {scale id: choices})``.
    """
    versions = scale_versions(project, scale_ids)
    choices = store.read_choices(project)
    analyses = {sid: _parse(sid, choices.get(sid, {})) for sid in scale_ids}
    newest: dict[str, RatingScale] = {}
    for definition in versions.values():
        held = newest.get(definition.id)
        if held is None or definition.version > held.version:
            newest[definition.id] = definition
    out = {
        pk: analyses[d.id].apply(d, newest[d.id]) if d.id in analyses else d
        for pk, d in versions.items()
    }
    return out, analyses


def analysis_scale(project: Project, scale: RatingScale) -> RatingScale:
    """The newest version ``scale`` as the analysis sees it (dropped items removed)."""
    return scale_analysis(project, scale.id).apply(scale, scale)


def drop_item(
    project: Project, scale_id: str, item_id: str, reason: str, *, actor: str = LEAD
) -> bool:
    """Leave an item out of the analysis (see the module docstring).

    Returns:
        False when the item was already dropped (nothing changed).

    Raises:
        InputError: an unknown scale or item, a text item, or no reason given.
    """
    _check_item(project, scale_id, item_id)
    reason = reason.strip()
    if not reason:
        raise InputError("give the reason for dropping the item with --reason TEXT")
    return store.drop_item(project, scale_id, item_id, reason, actor=actor)


def restore_item(project: Project, scale_id: str, item_id: str, *, actor: str = LEAD) -> bool:
    """Bring a dropped item back; False when it was not dropped."""
    project.scale(scale_id)  # a clear error for an unknown scale
    return store.restore_item(project, scale_id, item_id, actor=actor)


def set_composite_definition(
    project: Project, scale_id: str, which: str, *, actor: str = LEAD
) -> bool:
    """Choose ``newest`` or ``coded`` composites for a scale; False when unchanged."""
    project.scale(scale_id)
    if which not in COMPOSITE_DEFINITIONS:
        raise InputError(f"composites: use newest or coded, not {which!r}")
    return store.set_composite_definition(project, scale_id, which, actor=actor)


def _check_item(project: Project, scale_id: str, item_id: str) -> None:
    project.scale(scale_id)  # a clear error for an unknown scale
    items = {i.id: i for d in scale_versions(project, [scale_id]).values() for i in d.items}
    if item_id not in items:
        raise InputError(
            f"scale {scale_id!r} has no item {item_id!r}; its items are: {', '.join(items)}"
        )
    if not items[item_id].is_numeric:
        raise InputError(
            f"item {item_id!r} of {scale_id!r} is a text item; it is in no analysis to drop"
        )
