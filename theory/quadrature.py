"""Composite quadrature rules for the replica integrals (SPEC §7 "Quadrature").

Gauss–Hermite suits smooth integrands only. As q1 → 1 the stability probabilities H± vary on the
scale √(1−q1) around fixed points of the z axis, and as q1 → p² the reference's H_r does too: fixed
100–300-node rules then give artefacts (e.g. a negative internal entropy). :func:`gauss_grid`
builds a composite Gauss–Legendre rule on a finite window with uniform panels plus panels graded
geometrically around each given sharp point, so that the local step is ≲ ¼ of the local scale.
"""

from __future__ import annotations

import numpy as np

_NODES = {}


def _legendre(n):
    if n not in _NODES:
        _NODES[n] = np.polynomial.legendre.leggauss(n)
    return _NODES[n]


def composite(breaks, n=8):
    """Nodes and weights of an n-point Gauss–Legendre rule on each interval of sorted ``breaks``."""
    br = np.unique(np.asarray(breaks, float))
    x, w = _legendre(n)
    half, mid = np.diff(br) / 2, (br[1:] + br[:-1]) / 2
    nodes = (mid[:, None] + half[:, None] * x).ravel()
    weights = (half[:, None] * w).ravel()
    return nodes, weights


def gauss_grid(sharp=(), *, lo=-10.0, hi=10.0, step=0.25, n=8):
    """Nodes x and weights w with Σ w f(x) ≈ ∫ Dz f(z) on [lo, hi] (the Gaussian measure included).

    ``sharp`` is a sequence of (centre, width) pairs: panels are graded geometrically (ratio 2) from
    width/4 up to ``step`` around each centre inside the window. Mass outside [−10, 10] is < 2e-23.
    """
    uni = np.arange(lo, hi, step)  # may overshoot hi by rounding (1, 1.3, 0.1 → 1.3000000000000003)
    br = [np.r_[uni[uni < hi], hi]]
    for c, w in sharp:
        if not (np.isfinite(c) and np.isfinite(w)) or w <= 0 or not lo < c < hi:
            continue
        k = w / 4 * 2.0 ** np.arange(0, max(1, int(np.ceil(np.log2(4 * step / w)))) + 1)
        br.append(np.clip(np.concatenate([c - k, [c], c + k]), lo, hi))
    x, w = composite(np.concatenate(br), n)
    return x, w * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)


def gauss_grid_rows(centres, width, *, lo=-10.0, hi=10.0, step=0.5, n=8):
    """One composite rule per row for ∫Dg f_r(g): uniform panels plus panels graded (ratio 2, from
    ``width``/4 up to ``step``) around each row's ``centres[r]``, where f_r has its sharp step.

    Returns nodes and weights of shape (rows, nodes), the Gaussian measure included. Every row has
    the same number of nodes (grading points outside the window are clipped to it).
    """
    centres = np.asarray(centres, float)
    uni = np.arange(lo, hi + step / 2, step)
    if width >= step or not np.isfinite(width) or width <= 0:
        x, w = gauss_grid(lo=lo, hi=hi, step=step, n=n)
        return np.broadcast_to(x, (centres.size, x.size)), np.broadcast_to(w, (centres.size, x.size))
    k = width / 4 * 2.0 ** np.arange(0, int(np.ceil(np.log2(4 * step / width))) + 1)
    geo = np.concatenate([centres[:, None] - k, centres[:, None], centres[:, None] + k], axis=1)
    br = np.sort(np.concatenate([np.broadcast_to(uni, (centres.size, uni.size)),
                                 np.clip(geo, lo, hi)], axis=1), axis=1)
    xg, wg = _legendre(n)
    half, mid = np.diff(br, axis=1) / 2, (br[:, 1:] + br[:, :-1]) / 2
    nodes = (mid[:, :, None] + half[:, :, None] * xg).reshape(centres.size, -1)
    weights = (half[:, :, None] * wg).reshape(centres.size, -1)
    return nodes, weights * np.exp(-0.5 * nodes * nodes) / np.sqrt(2 * np.pi)
