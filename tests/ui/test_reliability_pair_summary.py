"""The reliability tab's summary over rater pairs (issue 11): range, mean, median per item."""

from __future__ import annotations

import statistics
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from coder.discrepancies import reliability_frame
from coder.reliability import reliability_by_pair
from coder.store.project import Project
from tests.ui.test_reliability_panel import Study, build_study, open_panel
from ui.reliability_panel import NOT_DEFINED


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Study:
    return build_study(tmp_path_factory.mktemp("pairsum") / "study.scproj")


@pytest.fixture
def project(study: Study) -> Iterator[Project]:
    with Project.open(study.path) as project:
        yield project


def test_pair_summary_shows_each_items_icc_over_pairs(qtbot, app, runner, project) -> None:  # type: ignore[no-untyped-def]
    panel = open_panel(qtbot, project, runner)
    frame, ranges = reliability_frame(project, "thabs")
    pairs = reliability_by_pair(frame, ranges).to_json()["pairs"]
    model = panel.pair_summary_model
    assert model.headers() == ["Item", "Pairs", "Sessions", "Min", "Max", "Mean", "Median"]
    assert "ICC(2,1) over rater pairs" in panel.pair_summary_label.text()
    assert model.keys()[:5] == ["specification", "rationale", "troubleshooting", "review", "praise"]
    assert "behaviour_mean" in model.keys()
    for row, item in enumerate(model.keys()):
        values = [
            p["items"][item]["icc"]["ICC2"]["value"]
            for p in pairs
            if item in p["items"] and p["items"][item]["icc"]["ICC2"]["value"] is not None
        ]

        def shown(column: int, row: int = row) -> object:
            return model.data(model.index(row, column), Qt.ItemDataRole.UserRole)

        assert shown(1) == len(values)
        if not values:  # rationale is always 2: not defined for any pair
            assert model.data(model.index(row, 3)) == NOT_DEFINED
            continue
        assert shown(3) == pytest.approx(min(values))
        assert shown(4) == pytest.approx(max(values))
        assert shown(5) == pytest.approx(statistics.fmean(values))
        assert shown(6) == pytest.approx(statistics.median(values))
    assert model.data(model.index(model.keys().index("rationale"), 1)) == "0"
