"""Recording a consensus score from the discrepancy list (written in the storage worker)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from coder.consensus import consensus_review, record_consensus
from coder.discrepancies import find_discrepancies
from coder.store.project import Project
from tests.ui.test_reliability_panel import Study, build_study
from ui.discrepancy_view import HEADERS, ConsensusDialog, DiscrepancyView

CONSENSUS_COLUMN = HEADERS.index("Consensus")


@pytest.fixture
def study(tmp_path: Path) -> Study:
    return build_study(tmp_path / "study.scproj")


@pytest.fixture
def project(study: Study) -> Iterator[Project]:
    with Project.open(study.path) as project:
        yield project


def _view(qtbot, project: Project, runner) -> DiscrepancyView:  # type: ignore[no-untyped-def]
    view = DiscrepancyView(project=project, runner=runner)
    qtbot.addWidget(view)
    view.resize(1200, 600)
    view.set_discrepancies(find_discrepancies(project, "thabs", threshold=0))
    view.show()
    qtbot.waitExposed(view)
    return view


def _select(qtbot, view: DiscrepancyView, row: int) -> None:  # type: ignore[no-untyped-def]
    rect = view.table.visualRect(view.model.index(row, 0))
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _open_dialog(qtbot, view: DiscrepancyView, dialogs) -> ConsensusDialog:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(view.consensus_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(isinstance(d, ConsensusDialog) for d in dialogs))
    return next(d for d in dialogs if isinstance(d, ConsensusDialog))


def test_record_consensus_for_the_selected_discrepancy(
    qtbot, app, runner, project, dialogs
) -> None:  # type: ignore[no-untyped-def]
    view = _view(qtbot, project, runner)
    assert view.consensus_button.isVisible() and not view.consensus_button.isEnabled()
    _select(qtbot, view, 0)
    d = view.current()
    assert d is not None and view.consensus_button.isEnabled()
    dialog = _open_dialog(qtbot, view, dialogs)
    # The spin keeps to the item's range (THABS items are scored 0..4).
    assert (dialog.value_spin.minimum(), dialog.value_spin.maximum()) == (0, 4)
    assert dialog.value_spin.decimals() == 0
    dialog.value_spin.setValue(3)
    # A consensus needs a reason: the dialog stays open without one.
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "why" in dialog.problem.text()
    qtbot.keyClicks(dialog.reason_edit, "agreed after listening again")
    with qtbot.waitSignal(view.consensus_recorded, timeout=10_000) as blocker:
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [d]
    qtbot.waitUntil(lambda: view.model.row(0)[CONSENSUS_COLUMN] == 3)
    assert view.consensus_of(d) == (3.0, "agreed after listening again")
    assert view.current() == d  # the selection survived the redraw
    # The raters' own scores are untouched; the consensus is in the store.
    review = consensus_review(project, "thabs", d.session_id)
    item = next(i for i in review.items if i.item_id == d.item_id)
    assert item.consensus == 3.0 and item.reason == "agreed after listening again"
    assert sorted(v for v in item.scores.values() if v is not None) == sorted(
        (d.score_a, d.score_b)
    )


def test_a_new_view_shows_consensus_already_recorded_and_offers_it(
    qtbot, app, runner, project, dialogs
) -> None:  # type: ignore[no-untyped-def]
    first = find_discrepancies(project, "thabs", threshold=0)
    target = next(d for d in first if d.difference > 1)
    record_consensus(project, "thabs", target.session_id, target.item_id, 1, "talked it over")
    view = _view(qtbot, project, runner)
    row = view.shown().index(target)
    qtbot.waitUntil(lambda: view.model.row(row)[CONSENSUS_COLUMN] == 1)
    _select(qtbot, view, row)
    dialog = _open_dialog(qtbot, view, dialogs)
    assert dialog.value() == 1.0 and dialog.reason() == "talked it over"
    dialog.reject()


def test_without_project_the_list_is_read_only(qtbot, app) -> None:  # type: ignore[no-untyped-def]
    view = DiscrepancyView()
    qtbot.addWidget(view)
    view.show()
    assert not view.consensus_button.isVisible()


def test_change_then_withdraw_a_consensus_with_reasons(
    qtbot, app, runner, project, dialogs
) -> None:  # type: ignore[no-untyped-def]
    from coder.consensus import consensus_history
    from ui.discrepancy_view import WithdrawConsensusDialog

    first = find_discrepancies(project, "thabs", threshold=0)
    target = next(d for d in first if d.difference > 1)
    record_consensus(project, "thabs", target.session_id, target.item_id, 1, "talked it over")
    view = _view(qtbot, project, runner)
    row = view.shown().index(target)
    qtbot.waitUntil(lambda: view.model.row(row)[CONSENSUS_COLUMN] == 1)
    _select(qtbot, view, row)
    assert view.consensus_button.text() == "Change consensus…"
    assert view.withdraw_button.isEnabled()

    # Change: a new score with a new reason (typing replaces the old reason).
    dialog = _open_dialog(qtbot, view, dialogs)
    assert dialog.windowTitle() == "Change consensus" and dialog.ok_button.text() == "Change"
    dialog.value_spin.setFocus()
    dialog.value_spin.selectAll()
    qtbot.keyClicks(dialog.value_spin, "2")
    dialog.reason_edit.setFocus()
    dialog.reason_edit.selectAll()
    qtbot.keyClicks(dialog.reason_edit, "heard the second half again")
    # A sentence of reason shows whole (the field was a few words wide at 1366x768).
    metrics = dialog.reason_edit.fontMetrics()
    assert dialog.reason_edit.width() > metrics.horizontalAdvance("heard the second half again")
    with qtbot.waitSignal(view.consensus_recorded, timeout=10_000):
        qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.model.row(row)[CONSENSUS_COLUMN] == 2)

    # Withdraw: a reason is required; then the column empties and the button greys.
    qtbot.mouseClick(view.withdraw_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(isinstance(d, WithdrawConsensusDialog) for d in dialogs))
    withdraw = next(d for d in dialogs if isinstance(d, WithdrawConsensusDialog))
    qtbot.mouseClick(withdraw.ok_button, Qt.MouseButton.LeftButton)
    assert withdraw.isVisible() and "why" in withdraw.problem.text()
    qtbot.keyClicks(withdraw.reason_edit, "the session is a training tape")
    with qtbot.waitSignal(view.consensus_recorded, timeout=10_000):
        qtbot.mouseClick(withdraw.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.model.row(row)[CONSENSUS_COLUMN] is None)
    assert view.consensus_of(target) is None
    assert view.consensus_button.text() == "Record consensus…"
    assert not view.withdraw_button.isEnabled()
    history = [
        h
        for h in consensus_history(project, "thabs", target.session_id)
        if h.field == target.item_id
    ]
    assert [(h.action, h.new) for h in history] == [
        ("set", {"value": 1.0, "reason": "talked it over"}),
        ("set", {"value": 2.0, "reason": "heard the second half again"}),
        ("delete", {"reason": "the session is a training tape"}),
    ]
