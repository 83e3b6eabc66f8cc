"""Guards against known PySide6 regressions on the Python versions we support."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


def test_many_void_qt_calls_do_not_abort(app) -> None:  # type: ignore[no-untyped-def]
    """PySide6 6.12 on Python 3.11 leaks a None per void call and aborts (none_dealloc)."""
    widget = QWidget()
    for _ in range(25_000):
        widget.setEnabled(True)
    assert widget.isEnabled()
