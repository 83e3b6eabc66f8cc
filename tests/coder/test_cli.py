"""The command-line contract of SPEC section 9.

The commands run in process (tests/cli.py); one smoke test runs them as a real process.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import run_cli as run
from tests.cli import run_cli_process

SCALES = Path(__file__).parent.parent.parent / "scales"
BROKEN = Path(__file__).parent.parent / "scales" / "broken"


def test_help_lists_every_command() -> None:
    out = run("--help")
    assert out.returncode == 0
    for command in ("demo", "init", "scales", "raters", "import", "status", "relink"):
        assert command in out.stdout


def test_scales_check_passes_the_builtin_files() -> None:
    files = sorted(str(p) for p in SCALES.glob("*.yaml") if p.name != "schema.yaml")
    out = run("scales", "check", *files)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{len(files)} scale file(s) valid" in out.stdout


def test_scales_check_reports_problems_with_lines_and_exit_2() -> None:
    broken = sorted(BROKEN.glob("*.yaml"))
    assert broken, "the broken scale fixtures are missing"
    out = run("scales", "check", *(str(p) for p in broken))
    assert out.returncode == 2
    assert "Traceback" not in out.stdout + out.stderr
    for path in broken:
        # Every broken file is named with a line number in the report.
        assert any(line.startswith(f"{path}:") for line in out.stdout.splitlines()), path


def test_init_add_scales_and_raters_then_status(tmp_path: Path) -> None:
    project = str(tmp_path / "study.scproj")
    assert run("init", project).returncode == 0
    out = run("scales", "add", project, "thabs", "resistance")
    assert out.returncode == 0 and "added thabs" in out.stdout
    assert run("raters", "add", project, "AK", "BM").returncode == 0
    listed = json.loads(run("raters", "list", project, "--json").stdout)
    assert [r["code"] for r in listed["raters"]] == ["AK", "BM"]
    status = json.loads(run("status", project, "--json").stdout)
    assert status["raters"] == 2 and status["scales"] == ["thabs", "resistance"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("status", "{tmp}/nope.scproj"), "no project at"),
        (("scales", "add", "{tmp}/p.scproj", "nonsense"), "neither a scale file nor"),
        (("init", "{tmp}/x.scproj", "--db", "mysql://a@b/c"), "unsupported database"),
        (("raters", "add", "{tmp}/p.scproj", "bad code"), "is not valid"),
    ],
)
def test_errors_are_one_line_with_exit_2(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    run("init", str(tmp_path / "p.scproj"))
    out = run(*(a.format(tmp=tmp_path) for a in args))
    assert out.returncode == 2
    assert message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr


def test_the_real_process_gives_exit_codes_stdout_and_one_line_errors(tmp_path: Path) -> None:
    """Smoke test of the entry point as a process: ``python -m coder`` end to end."""
    project = tmp_path / "p.scproj"
    assert run_cli_process("init", project).returncode == 0
    status = run_cli_process("status", project, "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["raters"] == 0
    bad = run_cli_process("raters", "add", project, "bad code")
    assert bad.returncode == 2
    assert "is not valid" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    assert "Traceback" not in bad.stderr
