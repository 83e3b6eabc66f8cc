"""The rater workstation: one coding of one session on one scale, or the codings of
scales planned together (issue 13, item 5), coded in one listening.

Waveform and playback controls on top; the scoring panel and the notes below. Every
action is a window-wide QAction (see ``ui/keymap.py``). The window holds a
:class:`CodingSession` whose writes go to the TaskRunner's single storage worker, so
nothing here waits for the disk; a label beside Submit says when everything is saved.
The window fits a 1366x768 laptop screen with its title bar and taskbar (the item list
scrolls), and says so calmly when the computer has no sound output.

Scales planned together (:mod:`coder.coding_groups`) open in one window: one tab per
scale, each with its own scoring panel, notes and Submit, each tab a
:class:`CodingSession` of its own coding (so each is saved and submitted through the
same rules as a coding alone). The waveform shows the notes and spans of the scale on
screen; the player keeps to the group's window
(:func:`coder.session_window.group_window`: from the earliest start to the latest end
of the scales' windows), while each scale's notes and spans are flagged against that
scale's own window.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path

from platformdirs import user_cache_dir
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from coder.audio import (
    AUDIO_EXTENSIONS,
    AudioMissingError,
    Cancelled,
    CorruptAudioError,
    DecoderMissingError,
    Peaks,
    UnsupportedAudioError,
    compute_peaks,
    load_or_compute_peaks,
)
from coder.certification import Feedback, load_feedback
from coder.coding_data import CodingState
from coder.coding_groups import OpenedGroup
from coder.coding_rules import check_uncodable
from coder.coding_session import CodingSession, OpenedCoding, open_coding
from coder.errors import CoderError, InputError
from coder.importer import relink_session_audio
from coder.kinds import ItemKind
from coder.scales import CHOICE_KINDS, RatingScale
from coder.session_window import SessionWindow, group_window
from coder.store.project import Project, RaterView
from ui.dialogs import Choice, choose_file, dialog_hub, show_error, show_message
from ui.feedback_dialog import FeedbackDialog
from ui.keymap import ACTIONS, HelpOverlay, Keymap, KeymapDialog, make_actions, parse_keys
from ui.notes_panel import NotesPanel
from ui.player import Player, has_audio_output
from ui.prepared_fields_box import PreparedFieldsBox
from ui.scoring_panel import SAVED_TEXT, STATE_LABELS, ScoringPanel
from ui.settings import AppSettings
from ui.tasks import TaskRunner
from ui.timefmt import format_ms
from ui.transport_bar import TransportBar
from ui.waveform_view import SpanMark, WaveformView

# While playing, the playhead is saved every few seconds; after a seek while paused,
# once it has stayed put this long (so a burst of skips is one write, not ten).
PLAYHEAD_SAVE_INTERVAL_MS = 5_000
PLAYHEAD_SETTLE_MS = 1_000

# The size the workstation is designed for, and what a desktop takes from a screen
# that the screen's available geometry may not report: the window's title bar always,
# a taskbar when the platform (Xvfb, some window managers) reports none.
PREFERRED_SIZE = (1366, 768)
TITLE_BAR_PX = 32
TASKBAR_PX = 36

NO_AUDIO_OUTPUT_TEXT = (
    "No sound output found: the recording plays silently. Connect headphones or "
    "speakers and reopen the session."
)

log = logging.getLogger(__name__)


def peaks_cache_dir() -> Path:
    return Path(user_cache_dir("session-coder", appauthor=False)) / "peaks"


def relink_chosen_file(
    project: Project, view: RaterView, coding_id: int, expected_sha256: str | None, chosen: Path
) -> OpenedCoding:
    """Re-link a session's moved recording to a file the rater chose (blocking).

    Raises:
        InputError: the file's content is not the recording that was imported.
    """
    relink_session_audio(project, view.coding(coding_id).session_key, chosen, actor=view.code)
    opened = open_coding(project, view, coding_id)
    if not opened.audio_exists:
        raise InputError("the recording could not be re-linked; ask the lab lead")
    return opened


def _load_peaks(path: str, sha256: str | None, cancelled: Callable[[], bool]) -> Peaks:
    if sha256:
        return load_or_compute_peaks(path, sha256, peaks_cache_dir(), cancelled=cancelled)
    return compute_peaks(path, cancelled=cancelled)


def short_scale_name(scale: RatingScale) -> str:
    """A scale's name as a tab and a button show it: its abbreviation where the name
    starts with one ("GHES - Global Homework Engagement Scale" -> "GHES")."""
    head, sep, _rest = scale.name.partition(" - ")
    return head if sep and head else scale.name


class UncodableDialog(QDialog):
    """Collects a reason (and a text for "Other"); the window then calls the session.

    Marking a coding uncodable finishes it, so nothing is chosen in advance: the
    confirm button stays disabled until the choice passes the core's rule
    (:func:`coder.coding_rules.check_uncodable`), and Enter alone does nothing.
    """

    def __init__(self, reasons: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._reasons = reasons
        self.setWindowTitle("Mark the session uncodable")
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Use this when the session cannot be coded. The coding is then finished and "
            "only the lab lead can reopen it."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.reason = QComboBox()
        self.reason.addItems(list(reasons))
        self.reason.setPlaceholderText("Choose a reason…")
        self.reason.setCurrentIndex(-1)  # a deliberate choice, never a default
        self.text = QLineEdit()
        self.text.setPlaceholderText("In a few words (needed for “Other”)")
        # Room for the whole placeholder, and for the title beside the title bar's buttons.
        metrics = self.fontMetrics()
        self.text.setMinimumWidth(metrics.horizontalAdvance(self.text.placeholderText()) + 24)
        self.setMinimumWidth(metrics.horizontalAdvance(self.windowTitle()) + 160)
        form.addRow("Reason", self.reason)
        form.addRow("Details", self.text)
        layout.addLayout(form)
        self.problem = QLabel("")
        self.problem.setStyleSheet("color: #b91c1c;")
        self.problem.setWordWrap(True)
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.addButton("Mark uncodable", QDialogButtonBox.ButtonRole.AcceptRole)
        # Enter confirms only once the choice is complete: a disabled default button
        # does not click, so Ctrl+U, Enter cannot finish the coding by accident.
        self.ok_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.reason.currentIndexChanged.connect(self._update_ok)
        self.text.textChanged.connect(self._update_ok)
        self._update_ok()

    def chosen_reason(self) -> str:
        """The reason chosen, or "" while none is."""
        return self.reason.currentText() if self.reason.currentIndex() >= 0 else ""

    def _problem(self) -> str:
        """What is still missing from the choice ("" when it can be confirmed)."""
        try:
            check_uncodable(self._reasons, self.chosen_reason(), self.text.text())
        except InputError as exc:
            return str(exc)
        return ""

    def _update_ok(self) -> None:
        self.ok_button.setEnabled(not self._problem())
        self.problem.setText("")

    def accept(self) -> None:
        problem = self._problem()
        if problem:
            self.problem.setText(problem[:1].upper() + problem[1:] + ".")
            if self.chosen_reason():
                self.text.setFocus()
            else:
                self.reason.setFocus()
            return
        super().accept()


class CodingWindow(QMainWindow):
    """The workstation for one coding, or a group of them. See the module docstring.

    ``opened`` is one coding (:func:`coder.coding_session.open_coding`) or the codings
    of scales coded together (:func:`coder.coding_groups.open_coding_group`).
    ``session``, ``scoring`` and ``notes`` are those of the scale on screen.

    Signals:
        closed(): the window closed (the app shows the rater's queue again).
    """

    closed = Signal()

    def __init__(
        self,
        project: Project,
        view: RaterView,
        opened: OpenedCoding | OpenedGroup,
        runner: TaskRunner,
        settings: AppSettings,
        keymap: Keymap,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.project = project
        self.view = view
        self.runner = runner
        self.settings = settings
        self.keymap = keymap
        group = opened if isinstance(opened, OpenedGroup) else OpenedGroup((opened,))
        self._group = group
        # Every scale of a group codes the same session: its recording is the first's.
        self._opened = group.codings[0]
        state = self._opened.state
        self.sessions = [
            CodingSession(view, member.state, writer=partial(self._write, index))
            for index, member in enumerate(group.codings)
        ]
        self._current = group.current
        self.session = self.sessions[self._current]
        self._cancel_peaks = threading.Event()
        self._audio_problem = False
        self._write_problem = False
        self._closing = False
        self._pending_dialogs: list[Callable[[], QMessageBox]] = []
        self._dialog_open = False
        self.setWindowTitle(f"{state.session_key} · {self._scale_names()} — Session Coder")

        self.player = Player(self)
        self.player.set_volume(settings.volume)
        self.waveform = WaveformView()
        # The session's window (the scale's, moved by the session's offset) is decided
        # in coder.session_window; the player, the waveform and the notes follow it.
        window = self.listen_window
        if window.limits_playback:
            self.player.set_window(window.start_ms, window.end_ms, stay_inside=True)
            self.waveform.set_window(window.start_ms, window.end_ms)
        self.transport = TransportBar(
            self.player,
            self.waveform,
            skip_ms=self._skip_ms,
            focus_home=self.focus_home,
            toggle_stay=self.toggle_stay_in_window,
        )
        grouped = len(self.sessions) > 1
        self.scoring_panels = [
            ScoringPanel(
                session,
                focus_home=self.focus_home,
                scale_label=short_scale_name(session.scale) if grouped else "",
            )
            for session in self.sessions
        ]
        self.notes_panels = [
            NotesPanel(session, playhead=self.player.position, focus_home=self.focus_home)
            for session in self.sessions
        ]
        self.scoring = self.scoring_panels[self._current]
        self.notes = self.notes_panels[self._current]
        self.scale_tabs: QTabWidget | None = None
        self._build_layout()
        self.help_overlay = HelpOverlay(keymap, self)
        self.actions_by_id = make_actions(self, keymap, self._handlers())
        self.scale_actions: list[QAction] = []
        self._add_item_shortcuts()
        self._build_menus()

        self._playhead_timer = QTimer(self)
        self._playhead_timer.setInterval(PLAYHEAD_SAVE_INTERVAL_MS)
        self._playhead_timer.timeout.connect(self._save_playhead)
        self._playhead_timer.start()
        self._playhead_settle = QTimer(self)
        self._playhead_settle.setSingleShot(True)
        self._playhead_settle.setInterval(PLAYHEAD_SETTLE_MS)
        self._playhead_settle.timeout.connect(self._save_playhead)

        self.player.position_changed.connect(self._on_player_position_changed)
        self.player.duration_changed.connect(self.waveform.set_duration)
        self.player.playing_changed.connect(self._on_player_playing_changed)
        self.player.window_end_reached.connect(self._on_window_end_reached)
        self.player.failed.connect(self._on_player_failed)
        self.player.volume_changed.connect(self._on_player_volume_changed)
        self.waveform.seek_requested.connect(self._on_seek_requested)
        for index, session in enumerate(self.sessions):
            scoring, notes = self.scoring_panels[index], self.notes_panels[index]
            scoring.seek_requested.connect(self._on_seek_requested)
            scoring.span_toggle_requested.connect(self._toggle_span_of)
            scoring.submit_requested.connect(self.submit)
            scoring.uncodable_requested.connect(self.ask_uncodable)
            notes.seek_requested.connect(self._on_seek_requested)
            session.notes_changed.connect(partial(self._on_member_notes_changed, index))
            session.spans_changed.connect(partial(self._on_member_spans_changed, index))
            session.state_changed.connect(partial(self._on_member_state_changed, index))
            session.reset.connect(partial(self._on_member_reset, index))
        self._on_notes_changed()
        self._on_spans_changed("")
        self._on_state_changed(self.session.state)
        if state.duration_ms:
            self.waveform.set_duration(state.duration_ms)
        self.waveform.set_playhead(state.playhead_ms)
        QTimer.singleShot(0, self._after_open)

    # ------------------------------------------------------------------ layout

    def _build_layout(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(10, 8, 10, 6)
        layout.setSpacing(6)
        header = QHBoxLayout()
        state = self._opened.state
        self.title_label = QLabel(
            f"<span style='font-size:13pt;'><b>Session {state.session_key}</b></span>"
            f"&nbsp;&nbsp;<span style='color:#4b5563;'>{self._scale_names()}</span>"
        )
        header.addWidget(self.title_label, 1)
        # A recording that ends before the coding window does: said at once, in the
        # header (one line; the full sentence is the tooltip and a status message).
        window = self.listen_window
        shortfall = window.shortfall()
        self.window_notice = QLabel(
            f"Short recording: ends at {format_ms(window.recording_ms or 0)}, "
            f"the coding window at {format_ms(window.end_ms or 0)}"
            if shortfall
            else ""
        )
        self.window_notice.setObjectName("notice")
        self.window_notice.setToolTip(
            f"{shortfall[0].upper()}{shortfall[1:]}. Code what there is and tell your lab lead."
            if shortfall
            else ""
        )
        self.window_notice.setVisible(bool(shortfall))
        header.addWidget(self.window_notice)
        self.state_label = QLabel("")
        self.state_label.setObjectName("state")
        header.addWidget(self.state_label)
        help_button = QPushButton("Keys (F1)")
        help_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        help_button.clicked.connect(self.show_help)
        back = QPushButton("Back to my queue")
        back.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        back.clicked.connect(self.close)
        header.addWidget(help_button)
        header.addWidget(back)
        layout.addLayout(header)
        # Qt Multimedia plays into nothing, without an error, when there is no device.
        self.audio_notice = QLabel(NO_AUDIO_OUTPUT_TEXT)
        self.audio_notice.setObjectName("notice")
        self.audio_notice.setWordWrap(True)
        self.audio_notice.setVisible(not has_audio_output())
        layout.addWidget(self.audio_notice)

        self.waveform.setMinimumHeight(120)
        self.waveform.setMaximumHeight(190)
        layout.addWidget(self.waveform, 2)
        layout.addWidget(self.transport)
        splitters: list[QWidget] = []
        # Each scale's "Prepared by the lab" box (hidden when the lab prepared nothing).
        self.prepared_boxes = [PreparedFieldsBox(m.state.prepared) for m in self._group.codings]
        self.prepared_box = self.prepared_boxes[0]
        for scoring, notes, box in zip(
            self.scoring_panels, self.notes_panels, self.prepared_boxes, strict=True
        ):
            splitter = QSplitter(Qt.Orientation.Horizontal)
            splitter.addWidget(scoring)
            splitter.addWidget(notes)
            splitter.setStretchFactor(0, 3)
            splitter.setStretchFactor(1, 2)
            splitter.setSizes([780, 520])
            splitter.setChildrenCollapsible(False)
            page = QWidget()
            column = QVBoxLayout(page)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(box)
            column.addWidget(splitter, 1)
            splitters.append(page)
        if len(splitters) == 1:
            layout.addWidget(splitters[0], 5)
        else:
            # Scales coded together: a tab per scale, each its own coding.
            self.scale_tabs = QTabWidget()
            self.scale_tabs.setDocumentMode(True)
            self.scale_tabs.tabBar().setFocusPolicy(Qt.FocusPolicy.NoFocus)
            for index, splitter in enumerate(splitters):
                self.scale_tabs.addTab(splitter, self._tab_text(index))
                self.scale_tabs.setTabToolTip(index, self.sessions[index].scale.name)
            self.scale_tabs.setCurrentIndex(self._current)
            self.scale_tabs.currentChanged.connect(self._on_scale_tab_changed)
            layout.addWidget(self.scale_tabs, 5)
        self.setCentralWidget(central)
        # The save state lives beside Submit; the status bar keeps the passing messages.
        self.save_label = self.scoring.save_state
        self.statusBar()

    # ------------------------------------------------------------------ scales

    @property
    def listen_window(self) -> SessionWindow:
        """The window the player keeps to: the coding's, or the group's
        (:func:`coder.session_window.group_window`)."""
        return group_window([session.window for session in self.sessions])

    def _scale_names(self) -> str:
        return " + ".join(session.scale.name for session in self.sessions)

    def _tab_text(self, index: int) -> str:
        session = self.sessions[index]
        state = STATE_LABELS.get(session.state, session.state)
        return f"{short_scale_name(session.scale)} · {state}"

    def show_scale(self, index: int) -> None:
        """Show the scale at ``index`` of the group (its tab)."""
        if self.scale_tabs is not None:
            self.scale_tabs.setCurrentIndex(index % len(self.sessions))

    def _next_scale(self, step: int) -> None:
        self.show_scale(self._current + step)

    @Slot(int)
    def _on_scale_tab_changed(self, index: int) -> None:
        self.notes.flush()
        self.scoring.flush()
        self._current = index
        self.session = self.sessions[index]
        self.scoring = self.scoring_panels[index]
        self.notes = self.notes_panels[index]
        self._on_session_reset()
        self.focus_home()

    def _select_item_of(self, index: int, item_id: str) -> None:
        self.show_scale(index)
        self.scoring.select_item(item_id)

    def _on_member_notes_changed(self, index: int) -> None:
        if index == self._current:
            self._on_notes_changed()

    def _on_member_spans_changed(self, index: int, item_id: str) -> None:
        if index == self._current:
            self._on_spans_changed(item_id)

    def _on_member_state_changed(self, index: int, state: str) -> None:
        if self.scale_tabs is not None:
            self.scale_tabs.setTabText(index, self._tab_text(index))
        if index == self._current:
            self._on_state_changed(state)

    def _on_member_reset(self, index: int) -> None:
        if self.scale_tabs is not None:
            self.scale_tabs.setTabText(index, self._tab_text(index))
        if index == self._current:
            self._on_session_reset()

    def fit_to_screen(self) -> None:
        """Take the preferred size, or less so the whole window is on its screen.

        On a 1366x768 laptop that leaves about 1366x700 for the window once the title
        bar and the taskbar are counted; the panels scroll inside it.
        """
        screen = self.screen() or QGuiApplication.primaryScreen()
        width, height = PREFERRED_SIZE
        if screen is None:
            self.resize(width, height)
            return
        available = screen.availableGeometry()
        room = available.height() - TITLE_BAR_PX
        if available == screen.geometry():  # no taskbar reported: assume there is one
            room -= TASKBAR_PX
        self.resize(min(width, available.width()), min(height, room))
        self.move(available.topLeft())

    def _handlers(self) -> dict[str, Callable[[], None]]:
        player = self.player
        handlers: dict[str, Callable[[], None]] = {
            "play_pause": player.toggle,
            "skip_back": lambda: player.skip(-self._skip_ms()),
            "skip_forward": lambda: player.skip(self._skip_ms()),
            "skip_back_long": lambda: player.skip(-self._long_skip_ms()),
            "skip_forward_long": lambda: player.skip(self._long_skip_ms()),
            "jump_to_time": self.transport.focus_jump_field,
            "go_window_start": lambda: player.seek(player.window()[0]),
            "speed_down": player.slower,
            "speed_up": player.faster,
            "speed_reset": lambda: player.set_rate(1.0),
            "volume_down": lambda: self._change_volume(-0.1),
            "volume_up": lambda: self._change_volume(0.1),
            "stay_in_window": self.toggle_stay_in_window,
            "zoom_in": lambda: self.waveform.zoom_in(),
            "zoom_out": self.waveform.zoom_out,
            "zoom_all": self.waveform.zoom_all,
            "add_note": self._guarded(self.add_note),
            "delete_note": self._guarded(self.delete_note),
            "span_toggle": self._guarded(lambda: self._span(None)),
            "span_start": self._guarded(lambda: self._span(True)),
            "span_stop": self._guarded(lambda: self._span(False)),
            # The scale on screen at the time of the key (a group has one per tab).
            "next_item": lambda: self.scoring.next_item(),
            "prev_item": lambda: self.scoring.previous_item(),
            "clear_score": self._guarded(lambda: self.scoring.clear_current()),
            "uncodable": self.ask_uncodable,
            "submit": self.submit,
            "help": self.show_help,
            "edit_keys": self.edit_keys,
            "close_coding": self.close,
        }
        for digit in range(10):
            handlers[f"score_{digit}"] = self._guarded(lambda d=digit: self._score(d))
        return handlers

    def _add_item_shortcuts(self) -> None:
        """Keys the scale gives its items select them (unless the keymap uses the key)."""
        taken = {s.toString() for action in self.actions_by_id.values() for s in action.shortcuts()}
        if len(self.sessions) > 1:
            # Scales coded together: Ctrl+PgDown / Ctrl+PgUp show the next / previous one.
            for text, keys, step in (
                ("Next scale", "Ctrl+PgDown", 1),
                ("Previous scale", "Ctrl+PgUp", -1),
            ):
                action = QAction(text, self)
                action.setShortcut(QKeySequence(keys))
                action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
                action.triggered.connect(partial(self._next_scale, step))
                self.addAction(action)
                self.scale_actions.append(action)
                taken.update(k.toString() for k in action.shortcuts())
        for index, session in enumerate(self.sessions):
            self._add_scale_item_shortcuts(index, session.scale, taken)

    def _add_scale_item_shortcuts(self, index: int, scale: RatingScale, taken: set[str]) -> None:
        for item in scale.items:
            if not item.shortcut:
                continue
            try:
                keys = parse_keys(
                    item.shortcut.upper() if len(item.shortcut) == 1 else item.shortcut
                )
            except ValueError:
                continue
            if not keys or keys[0].toString() in taken:
                continue
            action = QAction(f"Go to item: {item.label}", self)
            action.setShortcut(keys[0])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(partial(self._select_item_of, index, item.id))
            self.addAction(action)
            taken.add(keys[0].toString())

    def _build_menus(self) -> None:
        groups = {
            "Playback": "&Playback",
            "Waveform": "&Waveform",
            "Notes and spans": "&Notes",
            "Scoring": "&Scoring",
            "Help": "&Help",
        }
        menus = {group: self.menuBar().addMenu(title) for group, title in groups.items()}
        self.locate_action = QAction("Locate the recording…", self)
        self.locate_action.triggered.connect(self.locate_audio)
        self.locate_action.setEnabled(False)
        menus["Playback"].addAction(self.locate_action)
        menus["Playback"].addSeparator()
        score_menu = None
        for spec in ACTIONS:
            action = self.actions_by_id.get(spec.id)
            if action is None:
                continue
            if spec.id.startswith("score_"):
                if score_menu is None:
                    score_menu = menus["Scoring"].addMenu("Score the current item")
                score_menu.addAction(action)
                continue
            menus[spec.group].addAction(action)

    # ------------------------------------------------------------------ after open

    def _show_scale_changed(self, opened: OpenedCoding) -> QMessageBox:
        state = opened.state
        return show_message(
            self,
            "The scale has changed",
            f"The lab lead has updated “{state.scale.name}” to version "
            f"{opened.newest_scale_version} since this coding was assigned.",
            details=f"This coding keeps version {state.scale.version}, the one it was "
            "assigned with, so your scores keep their meaning. There is nothing "
            "you need to do.",
            on_choice=self._next_dialog,
        )

    @Slot()
    def _after_open(self) -> None:
        if self._closing:  # closed before the event loop came round
            return
        for opened in self._group.codings:
            if opened.newest_scale_version > opened.state.scale.version:
                self._queue_dialog(partial(self._show_scale_changed, opened))
        if self.window_notice.isVisible():
            self.statusBar().showMessage(self.window_notice.toolTip(), 15000)
        self._load_audio()
        self.focus_home()

    @property
    def _audio_session(self) -> CodingSession:
        """The coding whose stored recording the window plays (the group's first: every
        scale of a group codes the same session)."""
        return self.sessions[0]

    def _load_audio(self) -> None:
        state = self._audio_session.coding
        if not state.audio_path:
            self._audio_failed(
                AudioMissingError("no recording is linked to this session in the project")
            )
            return
        if not self._opened.audio_exists:
            self._audio_failed(AudioMissingError(f"the recording is not at {state.audio_path}"))
            return
        self._audio_problem = False
        self.locate_action.setEnabled(False)
        self.waveform.set_message("Drawing the waveform…")
        self.player.load(
            state.audio_path, position_ms=state.playhead_ms, duration_ms=state.duration_ms or 0
        )
        self._cancel_peaks.clear()
        self.runner.submit(
            _load_peaks,
            state.audio_path,
            state.sha256,
            self._cancel_peaks.is_set,
            on_done=self._on_peaks_loaded,
            on_error=self._on_peaks_failed,
        )

    def _on_peaks_loaded(self, peaks: Peaks) -> None:
        if self._closing:
            return
        self.waveform.set_peaks(peaks)

    def _on_peaks_failed(self, error: BaseException) -> None:
        if self._closing or isinstance(error, Cancelled):
            return
        self._audio_failed(error)

    # ------------------------------------------------------------------ audio problems

    def _audio_failed(self, error: BaseException) -> None:
        """Say calmly what is wrong with the recording and what to do; only once."""
        if self._audio_problem:
            return
        self._audio_problem = True
        key = self._audio_session.session_key
        self.waveform.set_message("No recording to show")
        uncodable = (
            "If it cannot be fixed, mark the session uncodable with the reason "
            "“Audio failure” (Ctrl+U)."
        )
        if isinstance(error, AudioMissingError):
            path = self._audio_session.coding.audio_path
            can_locate = bool(path) and bool(self._audio_session.coding.sha256)
            details = (
                "It may have been moved, renamed, or be on a drive that is not connected. "
                + (
                    "If you know where it is now, choose “Locate the file…”: Session Coder "
                    "checks that it is the same recording and remembers the new place."
                    if can_locate
                    else "Ask the lab lead to link the recording to the session."
                )
            )
            where = f" It was at:\n{path}" if path else ""
            choices = [Choice("close", "Close", QMessageBox.ButtonRole.RejectRole)]
            self.locate_action.setEnabled(can_locate)
            if can_locate:
                self.waveform.set_message(
                    "Recording not found — Playback ▸ Locate the recording… to find it"
                )
                choices.insert(0, Choice("locate", "Locate the file…"))
            self._queue_dialog(
                lambda: show_message(
                    self,
                    "Recording not found",
                    f"The recording of session {key} cannot be found.{where}",
                    details=details,
                    icon="warning",
                    choices=choices,
                    default="locate" if can_locate else "close",
                    on_choice=self._on_missing_choice,
                )
            )
            return
        if isinstance(error, DecoderMissingError):
            title, what = (
                "A decoder is missing",
                (
                    "Ask whoever looks after this computer to install it, then open the "
                    "session again. Your scores and notes are kept."
                ),
            )
        elif isinstance(error, UnsupportedAudioError):
            title, what = (
                "Format not supported",
                (
                    "Ask the lab lead to convert the recording (to WAV or FLAC) and re-import "
                    f"it. {uncodable}"
                ),
            )
        elif isinstance(error, CorruptAudioError):
            title, what = (
                "The recording is damaged",
                (f"Tell the lab lead, who can replace the file from the original. {uncodable}"),
            )
        elif isinstance(error, CoderError):
            title, what = "The recording cannot be played", uncodable
        else:
            title, what = (
                "The recording cannot be played",
                (f"Something unexpected went wrong while reading it. {uncodable}"),
            )
        message = str(error) if isinstance(error, CoderError) else ""
        self._queue_dialog(
            lambda: show_message(
                self,
                title,
                message or f"The recording of session {key} cannot be played.",
                details=what,
                icon="warning",
                on_choice=self._next_dialog,
            )
        )

    @Slot(str, str)
    def _on_player_failed(self, kind: str, message: str) -> None:
        if self._closing:
            return
        text = f"the player cannot open this recording ({message or kind})"
        errors = {
            "missing": AudioMissingError,
            "unsupported": UnsupportedAudioError,
        }
        self._audio_failed(errors.get(kind, CorruptAudioError)(text))

    def _on_missing_choice(self, key: str) -> None:
        if key == "locate":
            self.locate_audio()
        self._next_dialog(key)

    def locate_audio(self) -> None:
        path = self._audio_session.coding.audio_path or ""
        folder = str(Path(path).parent) if path and Path(path).parent.is_dir() else ""
        patterns = " ".join(f"*{ext}" for ext in sorted(AUDIO_EXTENSIONS))
        choose_file(
            self,
            f"Find the recording of session {self._audio_session.session_key}",
            name_filter=f"Audio files ({patterns});;All files (*)",
            directory=folder,
            on_chosen=self.relink_to,
        )

    def relink_to(self, chosen: str) -> None:
        """Check a chosen file against the stored fingerprint and use it (in the worker)."""
        state = self._audio_session.coding
        self.statusBar().showMessage("Checking the file you chose…")
        self.runner.read(
            relink_chosen_file,
            self.project,
            self.view,
            self._audio_session.coding_id,
            state.sha256,
            Path(chosen),
            on_done=self._on_relinked,
            on_error=self._on_relink_failed,
        )

    def _on_relinked(self, opened: OpenedCoding) -> None:
        if self._closing:
            return
        self._opened = opened
        self._audio_session.replace_state(opened.state)
        for index, session in enumerate(self.sessions[1:], 1):  # the same recording
            self.runner.read(
                self.view.coding,
                session.coding_id,
                on_done=partial(self._on_reloaded, index),
            )
        self.statusBar().showMessage("Found the recording; it will be used from now on.", 8000)
        self._load_audio()

    def _on_relink_failed(self, error: BaseException) -> None:
        self.statusBar().clearMessage()
        self._queue_dialog(
            lambda: show_message(
                self,
                "Not this file",
                str(error) if isinstance(error, CoderError) else "The file could not be used.",
                icon="warning",
                choices=[
                    Choice("locate", "Choose another file…"),
                    Choice("close", "Close", QMessageBox.ButtonRole.RejectRole),
                ],
                default="locate",
                on_choice=self._on_missing_choice,
            )
        )

    # ------------------------------------------------------------------ dialogs in turn

    def _queue_dialog(self, open_dialog: Callable[[], QMessageBox]) -> None:
        """Show one message at a time: the next opens when the previous is answered."""
        self._pending_dialogs.append(open_dialog)
        if not self._dialog_open:
            self._next_dialog()

    def _next_dialog(self, _key: str = "") -> None:
        self._dialog_open = False
        if self._pending_dialogs and not self._closing:
            self._dialog_open = True
            self._pending_dialogs.pop(0)()

    # ------------------------------------------------------------------ writing

    def _write(self, index: int, fn: Callable[[], None]) -> None:
        """The writer of the coding at ``index`` of the window (the storage worker)."""
        self._show_save_state("Saving…")
        self.runner.write(
            fn, on_done=self._on_write_done, on_error=partial(self._on_write_failed, index)
        )

    def _show_save_state(self, text: str) -> None:
        # One worker writes every scale's coding: the state is the window's.
        for panel in self.scoring_panels:
            panel.show_save_state(text)

    def _on_write_done(self, _result: object) -> None:
        if self.runner.pending_writes == 0:
            self._show_save_state(SAVED_TEXT)

    def _on_write_failed(self, index: int, error: BaseException) -> None:
        self._show_save_state("Not saved")
        if self._write_problem or self._closing:
            return
        self._write_problem = True
        show_error(self, error, title="Not saved", on_choice=self._after_write_problem)
        # Show what the store really holds.
        self.runner.read(
            self.view.coding,
            self.sessions[index].coding_id,
            on_done=partial(self._on_reloaded, index),
        )

    def _after_write_problem(self, _key: str) -> None:
        self._write_problem = False

    def _on_reloaded(self, index: int, state: CodingState) -> None:
        if not self._closing:
            self.sessions[index].replace_state(state)
            # The label keeps saying "Not saved" until a later write commits: the change
            # that failed (e.g. StorageLostError) is not on disk, whatever the reload shows.

    def _guarded(self, fn: Callable[[], object]) -> Callable[[], None]:
        """Run a rater action; a refusal (read only, bad value) becomes a calm message."""

        def run() -> None:
            if not self.session.editable:
                self.statusBar().showMessage(
                    "This coding is finished and read only; the lab lead can reopen it.", 5000
                )
                return
            try:
                fn()
            except CoderError as exc:
                self.statusBar().showMessage(str(exc), 6000)

        return run

    # ------------------------------------------------------------------ actions

    def focus_home(self) -> None:
        """Give the keyboard back to the window (the waveform holds it)."""
        self.waveform.setFocus(Qt.FocusReason.OtherFocusReason)

    def _skip_ms(self) -> int:
        return round(self.settings.skip_s * 1000)

    def _long_skip_ms(self) -> int:
        return round(self.settings.long_skip_s * 1000)

    def _change_volume(self, delta: float) -> None:
        self.player.set_volume(self.player.volume() + delta)

    @Slot(float)
    def _on_player_volume_changed(self, volume: float) -> None:
        self.settings.volume = volume  # the next session starts at the same volume

    def add_note(self) -> None:
        self.notes.add_note_at(self.player.position())

    def delete_note(self) -> None:
        """Delete the note selected in the list (Delete), wherever the keyboard is."""
        note = self.notes.delete_selected()
        self.statusBar().showMessage(
            f"Deleted the note at {format_ms(note.position_ms)}."
            if note is not None
            else "No note selected: click a note in the list first.",
            5000,
        )

    def _score(self, digit: int) -> None:
        item = self.scoring.current_item()
        if not self.scoring.score_digit(digit):
            if item.kind in CHOICE_KINDS and item.values:
                lo, hi = item.values[0], item.values[-1]
                hint = f"“{item.label}” takes {lo}–{hi}"
            elif item.kind == ItemKind.DURATION:
                hint = "mark spans with M, or type the seconds in the field"
            else:
                hint = "type in the text field"
            self.statusBar().showMessage(f"{digit} is not a score here: {hint}.", 5000)

    def _span(self, start: bool | None) -> None:
        item = self.scoring.duration_item_for_spans()
        if item is None:
            self.statusBar().showMessage("This scale has no time spans to mark.", 5000)
            return
        is_open = self.session.open_span(item.id) is not None
        if start is True and is_open:
            self.statusBar().showMessage("A span is already open; stop it first (E or M).", 5000)
            return
        if start is False and not is_open:
            self.statusBar().showMessage("No span is open; start one first (S or M).", 5000)
            return
        self._toggle_span_of(item.id)

    def _toggle_span_of(self, item_id: str) -> None:
        if not self.session.editable:
            return
        position = self.player.position()
        was_open = self.session.open_span(item_id) is not None
        self.session.toggle_span(item_id, position)
        self.scoring.select_item(item_id)
        verb = "stopped" if was_open else "started"
        self.statusBar().showMessage(f"Span {verb} at {format_ms(position, tenths=True)}.", 4000)

    def show_help(self) -> None:
        self.help_overlay.show_over()

    def edit_keys(self) -> None:
        dialog = KeymapDialog(self.keymap, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.keymap.apply(dialog.keys()))
        dialog.open()
        dialog_hub().announce(dialog)

    def ask_uncodable(self) -> None:
        if not self.session.editable:
            self._guarded(lambda: None)()
            return
        self.notes.flush()  # a note being typed is kept before the coding closes
        self.scoring.flush()
        dialog = UncodableDialog(self.session.scale.uncodable_reasons, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(
            lambda: self._mark_uncodable(dialog.chosen_reason(), dialog.text.text())
        )
        dialog.open()
        dialog_hub().announce(dialog)

    def _mark_uncodable(self, reason: str, text: str) -> None:
        try:
            self.session.set_uncodable(reason, text.strip())
        except CoderError as exc:
            show_error(self, exc)

    def submit(self) -> None:
        """Check every required item is scored, confirm, and submit."""
        if not self.session.editable:
            self._guarded(lambda: None)()
            return
        self.notes.flush()
        self.scoring.flush()
        missing = self.session.missing_required()
        if missing:
            self.scoring.mark_missing(missing)
            listed = "\n".join(f"• {label}" for label in missing)
            show_message(
                self,
                "Not finished yet",
                f"These items are not scored yet:\n{listed}",
                details="Score them, then submit again. The first one is selected.",
                icon="information",
            )
            return
        show_message(
            self,
            "Submit this coding?",
            f"Submit {self._coding_words(self.session)} of session {self.session.session_key}?",
            details="After submitting you cannot change it; the lab lead can reopen it if needed.",
            icon="question",
            choices=[
                Choice("submit", "Submit"),
                Choice("cancel", "Not yet", QMessageBox.ButtonRole.RejectRole),
            ],
            default="submit",
            # The coding on screen now, also if the rater switches scales meanwhile.
            on_choice=partial(self._on_submit_choice, self._current),
        )

    def _coding_words(self, session: CodingSession) -> str:
        """ "your coding", or in a group "your GHES coding"."""
        if len(self.sessions) > 1:
            return f"your {short_scale_name(session.scale)} coding"
        return "your coding"

    def _on_submit_choice(self, index: int, key: str) -> None:
        if key != "submit":
            self.focus_home()
            return
        session = self.sessions[index]
        try:
            session.submit()
        except CoderError as exc:
            show_error(self, exc)
            return
        # A read in the storage worker runs after the submit write queued just now.
        self.runner.read(
            load_feedback,
            self.project,
            self.view.code,
            session.coding_id,
            on_done=self._on_feedback_loaded,
            on_error=self._on_feedback_failed,
        )
        done = f"{self._coding_words(session)[0].upper()}{self._coding_words(session)[1:]}"
        still = [i for i, other in enumerate(self.sessions) if other.editable]
        if still:
            # Scales coded together: the rater goes on listening for the others.
            names = ", ".join(short_scale_name(self.sessions[i].scale) for i in still)
            show_message(
                self,
                "Submitted",
                f"{done} of session {session.session_key} is submitted. Still to do: {names}.",
                choices=[
                    Choice("next", f"Go to {short_scale_name(self.sessions[still[0]].scale)}"),
                    Choice("queue", "Back to my queue", QMessageBox.ButtonRole.RejectRole),
                ],
                default="next",
                on_choice=partial(self._after_submit_in_group, still[0]),
            )
            return
        self.player.pause()
        show_message(
            self,
            "Submitted",
            f"{done} of session {session.session_key} is submitted. Thank you.",
            choices=[
                Choice("queue", "Back to my queue"),
                Choice("stay", "Stay here", QMessageBox.ButtonRole.RejectRole),
            ],
            default="queue",
            on_choice=lambda key: self.close() if key == "queue" else self.focus_home(),
        )

    def _after_submit_in_group(self, next_index: int, key: str) -> None:
        if key == "queue":
            self.close()
            return
        self.show_scale(next_index)
        self.focus_home()

    def _on_feedback_loaded(self, feedback: Feedback | None) -> None:
        if feedback is None:  # not a training session, or no finished master coding
            return
        # No parent: the rater may go back to the queue at once, which deletes this
        # window, and the feedback must stay open. The dialog hub keeps a reference
        # until it is closed, and WA_DeleteOnClose frees it then.
        dialog = FeedbackDialog(feedback)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        dialog_hub().announce(dialog)

    def _on_feedback_failed(self, error: BaseException) -> None:
        # The submit itself succeeded; missing feedback is no reason to alarm the rater.
        log.warning("feedback on a training coding could not be loaded", exc_info=error)

    # ------------------------------------------------------------------ reactions

    @Slot(int)
    def _on_player_position_changed(self, position: int) -> None:
        self.waveform.set_playhead(position)
        for session in self.sessions:
            session.set_playhead(position)
        if not self.player.is_playing() and self.player.is_loaded:
            self._playhead_settle.start()

    @Slot(bool)
    def _on_player_playing_changed(self, playing: bool) -> None:
        if not playing:
            self._save_playhead()

    @Slot()
    def _on_window_end_reached(self) -> None:
        self.statusBar().showMessage(
            "End of the coding window. Press W to listen beyond it on purpose "
            "(you are asked first, and it is recorded).",
            6000,
        )

    def toggle_stay_in_window(self) -> None:
        """W: leave the coding window (after a confirmation; recorded) or go back to it."""
        player = self.player
        if not player.has_window:
            return
        if not player.stays_in_window():
            player.set_stay_in_window(True)
            for session in self.sessions:  # each coding's history says so
                session.return_to_window(player.position())
            self.statusBar().showMessage("Back inside the coding window.", 4000)
            return
        show_message(
            self,
            "Listen outside the coding window?",
            f"The coding window of this session is {self.listen_window.describe()}.",
            details=(
                "Only the window is rated. Leaving it is recorded in this coding's history, "
                "and notes or spans you mark outside it are flagged for the lab lead. "
                "Press W again to go back inside."
            ),
            icon="question",
            choices=[
                Choice("leave", "Listen outside"),
                Choice("stay", "Stay inside", QMessageBox.ButtonRole.RejectRole),
            ],
            default="stay",
            on_choice=self._on_leave_window_choice,
        )

    def _on_leave_window_choice(self, key: str) -> None:
        if key == "leave":
            self.player.set_stay_in_window(False)
            for session in self.sessions:
                session.leave_window(self.player.position())
            self.statusBar().showMessage(
                "Outside the coding window: recorded. Press W to go back inside.", 6000
            )
        self.focus_home()

    @Slot(int)
    def _on_seek_requested(self, position: int) -> None:
        self.player.seek(position)

    def _save_playhead(self) -> None:
        for session in self.sessions:
            session.save_playhead()

    def _on_notes_changed(self) -> None:
        self.waveform.set_notes([n.position_ms for n in self.session.notes()])

    def _on_spans_changed(self, _item_id: str) -> None:
        duration_items = [i for i in self.session.scale.items if i.kind == ItemKind.DURATION]
        marks = []
        for item in duration_items:
            for span in self.session.spans(item.id):
                label = item.label if len(duration_items) > 1 else ""
                marks.append(SpanMark(span.start_ms, span.end_ms, label))
        self.waveform.set_spans(marks)

    def _on_state_changed(self, state: str) -> None:
        text = STATE_LABELS.get(state, state)
        if not self.session.editable:
            text += " · read only"
        self.state_label.setText(text)
        self.state_label.setProperty("state", state)
        self.state_label.style().unpolish(self.state_label)
        self.state_label.style().polish(self.state_label)
        for action_id in ("add_note", "span_toggle", "span_start", "span_stop", "submit"):
            self.actions_by_id[action_id].setEnabled(self.session.editable)

    def _on_session_reset(self) -> None:
        self._on_notes_changed()
        self._on_spans_changed("")
        self._on_state_changed(self.session.state)

    # ------------------------------------------------------------------ closing

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closing:
            event.accept()
            return
        self._closing = True
        self._cancel_peaks.set()
        self._playhead_timer.stop()
        self._playhead_settle.stop()
        # A note being typed is committed now (Qt sends no focus-out when the window is
        # not active, so moving the focus home alone is not enough).
        for notes in self.notes_panels:
            notes.flush()
        self.focus_home()
        for scoring in self.scoring_panels:
            scoring.flush()
        self.player.pause()
        for session in self.sessions:
            session.set_playhead(self.player.position())
            session.save_playhead()
        self.player.unload()
        for scoring, notes in zip(self.scoring_panels, self.notes_panels, strict=True):
            scoring.detach()
            notes.detach()
        # Closing is the one moment the UI may wait for the disk: the last writes must
        # be in the store before the window (and perhaps the app) goes away.
        self.runner.wait_for_writes()
        event.accept()
        self.closed.emit()
