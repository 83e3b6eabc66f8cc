"""``session-coder``: every command, and the app when no command is given.

The launcher is the top layer (``launcher > ui > exports > coder``, an import-linter
contract in ``pyproject.toml``) and the only module that imports both ``coder`` and
``ui``. It takes the core's parser (:func:`coder.cli.build_parser`, every command of
``coder``) and adds the commands that need a layer above it: ``gui`` and ``demo`` (the
app, in ``ui``) and ``export`` (the writers, in ``exports``). The app and the writers
load only when their command runs, so the other commands start without Qt.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from coder import cli
from coder.cli_common import Commands, add_final_arguments, open_project, print_json

__all__ = ["build_parser", "main"]

DESCRIPTION = (
    "Code recorded therapy sessions on rating scales. With no command, the app opens "
    "(the last project, or a start screen)."
)


def open_app(project: Path | None) -> int:
    """Hand the process over to the app; returns its exit code.

    Args:
        project: a project to open, or None for the last one used (or the start screen).
    """
    from ui.app import run_gui

    return run_gui(project)


def cmd_gui(args: argparse.Namespace) -> int:
    return open_app(Path(args.project) if args.project else None)


def cmd_demo(args: argparse.Namespace) -> int:
    from coder.demo import build_demo, default_demo_dir

    folder = Path(args.dir) if args.dir else default_demo_dir()
    project_path = build_demo(folder, progress=None if args.json else print)
    if args.json:
        print_json({"project": str(project_path)})
    else:
        print(f"demo project ready: {project_path}")
    if args.no_gui:
        return 0
    return open_app(project_path)


def cmd_export(args: argparse.Namespace) -> int:
    from coder.export_data import build_export_bundle
    from exports import export_target, write_export

    # The text as given: a trailing "/" asks for a folder (csv), which Path() drops.
    out = export_target(args.format, args.out)  # checked before the work, not after
    with open_project(args.project) as project:
        bundle = build_export_bundle(
            project,
            scale_ids=args.scale or None,
            final=args.final,
            winsorize_iqr=args.winsorize_iqr,
            include_audio_paths=args.include_audio_paths,
            include_metadata=args.include_metadata,
            layout=args.layout,
            descriptives_by=args.descriptives_by,
        )
    for path in write_export(bundle, args.format, out):
        print(f"wrote {path}")
    return 0


def add_commands(sub: Commands) -> None:
    """Add gui, demo and export to the main parser."""
    p = sub.add_parser("gui", help="open the app (optionally on a project)")
    p.add_argument("project", nargs="?", help="project file")
    p.set_defaults(func=cmd_gui)

    p = sub.add_parser("demo", help="build the demo project and open it")
    p.add_argument("dir", nargs="?", help="folder for the demo (default: a per-user folder)")
    p.add_argument("--no-gui", action="store_true", help="only build it")
    p.add_argument("--json", action="store_true", help="print the project path as JSON")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("export", help="export scores and reliability (xlsx, csv, sav)")
    p.add_argument("project")
    p.add_argument("--format", required=True, choices=("xlsx", "csv", "sav"))
    p.add_argument(
        "--out",
        required=True,
        metavar="PATH",
        help="the file (its suffix is added when missing); csv: a folder with a trailing /",
    )
    p.add_argument("--scale", action="append", metavar="ID", help="only this scale (repeatable)")
    add_final_arguments(p)
    p.add_argument(
        "--layout",
        default="session",
        choices=("session", "patient"),
        help="patient: add the final scores one row per patient, a column per session number",
    )
    p.add_argument(
        "--descriptives-by",
        default="scale",
        choices=("scale", "session_number"),
        help="session_number: add descriptives and Tukey's fences per session number",
    )
    p.add_argument("--include-audio-paths", action="store_true")
    p.add_argument(
        "--include-metadata",
        action="store_true",
        help="add the manifest's extra (free-text) columns",
    )
    p.set_defaults(func=cmd_export)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every ``session-coder`` command: the core's and the launcher's."""
    return cli.build_parser(add_commands, description=DESCRIPTION)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``session-coder`` and ``python -m launcher``; returns the exit code.

    Args:
        argv: the arguments after the program name (default: the process's own).
    """
    return cli.run(build_parser(), argv, no_command=lambda: open_app(None))
