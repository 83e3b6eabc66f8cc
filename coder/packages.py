"""Offline rater packages: export a rater's work, code it elsewhere, merge it back.

A package is a single SQLite file with the schema of a project (a *mini project*), so
the app opens it like any project and the rater works through the same
:class:`~coder.store.project.RaterView`. It holds only:

* the manifest (project settings key ``package``): kind, format, package id, the
  project's UUID and name, the rater code, when it was made, whether audio is inside,
  and ``content_sha256``, a SHA-256 over everything in the package that the rater
  cannot change (manifest, scale definitions, session keys with their audio
  references, the list of codings);
* that rater and their codings (every state) with their scores, notes and spans;
  every role shows as ``primary`` and nothing says whether a session is double-coded,
  a training session or a drift check; no other rater, plan, pool or history;
* the scale definitions the codings use, exactly as stored;
* the sessions' keys and audio references (file name, SHA-256, size, duration), no
  patient, therapist, date or metadata; with ``with_audio`` the audio itself, stored
  in chunks in a table ``package_audio`` and unpacked on :func:`open_package`.

The lead's project keeps its own record of each package (``rater_packages``): the
package ids of codings, notes and spans mapped to the project's, and the values as
exported. :func:`import_package` merges three ways against that base, unit by unit (an
item's score, a coding's state, a note, a span): a unit changed only in the package is
applied, with history rows whose actor is the rater; changed only in the project, it
is kept; changed on both sides to different values, it is a :class:`Conflict`, listed
for the lead (:func:`package_conflicts`, :func:`resolve_conflict`) and never
overwritten. Importing the same package again changes nothing, and a later version of
the same package (the rater went on coding) merges the same way.

A package from another project, for a rater the project does not have, or whose
content no longer matches its hash or the project's record, is refused with a message
saying which, and nothing is merged.

A package is complete on its own. It is opened (and written by :func:`export_package`)
in SQLite's DELETE journal mode, not the WAL mode of projects: every change the app
acknowledges is already inside the ``.scpkg`` file, which is the only file a rater
mails back. What :func:`import_package` can and cannot detect about an incomplete file:

* a ``-wal`` sidecar with frames, or a hot ``-journal``, beside the package: the file
  is still open in the app, or was not closed properly, and some changes are not in
  it. The import is refused (a sidecar is never copied along: a stale one from an
  earlier version of the file would be replayed into the new one);
* a torn or damaged file (copied while being written): refused by SQLite's
  ``quick_check``;
* a package last written by an older version in WAL mode (its header says WAL) and
  mailed without its ``-wal``: SQLite does not count transactions in the main file in
  WAL mode, so missing changes are *not* detectable from the file alone. When such a
  package merges nothing new, the report carries a warning that says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_cache_dir

from coder.changes import OpChanges
from coder.coding_rules import check_rating, check_uncodable, is_editable, item_of
from coder.errors import Cancelled, CoderError, InputError
from coder.kinds import CodingStatus, ItemKind
from coder.scales import RatingScale
from coder.session_window import format_clock
from coder.store import packages_store as store
from coder.store.open_files import open_database_path
from coder.store.packages_store import PackageTx
from coder.store.project import CODING_STATES, LEAD, HistoryEntry, Project, RaterView

PACKAGE_KIND = "session-coder-rater-package"
PACKAGE_FORMAT = 1
PACKAGE_SETTING = "package"
UUID_SETTING = "project_uuid"

Take = Literal["package", "project"]


# --------------------------------------------------------------------------- types


@dataclass(frozen=True)
class PackageManifest:
    """What a package says about itself (stored in the package, covered by its hash)."""

    package_id: str
    project_uuid: str
    project_name: str
    rater: str
    created_at: str  # ISO 8601, UTC
    with_audio: bool
    codings: int
    content_sha256: str = ""
    kind: str = PACKAGE_KIND
    format: int = PACKAGE_FORMAT

    @property
    def changes(self) -> OpChanges:
        """What exporting this package changed in the project: its record of packages."""
        return OpChanges(packages=True)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "format": self.format,
            "package_id": self.package_id,
            "project_uuid": self.project_uuid,
            "project_name": self.project_name,
            "rater": self.rater,
            "created_at": self.created_at,
            "with_audio": self.with_audio,
            "codings": self.codings,
            "content_sha256": self.content_sha256,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PackageManifest:
        return cls(
            package_id=str(data["package_id"]),
            project_uuid=str(data["project_uuid"]),
            project_name=str(data.get("project_name", "")),
            rater=str(data["rater"]),
            created_at=str(data["created_at"]),
            with_audio=bool(data.get("with_audio", False)),
            codings=int(data.get("codings", 0)),
            content_sha256=str(data.get("content_sha256", "")),
            kind=str(data.get("kind", "")),
            format=int(data.get("format", 0)),
        )


@dataclass(frozen=True)
class PackageProgress:
    """How far an export or an import of a package has got.

    Attributes:
        stage: What is being done, for a person ("writing the codings", "adding the
            audio", "copying the package", "merging").
        fraction: The share of the whole job done, from 0.0 to 1.0.
    """

    stage: str
    fraction: float

    @property
    def percent(self) -> int:
        """The fraction as a whole percentage (0 to 100)."""
        return max(0, min(100, int(self.fraction * 100)))


ProgressCallback = Callable[[PackageProgress], None]
CancelledCallback = Callable[[], bool]


@dataclass(frozen=True)
class Conflict:
    """One unit changed both in the project and in the package since the export.

    Attributes:
        id: Stable id within the package (``"<coding>:<what>:<key>"``).
        what: ``rating``, ``state``, ``note``, ``span``, ``coding`` (the coding is no
            longer the rater's in the project) or ``locked`` (changed in the package
            although it was submitted and not reopened at export).
        key: The item id, or the project's note / span id.
        base: The value at export (or the last import); ``project`` and ``package``
            the two current values.
    """

    id: str
    package_id: str
    rater: str
    coding_id: int
    session_key: str
    scale_id: str
    what: str
    key: str
    base: Any
    project: Any
    package: Any

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "package_id": self.package_id,
            "rater": self.rater,
            "coding_id": self.coding_id,
            "session": self.session_key,
            "scale": self.scale_id,
            "what": self.what,
            "key": self.key,
            "base": self.base,
            "project": self.project,
            "package": self.package,
        }

    @property
    def can_take_package(self) -> bool:
        """Whether the package's value can be taken (:func:`resolve_conflict`).

        Not when the coding is no longer the rater's (``coding``), nor when it was
        submitted and not reopened at export (``locked``): the rater could not have
        changed it in the app, so only the project's value can be kept.
        """
        return self.what not in ("coding", "locked")

    def describe(self) -> str:
        return (
            f"{self.session_key} {self.scale_id} {self.what} {self.key}: project has "
            f"{_short(self.project)}, package has {_short(self.package)} "
            f"(was {_short(self.base)}) [{self.id}]"
        )


@dataclass(frozen=True)
class ImportReport:
    """What :func:`import_package` did. ``changed`` is False when nothing was written.

    ``warnings`` are things the lead should know although nothing was refused (a
    package from an older version that may lack the rater's latest changes).
    """

    package_id: str
    rater: str
    applied: dict[str, int]
    conflicts: tuple[Conflict, ...]
    changed: bool
    warnings: tuple[str, ...] = ()

    @property
    def changes(self) -> OpChanges:
        """What the merge changed: codings, if any of the rater's changes was applied,
        and the record of the package (its imports and open conflicts), if anything."""
        return OpChanges(codings=sum(self.applied.values()) > 0, packages=self.changed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "package_id": self.package_id,
            "rater": self.rater,
            "applied": self.applied,
            "conflicts": [c.as_dict() for c in self.conflicts],
            "changed": self.changed,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class PackageRecord:
    """The project's record of an exported package."""

    package_id: str
    rater: str
    created_at: datetime
    created_by: str
    with_audio: bool
    codings: int
    imported_at: datetime | None
    import_count: int
    open_conflicts: int


class RaterPackage:
    """A package opened on the rater's machine: a mini project and the rater's view.

    Use ``package.view`` exactly like ``project.rater_view(code)`` online; every change
    is written into the package file itself at once (DELETE journal mode, no ``-wal``
    sidecar), so the file can be sent back at any moment between changes.
    """

    def __init__(self, project: Project, manifest: PackageManifest) -> None:
        self.project = project
        self.manifest = manifest
        self.view: RaterView = project.rater_view(manifest.rater)

    @property
    def path(self) -> Path | None:
        return self.project.store.location.path

    def missing_audio(self) -> list[str]:
        """Session keys whose audio file is not on this machine (see relink_audio)."""
        return [
            s.key
            for s in self.project.sessions()
            if s.audio_path is None or not Path(s.audio_path).is_file()
        ]

    def relink_audio(self, folder: str | Path) -> list[str]:
        """Find the sessions' audio files under ``folder`` by content; returns what is
        still missing."""
        from coder.importer import relink_audio

        relink_audio(self.project, folder, actor=self.manifest.rater)
        return self.missing_audio()

    def close(self) -> None:
        self.project.close()

    def __enter__(self) -> RaterPackage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class _Job:
    """The caller's progress and cancel callbacks of one export or import."""

    progress: ProgressCallback | None
    cancelled: CancelledCallback | None
    stopped: str  # what Cancelled says: what was (not) done

    def check(self) -> None:
        """Raise Cancelled when the caller asked to stop."""
        if self.cancelled is not None and self.cancelled():
            raise Cancelled(self.stopped)

    def report(self, stage: str, fraction: float) -> None:
        if self.progress is not None:
            self.progress(PackageProgress(stage, fraction))


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def project_uuid(project: Project, *, actor: str = LEAD) -> str:
    """The project's UUID, created (and recorded in the history) on first use."""
    current = project.settings().get(UUID_SETTING)
    if current:
        return str(current)
    value = project.update_setting(UUID_SETTING, lambda old: old or str(uuid.uuid4()), actor=actor)
    return str(value)


def _content_hash(project: Project) -> str:
    """SHA-256 over what a rater cannot change in a package (see the module docstring)."""
    manifest = dict(project.settings().get(PACKAGE_SETTING) or {})
    manifest.pop("content_sha256", None)
    payload = {"manifest": manifest, **store.package_contents(project)}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- export


def export_package(
    project: Project,
    rater: str,
    out: str | Path,
    *,
    with_audio: bool = False,
    actor: str = LEAD,
    progress: ProgressCallback | None = None,
    cancelled: CancelledCallback | None = None,
) -> PackageManifest:
    """Write one rater's package to ``out`` (a new file) and record it in the project.

    The package is written to a temporary file beside ``out`` and renamed to ``out``
    only when it is complete and recorded: a failed or cancelled export leaves no file
    (partial or temporary) and no record of a package in the project.

    Args:
        project: The open project.
        rater: The rater's code.
        out: The new package file.
        with_audio: Put the audio files inside.
        actor: Who exports (in the history).
        progress: Called as the export goes on (:class:`PackageProgress`).
        cancelled: Polled between steps and between chunks of audio; when it returns
            True the export stops and :class:`~coder.errors.Cancelled` is raised.

    Raises:
        InputError: the rater is unknown or has no codings, ``out`` exists or its
            folder does not, or (``with_audio``) an audio file cannot be read.
        Cancelled: ``cancelled()`` returned True; nothing was written.
    """
    job = _Job(progress, cancelled, f"the export was cancelled; no package was written to {out}")
    check, report, stopped = job.check, job.report, job.stopped

    out = Path(out).expanduser()
    report("reading the rater's codings", 0.0)
    if out.exists():
        raise InputError(f"{out} already exists; choose a new file name")
    if not out.parent.is_dir():
        raise InputError(f"the folder {out.parent} does not exist")
    work = store.rater_work(project, rater)
    if with_audio:
        for path, _sha in work.audio:
            if not Path(path).is_file():
                raise InputError(
                    f"the audio file {path} is missing; re-link it (session-coder "
                    "relink) or export without --with-audio"
                )
    manifest = PackageManifest(
        package_id=str(uuid.uuid4()),
        project_uuid=project_uuid(project, actor=actor),
        project_name=project.name,
        rater=rater,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        with_audio=with_audio,
        codings=work.codings,
    )
    # Without audio the codings are the work; with it, the audio's bytes are.
    audio_from, audio_to = (0.1, 0.95) if with_audio else (0.9, 0.9)

    def audio_progress(done: int, total: int) -> None:
        report("adding the audio", audio_from + (audio_to - audio_from) * done / max(total, 1))

    tmp = out.with_name(f".{out.name}.{manifest.package_id[:8]}.tmp")
    try:
        check()
        report("writing the codings", 0.02)
        Project.create(tmp, name=f"{project.name} ({rater}, offline)").close()
        # Reopened in the package's journal mode, so the file is written (and its
        # header says) DELETE mode from the start: see _open_package_file.
        package = _open_package_file(tmp, new=True)
        try:
            # The fields the lab prepared travel with the work (the rater sees them).
            settings = {PACKAGE_SETTING: manifest.as_dict(), **store.prepared_for(project, work)}
            state = store.write_rater_work(package, work, settings)
            check()
            report("writing the codings", audio_from)
            if with_audio:
                try:
                    store.embed_audio(
                        package, work.audio, progress=audio_progress, cancelled=cancelled
                    )
                except Cancelled:
                    raise Cancelled(stopped) from None
            report("sealing the package", audio_to)
            digest = _content_hash(package)
            manifest = PackageManifest(**{**manifest.__dict__, "content_sha256": digest})
            package.set_setting(PACKAGE_SETTING, manifest.as_dict(), actor=actor)
        finally:
            package.close()
        # The last moment to stop: once the project records the package, the file is
        # the one it records.
        check()
        store.record_export(
            project,
            work,
            package_id=manifest.package_id,
            content_sha256=manifest.content_sha256,
            with_audio=with_audio,
            state=state,
            actor=actor,
        )
        os.replace(tmp, out)
    except BaseException:
        for leftover in (tmp, *(Path(f"{tmp}{side}") for side in _SIDECARS)):
            leftover.unlink(missing_ok=True)
        raise
    report("done", 1.0)
    return manifest


# --------------------------------------------------------------------------- rater side


def read_manifest(path: str | Path) -> PackageManifest:
    """The manifest of a package file, without changing the file.

    Raises:
        InputError: the file is not a rater package.
    """
    with _package_copy(path) as package:
        return _manifest_of(package, path)


def open_package(path: str | Path, *, audio_dir: str | Path | None = None) -> RaterPackage:
    """Open a package on the rater's machine (the GUI's door to offline coding).

    Audio inside the package is unpacked once to ``audio_dir`` (default: the user's
    cache folder, by SHA-256) and checked against its hash.

    Raises:
        InputError: the file is not a rater package, or its audio is damaged.
    """
    project = _open_package_file(path)
    try:
        manifest = _manifest_of(project, path)
        if manifest.with_audio:
            _unpack_audio(project, Path(audio_dir) if audio_dir else _audio_cache())
        return RaterPackage(project, manifest)
    except BaseException:
        project.close()
        raise


def _audio_cache() -> Path:
    return Path(user_cache_dir("session-coder", appauthor=False)) / "package-audio"


def _unpack_audio(project: Project, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for audio_id, path, sha in store.embedded_audio(project):
        target = folder / f"{sha}{Path(path).suffix}"
        if not target.is_file():
            part = target.with_name(target.name + ".part")
            digest = hashlib.sha256()
            with part.open("wb") as fh:
                for chunk in store.audio_chunks(project, sha):
                    digest.update(chunk)
                    fh.write(chunk)
            if digest.hexdigest() != sha:
                part.unlink(missing_ok=True)
                raise InputError(
                    "the audio inside the package is damaged (its SHA-256 does not match); "
                    "ask the lead for a new package"
                )
            os.replace(part, target)
        if path != str(target):
            store.set_audio_path(project, audio_id, str(target))


def _manifest_of(project: Project, path: str | Path) -> PackageManifest:
    data = project.settings().get(PACKAGE_SETTING)
    if not isinstance(data, dict) or data.get("kind") != PACKAGE_KIND:
        raise InputError(f"{path} is a project, not a rater package")
    try:
        manifest = PackageManifest.from_dict(data)
    except (KeyError, TypeError, ValueError):
        raise InputError(f"{path}: the package's manifest is damaged") from None
    if manifest.format > PACKAGE_FORMAT:
        raise InputError(
            f"{path} was made by a newer version of Session Coder (package format "
            f"{manifest.format}); update the app to import it"
        )
    return manifest


_SIDECARS = ("-wal", "-shm", "-journal")
_WAL_HEADER_BYTES = 32  # a -wal file longer than its header holds frames (changes)
_JOURNAL_MAGIC = bytes.fromhex("d9d505f920a163d7")  # the header of a hot rollback journal
_PACKAGE_JOURNAL_MODE = "DELETE"


def _open_package_file(
    path: str | Path, *, shown: str | Path | None = None, new: bool = False
) -> Project:
    """Open a package file in DELETE journal mode (see the module docstring).

    Opening an older package written in WAL mode checkpoints its ``-wal`` into the file
    and switches the file to DELETE mode for good.

    Raises:
        InputError: not a SQLite project file, a damaged one, or one still held in WAL
            mode by another program (SQLite leaves WAL mode only with no other
            connection open). ``shown`` is the path messages name (default ``path``).
            ``new`` is a package being written, which has no manifest yet.
    """
    shown = path if shown is None else shown
    try:
        if store.is_lab_mode(path):
            raise InputError(f"{shown} is a lab-mode project, not a rater package")
        # Look first, in the file's own journal mode: switching a project (not a
        # package) to DELETE mode would write to it, and the app tries every file it is
        # asked to open as a package first (ui.app).
        if not new:
            probe = store.open_file(path, journal_mode=None)
            try:
                _manifest_of(probe, shown)
            finally:
                probe.close()
        project = store.open_file(path, journal_mode=_PACKAGE_JOURNAL_MODE)
    except InputError:
        raise
    except store.UnreadableFile as exc:
        raise InputError(f"{shown} is damaged ({exc}); ask for the file again") from None
    except CoderError as exc:
        reason = str(exc).replace(str(path), str(shown))  # never name a temporary copy
        raise InputError(f"{shown} is not a Session Coder rater package ({reason})") from None
    try:
        mode = store.journal_mode(project)
    except BaseException:
        project.close()
        raise
    if mode != _PACKAGE_JOURNAL_MODE:
        project.close()
        raise InputError(
            f"{shown} is open in another program (in {mode} mode); close it there and try again"
        )
    return project


def _incomplete_because(source: Path) -> str | None:
    """Why a package file on disk may lack changes, judged by the sidecars beside it."""
    wal = Path(f"{source}-wal")
    if wal.is_file() and wal.stat().st_size > _WAL_HEADER_BYTES:
        return f"some of the rater's changes are in {wal.name} beside it, not in the file"
    journal = Path(f"{source}-journal")
    if journal.is_file():
        with journal.open("rb") as fh:
            if fh.read(len(_JOURNAL_MAGIC)) == _JOURNAL_MAGIC:
                return (
                    f"a change was being written when it was copied ({journal.name} is beside it)"
                )
    return None


def _is_wal_file(source: Path) -> bool:
    """True when the SQLite header says WAL mode (bytes 18 and 19 are 2)."""
    with source.open("rb") as fh:
        header = fh.read(20)
    return len(header) == 20 and header[18] == 2 and header[19] == 2


_COPY_CHUNK = 4 * 1024 * 1024


def _copy_file(
    source: Path,
    target: Path,
    progress: Callable[[int, int], None] | None,
    cancelled: CancelledCallback | None,
) -> None:
    """Copy a file in chunks, reporting the bytes copied and polling ``cancelled``."""
    total = source.stat().st_size
    done = 0
    with source.open("rb") as src, target.open("wb") as dst:
        while True:
            if cancelled is not None and cancelled():
                raise Cancelled("cancelled")
            chunk = src.read(_COPY_CHUNK)
            if not chunk:
                break
            dst.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, max(total, done))


@contextmanager
def _package_copy(
    path: str | Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancelled: CancelledCallback | None = None,
) -> Iterator[Project]:
    """Open a throw-away copy of a package: reading never writes to the rater's file
    (opening may migrate an older package's schema, and must not do it there).

    Only the ``.scpkg`` file is copied, never a sidecar (see the module docstring).
    ``progress`` gets the bytes copied so far and in all; ``cancelled`` is polled
    between chunks of the copy (:class:`~coder.errors.Cancelled`; the copy is removed).

    Raises:
        InputError: no such file, not a package, an incomplete or damaged file.
    """
    source = Path(path).expanduser()
    if not source.is_file():
        raise InputError(f"no package at {source}")
    folder = Path(tempfile.mkdtemp(prefix="sc-package-"))
    try:
        copy = folder / "package.scproj"
        why = _incomplete_because(source)
        if open_database_path(source) is not None:
            # Open in this process: a file copy would drop its SQLite locks; copy via SQLite.
            try:
                store.copy_database(source, copy)
            except CoderError as exc:
                raise InputError(f"{source} cannot be read ({exc})") from None
        else:
            _copy_file(source, copy, progress, cancelled)
            if why is not None:
                # Copied only so that the file can be identified (a project open in the
                # app has a -wal too); a package with one is refused below, never merged.
                for suffix in _SIDECARS:
                    if Path(f"{source}{suffix}").is_file():
                        shutil.copyfile(Path(f"{source}{suffix}"), Path(f"{copy}{suffix}"))
        package = _open_package_file(copy, shown=source)
        try:
            _check_intact(package, source)
            _manifest_of(package, source)  # "a project, not a package" comes first
            if why is not None:
                raise InputError(
                    f"{source} is incomplete: {why} (the package is still open in Session "
                    "Coder, or it was not closed properly). Ask the rater to open the "
                    "package in the current Session Coder and close it again, then send "
                    "the .scpkg file alone"
                )
            yield package
        finally:
            package.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _check_intact(package: Project, source: Path) -> None:
    """Refuse a torn or damaged package file (SQLite's quick_check on the copy)."""
    result = store.quick_check(package)
    if result != ["ok"]:
        raise InputError(f"{source} is damaged ({result[0]}); ask the rater to send it again")


# --------------------------------------------------------------------------- import


@dataclass
class _PackageData:
    manifest: PackageManifest
    codings: dict[str, dict[str, Any]] = field(default_factory=dict)


def _read_package(package: Project, manifest: PackageManifest) -> _PackageData:
    return _PackageData(manifest, store.package_units(package))


def _validate(data: _PackageData, path: str | Path) -> None:
    """Everything the rater could change must still be what the scale and the rules allow.

    The checks are the ones the store applies to a rater's own writes
    (:mod:`coder.coding_rules`): a package file can be edited by hand, so it is checked
    as if every change in it were typed again.
    """

    def bad(why: str) -> InputError:
        return InputError(
            f"{path}: the package holds data its scale does not allow ({why}); nothing was "
            "imported: ask the rater to export the package again from Session Coder"
        )

    for cid, c in data.codings.items():
        scale: RatingScale = c["scale"]
        st = c["state"]
        if st["state"] not in CODING_STATES:
            raise bad(f"coding {cid} has state {st['state']!r}")
        if st["state"] == CodingStatus.UNCODABLE:
            try:
                check_uncodable(
                    scale.uncodable_reasons, st["uncodable_reason"], st["uncodable_text"] or ""
                )
            except InputError as exc:
                raise bad(
                    f"coding {cid} is marked uncodable, which the rules refuse: {exc}"
                ) from None
        for item_id, (value, txt) in c["ratings"].items():
            try:
                check_rating(item_of(scale, item_id), value, txt)
            except InputError as exc:
                raise bad(str(exc)) from None
        for n in c["notes"].values():
            if not isinstance(n["position_ms"], int) or n["position_ms"] < 0:
                raise bad("a note has a negative time")
        for sp in c["spans"].values():
            try:
                item_of(scale, sp["item_id"], ItemKind.DURATION)
            except InputError as exc:
                raise bad(f"a span is not a span of a duration item: {exc}") from None
            if sp["start_ms"] < 0:
                raise bad(f"a span of {sp['item_id']!r} starts before the recording")


def _three_way(base: Any, package: Any, project: Any) -> str:
    if package == project:
        return "same"
    if package == base:
        return "keep"
    if project == base:
        return "apply"
    return "conflict"


def import_package(
    project: Project,
    path: str | Path,
    *,
    actor: str = LEAD,
    progress: ProgressCallback | None = None,
    cancelled: CancelledCallback | None = None,
) -> ImportReport:
    """Merge a rater's package back into the project (see the module docstring).

    Args:
        project: The open project.
        path: The package file the rater sent back.
        actor: Who imports (in the history).
        progress: Called as the import goes on (:class:`PackageProgress`).
        cancelled: Polled while the package is copied and checked, before anything is
            merged; when it returns True, :class:`~coder.errors.Cancelled` is raised
            and the project is as it was. The merge itself is one short transaction
            and is not interrupted.

    Returns:
        What was applied, and every conflict left for the lead.

    Raises:
        InputError: not a package; a package of another project or for a rater the
            project lacks; a tampered package (its content no longer matches its hash
            or the project's record of it); data the scale does not allow. Nothing is
            merged then.
        Cancelled: ``cancelled()`` returned True; nothing was merged.
    """
    job = _Job(progress, cancelled, f"the import of {path} was cancelled; nothing was merged")
    check, report, stopped = job.check, job.report, job.stopped

    def copy_progress(done: int, total: int) -> None:
        report("copying the package", 0.7 * done / max(total, 1))

    report("copying the package", 0.0)
    # Read before the copy is opened: opening switches the copy to DELETE mode.
    legacy_wal = Path(path).expanduser().is_file() and _is_wal_file(Path(path).expanduser())
    try:
        with _package_copy(path, progress=copy_progress, cancelled=cancelled) as package:
            check()
            report("checking the package", 0.75)
            manifest = _manifest_of(package, path)
            digest = _content_hash(package)
            data = _read_package(package, manifest)
            histories = _histories_by_coding(package)
    except Cancelled:
        raise Cancelled(stopped) from None
    check()
    report("merging", 0.85)
    mine = project.settings().get(UUID_SETTING)
    if manifest.project_uuid != mine:
        raise InputError(
            f"{path} was exported from another project ({manifest.project_name!r}, id "
            f"{manifest.project_uuid}); import it into that project"
        )
    if manifest.rater not in {r.code for r in project.raters(include_inactive=True)}:
        raise InputError(f"{path} is for rater {manifest.rater!r}, who is not in this project")
    if digest != manifest.content_sha256:
        raise InputError(
            f"{path} has been tampered with: its content does not match its hash "
            "(sessions, scales, codings or manifest were changed outside the app); "
            "ask the rater for the file the app wrote"
        )
    _validate(data, path)
    with store.package_transaction(project, manifest.package_id) as tx:
        if tx is None:
            raise InputError(
                f"{path}: this project has no record of exporting package "
                f"{manifest.package_id}; import it into the project it came from"
            )
        if tx.rater != manifest.rater or tx.content_sha256 != digest:
            raise InputError(
                f"{path} has been tampered with: it does not match package "
                f"{manifest.package_id} as this project exported it"
            )
        state = tx.state
        if set(state["codings"]) != set(data.codings):
            raise InputError(f"{path} has been tampered with: its codings were changed")
        before = json.dumps(state, sort_keys=True)
        conflicts: list[dict[str, Any]] = []
        for pkg_id in sorted(state["codings"], key=int):
            _merge_coding(
                tx,
                state["codings"][pkg_id],
                data.codings[pkg_id],
                conflicts,
                histories.get(int(pkg_id), []),
            )
        state["conflicts"] = conflicts
        applied = dict(tx.applied)
        changed = sum(applied.values()) > 0 or json.dumps(state, sort_keys=True) != before
        if changed:
            tx.save_state(imported=True)
            tx.log(
                actor,
                "import",
                manifest.package_id,
                new={"rater": manifest.rater, "applied": applied, "conflicts": len(conflicts)},
            )
        # else: nothing was touched (the same package again), so nothing is written.
    warnings: tuple[str, ...] = ()
    if legacy_wal and not sum(applied.values()):
        # Undetectable for sure (see the module docstring), so a warning, not a refusal.
        warnings = (
            f"{path} was saved by an older Session Coder that kept recent changes in a "
            f"separate {Path(path).name}-wal file; if the rater coded more than this "
            "shows, ask them to open the package in the current version, close it, and "
            "send the .scpkg again",
        )
    report("done", 1.0)
    return ImportReport(
        manifest.package_id,
        manifest.rater,
        applied,
        tuple(_conflict(manifest.package_id, manifest.rater, c) for c in conflicts),
        changed,
        warnings,
    )


def _merge_coding(
    tx: PackageTx,
    entry: dict[str, Any],
    pkg: dict[str, Any],
    conflicts: list[dict[str, Any]],
    pkg_history: list[HistoryEntry],
) -> None:
    coding_id = int(entry["coding_id"])
    coding = tx.coding(coding_id)
    head = {"coding_id": entry["coding_id"], "session": entry["session"], "scale": entry["scale"]}

    def conflict(what: str, key: str, base: Any, project: Any, package: Any, **extra: Any) -> None:
        # The rater's own history of the unit, from the package: the file is not at
        # hand when the lead resolves the conflict later.
        pkg_key = str(extra.get("package_key", key))
        history = _unit_history(pkg_history, what, pkg_key)
        conflicts.append(
            {
                **head,
                "id": f"{entry['coding_id']}:{what}:{key}",
                "what": what,
                "key": key,
                "base": base,
                "project": project,
                "package": package,
                "package_history": [_history_dict(h) for h in history],
                **extra,
            }
        )

    fingerprint = hashlib.sha256(
        json.dumps(
            {k: pkg[k] for k in ("state", "ratings", "notes", "spans")}, sort_keys=True
        ).encode()
    ).hexdigest()
    if entry.get("discarded") == fingerprint:
        return  # the lead already chose the project's side for exactly this content
    base = entry["base"]
    changed_in_package = (
        pkg["state"] != base["state"]
        or pkg["ratings"] != base["ratings"]
        or any(pkg["notes"].get(k) != v["base"] for k, v in entry["notes"].items())
        or any(k not in entry["notes"] for k, v in pkg["notes"].items() if not v["deleted"])
        or any(pkg["spans"].get(k) != v["base"] for k, v in entry["spans"].items())
        or any(k not in entry["spans"] for k, v in pkg["spans"].items() if not v["deleted"])
    )
    if coding is None or coding["rater"] != tx.rater:
        if changed_in_package:
            conflict(
                "coding",
                "coding",
                "assigned",
                "no longer assigned to the rater",
                "coded",
                fingerprint=fingerprint,
            )
        return
    if not is_editable(base["state"]["state"], entry["reopen_allowed"]) and changed_in_package:
        # RaterView cannot change a submitted coding; only editing the file can.
        conflict(
            "locked",
            "coding",
            base["state"],
            coding["state"],
            pkg["state"],
            fingerprint=fingerprint,
        )
        return
    # Scores first, then notes and spans, then the state (a submit comes last).
    project_ratings = tx.ratings(coding_id)
    for item_id in sorted(set(pkg["ratings"]) | set(base["ratings"])):
        b = base["ratings"].get(item_id, [None, None])
        p = pkg["ratings"].get(item_id, [None, None])
        c = project_ratings.get(item_id, [None, None])
        verdict = _three_way(b, p, c)
        if verdict == "apply":
            tx.set_rating(coding_id, item_id, p)
        if verdict in ("apply", "same"):
            _set_base(base["ratings"], item_id, p)
        elif verdict == "conflict":
            conflict("rating", item_id, _plain(b), _plain(c), _plain(p), unit=p)
    for kind, units, current, apply in (
        ("note", "notes", tx.note, tx.put_note),
        ("span", "spans", tx.span, tx.put_span),
    ):
        mapped = entry[units]
        for pkg_key in sorted(set(pkg[units]) | set(mapped), key=int):
            p = pkg[units].get(pkg_key)
            if pkg_key not in mapped:
                if p is not None and not p["deleted"]:
                    new_id = apply(coding_id, None, p)
                    mapped[pkg_key] = {"id": new_id, "base": p}
                continue
            b = mapped[pkg_key]["base"]
            if p is None:  # a row gone from the file counts as deleted
                p = {**b, "deleted": True}
            now = current(mapped[pkg_key]["id"])
            verdict = _three_way(b, p, now)
            if verdict == "apply" and now is not None:
                apply(coding_id, mapped[pkg_key]["id"], p)
            if verdict in ("apply", "same"):
                mapped[pkg_key]["base"] = p
            elif verdict == "conflict":
                conflict(kind, str(mapped[pkg_key]["id"]), b, now, p, package_key=pkg_key)
    verdict = _three_way(base["state"], pkg["state"], coding["state"])
    if verdict == "apply":
        tx.set_state(coding_id, pkg["state"], pkg)
    if verdict in ("apply", "same"):
        base["state"] = pkg["state"]
    elif verdict == "conflict":
        conflict(
            "state",
            "state",
            base["state"],
            coding["state"],
            pkg["state"],
            times={"started_at": pkg["started_at"], "submitted_at": pkg["submitted_at"]},
        )
    if pkg["playhead_ms"] != base["playhead_ms"] and coding["playhead_ms"] == base["playhead_ms"]:
        tx.set_playhead(coding_id, pkg["playhead_ms"])  # where the rater stopped (no history)
        base["playhead_ms"] = pkg["playhead_ms"]


def _histories_by_coding(package: Project) -> dict[int, list[HistoryEntry]]:
    """The package's own history (the rater's offline changes), by package coding id."""
    by_coding: dict[int, list[HistoryEntry]] = {}
    for h in package.history():
        if h.coding_id is not None:
            by_coding.setdefault(h.coding_id, []).append(h)
    return by_coding


def _unit_history(history: list[HistoryEntry], what: str, key: str) -> list[HistoryEntry]:
    """The entries of one coding's history that changed one unit of a conflict.

    The one rule for both sides of a conflict: ``key`` is the item id of a rating,
    and the note's or span's id in the file the history comes from.
    """
    if what == "rating":
        return [h for h in history if h.entity == "rating" and h.field == key]
    if what == "state":
        return [h for h in history if h.entity == "coding" and h.field == "state"]
    if what in ("note", "span"):
        return [h for h in history if h.entity == what and h.entity_id == key]
    return list(history)  # coding, locked: the whole coding


def _history_dict(h: HistoryEntry) -> dict[str, Any]:
    return {
        "at": h.at.isoformat(),
        "actor": h.actor,
        "action": h.action,
        "entity": h.entity,
        "entity_id": h.entity_id,
        "field": h.field,
        "old": h.old,
        "new": h.new,
    }


def _history_entry(d: Mapping[str, Any], coding_id: int) -> HistoryEntry:
    return HistoryEntry(
        datetime.fromisoformat(d["at"]),
        d["actor"],
        d["action"],
        d["entity"],
        d["entity_id"],
        coding_id,
        d["field"],
        d["old"],
        d["new"],
    )


def _plain(unit: list[Any]) -> Any:
    """A score unit ``[value, text]`` as the lead reads it: the text, the number or None."""
    return unit[1] if unit[1] is not None else unit[0]


def _set_base(table: dict[str, Any], key: str, value: list[Any]) -> None:
    if value == [None, None]:
        table.pop(key, None)
    else:
        table[key] = value


def _conflict(package_id: str, rater: str, c: Mapping[str, Any]) -> Conflict:
    return Conflict(
        id=c["id"],
        package_id=package_id,
        rater=rater,
        coding_id=int(c["coding_id"]),
        session_key=c["session"],
        scale_id=c["scale"],
        what=c["what"],
        key=c["key"],
        base=c["base"],
        project=c["project"],
        package=c["package"],
    )


# --------------------------------------------------------------------------- lead's view


def list_packages(project: Project) -> list[PackageRecord]:
    """Every package exported from this project, oldest first."""
    return [
        PackageRecord(
            rec.id,
            rec.rater,
            rec.created_at,
            rec.created_by,
            rec.with_audio,
            len(rec.state.get("codings", {})),
            rec.imported_at,
            rec.import_count,
            len(rec.state.get("conflicts", [])),
        )
        for rec in store.package_records(project)
    ]


def package_conflicts(project: Project, package_id: str | None = None) -> list[Conflict]:
    """The conflicts the lead still has to resolve (of one package, or all)."""
    records = store.package_records(project, package_id)
    if package_id is not None and not records:
        raise InputError(f"no package {package_id} was exported from this project")
    return [
        _conflict(rec.id, rec.rater, c) for rec in records for c in rec.state.get("conflicts", [])
    ]


@dataclass(frozen=True)
class ConflictSides:
    """One open conflict with the history of each side, for the lead to choose.

    Attributes:
        conflict: The conflict (its ``project`` and ``package`` values).
        project_history: The project's history of the unit (oldest first).
        package_history: The rater's history of the unit inside the package, as read at
            the last import (oldest first); None for a conflict found by an older
            version, which did not keep it.
    """

    conflict: Conflict
    project_history: tuple[HistoryEntry, ...]
    package_history: tuple[HistoryEntry, ...] | None


def conflict_sides(project: Project, package_id: str, conflict_id: str) -> ConflictSides:
    """An open conflict with both values and each one's history.

    Raises:
        InputError: an unknown package or conflict.
    """
    records = store.package_records(project, package_id)
    if not records:
        raise InputError(f"no package {package_id} was exported from this project")
    rec = records[0]
    found = next((c for c in rec.state.get("conflicts", []) if c["id"] == conflict_id), None)
    if found is None:
        raise InputError(f"package {package_id} has no open conflict {conflict_id}")
    conflict = _conflict(rec.id, rec.rater, found)
    ours = _unit_history(project.history(coding_id=conflict.coding_id), conflict.what, conflict.key)
    theirs = found.get("package_history")
    return ConflictSides(
        conflict,
        tuple(ours),
        None if theirs is None else tuple(_history_entry(h, conflict.coding_id) for h in theirs),
    )


def unit_text(what: str, value: Any) -> str:
    """A conflict's value as the lead reads it: a score, a state, a note or a span.

    Args:
        what: The conflict's ``what`` (``rating``, ``state``, ``note``, ``span``, ...).
        value: Its ``project`` or ``package`` value (or ``base``).
    """
    if value is None:
        return "(none)"
    if not isinstance(value, Mapping):
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if value.get("deleted"):
        return "(deleted)"
    if what == "note":
        return f"at {format_clock(int(value['position_ms']))}: {value['text']}"
    if what == "span":
        start, end = format_clock(int(value["start_ms"])), format_clock(int(value["end_ms"]))
        return f"{value['item_id']} {start}–{end}"
    if "state" in value:
        reason = value.get("uncodable_reason")
        if not reason:
            return str(value["state"])
        extra = value.get("uncodable_text")
        return f"{value['state']} ({reason}{': ' + extra if extra else ''})"
    return json.dumps(dict(value), sort_keys=True, default=str)


def resolve_conflict(
    project: Project, package_id: str, conflict_id: str, take: Take, *, actor: str = LEAD
) -> OpChanges:
    """Settle one conflict: keep the project's value, or take the package's.

    Taking the package's value writes it with the rater as the actor (it is the
    rater's change); either way the lead's decision is in the history and a later
    import of the same package no longer reports the conflict.

    Returns:
        What changed: the package's open conflicts, and the coding when the package's
        value was taken.

    Raises:
        InputError: an unknown package or conflict, or ``take`` not package/project.
    """
    if take not in ("package", "project"):
        raise InputError(f"take must be 'package' or 'project', not {take!r}")
    with store.package_transaction(project, package_id) as tx:
        if tx is None:
            raise InputError(f"no package {package_id} was exported from this project")
        state = tx.state
        found = next((c for c in state["conflicts"] if c["id"] == conflict_id), None)
        if found is None:
            raise InputError(f"package {package_id} has no open conflict {conflict_id}")
        entry = next(e for e in state["codings"].values() if e["coding_id"] == found["coding_id"])
        what = found["what"]
        if take == "package":
            if not _conflict(package_id, tx.rater, found).can_take_package:
                raise InputError(
                    "this change cannot be taken from the package: "
                    + (
                        "the coding is no longer the rater's"
                        if what == "coding"
                        else "the coding was submitted when the package was made; reopen "
                        "it and ask the rater to enter the change"
                    )
                )
            coding_id = int(found["coding_id"])
            assert tx.coding(coding_id) is not None
            if what == "rating":
                tx.set_rating(coding_id, found["key"], found["unit"])
            elif what == "state":
                tx.set_state(coding_id, found["package"], found.get("times", {}))
            elif what == "note":
                tx.put_note(coding_id, int(found["key"]), found["package"])
            elif what == "span":
                tx.put_span(coding_id, int(found["key"]), found["package"])
        if what == "rating":
            _set_base(entry["base"]["ratings"], found["key"], found["unit"])
        elif what == "state":
            entry["base"]["state"] = found["package"]
        elif what in ("note", "span"):
            entry[what + "s"][found["package_key"]]["base"] = found["package"]
        else:  # coding, locked: the package's version of this coding is set aside
            entry["discarded"] = found["fingerprint"]
        state["conflicts"] = [c for c in state["conflicts"] if c["id"] != conflict_id]
        tx.save_state(imported=False)
        tx.log(
            actor,
            "resolve",
            package_id,
            coding_id=int(found["coding_id"]),
            field=conflict_id,
            old={"project": found["project"], "package": found["package"]},
            new={"take": take},
        )
    return OpChanges(codings=take == "package", packages=True)
