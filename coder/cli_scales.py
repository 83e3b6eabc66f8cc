"""CLI commands of the lead's analysis choices per scale (``scales drop-item``,
``scales restore-item``, ``scales composites``, ``scales analysis``).

The rules are in :mod:`coder.scale_analysis`; each change is recorded in the history.
"""

from __future__ import annotations

import argparse

from coder.cli_common import Commands, open_project, print_json


def cmd_drop_item(args: argparse.Namespace) -> int:
    from coder.scale_analysis import drop_item

    with open_project(args.project) as project:
        changed = drop_item(project, args.scale, args.item, args.reason)
    if changed:
        print(
            f"dropped {args.scale}.{args.item} from the analysis (composites, reliability and "
            "exports leave it out; its scores are kept; restore it with scales restore-item)"
        )
    else:
        print(f"{args.scale}.{args.item} was already dropped from the analysis")
    return 0


def cmd_restore_item(args: argparse.Namespace) -> int:
    from coder.scale_analysis import restore_item

    with open_project(args.project) as project:
        changed = restore_item(project, args.scale, args.item)
    print(
        f"restored {args.scale}.{args.item} to the analysis"
        if changed
        else f"{args.scale}.{args.item} was not dropped"
    )
    return 0


def cmd_composites(args: argparse.Namespace) -> int:
    from coder.scale_analysis import set_composite_definition

    with open_project(args.project) as project:
        changed = set_composite_definition(project, args.scale, args.use)
    what = (
        "the newest version's definition for every coding"
        if args.use == "newest"
        else "the definition of the version each coding was coded under"
    )
    print(f"{args.scale} composites: {what}" + ("" if changed else " (unchanged)"))
    return 0


def cmd_analysis(args: argparse.Namespace) -> int:
    from coder.scale_analysis import across_session_rule, analysis_scale, scale_analysis

    with open_project(args.project) as project:
        scale = project.scale(args.scale)
        choice = scale_analysis(project, args.scale)
        seen = analysis_scale(project, scale)
    if args.json:
        print_json(
            {
                "scale": scale.id,
                "version": scale.version,
                "composites": choice.composites,
                "dropped": [
                    {"item": d.item_id, "reason": d.reason, "by": d.by, "at": d.at}
                    for d in choice.dropped
                ],
                "composite_items": {c.id: list(c.items) for c in seen.composites},
                "previous_session_items": {
                    c.id: list(c.previous_session) for c in seen.across_sessions
                },
            }
        )
        return 0
    for line in choice.describe(scale):
        print(line)
    for comp in seen.composites:
        print(f"{comp.id}: {comp.method} of {', '.join(comp.items)}")
    for comp in seen.across_sessions:
        print(f"{comp.id}: {across_session_rule(comp)}")
    return 0


def add_commands(ssub: Commands) -> None:
    """Add the analysis-choice commands to the ``scales`` group."""
    p = ssub.add_parser(
        "drop-item",
        help="leave an item out of the analysis (composites, reliability, exports) "
        "without a new coding round",
    )
    p.add_argument("project")
    p.add_argument("--scale", required=True, metavar="ID")
    p.add_argument("--item", required=True, metavar="ITEM")
    p.add_argument("--reason", required=True, metavar="TEXT", help="shown in the exports")
    p.set_defaults(func=cmd_drop_item)
    p = ssub.add_parser("restore-item", help="bring a dropped item back into the analysis")
    p.add_argument("project")
    p.add_argument("--scale", required=True, metavar="ID")
    p.add_argument("--item", required=True, metavar="ITEM")
    p.set_defaults(func=cmd_restore_item)
    p = ssub.add_parser("composites", help="which version's composite definition the analysis uses")
    p.add_argument("project")
    p.add_argument("--scale", required=True, metavar="ID")
    p.add_argument(
        "--use",
        required=True,
        choices=("newest", "coded"),
        help="newest (default): the newest version's for every coding; coded: the "
        "version each coding was coded under",
    )
    p.set_defaults(func=cmd_composites)
    p = ssub.add_parser("analysis", help="show a scale's analysis choices")
    p.add_argument("project")
    p.add_argument("--scale", required=True, metavar="ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_analysis)
