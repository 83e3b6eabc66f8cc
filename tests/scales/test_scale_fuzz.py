"""Property: whatever a scale file holds, `scales check` answers, and what it passes works.

Hypothesis writes perturbed scale files: random YAML values (numbers, floats, booleans,
.inf/.nan, dates, huge integers, tagged values, aliases, flow lists and mappings) in
min/max/anchors/times/ids/composites, plus fragments such as an alias bomb, a recursive
alias or deep nesting. For every file `session-coder scales check` must exit 0 or 2,
print only FILE:LINE: lines, never raise, and stay within a bounded number of steps
(Python function calls, not seconds). Every file that passes must load, and a
CodingSession must score every admissible value of every item.
"""

from __future__ import annotations

import io
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coder.cli import main
from coder.coding_session import CodingSession
from coder.errors import InputError
from coder.scales import MAX_COUNT, MAX_DURATION_SECONDS, RatingScale, load_scale
from coder.store.project import Project
from coder.store.sessions import NewSession, add_sessions

# A generous bound: the largest generated file checks in well under a million calls;
# the alias bomb, unbounded, would make billions.
MAX_CALLS = 5_000_000

TOKENS = [
    "0", "1", "4", "5", "-1", "100", "101", "1000", "1001", "1000000000000",
    "1.0", "5.0", "2.5", "1e12", "1.0e+12", "1.0e+400", ".inf", "-.inf", ".nan",
    "yes", "no", "on", "off", "true", "false", "null", "~", "''", '""',
    "0x10", "010", "0o7", "1_000", "1:30", "2020-01-01", "=", "<<",
    "!!binary aGk=", "!!python/object:os.system x", "!custom x", "!!int x",
    "!!float 1", "!!str 5", "! 5", "!!set {a}", '"\\0"', '"\\x07"', '"5:00"',
    '"5:75"', '"1:05:00"', '"99:00:00"', "[1, 2]", "{a: 1}", "[]", "{}",
    "*scale", "*nothing", "&again 3", "'" + "9" * 5000 + "'", "9" * 5000,
    "effort", "total", "Effort", "x" * 400, "sum", "mean", "ordinal", "count",
    "nominal", "duration", "text",
]  # fmt: skip

FRAGMENTS = [
    "",
    "extra: 1\n",
    # A billion laughs.
    "".join(
        f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9) if i else ', '.join(['lol'] * 9)}]\n"
        for i in range(9)
    ),
    "loop: &loop [*loop]\n",
    "deep: " + "[" * 60 + "]" * 60 + "\n",
    "dup: &dup 1\ndup2: &dup 2\n",
    "---\nid: second\n",
    "name: twice\n",
]


def token() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(TOKENS),
        st.integers(-3, 110).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
    )


def render(
    pick: Callable[[str], str],
    *,
    lo: str,
    hi: str,
    mid: str,
    window: str,
    second_anchors: str,
    fragment: str,
) -> str:
    """A scale file; ``pick(default)`` gives each perturbable value."""
    lo, hi = pick(lo), pick(hi)
    keys = [pick(lo), pick(hi), pick(mid)]
    anchors = "".join(f"      {k}: {pick('text ' + str(i))}\n" for i, k in enumerate(keys))
    return (
        f"id: {pick('demo')}\n"
        f"name: {pick('Demo scale')}\n"
        f"version: {pick('1')}\n"
        "citation: Doe, J. (2020). A demo scale.\n"
        "instructions: Rate the whole session.\n"
        "rated: client\n"
        f"window: {window}\n"
        f"applies_to: {pick('all')}\n"
        "items:\n"
        f"  - id: {pick('effort')}\n"
        f"    label: {pick('Effort')}\n"
        f"    kind: {pick('ordinal')}\n"
        f"    min: {lo}\n"
        f"    max: {hi}\n"
        "    anchors: &scale\n"
        f"{anchors}"
        "  - id: focus\n"
        "    label: Focus\n"
        "    kind: ordinal\n"
        f"    min: {pick(lo)}\n"
        f"    max: {pick(hi)}\n"
        f"    anchors: {second_anchors.format(lo=lo, hi=hi)}\n"
        f"  - id: {pick('talk')}\n"
        "    label: Talk turns\n"
        f"    kind: {pick('count')}\n"
        "  - id: minutes\n"
        "    label: Minutes\n"
        f"    kind: {pick('duration')}\n"
        "  - id: mood\n"
        "    label: Mood\n"
        "    kind: nominal\n"
        f"    categories: [{pick('low')}, {pick('high')}]\n"
        "  - id: log\n"
        "    label: Log\n"
        f"    kind: {pick('text')}\n"
        "composites:\n"
        f"  - id: {pick('total')}\n"
        "    label: Total\n"
        f"    method: {pick('sum')}\n"
        f"    items: [{pick('effort')}, {pick('focus')}]\n"
    ) + fragment


DEFAULT = render(
    lambda default: default,
    lo="0",
    hi="4",
    mid="2",
    window="whole",
    second_anchors="*scale",
    fragment="",
)


@st.composite
def scale_documents(draw: Any) -> str:
    """A scale file, valid by default, with a few of its values replaced.

    Perturbing only a few places (of about 30) keeps a good share of the files valid,
    so that the scoring half of the property is exercised too.
    """
    targets = draw(st.sets(st.integers(0, 40), max_size=3))
    position = iter(range(1000))

    def pick(default: str) -> str:
        return draw(token()) if next(position) in targets else default

    mapping = "\n  start: {}\n  duration: {}".format
    perturbed_window = st.one_of(
        st.builds(mapping, token(), st.just('"15:00"')),
        st.builds(mapping, st.just("300"), token()),
        token(),
    )
    valid_window = st.sampled_from(["whole", mapping('"5:00"', '"15:00"'), mapping(0, 60)])
    window = draw(perturbed_window if draw(st.integers(0, 3)) == 0 else valid_window)
    return render(
        pick,
        lo=draw(st.sampled_from(["0", "1", "-2"])),
        hi=draw(st.sampled_from(["4", "5", "98", "6"])),
        mid=draw(st.sampled_from(["2", "3", "02"])),
        window=window,
        second_anchors=draw(
            st.sampled_from(["*scale"] * 4 + ["{{{lo}: a, {hi}: b}}"] * 3 + ["*nothing", "[]"])
        ),
        fragment=draw(st.sampled_from(FRAGMENTS) if draw(st.integers(0, 3)) == 0 else st.just("")),
    )


@contextmanager
def counted_calls() -> Iterator[list[int]]:
    calls = [0]

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event in ("call", "c_call"):
            calls[0] += 1

    sys.setprofile(profile)
    try:
        yield calls
    finally:
        sys.setprofile(None)


def _check(path: Path) -> tuple[int, str, str, int]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), counted_calls() as calls:
        code = main(["scales", "check", str(path)])
    return code, out.getvalue(), err.getvalue(), calls[0]


def _score_everything(scale: RatingScale, folder: Path) -> None:
    """Add the scale to a real project and score every admissible value of every item."""
    project = Project.create(folder / "study.scproj")
    try:
        project.add_scale(scale)
        project.add_raters(["R1"])
        add_sessions(project, [NewSession("S1", audio_status="missing", audio_reason="test")])
        coding_id = project.add_coding("S1", "R1", scale.id)
        view = project.rater_view("R1")
        session = CodingSession(view, view.coding(coding_id))
        for item in scale.items:
            if item.kind == "text":
                session.set_text(item.id, "a log")
                continue
            if item.kind in ("ordinal", "nominal"):
                admissible: list[float] = [float(v) for v in item.values]
                inadmissible: list[float] = [item.values[-1] + 1.0, item.values[0] - 1.0, 0.5]
            elif item.kind == "count":
                admissible = [0, 1, MAX_COUNT]
                inadmissible = [-1, 0.5, MAX_COUNT + 1]
            else:
                admissible = [0, 0.5, MAX_DURATION_SECONDS]
                inadmissible = [-1, MAX_DURATION_SECONDS + 1]
            for value in admissible:
                session.set_value(item.id, value)
                assert session.value(item.id) == value
                session.composite_scores()
            for value in [*inadmissible, float("nan"), float("inf")]:
                with pytest.raises(InputError):
                    session.set_value(item.id, value)
    finally:
        project.close()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scale_documents())
def test_scales_check_answers_every_file_and_what_passes_can_be_scored(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scale.yaml"
        path.write_text(text, encoding="utf-8")
        code, out, err, calls = _check(path)
        assert code in (0, 2), err
        assert err == ""
        assert calls < MAX_CALLS
        if code == 2:
            lines = out.splitlines()
            assert lines
            for line in lines:
                assert re.match(rf"^{re.escape(str(path))}:\d+: \S", line), line
            return
        assert out == "1 scale file(s) valid\n"
        _score_everything(load_scale(path), Path(folder))


def test_the_unperturbed_document_passes_and_scores() -> None:
    # The generator's default document is valid, so the property does reach the scoring.
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scale.yaml"
        path.write_text(DEFAULT, encoding="utf-8")
        code, out, err, _ = _check(path)
        assert (code, out, err) == (0, "1 scale file(s) valid\n", "")
        _score_everything(load_scale(path), Path(folder))
