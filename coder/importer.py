"""Importing sessions from a manifest (CSV or XLSX), and re-linking moved audio.

Every row is checked before anything is written. Rows with bad fields (duplicate id,
bad number, empty id) are reported with their line and not imported; rows whose audio
is missing or unreadable are imported with that status and reported. Each session is
written in its own transaction, so a cancelled import leaves only whole rows, and a
re-import of the same manifest changes nothing (unchanged files are not re-hashed).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select

from coder.audio import (
    AUDIO_EXTENSIONS,
    AudioError,
    AudioMissingError,
    Cancelled,
    probe_audio,
    sha256_file,
)
from coder.db_faults import retry_on_conflict
from coder.errors import InputError, TextLimitError
from coder.models import AudioFileRow, SessionRow
from coder.project import LEAD, Project, _log
from coder.text_limits import check_fields, check_metadata

REQUIRED_COLUMNS = ("session_id", "audio")
KNOWN_COLUMNS = ("session_id", "audio", "patient", "therapist", "session_number", "phase", "date")


@dataclass(frozen=True)
class ManifestRow:
    line: int
    session_id: str
    audio: Path | None
    patient: str
    therapist: str
    session_number: int | None
    phase: str
    date: str
    metadata: Mapping[str, str]


@dataclass(frozen=True)
class RowProblem:
    """A manifest row that was not imported, or imported with a problem."""

    line: int
    session_id: str
    reason: str
    imported: bool

    def __str__(self) -> str:
        what = "imported, but" if self.imported else "not imported:"
        sid = f" ({self.session_id})" if self.session_id else ""
        return f"line {self.line}{sid}: {what} {self.reason}"


@dataclass(frozen=True)
class ImportProgress:
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    seconds_left: float | None


@dataclass
class ImportReport:
    manifest: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    hashed: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    metadata_columns: list[str] = field(default_factory=list)
    cancelled: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "manifest": self.manifest,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "hashed": self.hashed,
            "cancelled": self.cancelled,
            "metadata_columns": self.metadata_columns,
            "problems": [
                {
                    "line": p.line,
                    "session_id": p.session_id,
                    "reason": p.reason,
                    "imported": p.imported,
                }
                for p in self.problems
            ],
        }


PhaseRule = list[tuple[int, int, str]]


def parse_phase_rule(text: str) -> PhaseRule:
    """Parse "1-4=I,5-9=II,10-=III" into ranges (an open end goes on forever).

    Raises:
        InputError: for a malformed rule.
    """
    rule: PhaseRule = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d*)\s*=\s*(\S.*?)\s*", part)
        if not match:
            raise InputError(f"phase rule part {part.strip()!r} is not like 1-4=I (or 10-=III)")
        lo, hi = int(match.group(1)), int(match.group(2)) if match.group(2) else 10**9
        if hi < lo:
            raise InputError(f"phase rule part {part.strip()!r}: {hi} is below {lo}")
        rule.append((lo, hi, match.group(3)))
    return rule


def _phase_from_rule(rule: PhaseRule, number: int | None) -> str:
    if number is None:
        return ""
    for lo, hi, phase in rule:
        if lo <= number <= hi:
            return phase
    return ""


def read_manifest(
    path: str | Path, *, phase_rule: PhaseRule | None = None
) -> tuple[list[ManifestRow], list[RowProblem], list[str]]:
    """Read and check a manifest; returns good rows, bad rows and metadata columns.

    Raises:
        InputError: the file cannot be read, or lacks a required column.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"manifest {path} not found")
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(
                path, dtype=str, keep_default_na=False, engine="openpyxl", header=None
            )
        elif suffix in (".csv", ".txt"):
            frame = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                skipinitialspace=True,
                encoding="utf-8-sig",
                header=None,
            )
        else:
            raise InputError(
                f"{path}: a manifest must be .csv or .xlsx, not {suffix or 'no suffix'}"
            )
    except InputError:
        raise
    except pd.errors.ParserError as exc:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if found:
            want, line, got = found.groups()
            raise InputError(
                f"{path}:{line}: the row has {got} fields but the header has {want}; "
                "check for an unquoted comma"
            ) from None
        raise InputError(f"{path}: cannot read the manifest ({str(exc).splitlines()[0]})") from None
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the manifest ({str(exc).splitlines()[0]})") from None
    if frame.empty:
        raise InputError(f"{path}: the manifest is empty")
    # The header row is read as data so that pandas cannot rename duplicate columns.
    columns = [str(c).strip() for c in frame.iloc[0]]
    frame = frame.iloc[1:]
    frame.columns = columns
    blank = [i + 1 for i, c in enumerate(columns) if not c]
    if blank:
        raise InputError(f"{path}:1: column {blank[0]} has no name; name it or delete it")
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise InputError(f"{path}:1: column {dupes[0]!r} appears twice")
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise InputError(
            f"{path}:1: missing column {missing[0]!r}; the manifest needs "
            f"{', '.join(KNOWN_COLUMNS)} (the first two required)"
        )
    metadata_columns = [c for c in columns if c not in KNOWN_COLUMNS]
    rows: list[ManifestRow] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    base = path.parent
    for index, record in enumerate(frame.to_dict("records")):
        line = index + 2  # line 1 is the header
        values = {k: str(v).strip() for k, v in record.items()}
        sid = values["session_id"]
        if not sid:
            if any(values.values()):
                problems.append(RowProblem(line, "", "session_id is empty", False))
            continue
        if sid in seen:
            problems.append(
                RowProblem(line, sid, f"duplicate session_id (first on line {seen[sid]})", False)
            )
            continue
        seen[sid] = line
        number: int | None = None
        raw_number = values.get("session_number", "")
        if raw_number:
            try:
                as_float = float(raw_number)
                if not as_float.is_integer() or as_float < 0:
                    raise ValueError
                number = int(as_float)
            except ValueError:
                problems.append(
                    RowProblem(
                        line, sid, f"session_number {raw_number!r} is not a whole number", False
                    )
                )
                continue
        phase = values.get("phase", "")
        if not phase and phase_rule:
            phase = _phase_from_rule(phase_rule, number)
        audio_text = values["audio"]
        audio = None
        if audio_text:
            audio = Path(audio_text).expanduser()
            if not audio.is_absolute():
                audio = base / audio
        texts = {c: values.get(c, "") for c in ("patient", "therapist", "phase", "date")}
        metadata = {c: values[c] for c in metadata_columns if values.get(c, "")}
        try:  # the limits every backend applies (coder.text_limits), per manifest line
            check_fields(SessionRow, {"session_key": sid, **texts})
            check_metadata(json.dumps(metadata))
        except TextLimitError as exc:
            problems.append(RowProblem(line, sid[:64].replace("\x00", "\\x00"), str(exc), False))
            continue
        rows.append(
            ManifestRow(
                line=line,
                session_id=sid,
                audio=audio,
                patient=values.get("patient", ""),
                therapist=values.get("therapist", ""),
                session_number=number,
                phase=phase,
                date=values.get("date", ""),
                metadata=metadata,
            )
        )
    return rows, problems, metadata_columns


def import_manifest(
    project: Project,
    manifest: str | Path,
    *,
    phase_rule: PhaseRule | None = None,
    progress: Callable[[ImportProgress], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    actor: str = LEAD,
) -> ImportReport:
    """Import (or re-import) a manifest into a project. See the module docstring."""
    rows, problems, metadata_columns = read_manifest(manifest, phase_rule=phase_rule)
    report = ImportReport(str(manifest), problems=list(problems), metadata_columns=metadata_columns)
    known_audio = _known_audio(project)
    sizes = [_size(row.audio) for row in rows]
    bytes_total = sum(sizes)
    bytes_done = 0
    started = time.monotonic()

    def tick(files_done: int, extra: int = 0) -> None:
        if progress is None:
            return
        done = bytes_done + extra
        elapsed = time.monotonic() - started
        left = elapsed / done * (bytes_total - done) if done and elapsed > 0.5 else None
        progress(ImportProgress(files_done, len(rows), done, bytes_total, left))

    tick(0)
    for i, (row, size) in enumerate(zip(rows, sizes, strict=True)):
        if cancelled is not None and cancelled():
            report.cancelled = True
            break
        try:
            audio, hashed = _probe(row, known_audio, cancelled, lambda n, i=i: tick(i, n))  # type: ignore[misc]
        except Cancelled:
            report.cancelled = True
            break
        report.hashed += hashed
        if audio["status"] != "ok":
            report.problems.append(RowProblem(row.line, row.session_id, audio["reason"], True))
        # Two leads importing at once race for the same new session ids: retried, the
        # loser's row is then an update of the winner's (coder.db_faults).
        outcome = retry_on_conflict(partial(_write_session, project, row, audio, actor))
        setattr(report, outcome, getattr(report, outcome) + 1)
        bytes_done += size
        tick(i + 1)
    report.problems.sort(key=lambda p: p.line)
    return report


def _size(path: Path | None) -> int:
    try:
        return path.stat().st_size if path is not None else 0
    except OSError:
        return 0


def _known_audio(project: Project) -> dict[str, AudioFileRow]:
    with project.store.read() as s:
        return {row.path: row for row in s.scalars(select(AudioFileRow))}


def _probe(
    row: ManifestRow,
    known: Mapping[str, AudioFileRow],
    cancelled: Callable[[], bool] | None,
    progress: Callable[[int], None],
) -> tuple[dict[str, Any], int]:
    """Probe a row's audio; reuse the stored hash when size and mtime are unchanged."""
    if row.audio is None:
        return {"status": "missing", "reason": "no audio file given", "path": None}, 0
    path = str(row.audio.resolve()) if row.audio.exists() else str(row.audio)
    try:
        stat = os.stat(path)
    except OSError:
        return {
            "status": "missing",
            "reason": f"audio file not found: {row.audio}",
            "path": path,
        }, 0
    previous = known.get(path)
    if (
        previous is not None
        and previous.sha256
        and previous.size_bytes == stat.st_size
        and previous.mtime_ns == stat.st_mtime_ns
        and previous.duration_ms is not None
    ):
        return {
            "status": "ok",
            "reason": "",
            "path": path,
            "info": None,
            "audio_id": previous.id,
        }, 0
    try:
        info = probe_audio(path, progress=progress, cancelled=cancelled)
    except AudioMissingError as exc:
        return {"status": "missing", "reason": str(exc), "path": path}, 0
    except AudioError as exc:
        return {"status": "unreadable", "reason": str(exc), "path": path}, 0
    return {
        "status": "ok",
        "reason": "",
        "path": path,
        "info": info,
        "mtime_ns": stat.st_mtime_ns,
    }, 1


def _write_session(project: Project, row: ManifestRow, audio: Mapping[str, Any], actor: str) -> str:
    """Insert or update one session (and its audio row) in one transaction."""
    with project.store.transaction() as s:
        audio_id = audio.get("audio_id")
        info = audio.get("info")
        content_change: tuple[str | None, str] | None = None
        if info is not None:
            audio_row = s.scalar(select(AudioFileRow).where(AudioFileRow.path == audio["path"]))
            if audio_row is None:
                audio_row = AudioFileRow(path=audio["path"])
                s.add(audio_row)
            elif audio_row.sha256 != info.sha256:
                content_change = (audio_row.sha256, info.sha256)
            audio_row.size_bytes = info.size_bytes
            audio_row.mtime_ns = audio["mtime_ns"]
            audio_row.duration_ms = info.duration_ms
            audio_row.sample_rate = info.sample_rate
            audio_row.channels = info.channels
            audio_row.sha256 = info.sha256
            audio_row.format = info.format
            s.flush()
            audio_id = audio_row.id
        elif audio_id is None and audio.get("path"):
            # Keep the path of a missing or unreadable file so it can be re-linked later.
            audio_row = s.scalar(select(AudioFileRow).where(AudioFileRow.path == audio["path"]))
            if audio_row is None:
                audio_row = AudioFileRow(path=audio["path"])
                s.add(audio_row)
                s.flush()
            audio_id = audio_row.id
        fields = {
            "patient": row.patient,
            "therapist": row.therapist,
            "session_number": row.session_number,
            "phase": row.phase,
            "date": row.date,
            "metadata_json": json.dumps(dict(row.metadata), sort_keys=True),
            "audio_id": audio_id,
            "audio_status": audio["status"],
            "audio_reason": audio["reason"],
        }
        existing = s.scalar(select(SessionRow).where(SessionRow.session_key == row.session_id))
        if existing is None:
            s.add(SessionRow(session_key=row.session_id, **fields))
            _log(s, actor, "import", "session", row.session_id)
            return "added"
        changed = {
            k: (getattr(existing, k), v) for k, v in fields.items() if getattr(existing, k) != v
        }
        if content_change is not None:
            _log(
                s,
                actor,
                "reimport",
                "audio",
                row.session_id,
                field="sha256",
                old=content_change[0],
                new=content_change[1],
            )
        if not changed:
            return "unchanged" if content_change is None else "updated"
        for key, (_old, new) in changed.items():
            setattr(existing, key, new)
        _log(
            s,
            actor,
            "reimport",
            "session",
            row.session_id,
            old={k: o for k, (o, _n) in changed.items() if k != "metadata_json"},
            new={k: n for k, (_o, n) in changed.items() if k != "metadata_json"},
        )
        return "updated"


@dataclass
class RelinkReport:
    relinked: list[tuple[str, str]] = field(default_factory=list)
    still_missing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "relinked": [{"session_id": s, "path": p} for s, p in self.relinked],
            "still_missing": self.still_missing,
        }


def relink_audio(
    project: Project,
    folder: str | Path,
    *,
    cancelled: Callable[[], bool] | None = None,
    actor: str = LEAD,
) -> RelinkReport:
    """Find sessions' moved audio files under ``folder`` by their content (SHA-256).

    Only files whose size matches a missing file's recorded size are hashed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder")
    report = RelinkReport()
    with project.store.read() as s:
        rows = s.execute(
            select(SessionRow, AudioFileRow).join(
                AudioFileRow, AudioFileRow.id == SessionRow.audio_id
            )
        ).all()
    lost = [(sess, audio) for sess, audio in rows if not Path(audio.path).exists()]
    if not lost:
        return report
    wanted_sizes = {audio.size_bytes for _s, audio in lost if audio.sha256}
    by_hash: dict[str, str] = {}
    for candidate in _audio_files(folder):
        if cancelled is not None and cancelled():
            raise Cancelled("re-linking was cancelled; nothing was changed for the rest")
        if candidate.stat().st_size in wanted_sizes:
            by_hash.setdefault(
                sha256_file(candidate, cancelled=cancelled), str(candidate.resolve())
            )
    for sess, audio in lost:
        found = by_hash.get(audio.sha256 or "")
        if found is None:
            report.still_missing.append(sess.session_key)
            continue
        _relink(project, sess.id, audio.id, found, actor)
        report.relinked.append((sess.session_key, found))
    return report


def _relink(project: Project, session_pk: int, audio_pk: int, path: str, actor: str) -> None:
    """Point an audio row at a file already known to hold its content."""
    with project.store.transaction() as s:
        audio_row = s.get(AudioFileRow, audio_pk)
        session_row = s.get(SessionRow, session_pk)
        assert audio_row is not None and session_row is not None
        old = audio_row.path
        audio_row.path = path
        audio_row.mtime_ns = os.stat(path).st_mtime_ns
        if audio_row.duration_ms is not None:
            session_row.audio_status, session_row.audio_reason = "ok", ""
        _log(s, actor, "relink", "audio", session_row.session_key, field="path", old=old, new=path)


def relink_session_audio(
    project: Project, session_key: str, path: str | Path, *, actor: str = LEAD
) -> None:
    """Re-link one session's moved recording to a file, checked by its SHA-256.

    Raises:
        InputError: no such session, no fingerprint kept at import, or the file's
            content is not the recording that was imported.
    """
    path = Path(path)
    with project.store.read() as s:
        row = s.execute(
            select(SessionRow.id, AudioFileRow.id, AudioFileRow.sha256)
            .join(AudioFileRow, AudioFileRow.id == SessionRow.audio_id)
            .where(SessionRow.session_key == session_key)
        ).first()
    if row is None:
        raise InputError(f"session {session_key!r} has no recording on record to re-link")
    session_pk, audio_pk, expected = row
    if not expected:
        raise InputError(
            "no fingerprint of this recording was kept at import, so the file you chose "
            "cannot be checked; ask the lab lead to re-import the session's audio"
        )
    if sha256_file(path) != expected:
        raise InputError(
            f"{path.name} is not the recording of this session: its content differs "
            "from the file that was imported. Choose another file, or ask the lab lead"
        )
    _relink(project, session_pk, audio_pk, str(path.resolve()), actor)


def _audio_files(folder: Path) -> Iterable[Path]:
    for root, _dirs, files in os.walk(folder):
        for name in sorted(files):
            if Path(name).suffix.lower() in AUDIO_EXTENSIONS:
                yield Path(root) / name
