"""One change broadcast for the lead's window: each mutation is announced once, and only
the tabs that show what it changed read the project again.

The lead window is built on a real project (10 sessions, raters A/B/C, 8 double-coded,
everything submitted). A runner that notes the ``latest`` key of every read tells which
tab asked for fresh data when the change was announced: the tabs ask synchronously, in
their ``changed`` handlers, so the answer does not depend on timing.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Hashable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from coder.certification import set_override
from coder.changes import OpChanges
from coder.store.project import Project
from coder.synth import synthesize_session
from tests.ui.test_reliability_panel import Study, build_study
from ui.discrepancy_view import HEADERS, ConsensusDialog
from ui.lead_window import LeadWindow
from ui.tasks import TaskRunner

CONSENSUS_COLUMN = HEADERS.index("Consensus")
TIMEOUT = 30_000


class RecordingRunner(TaskRunner):
    """A TaskRunner that notes the ``latest`` key of every read it is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[Hashable] = []

    def submit(self, fn: Any, *args: Any, latest: Hashable | None = None, **kwargs: Any) -> Any:
        if latest is not None:
            self.asked.append(latest)
        return super().submit(fn, *args, latest=latest, **kwargs)

    def read(self, fn: Any, *args: Any, latest: Hashable | None = None, **kwargs: Any) -> Any:
        if latest is not None:
            self.asked.append(latest)
        return super().read(fn, *args, latest=latest, **kwargs)


class Lead:
    """The lead window, and every change announced with the tabs that asked for data."""

    def __init__(self, window: LeadWindow, runner: RecordingRunner) -> None:
        self.window = window
        self.runner = runner
        self.announced: list[tuple[OpChanges, set[str]]] = []
        self._names = {
            id(window.progress_tab): "progress",
            id(window.plan_panel): "plans",
            id(window.reliability_panel): "reliability",
            id(window.reliability_panel.discrepancy_view): "discrepancies",
            id(window.certification_tab): "certification",
            id(window.exports_tab): "exports",
            id(window.pools_tab): "pools",
            id(window.packages_tab): "packages",
            id(window.prepared_fields_tab): "prepared_fields",
        }
        # Connected after every tab: it runs once they have all handled the change.
        runner.changed.connect(self._on_changed)

    def _on_changed(self, changes: OpChanges) -> None:
        asked = {self._names.get(id(key[0]), repr(key)) for key in self.runner.asked}
        self.announced.append((changes, asked))
        self.runner.asked.clear()


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Study:
    return build_study(tmp_path_factory.mktemp("broadcast") / "study.scproj")


@pytest.fixture
def project(study: Study, tmp_path: Path) -> Iterator[Project]:
    """A fresh copy of the study: the tests change it."""
    copy = tmp_path / study.path.name
    shutil.copy2(study.path, copy)
    with Project.open(copy) as project:
        yield project


@pytest.fixture
def lead(qtbot, app, project: Project) -> Iterator[Lead]:  # type: ignore[no-untyped-def]
    runner = RecordingRunner()
    window = LeadWindow(project, runner)
    qtbot.addWidget(window)
    tabs = (window.progress_tab, window.plan_panel, window.reliability_panel)
    with qtbot.waitSignals(
        [
            tabs[0].loaded,
            tabs[1].state_loaded,
            tabs[2].results_shown,
            window.certification_tab.status_shown,
        ],
        timeout=TIMEOUT,
    ):
        window.resize(1366, 768)
        window.show()
    qtbot.waitExposed(window)
    runner.asked.clear()
    yield Lead(window, runner)
    window.close()
    runner.wait_for_writes()
    runner.shutdown()


def _certification_state(lead: Lead, rater: str) -> str:
    model = lead.window.certification_tab.model
    return next(str(model.row(r)[1]) for r in range(model.rowCount()) if model.row(r)[0] == rater)


def test_a_consensus_refreshes_the_discrepancy_list_and_no_other_tab(
    qtbot, lead: Lead, dialogs
) -> None:  # type: ignore[no-untyped-def]
    reliability = lead.window.reliability_panel
    view = reliability.discrepancy_view
    lead.window.tabs.setCurrentWidget(reliability)
    reliability.tabs.setCurrentWidget(view)
    view.table.selectRow(0)
    d = view.current()
    assert d is not None and view.model.row(0)[CONSENSUS_COLUMN] is None
    qtbot.mouseClick(view.consensus_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(isinstance(x, ConsensusDialog) for x in dialogs))
    dialog = next(x for x in dialogs if isinstance(x, ConsensusDialog))
    dialog.value_spin.setValue(3)
    qtbot.keyClicks(dialog.reason_edit, "agreed after listening again")
    with qtbot.waitSignal(view.consensus_recorded, timeout=TIMEOUT):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert lead.announced == [(OpChanges(consensus=True), {"discrepancies"})]
    qtbot.waitUntil(lambda: view.model.row(0)[CONSENSUS_COLUMN] == 3, timeout=TIMEOUT)


def test_a_certification_override_refreshes_the_certification_tab_only(
    qtbot, lead: Lead, project: Project
) -> None:  # type: ignore[no-untyped-def]
    # The window has no control for overrides yet (the CLI sets them); the mutation runs
    # through the same door a control would use.
    assert "by the lead" not in _certification_state(lead, "A")
    with qtbot.waitSignal(lead.window.certification_tab.status_shown, timeout=TIMEOUT):
        lead.runner.run_op(set_override, project, "thabs", "A", False, reason="drifted")
    assert lead.announced == [(OpChanges(certification=True), {"certification"})]
    assert _certification_state(lead, "A").endswith("(held back by the lead)")


def test_allowing_reopening_refreshes_every_tab_that_shows_codings(
    qtbot, lead: Lead, project: Project
) -> None:  # type: ignore[no-untyped-def]
    window = lead.window
    progress = window.progress_tab
    progress.finished_table.selectRow(0)
    coding = progress.finished.payload(0)
    with qtbot.waitSignals(
        [
            progress.loaded,
            window.plan_panel.state_loaded,
            window.reliability_panel.results_shown,
            window.certification_tab.status_shown,
        ],
        timeout=TIMEOUT,
    ):
        qtbot.mouseClick(progress.reopen_button, Qt.MouseButton.LeftButton)
    assert lead.announced == [
        (OpChanges(codings=True), {"progress", "plans", "reliability", "certification"})
    ]
    qtbot.waitUntil(lambda: "can now change" in progress.reopen_status.text())
    view = project.rater_view(coding.rater)
    assert view.coding(coding.coding_id).reopen_allowed


def test_marking_a_training_session_changes_what_the_reliability_tab_shows(
    qtbot, lead: Lead, project: Project, study: Study
) -> None:  # type: ignore[no-untyped-def]
    reliability = lead.window.reliability_panel
    assert reliability.data is not None and reliability.data.n_double_coded == 8
    double = sorted(k for k, coders in study.coders.items() if len(coders) == 2)
    with qtbot.waitSignals(
        [reliability.results_shown, lead.window.progress_tab.loaded], timeout=TIMEOUT
    ):
        lead.runner.run_op(project.set_training, [double[0]])
    assert lead.announced == [
        (
            OpChanges(sessions=True),
            {"progress", "plans", "reliability", "certification", "prepared_fields"},
        )
    ]
    assert reliability.data.n_double_coded == 7
    assert "7 double-coded sessions" in reliability.status_label.text()


def test_saving_a_plan_refreshes_progress_and_plans_but_not_reliability(
    qtbot, lead: Lead, dialogs
) -> None:  # type: ignore[no-untyped-def]
    panel = lead.window.plan_panel
    lead.window.tabs.setCurrentWidget(panel)
    assert "Plan in force" in panel.result_title.text()
    panel.seed_spin.setValue(77)
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(isinstance(x, QMessageBox) for x in dialogs))
    box = next(x for x in dialogs if isinstance(x, QMessageBox))
    replace = next(b for b in box.buttons() if b.text() == "Replace plan")
    with qtbot.waitSignals(
        [panel.plan_saved, panel.state_loaded, lead.window.progress_tab.loaded], timeout=TIMEOUT
    ):
        qtbot.mouseClick(replace, Qt.MouseButton.LeftButton)
    assert lead.announced == [(OpChanges(plan=True, assignments=True), {"progress", "plans"})]
    assert "Plan saved" in panel.result_title.text()


def test_an_import_refreshes_the_tabs_that_show_sessions(qtbot, lead: Lead, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    audio = tmp_path / "audio"
    audio.mkdir()
    synthesize_session(audio / "new.wav", 2.0, seed=3)
    manifest = tmp_path / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["session_id", "audio", "patient", "therapist", "session_number"])
        writer.writerow(["S11", "audio/new.wav", "P9", "T1", "3"])
    progress = lead.window.progress_tab
    assert "10 sessions" in progress.summary.text()
    progress.import_button.click()
    dialog = progress.import_dialog
    assert dialog is not None
    with qtbot.waitSignals([dialog.import_finished, progress.loaded], timeout=TIMEOUT):
        dialog.start(str(manifest))
    assert lead.announced == [
        (
            OpChanges(sessions=True),
            {"progress", "plans", "reliability", "certification", "prepared_fields"},
        )
    ]
    assert "11 sessions" in progress.summary.text()
    dialog.reject()
