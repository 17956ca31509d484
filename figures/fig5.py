"""Fig. 5 analogue: annealed entropy of the two-module chain (L = 2, λ_L = λ_R = λ), SPEC §4.4, T2.

Left: vs J_D for λ ∈ {0, 0.5, 1, 1.5}; right: vs λ for J_D ∈ {0, 0.125, 0.25}. Solid lines are per
column, (1/N) ln E𝒩; dashed lines per neuron, (1/2N) ln E𝒩 (which normalisation the paper's Fig. 5
uses is open, SPEC Q2, so both are drawn). Writes ``fig5.csv`` (+ sidecar) and ``fig5.png``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from theory.annealed import entropy_chain
from toolkit.results import write_csv

from . import finish, subplots

LAMS = (0.0, 0.5, 1.0, 1.5)
JDS = (0.0, 0.125, 0.25)


def compute(jd_grid=None, lam_grid=None) -> list[dict]:
    jd_grid = np.linspace(0, 2, 201) if jd_grid is None else jd_grid
    lam_grid = np.linspace(0, 3, 301) if lam_grid is None else lam_grid
    rows = []
    for sweep, xs, fixed in (("vs_J_D", jd_grid, LAMS), ("vs_lam", lam_grid, JDS)):
        for f in fixed:
            jd, lam = (xs, np.full_like(xs, f)) if sweep == "vs_J_D" else (np.full_like(xs, f), xs)
            S = entropy_chain(jd, lam, L=2)
            rows += [dict(sweep=sweep, J_D=float(a), lam=float(b), S_column=float(s),
                          S_neuron=float(s) / 2) for a, b, s in zip(jd, lam, S)]
    return rows


def make(out_dir="results/figures", quick: bool = False) -> Path:
    out_dir = Path(out_dir)
    n = 41 if quick else 201
    rows = compute(np.linspace(0, 2, n), np.linspace(0, 3, n))
    write_csv(out_dir / "fig5.csv", rows, params=dict(L=2, lams=LAMS, J_Ds=JDS, points=n))
    fig, (a1, a2) = subplots(1, 2, figsize=(9, 3.6))
    for ax, sweep, key, fixed, xl, lab in (
            (a1, "vs_J_D", "lam", LAMS, "J_D", r"\lambda"),
            (a2, "vs_lam", "J_D", JDS, "lam", "J_D")):
        for i, f in enumerate(fixed):
            sel = [r for r in rows if r["sweep"] == sweep and r[key] == f]
            x = [r[xl] for r in sel]
            c = f"C{i}"
            ax.plot(x, [r["S_column"] for r in sel], color=c, label=rf"${lab}={f:g}$")
            ax.plot(x, [r["S_neuron"] for r in sel], "--", color=c, lw=1.0)
        ax.axhline(0, color="k", lw=0.6)
        ax.set(xlabel=r"$J_D$" if xl == "J_D" else r"$\lambda$", ylabel=r"$S_a$ (solid: per column; dashed: per neuron)")
        ax.legend()
    a1.set_title("two-module chain vs $J_D$")
    a2.set_title(r"two-module chain vs $\lambda$")
    return finish(fig, out_dir / "fig5.png")
