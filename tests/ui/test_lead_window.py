"""The lead's window: its tabs, and listening to a session from the discrepancy list."""

from __future__ import annotations

from coder.project import Project
from tests.ui.helpers import BuiltProject
from ui.lead_window import LeadWindow
from ui.tasks import TaskRunner


def test_lead_window_has_every_tab_and_opens_a_listening_window(
    qtbot,
    runner: TaskRunner,
    built: BuiltProject,  # type: ignore[no-untyped-def]
) -> None:
    project = Project.open(built.path)
    try:
        window = LeadWindow(project, runner)
        qtbot.addWidget(window)
        titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
        assert titles == ["Progress", "Plans", "Reliability", "Exports", "Certification"]

        window.reliability_panel.open_session_requested.emit("S1", 30_000)
        assert len(window.listen_windows) == 1
        listen = window.listen_windows[0]
        qtbot.addWidget(listen)
        qtbot.waitUntil(lambda: listen.player.is_loaded, timeout=10_000)
        qtbot.waitUntil(lambda: listen.waveform.has_peaks(), timeout=10_000)
        qtbot.waitUntil(lambda: abs(listen.player.position() - 30_000) < 200, timeout=10_000)
        assert "read-only" in listen.status.text()

        window.reliability_panel.open_session_requested.emit("NOPE", 0)
        missing = window.listen_windows[1]
        qtbot.addWidget(missing)
        qtbot.waitUntil(lambda: "not available" in missing.status.text(), timeout=10_000)
        window.close()
        assert not listen.isVisible()
    finally:
        runner.wait_for_writes()
        project.close()
