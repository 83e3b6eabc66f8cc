"""The scoring panel with the mouse alone: anchors on screen, composites live, submit, uncodable."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDoubleSpinBox, QLabel, QMessageBox, QPushButton

from coder.store.project import Project
from ui.coding_window import UncodableDialog


def _item(window, item_id: str):  # type: ignore[no-untyped-def]
    return next(w for w in window.scoring.items if w.item.id == item_id)


def _value_button(window, item_id: str, value: int) -> QPushButton:  # type: ignore[no-untyped-def]
    return _item(window, item_id).findChild(QPushButton, f"value_{value}")


def test_every_anchor_is_on_screen_not_only_in_a_tooltip(window) -> None:  # type: ignore[no-untyped-def]
    for widget in window.scoring.items:
        if widget.item.kind != "ordinal":
            continue
        shown = {label.text() for label in widget.findChildren(QLabel, "anchor")}
        published = {
            text
            for value, text in widget.item.anchors.items()
            if value not in widget.item.placeholder_values
        }
        assert published and published <= shown
        assert widget.item.description in {label.text() for label in widget.findChildren(QLabel)}


def test_raters_see_only_published_anchors_and_a_no_wording_mark(window) -> None:  # type: ignore[no-untyped-def]
    # THABS: 0 and 4 are the published end points; 1-3 have no published wording.
    widget = _item(window, "specification")
    texts = {label.text() for label in widget.findChildren(QLabel)}
    assert not any("placeholder" in text for text in texts)
    assert {label.text() for label in widget.findChildren(QLabel, "anchor")} == {
        "not done",
        "very well done",
    }
    marks = widget.findChildren(QLabel, "anchor_unpublished")
    assert [m.text() for m in marks] == ["(no published wording)"] * 3
    assert all(m.isVisibleTo(widget) for m in marks)
    tip = _value_button(window, "specification", 2).toolTip()
    assert tip == "2: (no published wording)"
    # The description is marked as ours, and the instructions list our rules.
    ours = widget.findChildren(QLabel, "wording_ours")
    assert len(ours) == 1 and "not the published wording" in ours[0].text()
    instructions = window.scoring.findChild(QLabel, "instructions").text()
    assert "Rule of ours, not in the published source: Review and praise score 0" in instructions


def test_scoring_by_mouse_with_composites_updated_live(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    for item_id, value in (("specification", 4), ("rationale", 3), ("troubleshooting", 2)):
        qtbot.mouseClick(_value_button(window, item_id, value), Qt.MouseButton.LeftButton)
    # Clicking an anchor's text scores its value too.
    anchor = next(
        a for a in _item(window, "review").findChildren(QLabel, "anchor") if a.text() == "not done"
    )
    qtbot.mouseClick(anchor, Qt.MouseButton.LeftButton)
    assert window.session.value("review") == 0.0
    assert "—" in window.scoring.composites_label.text()  # praise is still missing
    qtbot.mouseClick(_value_button(window, "praise", 1), Qt.MouseButton.LeftButton)
    assert "<b>2</b>" in window.scoring.composites_label.text()  # (4+3+2+0+1)/5
    assert _value_button(window, "praise", 1).isChecked()
    # Clicking the chosen value again clears it.
    qtbot.mouseClick(_value_button(window, "praise", 1), Qt.MouseButton.LeftButton)
    assert window.session.value("praise") is None
    assert window.scoring.current_item().id == "praise"  # the clicked item became current


def test_duration_value_is_editable_and_spans_resum_it(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    spin = _item(window, "duration").findChild(QDoubleSpinBox)
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "45")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert window.session.value("duration") == 45.0
    window.player.seek(10_000)
    qtbot.mouseClick(_item(window, "duration").findChild(QPushButton), Qt.MouseButton.LeftButton)
    window.player.seek(22_500)
    qtbot.mouseClick(_item(window, "duration").findChild(QPushButton), Qt.MouseButton.LeftButton)
    assert window.session.value("duration") == 12.5
    assert spin.value() == 12.5


def test_submit_names_the_items_not_yet_scored(qtbot, window, dialogs) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(_value_button(window, "specification", 2), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.scoring.submit_button, Qt.MouseButton.LeftButton)
    box = dialogs[-1]
    assert isinstance(box, QMessageBox) and box.windowTitle() == "Not finished yet"
    assert "Provision of rationale" in box.text() and "Specification" not in box.text()
    assert _item(window, "rationale").property("missing") is True
    assert window.scoring.current_item().id == "rationale"
    box.close()
    assert window.session.state == "in_progress"


def test_uncodable_needs_a_reason_and_then_the_coding_is_read_only(
    qtbot, window, built, dialogs
) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(window.scoring.uncodable_button, Qt.MouseButton.LeftButton)
    dialog = next(d for d in dialogs if isinstance(d, UncodableDialog))
    dialog.reason.setCurrentText("Other")
    dialog.accept()
    assert dialog.isVisible() and "few words" in dialog.problem.text()
    dialog.text.setText("recording stops after two minutes")
    dialog.accept()
    qtbot.waitUntil(lambda: window.session.state == "uncodable")
    assert not _value_button(window, "praise", 2).isEnabled()
    assert "read only" in window.state_label.text()
    qtbot.waitUntil(lambda: window.runner.pending_writes == 0)
    with Project.open(built.path) as project:
        state = project.rater_view("R1").coding(built.codings["S1"])
    assert (state.state, state.uncodable_reason, state.uncodable_text) == (
        "uncodable",
        "Other",
        "recording stops after two minutes",
    )


def test_the_window_fits_a_1366_by_768_screen(window) -> None:  # type: ignore[no-untyped-def]
    assert window.minimumSizeHint().width() <= 1366
    assert window.minimumSizeHint().height() <= 768
    # The controls a rater needs are inside the window.
    for widget in (window.scoring.submit_button, window.notes.table, window.transport.play_button):
        corner = widget.mapTo(window, QPoint(widget.width(), widget.height()))
        assert corner.x() <= window.width() and corner.y() <= window.height()
