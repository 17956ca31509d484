"""Replicon (de Almeida–Thouless) stability of the RS large-deviation saddle inside the cluster
(SPEC §6.2, §6.9; derivation in ``docs/theory_small_d.md``).

Per site the replicated system is a reference and y satellites; a satellite carries a spin σ_a and a
stability field u_a, both entering the constraint σ_a u_a > −J̃. The overlaps q_ab between satellites
appear twice in the site function G(q, q̂): as the covariance of the fields u_a (energetic) and,
through their conjugates q̂_ab, as the coupling Σ q̂_ab σ_aσ_b (entropic). Perturb (q_ab, q̂_ab) in
the replicon subspace (Σ_b δq_ab = 0): each of ∂²G/∂q∂q, ∂²G/∂q̂∂q̂, ∂²G/∂q∂q̂ acts there as one
number (P − 2Q + R of its entries), and given (z, g) the satellites are independent, so

  λ_B = E_π[(1 − m²)²]                (spins: ⟨σσσσ⟩ connected),
  λ_A = E_π[(∂²_w ln K)²]             (fields: heat equation, w = √q1 z the common field),
  λ_C = E_π[(∂_w m)²]                 (mixed: spin a with field derivative a),

with m = tanh(p̂ + √q̂1 g + ½ ln(H₊/H₋)), K = e^{a}H₊ + e^{−a}H₋ and E_π the average under
π ∝ Dz H_r Dg K^y. The second variation of Φ = −Σ q̂_ab q_ab + G per replicon mode is
−x x̂ + ½(λ_A x² + 2λ_C x x̂ + λ_B x̂²); eliminating x̂ leaves ½ x² [λ_A − (1 − λ_C)²/λ_B], and for
y > 1 (positive multiplicity) the satellites' overlap must be a maximum:

  RS stable  ⇔  R = (1 − λ_C)² − λ_A λ_B > 0.

For λ_C = 0 this is the familiar λ_A λ_B < 1 (Gardner, AT). The mixed term is specific to fixed
points (spin and field of the same neuron are constrained together).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .annealed import _jt
from .cluster_integrals import SiteIntegrals
from .special import mills


@dataclass
class Replicon:
    """λ_A, λ_B, λ_C and R = (1 − λ_C)² − λ_A λ_B (RS stable iff R > 0) at one saddle."""

    lam_A: float
    lam_B: float
    lam_C: float

    @property
    def value(self) -> float:
        return (1 - self.lam_C) ** 2 - self.lam_A * self.lam_B

    @property
    def stable(self) -> bool:
        return bool(self.value > 0)


def site_derivatives(site: SiteIntegrals, p_hat):
    """Per node (z, g): m, ∂_w m and ∂²_w ln K (w = √q1 z), with the normalised weights W of π."""
    s1 = site.s1
    Rp, Rm = mills(site.xp), mills(site.xm)
    d1p, d1m = Rp / s1, -Rm / s1                                # ∂_w ln H±
    d2p = -Rp * (site.xp + Rp) / (s1 * s1)                       # ∂²_w ln H₊ (R' = −R(x + R))
    d2m = -Rm * (site.xm + Rm) / (s1 * s1)
    m, _, W, _ = site.state(p_hat)
    rp, rm = (1 + m) / 2, (1 - m) / 2
    l1 = rp * d1p[:, None] + rm * d1m[:, None]
    l2 = rp * (d2p + d1p ** 2)[:, None] + rm * (d2m + d1m ** 2)[:, None] - l1 ** 2
    dm = (1 - m * m) / 2 * (d1p - d1m)[:, None]
    return W, m, dm, l2


def replicon(d, y, p_hat, q1, q1_hat, J_D, kappa=0.0, *, step=0.5) -> Replicon:
    """The replicon of the core-model saddle (d, y, p̂, q1, q̂1) (module docstring)."""
    jt = float(_jt(J_D, kappa))
    site = SiteIntegrals(1 - 2 * d, jt, q1, q1_hat, y, p_hat, step=step)
    W, m, dm, l2 = site_derivatives(site, p_hat)
    return Replicon(float(np.sum(W * l2 * l2)), float(np.sum(W * (1 - m * m) ** 2)),
                    float(np.sum(W * dm * dm)))


def replicon_of(result, *, step=0.5) -> Replicon:
    """:func:`replicon` at a saddle result of :mod:`theory.large_deviation` or :mod:`theory.fold`."""
    return replicon(result.d, result.y, result.p_hat, result.q1, result.q1_hat, result.J_D,
                    result.kappa, step=step)
