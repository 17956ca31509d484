"""Exhaustive enumeration of the fixed points of one instance (SPEC 10), and tools on the codes.

A configuration s in {-1,+1}^N is stored as a uint64 **code** with bit j = 1 <=> s_j = +1 (SPEC 10).
It is a fixed point with margin kappa when, for every neuron i (SPEC 3.1),

    s_i h_i > kappa,     h_i = sum_{j != i} J_ij s_j + J_D s_i,

i.e. s_i sum_{j != i} J_ij s_j > kappa - J_D = -J~. The diagonal of ``J`` is ignored (J_D is the self
coupling). Chains (SPEC 3.3) are enumerated as one (L*N)-spin network built by
:func:`numerics.models.sample_chain`.

Algorithm of :func:`fixed_points` ("split and prune", SPEC 10)
----------------------------------------------------------------
Spins 0..n_low-1 form the *low block* (configuration index l, 2^n_low of them), spins n_low..N-1 the
*high block* (index u). The field splits as h_i = F[i, l] + c_i(u) + J_D s_i, where

    F[:, l] = sum_{j < n_low} J[:, j] s_j(l),     c(u) = sum_{j >= n_low} J[:, j] s_j(u),

and both tables are built (once per process, float64) by the doubling construction
F_k = [F_{k-1} - J[:, k-1], F_{k-1} + J[:, k-1]], never by BLAS. By induction the column of a
mirrored configuration is then *exactly* the negation (IEEE negation commutes with rounding), so
the Z2 mirror s -> -s maps the decision for (l, u) to the decision for (~l, ~u) bit for bit: only
the high configurations with the top bit 0 (s_{N-1} = -1) are enumerated and every fixed point
found is mirrored (code -> ~code & (2^N - 1)).

Each neuron is tested as a one-sided threshold on a precomputed row, with a = kappa - J_D:

    s_i = +1 :  F[i, l] >  a - c_i(u)
    s_i = -1 :  F[i, l] < -a - c_i(u)          (-a is computed as J_D - kappa, exactly -(kappa - J_D))

The columns of the table are sorted by the top neuron's row, whose spin is -1 for every enumerated
u, so its test is a ``searchsorted`` (the survivors are a prefix of the columns). The other
high-block neurons (spin fixed by u) are tested on whole rows with a boolean-mask AND while many
columns survive, then on the surviving column indices (``flatnonzero`` + ``take``); the low-block
neurons (spin = bit i of l) are tested last on the few survivors, through the signed row
T[i, l] = s_i(l) F[i, l] and T > a - s_i(l) c_i(u) (the same inequalities as above), pooled over
many u so that the per-call overhead is amortised.

Ties. The inequalities are strict (SPEC 3.1). The partial sums are rounded in a different order
from a direct ``J @ s`` (the discrepancy is a few ulps, |delta| <~ N * 1e-16), so a configuration with
some |s_i h_i - kappa| below ~1e-13 may be classified either way (differently from
:func:`brute_force_fixed_points`). With continuous couplings the chance that this happens anywhere
in an instance is at most ~ 2^N * N * 1e-16 (3e-6 at N = 30), and realistically ~ E[#FP] * N * 1e-15,
since the other N - 1 neurons must pass too. With +-1/sqrt(N) couplings exact ties are possible
(e.g. J_D = 0 with sums that cancel) and each method follows its own rounding. The result itself is
deterministic: the same J, J_D, kappa and n_low give the same codes for every executor and chunking.

Parallelism. The u-range is split into chunks, each an independent task
``_enumerate_chunk(J, J_D, kappa, n_low, u_start, u_stop)`` that (re)builds the tables itself and
caches the last one per process (keyed by a hash of J, independent of J_D and kappa), so any
``concurrent.futures.Executor`` works (``ProcessPoolExecutor``, Dask's ``client.get_executor()``),
without initializers. No BLAS is used, so worker processes need no thread capping. Memory per
process: about N * (2^n_low + 2^(N - n_low)) * 8 bytes for the tables (N = 30, n_low = 17: 33 MB).
The default n_low = 17 keeps a table row (1 MB) in L2 cache while the per-u Python overhead stays
small; on a 2-core EPYC, N = 28..32 ran fastest with n_low = 16..17 (benchmarks/enumeration.py).
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import NamedTuple

import numpy as np

from numerics.models import offdiag_couplings
from toolkit.checks import finite_scalar

__all__ = [
    "MAX_N", "fixed_points", "brute_force_fixed_points", "decode", "encode", "overlap_histogram",
    "neighbour_counts", "clusters", "default_n_low", "clear_cache",
]

MAX_N = 34                 # 2^34 states is the largest problem accepted
_MAX_N_LOW = 24            # table of N * 2^24 float64 at most
_SWITCH = 0.3              # leave the whole-row mask phase when this fraction of columns survives
_BRUTE_MAX_N = 24
_SWITCH_LOW = 0.6         # same for the pooled low-block tests
_LOW_BATCH = 1 << 18      # pooled survivors per low-block pass


# ----------------------------------------------------------------------------------------- checks

def _offdiag(J, max_n: int) -> np.ndarray:
    """Validated float64 copy of J with a zero diagonal (C-contiguous), at most ``max_n`` neurons."""
    J = offdiag_couplings(J)
    if J.shape[0] > max_n:
        raise ValueError(f"N = {J.shape[0]} is too large for exhaustive enumeration here "
                         f"(at most {max_n})")
    return J


def default_n_low(N: int) -> int:
    """Size of the low block used by :func:`fixed_points` when ``n_low`` is None.

    min(N - 1, 17): rows of 2^17 float64 (1 MB) stay in L2 cache; tuned on a 2-core EPYC for
    N = 26..32 (n_low = 16..17 best, 20 about 1.5x slower; see benchmarks/enumeration.py).
    """
    return max(0, min(int(N) - 1, 17))


def _check_n_low(n_low, N: int) -> int:
    if n_low is None:
        return default_n_low(N)
    if isinstance(n_low, bool) or not isinstance(n_low, (int, np.integer)):
        raise ValueError(f"n_low must be an integer, got {n_low!r}")
    if not 0 <= n_low <= _MAX_N_LOW:
        raise ValueError(f"n_low must lie in [0, {_MAX_N_LOW}], got {n_low}")
    return min(int(n_low), N - 1)


# ----------------------------------------------------------------------------------------- tables

def _doubling(cols: np.ndarray) -> np.ndarray:
    """Sum_j cols[:, j] s_j for all 2^k sign vectors s (column index: bit j = 1 <=> s_j = +1).

    Built as F_k = [F_{k-1} - cols[:, k-1], F_{k-1} + cols[:, k-1]], so that the column of the
    complementary index is exactly the negation. Shape (n_rows, 2^k), C-contiguous float64.
    """
    n, k = cols.shape
    F = np.empty((n, 1 << k))
    F[:, 0] = 0.0
    for j in range(k):
        half = 1 << j
        col = cols[:, j:j + 1]
        np.add(F[:, :half], col, out=F[:, half:2 * half])
        np.subtract(F[:, :half], col, out=F[:, :half])
    return F


class _Table(NamedTuple):
    N: int
    n_low: int
    rows: np.ndarray    # (N, 2^n_low): columns sorted by the top neuron's row; high rows F, low rows T
    key: np.ndarray     # (2^n_low,) sorted F[N-1, :]
    perm: np.ndarray    # (2^n_low,) int64: column -> low configuration l
    C: np.ndarray       # (N, 2^(N - n_low)) high-block contributions c(u)


_cache: dict = {}
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Drop the per-process table cache (it holds one table of ~N * 2^n_low * 8 bytes)."""
    with _cache_lock:
        _cache.clear()


def _build_table(J_off: np.ndarray, n_low: int) -> _Table:
    N = J_off.shape[0]
    top = N - 1
    F = _doubling(J_off[:, :n_low])
    C = _doubling(J_off[:, n_low:])
    perm = np.argsort(F[top], kind="stable")
    key = F[top][perm]
    F[top] = key
    for i in range(N - 1):
        F[i] = F[i][perm]
        if i < n_low:      # signed row T = s_i(l) F[i, l]: negate where bit i of l is 0
            np.negative(F[i], out=F[i], where=((perm >> i) & 1) == 0)
    return _Table(N, n_low, F, key, perm, C)


def _get_table(J_off: np.ndarray, n_low: int) -> _Table:
    digest = hashlib.blake2b(J_off.tobytes(), digest_size=16).hexdigest()
    cache_key = (J_off.shape[0], n_low, digest)
    with _cache_lock:
        table = _cache.get(cache_key)
        if table is None:
            _cache.clear()                     # keep one table per process
            table = _build_table(J_off, n_low)
            _cache[cache_key] = table
    return table


# ------------------------------------------------------------------------------------ enumeration

def _enumerate_chunk(J, J_D: float, kappa: float, n_low: int, u_start: int, u_stop: int) -> np.ndarray:
    """Fixed points with high configuration u in [u_start, u_stop) (top bit of u must be 0).

    Self-contained task for any executor: validates J, gets the (cached) tables, returns the
    sorted uint64 codes l | (u << n_low) of the fixed points found (mirrors *not* included).
    """
    J_off = _offdiag(J, MAX_N)
    N = J_off.shape[0]
    if not 0 <= n_low < N:
        raise ValueError(f"n_low must lie in [0, N - 1], got {n_low}")
    t = _get_table(J_off, n_low)
    h = N - n_low
    if not 0 <= u_start <= u_stop <= (1 << (h - 1)):
        raise ValueError(f"bad u range [{u_start}, {u_stop}) for {h} high spins")
    a = float(kappa) - float(J_D)          # s_i = +1 threshold offset
    b = float(J_D) - float(kappa)          # s_i = -1 threshold offset, exactly -a
    rows, key, perm = t.rows, t.key, t.perm
    top = N - 1
    K = 1 << n_low

    us = np.arange(u_start, u_stop, dtype=np.int64)
    if us.size == 0:
        return np.empty(0, dtype=np.uint64)
    C = t.C[:, us]                                               # (N, n_u)
    # high neurons other than the top one: spin fixed by u, threshold per (neuron, u)
    hi = np.arange(n_low, N - 1)
    s_hi = ((us[None, :] >> (hi - n_low)[:, None]) & 1).astype(bool)   # (n_hi, n_u)
    thr_hi = np.where(s_hi, a - C[hi], b - C[hi])
    thr_top = b - C[top]
    # T > a - s c: thresholds a + c (bit 0, s = -1) and a - c (bit 1, s = +1), interleaved by u
    lo_thr = np.stack([a + C[:n_low], a - C[:n_low]], axis=-1).reshape(n_low, 2 * us.size)
    kk_all = np.searchsorted(key, thr_top, side="left")         # top neuron: F < thr  <=> prefix

    mask = np.empty(K, dtype=bool)
    tmp = np.empty(K, dtype=bool)
    out = []
    pend_idx, pend_k, n_pend = [], [], 0
    n_hi = hi.size
    for k in range(us.size):
        kk = int(kk_all[k])
        if kk == 0:
            continue
        # --- high neurons, whole-row mask phase (while many columns survive)
        j = 0
        m = mask[:kk]
        alive = kk
        while j < n_hi and alive > _SWITCH * kk:
            op = np.greater if s_hi[j, k] else np.less
            if j == 0:
                op(rows[hi[j], :kk], thr_hi[j, k], out=m)
            else:
                op(rows[hi[j], :kk], thr_hi[j, k], out=tmp[:kk])
                np.logical_and(m, tmp[:kk], out=m)
            alive = int(np.count_nonzero(m))
            j += 1
            if alive == 0:
                break
        if alive == 0:
            continue
        idx = np.flatnonzero(m) if j else np.arange(kk)
        # --- remaining high neurons on the surviving columns
        while j < n_hi and idx.size:
            v = rows[hi[j]].take(idx)
            keep = v > thr_hi[j, k] if s_hi[j, k] else v < thr_hi[j, k]
            idx = idx.compress(keep)
            j += 1
        if idx.size == 0:
            continue
        # --- low neurons: batched over many u (few survivors per u, per-call overhead dominates)
        pend_idx.append(idx)
        pend_k.append(np.full(idx.size, k, dtype=np.int64))
        n_pend += idx.size
        if n_pend >= _LOW_BATCH:
            out.append(_low_phase(rows, perm, lo_thr, n_low, us, pend_idx, pend_k))
            pend_idx, pend_k, n_pend = [], [], 0
    if pend_idx:
        out.append(_low_phase(rows, perm, lo_thr, n_low, us, pend_idx, pend_k))
    if not out:
        return np.empty(0, dtype=np.uint64)
    codes = np.concatenate(out)
    codes.sort()
    return codes


def _low_phase(rows, perm, lo_thr, n_low, us, pend_idx, pend_k) -> np.ndarray:
    """Test the low-block neurons on survivors (column idx, u position k) pooled over many u.

    The pass/fail flags are AND-ed into a mask and the arrays compressed only once the mask has
    dropped below _SWITCH_LOW of them (cheap when most survive, i.e. large J_D - kappa).
    """
    idx = np.concatenate(pend_idx)
    kc2 = np.concatenate(pend_k) << 1
    ls = perm.take(idx)
    ok = None
    for i in range(n_low):
        sel = kc2 | ((ls >> i) & 1)                          # spin of neuron i is bit i of l
        t = rows[i].take(idx) > lo_thr[i].take(sel)
        ok = t if ok is None else np.logical_and(ok, t, out=ok)
        n_ok = int(np.count_nonzero(ok))
        if n_ok < _SWITCH_LOW * ok.size or i == n_low - 1:
            keep = np.flatnonzero(ok)
            idx, ls, kc2 = idx.take(keep), ls.take(keep), kc2.take(keep)
            ok = None
            if idx.size == 0:
                break
    return ls.astype(np.uint64) | (us.take(kc2 >> 1).astype(np.uint64) << np.uint64(n_low))


def _default_workers(executor) -> int:
    n = getattr(executor, "_max_workers", None)
    if isinstance(n, int) and n > 0:
        return n
    return os.cpu_count() or 1


def fixed_points(J, J_D: float, kappa: float = 0.0, *, executor=None, n_low: int | None = None,
                 chunks: int | None = None) -> np.ndarray:
    """All fixed points with margin kappa of one instance, as sorted uint64 codes (SPEC 10).

    s is returned iff s_i h_i > kappa for all i, h_i = sum_{j != i} J_ij s_j + J_D s_i (the diagonal of
    J is ignored); code bit j = 1 <=> s_j = +1. See the module docstring for the split-and-prune
    algorithm, the exact Z2 mirror and the tie convention (strict inequality; configurations within
    ~1e-13 of a threshold can go either way).

    Parameters
    ----------
    J : (N, N) array, N <= 34, finite.
    J_D, kappa : self coupling and margin (finite).
    executor : a ``concurrent.futures.Executor`` (or anything with ``submit``); None runs serially.
    n_low : low-block size (default :func:`default_n_low`; clipped to N - 1).
    chunks : number of tasks over the high configurations (default 1 serially, else 4 per worker).

    The result is identical for every executor and chunking.
    """
    J_off = _offdiag(J, MAX_N)
    N = J_off.shape[0]
    J_D = finite_scalar("J_D", J_D)
    kappa = finite_scalar("kappa", kappa)
    n_low = _check_n_low(n_low, N)
    n_u = 1 << (N - n_low - 1)
    if chunks is None:
        chunks = 1 if executor is None else 4 * _default_workers(executor)
    if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)) or chunks < 1:
        raise ValueError(f"chunks must be a positive integer, got {chunks!r}")
    bounds = np.unique(np.linspace(0, n_u, min(int(chunks), n_u) + 1).round().astype(np.int64))
    tasks = [(int(lo), int(hi)) for lo, hi in zip(bounds[:-1], bounds[1:])]
    if executor is None:
        parts = [_enumerate_chunk(J_off, J_D, kappa, n_low, lo, hi) for lo, hi in tasks]
    else:
        futures = [executor.submit(_enumerate_chunk, J_off, J_D, kappa, n_low, lo, hi)
                   for lo, hi in tasks]
        parts = [f.result() for f in futures]
    # each part is sorted and the u-ranges ascend, so `half` (top bit 0) is sorted; its mirror image
    # (top bit 1) reversed is sorted too and follows it
    half = np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)
    full_mask = np.uint64((1 << N) - 1)
    return np.concatenate([half, np.bitwise_and(np.invert(half[::-1]), full_mask)])


def brute_force_fixed_points(J, J_D: float, kappa: float = 0.0, *, chunk: int = 1 << 14) -> np.ndarray:
    """Reference enumeration (test oracle, plain baseline; intended for N <= 20, refused above 24).

    Visits all 2^N states in chunks: S = spins (N, chunk), h = J_off @ S + J_D S, keep the states with
    all(S * h > kappa). No mirror, no pruning. Returns the sorted uint64 codes.
    """
    J_off = _offdiag(J, _BRUTE_MAX_N)
    N = J_off.shape[0]
    J_D = finite_scalar("J_D", J_D)
    kappa = finite_scalar("kappa", kappa)
    total = 1 << N
    out = []
    shifts = np.arange(N, dtype=np.uint64)
    for start in range(0, total, chunk):
        codes = np.arange(start, min(start + chunk, total), dtype=np.uint64)
        S = ((codes[None, :] >> shifts[:, None]) & np.uint64(1)).astype(np.float64) * 2.0 - 1.0
        H = J_off @ S + J_D * S
        ok = np.all(S * H > kappa, axis=0)
        out.append(codes[ok])
    return np.sort(np.concatenate(out))


# ---------------------------------------------------------------------------------------- codecs

def _as_codes(codes) -> np.ndarray:
    c = np.asarray(codes)
    if c.ndim != 1:
        raise ValueError(f"codes must be a 1-D array, got shape {c.shape}")
    if c.size and not np.issubdtype(c.dtype, np.integer):
        raise ValueError(f"codes must be integers, got dtype {c.dtype}")
    if c.size and np.issubdtype(c.dtype, np.signedinteger) and c.min() < 0:
        raise ValueError("codes must be non-negative")
    return c.astype(np.uint64, copy=False)


def _check_code_N(N) -> int:
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or not 1 <= N <= 64:
        raise ValueError(f"N must be an integer in [1, 64], got {N!r}")
    return int(N)


def decode(codes, N: int) -> np.ndarray:
    """Codes -> spins: int8 array (M, N) with s_j = +1 iff bit j of the code is set (SPEC 10)."""
    c = _as_codes(codes)
    N = _check_code_N(N)
    bits = (c[:, None] >> np.arange(N, dtype=np.uint64)[None, :]) & np.uint64(1)
    return (bits.astype(np.int8) * np.int8(2) - np.int8(1)).astype(np.int8)


def encode(spins) -> np.ndarray:
    """Spins (M, N) or (N,) in {-1, +1} -> uint64 codes (bit j = 1 <=> s_j = +1)."""
    s = np.asarray(spins)
    if s.ndim == 1:
        s = s[None, :]
    if s.ndim != 2:
        raise ValueError(f"spins must have shape (N,) or (M, N), got {s.shape}")
    _check_code_N(s.shape[1])
    if s.size and not np.all((s == 1) | (s == -1)):
        raise ValueError("spins must be +1 or -1")
    weights = np.uint64(1) << np.arange(s.shape[1], dtype=np.uint64)
    return np.bitwise_or.reduce(np.where(s > 0, weights[None, :], np.uint64(0)), axis=1).astype(np.uint64)


# --------------------------------------------------------------------------------------- overlaps

_PAIR_BLOCK = 1 << 22      # elements of one block of pairwise XORs (32 MB of uint64)


def overlap_histogram(codes, N: int) -> np.ndarray:
    """Number of ORDERED pairs (a, b), a == b included, at each Hamming distance k = 0..N (SPEC 10).

    Distance = popcount(a XOR b) (``np.bitwise_count``); overlap q = 1 - 2k/N, d = k/N. The sum of the
    histogram is M^2. Work is O(M^2) in blocks of ~4M pairs (memory bounded); by symmetry only the
    pairs a <= b (in array order) are formed and the off-diagonal blocks are counted twice.
    """
    c = _as_codes(codes)
    N = _check_code_N(N)
    M = c.size
    hist = np.zeros(N + 1, dtype=np.int64)
    if M == 0:
        return hist
    B = max(1, min(M, _PAIR_BLOCK // M))
    for i0 in range(0, M, B):
        i1 = min(i0 + B, M)
        blk = c[i0:i1]
        d = np.bitwise_count(blk[:, None] ^ blk[None, :])
        hist += np.bincount(d.ravel(), minlength=N + 1)[:N + 1]
        if i1 < M:
            d = np.bitwise_count(blk[:, None] ^ c[None, i1:])
            hist += 2 * np.bincount(d.ravel(), minlength=N + 1)[:N + 1]
    return hist


def neighbour_counts(codes, N: int, max_distance: int) -> np.ndarray:
    """For each code, the number of codes (itself included) at Hamming distance 0..max_distance.

    Returns int64 (M, max_distance + 1); computed in blocks of ~4M pairs.
    """
    c = _as_codes(codes)
    N = _check_code_N(N)
    if isinstance(max_distance, bool) or not isinstance(max_distance, (int, np.integer)) \
            or not 0 <= max_distance <= N:
        raise ValueError(f"max_distance must be an integer in [0, {N}], got {max_distance!r}")
    D = int(max_distance) + 1
    M = c.size
    out = np.zeros((M, D), dtype=np.int64)
    if M == 0:
        return out
    B = max(1, min(M, _PAIR_BLOCK // M))
    for i0 in range(0, M, B):
        i1 = min(i0 + B, M)
        d = np.minimum(np.bitwise_count(c[i0:i1, None] ^ c[None, :]), D).astype(np.int64)
        d += (np.arange(i1 - i0, dtype=np.int64) * (D + 1))[:, None]
        out[i0:i1] = np.bincount(d.ravel(), minlength=(i1 - i0) * (D + 1)).reshape(i1 - i0, D + 1)[:, :D]
    return out


def clusters(codes, N: int) -> tuple[np.ndarray, np.ndarray]:
    """Connected components of the codes under single spin flips (adjacent iff Hamming distance 1).

    Returns (labels, sizes): ``labels[m]`` is the component of ``codes[m]`` and ``sizes[k]`` the size of
    component k, with components numbered by decreasing size (ties: by smallest code). Codes must be
    distinct. Neighbours are found as code ^ (1 << j) by ``searchsorted`` in the sorted codes; the
    components by ``scipy.sparse.csgraph.connected_components``.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    c = _as_codes(codes)
    N = _check_code_N(N)
    M = c.size
    if M == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    order = np.argsort(c, kind="stable")
    sc = c[order]
    if np.any(sc[1:] == sc[:-1]):
        raise ValueError("codes must be distinct")
    if int(sc[-1]) >> N:
        raise ValueError(f"codes have bits above N = {N}")
    src, dst = [], []
    for j in range(N):
        nb = sc ^ np.uint64(1 << j)
        pos = np.searchsorted(sc, nb)
        ok = pos < M
        ok[ok] = sc[pos[ok]] == nb[ok]
        ok &= nb > sc                           # each edge once
        src.append(np.flatnonzero(ok))
        dst.append(pos[ok])
    src = np.concatenate(src)
    dst = np.concatenate(dst)
    graph = coo_matrix((np.ones(src.size, dtype=np.int8), (src, dst)), shape=(M, M)).tocsr()
    n_comp, lab_sorted = connected_components(graph, directed=False)
    sizes = np.bincount(lab_sorted, minlength=n_comp)
    first = np.full(n_comp, M, dtype=np.int64)
    np.minimum.at(first, lab_sorted, np.arange(M))       # smallest code of each component
    rank_order = np.lexsort((first, -sizes))             # by size desc, then smallest code
    relabel = np.empty(n_comp, dtype=np.int64)
    relabel[rank_order] = np.arange(n_comp)
    labels = np.empty(M, dtype=np.int64)
    labels[order] = relabel[lab_sorted]
    return labels, sizes[rank_order].astype(np.int64)
