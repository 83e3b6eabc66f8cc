"""The rules of a coding (coder.coding_rules), each tested once, here, without a database.

The store, the in-memory session, the package merger and the widgets all call these
functions; their own tests check that they call them, not the rules again.
"""

from __future__ import annotations

import pytest

from coder import coding_rules as rules
from coder.coding_data import Span
from coder.errors import InputError
from coder.kinds import CodingStatus, ItemKind
from coder.scales import MAX_COUNT, MAX_DURATION_SECONDS, parse_scale

SCALE = parse_scale(
    """
id: demo
name: Demo scale
version: 1
citation: Doe, J. (2020). A demo scale.
instructions: Rate the session.
rated: client
window: whole
applies_to: all
items:
  - id: warmth
    label: Warmth
    kind: ordinal
    min: 1
    max: 5
    anchors: {1: cold, 5: warm}
  - id: mode
    label: Mode
    kind: nominal
    categories: [in person, video]
  - id: questions
    label: Questions
    kind: count
  - id: silence
    label: Silence
    kind: duration
    required: false
  - id: summary
    label: Summary
    kind: text
    required: true
  - id: remarks
    label: Remarks
    kind: text
""",
    source_name="demo.yaml",
)


def _item(item_id: str):  # type: ignore[no-untyped-def]
    return SCALE.item(item_id)


def test_the_scale_parses_its_kinds_as_item_kinds() -> None:
    kinds = [item.kind for item in SCALE.items]
    assert kinds == ["ordinal", "nominal", "count", "duration", "text", "text"]
    assert all(isinstance(kind, ItemKind) for kind in kinds)


# ---------------------------------------------------------------- scores


def test_item_of_names_a_missing_item_and_a_wrong_kind() -> None:
    assert rules.item_of(SCALE, "silence", ItemKind.DURATION).id == "silence"
    with pytest.raises(InputError, match="scale 'demo' has no item 'nope'"):
        rules.item_of(SCALE, "nope")
    with pytest.raises(
        InputError, match="'warmth' of scale 'demo' is not a duration item \\(it is ordinal\\)"
    ):
        rules.item_of(SCALE, "warmth", ItemKind.DURATION)


@pytest.mark.parametrize(
    ("item_id", "value", "message"),
    [
        ("warmth", 0, "outside 1..5"),
        ("warmth", 2.5, "whole numbers"),
        ("warmth", True, "takes a number"),
        ("warmth", float("nan"), "finite"),
        ("mode", 3, "outside 1..2"),
        ("questions", -1, "negative"),
        ("questions", MAX_COUNT + 1, "above the limit"),
        ("silence", MAX_DURATION_SECONDS + 1, "above the limit"),
        ("summary", 1, "takes text, not a number"),
        ("summary", None, "takes text, not a number"),
    ],
)
def test_a_number_an_item_does_not_admit_is_refused(
    item_id: str, value: float | None, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        rules.check_number(_item(item_id), value)
    assert not rules.value_admissible(_item(item_id), value)


@pytest.mark.parametrize(
    ("item_id", "value"),
    [
        ("warmth", 1),
        ("warmth", 5),
        ("warmth", None),
        ("mode", 2),
        ("questions", 0),
        ("silence", 12.345),
    ],
)
def test_a_number_inside_the_items_range_is_admitted(item_id: str, value: float | None) -> None:
    rules.check_number(_item(item_id), value)
    assert rules.value_admissible(_item(item_id), value)


def test_a_stored_rating_holds_the_kind_of_value_its_item_takes() -> None:
    rules.check_rating(_item("summary"), None, "done")
    rules.check_rating(_item("summary"), None, None)
    rules.check_rating(_item("warmth"), 3.0, None)
    with pytest.raises(InputError, match="takes text, not a number"):
        rules.check_rating(_item("summary"), 2.0, None)
    with pytest.raises(InputError, match="takes a number, not text"):
        rules.check_rating(_item("warmth"), None, "three")
    with pytest.raises(InputError, match="outside 1..5"):
        rules.check_rating(_item("warmth"), 9.0, None)
    with pytest.raises(InputError, match="takes a number, not text"):
        rules.check_text_item(_item("questions"))
    rules.check_text_item(_item("remarks"))


def test_value_bounds_are_the_range_the_number_rule_admits() -> None:
    bounds = {item.id: rules.value_bounds(item) for item in SCALE.items}
    assert bounds == {
        "warmth": (1, 5),
        "mode": (1, 2),
        "questions": (0, MAX_COUNT),
        "silence": (0, MAX_DURATION_SECONDS),
        "summary": None,
        "remarks": None,
    }
    for item in SCALE.items:
        if bounds[item.id] is not None:
            lo, hi = bounds[item.id]  # type: ignore[misc]
            assert rules.value_admissible(item, lo) and rules.value_admissible(item, hi)
            assert not rules.value_admissible(item, lo - 1)
            assert not rules.value_admissible(item, hi + 1)


# ---------------------------------------------------------------- state


@pytest.mark.parametrize(
    ("state", "reopen_allowed", "editable"),
    [
        ("not_started", False, True),
        ("in_progress", False, True),
        ("submitted", False, False),
        ("uncodable", False, False),
        ("submitted", True, True),
        ("uncodable", True, True),
    ],
)
def test_only_an_unfinished_or_reopened_coding_is_editable(
    state: str, reopen_allowed: bool, editable: bool
) -> None:
    assert rules.is_editable(state, reopen_allowed) is editable
    if editable:
        rules.check_editable(state, reopen_allowed)
    else:
        with pytest.raises(InputError, match="ask the lead to allow reopening it"):
            rules.check_editable(state, reopen_allowed)


def test_the_refusal_says_how_the_coding_was_finished() -> None:
    with pytest.raises(InputError, match="is submitted"):
        rules.check_editable("submitted", False)
    with pytest.raises(InputError, match="is marked uncodable"):
        rules.check_editable("uncodable", False)


def test_the_first_change_starts_a_coding_and_nothing_else_moves_the_state() -> None:
    assert rules.state_after_change("not_started") == CodingStatus.IN_PROGRESS
    for state in ("in_progress", "submitted", "uncodable"):
        assert rules.state_after_change(state) == state
    with pytest.raises(ValueError):
        rules.state_after_change("finished")


def test_the_history_row_of_each_change_of_state() -> None:
    started = rules.state_change("not_started", "", "in_progress")
    assert (started.action, started.old, started.new) == ("set", "not_started", "in_progress")
    submitted = rules.state_change("in_progress", "", "submitted")
    assert (submitted.action, submitted.old, submitted.new) == (
        "submit",
        "in_progress",
        "submitted",
    )
    uncodable = rules.state_change("submitted", "", "uncodable", "Other", "tape blank")
    assert uncodable.action == "uncodable"
    assert uncodable.old == {"state": "submitted", "reason": ""}
    assert uncodable.new == {"state": "uncodable", "reason": "Other", "text": "tape blank"}
    # Plain strings, so the row's JSON is the same whether an enum or a str came in.
    assert type(submitted.new) is str and type(uncodable.new["state"]) is str


# ---------------------------------------------------------------- spans


def test_a_duration_is_the_sum_of_the_closed_spans() -> None:
    spans = [Span(1, "silence", 0, 12_345), Span(2, "silence", 20_000, 30_000)]
    assert rules.duration_seconds(spans) == 22.345
    assert rules.duration_seconds([*spans, Span(3, "silence", 40_000, None)]) == 22.345
    assert rules.duration_seconds([Span(4, "silence", 5_000, 4_000)]) == 0.0  # never negative
    assert rules.duration_seconds([]) == 0.0  # the last span removed: zero, not unset


def test_only_open_spans_leave_the_duration_as_it_was() -> None:
    assert rules.duration_seconds([Span(1, "silence", 1_000, None)]) is None


# ---------------------------------------------------------------- finishing


def test_required_items_must_be_scored_before_a_submit() -> None:
    values: dict[str, float | None] = {"warmth": 3.0, "mode": None}
    texts = {"summary": "  "}
    assert rules.missing_required(SCALE, values, texts) == ["Mode", "Questions", "Summary"]
    with pytest.raises(InputError, match="not yet scored: Mode; Questions; Summary"):
        rules.check_submittable(SCALE, values, texts)
    values.update(mode=1.0, questions=0.0)
    texts["summary"] = "client did the log"
    assert rules.is_scored(_item("summary"), values, texts)
    assert not rules.is_scored(_item("silence"), values, texts)  # optional and unscored
    rules.check_submittable(SCALE, values, texts)


def test_uncodable_needs_one_of_the_scales_reasons_and_words_for_other() -> None:
    reasons = SCALE.uncodable_reasons
    with pytest.raises(InputError, match="choose why"):
        rules.check_uncodable(reasons, "")
    with pytest.raises(InputError, match="choose why"):
        rules.check_uncodable(reasons, None)
    with pytest.raises(InputError, match="not a reason of this scale"):
        rules.check_uncodable(reasons, "Bored")
    with pytest.raises(InputError, match="few words"):
        rules.check_uncodable(reasons, "Other", " \n")
    rules.check_uncodable(reasons, "Audio failure")
    rules.check_uncodable(reasons, "Other", "the tape is blank")


def test_a_note_is_kept_only_with_some_text() -> None:
    assert rules.note_text_is_kept("x")
    assert not rules.note_text_is_kept(" \n") and not rules.note_text_is_kept(None)
    with pytest.raises(InputError, match="needs some text"):
        rules.check_note_text("\t")
    rules.check_note_text("client laughs")
