"""Inter-rater reliability and internal consistency of rating-scale data.

Plain functions on numbers and DataFrames, no Qt (SPEC section 5). The statistics
equal their reference implementations to 1e-9 on the same data (R ``psych``,
``pingouin``, the ``krippendorff`` package, scikit-learn; see
``tests/coder/test_reliability*.py``), and undefined cases give ``value=None`` with
the reason instead of NaN.

Main entry points:

- :func:`load_long_csv` reads ``session_id,rater_id,item_id,score``;
- :func:`reliability_report` gives a typed :class:`ReliabilityReport` (one
  :class:`ItemReliability` per item; numbers stay floats, an infinite F stays
  ``math.inf``); its ``to_json()`` is the JSON document of SPEC section 9 and
  :func:`format_report_table` the CLI's plain-text view;
- :func:`fit_variance_components` fits score ~ 1 + (1|session) + (1|rater) by REML
  (as R ``lme4``) and gives ICC(A,1), ICC(A,k), ICC(C,1), ICC(C,k) with parametric
  bootstrap intervals (:class:`IccVc`); :func:`recommend_form` is the one rule that
  picks an item's headline ICC from its design (:class:`Recommendation`);
- :func:`reliability_by_pair` and :func:`reliability_drift` break it down by rater
  pair and over coding time (:class:`ReliabilityByPair`, :class:`ReliabilityDrift`);
- :func:`study_reliability` gives the whole document of the reliability command
  (:class:`StudyReliability`: the report, per-pair tables and their summary over
  pairs, Cronbach's alpha of composites, structurally fixed items, the subset and
  the training sessions) from one reading of the data (``vc_bootstrap=False`` leaves
  out the variance components' bootstrap intervals, most of the time on large data);
- :func:`icc`, :func:`cohens_kappa`, :func:`krippendorff_alpha`, :func:`agreement`,
  :func:`chance_agreement` (Fleiss' kappa, Gwet's AC1/AC2, Brennan-Prediger) and
  :func:`cronbach_alpha` work on plain matrices, :func:`alpha_intervals` gives
  bootstrap intervals of alpha, and :func:`pair_reliability` gives all two-coder
  statistics of one item in a single pass;
- :func:`statistics_for` is the one rule of which statistics an item's kind allows.
"""

from coder.reliability._agreement import Agreement, agreement, cronbach_alpha
from coder.reliability._alpha_boot import alpha_intervals
from coder.reliability._chance import (
    CHANCE_LABELS,
    chance_agreement,
    chance_agreement_from_units,
)
from coder.reliability._common import Statistic, json_number
from coder.reliability._icc import (
    ICC_FORMS,
    ICC_LABELS,
    IccForm,
    IccResult,
    complete_rows,
    icc,
)
from coder.reliability._io import LONG_COLUMNS, load_long_csv, validate_long_frame
from coder.reliability._kappa import KAPPA_WEIGHTS, KappaWeights, cohens_kappa
from coder.reliability._kinds import StatisticPlan, statistics_for
from coder.reliability._krippendorff import (
    ALPHA_LEVELS,
    AlphaLevel,
    alpha_from_units,
    alphas_from_units,
    krippendorff_alpha,
)
from coder.reliability._pair_summary import (
    PairSpread,
    PairSummary,
    by_pair_json,
    format_pair_tables,
    pair_form,
    pair_summary_json,
    summarize_pairs,
)
from coder.reliability._pairs import PairReliability, pair_reliability, pair_reliability_items
from coder.reliability._recommend import Recommendation, form_label, recommend_form
from coder.reliability._report import (
    DESIGN_LABELS,
    STATISTIC_GROUPS,
    CategoryRange,
    DriftWindow,
    ItemDesign,
    ItemReliability,
    PairReport,
    ReliabilityByPair,
    ReliabilityDrift,
    ReliabilityReport,
    check_design,
    format_report_table,
    reliability_by_pair,
    reliability_drift,
    reliability_report,
)
from coder.reliability._study import (
    CompositeAlpha,
    StudyReliability,
    Subset,
    composite_alphas,
    fixed_items,
    format_study,
    headline_pair_form,
    study_reliability,
)
from coder.reliability._vc import (
    VC_FORMS,
    VC_LABELS,
    IccVc,
    VarianceComponents,
    VcForm,
    fit_variance_components,
)

__all__ = [
    "recommend_form",
    "form_label",
    "Recommendation",
    "fit_variance_components",
    "VcForm",
    "VarianceComponents",
    "IccVc",
    "VC_LABELS",
    "VC_FORMS",
    "ALPHA_LEVELS",
    "CHANCE_LABELS",
    "DESIGN_LABELS",
    "ICC_FORMS",
    "ICC_LABELS",
    "KAPPA_WEIGHTS",
    "LONG_COLUMNS",
    "STATISTIC_GROUPS",
    "Agreement",
    "AlphaLevel",
    "CategoryRange",
    "CompositeAlpha",
    "DriftWindow",
    "IccForm",
    "IccResult",
    "ItemDesign",
    "ItemReliability",
    "KappaWeights",
    "PairReliability",
    "PairReport",
    "PairSpread",
    "PairSummary",
    "ReliabilityByPair",
    "ReliabilityDrift",
    "ReliabilityReport",
    "Statistic",
    "StudyReliability",
    "Subset",
    "StatisticPlan",
    "agreement",
    "alpha_from_units",
    "alpha_intervals",
    "chance_agreement",
    "chance_agreement_from_units",
    "alphas_from_units",
    "by_pair_json",
    "check_design",
    "cohens_kappa",
    "complete_rows",
    "composite_alphas",
    "cronbach_alpha",
    "fixed_items",
    "format_pair_tables",
    "format_report_table",
    "format_study",
    "icc",
    "json_number",
    "krippendorff_alpha",
    "load_long_csv",
    "pair_reliability",
    "pair_reliability_items",
    "pair_form",
    "headline_pair_form",
    "pair_summary_json",
    "reliability_by_pair",
    "reliability_drift",
    "reliability_report",
    "study_reliability",
    "summarize_pairs",
    "statistics_for",
    "validate_long_frame",
]
