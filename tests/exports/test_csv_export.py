"""The CSV export: the long table at PATH, every other table beside it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coder.errors import InputError
from coder.export_data import ExportBundle, build_export_bundle
from coder.store.project import Project
from exports import write_export
from exports.csv_export import write_csv
from tests.exports._project import AUDIO_DIR, SECRET_METADATA


@pytest.fixture(scope="module")
def written(bundle: ExportBundle, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_csv(bundle, tmp_path_factory.mktemp("csv") / "study.csv")


def test_files_are_named_after_the_path(written: list[Path]) -> None:
    folder = written[0].parent
    assert [p.name for p in written] == [
        "study.csv",
        "study_codebook.csv",
        "study_scores_thabs.csv",
        "study_scores_ghes.csv",
        "study_final_thabs.csv",
        "study_final_ghes.csv",
        "study_pairs_thabs.csv",
        "study_pairs_ghes.csv",
        "study_reliability.csv",
        "study_reliability_pairs.csv",
        "study_reliability_pair_summary.csv",
        "study_descriptives.csv",
        "study_winsorizing.csv",
        "study_notes.csv",
        "study_spans.csv",
        "study_uncodable.csv",
        "study_uncodable_counts.csv",
        "study_plan.csv",
        "study_README.txt",
    ]
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in written)


def test_a_file_per_scale_holds_only_that_scales_rows_and_columns(written: list[Path]) -> None:
    folder = written[0].parent
    for table in ("scores", "final", "pairs"):
        for scale, other in (("thabs", "ghes"), ("ghes", "thabs")):
            frame = pd.read_csv(folder / f"study_{table}_{scale}.csv")
            assert any(c.startswith(f"{scale}_") for c in frame.columns)
            assert not any(c.startswith(f"{other}_") for c in frame.columns)
            assert set(frame["scale_id"]) == {scale}


def test_long_table_reads_back_tidy(written: list[Path], bundle: ExportBundle) -> None:
    long = pd.read_csv(written[0])
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
    assert len(long) == len(bundle.long)
    row = long[
        (long["session_id"] == "S02")
        & (long["rater"] == "R3")
        & (long["item_id"] == "specification")
    ]
    assert row["value"].tolist() == [2.0]
    mean = long[
        (long["item_id"] == "behaviour_mean")
        & (long["session_id"] == "S01")
        & (long["rater"] == "R2")
    ]
    assert mean["kind"].tolist() == ["composite"] and mean["value"].iloc[0] == pytest.approx(2.4)
    text = long[(long["item_id"] == "completed_log") & (long["rater"] == "R2")]
    assert text["text"].tolist() == ["thought records"]
    assert math.isnan(text["value"].iloc[0])


def test_tables_beside_it(written: list[Path]) -> None:
    folder = written[0].parent
    scores = pd.read_csv(folder / "study_scores_thabs.csv")
    s01 = scores[(scores["session_id"] == "S01") & (scores["rater"] == "R1")].iloc[0]
    assert s01["thabs_specification"] == 3 and s01["double_coded"] is np.True_
    assert scores["double_coded"].dtype == bool
    raw = (folder / "study_scores_thabs.csv").read_text(encoding="utf-8")
    assert ",TRUE," in raw and "True" not in raw
    assert pd.to_datetime(scores["submitted_at"]).notna().all()
    final = pd.read_csv(folder / "study_final_thabs.csv")
    # Winsorizing is per session number: two sessions a number here, so no outlier.
    assert final.loc[final["session_id"] == "S04", "thabs_duration"].tolist() == [600]
    rel = pd.read_csv(folder / "study_reliability.csv")
    perfect = rel[rel["variable"] == "thabs_troubleshooting"].iloc[0]
    assert math.isnan(perfect["ICC1_F"]) and perfect["ICC1_F_infinite"] is np.True_
    assert rel["ICC1_F"].dtype == np.float64  # no "inf" text in the column
    notes = pd.read_csv(folder / "study_notes.csv")
    assert {"0:01:01", "0:01:30", "1:02:05"} <= set(notes["time"])  # h:mm:ss for readr
    counts = pd.read_csv(folder / "study_uncodable_counts.csv")
    assert counts.to_dict("records") == [{"scale_id": "thabs", "reason": "Audio failure", "n": 1}]
    desc = pd.read_csv(folder / "study_descriptives.csv")
    assert desc.loc[desc["variable"] == "thabs_duration", "adjusted_n"].tolist() == [0]


def test_the_codebook_file_lists_every_variable(written: list[Path], bundle: ExportBundle) -> None:
    codebook = pd.read_csv(written[0].parent / "study_codebook.csv")
    assert list(codebook["column"]) == list(bundle.variables["column"])
    assert set(codebook["scale_version"]) == {1}
    assert codebook["scale_sha256"].str.fullmatch(r"[0-9a-f]{64}").all()


def test_readme_names_every_file_and_column(written: list[Path], bundle: ExportBundle) -> None:
    readme = written[-1].read_text(encoding="utf-8")
    for path in written[:-1]:
        assert path.name in readme
    assert "  value: " in readme and "  rater_A: " in readme
    assert "Winsorizing: on, K = 1.5" in readme


def test_no_audio_path_or_metadata_unless_asked(
    written: list[Path], project: Project, tmp_path: Path
) -> None:
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert AUDIO_DIR not in text and SECRET_METADATA not in text, path.name
    full = build_export_bundle(project, include_audio_paths=True, include_metadata=True)
    files = write_csv(full, tmp_path / "full.csv")
    scores = pd.read_csv(tmp_path / "full_scores_thabs.csv")
    assert set(scores["date"]) == {f"2024-03-0{i}" for i in range(1, 6)}  # ISO dates
    assert scores["audio_path"].str.startswith(AUDIO_DIR).all()
    assert (scores["meta_referral"] == SECRET_METADATA).all()
    assert "audio paths included" in files[-1].read_text(encoding="utf-8")


def test_a_folder_gets_export_csv_files(bundle: ExportBundle, tmp_path: Path) -> None:
    files = write_export(bundle, "csv", tmp_path)
    assert files[0] == tmp_path / "export.csv"
    assert (tmp_path / "export_plan.csv").is_file()
    seen: list[float] = []
    write_csv(bundle, tmp_path / "again.csv", progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen)


def test_a_new_folder_with_a_slash_and_a_name_without_csv(
    bundle: ExportBundle, tmp_path: Path
) -> None:
    files = write_export(bundle, "csv", f"{tmp_path}/newdir/")
    assert files[0] == tmp_path / "newdir" / "export.csv"
    assert (tmp_path / "newdir" / "export_scores_thabs.csv").is_file()
    named = write_export(bundle, "csv", tmp_path / "study")
    assert named[0] == tmp_path / "study.csv"
    assert (tmp_path / "study_codebook.csv").is_file()
    upper = write_export(bundle, "csv", tmp_path / "UP.CSV")
    assert upper[0] == tmp_path / "UP.CSV" and (tmp_path / "UP_plan.csv").is_file()
    with pytest.raises(InputError, match="does not exist"):
        write_export(bundle, "csv", f"{tmp_path}/missing/deeper/")
