"""Tests of numerics.models: coupling ensembles (SPEC 3.1-3.3) and the fixed-point test (SPEC 2)."""

import math

import numpy as np
import pytest

from numerics.models import fields, is_fixed_point, margins, sample_chain, sample_core


# ------------------------------------------------------------------------------- sample_core

def test_sample_core_shape_dtype_diagonal_and_seeding():
    J = sample_core(7, 3)
    assert J.shape == (7, 7) and J.dtype == np.float64
    assert np.all(np.diag(J) == 0.0)
    assert np.array_equal(J, sample_core(7, np.random.default_rng(3)))       # int seed == Generator
    assert np.array_equal(J, sample_core(7, np.random.SeedSequence(3)))
    assert not np.array_equal(J, sample_core(7, 4))


def _offdiag_stack(N, n, eta=0.0, dist="gaussian", seed=0):
    rng = np.random.default_rng(seed)
    Js = np.stack([sample_core(N, rng, eta=eta, dist=dist) for _ in range(n)])
    iu = np.triu_indices(N, 1)
    upper = Js[:, iu[0], iu[1]].ravel()
    lower = Js[:, iu[1], iu[0]].ravel()
    return Js, upper, lower


@pytest.mark.parametrize("eta", [-1.0, -0.5, 0.0, 0.3, 0.8, 1.0])
def test_sample_core_statistics(eta):
    N, n = 40, 300
    Js, up, lo = _offdiag_stack(N, n, eta=eta, seed=11)
    assert np.all(Js[:, np.arange(N), np.arange(N)] == 0.0)
    z = np.sqrt(N) * np.concatenate([up, lo])          # should be standard normal entries
    m = z.size                                          # 468,000 entries (pairs are correlated)
    # mean: the entries come in correlated pairs, so the SE is at most sqrt(2/m) ~ 2.1e-3;
    # 5 SE = 0.0105 -> a false failure has probability < 1e-6.
    assert abs(z.mean()) < 5 * math.sqrt(2.0 / m)
    # variance of N(0,1) entries: SE of the sample variance is sqrt(2/m_eff) with m_eff >= m/2,
    # i.e. <= 2.9e-3; 5 SE = 0.015.
    assert abs(z.var() - 1.0) < 5 * math.sqrt(4.0 / m)
    # corr(J_ij, J_ji) = eta: over p = 234,000 independent pairs the SE of the sample correlation is
    # (1 - eta^2)/sqrt(p) <= 2.1e-3; tolerance 0.01 (~5 SE) plus 1e-12 for eta = +-1 (exact).
    r = np.corrcoef(up, lo)[0, 1]
    assert abs(r - eta) < 0.01 * (1 - eta ** 2) + 1e-12
    if abs(eta) == 1.0:                                 # exactly (anti)symmetric
        assert np.allclose(Js, eta * np.transpose(Js, (0, 2, 1)), atol=1e-15)


def test_sample_core_pm1():
    N = 9
    Js, up, lo = _offdiag_stack(N, 400, dist="pm1", seed=5)
    vals = np.concatenate([up, lo])
    assert np.all(np.abs(vals) == 1.0 / math.sqrt(N))
    assert np.all(Js[:, np.arange(N), np.arange(N)] == 0.0)
    # fraction of positive entries: 28,800 fair coins, SE = 0.5/sqrt(28800) = 2.9e-3; 5 SE = 0.015
    assert abs(np.mean(vals > 0) - 0.5) < 0.015
    # J_ij, J_ji independent: sample correlation SE = 1/sqrt(14400) = 8.3e-3; 5 SE = 0.042
    assert abs(np.corrcoef(up, lo)[0, 1]) < 0.042


@pytest.mark.parametrize("kwargs, match", [
    (dict(N=1), "N must be >= 2"),
    (dict(N=0), "N must be >= 2"),
    (dict(N=2.5), "N must be an integer"),
    (dict(N=5, eta=1.5), "eta must lie in"),
    (dict(N=5, eta=float("nan")), "eta must be finite"),
    (dict(N=5, dist="cauchy"), "unknown dist"),
    (dict(N=5, dist="pm1", eta=0.5), "pm1"),
])
def test_sample_core_bad_input(kwargs, match):
    N = kwargs.pop("N")
    with pytest.raises(ValueError, match=match):
        sample_core(N, 0, **kwargs)


# ------------------------------------------------------------------------------- sample_chain

def test_sample_chain_structure():
    N, L = 4, 3
    J = sample_chain(N, L, 7, lam_left=0.5, lam_right=1.25)
    assert J.shape == (L * N, L * N)
    assert np.all(np.diag(J) == 0.0)
    I = np.eye(N)
    for l in range(L):
        for m in range(L):
            blk = J[l * N:(l + 1) * N, m * N:(m + 1) * N]
            if m == l - 1:
                assert np.array_equal(blk, 0.5 * I)
            elif m == l + 1:
                assert np.array_equal(blk, 1.25 * I)
            elif m != l:
                assert np.all(blk == 0.0)
    # diagonal blocks: independent core draws from the same stream
    rng = np.random.default_rng(7)
    for l in range(L):
        assert np.array_equal(J[l * N:(l + 1) * N, l * N:(l + 1) * N], sample_core(N, rng))


def test_sample_chain_defaults_and_errors():
    J = sample_chain(3, 2, 1, lam_left=0.3)
    assert np.array_equal(J[3:, :3], 0.3 * np.eye(3)) and np.array_equal(J[:3, 3:], 0.3 * np.eye(3))
    assert np.array_equal(sample_chain(5, 1, 2, lam_left=1.0), sample_core(5, 2))
    with pytest.raises(ValueError, match="lam_left must be finite"):
        sample_chain(3, 2, 0, lam_left=float("nan"))
    with pytest.raises(ValueError, match="lam_right must be finite"):
        sample_chain(3, 2, 0, lam_left=1.0, lam_right=float("inf"))
    with pytest.raises(ValueError, match="L must be >= 1"):
        sample_chain(3, 0, 0, lam_left=1.0)


# ------------------------------------------------------------------------------- fields & FP test

def test_fields_against_loop_and_diagonal_ignored():
    rng = np.random.default_rng(2)
    N, J_D = 6, 0.7
    J = rng.standard_normal((N, N))                    # a non-zero diagonal must be ignored
    S = rng.choice([-1, 1], size=(5, N)).astype(np.int8)
    H = fields(J, J_D, S)
    for r in range(5):
        for i in range(N):
            ref = sum(J[i, j] * S[r, j] for j in range(N) if j != i) + J_D * S[r, i]
            assert H[r, i] == pytest.approx(ref, abs=1e-12)
    assert np.allclose(fields(J, J_D, S[0]), H[0], atol=0)
    assert np.allclose(margins(J, J_D, S), S * H, atol=0)


def test_is_fixed_point_strict_and_vectorised():
    N = 4
    J = np.zeros((N, N))
    s = np.array([1, -1, 1, 1])
    assert is_fixed_point(J, 1.0, s) is True              # s_i h_i = J_D = 1 > 0
    assert is_fixed_point(J, 1.0, s, kappa=1.0) is False  # strict: 1 > 1 fails
    assert is_fixed_point(J, 1.0, s, kappa=0.999) is True
    assert is_fixed_point(J, 0.0, s) is False             # h = 0: 0 > 0 fails
    S = np.array([[1, 1, 1, 1], [1, -1, 1, -1]])
    J = np.full((N, N), 0.5)                              # ferromagnetic: all-up is a FP
    np.testing.assert_array_equal(is_fixed_point(J, 0.0, S), [True, False])


def test_field_functions_bad_input():
    with pytest.raises(ValueError, match="square"):
        fields(np.zeros((3, 4)), 0.0, np.ones(3))
    with pytest.raises(ValueError, match="J_D must be finite"):
        fields(np.zeros((3, 3)), float("nan"), np.ones(3))
    with pytest.raises(ValueError, match="s must have shape"):
        fields(np.zeros((3, 3)), 0.0, np.ones(4))
    with pytest.raises(ValueError, match="kappa must be finite"):
        is_fixed_point(np.zeros((3, 3)), 0.0, np.ones(3), kappa=float("inf"))
