"""``python -m figures NAME [NAME ...] | all | --list``: regenerate the toolkit's figures."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib import import_module

from toolkit.cli import make_parser, run


@dataclass(frozen=True)
class Figure:
    name: str
    paper: str
    description: str
    module: str


FIGURES = {f.name: f for f in [
    Figure("accessibility", "thesis (T5)", "success probability of async, sync dynamics and fBP vs "
           "J_D per N; median time vs N; thresholds J_acc(N), their 1/N extrapolation and the "
           "time-scaling threshold", "figures.accessibility"),
    Figure("accessibility_chain", "thesis (T5)", "two-module chain: success probability vs λ at "
           "fixed J_D; thresholds λ_acc(N) and their 1/N extrapolation", "figures.accessibility_chain"),
    Figure("fig4", "Fig. 4", "internal entropy of the densest clusters vs distance: core model and "
           "two-module chain (the OGP → RM transition)", "figures.fig4"),
    Figure("fig5", "Fig. 5 (v2)", "annealed entropy of the two-module chain vs J_D and vs λ, per "
           "column and per neuron", "figures.fig5"),
    Figure("franz_parisi", "thesis (T4)", "quenched RS Franz–Parisi potential vs the annealed local "
           "entropy around a typical fixed point", "figures.franz_parisi"),
    Figure("grid", "Fig. 3 + T5", "two-module chain on one (J_D, λ) grid: predicted λ_c line, "
           "accessibility thresholds of the dynamics and training accuracy (the validation report)",
           "figures.grid"),
    Figure("phase_diagram", "-", "annealed entropies and local entropy on the (J_D, λ) grid "
           "(the panels of python -m theory.phase_diagram)", "figures.phase_diagram_cmd"),
    Figure("fig2", "Fig. 2 (E2)", "test accuracy vs trainable parameters: our one-layer model and "
           "the binarised MLP", "figures.learning:make_fig2"),
    Figure("fig3", "Fig. 3 (E3)", "two-layer chain on entangled MNIST: accuracy vs λ at J_D = 0 "
           "and vs J_D at λ = 0", "figures.learning:make_fig3"),
    Figure("capacity", "E9", "hetero-association capacity vs depth L at equal width",
           "figures.learning:make_capacity"),
    Figure("stability", "V16", "fraction of hidden units at fixed points of the free dynamics "
           "vs epoch", "figures.learning:make_stability"),
]}


def main(argv=None) -> int:
    p = make_parser("python -m figures", __doc__, out="results/figures")
    p.add_argument("names", nargs="*", help="figure names, or 'all'")
    p.add_argument("--list", action="store_true", help="describe every figure and exit")
    p.add_argument("--quick", action="store_true", help="small grids, for a fast check")
    args = p.parse_args(argv)
    if args.list or not args.names:
        for f in FIGURES.values():
            print(f"{f.name:15s} {f.paper:12s} {f.description}")
        return 0
    names = list(FIGURES) if args.names == ["all"] else args.names
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise ValueError(f"unknown figure(s) {', '.join(unknown)}; see python -m figures --list")
    for n in names:
        module, _, func = FIGURES[n].module.partition(":")   # "module" or "module:function"
        path = getattr(import_module(module), func or "make")(args.out, quick=args.quick)
        if not args.quiet:
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(run(main, prog="python -m figures"))
