"""The text limits of :mod:`coder.text_limits`, applied to the store's rows.

Every text a row holds is checked on each flush (:func:`check_session_texts`, a
``before_flush`` hook the engine installs), with the limit :data:`coder.text_limits.FIELDS`
names or else the length of its ``String(n)`` column, so a project behaves the same on
SQLite (which would store anything) and PostgreSQL (which refuses NUL and long text).
:func:`check_fields` applies the same rules to values before a row exists, for callers
that refuse a bad row early with their own context.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import String, inspect
from sqlalchemy.orm import Session

from coder.text_limits import FIELDS, check_metadata, check_text


def _column_limit(column: Any) -> int | None:
    kind = column.type
    if isinstance(kind, String) and kind.length:
        return int(kind.length)
    return None


def _check_value(table: str, column: Any, value: str) -> None:
    field, limit = FIELDS.get((table, column.name), (f"{table}.{column.name}", None))
    if limit is None:
        limit = _column_limit(column)
    check_text(field, value, limit)
    if (table, column.name) == ("sessions", "metadata_json"):
        check_metadata(value)


def check_fields(model: type[Any], values: Mapping[str, Any]) -> None:
    """Check values meant for a table's columns before any is written.

    For callers that want to refuse a bad row early with their own context (the
    importer names the manifest line); the flush check applies the same rules.

    Args:
        model: An ORM class (``coder.store.models.SessionRow``).
        values: Attribute name -> value; non-text values are ignored.

    Raises:
        TextLimitError: the first value that breaks a limit.
    """
    mapper = inspect(model)
    table = str(mapper.local_table.name)
    for key, value in values.items():
        if isinstance(value, str) and key in mapper.column_attrs:
            _check_value(table, mapper.column_attrs[key].columns[0], value)


def _check_row(obj: Any, *, new: bool) -> None:
    state = inspect(obj)
    table = str(getattr(state.mapper.local_table, "name", ""))
    for attr in state.mapper.column_attrs:
        if not new and not state.attrs[attr.key].history.has_changes():
            continue  # unchanged values were checked when written
        value = getattr(obj, attr.key)
        if isinstance(value, str):
            _check_value(table, attr.columns[0], value)


def check_session_texts(session: Session, _context: Any = None, _instances: Any = None) -> None:
    """``before_flush`` hook: check every new or changed text before it is written.

    Raises:
        TextLimitError: a text breaks a limit; the flush (and so the transaction)
            stops before anything is written.
    """
    for obj in session.new:
        _check_row(obj, new=True)
    for obj in session.dirty:
        _check_row(obj, new=False)
