"""Keeping the keyboard on the workstation: Escape in an input returns the focus home."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent


class EscapeReturnsFocus(QObject):
    """Event filter: Escape (or Return in a one-line field) in a watched input calls ``home``.

    While a text field has the focus it keeps the keys it types (digits go into a note,
    not into a score); Escape hands the keyboard back to the window's shortcuts.
    """

    def __init__(
        self, home: Callable[[], None], parent: QObject | None = None, *, on_return: bool = False
    ) -> None:
        super().__init__(parent)
        self._home = home
        self._on_return = on_return

    def watch(self, widget: QObject) -> None:
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if key == Qt.Key.Key_Escape or (
                self._on_return
                and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and not event.modifiers() & Qt.KeyboardModifier.ControlModifier
            ):
                self._home()
                return key == Qt.Key.Key_Escape
        return False
