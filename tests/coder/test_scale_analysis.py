"""The lead's analysis choices per scale: composite definition and dropped items
(issue 13, item 2). Composites are derived at analysis time from stored item scores."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from coder.discrepancies import reliability_frame
from coder.export_data import build_export_bundle, describe_options
from coder.scale_analysis import ScaleAnalysis, scale_analysis
from coder.scales import load_builtin_scale, parse_scale
from coder.store.project import Project
from tests.cli import run_cli

SCALE = "thabs"
KEPT = ("specification", "rationale", "troubleshooting", "praise")


def col(*item_ids: str) -> list[str]:
    """The export columns of THABS items (named scale_item)."""
    return [f"{SCALE}_{i}" for i in item_ids]


MEAN = f"{SCALE}_behaviour_mean"


def four_item_v2() -> str:
    """THABS version 2 whose composite leaves out the review item (as a v2 would)."""
    source = load_builtin_scale(SCALE).source.replace("\nversion: 1\n", "\nversion: 2\n")
    old = "items: [specification, rationale, troubleshooting, review, praise]"
    assert old in source
    return source.replace(old, "items: [specification, rationale, troubleshooting, praise]")


def test_newest_definition_applies_to_every_coding_and_coded_keeps_each_versions() -> None:
    v1 = load_builtin_scale(SCALE)
    v2 = parse_scale(four_item_v2())
    scores = {"specification": 4, "rationale": 4, "troubleshooting": 4, "review": 0, "praise": 4}
    newest = ScaleAnalysis(SCALE).apply(v1, v2)
    assert newest.composite_scores(scores)["behaviour_mean"] == 4.0
    coded = ScaleAnalysis(SCALE, "coded").apply(v1, v2)
    assert coded.composite_scores(scores)["behaviour_mean"] == pytest.approx(16 / 5)


def test_a_dropped_item_leaves_composites_and_items() -> None:
    from coder.scale_analysis import DroppedItem

    v1 = load_builtin_scale(SCALE)
    seen = ScaleAnalysis(SCALE, dropped=(DroppedItem("review", "low ICC"),)).apply(v1, v1)
    assert "review" not in {i.id for i in seen.items}
    [comp] = seen.composites
    assert comp.items == KEPT and "without review" in comp.label
    scores = {"specification": 1, "rationale": 2, "troubleshooting": 3, "review": 4, "praise": 2}
    assert seen.composite_scores(scores)["behaviour_mean"] == 2.0


@pytest.fixture
def demo_copy(tmp_path: Path, demo_project: Path) -> Path:
    folder = tmp_path / "demo"
    shutil.copytree(demo_project.parent, folder)
    return folder / demo_project.name


def test_drop_item_through_the_cli_reaches_exports_reliability_and_history(
    demo_copy: Path, tmp_path: Path
) -> None:
    with Project.open(demo_copy) as p:
        before = build_export_bundle(p, scale_ids=[SCALE])
    assert col("review")[0] in before.scores.columns
    result = run_cli(
        "scales", "drop-item", demo_copy, "--scale", SCALE, "--item", "review",
        "--reason", "ICC below .40 in the reliability check",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "dropped thabs.review" in result.stdout
    again = run_cli("scales", "drop-item", demo_copy, "--scale", SCALE, "--item", "review",
                    "--reason", "twice")  # fmt: skip
    assert "already dropped" in again.stdout
    bad = run_cli("scales", "drop-item", demo_copy, "--scale", SCALE, "--item", "nope",
                  "--reason", "x")  # fmt: skip
    assert bad.returncode == 2 and "has no item 'nope'" in bad.stderr

    with Project.open(demo_copy) as p:
        history = [h for h in p.history() if h.action == "drop_item"]
        bundle = build_export_bundle(p, scale_ids=[SCALE])
        frame, _ranges = reliability_frame(p, SCALE)
        assert scale_analysis(p, SCALE).dropped_ids == {"review"}
    assert len(history) == 1 and history[0].field == "review"
    assert "ICC below .40" in str(history[0].new)
    # Exports: no review column; behaviour_mean is the mean of the four kept items.
    assert col("review")[0] not in bundle.scores.columns
    submitted = bundle.scores[bundle.scores["state"] == "submitted"]
    expected = submitted[col(*KEPT)].mean(axis=1)
    assert submitted[MEAN].to_numpy() == pytest.approx(expected.to_numpy())
    assert not (before.scores.loc[submitted.index, MEAN] == expected).all()
    notes = dict(describe_options(bundle))["Scale definitions"]
    assert "item review is dropped" in notes and "ICC below .40" in notes
    assert col("review")[0] not in set(bundle.reliability["variable"])
    assert MEAN in set(bundle.reliability["variable"])
    codebook = bundle.variables.set_index("column").loc[MEAN]
    assert "review" not in str(codebook["composite_of"])
    # Reliability (the CLI's frame): no review item, composites from the four items.
    assert "review" not in set(frame["item_id"])
    # The report's composites (Cronbach's alpha) list the four kept items: with review
    # listed, no coding had every item and alpha was never defined.
    report = run_cli("reliability", demo_copy, "--scale", SCALE, "--json")
    assert report.returncode == 0, report.stderr
    composite = json.loads(report.stdout)["composites"]["behaviour_mean"]
    assert composite["items"] == list(KEPT)
    assert composite["cronbach_alpha"]["n"] > 0
    # All three formats are written, and the document says it.
    for fmt in ("xlsx", "csv", "sav"):
        out = tmp_path / fmt / "e"
        out.parent.mkdir()
        result = run_cli("export", demo_copy, "--format", fmt, "--out", out, "--final", "mean")
        assert result.returncode == 0, result.stderr
    readme = (tmp_path / "csv" / "e_README.txt").read_text(encoding="utf-8")
    assert "item review is dropped from the analysis" in readme

    # Restored: everything back as before.
    assert run_cli("scales", "restore-item", demo_copy, "--scale", SCALE, "--item",
                   "review").returncode == 0  # fmt: skip
    with Project.open(demo_copy) as p:
        restored = build_export_bundle(p, scale_ids=[SCALE])
    pd.testing.assert_series_equal(restored.scores[MEAN], before.scores[MEAN])


def test_composite_definition_follows_the_lead_choice_after_a_version_change(
    demo_copy: Path, tmp_path: Path
) -> None:
    (tmp_path / "v2.yaml").write_text(four_item_v2(), encoding="utf-8")
    assert run_cli("scales", "add", demo_copy, tmp_path / "v2.yaml").returncode == 0
    with Project.open(demo_copy) as p:
        newest = build_export_bundle(p, scale_ids=[SCALE])
    rows = newest.scores[newest.scores["state"] == "submitted"]
    # Every coding was coded under version 1, but the column follows version 2's
    # four-item definition (the default), as the document says.
    assert rows[MEAN].to_numpy() == pytest.approx(rows[col(*KEPT)].mean(axis=1).to_numpy())
    assert "version 2 (the newest)" in dict(describe_options(newest))["Scale definitions"]
    result = run_cli("scales", "composites", demo_copy, "--scale", SCALE, "--use", "coded")
    assert result.returncode == 0, result.stderr
    with Project.open(demo_copy) as p:
        coded = build_export_bundle(p, scale_ids=[SCALE])
        assert any(h.action == "composite_definition" for h in p.history())
    rows = coded.scores[coded.scores["state"] == "submitted"]
    five = [*KEPT, "review"]
    assert rows[MEAN].to_numpy() == pytest.approx(rows[col(*five)].mean(axis=1).to_numpy())
    assert "each coding was coded under" in dict(describe_options(coded))["Scale definitions"]
