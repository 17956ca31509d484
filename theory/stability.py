"""Replicon (de Almeida–Thouless) stability of the RS large-deviation saddle inside the cluster
(SPEC §6.2, §6.9; derivation in ``docs/theory_small_d.md``).

Per site the replicated system is a reference and y satellites; a satellite carries a spin σ_a and a
stability field u_a, both entering the constraint σ_a u_a > −J̃. The overlaps q_ab between satellites
appear twice in the site function G(q, q̂): as the covariance of the fields u_a (energetic) and,
through their conjugates q̂_ab, as the coupling Σ q̂_ab σ_aσ_b (entropic). Perturb (q_ab, q̂_ab) in
the replicon subspace (Σ_b δq_ab = 0): each of ∂²G/∂q∂q, ∂²G/∂q̂∂q̂, ∂²G/∂q∂q̂ acts there as one
number (P − 2Q + R of its entries), and given (z, g) the satellites are independent, so

  λ_B = E_π[(1 − m²)²]                (spins: ⟨σσσσ⟩ connected),
  λ_A = E_π[(∂²_w ln K)²]             (fields: heat equation, w = √q1 z the common field),
  λ_C = E_π[(∂_w m)²]                 (mixed: spin a with field derivative a),

with m = tanh(p̂ + √q̂1 g + ½ ln(H₊/H₋)), K = e^{a}H₊ + e^{−a}H₋ and E_π the average under
π ∝ Dz H_r Dg K^y. The second variation of Φ = −Σ q̂_ab q_ab + G per replicon mode is
−x x̂ + ½(λ_A x² + 2λ_C x x̂ + λ_B x̂²); eliminating x̂ leaves ½ x² [λ_A − (1 − λ_C)²/λ_B], and for
y > 1 (positive multiplicity) the satellites' overlap must be a maximum:

  RS stable  ⇔  R = (1 − λ_C)² − λ_A λ_B > 0.

For λ_C = 0 this is the familiar λ_A λ_B < 1 (Gardner, AT). The mixed term is specific to fixed
points (spin and field of the same neuron are constrained together).

**The two-module chain** (SPEC §6.7; :func:`chain_replicon`). Each layer ℓ has its own satellite
overlaps: the field covariances Q^ℓ_ab and their conjugates Q̂^ℓ_ab (coupling Σ_{a<b} Q̂^ℓ_ab
σ^a_ℓσ^b_ℓ). A replicon mode is δQ^ℓ_ab = x_ℓ e_ab, δQ̂^ℓ_ab = x̂_ℓ e_ab (Σ_b e_ab = 0), ℓ = 1, 2.
Write the entropic term with Hubbard–Stratonovich fields g_ℓ (valid for any real y); given the
common fields s = (w_1, w_2, b_1, b_2), w_ℓ = √q1_ℓ z_ℓ, b_ℓ = p̂_ℓσ̃_ℓ + √q̂1_ℓ g_ℓ, the satellites
are independent with the column weight

  k(σ) = e^{b_1σ_1 + b_2σ_2} h_1(σ, w_1) h_2(σ, w_2),   K = Σ_σ k(σ)   (σ over the 4 column types),
  h_ℓ(σ, w) = Φ((a_ℓ(σ) + σ_ℓ w)/√(1 − q1_ℓ)),   a_1(σ) = J̃ + λ_R σ_1σ_2,  a_2(σ) = J̃ + λ_L σ_1σ_2,

and π(σ̃, z, g) ∝ Π_ℓ Dz_ℓ r_ℓ(σ̃, z_ℓ) Dg_ℓ · K^y (its integer-y form is the multinomial sum of
:class:`theory.chain_large_deviation.ChainSite`). The heat equation turns ∂/∂Q^ℓ_ab into
∂_{w_ℓ} acting on satellites a and b, and ∂/∂Q̂^ℓ_ab into σ^a_ℓσ^b_ℓ; the replicon combination
P − 2Q + R of each block is then, exactly as for the core, the π-average of a squared
single-satellite second derivative of ln K:

  A_ℓℓ' = E_π[(∂_{w_ℓ}∂_{w_ℓ'} ln K)²],  B_ℓℓ' = E_π[(∂_{b_ℓ}∂_{b_ℓ'} ln K)²],
  C_ℓℓ' = E_π[(∂_{w_ℓ}∂_{b_ℓ'} ln K)²]   (C is not symmetric).

The cross-layer entries exist because one satellite's column weight k(σ) depends on both layers'
fields and spins through a_ℓ(σ); at λ = 0, ln K = ln K_1 + ln K_2 and A, B, C are diagonal with
the core's λ_A, λ_B, λ_C of each layer. The second variation per mode is
½ vᵀ F v, v = (x_1, x_2, x̂_1, x̂_2), F = [[A, C − I], [(C − I)ᵀ, B]]. Eliminating x̂
(x̂ = B⁻¹(I − C)ᵀ x) leaves ½ xᵀ [A − (I − C) B⁻¹ (I − C)ᵀ] x, which must be negative definite for
y > 1 (as for the core). With B positive definite (it is an average of Schur squares of covariance
matrices) this is

  RS stable  ⇔  R = B^{1/2} (I − C) B⁻¹ (I − C)ᵀ B^{1/2} − B^{1/2} A B^{1/2}  ≻ 0  (2 × 2),

R congruent to minus the Schur complement; the margin is its smallest eigenvalue. At λ = 0
R = diag((1 − λ_C)² − λ_A λ_B) per layer: two independent cores.

Evaluation: at the chain solver's integer y the averages are done exactly in the satellite sums
(expand the square: P − 2Q + R over two to four distinct satellites of the multinomial measure,
:func:`chain_replicon`, y ≥ 4); on the centred branch between integers (:mod:`theory.chain_fold`)
the margin is interpolated in y at fixed t (:func:`chain_replicon_on_branch`). Tests
(``tests/test_stability.py``): λ = 0 against :func:`replicon` per layer; λ = 0.4 against finite
differences of the explicitly replicated y = 4 chain site. Measured at the folds and crossings that
decide the centred λ_c line: stable, margin ≥ 0.59 (``docs/theory_small_d.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .annealed import _jt
from .cluster_integrals import SiteIntegrals
from .special import mills


@dataclass
class Replicon:
    """λ_A, λ_B, λ_C and R = (1 − λ_C)² − λ_A λ_B (RS stable iff R > 0) at one saddle."""

    lam_A: float
    lam_B: float
    lam_C: float

    @property
    def value(self) -> float:
        return (1 - self.lam_C) ** 2 - self.lam_A * self.lam_B

    @property
    def stable(self) -> bool:
        return bool(self.value > 0)


def site_derivatives(site: SiteIntegrals, p_hat):
    """Per node (z, g): m, ∂_w m and ∂²_w ln K (w = √q1 z), with the normalised weights W of π."""
    s1 = site.s1
    Rp, Rm = mills(site.xp), mills(site.xm)
    d1p, d1m = Rp / s1, -Rm / s1                                # ∂_w ln H±
    d2p = -Rp * (site.xp + Rp) / (s1 * s1)                       # ∂²_w ln H₊ (R' = −R(x + R))
    d2m = -Rm * (site.xm + Rm) / (s1 * s1)
    m, _, W, _ = site.state(p_hat)
    rp, rm = (1 + m) / 2, (1 - m) / 2
    l1 = rp * d1p[:, None] + rm * d1m[:, None]
    l2 = rp * (d2p + d1p ** 2)[:, None] + rm * (d2m + d1m ** 2)[:, None] - l1 ** 2
    dm = (1 - m * m) / 2 * (d1p - d1m)[:, None]
    return W, m, dm, l2


def replicon(d, y, p_hat, q1, q1_hat, J_D, kappa=0.0, *, step=0.5) -> Replicon:
    """The replicon of the core-model saddle (d, y, p̂, q1, q̂1) (module docstring)."""
    jt = float(_jt(J_D, kappa))
    site = SiteIntegrals(1 - 2 * d, jt, q1, q1_hat, y, p_hat, step=step)
    W, m, dm, l2 = site_derivatives(site, p_hat)
    return Replicon(float(np.sum(W * l2 * l2)), float(np.sum(W * (1 - m * m) ** 2)),
                    float(np.sum(W * dm * dm)))


def replicon_of(result, *, step=0.5) -> Replicon:
    """:func:`replicon` at a saddle result of :mod:`theory.large_deviation` or :mod:`theory.fold`."""
    return replicon(result.d, result.y, result.p_hat, result.q1, result.q1_hat, result.J_D,
                    result.kappa, step=step)


# ----------------------------------------------------------------------------------------------
# The two-module chain (module docstring, "The two-module chain"; SPEC §6.7, §6.9)
# ----------------------------------------------------------------------------------------------

@dataclass
class ChainReplicon:
    """The chain's replicon blocks A, B, C (2 × 2; C_ℓℓ' pairs w_ℓ with b_ℓ') at one set of order
    parameters, and the averages ``p_check`` = ⟨σ̃_ℓM_ℓ⟩/y, ``q1_check`` = ⟨σ^1_ℓσ^2_ℓ⟩ of the same
    measure (E_π[σ̃_ℓm_ℓ], E_π[m_ℓ²]; at a saddle they give back p and q1_ℓ). RS stable iff
    :attr:`matrix` ≻ 0."""

    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    p_check: np.ndarray
    q1_check: np.ndarray

    @property
    def form(self) -> np.ndarray:
        """F = [[A, C − I], [(C − I)ᵀ, B]]: the second variation per mode is ½ vᵀFv, v = (x, x̂)."""
        eye = np.eye(self.A.shape[0])
        return np.block([[self.A, self.C - eye], [(self.C - eye).T, self.B]])

    @property
    def matrix(self) -> np.ndarray:
        """R = B^{1/2}(I − C)B⁻¹(I − C)ᵀB^{1/2} − B^{1/2}AB^{1/2} (symmetric; module docstring)."""
        ev, U = np.linalg.eigh(self.B)
        if not ev.min() > 0:
            raise ValueError(f"B is not positive definite (eigenvalues {ev}): no replicon form")
        half = (U * np.sqrt(ev)) @ U.T
        inv_half = (U / np.sqrt(ev)) @ U.T
        T = half @ (np.eye(len(ev)) - self.C) @ inv_half
        R = T @ T.T - half @ self.A @ half
        return (R + R.T) / 2

    @property
    def eigenvalues(self) -> np.ndarray:
        return np.linalg.eigvalsh(self.matrix)

    @property
    def margin(self) -> float:
        """Smallest eigenvalue of :attr:`matrix` (= the core's R per layer at λ = 0)."""
        return float(self.eigenvalues[0])

    @property
    def stable(self) -> bool:
        return self.margin > 0


#: per-satellite operators of the replicon blocks: (layer-1 z factor, layer-2 z factor, spin
#: layers); z factors None (1), "d1" (∂_w h/h) or "e" (∂²_w h/h)
_OPS = {"w1": ("d1", None, ()), "w2": (None, "d1", ()), "b1": (None, None, (0,)),
        "b2": (None, None, (1,))}


def _product(o1, o2):
    """The operator ∂_i∂_j k / k of two first-order ones (same-layer w's give "e", spins XOR)."""
    z = []
    for k1, k2 in zip(o1[:2], o2[:2]):
        z.append("e" if (k1 and k2) else (k1 or k2))
    return (z[0], z[1], tuple(sorted(set(o1[2]) ^ set(o2[2]))))


def _layer_conditionals(l, site_args, ref, comps, step):
    """Normalised z weights of layer ℓ given (σ̃, n), shape (nref, ncomp, nz), and per column
    type d1 = ∂_w ln h_ℓ, e = ∂²_w h_ℓ / h_ℓ on the z nodes (4, nz). The z rule is that of
    :class:`theory.chain_large_deviation.ChainSite` (same sharp points, same ``step``)."""
    from .chain_large_deviation import column_types, layer_rule, local_margins
    from .special import log_Phi

    p, jt, lam_l, lam_r, q1 = site_args
    sigma = column_types(2)
    a = local_margins(jt, lam_l, lam_r, sigma)[:, l]
    a_ref = local_margins(jt, lam_l, lam_r, ref)[:, l]
    s1 = np.sqrt(1.0 - q1)
    z, wz, x, xr, _ = layer_rule(p, q1, sigma[:, l], a, ref[:, l], a_ref, step)   # x: (4, nz)
    R = mills(x)
    d1 = sigma[:, l, None] * R / s1
    e = -R * (x + R) / (s1 * s1) + d1 * d1
    lr = log_Phi(xr)                                                      # (nref, nz)
    T = (np.log(wz) + lr)[:, None, :] + (comps @ log_Phi(x))[None, :, :]
    T -= T.max(axis=2, keepdims=True)
    W = np.exp(T)
    W /= W.sum(axis=2, keepdims=True)
    return W, {"d1": d1, "e": e}


def chain_replicon(d, y, J_D, lam, p_hat, q1, q1_hat, kappa=0.0, *, lam_right=None,
                   step=0.5) -> ChainReplicon:
    """The replicon blocks A, B, C of the L = 2 chain (constrained reference) at integer y ≥ 4 and
    order parameters (p̂_ℓ, q1_ℓ, q̂1_ℓ) (scalars broadcast over the layers), exactly in the
    satellite sums (module docstring; SPEC §6.7, §6.9).

    Each block entry is P − 2Q + R of the finite-y replicated measure, the form that E_π[(∂_i∂_j
    ln K)²] takes at integer y (expand the square: satellites 1..4 distinct):

      M_ij = E[O_ij(1) O_ij(2)] − 2 E[O_ij(1) O_i(2) O_j(3)] + E[O_i(1) O_i(2) O_j(3) O_j(4)],

    O_{b_ℓ} = σ_ℓ, O_{w_ℓ} = ∂_w h_ℓ/h_ℓ, O_ij = ∂_i∂_j k/k (∂²_w h_ℓ/h_ℓ, (∂_w h_1/h_1)(∂_w h_2/h_2),
    σ_ℓ'∂_w h_ℓ/h_ℓ, σ_ℓσ_ℓ'). Under the multinomial measure π(σ̃, n) of
    :class:`theory.chain_large_deviation.ChainSite` the k designated satellites have the column
    types τ with probability Π_σ n_σ^(c_σ(τ)) / y^(k) (falling factorials: drawing without
    replacement), and given (σ̃, n) the layers' z are independent, so every term is
    Σ_{σ̃,n} π Σ_τ P(τ|n) (spins of τ) Π_ℓ E[Π_j (z factor of satellite j in layer ℓ) | σ̃, n]
    with 1-d z averages on the ChainSite rule. Needs y ≥ 4 (four distinct satellites; below, the
    E_π form needs the continuous-y g integrals, not implemented). Cost: 0.1–0.5 s at y ≤ 12."""
    from itertools import product as iproduct

    from .chain_large_deviation import ChainSite, column_types, compositions

    y = int(y)
    if y < 4:
        raise ValueError(f"chain_replicon needs integer y >= 4 (four distinct satellites), got {y}")
    p_hat, q1, q1_hat = (np.broadcast_to(np.asarray(v, float), (2,)) for v in (p_hat, q1, q1_hat))
    lam_l = float(lam)
    lam_r = lam_l if lam_right is None else float(lam_right)
    vals = np.concatenate([[d, J_D, lam_l, lam_r, kappa], p_hat, q1, q1_hat])
    if not np.all(np.isfinite(vals)):
        raise ValueError(f"chain_replicon: non-finite input {vals}")
    p = 1.0 - 2.0 * float(d)
    if np.any(q1 <= p * p) or np.any(q1 >= 1):
        raise ValueError(f"chain_replicon needs p² < q1 < 1, got q1 = {q1} (p² = {p * p:.6g})")
    jt = float(_jt(J_D, kappa))
    site = ChainSite(p, jt, lam_l, lam_r, 2, q1, q1_hat, y, step=step)
    W, _ = site._weights(p_hat)                                          # π(σ̃, n)
    sigma = column_types(2)
    ref = sigma[sigma[:, 0] > 0]
    comps = compositions(y, 4).astype(float)
    cond = [_layer_conditionals(l, (p, jt, lam_l, lam_r, q1[l]), ref, comps, step)
            for l in (0, 1)]
    cache = {}

    def z_avg(l, key):                       # E[Π (z factors) | σ̃, n] in layer l, (nref, ncomp)
        if not key:
            return 1.0
        if (l, key) not in cache:
            Wz, f = cond[l]
            F = np.prod([f[kind][t] for kind, t in key], axis=0)
            cache[l, key] = Wz @ F
        return cache[l, key]

    def draw(taus):                          # P(τ | n) over compositions, (ncomp,)
        out = np.ones(comps.shape[0])
        used = np.zeros(4)
        for t in taus:
            out *= np.maximum(comps[:, t] - used[t], 0.0)
            used[t] += 1
        return out / np.prod(y - np.arange(len(taus), dtype=float))

    def expect(ops):                         # E[Π_j ops_j(satellite j)], j distinct satellites
        total = np.zeros_like(W)
        for taus in iproduct(range(4), repeat=len(ops)):
            spin = np.prod([sigma[t, l] for o, t in zip(ops, taus) for l in o[2]])
            keys = [tuple(sorted((o[l], t) for o, t in zip(ops, taus) if o[l])) for l in (0, 1)]
            total += spin * draw(taus)[None, :] * z_avg(0, keys[0]) * z_avg(1, keys[1])
        return float(np.sum(W * total))

    def entry(i, j):
        oi, oj = _OPS[i], _OPS[j]
        oij = _product(oi, oj)
        return expect([oij, oij]) - 2 * expect([oij, oi, oj]) + expect([oi, oi, oj, oj])

    A = np.array([[entry("w1", "w1"), entry("w1", "w2")], [0.0, entry("w2", "w2")]])
    B = np.array([[entry("b1", "b1"), entry("b1", "b2")], [0.0, entry("b2", "b2")]])
    A[1, 0], B[1, 0] = A[0, 1], B[0, 1]
    C = np.array([[entry("w1", "b1"), entry("w1", "b2")], [entry("w2", "b1"), entry("w2", "b2")]])
    pc = np.array([float(np.sum(W * ref[:, l, None] * site.M[None, :, l])) / y for l in (0, 1)])
    qc = np.array([expect([_OPS[b], _OPS[b]]) for b in ("b1", "b2")])
    out = ChainReplicon(A, B, C, pc, qc)
    if not np.all(np.isfinite(np.concatenate([A.ravel(), B.ravel(), C.ravel()]))):
        raise RuntimeError(f"chain_replicon: non-finite blocks {out}")
    return out


def chain_replicon_of(result, *, step=0.5) -> ChainReplicon:
    """:func:`chain_replicon` at a converged L = 2 saddle of :mod:`theory.chain_large_deviation`
    (a :class:`~theory.chain_large_deviation.ChainLDResult`, constrained reference, y ≥ 4)."""
    if result.L != 2 or not result.converged or result.reference != "constrained":
        raise ValueError("chain_replicon_of needs a converged L = 2 constrained-reference saddle")
    return chain_replicon(result.d, result.y, result.J_D, result.lam_left, result.p_hat,
                          result.q1, result.q1_hat, result.kappa, lam_right=result.lam_right,
                          step=step)


@dataclass
class BranchReplicon:
    """The replicon margin on the chain's centred branch at fixed t (:mod:`theory.chain_fold`):
    ``margins[k]`` at the window's integers ``ys[k]`` ≥ 4 (reduced saddles at that t), and
    ``margin`` their interpolating polynomial at the branch point's y (as chain_fold interpolates
    Φ and D; ``extrapolated`` if y lies outside the integers used)."""

    t: float
    y: float
    ys: np.ndarray
    margins: np.ndarray
    replicons: list
    margin: float
    extrapolated: bool


def chain_replicon_on_branch(branch, point, *, step=0.5) -> BranchReplicon:
    """The replicon at a point of the centred branch (a :class:`theory.chain_fold.BranchPoint`
    of the :class:`theory.chain_fold.FixedT` ``branch``, e.g. the fold or the Σ_ext = 0 crossing of
    :func:`theory.chain_fold.centred_point`): :func:`chain_replicon` at the reduced saddles
    (p̂, q̂1 at q1 = p² + t(1 − p²)) of the window's integers y ≥ 4, interpolated to y(t)."""
    from .chain_large_deviation import reduced

    d = branch.d
    p = 1 - 2 * d
    q1 = p * p + point.t * (1 - p * p)
    jt, lam_l, lam_r, L = branch.args
    ys = np.array([int(y) for y in branch.ys if y >= 4])
    if ys.size < 2:
        raise ValueError(f"chain_replicon_on_branch needs two window integers y >= 4, got {ys}")
    reps = []
    for y in ys:
        ph, qh = branch.warm[int(y)]
        r = reduced(d, int(y), q1, jt, lam_l, lam_r, L, p_hat=ph, q1_hat=qh, step=step)
        reps.append(chain_replicon(d, int(y), jt, lam_l, r["p_hat"], q1, r["q1_hat"],
                                   lam_right=lam_r, step=step))
    margins = np.array([r.margin for r in reps])
    P = np.polynomial.Polynomial.fit(ys, margins, ys.size - 1)
    return BranchReplicon(float(point.t), float(point.y), ys, margins, reps,
                          float(P(point.y)), bool(not ys[0] <= point.y <= ys[-1]))
