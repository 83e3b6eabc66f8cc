"""The lead's "Reliability" tab: inter-rater reliability of one scale's double-coded sessions.

Five views of the same worker result (:func:`coder.reliability_view.compute_reliability`,
which reads through the CLI's own :func:`coder.reliability_project.project_study`;
nothing is computed on the GUI thread):

- **Items**: one row per item and composite; the headline ICC first: the form that
  fits the item's design (:func:`coder.reliability.recommend_form`: two-way Shrout &
  Fleiss for crossed designs, ICC(A,1) from variance components when raters vary),
  with its 95 % interval and the form (hover for why); then the scale file's default
  form (a default that does not fit the design is noted below the table), the
  other ICC forms, kappa (the scale's weights), Krippendorff's alpha (the scale's
  level), exact and within-one agreement, Fleiss' kappa, Gwet's AC1/AC2 and
  Brennan-Prediger (the item's kind decides which apply:
  :func:`coder.reliability.statistics_for`), ICC(A,1) and ICC(A,k) from variance
  components, n and the design. ICC cells are coloured by the Koo & Li (2016) bands; a
  statistic that is not defined says so, and why.
- **Drift**: one statistic of one item over consecutive windows of double-coded
  sessions, in the order they were finished (``reliability_drift``); first the item's
  headline form, the same as the items table's, then kappa, alpha, agreement and the
  chance-corrected coefficients; 95 % intervals as whiskers where the core has them.
- **Rater pairs**: the same statistics per pair of raters (``reliability_by_pair``),
  the headline in its per-pair form (:func:`coder.reliability.pair_form`) with 95 %
  intervals, and its summary over pairs (pairs, sessions, range, mean, median).
- **Calibration** (when "Calibration report" is ticked): the headline ICC of the
  calibration sessions every rater coded (``--include-training``).
- **Discrepancies**: sessions where two coders differ by more than one point, with
  both coders' notes (:class:`~ui.discrepancy_view.DiscrepancyView`).

"Sessions" restricts everything to the sessions with one value of a manifest column
(``--where COLUMN=VALUE``). The tab computes again whenever a mutation changes sessions
(training marks), scales or codings (:attr:`~ui.tasks.TaskRunner.changed`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSignalBlocker,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from coder.changes import OpChanges
from coder.reliability import (
    CHANCE_LABELS,
    DESIGN_LABELS,
    ICC_FORMS,
    ICC_LABELS,
    VC_LABELS,
    IccForm,
    ItemReliability,
    Recommendation,
    ReliabilityDrift,
    Statistic,
    VcForm,
    pair_form,
)
from coder.reliability_view import (
    ReliabilityData,
    compute_drift,
    compute_reliability,
    headline_stat,
    subset_choices,
)
from coder.scales import RatingScale
from coder.store.project import Project
from ui.dialogs import show_error
from ui.discrepancy_view import DiscrepancyView
from ui.drift_chart import KOO_LI_BANDS, DriftChart, DriftPoint, koo_li_band
from ui.tasks import TaskRunner

_Index = QModelIndex | QPersistentModelIndex

DEFAULT_DRIFT_WINDOW = 5
HEADLINE = "headline"  # the drift statistic "the item's headline ICC"
HEADLINE_ICC = "Headline ICC"
ALL_SESSIONS = "all"
NOT_DEFINED = "not defined"
NO_DATA_WHY = "no double-coded session with submitted scores"


# --------------------------------------------------------------------------- cells


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, raw value, colour and tooltip."""

    text: str
    value: Any = None
    background: QColor | None = None
    tooltip: str = ""
    number: bool = False
    undefined: bool = False
    bold: bool = False


Figure = IccForm | Statistic | VcForm  # an ICC form or any other statistic of an item


def _why(stat: Figure | None) -> str:
    if stat is None:
        return NO_DATA_WHY
    return stat.why or "not defined for these data"


def undefined_cell(stat: Figure | None) -> Cell:
    why = _why(stat)
    return Cell(NOT_DEFINED, None, None, f"{NOT_DEFINED}: {why}", undefined=True)


def icc_cell(stat: IccForm | VcForm | None) -> Cell:
    """An ICC value, coloured by its Koo & Li band."""
    value = stat.value if stat else None
    if stat is None or value is None:
        return undefined_cell(stat)
    band, colour = koo_li_band(value)
    if isinstance(stat, VcForm):
        lines = [f"{stat.mcgraw_wong} from variance components: {value:.3f}"]
        ci = stat.ci95
        if ci is not None:
            lines.append(f"95 % CI [{ci[0]:.3f}, {ci[1]:.3f}] (parametric bootstrap)")
        lines.append(f"Koo & Li (2016): {band}")
        return Cell(f"{value:.3f}", value, colour, "\n".join(lines), number=True)
    lines = [f"{stat.shrout_fleiss} = {stat.mcgraw_wong}: {value:.3f}"]
    ci = stat.ci95
    if ci is not None:
        lines.append(f"95 % CI [{ci[0]:.3f}, {ci[1]:.3f}]")
    f = stat.f
    if f is not None:
        f_text = "∞" if math.isinf(f) else f"{f:.2f}"
        p = stat.p
        p_text = "" if p is None else (", p < .001" if p < 0.001 else f", p = {p:.3f}")
        lines.append(f"F({stat.df1}, {stat.df2}) = {f_text}{p_text}")
    lines.append(f"Koo & Li (2016): {band}")
    return Cell(f"{value:.3f}", value, colour, "\n".join(lines), number=True)


def headline_cells(item: ItemReliability | None) -> list[Cell]:
    """The headline ICC of an item: value (bold, banded), interval, and the form with
    the reason (and the scale default's discrepancy) as its tooltip."""
    rec = item.recommendation if item else None
    stat = headline_stat(item, rec)
    if rec is None or rec.form is None:
        why = rec.reason if rec else NO_DATA_WHY
        none = Cell(NOT_DEFINED, None, None, f"{NOT_DEFINED}: {why}", undefined=True)
        return [replace(none, bold=True), replace(none, bold=True), none]
    tip = rec.reason
    if rec.scale_default_note:
        tip += f"\nScale default: {rec.scale_default_note}."
    form = Cell(rec.label, rec.form, tooltip=tip)
    return [replace(icc_cell(stat), bold=True), replace(ci_cell(stat), bold=True), form]


VC_COLUMNS = ("ICC_A1", "ICC_Ak")  # the variance-component forms of the items table


def vc_cells(item: ItemReliability | None) -> list[Cell]:
    vc = item.icc_vc if item else None
    return [icc_cell(vc[f] if vc else None) for f in VC_COLUMNS]


def ci_cell(stat: Figure | None) -> Cell:
    ci = stat.ci95 if stat else None
    if stat is None or stat.value is None or ci is None:
        return undefined_cell(stat)
    return Cell(f"[{ci[0]:.2f}, {ci[1]:.2f}]", (ci[0], ci[1]), number=True)


def stat_cell(stat: Statistic | None, *, percent: bool = False) -> Cell:
    value = stat.value if stat else None
    if stat is None or value is None:
        return undefined_cell(stat)
    n = stat.n
    lines = [f"n = {n}"] if n else []
    if stat.ci95 is not None:
        lines.append(f"95 % CI [{stat.ci95[0]:.3f}, {stat.ci95[1]:.3f}]")
    if stat.se is not None:
        lines.append(f"SE {stat.se:.3f}")
    text = f"{value * 100:.0f} %" if percent else f"{value:.3f}"
    return Cell(text, value, tooltip="\n".join(lines), number=True)


#: The chance-corrected agreement coefficients of an item, by the start of their key
#: (Gwet's is AC1 or AC2, as the item's kind and the scale's kappa weights decide).
CHANCE_COLUMNS = ("fleiss_kappa", "gwet_ac", "brennan_prediger")


def chance_headers(items: Mapping[str, ItemReliability]) -> list[tuple[str, str]]:
    """The headers of the chance-corrected coefficients: Gwet's named AC1 or AC2 when
    every item has the same, else "AC1/AC2" (each cell then says which)."""
    gwet = {
        k
        for item in items.values()
        for k, stat in item.agreement_coefficients.items()
        if "gwet" in k and stat.value is not None
    }
    if not gwet:  # none defined: the keys as given
        gwet = {k for item in items.values() for k in item.agreement_coefficients if "gwet" in k}
    gwet_label = CHANCE_LABELS[gwet.pop()] if len(gwet) == 1 else "Gwet's AC1/AC2"
    tail = (
        ", on every observed rating, with the scale's kappa weights (nominal items: "
        "unweighted); hover a cell for the standard error and 95 % CI"
    )
    return [
        ("Fleiss κ", f"Fleiss' kappa{tail}"),
        (gwet_label.replace("Gwet's ", "Gwet "), f"{gwet_label}{tail}"),
        ("Brennan-Prediger", f"Brennan-Prediger's kappa{tail}"),
    ]


CHANCE_GROUP = "agreement_coefficients"  # their group in ItemReliability.groups()


def chance_key(coefficients: Mapping[str, object], start: str) -> str | None:
    """The key of a chance-corrected coefficient by its start (:data:`CHANCE_COLUMNS`):
    Gwet's is ``gwet_ac1`` or ``gwet_ac2`` as the item's kind decides."""
    return next((k for k in coefficients if k.startswith(start)), None)


def _group_stat(item: ItemReliability | None, group: str, key: str) -> Figure | None:
    """A statistic of an item by group and key (a chance-corrected one by its start)."""
    if item is None:
        return None
    stats = item.groups()[group]
    if group == CHANCE_GROUP:
        key = chance_key(stats, key) or key
    return stats.get(key)


def chance_cells(item: ItemReliability | None, headers: Sequence[tuple[str, str]]) -> list[Cell]:
    """Fleiss' kappa, Gwet's AC1/AC2 and Brennan-Prediger of an item (as the core gives
    them: not defined, with the reason, where the item's kind allows none)."""
    coefficients = item.agreement_coefficients if item else {}
    cells = []
    for start, (header, _tip) in zip(CHANCE_COLUMNS, headers, strict=True):
        key = chance_key(coefficients, start)
        if item is None or key is None:
            cells.append(undefined_cell(None))
            continue
        cell = stat_cell(coefficients[key])
        if cell.undefined:
            cells.append(cell)
            continue
        label = CHANCE_LABELS[key]
        tip = f"{label}, {item.kappa_weights} weights\n{cell.tooltip}"
        short = label.replace("Gwet's ", "")
        text = cell.text if short in header or start != "gwet_ac" else f"{cell.text} ({short})"
        cells.append(replace(cell, text=text, tooltip=tip))
    return cells


# --------------------------------------------------------------------------- model


class CellTableModel(QAbstractTableModel):
    """A read-only table of :class:`Cell` rows under headers with tooltips."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._headers: list[tuple[str, str]] = []
        self._rows: list[list[Cell]] = []
        self._keys: list[str] = []

    def set_table(
        self,
        headers: Sequence[tuple[str, str]],
        rows: Sequence[Sequence[Cell]],
        keys: Sequence[str],
    ) -> None:
        """Headers as (text, tooltip); one key per row (e.g. the item id)."""
        self.beginResetModel()
        self._headers = list(headers)
        self._rows = [list(r) for r in rows]
        self._keys = list(keys)
        self.endResetModel()

    def cell(self, row: int, column: int) -> Cell:
        return self._rows[row][column]

    def key(self, row: int) -> str:
        return self._keys[row]

    def keys(self) -> list[str]:
        return list(self._keys)

    def headers(self) -> list[str]:
        return [h for h, _tip in self._headers]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or section >= len(self._headers):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section][0]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._headers[section][1] or None
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        cell = self._rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return cell.text
        if role == Qt.ItemDataRole.ToolTipRole:
            return cell.tooltip or None
        if role == Qt.ItemDataRole.BackgroundRole:
            return cell.background
        if role == Qt.ItemDataRole.ForegroundRole and cell.undefined:
            return QColor("#6b7280")
        if role == Qt.ItemDataRole.FontRole and (cell.undefined or cell.bold):
            font = QFont()
            font.setItalic(cell.undefined)
            font.setBold(cell.bold)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and (cell.number or cell.undefined):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return cell.value
        return None


def _table(model: QAbstractTableModel) -> QTableView:
    table = QTableView()
    table.setModel(model)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(24)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setWordWrap(False)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table


#: The widest the name column of a table may grow, in average characters, before its
#: texts are elided (the full name is in the tooltip). A fixed measure rather than a
#: share of the table: results often arrive while the tab is hidden and unsized.
NAME_CHARS = 72


def fit_name_column(table: QTableView) -> None:
    """Give the first (name) column its contents' width, up to :data:`NAME_CHARS`
    characters, and every other column its contents' width.

    A stretched name column is what Qt squeezes first when the statistic columns are
    wider than the view: at 1366x768 item names were cut although the table scrolls
    sideways anyway. Longer names are elided, with the whole name in the tooltip.
    """
    header = table.horizontalHeader()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    if table.model().columnCount() == 0:
        return
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
    table.resizeColumnToContents(0)
    limit = table.fontMetrics().averageCharWidth() * NAME_CHARS
    if header.sectionSize(0) > limit:
        header.resizeSection(0, limit)


# --------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class StatColumns:
    """The statistic columns of a scale, reported ICC form first."""

    reported: str
    kappa_weights: str
    alpha_level: str
    other_forms: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, scale: RatingScale) -> StatColumns:
        reported = scale.reliability.icc if scale.reliability.icc in ICC_FORMS else "ICC2"
        others = tuple(f for f in ICC_FORMS if f != reported)
        return cls(reported, scale.reliability.kappa_weights, scale.reliability.alpha_level, others)

    def headers(self) -> list[tuple[str, str]]:
        sf, mw, desc = ICC_LABELS[self.reported]
        out = [
            (
                f"{sf} scale default",
                f"{sf} = {mw}: {desc}. The form the scale file names; see the headline "
                "for the form that fits the design.",
            ),
            ("95 % CI", f"95 % confidence interval of {sf}"),
        ]
        for form in self.other_forms:
            f_sf, f_mw, f_desc = ICC_LABELS[form]
            out.append((f_sf, f"{f_sf} = {f_mw}: {f_desc}"))
        out += [
            (f"κ {self.kappa_weights}", f"Cohen's kappa, {self.kappa_weights} weights{_BY_KIND}"),
            (
                f"α {self.alpha_level}",
                f"Krippendorff's alpha, {self.alpha_level} level, bootstrap 95 % CI in the "
                f"tooltip{_BY_KIND}",
            ),
            ("Exact", "Share of coder pairs with the same score"),
            ("Within ±1", "Share of coder pairs within one point"),
        ]
        return out

    def cells(self, item: ItemReliability | None) -> list[Cell]:
        reported = item.icc[self.reported] if item else None
        # The item's kind may override the scale's choice (coder.reliability.statistics_for):
        # a nominal item shows unweighted kappa and nominal alpha, a duration no kappa.
        kappa = alpha = None
        if item:
            kappa = item.kappa.get(item.kappa_weights or self.kappa_weights)
            alpha = item.krippendorff_alpha.get(item.alpha_level)
        return [
            replace(icc_cell(reported), bold=True),
            replace(ci_cell(reported), bold=True),
            *(icc_cell(item.icc[f] if item else None) for f in self.other_forms),
            _labelled(stat_cell(kappa), item.kappa_weights if item else None, self.kappa_weights),
            _labelled(stat_cell(alpha), item.alpha_level if item else None, self.alpha_level),
            stat_cell(item.agreement.exact if item else None, percent=True),
            stat_cell(item.agreement.within_one if item else None, percent=True),
        ]


_BY_KIND = " (nominal items: unweighted kappa and nominal alpha; durations: interval alpha)"


def _labelled(cell: Cell, shown: str | None, column: str) -> Cell:
    """Mark a cell whose statistic differs from its column's (the item's kind decided)."""
    if cell.undefined or shown is None or shown == column:
        return cell
    tip = f"{shown} (this item's kind allows no other)"
    return replace(
        cell,
        text=f"{cell.text} ({shown[:3]}.)",
        tooltip="\n".join(t for t in (tip, cell.tooltip) if t),
    )


def name_cell(item_id: str, label: str, composite: bool) -> Cell:
    """The first cell of an item's row: its label (composites marked), the id and the
    whole label in the tooltip (a long label may be elided on screen)."""
    return Cell(
        f"{label} (composite)" if composite else label, item_id, tooltip=f"{item_id}: {label}"
    )


def _variables(scale: RatingScale, items: Mapping[str, Any]) -> list[tuple[str, str, bool]]:
    """(id, label, is composite) of every numeric item and composite, in scale order."""
    out = [(i.id, i.label, False) for i in scale.items if i.is_numeric]
    out += [(c.id, c.label, True) for c in scale.composites]
    known = {v[0] for v in out}
    out += [(k, k, False) for k in items if k not in known]  # items of older versions
    return out


def _legend() -> QWidget:
    legend = QWidget()
    row = QHBoxLayout(legend)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(6)
    row.addWidget(QLabel("ICC bands (Koo & Li, 2016):"))
    ranges = ("< .50", ".50–.75", ".75–.90", "> .90")
    for (_lo, label, colour), text in zip(KOO_LI_BANDS, ranges, strict=True):
        swatch = QLabel(f"{label} {text}")
        swatch.setStyleSheet(
            f"QLabel {{ background: {colour}; border: 1px solid #d1d5db; padding: 1px 8px; "
            "border-radius: 3px; }"
        )
        row.addWidget(swatch)
    undefined = QLabel(f"<i style='color:#6b7280'>{NOT_DEFINED}</i>: hover for the reason")
    row.addWidget(undefined)
    row.addStretch(1)
    return legend


# --------------------------------------------------------------------------- panel


class ReliabilityPanel(QWidget):
    """Reliability of a scale; see the module docstring.

    Signals:
        results_shown(): a computation's results are on screen.
        open_session_requested(str, int): the lead asked to hear this session (key)
            from this position (ms), from the discrepancy list.
    """

    #: What the tab shows: it computes again when a mutation changes any of these.
    #: (Consensus scores are the discrepancy view's to follow.)
    SHOWS = OpChanges(sessions=True, scales=True, codings=True)

    results_shown = Signal()
    open_session_requested = Signal(str, int)

    def __init__(self, project: Project, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.runner = runner
        self.data: ReliabilityData | None = None
        self._loading = False
        self._subset_values: dict[str, list[str]] = {}
        self._build()
        runner.changed.connect(self._on_changed)
        self._load_subset_choices()
        self._load_scales()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        top = QHBoxLayout()
        top.addWidget(QLabel("Scale"))
        self.scale_combo = QComboBox()
        self.scale_combo.setMinimumWidth(300)
        self.scale_combo.currentIndexChanged.connect(self._on_scale_changed)
        top.addWidget(self.scale_combo)
        # A subset of sessions and the calibration report: session-coder reliability's
        # --where COLUMN=VALUE and --include-training, through the same core function.
        top.addSpacing(12)
        top.addWidget(QLabel("Sessions"))
        self.subset_column_combo = QComboBox()
        self.subset_column_combo.setToolTip(
            "Restrict the reliability to the sessions with one value of a manifest column "
            "(as session-coder reliability --where COLUMN=VALUE)"
        )
        self.subset_column_combo.addItem(ALL_SESSIONS, None)
        self.subset_column_combo.currentIndexChanged.connect(self._on_subset_column_changed)
        top.addWidget(self.subset_column_combo)
        self.subset_equals = QLabel("=")
        top.addWidget(self.subset_equals)
        self.subset_value_combo = QComboBox()
        self.subset_value_combo.setMinimumContentsLength(6)
        self.subset_value_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.subset_value_combo.currentIndexChanged.connect(self._on_subset_value_changed)
        top.addWidget(self.subset_value_combo)
        self.training_check = QCheckBox("Calibration report")
        self.training_check.setToolTip(
            "Also report the calibration (training) sessions every rater coded, in the "
            "Calibration tab (as session-coder reliability --include-training)"
        )
        self.training_check.toggled.connect(self._on_training_toggled)
        top.addWidget(self.training_check)
        top.addStretch(1)
        self.refresh_button = QPushButton("Recompute")
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.refresh_button)
        layout.addLayout(top)
        self.status_label = QLabel("Loading…")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        self._show_subset_value(False)

        self.tabs = QTabWidget()
        layout.addWidget(self.tabs, 1)

        items_page = QWidget()
        items_layout = QVBoxLayout(items_page)
        items_layout.setContentsMargins(4, 6, 4, 4)
        self.items_model = CellTableModel(self)
        self.items_table = _table(self.items_model)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        top_part = QWidget()
        top_layout = QVBoxLayout(top_part)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.items_table, 1)
        top_layout.addWidget(_legend())
        splitter.addWidget(top_part)
        self.notes_label = QLabel("")
        self.notes_label.setWordWrap(True)
        self.notes_label.setTextFormat(Qt.TextFormat.RichText)
        self.notes_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.notes_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        notes_scroll = QScrollArea()
        notes_scroll.setWidget(self.notes_label)
        notes_scroll.setWidgetResizable(True)
        notes_scroll.setMinimumHeight(60)
        splitter.addWidget(notes_scroll)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([400, 170])
        items_layout.addWidget(splitter, 1)
        self.tabs.addTab(items_page, "Items")

        drift_page = QWidget()
        drift_layout = QVBoxLayout(drift_page)
        drift_layout.setContentsMargins(4, 6, 4, 4)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Item"))
        self.drift_item_combo = QComboBox()
        self.drift_item_combo.setMinimumWidth(240)
        self.drift_item_combo.currentIndexChanged.connect(self._show_drift)
        controls.addWidget(self.drift_item_combo)
        controls.addWidget(QLabel("Statistic"))
        self.drift_stat_combo = QComboBox()
        self.drift_stat_combo.currentIndexChanged.connect(self._show_drift)
        controls.addWidget(self.drift_stat_combo)
        controls.addWidget(QLabel("Sessions per window"))
        self.window_spin = QSpinBox()
        self.window_spin.setRange(2, 500)
        self.window_spin.setValue(DEFAULT_DRIFT_WINDOW)
        self.window_spin.setKeyboardTracking(False)
        self.window_spin.valueChanged.connect(self._on_window_changed)
        controls.addWidget(self.window_spin)
        controls.addStretch(1)
        drift_layout.addLayout(controls)
        self.drift_chart = DriftChart()
        drift_layout.addWidget(self.drift_chart, 1)
        self.drift_caption = QLabel("")
        self.drift_caption.setWordWrap(True)
        self.drift_caption.setStyleSheet("color: #4b5563;")
        drift_layout.addWidget(self.drift_caption)
        self.tabs.addTab(drift_page, "Drift")

        pairs_page = QWidget()
        pairs_layout = QVBoxLayout(pairs_page)
        pairs_layout.setContentsMargins(4, 6, 4, 4)
        pair_controls = QHBoxLayout()
        pair_controls.addWidget(QLabel("Item"))
        self.pair_item_combo = QComboBox()
        self.pair_item_combo.setMinimumWidth(240)
        self.pair_item_combo.currentIndexChanged.connect(self._show_pairs)
        pair_controls.addWidget(self.pair_item_combo)
        pair_controls.addStretch(1)
        pairs_layout.addLayout(pair_controls)
        self.pairs_model = CellTableModel(self)
        self.pairs_table = _table(self.pairs_model)
        # As much room for the summary as for the pairs: it has a row per item, and a
        # plan of four raters has at most six pairs (at 1366x768 the summary scrolled).
        pairs_layout.addWidget(self.pairs_table, 1)
        self.pair_summary_label = QLabel("")
        self.pair_summary_label.setWordWrap(True)
        pairs_layout.addWidget(self.pair_summary_label)
        self.pair_summary_model = CellTableModel(self)
        self.pair_summary_table = _table(self.pair_summary_model)
        pairs_layout.addWidget(self.pair_summary_table, 1)
        pairs_note = QLabel(
            "Each pair on the sessions both raters coded: a fully crossed two-rater "
            "design, so every ICC form and kappa apply. Few shared sessions give wide "
            "intervals."
        )
        pairs_note.setWordWrap(True)
        pairs_note.setStyleSheet("color: #4b5563;")
        pairs_layout.addWidget(pairs_note)
        self.tabs.addTab(pairs_page, "Rater pairs")

        self.calibration_page = QWidget()
        calibration_layout = QVBoxLayout(self.calibration_page)
        calibration_layout.setContentsMargins(4, 6, 4, 4)
        self.calibration_label = QLabel("")
        self.calibration_label.setWordWrap(True)
        calibration_layout.addWidget(self.calibration_label)
        self.calibration_model = CellTableModel(self)
        self.calibration_table = _table(self.calibration_model)
        calibration_layout.addWidget(self.calibration_table, 1)
        self.tabs.addTab(self.calibration_page, "Calibration")
        self._calibration_tab = self.tabs.indexOf(self.calibration_page)
        self.tabs.setTabVisible(self._calibration_tab, False)

        self.discrepancy_view = DiscrepancyView(project=self.project, runner=self.runner)
        self.discrepancy_view.open_session_requested.connect(self.open_session_requested)
        self.tabs.addTab(self.discrepancy_view, "Discrepancies")

    # ------------------------------------------------------------------ loading

    def _load_scales(self) -> None:
        self.runner.submit(
            self.project.scales,
            on_done=self._on_scales,
            on_error=self._on_failed,
            latest=(self, "scales"),
        )

    def _load_subset_choices(self) -> None:
        self.runner.submit(
            subset_choices,
            self.project,
            on_done=self._on_subset_choices,
            on_error=self._on_failed,
            latest=(self, "subset choices"),
        )

    def _on_subset_choices(self, choices: dict[str, list[str]]) -> None:
        """Fill the column combo (keeping the lead's choice where it still exists)."""
        self._subset_values = choices
        column, value = self.subset()
        self._loading = True
        try:
            self.subset_column_combo.clear()
            self.subset_column_combo.addItem(ALL_SESSIONS, None)
            for name in choices:
                self.subset_column_combo.addItem(name, name)
            self.subset_column_combo.setCurrentIndex(
                max(self.subset_column_combo.findData(column), 0)
            )
            self._fill_subset_values(value)
        finally:
            self._loading = False

    def _fill_subset_values(self, value: str | None = None) -> None:
        column = self.subset_column_combo.currentData()
        values = self._subset_values.get(column, []) if column else []
        blocker = QSignalBlocker(self.subset_value_combo)
        self.subset_value_combo.clear()
        for v in values:
            self.subset_value_combo.addItem(v, v)
        self.subset_value_combo.setCurrentIndex(max(self.subset_value_combo.findData(value), 0))
        del blocker
        self._show_subset_value(bool(column))

    def _show_subset_value(self, shown: bool) -> None:
        self.subset_equals.setVisible(shown)
        self.subset_value_combo.setVisible(shown)

    def subset(self) -> tuple[str | None, str | None]:
        """The chosen (column, value), or (None, None) for every session."""
        column = self.subset_column_combo.currentData()
        value = self.subset_value_combo.currentData()
        if not column or value is None:
            return None, None
        return str(column), str(value)

    def _on_subset_column_changed(self, _index: int) -> None:
        if self._loading:
            return
        self._fill_subset_values()
        self.refresh()

    def _on_subset_value_changed(self, _index: int) -> None:
        if not self._loading:
            self.refresh()

    def _on_training_toggled(self, _checked: bool) -> None:
        self.refresh()

    @Slot(object)
    def _on_changed(self, changes: OpChanges) -> None:
        if changes.sessions:
            self._load_subset_choices()  # a new manifest may bring columns or values
        if changes.scales:
            self._load_scales()  # then computes again
        elif changes & self.SHOWS:
            self.refresh()

    def _on_scales(self, scales: list[RatingScale]) -> None:
        chosen = self.current_scale_id()
        self._loading = True
        try:
            self.scale_combo.clear()
            for scale in scales:
                self.scale_combo.addItem(f"{scale.name} ({scale.id})", scale.id)
            self.scale_combo.setCurrentIndex(max(self.scale_combo.findData(chosen), 0))
        finally:
            self._loading = False
        if not scales:
            self.status_label.setText("The project has no scales yet.")
            return
        self.refresh()

    def current_scale_id(self) -> str | None:
        data = self.scale_combo.currentData()
        return str(data) if data is not None else None

    def _on_scale_changed(self, _index: int) -> None:
        if not self._loading:
            self.refresh()

    def refresh(self) -> None:
        """Recompute the current scale's reliability in a worker."""
        scale_id = self.current_scale_id()
        if scale_id is None:
            return
        column, value = self.subset()
        where = () if column is None or value is None else ((column, value),)
        self.status_label.setText("Computing…")
        self.refresh_button.setEnabled(False)
        self.runner.submit(
            compute_reliability,
            self.project,
            scale_id,
            int(self.window_spin.value()),
            where=where,
            include_training=self.training_check.isChecked(),
            on_done=self._on_computed,
            on_error=self._on_failed,
            # The lead may choose another scale or subset meanwhile: only the newest
            # result is shown.
            latest=(self, "reliability"),
        )

    def _on_computed(self, data: ReliabilityData) -> None:
        self.refresh_button.setEnabled(True)
        self.data = data
        self._show_items(data)
        self._fill_item_combos(data)
        self._show_pairs()
        self._show_drift()
        self._show_calibration(data)
        self.discrepancy_view.set_discrepancies(data.discrepancies)
        raters = sorted(set(data.frame["rater_id"])) if not data.frame.empty else []
        cols = StatColumns.of(data.scale)
        subset = ""
        if data.subset.where:
            n = data.subset.n_sessions
            subset = (
                f" (sessions with {_escape(data.subset.describe())}: {n} session"
                f"{'s' if n != 1 else ''})"
            )
        self.status_label.setText(
            f"<b>{_escape(data.scale.name)}</b>: {data.n_double_coded} double-coded session"
            f"{'s' if data.n_double_coded != 1 else ''} with submitted scores{subset}, "
            f"{len(raters)} rater{'s' if len(raters) != 1 else ''}. "
            f"{_headline_summary(data.items, ICC_LABELS[cols.reported][0])}"
        )
        self.results_shown.emit()

    @Slot(object)
    def _on_failed(self, error: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self.status_label.setText("The reliability could not be computed.")
        show_error(self, error)

    # ------------------------------------------------------------------ items

    def _show_items(self, data: ReliabilityData) -> None:
        cols = StatColumns.of(data.scale)
        headers = [("Item", "Items, then composites (subscales and totals)")]
        headers += [
            (
                "Headline ICC",
                "The ICC form that fits the item's design (hover the form for why)",
            ),
            ("95 % CI", "95 % confidence interval of the headline ICC"),
            ("Form", "The headline form; its tooltip says why it fits the design"),
        ]
        headers += cols.headers()
        chance = chance_headers(data.items)
        headers += chance
        headers += [
            (f"{VC_LABELS[f][0]} VC", f"{VC_LABELS[f][0]}: {VC_LABELS[f][1]} (REML, as lme4)")
            for f in VC_COLUMNS
        ]
        headers += [
            ("n", "Sessions with every coder's score (listwise), used by the ICC and kappa"),
            ("Design", "Who coded the double-coded sessions (hover a cell for the caveat)"),
        ]
        rows, keys = [], []
        design_notes: dict[str, list[str]] = {}
        headline_notes: dict[str, list[str]] = {}
        undefined_lines: list[str] = []
        icc_headers = {h for h, _tip in headers[1 : 6 + len(cols.other_forms)]}
        icc_headers |= {h for h, _tip in headers[-2 - len(VC_COLUMNS) : -2]}
        variables = _variables(data.scale, data.items)
        for item_id, label, composite in variables:
            item = data.items.get(item_id)
            first = name_cell(item_id, label, composite)
            design = item.design if item else "not_double_coded"
            design_note = item.design_note if item else NO_DATA_WHY
            n = item.n_sessions if item else 0
            stats = cols.cells(item)
            stats[:2] = [replace(c, bold=False) for c in stats[:2]]  # the headline is bold
            rows.append(
                [
                    first,
                    *headline_cells(item),
                    *stats,
                    *chance_cells(item, chance),
                    *vc_cells(item),
                    Cell(str(n), n, number=True),
                    Cell(DESIGN_LABELS.get(design, design), design, tooltip=design_note),
                ]
            )
            keys.append(item_id)
            if item and design != "crossed" and design_note:
                design_notes.setdefault(design_note, []).append(label)
            rec = item.recommendation if item else None
            if rec is not None and rec.form is not None:
                headline_notes.setdefault(
                    f"<b>Headline {_escape(rec.label)} ({{who}})</b>: {_escape(rec.reason)}", []
                ).append(label)
                if rec.scale_default_note:
                    headline_notes.setdefault(
                        f"<b>Scale default ({{who}})</b>: {_escape(rec.scale_default_note)}.", []
                    ).append(label)
            # One line per item and reason: which statistics are not defined, and why.
            reasons: dict[str, list[str]] = {}
            for cell, (header, _tip) in zip(rows[-1][1:], headers[1:], strict=False):
                if cell.undefined:
                    why = cell.tooltip.removeprefix(f"{NOT_DEFINED}: ")
                    reasons.setdefault(why, []).append(header)
            for why, where in reasons.items():
                if icc_headers <= set(where):
                    where = ["every ICC form", *(w for w in where if w not in icc_headers)]
                undefined_lines.append(
                    f"<b>{_escape(label)}</b> — {_escape(', '.join(where))}: "
                    f"{NOT_DEFINED}: {_escape(why)}"
                )
        self.items_model.set_table(headers, rows, keys)
        fit_name_column(self.items_table)
        lines = []
        for note, labels in headline_notes.items():
            who = "all items" if len(labels) == len(variables) else ", ".join(_short(labels))
            lines.append(note.format(who=_escape(who)))
        for note, labels in design_notes.items():
            who = "all items" if len(labels) == len(variables) else ", ".join(_short(labels))
            lines.append(f"<b>Design ({_escape(who)})</b>: {_escape(note)}")
        lines += undefined_lines
        self.notes_label.setText("".join(f"<p style='margin:2px 0'>{line}</p>" for line in lines))

    def item_row(self, item_id: str) -> int:
        return self.items_model.keys().index(item_id)

    def stat_headers(self) -> list[str]:
        """The headers of the statistic columns, in order (after "Item")."""
        return self.items_model.headers()[1:]

    def _fill_item_combos(self, data: ReliabilityData) -> None:
        cols = StatColumns.of(data.scale)
        variables = _variables(data.scale, data.items)
        for combo in (self.drift_item_combo, self.pair_item_combo):
            previous = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            for item_id, label, composite in variables:
                combo.addItem(f"{label} (composite)" if composite else label, item_id)
            index = combo.findData(previous)
            combo.setCurrentIndex(max(index, 0))
            combo.blockSignals(False)
        previous_stat = self.drift_stat_combo.currentData()
        self.drift_stat_combo.blockSignals(True)
        self.drift_stat_combo.clear()
        # The headline form of the chosen item (coder.reliability.recommend_form, on the
        # whole data), read in every window: the same form as the items table.
        self.drift_stat_combo.addItem(HEADLINE_ICC, (HEADLINE, ""))
        self.drift_stat_combo.addItem(
            f"Cohen's κ ({cols.kappa_weights})", ("kappa", cols.kappa_weights)
        )
        self.drift_stat_combo.addItem(
            f"Krippendorff's α ({cols.alpha_level})", ("krippendorff_alpha", cols.alpha_level)
        )
        self.drift_stat_combo.addItem("Exact agreement", ("agreement", "exact"))
        self.drift_stat_combo.addItem("Agreement within ±1", ("agreement", "within_one"))
        # The chance-corrected coefficients, with their intervals (Gwet's is AC1 or AC2
        # as the item's kind decides: found by the start of its key, as in the tables).
        for start, (header, _tip) in zip(CHANCE_COLUMNS, chance_headers(data.items), strict=True):
            self.drift_stat_combo.addItem(header, (CHANCE_GROUP, start))
        for i in range(self.drift_stat_combo.count()):
            if self.drift_stat_combo.itemData(i) == previous_stat:
                self.drift_stat_combo.setCurrentIndex(i)
        self.drift_stat_combo.blockSignals(False)

    # ------------------------------------------------------------------ pairs

    def _show_pairs(self) -> None:
        data = self.data
        if data is None:
            return
        item_id = self.pair_item_combo.currentData()
        cols = StatColumns.of(data.scale)
        whole = data.items.get(item_id)
        rec = whole.recommendation if whole else None
        if rec is not None and rec.form is not None:
            # The item's headline, in its per-pair form (a pair is a crossed two-rater
            # design: ICC(A,1) of the variance components is ICC(2,1) there).
            form = pair_form(rec.form)
            form_tip = f"the per-pair form of the headline {rec.label}"
        else:
            form = cols.reported
            form_tip = "the scale file's default form (the item has no headline)"
        sf = ICC_LABELS[form][0]
        chance = chance_headers(
            {p.raters[0]: p.items[item_id] for p in data.pairs if item_id in p.items}
        )
        headers = [
            ("Rater pair", "Raters A and B (A = the lower code)"),
            ("Shared sessions", "Sessions both raters coded"),
            (f"{sf}", f"{sf} of this pair: {form_tip}"),
            ("95 % CI", f"95 % confidence interval of {sf}"),
            (f"κ {cols.kappa_weights}", f"Cohen's kappa, {cols.kappa_weights} weights{_BY_KIND}"),
            ("κ 95 % CI", "95 % confidence interval of kappa"),
            (f"α {cols.alpha_level}", f"Krippendorff's alpha, {cols.alpha_level} level{_BY_KIND}"),
            ("Exact", "Share of sessions with the same score"),
            ("Within ±1", "Share of sessions within one point"),
            *chance,
        ]
        rows, keys = [], []
        for pair in data.pairs:
            a, b = pair.raters
            item = pair.items.get(item_id)
            stat = item.icc[form] if item else None
            kappa = item.kappa.get(item.kappa_weights or cols.kappa_weights) if item else None
            alpha = item.krippendorff_alpha.get(item.alpha_level) if item else None
            rows.append(
                [
                    Cell(f"{a} & {b}", (a, b)),
                    Cell(str(pair.n_sessions), pair.n_sessions, number=True),
                    icc_cell(stat),
                    ci_cell(stat),
                    _labelled(
                        stat_cell(kappa), item.kappa_weights if item else None, cols.kappa_weights
                    ),
                    ci_cell(kappa),
                    _labelled(
                        stat_cell(alpha), item.alpha_level if item else None, cols.alpha_level
                    ),
                    stat_cell(item.agreement.exact if item else None, percent=True),
                    stat_cell(item.agreement.within_one if item else None, percent=True),
                    *chance_cells(item, chance),
                ]
            )
            keys.append(f"{a}|{b}")
        self.pairs_model.set_table(headers, rows, keys)
        fit_name_column(self.pairs_table)
        self._show_pair_summary(data)

    def _show_pair_summary(self, data: ReliabilityData) -> None:
        """Every item's headline ICC (its per-pair form) over the rater pairs: range,
        mean, median, pairs and sessions."""
        default = StatColumns.of(data.scale).reported
        self.pair_summary_label.setText(
            "<b>Headline ICC over rater pairs</b>, every item: its per-pair form, over the "
            "pairs where it is defined (as papers report per-pair reliability)"
        )
        headers = [
            ("Item", "Items, then composites"),
            ("Form", "The item's headline form, per pair (hover for why)"),
            ("Pairs", "Rater pairs where the form is defined"),
            ("Sessions", "The sessions of those pairs"),
            ("Min", "Lowest ICC of a pair"),
            ("Max", "Highest ICC of a pair"),
            ("Mean", "Mean of the pairs' ICC (each pair counts once)"),
            ("Median", "Median of the pairs' ICC"),
        ]
        rows, keys = [], []
        for item_id, label, composite in _variables(data.scale, data.items):
            item = data.items.get(item_id)
            rec = item.recommendation if item else None
            headline = rec is not None and rec.form is not None
            form = pair_form(rec.form) if rec is not None and rec.form is not None else default
            spread = data.pair_summary.get(item_id, {}).get(form)
            if spread is None:
                continue
            sf = ICC_LABELS[form][0]
            why = f"{NOT_DEFINED}: no pair has a defined {sf}"
            if spread.n_undefined:
                why += f" ({spread.n_undefined} pair{'s' if spread.n_undefined != 1 else ''})"

            def num(value: float | None, why: str = why) -> Cell:
                if value is None:
                    return Cell(NOT_DEFINED, None, tooltip=why, undefined=True)
                band, colour = koo_li_band(value)
                return Cell(f"{value:.3f}", value, colour, f"Koo & Li (2016): {band}", number=True)

            if headline and rec is not None:
                form_tip = f"{sf}: the per-pair form of the headline {rec.label}. {rec.reason}"
            else:
                form_tip = f"{sf}: the scale file's default (the item has no headline ICC)"
            undefined = (
                f"\n{spread.n_undefined} pair{'s' if spread.n_undefined != 1 else ''} "
                f"without a defined {sf} left out"
                if spread.n_undefined
                else ""
            )
            rows.append(
                [
                    name_cell(item_id, label, composite),
                    Cell(sf, form, tooltip=form_tip),
                    Cell(
                        str(spread.n_pairs), spread.n_pairs, tooltip=undefined.strip(), number=True
                    ),
                    Cell(str(spread.n_sessions), spread.n_sessions, number=True),
                    num(spread.min),
                    num(spread.max),
                    num(spread.mean),
                    num(spread.median),
                ]
            )
            keys.append(item_id)
        self.pair_summary_model.set_table(headers, rows, keys)
        fit_name_column(self.pair_summary_table)

    # ------------------------------------------------------------------ calibration

    def _show_calibration(self, data: ReliabilityData) -> None:
        """The calibration sessions' report (asked for with "Calibration report")."""
        report = data.training
        self.tabs.setTabVisible(self._calibration_tab, report is not None)
        if report is None:
            self.calibration_model.set_table([], [], [])
            return
        n = data.n_training_sessions
        if n == 0:
            self.calibration_label.setText(
                "<b>No calibration session</b> coded by every rater"
                f"{' among these sessions' if data.subset.where else ''} yet: name training "
                "sessions in the Plans tab ('Training sessions') and let every rater "
                "submit them."
            )
        else:
            self.calibration_label.setText(
                f"<b>{n} calibration session{'s' if n != 1 else ''}</b> coded by every rater "
                "(not part of the reliability data above): the headline ICC of each item, "
                "for the mean of all raters, as session-coder reliability --include-training."
            )
        headers = [
            ("Item", "Items, then composites"),
            ("Headline ICC", "The ICC form that fits the calibration design"),
            ("95 % CI", "95 % confidence interval of the headline ICC"),
            ("Form", "The headline form; its tooltip says why"),
            ("Raters", "Raters per calibration session (k)"),
            ("n", "Calibration sessions with every rater's score"),
        ]
        rows, keys = [], []
        for item_id, label, composite in _variables(data.scale, report.items):
            item = report.items.get(item_id)
            rows.append(
                [
                    name_cell(item_id, label, composite),
                    *headline_cells(item),
                    Cell(str(item.k if item else 0), item.k if item else 0, number=True),
                    Cell(
                        str(item.n_sessions if item else 0),
                        item.n_sessions if item else 0,
                        number=True,
                    ),
                ]
            )
            keys.append(item_id)
        self.calibration_model.set_table(headers, rows, keys)
        fit_name_column(self.calibration_table)

    # ------------------------------------------------------------------ drift

    def _on_window_changed(self, value: int) -> None:
        data = self.data
        if data is None:
            return
        self.runner.submit(
            compute_drift,
            data,
            int(value),
            on_done=partial(self._on_drift_computed, data, int(value)),
            on_error=self._on_failed,
            latest=(self, "drift"),
        )

    def _on_drift_computed(
        self, data: ReliabilityData, window: int, drift: ReliabilityDrift
    ) -> None:
        if data is not self.data:
            return  # computed on data a recomputation has replaced since
        self.data = replace(data, drift=drift, window=window)
        self._show_drift()
        self.results_shown.emit()

    def _show_drift(self) -> None:
        data = self.data
        if data is None:
            return
        item_id = self.drift_item_combo.currentData()
        stat_key = self.drift_stat_combo.currentData()
        windows = data.drift.windows
        if item_id is None or stat_key is None or not windows:
            self.drift_chart.clear(
                "No double-coded sessions yet: drift shows once coders have finished some."
            )
            self.drift_caption.setText("")
            return
        group, key = stat_key
        whole = data.items.get(item_id)
        rec = whole.recommendation if whole else None
        points = []
        start = 1
        for w in windows:
            item = w.items.get(item_id)
            stat: Figure | None
            if group == HEADLINE:
                stat = headline_stat(item, rec)
            else:
                stat = _group_stat(item, group, key)
            value = stat.value if stat else None
            ci = stat.ci95 if stat else None
            n = w.n_sessions
            detail = (
                f"sessions {start}–{start + n - 1} in order of submission "
                f"({_date(w.first)} – {_date(w.last)})"
            )
            start += n
            points.append(
                DriftPoint(
                    label=str(w.index + 1),
                    detail=detail,
                    value=value,
                    ci95=ci if value is not None else None,
                    n=item.n_sessions if item else 0,
                    why=None if value is not None else self._drift_why(stat, group, rec),
                )
            )
        label = self.drift_item_combo.currentText()
        shown = self.drift_stat_combo.currentText()
        if group == HEADLINE and rec is not None and rec.form is not None:
            shown = f"{rec.label} (headline)"
        title = f"{shown} · {label}"
        self.drift_chart.set_points(points, title=title, bands=group in ("icc", HEADLINE))
        n = data.n_double_coded
        size = data.drift.window
        last = n - size * (len(windows) - 1)
        smaller = f" (the last holds {last})" if len(windows) > 1 and last != size else ""
        self.drift_caption.setText(
            f"{n} double-coded session{'s' if n != 1 else ''} in {len(windows)} "
            f"window{'s' if len(windows) != 1 else ''} of {size}{smaller}, in the order the "
            "last coder of each submitted. Whiskers: 95 % confidence intervals, where the "
            "statistic has one. Hover a point for its sessions and interval."
        )

    @staticmethod
    def _drift_why(stat: Figure | None, group: str, rec: Recommendation | None) -> str:
        if group == HEADLINE and (rec is None or rec.form is None):
            return rec.reason if rec is not None else NO_DATA_WHY
        return _why(stat)

    # ------------------------------------------------------------------ tests and wiring

    def drift_values(self) -> list[float | None]:
        return [p.value for p in self.drift_chart.points()]


def _headline_summary(items: Mapping[str, ItemReliability], default: str) -> str:
    """One sentence: the headline form(s) and whether the scale default fits."""
    forms: dict[str, int] = {}
    misfit = 0
    for item in items.values():
        rec = item.recommendation
        if rec is None or rec.form is None:
            continue
        forms[rec.label] = forms.get(rec.label, 0) + 1
        misfit += rec.scale_default_fits is False
    if not forms:
        return f"Scale default form: {default}."
    shown = ", ".join(f"{label} ({n} item{'s' if n != 1 else ''})" for label, n in forms.items())
    text = f"Headline: {shown}."
    if misfit:
        text += (
            f" The scale file's default {default} does not fit the design of {misfit} "
            f"item{'s' if misfit != 1 else ''} (see the notes)."
        )
    return text


def _date(value: object) -> str:
    if not value:
        return "?"
    if isinstance(value, datetime):
        return value.astimezone().strftime("%d %b %Y")
    try:
        return datetime.fromisoformat(str(value)).astimezone().strftime("%d %b %Y")
    except ValueError:
        return str(value)


def _short(where: list[str], limit: int = 6) -> list[str]:
    return where if len(where) <= limit else [*where[:limit], f"and {len(where) - limit} more"]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
