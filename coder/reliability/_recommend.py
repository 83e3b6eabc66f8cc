"""Which ICC form an item's reliability is reported with: the one place of that rule.

:func:`recommend_form` reads the design (:func:`coder.reliability.check_design`), the
Shrout & Fleiss forms, the variance-component ICCs and the scale file's default
(``reliability.icc``) and decides:

- **fully crossed** (the same k raters on every double-coded session): the two-way
  Shrout & Fleiss form; the scale's form when it is a two-way form, else ICC2 (ICC2k
  when the scale reports the mean of k raters);
- **varying pairs or raters** (raters drawn from a pool): ICC(A,1) from the variance
  components of the crossed random-effects model (ten Hove, Jorgensen & van der Ark
  2022), ICC(A,k) when the scale reports the mean of k raters. Never a two-way form
  computed on coder position: it changes when rater codes are swapped. When the model
  cannot be fitted, the one-way ICC1 (ICC1k);
- **one-way** (no rater coded two sessions, so raters cannot be told from error):
  ICC1 (ICC1k).

A scale default that does not fit the design is not used but reported, with the
reason (``scale_default_fits`` false).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from coder.reliability._common import json_interval, json_number
from coder.reliability._icc import ICC_FORMS, ICC_LABELS, IccResult
from coder.reliability._vc import VC_LABELS, IccVc

TWO_WAY_FORMS = ("ICC2", "ICC3", "ICC2k", "ICC3k")
ONE_WAY_FORMS = ("ICC1", "ICC1k")
TEN_HOVE = "ten Hove, Jorgensen & van der Ark (2022)"

Source = Literal["icc", "icc_vc"]


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The headline ICC of an item and why.

    Attributes:
        form: A key of the item's ``icc`` (e.g. ``"ICC2"``) or ``icc_vc`` (e.g.
            ``"ICC_A1"``), or None when no form is defined (no double coding).
        source: ``"icc"`` or ``"icc_vc"`` (None with ``form``).
        label: The form as a paper writes it, e.g. ``"ICC(A,1)"``.
        value: Its value (None when not defined).
        ci95: Its 95 % interval.
        reason: Why this form, in one or two sentences.
        scale_default: The scale file's ``reliability.icc`` (None without a scale).
        scale_default_fits: Whether that default fits the design (None without one).
        scale_default_note: Why it does not fit (or how it relates), for the reader.
    """

    form: str | None
    source: Source | None
    label: str
    value: float | None
    ci95: tuple[float, float] | None
    reason: str
    scale_default: str | None = None
    scale_default_fits: bool | None = None
    scale_default_note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``recommended`` object of the report's JSON (strict JSON)."""
        return {
            "form": self.form,
            "source": self.source,
            "label": self.label,
            "value": json_number(self.value),
            "ci95": json_interval(self.ci95),
            "reason": self.reason,
            "scale_default": self.scale_default,
            "scale_default_fits": self.scale_default_fits,
            "scale_default_note": self.scale_default_note,
        }


def form_label(form: str) -> str:
    """``"ICC(2,1)"`` for a Shrout & Fleiss key, ``"ICC(A,1)"`` for a variance-component one."""
    if form in ICC_LABELS:
        return ICC_LABELS[form][0]
    return VC_LABELS[form][0]


def recommend_form(
    design: str,
    k: int,
    icc: IccResult,
    icc_vc: IccVc | None,
    scale_default: str | None = None,
) -> Recommendation:
    """Decide the headline ICC form of one item (see the module docstring).

    Args:
        design: The item's design (``crossed``, ``varying_pairs``, ``varying_raters``,
            ``one_way``, ``not_double_coded``).
        k: Coders per double-coded session.
        icc: The six Shrout & Fleiss forms.
        icc_vc: The variance-component ICCs (None when not computed).
        scale_default: The scale file's ``reliability.icc``, or None.

    Returns:
        The :class:`Recommendation`.
    """
    default = scale_default if scale_default in ICC_FORMS else None
    average = default is not None and default.endswith("k")
    if design == "not_double_coded":
        return Recommendation(
            None,
            None,
            "",
            None,
            None,
            "no session of this item is coded by two or more raters, so no ICC is defined",
            default,
            None,
            None,
        )
    if design == "crossed":
        form = default if default in TWO_WAY_FORMS else ("ICC2k" if average else "ICC2")
        assert form is not None
        sf, mw, desc = ICC_LABELS[form]
        reason = (
            f"Fully crossed: the same {k} raters coded every double-coded session, so the "
            f"two-way Shrout & Fleiss model applies; {sf} = {mw} ({desc})."
        )
        fits, note = _default_fit(default, design, form)
        return _from_icc(icc, form, reason, default, fits, note)
    one_way = "ICC1k" if average else "ICC1"
    if design == "one_way":
        reason = (
            "One-way: no rater coded more than one session, so rater effects cannot be told "
            f"apart from error and the one-way model applies; {ICC_LABELS[one_way][0]}."
        )
        fits, note = _default_fit(default, design, one_way)
        return _from_icc(icc, one_way, reason, default, fits, note)
    # Varying pairs or raters.
    vc_form = "ICC_Ak" if average else "ICC_A1"
    what = "rater pairs" if design == "varying_pairs" else "raters"
    if icc_vc is not None and icc_vc.forms[vc_form].value is not None:
        stat = icc_vc.forms[vc_form]
        label = VC_LABELS[vc_form][0]
        unit = f"the mean of k = {_k_text(icc_vc.k)} raters" if average else "a single rater"
        reason = (
            f"The {what} vary across sessions, so a two-way form on coder position would "
            f"depend on the arbitrary rater codes; {label} (absolute agreement, {unit}) comes "
            "from the variance components of the crossed random-effects model (session and "
            f"rater random, REML, every rating; {TEN_HOVE})."
        )
        fits, note = _default_fit(default, design, vc_form)
        return Recommendation(
            vc_form, "icc_vc", label, stat.value, stat.ci95, reason, default, fits, note
        )
    why = icc_vc.why if icc_vc is not None and icc_vc.why else "it was not computed"
    reason = (
        f"The {what} vary across sessions, so a two-way form on coder position would depend "
        f"on the arbitrary rater codes, and the variance-component model cannot be used here "
        f"({why}); the one-way {ICC_LABELS[one_way][0]} is reported."
    )
    fits, note = _default_fit(default, design, one_way)
    return _from_icc(icc, one_way, reason, default, fits, note)


def _k_text(k: float) -> str:
    return str(int(k)) if float(k).is_integer() else f"{k:g}"


def _from_icc(
    icc: IccResult,
    form: str,
    reason: str,
    default: str | None,
    fits: bool | None,
    note: str | None,
) -> Recommendation:
    stat = icc.forms[form]
    return Recommendation(
        form, "icc", ICC_LABELS[form][0], stat.value, stat.ci95, reason, default, fits, note
    )


def _default_fit(default: str | None, design: str, chosen: str) -> tuple[bool | None, str | None]:
    """Whether the scale default fits the design, and a note on it."""
    if default is None:
        return None, None
    sf = ICC_LABELS[default][0]
    if default == chosen:
        return True, None
    if design == "crossed":
        return False, (
            f"the scale file reports {sf} (one-way), but the same raters coded every session: "
            "the one-way model ignores the rater effect, so the two-way form is reported"
        )
    if design == "one_way":
        return False, (
            f"the scale file reports {sf}, a two-way form, but no rater coded two sessions: "
            "rater and error variance cannot be separated, so the one-way form is reported"
        )
    if default in TWO_WAY_FORMS:
        return False, (
            f"the scale file reports {sf}, a two-way form; with raters varying across "
            "sessions it is computed on coder position (A = the lower rater id) and changes "
            f"when rater codes are swapped, so {form_label(chosen)} is reported instead"
        )
    if chosen.startswith("ICC_"):
        return True, (
            f"the scale file reports {sf} (one-way), which is valid when raters vary; the "
            f"headline is {form_label(chosen)} from the variance components, which also "
            "separates the rater variance"
        )
    return True, None
