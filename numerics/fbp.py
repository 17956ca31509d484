"""Focusing belief propagation for the fixed points of an asymmetric network (SPEC 9).

Factor graph (SPEC 9, conventions of :mod:`numerics.models`)
------------------------------------------------------------
Variables are the spins s_k = +-1, k = 0..N-1. There is one factor per neuron,

    psi_i(s) = theta( s_i sum_{j != i} J_ij s_j + J~ ),      J~ = J_D - kappa,

which is 1 exactly when s_i h_i > kappa with h_i = sum_{j != i} J_ij s_j + J_D s_i (SPEC 3.1): the
configurations of weight 1 under prod_i psi_i are the fixed points with margin kappa. Row i of ``J``
feeds neuron i; the diagonal of ``J`` is ignored (the self coupling is ``J_D``). Factor i touches every
variable; variable i is its *output*, the others its *inputs*. Optionally the measure carries prior
fields, prod_k exp(prior_k s_k) (used to break the Z2 symmetry s -> -s in tests; zero by default).

Messages (written once here; every quantity is a field, i.e. half a log-odds)
---------------------------------------------------------------------------
- u_{i->k}: factor i -> variable k (k = i: the factor's message to its own output).
- h~_k = sum_i u_{i->k} + prior_k: the field of variable k without focusing ("cavity" w.r.t. the
  focusing replicas); u^foc_k = :func:`focusing_message` (h~_k; gamma, y); h_k = h~_k + u^foc_k is the
  total field and tanh h_k the magnetisation reported in ``marginals``.
- c_{k->i} = h_k - u_{i->k}, m_{k->i} = tanh c_{k->i}: variable k -> factor i (k = i included).
- omega_i = sum_{j != i} J_ij m_{j->i},  V_i = sum_{j != i} J_ij^2 (1 - m_{j->i}^2); omega_{i\\k},
  V_{i\\k} leave out j = k.
- :func:`factor_output_message`, :func:`factor_input_message`: the exact expressions of SPEC 9 (Gaussian
  approximation of the input sum), computed in the log domain with ``log_ndtr``.
- AMP/TAP form (:class:`AMPMessages`): u_{i->k} ~ J_ik g_i with g_i = d_omega ln Z_i
  (:func:`factor_derivatives`) and the Onsager corrections of SPEC 9; two passes over J per
  iteration.

Both forms are updated in parallel (all messages from the previous iteration), with optional damping
u <- (1 - damping) u_new + damping u_old. Convergence: the largest change of a message, measured as a
magnetisation, max |tanh u_new - tanh u_old| (as C-FBP does), so that a saturated message drifting
between two huge fields counts as converged. For AMP the off-diagonal messages are J_ik g_i and the
change is bounded by max_i |Delta g_i| max_k |J_ik| (exact to first order in J).

Numerical safeguards: messages are clipped to |u| <= ``U_MAX`` (= 30: tanh 30 = 1 in float64; larger
fields carry no information and would swamp the other terms of a sum), the input variance V is
floored at a tiny positive value, and any non-finite field stops the run with status "nonfinite"
and a message saying where (never a silent NaN).

Gaussian tails use ``scipy.special.log_ndtr`` and ``erfcx`` directly, the same stable primitives as
``theory.special`` (SPEC 7), because ``numerics`` does not import ``theory`` (README: the two floors
are independent computations).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
from scipy import special as sp
from threadpoolctl import ThreadpoolController

from numerics.models import offdiag_couplings
from toolkit.checks import finite_scalar, integer
from toolkit.rng import make_rng

__all__ = [
    "U_MAX", "atanh_tanh_product", "focusing_message", "factor_output_message", "factor_input_message",
    "factor_derivatives", "factor_messages", "StandardReinforcement", "Scoping", "PseudoReinforcement",
    "PlainBP", "BPMessages", "AMPMessages", "StepRecord", "FBPResult", "solve",
]

U_MAX = 30.0                    # clip of every factor -> variable message (field units)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_BLOCK_BYTES = 1 << 18          # full BP: row blocks of ~256 kB per temporary (cache-sized)
_AMP_BLOCK_BYTES = 1 << 19      # AMP passes: blocks of J of ~512 kB, squared in cache


# ============================================================================ small pure functions

def atanh_tanh_product(a, b):
    """f(a, b) = atanh(tanh a * tanh b), stable for all a, b including +-inf (not both infinite).

    With a, b >= 0 (f is odd in each argument):
        f = min(a, b) + 1/2 [ln(1 + e^{-2(a+b)}) - ln(1 + e^{-2|a-b|})],
    from cosh(a+b)/cosh(a-b) = (1 + tanh a tanh b)/(1 - tanh a tanh b). No cancellation for large
    arguments; f(inf, b) = b, f(a, inf) = a, f(0, b) = f(a, 0) = 0. (The message of a coupling of
    strength a; used by :func:`focusing_message`, SPEC 9.)
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    sgn = np.sign(a) * np.sign(b)
    x, z = np.abs(a), np.abs(b)
    lo = np.minimum(x, z)
    with np.errstate(invalid="ignore"):
        diff = np.abs(x - z)                                   # NaN only when both are inf
    both_inf = np.isinf(x) & np.isinf(z)
    diff = np.where(both_inf, np.inf, diff)
    corr = 0.5 * (np.log1p(np.exp(-2.0 * (x + z))) - np.log1p(np.exp(-2.0 * diff)))
    out = sgn * (lo + corr)
    out = np.where(sgn == 0, 0.0, out)
    return out[()] if out.ndim == 0 else out


def _check_gamma_y(gamma, y) -> tuple[float, float]:
    try:
        gamma, y = float(gamma), float(y)
    except (TypeError, ValueError):
        raise ValueError(f"(gamma, y) must be real numbers, got {(gamma, y)!r}") from None
    if math.isnan(gamma) or gamma < 0:
        raise ValueError(f"gamma must be >= 0 (inf allowed), got {gamma!r}")
    if math.isnan(y) or y < 1:
        raise ValueError(f"y must be >= 1 (inf allowed), got {y!r}")
    if math.isinf(gamma) and math.isinf(y):
        raise ValueError("gamma = inf and y = inf together give an infinite focusing field")
    return gamma, y


def focusing_message(h_cav, gamma: float, y: float):
    """u^foc_k = atanh( tanh gamma * tanh( (y-1) * atanh( tanh gamma * tanh h~_k ) ) )  (SPEC 9).

    y - 1 replicas coupled with strength gamma to a traced-out centre (C-FBP ``entro_node_update``,
    pol = tanh gamma, r = y - 1); ``h_cav`` = h~, the field without the focusing term. Written as
    f(gamma, (y-1) f(gamma, h~)) with f = :func:`atanh_tanh_product`, which also gives the limits:
    y = 1 or gamma = 0 -> 0 (plain BP); gamma = inf -> (y-1) h~; y = inf -> gamma sign h~ (0 at
    h~ = 0, as in C-FBP). gamma = y = inf is refused (infinite field).
    """
    gamma, y = _check_gamma_y(gamma, y)
    h = np.asarray(h_cav, dtype=np.float64)
    if gamma == 0.0 or y == 1.0:
        out = np.zeros_like(h)
    elif math.isinf(y):
        out = gamma * np.sign(h)
    elif math.isinf(gamma):
        out = (y - 1.0) * h
    else:
        out = atanh_tanh_product(gamma, (y - 1.0) * atanh_tanh_product(gamma, h))
    out = np.asarray(out, dtype=np.float64)
    return out[()] if out.ndim == 0 else out


def factor_output_message(omega, V, J_tilde: float):
    """u_{i->i} = 1/2 ln[ H(-(J~ + omega)/sqrt V) / H(-(J~ - omega)/sqrt V) ]  (SPEC 9).

    With H(-x) = Phi(x): 1/2 [ln Phi((J~ + omega)/sqrt V) - ln Phi((J~ - omega)/sqrt V)], each term by
    ``log_ndtr`` (never ln(erfc/2)). ``omega``, ``V`` are the mean and variance of the input sum
    sum_{j != i} J_ij s_j under the cavity magnetisations m_{j->i}.
    """
    sd = np.sqrt(V)
    return 0.5 * (sp.log_ndtr((J_tilde + omega) / sd) - sp.log_ndtr((J_tilde - omega) / sd))


def factor_input_message(omega_c, V_c, J_ik, c_out, J_tilde: float):
    """u_{i->k} (k != i) of SPEC 9, the exact two-term expression, in the log domain.

        P_{i->k}(s_k) ∝ sum_{s_i} e^{s_i c} Phi( (J~ + s_i (omega_{i\\k} + J_ik s_k)) / sqrt V_{i\\k} ),
        u_{i->k} = 1/2 ln[ P(+1) / P(-1) ],

    where e^{s_i c} ∝ (1 + s_i m_{i->i})/2 with c = c_{i->i} = atanh m_{i->i} (``c_out``) and
    Phi(x) = H(-x). Each P is a ``logaddexp`` of ``log_ndtr`` terms. Arguments broadcast.
    """
    a = 1.0 / np.sqrt(V_c)
    p = (J_tilde + omega_c) * a
    q = (J_tilde - omega_c) * a
    r = J_ik * a
    lpp = c_out + sp.log_ndtr(p + r)      # s_k = +1, s_i = +1
    lpm = -c_out + sp.log_ndtr(q - r)     # s_k = +1, s_i = -1
    lmp = c_out + sp.log_ndtr(p - r)      # s_k = -1, s_i = +1
    lmm = -c_out + sp.log_ndtr(q + r)     # s_k = -1, s_i = -1
    return 0.5 * (np.logaddexp(lpp, lpm) - np.logaddexp(lmp, lmm))


def _mills(x):
    """R(x) = phi(x)/Phi(x) = d ln Phi/dx = sqrt(2/pi)/erfcx(-x/sqrt 2): never overflows (SPEC 7)."""
    return _SQRT_2_OVER_PI / sp.erfcx(-x / math.sqrt(2.0))


def factor_derivatives(omega, V, c_out, J_tilde: float):
    """(u_{i->i}, g_i, dg_i) of one factor: the AMP kernel (SPEC 9).

    Z_i(omega) = ((1+m)/2) H(-(J~+omega)/sqrt V) + ((1-m)/2) H(-(J~-omega)/sqrt V), m = tanh c_out.
    With A_s = (J~ + s omega)/sqrt V, posterior weights p_s ∝ e^{s c} Phi(A_s) (s = +-1) and Mills
    ratios R_s = phi(A_s)/Phi(A_s):

        g  = d_omega ln Z   = (p_+ R_+ - p_- R_-) / sqrt V
        dg = d_omega^2 ln Z = [ -sum_s p_s R_s (A_s + R_s) + p_+ p_- (R_+ + R_-)^2 ] / V

    (the second form is Z''/Z - g^2 rearranged as a mean curvature plus a two-point variance;
    R (A + R) = -(ln Phi)'' lies in (0, 1) and is clipped there against rounding). u_{i->i} is
    :func:`factor_output_message`.
    """
    sd = np.sqrt(V)
    Ap = (J_tilde + omega) / sd
    Am = (J_tilde - omega) / sd
    lp = sp.log_ndtr(Ap)
    lm = sp.log_ndtr(Am)
    u_self = 0.5 * (lp - lm)
    pp = sp.expit((c_out + lp) - (-c_out + lm))
    pm = sp.expit((-c_out + lm) - (c_out + lp))
    Rp = _mills(Ap)
    Rm = _mills(Am)
    g = (pp * Rp - pm * Rm) / sd
    cp = np.clip(Rp * (Ap + Rp), 0.0, 1.0)
    cm = np.clip(Rm * (Am + Rm), 0.0, 1.0)
    dg = (-(pp * cp + pm * cm) + pp * pm * (Rp + Rm) ** 2) / V
    return u_self, g, dg


def factor_messages(J_row, i: int, c, J_tilde: float, V_floor: float = 0.0):
    """All messages u_{i->k}, k = 0..N-1, of factor i (the per-factor reference, SPEC 9).

    ``J_row`` is row i of J (entry i ignored), ``c`` the cavity fields c_{k->i} = h_k - u_{i->k}.
    Returns an (N,) array with u_{i->i} at position i and the exact two-term u_{i->k} elsewhere,
    clipped to +-U_MAX. The reference for :class:`BPMessages` in the tests, and the "factor loop" of
    ``benchmarks/fbp.py``.
    """
    J_row = np.array(J_row, dtype=np.float64)
    J_row[i] = 0.0
    m = np.tanh(c)
    s2 = 1.0 / np.cosh(np.clip(c, -350.0, 350.0)) ** 2               # 1 - m^2 without cancellation
    omega = J_row @ m
    V = max(J_row ** 2 @ s2, V_floor)
    om_c = omega - J_row * m
    V_c = np.maximum(V - J_row ** 2 * s2, V_floor)
    u = factor_input_message(om_c, V_c, J_row, c[i], J_tilde)
    u[i] = factor_output_message(omega, V, J_tilde)
    return np.clip(u, -U_MAX, U_MAX)


# ======================================================================================= protocols

def _reinforcement_grid(dr) -> np.ndarray:
    """x = 0, dr, 2 dr, ..., <= 1 - dr (Julia's 0.0:dr:(1-dr) in C-FBP)."""
    dr = finite_scalar("dr", dr)
    if not 0.0 < dr <= 1.0:
        raise ValueError(f"dr must lie in (0, 1], got {dr!r}")
    n = math.floor((1.0 - dr) / dr + 1e-9) + 1
    return np.arange(n) * dr


@dataclass(frozen=True)
class StandardReinforcement:
    """gamma = inf, y = 1/(1 - x) for x = 0, dr, ..., 1 - dr (SPEC 9, C-FBP). Yields (gamma, y).

    The first step (x = 0, y = 1) is plain BP; then u^foc = (y - 1) h~, i.e. h = y h~.
    """
    dr: float = 0.01

    def __post_init__(self):
        _reinforcement_grid(self.dr)

    def __iter__(self) -> Iterator[tuple[float, float]]:
        for x in _reinforcement_grid(self.dr):
            yield math.inf, 1.0 / (1.0 - float(x))

    def __len__(self) -> int:
        return len(_reinforcement_grid(self.dr))


@dataclass(frozen=True)
class Scoping:
    """y fixed, gamma running over ``gamma_range`` (non-decreasing, >= 0) (SPEC 9, C-FBP)."""
    gamma_range: tuple
    y: float

    def __init__(self, gamma_range: Iterable[float], y: float):
        gammas = tuple(float(g) for g in gamma_range)
        if not gammas:
            raise ValueError("gamma_range is empty")
        for g in gammas:
            _check_gamma_y(g, y)
        if any(b < a for a, b in pairwise(gammas)):
            raise ValueError("gamma_range must be non-decreasing")
        object.__setattr__(self, "gamma_range", gammas)
        object.__setattr__(self, "y", float(y))

    def __iter__(self) -> Iterator[tuple[float, float]]:
        for g in self.gamma_range:
            yield g, self.y

    def __len__(self) -> int:
        return len(self.gamma_range)


@dataclass(frozen=True)
class PseudoReinforcement:
    """rho = 0, dr, ..., 1 - dr; gamma = atanh(rho^x), y = 1 + rho^(1-2x)/(1 - rho) (SPEC 9, C-FBP).

    x = 1/2 gives gamma = atanh sqrt(rho), y = (2 - rho)/(1 - rho); x = 0 gives standard
    reinforcement (gamma = inf, y = 1/(1 - rho)). 0^0 is read as 1 (gamma = inf at rho = 0, x = 0),
    and rho^(negative) at rho = 0 as inf (y = inf with gamma = 0: no focusing). x must lie in [0, 1].
    """
    dr: float = 0.01
    x: float = 0.5

    def __post_init__(self):
        _reinforcement_grid(self.dr)
        x = finite_scalar("x", self.x)
        if not 0.0 <= x <= 1.0:
            raise ValueError(f"x must lie in [0, 1], got {self.x!r}")

    @staticmethod
    def step(rho: float, x: float) -> tuple[float, float]:
        """(gamma, y) at one value of rho."""
        if x == 0.5:
            return math.atanh(math.sqrt(rho)), (2.0 - rho) / (1.0 - rho)
        if x == 0.0:
            return math.inf, 1.0 / (1.0 - rho)
        px = rho ** x
        gamma = math.inf if px >= 1.0 else math.atanh(px)
        e = 1.0 - 2.0 * x
        if rho == 0.0:
            y = 1.0 if e > 0 else (2.0 if e == 0 else math.inf)
        else:
            y = 1.0 + rho ** e / (1.0 - rho)
        return gamma, y

    def __iter__(self) -> Iterator[tuple[float, float]]:
        for rho in _reinforcement_grid(self.dr):
            yield self.step(float(rho), float(self.x))

    def __len__(self) -> int:
        return len(_reinforcement_grid(self.dr))


@dataclass(frozen=True)
class PlainBP:
    """Plain BP, no focusing: a single step (gamma, y) = (0, 1)."""

    def __iter__(self) -> Iterator[tuple[float, float]]:
        yield 0.0, 1.0

    def __len__(self) -> int:
        return 1


# ====================================================================================== messages

def _check_J(J) -> np.ndarray:
    """Validated float64 copy of J with zero diagonal, at least 2 neurons, real entries."""
    J = np.asarray(J)
    if J.ndim == 2 and (not np.issubdtype(J.dtype, np.number) or np.iscomplexobj(J)):
        raise ValueError(f"J must be real numbers, got dtype {J.dtype}")
    return offdiag_couplings(J, min_n=2)


def _check_prior(prior, N: int) -> np.ndarray:
    if prior is None:
        return np.zeros(N)
    p = np.asarray(prior, dtype=np.float64)
    if p.shape != (N,):
        raise ValueError(f"prior must have shape ({N},), got {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError("prior has non-finite entries")
    return p.copy()


def _block_rows(N: int, nbytes: int = _BLOCK_BYTES) -> int:
    return max(1, min(N, nbytes // (8 * N)))


def _v_floor(J_off: np.ndarray) -> float:
    """Floor of the input variances: 1e-24 times the mean row energy sum_j J_ij^2 (or 1e-300)."""
    return max(1e-24 * float(np.mean(np.einsum("ij,ij->i", J_off, J_off))), 1e-300)


_N_CHUNKS = 8                   # fixed row chunks: partial sums never depend on the thread count
_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()
_blas: ThreadpoolController | None = None     # made on first use (scanning the libraries costs ~1 ms)


def _check_threads(threads) -> int:
    return integer("threads", threads, 1)


def _chunks(N: int, B: int) -> list[tuple[int, int]]:
    """At most _N_CHUNKS contiguous row ranges, aligned to blocks of B rows."""
    n_blocks = -(-N // B)
    edges = np.unique(np.linspace(0, n_blocks, min(_N_CHUNKS, n_blocks) + 1).round().astype(int))
    return [(int(a) * B, min(int(b) * B, N)) for a, b in pairwise(edges)]


def _map_chunks(fn, chunks, threads: int) -> list:
    """[fn(lo, hi, slot) for each chunk], on ``threads`` threads (slot < min(threads, #chunks) is the
    index of a buffer no other running task holds).

    NumPy and SciPy ufuncs and BLAS release the GIL, so threads share the work of a sweep; the
    chunks and the order in which their partial results are combined are fixed, so the result is
    bitwise the same for every ``threads``. While they run, BLAS is held to one thread of its own:
    each chunk's matrix-vector products are memory-bound, and a multithreaded BLAS under every
    Python thread oversubscribes the cores (2 threads were slower than 1 at N = 4000, issue 16).
    """
    global _blas
    if threads == 1 or len(chunks) == 1:
        return [fn(lo, hi, 0) for lo, hi in chunks]
    with _pools_lock:
        pool = _pools.get(threads)
        if pool is None:
            pool = _pools[threads] = ThreadPoolExecutor(max_workers=threads,
                                                        thread_name_prefix="fbp")
        if _blas is None:
            _blas = ThreadpoolController()
    free = list(range(min(threads, len(chunks))))         # at most one slot per running task
    lock = threading.Lock()

    def task(lo, hi):
        with lock:
            slot = free.pop()
        try:
            return fn(lo, hi, slot)
        finally:
            with lock:
                free.append(slot)

    with _blas.limit(limits=1, user_api="blas"):
        futures = [pool.submit(task, lo, hi) for lo, hi in chunks]
        return [f.result() for f in futures]


class _Messages:
    """What both message forms share: the checked inputs, J̃ = J_D − κ, the V floor and the total
    fields with focusing."""

    def _setup(self, J, J_D, kappa, init_amplitude, prior, threads):
        self.J = _check_J(J)
        self.N = N = self.J.shape[0]
        self.J_tilde = finite_scalar("J_D", J_D) - finite_scalar("kappa", kappa)
        amp = finite_scalar("init_amplitude", init_amplitude)
        if amp < 0:
            raise ValueError(f"init_amplitude must be >= 0, got {init_amplitude!r}")
        self.prior = _check_prior(prior, N)
        self.threads = _check_threads(threads)
        self.V_floor = _v_floor(self.J)
        return N, amp

    def fields(self, gamma: float, y: float) -> np.ndarray:
        """Total fields h = h~ + u^foc(h~; gamma, y)."""
        return self.h_cav + focusing_message(self.h_cav, gamma, y)


class BPMessages(_Messages):
    """Full dense BP (SPEC 9): the N x N message matrix and one parallel sweep, O(N^2) per sweep.

    ``U[i, k]`` = u_{i->k} (row = factor, column = variable; the diagonal holds u_{i->i}).
    ``h_cav`` = sum_i U[i, :] + prior (the field without focusing). Notation: module docstring.
    A sweep works on row blocks of ~256 kB, so its temporaries stay cache-sized; memory is U and J.
    Rows of U are updated in place (a block reads only its own rows and the fields h of the previous
    iteration), optionally on ``threads`` threads.
    """

    def __init__(self, J, J_D: float, *, rng, kappa: float = 0.0, init_amplitude: float = 0.01,
                 prior=None, threads: int = 1):
        N, amp = self._setup(J, J_D, kappa, init_amplitude, prior, threads)
        rng = make_rng(rng)
        self.U = amp * (2.0 * rng.random((N, N)) - 1.0)      # C-FBP: uniform in +-amplitude
        self.h_cav = self.U.sum(axis=0) + self.prior
        self._chunks = _chunks(N, _block_rows(N))

    def _update_rows(self, lo: int, hi: int, h: np.ndarray, damping: float) -> tuple[np.ndarray, float]:
        """New messages of factors lo..hi-1 written into U; returns (their column sums, max change)."""
        Jt, U, J = self.J_tilde, self.U, self.J
        B = _block_rows(self.N)
        colsum = np.zeros(self.N)
        delta = 0.0
        for s in range(lo, hi, B):
            e = min(s + B, hi)
            n = e - s
            diag = (np.arange(n), np.arange(s, e))
            Ub = U[s:e]
            Jb = J[s:e]
            C = h[None, :] - Ub                                        # c_{k->i}
            E = np.exp(-2.0 * np.abs(C))
            M = np.copysign((1.0 - E) / (1.0 + E), C)                 # m_{k->i} = tanh c
            S = 4.0 * E / (1.0 + E) ** 2                               # 1 - m^2, no cancellation
            JM = Jb * M
            J2S = Jb * Jb * S
            omega = JM.sum(axis=1)
            V = np.maximum(J2S.sum(axis=1), self.V_floor)
            c_out = C[diag]                                            # c_{i->i}
            om_c = omega[:, None] - JM
            V_c = np.maximum(V[:, None] - J2S, self.V_floor)
            new = factor_input_message(om_c, V_c, Jb, c_out[:, None], Jt)
            new[diag] = factor_output_message(omega, V, Jt)
            np.clip(new, -U_MAX, U_MAX, out=new)
            d = float(np.abs(np.tanh(new) - np.tanh(Ub)).max())
            delta = d if not d <= delta else delta                     # keeps a NaN
            if damping:
                new = (1.0 - damping) * new + damping * Ub
            U[s:e] = new
            colsum += new.sum(axis=0)
        return colsum, delta

    def sweep(self, gamma: float, y: float, damping: float = 0.0) -> float:
        """One parallel update of every message; returns max |tanh u_new - tanh u_old| (NaN if a
        message is not finite)."""
        h = self.fields(gamma, y)
        parts = _map_chunks(lambda lo, hi, slot: self._update_rows(lo, hi, h, damping),
                            self._chunks, self.threads)
        h_cav = self.prior.copy()
        delta = 0.0
        for colsum, d in parts:
            h_cav += colsum
            delta = d if not d <= delta else delta
        self.h_cav = h_cav
        return delta if np.isfinite(delta) else math.nan


class AMPMessages(_Messages):
    """AMP/TAP first-order form of SPEC 9: O(N) state, two passes over J per iteration.

        omega_i^t = sum_j J_ij m_j^t - V_i^t g_i^{t-1},   V_i^t = sum_j J_ij^2 (1 - (m_j^t)^2),
        (u_{i->i}^t, g_i^t, dg_i^t) = factor_derivatives(omega^t, V^t, c_i^t),  c_i^t = h_i^t - u_{i->i}^{t-1},
        h~_k^{t+1} = u_{k->k}^t + sum_i J_ik g_i^t - m_k^t sum_i J_ik^2 dg_i^t + prior_k,
        h^{t+1} = h~^{t+1} + u^foc(h~^{t+1}),   m = tanh h.

    The first pass computes J m and J^2 (1 - m^2), the second J^T g and (J^2)^T dg, both on row
    blocks of J squared in cache, so J is read twice per iteration and J^2 is never stored; the
    passes are memory-bound, and ``threads`` > 1 shares them between cores. Damping acts on
    (u_self, g, dg). The initial state is h~ with the variance of a sum of N messages uniform in
    +-amplitude (the BP initialisation), g = u_self = 0.
    """

    def __init__(self, J, J_D: float, *, rng, kappa: float = 0.0, init_amplitude: float = 0.01,
                 prior=None, threads: int = 1):
        N, amp = self._setup(J, J_D, kappa, init_amplitude, prior, threads)
        self.row_max = np.abs(self.J).max(axis=1)
        # |g_i| <= U_MAX / max_k |J_ik| keeps every implied message J_ik g_i within +-U_MAX
        with np.errstate(divide="ignore"):
            self.g_max = np.where(self.row_max > 0, U_MAX / self.row_max, np.inf)
        rng = make_rng(rng)
        self.h_cav = amp * math.sqrt(N / 3.0) * rng.standard_normal(N) + self.prior
        self.u_self = np.zeros(N)
        self.g = np.zeros(N)
        self.dg = np.zeros(N)
        self._B = _block_rows(N, _AMP_BLOCK_BYTES)
        self._chunks = _chunks(N, self._B)
        self._bufs = [np.empty((self._B, N)) for _ in range(min(self.threads, len(self._chunks)))]

    def _row_pass(self, m: np.ndarray, s2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(J m, J^2 s2), one read of J."""
        J, N, B = self.J, self.N, self._B
        a = np.empty(N)
        b = np.empty(N)

        def work(lo, hi, slot):
            buf = self._bufs[slot]
            for s in range(lo, hi, B):
                e = min(s + B, hi)
                np.dot(J[s:e], m, out=a[s:e])
                np.multiply(J[s:e], J[s:e], out=buf[:e - s])
                np.dot(buf[:e - s], s2, out=b[s:e])

        _map_chunks(work, self._chunks, self.threads)
        return a, b

    def _col_pass(self, g: np.ndarray, dg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(J^T g, (J^2)^T dg), one read of J (partial sums per fixed chunk, added in order)."""
        J, N, B = self.J, self.N, self._B

        def work(lo, hi, slot):
            buf = self._bufs[slot]
            a = np.zeros(N)
            b = np.zeros(N)
            for s in range(lo, hi, B):
                e = min(s + B, hi)
                a += g[s:e] @ J[s:e]
                np.multiply(J[s:e], J[s:e], out=buf[:e - s])
                b += dg[s:e] @ buf[:e - s]
            return a, b

        parts = _map_chunks(work, self._chunks, self.threads)
        a, b = parts[0]
        for pa, pb in parts[1:]:
            a += pa
            b += pb
        return a, b

    def sweep(self, gamma: float, y: float, damping: float = 0.0) -> float:
        """One AMP iteration; returns the message change (see the module docstring; NaN if a
        message is not finite)."""
        h = self.fields(gamma, y)
        E = np.exp(-2.0 * np.abs(h))
        m = np.copysign((1.0 - E) / (1.0 + E), h)
        s2 = 4.0 * E / (1.0 + E) ** 2
        Jm, V = self._row_pass(m, s2)
        V = np.maximum(V, self.V_floor)
        omega = Jm - V * self.g
        c_out = h - self.u_self
        u_self, g, dg = factor_derivatives(omega, V, c_out, self.J_tilde)
        u_self = np.clip(u_self, -U_MAX, U_MAX)
        g = np.clip(g, -self.g_max, self.g_max)
        delta = float(np.max([np.abs(np.tanh(u_self) - np.tanh(self.u_self)).max(),
                              (np.abs(g - self.g) * self.row_max).max()]))     # NaN propagates
        if damping:
            u_self = (1.0 - damping) * u_self + damping * self.u_self
            g = (1.0 - damping) * g + damping * self.g
            dg = (1.0 - damping) * dg + damping * self.dg
        self.u_self, self.g, self.dg = u_self, g, dg
        Jg, J2dg = self._col_pass(g, dg)
        self.h_cav = u_self + Jg - m * J2dg + self.prior
        return delta if np.isfinite(delta) else math.nan


# ======================================================================================== driver

@dataclass(frozen=True)
class StepRecord:
    """One (gamma, y) step of the protocol: iterations run, convergence, final change, unstable spins
    of s^ = sign(h) (0 means s^ is a fixed point)."""
    gamma: float
    y: float
    iterations: int
    converged: bool
    delta: float
    n_unstable: int


@dataclass
class FBPResult:
    """Outcome of :func:`solve`.

    ``state``: the +-1 configuration s^ = sign(h) it ends with (int8, sign(0) = +1);
    ``is_fixed_point``: s^ passes the strict test s_i h_i > kappa for all i;
    ``converged``: BP converged (max change < eps) at the last step run;
    ``status``: "fixed_point", "exhausted" (protocol ended without a fixed point), "nonfinite"
    (a non-finite message stopped the run) or "stopped" (the callback asked to stop);
    ``marginals``: magnetisations tanh h (focusing included; plain BP: the BP marginals);
    ``fields``: total fields h; ``schedule``: one :class:`StepRecord` per step run;
    ``iterations``: sweeps in total; ``n_unstable``: spins of ``state`` with s_i h_i <= kappa.
    """
    state: np.ndarray
    is_fixed_point: bool
    converged: bool
    status: str
    message: str
    marginals: np.ndarray
    fields: np.ndarray
    schedule: list = field(default_factory=list)
    iterations: int = 0
    n_unstable: int = 0
    method: str = "amp"


def _sign(h: np.ndarray) -> np.ndarray:
    return np.where(h >= 0, 1, -1).astype(np.int8)


def _n_unstable(J_off: np.ndarray, J_D: float, kappa: float, s: np.ndarray) -> int:
    sf = s.astype(np.float64)
    return int(np.count_nonzero(sf * (J_off @ sf + J_D * sf) <= kappa))


_METHODS = {"amp": AMPMessages, "bp": BPMessages}


def solve(J, J_D: float, *, rng, protocol=None, method: str = "amp", kappa: float = 0.0,
          eps: float = 1e-3, max_iter: int = 1000, damping: float = 0.5, init_amplitude: float = 0.01,
          prior=None, check_every: int = 0, max_steps: int | None = None,
          callback: Callable[[StepRecord], bool | None] | None = None, threads: int = 1) -> FBPResult:
    """Focusing BP for a fixed point of (J, J_D) with margin kappa (SPEC 9).

    For each (gamma, y) yielded by ``protocol`` (default ``StandardReinforcement(0.01)``; any iterable
    of pairs works, e.g. :class:`Scoping`, :class:`PseudoReinforcement`, :class:`PlainBP` or a list),
    iterate the messages (``method="amp"``: :class:`AMPMessages`, O(N^2) per iteration with O(N)
    memory; ``"bp"``: the full dense :class:`BPMessages`) until the change is below ``eps`` or
    ``max_iter`` iterations; then test s^ = sign(h) and stop at the first fixed point. A step that
    does not converge is recorded and the protocol goes on (as in C-FBP). ``check_every`` > 0 also
    tests s^ every that many iterations inside a step (one extra mat-vec each time; 0 = only after
    each step, as SPEC 9). ``max_steps`` caps the number of steps (for endless protocols).
    ``callback(record)`` is called after each step (the last one too); a true return value stops
    the run.

    ``damping`` defaults to 0.5, not to C-FBP's 0: C-FBP updates its factors one at a time in random
    order, while both forms here update all messages in parallel. Undamped parallel updates at
    y > ~2 behave like synchronous (Little) dynamics of the fields and oscillate: on core-model
    instances with N = 200, J_D = 0.5 no step converged and no fixed point was found, against 4/4
    found within ~300 iterations with damping 0.5 (standard reinforcement, pseudo-reinforcement
    and scoping alike).

    ``rng``: a Generator/seed for the random initial messages (uniform in +-``init_amplitude``).
    ``prior``: optional fields prior_k (the measure gets prod_k e^{prior_k s_k}).
    ``threads``: threads sharing each sweep (results are bitwise the same for every value; keep 1
    when instances already run in parallel processes).
    Returns an :class:`FBPResult`; a non-finite message ends the run with status "nonfinite".
    """
    if method not in _METHODS:
        raise ValueError(f"unknown method {method!r}; expected 'amp' or 'bp'")
    J_D = finite_scalar("J_D", J_D)
    kappa = finite_scalar("kappa", kappa)
    eps = finite_scalar("eps", eps)
    if eps <= 0:
        raise ValueError(f"eps must be > 0, got {eps!r}")
    max_iter = integer("max_iter", max_iter, 1)
    damping = finite_scalar("damping", damping)
    if not 0.0 <= damping < 1.0:
        raise ValueError(f"damping must lie in [0, 1), got {damping!r}")
    check_every = integer("check_every", check_every, 0)
    if max_steps is not None:
        max_steps = integer("max_steps", max_steps, 1)
    if protocol is None:
        protocol = StandardReinforcement(0.01)
    try:
        steps = iter(protocol)
    except TypeError:
        raise ValueError(f"protocol must be an iterable of (gamma, y) pairs, got {protocol!r}") from None

    msgs = _METHODS[method](J, J_D, rng=rng, kappa=kappa, init_amplitude=init_amplitude,
                            prior=prior, threads=threads)
    J_off = msgs.J                                        # validated copy, zero diagonal
    schedule: list[StepRecord] = []
    total = 0
    status, message = "exhausted", ""
    converged = False
    h = msgs.h_cav.copy()
    last_good = h
    for n_step, pair in enumerate(steps):
        if max_steps is not None and n_step >= max_steps:
            break
        try:
            gamma, y = pair
        except (TypeError, ValueError):
            raise ValueError(f"protocol must yield (gamma, y) pairs, got {pair!r}") from None
        gamma, y = _check_gamma_y(gamma, y)
        converged, delta, it, found_inside = False, math.nan, 0, False
        for it in range(1, max_iter + 1):
            delta = msgs.sweep(gamma, y, damping)
            h = msgs.fields(gamma, y)
            if not (np.isfinite(delta) and np.all(np.isfinite(h))):
                status = "nonfinite"
                message = (f"non-finite message at step {n_step} (gamma={gamma:g}, y={y:g}), "
                           f"iteration {it}; state = sign of the last finite fields")
                break
            last_good = h
            if delta < eps:
                converged = True
                break
            if check_every and it % check_every == 0 and \
                    _n_unstable(J_off, J_D, kappa, _sign(h)) == 0:
                found_inside = True
                break
        total += it
        if status == "nonfinite":
            s = _sign(last_good)
            schedule.append(StepRecord(gamma, y, it, False, math.nan, _n_unstable(J_off, J_D, kappa, s)))
            converged = False
            break
        s = _sign(h)
        nu = _n_unstable(J_off, J_D, kappa, s)
        rec = StepRecord(gamma, y, it, converged, float(delta), nu)
        schedule.append(rec)
        stop = bool(callback(rec)) if callback is not None else False
        if nu == 0:
            status = "fixed_point"
            message = (f"fixed point at step {n_step} (gamma={gamma:g}, y={y:g}) after {total} "
                       f"iterations" + (" (found inside the step)" if found_inside else ""))
            break
        if stop:
            status, message = "stopped", f"stopped by the callback after step {n_step}"
            break
    hf = last_good
    s = _sign(hf)
    nu = _n_unstable(J_off, J_D, kappa, s)
    if status == "exhausted":
        message = (f"protocol ended after {len(schedule)} steps without a fixed point "
                   f"({nu} unstable spins)")
    return FBPResult(state=s, is_fixed_point=nu == 0, converged=converged, status=status,
                     message=message, marginals=np.tanh(hf), fields=hf.copy(), schedule=schedule,
                     iterations=total, n_unstable=nu, method=method)
