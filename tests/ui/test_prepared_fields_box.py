"""The coding window's "Prepared by the lab" box: the lead's chosen fields, read-only."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt

from coder.changes import OpChanges
from coder.coding_data import PreparedField
from coder.prepared_fields import overview, set_value, show_fields
from coder.store.project import Project
from ui.prepared_fields_box import EMPTY_TEXT, TITLE, PreparedFieldsBox
from ui.prepared_fields_tab import PreparedFieldsTab

LOG = "RA: thought record done twice <b>not markup</b>\n" + "more detail. " * 40


def test_the_coding_window_shows_the_chosen_fields_read_only(qtbot, make_window, built) -> None:  # type: ignore[no-untyped-def]
    with Project.open(built.path) as project:
        set_value(project, "S1", "homework_log", LOG)
        set_value(project, "S1", "week_plan", "walk daily")
        show_fields(project, "thabs", ["homework_log", "week_plan"])
    window = make_window(built)
    box = window.prepared_box
    assert box.isVisible() and box.title() == TITLE
    assert box.shown_text() == {"homework_log": LOG, "week_plan": "walk daily"}
    for label in box.value_labels.values():
        assert label.textFormat() == Qt.TextFormat.PlainText
        flags = label.textInteractionFlags()
        assert flags & Qt.TextInteractionFlag.TextSelectableByMouse
        assert not flags & Qt.TextInteractionFlag.TextEditable
        assert label.focusPolicy() == Qt.FocusPolicy.NoFocus
    # On a laptop screen the box stays compact: Submit is still on screen.
    window.resize(1366, 700)
    qtbot.waitUntil(lambda: window.height() == 700)
    submit = window.scoring.submit_button
    top_left = submit.mapTo(window, QPoint(0, 0))
    assert window.rect().contains(QRect(top_left, submit.size()))
    assert box.height() <= 200


def test_no_box_when_the_lab_prepared_nothing(window) -> None:  # type: ignore[no-untyped-def]
    assert not window.prepared_box.isVisible()


def test_an_empty_field_says_so(qtbot) -> None:  # type: ignore[no-untyped-def]
    box = PreparedFieldsBox([PreparedField("homework_log", ""), PreparedField("x", "y")])
    qtbot.addWidget(box)
    assert box.shown_text() == {"homework_log": EMPTY_TEXT, "x": "y"}


def test_the_lead_ticks_fields_and_enters_a_value_in_the_tab(qtbot, runner, built) -> None:  # type: ignore[no-untyped-def]
    project = Project.open(built.path)
    try:
        tab = PreparedFieldsTab(project, runner)
        qtbot.addWidget(tab)
        qtbot.waitUntil(lambda: tab.session_combo.count() == 1, timeout=10_000)
        tab.session_combo.setCurrentText("S1")
        tab.field_edit.setText("homework_log")
        qtbot.keyClicks(tab.value_edit, "RA: walked twice")
        qtbot.mouseClick(tab.save_value_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: tab.field_list.count() == 1, timeout=10_000)
        assert "entered, 1 session(s)" in tab.field_list.item(0).text()
        assert "walked" not in tab.field_list.item(0).text()  # names and counts only
        tab.field_list.item(0).setCheckState(Qt.CheckState.Checked)
        qtbot.mouseClick(tab.show_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: tab.status_label.text() == "Saved.", timeout=10_000)
        assert overview(project).shown == {"thabs": ("homework_log",)}
        state = project.rater_view("R1").coding(built.codings["S1"])
        assert [(f.name, f.value) for f in state.prepared] == [("homework_log", "RA: walked twice")]
        # A refusal is one calm line; nothing changes.
        tab.field_edit.setText("window_offset")
        qtbot.mouseClick(tab.save_value_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: tab.status_label.text().startswith("Not saved"), timeout=10_000)
        assert "moves the coding window" in tab.status_label.text()
    finally:
        project.close()


def test_the_tab_reads_again_when_sessions_change(qtbot, runner, built) -> None:  # type: ignore[no-untyped-def]
    project = Project.open(built.path)
    try:
        tab = PreparedFieldsTab(project, runner)
        qtbot.addWidget(tab)
        qtbot.waitUntil(lambda: tab.session_combo.count() == 1, timeout=10_000)
        assert tab.field_list.count() == 0
        # Another part of the app enters a value and broadcasts a sessions change.
        set_value(project, "S1", "homework_log", "text")
        runner.changed.emit(OpChanges(sessions=True))
        qtbot.waitUntil(lambda: tab.field_list.count() == 1, timeout=10_000)
    finally:
        project.close()
