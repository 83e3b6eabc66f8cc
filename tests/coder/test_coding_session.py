"""CodingSession: the in-memory coding whose writes go through an injected writer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from coder import coding_rules as rules
from coder.coding_session import CodingSession, run_now
from coder.errors import InputError
from coder.scales import load_builtin_scale
from coder.store.project import Project
from tests.factories import add_plain_sessions, session


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    project = Project.create(tmp_path / "study.scproj")
    project.add_scale(load_builtin_scale("thabs"))
    project.add_scale(load_builtin_scale("ghes"))
    project.add_raters(["R1", "R2"])
    add_plain_sessions(project, [session("S1", audio_status="missing", audio_reason="test")])
    yield project
    project.close()


def _open(project: Project, scale_id: str = "thabs", writer: Callable = run_now) -> CodingSession:  # type: ignore[type-arg]
    coding_id = project.add_coding("S1", "R1", scale_id)
    view = project.rater_view("R1")
    return CodingSession(view, view.coding(coding_id), writer)


def _stored(session: CodingSession):  # type: ignore[no-untyped-def]
    return session.store.coding(session.coding_id)


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


def test_text_items_and_the_missing_list_agree_with_the_core(project: Project) -> None:
    session = _open(project, "ghes")
    text_items = [i.id for i in session.scale.items if i.kind == "text"]
    session.set_text(text_items[0], "worksheet done twice")
    assert session.missing_required() == session.store.missing_required(session.coding_id)
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


# ---------------------------------------------------------------- issue 9: notes and rules


def test_a_note_without_text_is_never_stored(project: Project) -> None:
    writes: list[Callable[[], None]] = []
    session = _open(project, writer=writes.append)
    note = session.add_note(12_000)  # N: the rater has not typed yet
    assert [n.id for n in session.notes()] == [note] and writes == []
    assert not session.is_note_stored(note)
    session.draft_note_text(note, "   ")  # blanks only: still nothing to keep
    assert writes == []
    session.update_note(note, text="")  # Escape on a brand-new note: it goes
    assert session.notes() == [] and writes == []
    assert not _stored(session).notes and _stored(session).state == "not_started"


def test_note_text_is_written_as_typed_and_an_emptied_note_is_deleted(project: Project) -> None:
    session = _open(project)
    note = session.add_note(12_000)
    session.draft_note_text(note, "client")  # typing paused: the insert, with the text
    assert [(n.position_ms, n.text) for n in _stored(session).notes] == [(12_000, "client")]
    session.draft_note_text(note, "")  # cleared to retype: the stored text stays
    assert [n.text for n in _stored(session).notes] == ["client"]
    session.draft_note_text(note, "client laughs")
    session.update_note(note, text="client laughs")  # Return: nothing new to write
    assert [n.text for n in _stored(session).notes] == ["client laughs"]
    session.update_note(note, text=" \t")  # the rater emptied it and pressed Return
    assert session.notes() == [] and not _stored(session).notes
    session.draft_note_text(note, "late timer")  # a draft after the delete is ignored
    assert session.notes() == [] and not _stored(session).notes


def test_escape_after_drafts_restores_an_existing_notes_text(project: Project) -> None:
    session = _open(project)
    note = session.add_note(3_000, "first words")
    session.draft_note_text(note, "first words and more")
    assert [n.text for n in _stored(session).notes] == ["first words and more"]
    session.update_note(note, text="first words")  # Escape: the text before the edit
    assert [n.text for n in _stored(session).notes] == ["first words"]


def test_the_store_refuses_an_empty_note(project: Project) -> None:
    session = _open(project)
    view, coding_id = session.store, session.coding_id
    with pytest.raises(InputError, match="needs some text"):
        view.add_note(coding_id, 1_000, " ")
    note_id = view.add_note(coding_id, 1_000, "kept")
    with pytest.raises(InputError, match="needs some text"):
        view.update_note(coding_id, note_id, text="")
    view.update_note(coding_id, note_id, position_ms=2_000)  # time only: fine
    assert [(n.position_ms, n.text) for n in view.coding(coding_id).notes] == [(2_000, "kept")]


def test_session_and_store_apply_the_uncodable_rule(project: Project) -> None:
    """The rule itself is tested in test_coding_rules; here: both writers call it."""
    session = _open(project)
    with pytest.raises(InputError, match="choose why"):
        session.set_uncodable("")
    with pytest.raises(InputError, match="few words"):
        session.store.set_uncodable(session.coding_id, "Other", "")
    assert _stored(session).state == "not_started"


def test_the_first_unscored_item_is_where_work_continues(project: Project) -> None:
    session = _open(project)
    assert session.first_unscored_index() == 0
    session.set_value("specification", 2)
    session.set_value("rationale", 1)
    assert session.first_unscored_index() == 2
    for item in session.scale.items:
        session.set_value(item.id, 0)
    assert session.first_unscored_index() == 0  # all scored: back to the top


# ---------------------------------------------------------------- issue 10: one copy of each rule


def test_the_store_writes_the_history_rows_the_rule_names(project: Project) -> None:
    session = _open(project)
    session.set_value("specification", 2)  # starts the coding
    session.set_uncodable("Other", "recorder stopped")
    project.allow_reopen(session.coding_id)
    session.replace_state(_stored(session))
    for item in session.scale.items:
        session.set_value(item.id, 1)
    session.submit()
    states = [
        (h.action, h.old, h.new)
        for h in project.history(coding_id=session.coding_id)
        if h.field == "state"
    ]
    expected = [
        rules.state_change("not_started", "", "in_progress"),
        rules.state_change("in_progress", "", "uncodable", "Other", "recorder stopped"),
        rules.state_change("uncodable", "Other", "submitted"),
    ]
    assert states == [(c.action, c.old, c.new) for c in expected]
    assert states[1][0] == "uncodable" and states[2][0] == "submit"


def test_session_and_store_refuse_a_number_for_a_text_item_alike(project: Project) -> None:
    session = _open(project, "ghes")
    text_item = next(i.id for i in session.scale.items if i.kind == "text")
    for value in (None, 2):
        with pytest.raises(InputError, match="takes text, not a number"):
            session.set_value(text_item, value)
        with pytest.raises(InputError, match="takes text, not a number"):
            session.store.set_value(session.coding_id, text_item, value)
    with pytest.raises(InputError, match="takes a number, not text"):
        session.set_text("engagement", "high")
    with pytest.raises(InputError, match="takes a number, not text"):
        session.store.set_text(session.coding_id, "engagement", "high")
    assert _stored(session).state == "not_started"


def test_the_store_refuses_a_span_of_an_item_that_is_not_a_duration(project: Project) -> None:
    session = _open(project)
    for refuse in (
        lambda: session.add_span("praise", 0, 1_000),
        lambda: session.store.add_span(session.coding_id, "praise", 0, 1_000),
    ):
        with pytest.raises(InputError, match="'praise' of scale 'thabs' is not a duration item"):
            refuse()
    assert _stored(session).spans == ()
