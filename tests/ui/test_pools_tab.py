"""The lead's Pools tab: create, edit, delete pools (and teams kept apart); plans use them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from coder.planning import load_plan_state
from coder.pools import RaterPool
from coder.store.pools import list_pools
from coder.store.project import Project
from tests.ui.test_plan_panel import make_project
from ui.lead_window import LeadWindow
from ui.tasks import TaskRunner


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    project = make_project(tmp_path / "p.scproj", sessions=12, raters=("A", "B", "C", "D"))
    yield project
    project.close()


@pytest.fixture
def lead(qtbot, app, runner: TaskRunner, project: Project) -> LeadWindow:  # type: ignore[no-untyped-def]
    window = LeadWindow(project, runner)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitUntil(lambda: window.pools_tab.rater_list.count() == 4, timeout=10_000)
    window.tabs.setCurrentWidget(window.pools_tab)
    return window


def _stored(project: Project) -> list[RaterPool]:
    return list_pools(project)


def _tick(tab, codes: set[str]) -> None:  # type: ignore[no-untyped-def]
    """Click the check boxes so that exactly ``codes`` are ticked."""
    for i in range(tab.rater_list.count()):
        item = tab.rater_list.item(i)
        want = item.data(Qt.ItemDataRole.UserRole) in codes
        if (item.checkState() == Qt.CheckState.Checked) != want:
            tab.set_rater_ticked(item.data(Qt.ItemDataRole.UserRole), want)


def _create(qtbot, tab, name: str, codes: set[str], *, separate: bool) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(tab.new_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(tab.name_edit, name)
    _tick(tab, codes)
    if tab.separate_check.isChecked() != separate:
        qtbot.mouseClick(tab.separate_check, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)


def test_pools_are_created_edited_and_deleted_and_teams_stay_apart(
    qtbot, lead, project, dialogs
) -> None:  # type: ignore[no-untyped-def]
    tab = lead.pools_tab
    with qtbot.waitSignal(tab.pools_loaded, timeout=10_000):
        with qtbot.waitSignal(tab.pool_saved, timeout=10_000):
            _create(qtbot, tab, "team-a", {"A", "B"}, separate=True)
    assert _stored(project) == [RaterPool("team-a", ("A", "B"), True)]
    assert tab.model.row(0) == ("team-a", "A, B", "yes (separate team)")
    assert "saved" in tab.problem()

    # B is in team-a already: a second separate team with B is refused, in full.
    with qtbot.waitSignal(tab.refused, timeout=10_000):
        _create(qtbot, tab, "team-b", {"B", "C"}, separate=True)
    assert "B is in both 'team-a' and 'team-b'" in tab.problem()
    assert "nothing was changed" in tab.problem()
    assert tab.problem_label.isVisible()
    assert _stored(project) == [RaterPool("team-a", ("A", "B"), True)]

    # Without B it is fine (what was typed stays in the editor after the refusal).
    assert tab.name_edit.text() == "team-b"
    _tick(tab, {"C", "D"})
    with qtbot.waitSignal(tab.pools_loaded, timeout=10_000):
        qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    assert [p.name for p in _stored(project)] == ["team-a", "team-b"]

    # Edit team-a: adding D (a team-b rater) is refused; adding nobody's rater works.
    tab.select_pool("team-a")
    assert tab.name_edit.isReadOnly() and tab.save_button.text() == "Save changes"
    assert set(tab.ticked_raters()) == {"A", "B"}
    _tick(tab, {"A", "B", "D"})
    with qtbot.waitSignal(tab.refused, timeout=10_000):
        qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    assert "D is in both" in tab.problem()
    _tick(tab, {"A"})
    qtbot.mouseClick(tab.separate_check, Qt.MouseButton.LeftButton)  # no longer kept apart
    with qtbot.waitSignal(tab.pools_loaded, timeout=10_000):
        qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    assert _stored(project)[0] == RaterPool("team-a", ("A",), False)

    # Delete team-b, after a question; its raters stay.
    tab.select_pool("team-b")
    qtbot.mouseClick(tab.delete_button, Qt.MouseButton.LeftButton)
    box = next(d for d in reversed(dialogs) if isinstance(d, QMessageBox))
    assert "team-b" in box.text()
    with qtbot.waitSignal(tab.pools_loaded, timeout=10_000):
        next(b for b in box.buttons() if b.text() == "Delete pool").click()
    assert [p.name for p in _stored(project)] == ["team-a"]
    assert tab.model.rowCount() == 1 and "deleted" in tab.problem()
    assert {r.code for r in project.raters()} == {"A", "B", "C", "D"}


def test_the_plans_tab_draws_raters_from_a_pool_and_refuses_mixed_teams(
    qtbot, lead, project
) -> None:  # type: ignore[no-untyped-def]
    tab, plans = lead.pools_tab, lead.plan_panel
    with qtbot.waitSignal(plans.state_loaded, timeout=10_000):
        with qtbot.waitSignal(tab.pools_loaded, timeout=10_000):
            _create(qtbot, tab, "team-a", {"A", "B", "C"}, separate=True)
    with qtbot.waitSignal(plans.state_loaded, timeout=10_000):
        _create(qtbot, tab, "team-b", {"D"}, separate=True)
    lead.tabs.setCurrentWidget(plans)
    # The broadcast reached the Plans tab: both pools are offered.
    names = [plans.pool_combo.itemData(i) for i in range(plans.pool_combo.count())]
    assert names == [None, "team-a", "team-b"]

    # Ticking raters of two teams by hand: the core's refusal is shown.
    assert plans.current_pool() is None and plans.rater_list.isEnabled()
    with qtbot.waitSignal(plans.preview_button.clicked):
        qtbot.mouseClick(plans.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "separate coder teams" in plans.input_problem.text(), timeout=10_000)
    assert "team-a: A, B, C" in plans.input_problem.text()
    assert "separate coder teams" in plans.result_title.text()  # also where results show

    # Drawing the raters from team-a: its raters are ticked, the list is read only.
    plans.pool_combo.setCurrentIndex(plans.pool_combo.findData("team-a"))
    assert not plans.rater_list.isEnabled()
    ticked = {
        plans.rater_list.item(i).data(Qt.ItemDataRole.UserRole)
        for i in range(plans.rater_list.count())
        if plans.rater_list.item(i).checkState() == Qt.CheckState.Checked
    }
    assert ticked == {"A", "B", "C"}
    assert plans.request().pool == "team-a" and plans.request().raters == ()
    with qtbot.waitSignal(plans.preview_shown, timeout=10_000):
        qtbot.mouseClick(plans.preview_button, Qt.MouseButton.LeftButton)
    assert plans.input_problem.text() == ""
    assert set(plans.summary.loads) == {"A", "B", "C"}
    with qtbot.waitSignal(plans.plan_saved, timeout=10_000):
        qtbot.mouseClick(plans.save_button, Qt.MouseButton.LeftButton)
    stored = load_plan_state(project, "thabs").stored
    assert stored is not None and stored.params["pool"] == "team-a"
    assert sorted(stored.params["raters"]) == ["A", "B", "C"]
