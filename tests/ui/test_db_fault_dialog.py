"""The GUI shows a database fault as the same calm sentence as the CLI (issue 9, item 7)."""

from __future__ import annotations

from pathlib import Path

import shiboken6
from PySide6.QtWidgets import QMessageBox

from coder.store.project import Project
from ui.app import AppController
from ui.settings import AppSettings


def _overwrite_a_page(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[3 * 4096 : 3 * 4096 + 2000] = bytes((i * 37 + 11) % 256 for i in range(2000))
    path.write_bytes(bytes(data))


def test_a_damaged_project_opens_to_one_calm_sentence(qtbot, dialogs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "lab.scproj"
    with Project.create(path) as project:
        project.add_raters(["R1", "R2"])
    _overwrite_a_page(path)
    before = path.read_bytes()
    controller = AppController(AppSettings())
    qtbot.addWidget(controller.start_window)
    try:
        controller.start(path)

        def boxes() -> list[QMessageBox]:
            return [d for d in dialogs if shiboken6.isValid(d) and isinstance(d, QMessageBox)]

        qtbot.waitUntil(lambda: bool(boxes()), timeout=10_000)
        box = boxes()[0]
        assert box.windowTitle() == "Cannot open the project"
        assert "is damaged" in box.text() and "restore it from a backup" in box.text()
        assert "Something unexpected" not in box.text() and "sqlite" not in box.text().lower()
        assert path.read_bytes() == before
    finally:
        controller.shutdown()
