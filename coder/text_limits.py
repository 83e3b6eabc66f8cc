"""Limits on text a project stores, the same on SQLite and PostgreSQL.

PostgreSQL refuses a NUL character in text and a string longer than its column;
SQLite takes both silently. So that a project behaves the same on both (and a rater's
note never fails only in lab mode), every text value is checked here before it
reaches the database, with one message that names the field and the limit.

The check runs on every flush of the store's sessions
(:func:`coder.store.text_checks.check_session_texts`, which applies these limits and
the length of each ``String(n)`` column), so no writer (project, importer, package
merge, certification) can skip it. This module holds only the limits and the checks of
a single text; it does not touch the database.

Limits (characters):

=================================  ======
field                              limit
=================================  ======
rater code                         64
note, text answer, uncodable text  20 000
consensus reason                   20 000
manifest metadata value            2 000
any other short field (ids, names) its column's length (e.g. session id 200)
=================================  ======
"""

from __future__ import annotations

import json

from coder.errors import TextLimitError

CODE_LIMIT = 64
LONG_TEXT_LIMIT = 20_000
METADATA_VALUE_LIMIT = 2_000

# (table, column) -> (what a person calls it, limit or None for the column's length).
# Columns not listed are still checked for NUL; String(n) columns also for length n.
FIELDS: dict[tuple[str, str], tuple[str, int | None]] = {
    ("raters", "code"): ("rater code", CODE_LIMIT),
    ("raters", "name"): ("rater name", None),
    ("notes", "text"): ("note", LONG_TEXT_LIMIT),
    ("ratings", "text"): ("text answer", LONG_TEXT_LIMIT),
    ("ratings", "item_id"): ("item id", None),
    ("codings", "uncodable_text"): ("uncodable explanation", LONG_TEXT_LIMIT),
    ("codings", "uncodable_reason"): ("uncodable reason", None),
    ("consensus_scores", "reason"): ("consensus reason", LONG_TEXT_LIMIT),
    ("sessions", "session_key"): ("session id", None),
    ("sessions", "patient"): ("patient id", None),
    ("sessions", "therapist"): ("therapist id", None),
    ("sessions", "phase"): ("phase", None),
    ("sessions", "date"): ("date", None),
    ("project", "name"): ("project name", None),
    ("rater_pools", "name"): ("rater pool name", None),
}

# A short value is quoted in the message so the person can find it; long texts (notes,
# answers) are not, as they may hold clinical content.
_QUOTE_UP_TO = 200


def check_text(field: str, value: str, limit: int | None) -> None:
    """Refuse a text with a NUL character, or longer than ``limit`` characters.

    Args:
        field: What a person calls the field ("rater code", "note").
        value: The text.
        limit: The most characters allowed, or None for no length limit.

    Raises:
        TextLimitError: naming the field, and the limit when it is exceeded.
    """
    shown = f" {value[:40]!r}" if limit is not None and limit <= _QUOTE_UP_TO else ""
    if "\x00" in value:
        raise TextLimitError(
            f"the {field}{shown} contains a NUL character (\\x00), which a project cannot "
            "store; remove it and try again"
        )
    if limit is not None and len(value) > limit:
        shown = f" {value[:20]!r}…" if shown else ""
        raise TextLimitError(
            f"the {field}{shown} is {len(value):,} characters long; the limit is {limit:,} "
            "characters: shorten it and try again"
        )


def check_metadata(metadata_json: str) -> None:
    """Check each value of a session's metadata (the manifest's extra columns)."""
    try:
        data = json.loads(metadata_json)
    except ValueError:
        return
    if not isinstance(data, dict):
        return
    for column, value in data.items():
        check_text(f"manifest column name {str(column)[:40]!r}", str(column), None)
        if isinstance(value, str):
            check_text(
                f"value in the manifest column {str(column)[:40]!r}", value, METADATA_VALUE_LIMIT
            )
