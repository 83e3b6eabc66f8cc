"""The waveform overview: min/max columns, playhead, coding window, notes and spans.

A plain QWidget that paints. The waveform itself (one vertical line per pixel column
from the min to the max of the peaks under it) is rendered into a cached pixmap when
the visible range, the size or the peaks change; the playhead, notes and spans are
painted over it on every update, so a moving playhead costs one pixmap blit.

Mouse: click to seek, drag to zoom into a region, wheel to zoom around the pointer,
right-click (or double-click) to zoom back out. The window's actions add keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QPolygonF,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from coder.audio import Peaks
from ui.timefmt import format_ms

MIN_VIEW_MS = 2_000
#: A span is drawn at least this wide, so a few seconds of a long session still show.
MIN_SPAN_PX = 8.0
# The quietest level the overview scales up to full height: a near-silent recording
# is not blown up into noise that looks like speech.
_MIN_LEVEL = 0.02
_DRAG_PX = 5
_AXIS_PX = 16
_OVERVIEW_PX = 4

_BG = QColor("#fbfbfc")
_OUTSIDE = QColor(120, 120, 130, 60)
_WINDOW = QColor(255, 236, 179, 110)
_WAVE = QColor("#3d6fa8")
_WAVE_OUTSIDE = QColor("#9aaec6")
_PLAYHEAD = QColor("#d1342f")
_NOTE = QColor("#e08a00")
_SPAN = QColor(46, 160, 90, 70)
_SPAN_EDGE = QColor(46, 140, 80)
_SPAN_BAND = QColor(46, 140, 80, 200)
_SELECT = QColor(61, 111, 168, 60)
_AXIS = QColor("#6b7280")


@dataclass(frozen=True)
class SpanMark:
    start_ms: int
    end_ms: int | None  # None: still open (drawn up to the playhead)
    label: str = ""


class WaveformView(QWidget):
    """Draws the recording's overview and turns clicks into seeks.

    Signals:
        seek_requested(int): the rater clicked at this time (ms).
        view_changed(int, int): the visible range changed (start, end in ms).
    """

    seek_requested = Signal(int)
    view_changed = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(110)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setToolTip(
            "Click: go there · drag: zoom into a region · wheel: zoom · right-click: zoom out"
        )
        self._peaks: Peaks | None = None
        self._gain = 1.0
        self._duration = 0
        self._view = (0, 1)
        self._zoom_stack: list[tuple[int, int]] = []
        self._playhead = 0
        self._window: tuple[int, int | None] | None = None
        self._notes: list[int] = []
        self._spans: list[SpanMark] = []
        self._message = "Loading the waveform…"
        self._cache: QPixmap | None = None
        self._press_x: float | None = None
        self._drag_x: float | None = None

    # ------------------------------------------------------------------ data in

    def sizeHint(self) -> QSize:
        return QSize(900, 150)

    def set_peaks(self, peaks: Peaks | None) -> None:
        self._peaks = peaks
        # Speech rarely reaches full scale: scale so the recording's loud parts fill the
        # band's height, not a third of it (the same gain at every zoom).
        self._gain = 1.0 / max(peaks.level(), _MIN_LEVEL) if peaks is not None else 1.0
        if peaks is not None:
            self._message = ""
            if self._duration <= 0:
                self.set_duration(peaks.duration_ms)
        self._invalidate()

    def has_peaks(self) -> bool:
        return self._peaks is not None

    def set_message(self, text: str) -> None:
        """A line shown instead of the waveform (loading, or why there is none)."""
        self._message = text
        self._invalidate()

    def set_duration(self, duration_ms: int) -> None:
        if duration_ms <= 0 or duration_ms == self._duration:
            return
        full = self._view == (0, max(1, self._duration))
        self._duration = duration_ms
        if full or self._view[1] > duration_ms:
            self._view = (0, duration_ms)
            self._zoom_stack.clear()
            self.view_changed.emit(*self._view)
        self._invalidate()

    def duration(self) -> int:
        return self._duration

    def set_playhead(self, position_ms: int) -> None:
        self._playhead = int(position_ms)
        self._follow_playhead()
        self.update()

    def set_window(self, start_ms: int, end_ms: int | None) -> None:
        whole = start_ms <= 0 and end_ms is None
        self._window = None if whole else (start_ms, end_ms)
        self._invalidate()

    def set_notes(self, positions_ms: Sequence[int]) -> None:
        self._notes = list(positions_ms)
        self.update()

    def set_spans(self, spans: Sequence[SpanMark]) -> None:
        self._spans = list(spans)
        self.update()

    # ------------------------------------------------------------------ zoom

    def view_range(self) -> tuple[int, int]:
        return self._view

    def zoom_to(self, start_ms: float, end_ms: float, *, remember: bool = True) -> None:
        """Show ``[start_ms, end_ms]`` (at least two seconds; kept inside the recording)."""
        if self._duration <= 0:
            return
        start, end = sorted((float(start_ms), float(end_ms)))
        if end - start < MIN_VIEW_MS:
            middle = (start + end) / 2
            start, end = middle - MIN_VIEW_MS / 2, middle + MIN_VIEW_MS / 2
        width = min(end - start, float(self._duration))
        start = min(max(0.0, start), self._duration - width)
        new = (round(start), round(start + width))
        if new == self._view:
            return
        if remember:
            self._zoom_stack.append(self._view)
        self._view = new
        self._invalidate()
        self.view_changed.emit(*new)

    def zoom_in(
        self, center_ms: float | None = None, factor: float = 2.0, *, remember: bool = True
    ) -> None:
        start, end = self._view
        center = self._playhead if center_ms is None else center_ms
        width = (end - start) / factor
        # Keep the centre point where it is on screen.
        fraction = (center - start) / max(1, end - start)
        fraction = min(1.0, max(0.0, fraction))
        left = center - fraction * width
        self.zoom_to(left, left + width, remember=remember)

    def zoom_out(self) -> None:
        """Back to the previous zoom, or twice as wide when there is none."""
        if self._zoom_stack:
            previous = self._zoom_stack.pop()
            self.zoom_to(*previous, remember=False)
            return
        start, end = self._view
        middle, width = (start + end) / 2, (end - start) * 2
        self.zoom_to(middle - width / 2, middle + width / 2, remember=False)

    def zoom_all(self) -> None:
        self._zoom_stack.clear()
        self.zoom_to(0, self._duration, remember=False)

    def is_zoomed(self) -> bool:
        return self._duration > 0 and self._view != (0, self._duration)

    def _follow_playhead(self) -> None:
        start, end = self._view
        if not self.is_zoomed() or start <= self._playhead <= end:
            return
        width = end - start
        new_start = self._playhead - width * 0.1
        self.zoom_to(new_start, new_start + width, remember=False)

    # ------------------------------------------------------------------ geometry

    def _plot_rect(self) -> QRectF:
        return QRectF(
            0, _OVERVIEW_PX, self.width(), max(1, self.height() - _AXIS_PX - _OVERVIEW_PX)
        )

    def gain(self) -> float:
        """The factor the peaks are drawn with (the loud parts fill the band)."""
        return self._gain

    def span_rect(self, start_ms: int, end_ms: int) -> QRectF:
        """Where a span is drawn: its true extent, at least :data:`MIN_SPAN_PX` wide.

        A short span is widened about its middle, so 5 s of an hour still shows.
        """
        plot = self._plot_rect()
        x0, x1 = sorted((self.x_for_ms(start_ms), self.x_for_ms(end_ms)))
        if x1 - x0 < MIN_SPAN_PX:
            middle = (x0 + x1) / 2
            x0, x1 = middle - MIN_SPAN_PX / 2, middle + MIN_SPAN_PX / 2
        return QRectF(x0, plot.top(), x1 - x0, plot.height())

    def x_for_ms(self, position_ms: float) -> float:
        start, end = self._view
        return (position_ms - start) * self.width() / max(1, end - start)

    def ms_for_x(self, x: float) -> int:
        start, end = self._view
        position = start + x * (end - start) / max(1, self.width())
        return round(min(max(position, 0), self._duration))

    # ------------------------------------------------------------------ painting

    def _invalidate(self) -> None:
        self._cache = None
        self.update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._cache = None
        super().resizeEvent(event)

    def _render_waveform(self) -> QPixmap:
        ratio = self.devicePixelRatioF()
        pixmap = QPixmap(round(self.width() * ratio), round(self.height() * ratio))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(_BG)
        painter = QPainter(pixmap)
        plot = self._plot_rect()
        if self._window is not None and self._duration > 0:
            # Dim what lies outside the coding window, tint what lies inside.
            w_start, w_end = self._window
            x0 = self.x_for_ms(w_start)
            x1 = self.x_for_ms(self._duration if w_end is None else w_end)
            painter.fillRect(QRectF(0, plot.top(), max(0, x0), plot.height()), _OUTSIDE)
            painter.fillRect(
                QRectF(x1, plot.top(), max(0, self.width() - x1), plot.height()), _OUTSIDE
            )
            painter.fillRect(QRectF(x0, plot.top(), x1 - x0, plot.height()), _WINDOW)
        painter.setPen(QPen(QColor("#d9dce1"), 1))
        mid = plot.center().y()
        painter.drawLine(QPointF(0, mid), QPointF(self.width(), mid))
        if self._peaks is not None and self.width() > 0 and self._duration > 0:
            columns = max(1, self.width())
            start, end = self._view
            mins, maxs = self._peaks.window(start, end, columns)
            half = plot.height() / 2 * 0.95
            top = mid - np.clip(maxs.astype(np.float64) * self._gain, -1.0, 1.0) * half
            bottom = mid - np.clip(mins.astype(np.float64) * self._gain, -1.0, 1.0) * half
            # At least one pixel tall, so silence still shows as a line.
            bottom = np.maximum(bottom, top + 1)
            xs = np.arange(columns, dtype=np.float64) + 0.5
            inside = np.ones(columns, dtype=bool)
            if self._window is not None:
                times = start + (xs / columns) * (end - start)
                w_start, w_end = self._window
                inside = (times >= w_start) & (times <= (w_end if w_end is not None else 1e18))
            for mask, colour in ((inside, _WAVE), (~inside, _WAVE_OUTSIDE)):
                if not mask.any():
                    continue
                painter.setPen(QPen(colour, 1))
                painter.drawLines(
                    [
                        QPointF(x, y)
                        for x, t, b in zip(xs[mask], top[mask], bottom[mask], strict=True)
                        for y in (t, b)
                    ]
                )
        self._draw_axis(painter)
        painter.end()
        return pixmap

    def _draw_axis(self, painter: QPainter) -> None:
        if self._duration <= 0:
            return
        start, end = self._view
        span = max(1, end - start)
        # A tick about every 100 px, at a round number of seconds.
        target = span * 100 / max(1, self.width())
        steps = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
        step_ms = next((s * 1000 for s in steps if s * 1000 >= target), 3600_000)
        painter.setPen(QPen(_AXIS, 1))
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        painter.setFont(font)
        y = self.height() - _AXIS_PX
        painter.drawLine(QPointF(0, y), QPointF(self.width(), y))
        tick = (start // step_ms) * step_ms
        while tick <= end:
            if tick >= start:
                x = self.x_for_ms(tick)
                painter.drawLine(QPointF(x, y), QPointF(x, y + 4))
                painter.drawText(QPointF(x + 3, self.height() - 3), format_ms(tick))
            tick += step_ms

    def paintEvent(self, _event: QPaintEvent) -> None:
        if self._cache is None or self._cache.size() != self.size() * self.devicePixelRatioF():
            self._cache = self._render_waveform()
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._cache)
        plot = self._plot_rect()
        if self._message:
            painter.setPen(_AXIS)
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, self._message)
        self._draw_overview(painter)
        self._draw_spans(painter, plot)
        self._draw_notes(painter, plot)
        if self._press_x is not None and self._drag_x is not None:
            x0, x1 = sorted((self._press_x, self._drag_x))
            painter.fillRect(QRectF(x0, plot.top(), x1 - x0, plot.height()), _SELECT)
        if self._duration > 0:
            x = self.x_for_ms(self._playhead)
            painter.setPen(QPen(_PLAYHEAD, 2))
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
        if self.hasFocus():
            painter.setPen(QPen(QColor("#3d6fa8"), 1, Qt.PenStyle.DotLine))
            painter.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))
        painter.end()

    def _draw_overview(self, painter: QPainter) -> None:
        """A thin bar at the top showing which part of the recording is visible."""
        if not self.is_zoomed():
            return
        start, end = self._view
        x0 = start * self.width() / self._duration
        x1 = end * self.width() / self._duration
        painter.fillRect(QRectF(0, 0, self.width(), _OVERVIEW_PX), QColor("#e5e7eb"))
        painter.fillRect(QRectF(x0, 0, max(2, x1 - x0), _OVERVIEW_PX), QColor("#3d6fa8"))

    def _draw_spans(self, painter: QPainter, plot: QRectF) -> None:
        band_height = min(16.0, plot.height() * 0.15)
        for span in self._spans:
            end = self._playhead if span.end_ms is None else span.end_ms
            rect = self.span_rect(span.start_ms, end)
            x0, x1, width = rect.left(), rect.right(), rect.width()
            if x1 < 0 or x0 > self.width():
                continue
            painter.fillRect(rect, _SPAN)
            band = QRectF(x0, plot.bottom() - band_height, width, band_height)
            painter.fillRect(band, _SPAN_BAND if span.end_ms is not None else _SPAN)
            style = Qt.PenStyle.SolidLine if span.end_ms is not None else Qt.PenStyle.DashLine
            painter.setPen(QPen(_SPAN_EDGE, 1, style))
            painter.drawLine(QPointF(x0, plot.top()), QPointF(x0, plot.bottom()))
            if span.end_ms is not None:
                painter.drawLine(QPointF(x1, plot.top()), QPointF(x1, plot.bottom()))
            length = f"{(end - span.start_ms) / 1000:.1f} s"
            label = f"{span.label} · {length}" if span.label else length
            if span.end_ms is None:
                label += " (open)"
            if painter.fontMetrics().horizontalAdvance(label) + 6 < width:
                painter.setPen(QColor("white") if span.end_ms is not None else _SPAN_EDGE)
                painter.drawText(band.adjusted(4, 0, -2, 0), Qt.AlignmentFlag.AlignVCenter, label)

    def _draw_notes(self, painter: QPainter, plot: QRectF) -> None:
        painter.setBrush(QBrush(_NOTE))
        for position in self._notes:
            x = self.x_for_ms(position)
            if x < -6 or x > self.width() + 6:
                continue
            painter.setPen(QPen(_NOTE, 1, Qt.PenStyle.DotLine))
            painter.drawLine(QPointF(x, plot.top() + 8), QPointF(x, plot.bottom()))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawPolygon(
                QPolygonF(
                    [
                        QPointF(x - 5, plot.top()),
                        QPointF(x + 5, plot.top()),
                        QPointF(x, plot.top() + 9),
                    ]
                )
            )
        painter.setBrush(Qt.BrushStyle.NoBrush)

    # ------------------------------------------------------------------ mouse

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press_x = event.position().x()
            self._drag_x = None
        elif event.button() == Qt.MouseButton.RightButton:
            self.zoom_out()
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press_x is not None and event.buttons() & Qt.MouseButton.LeftButton:
            x = event.position().x()
            if self._drag_x is not None or abs(x - self._press_x) > _DRAG_PX:
                self._drag_x = x
                self.update()
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._press_x is None:
            return
        press, x = self._press_x, event.position().x()
        dragged = self._drag_x is not None or abs(x - press) > _DRAG_PX
        self._press_x = self._drag_x = None
        if dragged and abs(x - press) > _DRAG_PX:
            self.zoom_to(self.ms_for_x(press), self.ms_for_x(x))
        elif self._duration > 0:
            self.seek_requested.emit(self.ms_for_x(press))
        self.update()
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        # The first click of the double click already sought; the second zooms out.
        self.zoom_out()
        event.accept()

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y()
        if delta == 0 or self._duration <= 0:
            return
        center = self.ms_for_x(event.position().x())
        if delta > 0:
            self.zoom_in(center, factor=1.5, remember=False)
        else:
            start, end = self._view
            width = (end - start) * 1.5
            fraction = (center - start) / max(1, end - start)
            self.zoom_to(
                center - fraction * width, center - fraction * width + width, remember=False
            )
        event.accept()
