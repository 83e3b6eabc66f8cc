"""Scales coded together (issue 13, item 5): one queue line and one opening per group.

A lead may plan several scales of the same sessions together (``assign --scale ghes
--scale sthar``; :class:`coder.planning.PlanRequest` ``with_scales``): every session
gets the same raters on each scale, and a rater codes them in one listening. The
codings stay one per (session, rater, scale), each saved and submitted through the
rules of :mod:`coder.coding_rules` by its own :class:`coder.coding_session.CodingSession`,
so reliability and the exports stay per scale. This module only groups them: the
rater's queue shows a group as one line (:func:`queue_lines`), and opening any coding
of a group opens all of them (:func:`open_coding_group`) in one coding window, which
listens in :func:`coder.session_window.group_window`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from coder.coding_data import CodingState
from coder.coding_session import OpenedCoding, ScaleCatalog, open_coding
from coder.kinds import FINISHED_STATUSES, CodingStatus


class QueueItem(Protocol):
    """What :func:`queue_lines` needs of a queue entry (``QueueEntry`` has it)."""

    @property
    def coding_id(self) -> int: ...

    @property
    def session_key(self) -> str: ...

    @property
    def scale_id(self) -> str: ...

    @property
    def scale_name(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def position(self) -> int: ...

    @property
    def items_scored(self) -> int: ...

    @property
    def items_total(self) -> int: ...

    @property
    def scale_group(self) -> int | None: ...


@dataclass(frozen=True)
class QueueLine:
    """One line of a rater's queue: a coding, or the codings of scales coded together.

    Attributes:
        coding_id: The coding to open (of a group: the first one not finished).
        session_key: The session.
        scale_ids: The scales of the line (one, or the group's in plan order).
        scale_names: Their names, in the same order.
        state: The line's state (:func:`group_state`).
        position: The queue position.
        items_scored: Items scored, over the line's scales.
        items_total: Items, over the line's scales.
        finished: How many of the line's codings are finished.
    """

    coding_id: int
    session_key: str
    scale_ids: tuple[str, ...]
    scale_names: tuple[str, ...]
    state: str
    position: int
    items_scored: int
    items_total: int
    finished: int

    @property
    def scales(self) -> int:
        return len(self.scale_ids)


def group_state(states: Sequence[str]) -> str:
    """The state of scales coded together: their common state when they share one;
    otherwise in progress while any is unfinished (the rater has begun the session),
    and submitted once all are finished (some uncodable, some submitted).

    Raises:
        ValueError: no state given.
    """
    if not states:
        raise ValueError("a queue line has at least one coding")
    if len(set(states)) == 1:
        return states[0]
    if any(state not in FINISHED_STATUSES for state in states):
        return CodingStatus.IN_PROGRESS
    return CodingStatus.SUBMITTED


def queue_lines(entries: Sequence[QueueItem]) -> list[QueueLine]:
    """A rater's queue with each group of scales coded together as one line.

    Entries keep their order; a group's line stands where its first entry does.
    Entries of one session with the same ``scale_group`` form a group; every other
    entry is a line of its own.
    """
    grouped: dict[tuple[str, int], list[QueueItem]] = {}
    order: list[list[QueueItem]] = []
    for entry in entries:
        if entry.scale_group is None:
            order.append([entry])
            continue
        key = (entry.session_key, entry.scale_group)
        if key not in grouped:
            grouped[key] = []
            order.append(grouped[key])
        grouped[key].append(entry)
    lines = []
    for members in order:
        first_open = next((m for m in members if m.state not in FINISHED_STATUSES), members[0])
        lines.append(
            QueueLine(
                coding_id=int(first_open.coding_id),
                session_key=members[0].session_key,
                scale_ids=tuple(m.scale_id for m in members),
                scale_names=tuple(m.scale_name for m in members),
                state=group_state([m.state for m in members]),
                position=members[0].position,
                items_scored=sum(m.items_scored for m in members),
                items_total=sum(m.items_total for m in members),
                finished=sum(1 for m in members if m.state in FINISHED_STATUSES),
            )
        )
    return lines


class GroupReader(Protocol):
    """Loads a rater's codings and finds a coding's group
    (:class:`coder.store.project.RaterView`)."""

    def coding(self, coding_id: int) -> CodingState: ...

    def group_codings(self, coding_id: int) -> Sequence[int]: ...


@dataclass(frozen=True)
class OpenedGroup:
    """The codings one coding window opens: one, or the scales coded together.

    Attributes:
        codings: Each coding as :func:`coder.coding_session.open_coding` loads it, in
            plan order.
        current: The index of the coding the rater asked for (its scale is shown first).
    """

    codings: tuple[OpenedCoding, ...]
    current: int = 0


def open_coding_group(project: ScaleCatalog, view: GroupReader, coding_id: int) -> OpenedGroup:
    """Load a coding and the codings coded together with it (blocking: run it in a worker).

    Raises:
        InputError: the coding is not in the rater's queue.
    """
    ids = [int(i) for i in view.group_codings(coding_id)]
    codings = tuple(open_coding(project, view, i) for i in ids)
    return OpenedGroup(codings, ids.index(int(coding_id)))
