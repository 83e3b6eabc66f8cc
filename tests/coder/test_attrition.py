"""Attrition: sessions without usable audio, uncodable and rated sessions are counted
by reason in status and plans (issue 13, item 8)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from coder.attrition import (
    FILE_NOT_FOUND,
    FILE_UNREADABLE,
    NO_FILE_GIVEN,
    no_audio_reason,
    project_attrition,
)
from coder.synth import synthesize_session
from tests.cli import run_cli
from tests.factories import score_coding


def _manifest(folder: Path) -> Path:
    """Five real recordings, one listed file that is absent, one row without a file,
    and one file that is no audio (all session 1, two therapists)."""
    audio = folder / "audio"
    audio.mkdir()
    for n in range(1, 6):
        synthesize_session(audio / f"s{n}.wav", 2.0, seed=n)
    (audio / "broken.wav").write_bytes(b"RIFF not really a wave file at all")
    rows = [(f"S{n}", f"audio/s{n}.wav") for n in range(1, 6)]
    rows += [("S6", "audio/gone.wav"), ("S7", ""), ("S8", "audio/broken.wav")]
    path = folder / "manifest.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["session_id", "audio", "patient", "therapist", "session_number"])
        for i, (key, file) in enumerate(rows):
            out.writerow([key, file, f"P{i}", f"T{i % 2}", 1])
    return path


def test_no_audio_reasons_never_name_a_path() -> None:
    assert no_audio_reason("ok", "") is None
    assert no_audio_reason("missing", "no audio file given") == NO_FILE_GIVEN
    assert no_audio_reason("missing", "audio file not found: /x/secret/p12.wav") == FILE_NOT_FOUND
    assert no_audio_reason("unreadable", "cannot decode /x/p12.wav") == FILE_UNREADABLE


def test_status_and_plans_account_for_every_session(tmp_path: Path) -> None:
    project = str(tmp_path / "p.scproj")
    assert run_cli("init", project).returncode == 0
    run_cli("scales", "add", project, "resistance")
    run_cli("raters", "add", project, "A", "B")
    result = run_cli("import", project, str(_manifest(tmp_path)))
    assert result.returncode == 0, result.stderr

    plan = run_cli(
        "assign", project, "--scale", "resistance", "--raters", "A,B", "--double", "2",
        "--seed", "1", "--json",
    )  # fmt: skip
    assert plan.returncode == 0, plan.stderr
    summary = json.loads(plan.stdout)
    assert summary["not_codable"] == [
        {"session_id": "S6", "reason": FILE_NOT_FOUND},
        {"session_id": "S7", "reason": NO_FILE_GIVEN},
        {"session_id": "S8", "reason": FILE_UNREADABLE},
    ]
    assert sum(summary["loads"].values()) == 5 + 2
    text = run_cli(
        "assign", project, "--scale", "resistance", "--raters", "A,B", "--double", "2",
        "--seed", "1", "--preview",
    ).stdout  # fmt: skip
    assert f"not codable: S6 ({FILE_NOT_FOUND})" in text

    from coder.store.project import Project

    with Project.open(project) as p:
        queue = p.rater_view("A").queue()
        first, second = queue[0], queue[1]
        view = p.rater_view("A")
        view.set_uncodable(first.coding_id, "Audio failure")
        items = {i.id: 3 for i in p.scale("resistance").items}
        score_coding(p, "A", second.coding_id, items, submit=True)
        outcome = project_attrition(p)
    (scale,) = outcome.scales
    assert (scale.sessions, scale.rated, scale.pending) == (8, 1, 3)
    assert dict(scale.uncodable) == {"Audio failure": 1}
    assert dict(scale.no_audio) == {FILE_NOT_FOUND: 1, NO_FILE_GIVEN: 1, FILE_UNREADABLE: 1}

    status = run_cli("status", project, "--json")
    assert status.returncode == 0, status.stderr
    doc = json.loads(status.stdout)
    assert doc["sessions"] == 8
    assert doc["sessions_without_audio"] == {
        FILE_NOT_FOUND: 1,
        FILE_UNREADABLE: 1,
        NO_FILE_GIVEN: 1,
    }
    assert doc["attrition"]["resistance"] == {
        "sessions": 8,
        "rated": 1,
        "uncodable": {"Audio failure": 1},
        "no_audio": {FILE_NOT_FOUND: 1, FILE_UNREADABLE: 1, NO_FILE_GIVEN: 1},
        "pending": 3,
    }
    text = run_cli("status", project).stdout
    assert (
        "attrition resistance: 8 existing, 1 rated, 1 uncodable (Audio failure: 1), "
        "3 without audio" in text
    )
    assert "gone.wav" not in text and "broken" not in text
