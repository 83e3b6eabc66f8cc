"""Long rating files, the design check and the reliability report (SPEC sections 5, 9)."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import pandas as pd
import pingouin
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from coder.cli import main as cli_main
from coder.errors import InputError
from coder.reliability import (
    ICC_FORMS,
    ReliabilityReport,
    check_design,
    format_report_table,
    load_long_csv,
    reliability_by_pair,
    reliability_drift,
    reliability_report,
)

PINGOUIN_NAMES = {
    "ICC(1,1)": "ICC1",
    "ICC(A,1)": "ICC2",
    "ICC(C,1)": "ICC3",
    "ICC(1,k)": "ICC1k",
    "ICC(A,k)": "ICC2k",
    "ICC(C,k)": "ICC3k",
}

ITEM_KEYS = {
    "n_sessions",
    "n_raters",
    "design",
    "categories",
    "category_source",
    "icc",
    "kappa",
    "krippendorff_alpha",
    "agreement",
}


def long_frame(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["session_id", "rater_id", "item_id", "score"])


def wide_to_long(
    matrix: np.ndarray, raters: list[str], item: str = "hw", prefix: str = "S"
) -> pd.DataFrame:
    rows = []
    for i, row in enumerate(matrix):
        for rater, score in zip(raters, row, strict=True):
            rows.append((f"{prefix}{i:03d}", rater, item, float(score)))
    return long_frame(rows)


def pingouin_icc_long(long: pd.DataFrame, targets: str, raters: str) -> dict[str, Any]:
    old = dict(pingouin.options)
    pingouin.options["round.column.CI95"] = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = pingouin.intraclass_corr(long, targets, raters, "score", nan_policy="omit")
    finally:
        pingouin.options.clear()
        pingouin.options.update(old)
    return {PINGOUIN_NAMES[r["Type"]]: r for _, r in table.iterrows()}


def assert_report_icc_equals(item: dict[str, Any], ref: dict[str, Any], tol: float = 1e-9) -> None:
    for name in ICC_FORMS:
        got = item["icc"][name]
        want = ref[name]
        assert got["value"] == pytest.approx(float(want["ICC"]), rel=tol, abs=tol), name
        assert got["F"] == pytest.approx(float(want["F"]), rel=tol), name
        assert (got["df1"], got["df2"]) == (int(want["df1"]), int(want["df2"])), name
        assert got["p"] == pytest.approx(float(want["pval"]), rel=1e-7, abs=1e-12), name
        assert got["ci95"][0] == pytest.approx(float(want["CI95"][0]), rel=tol, abs=tol), name
        assert got["ci95"][1] == pytest.approx(float(want["CI95"][1]), rel=tol, abs=tol), name


def strict_json(report: dict[str, Any]) -> dict[str, Any]:
    """The report must survive strict JSON; return it as parsed back."""
    parsed: dict[str, Any] = json.loads(json.dumps(report, allow_nan=False))
    return parsed


def varying_pair_data(seed: int = 3, n: int = 60) -> pd.DataFrame:
    """Two raters per session, pairs drawn from five raters (ids test string order)."""
    rng = np.random.default_rng(seed)
    raters = ["r10", "r2", "r9", "anna", "Bob"]
    rows = []
    for s in range(n):
        pair = rng.choice(len(raters), size=2, replace=False)
        truth = int(rng.integers(0, 7))
        for r in pair:
            score = float(np.clip(truth + rng.integers(-1, 2), 0, 6))
            rows.append((f"S{s:03d}", raters[r], "hw", score))
            rows.append((f"S{s:03d}", raters[r], "secs", float(rng.normal(300, 60))))
    # some single-coded sessions, which must not count
    for s in range(n, n + 10):
        rows.append((f"S{s:03d}", "r2", "hw", float(rng.integers(0, 7))))
    return long_frame(rows)


# --------------------------------------------------------------------- load_long_csv


def write(tmp_path: Path, text: str, name: str = "ratings.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_load_long_csv_reads_ids_as_strings_and_blank_as_missing(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "\ufeffsession_id,rater_id,item_id,score,comment\n"
        "007,01,hw,3,ok\n"
        "007,02,hw,,blank\n"
        "\n"
        "008, 01 ,hw,2.5,x\n",
    )
    df = load_long_csv(path)
    assert list(df.columns) == ["session_id", "rater_id", "item_id", "score"]
    assert df["session_id"].tolist() == ["007", "007", "008"]
    assert df["rater_id"].tolist() == ["01", "02", "01"]
    assert df["score"].iloc[0] == 3.0
    assert math.isnan(df["score"].iloc[1])
    assert df["score"].iloc[2] == 2.5


def test_load_long_csv_fast_and_line_by_line_readers_agree(tmp_path: Path) -> None:
    from coder.reliability._io import _load_exact

    path = write(
        tmp_path,
        "\ufeff session_id ,rater_id,item_id,score,note\n"
        '"S,1",R1,hw,3,"a, b"\n'
        "S2, R2 ,hw,,\n"
        "\n"
        "   \n"
        "S3,R1,hw,-2.5e0,\n"
        "007,R1,hw,4,x\n",
    )
    fast = load_long_csv(path)
    exact = _load_exact(path)
    pd.testing.assert_frame_equal(fast, exact)
    assert fast["session_id"].tolist() == ["S,1", "S2", "S3", "007"]
    assert fast["score"].iloc[2] == -2.5


def test_load_long_csv_reads_r_write_csv_na_as_missing(tmp_path: Path) -> None:
    """R's write.csv writes a missing score as NA (quoted ids, unquoted NA)."""
    from coder.reliability._io import _load_exact

    path = write(
        tmp_path,
        '"session_id","rater_id","item_id","score"\n'
        '"S1","A","hw",3\n"S1","B","hw",NA\n"S2","A","hw",NA\n"S2","B","hw",0\n',
    )
    fast = load_long_csv(path)
    pd.testing.assert_frame_equal(fast, _load_exact(path))
    assert fast["score"].isna().tolist() == [False, True, True, False]
    assert fast["score"].iloc[3] == 0


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("session_id,rater_id,score\nS1,A,3\n", ["line 1", "missing column item_id"]),
        (
            "session_id,rater_id,item_id,score\nS1,A,hw,3\nS1,B,hw,three\n",
            ["line 3", "column score", "'three' is not a number"],
        ),
        (
            "session_id,rater_id,item_id,score\nS1,A,hw,n/a\n",
            ["line 2", "column score", "leave the cell empty (or write NA)"],
        ),
        (
            "session_id,rater_id,item_id,score\nS1,A,hw,3\nS2,A,hw,1\nS1,A,hw,4\n",
            ["line 4", "duplicate row", "'S1'", "first at line 2"],
        ),
        ("session_id,rater_id,item_id,score\nS1,,hw,3\n", ["line 2", "column rater_id", "empty"]),
        ("session_id,rater_id,item_id,score\nS1,A\n", ["line 2", "column item_id", "missing"]),
        ("session_id,rater_id,item_id,score\nS1,A,hw,inf\n", ["line 2", "not a number"]),
        ("", ["empty"]),
        ("session_id,rater_id,item_id,score\n", ["no data rows"]),
    ],
)
def test_load_long_csv_errors_name_file_line_and_column(
    tmp_path: Path, text: str, fragments: list[str]
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_long_csv(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message
    assert info.value.exit_code == 2


def test_load_long_csv_rejects_non_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, "session_id,rater_id,item_id,score\nSé,A,hw,3\n", encoding="latin-1")
    with pytest.raises(InputError, match="UTF-8"):
        load_long_csv(path)


def test_load_long_csv_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_long_csv(tmp_path / "absent.csv")


# ---------------------------------------------------------------------- design check


def test_design_crossed_uses_rater_columns() -> None:
    matrix = np.array([[1, 2, 2], [3, 3, 4], [5, 4, 5], [2, 2, 2]], dtype=float)
    design = check_design(wide_to_long(matrix, ["B", "A", "C"]))
    assert design.design == "crossed"
    assert design.columns == ("A", "B", "C")
    np.testing.assert_array_equal(design.matrix, matrix[:, [1, 0, 2]])
    assert "Fully crossed" in design.note


def test_design_varying_pairs_puts_lower_string_id_in_slot_a() -> None:
    df = long_frame(
        [
            ("S1", "r9", "hw", 5.0),
            ("S1", "r10", "hw", 1.0),  # "r10" < "r9" in string order
            ("S2", "anna", "hw", 2.0),
            ("S2", "Bob", "hw", 3.0),  # "Bob" < "anna" (upper case sorts first)
            ("S3", "r9", "hw", 4.0),
        ]
    )
    design = check_design(df, "hw")
    assert design.design == "varying_pairs"
    assert design.columns == ("A", "B")
    assert design.sessions == ("S1", "S2")
    np.testing.assert_array_equal(design.matrix, [[1.0, 5.0], [3.0, 2.0]])
    assert design.raters == ("Bob", "anna", "r10", "r9")
    assert "The headline is ICC(A,1) from the variance components" in design.note
    assert design.n_double_coded == 2


def test_design_mixed_numbers_of_coders_uses_the_most_common() -> None:
    rows = []
    for s in range(4):
        rows += [(f"S{s}", "A", "hw", float(s)), (f"S{s}", "B", "hw", float(s + 1))]
    rows += [("S9", "A", "hw", 1.0), ("S9", "B", "hw", 1.0), ("S9", "C", "hw", 2.0)]
    design = check_design(long_frame(rows))
    assert design.design == "varying_raters"
    assert design.k == 2 and design.matrix.shape == (4, 2)
    assert design.n_excluded == 1
    assert "left out" in design.note


def test_design_counts_blank_scores_as_coded() -> None:
    # Crossed A/B, but B left one session blank: still crossed; listwise later.
    df = long_frame(
        [("S1", "A", "hw", 1.0), ("S1", "B", "hw", 1.0), ("S2", "A", "hw", 2.0)]
        + [("S2", "B", "hw", math.nan), ("S3", "A", "hw", 3.0), ("S3", "B", "hw", 2.0)]
    )
    design = check_design(df)
    assert design.design == "crossed"
    assert design.matrix.shape == (3, 2)


def test_check_design_needs_an_item_when_there_are_several() -> None:
    df = long_frame([("S1", "A", "a", 1.0), ("S1", "A", "b", 1.0)])
    with pytest.raises(InputError, match="name the item"):
        check_design(df)
    with pytest.raises(InputError, match="not in the rating data"):
        check_design(df, "c")


# --------------------------------------------------------------- reliability_report


def test_report_has_exactly_the_contract_keys_and_is_strict_json() -> None:
    report = strict_json(reliability_report(varying_pair_data(), {"hw": (0, 6)}).to_json())
    assert set(report) == {"items"}
    for item in report["items"].values():
        assert set(item) >= ITEM_KEYS
        assert set(item["icc"]) == set(ICC_FORMS)
        for form in item["icc"].values():
            assert {"value", "F", "df1", "df2", "p", "ci95"} <= set(form)
        assert set(item["kappa"]) == {"unweighted", "linear", "quadratic"}
        assert set(item["krippendorff_alpha"]) == {"nominal", "ordinal", "interval"}
        assert set(item["agreement"]) == {"exact", "within_one"}
        for group in ("icc", "kappa", "krippendorff_alpha", "agreement"):
            for stat in item[group].values():
                assert "value" in stat
                if stat["value"] is None:
                    assert stat["why"]


def test_report_varying_pairs_icc_equals_pingouin_on_coder_slots() -> None:
    df = varying_pair_data()
    item = reliability_report(df, {"hw": (0, 6)}).to_json()["items"]["hw"]
    assert item["design"] == "varying_pairs"
    assert item["n_sessions"] == 60  # single-coded sessions are not counted
    assert item["n_raters"] == 5
    assert item["categories"] == [0, 6] and item["category_source"] == "range"
    # Independent slot assignment: A = lower rater id in string order.
    hw = df[df["item_id"] == "hw"].copy()
    hw = hw[hw.groupby("session_id")["rater_id"].transform("size") == 2]
    hw = hw.sort_values(["session_id", "rater_id"])  # Python string order, like sorted()
    hw["slot"] = np.tile(["A", "B"], len(hw) // 2)
    assert_report_icc_equals(item, pingouin_icc_long(hw, "session_id", "slot"))
    wide = hw.pivot(index="session_id", columns="slot", values="score")
    for weights in ("unweighted", "linear", "quadratic"):
        ref = cohen_kappa_score(
            wide["A"],
            wide["B"],
            labels=list(range(7)),
            weights=None if weights == "unweighted" else weights,
        )
        assert item["kappa"][weights]["value"] == pytest.approx(ref, abs=1e-12)


def test_report_continuous_seconds_match_pingouin_and_krippendorff() -> None:
    df = varying_pair_data()
    item = reliability_report(df).to_json()["items"]["secs"]
    assert item["category_source"] == "observed"
    assert item["kappa"]["linear"]["value"] is None
    assert "whole-number" in item["kappa"]["linear"]["why"]
    secs = df[df["item_id"] == "secs"].sort_values(["session_id", "rater_id"]).copy()
    secs["slot"] = np.tile(["A", "B"], len(secs) // 2)
    assert_report_icc_equals(item, pingouin_icc_long(secs, "session_id", "slot"))
    by_rater = secs.pivot(index="rater_id", columns="session_id", values="score").to_numpy()
    for level in ("nominal", "ordinal", "interval"):
        ref = krippendorff.alpha(by_rater, level_of_measurement=level)
        assert item["krippendorff_alpha"][level]["value"] == pytest.approx(ref, abs=1e-9)


def test_report_crossed_three_raters_with_missing_scores() -> None:
    rng = np.random.default_rng(21)
    truth = rng.integers(1, 6, size=(40, 1))
    matrix = np.clip(truth + rng.integers(-1, 2, size=(40, 3)), 1, 5).astype(float)
    matrix[rng.random((40, 3)) < 0.1] = np.nan
    df = wide_to_long(matrix, ["A", "B", "C"])
    item = strict_json(reliability_report(df, {"hw": (1, 5)}).to_json())["items"]["hw"]
    assert item["design"] == "crossed"
    assert item["n_sessions"] == int(np.isfinite(matrix).all(axis=1).sum())
    assert_report_icc_equals(item, pingouin_icc_long(df, "session_id", "rater_id"))
    # Kappa is for two coders only.
    assert item["kappa"]["unweighted"]["value"] is None
    assert "exactly two coders" in item["kappa"]["unweighted"]["why"]
    # Krippendorff's alpha uses every observed rating, including incomplete sessions.
    for level in ("nominal", "ordinal", "interval"):
        ref = krippendorff.alpha(matrix.T, level_of_measurement=level, value_domain=range(1, 6))
        assert item["krippendorff_alpha"][level]["value"] == pytest.approx(ref, abs=1e-9)
    # Agreement: every rater pair of every session with both scores present.
    pairs = [(0, 1), (0, 2), (1, 2)]
    diffs = np.concatenate([np.abs(matrix[:, i] - matrix[:, j]) for i, j in pairs])
    diffs = diffs[np.isfinite(diffs)]
    assert item["agreement"]["exact"]["value"] == pytest.approx(np.mean(diffs == 0))
    assert item["agreement"]["within_one"]["value"] == pytest.approx(np.mean(diffs <= 1))
    assert item["agreement"]["exact"]["n"] == diffs.size


def test_report_ceiling_effect_matches_references() -> None:
    matrix = np.array(
        [[4, 4], [4, 4], [4, 3], [4, 4], [3, 4], [4, 4], [2, 3], [4, 4], [4, 4], [3, 3]],
        dtype=float,
    )
    df = wide_to_long(matrix, ["A", "B"])
    item = reliability_report(df, {"hw": (0, 4)}).to_json()["items"]["hw"]
    assert_report_icc_equals(item, pingouin_icc_long(df, "session_id", "rater_id"))
    ref = cohen_kappa_score(matrix[:, 0], matrix[:, 1], labels=[0, 1, 2, 3, 4], weights="linear")
    assert item["kappa"]["linear"]["value"] == pytest.approx(ref, abs=1e-12)
    ref_alpha = krippendorff.alpha(matrix.T, level_of_measurement="ordinal", value_domain=range(5))
    assert item["krippendorff_alpha"]["ordinal"]["value"] == pytest.approx(ref_alpha, abs=1e-12)


def test_report_perfect_agreement_renders_infinity() -> None:
    matrix = np.array([[1, 1], [3, 3], [2, 2], [4, 4]], dtype=float)
    report = strict_json(reliability_report(wide_to_long(matrix, ["A", "B"])).to_json())
    item = report["items"]["hw"]
    for name in ICC_FORMS:
        assert item["icc"][name]["value"] == 1.0
        assert item["icc"][name]["F"] == "Infinity"
        assert item["icc"][name]["ci95"] == [1.0, 1.0]
    assert item["kappa"]["unweighted"]["value"] == 1.0
    assert item["agreement"]["exact"]["value"] == 1.0


def test_perfect_agreement_f_is_inf_in_the_typed_report_and_infinity_only_in_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    matrix = np.array([[1, 1], [3, 3], [2, 2], [4, 4]], dtype=float)
    df = wide_to_long(matrix, ["A", "B"])
    report = reliability_report(df)
    item = report.items["hw"]
    for form in item.icc:
        assert form.value == 1.0 and form.ci95 == (1.0, 1.0)
        assert isinstance(form.f, float) and form.f == math.inf
        assert form.p == 0.0
    # The text table prints the float as it is; only the JSON spells it "Infinity".
    assert "inf" in format_report_table(report).split()
    assert report.to_json()["items"]["hw"]["icc"]["ICC2"]["F"] == "Infinity"
    df.to_csv(tmp_path / "long.csv", index=False)
    assert cli_main(["reliability", "--long", str(tmp_path / "long.csv"), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    # The CLI adds keys beside the report's (by_pair, pair_summary, ...); these are equal.
    for item_id, item_json in strict_json(report.to_json())["items"].items():
        assert {k: printed["items"][item_id][k] for k in item_json} == item_json
    assert printed["items"]["hw"]["icc"]["ICC1"]["F"] == "Infinity"


def test_report_zero_variance_is_undefined_everywhere_with_reasons() -> None:
    matrix = np.full((5, 2), 3.0)
    item = strict_json(
        reliability_report(wide_to_long(matrix, ["A", "B"]), {"hw": (1, 5)}).to_json()
    )["items"]["hw"]
    for name in ICC_FORMS:
        assert item["icc"][name]["value"] is None
        assert "no variance" in item["icc"][name]["why"]
    for group in ("kappa", "krippendorff_alpha"):
        for stat in item[group].values():
            assert stat["value"] is None and stat["why"]
    assert item["agreement"]["exact"]["value"] == 1.0


def test_report_single_session_is_undefined() -> None:
    item = reliability_report(wide_to_long(np.array([[2.0, 3.0]]), ["A", "B"])).to_json()["items"][
        "hw"
    ]
    assert item["icc"]["ICC1"]["value"] is None
    assert "at least 2 sessions" in item["icc"]["ICC1"]["why"]
    assert item["kappa"]["linear"]["value"] is None


def test_report_range_for_an_absent_item_is_listed_as_not_double_coded() -> None:
    df = wide_to_long(np.array([[1.0, 2.0], [2.0, 2.0], [3.0, 3.0]]), ["A", "B"])
    report = strict_json(reliability_report(df, {"hw": (1, 5), "typo": (0, 4)}).to_json())
    assert list(report["items"]) == ["hw", "typo"]
    typo = report["items"]["typo"]
    assert typo["design"] == "not_double_coded"
    assert typo["n_sessions"] == 0
    assert typo["categories"] == [0, 4] and typo["category_source"] == "range"
    assert typo["icc"]["ICC2"]["value"] is None and typo["icc"]["ICC2"]["why"]


def test_report_observed_categories_are_said() -> None:
    df = wide_to_long(np.array([[1.0, 2.0], [2.0, 2.0], [5.0, 4.0]]), ["A", "B"])
    item = reliability_report(df).to_json()["items"]["hw"]
    assert item["categories"] == [1, 5] and item["category_source"] == "observed"


def test_report_rejects_scores_outside_the_range() -> None:
    df = wide_to_long(np.array([[1.0, 2.0], [7.0, 2.0]]), ["A", "B"])
    with pytest.raises(InputError) as info:
        reliability_report(df, {"hw": (0, 6)})
    message = str(info.value)
    for fragment in ("'hw'", "score 7", "'A'", "'S001'", "0..6"):
        assert fragment in message


@pytest.mark.parametrize("bad", [(6, 0), (0.5, 6), (3, 3), ("a", 6)])
def test_report_rejects_malformed_ranges(bad: Any) -> None:
    df = wide_to_long(np.array([[1.0, 2.0], [3.0, 2.0]]), ["A", "B"])
    with pytest.raises(InputError, match="range for item 'hw'"):
        reliability_report(df, {"hw": bad})


@pytest.mark.parametrize(
    ("frame", "fragment"),
    [
        (pd.DataFrame({"session_id": ["S1"], "rater_id": ["A"], "score": [1.0]}), "item_id"),
        (long_frame([("S1", "A", "hw", 1.0), ("S1", "A", "hw", 2.0)]), "duplicate row"),
        (
            pd.DataFrame(
                {"session_id": ["S1"], "rater_id": ["A"], "item_id": ["hw"], "score": ["x"]}
            ),
            "not a finite number",
        ),
        (
            pd.DataFrame(
                {"session_id": [None], "rater_id": ["A"], "item_id": ["hw"], "score": [1.0]}
            ),
            "column session_id: missing",
        ),
    ],
)
def test_report_rejects_malformed_frames(frame: pd.DataFrame, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        reliability_report(frame)


def test_report_accepts_numeric_ids_and_text_scores() -> None:
    df = pd.DataFrame(
        {
            "session_id": [1, 1, 2, 2, 3, 3],
            "rater_id": [10, 9, 10, 9, 10, 9],
            "item_id": ["hw"] * 6,
            "score": ["1", "2", "", "3", "4", "4"],
        }
    )
    item = reliability_report(df).to_json()["items"]["hw"]
    # rater "10" < "9" as strings; session 2 has a blank score and drops out (listwise).
    assert item["n_sessions"] == 2
    assert item["raters"] == ["10", "9"]


def test_report_varying_raters_uses_slots_and_keeps_alpha_on_all_ratings() -> None:
    rows = []
    rng = np.random.default_rng(4)
    raters = ["A", "B", "C", "D"]
    matrix = np.full((30, 4), np.nan)
    for s in range(30):
        chosen = rng.choice(4, size=3 if s % 5 == 0 else 2, replace=False)
        truth = int(rng.integers(0, 5))
        for r in chosen:
            score = float(np.clip(truth + rng.integers(-1, 2), 0, 4))
            matrix[s, r] = score
            rows.append((f"S{s:02d}", raters[r], "hw", score))
    item = strict_json(reliability_report(long_frame(rows)).to_json())["items"]["hw"]
    assert item["design"] == "varying_raters"
    assert item["k"] == 2 and item["n_sessions"] == 24
    for level in ("nominal", "ordinal", "interval"):
        ref = krippendorff.alpha(matrix.T, level_of_measurement=level)
        assert item["krippendorff_alpha"][level]["value"] == pytest.approx(ref, abs=1e-9)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["S1", "S2", "S3", "S4", "S5"]),
            st.sampled_from(["A", "B", "C"]),
            st.sampled_from(["i1", "i2"]),
            st.one_of(st.none(), st.integers(0, 4), st.floats(0, 4, allow_nan=False)),
        ),
        max_size=40,
        unique_by=lambda r: (r[0], r[1], r[2]),
    )
)
def test_report_is_always_strict_json_and_explains_every_null(
    rows: list[tuple[str, str, str, float | None]],
) -> None:
    df = long_frame([(s, r, i, math.nan if v is None else float(v)) for s, r, i, v in rows])
    computed = reliability_report(df)
    report = strict_json(computed.to_json())
    for item in report["items"].values():
        for group in ("icc", "kappa", "krippendorff_alpha", "agreement"):
            for stat in item[group].values():
                if stat["value"] is None:
                    assert stat["why"]
                else:
                    assert isinstance(stat["value"], float)
    assert isinstance(format_report_table(computed), str)


# --------------------------------------------------------------------------- table


def test_table_shows_values_caveats_and_reasons() -> None:
    df = varying_pair_data()
    text = format_report_table(reliability_report(df, {"hw": (0, 6)}))
    lines = text.splitlines()
    # The ICC table's row (after the headline table, which comes first).
    hw = [line for line in lines if line.startswith("hw ") and "varying pairs" in line][1]
    report = reliability_report(df, {"hw": (0, 6)}).to_json()
    assert f"{report['items']['hw']['icc']['ICC1']['value']:.3f}" in hw
    assert "0..6 (range)" in text
    assert "(observed)" in text
    flowing = " ".join(text.split())  # notes are wrapped at 100 columns
    assert "The headline is ICC(A,1) from the variance components" in flowing
    assert "whole-number" in flowing  # why kappa is n/a for seconds
    assert max(len(line) for line in lines) <= 100


def test_table_handles_an_empty_report() -> None:
    assert "No items" in format_report_table(ReliabilityReport({}))


# -------------------------------------------------------------------- by pair, drift


def test_by_pair_reports_each_rater_pair_on_shared_sessions() -> None:
    df = varying_pair_data()
    result = strict_json(reliability_by_pair(df, {"hw": (0, 6)}).to_json())
    pairs = result["pairs"]
    assert [p["raters"] for p in pairs] == sorted(p["raters"] for p in pairs)
    first = pairs[0]
    a, b = first["raters"]
    assert a < b
    shared = set(df.loc[df["rater_id"] == a, "session_id"]) & set(
        df.loc[df["rater_id"] == b, "session_id"]
    )
    assert first["n_sessions"] == len(shared)
    item = first["items"]["hw"]
    assert item["design"] == "crossed"
    assert item["categories"] == [0, 6]
    sub = df[df["session_id"].isin(shared) & df["rater_id"].isin([a, b]) & (df["item_id"] == "hw")]
    if len(shared) >= 3:
        assert_report_icc_equals(item, pingouin_icc_long(sub, "session_id", "rater_id"))


def test_drift_cuts_double_coded_sessions_into_windows_in_time_order() -> None:
    df = varying_pair_data(n=25)
    double = sorted(set(df.loc[df["item_id"] == "secs", "session_id"]))
    order = {s: 100 - i for i, s in enumerate(double)}  # reverse of the id order
    result = strict_json(reliability_drift(df, order, window=10, ranges={"hw": (0, 6)}).to_json())
    windows = result["windows"]
    assert [w["n_sessions"] for w in windows] == [10, 10, 5]
    assert windows[0]["sessions"][0] == double[-1]
    assert windows[0]["first"] == 76 and windows[-1]["last"] == 100
    assert windows[0]["items"]["secs"]["categories"] == windows[1]["items"]["secs"]["categories"]
    assert windows[0]["items"]["hw"]["n_sessions"] == 10


def test_drift_needs_a_time_for_every_double_coded_session() -> None:
    df = varying_pair_data(n=5)
    with pytest.raises(InputError, match="no time for double-coded session"):
        reliability_drift(df, {"S000": 1}, window=2)
    with pytest.raises(InputError, match="at least 2"):
        reliability_drift(df, {}, window=1)


@pytest.mark.parametrize("scale", [1e-242, 1e200])
def test_report_survives_extreme_magnitudes(scale: float) -> None:
    matrix = np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0], [2.0, 1.0]]) * scale
    report = strict_json(reliability_report(wide_to_long(matrix, ["A", "B"])).to_json())
    item = report["items"]["hw"]
    assert item["icc"]["ICC1"]["value"] == pytest.approx(
        reliability_report(wide_to_long(matrix / scale, ["A", "B"])).to_json()["items"]["hw"][
            "icc"
        ]["ICC1"]["value"],
        rel=1e-9,
    )
    assert item["kappa"]["linear"]["value"] is None and item["kappa"]["linear"]["why"]
    table = format_report_table(reliability_report(wide_to_long(matrix, ["A", "B"])))
    assert any(line.startswith("hw ") for line in table.splitlines())
