"""CLI commands of the fields the lab prepares for raters (``fields show|hide|set|list``).

The rules are in :mod:`coder.prepared_fields`; each change is recorded in the history.
No command prints a field's text (confidential clinical data): ``fields list`` gives
names and counts only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from coder.cli_common import Commands, add_group, open_project, print_json
from coder.errors import InputError


def _set_shown(project_path: str, scale_id: str, fields: list[str] | None, hide: list[str]) -> int:
    """Show ``fields`` (or, when None, the shown ones but ``hide``; all when empty)."""
    from coder.prepared_fields import overview, show_fields

    with open_project(project_path) as project:
        if fields is None:
            now = overview(project).shown.get(scale_id, ())
            fields = [f for f in now if hide and f not in hide]
        changed = show_fields(project, scale_id, fields)
    if not fields:
        print(f"raters of {scale_id} see no prepared field")
    else:
        verb = "see, read-only" if changed else "already saw"
        print(f"raters of {scale_id} {verb}: {', '.join(fields)}")
    return 0


def cmd_fields_show(args: argparse.Namespace) -> int:
    return _set_shown(args.project, args.scale, list(args.fields), [])


def cmd_fields_hide(args: argparse.Namespace) -> int:
    return _set_shown(args.project, args.scale, None, list(args.fields))


def cmd_fields_set(args: argparse.Namespace) -> int:
    from coder.prepared_fields import set_value

    if (args.text is None) == (args.file is None):
        raise InputError("give the value with --text TEXT or --file PATH (one of them)")
    if args.file is not None:
        try:
            value = Path(args.file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {args.file}: {exc.__class__.__name__}") from None
    else:
        value = args.text
    with open_project(args.project) as project:
        changed = set_value(project, args.session, args.field, value)
    what = "removed" if not value else "entered"
    print(f"{args.field} of {args.session}: {what}" if changed else "unchanged: the same value")
    return 0


def cmd_fields_list(args: argparse.Namespace) -> int:
    from coder.prepared_fields import overview

    with open_project(args.project) as project:
        seen = overview(project)
    if args.json:
        print_json(seen.as_dict())
        return 0
    out = sys.stdout
    for scale_id, fields in seen.shown.items():
        out.write(f"{scale_id}: raters see {', '.join(fields)}\n")
    if not seen.shown:
        out.write("no scale shows prepared fields to its raters\n")
    for title, counts in (("manifest columns", seen.manifest), ("entered", seen.entered)):
        listed = ", ".join(f"{k} ({n} sessions)" for k, n in counts.items()) or "none"
        out.write(f"{title}: {listed}\n")
    return 0


def add_commands(sub: Commands) -> None:
    """Add ``fields`` and its actions to the main parser."""
    fsub = add_group(sub, "fields", "information the lab prepared, shown to raters read-only")
    p = fsub.add_parser("show", help="the fields a scale's raters see (replaces the choice)")
    p.add_argument("project")
    p.add_argument("--scale", required=True, metavar="ID")
    p.add_argument("fields", nargs="+", metavar="FIELD", help="manifest column or entered field")
    p.set_defaults(func=cmd_fields_show)

    p = fsub.add_parser("hide", help="stop showing fields (every one without --field)")
    p.add_argument("project")
    p.add_argument("--scale", required=True, metavar="ID")
    p.add_argument(
        "--field", dest="fields", action="append", default=[], metavar="FIELD", help="repeatable"
    )
    p.set_defaults(func=cmd_fields_hide)

    p = fsub.add_parser("set", help="enter the lab's value of a field for one session")
    p.add_argument("project")
    p.add_argument("session", metavar="SESSION")
    p.add_argument("field", metavar="FIELD")
    p.add_argument("--text", metavar="TEXT", help='the value ("" removes it)')
    p.add_argument("--file", metavar="PATH", help="read the value from a UTF-8 text file")
    p.set_defaults(func=cmd_fields_set)

    p = fsub.add_parser("list", help="shown fields per scale, and the fields there are")
    p.add_argument("project")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_fields_list)
