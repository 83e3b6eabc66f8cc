"""The worked examples of docs/studies.md run as written, and give the papers' designs.

Every ``session-coder`` line of the page's ``sh`` blocks is run in order, in process,
in a fresh folder (``$DEMO`` is the shared demo build, which is only read). At the
line ``# raters code their queues in the app`` every planned coding of the project
made by the last ``init`` is scored and submitted as its rater would, through the
rater's own view, with seeded synthetic scores on which two raters mostly agree. A
command of the page that fails, or is renamed, fails the run; the tests then check the
outputs against the papers' designs (issue 13).
"""

from __future__ import annotations

import json
import random
import re
import shlex
from collections import defaultdict
from collections.abc import Iterator
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


def doc_steps() -> list[list[str] | None]:
    """The page's steps in order: a command's arguments (after ``session-coder``), or
    None for the rater step. Other shell lines (comments, ``DEMO=...``) are not run."""
    text = DOC.read_text(encoding="utf-8")
    steps: list[list[str] | None] = []
    for block in SH_BLOCK.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line == RATER_STEP:
                steps.append(None)
            elif line.startswith("session-coder "):
                steps.append(shlex.split(line, comments=True)[1:])
    return steps


@dataclass(frozen=True)
class Run:
    """What running the page gave: each command with its result, and the rater queues
    (scale, session) -> raters as they were at each rater step, by project file name."""

    folder: Path
    results: list[tuple[list[str], CliResult]]
    planned: dict[str, dict[tuple[str, str], set[str]]]
    session_numbers: dict[str, int]
    # (scale, session, rater) -> the fields "prepared by the lab" the rater saw, by file
    prepared: dict[str, dict[tuple[str, str, str], dict[str, str]]]

    def output(self, command: str, *tokens: str) -> str:
        """The stdout of the one command of the page that is ``command`` and has every
        one of ``tokens`` among its arguments."""
        found = [r for args, r in self.results if args[0] == command and set(tokens) <= set(args)]
        assert len(found) == 1, f"the page has {len(found)} 'session-coder {command}' {tokens}"
        return found[0].stdout

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


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, demo_project: Path) -> Iterator[Run]:
    """The whole page, run once in a fresh folder; the demo build is only read."""
    folder = tmp_path_factory.mktemp("studies")
    demo = demo_project.parent
    before = demo_project.stat()
    results: list[tuple[list[str], CliResult]] = []
    coded: dict[str, Coded] = {}
    project: Path | None = None
    for step in doc_steps():
        if step is None:
            assert project is not None, "the rater step comes before any 'init'"
            coded[project.name] = code_every_queue(project, seed=len(coded) + 13)
            continue
        args = [a.replace("$DEMO", str(demo)) for a in step]
        result = run_cli(*args, cwd=folder)
        assert result.returncode == 0, (
            f"'session-coder {shlex.join(step)}' failed ({result.returncode}):\n{result.stderr}"
        )
        results.append((step, result))
        if step[0] == "init":
            project = folder / step[1]
    after = demo_project.stat()
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)
    with Project.open(folder / "hw.scproj") as hw:
        numbers = {s.key: s.session_number for s in hw.sessions()}
    yield Run(
        folder,
        results,
        {name: c.planned for name, c in coded.items()},
        {k: n for k, n in numbers.items() if n is not None},
        {name: c.prepared for name, c in coded.items()},
    )


def test_the_page_has_both_studies_a_rater_step_each_and_is_linked_from_the_readme() -> None:
    steps = doc_steps()
    assert steps.count(None) == 2
    inits = [s[1] for s in steps if s is not None and s[0] == "init"]
    assert inits == ["js.scproj", "hw.scproj"]
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "(docs/studies.md)" in readme


def test_the_demo_step_finds_the_built_demo(run: Run) -> None:
    assert "already built" in run.output("demo")


# Jungbluth & Shirk (2013) -------------------------------------------------------------


def test_js_separate_teams_never_code_the_same_session(run: Run) -> None:
    planned = run.planned["js.scproj"]
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


def test_js_attrition_counts_the_sessions_each_scale_applies_to(run: Run) -> None:
    attrition = run.json("status", "js.scproj")["attrition"]
    assert isinstance(attrition, dict)
    expected = {"hw_adherence": 16, "thabs": 24, "resistance": 8}
    for scale, n in expected.items():
        assert (attrition[scale]["sessions"], attrition[scale]["rated"]) == (n, n), scale


def test_js_thabs_item_4_leaves_the_composite_after_the_check(run: Run) -> None:
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


def test_js_resistance_keeps_the_papers_one_way_icc_beside_the_headline(run: Run) -> None:
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


def test_hw_ghes_and_sthar_have_the_same_two_raters_on_every_session(run: Run) -> None:
    planned = run.planned["hw.scproj"]
    sessions = {session for _scale, session in planned}
    assert len(sessions) == 24  # every session, the first included
    assert {run.session_numbers[s] for s in sessions} == {1, 2, 3}
    for session in sessions:
        ghes, sthar = planned["ghes", session], planned["sthar", session]
        assert ghes == sthar and len(ghes) == 2, session
    plan = run.json("assign", "hw.scproj")
    assert plan["scales"] == ["ghes", "sthar"] and plan["double_coded"] == 24


def test_hw_five_raters_rotate_through_ten_balanced_pairs(run: Run) -> None:
    # 24 double-coded sessions are enough for all 10 pairs of 5 raters (2 or 3 each).
    counts = run.json("assign", "hw.scproj")["pair_counts"]
    assert isinstance(counts, list)
    pairs = {tuple(c["raters"]): c["count"] for c in counts}
    assert len(pairs) == 10 and set().union(*pairs) == set(HW_RATERS)
    assert max(pairs.values()) - min(pairs.values()) <= 1
    assert sum(pairs.values()) == 24
    seen = defaultdict(int)
    for (scale, _session), raters in run.planned["hw.scproj"].items():
        if scale == "ghes":
            seen[tuple(sorted(raters))] += 1
    assert dict(seen) == pairs


@pytest.mark.parametrize("scale", ["ghes", "sthar"])
def test_hw_reliability_per_rater_pair_and_its_summary(run: Run, scale: str) -> None:
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


def test_hw_methods_paragraph_names_the_pairs(run: Run) -> None:
    methods = run.output("reliability", "hw.scproj", "ghes", "--methods")
    assert "5 raters (HA, HB, HC, HD, HE), allocated to 10 rater pairs" in methods
    assert "median" in methods


def test_hw_attrition_and_exports_read_back(run: Run) -> None:
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


def test_hw_ghes_raters_see_the_homework_log_the_lab_entered(run: Run) -> None:
    seen = run.prepared["hw.scproj"]
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


def test_hw_sthar_global_pairs_the_previous_sessions_assignment_with_this_review(
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
