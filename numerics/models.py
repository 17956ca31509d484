"""Coupling ensembles and the fixed-point test (SPEC 2, 3.1-3.3).

Conventions (SPEC 2): spins s_i in {-1, +1}; the field on neuron i is

    h_i = sum_{j != i} J_ij s_j + J_D s_i,

so *row* i of ``J`` feeds neuron i. The diagonal of a coupling matrix returned here is zero; the self
coupling J_D is always passed separately, and :func:`fields` ignores whatever sits on the diagonal of
``J``. A configuration is a fixed point with margin kappa when s_i h_i > kappa for every i (strict).

Every random function takes ``rng`` (anything :func:`toolkit.rng.make_rng` accepts: a
``np.random.Generator``, a ``SeedSequence`` or a non-negative int).
"""

from __future__ import annotations

import math

import numpy as np

from toolkit.checks import finite_scalar, integer
from toolkit.rng import make_rng

__all__ = ["sample_core", "sample_chain", "fields", "margins", "is_fixed_point"]

_DISTS = ("gaussian", "pm1")


def _check_N(N, name: str = "N", minimum: int = 2) -> int:
    return integer(name, N, minimum)


def _check_eta(eta) -> float:
    eta = finite_scalar("eta", eta)
    if not -1.0 <= eta <= 1.0:
        raise ValueError(f"eta must lie in [-1, 1], got {eta!r}")
    return eta


def sample_core(N: int, rng, *, eta: float = 0.0, dist: str = "gaussian") -> np.ndarray:
    """One coupling matrix of the core model (SPEC 3.1) or its partially symmetric version (SPEC 3.2).

    ``dist="gaussian"``: J_ij ~ N(0, 1/N) for i != j. With ``eta`` != 0 draw G_ij ~ N(0, 1/N) i.i.d.
    and set J = a G + b G^T with a, b = (sqrt(1+eta) +- sqrt(1-eta)) / 2, so that a^2 + b^2 = 1
    (Var J_ij = 1/N) and 2ab = eta (corr(J_ij, J_ji) = eta); eta = 1 is symmetric (SK-like).
    ``dist="pm1"``: J_ij = +-1/sqrt(N) with probability 1/2 each, i.i.d. (``eta`` must be 0).

    The diagonal is zero (the self coupling J_D is passed separately to the field functions).
    Returns a float64 array of shape (N, N); row i feeds neuron i.
    """
    N = _check_N(N)
    eta = _check_eta(eta)
    if dist not in _DISTS:
        raise ValueError(f"unknown dist {dist!r}; expected one of {', '.join(_DISTS)}")
    rng = make_rng(rng)
    if dist == "pm1":
        if eta != 0.0:
            raise ValueError("dist='pm1' supports only eta=0")
        J = (2.0 * rng.integers(0, 2, size=(N, N)) - 1.0) / math.sqrt(N)
    else:
        G = rng.standard_normal((N, N)) / math.sqrt(N)
        if eta == 0.0:
            J = G
        else:
            a = (math.sqrt(1.0 + eta) + math.sqrt(1.0 - eta)) / 2.0
            b = (math.sqrt(1.0 + eta) - math.sqrt(1.0 - eta)) / 2.0
            J = a * G + b * G.T
    np.fill_diagonal(J, 0.0)
    return np.ascontiguousarray(J, dtype=np.float64)


def sample_chain(N: int, L: int, rng, *, lam_left: float, lam_right: float | None = None,
                 eta: float = 0.0, dist: str = "gaussian") -> np.ndarray:
    """The (L*N, L*N) coupling matrix of an L-module chain (SPEC 3.3).

    Module l (0-based) occupies indices l*N .. (l+1)*N - 1. Diagonal blocks are independent
    :func:`sample_core` draws (with ``eta``/``dist``); block (l, l-1) = lam_left * I and block
    (l, l+1) = lam_right * I (``lam_right`` defaults to ``lam_left``), so that with h = J s

        h^l_i = sum_{j != i} J^l_ij s^l_j + lam_left s^{l-1}_i [l > 0] + lam_right s^{l+1}_i [l < L-1]

    plus the self term J_D s^l_i added by :func:`fields`. The diagonal is zero.
    """
    N = _check_N(N)
    L = _check_N(L, "L", 1)
    lam_left = finite_scalar("lam_left", lam_left)
    lam_right = lam_left if lam_right is None else finite_scalar("lam_right", lam_right)
    rng = make_rng(rng)
    J = np.zeros((L * N, L * N))
    idx = np.arange(N)
    for l in range(L):
        s = slice(l * N, (l + 1) * N)
        J[s, s] = sample_core(N, rng, eta=eta, dist=dist)
        if l > 0:
            J[l * N + idx, (l - 1) * N + idx] = lam_left
        if l < L - 1:
            J[l * N + idx, (l + 1) * N + idx] = lam_right
    return J


def check_couplings(J) -> np.ndarray:
    """J as a float64 square matrix with finite entries (no copy when it is one already)."""
    try:
        J = np.asarray(J, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("J must be a real square matrix") from None
    if J.ndim != 2 or J.shape[0] != J.shape[1]:
        raise ValueError(f"J must be a square matrix, got shape {J.shape}")
    if J.shape[0] < 1:
        raise ValueError("J must have at least one row")
    if not np.all(np.isfinite(J)):
        raise ValueError("J has non-finite entries")
    return J


def offdiag_couplings(J, min_n: int = 1) -> np.ndarray:
    """A validated float64, C-contiguous copy of the square coupling matrix J with a zero diagonal
    (the self coupling J_D is passed separately, SPEC 2); at least ``min_n`` neurons."""
    J = check_couplings(J)
    if J.shape[0] < min_n:
        raise ValueError(f"J must have at least {min_n} neurons, got N = {J.shape[0]}")
    J = np.array(J, dtype=np.float64, order="C", copy=True)
    np.fill_diagonal(J, 0.0)
    return J


def _check_spins(s, N: int) -> np.ndarray:
    s = np.asarray(s)
    if s.ndim not in (1, 2) or s.shape[-1] != N:
        raise ValueError(f"s must have shape ({N},) or (R, {N}), got {s.shape}")
    return s.astype(np.float64, copy=False)


def fields(J, J_D: float, s) -> np.ndarray:
    """Local fields h_i = sum_{j != i} J_ij s_j + J_D s_i (SPEC 2, 3.1).

    ``s`` has shape (N,) or (R, N) (one replica per row); the result has the same shape (float64).
    The diagonal of ``J`` is ignored: the self coupling is ``J_D``.
    """
    J = check_couplings(J)
    J_D = finite_scalar("J_D", J_D)
    return raw_fields(J, J_D, _check_spins(s, J.shape[0]))


def raw_fields(J: np.ndarray, J_D: float, s: np.ndarray) -> np.ndarray:
    """:func:`fields` for checked float64 arguments, without a copy of J: s J^T + (J_D - diag J) s."""
    h = s @ J.T
    h += (J_D - np.diagonal(J)) * s
    return h


def margins(J, J_D: float, s) -> np.ndarray:
    """Stabilities s_i h_i (SPEC 3.1), same shape as ``s``."""
    J = check_couplings(J)
    J_D = finite_scalar("J_D", J_D)
    s_f = _check_spins(s, J.shape[0])
    return s_f * raw_fields(J, J_D, s_f)


def is_fixed_point(J, J_D: float, s, kappa: float = 0.0):
    """True where s_i h_i > kappa for all i (strict; SPEC 3.1).

    A bool for ``s`` of shape (N,), a bool array of shape (R,) for ``s`` of shape (R, N).
    """
    kappa = finite_scalar("kappa", kappa)
    out = np.all(margins(J, J_D, s) > kappa, axis=-1)
    return bool(out) if np.ndim(out) == 0 else out
