"""Running core work off the GUI thread and handing results back to it.

``TaskRunner`` owns two executors (Anki's ``TaskManager`` and ``_collection_executor``):
a small pool for reads and decoding (project open, queue, waveform peaks), and one
single-worker executor for storage writes, so two threads never write to the project
at once and writes commit in the order they were made. Results come back to the GUI
thread through a queued signal; callbacks always run on the GUI thread, never on a
worker, so they may touch widgets.

Workers never hold a Qt object. A Python wrapper of a QObject (a widget, the runner
itself) that loses its last reference on a worker thread destroys the C++ object there,
which crashes Qt at random (seen as a segfault at ``del work_item`` in
``concurrent.futures``). So:

- the callbacks (``on_done``, ``on_error``, ``on_progress``), usually bound methods of
  widgets, stay in a dict owned by the runner on the GUI thread, keyed by a token;
- what crosses to the worker is the plain work function and its arguments, checked
  at submission to contain no QObject (:func:`qt_objects_in`), and a done-callback
  holding only two integers;
- the worker reports through :class:`_Relay`, one process-wide QObject that is never
  deleted, so not even the runner is referenced from a worker.

Two more things happen here once for every caller:

- **Stale results are dropped.** A result whose widget has been deleted is not
  delivered, and neither is the result of a task submitted with a ``latest`` key once a
  newer task with the same key has been submitted: a view that recomputes when the
  lead picks another scale passes ``latest=(self, "status")`` and only ever sees the
  newest computation, whichever finishes last.
- **Lead-side mutations are broadcast.** :meth:`TaskRunner.run_op` runs a mutation that
  returns :class:`coder.changes.OpChanges` as a storage write; when it has committed,
  the runner emits :attr:`TaskRunner.changed` once, on the GUI thread, and every view
  that shows one of the changed kinds of data refreshes itself.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
import types
import weakref
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, SignalInstance, Slot

from coder.changes import changes_of

log = logging.getLogger(__name__)

DoneCallback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]
ProgressCallback = Callable[[Any], None]

# How far qt_objects_in looks into arguments: deep enough for a partial of a lambda in a
# tuple, bounded so that it stays cheap on every rater keystroke (each is one write) and
# on large data handed to a worker (reliability tables).
_MAX_DEPTH = 6
_MAX_ITEMS = 200
_MAX_NODES = 5_000


def _cancelled() -> Future[Any]:
    future: Future[Any] = Future()
    future.cancel()
    return future


# ---------------------------------------------------------------------- what may cross


def _children(obj: Any) -> Iterator[Any]:
    """The objects ``obj`` carries to a worker when it is called or passed there."""
    if isinstance(obj, partial):
        yield obj.func
        yield from obj.args
        yield from obj.keywords.values()
    elif isinstance(obj, types.MethodType):
        yield obj.__self__
        yield obj.__func__
    elif isinstance(obj, types.FunctionType):
        for cell in obj.__closure__ or ():
            try:
                yield cell.cell_contents
            except ValueError:  # an empty cell (a name not yet assigned)
                continue
        yield from obj.__defaults__ or ()
        yield from (obj.__kwdefaults__ or {}).values()
    elif isinstance(obj, types.BuiltinMethodType):
        owner = getattr(obj, "__self__", None)
        if owner is not None and not isinstance(owner, types.ModuleType):
            yield owner
    elif isinstance(obj, dict):
        for n, (key, value) in enumerate(obj.items()):
            if n >= _MAX_ITEMS:
                break
            yield key
            yield value
    elif isinstance(obj, (list, tuple, set, frozenset)):
        yield from itertools.islice(obj, _MAX_ITEMS)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for field in dataclasses.fields(obj):
            yield getattr(obj, field.name, None)


def qt_objects_in(*objects: Any) -> list[Any]:
    """The Qt objects reachable from ``objects`` through calls and plain containers.

    Looks through bound methods (their ``self``), ``functools.partial`` (function and
    arguments), function closures and defaults, lists, tuples, sets, dicts and
    dataclasses. A ``SignalInstance`` (``widget.some_signal`` or its ``emit``) counts,
    since it keeps its widget alive. Other objects are not opened: core objects such
    as ``Project`` hold no Qt by construction (``coder`` never imports Qt).

    Args:
        objects: A work function and its arguments, or a callback.

    Returns:
        The QObjects and SignalInstances found, in the order met.
    """
    found: list[Any] = []
    seen: set[int] = set()
    # Breadth first: the function and its direct arguments are looked at before the
    # insides of large data, should the budget run out there.
    queue: deque[tuple[Any, int]] = deque((o, 0) for o in objects)
    budget = _MAX_NODES
    while queue and budget > 0:
        budget -= 1
        obj, depth = queue.popleft()
        if id(obj) in seen or obj is None or isinstance(obj, (str, bytes, int, float)):
            continue
        seen.add(id(obj))
        if isinstance(obj, (QObject, SignalInstance)):
            found.append(obj)
            continue
        if depth < _MAX_DEPTH and len(queue) < budget:
            queue.extend((child, depth + 1) for child in _children(obj))
    return found


def _check_plain(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    found = qt_objects_in(fn, args, kwargs)
    if found:
        names = ", ".join(sorted({type(o).__name__ for o in found}))
        raise TypeError(
            f"work handed to a worker thread must hold no Qt object, but "
            f"{getattr(fn, '__qualname__', fn)!r} carries {names}: pass plain data, and "
            "keep methods of widgets as on_done/on_error/on_progress callbacks"
        )


# ---------------------------------------------------------------------- the relay


class _Relay(QObject):
    """The one object workers report to: process-wide, on the GUI thread, never deleted.

    Its signals carry only integers and the future (whose result and exception are core
    data), and are delivered queued on the GUI thread, where the runner with that key
    (if it still exists) takes them.
    """

    finished = Signal(int, int, object)  # runner key, token, future
    progressed = Signal(int, int, object)  # runner key, token, progress value

    def __init__(self) -> None:
        super().__init__()
        self.runners: weakref.WeakValueDictionary[int, TaskRunner] = weakref.WeakValueDictionary()
        self.finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        self.progressed.connect(self._on_progressed, Qt.ConnectionType.QueuedConnection)

    @Slot(int, int, object)
    def _on_finished(self, key: int, token: int, future: Future[Any]) -> None:
        runner = self.runners.get(key)
        if runner is not None and shiboken6.isValid(runner):
            runner._on_finished(token, future)

    @Slot(int, int, object)
    def _on_progressed(self, key: int, token: int, value: Any) -> None:
        runner = self.runners.get(key)
        if runner is not None and shiboken6.isValid(runner):
            runner._on_progressed(token, value)


_relay: _Relay | None = None
_relay_lock = threading.Lock()


def _the_relay() -> _Relay:
    global _relay
    with _relay_lock:
        if _relay is None:
            _relay = _Relay()
            app = QCoreApplication.instance()
            if app is not None and _relay.thread() is not app.thread():
                _relay.moveToThread(app.thread())
        return _relay


def _report_finished(key: int, token: int, future: Future[Any]) -> None:
    # Runs on the worker thread (or the GUI thread for a future that is already done):
    # emit and touch nothing else. The relay outlives every worker.
    if _relay is not None:
        _relay.finished.emit(key, token, future)


def _report_progress(key: int, token: int, value: Any) -> None:
    # Handed to the work function as its ``progress`` argument; runs on the worker.
    if _relay is not None:
        _relay.progressed.emit(key, token, value)


# ---------------------------------------------------------------------- the runner


_keys = itertools.count(1)


@dataclass(frozen=True)
class _Pending:
    """What the GUI thread keeps of one submitted task until its result arrives."""

    on_done: DoneCallback | None
    on_error: ErrorCallback | None
    on_progress: ProgressCallback | None
    is_write: bool
    latest: Hashable | None = None
    is_op: bool = False


class TaskRunner(QObject):
    """Runs blocking core functions in workers; see the module docstring.

    Signals:
        write_committed(int): a storage write committed; the count of writes so far.
        write_failed(object): a storage write raised this exception (nothing of it
            was kept: each write is one transaction).
        writes_idle(): no storage write is queued or running.
        task_failed(object): a background task without an error callback raised.
        changed(object): a mutation run by :meth:`run_op` committed; what it changed
            (:class:`~coder.changes.OpChanges`). Emitted once per mutation.
    """

    write_committed = Signal(int)
    write_failed = Signal(object)
    writes_idle = Signal()
    task_failed = Signal(object)
    changed = Signal(object)

    def __init__(self, parent: QObject | None = None, *, workers: int = 2) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="coder-task")
        self._storage = ThreadPoolExecutor(1, thread_name_prefix="coder-storage")
        self._pending_writes = 0
        self.writes_done = 0
        self._closed = False
        self._key = next(_keys)
        self._tokens = itertools.count(1)
        # token -> what to call back. Owned by the GUI thread: only submit/read/write
        # (called there) and the relay's queued slots touch it.
        self._callbacks: dict[int, _Pending] = {}
        # latest key -> the token of the newest task submitted with it.
        self._latest: dict[Hashable, int] = {}
        _the_relay().runners[self._key] = self

    # ------------------------------------------------------------------ submitting

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: DoneCallback | None = None,
        on_error: ErrorCallback | None = None,
        on_progress: ProgressCallback | None = None,
        latest: Hashable | None = None,
        **kwargs: Any,
    ) -> Future[Any]:
        """Run ``fn(*args, **kwargs)`` in the pool; call back on the GUI thread.

        Args:
            fn: A plain function: it and its arguments must hold no widget (checked).
            on_done: Called with the result, on the GUI thread.
            on_error: Called with the exception, on the GUI thread.
            on_progress: When given, ``fn`` gets a ``progress`` keyword argument, a
                callable whose every call reaches ``on_progress`` on the GUI thread.
            latest: A key of the caller's, such as ``(self, "status")``. A later task
                submitted with the same key supersedes this one: from then on none of
                this task's callbacks is called, even if it finishes last. The key
                stays on the GUI thread.

        Returns:
            The future of the work. After :meth:`shutdown` (the app is quitting)
            nothing runs: the future is cancelled and no callback is called.

        Raises:
            TypeError: ``fn`` or its arguments carry a Qt object.
        """
        pending = _Pending(on_done, on_error, on_progress, False, latest)
        return self._start(self._pool, fn, args, kwargs, pending)

    def read(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: DoneCallback | None = None,
        on_error: ErrorCallback | None = None,
        on_progress: ProgressCallback | None = None,
        latest: Hashable | None = None,
        **kwargs: Any,
    ) -> Future[Any]:
        """Like :meth:`submit`, in the storage worker: it sees every write queued before."""
        pending = _Pending(on_done, on_error, on_progress, False, latest)
        return self._start(self._storage, fn, args, kwargs, pending)

    def write(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: DoneCallback | None = None,
        on_error: ErrorCallback | None = None,
        on_progress: ProgressCallback | None = None,
        **kwargs: Any,
    ) -> Future[Any]:
        """Queue a storage write in the single storage worker (the only writer).

        Arguments as for :meth:`submit` (a write is never superseded). After
        :meth:`shutdown` the worker is gone, so a late write (the last playhead of a
        window closing as the app quits) runs in a one-off thread while the caller
        waits: it must not be lost, and there is no other writer left.
        """
        return self._write(fn, args, kwargs, _Pending(on_done, on_error, on_progress, True))

    def run_op(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: DoneCallback | None = None,
        on_error: ErrorCallback | None = None,
        on_progress: ProgressCallback | None = None,
        **kwargs: Any,
    ) -> Future[Any]:
        """Run a lead-side mutation as a storage write and broadcast what it changed.

        ``fn`` returns :class:`~coder.changes.OpChanges`, or a result with a
        ``changes`` attribute (:func:`coder.changes.changes_of`). When it has
        committed, :attr:`changed` is emitted once with those changes, then
        ``on_done`` gets the whole result. The broadcast happens even when the widget
        that asked has closed meanwhile (the data changed all the same).

        Arguments as for :meth:`write`. A result that reports no changes is a bug:
        it goes to ``on_error`` (or :attr:`task_failed`) as a TypeError.
        """
        return self._write(
            fn, args, kwargs, _Pending(on_done, on_error, on_progress, True, is_op=True)
        )

    def _write(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        pending: _Pending,
    ) -> Future[Any]:
        self._pending_writes += 1
        if not self._closed:
            return self._start(self._storage, fn, args, kwargs, pending)
        _check_plain(fn, args, kwargs)
        token = self._remember(pending)
        if pending.on_progress is not None:
            kwargs = {**kwargs, "progress": partial(_report_progress, self._key, token)}
        late = ThreadPoolExecutor(1, thread_name_prefix="coder-late-write")
        try:
            future = late.submit(fn, *args, **kwargs)
            future.exception()  # wait: the write is done before this returns
        finally:
            late.shutdown(wait=True)
        self._on_finished(token, future)
        return future

    def _remember(self, pending: _Pending) -> int:
        token = next(self._tokens)
        self._callbacks[token] = pending
        if pending.latest is not None:
            self._latest[pending.latest] = token
        return token

    def _start(
        self,
        executor: ThreadPoolExecutor,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        pending: _Pending,
    ) -> Future[Any]:
        if self._closed and not pending.is_write:
            return _cancelled()
        try:
            _check_plain(fn, args, kwargs)
        except TypeError:
            if pending.is_write:
                self._pending_writes -= 1
            raise
        token = self._remember(pending)
        if pending.on_progress is not None:
            kwargs = {**kwargs, "progress": partial(_report_progress, self._key, token)}
        future = executor.submit(fn, *args, **kwargs)
        # Only integers go with the future: the callbacks stay in self._callbacks.
        future.add_done_callback(partial(_report_finished, self._key, token))
        return future

    @property
    def pending_writes(self) -> int:
        return self._pending_writes

    # ------------------------------------------------------------------ results (GUI thread)

    def _superseded(self, token: int, pending: _Pending) -> bool:
        return pending.latest is not None and self._latest.get(pending.latest) != token

    def _on_progressed(self, token: int, value: Any) -> None:
        pending = self._callbacks.get(token)
        if (
            pending is not None
            and pending.on_progress is not None
            and not self._superseded(token, pending)
            and _receiver_alive(pending.on_progress)
        ):
            pending.on_progress(value)

    def _on_finished(self, token: int, future: Future[Any]) -> None:
        pending = self._callbacks.pop(token, None)
        if pending is None:
            return
        superseded = self._superseded(token, pending)
        if pending.latest is not None and not superseded:
            del self._latest[pending.latest]
        if future.cancelled():
            error: BaseException | None = None
            result = None
        else:
            error = future.exception()
            result = None if error is not None else future.result()
        if pending.is_write:
            self._pending_writes -= 1
            if error is None:
                self.writes_done += 1
                self.write_committed.emit(self.writes_done)
            else:
                self.write_failed.emit(error)
        bad_op = False
        if pending.is_op and error is None and not future.cancelled():
            try:
                changes = changes_of(result)
            except TypeError as wrong:
                error, bad_op = wrong, True
            else:
                self.changed.emit(changes)
        # The one place where stale results are dropped: a cancelled task, a task
        # superseded by a newer one with the same ``latest`` key, or a callback whose
        # widget has been deleted since the work was submitted.
        if future.cancelled() or superseded:
            pass
        elif error is not None:
            if pending.on_error is not None and _receiver_alive(pending.on_error):
                pending.on_error(error)
            elif pending.on_error is None and (bad_op or not pending.is_write):
                log.error("background task failed", exc_info=error)
                self.task_failed.emit(error)
        elif pending.on_done is not None and _receiver_alive(pending.on_done):
            pending.on_done(result)
        if pending.is_write and self._pending_writes == 0:
            self.writes_idle.emit()

    # ------------------------------------------------------------------ closing

    def wait_for_writes(self) -> None:
        """Block until every queued write has committed (used when a window closes)."""
        if not self._closed:  # after shutdown every write has committed already
            self._storage.submit(int).result()

    def shutdown(self) -> None:
        """Finish queued writes, drop queued background work. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._storage.shutdown(wait=True)


def _receiver_alive(callback: Callable[..., Any]) -> bool:
    """False when ``callback`` belongs to a Qt object that has since been deleted.

    A result can arrive after its widget closed (a test tears a panel down, a rater goes
    back to the queue while the waveform still computes). Calling into the deleted C++
    object raises at best and crashes at worst, so such results are dropped here, once
    for every caller. The widget may be the ``self`` of a bound method, inside a
    ``partial``, or captured by a lambda.
    """
    return all(shiboken6.isValid(o) for o in qt_objects_in(callback) if isinstance(o, QObject))
