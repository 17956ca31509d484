"""What the core and chain large-deviation solvers share (SPEC §6, §7).

:mod:`theory.large_deviation` (core model, continuous y) and :mod:`theory.chain_large_deviation`
(L-module chain, integer y) both return an :class:`LDResult`, iterate with :class:`AndersonMixer`,
check their arguments with :func:`check_args` and continue in d with :func:`carry` and
:func:`along_d`. Keeping these here lets the core module delegate chain solves to the chain module
without the two importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from toolkit.checks import finite_scalar

from .cluster_integrals import Saddle

__all__ = ["AndersonMixer", "LDResult", "along_d", "carry", "check_args"]


@dataclass
class LDResult(Saddle):
    """The saddle of Φ(d, y) with Φ, S_I = ∂Φ/∂y and Σ_ext = Φ − y S_I."""

    d: float
    y: float
    J_D: float
    kappa: float
    reference: str
    phi: float
    internal_entropy: float
    external_entropy: float


class AndersonMixer:
    """Damped fixed-point steps x + β f (f = G(x) − x) with Anderson mixing over the last
    ``memory`` steps: x + β f − (ΔX + β ΔF) γ, γ = argmin ‖ΔF γ − f‖ (``memory=0``: plain
    damping). The history is dropped when the residual grows tenfold. Shared by the core and the
    chain solvers (:mod:`theory.chain_large_deviation`)."""

    def __init__(self, memory: int, beta: float):
        self.memory, self.beta = memory, beta
        self.xs, self.fs, self.prev = [], [], np.inf

    def propose(self, x, f):
        norm = np.linalg.norm(f)
        if norm > 10 * self.prev:
            self.xs, self.fs = [], []
        self.prev = norm
        keep = self.memory + 1
        self.xs, self.fs = (self.xs + [x])[-keep:], (self.fs + [f])[-keep:]
        new = x + self.beta * f
        if self.memory and len(self.xs) > 1:
            dX = np.diff(np.array(self.xs), axis=0).T
            dF = np.diff(np.array(self.fs), axis=0).T
            gamma = np.linalg.lstsq(dF, f, rcond=None)[0]
            new = x + self.beta * f - (dX + self.beta * dF) @ gamma
        return new


def carry(result, d):
    """Warm start at distance d from a saddle at another distance: (p̂, q1, q̂1) with the relative
    position t = (q1 − p²)/(1 − p²) of q1 in its domain (p², 1) held fixed.

    Carrying q1 itself fails at small d: when d decreases, p² = (1 − 2d)² overtakes the old q1, the
    reset lands near q1 = 1, and the iteration falls into the spurious q1 → 1 basin.
    """
    p_old, p = 1 - 2 * result.d, 1 - 2 * d
    t = (result.q1 - p_old * p_old) / (1 - p_old * p_old)
    t = min(max(t, 1e-6), 1 - 1e-6)
    return result.p_hat, p * p + t * (1 - p * p), result.q1_hat


def check_args(d, y, reference):
    """(d, y) as floats after checking d in (0, 1/2), y >= 0 and the reference; ValueError else."""
    d, y = finite_scalar("d", d), finite_scalar("y", y)
    if not 0 < d < 0.5:
        raise ValueError(f"d must be in (0, 0.5), got {d!r}")
    if y < 0:
        raise ValueError(f"y must be >= 0, got {y!r}")
    if reference not in ("constrained", "free"):
        raise ValueError(f"reference must be 'constrained' or 'free', got {reference!r}")
    return d, y


def along_d(d_grid, solve_at):
    """Continuation in d from large to small: ``solve_at(d, init) -> (result, next_init)`` is called
    in decreasing d with the previous ``next_init`` (None to cold-start); results in input order."""
    d_grid = np.asarray(d_grid, float)
    out = [None] * d_grid.size
    init = None
    for i in np.argsort(-d_grid):
        out[i], init = solve_at(float(d_grid[i]), init)
    return out
