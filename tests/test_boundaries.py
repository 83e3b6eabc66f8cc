"""The layers hold: launcher > ui > exports > coder, the core and the exporters never
load Qt (STYLE.md section 1), only coder.store talks to the database, and no module
imports itself round a loop (issue 10)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).parent.parent


def test_core_and_exports_import_without_qt() -> None:
    code = (
        "import sys, pkgutil, importlib\n"
        "import coder, exports\n"
        "for pkg in (coder, exports):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if '.migrations' not in m.name and m.name != 'coder.__main__':\n"
        "            importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.startswith(('PySide6', 'shiboken6', 'ui')))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == ""


def test_import_linter_contract_holds() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ", 0 broken." in result.stdout, result.stdout


def _contract(name: str) -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    return next(c for c in contracts if c["name"] == name)


def test_database_contract_covers_every_module_outside_the_store() -> None:
    """A forbidden contract cannot say "coder minus coder.store", so it lists every
    module of coder by name: a new module must be added to it, or nothing checks it."""
    contract = _contract("Only coder.store talks to the database")
    listed = set(contract["source_modules"])
    modules = {"coder." + p.stem for p in (ROOT / "coder").glob("*.py") if p.stem != "__init__"}
    packages = {
        "coder." + p.parent.name
        for p in (ROOT / "coder").glob("*/__init__.py")
        if p.parent.name != "store"
    }
    missing = sorted((modules | packages | {"exports", "ui", "launcher"}) - listed)
    assert not missing, f"add {missing} to source_modules of the contract in pyproject.toml"
    assert "coder.store" not in listed


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """One import chain for every direct import that leads back to its importer."""
    found = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is not None:
                found.append([module, *back])
    return found


def test_no_module_imports_itself_round_a_loop() -> None:
    """Stricter than the acyclic_siblings contract, which lets a package's __init__ and
    its own modules import each other: here every single module counts."""
    graph = grimp.build_graph("launcher", "ui", "exports", "coder", cache_dir=None)
    cycles = _cycles(graph)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_cycle_check_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for a, b in (("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")):
        graph.add_import(importer=a, imported=b)
    assert ["p.a", "p.b", "p.c", "p.a"] in _cycles(graph)
    assert all("p.d" not in cycle for cycle in _cycles(graph))
