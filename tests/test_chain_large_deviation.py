"""Large deviations of the L-module chain at integer y (SPEC §6.7): identities and limits.

- L = 1, λ = 0 is the single-layer free entropy term by term (same z rule: agreement to rounding)
  and the same saddle as the continuous-y solver of :mod:`theory.large_deviation`;
- λ = 0 factorises: Φ_chain = L·Φ_single;
- y = 0 gives S_a per column (SPEC §4.4 table), y = 1 the chain pair count of SPEC §4.5 computed
  here independently from ``log_Phi2`` over the 16 column pairs; the free reference at y = 1 gives
  ln Z_col + L·H_b(d);
- the saddle is stationary in all 3L order parameters, layer-symmetric for λ_L = λ_R, and quadrature
  converged; S_I and S_I^max agree with the continuous-y L = 1 solvers within the stated
  interpolation errors.
"""

import itertools

import numpy as np
import pytest
from scipy import optimize
from scipy import special as sp

from theory import annealed as A
from theory import chain_large_deviation as C
from theory import large_deviation as LD
from theory import transition as T
from theory.special import binary_entropy, log_Phi2

D, JD = 0.1, 0.3


# ---------------------------------------------------------------------------------------------
# L = 1 and λ = 0
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("y", [2, 3])
def test_single_layer_saddle_matches_large_deviation(y):
    # Both solvers stop at |g(x) − x| < 1e-9; Φ is stationary, so it agrees to ~1e-12, the order
    # parameters to ~1e-8 (the residual divided by the contraction gap).
    ref = LD.solve(D, float(y), JD)
    r = C.solve(D, y, JD, 0.0, L=1, internal=False)
    assert r.converged and ref.converged
    assert r.phi == pytest.approx(ref.phi, abs=1e-10)
    for name in ("p_hat", "q1", "q1_hat"):
        assert getattr(r, name)[0] == pytest.approx(getattr(ref, name), abs=1e-7)


@pytest.mark.parametrize("y", [2, 5])
def test_single_layer_free_entropy_is_the_binomial_form(y):
    # Same z rule, same integrand: the multinomial over 2 column types is the binomial of §6.3,
    # summed in a different order (1e-13), at and away from a saddle.
    for ph, q1, qh in [(0.55, 0.69, 0.1), (0.3, 0.9, 0.4)]:
        assert C.free_entropy(D, y, JD, 0.0, ph, q1, qh, L=1) == pytest.approx(
            LD.free_entropy(D, y, ph, q1, qh, JD, method="binomial"), abs=1e-13)
        assert C.free_entropy(D, y, JD, 0.0, ph, q1, qh, L=1, reference="free") == pytest.approx(
            LD.free_entropy(D, y, ph, q1, qh, JD, reference="free", method="binomial"), abs=1e-13)


@pytest.mark.parametrize("L", [2, 3])
def test_uncoupled_layers_factorise(L):
    # λ = 0: independent layers, Φ_chain = L Φ_single (the z rules are symmetric, so the gauge
    # sum over σ̃ is exact to rounding); saddle tolerance 1e-9 gives ~1e-12 in Φ.
    y = 3 if L == 2 else 2
    one = C.solve(D, y, JD, 0.0, L=1, internal=False)
    many = C.solve(D, y, JD, 0.0, L=L, internal=False)
    assert many.converged
    assert many.phi == pytest.approx(L * one.phi, abs=1e-8)
    assert np.allclose(many.q1, one.q1[0], atol=1e-7)
    assert np.allclose(many.p_hat, one.p_hat[0], atol=1e-7)


# ---------------------------------------------------------------------------------------------
# y = 0 and y = 1
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("jd,lam,table", [(0.0, 0.5, 0.13683), (0.0, 1.0, 0.38258),
                                          (0.125, 1.5, 0.59410)])
def test_y0_is_the_annealed_chain_entropy(jd, lam, table):
    r = C.solve(D, 0, jd, lam)
    assert r.phi == pytest.approx(table, abs=5e-6)  # SPEC §4.4 table, 5 decimals
    assert r.phi == pytest.approx(float(A.entropy_chain(jd, lam, L=2)), abs=1e-14)
    assert r.external_entropy == r.phi and np.isnan(r.internal_entropy)
    assert "not computed" in r.message
    # the same through the quadrature at arbitrary order parameters: Σ_σ̃ Π_ℓ ∫Dz r_ℓ = Z_col
    assert C.free_entropy(D, 0, jd, lam, 0.3, 0.9, 0.2) == pytest.approx(r.phi, abs=1e-12)
    assert C.solve(D, 0, jd, lam, reference="free").phi == pytest.approx(2 * np.log(2), abs=1e-15)


def _pair_count(d, jt, lam):
    """S_pair of SPEC §4.5 for L = 2, λ_L = λ_R = λ, directly: 16 column pairs (σ, σ̃),
    exp(Σ_ℓ p̂_ℓ σ_ℓσ̃_ℓ) Π_ℓ Φ₂(a_ℓ(σ), a_ℓ(σ̃); σ_ℓσ̃_ℓ p), extremised (minimised) in p̂."""
    p = 1 - 2 * d
    cols = np.array(list(itertools.product([1.0, -1.0], repeat=2)))
    a = lambda s: jt + lam * s[0] * s[1]
    lw, feat = [], []
    for s, t in itertools.product(cols, cols):
        lw.append(sum(log_Phi2(a(s), a(t), s[l] * t[l] * p) for l in range(2)))
        feat.append(s * t)
    lw, feat = np.array(lw, float), np.array(feat)

    def F(h):
        return sp.logsumexp(lw + feat @ h) - p * h.sum()

    def grad(h):
        w = np.exp(lw + feat @ h - sp.logsumexp(lw + feat @ h))
        return w @ feat - p

    res = optimize.minimize(F, np.zeros(2), jac=grad, method="BFGS", options={"gtol": 1e-13})
    assert np.max(np.abs(grad(res.x))) < 1e-10
    return float(res.fun)


@pytest.mark.parametrize("d,jd,lam", [(0.1, 0.0, 0.5), (0.02, 0.05, 0.3), (0.3, 0.0, 1.0)])
def test_y1_is_the_chain_pair_count(d, jd, lam):
    # Φ₂ by the solver's z quadrature against log_Phi2 (1e-13 relative): agreement to 1e-11;
    # q1 and q̂1 drop out, so two different q1 give the same Φ.
    ref = _pair_count(d, jd, lam)
    r = C.solve(d, 1, jd, lam, internal=False)
    assert r.converged and np.all(np.isnan(r.q1))
    assert r.phi == pytest.approx(ref, abs=1e-11)
    p = 1 - 2 * d
    for t in (0.2, 0.9):
        q1 = p * p + t * (1 - p * p)
        assert C.free_entropy(d, 1, jd, lam, r.p_hat, q1, 0.7) == pytest.approx(ref, abs=1e-11)
    # L = 1: the pair exponent f(1 − 2d) (SPEC §6.6)
    r1 = C.solve(d, 1, jd, 0.0, L=1, internal=False)
    assert r1.phi == pytest.approx(float(A.pair_exponent_d(d, jd)), abs=1e-11)


@pytest.mark.parametrize("L,lam", [(1, 0.0), (2, 0.5), (3, 0.4)])
def test_free_reference_y1(L, lam):
    # H_r ≡ 1: Σ_σ̃ e^{Σ p̂_ℓ σ_ℓσ̃_ℓ} = Π_ℓ 2cosh p̂_ℓ for every σ, so
    # Φ = ln Z_col + Σ_ℓ extr[−p p̂ + ln 2cosh p̂] = ln Z_col + L H_b(d), with tanh p̂_ℓ = p.
    d, jd = 0.15, 0.05
    ref = float(A.entropy_chain(jd, lam, L=L) + L * binary_entropy(d))
    r = C.solve(d, 1, jd, lam, L=L, reference="free", internal=False)
    assert r.phi == pytest.approx(ref, abs=1e-14)
    # the same through the quadrature path (the closed form is not used here)
    p = 1 - 2 * d
    site = C.ChainSite(p, jd, lam, lam, L, 0.8, 0.0, 1, reference="free")
    ph = site.solve_p_hat(np.zeros(L))
    assert np.allclose(ph, np.arctanh(p), atol=1e-12)
    assert C._phi(p, 1, ph, 0.8, 0.0, site.averages(ph)["G"]) == pytest.approx(ref, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# The saddle of the coupled chain
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chain3():
    return C.solve(0.1, 3, 0.0, 0.5, internal=False)


def test_saddle_is_stationary_and_symmetric(chain3):
    r, h = chain3, 1e-5
    assert r.converged and r.iterations < 100
    assert np.max(np.abs(np.r_[r.residuals["q1"], r.residuals["q1_hat"]])) < 1e-9
    assert np.max(np.abs(r.residuals["p"])) < 1e-12
    # λ_L = λ_R: layers 1 and 2 are mirror images; not imposed, comes out to rounding
    for name in ("p_hat", "q1", "q1_hat"):
        v = getattr(r, name)
        assert abs(v[0] - v[1]) < 1e-10
    # ∂Φ/∂(each of the 6 order parameters) = 0: central differences (h = 1e-5, error ~1e-10),
    # which checks the analytic Mills-ratio q̂1 equation against the free entropy itself
    base = {"p_hat": r.p_hat, "q1": r.q1, "q1_hat": r.q1_hat}
    for name, l in itertools.product(base, range(2)):
        up, dn = base[name].copy(), base[name].copy()
        up[l] += h
        dn[l] -= h
        g = (C.free_entropy(0.1, 3, 0.0, 0.5, **(base | {name: up}))
             - C.free_entropy(0.1, 3, 0.0, 0.5, **(base | {name: dn}))) / (2 * h)
        assert abs(g) < 1e-8, (name, l, g)


def test_reduced_free_entropy_slope_is_its_q1_derivative(chain3):
    # Φ_red(q1) = extr_{p̂,q̂1} Φ off the saddle, per layer: its analytic slope
    # ⟨∂_{q1_ℓ} ln I_ℓ⟩ − y(y−1) q̂1_ℓ/2 against central differences of Φ_red (h = 1e-4: error
    # ~h² Φ‴ ~ 1e-8), and zero at the saddle; Φ_red there is the saddle's Φ
    r, h = chain3, 1e-4
    kw = dict(p_hat=r.p_hat, q1_hat=r.q1_hat)
    at = C.reduced(0.1, 3, r.q1, 0.0, 0.5, 0.5, 2, **kw)
    assert at["phi"] == pytest.approx(r.phi, abs=1e-10) and np.max(np.abs(at["slope"])) < 1e-7
    q = r.q1 - 0.02                                       # off the saddle: a non-zero slope
    off = C.reduced(0.1, 3, q, 0.0, 0.5, 0.5, 2, **kw)
    assert np.min(np.abs(off["slope"])) > 1e-3
    for l in range(2):
        up, dn = q.copy(), q.copy()
        up[l] += h
        dn[l] -= h
        fd = (C.reduced(0.1, 3, up, 0.0, 0.5, 0.5, 2, **kw)["phi"]
              - C.reduced(0.1, 3, dn, 0.0, 0.5, 0.5, 2, **kw)["phi"]) / (2 * h)
        assert fd == pytest.approx(off["slope"][l], abs=1e-6)


def test_asymmetric_start_returns_to_the_symmetric_saddle(chain3):
    r = C.solve(0.1, 3, 0.0, 0.5, internal=False, init=([0.1, 0.5], [0.7, 0.95], [0.01, 0.4]))
    assert r.converged and r.phi == pytest.approx(chain3.phi, abs=1e-12)
    assert np.allclose(r.q1, chain3.q1, atol=1e-8) and np.allclose(r.p_hat, chain3.p_hat,
                                                                      atol=1e-7)


def test_quadrature_converged():
    # SPEC §7: halving the z step changes Φ by < 1e-11 (small d, sharp steps in every layer)
    r = C.solve(0.03, 4, 0.05, 0.3, internal=False)
    assert r.converged
    args = (0.03, 4, 0.05, 0.3, r.p_hat, r.q1, r.q1_hat)
    assert abs(C.free_entropy(*args, step=0.25) - r.phi) < 1e-11


def test_warm_start_across_d_keeps_the_branch():
    # continuation: a saddle at d = 0.08 carried to d = 0.05 (t fixed) converges to the cold-start
    # branch, per-neuron properties divide by L
    a = C.solve(0.08, 3, 0.0, 0.45, internal=False)
    b = C.solve(0.05, 3, 0.0, 0.45, internal=False, init=a)
    c = C.solve(0.05, 3, 0.0, 0.45, internal=False)
    assert b.converged and b.phi == pytest.approx(c.phi, abs=1e-12)
    assert b.phi_per_neuron == b.phi / 2


def test_fold_partner_is_told_apart_by_the_q1_curvature():
    # J_D = 0.05, λ = 0.2, d = 0.02, y = 2 is just above the fold of the q1 < 1 branch: the damped
    # iteration converges both to the physical saddle (a local maximum of Φ_red(q1), q1 ≈ 0.960)
    # and to its partner (a local minimum, q1 ≈ 0.971), 6e-5 lower in Φ. q1_curvature tells them
    # apart (curvatures ≈ ∓3, far from 0).
    good = C.solve(0.02, 2, 0.05, 0.2, internal=False, init=(0.3, 0.96, 0.52))
    partner = C.solve(0.02, 2, 0.05, 0.2, internal=False, init=(0.3, 0.971, 0.64))
    assert good.converged and partner.converged
    assert partner.q1[0] - good.q1[0] > 5e-3 and good.phi > partner.phi
    assert C.q1_curvature(good) < -1 and C.q1_curvature(partner) > 1


# ---------------------------------------------------------------------------------------------
# Internal entropy and the densest clusters
# ---------------------------------------------------------------------------------------------

def test_internal_entropy_against_continuous_y():
    # five-point stencil over integer y vs the envelope formula S_I = ∂Φ/∂y of the continuous-y
    # solver (L = 1); the stencil error Φ⁽⁵⁾/30 is 2e-5 here (measured), tolerance 1e-4
    r = C.solve(D, 3, JD, 0.0, L=1)
    ref = LD.solve(D, 3.0, JD)
    assert r.converged
    assert r.internal_entropy == pytest.approx(ref.internal_entropy, abs=1e-4)
    assert r.external_entropy == pytest.approx(r.phi - 3 * r.internal_entropy, abs=1e-15)
    assert set(r.residuals["stencil_phi"]) == {1, 2, 3, 4, 5}


def test_densest_matches_continuous_y_and_factorises():
    # J_D = 0.05, d = 0.05: the OGP point of the core model (S_I^max ≈ −8.0e-4 < 0). The spline
    # over integer y reproduces the continuous-y y* and S_I^max (measured difference 6e-6;
    # tolerance 3e-5, below |S_I^max|/25); at λ = 0 the two-layer chain gives the same per neuron.
    ref = T.densest(0.05, 0.05)
    one = C.densest(0.05, 0.05, 0.0, L=1)
    two = C.densest(0.05, 0.05, 0.0, L=2)
    assert one.frozen and one.converged and two.frozen and two.converged
    assert one.internal_entropy == pytest.approx(ref.internal_entropy, abs=3e-5)
    assert one.y_star == pytest.approx(ref.y_star, abs=0.05)
    assert one.internal_entropy < 0
    assert two.internal_entropy == pytest.approx(one.internal_entropy, abs=1e-8)
    assert two.y_star == pytest.approx(one.y_star, abs=1e-6)
    assert two.phis[0] == pytest.approx(2 * float(A.entropy_core(0.05)), abs=1e-14)


def test_densest_coupled_chain_is_consistent():
    # J_D = 0, λ = 0.5, d = 0.08 (RM side, SPEC §1.1 Fig. 4 triple): y* bracketed, Σ_ext(y*) = 0 on
    # the spline, S_I^max > 0 per neuron, and the spline slope at the integer next to y* agrees with
    # the five-point S_I of solve() (both interpolate the same Φ(k); measured gap 2e-6, tol 2e-5)
    r = C.densest(0.08, 0.0, 0.5)
    assert r.frozen and r.converged and r.ys[0] == 0 and 1 < r.y_star < r.ys[-1] - 1
    assert 0 < r.internal_entropy < 0.05 and r.internal_entropy == r.internal_entropy_column / 2
    cs = C.CubicSpline(r.ys, r.phis)
    assert abs(cs(r.y_star) - r.y_star * cs(r.y_star, 1)) < 1e-12
    k = int(np.round(r.y_star))
    s = C.solve(0.08, k, 0.0, 0.5, init=r.results[k])
    assert s.internal_entropy == pytest.approx(float(cs(k, 1)), abs=2e-5)
    assert r.uncertainty < 1e-4


def test_phi_curve_order_and_flags():
    rs = C.phi_curve(0.1, 0.0, 0.5, [3, 0, 2, 1])
    assert [r.y for r in rs] == [3, 0, 2, 1]
    assert all(r.converged for r in rs)
    phis = [r.phi for r in sorted(rs, key=lambda r: r.y)]
    assert np.all(np.diff(phis, 2) > 0)  # Φ is convex in y


@pytest.mark.parametrize("bad", [{"d": 0.0}, {"d": 0.6}, {"d": np.nan}, {"y": -1},
                                 {"y": 2.5}, {"L": 0}, {"lam": np.inf},
                                 {"reference": "nope"}, {"J_D": "x"}, {"y": 200, "L": 3}])
def test_bad_input(bad):
    kw = {"d": 0.1, "y": 2, "J_D": 0.0, "lam": 0.5} | bad
    with pytest.raises(ValueError) as exc:
        C.solve(**kw)
    assert "\n" not in str(exc.value)


def test_large_deviation_solve_dispatches_the_chain():
    # the interface of issue 3: large_deviation.solve(d, y, J_D, lam, L=2) is the chain's solver
    from theory import large_deviation as LD
    a = LD.solve(0.1, 3, 0.0, lam=0.5, L=2)
    b = C.solve(0.1, 3, 0.0, 0.5, 2)
    assert a.converged and a.phi == b.phi and a.internal_entropy == b.internal_entropy
    with pytest.raises(ValueError, match="integer"):
        LD.solve(0.1, 2.5, 0.0, lam=0.5, L=2)


def test_factorised_layer_integrals_match_the_joint_sum():
    """The three-matrix-product form of the layer sums equals the direct (nref, ncomp, nz) sum to
    rounding (1e-12 relative), including pairs whose terms lie far below both row maxima (A peaked at
    z = −5, B at z = +5 with curvature 40: the factorised sum underflows and the pair is recomputed)."""
    rng = np.random.default_rng(4)
    z = np.linspace(-8, 8, 161)
    A = np.vstack([-0.5 * z ** 2 + rng.normal(0, 0.1, z.size), -40 * (z + 5) ** 2])
    B = np.vstack([-0.3 * (z - c) ** 2 * k for c, k in [(0, 1), (1, 3), (5, 40), (-2, 0.5)]])
    dlr, D = rng.normal(size=A.shape), rng.normal(size=B.shape)
    lI, avg = C._layer_integrals(A, B, dlr, D)
    r, c = np.meshgrid(np.arange(2), np.arange(4), indexing="ij")
    ref_lI, ref_avg = C._joint_integrals(A[r] + B[c], dlr[r], D[c])
    assert np.allclose(lI, ref_lI, rtol=1e-12, atol=0) and np.allclose(avg, ref_avg, rtol=1e-10)
    EA, EB = np.exp(A - A.max(1, keepdims=True)), np.exp(B - B.max(1, keepdims=True))
    assert (EA @ EB.T)[1, 2] < C._TINY                       # the recomputed pair is exercised
