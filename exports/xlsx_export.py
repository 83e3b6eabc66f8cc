"""The Excel export: a README sheet first, then one sheet per analysis table and scale.

Sheets, in order (:data:`SHEETS`): README, codebook, ``scores_<scale>``,
``final_<scale>`` and ``pairs_<scale>`` for every scale (``patients`` after the final
sheets with ``--layout patient``), long, reliability, descriptives, winsorizing,
notes, spans, uncodable, uncodable_counts, plan. Every data sheet has a
bold, frozen header row, an autofilter and column widths fitted to its content.
Types survive R's readxl: numbers are numbers with a number format
(:func:`number_format`), dates and time stamps are Excel dates, booleans are TRUE and
FALSE, a missing value is an empty cell and texts are text (never formulas). No cell
holds an infinite number or the text ``Infinity``: an infinite F is empty and flagged
in ``<form>_F_infinite``. Each column has a value among its first 1,000 rows, so
readxl never guesses a score column as logical
(:func:`coder.export_data.guess_safe`). A text longer than Excel's cell limit is cut
with a notice at its end (:data:`CUT_NOTICE`).

Speed: openpyxl builds the workbook (README, styles, frozen panes, widths, headers) in
``write_only`` mode. The data rows are then streamed into its sheets as plain
SpreadsheetML. Why: without lxml, openpyxl serialises each cell through an
ElementTree element, about 7 µs a cell, and a 5,000-session project has over a million
cells; writing the same ``<c>`` elements as strings is several times faster and makes
all sheets together quicker than ``pandas.DataFrame.to_excel`` of the scores alone
(``bench/export.py``). The file is written beside ``path`` and moved into place at
the end, so a failed or cancelled export never leaves half a file.
"""

from __future__ import annotations

import functools
import io
import math
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.dimensions import ColumnDimension, DimensionHolder

from coder.export_data import (
    DATE_COLUMNS,
    TABLE_DOCS,
    ExportBundle,
    Variable,
    describe_columns,
    describe_options,
)
from coder.kinds import ItemKind
from exports.file_set import all_or_none

Progress = Callable[[float], None]

#: The sheets of every workbook, in order, with ``{scale}`` standing for one sheet per
#: exported scale (``scores_thabs``, ``scores_ghes``, ... then ``final_thabs`` ...).
SHEETS: tuple[str, ...] = (
    "README",
    "codebook",
    "scores_{scale}",
    "final_{scale}",
    "pairs_{scale}",
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
)
_MAX_SHEET_NAME = 31  # Excel's limit
#: The per-session-number descriptives: a sheet after ``descriptives`` only when asked.
BY_SESSION_TABLE = "descriptives_by_session"


@dataclass(frozen=True)
class Sheet:
    """One data sheet: its name, the bundle table it shows and, if any, its scale."""

    name: str
    table: str
    scale_id: str | None
    frame: pd.DataFrame


_ROWS_PER_CHUNK = 2000
# zlib's default level, as openpyxl uses: level 1 would save a third of the writing time
# (0.5 s for 5,000 sessions) for a file a third larger, and the budget is not tight.
_ZIP_LEVEL = 6
_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "us")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_MAX_TEXT = 32_767  # Excel's limit for one cell
#: The end of a text cut at Excel's cell limit (the README says so too).
CUT_NOTICE = " [cut here: the text is longer than Excel's 32,767-character cell limit]"
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "p": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_TITLE_FONT = Font(bold=True, size=14)
_WRAP = Alignment(wrap_text=True, vertical="top")


def write_xlsx(bundle: ExportBundle, path: str | Path, *, progress: Progress | None = None) -> Path:
    """Write the bundle as one .xlsx workbook.

    Args:
        bundle: The tables (:func:`coder.export_data.build_export_bundle`).
        path: The .xlsx file to write (replaced if it exists).
        progress: Called with the fraction done, 0.0 to 1.0.

    Returns:
        The path written.

    Raises:
        OSError: The file or its folder cannot be written (nothing is left behind).
    """
    path = Path(path)
    sheets = sheet_layout(bundle)
    tables = {sheet.name: sheet.frame for sheet in sheets}
    wb = Workbook(write_only=True)
    _write_readme(wb.create_sheet("README"), bundle, sheets)
    by_column = {v.column: v for v in bundle.all_variables}
    styles: dict[str, int] = {}  # number format -> the workbook's style id
    sheet_styles: dict[str, list[int]] = {}
    for sheet in sheets:
        frame = sheet.frame
        ws = wb.create_sheet(sheet.name)
        ws.freeze_panes = "A2"
        last = get_column_letter(max(1, frame.shape[1]))
        ws.auto_filter.ref = f"A1:{last}{frame.shape[0] + 1}"
        for i, width in enumerate(_column_widths(frame), start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.append([_header_cell(ws, str(c)) for c in frame.columns])
        column_styles = []
        for column in frame.columns:
            fmt = number_format(sheet.table, str(column), frame[column], by_column)
            if fmt is not None and fmt not in styles:
                probe = WriteOnlyCell(ws)
                probe.number_format = fmt
                styles[fmt] = probe.style_id  # registers the format in the workbook
            column_styles.append(0 if fmt is None else styles[fmt])
        sheet_styles[sheet.name] = column_styles
    template = io.BytesIO()
    wb.save(template)

    total = sum(max(1, f.size) for f in tables.values())
    done = 0

    def body(name: str, frame: pd.DataFrame) -> Iterator[str]:
        nonlocal done
        for chunk in _rows_xml(frame, first_row=2, styles=sheet_styles[name]):
            yield chunk
            done += min(frame.size, _ROWS_PER_CHUNK * max(1, frame.shape[1]))
            if progress is not None:
                progress(min(0.99, done / total))

    bodies = {name: (frame, functools.partial(body, name)) for name, frame in tables.items()}
    _splice(template.getvalue(), path, bodies)
    if progress is not None:
        progress(1.0)
    return path


def sheet_layout(bundle: ExportBundle) -> list[Sheet]:
    """The data sheets in order (README aside): see :data:`SHEETS`.

    A per-scale sheet is named ``<table>_<scale>``; a name longer than Excel's 31
    characters is cut and numbered (``scores_a_very_long_scale_id~2``), and the
    README lists every sheet with its scale.
    """
    out: list[Sheet] = []
    taken: set[str] = {"readme"}
    for pattern in SHEETS[1:]:
        if "{scale}" not in pattern:
            table = "variables" if pattern == "codebook" else pattern
            out.append(Sheet(pattern, table, None, bundle.table(table)))
            taken.add(pattern.lower())
            if table == "descriptives" and bundle.options.descriptives_by == "session_number":
                name = _sheet_name(BY_SESSION_TABLE, taken)
                out.append(Sheet(name, BY_SESSION_TABLE, None, bundle.descriptives_by_session))
            continue
        table = pattern.split("_", 1)[0]
        for scale_id, frame in bundle.per_scale(table).items():
            name = _sheet_name(f"{table}_{scale_id}", taken)
            out.append(Sheet(name, table, scale_id, frame))
        if table == "final" and bundle.options.layout == "patient":
            out.append(Sheet(_sheet_name("patients", taken), "patients", None, bundle.patients))
    return out


def _sheet_name(wanted: str, taken: set[str]) -> str:
    """``wanted``, or cut to Excel's limit and numbered to be unique (case-insensitive)."""
    name, n = wanted[:_MAX_SHEET_NAME], 1
    while name.lower() in taken:
        n += 1
        suffix = f"~{n}"
        name = wanted[: _MAX_SHEET_NAME - len(suffix)] + suffix
    taken.add(name.lower())
    return name


def sheet_tables(bundle: ExportBundle) -> dict[str, pd.DataFrame]:
    """The data sheets in order (README aside): sheet name -> table as laid out."""
    return {sheet.name: sheet.frame for sheet in sheet_layout(bundle)}


# --------------------------------------------------------------------------- README


def cut_text(text: str) -> str:
    """A text that fits one Excel cell: cut only when longer, and then saying so."""
    if len(text) <= _MAX_TEXT:
        return text
    return text[: _MAX_TEXT - len(CUT_NOTICE)] + CUT_NOTICE


def _clean(text: str) -> str:
    return cut_text(_ILLEGAL.sub("", text))


def _cell(ws: WriteOnlyWorksheet, value: Any, *, font: Font | None = None) -> Cell:
    cell = WriteOnlyCell(ws, value=_clean(value) if isinstance(value, str) else value)
    if isinstance(value, str):
        cell.data_type = "s"  # a text starting with "=" stays text, not a formula
        cell.alignment = _WRAP
    if font is not None:
        cell.font = font
    return cell


def _header_cell(ws: WriteOnlyWorksheet, text: str) -> Cell:
    cell = WriteOnlyCell(ws, value=_clean(text))
    cell.data_type = "s"
    cell.font = _HEADER_FONT
    cell.fill = _HEADER_FILL
    return cell


def _column_dimensions(ws: WriteOnlyWorksheet) -> DimensionHolder[str, ColumnDimension]:
    """The column widths of a write-only sheet (set them before the first row)."""
    # Worksheet._setup() gives a write-only sheet its column_dimensions at run time;
    # the openpyxl stubs (types-openpyxl) do not declare it.
    dimensions: DimensionHolder[str, ColumnDimension] = ws.column_dimensions  # type: ignore[attr-defined]
    return dimensions


_README_WIDTHS = {"A": 24.0, "B": 30.0, "C": 90.0}


def _write_readme(ws: WriteOnlyWorksheet, bundle: ExportBundle, sheets: list[Sheet]) -> None:
    """The README sheet: three columns (what, column, explanation), printable.

    Every explanation is in the wide column C with wrapped text and a row height for
    its lines, so nothing spills over a neighbouring cell on screen or on paper; the
    sheet prints landscape, one page wide, with its column header rows repeated.
    """
    widths = _column_dimensions(ws)
    for letter, width in _README_WIDTHS.items():
        widths[letter].width = width
    setup: Any = ws  # page_setup, print_options, sheet_properties: set by _setup()
    setup.page_setup.orientation = "landscape"
    setup.page_setup.fitToWidth = 1
    setup.page_setup.fitToHeight = 0
    setup.sheet_properties.pageSetUpPr.fitToPage = True
    setup.print_options.gridLines = True
    heights = setup.row_dimensions
    bold = _HEADER_FONT
    number = 0

    def row(*values: Any, font: Font | None = None) -> None:
        nonlocal number
        number += 1
        lines = max(
            (
                _wrapped_lines(str(v), _README_WIDTHS[get_column_letter(i)])
                for i, v in enumerate(values, start=1)
                if isinstance(v, str) and i <= len(_README_WIDTHS)
            ),
            default=1,
        )
        if lines > 1:
            heights[number].height = 15 * lines
        ws.append([_cell(ws, v, font=font) if v is not None else None for v in values])

    row("Session Coder export", font=_TITLE_FONT)
    row(
        "About",
        None,
        "This workbook holds the scores and inter-rater reliability of the project, one "
        "sheet per scale for scores, final and pairs. This sheet explains every sheet "
        "and every column; the codebook sheet lists every item and composite column. "
        "Numbers are stored as numbers, dates as dates, time stamps in milliseconds "
        "and again as mm:ss text; an empty cell is a missing value.",
    )
    row()
    row("Options", font=bold)
    for key, text in describe_options(bundle):
        row(key, None, text)
    if bundle.methods:
        row()
        row("Methods", font=bold)
        row(
            "About",
            None,
            "The reliability of each scale in words, for a paper's methods section: the "
            "numbers are those of the reliability sheets, rounded to two decimals.",
        )
        for scale_id, paragraph in bundle.methods.items():
            row(scale_id, None, paragraph)
    row()
    row("Sheets", font=bold)
    row("README", None, "This sheet.")
    for sheet in sheets:
        doc = TABLE_DOCS[sheet.table]
        if sheet.scale_id is not None:
            doc = f"Scale {sheet.scale_id}. {doc}"
        row(sheet.name, None, doc)
    row()
    row("Columns", font=bold)
    row("sheet", "column", "description", font=bold)
    for sheet in sheets:
        for column, description in describe_columns(bundle, sheet.table, sheet.scale_id):
            row(sheet.name, column, description)


def _wrapped_lines(text: str, width: float) -> int:
    """Lines a wrapped text takes in a column ``width`` characters wide (an estimate)."""
    per_line = max(1, int(width * 1.1))
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


# --------------------------------------------------------------------------- sheet data


def _column_widths(frame: pd.DataFrame, sample: int = 200) -> list[float]:
    widths = []
    head = frame.head(sample)
    for column in frame.columns:
        longest = len(str(column))
        values = head[column]
        if len(values):
            lengths = [len(_display(v)) for v in values.tolist()]
            longest = max(longest, max(lengths))
        widths.append(float(min(60, max(8, longest + 2))))
    return widths


def _display(value: Any) -> str:
    if _missing(value):
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _escape(text: str) -> str:
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub("", text)
    if len(text) > _MAX_TEXT:
        text = cut_text(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _number(value: float) -> str:
    if value.is_integer() and -1e15 < value < 1e15:
        return str(int(value))
    return repr(value)


def _text_cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


#: Number formats: how a cell shows its number (the number itself is stored in full).
INTEGER = "0"
SCORE_MEAN = "0.00"
SECONDS = "0.0"
STATISTIC = "0.000"
F_VALUE = "0.00"
P_VALUE = "0.0000"
DATE = "yyyy-mm-dd"
DATE_TIME = "yyyy-mm-dd hh:mm:ss"
_PATIENT_SUFFIX = re.compile(r"_s\d+$")
_INTEGER_KINDS = frozenset({ItemKind.ORDINAL, ItemKind.NOMINAL, ItemKind.COUNT})


def number_format(
    table: str, column: str, series: pd.Series, variables: Mapping[str, Variable]
) -> str | None:
    """The Excel number format of one column, or None (General, text, booleans).

    Dates show as dates (``yyyy-mm-dd``, time stamps with the time); whole-number
    columns (counts, codes, Int64) as integers; a coder's score of an ordinal,
    nominal or count item as an integer and a composite or a final (possibly
    averaged) score with two decimals; durations and span lengths in seconds with
    one decimal and three; ICC, kappa, alpha, agreement and their CIs with three
    decimals, F with two, p with four; descriptive statistics with two.
    """
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return DATE if column in DATE_COLUMNS else DATE_TIME
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        return None
    if pd.api.types.is_integer_dtype(dtype):
        return INTEGER
    base = column
    if table == "pairs" and column.endswith(("_A", "_B")):
        base = column[:-2]
    elif table == "patients":
        base = _PATIENT_SUFFIX.sub("", column)  # thabs_rationale_s1: final scores
    variable = variables.get(base)
    if variable is not None:
        if variable.kind == ItemKind.DURATION:
            return SECONDS
        if table not in ("final", "patients") and variable.kind in _INTEGER_KINDS:
            return INTEGER
        return SCORE_MEAN
    if table == "reliability":
        if column.endswith("_F"):
            return F_VALUE
        if column.endswith("_p"):
            return P_VALUE
        if column.endswith(("_df1", "_df2")) or column.startswith("categories_"):
            return INTEGER
        return STATISTIC
    if table in ("reliability_pairs", "reliability_pair_summary"):
        return STATISTIC
    if table in ("descriptives", BY_SESSION_TABLE):
        return SCORE_MEAN
    if table == "spans" and column == "seconds":
        return "0.000"
    return None


def _column_cells(series: pd.Series, letter: str, first: int, style: int) -> list[str]:
    """One column of a row block as ``<c>`` elements ('' for an empty cell).

    ``style`` is the column's cell style (its number or date format; 0 for none).
    """
    rows = range(first, first + len(series))
    s = f' s="{style}"' if style else ""
    dtype = series.dtype
    if dtype == np.bool_:
        return [
            f'<c r="{letter}{r}" t="b"><v>{int(v)}</v></c>'
            for r, v in zip(rows, series.tolist(), strict=True)
        ]
    if pd.api.types.is_datetime64_any_dtype(dtype):
        stamps = series.to_numpy(dtype="datetime64[us]")
        serial = (stamps - _EXCEL_EPOCH) / np.timedelta64(86_400_000_000, "us")
        return [
            "" if v != v else f'<c r="{letter}{r}"{s}><v>{v!r}</v></c>'
            for r, v in zip(rows, serial.tolist(), strict=True)
        ]
    if pd.api.types.is_bool_dtype(dtype):  # nullable booleans: TRUE, FALSE or empty
        return [
            "" if v is pd.NA else f'<c r="{letter}{r}" t="b"><v>{int(v)}</v></c>'
            for r, v in zip(rows, series.tolist(), strict=True)
        ]
    if pd.api.types.is_numeric_dtype(dtype):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        # NaN (missing) and infinities (no spreadsheet number) are empty cells; the
        # tables flag an infinite statistic in a column of its own.
        codes, uniques = pd.factorize(np.where(np.isfinite(values), values, np.nan))
        tails = [f'"{s}><v>{_number(float(u))}</v></c>' for u in uniques.tolist()]
        return _coded_cells(letter, rows, codes, tails)
    if pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        # Text (or nothing): each distinct text is escaped once (columns such as
        # scale_id, rater, item_id and kind repeat a handful of values).
        text_codes, texts = pd.factorize(series, use_na_sentinel=True)
        tails = [
            f'" t="inlineStr"><is><t xml:space="preserve">{_escape(str(u))}</t></is></c>'
            for u in texts.tolist()
        ]
        return _coded_cells(letter, rows, text_codes, tails)
    escaped: dict[str, str] = {}
    out = []
    for r, v in zip(rows, series.tolist(), strict=True):
        if isinstance(v, str):
            text = escaped.get(v)
            if text is None:
                text = escaped[v] = _escape(v)
            out.append(_text_cell(f"{letter}{r}", text))
        elif _missing(v):
            out.append("")
        elif isinstance(v, (bool, np.bool_)):
            out.append(f'<c r="{letter}{r}" t="b"><v>{int(v)}</v></c>')
        elif isinstance(v, (int, float, np.integer, np.floating)):
            f = float(v)
            out.append(f'<c r="{letter}{r}"{s}><v>{_number(f)}</v></c>' if math.isfinite(f) else "")
        else:
            out.append(_text_cell(f"{letter}{r}", _escape(str(v))))
    return out


def _coded_cells(letter: str, rows: range, codes: np.ndarray, tails: list[str]) -> list[str]:
    """Cells from factorized values: ``tails[code]`` after the reference, '' for -1."""
    return [
        f'<c r="{letter}{r}{tails[c]}' if c >= 0 else ""
        for r, c in zip(rows, codes.tolist(), strict=True)
    ]


def _rows_xml(frame: pd.DataFrame, *, first_row: int, styles: list[int]) -> Iterator[str]:
    """The sheet's data rows as SpreadsheetML, in blocks of rows."""
    letters = [get_column_letter(i + 1) for i in range(frame.shape[1])]
    for start in range(0, len(frame), _ROWS_PER_CHUNK):
        block = frame.iloc[start : start + _ROWS_PER_CHUNK]
        first = first_row + start
        columns = [
            _column_cells(block.iloc[:, j], letters[j], first, styles[j])
            for j in range(block.shape[1])
        ]
        yield "".join(
            f'<row r="{first + i}">{"".join(cells)}</row>'
            for i, cells in enumerate(zip(*columns, strict=True))
        )


def _sheet_members(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> its member name in the package (from workbook.xml and its rels)."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.findall("p:Relationship", _NS)}
    out = {}
    for sheet in workbook.findall("m:sheets/m:sheet", _NS):
        target = targets[sheet.get(f"{{{_NS['r']}}}id")]
        member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        out[sheet.get("name", "")] = str(PurePosixPath(member))
    return out


def _splice(
    template: bytes,
    path: Path,
    bodies: Mapping[str, tuple[pd.DataFrame, Callable[[pd.DataFrame], Iterator[str]]]],
) -> None:
    """Copy openpyxl's package to ``path``, streaming each sheet's rows into it."""
    with all_or_none() as temp_for:
        tmp = temp_for(path)
        with (
            zipfile.ZipFile(io.BytesIO(template)) as src,
            zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=_ZIP_LEVEL) as dst,
        ):
            members = {member: title for title, member in _sheet_members(src).items()}
            for info in src.infolist():
                data = src.read(info.filename)
                title = members.get(info.filename, "")
                if title not in bodies:
                    dst.writestr(info.filename, data)
                    continue
                frame, body = bodies[title]
                text = data.decode("utf-8")
                cut = text.rfind("</sheetData>")
                if cut < 0:  # no row at all: openpyxl wrote an empty element
                    text = text.replace("<sheetData />", "<sheetData></sheetData>", 1)
                    cut = text.rfind("</sheetData>")
                last = get_column_letter(max(1, frame.shape[1]))
                dimension = f'<dimension ref="A1:{last}{frame.shape[0] + 1}" />'
                head = text[:cut].replace("<sheetViews>", dimension + "<sheetViews>", 1)
                with dst.open(info.filename, "w", force_zip64=True) as out:
                    out.write(head.encode("utf-8"))
                    for chunk in body(frame):
                        out.write(chunk.encode("utf-8"))
                    out.write(text[cut:].encode("utf-8"))
