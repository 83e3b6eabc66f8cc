"""Every message box and file dialog of the app goes through here.

File dialogs are made only by :func:`choose_file` (a test enforces it): Qt's own file
dialog would otherwise open every file it lists to guess its type and icon, and in this
process that drops the SQLite locks of an open project (see :class:`NameOnlyIconProvider`).

Dialogs are opened with ``open()`` (window-modal, returns at once) and report the
choice through a callback, so the event loop keeps running: playback, the storage
worker and tests are never blocked by a dialog. Each dialog is announced on
``dialog_hub().dialog_opened`` so tests can find and answer it without blocking.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QFileInfo, QMimeDatabase, QObject, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QDialog, QFileDialog, QFileIconProvider, QMessageBox, QWidget

from coder.errors import CoderError


class DialogHub(QObject):
    """Announces each dialog the app opens; ``opened`` keeps the ones still open."""

    dialog_opened = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[QDialog] = []

    def announce(self, dialog: QDialog) -> None:
        self.opened.append(dialog)
        dialog.finished.connect(lambda _result, d=dialog: self._forget(d))
        dialog.destroyed.connect(lambda _obj=None, d=dialog: self._forget(d))
        self.dialog_opened.emit(dialog)

    def _forget(self, dialog: QDialog) -> None:
        if dialog in self.opened:
            self.opened.remove(dialog)

    def last(self) -> QDialog | None:
        return self.opened[-1] if self.opened else None


_hub: DialogHub | None = None


def dialog_hub() -> DialogHub:
    global _hub
    if _hub is None:
        _hub = DialogHub()
    return _hub


@dataclass(frozen=True)
class Choice:
    """A button of a message box: its text, its key (given to the callback), its role."""

    key: str
    text: str
    role: QMessageBox.ButtonRole = QMessageBox.ButtonRole.AcceptRole


_ICONS = {
    "information": QMessageBox.Icon.Information,
    "warning": QMessageBox.Icon.Warning,
    "question": QMessageBox.Icon.Question,
    "critical": QMessageBox.Icon.Critical,
}


def show_message(
    parent: QWidget | None,
    title: str,
    text: str,
    *,
    details: str = "",
    icon: str = "information",
    choices: Sequence[Choice] = (),
    default: str | None = None,
    on_choice: Callable[[str], None] | None = None,
) -> QMessageBox:
    """Show a calm message without blocking; ``on_choice`` gets the key of the button.

    With no ``choices`` there is one "OK" button (key "ok"). Closing the box with
    Escape gives the key of the button with the reject role, else "close".
    """
    box = QMessageBox(parent)
    box.setIcon(_ICONS[icon])
    box.setWindowTitle(title)
    box.setText(text)
    if details:
        box.setInformativeText(details)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    choices = list(choices) or [Choice("ok", "OK")]
    buttons = {}
    for choice in choices:
        button = box.addButton(choice.text, choice.role)
        buttons[button] = choice.key
        if choice.key == default:
            box.setDefaultButton(button)
    escape = next((c.key for c in choices if c.role == QMessageBox.ButtonRole.RejectRole), None)

    def finished(_result: int) -> None:
        key = buttons.get(box.clickedButton(), escape or "close")
        if on_choice is not None:
            on_choice(key)

    box.finished.connect(finished)
    box.open()
    dialog_hub().announce(box)
    return box


def as_sentence(text: str) -> str:
    """A core message as a sentence on screen: capital first letter, final full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def show_error(
    parent: QWidget | None,
    error: BaseException,
    *,
    title: str = "Session Coder",
    on_choice: Callable[[str], None] | None = None,
) -> QMessageBox:
    """Show an expected error (a CoderError) as a calm message: what happened, what to do."""
    if isinstance(error, CoderError):
        text = as_sentence(str(error)) or type(error).__name__
        return show_message(parent, title, text, icon="warning", on_choice=on_choice)
    return show_message(
        parent,
        title,
        "Something unexpected went wrong.",
        details="Your work up to this moment is saved. If it happens again, tell the lab lead.",
        icon="warning",
        on_choice=on_choice,
    )


class NameOnlyIconProvider(QFileIconProvider):
    """Icons and type names from a file's name alone: the dialog never opens a file.

    Qt's default provider asks ``QMimeDatabase`` for each listed file's type, and the
    database matches on content: it opens the file, reads its first bytes and closes
    it. In the app's own process that close is harmful: POSIX (fcntl) locks belong to
    the process and the file, and closing *any* descriptor of a file drops every lock
    the process holds on it, SQLite's included. A dialog opened on the project's folder
    thus silently unlocked the open project (and its ``-wal``/``-shm``); the next
    process to open it believed it was the last user, checkpointed and deleted the WAL,
    and every later score went into a deleted file. Deciding by name and ``isDir()``
    (a ``stat``, which takes no descriptor) removes the cause for every dialog.
    """

    def __init__(self) -> None:
        super().__init__()
        self._mimes = QMimeDatabase()
        # Custom folder icons are read from files inside the folder: not wanted either.
        self.setOptions(QFileIconProvider.Option.DontUseCustomDirectoryIcons)

    def icon(self, what: object) -> QIcon:  # type: ignore[override]
        """The generic folder or file icon for a ``QFileInfo``; Qt's icon for an IconType."""
        if isinstance(what, QFileInfo):
            kind = (
                QFileIconProvider.IconType.Folder
                if what.isDir()
                else QFileIconProvider.IconType.File
            )
            return super().icon(kind)
        return super().icon(what)  # type: ignore[arg-type]

    def type(self, info: QFileInfo) -> str:
        """The type column's text, from the file name's extension only."""
        if info.isDir():
            return "Folder"
        mime = self._mimes.mimeTypeForFile(info.fileName(), QMimeDatabase.MatchMode.MatchExtension)
        # The default type (no known extension) reads "unknown" in Qt: say "File".
        return "File" if mime.isDefault() else (mime.comment() or mime.name())


def choose_file(
    parent: QWidget | None,
    title: str,
    *,
    name_filter: str = "",
    directory: str = "",
    on_chosen: Callable[[str], None],
    save: bool = False,
) -> QFileDialog:
    """Ask for a file without blocking; ``on_chosen`` gets its path (not called on cancel).

    The one place where the app makes a file dialog: it never opens the files it lists
    (see :class:`NameOnlyIconProvider`), so it cannot drop an open project's locks.
    """
    dialog = QFileDialog(parent, title, directory, name_filter)
    # Qt's own dialog: the same everywhere, and it can be driven in tests.
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setOption(QFileDialog.Option.DontUseCustomDirectoryIcons, True)
    # Set before the dialog lists anything, so no file is ever sniffed by content.
    provider = NameOnlyIconProvider()
    dialog.setIconProvider(provider)
    # QFileDialog does not own its icon provider: keep it alive as long as the dialog.
    dialog._name_only_icons = provider  # type: ignore[attr-defined]
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if save:
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    else:
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    dialog.fileSelected.connect(on_chosen)
    dialog.open()
    dialog_hub().announce(dialog)
    return dialog
