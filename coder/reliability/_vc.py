"""Variance components of the crossed random-effects model, and the ICCs built on them.

For designs where raters vary from session to session (rotating pairs, partial double
coding), the two-way Shrout & Fleiss forms computed on coder position (A = the lower
rater id) depend on arbitrary rater codes. ten Hove, Jorgensen & van der Ark (2022,
Psychological Methods, "Updated guidelines on selecting an ICC for interrater
reliability, with applications to incomplete observational designs") instead
estimate the variance components of

    score = mu + u_session + v_rater + e,   u ~ N(0, s2_s), v ~ N(0, s2_r), e ~ N(0, s2_e)

from every rating of the item (incomplete designs allowed) and report

- ICC(A,1) = s2_s / (s2_s + s2_r + s2_e), ICC(A,k) = s2_s / (s2_s + (s2_r + s2_e) / k),
- ICC(C,1) = s2_s / (s2_s + s2_e),        ICC(C,k) = s2_s / (s2_s + s2_e / k).

The fit is REML, as R ``lme4::lmer(score ~ 1 + (1|session) + (1|rater), REML = TRUE)``
(equal to 1e-6, ``tests/coder/test_reliability_vc.py``). With H = I + a Z_s Z_s' +
c Z_r Z_r' (a = s2_s / s2_e, c = s2_r / s2_e) the REML deviance, profiled over s2_e, is

    log|H| + log(1' H^-1 1) + (n - 1) log(r2) + const,   r2 = y' P y,

and by Woodbury and a Schur complement on the rater block every term needs only
R x R matrices (R = raters): sessions enter through their number of ratings m, so
sums over sessions collapse into sums over the few distinct values of m (the
"groups"). One deviance and analytic gradient cost O(G R^2 + R^3) whatever the
number of sessions, and the same code runs vectorised over bootstrap replicates.

95 % intervals: a parametric bootstrap (:data:`CI_METHOD`): B data sets simulated from
the fitted model on the same design (same sessions, raters and missing ratings,
seeded, so the result is deterministic), each refitted, percentile interval of each
ICC.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import optimize, sparse

from coder.reliability._common import FloatArray, IntArray, json_interval, json_number

VC_FORMS: tuple[str, ...] = ("ICC_A1", "ICC_Ak", "ICC_C1", "ICC_Ck")
"""The four ICCs of the variance components, in the order of the JSON document."""

#: form -> (McGraw & Wong label, description)
VC_LABELS: Mapping[str, tuple[str, str]] = {
    "ICC_A1": ("ICC(A,1)", "absolute agreement, single rater, from variance components"),
    "ICC_Ak": ("ICC(A,k)", "absolute agreement, mean of k raters, from variance components"),
    "ICC_C1": ("ICC(C,1)", "consistency, single rater, from variance components"),
    "ICC_Ck": ("ICC(C,k)", "consistency, mean of k raters, from variance components"),
}

CI_METHOD = "parametric_bootstrap"
CI_DESCRIPTION = (
    "parametric bootstrap: {b} data sets simulated from the fitted model on the same "
    "sessions, raters and missing ratings (seed {seed}), each refitted by REML; "
    "2.5 and 97.5 percentiles of each ICC"
)
BOOTSTRAP_SEED = 20220101
#: Bootstrap replicates: 1000, fewer for large items so that one item simulates at most
#: about 4 million ratings (at least 200).
MAX_BOOTSTRAP = 1000
MIN_BOOTSTRAP = 200
BOOTSTRAP_RATINGS = 4_000_000

_HALF_LOG_2PI = math.log(2.0 * math.pi)
_MAX_RATIO = 1e8  # variance ratios above this mean a residual variance of (almost) 0


@dataclass(frozen=True, slots=True)
class VarianceComponents:
    """REML variance components of score ~ 1 + (1|session) + (1|rater).

    Attributes:
        session: s2_s, the variance of the sessions' true scores.
        rater: s2_r, the variance of the raters' biases (0 at the boundary: lme4's
            "singular fit").
        residual: s2_e.
        intercept: The REML estimate of mu.
        deviance: The REML criterion (-2 log restricted likelihood), as lme4's.
    """

    session: float
    rater: float
    residual: float
    intercept: float
    deviance: float

    def iccs(self, k: float) -> dict[str, float]:
        """ICC(A,1), ICC(A,k), ICC(C,1) and ICC(C,k) for ``k`` raters per session."""
        return _iccs(
            np.array([self.session]), np.array([self.rater]), np.array([self.residual]), k
        )[0]


@dataclass(frozen=True, slots=True)
class VcForm:
    """One ICC of the variance components with its bootstrap interval.

    Attributes:
        name: ``"ICC_A1"``, ``"ICC_Ak"``, ``"ICC_C1"`` or ``"ICC_Ck"``.
        mcgraw_wong: The label, e.g. ``"ICC(A,1)"``.
        description: In words.
        value: The coefficient, or None when not defined.
        ci95: The 95 % interval, or None.
        why: Why the value is missing.
    """

    name: str
    mcgraw_wong: str
    description: str
    value: float | None
    ci95: tuple[float, float] | None
    why: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"value", "ci95", "mcgraw_wong", "description"[, "why"]}`` (strict JSON)."""
        out: dict[str, Any] = {
            "value": json_number(self.value),
            "ci95": json_interval(self.ci95),
            "mcgraw_wong": self.mcgraw_wong,
            "description": self.description,
        }
        if self.why is not None:
            out["why"] = self.why
        return out


@dataclass(frozen=True, slots=True)
class IccVc:
    """The variance-component ICCs of one item (ten Hove et al. 2022).

    Attributes:
        components: The REML fit, or None when the model cannot be fitted.
        forms: ``{"ICC_A1": VcForm, ...}`` in :data:`VC_FORMS` order.
        k: Raters per session in the ICC(.,k) forms.
        n_ratings: Ratings in the fit.
        n_sessions: Sessions in the fit (every coded session, single-coded too).
        n_raters: Raters in the fit.
        singular: True when the rater variance is at its boundary 0.
        ci_method: :data:`CI_METHOD`, or None without intervals.
        ci_description: The interval method in words.
        n_bootstrap: Replicates that converged (of ``b_requested``).
        why: Why nothing is defined.
    """

    components: VarianceComponents | None
    forms: Mapping[str, VcForm]
    k: float
    n_ratings: int
    n_sessions: int
    n_raters: int
    singular: bool = False
    ci_method: str | None = None
    ci_description: str | None = None
    n_bootstrap: int = 0
    why: str | None = None

    def __getitem__(self, name: str) -> VcForm:
        return self.forms[name]

    def to_dict(self) -> dict[str, Any]:
        """The ``icc_vc`` object of the report's JSON (strict JSON)."""
        c = self.components
        k: float | int = int(self.k) if float(self.k).is_integer() else float(self.k)
        out: dict[str, Any] = {
            "variance": {
                "session": json_number(c.session if c else None),
                "rater": json_number(c.rater if c else None),
                "residual": json_number(c.residual if c else None),
            },
            **{name: form.to_dict() for name, form in self.forms.items()},
            "k": k,
            "intercept": json_number(c.intercept if c else None),
            "reml_deviance": json_number(c.deviance if c else None),
            "singular": self.singular,
            "n_ratings": self.n_ratings,
            "n_sessions": self.n_sessions,
            "n_raters": self.n_raters,
            "model": "score ~ 1 + (1|session) + (1|rater), REML",
            "ci_method": self.ci_method,
            "ci_description": self.ci_description,
            "n_bootstrap": self.n_bootstrap,
        }
        if self.why is not None:
            out["why"] = self.why
        return out


# ----------------------------------------------------------------------------- design


@dataclass(frozen=True, slots=True)
class _VcDesign:
    """Everything of the design the deviance needs (no scores).

    Sessions are grouped by their number of ratings m (group g: m[g], count[g]).
    """

    n: int
    n_sessions: int
    n_raters: int
    session: IntArray  # per rating, 0..S-1, sorted
    rater: IntArray  # per rating, 0..R-1
    starts: IntArray  # first rating of each session
    m: FloatArray  # (G,)
    count: FloatArray  # (G,) sessions per group
    gram: FloatArray  # (G, R, R) N_g' N_g
    rater_n: FloatArray  # (R,) ratings per rater
    w1: FloatArray  # (G, R) N_g' m
    p11: FloatArray  # (G,) sum of m^2 over the group
    session_m: FloatArray  # (S,) m of each session
    session_group: IntArray  # (S,)
    group_inc: Any  # sparse (G*R, S): N_g' stacked by group
    group_sum: Any  # sparse (G, S): group indicator
    rater_inc: Any  # sparse (R, n): Z_r'


def _vc_design(session: IntArray, rater: IntArray) -> _VcDesign:
    """The design of ratings given by (session code, rater code), sorted by session."""
    n = int(session.size)
    _, s_idx = np.unique(session, return_inverse=True)
    r_codes, r_idx = np.unique(rater, return_inverse=True)
    s_idx = s_idx.astype(np.intp).reshape(-1)
    r_idx = r_idx.astype(np.intp).reshape(-1)
    n_s = int(s_idx.max()) + 1 if n else 0
    n_r = int(r_codes.size)
    starts = np.flatnonzero(np.r_[True, s_idx[1:] != s_idx[:-1]]) if n else np.zeros(0, np.intp)
    session_m = np.bincount(s_idx, minlength=n_s).astype(np.float64)
    m_values, session_group = np.unique(session_m, return_inverse=True)
    session_group = session_group.astype(np.intp).reshape(-1)
    n_g = int(m_values.size)
    inc = sparse.csr_matrix(
        (np.ones(n), (s_idx, r_idx)), shape=(n_s, n_r)
    )  # N: sessions x raters (counts)
    gram = np.zeros((n_g, n_r, n_r))
    w1 = np.zeros((n_g, n_r))
    blocks = []
    for g in range(n_g):
        sel = (session_group == g).astype(np.float64)
        ng_t = (inc.T @ sparse.diags(sel)).tocsr()  # N_g': other groups' columns are 0
        gram[g] = (ng_t @ inc).toarray()
        w1[g] = np.asarray(ng_t.sum(axis=1)).reshape(-1) * m_values[g]
        blocks.append(ng_t)
    # N_g' t of every group at once: row g * R + r.
    group_inc = sparse.csr_matrix(sparse.vstack(blocks)) if blocks else None
    group_sum = sparse.csr_matrix((np.ones(n_s), (session_group, np.arange(n_s))), shape=(n_g, n_s))
    rater_inc = sparse.csr_matrix((np.ones(n), (r_idx, np.arange(n))), shape=(n_r, n))
    count = np.bincount(session_group, minlength=n_g).astype(np.float64)
    return _VcDesign(
        n=n,
        n_sessions=n_s,
        n_raters=n_r,
        session=s_idx,
        rater=r_idx,
        starts=starts.astype(np.intp),
        m=m_values.astype(np.float64),
        count=count,
        gram=gram,
        rater_n=np.bincount(r_idx, minlength=n_r).astype(np.float64),
        w1=w1,
        p11=count * m_values * m_values,
        session_m=session_m,
        session_group=session_group,
        group_inc=group_inc,
        group_sum=group_sum,
        rater_inc=rater_inc,
    )


@dataclass(frozen=True, slots=True)
class _YStats:
    """Score statistics of B data sets (last axis B) on one design."""

    sy: FloatArray  # (B,) sum y
    yy: FloatArray  # (B,) sum y^2
    pyy: FloatArray  # (G, B) sum over the group of t^2 (t = session sums)
    p1y: FloatArray  # (G, B) sum over the group of m t
    wy: FloatArray  # (G, R, B) N_g' t
    ry: FloatArray  # (R, B) rater sums

    def take(self, idx: IntArray) -> _YStats:
        """The statistics of data sets ``idx`` only."""
        return _YStats(
            self.sy[idx],
            self.yy[idx],
            self.pyy[:, idx],
            self.p1y[:, idx],
            self.wy[:, :, idx],
            self.ry[:, idx],
        )


def _y_stats(d: _VcDesign, y: FloatArray) -> _YStats:
    """Statistics of scores ``y`` (n x B, rows in the design's order)."""
    t = np.add.reduceat(y, d.starts, axis=0)  # (S, B)
    pyy = np.asarray(d.group_sum @ (t * t))
    p1y = np.asarray(d.group_sum @ (t * d.session_m[:, None]))
    wy = np.asarray(d.group_inc @ t).reshape(d.m.size, d.n_raters, -1)
    ry = np.asarray(d.rater_inc @ y)
    return _YStats(y.sum(axis=0), np.einsum("ij,ij->j", y, y), pyy, p1y, wy, ry)


# ----------------------------------------------------------------------------- deviance


@dataclass(frozen=True, slots=True)
class _Eval:
    dev: FloatArray  # (B,)
    grad: FloatArray  # (B, 2) d/d(alpha, gamma)
    r2: FloatArray  # (B,)
    beta: FloatArray  # (B,)


def _evaluate(d: _VcDesign, ys: _YStats, alpha: FloatArray, gamma: FloatArray) -> _Eval:
    """REML deviance and its gradient at variance ratios (alpha, gamma), batched over B."""
    b = alpha.size
    r = d.n_raters
    dg = alpha[:, None] * d.m[None, :] + 1.0  # (B, G)
    inv_d = 1.0 / dg
    inv_d2 = inv_d * inv_d
    big_m = np.einsum("bg,grs->brs", inv_d, d.gram)  # sum_g G_g / d_g
    eye = np.eye(r)
    s_mat = eye[None] + gamma[:, None, None] * (
        np.diag(d.rater_n)[None] - alpha[:, None, None] * big_m
    )
    s_inv = np.linalg.inv(s_mat)
    logdet_s = _logdet(s_mat)
    # f_u = r_u - alpha sum_g W_g[u] / d_g;  w_u = S^-1 f_u  (= Z_r' H^-1 u)
    wy_sum = np.einsum("bg,grb->br", inv_d, ys.wy)
    w1_sum = inv_d @ d.w1  # (B, R)
    f_y = ys.ry.T - alpha[:, None] * wy_sum
    f_1 = d.rater_n[None, :] - alpha[:, None] * w1_sum
    w_y = np.einsum("brs,bs->br", s_inv, f_y)
    w_1 = np.einsum("brs,bs->br", s_inv, f_1)
    pyy = ys.pyy.T  # (B, G)
    p1y = ys.p1y.T
    q11 = d.n - alpha * (inv_d @ d.p11) - gamma * np.einsum("br,br->b", f_1, w_1)
    q1y = (
        ys.sy - alpha * np.einsum("bg,bg->b", inv_d, p1y) - gamma * np.einsum("br,br->b", f_1, w_y)
    )
    qyy = (
        ys.yy - alpha * np.einsum("bg,bg->b", inv_d, pyy) - gamma * np.einsum("br,br->b", f_y, w_y)
    )
    beta = q1y / q11
    r2 = qyy - beta * q1y
    dof = d.n - 1.0
    logdet_a = np.log(dg) @ d.count + logdet_s
    dev = logdet_a + np.log(q11) + dof * (1.0 + np.log(2.0 * math.pi * r2 / dof))

    # Gradient. log|A|: sum n_g m_g / d_g + tr(S^-1 dS).
    ga_logdet = inv_d @ (d.count * d.m) - gamma * np.einsum("brs,bg,gsr->b", s_inv, inv_d2, d.gram)
    gg_logdet = np.einsum(
        "brs,bsr->b", s_inv, np.diag(d.rater_n)[None] - alpha[:, None, None] * big_m
    )
    # d q(u,u)/d alpha = -sum_g (1/d_g^2)[P_g(u,u) - 2 gamma w_u.W_g[u] + gamma^2 w_u'G_g w_u]
    gw1 = np.einsum("grs,bs->bgr", d.gram, w_1)
    da_q11 = -np.einsum(
        "bg,bg->b",
        inv_d2,
        d.p11[None, :]
        - 2.0 * gamma[:, None] * (w_1 @ d.w1.T)
        + gamma[:, None] ** 2 * np.einsum("bgr,br->bg", gw1, w_1),
    )
    dg_q11 = -np.einsum("br,br->b", w_1, w_1)
    # e = y - beta 1 (beta held fixed): d r2 = d q(e, e)
    w_e = w_y - beta[:, None] * w_1
    p_ee = pyy - 2.0 * beta[:, None] * p1y + (beta * beta)[:, None] * d.p11[None, :]
    w_ge = np.einsum("grb->bgr", ys.wy) - beta[:, None, None] * d.w1[None]
    gwe = np.einsum("grs,bs->bgr", d.gram, w_e)
    da_r2 = -np.einsum(
        "bg,bg->b",
        inv_d2,
        p_ee
        - 2.0 * gamma[:, None] * np.einsum("bgr,br->bg", w_ge, w_e)
        + gamma[:, None] ** 2 * np.einsum("bgr,br->bg", gwe, w_e),
    )
    dg_r2 = -np.einsum("br,br->b", w_e, w_e)
    grad = np.empty((b, 2))
    grad[:, 0] = ga_logdet + da_q11 / q11 + dof * da_r2 / r2
    grad[:, 1] = gg_logdet + dg_q11 / q11 + dof * dg_r2 / r2
    return _Eval(dev, grad, r2, beta)


def _logdet(s_mat: FloatArray) -> FloatArray:
    """log|S| of a batch of S = I + gamma Z_r' H_s^-1 Z_r (symmetric, eigenvalues >= 1).

    From the Cholesky factor, which LAPACK computes in half the time of slogdet's LU
    from about eight raters on (below that the call overhead is all there is, and LU
    is the cheaper call); LU also where rounding leaves S not quite positive definite.
    """
    if s_mat.shape[-1] >= 8:
        try:
            chol = np.linalg.cholesky(s_mat)
        except np.linalg.LinAlgError:
            pass
        else:
            logdet: FloatArray = 2.0 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(axis=-1)
            return logdet
    lu_logdet: FloatArray = np.linalg.slogdet(s_mat)[1]
    return lu_logdet


def _newton(
    d: _VcDesign,
    ys: _YStats,
    x0: FloatArray,
    *,
    max_iter: int = 60,
    tol: float = 1e-11,
    refresh: int = 1,
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Projected Newton on x = (alpha, gamma) >= 0, batched; returns (x, converged).

    The Hessian comes from forward differences of the analytic gradient, recomputed
    every ``refresh`` iterations (in between it is kept: a chord step, one deviance
    evaluation per iteration, for starts close to the optimum). Steps are halved
    until the deviance does not increase. Data sets that have converged drop out of
    the batch.
    """
    x_all = np.array(x0, dtype=np.float64, copy=True)
    done_all = np.zeros(x_all.shape[0], dtype=bool)
    idx = np.arange(x_all.shape[0])
    sub = ys
    x = x_all.copy()
    cur = _evaluate(d, sub, x[:, 0], x[:, 1])
    h = np.zeros((0, 2, 2))
    for it in range(max_iter):
        b = x.shape[0]
        g = cur.grad
        if it % refresh == 0:
            h = _hessian(d, sub, x, g)
        p = _newton_step(x, g, h)
        accepted = np.zeros(b, dtype=bool)
        new_x = x.copy()
        new = cur
        # Step halving on the data sets without descent yet. A step no longer than the
        # tolerance cannot move a data set by more than the tolerance, so halving stops
        # there: the data set has converged (the optimum to rounding, where the deviance
        # no longer falls). When few data sets are left, several halvings are tried in
        # one evaluation (the first step length with descent is taken, as one halving
        # at a time would), since a small evaluation costs its numpy calls, not its rows.
        floor = tol * (1.0 + np.abs(x).max(axis=1))
        reach = np.abs(p).max(axis=1)
        t = 1.0
        halvings = 0
        trying = np.arange(b)
        while halvings < 30:
            trying = trying[t * reach[trying] > floor[trying]]
            n_try = trying.size
            if n_try == 0:
                break
            k = max(1, min(8, 30 - halvings, max(b, 8) // n_try))
            ts = t * 0.5 ** np.arange(k)  # (k,): block j of the rows tries ts[j]
            rows = np.tile(trying, k)
            trial = np.clip(x[rows] + np.repeat(ts, n_try)[:, None] * p[rows], 0.0, _MAX_RATIO)
            part = sub if k == 1 and n_try == b else sub.take(rows)
            ev = _evaluate(d, part, trial[:, 0], trial[:, 1])
            f0 = cur.dev[trying]
            ok = ev.dev.reshape(k, n_try) <= f0 + 1e-12 * np.abs(f0)
            ok &= ts[:, None] * reach[trying][None, :] > floor[trying][None, :]
            found = ok.any(axis=0)
            first = np.argmax(ok, axis=0)[found]  # the longest step with descent
            hit = trying[found]
            take = first * n_try + np.flatnonzero(found)
            new_x[hit] = trial[take]
            new = _put(new, ev, hit, take)
            accepted[hit] = True
            trying = trying[~found]
            halvings += k
            t = float(ts[-1]) * 0.5
        moved = np.abs(new_x - x).max(axis=1)
        # Converged when the step is below tol, or no descent is left (the optimum
        # to rounding).
        finished = (moved <= floor) | ~accepted
        x_all[idx] = new_x
        done_all[idx[finished]] = True
        keep = ~finished
        if not keep.any():
            break
        idx = idx[keep]
        x = new_x[keep]
        cur = _Eval(new.dev[keep], new.grad[keep], new.r2[keep], new.beta[keep])
        h = h[keep]
        sub = ys.take(idx)
    return x_all, done_all


def _hessian(d: _VcDesign, ys: _YStats, x: FloatArray, g: FloatArray) -> FloatArray:
    """Forward-difference Hessian of the deviance from its analytic gradient (batched).

    Both perturbed points of every data set go into one evaluation (2B rows): for
    small designs the cost of an evaluation is its number of numpy calls, not its rows.
    """
    b = x.shape[0]
    step = 1e-6 * np.maximum(x, 1e-3)  # (B, 2)
    xp = np.concatenate([x, x])
    xp[:b, 0] += step[:, 0]
    xp[b:, 1] += step[:, 1]
    gp = _evaluate(d, ys.take(np.tile(np.arange(b), 2)), xp[:, 0], xp[:, 1]).grad
    h = np.empty((b, 2, 2))
    for j in range(2):
        h[:, :, j] = (gp[j * b : (j + 1) * b] - g) / step[:, j, None]
    return 0.5 * (h + np.transpose(h, (0, 2, 1)))


def _newton_step(x: FloatArray, g: FloatArray, h: FloatArray) -> FloatArray:
    """The projected Newton direction (gradient scaled by the diagonal where H is not PD)."""
    b = x.shape[0]
    active = (x <= 0.0) & (g > 0.0)
    p = np.zeros((b, 2))
    both = ~active[:, 0] & ~active[:, 1]
    if both.any():
        hb = h[both]
        det = hb[:, 0, 0] * hb[:, 1, 1] - hb[:, 0, 1] ** 2
        pd = (hb[:, 0, 0] > 0) & (det > 0)
        gb = g[both]
        sol = np.empty_like(gb)
        safe_det = np.where(pd, det, 1.0)
        sol[:, 0] = -(hb[:, 1, 1] * gb[:, 0] - hb[:, 0, 1] * gb[:, 1]) / safe_det
        sol[:, 1] = -(hb[:, 0, 0] * gb[:, 1] - hb[:, 0, 1] * gb[:, 0]) / safe_det
        diag = np.maximum(np.abs(np.diagonal(hb, axis1=1, axis2=2)), 1e-12)
        sol[~pd] = -gb[~pd] / diag[~pd]
        p[both] = sol
    for j in range(2):
        one = ~active[:, j] & active[:, 1 - j]
        if one.any():
            hjj = h[one, j, j]
            p[one, j] = -g[one, j] / np.where(hjj > 0, hjj, np.maximum(np.abs(hjj), 1e-12))
    return p


def _put(a: _Eval, b: _Eval, at: IntArray, rows: IntArray) -> _Eval:
    """``a`` with the entries ``at`` replaced by ``b``'s rows ``rows`` (in that order)."""
    dev, grad, r2, beta = a.dev.copy(), a.grad.copy(), a.r2.copy(), a.beta.copy()
    dev[at], grad[at], r2[at], beta[at] = b.dev[rows], b.grad[rows], b.r2[rows], b.beta[rows]
    return _Eval(dev, grad, r2, beta)


def _start(d: _VcDesign, y: FloatArray) -> FloatArray:
    """Moment estimates of (alpha, gamma) to start the REML iterations from."""
    t = np.add.reduceat(y, d.starts)
    sq = np.add.reduceat(y * y, d.starts)
    multi = d.session_m >= 2
    within = float((sq - t * t / d.session_m)[multi].sum()) / float(
        (d.session_m[multi] - 1.0).sum()
    )
    total = float(np.var(y, ddof=1))
    within = max(within, 1e-3 * total, 1e-300)
    session = max(total - within, 0.05 * total)
    rater_means = np.bincount(d.rater, weights=y, minlength=d.n_raters) / d.rater_n
    rater = max(float(np.var(rater_means, ddof=1)) - within / float(d.rater_n.mean()), 0.0)
    resid = max(within - rater, 0.5 * within)
    return np.array([session / resid, max(rater / resid, 0.01)])


def _fit_one(d: _VcDesign, ys: _YStats, y: FloatArray) -> tuple[FloatArray, _Eval]:
    """The REML optimum of one data set: projected Newton from moment estimates.

    Should Newton stop away from the optimum (a non-convex stretch), L-BFGS-B from
    lme4's start (theta = 1) is tried too and the lower deviance kept.
    """
    x, ok = _newton(d, ys, _start(d, y)[None, :])
    ev = _evaluate(d, ys, x[:, 0], x[:, 1])
    free = x[0] > 0.0
    if not ok[0] or np.any(np.abs(ev.grad[0][free]) > 1e-6 * max(1.0, abs(float(ev.dev[0])))):

        def fun(z: FloatArray) -> tuple[float, FloatArray]:
            e = _evaluate(d, ys, z[:1], z[1:])
            return float(e.dev[0]), e.grad[0]

        best = optimize.minimize(
            fun,
            np.array([1.0, 1.0]),
            jac=True,
            method="L-BFGS-B",
            bounds=[(0.0, _MAX_RATIO), (0.0, _MAX_RATIO)],
            options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 500},
        )
        x2, _ = _newton(d, ys, np.asarray(best.x, dtype=np.float64)[None, :])
        ev2 = _evaluate(d, ys, x2[:, 0], x2[:, 1])
        if ev2.dev[0] < ev.dev[0]:
            x, ev = x2, ev2
    return x[0], ev


def _iccs(s: FloatArray, r: FloatArray, e: FloatArray, k: float) -> list[dict[str, float]]:
    a1 = s / (s + r + e)
    ak = s / (s + (r + e) / k)
    c1 = s / (s + e)
    ck = s / (s + e / k)
    return [
        {"ICC_A1": float(v[0]), "ICC_Ak": float(v[1]), "ICC_C1": float(v[2]), "ICC_Ck": float(v[3])}
        for v in zip(a1, ak, c1, ck, strict=True)
    ]


def _components(x: FloatArray, ev: _Eval, n: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    resid = ev.r2 / (n - 1.0)
    return x[..., 0] * resid, x[..., 1] * resid, resid


def n_bootstrap(n_ratings: int) -> int:
    """Replicates of the parametric bootstrap for an item of ``n_ratings`` ratings."""
    if n_ratings <= 0:
        return 0
    return int(min(MAX_BOOTSTRAP, max(MIN_BOOTSTRAP, BOOTSTRAP_RATINGS // n_ratings)))


def fit_variance_components(
    session: npt.ArrayLike,
    rater: npt.ArrayLike,
    score: npt.ArrayLike,
    *,
    k: float = 2.0,
    bootstrap: int | None = None,
    seed: int = BOOTSTRAP_SEED,
) -> IccVc:
    """Fit score ~ 1 + (1|session) + (1|rater) by REML and give the four ICCs.

    Ratings with a missing score (NaN) are left out; every other rating counts,
    single-coded sessions too (they inform the session and rater variances).

    Args:
        session: Session code of each rating (any integers or strings).
        rater: Rater code of each rating.
        score: The scores.
        k: Raters per session of the ICC(.,k) forms.
        bootstrap: Replicates of the parametric bootstrap (None: :func:`n_bootstrap`;
            0: no intervals).
        seed: Seed of the bootstrap (the default gives the report's intervals).

    Returns:
        The :class:`IccVc`; ``why`` says when the model cannot be fitted (fewer than
        two raters, no session with two ratings, no variation).
    """
    y_all = np.asarray(score, dtype=np.float64).reshape(-1)
    s_all = np.asarray(session).reshape(-1)
    r_all = np.asarray(rater).reshape(-1)
    keep = np.isfinite(y_all)
    y, s_raw, r_raw = y_all[keep], s_all[keep], r_all[keep]
    _, s_codes = np.unique(s_raw, return_inverse=True)
    _, r_codes = np.unique(r_raw, return_inverse=True)
    order = np.argsort(s_codes, kind="stable")
    y = y[order]
    design = _vc_design(s_codes.reshape(-1)[order], r_codes.reshape(-1)[order])
    counts = (design.n, design.n_sessions, design.n_raters)
    why = _why_not(design, y)
    if why is not None:
        return _undefined(why, k, *counts)
    # Fit on standardised scores (no overflow at any magnitude), then scale back: the
    # REML deviance moves by 2 (n - 1) log(scale), the variances by scale^2.
    centre = float(np.mean(y))
    scale = float(np.max(np.abs(y - centre)))
    z = (y - centre) / scale
    ys = _y_stats(design, z[:, None])
    if _within_sessions(design, z) <= 1e-24 * design.n:
        return _perfect(design, z, k, centre, scale)
    x, ev = _fit_one(design, ys, z)
    if float(x.max()) >= 0.5 * _MAX_RATIO:
        why = (
            "the scores differ only by constant rater offsets (no residual variation): the "
            "REML fit has no interior optimum, so the variance-component ICCs are not defined"
        )
        return _undefined(why, k, *counts)
    s2_s, s2_r, s2_e = (float(v[0]) for v in _components(x[None, :], ev, design.n))
    std_comps = VarianceComponents(s2_s, s2_r, s2_e, float(ev.beta[0]), float(ev.dev[0]))
    sq = scale * scale
    comps = VarianceComponents(
        s2_s * sq,
        s2_r * sq,
        s2_e * sq,
        centre + scale * float(ev.beta[0]),
        float(ev.dev[0]) + 2.0 * (design.n - 1.0) * math.log(scale),
    )
    values = std_comps.iccs(k)
    b = n_bootstrap(design.n) if bootstrap is None else int(bootstrap)
    cis: dict[str, tuple[float, float]] = {}
    n_ok = 0
    if b > 0:
        cis, n_ok = _bootstrap(design, std_comps, x, k, b, seed)
    forms = {name: VcForm(name, *VC_LABELS[name], values[name], cis.get(name)) for name in VC_FORMS}
    return IccVc(
        components=comps,
        forms=forms,
        k=float(k),
        n_ratings=design.n,
        n_sessions=design.n_sessions,
        n_raters=design.n_raters,
        singular=bool(x[1] == 0.0 or x[0] == 0.0),
        ci_method=CI_METHOD if n_ok else None,
        ci_description=CI_DESCRIPTION.format(b=n_ok, seed=seed) if n_ok else None,
        n_bootstrap=n_ok,
    )


def _why_not(d: _VcDesign, y: FloatArray) -> str | None:
    if d.n_raters < 2:
        return (
            "the variance-component model needs ratings by at least two raters; "
            f"there {'is' if d.n_raters == 1 else 'are'} {d.n_raters}"
        )
    if d.n_sessions == 0 or d.session_m.max() < 2:
        return "the variance-component model needs at least one session rated twice"
    if d.n_sessions < 2:
        return "the variance-component model needs at least two sessions"
    if d.n_raters >= d.n:
        return (
            "no rater gave more than one rating, so rater and residual variance cannot be "
            "told apart (lme4 refuses such a model too)"
        )
    if float(y.max()) == float(y.min()):
        return "every rating is the same score: with no variance the ICC is not defined"
    return None


def _undefined(why: str, k: float, n: int, n_s: int, n_r: int) -> IccVc:
    forms = {name: VcForm(name, *VC_LABELS[name], None, None, why) for name in VC_FORMS}
    return IccVc(None, forms, float(k), n, n_s, n_r, why=why)


def _within_sessions(d: _VcDesign, y: FloatArray) -> float:
    """Sum of squared deviations of the ratings from their session means."""
    t = np.add.reduceat(y, d.starts)
    return max(float(np.add.reduceat(y * y, d.starts).sum() - (t * t / d.session_m).sum()), 0.0)


def _perfect(d: _VcDesign, y: FloatArray, k: float, centre: float, scale: float) -> IccVc:
    """Every session's ratings agree exactly: residual and rater variance 0, ICC 1.

    ``y`` are the standardised scores (original = centre + scale * y).
    """
    means = np.add.reduceat(y, d.starts) / d.session_m
    s2_s = float(np.var(means, ddof=1))
    comps = VarianceComponents(
        s2_s * scale * scale, 0.0, 0.0, centre + scale * float(means.mean()), math.nan
    )
    forms = {name: VcForm(name, *VC_LABELS[name], 1.0, (1.0, 1.0)) for name in VC_FORMS}
    return IccVc(
        comps,
        forms,
        float(k),
        d.n,
        d.n_sessions,
        d.n_raters,
        singular=True,
        ci_method="none_perfect_agreement",
        ci_description="every session's ratings agree exactly: every ICC is 1",
    )


class _Simulator:
    """Draws the score statistics of data sets simulated from fitted components.

    Not rating by rating, nor session by session: every statistic the deviance needs
    (:class:`_YStats`) is a linear or quadratic function of normal vectors, and is
    drawn from its exact joint distribution in R dimensions (R = raters), so a data
    set costs O(G R^2) whatever the number of sessions.

    With a_s = mu + u_s, E_s the sum of session s's errors and v the rater effects,
    session sums are t = m a + N v + E. Within the sessions of group g (m ratings
    each, incidence N_g), split session space into the span of N_g's columns (rank
    rho, a factor L with L L' = N_g' N_g = G_g) and its complement (f = S_g - rho
    dimensions). In the span a and E are z_a = mu L' 1 / m + s_s xi and z_E =
    sqrt(m) s_e eta (xi, eta standard normal in rho dimensions), and
    N_g' a = L z_a, N_g' E = L z_E. In the complement a and E are s_s X and
    sqrt(m) s_e Y with X, Y independent standard normal in f dimensions, so only
    |X|^2 ~ chi2(f), X.Y = |X| y1 and |Y|^2 = y1^2 + chi2(f - 1) (y1 ~ N(0, 1))
    enter. The raters' error sums are F = sum_g N_g' E_g / m + zeta with zeta ~
    N(0, s2_e K), K = D_r - N' D_s^-1 N, and the sum of squared errors is
    sum E^2 / m + zeta' K^+ zeta + s2_e chi2(n - S - rank K) (the part of e outside
    the span of the session and rater indicators).
    """

    def __init__(self, d: _VcDesign, comps: VarianceComponents) -> None:
        self.d = d
        self.comps = comps
        k_mat = np.diag(d.rater_n) - np.einsum("g,grs->rs", 1.0 / d.m, d.gram)
        lam, vec = np.linalg.eigh(k_mat)
        pos = lam > 1e-9 * max(float(lam.max()), 1.0)
        self.k_root = vec[:, pos] * np.sqrt(lam[pos])[None, :]
        self.rank = int(pos.sum())
        self.chi_df = d.n - d.n_sessions - self.rank
        # Per group: L (R x rho) with L L' = G_g, and the complement's dimension.
        self.roots: list[FloatArray] = []
        self.free: list[int] = []
        for g in range(d.m.size):
            lam_g, vec_g = np.linalg.eigh(d.gram[g])
            keep = lam_g > 1e-9 * max(float(lam_g.max()), 1.0)
            self.roots.append(vec_g[:, keep] * np.sqrt(lam_g[keep])[None, :])
            self.free.append(int(d.count[g]) - int(keep.sum()))

    def draw(self, rng: np.random.Generator, nb: int) -> _YStats:
        d, c = self.d, self.comps
        sd_s = math.sqrt(c.session)
        sd_e = math.sqrt(c.residual)
        r = d.n_raters
        v = rng.standard_normal((r, nb)) * math.sqrt(c.rater)
        g_count = d.m.size
        wy = np.empty((g_count, r, nb))
        pyy = np.empty((g_count, nb))
        ry = d.rater_n[:, None] * v
        yy = np.einsum("r,rb,rb->b", d.rater_n, v, v)
        e_rater = np.zeros((r, nb))  # sum_g N_g' E_g / m
        for g in range(g_count):
            m = float(d.m[g])
            root = self.roots[g]
            rho = root.shape[1]
            z_a = (c.intercept / m) * root.sum(axis=0)[:, None] + sd_s * rng.standard_normal(
                (rho, nb)
            )
            z_e = rng.standard_normal((rho, nb)) * (math.sqrt(m) * sd_e)
            f = self.free[g]
            if f > 0:
                c1 = rng.chisquare(f, nb)
                y1 = rng.standard_normal(nb)
                c2 = rng.chisquare(f - 1, nb) if f > 1 else np.zeros(nb)
            else:
                c1 = y1 = c2 = np.zeros(nb)
            aa = c.session * c1  # |a_perp|^2
            ae = sd_s * math.sqrt(m) * sd_e * np.sqrt(c1) * y1  # a_perp . E_perp
            ee = m * c.residual * (y1 * y1 + c2)  # |E_perp|^2
            na = root @ z_a  # N_g' a
            ne = root @ z_e  # N_g' E
            lv = root.T @ v  # Q' N_g v
            wy[g] = m * na + d.gram[g] @ v + ne
            qt = m * z_a + lv + z_e
            pyy[g] = np.einsum("kb,kb->b", qt, qt) + m * m * aa + 2.0 * m * ae + ee
            ry += na
            e_rater += ne / m
            yy += (
                m * (np.einsum("kb,kb->b", z_a, z_a) + aa)
                + 2.0 * np.einsum("kb,kb->b", z_a, lv)
                + 2.0 * (np.einsum("kb,kb->b", z_a, z_e) + ae)
                + (np.einsum("kb,kb->b", z_e, z_e) + ee) / m
            )
        z = rng.standard_normal((self.rank, nb))
        chi = rng.chisquare(self.chi_df, nb) * c.residual if self.chi_df > 0 else np.zeros(nb)
        f_err = e_rater + self.k_root @ z * sd_e
        ry += f_err
        yy += 2.0 * np.einsum("rb,rb->b", v, f_err) + c.residual * np.einsum("rb,rb->b", z, z) + chi
        p1y = wy.sum(axis=1)
        sy = (p1y / d.m[:, None]).sum(axis=0)
        return _YStats(sy, yy, pyy, p1y, wy, ry)


def _bootstrap(
    d: _VcDesign, comps: VarianceComponents, x: FloatArray, k: float, b: int, seed: int
) -> tuple[dict[str, tuple[float, float]], int]:
    """Percentile intervals of the four ICCs from ``b`` simulated data sets."""
    rng = np.random.default_rng(seed)
    chunk = max(1, min(b, BOOTSTRAP_RATINGS // max(d.n, 1)))
    values: list[FloatArray] = []
    done = 0
    sim = _Simulator(d, comps)
    while done < b:
        nb = min(chunk, b - done)
        done += nb
        ys = sim.draw(rng, nb)
        start = np.repeat(np.maximum(x, 1e-6)[None, :], nb, axis=0)
        xb, ok = _newton(d, ys, start, max_iter=60, tol=1e-6, refresh=4)
        ev = _evaluate(d, ys, xb[:, 0], xb[:, 1])
        s, r, e = _components(xb, ev, d.n)
        good = ok & np.isfinite(s) & (e > 0)
        s, r, e = s[good], r[good], e[good]
        values.append(
            np.stack([s / (s + r + e), s / (s + (r + e) / k), s / (s + e), s / (s + e / k)], axis=1)
        )
    allv = np.concatenate(values, axis=0)
    if allv.shape[0] < 10:
        return {}, 0
    lo, hi = np.percentile(allv, [2.5, 97.5], axis=0)
    return {name: (float(lo[i]), float(hi[i])) for i, name in enumerate(VC_FORMS)}, int(
        allv.shape[0]
    )
