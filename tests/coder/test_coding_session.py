"""CodingSession: the in-memory coding whose writes go through an injected writer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from coder.coding_session import CodingSession, duration_from_spans, run_now
from coder.errors import InputError
from coder.models import SessionRow
from coder.project import Project, Span
from coder.scales import load_builtin_scale


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    project = Project.create(tmp_path / "study.scproj")
    project.add_scale(load_builtin_scale("thabs"))
    project.add_scale(load_builtin_scale("ghes"))
    project.add_raters(["R1", "R2"])
    with project.store.transaction() as s:
        s.add(SessionRow(session_key="S1", audio_status="missing", audio_reason="test"))
    yield project
    project.close()


def _open(project: Project, scale_id: str = "thabs", writer: Callable = run_now) -> CodingSession:  # type: ignore[type-arg]
    coding_id = project.add_coding("S1", "R1", scale_id)
    view = project.rater_view("R1")
    return CodingSession(view, view.coding(coding_id), writer)


def _stored(session: CodingSession):  # type: ignore[no-untyped-def]
    return session.view.coding(session.coding_id)


def test_a_score_is_in_memory_and_in_the_store_and_starts_the_coding(project: Project) -> None:
    session = _open(project)
    seen: list[tuple[str, object]] = []
    session.value_changed.connect(lambda item, value: seen.append((item, value)))
    session.state_changed.connect(lambda state: seen.append(("state", state)))
    session.set_value("rationale", 3)
    assert session.value("rationale") == 3.0
    assert seen == [("state", "in_progress"), ("rationale", 3.0)]
    stored = _stored(session)
    assert stored.values["rationale"] == 3.0 and stored.state == "in_progress"


def test_an_inadmissible_score_is_refused_before_anything_is_written(project: Project) -> None:
    writes: list[Callable[[], None]] = []
    session = _open(project, writer=writes.append)
    with pytest.raises(InputError, match="outside 0..4"):
        session.set_value("rationale", 7)
    assert writes == [] and session.value("rationale") is None


def test_notes_and_spans_can_be_edited_before_their_insert_has_run(project: Project) -> None:
    writes: list[Callable[[], None]] = []
    session = _open(project, writer=writes.append)
    note = session.add_note(61_500, "first")
    session.update_note(note, text="client shifts topic")
    gone = session.add_note(5_000)
    session.delete_note(gone)
    span = session.toggle_span("duration", 10_000)
    session.toggle_span("duration", 40_000)
    assert session.value("duration") == 30.0
    assert [(n.position_ms, n.text) for n in session.notes()] == [(61_500, "client shifts topic")]
    for write in writes:  # the storage worker, later, in order
        write()
    stored = _stored(session)
    assert [(n.position_ms, n.text) for n in stored.notes] == [(61_500, "client shifts topic")]
    assert [(s.start_ms, s.end_ms) for s in stored.spans] == [(10_000, 40_000)]
    assert stored.values["duration"] == 30.0
    assert span < 0 and note < 0  # local ids until the store answers


def test_the_duration_mirror_follows_the_core_rule(project: Project) -> None:
    session = _open(project)
    session.add_span("duration", 0, 12_345)
    open_id = session.toggle_span("duration", 50_000)
    assert session.value("duration") == 12.345  # an open span adds nothing yet
    session.delete_span(open_id)
    session.set_value("duration", 99.0)  # the rater corrects the sum by hand
    assert _stored(session).values["duration"] == 99.0
    session.add_span("duration", 20_000, 10_000)  # reversed: stored as 10..20 s
    assert session.value("duration") == _stored(session).values["duration"] == 22.345
    assert duration_from_spans([Span(1, "d", 0, None)]) is None
    assert duration_from_spans([]) == 0.0


def test_text_items_and_the_missing_list_agree_with_the_core(project: Project) -> None:
    session = _open(project, "ghes")
    text_items = [i.id for i in session.scale.items if i.kind == "text"]
    session.set_text(text_items[0], "worksheet done twice")
    assert session.missing_required() == session.view.missing_required(session.coding_id)
    assert _stored(session).texts[text_items[0]] == "worksheet done twice"


def test_submit_names_what_is_missing_and_then_locks_the_coding(project: Project) -> None:
    session = _open(project)
    with pytest.raises(InputError, match="not yet scored: Specification"):
        session.submit()
    assert _stored(session).state == "not_started"
    for item in session.scale.items:
        session.set_value(item.id, 0)
    states: list[str] = []
    session.state_changed.connect(states.append)
    session.submit()
    assert states == ["submitted"] and not session.editable
    assert _stored(session).state == "submitted"
    with pytest.raises(InputError, match="ask the lead"):
        session.set_value("praise", 1)
    project.allow_reopen(session.coding_id)
    session.replace_state(_stored(session))
    assert session.editable
    session.set_value("praise", 1)
    assert _stored(session).values["praise"] == 1.0


def test_uncodable_needs_a_known_reason_and_a_text_for_other(project: Project) -> None:
    session = _open(project)
    with pytest.raises(InputError, match="not a reason"):
        session.set_uncodable("Bored")
    with pytest.raises(InputError, match="few words"):
        session.set_uncodable("Other", "  ")
    session.set_uncodable("Other", "recorder stopped after 2 minutes")
    stored = _stored(session)
    assert (stored.state, stored.uncodable_reason) == ("uncodable", "Other")
    assert not session.editable


def test_the_playhead_is_written_only_when_it_moved(project: Project) -> None:
    writes: list[Callable[[], None]] = []
    session = _open(project, writer=writes.append)
    session.set_playhead(0)
    assert not session.save_playhead()
    session.set_playhead(83_500)
    assert session.save_playhead() and not session.save_playhead()
    writes[0]()
    stored = _stored(session)
    assert stored.playhead_ms == 83_500 and stored.state == "not_started"
