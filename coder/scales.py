"""Rating scales: the model, and a strict YAML loader that reports every problem.

A scale file is checked in two passes. The first validates its structure against
``scales/schema.yaml`` (JSON Schema, via the ``jsonschema`` library): unknown keys,
wrong types, missing keys. The second checks the rules a schema cannot express:
anchors inside ``min..max``, unique item ids, composites that name existing items,
a coding window of plausible length. Every problem carries the file, the line and
the key path (``items[3].anchors``), and all problems are reported at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jsonschema
import yaml

from coder.errors import InputError

ItemKind = Literal["ordinal", "duration", "count", "nominal", "text"]
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

    @property
    def is_numeric(self) -> bool:
        """True for items whose values enter reliability statistics."""
        return self.kind in ("ordinal", "duration", "count", "nominal")

    @property
    def values(self) -> tuple[int, ...]:
        """The admissible integer values of an ordinal or nominal item (else empty).

        Nominal categories are coded 1..n in the order the scale lists them.
        """
        if self.kind == "ordinal" and self.min is not None and self.max is not None:
            return tuple(range(self.min, self.max + 1))
        if self.kind == "nominal":
            return tuple(range(1, len(self.categories) + 1))
        return ()

    def value_label(self, value: int) -> str | None:
        """The anchor or category text for a value, if the scale gives one."""
        if self.kind == "nominal":
            return self.categories[value - 1] if 1 <= value <= len(self.categories) else None
        return self.anchors.get(value)

    def check_value(self, value: float | None) -> None:
        """Raise InputError if ``value`` is not admissible for this item."""
        if value is None:
            return
        if self.kind == "text":
            raise InputError(f"item {self.id!r} takes text, not a number")
        if self.kind in ("ordinal", "nominal", "count") and value != int(value):
            raise InputError(f"item {self.id!r} takes whole numbers, not {value}")
        if self.kind in ("ordinal", "nominal") and int(value) not in self.values:
            lo, hi = self.values[0], self.values[-1]
            raise InputError(f"item {self.id!r}: {value:g} is outside {lo}..{hi}")
        if self.kind in ("count", "duration") and value < 0:
            raise InputError(f"item {self.id!r}: {value:g} is negative")


@dataclass(frozen=True)
class Composite:
    """A subscale or total: the sum or mean of listed items."""

    id: str
    label: str
    method: Literal["sum", "mean"]
    items: tuple[str, ...]

    def compute(self, scores: Mapping[str, float | None]) -> float | None:
        """The composite of ``scores``; None unless every listed item is scored."""
        values = [scores.get(item) for item in self.items]
        if any(v is None for v in values):
            return None
        total = float(sum(v for v in values if v is not None))
        return total if self.method == "sum" else total / len(values)


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
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScaleValidationError([ScaleProblem(str(path), None, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        problem = ScaleProblem(str(path), None, "", f"cannot read the file ({exc})")
        raise ScaleValidationError([problem]) from None
    return parse_scale(text, source_name=str(path))


def parse_scale(text: str, *, source_name: str = "<scale>") -> RatingScale:
    """Validate scale YAML text and build the model. See :func:`load_scale`."""
    problems: list[ScaleProblem] = []

    def report(line: int | None, path: str, message: str) -> None:
        problems.append(ScaleProblem(source_name, line, path, message))

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        # The problem is often noticed lines after the mistake (an unclosed quote is
        # found at the end of the file), so name where the unfinished part began.
        where = ""
        if exc.context and exc.context_mark is not None and exc.context_mark.line + 1 != line:
            where = f" ({exc.context} that starts on line {exc.context_mark.line + 1})"
        report(
            line,
            "",
            f"YAML syntax error: {exc.problem or exc}{where}; check indentation and quotes",
        )
        raise ScaleValidationError(problems) from None
    except yaml.YAMLError as exc:
        report(None, "", f"YAML syntax error: {exc}")
        raise ScaleValidationError(problems) from None
    if root is None:
        report(1, "", "the file is empty; a scale needs id, name, version, ... and items")
        raise ScaleValidationError(problems)

    lines: dict[_PathKey, int] = {}
    data = _node_to_python(root, (), lines, report)
    if not isinstance(data, dict):
        report(
            root.start_mark.line + 1, "", "the file must be a mapping of keys (id: ..., items: ...)"
        )
        raise ScaleValidationError(problems)

    def line_of(path: _PathKey) -> int | None:
        while path not in lines and path:
            path = path[:-1]
        return lines.get(path)

    validator = jsonschema.Draft202012Validator(_schema())
    for error in sorted(validator.iter_errors(data), key=lambda e: _sort_key(e, line_of)):
        for path, message in _explain(error):
            report(line_of(path), _format_path(path), message)
    # The semantic rules run even when the structure is wrong, so that a rater fixing
    # a file sees every problem in one pass; they skip the parts the schema rejected.
    _check_semantics(data, lambda p, m: report(line_of(p), _format_path(p), m))
    if problems:
        problems.sort(key=lambda p: (p.line or 0, p.path))
        raise ScaleValidationError(_dedupe(problems))
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


def scale_to_json(scale: RatingScale) -> str:
    """Serialise a scale's definition for storage (its YAML source is kept verbatim)."""
    return json.dumps({"id": scale.id, "version": scale.version, "source": scale.source})


def scale_from_json(text: str) -> RatingScale:
    """Rebuild a scale stored by :func:`scale_to_json`."""
    stored = json.loads(text)
    return parse_scale(stored["source"], source_name=f"stored scale {stored['id']}")


# --------------------------------------------------------------------------- internals


def _node_to_python(
    node: yaml.Node,
    path: _PathKey,
    lines: dict[_PathKey, int],
    report: Any,
) -> Any:
    """Turn a composed YAML node into plain data, remembering each path's line.

    Mapping keys become strings (YAML ``0: no effort`` gives key "0"), so anchors and
    other keyed maps validate uniformly. Duplicate keys are reported: PyYAML would
    silently keep the last one.
    """
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            if key in result:
                report(key_node.start_mark.line + 1, _format_path(child), "duplicate key")
            result[key] = _node_to_python(value_node, child, lines, report)
            lines[child] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_node_to_python(v, (*path, i), lines, report) for i, v in enumerate(node.value)]
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


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
    if validator == "additionalProperties":
        extra = re.findall(r"'([^']+)'", error.message.split("(")[-1])
        allowed = sorted(k for k in error.schema.get("properties", {}))
        for key in extra or ["?"]:
            yield (*path, key), f"unknown key; allowed here: {', '.join(allowed)}"
        return
    if validator == "required":
        missing = re.findall(r"'([^']+)'", error.message)
        yield path, f"missing required key '{missing[0] if missing else error.message}'"
        return
    if validator == "type":
        yield path, f"must be {_a(error.validator_value)}, not {_describe(error.instance)}"
        return
    if validator == "enum":
        choices = ", ".join(str(v) for v in error.validator_value)
        yield path, f"{error.instance!r} is not one of: {choices}"
        return
    if validator == "pattern" and "propertyNames" in error.absolute_schema_path:
        # An anchor key: jsonschema reports the key itself as the instance, at the path
        # of the anchors mapping; point at the key's own line.
        yield (*path, str(error.instance)), "anchor keys must be whole numbers (the scored values)"
        return
    if validator == "pattern":
        if path and path[-1] == "id" or (len(path) >= 2 and path[-2] == "items"):
            hint = "use lower-case letters, digits and _ (starting with a letter)"
        else:
            hint = "write times as seconds or m:ss (e.g. 5:00)"
        yield path, f"{error.instance!r} is not valid: {hint}"
        return
    if validator == "oneOf":
        # A mapping can only have meant the mapping branch (window: {start, duration},
        # applies_to: {...}): explain what is wrong inside it ("window.start: '5:0' is
        # not a time") rather than repeating the general form of the key.
        mapping_branch = next(
            (
                i
                for i, branch in enumerate(error.validator_value)
                if isinstance(branch, dict) and branch.get("type") == "object"
            ),
            None,
        )
        inner = [
            e
            for e in error.context or ()
            if e.relative_schema_path and e.relative_schema_path[0] == mapping_branch
        ]
        if isinstance(error.instance, dict) and inner:
            for sub in inner:
                yield from _explain(sub)
            return
        yield path, _one_of_hint(path, error.instance)
        return
    if validator in ("minItems", "minProperties"):
        yield path, "must not be empty"
        return
    if validator == "minLength":
        yield path, "must not be empty"
        return
    if validator == "maxLength":
        yield path, f"{error.instance!r} is too long (one key)"
        return
    if validator in ("minimum", "maximum"):
        yield path, f"{error.instance!r} is out of range ({validator} {error.validator_value})"
        return
    if validator == "propertyNames":
        yield path, f"{error.instance!r}: anchor keys must be whole numbers"
        return
    if validator == "const":
        yield path, f"must be {error.validator_value!r}"
        return
    yield path, error.message


def _one_of_hint(path: _PathKey, instance: Any) -> str:
    key = path[-1] if path else ""
    if key == "window":
        return "must be 'whole' or a mapping with start and duration (e.g. start: 5:00, duration: 15:00)"
    if key == "applies_to":
        return "must be 'all' or a mapping with session_numbers, min_session_number or max_session_number"
    if key in ("start", "duration"):
        return f"{instance!r} is not a time: write seconds (300) or m:ss (5:00)"
    return f"{instance!r} is not valid here"


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
        return " or ".join(names.get(t, t) for t in type_name)
    return names.get(str(type_name), str(type_name))


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    return f"{value!r}"


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
        except (KeyError, TypeError, ValueError, AttributeError):
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
        if item.get("kind") == "ordinal":
            lo, hi = item.get("min"), item.get("max")
            if not isinstance(lo, int) or not isinstance(hi, int):
                continue
            if lo >= hi:
                report((*path, "max"), f"max {hi} must be greater than min {lo}")
                continue
            anchors = item.get("anchors")
            if not isinstance(anchors, dict):
                continue
            for key in anchors:
                if not re.fullmatch(r"-?[0-9]+", key):
                    continue
                value = int(key)
                if value > hi:
                    report((*path, "anchors", key), f"value {value} is above max {hi}")
                elif value < lo:
                    report((*path, "anchors", key), f"value {value} is below min {lo}")
            present = {int(k) for k in anchors if re.fullmatch(r"-?[0-9]+", k)}
            if lo not in present or hi not in present:
                report(
                    (*path, "anchors"), f"give at least the end points {lo} and {hi} an anchor text"
                )
        cats = item.get("categories")
        if (
            item.get("kind") == "nominal"
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


def _check_composites(items: list[dict[str, Any]], composites: Any, report: Any) -> None:
    item_ids = {item.get("id") for item in items}
    composite_ids: set[str] = set()
    numeric = {item.get("id") for item in items if item.get("kind") != "text"}
    for i, comp in enumerate(composites if isinstance(composites, list) else []):
        path: _PathKey = ("composites", i)
        # Skip, rather than stop at, a composite the schema already rejected.
        if not isinstance(comp, dict) or not isinstance(comp.get("items"), list):
            continue
        comp_id = comp.get("id")
        if comp_id is not None and (comp_id in item_ids or comp_id in composite_ids):
            report((*path, "id"), f"{comp_id!r} is already the id of an item or composite")
        composite_ids.add(comp_id)
        for j, ref in enumerate(comp["items"]):
            if ref not in item_ids:
                report((*path, "items", j), f"{ref!r} is not an item of this scale")
            elif ref not in numeric:
                report((*path, "items", j), f"{ref!r} is a text item and cannot be summed")
        if len(set(comp["items"])) != len(comp["items"]):
            report((*path, "items"), "an item is listed twice")


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
                kind=raw["kind"],
                description=raw.get("description", "").strip(),
                required=raw.get("required", raw["kind"] != "text"),
                shortcut=raw.get("shortcut"),
                min=raw.get("min"),
                max=raw.get("max"),
                anchors=dict(sorted(anchors.items())),
                categories=tuple(raw.get("categories", ())),
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
        ),
        reliability=ReliabilityDefaults(
            icc=rel.get("icc", "ICC2"),
            kappa_weights=rel.get("kappa_weights", "quadratic"),
            alpha_level=rel.get("alpha_level", "ordinal"),
        ),
        certification=CertificationCriterion(
            icc_form=cert.get("icc_form", "ICC2"),
            min_icc=float(cert.get("min_icc", 0.70)),
            min_within_one=float(cert.get("min_within_one", 0.80)),
            min_sessions=int(cert.get("min_sessions", 5)),
        ),
        uncodable_reasons=tuple(data.get("uncodable_reasons", DEFAULT_UNCODABLE_REASONS)),
        source=text,
    )
