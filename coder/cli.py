"""The ``session-coder`` command line of the core: the lab lead's scripting door (SPEC
section 9).

:func:`build_parser` gives every command of ``coder`` (this module's, plus
``cli_analysis`` and ``cli_lab``); the launcher outside ``coder`` adds the ones that need
the app or the exporters (``gui``, ``demo``, ``export``) and opens the app when no
command is given. ``python -m coder`` runs :func:`main`: the core's commands only.

Every command prints one clear line on error and exits non-zero (2 for invalid
input); ``--json`` output is a single JSON document on stdout.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from coder import cli_analysis, cli_fields, cli_lab, cli_scales
from coder.cli_common import (
    PROG,
    AddCommands,
    Commands,
    Parser,
    add_group,
    csv_list,
    open_project,
    print_json,
)
from coder.errors import CoderError, InputError

log = logging.getLogger(__name__)


def _progress_printer(enabled: bool) -> Callable[[Any], None] | None:
    """A one-line, self-overwriting progress display on stderr (for a terminal)."""
    if not enabled or not sys.stderr.isatty():
        return None

    def show(p: Any) -> None:
        left = f", about {p.seconds_left:.0f} s left" if p.seconds_left is not None else ""
        mb = f"{p.bytes_done / 1e6:.0f}/{p.bytes_total / 1e6:.0f} MB"
        sys.stderr.write(f"\r  {p.files_done}/{p.files_total} files, {mb}{left}   ")
        sys.stderr.flush()
        if p.files_done == p.files_total:
            sys.stderr.write("\n")

    return show


# --------------------------------------------------------------------------- commands


def cmd_init(args: argparse.Namespace) -> int:
    from coder.store.project import Project

    project = Project.create(args.project, db_url=args.db)
    where = project.store.location.display()
    project.close()
    print(f"created project {args.project}" + (f" on {where}" if args.db else ""))
    return 0


def cmd_scales_check(args: argparse.Namespace) -> int:
    from coder.scales import check_scale_files

    problems = check_scale_files(args.files)
    if args.json:
        print_json({"valid": not problems, "problems": [p.__dict__ for p in problems]})
    else:
        for problem in problems:
            print(problem)
        if not problems:
            print(f"{len(args.files)} scale file(s) valid")
    return 2 if problems else 0


def cmd_scales_add(args: argparse.Namespace) -> int:
    from coder.scales import BUILTIN_SCALE_IDS, load_builtin_scale, load_scale

    # Every file is checked first and every problem reported; then all scales are added
    # in one transaction, so a bad file (or a clash) leaves the project as it was.
    scales = []
    problems: list[str] = []
    for ref in args.scales:
        is_file = Path(ref).suffix.lower() in (".yaml", ".yml") or Path(ref).exists()
        try:
            if ref in BUILTIN_SCALE_IDS and not is_file:
                scales.append(load_builtin_scale(ref))
            elif is_file:
                scales.append(load_scale(ref))
            else:
                raise InputError(
                    f"{ref!r} is neither a scale file nor a built-in id "
                    f"({', '.join(BUILTIN_SCALE_IDS)})"
                )
        except InputError as exc:
            problems.append(str(exc).strip())
    if len(problems) == 1 and "\n" not in problems[0]:
        raise InputError(f"{problems[0]}; no scale was added")
    if problems:  # several (a scale file lists each of its problems on a line)
        raise InputError("\n".join(problems) + "\nno scale was added")
    with open_project(args.project) as project:
        added = project.add_scales(scales)
    for scale, was_added in zip(scales, added, strict=True):
        print(
            f"{'added' if was_added else 'already in the project:'} {scale.id} "
            f"(version {scale.version})"
        )
        warning = scale.placeholder_warning()
        if warning:
            print(f"warning: {warning}")
    return 0


def cmd_scales_list(args: argparse.Namespace) -> int:
    with open_project(args.project) as project:
        scales = project.scales()
    if args.json:
        print_json(
            [
                {"id": s.id, "name": s.name, "version": s.version, "items": [i.id for i in s.items]}
                for s in scales
            ]
        )
    else:
        for s in scales:
            print(f"{s.id}\t{s.version}\t{s.name}")
    return 0


def cmd_raters_add(args: argparse.Namespace) -> int:
    with open_project(args.project) as project:
        added = project.add_raters(args.codes)
    skipped = [c for c in args.codes if c not in added]
    print(
        f"added {len(added)} rater(s)"
        + (f"; already present: {', '.join(skipped)}" if skipped else "")
    )
    return 0


def cmd_raters_list(args: argparse.Namespace) -> int:
    with open_project(args.project) as project:
        raters = project.raters(include_inactive=True)
        pools = project.pools()
    if args.json:
        print_json(
            {"raters": [{"code": r.code, "active": r.active} for r in raters], "pools": pools}
        )
    else:
        for r in raters:
            print(r.code + ("" if r.active else "\t(inactive)"))
    return 0


def _print_pool(found: Any) -> None:
    print(
        f"{found.name}\t{', '.join(found.raters)}" + ("\t(separate team)" if found.separate else "")
    )


def cmd_pool_add(args: argparse.Namespace) -> int:
    from coder.store.pools import add_pool

    with open_project(args.project) as project:
        found = add_pool(project, args.name, csv_list(args.raters), separate=args.separate).pool
    print(f"added pool {found.name}: {', '.join(found.raters)}" + _separate_text(found.separate))
    return 0


def _separate_text(separate: bool) -> str:
    return (
        " (a separate team: its raters never join another team's pool or plan)" if separate else ""
    )


def cmd_pool_edit(args: argparse.Namespace) -> int:
    from coder.store.pools import edit_pool

    with open_project(args.project) as project:
        found = edit_pool(
            project,
            args.name,
            raters=None if args.raters is None else csv_list(args.raters),
            add=csv_list(args.add or ""),
            remove=csv_list(args.remove or ""),
            separate=args.separate,
        ).pool
    print(f"pool {found.name}: {', '.join(found.raters)}" + _separate_text(found.separate))
    return 0


def cmd_pool_list(args: argparse.Namespace) -> int:
    from coder.store.pools import list_pools

    with open_project(args.project) as project:
        pools = list_pools(project)
    if args.json:
        print_json({"pools": [p.as_dict() for p in pools]})
        return 0
    if not pools:
        print("no rater pool yet; create one with session-coder pool add")
    for found in pools:
        _print_pool(found)
    return 0


def cmd_pool_remove(args: argparse.Namespace) -> int:
    from coder.store.pools import remove_pool

    with open_project(args.project) as project:
        found = remove_pool(project, args.name).pool
    print(f"removed pool {found.name} (its raters and their codings stay)")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from coder.importer import import_manifest, parse_phase_rule

    rule = parse_phase_rule(args.phase_rule) if args.phase_rule else None
    with open_project(args.project) as project:
        report = import_manifest(
            project,
            args.manifest,
            phase_rule=rule,
            progress=_progress_printer(not args.json),
            allow_audio_change=args.allow_audio_change,
        )
    if args.json:
        print_json(report.as_dict())
    else:
        print(
            f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged "
            f"({report.hashed} file(s) hashed)"
        )
        if report.metadata_columns:
            print("kept as metadata (never shown to raters): " + ", ".join(report.metadata_columns))
        for problem in report.problems:
            print(f"{args.manifest}:{problem}")
        for dup in report.duplicate_recordings:
            print(f"shared recording (check the manifest): {', '.join(dup.session_ids)}")
        if report.cancelled:
            print("cancelled: nothing was imported")
    # A refused row is invalid input (exit 2), like any other; the good rows are in.
    return 2 if report.refused else 0


def cmd_relink(args: argparse.Namespace) -> int:
    from coder.importer import relink_audio

    with open_project(args.project) as project:
        report = relink_audio(project, args.folder)
    if args.json:
        print_json(report.as_dict())
    else:
        for sid, path in report.relinked:
            print(f"{sid}: re-linked to {path}")
        if report.still_missing:
            print("still missing: " + ", ".join(report.still_missing))
        if not report.relinked and not report.still_missing:
            print("no audio file is missing")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from coder.attrition import no_audio_reason, project_attrition
    from coder.session_window import window_shortfalls
    from coder.store.attrition import window_exits

    with open_project(args.project) as project:
        status = project.status()
        attrition = project_attrition(project)
        sessions = project.sessions()
        short = window_shortfalls(sessions, project.scales())
        exits = window_exits(project, [s.id for s in project.scales()])
        no_audio: dict[str, int] = {}
        for session in sessions:
            reason = no_audio_reason(session.audio_status, session.audio_reason)
            if reason is not None:
                no_audio[reason] = no_audio.get(reason, 0) + 1
    if args.json:
        print_json(
            {
                **status.as_dict(),
                "sessions_without_audio": dict(sorted(no_audio.items())),
                "attrition": attrition.as_dict(),
                "short_windows": [x.as_dict() for x in short],
                "window_exits": {
                    scale_id: {"codings": len(by), "exits": sum(by.values())}
                    for scale_id, by in exits.items()
                },
            }
        )
        return 0
    print(
        f"project {status.project}: {status.sessions} sessions, {status.raters} "
        f"raters, scales: {', '.join(status.scales) or 'none'}"
    )
    for audio_status, count in sorted(status.sessions_by_audio_status.items()):
        print(f"  audio {audio_status}: {count}")
    for reason, count in sorted(no_audio.items()):
        print(f"  without audio, {reason}: {count}")
    for dup in status.duplicate_recordings:
        print(f"  shared recording (check the manifest): {', '.join(dup.session_ids)}")
    header = "not_started in_progress submitted uncodable"
    print(f"  {'':<20}{header}")
    for label, table in (("scale", status.by_scale), ("rater", status.by_rater)):
        for key, states in sorted(table.items()):
            counts = "".join(f"{states[s]:>{len(s) + 1}}" for s in header.split())
            print(f"  {label} {key:<14}{counts}")
    for scale in attrition.scales:
        print(f"  attrition {scale.scale_id}: {scale.line()}")
    for shortfall in short:
        print(f"  short recording, {shortfall.line()}")
    for scale_id, by in exits.items():
        print(
            f"  left the coding window, {scale_id}: {len(by)} coding(s), "
            f"{sum(by.values())} time(s) (see the history)"
        )
    return 0


# --------------------------------------------------------------------------- parser


def add_commands(sub: Commands) -> None:
    """Add init, scales, raters, pool, import, relink and status to the main parser."""
    p = sub.add_parser("init", help="create a project (a file; --db for a PostgreSQL lab server)")
    p.add_argument("project", help="project file path to create")
    p.add_argument("--db", metavar="URL", help="postgresql://USER:PASSWORD@HOST:PORT/DB")
    p.set_defaults(func=cmd_init)

    ssub = add_group(sub, "scales", "check scale files, add scales to a project")
    p = ssub.add_parser("check", help="validate scale files (exit 0 valid, 2 otherwise)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_scales_check)
    p = ssub.add_parser("add", help="add scale files or built-in ids to a project")
    p.add_argument("project")
    p.add_argument(
        "scales",
        nargs="+",
        metavar="FILE_OR_ID",
        help="a YAML file, or hw_adherence, thabs, resistance, ghes, sthar",
    )
    p.set_defaults(func=cmd_scales_add)
    p = ssub.add_parser("list", help="list a project's scales")
    p.add_argument("project")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_scales_list)
    cli_scales.add_commands(ssub)

    rsub = add_group(sub, "raters", "add and list rater codes")
    p = rsub.add_parser("add", help="add rater codes")
    p.add_argument("project")
    p.add_argument("codes", nargs="+", metavar="CODE")
    p.set_defaults(func=cmd_raters_add)
    p = rsub.add_parser("list", help="list rater codes")
    p.add_argument("project")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_raters_list)

    psub = add_group(sub, "pool", "named rater pools (coder teams): add, edit, list, remove")
    p = psub.add_parser("add", help="create a named rater pool")
    p.add_argument("project")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--raters", required=True, metavar="R1,R2,...")
    p.add_argument(
        "--separate",
        action="store_true",
        help="a coder team kept apart: its raters may be in no other separate pool, and "
        "no plan mixes them with another team's",
    )
    p.set_defaults(func=cmd_pool_add)
    p = psub.add_parser("edit", help="change a pool's raters or its separate mark")
    p.add_argument("project")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--raters", metavar="R1,R2,...", help="replace the pool's raters")
    p.add_argument("--add", metavar="R1,R2,...", help="add raters")
    p.add_argument("--remove", metavar="R1,R2,...", help="take raters out")
    team = p.add_mutually_exclusive_group()
    team.add_argument("--separate", dest="separate", action="store_true", default=None)
    team.add_argument(
        "--not-separate", dest="separate", action="store_false", help="no longer a separate team"
    )
    p.set_defaults(func=cmd_pool_edit)
    p = psub.add_parser("list", help="list the rater pools")
    p.add_argument("project")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_pool_list)
    p = psub.add_parser("remove", help="delete a rater pool (raters and codings stay)")
    p.add_argument("project")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_pool_remove)

    p = sub.add_parser("import", help="import sessions and audio from a CSV or XLSX manifest")
    p.add_argument("project")
    p.add_argument("manifest")
    p.add_argument(
        "--phase-rule",
        metavar="RULE",
        help="derive phase from session number, e.g. '1-4=I,5-9=II,10-=III'",
    )
    p.add_argument(
        "--allow-audio-change",
        action="store_true",
        help="let the manifest change the recording of sessions that have coded work "
        "(kept in the history)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("relink", help="find moved audio files in a folder by their content")
    p.add_argument("project")
    p.add_argument("folder")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_relink)

    p = sub.add_parser("status", help="counts of codings by scale, rater and state")
    p.add_argument("project")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)


CORE_DESCRIPTION = (
    "Code recorded therapy sessions on rating scales. These are the core's commands; "
    "session-coder also has gui, demo and export, and opens the app with no command."
)


def build_parser(*more: AddCommands, description: str = CORE_DESCRIPTION) -> Parser:
    """The parser of every command of ``coder``, and of the ones ``more`` adds.

    Each module of the command line adds its own commands here, in the same order
    every time: nothing depends on which modules happen to be imported already.

    Args:
        *more: functions that add commands from outside ``coder`` (the launcher's);
            their commands come first in ``--help``.
        description: the text at the top of ``--help``.
    """
    parser = Parser(prog=PROG, description=description)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for add in (
        *more,
        add_commands,
        cli_analysis.add_commands,
        cli_lab.add_commands,
        cli_fields.add_commands,
    ):
        add(sub)
    return parser


def run(
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None = None,
    *,
    no_command: Callable[[], int] | None = None,
) -> int:
    """Parse ``argv`` and run its command; returns the exit code.

    Every error ends as one line on stderr, never a traceback: a :class:`CoderError`
    with its own exit code (2 for invalid input), a database error in words, anything
    else as an internal error with its traceback saved to a per-user crash log.

    Args:
        parser: from :func:`build_parser`.
        argv: the arguments (default: the process's own).
        no_command: what runs when no command is given (the launcher opens the app);
            None makes that a usage error.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parser.parse_args(argv)
    if sys.stdin.isatty():
        from coder.store import credentials

        credentials.set_prompt(credentials.terminal_prompt)
    if args.command is None:
        if no_command is None:
            parser.error("give a COMMAND (session-coder with no command opens the app)")
        return no_command()
    try:
        code = int(args.func(args))
        # Flushed here, not at exit, so a closed pipe is caught below like any other.
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _stdout_closed()
    except CoderError as exc:
        message = str(exc).strip()
        if "\n" in message:  # several problems (a scale file): one per line
            sys.stderr.write(message + "\n")
        else:
            sys.stderr.write(f"{PROG}: error: {message}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: cancelled\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback
        fault = _database_fault(exc, args)
        if fault is not None:  # a driver error that escaped the store's translation
            sys.stderr.write(f"{PROG}: error: {fault}\n")
            return fault.exit_code
        try:
            where = f"details in {_write_crash_report()}"
        except Exception as log_error:  # noqa: BLE001 - the log is optional, the line is not
            reason = getattr(log_error, "strerror", None) or type(log_error).__name__
            where = f"no crash log could be written ({reason})"
        sys.stderr.write(f"{PROG}: internal error: {type(exc).__name__}; this is a bug, {where}\n")
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m coder``: every command of the core (not gui, demo or export)."""
    return run(build_parser(), argv)


def _stdout_closed() -> int:
    """Leave quietly when the reader of stdout went away (``session-coder ... | head``).

    As the Python documentation recommends (signal module, "Note on SIGPIPE"): point
    stdout at devnull so the interpreter's final flush cannot raise again.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout has no file descriptor (captured)
        pass
    return 1


def _database_fault(exc: BaseException, args: argparse.Namespace) -> CoderError | None:
    from coder.store.faults import DRIVER_ERRORS, translate_db_error

    if not isinstance(exc, DRIVER_ERRORS):
        return None
    from coder.store.credentials import mask_passwords

    project = getattr(args, "project", None)
    path = Path(project) if project and not str(project).startswith("postgresql") else None
    return translate_db_error(exc, mask_passwords(str(project or "the project")), path)


def _write_crash_report() -> Path:
    """Save the traceback to a per-user log file (it names code, not clinical content).

    Raises:
        OSError: the log folder or file cannot be written.
    """
    from platformdirs import user_log_dir

    folder = Path(user_log_dir("session-coder", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "crash.log"
    with path.open("a", encoding="utf-8") as fh:
        fh.write(traceback.format_exc() + "\n")
    return path


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
