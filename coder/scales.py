"""Rating scales: the model, and a strict YAML loader that reports every problem.

A scale file is checked in two passes. The first validates its structure against
``scales/schema.yaml`` (JSON Schema, via the ``jsonschema`` library): unknown keys,
wrong types, missing keys. The second checks the rules a schema cannot express:
anchors inside ``min..max``, unique item ids, composites that name existing items,
a coding window of plausible length. Every problem carries the file, the line and
the key path (``items[3].anchors``), and all problems are reported at once.
"""

from __future__ import annotations

import math
import numbers
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeGuard

import jsonschema
import yaml

from coder.errors import InputError
from coder.kinds import ItemKind

#: Kinds whose values are numbers that enter reliability statistics.
NUMERIC_KINDS: frozenset[ItemKind] = frozenset(
    {ItemKind.ORDINAL, ItemKind.DURATION, ItemKind.COUNT, ItemKind.NOMINAL}
)
#: Kinds scored by choosing one of a fixed list of values (buttons on screen).
CHOICE_KINDS: frozenset[ItemKind] = frozenset({ItemKind.ORDINAL, ItemKind.NOMINAL})
#: Kinds that take whole numbers only.
WHOLE_NUMBER_KINDS: frozenset[ItemKind] = frozenset(
    {ItemKind.ORDINAL, ItemKind.NOMINAL, ItemKind.COUNT}
)

Rated = Literal["client", "therapist", "dyad"]

BUILTIN_SCALE_IDS: tuple[str, ...] = ("hw_adherence", "thabs", "resistance", "ghes", "sthar")
DEFAULT_UNCODABLE_REASONS: tuple[str, ...] = (
    "Audio failure",
    "Session not recorded",
    "Insufficient information",
    "Off-protocol session",
    "Other",
)
# A window that starts or ends later than this is almost certainly a typo (minutes
# written as seconds, an extra digit); therapy sessions run one to two hours.
MAX_PLAUSIBLE_SESSION_MS = 4 * 60 * 60 * 1000
# Limits that keep every file cheap to check. A real scale is a few kB (the largest
# built-in one is under 10 kB) with a few thousand YAML values; the limits are two
# orders of magnitude above that and far below what hurts. Without them a 342-byte
# "billion laughs" alias bomb expands to 10**9 values and a 50 MB file takes minutes.
MAX_SCALE_FILE_BYTES = 1_000_000
MAX_YAML_VALUES = 100_000
MAX_YAML_DEPTH = 10
# An ordinal item shows one button per value and exports label every value: 0..100
# is the widest range a rating scale plausibly needs, and min and max stay within
# +-ORDINAL_LIMIT so no value is too big for a statistics package.
MAX_ORDINAL_VALUES = 101
ORDINAL_LIMIT = 1000
# The largest count and duration (seconds) a rater can enter: far above any session,
# far below where sums and exports lose precision.
MAX_COUNT = 1_000_000
MAX_DURATION_SECONDS = 24 * 60 * 60

_PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class ScaleProblem:
    """One problem in one scale file."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ScaleValidationError(InputError):
    """A scale file has one or more problems; ``problems`` lists them all."""

    def __init__(self, problems: Sequence[ScaleProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


#: An anchor text that starts with this is a placeholder written for Session Coder where
#: the source publishes no wording (scales/README.md).
PLACEHOLDER_PREFIX = "(placeholder)"
#: What raters see instead of a placeholder anchor text.
NO_PUBLISHED_WORDING = "(no published wording)"


def is_placeholder(text: str) -> bool:
    """True for a placeholder anchor text (see :data:`PLACEHOLDER_PREFIX`)."""
    return text.strip().lower().startswith(PLACEHOLDER_PREFIX)


@dataclass(frozen=True)
class ScaleItem:
    """One item of a scale. ``anchors`` maps each anchored value to its text."""

    id: str
    label: str
    kind: ItemKind
    description: str = ""
    required: bool = True
    shortcut: str | None = None
    min: int | None = None
    max: int | None = None
    anchors: Mapping[int, str] = field(default_factory=dict)
    categories: tuple[str, ...] = ()
    wording: str = "source"  # the description: the source's wording, or "ours"

    @property
    def placeholder_values(self) -> tuple[int, ...]:
        """Values whose anchor text is a placeholder (starts with ``(placeholder)``):
        text written for Session Coder where the source publishes no wording."""
        return tuple(v for v, t in self.anchors.items() if is_placeholder(t))

    def published_anchor(self, value: int) -> str | None:
        """The anchor text raters see: None for a placeholder or an unanchored value."""
        text = self.anchors.get(value)
        return None if text is None or is_placeholder(text) else text

    @property
    def is_numeric(self) -> bool:
        """True for items whose values enter reliability statistics."""
        return self.kind in NUMERIC_KINDS

    @property
    def values(self) -> tuple[int, ...]:
        """The admissible integer values of an ordinal or nominal item (else empty).

        Nominal categories are coded 1..n in the order the scale lists them.
        """
        if self.kind == ItemKind.ORDINAL and self.min is not None and self.max is not None:
            return tuple(range(self.min, self.max + 1))
        if self.kind == ItemKind.NOMINAL:
            return tuple(range(1, len(self.categories) + 1))
        return ()

    def value_label(self, value: int) -> str | None:
        """The anchor or category text for a value, if the scale gives one."""
        if self.kind == ItemKind.NOMINAL:
            return self.categories[value - 1] if 1 <= value <= len(self.categories) else None
        return self.anchors.get(value)

    def shown_label(self, value: int) -> str | None:
        """The text shown for a value wherever people read it (the rating screen,
        training feedback, the exports' labels): the scale's wording, or the "no
        published wording" mark where the text is a placeholder written for Session
        Coder (it would otherwise read as the source's wording)."""
        if value in self.placeholder_values:
            return NO_PUBLISHED_WORDING
        return self.value_label(value)

    def check_value(self, value: float | None) -> None:
        """Raise InputError if ``value`` is not admissible for this item.

        The one rule for every writer (the rating screen, the store, packages,
        consensus): a finite number of the right kind inside the item's range.
        """
        if value is None:
            return
        if self.kind == ItemKind.TEXT:
            raise InputError(f"item {self.id!r} takes text, not a number")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise InputError(f"item {self.id!r} takes a number, not {_short(value)}")
        if not math.isfinite(value):
            raise InputError(f"item {self.id!r} takes a finite number, not {value}")
        if self.kind in WHOLE_NUMBER_KINDS and value != int(value):
            raise InputError(f"item {self.id!r} takes whole numbers, not {value}")
        if self.kind in CHOICE_KINDS:
            if not self.values:
                raise InputError(f"item {self.id!r} has no values to choose from")
            lo, hi = self.values[0], self.values[-1]
            if not lo <= value <= hi:
                raise InputError(f"item {self.id!r}: {value:g} is outside {lo}..{hi}")
        if self.kind in (ItemKind.COUNT, ItemKind.DURATION):
            if value < 0:
                raise InputError(f"item {self.id!r}: {value:g} is negative")
            top = MAX_COUNT if self.kind == ItemKind.COUNT else MAX_DURATION_SECONDS
            if value > top:
                unit = "" if self.kind == ItemKind.COUNT else " seconds"
                raise InputError(f"item {self.id!r}: {value:g} is above the limit of {top:,}{unit}")


@dataclass(frozen=True)
class Composite:
    """A subscale or total: the sum or mean of listed items.

    ``previous_session`` lists the items taken from the same patient's previous session
    (session number minus one) rather than from this one: such a composite spans two
    sessions (StHAR's global pairs the assignment of the previous session with the
    review of this one). It is derived from the final scores of both sessions at
    analysis time (:func:`coder.scale_analysis.across_session_scores`), never within
    one coding; a scale keeps it apart, in :attr:`RatingScale.across_sessions`.
    """

    id: str
    label: str
    method: Literal["sum", "mean"]
    items: tuple[str, ...]
    previous_session: tuple[str, ...] = ()

    def compute(self, scores: Mapping[str, float | None]) -> float | None:
        """The composite of ``scores``; None unless every listed item is scored."""
        values = [scores.get(item) for item in self.items]
        if any(v is None for v in values):
            return None
        total = float(sum(v for v in values if v is not None))
        return total if self.method == "sum" else total / len(values)

    def compute_across(
        self,
        current: Mapping[str, float | None],
        previous: Mapping[str, float | None] | None,
    ) -> float | None:
        """The composite of two sessions: ``previous_session`` items from ``previous``,
        the others from ``current``; None without a previous session or a listed score."""
        if previous is None:
            return None
        chosen = set(self.previous_session)
        return self.compute({i: (previous if i in chosen else current).get(i) for i in self.items})


@dataclass(frozen=True)
class CodingWindow:
    """The part of a session that is rated; ``duration_ms`` None means to the end."""

    start_ms: int = 0
    duration_ms: int | None = None

    @property
    def is_whole_session(self) -> bool:
        return self.start_ms == 0 and self.duration_ms is None

    @property
    def end_ms(self) -> int | None:
        return None if self.duration_ms is None else self.start_ms + self.duration_ms


@dataclass(frozen=True)
class AppliesTo:
    """Which sessions a scale is coded on (by session number)."""

    session_numbers: tuple[int, ...] = ()
    min_session_number: int | None = None
    max_session_number: int | None = None
    description: str = ""

    def matches(self, session_number: int | None) -> bool:
        if not (self.session_numbers or self.min_session_number or self.max_session_number):
            return True
        if session_number is None:
            return False
        if self.session_numbers and session_number not in self.session_numbers:
            return False
        if self.min_session_number is not None and session_number < self.min_session_number:
            return False
        return not (
            self.max_session_number is not None and session_number > self.max_session_number
        )


@dataclass(frozen=True)
class ReliabilityDefaults:
    """What the lab reports for this scale."""

    icc: str = "ICC2"
    kappa_weights: str = "quadratic"
    alpha_level: str = "ordinal"
    # "source": ``icc`` is the form the cited source reports; "ours": chosen for this
    # file; None: the file does not say.
    icc_source: str | None = None


@dataclass(frozen=True)
class CertificationCriterion:
    """When a rater in training counts as certified on a scale (against master codes).

    The rater's scores and the master's are compared over the training sessions both
    coded; the units are (session, item) pairs of the scale's ordinal items (every
    numeric item when it has none). A rater is certified after at least
    ``min_sessions`` compared sessions once the ICC of the units x [rater, master]
    matrix (form ``icc_form``, R ``psych`` names) reaches ``min_icc`` and the share of
    units within one point reaches ``min_within_one``. Drift checks use the same
    figures over the rater's latest ``min_sessions`` compared codings.
    """

    icc_form: str = "ICC2"
    min_icc: float = 0.70
    min_within_one: float = 0.80
    min_sessions: int = 5

    def as_dict(self) -> dict[str, Any]:
        return {
            "icc_form": self.icc_form,
            "min_icc": self.min_icc,
            "min_within_one": self.min_within_one,
            "min_sessions": self.min_sessions,
        }


@dataclass(frozen=True)
class RatingScale:
    """A validated scale definition. ``source`` keeps the YAML text it came from."""

    id: str
    name: str
    version: int
    citation: str
    instructions: str
    rated: Rated
    window: CodingWindow
    applies_to: AppliesTo
    items: tuple[ScaleItem, ...]
    composites: tuple[Composite, ...] = ()
    reliability: ReliabilityDefaults = ReliabilityDefaults()
    certification: CertificationCriterion = CertificationCriterion()
    uncodable_reasons: tuple[str, ...] = DEFAULT_UNCODABLE_REASONS
    source: str = field(default="", compare=False)
    instructions_wording: str = "source"
    invented_rules: tuple[str, ...] = ()
    # Composites spanning two sessions (a ``previous_session`` list): derived from the
    # final scores at analysis time, never within a coding, so never in ``composites``.
    across_sessions: tuple[Composite, ...] = ()

    @property
    def placeholder_items(self) -> tuple[ScaleItem, ...]:
        """Items with placeholder anchor texts (raters see only the published ones)."""
        return tuple(i for i in self.items if i.placeholder_values)

    def rater_notes(self) -> list[str]:
        """What raters are told about wording and rules that are not the source's."""
        lines = []
        if self.instructions_wording == "ours":
            lines.append(
                "These instructions are written for Session Coder, not the published wording."
            )
        lines += [f"Rule of ours, not in the published source: {r}" for r in self.invented_rules]
        return lines

    def lead_notes(self) -> list[str]:
        """What the lead's scale view says about the file's provenance (see
        :meth:`rater_notes`): also descriptions, placeholders and the reported ICC form."""
        lines = self.rater_notes()
        ours = [i.id for i in self.items if i.description and i.wording == "ours"]
        if ours:
            lines.append(
                "Item descriptions written for Session Coder, not the published wording: "
                + ", ".join(ours)
            )
        warning = self.placeholder_warning()
        if warning:
            lines.append(warning)
        if self.reliability.icc_source == "source":
            lines.append(f"Reported ICC form {self.reliability.icc}: as the source reports it.")
        elif self.reliability.icc_source == "ours":
            lines.append(
                f"Reported ICC form {self.reliability.icc}: chosen for Session Coder; the "
                "source's form is not stated in this file."
            )
        return lines

    def placeholder_warning(self) -> str | None:
        """What the lead is told about placeholder anchors, or None without any."""
        items = self.placeholder_items
        if not items:
            return None
        values = sorted({v for i in items for v in i.placeholder_values})
        return (
            f"{self.id} (version {self.version}): {len(items)} item(s) have placeholder "
            f"anchor texts for value(s) {', '.join(str(v) for v in values)}, with no "
            "published wording; raters see only the published end points and a "
            '"no published wording" mark. Replace them with your coding manual\'s '
            "wording (copy the file, edit it, raise version) before coding starts"
        )

    def item(self, item_id: str) -> ScaleItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    @property
    def scored_items(self) -> tuple[ScaleItem, ...]:
        """Items with a numeric value (everything but free text)."""
        return tuple(item for item in self.items if item.is_numeric)

    def composite_scores(self, scores: Mapping[str, float | None]) -> dict[str, float | None]:
        return {c.id: c.compute(scores) for c in self.composites}


# --------------------------------------------------------------------------- loading


@cache
def _schema() -> dict[str, Any]:
    text = resources.files("scales").joinpath("schema.yaml").read_text(encoding="utf-8")
    schema: dict[str, Any] = yaml.safe_load(text)
    return schema


def builtin_scale_path(scale_id: str) -> Path:
    """The path of a built-in scale file; InputError for an unknown id."""
    if scale_id not in BUILTIN_SCALE_IDS:
        known = ", ".join(BUILTIN_SCALE_IDS)
        raise InputError(f"unknown built-in scale {scale_id!r}; built-in ids are: {known}")
    return Path(str(resources.files("scales").joinpath(f"{scale_id}.yaml")))


def load_builtin_scale(scale_id: str) -> RatingScale:
    return load_scale(builtin_scale_path(scale_id))


def load_scale(path: str | Path) -> RatingScale:
    """Load and validate one scale file.

    Raises:
        ScaleValidationError: listing every problem with file, line and key path.
    """
    path = Path(path)
    name = str(path)

    def refuse(line: int | None, message: str) -> ScaleValidationError:
        return ScaleValidationError([ScaleProblem(name, line, "", message)])

    try:
        # stat() first: opening a FIFO would wait for a writer, and a device such as
        # /dev/zero has no size but never ends.
        if not stat.S_ISREG(path.stat().st_mode):
            raise refuse(None, "not a file; give the path of a .yaml scale file")
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > MAX_SCALE_FILE_BYTES:
                raise refuse(1, _too_big(size))
            # Read one byte more than allowed, so a file that grows meanwhile is
            # still caught without reading all of it.
            data = fh.read(MAX_SCALE_FILE_BYTES + 1)
        if len(data) > MAX_SCALE_FILE_BYTES:
            raise refuse(1, _too_big(max(size, len(data))))
        # The same newline handling as read_text(): the stored source is the same
        # whether the file was saved with Windows or Unix line ends.
        text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except FileNotFoundError:
        raise refuse(None, "file not found") from None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise refuse(
            line, "the file is not UTF-8 text; save it as UTF-8 (plain text) and try again"
        ) from None
    except OSError as exc:
        raise refuse(None, f"cannot read the file ({exc.strerror or exc})") from None
    return parse_scale(text, source_name=str(path))


def parse_scale(text: str, *, source_name: str = "<scale>") -> RatingScale:
    """Validate scale YAML text and build the model. See :func:`load_scale`."""
    problems: list[ScaleProblem] = []

    def report(line: int | None, path: str, message: str) -> None:
        problems.append(ScaleProblem(source_name, line, path, message))

    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_SCALE_FILE_BYTES:
        report(1, "", _too_big(size))
        raise ScaleValidationError(problems)
    # YAML refuses these anyway, but its message would not name the line.
    unprintable = _NOT_PRINTABLE.search(text)
    if unprintable is not None:
        report(
            text.count("\n", 0, unprintable.start()) + 1,
            "",
            f"the file contains the character U+{ord(unprintable.group()):04X}, which YAML "
            "does not allow; remove it (is this a text file?)",
        )
        raise ScaleValidationError(problems)
    try:
        data, lines = _compose(text, report)
    except _FatalYamlProblem as exc:
        report(exc.line, _format_path(exc.path), exc.message)
        raise ScaleValidationError(_dedupe(sorted(problems, key=_order))) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        # The problem is often noticed lines after the mistake (an unclosed quote is
        # found at the end of the file), so name where the unfinished part began.
        where = ""
        if exc.context and exc.context_mark is not None and exc.context_mark.line + 1 != line:
            where = f" ({exc.context} that starts on line {exc.context_mark.line + 1})"
        problems.clear()  # what was read before a syntax error may be misread
        report(
            line,
            "",
            f"YAML syntax error: {exc.problem or exc}{where}; check indentation and quotes",
        )
        raise ScaleValidationError(problems) from None
    except yaml.YAMLError as exc:
        problems.clear()
        report(None, "", f"YAML syntax error: {_one_line(str(exc))}")
        raise ScaleValidationError(problems) from None
    if data is None and not problems:
        report(1, "", "the file is empty; a scale needs id, name, version, ... and items")
        raise ScaleValidationError(problems)
    if not isinstance(data, dict):
        report(lines.get((), 1), "", "the file must be a mapping of keys (id: ..., items: ...)")
        raise ScaleValidationError(problems)

    def line_of(path: _PathKey) -> int | None:
        while path not in lines and path:
            path = path[:-1]
        return lines.get(path)

    validator = _Validator(_schema())
    for error in sorted(validator.iter_errors(data), key=lambda e: _sort_key(e, line_of)):
        for path, message in _explain(error):
            report(line_of(path), _format_path(path), message)
    # The semantic rules run even when the structure is wrong, so that a rater fixing
    # a file sees every problem in one pass; they skip the parts the schema rejected.
    _check_semantics(data, lambda p, m: report(line_of(p), _format_path(p), m))
    if problems:
        raise ScaleValidationError(_dedupe(sorted(problems, key=_order)))
    return _build(data, text)


def check_scale_files(paths: Iterable[str | Path]) -> list[ScaleProblem]:
    """Validate several files; returns every problem of every file (empty: all valid)."""
    problems: list[ScaleProblem] = []
    for path in paths:
        try:
            load_scale(path)
        except ScaleValidationError as exc:
            problems.extend(exc.problems)
    return problems


# --------------------------------------------------------------------------- reading YAML

_YAML_TAG_PREFIX = "tag:yaml.org,2002:"
# Tags a scale file may name explicitly: "!" and "!!str" only say "this is text".
_ALLOWED_TAGS = (None, "!", _YAML_TAG_PREFIX + "str")
# Characters YAML itself does not allow in a file (YAML 1.1, 5.1): found before parsing
# so that the message names the line.
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
# Characters a text value may not contain, even written as an escape ("\0", "\x07",
# "\ud800"): exports and the database cannot store them, screens cannot show them.
_BAD_TEXT_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_EventParser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _FatalYamlProblem(Exception):
    """A problem after which the rest of the file is not read (a bomb, a cycle)."""

    def __init__(self, line: int, message: str, path: _PathKey = ()) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.path = path


@dataclass
class _Frame:
    """A list or mapping being read: where it is, and what it holds so far."""

    container: Any
    path: _PathKey
    anchor: str | None
    count_at_start: int
    key: str | None = None
    key_line: int = 0


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML_TAG_PREFIX) :] if tag.startswith(_YAML_TAG_PREFIX) else tag


def _compose(text: str, report: Any) -> tuple[Any, dict[_PathKey, int]]:
    """Read YAML text into plain data and the line of every key path, within limits.

    This replaces PyYAML's composer and constructor, which expand aliases without
    limit, recurse once per nesting level and build tagged objects. It reads the
    parser's event stream (libyaml's C parser when installed: 20 times faster) and
    stops at the first alias that would make the expanded document larger than
    ``MAX_YAML_VALUES`` values, so a bomb costs no more than a normal file. Lists and
    mappings are built by a loop with an explicit stack, never by recursion.

    Mapping keys stay the text written in the file (``0: no effort`` gives key "0"),
    so anchors and other keyed maps validate uniformly; duplicate keys are reported
    (PyYAML would silently keep the last one). Values that nothing in the app can use
    (``.inf``, ``.nan``, dates, ``=``) are kept as the text written, so the schema
    reports them in context ("'.inf' is not a time").

    Args:
        text: the YAML text of one scale file.
        report: ``report(line, path, message)`` for problems the rest of the check
            can live with (a duplicate key, a control character in a text).

    Returns:
        The document as dicts, lists, str, int, float, bool and None (``None`` for an
        empty file), and the line of each key path.

    Raises:
        _FatalYamlProblem: a limit was reached, an alias is recursive or undefined, a
            tag names a type, a key is not a plain word: the first such problem.
        yaml.YAMLError: a syntax error.
    """
    lines: dict[_PathKey, int] = {}
    anchors: dict[str, tuple[Any, int]] = {}  # name -> (value, number of values)
    anchor_lines: dict[str, int] = {}
    open_anchors: set[str] = set()
    stack: list[_Frame] = []
    resolver = yaml.resolver.Resolver()
    constructor = yaml.constructor.SafeConstructor()
    root: Any = None
    count = 0
    documents = 0

    def here() -> _PathKey:
        """The key path of the value the parser is at (for a message)."""
        if not stack:
            return ()
        frame = stack[-1]
        if isinstance(frame.container, list):
            return (*frame.path, len(frame.container))
        return frame.path if frame.key is None else (*frame.path, frame.key)

    def fatal(line: int, message: str) -> _FatalYamlProblem:
        return _FatalYamlProblem(line, message, here())

    def too_many(line: int, alias: str | None) -> _FatalYamlProblem:
        if alias is None:
            return fatal(
                line,
                f"the file holds more than {MAX_YAML_VALUES:,} values; "
                "a scale needs far fewer: is this the right file?",
            )
        return fatal(
            line,
            f"alias *{alias} makes the file expand to more than {MAX_YAML_VALUES:,} values; "
            "repeat a block with an alias only where the scale needs it "
            "(a file that does this on purpose is a 'billion laughs' YAML bomb)",
        )

    def place(value: Any, line: int, *, scalar_key: str | None = None) -> _PathKey | None:
        """Put a value into the open container; returns its path (None for a key)."""
        nonlocal root
        if not stack:
            root = value
            lines[()] = line
            return ()
        frame = stack[-1]
        if isinstance(frame.container, list):
            path: _PathKey = (*frame.path, len(frame.container))
            frame.container.append(value)
            lines[path] = line
            return path
        if frame.key is None:
            if scalar_key is None:
                raise fatal(
                    line,
                    "a key must be a word or number written out, not a list, a mapping or an alias",
                )
            path = (*frame.path, scalar_key)
            if scalar_key in frame.container:
                report(line, _format_path(path), "duplicate key")
            frame.key, frame.key_line = scalar_key, line
            return None
        path = (*frame.path, frame.key)
        frame.container[frame.key] = value
        lines[path] = frame.key_line
        frame.key = None
        return path

    def check_tag(event: Any) -> None:
        tag = event.tag
        if tag in _ALLOWED_TAGS and (tag is None or isinstance(event, yaml.ScalarEvent)):
            return
        raise fatal(
            event.start_mark.line + 1,
            f"the YAML tag {_show_tag(tag)} is not allowed in a scale file; remove it "
            "(write values plainly, quoting text that looks like a number)",
        )

    def new_anchor(name: str | None, line: int) -> None:
        if name is not None and name in anchor_lines:
            raise fatal(
                line,
                f"anchor &{name} is defined twice (first on line {anchor_lines[name]}); "
                "give each anchor its own name",
            )
        if name is not None:
            anchor_lines[name] = line

    for event in yaml.parse(text, Loader=_EventParser):
        mark = event.start_mark  # the parser sets it on every event; the stubs allow None
        line = mark.line + 1 if mark is not None else 1
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise fatal(
                    line, "the file holds more than one YAML document (---); keep one scale"
                )
        elif isinstance(event, yaml.AliasEvent):
            name = event.anchor
            if name in open_anchors:
                raise fatal(
                    line,
                    f"alias *{name} is inside the block it repeats (&{name}), which would "
                    "repeat itself forever; repeat a finished block only",
                )
            if name not in anchors:
                raise fatal(line, f"alias *{name} has no anchor &{name} above it; define it first")
            value, size = anchors[name]
            count += size
            if count > MAX_YAML_VALUES:
                raise too_many(line, name)
            place(value, line)
        elif isinstance(event, yaml.ScalarEvent):
            count += 1
            if count > MAX_YAML_VALUES:
                raise too_many(line, None)
            check_tag(event)
            new_anchor(event.anchor, line)
            if stack and isinstance(stack[-1].container, dict) and stack[-1].key is None:
                value = event.value  # a key: the text as written
                _check_text(value, line, _format_path(stack[-1].path), report)
                place(None, line, scalar_key=value)
            else:
                value = _scalar(event, resolver, constructor)
                path = place(value, line)
                if isinstance(value, str):
                    _check_text(value, line, _format_path(path or ()), report)
            if event.anchor is not None:
                anchors[event.anchor] = (value, 1)
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            count += 1
            if count > MAX_YAML_VALUES:
                raise too_many(line, None)
            check_tag(event)
            new_anchor(event.anchor, line)
            if len(stack) >= MAX_YAML_DEPTH:
                raise fatal(
                    line,
                    f"lists and mappings are nested more than {MAX_YAML_DEPTH} deep; "
                    "a scale needs 4 (items, an item, its anchors)",
                )
            container: Any = [] if isinstance(event, yaml.SequenceStartEvent) else {}
            path = place(container, line)
            assert path is not None  # place() refuses a container as a key
            stack.append(_Frame(container, path, event.anchor, count))
            if event.anchor is not None:
                open_anchors.add(event.anchor)
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            frame = stack.pop()
            if frame.anchor is not None:
                open_anchors.discard(frame.anchor)
                anchors[frame.anchor] = (frame.container, count - frame.count_at_start + 1)
    return root, lines


def _scalar(event: Any, resolver: Any, constructor: Any) -> Any:
    """The value of a scalar that is not a key, as the app can use it.

    Numbers that are not finite, dates, and the YAML 1.1 oddities ``=`` and ``<<``
    stay the text written in the file: a scale has no use for them, and as text the
    schema reports them where they are ("must be a whole number, not '.inf'").
    """
    raw: str = event.value
    tag = event.tag
    if tag is None or tag == "!":
        tag = resolver.resolve(yaml.ScalarNode, raw, event.implicit)
    kind = tag[len(_YAML_TAG_PREFIX) :] if tag.startswith(_YAML_TAG_PREFIX) else ""
    node = yaml.ScalarNode(tag, raw, event.start_mark, event.end_mark, event.style)
    if kind == "null":
        return None
    if kind == "bool":
        return constructor.construct_yaml_bool(node)
    if kind == "int":
        try:
            return constructor.construct_yaml_int(node)
        except ValueError:  # more digits than Python converts (4300)
            return raw
    if kind == "float":
        number = constructor.construct_yaml_float(node)
        return number if math.isfinite(number) else raw
    return raw


def _check_text(text: str, line: int, path: str, report: Any) -> None:
    bad = _BAD_TEXT_CHAR.search(text)
    if bad is not None:
        report(
            line,
            path,
            f"contains the control character U+{ord(bad.group()):04X}; remove it "
            "(it cannot be shown, stored or exported)",
        )


# --------------------------------------------------------------------------- internals


def _too_big(size: int) -> str:
    return (
        f"the file is {size:,} bytes; a scale file may be at most "
        f"{MAX_SCALE_FILE_BYTES:,} bytes: is this the right file?"
    )


def _order(problem: ScaleProblem) -> tuple[int, str]:
    return (problem.line or 0, problem.path)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters so that a message stays one line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_whole_number(checker: Any, instance: Any) -> bool:
    # JSON Schema counts 1.0 as an integer; the app does not (range(1.0, 5.0) fails),
    # so a scale must write whole numbers as whole numbers.
    return isinstance(instance, int) and not isinstance(instance, bool)


# types-jsonschema leaves extend() unannotated, hence the one ignore.
_Validator: Any = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_whole_number),
)


def _format_path(path: _PathKey) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _sort_key(error: jsonschema.ValidationError, line_of: Any) -> tuple[int, str]:
    return (line_of(tuple(error.absolute_path)) or 0, error.message)


def _explain(error: jsonschema.ValidationError) -> Iterator[tuple[_PathKey, str]]:
    """Turn a jsonschema error into (path, plain message) pairs."""
    path: _PathKey = tuple(error.absolute_path)
    validator = error.validator
    # A validator fills these in on every error it yields (the stubs allow "unset").
    instance: Any = error.instance
    validator_value: Any = error.validator_value
    if validator == "additionalProperties":
        extra = re.findall(r"'([^']+)'", error.message.split("(")[-1])
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        allowed = sorted(k for k in schema.get("properties", {}))
        for key in extra or ["?"]:
            yield (*path, key), f"unknown key; allowed here: {', '.join(allowed)}"
        return
    if validator == "required":
        missing = re.findall(r"'([^']+)'", error.message)
        yield path, f"missing required key '{missing[0] if missing else error.message}'"
        return
    if validator == "type":
        yield path, f"must be {_a(validator_value)}, not {_describe(instance)}"
        return
    if validator == "enum":
        choices = ", ".join(str(v) for v in validator_value)
        yield path, f"{_short(instance)} is not one of: {choices}"
        return
    if validator == "pattern" and "propertyNames" in error.absolute_schema_path:
        # An anchor key: jsonschema reports the key itself as the instance, at the path
        # of the anchors mapping; point at the key's own line.
        yield (*path, str(instance)), "anchor keys must be whole numbers (the scored values)"
        return
    if validator == "pattern":
        if path and path[-1] == "id" or (len(path) >= 2 and path[-2] == "items"):
            hint = "use lower-case letters, digits and _ (starting with a letter)"
        else:
            hint = "write times as seconds or m:ss (e.g. 5:00)"
        yield path, f"{_short(instance)} is not valid: {hint}"
        return
    if validator == "oneOf":
        # A mapping can only have meant the mapping branch (window: {start, duration},
        # applies_to: {...}): explain what is wrong inside it ("window.start: '5:0' is
        # not a time") rather than repeating the general form of the key.
        mapping_branch = next(
            (
                i
                for i, branch in enumerate(validator_value)
                if isinstance(branch, dict) and branch.get("type") == "object"
            ),
            None,
        )
        inner = [
            e
            for e in error.context or ()
            if e.relative_schema_path and e.relative_schema_path[0] == mapping_branch
        ]
        if isinstance(instance, dict) and inner:
            for sub in inner:
                yield from _explain(sub)
            return
        yield path, _one_of_hint(path, instance)
        return
    if validator in ("minItems", "minProperties"):
        yield path, "must not be empty"
        return
    if validator == "minLength":
        yield path, "must not be empty"
        return
    if validator == "maxLength" and validator_value == 1:
        yield path, f"{_short(instance)} is too long (one key)"
        return
    if validator == "maxLength":
        yield (
            path,
            (f"is {len(instance):,} characters long; at most {validator_value:,} are allowed"),
        )
        return
    if validator == "maxItems":
        yield (
            path,
            (f"has {len(instance):,} entries; at most {validator_value:,} are allowed"),
        )
        return
    if validator in ("minimum", "maximum"):
        yield (
            path,
            f"{_short(instance)} is out of range ({validator} {validator_value})",
        )
        return
    if validator == "propertyNames":
        yield path, f"{_short(instance)}: anchor keys must be whole numbers"
        return
    if validator == "const":
        yield path, f"must be {validator_value!r}"
        return
    yield path, _one_line(error.message)[:200]


def _one_of_hint(path: _PathKey, instance: Any) -> str:
    key = path[-1] if path else ""
    if key == "window":
        return "must be 'whole' or a mapping with start and duration (e.g. start: 5:00, duration: 15:00)"
    if key == "applies_to":
        return "must be 'all' or a mapping with session_numbers, min_session_number or max_session_number"
    if key in ("start", "duration"):
        return f"{_short(instance)} is not a time: write seconds (300) or m:ss (5:00)"
    return f"{_short(instance)} is not valid here"


def _a(type_name: Any) -> str:
    names = {
        "string": "text",
        "integer": "a whole number",
        "number": "a number",
        "object": "a mapping (key: value)",
        "array": "a list",
        "boolean": "true or false",
    }
    if isinstance(type_name, list):
        return " or ".join(names.get(str(t), str(t)) for t in type_name)
    return names.get(str(type_name), str(type_name))


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        # yes/no/on/off are booleans in YAML 1.1: "0: no" is not the text "no".
        return (
            f"{str(value).lower()} (a boolean: unquoted yes, no, on, off, true and false "
            "are booleans in YAML; quote the word to mean text)"
        )
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    return _short(value)


def _dedupe(problems: list[ScaleProblem]) -> list[ScaleProblem]:
    seen: set[tuple[int | None, str, str]] = set()
    out = []
    for p in problems:
        key = (p.line, p.path, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def parse_time_ms(value: float | int | str) -> int:
    """Seconds, or "m:ss" / "h:mm:ss", as integer milliseconds."""
    if isinstance(value, str):
        seconds = 0
        for part in value.split(":"):
            seconds = seconds * 60 + int(part)
        return seconds * 1000
    return round(float(value) * 1000)


def _tolerant(check: Any) -> Any:
    """Run one semantic check; a part with the wrong structure was already reported."""

    def run(*args: Any) -> None:
        try:
            check(*args)
        except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError):
            pass

    return run


def _check_semantics(data: dict[str, Any], report: Any) -> None:
    items = data.get("items")
    # Keep every position (a non-mapping item becomes {}) so that items[i] in a
    # message is the i-th item of the file; the schema already reported the bad one.
    items = [i if isinstance(i, dict) else {} for i in items] if isinstance(items, list) else []
    _tolerant(_check_items)(items, report)
    _tolerant(_check_composites)(items, data.get("composites", []), report)
    _tolerant(_check_window)(data, report)
    _tolerant(_check_applies_to)(data, report)


def _check_items(items: list[dict[str, Any]], report: Any) -> None:
    item_ids: dict[str, int] = {}
    for i, item in enumerate(items):
        path: _PathKey = ("items", i)
        # .get, not [], so that one item without an id (already reported by the
        # schema) does not stop the checks of the items after it.
        item_id = item.get("id")
        if isinstance(item_id, str) and item_id in item_ids:
            report(
                (*path, "id"),
                f"duplicate item id {item_id!r} (also items[{item_ids[item_id]}])",
            )
        elif isinstance(item_id, str):
            item_ids[item_id] = i
        if item.get("kind") == ItemKind.ORDINAL:
            _check_ordinal(item, path, report)
        cats = item.get("categories")
        if (
            item.get("kind") == ItemKind.NOMINAL
            and isinstance(cats, list)
            and len(set(map(str, cats))) != len(cats)
        ):
            report((*path, "categories"), "categories must be distinct")
    shortcuts: dict[str, int] = {}
    for i, item in enumerate(items):
        key = item.get("shortcut")
        if not isinstance(key, str):
            continue
        if key.isdigit():
            report(
                ("items", i, "shortcut"), f"{key!r} is taken: number keys score the focused item"
            )
        elif key.lower() in shortcuts:
            report(
                ("items", i, "shortcut"), f"{key!r} is also used by items[{shortcuts[key.lower()]}]"
            )
        else:
            shortcuts[key.lower()] = i


def _is_whole(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _anchor_value(key: str) -> int | None:
    """The score an anchor key names ("01" and "1" both name 1); None if absurd."""
    digits = key.lstrip("-").lstrip("0") or "0"
    if len(digits) > 6:  # beyond any range, and int() of 4300+ digits fails
        return None
    return -int(digits) if key.startswith("-") else int(digits)


def _check_ordinal(item: dict[str, Any], path: _PathKey, report: Any) -> None:
    lo, hi = item.get("min"), item.get("max")
    if not _is_whole(lo) or not _is_whole(hi):
        return
    if max(abs(lo), abs(hi)) > ORDINAL_LIMIT:
        return  # the schema reported it
    if lo >= hi:
        report((*path, "max"), f"max {hi} must be greater than min {lo}")
        return
    if hi - lo + 1 > MAX_ORDINAL_VALUES:
        report(
            (*path, "max"),
            f"min {lo} to max {hi} is {hi - lo + 1} values; an ordinal item may have at "
            f"most {MAX_ORDINAL_VALUES} (e.g. 0 to {MAX_ORDINAL_VALUES - 1})",
        )
        return
    anchors = item.get("anchors")
    if not isinstance(anchors, dict):
        return
    present: dict[int, str] = {}
    for key in anchors:
        if not re.fullmatch(r"-?[0-9]+", key):
            continue  # the schema reported it
        value = _anchor_value(key)
        shown = key if len(key) <= 20 else key[:17] + "..."
        below = value < lo if value is not None else key.startswith("-")
        if below:
            report((*path, "anchors", key), f"value {shown} is below min {lo}")
        elif value is None or value > hi:
            report((*path, "anchors", key), f"value {shown} is above max {hi}")
        elif value in present:
            # YAML keys 1 and 01 differ as text but name the same score; keeping one
            # would silently drop the other's text.
            report(
                (*path, "anchors", key),
                f"{key} is the same score as the anchor {present[value]}; "
                "give each score one anchor",
            )
        else:
            present[value] = key
    if lo not in present or hi not in present:
        report((*path, "anchors"), f"give at least the end points {lo} and {hi} an anchor text")


def _check_composites(items: list[dict[str, Any]], composites: Any, report: Any) -> None:
    item_ids = {item.get("id") for item in items}
    composite_ids: set[str] = set()
    numeric = {item.get("id") for item in items if item.get("kind") != ItemKind.TEXT}
    for i, comp in enumerate(composites if isinstance(composites, list) else []):
        path: _PathKey = ("composites", i)
        # Skip, rather than stop at, a composite the schema already rejected.
        if not isinstance(comp, dict) or not isinstance(comp.get("items"), list):
            continue
        comp_id = comp.get("id")
        if comp_id is not None:
            if comp_id in item_ids or comp_id in composite_ids:
                report((*path, "id"), f"{comp_id!r} is already the id of an item or composite")
            composite_ids.add(comp_id)
        for j, ref in enumerate(comp["items"]):
            if ref not in item_ids:
                report((*path, "items", j), f"{ref!r} is not an item of this scale")
            elif ref not in numeric:
                report((*path, "items", j), f"{ref!r} is a text item and cannot be summed")
        if len(set(comp["items"])) != len(comp["items"]):
            report((*path, "items"), "an item is listed twice")
        earlier = comp.get("previous_session")
        for j, ref in enumerate(earlier if isinstance(earlier, list) else []):
            if ref not in comp["items"]:
                report(
                    (*path, "previous_session", j),
                    f"{ref!r} is not one of this composite's items",
                )
        if isinstance(earlier, list) and earlier and set(earlier) >= set(comp["items"]):
            report(
                (*path, "previous_session"),
                "lists every item of the composite: leave at least one to this session",
            )


def _check_window(data: dict[str, Any], report: Any) -> None:
    window = data.get("window")
    if isinstance(window, dict):
        start = parse_time_ms(window["start"])
        duration = parse_time_ms(window["duration"])
        if duration <= 0:
            report(("window", "duration"), "must be longer than 0:00")
        if start + duration > MAX_PLAUSIBLE_SESSION_MS:
            report(
                ("window",), "the window ends after 4 hours; is a time in seconds meant as minutes?"
            )


def _check_applies_to(data: dict[str, Any], report: Any) -> None:
    applies = data.get("applies_to")
    if isinstance(applies, dict):
        lo, hi = applies.get("min_session_number"), applies.get("max_session_number")
        if lo is not None and hi is not None and lo > hi:
            report(("applies_to", "max_session_number"), f"{hi} is below min_session_number {lo}")


def _build(data: dict[str, Any], text: str) -> RatingScale:
    items = []
    for raw in data["items"]:
        anchors = {int(k): v for k, v in raw.get("anchors", {}).items()}
        items.append(
            ScaleItem(
                id=raw["id"],
                label=raw["label"],
                kind=ItemKind(raw["kind"]),
                description=raw.get("description", "").strip(),
                required=raw.get("required", raw["kind"] != ItemKind.TEXT),
                shortcut=raw.get("shortcut"),
                min=raw.get("min"),
                max=raw.get("max"),
                anchors=dict(sorted(anchors.items())),
                categories=tuple(raw.get("categories", ())),
                wording=raw.get("wording", "source"),
            )
        )
    window = data["window"]
    coding_window = (
        CodingWindow()
        if window == "whole"
        else CodingWindow(parse_time_ms(window["start"]), parse_time_ms(window["duration"]))
    )
    applies = data["applies_to"]
    applies_to = (
        AppliesTo()
        if applies == "all"
        else AppliesTo(
            session_numbers=tuple(applies.get("session_numbers", ())),
            min_session_number=applies.get("min_session_number"),
            max_session_number=applies.get("max_session_number"),
            description=applies.get("description", ""),
        )
    )
    rel = data.get("reliability", {})
    cert = data.get("certification", {})
    return RatingScale(
        id=data["id"],
        name=data["name"],
        version=data["version"],
        citation=data["citation"].strip(),
        instructions=data["instructions"].strip(),
        rated=data["rated"],
        window=coding_window,
        applies_to=applies_to,
        items=tuple(items),
        composites=tuple(
            Composite(c["id"], c["label"], c["method"], tuple(c["items"]))
            for c in data.get("composites", [])
            if not c.get("previous_session")
        ),
        across_sessions=tuple(
            Composite(
                c["id"], c["label"], c["method"], tuple(c["items"]), tuple(c["previous_session"])
            )
            for c in data.get("composites", [])
            if c.get("previous_session")
        ),
        reliability=ReliabilityDefaults(
            icc=rel.get("icc", "ICC2"),
            kappa_weights=rel.get("kappa_weights", "quadratic"),
            alpha_level=rel.get("alpha_level", "ordinal"),
            icc_source=rel.get("icc_source"),
        ),
        certification=CertificationCriterion(
            icc_form=cert.get("icc_form", "ICC2"),
            min_icc=float(cert.get("min_icc", 0.70)),
            min_within_one=float(cert.get("min_within_one", 0.80)),
            min_sessions=int(cert.get("min_sessions", 5)),
        ),
        uncodable_reasons=tuple(data.get("uncodable_reasons", DEFAULT_UNCODABLE_REASONS)),
        source=text,
        instructions_wording=data.get("instructions_wording", "source"),
        invented_rules=tuple(r.strip() for r in data.get("invented_rules", ())),
    )
