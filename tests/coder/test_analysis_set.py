"""One rule for "which codings count for analysis", and every consumer follows it.

The pure rule (:func:`coder.analysis_set.analysis_codings`) is checked on plain facts;
then real projects built through the public API check that the export's ``pairs`` and
reliability sheets, the project reliability report (CLI and GUI loader), consensus
eligibility and the discrepancy list all use the same codings. The property test
generates projects (training sessions marked and un-marked, master, certification and
recalibration codings, three coders, a scale's second version) and compares the
consumers coding by coding, each against the rule written out from the plan.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
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
from coder.reliability import icc
from coder.reliability_view import compute_reliability
from coder.scales import RatingScale, load_builtin_scale, parse_scale
from coder.store.project import Project
from coder.store.queries import coding_facts
from coder.store.sessions import NewSession, add_sessions
from tests.cli import run_cli
from tests.factories import new_sqlite_project

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
    recode_of: int | None = None,
) -> CodingFact:
    return CodingFact(coding_id, scale, session, rater, role, status, training, recode_of)


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


def test_a_later_coding_under_a_new_version_does_not_replace_the_first() -> None:
    # A second coding of the rater (e.g. under a new scale version) that the lead did
    # not ask for as a re-code: the first one keeps speaking, so a version bump never
    # switches the analysis to other scores.
    chosen = analysis_codings(
        [fact(1, "R1", "primary"), fact(2, "R2", "second"), fact(9, "R1", "primary")]
    )
    coders = chosen.session(SCALE, "S1")
    assert coders is not None and coders.pair is not None
    assert sorted(c.coding_id for c in coders.pair) == [1, 2]
    assert chosen.counted_ids == {1, 2}


def test_a_finished_recode_speaks_in_place_of_the_coding_it_recodes() -> None:
    before = [fact(1, "R1", "primary"), fact(2, "R2", "second")]
    waiting = analysis_codings([*before, fact(9, "R1", "primary", "in_progress", recode_of=1)])
    assert waiting.counted_ids == {1, 2}  # the earlier coding counts until the re-code ends
    done = analysis_codings([*before, fact(9, "R1", "primary", recode_of=1)])
    assert done.counted_ids == {2, 9} and done.reliability_ids == {2, 9}
    # A re-code of a re-code: the newest finished one in the chain speaks.
    chain = analysis_codings(
        [*before, fact(9, "R1", recode_of=1), fact(12, "R1", "primary", recode_of=9)]
    )
    assert chain.counted_ids == {2, 12}


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
    if db_url is None:
        project = new_sqlite_project(folder / "p.scproj")
    else:
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
    assert compute_reliability(project, SCALE, window=3).n_double_coded == 0  # the tab
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
    sheet = bundle.reliability.set_index("variable").loc[f"{SCALE}_{ITEM}"]
    assert int(sheet["n_sessions"]) == len(pairs)
    recomputed = icc(pairs[[f"{SCALE}_{ITEM}_A", f"{SCALE}_{ITEM}_B"]].to_numpy(dtype="float64"))
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

RATERS = ("R1", "R2", "R3")
MASTER = "MASTER"
# Weighted by repetition, and the common case first (hypothesis starts from, and shrinks
# towards, the first choice): most examples have double-coded sessions, three coders and
# stray roles together.
ROLES = ("primary", "second") * 3 + ("training", "certification", "recalibration")
STATES = ("submitted",) * 4 + ("not_started", "in_progress", "uncodable")
INDEPENDENT_RANK = {"primary": 0, "second": 1}
FINISHED = ("submitted", "uncodable")


@dataclass(frozen=True)
class PlannedCoding:
    rater: str
    role: str
    state: str
    recode: bool  # made after the scale's second version was added (a second coding)


@dataclass(frozen=True)
class PlannedSession:
    key: str
    training_before: bool  # marked training while the codings were made
    training_after: bool  # the training flag at analysis time
    master: str | None  # the master coding's state (training sessions only)
    codings: tuple[PlannedCoding, ...]
    scores: tuple[int, ...]  # distinct scores, one per coding in creation order


@dataclass(frozen=True)
class Plan:
    raters: tuple[str, ...]  # the independent raters (MASTER comes on top)
    sessions: tuple[PlannedSession, ...]


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    """2-4 raters (one of them MASTER), 3-8 sessions, every role and state."""
    raters = RATERS[: draw(st.sampled_from((3, 3, 2, 1)))]
    out = []
    for i in range(draw(st.integers(min_value=3, max_value=8))):
        before = draw(st.booleans())
        after = draw(st.sampled_from((False, False, True)))
        master = draw(st.none() | st.sampled_from(STATES)) if before else None
        # Each rater codes a session with chance 3/4 (a plain list would mostly be short).
        coders = [r for r in raters if draw(st.integers(min_value=0, max_value=3)) < 3]
        codings = [
            PlannedCoding(r, draw(st.sampled_from(ROLES)), draw(st.sampled_from(STATES)), False)
            for r in coders
        ]
        # Some coders code the session again on the scale's second version: the newest
        # finished coding of a rater speaks for them.
        recoders = [r for r in raters if draw(st.integers(min_value=0, max_value=4)) == 4]
        for r in recoders[:2]:
            codings.append(
                PlannedCoding(r, draw(st.sampled_from(ROLES)), draw(st.sampled_from(STATES)), True)
            )
        # The ITEM's 0..6 give every coding of a session its own score (at most 7 of
        # them: master + 3 raters x 2 versions), so a score tells which coding it is.
        scores = tuple(draw(st.permutations(range(7)))[: len(codings) + 1])
        out.append(PlannedSession(f"S{i + 1}", before, after, master, tuple(codings), scores))
    return Plan(raters, tuple(out))


@dataclass(frozen=True)
class Built:
    project: Project
    # (session, rater, score) -> coding id, for the submitted codings
    by_score: dict[tuple[str, str, float], int]
    # session key -> [(planned coding, coding id, score)] in creation order
    made: dict[str, list[tuple[PlannedCoding, int, int]]]
    # re-code coding id -> the coding it re-codes
    recodes: dict[int, int]


def second_version(scale: RatingScale) -> RatingScale:
    source = scale.source.replace(f"version: {scale.version}\n", f"version: {scale.version + 1}\n")
    assert source != scale.source
    return parse_scale(source)


def build_plan(folder: Path, plan: Plan) -> Built:
    """The project through the public API: sessions, raters, scales, codings, states."""
    folder.mkdir(parents=True, exist_ok=True)
    project = Project.create(folder / "p.scproj")
    scale = load_builtin_scale(SCALE)
    project.add_scale(scale)
    add_sessions(project, [NewSession(s.key, session_number=2) for s in plan.sessions])
    project.add_raters([*plan.raters, MASTER])
    project.set_training([s.key for s in plan.sessions if s.training_before])
    made: dict[str, list[tuple[PlannedCoding, int, int]]] = {s.key: [] for s in plan.sessions}
    by_score: dict[tuple[str, str, float], int] = {}
    recodes: dict[int, int] = {}

    def make(s: PlannedSession, c: PlannedCoding) -> None:
        if c.role == "certification" and s.master is not None and not c.recode:
            assign_training(project, SCALE, [c.rater], session_keys=[s.key])
            coding = next(
                int(e.coding_id)
                for e in project.rater_view(c.rater).queue()
                if e.session_key == s.key
            )
        else:
            # A second-version coding of a rater who coded the session before is the
            # lead's re-code of the rater's (newest) earlier coding.
            earlier = [coding for p, coding, _ in made[s.key] if p.rater == c.rater]
            coding = project.add_coding(
                s.key, c.rater, SCALE, role=c.role, recode=c.recode and bool(earlier)
            )
            if c.recode and earlier:
                recodes[coding] = max(earlier)
        score = s.scores[1 + len(made[s.key])]
        finish(project, c.rater, coding, c.state, score)
        made[s.key].append((c, coding, score))
        if c.state == "submitted":
            by_score[(s.key, c.rater, float(score))] = coding

    for s in plan.sessions:
        if s.master is not None:
            coding = add_master_coding(project, s.key, SCALE, MASTER)
            finish(project, MASTER, coding, s.master, s.scores[0])
            if s.master == "submitted":
                by_score[(s.key, MASTER, float(s.scores[0]))] = coding
        for c in s.codings:
            if not c.recode:
                make(s, c)
    project.add_scale(second_version(scale))
    for s in plan.sessions:
        for c in s.codings:
            if c.recode:
                make(s, c)
    project.set_training([s.key for s in plan.sessions if s.training_after])
    project.set_training([s.key for s in plan.sessions if not s.training_after], False)
    return Built(project, by_score, made, recodes)


def expected_pairs(plan: Plan, built: Built) -> set[tuple[str, int, int]]:
    """The rule written out from the plan: (session, coding A, coding B), A < B by rater.

    Per rater the first finished coding with a primary or second role counts, unless
    a finished one of them is a re-code of it; the pair is the first two submitted
    ones, primary before second, then by coding id. Nothing on a session that is a
    training session at analysis time.
    """
    out = set()
    for s in plan.sessions:
        if s.training_after:
            continue
        finished = [
            (c, coding)
            for c, coding, _ in built.made[s.key]
            if c.role in INDEPENDENT_RANK and c.state in FINISHED
        ]
        replaced = {built.recodes[coding] for _, coding in finished if coding in built.recodes}
        newest: dict[str, tuple[PlannedCoding, int]] = {}
        for c, coding in finished:
            if coding not in replaced and c.rater not in newest:
                newest[c.rater] = (c, coding)  # made in id order: the first one standing
        done = sorted(
            (INDEPENDENT_RANK[c.role], coding, c.rater)
            for c, coding in newest.values()
            if c.state == "submitted"
        )
        if len(done) >= 2:
            (_, id_1, r_1), (_, id_2, r_2) = done[:2]
            a, b = (id_1, id_2) if r_1 < r_2 else (id_2, id_1)
            out.add((s.key, a, b))
    return out


def situations(plan: Plan, built: Built, expected: set[tuple[str, int, int]]) -> dict[str, bool]:
    """What an example exercised (``--hypothesis-show-statistics`` counts them)."""
    paired = {c for _, a, b in expected for c in (a, b)}
    submitted = {
        s.key: [c for c, _, _ in built.made[s.key] if c.state == "submitted"] for s in plan.sessions
    }
    return {
        "a double-coded session": bool(expected),
        "a third submitted coder left out of a pair": any(
            len({c.rater for c in submitted[key] if c.role in INDEPENDENT_RANK}) > 2
            for key, _, _ in expected
        ),
        "a second-version coding in a pair": any(
            coding in paired
            for s in plan.sessions
            for c, coding, _ in built.made[s.key]
            if c.recode
        ),
        "a master-coded session un-marked as training": any(
            s.master == "submitted" and not s.training_after for s in plan.sessions
        ),
    }


def coding_of(built: Built, session: str, rater: str, score: float) -> int:
    """The coding a consumer's (session, rater, score) row comes from."""
    return built.by_score[(session, rater, float(score))]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(plan=plans())
def test_every_consumer_uses_the_same_codings(
    tmp_path_factory: pytest.TempPathFactory, plan: Plan
) -> None:
    """Export pairs, reliability view, discrepancies and consensus: one set of codings."""
    built = build_plan(tmp_path_factory.mktemp("project"), plan)
    project = built.project
    try:
        expected = expected_pairs(plan, built)
        double = {key for key, _, _ in expected}
        for label, seen in situations(plan, built, expected).items():
            if seen:
                event(label)

        # The rule on the store's facts.
        decided = analysis_codings(coding_facts(project, scale_ids=[SCALE]))
        assert {
            (c.session, *(x.coding_id for x in c.pair or ())) for c in decided.double_coded()
        } == expected

        # The export: one pairs row per double-coded session, with the pair's scores.
        bundle = build_export_bundle(project, scale_ids=[SCALE])
        pairs = {
            (
                r.session_id,
                coding_of(built, r.session_id, r.rater_A, getattr(r, f"{SCALE}_{ITEM}_A")),
                coding_of(built, r.session_id, r.rater_B, getattr(r, f"{SCALE}_{ITEM}_B")),
            )
            for r in bundle.pairs.itertuples()
        }
        assert pairs == expected and len(bundle.pairs) == len(expected)
        flagged = set(bundle.scores.loc[bundle.scores["double_coded"], "session_id"])
        assert flagged == double

        # The reliability view (the GUI's loader; the CLI reads the same frame).
        view = compute_reliability(project, SCALE, window=3)
        rows = view.frame[view.frame["item_id"] == ITEM]
        in_view: dict[str, list[tuple[str, int]]] = {}
        for r in rows.itertuples():
            coding = coding_of(built, r.session_id, r.rater_id, r.score)
            in_view.setdefault(r.session_id, []).append((r.rater_id, coding))
        assert {(key, *(c for _, c in sorted(group))) for key, group in in_view.items()} == (
            expected
        )
        assert view.n_double_coded == len(expected)
        report = view.items[ITEM]
        sheet = bundle.reliability.set_index("variable").loc[f"{SCALE}_{ITEM}"]
        assert report.n_sessions == int(sheet["n_sessions"]) == len(expected)
        for form in ("ICC1", "ICC2"):
            value = report.icc[form].value
            assert (value is None and np.isnan(sheet[form])) or value == pytest.approx(
                sheet[form], abs=1e-12
            )

        # The discrepancy list (threshold -1: every pair, every scored item).
        found = find_discrepancies(project, SCALE, threshold=-1)
        assert {(d.session_id, d.coding_a, d.coding_b) for d in found} == expected
        for d in found:
            assert coding_of(built, d.session_id, d.rater_a, d.score_a) == d.coding_a
            assert coding_of(built, d.session_id, d.rater_b, d.score_b) == d.coding_b
        assert {(d.session_id, d.coding_a, d.coding_b) for d in view.discrepancies} <= expected

        # Consensus: only double-coded sessions, and on the very pair.
        for s in plan.sessions:
            if s.key not in double:
                with pytest.raises(InputError, match="not double-coded"):
                    consensus_review(project, SCALE, s.key)
                continue
            review = consensus_review(project, SCALE, s.key)
            [item] = [i for i in review.items if i.item_id == ITEM]
            codings = sorted(
                (rater, coding_of(built, s.key, rater, score))
                for rater, score in item.scores.items()
                if score is not None
            )
            assert (s.key, *(c for _, c in codings)) in expected
    finally:
        project.close()
