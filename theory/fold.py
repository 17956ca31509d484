"""The densest-cluster branch in regular variables, through its fold (SPEC §6.9; ``docs/theory_small_d.md``).

The fixed-point iteration of :mod:`theory.large_deviation` works at fixed y. Near small d the RS
saddle of the core model has a saddle-node in y: at fixed d the *centred* branch (the one continued
from large d, a local maximum of Φ_red(q1)) exists only for y ≥ y_f(d), where it merges with a
*partner* branch (a local minimum of Φ_red(q1), on which the satellites gather, t → 1, into a tight
group at distance d from the reference). At fixed y the solution disappears there, and the damped
iteration then runs to q1 → 1; that is what ended the densest-cluster curves of
:mod:`theory.transition` ("the fold").

Here the branch is parametrised by the regular variable

  t = (q1 − p²)/(1 − p²) ∈ (0, 1)   (1 − q1 = (1 − t)(1 − p²), 1 − p² = 4d(1 − d)),

and at fixed (d, t) the unknowns are (ln q̂1, ln(y − 1)), with p̂ from its own monotone root:

  F1 = (⟨m²⟩_π − q1)/(1 − p²) = 0,
  F2 = (1 − p²) [q̂1 y/2 − ⟨∂_{q1} ln H_r + y ∂_{q1} ln K⟩_π/(y − 1)] = 0

(SPEC §6.9 stationarity; F2 is the q̂1 equation divided by (y − 1), so that y = 1, where it holds
for any q̂1, is not a root). y(t) is smooth through the fold, which is the minimum of y(t)
(:func:`fold`); along the centred branch y decreases and Σ_ext increases with t. By the
envelope theorem dΣ_ext = −y dS_I along any stationary branch, so the fold is an inflection point of
Σ_ext(S_I): the centred branch is its concave part, the partner its convex part.

Densest centred clusters (:func:`centred`): y* with Σ_ext = 0 on the centred branch (t < t_f). If
Σ_ext < 0 already at the fold (Σ_f < 0), every centred cluster at that distance is exponentially rare:
there is no centred cluster at distance d (a *gap*; status ``"gap"``). On the partner branch Σ_ext
does reach 0, but as t → 1 (S_I → 0⁺, Σ_ext → f(1 − 2d)) for every J_D > 0: a tight group of fixed
points at distance d from an otherwise isolated reference, not a cluster around it, and not a
criterion for the OGP (it exists on both sides of the transition).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq, minimize_scalar, root

from toolkit.checks import finite_scalar

from . import large_deviation as LD
from .annealed import _jt
from .cluster_integrals import SiteIntegrals
from .saddle_tools import LDResult

#: refuse saddles whose g window would exceed this (y √q̂1 sets its half-width)
MAX_Y_SQRT_QHAT = 400.0


@dataclass(kw_only=True)
class TSaddle(LDResult):
    """A stationary point of Φ at fixed (d, t), with y among the unknowns (module docstring)."""

    t: float


def _q1(d, t):
    p = 1 - 2 * d
    omp2 = 4 * d * (1 - d)
    return p, omp2, p * p + t * omp2


def _residual(v, d, jt, t, state, step):
    lq, ly = v
    qh, y = float(np.exp(lq)), 1.0 + float(np.exp(ly))
    if y - 1 < 1e-6:
        raise FloatingPointError("y → 1, where the q̂1 equation holds for any q̂1")
    if y * np.sqrt(qh) > MAX_Y_SQRT_QHAT:
        raise FloatingPointError(f"y √q̂1 = {y * np.sqrt(qh):.0f} > {MAX_Y_SQRT_QHAT}")
    p, omp2, q1 = _q1(d, t)
    site = SiteIntegrals(p, jt, q1, qh, y, state["p_hat"], step=step)
    state["p_hat"] = site.solve_p_hat(p, state["p_hat"])
    av = site.averages(state["p_hat"])
    F = np.array([(av["m2"] - q1) / omp2,
                  omp2 * (qh * y / 2 - (av["dHr"] + y * av["dK"]) / (y - 1))])
    return F, av, (qh, y, q1, p)


def _start(init, d):
    """(p̂, q̂1, y) from a tuple, an LDResult (or TSaddle)."""
    if isinstance(init, LDResult):
        return float(init.p_hat), float(init.q1_hat), float(init.y)
    ph, qh, y = (float(v) for v in init)
    return ph, qh, y


def solve_at(d, t, J_D, kappa=0.0, *, init, step=0.5, tol=1e-10) -> TSaddle:
    """The stationary point of Φ(d, ·) at fixed t, with y, q̂1 (hybrid Powell on (ln q̂1, ln(y−1)))
    and p̂ (inner root); ``init`` = (p̂, q̂1, y) or a previous result. Converged when
    max |F| < ``tol`` (the residuals are in ``residuals``); a failure is reported, never raised."""
    d, t = finite_scalar("d", d), finite_scalar("t", t)
    if not 0 < d < 0.5 or not 0 < t < 1:
        raise ValueError(f"need 0 < d < 1/2 and 0 < t < 1, got d = {d}, t = {t}")
    jt = float(_jt(J_D, kappa))
    ph, qh, y = _start(init, d)
    state = {"p_hat": ph}
    v0 = np.array([np.log(max(qh, 1e-8)), np.log(max(y - 1, 1e-6))])
    msg = ""
    try:
        sol = root(lambda v: _residual(v, d, jt, t, state, step)[0], v0, method="hybr",
                   options={"xtol": 1e-12, "maxfev": 200})
        F, av, (qh, y, q1, p) = _residual(sol.x, d, jt, t, state, step)
        ok = bool(np.max(np.abs(F)) < tol)
        msg = "converged" if ok else f"no root: max |F| = {np.max(np.abs(F)):.1e} ({sol.message})"
        its = int(sol.nfev)
    except (FloatingPointError, RuntimeError) as exc:
        p, _, q1 = _q1(d, t)
        return TSaddle(d, np.nan, float(J_D), float(kappa), "constrained", np.nan, np.nan, np.nan,
                       p_hat=state["p_hat"], q1=q1, q1_hat=np.nan, converged=False, iterations=0,
                       residuals={}, message=f"failed: {exc}", t=t)
    ph = state["p_hat"]
    phi = LD._phi(p, y, ph, q1, qh, av["G"])
    S = LD._internal(p, y, ph, q1, qh, av["lnK"])
    return TSaddle(d, y, float(J_D), float(kappa), "constrained", float(phi), float(S),
                   float(phi - y * S), p_hat=float(ph), q1=float(q1), q1_hat=float(qh),
                   converged=ok, iterations=its, residuals={"F1": F[0], "F2": F[1]}, message=msg,
                   t=t)


def reduced(d, y, t, J_D, kappa=0.0, *, p_hat=None, step=0.5) -> dict:
    """Φ_red(t) = extr_{p̂, q̂1} Φ at fixed (d, y, q1 = p² + t(1 − p²)): q̂1 from ⟨m²⟩_π = q1 (Brent
    in ln q̂1), p̂ from ⟨m⟩_π = p. Returns Φ_red, q̂1, p̂ and dΦ_red/dq1 = ∂_{q1}G − y(y−1)q̂1/2.
    For y > 1 the centred branch is a local maximum of Φ_red, the partner a local minimum."""
    jt = float(_jt(J_D, kappa))
    p, _, q1 = _q1(d, t)
    state = {"p_hat": np.arctanh(p) if p_hat is None else p_hat}

    def site_at(lq):
        s = SiteIntegrals(p, jt, q1, float(np.exp(lq)), y, state["p_hat"], step=step)
        state["p_hat"] = s.solve_p_hat(p, state["p_hat"])
        return s, s.averages(state["p_hat"])

    f = lambda lq: site_at(lq)[1]["m2"] - q1  # noqa: E731  (increasing in q̂1)
    lo, hi = -6.0, 0.0
    while f(lo) > 0 and lo > -40:
        lo -= 4
    while f(hi) < 0 and hi < 6:
        hi += 1
    lq = brentq(f, lo, hi, xtol=1e-13)
    _, av = site_at(lq)
    qh = float(np.exp(lq))
    phi = LD._phi(p, y, state["p_hat"], q1, qh, av["G"])
    return dict(phi=float(phi), q1_hat=qh, p_hat=float(state["p_hat"]),
                slope=float(av["dHr"] + y * av["dK"] - y * (y - 1) * qh / 2))


@dataclass
class Fold:
    """The minimum y_f of y(t) on the branch at fixed d (the saddle-node), or its absence."""

    d: float
    J_D: float
    exists: bool
    t: float = np.nan
    y: float = np.nan
    internal_entropy: float = np.nan
    external_entropy: float = np.nan
    saddle: TSaddle | None = None
    message: str = ""
    #: True when the search failed (the march stopped before y(t) turned); ``exists`` False with
    #: ``failed`` False means the branch has no fold above ``y_floor``
    failed: bool = False


def _logit(t):
    return float(np.log(t / (1 - t)))


def _expit(u):
    return float(1 / (1 + np.exp(-u)))


def _march(d, J_D, kappa, start, direction, du, stop, step, limit=80):
    """Solve along u = logit t from ``start`` in steps ``direction``·du (halved on failure, down to
    du/16) until ``stop(prev, new)``; returns the converged saddles (``start`` first). Steps in
    logit t stay regular at both ends, t → 0 (the densest branch as d → 0) and t → 1."""
    out = [start]
    u, h = _logit(start.t), du
    while len(out) < limit:
        un = u + direction * h
        if abs(un) > 16:
            break
        r = solve_at(d, _expit(un), J_D, kappa, init=out[-1], step=step)
        if not r.converged:
            if h < du / 16:
                break
            h /= 2
            continue
        out.append(r)
        u = un
        if stop(out[-2], r):
            break
    return out


def fold(d, J_D, kappa=0.0, *, start: TSaddle, du=0.2, y_floor=1.5, step=0.5) -> Fold:
    """Locate the fold at distance d by marching t up from ``start`` (a centred saddle) until y(t)
    grows again, then Brent-minimising y on the last bracket (in logit t, to 1e-5). No fold above
    ``y_floor``: the branch continues to y → 1 (large d), reported as ``exists=False``."""
    pts = _march(d, J_D, kappa, start, +1, du, lambda a, b: b.y > a.y or b.y < y_floor, step)
    if pts[-1].y < y_floor:
        return Fold(d, float(J_D), False, message=f"y(t) decreases below {y_floor} without a fold")
    if len(pts) < 3 or not pts[-1].y > pts[-2].y:
        return Fold(d, float(J_D), False, saddle=pts[-1], failed=True,
                    message="march ended before y(t) turned (solver failure)")
    store = {r.t: r for r in pts}

    def y_of(t):
        near = store[min(store, key=lambda s: abs(s - t))]
        r = solve_at(d, t, J_D, kappa, init=near, step=step)
        store[t] = r
        return r.y if r.converged else np.inf

    a, b = _logit(pts[-3].t), _logit(pts[-1].t)
    res = minimize_scalar(lambda u: y_of(_expit(u)), bounds=(a, b), method="bounded",
                          options={"xatol": 1e-5})
    r = store[_expit(res.x)]
    return Fold(d, float(J_D), True, r.t, r.y, r.internal_entropy, r.external_entropy, r, "ok")


@dataclass
class Centred:
    """The densest centred clusters at distance d (module docstring).

    ``status``: "crossing" (Σ_ext = 0 at t* < t_f: ``internal_entropy`` = S_I^max),
    "gap" (Σ_ext < 0 on the whole centred branch: no centred cluster; ``fold`` has Σ_f < 0), or
    "failed". ``margin``: S_I^max for a crossing, Σ_f/y_f (< 0) for a gap — the signed quantity
    whose minimum over d decides RM (> 0) or OGP.
    """

    d: float
    J_D: float
    status: str
    internal_entropy: float = np.nan
    y_star: float = np.nan
    t_star: float = np.nan
    saddle: TSaddle | None = None
    fold: Fold | None = None
    last: TSaddle | None = field(default=None, repr=False)
    message: str = ""

    @property
    def fold_margin(self) -> float:
        """Σ_f/y_f at the fold; +inf when the branch has no fold above ``y_floor`` (nothing to
        bound), NaN when the fold was not computed or its search failed."""
        if self.fold is None or self.fold.failed:
            return np.nan
        return self.fold.external_entropy / self.fold.y if self.fold.exists else np.inf

    @property
    def margin(self) -> float:
        if self.status == "crossing":
            return self.internal_entropy
        if self.status == "gap":
            return self.fold.external_entropy / self.fold.y
        return np.nan


def _past_fold(r: TSaddle, J_D, kappa, step, h=0.01) -> bool:
    """r lies on the partner branch (beyond the fold): y grows with t there (dy/dt > 0), while on
    the centred branch y falls with t. Judged against the saddle at logit t − ``h``."""
    b = solve_at(r.d, _expit(_logit(r.t) - h), J_D, kappa, init=r, step=step)
    return bool(b.converged and r.y > b.y)


def _fold_bracket(d, J_D, kappa, back, du, step, last):
    """The fold located from ``back`` (a centred saddle with Σ_ext < 0): a :class:`Centred` gap
    (Σ_f < 0) or failure (continued from ``last``), or the bracket (back, fold saddle) of the
    centred crossing (Σ_f ≥ 0)."""
    f = fold(d, J_D, kappa, start=back, du=du / 4, step=step)
    if not f.exists:
        return Centred(d, float(J_D), "failed", fold=f, last=last,
                       message=f"Σ_ext < 0 and no fold found: {f.message}"), None
    if f.external_entropy < 0:
        return Centred(d, float(J_D), "gap", fold=f, last=last,
                       message=f"Σ_ext < 0 on the whole centred branch (Σ_f = "
                               f"{f.external_entropy:.3g} at y_f = {f.y:.4g})"), None
    return back, f.saddle


def centred(d, J_D, kappa=0.0, *, init, du=0.2, step=0.5, xtol=1e-8, with_fold=False
            ) -> Centred:
    """y*(d) on the centred branch with Σ_ext(d, y*) = 0, or a gap (module docstring).

    ``init``: a centred saddle (TSaddle at a nearby d, or any (p̂, q̂1, y) on the centred branch with
    its t via ``init.t``) — the solve at this d starts from its t. Σ_ext(t) increases along the
    centred branch towards the fold, so: if Σ_ext < 0 at the start, march t up until Σ_ext > 0
    (bracket) or y(t) turns (the fold: then :func:`fold` gives Σ_f; Σ_f < 0 is a gap); if
    Σ_ext > 0, march t down until it is negative. Then Brent on Σ_ext(t) = 0. ``with_fold``:
    locate the fold for a crossing too (from the crossing up in t), so that Σ_f is known at every
    d (:attr:`Centred.fold_margin`).
    """
    t0 = float(init.t) if hasattr(init, "t") else 0.3
    t0 = min(max(t0, 1e-6), 1 - 1e-6)
    if isinstance(init, LDResult) and np.isfinite(init.y) and t0 < 0.1 and init.d != d:
        # deep in the small-d regime y* ∝ 1/d and q̂1 ∝ 1/y (docs/theory_small_d.md): rescale
        r = init.d / d
        init = (init.p_hat, init.q1_hat / r, 1 + (init.y - 1) * r)
    s0 = solve_at(d, t0, J_D, kappa, init=init, step=step)
    if not s0.converged:
        return Centred(d, float(J_D), "failed", message=f"no saddle at t = {t0:g}: {s0.message}")
    if abs(s0.external_entropy) < 1e-11:
        f = fold(d, J_D, kappa, start=s0, du=du / 2, step=step) if with_fold else None
        return Centred(d, float(J_D), "crossing", s0.internal_entropy, s0.y, s0.t, s0, fold=f,
                       last=s0, message="ok (the start is the crossing)")
    if s0.external_entropy < 0:
        pts = _march(d, J_D, kappa, s0, +1, du,
                     lambda a, b: b.external_entropy >= 0 or b.y > a.y, step)
        last = pts[-1]
        turned = len(pts) > 1 and last.y > pts[-2].y
        if last.external_entropy >= 0 and not turned:
            lo_r, hi_r = pts[-2], last
        else:  # passed the fold (or the march stopped): locate it from a point before it
            lo_r, hi_r = pts[-3] if len(pts) >= 3 else pts[0], None
    else:
        pts = _march(d, J_D, kappa, s0, -1, du, lambda a, b: b.external_entropy < 0, step)
        if pts[-1].external_entropy >= 0:
            return Centred(d, float(J_D), "failed", last=s0,
                           message="Σ_ext > 0 down to the smallest t reached")
        lo_r, hi_r = pts[-1], pts[-2]
    if hi_r is None or _past_fold(hi_r, J_D, kappa, step):
        # a march step can jump the fold: y(hi) < y(lo) with hi on the partner branch already
        lo_r, hi_r = _fold_bracket(d, J_D, kappa, lo_r, du, step, s0)
        if isinstance(lo_r, Centred):
            return lo_r
    store = {lo_r.t: lo_r, hi_r.t: hi_r}

    def sig(u):
        t = _expit(u)
        if t in store:
            return store[t].external_entropy
        near = store[min(store, key=lambda s: abs(s - t))]
        r = solve_at(d, t, J_D, kappa, init=near, step=step)
        store[t] = r
        if not r.converged:
            raise RuntimeError(r.message)
        return r.external_entropy

    try:
        ts = _expit(brentq(sig, _logit(lo_r.t), _logit(hi_r.t), xtol=xtol))
    except (RuntimeError, ValueError) as exc:
        return Centred(d, float(J_D), "failed", last=lo_r, message=f"Brent on Σ_ext(t): {exc}")
    r = store[ts]
    f = fold(d, J_D, kappa, start=r, du=du / 2, step=step) if with_fold else None
    return Centred(d, float(J_D), "crossing", r.internal_entropy, r.y, ts, r, fold=f, last=r,
                   message="ok")


def start_from(result: LDResult) -> TSaddle:
    """A TSaddle stand-in (with t) for a converged LD saddle of :mod:`theory.large_deviation`."""
    p = 1 - 2 * result.d
    t = (result.q1 - p * p) / (1 - p * p)
    return TSaddle(result.d, result.y, result.J_D, result.kappa, result.reference, result.phi,
                   result.internal_entropy, result.external_entropy, p_hat=result.p_hat,
                   q1=result.q1, q1_hat=result.q1_hat, converged=result.converged,
                   iterations=result.iterations, residuals=result.residuals,
                   message=result.message, t=float(t))


def centred_curve(d_grid, J_D, kappa=0.0, *, start, step=0.5, du=0.2, refine=3,
                  with_fold=False) -> list[Centred]:
    """:func:`centred` along ``d_grid`` from large to small d (input order kept). ``start``: a
    centred saddle (TSaddle, or an LDResult such as the densest saddle of
    :func:`theory.transition.densest`) at a distance ≥ max(d_grid); it is continued down to the
    first grid point by :func:`_bootstrap`. Each next point starts from the last centred saddle
    (the crossing, or inside a gap the last centred point reached). A failed point is retried
    through the geometric midpoint distance, recursively up to ``refine`` levels."""
    d_grid = np.asarray(d_grid, float)
    order = np.argsort(-d_grid)
    out = [None] * d_grid.size
    last = _bootstrap(start, float(d_grid.max()), J_D, kappa, step, du)
    kw = dict(step=step, du=du, with_fold=with_fold)

    def attempt(d, init, depth):
        c = centred(d, J_D, kappa, init=init, **kw)
        if c.status != "failed" or depth == 0 or not hasattr(init, "d"):
            return c
        mid = attempt(float(np.sqrt(d * init.d)), init, depth - 1)
        return attempt(d, mid.last, depth - 1) if mid.last is not None else c

    for i in order:
        d = float(d_grid[i])
        if last is None:
            out[i] = Centred(d, float(J_D), "failed", message="no centred saddle to start from")
            continue
        out[i] = attempt(d, last, refine)
        if out[i].last is not None:
            last = out[i].last
    return out


def _bootstrap(start, d_first, J_D, kappa, step, du):
    """Continue the centred saddle ``start`` down to ``d_first`` by :func:`centred` at distances
    shrinking by factors ≤ 1.6 (None if it fails)."""
    last = start if isinstance(start, TSaddle) else start_from(start)
    if last.d <= d_first * (1 + 1e-12):
        return last
    n = int(np.ceil(np.log(last.d / d_first) / np.log(1.6)))
    for d in np.geomspace(last.d, d_first, n + 1)[1:]:
        c = centred(float(d), J_D, kappa, init=last, step=step, du=du)
        if c.last is None:
            return None
        last = c.last
    return last
