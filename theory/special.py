"""Stable Gaussian tails, the bivariate normal CDF and the binary entropy (SPEC §2, §7).

Conventions (SPEC §2): φ(x) = e^{−x²/2}/√(2π), Φ(x) = ∫_{−∞}^x Dz, H(x) = Φ(−x), and
Φ₂(a, b; ρ) = P(X < a, Y < b) for standard normals with correlation ρ.

Everything works in the log domain, so that the far tails that appear at J̃ = ±40 or at distances
d → 0 keep their relative accuracy: ``ln Φ`` is ``scipy.special.log_ndtr`` (accurate to |x| ~ 10³),
never ``ln(½ erfc)``, which underflows.
"""

from __future__ import annotations

import numpy as np
from scipy import special as sp

from toolkit.checks import finite_array as check_finite  # noqa: F401  (re-exported)

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)

# Composite Gauss–Legendre rule used by :func:`log_Phi2` (nodes and weights on [-1, 1]).
_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)


def log_phi(x):
    """ln φ(x) = −x²/2 − ln √(2π)."""
    x = np.asarray(x, dtype=float)
    return -0.5 * x * x - _LOG_SQRT_2PI


def log_Phi(x):
    """ln Φ(x), accurate in both tails (``log_ndtr``)."""
    return sp.log_ndtr(x)


def log_H(x):
    """ln H(x) = ln Φ(−x) (SPEC §7: never ln(½ erfc x/√2))."""
    return sp.log_ndtr(-np.asarray(x, dtype=float))


def Phi(x):
    return sp.ndtr(x)


def H(x):
    return sp.ndtr(-np.asarray(x, dtype=float))


def mills(x):
    """R(x) = φ(x)/Φ(x) = d ln Φ/dx, written as √(2/π)/erfcx(−x/√2) so it never overflows."""
    return np.sqrt(2.0 / np.pi) / sp.erfcx(-np.asarray(x, dtype=float) / np.sqrt(2.0))


def binary_entropy(p):
    """H_b(p) = −p ln p − (1−p) ln(1−p) in nats, via ``scipy.special.entr`` (0 at p ∈ {0, 1})."""
    p = np.asarray(p, dtype=float)
    return sp.entr(p) + sp.entr(1.0 - p)


def exp_floor(x, floor):
    """exp(max(x, floor)), a fresh array: exp of arguments far below −708 takes NumPy's slow
    (non-SIMD) underflow path, about 12x slower, and products of subnormal numbers need a microcode
    assist on x86. Each floored term is raised by less than e^floor; callers state why that is
    negligible for their sums."""
    x = np.maximum(x, floor)
    return np.exp(x, out=x)


def log1mexp(x):
    """ln(1 − eˣ) for x ≤ 0, accurate near both ends (Mächler's switch at −ln 2)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(x > -np.log(2.0), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


# ----------------------------------------------------------------------------------------------
# Bivariate normal CDF
# ----------------------------------------------------------------------------------------------

def Phi2_owen(a, rho):
    """Φ₂(a, a; ρ) = Φ(a) − 2 T(a, √((1−ρ)/(1+ρ))) with Owen's T (SPEC §7), equal arguments only.

    An independent closed form used to cross-check :func:`log_Phi2`. It loses relative accuracy
    where Φ₂ ≪ Φ(a) (ρ → −1, or a ≪ 0) because of the subtraction.
    """
    a, rho = np.broadcast_arrays(np.asarray(a, float), np.asarray(rho, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.sqrt((1.0 - rho) / (1.0 + rho))
    out = sp.ndtr(a) - 2.0 * sp.owens_t(a, r)
    out = np.where(rho == -1.0, np.maximum(2.0 * sp.ndtr(a) - 1.0, 0.0), out)
    return out


def _log_integrand(x, a, b, rho, s):
    """g(x) = ln φ(x) + ln Φ((b − ρx)/s): Φ₂(a,b;ρ) = ∫_{−∞}^a e^{g(x)} dx. Concave in x."""
    return log_phi(x) + sp.log_ndtr((b - rho * x) / s)


def _dlog_integrand(x, b, rho, s):
    return -x - (rho / s) * mills((b - rho * x) / s)


def bisect(f, lo, hi, iters=100):
    """Vectorised bisection for the sign change of a decreasing ``f`` on [lo, hi]."""
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        pos = f(mid) > 0
        lo = np.where(pos, mid, lo)
        hi = np.where(pos, hi, mid)
    return 0.5 * (lo + hi)


def _log_Phi2_quad(a, b, rho, s=None):
    """ln Φ₂ for |ρ| < 1 by a composite Gauss–Legendre rule on the log-concave integrand.

    The integrand e^{g} with g(x) = ln φ(x) + ln Φ((b − ρx)/s), s = √(1−ρ²), x ≤ a, is log-concave
    (a product of log-concave factors), so it is unimodal: we locate its mode x*, cut the range where
    g > g(x*) − 60 (the rest weighs < e^{−55} relative), and integrate there with 32 uniform panels
    plus panels graded geometrically (ratio 4, from s/|ρ|/4 up to 4²⁰ s/|ρ|) around the step of the Φ factor at
    x₀ = b/ρ, which becomes sharp as |ρ| → 1. 16 Gauss–Legendre nodes per panel; the sum is a
    log-sum-exp, so the result keeps its relative accuracy however small Φ₂ is.
    """
    s = np.sqrt((1.0 - rho) * (1.0 + rho)) if s is None else s
    g = lambda x: _log_integrand(x, a, b, rho, s)  # noqa: E731
    dg = lambda x: _dlog_integrand(x, b, rho, s)  # noqa: E731
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # tiny ρ: x₀ = ±inf
        x0 = np.where(rho != 0, b / np.where(rho != 0, rho, 1.0), -np.inf)
    # Mode x* of the concave g on (−∞, a].
    lo = np.minimum(a, 0.0) - 2.0
    step = np.full_like(lo, 2.0)
    for _ in range(80):
        bad = dg(lo) <= 0
        if not bad.any():
            break
        lo = np.where(bad, lo - step, lo)
        step = np.where(bad, 2 * step, step)
    at_edge = dg(a) >= 0
    xstar = np.where(at_edge, a, bisect(dg, lo, np.where(at_edge, a + 1, a), iters=60))
    gstar = g(xstar)
    drop = 60.0
    level = lambda x: g(x) - (gstar - drop)  # noqa: E731  (positive inside the support window)
    # Left end: step left until below the level, then bisect (g is increasing left of x*).
    left = xstar - 1.0
    step = np.ones_like(left)
    for _ in range(80):
        above = level(left) > 0
        if not above.any():
            break
        left = np.where(above, left - step, left)
        step = np.where(above, 2 * step, step)
    xl = bisect(lambda x: -level(x), left, xstar, iters=40)
    # Right end: the same towards a (g decreasing right of x*), capped at a.
    right = np.minimum(xstar + 1.0, a)
    step = np.ones_like(right)
    for _ in range(80):
        above = (level(right) > 0) & (right < a)
        if not above.any():
            break
        right = np.where(above, np.minimum(right + step, a), right)
        step = np.where(above, 2 * step, step)
    xr = np.where(level(right) > 0, right, bisect(level, xstar, right, iters=40))
    # Breakpoints: uniform, plus geometric grading around the step of the Φ factor.
    uni = xl[:, None] + (xr - xl)[:, None] * np.linspace(0.0, 1.0, 33)[None, :]
    w = s / np.maximum(np.abs(rho), 1e-12)  # ρ → 0: a flat Φ factor, every graded point clipped
    k = 4.0 ** np.arange(-1, 21)
    x0c = np.where(np.isfinite(x0), x0, xl)
    geo = np.concatenate([x0c[:, None] - w[:, None] * k, x0c[:, None],
                          x0c[:, None] + w[:, None] * k], axis=1)
    geo = np.clip(geo, xl[:, None], xr[:, None])
    br = np.sort(np.concatenate([uni, geo], axis=1), axis=1)
    lo_, hi_ = br[:, :-1], br[:, 1:]
    half = 0.5 * (hi_ - lo_)
    mid = 0.5 * (hi_ + lo_)
    nodes = mid[:, :, None] + half[:, :, None] * _GL_X[None, None, :]
    with np.errstate(divide="ignore"):
        logw = np.log(half)[:, :, None] + np.log(_GL_W)[None, None, :]
    vals = _log_integrand(nodes, a[:, None, None], b[:, None, None], rho[:, None, None],
                          s[:, None, None]) + logw
    flat = vals.reshape(len(a), -1)
    return sp.logsumexp(flat, axis=1)


def log_Phi2(a, b, rho, *, omr=None, opr=None, chunk: int = 4096):
    """ln Φ₂(a, b; ρ), relative accuracy ~1e-13 everywhere, vectorised (SPEC §2, §7).

    - ρ = 1: Φ(min(a, b)); ρ = −1: max(Φ(a) + Φ(b) − 1, 0) (−inf when a + b ≤ 0);
    - |ρ| < 1: Φ₂ = ∫_{−∞}^a φ(x) Φ((b − ρx)/√(1−ρ²)) dx by a composite rule on the log-concave
      integrand (:func:`_log_Phi2_quad`), never Genz's Monte-Carlo-grade CDF.
    Equal arguments with ρ ≥ 0 and a ≥ −3 take the Owen-T fast path ln Φ(a) + log1p(−2T(a, r)/Φ(a)),
    r = √((1−ρ)/(1+ρ)): there Φ₂ ≥ Φ(a)², so the relative error stays below ε/Φ(a).

    ``omr`` = 1 − ρ and ``opr`` = 1 + ρ may be passed when the caller knows them more accurately than
    ρ itself (ρ = 1 − 2d with d ≪ 1 loses the digits of d): they set √(1−ρ²) and the Owen-T ratio.
    """
    a, b, rho = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float),
                                    np.asarray(rho, float))
    omr = 1.0 - rho if omr is None else np.broadcast_to(np.asarray(omr, float), a.shape)
    opr = 1.0 + rho if opr is None else np.broadcast_to(np.asarray(opr, float), a.shape)
    if np.any(np.isnan(a) | np.isnan(b) | np.isnan(rho)):
        raise ValueError("log_Phi2: NaN argument")
    if np.any(np.abs(rho) > 1) or np.any(omr < 0) or np.any(opr < 0):
        raise ValueError("log_Phi2: |rho| must be <= 1")
    shape = a.shape
    a, b, rho, omr, opr = (np.ravel(v) for v in (a, b, rho, omr, opr))
    out = np.empty(a.shape)
    one = omr == 0.0
    out[one] = sp.log_ndtr(np.minimum(a[one], b[one]))
    mone = (opr == 0.0) & ~one
    if mone.any():
        la, lmb = sp.log_ndtr(a[mone]), sp.log_ndtr(-b[mone])
        with np.errstate(divide="ignore", invalid="ignore"):
            v = la + log1mexp(np.minimum(lmb - la, 0.0))
        out[mone] = np.where(a[mone] + b[mone] > 0, v, -np.inf)
    fast = (~one) & (~mone) & (a == b) & (rho >= 0) & (a >= -3.0)
    if fast.any():
        r = np.sqrt(omr[fast] / opr[fast])
        lp = sp.log_ndtr(a[fast])
        out[fast] = lp + np.log1p(-2.0 * sp.owens_t(a[fast], r) * np.exp(-lp))
    gen = np.flatnonzero(~(one | mone | fast))
    for start in range(0, gen.size, chunk):
        idx = gen[start:start + chunk]
        # Integrate over the smaller argument: the window then starts where the mass is.
        aa = np.minimum(a[idx], b[idx])
        bb = np.maximum(a[idx], b[idx])
        out[idx] = _log_Phi2_quad(aa, bb, rho[idx], np.sqrt(omr[idx] * opr[idx]))
    return out.reshape(shape)


def Phi2(a, b, rho):
    """Φ₂(a, b; ρ) = exp(:func:`log_Phi2`)."""
    return np.exp(log_Phi2(a, b, rho))
