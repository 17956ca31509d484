"""Tests of numerics.dynamics (SPEC 8): fixed points, the law of the fast asynchronous form, cycles.

The statistical tests run at N = 8, where the law of random-sequential dynamics is known exactly: its
jump chain (flip a uniform element of U) is a finite absorbing Markov chain on 2^8 states, so the
probability of ending in each fixed point and the mean time to get there follow from two linear
solves. Seeds are fixed, so every test is deterministic; the stated tolerances say how often a
*correct* implementation would fail over random seeds.
"""

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

from numerics import dynamics
from numerics.dynamics import (
    Relaxation,
    flip_unstable,
    relax_async,
    relax_async_naive,
    relax_layer_sequential,
    relax_partial,
    relax_partial_sync,
    relax_sync,
    unstable_mask,
)
from numerics.enumeration import decode, encode, fixed_points
from numerics.models import fields, is_fixed_point, margins, sample_chain, sample_core

ALL_RULES = {
    "async": relax_async,
    "async_naive": relax_async_naive,
    "sync": relax_sync,
    "partial_sync": lambda J, J_D, **kw: relax_partial_sync(J, J_D, p_update=0.5, **kw),
}


def _check_result(res: Relaxation, J, J_D, kappa, R, max_sweeps):
    N = J.shape[0]
    assert res.state.shape == (R, N) and res.state.dtype == np.int8
    assert np.all(np.abs(res.state) == 1)
    for a in (res.converged, res.sweeps, res.flips, res.cycle2):
        assert a.shape == (R,)
    assert res.converged.dtype == bool and res.cycle2.dtype == bool
    # converged <=> the final state is a true fixed point (models' strict test, from scratch)
    assert np.array_equal(res.converged, is_fixed_point(J, J_D, res.state, kappa))
    m = margins(J, J_D, res.state)
    assert np.all(m[res.converged] > kappa)
    assert np.all((m[~res.converged] <= kappa).any(axis=1))
    assert np.all((0 <= res.sweeps) & (res.sweeps <= max_sweeps))
    assert np.all(res.sweeps[~res.converged & ~res.cycle2] == max_sweeps)
    assert not np.any(res.converged & res.cycle2)


# ------------------------------------------------------------------------------- basic contracts

def test_internal_fields_match_models():
    J = sample_core(37, 1)
    J[np.diag_indices(37)] = 5.0                          # the diagonal of J is ignored
    A = dynamics._transposed_offdiag(J)
    S = 2.0 * np.random.default_rng(2).integers(0, 2, size=(5, 37)) - 1.0
    assert np.allclose(dynamics._fields(S, A, 0.7), fields(J, 0.7, S), rtol=0, atol=1e-13)
    assert np.array_equal(dynamics._half_fields(S, A, 0.7), 0.5 * dynamics._fields(S, A, 0.7))


def test_update_rule_helpers():
    s = np.array([1.0, -1.0, 1.0, -1.0, 1.0])
    h = np.array([0.5, 0.5, 0.0, -0.2, 0.1])
    assert unstable_mask(s, h).tolist() == [False, True, True, False, False]
    assert flip_unstable(s, h).tolist() == [1, 1, -1, -1, 1]          # tie h = 0 flips (module doc)
    assert flip_unstable(s, h, kappa=0.3).tolist() == [1, 1, -1, 1, -1]     # margins 0.2, 0.1 <= 0.3
    # kappa is J_D -> J_D - kappa: sign(h - kappa s)
    assert np.array_equal(flip_unstable(s, h, 0.3), np.where(h - 0.3 * s > 0, 1.0, -1.0))


@pytest.mark.parametrize("rule", sorted(ALL_RULES))
@pytest.mark.parametrize("J_D, kappa", [(0.2, 0.0), (0.6, 0.0), (1.0, 0.0), (0.9, 0.3)])
def test_converged_means_true_fixed_point(rule, J_D, kappa):
    J = sample_core(60, 11)
    R, T = 24, 60
    res = ALL_RULES[rule](J, J_D, rng=5, replicas=R, max_sweeps=T, kappa=kappa)
    _check_result(res, J, J_D, kappa, R, T)
    if J_D >= 0.6:                        # far above the accessibility threshold: most replicas converge
        assert res.converged.mean() > 0.5
    assert str(res).startswith(res.rule)


def test_determinism_and_seed_dependence():
    J = sample_core(50, 3)
    for rule, f in ALL_RULES.items():
        a = f(J, 0.4, rng=np.random.default_rng(9), replicas=6, max_sweeps=40)
        b = f(J, 0.4, rng=9, replicas=6, max_sweeps=40)
        c = f(J, 0.4, rng=10, replicas=6, max_sweeps=40)
        for name in ("state", "converged", "sweeps", "flips", "cycle2"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), (rule, name)
        assert not np.array_equal(a.state, c.state), rule
    a = relax_layer_sequential(sample_chain(20, 2, 1, lam_left=0.3), 0.4, L=2, rng=4, replicas=5)
    b = relax_layer_sequential(sample_chain(20, 2, 1, lam_left=0.3), 0.4, L=2, rng=4, replicas=5)
    assert np.array_equal(a.state, b.state) and np.array_equal(a.sweeps, b.sweeps)


def test_initial_states_and_zero_budget():
    J = sample_core(30, 2)
    s0 = np.where(np.random.default_rng(1).random(30) < 0.5, -1, 1)
    for f in ALL_RULES.values():
        res = f(J, 0.3, rng=0, s0=s0, replicas=3, max_sweeps=0)       # no dynamics at all
        assert np.array_equal(res.state, np.tile(s0, (3, 1)))
        assert np.array_equal(res.converged, np.repeat(is_fixed_point(J, 0.3, s0), 3))
        assert np.all(res.sweeps == 0)
        S0 = np.tile(s0, (4, 1))
        assert f(J, 0.3, rng=0, s0=S0, max_sweeps=0).state.shape == (4, 30)
    # starting at a fixed point: converged at time 0 with no flip
    fp = decode(fixed_points(sample_core(12, 4), 0.5)[:1], 12)[0]
    for f in ALL_RULES.values():
        res = f(sample_core(12, 4), 0.5, rng=0, s0=fp, replicas=2)
        assert np.all(res.converged) and np.all(res.sweeps == 0) and np.all(res.flips == 0)
        assert np.array_equal(res.state[0], fp)


def test_async_paths_agree(monkeypatch):
    """The per-row and gathered field updates are the same arithmetic (g +- A[k] is exact either way)."""
    J = sample_core(90, 8)
    a = relax_async(J, 0.5, rng=3, replicas=12, max_sweeps=60, record=True)
    monkeypatch.setattr(dynamics, "_ROW_LOOP_MIN_N", 0)
    b = relax_async(J, 0.5, rng=3, replicas=12, max_sweeps=60, record=True)
    for name in ("state", "sweeps", "flips", "unstable"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    c = relax_async(J, 0.5, rng=3, replicas=12, max_sweeps=60)           # record draws no randomness
    assert np.array_equal(a.state, c.state) and np.array_equal(a.sweeps, c.sweeps)


def test_async_integer_fields_make_the_float64_decisions(monkeypatch):
    """The integer fields with their band take every decision that float64 fields take: the run is
    identical (same random stream, same flips) to one whose band is so wide that every decision is
    recomputed in float64 from the rows of J (the recheck path)."""
    J = sample_core(150, 11)
    a = relax_async(J, 0.6, rng=5, replicas=10, max_sweeps=40, kappa=0.1, record=True)
    init = dynamics._FixedFields.__init__

    def wide(self, *args):
        init(self, *args)
        self.band = np.inf

    monkeypatch.setattr(dynamics._FixedFields, "__init__", wide)
    b = relax_async(J, 0.6, rng=5, replicas=10, max_sweeps=40, kappa=0.1, record=True)
    assert a.converged.any() and not a.converged.all()        # both outcomes are exercised
    for name in ("state", "sweeps", "flips", "unstable", "converged"):
        assert np.array_equal(getattr(a, name), getattr(b, name))


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e6])
def test_async_is_scale_free(scale):
    """(J, J_D, kappa) -> c (J, J_D, kappa) leaves the dynamics unchanged: the fixed-point exponent
    of the integer fields adapts (2^b from about 2^46 down to 2^6 here) and the run is the same."""
    J = sample_core(120, 4)
    a = relax_async(J, 0.5, rng=8, replicas=6, max_sweeps=30, kappa=0.05, record=True)
    b = relax_async(J * scale, 0.5 * scale, rng=8, replicas=6, max_sweeps=30, kappa=0.05 * scale,
                    record=True)
    for name in ("state", "sweeps", "flips", "unstable", "converged"):
        assert np.array_equal(getattr(a, name), getattr(b, name))


def test_integer_fields_do_not_drift():
    """After 3000 rounds of flips the integer fields equal those of the final state computed afresh
    (no round-off accumulates), and g~ is within the band of the float64 half-fields; the band is a
    bound (never exceeded) and a useful one (below 1e-5 at N = 400, within 100x of the worst error)."""
    rng = np.random.default_rng(2)
    N, R, J_D, hk = 400, 6, 0.7, 0.0
    J = sample_core(N, 3)
    fx = dynamics._FixedFields(J, J_D, hk)
    S = rng.choice([-1.0, 1.0], size=(R, N))
    W = fx.initial(S)
    rows = np.arange(R)
    for _ in range(3000):
        k = rng.integers(0, N, size=R)
        s_new = -S[rows, k]
        S[rows, k] = s_new
        W += s_new.astype(np.int32)[:, None] * fx.Q[k]
    assert np.array_equal(W, fx.initial(S))
    g = fields(J, J_D, S) / 2
    x = fx.stability(S, W, slice(None))                     # s g~ - kappa / 2
    err = np.abs(x - S * g).max()
    assert err <= fx.band < 1e-5
    assert err > fx.band / 100


def test_async_record_unstable_counts():
    J = sample_core(40, 6)
    s0 = 2 * np.random.default_rng(0).integers(0, 2, size=(10, 40)) - 1
    res = relax_async(J, 0.5, rng=1, s0=s0, max_sweeps=80, record=True)
    assert res.unstable.shape == (10, 81)
    assert np.array_equal(res.unstable[:, 0], (margins(J, 0.5, s0) <= 0).sum(axis=1))
    for r in range(10):
        if res.converged[r]:
            last = math.ceil(res.sweeps[r] * 40 - 1e-9) / 40               # time of the last flip
            j = np.arange(81)
            assert np.all(res.unstable[r, j >= last] == 0)
            assert np.all(res.unstable[r, j < last] > 0)
        else:
            assert res.unstable[r, -1] == (margins(J, 0.5, res.state[r]) <= 0).sum()


# --------------------------------------------------------- law of the fast asynchronous form, N = 8

N8, J_D8 = 8, 0.3
S0_8 = np.array([1, 1, -1, 1, 1, -1, -1, -1])
RUNS = 12000


def _exact_jump_chain(J, J_D, s0, weight=None):
    """Exact law of random-sequential dynamics from s0 (SPEC 8.1), by absorbing-chain linear algebra.

    From a state s with unstable set U != {} the next flip is k in U with probability w_k / sum_U w
    (w = 1: the naive rule) after a mean N / |U| micro-steps. Returns ({FP code: probability},
    mean time to absorption in sweeps). Every state reachable from s0 must be able to reach a FP.
    """
    N = J.shape[0]
    states = decode(np.arange(2 ** N, dtype=np.uint64), N).astype(float)
    U = margins(J, J_D, states) <= 0
    start = int(encode(s0)[0])
    seen, stack = {start}, [start]
    while stack:
        c = stack.pop()
        for i in np.flatnonzero(U[c]):
            n = c ^ (1 << int(i))
            if n not in seen:
                seen.add(n)
                stack.append(n)
    trans = sorted(c for c in seen if U[c].any())
    absorb = sorted(c for c in seen if not U[c].any())
    it, ia = {c: j for j, c in enumerate(trans)}, {c: j for j, c in enumerate(absorb)}
    Q = np.zeros((len(trans), len(trans)))
    Rm = np.zeros((len(trans), len(absorb)))
    wait = np.zeros(len(trans))
    for c in trans:
        idx = np.flatnonzero(U[c])
        w = np.ones(idx.size) if weight is None else weight(idx)
        wait[it[c]] = N / idx.size
        for i, wi in zip(idx, w / w.sum()):
            n = c ^ (1 << int(i))
            if n in it:
                Q[it[c], it[n]] += wi
            else:
                Rm[it[c], ia[n]] += wi
    M = np.eye(len(trans)) - Q
    P = np.linalg.solve(M, Rm)[it[start]]
    tau = np.linalg.solve(M, wait)[it[start]] / N
    assert abs(P.sum() - 1.0) < 1e-10                    # absorption is certain from s0
    return dict(zip(absorb, P)), tau


def _index_weights(idx):
    return 1.0 + idx


@pytest.fixture(scope="module")
def instance8():
    J = sample_core(N8, 39)
    law, tau = _exact_jump_chain(J, J_D8, S0_8)
    # the instance is informative: 4 fixed points, two likely and two rarer ones
    p = sorted(law.values(), reverse=True)
    assert len(p) == 4 and p[1] > 0.35 and p[3] > 0.05
    assert set(law) <= {int(c) for c in fixed_points(J, J_D8)}
    return J, law, tau


def _chi2_gof(res, law):
    """Pearson chi-square of the reached fixed points against the exact law; all runs must converge."""
    assert np.all(res.converged)
    codes = encode(res.state)
    keys = sorted(law)
    assert {int(c) for c in np.unique(codes)} <= set(keys)
    obs = np.array([np.count_nonzero(codes == np.uint64(k)) for k in keys])
    exp = np.array([law[k] for k in keys]) * codes.size
    assert exp.min() >= 5                                # chi-square approximation is valid
    return stats.chisquare(obs, exp).pvalue


def _mean_time_z(res, tau):
    return (res.sweeps.mean() - tau) / (res.sweeps.std(ddof=1) / math.sqrt(res.sweeps.size))


@pytest.fixture(scope="module")
def samples8(instance8):
    J = instance8[0]
    fast = relax_async(J, J_D8, rng=101, s0=S0_8, replicas=RUNS, max_sweeps=300)
    naive = relax_async_naive(J, J_D8, rng=102, s0=S0_8, replicas=RUNS, max_sweeps=300)
    return fast, naive


# Tolerances. Under the null hypothesis (correct law) the Pearson statistic is chi^2 with 3 degrees of
# freedom (expected counts >= 700), so p > 1e-3 fails a correct implementation for 0.1 % of seeds.
# The mean time uses |z| < 4 (two-sided 6e-5 false-failure rate, CLT with >= 10^4 runs). The biased
# variant has total-variation distance 0.21 from the exact law, so its Pearson statistic is of order
# 10^3 and p < 1e-12 holds with overwhelming margin.

def test_fast_async_has_the_exact_law(instance8, samples8):
    _, law, tau = instance8
    fast = samples8[0]
    assert _chi2_gof(fast, law) > 1e-3
    assert abs(_mean_time_z(fast, tau)) < 4
    # sweeps count the geometric waits, not just flips / N (which would be much smaller here)
    assert fast.sweeps.mean() > 1.5 * fast.flips.mean() / N8


def test_naive_async_has_the_exact_law(instance8, samples8):
    _, law, tau = instance8
    naive = samples8[1]
    assert _chi2_gof(naive, law) > 1e-3
    assert abs(_mean_time_z(naive, tau)) < 4


def test_fast_and_naive_agree_two_sample(samples8):
    fast, naive = samples8
    a, b = encode(fast.state), encode(naive.state)
    keys = np.union1d(a, b)
    table = np.array([[np.count_nonzero(x == k) for k in keys] for x in (a, b)])
    assert stats.chi2_contingency(table).pvalue > 1e-3
    # sweep-time distributions: two-sample KS (times are multiples of 1/N, ties make KS conservative)
    assert stats.ks_2samp(fast.sweeps, naive.sweeps).pvalue > 1e-3
    assert abs(np.mean(fast.flips) - np.mean(naive.flips)) < 4 * math.sqrt(
        np.var(fast.flips) / RUNS + np.var(naive.flips) / RUNS)


def test_fast_async_full_selection_path_has_the_exact_law(instance8, monkeypatch):
    """With no naive trials every flip uses the cumulative-count pick and a Geometric(|U|/N) wait."""
    J, law, tau = instance8
    monkeypatch.setattr(dynamics, "_TRIALS", 0)
    res = relax_async(J, J_D8, rng=103, s0=S0_8, replicas=RUNS, max_sweeps=300)
    assert _chi2_gof(res, law) > 1e-3
    assert abs(_mean_time_z(res, tau)) < 4


def test_law_test_detects_a_non_uniform_flip(instance8, monkeypatch):
    """Pick k in U with probability proportional to 1 + k instead of uniformly: the test must fail."""
    J, law, _ = instance8
    biased_law, _ = _exact_jump_chain(J, J_D8, S0_8, weight=_index_weights)
    tv = 0.5 * sum(abs(law.get(k, 0) - biased_law.get(k, 0)) for k in set(law) | set(biased_law))
    assert tv > 0.15

    def biased_pick(flat, R, N, rng):
        mask = np.zeros(R * N, dtype=bool)
        mask[flat] = True
        mask = mask.reshape(R, N)
        counts = np.count_nonzero(mask, axis=1)
        cum = np.cumsum(mask * _index_weights(np.arange(mask.shape[1])), axis=1)
        u = rng.random(mask.shape[0]) * cum[:, -1]
        return counts, np.argmax(cum > u[:, None], axis=1)

    monkeypatch.setattr(dynamics, "_TRIALS", 0)
    monkeypatch.setattr(dynamics, "_pick_uniform_flat", biased_pick)
    res = relax_async(J, J_D8, rng=104, s0=S0_8, replicas=RUNS, max_sweeps=300)
    assert _chi2_gof(res, law) < 1e-12
    assert _chi2_gof(res, biased_law) > 1e-3             # and it does follow its own law


# ------------------------------------------------------------------------ synchronous rules, cycles

def test_sync_detects_constructed_two_cycle():
    # antiferromagnetic pair: from (+,+) both spins are unstable, Little dynamics alternates
    # (+,+) -> (-,-) -> (+,+); random-sequential dynamics flips one spin and stops at (+,-) or (-,+)
    J = np.array([[0.0, -1.0], [-1.0, 0.0]])
    res = relax_sync(J, 0.0, rng=0, s0=[1, 1], replicas=3, max_sweeps=50, record=True)
    assert np.all(res.cycle2) and not np.any(res.converged)
    assert np.all(res.sweeps == 2) and np.all(res.state == 1)
    assert np.all(res.unstable == 2)
    a = relax_async(J, 0.0, rng=0, s0=[1, 1], replicas=3)
    assert np.all(a.converged) and np.all(a.state.sum(axis=1) == 0) and not np.any(a.cycle2)
    # a larger constructed cycle: uniform antiferromagnet, N = 7. From 5 up / 2 down, the up spins are
    # unstable (h = -2/7), so s(1) = all down; then every h = +6/7 and s(2) = all up, s(3) = all down:
    # the 2-cycle closes at t = 3 and s0 itself is transient.
    N = 7
    J = -(np.ones((N, N)) - np.eye(N)) / N
    s0 = np.array([1, 1, 1, 1, 1, -1, -1])
    res = relax_sync(J, 0.0, rng=0, s0=s0, max_sweeps=20, record=True)
    s, traj = s0.astype(float), [s0.astype(float)]
    for _ in range(3):
        s = flip_unstable(s, fields(J, 0.0, s))
        traj.append(s)
    assert np.array_equal(traj[3], traj[1]) and not np.array_equal(traj[2], traj[1])
    assert np.all(traj[1] == -1) and np.all(traj[2] == 1)
    assert res.cycle2[0] and res.sweeps[0] == 3 and np.array_equal(res.state[0], traj[3])
    assert res.unstable[0].tolist() == [5] + [7] * 20


def test_sync_symmetric_couplings_reach_fixed_points_or_two_cycles():
    """Goles-Olivos: with symmetric couplings, Little dynamics ends in a FP or a 2-cycle, never longer."""
    J = sample_core(40, 21, eta=1.0)
    for J_D in (0.0, 0.1):
        res = relax_sync(J, J_D, rng=2, replicas=40, max_sweeps=300)
        _check_result(res, J, J_D, 0.0, 40, 300)
        assert np.all(res.converged | res.cycle2)
        assert res.cycle2.any() or J_D > 0
        for r in np.flatnonzero(res.cycle2):               # each flagged state really has period 2
            s = res.state[r].astype(float)
            s1 = flip_unstable(s, fields(J, J_D, s))
            assert not np.array_equal(s1, s)
            assert np.array_equal(flip_unstable(s1, fields(J, J_D, s1)), s)
    # asymmetric couplings at J_D = 0: no cycle is flagged unless it has period 2
    J = sample_core(40, 21)
    res = relax_sync(J, 0.0, rng=2, replicas=40, max_sweeps=200)
    _check_result(res, J, 0.0, 0.0, 40, 200)


def test_partial_sync_with_p_one_is_sync():
    J = sample_core(50, 13)
    for J_D in (0.0, 0.5):
        a = relax_sync(J, J_D, rng=6, replicas=10, max_sweeps=100, record=True)
        b = relax_partial_sync(J, J_D, rng=6, p_update=1.0, replicas=10, max_sweeps=100, record=True)
        for name in ("state", "converged", "sweeps", "flips", "cycle2", "unstable"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert relax_partial is relax_partial_sync


def test_partial_sync_interpolates():
    """Small p_update approaches random-sequential dynamics: no 2-cycles, convergence where sync cycles."""
    J = np.array([[0.0, -1.0], [-1.0, 0.0]])
    res = relax_partial_sync(J, 0.0, rng=1, p_update=0.3, s0=[1, 1], replicas=50, max_sweeps=100)
    assert np.all(res.converged) and not res.cycle2.any()
    assert np.all(res.state.sum(axis=1) == 0)


def test_kappa_is_a_shift_of_J_D():
    """The margin-kappa dynamics is the kappa = 0 dynamics with J~ = J_D - kappa (module doc)."""
    J = sample_core(40, 17)
    a = relax_sync(J, 0.8, rng=3, replicas=8, kappa=0.3)
    b = relax_sync(J, 0.5, rng=3, replicas=8)
    assert np.array_equal(a.state, b.state) and np.array_equal(a.sweeps, b.sweeps)
    assert np.array_equal(a.converged, b.converged)


# ------------------------------------------------------------------------------------- the chain

def _chain_stable(chain_blocks, J_D, lam_left, lam_right, s, kappa=0.0):
    """s^l_i h^l_i > kappa for all l, i with h^l written out as in SPEC 3.3 (independent of J's layout)."""
    L = len(chain_blocks)
    N = chain_blocks[0].shape[0]
    S = s.reshape(L, N).astype(float)
    ok = True
    for l, Jl in enumerate(chain_blocks):
        h = Jl @ S[l] - np.diag(Jl) * S[l] + J_D * S[l]
        if l > 0:
            h += lam_left * S[l - 1]
        if l < L - 1:
            h += lam_right * S[l + 1]
        ok &= bool(np.all(S[l] * h > kappa))
    return ok


@pytest.mark.parametrize("L, lam", [(2, 0.5), (3, 0.3)])
def test_layer_sequential_ends_in_chain_fixed_points(L, lam):
    N, J_D, R = 40, 0.4, 16
    J = sample_chain(N, L, 31, lam_left=lam)
    blocks = [J[l * N:(l + 1) * N, l * N:(l + 1) * N] for l in range(L)]
    res = relax_layer_sequential(J, J_D, L=L, rng=2, replicas=R, max_sweeps=200, record=True)
    _check_result(res, J, J_D, 0.0, R, 200)
    assert res.converged.mean() > 0.5
    for r in range(R):
        assert _chain_stable(blocks, J_D, lam, lam, res.state[r]) == res.converged[r]
        if res.converged[r]:
            assert np.all(res.unstable[r, int(res.sweeps[r]):] == 0)
    # every rule accepts the chain's concatenated state
    for f in ALL_RULES.values():
        out = f(J, J_D, rng=3, replicas=4, max_sweeps=100)
        _check_result(out, J, J_D, 0.0, 4, 100)
        for r in np.flatnonzero(out.converged):
            assert _chain_stable(blocks, J_D, lam, lam, out.state[r])


def test_layer_sequential_single_module_is_sync():
    J = sample_core(30, 5)
    a = relax_layer_sequential(J, 0.2, L=1, rng=8, replicas=6, max_sweeps=80)
    b = relax_sync(J, 0.2, rng=8, replicas=6, max_sweeps=80)
    for name in ("state", "sweeps", "flips", "cycle2"):
        assert np.array_equal(getattr(a, name), getattr(b, name))


def test_layer_sequential_order_matters():
    """Module 1 must see the *new* state of module 0 within a sweep (not the one at the sweep start)."""
    # two 1-neuron modules, strongly coupled: s^1 follows s^0 within a single sweep
    J = np.array([[0.0, 0.1], [2.0, 0.0]])          # h^0 = 0.1 s^1 + J_D s^0, h^1 = 2 s^0 + J_D s^1
    res = relax_layer_sequential(J, 0.5, L=2, rng=0, s0=[-1, 1], max_sweeps=5)
    # sweep 1: h^0 = 0.1 - 0.5 < 0 keeps s^0 = -1; h^1 = 2(-1) + 0.5 < 0 flips s^1 -> -1: FP after 1
    assert res.converged[0] and res.sweeps[0] == 1 and res.state[0].tolist() == [-1, -1]


# ------------------------------------------------------------------------------------ bad input

@pytest.mark.parametrize("J, kwargs, match", [
    (np.zeros((3, 4)), {}, "square"),
    (np.zeros(5), {}, "square"),
    (np.array([[0.0, np.nan], [1.0, 0.0]]), {}, "non-finite"),
    (np.array([[0.0, np.inf], [1.0, 0.0]]), {}, "non-finite"),
    (np.zeros((3, 3)), {"max_sweeps": -1}, "max_sweeps"),
    (np.zeros((3, 3)), {"max_sweeps": 2.5}, "max_sweeps"),
    (np.zeros((3, 3)), {"replicas": 0}, "replicas"),
    (np.zeros((3, 3)), {"kappa": float("nan")}, "kappa"),
    (np.zeros((3, 3)), {"s0": [1, 1]}, "s0"),
    (np.zeros((3, 3)), {"s0": [1, 0, 1]}, r"\+1 or -1"),
    (np.zeros((3, 3)), {"s0": np.ones((2, 3)), "replicas": 3}, "replicas"),
    (np.zeros((3, 3)), {"rng": None}, "rng"),
])
def test_bad_input(J, kwargs, match):
    kw = {"rng": 0, **kwargs}
    for f in ALL_RULES.values():
        with pytest.raises(ValueError, match=match):
            f(J, 0.1, **kw)
    with pytest.raises(ValueError, match="J_D"):
        relax_async(np.zeros((3, 3)), float("nan"), rng=0)


@pytest.mark.parametrize("p", [0.0, -0.1, 1.5, float("nan"), "x"])
def test_bad_p_update(p):
    with pytest.raises(ValueError, match="p_update"):
        relax_partial_sync(np.zeros((3, 3)), 0.1, rng=0, p_update=p)


def test_bad_layers():
    with pytest.raises(ValueError, match="multiple of L"):
        relax_layer_sequential(np.zeros((5, 5)), 0.1, L=2, rng=0)
    with pytest.raises(ValueError, match="L must be"):
        relax_layer_sequential(np.zeros((4, 4)), 0.1, L=0, rng=0)


def test_result_is_frozen():
    res = relax_sync(sample_core(10, 1), 0.5, rng=0, replicas=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.state = None
    with pytest.raises(ValueError):
        res.state[0, 0] = 1
    assert 0.0 <= res.success_rate <= 1.0 and res.replicas == 2
