"""Small-d asymptotics of Φ(d, y) (theory.small_d; docs/theory_small_d.md), each against an
independent computation: mpmath and Monte Carlo for the boundary cost, the numerical reduced free
entropy at fixed y, the closed-form pair count at y = 1, finite differences in y, and the numerical
densest-cluster branch of theory.fold where both exist."""

import mpmath as mp
import numpy as np
import pytest

from theory import annealed as A
from theory import fold as F
from theory import small_d as S
from theory.local_entropy import annealed_small_d
from theory.special import Phi

PHI0 = 1 / np.sqrt(2 * np.pi)


# --- B_y(t), the boundary cost --------------------------------------------------------------

@pytest.mark.parametrize("y,t", [(1.0, 0.0), (1.0, 0.3), (1.0, 1.0), (2.0, 1.0), (5.5, 1.0)])
def test_boundary_cost_limits(y, t):
    # B_1 ≡ φ(0) (y = 1 does not see q1) and B_y(1) = E[(−ξ)₊] = φ(0): to quad accuracy
    assert S.boundary_cost(y, t) == pytest.approx(PHI0, abs=1e-12)


@pytest.mark.parametrize("y,t", [(2.0, 0.0), (2.0, 0.5), (5.0, 0.2), (3.5, 0.9)])
def test_boundary_cost_against_mpmath(y, t):
    mp.mp.dps = 30
    a, b = mp.sqrt(t), mp.sqrt(1 - t)
    ncdf = lambda x: mp.ncdf(x)  # noqa: E731
    if t == 0:
        f = lambda x: 1 - ncdf(x) ** y  # noqa: E731
        ref = mp.quad(f, [0, 2, 6, 20])
    else:
        f = lambda x: ncdf(x / a) * (1 - ncdf(x / b) ** y)  # noqa: E731
        ref = mp.quad(f, [-20, -2, -a, 0, b, 2, 6, 20])
    assert S.boundary_cost(y, t) == pytest.approx(float(ref), rel=1e-10)


def test_boundary_cost_is_the_mean_excess_of_the_maximum():
    # B_y(t) = E[(√(1−t) M_y − √t ξ)₊], M_y the max of y standard normals: 4e5 samples, 5 s.e.
    rng = np.random.default_rng(7)
    y, t, n = 3, 0.4, 400_000
    M = rng.standard_normal((n, y)).max(axis=1)
    v = np.maximum(np.sqrt(1 - t) * M - np.sqrt(t) * rng.standard_normal(n), 0)
    assert abs(S.boundary_cost(y, t) - v.mean()) < 5 * v.std() / np.sqrt(n)


def test_boundary_cost_decreases_to_t_equal_one_with_a_square_root():
    # the fold argument: B_y decreasing in t, B_y(1 − u) − φ(0) ≈ √u E[M_y]/2 (E[M_3] = 3/(2√π))
    ts = np.linspace(0, 1, 21)
    B = np.array([S.boundary_cost(3.0, t) for t in ts])
    assert np.all(np.diff(B) < 0)
    u = 1e-8
    slope = (S.boundary_cost(3.0, 1 - u) - PHI0) / np.sqrt(u)
    assert slope == pytest.approx(0.5 * 3 / (2 * np.sqrt(np.pi)), rel=1e-3)


# --- fixed y ----------------------------------------------------------------------------------

def test_fixed_y_at_y_one_is_the_small_d_pair_count():
    # y = 1: −s (φ(J̃)/Φ(J̃)) φ(0) = −√(1−d) e^{−J̃²/2}√d/(πΦ(J̃)), SPEC §4.5's √d term
    d, jd = 1e-4, 0.2
    lead = S.phi_fixed_y(d, 1.0, 0.5, jd) - float(A.entropy_core(jd))
    sqrt_term = float(annealed_small_d(d, jd)) - d * np.log(1 / d)
    assert lead == pytest.approx(np.sqrt(1 - d) * sqrt_term, rel=1e-12)


def test_fixed_y_reduced_free_entropy_against_the_numerical_saddle():
    # Φ_red(t) at y = 3 solved numerically (q̂1, p̂ at fixed q1) vs the leading form: the
    # t-dependence [Φ_red(0.8) − Φ_red(0.2)]/s converges to −(φ/Φ)[B_3(0.8) − B_3(0.2)] with an
    # O(√d ln(1/d)) error (measured 0.055, 0.022, 0.0083 at d = 1e-4, 1e-5, 1e-6).
    jd, y = 0.5, 3.0
    errs = []
    for d in (1e-5, 1e-6):
        s = 2 * np.sqrt(d * (1 - d))
        num = (F.reduced(d, y, 0.8, jd)["phi"] - F.reduced(d, y, 0.2, jd)["phi"]) / s
        lead = (S.phi_fixed_y(d, y, 0.8, jd) - S.phi_fixed_y(d, y, 0.2, jd)) / s
        errs.append(abs(num - lead))
        assert num > 0  # Φ_red increases towards t = 1: no interior maximum as d → 0
    assert errs[1] < 0.015 and errs[1] < errs[0] / 2


# --- y ∝ 1/d: leading order and the independent-satellite approximant -----------------------

@pytest.mark.parametrize("jd", [0.06, 0.1, 0.3])
def test_leading_densest_cluster(jd):
    d = 1e-6
    L = S.leading(d, jd)
    assert L.frozen and abs(float(S.leading_external(L.lam_star, jd))) < 1e-12
    assert L.internal_entropy == pytest.approx(d * (np.log(L.nu_star / d) + 1), rel=1e-12)
    assert L.internal_entropy > 0  # the densest curves vanish at d = 0 from above
    f = 2 * Phi(jd) - 1
    assert f / Phi(jd) < L.nu_star < 1  # the tilt raises the free fraction above its prior


def test_leading_phi_internal_entropy_is_its_y_derivative():
    d, jd, y, h = 1e-5, 0.1, 2.0e4, 1.0
    up, dn = S.leading_phi(d, y + h, jd), S.leading_phi(d, y - h, jd)
    mid = S.leading_phi(d, y, jd)
    assert (up["phi"] - dn["phi"]) / (2 * h) == pytest.approx(mid["internal_entropy"], rel=1e-7)
    assert mid["external_entropy"] == pytest.approx(mid["phi"] - y * mid["internal_entropy"],
                                                    abs=1e-12)


def test_independent_at_y_one_is_the_pair_count():
    # y = 1: q1 drops out, so Φ_0(d, 1) = f(1 − 2d) (Owen-T Φ₂, SPEC §4.3)
    for d, jd in [(0.01, 0.1), (1e-4, 0.3)]:
        r = S.independent(d, 1.0, jd)
        assert r.converged
        assert r.phi == pytest.approx(float(A.pair_exponent_d(d, jd)), abs=1e-10)


def test_independent_internal_entropy_is_the_y_derivative():
    d, jd, y, h = 1e-3, 0.1, 20.0, 1e-3
    up, dn, mid = (S.independent(d, v, jd) for v in (y + h, y - h, y))
    assert (up.phi - dn.phi) / (2 * h) == pytest.approx(mid.internal_entropy, rel=1e-6)


def test_independent_quadrature_converged():
    a, b = S.independent_densest(1e-4, 0.06), S.independent_densest(1e-4, 0.06, step=0.125)
    assert a.internal_entropy == pytest.approx(b.internal_entropy, rel=1e-8)


def test_independent_approaches_the_leading_order():
    # relative error of the leading form ∝ √(d ln y)/J̃: decreasing, below 0.5 % at d = 1e-6
    jd = 0.1
    rel = [abs(S.leading(d, jd).internal_entropy / S.independent_densest(d, jd).internal_entropy
               - 1) for d in (1e-4, 1e-6)]
    assert rel[1] < 0.005 and rel[1] < rel[0] / 5


#: centred saddles of theory.fold.centred_curve at J_D = 0.1 (p̂, q̂1, y, t), used as warm starts
WARM = {1e-3: (1.1295872428253435, 0.030862203852526998, 35.35359300196826, 0.008317811009614335),
        5e-4: (1.9962313056953194, 0.005754363953035442, 116.1965547787357, 0.003318245634195817)}


def _warm(d):
    ph, qh, y, t = WARM[d]
    return F.TSaddle(d, y, 0.1, 0.0, "constrained", np.nan, np.nan, np.nan, p_hat=ph, q1=np.nan,
                     q1_hat=qh, converged=True, iterations=0, t=t)


def test_independent_satellites_join_the_numerical_branch():
    # S_I^max of the full RS saddle (theory.fold) vs Φ_0: the relative gap closes like d^{3/2}
    # (measured −3.7e-3 at d = 1e-3, −7.3e-4 at 5e-4), and t* → 0, 2y q̂1 → 0 as derived.
    gaps = []
    for d in (1e-3, 5e-4):
        c = F.centred(d, 0.1, init=_warm(d))
        a = S.independent_densest(d, 0.1)
        assert c.status == "crossing" and a.converged
        gaps.append(abs(a.internal_entropy / c.internal_entropy - 1))
        assert c.t_star < 0.01
    assert gaps[0] < 5e-3 and gaps[1] < 1e-3 and gaps[1] < gaps[0] / 3


# --- the two-module chain: independent satellites -------------------------------------------

def test_chain_independent_is_the_multinomial_free_entropy_at_integer_y():
    # Φ_0 of the chain in the K^y form against theory.chain_large_deviation.free_entropy (the
    # multinomial sum over column counts, an independent quadrature) at the same p̂, with
    # q̂1 = 0 and q1 = p² + 1e-9(1 − p²) (that solver needs q1 > p²; the shift moves Φ by ~1e-10)
    from theory import chain_large_deviation as CLD
    d, jd, lam = 0.01, 0.05, 0.3
    p = 1 - 2 * d
    for y in (2, 3):
        r = S.chain_independent(d, float(y), jd, lam)
        assert r.converged
        ref = CLD.free_entropy(d, y, jd, lam, r.p_hat, p * p + 1e-9 * (1 - p * p), 0.0)
        assert r.phi_column == pytest.approx(ref, abs=1e-9)


def test_chain_independent_at_y_one_is_the_chain_pair_count():
    # y = 1: q1 drops out, so Φ_0(d, 1) is the chain's pair count (SPEC §4.5), solved by
    # theory.chain_large_deviation at y = 1 (its own p̂ root): both roots to 1e-13
    from theory import chain_large_deviation as CLD
    d, jd, lam = 0.02, 0.05, 0.4
    assert S.chain_independent(d, 1.0, jd, lam).phi_column == pytest.approx(
        CLD.solve(d, 1, jd, lam).phi, abs=1e-11)


def test_chain_independent_at_zero_coupling_is_two_cores():
    # λ = 0: the column factorises into two cores (per column Φ_0 = 2 Φ_0^core, per neuron S_I and
    # Σ_ext are the core's), the two quadratures being different (2-D matrix products vs 1-D)
    d, jd, y = 0.01, 0.05, 5.0
    ch, co = S.chain_independent(d, y, jd, 0.0), S.independent(d, y, jd)
    assert ch.phi_column == pytest.approx(2 * co.phi, abs=1e-11)
    assert ch.internal_entropy == pytest.approx(co.internal_entropy, abs=1e-11)
    assert ch.external_entropy == pytest.approx(co.external_entropy, abs=1e-11)
    a, b = S.chain_independent_densest(d, jd, 0.0), S.independent_densest(d, jd)
    assert a.converged and b.converged
    assert a.y == pytest.approx(b.y, rel=1e-8)
    assert a.internal_entropy == pytest.approx(b.internal_entropy, rel=1e-8)


def test_chain_independent_internal_entropy_is_the_y_derivative():
    # S_I (per neuron) = ∂_yΦ_0/2 by the envelope theorem: central difference, h = 1e-3,
    # error h²Φ'''
    d, jd, lam, y, h = 0.005, 0.05, 0.3, 8.0, 1e-3
    up, dn, mid = (S.chain_independent(d, v, jd, lam) for v in (y + h, y - h, y))
    assert (up.phi_column - dn.phi_column) / (4 * h) == pytest.approx(mid.internal_entropy,
                                                                      rel=1e-6)


def test_chain_independent_densest_zeroes_the_external_entropy():
    r = S.chain_independent_densest(0.005, 0.05, 0.3)
    assert r.converged and abs(r.external_entropy) < 1e-10 and r.internal_entropy > 0


@pytest.mark.parametrize("floor, ok", [(1e-12, False), (1e-7, True)])
def test_a_stagnating_root_is_converged_only_within_the_rounding_floor(floor, ok):
    # f = 1e10 (h − 1) + 1e-8 has its root 1e-18 below h = 1, between two floats: Newton lands on
    # h = 1 and stalls with |f| = 1e-8. That is a convergence only if the caller's rounding floor
    # says f cannot be resolved below it (the old rule called every stall converged).
    h, conv, res = S._increasing_root(lambda h: (1e10 * (h - 1) + 1e-8, 1e10, floor), 0.5, 1e-14)
    assert h == 1.0 and conv is ok and res == pytest.approx(1e-8)


def test_the_approximant_converges_at_the_smallest_distance_of_fig4():
    # d = 1e-6 (figures.fig4.D_MIN), y* ≈ 1e5: the p̂ residual stalls at ~1e-11, inside the
    # rounding floor 64 ε y* of the weights e^{y ln K}
    r = S.independent_densest(1e-6, 0.05)
    assert r.converged and r.y > 1e4
    assert r.internal_entropy == pytest.approx(S.leading(1e-6, 0.05).internal_entropy, rel=0.05)
