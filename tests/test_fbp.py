"""Tests of numerics.fbp (SPEC 9): kernels and their limits, protocols, full BP against exact
enumeration, AMP against full BP, the driver (fixed points found are true fixed points), determinism
and bad input."""

import math

import numpy as np
import pytest
from scipy.special import ndtr

from numerics import fbp
from numerics.enumeration import decode, fixed_points
from numerics.models import is_fixed_point, sample_core

INF = math.inf


# ---------------------------------------------------------------------------- focusing message

def test_atanh_tanh_product_matches_naive_and_limits():
    a, b = np.meshgrid(np.linspace(-4, 4, 17), np.linspace(-5, 5, 21))
    np.testing.assert_allclose(fbp.atanh_tanh_product(a, b), np.arctanh(np.tanh(a) * np.tanh(b)),
                               rtol=1e-12, atol=1e-14)
    assert fbp.atanh_tanh_product(INF, 0.7) == pytest.approx(0.7, abs=1e-15)
    assert fbp.atanh_tanh_product(-0.7, INF) == pytest.approx(-0.7, abs=1e-15)
    assert fbp.atanh_tanh_product(0.0, 3.0) == 0.0 and fbp.atanh_tanh_product(3.0, 0.0) == 0.0
    assert fbp.atanh_tanh_product(INF, INF) == INF
    # where the naive form overflows (tanh = 1 in float64): f = min(a, b) + O(e^{-2|a-b|})
    assert fbp.atanh_tanh_product(50.0, 60.0) == pytest.approx(50.0 - 0.5 * math.log1p(math.exp(-20.0)),
                                                               rel=1e-15)
    assert fbp.atanh_tanh_product(-1e6, 2e6) == -1e6
    # symmetric and odd in each argument
    assert fbp.atanh_tanh_product(1.3, -0.4) == pytest.approx(fbp.atanh_tanh_product(-0.4, 1.3), rel=1e-15)


def _naive_focusing(h, gamma, y):
    return np.arctanh(np.tanh(gamma) * np.tanh((y - 1) * np.arctanh(np.tanh(gamma) * np.tanh(h))))


def test_focusing_message_formula_and_limits():
    h = np.linspace(-3, 3, 13)
    for gamma, y in [(0.3, 2.0), (1.0, 1.5), (2.0, 7.0), (0.8, 30.0)]:
        np.testing.assert_allclose(fbp.focusing_message(h, gamma, y), _naive_focusing(h, gamma, y),
                                   rtol=1e-10, atol=1e-13)
    # y = 1 or gamma = 0: plain BP
    assert np.all(fbp.focusing_message(h, 2.0, 1.0) == 0.0)
    assert np.all(fbp.focusing_message(h, 0.0, 5.0) == 0.0)
    assert np.all(fbp.focusing_message(h, 0.0, INF) == 0.0)
    # gamma = inf: (y - 1) h~, and the finite-gamma formula tends to it
    np.testing.assert_allclose(fbp.focusing_message(h, INF, 3.5), 2.5 * h, rtol=1e-15)
    np.testing.assert_allclose(fbp.focusing_message(h, 40.0, 3.5), 2.5 * h, rtol=1e-12, atol=1e-14)
    # y = inf: gamma sign h~ (0 at h~ = 0), approached at large y
    np.testing.assert_allclose(fbp.focusing_message(h, 0.9, INF), 0.9 * np.sign(h), rtol=1e-15)
    hn = h[h != 0]
    np.testing.assert_allclose(fbp.focusing_message(hn, 0.9, 1e6), 0.9 * np.sign(hn), rtol=1e-12)
    # large fields stay finite and exact where the naive formula gives inf or nan
    assert fbp.focusing_message(500.0, 3.0, 2.0) == pytest.approx(
        fbp.atanh_tanh_product(3.0, fbp.atanh_tanh_product(3.0, 500.0)), rel=1e-15)
    assert np.isfinite(fbp.focusing_message(1e300, 3.0, 1e10))
    # same sign as h~, so sign(h~ + u^foc) = sign(h~)
    u = fbp.focusing_message(h, 1.2, 4.0)
    assert np.all(np.sign(u) == np.sign(h))


@pytest.mark.parametrize("gamma, y, match", [
    (INF, INF, "infinite"), (-0.1, 2.0, "gamma"), (1.0, 0.5, "y must"), (math.nan, 2.0, "gamma"),
    (1.0, math.nan, "y must"), ("a", 2.0, "real numbers"),
])
def test_focusing_message_bad_input(gamma, y, match):
    with pytest.raises(ValueError, match=match):
        fbp.focusing_message(np.zeros(3), gamma, y)


# ------------------------------------------------------------------------------------- kernels

def _log_Z(omega, V, c, Jt):
    m = np.tanh(c)
    sd = np.sqrt(V)
    return np.log((1 + m) / 2 * ndtr((Jt + omega) / sd) + (1 - m) / 2 * ndtr((Jt - omega) / sd))


@pytest.mark.parametrize("omega, V, c, Jt", [
    (0.3, 0.8, 0.2, 0.5), (-1.1, 0.4, -0.7, 0.0), (2.0, 1.3, 1.5, -0.3), (0.05, 0.2, -2.0, 1.2),
])
def test_factor_derivatives_are_derivatives_of_log_Z(omega, V, c, Jt):
    """g = d ln Z / d omega and dg = d g / d omega (central differences), u_self as SPEC 9."""
    u_self, g, dg = fbp.factor_derivatives(omega, V, c, Jt)
    e = 1e-5
    g_fd = (_log_Z(omega + e, V, c, Jt) - _log_Z(omega - e, V, c, Jt)) / (2 * e)
    dg_fd = (_log_Z(omega + e, V, c, Jt) - 2 * _log_Z(omega, V, c, Jt) + _log_Z(omega - e, V, c, Jt)) / e ** 2
    assert g == pytest.approx(g_fd, rel=1e-7, abs=1e-9)
    assert dg == pytest.approx(dg_fd, rel=1e-4, abs=1e-5)
    sd = math.sqrt(V)
    assert u_self == pytest.approx(0.5 * math.log(ndtr((Jt + omega) / sd) / ndtr((Jt - omega) / sd)), rel=1e-12)
    assert fbp.factor_output_message(omega, V, Jt) == pytest.approx(u_self, rel=1e-15)


def test_kernels_stay_finite_in_the_tails():
    """Far tails (|A| ~ 1e3) where ln(erfc/2) would underflow: finite, right sign, bounded curvature."""
    omega = np.array([-60.0, -5.0, 5.0, 60.0])
    u_self, g, dg = fbp.factor_derivatives(omega, 1e-3, 0.3, 0.2)
    assert np.all(np.isfinite(u_self)) and np.all(np.isfinite(g)) and np.all(np.isfinite(dg))
    assert np.all(np.sign(u_self) == np.sign(omega))
    u = fbp.factor_input_message(omega, 1e-3, 0.01, 0.3, 0.2)
    assert np.all(np.isfinite(u))


def test_factor_input_message_exact_and_first_order():
    """The two-term expression against a direct (non-log) evaluation, and u_{i->k} -> J_ik g(omega_{i\\k})
    to first order in J_ik (SPEC 9)."""
    om, V, c, Jt = 0.4, 0.9, -0.3, 0.35
    m, sd = math.tanh(c), math.sqrt(V)

    def P(sk, J):
        return (1 + m) / 2 * ndtr((Jt + om + J * sk) / sd) + (1 - m) / 2 * ndtr((Jt - om - J * sk) / sd)

    for J in (0.3, -0.2, 0.05):
        assert fbp.factor_input_message(om, V, J, c, Jt) == pytest.approx(
            0.5 * math.log(P(1, J) / P(-1, J)), rel=1e-12)
    _, g, _ = fbp.factor_derivatives(om, V, c, Jt)
    for J in (1e-3, 1e-4):
        u = fbp.factor_input_message(om, V, J, c, Jt)
        assert u / J == pytest.approx(g, rel=10 * J)                # error O(J^2)


def test_vectorised_bp_sweep_equals_per_factor_loop():
    N, J_D = 37, 0.4
    rng = np.random.default_rng(5)
    J = sample_core(N, rng)
    msgs = fbp.BPMessages(J, J_D, rng=rng, init_amplitude=0.3, prior=0.2 * rng.standard_normal(N))
    for _ in range(3):                                            # move away from the initial state
        msgs.sweep(1.0, 2.0, 0.0)
    U0 = msgs.U.copy()
    h = msgs.fields(1.0, 2.0)
    ref = np.stack([fbp.factor_messages(J[i], i, h - U0[i], msgs.J_tilde, msgs.V_floor) for i in range(N)])
    delta = msgs.sweep(1.0, 2.0, 0.0)
    np.testing.assert_allclose(msgs.U, ref, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(msgs.h_cav, ref.sum(axis=0) + msgs.prior, rtol=1e-10, atol=1e-12)
    assert delta == pytest.approx(np.abs(np.tanh(ref) - np.tanh(U0)).max(), rel=1e-9)


# ------------------------------------------------------------------------------------ protocols

def test_standard_reinforcement():
    p = fbp.StandardReinforcement(0.25)
    assert list(p) == [(INF, 1.0), (INF, 4 / 3), (INF, 2.0), (INF, 4.0)]
    assert len(p) == 4 and len(fbp.StandardReinforcement(0.01)) == 100
    assert list(fbp.StandardReinforcement(1.0)) == [(INF, 1.0)]
    assert len(fbp.StandardReinforcement(0.3)) == 3                # x = 0, 0.3, 0.6 <= 0.7


def test_pseudo_reinforcement():
    steps = list(fbp.PseudoReinforcement(0.1))
    assert len(steps) == 10
    for k, (g, y) in enumerate(steps):
        rho = 0.1 * k
        assert g == pytest.approx(math.atanh(math.sqrt(rho)), rel=1e-14)
        assert y == pytest.approx((2 - rho) / (1 - rho), rel=1e-14)
    # x = 0 is standard reinforcement
    for (g0, y0), (g1, y1) in zip(fbp.PseudoReinforcement(0.1, x=0.0), fbp.StandardReinforcement(0.1)):
        assert g0 == g1 == INF and y0 == pytest.approx(y1, rel=1e-14)
    # general x: gamma = atanh(rho^x), y = 1 + rho^(1-2x)/(1-rho); rho = 0 gives no focusing
    for x in (0.3, 0.7):
        for rho, (g, y) in zip(np.arange(10) * 0.1, fbp.PseudoReinforcement(0.1, x=x)):
            if rho == 0:
                assert g == 0.0 and np.all(fbp.focusing_message(np.ones(2), g, y) == 0.0)
            else:
                assert g == pytest.approx(math.atanh(rho ** x), rel=1e-13)
                assert y == pytest.approx(1 + rho ** (1 - 2 * x) / (1 - rho), rel=1e-13)


def test_scoping_and_plain():
    s = fbp.Scoping([0.1, 0.5, 2.0, INF], 3.0)
    assert list(s) == [(0.1, 3.0), (0.5, 3.0), (2.0, 3.0), (INF, 3.0)] and len(s) == 4
    assert list(fbp.PlainBP()) == [(0.0, 1.0)]


@pytest.mark.parametrize("make, match", [
    (lambda: fbp.StandardReinforcement(0.0), "dr"),
    (lambda: fbp.StandardReinforcement(1.5), "dr"),
    (lambda: fbp.StandardReinforcement(math.nan), "dr"),
    (lambda: fbp.PseudoReinforcement(0.1, x=1.5), "x must"),
    (lambda: fbp.Scoping([], 2.0), "empty"),
    (lambda: fbp.Scoping([1.0, 0.5], 2.0), "non-decreasing"),
    (lambda: fbp.Scoping([1.0], 0.5), "y must"),
    (lambda: fbp.Scoping([-1.0], 2.0), "gamma"),
    (lambda: fbp.Scoping([INF], INF), "infinite"),
])
def test_protocol_bad_input(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ------------------------------------------------------------------ full BP against enumeration

def _exact_magnetisations(J, J_D, prior):
    """<s_k> over all fixed points, weighted by exp(prior . s) (SPEC 10 enumeration)."""
    S = decode(fixed_points(J, J_D), J.shape[0]).astype(np.float64)
    w = S @ prior
    w = np.exp(w - w.max())
    return (w / w.sum()) @ S


def _bp_errors(N, J_D, n_inst, seed0=100):
    err, naive = [], []
    for k in range(n_inst):
        rng = np.random.default_rng(seed0 + k)
        J = sample_core(N, rng)
        prior = 0.5 * rng.standard_normal(N)
        exact = _exact_magnetisations(J, J_D, prior)
        r = fbp.solve(J, J_D, rng=1, protocol=fbp.PlainBP(), method="bp", eps=1e-10, max_iter=2000,
                      prior=prior, damping=0.3)
        assert r.converged and r.schedule[0].converged
        err.append(np.abs(r.marginals - exact).mean())
        naive.append(np.abs(np.tanh(prior) - exact).mean())
    return np.array(err), np.array(naive)


@pytest.mark.parametrize("J_D, tol", [(1.0, 0.065), (1.5, 0.03), (2.0, 0.015)])
def test_bp_marginals_match_enumeration(J_D, tol):
    """Plain BP marginals against exact magnetisations over all fixed points, N = 14.

    Without external fields every magnetisation is 0 by the Z2 symmetry (s FP <=> -s FP), so random
    prior fields (std 0.5) break it and the exact values are weighted averages over the enumerated
    fixed points. BP on this dense loopy graph is exact only as N -> oo; at N = 14 its error is an
    O(1/sqrt N)-to-O(1/N) finite-size effect that shrinks as J_D grows (weaker constraints, more fixed
    points: ~2^14 (2 Phi(J_D))^14 of them). Measured mean |m_BP - m_exact| over these 12 instances
    (fixed seeds): 0.042, 0.017, 0.008 at J_D = 1, 1.5, 2; the tolerances are ~1.5x that. The factor
    messages must also do real work: BP is at least 3x closer than the prior alone (tanh prior), whose
    error is 0.16, 0.076, 0.035 (measured ratios 0.27, 0.22, 0.24).
    """
    err, naive = _bp_errors(14, J_D, 12)
    assert err.mean() < tol
    assert err.mean() < naive.mean() / 3


def test_bp_error_shrinks_with_N():
    """The BP error is a finite-size effect: the mean error over these 16 instances at J_D = 1 falls
    from 0.072 +- 0.008 (N = 8) to 0.038 +- 0.003 (N = 16) (0.069, 0.050, 0.036, 0.030 at N = 8, 12,
    16, 20 over 20 instances); asking for a 25 % drop leaves a margin of > 2 SE."""
    e8, _ = _bp_errors(8, 1.0, 16)
    e16, _ = _bp_errors(16, 1.0, 16)
    assert e16.mean() < 0.75 * e8.mean()


# -------------------------------------------------------------------------- AMP against full BP

@pytest.fixture(scope="module")
def instance200():
    rng = np.random.default_rng(2024)
    return sample_core(200, rng), 0.3 * rng.standard_normal(200)


@pytest.mark.parametrize("J_D, protocol", [
    (0.0, fbp.PlainBP()), (0.5, fbp.PlainBP()), (1.0, fbp.PlainBP()),
    (1.0, [(INF, 1.0), (INF, 1.5)]), (1.0, [(1.0, 2.0)]),
])
def test_amp_agrees_with_full_bp(instance200, J_D, protocol):
    """N = 200, prior fields of std 0.3, converged to eps = 1e-9 (damping 0.2).

    AMP drops O(1/sqrt N) terms per message; on this instance the fixed-point magnetisations differ
    by at most 0.012 / 0.007 / 0.003 (mean 0.0048 / 0.0015 / 0.0006) at J_D = 0 / 0.5 / 1, and by at
    most 0.014 (mean 0.0018) with the focusing steps; correlations > 0.99997. (On another instance
    the largest deviation fell from 0.012 at N = 200 to 0.005 at N = 500.) Tolerance: max 0.03, mean
    0.006, correlation 0.999. With strong focusing the two forms may select
    different states (both valid BP fixed points), so focusing is tested only where the fixed point
    is unique (J_D = 1, moderate y).
    """
    J, prior = instance200
    kw = dict(rng=1, protocol=protocol, eps=1e-9, max_iter=3000, prior=prior, damping=0.2)
    rb = fbp.solve(J, J_D, method="bp", **kw)
    ra = fbp.solve(J, J_D, method="amp", **kw)
    assert all(s.converged for s in rb.schedule) and all(s.converged for s in ra.schedule)
    d = np.abs(rb.marginals - ra.marginals)
    assert d.max() < 0.03 and d.mean() < 0.006
    assert np.corrcoef(rb.marginals, ra.marginals)[0, 1] > 0.999
    assert rb.marginals.std() > 0.2                        # non-trivial magnetisations


# ------------------------------------------------------------------------------------ the driver

@pytest.mark.parametrize("protocol", [
    fbp.StandardReinforcement(0.05), fbp.PseudoReinforcement(0.05), fbp.PseudoReinforcement(0.05, x=0.3),
    fbp.Scoping(np.linspace(0.2, 3.0, 15), 5.0), fbp.PlainBP(), [(INF, 1.0), (0.5, 3.0), (1.0, INF)],
])
@pytest.mark.parametrize("method", ["amp", "bp"])
def test_every_protocol_runs_and_reports_its_schedule(protocol, method):
    N, J_D = 60, 0.5
    J = sample_core(N, 7)
    r = fbp.solve(J, J_D, rng=3, protocol=protocol, method=method, max_iter=200)
    expected = list(protocol)
    assert 1 <= len(r.schedule) <= len(expected)
    for rec, (g, y) in zip(r.schedule, expected):
        assert (rec.gamma, rec.y) == (g, y)
        assert 1 <= rec.iterations <= 200 and 0 <= rec.n_unstable <= N
        assert rec.converged == (rec.delta < 1e-3)
    assert r.iterations == sum(rec.iterations for rec in r.schedule)
    assert r.status in ("fixed_point", "exhausted")
    assert r.state.shape == (N,) and set(np.unique(r.state)) <= {-1, 1}
    assert r.is_fixed_point == bool(is_fixed_point(J, J_D, r.state))
    assert r.is_fixed_point == (r.schedule[-1].n_unstable == 0)
    assert (r.status == "fixed_point") == r.is_fixed_point
    assert r.converged == r.schedule[-1].converged
    np.testing.assert_array_equal(r.state, np.where(r.fields >= 0, 1, -1))
    np.testing.assert_allclose(r.marginals, np.tanh(r.fields))


@pytest.mark.parametrize("method, N, n_inst", [("amp", 200, 3), ("bp", 80, 2)])
def test_fbp_finds_true_fixed_points_on_easy_instances(method, N, n_inst):
    """J_D = 0.5 is easy for fBP (all of 4 instances at N = 200 and N = 1000 in our runs); the
    reported configuration must pass the independent test of numerics.models, with margin kappa."""
    for seed in range(n_inst):
        J = sample_core(N, seed)
        for kappa in (0.0, 0.1):
            r = fbp.solve(J, 0.5, rng=seed, method=method, kappa=kappa,
                          protocol=fbp.StandardReinforcement(0.02))
            assert r.status == "fixed_point" and r.is_fixed_point, r.message
            assert is_fixed_point(J, 0.5, r.state, kappa)
            assert r.schedule[-1].n_unstable == 0
            assert all(rec.n_unstable > 0 for rec in r.schedule[:-1])   # stops at the first FP


def test_deterministic_with_seed():
    J = sample_core(150, 11)
    runs = [fbp.solve(J, 0.3, rng=np.random.default_rng(5), protocol=fbp.PseudoReinforcement(0.05))
            for _ in range(2)]
    a, b = runs
    np.testing.assert_array_equal(a.state, b.state)
    np.testing.assert_array_equal(a.fields, b.fields)
    assert a.schedule == b.schedule
    c = fbp.solve(J, 0.3, rng=6, protocol=fbp.PlainBP(), eps=1e-12, max_iter=5)
    d = fbp.solve(J, 0.3, rng=5, protocol=fbp.PlainBP(), eps=1e-12, max_iter=5)
    assert not np.array_equal(c.fields, d.fields)          # the seed matters


@pytest.mark.parametrize("method, N", [("amp", 700), ("bp", 250)])
def test_threads_give_bitwise_identical_results(method, N):
    """Sweeps split over fixed row chunks, combined in a fixed order: the thread count is invisible."""
    J = sample_core(N, 4)
    kw = dict(rng=2, method=method, protocol=fbp.StandardReinforcement(0.25), max_iter=8)
    a = fbp.solve(J, 0.4, threads=1, **kw)
    b = fbp.solve(J, 0.4, threads=3, **kw)
    np.testing.assert_array_equal(a.fields, b.fields)
    assert a.schedule == b.schedule


def test_exhausted_callback_check_every_and_max_steps():
    J = sample_core(80, 2)
    # J_D = -1: fixed points are (exponentially) rare; the protocol ends without one
    r = fbp.solve(J, -1.0, rng=0, protocol=fbp.StandardReinforcement(0.25), max_iter=50)
    assert r.status == "exhausted" and not r.is_fixed_point and len(r.schedule) == 4
    assert "without a fixed point" in r.message
    seen = []
    r = fbp.solve(J, -1.0, rng=0, protocol=fbp.StandardReinforcement(0.25), max_iter=50,
                  callback=lambda rec: seen.append(rec) or len(seen) == 2)
    assert r.status == "stopped" and len(r.schedule) == 2 and seen == r.schedule
    r = fbp.solve(J, -1.0, rng=0, protocol=iter(lambda: (INF, 2.0), None), max_iter=5, max_steps=3)
    assert len(r.schedule) == 3                            # an endless protocol, capped
    # check_every: a fixed point visited inside a non-converged step is caught
    r = fbp.solve(sample_core(200, 0), 0.5, rng=0, eps=1e-12, max_iter=400, check_every=1,
                  protocol=fbp.StandardReinforcement(0.02))
    assert r.is_fixed_point and "inside the step" in r.message


def test_nonfinite_messages_are_reported(monkeypatch):
    J = sample_core(30, 1)
    real = fbp.factor_derivatives
    calls = {"n": 0}

    def poisoned(*args):
        calls["n"] += 1
        u, g, dg = real(*args)
        if calls["n"] >= 3:
            g = g.copy()
            g[4] = np.nan
        return u, g, dg

    monkeypatch.setattr(fbp, "factor_derivatives", poisoned)
    r = fbp.solve(J, 0.5, rng=0, protocol=fbp.StandardReinforcement(0.1))
    assert r.status == "nonfinite" and not r.converged
    assert "non-finite" in r.message and "iteration 3" in r.message
    assert np.all(np.isfinite(r.fields)) and np.all(np.isfinite(r.marginals))
    assert set(np.unique(r.state)) <= {-1, 1}


@pytest.mark.parametrize("J, kwargs, match", [
    (np.zeros((3, 4)), {}, "square"),
    (np.zeros((1, 1)), {}, "at least 2"),
    (np.full((3, 3), np.nan), {}, "non-finite"),
    (np.array([["a", "b"], ["c", "d"]]), {}, "real numbers"),
    (None, dict(J_D=math.nan), "J_D must be finite"),
    (None, dict(kappa=math.inf), "kappa must be finite"),
    (None, dict(method="tap"), "unknown method"),
    (None, dict(eps=0.0), "eps must be > 0"),
    (None, dict(max_iter=0), "max_iter must be >= 1"),
    (None, dict(max_iter=2.5), "max_iter must be an integer"),
    (None, dict(damping=1.0), "damping must lie in"),
    (None, dict(damping=-0.1), "damping must lie in"),
    (None, dict(init_amplitude=-1.0), "init_amplitude"),
    (None, dict(prior=np.zeros(4)), "prior must have shape"),
    (None, dict(prior=np.full(5, np.inf)), "prior has non-finite"),
    (None, dict(protocol=3), "protocol must be an iterable"),
    (None, dict(protocol=[(1.0, 2.0, 3.0)]), "pairs"),
    (None, dict(protocol=[(INF, INF)]), "infinite"),
    (None, dict(protocol=[(1.0, 0.0)]), "y must"),
    (None, dict(check_every=-1), "check_every"),
    (None, dict(max_steps=0), "max_steps"),
    (None, dict(threads=0), "threads must be >= 1"),
])
def test_solve_bad_input(J, kwargs, match):
    J = sample_core(5, 0) if J is None else J
    kwargs = dict(kwargs)
    J_D = kwargs.pop("J_D", 0.5)
    with pytest.raises(ValueError, match=match):
        fbp.solve(J, J_D, rng=0, **kwargs)
