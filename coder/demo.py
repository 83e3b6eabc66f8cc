"""The built-in demo project: 24 sessions of synthetic speech, 4 raters, 5 scales.

Sessions 1 to 3 of 8 patients seen by 4 therapists. Session 1 is a 21-minute OGG
recording (the resistance scale codes 5:00-20:00 of it), sessions 2 and 3 are
four-minute FLAC and three-minute WAV files. The audio is made here, in code, so the
repository stays small and no real clinical recording is ever involved.
"""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from platformdirs import user_data_dir

from coder.demo_work import add_demo_work
from coder.importer import import_manifest
from coder.lifetime import die_with_parent
from coder.scales import BUILTIN_SCALE_IDS, load_builtin_scale
from coder.store.project import Project
from coder.synth import synthesize_session

DEMO_FILE = "demo.scproj"
RATERS = ("R1", "R2", "R3", "R4")
PATIENTS = tuple(f"P{n:02d}" for n in range(1, 9))
# Each therapist sees two patients.
THERAPIST_OF = {p: f"T{(i // 2) + 1}" for i, p in enumerate(PATIENTS)}
# (format, minutes) per session number.
RECORDINGS = {1: ("ogg", 21.0), 2: ("flac", 4.0), 3: ("wav", 3.0)}
# Telephone band, as many session recorders use: the synthetic voices' formants are
# all below 4 kHz, and the build (synthesis and Vorbis encoding, nearly all of its
# time) takes about a third less CPU than at 16 kHz (63 -> 41 s), the files a third
# less room.
SAMPLE_RATE = 8000


def default_demo_dir() -> Path:
    return Path(user_data_dir("session-coder", appauthor=False)) / "demo"


def _make_audio(job: tuple[str, float, int]) -> str:
    path, minutes, seed = job
    final = Path(path)
    # Written under a temporary name and moved into place when complete: a killed
    # build must not leave a truncated recording that the next build would reuse.
    partial = final.with_name(f".{final.stem}.partial{final.suffix}")
    synthesize_session(partial, minutes * 60, seed=seed, sample_rate=SAMPLE_RATE)
    os.replace(partial, final)
    return path


def build_demo(
    folder: Path, *, progress: Callable[[str], None] | None = None, rebuild: bool = False
) -> Path:
    """Build the demo project in ``folder`` (reused if already complete).

    Returns:
        The project file's path.
    """
    say = progress or (lambda _msg: None)
    folder = Path(folder).expanduser()
    project_path = folder / DEMO_FILE
    if project_path.exists() and not rebuild:
        say(f"the demo project is already built in {folder}")
        return project_path
    folder.mkdir(parents=True, exist_ok=True)
    audio_dir = folder / "audio"
    audio_dir.mkdir(exist_ok=True)
    for leftover in audio_dir.glob(".*.partial.*"):
        leftover.unlink()

    rows, jobs = [], []
    for index, patient in enumerate(PATIENTS):
        for number, (ext, minutes) in RECORDINGS.items():
            session_id = f"{patient}-S{number}"
            audio = audio_dir / f"{session_id}.{ext}"
            if not audio.exists():
                jobs.append((str(audio), minutes, 1000 * index + number))
            rows.append(
                {
                    "session_id": session_id,
                    "audio": f"audio/{audio.name}",
                    "patient": patient,
                    "therapist": THERAPIST_OF[patient],
                    "session_number": number,
                    "phase": "",
                    "date": f"2026-{3 + number:02d}-{10 + index:02d}",
                    "site": "A" if index < 4 else "B",
                }
            )
    if jobs:
        say(f"making {len(jobs)} synthetic recordings ...")
        workers = max(1, min(len(jobs), os.cpu_count() or 1))
        # The workers die with this process: killing a build must not leave them
        # running for ever (they block on a pipe their siblings keep open).
        with ProcessPoolExecutor(
            max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),)
        ) as pool:
            for done, _path in enumerate(pool.map(_make_audio, jobs), start=1):
                if done % 6 == 0 or done == len(jobs):
                    say(f"  {done}/{len(jobs)} recordings")
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    # Build into a temporary file and move it into place at the end, so an interrupted
    # build never leaves a half-made demo that the next run would reuse.
    partial = folder / (DEMO_FILE + ".partial")
    for leftover in folder.glob(DEMO_FILE + ".partial*"):
        leftover.unlink()
    project = Project.create(partial, name="Demo study")
    try:
        say("importing sessions ...")
        report = import_manifest(project, manifest, phase_rule=[(1, 1, "I"), (2, 3, "II")])
        if report.problems:
            raise RuntimeError(f"demo import problems: {report.problems}")
        for scale_id in BUILTIN_SCALE_IDS:
            project.add_scale(load_builtin_scale(scale_id))
        project.add_raters(RATERS)
        add_demo_work(project, say)
    finally:
        project.close()
    if project_path.exists():
        project_path.unlink()
    shutil.move(partial, project_path)
    say(f"demo project built: {project_path}")
    return project_path
