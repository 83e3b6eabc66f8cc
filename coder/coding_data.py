"""The plain data of one coding: its notes, its listening spans, and its loaded state.

These are what the store returns (:meth:`coder.store.project.RaterView.coding`) and
what :class:`coder.coding_session.CodingSession` keeps in memory; nothing here touches
the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NewType

from coder.scales import RatingScale
from coder.session_window import SessionWindow, session_window

CodingId = NewType("CodingId", int)


@dataclass(frozen=True)
class Note:
    """A rater's note at a moment of the recording."""

    id: int
    position_ms: int
    text: str


@dataclass(frozen=True)
class PreparedField:
    """A field the lab prepared for the raters of a scale (:mod:`coder.prepared_fields`):
    its name and its text ("" when the lab gave none for the session)."""

    name: str
    value: str


def prepared_values(
    shown: Sequence[str], metadata: Mapping[str, object], entered: Mapping[str, str]
) -> tuple[PreparedField, ...]:
    """What a rater sees "prepared by the lab" for one session: the one rule.

    The fields the lead chose for the scale, in the lead's order, each with the value the
    lead entered for the session when there is one, else the manifest's (the session's
    metadata). In lab mode the server applies this rule (``public.sc_prepared_fields``
    in :mod:`coder.store.lab_security`), as a rater's login reads neither.

    Args:
        shown: The fields the lead chose for the scale, in order.
        metadata: The session's manifest metadata.
        entered: The values the lead entered for the session (field -> text).
    """
    out = []
    for name in shown:
        value = entered.get(name)
        if value is None:
            raw = metadata.get(name)
            value = "" if raw is None else str(raw)
        out.append(PreparedField(name, value))
    return tuple(out)


@dataclass(frozen=True)
class Span:
    """A stretch of the recording marked for a duration item (open while ``end_ms`` is None)."""

    id: int
    item_id: str
    start_ms: int
    end_ms: int | None

    @property
    def length_ms(self) -> int:
        return 0 if self.end_ms is None else max(0, self.end_ms - self.start_ms)


@dataclass(frozen=True)
class CodingState:
    """Everything needed to resume one coding."""

    coding_id: CodingId
    rater: str
    session_key: str
    scale: RatingScale
    state: str
    values: Mapping[str, float | None]
    texts: Mapping[str, str]
    notes: tuple[Note, ...]
    spans: tuple[Span, ...]
    uncodable_reason: str
    uncodable_text: str
    playhead_ms: int
    audio_path: str | None
    audio_status: str
    audio_reason: str
    duration_ms: int | None
    sha256: str | None
    reopen_allowed: bool
    window_offset_ms: int = 0
    # What the lab prepared for the raters of this scale, shown read-only.
    prepared: tuple[PreparedField, ...] = ()

    @property
    def window(self) -> SessionWindow:
        """This session's coding window (:func:`coder.session_window.session_window`)."""
        return session_window(
            self.scale.window, offset_ms=self.window_offset_ms, recording_ms=self.duration_ms
        )
