"""Importing manifests with real audio files: every bad row reported, nothing half-done."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from coder.errors import InputError
from coder.importer import ImportProgress, import_manifest, parse_phase_rule, relink_audio
from coder.store.project import Project
from coder.synth import synthesize_session
from tests.cli import run_cli, run_cli_process

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
    manifest.write_text("session_id,audio\nS1,a.wav\nS2,b.wav,extra\nS3,c.wav,,\n")
    with Project.create(tmp_path / "p.scproj") as project:
        report = import_manifest(project, manifest)
        [ragged] = [p for p in report.problems if not p.imported]
        assert (ragged.line, ragged.session_id) == (3, "S2")
        assert "the row has 3 fields but the header has 2" in ragged.reason
        assert [s.key for s in project.sessions()] == ["S1", "S3"]  # empty extras are fine


def test_cancelling_writes_nothing(lab: Path) -> None:
    manifest = write_manifest(lab / "manifest.csv", mixed_rows())
    seen: list[ImportProgress] = []

    def cancel_after_first() -> bool:
        return any(p.files_done >= 1 for p in seen)

    with Project.create(lab / "p.scproj") as project:
        report = import_manifest(
            project, manifest, progress=seen.append, cancelled=cancel_after_first
        )
        assert report.cancelled and report.added == 0
        assert project.sessions() == []
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
    assert run_cli("init", project).returncode == 0
    # A real process (the entry point's smoke test of import); the rest in process.
    out = run_cli_process("import", project, manifest)
    assert out.returncode == 2, out.stderr  # rows were refused
    assert "5 added" in out.stdout
    assert f"{manifest}:line 6 (S2): not imported: duplicate session_id" in out.stdout
    as_json = run_cli("import", project, manifest, "--json")
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


# ----------------------------------------------------------------- manifests (issue 9)


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3", 3),
        (" 3 ", 3),
        ("3.0", 3),
        ("007", 7),
        ("", None),
        ("1e20", "not written as plain digits"),
        ("1e3", "not written as plain digits"),
        ("+5", "not written as plain digits"),
        ("0x10", "not written as plain digits"),
        ("\u0663", "not written as plain digits 0-9"),
        ("3.5", "is not a whole number"),
        ("inf", "is not a whole number"),
        ("nan", "is not a whole number"),
        ("-1", "is negative"),
        ("10000", "is too large"),
        ("9" * 400, "is too large"),
        ("x" * 400, "is not a whole number"),
    ],
)
def test_session_numbers_are_plain_digits(tmp_path: Path, raw: str, expected: object) -> None:
    manifest = _write(
        tmp_path / "m.csv", f"session_id,audio,session_number\nS0,a.wav,1\nS1,b.wav,{raw}\n"
    )
    with Project.create(tmp_path / "p.scproj") as project:
        report = import_manifest(project, manifest)
        numbers = {s.key: s.session_number for s in project.sessions()}
    refused = [p for p in report.problems if not p.imported]
    if isinstance(expected, str):
        [problem] = refused
        assert (problem.line, problem.session_id) == (3, "S1")
        assert expected in problem.reason and len(problem.reason) < 200
        assert numbers == {"S0": 1}
    else:
        assert refused == [] and numbers == {"S0": 1, "S1": expected}


def test_every_bad_row_is_reported_and_the_good_ones_written_at_once(tmp_path: Path) -> None:
    """1e20 crashed the import half-way on main and lost the report of the rows after."""
    manifest = _write(
        tmp_path / "m.csv",
        "session_id,audio,session_number,date\n"
        "S1,a.wav,1,2024-03-01\n"
        "S2,b.wav,1e20,\n"
        "S3,c.wav,2,2024-02-30\n"
        ",d.wav,3,\n"
        "S5,e.wav,5,03/04/2024\n"
        "S6,f.wav,6,1.4.2024\n"
        "S7,g.wav,7,2024-05-06 00:00:00\n"
        "S1,h.wav,8,\n",
    )
    with Project.create(tmp_path / "p.scproj") as project:
        report = import_manifest(project, manifest)
        sessions = {s.key: s for s in project.sessions()}
    refused = {p.line: p for p in report.problems if not p.imported}
    assert sorted(refused) == [3, 4, 5, 6, 9]
    assert "1e20" in refused[3].reason
    assert "2024-02-30" in refused[4].reason and "does not exist" in refused[4].reason
    assert refused[5].reason == "session_id is empty"
    assert "ambiguous" in refused[6].reason
    assert "duplicate session_id (first on line 2)" in refused[9].reason
    assert sorted(sessions) == ["S1", "S6", "S7"]
    assert (sessions["S6"].date, sessions["S7"].date) == ("2024-04-01", "2024-05-06")


def test_a_phase_rule_gap_is_reported(tmp_path: Path) -> None:
    manifest = _write(
        tmp_path / "m.csv", "session_id,audio,session_number\nS1,a.wav,2\nS2,b.wav,12\nS3,c.wav,\n"
    )
    with Project.create(tmp_path / "p.scproj") as project:
        report = import_manifest(project, manifest, phase_rule=parse_phase_rule("1-4=I,5-9=II"))
        phases = {s.key: s.phase for s in project.sessions()}
    assert phases == {"S1": "I", "S2": "", "S3": ""}
    gaps = {p.line: p.reason for p in report.problems if "phase left blank" in p.reason}
    assert "session_number 12 is not covered by the phase rule 1-4=I,5-9=II" in gaps[3]
    assert "no session_number" in gaps[4]
    with pytest.raises(InputError, match="overlaps"):
        parse_phase_rule("1-4=I,3-9=II")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("m.csv", b"", "the manifest is empty"),
        ("m.csv", b"\n \n", "the manifest is empty"),
        ("m.csv", b"session_id,audio\n", "a header but no session rows"),
        ("m.xlsx", b"session_id,audio\nS1,a.wav\n", "text file with an .xlsx name; rename it"),
        ("m.csv", b"PK\x03\x04junk", "an Excel workbook with a .csv name; rename"),
        ("m.csv", bytes.fromhex("d0cf11e0a1b11ae1") + b"x", "old Excel .xls workbook"),
        ("m.csv", b"session_id|audio\nS1|a.wav\n", "the header has a single column"),
        ("m.csv", "session_id\x00,audio\n".encode("utf-16-le"), "NUL bytes"),
    ],
)
def test_a_manifest_that_cannot_be_used_gets_a_clear_message(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    manifest = tmp_path / name
    manifest.write_bytes(content)
    with Project.create(tmp_path / "p.scproj") as project:
        with pytest.raises(InputError, match=message) as caught:
            import_manifest(project, manifest)
        assert str(manifest) in str(caught.value) and "\n" not in str(caught.value)
        assert project.sessions() == []


def test_a_real_xlsx_named_csv_is_named_as_such(tmp_path: Path) -> None:
    pd.DataFrame([{"session_id": "S1", "audio": "a.wav"}]).to_excel(
        tmp_path / "m.xlsx", index=False
    )
    shutil.copyfile(tmp_path / "m.xlsx", tmp_path / "m.csv")
    with Project.create(tmp_path / "p.scproj") as project:
        with pytest.raises(InputError, match="Excel workbook with a .csv name"):
            import_manifest(project, tmp_path / "m.csv")


@pytest.mark.parametrize(
    ("separator", "encoding", "bom"),
    [
        (";", "utf-8", False),
        ("\t", "utf-8", False),
        (",", "utf-8", True),
        (";", "cp1252", False),
        ("\t", "utf-16", False),  # Excel's "Unicode text" (the codec writes a BOM)
    ],
)
def test_excel_csv_dialects_are_read(
    tmp_path: Path, separator: str, encoding: str, bom: bool
) -> None:
    text = separator.join(["session_id", "audio", "therapist", "session_number"]) + "\r\n"
    text += separator.join(["S1", "a.wav", "Dr Müller", "3"]) + "\r\n"
    manifest = _write(tmp_path / "m.csv", ("\ufeff" if bom else "") + text, encoding)
    with Project.create(tmp_path / "p.scproj") as project:
        report = import_manifest(project, manifest)
        [session] = project.sessions()
    assert report.added == 1
    assert (session.key, session.therapist, session.session_number) == ("S1", "Dr Müller", 3)


# ----------------------------------------------------------- recordings (issue 9, item 6)


def _coded(project: Project, key: str) -> int:
    from coder.scales import load_builtin_scale

    project.add_scale(load_builtin_scale("thabs"))
    if not project.raters():
        project.add_raters(["A"])
    coding = project.add_coding(key, "A", "thabs")
    project.rater_view("A").set_value(coding, "specification", 2)
    return coding


def test_a_new_recording_under_coded_work_is_refused_unless_allowed(lab: Path) -> None:
    rows = mixed_rows()[:2]
    manifest = write_manifest(lab / "manifest.csv", rows)
    with Project.create(lab / "p.scproj") as project:
        import_manifest(project, manifest)
        _coded(project, "S1")
        before = {s.key: (s.audio_path, s.sha256) for s in project.sessions()}
        history = len(project.history())
        rows[0]["audio"] = "audio/s3.ogg"  # the manifest now points S1 at another file
        write_manifest(manifest, rows)
        report = import_manifest(project, manifest)
        [refused] = [p for p in report.problems if not p.imported]
        assert (refused.line, refused.session_id) == (2, "S1")
        assert "recording would change under coded work" in refused.reason
        assert "--allow-audio-change" in refused.reason
        assert report.updated == 0
        assert {s.key: (s.audio_path, s.sha256) for s in project.sessions()} == before
        assert len(project.history()) == history
        allowed = import_manifest(project, manifest, allow_audio_change=True)
        assert allowed.updated == 1 and allowed.refused == 0
        s1 = {s.key: s for s in project.sessions()}["S1"]
        assert s1.audio_path == str((lab / "audio" / "s3.ogg").resolve())
        [change] = [h for h in project.history() if h.field == "recording"]
        assert change.old == {"path": before["S1"][0], "sha256": before["S1"][1]}
        assert change.new == {"path": s1.audio_path, "sha256": s1.sha256}


def test_new_bytes_at_the_same_path_under_coded_work_are_refused(lab: Path) -> None:
    manifest = write_manifest(lab / "manifest.csv", mixed_rows()[:2])
    with Project.create(lab / "p.scproj") as project:
        import_manifest(project, manifest)
        _coded(project, "S1")
        before = {s.key: s.sha256 for s in project.sessions()}
        synthesize_session(lab / "audio" / "s1.wav", 4.0, seed=9)  # replaced in place
        report = import_manifest(project, manifest)
        assert [(p.line, p.imported) for p in report.problems] == [(2, False)]
        assert {s.key: s.sha256 for s in project.sessions()} == before


def test_cli_refuses_a_swapped_recording_with_exit_2(lab: Path) -> None:
    rows = mixed_rows()[:2]
    manifest = write_manifest(lab / "manifest.csv", rows)
    project_file = lab / "p.scproj"
    with Project.create(project_file) as project:
        import_manifest(project, manifest)
        _coded(project, "S2")
    rows[1]["audio"] = "audio/s3.ogg"
    write_manifest(manifest, rows)
    cli = ("import", str(project_file), str(manifest))
    out = run_cli(*cli)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "0 added, 0 updated, 2 unchanged" not in out.stdout
    assert f"{manifest}:line 3 (S2): not imported: its recording would change" in out.stdout
    out = run_cli(*cli, "--allow-audio-change")
    assert out.returncode == 0 and "0 added, 1 updated, 1 unchanged" in out.stdout


def test_a_moved_recording_under_coded_work_is_accepted(lab: Path) -> None:
    rows = mixed_rows()[:2]
    manifest = write_manifest(lab / "manifest.csv", rows)
    with Project.create(lab / "p.scproj") as project:
        import_manifest(project, manifest)
        _coded(project, "S1")
        shutil.move(lab / "audio" / "s1.wav", lab / "audio" / "moved.wav")
        rows[0]["audio"] = "audio/moved.wav"  # same content, new place
        write_manifest(manifest, rows)
        report = import_manifest(project, manifest)
        assert report.refused == 0 and report.updated == 1
        s1 = {s.key: s for s in project.sessions()}["S1"]
        assert s1.audio_path == str((lab / "audio" / "moved.wav").resolve())
        assert s1.audio_status == "ok"


def test_a_stale_path_never_unlinks_a_relinked_coded_recording(lab: Path) -> None:
    manifest = write_manifest(lab / "manifest.csv", mixed_rows()[:2])
    with Project.create(lab / "p.scproj") as project:
        import_manifest(project, manifest)
        _coded(project, "S1")
        (lab / "moved").mkdir()
        shutil.move(lab / "audio" / "s1.wav", lab / "moved" / "s1.wav")
        assert relink_audio(project, lab / "moved").still_missing == []
        report = import_manifest(project, manifest)  # the old manifest still says audio/
        s1 = {s.key: s for s in project.sessions()}["S1"]
        assert s1.audio_path == str((lab / "moved" / "s1.wav").resolve())
        assert s1.audio_status == "ok" and report.refused == 0
        assert any("keeps its recording" in p.reason for p in report.problems)


def test_two_sessions_sharing_one_recording_are_flagged(lab: Path) -> None:
    rows = mixed_rows()[:2]
    rows.append({**rows[0], "session_id": "S9"})  # a copied row: same file
    manifest = write_manifest(lab / "manifest.csv", rows)
    with Project.create(lab / "p.scproj") as project:
        report = import_manifest(project, manifest)
        assert [d.session_ids for d in report.duplicate_recordings] == [("S1", "S9")]
        flagged = {p.session_id: p.reason for p in report.problems}
        assert "also the recording of S9" in flagged["S1"]
        assert "also the recording of S1" in flagged["S9"]
        status = project.status()
    assert [d.session_ids for d in status.duplicate_recordings] == [("S1", "S9")]
    out = run_cli("status", lab / "p.scproj")
    assert "shared recording (check the manifest): S1, S9" in out.stdout


def test_an_unreadable_new_recording_under_coded_work_is_refused(lab: Path) -> None:
    rows = mixed_rows()[:2]
    manifest = write_manifest(lab / "manifest.csv", rows)
    with Project.create(lab / "p.scproj") as project:
        import_manifest(project, manifest)
        _coded(project, "S1")
        before = {s.key: (s.audio_path, s.sha256, s.audio_status) for s in project.sessions()}
        rows[0]["audio"] = "audio/broken.wav"  # exists, but its content cannot be read
        write_manifest(manifest, rows)
        report = import_manifest(project, manifest)
        assert [(p.line, p.imported) for p in report.problems] == [(2, False)]
        assert "cannot be read and checked" in report.problems[0].reason
        assert {s.key: (s.audio_path, s.sha256, s.audio_status) for s in project.sessions()} == (
            before
        )
