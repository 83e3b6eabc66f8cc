"""The lead's Plans tab: inputs, preview in a worker, the heat-map, saving, progress."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select

from coder.discrepancies import pair_matrix
from coder.planning import PlanRequest, make_plan, plan_and_save
from coder.scales import load_builtin_scale
from coder.store.models import PlanRow
from coder.store.project import Project
from tests.factories import add_plain_sessions, session
from ui.pair_matrix_view import PairMatrixView
from ui.plan_panel import PlanPanel, parse_session_numbers, relaxed_sentence
from ui.tasks import TaskRunner


def make_project(path: Path, *, sessions: int, raters: tuple[str, ...]) -> Project:
    project = Project.create(path)
    project.add_scale(load_builtin_scale("thabs"))
    project.add_scale(load_builtin_scale("resistance"))
    project.add_raters(raters)
    add_plain_sessions(
        project,
        [
            session(
                f"S{i:02d}",
                patient=f"P{i // 4}",
                therapist=f"T{i % 2}",
                session_number=i % 3 + 1,
                phase="I" if i % 3 == 0 else "II",
            )
            for i in range(sessions)
        ],
    )
    return project


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    project = make_project(tmp_path / "p.scproj", sessions=16, raters=("A", "B", "C", "D"))
    yield project
    project.close()


def open_panel(qtbot, project: Project, runner: TaskRunner) -> PlanPanel:  # type: ignore[no-untyped-def]
    panel = PlanPanel(project, runner)
    qtbot.addWidget(panel)
    # Results come back through a queued signal, so connecting after the start is safe.
    with qtbot.waitSignal(panel.state_loaded, timeout=10_000):
        pass
    panel.resize(1366, 768)
    panel.show()
    return panel


def type_into_spin(qtbot, spin, text: str) -> None:  # type: ignore[no-untyped-def]
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, Qt.Key.Key_Tab)


def test_preview_shows_the_plans_loads_pairs_and_strata(qtbot, app, runner, project) -> None:  # type: ignore[no-untyped-def]
    panel = open_panel(qtbot, project, runner)
    assert panel.current_scale_id() == "thabs"
    assert "No plan stored" in panel.result_title.text()
    # Leave rater D out (Space toggles the current item's check box).
    panel.rater_list.setFocus()
    panel.rater_list.setCurrentRow(3)
    qtbot.keyClick(panel.rater_list, Qt.Key.Key_Space)
    type_into_spin(qtbot, panel.double_spin, "50")
    for key in ("therapist", "phase"):
        check = panel.strata_checks[key]  # a click counts on the box or its text only
        qtbot.mouseClick(check, Qt.MouseButton.LeftButton, pos=QPoint(8, check.height() // 2))
    type_into_spin(qtbot, panel.seed_spin, "11")
    request = panel.request()
    assert request == PlanRequest("thabs", ("A", "B", "C"), 0.5, ("therapist", "phase"), 11)

    with qtbot.waitSignal(panel.preview_shown, timeout=10_000):
        qtbot.mouseClick(panel.preview_button, Qt.MouseButton.LeftButton)
    expected = make_plan(project, request).summary()
    assert "Preview" in panel.result_title.text()
    loads = {panel.loads_model.row(r)[0]: panel.loads_model.row(r)[1] for r in range(3)}
    assert panel.loads_model.rowCount() == 3
    assert loads == expected.loads
    assert sum(loads.values()) == 16 + expected.double_coded == 16 + 8
    # The heat-map holds the symmetric pair matrix of the summary.
    assert panel.pair_view.raters() == ["A", "B", "C"]
    assert panel.pair_view.matrix() == pair_matrix(
        ["A", "B", "C"], [p.as_dict() for p in expected.pair_counts]
    )
    assert panel.pair_view.count("A", "B") == panel.pair_view.count("B", "A")
    assert sum(sum(row) for row in panel.pair_view.matrix()) == 2 * 8
    strata = {panel.strata_model.row(r)[0]: panel.strata_model.row(r)[1:] for r in range(4)}
    assert strata == {
        label.replace("|", " · "): (v.sessions, v.double_coded)
        for label, v in expected.strata.items()
    }
    assert "All guarantees hold" in panel.relaxed_label.text()
    assert project.status().codings == 0  # a preview stores nothing

    with qtbot.waitSignal(panel.state_loaded, timeout=10_000):
        qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    status = project.status()
    assert status.by_scale["thabs"]["not_started"] == 24
    assert {r: c["not_started"] for r, c in status.by_rater.items()} == expected.loads
    assert "Plan saved" in panel.result_title.text()
    progress = {panel.progress_model.row(r)[0]: panel.progress_model.row(r) for r in range(3)}
    assert progress["A"] == ("A", loads["A"], 0, 0, 0, loads["A"])


def test_a_stored_plan_fills_the_inputs_and_replacing_it_asks(  # type: ignore[no-untyped-def]
    qtbot, app, runner, project, dialogs
) -> None:
    request = PlanRequest("thabs", ("A", "B", "C", "D"), 5, ("patient",), seed=4)
    plan, _ = plan_and_save(project, request)
    view = project.rater_view("A")
    started = view.queue()[0]
    view.set_value(started.coding_id, "praise", 3)
    panel = open_panel(qtbot, project, runner)
    assert "Plan in force" in panel.result_title.text()
    assert panel.request() == request
    assert panel.double_unit.currentText() == "sessions"
    assert panel.pair_view.matrix() == pair_matrix(
        ["A", "B", "C", "D"], [p.as_dict() for p in plan.summary().pair_counts]
    )
    progress = {panel.progress_model.row(r)[0]: panel.progress_model.row(r) for r in range(4)}
    assert progress["A"][2] == 1  # in progress

    type_into_spin(qtbot, panel.seed_spin, "99")
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(dialogs))
    box = dialogs[-1]
    assert isinstance(box, QMessageBox) and "Replace the plan" in box.text()
    replace = next(b for b in box.buttons() if b.text() == "Replace plan")
    with qtbot.waitSignal(panel.plan_saved, timeout=10_000):
        qtbot.mouseClick(replace, Qt.MouseButton.LeftButton)
    # The started coding stayed with its rater.
    assert any(q.coding_id == started.coding_id for q in view.queue())
    with project.store.read() as s:
        active = s.scalars(select(PlanRow).where(PlanRow.active.is_(True))).all()
    assert len(active) == 1 and '"seed": 99' in active[0].params_json


def test_relaxed_guarantees_are_plain_sentences(qtbot, app, runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = make_project(tmp_path / "small.scproj", sessions=3, raters=("A", "B", "C", "D", "E"))
    try:
        panel = open_panel(qtbot, project, runner)
        with qtbot.waitSignal(panel.preview_shown, timeout=10_000):
            qtbot.mouseClick(panel.preview_button, Qt.MouseButton.LeftButton)
        sentences = panel.relaxed_sentences()
        assert sentences, "3 sessions for 5 raters cannot keep every guarantee"
        reasons = make_plan(project, panel.request()).summary().relaxed
        assert len(sentences) == len(reasons)
        text = panel.relaxed_label.text()
        assert "could not keep" in text
        assert "Coverage:" in text and "never double-code a session together" in text
        assert all(s.endswith(".") for s in sentences)
        assert panel.loads_model.rowCount() == 5
        assert min(panel.loads_model.row(r)[1] for r in range(5)) == 0
    finally:
        project.close()


def test_bad_inputs_are_said_next_to_the_inputs(qtbot, app, runner, project) -> None:  # type: ignore[no-untyped-def]
    panel = open_panel(qtbot, project, runner)
    qtbot.keyClicks(panel.session_numbers_edit, "2-x")
    qtbot.mouseClick(panel.preview_button, Qt.MouseButton.LeftButton)
    assert "not a number or a range" in panel.input_problem.text()
    panel.session_numbers_edit.clear()
    qtbot.keyClicks(panel.training_edit, "S99")
    qtbot.mouseClick(panel.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "S99" in panel.input_problem.text(), timeout=10_000)
    assert project.status().codings == 0


def test_inputs_parse_like_the_cli() -> None:
    assert parse_session_numbers("2, 3") == (2, 3)
    assert parse_session_numbers("2-4 7") == (2, 3, 4, 7)
    assert parse_session_numbers("") == ()
    assert relaxed_sentence("loads: two raters have one more") == (
        "Loads",
        "Two raters have one more.",
    )
    assert relaxed_sentence("certification: R1 not certified on thabs") == (
        "Certification",
        "R1 not certified on thabs.",
    )
    assert relaxed_sentence("Something else: entirely") == ("", "Something else: entirely.")


def test_heat_map_colours_deepen_with_the_count(qtbot, app) -> None:  # type: ignore[no-untyped-def]
    view = PairMatrixView()
    qtbot.addWidget(view)
    view.set_pairs(
        ["A", "B", "C"],
        [
            {"raters": ["A", "B"], "count": 3},
            {"raters": ["A", "C"], "count": 1},
            {"raters": ["B", "C"], "count": 0},
        ],
    )
    assert view.matrix() == [[0, 3, 1], [3, 0, 0], [1, 0, 0]]
    dark, mid, light = (
        view.cell_color("A", "B"),
        view.cell_color("A", "C"),
        view.cell_color("B", "C"),
    )
    assert dark.lightnessF() < mid.lightnessF() < light.lightnessF()
    view.resize(300, 200)
    image = view.grab().toImage()
    assert not image.isNull()


def test_the_lead_is_warned_of_placeholder_anchors_and_our_wording(
    qtbot,  # type: ignore[no-untyped-def]
    project: Project,
    runner: TaskRunner,
) -> None:
    panel = open_panel(qtbot, project, runner)
    assert panel.current_scale_id() == "thabs"
    text = panel.scale_notes.text()
    assert panel.scale_notes.isVisible()
    assert "placeholder anchor texts for value(s) 1, 2, 3" in text
    assert "Rule of ours" in text and "Review and praise score 0" in text
    # Another scale shows its own notes: resistance reports the paper's one-way ICC.
    with qtbot.waitSignal(panel.state_loaded, timeout=10_000):
        panel.scale_combo.setCurrentIndex(panel.scale_combo.findData("resistance"))
    assert "Reported ICC form ICC1: as the source reports it" in panel.scale_notes.text()


def test_recode_box_plans_older_version_sessions_again(
    qtbot,  # type: ignore[no-untyped-def]
    project: Project,
    runner: TaskRunner,
) -> None:
    plan_and_save(project, PlanRequest("thabs", ("A", "B"), 0.25, (), seed=2))
    view = project.rater_view("A")
    entry = next(e for e in view.queue() if e.scale_id == "thabs")
    for item in ("specification", "rationale", "troubleshooting", "review", "praise"):
        view.set_value(entry.coding_id, item, 2)
    view.set_value(entry.coding_id, "duration", 10)
    view.submit(entry.coding_id)
    v2 = load_builtin_scale("thabs").source.replace("\nversion: 1\n", "\nversion: 2\n")
    from coder.scales import parse_scale

    project.add_scale(parse_scale(v2))
    panel = open_panel(qtbot, project, runner)
    assert not panel.recode_check.isChecked()
    assert not panel.request().recode
    with qtbot.waitSignal(panel.preview_shown, timeout=10_000):
        qtbot.mouseClick(panel.preview_button, Qt.MouseButton.LeftButton)
    assert "stay on that version" in panel.relaxed_label.text()
    check = panel.recode_check
    qtbot.mouseClick(check, Qt.MouseButton.LeftButton, pos=QPoint(8, check.height() // 2))
    assert panel.request().recode
    with qtbot.waitSignal(panel.preview_shown, timeout=10_000):
        qtbot.mouseClick(panel.preview_button, Qt.MouseButton.LeftButton)
    assert "Re-code" in panel.relaxed_label.text()
    assert "planned again under version 2" in panel.relaxed_label.text()


def _header_fits(table) -> list[str]:  # type: ignore[no-untyped-def]
    """The headers of a table whose text is wider than their section (clipped)."""
    header = table.horizontalHeader()
    metrics = QFontMetrics(header.font())
    clipped = []
    model = table.model()
    for column in range(model.columnCount()):
        text = str(model.headerData(column, Qt.Orientation.Horizontal))
        widest = max(metrics.horizontalAdvance(line) for line in text.split("\n"))
        # 8 px: the header's own margins either side of the text.
        if widest + 8 > header.sectionSize(column):
            clipped.append(text)
    return clipped


def test_at_1366x768_no_progress_header_is_clipped_and_the_keep_apart_list_is_tall(  # type: ignore[no-untyped-def]
    qtbot, app, runner, project
) -> None:
    font = app.font()
    font.setPointSizeF(font.pointSizeF() * 1.5)  # a desktop with a large font
    app.setFont(font)
    panel = open_panel(qtbot, project, runner)
    qtbot.waitUntil(lambda: panel.progress_table.isVisible())
    app.processEvents()
    clipped = _header_fits(panel.progress_table)
    if clipped:
        font.setPointSizeF(font.pointSizeF() / 1.5)
        app.setFont(font)
    assert clipped == []
    # Both other scales of the project would fit without scrolling, and at least five rows.
    rows = panel.exclude_list.sizeHintForRow(0)
    assert rows > 0
    try:
        assert panel.exclude_list.height() >= 5 * rows
    finally:
        font.setPointSizeF(font.pointSizeF() / 1.5)
        app.setFont(font)


def test_at_1366x768_the_progress_columns_fit_their_box_without_scrolling(  # type: ignore[no-untyped-def]
    qtbot, runner, project
) -> None:
    panel = open_panel(qtbot, project, runner)
    table = panel.progress_table
    qtbot.waitUntil(table.isVisible)
    header = table.horizontalHeader()
    # Every count column is visible at once and no header text is cut.
    qtbot.waitUntil(lambda: header.length() <= table.viewport().width() + 1)
    assert _header_fits(table) == []


def test_scales_ticked_to_plan_together_get_the_same_raters(qtbot, app, runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    project = make_project(tmp_path / "g.scproj", sessions=9, raters=("A", "B", "C"))
    try:
        project.add_scale(load_builtin_scale("ghes"))
        project.add_scale(load_builtin_scale("sthar"))
        panel = open_panel(qtbot, project, runner)
        with qtbot.waitSignal(panel.state_loaded, timeout=10_000):
            panel.scale_combo.setCurrentIndex(panel.scale_combo.findData("ghes"))
        assert panel.together_list.count() == 3  # thabs, resistance, sthar
        row = next(
            i
            for i in range(panel.together_list.count())
            if panel.together_list.item(i).text() == "sthar"
        )
        panel.together_list.setFocus()
        panel.together_list.setCurrentRow(row)
        qtbot.keyClick(panel.together_list, Qt.Key.Key_Space)
        request = panel.request()
        assert request.scale_ids == ("ghes", "sthar")
        with qtbot.waitSignal(panel.state_loaded, timeout=10_000):
            qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
        assert "ghes + sthar" in panel.result_title.text()
        # The same code path as the CLI: every session has the same raters on both scales.
        by_scale: dict[str, dict[str, set[str]]] = {"ghes": {}, "sthar": {}}
        for code in ("A", "B", "C"):
            for entry in project.rater_view(code).queue():
                by_scale[entry.scale_id].setdefault(entry.session_key, set()).add(code)
        assert by_scale["ghes"] == by_scale["sthar"] and len(by_scale["ghes"]) == 9
        # Shown for StHAR, the stored group plan ticks GHES.
        with qtbot.waitSignal(panel.state_loaded, timeout=10_000):
            panel.scale_combo.setCurrentIndex(panel.scale_combo.findData("sthar"))
        ticked = [
            panel.together_list.item(i).text()
            for i in range(panel.together_list.count())
            if panel.together_list.item(i).checkState() == Qt.CheckState.Checked
        ]
        assert ticked == ["ghes"]
    finally:
        project.close()
