"""Annealed local entropy around a typical fixed point (SPEC §4.5).

S_loc^ann(d) is the log-number (per spin) of fixed points at distance d from a fixed point, at the
annealed level (exact in the planted ensemble): the pair exponent at overlap q = 1 − 2d minus S_a.
"""

from __future__ import annotations

import numpy as np

from .annealed import _jt, entropy_core, pair_exponent, pair_exponent_d
from .special import check_finite, log_Phi

#: f(q), the pair exponent of SPEC §4.3, under the name the local-entropy API uses.
pair_entropy = pair_exponent


def _check_d(d):
    d = check_finite("d", d)
    if np.any((d < 0) | (d > 1)):
        raise ValueError("d must be in [0, 1]")
    return d


def annealed(d, J_D, kappa=0.0):
    """S_loc^ann(d) = f(1−2d) − S_a (SPEC §4.5).

    = H_b(d) + (1−d) ln Φ₂(J̃,J̃;1−2d) + d ln Φ₂(J̃,J̃;−(1−2d)) − ln Φ(J̃).
    S_loc(0) = 0, S_loc(½) = S_a, and S_loc < 0 at small d for every finite J̃ (isolated FPs).
    """
    return pair_exponent_d(d, J_D, kappa) - entropy_core(J_D, kappa)


def annealed_small_d(d, J_D, kappa=0.0):
    """Small-d asymptote of S_loc^ann (SPEC §4.5), error O(d):

    J̃ > 0: −[e^{−J̃²/2}/(π Φ(J̃))] √d + d ln(1/d);   J̃ = 0: −(2/π) √d + ½ d ln(1/d).

    From Φ(a) − Φ₂(a,a;1−2d) = e^{−a²/2}√d/π + O(d^{3/2}) and Φ₂(a,a;−1) = max(2Φ(a) − 1, 0).
    For J̃ < 0 the limit d → 0⁺ is −J̃²/2 ≠ 0 (the d ln Φ₂(·;−1+2d) term stays finite), so no
    √d expansion exists and ValueError is raised.
    """
    d = _check_d(d)
    jt = _jt(J_D, kappa)
    if np.any(jt < 0):
        raise ValueError("the small-d asymptote is derived for J_D - kappa >= 0")
    d, jt = np.broadcast_arrays(d, jt)
    with np.errstate(divide="ignore", invalid="ignore"):
        dlog = np.where(d > 0, -d * np.log(d), 0.0)
    coeff = np.exp(-0.5 * jt * jt - log_Phi(jt)) / np.pi
    return -coeff * np.sqrt(d) + np.where(jt > 0, dlog, 0.5 * dlog)
