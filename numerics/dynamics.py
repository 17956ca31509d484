"""Zero-temperature relaxation dynamics of the core model and of the L-module chain (SPEC 8).

Conventions are those of :mod:`numerics.models` (SPEC 2, 3.1, 3.3): spins s_i = +-1, the field on
neuron i is h_i = sum_{j != i} J_ij s_j + J_D s_i (row i of ``J`` feeds neuron i, the diagonal of ``J``
is ignored and the self coupling ``J_D`` is passed separately), and a configuration is a fixed point
with margin kappa when s_i h_i > kappa for every i (strict; :func:`is_fixed_point`). The L-module chain
needs nothing special: :func:`numerics.models.sample_chain` returns its (LN, LN) coupling matrix and the
concatenated state (module l at indices l*N .. (l+1)*N - 1), which every rule here accepts as is.

**Update rule and ties.** Spin i is *unstable* when s_i h_i <= kappa, and every rule changes unstable
spins only, by flipping them:

    s_i <- s_i if s_i h_i > kappa else -s_i,   i.e. s_i <- sign(h_i - kappa s_i) with sign(0) -> flip.

For kappa = 0 this is s_i <- sign(h_i) (SPEC 8) except at an exact tie h_i = 0 (probability zero for
Gaussian couplings), where SPEC 2's sign(0) = +1 would leave s_i = +1 in place although s_i h_i = 0 is
not stable. Flipping instead makes "no spin can change" *equivalent* to :func:`is_fixed_point`. For
kappa > 0 the rule is the kappa = 0 rule with J_D replaced by J~ = J_D - kappa (h_i - kappa s_i is the
field with self coupling J~), the same reduction the theory uses.

**Rules** (one function each, all batched over R replicas that share the couplings):

- :func:`relax_async`: random-sequential dynamics in the exact fast form of SPEC 8.1, with
  :func:`relax_async_naive` (the plain rule) as reference and baseline;
- :func:`relax_sync`: Little dynamics, all spins at once, with 2-cycle detection (SPEC 8.2);
- :func:`relax_partial_sync`: each unstable spin flips with probability ``p_update`` (SPEC 8.3);
- :func:`relax_layer_sequential`: chain modules in order, each synchronously (SPEC 8.4).

Time is counted in sweeps: N micro-steps of the random-sequential rule, or one parallel update (one pass
over all layers for the layer-sequential rule). Each returns a :class:`Relaxation`; ``.converged`` is
:func:`is_fixed_point` of the final state, recomputed from scratch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from numerics.models import check_couplings, is_fixed_point
from toolkit.checks import finite_scalar, integer
from toolkit.rng import make_rng

__all__ = [
    "Relaxation", "flip_unstable", "geometric_wait", "is_fixed_point", "relax_async",
    "relax_async_naive", "relax_layer_sequential", "relax_partial", "relax_partial_sync", "relax_sync",
    "unstable_mask",
]

_TRIALS = 32             # relax_async: naive micro-steps tried per step before the exact pick
_ROW_LOOP_MIN_N = 512    # relax_async: per-row in-place field updates from this N up, else a gather


# ------------------------------------------------------------------------------------- the result

@dataclass(frozen=True)
class Relaxation:
    """Outcome of a relaxation run, one row (or entry) per replica.

    state      (R, N) int8, the final spins.
    converged  (R,) bool: the final state is a fixed point (s_i h_i > kappa for all i, fields
               recomputed from scratch with :func:`is_fixed_point`).
    sweeps     (R,) float64: time at which the run ended, in sweeps. For a converged replica the time
               of its last flip; for a 2-cycle the step that closed it; otherwise ``max_sweeps``.
    flips      (R,) int64: number of spin flips performed.
    cycle2     (R,) bool: a synchronous 2-cycle s(t+1) = s(t-1) != s(t) was found (deterministic
               rules only; always False for the stochastic rules).
    unstable   (R, max_sweeps + 1) int32 or None: number of unstable spins at t = 0, 1, ..., max_sweeps
               sweeps (0 after convergence; a detected 2-cycle is continued periodically). Only with
               ``record=True``.
    """

    rule: str
    state: np.ndarray
    converged: np.ndarray
    sweeps: np.ndarray
    flips: np.ndarray
    cycle2: np.ndarray
    unstable: np.ndarray | None
    max_sweeps: int
    kappa: float

    @property
    def replicas(self) -> int:
        return int(self.state.shape[0])

    @property
    def success_rate(self) -> float:
        """Fraction of replicas that reached a fixed point."""
        return float(np.mean(self.converged))

    @property
    def message(self) -> str:
        R = self.replicas
        n_fp, n_c2 = int(self.converged.sum()), int(self.cycle2.sum())
        msg = f"{self.rule}: {n_fp}/{R} replicas reached a fixed point"
        if n_fp:
            msg += f" (median {np.median(self.sweeps[self.converged]):.3g} sweeps)"
        if n_c2:
            msg += f", {n_c2} in a 2-cycle"
        rest = R - n_fp - n_c2
        if rest:
            msg += f", {rest} stopped at max_sweeps = {self.max_sweeps}"
        return msg

    def __str__(self) -> str:
        return self.message


# ------------------------------------------------------------------------------- the equations

def unstable_mask(s, h, kappa: float = 0.0) -> np.ndarray:
    """Unstable spins U = {i : s_i h_i <= kappa} (SPEC 8; complement of the strict FP test, SPEC 3.1).

    ``s`` and ``h`` have the same shape ((N,) or (R, N)); returns a bool array of that shape.
    """
    return np.multiply(s, h) <= kappa


def flip_unstable(s, h, kappa: float = 0.0) -> np.ndarray:
    """One parallel update s_i <- sign(h_i - kappa s_i), sign(0) -> flip (SPEC 8.2; see module doc).

    Equivalently s_i <- -s_i on U = {i : s_i h_i <= kappa} and s_i unchanged elsewhere.
    """
    s = np.asarray(s, dtype=np.float64)
    return np.where(unstable_mask(s, h, kappa), -s, s)


def geometric_wait(n_unstable, N: int, rng: np.random.Generator) -> np.ndarray:
    """Micro-steps to the next effective flip of random-sequential dynamics (SPEC 8.1).

    Each micro-step picks i uniformly among N spins, so the first pick in U comes after
    G ~ Geometric(|U| / N) micro-steps (support 1, 2, ...), independently of which spin of U it is.
    ``n_unstable`` must be positive.
    """
    return rng.geometric(np.asarray(n_unstable, dtype=np.float64) / N).astype(np.int64)


def _pick_uniform_flat(flat: np.ndarray, R: int, N: int,
                       rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """|U| per row and one index drawn uniformly from U per row (SPEC 8.1), U given as the sorted
    flat indices of an (R, N) mask.

    The j-th element of U with j = floor(u |U|), u ~ U(0, 1). Returns (counts, index); the index is
    meaningless (0) where the count is 0.
    """
    starts = np.searchsorted(flat, np.arange(R + 1) * N)   # row r owns flat[starts[r]:starts[r+1]]
    counts = np.diff(starts)
    pos = starts[:-1] + np.floor(rng.random(R) * counts).astype(np.int64)
    if not flat.size:
        return counts, np.zeros(R, dtype=np.int64)
    index = flat.take(np.minimum(pos, flat.size - 1)) - np.arange(R) * N
    return counts, np.where(counts > 0, index, 0)


def _fields(S: np.ndarray, A: np.ndarray, J_D: float) -> np.ndarray:
    """h_i = sum_{j != i} J_ij s_j + J_D s_i (SPEC 2, 3.1) for S of shape (R, N), as one GEMM.

    ``A`` is J with zero diagonal, transposed and C-contiguous (row k = column k of J). Same values as
    :func:`numerics.models.fields`, without its per-call copy of J.
    """
    h = S @ A
    h += J_D * S
    return h


def _half_fields(S: np.ndarray, A: np.ndarray, J_D: float) -> np.ndarray:
    """g = h / 2 (:func:`_fields`), the working variable of :func:`relax_async_naive`.

    Halving is exact in floating point, and it turns the flip update h <- h + 2 s_k J[:, k] into one
    in-place add or subtract of row k of ``A``; s_i h_i <= kappa <=> s_i g_i <= kappa / 2 exactly.
    """
    g = _fields(S, A, J_D)
    g *= 0.5
    return g


class _FixedFields:
    """Fields of :func:`relax_async` in exact integer arithmetic, with exact decisions (SPEC 8.1).

    Q = round(2^b J_off^T) (int32, row k = column k of J, zero diagonal; b is the largest exponent
    with max_i sum_j |J_ij| 2^b + N < 2^31, so no sum below can overflow). A state is kept as the
    integers W_i = sum_k Q_ki sigma_k with sigma = (s + 1) / 2 in {0, 1}: flipping spin k up adds row k
    of Q, flipping it down subtracts it, *without round-off*, so the fields never drift and need no
    recomputation. With C_i = sum_k Q_ki,

        g~_i = (2 W_i - C_i) 2^-(b+1) + J_D s_i / 2   approximates   g_i = h_i / 2   (SPEC 2, 3.1)

    within ``band`` = (N - 1) 2^-(b+2) + e64: each of the N - 1 entries of Q is within 2^-(b+1) of
    2^b J_ik (rounding), which bounds the error of h_i / 2 by (N - 1) 2^-(b+2) (3.0e-5 at N = 4000 for
    Gaussian J), and e64 = N 2^-53 (max_i sum_j |J_ij| + |J_D|) bounds the float64 error of the
    comparison. A decision s_i g~_i <= kappa / 2 with |s_i g~_i - kappa / 2| > band is the exact
    one; the others are retaken from g_i recomputed in float64 from row i of J, so every decision is
    the one float64 fields would make. One row of Q is 4 N bytes against 8 N for float64: the flips,
    which stream one row each, move half the memory.
    """

    _BLOCK = 512                     # rows of Q converted to float64 at a time (exact products)

    def __init__(self, J: np.ndarray, J_D: float, half_kappa: float):
        N, B = J.shape[0], self._BLOCK
        self.J, self.diag, self.J_D, self.hk = J, np.diagonal(J).copy(), J_D, half_kappa
        rowsum = max(float(np.abs(J[i:i + B]).sum(axis=1).max()) for i in range(0, N, B))
        room = (2.0 ** 31 - 2 * N) / rowsum if 0 < rowsum < np.inf else 1.0
        self.b = min(max(math.floor(math.log2(room)) if room > 0 else -1000, -1000), 1000)
        self.Q = np.empty((N, N), dtype=np.int32)
        for k in range(0, N, B):                   # Q[k] = round(2^b J[:, k]), zero diagonal
            blk = J[:, k:k + B].T * 2.0 ** self.b
            np.fill_diagonal(blk[:, k:], 0.0)
            self.Q[k:k + B] = np.rint(blk, out=blk)
        self.C_half = self.Q.sum(axis=0, dtype=np.int64) / 2.0   # C/2, exact (integers < 2^52)
        self.thr = (half_kappa - 0.5 * J_D) * 2.0 ** self.b
        self.band = (N - 1) * 2.0 ** -(self.b + 2) + N * 2.0 ** -53 * (rowsum + abs(J_D)) / 2

    @property
    def beta(self) -> float:
        """The band on the integer scale of :meth:`scaled`."""
        return self.band * 2.0 ** self.b

    def _exact_product(self, X: np.ndarray) -> np.ndarray:
        """X Q for a 0/1 (or small integer) X, exactly: float64 products of integers below 2^53."""
        out = np.zeros((X.shape[0], self.Q.shape[1]))
        for k in range(0, self.Q.shape[0], self._BLOCK):
            out += X[:, k:k + self._BLOCK] @ self.Q[k:k + self._BLOCK].astype(np.float64)
        return out.astype(np.int64)

    def initial(self, S: np.ndarray) -> np.ndarray:
        """W (int32, one row per row of S) for spins S."""
        return self._exact_product((S + 1.0) / 2.0).astype(np.int32)

    def scaled(self, s, w, col=slice(None)) -> np.ndarray:
        """X = s (W - C/2) (float64): s g~ - kappa/2 = 2^-b (X - thr), so a spin is unstable iff
        X <= thr, and X is decided alone where |X - thr| > band 2^b."""
        X = np.subtract(w, self.C_half[col])
        X *= s
        return X

    def stability(self, s, w, col=slice(None)) -> np.ndarray:
        """s g~ - kappa / 2 (float64) for spins ``s`` with integers ``w`` at columns ``col``."""
        return (self.scaled(s, w, col) - self.thr) * 2.0 ** -self.b

    def exact(self, S: np.ndarray, r: np.ndarray, i: np.ndarray) -> np.ndarray:
        """float64 g_i of working row r, from row i of J: (sum_j J_ij s_j - J_ii s_i + J_D s_i) / 2."""
        return 0.5 * (np.einsum("ij,ij->i", self.J[i], S[r]) + (self.J_D - self.diag[i]) * S[r, i])

    def _decide(self, x, S, cand, idx):
        """Unstable among candidates (1-d) with scaled values ``x`` at flat indices ``cand`` of the
        working rows ``idx`` of S (as an (len(idx), N) array); the unsure ones rechecked in float64."""
        out = x <= self.thr - self.beta
        unsure = np.flatnonzero(~out & (x <= self.thr + self.beta))
        if unsure.size:
            r, i = np.divmod(cand[unsure], S.shape[1])
            out[unsure] = S[idx[r], i] * self.exact(S, idx[r], i) <= self.hk
        return out

    def unstable(self, S, W, flat, col) -> np.ndarray:
        """s_i h_i <= kappa at the spins of flat indices ``flat`` (columns ``col``) of S and W."""
        x = self.scaled(S.ravel().take(flat), W.ravel().take(flat), col)
        return self._decide(x.ravel(), S, flat.ravel(), np.arange(S.shape[0])).reshape(x.shape)

    def unstable_flat(self, S, W, idx) -> np.ndarray:
        """U of working rows ``idx`` as sorted flat indices into a (len(idx), N) array: one pass
        keeps the candidates X <= thr + band 2^b (few, when U is small), which are then decided."""
        Sm, Wm = (S, W) if idx.size == S.shape[0] else (S[idx], W[idx])
        X = self.scaled(Sm, Wm)
        cand = np.flatnonzero(X <= self.thr + self.beta)
        return cand[self._decide(X.ravel().take(cand), S, cand, idx)]


# ----------------------------------------------------------------------------------- input checks

def _transposed_offdiag(J: np.ndarray) -> np.ndarray:
    """A = J_off^T (float64, C-contiguous, zero diagonal) of a checked J, in one transposing copy."""
    A = np.array(J.T, dtype=np.float64, order="C")
    np.fill_diagonal(A, 0.0)
    return A


def _initial_states(s0, replicas, N: int, rng: np.random.Generator) -> np.ndarray:
    """Initial spins as a float64 (R, N) array: ``s0`` (shape (N,) or (R, N)) or uniform from ``rng``."""
    replicas = integer("replicas", replicas, 1)
    if s0 is None:
        return 2.0 * rng.integers(0, 2, size=(replicas, N)).astype(np.float64) - 1.0
    s = np.asarray(s0)
    if s.ndim == 1:
        if s.shape[0] != N:
            raise ValueError(f"s0 must have shape ({N},) or (R, {N}), got {s.shape}")
        s = np.broadcast_to(s, (replicas, N))
    elif s.ndim == 2:
        if s.shape[1] != N:
            raise ValueError(f"s0 must have shape ({N},) or (R, {N}), got {s.shape}")
        if replicas not in (1, s.shape[0]):
            raise ValueError(f"replicas={replicas} does not match the {s.shape[0]} rows of s0")
        if s.shape[0] < 1:
            raise ValueError("s0 has no rows")
    else:
        raise ValueError(f"s0 must have shape ({N},) or (R, {N}), got {s.shape}")
    if not np.issubdtype(s.dtype, np.number) or not np.all((s == 1) | (s == -1)):
        raise ValueError("s0 entries must be +1 or -1")
    return np.array(s, dtype=np.float64)


def _setup(J, J_D, kappa, max_sweeps, s0, replicas, rng):
    """The checked arguments: J (float64, see :func:`numerics.models.check_couplings`), J_D, kappa,
    max_sweeps, the initial states S0 and the Generator."""
    J = check_couplings(J)
    J_D = finite_scalar("J_D", J_D)
    kappa = finite_scalar("kappa", kappa)
    max_sweeps = integer("max_sweeps", max_sweeps, 0)
    if rng is None:
        raise ValueError("rng is required (a numpy.random.Generator, SeedSequence or int seed)")
    rng = make_rng(rng)
    S0 = _initial_states(s0, replicas, J.shape[0], rng)
    return J, J_D, kappa, max_sweeps, S0, rng


def _result(rule, J, J_D, kappa, max_sweeps, state, sweeps, flips, cycle2, unstable) -> Relaxation:
    state = state.astype(np.int8)
    converged = np.asarray(is_fixed_point(J, J_D, state, kappa), dtype=bool).reshape(state.shape[0])
    arrays = [state, converged, sweeps, flips, cycle2] + ([unstable] if unstable is not None else [])
    for a in arrays:
        a.setflags(write=False)
    return Relaxation(rule=rule, state=state, converged=converged, sweeps=sweeps, flips=flips,
                      cycle2=cycle2, unstable=unstable, max_sweeps=max_sweeps, kappa=kappa)


# ------------------------------------------------------------------------ random-sequential rule

def relax_async(J, J_D: float, *, rng, max_sweeps: int = 500, s0=None, replicas: int = 1,
                kappa: float = 0.0, record: bool = False) -> Relaxation:
    """Zero-temperature random-sequential dynamics in its exact fast form (SPEC 8.1).

    The plain rule picks i uniformly at each micro-step and flips it if unstable (s_i h_i <= kappa); a
    sweep is N micro-steps and the budget is ``max_sweeps`` sweeps. Its exact equivalent, simulated
    here: conditioned on a flip, the flipped spin k is uniform over U = {i : s_i h_i <= kappa}; flip it
    and update every field by the rank-1 step h <- h + 2 s_k^new J[:, k] (O(N)); the micro-steps spent
    to get there are G ~ Geometric(|U| / N), added to the clock.

    Implementation. Each batched step makes one flip in every running replica. It first tries up to
    32 naive micro-steps per replica (uniform candidates, checked at the current state): the first
    unstable candidate is uniform over U and its trial number is the geometric wait, at O(1) cost.
    Only replicas whose 32 candidates were all stable (|U| small) compute U in full: |U| = 0 means a
    fixed point, otherwise a uniform element of U (from its sorted indices) and, by memorylessness,
    32 + Geometric(|U| / N) micro-steps. A flip that would end after ``max_sweeps * N`` micro-steps is
    not made (the naive rule would not have reached it). The fields are kept as exact integers
    (:class:`_FixedFields`: J rounded to 2^-b, flips add or subtract an int32 row, nothing drifts);
    a decision closer to the threshold than the rounding bound (3.0e-5 at N = 4000) is taken from
    float64 fields recomputed from the rows of J, so every decision is the float64 one.

    Parameters: ``J`` (N, N) couplings (diagonal ignored; a chain's (LN, LN) matrix from
    :func:`numerics.models.sample_chain` works as is), self coupling ``J_D``, ``rng`` (Generator,
    SeedSequence or int), ``max_sweeps`` >= 0, ``s0`` of shape (N,) (copied to every replica) or
    (R, N), else ``replicas`` uniform random states drawn from ``rng``; margin ``kappa``; ``record``
    keeps |U| at every integer sweep. Returns a :class:`Relaxation`.
    """
    J, J_D, kappa, max_sweeps, S0, rng = _setup(J, J_D, kappa, max_sweeps, s0, replicas, rng)
    R, N = S0.shape
    budget = max_sweeps * N
    half_kappa = 0.5 * kappa

    out_state = S0.copy()
    out_sweeps = np.full(R, float(max_sweeps))
    out_flips = np.zeros(R, dtype=np.int64)
    rec = np.zeros((R, max_sweeps + 1), dtype=np.int32) if record else None

    fx = _FixedFields(J, J_D, half_kappa)
    Q = fx.Q
    ids = np.arange(R)                           # replica id of each working row
    S = S0.copy()                                # working spins, float64 +-1
    W = fx.initial(S)                            # working integer fields (class _FixedFields)
    t_now = np.zeros(R, dtype=np.int64)          # micro-step of the last flip (= time consumed)
    flips = np.zeros(R, dtype=np.int64)
    next_j = np.zeros(R, dtype=np.int64)         # first sweep index not yet recorded (record=True)
    add, sub = np.add, np.subtract
    T = _TRIALS
    big = np.iinfo(np.int64).max
    rows = np.arange(R)
    row0 = rows * N                              # offset of each working row in S.ravel()
    row_loop = N >= _ROW_LOOP_MIN_N
    Q_rows = list(Q) if row_loop else None       # row views, made once
    W_rows = list(W) if row_loop else None

    while ids.size:
        Ra = ids.size
        # -- up to T naive micro-steps per replica, all at the current state
        Sf = S.ravel()
        if T:
            col = rng.integers(0, N, size=(Ra, T))
            cand = col + row0[:, None]
            hit = fx.unstable(S, W, cand, col)
            first = hit.argmax(axis=1)
            got = hit[rows, first]
            k = cand[rows, first]                # flat index of the spin to flip
            dt = first + 1
            miss = np.flatnonzero(~got) if not got.all() else None
        else:
            k, dt, miss = np.empty(Ra, dtype=np.int64), np.zeros(Ra, dtype=np.int64), rows
        count = at_fp = None
        if miss is not None:                     # all T candidates stable: |U| in full
            c, kk = _pick_uniform_flat(fx.unstable_flat(S, W, miss), miss.size, N, rng)
            live = c > 0
            dt[miss[live]] = T + geometric_wait(c[live], N, rng)
            k[miss] = kk + row0[miss]
            count = np.full(Ra, -1, dtype=np.int64)      # |U| where it is known
            count[miss] = c
            at_fp = np.zeros(Ra, dtype=bool)
            at_fp[miss[~live]] = True
        t_next = t_now + dt
        go = t_next <= budget
        if at_fp is not None:
            go &= ~at_fp
        all_go = go.all()

        if record:                               # |U| at the sweeps t = j N before the next flip
            end = np.where(go, t_next, big)
            need = np.flatnonzero((next_j <= max_sweeps) & (next_j * N < end))
            if need.size:
                if count is None:
                    count = np.full(Ra, -1, dtype=np.int64)
                unknown = need[count[need] < 0]
                if unknown.size:
                    count[unknown] = np.bincount(fx.unstable_flat(S, W, unknown) // N,
                                                 minlength=unknown.size)
                for r in need.tolist():
                    j_end = max_sweeps if end[r] == big else min(max_sweeps, (int(end[r]) - 1) // N)
                    rec[ids[r], next_j[r]:j_end + 1] = count[r]
                    next_j[r] = j_end + 1

        # -- the flips: s_k <- -s_k, W <- W +- Q[k] (sigma_k = (s_k + 1) / 2 goes 0 -> 1 or 1 -> 0)
        f = rows if all_go else np.flatnonzero(go)
        if f.size:
            kf = k if all_go else k[f]
            s_new = -Sf.take(kf)
            Sf[kf] = s_new
            kcol = kf - row0[f]
            if row_loop:                         # one in-place add per row: no (R, N) temporaries
                for r, kr, up in zip(f.tolist(), kcol.tolist(), (s_new > 0).tolist()):
                    w = W_rows[r]
                    (add if up else sub)(w, Q_rows[kr], out=w)
            else:                                # small N: one vectorised gather
                W[f] += s_new.astype(np.int32)[:, None] * Q[kcol]
            if all_go:
                t_now = t_next
                flips += 1
            else:
                t_now[f] = t_next[f]
                flips[f] += 1

        if not all_go:                           # retire finished replicas
            d = np.flatnonzero(~go)
            out_state[ids[d]] = S[d]
            out_flips[ids[d]] = flips[d]
            if at_fp is not None:
                fp = d[at_fp[d]]
                out_sweeps[ids[fp]] = t_now[fp] / N
            keep = np.flatnonzero(go)
            ids, S, W = ids[keep], S[keep], W[keep]
            t_now, flips, next_j = t_now[keep], flips[keep], next_j[keep]
            rows = np.arange(ids.size)
            row0 = rows * N
            W_rows = list(W) if row_loop else None

    return _result("async", J, J_D, kappa, max_sweeps, out_state, out_sweeps, out_flips,
                   np.zeros(R, dtype=bool), rec)


def relax_async_naive(J, J_D: float, *, rng, max_sweeps: int = 500, s0=None, replicas: int = 1,
                      kappa: float = 0.0) -> Relaxation:
    """The plain random-sequential rule (SPEC 8.1): the reference for :func:`relax_async`.

    Each micro-step picks i uniformly in 0..N-1 and flips s_i if s_i h_i <= kappa (s_i <- sign(h_i)
    for kappa = 0); a sweep is N micro-steps and a replica stops at its first fixed point or after
    ``max_sweeps * N`` micro-steps. One replica at a time, in a plain Python loop: after each flip the
    fields are updated in place, h <- h + 2 s_i J[:, i], and the fixed-point test is redone.
    ``.sweeps`` of a converged replica is the micro-step of its last flip divided by N. Same arguments
    as :func:`relax_async`.
    """
    J, J_D, kappa, max_sweeps, S0, rng = _setup(J, J_D, kappa, max_sweeps, s0, replicas, rng)
    A = _transposed_offdiag(J)
    R, N = S0.shape
    budget = max_sweeps * N
    state = S0.copy()
    sweeps = np.full(R, float(max_sweeps))
    flips = np.zeros(R, dtype=np.int64)
    half_kappa = 0.5 * kappa
    block = max(256, 2 * N)
    for r in range(R):
        s = state[r]
        g = _half_fields(s[None, :], A, J_D)[0]          # g = h / 2, as in relax_async
        if not np.any(s * g <= half_kappa):
            sweeps[r] = 0.0
            continue
        t, n_flips, done = 0, 0, False
        while t < budget and not done:
            for i in rng.integers(0, N, size=min(budget - t, block)).tolist():
                t += 1
                si = s[i]
                if si * g[i] <= half_kappa:                # unstable: flip, h <- h + 2 s_i J[:, i]
                    si = -si
                    s[i] = si
                    (np.add if si > 0 else np.subtract)(g, A[i], out=g)
                    g[i] += si * J_D
                    n_flips += 1
                    if not np.any(s * g <= half_kappa):
                        done = True
                        sweeps[r] = t / N
                        break
        flips[r] = n_flips
    return _result("async_naive", J, J_D, kappa, max_sweeps, state, sweeps, flips,
                   np.zeros(R, dtype=bool), None)


# ------------------------------------------------------------------------------- parallel rules

def _relax_parallel(rule, J, A, J_D, kappa, max_sweeps, S0, rng, record, *, p_update=1.0, L=1):
    """Shared loop of the synchronous, partial-synchronous and layer-sequential rules.

    One sweep from state s: if U(s) is empty, stop (fixed point); otherwise apply the rule's update.
    Deterministic rules (p_update = 1) also stop at a 2-cycle s(t+1) = s(t-1) != s(t).
    """
    R, NL = S0.shape
    N = NL // L
    deterministic = p_update == 1.0
    out_state = S0.copy()
    out_sweeps = np.full(R, float(max_sweeps))
    out_flips = np.zeros(R, dtype=np.int64)
    out_cycle = np.zeros(R, dtype=bool)
    rec = np.zeros((R, max_sweeps + 1), dtype=np.int32) if record else None

    ids = np.arange(R)
    S = S0.copy()
    prev = None                      # state one sweep back (deterministic rules)
    prev_count = None
    flips = np.zeros(R, dtype=np.int64)
    t = 0
    while ids.size:
        H = _fields(S, A, J_D)
        mask = unstable_mask(S, H, kappa)
        count = np.count_nonzero(mask, axis=1)
        if record:
            rec[ids, t] = count
        stop = (count == 0) | (t == max_sweeps)
        if stop.any():
            d = np.flatnonzero(stop)
            out_state[ids[d]] = S[d]
            out_flips[ids[d]] = flips[d]
            fp = d[count[d] == 0]
            out_sweeps[ids[fp]] = float(t)
            keep = np.flatnonzero(~stop)
            ids, S, mask, count, flips = ids[keep], S[keep], mask[keep], count[keep], flips[keep]
            if prev is not None:
                prev, prev_count = prev[keep], prev_count[keep]
            if not ids.size:
                break
        if L == 1:                                   # all spins at once (SPEC 8.2, 8.3)
            if not deterministic:
                mask &= rng.random(mask.shape) < p_update
            new = np.where(mask, -S, S)
            flips += np.count_nonzero(mask, axis=1)
        else:                                        # modules in order (SPEC 8.4)
            new = S.copy()
            for l in range(L):
                blk = slice(l * N, (l + 1) * N)
                if l == 0:
                    m = mask[:, blk]
                else:
                    h = new @ A[:, blk]
                    h += J_D * new[:, blk]
                    m = unstable_mask(new[:, blk], h, kappa)
                np.negative(new[:, blk], out=new[:, blk], where=m)
                flips += np.count_nonzero(m, axis=1)
        t += 1
        if deterministic and prev is not None:
            cyc = np.all(new == prev, axis=1)
            if cyc.any():
                d = np.flatnonzero(cyc)
                out_state[ids[d]] = new[d]
                out_flips[ids[d]] = flips[d]
                out_sweeps[ids[d]] = float(t)
                out_cycle[ids[d]] = True
                if record:                           # continue the period-2 sequence of |U|
                    for r in d.tolist():
                        rec[ids[r], t::2] = prev_count[r]
                        rec[ids[r], t + 1::2] = count[r]
                keep = np.flatnonzero(~cyc)
                ids, S, new, count, flips = ids[keep], S[keep], new[keep], count[keep], flips[keep]
        if deterministic:
            prev, prev_count = S, count
        S = new

    return _result(rule, J, J_D, kappa, max_sweeps, out_state, out_sweeps, out_flips, out_cycle, rec)


def relax_sync(J, J_D: float, *, rng, max_sweeps: int = 500, s0=None, replicas: int = 1,
               kappa: float = 0.0, record: bool = False) -> Relaxation:
    """Synchronous (Little) dynamics s <- sign(J s + J_D s), diagonal included (SPEC 8.2).

    Every unstable spin flips at once (s_i <- sign(h_i - kappa s_i), :func:`flip_unstable`); one step
    is one sweep. A replica stops at a fixed point (no unstable spin), at a 2-cycle
    s(t+1) = s(t-1) != s(t) (``.cycle2``; ``.state`` is s(t+1) and ``.sweeps`` is t+1), or after
    ``max_sweeps`` steps. Longer cycles are not detected. ``rng`` is used only to draw the initial
    states. Arguments as in :func:`relax_async`.
    """
    J, J_D, kappa, max_sweeps, S0, rng = _setup(J, J_D, kappa, max_sweeps, s0, replicas, rng)
    A = _transposed_offdiag(J)
    return _relax_parallel("sync", J, A, J_D, kappa, max_sweeps, S0, rng, record)


def relax_partial_sync(J, J_D: float, *, rng, p_update: float, max_sweeps: int = 500, s0=None,
                       replicas: int = 1, kappa: float = 0.0, record: bool = False) -> Relaxation:
    """Partially synchronous dynamics (SPEC 8.3, [C-BL]).

    All fields are computed from the current state; each neuron then updates (s_i <- sign(h_i - kappa
    s_i)) independently with probability ``p_update`` in (0, 1], so each unstable spin flips with that
    probability. One step is one sweep. ``p_update = 1`` is :func:`relax_sync` exactly (same
    2-cycle detection, no random draws after the initial states); for ``p_update < 1`` the dynamics
    is stochastic and ``.cycle2`` is always False.
    """
    p = finite_scalar("p_update", p_update)
    if not 0.0 < p <= 1.0:
        raise ValueError(f"p_update must lie in (0, 1], got {p_update!r}")
    J, J_D, kappa, max_sweeps, S0, rng = _setup(J, J_D, kappa, max_sweeps, s0, replicas, rng)
    A = _transposed_offdiag(J)
    rule = "sync" if p == 1.0 else f"partial_sync(p={p:g})"
    return _relax_parallel(rule, J, A, J_D, kappa, max_sweeps, S0, rng, record, p_update=p)


relax_partial = relax_partial_sync          # the name in SPEC 17


def relax_layer_sequential(J, J_D: float, *, L: int, rng, max_sweeps: int = 500, s0=None,
                           replicas: int = 1, kappa: float = 0.0, record: bool = False) -> Relaxation:
    """Layer-sequential dynamics of the L-module chain (SPEC 8.4, [C-DX]).

    ``J`` is the (L N, L N) chain matrix of :func:`numerics.models.sample_chain` (concatenated state,
    module l at indices l*N .. (l+1)*N - 1). One sweep updates modules l = 0, 1, ..., L-1 in order, each
    synchronously (s^l <- sign(h^l - kappa s^l)) from the current states, so module l sees the new
    states of modules < l. A replica stops at a fixed point of the whole chain, at a 2-cycle of the
    sweep map (``.cycle2``) or after ``max_sweeps`` sweeps. ``L = 1`` is :func:`relax_sync`.
    """
    J, J_D, kappa, max_sweeps, S0, rng = _setup(J, J_D, kappa, max_sweeps, s0, replicas, rng)
    A = _transposed_offdiag(J)
    L = integer("L", L, 1)
    if J.shape[0] % L:
        raise ValueError(f"the size of J ({J.shape[0]}) is not a multiple of L = {L}")
    return _relax_parallel("layer_sequential", J, A, J_D, kappa, max_sweeps, S0, rng, record, L=L)
