"""The lead's Certification tab: one row per rater, computed in a worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from coder.certification import (
    add_master_coding,
    certification_status,
    set_criterion,
    set_require_certification,
)
from coder.scales import CertificationCriterion, load_builtin_scale
from coder.store.project import Project
from tests.coder.test_certification import MASTER, _score, _sessions, _train
from ui.certification_tab import HEADERS, CertificationTab


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
    assert "1 of 3 raters certified" in tab.status_label.text()
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
