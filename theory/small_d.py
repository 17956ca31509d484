"""Small-distance asymptotics of the large-deviation free entropy Φ(d, y) (SPEC §6; derivation in
``docs/theory_small_d.md``).

Regular variables. With s = √(1 − p²) = 2√(d(1 − d)) (the scale of every field difference between
the reference and a satellite), t = (q1 − p²)/(1 − p²) ∈ (0, 1) (the position of q1 in its domain),
the flip fugacity w = e^{−2p̂ − 2(y−1)q̂1} and the binomial form of SPEC §6.3, the free entropy reads
exactly

  Φ = ln 2 − y d ln w − 2d y(y−1) q̂1 [t + d(1 − t)] + ln ∫Dz H_r Σ_j C(y,j) H₊^{y−j} H₋^j w^j e^{2q̂1 j(j−1)},

j counting the satellites flipped with respect to the reference at a site. As d → 0 the three
step functions H_r, H₊, H₋ vary on the scale s around z = −J̃ (reference and unflipped satellites
at their threshold) and z = +J̃ (flipped satellites at theirs); in between, on (−J̃, J̃), a site is
*free*: both signs are stable, and a flip costs only the fugacity w.

**Fixed y (the fold is genuine).** At fixed y the flips are O(d) and only the boundary layer at
z = −J̃ contributes at order √d:

  Φ_red(t) = S_a − s (φ(J̃)/Φ(J̃)) B_y(t) + O(d ln d),
  B_y(t) = ∫dx Φ(x/√t)[1 − Φ(x/√(1−t))^y] = E[(√(1−t) M_y − √t ξ)₊],

M_y the maximum of y standard normals, ξ an independent one (:func:`boundary_cost`). B_y decreases
from E[(M_y)₊] at t = 0 to φ(0) = 1/√(2π) at t = 1 (every y; B_1 ≡ φ(0) gives back the −√d of
SPEC §4.5), with B_y(1 − u) = φ(0) + √u E[M_y]/2 + O(u). So at fixed y > 1 the reduced free entropy
increases towards t = 1 with an infinite slope at order √d, which the O(d ln d) entropy of the flips
cannot balance: for d → 0 no interior maximum in t is left, i.e. the RS branch at fixed y ends in a
saddle-node at a finite d_f(y) (the "fold"). It is not a loss of resolution.

**y ∝ 1/d (the densest clusters).** With Λ = y w fixed (mean number of the y satellites flipped at
a free site) the flips become Poisson, the reference measure is tilted by e^Λ on the free sites and

  Φ = ln 2N(Λ) + Y ln(Y/(dΛ)) + O(√(d ln y)),  S_I = d[ln(Y/(dΛ)) + 1] + O(d^{3/2}),
  Σ_ext = ln 2N(Λ) − Y + O(√(d ln y)),
  N(Λ) = Φ(−J̃) + f e^Λ,  f = 2Φ(J̃) − 1,  Y = y d = Λ ν(Λ),  ν(Λ) = f e^Λ/N(Λ)

(ν: fraction of free sites of the tilted references). Σ_ext = 0 fixes Λ* (ln 2N(Λ*) = Λ*ν(Λ*)), and

  S_I^max(d) = d [ln(ν*/d) + 1] + O(d^{3/2} √ln(1/d)) = ν* H_b(d/ν*) + O(d^{3/2} √ln(1/d)),

positive for every J̃ > 0: the densest-cluster curves vanish at d = 0 from above (RM-like at the
smallest distances), whatever J̃ > 0; the OGP is a property of intermediate d. The expansion needs
the boundary layers (width ≈ s√(2 ln y)) to be thin compared with the free interval 2J̃, i.e.
d ≪ J̃²/(8 ln y): 1e-4 at J̃ = 0.1, 1e-5 at J̃ = 0.06 (:func:`leading`).

**Independent satellites (the uniform small-d approximant).** At the densest saddle t = O(d) and
2y q̂1 = O(√(d ln y)); setting t = 0, q̂1 = 0 (satellites independent given the reference, q1 = p²)
changes Φ by O(d^{3/2}√ln y) only, because Φ is stationary there, and keeps the boundary layers
exactly:

  Φ_0(d, y) = extr_{p̂} { −y p p̂ + ln 2 + ln ∫_{−J̃}^{∞} Dz [e^{p̂} H₊ + e^{−p̂} H₋]^y },
  H± = Φ((J̃ ± p z)/s)

(:func:`independent`, :func:`independent_densest`). It is the small-d end of the Fig. 4 curves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import integrate, special as sp
from scipy.optimize import brentq

from toolkit.checks import finite_scalar

from .annealed import LN2, _jt, entropy_core
from .quadrature import gauss_grid
from .special import log_Phi

_PHI0 = 1.0 / np.sqrt(2.0 * np.pi)


# ---------------------------------------------------------------------------------------------
# Fixed y: the boundary layer at z = −J̃
# ---------------------------------------------------------------------------------------------

def _one_minus_Phi_pow(u, y):
    """1 − Φ(u)^y without cancellation."""
    return -np.expm1(y * log_Phi(u))


def boundary_cost(y, t) -> float:
    """B_y(t) = ∫dx Φ(x/√t)[1 − Φ(x/√(1−t))^y] = E[(√(1−t) M_y − √t ξ)₊] (see the module docstring).

    Limits: B_y(1) = φ(0) for every y > 0; B_1(t) = φ(0); B_y(0) = ∫_0^∞ [1 − Φ(x)^y] dx = E[(M_y)₊].
    Split at x = 0 and rescaled on each side (x = −√t v on the left, x = √(1−t) u on the right) so
    that both sharp steps are resolved by ``scipy.integrate.quad`` (relative accuracy ~1e-12).
    """
    y, t = finite_scalar("y", y), finite_scalar("t", t)
    if y <= 0 or not 0 <= t <= 1:
        raise ValueError(f"need y > 0 and 0 <= t <= 1, got y = {y}, t = {t}")
    left = right = 0.0
    if t > 0:
        r = np.sqrt(t / (1 - t)) if t < 1 else np.inf

        def fl(v):
            inner = 1.0 if not np.isfinite(r) else _one_minus_Phi_pow(-v * r, y)
            return sp.ndtr(-v) * inner
        pts = [1.0 / r, 10.0 / r] if np.isfinite(r) and r > 1 else None
        left = np.sqrt(t) * integrate.quad(fl, 0, 40, points=pts, epsabs=0, epsrel=1e-13,
                                           limit=200)[0]
    if t < 1:
        top = np.sqrt(2 * np.log(max(y, 1.0))) + 10.0
        c = np.sqrt((1 - t) / t) if t > 0 else np.inf

        def fr(u):
            step = 1.0 if not np.isfinite(c) else sp.ndtr(u * c)
            return step * _one_minus_Phi_pow(u, y)
        pts = [min(1.0 / c, top / 2)] if np.isfinite(c) and c > 1 else None
        right = np.sqrt(1 - t) * integrate.quad(fr, 0, top, points=pts, epsabs=0, epsrel=1e-13,
                                                limit=200)[0]
    return float(left + right)


def phi_fixed_y(d, y, t, J_D, kappa=0.0) -> float:
    """Leading small-d form of the reduced free entropy at fixed y and t (module docstring):

      Φ_red(t) = S_a − √(1−p²) (φ(J̃)/Φ(J̃)) B_y(t) + O(d ln d),  √(1−p²) = 2√(d(1−d)).

    At y = 1 it is the small-d form of the pair count f(1 − 2d) (SPEC §4.5). Needs J̃ > 0.
    """
    d = finite_scalar("d", d)
    jt = float(_jt(J_D, kappa))
    if jt <= 0 or not 0 < d < 0.5:
        raise ValueError("phi_fixed_y needs J_D - kappa > 0 and 0 < d < 1/2")
    s = 2 * np.sqrt(d * (1 - d))
    ratio = np.exp(-0.5 * jt * jt - log_Phi(jt)) * _PHI0
    return float(entropy_core(J_D, kappa) - s * ratio * boundary_cost(y, t))


# ---------------------------------------------------------------------------------------------
# y ∝ 1/d: the leading order of the densest clusters
# ---------------------------------------------------------------------------------------------

def _free(jt):
    """f = 2Φ(J̃) − 1 (mass of the free interval) and Φ(−J̃)."""
    return float(2 * sp.ndtr(jt) - 1), float(sp.ndtr(-jt))


def free_fraction(lam, J_D, kappa=0.0):
    """ν(Λ) = f e^Λ / N(Λ), N(Λ) = Φ(−J̃) + f e^Λ, f = 2Φ(J̃) − 1: the fraction of free sites of a
    reference tilted by e^Λ on its free sites (module docstring)."""
    f, out = _free(float(_jt(J_D, kappa)))
    lam = np.asarray(lam, float)
    return f / (f + out * np.exp(-lam))


def leading_external(lam, J_D, kappa=0.0):
    """Σ_ext at leading order as a function of Λ: ln 2N(Λ) − Λ ν(Λ) (decreasing in Λ, S_a at 0)."""
    f, out = _free(float(_jt(J_D, kappa)))
    lam = np.asarray(lam, float)
    lnN = np.logaddexp(np.log(out), np.log(f) + lam)
    return LN2 + lnN - lam * free_fraction(lam, J_D, kappa)


def _rounding_floor(y) -> float:
    """64 ε max(1, y): the rounding level of a W-average when the weights are W ∝ e^{y ln K}
    (each log-weight carries ε y |ln K|, |ln K| = O(1) where W lives; y ≈ 4e5 at d = 1e-6), below
    which a residual ⟨·⟩_W − target cannot be pushed (Φ is stationary in p̂, so what is left enters
    Φ at second order)."""
    return 64 * np.finfo(float).eps * max(1.0, float(y))


def _increasing_root(residual, h, tol, max_iter=200):
    """Root of an increasing function: ``residual(h)`` returns (f(h), f'(h), floor), ``floor`` the
    rounding level of f at h (below it |f| carries no information); Newton steps, replaced by
    bisection (or a unit step while no bracket exists) when they leave the bracket found so far.
    Returns (h, converged, |f|): converged when |f| < max(tol, floor). When the steps stagnate
    (below 1e-15 relative) with |f| above that, converged is False and h is the best point seen."""
    lo, hi = -np.inf, np.inf
    best = (h, np.inf)
    for _ in range(max_iter):
        f, slope, floor = residual(h)
        if abs(f) < max(tol, floor):
            return h, True, abs(f)
        if abs(f) < best[1]:
            best = (h, abs(f))
        lo, hi = (h, hi) if f < 0 else (lo, h)
        new = h - f / slope if slope > 0 else np.nan
        if not lo < new < hi:
            new = 0.5 * (lo + hi) if np.isfinite(lo) and np.isfinite(hi) else \
                h + (1.0 if f < 0 else -1.0) * max(1.0, abs(h))
        if abs(new - h) < 1e-15 * max(1.0, abs(h)):
            break
        h = new
    return best[0], False, best[1]


@dataclass
class Leading:
    """Leading small-d densest cluster: S_I^max = d[ln(ν*/d) + 1], y* = Λ*ν*/d (module docstring).

    ``frozen`` is False when Σ_ext stays positive for every Λ (f ≥ ½, i.e. J̃ ≥ 0.674): then
    Λ* = ∞, ν* = 1 and S_I^max is the bound H_b(d) to this order."""

    d: float
    J_D: float
    lam_star: float
    nu_star: float
    y_star: float
    internal_entropy: float
    phi: float
    frozen: bool


def leading(d, J_D, kappa=0.0) -> Leading:
    """The y ∝ 1/d leading order of the densest clusters at distance d (needs J̃ > 0)."""
    d = finite_scalar("d", d)
    jt = float(_jt(J_D, kappa))
    if jt <= 0 or not 0 < d < 0.5:
        raise ValueError("leading needs J_D - kappa > 0 and 0 < d < 1/2")
    g = lambda lam: float(leading_external(lam, J_D, kappa))  # noqa: E731
    hi = 1.0
    while g(hi) > 0 and hi < 700:
        hi *= 2
    if g(hi) > 0:
        S = d * (np.log(1 / d) + 1)
        return Leading(d, float(J_D), np.inf, 1.0, np.inf, float(S), np.inf, False)
    lam = brentq(g, 0.0, hi, xtol=1e-14, rtol=1e-14)
    nu = float(free_fraction(lam, J_D, kappa))
    S = d * (np.log(nu / d) + 1)
    y = lam * nu / d
    return Leading(d, float(J_D), float(lam), nu, float(y), float(S), float(y * S), True)


def leading_phi(d, y, J_D, kappa=0.0) -> dict:
    """Φ, S_I, Σ_ext at leading order for y = Y/d (Y = y d): Λ solves Y = Λν(Λ), then
    Φ = ln 2N(Λ) + Y ln(Y/(dΛ)), S_I = d[ln(Y/(dΛ)) + 1], Σ_ext = ln 2N(Λ) − Y."""
    d, y = finite_scalar("d", d), finite_scalar("y", y)
    Y = y * d
    lam = brentq(lambda l: l * float(free_fraction(l, J_D, kappa)) - Y, 0.0, 60 + 2 * Y,
                 xtol=1e-14)
    sig = float(leading_external(lam, J_D, kappa)) + lam * float(free_fraction(lam, J_D, kappa)) - Y
    S = d * (np.log(Y / (d * lam)) + 1)
    return dict(lam=lam, phi=sig + y * S, internal_entropy=S, external_entropy=sig)


# ---------------------------------------------------------------------------------------------
# Independent satellites: the uniform small-d approximant
# ---------------------------------------------------------------------------------------------

@dataclass
class Independent:
    """Φ_0(d, y) with its p̂, S_I = ∂_yΦ_0 and Σ_ext = Φ_0 − y S_I (satellites independent given
    the reference: q1 = p², q̂1 = 0; module docstring)."""

    d: float
    y: float
    J_D: float
    p_hat: float
    phi: float
    internal_entropy: float
    external_entropy: float
    converged: bool
    message: str = ""


class _IndepSite:
    """The z rule and the log-stabilities of Φ_0 at fixed (d, J̃)."""

    def __init__(self, d, jt, step=0.25):
        p = 1 - 2 * d
        s = 2 * np.sqrt(d * (1 - d))
        w = s / p
        # the H₊ step (z = −J̃/p) sits 2dJ̃ below the lower end z = −J̃ of the window: grade there
        z, wz = gauss_grid([(-jt + 1e-12, w), (jt / p, w)], lo=-jt, hi=10.0, step=step)
        self.p, self.lw = p, np.log(wz)
        self.lHp = log_Phi((jt + p * z) / s)
        self.lHm = log_Phi((jt - p * z) / s)
        self.half = 0.5 * (self.lHp - self.lHm)

    def state(self, y, p_hat):
        X = p_hat + self.half
        lnK = 0.5 * (self.lHp + self.lHm) + np.logaddexp(X, -X)
        lw = self.lw + y * lnK
        G = sp.logsumexp(lw)
        W = np.exp(lw - G)
        return np.tanh(X), lnK, W, G

    def solve_p_hat(self, y, guess=None):
        """⟨m⟩ = p: Newton on the increasing ⟨m⟩(p̂) (slope ⟨1 − m²⟩ + y Var m) inside a bracket."""
        p = self.p

        def residual(h):
            m, _, W, _ = self.state(y, h)
            mm, m2 = float(W @ m), float(W @ (m * m))
            return mm - p, (1 - m2) + y * (m2 - mm * mm), _rounding_floor(y)

        h0 = np.arctanh(min(p, 1 - 1e-12)) if guess is None else guess
        return _increasing_root(residual, h0, 1e-14)


def independent(d, y, J_D, kappa=0.0, *, p_hat=None, step=0.25) -> Independent:
    """Φ_0(d, y), S_I, Σ_ext with independent satellites (module docstring), any real y > 0."""
    d, y = finite_scalar("d", d), finite_scalar("y", y)
    jt = float(_jt(J_D, kappa))
    if not 0 < d < 0.5 or y <= 0 or jt <= 0:
        raise ValueError("independent needs 0 < d < 1/2, y > 0 and J_D - kappa > 0")
    site = _IndepSite(d, jt, step)
    h, ok, res = site.solve_p_hat(y, p_hat)
    _, lnK, W, G = site.state(y, h)
    ElnK = float(W @ lnK)
    phi = -y * site.p * h + LN2 + G
    S = -site.p * h + ElnK
    return Independent(d, y, float(J_D), float(h), float(phi), float(S), float(phi - y * S), ok,
                       "converged" if ok else f"p_hat root not reached (|residual| = {res:.2g})")


def independent_densest(d, J_D, kappa=0.0, *, step=0.25, y_max=1e9) -> Independent:
    """y* with Σ_ext(d, y*) = 0 for Φ_0 and S_I^max = S_I(d, y*) (Brent in ln y, bracket from the
    leading y*). ``converged=False`` with a message if Σ_ext keeps its sign up to ``y_max``."""
    d = finite_scalar("d", d)
    jt = float(_jt(J_D, kappa))
    lead = leading(d, J_D, kappa) if jt > 0 else None
    y0 = lead.y_star if lead is not None and lead.frozen else 1.0 / d
    return _sigma_root(lambda y, h: independent(d, y, J_D, kappa, p_hat=h, step=step), y0,
                       1e-3, y_max)


def _sigma_root(solve, y0, y_min, y_max):
    """The y* with Σ_ext(y*) = 0 of an approximant ``solve(y, p̂ guess)`` (Σ_ext decreases in y):
    unit steps in ln y from ``y0`` (clipped to [y_min, y_max]) down while Σ_ext < 0 and up while
    Σ_ext > 0, then Brent in ln y to 1e-12; each solve warm-started from the nearest p̂ solved.
    Without a sign change on [y_min, y_max] the last solve is returned with ``converged`` False."""
    cache = {}

    def at(ly):
        if ly not in cache:
            prev = cache[min(cache, key=lambda k: abs(k - ly))].p_hat if cache else None
            cache[ly] = solve(float(np.exp(ly)), prev)
        return cache[ly]

    lo = hi = np.log(max(min(y0, y_max), y_min))
    while at(lo).external_entropy < 0 and lo > np.log(y_min):
        lo -= 1.0
    while at(hi).external_entropy > 0 and hi < np.log(y_max):
        hi += 1.0
    if not at(lo).external_entropy > 0 > at(hi).external_entropy:
        r = at(hi)
        r.converged = False
        r.message = f"Σ_ext keeps its sign on y ∈ [{np.exp(lo):.3g}, {np.exp(hi):.3g}]"
        return r
    return at(brentq(lambda v: at(v).external_entropy, lo, hi, xtol=1e-12))


# ---------------------------------------------------------------------------------------------
# The two-module chain (L = 2, λ_L = λ_R = λ): independent satellites
# ---------------------------------------------------------------------------------------------

def _chain_rules(d, jt, lam, step):
    """Per reference column σ̃ = (+, ±) (gauge σ̃_1 = +1): the 1-D z rules of both layers, cut at the
    reference's own threshold σ̃_ℓ z_ℓ + a(σ̃) > 0, and the log-stabilities of the four satellite
    columns σ on them. a(σ) = J̃ + λσ_1σ_2 for both layers (SPEC §4.4)."""
    p = 1 - 2 * d
    s = 2 * np.sqrt(d * (1 - d))
    sharp = [(c, s / p) for c in (-(jt + lam) / p, (jt + lam) / p, -(jt - lam) / p,
                                  (jt - lam) / p)]
    cols = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], float)
    out = []
    for ref in ([1.0, 1.0], [1.0, -1.0]):
        a_ref = jt + lam * ref[0] * ref[1]
        layers = []
        for l in range(2):
            edge = -a_ref * ref[l]                      # σ̃_ℓ z > −a(σ̃)
            lo, hi = (edge, 10.0) if ref[l] > 0 else (-10.0, edge)
            pts = sharp + [(lo + 1e-12, s / p), (hi - 1e-12, s / p)]
            z, wz = gauss_grid(pts, lo=lo, hi=hi, step=step)
            a_sat = jt + lam * cols[:, 0] * cols[:, 1]
            lH = log_Phi((a_sat[:, None] + cols[:, l, None] * p * z[None, :]) / s)  # (4, nz)
            layers.append((np.log(wz), lH, ref[l] * cols[:, l]))
        out.append(layers)
    return p, out


@dataclass
class ChainIndependent:
    """Φ_0 per column of the two-module chain with independent satellites, and S_I, Σ_ext per
    neuron (÷ 2) — the small-d approximant of the chain (docs/theory_small_d.md)."""

    d: float
    y: float
    J_D: float
    lam: float
    p_hat: float
    phi_column: float
    internal_entropy: float
    external_entropy: float
    converged: bool
    message: str = ""


#: a pair (z_1, z_2) whose factorised sum K falls below this (relative to its per-node scale) is
#: recomputed by a joint log-sum-exp (the products of the scaled factors underflow there)
_K_TINY = 1e-250


class _ChainIndepSite:
    """The (z_1, z_2) rules of :func:`chain_independent` and the per-pair sums over the four
    satellite columns, K = Σ_c e^{p̂ M_c} H_1c(z_1) H_2c(z_2) (M_c = Σ_ℓ σ̃_ℓσ_ℓ), as three matrix
    products of per-node scaled factors (each layer's log-stabilities shifted by their maximum over
    c at that node); pairs where the scaled sum underflows are recomputed jointly in the log
    domain."""

    def __init__(self, d, jt, lam, step):
        self.p, self.rules = _chain_rules(d, jt, lam, step)
        self.blocks = []
        for (lw1, lH1, f1), (lw2, lH2, f2) in self.rules:
            m1, m2 = lH1.max(axis=0), lH2.max(axis=0)
            self.blocks.append(dict(lw=lw1[:, None] + lw2[None, :], M=f1 + f2, lH1=lH1, lH2=lH2,
                                    m=m1[:, None] + m2[None, :], E1=np.exp(lH1 - m1),
                                    E2=np.exp(lH2 - m2)))

    def state(self, y, h):
        """(m = ⟨M|z⟩, v = Var(M|z), ln K, W ∝ w K^y normalised, G = ln Σ w K^y), flattened."""
        ms, vs, lKs, lws = [], [], [], []
        for b in self.blocks:
            M = b["M"]
            e = h * M
            top = e.max()
            a = np.exp(e - top)
            K, K1, K2 = ((c[:, None] * b["E1"]).T @ b["E2"] for c in (a, a * M, a * M * M))
            bad = K < _K_TINY
            with np.errstate(divide="ignore", invalid="ignore"):
                lnK = np.log(K) + b["m"] + top
                m, m2 = K1 / K, K2 / K
            if bad.any():
                i, j = np.nonzero(bad)
                T = e[:, None] + b["lH1"][:, i] + b["lH2"][:, j]          # (4, pairs)
                lk = sp.logsumexp(T, axis=0)
                P = np.exp(T - lk)
                lnK[i, j], m[i, j], m2[i, j] = lk, M @ P, (M * M) @ P
            ms.append(m.ravel())
            vs.append((m2 - m * m).ravel())
            lKs.append(lnK.ravel())
            lws.append(b["lw"].ravel())
        m, v, lnK = np.concatenate(ms), np.concatenate(vs), np.concatenate(lKs)
        lw = np.concatenate(lws) + y * lnK
        G = sp.logsumexp(lw)
        return m, v, lnK, np.exp(lw - G), float(G)

    def solve_p_hat(self, y, guess=None, tol=1e-13):
        """⟨M⟩_W = 2p by Newton on the increasing ⟨M⟩_W(p̂), slope ⟨Var(M|z)⟩_W + y Var_W(m),
        safeguarded by bisection inside the bracket found so far, to ``tol`` or the rounding
        floor :func:`_rounding_floor` (the same as the core's :meth:`_IndepSite.solve_p_hat`)."""
        target = 2 * self.p

        def residual(h):
            m, v, _, W, _ = self.state(y, h)
            mm = float(W @ m)
            return mm - target, float(W @ v) + y * float(W @ (m - mm) ** 2), _rounding_floor(y)

        h0 = np.arctanh(min(self.p, 1 - 1e-12)) if guess is None else float(guess)
        return _increasing_root(residual, h0, tol)


def chain_independent(d, y, J_D, lam, kappa=0.0, *, p_hat=None, step=0.25) -> ChainIndependent:
    """Φ_0(d, y) of the two-module chain (λ_L = λ_R = λ; by the mirror symmetry p̂_1 = p̂_2 = p̂):

      Φ_0 = −2y p p̂ + ln 2 + ln Σ_{σ̃: σ̃_1=+1} ∫Dz_1Dz_2 Π_ℓ θ(σ̃_ℓ z_ℓ + a(σ̃)) K^y,
      K = Σ_σ e^{p̂ Σ_ℓ σ̃_ℓσ_ℓ} Π_ℓ Φ((a(σ) + σ_ℓ p z_ℓ)/s),  s = 2√(d(1−d)),

    per column (SPEC §6.7 with q1_ℓ = p², q̂1_ℓ = 0, as :func:`independent` for SPEC §6.3); p̂ solves
    ⟨Σ_ℓ σ̃_ℓσ_ℓ⟩ = 2p. S_I = ∂_yΦ_0 = −2p p̂ + ⟨ln K⟩ and Σ_ext = Φ_0 − y S_I, both ÷ 2 (per
    neuron). At λ = 0 the column is two independent cores: Φ_0 is twice the core's
    :func:`independent`, S_I and Σ_ext per neuron are the core's."""
    d, y, lam = finite_scalar("d", d), finite_scalar("y", y), finite_scalar("lam", lam)
    jt = float(_jt(J_D, kappa))
    if not 0 < d < 0.5 or y <= 0 or lam < 0:
        raise ValueError("chain_independent needs 0 < d < 1/2, y > 0 and λ ≥ 0")
    site = _ChainIndepSite(d, jt, lam, step)
    h, ok, _ = site.solve_p_hat(y, p_hat)
    _, _, lnK, W, G = site.state(y, h)
    p = site.p
    phi = -2 * y * p * h + LN2 + G
    S = -2 * p * h + float(W @ lnK)
    return ChainIndependent(d, y, float(J_D), lam, float(h), float(phi), S / 2,
                            float(phi - y * S) / 2, ok)


def chain_independent_densest(d, J_D, lam, kappa=0.0, *, step=0.25, y_max=1e9
                              ) -> ChainIndependent:
    """y* with Σ_ext = 0 for the chain's Φ_0 and S_I^max per neuron (:func:`_sigma_root`, from
    y = max(0.1/d, 1))."""
    return _sigma_root(lambda y, h: chain_independent(d, y, J_D, lam, kappa, p_hat=h, step=step),
                       max(0.1 / d, 1.0), 1e-2, y_max)
