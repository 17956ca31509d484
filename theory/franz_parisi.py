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

from dataclasses import dataclass

import numpy as np
from .annealed import _jt, entropy_core
from .cluster_integrals import Saddle
from .large_deviation import iterate
from .saddle_tools import along_d, carry
from .special import log_Phi


@dataclass
class FPResult(Saddle):
    """The RS Franz–Parisi saddle at one (d, J_D, κ): ``entropy`` = S_FP(d)."""

    d: float
    J_D: float
    kappa: float
    entropy: float


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
        return FPResult(d, float(J_D), float(kappa), float(entropy_core(J_D, kappa)), p_hat=0.0,
                        q1=0.0, q1_hat=0.0, converged=True, iterations=0,
                        message="d = 1/2: satellites independent of the reference")
    if d == 0:
        return FPResult(d, float(J_D), float(kappa), 0.0, p_hat=np.inf, q1=1.0, q1_hat=np.inf,
                        converged=True, iterations=0, message="d = 0: the reference itself")
    if isinstance(init, FPResult):
        init = carry(init, d)
    p_hat, q1, q1_hat, av, ok, its, res = iterate(d, jt, 0.0, init=init, tol=tol,
                                                  damping=damping, max_iter=max_iter)
    S = -p * p_hat - q1_hat * (1 - q1) / 2 + av["lnK"]
    res["quadrature_norm"] = av["G"] - float(log_Phi(jt))
    msg = "converged" if ok else f"no convergence in {its} iterations"
    return FPResult(d, float(J_D), float(kappa), float(S), p_hat=float(p_hat), q1=float(q1),
                    q1_hat=float(q1_hat), converged=ok, iterations=its, residuals=res, message=msg)


def curve(d_grid, J_D, kappa=0.0, **kwargs) -> list[FPResult]:
    """Solve along ``d_grid`` by continuation from large to small d; results in the input order."""
    def at(d, init):
        r = solve(d, J_D, kappa, init=init, **kwargs)
        return r, (r if r.converged and np.isfinite(r.q1_hat) else None)
    return along_d(d_grid, at)
