"""Where learning switches on along a line of the (J_D, λ) plane (issue 14, Fig. 3 of the paper).

The experiment ``fig3`` of :mod:`numerics.learning.experiments` trains the two-module chain at points
of the (J_D, λ) plane. Along a line (λ at fixed J_D, or J_D at fixed λ), the final test accuracy stays
near chance in the OGP-like regime (the double-dynamics collapse) and rises to a plateau once the
couplings make the supervised configurations stable. The **learning onset** is where the mean test
accuracy m(x) first crosses the level

    a* = (1/C + A_max) / 2,

halfway between chance 1/C and the best mean accuracy A_max of the whole scan (same input strength λ_in,
width and epochs), so that lines of one scan are measured against one level. Between the grid points
x_{i-1} < x_i that bracket the first upward crossing, m is interpolated linearly:

    x_learn = x_{i-1} + t (x_i - x_{i-1}),   t = (a* - m_{i-1}) / (m_i - m_{i-1}),

and its standard error follows from the s.e. of m_{i-1}, m_i and of the level (A_max's s.e. / 2) by
linear error propagation (:func:`crossing`). The bracket [x_{i-1}, x_i] is reported too: the
interpolation assumes m linear between grid points, so the bracket is the model-free statement.

The s.e. of a mean over seeds is std / sqrt(n) (n >= 2 seeds); for one seed it is the binomial
sqrt(p (1 - p) / n_test) of the test accuracy. A line whose first point is already above a* has its
onset at or below the grid ("below grid", value = first x); one that never reaches a* has it above
("not reached", value = +inf).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["Onset", "crossing", "mean_accuracy", "onsets"]


@dataclass(frozen=True)
class Onset:
    """A learning onset: ``value`` ± ``se`` inside the grid ``bracket`` (lo, hi); ``status`` is
    "crossed", "below grid" (value = lo = first x) or "not reached" (value = +inf, lo = last x)."""

    value: float
    se: float
    lo: float
    hi: float
    level: float
    status: str


def crossing(x: Sequence[float], m: Sequence[float], se: Sequence[float], level: float,
             se_level: float = 0.0) -> Onset:
    """First upward crossing of ``level`` by the piecewise-linear curve (x, m), x increasing.

    With t = (a - m0) / (m1 - m0) and x* = x0 + t (x1 - x0) (a = level), the partial derivatives are
    dt/dm0 = (a - m1) / (m1 - m0)^2, dt/dm1 = -(a - m0) / (m1 - m0)^2, dt/da = 1 / (m1 - m0), and
    se(x*) = (x1 - x0) sqrt(sum (dt/dv se_v)^2) over v = m0, m1, a.
    """
    x = np.asarray(x, float)
    m = np.asarray(m, float)
    se = np.asarray(se, float)
    if x.ndim != 1 or x.size == 0 or m.shape != x.shape or se.shape != x.shape:
        raise ValueError("x, m and se must be 1-D arrays of the same non-zero length")
    if np.any(np.diff(x) <= 0):
        raise ValueError("x must be strictly increasing")
    if not (np.all(np.isfinite(m)) and math.isfinite(level)):
        raise ValueError("accuracies and the level must be finite")
    if m[0] >= level:
        return Onset(float(x[0]), 0.0, float(x[0]), float(x[0]), float(level), "below grid")
    above = np.flatnonzero(m >= level)
    if above.size == 0:
        return Onset(math.inf, math.nan, float(x[-1]), math.inf, float(level), "not reached")
    i = int(above[0])
    x0, x1, m0, m1 = x[i - 1], x[i], m[i - 1], m[i]
    dm = m1 - m0
    t = (level - m0) / dm
    grads = ((level - m1) / dm ** 2, -(level - m0) / dm ** 2, 1.0 / dm)
    errs = (se[i - 1], se[i], se_level)
    s = (x1 - x0) * math.sqrt(sum((g * e) ** 2 for g, e in zip(grads, errs) if math.isfinite(e)))
    return Onset(float(x0 + t * (x1 - x0)), float(s), float(x0), float(x1), float(level), "crossed")


def mean_accuracy(accs: Sequence[float], n_test: int | None) -> tuple[float, float]:
    """(mean, s.e.) of test accuracies over seeds: std/sqrt(n) for n >= 2 seeds, the binomial
    sqrt(p (1 - p) / n_test) for one (NaN when n_test is unknown)."""
    a = np.asarray(accs, float)
    if a.size == 0:
        raise ValueError("no accuracies")
    p = float(a.mean())
    if a.size >= 2:
        return p, float(a.std(ddof=1) / math.sqrt(a.size))
    return p, (math.sqrt(max(p * (1 - p), 1e-12) / n_test) if n_test else math.nan)


def onsets(rows: Iterable[dict], *, acc: str = "final_test_acc", classes: int = 10) -> list[dict]:
    """Learning onsets of a ``fig3`` scan: one row per (lambda_in, line).

    ``rows`` carry J_D, lam, lambda_in, seed, the accuracy column ``acc`` and n_test. A line is every
    set of points sharing J_D (along λ) or λ (along J_D) with at least two values of the other
    coupling. The level is (1/classes + A_max)/2 with A_max the best mean accuracy of the rows of the
    same lambda_in. Returned keys: lambda_in, along ("lam" | "J_D"), J_D, lam (the fixed coupling; NaN
    for the varying one), value, se, lo, hi, level, status, points, seeds.
    """
    groups: dict[tuple, list[float]] = defaultdict(list)
    n_test: dict[tuple, int | None] = {}
    for r in rows:
        key = (float(r["lambda_in"]), float(r["J_D"]), float(r["lam"]))
        groups[key].append(float(r[acc]))
        n_test[key] = r.get("n_test")
    stats = {k: mean_accuracy(v, n_test[k]) for k, v in groups.items()}
    out = []
    for lin in sorted({k[0] for k in stats}):
        pts = {k[1:]: v for k, v in stats.items() if k[0] == lin}
        best = max(pts, key=lambda p: pts[p][0])
        level = 0.5 * (1.0 / classes + pts[best][0])
        se_level = 0.5 * pts[best][1] if math.isfinite(pts[best][1]) else 0.0
        for along, fixed_index in (("lam", 0), ("J_D", 1)):
            for fixed in sorted({p[fixed_index] for p in pts}):
                line = sorted((p[1 - fixed_index], *pts[p]) for p in pts if p[fixed_index] == fixed)
                if len(line) < 2:
                    continue
                xs, ms, ses = zip(*line)
                o = crossing(xs, ms, ses, level, se_level)
                out.append(dict(lambda_in=lin, along=along,
                                J_D=fixed if along == "lam" else math.nan,
                                lam=fixed if along == "J_D" else math.nan, **asdict(o),
                                points=len(line), seeds=min(len(groups[(lin, *p)]) for p in pts
                                                             if p[fixed_index] == fixed)))
    return out
