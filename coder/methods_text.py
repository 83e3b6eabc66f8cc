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

from coder.reliability import (
    ICC_LABELS,
    ItemReliability,
    StudyReliability,
    form_label,
    pair_form,
)


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


def _ci(ci95: tuple[float, float] | None) -> str:
    if ci95 is None:
        return ""
    return f", 95% CI [{apa(ci95[0])}, {apa(ci95[1])}]"


@dataclass(frozen=True)
class Headline:
    """The ICC an item's sentence reports: the report's recommendation, as it is.

    Attributes:
        form: A key of the item's ``icc`` or ``icc_vc``.
        label: As a paper writes it (``ICC(A,1)``).
        value: Its value (None when not defined).
        ci95: Its 95 % interval.
        reason: Why this form (the recommendation's reason).
        ci_method: How the interval was computed, in words, when not the F-based one.
    """

    form: str
    label: str
    value: float | None
    ci95: tuple[float, float] | None
    reason: str
    ci_method: str | None = None


def headline(item: ItemReliability, default: str) -> Headline:
    """The form an item's sentence reports: :func:`coder.reliability.recommend_form`'s.

    The recommendation (``item.recommendation``) decides the form and gives the
    reason; without one (an item nobody double-coded) the ``default`` form of the
    Shrout & Fleiss table is named.
    """
    rec = item.recommendation
    if rec is None or rec.form is None:
        stat = item.icc[default]
        return Headline(default, form_label(default), stat.value, stat.ci95, "")
    method = None
    if rec.source == "icc_vc" and item.icc_vc is not None:
        method = item.icc_vc.ci_description
    return Headline(rec.form, rec.label, rec.value, rec.ci95, rec.reason, method)


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
        heads = {i: headline(it, facts.default_form) for i, it in assessed.items()}
        first = next(iter(heads.values()))
        reason = first.reason or (
            "the form the scale's reliability settings name"
            if facts.scale_name
            else "the default form for rating data without a scale"
        )
        reason = reason[:1].lower() + reason[1:].rstrip(".")
        out.append(f"We report the {first.label}: {reason}.")
        if first.ci_method:
            out.append(f"Its 95% confidence intervals are from a {first.ci_method.rstrip('.')}.")
        values = []
        defined: list[float] = []
        for item_id, head in heads.items():
            if head.value is not None:
                defined.append(head.value)
            other = f"{head.label} " if head.label != first.label else ""
            values.append(
                f"{label.get(item_id, item_id)} {other}{apa(head.value)}{_ci(head.ci95)} "
                f"(n = {assessed[item_id].n_sessions})"
            )
        out.append(f"{first.label} was {'; '.join(values)}.")
        if len(defined) > 1:
            mean = sum(defined) / len(defined)
            out.append(
                f"Across {len(defined)} items and composites, it ranged from "
                f"{apa(min(defined))} to {apa(max(defined))} (mean {apa(mean)})."
            )
        varying = [i for i, it in assessed.items() if it.design != "crossed"]
        per_pair = pair_form(first.form)
        spreads = [
            (i, study.pair_summary[i][per_pair])
            for i in varying
            if i in study.pair_summary
            and per_pair in study.pair_summary[i]
            and study.pair_summary[i][per_pair].n_pairs > 1
        ]
        if spreads:
            sf = ICC_LABELS[per_pair][0]
            parts = [
                f"{label.get(i, i)} {apa(s.min)} to {apa(s.max)} (mean {apa(s.mean)}, "
                f"median {apa(s.median)}, {_plural(s.n_pairs, 'pair')})"
                for i, s in spreads
            ]
            out.append(
                f"Computed per rater pair on the sessions each pair shared (a crossed "
                f"two-rater design, {sf}), it ranged {'; '.join(parts)}."
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


__all__ = ["Headline", "MethodsFacts", "apa", "headline", "methods_paragraph"]
