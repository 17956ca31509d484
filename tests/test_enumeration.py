"""Tests of numerics.enumeration (SPEC 10) against the brute-force oracle and naive references."""

import math
from collections import deque
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest
from scipy.special import ndtr

from numerics.enumeration import (
    MAX_N, brute_force_fixed_points, clusters, decode, default_n_low, encode, fixed_points,
    neighbour_counts, overlap_histogram,
)
from numerics.models import is_fixed_point, sample_chain, sample_core


@pytest.fixture(scope="module")
def pool():
    with ProcessPoolExecutor(max_workers=2) as ex:
        yield ex


def _check_codes(codes, N):
    assert codes.dtype == np.uint64
    assert np.all(codes[1:] > codes[:-1])                       # sorted, distinct
    assert codes.size == 0 or int(codes[-1]) < (1 << N)


# ------------------------------------------------------------------- fixed_points vs brute force

@pytest.mark.parametrize("N", [1, 2, 3, 5, 8, 11, 14])
@pytest.mark.parametrize("J_D", [-0.4, 0.0, 0.3, 1.2])
@pytest.mark.parametrize("kappa", [0.0, 0.5])
def test_fixed_points_equal_brute_force(N, J_D, kappa):
    rng = np.random.default_rng(1000 * N + int(10 * J_D) + int(10 * kappa) + 77)
    J = sample_core(N, rng) if N >= 2 else np.zeros((1, 1))
    ref = brute_force_fixed_points(J, J_D, kappa)
    got = fixed_points(J, J_D, kappa)
    _check_codes(got, N)
    np.testing.assert_array_equal(got, ref)
    # every returned code is a fixed point with margin kappa (independent check via models)
    if got.size:
        assert np.all(is_fixed_point(J, J_D, decode(got, N), kappa))


@pytest.mark.parametrize("n_low, chunks", [(0, 1), (1, 5), (4, 3), (7, 16), (None, 2), (24, 1)])
def test_fixed_points_any_split_and_chunking(n_low, chunks):
    rng = np.random.default_rng(3)
    for N, J_D in [(9, 0.2), (12, -0.1), (13, 0.8)]:
        J = sample_core(N, rng)
        np.testing.assert_array_equal(fixed_points(J, J_D, n_low=n_low, chunks=chunks),
                                      brute_force_fixed_points(J, J_D))


def test_fixed_points_with_executors(pool):
    rng = np.random.default_rng(4)
    for N, J_D, kappa in [(14, 0.4, 0.0), (12, -0.2, 0.1), (16, 0.9, 0.3)]:
        J = sample_core(N, rng)
        ref = brute_force_fixed_points(J, J_D, kappa)
        serial = fixed_points(J, J_D, kappa)
        np.testing.assert_array_equal(serial, ref)
        for n_low, chunks in [(None, None), (8, 3), (6, 32)]:
            np.testing.assert_array_equal(
                fixed_points(J, J_D, kappa, executor=pool, n_low=n_low, chunks=chunks), ref)
        with ThreadPoolExecutor(max_workers=3) as tp:
            np.testing.assert_array_equal(fixed_points(J, J_D, kappa, executor=tp, chunks=5), ref)


def test_fixed_points_larger_instance_default_split():
    # N = 20 > default_n_low + 1: several high configurations per chunk, real pruning phases
    J = sample_core(20, 21)
    assert default_n_low(20) < 19
    np.testing.assert_array_equal(fixed_points(J, 0.6, chunks=3), brute_force_fixed_points(J, 0.6))


@pytest.mark.parametrize("N, L, lam_left, lam_right, eta, J_D", [
    (5, 2, 0.7, None, 0.0, 0.2),
    (4, 3, 0.5, 1.0, 0.0, -0.1),
    (6, 2, 1.5, 0.2, 0.5, 0.0),
])
def test_fixed_points_chain(pool, N, L, lam_left, lam_right, eta, J_D):
    J = sample_chain(N, L, 9, lam_left=lam_left, lam_right=lam_right, eta=eta)
    ref = brute_force_fixed_points(J, J_D)
    np.testing.assert_array_equal(fixed_points(J, J_D), ref)
    np.testing.assert_array_equal(fixed_points(J, J_D, executor=pool, chunks=4, n_low=5), ref)
    assert np.all(is_fixed_point(J, J_D, decode(ref, N * L)))


def test_partially_symmetric_and_pm1_couplings():
    rng = np.random.default_rng(8)
    # eta = 1 (SK-like, many FPs at J_D = 0) and pm1 at J_D = 0.25: for N = 12 the sums s_i h_i are
    # (odd multiples of 1/sqrt(12)) + 0.25, at least 0.038 away from 0, so no rounding ties.
    for J, J_D in [(sample_core(12, rng, eta=1.0), 0.0), (sample_core(12, rng, eta=-0.6), 0.3),
                   (sample_core(12, rng, dist="pm1"), 0.25)]:
        np.testing.assert_array_equal(fixed_points(J, J_D), brute_force_fixed_points(J, J_D))


def test_diagonal_of_J_is_ignored():
    rng = np.random.default_rng(5)
    J = sample_core(10, rng)
    J_diag = J + np.diag(rng.standard_normal(10) * 5)
    np.testing.assert_array_equal(fixed_points(J_diag, 0.3), fixed_points(J, 0.3))
    np.testing.assert_array_equal(brute_force_fixed_points(J_diag, 0.3), fixed_points(J, 0.3))


def test_mirror_symmetry_from_brute_force():
    # the brute force does not use the mirror: its set must be closed under s -> -s (SPEC 10, Z2)
    rng = np.random.default_rng(6)
    for N, J_D, kappa in [(10, 0.5, 0.0), (13, 0.6, 0.2), (12, 1.0, 0.5)]:
        J = sample_core(N, rng)
        ref = brute_force_fixed_points(J, J_D, kappa)
        assert ref.size > 0
        mirrored = np.sort(~ref & np.uint64((1 << N) - 1))
        np.testing.assert_array_equal(mirrored, ref)
        np.testing.assert_array_equal(fixed_points(J, J_D, kappa), ref)


def test_trivial_instances():
    # J = 0: every state has s_i h_i = J_D; all 2^N states are FPs iff J_D > kappa (strict)
    N = 6
    np.testing.assert_array_equal(fixed_points(np.zeros((N, N)), 0.5), np.arange(1 << N, dtype=np.uint64))
    assert fixed_points(np.zeros((N, N)), 0.5, kappa=0.5).size == 0
    assert fixed_points(np.zeros((N, N)), 0.0).size == 0
    np.testing.assert_array_equal(fixed_points(np.zeros((1, 1)), 0.1), np.array([0, 1], dtype=np.uint64))


@pytest.mark.parametrize("J_D", [0.0, 0.5, 1.0])
def test_mean_number_of_fixed_points_matches_exact_formula(J_D):
    # SPEC 4.1: E[#FP] = 2^N Phi(J_D / sqrt((N-1)/N))^N exactly at finite N (Gaussian couplings,
    # J_ij and J_ji independent). 400 instances at N = 12; the test allows 3 standard errors
    # (estimated from the sample), i.e. a false alarm rate ~0.3% for a random seed (fixed here).
    N, n = 12, 400
    rng = np.random.default_rng(2024 + int(10 * J_D))
    counts = np.array([fixed_points(sample_core(N, rng), J_D).size for _ in range(n)], dtype=float)
    expected = 2.0 ** N * ndtr(J_D / math.sqrt((N - 1) / N)) ** N
    se = counts.std(ddof=1) / math.sqrt(n)
    assert abs(counts.mean() - expected) < 3 * se, (counts.mean(), expected, se)


# ------------------------------------------------------------------------------------ bad input

@pytest.mark.parametrize("J, J_D, kwargs, match", [
    (np.zeros((MAX_N + 1, MAX_N + 1)), 0.0, {}, "too large"),
    (np.zeros((0, 0)), 0.0, {}, "at least one"),
    (np.zeros((4, 4)), float("nan"), {}, "J_D must be finite"),
    (np.zeros((4, 4)), 0.0, dict(kappa=float("inf")), "kappa must be finite"),
    (np.zeros((4, 5)), 0.0, {}, "square"),
    (np.zeros(4), 0.0, {}, "square"),
    (np.full((3, 3), np.nan), 0.0, {}, "non-finite"),
    (np.zeros((4, 4)), 0.0, dict(chunks=0), "chunks"),
    (np.zeros((4, 4)), 0.0, dict(n_low=-1), "n_low"),
])
def test_fixed_points_bad_input(J, J_D, kwargs, match):
    with pytest.raises(ValueError, match=match) as info:
        fixed_points(J, J_D, **kwargs)
    assert "\n" not in str(info.value)


def test_brute_force_refuses_large_N():
    with pytest.raises(ValueError, match="too large"):
        brute_force_fixed_points(np.zeros((25, 25)), 0.0)


# ------------------------------------------------------------------------------------- codecs

def test_encode_decode_roundtrip():
    rng = np.random.default_rng(0)
    N = 34
    codes = np.unique(rng.integers(0, 1 << N, size=200, dtype=np.uint64))
    S = decode(codes, N)
    assert S.dtype == np.int8 and S.shape == (codes.size, N)
    assert set(np.unique(S)) <= {-1, 1}
    np.testing.assert_array_equal(encode(S), codes)
    assert list(decode([5], 3)[0]) == [1, -1, 1]
    assert encode([1, 1, -1, -1])[0] == 3
    with pytest.raises(ValueError):
        encode([[1, 0, -1]])


# ------------------------------------------------------------------------------------- overlaps

def _random_codes(rng, N, M):
    return np.unique(rng.integers(0, 1 << N, size=M, dtype=np.uint64))


def test_overlap_histogram_against_double_loop():
    rng = np.random.default_rng(1)
    for N, M in [(10, 1), (10, 60), (20, 150)]:
        codes = _random_codes(rng, N, M)
        ref = np.zeros(N + 1, dtype=np.int64)
        for a in codes.tolist():
            for b in codes.tolist():
                ref[bin(a ^ b).count("1")] += 1
        hist = overlap_histogram(codes, N)
        np.testing.assert_array_equal(hist, ref)
        assert hist.sum() == codes.size ** 2 and hist[0] == codes.size
    assert overlap_histogram(np.empty(0, np.uint64), 5).tolist() == [0] * 6


def test_overlap_histogram_small_blocks(monkeypatch):
    # force many blocks (memory-bounded path) and compare with the single-block result
    import numerics.enumeration as E
    rng = np.random.default_rng(2)
    codes = _random_codes(rng, 16, 500)
    full = overlap_histogram(codes, 16)
    monkeypatch.setattr(E, "_PAIR_BLOCK", 1000)
    np.testing.assert_array_equal(overlap_histogram(codes, 16), full)
    np.testing.assert_array_equal(neighbour_counts(codes, 16, 16).sum(axis=0), full)


def test_neighbour_counts_against_loop():
    rng = np.random.default_rng(3)
    N, codes = 9, _random_codes(rng, 9, 80)
    got = neighbour_counts(codes, N, 3)
    assert got.shape == (codes.size, 4)
    for m, a in enumerate(codes.tolist()):
        d = [bin(a ^ b).count("1") for b in codes.tolist()]
        assert got[m].tolist() == [d.count(k) for k in range(4)]


# ------------------------------------------------------------------------------------- clusters

def _bfs_components(codes, N):
    codes = [int(c) for c in codes]
    pos = {c: i for i, c in enumerate(codes)}
    label = [-1] * len(codes)
    comps = []
    for start in range(len(codes)):
        if label[start] >= 0:
            continue
        comp, queue = [], deque([start])
        label[start] = len(comps)
        while queue:
            i = queue.popleft()
            comp.append(codes[i])
            for j in range(N):
                k = pos.get(codes[i] ^ (1 << j))
                if k is not None and label[k] < 0:
                    label[k] = len(comps)
                    queue.append(k)
        comps.append(frozenset(comp))
    return set(comps)


def test_clusters_against_bfs():
    rng = np.random.default_rng(4)
    for N, M in [(8, 90), (10, 300), (6, 64)]:
        codes = _random_codes(rng, N, M)
        rng.shuffle(codes)                                  # input order must not matter
        labels, sizes = clusters(codes, N)
        assert np.all(sizes[:-1] >= sizes[1:]) and sizes.sum() == codes.size
        np.testing.assert_array_equal(np.bincount(labels, minlength=sizes.size), sizes)
        ours = {frozenset(int(c) for c in codes[labels == k]) for k in range(sizes.size)}
        assert ours == _bfs_components(codes, N)


def test_clusters_of_fixed_points_and_errors():
    J = sample_core(14, 12)
    codes = fixed_points(J, 1.0)
    labels, sizes = clusters(codes, 14)
    assert ({frozenset(int(c) for c in codes[labels == k]) for k in range(sizes.size)}
            == _bfs_components(codes, 14))
    with pytest.raises(ValueError, match="distinct"):
        clusters(np.array([1, 1, 2], dtype=np.uint64), 4)
    labels, sizes = clusters(np.empty(0, np.uint64), 4)
    assert labels.size == 0 and sizes.size == 0
