"""Fixtures of the GUI tests: per-test QSettings, a real project, the workstation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from coder.project import Project
from tests.ui.helpers import BuiltProject, build_project
from ui.app import make_application
from ui.coding_window import CodingWindow, open_coding
from ui.keymap import Keymap
from ui.settings import AppSettings
from ui.tasks import TaskRunner


@pytest.fixture(autouse=True)
def _fresh_qsettings(tmp_path_factory: pytest.TempPathFactory) -> None:
    """QSettings caches its folder per process; point it at a fresh one per test."""
    folder = tmp_path_factory.mktemp("qsettings")
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))


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
def make_window(qtbot, runner, settings):  # type: ignore[no-untyped-def]
    """Open the workstation on a rater's coding of a built project, shown on screen."""
    opened: list[tuple[CodingWindow, Project]] = []

    def make(built: BuiltProject, session: str = "S1", *, rater: str = "R1") -> CodingWindow:
        project = Project.open(built.path)
        view = project.rater_view(rater)
        window = CodingWindow(
            project,
            view,
            open_coding(project, view, built.codings[session]),
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
