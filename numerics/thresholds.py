"""Thresholds of success curves and convergence times (SPEC 8, 9; issue 4), model-free.

The estimators behind :mod:`numerics.accessibility`: the 50 % point of a success probability measured
on a grid of couplings (logistic maximum likelihood, bootstrap over instances, grid midpoint), its
extrapolation in 1/N, and the budget-free threshold read from how the median convergence time grows
with N.

Thresholds (``thresholds.csv``)
-------------------------------
For each algorithm and N, along the coupling that varies (J_D for the core model or the chain at fixed
lam; lam at fixed J_D for a chain with several lam values), the accessibility threshold is the 50 %
point of the success probability:

1. :func:`fit_logistic`: maximum-likelihood fit of p(x) = 1/(1 + exp(-(x - x_acc)/w)) to the pooled
   counts (binomial likelihood, Newton's method). Used when the pooled success crosses 1/2 inside the
   grid, the fit converges with w > 0, x_acc lies inside the grid, and at least two grid points
   have a pooled success strictly between 0 and 1. (With fewer, the likelihood is maximal for
   w -> 0: the transition is not resolved by the grid and x_acc is pinned to a grid point or left
   anywhere between two, whatever the truth; the bootstrap s.e. would then be spuriously small.)
   Uncertainty: standard deviation of x_acc over ``bootstrap`` resamples of the *instances* (with
   replacement; a resample whose fit is rejected contributes its midpoint); with a single instance,
   the Fisher-information s.e. of the fit.
2. Otherwise :func:`midpoint_threshold`: halfway between the last grid point with pooled success < 1/2
   and the next one; uncertainty = half their distance (the grid resolution).
3. If the success never crosses 1/2 on the grid: no threshold (NaN, method ``below_grid`` when every
   point succeeds at >= 1/2, ``above_grid`` when the last point is still below).

Finite-size extrapolation (:func:`extrapolate_inverse_N`): weighted least squares of
x_acc(N) = x_acc(inf) + b/N over the sizes with a threshold (weights 1/se^2). The s.e. of x_acc(inf)
comes from the fit covariance, multiplied by sqrt(chi2/dof) when that exceeds 1 (three or more sizes;
with two sizes the line goes through both points and the s.e. is propagated from theirs). chi2/dof is
written out so that a visibly non-linear drift in 1/N is not hidden; the extrapolated rows carry
N = inf, inv_N = 0.

Second diagnostic, budget-free (:func:`time_scaling`, ``time_scaling.csv``, and the rows of
``thresholds.csv`` whose method starts with "time scaling"). With a fixed budget the 50 % point
drifts up for as long as convergence times grow with N, so a straight line in 1/N only extrapolates
the *finite-budget* threshold (on the core model it fails: chi2/dof ~ 20-60 at N = 200-1600). At
each coupling, from the sizes where more than half the runs succeed (so the median time does not
depend on the budget), the median time t(N) is fitted in ln-ln scale: slope z (t ~ N^z), local
exponents, and the curvature c of ln t vs ln N with its s.e. (weights from a bootstrap over
instances). Power-law growth is straight (c = 0); growth faster than any power bends up (c > 0);
logarithmic growth bends down. The *time-scaling threshold* is where c reaches 0 just above the
last coupling where it is significantly positive (:func:`curvature_zero`): above it a budget
growing like a power of N suffices, below it none does. A coupling also counts as bending up when, at
the next size, half the runs or more exhaust the budget while the power law through the two largest
measurable sizes predicts a median well inside it (``bends_up``: the median there is at least the
median time of the runs that did converge). It is a finite-size estimate too (three or more sizes, at
most a factor 16 in N here): state the sizes with it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit

from toolkit.rng import make_rng

def logistic(x, x0: float, w: float):
    """p(x) = 1/(1 + exp(-(x - x0)/w)): the 50 % point is x0, w > 0 the width (p rises with x)."""
    return expit((np.asarray(x, float) - x0) / w)


@dataclass(frozen=True)
class LogisticFit:
    """Maximum-likelihood logistic fit: ``x0`` (50 % point), ``width`` w, ``se_x0`` (Fisher
    information at the fit, runs treated as independent), ``ok`` (accepted, see :func:`fit_logistic`),
    ``message``."""
    x0: float
    width: float
    se_x0: float
    ok: bool
    message: str


def _fisher_se(x, n, x0, w) -> float:
    """s.e. of x0 from the expected information I = sum_j n_j p_j (1-p_j) g_j g_j^T,
    g_j = d z_j / d(x0, w) = (-1/w, -z_j/w), z_j = (x_j - x0)/w."""
    z = (x - x0) / w
    p = expit(z)
    v = n * p * (1 - p)
    g = np.stack([-np.ones_like(z) / w, -z / w])
    info = (g * v) @ g.T
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return math.nan
    return float(math.sqrt(cov[0, 0])) if cov[0, 0] > 0 else math.nan


def fit_logistic(x, k, n, *, max_iter: int = 100) -> LogisticFit:
    """Binomial maximum-likelihood fit of :func:`logistic` to k successes out of n at each x.

    Logistic regression p = expit(a + b u) in the scaled variable u = (x - mean x)/span, by Newton's
    method on the concave log-likelihood l = sum_j [k_j ln p_j + (n_j - k_j) ln(1 - p_j)]
    (gradient X^T (k - n p), information X^T diag(n p (1-p)) X, X = [1, u]), halving a step that does
    not increase l; then x0 = mean x - span a/b and w = span/b. The maximum exists and is unique when
    the data are not separated (a point with 0 < k < n suffices). Accepted (``ok``) when Newton
    converged, b > 0 (success rises with x), x0 lies inside [min x, max x] and w > 1e-3 span.
    """
    x, k, n = (np.asarray(a, float) for a in (x, k, n))
    keep = n > 0
    x, k, n = x[keep], k[keep], n[keep]
    if x.size < 2:
        return LogisticFit(math.nan, math.nan, math.nan, False, "fewer than two points")
    lo, hi = float(x.min()), float(x.max())
    span = hi - lo
    if span <= 0:
        return LogisticFit(math.nan, math.nan, math.nan, False, "all points at the same x")
    xm = float(np.sum(n * x) / np.sum(n))
    X = np.stack([np.ones_like(x), (x - xm) / span], axis=1)

    def loglik(beta):
        z = X @ beta
        return float(np.sum(k * log_expit(z) + (n - k) * log_expit(-z)))

    beta = np.zeros(2)
    ll = loglik(beta)
    converged = False
    for _ in range(max_iter):
        p = expit(X @ beta)
        grad = X.T @ (k - n * p)
        info = (X.T * (n * p * (1 - p))) @ X
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        while t > 1e-10:
            cand = beta + t * step
            ll_c = loglik(cand)
            if ll_c >= ll - 1e-12 * abs(ll):
                break
            t *= 0.5
        beta, ll = cand, ll_c
        if np.max(np.abs(t * step)) < 1e-10 * (1.0 + np.max(np.abs(beta))):
            converged = True
            break
        if abs(beta[1]) > 1e6:                         # separated data: b -> infinity
            break
    a, b = float(beta[0]), float(beta[1])
    if not (converged and b > 0):
        msg = "Newton did not converge (separated data?)" if not converged else \
            "success does not rise with x (b <= 0)"
        return LogisticFit(math.nan, math.nan, math.nan, False, msg)
    x0, w = xm - span * a / b, span / b
    se = _fisher_se(x, n, x0, w)
    if not lo <= x0 <= hi:
        return LogisticFit(x0, w, se, False, f"50 % point {x0:.4g} outside the grid [{lo:g}, {hi:g}]")
    if w <= 1e-3 * span:
        return LogisticFit(x0, w, se, False, "width below 1e-3 of the grid span")
    return LogisticFit(x0, w, se, True, "ok")


def midpoint_threshold(x, p) -> tuple[float, float, str]:
    """Midpoint between the last grid point with p < 1/2 and the next one (x sorted internally).

    Returns (threshold, half the distance between the two points, method): method ``midpoint``;
    ``below_grid`` (NaN) when p >= 1/2 everywhere; ``above_grid`` (NaN) when p < 1/2 at the largest x.
    """
    x, p = np.asarray(x, float), np.asarray(p, float)
    order = np.argsort(x, kind="stable")
    x, p = x[order], p[order]
    below = np.flatnonzero(p < 0.5)
    if below.size == 0:
        return math.nan, math.nan, "below_grid"
    j = int(below[-1])
    if j == x.size - 1:
        return math.nan, math.nan, "above_grid"
    return 0.5 * (x[j] + x[j + 1]), 0.5 * (x[j + 1] - x[j]), "midpoint"


@dataclass(frozen=True)
class Threshold:
    """A 50 % point: ``value``, ``se``, ``method`` ("logistic", "midpoint", "below_grid",
    "above_grid"), ``width`` (logistic w, NaN otherwise), ``message``."""
    value: float
    se: float
    method: str
    width: float
    message: str


def _point_estimate(x, k, n) -> tuple[float, float, float, str, str]:
    """(value, fit or grid s.e., width, method, message) from pooled counts (module doc, 1-3)."""
    p = k / np.where(n > 0, n, 1)
    mid, half, mmethod = midpoint_threshold(x, p)
    if mmethod != "midpoint":
        return math.nan, math.nan, math.nan, mmethod, f"success never crosses 1/2 ({mmethod})"
    inner = int(np.count_nonzero((k > 0) & (k < n)))
    if inner < 2:           # the logistic ML fit degenerates (w -> 0): not enough points resolve it
        return mid, half, math.nan, "midpoint", \
            f"{inner} grid point(s) with 0 < p < 1 (the logistic fit needs 2); grid midpoint"
    fit = fit_logistic(x, k, n)
    if fit.ok:
        return fit.x0, fit.se_x0, fit.width, "logistic", "logistic ML fit"
    return mid, half, math.nan, "midpoint", f"logistic rejected ({fit.message}); grid midpoint"


def threshold(x, successes, runs, *, bootstrap: int = 200, rng=None) -> Threshold:
    """50 % point of the success probability along ``x`` (module doc, "Thresholds").

    ``successes`` and ``runs`` have shape (instances, len(x)) (per-instance counts; a 1-d array is one
    pooled instance). Point estimate from the pooled counts; for the logistic method with two or more
    instances the s.e. is the standard deviation over ``bootstrap`` resamples of the instances (``rng``
    required), else the Fisher s.e.; for the midpoint method half the grid gap.
    """
    x = np.asarray(x, float)
    K = np.atleast_2d(np.asarray(successes, float))
    T = np.atleast_2d(np.asarray(runs, float))
    if K.shape != T.shape or K.shape[1] != x.size:
        raise ValueError(f"successes and runs must have shape (instances, {x.size}), got "
                         f"{K.shape} and {T.shape}")
    value, se, width, method, msg = _point_estimate(x, K.sum(0), T.sum(0))
    if method == "logistic" and K.shape[0] >= 2 and bootstrap > 0:
        if rng is None:
            raise ValueError("rng is required for the bootstrap")
        rng = make_rng(rng)
        m = K.shape[0]
        draws = []
        for _ in range(bootstrap):
            idx = rng.integers(0, m, size=m)
            v = _point_estimate(x, K[idx].sum(0), T[idx].sum(0))[0]
            if math.isfinite(v):
                draws.append(v)
        if len(draws) >= 2:
            se = float(np.std(draws, ddof=1))
            msg += f"; s.e. from {len(draws)}/{bootstrap} bootstrap resamples of {m} instances"
    return Threshold(float(value), float(se), method, float(width), msg)


@dataclass(frozen=True)
class Extrapolation:
    """x(N) = value + slope/N fitted by weighted least squares (see :func:`extrapolate_inverse_N`)."""
    value: float
    se: float
    slope: float
    slope_se: float
    chi2: float
    dof: int
    sizes: tuple
    method: str


def extrapolate_inverse_N(Ns, values, se) -> Extrapolation:
    """Finite-size extrapolation x(N) = x_inf + b/N by weighted least squares, weights 1/se^2.

    Points with a non-finite value are dropped; an s.e. that is not finite or is below round-off
    (1e-9 max(1, max |x|)) is replaced by the smallest valid one (or by that floor). Solved on the
    whitened system; covariance (A^T W A)^{-1}, A = [1, 1/N]; with three or
    more sizes it is multiplied by max(1, chi2/dof). Fewer than two sizes: NaN. Two sizes: the line
    through both points (chi2 = 0, dof = 0), s.e. propagated from theirs.
    """
    N = np.asarray(Ns, float)
    y = np.asarray(values, float)
    s = np.asarray(se, float)
    keep = np.isfinite(y) & np.isfinite(N) & (N > 0)
    N, y, s = N[keep], y[keep], s[keep]
    sizes = tuple(int(v) for v in N)
    if N.size < 2 or np.unique(N).size < 2:
        return Extrapolation(math.nan, math.nan, math.nan, math.nan, math.nan, 0, sizes,
                             "fewer than two sizes with a threshold")
    floor = 1e-9 * max(1.0, float(np.max(np.abs(y))))       # below that, an s.e. is round-off
    good = np.isfinite(s) & (s > floor)
    s = np.where(good, s, s[good].min() if good.any() else floor)
    A = np.stack([np.ones_like(N), 1.0 / N], axis=1)
    Aw, yw = A / s[:, None], y / s                           # whitened: cov = (Aw^T Aw)^{-1}
    beta = np.linalg.lstsq(Aw, yw, rcond=None)[0]
    cov = np.linalg.pinv(Aw.T @ Aw)
    chi2 = float(np.sum((yw - Aw @ beta) ** 2))
    dof = int(N.size - 2)
    if dof > 0:
        cov = cov * max(1.0, chi2 / dof)
    return Extrapolation(float(beta[0]), float(math.sqrt(cov[0, 0])), float(beta[1]),
                         float(math.sqrt(cov[1, 1])), chi2, dof, sizes,
                         "weighted least squares in 1/N" + (", s.e. x max(1, sqrt(chi2/dof))"
                                                           if dof > 0 else ", exact through 2 sizes"))


def _weighted_polyfit(u, y, se, deg: int):
    """Least-squares polynomial fit of y(u) of degree ``deg`` (coefficients lowest first) with
    weights 1/se^2 (all 1 when any se is not finite and positive) and the coefficient s.e.: from
    the covariance (A^T W A)^{-1} times max(1, chi2/dof) with weights, from the residuals without
    (NaN when there are no degrees of freedom left)."""
    A = np.vander(u, deg + 1, increasing=True)
    weighted = bool(np.all(np.isfinite(se)) and np.all(se > 0))
    w = 1.0 / se if weighted else np.ones_like(y)
    Aw, yw = A * w[:, None], y * w
    beta = np.linalg.lstsq(Aw, yw, rcond=None)[0]
    cov = np.linalg.pinv(Aw.T @ Aw)
    dof = y.size - (deg + 1)
    chi2 = float(np.sum((yw - Aw @ beta) ** 2))
    if weighted:
        cov = cov * (max(1.0, chi2 / dof) if dof > 0 else 1.0)
    else:
        cov = cov * (chi2 / dof if dof > 0 else math.nan)
    return beta, np.sqrt(np.diag(cov))


def time_scaling(points: Sequence[Mapping]) -> list[dict]:
    """Rows of ``time_scaling.csv``: growth of the convergence time t(N) with N at each coupling.

    For each (algorithm, L, J_D, lam) with a finite unconditional median time (success > 1/2) at two
    or more sizes, in u = ln N and y = ln(time_median_all), weights 1/time_log_se^2 when every size
    has one (unweighted otherwise):

    - ``z``: slope of the straight-line fit (t ~ N^z);
    - ``z_first``, ``z_last``: local exponents between the two smallest and the two largest sizes;
    - ``curvature`` c and ``curvature_se`` (three or more sizes): the quadratic coefficient of
      y = a + b (u - <u>) + c (u - <u>)^2. Polynomial growth has c = 0; growth faster than any power
      (e.g. ln t ~ N^psi) bends up, c > 0; logarithmic or saturating growth bends down, c < 0.

    - ``censored_N``, ``censored_excess``, ``censored_excess_se``, ``bends_up``: when the next
      measured size N' above the last finite median has half or more of its runs unconverged within
      the budget, its median exceeds the budget, hence the median time of the runs that did converge
      (``time_median``), a lower bound t_lb. The power law through the two largest finite sizes
      predicts ln t_pred = (1 + r) ln t_k - r ln t_{k-1}, r = ln(N'/N_k) / ln(N_k/N_{k-1}), with
      s.e. sqrt((1 + r)^2 se_k^2 + r^2 se_{k-1}^2) from ``time_log_se``; ``censored_excess`` =
      ln t_lb - ln t_pred. ``bends_up`` is 1 when it exceeds CURVATURE_Z s.e.: growth faster than
      any power, seen one size beyond where the median can be measured (a one-sided test).

    A coupling where z stays clearly positive means the fixed budget becomes insufficient as N grows,
    so the finite-budget threshold keeps drifting up; :func:`time_scaling_thresholds` turns the sign
    change of c (and ``bends_up``) into the budget-free threshold.
    """
    groups: dict[tuple, list] = {}
    for r in points:
        groups.setdefault((r["algorithm"], r["L"], r["J_D"], r["lam"]), []).append(r)
    rows = []
    for (alg, L, J_D, lam), every in sorted(groups.items()):
        rs = sorted((r for r in every if math.isfinite(r["time_median_all"])
                     and r["time_median_all"] > 0), key=lambda r: r["N"])
        if len(rs) < 2:
            continue
        censored = _censored_excess(rs, [r for r in every if r["N"] > rs[-1]["N"]])
        lN = np.log([float(r["N"]) for r in rs])
        lt = np.log([r["time_median_all"] for r in rs])
        se = np.array([float(r.get("time_log_se", math.nan)) for r in rs])
        u = lN - lN.mean()
        beta, _ = _weighted_polyfit(u, lt, se, 1)
        c, c_se = math.nan, math.nan
        if len(rs) >= 3:
            b2, s2 = _weighted_polyfit(u, lt, se, 2)
            c, c_se = float(b2[2]), float(s2[2])
        rows.append(dict(algorithm=alg, L=L, J_D=J_D, lam=lam, time_unit=rs[0].get("time_unit", ""),
                         z=float(beta[1]), z_first=float((lt[1] - lt[0]) / (lN[1] - lN[0])),
                         z_last=float((lt[-1] - lt[-2]) / (lN[-1] - lN[-2])), curvature=c,
                         curvature_se=c_se, N_min=rs[0]["N"], time_N_min=rs[0]["time_median_all"],
                         N_max=rs[-1]["N"], time_N_max=rs[-1]["time_median_all"], sizes=len(rs),
                         **censored))
    return rows


def _censored_excess(finite: Sequence[Mapping], larger: Sequence[Mapping]) -> dict:
    """The ``censored_*`` and ``bends_up`` columns of :func:`time_scaling` (see there)."""
    out = dict(censored_N=math.nan, censored_excess=math.nan, censored_excess_se=math.nan,
               bends_up=0)
    nxt = min(larger, key=lambda r: r["N"], default=None)
    if nxt is None or len(finite) < 2 or not (math.isfinite(float(nxt.get("time_median", math.nan)))
                                              and nxt["time_median"] > 0):
        return out
    (a, b) = finite[-2], finite[-1]
    lN = np.log([float(a["N"]), float(b["N"]), float(nxt["N"])])
    r = (lN[2] - lN[1]) / (lN[1] - lN[0])
    pred = (1 + r) * math.log(b["time_median_all"]) - r * math.log(a["time_median_all"])
    se = math.hypot((1 + r) * float(b.get("time_log_se", math.nan)),
                    r * float(a.get("time_log_se", math.nan)))
    excess = math.log(nxt["time_median"]) - pred
    out.update(censored_N=nxt["N"], censored_excess=excess, censored_excess_se=se,
               bends_up=int(math.isfinite(se) and excess > CURVATURE_Z * se))
    return out


TIME_THRESHOLD_METHOD = "time scaling: zero of the curvature of ln t vs ln N"


#: a curvature counts as "bending up" when it exceeds this many standard errors
CURVATURE_Z = 2.0


def curvature_zero(x, c, c_se, bends=None) -> tuple[float, float, str]:
    """(x*, s.e., note): where the curvature c(x) of ln t vs ln N stops being positive.

    k = the largest coupling where c is *significantly* positive, c > CURVATURE_Z s.e., or where
    ``bends`` is true (growth faster than a power of N; a point without s.e. does not count; see
    ``bends_up`` in :func:`time_scaling`); every coupling above it is
    compatible with power-law growth. x* is the zero of the straight line through (x_k, c_k) and
    (x_{k+1}, c_{k+1}), x* = x_k + (x_{k+1} - x_k) c_k / (c_k - c_{k+1}), clipped to x_{k+1} when
    c_{k+1} > 0 (note ``clipped``, s.e. = the bracket width); otherwise the s.e. is propagated from
    those of c_k and c_{k+1} (independent) and capped at the bracket width. Looking only above the
    last significant point keeps the noise of couplings far above the threshold, where c fluctuates
    around 0, from placing it there. When c_k or c_{k+1} is unknown (a point that counts through
    ``bends`` only), x* is the middle of the bracket, s.e. half its width (note ``bracketed``). NaN
    with note ``below_grid`` (no coupling bends up
    significantly), ``above_grid`` (the largest coupling still does) or ``too_few_points``.
    """
    x, c, s = (np.asarray(v, float) for v in (x, c, c_se))
    bends = np.zeros(x.shape, bool) if bends is None else np.asarray(bends, float) > 0
    keep = np.isfinite(c) | bends
    x, c, s, bends = x[keep], c[keep], s[keep], bends[keep]
    order = np.argsort(x)
    x, c, s, bends = x[order], c[order], s[order], bends[order]
    if x.size < 2:
        return math.nan, math.nan, "too_few_points"
    up = np.flatnonzero((np.isfinite(s) & (c > CURVATURE_Z * s)) | bends)
    if up.size == 0:
        return math.nan, math.nan, "below_grid"
    k = int(up[-1])
    if k == x.size - 1:
        return math.nan, math.nan, "above_grid"
    m = k + 1
    dx = float(x[m] - x[k])
    if c[m] > 0:
        return float(x[m]), dx, "clipped"
    if not (math.isfinite(c[k]) and math.isfinite(c[m])):     # a bending point without curvature
        return float(x[k] + dx / 2), dx / 2, "bracketed"
    d = c[k] - c[m]
    value = float(x[k] + dx * c[k] / d)
    g = np.array([-dx * c[m] / d ** 2, dx * c[k] / d ** 2])       # d x* / d(c_k, c_m)
    se = float(math.sqrt(np.sum((g * s[[k, m]]) ** 2))) if np.all(np.isfinite(s[[k, m]])) \
        else math.nan
    return value, min(se, dx) if math.isfinite(se) else dx, "interpolated"


def time_scaling_thresholds(scaling: Sequence[Mapping]) -> list[dict]:
    """Budget-free thresholds, rows in the format of ``thresholds.csv`` (N = inf, method
    :data:`TIME_THRESHOLD_METHOD`): along each line of couplings (J_D at fixed lam, or lam at fixed
    J_D when there are several lam), the coupling above which the median convergence time grows no
    faster than a power of N (:func:`curvature_zero` of the ``curvature`` column of
    :func:`time_scaling`). Below it the growth bends up in ln-ln scale, which no fixed or polynomial
    budget keeps up with. Dynamics only: fBP's message iterations are set by its focusing schedule
    (about 1/dr steps, each iterated to convergence), not by a relaxation time."""
    groups: dict[tuple, list] = {}
    for r in scaling:
        groups.setdefault((r["algorithm"], r["L"]), []).append(r)
    rows = []
    for (alg, L), rs in sorted(groups.items()):
        if alg == "fbp":
            continue                      # its time is set by the focusing schedule, not relaxation
        J_Ds, lams = sorted({r["J_D"] for r in rs}), sorted({r["lam"] for r in rs})
        lines = [("J_D", lam) for lam in lams] if len(J_Ds) > 1 else []
        lines += [("lam", jd) for jd in J_Ds] if len(lams) > 1 else []
        for var, fixed in lines:
            other = "lam" if var == "J_D" else "J_D"
            sel = sorted((r for r in rs if r[other] == fixed), key=lambda r: r[var])
            if len(sel) < 2:
                continue
            value, se, note = curvature_zero([r[var] for r in sel], [r["curvature"] for r in sel],
                                             [r["curvature_se"] for r in sel],
                                             [r.get("bends_up", 0) for r in sel])
            rows.append(dict(algorithm=alg, L=L, variable=var,
                             J_D=fixed if var == "lam" else math.nan,
                             lam=fixed if var == "J_D" else math.nan, N=math.inf, inv_N=0.0,
                             threshold=value, se=se, method=f"{TIME_THRESHOLD_METHOD} ({note})",
                             width=math.nan, slope=math.nan, slope_se=math.nan, chi2=math.nan,
                             dof="", sizes=" ".join(str(r["sizes"]) for r in sel),
                             instances=""))
    return rows


# ==================================================================================== the sweep
