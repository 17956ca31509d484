"""The phase-diagram figure as a named figure: runs ``theory.phase_diagram`` into ``<out>/phase_diagram``."""

from __future__ import annotations

from pathlib import Path


def make(out_dir="results/figures", quick: bool = False) -> Path:
    from theory.phase_diagram import main
    sub = Path(out_dir) / "phase_diagram"
    argv = ["--out", str(sub), "--quiet"]
    if quick:
        argv += ["--J-D", "-0.25:2:10", "--lam", "0:2:9", "--local-J-D", "0,0.5",
                 "--transition-quality", "quick", "--transition-J-D", "",
                 "--transition-line", "0"]
    main(argv)
    return sub / "phase_diagram.png"
