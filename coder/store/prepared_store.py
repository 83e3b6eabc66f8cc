"""Reads and writes of the fields the lab prepares for raters (:mod:`coder.prepared_fields`).

Kept in the project settings (``prepared_fields``)::

    {"shown": {scale_id: [field, ...]}, "values": {session_key: {field: text}}}

Each change is one locked transaction with its own history row: ``show_fields`` on the
scale (old and new lists of field names), ``prepare_field`` on the session (the field's
name only: the text is confidential clinical data and is never copied into the
history). A rater's login in lab mode reads them only through
``public.sc_prepared_fields`` (:mod:`coder.store.lab_security`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session as DbSession

from coder.coding_data import PreparedField, prepared_values
from coder.errors import InputError
from coder.store.models import ProjectRow, SessionRow
from coder.store.rows import locked_settings, log_change

SETTING = "prepared_fields"
# ``project`` below is a coder.store.project.Project, typed Any: project.py imports this
# module (RaterView.coding), and the store's modules form no import cycle.


@dataclass(frozen=True)
class PreparedSettings:
    """The stored choice: shown fields per scale, entered values per session."""

    shown: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def entered_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for per_session in self.values.values():
            for name in per_session:
                out[name] = out.get(name, 0) + 1
        return dict(sorted(out.items()))


def _parse(settings: Mapping[str, Any]) -> PreparedSettings:
    entry = settings.get(SETTING) or {}
    shown = entry.get("shown") or {}
    values = entry.get("values") or {}
    return PreparedSettings(
        shown={str(k): tuple(str(f) for f in v) for k, v in shown.items()},
        values={str(k): {str(f): str(t) for f, t in v.items()} for k, v in values.items()},
    )


def read(project: Any) -> PreparedSettings:
    """The stored choice (nothing shown when the lead chose nothing)."""
    return _parse(project.settings())


def manifest_field_counts(project: Any) -> dict[str, int]:
    """Every manifest metadata column with the number of sessions that have a value."""
    counts: dict[str, int] = {}
    with project.store.read() as s:
        for raw in s.scalars(select(SessionRow.metadata_json)):
            for key, value in json.loads(raw or "{}").items():
                if value not in (None, ""):
                    counts[str(key)] = counts.get(str(key), 0) + 1
    return dict(sorted(counts.items()))


def _edit(s: DbSession, edit: Any) -> bool:
    row, settings = locked_settings(s)
    entry = settings.setdefault(SETTING, {})
    before = json.dumps(entry, sort_keys=True)
    edit(entry)
    for key in ("shown", "values"):
        if key in entry and not entry[key]:
            entry.pop(key)
    if json.dumps(entry, sort_keys=True) == before:
        return False
    if not entry:
        settings.pop(SETTING)
    row.settings_json = json.dumps(settings, sort_keys=True)
    return True


def set_shown(project: Any, scale_id: str, fields: tuple[str, ...], *, actor: str) -> bool:
    """Store the fields a scale's raters see; False when unchanged."""
    old: list[str] = []

    def edit(entry: dict[str, Any]) -> None:
        shown = entry.setdefault("shown", {})
        old.extend(shown.get(scale_id, []))
        if fields:
            shown[scale_id] = list(fields)
        else:
            shown.pop(scale_id, None)

    with project.store.transaction() as s:
        if not _edit(s, edit):
            return False
        log_change(
            s, actor, "show_fields", "scale", scale_id, field=SETTING, old=old, new=list(fields)
        )
        return True


def set_value(project: Any, session_key: str, name: str, value: str, *, actor: str) -> bool:
    """Store (or, with "", remove) the lab's value of a field for a session."""
    with project.store.transaction() as s:
        if s.scalar(select(SessionRow.id).where(SessionRow.session_key == session_key)) is None:
            raise InputError(f"the project has no session {session_key[:60]!r}")

        def edit(entry: dict[str, Any]) -> None:
            values = entry.setdefault("values", {})
            per_session = values.setdefault(session_key, {})
            if value:
                per_session[name] = value
            else:
                per_session.pop(name, None)
            if not per_session:
                values.pop(session_key)

        if not _edit(s, edit):
            return False
        # Which field of which session, never its text (confidential clinical data).
        log_change(
            s,
            actor,
            "prepare_field",
            "session",
            session_key,
            field=name,
            new="entered" if value else "removed",
        )
        return True


def for_coding(
    s: DbSession,
    *,
    coding_id: int,
    scale_id: str,
    session_key: str,
    metadata_json: str,
    as_rater: bool,
) -> tuple[PreparedField, ...]:
    """What the rater of a coding sees "prepared by the lab" (in the read ``s``).

    A lab-mode rater's login reads neither the settings nor the metadata: the server's
    ``public.sc_prepared_fields`` gives it the fields of its own coding (the same rule).
    """
    if as_rater:
        # A server not yet set up by this version (`session-coder lab setup`) has no
        # such function: nothing is shown rather than the coding failing to open.
        installed = s.execute(
            text("SELECT to_regprocedure('public.sc_prepared_fields(integer)') IS NOT NULL")
        ).scalar()
        if not installed:
            return ()
        raw = s.execute(
            text("SELECT public.sc_prepared_fields(:coding)"), {"coding": coding_id}
        ).scalar()
        pairs = json.loads(raw or "[]")
        return tuple(PreparedField(str(n), "" if v is None else str(v)) for n, v in pairs)
    project_row = s.get(ProjectRow, 1)
    settings = _parse(json.loads(project_row.settings_json) if project_row else {})
    shown = settings.shown.get(scale_id, ())
    if not shown:
        return ()
    return prepared_values(
        shown, json.loads(metadata_json or "{}"), settings.values.get(session_key, {})
    )


def entered_values(project: Any) -> Mapping[str, Mapping[str, str]]:
    """Every entered value (session key -> field -> text): for an export that asks."""
    return read(project).values
