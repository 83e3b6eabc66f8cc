"""No scale file can hang, exhaust memory or crash the checker, the CLI or the scoring.

Each test names a file that used to do one of those; the loader now refuses it early,
with FILE:LINE: key.path: message. "Early" is measured in Python function calls, not
seconds, so the tests do not depend on the speed of the machine.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from coder.errors import InputError
from coder.scales import (
    MAX_COUNT,
    MAX_DURATION_SECONDS,
    MAX_SCALE_FILE_BYTES,
    ScaleItem,
    ScaleProblem,
    ScaleValidationError,
    load_builtin_scale,
    load_scale,
    parse_scale,
)
from coder.store.project import Project
from tests.cli import run_cli, run_cli_process

BROKEN = Path(__file__).parent / "broken"
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
  - id: effort
    label: Effort
    kind: count
"""
# Every fixture added for issue 9 (the files that hung or crashed before).
ISSUE_9_FIXTURES = (
    "alias_bomb.yaml",
    "binary_tag.yaml",
    "boolean_anchor_key.yaml",
    "boolean_number.yaml",
    "custom_tag.yaml",
    "deep_nesting.yaml",
    "duplicate_anchor_value.yaml",
    "float_min_max.yaml",
    "huge_max.yaml",
    "infinite_time.yaml",
    "python_tag.yaml",
    "recursive_alias.yaml",
    "too_many_values.yaml",
)


@contextmanager
def counted_calls() -> Iterator[list[int]]:
    """Count the Python and C function calls made inside the block (a step count)."""
    calls = [0]

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event in ("call", "c_call"):
            calls[0] += 1

    sys.setprofile(profile)
    try:
        yield calls
    finally:
        sys.setprofile(None)


def _problems(check: Callable[[], object]) -> list[ScaleProblem]:
    with pytest.raises(ScaleValidationError) as info:
        check()
    return list(info.value.problems)


def _parse_problems(text: str) -> list[tuple[int | None, str, str]]:
    return [
        (p.line, p.path, p.message)
        for p in _problems(lambda: parse_scale(text, source_name="inline.yaml"))
    ]


def test_the_alias_bomb_is_refused_in_a_bounded_number_of_steps() -> None:
    # Unbounded, the 342-byte file expands to 10**9 values (minutes, gigabytes).
    with counted_calls() as calls:
        (problem,) = _problems(lambda: load_scale(BROKEN / "alias_bomb.yaml"))
    assert "billion laughs" in problem.message
    assert calls[0] < 50_000


def test_a_file_above_the_size_limit_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    # A legitimate but absurdly large scale: 5 MB of valid YAML used to take minutes.
    path = tmp_path / "big.yaml"
    item = "  - id: i{n}\n    label: Item {n}\n    kind: count\n"
    with path.open("w", encoding="utf-8") as fh:
        fh.write(HEAD)
        for n in range(120_000):
            fh.write(item.format(n=n))
    size = path.stat().st_size
    assert size > 5 * MAX_SCALE_FILE_BYTES
    with counted_calls() as calls:
        (problem,) = _problems(lambda: load_scale(path))
    assert str(problem) == (
        f"{path}:1: the file is {size:,} bytes; a scale file may be at most 1,000,000 bytes: "
        "is this the right file?"
    )
    assert calls[0] < 1_000


def test_stored_or_packaged_scale_text_has_the_same_size_limit() -> None:
    text = HEAD + "# " + "x" * MAX_SCALE_FILE_BYTES + "\n"
    ((line, path, message),) = _parse_problems(text)
    assert (line, path) == (1, "")
    assert message.startswith(f"the file is {len(text):,} bytes; a scale file may be at most")


def test_many_values_without_aliases_are_refused_too() -> None:
    # 120,000 values in 240 kB: under the size limit, over the value limit.
    text = HEAD + "    extra: [" + ", ".join(["0"] * 120_000) + "]\n"
    with counted_calls() as calls:
        problems = _parse_problems(text)
    assert problems == [
        (
            13,
            "items[0].extra[99972]",
            "the file holds more than 100,000 values; a scale needs far fewer: "
            "is this the right file?",
        )
    ]
    assert calls[0] < 3_000_000


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_device_is_not_read() -> None:
    # /dev/zero reports size 0 and never ends: read(), it would fill the memory.
    assert [str(p) for p in _problems(lambda: load_scale("/dev/zero"))] == [
        "/dev/zero: not a file; give the path of a .yaml scale file"
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_is_not_opened(tmp_path: Path) -> None:
    # Opening a FIFO waits for a writer forever.
    fifo = tmp_path / "scale.yaml"
    os.mkfifo(fifo)
    (problem,) = _problems(lambda: load_scale(fifo))
    assert str(problem) == f"{fifo}: not a file; give the path of a .yaml scale file"


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(HEAD.replace("Effort", "Ausdauer \xe4").encode("latin-1"))
    (problem,) = _problems(lambda: load_scale(path))
    assert str(problem) == (
        f"{path}:11: the file is not UTF-8 text; save it as UTF-8 (plain text) and try again"
    )


def test_a_character_yaml_does_not_allow_names_the_line() -> None:
    assert _parse_problems(HEAD.replace("Effort", "Eff\x07ort")) == [
        (
            11,
            "",
            "the file contains the character U+0007, which YAML does not allow; remove it "
            "(is this a text file?)",
        )
    ]


@pytest.mark.parametrize("escape", ["\\0", "\\x1b", "\\x7f"])
def test_control_characters_written_as_escapes_are_refused(escape: str) -> None:
    code = {"\\0": "0000", "\\x1b": "001B", "\\x7f": "007F"}[escape]
    text = HEAD.replace("label: Effort", f'label: "Eff{escape}ort"')
    assert _parse_problems(text) == [
        (
            11,
            "items[0].label",
            f"contains the control character U+{code}; remove it "
            "(it cannot be shown, stored or exported)",
        )
    ]


@pytest.mark.parametrize(
    ("yaml_text", "line", "path", "message"),
    [
        (
            "    again: *nowhere\n",
            13,
            "items[0].again",
            "alias *nowhere has no anchor &nowhere above it; define it first",
        ),
        (
            "  - &a {id: a, label: A, kind: count}\n  - &a {id: b, label: B, kind: count}\n",
            13,
            "items[2]",
            "anchor &a is defined twice (first on line 12); give each anchor its own name",
        ),
        (
            "    ? [a, b]\n    : pair\n",
            13,
            "items[0]",
            "a key must be a word or number written out, not a list, a mapping or an alias",
        ),
        (
            "---\nid: second\n",
            13,
            "",
            "the file holds more than one YAML document (---); keep one scale",
        ),
        ("    label: !!int many\n", 12, "items[0].label", f"the YAML tag !!int {'is not'}"),
    ],
)
def test_yaml_features_a_scale_has_no_use_for_get_a_line(
    yaml_text: str, line: int, path: str, message: str
) -> None:
    text = HEAD.replace("    label: Effort\n", "") if "label:" in yaml_text else HEAD
    problems = _parse_problems(text + yaml_text)
    assert [(p_line, p_path) for p_line, p_path, _ in problems] == [(line, path)]
    assert problems[0][2].startswith(message)


def test_values_nothing_can_use_are_read_as_the_text_written() -> None:
    # Dates, "=" and a number of 5,000 digits (int() refuses it) reach the schema as
    # text, which names them; none of them crashes the loader.
    text = HEAD.replace("version: 1", "version: " + "1" * 5000)
    text = text.replace("name: Demo scale", "name: 2020-01-01")
    text = text.replace("label: Effort", "label: =")
    problems = _parse_problems(text)
    # The message quotes the start of the value only, so it stays one short line.
    assert problems == [(3, "version", "must be a whole number, not '" + "1" * 56 + "...")]
    scale = parse_scale(HEAD.replace("name: Demo scale", "name: 2020-01-01").replace("Effort", "="))
    assert (scale.name, scale.items[0].label) == ("2020-01-01", "=")


def test_anchor_keys_that_are_the_same_score_are_refused() -> None:
    base = HEAD.replace(
        "    kind: count\n",
        "    kind: ordinal\n    min: -2\n    max: 2\n    anchors:\n"
        "      -2: low\n      0: middle\n      -0: middle again\n      0002: high\n",
    )
    assert _parse_problems(base) == [
        (
            18,
            "items[0].anchors.-0",
            "-0 is the same score as the anchor 0; give each score one anchor",
        )
    ]


def test_an_anchor_key_with_very_many_digits_is_out_of_range() -> None:
    key = "9" * 1000  # libyaml reads keys of up to 1024 characters
    text = HEAD.replace(
        "    kind: count\n",
        f"    kind: ordinal\n    min: 0\n    max: 4\n    anchors:\n      0: a\n      4: b\n"
        f"      {key}: c\n      -{key}: d\n",
    )
    assert [(p[1][:30], p[2]) for p in _parse_problems(text)] == [
        (f"items[0].anchors.{key[:13]}", f"value {key[:17]}... is above max 4"),
        (f"items[0].anchors.-{key[:12]}", f"value -{key[:16]}... is below min 0"),
    ]


def test_times_cannot_overflow() -> None:
    # Unquoted, 999999:00:00 is a YAML 1.1 base-60 integer; quoted, a time with too
    # many hours digits. Neither may reach the arithmetic of the window check.
    text = HEAD.replace("window: whole", 'window:\n  start: 1.0e+300\n  duration: "999999:00:00"')
    assert _parse_problems(text) == [
        (7, "window", "the window ends after 4 hours; is a time in seconds meant as minutes?"),
        (8, "window.start", "1e+300 is not a time: write seconds (300) or m:ss (5:00)"),
        (9, "window.duration", "'999999:00:00' is not a time: write seconds (300) or m:ss (5:00)"),
    ]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("version", "1.0", "must be a whole number, not 1.0"),
        ("version", "99999999", "99999999 is out of range (maximum 1000000)"),
        ("instructions", "x" * 50_001, "is 50,001 characters long; at most 50,000 are allowed"),
    ],
)
def test_top_level_numbers_and_texts_are_bounded(key: str, value: str, message: str) -> None:
    lines = HEAD.splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith(f"{key}:"))
    lines[index] = f"{key}: {value}\n"
    assert _parse_problems("".join(lines)) == [(index + 1, key, message)]


def test_categories_are_bounded() -> None:
    cats = ", ".join(f"c{i}" for i in range(101))
    text = HEAD.replace("    kind: count\n", f"    kind: nominal\n    categories: [{cats}]\n")
    assert _parse_problems(text) == [
        (13, "items[0].categories", "has 101 entries; at most 100 are allowed")
    ]


# --------------------------------------------------------------------------- values


def _item(kind: str, **kw: Any) -> ScaleItem:
    return ScaleItem(id="x", label="X", kind=kind, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["ordinal", "nominal", "count", "duration"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_value_that_is_not_finite_is_refused_with_a_message(kind: str, value: float) -> None:
    item = _item(kind, min=0, max=4, categories=("a", "b"))
    with pytest.raises(InputError, match="takes a finite number"):
        item.check_value(value)


@pytest.mark.parametrize("value", [True, "3", b"3"])
def test_a_value_that_is_not_a_number_is_refused(value: object) -> None:
    with pytest.raises(InputError, match="takes a number"):
        _item("count").check_value(value)  # type: ignore[arg-type]


def test_counts_and_durations_have_an_upper_bound() -> None:
    _item("count").check_value(MAX_COUNT)
    _item("duration").check_value(MAX_DURATION_SECONDS)
    with pytest.raises(InputError, match="above the limit of 1,000,000"):
        _item("count").check_value(MAX_COUNT + 1)
    with pytest.raises(InputError, match="above the limit of 86,400 seconds"):
        _item("duration").check_value(1e300)


def test_the_widest_ordinal_range_is_admissible_end_to_end() -> None:
    text = HEAD.replace(
        "    kind: count\n",
        "    kind: ordinal\n    min: 0\n    max: 100\n    anchors: {0: none, 100: all}\n",
    )
    (item,) = parse_scale(text).items
    assert len(item.values) == 101
    for value in item.values:
        item.check_value(value)
    with pytest.raises(InputError, match="outside 0..100"):
        item.check_value(101)


# --------------------------------------------------------------------------- the CLI

LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+): ")


def test_scales_check_reports_every_issue_9_file_with_file_and_line() -> None:
    paths = [str(BROKEN / name) for name in ISSUE_9_FIXTURES]
    # A real process: the smoke test of the scales commands' entry point.
    out = run_cli_process("scales", "check", *paths)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert out.stderr == ""
    reported = set()
    for line in out.stdout.splitlines():
        match = LINE.match(line)
        assert match, line
        reported.add(match["file"])
    assert reported == set(paths)


@pytest.mark.parametrize("name", ["alias_bomb.yaml", "float_min_max.yaml", "python_tag.yaml"])
def test_scales_add_refuses_the_file_without_a_traceback(tmp_path: Path, name: str) -> None:
    path = tmp_path / "study.scproj"
    Project.create(path).close()
    # In process (tests/cli.py): an exception escaping main() would fail the test itself.
    out = run_cli("scales", "add", str(path), str(BROKEN / name))
    assert out.returncode == 2
    assert "Traceback" not in out.stdout + out.stderr
    # scales add is all or nothing, and says so after the FILE:LINE problems.
    text = out.stderr.strip()
    assert text.endswith("no scale was added")
    lines = [line for line in text.splitlines() if line != "no scale was added"]
    assert lines and all(str(BROKEN / name) + ":" in line for line in lines)
    project = Project.open(path)
    try:
        assert project.scales() == []
    finally:
        project.close()


def test_builtin_scales_still_load_with_their_aliases() -> None:
    # The built-in scales repeat their anchor texts with YAML aliases.
    scale = load_builtin_scale("thabs")
    assert all(item.anchors for item in scale.items if item.kind == "ordinal")
