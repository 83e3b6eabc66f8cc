"""Adding sessions through the store's public door (coder.store.sessions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from coder.errors import InputError
from coder.session_fields import MAX_ID_LENGTH
from coder.store.project import Project
from coder.store.sessions import NewSession, Recording, add_session, add_sessions
from tests.factories import make_project, session


@pytest.fixture
def project(new_project_args: dict[str, object]) -> Project:
    return Project.create(new_project_args["path"], db_url=new_project_args["db_url"])  # type: ignore[arg-type]


def test_a_session_is_stored_with_its_fields_recording_and_history(project: Project) -> None:
    with project:
        sid = add_session(
            project,
            "S1",
            patient="P1",
            therapist="T1",
            session_number=3,
            phase="I",
            date="2024-03-31",
            metadata={"site": "A"},
            recording=Recording("/audio/s1.wav", duration_ms=60_000, sha256="ab" * 32),
            actor="tester",
        )
        (info,) = project.sessions()
        history = project.history()
    assert info.id == sid
    assert (info.key, info.patient, info.therapist, info.session_number) == ("S1", "P1", "T1", 3)
    assert (info.phase, info.date, dict(info.metadata)) == ("I", "2024-03-31", {"site": "A"})
    assert (info.audio_path, info.duration_ms, info.sha256) == ("/audio/s1.wav", 60_000, "ab" * 32)
    assert (info.audio_status, info.audio_reason, info.training) == ("ok", "", False)
    last = history[-1]
    assert (last.actor, last.action, last.entity, last.entity_id) == (
        "tester",
        "add",
        "session",
        "S1",
    )


def test_without_a_recording_the_audio_is_missing_with_the_importers_reason(
    project: Project,
) -> None:
    with project:
        add_session(project, "S1")
        (info,) = project.sessions()
    assert (info.audio_status, info.audio_reason, info.audio_path) == (
        "missing",
        "no audio file given",
        None,
    )


@pytest.mark.parametrize(
    "fields,reason",
    [
        ({"key": ""}, "session_id is empty"),
        ({"key": "S" * (MAX_ID_LENGTH + 1)}, f"longer than {MAX_ID_LENGTH} characters"),
        ({"key": "S\x001"}, "session_id holds a control character"),
        ({"key": "S1", "session_number": -1}, "session_number '-1' is negative"),
        ({"key": "S1", "session_number": 10_000}, "too large"),
        ({"key": "S1", "date": "03/04/2024"}, "ambiguous"),
        ({"key": "S1", "date": "31.3.2024"}, "not written as YYYY-MM-DD"),
        ({"key": "S1", "patient": "P" * 201}, "patient id"),
        ({"key": "S1", "metadata": {"note": "x" * 2001}}, "manifest column 'note'"),
        ({"key": "S1", "audio_status": "fine"}, "audio status 'fine'"),
    ],
)
def test_a_session_the_importer_would_refuse_is_refused_and_nothing_is_added(
    project: Project, fields: dict[str, object], reason: str
) -> None:
    with project:
        add_session(project, "S0")
        with pytest.raises(InputError, match=reason):
            add_sessions(project, [NewSession(key="S2"), NewSession(**fields)])  # type: ignore[arg-type]
        assert [s.key for s in project.sessions()] == ["S0"]


def test_an_id_already_in_the_project_or_given_twice_is_refused(project: Project) -> None:
    with project:
        add_session(project, "S1")
        with pytest.raises(InputError, match="'S1' is already in this project"):
            add_sessions(project, [NewSession("S2"), NewSession("S1")])
        with pytest.raises(InputError, match="given twice"):
            add_sessions(project, [NewSession("S3"), NewSession("S3")])
        assert [s.key for s in project.sessions()] == ["S1"]


def test_sessions_sharing_a_recording_share_its_row_unless_the_content_differs(
    project: Project,
) -> None:
    with project:
        rec = Recording("/audio/x.wav", sha256="cd" * 32)
        add_sessions(project, [NewSession("S1", recording=rec), NewSession("S2", recording=rec)])
        with pytest.raises(InputError, match="already in the project with other content"):
            add_session(project, "S3", recording=Recording("/audio/x.wav", sha256="ef" * 32))
        dupes = project.duplicate_recordings()
    assert [d.session_ids for d in dupes] == [("S1", "S2")]


def test_the_factory_builds_a_project_through_the_public_api(tmp_path: Path) -> None:
    with make_project(
        tmp_path / "f.scproj",
        scales=("thabs",),
        raters=("A",),
        sessions=["S1", session("S2", training=True, audio_status="missing", audio_reason="gone")],
        session_fields={"patient": "P9"},
    ) as project:
        infos = {s.key: s for s in project.sessions()}
        assert [r.code for r in project.raters()] == ["A"]
        assert [s.id for s in project.scales()] == ["thabs"]
    assert sorted(infos) == ["S1", "S2"]
    assert (infos["S1"].patient, infos["S1"].audio_status, infos["S1"].training) == (
        "P9",
        "ok",
        False,
    )
    assert (infos["S2"].audio_reason, infos["S2"].training) == ("gone", True)


def test_the_id_limit_is_the_width_of_the_session_id_column() -> None:
    from coder.store.models import SessionRow

    assert SessionRow.__table__.c.session_key.type.length == MAX_ID_LENGTH  # type: ignore[attr-defined]
