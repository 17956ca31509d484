"""Large deviations of the local entropy for the L-module chain at integer y (SPEC §6.7).

Per site: a reference column σ̃ ∈ {±1}^L and y satellite columns σ^1..σ^y. Layer ℓ has its own
couplings J^ℓ, hence its own Gaussian z_ℓ and order parameters (p_ℓ, p̂_ℓ, q1_ℓ, q̂1_ℓ). With the
local margins (SPEC §3.3, §4.4)

  a_ℓ(σ) = J̃ + λ_L σ_ℓσ_{ℓ−1}·1[ℓ>1] + λ_R σ_ℓσ_{ℓ+1}·1[ℓ<L],   J̃ = J_D − κ,

a satellite column σ is stable with probability Π_ℓ h_ℓ(σ, z_ℓ) and the reference with
Π_ℓ r_ℓ(σ̃, z_ℓ), where (fields u^ℓ = √q1_ℓ z_ℓ + √(1−q1_ℓ) ξ, ũ^ℓ = (p_ℓ/√q1_ℓ) z_ℓ + …, stable
when σ_ℓ u^ℓ > −a_ℓ(σ))

  h_ℓ(σ, z) = H(−(a_ℓ(σ) + σ_ℓ √q1_ℓ z)/√(1−q1_ℓ)),
  r_ℓ(σ̃, z) = H(−(a_ℓ(σ̃) + σ̃_ℓ p_ℓ z/√q1_ℓ)/√(1−p_ℓ²/q1_ℓ))   (r ≡ 1: free reference).

For L = 1 and σ̃ = +1 these are H±, H_r of SPEC §5.

Free entropy per column (derived here; for L = 1 it is SPEC §6.3 term by term):

  Φ(d, y) = extr { −Σ_ℓ [y p_ℓ p̂_ℓ + y(y−1) q1_ℓ q̂1_ℓ/2 + y q̂1_ℓ/2] + ln 2 + G },
  G = ln Σ_{σ̃: σ̃_1=+1} Σ_{n} (y; n) e^{Σ_ℓ [p̂_ℓ σ̃_ℓ M_ℓ + q̂1_ℓ M_ℓ²/2]} Π_ℓ I_ℓ(σ̃, n),
  I_ℓ(σ̃, n) = ∫Dz_ℓ r_ℓ(σ̃, z_ℓ) Π_σ h_ℓ(σ, z_ℓ)^{n_σ},

with n = (n_σ) the counts of the 2^L column types among the satellites (Σ n_σ = y), (y; n) the
multinomial coefficient and M_ℓ = Σ_σ n_σ σ_ℓ. The entropic factor is exp(p̂_ℓ Σ_a σ̃_ℓσ^a_ℓ +
q̂1_ℓ Σ_{a<b} σ^a_ℓσ^b_ℓ) = exp(p̂_ℓσ̃_ℓM_ℓ + q̂1_ℓ(M_ℓ² − y)/2); the −y q̂1_ℓ/2 is written outside
the logarithm as in SPEC §6.3 (it must not be counted twice).

Two structural facts make this cheap and exact in the g-integrals:

- **Separability.** For fixed (σ̃, n) the integrand is a product over layers, so the L-dimensional
  z-integral factorises into L one-dimensional integrals I_ℓ(σ̃, n); the coupling between layers is
  only in the finite sum over (σ̃, n). Each I_ℓ is done on a composite Gauss–Legendre z rule
  (:func:`theory.quadrature.gauss_grid`) graded around every sharp point of layer ℓ (the steps of
  h_ℓ at z = −σ_ℓ a_ℓ(σ)/√q1_ℓ, width √(1−q1_ℓ)/√q1_ℓ, and of r_ℓ at z = −σ̃_ℓ a_ℓ(σ̃)√q1_ℓ/p,
  width √(q1_ℓ−p²)/p), in the log domain (``log_Phi``, log-sum-exp).
- **Gauge.** Flipping a whole site (reference and every satellite column, all layers) together with
  z → −z is an exact symmetry: the margins a_ℓ depend on the products σ_ℓσ_{ℓ±1} only. So the sum
  over σ̃ is 2 × the sum over σ̃ with σ̃_1 = +1 (the ln 2). A per-layer gauge σ̃_ℓ = +1 for every ℓ
  is *not* valid for λ ≠ 0 (flipping one layer changes σ_ℓσ_{ℓ±1}); the remaining 2^{L−1}
  reference columns are summed explicitly.

Distance (SPEC Q3): one common distance, p_ℓ = p = 1 − 2d in every layer, each with its own p̂_ℓ.
For λ_L = λ_R and L = 2 the layers are mirror images; the solver does not impose p̂_1 = p̂_2, and
the symmetric saddle comes out symmetric to rounding (tested).

Stationarity, with π(σ̃, n) ∝ (y; n) e^{Σ_ℓ[p̂_ℓσ̃_ℓM_ℓ + q̂1_ℓM_ℓ²/2]} Π_ℓ I_ℓ(σ̃, n):

  p = ⟨σ̃_ℓ M_ℓ⟩_π / y          (root in p̂: a convex minimisation, Newton on the covariance),
  q1_ℓ = (⟨M_ℓ²⟩_π − y)/(y(y−1)),
  q̂1_ℓ = 2 ⟨∂_{q1_ℓ} ln I_ℓ(σ̃, n)⟩_π /(y(y−1)),
  ∂_{q1_ℓ} ln I_ℓ = E_z[∂_{q1_ℓ} ln r_ℓ + Σ_σ n_σ ∂_{q1_ℓ} ln h_ℓ(σ)]  (Mills ratios, analytic).

Special values. y = 0: Φ = ln Z_col = S_a per column (SPEC §4.4; free reference: L ln 2) and the
order parameters drop out. y = 1: q1 and q̂1 drop out (M_ℓ² = 1 = y and ∫Dz r h = Φ₂) and

  Φ(d, 1) = extr_{p̂} { −p Σ_ℓ p̂_ℓ
                       + ln Σ_{σ,σ̃} e^{Σ_ℓ p̂_ℓσ_ℓσ̃_ℓ} Π_ℓ Φ₂(a_ℓ(σ), a_ℓ(σ̃); σ_ℓσ̃_ℓ p) },

the chain pair count S_pair of SPEC §4.5 (the solver evaluates it through the same quadrature with
q̂1 = 0); for the free reference Φ(d, 1) = ln Z_col + L H_b(d) exactly
(Σ_σ̃ e^{p̂·σσ̃} = Π_ℓ 2cosh p̂_ℓ for every σ, then tanh p̂_ℓ = p).

Internal entropy. y is an integer here, so ∂_y is not available from the multinomial. :func:`solve`
gives S_I(d, y) = Φ'(y) by the five-point stencil over the saddles at the neighbouring integers
(each Φ at its own saddle; error Φ⁽⁵⁾/30, measured ≲ 2e-4 at y = 2 and ≲ 5e-5 at y = 3 against
the continuous-y envelope formula of the L = 1 solver) and Σ_ext = Φ − y S_I; at y = 0 S_I (the
Franz–Parisi potential) would need the continuous-y form and is not computed (NaN with a message;
Σ_ext(0) = Φ(0)). :func:`densest` interpolates Φ(y) over the integers by a cubic spline and solves
Φ(y*) − y*Φ'(y*) = 0 (see there).

Branches. For y > 1 the q1 terms carry the positive multiplicity y(y−1)/2, so the physical RS saddle
is a local maximum of the reduced Φ_red(q1) = extr_{p̂,q̂1} Φ (:func:`q1_curvature`). At small d the
q1 < 1 branch ends in a fold (it then exists only for y above some y_f(d)); near the fold the
iteration can also converge to the partner saddle (a local minimum in q1) or run to q1 → 1, where
Φ_red tends to the trivial "all satellites equal" value Φ(1). Those are reported, not used.

All entropies are per column; :class:`ChainLDResult` also gives them per neuron (÷ L, SPEC §6.7).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import combinations
from types import SimpleNamespace

import numpy as np
from scipy import special as sp
from scipy.interpolate import CubicSpline
from scipy.optimize import brentq

from toolkit.checks import finite_array as finite_array_
from toolkit.checks import finite_scalar, integer

from .saddle_tools import AndersonMixer, LDResult, along_d, carry, check_args
from .annealed import LN2, log_column_partition
from .quadrature import gauss_grid
from .special import binary_entropy, exp_floor, log_Phi, mills

#: refuse problems with more (σ̃, n) states than this (memory ~ states × z-nodes × 8 bytes)
MAX_STATES = 20_000
#: 1 − q1_ℓ below this fraction of 1 − p² and still rising: the iteration has left the q1 < 1 branch
#: for the spurious q1 → 1 basin (the criterion of :mod:`theory.large_deviation`)
Q1_RUNAWAY = 1e-3
#: cold start q̂1: small, so that the iteration lands on the low-q1 branch (the continuation of the
#: large-d branch); q̂1 = 0.5 (the L = 1 default) can land on a coexisting high-q1 branch
COLD_Q1_HAT = 0.05
#: :func:`densest` walks on until the spline has this many consecutive integers y
MIN_BLOCK = 6


def _lse(x, axis=None):
    """ln Σ e^x (log-sum-exp) along ``axis``; a lean version of ``scipy.special.logsumexp`` (whose
    array-API dispatch dominates the cost here). Rows that are all −inf give −inf."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out.squeeze(axis=axis) if axis is not None else float(out.ravel()[0])


# ----------------------------------------------------------------------------------------------
# Combinatorics of the columns
# ----------------------------------------------------------------------------------------------

@cache
def column_types(L: int) -> np.ndarray:
    """The 2^L columns σ ∈ {±1}^L as rows of a float array (row 0 is all +1; bit ℓ of the row
    index set ⇔ σ_ℓ = −1)."""
    bits = (np.arange(2 ** L)[:, None] >> np.arange(L)[None, :]) & 1
    out = (1.0 - 2.0 * bits)
    out.setflags(write=False)
    return out


def local_margins(jt, lam_left, lam_right, sigma):
    """a_ℓ(σ) = J̃ + λ_L σ_ℓσ_{ℓ−1}·1[ℓ>1] + λ_R σ_ℓσ_{ℓ+1}·1[ℓ<L] for each row σ (SPEC §4.4)."""
    sigma = np.asarray(sigma, float)
    a = np.full(sigma.shape, float(jt))
    a[:, 1:] += lam_left * sigma[:, 1:] * sigma[:, :-1]
    a[:, :-1] += lam_right * sigma[:, :-1] * sigma[:, 1:]
    return a


@lru_cache(maxsize=64)
def compositions(y: int, k: int) -> np.ndarray:
    """All n ∈ ℕ^k with Σ n = y (stars and bars), shape (C(y+k−1, k−1), k)."""
    if k == 1:
        out = np.array([[y]])
    else:
        rows = [np.diff((-1,) + bars + (y + k - 1,)) - 1
                for bars in combinations(range(y + k - 1), k - 1)]
        out = np.array(rows, dtype=np.int64).reshape(-1, k)
    out.setflags(write=False)
    return out


def n_states(y: int, L: int) -> int:
    """Number of (σ̃, n) terms: 2^{L−1} gauged reference columns × C(y + 2^L − 1, 2^L − 1)."""
    k = 2 ** L
    return 2 ** (L - 1) * int(sp.comb(y + k - 1, k - 1, exact=True))


# ----------------------------------------------------------------------------------------------
# One site at fixed order parameters
# ----------------------------------------------------------------------------------------------

#: exponents of the factorised sums are floored here (:func:`theory.special.exp_floor`): every
#: factor is then at least e^-350 and no product of two is subnormal
EXP_FLOOR = -350.0
#: a factorised sum below this (relative to its factors' maxima) is recomputed jointly: flooring
#: raises a sum by at most nz e^-350 < 1e-148, a relative error below 1e-28 of any sum above 1e-120
_TINY = 1e-120


def _joint_integrals(T, dlr, D):
    """ln Σ_z e^T and Σ_z e^T (dlr + D) / Σ_z e^T along the last axis, with the maximum of T
    subtracted first (rows that are all −inf give −inf and nan)."""
    m = T.max(axis=-1, keepdims=True)
    m[~np.isfinite(m)] = 0.0
    E = np.exp(T - m)
    S = E.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(S) + m[..., 0], (E * (dlr + D)).sum(axis=-1) / S


def _layer_integrals(A, B, dlr, D):
    """ln I_ℓ(σ̃, n) = ln Σ_z e^{A_σ̃z + B_nz} and the π_z-averages ⟨dlr_σ̃ + D_n⟩ (SPEC §6.9).

    A (nref, nz) is ln w_z + ln H_r, B (ncomp, nz) is n·ln H; dlr and D = n·∂ln H are their
    q1-derivatives. The exponential factorises, e^{A+B} = e^{A − a} e^{B − b} e^{a + b} with the row
    maxima a, b, so the sums over z are three matrix products instead of an (nref, ncomp, nz)
    exponential. Terms below e^-350 of their row maximum are raised to it (:data:`EXP_FLOOR`); where a
    sum is below 1e-120 (its terms far from both maxima) that (σ̃, n) pair is recomputed jointly
    (:func:`_joint_integrals`).
    Returns ln I and the averages, both (nref, ncomp)."""
    a = A.max(axis=1, keepdims=True)
    b = B.max(axis=1, keepdims=True)
    a[~np.isfinite(a)] = 0.0
    b[~np.isfinite(b)] = 0.0
    EA, EB = exp_floor(A - a, EXP_FLOOR), exp_floor(B - b, EXP_FLOOR)
    S = EA @ EB.T
    num = (EA * dlr) @ EB.T + EA @ (EB * D).T
    with np.errstate(divide="ignore", invalid="ignore"):
        lI, avg = np.log(S) + a + b.T, num / S
    bad = ~(S >= _TINY)
    if bad.any():
        r, c = np.nonzero(bad)
        lI[r, c], avg[r, c] = _joint_integrals(A[r] + B[c], dlr[r], D[c])
    return lI, avg


def layer_rule(p, q1, sigma_l, a_l, ref_l, a_ref_l, step, constrained=True):
    """The z rule of one layer at fixed q1 (graded at the sharp steps of the satellites' and the
    reference's stabilities) and the Gaussian-tail arguments on it: (z, wz, x, xr, Dr) with
    x = (a(σ) + σ_ℓ√q1 z)/√(1 − q1) per column type (rows of ``sigma_l``, ``a_l``) and, for the
    constrained reference, xr = (a(σ̃) + σ̃_ℓ p z/√q1)/Dr, Dr = √(1 − p²/q1) (else None, NaN)."""
    sq, s1 = np.sqrt(q1), np.sqrt(1.0 - q1)
    sharp = [(c, s1 / sq) for c in np.unique(-sigma_l * a_l / sq)]
    xr, Dr = None, np.nan
    if constrained and p > 0:
        Dr = np.sqrt(1.0 - p * p / q1)
        wr = np.sqrt(max(q1 - p * p, 0.0)) / p
        sharp += [(c, wr) for c in np.unique(-ref_l * a_ref_l * sq / p)]
    z, wz = gauss_grid(sharp, step=step)
    x = (a_l[:, None] + sigma_l[:, None] * sq * z) / s1
    if constrained:
        xr = (a_ref_l[:, None] + ref_l[:, None] * p * z / sq) / Dr
    return z, wz, x, xr, Dr


class ChainSite:
    """The finite sum over (σ̃, n) with the layer integrals I_ℓ(σ̃, n) at fixed (q1_ℓ, q̂1_ℓ).

    Built once per (q1, q̂1); :meth:`solve_p_hat` and :meth:`averages` then only re-weight the
    2^{L−1} × C(y + 2^L − 1, 2^L − 1) states, so the inner root in p̂ costs nothing.
    """

    def __init__(self, p, jt, lam_left, lam_right, L, q1, q1_hat, y, *,
                 reference="constrained", step=0.5):
        self.y, self.L, self.p = int(y), int(L), float(p)
        q1 = np.broadcast_to(np.asarray(q1, float), (L,))
        q1_hat = np.broadcast_to(np.asarray(q1_hat, float), (L,))
        sigma = column_types(L)
        a = local_margins(jt, lam_left, lam_right, sigma)
        ref = sigma[sigma[:, 0] > 0]  # gauge σ̃_1 = +1
        a_ref = local_margins(jt, lam_left, lam_right, ref)
        n = compositions(self.y, 2 ** L)
        M = n @ sigma                                     # (ncomp, L)
        self.M = M
        self.features = ref[:, None, :] * M[None, :, :]   # σ̃_ℓ M_ℓ, (nref, ncomp, L)
        lmult = sp.gammaln(self.y + 1) - sp.gammaln(n + 1).sum(axis=1)
        lw0 = np.broadcast_to(lmult + 0.5 * (M * M) @ q1_hat, (ref.shape[0], n.shape[0])).copy()
        self.dlnI = np.empty(self.features.shape)
        self.nodes = []
        constrained = reference == "constrained"
        for l in range(L):
            sq, s1 = np.sqrt(q1[l]), np.sqrt(1.0 - q1[l])
            z, wz, x, xr, Dr = layer_rule(p, q1[l], sigma[:, l], a[:, l], ref[:, l], a_ref[:, l],
                                          step, constrained)
            self.nodes.append(z.size)
            dx = sigma[:, l, None] * z / (2 * sq * s1) + x / (2 * (1.0 - q1[l]))
            lh, dlh = log_Phi(x), mills(x) * dx
            if constrained:
                dxr = (-ref[:, l, None] * p * z / (2 * q1[l] ** 1.5 * Dr)
                       - xr * p * p / (2 * q1[l] ** 2 * Dr * Dr))
                lr, dlr = log_Phi(xr), mills(xr) * dxr
            else:
                lr = dlr = np.zeros((ref.shape[0], z.size))
            lI, self.dlnI[..., l] = _layer_integrals(np.log(wz) + lr, n @ lh, dlr, n @ dlh)
            lw0 += lI
        self.lw0 = lw0
        # ∫Dz r_ℓ = Φ(a_ℓ(σ̃)) on the same rules: ln Σ_σ̃ Π_ℓ I_ℓ(σ̃, ∅) should be ln Z_col
        self.q1, self.q1_hat = q1, q1_hat

    def _weights(self, p_hat):
        lw = self.lw0 + self.features @ np.asarray(p_hat, float)
        G = _lse(lw)
        return np.exp(lw - G), G

    def solve_p_hat(self, guess, tol=1e-13, max_iter=100) -> np.ndarray:
        """p̂ with ⟨σ̃_ℓ M_ℓ⟩_π = y p for every ℓ: the minimum of the convex
        F(p̂) = ln Σ e^{lw0 + p̂·f} − y p Σ_ℓ p̂_ℓ (Hessian = Cov_π(f) > 0), by Newton with
        backtracking. Raises RuntimeError if the minimum is not reached."""
        y, L = self.y, self.L
        f = self.features.reshape(-1, L)
        target = y * self.p
        h = np.array(np.broadcast_to(np.asarray(guess, float), (L,)))

        def F(h):
            lw = self.lw0.ravel() + f @ h
            return _lse(lw) - target * h.sum()

        Fh = F(h)
        for _ in range(max_iter):
            W, _ = self._weights(h)
            W = W.ravel()
            mean = W @ f
            grad = mean - target
            if np.max(np.abs(grad)) < tol * max(y, 1):
                return h
            fc = f - mean
            hess = (W[:, None] * fc).T @ fc + 1e-14 * np.eye(L)
            step = -np.linalg.solve(hess, grad)
            t = 1.0
            for _ in range(60):
                new = h + t * step
                Fn = F(new)
                if Fn <= Fh + 1e-4 * t * (grad @ step) or abs(Fn - Fh) < 1e-15 * max(1, abs(Fh)):
                    break
                t *= 0.5
            if np.max(np.abs(new - h)) < 1e-15 * max(1.0, np.max(np.abs(h))):
                return new
            h, Fh = new, Fn
        W, _ = self._weights(h)
        grad = W.ravel() @ f - target
        if np.max(np.abs(grad)) < 1e-10 * max(y, 1):
            return h
        raise RuntimeError("p_hat root not reached: max |<σ̃M>/y − p| = "
                           f"{np.max(np.abs(grad)) / y:.2e}")

    def averages(self, p_hat) -> dict:
        """π-averages: ⟨σ̃_ℓM_ℓ⟩/y (= p at the root), ⟨M_ℓ²⟩, ⟨∂_{q1_ℓ} ln I_ℓ⟩, and G."""
        W, G = self._weights(p_hat)
        y = max(self.y, 1)
        return {"m": np.einsum("rc,rcl->l", W, self.features) / y,
                    "M2": np.einsum("rc,cl->l", W, self.M * self.M),
                    "dq": np.einsum("rc,rcl->l", W, self.dlnI), "G": float(G)}


def _phi(p, y, p_hat, q1, q1_hat, G):
    """Φ = −Σ_ℓ [y p p̂_ℓ + y(y−1) q1_ℓ q̂1_ℓ/2 + y q̂1_ℓ/2] + ln 2 + G (per column)."""
    return float(-np.sum(y * p * p_hat + y * (y - 1) * q1 * q1_hat / 2 + y * q1_hat / 2) + LN2 + G)


# ----------------------------------------------------------------------------------------------
# Solver
# ----------------------------------------------------------------------------------------------

def _anderson(step_map, x0, lo, hi, *, tol, damping, max_iter, memory, budget):
    """Damped fixed-point iteration x ← x + (1−damping)(g(x) − x) with Anderson mixing over the
    last ``memory`` steps, for x = (q1_1..q1_L, q̂1_1..q̂1_L) (the scheme of
    :func:`theory.large_deviation.iterate`, vectorised over layers).

    Each accelerated step is kept in a trust region: q1 moves at most halfway towards its edges
    ``lo`` (p²) and ``hi`` (1), q̂1 by at most 1 + |q̂1|. If the residual grows tenfold the history
    is dropped; after ``budget`` iterations without convergence the run restarts from ``x0`` with
    the plain damped iteration (``memory=0``), and so it does when some q1_ℓ runs to 1
    (1 − q1_ℓ < ``Q1_RUNAWAY``·(1 − lo) with g − x > 0); if the plain iteration runs to q1 → 1 too,
    it stops unconverged: past the fold that ends the RS branch there is no q1 < 1 fixed point.
    ``step_map(x)`` returns (g(x), aux) or raises RuntimeError. Returns (x, aux, converged,
    iterations, residual vector, note).
    """
    L = x0.size // 2
    beta = 1.0 - damping
    x = x0.copy()
    aux, f = None, np.full_like(x0, np.nan)
    mix = AndersonMixer(memory, beta)
    for it in range(1, max_iter + 1):
        g, aux = step_map(x)
        f = g - x
        if np.max(np.abs(f)) < tol:
            return x, aux, True, it, f, ""
        runaway = np.any((1 - x[:L] < Q1_RUNAWAY * (1 - lo)) & (f[:L] > 0))
        if memory and (runaway or it >= budget):
            out = _anderson(step_map, x0, lo, hi, tol=tol, damping=damping,
                            max_iter=max_iter, memory=0, budget=max_iter + 1)
            note = "restarted with the plain damped iteration"
            return out[:3] + (out[3] + it, out[4], note + (f": {out[5]}" if out[5] else ""))
        if runaway:
            return x, aux, False, it, f, (f"q1 → 1 run-away (max q1 = {x[:L].max():.10f}): "
                                          "no q1 < 1 saddle from this start")
        new = mix.propose(x, f)
        q1, qh = x[:L], x[L:]
        new_q1 = np.minimum(np.maximum(new[:L], q1 - 0.5 * (q1 - lo)), q1 + 0.5 * (hi - q1))
        new_qh = np.clip(new[L:], qh - 1 - np.abs(qh), qh + 1 + np.abs(qh))
        x = np.concatenate([new_q1, new_qh])
    return x, aux, False, max_iter, f, f"no convergence in {max_iter} iterations"


@dataclass(kw_only=True)
class ChainLDResult(LDResult):
    """Φ(d, y), S_I, Σ_ext of the L-module chain, **per column**, at the RS saddle.

    ``p_hat``, ``q1``, ``q1_hat`` are arrays over layers (NaN where they drop out: y ∈ {0, 1}, and
    ``p_hat`` at y = 0); the ``*_per_neuron`` properties divide by L (SPEC §2, §6.7).
    """

    lam_left: float
    lam_right: float
    L: int

    @property
    def phi_per_neuron(self) -> float:
        return self.phi / self.L

    @property
    def internal_entropy_per_neuron(self) -> float:
        return self.internal_entropy / self.L

    @property
    def external_entropy_per_neuron(self) -> float:
        return self.external_entropy / self.L


def _check_solve(d, y, J_D, lam, lam_right, L, kappa, reference):
    d, _ = check_args(d, 0.0, reference)
    if isinstance(y, (float, np.floating)) and float(y).is_integer():
        y = int(y)
    y = integer("y", y, 0)
    L = integer("L", L, 1)
    lam_l = finite_scalar("lam", lam)
    lam_r = lam_l if lam_right is None else finite_scalar("lam_right", lam_right)
    jt = finite_scalar("J_D", J_D) - finite_scalar("kappa", kappa)
    if n_states(y, L) > MAX_STATES:
        raise ValueError(f"y = {y}, L = {L} gives {n_states(y, L)} multinomial states "
                         f"(> {MAX_STATES}): too large")
    return d, y, L, lam_l, lam_r, jt


def _initial(init, d, L, p):
    """Warm start (p̂, q1, q̂1) per layer from None, a tuple, or a ChainLDResult (carried to the new
    d with t = (q1 − p²)/(1 − p²) held fixed, :func:`theory.saddle_tools.carry`). Entries that
    are missing (NaN: the y ∈ {0, 1} results) or outside p² < q1 < 1 take the cold-start values."""
    p_hat = np.full(L, np.arctanh(min(p, 0.999)))
    q1 = np.full(L, p * p + 0.5 * (1 - p * p))
    q1_hat = np.full(L, COLD_Q1_HAT)
    if init is None:
        return p_hat, q1, q1_hat
    if isinstance(init, LDResult):
        ph, qq, qh = (np.broadcast_to(np.asarray(v, float), (L,))
                      for v in (init.p_hat, init.q1, init.q1_hat))
        for l in range(L):
            if np.isfinite(qq[l]) and np.isfinite(qh[l]):
                c = carry(SimpleNamespace(d=init.d, q1=qq[l], p_hat=ph[l], q1_hat=qh[l]), d)
                q1[l], q1_hat[l] = c[1], c[2]
    else:
        ph, qq, qh = (np.broadcast_to(np.asarray(v, float), (L,)) for v in init)
        q1 = np.where(np.isfinite(qq) & (p * p < qq) & (qq < 1), qq, q1)
        q1_hat = np.where(np.isfinite(qh), qh, q1_hat)
    p_hat = np.where(np.isfinite(ph), ph, p_hat)
    return p_hat, q1, q1_hat


def _saddle(d, y, jt, lam_l, lam_r, L, reference, *, init=None, tol=1e-9, damping=0.5,
            max_iter=1000, step=0.5, memory=3, budget=60):
    """Φ at its saddle for integer y, without S_I.

    Returns (phi, p̂, q1, q̂1, converged, iterations, residuals, message)."""
    p = 1 - 2 * d
    nan = np.full(L, np.nan)
    if y == 0:
        phi = (float(log_column_partition(jt, lam_l, lam_r, L)) if reference == "constrained"
               else L * LN2)
        return phi, nan, nan, nan, True, 0, {}, "y = 0: Φ = ln Z_col (order parameters drop out)"
    p_hat, q1, q1_hat = _initial(init, d, L, p)
    if y == 1:
        if reference == "free":
            phi = float(log_column_partition(jt, lam_l, lam_r, L) + L * binary_entropy(d))
            return (phi, np.full(L, np.arctanh(p)), nan, nan, True, 0, {},
                    "y = 1, free reference: Φ = ln Z_col + L H_b(d) (closed form)")
        site = ChainSite(p, jt, lam_l, lam_r, L, q1, 0.0, 1, reference=reference, step=step)
        try:
            p_hat = site.solve_p_hat(p_hat)
        except RuntimeError as exc:
            return np.nan, p_hat, nan, nan, False, 1, {"error": str(exc)}, str(exc)
        av = site.averages(p_hat)
        phi = _phi(p, 1, p_hat, 0.0, 0.0, av["G"])
        return (phi, p_hat, nan, nan, True, 1, {"p": av["m"] - p},
                "y = 1: Φ = chain pair count (q1, q̂1 drop out; Φ₂ by quadrature)")
    lo, hi = p * p + 1e-12 * (1 - p * p), 1.0
    state = {"p_hat": p_hat}

    def step_map(x):
        site = ChainSite(p, jt, lam_l, lam_r, L, x[:L], x[L:], y, reference=reference, step=step)
        state["p_hat"] = site.solve_p_hat(state["p_hat"])
        av = site.averages(state["p_hat"])
        q1_new = np.clip((av["M2"] - y) / (y * (y - 1)), lo, 1 - 1e-15)
        qh_new = 2.0 * av["dq"] / (y * (y - 1))
        return np.concatenate([q1_new, qh_new]), av

    x0 = np.concatenate([q1, q1_hat])
    try:
        x, av, ok, its, f, note = _anderson(step_map, x0, lo, hi, tol=tol, damping=damping,
                                            max_iter=max_iter, memory=memory, budget=budget)
    except RuntimeError as exc:
        return np.nan, state["p_hat"], nan, nan, False, 0, {"error": str(exc)}, str(exc)
    q1, q1_hat, p_hat = x[:L], x[L:], state["p_hat"]
    res = {"q1": f[:L], "q1_hat": f[L:], "p": av["m"] - p}
    msg = (f"converged ({note})" if note else "converged") if ok else note
    phi = _phi(p, y, p_hat, q1, q1_hat, av["G"])
    return phi, p_hat, q1, q1_hat, ok, its, res, msg


def _stencil(y):
    """Integers k and weights w with Σ_k w_k Φ(k) = Φ'(y) + O(Φ⁽⁵⁾): the derivative of the quartic
    through five consecutive integers, centred (1, −8, 0, 8, −1)/12 for y ≥ 2, on 0..4 at y = 1."""
    k = np.arange(max(0, y - 2), max(0, y - 2) + 5)
    return k, np.linalg.inv(np.vander(k - y, 5, increasing=True).astype(float))[1]


def solve(d, y, J_D, lam, L=2, kappa=0.0, reference="constrained", *, lam_right=None, init=None,
          tol=1e-9, damping=0.5, max_iter=1000, step=0.5, memory=3, internal=True
          ) -> ChainLDResult:
    """Φ(d, y) of the L-module chain per column at integer y ≥ 0 (SPEC §6.7), with S_I and Σ_ext.

    ``lam`` is λ_L (and λ_R unless ``lam_right`` is given). ``init`` = (p̂, q1, q̂1) (scalars or
    per-layer arrays) or a previous :class:`ChainLDResult` (at another d: carried with
    t = (q1 − p²)/(1 − p²) fixed). The cold start is p̂ = atanh p, q1 = (1 + p²)/2, q̂1 = 0.05.

    ``internal=True`` also solves the saddles at the four nearest other integers (y ± 1, y ± 2; 0..4
    at y = 1; each warm-started from its neighbour) and sets S_I = Φ'(y) by the five-point stencil
    :func:`_stencil`, Σ_ext = Φ − y S_I. Measured against the continuous-y envelope formula of the
    L = 1 solver (d ∈ [0.03, 0.12]) its error is ≲ 2e-4 at y = 2, 5e-5 at y = 3, 1e-5 at y = 5 (the
    three-point [Φ(y+1) − Φ(y−1)]/2 is ten times worse). ``internal=False`` (and y = 0, where S_I
    is the Franz–Parisi potential, not available at integer y) leave S_I = NaN, with a message.
    """
    d, y, L, lam_l, lam_r, jt = _check_solve(d, y, J_D, lam, lam_right, L, kappa, reference)
    kw = {"tol": tol, "damping": damping, "max_iter": max_iter, "step": step, "memory": memory}
    phi, p_hat, q1, q1_hat, ok, its, res, msg = _saddle(d, y, jt, lam_l, lam_r, L, reference,
                                                        init=init, **kw)
    out = ChainLDResult(d, y, float(J_D), float(kappa), reference, phi, np.nan, np.nan,
                        p_hat=p_hat, q1=q1, q1_hat=q1_hat, converged=ok, iterations=its,
                        residuals=res, message=msg, lam_left=lam_l, lam_right=lam_r, L=L)
    if y == 0:
        out.external_entropy = phi
        out.message += "; S_I(y = 0) (Franz–Parisi) needs continuous y: not computed"
        return out
    if not internal:
        out.message += "; S_I not requested"
        return out
    ks, w = _stencil(y)
    phis, notes, start = {y: phi}, [], (p_hat, q1, q1_hat)
    for side in (ks[ks < y][::-1], ks[ks > y]):
        warm = start
        for k in side:
            r = _saddle(d, int(k), jt, lam_l, lam_r, L, reference, init=warm, **kw)
            phis[int(k)] = r[0]
            out.converged &= r[4]
            out.iterations += r[5]
            if not r[4]:
                notes.append(f"y = {k}: {r[7]}")
            warm = r[1:4] if r[4] else warm
    out.internal_entropy = float(sum(wk * phis[int(k)] for k, wk in zip(ks, w)))
    out.external_entropy = phi - y * out.internal_entropy
    out.residuals = dict(res, stencil_phi=phis)
    out.message = msg + f"; S_I by the five-point stencil on y = {ks[0]}..{ks[-1]}"
    if notes:
        out.message += " (" + "; ".join(notes) + ")"
    return out


def free_entropy(d, y, J_D, lam, p_hat, q1, q1_hat, L=2, kappa=0.0, reference="constrained", *,
                 lam_right=None, step=0.5) -> float:
    """Φ per column evaluated (not extremised) at given per-layer (p̂_ℓ, q1_ℓ, q̂1_ℓ) (scalars are
    broadcast over layers): −Σ_ℓ[y p p̂_ℓ + y(y−1) q1_ℓ q̂1_ℓ/2 + y q̂1_ℓ/2] + ln 2 + G."""
    d, y, L, lam_l, lam_r, jt = _check_solve(d, y, J_D, lam, lam_right, L, kappa, reference)
    p = 1 - 2 * d
    p_hat, q1, q1_hat = (np.broadcast_to(finite_array_(n, v), (L,)) for n, v in
                         (("p_hat", p_hat), ("q1", q1), ("q1_hat", q1_hat)))
    if np.any(q1 >= 1) or np.any(q1 <= (p * p if reference == "constrained" else 0.0)):
        raise ValueError(f"q1 must be in (p², 1) = ({p * p:.6g}, 1), got {q1}")
    site = ChainSite(p, jt, lam_l, lam_r, L, q1, q1_hat, y, reference=reference, step=step)
    return _phi(p, y, p_hat, q1, q1_hat, site.averages(p_hat)["G"])


def phi_curve(d, J_D, lam, ys, L=2, kappa=0.0, reference="constrained", *, init=None,
              **solve_kw) -> list[ChainLDResult]:
    """Φ(d, y) at the integers ``ys`` (solved in increasing y, each warm-started from the last
    converged saddle, or from ``init[y]`` when ``init`` is a dict {y: result}); S_I not computed.
    Results in the input order."""
    ys = [integer("y", int(v) if float(v).is_integer() else v, 0) for v in ys]
    out, last = {}, None
    for y in sorted(set(ys)):
        start = init.get(y) if isinstance(init, dict) else None
        if start is None or not start.converged or (y > 1 and not np.all(np.isfinite(start.q1))):
            start = last if last is not None else (init if not isinstance(init, dict) else None)
        r = solve(d, y, J_D, lam, L, kappa, reference, init=start, internal=False, **solve_kw)
        out[y] = r
        if r.converged and y >= 2:
            last = r
    return [out[y] for y in ys]


# ----------------------------------------------------------------------------------------------
# Densest clusters: y* with Σ_ext(d, y*) = 0 (SPEC §6.8, §6.9)
# ----------------------------------------------------------------------------------------------

@dataclass
class ChainDensest:
    """S_I^max(d) = Φ'(y*) where Σ_ext(d, y*) = Φ(y*) − y*Φ'(y*) = 0 (spline of Φ over integer y).

    ``internal_entropy`` is **per neuron** (÷ L, as Fig. 4); ``internal_entropy_column`` per column.
    ``frozen``: y* was bracketed (otherwise Φ'(y_last) is a lower bound, or NaN if nothing usable).
    ``uncertainty`` (per neuron): spline vs local-quartic derivative at y*. ``branches[y]``: the
    distinct saddles found at y as (Φ, mean q1, :func:`q1_curvature`), largest Φ first.
    """

    d: float
    J_D: float
    lam: float
    L: int
    y_star: float
    internal_entropy: float
    internal_entropy_column: float
    frozen: bool
    converged: bool
    ys: np.ndarray
    phis: np.ndarray
    results: dict = field(default_factory=dict)
    branches: dict = field(default_factory=dict)
    uncertainty: float = np.nan
    message: str = ""
    seconds: float = 0.0


def phi_spline(ys, phis) -> CubicSpline:
    """The cubic spline (not-a-knot) of Φ through the integer-y values (ys, phis)."""
    return CubicSpline(ys, phis, bc_type="not-a-knot")


def spline_sigma(cs: CubicSpline, y: float) -> float:
    """Σ_ext = Φ − yΦ' of the spline ``cs`` at y."""
    return float(cs(y) - y * cs.derivative()(y))


def _spline_root(ys, phis):
    """Cubic spline (not-a-knot) of Φ through (ys, phis); the first sign change of
    Σ_ext = Φ − yΦ' on [0, y_last], by Brent.

    Returns (y*, Φ'(y*), spline), or (None, None, spline) without a sign change."""
    cs = phi_spline(ys, phis)
    dcs = cs.derivative()
    sig = lambda t: float(cs(t) - t * dcs(t))
    grid = np.linspace(ys[0], ys[-1], 64 * int(ys[-1] - ys[0]) + 1)
    vals = cs(grid) - grid * dcs(grid)
    neg = np.flatnonzero(vals < 0)
    if neg.size == 0 or neg[0] == 0:
        return None, None, cs
    i = neg[0]
    y_star = brentq(sig, grid[i - 1], grid[i], xtol=1e-12)
    return y_star, float(dcs(y_star)), cs


def reduced(d, y, q1, jt, lam_left, lam_right, L, *, p_hat, q1_hat, reference="constrained",
            step=0.5) -> dict:
    """Φ_red(q1) = extr_{p̂, q̂1} Φ at fixed integer y ≥ 2 and fixed per-layer q1 (q̂1_ℓ from
    ⟨M_ℓ²⟩_π = y + y(y−1) q1_ℓ, a polished L-dimensional root from ``q1_hat``; p̂ from its inner
    root from ``p_hat``), with its gradient (envelope over p̂, q̂1)

      ∂Φ_red/∂q1_ℓ = ⟨∂_{q1_ℓ} ln I_ℓ⟩_π − y(y−1) q̂1_ℓ/2,

    zero at a saddle. Returns {"phi", "slope" (per layer), "p_hat", "q1_hat"}; raises RuntimeError
    without a q̂1 root."""
    from scipy.optimize import root

    p = 1 - 2 * d
    q = np.broadcast_to(np.asarray(q1, float), (L,))
    state = {"p_hat": np.broadcast_to(np.asarray(p_hat, float), (L,)).copy()}

    def site(qh):
        return ChainSite(p, jt, lam_left, lam_right, L, q, qh, y, reference=reference, step=step)

    def eq(qh):
        sv = site(qh)
        state["p_hat"] = sv.solve_p_hat(state["p_hat"])
        return (sv.averages(state["p_hat"])["M2"] - y) / (y * (y - 1)) - q

    guess = np.broadcast_to(np.asarray(q1_hat, float), (L,))
    sol = root(eq, guess, method="hybr", options={"xtol": 1e-13})
    if np.max(np.abs(eq(sol.x))) > 1e-10:  # judged by the residual, not hybr's xtol
        raise RuntimeError(f"no q̂1 root at q1 = {q}: {sol.message}")
    av = site(sol.x).averages(state["p_hat"])
    return {"phi": _phi(p, y, state["p_hat"], q, sol.x, av["G"]),
            "slope": av["dq"] - y * (y - 1) * sol.x / 2, "p_hat": state["p_hat"],
            "q1_hat": np.asarray(sol.x, float)}


def q1_curvature(r: ChainLDResult, rel=0.01, step=0.5) -> float:
    """Curvature of the reduced free entropy Φ_red(q1) = extr_{p̂, q̂1} Φ (:func:`reduced`) at the
    saddle ``r``, along the uniform shift q1_ℓ → q1_ℓ + δ of every layer:
    [Φ_red(q1 + δ) + Φ_red(q1 − δ) − 2Φ]/δ², with δ = ``rel``·min(1 − q1, q1 − p²).

    For y > 1 the q1 terms carry the positive multiplicity y(y−1)/2, so the physical RS saddle is a
    local *maximum* of Φ_red (negative curvature). Near the fold that ends the q1 < 1 branch a
    partner saddle appears at larger q1 (a local minimum, positive curvature), beyond which Φ_red
    rises towards its q1 → 1 end; the damped iteration can converge to either.
    """
    y, L, p = int(r.y), r.L, 1 - 2 * r.d
    if y < 2 or not r.converged:
        raise ValueError("q1_curvature needs a converged saddle with y >= 2")
    q1 = np.asarray(r.q1, float)
    delta = rel * min(np.min(1 - q1), np.min(q1 - p * p))

    def phi_red(q):
        try:
            return reduced(r.d, y, q, r.J_D - r.kappa, r.lam_left, r.lam_right, L,
                           p_hat=r.p_hat, q1_hat=r.q1_hat, reference=r.reference,
                           step=step)["phi"]
        except RuntimeError as exc:
            raise RuntimeError(f"q1_curvature: {exc}") from exc

    return float((phi_red(q1 + delta) + phi_red(q1 - delta) - 2 * r.phi) / delta ** 2)


def _best_saddle(d, y, J_D, lam, L, kappa, starts, kw):
    """Solve at integer y from each distinct warm start and keep the physical branch: among the
    converged saddles that are local maxima of Φ_red(q1) (:func:`q1_curvature` < 0), the one with
    the largest Φ. Returns (result, branches) with branches = [(Φ, mean q1, curvature), ...] of
    the distinct saddles found, largest Φ first; the result is unconverged (with a message) when
    only partner saddles (local minima in q1) converged."""
    found, seen = [], []
    for st in starts:
        if any(st is s_ for s_ in seen):
            continue
        seen.append(st)
        found.append(solve(d, y, J_D, lam, L, kappa, init=st, **kw))
    distinct = []
    for r in sorted((r for r in found if r.converged), key=lambda r: -r.phi):
        if all(abs(r.phi - o.phi) > 1e-8 for o, _ in distinct):
            try:
                curv = q1_curvature(r)
            except RuntimeError:
                curv = np.nan
            distinct.append((r, curv))
    branches = [(r.phi, float(np.mean(r.q1)), c) for r, c in distinct]
    good = [r for r, c in distinct if c < 0]
    if good:
        return good[0], branches
    if distinct:
        r = distinct[0][0]
        r.converged = False
        r.message = (f"only a partner saddle (local minimum of Φ_red in q1, q1 = "
                     f"{np.mean(r.q1):.4f}) converged: the q1 < 1 branch has ended")
        return r, branches
    return found[0], branches


def densest(d, J_D, lam, L=2, kappa=0.0, *, lam_right=None, y_max=24, extra=2, init=None,
            **solve_kw) -> ChainDensest:
    """The densest existing clusters at distance d: y* with Σ_ext(d, y*) = 0 and
    S_I^max(d) = Φ'(y*) (SPEC §6.9), for the constrained reference.

    Extrapolation (documented): Φ is known only at integer y (multinomial form), with
    Φ(0) = ln Z_col = S_a per column and Φ(1) the pair count. Φ is solved at y = 2, 3, … until the
    central-difference estimate Φ(k) − k[Φ(k+1) − Φ(k−1)]/2 of Σ_ext(k) is negative, then ``extra``
    more integers (and at least ``MIN_BLOCK`` consecutive ones). A not-a-knot cubic spline through the Φ(k) is differentiated and
    Σ_ext(y) = Φ − yΦ' is solved by Brent between the integers; S_I^max = Φ'(y*). ``uncertainty``
    is |Φ'(y*) − P'(y*)| with P the quartic through five integers around y* (a second interpolant
    of the same order; it over-estimates the error at small y*). For L = 1 the spline reproduces
    the continuous-y solver of :mod:`theory.transition` to ≲ 1e-5 (tested at one point).

    Branches: at each y ≥ 2 the saddle is solved from the saddle at the same y and the previous
    distance (``init``, a dict {y: ChainLDResult}), from the saddle at y − 1 and from the cold
    start, and classified by :func:`q1_curvature`; the physical one (a local maximum of Φ_red(q1))
    with the largest Φ is kept, all distinct ones are recorded in ``branches``. At small d the
    q1 < 1 branch exists only above a fold, y ≥ y_f(d), with y_f growing as d decreases (below it
    the iteration runs to q1 → 1 or converges to the partner saddle). The spline then uses the
    consecutive integers y_f..y_last only (the message says so); if Σ_ext < 0 already at y_f, y*
    is below the fold and the densest-cluster curve has ended (``converged=False``, NaN values).
    """
    t0 = time.perf_counter()
    d, _, L, lam_l, _lam_r, _jt = _check_solve(d, 0, J_D, lam, lam_right, L, kappa, "constrained")
    y_max = integer("y_max", y_max, 3)
    init = init or {}
    kw = dict(lam_right=lam_right, internal=False, **solve_kw)
    res, branches = {}, {}
    for y in (0, 1):
        res[y] = solve(d, y, J_D, lam, L, kappa, init=init.get(y), **kw)
    ok_y = {0: res[0].phi, 1: res[1].phi}
    stop_at, last = None, None
    for y in range(2, y_max + 1):
        r, branches[y] = _best_saddle(d, y, J_D, lam, L, kappa, [init.get(y), last, None], kw)
        res[y] = r
        if not r.converged:
            continue
        last = r
        ok_y[y] = r.phi
        k = y - 1
        if stop_at is None and all(j in ok_y for j in (k - 1, k, k + 1)) and \
                ok_y[k] - k * (ok_y[k + 1] - ok_y[k - 1]) / 2 < 0:
            stop_at = k + extra
        run = next(j for j in range(y + 1) if all(i in ok_y for i in range(y - j, y + 1)) and
                   (y - j - 1) not in ok_y)  # length − 1 of the consecutive block ending at y
        if stop_at is not None and y >= stop_at and run >= MIN_BLOCK - 1:
            break
    failed = sorted(set(res) - set(ok_y))
    # the contiguous block of integers with a q1 < 1 saddle that ends at the largest one
    top = max(ok_y)
    lo_y = top
    while lo_y - 1 in ok_y:
        lo_y -= 1
    ys = np.arange(lo_y, top + 1, dtype=float)
    phis = np.array([ok_y[int(k)] for k in ys])
    gap = f"; no q1 < 1 saddle at y = {failed}" if failed else ""
    base = {"d": d, "J_D": float(J_D), "lam": lam_l, "L": L, "ys": ys, "phis": phis, "results": res,
                "branches": branches}
    secs = time.perf_counter() - t0
    if ys.size < 4:
        return ChainDensest(**base, y_star=np.nan, internal_entropy=np.nan,
                            internal_entropy_column=np.nan, frozen=False, converged=False,
                            message=f"fewer than 4 consecutive integers y with a saddle{gap}",
                            seconds=secs)
    y_star, S, cs = _spline_root(ys, phis)
    sig_lo = spline_sigma(cs, ys[0])
    if y_star is None and sig_lo < 0:
        return ChainDensest(**base, y_star=np.nan, internal_entropy=np.nan,
                            internal_entropy_column=np.nan, frozen=False, converged=False,
                            message=f"Σ_ext < 0 already at y = {ys[0]:g}, the lowest y of the "
                                    f"q1 < 1 branch: y* lies below its fold{gap}", seconds=secs)
    if y_star is None:
        S = float(cs.derivative()(ys[-1]))
        return ChainDensest(**base, y_star=np.inf, internal_entropy=S / L,
                            internal_entropy_column=S, frozen=False, converged=True,
                            message=f"Σ_ext > 0 up to y = {ys[-1]:g}: Φ'(y_last) is a lower bound "
                                    f"on S_I^max{gap}", seconds=secs)
    i0 = int(np.clip(np.searchsorted(ys, y_star) - 3, 0, ys.size - 5)) if ys.size >= 5 else None
    unc = np.nan
    if i0 is not None:
        P = np.polynomial.Polynomial.fit(ys[i0:i0 + 5], phis[i0:i0 + 5], 4)
        unc = abs(S - float(P.deriv()(y_star)))
    msg = "ok" if ys[0] == 0 else (f"spline through y = {ys[0]:g}..{ys[-1]:g} only{gap}")
    return ChainDensest(**base, y_star=float(y_star), internal_entropy=S / L,
                        internal_entropy_column=S, frozen=True, converged=True,
                        uncertainty=unc / L, message=msg, seconds=secs)


def densest_curve(d_grid, J_D, lam, L=2, kappa=0.0, **kw) -> list[ChainDensest]:
    """:func:`densest` along ``d_grid`` by continuation from large to small d (warm starts at each
    integer y from the previous distance; input order kept)."""
    def at(d, init):
        r = densest(d, J_D, lam, L, kappa, init=init, **kw)
        nxt = {y: v for y, v in r.results.items() if v.converged}
        return r, (nxt or init)
    return along_d(d_grid, at)
