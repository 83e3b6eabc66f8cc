"""Starting the GUI: the application object, the start window, and who does what.

``run_gui`` creates the QApplication and an :class:`AppController`, which opens the
project in a worker (never on the GUI thread), asks who is at the keyboard, and opens
the rater's workstation or the lead's window. An uncaught exception is logged to a
file and shown as a calm message, never as a traceback.
"""

from __future__ import annotations

import logging
import sys
import traceback
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import TracebackType

from platformdirs import user_log_dir
from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QApplication

from coder import lead_passphrase
from coder.coding_groups import OpenedGroup, open_coding_group
from coder.errors import CoderError
from coder.packages import open_package
from coder.store import credentials
from coder.store.project import LEAD, Project, QueueEntry, RaterView
from ui.coding_window import CodingWindow
from ui.dialogs import choose_file, dialog_hub, show_error, show_message
from ui.keymap import Keymap
from ui.lead_window import LeadWindow
from ui.login_dialog import LeadPassphraseDialog, LoginPrompter
from ui.settings import APPLICATION, ORGANISATION, AppSettings
from ui.start_window import StartWindow
from ui.style import STYLE_SHEET
from ui.tasks import TaskRunner

log = logging.getLogger(__name__)


def log_path() -> Path:
    return Path(user_log_dir("session-coder", appauthor=False)) / "gui-errors.log"


def install_excepthook() -> None:
    """Log uncaught exceptions to a file and show a calm message instead of a traceback."""

    def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        path = log_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write("".join(traceback.format_exception(kind, error, tb)) + "\n")
        except OSError:
            pass
        if isinstance(error, CoderError):
            show_error(QApplication.activeWindow(), error)
            return
        show_message(
            QApplication.activeWindow(),
            "Session Coder",
            "Something unexpected went wrong.",
            details="Your work up to this moment is saved. If it happens again, tell the lab "
            f"lead and send them the file {path}.",
            icon="warning",
        )

    sys.excepthook = hook


class AppController(QObject):
    """Opens projects and windows; keeps the one TaskRunner of the app."""

    def __init__(self, settings: AppSettings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings or AppSettings()
        self.keymap = Keymap(self.settings, self)
        self.runner = TaskRunner(self)
        self.project: Project | None = None
        self.project_path: Path | None = None
        self.view: RaterView | None = None
        self.coding_window: CodingWindow | None = None
        self._opening_coding = False  # a coding is being loaded (open_coding)
        self.lead_window: LeadWindow | None = None
        self.start_window = StartWindow(self.settings)
        self.start_window.open_project_requested.connect(self._ask_project)
        self.start_window.identity_chosen.connect(self.choose_identity)
        self.start_window.coding_chosen.connect(self.open_coding)
        self.start_window.back_requested.connect(self._show_identities)
        self.start_window.refresh_requested.connect(self.load_queue)
        self._raters: list[str] = []
        self._is_package = False
        self._allow_lead = True
        self._lead_passphrase: dict[str, object] | None = None
        self._blinding_note = ""
        self._project_name = ""
        self.passphrase_dialog: LeadPassphraseDialog | None = None
        # Lab mode: a login's password is asked with a dialog when it is not stored.
        self.login_prompter = LoginPrompter(self)
        credentials.set_prompt(self.login_prompter)

    # ------------------------------------------------------------------ project

    def start(self, project_path: Path | None) -> None:
        """Show the start window; open ``project_path``, else the last project used."""
        self.start_window.show()
        path = project_path or self.settings.last_project
        if path is not None and (project_path is not None or Path(path).exists()):
            self.open_project(Path(path))
        else:
            self.start_window.show_no_project()

    def _ask_project(self) -> None:
        last = self.settings.last_project
        choose_file(
            self.start_window,
            "Open a Session Coder project",
            name_filter="Projects and rater packages (*.scproj *.scpkg);;All files (*)",
            directory=str(last.parent) if last else "",
            on_chosen=lambda path: self.open_project(Path(path)),
        )

    def open_project(self, path: Path) -> None:
        self.start_window.show_busy(f"Opening {path.name}…")
        self.runner.submit(
            _open_project,
            path,
            on_done=partial(self._on_project_opened, path),
            on_error=self._on_project_failed,
        )

    def _on_project_opened(self, path: Path, opened: OpenedProject) -> None:
        self._close_project()
        self.project, self.project_path, self._raters = opened.project, path, opened.raters
        self._is_package = opened.is_package
        self._allow_lead = opened.allow_lead
        self._lead_passphrase = opened.lead_passphrase
        self._blinding_note = opened.blinding_note
        self._project_name = opened.name  # read in the worker; the GUI thread never queries
        self.settings.last_project = path.resolve()
        self._show_identities()

    @Slot(object)
    def _on_project_failed(self, error: BaseException) -> None:
        self.start_window.show_no_project()
        self.start_window.show_problem("The project could not be opened.")
        show_error(self.start_window, error, title="Cannot open the project")

    def _show_identities(self) -> None:
        if self.project is not None and self.project_path is not None:
            self.start_window.show_identities(
                self._project_name,
                self.project_path,
                self._raters,
                self.settings.last_rater,
                allow_lead=self._allow_lead,
                note=self._blinding_note,
            )

    def _close_project(self) -> None:
        if self.project is not None:
            self.runner.wait_for_writes()
            self.project.close()
            self.project = None

    # ------------------------------------------------------------------ who

    def choose_identity(self, code: str) -> None:
        if self.project is None:
            return
        self.settings.last_rater = code
        if code == LEAD:
            self.open_lead_window()
            return
        self.start_window.show_busy("Loading your sessions…")
        self.runner.submit(
            self.project.rater_view,
            code,
            on_done=self._on_view_ready,
            on_error=self._on_queue_failed,
        )

    def _on_view_ready(self, view: RaterView) -> None:
        self.view = view
        self.load_queue()

    def load_queue(self) -> None:
        if self.view is None:
            return
        self.runner.submit(self.view.queue, on_done=self._on_queue, on_error=self._on_queue_failed)

    def _on_queue(self, entries: list[QueueEntry]) -> None:
        if self.view is not None:
            self.start_window.show_queue(self.view.code, entries)

    def _on_queue_failed(self, error: BaseException) -> None:
        self.start_window.show_problem("Your sessions could not be loaded.")
        show_error(self.start_window, error)

    def open_lead_window(self) -> None:
        if self.project is None or not self._allow_lead:
            return
        if self._lead_passphrase is not None and self.lead_window is None:
            self._ask_lead_passphrase()
            return
        self._show_lead_window()

    def _ask_lead_passphrase(self) -> None:
        """A single file with a lead passphrase: the lead's window opens only with it."""
        if self.passphrase_dialog is not None:
            return
        dialog = LeadPassphraseDialog(self.start_window)
        self.passphrase_dialog = dialog

        def done(result: int) -> None:
            self.passphrase_dialog = None
            dialog.deleteLater()
            if result != LeadPassphraseDialog.DialogCode.Accepted:
                return
            if lead_passphrase.verify(self._lead_passphrase, dialog.passphrase()):
                self._show_lead_window()
            else:
                self.start_window.show_problem("That is not the lead passphrase.")

        dialog.finished.connect(done)
        dialog.open()
        dialog_hub().announce(dialog)

    def _show_lead_window(self) -> None:
        if self.project is None:
            return
        if self.lead_window is None:
            self.lead_window = LeadWindow(self.project, self.runner)
            self.lead_window.closed.connect(self._on_lead_window_closed)
        self.lead_window.show()
        self.lead_window.raise_()
        self.start_window.hide()

    def _on_lead_window_closed(self) -> None:
        self.lead_window = None
        self.start_window.show()

    # ------------------------------------------------------------------ coding

    def open_coding(self, coding_id: int) -> None:
        if self.project is None or self.view is None or self.coding_window is not None:
            return
        # One opening at a time: Enter on the queue can arrive twice (the table's
        # activation and the window's Enter), and a second window must not follow.
        if self._opening_coding:
            return
        self._opening_coding = True
        self.start_window.show_busy("Opening the session…")
        # The coding, with the codings of the scales planned together with it.
        self.runner.read(
            open_coding_group,
            self.project,
            self.view,
            coding_id,
            on_done=self._on_coding_loaded,
            on_error=self._on_open_failed,
        )

    def _on_open_failed(self, error: BaseException) -> None:
        self._opening_coding = False
        self.start_window.show_problem("The session could not be opened.")
        show_error(self.start_window, error, title="Cannot open the session")

    def _on_coding_loaded(self, opened: OpenedGroup) -> None:
        self._opening_coding = False
        if self.project is None or self.view is None:  # the app closed meanwhile
            return
        window = CodingWindow(
            self.project, self.view, opened, self.runner, self.settings, self.keymap
        )
        window.closed.connect(self._on_coding_closed)
        self.coding_window = window
        window.fit_to_screen()
        window.show()
        self.start_window.hide()

    def _on_coding_closed(self) -> None:
        if self.coding_window is not None:
            self.coding_window.deleteLater()
        self.coding_window = None
        self.start_window.show()
        self.load_queue()

    def shutdown(self) -> None:
        """Close windows, finish queued writes and close the project."""
        if self.coding_window is not None:
            self.coding_window.close()
        if self.lead_window is not None:
            self.lead_window.close()
        self.runner.shutdown()
        if self.project is not None:
            self.project.close()
            self.project = None
        if credentials.prompt() is self.login_prompter:
            credentials.set_prompt(None)


@dataclass(frozen=True)
class OpenedProject:
    """What the start window shows for an opened project or offline rater package."""

    project: Project
    name: str
    raters: list[str]
    is_package: bool = False
    # A package has no lead, nor has a rater's login in lab mode (the database would
    # refuse it the lead's data anyway).
    allow_lead: bool = True
    # A single file's lead passphrase (its hash), checked before the lead's window.
    lead_passphrase: dict[str, object] | None = None
    # What keeps raters blind here, said on the start window.
    blinding_note: str = ""


def _open_project(path: Path) -> OpenedProject:
    """Open a project, or a rater package sent by the lead (blocking: run in a worker).

    A package opens as the rater's own small project: only that rater, no lead, the
    audio unpacked from the package when it carries it (else located by content).
    """
    try:
        package = open_package(path)
    except CoderError:
        package = None  # not a package: an ordinary project (or an error said below)
    if package is not None:
        rater = package.manifest.rater
        return OpenedProject(
            package.project, f"offline package for {rater}", [rater], True, allow_lead=False
        )
    project = Project.open(path)
    try:
        kind = project.login_kind()
        if kind is None:
            note = lead_passphrase.SINGLE_FILE_NOTE
        else:
            note = (
                "Lab mode: the lab's server shows each login only what it may see; you are "
                f"logged in as a {kind}."
            )
        # A rater's login sees only its own rater row (row-level security).
        return OpenedProject(
            project,
            project.name,
            [r.code for r in project.raters()],
            allow_lead=kind in (None, "owner", "lead"),
            lead_passphrase=project.lead_passphrase_record(),
            blinding_note=note,
        )
    except BaseException:
        project.close()
        raise


def make_application() -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setStyle("Fusion")
    app.setStyleSheet(STYLE_SHEET)
    return app


def run_gui(project_path: Path | None) -> int:
    """Run the app: the start window, then the rater's workstation or the lead's window.

    Args:
        project_path: A project to open, or None for the last one used.

    Returns:
        The exit code of the event loop.
    """
    app = make_application()
    install_excepthook()
    controller = AppController()
    app.aboutToQuit.connect(controller.shutdown)
    controller.start(project_path)
    return int(app.exec())
