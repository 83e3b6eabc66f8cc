"""The lead's analysis choices per scale, kept in the project settings (``scale_analysis``).

``{scale_id: {"composites": "newest" | "coded", "dropped": {item_id: {"reason", "by",
"at"}}}}``. Every change is one locked transaction with its own history row
(:func:`coder.store.rows.log_change`: ``drop_item``, ``restore_item`` or
``composite_definition`` on the scale). The rules that use the choices live in
:mod:`coder.scale_analysis`.
"""

from __future__ import annotations

import json
from typing import Any

from coder.store.models import utcnow
from coder.store.project import LEAD, Project
from coder.store.rows import locked_settings, log_change

SETTING = "scale_analysis"


def read_choices(project: Project) -> dict[str, dict[str, Any]]:
    """Every scale's stored choices (``{}`` for a scale the lead left at the defaults)."""
    stored = project.settings().get(SETTING) or {}
    return {str(k): dict(v) for k, v in stored.items() if isinstance(v, dict)}


def _change(
    project: Project,
    scale_id: str,
    *,
    action: str,
    field: str,
    new: Any,
    actor: str,
    edit: Any,
) -> bool:
    """Apply ``edit(entry)`` to one scale's entry; log it when something changed."""
    with project.store.transaction() as s:
        row, settings = locked_settings(s)
        choices = settings.setdefault(SETTING, {})
        entry = choices.setdefault(scale_id, {})
        before = json.dumps(entry, sort_keys=True)
        old = edit(entry)
        if json.dumps(entry, sort_keys=True) == before:
            return False
        if not entry:
            choices.pop(scale_id)
        row.settings_json = json.dumps(settings, sort_keys=True)
        log_change(s, actor, action, "scale", scale_id, field=field, old=old, new=new)
        return True


def drop_item(
    project: Project, scale_id: str, item_id: str, reason: str, *, actor: str = LEAD
) -> bool:
    """Record that an item is left out of the analysis; False if it already was."""

    def edit(entry: dict[str, Any]) -> Any:
        dropped = entry.setdefault("dropped", {})
        if item_id in dropped:
            return dropped[item_id]
        dropped[item_id] = {"reason": reason, "by": actor, "at": utcnow().isoformat()}
        return None

    return _change(
        project, scale_id, action="drop_item", field=item_id, new=reason, actor=actor, edit=edit
    )


def restore_item(project: Project, scale_id: str, item_id: str, *, actor: str = LEAD) -> bool:
    """Bring a dropped item back into the analysis; False if it was not dropped."""

    def edit(entry: dict[str, Any]) -> Any:
        dropped = entry.get("dropped", {})
        old = dropped.pop(item_id, None)
        if not dropped:
            entry.pop("dropped", None)
        return old

    return _change(
        project, scale_id, action="restore_item", field=item_id, new=None, actor=actor, edit=edit
    )


def set_composite_definition(
    project: Project, scale_id: str, which: str, *, actor: str = LEAD
) -> bool:
    """Store which version's composite definition the analysis uses; False if unchanged."""

    def edit(entry: dict[str, Any]) -> Any:
        old = entry.get("composites", "newest")
        if which == "newest":
            entry.pop("composites", None)
        else:
            entry["composites"] = which
        return old

    return _change(
        project,
        scale_id,
        action="composite_definition",
        field="composites",
        new=which,
        actor=actor,
        edit=edit,
    )
