"""TaskRunner: results come back on the GUI thread; writes run one at a time, in order."""

from __future__ import annotations

import threading

import pytest

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


# ---------------------------------------------------------------------- workers hold no Qt


def test_a_widget_callback_is_released_on_the_gui_thread_not_the_worker(qtbot, runner) -> None:  # type: ignore[no-untyped-def]
    """The crash of issue 9: the worker dropped the last reference to a widget's callback.

    The worker is held after it reported the result until the GUI thread has handled it
    and dropped every reference of its own; the worker then finishes its work item. The
    receiver must have been released on the GUI thread all the same (before the fix the
    future's done-callback kept it, and the worker destroyed it).
    """
    import weakref
    from concurrent.futures import Future

    from PySide6.QtCore import QObject

    gui = threading.get_ident()
    released_on: list[int] = []
    received: list[object] = []
    handled = threading.Event()

    class Receiver(QObject):
        def take(self, value: object) -> None:
            received.append(value)

    def hold_worker(_future: Future) -> None:  # type: ignore[type-arg]
        # Runs on the worker after the runner's own done-callback (registered first).
        handled.wait(10)

    receiver = Receiver()
    ref = weakref.ref(receiver, lambda _r: released_on.append(threading.get_ident()))
    gate = threading.Event()  # keeps the work running until both callbacks are added
    future = runner.read(gate.wait, 10, on_done=receiver.take)
    future.add_done_callback(hold_worker)
    del receiver
    gate.set()
    qtbot.waitUntil(lambda: received == [True])
    del future
    handled.set()
    runner.wait_for_writes()  # the storage worker has finished (and dropped) the work item
    qtbot.waitUntil(lambda: ref() is None)
    assert released_on == [gui]


@pytest.mark.parametrize(
    "how",
    ["bound method", "partial", "lambda", "argument", "keyword", "in a list", "signal emit"],
)
def test_work_that_holds_a_qt_object_is_refused_before_it_runs(qtbot, runner, how: str) -> None:  # type: ignore[no-untyped-def]
    from functools import partial

    from PySide6.QtWidgets import QLabel

    label = QLabel("x")
    qtbot.addWidget(label)
    calls = {
        "bound method": ((label.text,), {}),
        "partial": ((partial(QLabel.text, label),), {}),
        "lambda": ((lambda: label.text(),), {}),
        "argument": ((QLabel.text, label), {}),
        "keyword": ((lambda widget: None,), {"widget": label}),
        "in a list": ((len, [1, label]), {}),
        "signal emit": ((label.linkActivated.emit, "a"), {}),
    }
    args, kwargs = calls[how]
    for method in (runner.submit, runner.read, runner.write):
        with pytest.raises(TypeError, match="must hold no Qt object"):
            method(*args, **kwargs)
    assert runner.pending_writes == 0


def test_plain_work_with_plain_data_is_accepted(qtbot, runner) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import dataclass
    from functools import partial

    @dataclass(frozen=True)
    class Request:
        names: tuple[str, ...]

    event = threading.Event()
    done: list[object] = []
    runner.submit(
        partial(sorted, key=str.lower),
        [Request(("b", "a")).names[0], "A"],
        on_done=done.append,
    )
    runner.submit(event.is_set, on_done=done.append)
    qtbot.waitUntil(lambda: len(done) == 2)
    assert ["A", "b"] in done and False in done


def test_progress_reaches_the_gui_thread_in_order_before_the_result(qtbot, runner) -> None:  # type: ignore[no-untyped-def]
    gui = threading.get_ident()
    seen: list[tuple[str, object, int]] = []

    def work(n: int, *, progress) -> str:  # type: ignore[no-untyped-def]
        for i in range(n):
            progress(i)
        return "done"

    runner.write(
        work,
        5,
        on_progress=lambda v: seen.append(("progress", v, threading.get_ident())),
        on_done=lambda r: seen.append(("done", r, threading.get_ident())),
    )
    qtbot.waitUntil(lambda: len(seen) == 6)
    assert [s[1] for s in seen] == [0, 1, 2, 3, 4, "done"]
    assert {s[2] for s in seen} == {gui}


def test_results_for_a_widget_captured_by_a_lambda_are_dropped(qtbot, runner) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QLabel

    received: list[object] = []
    gone, alive = QLabel("gone"), QLabel("alive")
    qtbot.addWidget(alive)
    gone.deleteLater()
    qtbot.waitUntil(lambda: not __import__("shiboken6").isValid(gone))
    runner.submit(int, "1", on_done=lambda v: received.append((v, gone.text())))
    runner.submit(int, "2", on_done=lambda v: received.append((v, alive.text())))
    qtbot.waitUntil(lambda: len(received) >= 1)
    assert received == [(2, "alive")]


def test_a_late_write_after_shutdown_runs_off_the_gui_thread(app) -> None:  # type: ignore[no-untyped-def]
    runner = TaskRunner()
    runner.shutdown()
    threads: list[int] = []
    done: list[object] = []
    runner.write(lambda: threads.append(threading.get_ident()), on_done=done.append)
    assert threads and threads[0] != threading.get_ident()
    assert done == [None] and runner.pending_writes == 0 and runner.writes_done == 1


# ---------------------------------------------------------------------- stale results


def _handled(qtbot, runner: TaskRunner, future) -> None:  # type: ignore[no-untyped-def]
    """Wait until the runner has handled ``future``'s result on the GUI thread.

    The runner reports a finished future from its first done-callback; one added now
    runs after it, and a marker task reported after that is handled after it too (the
    reports are queued to the GUI thread in order).
    """
    reported = threading.Event()
    future.add_done_callback(lambda _f: reported.set())
    qtbot.waitUntil(reported.is_set, timeout=10_000)
    with qtbot.waitCallback(timeout=10_000) as marker:
        runner.submit(int, on_done=marker)


@pytest.mark.parametrize("same_key", [True, False])
def test_a_newer_task_with_the_same_key_supersedes_an_older_that_finishes_last(
    qtbot, runner: TaskRunner, same_key: bool
) -> None:  # type: ignore[no-untyped-def]
    release = threading.Event()
    done: list[object] = []
    progressed: list[object] = []

    def slow(*, progress) -> str:  # type: ignore[no-untyped-def]
        assert release.wait(10)
        progress("old step")
        return "old"

    old = runner.submit(
        slow, on_done=done.append, on_error=done.append, on_progress=progressed.append, latest="k"
    )
    runner.submit(str, "new", on_done=done.append, latest="k" if same_key else "other")
    qtbot.waitUntil(lambda: done == ["new"], timeout=10_000)
    release.set()
    _handled(qtbot, runner, old)
    assert old.result() == "old"
    if same_key:
        assert done == ["new"] and progressed == []
    else:  # another key: the older result is delivered as usual
        assert done == ["new", "old"] and progressed == ["old step"]


def test_an_older_task_finishing_first_is_dropped_and_its_error_too(
    qtbot, runner: TaskRunner
) -> None:  # type: ignore[no-untyped-def]
    let_old_fail, let_new_finish = threading.Event(), threading.Event()
    done: list[object] = []
    errors: list[BaseException] = []

    def old_work() -> str:
        assert let_old_fail.wait(10)
        raise OSError("the old scale's file is gone")

    def new_work() -> str:
        assert let_new_finish.wait(10)
        return "new"

    key = (object(), "status")
    old = runner.submit(old_work, on_done=done.append, on_error=errors.append, latest=key)
    runner.submit(new_work, on_done=done.append, on_error=errors.append, latest=key)
    let_old_fail.set()
    _handled(qtbot, runner, old)
    assert done == [] and errors == []
    let_new_finish.set()
    qtbot.waitUntil(lambda: done == ["new"], timeout=10_000)
    assert errors == []
    # The key is free again: a later task with it is delivered.
    with qtbot.waitCallback(timeout=10_000) as again:
        runner.submit(str, "later", on_done=again, latest=key)
    again.assert_called_with("later")


# ---------------------------------------------------------------------- mutations


def test_run_op_broadcasts_the_changes_once_then_calls_back(qtbot, runner: TaskRunner) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import dataclass

    from coder.changes import OpChanges

    @dataclass(frozen=True)
    class Report:
        added: int
        changes: OpChanges

    order: list[object] = []
    runner.changed.connect(lambda c: order.append(("changed", c)))
    with qtbot.waitSignal(runner.writes_idle, timeout=10_000):
        runner.run_op(OpChanges, codings=True, on_done=lambda r: order.append(("done", r)))
        runner.run_op(
            Report, 3, OpChanges(sessions=True), on_done=lambda r: order.append(("done", r))
        )
    assert order == [
        ("changed", OpChanges(codings=True)),
        ("done", OpChanges(codings=True)),
        ("changed", OpChanges(sessions=True)),
        ("done", Report(3, OpChanges(sessions=True))),
    ]
    assert runner.writes_done == 2


def test_run_op_broadcasts_before_its_callback_and_even_when_the_asker_is_gone(
    qtbot, runner: TaskRunner
) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QLabel

    from coder.changes import OpChanges

    seen: list[object] = []
    runner.changed.connect(seen.append)
    label = QLabel("asker")
    label.deleteLater()
    qtbot.waitUntil(lambda: not __import__("shiboken6").isValid(label))
    with qtbot.waitSignal(runner.writes_idle, timeout=10_000):
        runner.run_op(OpChanges, consensus=True, on_done=lambda r: seen.append(label.text()))
    assert seen == [OpChanges(consensus=True)]


def test_a_failed_or_silent_mutation_broadcasts_nothing(qtbot, runner: TaskRunner) -> None:  # type: ignore[no-untyped-def]
    changed: list[object] = []
    errors: list[BaseException] = []
    runner.changed.connect(changed.append)

    def fails() -> None:
        raise OSError("disk full")

    with qtbot.waitSignal(runner.writes_idle, timeout=10_000):
        runner.run_op(fails, on_error=errors.append)
        runner.run_op(lambda: None, on_error=errors.append)  # says nothing of its changes
    with qtbot.waitSignal(runner.task_failed, timeout=10_000) as failed:
        runner.run_op(lambda: 42)  # no error callback: reported as a failed task
    assert changed == []
    assert isinstance(errors[0], OSError)
    assert isinstance(errors[1], TypeError) and "OpChanges" in str(errors[1])
    assert isinstance(failed.args[0], TypeError)
