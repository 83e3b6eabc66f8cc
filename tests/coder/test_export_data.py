"""The analysis tables behind every export, on a small project scored through RaterView."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coder.errors import InputError
from coder.export_data import (
    GUESS_ROWS,
    SCALE_TABLES,
    TABLES,
    ExportBundle,
    ExportCancelled,
    build_export_bundle,
    describe_columns,
    format_time_ms,
    guess_safe,
    scale_variables,
    unique_columns,
    variable_column,
)
from coder.reliability import reliability_report
from coder.scales import (
    NO_PUBLISHED_WORDING,
    RatingScale,
    is_placeholder,
    load_builtin_scale,
    parse_scale,
)
from coder.store.project import Project
from tests.exports._project import (
    AUDIO_DIR,
    GHES_ITEMS,
    SECRET_METADATA,
    THABS_ITEMS,
    THABS_SCORES,
    build_coded_project,
)
from tests.factories import add_plain_sessions


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """Built once per module: every test here only reads it."""
    project = build_coded_project(tmp_path_factory.mktemp("export") / "study.scproj")
    yield project
    project.close()


@pytest.fixture(scope="module")
def bundle(project: Project) -> ExportBundle:
    return build_export_bundle(project)


def _row(frame: pd.DataFrame, **where: str) -> pd.Series:
    mask = np.ones(len(frame), dtype=bool)
    for column, value in where.items():
        mask &= (frame[column] == value).to_numpy()
    rows = frame[mask]
    assert len(rows) == 1, f"{len(rows)} rows for {where}"
    return rows.iloc[0]


# --------------------------------------------------------------------------- scores


def test_scores_have_one_row_per_finished_coding_and_count_the_rest(
    bundle: ExportBundle,
) -> None:
    thabs = bundle.scores[bundle.scores["scale_id"] == "thabs"]
    # 8 submitted + 1 uncodable; S06 is still in progress.
    assert len(thabs) == 9
    assert "S06" not in set(thabs["session_id"])
    assert bundle.excluded["thabs"] == {"not_started": 0, "in_progress": 1}
    assert len(bundle.scores[bundle.scores["scale_id"] == "ghes"]) == 3
    assert list(bundle.scores.columns[:11]) == [
        "scale_id",
        "session_id",
        "patient",
        "therapist",
        "session_number",
        "phase",
        "rater",
        "role",
        "double_coded",
        "state",
        "submitted_at",
    ]


def test_scores_hold_every_item_composite_and_text(bundle: ExportBundle) -> None:
    for (session, rater, role), (values, (start, end)) in THABS_SCORES.items():
        row = _row(bundle.scores, scale_id="thabs", session_id=session, rater=rater)
        assert row["role"] == role
        assert [row[f"thabs_{item}"] for item in THABS_ITEMS] == list(values)
        assert row["thabs_duration"] == (end - start) / 1000  # the span sum, in seconds
        assert row["thabs_behaviour_mean"] == pytest.approx(sum(values) / 5)
    ghes = _row(bundle.scores, scale_id="ghes", session_id="S02", rater="R1")
    assert ghes["ghes_completed_log"] == "thought record x3"
    assert ghes["ghes_global"] == pytest.approx((3 + 3 + 2 + 2 + 1 + 3 + 2) / 7)
    assert math.isnan(ghes["thabs_specification"])  # a THABS column on a GHES row
    assert bundle.scores["thabs_specification"].dtype == np.float64
    assert row["scale_version"] == 1


def test_uncodable_coding_is_listed_without_its_partial_scores(bundle: ExportBundle) -> None:
    row = _row(bundle.scores, session_id="S05")
    assert row["state"] == "uncodable"
    assert math.isnan(row["thabs_specification"])  # set to 2 before the rater gave up
    assert pd.notna(row["submitted_at"])


def test_double_coded_counts_only_analysis_codings(bundle: ExportBundle) -> None:
    flags = bundle.scores.groupby(["scale_id", "session_id"])["double_coded"].first()
    assert flags[("thabs", "S01")]
    assert flags[("ghes", "S02")]
    # S04 has R1's primary coding and R3's training coding: not double-coded.
    assert not flags[("thabs", "S04")]
    assert not flags[("ghes", "S03")]


# --------------------------------------------------------------------------- long, pairs


def test_long_table_is_tidy(bundle: ExportBundle) -> None:
    long = bundle.long
    assert list(long.columns) == [
        "scale_id",
        "session_id",
        "patient",
        "therapist",
        "session_number",
        "phase",
        "rater",
        "item_id",
        "variable",
        "kind",
        "value",
        "text",
    ]
    # 8 submitted THABS codings x (6 items + 1 composite), 3 GHES x (9 items + 1).
    assert len(long) == 8 * 7 + 3 * 10
    one = long[
        (long["session_id"] == "S03") & (long["rater"] == "R3") & (long["scale_id"] == "thabs")
    ]
    assert dict(zip(one["item_id"], one["value"], strict=True))["rationale"] == 3
    # The session's fields ride along: S03 is patient P2's session 2 with T1, phase I.
    assert set(
        zip(one["patient"], one["therapist"], one["session_number"], one["phase"], strict=True)
    ) == {("P2", "T1", 2, "I")}
    assert str(long["session_number"].dtype) == "Int64"
    composite = one[one["kind"] == "composite"]
    assert list(composite["item_id"]) == ["behaviour_mean"]
    assert list(composite["variable"]) == ["thabs_behaviour_mean"]
    assert composite["value"].iloc[0] == pytest.approx(3.0)
    text = long[(long["item_id"] == "assigned_log") & (long["session_id"] == "S03")]
    assert text["text"].tolist() == ["none"] and math.isnan(text["value"].iloc[0])


def test_pairs_put_double_coded_sessions_side_by_side(bundle: ExportBundle) -> None:
    pairs = bundle.pairs[bundle.pairs["scale_id"] == "thabs"]
    assert list(pairs["session_id"]) == ["S01", "S02", "S03"]  # not S04 (training)
    s02 = _row(pairs, session_id="S02")
    assert (s02["rater_A"], s02["rater_B"]) == ("R2", "R3")
    assert (s02["thabs_specification_A"], s02["thabs_specification_B"]) == (1, 2)
    assert (s02["thabs_duration_A"], s02["thabs_duration_B"]) == (34, 36)
    assert s02["thabs_behaviour_mean_B"] == pytest.approx(1.4)
    columns = list(bundle.pairs.columns)
    assert columns.index("thabs_rationale_A") + 1 == columns.index("thabs_rationale_B")
    assert "ghes_completed_log_A" not in columns  # text is not compared side by side


# --------------------------------------------------------------------------- final


def test_final_primary_takes_the_primary_coders_scores(bundle: ExportBundle) -> None:
    final = bundle.final[bundle.final["scale_id"] == "thabs"]
    assert list(final["session_id"]) == ["S01", "S02", "S03", "S04", "S05"]
    s02 = _row(final, session_id="S02")
    assert s02["final_source"] == "R2 (primary)"
    assert s02["thabs_rationale"] == 1 and s02["n_coders"] == 2
    s05 = _row(final, session_id="S05")
    assert "uncodable" in s05["final_source"] and math.isnan(s05["thabs_specification"])
    assert "ghes_completed_log" not in bundle.final.columns


def test_final_mean_averages_the_pair_without_training_codings(project: Project) -> None:
    bundle = build_export_bundle(project, final="mean")
    final = bundle.final[bundle.final["scale_id"] == "thabs"]
    s01 = _row(final, session_id="S01")
    assert s01["thabs_rationale"] == pytest.approx(2.5)
    assert s01["thabs_duration"] == pytest.approx(31.0)
    assert s01["thabs_behaviour_mean"] == pytest.approx((2.0 + 2.4) / 2)
    assert s01["final_source"] == "mean of R1, R2"
    s04 = _row(final, session_id="S04")
    assert s04["thabs_specification"] == 0 and s04["n_coders"] == 1  # R3's training coding is out
    assert bundle.options.final == "mean"


def test_consensus_without_recorded_scores_falls_back_to_the_mean(project: Project) -> None:
    # Consensus scores themselves are tested in tests/coder/test_consensus.py.
    consensus = build_export_bundle(project, final="consensus").final
    mean = build_export_bundle(project, final="mean").final
    pd.testing.assert_frame_equal(consensus, mean)
    with pytest.raises(InputError, match="final must be primary, mean or consensus"):
        build_export_bundle(project, final="median")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- descriptives


def test_descriptives_describe_the_final_scores(bundle: ExportBundle) -> None:
    spec = _row(bundle.descriptives, scale_id="thabs", variable="thabs_specification")
    values = pd.Series([3.0, 1.0, 4.0, 0.0])  # primary coders of S01-S04
    assert spec["n"] == 4
    assert spec["mean"] == pytest.approx(values.mean())
    assert spec["sd"] == pytest.approx(values.std(ddof=1))
    assert (spec["min"], spec["max"]) == (0, 4)
    assert (spec["q1"], spec["q3"]) == (0.75, 3.25)
    duration = _row(bundle.descriptives, scale_id="thabs", variable="thabs_duration")
    assert duration["n_outliers"] == 1  # 600 s beyond Q3 + 1.5 IQR = 391.5
    assert duration["adjusted_n"] == 0  # not winsorized unless asked
    assert _row(bundle.final, scale_id="thabs", session_id="S04")["thabs_duration"] == 600


def test_winsorizing_fences_each_session_number_on_its_own(project: Project) -> None:
    bundle = build_export_bundle(project, winsorize_iqr=1.5)
    # Durations 30, 34, 32, 600 would put 600 beyond Q3 + 1.5 IQR = 391.5 over all
    # sessions; but S01, S03 are session 2 and S02, S04 session 3: two values a group.
    assert _row(bundle.final, scale_id="thabs", session_id="S04")["thabs_duration"] == 600
    w = bundle.winsorizing
    duration = _row(w, scale_id="thabs", variable="thabs_duration", session_number=3)
    assert (duration["n"], duration["q1"], duration["q3"]) == (2, 175.5, 458.5)
    assert duration["adjusted_n"] == 0 and duration["rule"] == "continuous"
    assert set(w.loc[w["scale_id"] == "thabs", "session_number"]) == {2, 3}
    assert _row(w, scale_id="thabs", variable="thabs_behaviour_mean", session_number=2)["rule"] == (
        "composite"
    )
    assert bundle.adjusted_total == 0
    assert build_export_bundle(project).winsorizing.empty  # nothing when off


@pytest.mark.parametrize("k", [-1.0, math.nan, math.inf])
def test_a_bad_winsorizing_factor_is_refused(project: Project, k: float) -> None:
    with pytest.raises(InputError, match="winsorizing factor"):
        build_export_bundle(project, winsorize_iqr=k)


# --------------------------------------------------------------------------- reliability


def test_reliability_is_the_report_of_the_double_coded_sessions(bundle: ExportBundle) -> None:
    rel = bundle.reliability[bundle.reliability["scale_id"] == "thabs"]
    assert list(rel["variable"]) == [
        f"thabs_{i}" for i in (*THABS_ITEMS, "duration", "behaviour_mean")
    ]
    spec = _row(rel, variable="thabs_specification")
    expected = reliability_report(
        pd.DataFrame(
            {
                "session_id": ["S01", "S01", "S02", "S02", "S03", "S03"],
                "rater_id": ["R1", "R2", "R2", "R3", "R1", "R3"],
                "item_id": ["specification"] * 6,
                "score": [3.0, 3.0, 1.0, 2.0, 4.0, 4.0],
            }
        ),
        {"specification": (0, 4)},
    ).to_json()["items"]["specification"]
    assert spec["reported_form"] == "ICC2"
    assert spec["reported_icc"] == pytest.approx(expected["icc"]["ICC2"]["value"])
    # Varying pairs: the headline is ICC(A,1) from variance components, and the scale's
    # ICC2 default is flagged as not fitting the design.
    assert spec["recommended_form"] == expected["recommended_form"] == "ICC_A1"
    assert spec["recommended_icc"] == pytest.approx(expected["icc_vc"]["ICC_A1"]["value"])
    assert spec["ICC_A1"] == pytest.approx(expected["icc_vc"]["ICC_A1"]["value"])
    assert spec["vc_residual"] == pytest.approx(expected["icc_vc"]["variance"]["residual"])
    assert spec["scale_default_fits"] == "no" and "coder position" in spec["scale_default_note"]
    assert "variance components" in spec["recommended_reason"]
    assert spec["ICC1"] == pytest.approx(expected["icc"]["ICC1"]["value"])
    assert spec["ICC3k_ci_low"] == pytest.approx(expected["icc"]["ICC3k"]["ci95"][0])
    assert spec["kappa_quadratic"] == pytest.approx(expected["kappa"]["quadratic"]["value"])
    assert spec["alpha_ordinal"] == pytest.approx(
        expected["krippendorff_alpha"]["ordinal"]["value"]
    )
    assert spec["agreement_exact"] == pytest.approx(2 / 3)
    assert spec["n_sessions"] == 3 and spec["design"] == "varying_pairs"
    assert (spec["categories_min"], spec["categories_max"]) == (0, 4)
    # Troubleshooting agrees perfectly: ICC 1, an infinite F.
    perfect = _row(rel, variable="thabs_troubleshooting")
    assert perfect["ICC1"] == 1 and math.isnan(perfect["ICC1_F"])
    assert perfect["ICC1_F_infinite"] and not spec["ICC1_F_infinite"]
    assert not np.isinf(bundle.reliability.select_dtypes("number").to_numpy(float)).any()
    assert _row(rel, variable="thabs_behaviour_mean")["kind"] == "composite"


def test_reliability_follows_item_kinds_and_adds_agreement_coefficients(
    bundle: ExportBundle,
) -> None:
    from irrCAC.raw import CAC

    rel = bundle.reliability[bundle.reliability["scale_id"] == "thabs"]
    spec = _row(rel, variable="thabs_specification")
    assert (spec["item_kind"], spec["reported_kappa_weights"]) == ("ordinal", "quadratic")
    assert spec["reported_kappa"] == spec["kappa_quadratic"]
    assert spec["reported_alpha_level"] == "ordinal"
    assert spec["reported_alpha"] == spec["alpha_ordinal"]
    assert spec["reported_alpha_ci_low"] == spec["alpha_ordinal_ci_low"]
    assert spec["gwet_coefficient"] == "AC2" and spec["agreement_weights"] == "quadratic"
    # The same three double-coded sessions as above, as irrCAC sees them.
    ratings = pd.DataFrame({"R1": [3.0, None, 4.0], "R2": [3.0, 1.0, None], "R3": [None, 2.0, 4.0]})
    cac = CAC(ratings, weights="quadratic", categories=[0, 1, 2, 3, 4], digits=15)
    for column, est in (
        ("fleiss_kappa", cac.fleiss()["est"]),
        ("gwet_ac", cac.gwet()["est"]),
        ("brennan_prediger", cac.bp()["est"]),
    ):
        assert spec[column] == pytest.approx(est["coefficient_value"], abs=1e-9)
        assert spec[f"{column}_se"] == pytest.approx(est["se"], abs=1e-9)
        assert spec[f"{column}_ci_low"] == pytest.approx(est["confidence_interval"][0], abs=1e-9)
    # Seconds: the ICC and interval alpha only, the rest not applicable and said so.
    duration = _row(rel, variable="thabs_duration")
    assert duration["item_kind"] == "duration" and duration["reported_alpha_level"] == "interval"
    assert pd.isna(duration["reported_kappa_weights"]) and math.isnan(duration["reported_kappa"])
    assert duration["reported_alpha"] == duration["alpha_interval"]
    assert not math.isnan(duration["ICC1"])
    for column in ("kappa_unweighted", "alpha_ordinal", "agreement_within_one", "fleiss_kappa"):
        assert math.isnan(duration[column])
    assert "not applicable to duration items" in duration["not_defined"]


def test_undefined_reliability_says_why(bundle: ExportBundle) -> None:
    ghes = _row(bundle.reliability, scale_id="ghes", variable="ghes_engagement")
    assert ghes["n_sessions"] == 1
    assert math.isnan(ghes["ICC2"])
    assert "ICC2:" in ghes["not_defined"]


# --------------------------------------------------------------------------- notes etc.


def test_format_time_ms() -> None:
    assert format_time_ms(61_500) == "01:01"
    assert format_time_ms(0) == "00:00"
    assert format_time_ms(3_599_999) == "59:59"
    assert format_time_ms(3_725_000) == "1:02:05"
    assert format_time_ms(None) is None


def test_notes_spans_uncodable_and_plan(bundle: ExportBundle) -> None:
    notes = bundle.notes
    s01 = notes[notes["session_id"] == "S01"]
    assert list(s01["position_ms"]) == [61_500, 90_000, 3_725_000]  # in time order
    assert list(s01["time"]) == ["01:01", "01:30", "1:02:05"]
    assert "homework <set> & agreed" in set(s01["text"])
    assert _row(notes, session_id="S05")["text"] == "only noise from here"
    span = _row(bundle.spans, session_id="S04", rater="R1")
    assert (span["start_ms"], span["end_ms"], span["end"], span["seconds"]) == (
        0,
        600_000,
        "10:00",
        600.0,
    )
    unc = _row(bundle.uncodable, session_id="S05")
    assert (unc["rater"], unc["reason"]) == ("R2", "Audio failure")
    assert unc["text"] == "recording is silent after 0:05"
    assert bundle.uncodable_counts.to_dict("records") == [
        {"scale_id": "thabs", "reason": "Audio failure", "n": 1}
    ]
    plan = bundle.plan
    assert len(plan) == 10 + 3  # every THABS coding incl. in progress, and GHES
    assert _row(plan, scale_id="thabs", session_id="S06")["state"] == "in_progress"
    assert _row(plan, scale_id="thabs", session_id="S04", rater="R3")["role"] == "training"


# --------------------------------------------------------------------------- privacy


def _all_text(bundle: ExportBundle) -> str:
    return "\n".join(bundle.table(name).to_csv() for name in TABLES)


def test_exports_are_pseudonymous_by_default(bundle: ExportBundle) -> None:
    text = _all_text(bundle)
    assert AUDIO_DIR not in text
    assert SECRET_METADATA not in text
    assert "2024-03-0" not in text  # session dates are metadata too
    assert "audio_path" not in bundle.scores.columns
    # Notes and text answers are coding content and stay.
    assert "client shifts topic" in text and "thought record x3" in text


def test_audio_paths_and_metadata_only_when_asked(project: Project) -> None:
    bundle = build_export_bundle(project, include_audio_paths=True, include_metadata=True)
    row = _row(bundle.scores, scale_id="thabs", session_id="S01", rater="R1")
    assert row["audio_path"] == f"{AUDIO_DIR}/S01.wav"
    assert row["meta_referral"] == SECRET_METADATA
    assert row["date"] == pd.Timestamp("2024-03-01")
    assert str(bundle.scores["date"].dtype).startswith("datetime64")
    assert _row(bundle.final, scale_id="thabs", session_id="S02")["audio_path"].endswith("S02.wav")
    only_paths = build_export_bundle(project, include_audio_paths=True)
    assert SECRET_METADATA not in _all_text(only_paths)
    assert AUDIO_DIR in _all_text(only_paths)


# --------------------------------------------------------------------------- options


def test_scale_choice(project: Project) -> None:
    bundle = build_export_bundle(project, scale_ids=["ghes"])
    assert set(bundle.scores["scale_id"]) == {"ghes"}
    assert "thabs_specification" not in bundle.scores.columns
    assert [s.id for s in bundle.scales] == ["ghes"]
    assert list(bundle.variables["column"])[: len(GHES_ITEMS)] == [f"ghes_{i}" for i in GHES_ITEMS]
    with pytest.raises(InputError, match="no scale 'nope'"):
        build_export_bundle(project, scale_ids=["nope"])


def test_progress_rises_to_one_and_cancel_stops(project: Project) -> None:
    seen: list[float] = []
    build_export_bundle(project, progress=seen.append)
    assert seen[-1] == 1.0
    assert seen == sorted(seen) and len(seen) > 5
    calls = {"n": 0}

    def cancelled() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    with pytest.raises(ExportCancelled):
        build_export_bundle(project, cancelled=cancelled)


def test_every_column_is_described(bundle: ExportBundle) -> None:
    for table in TABLES:
        docs = describe_columns(bundle, table)
        assert [c for c, _ in docs] == [str(c) for c in bundle.table(table).columns]
        assert all(text for _, text in docs), (table, [c for c, t in docs if not t])
    for table in SCALE_TABLES:
        for scale_id, frame in bundle.per_scale(table).items():
            docs = describe_columns(bundle, table, scale_id)
            assert [c for c, _ in docs] == list(frame.columns)
            assert all(text for _, text in docs), (table, scale_id)
            assert set(frame["scale_id"]) <= {scale_id}


def test_an_item_column_is_scale_underscore_item_unless_that_names_a_fixed_column(
    tmp_path: Path,
) -> None:
    source = """\
id: session
name: Clash
version: 1
citation: none
instructions: Rate.
rated: client
window: whole
applies_to: all
items:
  - {id: number, label: Session number felt, kind: ordinal, min: 1, max: 3,
     anchors: {1: low, 3: high}}
  - {id: mood, label: Client mood, kind: nominal, categories: [calm, upset]}
"""
    with Project.create(tmp_path / "c.scproj") as project:
        project.add_scale(parse_scale(source))
        project.add_raters(["A1"])
        add_plain_sessions(project, ["X1"])
        coding = project.add_coding("X1", "A1", "session")
        view = project.rater_view("A1")
        view.set_value(coding, "number", 3)
        view.set_value(coding, "mood", 2)
        view.submit(coding)
        bundle = build_export_bundle(project)
    row = bundle.scores.iloc[0]
    # session + number would be the fixed session_number column.
    assert row["item_session_number"] == 3 and row["session_mood"] == 2
    assert list(bundle.long["item_id"]) == ["number", "mood"]
    assert list(bundle.long["variable"]) == ["item_session_number", "session_mood"]
    codebook = bundle.variables.set_index("column")
    assert codebook.loc["session_mood", "value_labels"] == "1 = calm; 2 = upset"
    assert variable_column("thabs", "rationale") == "thabs_rationale"
    assert variable_column("final", "source") == "item_final_source"
    assert variable_column("meta", "site") == "item_meta_site"


def test_two_scales_never_share_a_column(tmp_path: Path) -> None:
    """thabs and sthar both have ``rationale``; scales a_b and a can meet on a_b_c."""
    with Project.create(tmp_path / "s.scproj") as project:
        project.add_scale(load_builtin_scale("thabs"))
        project.add_scale(load_builtin_scale("sthar"))
        bundle = build_export_bundle(project)
    columns = list(bundle.variables["column"])
    assert len(columns) == len(set(columns))
    assert {"thabs_rationale", "sthar_rationale"} <= set(columns)
    assert "rationale" not in bundle.scores.columns
    per_scale = bundle.per_scale("scores")
    assert "sthar_rationale" not in per_scale["thabs"].columns
    assert "thabs_rationale" in per_scale["thabs"].columns
    met = unique_columns(
        {
            "a_b": tuple(scale_variables(_tiny_scale("a_b", "c"))),
            "a": tuple(scale_variables(_tiny_scale("a", "b_c"))),
        }
    )
    assert [v.column for v in met["a_b"]] == ["a_b_c"]
    assert [v.column for v in met["a"]] == ["a_b_c_2"]


def _tiny_scale(scale_id: str, item_id: str) -> RatingScale:
    return parse_scale(
        f"""\
id: {scale_id}
name: Tiny
version: 1
citation: none
instructions: Rate.
rated: client
window: whole
applies_to: all
items:
  - {{id: {item_id}, label: One, kind: count}}
"""
    )


def test_a_project_without_codings_exports_empty_tables(tmp_path: Path) -> None:
    with Project.create(tmp_path / "e.scproj") as project:
        project.add_scale(load_builtin_scale("thabs"))
        bundle = build_export_bundle(project)
    for table in ("scores", "long", "pairs", "final", "notes", "spans", "uncodable", "plan"):
        assert bundle.table(table).empty, table
    assert "thabs_specification" in bundle.scores.columns
    assert set(bundle.reliability["design"]) == {"not_double_coded"}


def test_the_bundle_is_the_same_on_sqlite_and_postgresql(
    new_project_args: dict[str, object],
) -> None:
    project = build_coded_project(
        new_project_args["path"],  # type: ignore[arg-type]
        db_url=new_project_args["db_url"],  # type: ignore[arg-type]
    )
    try:
        bundle = build_export_bundle(project, final="mean", include_audio_paths=True)
    finally:
        project.close()
    row = _row(bundle.scores, scale_id="thabs", session_id="S02", rater="R3")
    assert [row[f"thabs_{i}"] for i in THABS_ITEMS] == list(
        THABS_SCORES[("S02", "R3", "second")][0]
    )
    assert bool(row["double_coded"]) and row["audio_path"].endswith("S02.wav")
    assert bundle.scores["submitted_at"].notna().all()
    assert str(bundle.scores["submitted_at"].dtype).startswith("datetime64")
    assert _row(bundle.final, scale_id="thabs", session_id="S01")["thabs_rationale"] == 2.5
    assert _row(bundle.spans, session_id="S04", rater="R1")["seconds"] == 600
    assert list(bundle.notes["time"][:3]) == ["01:01", "01:30", "1:02:05"]
    assert bundle.excluded["thabs"]["in_progress"] == 1


# --------------------------------------------------------------------------- readers' guesses


def test_guess_safe_brings_each_columns_first_value_into_the_first_rows() -> None:
    n = 1_500
    late = [np.nan] * 1_200 + [0.0] * 300  # first value at row 1200: beyond the guess
    text = [None] * 1_400 + ["late text"] * 100
    frame = pd.DataFrame({"row": np.arange(n), "late": late, "text": text})
    safe = guess_safe(frame)
    head = safe.iloc[:GUESS_ROWS]
    assert head["late"].notna().any() and head["text"].notna().any()
    # Only the two rows holding the first values moved, to just before row 1000.
    assert list(safe["row"][:998]) == list(range(998))
    assert list(safe["row"][998:1000]) == [1_200, 1_400]
    assert sorted(safe["row"]) == list(range(n))  # every row kept, once
    assert safe.set_index("row").sort_index().equals(frame.set_index("row"))
    untouched = frame.assign(late=0.0, text="x")
    assert guess_safe(untouched) is untouched
    short = frame.iloc[:GUESS_ROWS]
    assert guess_safe(short) is short
    empty = frame.assign(late=np.nan, text=None)
    assert guess_safe(empty) is empty  # a column with no value at all stays as it is


# --------------------------------------------------------------------------- codebook


def test_codebook_lists_every_variable_with_its_scale_version_and_file_hash(
    bundle: ExportBundle, tmp_path: Path
) -> None:
    import hashlib

    codebook = bundle.variables.set_index("column")
    assert list(bundle.variables["column"]) == [v.column for v in bundle.all_variables]
    spec = codebook.loc["thabs_specification"]
    assert (spec["scale_id"], spec["item_id"], spec["kind"]) == (
        "thabs",
        "specification",
        "ordinal",
    )
    assert (spec["min"], spec["max"]) == (0, 4) and "0 = not done" in spec["value_labels"]
    assert spec["scale_version"] == 1 and pd.isna(spec["other_versions"])
    source = load_builtin_scale("thabs").source
    assert spec["scale_sha256"] == hashlib.sha256(source.encode("utf-8")).hexdigest()
    assert "uncodable" in spec["missing"] and "left it blank" in spec["missing"]
    assert codebook.loc["thabs_behaviour_mean", "composite_of"].startswith("mean of ")
    assert codebook.loc["ghes_completed_log", "kind"] == "text"

    def tiny(version: int, items: str) -> RatingScale:
        return parse_scale(
            f"id: tiny\nname: Tiny\nversion: {version}\ncitation: none\n"
            "instructions: Rate.\nrated: client\nwindow: whole\napplies_to: all\n"
            f"items:\n{items}"
        )

    one = "  - {id: a, label: A, kind: count}\n"
    with Project.create(tmp_path / "v.scproj") as project:
        project.add_scale(tiny(1, one))
        project.add_raters(["A1"])
        add_plain_sessions(project, ["X1", "X2"])
        view = project.rater_view("A1")
        coding = project.add_coding("X1", "A1", "tiny")
        view.set_value(coding, "a", 1)
        view.submit(coding)
        project.add_scale(tiny(2, one + "  - {id: b, label: B, kind: count}\n"))
        coding = project.add_coding("X2", "A1", "tiny")
        view.set_value(coding, "a", 0)
        view.set_value(coding, "b", 5)
        view.submit(coding)
        versions = build_export_bundle(project).variables.set_index("column")
    assert versions.loc["tiny_a", "scale_version"] == 2
    older = versions.loc["tiny_a", "other_versions"]
    assert older.startswith("1: ") and len(older) == 3 + 64
    assert older[3:] != versions.loc["tiny_a", "scale_sha256"]
    assert versions.loc["tiny_b", "scale_version"] == 2
    assert pd.isna(versions.loc["tiny_b", "other_versions"])


def test_value_labels_never_present_a_placeholder_as_the_sources_wording() -> None:
    """The exports label values as raters see them: published wording, or the mark."""
    thabs = load_builtin_scale("thabs")
    praise = next(item for item in thabs.items if item.id == "praise")
    assert praise.placeholder_values, "the built-in THABS has placeholder middle anchors"
    (variable,) = (v for v in scale_variables(thabs) if v.item_id == "praise")
    for value in praise.placeholder_values:
        assert variable.value_labels[value] == NO_PUBLISHED_WORDING
    for value, text in variable.value_labels.items():
        assert not is_placeholder(text)
        if value not in praise.placeholder_values:
            assert text == praise.anchors[value]
