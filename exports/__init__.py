"""Writers of analysis exports: one module per format, each with one entry function.

All take an :class:`coder.export_data.ExportBundle` (build it with
:func:`coder.export_data.build_export_bundle`), a path and an optional ``progress``
callback that receives the fraction done as a float from 0.0 to 1.0.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from coder.errors import InputError
from coder.export_data import ExportBundle

Format = Literal["xlsx", "csv", "sav"]
FORMATS: tuple[Format, ...] = ("xlsx", "csv", "sav")
SUFFIXES: dict[str, str] = {"xlsx": ".xlsx", "csv": ".csv", "sav": ".sav"}


def write_export(
    bundle: ExportBundle,
    fmt: str,
    path: str | Path,
    *,
    progress: Callable[[float], None] | None = None,
) -> list[Path]:
    """Write ``bundle`` in one format; returns every file written (the main one first).

    Raises:
        InputError: An unknown format, or a folder that does not exist.
        OSError: The file cannot be written.
    """
    path = Path(path).expanduser()
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    folder = path if path.is_dir() else path.parent
    if not folder.is_dir():
        raise InputError(f"the folder {folder} does not exist; create it or choose another")
    if path.is_dir() and fmt != "csv":
        raise InputError(f"{path} is a folder; give a file name ending in {SUFFIXES[fmt]}")
    if fmt == "xlsx":
        from exports.xlsx_export import write_xlsx

        return [write_xlsx(bundle, path, progress=progress)]
    if fmt == "sav":
        from exports.spss_export import write_sav

        return write_sav(bundle, path, progress=progress)
    from exports.csv_export import write_csv

    return write_csv(bundle, path, progress=progress)
