"""The SPSS export, read back with pyreadstat and with R haven.

Most tests use the study of :func:`tests.factories.make_study_project`: scales sharing
item ids, three-coder sessions, uncodable sessions and a score left blank.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from coder.export_data import ExportBundle, build_export_bundle
from coder.store.project import Project
from exports import write_export
from exports.spss_export import MISSING_CODES, RELIABILITY_TABLES, spss_names, write_sav
from tests.cli import run_cli
from tests.exports._project import AUDIO_DIR, SECRET_METADATA
from tests.r_lang import run_r

# The middle anchors are placeholders of ours: labelled as raters see them, with the
# mark, never as if they were the source's wording; a text shared by several values
# carries its value, so that a factor of the labels keeps the scores apart.
THABS_ANCHORS = {
    0.0: "not done",
    1.0: "1: (no published wording)",
    2.0: "2: (no published wording)",
    3.0: "3: (no published wording)",
    4.0: "very well done",
}
MISSING_LABELS = {-7.0: "not administered", -8.0: "uncodable", -9.0: "left blank"}
SCALES = ("thabs", "ghes", "sthar", "extra")


@pytest.fixture(scope="module")
def study_bundle(study: Project) -> ExportBundle:
    """The primary rule, winsorized at 1.5 x IQR, with the patient layout and dates."""
    return build_export_bundle(study, winsorize_iqr=1.5, layout="patient", include_metadata=True)


@pytest.fixture(scope="module")
def savs(study_bundle: ExportBundle, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sav")
    write_sav(study_bundle, folder / "study.sav")
    return folder


def _read(path: Path, *, user_missing: bool = False) -> tuple[pd.DataFrame, Any]:
    frame, meta = pyreadstat.read_sav(str(path), user_missing=user_missing)
    return frame, meta


def _row(frame: pd.DataFrame, **where: str) -> pd.Series:
    mask = np.ones(len(frame), dtype=bool)
    for column, value in where.items():
        mask &= (frame[column] == value).to_numpy()
    assert mask.sum() == 1, where
    return frame[mask].iloc[0]


def test_one_file_per_scale_and_table(study_bundle: ExportBundle, tmp_path: Path) -> None:
    written = write_export(study_bundle, "sav", tmp_path / "study.sav")
    names = [p.name for p in written]
    assert names[0] == "study_thabs.sav"
    expected = {f"study_{s}{t}.sav" for s in SCALES for t in ("", "_scores", "_pairs")}
    reliability = {f"study_{t}.sav" for t in RELIABILITY_TABLES}
    assert "study_reliability.sav" in reliability
    assert set(names) == expected | reliability | {"study_patients.sav", "study_codebook.csv"}
    assert names[-1] == "study_codebook.csv"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)  # no leftovers
    # A variable belongs to one scale: THABS' rationale and StHAR's have their own labels.
    _, thabs = _read(tmp_path / "study_thabs.sav")
    _, sthar = _read(tmp_path / "study_sthar.sav")
    assert thabs.column_names_to_labels["thabs_rationale"] == "Provision of rationale"
    assert sthar.column_names_to_labels["sthar_rationale"] == "Rationale"
    assert not any("rationale" in c for c in _read(tmp_path / "study_ghes.sav")[1].column_names)


def test_variable_metadata(savs: Path) -> None:
    frame, m = _read(savs / "study_thabs_scores.sav", user_missing=True)
    assert m.column_names_to_labels["thabs_specification"] == "Specification of the task"
    assert m.column_names_to_labels["thabs_behaviour_mean"] == "Mean of the five behaviour ratings"
    assert m.variable_value_labels["thabs_specification"] == {**THABS_ANCHORS, **MISSING_LABELS}
    assert m.variable_value_labels["double_coded"] == {0.0: "no", 1.0: "yes"}
    measures = m.variable_measure
    assert (measures["thabs_specification"], measures["thabs_duration"], measures["rater"]) == (
        "ordinal",
        "scale",
        "nominal",
    )
    codes = [{"lo": float(c), "hi": float(c)} for c in (-7, -8, -9)]
    assert m.missing_ranges["thabs_specification"] == codes
    formats = m.original_variable_types
    # Whole scores 0-4 with codes down to -9: two characters, no decimals.
    assert (formats["thabs_specification"], formats["double_coded"]) == ("F2.0", "F1.0")
    assert formats["thabs_behaviour_mean"] == "F3.1"  # a mean of five whole scores: 0.2 steps
    assert formats["date"] == "DATE11"
    assert formats["rater"].startswith("A")
    assert isinstance(frame["date"].iloc[0], dt.date)
    assert frame["submitted_at"].notna().all()
    _, e = _read(savs / "study_extra_scores.sav", user_missing=True)
    assert e.variable_value_labels["extra_mood"] == {
        1.0: "calm",
        2.0: "tense",
        3.0: "angry",
        **MISSING_LABELS,
    }
    assert (
        e.variable_measure["extra_mood"] == "nominal"
        and e.variable_measure["extra_turns"] == "scale"
    )
    assert e.original_variable_types["extra_turns"] == "F2.0"
    assert e.original_variable_types["extra_remarks"].startswith("A")


def test_missing_codes_say_why(savs: Path) -> None:
    scores, _ = _read(savs / "study_thabs_scores.sav", user_missing=True)
    uncodable = _row(scores, session_id="P6S3")
    assert uncodable["state"] == "uncodable"
    assert uncodable["thabs_specification"] == MISSING_CODES["uncodable"] == -8
    assert uncodable["thabs_behaviour_mean"] == -8
    extra, _ = _read(savs / "study_extra_scores.sav", user_missing=True)
    assert _row(extra, session_id="P2S1")["extra_warmth"] == MISSING_CODES["left_blank"] == -9
    assert _row(extra, session_id="P1S1")["extra_warmth"] == 2
    final, _ = _read(savs / "study_ghes.sav", user_missing=True)
    assert _row(final, session_id="P5S2")["ghes_engagement"] == -8
    patients, _ = _read(savs / "study_patients.sav", user_missing=True)
    p6 = _row(patients, patient="P6")
    assert (p6["thabs_specification_s3"], p6["thabs_specification_s2"]) == (-8, 2)
    p7 = _row(patients, patient="P7")
    assert p7["extra_turns_s1"] == MISSING_CODES["not_administered"] == -7
    # Read without user-missing values, every code is a missing value.
    plain, _ = _read(savs / "study_patients.sav")
    assert np.isnan(_row(plain, patient="P7")["extra_turns_s1"])


def test_an_item_the_coded_version_lacked_is_not_administered(tmp_path: Path) -> None:
    from coder.scales import parse_scale
    from tests.factories import add_plain_sessions, score_coding

    v1 = """\
id: talk
name: Talk
version: 1
citation: none
instructions: Rate.
rated: client
window: whole
applies_to: all
items:
  - {id: turns, label: Turns of talk, kind: count}
"""
    v2 = v1.replace("version: 1", "version: 2") + (
        "  - {id: calm, label: Calm, kind: ordinal, required: false, min: 0, max: 2,\n"
        "     anchors: {0: tense, 2: calm}}\n"
    )
    with Project.create(tmp_path / "t.scproj") as project:
        project.add_scale(parse_scale(v1))
        project.add_raters(["A1"])
        add_plain_sessions(project, ["X1", "X2", "X3"])
        old = project.add_coding("X1", "A1", "talk")
        score_coding(project, "A1", old, {"turns": 3}, submit=True)
        project.add_scale(parse_scale(v2))
        for key, calm in (("X2", 2), ("X3", None)):
            coding = project.add_coding(key, "A1", "talk")
            score_coding(project, "A1", coding, {"turns": 4, "calm": calm}, submit=True)
        written = write_sav(build_export_bundle(project), tmp_path / "t.sav")
    scores, meta = _read(written[1], user_missing=True)
    assert list(scores["scale_version"]) == [1, 2, 2]
    assert list(scores["talk_calm"]) == [-7, 2, -9]  # not in version 1; scored; left blank
    assert meta.variable_value_labels["talk_calm"][-7.0] == "not administered"


def test_final_and_winsorizing_reach_the_sav_as_in_xlsx_and_csv(
    study_file: Path, tmp_path: Path
) -> None:
    options = ["--final", "mean", "--winsorize-iqr", "1.5", "--layout", "patient"]
    for fmt, out in (("sav", "s.sav"), ("csv", "s.csv"), ("xlsx", "s.xlsx")):
        done = run_cli("export", study_file, "--format", fmt, "--out", tmp_path / out, *options)
        assert done.returncode == 0, done.stderr
    for scale_id in SCALES:
        sav, meta = _read(tmp_path / f"s_{scale_id}.sav")
        csv = pd.read_csv(tmp_path / f"s_final_{scale_id}.csv")
        sheet = pd.read_excel(tmp_path / "s.xlsx", sheet_name=f"final_{scale_id}")
        for rows in (csv, sheet):
            assert list(sav.columns) == list(rows.columns)
            assert list(sav["session_id"]) == list(rows["session_id"])
            for column in sav.columns:
                if column in ("date", "submitted_at") or not pd.api.types.is_numeric_dtype(
                    sav[column]
                ):
                    continue
                np.testing.assert_allclose(
                    sav[column].to_numpy(dtype=float),
                    rows[column].to_numpy(dtype=float),
                    err_msg=f"{scale_id}.{column}",
                )
        notes = " ".join(meta.notes)
        assert "Final rule: mean:" in notes and "K = 1.5" in notes
    thabs, _ = _read(tmp_path / "s_thabs.sav")
    assert (
        _row(thabs, session_id="P8S1")["thabs_specification"] == 1
    )  # winsorized 0, a whole number
    assert _row(thabs, session_id="P1S1")["thabs_specification"] == pytest.approx(7 / 3)  # 3 coders
    patients_csv = pd.read_csv(tmp_path / "s_patients.csv")
    patients_sav, _ = _read(tmp_path / "s_patients.sav")
    assert list(patients_sav.columns) == list(patients_csv.columns)
    numeric = [c for c in patients_csv.columns if c not in ("patient", "therapist")]
    np.testing.assert_allclose(
        patients_sav[numeric].to_numpy(dtype=float), patients_csv[numeric].to_numpy(dtype=float)
    )


def test_a_file_claims_only_the_options_it_applied(
    savs: Path, study: Project, tmp_path: Path
) -> None:
    _, scores = _read(savs / "study_thabs_scores.sav")
    notes = " ".join(scores.notes)
    assert "Final rule: does not apply" in notes and "Winsorizing: does not apply" in notes
    assert "K = 1.5" not in notes
    _, final = _read(savs / "study_thabs.sav")
    text = " ".join(final.notes)
    assert "Final rule: primary" in text and "thabs_specification 1, thabs_duration 1" in text
    plain = build_export_bundle(study)
    write_sav(plain, tmp_path / "p.sav")
    _, meta = _read(tmp_path / "p_thabs.sav")
    assert any(line.startswith("Winsorizing: off") for line in meta.notes)
    assert not (tmp_path / "p_patients.sav").exists()


def test_long_labels_are_cut_with_a_notice(savs: Path, study_bundle: ExportBundle) -> None:
    _, meta = _read(savs / "study_extra_scores.sav")
    full = next(v.label for v in study_bundle.all_variables if v.item_id == "warmth")
    label = meta.column_names_to_labels["extra_warmth"]
    assert len(full.encode()) > 255 and len(label.encode()) <= 255
    assert full.startswith(label)
    notes = " ".join(meta.notes)
    assert "Labels cut" in notes and "extra_warmth" in notes


def test_pairs_and_reliability_files(savs: Path, study_bundle: ExportBundle) -> None:
    pairs, meta = _read(savs / "study_thabs_pairs.sav")
    expected = study_bundle.scale_table("pairs", "thabs")
    assert list(pairs["session_id"]) == list(expected["session_id"])
    assert (
        meta.column_names_to_labels["thabs_specification_A"]
        == "Specification of the task (rater A)"
    )
    np.testing.assert_array_equal(pairs["thabs_specification_B"], expected["thabs_specification_B"])
    rel, meta = _read(savs / "study_reliability.sav")
    assert list(rel["variable"]) == list(study_bundle.reliability["variable"])
    np.testing.assert_allclose(
        rel["ICC2"].to_numpy(dtype=float),
        study_bundle.reliability["ICC2"].to_numpy(dtype=float),
        equal_nan=True,
    )
    assert "does not apply" in " ".join(meta.notes)
    for table in RELIABILITY_TABLES:  # the per-pair tables too, one file each
        frame, _ = _read(savs / f"study_{table}.sav")
        assert len(frame) == len(study_bundle.table(table)), table


def test_haven_reads_types_values_and_missing_reasons(savs: Path) -> None:
    script = r"""
    library(haven)
    folder <- commandArgs(TRUE)[1]
    s <- read_sav(file.path(folder, "study_thabs_scores.sav"), user_na = TRUE)
    p8 <- s[s$session_id == "P8S1", ]
    cat("zero", format(as.numeric(zap_missing(p8$thabs_specification))), "\n")
    cat("zero_class", class(zap_labels(p8$thabs_specification)), "\n")
    p6 <- s[s$session_id == "P6S3", ]
    cat("uncodable_na", is.na(p6$thabs_specification), "\n")
    cat("uncodable_value", as.numeric(unclass(p6$thabs_specification)), "\n")
    labels <- attr(s$thabs_specification, "labels")
    cat("reason", names(labels)[labels == unclass(p6$thabs_specification)], "\n")
    cat("na_values", attr(s$thabs_specification, "na_values"), "\n")
    cat("date_class", class(s$date), "\n")
    cat("date_first", format(s$date[1]), "\n")
    cat("double", paste(sort(unique(as.numeric(s$double_coded))), collapse = ","), "\n")
    cat("double_labels", names(attr(s$double_coded, "labels")), "\n")
    plain <- read_sav(file.path(folder, "study_thabs_scores.sav"))
    cat("plain_na", is.na(plain$thabs_specification[plain$session_id == "P6S3"]), "\n")
    e <- read_sav(file.path(folder, "study_extra_scores.sav"), user_na = TRUE)
    w <- e$extra_warmth[e$session_id == "P2S1"]
    cat("blank", names(attr(e$extra_warmth, "labels"))[attr(e$extra_warmth, "labels") == unclass(w)], "\n")
    pt <- read_sav(file.path(folder, "study_patients.sav"), user_na = TRUE)
    v <- pt$extra_turns_s1[pt$patient == "P7"]
    cat("absent", names(attr(pt$extra_turns_s1, "labels"))[attr(pt$extra_turns_s1, "labels") == unclass(v)], "\n")
    cat("patients", nrow(pt), "\n")
    f <- as_factor(zap_missing(s$thabs_specification))
    cat("levels", nlevels(droplevels(f[!is.na(f)])), length(unique(na.omit(zap_missing(s$thabs_specification)))), "\n")
    """
    out = run_r(script, str(savs), packages=("haven",))
    seen = {
        line.split(" ", 1)[0]: line.split(" ", 1)[1].strip()
        for line in out.splitlines()
        if " " in line
    }
    assert seen["zero"] == "0"
    assert seen["zero_class"] == "numeric"
    assert (seen["uncodable_na"], seen["uncodable_value"]) == ("TRUE", "-8")
    assert seen["reason"] == "uncodable"
    assert seen["na_values"] == "-7 -8 -9"
    assert seen["date_class"] == "Date" and seen["date_first"] == "2024-01-01"
    assert seen["double"] == "0,1" and seen["double_labels"] == "no yes"
    assert seen["plain_na"] == "TRUE"
    assert seen["blank"] == "left blank"
    assert seen["absent"] == "not administered"
    assert seen["patients"] == "8"
    # as_factor keeps every score its own level (the placeholder values share a text)
    levels, scores = seen["levels"].split()
    assert levels == scores and int(scores) >= 2


def test_names_are_spss_safe() -> None:
    names = spss_names(
        ["global", "AND", "2nd item", "a" * 70, "a" * 70 + "b", "Score", "score", "x.y-z", "_"]
    )
    assert names["global"] == "global"
    assert names["AND"] == "AND_"
    assert names["2nd item"] == "v_2nd_item"
    assert len(names["a" * 70]) == 64 and names["a" * 70 + "b"] == "a" * 62 + "_2"
    assert (names["Score"], names["score"]) == ("Score", "score_2")
    assert names["x.y-z"] == "x_y_z"
    assert names["_"] == "var"
    assert len({n.upper() for n in names.values()}) == len(names)


def test_no_audio_path_or_metadata_unless_asked(
    bundle: ExportBundle, project: Project, tmp_path: Path
) -> None:
    for path in write_sav(bundle, tmp_path / "a.sav"):
        raw = path.read_bytes()
        assert AUDIO_DIR.encode() not in raw and SECRET_METADATA.encode() not in raw
    full = build_export_bundle(project, include_audio_paths=True, include_metadata=True)
    written = write_export(full, "sav", tmp_path / "f.sav")
    frame, _ = _read(written[0])
    assert frame["audio_path"].str.startswith(AUDIO_DIR).all()
    assert (frame["meta_referral"] == SECRET_METADATA).all()


def test_an_infinite_f_is_empty_and_flagged(bundle: ExportBundle, tmp_path: Path) -> None:
    write_sav(bundle, tmp_path / "r.sav")
    rel, meta = _read(tmp_path / "r_reliability.sav")
    row = _row(rel, variable="thabs_troubleshooting")  # perfect agreement: F is infinite
    assert np.isnan(row["ICC1_F"]) and row["ICC1_F_infinite"] == 1
    assert meta.variable_value_labels["ICC1_F_infinite"] == {0.0: "no", 1.0: "yes"}
    assert rel["ICC1_F"].notna().any()  # a finite F stays a number


# --------------------------------------------------------------------------- codebook


@pytest.fixture(scope="module")
def sav_cli(study_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``session-coder export --format sav`` of the study (default options)."""
    folder = tmp_path_factory.mktemp("sav_cli")
    done = run_cli("export", study_file, "--format", "sav", "--out", folder / "study.sav")
    assert done.returncode == 0, done.stderr
    return folder


def test_the_sav_export_writes_a_codebook_of_every_score_variable(sav_cli: Path) -> None:
    codebook = pd.read_csv(sav_cli / "study_codebook.csv").set_index("spss_name")
    seen: set[str] = set()
    for path in sorted(sav_cli.glob("study_*.sav")):
        frame, meta = _read(path, user_missing=True)
        scale = path.stem.removeprefix("study_").split("_")[0]
        for name in meta.missing_ranges:  # every score variable of every .sav file
            base = name[:-2] if path.stem.endswith("_pairs") else name
            row = codebook.loc[base]
            seen.add(base)
            assert row["scale_id"] == scale, (path.name, name)
            for code, label in MISSING_LABELS.items():
                assert f"{code:.0f} = {label}" in row["spss_missing_codes"]
            assert sorted(r["lo"] for r in meta.missing_ranges[name]) == [-9, -8, -7]
            scored = frame[name][frame[name] >= 0]
            if row["kind"] != "composite" and len(scored):  # a count may have no max
                assert not row["min"] > scored.min() and not scored.max() > row["max"], name
        for name, kind in meta.readstat_variable_types.items():
            if name in codebook.index and kind == "string":  # a text item
                assert codebook.loc[name, "kind"] == "text"
                assert codebook.loc[name, "spss_missing_codes"].startswith("none")
    assert seen == set(codebook.index[codebook["kind"] != "text"])
    thabs = codebook.loc["thabs_specification"]
    assert (thabs["kind"], thabs["min"], thabs["max"]) == ("ordinal", 0, 4)
    assert thabs["value_labels"].startswith("0 = not done")
    assert codebook.loc["sthar_rationale", "scale_id"] == "sthar"  # not THABS's column
    assert codebook["scale_sha256"].str.fullmatch(r"[0-9a-f]{64}").all()
    _, notes = _read(sav_cli / "study_thabs.sav")
    assert any("study_codebook.csv" in line for line in notes.notes)


def test_the_sav_codebook_is_the_csv_codebook_plus_spss_columns(
    study_file: Path, sav_cli: Path, tmp_path: Path
) -> None:
    done = run_cli("export", study_file, "--format", "csv", "--out", tmp_path / "c.csv")
    assert done.returncode == 0, done.stderr
    csv = pd.read_csv(tmp_path / "c_codebook.csv")
    sav = pd.read_csv(sav_cli / "study_codebook.csv")
    assert list(sav.columns) == [*csv.columns, "spss_name", "spss_missing_codes"]
    pd.testing.assert_frame_equal(sav[list(csv.columns)], csv)


def test_readr_reads_the_sav_codebook(sav_cli: Path) -> None:
    script = r"""
    suppressMessages(library(readr))
    cb <- read_csv(file.path(commandArgs(TRUE)[1], "study_codebook.csv"),
                   show_col_types = FALSE, progress = FALSE)
    stopifnot(nrow(problems(cb)) == 0)
    row <- cb[cb$column == "thabs_specification", ]
    cat(class(cb$min), class(cb$scale_version), row$kind, row$min, row$max, "\n")
    cat(row$spss_missing_codes, "\n")
    cat(sum(is.na(cb$spss_missing_codes)), "\n")
    """
    out = run_r(script, str(sav_cli), packages=("readr",)).splitlines()
    assert out[0].split() == ["numeric", "numeric", "ordinal", "0", "4"]
    assert out[1].strip() == "user-missing -7 = not administered; -8 = uncodable; -9 = left blank"
    assert out[2].strip() == "0"
