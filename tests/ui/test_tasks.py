"""TaskRunner: results come back on the GUI thread; writes run one at a time, in order."""

from __future__ import annotations

import threading

from ui.tasks import TaskRunner


def test_results_and_errors_come_back_on_the_gui_thread(qtbot, runner: TaskRunner) -> None:  # type: ignore[no-untyped-def]
    gui = threading.get_ident()
    seen: list[tuple[str, object, int]] = []
    runner.submit(
        lambda: threading.get_ident(),
        on_done=lambda r: seen.append(("ok", r, threading.get_ident())),
    )
    runner.submit(
        lambda: 1 / 0, on_error=lambda e: seen.append(("error", type(e), threading.get_ident()))
    )
    qtbot.waitUntil(lambda: len(seen) == 2)
    assert {s[0] for s in seen} == {"ok", "error"}
    assert all(s[2] == gui for s in seen)
    assert next(s[1] for s in seen if s[0] == "ok") != gui  # the work ran elsewhere


def test_writes_run_in_order_on_one_thread_and_are_counted(qtbot, runner: TaskRunner) -> None:  # type: ignore[no-untyped-def]
    order: list[int] = []
    threads: set[int] = set()

    def write(n: int):  # type: ignore[no-untyped-def]
        def run() -> None:
            threads.add(threading.get_ident())
            order.append(n)

        return run

    with qtbot.waitSignal(runner.writes_idle, timeout=5000):
        for n in range(50):
            runner.write(write(n))
    assert order == list(range(50)) and len(threads) == 1
    assert runner.writes_done == 50 and runner.pending_writes == 0


def test_a_failed_write_is_reported_and_later_writes_still_run(qtbot, runner: TaskRunner) -> None:  # type: ignore[no-untyped-def]
    done: list[int] = []
    with qtbot.waitSignal(runner.write_failed, timeout=5000) as failed:
        runner.write(lambda: (_ for _ in ()).throw(OSError("disk full")))
    assert isinstance(failed.args[0], OSError)
    with qtbot.waitSignal(runner.write_committed, timeout=5000):
        runner.write(lambda: done.append(1))
    assert done == [1]


def test_after_shutdown_reads_are_dropped_but_writes_still_happen(app) -> None:  # type: ignore[no-untyped-def]
    runner = TaskRunner()
    runner.shutdown()
    kept: list[str] = []
    assert runner.submit(lambda: kept.append("read")).cancelled()
    runner.write(lambda: kept.append("write"))
    runner.wait_for_writes()
    assert kept == ["write"]


def test_results_for_a_deleted_widget_are_dropped(qtbot, runner) -> None:  # type: ignore[no-untyped-def]
    from functools import partial

    from PySide6.QtWidgets import QLabel

    received: list[object] = []

    class Sink(QLabel):
        def take(self, tag: str, value: object) -> None:
            received.append((tag, value, self.text()))

    alive, gone = Sink("alive"), Sink("gone")
    qtbot.addWidget(alive)
    gone.deleteLater()
    qtbot.waitUntil(lambda: not __import__("shiboken6").isValid(gone))
    runner.submit(lambda: 1, on_done=partial(gone.take, "gone")).result()
    runner.submit(lambda: 2, on_done=partial(alive.take, "alive")).result()
    # Both results are queued to the GUI thread in that order; the second arriving means
    # the first was handled (dropped) already.
    qtbot.waitUntil(lambda: len(received) >= 1)
    assert received == [("alive", 2, "alive")]
