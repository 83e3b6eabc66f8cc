"""The coding window of one session: the offset from the manifest, short recordings
warned about, leaving the window recorded, notes and spans outside it flagged (issue 13,
item 7)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coder.coding_session import CodingSession, open_coding
from coder.scales import CodingWindow
from coder.session_window import (
    parse_window_offset,
    session_window,
)
from coder.store.project import Project
from coder.synth import synthesize_session
from tests.cli import run_cli

RESISTANCE = CodingWindow(5 * 60_000, 15 * 60_000)  # 5:00-20:00, the scale's window


@pytest.mark.parametrize(
    ("text", "ms"),
    [("", 0), ("90", 90_000), ("-30", -30_000), ("12.5", 12_500), ("1:30", 90_000),
     ("-0:30", -30_000), ("1:02:03", 3_723_000)],
)  # fmt: skip
def test_offsets_are_seconds_or_clock_times(text: str, ms: int) -> None:
    assert parse_window_offset(text) == ms


@pytest.mark.parametrize(
    ("text", "message"),
    [("1:7x", "is not a time"), ("1:75", "is not a time"), ("5h", "is not a time"),
     ("900:00", "more than 4 hours")],
)  # fmt: skip
def test_a_bad_offset_says_how_to_write_it(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_window_offset(text)


def test_the_window_moves_by_the_offset_and_knows_a_short_recording() -> None:
    window = session_window(RESISTANCE, offset_ms=90_000, recording_ms=17 * 60_000)
    assert (window.start_ms, window.end_ms) == (390_000, 1_290_000)
    assert window.describe() == "6:30-21:30 (shifted by 1:30)"
    assert window.short_by_ms == 1_290_000 - 1_020_000
    assert window.shortfall() == (
        "the recording ends at 17:00, 4:30 before the coding window (6:30-21:30 "
        "(shifted by 1:30)) ends: only 10:30 of its 15:00 can be coded"
    )
    assert not window.contains(389_999) and window.contains(390_000)
    assert window.contains(1_290_000) and not window.contains(1_290_001)
    assert window.contains_span(400_000, 500_000)
    assert not window.contains_span(380_000, 500_000)
    assert window.contains_span(400_000, None)  # an open span: its start
    long_enough = session_window(RESISTANCE, recording_ms=20 * 60_000)
    assert long_enough.short_by_ms == 0 and long_enough.shortfall() is None
    # A whole-session scale ignores an offset: the whole recording is rated.
    whole = session_window(CodingWindow(), offset_ms=60_000, recording_ms=1000)
    assert whole.whole_session and whole.contains(0) and whole.shortfall() is None
    # Moved before the recording's start, the window starts at 0:00.
    early = session_window(RESISTANCE, offset_ms=-400_000)
    assert (early.start_ms, early.end_ms) == (0, 800_000)


def _lab(tmp_path: Path, offsets: dict[str, str]) -> tuple[Path, Path]:
    audio = tmp_path / "audio"
    audio.mkdir()
    rows = ["session_id,audio,patient,therapist,session_number,window_offset"]
    for n, (key, offset) in enumerate(offsets.items(), 1):
        synthesize_session(audio / f"{key}.wav", 20.0, seed=n)
        rows.append(f"{key},audio/{key}.wav,P{n},T1,1,{offset}")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    project = tmp_path / "p.scproj"
    assert run_cli("init", str(project)).returncode == 0
    run_cli("scales", "add", str(project), "resistance")
    run_cli("raters", "add", str(project), "A", "B")
    return project, manifest


def test_a_bad_offset_in_the_manifest_names_file_line_and_field(tmp_path: Path) -> None:
    project, manifest = _lab(tmp_path, {"S1": "1:30", "S2": "1:7x"})
    result = run_cli("import", str(project), str(manifest))
    assert result.returncode == 2
    assert (
        f"{manifest}:line 3 (S2): not imported: window_offset '1:7x' is not a time" in result.stdout
    )
    with Project.open(project) as p:
        assert [s.key for s in p.sessions()] == ["S1"]
        assert p.sessions()[0].metadata["window_offset"] == "1:30"


def test_status_and_plans_warn_of_recordings_shorter_than_the_window(tmp_path: Path) -> None:
    project, manifest = _lab(tmp_path, {"S1": "", "S2": "-4:50"})
    assert run_cli("import", str(project), str(manifest)).returncode == 0
    status = json.loads(run_cli("status", str(project), "--json").stdout)
    assert status["short_windows"] == [
        {"scale_id": "resistance", "session_id": "S1", "window_start_ms": 300_000,
         "window_end_ms": 1_200_000, "recording_ms": 20_000, "short_by_ms": 900_000},
        {"scale_id": "resistance", "session_id": "S2", "window_start_ms": 10_000,
         "window_end_ms": 910_000, "recording_ms": 20_000, "short_by_ms": 890_000},
    ]  # fmt: skip
    text = run_cli("status", str(project)).stdout
    assert "short recording, resistance S2: the recording ends at 0:20" in text
    plan = run_cli(
        "assign", str(project), "--scale", "resistance", "--raters", "A,B", "--double", "0",
        "--seed", "1", "--json",
    )  # fmt: skip
    relaxed = json.loads(plan.stdout)["relaxed"]
    assert any(r.startswith("short recording: S2: the recording ends at 0:20") for r in relaxed)


def test_leaving_the_window_is_recorded_and_outside_notes_are_flagged(tmp_path: Path) -> None:
    project_path, manifest = _lab(tmp_path, {"S1": "-295"})
    assert run_cli("import", str(project_path), str(manifest)).returncode == 0
    with Project.open(project_path) as project:
        coding = project.add_coding("S1", "A", "resistance")
        view = project.rater_view("A")
        opened = open_coding(project, view, coding)
        assert (opened.state.window.start_ms, opened.state.window.end_ms) == (5_000, 905_000)
        session = CodingSession(view, opened.state)
        session.leave_window(2_500)
        assert session.outside_window
        session.add_note(1_000, "before the window")
        session.add_note(6_000, "inside")
        session.return_to_window(5_000)
        assert not session.outside_window
        flags = [(n.text, session.note_in_window(n)) for n in session.notes()]
        assert flags == [("before the window", False), ("inside", True)]
        history = [
            (h.actor, h.action, h.new)
            for h in project.history(coding_id=coding)
            if h.field == "window"
        ]
        assert history == [
            ("A", "leave_window", {"position_ms": 2_500}),
            ("A", "return_to_window", {"position_ms": 5_000}),
        ]
        from coder.store.attrition import window_exits

        assert window_exits(project, ["resistance"]) == {"resistance": {coding: 1}}
        # Another rater cannot write into this coding's history.
        with pytest.raises(Exception, match="not"):
            project.rater_view("B").record_window(coding, inside=False, position_ms=0)
    status = json.loads(run_cli("status", str(project_path), "--json").stdout)
    assert status["window_exits"] == {"resistance": {"codings": 1, "exits": 1}}
    assert "left the coding window, resistance: 1 coding(s), 1 time(s)" in (
        run_cli("status", str(project_path)).stdout
    )


def test_an_offline_package_keeps_the_sessions_window(tmp_path: Path) -> None:
    from coder.packages import export_package, open_package

    project_path, manifest = _lab(tmp_path, {"S1": "-295", "S2": ""})
    text = manifest.read_text(encoding="utf-8").replace(",window_offset", ",window_offset,note")
    lines = text.splitlines()
    manifest.write_text(
        "\n".join([lines[0], *(f"{line},confidential" for line in lines[1:])]) + "\n",
        encoding="utf-8",
    )
    assert run_cli("import", str(project_path), str(manifest)).returncode == 0
    with Project.open(project_path) as project:
        for key in ("S1", "S2"):
            project.add_coding(key, "A", "resistance")
        export_package(project, "A", tmp_path / "A.scpkg")
    with open_package(tmp_path / "A.scpkg") as package:
        windows = {
            q.session_key: package.view.coding(q.coding_id).window for q in package.view.queue()
        }
        metadata = {s.key: dict(s.metadata) for s in package.project.sessions()}
    assert (windows["S1"].start_ms, windows["S1"].end_ms) == (5_000, 905_000)
    assert (windows["S2"].start_ms, windows["S2"].end_ms) == (300_000, 1_200_000)
    # The offset travels, the rest of the metadata does not.
    assert metadata == {"S1": {"window_offset": "-295"}, "S2": {}}
