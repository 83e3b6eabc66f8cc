"""Running core work off the GUI thread and handing results back to it.

``TaskRunner`` owns two executors (Anki's ``TaskManager`` and ``_collection_executor``):
a small pool for reads and decoding (project open, queue, waveform peaks), and one
single-worker executor for storage writes, so two threads never write to the project
at once and writes commit in the order they were made. Results come back to the GUI
thread through a queued signal; callbacks always run on the GUI thread, never on a
worker, so they may touch widgets.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal, Slot

log = logging.getLogger(__name__)

DoneCallback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


def _cancelled() -> Future[Any]:
    future: Future[Any] = Future()
    future.cancel()
    return future


class TaskRunner(QObject):
    """Runs blocking core functions in workers; see the module docstring.

    Signals:
        write_committed(int): a storage write committed; the count of writes so far.
        write_failed(object): a storage write raised this exception (nothing of it
            was kept: each write is one transaction).
        writes_idle(): no storage write is queued or running.
        task_failed(object): a background task without an error callback raised.
    """

    write_committed = Signal(int)
    write_failed = Signal(object)
    writes_idle = Signal()
    task_failed = Signal(object)
    # Internal: emitted from a worker thread, delivered queued on the GUI thread.
    _finished = Signal(object)

    def __init__(self, parent: QObject | None = None, *, workers: int = 2) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="coder-task")
        self._storage = ThreadPoolExecutor(1, thread_name_prefix="coder-storage")
        self._pending_writes = 0
        self.writes_done = 0
        self._closed = False
        # Queued even when emitted on the GUI thread (a future that is already done runs
        # its callback at once, in the submitting thread): callbacks never run inside
        # submit() or write(), always later from the event loop.
        self._finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)

    # ------------------------------------------------------------------ submitting

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: DoneCallback | None = None,
        on_error: ErrorCallback | None = None,
        **kwargs: Any,
    ) -> Future[Any]:
        """Run ``fn(*args, **kwargs)`` in the pool; call back on the GUI thread.

        After :meth:`shutdown` (the app is quitting) nothing runs: the returned future
        is cancelled and no callback is called.
        """
        if self._closed:
            return _cancelled()
        future = self._pool.submit(fn, *args, **kwargs)
        future.add_done_callback(lambda f: self._deliver(f, on_done, on_error, False))
        return future

    def read(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: DoneCallback | None = None,
        on_error: ErrorCallback | None = None,
        **kwargs: Any,
    ) -> Future[Any]:
        """Run a read in the storage worker: it then sees every write queued before it."""
        if self._closed:
            return _cancelled()
        future = self._storage.submit(fn, *args, **kwargs)
        future.add_done_callback(lambda f: self._deliver(f, on_done, on_error, False))
        return future

    def write(
        self,
        fn: Callable[[], Any],
        *,
        on_done: DoneCallback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> Future[Any]:
        """Queue a storage write (one transaction) in the single storage worker.

        After :meth:`shutdown` the worker is gone (and idle), so a late write (the last
        playhead of a window closing as the app quits) runs here instead: it must not
        be lost, and there is no other writer left.
        """
        self._pending_writes += 1
        if self._closed:
            future: Future[Any] = Future()
            try:
                future.set_result(fn())
            except Exception as exc:  # noqa: BLE001 - handed to the error callback
                future.set_exception(exc)
            self._on_finished((future, on_done, on_error, True))
            return future
        future = self._storage.submit(fn)
        future.add_done_callback(lambda f: self._deliver(f, on_done, on_error, True))
        return future

    @property
    def pending_writes(self) -> int:
        return self._pending_writes

    def _deliver(
        self,
        future: Future[Any],
        on_done: DoneCallback | None,
        on_error: ErrorCallback | None,
        is_write: bool,
    ) -> None:
        # Runs on the worker thread: hand over to the GUI thread and touch nothing else.
        try:
            self._finished.emit((future, on_done, on_error, is_write))
        except RuntimeError:  # the runner was deleted while the task ran
            pass

    @Slot(object)
    def _on_finished(self, payload: tuple[Any, ...]) -> None:
        future, on_done, on_error, is_write = payload
        if future.cancelled():
            error: BaseException | None = None
            result = None
        else:
            error = future.exception()
            result = None if error is not None else future.result()
        if is_write:
            self._pending_writes -= 1
            if error is None:
                self.writes_done += 1
                self.write_committed.emit(self.writes_done)
            else:
                self.write_failed.emit(error)
        if future.cancelled():
            pass
        elif error is not None:
            if on_error is not None and _receiver_alive(on_error):
                on_error(error)
            elif not is_write:
                log.error("background task failed", exc_info=error)
                self.task_failed.emit(error)
        elif on_done is not None and _receiver_alive(on_done):
            on_done(result)
        if is_write and self._pending_writes == 0:
            self.writes_idle.emit()

    # ------------------------------------------------------------------ closing

    def wait_for_writes(self) -> None:
        """Block until every queued write has committed (used when a window closes)."""
        if not self._closed:  # after shutdown every write has committed already
            self._storage.submit(lambda: None).result()

    def shutdown(self) -> None:
        """Finish queued writes, drop queued background work. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._storage.shutdown(wait=True)


def _receiver_alive(callback: Callable[..., Any]) -> bool:
    """False when ``callback`` is a method of a Qt object that has since been deleted.

    A result can arrive after its widget closed (a test tears a panel down, a rater goes
    back to the queue while the waveform still computes). Calling into the deleted C++
    object raises at best and crashes at worst, so such results are dropped here, once
    for every caller.
    """
    while isinstance(callback, partial):
        callback = callback.func
    owner = getattr(callback, "__self__", None)
    return not isinstance(owner, QObject) or shiboken6.isValid(owner)
