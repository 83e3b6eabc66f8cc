"""Importing a manifest from the lead's window: progress, problems, cancel."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

from coder.store.project import Project
from coder.synth import synthesize_session
from ui.import_dialog import ImportDialog


def _manifest(folder: Path, n: int) -> Path:
    audio = folder / "audio"
    audio.mkdir(parents=True)
    rows = []
    for i in range(n):
        synthesize_session(audio / f"s{i}.wav", 2.0, seed=i)
        rows.append(
            {
                "session_id": f"S{i}",
                "audio": f"audio/s{i}.wav",
                "patient": "P1",
                "therapist": "T1",
                "session_number": "1",
                "phase": "",
                "date": "",
            }
        )
    rows.append(
        {
            "session_id": "S0",
            "audio": "audio/s0.wav",
            "patient": "P1",
            "therapist": "T1",
            "session_number": "2",
            "phase": "",
            "date": "",
        }
    )
    path = folder / "manifest.csv"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_import_runs_in_the_background_and_lists_problems(qtbot, runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    manifest = _manifest(tmp_path / "lab", 3)
    with Project.create(tmp_path / "p.scproj") as project:
        dialog = ImportDialog(project, runner)
        qtbot.addWidget(dialog)
        with qtbot.waitSignal(dialog.import_finished, timeout=20_000) as finished:
            dialog.start(str(manifest))
        report = finished.args[0]
        assert report.added == 3
        assert "line 5 (S0): not imported: duplicate session_id" in dialog.report.toPlainText()
        assert dialog.progress.value() == 1000
        assert [s.key for s in project.sessions()] == ["S0", "S1", "S2"]


def test_cancel_writes_nothing_and_says_so(qtbot, runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDialogButtonBox

    manifest = _manifest(tmp_path / "lab", 3)
    with Project.create(tmp_path / "p.scproj") as project:
        dialog = ImportDialog(project, runner)
        qtbot.addWidget(dialog)
        dialog.show()
        cancel = dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        # The storage worker is held until Cancel is clicked, so the import cannot
        # finish first on a fast machine: the click always lands while it is queued.
        release = threading.Event()
        runner.write(release.wait)
        with qtbot.waitSignal(dialog.import_finished, timeout=20_000) as finished:
            dialog.start(str(manifest))
            qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
            release.set()
        assert finished.args[0].cancelled
        assert dialog.isVisible()  # Cancel while running stops the import, not the dialog
        # Every good row is written in one transaction at the end: a cancel writes none.
        assert project.sessions() == []
        assert "cancelled" in dialog.status.text()
        assert "nothing was imported" in dialog.status.text()


def test_the_import_writes_only_through_the_runners_storage_worker(
    qtbot, runner, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """One writer: the import's writes run in the runner's storage worker, in order."""
    import threading

    import sqlalchemy

    manifest = _manifest(tmp_path / "lab", 3)
    writers: set[str] = set()

    def record(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writers.add(threading.current_thread().name)

    with Project.create(tmp_path / "p.scproj") as project:
        storage_thread = runner.read(lambda: threading.current_thread().name).result()
        dialog = ImportDialog(project, runner)
        qtbot.addWidget(dialog)
        progress: list[int] = []
        dialog.progress.valueChanged.connect(progress.append)
        sqlalchemy.event.listen(sqlalchemy.Engine, "before_cursor_execute", record)
        try:
            with qtbot.waitSignal(dialog.import_finished, timeout=20_000):
                dialog.start(str(manifest))
                assert runner.pending_writes == 1  # queued as a write of the runner
        finally:
            sqlalchemy.event.remove(sqlalchemy.Engine, "before_cursor_execute", record)
        assert writers == {storage_thread}
        assert progress == sorted(progress) and len(progress) >= 2 and progress[-1] == 1000
        assert runner.pending_writes == 0 and runner.writes_done == 1
