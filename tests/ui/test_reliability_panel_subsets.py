"""The Reliability tab's subsets and calibration report (issue 11): the CLI's --where and
--include-training, chosen in the tab, computed by the same core function."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from coder.reliability_project import project_study
from coder.store.project import Project
from tests.coder.test_reliability_study import Study, build_study
from tests.ui.test_reliability_panel import open_panel
from ui.reliability_panel import ALL_SESSIONS, ReliabilityPanel


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Study:
    return build_study(tmp_path_factory.mktemp("subsets") / "study.scproj")


@pytest.fixture
def project(study: Study) -> Iterator[Project]:
    with Project.open(study.path) as project:
        yield project


def choose(qtbot, panel: ReliabilityPanel, column: str, value: str) -> None:  # type: ignore[no-untyped-def]
    """Choose a column and a value the way the lead does, waiting for each result."""
    with qtbot.waitSignal(panel.results_shown, timeout=90_000):
        panel.subset_column_combo.setCurrentIndex(panel.subset_column_combo.findData(column))
    index = panel.subset_value_combo.findData(value)
    assert index >= 0
    if index != panel.subset_value_combo.currentIndex():  # else the first value is chosen
        with qtbot.waitSignal(panel.results_shown, timeout=90_000):
            panel.subset_value_combo.setCurrentIndex(index)


def test_a_session_subset_gives_the_clis_numbers(qtbot, app, runner, project, study) -> None:  # type: ignore[no-untyped-def]
    panel = open_panel(qtbot, project, runner)
    columns = [
        panel.subset_column_combo.itemData(i) for i in range(panel.subset_column_combo.count())
    ]
    # The manifest columns with values and the metadata ("site"); not the key, not the
    # training mark.
    assert columns[0] is None and panel.subset_column_combo.itemText(0) == ALL_SESSIONS
    assert {"therapist", "session_number", "phase", "site"} <= set(columns)
    assert "patient" not in columns  # no session has one: nothing to choose
    assert "session_id" not in columns and "training" not in columns
    assert not panel.subset_value_combo.isVisibleTo(panel)
    whole_pairs = panel.pairs_model.keys()

    choose(qtbot, panel, "session_number", "1")
    assert panel.subset_value_combo.isVisibleTo(panel)
    values = [panel.subset_value_combo.itemData(i) for i in range(panel.subset_value_combo.count())]
    assert values == ["1", "2", "3"]  # numbers in numeric order
    ones = {k for k, n in study.number.items() if n == 1}
    assert "session_number = 1" in panel.status_label.text()
    assert f"{len(ones)} double-coded sessions" in panel.status_label.text()
    expected = project_study(project, "thabs", where=(("session_number", "1"),)).study
    model = panel.items_model
    n_column = panel.stat_headers().index("n") + 1
    for item_id in ("specification", "troubleshooting", "praise"):
        item = expected.report.items[item_id]
        row = panel.item_row(item_id)
        assert model.data(model.index(row, n_column)) == str(item.n_sessions)
        rec = item.recommendation
        assert rec is not None and rec.value is not None
        assert model.data(model.index(row, 1), Qt.ItemDataRole.UserRole) == pytest.approx(
            rec.value, abs=1e-12
        )
    # Review is 0 in every session 1: not defined there, defined on all sessions.
    review = panel.item_row("review")
    assert model.data(model.index(review, 1), Qt.ItemDataRole.UserRole) is None
    # The pairs are the subset's pairs, with the subset's shared sessions.
    assert panel.pairs_model.keys() == [
        f"{a}|{b}" for a, b in (p.raters for p in expected.by_pair.pairs)
    ]
    for row, pair in enumerate(expected.by_pair.pairs):
        assert panel.pairs_model.data(panel.pairs_model.index(row, 1)) == str(pair.n_sessions)
    assert {d.session_id for d in panel.discrepancy_view.shown()} <= ones

    # Back to every session.
    with qtbot.waitSignal(panel.results_shown, timeout=90_000):
        panel.subset_column_combo.setCurrentIndex(0)
    assert not panel.subset_value_combo.isVisibleTo(panel)
    assert "session_number" not in panel.status_label.text()
    assert panel.pairs_model.keys() == whole_pairs
    assert model.data(model.index(review, 1), Qt.ItemDataRole.UserRole) is not None


def test_the_calibration_report_shows_every_raters_icc(qtbot, app, runner, project, study) -> None:  # type: ignore[no-untyped-def]
    panel = open_panel(qtbot, project, runner)
    tab = panel.tabs.indexOf(panel.calibration_page)
    assert not panel.tabs.isTabVisible(tab)
    with qtbot.waitSignal(panel.results_shown, timeout=90_000):
        qtbot.mouseClick(panel.training_check, Qt.MouseButton.LeftButton)
    assert panel.training_check.isChecked()
    assert panel.tabs.isTabVisible(tab)
    expected = project_study(project, "thabs", include_training=True).study
    assert expected.training is not None
    assert f"{len(study.training)} calibration sessions" in panel.calibration_label.text()
    model = panel.calibration_model
    assert model.headers()[:4] == ["Item", "Headline ICC", "95 % CI", "Form"]
    for row, item_id in enumerate(model.keys()):
        item = expected.training.items.get(item_id)
        if item is None or item.recommendation is None or item.recommendation.value is None:
            continue
        # Every rater coded every calibration session: crossed, the mean of k raters.
        assert model.data(model.index(row, 3)) == "ICC(2,k)"
        assert model.data(model.index(row, 1), Qt.ItemDataRole.UserRole) == pytest.approx(
            item.icc["ICC2k"].value, abs=1e-12
        )
        assert model.data(model.index(row, 4)) == "4"
    with qtbot.waitSignal(panel.results_shown, timeout=90_000):
        qtbot.mouseClick(panel.training_check, Qt.MouseButton.LeftButton)
    assert not panel.tabs.isTabVisible(tab)
