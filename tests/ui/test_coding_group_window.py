"""One listening, several scales (issue 13, item 5): GHES and StHAR planned together
open in one coding window, a tab per scale; each is scored, noted and submitted on its
own and stored as its own coding; reopened, both show as submitted."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from coder.importer import import_manifest
from coder.planning import PlanRequest, plan_and_save
from coder.scales import load_builtin_scale
from coder.store.project import Project
from coder.synth import synthesize_session
from tests.ui.helpers import BuiltProject
from ui.dialogs import dialog_hub
from ui.start_window import StartWindow


@pytest.fixture
def grouped(tmp_path: Path) -> Path:
    """A project with session S1 (real synthetic audio), GHES and StHAR planned
    together for rater R1."""
    folder = tmp_path / "lab"
    (folder / "audio").mkdir(parents=True)
    audio = synthesize_session(folder / "audio" / "S1.wav", 60.0, seed=1)
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["session_id", "audio", "patient", "therapist", "session_number"])
        writer.writerow(["S1", f"audio/{audio.name}", "P1", "T1", "2"])
    path = folder / "study.scproj"
    with Project.create(path) as project:
        project.add_scale(load_builtin_scale("ghes"))
        project.add_scale(load_builtin_scale("sthar"))
        project.add_raters(["R1"])
        assert not import_manifest(project, manifest).problems
        plan_and_save(project, PlanRequest("ghes", ("R1",), 0, (), seed=1, with_scales=("sthar",)))
    return path


def _note(qtbot, window, text: str) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(window, Qt.Key.Key_N)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit)
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.waveform.hasFocus())


def _score_ordinals(qtbot, window, digit: int) -> None:  # type: ignore[no-untyped-def]
    window.scoring.set_current(0)
    for item in window.session.scale.items:
        if item.kind == "ordinal":
            qtbot.keyClick(window, getattr(Qt.Key, f"Key_{digit}"))
        qtbot.keyClick(window, Qt.Key.Key_Down)


def _submit(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    session = window.session
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    confirm = dialog_hub().last()
    assert confirm is not None and "Submit" in confirm.windowTitle()
    qtbot.keyClick(confirm, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: session.state == "submitted")


def test_two_scales_are_coded_in_one_window_and_stored_per_scale(  # type: ignore[no-untyped-def]
    qtbot, grouped, make_window, runner
) -> None:
    with Project.open(grouped) as project:
        queue = project.rater_view("R1").queue()
    assert [e.scale_id for e in queue] == ["ghes", "sthar"]
    ids = {e.scale_id: int(e.coding_id) for e in queue}

    # The queue shows the session once, with both scales.
    start = StartWindow()
    qtbot.addWidget(start)
    start.show_queue("R1", queue)
    assert start.queue_model.rowCount() == 1
    assert start.queue_model.row(0)[2] == (
        "GHES - Global Homework Engagement Scale + "
        "StHAR - Scale for Therapeutic Homework Assignment and Review"
    )

    window = make_window(BuiltProject(grouped, {}, {"S1": ids["ghes"]}))
    assert window.scale_tabs is not None and window.scale_tabs.count() == 2
    assert window.session.scale.id == "ghes"
    qtbot.waitUntil(lambda: window.player.is_loaded and window.waveform.has_peaks(), timeout=10_000)

    # Listen once: a note and the GHES scores, then the same for StHAR (Ctrl+PgDown).
    qtbot.keyClick(window, Qt.Key.Key_Right)
    ghes_note_at = window.player.position()
    _note(qtbot, window, "reports reading log")
    _score_ordinals(qtbot, window, 3)
    qtbot.keyClick(window, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
    assert window.scale_tabs.currentIndex() == 1 and window.session.scale.id == "sthar"
    assert window.notes.row_count() == 0, "each scale has its own notes"
    qtbot.keyClick(window, Qt.Key.Key_Right)
    sthar_note_at = window.player.position()
    _note(qtbot, window, "rationale given")
    _score_ordinals(qtbot, window, 2)

    # Submit StHAR; the window offers GHES next, and goes there.
    _submit(qtbot, window)
    done = dialog_hub().last()
    assert done is not None and "Still to do: GHES" in done.text()
    qtbot.keyClick(done, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.scale_tabs.currentIndex() == 0)
    assert "submitted" in window.scale_tabs.tabText(1)
    assert window.sessions[0].editable and not window.sessions[1].editable
    _submit(qtbot, window)
    assert "Thank you" in dialog_hub().last().text()
    qtbot.keyClick(dialog_hub().last(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: runner.pending_writes == 0)
    window.close()

    with Project.open(grouped) as fresh:
        view = fresh.rater_view("R1")
        ghes, sthar = view.coding(ids["ghes"]), view.coding(ids["sthar"])
    assert ghes.state == sthar.state == "submitted"
    assert {v for k, v in ghes.values.items() if k != "global"} == {3.0}
    assert set(sthar.values.values()) == {2.0}
    assert not set(ghes.values) & set(sthar.values)
    assert [(n.position_ms, n.text) for n in ghes.notes] == [(ghes_note_at, "reports reading log")]
    assert [(n.position_ms, n.text) for n in sthar.notes] == [(sthar_note_at, "rationale given")]

    # Reopened from the StHAR coding: one window, StHAR on screen, both read only.
    window = make_window(BuiltProject(grouped, {}, {"S1": ids["sthar"]}))
    assert window.scale_tabs is not None and window.scale_tabs.currentIndex() == 1
    assert all("submitted" in window.scale_tabs.tabText(i) for i in range(2))
    assert not any(s.editable for s in window.sessions)
    assert window.notes.row_count() == 1
    assert window.scoring.submit_button.text().startswith("Submit StHAR")
    assert not window.scoring.submit_button.isEnabled()


def test_each_scale_flags_its_notes_against_its_own_window(  # type: ignore[no-untyped-def]
    qtbot, tmp_path, make_window
) -> None:
    # Initial resistance rates 5:00-20:00 of session 1, GHES the whole session: coded
    # together, the player keeps to the whole session, and a note at 0:05 is outside
    # the window for resistance only.
    folder = tmp_path / "lab"
    (folder / "audio").mkdir(parents=True)
    audio = synthesize_session(folder / "audio" / "S1.wav", 30.0, seed=2)
    manifest = folder / "manifest.csv"
    manifest.write_text(f"session_id,audio,session_number\nS1,audio/{audio.name},1\n")
    path = folder / "study.scproj"
    with Project.create(path) as project:
        project.add_scale(load_builtin_scale("resistance"))
        project.add_scale(load_builtin_scale("ghes"))
        project.add_raters(["R1"])
        assert not import_manifest(project, manifest).problems
        plan_and_save(
            project, PlanRequest("resistance", ("R1",), 0, (), seed=1, with_scales=("ghes",))
        )
        [first, _second] = project.rater_view("R1").queue()
    window = make_window(BuiltProject(path, {}, {"S1": int(first.coding_id)}))
    assert window.session.scale.id == "resistance"
    assert window.listen_window.whole_session and not window.session.window.whole_session
    qtbot.waitUntil(lambda: window.player.is_loaded, timeout=10_000)
    for index in (0, 1):
        window.show_scale(index)
        qtbot.keyClick(window, Qt.Key.Key_Home)
        qtbot.keyClick(window, Qt.Key.Key_Right)
        _note(qtbot, window, f"note on {window.session.scale.id}")
    window.show_scale(0)
    assert window.notes.row_count() == 1 and window.notes.model.is_outside_window(0)
    window.show_scale(1)
    assert window.notes.row_count() == 1 and not window.notes.model.is_outside_window(0)


def test_each_scale_tab_shows_the_fields_prepared_for_its_scale(  # type: ignore[no-untyped-def]
    grouped, make_window
) -> None:
    from coder.prepared_fields import set_value, show_fields

    with Project.open(grouped) as project:
        set_value(project, "S1", "homework_log", "RA: reading log done")
        show_fields(project, "ghes", ["homework_log"])
        queue = project.rater_view("R1").queue()
    ids = {e.scale_id: int(e.coding_id) for e in queue}
    window = make_window(BuiltProject(grouped, {}, {"S1": ids["ghes"]}))
    ghes_box, sthar_box = window.prepared_boxes
    assert ghes_box.isVisible()
    assert ghes_box.shown_text() == {"homework_log": "RA: reading log done"}
    assert sthar_box.shown_text() == {} and sthar_box.isHidden()
