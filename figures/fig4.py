"""Fig. 4: internal entropy of the densest clusters vs distance (SPEC §6.8, §6.9).

Three panels, nine curves, as in the paper's caption: the core model at J_D ∈ {0.05, 0.07, 0.1}; the
two-module chain at J_D = 0.05 with λ ∈ {0.2, 0.3, 0.4}; and at J_D = 0 with λ ∈ {0.4, 0.45, 0.5}.
Each curve is S_I^max(d)/L = S_I(d, y*(d))/L with Σ_ext(d, y*) = 0 (constrained reference, continuous
y for the core model; see :mod:`theory.transition`), continued from large to small d until the RS
branch ends in its fold or the grid ends (marked ×). RM: the curve stays positive down to its end; OGP: it turns
negative (no fixed point has fixed points at those distances).

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
GRID = np.r_[np.geomspace(0.2, 0.03, 8), np.arange(0.027, 0.0049, -0.002)]
"""Distances of the full figure: geometric down to 0.03, then steps of 0.002 to 0.005."""


def curve_task(seed, J_D, lam, L, d_grid) -> dict:
    """One curve: resolved (d, S_I^max/L, y*) along ``d_grid`` (a :func:`run_sweep` task)."""
    pts = transition._densest_points(J_D, lam, L, 0.0, np.asarray(d_grid, float))
    d, s, y = (np.array(c, float) for c in zip(*pts)) if pts else (np.empty(0),) * 3
    return dict(d=d, S_I=s, y_star=y)


def _tasks(d_grid, chain=True):
    for _, curves in PANELS if chain else PANELS[:1]:
        for jd, lam, L in curves:
            yield Task(f"JD{jd:g}_lam{lam:g}_L{L}",
                       dict(J_D=jd, lam=lam, L=L, d_grid=[float(x) for x in d_grid]))


def make(out_dir="results/figures", quick: bool = False, executor=None) -> Path:
    out_dir = Path(out_dir)
    d_grid = QUICK_GRID if quick else GRID
    chain = _chain_available()
    own = executor is None and not quick
    if own:
        from toolkit.sweep import default_executor
        executor = default_executor()
    try:
        res = run_sweep(curve_task, _tasks(d_grid, chain), out_dir / ("fig4_quick" if quick
                        else "fig4"), executor=executor, desc="fig4 curves")
    finally:
        if own:
            executor.shutdown()
    rows = []
    for key, r in res.items():
        jd, lam, L = _parse(key)
        for d, s, y in zip(r["d"], r["S_I"], r["y_star"]):
            rows.append(dict(J_D=jd, lam=lam, L=int(L), d=float(d), S_I_max=float(s),
                             y_star=float(y)))
    write_csv(out_dir / "fig4.csv", rows, params=dict(d_grid=d_grid, reference="constrained",
                                                      criterion=transition.CRITERION))
    fig, axes = subplots(1, 3, figsize=(14, 4.2), sharey=False)
    for ax, (title, curves) in zip(axes, PANELS):
        for i, (jd, lam, L) in enumerate(curves):
            sel = sorted((r["d"], r["S_I_max"]) for r in rows
                         if (r["J_D"], r["lam"], r["L"]) == (jd, lam, L))
            if not sel:
                continue
            d, s = np.array(sel).T
            lab = rf"$J_D={jd:g}$" if L == 1 else rf"$\lambda={lam:g}$"
            ax.plot(d, s, "o-", ms=2.5, color=f"C{i}", label=lab)
            ax.plot(d[0], s[0], "x", ms=7, color=f"C{i}")  # end of the resolved branch
        ax.axhline(0, color="k", lw=0.6)
        ax.set(xlabel="distance d", ylabel=r"$S_I^{max}(d)/L$", title=title, xlim=(0, 1.05 * max(d_grid)))
        if ax.lines:
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "chain large deviations\nnot available", ha="center",
                    transform=ax.transAxes)
    return finish(fig, out_dir / "fig4.png")


def _parse(key):
    jd, lam, L = key.split("_")
    return float(jd[2:]), float(lam[3:]), int(L[1:])


def _chain_available() -> bool:
    try:
        from theory import chain_large_deviation as CLD  # noqa: F401
    except ImportError:
        return False
    return hasattr(CLD, "densest_curve")
