"""A broken scale file gets one precise message per problem: file, line, key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from coder.errors import InputError
from coder.scales import (
    BUILTIN_SCALE_IDS,
    ScaleProblem,
    ScaleValidationError,
    builtin_scale_path,
    check_scale_files,
    load_scale,
    parse_scale,
)

BROKEN = Path(__file__).parent / "broken"

TOP_LEVEL_KEYS = (
    "applies_to, certification, citation, composites, id, instructions, instructions_wording, "
    "invented_rules, items, name, rated, reliability, uncodable_reasons, version, window"
)

# file -> the one problem it has, as (line, key path, message).
EXPECTED: dict[str, tuple[int, str, str]] = {
    "unknown_key.yaml": (7, "author", f"unknown key; allowed here: {TOP_LEVEL_KEYS}"),
    "anchor_above_max.yaml": (19, "items[0].anchors.5", "value 5 is above max 4"),
    "composite_missing_item.yaml": (
        23,
        "composites[0].items[1]",
        "'focus' is not an item of this scale",
    ),
    "duplicate_item_id.yaml": (17, "items[1].id", "duplicate item id 'effort' (also items[0])"),
    "wrong_type.yaml": (4, "version", "must be a whole number, not 'one'"),
    "empty.yaml": (1, "", "the file is empty; a scale needs id, name, version, ... and items"),
    "missing_required.yaml": (2, "", "missing required key 'citation'"),
    "duplicate_yaml_key.yaml": (6, "name", "duplicate key"),
    "window_too_long.yaml": (
        8,
        "window",
        "the window ends after 4 hours; is a time in seconds meant as minutes?",
    ),
    "bad_time.yaml": (
        9,
        "window.start",
        "'5 min' is not a time: write seconds (300) or m:ss (5:00)",
    ),
}

BOOLEAN = (
    "true (a boolean: unquoted yes, no, on, off, true and false are booleans in YAML; "
    "quote the word to mean text)"
)
TAG_HINT = "is not allowed in a scale file; remove it (write values plainly, quoting text that looks like a number)"
# Files that used to hang, exhaust memory or crash the checker or the scoring (issue 9).
EXPECTED.update(
    {
        "alias_bomb.yaml": (
            7,
            "f[0]",
            "alias *e makes the file expand to more than 100,000 values; repeat a block "
            "with an alias only where the scale needs it (a file that does this on purpose "
            "is a 'billion laughs' YAML bomb)",
        ),
        "huge_max.yaml": (15, "items[0].max", "1000000000000 is out of range (maximum 1000)"),
        "too_many_values.yaml": (
            15,
            "items[0].max",
            "min 0 to max 1000 is 1001 values; an ordinal item may have at most 101 "
            "(e.g. 0 to 100)",
        ),
        "duplicate_anchor_value.yaml": (
            19,
            "items[0].anchors.01",
            "01 is the same score as the anchor 1; give each score one anchor",
        ),
        "boolean_number.yaml": (15, "items[0].max", f"must be a whole number, not {BOOLEAN}"),
        "boolean_anchor_key.yaml": (
            19,
            "items[0].anchors.true",
            "anchor keys must be whole numbers (the scored values)",
        ),
        "python_tag.yaml": (
            12,
            "items[0].label",
            f"the YAML tag !!python/object:os.system {TAG_HINT}",
        ),
        "binary_tag.yaml": (12, "items[0].label", f"the YAML tag !!binary {TAG_HINT}"),
        "custom_tag.yaml": (11, "items[0]", f"the YAML tag !item {TAG_HINT}"),
        "recursive_alias.yaml": (
            15,
            "items[0].again",
            "alias *effort is inside the block it repeats (&effort), which would repeat "
            "itself forever; repeat a finished block only",
        ),
        "deep_nesting.yaml": (
            14,
            "items[0].nested[0][0][0][0][0][0][0]",
            "lists and mappings are nested more than 10 deep; a scale needs 4 (items, an "
            "item, its anchors)",
        ),
    }
)
# Files with more than one problem of the same kind: every problem, in line order.
EXPECTED_SEVERAL: dict[str, list[tuple[int, str, str]]] = {
    "float_min_max.yaml": [
        (14, "items[0].min", "must be a whole number, not 1.0"),
        (15, "items[0].max", "must be a whole number, not 5.0"),
    ],
    "infinite_time.yaml": [
        (9, "window.start", "'.inf' is not a time: write seconds (300) or m:ss (5:00)"),
        (10, "window.duration", "'.nan' is not a time: write seconds (300) or m:ss (5:00)"),
    ],
}

# YAML syntax errors: the wording of the parser's own message may change between PyYAML
# versions, so only the line and the key words are fixed.
SYNTAX_ERRORS: dict[str, tuple[int, list[str]]] = {
    # "kind" is indented less than its siblings on line 13; the item began on line 11.
    "bad_yaml.yaml": (13, ["YAML syntax error", "line 11", "check indentation"]),
    # The quote opened on line 3 is only noticed at the end of the file.
    "bad_yaml_quote.yaml": (14, ["YAML syntax error", "quoted scalar", "line 3"]),
}

SEVERAL = "several_problems.yaml"
SEVERAL_EXPECTED = [
    (4, "version", "must be a whole number, not '1'"),
    (7, "rated", "'patient' is not one of: client, therapist, dyad"),
    (9, "window.start", "'5:75' is not a time: write seconds (300) or m:ss (5:00)"),
    (13, "applies_to.max_session_number", "2 is below min_session_number 3"),
    (20, "items[0].anchors.6", "value 6 is above max 4"),
    (
        21,
        "items[0].colour",
        "unknown key; allowed here: anchors, description, id, kind, label, max, min, "
        "required, shortcut, wording",
    ),
    (22, "items[1]", "missing required key 'kind'"),
    (22, "items[1].id", "duplicate item id 'effort' (also items[0])"),
    (29, "items[2].anchors", "give at least the end points 1 and 5 an anchor text"),
    (30, "items[2].shortcut", "'1' is taken: number keys score the focused item"),
    (35, "composites[0].items[1]", "'mood' is not an item of this scale"),
]


def _problems(path: Path) -> tuple[ScaleProblem, ...]:
    with pytest.raises(ScaleValidationError) as info:
        load_scale(path)
    return info.value.problems


def test_every_broken_fixture_has_an_expectation() -> None:
    fixtures = {p.name for p in BROKEN.glob("*.yaml")}
    assert fixtures == set(EXPECTED) | set(SYNTAX_ERRORS) | set(EXPECTED_SEVERAL) | {SEVERAL}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_file_reports_its_problem_with_line_and_path(name: str) -> None:
    path = BROKEN / name
    line, key_path, message = EXPECTED[name]
    (problem,) = _problems(path)
    assert (problem.file, problem.line, problem.path, problem.message) == (
        str(path),
        line,
        key_path,
        message,
    )
    where = f"{path}:{line}"
    assert str(problem) == (
        f"{where}: {key_path}: {message}" if key_path else f"{where}: {message}"
    )


@pytest.mark.parametrize("name", sorted(SYNTAX_ERRORS))
def test_yaml_syntax_error_names_the_line(name: str) -> None:
    path = BROKEN / name
    line, words = SYNTAX_ERRORS[name]
    (problem,) = _problems(path)
    assert problem.line == line
    assert problem.path == ""
    for word in words:
        assert word in problem.message
    assert str(problem).startswith(f"{path}:{line}: YAML syntax error")


def test_a_file_with_several_problems_reports_all_of_them_in_line_order() -> None:
    path = BROKEN / SEVERAL
    problems = _problems(path)
    assert [(p.line, p.path, p.message) for p in problems] == SEVERAL_EXPECTED
    assert all(p.file == str(path) for p in problems)


@pytest.mark.parametrize("name", sorted(EXPECTED_SEVERAL))
def test_broken_file_reports_each_of_its_problems(name: str) -> None:
    path = BROKEN / name
    problems = _problems(path)
    assert [(p.line, p.path, p.message) for p in problems] == EXPECTED_SEVERAL[name]
    assert all(str(p).startswith(f"{path}:{p.line}: {p.path}: ") for p in problems)


def test_the_error_text_lists_every_problem_one_per_line() -> None:
    path = BROKEN / SEVERAL
    with pytest.raises(ScaleValidationError) as info:
        load_scale(path)
    lines = str(info.value).splitlines()
    assert len(lines) == len(SEVERAL_EXPECTED)
    assert lines[0] == f"{path}:4: version: must be a whole number, not '1'"
    # The CLI and the GUI treat it as invalid input.
    assert isinstance(info.value, InputError)
    assert info.value.exit_code == 2


def test_missing_file_is_reported_without_a_line(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    (problem,) = _problems(path)
    assert problem.line is None
    assert str(problem) == f"{path}: file not found"


# A few more shapes, written inline because each needs only a line or two changed.
HEAD = """\
id: demo
name: Demo scale
version: 1
citation: Doe, J. (2020). A demo scale.
instructions: Rate the whole session.
rated: client
window: whole
applies_to: all
items:
"""


def _parse_problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ScaleValidationError) as info:
        parse_scale(text, source_name="inline.yaml")
    return [(p.line, p.path, p.message) for p in info.value.problems]


def test_comments_only_counts_as_empty() -> None:
    assert _parse_problems("# nothing here yet\n") == [
        (1, "", "the file is empty; a scale needs id, name, version, ... and items")
    ]


def test_a_file_that_is_not_a_mapping_says_so() -> None:
    assert _parse_problems("- id: demo\n") == [
        (1, "", "the file must be a mapping of keys (id: ..., items: ...)")
    ]


def test_an_item_without_kind_gets_one_message_not_one_per_kind() -> None:
    text = HEAD + "  - id: effort\n    label: Effort\n    min: 0\n    max: 4\n"
    assert _parse_problems(text) == [(10, "items[0]", "missing required key 'kind'")]


def test_anchor_keys_must_be_whole_numbers() -> None:
    text = HEAD + (
        "  - id: effort\n    label: Effort\n    kind: ordinal\n    min: 0\n    max: 4\n"
        "    anchors:\n      0: none\n      2.5: half\n      4: a lot\n"
    )
    assert _parse_problems(text) == [
        (17, "items[0].anchors.2.5", "anchor keys must be whole numbers (the scored values)")
    ]


def test_item_positions_stay_right_after_an_item_that_is_not_a_mapping() -> None:
    text = HEAD + (
        "  - just a word\n"
        "  - id: mood\n    label: Mood\n    kind: nominal\n    categories: [low, low]\n"
    )
    assert _parse_problems(text) == [
        (10, "items[0]", "must be a mapping (key: value), not 'just a word'"),
        (14, "items[1].categories", "categories must be distinct"),
    ]


def test_applies_to_mapping_explains_its_own_keys() -> None:
    text = HEAD.replace(
        "applies_to: all\n", "applies_to:\n  session_numbers: [0]\n  every: 2\n"
    ) + ("  - id: effort\n    label: Effort\n    kind: count\n")
    assert _parse_problems(text) == [
        (9, "applies_to.session_numbers[0]", "0 is out of range (minimum 1)"),
        (
            10,
            "applies_to.every",
            "unknown key; allowed here: description, max_session_number, "
            "min_session_number, session_numbers",
        ),
    ]


def test_a_bad_window_time_does_not_hide_an_applies_to_problem() -> None:
    text = HEAD.replace("window: whole\n", "window:\n  start: five\n  duration: 60\n")
    text = text.replace(
        "applies_to: all\n", "applies_to:\n  min_session_number: 4\n  max_session_number: 2\n"
    )
    assert _parse_problems(text + "  - id: effort\n    label: Effort\n    kind: count\n") == [
        (8, "window.start", "'five' is not a time: write seconds (300) or m:ss (5:00)"),
        (12, "applies_to.max_session_number", "2 is below min_session_number 4"),
    ]


@pytest.mark.parametrize(
    ("start", "start_ms"),
    [("300", 300_000), ('"5:00"', 300_000), ('"1:05:00"', 3_900_000), ("12.5", 12_500)],
)
def test_times_are_seconds_or_minutes_and_seconds(start: str, start_ms: int) -> None:
    text = HEAD.replace("window: whole\n", f"window:\n  start: {start}\n  duration: 60\n")
    scale = parse_scale(text + "  - id: effort\n    label: Effort\n    kind: count\n")
    assert scale.window.start_ms == start_ms
    assert scale.window.duration_ms == 60_000


def test_check_scale_files_returns_every_problem_of_every_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    paths = [
        builtin_scale_path("resistance"),
        BROKEN / "wrong_type.yaml",
        BROKEN / SEVERAL,
        missing,
    ]
    problems = check_scale_files(paths)
    by_file: dict[str, int] = {}
    for problem in problems:
        by_file[problem.file] = by_file.get(problem.file, 0) + 1
    assert by_file == {
        str(BROKEN / "wrong_type.yaml"): 1,
        str(BROKEN / SEVERAL): len(SEVERAL_EXPECTED),
        str(missing): 1,
    }
    # Problems keep the order of the files given.
    assert [p.file for p in problems][0] == str(BROKEN / "wrong_type.yaml")
    assert problems[-1].message == "file not found"


def test_check_scale_files_is_empty_when_all_are_valid() -> None:
    assert check_scale_files(builtin_scale_path(i) for i in BUILTIN_SCALE_IDS) == []
