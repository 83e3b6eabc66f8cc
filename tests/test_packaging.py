"""What a normal install gets: every package and data file of the app is in the wheel.

``./dev`` uses an editable install, which imports straight from the checkout and so
hides a package or data file that the wheel leaves out (a hand-written package list
once dropped ``coder.reliability``, and ``pip install .`` failed on half the
commands). These tests look at what setuptools itself discovers and builds.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from setuptools.config.pyprojecttoml import read_configuration

REPO = Path(__file__).resolve().parent.parent
# The folders the app is made of (the layout in the README); tests/ and bench/ stay out.
APP_FOLDERS = ("launcher", "coder", "ui", "exports", "scales")
_SKIP_DIRS = {"__pycache__"}


def _setuptools_config() -> dict[str, object]:
    config = read_configuration(REPO / "pyproject.toml", expand=True)
    return dict(config["tool"]["setuptools"])


def _app_dirs() -> list[Path]:
    """Every folder of the app's source tree (the top folders and all below them)."""
    out: list[Path] = []
    for top in APP_FOLDERS:
        root = REPO / top
        out.append(root)
        out.extend(
            p for p in sorted(root.rglob("*")) if p.is_dir() and not (_SKIP_DIRS & set(p.parts))
        )
    return out


def _dotted(folder: Path) -> str:
    return ".".join(folder.relative_to(REPO).parts)


def _data_files(folder: Path) -> list[Path]:
    """Files in ``folder`` itself that are not Python sources or byte code."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix not in {".py", ".pyc", ".pyo"} and p.name != ".DS_Store"
    )


def test_every_folder_of_python_files_is_a_discovered_package() -> None:
    """A new subpackage under coder/, ui/ or exports/ can never be left out again."""
    packages = set(_setuptools_config()["packages"])  # type: ignore[call-overload]
    missing = []
    for folder in _app_dirs():
        has_python = any(folder.glob("*.py"))
        if not has_python:
            continue
        name = _dotted(folder)
        if not (folder / "__init__.py").exists():
            missing.append(f"{name} (add an __init__.py: it has Python files but is no package)")
        elif name not in packages:
            missing.append(
                f"{name} (setuptools does not find it: see [tool.setuptools.packages.find])"
            )
    assert not missing, "the wheel would lack: " + "; ".join(missing)


def test_every_data_file_of_a_package_is_package_data() -> None:
    """Scale YAML, their README, the migration template: whatever sits beside the code."""
    config = _setuptools_config()
    packages = set(config["packages"])  # type: ignore[call-overload]
    patterns: dict[str, list[str]] = dict(config.get("package-data") or {})  # type: ignore[call-overload]
    unshipped = []
    for folder in _app_dirs():
        name = _dotted(folder)
        if name not in packages:
            continue
        globs = patterns.get(name, []) + patterns.get("*", [])
        for path in _data_files(folder):
            if not any(fnmatch.fnmatch(path.name, g) for g in globs):
                unshipped.append(str(path.relative_to(REPO)))
    assert not unshipped, (
        "not in [tool.setuptools.package-data], so missing from the wheel: " + ", ".join(unshipped)
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel for real, from a clean copy (no stale build/ folder)."""
    tmp_path = tmp_path_factory.mktemp("wheel")
    source = tmp_path / "src"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for top in APP_FOLDERS:
        shutil.copytree(REPO / top, source / top, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    out = tmp_path / "wheel"
    # No build isolation: the test extras pin a setuptools that builds this project,
    # and the test then needs no package index.
    run = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["--no-index", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    (built,) = out.glob("session_coder-*.whl")
    return built


@pytest.mark.slow
def test_built_wheel_holds_every_module_and_data_file(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        shipped = set(zf.namelist())
    expected = {
        path.relative_to(REPO).as_posix()
        for top in APP_FOLDERS
        for path in (REPO / top).rglob("*")
        if path.is_file() and not (_SKIP_DIRS & set(path.parts)) and path.suffix != ".pyc"
    }
    missing = sorted(expected - shipped)
    assert not missing, f"the wheel lacks {len(missing)} files: {missing[:20]}"
    entry_points = next(n for n in shipped if n.endswith(".dist-info/entry_points.txt"))
    with zipfile.ZipFile(wheel) as zf:
        # The launcher, which has every command (coder.cli:main lacks gui, demo, export).
        assert "session-coder = launcher:main" in zf.read(entry_points).decode()


@pytest.mark.slow
def test_installed_session_coder_runs_from_a_fresh_venv(wheel: Path, tmp_path: Path) -> None:
    """The console script of the wheel, in a venv that holds nothing else, from a folder
    outside the checkout: it starts, and lists every command (the core's and the app's).

    Only the wheel is installed (no dependencies, no package index): the command line
    starts on the standard library alone, and loads Qt, SQLAlchemy and the rest when a
    command needs them. .ci/wheel_smoke runs the commands with every dependency.
    """
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    bin_dir = venv / ("Scripts" if sys.platform == "win32" else "bin")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install"]
        + ["--no-deps", "--no-index", "-q", str(wheel)],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    run = subprocess.run(
        [str(bin_dir / "session-coder"), "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**env, "COLUMNS": "100"},
    )
    assert run.returncode == 0, run.stderr
    listed = {line.split()[0] for line in run.stdout.splitlines() if line.startswith("    ")}
    spec_commands = {"gui", "demo", "init", "scales", "raters", "import", "status"}
    spec_commands |= {"assign", "reliability", "export"}
    assert spec_commands <= listed, sorted(spec_commands - listed)
    wrong = subprocess.run(
        [str(bin_dir / "session-coder"), "no-such-command"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr
