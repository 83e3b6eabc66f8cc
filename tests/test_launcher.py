"""The launcher (``session-coder``) and the core's command line (``python -m coder``):
every entry point builds a parser with every command, in process."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

import launcher
from coder import cli

ROOT = Path(__file__).parent.parent

# SPEC section 9: the commands (and actions) automated checks rely on.
SPEC_COMMANDS = [
    ["gui"],
    ["demo"],
    ["init"],
    ["scales", "check"],
    ["scales", "add"],
    ["raters", "add"],
    ["raters", "list"],
    ["import"],
    ["status"],
    ["assign"],
    ["reliability"],
    ["export"],
]
APP_COMMANDS = {"gui", "demo", "export"}


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_session_coder_has_every_command_of_the_spec() -> None:
    commands = _commands(launcher.build_parser())
    for path in SPEC_COMMANDS:
        assert path[0] in commands, path
        if len(path) == 2:
            assert path[1] in _commands(commands[path[0]]), path


def test_the_launcher_adds_the_app_commands_to_every_core_command() -> None:
    core = set(_commands(cli.build_parser()))
    assert core.isdisjoint(APP_COMMANDS)
    assert set(_commands(launcher.build_parser())) == core | APP_COMMANDS


def test_the_core_parser_alone_knows_assign_and_certify() -> None:
    """build_parser() once depended on a registry that only main() filled."""
    args = cli.build_parser().parse_args(
        ["assign", "p.scproj", "--scale", "thabs", "--raters", "R1,R2", "--double", "0.3"]
        + ["--seed", "1"]
    )
    assert args.func.__name__ == "cmd_assign" and args.raters == "R1,R2"
    args = cli.build_parser().parse_args(["certify", "status", "p.scproj", "--scale", "thabs"])
    assert args.func.__name__ == "cmd_certify_status"


def test_launcher_spec_flags_parse() -> None:
    args = launcher.build_parser().parse_args(
        ["export", "p.scproj", "--format", "sav", "--out", "x.sav", "--final", "consensus"]
        + ["--winsorize-iqr", "1.5"]
    )
    assert (args.format, args.final, args.winsorize_iqr) == ("sav", "consensus", 1.5)
    args = launcher.build_parser().parse_args(["demo", "d", "--no-gui", "--json"])
    assert args.func is launcher.cmd_demo and args.no_gui and args.json


def test_no_command_opens_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[Path | None] = []
    monkeypatch.setattr(launcher, "open_app", lambda project: opened.append(project) or 7)
    assert launcher.main([]) == 7
    assert launcher.main(["gui", "study.scproj"]) == 7
    assert opened == [None, Path("study.scproj")]


def test_python_m_coder_without_a_command_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([])
    assert exit_info.value.code == 2
    assert "give a COMMAND" in capsys.readouterr().err


def test_export_is_a_launcher_command_that_writes_the_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["init", str(tmp_path / "p.scproj")]) == 0
    assert cli.main(["scales", "add", str(tmp_path / "p.scproj"), "thabs"]) == 0
    capsys.readouterr()
    out = tmp_path / "e.csv"
    code = launcher.main(
        ["export", str(tmp_path / "p.scproj"), "--format", "csv", "--out", str(out)]
    )
    assert code == 0
    written = [line.removeprefix("wrote ") for line in capsys.readouterr().out.splitlines()]
    assert written and all(Path(path).is_file() for path in written)
    missing = tmp_path / "no-such-folder" / "e.csv"
    assert (
        launcher.main(
            ["export", str(tmp_path / "p.scproj"), "--format", "csv", "--out", str(missing)]
        )
        == 2
    )
    assert "does not exist" in capsys.readouterr().err
    # --out NEWDIR/ writes into a new folder; --out NAME without .csv gets it.
    project = str(tmp_path / "p.scproj")
    newdir = f"{tmp_path}/newdir/"
    assert launcher.main(["export", project, "--format", "csv", "--out", newdir]) == 0
    assert (tmp_path / "newdir" / "export.csv").is_file()
    assert (tmp_path / "newdir" / "export_scores_thabs.csv").is_file()
    named = str(tmp_path / "named")
    assert launcher.main(["export", project, "--format", "csv", "--out", named]) == 0
    assert (tmp_path / "named.csv").is_file() and not (tmp_path / "named").exists()
    assert launcher.main(["export", project, "--format", "xlsx", "--out", named]) == 0
    assert (tmp_path / "named.xlsx").is_file()
    capsys.readouterr()
    assert launcher.main(["export", project, "--format", "xlsx", "--out", newdir]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_the_command_line_starts_without_qt() -> None:
    """Only gui and demo load the app: the other commands start fast, and without Qt."""
    code = (
        "import sys, launcher\n"
        "launcher.build_parser()\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in "
        "('PySide6', 'ui', 'exports', 'sqlalchemy')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "[]"
