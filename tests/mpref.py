"""High-precision references (mpmath, 30+ digits) shared by the theory tests."""

import mpmath as mp

DPS = 35


def log_Phi2(a, b, rho):
    """ln Φ₂(a,b;ρ) = ln ∫_{−∞}^{a} φ(x) Φ((b−ρx)/√(1−ρ²)) dx by tanh-sinh quadrature on many panels.

    The panels cover [a − 40, a] (more than enough: the integrand is bounded by φ(x)) uniformly and
    graded towards x = a, plus
    a fine grading around the step x₀ = b/ρ of the inner Φ, so the sharp layer as |ρ| → 1 is resolved.
    """
    with mp.workdps(DPS):
        return _log_Phi2(mp.mpf(a), mp.mpf(b), mp.mpf(rho))


def _log_Phi2(a, b, rho):
    if rho == 1:
        return mp.log(mp.ncdf(min(a, b)))
    s = mp.sqrt((1 - rho) * (1 + rho))
    f = lambda x: mp.npdf(x) * mp.ncdf((b - rho * x) / s)  # noqa: E731
    lo = a - 40 if a < 0 else min(a, mp.mpf(-40))
    pts = set(mp.linspace(lo, a, 161))
    pts.update(a - mp.mpf(2) ** k for k in range(-12, 5))  # the far-tail mass hugs x = a
    if rho != 0:
        x0, w = b / rho, s / abs(rho)
        for k in range(-3, 40):
            for sgn in (-1, 1):
                p = x0 + sgn * w * mp.mpf(2) ** k
                if lo < p < a:
                    pts.add(p)
        if lo < x0 < a:
            pts.add(x0)
    pts = sorted(pts)
    return mp.log(mp.quad(f, pts))


def log_Phi(x):
    """ln Φ(x); for x > 0 as log1p(−Φ(−x)) so that ln Φ(40) ≈ −3.6e-350 keeps its digits."""
    with mp.workdps(40):
        x = mp.mpf(x)
        return mp.log(mp.ncdf(x)) if x <= 0 else mp.log1p(-mp.ncdf(-x))
