"""Stable special functions against mpmath, Owen's T and exact identities (SPEC §7, V6)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import mpref
from theory import special as S

# (a, b, rho) covering the regimes of SPEC §7: ρ → ±1 down to 1 − ρ = 1e-12, far tails, mixed signs.
PHI2_CASES = [
    (0.5, 0.5, 0.3), (0.5, 0.5, 1 - 2e-8), (0.5, 0.5, -(1 - 2e-8)), (0.0, 0.0, -(1 - 2e-6)),
    (-2.0, -2.0, 0.9), (-5.0, -5.0, 0.5), (-5.0, -5.0, -0.5), (1.0, -1.0, 0.999),
    (3.0, 0.2, -0.99), (0.2, 0.3, 1 - 1e-12), (0.1, 0.1, -0.999999), (-30.0, -30.0, 0.2),
    (2.0, 1.0, 0.0), (0.3, 0.3, 1 - 2e-12), (0.05, 0.05, -(1 - 2e-4)),
]


@pytest.mark.parametrize("a,b,rho", PHI2_CASES)
def test_log_Phi2_matches_mpmath(a, b, rho):
    # Relative accuracy of Φ₂ itself: |Δ ln Φ₂| ≤ 1e-12 · max(1, |ln Φ₂|) (the log of a tiny number
    # carries the absolute rounding of the ~|ln Φ₂|-sized sum of logs).
    ref = float(mpref.log_Phi2(a, b, rho))
    got = float(S.log_Phi2(a, b, rho))
    assert abs(got - ref) <= 1e-12 * max(1.0, abs(ref))


@pytest.mark.parametrize("a", [0.0, 0.5, 2.5])
@pytest.mark.parametrize("rho", [0.9999999, 0.99, 0.5, 0.0, -0.5, -0.99])
def test_owen_integral_and_mpmath_agree(a, rho):
    # V6: Owen-T, the 1-D integral and mpmath agree to 1e-12 (absolute on Φ₂, where Owen's subtraction
    # is exact to rounding; Φ₂ ≥ 1e-3 on this grid).
    owen = float(S.Phi2_owen(a, rho))
    quad = float(np.exp(S._log_Phi2_quad(np.array([a]), np.array([a]), np.array([rho]))[0]))
    ref = float(np.exp(float(mpref.log_Phi2(a, a, rho))))
    assert abs(owen - ref) < 1e-12
    assert abs(quad - ref) < 1e-12


def test_Phi2_rho_derivative():
    # ∂_ρ Φ₂(a,a;ρ) = e^{−a²/(1+ρ)}/(2π√(1−ρ²)) (SPEC §4.5), by a central difference (h = 1e-5:
    # truncation ~h²·|Φ₂'''| ≲ 1e-9 relative, rounding ~2e-16/h ~ 2e-11 absolute).
    for a in (0.0, 0.4, 1.5):
        for rho in (-0.7, 0.0, 0.6, 0.95):
            h = 1e-5
            num = (S.Phi2(a, a, rho + h) - S.Phi2(a, a, rho - h)) / (2 * h)
            exact = np.exp(-a * a / (1 + rho)) / (2 * np.pi * np.sqrt(1 - rho * rho))
            assert num == pytest.approx(exact, rel=1e-8, abs=1e-10)


def test_Phi2_limits():
    a = np.array([-1.0, 0.0, 0.7])
    assert np.allclose(S.Phi2(a, a, 1.0), S.Phi(a), rtol=1e-15)
    assert np.allclose(S.Phi2(a, a, -1.0), np.maximum(2 * S.Phi(a) - 1, 0), rtol=1e-15, atol=0)
    assert np.allclose(S.Phi2(a, 0.3, 0.0), S.Phi(a) * S.Phi(0.3), rtol=1e-13)
    # Near ρ = −1 at a = 0: Φ₂ = acos(|ρ|)/(2π) exactly (Sheppard), tiny and relatively accurate.
    eps = 1e-10
    assert S.Phi2(0.0, 0.0, -1 + eps) == pytest.approx(np.arccos(1 - eps) / (2 * np.pi), rel=1e-9)


finite = st.floats(-6, 6, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(a=finite, b=finite, rho=st.floats(-0.999, 0.999))
def test_Phi2_identities(a, b, rho):
    # Symmetry in (a, b) and the complement identity Φ₂(a,b;ρ) + Φ₂(a,−b;−ρ) = Φ(a); absolute 1e-13.
    assert S.Phi2(a, b, rho) == pytest.approx(S.Phi2(b, a, rho), rel=1e-12, abs=1e-300)
    assert S.Phi2(a, b, rho) + S.Phi2(a, -b, -rho) == pytest.approx(S.Phi(a), abs=1e-13)


def test_log_tails_and_mills():
    for x in (-40.0, -10.0, 0.0, 3.0, 40.0):
        # log_ndtr keeps ~5e-14 relative accuracy even at x = ±40 (where ln Φ ~ −1e-350 or −800).
        assert S.log_Phi(x) == pytest.approx(float(mpref.log_Phi(x)), rel=1e-13, abs=1e-300)
        assert S.log_H(x) == pytest.approx(float(mpref.log_Phi(-x)), rel=1e-13, abs=1e-300)
    x = np.array([-50.0, -5.0, 0.0, 5.0, 50.0])
    with mpref.mp.workdps(40):
        ref = np.array([float(mpref.mp.npdf(v) / mpref.mp.ncdf(v)) for v in x])
    assert np.allclose(S.mills(x), ref, rtol=1e-13, atol=0)


def test_binary_entropy_and_log1mexp():
    assert S.binary_entropy(0.0) == 0.0 and S.binary_entropy(1.0) == 0.0
    assert S.binary_entropy(0.5) == pytest.approx(np.log(2), rel=1e-15)
    x = np.array([-1e-20, -1e-5, -0.5, -5.0, -800.0])
    with mpref.mp.workdps(40):
        ref = [float(mpref.mp.log(1 - mpref.mp.exp(v))) for v in x]
    assert np.allclose(S.log1mexp(x), ref, rtol=1e-14)


def test_nan_refused():
    with pytest.raises(ValueError):
        S.log_Phi2(np.nan, 0.0, 0.1)
    with pytest.raises(ValueError):
        S.log_Phi2(0.0, 0.0, 1.5)
    with pytest.raises(ValueError):
        S.check_finite("J_D", [0.1, np.inf])


def test_exp_floor():
    """exp above the floor (bit-identical), exp(floor) below it, never subnormal, input untouched."""
    from theory.special import exp_floor
    x = np.array([0.0, -1.5, -349.9, -350.0, -351.0, -1e4, -np.inf])
    y = exp_floor(x, -350.0)
    assert np.array_equal(y[:4], np.exp(x[:4]))
    assert np.all(y[4:] == np.exp(-350.0)) and np.all(y >= np.finfo(float).tiny)
    assert x[-1] == -np.inf


@pytest.mark.parametrize("lo,hi,step", [(-10.0, -0.35, 0.25), (0.357, 10.0, 0.25),
                                         (-1.3, 2.05, 0.25), (1.0, 1.3, 0.1)])
def test_gauss_grid_stays_inside_a_window_that_is_not_a_multiple_of_the_step(lo, hi, step):
    # ∫_lo^hi Dz = Φ(hi) − Φ(lo) (scipy.special.ndtr); the uniform panels used to run up to
    # step/2 past hi (a 10 % error of the chain's independent-satellite Φ_0 at λ = 0.4), and
    # np.arange(1, 1.3, 0.1) overshoots hi by rounding (its last point is 1.3000000000000003)
    from scipy.special import ndtr

    from theory.quadrature import gauss_grid
    z, w = gauss_grid([(0.5 * (lo + hi), 0.01)], lo=lo, hi=hi, step=step)
    assert z.min() >= lo and z.max() <= hi
    assert w.sum() == pytest.approx(ndtr(hi) - ndtr(lo), rel=1e-13)
