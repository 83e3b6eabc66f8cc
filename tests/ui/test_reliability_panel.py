"""The lead's Reliability tab: item table, bands, drift, pairs and the discrepancy list."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QStyle, QTableView, QTabWidget, QWidget

from coder.discrepancies import reliability_frame, reliability_settings
from coder.planning import PlanRequest, plan_and_save
from coder.reliability import ICC_FORMS, reliability_by_pair, reliability_report
from coder.scales import load_builtin_scale
from coder.store.project import Project
from tests.factories import add_plain_sessions, session
from ui.discrepancy_view import format_mmss
from ui.drift_chart import koo_li_band
from ui.reliability_panel import NOT_DEFINED, ReliabilityPanel
from ui.tasks import TaskRunner

ORDINAL = ("specification", "rationale", "troubleshooting", "review", "praise")


@dataclass(frozen=True)
class Study:
    path: Path
    apart: frozenset[str]  # sessions whose coders differ by 2 on troubleshooting
    coders: dict[str, list[str]]


def build_study(path: Path) -> Study:
    """10 sessions, raters A/B/C, 8 double-coded, everything submitted.

    specification agrees exactly (ICC 1), rationale is always 2 (not defined),
    troubleshooting differs by 2 on two sessions and by 1 on a third, review by at
    most one. Each coding has one note at 1:0x.
    """
    with Project.create(path) as project:
        project.add_scale(load_builtin_scale("thabs"))
        project.add_raters(["A", "B", "C"])
        add_plain_sessions(
            project,
            [
                session(
                    f"S{i:02d}", patient=f"P{i % 2}", therapist="T1", session_number=2, phase="I"
                )
                for i in range(1, 11)
            ],
        )
        plan, _ = plan_and_save(project, PlanRequest("thabs", ("A", "B", "C"), 8, (), seed=5))
        coders: dict[str, list[str]] = {}
        for c in plan.codings:
            coders.setdefault(c.session_id, []).append(c.rater)
        double = sorted(k for k, rs in coders.items() if len(rs) == 2)
        apart, one_point = {double[1], double[4]}, double[2]
        for code in ("A", "B", "C"):
            view = project.rater_view(code)
            for entry in view.queue():
                key = entry.session_key
                n = int(key[1:])
                t = n % 5
                second = len(coders[key]) == 2 and code == sorted(coders[key])[1]
                values = dict.fromkeys(ORDINAL, t) | {"rationale": 2, "duration": 30 + n}
                if second and key in apart:
                    values["troubleshooting"] = t + 2 if t <= 2 else t - 2
                elif second and key == one_point:
                    values["troubleshooting"] = t + 1 if t < 4 else t - 1
                if second and n % 2:
                    values["review"] = t + 1 if t < 4 else t - 1
                for item, value in values.items():
                    view.set_value(entry.coding_id, item, value)
                view.add_note(entry.coding_id, 60_000 + n * 1000, f"{code} hears {key}")
                view.submit(entry.coding_id)
    return Study(path, frozenset(apart), coders)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Study:
    return build_study(tmp_path_factory.mktemp("rel") / "study.scproj")


@pytest.fixture
def project(study: Study) -> Iterator[Project]:
    with Project.open(study.path) as project:
        yield project


def open_panel(qtbot, project: Project, runner: TaskRunner) -> ReliabilityPanel:  # type: ignore[no-untyped-def]
    panel = ReliabilityPanel(project, runner)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.results_shown, timeout=60_000):
        pass
    panel.resize(1366, 768)
    panel.show()
    return panel


def test_the_item_table_shows_the_headline_form_first(qtbot, app, runner, project) -> None:  # type: ignore[no-untyped-def]
    panel = open_panel(qtbot, project, runner)
    frame, ranges = reliability_frame(project, "thabs")
    settings = reliability_settings(project, "thabs")
    report = reliability_report(
        frame,
        ranges,
        kinds=settings.kinds,
        kappa_weights=settings.kappa_weights,
        alpha_level=settings.alpha_level,
        scale_default="ICC2",
    ).to_json()["items"]
    model = panel.items_model
    headers = panel.stat_headers()
    # The headline (the form that fits the design) comes first, then the scale file's
    # default ICC2 = ICC(2,1) with its interval, then the other forms.
    assert headers[:3] == ["Headline ICC", "95 % CI", "Form"]
    assert headers[3:5] == ["ICC(2,1) scale default", "95 % CI"]
    assert headers[5:10] == ["ICC(1,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)"]
    assert headers[10:14] == ["κ quadratic", "α ordinal", "Exact", "Within ±1"]
    # The chance-corrected coefficients (Gwet's AC2: the scale's quadratic weights).
    assert headers[14:17] == ["Fleiss κ", "Gwet AC2", "Brennan-Prediger"]
    assert headers[17:19] == ["ICC(A,1) VC", "ICC(A,k) VC"]
    assert model.keys() == [*ORDINAL, "duration", "behaviour_mean"]
    forms = ["ICC2", *(f for f in ICC_FORMS if f != "ICC2")]
    for row, item_id in enumerate(model.keys()):
        item = report[item_id]
        rec = item["recommended"]
        headline = item["icc_vc"] if rec["source"] == "icc_vc" else item["icc"]
        columns = {
            1: headline[rec["form"]],
            4: item["icc"]["ICC2"],
            **{6 + i: item["icc"][f] for i, f in enumerate(forms[1:])},
            # The item's kind decides: the duration item shows interval alpha, no kappa.
            11: item["kappa"][item["kappa_weights"] or "quadratic"],
            12: item["krippendorff_alpha"][item["alpha_level"]],
            13: item["agreement"]["exact"],
            14: item["agreement"]["within_one"],
            15: item["agreement_coefficients"]["fleiss_kappa"],
            16: item["agreement_coefficients"][
                "gwet_ac1" if "gwet_ac1" in item["agreement_coefficients"] else "gwet_ac2"
            ],
            17: item["agreement_coefficients"]["brennan_prediger"],
            18: item["icc_vc"]["ICC_A1"],
            19: item["icc_vc"]["ICC_Ak"],
        }
        for col, stat in columns.items():
            index = model.index(row, col)
            shown = model.data(index, Qt.ItemDataRole.UserRole)
            if stat["value"] is None:
                assert shown is None
                assert model.data(index) == NOT_DEFINED
                assert model.data(index, Qt.ItemDataRole.ToolTipRole) == (
                    f"{NOT_DEFINED}: {stat['why']}"
                )
            else:
                assert shown == pytest.approx(stat["value"], abs=1e-12)
        # The form names the headline; its tooltip says why and notes the default.
        assert model.data(model.index(row, 3)) == rec["label"]
        tip = model.data(model.index(row, 3), Qt.ItemDataRole.ToolTipRole)
        assert rec["reason"] in tip
        if rec["scale_default_fits"] is False:
            assert rec["scale_default_note"] in tip
        assert model.data(model.index(row, 1), Qt.ItemDataRole.FontRole).bold()
        ci = item["icc"]["ICC2"]["ci95"]
        if item["icc"]["ICC2"]["value"] is not None:
            assert model.data(model.index(row, 5)) == f"[{ci[0]:.2f}, {ci[1]:.2f}]"
        assert model.data(model.index(row, 20)) == str(item["n_sessions"])
        assert model.data(model.index(row, 21)) == item["design"].replace("_", " ")

    duration = panel.item_row("duration")
    assert report["duration"]["alpha_level"] == "interval"
    assert model.data(model.index(duration, 12)).endswith("(int.)")
    assert "not applicable to duration items" in model.data(
        model.index(duration, 11), Qt.ItemDataRole.ToolTipRole
    )
    # Three raters in rotating pairs: the headline is ICC(A,1) from variance components,
    # and the scale file's ICC2 is flagged as not fitting, in the notes and the status.
    spec = panel.item_row("specification")
    assert report["specification"]["design"] == "varying_pairs"
    assert model.data(model.index(spec, 3)) == "ICC(A,1)"
    assert model.data(model.index(spec, 1)) == "1.000"
    assert model.data(model.index(spec, 1), Qt.ItemDataRole.BackgroundRole) == QColor("#4ade80")
    notes = panel.notes_label.text()
    assert "Headline ICC(A,1)" in notes and "variance components" in notes
    assert "Scale default" in notes and "coder position" in notes
    assert "does not fit" in panel.status_label.text()
    rationale = panel.item_row("rationale")
    assert model.data(model.index(rationale, 1)) == "not defined"
    assert model.data(model.index(rationale, 1), Qt.ItemDataRole.BackgroundRole) is None
    assert "not defined" in panel.notes_label.text()
    # Every ICC cell has the colour of its band.
    for row in range(model.rowCount()):
        for col in (1, 4, 6, 7, 8, 9, 10, 18, 19):
            value = model.data(model.index(row, col), Qt.ItemDataRole.UserRole)
            if value is not None:
                colour = model.data(model.index(row, col), Qt.ItemDataRole.BackgroundRole)
                assert colour == koo_li_band(value)[1]


def test_koo_and_li_bands() -> None:
    assert [koo_li_band(v)[0] for v in (-0.2, 0.49, 0.5, 0.74, 0.75, 0.9, 0.901)] == [
        "poor",
        "poor",
        "moderate",
        "moderate",
        "good",
        "good",
        "excellent",
    ]


def test_discrepancies_and_both_coders_notes(qtbot, app, runner, project, study) -> None:  # type: ignore[no-untyped-def]
    panel = open_panel(qtbot, project, runner)
    panel.tabs.setCurrentWidget(panel.discrepancy_view)
    view = panel.discrepancy_view
    shown = view.shown()
    assert {(d.session_id, d.item_id) for d in shown} == {
        (k, "troubleshooting") for k in study.apart
    }
    assert view.model.rowCount() == 2
    table = view.table
    rect = table.visualRect(view.model.index(1, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    d = view.current()
    assert d is shown[1]
    a, b = sorted(study.coders[d.session_id])
    at = format_mmss(60_000 + int(d.session_id[1:]) * 1000)
    assert at.startswith("01:")
    assert view.note_texts("A") == [f"{at}   {a} hears {d.session_id}"]
    assert view.note_texts("B") == [f"{at}   {b} hears {d.session_id}"]
    assert a in view.notes_a_box.title() and b in view.notes_b_box.title()
    # Double-clicking a note asks for the session in the player at that moment.
    lst = view.notes_b
    item_rect = lst.visualItemRect(lst.item(0))
    # (A real double-click starts with a press; QTest's double-click event alone does not.)
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=item_rect.center())
    assert view.open_note_button.isEnabled()
    with qtbot.waitSignal(panel.open_session_requested) as blocker:
        qtbot.mouseDClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=item_rect.center())
    assert blocker.args == [d.session_id, 60_000 + int(d.session_id[1:]) * 1000]
    with qtbot.waitSignal(panel.open_session_requested) as blocker:
        qtbot.mouseClick(view.open_note_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [d.session_id, 60_000 + int(d.session_id[1:]) * 1000]
    # A looser threshold lists the one-point differences too.
    view.threshold_spin.setValue(0)
    assert len(view.shown()) > 2


def test_pairs_and_drift_come_from_the_worker(qtbot, app, runner, project) -> None:  # type: ignore[no-untyped-def]
    panel = open_panel(qtbot, project, runner)
    frame, ranges = reliability_frame(project, "thabs")
    pairs = reliability_by_pair(frame, ranges).to_json()["pairs"]
    assert panel.pairs_model.keys() == [f"{a}|{b}" for a, b in (p["raters"] for p in pairs)]
    panel.pair_item_combo.setCurrentIndex(panel.pair_item_combo.findData("review"))
    for row, pair in enumerate(pairs):
        expected = pair["items"]["review"]["icc"]["ICC2"]["value"]
        shown = panel.pairs_model.data(panel.pairs_model.index(row, 2), Qt.ItemDataRole.UserRole)
        assert shown == (None if expected is None else pytest.approx(expected))
    n_double = frame["session_id"].nunique()
    assert len(panel.drift_values()) == math.ceil(n_double / 5)
    # (Each window fits the variance components with a bootstrap: slow on a busy machine.)
    with qtbot.waitSignal(panel.results_shown, timeout=90_000):
        panel.window_spin.setValue(2)
    assert len(panel.drift_values()) == math.ceil(n_double / 2)
    panel.drift_item_combo.setCurrentIndex(panel.drift_item_combo.findData("specification"))
    values = panel.drift_values()
    assert len(values) == 4 and 1.0 in values
    assert all(v is None or v == pytest.approx(1.0) for v in values)
    assert panel.drift_chart.title().endswith("Specification of the task")


def test_a_scale_without_double_coding_says_not_defined(qtbot, app, runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with Project.create(tmp_path / "empty.scproj") as project:
        project.add_scale(load_builtin_scale("hw_adherence"))
        panel = open_panel(qtbot, project, runner)
        model = panel.items_model
        assert model.keys() == ["adherence"]
        assert model.data(model.index(0, 1)) == NOT_DEFINED
        assert "0 double-coded sessions" in panel.status_label.text()
        assert panel.discrepancy_view.model.rowCount() == 0
        assert panel.drift_chart.points() == []


def test_drift_and_pairs_follow_the_headline_form_with_intervals(
    qtbot, app, runner, project
) -> None:  # type: ignore[no-untyped-def]
    from coder.reliability import pair_form
    from coder.reliability_view import compute_drift, compute_reliability

    panel = open_panel(qtbot, project, runner)
    assert panel.data is not None
    data = compute_reliability(project, "thabs", panel.data.window)
    drift = compute_drift(data, panel.data.window)
    item = data.items["troubleshooting"]
    rec = item.recommendation
    assert rec is not None and rec.form == "ICC_A1" and rec.source == "icc_vc"
    # Drift: the first statistic is the item's headline, ICC(A,1), in every window, with
    # the window's interval; the scale file's ICC(2,1) is no longer what it plots.
    assert panel.drift_stat_combo.itemText(0) == "Headline ICC"
    assert panel.drift_stat_combo.currentIndex() == 0
    panel.drift_item_combo.setCurrentIndex(panel.drift_item_combo.findData("troubleshooting"))
    assert panel.drift_chart.title().startswith("ICC(A,1) (headline)")
    points = panel.drift_chart.points()
    assert len(points) == len(drift.windows) >= 2
    for point, window in zip(points, drift.windows, strict=True):
        vc = window.items["troubleshooting"].icc_vc
        assert vc is not None
        expected = vc["ICC_A1"]
        if expected.value is None:
            assert point.value is None and point.why
            continue
        assert point.value == pytest.approx(expected.value, abs=1e-12)
        assert point.ci95 == expected.ci95
    assert any(p.ci95 is not None for p in points)
    assert "95 % confidence intervals" in panel.drift_caption.text()
    # Gwet's AC2 over the windows, with its intervals.
    panel.drift_stat_combo.setCurrentIndex(panel.drift_stat_combo.findText("Gwet AC2"))
    points = panel.drift_chart.points()
    for point, window in zip(points, drift.windows, strict=True):
        gwet = window.items["troubleshooting"].agreement_coefficients["gwet_ac2"]
        assert point.value == (None if gwet.value is None else pytest.approx(gwet.value))
        assert point.ci95 == (gwet.ci95 if gwet.value is not None else None)
    assert any(p.ci95 is not None for p in points)
    assert panel.drift_chart.title().startswith("Gwet AC2")

    # Pairs: the per-pair form of the headline (ICC(A,1) -> ICC(2,1)), its interval, and
    # kappa's interval beside kappa.
    panel.pair_item_combo.setCurrentIndex(panel.pair_item_combo.findData("troubleshooting"))
    model = panel.pairs_model
    headers = model.headers()
    form = pair_form("ICC_A1")
    assert form == "ICC2" and headers[2:4] == ["ICC(2,1)", "95 % CI"]
    assert headers[4:6] == ["κ quadratic", "κ 95 % CI"]
    assert headers[9:12] == ["Fleiss κ", "Gwet AC2", "Brennan-Prediger"]
    shown_ci = 0
    for row, pair in enumerate(data.pairs):
        stat = pair.items["troubleshooting"].icc[form]
        kappa = pair.items["troubleshooting"].kappa["quadratic"]
        assert model.data(model.index(row, 2), Qt.ItemDataRole.UserRole) == (
            None if stat.value is None else pytest.approx(stat.value)
        )
        if stat.value is not None and stat.ci95 is not None:
            assert model.data(model.index(row, 3)) == f"[{stat.ci95[0]:.2f}, {stat.ci95[1]:.2f}]"
            shown_ci += 1
        if kappa.value is not None and kappa.ci95 is not None:
            assert model.data(model.index(row, 5)) == f"[{kappa.ci95[0]:.2f}, {kappa.ci95[1]:.2f}]"
    assert shown_ci >= 1
    # The summary over pairs names each item's per-pair headline form.
    summary = panel.pair_summary_model
    assert summary.headers()[:2] == ["Item", "Form"]
    row = summary.keys().index("troubleshooting")
    assert summary.data(summary.index(row, 1)) == "ICC(2,1)"
    assert "ICC(A,1)" in summary.data(summary.index(row, 1), Qt.ItemDataRole.ToolTipRole)


def name_fits(table: QTableView, row: int) -> bool:
    """Whether the name in the first column shows whole (no elision): its text plus the
    style's text margins on both sides fit the column."""
    text = table.model().data(table.model().index(row, 0))
    margin = table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, table) + 1
    return table.fontMetrics().horizontalAdvance(text) + 2 * margin <= table.columnWidth(0)


def test_item_names_are_not_cut_at_1366x768(qtbot, app, runner, project) -> None:  # type: ignore[no-untyped-def]
    # As in the lead's window: the tab computes while another tab is on top.
    window = QTabWidget()
    qtbot.addWidget(window)
    window.addTab(QWidget(), "Progress")
    window.resize(1366, 768)
    window.show()
    panel = ReliabilityPanel(project, runner)
    window.addTab(panel, "Reliability")
    with qtbot.waitSignal(panel.results_shown, timeout=60_000):
        pass
    window.setCurrentWidget(panel)
    qtbot.waitExposed(panel)
    # The longest thabs item name (68 characters) shows whole beside 21 statistics.
    items = panel.items_table
    assert items.horizontalHeader().length() > items.viewport().width()  # it scrolls
    for row in range(items.model().rowCount()):
        assert name_fits(items, row), items.model().data(items.model().index(row, 0))
    panel.tabs.setCurrentIndex(panel.tabs.indexOf(panel.pairs_table.parentWidget()))
    for table in (panel.pairs_table, panel.pair_summary_table):
        for row in range(table.model().rowCount()):
            assert name_fits(table, row), table.model().data(table.model().index(row, 0))


def test_the_calibration_report_says_when_there_are_no_calibration_sessions(
    qtbot, app, runner, project
) -> None:  # type: ignore[no-untyped-def]
    panel = open_panel(qtbot, project, runner)
    tab = panel.tabs.indexOf(panel.calibration_page)
    with qtbot.waitSignal(panel.results_shown, timeout=60_000):
        qtbot.mouseClick(panel.training_check, Qt.MouseButton.LeftButton)
    assert panel.tabs.isTabVisible(tab)
    assert "No calibration session" in panel.calibration_label.text()
    assert "Training sessions" in panel.calibration_label.text()
    model = panel.calibration_model
    assert model.rowCount() > 0
    assert all(model.data(model.index(r, 1)) == NOT_DEFINED for r in range(model.rowCount()))
