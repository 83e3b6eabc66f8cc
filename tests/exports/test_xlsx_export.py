"""The Excel export, read back with openpyxl and pandas."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from coder.export_data import ExportBundle, build_export_bundle
from coder.store.project import Project
from exports import write_export
from exports.xlsx_export import CUT_NOTICE, _sheet_name, cut_text, sheet_tables, write_xlsx
from tests.exports._project import AUDIO_DIR, SECRET_METADATA, THABS_ITEMS


@pytest.fixture(scope="module")
def xlsx(bundle: ExportBundle, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_xlsx(bundle, tmp_path_factory.mktemp("xlsx") / "study.xlsx")


@pytest.fixture(scope="module")
def workbook(xlsx: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(xlsx)


def _records(ws: openpyxl.worksheet.worksheet.Worksheet) -> list[dict[str, object]]:
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _raw_text(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return "".join(archive.read(name).decode("utf-8") for name in archive.namelist())


def test_every_sheet_is_there_in_order_readme_first(workbook: openpyxl.Workbook) -> None:
    assert workbook.sheetnames == [
        "README",
        "codebook",
        "scores_thabs",
        "scores_ghes",
        "final_thabs",
        "final_ghes",
        "pairs_thabs",
        "pairs_ghes",
        "long",
        "reliability",
        "reliability_pairs",
        "reliability_pair_summary",
        "descriptives",
        "winsorizing",
        "notes",
        "spans",
        "uncodable",
        "uncodable_counts",
        "plan",
    ]


def test_a_sheet_per_scale_holds_only_that_scales_rows_and_columns(
    workbook: openpyxl.Workbook,
) -> None:
    for table in ("scores", "final", "pairs"):
        for scale, other in (("thabs", "ghes"), ("ghes", "thabs")):
            ws = workbook[f"{table}_{scale}"]
            header = [c.value for c in ws[1]]
            assert any(h.startswith(f"{scale}_") for h in header), (table, scale)
            assert not any(h.startswith(f"{other}_") for h in header), (table, scale)
            assert {r[0] for r in ws.iter_rows(min_row=2, values_only=True)} <= {scale}
    assert len(_records(workbook["scores_thabs"])) == 9


def test_the_codebook_sheet_lists_every_variable(
    workbook: openpyxl.Workbook, bundle: ExportBundle
) -> None:
    rows = _records(workbook["codebook"])
    assert [r["column"] for r in rows] == list(bundle.variables["column"])
    spec = next(r for r in rows if r["column"] == "thabs_specification")
    assert (spec["min"], spec["max"], spec["scale_version"]) == (0, 4, 1)
    assert len(spec["scale_sha256"]) == 64 and spec["missing"]


def test_long_sheet_names_are_cut_to_excels_limit_and_stay_unique() -> None:
    taken = {"readme"}
    long_id = "a_scale_with_a_very_long_identifier"
    first = _sheet_name(f"scores_{long_id}", taken)
    second = _sheet_name(f"scores_{long_id}_too", taken)
    assert len(first) == 31 and len(second) <= 31 and first != second
    assert second.endswith("~2")


def test_data_sheets_have_a_frozen_bold_header(workbook: openpyxl.Workbook) -> None:
    for name in workbook.sheetnames[1:]:
        ws = workbook[name]
        assert ws.freeze_panes == "A2", name
        assert ws["A1"].font.bold, name
        assert ws["A1"].value == "scale_id", name
        assert ws.column_dimensions["A"].width >= 8
        assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith("A1:")
    assert not workbook["scores_thabs"]["A2"].font.bold


def test_numbers_are_numbers_with_the_right_values(workbook: openpyxl.Workbook) -> None:
    ws = workbook["scores_thabs"]
    header = [c.value for c in ws[1]]
    rows = _records(ws)
    s01 = next(r for r in rows if r["session_id"] == "S01" and r["rater"] == "R1")
    assert [s01[f"thabs_{i}"] for i in THABS_ITEMS] == [3, 2, 4, 1, 0]
    assert s01["thabs_duration"] == 30 and s01["thabs_behaviour_mean"] == 2
    assert s01["double_coded"] is True and s01["session_number"] == 2
    assert s01["scale_version"] == 1
    assert isinstance(s01["submitted_at"], dt.datetime)
    column = header.index("thabs_specification") + 1
    for cell in ws.iter_cols(min_col=column, max_col=column, min_row=2).__next__():
        if cell.value is not None:
            assert cell.data_type == "n"
    assert ws.cell(row=2, column=header.index("submitted_at") + 1).is_date
    ghes = next(r for r in _records(workbook["scores_ghes"]) if r["rater"] == "R3")
    assert ghes["ghes_completed_log"] == "all of it"
    assert ghes["ghes_global"] == pytest.approx(26 / 7)


def test_pairs_final_and_descriptives(workbook: openpyxl.Workbook) -> None:
    pairs = _records(workbook["pairs_thabs"])
    s03 = next(r for r in pairs if r["session_id"] == "S03")
    assert (s03["rater_A"], s03["rater_B"], s03["thabs_rationale_A"], s03["thabs_rationale_B"]) == (
        "R1",
        "R3",
        4,
        3,
    )
    final = _records(workbook["final_thabs"])
    s04 = next(r for r in final if r["session_id"] == "S04")
    assert s04["thabs_duration"] == 600  # per session number: two sessions each, no outlier
    assert s04["final_source"] == "R1 (primary)"
    desc = _records(workbook["descriptives"])
    duration = next(r for r in desc if r["variable"] == "thabs_duration")
    assert (duration["adjusted_n"], duration["n_outliers"], duration["n"]) == (0, 1, 4)
    assert next(r for r in desc if r["variable"] == "thabs_specification")["adjusted_n"] == 0


def test_reliability_sheet(workbook: openpyxl.Workbook) -> None:
    rows = _records(workbook["reliability"])
    header = list(rows[0])
    assert header.index("reported_icc") < header.index("ICC1")
    spec = next(r for r in rows if r["variable"] == "thabs_specification")
    assert spec["reported_form"] == "ICC2" and isinstance(spec["reported_icc"], float)
    assert spec["agreement_exact"] == pytest.approx(2 / 3)
    perfect = next(r for r in rows if r["variable"] == "thabs_troubleshooting")
    assert perfect["ICC1"] == 1 and perfect["ICC1_F"] is None
    assert perfect["ICC1_F_infinite"] is True and spec["ICC1_F_infinite"] is False
    ghes = next(r for r in rows if r["variable"] == "ghes_engagement")
    assert ghes["ICC2"] is None and "ICC2:" in ghes["not_defined"]


def test_numbers_dates_and_statistics_have_number_formats(
    workbook: openpyxl.Workbook, project: Project, tmp_path: Path
) -> None:
    def formats(sheet: str) -> dict[str, str]:
        ws = workbook[sheet]
        header = [c.value for c in ws[1]]
        return {str(h): c.number_format for h, c in zip(header, ws[2], strict=True)}

    scores = formats("scores_thabs")
    assert scores["thabs_specification"] == "0" and scores["thabs_behaviour_mean"] == "0.00"
    assert scores["thabs_duration"] == "0.0" and scores["session_number"] == "0"
    assert scores["submitted_at"] == "yyyy-mm-dd hh:mm:ss"
    assert formats("final_thabs")["thabs_specification"] == "0.00"  # a mean can be 2.5
    assert formats("pairs_thabs")["thabs_rationale_A"] == "0"
    rel = formats("reliability")
    assert (rel["ICC2"], rel["ICC2_ci_low"], rel["kappa_quadratic"]) == ("0.000",) * 3
    assert (rel["ICC2_F"], rel["ICC2_p"], rel["n_sessions"]) == ("0.00", "0.0000", "0")
    assert formats("descriptives")["mean"] == "0.00"
    per_patient = build_export_bundle(project, layout="patient")
    ws = openpyxl.load_workbook(write_xlsx(per_patient, tmp_path / "p.xlsx"))["patients"]
    header = [c.value for c in ws[1]]
    row = {h: c.number_format for h, c in zip(header, ws[2], strict=True)}
    assert row["thabs_specification_s2"] == "0.00" and row["thabs_duration_s2"] == "0.0"
    # The session date (on request) is a real date.
    dated = build_export_bundle(project, include_metadata=True)
    ws = openpyxl.load_workbook(write_xlsx(dated, tmp_path / "d.xlsx"))["scores_thabs"]
    header = [c.value for c in ws[1]]
    cell = ws.cell(row=2, column=header.index("date") + 1)
    assert cell.is_date and cell.number_format == "yyyy-mm-dd"
    assert cell.value == dt.datetime(2024, 3, 1)


def test_a_text_longer_than_a_cell_is_cut_with_a_notice() -> None:
    text = "x" * 40_000
    cut = cut_text(text)
    assert len(cut) == 32_767 and cut.endswith(CUT_NOTICE)
    assert cut_text("short") == "short"


def test_notes_spans_uncodable_and_plan(workbook: openpyxl.Workbook) -> None:
    notes = _records(workbook["notes"])
    assert [(n["position_ms"], n["time"]) for n in notes if n["session_id"] == "S01"] == [
        (61_500, "01:01"),
        (90_000, "01:30"),
        (3_725_000, "1:02:05"),
    ]
    assert "homework <set> & agreed" in {n["text"] for n in notes}
    # A note that looks like a formula stays text.
    formula = workbook["notes"]["F3"]
    assert formula.value == "=2+2 is what the client said" and formula.data_type == "s"
    spans = _records(workbook["spans"])
    assert {(s["start"], s["end"], s["seconds"]) for s in spans if s["session_id"] == "S04"} == {
        ("00:00", "10:00", 600),
        ("00:00", "00:10", 10),
    }
    uncodable = _records(workbook["uncodable"])
    assert list(uncodable[0]) == ["scale_id", "session_id", "rater", "role", "reason", "text"]
    assert [(u["session_id"], u["reason"], u["text"]) for u in uncodable] == [
        ("S05", "Audio failure", "recording is silent after 0:05")
    ]
    assert _records(workbook["uncodable_counts"]) == [
        {"scale_id": "thabs", "reason": "Audio failure", "n": 1}
    ]
    plan = _records(workbook["plan"])
    assert ("S06", "in_progress") in {(p["session_id"], p["state"]) for p in plan}


def test_readme_explains_options_sheets_and_every_column(
    workbook: openpyxl.Workbook, bundle: ExportBundle
) -> None:
    rows = [r for r in workbook["README"].iter_rows(values_only=True)]
    by_key = {r[0]: r[2] for r in rows if r[0] and r[2]}
    assert by_key["Final rule"].startswith("primary")
    assert "K = 1.5" in by_key["Winsorizing"] and "0 item value(s) changed" in by_key["Winsorizing"]
    assert "thabs: 0 item value(s) changed" in by_key["Winsorizing"]
    assert "no audio paths" in by_key["Privacy"]
    assert "thabs: 1 in progress" in by_key["Codings left out"]
    assert by_key["App version"].startswith("Session Coder ")
    assert dt.datetime.strptime(by_key["Exported"], "%Y-%m-%d %H:%M:%S UTC")
    documented = {(r[0], r[1]) for r in rows if r[1] and r[2]}
    for name, frame in sheet_tables(bundle).items():
        assert (name, None) in {(r[0], r[1]) for r in rows if r[2]}, name  # in Sheets
        for column in frame.columns:
            assert (name, str(column)) in documented, (name, column)


def test_readme_prints_without_overlapping_text(workbook: openpyxl.Workbook) -> None:
    ws = workbook["README"]
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    width = ws.column_dimensions["C"].width
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                # Text wraps in its cell: none runs over into the next column.
                assert cell.alignment.wrap_text, cell.coordinate
        text = row[2].value if len(row) > 2 else None
        if isinstance(text, str) and len(text) > 2 * width:
            # A long explanation gets a row tall enough for its lines.
            height = ws.row_dimensions[row[0].row].height
            assert height is not None and height >= 15 * len(text) / (width * 1.2)


def test_pandas_reads_the_sheets(xlsx: Path, bundle: ExportBundle) -> None:
    final = pd.read_excel(xlsx, sheet_name="final_thabs")
    assert list(final.columns) == list(bundle.scale_table("final", "thabs").columns)
    assert final["thabs_duration"].tolist()[:4] == [30, 34, 32, 600]
    scores = pd.read_excel(xlsx, sheet_name="scores_ghes")
    assert len(scores) == len(bundle.scale_table("scores", "ghes")) == 3


def test_no_audio_path_or_metadata_unless_asked(
    xlsx: Path, project: Project, tmp_path: Path
) -> None:
    text = _raw_text(xlsx)
    assert AUDIO_DIR not in text and SECRET_METADATA not in text
    assert "client shifts topic" in text
    opened = build_export_bundle(project, include_audio_paths=True, include_metadata=True)
    text = _raw_text(write_xlsx(opened, tmp_path / "full.xlsx"))
    assert AUDIO_DIR in text and SECRET_METADATA in text


def test_progress_and_a_failed_write_leaves_nothing(bundle: ExportBundle, tmp_path: Path) -> None:
    seen: list[float] = []
    write_xlsx(bundle, tmp_path / "p.xlsx", progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen) and all(0 <= f <= 1 for f in seen)

    def boom(fraction: float) -> None:
        if fraction > 0.2:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_xlsx(bundle, tmp_path / "broken.xlsx", progress=boom)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.xlsx"]


def test_write_export_dispatches_and_checks_the_folder(
    bundle: ExportBundle, tmp_path: Path
) -> None:
    from coder.errors import InputError

    written = write_export(bundle, "xlsx", tmp_path / "w.xlsx")
    assert written == [tmp_path / "w.xlsx"]
    assert openpyxl.load_workbook(written[0]).sheetnames[0] == "README"
    with pytest.raises(InputError, match="does not exist"):
        write_export(bundle, "xlsx", tmp_path / "missing" / "w.xlsx")
    with pytest.raises(InputError, match="unknown export format"):
        write_export(bundle, "ods", tmp_path / "w.ods")
    # A name without the suffix gets it; a folder is refused for one-file formats.
    assert write_export(bundle, "xlsx", tmp_path / "named") == [tmp_path / "named.xlsx"]
    with pytest.raises(InputError, match="is a folder"):
        write_export(bundle, "xlsx", f"{tmp_path}/new/")


def test_an_empty_project_still_gives_a_valid_workbook(tmp_path: Path) -> None:
    from coder.scales import load_builtin_scale

    with Project.create(tmp_path / "e.scproj") as project:
        project.add_scale(load_builtin_scale("thabs"))
        bundle = build_export_bundle(project)
    wb = openpyxl.load_workbook(write_xlsx(bundle, tmp_path / "e.xlsx"))
    assert wb.sheetnames[:4] == ["README", "codebook", "scores_thabs", "final_thabs"]
    assert wb["scores_thabs"].max_row == 1
    assert wb["scores_thabs"]["M1"].value == "thabs_specification"
