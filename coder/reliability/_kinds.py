"""Which statistics an item's kind allows, and which kappa and alpha a scale reports.

The one rule (issue 11, "item kinds decide statistics"), read by the report, its text
table, the CLI, the GUI's reliability tab and the exports:

- ``nominal``: categories without order. Cohen's kappa unweighted, Krippendorff's alpha
  nominal, exact agreement and the chance-corrected coefficients (Fleiss' kappa,
  Gwet's AC1, Brennan-Prediger) with identity weights. No ICC, no weighted kappa, no
  ordinal or interval alpha, no "within one point": on arbitrary category codes they
  are numbers without meaning.
- ``duration``: seconds. The ICC and interval alpha only: seconds are not categories
  (no kappa, no nominal or ordinal alpha, no category agreement coefficients) and
  agreement in seconds (exact or within one) is not a reliability figure.
- ``ordinal``, ``count``, composites and data without a kind (``--long`` input):
  everything, as before.

The scale's ``kappa_weights`` and ``alpha_level`` (its reliability defaults) name the
kappa and alpha the lab reports; the kind overrides them where they do not apply (a
nominal item reports unweighted kappa and nominal alpha, a duration item interval
alpha and no kappa). The chance-corrected coefficients use the reported kappa weights
(Gwet's AC2 with linear or quadratic weights, AC1 unweighted).
"""

from __future__ import annotations

from dataclasses import dataclass

from coder.kinds import ItemKind
from coder.reliability._kappa import KAPPA_WEIGHTS, KappaWeights
from coder.reliability._krippendorff import ALPHA_LEVELS, AlphaLevel

#: The reported kappa weights and alpha level when no scale names them (the defaults
#: of a scale's ``reliability`` block, scales/schema.yaml).
DEFAULT_KAPPA_WEIGHTS: KappaWeights = "quadratic"
DEFAULT_ALPHA_LEVEL: AlphaLevel = "ordinal"

#: The kind of a composite (sum or mean of items) in the report and the exports.
COMPOSITE = "composite"


@dataclass(frozen=True, slots=True)
class StatisticPlan:
    """The statistics of one item, by its kind and the scale's settings.

    Attributes:
        kind: The item kind (an :class:`ItemKind` value), ``"composite"``, or None
            when the data do not say (``--long`` input without ``--kind``).
        icc: Whether the ICC forms apply.
        kappa: The kappa weights that apply (empty: no kappa).
        alpha: The Krippendorff levels that apply.
        exact: Whether exact agreement applies.
        within_one: Whether "within one point" agreement applies.
        chance: Whether Fleiss' kappa, Gwet's AC1/AC2 and Brennan-Prediger apply.
        kappa_weights: The kappa the lab reports (None when no kappa applies); also
            the weights of the chance-corrected coefficients.
        alpha_level: The Krippendorff level the lab reports.
        why_not: The reason shown for every statistic that does not apply.
    """

    kind: str | None
    icc: bool
    kappa: tuple[KappaWeights, ...]
    alpha: tuple[AlphaLevel, ...]
    exact: bool
    within_one: bool
    chance: bool
    kappa_weights: KappaWeights | None
    alpha_level: AlphaLevel
    why_not: str

    @property
    def chance_weights(self) -> KappaWeights:
        """The weights of the chance-corrected coefficients (unweighted without kappa)."""
        return self.kappa_weights or "unweighted"


_NOMINAL_WHY = "not applicable to nominal items: the category codes have no order or distance"
_DURATION_WHY = (
    "not applicable to duration items: seconds are measured, not categories (use the "
    "ICC and interval alpha)"
)


def statistics_for(
    kind: str | None,
    kappa_weights: str | None = None,
    alpha_level: str | None = None,
) -> StatisticPlan:
    """The statistics that apply to an item of ``kind`` (see the module docstring).

    Args:
        kind: An :class:`ItemKind` value, ``"composite"``, or None (unknown: every
            statistic, as for ordinal items).
        kappa_weights: The scale's ``kappa_weights`` (None: the default, quadratic).
        alpha_level: The scale's ``alpha_level`` (None: the default, ordinal).

    Returns:
        The :class:`StatisticPlan`.

    Raises:
        ValueError: An unknown kind, weights or level, or a text item (text has no
            reliability statistics).
    """
    weights = kappa_weights or DEFAULT_KAPPA_WEIGHTS
    level = alpha_level or DEFAULT_ALPHA_LEVEL
    if weights not in KAPPA_WEIGHTS:
        raise ValueError(f"kappa weights must be one of {KAPPA_WEIGHTS}, not {weights!r}")
    if level not in ALPHA_LEVELS:
        raise ValueError(f"alpha level must be one of {ALPHA_LEVELS}, not {level!r}")
    known = {k.value for k in ItemKind} | {COMPOSITE}
    if kind is not None and kind not in known:
        raise ValueError(f"item kind must be one of {sorted(known)}, not {kind!r}")
    if kind == ItemKind.TEXT:
        raise ValueError("text items have no reliability statistics")
    if kind == ItemKind.NOMINAL:
        return StatisticPlan(
            kind, False, ("unweighted",), ("nominal",), True, False, True, "unweighted",
            "nominal", _NOMINAL_WHY,
        )  # fmt: skip
    if kind == ItemKind.DURATION:
        return StatisticPlan(
            kind, True, (), ("interval",), False, False, False, None, "interval", _DURATION_WHY
        )
    return StatisticPlan(
        kind, True, KAPPA_WEIGHTS, ALPHA_LEVELS, True, True, True,
        weights,
        level,
        "",
    )  # fmt: skip
