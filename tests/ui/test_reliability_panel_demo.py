"""The Reliability tab on the built-in demo (issue 11): what a paper reports, on screen.

The headline form first with its reason, the scale file's default and why it does not
fit the design, the per-pair table and its summary over pairs: each the same numbers
as ``session-coder reliability PROJECT`` (:func:`coder.reliability_project.project_study`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from coder.reliability import pair_form
from coder.reliability_project import project_study
from coder.store.project import Project
from tests.ui.test_reliability_pair_summary import SUMMARY_HEADERS
from tests.ui.test_reliability_panel import name_fits, open_panel


def test_the_demo_shows_headline_pairs_summary_and_the_defaults_misfit(  # type: ignore[no-untyped-def]
    qtbot, app, runner, demo_project: Path
) -> None:
    with Project.open(demo_project) as project:
        panel = open_panel(qtbot, project, runner)
        with qtbot.waitSignal(panel.results_shown, timeout=90_000):
            panel.scale_combo.setCurrentIndex(panel.scale_combo.findData("thabs"))
        expected = project_study(project, "thabs").study
    items = expected.report.items
    model = panel.items_model
    # The headline first, with its form; the form's tooltip gives the reason and the
    # scale default's discrepancy with the design.
    assert panel.stat_headers()[:3] == ["Headline ICC", "95 % CI", "Form"]
    misfits = 0
    for item_id, item in items.items():
        rec = item.recommendation
        if rec is None or rec.form is None:
            continue
        row = panel.item_row(item_id)
        assert model.data(model.index(row, 3)) == rec.label
        tip = model.data(model.index(row, 3), Qt.ItemDataRole.ToolTipRole)
        assert rec.reason in tip
        if rec.value is not None:
            assert model.data(model.index(row, 1), Qt.ItemDataRole.UserRole) == pytest.approx(
                rec.value, abs=1e-12
            )
        if rec.scale_default_fits is False:
            misfits += 1
            assert rec.scale_default_note is not None and rec.scale_default_note in tip
    # The demo's raters rotate in pairs: its scale file's ICC(2,1) does not fit.
    assert misfits >= 1
    status = panel.status_label.text()
    assert "Headline: ICC(A,1)" in status and "does not fit" in status
    notes = panel.notes_label.text()
    assert notes.index("Headline ICC(A,1)") < notes.index("Scale default")

    # The per-pair table: the demo's pairs, each with its shared sessions.
    assert panel.pairs_model.keys() == [
        f"{a}|{b}" for a, b in (p.raters for p in expected.by_pair.pairs)
    ]
    for row, pair in enumerate(expected.by_pair.pairs):
        assert panel.pairs_model.data(panel.pairs_model.index(row, 1)) == str(pair.n_sessions)
    # The summary over pairs: range, mean, median, pairs and sessions of each item's
    # headline form per pair, as the CLI's pair_summary.
    summary = panel.pair_summary_model
    assert summary.headers() == SUMMARY_HEADERS
    checked = 0
    for row, item_id in enumerate(summary.keys()):
        rec = items[item_id].recommendation
        assert rec is not None and rec.form is not None
        spread = expected.pair_summary[item_id][pair_form(rec.form)]

        def shown(column: int, row: int = row) -> object:
            return summary.data(summary.index(row, column), Qt.ItemDataRole.UserRole)

        assert shown(2) == spread.n_pairs and shown(3) == spread.n_sessions
        for column, value in zip(
            (4, 5, 6, 7), (spread.min, spread.max, spread.mean, spread.median), strict=True
        ):
            assert shown(column) == (None if value is None else pytest.approx(value))
        checked += spread.n_pairs > 0
    assert checked >= 1
    # No item name cut in the items table at 1366x768.
    for row in range(model.rowCount()):
        assert name_fits(panel.items_table, row), model.data(model.index(row, 0))
