"""One rule for "which codings count for analysis", and every consumer follows it.

The pure rule (:func:`coder.analysis_set.analysis_codings`) is checked on plain facts;
then real SQLite projects built through the public API check that the export's
``pairs`` and reliability sheets, the project reliability report (CLI and GUI loader),
consensus eligibility and the discrepancy list all use the same codings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coder.analysis_set import (
    CodingFact,
    CodingRole,
    CodingStatus,
    analysis_codings,
    counts_for_analysis,
)
from coder.certification import add_master_coding, assign_training
from coder.consensus import consensus_review
from coder.discrepancies import find_discrepancies, reliability_frame
from coder.errors import InputError
from coder.export_data import build_export_bundle
from coder.importer import import_manifest
from coder.reliability import icc, reliability_report
from coder.reliability_view import compute_reliability
from coder.scales import load_builtin_scale
from coder.store.project import Project
from tests.cli import run_cli

SCALE = "hw_adherence"
ITEM = "adherence"
REASON = "Audio failure"


def fact(
    coding_id: int,
    rater: str,
    role: str = "primary",
    status: str = "submitted",
    *,
    session: str = "S1",
    training: bool = False,
    scale: str = SCALE,
) -> CodingFact:
    return CodingFact(coding_id, scale, session, rater, role, status, training)


# --------------------------------------------------------------------------- pure rule


def test_master_certification_recalibration_and_training_codings_never_count() -> None:
    for role in ("master", "certification", "recalibration", "training"):
        assert not counts_for_analysis(fact(1, "R1", role))
    assert counts_for_analysis(fact(1, "R1", "primary"))
    assert counts_for_analysis(fact(1, "R1", "second"))


def test_a_session_counts_by_its_current_training_flag() -> None:
    chosen = analysis_codings(
        [fact(1, "R1", "primary", training=True), fact(2, "R2", "second", training=True)]
    )
    assert chosen.sessions == {} and list(chosen.double_coded()) == []
    chosen = analysis_codings([fact(1, "R1", "primary"), fact(2, "R2", "second")])
    assert [c.session for c in chosen.double_coded()] == ["S1"]


def test_a_master_and_a_trainee_are_never_a_pair() -> None:
    chosen = analysis_codings(
        [fact(1, "MASTER", "master"), fact(2, "R1", "certification"), fact(3, "R2", "primary")]
    )
    coders = chosen.session(SCALE, "S1")
    assert coders is not None and coders.pair is None
    assert [c.rater for c in coders.counted] == ["R2"]


def test_only_submitted_codings_make_a_pair_and_uncodable_ones_are_reported_apart() -> None:
    chosen = analysis_codings(
        [
            fact(1, "R1", "primary", "uncodable"),
            fact(2, "R2", "second", "submitted"),
            fact(3, "R3", "second", "in_progress"),
            fact(4, "R4", "second", "not_started"),
        ]
    )
    coders = chosen.session(SCALE, "S1")
    assert coders is not None and coders.pair is None
    assert coders.primary is not None and coders.primary.rater == "R1"
    assert [c.rater for c in chosen.uncodable] == ["R1"]
    assert chosen.counted_ids == {1, 2} and chosen.reliability_ids == frozenset()


def test_three_coders_give_one_pair_from_the_plan_roles() -> None:
    # R0 joined last as a third coder; the plan's primary R3 and second R2 are the pair.
    chosen = analysis_codings(
        [
            fact(5, "R3", "primary"),
            fact(6, "R2", "second"),
            fact(7, "R0", "second"),
            fact(8, "R1", "extra"),
        ]
    )
    coders = chosen.session(SCALE, "S1")
    assert coders is not None and coders.pair is not None
    assert [c.rater for c in coders.pair] == ["R2", "R3"]  # A = the lower rater code
    assert [c.rater for c in coders.extra] == ["R0", "R1"]
    assert chosen.reliability_ids == {5, 6} and chosen.counted_ids == {5, 6, 7, 8}


def test_without_a_primary_the_first_assigned_coders_are_the_pair() -> None:
    chosen = analysis_codings(
        [fact(1, "R1", "primary", "uncodable"), fact(2, "R3", "second"), fact(3, "R2", "second")]
    )
    coders = chosen.session(SCALE, "S1")
    assert coders is not None and coders.pair is not None
    assert [c.coding_id for c in coders.pair] == [3, 2]


def test_the_newest_coding_of_a_rater_speaks_for_them() -> None:
    # One coding per scale version: the later one replaces the earlier.
    chosen = analysis_codings(
        [fact(1, "R1", "primary"), fact(2, "R2", "second"), fact(9, "R1", "primary")]
    )
    coders = chosen.session(SCALE, "S1")
    assert coders is not None and coders.pair is not None
    assert sorted(c.coding_id for c in coders.pair) == [2, 9]
    assert chosen.counted_ids == {2, 9}


def test_scales_and_sessions_are_kept_apart() -> None:
    chosen = analysis_codings(
        [
            fact(1, "R1", session="S1"),
            fact(2, "R2", "second", session="S2"),
            fact(3, "R2", "second", session="S1", scale="thabs"),
        ]
    )
    assert list(chosen.double_coded()) == []
    assert len(chosen.sessions) == 3


def test_states_and_roles_are_named() -> None:
    assert CodingStatus.SUBMITTED == "submitted" and CodingRole.SECOND == "second"
    assert {s.value for s in CodingStatus} == {
        "not_started",
        "in_progress",
        "submitted",
        "uncodable",
    }


# --------------------------------------------------------------------------- projects


def new_project(folder: Path, keys: list[str], db_url: str | None = None) -> Project:
    """A real project with sessions imported from a manifest (audio absent: status only)."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "manifest.csv"
    lines = ["session_id,audio,patient,therapist,session_number,phase,date"]
    lines += [f"{k},{k}.wav,P{i % 2},T1,{i + 2},I,2024-01-01" for i, k in enumerate(keys)]
    manifest.write_text("\n".join(lines) + "\n")
    project = Project.create(folder / "p.scproj", db_url=db_url)
    project.add_scale(load_builtin_scale(SCALE))
    import_manifest(project, manifest)
    return project


def finish(project: Project, rater: str, coding: int, state: str, score: int) -> None:
    """Bring a coding to ``state`` through the rater's own view."""
    view = project.rater_view(rater)
    if state in ("in_progress", "submitted"):
        view.set_value(coding, ITEM, score)
    if state == "submitted":
        view.submit(coding)
    elif state == "uncodable":
        view.set_uncodable(coding, REASON)


def export_pairs(project: Project) -> set[tuple[str, str, str]]:
    pairs = build_export_bundle(project, scale_ids=[SCALE]).pairs
    return {(r.session_id, r.rater_A, r.rater_B) for r in pairs.itertuples()}


def cli_reliability(path: Path) -> dict[str, object]:
    out = run_cli("reliability", path, "--scale", SCALE, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["items"][ITEM]  # type: ignore[no-any-return]


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("trainee_role", ["certification", "primary"])
def test_an_unmarked_training_session_never_pairs_the_master_with_a_rater(
    tmp_path: Path, trainee_role: str, new_project_args: dict[str, Any]
) -> None:
    """Issue 10: after un-marking, export and reliability both see no double coding."""
    project = new_project(tmp_path, ["T1", "S1"], new_project_args["db_url"])
    project.add_raters(["MASTER", "R1"])
    project.set_training(["T1"])
    master = add_master_coding(project, "T1", SCALE, "MASTER")
    finish(project, "MASTER", master, "submitted", 4)
    if trainee_role == "certification":
        assign_training(project, SCALE, ["R1"], session_keys=["T1"])
        [entry] = project.rater_view("R1").queue()
        trainee = int(entry.coding_id)
    else:
        trainee = project.add_coding("T1", "R1", SCALE, role=trainee_role)
    finish(project, "R1", trainee, "submitted", 1)
    project.set_training(["T1"], False)

    bundle = build_export_bundle(project, scale_ids=[SCALE])
    assert bundle.pairs.empty  # main paired MASTER with R1 here
    assert not bundle.scores["double_coded"].any()
    assert int(bundle.reliability.iloc[0]["n_double_coded"]) == 0
    frame, _ = reliability_frame(project, SCALE)
    assert frame.empty
    assert find_discrepancies(project, SCALE, threshold=-1) == []
    with pytest.raises(InputError, match="not double-coded"):
        consensus_review(project, SCALE, "T1")
    project.close()
    assert cli_reliability(tmp_path / "p.scproj")["n_sessions"] == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_three_coders_pairs_and_reliability_sheet_use_the_same_sessions(
    tmp_path: Path, new_project_args: dict[str, Any]
) -> None:
    """Issue 10 (exports): the reliability sheet can be recomputed from ``pairs``."""
    keys = [f"S{i}" for i in range(1, 7)]
    project = new_project(tmp_path, keys, new_project_args["db_url"])
    project.add_raters(["R1", "R2", "R3"])
    # (primary, second, extra third coder or None) and their scores.
    design = {
        "S1": (("R1", 1), ("R2", 2), None),
        "S2": (("R2", 3), ("R3", 3), None),
        "S3": (("R1", 5), ("R3", 4), ("R2", 0)),  # a third coder who disagrees wildly
        "S4": (("R3", 0), ("R1", 1), None),
        "S5": (("R2", 6), ("R1", 6), None),
        "S6": (("R3", 2), ("R2", 2), ("R1", 6)),
    }
    for key, (primary, second, third) in design.items():
        coders = [(primary, "primary"), (second, "second")]
        coders += [(third, "second")] if third is not None else []
        for (rater, score), role in coders:
            coding = project.add_coding(key, rater, SCALE, role=role)
            finish(project, rater, coding, "submitted", score)
    expected = {
        (key, *sorted((primary[0], second[0]))) for key, (primary, second, _) in design.items()
    }

    bundle = build_export_bundle(project, scale_ids=[SCALE])
    pairs = bundle.pairs
    assert {(r.session_id, r.rater_A, r.rater_B) for r in pairs.itertuples()} == expected
    assert len(pairs) == len(design)  # one row per double-coded session
    sheet = bundle.reliability.set_index("variable").loc[ITEM]
    assert int(sheet["n_sessions"]) == len(pairs)
    recomputed = icc(pairs[[f"{ITEM}_A", f"{ITEM}_B"]].to_numpy(dtype="float64"))
    for form in ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"):
        assert sheet[form] == pytest.approx(recomputed.forms[form].value, abs=1e-12)

    # The project reliability report (CLI, GUI), discrepancies and consensus agree.
    found = {(d.session_id, d.rater_a, d.rater_b) for d in find_discrepancies(project, SCALE, -1)}
    assert found == expected
    for key, (primary, second, _) in design.items():
        assert set(consensus_review(project, SCALE, key).raters) == {primary[0], second[0]}
    gui = compute_reliability(project, SCALE, window=3)
    assert gui.n_double_coded == len(design)
    assert gui.items[ITEM].n_sessions == len(design)
    assert gui.items[ITEM].icc["ICC2"].value == pytest.approx(sheet["ICC2"], abs=1e-12)
    project.close()
    cli = cli_reliability(tmp_path / "p.scproj")
    assert cli["n_sessions"] == len(design)
    assert cli["icc"]["ICC2"]["value"] == pytest.approx(sheet["ICC2"], abs=1e-12)  # type: ignore[index]


# --------------------------------------------------------------------------- property

RATERS = ("R1", "R2", "R3", "R4")
# Weighted by repetition: independent roles and submitted codings are drawn often enough
# that most examples have double-coded sessions, three coders and stray roles together.
ROLES = ("primary", "second", "second", "training", "certification", "recalibration")
STATES = ("not_started", "in_progress", "submitted", "submitted", "submitted", "uncodable")


@dataclass(frozen=True)
class PlannedSession:
    key: str
    training_before: bool  # marked training while the codings were made
    training_after: bool  # the training flag at analysis time
    master: str | None  # the master coding's state (training sessions only)
    coders: tuple[tuple[str, str, str, int], ...]  # (rater, role, state, score)


@st.composite
def planned_sessions(draw: st.DrawFn) -> list[PlannedSession]:
    n = draw(st.integers(min_value=1, max_value=5))
    out = []
    for i in range(n):
        before = draw(st.booleans())
        after = draw(st.booleans())
        master = draw(st.none() | st.sampled_from(STATES)) if before else None
        raters = draw(st.lists(st.sampled_from(RATERS), unique=True, max_size=4))
        coders = tuple(
            (
                rater,
                draw(st.sampled_from(ROLES)),
                draw(st.sampled_from(STATES)),
                draw(st.integers(min_value=0, max_value=6)),
            )
            for rater in raters
        )
        out.append(PlannedSession(f"S{i + 1}", before, after, master, coders))
    return out


def build_planned(folder: Path, plan: list[PlannedSession]) -> Project:
    project = new_project(folder, [s.key for s in plan])
    project.add_raters([*RATERS, "MASTER"])
    project.set_training([s.key for s in plan if s.training_before])
    for s in plan:
        if s.master is not None:
            coding = add_master_coding(project, s.key, SCALE, "MASTER")
            finish(project, "MASTER", coding, s.master, 5)
        for rater, role, state, score in s.coders:
            if role == "certification" and s.master is not None:
                assign_training(project, SCALE, [rater], session_keys=[s.key])
                coding = next(
                    int(e.coding_id)
                    for e in project.rater_view(rater).queue()
                    if e.session_key == s.key
                )
            else:
                coding = project.add_coding(s.key, rater, SCALE, role=role)
            finish(project, rater, coding, state, score)
    project.set_training([s.key for s in plan if s.training_after])
    project.set_training([s.key for s in plan if not s.training_after], False)
    return project


def expected_pairs(plan: list[PlannedSession]) -> set[tuple[str, str, str]]:
    """The rule, written out independently: the plan's primary and second coder."""
    out = set()
    for s in plan:
        if s.training_after:
            continue
        rank = {"primary": 0, "second": 1}
        done = [
            (rank[role], i, rater)
            for i, (rater, role, state, _) in enumerate(s.coders)
            if role in rank and state == "submitted"
        ]
        if len(done) >= 2:
            a, b = sorted(r for _, _, r in sorted(done)[:2])
            out.add((s.key, a, b))
    return out


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(plan=planned_sessions())
def test_every_consumer_uses_the_same_codings(
    tmp_path_factory: pytest.TempPathFactory, plan: list[PlannedSession]
) -> None:
    project = build_planned(tmp_path_factory.mktemp("project"), plan)
    try:
        expected = expected_pairs(plan)
        bundle = build_export_bundle(project, scale_ids=[SCALE])
        pairs = {(r.session_id, r.rater_A, r.rater_B) for r in bundle.pairs.itertuples()}
        assert pairs == expected
        flagged = set(bundle.scores.loc[bundle.scores["double_coded"], "session_id"])
        assert flagged == {key for key, _, _ in expected}

        frame, ranges = reliability_frame(project, SCALE)
        in_report = {
            (key, *sorted(group["rater_id"])) for key, group in frame.groupby("session_id")
        }
        assert in_report == expected
        report = reliability_report(frame, ranges).to_json()["items"][ITEM]
        sheet = bundle.reliability.set_index("variable").loc[ITEM]
        assert report["n_sessions"] == int(sheet["n_sessions"]) == len(expected)
        for form in ("ICC1", "ICC2"):
            value = report["icc"][form]["value"]
            assert (value is None and np.isnan(sheet[form])) or value == pytest.approx(
                sheet[form], abs=1e-12
            )

        found = find_discrepancies(project, SCALE, threshold=-1)
        assert {(d.session_id, d.rater_a, d.rater_b) for d in found} == expected

        for s in plan:
            pair = next((p for p in expected if p[0] == s.key), None)
            if pair is None:
                with pytest.raises(InputError, match="not double-coded"):
                    consensus_review(project, SCALE, s.key)
            else:
                assert sorted(consensus_review(project, SCALE, s.key).raters) == list(pair[1:])
    finally:
        project.close()
