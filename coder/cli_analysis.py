"""CLI commands of the lead's analysis work: assign, reliability and descriptives.

The ``export`` command needs the exporters, a layer above ``coder``: the launcher
adds it.
"""

from __future__ import annotations

import argparse
import re
import sys

from coder.cli_common import (
    Commands,
    add_final_arguments,
    csv_list,
    open_project,
    print_json,
)
from coder.errors import InputError


def cmd_assign(args: argparse.Namespace) -> int:
    from coder.planning import PlanRequest, make_plan, parse_double, save_plan

    numbers: tuple[int, ...] = ()
    if args.session_numbers:
        try:
            numbers = tuple(int(n) for n in csv_list(args.session_numbers))
        except ValueError:
            raise InputError("--session-numbers takes whole numbers, e.g. 2,3") from None
    scale_ids = list(args.scale)
    request = PlanRequest(
        scale_id=scale_ids[0],
        # Repeated --scale: the scales planned together (same raters on every one).
        with_scales=tuple(scale_ids[1:]),
        raters=tuple(csv_list(args.raters or "")),
        double=parse_double(args.double),
        stratify=tuple(csv_list(args.stratify)),
        seed=args.seed,
        exclude_pool_of=tuple(args.exclude_pool_of or ()),
        session_numbers=numbers,
        training=tuple(csv_list(args.training or "")),
        recode=args.recode,
        pool=args.pool,
    )
    if not request.raters and not request.pool:
        raise InputError(
            "--raters needs at least one rater code, e.g. --raters R1,R2,R3 "
            "(or name a rater pool with --pool NAME)"
        )
    with open_project(args.project) as project:
        plan = make_plan(project, request)
        plan_id = None if args.preview else save_plan(project, request, plan)
        # Placeholder anchor texts are said whenever the scale is planned.
        found = (project.scale(scale_id).placeholder_warning() for scale_id in request.scale_ids)
        warnings = [warning for warning in found if warning]
    summary = plan.summary()
    together = {"scales": list(request.scale_ids)} if request.with_scales else {}
    if args.json:
        print_json({**summary.as_dict(), **together, "warnings": warnings})
        return 0
    for warning in warnings:
        print(f"warning: {warning}")
    print(
        ("preview (not stored)" if plan_id is None else f"stored plan #{plan_id}")
        + f" for {' + '.join(request.scale_ids)}: {summary.double_coded} double-coded session(s)"
        + (
            " (the same raters on every scale, coded in one listening)"
            if request.with_scales
            else ""
        )
    )
    print("loads: " + ", ".join(f"{r}={n}" for r, n in summary.loads.items()))
    print(
        "pairs: " + ", ".join(f"{p.raters[0]}+{p.raters[1]}={p.count}" for p in summary.pair_counts)
    )
    for reason in summary.relaxed:
        print(f"relaxed: {reason}")
    for left in summary.not_codable:
        print(f"not codable: {left.session_id} ({left.reason})")
    return 0


_RANGE = re.compile(r"^([^=]+)=(-?\d+)\.\.(-?\d+)$")


def _parse_ranges(texts: list[str] | None) -> dict[str, tuple[int, int]]:
    ranges: dict[str, tuple[int, int]] = {}
    for text in texts or []:
        match = _RANGE.match(text.strip())
        if not match:
            raise InputError(f"--range {text!r}: write ITEM=MIN..MAX, e.g. --range adherence=0..6")
        lo, hi = int(match.group(2)), int(match.group(3))
        if lo >= hi:
            raise InputError(f"--range {text!r}: MIN must be below MAX")
        ranges[match.group(1).strip()] = (lo, hi)
    return ranges


_KIND = re.compile(r"^([^=]+)=([A-Za-z]+)$")


def _parse_kinds(texts: list[str] | None) -> dict[str, str]:
    from coder.kinds import ItemKind

    allowed = [k.value for k in ItemKind if k != ItemKind.TEXT]
    kinds: dict[str, str] = {}
    for text in texts or []:
        match = _KIND.match(text.strip())
        if not match or match.group(2).lower() not in allowed:
            raise InputError(
                f"--kind {text!r}: write ITEM=KIND with KIND one of {', '.join(allowed)}, "
                "e.g. --kind role=nominal"
            )
        kinds[match.group(1).strip()] = match.group(2).lower()
    return kinds


def cmd_reliability(args: argparse.Namespace) -> int:
    from coder.methods_text import MethodsFacts, methods_paragraph
    from coder.reliability import format_study, load_long_csv, study_reliability
    from coder.reliability_project import (
        check_kinds,
        check_where_needs_project,
        parse_where,
        project_study,
    )

    ranges = _parse_ranges(args.range)
    where = parse_where(args.where)
    given = _parse_kinds(args.kind)
    facts = MethodsFacts()
    if args.long:
        if args.project or args.scale:
            raise InputError("give either --long FILE.csv or PROJECT --scale ID, not both")
        check_where_needs_project(args.where, args.include_training)
        frame = load_long_csv(args.long)
        check_kinds(given, frame, ranges, {})
        study = study_reliability(
            frame,
            ranges,
            kinds=dict(given),
            kappa_weights=args.kappa_weights,
            alpha_level=args.alpha_level,
            icc_k=args.icc_k,
        )
    else:
        if not args.project or not args.scale:
            raise InputError("give PROJECT --scale ID, or --long FILE.csv")
        with open_project(args.project) as project:
            found = project_study(
                project,
                args.scale,
                where=where,
                include_training=args.include_training,
                ranges=ranges,
                kinds=given,
                kappa_weights=args.kappa_weights,
                alpha_level=args.alpha_level,
                icc_k=args.icc_k,
            )
        study = found.study
        facts = found.methods_facts()
    methods = methods_paragraph(study, facts) if args.methods else None
    if args.json:
        doc = study.to_json()
        if methods is not None:
            doc["methods"] = methods
        print_json(doc)  # JSON only here, at the CLI edge
    elif methods is not None:
        sys.stdout.write(methods + "\n")
    else:
        sys.stdout.write(format_study(study) + "\n")
    return 0


def cmd_descriptives(args: argparse.Namespace) -> int:
    import math

    from coder.export_data import build_export_bundle

    with open_project(args.project) as project:
        bundle = build_export_bundle(
            project,
            scale_ids=args.scale or None,
            final=args.final,
            winsorize_iqr=args.winsorize_iqr,
            descriptives_by=args.by,
        )
    table = bundle.descriptives_by_session if args.by == "session_number" else bundle.descriptives
    records = [
        {
            str(k): (None if v is None or (isinstance(v, float) and math.isnan(v)) else v)
            for k, v in row.items()
        }
        for row in table.astype(object).where(table.notna(), None).to_dict("records")
    ]
    if args.json:
        print_json({"by": args.by, "descriptives": records})
        return 0

    def cell(value: object) -> str:
        if value is None:
            return "-"
        return f"{value:.2f}" if isinstance(value, float) else str(value)

    columns = ["scale_id", "variable", "n", "mean", "sd", "median", "min", "max"]
    if args.by == "session_number":
        columns[1:1] = ["session_number"]
        columns += ["lower_fence", "upper_fence", "n_outliers"]
    else:
        columns += ["n_outliers"]
    rows = [[cell(r[c]) for c in columns] for r in records]
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
    sys.stdout.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)) + "\n")
    for row in rows:
        sys.stdout.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + "\n")
    if args.by == "session_number" and records:
        k = records[0]["fence_k"]
        sys.stdout.write(
            f"fences: Q1 - {k:g} x IQR and Q3 + {k:g} x IQR per scale, session number and "
            "variable, on the values before any winsorizing\n"
        )
    return 0


def add_commands(sub: Commands) -> None:
    """Add assign, reliability and descriptives to the main parser."""

    p = sub.add_parser("assign", help="plan who codes which session (stratified, double-coded)")
    p.add_argument("project")
    p.add_argument(
        "--scale",
        required=True,
        action="append",
        metavar="ID",
        help="the scale to plan; repeat it to plan several scales together (every session "
        "gets the same raters on each, who code them in one listening)",
    )
    p.add_argument("--raters", metavar="A,B,...", help="the plan's raters (or --pool)")
    p.add_argument(
        "--pool", metavar="NAME", help="take the plan's raters from this rater pool (pool add)"
    )
    p.add_argument(
        "--double",
        required=True,
        metavar="SHARE",
        help="share double-coded (0.3 or 30%%) or a count of sessions (12)",
    )
    p.add_argument(
        "--stratify",
        default="",
        metavar="KEYS",
        help="comma-separated: therapist, patient, phase, session_number",
    )
    p.add_argument("--seed", required=True, type=int, metavar="N")
    p.add_argument(
        "--exclude-pool-of",
        action="append",
        metavar="SCALE_OR_POOL",
        help="keep out raters who code this other scale, or who are in this rater pool "
        "(repeatable; the ones left out are listed)",
    )
    p.add_argument("--session-numbers", metavar="N,M", help="only these session numbers")
    p.add_argument("--training", metavar="S1,S2", help="training sessions, coded by everyone")
    p.add_argument(
        "--recode",
        action="store_true",
        help="code sessions already coded under an older version of the scale again under "
        "the newest one (without it they stay on the version they were coded under)",
    )
    p.add_argument("--preview", action="store_true", help="show the plan without storing it")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_assign)

    p = sub.add_parser("reliability", help="inter-rater reliability of a long CSV or a project")
    p.add_argument("project", nargs="?", help="project file (with --scale)")
    p.add_argument("--scale", metavar="ID")
    p.add_argument(
        "--long",
        metavar="FILE.csv",
        help="long CSV: session_id,rater_id,item_id,score (blank or NA = missing)",
    )
    p.add_argument(
        "--range",
        action="append",
        metavar="ITEM=MIN..MAX",
        help="an item's category range (repeatable); else the observed min..max",
    )
    p.add_argument(
        "--where",
        action="append",
        metavar="COLUMN=VALUE",
        help="only sessions whose manifest column (session_number, phase, therapist, "
        "patient, or a metadata column) has this value; repeatable (one column: any of "
        "the values; several columns: all)",
    )
    p.add_argument(
        "--include-training",
        action="store_true",
        help="also report the training sessions coded by all raters (ICC(2,k))",
    )
    p.add_argument(
        "--methods",
        action="store_true",
        help="print the methods paragraph for a paper (with --json: the key methods)",
    )
    p.add_argument(
        "--icc-k",
        type=float,
        metavar="K",
        help="k of ICC(A,k) and ICC(C,k) from variance components (default: raters per session)",
    )
    p.add_argument(
        "--kind",
        action="append",
        metavar="ITEM=KIND",
        help="an item's kind (repeatable): ordinal, count, nominal or duration; it decides "
        "which statistics apply (a project's scale gives them)",
    )
    p.add_argument(
        "--kappa-weights",
        choices=("unweighted", "linear", "quadratic"),
        help="the kappa to report (and the weights of Gwet's AC2); default: the scale's, "
        "else quadratic",
    )
    p.add_argument(
        "--alpha-level",
        choices=("nominal", "ordinal", "interval"),
        help="the Krippendorff level to report; default: the scale's, else ordinal",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_reliability)

    p = sub.add_parser(
        "descriptives", help="n, mean, SD, median, min, max (and fences) of the final scores"
    )
    p.add_argument("project")
    p.add_argument("--scale", action="append", metavar="ID", help="only this scale (repeatable)")
    p.add_argument(
        "--by",
        default="scale",
        choices=("scale", "session_number"),
        help="session_number: per scale, session number and variable, with Tukey's fences",
    )
    add_final_arguments(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_descriptives)
