"""The lead's progress view: counts and finished codings, read in a bounded number of queries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from coder.progress import FinishedCoding, load_progress
from coder.store.project import Project
from tests.factories import make_project


def _project(path: Path, n_raters: int, db_url: str | None = None) -> Project:
    raters = [f"R{i:02d}" for i in range(n_raters)]
    project = make_project(
        path, scales=["thabs"], raters=raters, sessions=["S1", "S2"], db_url=db_url
    )
    for rater in raters:
        first = project.add_coding("S1", rater, "thabs")
        project.add_coding("S2", rater, "thabs")
        project.rater_view(rater).set_uncodable(first, "Audio failure")
    return project


def _statements(project: Project) -> int:
    """How many SQL statements :func:`load_progress` runs on the project."""
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(project.store.engine, "before_cursor_execute", count)
    try:
        data = load_progress(project)
    finally:
        event.remove(project.store.engine, "before_cursor_execute", count)
    assert len(data.finished) == data.status.by_state["uncodable"] > 0
    return len(seen)


@pytest.mark.parametrize("few, many", [(3, 12)])
def test_load_progress_runs_as_many_queries_for_12_raters_as_for_3(
    tmp_path: Path, few: int, many: int
) -> None:
    with (
        _project(tmp_path / "few.scproj", few) as small,
        _project(tmp_path / "many.scproj", many) as large,
    ):
        assert _statements(small) == _statements(large) > 0


def test_finished_codings_are_every_raters_submitted_and_uncodable_ones(
    new_project_args: dict[str, Any],
) -> None:
    with _project(new_project_args["path"], 3, new_project_args["db_url"]) as project:
        project.add_raters(["LATE"])
        coding = project.add_coding("S2", "LATE", "thabs")
        view = project.rater_view("LATE")
        view.set_value(coding, "duration", 60)
        for item in ("specification", "rationale", "troubleshooting", "review", "praise"):
            view.set_value(coding, item, 2)
        view.submit(coding)
        data = load_progress(project)
        assert data.status.codings == 7 and data.status.by_state["not_started"] == 3
        assert [(f.session_key, f.rater, f.state) for f in data.finished] == [
            ("S1", "R00", "uncodable"),
            ("S1", "R01", "uncodable"),
            ("S1", "R02", "uncodable"),
            ("S2", "LATE", "submitted"),
        ]
        assert all(isinstance(f, FinishedCoding) and f.scale_id == "thabs" for f in data.finished)


def test_the_status_document_keeps_the_cli_keys(tmp_path: Path) -> None:
    # `session-coder status --json` prints this document; its keys must not change.
    with _project(tmp_path / "status.scproj", 2) as project:
        status = project.status()
        document = status.as_dict()
    assert list(document) == [
        "project",
        "sessions",
        "sessions_by_audio_status",
        "raters",
        "scales",
        "codings",
        "by_state",
        "by_scale",
        "by_rater",
        "duplicate_recordings",
    ]
    assert document["scales"] == ["thabs"] and document["sessions_by_audio_status"] == {"ok": 2}
    assert document["by_rater"] == {
        code: {"not_started": 1, "in_progress": 0, "submitted": 0, "uncodable": 1}
        for code in ("R00", "R01")
    }
    assert document["by_state"]["uncodable"] == status.by_state["uncodable"] == 2
    assert document["duplicate_recordings"] == []
