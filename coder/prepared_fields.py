"""Information the lab prepared, shown to raters read-only ("Prepared by the lab").

In Haller & Watzke, research assistants filled in the second homework log before the
rating, and the raters saw it. A lead chooses, per scale, which session fields its
raters see beside the scoring: a column of the manifest (kept in the session's
metadata) or a value the lead entered for the session (``session-coder fields set``).
Everything else about a session stays hidden from raters, as before.

Rules, each once:

* :func:`coder.coding_data.prepared_values`: what a rater sees for one session and scale: the chosen
  fields in the lead's order, each the lead's entered value when there is one, else
  the manifest's. (In lab mode the server applies the same rule in
  ``public.sc_prepared_fields``, :mod:`coder.store.lab_security`: a rater's login
  cannot read the settings or the metadata itself.)
* :func:`check_field_name` and :func:`check_field_value`: what a field may be called
  and hold.

The choice and every entered value are recorded in the history (which field, which
session, by whom; never the text: it is confidential clinical data). The texts are
never written to a log, and reach an export only with ``--include-metadata`` (as the
manifest's other columns do). An offline rater package carries the shown fields of its
sessions and scales (:func:`coder.store.packages_store.prepared_for`), nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from coder.errors import InputError
from coder.session_window import WINDOW_OFFSET_FIELD
from coder.store import prepared_store as store
from coder.store.project import LEAD, Project
from coder.text_limits import METADATA_VALUE_LIMIT, check_text

#: The most fields a scale shows (a box beside the scoring, not a second manifest).
MAX_SHOWN = 20
FIELD_NAME_LIMIT = 64


def check_field_name(name: str) -> str:
    """A field name as stored (stripped).

    Raises:
        InputError: empty, too long, a control character, or the window offset.
    """
    name = name.strip()
    if not name:
        raise InputError("a field name is empty; give the manifest column's name")
    check_text("field name", name, FIELD_NAME_LIMIT)
    if any(ord(ch) < 32 for ch in name):
        raise InputError(f"the field name {name[:40]!r} holds a control character")
    if name == WINDOW_OFFSET_FIELD:
        raise InputError(
            f"{WINDOW_OFFSET_FIELD} moves the coding window; it is not a field to show"
        )
    return name


def check_field_value(text: str) -> str:
    """A value a lead enters (as for a manifest cell: up to 2,000 characters)."""
    check_text("prepared field value", text, METADATA_VALUE_LIMIT)
    return text


@dataclass(frozen=True)
class FieldsOverview:
    """What ``fields list`` shows (names and counts, never a value)."""

    shown: Mapping[str, tuple[str, ...]]
    manifest: Mapping[str, int]  # manifest column -> sessions with a value
    entered: Mapping[str, int]  # lead-entered field -> sessions with a value

    def as_dict(self) -> dict[str, object]:
        return {
            "shown": {k: list(v) for k, v in self.shown.items()},
            "manifest_fields": dict(self.manifest),
            "entered_fields": dict(self.entered),
        }


def overview(project: Project) -> FieldsOverview:
    """The shown fields per scale and the fields there are to show."""
    settings = store.read(project)
    return FieldsOverview(
        shown={k: tuple(v) for k, v in settings.shown.items()},
        manifest={
            k: n
            for k, n in store.manifest_field_counts(project).items()
            if k != WINDOW_OFFSET_FIELD
        },
        entered=settings.entered_counts(),
    )


def show_fields(
    project: Project, scale_id: str, fields: Sequence[str], *, actor: str = LEAD
) -> bool:
    """Choose the fields raters of a scale see (replacing the earlier choice).

    Args:
        project: The open project.
        scale_id: The scale.
        fields: Manifest columns or lead-entered fields, in the order to show; empty
            shows none.
        actor: Who chose (the history's).

    Returns:
        False when the choice was already this one.

    Raises:
        InputError: an unknown scale or field, a field named twice, too many.
    """
    project.scale(scale_id)  # a clear error for an unknown scale
    names = [check_field_name(f) for f in fields]
    if len(set(names)) != len(names):
        raise InputError("a field is named twice")
    if len(names) > MAX_SHOWN:
        raise InputError(f"show at most {MAX_SHOWN} fields to raters")
    known = overview(project)
    available = set(known.manifest) | set(known.entered)
    unknown = [n for n in names if n not in available]
    if unknown:
        listed = ", ".join(sorted(available)) or "none yet"
        raise InputError(
            f"no session has the field {unknown[0]!r} (a manifest column, or a value "
            f"entered with 'fields set'); the fields are: {listed}"
        )
    return store.set_shown(project, scale_id, tuple(names), actor=actor)


def set_value(
    project: Project, session_key: str, field: str, text: str, *, actor: str = LEAD
) -> bool:
    """Enter (or, with "", remove) the lab's value of a field for one session.

    Returns:
        False when nothing changed.

    Raises:
        InputError: an unknown session, a bad field name or value.
    """
    name = check_field_name(field)
    check_field_value(text)
    return store.set_value(project, session_key, name, text, actor=actor)


@dataclass(frozen=True)
class FieldsState:
    """What the lead's tab shows: the scales, the fields, the sessions (no value)."""

    scale_ids: tuple[str, ...]
    overview: FieldsOverview
    sessions: tuple[str, ...]


def fields_state(project: Project) -> FieldsState:
    """Read the lead's tab's state (blocking: the GUI runs it in a worker)."""
    return FieldsState(
        scale_ids=tuple(s.id for s in project.scales()),
        overview=overview(project),
        sessions=tuple(s.key for s in project.sessions()),
    )
