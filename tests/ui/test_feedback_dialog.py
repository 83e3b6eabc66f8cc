"""Feedback after submitting a training coding: shown beside the master's, never blocking."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from shiboken6 import isValid

from coder.certification import add_master_coding
from coder.store.project import Project
from tests.factories import score_coding
from tests.ui.helpers import BuiltProject
from ui.feedback_dialog import FeedbackDialog

MASTER = {"specification": 4, "rationale": 2, "troubleshooting": 0, "review": 1, "praise": 3}
MINE = {"specification": 3, "rationale": 2, "troubleshooting": 2, "review": 1, "praise": 3}


def _score(project: Project, rater: str, coding: int, scores: dict[str, int]) -> None:
    score_coding(project, rater, coding, {**scores, "duration": 60})


def _make_training(built: BuiltProject) -> None:
    """S1 becomes a training session with a submitted master coding by M (with notes)."""
    with Project.open(built.path) as project:
        project.set_training(["S1"])
        project.add_raters(["M"])
        master = add_master_coding(project, "S1", "thabs", "M")
        _score(project, "M", master, MASTER)
        view = project.rater_view("M")
        view.add_note(master, 83_500, "no rationale given here")
        view.add_note(master, 12_000, "task stated very clearly")
        view.submit(master)
        _score(project, "R1", built.codings["S1"], MINE)


def _submit(qtbot, window, dialogs) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(window.scoring.submit_button, Qt.MouseButton.LeftButton)
    confirm = dialogs[-1]
    assert isinstance(confirm, QMessageBox) and "Submit" in confirm.windowTitle()
    qtbot.keyClick(confirm, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.session.state == "submitted")


def _submitted_box(dialogs) -> QMessageBox:  # type: ignore[no-untyped-def]
    return next(
        d
        for d in dialogs
        if isValid(d) and isinstance(d, QMessageBox) and d.windowTitle() == "Submitted"
    )


def _drain(qtbot, runner) -> None:  # type: ignore[no-untyped-def]
    """Wait until every read queued so far has called back (the storage worker is FIFO)."""
    done: list[object] = []
    runner.read(lambda: None, on_done=done.append)
    qtbot.waitUntil(lambda: bool(done))


def test_submitting_a_training_coding_shows_the_masters_scores(
    qtbot, make_window, built, runner, dialogs
) -> None:  # type: ignore[no-untyped-def]
    _make_training(built)
    window = make_window(built)
    _submit(qtbot, window, dialogs)
    qtbot.waitUntil(lambda: any(isinstance(d, FeedbackDialog) for d in dialogs), timeout=10_000)
    feedback = next(d for d in dialogs if isinstance(d, FeedbackDialog))
    try:
        assert feedback.isVisible() and not feedback.isModal()
        # The "Submitted" message is there too, and the feedback did not wait for it.
        assert _submitted_box(dialogs).isVisible()
        rows = {
            feedback.items_model.row(r)[0]: feedback.items_model.row(r)
            for r in range(feedback.items_model.rowCount())
        }
        assert rows["Specification of the task"][1:] == (
            "3 · (no published wording)",
            "4 · very well done",
            "-1",
        )
        assert rows["Provision of rationale"][3] == "same"
        troubleshooting = next(k for k in rows if k.startswith("Elicitation"))
        assert rows[troubleshooting][2] == "0 · not done" and rows[troubleshooting][3] == "+2"
        notes = [feedback.notes_model.row(r) for r in range(feedback.notes_model.rowCount())]
        assert notes == [
            ("0:12", "task stated very clearly"),
            ("1:23", "no rationale given here"),
        ]
        assert "within one point" in feedback.summary_label.text()
        # Going back to the queue deletes the workstation; the feedback stays open.
        done = _submitted_box(dialogs)
        qtbot.keyClick(done, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not window.isVisible())
        assert feedback.isVisible()
    finally:
        qtbot.mouseClick(feedback.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not isValid(feedback) or not feedback.isVisible())


def test_no_feedback_on_a_real_session(qtbot, make_window, built, runner, dialogs) -> None:  # type: ignore[no-untyped-def]
    with Project.open(built.path) as project:
        _score(project, "R1", built.codings["S1"], MINE)
    window = make_window(built)
    _submit(qtbot, window, dialogs)
    _drain(qtbot, runner)
    assert not any(isinstance(d, FeedbackDialog) for d in dialogs)
