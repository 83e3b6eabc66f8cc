"""Loading finished codings in bulk (coder.store.bulk), checked like a rater's writes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from coder.errors import InputError
from coder.scales import load_builtin_scale
from coder.store.bulk import LoadedCoding, load_codings
from coder.store.project import Project
from tests.factories import add_plain_sessions

ITEMS = ("specification", "rationale", "troubleshooting", "review", "praise")


@pytest.fixture
def project(new_project_args: dict[str, object]) -> Project:
    proj = Project.create(new_project_args["path"], db_url=new_project_args["db_url"])  # type: ignore[arg-type]
    proj.add_scale(load_builtin_scale("thabs"))
    proj.add_raters(["A", "B"])
    add_plain_sessions(proj, ["S1", "S2"])
    return proj


def test_loaded_codings_read_back_like_coded_ones_with_a_history_row_each(
    project: Project,
) -> None:
    at = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)
    with project:
        ids = load_codings(
            project,
            "thabs",
            [
                LoadedCoding(
                    "S1",
                    "A",
                    values=dict.fromkeys(ITEMS, 3) | {"duration": 30},
                    notes=[(1_000, "client talks")],
                    spans=[("duration", 0, 30_000)],
                    submitted_at=at,
                ),
                LoadedCoding("S1", "B", role="second", state="in_progress", values={"praise": 1}),
            ],
        )
        first = project.rater_view("A").coding(ids[0])
        second = project.rater_view("B").coding(ids[1])
        history = [h for h in project.history() if h.action == "load"]
        later = project.add_coding("S2", "A", "thabs")  # ids go on after a bulk load
    assert first.state == "submitted" and first.values["review"] == 3
    assert [(n.position_ms, n.text) for n in first.notes] == [(1_000, "client talks")]
    assert [(s.item_id, s.start_ms, s.end_ms) for s in first.spans] == [("duration", 0, 30_000)]
    assert second.state == "in_progress" and dict(second.values) == {"praise": 1}
    assert [h.coding_id for h in history] == ids
    assert history[1].new == {
        "session": "S1",
        "rater": "B",
        "scale": "thabs",
        "role": "second",
        "state": "in_progress",
    }
    assert later not in ids


@pytest.mark.parametrize(
    "bad,reason",
    [
        (LoadedCoding("S2", "A", values={"review": 7}), "7 is outside 0..4"),
        (LoadedCoding("S2", "A", values={"nope": 1}), "has no item 'nope'"),
        (LoadedCoding("S2", "A", state="done"), "'done' is not a coding state"),
        (LoadedCoding("S2", "A", role="boss"), "'boss' is not a coding role"),
        (
            LoadedCoding("S2", "A", state="uncodable", uncodable_reason="Other"),
            "why the session is uncodable",
        ),
        (LoadedCoding("S2", "A", notes=[(0, "  ")]), "a note needs some text"),
        (LoadedCoding("S2", "A", notes=[(0, "a\x00b")]), "NUL"),
        (LoadedCoding("S2", "A", spans=[("review", 0, 1)]), "not a duration item"),
        (LoadedCoding("S2", "A", spans=[("duration", 5, 1)]), "ends before it starts"),
        (LoadedCoding("S9", "A"), "no session 'S9'"),
        (LoadedCoding("S2", "Z"), "no rater 'Z'"),
    ],
)
def test_a_coding_a_rater_could_not_write_is_refused_and_nothing_is_loaded(
    project: Project, bad: LoadedCoding, reason: str
) -> None:
    with project:
        with pytest.raises(InputError, match=reason):
            load_codings(project, "thabs", [LoadedCoding("S1", "A"), bad])
        assert project.status().codings == 0
