"""A test-only entry: the real workstation in its own process, driven by key presses.

``python -m tests.ui.smoke_app PROJECT CODING_ID code`` opens R1's coding, plays a
fixed script of key presses (the same a rater or a foot pedal would send), and prints
``ACK n`` on stdout each time the storage worker has committed a write, then ``DONE``;
it then idles until it is killed. ``... note`` presses N, types ``NOTE_TEXT`` without
Return (the editor stays open, as when a rater is still typing), prints ``TYPED`` once
every write has committed, and idles. ``... show`` opens the coding, waits until the
recording is loaded, prints what the window restored as one JSON line and exits.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from coder.coding_session import open_coding  # noqa: E402
from coder.store.project import Project  # noqa: E402
from ui.app import make_application  # noqa: E402
from ui.coding_window import CodingWindow  # noqa: E402
from ui.keymap import Keymap  # noqa: E402
from ui.settings import AppSettings  # noqa: E402
from ui.tasks import TaskRunner  # noqa: E402

K = Qt.Key
# (keys, writes the step makes). A key is a Qt key, or a str typed into the focus widget.
SCRIPT: list[tuple[list[object], int]] = [
    ([K.Key_J, "0:42", K.Key_Return], 1),  # 1: playhead 0:42 (saved once it settles)
    ([K.Key_N], 0),  # a note at 0:42: not stored while it has no text
    (["pedal note", K.Key_Return], 1),  # 2: the note, with its text
    ([K.Key_3], 1),  # 3: specification = 3
    ([K.Key_Down, K.Key_2], 1),  # 4: rationale = 2
    ([K.Key_M], 1),  # 5: span start at 0:42
    ([K.Key_Right, K.Key_Right, K.Key_M], 2),  # 6: span stop at 0:52, 7: playhead 0:52
    ([K.Key_Down, K.Key_4], 1),  # 8: troubleshooting = 4
]
NOTE_TEXT = "client says the diary was lost"


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    project_path, coding_id, mode = Path(argv[0]), int(argv[1]), argv[2]
    app = make_application()
    project = Project.open(project_path)
    view = project.rater_view("R1")
    runner = TaskRunner()
    settings = AppSettings()
    window = CodingWindow(
        project, view, open_coding(project, view, coding_id), runner, settings, Keymap(settings)
    )
    window.resize(1366, 768)
    window.show()
    window.activateWindow()
    runner.write_committed.connect(lambda n: _say(f"ACK {n}"))

    def when(condition: object, then: object) -> None:
        """Call ``then`` once ``condition()`` holds (polled by the event loop)."""

        def poll() -> None:
            if condition():  # type: ignore[operator]
                then()  # type: ignore[operator]
            else:
                QTimer.singleShot(10, poll)

        poll()

    def ready() -> bool:
        return window.player.is_loaded and window.waveform.has_peaks()

    if mode == "show":

        def report() -> None:
            session = window.session
            _say(
                json.dumps(
                    {
                        "values": session.values(),
                        "notes": [[n.position_ms, n.text] for n in session.notes()],
                        "spans": [[s.item_id, s.start_ms, s.end_ms] for s in session.spans()],
                        "player_ms": window.player.position(),
                        "state": session.state,
                    }
                )
            )
            app.quit()

        when(ready, report)
        code = app.exec()
        window.close()
        runner.shutdown()
        project.close()
        return code

    if mode == "note":

        def type_note() -> None:
            QTest.keyClick(window, K.Key_N)
            QApplication.processEvents()
            editor = QApplication.focusWidget()
            assert editor is not None and editor is not window.waveform
            QTest.keyClicks(editor, NOTE_TEXT)  # no Return: the rater is still typing
            # The text is saved once typing pauses; wait for that write to commit.
            when(
                lambda: runner.writes_done >= 1 and runner.pending_writes == 0,
                lambda: _say("TYPED"),
            )

        when(ready, type_note)
        return app.exec()

    steps = list(SCRIPT)

    def next_step() -> None:
        if not steps:
            _say("DONE")
            return
        keys, writes = steps.pop(0)
        target = runner.writes_done + writes
        for key in keys:
            focus = QApplication.focusWidget() or window
            if isinstance(key, str):
                QTest.keyClicks(focus, key)
            else:
                QTest.keyClick(window if focus is window.waveform else focus, key)  # type: ignore[arg-type]
                QApplication.processEvents()
        when(lambda: runner.writes_done >= target, next_step)

    when(ready, next_step)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
