"""Importing manifests with real audio files: every bad row reported, nothing half-done."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from coder.errors import InputError
from coder.importer import ImportProgress, import_manifest, parse_phase_rule, relink_audio
from coder.project import Project
from coder.synth import synthesize_session

COLUMNS = [
    "session_id",
    "audio",
    "patient",
    "therapist",
    "session_number",
    "phase",
    "date",
    "site",
    "outcome_bdi",
]


def write_manifest(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in COLUMNS})
    return path


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    """A folder with three real recordings and one corrupt file."""
    audio = tmp_path / "audio"
    audio.mkdir()
    synthesize_session(audio / "s1.wav", 3.0, seed=1)
    synthesize_session(audio / "s2.flac", 2.0, seed=2)
    synthesize_session(audio / "s3.ogg", 2.5, seed=3)
    (audio / "broken.wav").write_bytes(os.urandom(3000))
    return tmp_path


def mixed_rows() -> list[dict[str, object]]:
    return [
        {
            "session_id": "S1",
            "audio": "audio/s1.wav",
            "patient": "P1",
            "therapist": "T1",
            "session_number": 1,
            "site": "A",
            "outcome_bdi": "17",
        },
        {
            "session_id": "S2",
            "audio": "audio/s2.flac",
            "patient": "P1",
            "therapist": "T1",
            "session_number": 2,
        },
        {
            "session_id": "S3",
            "audio": "audio/missing.wav",
            "patient": "P2",
            "therapist": "T2",
            "session_number": 1,
        },
        {
            "session_id": "S4",
            "audio": "audio/broken.wav",
            "patient": "P2",
            "therapist": "T2",
            "session_number": 2,
        },
        {
            "session_id": "S2",
            "audio": "audio/s3.ogg",
            "patient": "P3",
            "therapist": "T2",
            "session_number": 3,
        },
        {
            "session_id": "S5",
            "audio": "audio/s3.ogg",
            "patient": "P3",
            "therapist": "T2",
            "session_number": "two",
        },
        {
            "session_id": "S6",
            "audio": "audio/s3.ogg",
            "patient": "P3",
            "therapist": "T2",
            "session_number": 6,
        },
    ]


def test_bad_rows_are_reported_and_the_rest_imported(lab: Path) -> None:
    manifest = write_manifest(lab / "manifest.csv", mixed_rows())
    with Project.create(lab / "p.scproj") as project:
        report = import_manifest(project, manifest, phase_rule=parse_phase_rule("1-4=I,5-=II"))
        sessions = {s.key: s for s in project.sessions()}
    problems = {(p.line, p.session_id): (p.imported, p.reason) for p in report.problems}
    assert problems[(4, "S3")][0] is True and "not found" in problems[(4, "S3")][1]
    assert problems[(5, "S4")][0] is True and "broken.wav" in problems[(5, "S4")][1]
    assert problems[(6, "S2")] == (False, "duplicate session_id (first on line 3)")
    assert problems[(7, "S5")] == (False, "session_number 'two' is not a whole number")
    assert len(report.problems) == 4
    assert sorted(sessions) == ["S1", "S2", "S3", "S4", "S6"]
    assert sessions["S3"].audio_status == "missing"
    assert sessions["S4"].audio_status == "unreadable"
    s1 = sessions["S1"]
    assert s1.audio_status == "ok" and s1.duration_ms == 3000 and s1.phase == "I"
    assert sessions["S6"].phase == "II"
    assert s1.metadata == {"site": "A", "outcome_bdi": "17"}
    assert report.metadata_columns == ["site", "outcome_bdi"]
    import hashlib

    assert s1.sha256 == hashlib.sha256((lab / "audio" / "s1.wav").read_bytes()).hexdigest()


def test_reimport_changes_nothing_and_hashes_nothing(lab: Path) -> None:
    manifest = write_manifest(lab / "manifest.csv", mixed_rows())
    with Project.create(lab / "p.scproj") as project:
        first = import_manifest(project, manifest)
        history = len(project.history())
        again = import_manifest(project, manifest)
        assert (again.added, again.updated, again.hashed) == (0, 0, 0)
        assert again.unchanged == first.added
        assert len(project.history()) == history
        # A changed file is hashed again, and only that one.
        synthesize_session(lab / "audio" / "s1.wav", 4.0, seed=9)
        third = import_manifest(project, manifest)
        assert (third.hashed, third.updated) == (1, 1)
        assert {s.key: s.duration_ms for s in project.sessions()}["S1"] == 4000


def test_xlsx_manifests_work_too(lab: Path) -> None:
    frame = pd.DataFrame(mixed_rows()[:2])
    frame.to_excel(lab / "manifest.xlsx", index=False)
    with Project.create(lab / "p.scproj") as project:
        report = import_manifest(project, lab / "manifest.xlsx")
        assert report.added == 2 and report.problems == []


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("session,audio\n", "missing column 'session_id'"),
        ("session_id,audio,,x\n", "column 3 has no name"),
        ("session_id,audio,audio\n", "column 'audio' appears twice"),
    ],
)
def test_a_bad_header_imports_nothing(tmp_path: Path, header: str, message: str) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text(header + "S1,a.wav" + "," * (header.count(",") - 1) + "\n")
    with Project.create(tmp_path / "p.scproj") as project:
        with pytest.raises(InputError, match=message):
            import_manifest(project, manifest)
        assert project.sessions() == []


def test_a_ragged_row_names_its_line(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("session_id,audio\nS1,a.wav\nS2,b.wav,extra\n")
    with Project.create(tmp_path / "p.scproj") as project:
        with pytest.raises(InputError, match=r"m.csv:3: the row has 3 fields but the header has 2"):
            import_manifest(project, manifest)
        assert project.sessions() == []


def test_cancelling_leaves_only_whole_rows(lab: Path) -> None:
    manifest = write_manifest(lab / "manifest.csv", mixed_rows())
    seen: list[ImportProgress] = []

    def cancel_after_first() -> bool:
        return any(p.files_done >= 1 for p in seen)

    with Project.create(lab / "p.scproj") as project:
        report = import_manifest(
            project, manifest, progress=seen.append, cancelled=cancel_after_first
        )
        assert report.cancelled
        sessions = project.sessions()
        assert [s.key for s in sessions] == ["S1"]
        assert sessions[0].sha256 is not None and sessions[0].duration_ms == 3000
    assert seen[0].bytes_total > 0 and seen[0].files_total == 5


def test_a_moved_file_is_relinked_by_its_content(lab: Path) -> None:
    manifest = write_manifest(lab / "manifest.csv", mixed_rows()[:2])
    with Project.create(lab / "p.scproj") as project:
        import_manifest(project, manifest)
        moved = lab / "archive" / "2026"
        moved.mkdir(parents=True)
        shutil.move(lab / "audio" / "s1.wav", moved / "renamed.wav")
        synthesize_session(moved / "decoy.wav", 3.0, seed=77)  # same size, other content
        report = relink_audio(project, lab / "archive")
        assert report.relinked == [("S1", str((moved / "renamed.wav").resolve()))]
        assert report.still_missing == []
        paths = {s.key: s.audio_path for s in project.sessions()}
        assert paths["S1"] == str((moved / "renamed.wav").resolve())
        assert any(h.action == "relink" for h in project.history())


def test_cli_import_prints_each_problem_with_its_line(lab: Path) -> None:
    manifest = write_manifest(lab / "manifest.csv", mixed_rows())
    project = lab / "p.scproj"
    cli = [sys.executable, "-m", "coder"]
    subprocess.run([*cli, "init", str(project)], check=True, capture_output=True)
    out = subprocess.run(
        [*cli, "import", str(project), str(manifest)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "5 added" in out.stdout
    assert f"{manifest}:line 6 (S2): not imported: duplicate session_id" in out.stdout
    as_json = subprocess.run(
        [*cli, "import", str(project), str(manifest), "--json"], capture_output=True, text=True
    )
    report = json.loads(as_json.stdout)
    assert report["unchanged"] == 5 and len(report["problems"]) == 4


def test_one_session_is_relinked_to_a_chosen_file_only_if_its_content_matches(lab: Path) -> None:
    from coder.importer import relink_session_audio

    manifest = write_manifest(lab / "manifest.csv", mixed_rows()[:2])
    with Project.create(lab / "p.scproj") as project:
        import_manifest(project, manifest)
        moved = lab / "elsewhere.wav"
        shutil.move(lab / "audio" / "s1.wav", moved)
        with pytest.raises(InputError, match="s2.flac is not the recording of this session"):
            relink_session_audio(project, "S1", lab / "audio" / "s2.flac", actor="R1")
        relink_session_audio(project, "S1", moved, actor="R1")
        s1 = {s.key: s for s in project.sessions()}["S1"]
        assert s1.audio_path == str(moved.resolve()) and s1.audio_status == "ok"
        assert [h.actor for h in project.history() if h.action == "relink"] == ["R1"]
