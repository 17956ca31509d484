"""Accessibility in the two-module chain (SPEC 3.3, 8; T5): success probability vs λ at fixed J_D.

The chain version of :mod:`figures.accessibility`: the same panels with λ in place of J_D
(thresholds λ_acc(N) and their 1/N extrapolation), plus the layer-sequential rule (on chains, plain
synchronous updates end in 2-cycles of the one-to-one links once λ is of order 1).

Reads ``<out>/accessibility_chain/accessibility.csv`` and ``thresholds.csv`` when they exist, e.g.
from ``python -m numerics.accessibility --L 2 --J-D 0 --lam 0:1.5:7 --algorithms
async,sync,layer,fbp --out <out>/accessibility_chain``; otherwise runs that experiment there first
(N = 100, 200; a few minutes). ``quick`` also accepts ``<out>/accessibility_chain_quick`` and, when
neither exists, runs a smaller experiment there (seconds).
"""

from __future__ import annotations

from pathlib import Path

from .accessibility import draw, load_or_run

ALGORITHMS = ("async", "sync", "layer", "fbp")
DEFAULT = dict(algorithms=ALGORITHMS, L=2, Ns=(100, 200), J_Ds=(0.0,),
               lams=(0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5))
QUICK = dict(algorithms=ALGORITHMS, L=2, Ns=(30, 60), J_Ds=(0.0,),
             lams=(0.3, 0.6, 0.9, 1.2, 1.5), instances=4, replicas=8, max_sweeps=200,
             bootstrap=50, fbp_dr=0.05, fbp_max_iter=100)


def make(out_dir="results/figures", quick: bool = False) -> Path:
    out_dir = Path(out_dir)
    dirs = [out_dir / "accessibility_chain"] + \
        ([out_dir / "accessibility_chain_quick"] if quick else [])
    sub, points, thr = load_or_run(dirs, QUICK if quick else DEFAULT)
    J_D = sorted({r["J_D"] for r in points})
    return draw(points, thr, sub / "accessibility.png", "lam",
                "two-module chain, " + ", ".join(f"$J_D={v:g}$" for v in J_D))
