"""A test-only entry: the real app opens every file dialog on the project's folder.

``python -m tests.ui.dialogs_app PROJECT CODING_ID`` starts the app on PROJECT the way
``session-coder gui`` does, then opens each file dialog the app has: the start window's
"Open project…" (projects and rater packages), the export's "Choose…", the import's
"Choose manifest…" and the workstation's "find the recording". Each is pointed at the
project's folder, left until it has listed it (types and icons included), and
cancelled. It prints ``DIALOGS DONE`` and waits for a line on stdin (meanwhile the test
lets another process open and close the database); then it scores R1's coding with the
key script of :mod:`tests.ui.smoke_app`, printing ``ACK n`` per committed write (or
``FAILED message``), then ``DONE``, and idles until it is killed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSocketNotifier, Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QFileDialog, QFileSystemModel  # noqa: E402

from tests.ui.smoke_app import SCRIPT, _say  # noqa: E402
from ui.app import AppController, make_application  # noqa: E402
from ui.dialogs import dialog_hub  # noqa: E402
from ui.export_dialog import ExportDialog  # noqa: E402
from ui.import_dialog import ImportDialog  # noqa: E402


def when(condition: Callable[[], bool], then: Callable[[], None]) -> None:
    """Call ``then`` once ``condition()`` holds (polled by the event loop)."""

    def poll() -> None:
        if condition():
            then()
        else:
            QTimer.singleShot(10, poll)

    poll()


def main(argv: list[str]) -> int:
    project_path, coding_id = Path(argv[0]).resolve(), int(argv[1])
    folder = str(project_path.parent)
    app = make_application()
    controller = AppController()
    app.aboutToQuit.connect(controller.shutdown)
    controller.start(project_path)
    opened: list[QFileDialog] = []
    dialog_hub().dialog_opened.connect(
        lambda d: opened.append(d) if isinstance(d, QFileDialog) else None
    )
    keep: list[object] = []  # dialogs of the lead, alive while their file dialog is open

    def listed(dialog: QFileDialog) -> bool:
        """The dialog shows the project's folder, with every row's type and icon asked for."""
        model = dialog.findChild(QFileSystemModel)
        if model is None:
            return False
        root = model.index(folder)
        if model.rowCount(root) == 0:
            return False
        for row in range(model.rowCount(root)):
            model.data(model.index(row, 0, root), Qt.ItemDataRole.DecorationRole)
            if not model.data(model.index(row, 2, root)):
                return False
        return True

    def cancel_when_listed(then: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            dialog = opened[-1]
            dialog.setDirectory(folder)  # the rater browses to the project's folder
            # Every file of the folder, whatever the dialog's filter shows.
            dialog.setNameFilter("All files (*)")

            def cancel() -> None:
                dialog.reject()
                _say(f"CANCELLED {dialog.windowTitle()}")
                then()

            when(lambda: listed(dialog), cancel)

        return run

    def open_and_cancel(open_dialog: Callable[[], None], then: Callable[[], None]) -> None:
        before = len(opened)
        open_dialog()
        when(lambda: len(opened) > before, cancel_when_listed(then))

    # 1. the start window: "Open project…" (projects and rater packages)
    def start_window() -> None:
        open_and_cancel(
            lambda: QTest.mouseClick(
                controller.start_window.open_button, Qt.MouseButton.LeftButton
            ),
            export,
        )

    # 2. Export ▸ Choose…
    def export() -> None:
        assert controller.project is not None
        dialog = ExportDialog(controller.project, controller.runner)
        keep.append(dialog)
        dialog.show()
        open_and_cancel(
            lambda: QTest.mouseClick(dialog.browse_button, Qt.MouseButton.LeftButton),
            manifest,
        )

    # 3. Import ▸ Choose manifest…
    def manifest() -> None:
        assert controller.project is not None
        dialog = ImportDialog(controller.project, controller.runner)
        keep.append(dialog)
        dialog.show()
        open_and_cancel(
            lambda: QTest.mouseClick(dialog.choose_button, Qt.MouseButton.LeftButton),
            workstation,
        )

    # 4. the rater's workstation: find the recording
    def workstation() -> None:
        for dialog in keep:
            dialog.close()  # type: ignore[attr-defined]
        controller.choose_identity("R1")
        when(lambda: controller.view is not None, open_coding)

    def open_coding() -> None:
        controller.open_coding(coding_id)
        when(loaded, locate)

    def loaded() -> bool:
        window = controller.coding_window
        return window is not None and window.player.is_loaded and window.waveform.has_peaks()

    def locate() -> None:
        window = controller.coding_window
        assert window is not None
        open_and_cancel(window.locate_audio, dialogs_done)

    def dialogs_done() -> None:
        _say("DIALOGS DONE")
        notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
        keep.append(notifier)

        def go() -> None:
            notifier.setEnabled(False)
            sys.stdin.readline()
            code()

        notifier.activated.connect(go)

    def code() -> None:
        window = controller.coding_window
        assert window is not None
        runner = controller.runner
        runner.write_committed.connect(lambda n: _say(f"ACK {n}"))
        runner.write_failed.connect(lambda e: _say(f"FAILED {e}"))
        steps = list(SCRIPT)

        def next_step() -> None:
            if not steps:
                _say("DONE")
                return
            keys, writes = steps.pop(0)
            _say(
                f"STEP {len(SCRIPT) - len(steps)} at {runner.writes_done} focus {type(QApplication.focusWidget()).__name__}"
            )
            target = runner.writes_done + writes
            for key in keys:
                focus = QApplication.focusWidget() or window
                if isinstance(key, str):
                    QTest.keyClicks(focus, key)
                else:
                    QTest.keyClick(window if focus is window.waveform else focus, key)  # type: ignore[arg-type]
                    QApplication.processEvents()
            when(lambda: runner.writes_done >= target, next_step)

        # Start once the workstation has the keyboard again (the file dialogs had it) and
        # the writes of opening the coding are all done.
        window.raise_()
        window.activateWindow()
        when(
            lambda: (
                QApplication.activeWindow() is window
                and QApplication.focusWidget() is not None
                and runner.pending_writes == 0
            ),
            next_step,
        )

    when(lambda: controller.project is not None, start_window)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
