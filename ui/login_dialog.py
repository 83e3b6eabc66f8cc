"""Logging in to a lab-mode project: your own login and password, asked when needed.

The project is opened in a worker thread; when the server wants a password that is
neither in ``~/.pgpass`` nor in the OS keyring, :class:`LoginPrompter` (registered with
:func:`coder.store.credentials.set_prompt`) shows :class:`LoginDialog` on the GUI
thread and the worker waits for the answer. The password is kept in memory only,
or in the OS keyring when the person ticks "Remember" (and a keyring exists).
"""

from __future__ import annotations

import importlib.util

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from coder.store import credentials


def keyring_available() -> bool:
    return importlib.util.find_spec("keyring") is not None


class LoginDialog(QDialog):
    """Login and password for one lab database (the password is never shown)."""

    def __init__(self, request: credentials.LoginRequest, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Log in to the lab database")
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"The project is on the lab's server ({request.where}). Log in with your own "
            "login and password, as the lab lead gave them to you."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        if request.retry:
            refused = QLabel("<b>That login or password was refused.</b> Try again.")
            layout.addWidget(refused)
        form = QFormLayout()
        self.login_edit = QLineEdit(request.login)
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Login", self.login_edit)
        form.addRow("Password", self.password_edit)
        layout.addLayout(form)
        self.remember = QCheckBox("Remember the password in this computer's keyring")
        self.remember.setVisible(keyring_available())
        layout.addWidget(self.remember)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        (self.password_edit if request.login else self.login_edit).setFocus()

    def answer(self) -> tuple[str, str]:
        return self.login_edit.text().strip(), self.password_edit.text()


class LoginPrompter(QObject):
    """A :data:`coder.store.credentials.Prompt` that asks with a dialog on the GUI thread.

    Called from a worker, it blocks that worker until the dialog closes; called on the
    GUI thread, it shows the dialog directly.
    """

    _ask = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ask.connect(self._ask_here, Qt.ConnectionType.BlockingQueuedConnection)

    def __call__(self, request: credentials.LoginRequest) -> tuple[str, str] | None:
        box: list[tuple[str, str]] = []
        if QThread.currentThread() is self.thread():
            self._ask_here(request, box)
        else:
            self._ask.emit(request, box)
        return box[0] if box else None

    @Slot(object, object)
    def _ask_here(self, request: credentials.LoginRequest, box: list[tuple[str, str]]) -> None:
        dialog = LoginDialog(request, QApplication.activeWindow())
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            login, password = dialog.answer()
            box.append((login, password))
            if dialog.remember.isChecked() and request.host:
                credentials.remember_in_keyring(
                    request.host, request.port, request.database, login, password
                )
        finally:
            dialog.deleteLater()


class LeadPassphraseDialog(QDialog):
    """Asks for a single file's lead passphrase before the lead's window opens."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Lab lead")
        layout = QVBoxLayout(self)
        intro = QLabel("The lead's window of this project is guarded by a passphrase.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.passphrase_edit = QLineEdit()
        self.passphrase_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Lead passphrase", self.passphrase_edit)
        layout.addLayout(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.passphrase_edit.setFocus()

    def passphrase(self) -> str:
        return self.passphrase_edit.text()
