"""The one-site integrals shared by the Franz–Parisi potential (SPEC §5) and the large-deviation
free entropy (SPEC §6): a reference configuration with y satellites at overlap p, satellites at mutual
overlap q1.

Fields at one site: satellites u_a = √q1 z + √(1−q1) ξ_a, reference ũ = (p/√q1) z + √(1−p²/q1) ξ̃.
Given z, a satellite of spin ±1 is stable with probability H± = H(−(J̃ ± √q1 z)/√(1−q1)) and the
reference (spin +1 by the Z₂ gauge) with H_r = H(−(J̃ + p z/√q1)/√(1−p²/q1)) (H_r ≡ 1 for the
unconstrained reference). With a = √q̂1 g + p̂, X = a + ½ ln(H₊/H₋) and m = tanh X:

  K = e^{a} H₊ + e^{−a} H₋ = √(H₊H₋) · 2 cosh X,
  G(y) = ln ∫Dz H_r(z) ∫Dg K^y,      π(z, g) ∝ Dz H_r Dg K^y,
  ∂_{q1} ln K = ((1+m)/2) ∂_{q1} ln H₊ + ((1−m)/2) ∂_{q1} ln H₋ ,

with ∂_{q1} ln H(−x) = R(x) ∂_{q1}x (Mills ratio R = φ/Φ). :class:`SiteIntegrals` builds the
quadrature once per (q1, q̂1) and evaluates the π-averages for any p̂ (the inner root in p̂).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special as sp

from .quadrature import gauss_grid, gauss_grid_rows
from .special import exp_floor, log_Phi, mills


@dataclass(kw_only=True)
class Saddle:
    """Order parameters at a replica saddle with the solver's status (shared by §5 and §6 results)."""

    p_hat: float
    q1: float
    q1_hat: float
    converged: bool
    iterations: int
    residuals: dict = field(default_factory=dict)
    message: str = ""

    @property
    def order_parameters(self) -> dict:
        return dict(p_hat=self.p_hat, q1=self.q1, q1_hat=self.q1_hat)


def z_rule(p, jt, q1, constrained, step=0.5):
    """The z quadrature: graded around the steps of H± (z = ∓J̃/√q1, width √(1−q1)/√q1) and, for a
    constrained reference, of H_r (z = −J̃√q1/p, width √(q1−p²)/p)."""
    sq, s1 = np.sqrt(q1), np.sqrt(1 - q1)
    sharp = [(-jt / sq, s1 / sq), (jt / sq, s1 / sq)]
    if constrained and p > 0:
        sharp.append((-jt * sq / p, np.sqrt(max(q1 - p * p, 0.0)) / p))
    return gauss_grid(sharp, step=step)


def _lnPhi_and_dq(x, dx):
    """ln H(−x) = ln Φ(x) and its q1-derivative R(x)·dx."""
    return log_Phi(x), mills(x) * dx


class SiteIntegrals:
    """Quadrature of π ∝ Dz H_r Dg K^y at fixed (p, J̃, q1, q̂1, y) (SPEC §5, §6.3, §6.9).

    z rule: graded around the steps of H± (z = ∓J̃/√q1, width √(1−q1)/√q1) and of H_r
    (z = −J̃√q1/p, width √(q1−p²)/p). g rule: one per z row, graded around the step of
    tanh(√q̂1 g + c(z) + p̂) at the p̂ guess (width 1/√q̂1), on a window widened by y√q̂1 because
    K^y tilts the Gaussian towards |g| ~ y√q̂1. SPEC §7 asks for steps ≤ 0.1–0.15 of the local
    scale near the sharp points; the grading goes down to ¼ of it, then 8 Gauss–Legendre nodes.
    """

    def __init__(self, p, jt, q1, q1_hat, y=0.0, p_hat=0.0, *, reference="constrained",
                 step=0.5):
        if reference not in ("constrained", "free"):
            raise ValueError(f"reference must be 'constrained' or 'free', got {reference!r}")
        self.y = float(y)
        sq, s1 = np.sqrt(q1), np.sqrt(1 - q1)
        constrained = reference == "constrained"
        z, wz = z_rule(p, jt, q1, constrained, step)
        xp, xm = (jt + sq * z) / s1, (jt - sq * z) / s1
        dxp = z / (2 * sq * s1) + xp / (2 * (1 - q1))
        dxm = -z / (2 * sq * s1) + xm / (2 * (1 - q1))
        lHp, self.dlHp = _lnPhi_and_dq(xp, dxp)
        lHm, self.dlHm = _lnPhi_and_dq(xm, dxm)
        self.z, self.xp, self.xm, self.s1 = z, xp, xm, s1  # kept for theory.stability
        if constrained:
            Dr = np.sqrt(1 - p * p / q1)
            xr = (jt + p * z / sq) / Dr
            dxr = -p * z / (2 * q1 ** 1.5 * Dr) - xr * p * p / (2 * q1 * q1 * Dr * Dr)
            lHr, self.dlHr = _lnPhi_and_dq(xr, dxr)
        else:
            lHr, self.dlHr = np.zeros_like(z), np.zeros_like(z)
        self.sqh = np.sqrt(max(q1_hat, 0.0))
        c0 = 0.5 * (lHp - lHm)
        reach = 10.0 + 1.2 * self.y * self.sqh
        if self.sqh > 0:
            g, wg = gauss_grid_rows(-(c0 + p_hat) / self.sqh, 1.0 / self.sqh, lo=-reach, hi=reach,
                                    step=step)
        else:
            g1, w1 = gauss_grid(lo=-reach, hi=reach, step=step)
            g, wg = np.broadcast_to(g1, (z.size, g1.size)), np.broadcast_to(w1, (z.size, g1.size))
        with np.errstate(divide="ignore"):
            self.lw0 = np.log(wz * np.exp(lHr))[:, None] + np.log(wg)
        self.c = c0[:, None] + self.sqh * g
        self.half_sum = 0.5 * (lHp + lHm)[:, None]
        if self.y == 0:  # π does not depend on p̂: normalise once
            G0 = sp.logsumexp(self.lw0)
            self._W0, self._G0 = np.exp(self.lw0 - G0), G0
        self._last = None

    def state(self, p_hat):
        """(m, ln K, W, G) at p̂: m = tanh X, X = c + p̂, ln K = ½(ln H₊ + ln H₋) + ln 2cosh X, π weights
        W (normalised) and G. One exponential serves both: with e = exp(−2|X|), ln 2cosh X = |X| +
        ln(1 + e) and tanh X = sign(X) (1 − e)/(1 + e). Exponents are floored (:func:`theory.special
        .exp_floor`): e at e^-700 (changes ln K and m by < 1e-304) and the weights at e^-600 of the
        largest (changes every average by < 1e-250 relative for fewer than 1e10 nodes). The last p̂
        is cached (a root search ends where the averages are then taken)."""
        if self._last is not None and self._last[0] == p_hat:
            return self._last[1]
        X = self.c + p_hat
        a = np.abs(X)
        e = exp_floor(-2.0 * a, -700.0)           # = e^{-2|X|} up to 1e-304 (absolute)
        lnK = np.log1p(e)
        lnK += a
        lnK += self.half_sum
        m = np.subtract(1.0, e)
        e += 1.0
        m /= e
        np.copysign(m, X, out=m)
        if self.y == 0:
            state = (m, lnK, self._W0, self._G0)
        else:
            W = np.multiply(lnK, self.y)
            W += self.lw0
            top = W.max()
            W -= top
            W = exp_floor(W, -600.0)              # weights below e^-600 of the largest: raised to it
            tot = W.sum()
            W /= tot
            state = (m, lnK, W, top + np.log(tot))
        self._last = (p_hat, state)
        return state

    def mean_m(self, p_hat) -> float:
        m, _, W, _ = self.state(p_hat)
        return float(np.vdot(W, m))

    def averages(self, p_hat) -> dict:
        """π-averages: m, m², ln K, ∂ln H_r, ∂ln K, ∂ln H_r·ln K, and G = ln ∫Dz H_r ∫Dg K^y."""
        m, lnK, W, G = self.state(p_hat)
        Wm = W * m
        Wz = W.sum(axis=1)                                      # the z marginal of π
        WlnK = (W * lnK).sum(axis=1)
        Wmz = Wm.sum(axis=1)
        dK = 0.5 * (Wz + Wmz) @ self.dlHp + 0.5 * (Wz - Wmz) @ self.dlHm
        return dict(m=float(Wmz.sum()), m2=float(np.vdot(Wm, m)), lnK=float(WlnK.sum()),
                    dHr=float(Wz @ self.dlHr), dK=float(dK), dHr_lnK=float(WlnK @ self.dlHr),
                    G=float(G))

    def _m_and_slope(self, p_hat):
        m, _, W, _ = self.state(p_hat)
        Wm = W * m
        mm, m2 = float(Wm.sum()), float(np.vdot(Wm, m))
        return mm, (1.0 - m2) + self.y * (m2 - mm * mm)

    def solve_p_hat(self, p, guess, tol=1e-13) -> float:
        """The root of ⟨m⟩_π = p in p̂. ⟨m⟩ increases with p̂ (d⟨m⟩/dp̂ = ⟨1−m²⟩ + y Var m > 0,
        SPEC §6.9), so Newton steps are kept inside a bracket that every evaluation shrinks, and a
        bisection step replaces any Newton step that would leave it."""
        lo, hi = -np.inf, np.inf
        h = guess
        for _ in range(40):
            m, slope = self._m_and_slope(h)
            f = m - p
            if abs(f) < tol:
                return h
            if f < 0:
                lo = h
            else:
                hi = h
            new = h - f / slope if slope > 0 else np.nan
            if not lo < new < hi:
                if np.isfinite(lo) and np.isfinite(hi):
                    new = 0.5 * (lo + hi)
                else:
                    new = h + (1.0 if f < 0 else -1.0) * max(1.0, 2 * abs(h - guess))
            if abs(new - h) < 1e-15 * max(1.0, abs(h)):
                return new
            h = new
        return self._brent_p_hat(p, h)

    def _brent_p_hat(self, p, guess):
        """Fallback: expand a bracket geometrically, then Brent (slow, always converges)."""
        from scipy.optimize import brentq
        f = lambda h: self.mean_m(h) - p  # noqa: E731
        lo, hi = guess - 1.0, guess + 1.0
        for _ in range(200):
            if f(lo) < 0:
                break
            lo -= 2 * (hi - lo)
        for _ in range(200):
            if f(hi) > 0:
                break
            hi += 2 * (hi - lo)
        if not f(lo) < 0 < f(hi):
            raise RuntimeError(f"no bracket for p_hat: <m> - p = {f(lo):.2e} .. {f(hi):.2e}")
        return brentq(f, lo, hi, xtol=1e-14, rtol=1e-14, maxiter=500)
