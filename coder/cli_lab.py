"""CLI commands of lab quality work: certification, drift checks, consensus, packages.

``session-coder certify ...``, ``session-coder consensus ...`` and
``session-coder package ...``; registered on the main parser by :func:`add_commands`.
"""

from __future__ import annotations

import argparse
import sys

from coder.cli_common import (
    PROG,
    Commands,
    PercentLine,
    add_group,
    csv_list,
    ctrl_c_cancels,
    open_project,
    print_json,
)
from coder.errors import Cancelled, InputError
from coder.kinds import ItemKind


def _fmt(x: float | None, pattern: str = "{:.2f}") -> str:
    return "n/a" if x is None else pattern.format(x)


# --------------------------------------------------------------------------- certify


def cmd_certify_sessions(args: argparse.Namespace) -> int:
    from coder.certification import set_training_sessions

    with open_project(args.project) as project:
        set_training_sessions(project, args.sessions, not args.off)
    print(f"{len(args.sessions)} session(s) {'no longer' if args.off else 'now'} training sessions")
    return 0


def cmd_certify_master(args: argparse.Namespace) -> int:
    from coder.certification import add_master_codings

    with open_project(args.project) as project:
        report = add_master_codings(
            project, args.sessions, args.scale, args.rater, new_rater=args.add_rater
        )
    for key, coding in report.codings.items():
        print(f"master coding #{coding}: {key} by {args.rater}")
    return 0


def cmd_certify_train(args: argparse.Namespace) -> int:
    from coder.certification import assign_training

    keys = csv_list(args.sessions) if args.sessions else None
    with open_project(args.project) as project:
        report = assign_training(project, args.scale, csv_list(args.raters), session_keys=keys)
    for rater, sessions in report.added.items():
        print(
            f"{rater}: {len(sessions)} training session(s) added"
            + (f" ({', '.join(sessions)})" if sessions else "")
        )
    return 0


def cmd_certify_status(args: argparse.Namespace) -> int:
    from coder.certification import certification_required, certification_status

    with open_project(args.project) as project:
        status = certification_status(project, args.scale)
        required = certification_required(project)
    if args.json:
        print_json(
            {
                "scale": args.scale,
                "required": required,
                "raters": {code: st.as_dict() for code, st in status.items()},
            }
        )
        return 0
    print(f"{args.scale}: certification {'required' if required else 'not required'} for plans")
    for code, st in status.items():
        t = st.training
        print(
            f"  {code:<10} {st.state:<12} {t.sessions} session(s), "
            f"{st.criterion.icc_form} {_fmt(t.icc)}, within one {_fmt(t.within_one, '{:.0%}')}"
            f"{'' if st.eligible else ', no real sessions'}: {st.why}"
        )
    return 0


def cmd_certify_feedback(args: argparse.Namespace) -> int:
    from coder.certification import certification_feedback

    with open_project(args.project) as project:
        feedback = certification_feedback(project, args.rater, args.coding)
    if args.json:
        print_json(feedback.as_dict())
        return 0
    print(
        f"{feedback.session_key} ({feedback.scale_id}): "
        f"{_fmt(feedback.within_one, '{:.0%}')} within one point of the master, "
        f"{_fmt(feedback.exact, '{:.0%}')} exact"
    )
    for item in feedback.items:
        if item.kind == ItemKind.TEXT:
            continue
        print(
            f"  {item.label}: you {_fmt(item.rater_value, '{:g}')}, master "
            f"{_fmt(item.master_value, '{:g}')}"
        )
    for note in feedback.master_notes:
        seconds = note.position_ms // 1000
        print(f"  master note at {seconds // 60}:{seconds % 60:02d}: {note.text}")
    return 0


def cmd_certify_require(args: argparse.Namespace) -> int:
    from coder.certification import set_require_certification

    with open_project(args.project) as project:
        set_require_certification(project, args.state == "on")
    print(f"certification is {'now' if args.state == 'on' else 'no longer'} required for plans")
    return 0


def cmd_certify_criterion(args: argparse.Namespace) -> int:
    from coder.certification import criterion_for, set_criterion, update_criterion

    with open_project(args.project) as project:
        if args.reset:
            set_criterion(project, args.scale, None)
        else:
            update_criterion(
                project,
                args.scale,
                icc_form=args.icc_form,
                min_icc=args.min_icc,
                min_within_one=args.min_within_one,
                min_sessions=args.min_sessions,
            )
        c = criterion_for(project, args.scale)
    print(
        f"{args.scale}: {c.icc_form} >= {c.min_icc:g} and {c.min_within_one:.0%} within one "
        f"point over at least {c.min_sessions} training session(s)"
    )
    return 0


def cmd_certify_override(args: argparse.Namespace) -> int:
    from coder.certification import set_override

    allow = True if args.allow else False if args.deny else None
    with open_project(args.project) as project:
        set_override(project, args.scale, args.rater, allow, reason=args.reason or "")
    what = {True: "may code", False: "may not code", None: "follows the criterion for"}[allow]
    print(f"{args.rater} {what} real {args.scale} sessions")
    return 0


def cmd_certify_recalibrate(args: argparse.Namespace) -> int:
    from coder.certification import schedule_recalibration

    with open_project(args.project) as project:
        report = schedule_recalibration(project, args.scale, every=args.every, seed=args.seed)
    if args.json:
        print_json({"every": report.every, "added": report.added, "short": report.short})
        return 0
    total = sum(len(v) for v in report.added.values())
    print(f"{total} drift check(s) added (one in every {report.every} sessions)")
    for rater, sessions in report.added.items():
        print(f"  {rater}: {', '.join(sessions)}")
    for rater, n in report.short.items():
        print(f"  {rater}: {n} due but no unseen master-coded session left; master-code more")
    return 0


def cmd_certify_drift(args: argparse.Namespace) -> int:
    from coder.certification import agreement_over_time

    with open_project(args.project) as project:
        points = agreement_over_time(project, args.rater, args.scale)
    if args.json:
        print_json([p.as_dict() for p in points])
        return 0
    if not points:
        print(f"{args.rater} has no submitted coding of a master-coded {args.scale} session yet")
    for p in points:
        print(
            f"{p.session_key:<12} {p.kind:<14} within one {_fmt(p.within_one, '{:.0%}')}, "
            f"rolling {_fmt(p.rolling.icc)} / {_fmt(p.rolling.within_one, '{:.0%}')}"
            f"{'' if p.rolling.meets else '  below criterion'}"
        )
    return 0


# --------------------------------------------------------------------------- consensus


def cmd_consensus_set(args: argparse.Namespace) -> int:
    from coder.consensus import record_consensus
    from coder.store.project import LEAD

    if args.clear == (args.value is not None):
        raise InputError("give either --value V or --clear")
    with open_project(args.project) as project:
        record_consensus(
            project,
            args.scale,
            args.session,
            args.item,
            None if args.clear else args.value,
            args.reason,
            args.actor or LEAD,
        )
    print(
        f"{args.scale} {args.session} {args.item}: "
        + ("consensus withdrawn" if args.clear else f"consensus {args.value:g}")
    )
    return 0


def cmd_consensus_withdraw(args: argparse.Namespace) -> int:
    from coder.consensus import record_consensus
    from coder.store.project import LEAD

    with open_project(args.project) as project:
        changes = record_consensus(
            project, args.scale, args.session, args.item, None, args.reason, args.actor or LEAD
        )
    if not changes:
        raise InputError(
            f"{args.scale} {args.session} {args.item} has no consensus score to withdraw"
        )
    print(f"{args.scale} {args.session} {args.item}: consensus withdrawn")
    return 0


def cmd_consensus_history(args: argparse.Namespace) -> int:
    from coder.consensus import consensus_history

    with open_project(args.project) as project:
        entries = consensus_history(project, args.scale, args.session)
    if args.item:
        entries = [h for h in entries if h.field == args.item]
    if args.json:
        print_json(
            [
                {
                    "at": h.at.isoformat(),
                    "actor": h.actor,
                    "action": h.action,
                    "item": h.field,
                    "old": h.old,
                    "new": h.new,
                }
                for h in entries
            ]
        )
        return 0
    for h in entries:
        old = "none" if h.old is None else f"{h.old['value']:g}"
        new = "withdrawn" if h.action == "delete" else f"{h.new['value']:g}"
        print(f"{h.at:%Y-%m-%d %H:%M}\t{h.actor}\t{h.field}\t{old} -> {new}\t{h.new['reason']}")
    if not entries:
        print("no consensus history")
    return 0


def cmd_consensus_list(args: argparse.Namespace) -> int:
    from coder.consensus import consensus_scores

    with open_project(args.project) as project:
        frame = consensus_scores(project, args.scale)
    if args.json:
        print_json(
            [
                {**row, "updated_at": str(row["updated_at"])}
                for row in frame.to_dict(orient="records")
            ]
        )
        return 0
    for row in frame.itertuples(index=False):
        print(f"{row.scale_id}\t{row.session_id}\t{row.item_id}\t{row.value:g}\t{row.reason}")
    if frame.empty:
        print("no consensus scores recorded")
    return 0


# --------------------------------------------------------------------------- packages


def _cancelled(line: PercentLine, exc: Cancelled) -> int:
    line.end()
    sys.stderr.write(f"{PROG}: {exc}\n")
    return exc.exit_code


def cmd_package_export(args: argparse.Namespace) -> int:
    from coder.packages import export_package

    line = PercentLine(not args.json)
    with open_project(args.project) as project, ctrl_c_cancels() as cancelled:
        try:
            manifest = export_package(
                project,
                args.rater,
                args.out,
                with_audio=args.with_audio,
                progress=line,
                cancelled=cancelled,
            )
        except Cancelled as exc:
            return _cancelled(line, exc)
        finally:
            line.end()
    if args.json:
        print_json(manifest.as_dict())
    else:
        print(
            f"wrote {args.out}: {manifest.codings} coding(s) of {manifest.rater}"
            + (" with audio" if manifest.with_audio else "")
            + f" (package {manifest.package_id})"
        )
    return 0


def cmd_package_import(args: argparse.Namespace) -> int:
    from coder.packages import import_package

    line = PercentLine(not args.json)
    with open_project(args.project) as project, ctrl_c_cancels() as cancelled:
        try:
            report = import_package(project, args.file, progress=line, cancelled=cancelled)
        except Cancelled as exc:
            return _cancelled(line, exc)
        finally:
            line.end()
    if args.json:
        print_json(report.as_dict())
        return 0
    applied = ", ".join(f"{n} {kind}" for kind, n in report.applied.items() if n) or "nothing new"
    print(f"package {report.package_id} of {report.rater}: merged {applied}")
    for warning in report.warnings:
        print(f"warning: {warning}")
    if report.conflicts:
        print(f"{len(report.conflicts)} conflict(s) left for you (nothing was overwritten):")
        for conflict in report.conflicts:
            print("  " + conflict.describe())
        print("resolve each with: session-coder package resolve PROJECT --package ID --conflict C")
    return 0


def cmd_package_info(args: argparse.Namespace) -> int:
    from coder.packages import read_manifest

    manifest = read_manifest(args.file)
    if args.json:
        print_json(manifest.as_dict())
    else:
        for key, value in manifest.as_dict().items():
            print(f"{key}: {value}")
    return 0


def cmd_package_list(args: argparse.Namespace) -> int:
    from coder.packages import list_packages

    with open_project(args.project) as project:
        records = list_packages(project)
    if args.json:
        print_json(
            [
                {
                    "package_id": r.package_id,
                    "rater": r.rater,
                    "created_at": r.created_at.isoformat(),
                    "codings": r.codings,
                    "with_audio": r.with_audio,
                    "imported_at": None if r.imported_at is None else r.imported_at.isoformat(),
                    "imports": r.import_count,
                    "open_conflicts": r.open_conflicts,
                }
                for r in records
            ]
        )
        return 0
    if not records:
        print("no packages exported from this project yet")
    for r in records:
        print(
            f"{r.package_id}\t{r.rater}\t{r.codings} coding(s)\t"
            f"{'imported ' + str(r.import_count) + 'x' if r.import_count else 'not imported'}"
            f"\t{r.open_conflicts} open conflict(s)"
        )
    return 0


def cmd_package_conflicts(args: argparse.Namespace) -> int:
    from coder.packages import package_conflicts

    with open_project(args.project) as project:
        conflicts = package_conflicts(project, args.package)
    if args.json:
        print_json([c.as_dict() for c in conflicts])
        return 0
    for c in conflicts:
        print(f"{c.package_id} {c.rater}: {c.describe()}")
    if not conflicts:
        print("no open conflicts")
    return 0


def cmd_package_resolve(args: argparse.Namespace) -> int:
    from coder.packages import resolve_conflict

    with open_project(args.project) as project:
        resolve_conflict(project, args.package, args.conflict, args.take)
    print(f"conflict {args.conflict}: kept the {args.take}'s value")
    return 0


# --------------------------------------------------------------------------- lab logins


def cmd_lab_setup(args: argparse.Namespace) -> int:
    with open_project(args.project) as project:
        project.secure()
    print("lab mode rights set up: each person needs their own login (session-coder lab add)")
    return 0


def cmd_lab_add(args: argparse.Namespace) -> int:
    kind = "lead" if args.lead else "rater"
    if kind == "rater" and not args.code:
        raise InputError("give the rater's code (session-coder lab add PROJECT CODE), or --lead")
    with open_project(args.project) as project:
        credential = project.add_person(kind=kind, code=args.code, login=args.login)
    if args.json:
        print_json(credential.as_dict())
        return 0
    who = f"rater {credential.code}" if credential.code else "lead"
    print(f"login {credential.login} ({who}) created; its password is shown only this once:")
    print(f"  password: {credential.password}")
    print("hand it over privately; the person adds this line to ~/.pgpass (chmod 600):")
    print(f"  {credential.pgpass_line}")
    print(
        f"and opens the project with SESSION_CODER_LOGIN={credential.login} (or logs in when asked)"
    )
    return 0


def cmd_lab_remove(args: argparse.Namespace) -> int:
    with open_project(args.project) as project:
        project.remove_person(args.login)
    print(f"login {args.login} can no longer log in (its history rows keep its name)")
    return 0


def cmd_lab_people(args: argparse.Namespace) -> int:
    with open_project(args.project) as project:
        people = project.people()
    if args.json:
        print_json(people)
        return 0
    if not people:
        print("no logins yet: add people with session-coder lab add")
    for person in people:
        print(
            f"{person['login']:<24} {person['kind']:<6} {person['rater'] or '':<10}"
            f"{'' if person['active'] else ' (removed)'}"
        )
    return 0


def cmd_lab_whoami(args: argparse.Namespace) -> int:
    with open_project(args.project, rater_ok=True) as project:
        kind = project.login_kind()
        code = project.my_rater_code()
    if args.json:
        print_json({"kind": kind, "rater": code})
    else:
        print(f"{kind or 'single file (no logins)'}" + (f", rater {code}" if code else ""))
    return 0


def cmd_lab_password(args: argparse.Namespace) -> int:
    import getpass

    new = getpass.getpass("new password: ")
    if getpass.getpass("the same again: ") != new:
        raise InputError("the two passwords differ; nothing was changed")
    with open_project(args.project, rater_ok=True) as project:
        project.change_password(new)
    print("password changed: update ~/.pgpass or the keyring")
    return 0


def cmd_lead_passphrase(args: argparse.Namespace) -> int:
    import getpass
    import os

    from coder.lead_passphrase import PASSPHRASE_ENV, SINGLE_FILE_NOTE

    new: str | None = None
    if args.action == "set":
        new = os.environ.get(f"{PASSPHRASE_ENV}_NEW")
        if new is None:
            new = getpass.getpass("new lead passphrase: ")
            if getpass.getpass("the same again: ") != new:
                raise InputError("the two passphrases differ; nothing was changed")
    with open_project(args.project) as project:
        project.set_lead_passphrase(new)
    if new is None:
        print("the lead passphrase is cleared: the lead's window and commands open without it")
    else:
        print("the lead passphrase is set: the lead's window and commands ask for it")
        print(SINGLE_FILE_NOTE)
    return 0


# --------------------------------------------------------------------------- parser


def add_commands(sub: Commands) -> None:
    """Add certify, consensus and package to the main parser."""
    csub = add_group(sub, "certify", "rater certification against master codes, drift checks")
    p = csub.add_parser("sessions", help="mark (or --off: unmark) training sessions")
    p.add_argument("project")
    p.add_argument("sessions", nargs="+", metavar="KEY")
    p.add_argument("--off", action="store_true")
    p.set_defaults(func=cmd_certify_sessions)

    p = csub.add_parser("master", help="assign the master coding of training sessions")
    p.add_argument("project")
    p.add_argument("sessions", nargs="+", metavar="KEY")
    p.add_argument("--scale", required=True, metavar="ID")
    p.add_argument("--rater", required=True, metavar="CODE", help="the master rater code")
    p.add_argument(
        "--add-rater", action="store_true", help="add CODE as a rater if the project has none"
    )
    p.set_defaults(func=cmd_certify_master)

    p = csub.add_parser("train", help="give raters the master-coded training sessions")
    p.add_argument("project")
    p.add_argument("--scale", required=True, metavar="ID")
    p.add_argument("--raters", required=True, metavar="A,B,...")
    p.add_argument("--sessions", metavar="K1,K2", help="only these (default: all master-coded)")
    p.set_defaults(func=cmd_certify_train)

    p = csub.add_parser("status", help="each rater's certification on a scale")
    p.add_argument("project")
    p.add_argument("--scale", required=True, metavar="ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_certify_status)

    p = csub.add_parser("feedback", help="a rater's submitted training coding vs the master")
    p.add_argument("project")
    p.add_argument("--rater", required=True, metavar="CODE")
    p.add_argument("--coding", required=True, type=int, metavar="N")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_certify_feedback)

    p = csub.add_parser("require", help="plans give real sessions only to certified raters")
    p.add_argument("project")
    p.add_argument("state", choices=("on", "off"))
    p.set_defaults(func=cmd_certify_require)

    p = csub.add_parser("criterion", help="show or override a scale's criterion here")
    p.add_argument("project")
    p.add_argument("--scale", required=True, metavar="ID")
    p.add_argument("--icc-form", metavar="FORM", help="ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k")
    p.add_argument("--min-icc", type=float, metavar="X")
    p.add_argument("--min-within-one", type=float, metavar="X", help="a fraction, e.g. 0.8")
    p.add_argument("--min-sessions", type=int, metavar="N")
    p.add_argument("--reset", action="store_true", help="back to the scale file's criterion")
    p.set_defaults(func=cmd_certify_criterion)

    p = csub.add_parser("override", help="let a rater code real sessions (or not) anyway")
    p.add_argument("project")
    p.add_argument("--scale", required=True, metavar="ID")
    p.add_argument("--rater", required=True, metavar="CODE")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--allow", action="store_true")
    group.add_argument("--deny", action="store_true")
    group.add_argument("--clear", action="store_true")
    p.add_argument("--reason", metavar="TEXT", help="kept in the history (required)")
    p.set_defaults(func=cmd_certify_override)

    p = csub.add_parser("recalibrate", help="drop master-coded drift checks into queues")
    p.add_argument("project")
    p.add_argument("--scale", required=True, metavar="ID")
    p.add_argument("--every", type=int, metavar="N", help="one check in every N sessions")
    p.add_argument("--seed", type=int, metavar="N")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_certify_recalibrate)

    p = csub.add_parser("drift", help="a rater's agreement with the master over time")
    p.add_argument("project")
    p.add_argument("--scale", required=True, metavar="ID")
    p.add_argument("--rater", required=True, metavar="CODE")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_certify_drift)

    nsub = add_group(sub, "consensus", "consensus scores of double-coded sessions")
    p = nsub.add_parser("set", help="record (or --clear) the agreed score of an item")
    p.add_argument("project")
    p.add_argument("--scale", required=True, metavar="ID")
    p.add_argument("--session", required=True, metavar="KEY")
    p.add_argument("--item", required=True, metavar="ITEM")
    p.add_argument("--value", type=float, metavar="V")
    p.add_argument("--clear", action="store_true")
    p.add_argument("--reason", required=True, metavar="TEXT")
    p.add_argument("--actor", metavar="NAME", help="who records it (default: lead)")
    p.set_defaults(func=cmd_consensus_set)
    p = nsub.add_parser("withdraw", help="withdraw the agreed score of an item, with a reason")
    p.add_argument("project")
    p.add_argument("--scale", required=True, metavar="ID")
    p.add_argument("--session", required=True, metavar="KEY")
    p.add_argument("--item", required=True, metavar="ITEM")
    p.add_argument("--reason", required=True, metavar="TEXT")
    p.add_argument("--actor", metavar="NAME", help="who withdraws it (default: lead)")
    p.set_defaults(func=cmd_consensus_withdraw)
    p = nsub.add_parser("history", help="every change of a session's consensus scores")
    p.add_argument("project")
    p.add_argument("--scale", required=True, metavar="ID")
    p.add_argument("--session", required=True, metavar="KEY")
    p.add_argument("--item", metavar="ITEM", help="only this item")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_consensus_history)
    p = nsub.add_parser("list", help="list recorded consensus scores")
    p.add_argument("project")
    p.add_argument("--scale", metavar="ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_consensus_list)

    lsub = add_group(sub, "lab", "lab mode: people's own logins and the database's rights")
    p = lsub.add_parser("setup", help="(re)install the rights, row policies, history guard")
    p.add_argument("project")
    p.set_defaults(func=cmd_lab_setup)
    p = lsub.add_parser("add", help="give a rater (or --lead) their own login, once")
    p.add_argument("project")
    p.add_argument("code", nargs="?", metavar="CODE", help="the rater's code (added if new)")
    p.add_argument("--lead", action="store_true", help="a lead's login (needs --login)")
    p.add_argument("--login", metavar="NAME", help="default: DATABASE_CODE in lower case")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_lab_add)
    p = lsub.add_parser("remove", help="stop a login from logging in")
    p.add_argument("project")
    p.add_argument("login", metavar="LOGIN")
    p.set_defaults(func=cmd_lab_remove)
    p = lsub.add_parser("people", help="list the lab's logins")
    p.add_argument("project")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_lab_people)
    p = lsub.add_parser("whoami", help="which kind of login this is (lead, rater, owner)")
    p.add_argument("project")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_lab_whoami)
    p = lsub.add_parser("password", help="change your own login's password")
    p.add_argument("project")
    p.set_defaults(func=cmd_lab_password)

    p = sub.add_parser(
        "lead-passphrase", help="a single file: set or clear the passphrase of the lead's door"
    )
    p.add_argument("action", choices=("set", "clear"))
    p.add_argument("project")
    p.set_defaults(func=cmd_lead_passphrase)

    psub = add_group(sub, "package", "offline rater packages: export, import, conflicts")
    p = psub.add_parser("export", help="write one rater's package")
    p.add_argument("project")
    p.add_argument("--rater", required=True, metavar="CODE")
    p.add_argument("--out", required=True, metavar="FILE", help="a new file, e.g. AK.scpkg")
    p.add_argument("--with-audio", action="store_true", help="put the audio files inside")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_package_export)
    p = psub.add_parser("import", help="merge a package the rater sent back")
    p.add_argument("project")
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_package_import)
    p = psub.add_parser("info", help="show a package's manifest")
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_package_info)
    p = psub.add_parser("list", help="packages exported from a project")
    p.add_argument("project")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_package_list)
    p = psub.add_parser("conflicts", help="conflicts left by imports")
    p.add_argument("project")
    p.add_argument("--package", metavar="ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_package_conflicts)
    p = psub.add_parser("resolve", help="settle a conflict")
    p.add_argument("project")
    p.add_argument("--package", required=True, metavar="ID")
    p.add_argument("--conflict", required=True, metavar="C")
    p.add_argument("--take", required=True, choices=("package", "project"))
    p.set_defaults(func=cmd_package_resolve)
