"""Rules of a rater's coding that the store, the in-memory session and the screen share.

Each rule is one pure function (no database, no Qt), written once here:

- which scores and texts an item admits (:func:`check_number`, :func:`check_rating`,
  :func:`value_admissible`, :func:`value_bounds`);
- which codings may still be changed (:func:`is_editable`, :func:`check_editable`) and
  how the first change starts one (:func:`state_after_change`);
- a duration item's value from its listening spans (:func:`duration_seconds`);
- what an "uncodable" choice needs (:func:`check_uncodable`);
- which items must be scored before a submit (:func:`is_scored`,
  :func:`missing_required`, :func:`check_submittable`);
- which history row a change of state writes (:func:`state_change`);
- which notes are kept (:func:`note_text_is_kept`).

The store (:mod:`coder.store.codings`) refuses what breaks a rule,
:class:`coder.coding_session.CodingSession` applies it before writing, the package
merger (:mod:`coder.packages`) checks a returned package with it, and widgets ask the
session or call a rule to decide what to enable, never re-deriving it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from coder.errors import InputError
from coder.kinds import FINISHED_STATUSES, CodingStatus, ItemKind
from coder.scales import MAX_COUNT, MAX_DURATION_SECONDS, RatingScale, ScaleItem

OTHER_REASON = "Other"

# ---------------------------------------------------------------------- scores


def item_of(scale: RatingScale, item_id: str, *kinds: ItemKind) -> ScaleItem:
    """The item ``item_id`` of ``scale``, which must be of one of ``kinds`` (if given).

    Raises:
        InputError: the scale has no such item, or it is of another kind.
    """
    try:
        item = scale.item(item_id)
    except KeyError:
        raise InputError(f"scale {scale.id!r} has no item {item_id!r}") from None
    if kinds and item.kind not in kinds:
        wanted = " or ".join(str(kind) for kind in kinds)
        raise InputError(
            f"item {item_id!r} of scale {scale.id!r} is not a {wanted} item (it is {item.kind})"
        )
    return item


def check_number(item: ScaleItem, value: float | None) -> None:
    """Refuse a number (or a clearing None) that ``item`` does not admit.

    A text item takes no number at all, not even None (its text is cleared by writing
    an empty text); a numeric item takes None (not scored) or a finite number of its
    kind inside its range (:meth:`coder.scales.ScaleItem.check_value`).

    Raises:
        InputError: naming the item and what it takes instead.
    """
    if item.kind == ItemKind.TEXT:
        raise InputError(f"item {item.id!r} takes text, not a number")
    item.check_value(value)


def check_text_item(item: ScaleItem) -> None:
    """Refuse writing a text to an item that takes a number.

    Raises:
        InputError: ``item`` is not a text item.
    """
    if item.kind != ItemKind.TEXT:
        raise InputError(f"item {item.id!r} takes a number, not text")


def check_rating(item: ScaleItem, value: float | None, text: str | None) -> None:
    """Refuse a stored rating (a number and a text, at most one of them set) of ``item``.

    This is the form in which ratings are stored and travel in packages: a text item
    holds a text (or nothing) and no number, a numeric item an admissible number (or
    nothing) and no text.

    Raises:
        InputError: the rating holds the wrong kind of value or a value out of range.
    """
    if item.kind == ItemKind.TEXT:
        if value is not None:
            raise InputError(f"item {item.id!r} takes text, not a number")
        return
    if text is not None:
        raise InputError(f"item {item.id!r} takes a number, not text")
    check_number(item, value)


def value_admissible(item: ScaleItem, value: float | None) -> bool:
    """Whether ``item`` admits ``value`` as its number (see :func:`check_number`)."""
    try:
        check_number(item, value)
    except InputError:
        return False
    return True


def value_bounds(item: ScaleItem) -> tuple[int, int] | None:
    """The lowest and highest number ``item`` admits, or None for a text item.

    Ordinal and nominal items admit their listed values, counts 0 to
    :data:`coder.scales.MAX_COUNT`, durations 0 to
    :data:`coder.scales.MAX_DURATION_SECONDS` seconds.
    """
    if item.kind == ItemKind.TEXT:
        return None
    if item.kind == ItemKind.COUNT:
        return (0, MAX_COUNT)
    if item.kind == ItemKind.DURATION:
        return (0, MAX_DURATION_SECONDS)
    values = item.values
    return (values[0], values[-1]) if values else None


# ---------------------------------------------------------------------- state


def is_editable(state: str, reopen_allowed: bool) -> bool:
    """Whether a coding in ``state`` may still be changed by its rater.

    A coding is open until it is finished (submitted or uncodable); a finished one is
    open again only while the lead allows reopening it.
    """
    return state not in FINISHED_STATUSES or reopen_allowed


def check_editable(state: str, reopen_allowed: bool) -> None:
    """Refuse a change to a finished coding (see :func:`is_editable`).

    Raises:
        InputError: the coding is submitted or uncodable and not reopened.
    """
    if not is_editable(state, reopen_allowed):
        finished = "marked uncodable" if state == CodingStatus.UNCODABLE else "submitted"
        raise InputError(f"this coding is {finished}; ask the lead to allow reopening it")


def state_after_change(state: str) -> CodingStatus:
    """The state of a coding after its rater changed something in it.

    The first change (a score, a text, a note, a span) starts a coding: not_started
    becomes in_progress; every other state stays as it is.
    """
    status = CodingStatus(state)
    return CodingStatus.IN_PROGRESS if status == CodingStatus.NOT_STARTED else status


@dataclass(frozen=True)
class StateChange:
    """The history row a change of a coding's state writes (its field is ``state``).

    Attributes:
        action: ``submit``, ``uncodable`` or ``set``.
        old: What the row records as before: the old state, or for ``uncodable`` the
            old state and reason.
        new: What it records as after: the new state, or for ``uncodable`` the state,
            reason and text.
    """

    action: str
    old: Any
    new: Any


def state_change(
    old_state: str, old_reason: str, new_state: str, reason: str = "", text: str = ""
) -> StateChange:
    """The history row of a change from ``old_state`` to ``new_state``.

    Args:
        old_state: The coding's state before the change.
        old_reason: Its uncodable reason before the change ("" when none).
        new_state: The state after the change.
        reason: The uncodable reason after the change (for ``uncodable``).
        text: The rater's words for the reason (for ``uncodable``).
    """
    if new_state == CodingStatus.UNCODABLE:
        return StateChange(
            "uncodable",
            {"state": str(old_state), "reason": old_reason},
            {"state": str(CodingStatus.UNCODABLE), "reason": reason, "text": text},
        )
    action = "submit" if new_state == CodingStatus.SUBMITTED else "set"
    return StateChange(action, str(old_state), str(new_state))


# ---------------------------------------------------------------------- spans


class TimedSpan(Protocol):
    """Anything with a start and an optional end in ms (a span row or a span)."""

    @property
    def start_ms(self) -> int: ...

    @property
    def end_ms(self) -> int | None: ...


def duration_seconds(spans: Iterable[TimedSpan]) -> float | None:
    """A duration item's value from its listening spans: the sum of the closed ones.

    A rater may still correct the value by hand; the next change of a span re-sums it.

    Returns:
        The total length of the closed spans in seconds (rounded to ms; 0.0 when there
        are no spans), or None when the only spans are still open: the value is then
        left as it was.
    """
    spans = list(spans)
    closed = [(sp.start_ms, sp.end_ms) for sp in spans if sp.end_ms is not None]
    if not closed and spans:
        return None
    total_ms = sum(max(0, end - start) for start, end in closed)
    return round(total_ms / 1000, 3)


# ---------------------------------------------------------------------- finishing


def is_scored(
    item: ScaleItem, values: Mapping[str, float | None], texts: Mapping[str, str]
) -> bool:
    """Whether ``item`` counts as scored: a non-blank text, or a number."""
    if item.kind == ItemKind.TEXT:
        return bool(texts.get(item.id, "").strip())
    return values.get(item.id) is not None


def missing_required(
    scale: RatingScale, values: Mapping[str, float | None], texts: Mapping[str, str]
) -> list[str]:
    """Labels of the required items of ``scale`` not yet scored, in scale order.

    A duration item counts as scored once its value is set (its spans set it).
    """
    return [
        item.label for item in scale.items if item.required and not is_scored(item, values, texts)
    ]


def check_submittable(
    scale: RatingScale, values: Mapping[str, float | None], texts: Mapping[str, str]
) -> None:
    """Refuse a submit while a required item is not scored.

    Raises:
        InputError: naming every required item not yet scored.
    """
    missing = missing_required(scale, values, texts)
    if missing:
        raise InputError("not yet scored: " + "; ".join(missing))


def check_uncodable(reasons: Sequence[str], reason: str | None, text: str = "") -> None:
    """Check a choice of "uncodable" reason: one of the scale's, and "Other" says why.

    Args:
        reasons: The scale's uncodable reasons.
        reason: The reason chosen (None or "" when none was chosen yet).
        text: The rater's words; required (non-blank) for "Other".

    Raises:
        InputError: no reason chosen, a reason the scale does not have, or "Other"
            without a text.
    """
    if not reason:
        raise InputError("choose why the session cannot be coded")
    if reason not in reasons:
        raise InputError(
            f"{reason!r} is not a reason of this scale; choose one of: " + ", ".join(reasons)
        )
    if reason == OTHER_REASON and not text.strip():
        raise InputError("say in a few words why the session is uncodable")


# ---------------------------------------------------------------------- notes


def note_text_is_kept(text: str | None) -> bool:
    """Whether a note with this text is kept.

    A note exists to say something at a moment of the recording; one with no text
    (empty or only whitespace) says nothing, so it is never stored: a new note is
    stored once it has text, and a note whose text the rater clears is deleted.

    Args:
        text: The note's text (None counts as empty).

    Returns:
        True when the text has at least one non-whitespace character.
    """
    return bool(text and text.strip())


def check_note_text(text: str | None) -> None:
    """Refuse a note text that would not be kept (see :func:`note_text_is_kept`).

    Raises:
        InputError: the text is empty or whitespace only.
    """
    if not note_text_is_kept(text):
        raise InputError("a note needs some text; an empty note is not kept")
