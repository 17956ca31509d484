"""Quenched replica-symmetric Franz–Parisi potential around a typical fixed point (SPEC §5).

S_FP(d) is the log-number (per spin, averaged over couplings) of fixed points at distance d from a
uniformly drawn reference fixed point. Order parameters: p = 1 − 2d (fixed) with conjugate p̂; q1,
the overlap of two satellites of the same reference, with conjugate q̂1 (the reference–reference
overlap is 0 by Z₂ symmetry):

  S_FP(d) = extr_{p̂,q1,q̂1} { −p p̂ − q̂1(1−q1)/2 + ⟨ln K⟩ },
  K = e^{a} H₊(z) + e^{−a} H₋(z),  a = √q̂1 g + p̂,
  ⟨·⟩ = Φ(J̃)^{−1} ∫Dz H_r(z) ∫Dg (·),
  H± = H(−(J̃ ± √q1 z)/√(1−q1)),  H_r = H(−(J̃ + p z/√q1)/√(1−p²/q1)),  p² < q1 < 1.

Stationarity (X = a + ½ ln(H₊/H₋), m = tanh X): p = ⟨m⟩ (a monotone root in p̂),
q1 = ⟨m²⟩, q̂1 = −2⟨∂_{q1} ln H_r · ln K + ∂_{q1} ln K⟩, with
∂_{q1} ln K = ((1+m)/2) ∂_{q1} ln H₊ + ((1−m)/2) ∂_{q1} ln H₋ (Mills ratios).

Solver (SPEC §7): damped fixed-point iteration on (q1, q̂1) with an inner bracketed Brent root for
p̂; composite z and g rules rebuilt at each iteration around the sharp points of H± and H_r.
:func:`curve` continues in d from large to small distances. Results carry the residuals, the
iteration count and a ``converged`` flag; a failed solve is reported, never a silent NaN.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq

from .annealed import _jt, entropy_core
from .quadrature import gauss_grid
from .special import log_H, log_Phi, mills


@dataclass
class FPResult:
    """The RS Franz–Parisi saddle at one (d, J_D, κ)."""

    d: float
    J_D: float
    kappa: float
    entropy: float
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


def _lnH_and_dq(x, dx):
    """ln H(−x) = ln Φ(x) and its derivative R(x)·dx (R = φ/Φ)."""
    return log_Phi(x), mills(x) * dx


class _Integrals:
    """Everything at fixed (d, J̃, q1, q̂1) that does not depend on p̂: grids, ln H's, derivatives."""

    def __init__(self, p, jt, q1, q1_hat, step=0.25):
        sq, s1 = np.sqrt(q1), np.sqrt(1 - q1)
        sharp = [(-jt / sq, s1 / sq), (jt / sq, s1 / sq)]
        sr = np.sqrt(max(q1 - p * p, 0.0))
        if p > 0:
            sharp.append((-jt * sq / p, sr / p))
        z, wz = gauss_grid(sharp, step=step)
        g, wg = gauss_grid(step=min(step, step / np.sqrt(max(q1_hat, 1e-300))))
        self.sqh = np.sqrt(max(q1_hat, 0.0))
        xp = (jt + sq * z) / s1
        xm = (jt - sq * z) / s1
        dxp = z / (2 * sq * s1) + xp / (2 * (1 - q1))
        dxm = -z / (2 * sq * s1) + xm / (2 * (1 - q1))
        Dr = np.sqrt(1 - p * p / q1)
        xr = (jt + p * z / sq) / Dr
        dxr = -p * z / (2 * q1 ** 1.5 * Dr) - xr * p * p / (2 * q1 * q1 * Dr * Dr)
        self.lHp, self.dlHp = _lnH_and_dq(xp, dxp)
        self.lHm, self.dlHm = _lnH_and_dq(xm, dxm)
        lHr, self.dlHr = _lnH_and_dq(xr, dxr)
        wr = wz * np.exp(lHr)
        self.norm = wr.sum()
        self.W = (wr[:, None] * wg[None, :]) / self.norm      # ⟨·⟩ weights on the (z, g) grid
        self.c = 0.5 * (self.lHp - self.lHm)[:, None] + self.sqh * g[None, :]
        self.half_sum = 0.5 * (self.lHp + self.lHm)[:, None]

    def m(self, p_hat):
        return np.tanh(self.c + p_hat)

    def mean_m(self, p_hat):
        return float(np.sum(self.W * self.m(p_hat)))

    def averages(self, p_hat):
        X = self.c + p_hat
        m = np.tanh(X)
        lnK = self.half_sum + np.logaddexp(X, -X)
        dlnK = 0.5 * (1 + m) * self.dlHp[:, None] + 0.5 * (1 - m) * self.dlHm[:, None]
        W = self.W
        return dict(m=float(np.sum(W * m)), m2=float(np.sum(W * m * m)),
                    lnK=float(np.sum(W * lnK)),
                    dq=float(np.sum(W * (self.dlHr[:, None] * lnK + dlnK))))


def _solve_p_hat(I: _Integrals, p: float, guess: float) -> float:
    f = lambda h: I.mean_m(h) - p  # noqa: E731  (increasing in h)
    lo, hi = guess - 1.0, guess + 1.0
    for _ in range(60):
        if f(lo) < 0:
            break
        lo -= 2 * (hi - lo)
    for _ in range(60):
        if f(hi) > 0:
            break
        hi += 2 * (hi - lo)
    return brentq(f, lo, hi, xtol=1e-14, rtol=1e-14, maxiter=200)


def solve(d, J_D, kappa=0.0, *, init=None, tol=1e-9, damping=0.5, max_iter=1000) -> FPResult:
    """RS Franz–Parisi saddle at distance d (SPEC §5); ``init`` = (p̂, q1, q̂1) or an FPResult.

    Limits: d = ½ gives S_a exactly (p = p̂ = q1 = q̂1 = 0); d = 0 is a single configuration (the
    reference itself), entropy 0. ``damping`` is the weight of the old iterate (SPEC §7: 0.3–0.5).
    """
    d = float(d)
    if not np.isfinite(d) or not 0 <= d <= 0.5:
        raise ValueError(f"d must be in [0, 0.5], got {d!r}")
    jt = float(_jt(J_D, kappa))
    p = 1 - 2 * d
    if d == 0.5:
        return FPResult(d, float(J_D), float(kappa), float(entropy_core(J_D, kappa)), 0.0, 0.0,
                        0.0, True, 0, {}, "d = 1/2: satellites independent of the reference")
    if d == 0:
        return FPResult(d, float(J_D), float(kappa), 0.0, np.inf, 1.0, np.inf, True, 0, {},
                        "d = 0: the reference itself")
    if isinstance(init, FPResult):
        init = (init.p_hat, init.q1, init.q1_hat)
    p_hat, q1, q1_hat = init if init is not None else (np.arctanh(min(p, 0.999)), 0.0, 0.5)
    if not p * p < q1 < 1:
        q1 = p * p + 0.5 * (1 - p * p)
    res = {}
    for it in range(1, max_iter + 1):
        I = _Integrals(p, jt, q1, q1_hat)
        p_hat = _solve_p_hat(I, p, p_hat)
        av = I.averages(p_hat)
        q1_new = min(max(av["m2"], p * p + 1e-12 * (1 - p * p)), 1 - 1e-15)
        q1_hat_new = max(-2.0 * av["dq"], 0.0)
        res = dict(q1=q1_new - q1, q1_hat=q1_hat_new - q1_hat, p=av["m"] - p)
        if max(abs(res["q1"]), abs(res["q1_hat"])) < tol:
            S = -p * p_hat - q1_hat * (1 - q1) / 2 + av["lnK"]
            res["quadrature_norm"] = I.norm / np.exp(log_Phi(jt)) - 1
            return FPResult(d, float(J_D), float(kappa), float(S), float(p_hat), float(q1),
                            float(q1_hat), True, it, res, "converged")
        q1 = damping * q1 + (1 - damping) * q1_new
        q1_hat = damping * q1_hat + (1 - damping) * q1_hat_new
    S = -p * p_hat - q1_hat * (1 - q1) / 2 + av["lnK"]
    return FPResult(d, float(J_D), float(kappa), float(S), float(p_hat), float(q1), float(q1_hat),
                    False, max_iter, res, f"no convergence in {max_iter} iterations")


def curve(d_grid, J_D, kappa=0.0, **kwargs) -> list[FPResult]:
    """Solve along ``d_grid`` by continuation from large to small d; results in the input order."""
    d_grid = np.asarray(d_grid, float)
    order = np.argsort(-d_grid)
    out: list[FPResult | None] = [None] * d_grid.size
    prev = None
    for i in order:
        r = solve(d_grid[i], J_D, kappa, init=prev if prev is not None and prev.converged
                  and np.isfinite(prev.q1_hat) else None, **kwargs)
        out[i] = r
        prev = r
    return out
