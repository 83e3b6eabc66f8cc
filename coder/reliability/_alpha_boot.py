"""Bootstrap confidence intervals of Krippendorff's alpha (Hayes & Krippendorff 2007).

Hayes, A. F., & Krippendorff, K. (2007). Answering the call for a standard reliability
measure for coding data. *Communication Methods and Measures* 1(1), 77-89 (the KALPHA
macro), and Krippendorff, K. (2006, rev. 2011), "Algorithm for bootstrapping a
distribution of alpha". The bootstrap resamples *pairable values*, not units: with
m_u values in unit u and n = sum of m_u over pairable units, every ordered pair of
values (i, j), i != j, of a unit is one cell entry of the coincidence matrix with
weight 1 / (m_u - 1), so a pair is drawn with probability 1 / ((m_u - 1) n) (the
observed coincidences o_ck / n). Each replicate draws M pairs with replacement, M =
sum_u m_u (m_u - 1) / 2 (the number of pairs of judgments; 239 in Hayes &
Krippendorff's example), and gives

    alpha* = 1 - mean(delta of the drawn pairs) / D_e

with the data's expected disagreement D_e and difference function delta (the ordinal
delta uses the data's category frequencies). As in KALPHA, a replicate below -1 is set
to -1, and of the replicates at exactly 1, as many as the expected number of samples
drawn entirely from one diagonal cell (X * sum_c (o_cc / n)^M, alpha indeterminate)
are set to 0. The interval is the order statistics at 2.5 % and 97.5 % of the sorted
replicates (KALPHA's and ``kripp.boot``'s positions: trunc(0.025 X) and
trunc(0.975 X) + 1, counting from 1).

The draws are vectorised: pairs with the same delta are pooled, and the X replicates
are one multinomial draw over the distinct deltas (or, when there are more distinct
deltas than pairs, a draw of pair indices), in chunks that bound memory. A seed makes
the interval reproducible: the same data and seed give the same interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from coder.reliability._common import FloatArray, IntArray, Statistic
from coder.reliability._krippendorff import ALPHA_LEVELS, AlphaLevel, _moderate, _prepare

#: Replicates of the bootstrap unless a caller asks for another number.
DEFAULT_REPLICATES = 1000
#: The seed of the bootstrap unless a caller gives one: the same data give the same CI.
DEFAULT_SEED = 20070101

# Upper bound of numbers held at once by one chunk of replicates.
_CHUNK_CELLS = 1 << 21
# Up to this many categories squared, pairs are pooled into coincidence cells first.
_CELL_LIMIT = 1 << 16


def alpha_intervals(
    units: npt.ArrayLike,
    values: npt.ArrayLike,
    levels: Sequence[AlphaLevel] = ALPHA_LEVELS,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
) -> dict[str, tuple[float, float] | None]:
    """Bootstrap 95 % intervals of Krippendorff's alpha at several levels.

    The data are those of :func:`coder.reliability.alphas_from_units` (every observed
    rating; units with a single rating cannot be paired and drop out).

    Args:
        units: Unit (session) label of every rating.
        values: The ratings, same length; NaN entries are ignored.
        levels: The levels wanted.
        replicates: X, the bootstrap replicates (at least 40).
        seed: The seed: the same data and seed give the same intervals.

    Returns:
        ``{level: (lower, upper)}``, None where alpha itself is not defined.
    """
    if replicates < 40:
        raise ValueError(f"the bootstrap needs at least 40 replicates, not {replicates}")
    data = _prepare(units, values, None)
    if isinstance(data, Statistic):
        return dict.fromkeys(levels, None)
    n = data.values.size
    v = int(data.codes.max()) + 1
    # Ordered pairs (i, j), i != j, of values within each unit, weight 1 / (m_u - 1).
    order = np.argsort(data.units, kind="stable")
    su = data.units[order]
    starts = np.flatnonzero(np.r_[True, su[1:] != su[:-1]])
    sizes = np.diff(np.r_[starts, su.size])
    first: list[IntArray] = []
    second: list[IntArray] = []
    weight: list[FloatArray] = []
    for m in np.unique(sizes):
        block = order[starts[sizes == m][:, None] + np.arange(int(m))[None, :]]  # units x m
        i, j = np.nonzero(~np.eye(int(m), dtype=bool))
        first.append(block[:, i].reshape(-1))
        second.append(block[:, j].reshape(-1))
        weight.append(np.full(block.shape[0] * i.size, 1.0 / (int(m) - 1)))
    a = data.codes[np.concatenate(first)]
    b = data.codes[np.concatenate(second)]
    w = np.concatenate(weight)
    n_pairs = int(np.sum(sizes * (sizes - 1))) // 2
    if v * v <= _CELL_LIMIT:  # pool the pairs into coincidence cells o_ck
        o = np.bincount(a * v + b, weights=w, minlength=v * v).astype(np.float64)
        cells = np.flatnonzero(o)
        a, b, w = cells // v, cells % v, o[cells]
    diagonal = np.bincount(a[a == b], weights=w[a == b], minlength=v) / n
    counts = np.bincount(data.codes, minlength=v).astype(np.float64)
    domain = np.zeros(v)
    domain[data.codes] = _moderate(data.values)
    out: dict[str, tuple[float, float] | None] = {}
    for level in levels:
        if level == "nominal":
            delta = (a != b).astype(np.float64)
            expected = float(n) * n - float(counts @ counts)
        else:
            x = domain if level == "interval" else np.cumsum(counts) - counts / 2.0
            delta = (x[a] - x[b]) ** 2
            centred = x - float(counts @ x) / n
            expected = 2.0 * n * float(counts @ (centred * centred))
        if not (expected > 0.0 and math.isfinite(expected)):
            out[level] = None
            continue
        distinct, inverse = np.unique(delta, return_inverse=True)
        pooled = np.bincount(inverse.reshape(-1), weights=w, minlength=distinct.size).astype(
            np.float64
        )
        out[level] = bootstrap_ci(
            distinct, pooled, n_pairs, expected / (n * (n - 1.0)), diagonal, replicates, seed
        )
    return out


def bootstrap_ci(
    deltas: FloatArray,
    weights: FloatArray,
    n_pairs: int,
    expected: float,
    diagonal: FloatArray,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
) -> tuple[float, float]:
    """The 95 % bootstrap interval of alpha from the pooled pair deltas.

    Args:
        deltas: Distinct deltas of the ordered within-unit pairs (:func:`pair_deltas`).
        weights: Their draw weights (summing to n, the pairable values).
        n_pairs: M, the pairs drawn per replicate (sum_u m_u (m_u - 1) / 2).
        expected: D_e, the expected disagreement per pair of values.
        diagonal: o_cc / n for every category c (for the indeterminate correction).
        replicates: X, the number of bootstrap replicates (at least 40).
        seed: Seed of :func:`numpy.random.default_rng`.

    Returns:
        ``(lower, upper)``.
    """
    rng = np.random.default_rng(seed)
    p = weights / weights.sum()
    m = int(n_pairs)
    sums = np.empty(replicates)
    if deltas.size <= m:
        chunk = max(1, _CHUNK_CELLS // max(deltas.size, 1))
        for lo in range(0, replicates, chunk):
            hi = min(replicates, lo + chunk)
            counts = rng.multinomial(m, p, size=hi - lo)
            sums[lo:hi] = counts @ deltas
    else:
        chunk = max(1, _CHUNK_CELLS // max(m, 1))
        for lo in range(0, replicates, chunk):
            hi = min(replicates, lo + chunk)
            idx = rng.choice(deltas.size, size=(hi - lo, m), p=p)
            sums[lo:hi] = deltas[idx].sum(axis=1)
    boot = 1.0 - sums / (m * expected)
    np.maximum(boot, -1.0, out=boot)
    ones = np.flatnonzero(boot == 1.0)
    if ones.size:
        # Samples drawn from a single diagonal cell have alpha = 1 - 0/0: KALPHA counts
        # the expected number of them as 0 instead of 1 (Krippendorff 2011).
        with np.errstate(under="ignore"):
            indeterminate = float(np.sum(np.power(diagonal, m)))
        nx = min(int(round(replicates * indeterminate)), int(ones.size))
        boot[ones[:nx]] = 0.0
    boot.sort()
    low = max(math.trunc(0.025 * replicates), 1) - 1
    high = min(math.trunc(0.975 * replicates) + 1, replicates) - 1
    return float(boot[low]), float(boot[high])
