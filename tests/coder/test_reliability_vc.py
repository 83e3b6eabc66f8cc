"""Variance-component ICCs (coder.reliability._vc) and the headline form.

The REML fit is checked against R ``lme4::lmer(score ~ 1 + (1|session) + (1|rater),
REML = TRUE)`` on generated data sets (balanced crossed, varying pairs with
single-coded sessions, unbalanced and incomplete, rater variance at its boundary 0).
lme4 runs with tight optimiser tolerances, so that the comparison tests our fit and
not lme4's default stopping rule: the variance components then agree to 1e-6
relative (1e-9 absolute for a component at 0). In the balanced fully crossed case
the ICCs of the components equal the Shrout & Fleiss forms (ten Hove, Jorgensen & van
der Ark 2022).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coder.reliability import icc, reliability_report
from coder.reliability._vc import _evaluate, _vc_design, _y_stats, fit_variance_components
from tests.r_lang import run_r

R_LMER = r"""
suppressMessages(library(lme4))
d <- read.csv(commandArgs(TRUE)[1], colClasses = c("character", "character", "numeric"))
d$session <- factor(d$session); d$rater <- factor(d$rater)
ctrl <- lmerControl(optimizer = "nloptwrap", check.conv.singular = "ignore",
  optCtrl = list(xtol_abs = 1e-14, ftol_abs = 1e-16, xtol_rel = 0, ftol_rel = 0,
                 maxeval = 100000))
m <- lmer(score ~ 1 + (1 | session) + (1 | rater), data = d, REML = TRUE, control = ctrl)
vc <- as.data.frame(VarCorr(m))
cat(sprintf("%.17g", c(vc$vcov[vc$grp == "session"], vc$vcov[vc$grp == "rater"],
  vc$vcov[vc$grp == "Residual"], REMLcrit(m), fixef(m)[1], isSingular(m))), sep = "\n")
"""


def _lmer(frame: pd.DataFrame, tmp_path: Path) -> dict[str, float]:
    path = tmp_path / "ratings.csv"
    frame[["session", "rater", "score"]].to_csv(path, index=False)
    out = [float(v) for v in run_r(R_LMER, str(path), packages=("lme4",)).split()]
    keys = ("session", "rater", "residual", "deviance", "intercept", "singular")
    return dict(zip(keys, out, strict=True))


def _pairs(sessions: int, raters: int, seed: int, *, rater_sd: float = 0.5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, raters, sessions)
    b = (a + rng.integers(1, raters, sessions)) % raters
    session = np.repeat(np.arange(sessions), 2)
    rater = np.column_stack([a, b]).reshape(-1)
    truth = rng.normal(0, 1.2, sessions)
    bias = rng.normal(0, rater_sd, raters)
    score = truth[session] + bias[rater] + rng.normal(0, 0.8, session.size) + 3.0
    return pd.DataFrame({"session": session, "rater": rater, "score": score})


def _crossed(sessions: int, raters: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    session = np.repeat(np.arange(sessions), raters)
    rater = np.tile(np.arange(raters), sessions)
    truth = rng.normal(0, 1.0, sessions)
    bias = np.linspace(-0.6, 0.6, raters)
    score = np.rint(2.0 * (truth[session] + bias[rater] + rng.normal(0, 0.6, session.size)))
    return pd.DataFrame({"session": session, "rater": rater, "score": score + 4.0})


def _unbalanced(seed: int) -> pd.DataFrame:
    """Sessions with 1, 2 or 3 raters from a pool of 7, some scores missing."""
    rng = np.random.default_rng(seed)
    rows = []
    truth = rng.normal(0, 1.0, 90)
    bias = rng.normal(0, 0.4, 7)
    for s in range(90):
        m = int(rng.choice([1, 2, 3], p=[0.3, 0.5, 0.2]))
        for r in rng.choice(7, m, replace=False):
            rows.append((s, int(r), truth[s] + bias[r] + rng.normal(0, 0.7)))
    frame = pd.DataFrame(rows, columns=["session", "rater", "score"])
    frame.loc[rng.choice(len(frame), 6, replace=False), "score"] = np.nan
    return frame


def _fit(frame: pd.DataFrame, k: float = 2.0, bootstrap: int = 0):  # type: ignore[no-untyped-def]
    return fit_variance_components(
        frame["session"].astype(str).to_numpy(),
        frame["rater"].astype(str).to_numpy(),
        frame["score"].to_numpy(dtype=float),
        k=k,
        bootstrap=bootstrap,
    )


def _assert_matches_lmer(frame: pd.DataFrame, tmp_path: Path) -> None:
    ours = _fit(frame).components
    assert ours is not None
    ref = _lmer(frame.dropna(), tmp_path)
    for key in ("session", "rater", "residual"):
        got, want = getattr(ours, key), ref[key]
        assert got == pytest.approx(want, rel=1e-6, abs=1e-9), key
    assert ours.deviance == pytest.approx(ref["deviance"], rel=1e-9)
    assert ours.intercept == pytest.approx(ref["intercept"], rel=1e-7)


def test_varying_pairs_with_single_coded_sessions_match_lme4(tmp_path: Path) -> None:
    frame = _pairs(150, 6, seed=11)
    rng = np.random.default_rng(2)
    single = pd.DataFrame(
        {
            "session": np.arange(150, 210),
            "rater": rng.integers(0, 6, 60),
            "score": rng.normal(3.0, 1.4, 60),
        }
    )
    _assert_matches_lmer(pd.concat([frame, single], ignore_index=True), tmp_path)


def test_balanced_crossed_matches_lme4(tmp_path: Path) -> None:
    _assert_matches_lmer(_crossed(40, 4, seed=3), tmp_path)


def test_unbalanced_incomplete_design_matches_lme4(tmp_path: Path) -> None:
    _assert_matches_lmer(_unbalanced(seed=5), tmp_path)


def test_rater_variance_at_the_boundary_matches_lme4s_singular_fit(tmp_path: Path) -> None:
    # Many raters whose scores have no bias at all: REML puts s2_r at 0.
    frame = _pairs(120, 8, seed=0, rater_sd=0.0)
    ref = _lmer(frame, tmp_path)
    assert ref["singular"] == 1.0 and ref["rater"] < 1e-12  # the case we mean to test
    result = _fit(frame)
    assert result.singular
    assert result.components is not None and result.components.rater == 0.0
    _assert_matches_lmer(frame, tmp_path)


def test_balanced_crossed_iccs_equal_the_shrout_fleiss_forms() -> None:
    frame = _crossed(50, 3, seed=8)
    matrix = frame.pivot(index="session", columns="rater", values="score").to_numpy()
    sf = icc(matrix)
    vc = _fit(frame, k=3)
    # The identity needs interior components (MSB > MSE and MSJ > MSE).
    assert vc.components is not None and vc.components.rater > 0 and not vc.singular
    pairs = {"ICC_A1": "ICC2", "ICC_C1": "ICC3", "ICC_Ak": "ICC2k", "ICC_Ck": "ICC3k"}
    for ours, theirs in pairs.items():
        assert vc[ours].value == pytest.approx(sf[theirs].value, rel=1e-8, abs=1e-10), ours


def test_the_analytic_gradient_equals_finite_differences() -> None:
    frame = _unbalanced(seed=9).dropna()
    s = frame["session"].to_numpy()
    order = np.argsort(s, kind="stable")
    d = _vc_design(s[order], frame["rater"].to_numpy()[order])
    ys = _y_stats(d, frame["score"].to_numpy()[order][:, None])
    x = np.array([0.9, 0.25])
    h = 1e-6
    base = _evaluate(d, ys, x[:1], x[1:])
    for j in range(2):
        xp, xm = x.copy(), x.copy()
        xp[j] += h
        xm[j] -= h
        fd = (_evaluate(d, ys, xp[:1], xp[1:]).dev[0] - _evaluate(d, ys, xm[:1], xm[1:]).dev[0]) / (
            2 * h
        )
        assert base.grad[0, j] == pytest.approx(fd, rel=1e-6)


def test_bootstrap_intervals_are_deterministic_and_bracket_the_value() -> None:
    frame = _pairs(200, 6, seed=4)
    first = _fit(frame, bootstrap=300)
    second = _fit(frame, bootstrap=300)
    assert first.ci_method == "parametric_bootstrap" and first.n_bootstrap >= 290
    for name, form in first.forms.items():
        assert form.ci95 is not None and form.value is not None
        assert form.ci95 == second.forms[name].ci95
        assert form.ci95[0] < form.value < form.ci95[1]
        assert form.ci95[1] - form.ci95[0] < 0.3  # 200 sessions: a real interval


def test_perfect_agreement_gives_one_and_too_little_data_says_why() -> None:
    frame = pd.DataFrame(
        {"session": [1, 1, 2, 2, 3, 3], "rater": ["a", "b", "b", "c", "a", "c"]}
    ).assign(score=[2.0, 2.0, 5.0, 5.0, 3.0, 3.0])
    perfect = _fit(frame)
    assert all(f.value == 1.0 for f in perfect.forms.values())
    one_rater = frame.assign(rater="a", session=range(6))
    lonely = _fit(one_rater)
    assert lonely.components is None and lonely.why and "two raters" in lonely.why
    assert lonely.forms["ICC_A1"].value is None and lonely.forms["ICC_A1"].why


def _long(frame: pd.DataFrame, item: str = "hw") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "session_id": "S" + frame["session"].astype(str),
            "rater_id": "R" + frame["rater"].astype(str),
            "item_id": item,
            "score": frame["score"],
        }
    )


def test_report_recommends_the_vc_form_for_varying_pairs_and_flags_a_two_way_default() -> None:
    report = reliability_report(_long(_pairs(80, 5, seed=2)), scale_default="ICC2").to_json()
    item = report["items"]["hw"]
    assert item["design"] == "varying_pairs"
    assert item["recommended_form"] == "ICC_A1"
    assert item["recommended"]["value"] == item["icc_vc"]["ICC_A1"]["value"]
    assert item["recommended"]["scale_default"] == "ICC2"
    assert item["recommended"]["scale_default_fits"] is False
    assert "coder position" in item["recommended"]["scale_default_note"]
    assert set(item["icc_vc"]["variance"]) == {"session", "rater", "residual"}
    assert item["icc_vc"]["k"] == 2
    json.dumps(report, allow_nan=False)
    # The mean of k raters when the scale reports ICC2k, with a user-chosen k.
    mean = reliability_report(_long(_pairs(80, 5, seed=2)), scale_default="ICC2k", icc_k=3)
    rec = mean.items["hw"].recommendation
    assert rec is not None and rec.form == "ICC_Ak"
    vc = mean.items["hw"].icc_vc
    assert vc is not None and vc.k == 3.0 and rec.value == vc["ICC_Ak"].value


def test_report_recommends_the_two_way_form_for_a_crossed_design() -> None:
    report = reliability_report(_long(_crossed(30, 3, seed=1)), scale_default="ICC1")
    item = report.items["hw"]
    assert item.design == "crossed" and item.recommendation is not None
    assert item.recommended_form == "ICC2"
    assert item.recommendation.value == item.icc["ICC2"].value
    assert item.recommendation.scale_default_fits is False
    plain = reliability_report(_long(_crossed(30, 3, seed=1)), scale_default="ICC3k")
    assert plain.items["hw"].recommended_form == "ICC3k"
    assert plain.items["hw"].recommendation.scale_default_fits is True  # type: ignore[union-attr]


def test_a_rater_on_one_session_only_is_a_one_way_design() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "session": np.repeat(np.arange(30), 2),
            "rater": np.arange(60),
            "score": np.repeat(rng.normal(3, 1, 30), 2) + rng.normal(0, 0.5, 60),
        }
    )
    item = reliability_report(_long(frame), scale_default="ICC2").items["hw"]
    assert item.design == "one_way"
    assert item.recommended_form == "ICC1"
    assert item.recommendation is not None and item.recommendation.scale_default_fits is False
    assert item.icc_vc is not None and item.icc_vc.why  # raters = ratings: no VC model


def test_swapping_rater_codes_leaves_the_demo_headline_unchanged(demo_project: Path) -> None:
    from coder.discrepancies import reliability_frame
    from coder.store.project import Project

    with Project.open(demo_project) as project:
        frame, ranges = reliability_frame(project, "thabs")
        default = project.scale("thabs").reliability.icc
    swap = {"R1": "R3", "R3": "R1"}
    swapped = frame.assign(rater_id=frame["rater_id"].map(lambda r: swap.get(r, r)))
    before = reliability_report(frame, ranges, scale_default=default).items
    after = reliability_report(swapped, ranges, scale_default=default).items
    moved = 0
    for item_id, item in before.items():
        rec, rec2 = item.recommendation, after[item_id].recommendation
        assert rec is not None and rec2 is not None and rec.form == rec2.form
        if rec.value is None:
            assert rec2.value is None
            continue
        assert rec2.value == pytest.approx(rec.value, rel=1e-9), item_id
        old, new = item.icc["ICC2"].value, after[item_id].icc["ICC2"].value
        moved += old is not None and new is not None and abs(old - new) > 1e-6
    # The coder-position ICC2 does move under the same swap: the test has teeth.
    assert moved >= 1


def test_text_table_shows_the_headline_first_with_reason_and_discrepancy() -> None:
    from coder.reliability import format_report_table

    report = reliability_report(_long(_pairs(60, 5, seed=3)), scale_default="ICC2")
    text = format_report_table(report)
    lines = text.splitlines()
    headline = next(i for i, line in enumerate(lines) if line.startswith("Headline ICC"))
    first_table = next(i for i, line in enumerate(lines) if line.startswith("item   n  k"))
    assert headline < first_table
    row = next(line for line in lines[headline:] if line.startswith("hw "))
    value = report.items["hw"].recommendation.value  # type: ignore[union-attr]
    assert "ICC(A,1)" in row and f"{value:.3f}" in row and row.rstrip().endswith("NO")
    assert "Scale default: the scale file reports ICC(2,1)" in " ".join(lines)
    assert "parametric bootstrap" in text


def test_cli_project_report_uses_the_scales_default_as_intent(demo_project: Path) -> None:
    from tests.cli import run_cli

    out = run_cli("reliability", str(demo_project), "--scale", "thabs", "--json", "--icc-k", "2")
    assert out.returncode == 0, out.stderr
    items = json.loads(out.stdout)["items"]
    spec = items["specification"]
    assert spec["design"] in ("varying_pairs", "varying_raters")
    assert spec["recommended_form"] == "ICC_A1"
    assert spec["recommended"]["scale_default"] == "ICC2"
    assert spec["recommended"]["scale_default_fits"] is False
    assert spec["icc_vc"]["k"] == 2 and spec["icc_vc"]["ci_method"] == "parametric_bootstrap"
    bad = run_cli("reliability", str(demo_project), "--scale", "thabs", "--icc-k", "0.5")
    assert bad.returncode == 2 and "--icc-k" in bad.stderr


@pytest.mark.parametrize(
    ("sessions", "raters", "mean"),
    [(60, 7, 2.5), (200, 4, 0.0)],  # the second: mostly the complement of the rater span
)
def test_bootstrap_draws_have_the_distribution_of_rating_by_rating_simulation(
    sessions: int, raters: int, mean: float
) -> None:
    """The bootstrap draws its statistics in rater space; simulating every rating from
    the same model and summing gives the same distribution (means, spreads and the
    correlations between statistics, to Monte Carlo error)."""
    import math

    from coder.reliability._vc import VarianceComponents, _Simulator, _vc_design, _y_stats

    rng = np.random.default_rng(3)
    rows = [
        (s, int(r))
        for s in range(sessions)
        for r in rng.choice(raters, rng.choice([1, 2, 2, 3]), False)
    ]
    d = _vc_design(np.array([s for s, _ in rows]), np.array([r for _, r in rows]))
    assert d.m.size == 3  # sessions with 1, 2 and 3 ratings
    comps = VarianceComponents(1.3, 0.4, 0.7, mean, 0.0)
    b = 40_000
    drawn = _Simulator(d, comps).draw(np.random.default_rng(1), b)
    g = np.random.default_rng(2)
    a = comps.intercept + math.sqrt(comps.session) * g.standard_normal((d.n_sessions, b))
    v = math.sqrt(comps.rater) * g.standard_normal((d.n_raters, b))
    e = math.sqrt(comps.residual) * g.standard_normal((d.n, b))
    ref = _y_stats(d, a[d.session] + v[d.rater] + e)
    for name in ("sy", "yy", "pyy", "p1y", "wy", "ry"):
        x = getattr(drawn, name).reshape(-1, b)
        y = getattr(ref, name).reshape(-1, b)
        sd = y.std(axis=1)
        live = sd > 0
        assert np.array_equal(live, x.std(axis=1) > 0), name
        z_mean = np.abs(x.mean(axis=1) - y.mean(axis=1))[live] / (sd[live] * math.sqrt(2 / b))
        assert z_mean.max() < 5, name
        assert np.abs(x.std(axis=1)[live] / sd[live] - 1).max() < 0.03, name
    pairs = [("yy", None, "ry", 0), ("pyy", 1, "wy", (1, 2)), ("yy", None, "pyy", 0)]
    for n1, i1, n2, i2 in pairs:
        got = np.corrcoef(
            getattr(drawn, n1) if i1 is None else getattr(drawn, n1)[i1], getattr(drawn, n2)[i2]
        )[0, 1]
        want = np.corrcoef(
            getattr(ref, n1) if i1 is None else getattr(ref, n1)[i1], getattr(ref, n2)[i2]
        )[0, 1]
        assert abs(got - want) < 0.03, (n1, n2, got, want)
