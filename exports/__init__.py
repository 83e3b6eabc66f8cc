"""Writers of analysis exports: one module per format, each with one entry function.

All take an :class:`coder.export_data.ExportBundle` (build it with
:func:`coder.export_data.build_export_bundle`), a path and an optional ``progress``
callback that receives the fraction done as a float from 0.0 to 1.0.
"""

from __future__ import annotations

import os
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

    ``path`` is the file to write; a name without the format's suffix gets it
    (``study`` becomes ``study.xlsx``). For csv, ``path`` names the long table and the
    other files go beside it (:func:`exports.csv_export.csv_files`); an existing folder
    or a path ending in ``/`` (a new folder, created in an existing one) takes
    ``export.csv`` and the rest. For sav, ``path`` names a set of files beside it,
    one per scale and table (:func:`exports.spss_export.sav_paths`).

    Raises:
        InputError: An unknown format, or a folder that does not exist.
        OSError: The file cannot be written.
    """
    target = export_target(fmt, path)
    if fmt == "csv":
        from exports.csv_export import write_csv

        return write_csv(bundle, target, progress=progress)
    if fmt == "xlsx":
        from exports.xlsx_export import write_xlsx

        return [write_xlsx(bundle, target, progress=progress)]
    if fmt == "sav":
        from exports.spss_export import write_sav

        return write_sav(bundle, target, progress=progress)
    raise AssertionError(fmt)  # every format is handled above


def export_target(fmt: str, path: str | Path) -> str | Path:
    """Check where an export goes before any work; returns the path to write.

    See :func:`write_export` for the rules (suffix added, csv folders).

    Raises:
        InputError: An unknown format, a folder that does not exist, or a folder
            given for a one-file format.
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    text = os.fspath(path)
    as_folder = text.endswith(("/", os.sep))
    target = Path(text).expanduser()
    if fmt == "csv":
        from exports.csv_export import csv_location

        folder, _ = csv_location(text)
        parent = folder.parent if as_folder and not folder.is_dir() else folder
        if not parent.is_dir():
            raise InputError(f"the folder {parent} does not exist; create it or choose another")
        return text
    if target.is_dir() or as_folder:
        raise InputError(f"{target} is a folder; give a file name ending in {SUFFIXES[fmt]}")
    if target.suffix.lower() != SUFFIXES[fmt]:
        target = target.with_name(target.name + SUFFIXES[fmt])
    if not target.parent.is_dir():
        raise InputError(f"the folder {target.parent} does not exist; create it or choose another")
    return target
