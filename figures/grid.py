"""The shared (J_D, λ) grid of the two-module chain (SPEC 3.3, 8; Fig. 3; issue 6).

One plane with the predicted OGP → RM line λ_c(J_D) (the OGP side shaded), the accessibility
thresholds of asynchronous and layer-sequential dynamics on the chain, and the test accuracy of the
learning rule at every grid point: the ``grid.png`` of :mod:`validation.report` (drawn by
:func:`validation.grid.draw_grid`).

Reads the report's component directories under ``<out>/report`` (``<out>/report_quick`` with
``quick``) and runs the missing ones there first through ``python -m validation.report``: with
``quick`` the chain accessibility and the training runs at the report's quick sizes (seconds; no
theory line, whose root searches take minutes), otherwise the transition line, the chain and the
training at the full settings (hours of CPU; resumable, so an interrupted run continues). A finished
report directory can be pointed at directly: ``python -m figures grid --out DIR`` with ``DIR/report``.
"""

from __future__ import annotations

from pathlib import Path

QUICK_COMPONENTS = ("chain", "training")
FULL_COMPONENTS = ("transition", "chain", "training")


def make(out_dir="results/figures", quick: bool = False) -> Path:
    from validation import report

    sub = Path(out_dir) / ("report_quick" if quick else "report")
    comps = QUICK_COMPONENTS if quick else FULL_COMPONENTS
    argv = ["--out", str(sub), "--components", ",".join(comps), "--quiet"]
    report.main(argv + (["--quick", "--workers", "1"] if quick else []))  # cached parts reload
    return sub / "grid.png"
