"""Every shipped scale file loads, and says what SPEC section 2 says it does."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from coder.scales import (
    BUILTIN_SCALE_IDS,
    CodingWindow,
    RatingScale,
    builtin_scale_path,
    load_builtin_scale,
    load_scale,
    parse_scale,
)

SCALES_DIR = Path(str(resources.files("scales")))
# Every YAML file in the folder, not just the ids the code knows, so that a new file
# cannot be shipped without being loaded here.
SCALE_FILES = sorted(p for p in SCALES_DIR.glob("*.yaml") if p.name != "schema.yaml")


def _scores(scale: RatingScale, pick: str) -> dict[str, float | None]:
    """Every ordinal item at its minimum ("min") or maximum ("max")."""
    return {
        item.id: float(item.values[0] if pick == "min" else item.values[-1])
        for item in scale.items
        if item.kind == "ordinal"
    }


def test_the_folder_holds_exactly_the_builtin_scales() -> None:
    assert {p.stem for p in SCALE_FILES} == set(BUILTIN_SCALE_IDS)


@pytest.mark.parametrize("path", SCALE_FILES, ids=lambda p: p.stem)
def test_every_scale_file_loads_and_is_named_after_its_id(path: Path) -> None:
    scale = load_scale(path)
    assert scale.id == path.stem
    assert builtin_scale_path(scale.id) == path
    # StHAR version 2 added the paper's global, spanning two sessions.
    assert scale.version == (2 if scale.id == "sthar" else 1)
    assert scale.name and scale.citation and scale.instructions
    assert len(scale.instructions.split()) >= 20, "instructions should be a paragraph"


@pytest.mark.parametrize("path", SCALE_FILES, ids=lambda p: p.stem)
def test_every_item_has_a_label_and_a_description(path: Path) -> None:
    scale = load_scale(path)
    for item in scale.items:
        assert item.label, item.id
        assert item.description, f"{scale.id}.{item.id} has no description"


@pytest.mark.parametrize("path", SCALE_FILES, ids=lambda p: p.stem)
def test_every_ordinal_value_has_an_anchor_text(path: Path) -> None:
    scale = load_scale(path)
    for item in scale.items:
        if item.kind == "ordinal":
            assert set(item.anchors) == set(item.values), f"{scale.id}.{item.id}"
            assert all(text.strip() for text in item.anchors.values())


@pytest.mark.parametrize("path", SCALE_FILES, ids=lambda p: p.stem)
def test_anchors_between_the_end_points_are_marked_as_placeholders(path: Path) -> None:
    # SPEC: texts between the published end points are placeholders the lab edits;
    # raters must be able to see that they are.
    scale = load_scale(path)
    for item in scale.items:
        if item.kind != "ordinal":
            continue
        lo, hi = item.values[0], item.values[-1]
        assert "placeholder" not in item.anchors[lo]
        assert "placeholder" not in item.anchors[hi]
        for value in item.values[1:-1]:
            assert item.anchors[value].startswith("(placeholder) "), f"{item.id} {value}"


@pytest.mark.parametrize("path", SCALE_FILES, ids=lambda p: p.stem)
def test_reliability_defaults_are_the_papers_form_or_icc2_with_quadratic_kappa(
    path: Path,
) -> None:
    scale = load_scale(path)
    # Resistance reports the paper's one-way ICC; the others ICC2, marked as our choice.
    expected = ("ICC1", "source") if scale.id == "resistance" else ("ICC2", "ours")
    assert (scale.reliability.icc, scale.reliability.icc_source) == expected
    assert scale.reliability.kappa_weights == "quadratic"
    assert scale.reliability.alpha_level == "ordinal"


@pytest.mark.parametrize("path", SCALE_FILES, ids=lambda p: p.stem)
def test_a_stored_copy_rebuilds_the_same_scale(path: Path) -> None:
    """A project stores a scale's YAML source and parses it again when read."""
    scale = load_scale(path)
    assert parse_scale(scale.source, source_name=f"stored scale {scale.id}") == scale


@pytest.mark.parametrize("path", SCALE_FILES, ids=lambda p: p.stem)
def test_composites_name_numeric_items_of_the_scale(path: Path) -> None:
    scale = load_scale(path)
    numeric = {item.id for item in scale.scored_items}
    for composite in scale.composites:
        assert set(composite.items) <= numeric, composite.id


def test_homework_adherence() -> None:
    scale = load_builtin_scale("hw_adherence")
    assert scale.rated == "client"
    assert scale.window.is_whole_session
    assert [item.id for item in scale.items] == ["adherence"]
    (item,) = scale.items
    assert item.kind == "ordinal"
    assert (item.min, item.max) == (0, 6)
    assert item.anchors[0] == "no effort"
    assert item.anchors[6] == "did more than was asked or exceptional effort"
    # Applies to sessions that review an earlier assignment: not the first.
    assert scale.applies_to.min_session_number == 2
    assert scale.applies_to.description
    assert not scale.applies_to.matches(1)
    assert scale.applies_to.matches(2) and scale.applies_to.matches(12)
    assert "Other" in scale.uncodable_reasons


def test_thabs() -> None:
    scale = load_builtin_scale("thabs")
    assert scale.rated == "therapist"
    assert scale.window.is_whole_session
    ordinal = [item for item in scale.items if item.kind == "ordinal"]
    assert [item.id for item in ordinal] == [
        "specification",
        "rationale",
        "troubleshooting",
        "review",
        "praise",
    ]
    for item in ordinal:
        assert (item.min, item.max) == (0, 4)
        assert item.anchors[0] == "not done"
        assert item.anchors[4] == "very well done"
    durations = [item for item in scale.items if item.kind == "duration"]
    assert len(scale.items) == 6
    assert len(durations) == 1
    assert durations[0].required
    assert durations[0].is_numeric
    (composite,) = scale.composites
    assert composite.method == "mean"
    assert set(composite.items) == {item.id for item in ordinal}
    assert composite.compute(_scores(scale, "min")) == 0
    assert composite.compute(_scores(scale, "max")) == 4


def test_resistance() -> None:
    scale = load_builtin_scale("resistance")
    assert scale.rated == "client"
    # 15 minutes beginning at 5:00, of session 1 only.
    assert scale.window == CodingWindow(start_ms=5 * 60_000, duration_ms=15 * 60_000)
    assert scale.window.end_ms == 20 * 60_000
    assert scale.applies_to.session_numbers == (1,)
    assert scale.applies_to.matches(1)
    assert not scale.applies_to.matches(2)
    assert [item.id for item in scale.items] == [
        "hostile",
        "frustrated",
        "impatient",
        "intellectualizing",
        "defensive",
        "negative_reactions",
    ]
    assert scale.items[-1].label == "Negative reactions to the therapist"
    for item in scale.items:
        assert item.kind == "ordinal"
        assert (item.min, item.max) == (1, 5)
        assert item.anchors[1] == "not at all"
        assert item.anchors[5] == "a great deal"
    (total,) = scale.composites
    assert total.id == "total"
    assert total.method == "sum"
    assert len(total.items) == 6
    assert set(total.items) == {item.id for item in scale.items}
    assert total.compute(_scores(scale, "min")) == 6
    assert total.compute(_scores(scale, "max")) == 30
    # An unscored item leaves the total undefined rather than too low.
    partial = _scores(scale, "max") | {"defensive": None}
    assert total.compute(partial) is None


def test_ghes() -> None:
    scale = load_builtin_scale("ghes")
    assert scale.rated == "client"
    ordinal = [item for item in scale.items if item.kind == "ordinal"]
    texts = [item for item in scale.items if item.kind == "text"]
    assert [item.label for item in ordinal] == [
        "Engagement with the tasks",
        "Carried out as agreed",
        "Applied strategies in difficult times",
        "Intensity",
        "Difficulties experienced",
        "Benefit",
        "Estimated time spent",
    ]
    for item in ordinal:
        assert (item.min, item.max) == (0, 4)
        assert item.anchors[0] == "not at all"
        assert item.anchors[4] == "considerably"
    assert len(texts) == 2
    assert "completed since the last session" in texts[0].label
    assert "assigned for the next session" in texts[1].label
    assert not any(item.required for item in texts)
    assert len(scale.scored_items) == 7
    (global_,) = scale.composites
    assert global_.id == "global"
    assert global_.method == "mean"
    assert global_.items == tuple(item.id for item in ordinal)
    assert global_.compute(_scores(scale, "min")) == 0
    assert global_.compute(_scores(scale, "max")) == 4
    mixed = dict(zip(global_.items, [0, 1, 2, 3, 4, 4, 0], strict=True))
    assert global_.compute(mixed) == pytest.approx(2.0)


def test_sthar() -> None:
    scale = load_builtin_scale("sthar")
    assert scale.rated == "therapist"
    assert len(scale.items) == 8
    for item in scale.items:
        assert item.kind == "ordinal"
        assert (item.min, item.max) == (0, 4)
    composites = {c.id: c for c in scale.composites}
    # Not the paper's name: its global pairs StH-A of the previous session with StH-R
    # of this one, while this is the mean of one session's eight items.
    assert set(composites) == {"sth_a", "sth_r", "same_session_mean"}
    assert "not the paper's global" in composites["same_session_mean"].label
    assert all(c.method == "mean" for c in composites.values())
    labels = {item.id: item.label for item in scale.items}
    assert [labels[i] for i in composites["sth_a"].items] == [
        "Rationale",
        "Tailoring to the individual situation",
        "Addressing potential challenges",
        "Specifying",
        "Ensuring comprehension",
    ]
    assert [labels[i] for i in composites["sth_r"].items] == [
        "Extent of discussing previous homework",
        "Drawing conclusions",
        "Strengthening self-efficacy",
    ]
    # The subscales split the eight items; the same-session mean takes all of them.
    same = composites["same_session_mean"]
    assert not set(composites["sth_a"].items) & set(composites["sth_r"].items)
    assert same.items == composites["sth_a"].items + composites["sth_r"].items
    assert same.items == tuple(item.id for item in scale.items)
    scores = {item_id: 4.0 for item_id in composites["sth_a"].items} | {
        item_id: 0.0 for item_id in composites["sth_r"].items
    }
    assert scale.composite_scores(scores) == {
        "sth_a": 4.0,
        "sth_r": 0.0,
        "same_session_mean": 2.5,
    }


def test_the_readme_example_is_a_valid_scale() -> None:
    readme = (SCALES_DIR / "README.md").read_text(encoding="utf-8")
    example = readme.split("## A complete small example", 1)[1]
    text = example.split("```yaml\n", 1)[1].split("```", 1)[0]
    scale = parse_scale(text, source_name="README example")
    assert scale.id == "my_alliance"
    assert [item.kind for item in scale.items] == ["ordinal", "ordinal", "count", "nominal", "text"]
    assert scale.item("bond").anchors == scale.item("agreement").anchors
    assert scale.window == CodingWindow(start_ms=0, duration_ms=20 * 60_000)


# --------------------------------------------------------------------------- faithful to the papers


def test_ghes_applies_to_every_session_and_words_items_5_and_7_as_the_paper() -> None:
    scale = load_builtin_scale("ghes")
    # Haller & Watzke rated every session, the first (telephone) session included.
    assert scale.applies_to.matches(1) and scale.applies_to.matches(None)
    assert scale.applies_to.min_session_number is None
    difficulties = scale.item("difficulties")
    assert "extent of the difficulties" in difficulties.description
    assert "experienced" in difficulties.description
    assert "faced the difficulties" not in difficulties.description
    assert "relative to what was agreed" not in scale.item("time_spent").description
    assert "uncodable" not in scale.instructions  # no invented "no homework" rule in them
    assert any("every session" in rule for rule in scale.invented_rules)


@pytest.mark.parametrize("path", SCALE_FILES, ids=lambda p: p.stem)
def test_descriptions_and_instructions_written_by_us_are_marked(path: Path) -> None:
    scale = load_scale(path)
    assert scale.instructions_wording == "ours"
    assert all(item.wording == "ours" for item in scale.items)
    assert scale.reliability.icc_source in ("source", "ours")
    notes = scale.lead_notes()
    assert any("not the published wording" in line for line in notes)
    assert scale.placeholder_warning() is not None  # every built-in has placeholders


def test_invented_rules_are_marked_and_out_of_the_instructions() -> None:
    thabs = load_builtin_scale("thabs")
    assert any("Review and praise score 0" in r and "structural" in r for r in thabs.invented_rules)
    assert "no earlier assignment" not in thabs.instructions
    assert any(line.startswith("Rule of ours") for line in thabs.rater_notes())
    sthar = load_builtin_scale("sthar")
    assert any("first session" in r and "structural" in r for r in sthar.invented_rules)
    assert "first session" not in sthar.instructions


def test_resistance_reports_the_papers_one_way_icc_and_cites_its_source() -> None:
    scale = load_builtin_scale("resistance")
    assert scale.reliability.icc == "ICC1"
    assert scale.reliability.icc_source == "source"
    assert "Suh, C. S., Strupp, H. H., & O'Malley, S. S. (1986)" in " ".join(scale.citation.split())
    assert any("as the source reports it" in line for line in scale.lead_notes())


@pytest.mark.parametrize("path", SCALE_FILES, ids=lambda p: p.stem)
def test_raters_see_only_published_anchor_texts(path: Path) -> None:
    scale = load_scale(path)
    for item in scale.items:
        if item.kind != "ordinal":
            continue
        lo, hi = item.values[0], item.values[-1]
        assert item.placeholder_values == tuple(range(lo + 1, hi))
        assert item.published_anchor(lo) == item.anchors[lo]
        assert item.published_anchor(hi) == item.anchors[hi]
        assert all(item.published_anchor(v) is None for v in item.placeholder_values)


def test_a_bad_wording_marker_names_file_line_and_field(tmp_path: Path) -> None:
    from coder.scales import ScaleValidationError

    text = builtin_scale_path("hw_adherence").read_text(encoding="utf-8")
    bad = tmp_path / "hw.yaml"
    bad.write_text(text.replace("    wording: ours\n", "    wording: mine\n"), encoding="utf-8")
    line = 1 + bad.read_text(encoding="utf-8").split("\n").index("    wording: mine")
    with pytest.raises(ScaleValidationError) as caught:
        load_scale(bad)
    message = str(caught.value)
    assert f"hw.yaml:{line}" in message and "items[0].wording" in message
