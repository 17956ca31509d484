"""The OGP → RM transition from the internal entropy of the densest clusters (SPEC §6.8, §6.9).

Criterion (the formulation of SPEC §6.9, constrained reference, continuous y):

- For each distance d let y*(d) solve Σ_ext(d, y*) = 0: beyond y* the reference measure freezes, so
  the densest *existing* clusters have internal entropy S_I^max(d) = S_I(d, y*(d)).
- **RM** (representation manifold): S_I^max(d) > 0 for every d ∈ (0, ½) — even the densest fixed
  points have exponentially many fixed points at every small distance.
- **OGP**: S_I^max(d) < 0 on an interval of d — no fixed point has fixed points at those distances.
- The critical self-coupling J_c is where min_{d>0} S_I^max(d) = 0.

Σ_ext(d, y) decreases in y (Φ is convex in y) from Σ_ext(d, 0) = S_a, so y* is found by bracketing
in ln y and Brent, with warm starts. If Σ_ext stays positive up to ``y_max`` the result is flagged
(``frozen=False``) and S_I(d, y_max) is a lower bound on S_I^max.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq

from . import large_deviation as LD


class _YScan:
    """LD saddles along y at fixed (d, J_D), memoised, each warm-started from the last converged one."""

    def __init__(self, d, J_D, kappa, init, solve_kw):
        self.d, self.J_D, self.kappa, self.last = d, J_D, kappa, init
        self.kw = {"max_iter": 300, **solve_kw}
        self.cache: dict[float, LD.LDResult] = {}

    def __call__(self, y) -> LD.LDResult:
        if y not in self.cache:
            r = LD.solve(self.d, y, self.J_D, kappa=self.kappa, init=self.last, **self.kw)
            self.cache[y] = r
            if r.converged:
                self.last = r
        return self.cache[y]


@dataclass
class Densest:
    """S_I^max(d) = S_I(d, y*), with the saddle at y* and the search record."""

    d: float
    J_D: float
    y_star: float
    internal_entropy: float
    frozen: bool
    converged: bool
    result: LD.LDResult | None = None
    evaluations: int = 0
    message: str = ""


def densest(d, J_D, kappa=0.0, *, y_max=64.0, init=None, exact=True, xtol=1e-6,
            **solve_kw) -> Densest:
    """y*(d) and S_I^max(d) at one distance (SPEC §6.9); ``init`` warm-starts the first solve.

    y walks up 0 (the Franz–Parisi saddle, a safe cold start), ½, 2, 4, … ≤ ``y_max`` until Σ_ext
    turns negative, then Brent in ln y finds y*. With ``exact=False`` the walk stops as soon as the
    sign of S_I^max is known: S_I(d, y) > 0 with Σ_ext(d, y) ≥ 0 implies S_I^max ≥ S_I(d, y) > 0
    (S_I increases with y), and the result is that lower bound (``frozen=False``).
    """
    at = _YScan(d, J_D, kappa, init, solve_kw)

    if init is None:
        at(0.0)
    ys = [0.5, 2.0]
    while ys[-1] < y_max:
        ys.append(min(2 * ys[-1], y_max))
    prev_y, lo_y, hi_y = 0.0, None, None
    for y in ys:
        r = at(y)
        if not r.converged:
            return Densest(d, J_D, np.nan, np.nan, False, False, r, len(at.cache),
                           f"saddle not converged at y = {y:g}: {r.message}")
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
    return Densest(d, J_D, y, r.internal_entropy, True, r.converged, r, len(at.cache), "ok")


def densest_curve(d_grid, J_D, kappa=0.0, **kw) -> list[Densest]:
    """:func:`densest` along ``d_grid`` by continuation from large to small d (input order kept)."""
    def at(d, init):
        r = densest(d, J_D, kappa, init=init, **kw)
        return r, (r.result if r.converged and r.result is not None else init)
    return LD.along_d(d_grid, at)


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
