"""A line chart of one reliability statistic over consecutive windows of coding time.

Each point is one window of double-coded sessions (``reliability_drift``), with its
95 % interval as a whisker where the statistic has one. Windows where the statistic is
not defined leave a gap in the line and a grey "n/a" mark; hovering a point tells why.
For ICCs the background shows the Koo & Li (2016) bands.

Drawn with QPainter rather than QtCharts: the bands as a background, gaps for undefined
windows and whiskers are a few lines here but awkward in QtCharts (no gaps in a
QLineSeries, no error bars).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QHelpEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

# (lower bound, label, colour) of the Koo & Li (2016) bands, lowest first.
KOO_LI_BANDS: tuple[tuple[float, str, str], ...] = (
    (-math.inf, "poor", "#fecaca"),
    (0.50, "moderate", "#fde68a"),
    (0.75, "good", "#bbf7d0"),
    (0.90, "excellent", "#4ade80"),
)


def koo_li_band(value: float) -> tuple[str, QColor]:
    """The Koo & Li (2016) band of an ICC and its colour.

    Below .50 poor, .50 to below .75 moderate, .75 to .90 good, above .90 excellent
    (the paper's "between 0.75 and 0.9" is read as including .90).
    """
    if value > 0.90:
        return "excellent", QColor(KOO_LI_BANDS[3][2])
    if value >= 0.75:
        return "good", QColor(KOO_LI_BANDS[2][2])
    if value >= 0.50:
        return "moderate", QColor(KOO_LI_BANDS[1][2])
    return "poor", QColor(KOO_LI_BANDS[0][2])


@dataclass(frozen=True)
class DriftPoint:
    """One window of the chart.

    Attributes:
        label: The x-axis label (the window's number).
        detail: What the window covers, for the tooltip (sessions, dates).
        value: The statistic, or None when it is not defined.
        ci95: Its 95 % interval, when it has one.
        n: Sessions the statistic rests on.
        why: Why ``value`` is None.
    """

    label: str
    detail: str
    value: float | None
    ci95: tuple[float, float] | None = None
    n: int = 0
    why: str | None = None


X_TITLE = "window of double-coded sessions, in order of submission"

_LINE = QColor("#1d4ed8")
_AXIS = QColor("#6b7280")
_UNDEFINED = QColor("#9ca3af")


class DriftChart(QWidget):
    """The chart; give it points with :meth:`set_points`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._points: list[DriftPoint] = []
        self._title = ""
        self._bands = True
        self._x_title = X_TITLE
        self._threshold: float | None = None
        self._empty_text = "Nothing to show yet."
        self.setMouseTracking(True)
        self.setMinimumSize(320, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_points(
        self,
        points: Sequence[DriftPoint],
        *,
        title: str,
        bands: bool,
        x_title: str = "",
        threshold: float | None = None,
    ) -> None:
        """Show ``points`` (one per window, in time order) under ``title``.

        Args:
            points: The windows.
            title: Says what is plotted (statistic and item).
            bands: Colour the background by the Koo & Li bands (for ICCs).
            x_title: What a point is (default: a window of double-coded sessions).
            threshold: A value to mark with a dashed line (a criterion), if any.
        """
        self._points = list(points)
        self._title = title
        self._bands = bands
        self._x_title = x_title or X_TITLE
        self._threshold = threshold
        self.update()

    def threshold(self) -> float | None:
        return self._threshold

    def clear(self, text: str) -> None:
        self._points, self._title, self._empty_text = [], "", text
        self.update()

    def points(self) -> list[DriftPoint]:
        return list(self._points)

    def title(self) -> str:
        return self._title

    def sizeHint(self) -> QSize:
        return QSize(640, 300)

    # ------------------------------------------------------------------ geometry

    def _y_range(self) -> tuple[float, float]:
        lows = [p.value for p in self._points if p.value is not None]
        lows += [p.ci95[0] for p in self._points if p.ci95 is not None and p.value is not None]
        lo = min([0.0, *lows])
        lo = max(-1.0, math.floor(lo * 4) / 4)
        return lo, 1.0

    def _plot_rect(self) -> QRectF:
        fm = QFontMetrics(self.font())
        left = fm.horizontalAdvance("-0.75") + 14
        top = fm.height() + 12
        bottom = 2 * fm.height() + 10
        return QRectF(left, top, max(10.0, self.width() - left - 14), self.height() - top - bottom)

    def _x(self, rect: QRectF, i: int) -> float:
        slot = rect.width() / max(len(self._points), 1)
        return rect.left() + slot * (i + 0.5)

    @staticmethod
    def _y(rect: QRectF, lo: float, hi: float, v: float) -> float:
        v = min(hi, max(lo, v))
        return rect.bottom() - (v - lo) / (hi - lo) * rect.height()

    # ------------------------------------------------------------------ painting

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        if not self._points:
            painter.setPen(_AXIS)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._empty_text)
            return
        fm = QFontMetrics(self.font())
        rect = self._plot_rect()
        lo, hi = self._y_range()
        painter.setPen(QColor("#111827"))
        painter.drawText(
            QRectF(rect.left(), 2, rect.width(), fm.height() + 4),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            self._title,
        )
        if self._bands:
            edges = [b[0] for b in KOO_LI_BANDS[1:]] + [math.inf]
            for (start, _label, colour), end in zip(KOO_LI_BANDS, edges, strict=True):
                a, b = max(lo, start), min(hi, end)
                if a >= b:
                    continue
                band = QColor(colour)
                band.setAlpha(110)
                y1, y2 = self._y(rect, lo, hi, b), self._y(rect, lo, hi, a)
                painter.fillRect(QRectF(rect.left(), y1, rect.width(), y2 - y1), band)
        # Grid and y labels every .25.
        tick = math.ceil(lo * 4) / 4
        while tick <= hi + 1e-9:
            y = self._y(rect, lo, hi, tick)
            painter.setPen(QPen(QColor("#e5e7eb"), 1))
            painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            painter.setPen(_AXIS)
            painter.drawText(
                QRectF(0, y - fm.height() / 2, rect.left() - 6, fm.height()),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                f"{tick:.2f}",
            )
            tick += 0.25
        if self._threshold is not None:
            y = self._y(rect, lo, hi, self._threshold)
            painter.setPen(QPen(QColor("#b91c1c"), 1.5, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
        painter.setPen(QPen(_AXIS, 1))
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        painter.drawLine(rect.bottomLeft(), rect.topLeft())
        # Whiskers, line (broken at undefined windows), points.
        slot = rect.width() / len(self._points)
        cap = min(6.0, slot / 6)
        painter.setPen(QPen(QColor("#93c5fd"), 2))
        for i, p in enumerate(self._points):
            if p.value is None or p.ci95 is None:
                continue
            x = self._x(rect, i)
            y1, y2 = self._y(rect, lo, hi, p.ci95[0]), self._y(rect, lo, hi, p.ci95[1])
            painter.drawLine(QPointF(x, y1), QPointF(x, y2))
            painter.drawLine(QPointF(x - cap, y1), QPointF(x + cap, y1))
            painter.drawLine(QPointF(x - cap, y2), QPointF(x + cap, y2))
        painter.setPen(QPen(_LINE, 2))
        previous: QPointF | None = None
        for i, p in enumerate(self._points):
            if p.value is None:
                previous = None
                continue
            here = QPointF(self._x(rect, i), self._y(rect, lo, hi, p.value))
            if previous is not None:
                painter.drawLine(previous, here)
            previous = here
        for i, p in enumerate(self._points):
            x = self._x(rect, i)
            if p.value is None:
                painter.setPen(_UNDEFINED)
                painter.drawText(
                    QRectF(x - slot / 2, rect.bottom() - fm.height() - 4, slot, fm.height()),
                    Qt.AlignmentFlag.AlignCenter,
                    "n/a",
                )
                continue
            painter.setPen(QPen(QColor("#ffffff"), 1.5))
            painter.setBrush(_LINE)
            painter.drawEllipse(QPointF(x, self._y(rect, lo, hi, p.value)), 4.5, 4.5)
            painter.setBrush(Qt.BrushStyle.NoBrush)
        # X labels: window numbers, thinned out when crowded.
        painter.setPen(_AXIS)
        every = max(1, math.ceil(fm.horizontalAdvance("000") * 1.6 / slot))
        for i, p in enumerate(self._points):
            if i % every:
                continue
            painter.drawText(
                QRectF(self._x(rect, i) - slot * every / 2, rect.bottom() + 3, slot * every, 18),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                p.label,
            )
        painter.drawText(
            QRectF(rect.left(), rect.bottom() + fm.height() + 4, rect.width(), fm.height() + 4),
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter,
            self._x_title,
        )

    def point_at(self, x: float) -> int | None:
        """The index of the window under x (widget coordinates), if any."""
        if not self._points:
            return None
        rect = self._plot_rect()
        if not rect.left() <= x <= rect.right():
            return None
        i = int((x - rect.left()) / (rect.width() / len(self._points)))
        return min(i, len(self._points) - 1)

    def tooltip_text(self, i: int) -> str:
        p = self._points[i]
        head = f"Window {p.label}: {p.detail}" if self._x_title == X_TITLE else p.detail
        if p.value is None:
            return f"{head}\nnot defined: {p.why or 'no data'}"
        ci = f" [{p.ci95[0]:.2f}, {p.ci95[1]:.2f}]" if p.ci95 is not None else ""
        return f"{head}\n{p.value:.3f}{ci}, n = {p.n} sessions"

    def event(self, event: Any) -> bool:
        if event.type() == event.Type.ToolTip:
            assert isinstance(event, QHelpEvent)
            i = self.point_at(event.pos().x())
            if i is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self.tooltip_text(i), self)
            return True
        return super().event(event)
