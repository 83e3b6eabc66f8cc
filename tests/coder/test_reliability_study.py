"""Per-pair tables, subsets, training sessions and composites of the reliability command.

Issue 11, points 2-4: ``by_pair`` and ``pair_summary`` checked pair by pair against
pingouin and the summary against numpy; ``--where`` and ``--include-training`` through
the CLI contract on a real project; Cronbach's alpha of a composite against the formula
computed by hand and pingouin.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pingouin
import pytest

from coder.discrepancies import reliability_frame
from coder.planning import PlanRequest, plan_and_save
from coder.reliability import ICC_FORMS, reliability_by_pair, study_reliability, summarize_pairs
from coder.scales import load_builtin_scale
from coder.store.project import Project
from tests.cli import run_cli
from tests.coder.test_reliability_report import (
    assert_report_icc_equals,
    pingouin_icc_long,
    strict_json,
    varying_pair_data,
)
from tests.factories import add_plain_sessions, session

BEHAVIOUR = ("specification", "rationale", "troubleshooting", "review", "praise")


def write_long(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


# --------------------------------------------------------------------- by_pair, summary


def test_by_pair_equals_pingouin_per_pair_and_summary_equals_numpy(tmp_path: Path) -> None:
    df = varying_pair_data(n=80)
    out = run_cli(
        "reliability", "--long", str(write_long(tmp_path / "l.csv", df)), "--range", "hw=0..6",
        "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    pairs = doc["by_pair"]
    # Every pair of raters that shares a session, in string order, with its n.
    coders = df.groupby("session_id")["rater_id"].unique()
    shared: dict[tuple[str, str], set[str]] = {}
    for sid, raters in coders.items():
        rs = sorted(raters)
        for i, a in enumerate(rs):
            for b in rs[i + 1 :]:
                shared.setdefault((a, b), set()).add(str(sid))
    assert [tuple(p["raters"]) for p in pairs] == sorted(shared)
    values: dict[str, dict[str, list[float]]] = {"hw": {}, "secs": {}}
    for pair in pairs:
        a, b = pair["raters"]
        assert pair["n"] == len(shared[(a, b)])
        for item in ("hw", "secs"):
            got = pair["items"][item]
            sub = df[
                df["session_id"].isin(shared[(a, b)])
                & df["rater_id"].isin([a, b])
                & (df["item_id"] == item)
            ]
            if len(shared[(a, b)]) >= 3:
                assert_report_icc_equals(got, pingouin_icc_long(sub, "session_id", "rater_id"))
            for form in ICC_FORMS:
                if got["icc"][form]["value"] is not None:
                    values[item].setdefault(form, []).append(got["icc"][form]["value"])
    for item, forms in values.items():
        for form, vs in forms.items():
            spread = doc["pair_summary"][item][form]
            assert spread["n_pairs"] == len(vs)
            assert spread["min"] == pytest.approx(min(vs), abs=1e-12)
            assert spread["max"] == pytest.approx(max(vs), abs=1e-12)
            assert spread["mean"] == pytest.approx(float(np.mean(vs)), abs=1e-12)
            assert spread["median"] == pytest.approx(float(np.median(vs)), abs=1e-12)


def test_summary_leaves_out_undefined_pairs_and_counts_them() -> None:
    # Pair (a, b) shares 4 sessions; (a, c) only one: its ICC is not defined.
    rows = []
    for i, (x, y) in enumerate([(1, 1), (2, 3), (4, 4), (5, 4)]):
        rows += [(f"s{i}", "a", "q", x), (f"s{i}", "b", "q", y)]
    rows += [("s9", "a", "q", 2), ("s9", "c", "q", 3)]
    df = pd.DataFrame(rows, columns=["session_id", "rater_id", "item_id", "score"])
    by_pair = reliability_by_pair(df)
    spread = summarize_pairs(by_pair)["q"]["ICC2"]
    only = by_pair.pairs[0].items["q"].icc["ICC2"].value
    assert (spread.n_pairs, spread.n_undefined, spread.n_sessions) == (1, 1, 4)
    assert spread.min == spread.max == spread.mean == spread.median == only


def test_text_output_has_pair_tables_and_fixed_items(tmp_path: Path) -> None:
    df = varying_pair_data(n=30)
    fixed = df[df["item_id"] == "hw"].assign(item_id="fixed", score=2.0)
    path = write_long(tmp_path / "l.csv", pd.concat([df, fixed]))
    out = run_cli("reliability", "--long", str(path))
    assert out.returncode == 0, out.stderr
    assert "ICC2 per rater pair" in out.stdout
    assert "ICC2 over rater pairs" in out.stdout
    assert "fixed (always 2)" in out.stdout
    doc = json.loads(run_cli("reliability", "--long", str(path), "--json").stdout)
    assert doc["items"]["fixed"]["structurally_fixed"] is True
    assert doc["items"]["fixed"]["fixed_value"] == 2
    assert doc["items"]["hw"]["structurally_fixed"] is False
    assert doc["items"]["hw"]["fixed_value"] is None


def test_where_needs_a_project(tmp_path: Path) -> None:
    path = write_long(tmp_path / "l.csv", varying_pair_data(n=5))
    out = run_cli("reliability", "--long", str(path), "--where", "phase=I")
    assert out.returncode == 2
    assert "--where" in out.stderr and "PROJECT --scale" in out.stderr


# --------------------------------------------------------------------- a real project


@dataclass(frozen=True)
class Study:
    path: Path
    number: dict[str, int]  # session -> session number
    training: tuple[str, ...]


def build_study(path: Path) -> Study:
    """16 sessions (numbers 1 and 2, sites A and B), raters A-D, all double-coded.

    Review is 0 in every session 1 (nothing to review yet: structurally fixed);
    two training sessions are coded by all four raters.
    """
    rng = np.random.default_rng(11)
    number = {f"S{i:02d}": 1 + i % 2 for i in range(16)}
    training = ("T1", "T2", "T3")
    with Project.create(path) as project:
        project.add_scale(load_builtin_scale("thabs"))
        project.add_raters(["A", "B", "C", "D"])
        add_plain_sessions(
            project,
            [
                session(
                    key,
                    therapist=f"T{n}",
                    session_number=n,
                    phase="I" if int(key[1:]) < 8 else "II",
                    metadata={"site": "A" if int(key[1:]) % 4 < 2 else "B"},
                )
                for key, n in number.items()
            ]
            + [session(key, session_number=3) for key in training],
        )
        plan_and_save(
            project,
            PlanRequest("thabs", ("A", "B", "C", "D"), 16, (), seed=3, training=training),
        )
        truth = {key: int(rng.integers(0, 5)) for key in [*number, *training]}
        for code in ("A", "B", "C", "D"):
            view = project.rater_view(code)
            for entry in view.queue():
                key = entry.session_key
                t = truth[key]
                values = {item: int(np.clip(t + rng.integers(-1, 2), 0, 4)) for item in BEHAVIOUR}
                if number.get(key) == 1:
                    values["review"] = 0
                values["duration"] = 30 + int(rng.integers(0, 20))
                for item, value in values.items():
                    view.set_value(entry.coding_id, item, value)
                view.submit(entry.coding_id)
    return Study(path, number, training)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Study:
    return build_study(tmp_path_factory.mktemp("study") / "study.scproj")


@pytest.fixture
def project(study: Study) -> Iterator[Project]:
    with Project.open(study.path) as project:
        yield project


def reliability(study: Study, *args: str) -> dict[str, Any]:
    out = run_cli("reliability", str(study.path), "--scale", "thabs", *args, "--json")
    assert out.returncode == 0, out.stderr
    return strict_json(json.loads(out.stdout))


def test_where_session_number_restricts_the_sessions_and_flags_fixed_items(
    study: Study, project: Project
) -> None:
    doc = reliability(study, "--where", "session_number=1")
    ones = {k for k, n in study.number.items() if n == 1}
    frame, ranges = reliability_frame(project, "thabs")
    sub = frame[frame["session_id"].isin(ones)]
    assert doc["subset"] == {"where": {"session_number": ["1"]}, "n_sessions": len(ones)}
    assert doc["items"]["specification"]["n_double_coded"] == len(ones)
    review = doc["items"]["review"]
    assert review["structurally_fixed"] is True and review["fixed_value"] == 0
    assert review["icc"]["ICC2"]["value"] is None
    assert doc["items"]["specification"]["structurally_fixed"] is False
    # The subset's ICC is the ICC of those sessions' coders (coder slots, as pingouin).
    spec = sub[sub["item_id"] == "specification"].copy()
    spec["slot"] = spec.groupby("session_id")["rater_id"].rank(method="first")
    assert_report_icc_equals(
        doc["items"]["specification"], pingouin_icc_long(spec, "session_id", "slot")
    )
    # Per pair too, on the subset only.
    for pair in doc["by_pair"]:
        a, b = pair["raters"]
        both = set(sub.loc[sub["rater_id"] == a, "session_id"]) & set(
            sub.loc[sub["rater_id"] == b, "session_id"]
        )
        assert pair["n"] == len(both)
    # Without the subset every session counts.
    whole = reliability(study)
    assert whole["items"]["specification"]["n_double_coded"] == len(study.number)
    assert whole["items"]["review"]["structurally_fixed"] is False
    assert whole["subset"] == {"where": {}, "n_sessions": None}


def test_where_combines_columns_and_metadata(study: Study) -> None:
    doc = reliability(study, "--where", "site=A", "--where", "phase=I", "--where", "phase=II")
    site_a = [k for k in study.number if int(k[1:]) % 4 < 2]
    assert doc["subset"]["n_sessions"] == len(site_a)
    assert doc["items"]["praise"]["n_double_coded"] == len(site_a)
    doc = reliability(study, "--where", "site=A", "--where", "phase=II")
    assert doc["subset"]["n_sessions"] == len([k for k in site_a if int(k[1:]) >= 8])


def test_where_unknown_column_names_the_columns(study: Study) -> None:
    out = run_cli("reliability", str(study.path), "--scale", "thabs", "--where", "sit=A")
    assert out.returncode == 2
    assert "'sit'" in out.stderr
    for column in ("session_number", "phase", "therapist", "site"):
        assert column in out.stderr
    assert "Traceback" not in out.stderr
    out = run_cli("reliability", str(study.path), "--scale", "thabs", "--where", "phase")
    assert out.returncode == 2 and "COLUMN=VALUE" in out.stderr


def test_include_training_reports_icc2k_of_all_raters(study: Study, project: Project) -> None:
    doc = reliability(study, "--include-training")
    training = doc["training"]
    assert training["form"] == "ICC2k"
    assert training["n_sessions"] == len(study.training)
    frame, _ = reliability_frame(project, "thabs", training=True)
    assert set(frame["session_id"]) == set(study.training)
    assert set(frame["rater_id"]) == {"A", "B", "C", "D"}
    for item in BEHAVIOUR:
        got = training["items"][item]
        assert got["k"] == 4 and got["design"] == "crossed"
        sub = frame[frame["item_id"] == item]
        ref = pingouin_icc_long(sub, "session_id", "rater_id")
        assert got["icc"]["ICC2k"]["value"] == pytest.approx(float(ref["ICC2k"]["ICC"]), abs=1e-9)
    # The analysis itself leaves the training sessions out.
    assert not set(doc["items"]) - set(reliability(study)["items"])
    assert "training" not in reliability(study)
    text = run_cli("reliability", str(study.path), "--scale", "thabs", "--include-training")
    assert "Training sessions coded by all raters: 3" in text.stdout


# --------------------------------------------------------------------- composites


def hand_alpha(x: np.ndarray) -> float:
    x = x[np.isfinite(x).all(axis=1)]
    p = x.shape[1]
    return float(p / (p - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1)))


def test_composite_gets_item_statistics_and_cronbach_alpha(study: Study, project: Project) -> None:
    doc = reliability(study)
    frame, _ = reliability_frame(project, "thabs")
    comp = doc["composites"]["behaviour_mean"]
    assert comp["items"] == list(BEHAVIOUR)
    wide = frame.pivot_table(index=["session_id", "rater_id"], columns="item_id", values="score")
    x = wide[list(BEHAVIOUR)].to_numpy(dtype=float)
    alpha = comp["cronbach_alpha"]
    assert alpha["value"] == pytest.approx(hand_alpha(x), abs=1e-12)
    assert alpha["n"] == len(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_alpha, _ = pingouin.cronbach_alpha(pd.DataFrame(x))
    assert alpha["value"] == pytest.approx(ref_alpha, abs=1e-9)
    # The composite is a row of items with every item statistic (the scale's mean).
    item = doc["items"]["behaviour_mean"]
    means = wide[list(BEHAVIOUR)].mean(axis=1).rename("score").reset_index()
    means["item_id"] = "behaviour_mean"
    means["slot"] = means.groupby("session_id")["rater_id"].rank(method="first")
    assert_report_icc_equals(item, pingouin_icc_long(means, "session_id", "slot"))
    text = run_cli("reliability", str(study.path), "--scale", "thabs").stdout
    assert f"behaviour_mean (5 items, n = {len(x)}): alpha = {alpha['value']:.3f}" in text


def test_composite_alpha_needs_two_items_and_cases() -> None:
    df = pd.DataFrame(
        [("s1", "a", "x", 1.0), ("s1", "b", "x", 2.0)],
        columns=["session_id", "rater_id", "item_id", "score"],
    )
    study = study_reliability(df, composites={"one": ("x",), "gone": ("x", "missing")})
    assert study.composites["one"].alpha.value is None
    assert study.composites["one"].alpha.why
    assert study.composites["gone"].alpha.value is None
    assert study.composites["gone"].to_json()["items"] == ["x", "missing"]


def test_calibration_rule_takes_every_raters_newest_training_coding() -> None:
    from coder.analysis_set import CodingFact, calibration_codings

    def fact(
        cid: int, session: str, rater: str, role: str, status: str = "submitted", flag: bool = False
    ) -> CodingFact:
        return CodingFact(cid, "s", session, rater, role, status, flag)

    facts = [
        fact(1, "T1", "A", "training"),
        fact(2, "T1", "B", "training"),
        fact(3, "T1", "M", "master"),  # the reference, not a rater
        fact(4, "T1", "C", "training", status="in_progress"),
        fact(5, "T1", "A", "training"),  # A's newer coding speaks
        fact(6, "X1", "A", "primary"),  # analysis codings never count
        fact(7, "X1", "B", "second"),
        fact(8, "F1", "A", "certification", flag=True),  # a session marked training
        fact(9, "F1", "B", "primary", flag=True),
        fact(10, "F2", "A", "training"),  # one rater only: nothing to compare
    ]
    got = calibration_codings(facts)
    assert {k: [c.coding_id for c in v] for k, v in got.items()} == {
        ("s", "T1"): [5, 2],
        ("s", "F1"): [8, 9],
    }


# --------------------------------------------------------------------- exports


def test_exports_hold_the_pair_tables_and_composite_alpha(
    study: Study, project: Project, tmp_path: Path
) -> None:
    import openpyxl

    from coder.export_data import build_export_bundle
    from exports.csv_export import write_csv
    from exports.xlsx_export import write_xlsx

    doc = reliability(study)
    bundle = build_export_bundle(project, scale_ids=["thabs"])
    table = bundle.reliability_pairs
    column = {v.item_id: v.column for v in bundle.variables_by_scale["thabs"]}
    assert len(table) == sum(len(p["items"]) for p in doc["by_pair"])
    for pair in doc["by_pair"]:
        a, b = pair["raters"]
        rows = table[(table["rater_A"] == a) & (table["rater_B"] == b)].set_index("variable")
        assert set(rows["n_shared"]) == {pair["n"]}
        for item, got in pair["items"].items():
            for form in ICC_FORMS:
                want = got["icc"][form]["value"]
                cell = rows.loc[column[item], form]
                assert math.isnan(cell) if want is None else cell == pytest.approx(want)
    summary = bundle.reliability_pair_summary.set_index(["variable", "form"])
    for item, forms in doc["pair_summary"].items():
        for form, spread in forms.items():
            row = summary.loc[(column[item], form)]
            assert row["n_pairs"] == spread["n_pairs"]
            if spread["mean"] is not None:
                assert row["mean"] == pytest.approx(spread["mean"])
                assert row["median"] == pytest.approx(spread["median"])
    rel = bundle.reliability.set_index("variable")
    alpha = doc["composites"]["behaviour_mean"]["cronbach_alpha"]
    mean = column["behaviour_mean"]
    assert rel.loc[mean, "cronbach_alpha"] == pytest.approx(alpha["value"])
    assert rel.loc[mean, "cronbach_alpha_n"] == alpha["n"]
    assert math.isnan(rel.loc[column["praise"], "cronbach_alpha"])  # items have none
    wb = openpyxl.load_workbook(write_xlsx(bundle, tmp_path / "e.xlsx"), read_only=True)
    assert {"reliability_pairs", "reliability_pair_summary"} <= set(wb.sheetnames)
    written = [p.name for p in write_csv(bundle, tmp_path / "e.csv")]
    assert "e_reliability_pairs.csv" in written and "e_reliability_pair_summary.csv" in written


# --------------------------------------------------------------------- methods


def apa_number(text: str) -> float:
    return float(text.replace(".", "0.", 1) if text.lstrip("-").startswith(".") else text)


def test_methods_paragraph_carries_the_reports_numbers(study: Study) -> None:
    import re

    doc = reliability(study, "--include-training", "--methods")
    text = doc["methods"]
    out = run_cli(
        "reliability", str(study.path), "--scale", "thabs", "--include-training", "--methods"
    )
    assert out.returncode == 0 and out.stdout.strip() == text
    n_double = doc["items"]["specification"]["n_double_coded"]
    assert f"assessed on {n_double} of {len(study.number)} coded sessions" in text
    assert "100% double-coded" in text
    assert "seed 3" in text and "pool of 4 raters (A, B, C, D)" in text
    n_pairs = len(doc["by_pair"])
    counts = [p["n"] for p in doc["by_pair"]]
    assert f"allocated to {n_pairs} rater pairs ({min(counts)} to {max(counts)} sessions" in text
    # The form and its reason are the report's recommendation (varying pairs: ICC(A,1)
    # of the variance components).
    rec = doc["items"]["specification"]["recommended"]
    assert doc["items"]["specification"]["recommended_form"] == "ICC_A1"
    assert f"We report the {rec['label']}: the rater pairs vary across sessions" in text
    assert "parametric bootstrap" in text
    # Each item's value and CI, parsed back, equal the report's to two decimals.
    labels = {
        "specification": "Specification of the task",
        "praise": "Praise for homework adherence",
        "behaviour_mean": "Mean of the five behaviour ratings",
    }
    number = r"(-?(?:\d)?\.\d\d|-?1\.00)"
    for item, label in labels.items():
        icc = doc["items"][item]["recommended"]
        match = re.search(
            re.escape(label) + rf" {number}, 95% CI \[{number}, {number}\] \(n = (\d+)\)", text
        )
        assert match, item
        value, lo, hi, n = match.groups()
        assert apa_number(value) == round(icc["value"], 2)
        assert (apa_number(lo), apa_number(hi)) == (
            round(icc["ci95"][0], 2),
            round(icc["ci95"][1], 2),
        )
        assert int(n) == doc["items"][item]["n_sessions"]
        spread = doc["pair_summary"][item]["ICC2"]
        match = re.search(
            re.escape(label)
            + rf" {number} to {number} \(mean {number}, median {number}, (\d+) pairs\)",
            text,
        )
        assert match, item
        lo, hi, mean, median, pairs = match.groups()
        assert [apa_number(v) for v in (lo, hi, mean, median)] == [
            round(spread[k], 2) for k in ("min", "max", "mean", "median")
        ]
        assert int(pairs) == spread["n_pairs"]
    alpha = doc["composites"]["behaviour_mean"]["cronbach_alpha"]
    match = re.search(rf"Cronbach's alpha\) was Mean of the five behaviour ratings {number}", text)
    assert match and apa_number(match.group(1)) == round(alpha["value"], 2)
    icc2k = doc["training"]["items"]["praise"]["icc"]["ICC2k"]["value"]
    match = re.search(
        rf"coded by all 4 raters, ICC\(2,k\) was .*Praise for homework adherence {number}", text
    )
    assert match and apa_number(match.group(1)) == round(icc2k, 2)


def test_methods_paragraph_of_a_subset_names_it_and_the_fixed_items(study: Study) -> None:
    doc = reliability(study, "--where", "session_number=1", "--methods")
    text = doc["methods"]
    ones = sum(1 for n in study.number.values() if n == 1)
    assert f"on {ones} of {ones} coded sessions (session_number = 1)" in text
    assert "Review of previous homework assignment (always 0) had no variance" in text
    assert "Review of previous homework assignment ." not in text  # not reported as a value


def test_methods_paragraph_of_a_long_csv(tmp_path: Path) -> None:
    df = varying_pair_data(n=40)
    path = write_long(tmp_path / "l.csv", df)
    out = run_cli("reliability", "--long", str(path), "--methods")
    assert out.returncode == 0, out.stderr
    n = df[df["item_id"] == "hw"].groupby("session_id").size().ge(2).sum()
    assert f"assessed on {n} double-coded sessions" in out.stdout
    assert "We report the ICC(A,1): the rater pairs vary across sessions" in out.stdout
    assert "5 raters (Bob, anna, r10, r2, r9)" in out.stdout


def test_xlsx_readme_holds_the_methods_paragraph(
    study: Study, project: Project, tmp_path: Path
) -> None:
    import openpyxl

    from coder.export_data import build_export_bundle
    from exports.xlsx_export import write_xlsx

    cli = reliability(study, "--methods")["methods"]
    bundle = build_export_bundle(project, scale_ids=["thabs"])
    assert bundle.methods == {"thabs": cli}
    wb = openpyxl.load_workbook(write_xlsx(bundle, tmp_path / "m.xlsx"), read_only=True)
    rows = [tuple(r) + (None,) * 3 for r in wb["README"].iter_rows(values_only=True)]
    at = next(i for i, r in enumerate(rows) if r[0] == "Methods")
    assert (rows[at + 2][0], rows[at + 2][2]) == ("thabs", cli)
    from exports.csv_export import write_csv

    readme = write_csv(bundle, tmp_path / "m.csv")[-1].read_text(encoding="utf-8")
    assert f"thabs: {cli}\n" in readme


# Shrout & Fleiss ICC(2,1), ICC(3,1) and ICC(1,1) of every rater pair, in base R from
# the two-way ANOVA (aov) of the pair's shared sessions: an outside computation of the
# by_pair table, and its summary over pairs with R's min, max, mean and median.
R_PAIRS = r"""
d <- read.csv(commandArgs(TRUE)[1], colClasses = c("character", "character", "character", "numeric"))
d <- d[d$item_id == "hw", ]
raters <- sort(unique(d$rater_id), method = "radix")
out <- c()
icc2 <- c()
for (i in seq_along(raters)) for (j in seq_along(raters)) if (i < j) {
  a <- raters[i]; b <- raters[j]
  s <- intersect(d$session_id[d$rater_id == a], d$session_id[d$rater_id == b])
  if (length(s) < 3) next
  p <- d[d$session_id %in% s & d$rater_id %in% c(a, b), ]
  p$session_id <- factor(p$session_id); p$rater_id <- factor(p$rater_id)
  t <- summary(aov(score ~ session_id + rater_id, data = p))[[1]]
  n <- length(s); k <- 2
  msb <- t[1, "Mean Sq"]; msj <- t[2, "Mean Sq"]; mse <- t[3, "Mean Sq"]
  msw <- (t[2, "Sum Sq"] + t[3, "Sum Sq"]) / (n * (k - 1))
  v2 <- (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
  v3 <- (msb - mse) / (msb + (k - 1) * mse)
  v1 <- (msb - msw) / (msb + (k - 1) * msw)
  icc2 <- c(icc2, v2)
  cat(a, b, n, sprintf("%.12f", c(v1, v2, v3)), "\n")
}
cat("summary", sprintf("%.12f", c(min(icc2), max(icc2), mean(icc2), median(icc2))), "\n")
"""


def test_by_pair_and_summary_equal_base_r(tmp_path: Path) -> None:
    from tests.r_lang import run_r

    df = varying_pair_data(n=90)
    path = write_long(tmp_path / "l.csv", df)
    doc = json.loads(run_cli("reliability", "--long", str(path), "--json").stdout)
    pairs = {tuple(p["raters"]): p for p in doc["by_pair"]}
    lines = run_r(R_PAIRS, str(path)).strip().splitlines()
    checked = 0
    for line in lines[:-1]:
        a, b, n, v1, v2, v3 = line.split()
        pair = pairs[(a, b)]
        assert pair["n"] == int(n)
        icc = pair["items"]["hw"]["icc"]
        for form, value in (("ICC1", v1), ("ICC2", v2), ("ICC3", v3)):
            assert icc[form]["value"] == pytest.approx(float(value), abs=1e-9), (a, b, form)
        checked += 1
    assert checked >= 5
    lo, hi, mean, median = (float(v) for v in lines[-1].split()[1:])
    spread = doc["pair_summary"]["hw"]["ICC2"]
    assert spread["n_pairs"] == checked == len(pairs)  # every pair shares >= 3 sessions
    assert (spread["min"], spread["max"]) == (pytest.approx(lo), pytest.approx(hi))
    assert spread["mean"] == pytest.approx(mean, abs=1e-12)
    assert spread["median"] == pytest.approx(median, abs=1e-12)


def test_where_values_no_session_has_are_named_and_numbers_compare_as_numbers(
    study: Study,
) -> None:
    def run(*where: str) -> Any:
        return run_cli("reliability", str(study.path), "--scale", "thabs", *where, "--json")

    out = run("--where", "phase=III")
    assert out.returncode == 2
    assert "no session has phase 'III'" in out.stderr and "'I', 'II'" in out.stderr
    out = run("--where", "phase=II", "--where", "session_number=3")  # training ones are 3
    assert out.returncode == 2 and "together" in out.stderr
    ones = json.loads(run("--where", "session_number=01").stdout)["subset"]
    assert ones["n_sessions"] == sum(1 for n in study.number.values() if n == 1)
