"""The lead is told about placeholder anchor texts when adding and planning a scale."""

from __future__ import annotations

import json
from pathlib import Path

from coder.scales import load_builtin_scale
from tests.cli import run_cli


def test_scales_add_and_assign_warn_of_placeholder_anchors(tmp_path: Path) -> None:
    project = tmp_path / "p.scproj"
    assert run_cli("init", project).returncode == 0
    added = run_cli("scales", "add", project, "thabs")
    assert added.returncode == 0, added.stderr
    assert "warning: thabs (version 1): 5 item(s) have placeholder anchor texts" in added.stdout
    assert "no published wording" in added.stdout

    # A lab's file with its own wording for every value: no warning.
    own = load_builtin_scale("thabs").source.replace("(placeholder) ", "")
    own = own.replace("id: thabs", "id: thabs_lab")
    (tmp_path / "thabs_lab.yaml").write_text(own, encoding="utf-8")
    lab = run_cli("scales", "add", project, tmp_path / "thabs_lab.yaml")
    assert lab.returncode == 0 and "warning" not in lab.stdout

    from coder.store.project import Project
    from tests.factories import add_plain_sessions

    with Project.open(project) as p:
        p.add_raters(["R1", "R2"])
        add_plain_sessions(p, ["S1", "S2", "S3"], session_number=2)
    plan = run_cli(
        "assign", project, "--scale", "thabs", "--raters", "R1,R2", "--double", "1",
        "--seed", "3", "--preview",
    )  # fmt: skip
    assert plan.returncode == 0, plan.stderr
    assert "warning: thabs (version 1): 5 item(s) have placeholder" in plan.stdout
    as_json = run_cli(
        "assign", project, "--scale", "thabs_lab", "--raters", "R1,R2", "--double", "1",
        "--seed", "3", "--preview", "--json",
    )  # fmt: skip
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["warnings"] == []
