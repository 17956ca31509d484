"""Fig. 4: internal entropy of the densest clusters vs distance, from d = 0.2 down to d → 0
(SPEC §6.8, §6.9; docs/theory_small_d.md).

Three panels, nine curves, as in the paper's caption: the core model at J_D ∈ {0.05, 0.07, 0.1}; the
two-module chain at J_D = 0.05 with λ ∈ {0.2, 0.3, 0.4}; and at J_D = 0 with λ ∈ {0.4, 0.45, 0.5}.
Each curve is S_I^max(d)/L = S_I(d, y*(d))/L with Σ_ext(d, y*) = 0 (constrained reference) in two
parts, which the figure and the CSV column ``part`` name:

- ``numerical``: the RS saddle on the centred branch — core: :func:`theory.fold.centred_curve`
  (continuous y, through the fold in t = (q1 − p²)/(1 − p²)); chain: the integer-y solver of
  :mod:`theory.chain_large_deviation` (spline in y), as in
  :func:`theory.transition.centred_minimum`.
  Distances where the centred branch has no Σ_ext = 0 crossing (a *gap*: Σ_ext < 0 up to its fold,
  no centred cluster there) are rows with part ``gap`` and NaN S_I (drawn as ticks on the axis);
  distances where the saddle solver failed are rows with part ``failed`` and NaN S_I (crosses on the
  axis), and chain distances where Σ_ext > 0 up to the largest y tried are rows with part
  ``lower_bound`` (S_I^max ≥ the value given; open triangles).
- ``asymptotic``: the independent-satellite approximant (:func:`theory.small_d.independent_densest`,
  :func:`theory.small_d.chain_independent_densest`), exact as d → 0 up to O(d^{3/2}), and
  S_I^max → 0
  at d = 0 (the leading order d[ln(ν*/d) + 1]).

The joining point (``join`` = 1 on its two rows) is the largest distance below every gap at which
the numerical crossing and the approximant agree to ``JOIN_RTOL`` (relative); the numerical rows
below it are dropped. If they agree nowhere, the curve is *not joined*: every numerical row is kept,
the approximant is drawn from the largest candidate distance down (so both parts overlap where they
disagree), ``join`` is 0 on every row, and ``join_d``/``join_mismatch`` (the same on every row of
the curve) give the distance where the two are closest and how far off they are there.

Each curve is one task of :func:`toolkit.sweep.run_sweep` (cached under ``<out>/fig4/tasks``, so an
interrupted run resumes); writes ``fig4.csv`` (+ sidecar) and ``fig4.png``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from theory import transition
from toolkit.results import write_csv
from toolkit.sweep import Task, run_sweep

from . import finish, subplots

PANELS = (
    ("core model", [(0.05, 0.0, 1), (0.07, 0.0, 1), (0.1, 0.0, 1)]),
    (r"chain $L=2$, $J_D=0.05$", [(0.05, 0.2, 2), (0.05, 0.3, 2), (0.05, 0.4, 2)]),
    (r"chain $L=2$, $J_D=0$", [(0.0, 0.4, 2), (0.0, 0.45, 2), (0.0, 0.5, 2)]),
)
QUICK_GRID = np.array([0.12, 0.08, 0.05])
GRID = np.r_[0.2, 0.14, 0.1, 0.07, 0.05, 0.035, 0.025, 0.018, 0.013, 0.01, 0.007, 0.005, 0.0035,
             0.0025, 0.002, 0.0015, 0.001]
"""Distances of the numerical branch: about √2 apart from 0.2 down to 0.001 (the chain stops at
``CHAIN_D_MIN``)."""
#: distances of the chain's integer-y branch (minutes each; y* ≈ 12 at the last one, and y* ∝ 1/d
#: outgrows the integer solver's y_max = 24 below ≈ 0.0015)
CHAIN_GRID = np.array([0.2, 0.1, 0.05, 0.03, 0.02, 0.014, 0.01, 0.007, 0.005, 0.0035, 0.0025])
#: the asymptotic part runs from the joining point down to this distance (log-spaced)
D_MIN = 1e-6
#: relative agreement of the numerical crossing and the approximant at the joining point
JOIN_RTOL = 0.02
#: the join is only looked for at d ≤ this (the approximant is a small-d form)
JOIN_MAX_D = 0.03
#: codes of the ``part`` column
PARTS = {0: "numerical", 1: "asymptotic", 2: "gap", 3: "failed", 4: "lower_bound"}
NUMERICAL, ASYMPTOTIC, GAP, FAILED, BOUND = 0, 1, 2, 3, 4
#: part code of each numerical status (theory.transition.CentredMinimum)
_PART_OF = {transition.CROSSING: NUMERICAL, transition.GAP: GAP, transition.FAILED: FAILED,
            transition.BOUND: BOUND}


def numerical_branch(J_D, lam, L, d_grid) -> list[tuple]:
    """(d, status, S_I^max per neuron, y*) on the centred branch along ``d_grid`` (large to small;
    S_I^max and y* mean something for "crossing" and "lower_bound" only, curve_task blanks the rest;
    status "crossing", "gap", "lower_bound" or "failed" as in
    :class:`theory.transition.CentredMinimum`)."""
    d_grid = np.sort(np.asarray(d_grid, float))[::-1]
    if L == 1:
        from theory import fold
        c0 = transition.densest(float(max(d_grid[0], fold_start())), J_D)
        if not c0.converged:
            return [(float(d), transition.FAILED, np.nan, np.nan) for d in d_grid]
        curve = fold.centred_curve(d_grid, J_D, start=c0.result)
        return [(c.d, c.status, c.internal_entropy, c.y_star) for c in curve]
    return [(d, st, S, y) for d, st, _, S, _, y in
            transition._chain_centred(J_D, lam, 0.0, d_grid)]


def fold_start() -> float:
    """Distance at which the core's centred branch is started from the fixed-y densest saddle."""
    return transition.F_START_D


def approximant(J_D, lam, L, d):
    """(S_I^max per neuron, y*) of the independent-satellite approximant at distance d."""
    from theory import small_d
    r = (small_d.independent_densest(d, J_D) if L == 1
         else small_d.chain_independent_densest(d, J_D, lam))
    return (r.internal_entropy, r.y) if r.converged else (np.nan, np.nan)


def _candidates(rows) -> list[tuple[float, float]]:
    """(d, S) of the numerical crossings that may join: below every gap and at d ≤ ``JOIN_MAX_D``,
    largest d first."""
    gaps = [d for d, st, *_ in rows if st == transition.GAP]
    below = min(gaps) if gaps else np.inf
    return sorted(((d, S) for d, st, S, _ in rows
                   if st == transition.CROSSING and d < below and d <= JOIN_MAX_D
                   and np.isfinite(S)), reverse=True)


def join(rows, approx) -> tuple[float, float]:
    """(d_join, relative mismatch there) for the numerical ``rows`` and ``approx(d)`` (module
    docstring): the largest candidate distance that agrees to ``JOIN_RTOL``, else the closest one
    (mismatch > ``JOIN_RTOL``: not joined); (NaN, NaN) when no numerical crossing lies below every
    gap."""
    best = (np.nan, np.inf)
    for d, S in _candidates(rows):
        a = approx(d)[0]
        if not np.isfinite(a):
            continue
        mis = abs(a / S - 1)
        if mis < JOIN_RTOL:
            return float(d), float(mis)
        if mis < best[1]:
            best = (float(d), float(mis))
    return best if np.isfinite(best[0]) else (np.nan, np.nan)


def curve_task(seed, J_D, lam, L, d_grid, d_min=D_MIN, n_asym=25) -> dict:
    """One curve (a :func:`run_sweep` task): numerical rows down to the join, approximant below."""
    rows = numerical_branch(J_D, lam, L, d_grid)
    cache = {}

    def approx(d):
        if d not in cache:
            cache[d] = approximant(J_D, lam, L, d)
        return cache[d]
    dj, mis = join(rows, approx)
    joined = bool(mis <= JOIN_RTOL)
    d, S, y, part = [], [], [], []
    for dd, st, s, yy in rows:
        if joined and dd < dj:
            continue
        valued = st in (transition.CROSSING, transition.BOUND)
        d.append(dd)
        S.append(s if valued else np.nan)
        y.append(yy if valued else np.nan)
        part.append(_PART_OF[st])
    if joined:
        top = dj
    else:  # overlap: from the largest candidate distance (or the grid's end) down
        cands = _candidates(rows)
        top = cands[0][0] if cands else min(r[0] for r in rows)
    for dd in np.geomspace(top, d_min, n_asym):
        s, yy = approx(float(dd))
        d.append(float(dd))
        S.append(s)
        y.append(yy)
        part.append(ASYMPTOTIC)
    return dict(d=np.array(d), S_I=np.array(S), y_star=np.array(y), part=np.array(part),
                join_d=dj, join_mismatch=mis)


def _tasks(d_grid, chain_grid, chain=True, n_asym=25, d_min=D_MIN):
    for _, curves in PANELS if chain else PANELS[:1]:
        for jd, lam, L in curves:
            grid = d_grid if L == 1 else chain_grid
            yield Task(f"JD{jd:g}_lam{lam:g}_L{L}",
                       dict(J_D=jd, lam=lam, L=L, d_grid=[float(x) for x in grid],
                            n_asym=n_asym, d_min=d_min))


def rows_of(res) -> list[dict]:
    """Tidy CSV rows from the task results."""
    rows = []
    for key, r in res.items():
        jd, lam, L = _parse(key)
        dj = float(r["join_d"])
        for d, s, y, p in zip(r["d"], r["S_I"], r["y_star"], r["part"]):
            rows.append(dict(J_D=jd, lam=lam, L=int(L), d=float(d), S_I_max=float(s),
                             y_star=float(y), part=PARTS[int(p)],
                             join=int(float(r["join_mismatch"]) <= JOIN_RTOL and float(d) == dj
                                      and int(p) in (NUMERICAL, ASYMPTOTIC)),
                             join_mismatch=float(r["join_mismatch"])))
    return rows


def make(out_dir="results/figures", quick: bool = False, executor=None) -> Path:
    out_dir = Path(out_dir)
    d_grid = QUICK_GRID if quick else GRID
    chain = _chain_available()
    own = executor is None and not quick
    if own:
        from toolkit.sweep import default_executor
        executor = default_executor()
    try:
        tasks = _tasks(d_grid, QUICK_GRID if quick else CHAIN_GRID, chain,
                       *((4, 1e-4) if quick else (25, D_MIN)))
        res = run_sweep(curve_task, tasks, out_dir / ("fig4_quick" if quick else "fig4"),
                        executor=executor, desc="fig4 curves")
    finally:
        if own:
            executor.shutdown()
    return draw(rows_of(res), out_dir, d_grid, QUICK_GRID if quick else CHAIN_GRID)


def draw(rows, out_dir, d_grid, chain_grid) -> Path:
    """Write ``fig4.csv`` and ``fig4.png`` from the rows of :func:`rows_of`."""
    out_dir = Path(out_dir)
    write_csv(out_dir / "fig4.csv", rows, params=dict(
        d_grid=d_grid, chain_d_grid=chain_grid, reference="constrained",
        criterion=transition.CRITERION_CENTRED,
        d_min=D_MIN, join_rtol=JOIN_RTOL, join_max_d=JOIN_MAX_D,
        parts="numerical: RS centred branch; asymptotic: independent satellites "
              "(theory.small_d); gap: no centred Σ_ext = 0 crossing"))
    fig, axes = subplots(2, 3, figsize=(14, 7.5), sharey=False)
    for col, (title, curves) in enumerate(PANELS):
        for ax, logx in zip(axes[:, col], (False, True)):
            _panel(ax, rows, curves, logx)
            ax.set_title(title + (" (log d)" if logx else ""), fontsize=9)
        if not any((r["J_D"], r["lam"], r["L"]) in curves for r in rows):
            axes[0, col].text(0.5, 0.5, "not computed", ha="center",
                              transform=axes[0, col].transAxes)
    return finish(fig, out_dir / "fig4.png")


def _panel(ax, rows, curves, logx):
    for i, (jd, lam, L) in enumerate(curves):
        mine = [r for r in rows if (r["J_D"], r["lam"], r["L"]) == (jd, lam, L)]
        if not mine:
            continue
        lab = rf"$J_D={jd:g}$" if L == 1 else rf"$\lambda={lam:g}$"
        mis = mine[0]["join_mismatch"]
        if np.isfinite(mis) and mis > JOIN_RTOL:
            lab += f" (not joined: {100 * mis:.1f} % off at best)"
        elif not np.isfinite(mis):
            lab += " (not joined: no crossing below the gaps)"
        # numerical points in d order, the line broken at gaps (NaN)
        num = sorted((r["d"], r["S_I_max"]) for r in mine
                     if r["part"] in ("numerical", "gap", "failed"))
        asy = sorted((r["d"], r["S_I_max"]) for r in mine if r["part"] == "asymptotic")
        if not logx:
            asy = [(0.0, 0.0)] + asy  # S_I^max → 0 as d → 0 (theory.small_d.leading)
        if any(np.isfinite(s) for _, s in num):
            ax.plot(*np.array(num).T, "o-", ms=2.5, color=f"C{i}", label=lab + " numerical")
        if asy:
            ax.plot(*np.array(asy).T, "--", color=f"C{i}")
        for r in mine:
            if r["join"] and r["part"] == "numerical":
                ax.plot(r["d"], r["S_I_max"], "o", ms=8, mfc="none", mec="k")
        for part, mark in (("gap", "v"), ("failed", "x")):
            at = [r["d"] for r in mine if r["part"] == part]
            if at:
                ax.plot(at, np.zeros(len(at)), mark, ms=4, color=f"C{i}", alpha=0.7)
        bound = [(r["d"], r["S_I_max"]) for r in mine if r["part"] == "lower_bound"]
        if bound:
            ax.plot(*np.array(bound).T, "^", ms=4, mfc="none", color=f"C{i}")
    ax.axhline(0, color="k", lw=0.6)
    ax.plot([], [], "o", ms=8, mfc="none", mec="k", label="join (numerical → asymptotic)")
    ax.plot([], [], "v", ms=4, color="grey", label="gap: no centred cluster")
    if any(r["part"] == "failed" for r in rows):
        ax.plot([], [], "x", ms=4, color="grey", label="saddle solver failed")
    if any(r["part"] == "lower_bound" for r in rows):
        ax.plot([], [], "^", ms=4, mfc="none", color="grey", label=r"lower bound on $S_I^{max}$")
    ax.plot([], [], "--", color="grey", label="asymptotic (independent satellites)")
    if logx:
        ax.set_xscale("log")
    ax.set(xlabel="distance d", ylabel=r"$S_I^{max}(d)/L$")
    ax.legend(fontsize=6)


def _parse(key):
    jd, lam, L = key.split("_")
    return float(jd[2:]), float(lam[3:]), int(L[1:])


def _chain_available() -> bool:
    try:
        from theory import chain_large_deviation as CLD  # noqa: F401
    except ImportError:
        return False
    return hasattr(CLD, "densest_curve")
