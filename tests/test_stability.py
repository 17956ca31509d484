"""Replicon of the RS large-deviation saddle (theory.stability) against finite differences of the
replicated site function written out for y = 4 satellites (explicit sums over the 16 spin
configurations, covariance perturbations through extra shared Gaussian fields): an independent
computation of λ_A, λ_B, λ_C (the module uses the Hubbard–Stratonovich field g instead)."""

import itertools

import numpy as np
import pytest
from scipy import special as sp

from theory import fold as F
from theory import stability as ST
from theory.cluster_integrals import z_rule

D, JT, T, QH, PH, Y = 0.1, 0.3, 0.3, 0.2, 0.5, 4
P = 1 - 2 * D
Q1 = P * P + T * (1 - P * P)
SIGMAS = np.array(list(itertools.product([1.0, -1.0], repeat=Y)))
PAIRS = [(a, b) for a in range(Y) for b in range(a + 1, Y)]
GH_X, GH_W = np.polynomial.hermite_e.hermegauss(48)
GH_W = GH_W / np.sqrt(2 * np.pi)


def site(load, qhat=None):
    """ln Σ_z,extra Σ_σ e^{p̂Σσ + Σ q̂_ab σ_aσ_b} H_r Π_a H_{σ_a} and ⟨σ_aσ_b⟩, ⟨σ1σ2σ3σ4⟩, where
    satellite a's field is √q1 z + load[a]·A + noise (A: extra standard Gaussians)."""
    qhat = np.full((Y, Y), QH) if qhat is None else qhat
    z, wz = z_rule(P, JT, Q1, True)
    lHr = sp.log_ndtr((JT + P * z / np.sqrt(Q1)) / np.sqrt(1 - P * P / Q1))
    k = load.shape[1]
    grids = np.meshgrid(*([GH_X] * k), indexing="ij")
    A = np.stack([g.ravel() for g in grids], axis=1)                       # (nA, k)
    wA = np.prod(np.meshgrid(*([GH_W] * k), indexing="ij"), axis=0).ravel()
    field = np.sqrt(Q1) * z[:, None, None] + (A @ load.T)[None, :, :]      # (nz, nA, Y)
    sd = np.sqrt(1 - Q1 - (load ** 2).sum(axis=1))
    ent = PH * SIGMAS.sum(1) + sum(qhat[a, b] * SIGMAS[:, a] * SIGMAS[:, b] for a, b in PAIRS)
    lH = sp.log_ndtr((JT + SIGMAS[None, None, :, :] * field[:, :, None, :]) / sd)  # (nz,nA,16,Y)
    lw = (np.log(wz) + lHr)[:, None, None] + np.log(wA)[None, :, None] + ent + lH.sum(-1)
    G = sp.logsumexp(lw)
    W = np.exp(lw - G).sum(axis=(0, 1))
    corr = {(a, b): W @ (SIGMAS[:, a] * SIGMAS[:, b]) for a, b in PAIRS}
    return G, corr, W @ SIGMAS.prod(1)


def load_for(eps, pairs):
    """Loadings giving cov(u_a, u_b) = q1 + eps_k for the pair k (one extra Gaussian per pair)."""
    L = np.zeros((Y, len(pairs)))
    for k, ((a, b), e) in enumerate(zip(pairs, eps)):
        L[a, k] = np.sqrt(abs(e))
        L[b, k] = np.sign(e) * np.sqrt(abs(e))
    return L


def test_replicon_terms_against_finite_differences():
    mod = ST.replicon(D, Y, PH, Q1, QH, JT)
    # λ_B: connected spin correlations of the exact 16-configuration measure
    _, c, c4 = site(np.zeros((Y, 1)))
    lamB = (1 - c[0, 1] ** 2) - 2 * (c[1, 2] - c[0, 1] * c[0, 2]) + (c4 - c[0, 1] * c[2, 3])
    assert mod.lam_B == pytest.approx(lamB, rel=1e-8)
    # λ_C: d⟨σ_cσ_d⟩/dQ_12 for (c,d) = (1,2), (1,3), (3,4), central differences
    h = 1e-4
    up, dn = site(load_for([h], [(0, 1)]))[1], site(load_for([-h], [(0, 1)]))[1]
    T_ = {k: (up[k] - dn[k]) / (2 * h) for k in [(0, 1), (0, 2), (2, 3)]}
    assert mod.lam_C == pytest.approx(T_[0, 1] - 2 * T_[0, 2] + T_[2, 3], rel=1e-5)
    # λ_A: ∂²G/∂Q_12², ∂²G/∂Q_12∂Q_13, ∂²G/∂Q_12∂Q_34 by second differences
    def mixed(p1, p2):
        g = {(s1, s2): site(load_for([s1 * h, s2 * h], [p1, p2]))[0]
             for s1 in (1, -1) for s2 in (1, -1)}
        return (g[1, 1] - g[1, -1] - g[-1, 1] + g[-1, -1]) / (4 * h * h)
    g0 = site(np.zeros((Y, 1)))[0]
    Pp = (site(load_for([h], [(0, 1)]))[0] - 2 * g0 + site(load_for([-h], [(0, 1)]))[0]) / h ** 2
    lamA = Pp - 2 * mixed((0, 1), (0, 2)) + mixed((0, 1), (2, 3))
    assert mod.lam_A == pytest.approx(lamA, rel=1e-4)


def test_rs_is_replicon_stable_at_the_fold():
    # J_D = 0.06, d = 0.012: both branches meeting at the fold are replicon stable (R ≈ 0.58),
    # so the fold is not an RS artefact that 1RSB inside the cluster would remove.
    s = F.solve_at(0.012, 0.5683, 0.06, init=(0.226, 0.24, 5.10))
    assert s.converged
    R = ST.replicon_of(s)
    assert R.stable and R.value > 0.4
