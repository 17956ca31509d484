"""The chain's centred branch between its fold and the first integer y (docs/theory_small_d.md).

The chain solver (:mod:`theory.chain_large_deviation`) has Φ at integer y only. At small d its
centred branch exists for y ≥ y_f(d) (the fold), and the first integer ⌈y_f⌉ can lie well past the
fold and past the Σ_ext = 0 crossing: Σ_ext(⌈y_f⌉) < 0 does not mean Σ_ext < 0 on the whole
centred branch (measured against the continuous-y core at λ = 0: J_D = 0.07, d = 0.011 has
y_f = 4.15, y* = 4.82 and Σ_ext(5) < 0). Extrapolating the integer Φ(y) to the fold does not work
either: Φ(y) has a square-root singularity there (S_I − S_f ∝ √(y − y_f)).

In the regular variable t = (q1 − p²)/(1 − p²) (the same in every layer: the layers of the L = 2
chain with λ_L = λ_R are mirror images) nothing is singular. At fixed t the reduced free entropy
Φ_red(t; y) = extr_{p̂, q̂1} Φ (:func:`theory.chain_large_deviation.reduced`) and its slope

  D(t; y) = Σ_ℓ ∂Φ_red/∂q1_ℓ = Σ_ℓ [⟨∂_{q1_ℓ} ln I_ℓ⟩_π − y(y−1) q̂1_ℓ/2]

are regular in y, so they are interpolated over ``WINDOW`` consecutive integers by polynomials
P_Φ(y), P_D(y), and on the branch

  y(t): P_D(y(t)) = 0,   Φ(t) = P_Φ(y(t)),   S_I(t) = P_Φ′(y(t))   (envelope: ∂_tΦ_red = 0),
  Σ_ext(t) = Φ(t) − y(t) S_I(t).

The fold is the minimum of y(t) (:func:`fold`); along the centred branch (t below the fold) y
decreases and Σ_ext increases with t. :func:`centred_point` gives the gap (Σ_f < 0) or the
crossing Σ_ext(t*) = 0 in (t_1, t_f), t_1 the t of the integer saddle at ⌈y_f⌉. All values per
column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from .chain_large_deviation import reduced

#: number of consecutive integers y of the interpolating polynomials (degree WINDOW − 1)
WINDOW = 5


@dataclass
class BranchPoint:
    """The centred branch at fixed t (per column): y(t), Φ, S_I, Σ_ext = Φ − y S_I."""

    t: float
    y: float
    phi: float
    internal_entropy: float

    @property
    def external_entropy(self) -> float:
        return self.phi - self.y * self.internal_entropy


class FixedT:
    """y(t), Φ(t), S_I(t) of the chain's branch at fixed t from integer-y reduced saddles.

    ``start``: a converged integer-y :class:`~theory.chain_large_deviation.ChainLDResult` near the
    fold (its p̂, q̂1 warm-start every reduced solve); ``ys``: the integers of the window."""

    def __init__(self, d, J_D, lam, L, kappa, start, ys):
        self.d, self.L = float(d), int(L)
        self.args = (J_D - kappa, start.lam_left, start.lam_right, self.L)
        self.ys = np.asarray(ys, int)
        self.warm = {int(y): (start.p_hat, start.q1_hat) for y in self.ys}
        self.cache: dict[float, BranchPoint | None] = {}

    def _column(self, t):
        """Φ_red(t; y) and D(t; y) at the window's integers."""
        p = 1 - 2 * self.d
        q1 = p * p + t * (1 - p * p)
        phi, slope = [], []
        for y in self.ys:
            ph, qh = self.warm[int(y)]
            r = reduced(self.d, int(y), q1, *self.args, p_hat=ph, q1_hat=qh)
            self.warm[int(y)] = (r["p_hat"], r["q1_hat"])
            phi.append(r["phi"])
            slope.append(float(np.sum(r["slope"])))
        return np.array(phi), np.array(slope)

    def __call__(self, t) -> BranchPoint | None:
        """The branch point at t, or None when P_D has no root within a unit of the window."""
        t = float(t)
        if t not in self.cache:
            self.cache[t] = self._solve(t)
        return self.cache[t]

    def _solve(self, t):
        try:
            phi, slope = self._column(t)
        except RuntimeError:
            return None
        P_phi = np.polynomial.Polynomial.fit(self.ys, phi, self.ys.size - 1)
        P_D = np.polynomial.Polynomial.fit(self.ys, slope, self.ys.size - 1)
        lo, hi = max(1.5, self.ys[0] - 1.0), self.ys[-1] + 1.0
        roots = [r.real for r in P_D.roots() if abs(r.imag) < 1e-9 and lo <= r.real <= hi]
        if not roots:
            return None
        y = min(roots)
        return BranchPoint(t, float(y), float(P_phi(y)), float(P_phi.deriv()(y)))


def window(y_first: int) -> np.ndarray:
    """The ``WINDOW`` integers ≥ 2 centred on the first integer of the centred block."""
    lo = max(2, int(y_first) - WINDOW // 2)
    return np.arange(lo, lo + WINDOW)


def fold(branch: FixedT, t1, *, dt=0.02, t_max=0.98) -> BranchPoint | None:
    """The minimum of y(t) for t > t1 (the fold): march t up in steps ``dt`` until y(t) grows,
    then a bounded Brent minimisation on the last two steps (to 1e-6 in t). None if y(t) never
    turns below ``t_max`` or the branch is lost."""
    ts = [float(t1)]
    pts = [branch(t1)]
    if pts[0] is None:
        return None
    while ts[-1] + dt <= t_max:
        ts.append(ts[-1] + dt)
        pts.append(branch(ts[-1]))
        if pts[-1] is None:
            return None
        if pts[-1].y > pts[-2].y:
            break
    else:
        return None
    a = ts[max(0, len(ts) - 3)]
    yy = lambda t: branch(t).y if branch(t) is not None else np.inf  # noqa: E731
    res = minimize_scalar(yy, bounds=(a, ts[-1]), method="bounded", options={"xatol": 1e-6})
    return branch(res.x)


@dataclass
class CentredPoint:
    """The chain's centred branch near its fold (per column): ``fold`` and, when Σ_f ≥ 0, the
    crossing ``crossing`` (Σ_ext = 0, S_I^max = its internal entropy); ``crossing`` is None for a
    gap (Σ_f < 0)."""

    fold: BranchPoint
    crossing: BranchPoint | None

    @property
    def gap(self) -> bool:
        return self.crossing is None


def centred_point(d, J_D, lam, L, kappa, start, *, xtol=1e-8) -> CentredPoint | None:
    """Fold and crossing of the centred branch below the integer saddle ``start`` (the lowest y of
    the chain's centred block; its t is t_1). None if the fold is not found. The crossing is
    searched in (t_1, t_f) only: at t_1 the integer-y spline already decides."""
    p = 1 - 2 * d
    t1 = float((np.mean(start.q1) - p * p) / (1 - p * p))
    branch = FixedT(d, J_D, lam, L, kappa, start, window(int(start.y)))
    f = fold(branch, t1)
    if f is None:
        return None
    if f.external_entropy < 0:
        return CentredPoint(f, None)
    if branch(t1).external_entropy >= 0:  # the crossing lies above ⌈y_f⌉: not searched here
        return CentredPoint(f, None)
    ts = brentq(lambda t: branch(t).external_entropy, t1, f.t, xtol=xtol)
    return CentredPoint(f, branch(ts))
