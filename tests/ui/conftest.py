"""Fixtures of the GUI tests: per-test QSettings, a real project, the workstation.

Every GUI test also checks that no database query runs on the GUI thread from the app's
code (:func:`_no_queries_on_the_gui_thread`).
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
import sqlalchemy
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

import ui
from coder.coding_groups import open_coding_group
from coder.store.project import Project
from tests.ui.helpers import BuiltProject, build_project
from ui.app import make_application
from ui.coding_window import CodingWindow
from ui.keymap import Keymap
from ui.settings import AppSettings
from ui.tasks import TaskRunner


@pytest.fixture(autouse=True)
def _fresh_qsettings(tmp_path_factory: pytest.TempPathFactory) -> None:
    """QSettings caches its folder per process; point it at a fresh one per test."""
    folder = tmp_path_factory.mktemp("qsettings")
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))


_UI_DIR = str(Path(ui.__file__).resolve().parent)


class GuiQueryLog:
    """Queries that ran on the GUI (main) thread with app code (``ui/``) on the stack.

    A test's own setup and assertions may query on the main thread (they are not the
    app); the app must not: a query there freezes the window for as long as the database
    takes (a locked SQLite file, a slow PostgreSQL link).
    """

    def __init__(self) -> None:
        self.queries: list[str] = []
        self._allowed = 0

    @contextmanager
    def allowed(self) -> Iterator[None]:
        """Test setup that calls app code on the main thread where the app uses a worker."""
        self._allowed += 1
        try:
            yield
        finally:
            self._allowed -= 1

    def before_cursor_execute(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if self._allowed or threading.current_thread() is not threading.main_thread():
            return
        # A cheap walk of the frames first: extracting the stack reads source lines, and
        # most queries on the main thread are a test's own setup.
        frame: FrameType | None = sys._getframe()
        while frame is not None and not frame.f_code.co_filename.startswith(_UI_DIR):
            frame = frame.f_back
        if frame is None:
            return
        stack = traceback.extract_stack()
        app_frames = [f for f in stack if f.filename.startswith(_UI_DIR)]
        if app_frames:
            where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in app_frames)
            self.queries.append(f"{statement.split()[0]} ... from {where}")


@pytest.fixture(autouse=True)
def gui_queries() -> Iterator[GuiQueryLog]:
    """Fails the test if the app ran a database query on the GUI thread."""
    log = GuiQueryLog()
    sqlalchemy.event.listen(sqlalchemy.Engine, "before_cursor_execute", log.before_cursor_execute)
    try:
        yield log
    finally:
        sqlalchemy.event.remove(
            sqlalchemy.Engine, "before_cursor_execute", log.before_cursor_execute
        )
    if log.queries:
        pytest.fail(
            "database queries ran on the GUI thread (use the TaskRunner):\n"
            + "\n".join(dict.fromkeys(log.queries)),
            pytrace=False,
        )


@pytest.fixture
def app(qapp):  # type: ignore[no-untyped-def]
    """The QApplication with the app's style, name and organisation."""
    return make_application()


@pytest.fixture
def settings(app) -> AppSettings:  # type: ignore[no-untyped-def]
    return AppSettings()


@pytest.fixture
def runner(app) -> Iterator[TaskRunner]:  # type: ignore[no-untyped-def]
    runner = TaskRunner()
    yield runner
    runner.shutdown()


@pytest.fixture
def built(tmp_path: Path) -> BuiltProject:
    return build_project(tmp_path / "lab")


@pytest.fixture
def make_window(qtbot, runner, settings, gui_queries):  # type: ignore[no-untyped-def]
    """Open the workstation on a rater's coding of a built project, shown on screen."""
    opened: list[tuple[CodingWindow, Project]] = []

    def make(built: BuiltProject, session: str = "S1", *, rater: str = "R1") -> CodingWindow:
        project = Project.open(built.path)
        view = project.rater_view(rater)
        with gui_queries.allowed():  # the app loads the coding in a worker (AppController)
            # With the codings of the scales planned together with it, as the app opens it.
            opened_coding = open_coding_group(project, view, built.codings[session])
        window = CodingWindow(
            project,
            view,
            opened_coding,
            runner,
            settings,
            Keymap(settings),
        )
        opened.append((window, project))
        qtbot.addWidget(window)
        window.resize(1366, 768)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        # The window, or a message it opened at once, has the keyboard.
        qtbot.waitUntil(lambda: QApplication.activeWindow() is not None)
        return window

    yield make
    for window, project in opened:
        window.close()
        project.close()


@pytest.fixture
def window(make_window, built):  # type: ignore[no-untyped-def]
    """The workstation on R1's coding of S1 (THABS)."""
    return make_window(built)


# Qt Multimedia on a machine without a sound server warns about it once per process; the
# project's ini list ignores "qt.multimedia.*", but pytest-qt matches message texts, not
# categories, so these are named here.
_HEADLESS_AUDIO_MESSAGES = (
    "PulseAudioService.*",
    "No audio device detected",
    "Couldn't (load|resolve) pipewire.*",
    "Using Qt multimedia with FFmpeg.*",
    # A window closed while its recording is still loading cancels the load.
    "Could not open media. FFmpeg error description: Immediate exit requested",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            # pytest-qt reads only the closest marker: merge a test's own patterns in.
            own = [p for m in item.iter_markers("qt_log_ignore") for p in m.args]
            patterns = (*_HEADLESS_AUDIO_MESSAGES, *own)
            item.add_marker(pytest.mark.qt_log_ignore(*patterns, extend=True), append=False)


@pytest.fixture
def dialogs() -> Iterator[list]:  # type: ignore[type-arg]
    """Every dialog the app opens during the test, in order (they never block)."""
    from ui.dialogs import dialog_hub

    opened: list = []  # type: ignore[type-arg]
    dialog_hub().dialog_opened.connect(opened.append)
    yield opened
    dialog_hub().dialog_opened.disconnect(opened.append)
