"""The rules a session's fields follow, wherever the session comes from.

A manifest row (:mod:`coder.importer`) and a session added directly
(:func:`coder.store.sessions.add_session`) are checked by the same functions here, so
a rule has one place: a session id is not empty, has no control character and fits its
column; a session number is plain digits up to :data:`MAX_SESSION_NUMBER`; a date is
``YYYY-MM-DD`` (or ``D.M.YYYY`` in a manifest). The length and NUL limits every text
field shares are :mod:`coder.text_limits`.

Nothing here touches the database.
"""

from __future__ import annotations

import re
from datetime import date

MAX_SESSION_NUMBER = 9999  # a course of therapy, however long, stays far below this
MAX_ID_LENGTH = 200  # the width of the sessions.session_key column
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def shown(raw: str, limit: int = 40) -> str:
    """A field's text for a message: quoted, and cut short when it is very long."""
    return repr(raw if len(raw) <= limit else raw[:limit] + "...")


def session_id_problem(session_id: str, *, control: bool = True) -> str | None:
    """Why a session id cannot be stored, or None when it can.

    Args:
        session_id: The id as given (already stripped of surrounding spaces).
        control: Also look for control characters (a manifest reader that checks
            every field for them passes False, so the reason is not given twice).

    Returns:
        A reason naming ``session_id`` (empty, too long, a control character), or None.
    """
    if not session_id:
        return "session_id is empty"
    if len(session_id) > MAX_ID_LENGTH:
        return f"session_id is longer than {MAX_ID_LENGTH} characters"
    if control and CONTROL.search(session_id):
        return "session_id holds a control character (such as NUL); remove it"
    return None


def parse_session_number(raw: str) -> int | None:
    """A manifest's session number: plain ASCII digits, or None when blank.

    Excel saves whole numbers as ``3.0`` in some exports, so a trailing ``.0`` (any
    number of zeros) is accepted; nothing else is (no sign, exponent, fraction, hex,
    non-ASCII digits, infinity or NaN), because each of those is more likely a slip
    than a session number.

    Raises:
        ValueError: with the reason, for anything else or a number above
            :data:`MAX_SESSION_NUMBER`.
    """
    text = raw.strip()
    if not text:
        return None
    match = re.fullmatch(r"([0-9]+)(?:\.0+)?", text, re.ASCII)
    if match is None:
        if re.fullmatch(r"-[0-9]+(?:\.0+)?", text, re.ASCII):
            raise ValueError(f"session_number {shown(raw)} is negative")
        if re.fullmatch(r"[+-]?[0-9]*\.[0-9]+", text, re.ASCII):
            raise ValueError(f"session_number {shown(raw)} is not a whole number")
        if re.fullmatch(r"[+-]?[0-9.]+[eE][+-]?[0-9]+|[+][0-9]+|0[xXoObB][0-9a-fA-F]+", text):
            raise ValueError(
                f"session_number {shown(raw)} is not written as plain digits (like 12)"
            )
        if any(ch.isdigit() for ch in text):
            raise ValueError(
                f"session_number {shown(raw)} is not written as plain digits 0-9 (like 12)"
            )
        raise ValueError(f"session_number {shown(raw)} is not a whole number")
    digits = match.group(1)
    if len(digits.lstrip("0")) > len(str(MAX_SESSION_NUMBER)) or int(digits) > MAX_SESSION_NUMBER:
        raise ValueError(f"session_number {shown(raw)} is too large (at most {MAX_SESSION_NUMBER})")
    return int(digits)


def parse_session_date(raw: str) -> str:
    """A manifest's date as ``YYYY-MM-DD`` ("" when blank).

    Accepted: ``YYYY-MM-DD`` (with an Excel midnight time ``00:00:00`` after it) and
    the day-first ``D.M.YYYY``. Slashed dates are refused: ``03/04/2024`` is March in
    one lab and April in the next.

    Raises:
        ValueError: with the reason.
    """
    text = raw.strip()
    if not text:
        return ""
    hint = "write dates as YYYY-MM-DD, e.g. 2024-03-31"
    iso = re.fullmatch(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[ T]00:00(?::00)?)?", text, re.A)
    dotted = re.fullmatch(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})", text, re.ASCII)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
    elif dotted:
        day, month, year = (int(g) for g in dotted.groups())
    elif "/" in text:
        raise ValueError(f"date {shown(raw)} is ambiguous (day or month first?); {hint}")
    else:
        raise ValueError(f"date {shown(raw)} is not a date; {hint}")
    try:
        value = date(year, month, day)
    except ValueError:
        raise ValueError(f"date {shown(raw)} does not exist; {hint}") from None
    if not 1900 <= value.year <= 2100:
        raise ValueError(f"date {shown(raw)} is not a plausible session date; {hint}")
    return value.isoformat()


def check_session_number(number: int | None) -> None:
    """Refuse a session number a manifest could not hold (negative, or too large).

    Raises:
        ValueError: with the reason.
    """
    if number is None:
        return
    if isinstance(number, bool) or not isinstance(number, int):
        raise ValueError(f"session_number {number!r} is not a whole number")
    parse_session_number(str(number))
