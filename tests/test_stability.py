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


# ----------------------------------------------------------------------------------------------
# The two-module chain (theory.stability.chain_replicon)
# ----------------------------------------------------------------------------------------------

def test_chain_replicon_at_zero_coupling_is_two_cores():
    # λ = 0: the column weight factorises over the layers, so A, B, C are diagonal and each layer's
    # entries are the core's λ_A, λ_B, λ_C at that layer's (p̂, q1, q̂1). The core integrates the
    # continuous-y Hubbard–Stratonovich form on its own (z, g) rule, the chain sums the y = 4
    # satellites exactly: the two agree to the quadrature error of the core's g rule (1e-9 here;
    # 1e-7 allowed).
    q1 = np.array([Q1, P * P + 0.45 * (1 - P * P)])
    ph, qh = np.array([PH, 0.3]), np.array([QH, 0.35])
    ch = ST.chain_replicon(D, Y, JT, 0.0, ph, q1, qh)
    for l in range(2):
        core = ST.replicon(D, Y, ph[l], q1[l], qh[l], JT)
        assert ch.A[l, l] == pytest.approx(core.lam_A, rel=1e-7)
        assert ch.B[l, l] == pytest.approx(core.lam_B, rel=1e-7)
        assert ch.C[l, l] == pytest.approx(core.lam_C, rel=1e-7)
        assert np.min(np.abs(ch.eigenvalues - core.value)) < 1e-7
    off = [ch.A[0, 1], ch.A[1, 0], ch.B[0, 1], ch.B[1, 0], ch.C[0, 1], ch.C[1, 0]]
    assert np.max(np.abs(off)) < 1e-12


LAM = 0.4
CQ1 = np.array([Q1, P * P + 0.45 * (1 - P * P)])
CPH, CQH = np.array([PH, 0.3]), np.array([QH, 0.35])
COLS = np.array([[1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]])   # the 4 column types
CONF = np.array(list(itertools.product(range(4), repeat=Y)))            # (256, Y) type indices
SPIN = COLS[CONF]                                                        # (256, Y, 2)
Z_X, Z_W = np.polynomial.hermite_e.hermegauss(128)  # 64 nodes: B off by 7e-6 (rel)
Z_W = Z_W / np.sqrt(2 * np.pi)


def chain_margin(cols):
    """a_ℓ(σ) = J̃ + λ σ_1σ_2 for both layers of the L = 2 chain (λ_L = λ_R)."""
    return JT + LAM * cols[..., 0] * cols[..., 1]


def chain_layer(l, load, nA=40):
    """ln I_ℓ(σ̃, configuration) for the 4 reference columns σ̃ × 256 satellite configurations:
    ∫Dz DA r_ℓ(σ̃, z) Π_a Φ((a_ℓ(σ^a) + σ^a_ℓ u_a)/s_a), u_a = √q1 z + load[a]·A (A: extra shared
    standard Gaussians, s_a² = 1 − q1 − |load[a]|²), reference field (p/√q1) z + noise."""
    q = CQ1[l]
    k = load.shape[1]
    gx, gw = np.polynomial.hermite_e.hermegauss(nA)
    gw = gw / np.sqrt(2 * np.pi)
    A = np.stack([g.ravel() for g in np.meshgrid(*([gx] * k), indexing="ij")], axis=1)
    lwA = np.log(np.prod(np.meshgrid(*([gw] * k), indexing="ij"), axis=0).ravel())
    field = np.sqrt(q) * Z_X[:, None, None] + (A @ load.T)[None]          # (nz, nA, Y)
    sd = np.sqrt(1 - q - (load ** 2).sum(axis=1))
    a_t = chain_margin(COLS)                                                 # (4,)
    lh = sp.log_ndtr((a_t[None, None, None, :] + COLS[:, l][None, None, None, :]
                      * field[..., None]) / sd[None, None, :, None])        # (nz, nA, Y, 4)
    J = np.empty((CONF.shape[0], Z_X.size))
    for c, conf in enumerate(CONF):
        s = lwA[None, :] + sum(lh[:, :, a, conf[a]] for a in range(Y))
        J[c] = sp.logsumexp(s, axis=1)
    lr = sp.log_ndtr((chain_margin(COLS)[:, None] + COLS[:, l, None] * P * Z_X / np.sqrt(q))
                     / np.sqrt(1 - P * P / q))                               # (4 refs, nz)
    return sp.logsumexp((np.log(Z_W) + lr)[:, None, :] + J[None, :, :], axis=2)  # (4, 256)


def chain_site(lI1, lI2, qhat=None):
    """ln Σ_σ̃ Σ_configs e^{Σ_ℓ[p̂_ℓσ̃_ℓΣ_aσ^a_ℓ + Σ_{a<b} Q̂^ℓ_ab σ^a_ℓσ^b_ℓ]} I_1 I_2 and the
    normalised weights over (σ̃, configuration)."""
    ent = np.zeros((4, CONF.shape[0]))
    for l in range(2):
        Qh = np.full((Y, Y), CQH[l]) if qhat is None else qhat[l]
        ent += CPH[l] * COLS[:, l, None] * SPIN[None, :, :, l].sum(-1)
        ent += sum(Qh[a, b] * SPIN[:, a, l] * SPIN[:, b, l] for a, b in PAIRS)[None, :]
    lw = ent + lI1 + lI2
    G = sp.logsumexp(lw)
    return G, np.exp(lw - G)


def spin_pair(W, l, a, b):
    return np.sum(W * (SPIN[:, a, l] * SPIN[:, b, l])[None, :])


def replicon_combo(f):
    """P − 2Q + R of a function of the second pair: f((0,1)) − 2 f((0,2)) + f((2,3))."""
    return f((0, 1)) - 2 * f((0, 2)) + f((2, 3))


def test_chain_replicon_against_finite_differences():
    # λ = 0.4 with different order parameters in the two layers: every block entry of
    # chain_replicon against the explicitly replicated y = 4 chain site (4 reference columns ×
    # 4^4 satellite configurations written out; Q^ℓ_ab perturbed through extra shared Gaussian
    # fields of layer ℓ, Q̂^ℓ_ab as couplings). The cross-layer entries (A_12 ≈ 0.011,
    # B_12 ≈ 0.0019, C_12 ≈ 0.0018, C_21 ≈ 0.0042) are ≥ 1e3 times the tolerances.
    mod = ST.chain_replicon(D, Y, JT, LAM, CPH, CQ1, CQH)
    base = [chain_layer(l, np.zeros((Y, 1))) for l in range(2)]
    _, W0 = chain_site(*base)
    h = 1e-4

    def perturbed(l, eps, pairs):
        lI = list(base)
        lI[l] = chain_layer(l, load_for(eps, pairs), nA=40 if len(pairs) == 1 else 24)
        return lI

    # B: spin covariances of the exact configuration measure
    for l in range(2):
        for m in range(2):
            def cov(pair, l=l, m=m):
                x = (SPIN[:, 0, l] * SPIN[:, 1, l])[None, :]
                yv = (SPIN[:, pair[0], m] * SPIN[:, pair[1], m])[None, :]
                return np.sum(W0 * x * yv) - np.sum(W0 * x) * np.sum(W0 * yv)
            assert mod.B[l, m] == pytest.approx(replicon_combo(cov), rel=1e-7, abs=1e-12)
    # C_ℓm: ∂/∂Q^ℓ_12 of ⟨σ^c_mσ^d_m⟩, central differences
    for l in range(2):
        up = chain_site(*perturbed(l, [h], [(0, 1)]))[1]
        dn = chain_site(*perturbed(l, [-h], [(0, 1)]))[1]
        for m in range(2):
            def dcorr(pr, up=up, dn=dn, m=m):
                return (spin_pair(up, m, *pr) - spin_pair(dn, m, *pr)) / (2 * h)
            est = replicon_combo(dcorr)
            assert mod.C[l, m] == pytest.approx(est, rel=1e-5, abs=1e-8)
    # A_12: ∂²G/∂Q^1_12 ∂Q^2_cd (the layers' perturbations are independent fields)
    l1 = {s: perturbed(0, [s * h], [(0, 1)])[0] for s in (1, -1)}

    def cross(pair):
        l2 = {s: perturbed(1, [s * h], [pair])[1] for s in (1, -1)}
        g = {(s, t): chain_site(l1[s], l2[t])[0] for s in (1, -1) for t in (1, -1)}
        return (g[1, 1] - g[1, -1] - g[-1, 1] + g[-1, -1]) / (4 * h * h)
    est = replicon_combo(cross)
    assert mod.A[0, 1] == pytest.approx(est, rel=1e-5, abs=1e-8)
    assert mod.A[1, 0] == mod.A[0, 1]
    # A_ℓℓ: as for the core (second differences within one layer)
    G0 = chain_site(*base)[0]
    for l in range(2):
        def same(pair, l=l):
            if pair == (0, 1):
                gp = chain_site(*perturbed(l, [h], [(0, 1)]))[0]
                gm = chain_site(*perturbed(l, [-h], [(0, 1)]))[0]
                return (gp - 2 * G0 + gm) / (h * h)
            g = {(s, t): chain_site(*perturbed(l, [s * h, t * h], [(0, 1), pair]))[0]
                 for s in (1, -1) for t in (1, -1)}
            return (g[1, 1] - g[1, -1] - g[-1, 1] + g[-1, -1]) / (4 * h * h)
        assert mod.A[l, l] == pytest.approx(replicon_combo(same), rel=1e-6)


def test_chain_replicon_at_a_chain_saddle():
    # At a converged saddle of the chain solver the same measure reproduces the stationarity
    # conditions p = E[σ̃_ℓ M_ℓ]/y and q1_ℓ = E[σ^1_ℓσ^2_ℓ] (to the solver's 1e-9), and the saddle
    # is replicon stable. y < 4 (no four distinct satellites) is refused.
    from theory import chain_large_deviation as CLD
    r = CLD.solve(0.05, 5, 0.05, 0.3, 2, internal=False)
    assert r.converged
    R = ST.chain_replicon_of(r)
    assert np.allclose(R.p_check, 1 - 2 * 0.05, atol=1e-9)
    assert np.allclose(R.q1_check, r.q1, atol=1e-8)
    assert R.stable and R.margin > 0.3
    with pytest.raises(ValueError):
        ST.chain_replicon(0.05, 3, 0.05, 0.3, r.p_hat, r.q1, r.q1_hat)
