"""The export dialog: options to files, work in the background, calm errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog

import ui.export_dialog as export_dialog_module
from coder.consensus import record_consensus
from coder.store.project import Project
from tests.exports._project import AUDIO_DIR, build_coded_project
from ui.export_dialog import ExportDialog


@pytest.fixture
def coded(tmp_path: Path) -> Iterator[Project]:
    project = build_coded_project(tmp_path / "study.scproj")
    yield project
    project.close()


@pytest.fixture
def dialog(qtbot, coded: Project, runner) -> ExportDialog:  # type: ignore[no-untyped-def]
    dialog = ExportDialog(coded, runner)
    qtbot.addWidget(dialog)
    # The scale list is read in a worker, never on the GUI thread.
    with qtbot.waitSignal(dialog.scales_loaded, timeout=10_000):
        pass
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def _type_path(qtbot, dialog: ExportDialog, path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog.path_edit.clear()
    qtbot.keyClicks(dialog.path_edit, str(path))


def _tick(qtbot, box) -> None:  # type: ignore[no-untyped-def]
    """Click a check box on its indicator (a wide box ignores clicks past its text)."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def _choose(box, key: str) -> None:  # type: ignore[no-untyped-def]
    box.setCurrentIndex(box.findData(key))


def test_defaults_are_pseudonymous_and_k_follows_its_checkbox(
    qtbot,
    dialog: ExportDialog,  # type: ignore[no-untyped-def]
) -> None:
    assert not dialog.audio_check.isChecked() and not dialog.metadata_check.isChecked()
    assert [dialog.format_box.itemData(i) for i in range(3)] == ["xlsx", "csv", "sav"]
    assert [dialog.final_box.itemData(i) for i in range(dialog.final_box.count())] == [
        "primary",
        "mean",
        "consensus",
    ]
    assert [dialog.scale_box.itemData(i) for i in range(3)] == [None, "thabs", "ghes"]
    assert dialog.path_edit.text().endswith("study_export.xlsx")
    assert not dialog.k_spin.isEnabled()
    _tick(qtbot, dialog.winsorize_check)
    assert dialog.k_spin.isEnabled() and dialog.k_spin.value() == 1.5
    _choose(dialog.format_box, "sav")
    assert dialog.path_edit.text().endswith("study_export.sav")
    request = dialog.request()
    assert (request.fmt, request.final, request.winsorize_iqr) == ("sav", "primary", 1.5)
    assert request.scale_ids is None
    assert request.descriptives_by == "scale"  # per session number only when ticked


def test_export_runs_in_the_background_and_reports_back(
    qtbot,
    dialog: ExportDialog,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    out = tmp_path / "out" / "lab.xlsx"
    out.parent.mkdir()
    _type_path(qtbot, dialog, out)
    seen: list[int] = []
    dialog.progress_bar.valueChanged.connect(seen.append)
    with qtbot.waitSignal(dialog.export_finished, timeout=30_000) as blocker:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
        assert not dialog.export_button.isEnabled()  # inputs locked while it runs
        assert dialog.close_button.text() == "Cancel"
    assert blocker.args == [[out]]
    assert openpyxl.load_workbook(out).sheetnames[0] == "README"
    assert dialog.progress_bar.value() == dialog.progress_bar.maximum()
    assert seen == sorted(seen) and len(seen) > 2
    assert "lab.xlsx" in dialog.status_label.text()
    assert dialog.export_button.isEnabled() and dialog.close_button.text() == "Close"
    assert AUDIO_DIR not in "".join(
        str(c.value) for ws in openpyxl.load_workbook(out) for row in ws.iter_rows() for c in row
    )


def test_options_reach_the_files(qtbot, dialog: ExportDialog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _choose(dialog.format_box, "csv")
    _choose(dialog.final_box, "mean")
    _choose(dialog.scale_box, "thabs")
    _tick(qtbot, dialog.winsorize_check)
    _tick(qtbot, dialog.patient_check)
    _tick(qtbot, dialog.by_session_check)
    _tick(qtbot, dialog.audio_check)
    _type_path(qtbot, dialog, tmp_path / "lab.csv")
    with qtbot.waitSignal(dialog.export_finished, timeout=30_000) as blocker:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    files = blocker.args[0]
    # The long table first, the README last, one scores/final/pairs file of the one scale.
    assert files[0] == tmp_path / "lab.csv" and files[-1] == tmp_path / "lab_README.txt"
    names = {f.name for f in files}
    assert {"lab_scores_thabs.csv", "lab_final_thabs.csv", "lab_pairs_thabs.csv"} <= names
    assert not any("ghes" in name for name in names)
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".csv", ".txt")) == sorted(
        names
    )
    final = pd.read_csv(tmp_path / "lab_final_thabs.csv")
    assert set(final["scale_id"]) == {"thabs"}
    assert not (tmp_path / "lab_final_ghes.csv").exists()
    s01 = final[final["session_id"] == "S01"].iloc[0]
    assert s01["thabs_rationale"] == 2.5 and s01["final_source"] == "mean of R1, R2"
    assert final["audio_path"].str.startswith(AUDIO_DIR).all()
    desc = pd.read_csv(tmp_path / "lab_descriptives.csv")
    assert desc["winsorize_k"].eq(1.5).all()
    patients = pd.read_csv(tmp_path / "lab_patients.csv")  # the layout box ticked
    assert patients.loc[patients["patient"] == "P1", "thabs_rationale_s2"].tolist() == [2.5]
    # The per-session-number descriptives box ticked: its table, with the same K.
    by_session = pd.read_csv(tmp_path / "lab_descriptives_by_session.csv")
    assert set(by_session["scale_id"]) == {"thabs"}
    assert by_session["fence_k"].eq(1.5).all()
    assert "more files beside it" in dialog.status_label.text()


def test_errors_are_shown_calmly(qtbot, dialog: ExportDialog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog.path_edit.clear()
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert dialog.status_label.text() == "Choose where to save the export first."
    assert not dialog.running

    _type_path(qtbot, dialog, tmp_path / "no such folder" / "lab.xlsx")
    with qtbot.waitSignal(dialog.export_failed, timeout=30_000) as blocker:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    message = blocker.args[0]
    assert message.startswith("The folder") and "does not exist" in message
    assert dialog.status_label.text() == message
    assert "Traceback" not in message and "Error" not in message
    assert dialog.export_button.isEnabled() and dialog.progress_bar.value() == 0


def test_cancel_stops_the_export_and_writes_nothing(
    qtbot,
    dialog: ExportDialog,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    real_build = export_dialog_module.build_export_bundle
    started = threading.Event()

    def slow_build(project, **kwargs):  # type: ignore[no-untyped-def]
        # Hold the worker until the user has pressed Cancel, then build for real
        # (which then stops at its first check).
        started.set()
        for _ in range(1000):
            if kwargs["cancelled"]():
                break
            threading.Event().wait(0.01)
        return real_build(project, **kwargs)

    monkeypatch.setattr(export_dialog_module, "build_export_bundle", slow_build)
    _type_path(qtbot, dialog, tmp_path / "lab.xlsx")
    with qtbot.waitSignal(dialog.export_cancelled, timeout=30_000):
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(started.is_set)
        qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
        assert dialog.isVisible()  # Cancel stops the export; it does not close
    assert "cancelled" in dialog.status_label.text()
    assert list(tmp_path.glob("lab*")) == [] and list(tmp_path.glob(".*partial")) == []
    assert dialog.close_button.text() == "Close"


def test_choose_button_fills_in_the_path(
    qtbot, dialog: ExportDialog, dialogs, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(dialog.browse_button, Qt.MouseButton.LeftButton)
    chooser = next(d for d in dialogs if isinstance(d, QFileDialog))
    assert chooser.acceptMode() == QFileDialog.AcceptMode.AcceptSave
    chooser.fileSelected.emit(str(tmp_path / "chosen"))
    assert dialog.path_edit.text() == str(tmp_path / "chosen.xlsx")
    chooser.reject()


def test_consensus_final_uses_the_recorded_consensus(
    qtbot, dialog: ExportDialog, coded: Project, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    record_consensus(coded, "thabs", "S01", "rationale", 3, "agreed after listening again")
    _choose(dialog.format_box, "csv")
    _choose(dialog.final_box, "consensus")
    _choose(dialog.scale_box, "thabs")
    _type_path(qtbot, dialog, tmp_path / "lab.csv")
    assert dialog.request().final == "consensus"
    with qtbot.waitSignal(dialog.export_finished, timeout=30_000):
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    final = pd.read_csv(tmp_path / "lab_final_thabs.csv")
    s01 = final[final["session_id"] == "S01"].iloc[0]
    assert s01["thabs_rationale"] == 3.0 and s01["thabs_specification"] == 3.0
    assert s01["final_source"].startswith("consensus on rationale")
