"""Shared test factories: projects and sessions built through the public API only.

Tests never insert ORM rows by hand; they add sessions with
:func:`coder.store.sessions.add_sessions` (the importer's checks and history rows) and
everything else with :class:`~coder.store.project.Project` methods, so a fixture's
project is one the app could have made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from coder.scales import load_builtin_scale
from coder.store.project import Project, SessionId
from coder.store.sessions import NewSession, Recording, add_sessions

__all__ = [
    "NewSession",
    "Recording",
    "add_plain_sessions",
    "make_project",
    "score_coding",
    "session",
]


def session(key: str, **fields: Any) -> NewSession:
    """A session to add, its audio status ``ok`` unless a status or reason is given.

    Most tests need no audio file, only a session whose audio counts as fine.

    Args:
        key: The session id.
        **fields: Any field of :class:`~coder.store.sessions.NewSession`.
    """
    if "audio_reason" not in fields:
        fields.setdefault("audio_status", "ok")
    return NewSession(key=key, **fields)


def add_plain_sessions(
    project: Project, sessions: Iterable[NewSession | str], **common: Any
) -> list[SessionId]:
    """Add sessions (by key, or as :func:`session` values) in one transaction.

    Args:
        project: The open project.
        sessions: Keys (``common`` fields apply) or ready sessions.
        **common: Fields for sessions given by key.
    """
    items = [s if isinstance(s, NewSession) else session(s, **common) for s in sessions]
    return add_sessions(project, items)


def make_project(
    path: str | Path,
    *,
    scales: Sequence[str] = (),
    raters: Sequence[str] = (),
    sessions: Iterable[NewSession | str] = (),
    db_url: str | None = None,
    name: str = "",
    session_fields: Mapping[str, Any] | None = None,
) -> Project:
    """Create a project with built-in scales, raters and sessions (the caller closes it).

    Args:
        path: The new project file (or pointer file with ``db_url``).
        scales: Ids of built-in scales to add.
        raters: Rater codes to add.
        sessions: Sessions to add (keys, or :func:`session` values).
        db_url: A PostgreSQL URL for lab mode; None for SQLite.
        name: The project's name (default: the file's stem).
        session_fields: Fields for sessions given by key.
    """
    project = Project.create(path, db_url=db_url, name=name)
    try:
        for scale_id in scales:
            project.add_scale(load_builtin_scale(scale_id))
        if raters:
            project.add_raters(raters)
        items = list(sessions)
        if items:
            add_plain_sessions(project, items, **dict(session_fields or {}))
    except BaseException:
        project.close()
        raise
    return project


def score_coding(
    project: Project,
    rater: str,
    coding: int,
    values: Mapping[str, float | None],
    *,
    texts: Mapping[str, str] | None = None,
    submit: bool = False,
) -> None:
    """Score a coding as its rater would, through the rater's view.

    Args:
        project: The open project.
        rater: The rater code the coding belongs to.
        coding: The coding's id.
        values: Item id -> value (a duration item takes seconds).
        texts: Item id -> text, for text items.
        submit: Submit the coding afterwards (every required item must then be set).
    """
    view = project.rater_view(rater)
    for item, value in values.items():
        view.set_value(coding, item, value)
    for item, text in (texts or {}).items():
        view.set_text(coding, item, text)
    if submit:
        view.submit(coding)
