"""Where the coding window of one session lies: the one rule (issue 13, item 7).

A scale's window (e.g. 15 minutes from 5:00 of session 1) says what is rated. In one
session it moves by the session's start offset (the manifest column
``window_offset``: the recording started late or early), and it may be cut short by
a recording that ends before the window does. :func:`session_window` combines the
three; the player, the notes panel, the exports and the lead's warnings all ask it,
so a note "outside the window" means the same everywhere.

Times are integer milliseconds. An offset is given in seconds (``90``, ``-30``,
``12.5``) or as ``m:ss`` / ``h:mm:ss`` (``1:30``, ``-0:30``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from coder.errors import InputError
from coder.scales import CodingWindow, RatingScale

#: The manifest column (kept in the session's metadata) with the per-session offset.
WINDOW_OFFSET_FIELD = "window_offset"
#: The history actions of a rater leaving the coding window on purpose, and going back.
LEAVE_WINDOW = "leave_window"
RETURN_TO_WINDOW = "return_to_window"

# A plausible offset: at most 4 hours either way (a larger one is a typo).
_MAX_OFFSET_MS = 4 * 3600 * 1000
_CLOCK = re.compile(r"^(-)?(\d+):([0-5]\d)(?::([0-5]\d))?$")
_SECONDS = re.compile(r"^-?\d+(\.\d+)?$")


def parse_window_offset(text: str) -> int:
    """An offset as milliseconds ("" is 0).

    Raises:
        ValueError: with a message that says what is wrong and how to write it.
    """
    text = text.strip()
    if not text:
        return 0
    clock = _CLOCK.match(text)
    if clock:
        sign, first, second, third = clock.groups()
        if third is None:
            seconds = int(first) * 60 + int(second)
        else:
            seconds = int(first) * 3600 + int(second) * 60 + int(third)
        ms = seconds * 1000 * (-1 if sign else 1)
    elif _SECONDS.match(text):
        ms = round(float(text) * 1000)
    else:
        raise ValueError(
            f"window_offset {text!r} is not a time: give seconds (90, -30) or m:ss (1:30, -0:30)"
        )
    if abs(ms) > _MAX_OFFSET_MS:
        raise ValueError(
            f"window_offset {text!r} moves the window by more than 4 hours; is a time in "
            "seconds meant as minutes?"
        )
    return ms


def offset_of(key: str, metadata: Mapping[str, str]) -> int:
    """A stored session's offset (from its metadata) in milliseconds.

    Raises:
        InputError: the stored value is not a time (it was not imported through the
            manifest's checks); names the session.
    """
    try:
        return parse_window_offset(str(metadata.get(WINDOW_OFFSET_FIELD, "")))
    except ValueError as exc:
        raise InputError(
            f"session {key}: {exc}; correct the manifest and import it again"
        ) from None


def format_clock(ms: int) -> str:
    """``m:ss`` (``h:mm:ss`` from one hour on), truncated to whole seconds."""
    sign = "-" if ms < 0 else ""
    seconds = abs(int(ms)) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{secs:02d}"
    return f"{sign}{minutes}:{secs:02d}"


@dataclass(frozen=True)
class SessionWindow:
    """The coding window of one session.

    Attributes:
        start_ms: Where coding starts in this recording (scale start + offset, >= 0).
        end_ms: Where the window ends by the scale (None: the end of the recording).
        offset_ms: The session's offset (0 without one).
        recording_ms: The recording's duration (None when unknown).
        whole_session: The scale rates the whole session and there is no offset.
    """

    start_ms: int
    end_ms: int | None
    offset_ms: int = 0
    recording_ms: int | None = None
    whole_session: bool = False

    @property
    def limits_playback(self) -> bool:
        """Whether the player keeps to a part of the recording."""
        return not self.whole_session

    @property
    def short_by_ms(self) -> int:
        """How much of the window lies beyond the end of the recording (0: none)."""
        if self.end_ms is None or self.recording_ms is None:
            return 0
        return max(0, self.end_ms - max(self.recording_ms, self.start_ms))

    def contains(self, position_ms: int) -> bool:
        """Whether a moment (a note) lies inside the window (its ends included)."""
        if position_ms < self.start_ms:
            return False
        return self.end_ms is None or position_ms <= self.end_ms

    def contains_span(self, start_ms: int, end_ms: int | None) -> bool:
        """Whether a marked span lies wholly inside the window (an open span: its start)."""
        return self.contains(start_ms) and (end_ms is None or self.contains(end_ms))

    def describe(self) -> str:
        """The window in words, e.g. "5:00-20:00 (shifted by 1:30)"."""
        if self.whole_session:
            return "the whole session"
        end = "the end" if self.end_ms is None else format_clock(self.end_ms)
        shifted = f" (shifted by {format_clock(self.offset_ms)})" if self.offset_ms else ""
        return f"{format_clock(self.start_ms)}-{end}{shifted}"

    def shortfall(self) -> str | None:
        """The warning for a recording that ends before the window does (None: it doesn't)."""
        short = self.short_by_ms
        if not short or self.end_ms is None or self.recording_ms is None:
            return None
        coded = max(0, self.recording_ms - self.start_ms)
        return (
            f"the recording ends at {format_clock(self.recording_ms)}, "
            f"{format_clock(short)} before the coding window ({self.describe()}) ends: "
            f"only {format_clock(coded)} of its {format_clock(self.end_ms - self.start_ms)} "
            "can be coded"
        )


def session_window(
    window: CodingWindow, *, offset_ms: int = 0, recording_ms: int | None = None
) -> SessionWindow:
    """The window of one session: the scale's window moved by the offset.

    A whole-session window ignores the offset (the whole recording is rated). A
    window moved before the start of the recording starts at 0:00 and keeps its end.

    Args:
        window: The scale's window.
        offset_ms: The session's offset (see :func:`offset_of`).
        recording_ms: The recording's duration, when known.
    """
    if window.is_whole_session:
        return SessionWindow(0, None, 0, recording_ms, whole_session=True)
    end = window.end_ms
    return SessionWindow(
        start_ms=max(0, window.start_ms + offset_ms),
        end_ms=None if end is None else max(0, end + offset_ms),
        offset_ms=offset_ms,
        recording_ms=recording_ms,
    )


def group_window(windows: Sequence[SessionWindow]) -> SessionWindow:
    """The one window a rater listens in when coding several scales of a session at once.

    Scales planned together (:class:`coder.planning.PlanRequest` ``with_scales``) are
    coded in one listening, but each keeps its own window: the player keeps to the
    smallest span that holds every scale's window (from the earliest start to the
    latest end; any whole-session scale makes it the whole session), and each scale's
    notes and spans are still flagged against that scale's own window
    (:meth:`SessionWindow.contains`), so "outside the window" keeps its meaning per
    scale in the notes panel and the exports.

    Raises:
        ValueError: no window given.
    """
    if not windows:
        raise ValueError("a group of scales has at least one window")
    if len(windows) == 1:
        return windows[0]
    first = windows[0]
    recording = first.recording_ms
    if any(w.whole_session for w in windows):
        return SessionWindow(0, None, 0, recording, whole_session=True)
    ends = [w.end_ms for w in windows]
    return SessionWindow(
        start_ms=min(w.start_ms for w in windows),
        end_ms=None if any(end is None for end in ends) else max(e for e in ends if e is not None),
        offset_ms=first.offset_ms,
        recording_ms=recording,
    )


@dataclass(frozen=True)
class WindowShortfall:
    """A session whose recording ends before the coding window of a scale does."""

    scale_id: str
    session_id: str
    window: SessionWindow

    def as_dict(self) -> dict[str, object]:
        return {
            "scale_id": self.scale_id,
            "session_id": self.session_id,
            "window_start_ms": self.window.start_ms,
            "window_end_ms": self.window.end_ms,
            "recording_ms": self.window.recording_ms,
            "short_by_ms": self.window.short_by_ms,
        }

    def line(self) -> str:
        return f"{self.scale_id} {self.session_id}: {self.window.shortfall()}"


def window_shortfalls(
    sessions: Iterable[SessionForWindow], scales: Iterable[RatingScale]
) -> list[WindowShortfall]:
    """Every (scale, session) whose recording ends before the session's window does.

    Only sessions the scale applies to, with a readable recording, are checked.

    Raises:
        InputError: a stored offset is not a time (see :func:`offset_of`).
    """
    found: list[WindowShortfall] = []
    sessions = list(sessions)
    for scale in scales:
        if scale.window.is_whole_session:
            continue
        for session in sessions:
            if session.duration_ms is None or session.audio_status != "ok":
                continue
            if not scale.applies_to.matches(session.session_number):
                continue
            window = session_window(
                scale.window,
                offset_ms=offset_of(session.key, session.metadata),
                recording_ms=session.duration_ms,
            )
            if window.short_by_ms:
                found.append(WindowShortfall(scale.id, session.key, window))
    return found


class SessionForWindow(Protocol):
    """What :func:`window_shortfalls` needs of a session (``SessionInfo`` has it)."""

    @property
    def key(self) -> str: ...

    @property
    def session_number(self) -> int | None: ...

    @property
    def audio_status(self) -> str: ...

    @property
    def duration_ms(self) -> int | None: ...

    @property
    def metadata(self) -> Mapping[str, str]: ...
