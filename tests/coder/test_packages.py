"""Offline rater packages: what goes in, the round trip, refusals, conflicts."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from coder.changes import OpChanges
from coder.errors import InputError
from coder.packages import (
    export_package,
    import_package,
    list_packages,
    open_package,
    package_conflicts,
    read_manifest,
    resolve_conflict,
)
from coder.scales import load_builtin_scale
from coder.store.project import Project, RaterView
from coder.store.sessions import NewSession, Recording, add_sessions
from tests.cli import run_cli, run_cli_process

ITEMS = ("specification", "rationale", "troubleshooting", "review", "praise")
SECRET = "only-B-wrote-this"


def build(path: Path, audio: Path, *, db_url: str | None = None) -> Project:
    """Sessions S1-S4 with audio; A codes S1-S3 (S3 begun), B double-codes S1."""
    project = Project.create(path, db_url=db_url, name="offline study")
    project.add_scale(load_builtin_scale("thabs"))
    project.add_raters(["A", "B"])
    audio.mkdir(exist_ok=True)
    sessions = []
    for i in range(1, 5):
        wav = audio / f"S{i}.wav"
        if not wav.exists():
            wav.write_bytes(f"RIFF fake audio of session {i}".encode() * 50)
        data = wav.read_bytes()
        recording = Recording(
            path=str(wav),
            size_bytes=len(data),
            duration_ms=60_000 * i,
            sha256=hashlib.sha256(data).hexdigest(),
            format="wav",
        )
        sessions.append(
            NewSession(
                key=f"S{i}",
                patient=f"P{i}",
                therapist="Dr Who",
                session_number=i,
                phase="I",
                date="2024-01-01",
                metadata={"referral": "confidential"},
                recording=recording,
            )
        )
    add_sessions(project, sessions)
    for i, key in enumerate(("S1", "S2", "S3")):
        project.add_coding(key, "A", "thabs", role="primary", queue_position=i)
    b = project.add_coding("S1", "B", "thabs", role="second")
    project.rater_view("B").set_value(b, "specification", 4)
    project.rater_view("B").add_note(b, 1_000, SECRET)
    a = project.rater_view("A")
    s3 = _coding(a, "S3")
    a.set_value(s3, "specification", 1)
    a.add_note(s3, 5_000, "begun online")
    return project


def _coding(view: RaterView, key: str) -> int:
    return next(q.coding_id for q in view.queue() if q.session_key == key)


def work(view: RaterView) -> None:
    """The same coding, done online or offline."""
    s1 = _coding(view, "S1")
    for n, item in enumerate(ITEMS):
        view.set_value(s1, item, n % 5)
    view.add_note(s1, 61_500, "client shifts topic")
    span = view.add_span(s1, "duration", 10_000, 40_000)
    view.update_span(s1, span, end_ms=45_000)
    view.submit(s1)
    s2 = _coding(view, "S2")
    view.set_value(s2, "specification", 2)
    view.set_uncodable(s2, "Audio failure", "")
    s3 = _coding(view, "S3")
    note = view.coding(s3).notes[0].id
    view.update_note(s3, note, text="begun online, finished offline")
    extra = view.add_note(s3, 9_000, "to delete")
    view.delete_note(s3, extra)
    view.set_value(s3, "specification", 3)
    view.set_value(s3, "praise", 4)


def dump(project: Project) -> dict[str, Any]:
    out = {}
    for rater in ("A", "B"):
        view = project.rater_view(rater)
        for q in view.queue():
            c = view.coding(q.coding_id)
            out[(rater, q.session_key)] = (
                c.state,
                c.uncodable_reason,
                dict(c.values),
                dict(c.texts),
                [(n.position_ms, n.text) for n in c.notes],
                [(sp.item_id, sp.start_ms, sp.end_ms) for sp in c.spans],
            )
    return out


def _offline(package_file: Path, action: Callable[[RaterView], None]) -> None:
    with open_package(package_file) as package:
        action(package.view)


def test_package_round_trip_ends_like_coding_online(
    tmp_path: Path, new_project_args: dict[str, Any]
) -> None:
    audio = tmp_path / "audio"
    online = build(tmp_path / "online.scproj", audio)
    work(online.rater_view("A"))
    project = build(new_project_args["path"], audio, db_url=new_project_args["db_url"])
    try:
        package_file = tmp_path / "A.scpkg"
        manifest = export_package(project, "A", package_file)
        assert (
            manifest.rater == "A" and manifest.codings == 3 and len(manifest.content_sha256) == 64
        )
        assert read_manifest(package_file) == manifest
        _offline(package_file, work)
        report = import_package(project, package_file)
        assert report.conflicts == () and report.changed
        assert report.applied == {"ratings": 9, "states": 2, "notes": 2, "spans": 1}
        assert dump(project) == dump(online)
        merged = [h for h in project.history() if h.entity in ("rating", "note", "span")]
        assert {h.actor for h in merged[-12:]} == {"A"}
        assert any(h.action == "submit" and h.actor == "A" for h in project.history())
        assert any(h.action == "import" and h.actor == "lead" for h in project.history())
        # The same file again: nothing changes, not even the history.
        before = (dump(project), len(project.history()))
        again = import_package(project, package_file)
        assert not again.changed and again.conflicts == ()
        assert report.changes == OpChanges(codings=True, packages=True)
        assert again.changes == OpChanges()
        assert (dump(project), len(project.history())) == before
        [record] = list_packages(project)
        assert (record.rater, record.import_count, record.open_conflicts) == ("A", 1, 0)
    finally:
        project.close()
        online.close()


def test_a_package_holds_only_the_raters_own_work(tmp_path: Path) -> None:
    with build(tmp_path / "p.scproj", tmp_path / "audio") as project:
        package_file = tmp_path / "A.scpkg"
        export_package(project, "A", package_file)
    raw = package_file.read_bytes()
    assert SECRET.encode() not in raw and b"confidential" not in raw and b"Dr Who" not in raw
    db = sqlite3.connect(package_file)
    try:
        assert db.execute("SELECT code FROM raters").fetchall() == [("A",)]
        assert {r[0] for r in db.execute("SELECT role FROM codings")} == {"primary"}
        assert db.execute("SELECT count(*) FROM plans").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM consensus_scores").fetchone() == (0,)
        assert set(db.execute("SELECT patient, therapist, date, metadata_json FROM sessions")) == {
            ("", "", "", "{}")
        }
        assert {r[0] for r in db.execute("SELECT training FROM sessions")} == {0}
        # Audio references: the file name and content hash, not the lab's folders.
        assert {r[0] for r in db.execute("SELECT path FROM audio_files")} == {
            "S1.wav",
            "S2.wav",
            "S3.wav",
        }
        settings = json.loads(db.execute("SELECT settings_json FROM project").fetchone()[0])
        assert set(settings) == {"package"}
        assert set(settings["package"]) >= {
            "package_id",
            "project_uuid",
            "rater",
            "created_at",
            "content_sha256",
        }
    finally:
        db.close()


def test_audio_travels_inside_when_asked(tmp_path: Path) -> None:
    with build(tmp_path / "p.scproj", tmp_path / "audio") as project:
        export_package(project, "A", tmp_path / "plain.scpkg")
        export_package(project, "A", tmp_path / "audio.scpkg", with_audio=True)
        with open_package(tmp_path / "plain.scpkg") as package:
            assert package.missing_audio() == ["S1", "S2", "S3"]
            assert package.relink_audio(tmp_path / "audio") == []
        with open_package(tmp_path / "audio.scpkg", audio_dir=tmp_path / "unpacked") as package:
            assert package.missing_audio() == []
            for session in package.project.sessions():
                data = Path(session.audio_path or "").read_bytes()
                assert hashlib.sha256(data).hexdigest() == session.sha256
                assert Path(session.audio_path or "").parent == tmp_path / "unpacked"
        # Finding or unpacking the audio on the rater's machine is not tampering.
        for name in ("plain.scpkg", "audio.scpkg"):
            assert import_package(project, tmp_path / name).conflicts == ()


def _edit_package(path: Path, sql: str, *args: Any) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute(sql, args)
    db.close()


def _set_manifest(path: Path, **changes: Any) -> None:
    db = sqlite3.connect(path)
    settings = json.loads(db.execute("SELECT settings_json FROM project").fetchone()[0])
    settings["package"].update(changes)
    with db:
        db.execute("UPDATE project SET settings_json = ?", (json.dumps(settings),))
    db.close()


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (
            lambda p: _edit_package(
                p, "UPDATE sessions SET session_key = 'S9' WHERE session_key = 'S1'"
            ),
            "has been tampered with: its content does not match its hash",
        ),
        (lambda p: _set_manifest(p, rater="B"), "has been tampered with"),
        (lambda p: _set_manifest(p, rater="NOBODY"), "rater 'NOBODY', who is not in this project"),
        (lambda p: _set_manifest(p, project_uuid="0000"), "was exported from another project"),
        (
            lambda p: _edit_package(
                p, "UPDATE ratings SET value = 9 WHERE item_id = 'specification'"
            ),
            "holds data its scale does not allow",
        ),
        (lambda p: p.write_bytes(b"not a package at all"), "is not a Session Coder rater package"),
    ],
    ids=["session-key", "manifest-rater", "unknown-rater", "foreign-uuid", "bad-value", "junk"],
)
def test_a_tampered_or_foreign_package_is_refused_and_changes_nothing(
    tmp_path: Path, spoil: Callable[[Path], None], message: str
) -> None:
    with build(tmp_path / "p.scproj", tmp_path / "audio") as project:
        package_file = tmp_path / "A.scpkg"
        export_package(project, "A", package_file)
        _offline(package_file, work)
        spoil(package_file)
        before = (dump(project), len(project.history()))
        with pytest.raises(InputError, match=message):
            import_package(project, package_file)
        assert (dump(project), len(project.history())) == before


def test_a_package_marking_a_session_uncodable_as_other_without_words_is_refused(
    tmp_path: Path,
) -> None:
    """The merger checks "Other needs a text" as the rater's screen and the store do."""
    with build(tmp_path / "p.scproj", tmp_path / "audio") as project:
        package_file = tmp_path / "A.scpkg"
        export_package(project, "A", package_file)

        def other(view: RaterView) -> None:
            view.set_uncodable(_coding(view, "S2"), "Other", "the recorder broke")

        _offline(package_file, other)
        # Only an edited file (or an older copy of the rules) can hold "Other" alone.
        _edit_package(
            package_file, "UPDATE codings SET uncodable_text = ' ' WHERE uncodable_reason = 'Other'"
        )
        before = (dump(project), len(project.history()))
        with pytest.raises(InputError) as refused:
            import_package(project, package_file)
        message = str(refused.value)
        assert str(package_file) in message
        assert "is marked uncodable, which the rules refuse" in message
        assert "say in a few words why the session is uncodable" in message
        assert (dump(project), len(project.history())) == before


def test_a_package_of_another_project_or_a_project_file_is_refused(tmp_path: Path) -> None:
    with (
        build(tmp_path / "p.scproj", tmp_path / "audio") as project,
        build(tmp_path / "other.scproj", tmp_path / "audio") as other,
    ):
        export_package(other, "A", tmp_path / "other.scpkg")
        with pytest.raises(InputError, match=r"another project \('offline study', id "):
            import_package(project, tmp_path / "other.scpkg")
        with pytest.raises(InputError, match="is a project, not a rater package"):
            import_package(project, tmp_path / "other.scproj")
        with pytest.raises(InputError, match="already exists"):
            export_package(project, "A", tmp_path / "other.scpkg")


def test_changes_on_both_sides_are_listed_as_conflicts_and_never_overwritten(
    tmp_path: Path,
) -> None:
    with build(tmp_path / "p.scproj", tmp_path / "audio") as project:
        package_file = tmp_path / "A.scpkg"
        export_package(project, "A", package_file)

        def offline(view: RaterView) -> None:
            s1, s3 = _coding(view, "S1"), _coding(view, "S3")
            view.set_value(s1, "specification", 3)
            view.set_value(s1, "rationale", 2)
            view.update_note(s3, view.coding(s3).notes[0].id, text="offline text")

        _offline(package_file, offline)
        online = project.rater_view("A")  # meanwhile, A also worked online
        s1, s3 = _coding(online, "S1"), _coding(online, "S3")
        online.set_value(s1, "specification", 1)
        online.update_note(s3, online.coding(s3).notes[0].id, text="online text")

        report = import_package(project, package_file)
        assert report.applied["ratings"] == 1  # rationale: changed offline only
        assert sorted((c.what, c.key.isdigit() or c.key) for c in report.conflicts) == [
            ("note", True),
            ("rating", "specification"),
        ]
        spec = next(c for c in report.conflicts if c.what == "rating")
        assert (spec.base, spec.project, spec.package) == (None, 1.0, 3.0)
        assert "S1 thabs rating specification" in spec.describe()
        state = project.rater_view("A").coding(s1)
        assert state.values["specification"] == 1 and state.values["rationale"] == 2
        assert [c.id for c in package_conflicts(project)] == [c.id for c in report.conflicts]

        taken = resolve_conflict(project, report.package_id, spec.id, "package")
        note = next(c for c in report.conflicts if c.what == "note")
        kept = resolve_conflict(project, report.package_id, note.id, "project")
        assert (taken, kept) == (
            OpChanges(codings=True, packages=True),
            OpChanges(packages=True),
        )
        assert project.rater_view("A").coding(s1).values["specification"] == 3
        assert project.rater_view("A").coding(s3).notes[0].text == "online text"
        taken = [h for h in project.history() if h.field == "specification"][-1]
        assert (taken.actor, taken.old, taken.new) == ("A", 1.0, 3.0)
        assert [h.action for h in project.history()][-3:] == ["set", "resolve", "resolve"]
        assert package_conflicts(project) == []
        again = import_package(project, package_file)
        assert again.conflicts == () and not again.changed
        with pytest.raises(InputError, match="no open conflict"):
            resolve_conflict(project, report.package_id, spec.id, "package")


def test_cli_exports_and_imports_a_package(tmp_path: Path) -> None:
    path = tmp_path / "p.scproj"
    build(path, tmp_path / "audio").close()

    run = run_cli
    # The first command as a real process (the entry point's smoke test), the rest in process.
    out = run_cli_process(
        "package", "export", str(path), "--rater", "A", "--out", str(tmp_path / "A.scpkg")
    )
    assert out.returncode == 0, out.stderr
    assert "3 coding(s) of A" in out.stdout
    _offline(tmp_path / "A.scpkg", work)
    out = run("package", "import", str(path), str(tmp_path / "A.scpkg"), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["conflicts"] == []
    _set_manifest(tmp_path / "A.scpkg", rater="B")
    out = run("package", "import", str(path), str(tmp_path / "A.scpkg"))
    assert out.returncode == 2 and "tampered" in out.stderr and "Traceback" not in out.stderr


def test_edits_reach_the_lead_when_only_the_package_file_is_sent(tmp_path: Path) -> None:
    """The rater codes in the app and mails the .scpkg while the app is still open."""
    with build(tmp_path / "p.scproj", tmp_path / "audio") as project:
        package_file = tmp_path / "rater" / "A.scpkg"
        package_file.parent.mkdir()
        export_package(project, "A", package_file)
        mailed = tmp_path / "inbox" / "A.scpkg"
        mailed.parent.mkdir()
        with open_package(package_file) as package:  # the app's door (ui.app._open_project)
            work(package.view)
            shutil.copyfile(package_file, mailed)  # an attachment: the one file, no sidecar
        report = import_package(project, mailed)
        assert report.applied == {"ratings": 9, "states": 2, "notes": 2, "spans": 1}
        assert report.warnings == ()
        assert dump(project)[("A", "S1")][0] == "submitted"


def test_a_package_with_changes_still_in_a_sidecar_is_refused(tmp_path: Path) -> None:
    """An older app kept changes in a -wal beside the file: refused, nothing merged."""
    with build(tmp_path / "p.scproj", tmp_path / "audio") as project:
        package_file = tmp_path / "A.scpkg"
        export_package(project, "A", package_file)
        # What an older Session Coder left: the file in WAL mode, an edit in its -wal.
        db = sqlite3.connect(package_file)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA wal_autocheckpoint=0")
        with db:
            db.execute("UPDATE codings SET playhead_ms = 1234 WHERE id = 1")
        assert Path(f"{package_file}-wal").stat().st_size > 32
        before = (dump(project), len(project.history()))
        with pytest.raises(InputError, match=r"A.scpkg is incomplete: .*A.scpkg-wal beside it"):
            import_package(project, package_file)
        assert (dump(project), len(project.history())) == before
        db.close()  # the older app closes the package: its changes move into the file
        assert import_package(project, package_file).warnings != ()  # WAL header, nothing new


def test_a_damaged_package_file_is_refused(tmp_path: Path) -> None:
    with build(tmp_path / "p.scproj", tmp_path / "audio") as project:
        package_file = tmp_path / "A.scpkg"
        export_package(project, "A", package_file)
        data = package_file.read_bytes()
        package_file.write_bytes(data[: len(data) // 2])  # a torn copy
        before = (dump(project), len(project.history()))
        with pytest.raises(InputError, match=r"A.scpkg (is damaged|is not a Session Coder)"):
            import_package(project, package_file)
        assert (dump(project), len(project.history())) == before


def test_a_new_package_file_is_not_in_wal_mode(tmp_path: Path) -> None:
    with build(tmp_path / "p.scproj", tmp_path / "audio") as project:
        package_file = tmp_path / "A.scpkg"
        export_package(project, "A", package_file)
    assert package_file.read_bytes()[18:20] == b"\x01\x01"  # header: rollback journal
    with open_package(package_file):
        assert not Path(f"{package_file}-wal").exists()


def test_trying_a_project_as_a_package_never_writes_to_it(tmp_path: Path) -> None:
    """The app tries every file it opens as a package first (ui.app): a project must come
    out of that byte for byte as it was, still in WAL mode."""
    path = tmp_path / "lab.scproj"
    with Project.create(path) as project:
        project.add_raters(["R1", "R2"])
    before = path.read_bytes()
    with pytest.raises(InputError, match="a project, not a rater package"):
        open_package(path)
    assert path.read_bytes() == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
