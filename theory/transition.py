"""The OGP → RM transition from the internal entropy of the densest clusters (SPEC §6.8, §6.9).

Criterion (the formulation of SPEC §6.9, constrained reference, continuous y):

- For each distance d let y*(d) solve Σ_ext(d, y*) = 0: beyond y* the reference measure freezes, so
  the densest *existing* clusters have internal entropy S_I^max(d) = S_I(d, y*(d)).
- **RM** (representation manifold): S_I^max(d) > 0 for every d ∈ (0, ½) — even the densest fixed
  points have exponentially many fixed points at every small distance.
- **OGP**: S_I^max(d) < 0 on an interval of d — no fixed point has fixed points at those distances.
- The critical self-coupling J_c is where min_{d>0} S_I^max(d) = 0 (:func:`critical_JD`); for the
  two-module chain λ_c(J_D) likewise (:func:`critical_lambda`), with S_I^max from
  :mod:`theory.chain_large_deviation` (integer y, spline in y).

Why not fixed y or y → ∞ (the preliminary finding of SPEC §6.9, not re-measured here): at fixed
y ≳ 4 the curves S_I(d, y) are positive and monotone for every J_D ≥ 0.05, but there Σ_ext < 0
(those references do not exist); and within the q̃ = 0 RS ansatz y → ∞ has no finite limit (Σ_ext
keeps falling, q̂1 stays O(1)). Beyond y* the reference measure freezes, so S_I(d, y*) =
lim_{y→∞} Φ_true(d, y)/y is the y → ∞ object.

The RS branch of the densest clusters ends in a fold at small d (the iteration then runs to q1 → 1,
the satellites merging); :func:`densest_curve` stops there and :func:`branch_minimum` takes the
minimum over the resolved branch. Near the transition that minimum sits at the branch end, so that
criterion ("resolved") gives lower bounds. :func:`centred_minimum` (criterion "centred", the default
of :func:`critical_JD` and :func:`critical_lambda`) follows the centred branch through the fold
(:mod:`theory.fold`) and counts a distance without a centred Σ_ext = 0 crossing (a gap) as OGP:
J_c = 0.0673 ± 0.0008 there (chain at λ = 0 and core agree) against 0.0601 ± 0.0006 resolved
(docs/theory_small_d.md).

Σ_ext(d, y) decreases in y (Φ is convex in y) from Σ_ext(d, 0) = S_a, so y* is found by bracketing
in ln y and Brent, with warm starts. If Σ_ext stays positive up to ``y_max`` the result is flagged
(``frozen=False``) and S_I(d, y_max) is a lower bound on S_I^max.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq

from . import large_deviation as LD
from .saddle_tools import LDResult, along_d


class _YScan:
    """LD saddles along y at fixed (d, J_D), memoised, each warm-started from the last converged one."""

    def __init__(self, d, J_D, kappa, init, solve_kw):
        self.d, self.J_D, self.kappa, self.last = d, J_D, kappa, init
        self.kw = {"max_iter": 150, "collapse": COLLAPSE_T, **solve_kw}
        self.cache: dict[float, LDResult] = {}

    def __call__(self, y) -> LDResult:
        if y not in self.cache:
            r = LD.solve(self.d, y, self.J_D, kappa=self.kappa, init=self.last, **self.kw)
            self.cache[y] = r
            if _interior(r):
                self.last = r
        return self.cache[y]


COLLAPSE_T = 0.99


def _interior(r) -> bool:
    """A converged saddle on the physical branch: q1 not collapsed onto 1, i.e. the relative
    position t = (q1 − p²)/(1 − p²) below ``COLLAPSE_T``. Past the fold that ends the RS branch at
    small d the only fixed points left have t → 1 and S_I → 0 (satellites merge into one
    configuration); they are not the densest clusters and are reported as failures."""
    p = 1 - 2 * r.d
    return bool(r.converged and (r.q1 - p * p) < COLLAPSE_T * (1 - p * p))


@dataclass
class Densest:
    """S_I^max(d) = S_I(d, y*), with the saddle at y* and the search record."""

    d: float
    J_D: float
    y_star: float
    internal_entropy: float
    frozen: bool
    converged: bool
    result: LDResult | None = None
    evaluations: int = 0
    message: str = ""


def densest(d, J_D, kappa=0.0, *, y_max=64.0, init=None, exact=True, xtol=1e-6,
            **solve_kw) -> Densest:
    """y*(d) and S_I^max(d) at one distance (SPEC §6.9); ``init`` warm-starts the first solve.

    Cold start (``init`` None or at y = 0): y walks up 0 (the Franz–Parisi saddle), ½, 2, 4, … ≤
    ``y_max`` until Σ_ext turns negative, then Brent in ln y finds y*. With ``exact=False`` the walk
    stops as soon as the sign of S_I^max is known: S_I(d, y) > 0 with Σ_ext(d, y) ≥ 0 implies
    S_I^max ≥ S_I(d, y) > 0 (S_I increases with y), and the result is that lower bound
    (``frozen=False``). Warm start from a saddle at y* of a nearby distance (continuation in d):
    y moves by factors of 1.25 from that y* until Σ_ext changes sign, then Brent.
    """
    at = _YScan(d, J_D, kappa, init, solve_kw)

    def failed(r, y):
        why = r.message if not r.converged else "collapsed onto the q1 → 1 branch"
        return Densest(d, J_D, np.nan, np.nan, False, False, r, len(at.cache),
                       f"saddle not converged at y = {y:g}: {why}")

    y0 = getattr(init, "y", 0.0)
    if init is not None and 0 < y0 < y_max:
        for y0 in (y0, min(1.25 * y0, y_max), y0 / 1.25):  # near the fold one side may have no saddle
            r = at(y0)
            if _interior(r):
                break
        else:
            return failed(r, y0)
        up = r.external_entropy >= 0
        y1 = y0
        while True:
            y2 = min(y1 * 1.25, y_max) if up else y1 / 1.25
            if y2 == y1 or y2 < 1e-3:
                return Densest(d, J_D, np.inf if up else 0.0, r.internal_entropy, False, True, r,
                               len(at.cache), f"Σ_ext keeps its sign up to y = {y1:g}")
            r = at(y2)
            if not _interior(r):
                return failed(r, y2)
            if (r.external_entropy >= 0) != up:
                break
            y1 = y2
        lo_y, hi_y = (y1, y2) if up else (y2, y1)
    else:
        if init is None:
            at(0.0)
        ys = [0.5, 2.0]
        while ys[-1] < y_max:
            ys.append(min(2 * ys[-1], y_max))
        prev_y, lo_y, hi_y = 0.0, None, None
        for y in ys:
            r = at(y)
            if not _interior(r):
                return failed(r, y)
            if r.external_entropy < 0:
                lo_y, hi_y = prev_y, y
                break
            if not exact and r.internal_entropy > 0:
                return Densest(d, J_D, np.nan, r.internal_entropy, False, True, r, len(at.cache),
                               f"S_I > 0 with Σ_ext ≥ 0 at y = {y:g}: a lower bound on S_I^max")
            prev_y = y
        if hi_y is None:
            r = at.cache[ys[-1]]
            return Densest(d, J_D, np.inf, r.internal_entropy, False, True, r, len(at.cache),
                           f"Σ_ext > 0 up to y = {y_max:g}: S_I(y_max) is a lower bound")
        if lo_y == 0.0:
            lo_y = hi_y / 8  # Σ_ext(0) = S_a > 0 for J̃ > 0; search in (hi/8, hi)
            while at(lo_y).external_entropy < 0 and lo_y > 1e-4:
                lo_y /= 8
    t = brentq(lambda t: at(float(np.exp(t))).external_entropy, np.log(lo_y), np.log(hi_y),
               xtol=xtol)
    y = float(np.exp(t))
    r = at(y)
    if not _interior(r):
        return failed(r, y)
    return Densest(d, J_D, y, r.internal_entropy, True, True, r, len(at.cache), "ok")


def densest_curve(d_grid, J_D, kappa=0.0, *, refine=2, **kw) -> list[Densest]:
    """:func:`densest` along ``d_grid`` by continuation from large to small d (input order kept).

    A step that fails is retried through its midpoint, up to ``refine`` halvings (the RS branch
    bends sharply before its fold, and a large step jumps off it). The branch ends in a fold at
    small d, where the iteration runs to q1 → 1: the first step that still fails ends the
    continuation, and the smaller distances are returned as not attempted.
    """
    ended = []

    def step(d, init, depth):
        r = densest(d, J_D, kappa, init=init, **kw)
        if r.converged or depth == 0 or init is None or not hasattr(init, "d"):
            return r
        mid = step(0.5 * (init.d + d), init, depth - 1)
        return step(d, mid.result, depth - 1) if mid.converged else r

    def at(d, init):
        if ended:
            return Densest(d, J_D, np.nan, np.nan, False, False,
                           message=f"not attempted: the branch ended above d = {ended[0]:g}"), init
        r = step(d, init, refine)
        if not r.converged:
            ended.append(d)
        return r, (r.result if r.converged else init)
    return along_d(d_grid, at)


@dataclass
class ZeroInternal:
    """y0(d) with S_I(d, y0) = 0 and the sign test Σ_ext(d, y0) ≥ 0 (the cheaper form of §6.9)."""

    d: float
    J_D: float
    y0: float
    external_entropy: float
    rm: bool | None
    converged: bool
    message: str = ""


def zero_internal(d, J_D, kappa=0.0, *, y_max=64.0, init=None, xtol=1e-6,
                  **solve_kw) -> ZeroInternal:
    """The cross-check of SPEC §6.9: y0 solves S_I(d, y0) = 0; RM at d iff Σ_ext(d, y0) ≥ 0.

    S_I increases with y, so S_I^max = S_I(d, y*) > 0 exactly when y* > y0, i.e. when
    Σ_ext(d, y0) > 0 (Σ_ext decreases with y). ``rm`` is None when y0 is not bracketed in
    [0, y_max] (S_I(d, 0) = S_FP ≥ 0: RM at d; S_I < 0 up to y_max: undecided).
    """
    at = _YScan(d, J_D, kappa, init, solve_kw)

    r0 = at(0.0)
    if not r0.converged:
        return ZeroInternal(d, J_D, np.nan, np.nan, None, False, r0.message)
    if r0.internal_entropy >= 0:
        return ZeroInternal(d, J_D, 0.0, r0.external_entropy, True, True,
                            "S_FP ≥ 0: typical references already have neighbours at d")
    lo, y = 0.0, 0.5
    while y <= y_max:
        r = at(y)
        if not r.converged:
            return ZeroInternal(d, J_D, np.nan, np.nan, None, False, r.message)
        if r.internal_entropy > 0:
            break
        lo, y = y, (2.0 if y < 2 else 2 * y)
    else:
        return ZeroInternal(d, J_D, np.inf, np.nan, None, True, f"S_I < 0 up to y = {y_max:g}")
    y0 = brentq(lambda t: at(t).internal_entropy, lo, y, xtol=xtol)
    r = at(y0)
    return ZeroInternal(d, J_D, y0, r.external_entropy, bool(r.external_entropy >= 0),
                        r.converged, "ok")


# ---------------------------------------------------------------------------------------------
# The transition: min_d S_I^max(d) = 0

D_GRID = np.r_[np.geomspace(0.3, 0.02, 14), np.arange(0.019, 0.0049, -0.001)]
"""Default distances: geometric from 0.3 to 0.02, then steps of 0.001 down to 0.005 (SPEC §6.9
asks for d down to ≈ 0.005; the RS branch of the densest clusters ends in a fold above that near
the transition, and the fine steps locate the fold to ±0.001)."""


@dataclass
class BranchMinimum:
    """min over the resolved branch of S_I^max(d) (per neuron), with where it sits.

    ``d_end`` is the smallest distance at which the densest-cluster saddle was resolved (the RS
    branch ends in a fold just below it, or the grid ends); ``at_end`` says the minimum sits
    there, so that the branch beyond the fold could only lower it.
    """

    J_D: float
    lam: float
    L: int
    value: float
    d_at: float
    d_end: float
    at_end: bool
    d: np.ndarray = field(repr=False)
    internal_entropy: np.ndarray = field(repr=False)
    y_star: np.ndarray = field(repr=False)
    #: interpolation uncertainty of S_I^max at each point (chain: |spline − quartic| slope of the
    #: integer-y Φ, :func:`theory.chain_large_deviation.densest`; core: 0, continuous y)
    approx: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    @property
    def rm(self) -> bool:
        return bool(self.value > 0)

    @property
    def value_uncertainty(self) -> float:
        """Interpolation uncertainty of ``value`` (at its own distance)."""
        if self.approx.size != self.d.size:
            return 0.0
        k = int(np.argmin(np.abs(self.d - self.d_at)))
        v = float(self.approx[k])
        return v if np.isfinite(v) else 0.0


def _densest_points(J_D, lam, L, kappa, d_grid, **kw):
    """(d, S_I^max per neuron, y*, its interpolation uncertainty) along the grid, resolved points
    only."""
    if L == 1 and lam == 0:
        curve = densest_curve(d_grid, J_D, kappa, **kw)
        pts = [(c.d, c.internal_entropy, c.y_star, 0.0) for c in curve
               if c.converged and c.frozen]
    elif L == 2:
        from . import chain_large_deviation as CLD
        pts, init = [], None
        for d in sorted(d_grid, reverse=True):  # continuation; the first failure ends the branch
            c = CLD.densest(float(d), J_D, lam, 2, kappa, init=init, **kw)
            if not c.converged:
                break
            if c.frozen:  # else y* > y_max: no value here, but the saddles still warm-start
                pts.append((c.d, c.internal_entropy, c.y_star, c.uncertainty))
            init = {y: v for y, v in c.results.items() if v.converged}
    else:
        raise ValueError(f"the transition is implemented for the core model (L = 1, λ = 0) and the "
                         f"two-module chain (L = 2); got L = {L}, λ = {lam}")
    return sorted(pts, reverse=True)


def branch_minimum(J_D, lam=0.0, L=1, kappa=0.0, *, d_grid=None, **kw) -> BranchMinimum:
    """min_d S_I^max(d) over the resolved densest-cluster branch (SPEC §6.9): positive ⇒ RM."""
    d_grid = D_GRID if d_grid is None else np.asarray(d_grid, float)
    pts = _densest_points(float(J_D), float(lam), int(L), kappa, d_grid, **kw)
    if not pts:
        raise RuntimeError(f"no densest-cluster saddle resolved at J_D = {J_D}, λ = {lam}, L = {L}")
    d, s, y, u = (np.array(c, float) for c in zip(*pts))
    k = int(np.argmin(s))
    return BranchMinimum(float(J_D), float(lam), int(L), float(s[k]), float(d[k]), float(d[-1]),
                         bool(k == d.size - 1), d, s, y, u)


# ---------------------------------------------------------------------------------------------
# The centred criterion: through the fold (theory.fold, docs/theory_small_d.md)

#: d-grid of the centred criterion: the negative S_I^max and the gaps of the centred branch sit at
#: d ≈ 0.003–0.025 near the transition; below it the branch is positive (theory.small_d).
D_GRID_CENTRED = np.r_[0.2, 0.14, 0.1, 0.07, 0.05, 0.04, 0.03, np.arange(0.025, 0.0029, -0.0015),
                       0.002]

#: status codes of :class:`CentredMinimum` points
CROSSING, GAP, FAILED, BOUND = "crossing", "gap", "failed", "lower_bound"


@dataclass
class CentredMinimum:
    """The centred criterion along a d-grid (per neuron for the chain).

    At each d: ``status`` "crossing" (Σ_ext = 0 on the centred branch; ``internal_entropy`` =
    S_I^max), "gap" (Σ_ext < 0 on the whole centred branch: no centred cluster at d), "lower_bound"
    (chain: Σ_ext > 0 up to the largest y tried; S_I^max ≥ the value) or "failed". ``margin``:
    S_I^max for a crossing, Σ_f/y_f for a gap (NaN when failed). ``fold_margin``: the fold term
    Σ_f/y_f at every d with a fold (chain: a fold above y = 2, located at fixed t by
    :mod:`theory.chain_fold`), NaN where no fold was located. ``value`` = min over the resolved
    distances of the margin, where a crossing with a fold counts min(S_I^max, Σ_f/y_f) (the
    fold must exist for the crossing to be on the centred branch): RM iff > 0. Failed distances
    are left out of the minimum; :attr:`failed_d` lists them.
    """

    J_D: float
    lam: float
    L: int
    value: float
    d_at: float
    gap: bool
    d: np.ndarray = field(repr=False)
    margin: np.ndarray = field(repr=False)
    internal_entropy: np.ndarray = field(repr=False)
    fold_margin: np.ndarray = field(repr=False)
    y_star: np.ndarray = field(repr=False)
    status: np.ndarray = field(repr=False)

    @property
    def rm(self) -> bool:
        return bool(self.value > 0)

    @property
    def failed_d(self) -> np.ndarray:
        """Distances where the solver failed (not in ``value``)."""
        return np.asarray(self.d, float)[np.asarray(self.status).astype(str) == FAILED]


def _core_centred(J_D, kappa, d_grid, **kw):
    from . import fold as F
    top = max(F_START_D, float(np.max(d_grid)))
    c0 = densest(top, J_D, kappa)
    if not c0.converged:
        raise RuntimeError(f"no densest saddle at d = {top} to start from: {c0.message}")
    curve = F.centred_curve(d_grid, J_D, kappa, start=c0.result, with_fold=True, **kw)
    rows = []
    for c in curve:
        fm = c.fold_margin
        m = c.internal_entropy if c.status == CROSSING else (fm if c.status == GAP else np.nan)
        rows.append((c.d, c.status, m, c.internal_entropy, fm, c.y_star))
    return rows


#: distance at which the centred branch is started from the fixed-y densest saddle
F_START_D = 0.1


def _chain_sigma_lo(c):
    """Σ_ext per neuron at the lowest integer y of the chain's centred block (spline, as
    :func:`theory.chain_large_deviation.densest` does), over that y: a lower bound on Σ_f/y_f, the
    gap margin when the fold between the integers is not found (:func:`_chain_fold`)."""
    from .chain_large_deviation import phi_spline, spline_sigma
    if len(c.ys) < 4:
        return np.nan
    y0 = c.ys[0]
    return spline_sigma(phi_spline(c.ys, c.phis), y0) / c.L / y0


def _chain_fold(c, J_D, lam, kappa):
    """The chain's fold and the crossing between it and the first integer y of the centred block
    (:func:`theory.chain_fold.centred_point`, continuous in y at fixed t), or None when that block
    starts at y ≤ 2 (no fold above y = 2) or the fold is not found."""
    from .chain_fold import centred_point
    if c.ys.size == 0 or c.ys[0] < 3:
        return None
    return centred_point(c.d, J_D, lam, c.L, kappa, c.results[int(c.ys[0])])


def _chain_row(c, J_D, lam, kappa):
    """(status, margin, S_I^max, Σ_f/y_f, y*) per neuron at one distance of the chain.

    The integer-y spline decides above the first integer y of the centred block; between the fold
    and that integer :func:`_chain_fold` does: Σ_ext(⌈y_f⌉) < 0 with Σ_f ≥ 0 is a crossing in
    (y_f, ⌈y_f⌉), not a gap. The fold term Σ_f/y_f is given wherever the fold lies above y = 2, as
    for the core (``centred_minimum`` then takes min(S_I^max, Σ_f/y_f))."""
    nan = np.nan
    if c.converged and not c.frozen:
        return BOUND, c.internal_entropy, c.internal_entropy, nan, c.y_star
    below = not c.converged and "below its fold" in c.message
    if not (c.converged or below):
        return FAILED, nan, c.internal_entropy, nan, c.y_star
    cp = _chain_fold(c, J_D, lam, kappa)
    fm = cp.fold.external_entropy / cp.fold.y / c.L if cp is not None else nan
    if c.converged:
        return CROSSING, c.internal_entropy, c.internal_entropy, fm, c.y_star
    if cp is None:  # fold not found: the integer-y bound (gaps over-reported)
        m = _chain_sigma_lo(c)
        return GAP, m, nan, m, nan
    if cp.crossing is None:
        return GAP, fm, nan, fm, nan
    S = cp.crossing.internal_entropy / c.L
    return CROSSING, S, S, fm, cp.crossing.y


def _chain_centred(J_D, lam, kappa, d_grid, **kw):
    from . import chain_large_deviation as CLD
    rows, init = [], None
    for d in sorted(np.asarray(d_grid, float), reverse=True):
        c = CLD.densest(float(d), J_D, lam, 2, kappa, init=init, **kw)
        rows.append((float(d),) + _chain_row(c, J_D, lam, kappa))
        good = {y: v for y, v in c.results.items() if v.converged}
        init = good or init
    return rows


def centred_minimum(J_D, lam=0.0, L=1, kappa=0.0, *, d_grid=None, **kw) -> CentredMinimum:
    """min over d of the centred margin (:class:`CentredMinimum`; docs/theory_small_d.md):
    RM iff every distance has a centred densest cluster (no gap) with S_I^max > 0.

    Core (L = 1, λ = 0): :func:`theory.fold.centred_curve` with the fold located at every d, so the
    minimum is min(S_I^max, Σ_f/y_f) over d — continuous in J_D. Chain (L = 2): the integer-y solver
    of :mod:`theory.chain_large_deviation`, continued through gaps, and between the fold and the
    first integer y of the centred block :mod:`theory.chain_fold` (fixed t, regular in y), which
    gives Σ_f and a crossing there (:func:`_chain_row`). At λ = 0 it reproduces the core d by d
    (status; margins to < 1e-5) and J_c; the integer-y test alone (Σ_ext < 0 at ⌈y_f⌉) reported
    gaps where the core crosses: J_c 0.0731 instead of 0.0673 (docs/theory_small_d.md).
    Failed points are not in the minimum: :attr:`CentredMinimum.failed_d` lists them, and the
    root searches count those of their final bracket (``Critical.failed_points``)."""
    d_grid = D_GRID_CENTRED if d_grid is None else np.asarray(d_grid, float)
    J_D, lam, L = float(J_D), float(lam), int(L)
    if L == 1 and lam == 0:
        rows = _core_centred(J_D, kappa, d_grid, **kw)
    elif L == 2:
        rows = _chain_centred(J_D, lam, kappa, d_grid, **kw)
    else:
        raise ValueError(f"the centred criterion is implemented for L = 1 (λ = 0) and L = 2, got "
                         f"L = {L}, λ = {lam}")
    rows.sort(key=lambda r: -r[0])
    d, st, m, S, fm, y = (np.array(c) for c in zip(*rows))
    m, S, fm, y = (np.asarray(v, float) for v in (m, S, fm, y))
    terms = np.where(np.isfinite(fm) & (st == CROSSING), np.minimum(m, fm), m)
    ok = np.isfinite(terms)
    if not ok.any():
        raise RuntimeError(f"no centred point resolved at J_D = {J_D}, λ = {lam}, L = {L}")
    k = int(np.nanargmin(np.where(ok, terms, np.inf)))
    return CentredMinimum(J_D, lam, L, float(terms[k]), float(d[k]), bool(np.any(st == GAP)), d,
                          m, S, fm, y, st.astype(str))


@dataclass
class Critical:
    """A critical coupling with its uncertainty (``value ± uncertainty``) and the search record.

    ``value`` is the secant root inside the final bracket of the search (:func:`final_bracket`).
    ``uncertainty`` = root bracket term (the distance from the value to the farther end of that
    bracket, at most the search tolerance ``xtol``) + the d-grid term |Δg|/g′ + the
    interpolation term |δg|/g′, where Δg is the change of g = min_d S_I^max at the root when the
    d-grid is refined
    (:func:`refined_grid`: midpoints added and one step below its end), δg the interpolation uncertainty of S_I^max at the minimum (integer-y spline of the
    chain; 0 for the continuous-y core) and g′ the slope of g across the final bracket; the three
    are also given separately.
    """

    parameter: str
    value: float
    uncertainty: float
    fixed: dict
    bracket: tuple
    evaluations: list
    grid_shift: float
    converged: bool
    message: str = ""
    #: the three parts of ``uncertainty`` (their sum): root bracket; d-grid refinement |Δg|/g′;
    #: interpolation of S_I^max in y at the minimum (chain: spline vs quartic), |δg|/g′
    tol_uncertainty: float = np.nan
    grid_uncertainty: float = np.nan
    approx_uncertainty: float = np.nan
    #: False when the refinement could not move the minimum: it sits at the end of the resolved
    #: branch (a fold) in both grids, so the grid term is 0 by construction, not a measurement
    grid_measured: bool = True
    #: distances where the solver failed in the evaluations of the final bracket and of the
    #: refined grid (centred criterion; they are not in the minimum, so a failure at the
    #: deciding distance would go unseen: non-zero means check them)
    failed_points: int = 0


CRITERION = ("RM iff min over the resolved branch of S_I^max(d) = S_I(d, y*(d)) > 0, y* the "
             "continuous y with Σ_ext(d, y*) = 0 (constrained reference, SPEC §6.9); the critical "
             "coupling is the root of that minimum")


CRITERION_CENTRED = ("RM iff at every d the centred densest-cluster branch has its Σ_ext = 0 crossing "
                     "(no gap: Σ_ext at its fold ≥ 0) with S_I^max > 0 (constrained reference, "
                     "continued through the fold in t = (q1 − p²)/(1 − p²), docs/theory_small_d.md)"
                     "; the critical coupling is the root of min_d min(S_I^max, Σ_f/y_f)")
CRITERION_TEXT = {"centred": CRITERION_CENTRED, "resolved": CRITERION}


def _cached(g_at, cache_dir, tag, cls=None):
    """``g_at`` with each BranchMinimum stored as ``<cache_dir>/<tag>_<x>_<grid hash>.npz`` (atomic
    writes), so an interrupted or repeated root search reloads what it already computed."""
    if cache_dir is None:
        return g_at
    import hashlib
    from pathlib import Path

    from toolkit.results import read_npz, write_npz

    def at(x, grid):
        h = hashlib.sha256(np.asarray(grid, float).tobytes()).hexdigest()[:12]
        path = Path(cache_dir) / f"{tag}_{x!r}_{h}.npz"
        if path.exists():
            a = read_npz(path)
            return (cls or BranchMinimum)(**{k: (a[k] if a[k].ndim else a[k].item()) for k in a})
        b = at.g_at(x, grid)
        write_npz(path, dict(b.__dict__), sidecar=False)
        return b
    at.g_at = g_at
    return at


def refined_grid(d_grid):
    """The d-grid of the grid uncertainty: the midpoints added, and one more distance below the
    smallest one, d_min²/d_next (one geometric step on: the minimum often sits at the grid's end,
    which midpoints alone would not move)."""
    d = np.unique(np.asarray(d_grid, float))
    ext = [d[0] ** 2 / d[1]] if d.size > 1 else []
    return np.unique(np.r_[d, 0.5 * (d[1:] + d[:-1]), ext])


def _critical(parameter, g_at, bracket, xtol, d_grid, fixed):
    """Root of g(x) = branch minimum at x, increasing in x: Brent on the bracket to ``xtol``,
    then the secant root in the closest evaluated sign change (:func:`final_bracket`). The grid
    term compares g on :func:`refined_grid` at that root with the secant (zero there), so it also
    holds the secant's own error (second order in the bracket): an upper estimate."""
    from scipy.optimize import brentq
    d_grid = D_GRID if d_grid is None else np.asarray(d_grid, float)
    evals = {}

    def g(x):
        x = float(x)
        if x not in evals:
            evals[x] = g_at(x, d_grid)
        return evals[x].value

    lo, hi = map(float, bracket)
    glo, ghi = g(lo), g(hi)
    if not glo < 0 < ghi:
        return Critical(parameter, np.nan, np.nan, fixed, (lo, hi), list(evals.values()), np.nan,
                        False, f"no sign change of min S_I^max on {parameter} ∈ [{lo}, {hi}]: "
                        f"{glo:+.3g} .. {ghi:+.3g}")
    x_brent = brentq(g, lo, hi, xtol=xtol)
    below, above, x, tol = final_bracket({v: e.value for v, e in evals.items()}, x_brent)
    slope = (g(above) - g(below)) / (above - below)
    fine = refined_grid(d_grid)
    refined = g_at(x, fine)
    shift = refined.value - (g(x) if x in evals else g(below) + slope * (x - below))
    near = evals[min(evals, key=lambda v: abs(v - x))]
    approx = float(getattr(near, "value_uncertainty", 0.0)) / abs(slope)
    grid = abs(shift) / abs(slope)
    unc = tol + grid + approx
    measured = not (getattr(refined, "at_end", False) and getattr(near, "at_end", False)
                    and refined.d_end == near.d_end)
    failed = sum(np.size(getattr(e, "failed_d", ())) for e in (evals[below], evals[above], refined))
    msg = CRITERION_TEXT.get(fixed.get("criterion", "resolved"), CRITERION)
    if not measured:
        msg += ("; grid term not measured: the minimum sits at the end of the resolved branch "
                f"(d = {refined.d_end:g}) in both grids")
    if failed:
        msg += f"; {failed} failed distance(s) in the final evaluations, not in the minimum"
    return Critical(parameter, float(x), float(unc), fixed, (lo, hi),
                    sorted(evals.values(), key=lambda e: getattr(e, parameter)), float(shift),
                    True, msg, float(tol), float(grid), approx, measured, int(failed))


def final_bracket(values, near):
    """(below, above, x, tol) from evaluations {x: g(x)} of an increasing g with g < 0 at the
    lowest and g > 0 at the highest x: the adjacent evaluated pair with g(below) < 0 < g(above)
    (the one closest to ``near``, Brent's answer, should g not be monotone) and the secant root x
    between them. The root lies in [below, above], so tol = max(x − below, above − x) bounds the
    error of x. An evaluated exact zero is the root itself (tol = 0), between its neighbours."""
    xs = np.array(sorted(values))
    gs = np.array([values[v] for v in xs])
    zero = np.flatnonzero(gs == 0)
    if zero.size:
        k = zero[np.argmin(np.abs(xs[zero] - near))]
        return float(xs[k - 1]), float(xs[k + 1]), float(xs[k]), 0.0
    pairs = np.flatnonzero((gs[:-1] < 0) & (gs[1:] > 0))
    k = pairs[np.argmin(np.abs(xs[pairs] - near))]
    below, above, gb, ga = xs[k], xs[k + 1], gs[k], gs[k + 1]
    x = below - gb * (above - below) / (ga - gb)
    return float(below), float(above), float(x), float(max(x - below, above - x))


def critical_JD(lam=0.0, L=1, kappa=0.0, *, bracket=(0.04, 0.08), xtol=5e-4, d_grid=None,
                cache_dir=None, criterion="centred", **kw) -> Critical:
    """J_c(λ, L): the self-coupling where the criterion's minimum changes sign (SPEC §6.9).

    ``criterion``: "centred" (default; :func:`centred_minimum`: through the fold, gaps count as OGP)
    or "resolved" (the former :func:`branch_minimum`: min of S_I^max over the branch resolved by
    the fixed-y iteration — a lower bound). Each evaluation is a continuation along ``d_grid``
    (minutes for the core model); ``cache_dir`` keeps them on disk.
    """
    fn, cls, default = _criterion(criterion)
    d_grid = default if d_grid is None else d_grid

    def g_at(J, grid):
        return fn(J, lam, L, kappa, d_grid=grid, **kw)
    tag = f"{criterion}_JD_lam{float(lam)!r}_L{int(L)}_k{float(kappa)!r}"
    return _critical("J_D", _cached(g_at, cache_dir, tag, cls), bracket, xtol, d_grid,
                     dict(lam=float(lam), L=int(L), kappa=float(kappa), criterion=criterion))


def critical_lambda(J_D, L=2, kappa=0.0, *, bracket=(0.1, 0.8), xtol=5e-3, d_grid=None,
                    cache_dir=None, criterion="centred", **kw) -> Critical:
    """λ_c(J_D, L): the inter-module coupling where the criterion's minimum changes sign
    (``criterion`` "centred", :func:`centred_minimum`, or "resolved", :func:`branch_minimum`)."""
    fn, cls, default = _criterion(criterion)
    d_grid = default if d_grid is None else d_grid

    def g_at(lam, grid):
        return fn(J_D, lam, L, kappa, d_grid=grid, **kw)
    tag = f"{criterion}_lam_JD{float(J_D)!r}_L{int(L)}_k{float(kappa)!r}"
    return _critical("lam", _cached(g_at, cache_dir, tag, cls), bracket, xtol, d_grid,
                     dict(J_D=float(J_D), L=int(L), kappa=float(kappa), criterion=criterion))


#: criterion name -> (name of its minimum function, its result class, default d-grid)
_CRITERIA = {"centred": ("centred_minimum", CentredMinimum, D_GRID_CENTRED),
             "resolved": ("branch_minimum", BranchMinimum, D_GRID)}


def _criterion(name):
    """(minimum function, result class, default d-grid) of a criterion, the function looked up
    at call time (so that it can be replaced in tests)."""
    if name not in _CRITERIA:
        raise ValueError(f"unknown criterion {name!r}; choose from {', '.join(_CRITERIA)}")
    fn, cls, grid = _CRITERIA[name]
    return globals()[fn], cls, grid
