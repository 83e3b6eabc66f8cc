"""The reliability tab's summary over rater pairs (issue 11): range, mean, median per item."""

from __future__ import annotations

import statistics
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from coder.discrepancies import reliability_frame
from coder.reliability import pair_form, reliability_by_pair
from coder.store.project import Project
from tests.ui.test_reliability_panel import Study, build_study, open_panel
from ui.reliability_panel import NOT_DEFINED

SUMMARY_HEADERS = ["Item", "Form", "Pairs", "Sessions", "Min", "Max", "Mean", "Median"]


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
    assert panel.data is not None
    model = panel.pair_summary_model
    assert model.headers() == SUMMARY_HEADERS
    assert "Headline ICC over rater pairs" in panel.pair_summary_label.text()
    assert model.keys()[:5] == ["specification", "rationale", "troubleshooting", "review", "praise"]
    assert "behaviour_mean" in model.keys()
    forms = set()
    for row, item in enumerate(model.keys()):
        # Each item's headline form, per pair (ICC(A,1) of the variance components is
        # ICC(2,1) in a pair's crossed two-rater design).
        rec = panel.data.items[item].recommendation
        assert rec is not None and rec.form is not None
        form = pair_form(rec.form)
        forms.add(form)
        assert model.data(model.index(row, 1), Qt.ItemDataRole.UserRole) == form
        values = [
            p["items"][item]["icc"][form]["value"]
            for p in pairs
            if item in p["items"] and p["items"][item]["icc"][form]["value"] is not None
        ]

        def shown(column: int, row: int = row) -> object:
            return model.data(model.index(row, column), Qt.ItemDataRole.UserRole)

        assert shown(2) == len(values)
        if not values:  # rationale is always 2: not defined for any pair
            assert model.data(model.index(row, 4)) == NOT_DEFINED
            continue
        assert shown(4) == pytest.approx(min(values))
        assert shown(5) == pytest.approx(max(values))
        assert shown(6) == pytest.approx(statistics.fmean(values))
        assert shown(7) == pytest.approx(statistics.median(values))
    assert "ICC2" in forms  # the varying-pairs items' ICC(A,1), per pair
    assert model.data(model.index(model.keys().index("rationale"), 2)) == "0"
