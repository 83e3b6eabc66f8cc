"""The analysis tables of a project, built for the exporters (SPEC section 6).

:func:`build_export_bundle` reads a project with a handful of bulk queries and returns
an :class:`ExportBundle`: plain pandas DataFrames and metadata, free of Qt and of any
file format. The writers in ``exports/`` (xlsx, csv, sav) only lay these tables out.

Conventions every table follows:

* One table per scale: ``scores``, ``final`` and ``pairs`` hold every scale's rows
  (the ``scale_id`` column tells them apart) and :meth:`ExportBundle.per_scale` cuts
  them into one table per scale, each with the fixed columns and that scale's own
  columns only; the writers lay out those. An item or composite is a column named
  ``<scale>_<item>`` (:func:`variable_column`: ``thabs_rationale``, never a bare
  ``rationale`` that another scale's item could share), so a column name is unique
  across every table and format of an export and the same in every export. The
  ``variables`` table is the codebook of those columns.
* Only *finished* codings are exported: ``submitted`` ones carry scores, ``uncodable``
  ones carry a reason. Codings not started or still in progress are left out and
  counted (:attr:`ExportBundle.excluded`).
* Which codings count for analysis is decided by one function,
  :func:`coder.analysis_set.analysis_codings` (its docstring states the rules): no
  training, master, certification or recalibration coding, nothing on a session
  currently marked as training. Only counted codings enter ``final`` and
  ``descriptives``; ``pairs`` and ``reliability`` take each double-coded session's
  two reliability coders (one row per session in ``pairs``, the very data of the
  reliability sheet); ``scores`` keeps every finished coding with its role.
* Pseudonymous by default: session, patient, therapist and rater codes only. Audio
  paths (``audio_path``) and the session date and free-text manifest metadata
  (``date``, ``meta_<key>``) are added only when asked for. Rater notes and text-item
  answers are coding content, not metadata, and are always exported.
* Times are integer milliseconds (``*_ms``) with a text twin as ``mm:ss`` (``h:mm:ss``
  from one hour on), truncated to whole seconds as a media player shows them.

Progress callbacks receive one float, the fraction done from 0.0 to 1.0 (never
decreasing, 1.0 last). ``cancelled`` is polled between steps; when it returns True the
build stops with :class:`ExportCancelled`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata as _metadata
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from coder.analysis_set import CodingFact, analysis_codings
from coder.attrition import NO_AUDIO, Attrition, ScaleAttrition, project_attrition
from coder.errors import CoderError, InputError
from coder.kinds import FINISHED_STATUSES, CodingStatus, ItemKind
from coder.methods_text import MethodsFacts, methods_paragraph
from coder.reliability import (
    ICC_FORMS,
    VC_FORMS,
    ItemReliability,
    StudyReliability,
    study_reliability,
)
from coder.reliability_tables import (
    PAIR_SUMMARY_DOCS,
    PAIR_TABLE_DOCS,
    pair_frames,
    pair_rows,
    pair_summary_rows,
)
from coder.scale_analysis import (
    ScaleAnalysis,
    across_session_rule,
    across_session_scores,
    analysis_definitions,
    previous_rows,
)
from coder.scales import RatingScale
from coder.session_window import SessionWindow, offset_of, session_window
from coder.store.attrition import window_exits
from coder.store.prepared_store import entered_values
from coder.store.project import Project
from coder.store.queries import ExportRows, active_plan, export_rows

FinalRule = Literal["primary", "mean", "consensus"]
Progress = Callable[[float], None]
Cancelled = Callable[[], bool]

TABLES: tuple[str, ...] = (
    "scores",
    "long",
    "pairs",
    "final",
    "reliability",
    "reliability_pairs",
    "reliability_pair_summary",
    "descriptives",
    "descriptives_by_session",
    "winsorizing",
    "patients",
    "notes",
    "spans",
    "uncodable",
    "uncodable_counts",
    "plan",
    "variables",
)

#: Text twins of millisecond times (``mm:ss``, ``h:mm:ss`` from an hour on).
CLOCK_COLUMNS: frozenset[str] = frozenset({"time", "start", "end"})

#: Columns holding a calendar date (no time of day): dates in xlsx, YYYY-MM-DD in csv.
DATE_COLUMNS: frozenset[str] = frozenset({"date"})

#: Rows R's readxl and readr read to guess a column's type (their default guess_max).
GUESS_ROWS = 1000

#: The wide tables, laid out one per scale by every writer (:meth:`ExportBundle.per_scale`).
SCALE_TABLES: tuple[str, ...] = ("scores", "final", "pairs")

# Fixed columns of the tables; item and composite columns come after these.
SESSION_COLUMNS = ("scale_id", "session_id", "patient", "therapist", "session_number", "phase")
SCORE_COLUMNS = (
    *SESSION_COLUMNS,
    "rater",
    "role",
    "double_coded",
    "state",
    "submitted_at",
    "scale_version",
)
FINAL_COLUMNS = (*SESSION_COLUMNS, "n_coders", "final_source")
PAIR_COLUMNS = ("scale_id", "session_id", "rater_A", "rater_B")
LONG_COLUMNS = (
    "scale_id",
    "session_id",
    "patient",
    "therapist",
    "session_number",
    "phase",
    "rater",
    "item_id",
    "variable",
    "kind",
    "value",
    "text",
)
NOTE_COLUMNS = ("scale_id", "session_id", "rater", "position_ms", "time", "text", "in_window")
SPAN_COLUMNS = (
    "scale_id",
    "session_id",
    "rater",
    "item_id",
    "start_ms",
    "end_ms",
    "start",
    "end",
    "seconds",
    "in_window",
)
UNCODABLE_COLUMNS = ("scale_id", "session_id", "rater", "role", "reason", "text")
# The start of the ``reason`` of an uncodable row for a session without audio.
WITHOUT_AUDIO_PREFIX = "without audio: "
UNCODABLE_COUNT_COLUMNS = ("scale_id", "reason", "n")
PLAN_COLUMNS = ("scale_id", "session_id", "rater", "role", "queue_position", "state")
VARIABLE_COLUMNS = (
    "scale_id",
    "column",
    "item_id",
    "kind",
    "label",
    "description",
    "min",
    "max",
    "value_labels",
    "composite_of",
    "missing",
    "scale_version",
    "scale_sha256",
    "other_versions",
)
DESCRIPTIVE_COLUMNS = (
    "scale_id",
    "variable",
    "kind",
    "label",
    "n",
    "mean",
    "sd",
    "min",
    "q1",
    "median",
    "q3",
    "max",
    "iqr",
    "n_outliers",
    "winsorize_k",
    "adjusted_n",
)
DESCRIPTIVE_BY_SESSION_COLUMNS = (
    "scale_id",
    "session_number",
    *DESCRIPTIVE_COLUMNS[1:13],  # variable ... iqr
    "fence_k",
    "lower_fence",
    "upper_fence",
    "n_outliers",
)
#: ``descriptives`` of the whole scale only, or also one table per session number.
DescriptivesBy = Literal["scale", "session_number"]
WINSOR_COLUMNS = (
    "scale_id",
    "session_number",
    "variable",
    "kind",
    "rule",
    "n",
    "q1",
    "q3",
    "iqr",
    "winsorize_k",
    "lower_fence",
    "upper_fence",
    "set_low_to",
    "set_high_to",
    "adjusted_n",
)
Layout = Literal["session", "patient"]
PATIENT_COLUMNS = ("patient", "therapist")
KAPPA_KEYS = ("unweighted", "linear", "quadratic")
ALPHA_KEYS = ("nominal", "ordinal", "interval")
# Issue 11: what the item's kind and the scale's settings report, the alpha's bootstrap
# interval, and the chance-corrected coefficients (Gwet's AC1 or AC2 by the weights).
CHANCE_COLUMNS: tuple[str, ...] = (
    "item_kind",
    "reported_kappa_weights",
    "reported_kappa",
    "reported_alpha_level",
    "reported_alpha",
    "reported_alpha_ci_low",
    "reported_alpha_ci_high",
    *(f"alpha_{a}_ci_{end}" for a in ALPHA_KEYS for end in ("low", "high")),
    "agreement_weights",
    "gwet_coefficient",
    *(
        f"{c}{suffix}"
        for c in ("fleiss_kappa", "gwet_ac", "brennan_prediger")
        for suffix in ("", "_se", "_ci_low", "_ci_high")
    ),
)
RELIABILITY_COLUMNS: tuple[str, ...] = (
    "scale_id",
    "variable",
    "kind",
    "label",
    "n_sessions",
    "n_raters",
    "k",
    "design",
    "recommended_form",
    "recommended_label",
    "recommended_icc",
    "recommended_ci_low",
    "recommended_ci_high",
    "recommended_reason",
    "scale_default_fits",
    "scale_default_note",
    "reported_form",
    "reported_icc",
    "reported_ci_low",
    "reported_ci_high",
    "vc_session",
    "vc_rater",
    "vc_residual",
    "vc_k",
    *(f"{form}{suffix}" for form in VC_FORMS for suffix in ("", "_ci_low", "_ci_high")),
    "vc_ci_method",
    *(
        f"{form}{suffix}"
        for form in ICC_FORMS
        for suffix in ("", "_ci_low", "_ci_high", "_F", "_F_infinite", "_df1", "_df2", "_p")
    ),
    *(f"kappa_{w}" for w in KAPPA_KEYS),
    *(f"alpha_{a}" for a in ALPHA_KEYS),
    "agreement_exact",
    "agreement_within_one",
    *CHANCE_COLUMNS,
    "n_double_coded",
    "categories_min",
    "categories_max",
    "category_source",
    "design_note",
    "not_defined",
    "cronbach_alpha",
    "cronbach_alpha_ci_low",
    "cronbach_alpha_ci_high",
    "cronbach_alpha_n",
)

_RELIABILITY_FLOATS = tuple(
    c
    for c in RELIABILITY_COLUMNS
    if c.startswith(
        (
            "ICC",
            "kappa_",
            "alpha_",
            "agreement_",
            "reported_icc",
            "reported_ci",
            "reported_kappa",
            "reported_alpha",
            "fleiss_",
            "gwet_ac",
            "brennan_",
            "recommended_icc",
            "recommended_ci",
            "vc_session",
            "vc_rater",
            "vc_residual",
            "vc_k",
        )
    )
    and not c.endswith("_infinite")
    and c not in ("agreement_weights", "reported_kappa_weights", "reported_alpha_level")
    or c in ("categories_min", "categories_max", "cronbach_alpha")
    or c.startswith("cronbach_alpha_ci")
)
_RESERVED = frozenset(
    {
        *SCORE_COLUMNS,
        *FINAL_COLUMNS,
        *PAIR_COLUMNS,
        "date",
        "audio_path",
        "scale_version",
    }
)


class ExportCancelled(CoderError):
    """The export was cancelled before it finished; nothing was written."""


@dataclass(frozen=True)
class Variable:
    """One item or composite column of a scale in the wide tables."""

    scale_id: str
    column: str
    item_id: str
    kind: str  # the item kind (ordinal, duration, count, nominal, text) or "composite"
    label: str
    min: int | None = None
    max: int | None = None
    value_labels: Mapping[int, str] = field(default_factory=dict)
    composite_of: tuple[str, ...] = ()
    # A composite spanning two sessions: its items taken from the previous session.
    previous_session: tuple[str, ...] = ()

    @property
    def across_sessions(self) -> bool:
        """A composite of two sessions: only in ``final`` (and ``patients``)."""
        return bool(self.previous_session)

    @property
    def is_numeric(self) -> bool:
        return self.kind != ItemKind.TEXT

    @property
    def long_kind(self) -> str:
        return "composite" if self.kind == "composite" else "item"


@dataclass(frozen=True)
class ExportOptions:
    """The choices an export was made with (shown in every README)."""

    scale_ids: tuple[str, ...]
    final: FinalRule = "primary"
    winsorize_iqr: float | None = None
    include_audio_paths: bool = False
    include_metadata: bool = False
    layout: Layout = "session"
    descriptives_by: DescriptivesBy = "scale"


@dataclass(frozen=True, eq=False)
class ExportBundle:
    """Every analysis table of one export, plus what the README needs to explain them.

    Attributes:
        options: The export options.
        project_name: The project's name.
        created_at: When the bundle was built (UTC, timezone-aware).
        app_version: The Session Coder version that built it.
        scales: The exported scales (newest stored version of each).
        variables: The codebook: one row per item and composite column of each scale.
        scores: One row per finished coding (session x rater x scale).
        long: Tidy scores: one row per submitted coding and variable.
        pairs: Double-coded sessions, one row per session (its two reliability
            coders), A = lower code.
        final: One row per session and scale, by the ``final`` rule; winsorized
            when asked.
        reliability: One row per numeric item and composite.
        reliability_pairs: Every ICC form per scale, rater pair and variable.
        reliability_pair_summary: Each ICC form over the rater pairs (range, mean,
            median), per scale and variable.
        methods: scale id -> the methods paragraph (:mod:`coder.methods_text`) of its
            reliability, from the same objects as the reliability tables.
        descriptives: One row per numeric item and composite of ``final``.
        descriptives_by_session: With ``descriptives_by="session_number"``: the same
            per scale, session number and variable, with Tukey's fences and the values
            beyond them (:func:`descriptives_by_session`; empty otherwise).
        notes: Rater notes with their time stamps.
        spans: Marked time spans of duration items.
        uncodable: Codings marked uncodable, with reason and text.
        uncodable_counts: Uncodable codings counted by scale and reason.
        plan: Every coding assigned (any state), in queue order per rater.
        excluded: Codings left out per scale, by state (not_started, in_progress).
        variables_by_scale: The :class:`Variable` objects of each scale, in column order.
        winsorizing: With ``winsorize_iqr``: one row per scale, session number and
            numeric variable: the quartiles, fences and values changed (empty when off).
        patients: With ``layout="patient"``: the final scores one row per patient,
            one column per scale, variable and session number (empty otherwise).
        version_ids: (scale id, version) -> the item and composite ids that version
            has, for every version a coding of the export was made with.
        analyses: The lead's analysis choices per scale (composite definition, dropped
            items; :mod:`coder.scale_analysis`), stated in the documents.
        attrition: Per scale, every session it applies to by outcome
            (:mod:`coder.attrition`); the sessions without audio are also rows of
            ``uncodable``.
        window_exits: Per scale, the exported codings whose rater left the coding
            window on purpose (recorded in the history).
    """

    options: ExportOptions
    project_name: str
    created_at: datetime
    app_version: str
    scales: tuple[RatingScale, ...]
    variables: pd.DataFrame
    scores: pd.DataFrame
    long: pd.DataFrame
    pairs: pd.DataFrame
    final: pd.DataFrame
    reliability: pd.DataFrame
    descriptives: pd.DataFrame
    notes: pd.DataFrame
    spans: pd.DataFrame
    uncodable: pd.DataFrame
    uncodable_counts: pd.DataFrame
    plan: pd.DataFrame
    excluded: Mapping[str, Mapping[str, int]]
    variables_by_scale: Mapping[str, tuple[Variable, ...]]
    winsorizing: pd.DataFrame = field(default_factory=lambda: _empty(WINSOR_COLUMNS))
    patients: pd.DataFrame = field(default_factory=lambda: _empty(PATIENT_COLUMNS))
    descriptives_by_session: pd.DataFrame = field(
        default_factory=lambda: _empty(DESCRIPTIVE_BY_SESSION_COLUMNS)
    )
    version_ids: Mapping[tuple[str, int], frozenset[str]] = field(default_factory=dict)
    analyses: Mapping[str, ScaleAnalysis] = field(default_factory=dict)
    versions: Mapping[str, str] = field(default_factory=dict)
    attrition: tuple[ScaleAttrition, ...] = ()
    reliability_pairs: pd.DataFrame = field(default_factory=pd.DataFrame)
    reliability_pair_summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    methods: Mapping[str, str] = field(default_factory=dict)
    window_exits: Mapping[str, int] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        """One table by name (see :data:`TABLES`)."""
        if name not in TABLES:
            raise KeyError(name)
        frame: pd.DataFrame = getattr(self, name)
        return frame

    @property
    def all_variables(self) -> tuple[Variable, ...]:
        return tuple(v for vs in self.variables_by_scale.values() for v in vs)

    def scale_columns(self, name: str, scale_id: str) -> list[str]:
        """The columns of one scale's ``scores``, ``final`` or ``pairs`` table, in order.

        The table's fixed columns (every column not of a variable), then the scale's
        own variables' columns (``_A`` and ``_B`` in ``pairs``).
        """
        if name not in SCALE_TABLES:
            raise KeyError(name)
        frame = self.table(name)
        suffixes = ("_A", "_B") if name == "pairs" else ("",)
        every = {v.column + x for v in self.all_variables for x in suffixes}
        mine = {
            v.column + x
            for v in self.variables_by_scale[scale_id]
            if name == "final" or not v.across_sessions
            for x in suffixes
        }
        return [str(c) for c in frame.columns if c not in every or c in mine]

    def scale_table(self, name: str, scale_id: str) -> pd.DataFrame:
        """One scale's ``scores``, ``final`` or ``pairs``: its rows and its columns only."""
        frame = self.table(name)
        rows = (frame["scale_id"] == scale_id).to_numpy(dtype=bool)
        table = frame.loc[rows, self.scale_columns(name, scale_id)].reset_index(drop=True)
        return guess_safe(table)

    def per_scale(self, name: str) -> dict[str, pd.DataFrame]:
        """``scale_table`` of every exported scale, in export order (scale id -> table)."""
        return {sid: self.scale_table(name, sid) for sid in self.variables_by_scale}

    @property
    def adjusted_total(self) -> int:
        """Item values of ``final`` changed by winsorizing (0 when not asked).

        Composites recomputed from changed items are not counted here (the
        ``winsorizing`` table has them as rows of rule ``composite``).
        """
        w = self.winsorizing
        if w.empty:
            return 0
        return int(w.loc[w["rule"] != "composite", "adjusted_n"].sum())


# --------------------------------------------------------------------------- helpers


def format_time_ms(ms: float | int | None) -> str | None:
    """``mm:ss`` below an hour, ``h:mm:ss`` from an hour on; truncated to seconds."""
    if ms is None or (isinstance(ms, float) and math.isnan(ms)):
        return None
    total = max(0, int(ms)) // 1000
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes:02d}:{seconds:02d}"


def app_version() -> str:
    try:
        return _metadata.version("session-coder")
    except _metadata.PackageNotFoundError:  # running from a source tree without install
        return "unknown"


def _unique(values: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def variable_column(scale_id: str, item_id: str) -> str:
    """The column of an item or composite in every wide table: ``<scale>_<item>``.

    The rule: the scale id, an underscore, the item (or composite) id, e.g.
    ``thabs_rationale`` and ``sthar_rationale`` for the two scales' ``rationale``
    items. Scale and item ids are lower-case letters, digits and ``_`` (the scale
    schema), so the name is a valid R, pandas, SPSS and Stata name as it is. Should it
    equal a fixed column (scale ``final`` with an item ``source`` would give
    ``final_source``) or start like a manifest column (``meta_``), the column is
    ``item_<scale>_<item>`` instead. Two exported scales whose names would still meet
    (scale ``a_b`` item ``c`` and scale ``a`` item ``b_c``) are told apart by
    :func:`unique_columns`.
    """
    name = f"{scale_id}_{item_id}"
    if name in _RESERVED or name.startswith("meta_"):
        return f"item_{name}"
    return name


def unique_columns(
    variables_by_scale: Mapping[str, Sequence[Variable]],
) -> dict[str, tuple[Variable, ...]]:
    """The variables with no column name shared by two scales (``_2``, ``_3``... added).

    Only the rare clash of :func:`variable_column` between two scales (``a_b`` + ``c``
    against ``a`` + ``b_c``) changes a name: the later scale's column (in export
    order) gets the lowest free suffix.
    """
    taken: set[str] = set()
    out: dict[str, tuple[Variable, ...]] = {}
    for scale_id, variables in variables_by_scale.items():
        mine: list[Variable] = []
        for v in variables:
            name, n = v.column, 1
            while name in taken:
                n += 1
                name = f"{v.column}_{n}"
            taken.add(name)
            mine.append(v if name == v.column else replace(v, column=name))
        out[scale_id] = tuple(mine)
    return out


def scale_variables(scale: RatingScale) -> tuple[Variable, ...]:
    """The item and composite columns of a scale, in the scale's order."""
    out = []
    for item in scale.items:
        labels = {v: item.shown_label(v) for v in item.values}
        out.append(
            Variable(
                scale_id=scale.id,
                column=variable_column(scale.id, item.id),
                item_id=item.id,
                kind=item.kind,
                label=item.label,
                min=item.values[0] if item.values else None,
                max=item.values[-1] if item.values else None,
                value_labels={v: t for v, t in labels.items() if t is not None},
            )
        )
    for comp in (*scale.composites, *scale.across_sessions):
        out.append(
            Variable(
                scale_id=scale.id,
                column=variable_column(scale.id, comp.id),
                item_id=comp.id,
                kind="composite",
                label=comp.label,
                composite_of=comp.items,
                previous_session=comp.previous_session,
            )
        )
    return tuple(out)


#: What an empty cell of a variable means, by kind (the codebook's ``missing``).
MISSING_DOCS: Mapping[str, str] = {
    "item": (
        "empty when not scored: the coding is uncodable (state uncodable, reason in "
        "uncodable), the item is not in the scale version coded (scale_version), or "
        "the rater left it blank"
    ),
    "text": (
        "empty when no answer was given, the coding is uncodable, or the item is not "
        "in the scale version coded"
    ),
    "composite": "empty when any of its items is empty (or the coding is uncodable)",
    "across_sessions": (
        "empty when any of its items is empty in this session's or (for the items taken "
        "from it) the previous session's final scores, or there is no previous session"
    ),
}


def scale_sha256(scale: RatingScale) -> str:
    """The SHA-256 of a scale file as stored with the project (its YAML text)."""
    return hashlib.sha256(scale.source.encode("utf-8")).hexdigest()


def _variables_frame(
    variables: Sequence[Variable],
    definitions: Mapping[int, RatingScale],
    newest: Sequence[RatingScale],
    coded_pks: Collection[int],
) -> pd.DataFrame:
    """The codebook: one row per variable, with the scale versions it was coded under.

    The versions of a variable are the stored versions of its scale that define it
    and have finished codings in the export (the newest version when nothing is
    coded yet): ``scale_version`` and ``scale_sha256`` give the newest of them,
    ``other_versions`` the older ones as ``version: sha256`` (``; ``-separated).
    """
    versions: dict[str, list[RatingScale]] = {}
    for pk, definition in definitions.items():
        if pk in coded_pks:
            versions.setdefault(definition.id, []).append(definition)
    for scale in newest:
        versions.setdefault(scale.id, [scale])
    by_version = {(d.id, d.version): d for d in (*definitions.values(), *newest)}
    rows = []
    for v in variables:
        composite = description = ""
        defining = [
            d
            for d in versions.get(v.scale_id, [])
            if any(x.item_id == v.item_id for x in scale_variables(d))
        ] or [by_version[(s.id, s.version)] for s in newest if s.id == v.scale_id]
        defining.sort(key=lambda d: d.version)
        if v.kind == "composite":
            last = defining[-1]
            comp = next(c for c in (*last.composites, *last.across_sessions) if c.id == v.item_id)
            composite = f"{comp.method} of " + ", ".join(v.composite_of)
            missing = MISSING_DOCS["composite"]
            if comp.previous_session:
                composite = across_session_rule(comp)
                missing = MISSING_DOCS["across_sessions"]
        else:
            item = next((i for i in defining[-1].items if i.id == v.item_id), None)
            description = item.description if item is not None else ""
            missing = MISSING_DOCS["text" if v.kind == ItemKind.TEXT else "item"]
        rows.append(
            (
                v.scale_id,
                v.column,
                v.item_id,
                v.kind,
                v.label,
                description or None,
                v.min,
                v.max,
                "; ".join(f"{k} = {t}" for k, t in v.value_labels.items()) or None,
                composite or None,
                missing,
                defining[-1].version,
                scale_sha256(defining[-1]),
                "; ".join(f"{d.version}: {scale_sha256(d)}" for d in defining[:-1]) or None,
            )
        )
    frame = pd.DataFrame.from_records(rows, columns=list(VARIABLE_COLUMNS))
    for col in ("min", "max", "scale_version"):
        frame[col] = frame[col].astype("Int64")
    return frame


def guess_safe(frame: pd.DataFrame, guess: int = GUESS_ROWS) -> pd.DataFrame:
    """``frame`` with every column's first value among its first ``guess`` rows.

    R's readxl and readr guess a column's type from its first 1,000 rows
    (``guess_max``); a column empty there is guessed logical, and readxl then reads a
    later score of 0 as FALSE and 1-4 as TRUE without a warning (readr gives NA). So
    a table is written in its own order except that, for each column whose first
    value lies beyond the first ``guess`` rows, the row holding that value is moved
    up to just before row ``guess`` (the rows it passes move one down). A table of
    at most ``guess`` rows, or with no such column, is returned as it is.
    """
    n = len(frame)
    if n <= guess or frame.shape[1] == 0:
        return frame
    order = np.arange(n)
    for _ in range(8):  # a lifted row can push another column's only early value out
        present = frame.iloc[order].notna().to_numpy()
        late = ~present[:guess].any(axis=0) & present.any(axis=0)
        if not late.any():
            break
        lifted: list[int] = []
        for j in np.flatnonzero(late):
            first = int(np.flatnonzero(present[:, j])[0])
            if first not in lifted:
                lifted.append(first)
        lifted = sorted(lifted)[:guess]
        at = guess - len(lifted)
        rest = np.setdiff1d(np.arange(at, n), lifted, assume_unique=True)
        order = np.concatenate([order[:at], order[lifted], order[rest]])
    if (order == np.arange(n)).all():
        return frame
    return frame.iloc[order].reset_index(drop=True)


def _utc_times(values: pd.Series) -> pd.Series:
    """Stored time stamps (datetimes, or SQLite's ISO text) as naive UTC datetime64."""
    cleaned = [
        v.astimezone(UTC).replace(tzinfo=None)
        if isinstance(v, datetime) and v.tzinfo is not None
        else v
        for v in values
    ]
    stamps = pd.to_datetime(pd.Series(cleaned, dtype=object), format="ISO8601", errors="coerce")
    return stamps.astype("datetime64[us]")


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


class _Steps:
    """Progress and cancellation between the steps of a build."""

    def __init__(self, progress: Progress | None, cancelled: Cancelled | None) -> None:
        self._progress = progress
        self._cancelled = cancelled
        self._last = 0.0

    def at(self, fraction: float) -> None:
        if self._cancelled is not None and self._cancelled():
            raise ExportCancelled("the export was cancelled; nothing was written")
        fraction = min(1.0, max(self._last, fraction))
        self._last = fraction
        if self._progress is not None:
            self._progress(fraction)


# --------------------------------------------------------------------------- reading


def _read(
    project: Project,
    chosen: Sequence[str],
    *,
    include_audio_paths: bool,
    include_metadata: bool,
) -> ExportRows:
    """The export's rows (:func:`coder.store.queries.export_rows`), columns typed."""
    raw = export_rows(
        project,
        chosen,
        include_audio_paths=include_audio_paths,
        include_metadata=include_metadata,
    )
    codings = raw.codings
    codings["submitted_at"] = _utc_times(codings["submitted_at"])
    codings["session_number"] = codings["session_number"].astype("Int64")
    codings["queue_position"] = codings["queue_position"].astype("Int64")
    codings["training_session"] = codings["training_session"].astype(bool)
    raw.ratings["value"] = raw.ratings["value"].astype("float64")
    return raw


# --------------------------------------------------------------------------- building


def build_export_bundle(
    project: Project,
    *,
    scale_ids: Sequence[str] | None = None,
    final: FinalRule = "primary",
    winsorize_iqr: float | None = None,
    include_audio_paths: bool = False,
    include_metadata: bool = False,
    layout: Layout = "session",
    descriptives_by: DescriptivesBy = "scale",
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> ExportBundle:
    """Build every analysis table of a project (see the module docstring).

    Args:
        project: The open project.
        scale_ids: Scales to export (default: every scale of the project, in the
            order they were added).
        final: How the ``final`` table gets one row per session: ``"primary"`` (the
            primary coder's scores) or ``"mean"`` (the mean of the submitted analysis
            codings, item by item) or ``"consensus"`` (the consensus scores recorded
            for double-coded sessions with :func:`coder.consensus.record_consensus`;
            every item without one falls back to the ``"mean"`` rule: the pair mean on
            double-coded sessions, the only coder's score elsewhere). Reliability is
            always computed from the independent scores, whatever the rule.
        winsorize_iqr: K; when given, ``final`` is winsorized by :func:`winsorize`
            (per scale, session number and item; composites recomputed), the values
            changed are counted in ``winsorizing`` and as ``adjusted_n`` in
            ``descriptives``.
        include_audio_paths: Add the ``audio_path`` column to ``scores`` and ``final``.
        include_metadata: Add the session ``date`` and the manifest's further columns
            (``meta_<key>``) to ``scores`` and ``final``.
        layout: ``"patient"`` adds the ``patients`` table (:func:`patient_table`);
            ``"session"`` (the default) leaves it empty.
        descriptives_by: ``"session_number"`` adds the ``descriptives_by_session``
            table (:func:`descriptives_by_session`); ``"scale"`` (the default) leaves
            it empty.
        progress: Called with the fraction done, 0.0 to 1.0.
        cancelled: Polled between steps; True stops the build.

    Returns:
        The :class:`ExportBundle`.

    Raises:
        InputError: An unknown scale, final rule or K.
        ExportCancelled: ``cancelled()`` returned True.
    """
    if final not in get_args(FinalRule):
        raise InputError(f"final must be primary, mean or consensus, not {final!r}")
    if winsorize_iqr is not None and (
        isinstance(winsorize_iqr, bool)
        or not math.isfinite(float(winsorize_iqr))
        or float(winsorize_iqr) < 0
    ):
        raise InputError(
            f"the winsorizing factor K must be a number of IQRs of 0 or more (e.g. 1.5), "
            f"not {winsorize_iqr!r}"
        )
    if layout not in get_args(Layout):
        raise InputError(f"layout must be session or patient, not {layout!r}")
    if descriptives_by not in get_args(DescriptivesBy):
        raise InputError(f"descriptives by: use scale or session_number, not {descriptives_by!r}")
    steps = _Steps(progress, cancelled)
    steps.at(0.0)
    scales = _choose_scales(project, scale_ids)
    chosen = [s.id for s in scales]
    # A coding points at the scale version it was made with; composites are derived
    # here from its item scores with the definition the lead chose (the newest
    # version's by default), dropped items left out (coder.scale_analysis). The
    # columns follow the newest version.
    definitions, analyses = analysis_definitions(project, chosen)
    scales = [analyses[s.id].apply(s, s) for s in scales]
    options = ExportOptions(
        scale_ids=tuple(chosen),
        final=final,
        winsorize_iqr=None if winsorize_iqr is None else float(winsorize_iqr),
        include_audio_paths=include_audio_paths,
        include_metadata=include_metadata,
        layout=layout,
        descriptives_by=descriptives_by,
    )
    variables_by_scale = unique_columns(
        {scale.id: _with_old_items(scale, definitions) for scale in scales}
    )
    steps.at(0.05)
    raw = _read(
        project,
        chosen,
        include_audio_paths=include_audio_paths,
        include_metadata=include_metadata,
    )
    steps.at(0.35)
    versions = {pk: d.version for pk, d in definitions.items()}
    raw.codings["scale_version"] = raw.codings["scale_pk"].map(versions).astype("Int64")
    codings = _prepare_codings(raw.codings, raw.facts, chosen)
    excluded = _excluded_counts(codings, chosen)
    version_counts = _version_counts(codings, definitions)
    extra_columns = _extra_session_columns(
        codings,
        include_audio_paths,
        include_metadata,
        entered_values(project) if include_metadata else None,
    )
    plan = _plan(codings)
    finished = codings[codings["state"].isin(list(FINISHED_STATUSES))].reset_index(drop=True)
    steps.at(0.4)
    scores = _scores(finished, raw.ratings, variables_by_scale, definitions, extra_columns)
    steps.at(0.55)
    long = _long(scores, variables_by_scale)
    steps.at(0.62)
    pairs = _pairs(scores, variables_by_scale)
    steps.at(0.68)
    if final == "consensus":
        from coder.consensus import consensus_scores

        final_table = _final(scores, variables_by_scale, "mean", extra_columns)
        final_table = _apply_consensus(
            final_table, consensus_scores(project), scales, variables_by_scale
        )
    else:
        final_table = _final(scores, variables_by_scale, final, extra_columns)
    final_table = _across_sessions(final_table, scales, variables_by_scale)
    steps.at(0.72)
    coded = final_table
    winsorizing = _empty(WINSOR_COLUMNS)
    if options.winsorize_iqr is not None:
        final_table, winsorizing = winsorize(
            coded, scales, variables_by_scale, options.winsorize_iqr
        )
        # The composites spanning two sessions follow the winsorized items too.
        final_table = _across_sessions(final_table, scales, variables_by_scale)
        winsorizing = _count_across_sessions(winsorizing, coded, final_table, variables_by_scale)
    descriptives = _descriptives(coded, final_table, variables_by_scale, winsorizing)
    by_session = (
        descriptives_by_session(
            coded,
            final_table,
            variables_by_scale,
            TUKEY_K if options.winsorize_iqr is None else options.winsorize_iqr,
        )
        if descriptives_by == "session_number"
        else _empty(DESCRIPTIVE_BY_SESSION_COLUMNS)
    )
    patients = (
        patient_table(final_table, variables_by_scale)
        if layout == "patient"
        else _empty(PATIENT_COLUMNS)
    )
    steps.at(0.78)
    reliability, reliability_pairs, reliability_pair_summary, studies = _reliability(
        scores, scales, variables_by_scale
    )
    methods = _methods(project, scales, studies, scores)
    steps.at(0.92)
    windows = _coding_windows(project, finished, definitions)
    notes = _notes(_flag_window(raw.notes, windows, "position_ms"), finished)
    spans = _spans(_flag_window(raw.spans, windows, "start_ms", "end_ms"), finished)
    attrition = project_attrition(project, chosen)
    uncodable, uncodable_counts = _uncodable(finished, _without_audio_rows(attrition))
    all_variables = [v for vs in variables_by_scale.values() for v in vs]
    bundle = ExportBundle(
        options=options,
        project_name=project.name,
        created_at=datetime.now(UTC),
        app_version=app_version(),
        scales=tuple(scales),
        variables=_variables_frame(
            all_variables, definitions, scales, set(finished["scale_pk"].astype(int))
        ),
        scores=scores.drop(columns=["_analysis", "_reliability", "_primary", "_coding_id"]),
        long=guess_safe(long),
        pairs=pairs,
        final=final_table,
        reliability=guess_safe(reliability),
        descriptives=guess_safe(descriptives),
        descriptives_by_session=guess_safe(by_session),
        notes=guess_safe(notes),
        spans=guess_safe(spans),
        uncodable=guess_safe(uncodable),
        uncodable_counts=uncodable_counts,
        plan=guess_safe(plan),
        excluded=excluded,
        variables_by_scale=variables_by_scale,
        winsorizing=guess_safe(winsorizing),
        version_ids={
            (d.id, d.version): frozenset(
                [
                    *(item.id for item in d.items),
                    *(c.id for c in (*d.composites, *d.across_sessions)),
                ]
            )
            for d in definitions.values()
        },
        patients=guess_safe(patients),
        analyses=analyses,
        versions=version_counts,
        attrition=attrition.scales,
        reliability_pairs=guess_safe(reliability_pairs),
        reliability_pair_summary=guess_safe(reliability_pair_summary),
        methods=methods,
        window_exits=_window_exits(project, chosen, finished),
    )
    steps.at(1.0)
    return bundle


def _choose_scales(project: Project, scale_ids: Sequence[str] | None) -> list[RatingScale]:
    if scale_ids is None:
        scales = project.scales()
        if not scales:
            raise InputError("the project has no scales yet; add one with session-coder scales add")
        return scales
    if isinstance(scale_ids, str):
        scale_ids = [scale_ids]
    if not scale_ids:
        raise InputError("choose at least one scale to export")
    return [project.scale(sid) for sid in _unique(scale_ids)]


def _with_old_items(
    scale: RatingScale, definitions: Mapping[int, RatingScale]
) -> tuple[Variable, ...]:
    """The newest version's columns, then any item or composite only older versions had."""
    out = list(scale_variables(scale))
    seen = {v.item_id for v in out}
    for definition in definitions.values():
        if definition.id != scale.id or definition.version == scale.version:
            continue
        for v in scale_variables(definition):
            if v.item_id not in seen:
                out.append(v)
                seen.add(v.item_id)
    return tuple(out)


def _prepare_codings(
    codings: pd.DataFrame, facts: Sequence[CodingFact], chosen: Sequence[str]
) -> pd.DataFrame:
    """Order the codings and mark what :func:`analysis_codings` decided about each.

    ``facts`` are the facts of the rows of ``codings``. The columns added only carry
    the rule's answer into the tables: ``_analysis`` (counted), ``_reliability`` (in
    its session's reliability pair), ``_primary`` (the session's primary coding) and
    ``double_coded``.
    """
    codings = codings.copy()
    codings["_scale_order"] = codings["scale_id"].map({sid: i for i, sid in enumerate(chosen)})
    codings = codings.sort_values(
        ["_scale_order", "session_pk", "rater", "coding_id"], kind="stable"
    ).reset_index(drop=True)
    decided = analysis_codings(facts)
    double = {(c.scale_id, c.session) for c in decided.double_coded()}
    primary = {c.primary.coding_id for c in decided.sessions.values() if c.primary is not None}
    codings["_analysis"] = codings["coding_id"].isin(list(decided.counted_ids)).astype(bool)
    codings["_reliability"] = codings["coding_id"].isin(list(decided.reliability_ids)).astype(bool)
    codings["_primary"] = codings["coding_id"].isin(list(primary)).astype(bool)
    codings["double_coded"] = pd.Series(
        [(s, k) in double for s, k in zip(codings["scale_id"], codings["session_id"], strict=True)],
        index=codings.index,
        dtype=bool,
    )
    return codings


def _version_counts(
    codings: pd.DataFrame, definitions: Mapping[int, RatingScale]
) -> dict[str, str]:
    """Per scale, its finished codings by the version they were coded under, and the
    lead's re-codes (for the document; the rule is coder.analysis_set's)."""
    finished = codings[codings["state"].isin(list(FINISHED_STATUSES))]
    out: dict[str, str] = {}
    for sid, rows in finished.groupby("scale_id", sort=False):
        by_version: dict[int, int] = {}
        for pk in rows["scale_pk"]:
            version = definitions[int(pk)].version
            by_version[version] = by_version.get(version, 0) + 1
        text = ", ".join(f"{n} under version {v}" for v, n in sorted(by_version.items()))
        recodes = int(rows["recode_of"].notna().sum()) if "recode_of" in rows else 0
        if recodes:
            text += (
                f"; {recodes} finished re-code(s), each counting in place of the coding it re-codes"
            )
        out[str(sid)] = f"{sid}: {text}"
    return out


def _excluded_counts(codings: pd.DataFrame, chosen: Sequence[str]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for sid in chosen:
        rows = codings[codings["scale_id"] == sid]
        out[sid] = {
            state: int((rows["state"] == state).sum())
            for state in (CodingStatus.NOT_STARTED, CodingStatus.IN_PROGRESS)
        }
    return out


def _extra_session_columns(
    codings: pd.DataFrame,
    include_audio_paths: bool,
    include_metadata: bool,
    entered: Mapping[str, Mapping[str, str]] | None = None,
) -> list[str]:
    """Add the opt-in session columns to ``codings`` in place; returns their names.

    ``entered`` holds the values the lead entered for raters
    (:mod:`coder.prepared_fields`, session key -> field -> text); with
    ``include_metadata`` they are exported as ``meta_<field>`` as the manifest's
    columns are, the entered value over the manifest's.
    """
    extra: list[str] = []
    if include_metadata:
        extra.append("date")
        # A real date (the importer stores YYYY-MM-DD); a blank or odd one is missing.
        codings["date"] = pd.to_datetime(
            codings["date"].replace("", None), format="%Y-%m-%d", errors="coerce"
        ).astype("datetime64[s]")
        parsed = [
            {**json.loads(text or "{}"), **(entered or {}).get(str(key), {})}
            for text, key in zip(codings["metadata_json"], codings["session_id"], strict=True)
        ]
        keys = _unique(k for meta in parsed for k in meta)
        for key in keys:
            name = f"meta_{key}"
            codings[name] = pd.Series(
                [_meta_text(meta.get(key)) for meta in parsed], index=codings.index, dtype="str"
            )
            extra.append(name)
    if include_audio_paths:
        extra.append("audio_path")
    return extra


def _meta_text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


def _plan(codings: pd.DataFrame) -> pd.DataFrame:
    plan = codings.sort_values(
        ["_scale_order", "rater", "queue_position", "session_pk"], kind="stable"
    )
    return plan.loc[:, list(PLAN_COLUMNS)].reset_index(drop=True)


def _scores(
    finished: pd.DataFrame,
    ratings: pd.DataFrame,
    variables_by_scale: Mapping[str, tuple[Variable, ...]],
    definitions: Mapping[int, RatingScale],
    extra_columns: Sequence[str],
) -> pd.DataFrame:
    all_vars = [v for vs in _per_coding(variables_by_scale).values() for v in vs]
    numeric_items = _unique(v.column for v in all_vars if v.is_numeric and v.kind != "composite")
    text_items = _unique(v.column for v in all_vars if not v.is_numeric)
    composites = _unique(v.column for v in all_vars if v.kind == "composite")
    columns_of = {(v.scale_id, v.item_id): v.column for v in all_vars}

    ids = finished["coding_id"].to_numpy()
    submitted = (finished["state"] == CodingStatus.SUBMITTED).to_numpy()
    wide = pd.DataFrame(index=pd.Index(ids, name="coding_id"))
    if not ratings.empty:
        ratings = ratings[ratings["coding_id"].isin(ids[submitted])]
        # Each rating's column (variable_column); an item of no exported version is dropped.
        scale_of = pd.DataFrame(
            {"coding_id": ids, "scale_id": finished["scale_id"].to_numpy(dtype=object)}
        )
        column_of = pd.DataFrame(
            [(sid, item, col) for (sid, item), col in columns_of.items()],
            columns=["scale_id", "item_id", "column"],
        )
        ratings = ratings.merge(scale_of, on="coding_id", how="inner").merge(
            column_of, on=["scale_id", "item_id"], how="inner"
        )
        is_text = ratings["text"].notna()
        num = ratings[~is_text]
        if not num.empty:
            wide = wide.join(num.pivot(index="coding_id", columns="column", values="value"))
        txt = ratings[is_text]
        if not txt.empty:
            wide = wide.join(txt.pivot(index="coding_id", columns="column", values="text"))
    # Keep every column even if no coding scored it; drop stray items of no scale.
    for col in numeric_items:
        if col not in wide.columns:
            wide[col] = np.nan
        wide[col] = wide[col].astype("float64")
    for col in text_items:
        if col not in wide.columns:
            wide[col] = None
        # A text answer left empty is missing, as an answer never given is.
        given = wide[col].notna() & (wide[col].astype(object) != "")
        wide[col] = wide[col].astype("str").where(given, None)
    wide = wide.loc[:, [*numeric_items, *text_items]]

    comp_values: dict[str, np.ndarray] = {c: np.full(len(ids), np.nan) for c in composites}
    pk = finished["scale_pk"].to_numpy()
    for scale_pk in np.unique(pk):
        definition = definitions[int(scale_pk)]
        rows = np.flatnonzero((pk == scale_pk) & submitted)
        if rows.size == 0 or not definition.composites:
            continue
        for comp in definition.composites:
            cols = [columns_of.get((definition.id, i), i) for i in comp.items]
            # Composite.compute is the one definition of a composite; it wants None for
            # a blank item, so the NaNs of the block become None first.
            block = wide[cols].to_numpy(dtype="float64")[rows]
            columns = [[None if x != x else x for x in c.tolist()] for c in block.T]
            values = [
                comp.compute(dict(zip(comp.items, scores, strict=True)))
                for scores in zip(*columns, strict=True)
            ]
            target = columns_of[(definition.id, comp.id)]
            comp_values[target][rows] = [np.nan if v is None else v for v in values]

    base = finished.loc[:, [*SCORE_COLUMNS, *extra_columns]].reset_index(drop=True)
    body = wide.reset_index(drop=True)
    comp_frame = pd.DataFrame(comp_values, index=body.index)
    # The scale's own order: its items (numeric and text), then its composites.
    ordered: list[str] = []
    for v in all_vars:
        if v.column not in ordered:
            ordered.append(v.column)
    combined = pd.concat([body, comp_frame], axis=1)
    combined = combined.loc[:, [c for c in ordered if c in combined.columns]]
    scores = pd.concat([base, combined], axis=1)
    scores["_analysis"] = finished["_analysis"].to_numpy()
    scores["_reliability"] = finished["_reliability"].to_numpy()
    scores["_primary"] = finished["_primary"].to_numpy()
    scores["_coding_id"] = ids
    return scores


def _per_coding(
    variables_by_scale: Mapping[str, tuple[Variable, ...]],
) -> dict[str, tuple[Variable, ...]]:
    """The variables a single coding has: all but the composites spanning two sessions."""
    return {
        sid: tuple(v for v in vs if not v.across_sessions) for sid, vs in variables_by_scale.items()
    }


def _across_sessions(
    final: pd.DataFrame,
    scales: Sequence[RatingScale],
    variables_by_scale: Mapping[str, tuple[Variable, ...]],
) -> pd.DataFrame:
    """``final`` with its composites spanning two sessions (re)computed from its items.

    Each row's previous session is :func:`coder.scale_analysis.previous_rows`' (same
    scale and patient, session number minus one), and the value
    :func:`coder.scale_analysis.across_session_scores`'.
    """
    by_id = {scale.id: scale for scale in scales}
    wanted = [
        (sid, v)
        for sid, vs in variables_by_scale.items()
        for v in vs
        if v.across_sessions and sid in by_id
    ]
    if not wanted or final.empty:
        return final
    out = final.copy()
    previous = previous_rows(
        list(out["scale_id"]), list(out["patient"]), list(out["session_number"])
    )
    for sid, variables in variables_by_scale.items():
        scale = by_id.get(sid)
        if scale is None or not scale.across_sessions:
            continue
        items = {v.item_id: v.column for v in variables if v.is_numeric and v.kind != "composite"}
        values = {
            item: [None if x != x else float(x) for x in out[col].to_numpy(dtype="float64")]
            for item, col in items.items()
        }
        rows = [{item: values[item][r] for item in items} for r in range(len(out))]
        mine = (out["scale_id"] == sid).to_numpy()
        for comp in scale.across_sessions:
            column = next(v.column for v in variables if v.item_id == comp.id)
            scores = across_session_scores(comp, rows, previous)
            computed = np.array([np.nan if x is None else x for x in scores], dtype="float64")
            out[column] = np.where(mine, computed, out[column].to_numpy(dtype="float64"))
    return out


def _count_across_sessions(
    winsorizing: pd.DataFrame,
    coded: pd.DataFrame,
    final: pd.DataFrame,
    variables_by_scale: Mapping[str, tuple[Variable, ...]],
) -> pd.DataFrame:
    """``winsorizing`` with the values of composites spanning two sessions that the
    winsorized items changed counted (``adjusted_n`` of their ``composite`` rows)."""
    out = winsorizing.copy()
    numbers = final["session_number"]
    for sid, variables in variables_by_scale.items():
        mine = (final["scale_id"] == sid).to_numpy()
        for v in variables:
            if not v.across_sessions:
                continue
            before = coded[v.column].to_numpy(dtype="float64", na_value=np.nan)
            after = final[v.column].to_numpy(dtype="float64", na_value=np.nan)
            changed = mine & ~((before == after) | (np.isnan(before) & np.isnan(after)))
            rows = (out["scale_id"] == sid) & (out["variable"] == v.column)
            column = list(out.columns).index("adjusted_n")
            for i in np.flatnonzero(rows.to_numpy()):
                number = out["session_number"].iloc[int(i)]
                group = numbers.isna() if pd.isna(number) else numbers == number
                n = int((changed & group.fillna(False).to_numpy(dtype=bool)).sum())
                out.iat[int(i), column] = n
    return out


def _scale_rows(frame: pd.DataFrame, scale_id: str) -> pd.DataFrame:
    return frame[frame["scale_id"] == scale_id]


def _melt(sub: pd.DataFrame, scale_id: str, variables: Sequence[Variable]) -> pd.DataFrame:
    """Wide score rows of one scale as long rows, coding by coding in variable order."""
    n, m = len(sub), len(variables)
    numeric = np.full((n, m), np.nan)
    texts = np.full((n, m), None, dtype=object)
    for j, v in enumerate(variables):
        if v.is_numeric:
            numeric[:, j] = sub[v.column].to_numpy(dtype="float64", na_value=np.nan)
        else:
            texts[:, j] = sub[v.column].astype(object).to_numpy()
    return pd.DataFrame(
        {
            "scale_id": np.full(n * m, scale_id, dtype=object),
            "session_id": np.repeat(sub["session_id"].to_numpy(dtype=object), m),
            "patient": np.repeat(sub["patient"].to_numpy(dtype=object), m),
            "therapist": np.repeat(sub["therapist"].to_numpy(dtype=object), m),
            "session_number": np.repeat(sub["session_number"].to_numpy(dtype=object), m),
            "phase": np.repeat(sub["phase"].to_numpy(dtype=object), m),
            "rater": np.repeat(sub["rater"].to_numpy(dtype=object), m),
            "item_id": np.tile(np.array([v.item_id for v in variables], dtype=object), n),
            "variable": np.tile(np.array([v.column for v in variables], dtype=object), n),
            "kind": np.tile(np.array([v.long_kind for v in variables], dtype=object), n),
            "value": numeric.ravel(),
            "text": texts.ravel(),
        }
    )


def _long(
    scores: pd.DataFrame, variables_by_scale: Mapping[str, tuple[Variable, ...]]
) -> pd.DataFrame:
    parts = []
    for scale_id, variables in _per_coding(variables_by_scale).items():
        sub = _scale_rows(scores, scale_id)
        sub = sub[sub["state"] == CodingStatus.SUBMITTED]
        if not sub.empty and variables:
            parts.append(_melt(sub, scale_id, variables))
    if not parts:
        out = _empty(LONG_COLUMNS)
        out["value"] = out["value"].astype("float64")
        out["session_number"] = out["session_number"].astype("Int64")
        return out
    out = pd.concat(parts, ignore_index=True)
    for col in ("scale_id", "session_id", "patient", "therapist", "phase", "rater"):
        out[col] = out[col].astype("str").where(out[col].notna(), None)
    for col in ("item_id", "variable", "kind", "text"):
        out[col] = out[col].astype("str").where(out[col].notna(), None)
    out["session_number"] = pd.array(
        [None if pd.isna(v) else int(v) for v in out["session_number"]], dtype="Int64"
    )
    return out


def _reliability_codings(scores: pd.DataFrame) -> pd.DataFrame:
    """The two reliability coders of every double-coded session (``analysis_codings``)."""
    return scores[scores["_reliability"]]


def _pairs(
    scores: pd.DataFrame, variables_by_scale: Mapping[str, tuple[Variable, ...]]
) -> pd.DataFrame:
    parts = []
    all_columns: list[str] = list(PAIR_COLUMNS)
    for scale_id, variables in _per_coding(variables_by_scale).items():
        numeric = [v.column for v in variables if v.is_numeric]
        for col in numeric:
            for suffix in ("_A", "_B"):
                if col + suffix not in all_columns:
                    all_columns.append(col + suffix)
        sub = _reliability_codings(_scale_rows(scores, scale_id))
        if sub.empty:
            continue
        keep = sub.loc[:, ["session_id", "rater", "_coding_id", *numeric]]
        merged = keep.merge(keep, on="session_id", suffixes=("_A", "_B"))
        merged = merged[merged["rater_A"] < merged["rater_B"]]
        order = {sid: i for i, sid in enumerate(dict.fromkeys(keep["session_id"]))}
        merged = merged.assign(_order=merged["session_id"].map(order)).sort_values(
            ["_order", "rater_A", "rater_B"], kind="stable"
        )
        merged.insert(0, "scale_id", scale_id)
        parts.append(merged)
    if not parts:
        return _empty(all_columns)
    out = pd.concat(parts, ignore_index=True)
    return out.reindex(columns=all_columns)


# The final_source of a row without scores (row_missing_reasons reads them).
_NONE_PRIMARY_UNCODABLE = "none: the primary coder {rater} marked it uncodable"
_NONE_ALL_UNCODABLE = "none: no submitted coding (every coding was marked uncodable)"
_NONE_NO_PRIMARY = "none: no submitted primary coding"

MissingReason = Literal["not_administered", "uncodable", "left_blank"]
MISSING_REASONS: dict[str, str] = {
    "not_administered": (
        "not administered: no coding of this scale for the session (yet), an item the "
        "scale version coded did not have, (patient layout) no such session, or (a "
        "composite spanning two sessions) no previous session's score to pair with"
    ),
    "uncodable": "uncodable: the coding (or every counted coding) was marked uncodable",
    "left_blank": "left blank: the coding was submitted without this score",
}


def row_missing_reasons(frame: pd.DataFrame) -> list[MissingReason | None]:
    """Why each row of ``scores``, ``final`` or ``pairs`` has no scores (None: it has).

    ``scores`` rows (with ``state``): ``uncodable`` for an uncodable coding. ``final``
    rows (with ``final_source``): ``uncodable`` when the primary coder (primary rule)
    or every counted coder (mean and consensus rules) marked the session uncodable,
    ``not_administered`` when the primary coding is not finished yet. A blank score
    in a row that has scores is ``left_blank``, decided by the caller per cell.
    """
    if "state" in frame.columns:
        return [
            "uncodable" if state == CodingStatus.UNCODABLE else None for state in frame["state"]
        ]
    if "final_source" in frame.columns:
        out: list[MissingReason | None] = []
        for source in frame["final_source"]:
            text = str(source)
            if not text.startswith("none:"):
                out.append(None)
            elif text == _NONE_NO_PRIMARY:
                out.append("not_administered")
            else:
                out.append("uncodable")
        return out
    return [None] * len(frame)


def _final(
    scores: pd.DataFrame,
    variables_by_scale: Mapping[str, tuple[Variable, ...]],
    rule: FinalRule,
    extra_columns: Sequence[str],
) -> pd.DataFrame:
    parts = []
    all_numeric = _unique(
        v.column for vs in variables_by_scale.values() for v in vs if v.is_numeric
    )
    columns = [*FINAL_COLUMNS, *extra_columns, *all_numeric]
    for scale_id, variables in _per_coding(variables_by_scale).items():
        numeric = [v.column for v in variables if v.is_numeric]
        sub = _scale_rows(scores, scale_id)
        sub = sub[sub["_analysis"]]
        if sub.empty:
            continue
        sessions = sub.drop_duplicates("session_id").loc[:, [*SESSION_COLUMNS, *extra_columns]]
        sessions = sessions.set_index("session_id", drop=False)
        done = sub[sub["state"] == CodingStatus.SUBMITTED]
        n_coders = done.groupby("session_id")["rater"].count()
        if rule == "mean":
            values = done.groupby("session_id", sort=False)[numeric].mean()
            names = done.groupby("session_id", sort=False)["rater"].agg(list)
            source = pd.Series(
                {
                    sid: (f"mean of {', '.join(rs)}" if len(rs) > 1 else f"{rs[0]} (only coder)")
                    for sid, rs in names.items()
                },
                dtype="str",
            )
        else:
            primary = sub[sub["_primary"]].set_index("session_id")
            ok = primary[primary["state"] == CodingStatus.SUBMITTED]
            values = ok[numeric]
            source = pd.Series(
                {sid: f"{r} (primary)" for sid, r in ok["rater"].items()}, dtype="str"
            )
            not_submitted = primary.loc[primary["state"] != CodingStatus.SUBMITTED, "rater"]
            for sid, rater in not_submitted.items():
                source.loc[str(sid)] = _NONE_PRIMARY_UNCODABLE.format(rater=rater)
        frame = sessions.copy()
        frame["n_coders"] = n_coders.reindex(frame.index).fillna(0).astype("Int64")
        frame["final_source"] = source.reindex(frame.index)
        missing = frame["final_source"].isna()
        frame.loc[missing, "final_source"] = (
            _NONE_ALL_UNCODABLE if rule == "mean" else _NONE_NO_PRIMARY
        )
        frame = frame.join(values.reindex(frame.index))
        parts.append(frame.reset_index(drop=True))
    if not parts:
        return _empty(columns)
    out = pd.concat(parts, ignore_index=True).reindex(columns=columns)
    out["final_source"] = out["final_source"].astype("str")
    for col in all_numeric:
        out[col] = out[col].astype("float64")
    return out


def _apply_consensus(
    final: pd.DataFrame,
    consensus: pd.DataFrame,
    scales: Sequence[RatingScale],
    variables_by_scale: Mapping[str, tuple[Variable, ...]],
) -> pd.DataFrame:
    """Put recorded consensus scores over the mean-rule final values.

    Composites of a row with any consensus score are recomputed from its final item
    values (with the newest definition of the scale, whose columns the table has).
    """
    if consensus.empty or final.empty:
        return final
    final = final.copy()
    by_scale = {scale.id: scale for scale in scales}
    for scale_id, variables in variables_by_scale.items():
        agreed = consensus[consensus["scale_id"] == scale_id]
        if agreed.empty:
            continue
        column_of = {
            v.item_id: v.column for v in variables if v.is_numeric and v.kind != "composite"
        }
        scale = by_scale.get(scale_id)
        definitions = {c.id: c for c in scale.composites} if scale is not None else {}
        composites = [v for v in variables if v.kind == "composite" and v.item_id in definitions]
        rows = {
            sid: int(i)
            for i, sid in zip(
                np.flatnonzero((final["scale_id"] == scale_id).to_numpy()),
                final.loc[final["scale_id"] == scale_id, "session_id"],
                strict=True,
            )
        }
        position = {str(name): i for i, name in enumerate(final.columns)}
        changed: dict[int, list[str]] = {}
        for session_id, item_id, value in zip(
            agreed["session_id"], agreed["item_id"], agreed["value"], strict=True
        ):
            row = rows.get(session_id)
            column = column_of.get(item_id)
            if row is None or column is None:
                continue  # a session no longer in the analysis, or an item since dropped
            final.iat[row, position[column]] = float(value)
            changed.setdefault(row, []).append(str(item_id))
        for row, items in changed.items():
            values = {
                item_id: (None if pd.isna(x := final.iloc[row][col]) else float(x))
                for item_id, col in column_of.items()
            }
            for v in composites:
                result = definitions[v.item_id].compute(values)
                final.iat[row, position[v.column]] = np.nan if result is None else result
            before = final.iloc[row]["final_source"]
            final.iat[row, position["final_source"]] = (
                f"consensus on {', '.join(items)}; otherwise {before}"
            )
    return final


WHOLE_NUMBER_WINSOR_KINDS = (ItemKind.ORDINAL, ItemKind.COUNT)
WINSOR_RULES: dict[str, str] = {
    "continuous": "values beyond a fence set to the fence",
    "whole": (
        "values beyond a fence set to the nearest whole number inside the fences "
        "(lower fence rounded up, upper fence rounded down)"
    ),
    "nominal": "not winsorized: nominal categories have no order",
    "composite": "recomputed from the winsorized items (the scale's composite rule)",
}


#: Tukey's K: the fences of the outlier counts when no winsorizing K is given.
TUKEY_K = 1.5


@dataclass(frozen=True)
class Fences:
    """Tukey's fences of some values: quartiles (R type 7) and Q1 - K x IQR, Q3 + K x IQR."""

    q1: float
    q3: float
    k: float
    lower: float
    upper: float

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    def outside(self, values: np.ndarray) -> np.ndarray:
        """True where a value lies beyond a fence (NaN never does)."""
        with np.errstate(invalid="ignore"):
            return np.asarray((values < self.lower) | (values > self.upper), dtype=bool)


def tukey_fences(values: np.ndarray, k: float) -> Fences | None:
    """The one fence rule of the exports: winsorizing, outlier counts, descriptives.

    Quartiles are interpolated linearly (R type 7, Excel QUARTILE.INC, numpy's and
    pandas' default); the fences are Q1 - K x IQR and Q3 + K x IQR (Tukey 1977, K = 1.5).

    Args:
        values: The values; NaN (missing) is left out.
        k: K, 0 or more.

    Returns:
        The fences, or None when no value is present.
    """
    present = values[~np.isnan(values)]
    if not present.size:
        return None
    q1, q3 = (float(q) for q in np.quantile(present, [0.25, 0.75]))
    iqr = q3 - q1
    return Fences(q1, q3, float(k), q1 - k * iqr, q3 + k * iqr)


def _session_groups(frame: pd.DataFrame) -> list[tuple[int | None, np.ndarray]]:
    """Row positions of ``frame`` per session number (None: sessions without one)."""
    numbers = frame["session_number"]
    out: list[tuple[int | None, np.ndarray]] = []
    for number in sorted({int(n) for n in numbers.dropna()}):
        out.append((number, np.flatnonzero((numbers == number).fillna(False).to_numpy())))
    blank = np.flatnonzero(numbers.isna().to_numpy())
    if blank.size:
        out.append((None, blank))
    return out


def winsorize(
    final: pd.DataFrame,
    scales: Sequence[RatingScale],
    variables_by_scale: Mapping[str, tuple[Variable, ...]],
    k: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Winsorize the final table at K x IQR, the way the source labs analyse sessions.

    Each session number's score is its own variable (Jungbluth & Shirk), so the
    quartiles and fences are computed per scale, session number and item (sessions
    without a number form one group of their own); quartiles are interpolated linearly
    (R type 7). A value below Q1 - K x IQR or above Q3 + K x IQR is pulled in:

    * duration items: to the fence itself;
    * ordinal and count items (whole numbers): to the nearest whole number inside the
      fences, so a 0-4 item never gets a fractional score from winsorizing (values
      that were already fractional, as the mean rule makes, stay as they were when
      inside the fences). When no whole number lies between the fences (an IQR of 0
      at a half point), the group is left as it is;
    * nominal items: not winsorized (categories have no order);
    * composites: not winsorized themselves, but recomputed from the winsorized
      items with the scale's one composite rule (:meth:`RatingScale.composite_scores`)
      in every row where one of the scale's items changed.

    Args:
        final: The final table (not changed).
        scales: The exported scales (their newest version, whose columns ``final`` has).
        variables_by_scale: The columns of each scale.
        k: K, 0 or more.

    Returns:
        The winsorized copy of ``final`` and the ``winsorizing`` table: one row per
        scale, session number and numeric variable with the quartiles, the fences,
        the values outliers were set to and ``adjusted_n``.
    """
    out = final.copy()
    by_id = {scale.id: scale for scale in scales}
    numbers = out["session_number"].to_numpy(dtype="float64", na_value=np.nan)
    rows: list[tuple[Any, ...]] = []
    for scale_id, variables in variables_by_scale.items():
        scale_rows = np.flatnonzero((out["scale_id"] == scale_id).to_numpy())
        if scale_rows.size == 0:
            continue
        numeric = [v for v in variables if v.is_numeric]
        data = {v.column: out[v.column].to_numpy(dtype="float64", copy=True) for v in numeric}
        changed_rows: set[int] = set()
        groups = _session_groups(out.iloc[scale_rows])
        items = [v for v in numeric if v.kind != "composite"]
        for number, positions in groups:
            at = scale_rows[positions]
            for v in items:
                x = data[v.column][at]
                present = x[~np.isnan(x)]
                q1 = q3 = iqr = lo = hi = low_to = high_to = math.nan
                fences = tukey_fences(x, k)
                if fences is not None:
                    q1, q3, iqr = fences.q1, fences.q3, fences.iqr
                    lo, hi = fences.lower, fences.upper
                rule = "continuous"
                if v.kind == ItemKind.NOMINAL:
                    rule = "nominal"
                elif v.kind in WHOLE_NUMBER_WINSOR_KINDS:
                    rule = "whole"
                adjusted = 0
                if present.size and rule != "nominal":
                    low_to, high_to = lo, hi
                    if rule == "whole":
                        low_to, high_to = float(math.ceil(lo)), float(math.floor(hi))
                    if low_to <= high_to:
                        new = x.copy()
                        low, high = x < lo, x > hi
                        new[low], new[high] = low_to, high_to
                        hit = np.flatnonzero((low | high) & (new != x))
                        adjusted = int(hit.size)
                        data[v.column][at[hit]] = new[hit]
                        changed_rows.update(int(t) for t in at[hit])
                    else:
                        low_to = high_to = math.nan
                rows.append(
                    (
                        scale_id,
                        number,
                        v.column,
                        v.long_kind,
                        rule,
                        int(present.size),
                        q1,
                        q3,
                        iqr,
                        k,
                        lo,
                        hi,
                        low_to,
                        high_to,
                        adjusted,
                    )
                )
        composites = [v for v in numeric if v.kind == "composite"]
        scale = by_id.get(scale_id)
        recomputed: dict[tuple[int | None, str], int] = {}
        if composites and scale is not None:
            for row in sorted(changed_rows):
                values = {
                    v.item_id: (None if math.isnan(x := float(data[v.column][row])) else x)
                    for v in items
                }
                computed = scale.composite_scores(values)
                for v in composites:
                    if v.item_id not in computed:
                        continue  # a composite only an older version had
                    result = computed[v.item_id]
                    new_value = math.nan if result is None else float(result)
                    old_value = float(data[v.column][row])
                    if old_value == new_value or (math.isnan(old_value) and math.isnan(new_value)):
                        continue
                    data[v.column][row] = new_value
                    number = None if math.isnan(numbers[row]) else int(numbers[row])
                    recomputed[(number, v.column)] = recomputed.get((number, v.column), 0) + 1
        for column, array in data.items():
            out[column] = array
        for number, positions in groups:
            for v in composites:
                x = data[v.column][scale_rows[positions]]
                rows.append(
                    (
                        scale_id,
                        number,
                        v.column,
                        v.long_kind,
                        "composite",
                        int((~np.isnan(x)).sum()),
                        *([math.nan] * 3),
                        k,
                        *([math.nan] * 4),
                        recomputed.get((number, v.column), 0),
                    )
                )
    table = _typed_frame(
        rows,
        WINSOR_COLUMNS,
        ints=("session_number", "n", "adjusted_n"),
        floats=WINSOR_COLUMNS[6:14],  # q1 ... set_high_to
    )
    return out, table


def _typed_frame(
    rows: Sequence[tuple[Any, ...]],
    columns: Sequence[str],
    *,
    ints: Sequence[str],
    floats: Sequence[str],
) -> pd.DataFrame:
    """A statistics table from row tuples: ``ints`` as nullable Int64, ``floats`` float64."""
    frame = pd.DataFrame.from_records(list(rows), columns=list(columns))
    for col in ints:
        frame[col] = pd.array(list(frame[col]), dtype="Int64")
    for col in floats:
        frame[col] = frame[col].astype("float64")
    return frame


def _summary(values: np.ndarray) -> tuple[Any, ...]:
    """n, mean, SD (n - 1), min, Q1, median, Q3, max and IQR of some values (NaN left out).

    Quartiles are interpolated linearly (R type 7, as :func:`tukey_fences`); a statistic
    with too few values is NaN.
    """
    present = values[~np.isnan(values)]
    n = int(present.size)
    if not n:
        return (0, *([math.nan] * 8))
    q1, median, q3 = (float(q) for q in np.quantile(present, [0.25, 0.5, 0.75]))
    return (
        n,
        float(present.mean()),
        float(present.std(ddof=1)) if n > 1 else math.nan,
        float(present.min()),
        q1,
        median,
        q3,
        float(present.max()),
        q3 - q1,
    )


def _descriptives(
    coded: pd.DataFrame,
    final: pd.DataFrame,
    variables_by_scale: Mapping[str, tuple[Variable, ...]],
    winsorizing: pd.DataFrame,
) -> pd.DataFrame:
    """Describe every numeric variable of ``final`` per scale.

    Quartiles are interpolated linearly (R's type 7, Excel's QUARTILE.INC, pandas'
    default). Outliers are counted on ``coded`` (the values before winsorizing, over
    all session numbers), beyond 1.5 x IQR; the other statistics describe ``final``
    (the values as exported). ``adjusted_n`` sums ``winsorizing`` over session numbers.
    """
    k = math.nan
    adjusted: dict[tuple[str, str], int] = {}
    if not winsorizing.empty:
        k = float(winsorizing["winsorize_k"].iloc[0])
        summed = winsorizing.groupby(["scale_id", "variable"], sort=False)["adjusted_n"].sum()
        adjusted = {
            (str(key[0]), str(key[1])): int(n)
            for key, n in summed.items()
            if isinstance(key, tuple)
        }
    rows = []
    for scale_id, variables in variables_by_scale.items():
        mask = (final["scale_id"] == scale_id).to_numpy()
        before_mask = (coded["scale_id"] == scale_id).to_numpy()
        for v in variables:
            if not v.is_numeric:
                continue
            present = final.loc[mask, v.column].to_numpy(dtype="float64", na_value=np.nan)
            before = coded.loc[before_mask, v.column].to_numpy(dtype="float64", na_value=np.nan)
            fences = tukey_fences(before, TUKEY_K)
            rows.append(
                (
                    scale_id,
                    v.column,
                    v.long_kind,
                    v.label,
                    *_summary(present),
                    0 if fences is None else int(fences.outside(before).sum()),
                    k,
                    adjusted.get((scale_id, v.column), 0),
                )
            )
    return _typed_frame(
        rows,
        DESCRIPTIVE_COLUMNS,
        ints=("n", "n_outliers", "adjusted_n"),
        floats=("mean", "sd", "min", "q1", "median", "q3", "max", "iqr", "winsorize_k"),
    )


def descriptives_by_session(
    coded: pd.DataFrame,
    final: pd.DataFrame,
    variables_by_scale: Mapping[str, tuple[Variable, ...]],
    k: float = TUKEY_K,
) -> pd.DataFrame:
    """Describe every numeric variable per scale and session number (``--by session_number``).

    The source labs treat each session number's score as its own variable (Jungbluth &
    Shirk), so n, mean, SD, the quartiles, min and max are given per scale, session
    number and item or composite (sessions without a number form one group of their
    own, ``session_number`` empty). They describe ``final`` (the values as exported,
    after any winsorizing); the fences and ``n_outliers`` are Tukey's
    (:func:`tukey_fences`, the winsorizing rule) on ``coded``, the values before any
    winsorizing, so they match the ``winsorizing`` table's fences when K is the same.

    Args:
        coded: The final table before winsorizing (the same rows as ``final``).
        final: The final table as exported.
        variables_by_scale: The columns of each scale.
        k: K of the fences: the winsorizing K when winsorizing, else Tukey's 1.5.

    Returns:
        One row per scale, session number and numeric variable
        (:data:`DESCRIPTIVE_BY_SESSION_COLUMNS`).
    """
    rows: list[tuple[Any, ...]] = []
    for scale_id, variables in variables_by_scale.items():
        scale_rows = np.flatnonzero((final["scale_id"] == scale_id).to_numpy())
        if scale_rows.size == 0:
            continue
        for number, positions in _session_groups(final.iloc[scale_rows]):
            at = scale_rows[positions]
            for v in variables:
                if not v.is_numeric:
                    continue
                x = final[v.column].to_numpy(dtype="float64", na_value=np.nan)[at]
                before = coded[v.column].to_numpy(dtype="float64", na_value=np.nan)[at]
                fences = tukey_fences(before, k)
                rows.append(
                    (
                        scale_id,
                        number,
                        v.column,
                        v.long_kind,
                        v.label,
                        *_summary(x),
                        float(k),
                        math.nan if fences is None else fences.lower,
                        math.nan if fences is None else fences.upper,
                        0 if fences is None else int(fences.outside(before).sum()),
                    )
                )
    return _typed_frame(
        rows,
        DESCRIPTIVE_BY_SESSION_COLUMNS,
        ints=("session_number", "n", "n_outliers"),
        floats=DESCRIPTIVE_BY_SESSION_COLUMNS[6:14] + ("fence_k", "lower_fence", "upper_fence"),
    )


def patient_table(
    final: pd.DataFrame, variables_by_scale: Mapping[str, tuple[Variable, ...]]
) -> pd.DataFrame:
    """The final scores one row per patient (``--layout patient``).

    Both source studies analyse one row per patient with each session's score as its
    own variable: every numeric variable of a scale becomes one column per session
    number, :func:`patient_column` (e.g. ``thabs_rationale_s1``), in the
    order scale, session number, variable. ``therapist`` lists the patient's
    therapists (``; `` between several). Patients come in the order of ``final``.

    Raises:
        InputError: A session without a session number, or two sessions of one
            patient with the same number on one scale (the layout has no place for
            them; the session layout exports them).
    """
    patients: tuple[str, ...] = _unique(p for p in final["patient"] if isinstance(p, str))
    therapists: dict[str, list[str]] = {p: [] for p in patients}
    for p, t in zip(final["patient"], final["therapist"], strict=True):
        if isinstance(p, str) and isinstance(t, str) and t not in therapists[p]:
            therapists[p].append(t)
    columns: dict[str, Any] = {
        "patient": pd.Series(patients, dtype=object),
        "therapist": pd.Series([("; ".join(therapists[p]) or None) for p in patients]),
    }
    index = {p: i for i, p in enumerate(patients)}
    for scale_id, variables in variables_by_scale.items():
        sub = final[final["scale_id"] == scale_id]
        unnumbered = sub.loc[sub["session_number"].isna(), "session_id"]
        if not unnumbered.empty:
            raise InputError(
                f"--layout patient needs a session number for every session; "
                f"{scale_id}: {', '.join(map(str, unnumbered.head(5)))} have none "
                f"(add them in the manifest, or export with --layout session)"
            )
        twice = sub[sub.duplicated(["patient", "session_number"], keep=False)]
        if not twice.empty:
            first = twice.iloc[0]
            same = twice[
                (twice["patient"] == first["patient"])
                & (twice["session_number"] == first["session_number"])
            ]
            raise InputError(
                f"--layout patient needs one session per patient and session number; "
                f"{scale_id}: patient {first['patient']} has sessions "
                f"{', '.join(map(str, same['session_id']))} all numbered "
                f"{int(first['session_number'])} (fix the manifest, or export with "
                f"--layout session)"
            )
        numeric = [v for v in variables if v.is_numeric]
        rows = np.array([index[p] for p in sub["patient"]], dtype=int)
        for number in sorted({int(n) for n in sub["session_number"]}):
            at = (sub["session_number"] == number).to_numpy()
            for v in numeric:
                values = np.full(len(patients), np.nan)
                values[rows[at]] = sub.loc[at, v.column].to_numpy(dtype="float64")
                columns[patient_column(v.column, number)] = values
    return pd.DataFrame(columns)


def patient_column(column: str, session_number: int) -> str:
    """A column of the ``patients`` table: the variable's column, ``_s<number>``.

    The variable's column is ``<scale>_<item>`` (:func:`variable_column`), so THABS'
    rationale in session 1 is ``thabs_rationale_s1``.
    """
    return f"{column}_s{session_number}"


def _reliability(
    scores: pd.DataFrame,
    scales: Sequence[RatingScale],
    variables_by_scale: Mapping[str, tuple[Variable, ...]],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, StudyReliability]]:
    """Flatten :func:`coder.reliability.study_reliability` per numeric variable.

    The input is the two reliability coders of every double-coded session (the rows
    of ``pairs``); the
    category range of ordinal and nominal items is their full scale range. Returns
    the reliability table, the per-pair table and the summary over pairs
    (:mod:`coder.reliability_tables`), all from one study per scale, and the studies
    (scale id -> study, for the methods paragraph).
    """
    studies: dict[str, StudyReliability] = {}
    rows: list[dict[str, Any]] = []
    pair_table: list[dict[str, Any]] = []
    summary_table: list[dict[str, Any]] = []
    analysis = _reliability_codings(scores)
    for scale in scales:
        variables = [
            v for v in variables_by_scale[scale.id] if v.is_numeric and not v.across_sessions
        ]
        sub = _scale_rows(analysis, scale.id)
        report: Mapping[str, ItemReliability] = {}
        study: StudyReliability | None = None
        if not sub.empty and variables:
            melted = _melt(sub, scale.id, variables)
            long_df = pd.DataFrame(
                {
                    "session_id": melted["session_id"],
                    "rater_id": melted["rater"],
                    "item_id": melted["item_id"],
                    "score": melted["value"],
                }
            )
            ranges = {
                v.item_id: (v.min, v.max)
                for v in variables
                if v.kind in (ItemKind.ORDINAL, ItemKind.NOMINAL)
                and v.min is not None
                and v.max is not None
            }
            composites = {c.id: c.items for c in scale.composites}
            study = study_reliability(
                long_df,
                ranges,
                composites=composites,
                scale_default=scale.reliability.icc,
                kinds={v.item_id: v.kind for v in variables},
                kappa_weights=scale.reliability.kappa_weights,
                alpha_level=scale.reliability.alpha_level,
            )
            studies[scale.id] = study
            report = study.report.items
            named = {v.item_id: (v.column, v.long_kind) for v in variables}
            pair_table += pair_rows(scale.id, study, named)
            summary_table += pair_summary_rows(scale.id, study, named)
        for v in variables:
            row = _reliability_row(scale, v, report.get(v.item_id))
            composite = study.composites.get(v.item_id) if study is not None else None
            if composite is not None:
                alpha = composite.alpha
                ci = alpha.ci95 or (None, None)
                row["cronbach_alpha"] = _number(alpha.value)
                row["cronbach_alpha_ci_low"] = _number(ci[0])
                row["cronbach_alpha_ci_high"] = _number(ci[1])
                row["cronbach_alpha_n"] = alpha.n
            rows.append(row)
    frame = pd.DataFrame.from_records(rows, columns=list(RELIABILITY_COLUMNS))
    for col in ("n_sessions", "n_raters", "k", "n_double_coded", "cronbach_alpha_n"):
        frame[col] = frame[col].astype("Int64")
    for form in ICC_FORMS:
        frame[f"{form}_F_infinite"] = frame[f"{form}_F_infinite"].astype("boolean")
    for col in _RELIABILITY_FLOATS:
        frame[col] = frame[col].astype("float64")
    return frame, *pair_frames(pair_table, summary_table), studies


def _methods(
    project: Project,
    scales: Sequence[RatingScale],
    studies: Mapping[str, StudyReliability],
    scores: pd.DataFrame,
) -> dict[str, str]:
    """The methods paragraph of each scale with double-coded sessions."""
    out: dict[str, str] = {}
    for scale in scales:
        study = studies.get(scale.id)
        if study is None:
            continue
        counted = scores[(scores["scale_id"] == scale.id) & scores["_analysis"]]
        plan = active_plan(project, scale.id)
        labels = {i.id: i.label for i in scale.items} | {c.id: c.label for c in scale.composites}
        facts = MethodsFacts(
            scale_name=scale.name,
            n_coded=int(counted["session_id"].nunique()),
            plan_params=None if plan is None else plan.params,
            plan_summary=None if plan is None else plan.summary,
            default_form=scale.reliability.icc,
            labels=labels,
        )
        out[scale.id] = methods_paragraph(study, facts)
    return out


def _number(value: float | None) -> float:
    """A statistic as a float cell: NaN when not defined or not finite.

    No table holds an infinite number (a spreadsheet cannot, and R's readers would
    turn the column into text): an infinite F is NaN with ``<form>_F_infinite`` TRUE.
    """
    if value is None or not math.isfinite(value):
        return math.nan
    return float(value)


def _recommended_cells(row: dict[str, Any], item: ItemReliability) -> None:
    """The headline form with its reason, the scale default's fit, and the
    variance-component ICCs (coder.reliability.recommend_form decides the form)."""
    rec = item.recommendation
    if rec is not None:
        ci = rec.ci95 or (None, None)
        row.update(
            recommended_form=rec.form,
            recommended_label=rec.label or None,
            recommended_icc=_number(rec.value),
            recommended_ci_low=_number(ci[0]),
            recommended_ci_high=_number(ci[1]),
            recommended_reason=rec.reason,
            scale_default_fits={True: "yes", False: "no", None: None}[rec.scale_default_fits],
            scale_default_note=rec.scale_default_note,
        )
    vc = item.icc_vc
    if vc is None:
        return
    c = vc.components
    row["vc_session"] = _number(c.session if c else None)
    row["vc_rater"] = _number(c.rater if c else None)
    row["vc_residual"] = _number(c.residual if c else None)
    row["vc_k"] = float(vc.k)
    row["vc_ci_method"] = vc.ci_description
    for form in VC_FORMS:
        stat = vc[form]
        ci = stat.ci95 or (None, None)
        row[form] = _number(stat.value)
        row[f"{form}_ci_low"], row[f"{form}_ci_high"] = _number(ci[0]), _number(ci[1])


def _reliability_row(
    scale: RatingScale, v: Variable, item: ItemReliability | None
) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(RELIABILITY_COLUMNS)
    row.update(
        scale_id=scale.id,
        variable=v.column,
        kind=v.long_kind,
        label=v.label,
        reported_form=scale.reliability.icc,
    )
    if item is None:
        row.update(
            n_sessions=0,
            n_raters=0,
            k=0,
            n_double_coded=0,
            design="not_double_coded",
            not_defined="no double-coded session with submitted scores",
        )
        return row
    why: list[str] = []
    row.update(
        n_sessions=item.n_sessions,
        n_raters=item.n_raters,
        k=item.k,
        n_double_coded=item.n_double_coded,
        design=item.design,
        design_note=item.design_note,
        category_source=item.categories.source,
    )
    row["categories_min"] = _number(item.categories.lo)
    row["categories_max"] = _number(item.categories.hi)
    for form in ICC_FORMS:
        stat = item.icc[form]
        ci = stat.ci95 or (None, None)
        row[form] = _number(stat.value)
        row[f"{form}_ci_low"], row[f"{form}_ci_high"] = _number(ci[0]), _number(ci[1])
        row[f"{form}_F"] = _number(stat.f)
        row[f"{form}_F_infinite"] = stat.f is not None and math.isinf(stat.f)
        row[f"{form}_df1"] = float(stat.df1)
        row[f"{form}_df2"] = float(stat.df2)
        row[f"{form}_p"] = _number(stat.p)
        if stat.value is None and stat.why:
            why.append(f"{form}: {stat.why}")
    reported = scale.reliability.icc
    row["reported_icc"] = row.get(reported)
    row["reported_ci_low"] = row.get(f"{reported}_ci_low")
    row["reported_ci_high"] = row.get(f"{reported}_ci_high")
    _recommended_cells(row, item)
    groups = item.groups()
    for group, keys, prefix in (
        ("kappa", KAPPA_KEYS, "kappa_"),
        ("krippendorff_alpha", ALPHA_KEYS, "alpha_"),
        ("agreement", ("exact", "within_one"), "agreement_"),
    ):
        stats = groups[group]
        for key in keys:
            figure = stats[key]
            row[prefix + key] = _number(figure.value)
            if figure.value is None and figure.why:
                why.append(f"{prefix}{key}: {figure.why}")
    _chance_cells(row, item, why)
    row["not_defined"] = "; ".join(why) or None
    return row


def _chance_cells(row: dict[str, Any], item: ItemReliability, why: list[str]) -> None:
    """The reported kappa and alpha (by kind), alpha intervals and chance coefficients."""
    row["item_kind"] = item.kind
    row["reported_kappa_weights"] = item.kappa_weights
    kappa = item.kappa.get(item.kappa_weights) if item.kappa_weights else None
    row["reported_kappa"] = _number(kappa.value if kappa else None)
    row["reported_alpha_level"] = item.alpha_level
    alpha = item.krippendorff_alpha.get(item.alpha_level)
    ci = (alpha.ci95 if alpha else None) or (None, None)
    row["reported_alpha"] = _number(alpha.value if alpha else None)
    row["reported_alpha_ci_low"], row["reported_alpha_ci_high"] = _number(ci[0]), _number(ci[1])
    for level in ALPHA_KEYS:
        stat = item.krippendorff_alpha.get(level)
        ci = (stat.ci95 if stat else None) or (None, None)
        row[f"alpha_{level}_ci_low"], row[f"alpha_{level}_ci_high"] = (
            _number(ci[0]),
            _number(ci[1]),
        )
    coeffs = item.agreement_coefficients
    gwet = "gwet_ac2" if "gwet_ac2" in coeffs else "gwet_ac1"
    row["agreement_weights"] = item.kappa_weights or "unweighted"
    row["gwet_coefficient"] = "AC2" if gwet == "gwet_ac2" else "AC1"
    for key, column in (
        ("fleiss_kappa", "fleiss_kappa"),
        (gwet, "gwet_ac"),
        ("brennan_prediger", "brennan_prediger"),
    ):
        stat = coeffs.get(key)
        if stat is None:
            continue
        ci = stat.ci95 or (None, None)
        row[column] = _number(stat.value)
        row[f"{column}_se"] = _number(stat.se)
        row[f"{column}_ci_low"], row[f"{column}_ci_high"] = _number(ci[0]), _number(ci[1])
        if stat.value is None and stat.why:
            why.append(f"{column}: {stat.why}")


def _with_coding(frame: pd.DataFrame, finished: pd.DataFrame) -> pd.DataFrame:
    info = finished.loc[:, ["coding_id", "scale_id", "session_id", "rater", "_scale_order"]]
    info = info.assign(_row=np.arange(len(info)))
    return frame.merge(info, on="coding_id", how="inner")


def _notes(notes: pd.DataFrame, finished: pd.DataFrame) -> pd.DataFrame:
    if notes.empty:
        return _empty(NOTE_COLUMNS).astype({"position_ms": "Int64", "in_window": bool})
    out = _with_coding(notes, finished).sort_values(["_row", "position_ms"], kind="stable")
    out["position_ms"] = out["position_ms"].astype("Int64")
    out["time"] = pd.Series([format_time_ms(v) for v in out["position_ms"]], index=out.index)
    return out.loc[:, list(NOTE_COLUMNS)].reset_index(drop=True)


def _spans(spans: pd.DataFrame, finished: pd.DataFrame) -> pd.DataFrame:
    if spans.empty:
        return _empty(SPAN_COLUMNS).astype(
            {"start_ms": "Int64", "end_ms": "Int64", "seconds": "float64", "in_window": bool}
        )
    out = _with_coding(spans, finished).sort_values(["_row", "start_ms"], kind="stable")
    out["start_ms"] = out["start_ms"].astype("Int64")
    out["end_ms"] = pd.array(
        [None if v is None or v != v else int(v) for v in out["end_ms"]], dtype="Int64"
    )
    out["start"] = [format_time_ms(v) for v in out["start_ms"]]
    out["end"] = [None if v is pd.NA else format_time_ms(int(v)) for v in out["end_ms"]]
    seconds = (out["end_ms"] - out["start_ms"]).astype("Float64") / 1000
    out["seconds"] = seconds.astype("float64")
    return out.loc[:, list(SPAN_COLUMNS)].reset_index(drop=True)


def _coding_windows(
    project: Project, finished: pd.DataFrame, definitions: Mapping[int, RatingScale]
) -> dict[int, SessionWindow]:
    """coding id -> its session's coding window (:func:`coder.session_window.session_window`:
    the window of the scale version coded, moved by the session's offset)."""
    offsets = {s.key: offset_of(s.key, s.metadata) for s in project.sessions()}
    return {
        int(cid): session_window(definitions[int(pk)].window, offset_ms=offsets.get(sid, 0))
        for cid, pk, sid in zip(
            finished["coding_id"], finished["scale_pk"], finished["session_id"], strict=True
        )
    }


def _flag_window(
    frame: pd.DataFrame,
    windows: Mapping[int, SessionWindow],
    start: str,
    end: str | None = None,
) -> pd.DataFrame:
    """``frame`` (notes or spans, with ``coding_id``) with a boolean ``in_window`` column."""
    frame = frame.copy()
    flags = []
    ends = frame[end] if end is not None else frame[start]
    for cid, first, last in zip(frame["coding_id"], frame[start], ends, strict=True):
        window = windows.get(int(cid))
        stop = None if last is None or pd.isna(last) else int(last)  # NaN: an open span
        flags.append(window is None or window.contains_span(int(first), stop))
    frame["in_window"] = pd.Series(flags, index=frame.index, dtype=bool)
    return frame


def _window_exits(
    project: Project, chosen: Sequence[str], finished: pd.DataFrame
) -> dict[str, int]:
    """scale id -> the exported codings whose rater left the coding window."""
    exported = {int(c) for c in finished["coding_id"]}
    return {
        scale_id: n
        for scale_id, by in window_exits(project, chosen).items()
        if (n := sum(1 for cid in by if cid in exported))
    }


def _describe_windows(bundle: ExportBundle) -> str:
    """The README's line on coding windows: each scale's window, and what lies outside."""
    parts = []
    for scale in bundle.scales:
        window = session_window(scale.window)
        if window.whole_session:
            parts.append(f"{scale.id}: the whole session")
            continue
        notes = bundle.notes[bundle.notes["scale_id"] == scale.id]
        spans = bundle.spans[bundle.spans["scale_id"] == scale.id]
        parts.append(
            f"{scale.id}: {window.describe()} (moved per session by the manifest's "
            f"window_offset); {bundle.window_exits.get(scale.id, 0)} coding(s) listened "
            f"outside it on purpose (recorded in the history); "
            f"{int((~notes['in_window'].astype(bool)).sum())} note(s) and "
            f"{int((~spans['in_window'].astype(bool)).sum())} span(s) outside it "
            "(in_window False)"
        )
    return "; ".join(parts) or "none"


def _without_audio_rows(attrition: Attrition) -> pd.DataFrame:
    """Rows of the ``uncodable`` table for sessions that never had a usable recording
    (no rater: the reason comes from the import, see :mod:`coder.attrition`)."""
    rows = [
        {
            "scale_id": o.scale_id,
            "session_id": o.session_id,
            "rater": None,
            "role": None,
            "reason": f"{WITHOUT_AUDIO_PREFIX}{o.reason}",
            "text": None,
        }
        for o in attrition.outcomes
        if o.outcome == NO_AUDIO
    ]
    return pd.DataFrame(rows, columns=list(UNCODABLE_COLUMNS))


def _uncodable(
    finished: pd.DataFrame, without_audio: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = finished[finished["state"] == CodingStatus.UNCODABLE]
    table = rows.rename(columns={"uncodable_reason": "reason", "uncodable_text": "text"})
    table = table.loc[:, list(UNCODABLE_COLUMNS)].reset_index(drop=True)
    # No explanation given is missing, not an empty text.
    given = table["text"].notna() & (table["text"].astype(object) != "")
    table["text"] = table["text"].astype(object).where(given, None)
    if without_audio is not None and not without_audio.empty:
        table = (
            without_audio.astype(object)
            if table.empty
            else pd.concat([table.astype(object), without_audio.astype(object)], ignore_index=True)
        )
        rows = table
    if rows.empty:
        counts = _empty(UNCODABLE_COUNT_COLUMNS).astype({"n": "Int64"})
    else:
        counts = (
            table.groupby(["scale_id", "reason"], sort=False)
            .size()
            .rename("n")
            .reset_index()
            .sort_values(["scale_id", "n", "reason"], ascending=[True, False, True], kind="stable")
            .reset_index(drop=True)
        )
        counts["n"] = counts["n"].astype("Int64")
    return table, counts


# --------------------------------------------------------------------------- documentation

TABLE_DOCS: dict[str, str] = {
    "scores": (
        "One row per finished coding (session x rater x scale): every item as a number, "
        "text items as text, and every composite. Codings not started or still in "
        "progress are left out (counted in the README options). Uncodable codings are listed with empty "
        "scores."
    ),
    "long": (
        "Tidy scores for R and pandas: one row per submitted coding and item or "
        "composite (kind), with the session's patient, therapist, session_number and "
        "phase, the number in value, the answer of a text item in text; variable is its "
        "column name in the wide tables."
    ),
    "pairs": (
        "Double-coded sessions side by side: one row per session, its two reliability "
        "coders (the plan's primary and second coder; a third coder is left out), "
        "A = the lower rater code in string order, <variable>_A next to <variable>_B. "
        "The reliability sheet is computed from exactly these rows. Training, master, "
        "certification and recalibration codings are left out."
    ),
    "final": (
        "One row per session and scale: the scores analyses use, chosen by the final "
        "rule (see Options); winsorized when that option is on. Text items are in scores."
    ),
    "reliability": (
        "Inter-rater reliability per numeric item and composite over the double-coded "
        "sessions: the headline ICC form that fits the design first, with its reason, then "
        "the scale file's default form (and whether it fits), the variance-component ICCs "
        "(REML, as R lme4), all six Shrout & Fleiss ICC forms with F test and 95% CI, Cohen's kappa (for two coders per session), "
        "Krippendorff's alpha and agreement. Empty where a statistic is not defined; "
        "not_defined says why."
    ),
    "reliability_pairs": (
        "Every ICC form per rater pair, on the double-coded sessions the two raters "
        "share (a fully crossed two-rater design), per scale and variable."
    ),
    "reliability_pair_summary": (
        "Each ICC form over the rater pairs where it is defined: number of pairs, range, "
        "mean and median (how papers report per-pair reliability)."
    ),
    "descriptives": (
        "Descriptive statistics of every numeric variable of the final table, per scale."
    ),
    "descriptives_by_session": (
        "Descriptive statistics per scale, session number and numeric variable of the "
        "final table (--descriptives-by session_number), with Tukey's fences and the "
        "values beyond them."
    ),
    "winsorizing": (
        "Winsorizing (--winsorize-iqr) per scale, session number and variable: the "
        "quartiles, fences, the values outliers were set to and how many changed."
    ),
    "patients": (
        "The final table one row per patient (--layout patient): one column per scale, "
        "variable and session number, <scale>_<variable>_s<number>, empty where the "
        "patient has no such session."
    ),
    "notes": "Rater notes with their time stamps (position in the recording).",
    "spans": "Time spans marked for duration items.",
    "uncodable": (
        "Codings marked uncodable, with the reason and the rater's text; and sessions "
        "the scale applies to that never had a usable recording (no rater; the reason "
        "starts with 'without audio:'). The README's Attrition line counts every session."
    ),
    "uncodable_counts": (
        "The rows of uncodable counted by scale and reason (uncodable codings, and "
        "sessions without audio)."
    ),
    "plan": "Every coding assigned (whatever its state), per rater in queue order.",
    "variables": (
        "Codebook: every item and composite column of every scale with its scale, text, "
        "kind, range, anchors, what an empty cell means, and the scale version(s) and "
        "scale file hash(es) it was coded under."
    ),
}

_COMMON_DOCS: dict[str, str] = {
    "scale_id": "Scale id (the variables codebook lists its items).",
    "session_id": "Session id from the manifest.",
    "patient": "Patient id (pseudonymous code from the manifest).",
    "therapist": "Therapist id (pseudonymous code from the manifest).",
    "session_number": "Session number within the patient's treatment.",
    "phase": "Treatment phase.",
    "rater": "Rater code.",
    "role": (
        "primary (every analysis session has one), second (the double-coding rater) or "
        "training (practice: left out of pairs, final, reliability and descriptives); on "
        "training sessions also master (the master coding raters are certified against), "
        "certification (a rater in training) and recalibration (a drift check)."
    ),
    "double_coded": (
        "TRUE when two or more raters submitted analysis codings (not training, master, "
        "certification or recalibration; not on a training session) of this session on "
        "this scale."
    ),
    "state": "submitted (scored) or uncodable (no scores; see uncodable).",
    "submitted_at": "When the coding was submitted or marked uncodable (UTC).",
    "scale_version": (
        "The version of the scale the coding was made with (the codebook gives each "
        "version's file hash)."
    ),
    "date": "Session date from the manifest (exported only on request).",
    "audio_path": "Path of the session's audio file (exported only on request).",
    "n_coders": "Submitted analysis codings of the session.",
    "final_source": (
        "Where the row's scores come from (a rater, a mean, a consensus, or why none)."
    ),
    "rater_A": "The pair's rater with the lower code (string order).",
    "rater_B": "The pair's other rater.",
    "item_id": "Item or composite id (as in the scale file).",
    "kind": "item or composite.",
    "value": "The score (empty when not scored); seconds for duration items.",
    "text": "Text: the answer of a text item, the note, or the uncodable explanation.",
    "position_ms": "Position in the recording, in milliseconds.",
    "time": "The same position as mm:ss (h:mm:ss from one hour on).",
    "start_ms": "Span start, in milliseconds.",
    "end_ms": "Span end, in milliseconds (empty while a span is still open).",
    "start": "Span start as mm:ss.",
    "end": "Span end as mm:ss.",
    "seconds": "Span length in seconds.",
    "reason": (
        "The uncodable reason chosen by the rater; 'without audio: ...' for a session "
        "without a usable recording (no file given, file not found, file unreadable)."
    ),
    "in_window": (
        "True when the note (the whole span) lies inside the session's coding window "
        "(the scale's window moved by the session's window_offset); False marks one "
        "outside it. A span outside still counts in its item's seconds."
    ),
    "n": "Number of codings.",
    "queue_position": "Position in the rater's queue.",
    "variable": "Item or composite column: <scale>_<item>, as in scores and final.",
    "label": "Item or composite label.",
    "column": "Column name in scores, final and pairs (_A/_B) and the sav file.",
    "min": "Lowest value of an ordinal or nominal item.",
    "max": "Highest value of an ordinal or nominal item.",
    "value_labels": "The anchor texts (ordinal) or categories (nominal, coded 1..n).",
    "composite_of": "A composite's method and items.",
}
_PLAN_STATE_DOC = "not_started, in_progress, submitted or uncodable."
_DESCRIPTIVE_DOCS: dict[str, str] = {
    "kind": "item or composite.",
    "n": "Sessions with a value.",
    "mean": "Mean of the final values (as exported, after any winsorizing).",
    "sd": "Standard deviation (n - 1 denominator).",
    "min": "Smallest value.",
    "q1": "First quartile (linear interpolation: R type 7, Excel QUARTILE.INC).",
    "median": "Median.",
    "q3": "Third quartile.",
    "max": "Largest value.",
    "iqr": "Interquartile range, q3 - q1.",
    "n_outliers": "Values beyond 1.5 x IQR below q1 or above q3 (before any winsorizing).",
    "winsorize_k": "K of the winsorizing option (empty when off).",
    "adjusted_n": (
        "Values changed by winsorizing, all session numbers (composites: recomputed "
        "from changed items; 0 when off)."
    ),
}
_BY_SESSION_DOCS: dict[str, str] = {
    **_DESCRIPTIVE_DOCS,
    "session_number": (
        "The session number whose sessions form this group (empty: sessions without one)."
    ),
    "n": "Sessions of this group with a value.",
    "fence_k": "K of the fences: the winsorizing K when winsorizing, else Tukey's 1.5.",
    "lower_fence": "q1 - K x IQR of the values before any winsorizing.",
    "upper_fence": "q3 + K x IQR of the values before any winsorizing.",
    "n_outliers": "Values of this group beyond a fence (before any winsorizing).",
}
_WINSOR_DOCS: dict[str, str] = {
    "session_number": "The session number whose sessions form this group.",
    "kind": "item or composite.",
    "rule": (
        "continuous (set to the fence), whole (set to the nearest whole number inside "
        "the fences), nominal (not winsorized) or composite (recomputed from the items)."
    ),
    "n": "Sessions of this group with a value.",
    "q1": "First quartile of the group (R type 7), before winsorizing.",
    "q3": "Third quartile of the group, before winsorizing.",
    "iqr": "q3 - q1.",
    "winsorize_k": "K of the winsorizing option.",
    "lower_fence": "q1 - K x IQR.",
    "upper_fence": "q3 + K x IQR.",
    "set_low_to": "The value a score below the lower fence was set to.",
    "set_high_to": "The value a score above the upper fence was set to.",
    "adjusted_n": "Values of this group changed.",
}
_CODEBOOK_DOCS: dict[str, str] = {
    "column": (
        "The variable's column in scores, final and pairs (_A/_B): <scale>_<item>, "
        "item_<scale>_<item> where that names a fixed column."
    ),
    "item_id": "The item or composite id in the scale file (long: item_id).",
    "kind": "ordinal, nominal, count, duration (seconds), text or composite.",
    "label": "The item's text (its label in the scale file).",
    "description": "The item's longer description from the scale file, if any.",
    "missing": "What an empty cell of this variable means.",
    "scale_version": (
        "The newest version of the scale the exported codings of this variable were "
        "made with (the newest version of the scale when none is coded yet)."
    ),
    "scale_sha256": ("SHA-256 of that version's scale file (YAML) as stored in the project."),
    "other_versions": (
        "Older versions the variable was also coded with, as version: SHA-256 (empty when none)."
    ),
}
_UNCODABLE_COUNT_DOCS = {"count_scale_id": "Scale id.", "count_reason": "Uncodable reason."}


def _reliability_docs(reported: str) -> dict[str, str]:
    from coder.reliability import ICC_LABELS, VC_LABELS

    docs = {
        "kind": "item or composite.",
        "n_sessions": "Sessions in the ICC and kappa (every coder's score present).",
        "n_raters": "Distinct raters on the double-coded sessions.",
        "k": "Coders per session in the ICC.",
        "design": (
            "crossed (the same raters on every session), varying_pairs, varying_raters, "
            "one_way (no rater on two sessions) or not_double_coded; design_note explains "
            "the caveat."
        ),
        "recommended_form": (
            "The headline ICC form for this design: a Shrout & Fleiss form (ICC2 ...) for a "
            "crossed design, ICC_A1/ICC_Ak from variance components when raters vary, ICC1 "
            "for a one-way design."
        ),
        "recommended_label": "The headline form as papers write it, e.g. ICC(A,1).",
        "recommended_icc": "The headline ICC's value.",
        "recommended_ci_low": "Its 95% confidence interval, lower bound.",
        "recommended_ci_high": "Its 95% confidence interval, upper bound.",
        "recommended_reason": "Why this form fits the design.",
        "scale_default_fits": "yes/no: whether the scale file's default form fits the design.",
        "scale_default_note": "Why the scale file's default does not fit, where it does not.",
        "reported_form": (
            "The scale file's default ICC form (its reliability defaults); see "
            "scale_default_fits before using it."
        ),
        "reported_icc": f"The scale default form's value (here {reported}).",
        "reported_ci_low": "Its 95% confidence interval, lower bound.",
        "reported_ci_high": "Its 95% confidence interval, upper bound.",
        "vc_session": (
            "Session variance of score ~ 1 + (1|session) + (1|rater), REML on every rating "
            "(as R lme4)."
        ),
        "vc_rater": "Rater variance of that model (0 at the boundary).",
        "vc_residual": "Residual variance of that model.",
        "vc_k": "k of ICC_Ak and ICC_Ck.",
        "vc_ci_method": "How the 95% intervals of the variance-component ICCs were computed.",
        "n_double_coded": "Double-coded sessions of this variable.",
        "categories_min": "Lowest category used by kappa and alpha.",
        "categories_max": "Highest category used by kappa and alpha.",
        "category_source": "range (the item's scale range) or observed (min..max seen).",
        "design_note": "The design in words, with its caveat.",
        "not_defined": "Statistics that are not defined for these data, and why.",
        "agreement_exact": "Share of rater-pair comparisons with identical scores.",
        "agreement_within_one": "Share of comparisons differing by at most one point.",
        "item_kind": (
            "The item's kind (ordinal, count, nominal, duration, composite): it decides which "
            "statistics apply (nominal: no ICC, weighted kappa, ordinal/interval alpha or "
            "within-one; duration: ICC and interval alpha only)."
        ),
        "reported_kappa_weights": (
            "The kappa weights the scale reports, as the kind allows (nominal: unweighted; "
            "empty for durations)."
        ),
        "reported_kappa": "Cohen's kappa with those weights.",
        "reported_alpha_level": (
            "The Krippendorff level the scale reports, as the kind allows (nominal items: "
            "nominal; durations: interval)."
        ),
        "reported_alpha": "Krippendorff's alpha at that level.",
        "reported_alpha_ci_low": (
            "Its 95% bootstrap interval, lower bound (Hayes & Krippendorff 2007: 1000 "
            "resamples of pairable values, fixed seed)."
        ),
        "reported_alpha_ci_high": "Its 95% bootstrap interval, upper bound.",
        "agreement_weights": "Weights of Fleiss' kappa, Gwet's AC and Brennan-Prediger.",
        "gwet_coefficient": "AC1 (unweighted) or AC2 (weighted).",
        "fleiss_kappa": "Fleiss' kappa, generalised to weights and missing ratings (Gwet 2014).",
        "gwet_ac": "Gwet's AC1 or AC2 (gwet_coefficient says which).",
        "brennan_prediger": "Brennan-Prediger coefficient (chance agreement from the weights).",
        "cronbach_alpha": (
            "Composites only: Cronbach's alpha of the composite's items over the codings "
            "of this sheet (both coders of each double-coded session)."
        ),
        "cronbach_alpha_ci_low": "Its 95% confidence interval (Feldt), lower bound.",
        "cronbach_alpha_ci_high": "Its 95% confidence interval (Feldt), upper bound.",
        "cronbach_alpha_n": "Codings with every item of the composite scored.",
    }
    for level in ALPHA_KEYS:
        docs[f"alpha_{level}_ci_low"] = f"Krippendorff's alpha ({level}) 95% bootstrap CI, lower."
        docs[f"alpha_{level}_ci_high"] = f"Krippendorff's alpha ({level}) 95% bootstrap CI, upper."
    for column in ("fleiss_kappa", "gwet_ac", "brennan_prediger"):
        docs[f"{column}_se"] = f"{column} standard error (Gwet 2014, as irrCAC)."
        docs[f"{column}_ci_low"] = f"{column} 95% confidence interval, lower bound."
        docs[f"{column}_ci_high"] = f"{column} 95% confidence interval, upper bound."
    for form, (sf, mw, description) in ICC_LABELS.items():
        docs[form] = f"{sf} = McGraw & Wong {mw}: {description}."
        docs[f"{form}_ci_low"] = f"{form} 95% confidence interval, lower bound."
        docs[f"{form}_ci_high"] = f"{form} 95% confidence interval, upper bound."
        docs[f"{form}_F"] = (
            f"{form} F statistic (empty when infinite, with perfect agreement: see "
            f"{form}_F_infinite)."
        )
        docs[f"{form}_F_infinite"] = (
            f"TRUE when {form}'s F is infinite (no error variance: perfect agreement); "
            f"{form}_F is then empty."
        )
        docs[f"{form}_df1"] = f"{form} numerator degrees of freedom."
        docs[f"{form}_df2"] = f"{form} denominator degrees of freedom."
        docs[f"{form}_p"] = f"{form} p value of the F test."
    for form, (mw, description) in VC_LABELS.items():
        docs[form] = f"{mw}: {description} (ten Hove, Jorgensen & van der Ark 2022)."
        docs[f"{form}_ci_low"] = f"{form} 95% confidence interval, lower bound."
        docs[f"{form}_ci_high"] = f"{form} 95% confidence interval, upper bound."
    for w in KAPPA_KEYS:
        docs[f"kappa_{w}"] = f"Cohen's kappa, {w}{' weights' if w != 'unweighted' else ''}."
    for a in ALPHA_KEYS:
        docs[f"alpha_{a}"] = f"Krippendorff's alpha, {a} metric (every observed rating)."
    return docs


def describe_columns(
    bundle: ExportBundle, table: str, scale_id: str | None = None
) -> list[tuple[str, str]]:
    """Every column of one table with a one-line description (for the READMEs).

    With ``scale_id``, the columns of that scale's table
    (:meth:`ExportBundle.scale_table`) of ``scores``, ``final`` or ``pairs``.
    """
    columns = (
        bundle.scale_columns(table, scale_id)
        if scale_id is not None
        else [str(c) for c in bundle.table(table).columns]
    )
    by_column: dict[str, list[Variable]] = {}
    for v in bundle.all_variables:
        by_column.setdefault(v.column, []).append(v)

    def variable_doc(column: str) -> str | None:
        variables = by_column.get(column)
        if not variables:
            return None
        parts = []
        for v in variables:
            what = v.kind
            if v.min is not None and v.max is not None:
                what += f" {v.min}..{v.max}"
            if v.kind == ItemKind.DURATION:
                what += ", seconds"
            if v.kind == "composite":
                what += f" of {', '.join(v.composite_of)}"
            parts.append(f"{v.scale_id}: {v.label} ({what})")
        return "; ".join(parts)

    reported = ", ".join(sorted({s.reliability.icc for s in bundle.scales})) or "ICC2"
    special = {
        "reliability": _reliability_docs(reported),
        "reliability_pairs": PAIR_TABLE_DOCS,
        "reliability_pair_summary": PAIR_SUMMARY_DOCS,
        "descriptives": _DESCRIPTIVE_DOCS,
        "descriptives_by_session": _BY_SESSION_DOCS,
        "winsorizing": _WINSOR_DOCS,
        "plan": {"state": _PLAN_STATE_DOC},
        "variables": _CODEBOOK_DOCS,
    }.get(table, {})
    out = []
    for column in columns:
        doc = special.get(column) or _COMMON_DOCS.get(column) or variable_doc(column)
        if doc is None and table == "pairs" and column[-2:] in ("_A", "_B"):
            base = variable_doc(column[:-2])
            if base is not None:
                doc = f"Rater {column[-1]}'s score: {base}"
        if doc is None and table == "patients":
            doc = _patient_column_doc(bundle, str(column))
        if doc is None and column.startswith("meta_"):
            doc = (
                f"Manifest column {column[5:]!r}, or a value the lab entered for raters "
                "(free-text metadata, exported on request)."
            )
        out.append((str(column), doc or ""))
    return out


def _patient_column_doc(bundle: ExportBundle, column: str) -> str | None:
    for v in bundle.all_variables:
        prefix = f"{v.column}_s"
        if column.startswith(prefix) and column[len(prefix) :].isdigit():
            what = v.kind if v.min is None else f"{v.kind} {v.min}..{v.max}"
            return f"{v.scale_id}: {v.label} ({what}), session {column[len(prefix) :]}"
    return None


def winsorizing_summary(bundle: ExportBundle) -> str:
    """How many values winsorizing changed, per scale (one sentence; empty when off)."""
    w = bundle.winsorizing
    if bundle.options.winsorize_iqr is None:
        return ""
    parts = []
    for scale_id in bundle.options.scale_ids:
        rows = w[(w["scale_id"] == scale_id) & (w["adjusted_n"] > 0)]
        items = rows[rows["rule"] != "composite"]
        comps = rows[rows["rule"] == "composite"]
        n_items, n_comps = int(items["adjusted_n"].sum()), int(comps["adjusted_n"].sum())
        text = f"{scale_id}: {n_items} item value(s) changed"
        if n_items:
            per = items.groupby("variable", sort=False)["adjusted_n"].sum()
            text += " (" + ", ".join(f"{v} {int(n)}" for v, n in per.items()) + ")"
        text += f", {n_comps} composite value(s) recomputed"
        parts.append(text)
    return f"{bundle.adjusted_total} item value(s) changed in all: " + "; ".join(parts) + "."


def describe_options(bundle: ExportBundle) -> list[tuple[str, str]]:
    """The export's options and counts, one (name, explanation) pair per line."""
    o = bundle.options
    if o.final == "consensus":
        final = (
            "consensus: each item of a double-coded session takes the consensus score the "
            "raters agreed on after review, where one is recorded (final_source names the "
            "items); every other value follows the mean rule: the mean of the session's "
            "submitted analysis codings (the pair mean on double-coded sessions, the only "
            "coder's score elsewhere). Composites of rows with a consensus score are "
            "recomputed from their final item values. Reliability uses the independent "
            "scores, never the consensus."
        )
    elif o.final == "mean":
        final = (
            "mean: each session's final score is the mean of its submitted analysis "
            "codings, variable by variable (a blank score is skipped); composites are the "
            "mean of the coders' composites."
        )
    else:
        final = (
            "primary: each session's final score is its primary coder's submitted coding "
            "(no substitute when the primary coding is missing or uncodable; final_source "
            "says so)."
        )
    if o.winsorize_iqr is None:
        winsor = "off: the final table holds the values as coded."
    else:
        winsor = (
            f"on, K = {o.winsorize_iqr:g}, per scale, session number and item (each "
            f"session number's score is its own variable): a value below Q1 - K x IQR or "
            f"above Q3 + K x IQR was pulled in. Duration items: to the fence. Ordinal and "
            f"count items: {WINSOR_RULES['whole']}. Nominal items: not winsorized. "
            f"Composites: {WINSOR_RULES['composite']}. {winsorizing_summary(bundle)} "
            f"The winsorizing table lists the fences per session number."
        )
    pseudo = []
    pseudo.append(
        "audio paths included" if o.include_audio_paths else "no audio paths (pseudonymous)"
    )
    pseudo.append(
        "session dates and manifest metadata included"
        if o.include_metadata
        else "no session dates or free-text manifest metadata (pseudonymous)"
    )
    left_out = "; ".join(
        f"{sid}: {c.get('in_progress', 0)} in progress, {c.get('not_started', 0)} not started"
        for sid, c in bundle.excluded.items()
    )
    scales = "; ".join(f"{s.id} (version {s.version}): {s.name}" for s in bundle.scales)
    return [
        ("Project", bundle.project_name),
        ("Exported", bundle.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("App version", f"Session Coder {bundle.app_version}"),
        ("Scales", scales),
        ("Final rule", final),
        ("Winsorizing", winsor),
        (
            "Descriptives",
            "per scale (descriptives)"
            if o.descriptives_by == "scale"
            else "per scale (descriptives) and per scale and session number "
            "(descriptives_by_session: n, mean, SD, quartiles, min, max, and Tukey's "
            "fences at K = "
            f"{TUKEY_K if o.winsorize_iqr is None else o.winsorize_iqr:g} with the "
            "values beyond them, before any winsorizing)",
        ),
        ("Privacy", "; ".join(pseudo) + ". Rater notes and text answers are included."),
        ("Codings left out", left_out or "none"),
        ("Coding windows", _describe_windows(bundle)),
        (
            "Attrition",
            "; ".join(f"{a.scale_id}: {a.line()}" for a in bundle.attrition) or "none",
        ),
        (
            "Scale definitions",
            "; ".join(
                line
                for s in bundle.scales
                if s.id in bundle.analyses
                for line in bundle.analyses[s.id].describe(s)
            )
            or "as stored",
        ),
        (
            "Scale versions",
            "Each coding keeps the version it was coded under (scale_version in scores); "
            "a new version never changes which coding counts, only a re-code the lead "
            "planned does. Finished codings: " + ("; ".join(bundle.versions.values()) or "none"),
        ),
        (
            "Training",
            "Codings with role training, master, certification or recalibration, and "
            "sessions marked as training, are in scores, notes, spans and plan, but not "
            "in pairs, final, reliability or descriptives.",
        ),
    ]
