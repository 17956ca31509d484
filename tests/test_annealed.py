"""Annealed theory (SPEC §4) against tables, mpmath, sympy, brute-force sums and exact limits."""

import itertools

import mpmath as mp
import numpy as np
import pytest
import sympy

from tests import mpref

from theory import annealed as A

# SPEC §4.1 reference table (κ = 0), quoted to 6 decimals: tolerance 1e-6 (V1).
SA_TABLE = {0.05: 0.039103, 0.07: 0.054305, 0.1: 0.076642, 0.125: 0.094834, 0.2: 0.147143,
            0.25: 0.180163, 0.3: 0.211737, 0.5: 0.324201, 0.6: 0.372593, 0.75: 0.436153,
            0.95: 0.505544, 1.0: 0.520393, 1.5: 0.624004, 2.0: 0.670134}


def test_entropy_core_table():
    jd = np.array(list(SA_TABLE))
    assert np.allclose(A.entropy_core(jd), list(SA_TABLE.values()), atol=1e-6, rtol=0)
    assert A.entropy_core(0.0) == 0.0


@pytest.mark.parametrize("jt", [-40.0, -7.5, -1e-3, 0.3, 5.0, 40.0])
def test_entropy_core_mpmath(jt):
    ref = mp.log(2) + mpref.log_Phi(jt)
    # relative 1e-13 on S itself (log_ndtr accuracy), absolute 1e-15 near S = ln 2.
    assert A.entropy_core(jt) == pytest.approx(float(ref), rel=1e-13, abs=1e-15)


def test_entropy_core_kappa_and_slope():
    assert A.entropy_core(0.75, kappa=0.25) == A.entropy_core(0.5)  # exact: 0.75 − 0.25 = 0.5
    # dS_a/dJ̃ at 0 = √(2/π) (sympy derivative of ln 2Φ).
    x = sympy.symbols("x")
    S = sympy.log(1 + sympy.erf(x / sympy.sqrt(2)))
    slope = float(sympy.diff(S, x).subs(x, 0))
    h = 1e-6
    assert (A.entropy_core(h) - A.entropy_core(-h)) / (2 * h) == pytest.approx(slope, rel=1e-9)
    assert slope == pytest.approx(np.sqrt(2 / np.pi), rel=1e-15)


def test_mean_count_exact_values():
    # E𝒩 = 2^N Φ(J̃/σ_N)^N; at J̃ = 0 it is exactly 1 for every N (Hwang et al.).
    for N in (2, 5, 30, 1000):
        assert A.mean_count(N, 0.0) == pytest.approx(1.0, rel=1e-14)
    N, jd = 12, 0.4
    ref = 2**N * mp.ncdf(mp.mpf(jd) / mp.sqrt(mp.mpf(N - 1) / N)) ** N
    assert A.mean_count(N, jd) == pytest.approx(float(ref), rel=1e-13)
    # the chain with λ = 0 is L independent cores
    assert A.log_mean_count(10, 0.3, L=3, lam_left=0.0) == pytest.approx(3 * A.log_mean_count(10, 0.3))


def test_symmetric_tanaka_edwards_and_eta0():
    # V4: η = 1, J_D = 0 gives 0.199228 (Tanaka–Edwards 0.1992), t* ≈ 0.506.
    assert A.entropy_symmetric(0.0, 1.0) == pytest.approx(0.199228, abs=1e-6)
    assert A.symmetric_saddle(0.0, 1.0) == pytest.approx(0.506, abs=1e-3)
    jd = np.linspace(-1, 2, 7)
    assert np.allclose(A.entropy_symmetric(jd, 0.0), A.entropy_core(jd), rtol=0, atol=1e-15)


@pytest.mark.parametrize("jd,eta", [(0.0, 0.3), (0.5, 0.7), (-0.4, 1.0), (1.2, 0.05)])
def test_symmetric_against_mpmath_maximisation(jd, eta):
    se = mp.sqrt(eta)
    obj = lambda t: mp.log(2 * mp.ncdf(jd + se * t)) - t * t / 2  # noqa: E731
    tstar = mp.findroot(lambda t: mp.diff(obj, t), 0.3)
    assert A.entropy_symmetric(jd, eta) == pytest.approx(float(obj(tstar)), abs=1e-13)


def test_pair_exponent_endpoints_and_maximum():
    for jd in (0.05, 0.3, 1.0):
        sa = A.entropy_core(jd)
        assert A.pair_exponent(0.0, jd) == pytest.approx(2 * sa, abs=1e-14)
        assert A.pair_exponent(1.0, jd) == pytest.approx(sa, abs=1e-14)
        assert A.pair_exponent(-1.0, jd) == pytest.approx(sa, abs=1e-14)
        # V3: for J̃ > 0, max_q f(q) is at q = 0 (quenched = annealed).
        q = np.linspace(-0.999, 0.999, 401)
        assert np.all(A.pair_exponent(q, jd) <= 2 * sa + 1e-14)


def test_mean_pair_count_identities():
    N = 14
    k = np.arange(N + 1)
    lp = A.log_mean_pair_count(N, k, 0.25)
    # Pairs (s, s') and (s, −s') map distance k to N − k: an exact symmetry of the formula.
    assert np.allclose(lp, lp[::-1], rtol=0, atol=1e-12)
    assert lp[0] == pytest.approx(A.log_mean_count(N, 0.25), abs=1e-13)
    # (1/N) ln E𝒩₂(dN) → f(1 − 2d) with an O(ln N / N) correction (Stirling): at N = 1e5 within 1e-4.
    N = 100_000
    for d in (0.1, 0.3, 0.5):
        kk = int(d * N)
        assert A.log_mean_pair_count(N, kk, 0.25) / N == pytest.approx(
            A.pair_exponent(1 - 2 * d, 0.25), abs=1e-4)


def _Zcol_brute(jt, ll, lr, L):
    z = 0.0
    for sig in itertools.product((1, -1), repeat=L):
        p = 1.0
        for l in range(L):
            arg = jt
            if l > 0:
                arg += ll * sig[l] * sig[l - 1]
            if l < L - 1:
                arg += lr * sig[l] * sig[l + 1]
            p *= float(mp.ncdf(arg))
        z += p
    return np.log(z)


@pytest.mark.parametrize("L", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("jd,ll,lr", [(0.0, 0.5, 0.5), (0.2, 1.0, 0.3), (-0.3, 0.7, 1.4)])
def test_chain_transfer_matrix_against_brute_force(L, jd, ll, lr):
    # V5: brute-force sum over the 2^L column states = transfer-matrix form, to 1e-13.
    got = A.entropy_chain(jd, ll, lr, L=L)
    assert got == pytest.approx(_Zcol_brute(jd, ll, lr, L), abs=1e-13)


def test_chain_table_and_limits():
    # V5: the SPEC §4.4 values to 5 decimals.
    table = {(0, 0.5): 0.13683, (0, 1.0): 0.38258, (0.125, 0): 0.18967, (0.125, 1.5): 0.59410,
             (0.25, 1.0): 0.53207}
    for (jd, lam), v in table.items():
        assert A.entropy_chain(jd, lam, L=2) == pytest.approx(v, abs=5e-6)
    jd, lam = 0.3, 0.8
    closed = np.log(2) + np.log(float(mp.ncdf(jd + lam)) ** 2 + float(mp.ncdf(jd - lam)) ** 2)
    assert A.entropy_chain(jd, lam, L=2) == pytest.approx(closed, abs=1e-14)
    assert A.entropy_chain(0.3, 0.0, L=4) == pytest.approx(4 * A.entropy_core(0.3), abs=1e-13)
    assert A.entropy_chain(40.0, 0.7, L=3) == pytest.approx(3 * np.log(2), abs=1e-12)
    assert A.entropy_chain(0.3, 60.0, L=3) == pytest.approx(np.log(2), abs=1e-12)
    # per neuron → ln μ_max(T) as L → ∞, with an O(1/L) correction
    big = A.entropy_chain(0.2, 0.9, 0.4, L=100_000, per="neuron")
    assert big == pytest.approx(A.entropy_chain(0.2, 0.9, 0.4, L=np.inf, per="neuron"), abs=1e-4)
    # J̃ = 0 with λ > 0 gives S > 0 (excitatory coupling replaces the self-coupling)
    assert np.all(A.entropy_chain(0.0, np.array([0.1, 1.0, 3.0]), L=2) > 0)


def test_chain_vectorised_and_underflow():
    jd = np.linspace(-30, 3, 12)[:, None]
    lam = np.array([0.0, 0.5, 2.0])[None, :]
    S = A.entropy_chain(jd, lam, L=7)
    assert S.shape == (12, 3) and np.all(np.isfinite(S))
    assert S[0, 0] == pytest.approx(7 * A.entropy_core(-30.0), rel=1e-12)


@pytest.mark.parametrize("bad", [dict(J_D=np.nan), dict(J_D=np.inf), dict(kappa=np.nan)])
def test_bad_input(bad):
    kw = dict(J_D=0.1, kappa=0.0) | bad
    with pytest.raises(ValueError):
        A.entropy_core(**kw)
    with pytest.raises(ValueError):
        A.mean_count(0, 0.1)
    with pytest.raises(ValueError):
        A.entropy_chain(0.1, 0.5, L=0)
    with pytest.raises(ValueError):
        A.entropy_symmetric(0.1, 1.5)
