"""The project store on SQLite and PostgreSQL: schema, migrations, transactions, history."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

from coder.errors import InputError, ProjectError
from coder.scales import load_builtin_scale, parse_scale
from coder.store.engine import head_revision
from coder.store.models import Base, HistoryRow, RatingRow
from coder.store.project import Project
from coder.store.sessions import add_session

DATA = Path(__file__).parent.parent / "data"


@pytest.fixture
def project(new_project_args: dict[str, object]) -> Project:
    project = Project.create(new_project_args["path"], db_url=new_project_args["db_url"])  # type: ignore[arg-type]
    yield project
    project.close()


def _coded_project(project: Project) -> int:
    project.add_scale(load_builtin_scale("thabs"))
    project.add_raters(["R1", "R2"])
    add_session(
        project,
        "S1",
        patient="P1",
        therapist="T1",
        session_number=2,
        phase="I",
        audio_status="missing",
        audio_reason="test",
    )
    return project.add_coding("S1", "R1", "thabs")


def test_new_project_has_newest_schema_and_matches_models(project: Project) -> None:
    assert project.store.schema_revision() == head_revision()
    with project.store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # Migrations and ORM models describe the same tables and columns.
    assert [
        d for d in diff if d[0] in ("add_table", "remove_table", "add_column", "remove_column")
    ] == []


def test_reopening_finds_everything(project: Project, new_project_args: dict[str, object]) -> None:
    coding = _coded_project(project)
    view = project.rater_view("R1")
    view.set_value(coding, "specification", 3)
    note = view.add_note(coding, 61_500, "client shifts topic")
    view.add_span(coding, "duration", 10_000, 40_000)
    project.close()
    reopened = Project.open(new_project_args["path"])  # type: ignore[arg-type]
    try:
        state = reopened.rater_view("R1").coding(coding)
        assert state.values["specification"] == 3
        assert [(n.id, n.position_ms, n.text) for n in state.notes] == [
            (note, 61_500, "client shifts topic")
        ]
        assert [(sp.start_ms, sp.end_ms) for sp in state.spans] == [(10_000, 40_000)]
        assert state.values["duration"] == 30.0  # the span sum
        assert state.state == "in_progress"
    finally:
        reopened.close()


def test_every_change_is_in_the_history(project: Project) -> None:
    coding = _coded_project(project)
    view = project.rater_view("R1")
    view.set_value(coding, "specification", 2)
    view.set_value(coding, "specification", 4)
    view.set_value(coding, "specification", 4)  # no change, no history row
    changes = [
        (h.actor, h.field, h.old, h.new)
        for h in project.history(coding_id=coding)
        if h.entity == "rating"
    ]
    assert changes == [("R1", "specification", None, 2), ("R1", "specification", 2, 4)]
    states = [(h.old, h.new) for h in project.history(coding_id=coding) if h.field == "state"]
    assert states == [("not_started", "in_progress")]


def test_a_failed_write_changes_nothing(project: Project) -> None:
    coding = _coded_project(project)
    view = project.rater_view("R1")
    with pytest.raises(InputError, match="outside 0..4"):
        view.set_value(coding, "specification", 7)
    with project.store.read() as s:
        assert s.scalars(select(RatingRow)).all() == []
        # Not even the not_started -> in_progress transition was kept.
        assert [
            h.field for h in s.scalars(select(HistoryRow).where(HistoryRow.coding_id == coding))
        ] == [""]


def test_a_rater_cannot_reach_another_raters_coding(project: Project) -> None:
    coding = _coded_project(project)
    project.rater_view("R1").set_value(coding, "specification", 1)
    other = project.rater_view("R2")
    assert other.queue() == []
    with pytest.raises(InputError, match="not in R2's queue"):
        other.coding(coding)
    with pytest.raises(InputError, match="not in R2's queue"):
        other.set_value(coding, "specification", 4)


def test_submit_names_the_unscored_items_then_locks(project: Project) -> None:
    coding = _coded_project(project)
    view = project.rater_view("R1")
    view.set_value(coding, "specification", 3)
    with pytest.raises(InputError) as err:
        view.submit(coding)
    assert "Provision of rationale" in str(err.value) or "rationale" in str(err.value).lower()
    scale = project.scale("thabs")
    for item in scale.items:
        if item.kind == "ordinal":
            view.set_value(coding, item.id, 2)
        elif item.kind == "duration":
            view.set_value(coding, item.id, 45)
    view.submit(coding)
    assert view.coding(coding).state == "submitted"
    with pytest.raises(InputError, match="ask the lead"):
        view.set_value(coding, "specification", 4)
    project.allow_reopen(coding)
    view.set_value(coding, "specification", 4)
    assert view.coding(coding).values["specification"] == 4


def test_same_scale_version_with_new_content_is_refused(project: Project) -> None:
    scale = load_builtin_scale("hw_adherence")
    assert project.add_scale(scale) is True
    assert project.add_scale(scale) is False
    changed = parse_scale(scale.source.replace("no effort", "no effort at all"))
    with pytest.raises(InputError, match="raise 'version'"):
        project.add_scale(changed)


def test_a_newer_schema_is_refused(project: Project, new_project_args: dict[str, object]) -> None:
    with project.store.transaction() as s:
        s.execute(text("UPDATE alembic_version SET version_num = 'r9999'"))
    project.close()
    with pytest.raises(ProjectError, match="newer version of Session Coder"):
        Project.open(new_project_args["path"])  # type: ignore[arg-type]


def test_an_old_project_file_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    old = tmp_path / "old.scproj"
    shutil.copy(DATA / "project_rev0001.scproj", old)
    with Project.open(old) as project:
        assert project.store.schema_revision() == head_revision()
        assert project.name == "old study"
        assert [r.code for r in project.raters()] == ["R1", "R2"]
        state = project.rater_view("R1").coding(1)
        assert state.values == {"adherence": 4.0}
        assert state.notes[0].text == "client reports the task"
        assert state.playhead_ms == 0 and state.state == "submitted"
        assert project.sessions()[0].metadata == {"site": "A"}
        assert any(h.actor == "R1" and h.new == 4.0 for h in project.history())
    backups = list(tmp_path.glob("old.scproj.before-*.bak"))
    assert len(backups) == 1


def test_opening_something_else_says_what_it_is(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    with pytest.raises(ProjectError, match="not a Session Coder project"):
        Project.open(junk)
    with pytest.raises(ProjectError, match="no project at"):
        Project.open(tmp_path / "missing.scproj")


def test_bad_lab_urls_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="unsupported database 'mysql'"):
        Project.create(tmp_path / "a.scproj", db_url="mysql://u@h/db")
    with pytest.raises(ProjectError, match="names no database"):
        Project.create(tmp_path / "a.scproj", db_url="postgresql://u@127.0.0.1:1")
    with pytest.raises(ProjectError, match="cannot open the database"):
        Project.create(tmp_path / "a.scproj", db_url="postgresql://u:secret@127.0.0.1:1/db")
    assert not (tmp_path / "a.scproj").exists()


@pytest.mark.postgres
def test_lab_mode_pointer_file_opens_the_server(pg_url: str, tmp_path: Path) -> None:
    pointer = tmp_path / "lab.scproj"
    with Project.create(pointer, db_url=pg_url) as project:
        project.add_raters(["A"])
    assert "session-coder-project" in pointer.read_text()
    with Project.open(pointer) as project:
        assert [r.code for r in project.raters()] == ["A"]
        assert project.store.location.is_postgres
    with Project.open(pg_url) as project:  # the URL itself works too
        assert [r.code for r in project.raters()] == ["A"]
