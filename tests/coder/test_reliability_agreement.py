"""Issue 11, points 5 and 6: item kinds decide the statistics; Fleiss' kappa, Gwet's
AC1/AC2 and Brennan-Prediger against irrCAC; bootstrap intervals of Krippendorff's alpha.

Numbers are checked against the references themselves (``irrCAC.raw.CAC``, the
``krippendorff`` package) to 1e-9, and against published figures where we have them:
Gwet's (2014) handbook values that irrCAC documents for its ``raw_4raters`` data, and
the ordinal alpha .7598 and the 239 pairs of Hayes & Krippendorff's (2007) Table 1.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from irrCAC.datasets import raw_4raters, raw_5observers
from irrCAC.raw import CAC

from coder.reliability import (
    alpha_intervals,
    chance_agreement,
    reliability_report,
    statistics_for,
)
from coder.reliability._alpha_boot import bootstrap_ci
from tests.cli import run_cli as run

IRRCAC_WEIGHTS = {"unweighted": "identity", "linear": "linear", "quadratic": "quadratic"}

# Hayes & Krippendorff (2007), Table 1: 40 units, 5 observers, ordinal 0-3 (NaN = not coded).
_HK = """
1 1 2 . 2|1 1 0 1 .|2 3 3 3 .|. 0 0 . 0|0 0 0 . 0|0 0 0 . 0|1 0 2 . 1|1 . 2 0 .|2 2 2 . 2|2 1 1 1 .
. 1 0 0 .|0 0 0 0 .|1 2 2 2 .|3 3 2 2 3|1 1 1 . 1|1 1 1 . 1|2 1 2 . 2|1 2 3 3 .|1 1 0 1 .|0 0 0 . 0
0 0 1 1 .|0 0 . 0 0|2 3 3 3 .|0 0 0 0 .|1 2 . 2 2|0 1 1 1 .|0 0 0 1 0|1 2 1 2 .|1 1 2 2 .|1 1 2 . 2
1 1 0 . 0|2 1 2 1 .|2 2 . 2 2|3 2 2 2 .|2 2 2 . 2|2 2 3 . 2|2 2 2 . 2|2 2 . 1 2|2 2 2 2 .|1 1 1 . 1
"""
HAYES_KRIPPENDORFF = np.array(
    [
        [math.nan if v == "." else float(v) for v in unit.split()]
        for unit in _HK.replace("\n", "|").split("|")
        if unit.strip()
    ]
)


def _irrcac(matrix: np.ndarray, weights: str, categories: list[float]) -> dict[str, dict]:
    frame = pd.DataFrame(matrix)
    cac = CAC(
        frame[frame.notna().any(axis=1)].copy(),  # irrCAC drops unrated units too
        weights=IRRCAC_WEIGHTS[weights],
        categories=categories,
        digits=15,
    )
    gwet = "gwet_ac1" if weights == "unweighted" else "gwet_ac2"
    return {
        "fleiss_kappa": cac.fleiss()["est"],
        gwet: cac.gwet()["est"],
        "brennan_prediger": cac.bp()["est"],
    }


def _assert_matches_irrcac(ours: dict, ref: dict) -> None:
    assert set(ours) == set(ref)
    for key, est in ref.items():
        stat = ours[key]
        assert stat.value == pytest.approx(est["coefficient_value"], abs=1e-9), key
        assert stat.se == pytest.approx(est["se"], abs=1e-9), key
        assert stat.ci95 == pytest.approx(est["confidence_interval"], abs=1e-9), key


# ----------------------------------------------------------------------- irrCAC


@pytest.mark.parametrize("weights", ["unweighted", "linear", "quadratic"])
@pytest.mark.parametrize(
    ("data", "categories"),
    [(raw_4raters, [1.0, 2.0, 3.0, 4.0, 5.0]), (raw_5observers, [0.0, 1.0, 2.0, 3.0])],
)
def test_chance_coefficients_equal_irrcac_on_its_datasets(data, categories, weights) -> None:  # type: ignore[no-untyped-def]
    matrix = data().to_numpy(dtype=float)
    ours = chance_agreement(matrix, categories, weights)
    _assert_matches_irrcac(ours, _irrcac(matrix, weights, categories))


def test_chance_coefficients_equal_gwets_published_values() -> None:
    # Gwet (2014) via irrCAC's documentation of cac.raw4raters (5 decimals).
    ours = chance_agreement(raw_4raters().to_numpy(dtype=float), [1, 2, 3, 4, 5])
    ac1, fleiss = ours["gwet_ac1"], ours["fleiss_kappa"]
    assert (round(ac1.value, 5), round(ac1.se, 5)) == (0.77544, 0.14295)
    assert ac1.ci95 is not None and round(ac1.ci95[0], 5) == 0.46081 and ac1.ci95[1] == 1.0
    assert (round(fleiss.value, 5), round(fleiss.se, 5)) == (0.76117, 0.15302)
    assert fleiss.ci95 is not None and round(fleiss.ci95[0], 5) == 0.42438


@pytest.mark.parametrize("seed", range(6))
def test_chance_coefficients_equal_irrcac_on_random_incomplete_designs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(5, 40)), int(rng.integers(2, 6))
    truth = rng.integers(0, 5, size=(n, 1))
    matrix = np.clip(truth + rng.integers(-1, 2, size=(n, m)), 0, 6).astype(float)
    matrix[rng.random((n, m)) < 0.3] = np.nan  # missing ratings, some single-rated units
    matrix[0, :] = [3.0] * m  # at least one fully rated unit
    categories = [float(c) for c in range(7)]  # full range, some categories unused
    for weights in ("unweighted", "linear", "quadratic"):
        ours = chance_agreement(matrix, categories, weights)
        _assert_matches_irrcac(ours, _irrcac(matrix, weights, categories))


def test_chance_coefficients_without_pairs_or_with_one_category_say_why() -> None:
    single = chance_agreement([[1.0, math.nan], [2.0, math.nan]], [1, 2])
    assert all(s.value is None and "two or more" in (s.why or "") for s in single.values())
    same = chance_agreement([[1.0, 1.0], [1.0, 1.0]], [1, 2])
    assert same["fleiss_kappa"].value is None and "perfect" in (same["fleiss_kappa"].why or "")
    with pytest.raises(ValueError, match="not one of the categories"):
        chance_agreement([[1.0, 7.0]], [1, 2, 3])


# ----------------------------------------------------------------------- alpha bootstrap


def _units(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.repeat(np.arange(matrix.shape[0]), matrix.shape[1]), matrix.reshape(-1)


def test_hayes_krippendorff_example_alpha_and_pairs() -> None:
    data = HAYES_KRIPPENDORFF
    assert data.shape == (40, 5)
    m_u = np.isfinite(data).sum(axis=1)
    assert int((m_u * (m_u - 1) // 2).sum()) == 239  # "a random sample of 239 pairs"
    long = pd.DataFrame(
        {
            "session_id": np.repeat(np.arange(40), 5).astype(str),
            "rater_id": np.tile([f"o{j}" for j in range(5)], 40),
            "item_id": "x",
            "score": data.reshape(-1),
        }
    ).dropna()
    item = reliability_report(long, {"x": (0, 3)}).items["x"]
    ordinal = item.krippendorff_alpha["ordinal"]
    assert round(ordinal.value or 0, 4) == 0.7598  # published
    for level in ("nominal", "ordinal", "interval"):
        stat = item.krippendorff_alpha[level]
        expected = krippendorff.alpha(data.T, level_of_measurement=level)
        assert stat.value == pytest.approx(expected, abs=1e-12)  # the point estimate stays
        assert stat.ci95 is not None
        assert stat.ci95[0] < stat.value < stat.ci95[1]


def _naive_bootstrap(data: np.ndarray, level: str, replicates: int, seed: int) -> np.ndarray:
    """The procedure as Hayes & Krippendorff describe it, one pair at a time."""
    rng = np.random.default_rng(seed)
    values = data[np.isfinite(data)]
    cats, counts = np.unique(values, return_counts=True)
    ranks = dict(zip(cats, np.cumsum(counts) - counts / 2.0, strict=True))

    def delta(c: float, k: float) -> float:
        if level == "nominal":
            return float(c != k)
        if level == "ordinal":
            return (ranks[c] - ranks[k]) ** 2
        return (c - k) ** 2

    pairs, weights = [], []
    for unit in data:
        v = unit[np.isfinite(unit)]
        for i in range(v.size):
            for j in range(v.size):
                if i != j and v.size >= 2:
                    pairs.append(delta(v[i], v[j]))
                    weights.append(1.0 / (v.size - 1))
    n = float(sum(weights))
    pairable = np.concatenate([u[np.isfinite(u)] for u in data if np.isfinite(u).sum() >= 2])
    expected = sum(delta(c, k) for c in pairable for k in pairable) / (n * (n - 1))
    m = int(sum(np.isfinite(u).sum() * (np.isfinite(u).sum() - 1) // 2 for u in data))
    p = np.array(weights) / n
    draws = rng.choice(len(pairs), size=(replicates, m), p=p)
    return np.maximum(1.0 - np.array(pairs)[draws].mean(axis=1) / expected, -1.0)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_vectorised_bootstrap_has_the_distribution_of_the_pair_by_pair_procedure(
    level: str,
) -> None:
    naive = _naive_bootstrap(HAYES_KRIPPENDORFF, level, 4000, 1)
    expected = np.percentile(naive, [2.5, 97.5])
    ci = alpha_intervals(*_units(HAYES_KRIPPENDORFF), (level,), replicates=4000, seed=2)[level]
    assert ci is not None
    assert ci == pytest.approx(tuple(expected), abs=0.012)


def test_bootstrap_is_deterministic_for_a_seed_and_moves_with_it() -> None:
    units, values = _units(HAYES_KRIPPENDORFF)
    first = alpha_intervals(units, values, seed=7)
    again = alpha_intervals(units, values, seed=7)
    other = alpha_intervals(units, values, seed=8)
    assert first == again
    assert first != other
    for level, ci in first.items():
        assert ci is not None and other[level] is not None
        assert abs(ci[0] - other[level][0]) < 0.05  # seed noise only


def test_bootstrap_interval_reflects_sample_size() -> None:
    rng = np.random.default_rng(3)
    widths = []
    for n in (30, 300):
        truth = rng.normal(size=(n, 1))
        matrix = truth + rng.normal(scale=0.7, size=(n, 2))
        (ci,) = alpha_intervals(*_units(matrix), ("interval",)).values()
        assert ci is not None
        widths.append(ci[1] - ci[0])
    # The standard error shrinks as 1/sqrt(n): ten times the sessions, about a third.
    assert 0.2 < widths[1] / widths[0] < 0.5


def test_bootstrap_coverage_is_near_95_percent_on_a_simulated_population() -> None:
    # Two coders, 60 sessions, true score variance 1 and error variance 0.5: the
    # population interval alpha (= ICC(1)) is 1 / 1.5.
    rng = np.random.default_rng(2007)
    true_alpha = 1.0 / 1.5
    hits = 0
    runs = 200
    for run_ in range(runs):
        truth = rng.normal(size=(60, 1))
        matrix = truth + rng.normal(scale=math.sqrt(0.5), size=(60, 2))
        ci = alpha_intervals(*_units(matrix), ("interval",), replicates=400, seed=run_)["interval"]
        assert ci is not None
        hits += ci[0] <= true_alpha <= ci[1]
    assert 0.80 <= hits / runs <= 0.99


def test_bootstrap_caps_at_minus_one_and_zeroes_indeterminate_samples() -> None:
    # Every drawn pair disagrees maximally: alpha* below -1 is reported as -1.
    low = bootstrap_ci(np.array([100.0]), np.array([4.0]), 2, 1.0, np.zeros(2), 100, 1)
    assert low == (-1.0, -1.0)
    # One diagonal cell holds all the weight: every sample is 1 - 0/0, counted as 0.
    zero = bootstrap_ci(np.array([0.0]), np.array([4.0]), 2, 1.0, np.array([1.0, 0.0]), 100, 1)
    assert zero == (0.0, 0.0)


# ----------------------------------------------------------------------- kinds


def test_statistics_for_each_kind() -> None:
    nominal = statistics_for("nominal", "quadratic", "ordinal")
    assert (nominal.icc, nominal.kappa, nominal.alpha) == (False, ("unweighted",), ("nominal",))
    assert (nominal.kappa_weights, nominal.alpha_level) == ("unweighted", "nominal")
    assert nominal.exact and not nominal.within_one and nominal.chance
    duration = statistics_for("duration", "linear", "ordinal")
    assert (duration.icc, duration.kappa, duration.alpha) == (True, (), ("interval",))
    assert (duration.kappa_weights, duration.alpha_level) == (None, "interval")
    assert not (duration.exact or duration.within_one or duration.chance)
    for kind in ("ordinal", "count", "composite", None):
        plan = statistics_for(kind, "linear", "interval")
        assert plan.icc and plan.within_one and len(plan.kappa) == 3 and len(plan.alpha) == 3
        assert (plan.kappa_weights, plan.alpha_level) == ("linear", "interval")
    with pytest.raises(ValueError, match="text items"):
        statistics_for("text")
    with pytest.raises(ValueError, match="kappa weights"):
        statistics_for("ordinal", "cubic")


# ----------------------------------------------------------------------- CLI contract


def _long_csv(path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    """Varying pairs of four raters: a nominal, an ordinal and a duration item."""
    rng = np.random.default_rng(11)
    raters = ["R1", "R2", "R3", "R4"]
    rows = ["session_id,rater_id,item_id,score"]
    wide: dict[str, np.ndarray] = {i: np.full((50, 4), np.nan) for i in ("role", "warmth", "talk")}
    for s in range(50):
        pair = rng.choice(4, size=2, replace=False)
        role, warmth, talk = rng.integers(1, 5), rng.integers(0, 7), rng.integers(30, 900)
        for j in pair:
            scores = {
                "role": role if rng.random() < 0.75 else rng.integers(1, 5),
                "warmth": int(np.clip(warmth + rng.integers(-1, 2), 0, 6)),
                "talk": talk + rng.integers(-20, 21),
            }
            for item, score in scores.items():
                wide[item][s, j] = score
                rows.append(f"s{s},{raters[j]},{item},{score}")
    path.write_text("\n".join(rows) + "\n")
    return path, wide


def test_cli_kinds_decide_the_statistics_and_agreement_matches_irrcac(tmp_path: Path) -> None:
    path, wide = _long_csv(tmp_path / "long.csv")
    args = ["reliability", "--long", str(path), "--range", "role=1..4", "--range", "warmth=0..6"]
    out = run(*args, "--kind", "role=nominal", "--kind", "talk=duration", "--json")
    assert out.returncode == 0, out.stderr
    items = json.loads(out.stdout)["items"]

    role = items["role"]
    assert role["kind"] == "nominal"
    assert (role["kappa_weights"], role["alpha_level"]) == ("unweighted", "nominal")
    for group, keys in (
        ("icc", ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]),
        ("kappa", ["linear", "quadratic"]),
        ("krippendorff_alpha", ["ordinal", "interval"]),
        ("agreement", ["within_one"]),
    ):
        for key in keys:
            assert role[group][key]["value"] is None
            assert role[group][key]["why"].startswith("not applicable to nominal items")
    assert role["kappa"]["unweighted"]["value"] is not None
    assert role["agreement"]["exact"]["value"] is not None
    assert set(role["agreement_coefficients"]) == {"fleiss_kappa", "gwet_ac1", "brennan_prediger"}
    ref = _irrcac(wide["role"], "unweighted", [1.0, 2.0, 3.0, 4.0])
    for key, est in ref.items():
        stat = role["agreement_coefficients"][key]
        assert stat["value"] == pytest.approx(est["coefficient_value"], abs=1e-9)
        assert stat["se"] == pytest.approx(est["se"], abs=1e-9)
        assert stat["ci95"] == pytest.approx(list(est["confidence_interval"]), abs=1e-9)
    nominal = role["krippendorff_alpha"]["nominal"]
    assert nominal["value"] == pytest.approx(
        krippendorff.alpha(wide["role"].T, level_of_measurement="nominal"), abs=1e-9
    )
    assert nominal["ci95"][0] < nominal["value"] < nominal["ci95"][1]

    talk = items["talk"]
    assert talk["kind"] == "duration" and talk["kappa_weights"] is None
    assert talk["icc"]["ICC1"]["value"] is not None
    assert talk["krippendorff_alpha"]["interval"]["value"] is not None
    assert len(talk["krippendorff_alpha"]["interval"]["ci95"]) == 2
    for group, keys in (
        ("kappa", ["unweighted", "linear", "quadratic"]),
        ("krippendorff_alpha", ["nominal", "ordinal"]),
        ("agreement", ["exact", "within_one"]),
        ("agreement_coefficients", ["fleiss_kappa", "gwet_ac1", "brennan_prediger"]),
    ):
        for key in keys:
            assert talk[group][key]["value"] is None
            assert talk[group][key]["why"].startswith("not applicable to duration items")

    # No kind given: every statistic as before, the coefficients with quadratic weights.
    warmth = items["warmth"]
    assert warmth["kind"] is None and warmth["kappa_weights"] == "quadratic"
    assert all(f["value"] is not None for f in warmth["icc"].values())
    ref = _irrcac(wide["warmth"], "quadratic", [float(c) for c in range(7)])
    assert set(warmth["agreement_coefficients"]) == set(ref)
    for key, est in ref.items():
        stat = warmth["agreement_coefficients"][key]
        assert stat["value"] == pytest.approx(est["coefficient_value"], abs=1e-9)
        assert stat["se"] == pytest.approx(est["se"], abs=1e-9)

    # The same command gives the same intervals; the text table shows the new figures.
    assert run(*args, "--kind", "role=nominal", "--kind", "talk=duration", "--json").stdout == (
        out.stdout
    )
    text = run(*args, "--kind", "role=nominal", "--kappa-weights", "linear").stdout
    assert "Gwet AC1/AC2" in text and "alpha 95% CI" in text
    assert "not applicable to nominal items" in " ".join(text.split())
    assert max(len(line) for line in text.splitlines()) <= 100
    linear = json.loads(run(*args, "--kappa-weights", "linear", "--json").stdout)["items"]
    ref = _irrcac(wide["warmth"], "linear", [float(c) for c in range(7)])
    assert linear["warmth"]["agreement_coefficients"]["gwet_ac2"]["value"] == pytest.approx(
        ref["gwet_ac2"]["coefficient_value"], abs=1e-9
    )


def test_cli_refuses_an_unknown_kind_or_item(tmp_path: Path) -> None:
    path, _ = _long_csv(tmp_path / "long.csv")
    bad = run("reliability", "--long", str(path), "--kind", "role=colour")
    assert bad.returncode == 2 and "--kind 'role=colour'" in bad.stderr
    typo = run("reliability", "--long", str(path), "--kind", "rol=nominal")
    assert typo.returncode == 2 and "no item 'rol'" in typo.stderr
    assert "Traceback" not in bad.stderr + typo.stderr


def test_cli_project_follows_the_scale_kinds_and_settings(tmp_path: Path) -> None:
    from tests.exports._project import build_coded_project

    path = tmp_path / "study.scproj"
    build_coded_project(path).close()
    out = run("reliability", str(path), "--scale", "thabs", "--json")
    assert out.returncode == 0, out.stderr
    items = json.loads(out.stdout)["items"]
    # thabs reports quadratic kappa and ordinal alpha (its reliability defaults).
    spec = items["specification"]
    assert (spec["kind"], spec["kappa_weights"], spec["alpha_level"]) == (
        "ordinal",
        "quadratic",
        "ordinal",
    )
    assert "gwet_ac2" in spec["agreement_coefficients"]
    duration = items["duration"]
    assert (duration["kind"], duration["kappa_weights"], duration["alpha_level"]) == (
        "duration",
        None,
        "interval",
    )
    assert duration["kappa"]["quadratic"]["value"] is None
    assert duration["kappa"]["quadratic"]["why"].startswith("not applicable to duration items")
    assert duration["agreement"]["within_one"]["value"] is None
    assert items["behaviour_mean"]["kind"] == "composite"
    # Asking for linear weights changes the reported kappa and Gwet's weights only.
    linear = json.loads(
        run(
            "reliability", str(path), "--scale", "thabs", "--kappa-weights", "linear", "--json"
        ).stdout
    )["items"]["specification"]
    assert linear["kappa_weights"] == "linear"
    assert linear["kappa"] == spec["kappa"]
    assert linear["agreement_coefficients"] != spec["agreement_coefficients"]
