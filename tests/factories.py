"""Shared test factories: projects and sessions built through the public API only.

Tests never insert ORM rows by hand; they add sessions with
:func:`coder.store.sessions.add_sessions` (the importer's checks and history rows) and
everything else with :class:`~coder.store.project.Project` methods, so a fixture's
project is one the app could have made.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
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
    "new_sqlite_project",
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


# One empty project per file name, made by Project.create at the first request of the run.
_EMPTY_PROJECTS: dict[str, Path] = {}


def new_sqlite_project(path: str | Path) -> Project:
    """A new, empty SQLite project at ``path``, as ``Project.create(path)`` makes it.

    Creating a project runs every migration (about 0.1 s); the property tests need a
    fresh project per example. The first call for a file name creates one through
    ``Project.create`` in a private folder; every call copies that file (the project's
    name and first history row come from the file name, so they are the same).

    Args:
        path: The new project file; it must not exist yet.

    Returns:
        The open project.
    """
    path = Path(path)
    assert not path.exists(), f"{path} already exists"
    template = _EMPTY_PROJECTS.get(path.name)
    if template is None:
        folder = Path(tempfile.mkdtemp(prefix="session-coder-tests-empty-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = folder / path.name
        Project.create(template).close()
        leftovers = sorted(p.name for p in folder.iterdir() if p != template)
        assert not leftovers, f"the closed empty project left files beside it: {leftovers}"
        _EMPTY_PROJECTS[path.name] = template
    shutil.copyfile(template, path)
    return Project.open(path)


# --------------------------------------------------------------------------- a study

#: A scale of every other item kind, with an optional item (left blank once) whose label
#: is longer than SPSS's 255 bytes.
_LONG_LABEL = ("Warmth of the therapist's voice " + "as heard throughout the session " * 8).strip()
STUDY_EXTRA_SCALE = f"""\
id: extra
name: Extra observations
version: 1
citation: none
instructions: Rate what you see.
rated: client
window: whole
applies_to: all
items:
  - {{id: turns, label: Turns of talk, kind: count}}
  - {{id: mood, label: Client mood, kind: nominal, categories: [calm, tense, angry]}}
  - id: warmth
    label: "{_LONG_LABEL}"
    kind: ordinal
    required: false
    min: 1
    max: 5
    anchors: {{1: cold, 5: warm}}
  - {{id: remarks, label: Remarks, kind: text, required: false}}
"""

STUDY_PATIENTS = 8
STUDY_NUMBERS = (1, 2, 3)


def study_session_key(patient: int, number: int) -> str:
    return f"P{patient}S{number}"


def make_study_project(path: str | Path) -> Project:
    """A small study as the source labs run it (the caller closes it).

    Eight patients (P1-P8; therapists T1 for P1-P4, T2 for P5-P8) with sessions 1-3
    (``P<p>S<n>``, dated, phase I for session 1 and II after). Scales: THABS and StHAR
    on every session, GHES on sessions 2 and 3 (its ``applies_to``), and the
    ``extra`` scale (count, nominal, an optional ordinal 1-5 with a 300-byte label, a
    text) on session 1 of P1-P4. THABS shares the item id ``rationale`` with StHAR.

    * Primary coder R1 (P1, P4, P7), R2 (P2, P5, P8) or R3 (P3, P6); ordinal scores
      2 or 3, so a 0 is an outlier: P8S1 scores 0 on THABS specification, P7S2 has a
      900-second THABS duration (others 30-65).
    * Double-coded: every session of P1-P3 on THABS with R4 as second coder; P1's
      sessions also have a third coder (R2, role second), who disagrees by one point.
    * Uncodable: THABS on P6S3 (primary R3, Audio failure), GHES on P5S2 (primary R2,
      no homework assigned).
    * Left blank: the optional ``warmth`` of ``extra`` on P2S1.
    """
    from coder.scales import parse_scale

    project = make_project(path, scales=("thabs", "ghes", "sthar"), raters=("R1", "R2", "R3", "R4"))
    try:
        project.add_scale(parse_scale(STUDY_EXTRA_SCALE))
        add_plain_sessions(
            project,
            [
                session(
                    study_session_key(p, n),
                    patient=f"P{p}",
                    therapist="T1" if p <= 4 else "T2",
                    session_number=n,
                    phase="I" if n == 1 else "II",
                    date=f"2024-0{n}-{p:02d}",
                )
                for p in range(1, STUDY_PATIENTS + 1)
                for n in STUDY_NUMBERS
            ],
        )
        thabs = ("specification", "rationale", "troubleshooting", "review", "praise")
        ghes = (
            "engagement",
            "as_agreed",
            "difficult_times",
            "intensity",
            "difficulties",
            "benefit",
            "time_spent",
        )
        sthar = (
            "rationale",
            "tailoring",
            "challenges",
            "specifying",
            "comprehension",
            "review_extent",
            "conclusions",
            "self_efficacy",
        )
        primary = {1: "R1", 4: "R1", 7: "R1", 2: "R2", 5: "R2", 8: "R2", 3: "R3", 6: "R3"}
        for p in range(1, STUDY_PATIENTS + 1):
            for n in STUDY_NUMBERS:
                key = study_session_key(p, n)
                coders = [(primary[p], "primary", 0)]
                if p <= 3:
                    coders.append(("R4", "second", 0))
                if p == 1:
                    coders.append(("R2", "second", 1))
                for rater, role, shift in coders:
                    coding = project.add_coding(key, rater, "thabs", role=role)
                    if (p, n) == (6, 3):
                        project.rater_view(rater).set_uncodable(coding, "Audio failure")
                        continue
                    values: dict[str, float | None] = {
                        item: min(4, (p + n + j) % 2 + 2 + shift) for j, item in enumerate(thabs)
                    }
                    if (p, n) == (8, 1):
                        values["specification"] = 0
                    values["duration"] = 900.0 if (p, n) == (7, 2) else 30.0 + 5 * p + n
                    score_coding(project, rater, coding, values, submit=True)
                    coding = project.add_coding(key, rater, "sthar", role=role)
                    score_coding(
                        project,
                        rater,
                        coding,
                        {item: (p + j) % 2 + 2 for j, item in enumerate(sthar)},
                        submit=True,
                    )
                if n >= 2:
                    coders = [(primary[p], "primary")] + ([("R4", "second")] if p == 2 else [])
                    for rater, role in coders:
                        coding = project.add_coding(key, rater, "ghes", role=role)
                        if (p, n) == (5, 2):
                            project.rater_view(rater).set_uncodable(
                                coding, "No homework was assigned in an earlier session"
                            )
                            continue
                        score_coding(
                            project,
                            rater,
                            coding,
                            {item: (p + n * j) % 3 + 1 for j, item in enumerate(ghes)},
                            texts={"completed_log": f"log {p}-{n}", "assigned_log": "none"},
                            submit=True,
                        )
                if n == 1 and p <= 4:
                    coding = project.add_coding(key, primary[p], "extra")
                    extra: dict[str, float | None] = {"turns": 10 * p, "mood": p % 3 + 1}
                    if p != 2:
                        extra["warmth"] = p + 1
                    score_coding(project, primary[p], coding, extra, submit=True)
    except BaseException:
        project.close()
        raise
    return project
