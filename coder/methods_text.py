"""The methods paragraph a lab pastes into its paper (``reliability ... --methods``).

:func:`methods_paragraph` writes it from the objects the reliability tables are made
of (a :class:`coder.reliability.StudyReliability` and the design facts of
:class:`coder.reliability_project.ProjectStudy`); it computes no statistic itself, so
its numbers are the tables' numbers, rounded to two decimals in APA style (no leading
zero for figures bounded by 1: ``.78``).

What it says, in order: how many sessions were coded and what share was double-coded
(and the subset, when one was chosen); how the double-coded sessions were allocated
(the stored plan's strata, seed and rater pairs); which raters; which ICC form is
reported and why; each item's value with its 95 % CI, and the range and mean over
items; the per-pair summary where pairs vary; Cronbach's alpha of the composites;
structurally fixed items; and the training sessions when reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from coder.reliability import ICC_LABELS, IccForm, ItemReliability, StudyReliability


@dataclass(frozen=True)
class MethodsFacts:
    """The design facts around a study that the statistics do not hold.

    Attributes:
        scale_name: The scale's name (None for a long CSV).
        n_coded: Sessions with a coding that counts for analysis (None: unknown,
            then the paragraph counts the sessions of the data).
        plan_params: The stored plan's inputs (``PlanRequest.as_dict``), or None.
        plan_summary: The stored plan's summary (``PlanSummary.as_dict``), or None.
        default_form: The ICC form to report when the report recommends none (the
            scale's ``reliability.icc``; ``ICC2`` for a long CSV).
        labels: item id -> label, for the text (ids where missing).
    """

    scale_name: str | None = None
    n_coded: int | None = None
    plan_params: Mapping[str, Any] | None = None
    plan_summary: Mapping[str, Any] | None = None
    default_form: str = "ICC2"
    labels: Mapping[str, str] = field(default_factory=dict)


def apa(value: float | None) -> str:
    """A coefficient as APA writes it: two decimals, no leading zero (``-.05``, ``1.00``)."""
    if value is None:
        return "n/a"
    text = f"{value:.2f}"
    if text in ("1.00", "-1.00"):
        return text
    return text.replace("0.", ".", 1)


def _ci(form: IccForm) -> str:
    if form.ci95 is None:
        return ""
    return f", 95% CI [{apa(form.ci95[0])}, {apa(form.ci95[1])}]"


def headline_form(item: ItemReliability, default: str, *, scale: bool = True) -> tuple[str, str]:
    """The ICC form an item's paragraph reports, and why.

    Returns:
        ``(form, reason)``: the scale's default form (``reliability.icc``; for a long
        CSV, ``default``) with the design caveat of the report when the design is
        not crossed.
    """
    reason = (
        "the form the scale's reliability settings name"
        if scale
        else "the default form for rating data without a scale"
    )
    if item.design == "varying_pairs":
        reason += (
            "; rater pairs varied across sessions, so the two-way forms are computed with "
            "coder A as the rater with the lower code"
        )
    return default, reason


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _join(words: Sequence[str]) -> str:
    if len(words) <= 2:
        return " and ".join(words)
    return ", ".join(words[:-1]) + ", and " + words[-1]


def _allocation(facts: MethodsFacts, raters: Sequence[str]) -> list[str]:
    params, summary = facts.plan_params, facts.plan_summary
    out: list[str] = []
    if params is None or summary is None:
        if raters:
            out.append(
                f"The double-coded sessions were coded by {_plural(len(raters), 'rater')} ({', '.join(raters)})."
            )
        return out
    stratify = [str(s).replace("_", " ") for s in params.get("stratify", [])]
    strata = summary.get("strata", {})
    how = "drawn at random"
    if stratify:
        how += f", stratified by {_join(stratify)} ({_plural(len(strata), 'stratum', 'strata')})"
    seed = params.get("seed")
    if seed is not None:
        how += f" (seed {seed})"
    pairs = [p for p in summary.get("pair_counts", []) if int(p.get("count", 0)) > 0]
    pool = [str(r) for r in params.get("raters", [])] or list(raters)
    sentence = f"Sessions for double coding were {how} from a pool of {_plural(len(pool), 'rater')} ({', '.join(pool)})"
    if pairs:
        counts = [int(p["count"]) for p in pairs]
        sentence += (
            f", allocated to {_plural(len(pairs), 'rater pair')} "
            f"({min(counts)} to {max(counts)} sessions per pair)"
            if min(counts) != max(counts)
            else f", allocated to {_plural(len(pairs), 'rater pair')} ({counts[0]} sessions each)"
        )
    out.append(sentence + ".")
    training = params.get("training") or []
    if training:
        out.append(f"{_plural(len(training), 'training session')} were coded by every rater.")
    return out


def methods_paragraph(study: StudyReliability, facts: MethodsFacts) -> str:
    """The methods paragraph of one study (see the module docstring).

    Args:
        study: The reliability document (the tables' objects).
        facts: The design facts around it.

    Returns:
        One paragraph of plain text.
    """
    items = study.report.items
    label = facts.labels
    assessed = {i: it for i, it in items.items() if it.n_double_coded > 0 and i not in study.fixed}
    n_double = max((it.n_double_coded for it in items.values()), default=0)
    raters = sorted({r for it in items.values() for r in it.raters})
    what = f"the {facts.scale_name}" if facts.scale_name else "the ratings"
    out: list[str] = []
    subset = f" ({study.subset.describe()})" if study.subset.where else ""
    if facts.n_coded:
        share = 100 * n_double / facts.n_coded
        out.append(
            f"Inter-rater reliability of {what} was assessed on {n_double} of "
            f"{_plural(facts.n_coded, 'coded session')}{subset} that were coded independently "
            f"by two raters ({share:.0f}% double-coded)."
        )
    else:
        out.append(
            f"Inter-rater reliability of {what} was assessed on "
            f"{_plural(n_double, 'double-coded session')}{subset}."
        )
    out += _allocation(facts, raters)
    if assessed:
        first = next(iter(assessed.values()))
        form, reason = headline_form(first, facts.default_form, scale=facts.scale_name is not None)
        sf, mw, desc = ICC_LABELS[form]
        out.append(f"We report the {sf} ({mw}; {desc}): {reason}.")
        values = []
        defined: list[float] = []
        for item_id, it in assessed.items():
            stat = it.icc[form]
            if stat.value is not None:
                defined.append(stat.value)
            values.append(
                f"{label.get(item_id, item_id)} {apa(stat.value)}{_ci(stat)} (n = {it.n_sessions})"
            )
        out.append(f"{sf} was {'; '.join(values)}.")
        if len(defined) > 1:
            mean = sum(defined) / len(defined)
            out.append(
                f"Across {len(defined)} items and composites, {sf} ranged from "
                f"{apa(min(defined))} to {apa(max(defined))} (mean {apa(mean)})."
            )
        varying = [i for i, it in assessed.items() if it.design != "crossed"]
        spreads = [
            (i, study.pair_summary[i][form])
            for i in varying
            if i in study.pair_summary and study.pair_summary[i][form].n_pairs > 1
        ]
        if spreads:
            parts = [
                f"{label.get(i, i)} {apa(s.min)} to {apa(s.max)} (mean {apa(s.mean)}, "
                f"median {apa(s.median)}, {_plural(s.n_pairs, 'pair')})"
                for i, s in spreads
            ]
            out.append(
                f"Computed per rater pair on the sessions each pair shared, {sf} ranged "
                f"{'; '.join(parts)}."
            )
    if study.fixed:
        names = [f"{label.get(i, i)} (always {v:g})" for i, v in study.fixed.items()]
        verb = "was" if len(names) == 1 else "were"
        out.append(
            f"{_join(names)} had no variance in these sessions (structurally fixed) and "
            f"{verb} not assessed."
        )
    alphas = [
        f"{label.get(cid, cid)} {apa(c.alpha.value)}"
        + (
            f", 95% CI [{apa(c.alpha.ci95[0])}, {apa(c.alpha.ci95[1])}]"
            if c.alpha.ci95 is not None and c.alpha.value is not None
            else ""
        )
        for cid, c in study.composites.items()
    ]
    if alphas:
        out.append(f"Internal consistency (Cronbach's alpha) was {'; '.join(alphas)}.")
    if study.training is not None and study.n_training_sessions:
        train = [
            f"{label.get(i, i)} {apa(it.icc['ICC2k'].value)}"
            for i, it in study.training.items.items()
            if i not in study.fixed
        ]
        k = max((it.k for it in study.training.items.values()), default=0)
        out.append(
            f"On {_plural(study.n_training_sessions, 'training session')} coded by all "
            f"{k} raters, ICC(2,k) was {'; '.join(train)}."
        )
    return " ".join(out)


__all__ = ["MethodsFacts", "apa", "headline_form", "methods_paragraph"]
