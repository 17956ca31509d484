"""Franz–Parisi figure: quenched S_FP(d) against the annealed S_loc^ann(d) (SPEC §4.5, §5, T4).

Typical fixed points are isolated at small d for every J_D: both curves are negative near d = 0.
Writes ``franz_parisi.csv`` (+ sidecar; non-converged saddles are kept with ``converged = 0``)
and ``franz_parisi.png``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from theory.franz_parisi import curve
from theory.local_entropy import annealed
from toolkit.results import write_csv

from . import finish, subplots

J_DS = (0.05, 0.1, 0.25, 0.5, 1.0)


def make(out_dir="results/figures", quick: bool = False) -> Path:
    out_dir = Path(out_dir)
    d = np.array([0.45, 0.3, 0.2, 0.1, 0.05]) if quick else np.concatenate(
        [np.linspace(0.45, 0.06, 14), [0.05, 0.04, 0.03, 0.025, 0.02]])
    rows = []
    for jd in J_DS[:2] if quick else J_DS:
        for r in curve(d, jd):
            rows.append(dict(J_D=jd, d=r.d, S_FP=r.entropy, converged=int(r.converged),
                             S_loc_ann=float(annealed(r.d, jd)), p_hat=r.p_hat, q1=r.q1,
                             q1_hat=r.q1_hat, iterations=r.iterations))
    write_csv(out_dir / "franz_parisi.csv", rows, params=dict(J_D=J_DS, d=d))
    fig, ax = subplots(figsize=(5.5, 4))
    dd = np.linspace(1e-4, 0.5, 400)
    for i, jd in enumerate(sorted({r["J_D"] for r in rows})):
        sel = [r for r in rows if r["J_D"] == jd and r["converged"]]
        sel.sort(key=lambda r: r["d"])
        c = f"C{i}"
        ax.plot([r["d"] for r in sel], [r["S_FP"] for r in sel], "o-", ms=3, color=c,
                label=rf"$J_D={jd:g}$")
        ax.plot(dd, annealed(dd, jd), ":", color=c, lw=1)
    ax.axhline(0, color="k", lw=0.6)
    ax.set(xlabel="distance d", ylabel="entropy per spin",
           title="Around a typical FP: quenched $S_{FP}$ (dots) vs annealed (dotted)")
    ax.legend()
    return finish(fig, out_dir / "franz_parisi.png")
