"""Large deviations of the local entropy: internal and external entropy of clusters (SPEC §6).

  Φ(d, y) = lim (1/N) E ln Σ_{s̃} X(s̃) 𝒩(s̃, d)^y,   𝒩(s̃, d) = #FPs at distance d from s̃,

with X(s̃) = 1 if s̃ is itself a fixed point ("constrained" reference) or X ≡ 1 ("free"). In the
RS ansatz with the cluster-flip symmetry (q̃ = p0 = q0 = 0, SPEC §6.2) and continuous y:

  Φ = extr_{p̂,q1,q̂1} [ −y p p̂ − y(y−1) q1 q̂1/2 − y q̂1/2 + ln 2 + G(y) ],
  G(y) = ln ∫Dz H_r ∫Dg K^y   (see :mod:`theory.cluster_integrals`),

stationary at (SPEC §6.9) p = ⟨m⟩_π, q1 = ⟨m²⟩_π, q̂1 = 2⟨∂_{q1} ln H_r + y ∂_{q1} ln K⟩_π/(y(y−1)).
By the envelope theorem the internal entropy (log-number of FPs at distance d from the selected
references) is

  S_I = ∂Φ/∂y = −p p̂ − (2y−1) q1 q̂1/2 − q̂1/2 + ⟨ln K⟩_π,

and the external entropy (log-number of such references) is Σ_ext = Φ − y S_I.

Special values: y = 0 gives Φ = S_a and S_I = the Franz–Parisi potential (SPEC §5; the q̂1 equation
is taken in its y → 0 limit); y = 1 gives the annealed pair count Φ = f(1 − 2d) in closed form,
where the q̂1 equation is singular, so S_I there is the mean of the solutions at y = 1 ± 1e-3.
For integer y, :func:`free_entropy` with ``method="binomial"`` evaluates Φ with the g-integral done
exactly (T_y(z) = Σ_k C(y,k) H₊^k H₋^{y−k} e^{(2k−y)p̂ + (2k−y)² q̂1/2}, SPEC §6.3): an independent
check of the quadrature.
"""

from __future__ import annotations

import numpy as np
from scipy import special as sp

from .annealed import LN2, _jt, pair_exponent_d
from .cluster_integrals import SiteIntegrals, z_rule
from .saddle_tools import AndersonMixer, LDResult, carry, check_args
from .special import binary_entropy, log_Phi

_Y1_STEP = 1e-3
ANDERSON_BUDGET = 60
Q1_RUNAWAY = 1e-3  # 1 − q1 below this fraction of 1 − p², still rising: the q1 → 1 basin


def _phi(p, y, p_hat, q1, q1_hat, G):
    """Φ = −y p p̂ − y(y−1) q1 q̂1/2 − y q̂1/2 + ln 2 + G (SPEC §6.3)."""
    return -y * p * p_hat - y * (y - 1) * q1 * q1_hat / 2 - y * q1_hat / 2 + LN2 + G


def _internal(p, y, p_hat, q1, q1_hat, lnK):
    """S_I = −p p̂ − (2y−1) q1 q̂1/2 − q̂1/2 + ⟨ln K⟩_π (SPEC §6.5)."""
    return -p * p_hat - (2 * y - 1) * q1 * q1_hat / 2 - q1_hat / 2 + lnK


def _q1_hat_update(y, av):
    """q̂1 from stationarity in q1: the y → 0 limit (Franz–Parisi) or 2∂_{q1}G/(y(y−1))."""
    if y == 0:
        return -2.0 * (av["dHr_lnK"] - av["dHr"] * av["lnK"] + av["dK"])
    return 2.0 * (av["dHr"] + y * av["dK"]) / (y * (y - 1))


def iterate(d, jt, y, *, reference="constrained", init=None, tol=1e-9, damping=0.5,
            max_iter=1000, step=0.5, memory=3, collapse=None):
    """Fixed-point iteration on x = (q1, q̂1) with the inner root for p̂ (SPEC §7 "Solver").

    Each step evaluates the map x ↦ G(x) (new q1 = ⟨m²⟩_π, new q̂1 from the q1 equation) and mixes
    with weight 1 − ``damping``, accelerated by Anderson mixing over the last ``memory`` steps
    (``memory=0``: plain damped iteration). An accelerated step that leaves the domain p² < q1 < 1,
    q̂1 ≥ 0 is clipped into it, and every step stays in a trust region (q1 moves at most halfway
    towards p² or 1, q̂1 at most halves or doubles plus one); if the residual grows tenfold the
    history is dropped. Anderson can run away where the plain iteration contracts slowly (e.g.
    J̃ = 0, d ≲ 0.02): after
    ``ANDERSON_BUDGET`` iterations without convergence, or once q̂1 > 100, the solve restarts from
    ``init`` with the plain damped iteration. A run-away q̂1 (y√q̂1 > 100, where the g window and
    the cost grow without bound) stops the solve with ``converged=False``, and so does q1 → 1
    (1 − q1 < ``Q1_RUNAWAY``·(1 − p²) and still rising): past the fold that ends the RS branch at
    small d the iteration has no interior fixed point and runs into the satellites-collapse basin.
    ``collapse`` (a value of t = (q1 − p²)/(1 − p²), e.g. 0.99) stops such a solve early, as soon as
    t passes it while still rising. Converged when both components of G(x) − x are below ``tol``.
    Returns (p̂, q1, q̂1, averages at the saddle, converged, iterations, residuals).
    """
    p = 1 - 2 * d
    start = init
    p_hat, q1, q1_hat = init if init is not None else (np.arctanh(min(p, 0.999)), 0.0, 0.5)
    if not p * p < q1 < 1:
        q1 = p * p + 0.5 * (1 - p * p)
    lo_q1 = p * p + 1e-12 * (1 - p * p)
    beta = 1 - damping
    res, av = {}, {}
    mix = AndersonMixer(memory, beta)
    for it in range(1, max_iter + 1):
        I = SiteIntegrals(p, jt, q1, q1_hat, y, p_hat, reference=reference, step=step)
        try:
            p_hat = I.solve_p_hat(p, p_hat)
        except RuntimeError as exc:  # reported, not raised: the caller sees converged=False
            res = dict(res, error=str(exc))
            return p_hat, q1, q1_hat, av or I.averages(p_hat), False, it, res
        av = I.averages(p_hat)
        g = np.array([min(max(av["m2"], lo_q1), 1 - 1e-15), max(_q1_hat_update(y, av), 0.0)])
        x = np.array([q1, q1_hat])
        f = g - x
        res = dict(q1=f[0], q1_hat=f[1], p=av["m"] - p)
        if np.max(np.abs(f)) < tol:
            return p_hat, q1, q1_hat, av, True, it, res
        if memory and (it >= ANDERSON_BUDGET or q1_hat > 100):
            out = iterate(d, jt, y, reference=reference, init=start, tol=tol, damping=damping,
                          max_iter=max_iter, step=step, memory=0, collapse=collapse)
            return out[:5] + (out[5] + it,) + (dict(out[6], restarted="plain damped iteration"),)
        new = mix.propose(x, f)
        # trust region: at most halfway towards the edges q1 = p², q1 = 1, and q̂1 at most ×2 + 1
        q1 = min(max(new[0], q1 - 0.5 * (q1 - lo_q1)), q1 + 0.5 * (1 - q1))
        q1_hat = min(max(new[1], 0.5 * q1_hat), 2 * q1_hat + 1)
        if y * np.sqrt(q1_hat) > 100:
            return p_hat, q1, q1_hat, av, False, it, dict(res, error="q1_hat run-away")
        if collapse is not None and q1 - p * p > collapse * (1 - p * p) and f[0] > 0:
            return p_hat, q1, q1_hat, av, False, it, dict(res, error="collapsing onto q1 = 1")
        if 1 - q1 < Q1_RUNAWAY * (1 - p * p) and f[0] > 0:
            return p_hat, q1, q1_hat, av, False, it, dict(res, error="q1 -> 1 run-away")
    return p_hat, q1, q1_hat, av, False, max_iter, res


def solve(d, y, J_D, lam=0.0, L=1, kappa=0.0, reference="constrained", *, init=None, tol=1e-9,
          damping=0.5, max_iter=1000, step=0.5, collapse=None) -> LDResult:
    """Φ(d, y), S_I and Σ_ext at the RS saddle (SPEC §6); ``init`` = (p̂, q1, q̂1) or an LDResult.

    ``L > 1`` or ``lam > 0``: the L-module chain, delegated to
    :func:`theory.chain_large_deviation.solve` (integer y only; entropies per column, per-layer
    order parameters)."""
    d, y = check_args(d, y, reference)
    if L != 1 or lam != 0:  # the L-module chain: integer y, per-layer order parameters
        from . import chain_large_deviation as CLD
        return CLD.solve(d, y, J_D, lam, L, kappa, reference, init=init, tol=tol, damping=damping,
                         max_iter=max_iter, step=step)
    jt = float(_jt(J_D, kappa))
    if isinstance(init, LDResult):
        init = carry(init, d)
    p = 1 - 2 * d
    kw = dict(reference=reference, tol=tol, damping=damping, max_iter=max_iter, step=step,
              collapse=collapse)
    if abs(y - 1) < _Y1_STEP / 2:
        lo = solve(d, 1 - _Y1_STEP, J_D, kappa=kappa, init=init, **kw)
        hi = solve(d, 1 + _Y1_STEP, J_D, kappa=kappa, init=lo, **kw)
        if reference == "constrained":
            phi = float(pair_exponent_d(d, J_D, kappa))
        else:
            phi = float(LN2 + log_Phi(jt) + binary_entropy(d))
        S_I = 0.5 * (lo.internal_entropy + hi.internal_entropy)
        return LDResult(d, y, float(J_D), float(kappa), reference, phi, S_I, phi - y * S_I,
                        p_hat=0.5 * (lo.p_hat + hi.p_hat), q1=0.5 * (lo.q1 + hi.q1),
                        q1_hat=0.5 * (lo.q1_hat + hi.q1_hat),
                        converged=lo.converged and hi.converged,
                        iterations=lo.iterations + hi.iterations,
                        residuals=dict(lo=lo.residuals, hi=hi.residuals),
                        message=f"y = 1: Φ in closed form, S_I from y = 1 ± {_Y1_STEP}")
    p_hat, q1, q1_hat, av, ok, its, res = iterate(d, jt, y, init=init, **kw)
    phi = _phi(p, y, p_hat, q1, q1_hat, av["G"])
    S_I = _internal(p, y, p_hat, q1, q1_hat, av["lnK"])
    res["quadrature_norm"] = av["G"] - float(log_Phi(jt)) if y == 0 and reference == "constrained" \
        else None
    msg = "converged" if ok else f"no convergence in {its} iterations"
    return LDResult(d, y, float(J_D), float(kappa), reference, float(phi), float(S_I),
                    float(phi - y * S_I), p_hat=float(p_hat), q1=float(q1), q1_hat=float(q1_hat),
                    converged=ok, iterations=its, residuals=res, message=msg)


def free_entropy(d, y, p_hat, q1, q1_hat, J_D, kappa=0.0, reference="constrained",
                 method="binomial", step=0.5) -> float:
    """Φ evaluated (not extremised) at given order parameters (SPEC §6.3).

    method="binomial" (integer y only): the g-integral done exactly,
      ln ∫Dz H_r T_y(z),  T_y = Σ_k C(y,k) H₊^k H₋^{y−k} exp[(2k−y)p̂ + (2k−y)² q̂1/2];
    method="quadrature": the (z, g) quadrature of :class:`SiteIntegrals`.
    """
    d, y = check_args(d, y, reference)
    jt = float(_jt(J_D, kappa))
    p = 1 - 2 * d
    if method == "quadrature":
        G = SiteIntegrals(p, jt, q1, q1_hat, y, p_hat, reference=reference, step=step) \
            .averages(p_hat)["G"]
        return float(_phi(p, y, p_hat, q1, q1_hat, G))
    if method != "binomial":
        raise ValueError(f"method must be 'binomial' or 'quadrature', got {method!r}")
    if y != int(y):
        raise ValueError("the binomial form needs an integer y")
    y = int(y)
    sq, s1 = np.sqrt(q1), np.sqrt(1 - q1)
    z, wz = z_rule(p, jt, q1, reference == "constrained", step)
    lHp, lHm = log_Phi((jt + sq * z) / s1), log_Phi((jt - sq * z) / s1)
    lHr = log_Phi((jt + p * z / sq) / np.sqrt(1 - p * p / q1)) if reference == "constrained" \
        else np.zeros_like(z)
    k = np.arange(y + 1)
    mk = 2 * k - y
    logC = sp.gammaln(y + 1) - sp.gammaln(k + 1) - sp.gammaln(y - k + 1)
    logT = sp.logsumexp(logC + k * lHp[:, None] + (y - k) * lHm[:, None] + mk * p_hat
                        + mk * mk * q1_hat / 2, axis=1)
    G = sp.logsumexp(np.log(wz) + lHr + logT)
    return float(_phi(p, y, p_hat, q1, q1_hat, G))
