"""Annealed (first- and second-moment) theory of fixed points (SPEC §4).

A configuration s is a fixed point (FP) with margin κ when s_i h_i > κ for every i, with
h_i = Σ_{j≠i} J_ij s_j + J_D s_i and J_ij ~ 𝒩(0, 1/N) i.i.d. (SPEC §3.1). Everything depends on
J_D and κ only through J̃ = J_D − κ. Entropies are per spin, in nats.
"""

from __future__ import annotations

import numpy as np
from scipy import special as sp

from toolkit.checks import integer

from .special import binary_entropy, bisect, check_finite, log_Phi, log_Phi2, mills

LN2 = float(np.log(2.0))


def _jt(J_D, kappa):
    return check_finite("J_D", J_D) - check_finite("kappa", kappa)


def _check_N(N, minimum=2) -> int:
    return integer("N", N, minimum)


# ----------------------------------------------------------------------------------------------
# §4.1 Core model
# ----------------------------------------------------------------------------------------------

def entropy_core(J_D, kappa=0.0):
    """S_a(J_D, κ) = ln 2 + ln Φ(J̃) = ln[2Φ(J̃)], J̃ = J_D − κ (SPEC §4.1).

    lim (1/N) ln E𝒩. Log domain throughout, so J̃ = ±40 give finite, accurate values
    (S_a(−40) ≈ −803.9, S_a(40) = ln 2 − 3.7e-350).
    """
    return LN2 + log_Phi(_jt(J_D, kappa))


def log_mean_count(N, J_D, kappa=0.0, *, L=1, lam_left=0.0, lam_right=None):
    """ln E𝒩 exactly at finite N for Gaussian couplings with zero diagonal (SPEC §4.1, §4.4).

    For fixed s the stabilities u_i = s_i Σ_{j≠i} J_ij s_j are independent 𝒩(0, σ_N²), σ_N² = (N−1)/N,
    so E𝒩 = 2^N Φ(J̃/σ_N)^N for the core model, and E𝒩 = Z_col(J̃/σ_N, λ/σ_N)^N for the L-module chain
    of N neurons per module (:func:`log_column_partition`).
    """
    N = _check_N(N)
    sig = np.sqrt((N - 1) / N)
    jt = _jt(J_D, kappa)
    if L == 1:
        return N * (LN2 + log_Phi(jt / sig))
    lam_left = check_finite("lam_left", lam_left)
    lam_right = lam_left if lam_right is None else check_finite("lam_right", lam_right)
    return N * log_column_partition(jt / sig, lam_left / sig, lam_right / sig, L)


def mean_count(N, J_D, kappa=0.0, *, L=1, lam_left=0.0, lam_right=None):
    """E𝒩 = exp(:func:`log_mean_count`); overflows to inf beyond ~1e308 (use the log)."""
    with np.errstate(over="ignore"):
        return np.exp(log_mean_count(N, J_D, kappa, L=L, lam_left=lam_left, lam_right=lam_right))


# ----------------------------------------------------------------------------------------------
# §4.2 Partially symmetric couplings
# ----------------------------------------------------------------------------------------------

def symmetric_saddle(J_D, eta, kappa=0.0):
    """t* = argmax_t { ln[2Φ(J̃ + √η t)] − t²/2 }: the root of √η R(J̃ + √η t) = t, R = φ/Φ.

    The objective is strictly concave, and the root lies in [0, √η R(J̃)] (R is decreasing and
    positive), so a vectorised bisection to machine precision is safe.
    """
    jt = _jt(J_D, kappa)
    eta = check_finite("eta", eta)
    if np.any((eta < 0) | (eta > 1)):
        raise ValueError(f"eta must be in [0, 1], got {eta!r}")
    jt, se = np.broadcast_arrays(jt, np.sqrt(eta))
    # 100 halvings of an interval of length ≤ √(2/π) reach machine precision
    return bisect(lambda t: se * mills(jt + se * t) - t, np.zeros(jt.shape), se * mills(jt) + 1e-300)


def entropy_symmetric(J_D, eta, kappa=0.0):
    """S(J_D, η) = max_t { ln[2Φ(J̃ + √η t)] − t²/2 } (SPEC §4.2).

    corr(J_ij, J_ji) = η makes the stabilities equicorrelated with covariance η/N; a large deviation
    of their common mode gives the formula. η = 0 gives S_a; η = 1, J_D = 0 gives the
    Tanaka–Edwards value 0.199228 (t* ≈ 0.506).
    """
    t = symmetric_saddle(J_D, eta, kappa)
    return LN2 + log_Phi(_jt(J_D, kappa) + np.sqrt(np.asarray(eta, float)) * t) - 0.5 * t * t


# ----------------------------------------------------------------------------------------------
# §4.3 Second moment: pair counts
# ----------------------------------------------------------------------------------------------

def pair_exponent(q, J_D, kappa=0.0):
    """f(q) = ln 2 + H_b((1+q)/2) + ((1+q)/2) ln Φ₂(J̃,J̃;q) + ((1−q)/2) ln Φ₂(J̃,J̃;−q) (SPEC §4.3).

    (1/N) ln of the mean number of ordered FP pairs at overlap q. f(0) = 2S_a, f(±1) = S_a; the
    terms with a vanishing prefactor are dropped (0·ln 0 = 0). Near q → 1 prefer
    :func:`pair_exponent_d`, which takes the distance d = (1−q)/2 without rounding it through q.
    """
    q = check_finite("q", q)
    if np.any(np.abs(q) > 1):
        raise ValueError("q must be in [-1, 1]")
    return pair_exponent_d((1.0 - q) / 2.0, J_D, kappa)


def pair_exponent_d(d, J_D, kappa=0.0):
    """f(1 − 2d) written in the distance d ∈ [0, 1] (SPEC §4.3, §4.5):

    ln 2 + H_b(d) + (1−d) ln Φ₂(J̃,J̃;1−2d) + d ln Φ₂(J̃,J̃;−(1−2d)),
    with 1 ∓ ρ passed to Φ₂ as 2d and 2(1−d) exactly, so d = 1e-12 keeps all its digits.
    """
    d = check_finite("d", d)
    if np.any((d < 0) | (d > 1)):
        raise ValueError("d must be in [0, 1]")
    jt = _jt(J_D, kappa)
    d, jt = np.broadcast_arrays(d, jt)
    rho = 1.0 - 2.0 * d
    near, far = 2.0 * d, 2.0 * (1.0 - d)
    out = LN2 + binary_entropy(d)
    pos = d < 1
    out = out + np.where(pos, (1 - d) * _masked_log_Phi2(pos, jt, rho, near, far), 0.0)
    neg = d > 0
    return out + np.where(neg, d * _masked_log_Phi2(neg, jt, -rho, far, near), 0.0)


def _masked_log_Phi2(mask, a, rho, omr, opr):
    """ln Φ₂(a, a; ρ) where ``mask`` holds (0 elsewhere), with 1 − ρ and 1 + ρ given exactly."""
    out = np.zeros(a.shape)
    out[mask] = log_Phi2(a[mask], a[mask], rho[mask], omr=omr[mask], opr=opr[mask])
    return out


def log_mean_pair_count(N, k, J_D, kappa=0.0):
    """ln E𝒩₂(k): ordered FP pairs at Hamming distance k, exactly at finite N (SPEC §4.3).

    E𝒩₂(k) = 2^N C(N,k) Φ₂(a,a;ρ_k)^{N−k} Φ₂(a,a;−ρ′_k)^k, a = J̃/σ_N, ρ_k = (N−1−2k)/(N−1),
    ρ′_k = (N+1−2k)/(N−1). k = 0 and k = N both give E𝒩.
    """
    N = _check_N(N)
    k = np.asarray(k)
    if not np.issubdtype(k.dtype, np.integer) or np.any((k < 0) | (k > N)):
        raise ValueError(f"k must be integers in [0, {N}]")
    a = _jt(J_D, kappa) / np.sqrt((N - 1) / N)
    k, a = np.broadcast_arrays(k, a)
    kf = k.astype(float)
    log_binom = sp.gammaln(N + 1) - sp.gammaln(kf + 1) - sp.gammaln(N - kf + 1)
    # Sites where the two configurations agree: ρ_k, 1 − ρ_k = 2k/(N−1), 1 + ρ_k = 2(N−1−k)/(N−1).
    agree = k < N
    t1 = (N - kf) * _masked_log_Phi2(agree, a, (N - 1 - 2 * kf) / (N - 1), 2 * kf / (N - 1),
                                     2 * (N - 1 - kf) / (N - 1))
    # Sites where they differ: −ρ′_k, 1 + ρ′_k = 2(N−k)/(N−1), 1 − ρ′_k = 2(k−1)/(N−1).
    differ = k > 0
    t2 = kf * _masked_log_Phi2(differ, a, -(N + 1 - 2 * kf) / (N - 1), 2 * (N - kf) / (N - 1),
                               2 * (kf - 1) / (N - 1))
    return N * LN2 + log_binom + t1 + t2


def mean_pair_count(N, k, J_D, kappa=0.0):
    """E𝒩₂(k) = exp(:func:`log_mean_pair_count`)."""
    with np.errstate(over="ignore"):
        return np.exp(log_mean_pair_count(N, k, J_D, kappa))


# ----------------------------------------------------------------------------------------------
# §4.4 The L-module chain
# ----------------------------------------------------------------------------------------------

def transfer_matrix(J_D, lam_left, lam_right=None, kappa=0.0):
    """T_{ττ′} = Φ(J̃ + λ_L τ + λ_R τ′), b_R(τ) = Φ(J̃ + λ_R τ), b_L(τ) = Φ(J̃ + λ_L τ) (SPEC §4.4).

    Index 0 is τ = +1, index 1 is τ = −1. Returns (T, b_L, b_R) with shapes (..., 2, 2), (..., 2),
    (..., 2), broadcast over the parameters.
    """
    logT, lbl, lbr = _log_transfer(_jt(J_D, kappa), check_finite("lam_left", lam_left),
                                   check_finite("lam_right", lam_left if lam_right is None
                                                else lam_right))
    return np.exp(logT), np.exp(lbl), np.exp(lbr)


_TAU = np.array([1.0, -1.0])


def _log_transfer(jt, lam_l, lam_r):
    jt, lam_l, lam_r = np.broadcast_arrays(jt, lam_l, lam_r)
    e = (...,) + (None,)
    logT = log_Phi(jt[e + (None,)] + lam_l[e + (None,)] * _TAU[:, None] + lam_r[e + (None,)] * _TAU)
    lbl = log_Phi(jt[e] + lam_l[e] * _TAU)
    lbr = log_Phi(jt[e] + lam_r[e] * _TAU)
    return logT, lbl, lbr


def log_column_partition(jt, lam_left, lam_right, L):
    """ln Z_col, Z_col = 2 b_Rᵀ T^{L−2} b_L (L ≥ 2), 2Φ(J̃) (L = 1) (SPEC §4.4, gauge form).

    Takes J̃ directly. The matrix power is done by repeated squaring on log-rescaled 2×2 matrices
    (O(log L) products, no underflow for J̃ ≪ 0), vectorised over the parameters.
    """
    L = _check_L(L)
    jt, lam_left, lam_right = np.broadcast_arrays(np.asarray(jt, float), np.asarray(lam_left, float),
                                                  np.asarray(lam_right, float))
    if L == 1:
        return LN2 + log_Phi(jt)
    logT, lbl, lbr = _log_transfer(jt, lam_left, lam_right)
    # v = T^{L−2} b_L, kept as (scale, direction): ln v = shift + ln(dir)
    vec, shift = _normalise(np.exp(lbl - lbl.max(-1, keepdims=True)))
    shift = shift + lbl.max(-1)
    M, mshift = _normalise_mat(logT)
    p = L - 2
    while p:
        if p & 1:
            vec, s = _normalise(np.einsum("...ij,...j->...i", M, vec))
            shift = shift + s + mshift
        p >>= 1
        if p:
            M, s = _normalise_mat(np.log(np.einsum("...ij,...jk->...ik", M, M)))
            mshift = 2 * mshift + s
    br_max = lbr.max(-1)
    dot = np.einsum("...i,...i->...", np.exp(lbr - br_max[..., None]), vec)
    return LN2 + br_max + shift + np.log(dot)


def _normalise(v):
    s = v.max(-1)
    return v / s[..., None], np.log(s)


def _normalise_mat(logM):
    m = logM.max(axis=(-2, -1))
    return np.exp(logM - m[..., None, None]), m


def _check_L(L):
    return integer("L", L, 1)


def log_perron(J_D, lam_left, lam_right=None, kappa=0.0):
    """ln μ_max(T), the L → ∞ entropy per neuron of the chain (SPEC §4.4).

    For the positive 2×2 matrix T: μ_max = tr/2 + √((tr/2)² − det) written as
    tr/2 + √(((T₁₁−T₂₂)/2)² + T₁₂T₂₁) to avoid cancellation.
    """
    T, _, _ = transfer_matrix(J_D, lam_left, lam_right, kappa)
    t11, t12, t21, t22 = T[..., 0, 0], T[..., 0, 1], T[..., 1, 0], T[..., 1, 1]
    return np.log((t11 + t22) / 2 + np.sqrt(((t11 - t22) / 2) ** 2 + t12 * t21))


def entropy_chain(J_D, lam_left, lam_right=None, L=2, kappa=0.0, per="column"):
    """Annealed entropy of the L-module chain (SPEC §4.4).

    per="column": S^{(L)} = (1/N) ln E𝒩 = ln Z_col; per="neuron": S^{(L)}/L. ``L = np.inf`` with
    per="neuron" gives ln μ_max(T). For L = 2, λ_L = λ_R = λ:
    S^{(2)} = ln 2 + ln[Φ(J̃+λ)² + Φ(J̃−λ)²] per column.
    """
    if per not in ("column", "neuron"):
        raise ValueError(f"per must be 'column' or 'neuron', got {per!r}")
    lam_left = check_finite("lam_left", lam_left)
    lam_right = lam_left if lam_right is None else check_finite("lam_right", lam_right)
    if L == np.inf:
        if per != "neuron":
            raise ValueError("L = inf is only defined per neuron")
        return log_perron(J_D, lam_left, lam_right, kappa)
    L = _check_L(L)
    S = log_column_partition(_jt(J_D, kappa), lam_left, lam_right, L)
    return S / L if per == "neuron" else S
