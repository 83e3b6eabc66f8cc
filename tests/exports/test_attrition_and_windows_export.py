"""Exports account for every session (sessions without audio in the uncodable table, an
attrition line in the README) and flag notes and spans outside the coding window
(issue 13, items 7 and 8)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from coder.attrition import FILE_NOT_FOUND, FILE_UNREADABLE
from coder.export_data import WITHOUT_AUDIO_PREFIX, build_export_bundle, describe_options
from coder.scales import load_builtin_scale, parse_scale
from coder.store.project import Project
from exports.csv_export import write_csv
from tests.factories import add_plain_sessions, score_coding, session


def _project(path: Path) -> Project:
    """Resistance (5:00-20:00 of session 1) on five sessions: S1 shifted by -4:55
    (0:05-15:05) and coded by A with notes inside and outside its window, S2
    uncodable, S3 pending, S4 with its file missing, S5 unreadable."""
    project = Project.create(path)
    project.add_scale(load_builtin_scale("resistance"))
    project.add_raters(["A", "B"])
    add_plain_sessions(
        project,
        [
            session("S1", session_number=1, patient="P1", metadata={"window_offset": "-4:55"}),
            session("S2", session_number=1, patient="P2"),
            session("S3", session_number=1, patient="P3"),
            session("S4", session_number=1, patient="P4", audio_status="missing",
                    audio_reason="audio file not found: /lab/secret/P4.wav"),
            session("S5", session_number=1, patient="P5", audio_status="unreadable",
                    audio_reason="cannot decode /lab/secret/P5.wav"),
        ],
    )  # fmt: skip
    s1 = project.add_coding("S1", "A", "resistance")
    s2 = project.add_coding("S2", "B", "resistance")
    project.add_coding("S3", "A", "resistance")
    view = project.rater_view("A")
    view.add_note(s1, 1_000, "before the window")
    view.add_note(s1, 6_000, "inside")
    view.add_note(s1, 906_000, "after the window")
    view.record_window(s1, inside=False, position_ms=905_000)
    items = {i.id: 2 for i in project.scale("resistance").items}
    score_coding(project, "A", s1, items, submit=True)
    project.rater_view("B").set_uncodable(s2, "Audio failure")
    return project


def test_exports_count_sessions_without_audio_and_flag_notes_outside(tmp_path: Path) -> None:
    with _project(tmp_path / "p.scproj") as project:
        bundle = build_export_bundle(project)

    notes = bundle.notes.set_index("text")["in_window"].to_dict()
    assert notes == {"before the window": False, "inside": True, "after the window": False}
    assert bundle.notes["in_window"].dtype == bool

    uncodable = bundle.uncodable
    assert list(uncodable["session_id"]) == ["S2", "S4", "S5"]
    assert list(uncodable["reason"]) == [
        "Audio failure",
        f"{WITHOUT_AUDIO_PREFIX}{FILE_NOT_FOUND}",
        f"{WITHOUT_AUDIO_PREFIX}{FILE_UNREADABLE}",
    ]
    assert uncodable["rater"].isna().tolist() == [False, True, True]
    assert not uncodable["reason"].str.contains("secret").any(), "no path leaks"
    counts = dict(zip(bundle.uncodable_counts["reason"], bundle.uncodable_counts["n"], strict=True))
    assert counts == {
        "Audio failure": 1,
        f"{WITHOUT_AUDIO_PREFIX}{FILE_NOT_FOUND}": 1,
        f"{WITHOUT_AUDIO_PREFIX}{FILE_UNREADABLE}": 1,
    }
    assert dict(describe_options(bundle))["Coding windows"] == (
        "resistance: 5:00-20:00 (moved per session by the manifest's window_offset); "
        "1 coding(s) listened outside it on purpose (recorded in the history); "
        "2 note(s) and 0 span(s) outside it (in_window False)"
    )
    attrition = dict(describe_options(bundle))["Attrition"]
    assert attrition == (
        "resistance: 5 existing, 1 rated, 1 uncodable (Audio failure: 1), 2 without audio "
        f"({FILE_NOT_FOUND}: 1, {FILE_UNREADABLE}: 1), 1 not rated yet"
    )

    files = write_csv(bundle, tmp_path / "study.csv")
    folder = files[0].parent
    notes_csv = pd.read_csv(next(folder.glob("*notes.csv")))
    assert notes_csv["in_window"].tolist() == [False, True, False]
    uncodable_csv = pd.read_csv(next(folder.glob("*uncodable.csv")))
    assert uncodable_csv["session_id"].tolist() == ["S2", "S4", "S5"]


def test_spans_outside_the_window_are_flagged(tmp_path: Path) -> None:
    # THABS with a 5:00-20:00 window (no built-in scale has both a window and a
    # duration item).
    source = load_builtin_scale("thabs").source
    assert "\nwindow: whole\n" in source
    source = source.replace(
        "\nwindow: whole\n", '\nwindow:\n  start: "5:00"\n  duration: "15:00"\n'
    )
    with Project.create(tmp_path / "p.scproj") as project:
        project.add_scale(parse_scale(source))
        project.add_raters(["A"])
        add_plain_sessions(project, [session("S1", session_number=2)])
        coding = project.add_coding("S1", "A", "thabs")
        scale = project.scale("thabs")
        assert scale.window.start_ms == 300_000
        duration = next(i.id for i in scale.items if i.kind == "duration")
        view = project.rater_view("A")
        view.add_span(coding, duration, 310_000, 320_000)  # inside
        view.add_span(coding, duration, 1_195_000, 1_205_000)  # runs past the end
        view.add_span(coding, duration, 1_000, 3_000)  # before the start
        items = {i.id: 2 for i in scale.items if i.kind != "duration"}
        score_coding(project, "A", coding, items, submit=True)
        bundle = build_export_bundle(project)
    spans = bundle.spans.sort_values("start_ms")
    assert spans["in_window"].tolist() == [False, True, False]
    assert spans["seconds"].tolist() == [2.0, 10.0, 10.0]  # flagged, still counted
