"""A heat-map of how often each pair of raters double-codes together.

The matrix is symmetric (rater x rater); each cell shows its count, and its colour
deepens with the count, so an unbalanced plan shows at a glance. The diagonal (a
rater with themself) is grey. Drawn with QPainter: it is a plain grid, and the cells'
numbers must stay readable at any size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from coder.discrepancies import pair_matrix

# From white (never together) to the app's blue (most often together).
_LOW = QColor("#f8fafc")
_HIGH = QColor("#1d4ed8")
_DIAGONAL = QColor("#e5e7eb")
_GRID = QColor("#cbd5e1")
_TEXT = QColor("#111827")


def _mix(low: QColor, high: QColor, t: float) -> QColor:
    t = min(1.0, max(0.0, t))
    return QColor(
        round(low.red() + (high.red() - low.red()) * t),
        round(low.green() + (high.green() - low.green()) * t),
        round(low.blue() + (high.blue() - low.blue()) * t),
    )


class PairMatrixView(QWidget):
    """Heat-map of a plan's rater-pair counts (``Plan.summary().pair_counts``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._raters: list[str] = []
        self._matrix: list[list[int]] = []
        self._empty_text = "No plan yet."
        self.setMouseTracking(True)
        self.setMinimumSize(220, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    # ------------------------------------------------------------------ data

    def set_pairs(self, raters: Sequence[str], pair_counts: Sequence[Mapping[str, Any]]) -> None:
        """Show the pairs of ``raters`` (row and column order) with their counts."""
        self._raters = list(raters)
        self._matrix = pair_matrix(self._raters, pair_counts)
        self.update()

    def clear(self, text: str = "No plan yet.") -> None:
        self._raters, self._matrix, self._empty_text = [], [], text
        self.update()

    def raters(self) -> list[str]:
        return list(self._raters)

    def matrix(self) -> list[list[int]]:
        """The counts shown, ``m[i][j]`` for ``raters()[i]`` and ``raters()[j]``."""
        return [list(row) for row in self._matrix]

    def count(self, a: str, b: str) -> int:
        i, j = self._raters.index(a), self._raters.index(b)
        return self._matrix[i][j]

    def cell_color(self, a: str, b: str) -> QColor:
        """The colour of a cell (grey on the diagonal)."""
        if a == b:
            return QColor(_DIAGONAL)
        top = max((max(row) for row in self._matrix), default=0)
        return _mix(_LOW, _HIGH, self.count(a, b) / top if top else 0.0)

    # ------------------------------------------------------------------ geometry

    def sizeHint(self) -> QSize:
        n = max(len(self._raters), 3)
        return QSize(80 + 44 * n, 60 + 34 * n)

    def _layout(self) -> tuple[int, int, int, int]:
        """(left, top, cell width, cell height) of the grid, centred in the widget."""
        fm = QFontMetrics(self.font())
        label_w = max((fm.horizontalAdvance(r) for r in self._raters), default=0) + 12
        n = max(len(self._raters), 1)
        legend_h = fm.height() + 10
        cell_w = max(24, min(72, (self.width() - 2 * label_w) // n))
        cell_h = max(20, min(40, (self.height() - 2 * fm.height() - 8 - legend_h) // n))
        grid_w, grid_h = cell_w * n, cell_h * n
        left = max(label_w, (self.width() - grid_w) // 2)
        top = max(fm.height() + 8, (self.height() - legend_h - grid_h + fm.height()) // 2)
        return left, top, cell_w, cell_h

    def _cell_at(self, pos: QPoint) -> tuple[int, int] | None:
        if not self._raters:
            return None
        left, top, w, h = self._layout()
        col = (pos.x() - left) // w if pos.x() >= left else -1
        row = (pos.y() - top) // h if pos.y() >= top else -1
        n = len(self._raters)
        if 0 <= row < n and 0 <= col < n:
            return row, col
        return None

    # ------------------------------------------------------------------ painting

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        if not self._raters:
            painter.setPen(QColor("#6b7280"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._empty_text)
            return
        left, top, w, h = self._layout()
        fm = QFontMetrics(self.font())
        self._paint_legend(painter, left, top + h * len(self._raters) + 8, fm)
        painter.setPen(_TEXT)
        for j, rater in enumerate(self._raters):
            painter.drawText(
                QRect(left + j * w, 0, w, top - 2),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                fm.elidedText(rater, Qt.TextElideMode.ElideRight, w - 2),
            )
        bold = QFont(self.font())
        bold.setBold(True)
        for i, a in enumerate(self._raters):
            painter.setPen(_TEXT)
            painter.setFont(self.font())
            painter.drawText(
                QRect(left - 200, top + i * h, 194, h),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                a,
            )
            for j, b in enumerate(self._raters):
                cell = QRect(left + j * w, top + i * h, w, h)
                color = self.cell_color(a, b)
                painter.fillRect(cell, color)
                painter.setPen(QPen(_GRID))
                painter.drawRect(cell.adjusted(0, 0, -1, -1))
                if i == j:
                    painter.setPen(QColor("#9ca3af"))
                    painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, "–")
                    continue
                # Dark cells get white numbers, light ones black (contrast by luminance).
                light = color.lightnessF() > 0.55
                painter.setPen(QColor("#111827") if light else QColor("#ffffff"))
                painter.setFont(bold)
                painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, str(self._matrix[i][j]))
                painter.setFont(self.font())

    def _paint_legend(self, painter: QPainter, left: int, y: int, fm: QFontMetrics) -> None:
        """A small ramp from 0 to the largest count, under the grid."""
        top = max((max(row) for row in self._matrix), default=0)
        painter.setPen(QColor("#4b5563"))
        label = "sessions together:  0"
        painter.drawText(QPoint(left, y + fm.ascent()), label)
        x = left + fm.horizontalAdvance(label) + 6
        steps = 24
        for k in range(steps):
            painter.fillRect(
                QRect(x + k * 4, y + 2, 4, fm.height() - 4), _mix(_LOW, _HIGH, k / (steps - 1))
            )
        painter.setPen(QPen(_GRID))
        painter.drawRect(QRect(x, y + 2, steps * 4, fm.height() - 4))
        painter.setPen(QColor("#4b5563"))
        painter.drawText(QPoint(x + steps * 4 + 6, y + fm.ascent()), str(top))

    def event(self, event: Any) -> bool:
        if event.type() == event.Type.ToolTip:
            assert isinstance(event, QHelpEvent)
            cell = self._cell_at(event.pos())
            if cell is None or cell[0] == cell[1]:
                QToolTip.hideText()
            else:
                a, b = self._raters[cell[0]], self._raters[cell[1]]
                n = self._matrix[cell[0]][cell[1]]
                QToolTip.showText(
                    event.globalPos(),
                    f"{a} and {b} double-code {n} session{'s' if n != 1 else ''} together",
                    self,
                )
            return True
        return super().event(event)
