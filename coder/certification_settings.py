"""The lead's certification settings of a project, typed and checked in one place.

:class:`CertificationSettings` holds whether plans require certification, the
per-scale criterion overrides, the per-rater overrides and the drift-check rates.
Every value is checked when a settings object is built (:meth:`__post_init__` of
each type), so an object that exists is valid. The stored form is four keys of the
project's settings document; only the store
(:mod:`coder.store.certification_store`) converts between it and these types, with
:meth:`CertificationSettings.from_stored` and :meth:`CertificationSettings.stored`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from coder.errors import InputError
from coder.reliability import ICC_FORMS
from coder.scales import CertificationCriterion

REQUIRE_SETTING = "require_certification"
CRITERIA_SETTING = "certification_criteria"
OVERRIDES_SETTING = "certification_overrides"
RECALIBRATION_SETTING = "recalibration"
#: The keys of the project's settings document that hold certification settings.
SETTING_KEYS = (REQUIRE_SETTING, CRITERIA_SETTING, OVERRIDES_SETTING, RECALIBRATION_SETTING)

_CRITERION_FIELDS = ("icc_form", "min_icc", "min_within_one", "min_sessions")


def check_criterion(c: CertificationCriterion, where: str = "the criterion") -> None:
    """Check a certification criterion's bounds.

    Raises:
        InputError: an unknown ICC form, or a bound out of range (the message names
            the field and what it allows).
    """
    if c.icc_form not in ICC_FORMS:
        raise InputError(f"{where}: ICC form {c.icc_form!r} is not one of: {', '.join(ICC_FORMS)}")
    if isinstance(c.min_icc, bool) or not isinstance(c.min_icc, int | float):
        raise InputError(f"{where}: the minimum ICC must be a number between -1 and 1")
    if not -1 <= c.min_icc <= 1:
        raise InputError(f"{where}: the minimum ICC {c.min_icc} is outside -1..1")
    if isinstance(c.min_within_one, bool) or not isinstance(c.min_within_one, int | float):
        raise InputError(
            f"{where}: the minimum share within one point must be a number between 0 and 1"
        )
    if not 0 <= c.min_within_one <= 1:
        raise InputError(
            f"{where}: the minimum share within one point {c.min_within_one} is outside 0..1 "
            "(write 0.8 for 80 %)"
        )
    if isinstance(c.min_sessions, bool) or not isinstance(c.min_sessions, int):
        raise InputError(f"{where}: the minimum number of training sessions must be a whole number")
    if c.min_sessions < 1:
        raise InputError(f"{where}: the minimum number of training sessions must be at least 1")


@dataclass(frozen=True)
class CriterionOverride:
    """The project's criterion for one scale, replacing the scale file's fields.

    Fields left None keep the scale file's value (a project file may store only some
    fields); :meth:`apply` gives the criterion in force.
    """

    icc_form: str | None = None
    min_icc: float | None = None
    min_within_one: float | None = None
    min_sessions: int | None = None

    @classmethod
    def of(cls, criterion: CertificationCriterion) -> CriterionOverride:
        """An override that sets every field to the criterion's (checked)."""
        check_criterion(criterion)
        return cls(**criterion.as_dict())

    def apply(
        self, base: CertificationCriterion, where: str = "the criterion"
    ) -> CertificationCriterion:
        """The scale file's criterion with this override's fields put in (checked)."""
        criterion = dataclasses.replace(base, **self.as_dict())
        check_criterion(criterion, where)
        return criterion

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in _CRITERION_FIELDS if getattr(self, k) is not None}


@dataclass(frozen=True)
class RaterOverride:
    """The lead's decision for one rater on one scale, whatever the figures say.

    Attributes:
        allow: True lets the rater code real sessions, False keeps them out.
        reason: Why (required, kept in the history).
    """

    allow: bool
    reason: str

    def __post_init__(self) -> None:
        if not isinstance(self.allow, bool):
            raise InputError("a rater override must either allow or bar real sessions")
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise InputError("say in a few words why the rater is overridden (it is kept)")
        object.__setattr__(self, "reason", self.reason.strip())


@dataclass(frozen=True)
class RecalibrationRate:
    """How often certified raters get an unannounced drift check on a scale.

    Attributes:
        every: One drift check in every ``every`` real codings (at least 2).
        seed: The seed of the random choice of master-coded sessions.
    """

    every: int
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.every, bool) or not isinstance(self.every, int):
            raise InputError("--every must be a whole number (one drift check in every N sessions)")
        if self.every < 2:
            raise InputError("--every must be at least 2 (one drift check in every N sessions)")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise InputError("the drift-check seed must be a whole number")


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class CertificationSettings:
    """A project's certification settings (every value checked).

    Attributes:
        required: Whether plans give real sessions only to certified raters.
        criteria: scale id -> the project's override of the scale's criterion.
        overrides: scale id -> rater code -> the lead's override.
        recalibration: scale id -> the remembered drift-check rate.
    """

    required: bool = False
    criteria: Mapping[str, CriterionOverride] = field(default_factory=dict)
    overrides: Mapping[str, Mapping[str, RaterOverride]] = field(default_factory=dict)
    recalibration: Mapping[str, RecalibrationRate] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.required, bool):
            raise InputError(f"{REQUIRE_SETTING} must be true or false, not {self.required!r}")
        # Read-only views: a settings object is a value; change it with the with_* methods.
        object.__setattr__(self, "criteria", _frozen(self.criteria))
        object.__setattr__(
            self,
            "overrides",
            _frozen({k: _frozen(v) for k, v in self.overrides.items() if v}),
        )
        object.__setattr__(self, "recalibration", _frozen(self.recalibration))

    # ------------------------------------------------------------------ queries

    def criterion(self, scale_id: str, base: CertificationCriterion) -> CertificationCriterion:
        """The criterion in force on a scale: the project's override of ``base``, if any."""
        override = self.criteria.get(scale_id)
        return base if override is None else override.apply(base, f"the criterion of {scale_id}")

    def override(self, scale_id: str, rater: str) -> RaterOverride | None:
        return self.overrides.get(scale_id, {}).get(rater)

    # ------------------------------------------------------------------ changes

    def with_required(self, required: bool) -> CertificationSettings:
        return dataclasses.replace(self, required=required)

    def with_criterion(
        self, scale_id: str, criterion: CertificationCriterion | None
    ) -> CertificationSettings:
        """These settings with a scale's criterion set (None: back to the scale file's)."""
        criteria = dict(self.criteria)
        if criterion is None:
            criteria.pop(scale_id, None)
        else:
            criteria[scale_id] = CriterionOverride.of(criterion)
        return dataclasses.replace(self, criteria=criteria)

    def with_override(
        self, scale_id: str, rater: str, override: RaterOverride | None
    ) -> CertificationSettings:
        """These settings with a rater's override on a scale set (None: removed)."""
        table = {k: dict(v) for k, v in self.overrides.items()}
        per_scale = table.setdefault(scale_id, {})
        if override is None:
            per_scale.pop(rater, None)
        else:
            per_scale[rater] = override
        return dataclasses.replace(self, overrides=table)

    def with_recalibration(self, scale_id: str, rate: RecalibrationRate) -> CertificationSettings:
        return dataclasses.replace(self, recalibration={**self.recalibration, scale_id: rate})

    # ------------------------------------------------------------------ stored form

    @classmethod
    def from_stored(cls, settings: Mapping[str, Any]) -> CertificationSettings:
        """Parse the certification keys of the project's settings document.

        Raises:
            InputError: a stored value has the wrong shape or is out of range; the
                message names the setting and the entry.
        """
        required = settings.get(REQUIRE_SETTING, False)
        criteria: dict[str, CriterionOverride] = {}
        for scale_id, stored in _table(settings, CRITERIA_SETTING).items():
            where = f"{CRITERIA_SETTING}.{scale_id}"
            if not stored:
                continue  # an empty entry keeps the scale file's criterion
            if not isinstance(stored, Mapping) or set(stored) - set(_CRITERION_FIELDS):
                raise InputError(
                    f"setting {where}: expected some of {', '.join(_CRITERION_FIELDS)}, "
                    f"got {stored!r}"
                )
            override = CriterionOverride(**stored)
            override.apply(CertificationCriterion(), f"setting {where}")
            criteria[scale_id] = override
        overrides: dict[str, dict[str, RaterOverride]] = {}
        for scale_id, per_scale in _table(settings, OVERRIDES_SETTING).items():
            if not isinstance(per_scale, Mapping):
                raise InputError(
                    f"setting {OVERRIDES_SETTING}.{scale_id}: expected rater -> "
                    f"{{allow, reason}}, got {per_scale!r}"
                )
            for rater, stored in per_scale.items():
                where = f"{OVERRIDES_SETTING}.{scale_id}.{rater}"
                if not isinstance(stored, Mapping):
                    raise InputError(f"setting {where}: expected {{allow, reason}}, got {stored!r}")
                allow: Any = stored.get("allow")  # RaterOverride checks that it is a bool
                try:
                    entry = RaterOverride(allow, stored.get("reason", ""))
                except InputError as error:
                    raise InputError(f"setting {where}: {error}") from None
                overrides.setdefault(scale_id, {})[rater] = entry
        recalibration: dict[str, RecalibrationRate] = {}
        for scale_id, stored in _table(settings, RECALIBRATION_SETTING).items():
            where = f"{RECALIBRATION_SETTING}.{scale_id}"
            if not isinstance(stored, Mapping) or "every" not in stored:
                raise InputError(f"setting {where}: expected {{every, seed}}, got {stored!r}")
            try:
                recalibration[scale_id] = RecalibrationRate(stored["every"], stored.get("seed", 0))
            except InputError as error:
                raise InputError(f"setting {where}: {error}") from None
        return cls(required, criteria, overrides, recalibration)

    def stored(self) -> dict[str, Any]:
        """The stored form: each certification key's JSON value, None when unset."""
        return {
            REQUIRE_SETTING: self.required,
            CRITERIA_SETTING: {k: v.as_dict() for k, v in self.criteria.items()} or None,
            OVERRIDES_SETTING: {
                scale_id: {r: {"allow": o.allow, "reason": o.reason} for r, o in per.items()}
                for scale_id, per in self.overrides.items()
                if per
            }
            or None,
            RECALIBRATION_SETTING: {
                k: {"every": v.every, "seed": v.seed} for k, v in self.recalibration.items()
            }
            or None,
        }


def _table(settings: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = settings.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError(f"setting {key}: expected a table by scale, got {value!r}")
    return value
