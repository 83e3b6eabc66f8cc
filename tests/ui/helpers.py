"""Building real projects for the GUI tests: SQLite file, built-in scale, synthetic audio."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from coder.importer import import_manifest
from coder.scales import load_builtin_scale
from coder.store.project import Project
from coder.synth import synthesize_session


@dataclass(frozen=True)
class BuiltProject:
    path: Path
    audio: dict[str, Path]
    codings: dict[str, int]  # session id -> coding id of rater R1


def build_project(
    folder: Path,
    *,
    scale_id: str = "thabs",
    seconds: float = 90.0,
    sessions: int = 1,
    fmt: str = "wav",
    session_number: int = 2,
    db_url: str | None = None,
) -> BuiltProject:
    """A project with one scale, raters R1 and R2, and R1 assigned every session.

    With ``db_url``, a lab-mode project on that PostgreSQL database (the file is its
    pointer file).
    """
    folder.mkdir(parents=True, exist_ok=True)
    audio_dir = folder / "audio"
    audio_dir.mkdir(exist_ok=True)
    rows, audio = [], {}
    for n in range(1, sessions + 1):
        sid = f"S{n}"
        path = synthesize_session(audio_dir / f"{sid}.{fmt}", seconds, seed=n)
        audio[sid] = path
        rows.append(
            {
                "session_id": sid,
                "audio": f"audio/{path.name}",
                "patient": f"P{n}",
                "therapist": "T1",
                "session_number": session_number,
                "phase": "I",
                "date": "2026-01-10",
            }
        )
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    path = folder / "study.scproj"
    codings = {}
    with Project.create(path, db_url=db_url) as project:
        project.add_scale(load_builtin_scale(scale_id))
        project.add_raters(["R1", "R2"])
        report = import_manifest(project, manifest)
        assert not report.problems, report.problems
        for position, row in enumerate(rows):
            sid = row["session_id"]
            codings[sid] = int(project.add_coding(sid, "R1", scale_id, queue_position=position))
    return BuiltProject(path, audio, codings)


def relink_by_reimport(built: BuiltProject, session: str, new_file: Path) -> None:
    """Point a session at another file (in the audio folder) the way a lead would: re-import."""
    manifest = built.path.parent / "manifest.csv"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(
        text.replace(f"audio/{built.audio[session].name}", f"audio/{new_file.name}"),
        encoding="utf-8",
    )
    with Project.open(built.path) as project:
        import_manifest(project, manifest)
