"""The lead's Certification tab: one row per rater, computed in a worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QCheckBox, QRadioButton

from coder.certification import (
    add_master_coding,
    agreement_over_time,
    certification_required,
    certification_settings,
    certification_status,
    criterion_for,
    set_criterion,
    set_require_certification,
)
from coder.scales import CertificationCriterion, load_builtin_scale
from coder.store.project import Project
from tests.coder.test_certification import MASTER, _score, _sessions, _train
from tests.ui.helpers import build_project
from ui.certification_dialogs import (
    ChecklistDialog,
    CriterionDialog,
    MasterCodingDialog,
    OverrideDialog,
    RecalibrationDialog,
)
from ui.certification_tab import HEADERS, CertificationTab
from ui.dialogs import dialog_hub


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    with Project.create(tmp_path / "cert.scproj") as project:
        project.add_scale(load_builtin_scale("thabs"))
        project.add_scale(load_builtin_scale("ghes"))
        project.add_raters(["M", "A", "B"])
        _sessions(project, list(MASTER), training=True)
        for key, scores in MASTER.items():
            _score(project, "M", add_master_coding(project, key, "thabs", "M"), scores)
        _train(project, "A", good=True)
        _train(project, "B", good=False, n=3)
        yield project


def _open(qtbot, project: Project, runner) -> CertificationTab:  # type: ignore[no-untyped-def]
    tab = CertificationTab(project, runner)
    qtbot.addWidget(tab)
    tab.resize(1100, 500)
    with qtbot.waitSignal(tab.status_shown, timeout=15_000):
        tab.show()
    return tab


def _rows(tab: CertificationTab) -> dict[str, tuple[object, ...]]:
    return {str(tab.model.row(r)[0]): tab.model.row(r) for r in range(tab.model.rowCount())}


def test_table_shows_each_raters_state_and_figures(qtbot, app, runner, project) -> None:  # type: ignore[no-untyped-def]
    tab = _open(qtbot, project, runner)
    assert tab.current_scale_id() == "thabs"
    assert [tab.model.headerData(i, Qt.Orientation.Horizontal) for i in range(6)] == list(HEADERS)
    rows = _rows(tab)
    expected = certification_status(project, "thabs")
    assert set(rows) == {"A", "B", "M"}
    assert rows["A"][1] == "certified" and rows["A"][2] == 5 and rows["A"][4] == "100%"
    assert rows["A"][3] == f"{expected['A'].training.icc:.2f}"
    assert rows["B"][1] == "in training" and rows["B"][2] == 3
    assert rows["B"][5] == expected["B"].why
    # M enters the master codings: a master, not a rater in training.
    assert rows["M"][1] == "master"
    assert "1 of 2 raters certified" in tab.status_label.text()
    assert tab.settings_label.text() == (
        "Certified at ICC2 ≥ 0.70 and 80% within one point of the master over at least 5 "
        "training sessions. Certification is not required for plans."
    )


def test_the_settings_in_force_are_shown_above_the_table(qtbot, app, runner, project) -> None:  # type: ignore[no-untyped-def]
    tab = _open(qtbot, project, runner)
    set_require_certification(project, True)
    set_criterion(project, "thabs", CertificationCriterion(min_icc=0.6, min_sessions=1))
    with qtbot.waitSignal(tab.status_shown, timeout=15_000):
        qtbot.mouseClick(tab.refresh_button, Qt.MouseButton.LeftButton)
    assert tab.settings_label.text() == (
        "Certified at ICC2 ≥ 0.60 and 80% within one point of the master over at least 1 "
        "training session. Plans give real sessions only to certified raters."
    )


def test_choosing_another_scale_recomputes(qtbot, app, runner, project) -> None:  # type: ignore[no-untyped-def]
    tab = _open(qtbot, project, runner)
    with qtbot.waitSignal(tab.status_shown, timeout=15_000):
        tab.scale_combo.setCurrentIndex(tab.scale_combo.findData("ghes"))
    rows = _rows(tab)
    assert {r[1] for r in rows.values()} == {"in training"}
    assert all(r[2] == 0 and r[3] == "—" for r in rows.values())
    with qtbot.waitSignal(tab.status_shown, timeout=15_000):
        tab.scale_combo.setCurrentIndex(tab.scale_combo.findData("thabs"))
    assert _rows(tab)["B"][2] == 3
    # Refresh picks up work done since.
    _train(project, "B", good=True, n=5)
    with qtbot.waitSignal(tab.status_shown, timeout=15_000):
        qtbot.mouseClick(tab.refresh_button, Qt.MouseButton.LeftButton)
    assert _rows(tab)["B"][2] == 5


# --------------------------------------------------------------------------- lead actions


def _click(qtbot, widget) -> None:  # type: ignore[no-untyped-def]
    if isinstance(widget, QRadioButton | QCheckBox):
        # Only the indicator and the label take a click, not the width the layout gives.
        qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=QPoint(6, widget.height() // 2))
        return
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def _last_dialog(dialogs, kind):  # type: ignore[no-untyped-def]
    assert dialogs and isinstance(dialogs[-1], kind), dialogs
    return dialogs[-1]


def _ok(qtbot, tab, dialog) -> None:  # type: ignore[no-untyped-def]
    """Press OK and wait for the broadcast change to be shown."""
    with qtbot.waitSignal(tab.status_shown, timeout=15_000):
        _click(qtbot, dialog.ok_button())


def _select(qtbot, table, row: int) -> None:  # type: ignore[no-untyped-def]
    rect = table.visualRect(table.model().index(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _tick(qtbot, checklist, key: str) -> None:  # type: ignore[no-untyped-def]
    """Tick a line of a checklist with the keyboard: select it, press Space."""
    for i in range(checklist.list.count()):
        item = checklist.list.item(i)
        if item.data(Qt.ItemDataRole.UserRole) == key:
            checklist.list.setCurrentItem(item)
            qtbot.keyClick(checklist.list, Qt.Key.Key_Space)
            return
    raise AssertionError(f"no line {key}")


def _spin_to(qtbot, spin, text: str) -> None:  # type: ignore[no-untyped-def]
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(spin, text)


def test_criterion_and_requirement_are_set_from_the_tab(
    qtbot, app, runner, project, dialogs
) -> None:  # type: ignore[no-untyped-def]
    tab = _open(qtbot, project, runner)
    _click(qtbot, tab.criterion_button)
    dialog = _last_dialog(dialogs, CriterionDialog)
    assert dialog.min_sessions.value() == 5 and dialog.icc_form.currentText() == "ICC2"
    _spin_to(qtbot, dialog.min_sessions, "3")
    _spin_to(qtbot, dialog.min_within_one, "90")
    _ok(qtbot, tab, dialog)
    assert criterion_for(project, "thabs") == CertificationCriterion(
        icc_form="ICC2", min_icc=0.7, min_within_one=0.9, min_sessions=3
    )
    assert "90% within one point of the master over at least 3 training sessions" in (
        tab.settings_label.text()
    )
    # B compared 3 far-off sessions: now judged on them, still below the criterion.
    assert "below the criterion" in _rows(tab)["B"][5]

    assert not tab.require_box.isChecked()
    with qtbot.waitSignal(tab.status_shown, timeout=15_000):
        _click(qtbot, tab.require_box)
    assert certification_required(project)
    assert tab.require_box.isChecked()
    assert tab.settings_label.text().endswith("Plans give real sessions only to certified raters.")

    _click(qtbot, tab.criterion_button)
    dialog = _last_dialog(dialogs, CriterionDialog)
    with qtbot.waitSignal(tab.status_shown, timeout=15_000):
        _click(qtbot, dialog.reset_button)
    assert criterion_for(project, "thabs").min_sessions == 5
    assert "at least 5 training sessions" in tab.settings_label.text()


def test_an_override_needs_a_reason_and_shows_in_the_history(
    qtbot, app, runner, project, dialogs
) -> None:  # type: ignore[no-untyped-def]
    tab = _open(qtbot, project, runner)
    assert not tab.override_button.isEnabled()  # no rater selected yet
    row_b = next(r for r in range(tab.model.rowCount()) if tab.model.row(r)[0] == "B")
    _select(qtbot, tab.table, row_b)
    assert tab.selected_rater() == "B"
    _click(qtbot, tab.override_button)
    dialog = _last_dialog(dialogs, OverrideDialog)
    assert dialog.clear_button.isChecked() and dialog.ok_button().isEnabled()
    _click(qtbot, dialog.allow_button)
    assert not dialog.ok_button().isEnabled()
    assert dialog.hint.text() == "Give a reason to save the override."
    qtbot.keyClicks(dialog.reason, "certified on THABS in the pilot study")
    assert dialog.ok_button().isEnabled()
    _ok(qtbot, tab, dialog)
    status = certification_status(project, "thabs")["B"]
    assert status.override is True and status.eligible
    assert status.override_reason == "certified on THABS in the pilot study"
    assert _rows(tab)["B"][1] == "in training (allowed by the lead)"
    history = [tab.history_model.row(r) for r in range(tab.history_model.rowCount())]
    assert [h[1:] for h in history] == [
        ("lead", "B allowed real sessions: certified on THABS in the pilot study")
    ]
    # Removing the override is kept too.
    _click(qtbot, tab.override_button)
    dialog = _last_dialog(dialogs, OverrideDialog)
    assert dialog.allow_button.isChecked()
    _click(qtbot, dialog.clear_button)
    _ok(qtbot, tab, dialog)
    assert certification_status(project, "thabs")["B"].override is None
    assert tab.history_model.row(0)[2] == "B back to the criterion"
    assert tab.history_model.rowCount() == 2


def test_training_sessions_and_drift_checks_are_given_from_the_tab(
    qtbot, app, runner, project, dialogs
) -> None:  # type: ignore[no-untyped-def]
    _sessions(project, [f"S{i}" for i in range(1, 7)], training=False)
    for i in range(1, 7):
        project.add_coding(f"S{i}", "A", "thabs", queue_position=i)
    tab = _open(qtbot, project, runner)
    _click(qtbot, tab.train_button)
    dialog = _last_dialog(dialogs, ChecklistDialog)
    # The raters in training are ticked; the master is not offered.
    assert dialog.checked() == ["B"]
    assert [dialog.list.item(i).text() for i in range(dialog.list.count())] == ["A", "B"]
    _ok(qtbot, tab, dialog)
    queue = project.rater_view("B").queue()
    assert sorted(q.session_key for q in queue) == sorted(MASTER)  # all 8 master-coded
    assert tab.message_label.text() == "5 training codings given."

    _click(qtbot, tab.recalibrate_button)
    dialog = _last_dialog(dialogs, RecalibrationDialog)
    _spin_to(qtbot, dialog.every, "3")
    _ok(qtbot, tab, dialog)
    a_queue = project.rater_view("A").queue()
    checks = [q.session_key for q in a_queue if q.session_key.startswith("T")]
    # A coded T1..T5 in training; two drift checks on the unseen T6..T8 (6 real / 3).
    assert len(checks) == 7 and len(set(checks) - {f"T{i}" for i in range(1, 6)}) == 2
    assert tab.message_label.text() == "2 drift checks added."
    assert certification_settings(project).recalibration["thabs"].every == 3


def test_the_chart_shows_the_selected_raters_agreement_over_time(
    qtbot, app, runner, project
) -> None:  # type: ignore[no-untyped-def]
    tab = _open(qtbot, project, runner)
    tab.pages.setCurrentIndex(1)
    row_a = next(r for r in range(tab.model.rowCount()) if tab.model.row(r)[0] == "A")
    with qtbot.waitSignal(tab.chart_shown, timeout=15_000):
        _select(qtbot, tab.table, row_a)
    assert tab.chart_rater.currentText() == "A"
    expected = agreement_over_time(project, "A", "thabs")
    assert [p.value for p in tab.chart.points()] == [p.within_one for p in expected]
    assert tab.chart.title() == "A: share of items within one point of the master"
    assert tab.chart.threshold() == 0.8
    qtbot.keyClick(tab.chart_statistic, Qt.Key.Key_Down)
    assert [p.value for p in tab.chart.points()] == [p.rolling.icc for p in expected]
    assert tab.chart.threshold() == 0.7 and "ICC2" in tab.chart.title()
    row_b = next(r for r in range(tab.model.rowCount()) if tab.model.row(r)[0] == "B")
    with qtbot.waitSignal(tab.chart_shown, timeout=15_000):
        _select(qtbot, tab.table, row_b)
    assert len(tab.chart.points()) == 3
    # The master is no rater in training: not offered in the chart.
    assert tab.chart_rater.findText("M") == -1


def test_the_empty_tab_says_how_to_start_and_leads_to_a_master_coding(  # type: ignore[no-untyped-def]
    qtbot, app, runner, settings, tmp_path, dialogs
) -> None:
    built = build_project(tmp_path / "lab", scale_id="hw_adherence", seconds=20, sessions=2)
    with Project.open(built.path) as project:
        tab = CertificationTab(project, runner, settings=settings)
        qtbot.addWidget(tab)
        tab.resize(1100, 600)
        with qtbot.waitSignal(tab.status_shown, timeout=15_000):
            tab.show()
        assert tab.guide.isVisible()
        assert "Start by marking at least 5 sessions as training sessions" in (
            tab.guide_label.text()
        )
        assert tab.guide_mark_button.isVisible() and not tab.guide_master_button.isVisible()

        # Step 1: mark S2 as a training session.
        _click(qtbot, tab.guide_mark_button)
        qtbot.waitUntil(lambda: bool(dialogs) and isinstance(dialogs[-1], ChecklistDialog))
        dialog = dialogs[-1]
        _tick(qtbot, dialog, "S2")
        assert dialog.checked() == ["S2"]
        _ok(qtbot, tab, dialog)
        assert [s.key for s in project.sessions() if s.training] == ["S2"]
        # R1 was given S2 before it became a training session: it shows.
        assert tab.training_model.row(0) == ("S2", "—", "none yet", "0 of 1 submitted")
        assert "choose who enters the master coding" in tab.guide_label.text()

        # Step 2: a new code, EXPERT, enters the master coding.
        _click(qtbot, tab.guide_master_button)
        dialog = _last_dialog(dialogs, MasterCodingDialog)
        assert dialog.checked() == ["S2"]
        assert dialog.master_rater() == "MASTER" and dialog.is_new_rater()
        editor = dialog.master.lineEdit()
        qtbot.keyClick(editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClicks(editor, "R2")
        assert not dialog.is_new_rater() and dialog.new_hint.text() == ""
        qtbot.keyClick(editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClicks(editor, "EXPERT")
        assert (
            dialog.new_hint.text()
            == "EXPERT is not a rater of this project yet: it is added as one."
        )
        _ok(qtbot, tab, dialog)
        assert "EXPERT" in [r.code for r in project.raters()]
        assert tab.message_label.text() == (
            "1 master coding assigned to EXPERT. EXPERT is now a rater of the project."
        )
        assert _rows(tab)["EXPERT"][1] == "master"
        assert tab.training_model.row(0) == ("S2", "EXPERT", "not started", "0 of 1 submitted")
        assert "enter the master codings" in tab.guide_label.text()

        # Step 3: the master coding opens in the coding window, as EXPERT.
        _select(qtbot, tab.training_table, 0)
        assert tab.enter_button.isEnabled()
        with qtbot.waitSignal(tab.master_window_opened, timeout=15_000) as opened:
            _click(qtbot, tab.enter_button)
        window = opened.args[0]
        assert window.view.code == "EXPERT" and window.session.session_key == "S2"
        window.focus_home()
        qtbot.keyClick(window, Qt.Key.Key_4)
        qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        confirm = dialog_hub().last()
        assert confirm is not None and "Submit" in confirm.windowTitle()
        qtbot.keyClick(confirm, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: window.session.state == "submitted", timeout=15_000)
        done = dialog_hub().last()
        if done is not None and done.windowTitle() == "Submitted":
            qtbot.keyClick(done, Qt.Key.Key_Escape)
        with qtbot.waitSignal(tab.status_shown, timeout=15_000):
            tab.close_master_window()
        assert tab.master_window is None
        qtbot.waitUntil(lambda: not shiboken6.isValid(window))  # closed and deleted
        assert tab.training_model.row(0) == ("S2", "EXPERT", "submitted", "0 of 1 submitted")
        assert "Only 1 training session of 5 needed" in tab.guide_label.text()
        tab.close()
