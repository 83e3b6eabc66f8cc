"""The waveform: peaks from a worker, click-to-seek, drag/wheel/key zoom and back."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from coder.audio import Peaks, load_or_compute_peaks
from coder.synth import synthesize_session
from ui.waveform_view import SpanMark, WaveformView


@pytest.fixture
def peaks(qtbot, runner, tmp_path: Path) -> Peaks:  # type: ignore[no-untyped-def]
    wav = synthesize_session(tmp_path / "s.wav", 60, seed=3)
    got: list[Peaks] = []
    runner.submit(load_or_compute_peaks, wav, "a" * 64, tmp_path / "cache", on_done=got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    return got[0]


@pytest.fixture
def view(qtbot, peaks: Peaks) -> WaveformView:  # type: ignore[no-untyped-def]
    view = WaveformView()
    qtbot.addWidget(view)
    view.resize(600, 150)
    view.set_peaks(peaks)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_peaks_are_loaded_in_a_worker_and_drawn(view: WaveformView, peaks: Peaks) -> None:
    assert view.has_peaks() and view.duration() == peaks.duration_ms == 60_000
    view.set_window(10_000, 25_000)
    view.set_notes([12_000, 40_000])
    view.set_spans([SpanMark(15_000, 20_000), SpanMark(30_000, None)])
    view.set_playhead(33_000)
    image = view.grab().toImage()
    # Something was painted in the waveform colour in the middle band.
    colours = {image.pixelColor(x, 60).name() for x in range(0, 600, 3)}
    assert "#3d6fa8" in colours or len(colours) > 3


def test_click_seeks_to_the_time_under_the_pointer(qtbot, view: WaveformView) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(view.seek_requested) as blocker:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(300, 60))
    assert blocker.args == [30_000]


def test_drag_zooms_into_a_region_and_right_click_goes_back(qtbot, view: WaveformView) -> None:  # type: ignore[no-untyped-def]
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(150, 60))
    qtbot.mouseMove(view, QPoint(220, 60))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(300, 60))
    assert view.view_range() == (15_000, 30_000)
    # Clicks now map into the zoomed range.
    with qtbot.waitSignal(view.seek_requested) as blocker:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(300, 60))
    assert blocker.args == [22_500]
    qtbot.mouseClick(view, Qt.MouseButton.RightButton, pos=QPoint(300, 60))
    assert view.view_range() == (0, 60_000)


def test_wheel_and_key_zoom_around_a_point(view: WaveformView) -> None:
    wheel = QWheelEvent(
        QPointF(300, 60),
        view.mapToGlobal(QPointF(300, 60)),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view, wheel)
    start, end = view.view_range()
    assert end - start == 40_000 and start < 30_000 < end
    view.zoom_all()
    view.set_playhead(45_000)
    view.zoom_in()  # the Z key: twice as close, the playhead stays where it was on screen
    assert view.view_range() == (22_500, 52_500)
    view.zoom_in()
    assert view.view_range()[1] - view.view_range()[0] == 15_000
    view.zoom_out()
    view.zoom_out()
    assert view.view_range() == (0, 60_000)


def test_a_zoomed_view_follows_the_playhead(view: WaveformView) -> None:
    view.zoom_to(0, 10_000)
    view.set_playhead(25_000)
    start, end = view.view_range()
    assert start <= 25_000 <= end and end - start == 10_000


def _wave_rows(view: WaveformView) -> list[int]:
    """The image rows where the waveform colour is painted."""
    image = view.grab().toImage()
    return [
        y
        for y in range(image.height())
        if any(image.pixelColor(x, y).name() == "#3d6fa8" for x in range(0, image.width(), 2))
    ]


def test_the_waveform_fills_the_band_height(view: WaveformView, peaks: Peaks) -> None:
    # Speech-like audio peaks well below full scale: drawn as is, it used about a
    # third of the band. The view scales the recording's loud parts to the full band.
    assert peaks.level() < 0.7
    assert view.gain() == pytest.approx(1 / peaks.level())
    rows = _wave_rows(view)
    band = view.height() - 16 - 4  # the plot between the overview bar and the time axis
    assert rows and (max(rows) - min(rows)) >= 0.8 * band


def test_a_short_span_of_a_long_session_stays_visible(qtbot, view: WaveformView) -> None:  # type: ignore[no-untyped-def]
    view.set_duration(3_600_000)  # an hour at 600 px: 5 s is under one pixel
    view.set_spans([SpanMark(1_800_000, 1_805_000)])
    rect = view.span_rect(1_800_000, 1_805_000)
    assert rect.width() >= 8
    assert rect.left() <= view.x_for_ms(1_800_000) and rect.right() >= view.x_for_ms(1_805_000)
    image = view.grab().toImage()
    y = view.height() - 16 - 6  # in the span's band at the bottom of the plot
    green = [
        x
        for x in range(image.width())
        if image.pixelColor(x, y).green() > image.pixelColor(x, y).red() + 40
    ]
    assert len(green) >= 7
    # A long span keeps its true extent.
    long = view.span_rect(600_000, 1_200_000)
    assert long.width() == pytest.approx(view.x_for_ms(1_200_000) - view.x_for_ms(600_000))
