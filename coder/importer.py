"""Importing sessions from a manifest (CSV or XLSX), and re-linking moved audio.

An import runs in three phases, so that bad input changes nothing half-way:

1. **Read and check** (:func:`read_manifest`). The file is identified by its content,
   not only its name (a CSV saved as ``.xlsx`` or a workbook named ``.csv`` is named
   as such); text is UTF-8 (a BOM is fine), UTF-16 with a BOM (Excel's "Unicode
   text"), or else Windows-1252 (Excel's "CSV" on Western Windows); the separator is
   ``,``, ``;`` or tab, whichever makes the header hold ``session_id``. Every row is
   checked, and every bad one reported with its line: an empty, too long or repeated
   ``session_id``; a row with more fields than the header; a control character (NUL)
   in any field; a ``session_number`` that is not plain ASCII digits (an Excel-style
   trailing ``.0`` or ``.00`` is allowed, so ``3.0`` is 3) or is above
   :data:`MAX_SESSION_NUMBER` (``+5``, ``1e3``, ``3.5``, ``-1``, ``0x10``, ``inf``,
   ``٣`` are all refused); a ``date`` that is not ``YYYY-MM-DD`` (or ``D.M.YYYY``; a
   time of midnight from Excel is dropped, slashed dates are ambiguous and refused); a
   ``window_offset`` (the session's shift of the scale's coding window, kept as
   metadata) that is not seconds or ``m:ss`` (:func:`coder.session_window.parse_window_offset`). A
   phase rule that does not cover a row's session number is reported on that row.
2. **Probe** every row's audio (duration, format, SHA-256; unchanged files, same size
   and modification time, are not hashed again), with progress. Cancelling here
   writes nothing at all.
3. **Write** every good row in one transaction. A row whose recording's fingerprint
   (SHA-256) would change under *coded work* (a coding of the session that is not
   ``not_started``: its rater has begun, submitted or marked it uncodable) is refused
   and changes nothing, unless ``allow_audio_change`` is given; every change of a
   session's recording (path or content) is then kept in the history, old and new.
   The same content at a new place (a moved file) is not a change of fingerprint.

Rows whose audio is missing or unreadable are imported with that status and reported.
Two sessions that share one recording (same SHA-256, or the same missing file) are
almost always a manifest error: they are imported, and reported with both ids in the
problems and in ``ImportReport.duplicate_recordings`` (and in ``status``).
"""

from __future__ import annotations

import csv
import io
import os
import re
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from coder.audio import (
    AUDIO_EXTENSIONS,
    AudioError,
    AudioMissingError,
    Cancelled,
    probe_audio,
    sha256_file,
)
from coder.changes import OpChanges
from coder.errors import InputError, TextLimitError
from coder.session_fields import (
    CONTROL,
    MAX_ID_LENGTH,
    MAX_SESSION_NUMBER,
    parse_session_date,
    parse_session_number,
    session_id_problem,
)
from coder.session_window import WINDOW_OFFSET_FIELD, parse_window_offset
from coder.store.imports import (
    LinkedRecording,
    StoredAudio,
    known_audio,
    relink,
    session_recordings,
    write_import,
)
from coder.store.project import LEAD, DuplicateRecording, Project
from coder.store.sessions import NewSession, check_session_limits

__all__ = [
    "KNOWN_COLUMNS",
    "MAX_ID_LENGTH",
    "MAX_SESSION_NUMBER",
    "REQUIRED_COLUMNS",
    "ImportProgress",
    "ImportReport",
    "ManifestRow",
    "RelinkReport",
    "RowProblem",
    "import_manifest",
    "parse_phase_rule",
    "parse_session_date",
    "parse_session_number",
    "read_manifest",
    "relink_audio",
    "relink_session_audio",
]

REQUIRED_COLUMNS = ("session_id", "audio")
KNOWN_COLUMNS = ("session_id", "audio", "patient", "therapist", "session_number", "phase", "date")
_SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")  # an old binary .xls workbook


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
    """What an import did. ``refused`` counts rows that were not imported."""

    manifest: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    hashed: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    metadata_columns: list[str] = field(default_factory=list)
    cancelled: bool = False
    duplicate_recordings: list[DuplicateRecording] = field(default_factory=list)

    @property
    def refused(self) -> int:
        return sum(1 for p in self.problems if not p.imported)

    @property
    def changes(self) -> OpChanges:
        """What the import changed: sessions, if it added or updated any."""
        return OpChanges(sessions=not self.cancelled and bool(self.added or self.updated))

    def as_dict(self) -> dict[str, Any]:
        return {
            "manifest": self.manifest,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "hashed": self.hashed,
            "refused": self.refused,
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
            "duplicate_recordings": [d.as_dict() for d in self.duplicate_recordings],
        }


PhaseRule = list[tuple[int, int, str]]


def parse_phase_rule(text: str) -> PhaseRule:
    """Parse "1-4=I,5-9=II,10-=III" into ranges (an open end goes on forever).

    Raises:
        InputError: for a malformed rule, or ranges that overlap.
    """
    rule: PhaseRule = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*([0-9]+)\s*-\s*([0-9]*)\s*=\s*(\S.*?)\s*", part, re.ASCII)
        if not match:
            raise InputError(f"phase rule part {part.strip()!r} is not like 1-4=I (or 10-=III)")
        lo, hi = int(match.group(1)), int(match.group(2)) if match.group(2) else 10**9
        if hi < lo:
            raise InputError(f"phase rule part {part.strip()!r}: {hi} is below {lo}")
        for other_lo, other_hi, other in rule:
            if lo <= other_hi and other_lo <= hi:
                raise InputError(
                    f"phase rule part {part.strip()!r} overlaps the range of phase {other!r}"
                )
        rule.append((lo, hi, match.group(3)))
    return rule


def _phase_from_rule(rule: PhaseRule, number: int | None) -> str:
    if number is None:
        return ""
    for lo, hi, phase in rule:
        if lo <= number <= hi:
            return phase
    return ""


def _describe_rule(rule: PhaseRule) -> str:
    return ",".join(f"{lo}-{'' if hi >= 10**9 else hi}={phase}" for lo, hi, phase in rule)


# --------------------------------------------------------------------------- reading


def _cell_text(value: Any) -> str:
    """An Excel cell as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value)}.0"  # read back by parse_session_number as a whole number
        return repr(value)
    return str(value)


def _read_xlsx(path: Path) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise InputError(
            f"{path}: cannot be read as an Excel workbook ({str(exc).splitlines()[0]}); "
            "save it again from Excel as .xlsx, or as CSV UTF-8"
        ) from None
    try:
        sheet = book.worksheets[0]
        return [
            (line, [_cell_text(v) for v in values])
            for line, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        book.close()


def _decode(path: Path, data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")  # Excel's "Unicode text": UTF-16 with a BOM
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Not UTF-8: Excel on Western Windows saves "CSV" as Windows-1252. Five byte
        # values are undefined there; Latin-1 reads those too.
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    if "\x00" in text:
        raise InputError(
            f"{path}: the file holds NUL bytes (UTF-16 without a byte-order mark?); "
            "save it from Excel as CSV UTF-8"
        )
    return text


def _read_text(path: Path, data: bytes) -> tuple[list[tuple[int, list[str]]], str]:
    text = _decode(path, data)
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    separator = ","
    for candidate in _SEPARATORS:
        header = next(csv.reader([first], delimiter=candidate), [])
        if "session_id" in [c.strip().lstrip("\ufeff") for c in header]:
            separator = candidate
            break
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    records: list[tuple[int, list[str]]] = []
    try:
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            records.append((start, cells))
    except csv.Error as exc:
        raise InputError(f"{path}:{reader.line_num}: cannot read the row ({exc})") from None
    return records, separator


def _read_records(path: Path) -> tuple[list[tuple[int, list[str]]], str]:
    """The file's rows with their line numbers, and the separator (for messages)."""
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".xlsm", ".csv", ".txt", ".tsv"):
        raise InputError(f"{path}: a manifest must be .csv or .xlsx, not {suffix or 'no suffix'}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the manifest ({exc.strerror})") from None
    is_zip = data.startswith(_ZIP_MAGIC)
    if data.startswith(_OLE_MAGIC):
        raise InputError(
            f"{path} is an old Excel .xls workbook; save it from Excel as .xlsx or CSV UTF-8"
        )
    if suffix in (".xlsx", ".xlsm"):
        if not is_zip:
            raise InputError(
                f"{path} is not an Excel workbook but a text file with an {suffix} name; "
                "rename it to .csv"
            )
        return _read_xlsx(path), ","
    if is_zip:
        raise InputError(
            f"{path} is an Excel workbook with a {suffix} name; rename it to .xlsx, or "
            "save it from Excel as CSV UTF-8"
        )
    return _read_text(path, data)


def read_manifest(
    path: str | Path, *, phase_rule: PhaseRule | None = None
) -> tuple[list[ManifestRow], list[RowProblem], list[str]]:
    """Read and check a manifest; returns good rows, row problems and metadata columns.

    Problems with ``imported=False`` are rows that are not imported; those with
    ``imported=True`` belong to rows that are (a phase rule that misses their number).

    Raises:
        InputError: the file cannot be read, is empty, or lacks a required column.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"manifest {path} not found")
    records, separator = _read_records(path)
    records = [(line, cells) for line, cells in records if any(c.strip() for c in cells)]
    if not records:
        raise InputError(f"{path}: the manifest is empty; it needs a header and a row per session")
    header_line, header = records[0]
    columns = [c.strip().lstrip("\ufeff").strip() for c in header]
    while columns and not columns[-1]:  # trailing empty cells (Excel, spreadsheets)
        columns.pop()
    where = f"{path}:{header_line}"
    blank = [i + 1 for i, c in enumerate(columns) if not c]
    if blank:
        raise InputError(f"{where}: column {blank[0]} has no name; name it or delete it")
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise InputError(f"{where}: column {dupes[0]!r} appears twice")
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        hint = ""
        if len(columns) == 1:
            hint = (
                "; the header has a single column: separate the columns with commas, "
                "semicolons or tabs (or save the file from Excel as CSV UTF-8)"
            )
        raise InputError(
            f"{where}: missing column {missing[0]!r}; the manifest needs "
            f"{', '.join(KNOWN_COLUMNS)} (the first two required){hint}"
        )
    data_records = records[1:]
    if not data_records:
        raise InputError(f"{path}: the manifest has a header but no session rows")
    metadata_columns = [c for c in columns if c not in KNOWN_COLUMNS]
    rows: list[ManifestRow] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    base = path.parent
    for line, cells in data_records:
        values = {c: (cells[i].strip() if i < len(cells) else "") for i, c in enumerate(columns)}
        sid = values["session_id"]
        reasons: list[str] = []
        extra = [c for c in cells[len(columns) :] if c.strip()]
        if extra:
            reasons.append(
                f"the row has {len(columns) + len(extra)} fields but the header has "
                f"{len(columns)}; check for an unquoted {_SEPARATORS[separator]}"
            )
        bad_text = [c for c, v in values.items() if CONTROL.search(v)]
        if bad_text:
            reasons.append(f"{bad_text[0]} holds a control character (such as NUL); remove it")
        id_problem = session_id_problem(sid, control=False)  # control: checked above
        if id_problem is not None:
            reasons.append(id_problem)
        elif sid in seen:
            reasons.append(f"duplicate session_id (first on line {seen[sid]})")
        else:
            seen[sid] = line
        number: int | None = None
        try:
            number = parse_session_number(values.get("session_number", ""))
        except ValueError as exc:
            reasons.append(str(exc))
        try:
            session_date = parse_session_date(values.get("date", ""))
        except ValueError as exc:
            reasons.append(str(exc))
        try:  # kept as metadata; coder.session_window reads it
            parse_window_offset(values.get(WINDOW_OFFSET_FIELD, ""))
        except ValueError as exc:
            reasons.append(str(exc))
        shown_sid = "" if not sid or len(sid) > MAX_ID_LENGTH or bad_text else sid
        if reasons:
            problems.append(RowProblem(line, shown_sid, "; ".join(reasons), False))
            continue
        phase = values.get("phase", "")
        if not phase and phase_rule:
            phase = _phase_from_rule(phase_rule, number)
            if not phase:
                why = (
                    "it has no session_number"
                    if number is None
                    else f"session_number {number} is not covered by the phase rule "
                    f"{_describe_rule(phase_rule)}"
                )
                problems.append(RowProblem(line, sid, f"phase left blank: {why}", True))
        audio_text = values["audio"]
        audio = None
        if audio_text:
            audio = Path(audio_text).expanduser()
            if not audio.is_absolute():
                audio = base / audio
        texts = {c: values.get(c, "") for c in ("patient", "therapist", "phase", "date")}
        metadata = {c: values[c] for c in metadata_columns if values.get(c, "")}
        try:  # the limits every backend applies (coder.text_limits), per manifest line
            check_session_limits(
                NewSession(
                    key=sid,
                    patient=texts["patient"],
                    therapist=texts["therapist"],
                    phase=texts["phase"],
                    date=texts["date"],
                    metadata=metadata,
                )
            )
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
                date=session_date,
                metadata=metadata,
            )
        )
    return rows, problems, metadata_columns


# --------------------------------------------------------------------------- importing


def import_manifest(
    project: Project,
    manifest: str | Path,
    *,
    phase_rule: PhaseRule | None = None,
    progress: Callable[[ImportProgress], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    actor: str = LEAD,
    allow_audio_change: bool = False,
) -> ImportReport:
    """Import (or re-import) a manifest into a project. See the module docstring.

    Args:
        project: The open project.
        manifest: A CSV or XLSX file.
        phase_rule: Derives a blank phase from the session number.
        progress: Called with the probing progress (files, bytes, time left).
        cancelled: Polled while probing; when it returns True nothing is written.
        actor: Who the history names.
        allow_audio_change: Let a row change the recording (SHA-256) of a session
            that has coded work; the change is kept in the history.

    Returns:
        The report: counts, every problem row with its line, shared recordings.

    Raises:
        InputError: the manifest as a whole cannot be used (nothing is written).
    """
    rows, problems, metadata_columns = read_manifest(manifest, phase_rule=phase_rule)
    report = ImportReport(str(manifest), problems=list(problems), metadata_columns=metadata_columns)
    probed = _probe_all(project, rows, report, progress, cancelled)
    if probed is None:
        report.cancelled = True
        report.problems.sort(key=lambda p: p.line)
        return report
    sessions = [
        NewSession(
            key=row.session_id,
            patient=row.patient,
            therapist=row.therapist,
            session_number=row.session_number,
            phase=row.phase,
            date=row.date,
            metadata=row.metadata,
        )
        for row in rows
    ]
    outcomes = write_import(
        project,
        list(zip(sessions, probed, strict=True)),
        actor=actor,
        allow_audio_change=allow_audio_change,
    )
    written: list[str] = []
    for row, done in zip(rows, outcomes, strict=True):
        if done.outcome == "refused":
            report.problems.append(RowProblem(row.line, row.session_id, done.note, False))
            continue
        if done.note:
            report.problems.append(RowProblem(row.line, row.session_id, done.note, True))
        setattr(report, done.outcome, getattr(report, done.outcome) + 1)
        written.append(row.session_id)
    _report_duplicates(project, rows, written, report)
    report.problems.sort(key=lambda p: p.line)
    return report


def _probe_all(
    project: Project,
    rows: Sequence[ManifestRow],
    report: ImportReport,
    progress: Callable[[ImportProgress], None] | None,
    cancelled: Callable[[], bool] | None,
) -> list[dict[str, Any]] | None:
    """Probe every row's audio before anything is written; None when cancelled."""
    known_audio_rows = known_audio(project)
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
    probed: list[dict[str, Any]] = []
    for i, (row, size) in enumerate(zip(rows, sizes, strict=True)):
        if cancelled is not None and cancelled():
            return None
        try:
            audio, hashed = _probe(row, known_audio_rows, cancelled, lambda n, i=i: tick(i, n))  # type: ignore[misc]
        except Cancelled:
            return None
        report.hashed += hashed
        probed.append(audio)
        bytes_done += size
        tick(i + 1)
    return probed


def _report_duplicates(
    project: Project, rows: Sequence[ManifestRow], written: Sequence[str], report: ImportReport
) -> None:
    """Flag sessions of this manifest that share one recording with another session."""
    lines = {row.session_id: row.line for row in rows}
    mine = set(written)
    for duplicate in project.duplicate_recordings():
        if not mine & set(duplicate.session_ids):
            continue
        report.duplicate_recordings.append(duplicate)
        for sid in duplicate.session_ids:
            if sid not in mine:
                continue
            others = ", ".join(o for o in duplicate.session_ids if o != sid)
            report.problems.append(
                RowProblem(
                    lines[sid],
                    sid,
                    f"its recording {Path(duplicate.path).name} is also the recording of "
                    f"{others} (same {duplicate.basis}); check the audio column",
                    True,
                )
            )


def _size(path: Path | None) -> int:
    try:
        return path.stat().st_size if path is not None else 0
    except OSError:
        return 0


def _probe(
    row: ManifestRow,
    known: Mapping[str, StoredAudio],
    cancelled: Callable[[], bool] | None,
    progress: Callable[[int], None],
) -> tuple[dict[str, Any], int]:
    """Probe a row's audio; reuse the stored hash when size and mtime are unchanged."""
    if row.audio is None:
        return {"status": "missing", "reason": "no audio file given", "path": None}, 0
    try:
        path = str(row.audio.resolve()) if row.audio.exists() else str(row.audio)
        stat = os.stat(path)
    except (OSError, ValueError):
        return {
            "status": "missing",
            "reason": f"audio file not found: {row.audio}",
            "path": str(row.audio),
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
            "sha256": previous.sha256,
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
        "sha256": info.sha256,
        "mtime_ns": stat.st_mtime_ns,
    }, 1


@dataclass
class RelinkReport:
    relinked: list[tuple[str, str]] = field(default_factory=list)
    still_missing: list[str] = field(default_factory=list)

    @property
    def changes(self) -> OpChanges:
        """What relinking changed: the sessions, if any recording was found."""
        return OpChanges(sessions=bool(self.relinked))

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
    lost = [rec for rec in session_recordings(project) if not Path(rec.path).exists()]
    if not lost:
        return report
    wanted_sizes = {rec.size_bytes for rec in lost if rec.sha256}
    by_hash: dict[str, str] = {}
    for candidate in _audio_files(folder):
        if cancelled is not None and cancelled():
            raise Cancelled("re-linking was cancelled; nothing was changed for the rest")
        if candidate.stat().st_size in wanted_sizes:
            by_hash.setdefault(
                sha256_file(candidate, cancelled=cancelled), str(candidate.resolve())
            )
    for rec in lost:
        found = by_hash.get(rec.sha256 or "")
        if found is None:
            report.still_missing.append(rec.session_key)
            continue
        relink(project, rec, found, actor)
        report.relinked.append((rec.session_key, found))
    return report


def relink_session_audio(
    project: Project, session_key: str, path: str | Path, *, actor: str = LEAD
) -> None:
    """Re-link one session's moved recording to a file, checked by its SHA-256.

    Raises:
        InputError: no such session, no fingerprint kept at import, or the file's
            content is not the recording that was imported.
    """
    path = Path(path)
    found: list[LinkedRecording] = session_recordings(project, session_key)
    if not found:
        raise InputError(f"session {session_key!r} has no recording on record to re-link")
    rec = found[0]
    if not rec.sha256:
        raise InputError(
            "no fingerprint of this recording was kept at import, so the file you chose "
            "cannot be checked; ask the lab lead to re-import the session's audio"
        )
    if sha256_file(path) != rec.sha256:
        raise InputError(
            f"{path.name} is not the recording of this session: its content differs "
            "from the file that was imported. Choose another file, or ask the lab lead"
        )
    relink(project, rec, str(path.resolve()), actor)


def _audio_files(folder: Path) -> Iterable[Path]:
    for root, _dirs, files in os.walk(folder):
        for name in sorted(files):
            if Path(name).suffix.lower() in AUDIO_EXTENSIONS:
                yield Path(root) / name
