"""Write a set of export files all or nothing.

Every writer (xlsx, csv, sav) writes each file under a temporary name beside its
target and moves the whole set into place only when every file is complete, so a
failed or cancelled export never leaves a half-written file, nor a mix of new and
old files of one set. This module is that rule, once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def all_or_none() -> Iterator[Callable[[Path], Path]]:
    """Give ``temp_for(target)``: the temporary file to write ``target``'s content to.

    On leaving the block normally, every temporary file replaces its target (in the
    order asked for); on an exception (a cancel included) every temporary file is
    removed and the targets are left as they were.

    Example::

        with all_or_none() as temp_for:
            write_table_csv(frame, temp_for(path))
    """
    partial: dict[Path, Path] = {}

    def temp_for(target: Path) -> Path:
        tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
        partial[target] = tmp
        return tmp

    try:
        yield temp_for
        for target, tmp in partial.items():
            os.replace(tmp, target)
    except BaseException:
        for tmp in partial.values():
            tmp.unlink(missing_ok=True)
        raise
