"""Run R, the reference the statistics and the exports are checked against.

``run_r(script, packages=...)`` runs ``script`` with ``Rscript`` and returns what it
printed on standard output. Where R or one of the packages is missing the test is
skipped with the reason, except in CI (``CI`` set), where ``.ci/run`` installs them from
Debian (r-base-core, r-cran-lme4, r-cran-readxl, r-cran-haven, r-cran-readr): there a
missing R is a failure, so the R half of the suite can never silently vanish.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

import pytest

R_TIMEOUT_S = 300.0


@functools.cache
def _missing(packages: tuple[str, ...]) -> str | None:
    """Why R cannot run these packages here, or None when it can."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return "Rscript is not installed (Debian: r-base-core)"
    if not packages:
        return None
    probe = "for (p in commandArgs(TRUE)) if (!requireNamespace(p, quietly = TRUE)) cat(p, '\\n')"
    done = subprocess.run(
        [rscript, "--vanilla", "-e", probe, *packages],
        capture_output=True,
        text=True,
        timeout=R_TIMEOUT_S,
        check=False,
    )
    absent = done.stdout.split()
    if done.returncode != 0:
        return f"Rscript failed: {done.stderr.strip()[-300:]}"
    if absent:
        debs = ", ".join(f"r-cran-{p.lower()}" for p in absent)
        return f"R lacks {', '.join(absent)} (Debian: {debs})"
    return None


def require_r(*packages: str) -> str:
    """The path of Rscript; skips (fails in CI) when R or a package is missing."""
    why = _missing(tuple(sorted(packages)))
    if why is not None:
        if os.environ.get("CI"):
            pytest.fail(f"R is required in CI: {why}")
        pytest.skip(why)
    rscript = shutil.which("Rscript")
    assert rscript is not None
    return rscript


def run_r(script: str, *args: str, packages: tuple[str, ...] = ()) -> str:
    """Run an R script (``commandArgs(TRUE)`` gives ``args``) and return its stdout.

    A failing script fails the test with R's own error message.
    """
    rscript = require_r(*packages)
    done = subprocess.run(
        [rscript, "--vanilla", "-e", script, *args],
        capture_output=True,
        text=True,
        timeout=R_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"R failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout
