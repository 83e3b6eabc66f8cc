"""Child processes that end with their parent.

A process-pool worker blocks on a pipe whose other end its sibling workers also hold,
so when the parent is killed (``kill -9``, a closed terminal, a crash) nobody ever
closes that pipe and the workers wait forever. :func:`die_with_parent` ties a child's
life to its parent's: on Linux the kernel sends the child SIGKILL when the parent
dies (``PR_SET_PDEATHSIG``); everywhere a small watcher thread notices the parent is
gone and ends the child too (for macOS, and for children whose direct parent is a
fork server rather than the process that asked for them).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Callable

__all__ = [
    "PARENT_POLL_SECONDS",
    "die_with_parent",
    "parent_death_preexec",
    "set_parent_death_signal",
]

PARENT_POLL_SECONDS = 0.5
"""How often the watcher thread checks that the parent is still there."""

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def set_parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Ask the Linux kernel to send ``sig`` to this process when its parent dies.

    Safe to call between fork and exec (``preexec_fn``): it only calls ``prctl``.
    The setting survives ``exec`` but is cleared when the process changes its user or
    group id, so call it after any such switch. It follows the parent *thread*: the
    thread that started the child must live as long as the child should.

    Args:
        sig: The signal to receive.

    Returns:
        True when the kernel took the request; False on other systems or on failure.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def parent_death_preexec(sig: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A ``preexec_fn`` for ``subprocess.Popen`` that makes the child die with us.

    libc is looked up here, in the parent: between fork and exec the child of a
    threaded process must not load libraries (the loader's lock may be held by a thread
    that no longer exists there), only call them.

    Args:
        sig: The signal the child gets when the thread that started it ends.

    Returns:
        The function, or None where there is no ``prctl`` (not Linux).
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    signum = int(sig)

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0)

    return preexec


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def die_with_parent(parent_pid: int) -> None:
    """End this process as soon as the process ``parent_pid`` is gone.

    Meant as a process-pool ``initializer`` (``initargs=(os.getpid(),)``): call it
    first thing in the child.

    Args:
        parent_pid: The process whose death should end this one.
    """
    direct_parent = os.getppid()
    if direct_parent == parent_pid:
        set_parent_death_signal(signal.SIGKILL)
    # The parent may have died before the request above took effect.
    if os.getppid() != direct_parent or not _alive(parent_pid):
        os._exit(1)

    def watch() -> None:
        stop = threading.Event()
        # An orphan is re-parented, so its parent id changes even while the dead
        # parent is still an unreaped zombie (which os.kill(pid, 0) would call alive).
        while not stop.wait(PARENT_POLL_SECONDS):
            if os.getppid() != direct_parent or not _alive(parent_pid):
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
