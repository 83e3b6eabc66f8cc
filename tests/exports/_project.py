"""A small, fully known project for the export tests (real SQLite, real scoring calls).

THABS (five ordinal items 0-4, a duration item from spans, composite behaviour_mean)
and GHES (seven ordinal items, two text logs, composite global), raters R1-R3:

=======  ============================================  ==================================
session  THABS codings                                 GHES codings
=======  ============================================  ==================================
S01      R1 primary, R2 second: submitted              -
S02      R2 primary, R3 second: submitted              R1 primary, R2 second: submitted
S03      R1 primary, R3 second: submitted              R3 primary: submitted
S04      R1 primary submitted; R3 training submitted   -
S05      R2 primary: uncodable (Audio failure)         -
S06      R3 primary: in progress (left out)            -
=======  ============================================  ==================================

Every session has an audio path under ``AUDIO_DIR`` and free-text metadata, which a
pseudonymous export must not contain.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from coder.scales import load_builtin_scale
from coder.store.project import Project
from coder.store.sessions import NewSession, Recording, add_sessions
from tests.factories import score_coding

AUDIO_DIR = "/lab/confidential-recordings"
SECRET_METADATA = "referred by Dr Confidential"
THABS_ITEMS = ("specification", "rationale", "troubleshooting", "review", "praise")
GHES_ITEMS = (
    "engagement",
    "as_agreed",
    "difficult_times",
    "intensity",
    "difficulties",
    "benefit",
    "time_spent",
)

# (session, rater, role) -> THABS item scores, and the span (start_ms, end_ms).
THABS_SCORES: dict[tuple[str, str, str], tuple[tuple[int, ...], tuple[int, int]]] = {
    ("S01", "R1", "primary"): ((3, 2, 4, 1, 0), (10_000, 40_000)),
    ("S01", "R2", "second"): ((3, 3, 4, 2, 0), (12_000, 44_000)),
    ("S02", "R2", "primary"): ((1, 1, 2, 0, 1), (0, 34_000)),
    ("S02", "R3", "second"): ((2, 1, 2, 1, 1), (1_000, 37_000)),
    ("S03", "R1", "primary"): ((4, 4, 3, 3, 2), (5_000, 37_000)),
    ("S03", "R3", "second"): ((4, 3, 3, 3, 2), (5_000, 36_000)),
    ("S04", "R1", "primary"): ((0, 1, 0, 4, 4), (0, 600_000)),
    ("S04", "R3", "training"): ((2, 2, 2, 2, 2), (0, 10_000)),
}
GHES_SCORES: dict[tuple[str, str, str], tuple[tuple[int, ...], str, str]] = {
    ("S02", "R1", "primary"): ((3, 3, 2, 2, 1, 3, 2), "thought record x3", "activity plan"),
    ("S02", "R2", "second"): ((3, 2, 2, 2, 1, 3, 3), "thought records", "activity plan"),
    ("S03", "R3", "primary"): ((4, 4, 4, 3, 3, 4, 4), "all of it", "none"),
}
NOTES = {
    ("S01", "R1"): [
        (61_500, "client shifts topic"),
        (3_725_000, "homework <set> & agreed"),
        (90_000, "=2+2 is what the client said"),
    ]
}


# The SQLite project is built once per test process (about a second of scoring calls)
# and copied for every test that asks for it: tests may change their copy.
_TEMPLATE: list[Path] = []


def build_coded_project(path: Path, *, db_url: str | None = None) -> Project:
    """Create and score the project described in the module docstring.

    On SQLite the result is a copy of one project built through the same calls at the
    first request of the test run; on PostgreSQL it is built afresh.

    Args:
        path: The project file to create.
        db_url: A PostgreSQL URL, or None for SQLite.

    Returns:
        The open project at ``path``.
    """
    if db_url is not None:
        return _build(path, db_url=db_url)
    if not _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="session-coder-tests-coded-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _build(folder / "study.scproj", db_url=None).close()
        leftovers = sorted(p.name for p in folder.iterdir() if p.name != "study.scproj")
        assert not leftovers, f"the closed template project left files beside it: {leftovers}"
        _TEMPLATE.append(folder / "study.scproj")
    shutil.copyfile(_TEMPLATE[0], path)
    return Project.open(path)


def _build(path: Path, *, db_url: str | None) -> Project:
    project = Project.create(path, db_url=db_url, name="export test")
    project.add_scale(load_builtin_scale("thabs"))
    project.add_scale(load_builtin_scale("ghes"))
    project.add_raters(["R1", "R2", "R3"])
    add_sessions(
        project,
        [
            NewSession(
                key=f"S0{i}",
                patient=f"P{(i + 1) // 2}",
                therapist="T1" if i <= 3 else "T2",
                session_number=2 if i % 2 else 3,
                phase="I",
                date="2024-03-0" + str(i),
                metadata={"referral": SECRET_METADATA, "site": "A"},
                recording=Recording(f"{AUDIO_DIR}/S0{i}.wav", duration_ms=3_600_000),
            )
            for i in range(1, 7)
        ],
    )
    for (session, rater, role), (values, (start, end)) in THABS_SCORES.items():
        coding = project.add_coding(session, rater, "thabs", role=role)
        view = project.rater_view(rater)
        for item, value in zip(THABS_ITEMS, values, strict=True):
            view.set_value(coding, item, value)
        view.add_span(coding, "duration", start, end)
        for position, text in NOTES.get((session, rater), []):
            view.add_note(coding, position, text)
        view.submit(coding)
    coding = project.add_coding("S05", "R2", "thabs", role="primary")
    view = project.rater_view("R2")
    view.set_value(coding, "specification", 2)  # scored before noticing the audio failure
    view.add_note(coding, 5_000, "only noise from here")
    view.set_uncodable(coding, "Audio failure", "recording is silent after 0:05")
    coding = project.add_coding("S06", "R3", "thabs", role="primary")
    project.rater_view("R3").set_value(coding, "specification", 1)
    for (session, rater, role), (values, done, assigned) in GHES_SCORES.items():
        coding = project.add_coding(session, rater, "ghes", role=role)
        score_coding(
            project,
            rater,
            coding,
            dict(zip(GHES_ITEMS, values, strict=True)),
            texts={"completed_log": done, "assigned_log": assigned},
            submit=True,
        )
    return project
