"""The small dialogs of the Certification tab: they collect values and return them.

Each dialog only gathers what the lead chooses; the tab then runs the one core
function of :mod:`coder.certification` for the job (MNELAB's ``CropDialog`` pattern).
They are opened with ``open()`` and announced on :func:`ui.dialogs.dialog_hub`, like
every dialog of the app.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from coder.reliability import ICC_FORMS
from coder.scales import CertificationCriterion
from ui.dialogs import dialog_hub


def _explain(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color:#374151;")
    return label


class _Dialog(QDialog):
    """OK/Cancel dialog with an explanation on top; ``open()`` announces it."""

    def __init__(self, title: str, text: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.body = QVBoxLayout(self)
        self.body.addWidget(_explain(text))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.setMinimumWidth(480)  # the explanation wraps at a readable width

    def ok_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def finish_layout(self) -> None:
        self.body.addWidget(self.buttons)

    def open(self) -> None:
        super().open()
        dialog_hub().announce(self)


class CriterionDialog(_Dialog):
    """The criterion of one scale: ICC form and minimum, share within one point, sessions.

    ``reset_requested`` is True when the lead chose to go back to the scale file's.
    """

    def __init__(
        self, scale_name: str, criterion: CertificationCriterion, parent: QWidget | None = None
    ) -> None:
        super().__init__(
            "Certification criterion",
            f"A rater is certified on {scale_name} when their training codings agree with "
            "the master this well. Changing it here applies to this project only.",
            parent,
        )
        self.reset_requested = False
        self.icc_form = QComboBox()
        self.icc_form.addItems(list(ICC_FORMS))
        self.icc_form.setCurrentText(criterion.icc_form)
        self.min_icc = QDoubleSpinBox()
        self.min_icc.setRange(-1.0, 1.0)
        self.min_icc.setDecimals(2)
        self.min_icc.setSingleStep(0.05)
        self.min_icc.setValue(criterion.min_icc)
        self.min_within_one = QSpinBox()
        self.min_within_one.setRange(0, 100)
        self.min_within_one.setSuffix(" %")
        self.min_within_one.setValue(round(criterion.min_within_one * 100))
        self.min_sessions = QSpinBox()
        self.min_sessions.setRange(1, 100)
        self.min_sessions.setValue(criterion.min_sessions)
        form = QFormLayout()
        form.addRow("ICC form", self.icc_form)
        form.addRow("Minimum ICC", self.min_icc)
        form.addRow("Within one point of the master, at least", self.min_within_one)
        form.addRow("Training sessions compared, at least", self.min_sessions)
        self.body.addLayout(form)
        self.reset_button = self.buttons.addButton(
            "Use the scale file's criterion", QDialogButtonBox.ButtonRole.ResetRole
        )
        self.reset_button.clicked.connect(self._on_reset_clicked)
        self.finish_layout()

    @Slot()
    def _on_reset_clicked(self) -> None:
        self.reset_requested = True
        self.accept()

    def criterion(self) -> CertificationCriterion:
        """The criterion as entered (checked by the core when it is set)."""
        return CertificationCriterion(
            icc_form=self.icc_form.currentText(),
            min_icc=round(self.min_icc.value(), 2),
            min_within_one=self.min_within_one.value() / 100,
            min_sessions=self.min_sessions.value(),
        )


class OverrideDialog(_Dialog):
    """The lead's decision for one rater on one scale, with the reason it is kept with."""

    def __init__(
        self,
        rater: str,
        scale_name: str,
        current: bool | None,
        reason: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            f"Override for {rater}",
            f"Decide whether {rater} may code real {scale_name} sessions, whatever the "
            "agreement with the master says. The reason is kept in the history.",
            parent,
        )
        self.allow_button = QRadioButton(f"Allow {rater} real sessions")
        self.bar_button = QRadioButton(f"Keep {rater} from real sessions")
        self.clear_button = QRadioButton("No override: follow the criterion")
        self.group = QButtonGroup(self)
        for button in (self.allow_button, self.bar_button, self.clear_button):
            self.group.addButton(button)
            self.body.addWidget(button)
        {True: self.allow_button, False: self.bar_button, None: self.clear_button}[
            current
        ].setChecked(True)
        self.reason = QLineEdit(reason)
        self.reason.setPlaceholderText("Why? (required to allow or keep out)")
        form = QFormLayout()
        form.addRow("Reason", self.reason)
        self.body.addLayout(form)
        self.hint = _explain("")
        self.body.addWidget(self.hint)
        self.finish_layout()
        self.group.buttonToggled.connect(self._update)
        self.reason.textChanged.connect(self._update)
        self._update()

    def choice(self) -> bool | None:
        """True: allow, False: keep out, None: remove the override."""
        if self.allow_button.isChecked():
            return True
        if self.bar_button.isChecked():
            return False
        return None

    @Slot()
    def _update(self, *_args: object) -> None:
        needs_reason = self.choice() is not None
        missing = needs_reason and not self.reason.text().strip()
        self.reason.setEnabled(needs_reason)
        self.ok_button().setEnabled(not missing)
        self.hint.setText("Give a reason to save the override." if missing else "")


class ChecklistDialog(_Dialog):
    """Tick some of a list (sessions, raters); OK needs at least one ticked."""

    def __init__(
        self,
        title: str,
        text: str,
        entries: Sequence[tuple[str, str, bool]],
        parent: QWidget | None = None,
        *,
        allow_none: bool = False,
    ) -> None:
        """Args:
        entries: (key, shown text, ticked) of each line.
        allow_none: OK is enabled with nothing ticked (unticking is the change).
        """
        super().__init__(title, text, parent)
        self._allow_none = allow_none
        self.list = QListWidget()
        for key, shown, ticked in entries:
            item = QListWidgetItem(shown)
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.body.addWidget(self.list, 1)
        # Wide enough for the longest line, tall enough for a dozen.
        self.list.setMinimumWidth(min(760, self.list.sizeHintForColumn(0) + 40))
        self.list.setMinimumHeight(min(12, max(self.list.count(), 4)) * 22)
        self.finish_layout()
        self.list.itemChanged.connect(self._update)
        self._update()

    def checked(self) -> list[str]:
        """The keys ticked, in list order."""
        out = []
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def set_checked(self, key: str, ticked: bool) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == key:
                item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)

    @Slot()
    def _update(self, *_args: object) -> None:
        self.ok_button().setEnabled(self._allow_none or bool(self.checked()))


class MasterCodingDialog(ChecklistDialog):
    """Who enters the master coding of which training sessions.

    The master's code is one of the raters, or a new code (such as ``MASTER`` for a
    consensus of experts), added as a rater with the master codings.
    """

    #: The code offered when no master has entered codings of the scale yet.
    DEFAULT_MASTER = "MASTER"

    def __init__(
        self,
        scale_name: str,
        sessions: Sequence[str],
        raters: Sequence[str],
        preferred: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            "Assign master codings",
            f"The master coding of a training session is the expert's {scale_name} scores "
            "that raters in training are compared with. Choose the rater code that enters "
            "it (an expert, or one code for a consensus of experts), then open each one "
            "with Enter master coding.",
            [(key, key, True) for key in sessions],
            parent,
        )
        self._raters = list(raters)
        self.master = QComboBox()
        self.master.setEditable(True)
        self.master.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.master.addItems(self._raters)
        self.master.setCurrentText(preferred or self.DEFAULT_MASTER)
        self.new_hint = _explain("")
        form = QFormLayout()
        form.addRow("Master rater code", self.master)
        form.addRow("", self.new_hint)
        self.body.insertLayout(1, form)
        self.master.currentTextChanged.connect(self._update)
        self._update()

    def master_rater(self) -> str:
        return self.master.currentText().strip()

    def is_new_rater(self) -> bool:
        """The code is not one of the project's raters yet: it is added with the codings."""
        return self.master_rater() not in self._raters

    @Slot()
    def _update(self, *_args: object) -> None:
        super()._update()
        if not hasattr(self, "master"):
            return  # the checklist is being filled, before the code's box exists
        code = self.master_rater()
        self.new_hint.setText(
            f"{code} is not a rater of this project yet: it is added as one."
            if code and self.is_new_rater()
            else ""
        )
        self.ok_button().setEnabled(bool(code) and bool(self.checked()))


class RecalibrationDialog(_Dialog):
    """How often certified raters get an unannounced drift check."""

    def __init__(self, scale_name: str, every: int | None, parent: QWidget | None = None) -> None:
        super().__init__(
            "Schedule drift checks",
            f"Certified raters get a master-coded training session, unannounced, among "
            f"their real {scale_name} sessions: one in every N. They get no feedback on "
            "it; their agreement with the master shows in the chart and can lapse their "
            "certification. Run it again after plans change: it only adds what is due.",
            parent,
        )
        self.every = QSpinBox()
        self.every.setRange(2, 1000)
        self.every.setValue(every if every is not None else 10)
        self.every.setPrefix("one in every ")
        self.every.setSuffix(" sessions")
        form = QFormLayout()
        form.addRow("Drift checks", self.every)
        self.body.addLayout(form)
        self.finish_layout()
