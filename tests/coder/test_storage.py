"""The project store on SQLite and PostgreSQL: schema, migrations, transactions, history."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, select, text

from coder.errors import InputError, ProjectError
from coder.scales import load_builtin_scale, parse_scale
from coder.store import migrations
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


def _migrated_from_scratch(path: Path) -> None:
    """Run every migration, from the first revision, on a new empty SQLite file."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            config = Config()
            config.set_main_option("script_location", str(Path(migrations.__file__).parent))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def _sqlite_schema(path: Path) -> dict[str, object]:
    """Everything SQLite knows about a file's schema, by name: each table's columns
    (name, type, NOT NULL, default, key position), foreign keys and indexes (columns,
    unique, made by a constraint or by CREATE INDEX), every index, trigger and view, and
    the revision stamp. Column order is left out: a migration appends added columns."""
    conn = sqlite3.connect(path)
    try:
        objects = conn.execute(
            "SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        ).fetchall()
        schema: dict[str, object] = {"objects": sorted(objects)}
        for kind, name, _table in objects:
            if kind == "trigger" or kind == "view":
                schema[name] = conn.execute(
                    "SELECT sql FROM sqlite_master WHERE name = ?", (name,)
                ).fetchone()
            if kind != "table":
                continue
            columns = sorted(row[1:] for row in conn.execute(f"PRAGMA table_xinfo('{name}')"))
            keys = sorted(row[2:] for row in conn.execute(f"PRAGMA foreign_key_list('{name}')"))
            indexes = sorted(
                (
                    tuple(c[2] for c in conn.execute(f"PRAGMA index_info('{index}')")),
                    unique,
                    origin,
                    # An automatic index (a UNIQUE constraint's) has a made-up name.
                    None if index.startswith("sqlite_autoindex_") else index,
                )
                for _seq, index, unique, origin, _partial in conn.execute(
                    f"PRAGMA index_list('{name}')"
                )
            )
            schema[name] = {"columns": columns, "foreign_keys": keys, "indexes": indexes}
        schema["revision"] = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        return schema
    finally:
        conn.close()


def test_a_new_project_file_has_the_schema_the_migrations_make(tmp_path: Path) -> None:
    """A new SQLite project is made from the models and stamped (not migrated): it must
    be the very schema that running every migration from scratch gives, so migrated and
    new files stay the same to every later migration and query."""
    Project.create(tmp_path / "new.scproj").close()
    _migrated_from_scratch(tmp_path / "migrated.db")
    new = _sqlite_schema(tmp_path / "new.scproj")
    migrated = _sqlite_schema(tmp_path / "migrated.db")
    assert new["revision"] == [(head_revision(),)]
    assert len(new) > 10  # the project's tables are there
    assert new == migrated
    # And the migrations still describe the models (as on PostgreSQL, which migrates).
    engine = create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


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
