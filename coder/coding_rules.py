"""Rules of a rater's coding that the store, the in-memory session and the screen share.

Each rule is one pure function, written once: the store (``coder/store/project.py``) refuses
what breaks it, :class:`coder.coding_session.CodingSession` applies it before writing,
and widgets call it to decide what to enable, never re-deriving it.
"""

from __future__ import annotations

from collections.abc import Sequence

from coder.errors import InputError

OTHER_REASON = "Other"


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
