"""The worked examples of docs/studies.md run as written, and give the papers' designs.

Each study's test runs the page's set-up lines and that study's section: every
``session-coder`` line of the ``sh`` blocks, in order, in process, in a fresh folder
(``$DEMO`` is the shared demo build, which is only read). At the line ``# raters code
their queues in the app`` every planned coding of the study's project is scored and
submitted as its rater would, through the rater's own view, with seeded synthetic
scores on which two raters mostly agree. A command of the page that fails, or is
renamed, fails the test; then the outputs are checked against the paper's design
(issue 13). One test per study, so that parallel workers never run a study twice.
"""

from __future__ import annotations

import json
import random
import re
import shlex
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from coder.scales import ItemKind
from coder.store.project import Project
from tests.cli import CliResult, run_cli
from tests.factories import score_coding

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "studies.md"
RATER_STEP = "# raters code their queues in the app"
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)

# Jungbluth & Shirk's two coder teams and Haller & Watzke's five raters, as the page
# adds them.
HOMEWORK_TEAM = {"H1", "H2", "H3"}
RESISTANCE_TEAM = {"V1", "V2"}
HW_RATERS = ("HA", "HB", "HC", "HD", "HE")
# A rater gives the session's true score this often, else one point off.
AGREEMENT = 0.8


Step = list[str] | None


def doc_steps(text: str) -> list[Step]:
    """The steps of a page's text in order: a command's arguments (after
    ``session-coder``), or None for the rater step. Other shell lines (comments,
    ``DEMO=...``) are not run."""
    steps: list[Step] = []
    for block in SH_BLOCK.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line == RATER_STEP:
                steps.append(None)
            elif line.startswith("session-coder "):
                steps.append(shlex.split(line, comments=True)[1:])
    return steps


def page_parts() -> dict[str, list[Step]]:
    """The page's steps by part: ``setup`` (before the first study), then each study's
    by its number (``## 1. ...`` is ``"1"``)."""
    setup, *studies = re.split(r"^## ", DOC.read_text(encoding="utf-8"), flags=re.MULTILINE)
    parts = {"setup": doc_steps(setup)}
    for text in studies:
        parts[text.split(".", 1)[0]] = doc_steps(text)
    return parts


def run_output(results: list[tuple[list[str], CliResult]], command: str, *tokens: str) -> str:
    """The stdout of the one command run that is ``command`` and has every one of
    ``tokens`` among its arguments."""
    found = [r for args, r in results if args[0] == command and set(tokens) <= set(args)]
    assert len(found) == 1, f"the page has {len(found)} 'session-coder {command}' {tokens}"
    return found[0].stdout


@dataclass(frozen=True)
class Run:
    """What running a study gave: each command with its result, the raters of each
    (scale, session) and what each rater saw prepared by the lab, (scale, session,
    rater) -> field -> text, at the rater step."""

    folder: Path
    results: list[tuple[list[str], CliResult]]
    planned: dict[tuple[str, str], set[str]]
    prepared: dict[tuple[str, str, str], dict[str, str]]
    session_numbers: dict[str, int]

    def output(self, command: str, *tokens: str) -> str:
        return run_output(self.results, command, *tokens)

    def json(self, command: str, *tokens: str) -> dict[str, Any]:
        doc = json.loads(self.output(command, *tokens))
        assert isinstance(doc, dict)
        return doc


def _score(value: int, low: int, high: int, rng: random.Random) -> float:
    """A rater's score: the true value mostly, else one point off (kept in range)."""
    if rng.random() >= AGREEMENT:
        value += rng.choice((-1, 1))
    return float(min(high, max(low, value)))


@dataclass(frozen=True)
class Coded:
    """What the rater step did: (scale, session) -> its raters, and what each rater
    saw prepared by the lab, (scale, session, rater) -> field -> text."""

    planned: dict[tuple[str, str], set[str]]
    prepared: dict[tuple[str, str, str], dict[str, str]]


def code_every_queue(path: Path, seed: int) -> Coded:
    """Score and submit every planned coding as its rater would (the app's step).

    Each session has a true level per scale and each item a true score near it, so
    the items of a composite hang together; raters find the true score most of the
    time.
    """
    rng = random.Random(seed)
    level: dict[tuple[str, str], float] = {}
    truth: dict[tuple[str, str, str], int] = {}
    planned: dict[tuple[str, str], set[str]] = defaultdict(set)
    prepared: dict[tuple[str, str, str], dict[str, str]] = {}
    with Project.open(path) as project:
        for rater in project.raters():
            view = project.rater_view(rater.code)
            for entry in view.queue():
                planned[entry.scale_id, entry.session_key].add(rater.code)
                shown = view.coding(entry.coding_id).prepared
                prepared[entry.scale_id, entry.session_key, rater.code] = {
                    f.name: f.value for f in shown
                }
                scale = project.scale(entry.scale_id)
                values: dict[str, float | None] = {}
                texts: dict[str, str] = {}
                share = level.setdefault((entry.scale_id, entry.session_key), rng.random())
                for item in scale.items:
                    key = (entry.scale_id, entry.session_key, item.id)
                    if item.kind == ItemKind.TEXT:
                        texts[item.id] = "activity scheduling worksheet"
                    elif item.kind == ItemKind.DURATION:
                        seconds = truth.setdefault(key, rng.randint(60, 600))
                        values[item.id] = float(seconds + rng.randint(-15, 15))
                    else:
                        assert item.kind == ItemKind.ORDINAL, item.kind
                        assert item.min is not None and item.max is not None
                        near = item.min + share * (item.max - item.min) + rng.gauss(0, 0.7)
                        true = truth.setdefault(key, round(min(item.max, max(item.min, near))))
                        values[item.id] = _score(true, item.min, item.max, rng)
                score_coding(project, rater.code, entry.coding_id, values, texts=texts, submit=True)
    return Coded(dict(planned), prepared)


def run_study(number: str, folder: Path, demo_project: Path) -> Run:
    """Run the page's set-up and one study's section in ``folder``; the demo is only read."""
    before = demo_project.stat()
    results: list[tuple[list[str], CliResult]] = []
    coded: Coded | None = None
    project: Path | None = None
    parts = page_parts()
    for step in parts["setup"] + parts[number]:
        if step is None:
            assert project is not None, "the rater step comes before the study's 'init'"
            coded = code_every_queue(project, seed=13 + int(number))
            continue
        args = [a.replace("$DEMO", str(demo_project.parent)) for a in step]
        result = run_cli(*args, cwd=folder)
        assert result.returncode == 0, (
            f"'session-coder {shlex.join(step)}' failed ({result.returncode}):\n{result.stderr}"
        )
        results.append((step, result))
        if step[0] == "init":
            project = folder / step[1]
    after = demo_project.stat()
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)
    assert project is not None and coded is not None
    assert "already built" in run_output(results, "demo")
    with Project.open(project) as opened:
        numbers = {s.key: s.session_number for s in opened.sessions()}
    return Run(
        folder,
        results,
        coded.planned,
        coded.prepared,
        {k: n for k, n in numbers.items() if n is not None},
    )


def test_the_page_has_both_studies_a_rater_step_each_and_is_linked_from_the_readme() -> None:
    parts = page_parts()
    assert list(parts) == ["setup", "1", "2"]
    assert [s[0] for s in parts["setup"] if s is not None] == ["demo"]
    for number, project in (("1", "js.scproj"), ("2", "hw.scproj")):
        steps = parts[number]
        assert steps.count(None) == 1, number
        assert [s[1] for s in steps if s is not None and s[0] == "init"] == [project]
    # Every command of the page is in one of the parts the tests run.
    every = doc_steps(DOC.read_text(encoding="utf-8"))
    assert sum(len(p) for p in parts.values()) == len(every)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "(docs/studies.md)" in readme


def test_jungbluth_shirk_on_the_demo(tmp_path: Path, demo_project: Path) -> None:
    run = run_study("1", tmp_path, demo_project)
    check_js_separate_teams_never_code_the_same_session(run)
    check_js_attrition_counts_the_sessions_each_scale_applies_to(run)
    check_js_thabs_item_4_leaves_the_composite_after_the_check(run)
    check_js_resistance_keeps_the_papers_one_way_icc_beside_the_headline(run)


def test_haller_watzke_on_the_demo(tmp_path: Path, demo_project: Path) -> None:
    run = run_study("2", tmp_path, demo_project)
    check_hw_ghes_and_sthar_have_the_same_two_raters_on_every_session(run)
    check_hw_five_raters_rotate_through_ten_balanced_pairs(run)
    for scale in ("ghes", "sthar"):
        check_hw_reliability_per_rater_pair_and_its_summary(run, scale)
    check_hw_methods_paragraph_names_the_pairs(run)
    check_hw_attrition_and_exports_read_back(run)
    check_hw_ghes_raters_see_the_homework_log_the_lab_entered(run)
    check_hw_sthar_global_pairs_the_previous_sessions_assignment_with_this_review(run)


# Jungbluth & Shirk (2013) -------------------------------------------------------------


def check_js_separate_teams_never_code_the_same_session(run: Run) -> None:
    planned = run.planned
    raters_of: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for (scale, session), raters in planned.items():
        raters_of[scale][session] |= raters
    assert set().union(*raters_of["resistance"].values()) == RESISTANCE_TEAM
    homework = set().union(*raters_of["hw_adherence"].values(), *raters_of["thabs"].values())
    assert homework == HOMEWORK_TEAM
    for session, resistance in raters_of["resistance"].items():
        others = raters_of["thabs"].get(session, set()) | raters_of["hw_adherence"].get(
            session, set()
        )
        assert not resistance & others, session
    # Resistance on session 1 only (both coders on each), adherence on sessions 2+.
    assert {run.session_numbers[s] for s in raters_of["resistance"]} == {1}
    assert all(len(r) == 2 for r in raters_of["resistance"].values())
    assert {run.session_numbers[s] for s in raters_of["hw_adherence"]} == {2, 3}
    plan = run.json("assign", "js.scproj", "resistance")
    assert plan["pair_counts"] == [{"raters": ["V1", "V2"], "count": 8}]


def check_js_attrition_counts_the_sessions_each_scale_applies_to(run: Run) -> None:
    attrition = run.json("status", "js.scproj")["attrition"]
    assert isinstance(attrition, dict)
    expected = {"hw_adherence": 16, "thabs": 24, "resistance": 8}
    for scale, n in expected.items():
        assert (attrition[scale]["sessions"], attrition[scale]["rated"]) == (n, n), scale


def check_js_thabs_item_4_leaves_the_composite_after_the_check(run: Run) -> None:
    check = run.json("reliability", "js.scproj", "thabs", "--json")
    items = check["items"]
    assert isinstance(items, dict) and "review" in items
    assert check["subset"] == {"where": {"session_number": ["2", "3"]}, "n_sessions": 16}
    methods = run.output("reliability", "js.scproj", "thabs", "--methods")
    assert "Review of previous homework" not in methods
    assert "without review: dropped" in methods
    assert re.search(r"ranged from \S+ to \S+ \(mean \S+\)", methods)

    book = openpyxl.load_workbook(run.folder / "js_study.xlsx", read_only=True)
    assert {"final_hw_adherence", "final_thabs", "final_resistance"} <= set(book.sheetnames)
    final = pd.read_excel(run.folder / "js_study.xlsx", sheet_name="final_thabs")
    assert "thabs_review" not in final.columns
    kept = ["thabs_specification", "thabs_rationale", "thabs_troubleshooting", "thabs_praise"]
    assert len(final) == 24
    assert final["thabs_behaviour_mean"].to_numpy() == pytest.approx(
        final[kept].mean(axis=1).to_numpy()
    )


def check_js_resistance_keeps_the_papers_one_way_icc_beside_the_headline(run: Run) -> None:
    total = run.json("reliability", "js.scproj", "resistance")["items"]
    assert isinstance(total, dict)
    report = total["total"]
    assert report["icc"]["ICC1"]["value"] is not None
    assert report["recommended_form"] == "ICC2"  # two coders on every session: crossed
    assert report["recommended"]["scale_default"] == "ICC1"
    assert report["recommended"]["scale_default_fits"] is False
    spss = pd.read_spss(run.folder / "js_study_resistance.sav")
    assert len(spss) == 8 and "resistance_total" in spss.columns


# Haller & Watzke (2021) ---------------------------------------------------------------


def check_hw_ghes_and_sthar_have_the_same_two_raters_on_every_session(run: Run) -> None:
    planned = run.planned
    sessions = {session for _scale, session in planned}
    assert len(sessions) == 24  # every session, the first included
    assert {run.session_numbers[s] for s in sessions} == {1, 2, 3}
    for session in sessions:
        ghes, sthar = planned["ghes", session], planned["sthar", session]
        assert ghes == sthar and len(ghes) == 2, session
    plan = run.json("assign", "hw.scproj")
    assert plan["scales"] == ["ghes", "sthar"] and plan["double_coded"] == 24


def check_hw_five_raters_rotate_through_ten_balanced_pairs(run: Run) -> None:
    # 24 double-coded sessions are enough for all 10 pairs of 5 raters (2 or 3 each).
    counts = run.json("assign", "hw.scproj")["pair_counts"]
    assert isinstance(counts, list)
    pairs = {tuple(c["raters"]): c["count"] for c in counts}
    assert len(pairs) == 10 and set().union(*pairs) == set(HW_RATERS)
    assert max(pairs.values()) - min(pairs.values()) <= 1
    assert sum(pairs.values()) == 24
    seen = defaultdict(int)
    for (scale, _session), raters in run.planned.items():
        if scale == "ghes":
            seen[tuple(sorted(raters))] += 1
    assert dict(seen) == pairs


def check_hw_reliability_per_rater_pair_and_its_summary(run: Run, scale: str) -> None:
    doc = run.json("reliability", "hw.scproj", scale, "--json")
    by_pair = doc["by_pair"]
    assert isinstance(by_pair, list) and len(by_pair) == 10
    assert all(p["items"] for p in by_pair)
    summary = doc["pair_summary"]
    assert isinstance(summary, dict)
    composite = "global" if scale == "ghes" else "sth_a"
    icc22 = summary[composite]["ICC2k"]
    assert icc22["n_pairs"] + icc22["n_undefined"] == 10
    assert icc22["min"] <= icc22["median"] <= icc22["max"]
    items = doc["items"]
    assert isinstance(items, dict)
    # The pairs vary over sessions: the headline comes from variance components.
    assert {items[i]["recommended_form"] for i in items} == {"ICC_A1"}


def check_hw_methods_paragraph_names_the_pairs(run: Run) -> None:
    methods = run.output("reliability", "hw.scproj", "ghes", "--methods")
    assert "5 raters (HA, HB, HC, HD, HE), allocated to 10 rater pairs" in methods
    assert "median" in methods


def check_hw_attrition_and_exports_read_back(run: Run) -> None:
    attrition = run.json("status", "hw.scproj")["attrition"]
    assert isinstance(attrition, dict)
    for scale in ("ghes", "sthar"):
        assert (attrition[scale]["sessions"], attrition[scale]["rated"]) == (24, 24)
    book = openpyxl.load_workbook(run.folder / "hw_study.xlsx", read_only=True)
    assert {"final_ghes", "final_sthar", "patients", "reliability_pair_summary"} <= set(
        book.sheetnames
    )
    pair_summary = pd.read_excel(
        run.folder / "hw_study.xlsx", sheet_name="reliability_pair_summary"
    )
    icc22 = pair_summary[
        (pair_summary["variable"] == "ghes_global") & (pair_summary["form"] == "ICC2k")
    ]
    assert len(icc22) == 1 and int(icc22["n_pairs"].iloc[0] + icc22["n_undefined"].iloc[0]) == 10
    patients = pd.read_excel(run.folder / "hw_study.xlsx", sheet_name="patients")
    assert len(patients) == 8
    assert {"sthar_sth_a_s1", "sthar_sth_r_s2"} <= set(patients.columns)
    # The final score is the pair's mean (--final mean): a .5 appears somewhere.
    final = pd.read_excel(run.folder / "hw_study.xlsx", sheet_name="final_ghes")
    assert len(final) == 24
    assert (final["ghes_engagement"] % 1 == 0.5).any()
    spss = pd.read_spss(run.folder / "hw_study_sthar.sav")
    assert len(spss) == 24 and "sthar_sth_r" in spss.columns


def check_hw_ghes_raters_see_the_homework_log_the_lab_entered(run: Run) -> None:
    seen = run.prepared
    p01 = [v for (scale, session, _r), v in seen.items() if (scale, session) == ("ghes", "P01-S2")]
    assert (
        p01
        == [{"homework_assigned": "Plan two pleasant activities a day; rate mood before and after"}]
        * 2
    )
    # No entry for the session: the field is shown empty; StHAR's raters see none.
    assert {
        v["homework_assigned"]
        for (scale, s, _r), v in seen.items()
        if scale == "ghes" and not s.startswith("P01")
    } == {""}
    assert all(v == {} for (scale, _s, _r), v in seen.items() if scale == "sthar")
    listed = run.json("fields", "hw.scproj", "list")
    assert listed["shown"] == {"ghes": ["homework_assigned"]}
    assert listed["entered_fields"] == {"homework_assigned": 3}


def check_hw_sthar_global_pairs_the_previous_sessions_assignment_with_this_review(
    run: Run,
) -> None:
    final = pd.read_excel(run.folder / "hw_study.xlsx", sheet_name="final_sthar")
    assignment = ["rationale", "tailoring", "challenges", "specifying", "comprehension"]
    review = ["review_extent", "conclusions", "self_efficacy"]
    by = final.set_index(["patient", "session_number"])
    assert by.xs(1, level="session_number")["sthar_global"].isna().all()
    for (patient, number), row in by.iterrows():
        if number == 1:
            continue
        previous = by.loc[(patient, number - 1)]
        values = [previous[f"sthar_{i}"] for i in assignment] + [row[f"sthar_{i}"] for i in review]
        assert row["sthar_global"] == pytest.approx(sum(values) / 8), (patient, number)
