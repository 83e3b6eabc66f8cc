"""A new scale version on a project with coded work (issue 13, items 1-2).

A coding keeps the scale version it was coded under; re-planning under a newer
version never plans a coded session again unless the lead asks for a re-code
(``assign --recode``), and which coding of a rater counts does not change with a bump.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from coder.export_data import build_export_bundle, describe_options
from coder.scales import load_builtin_scale
from coder.store.project import Project
from coder.store.queries import coding_facts
from tests.cli import run_cli

SCALE = "thabs"
PLAN = ("--raters", "R1,R2,R3,R4", "--double", "0.3", "--stratify", "therapist,patient,phase")
BEHAVIOURS = ("specification", "rationale", "troubleshooting", "review", "praise")


def bumped(tmp_path: Path, demo_project: Path) -> Path:
    """A copy of the demo with THABS version 2 added (same items)."""
    folder = tmp_path / "demo"
    shutil.copytree(demo_project.parent, folder)
    source = load_builtin_scale(SCALE).source.replace("\nversion: 1\n", "\nversion: 2\n")
    assert "version: 2" in source
    (tmp_path / "thabs_v2.yaml").write_text(source, encoding="utf-8")
    project = folder / demo_project.name
    result = run_cli("scales", "add", project, tmp_path / "thabs_v2.yaml")
    assert result.returncode == 0, result.stderr
    return project


def assign(project: Path, *extra: str) -> str:
    result = run_cli("assign", project, "--scale", SCALE, *PLAN, "--seed", "7", *extra)
    assert result.returncode == 0, result.stderr
    return result.stdout


def finish_open_work(project: Path, value: float) -> list[int]:
    """Every rater submits their not-started THABS codings with one value everywhere."""
    done = []
    with Project.open(project) as p:
        for rater in p.raters():
            view = p.rater_view(rater.code)
            for entry in view.queue():
                if entry.scale_id != SCALE or entry.state != "not_started":
                    continue
                for item in BEHAVIOURS:
                    view.set_value(entry.coding_id, item, value)
                view.set_value(entry.coding_id, "duration", 30)
                view.submit(entry.coding_id)
                done.append(int(entry.coding_id))
    return done


def reliability(project: Path) -> dict[str, object]:
    result = run_cli("reliability", project, "--scale", SCALE, "--json")
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def versions_of(project: Path) -> dict[int, int]:
    """coding id -> the THABS version it is coded under."""
    with Project.open(project) as p, p.store.read() as s:
        from sqlalchemy import text

        rows = s.execute(
            text(
                "select c.id, v.version from codings c join scales v on v.id = c.scale_pk "
                "where v.scale_id = :sid"
            ),
            {"sid": SCALE},
        ).all()
    return {int(a): int(b) for a, b in rows}


def test_a_version_bump_plans_no_coded_session_again(tmp_path: Path, demo_project: Path) -> None:
    project = bumped(tmp_path, demo_project)
    before_versions = versions_of(project)
    before = reliability(project)
    out = assign(project)
    assert "stay on that version" in out and "--recode" in out
    after_versions = versions_of(project)
    # No coding was added: every (session, rater) keeps its one coding, and the coded
    # ones keep version 1.
    assert set(after_versions) == set(before_versions)
    with Project.open(project) as p:
        facts = coding_facts(p, scale_ids=[SCALE])
    pairs = [(f.session, f.rater) for f in facts if f.role in ("primary", "second")]
    assert len(pairs) == len(set(pairs))
    finished = {f.coding_id for f in facts if f.status in ("submitted", "uncodable")}
    assert finished and all(after_versions[c] == 1 for c in finished)

    # The open work is finished; reliability of the coded pairs is unchanged and every
    # export format is written.
    assert finish_open_work(project, 2)
    assert reliability(project) == before
    for fmt, out_path in (
        ("xlsx", tmp_path / "e.xlsx"),
        ("csv", tmp_path / "csv" / "e"),
        ("sav", tmp_path / "sav" / "e"),
    ):
        out_path.parent.mkdir(exist_ok=True)
        result = run_cli("export", project, "--format", fmt, "--out", out_path)
        assert result.returncode == 0, result.stderr
    with Project.open(project) as p:
        scores = build_export_bundle(p, scale_ids=[SCALE]).scores
    assert len(scores) > 0 and not scores.duplicated(["session_id", "rater"]).any()


def test_recode_plans_coded_sessions_again_and_the_recode_counts_once_finished(
    tmp_path: Path, demo_project: Path
) -> None:
    project = bumped(tmp_path, demo_project)
    before = reliability(project)
    out = assign(project, "--recode")
    assert "re-code:" in out
    with Project.open(project) as p:
        facts = coding_facts(p, scale_ids=[SCALE])
    recodes = [f for f in facts if f.recode_of is not None]
    assert recodes and all(f.status == "not_started" for f in recodes)
    originals = {f.coding_id: f for f in facts}
    for f in recodes:
        # The same rater, the same session, under version 2.
        assert (originals[f.recode_of].rater, originals[f.recode_of].session) == (
            f.rater,
            f.session,
        )
    assert all(versions_of(project)[f.coding_id] == 2 for f in recodes)
    # Until re-codes are finished the earlier codings count; a later plain re-plan
    # keeps the re-codes planned.
    assert reliability(project) == before
    assign(project)
    with Project.open(project) as p:
        kept = {f.coding_id for f in coding_facts(p, scale_ids=[SCALE]) if f.recode_of}
    assert kept == {f.coding_id for f in recodes}
    # Finished re-codes count in place of the codings they re-code: every pair is
    # now (2, 2), so the paired scores agree perfectly.
    finish_open_work(project, 2)
    report = reliability(project)
    assert report != before
    written = run_cli("export", project, "--format", "xlsx", "--out", tmp_path / "r.xlsx")
    assert written.returncode == 0, written.stderr
    with Project.open(project) as p:
        bundle = build_export_bundle(p, scale_ids=[SCALE])
    pairs = bundle.pairs
    note = dict(describe_options(bundle))["Scale versions"]
    assert f"{len(recodes)} finished re-code(s)" in note and "under version 2" in note
    a_col = next(c for c in pairs.columns if c.endswith("specification_A"))
    b_col = next(c for c in pairs.columns if c.endswith("specification_B"))
    assert len(pairs) > 0 and (pairs[a_col] == 2).all() and (pairs[b_col] == 2).all()


def test_recode_by_hand_needs_an_earlier_coding(tmp_path: Path) -> None:
    from coder.errors import InputError
    from tests.factories import add_plain_sessions

    with Project.create(tmp_path / "p.scproj") as p:
        p.add_scale(load_builtin_scale(SCALE))
        p.add_raters(["R1"])
        add_plain_sessions(p, ["S1"], session_number=2)
        with pytest.raises(InputError, match="no coding of"):
            p.add_coding("S1", "R1", SCALE, recode=True)
