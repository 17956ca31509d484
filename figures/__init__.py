"""Figures: each reads (or, when absent, computes) tidy results and draws one PNG.

``python -m figures --list`` describes them; ``python -m figures NAME`` draws one; ``python -m
figures all`` draws them all. Matplotlib with the Agg backend and one style file
(``toolkit.mplstyle``); no LaTeX.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

STYLE = Path(__file__).with_name("toolkit.mplstyle")


def subplots(*args, **kwargs):
    """``plt.subplots`` under the toolkit style."""
    with plt.style.context(STYLE):
        fig, ax = plt.subplots(*args, **kwargs)
    return fig, ax


def finish(fig, path) -> Path:
    """Save ``fig`` atomically as PNG and close it."""
    from toolkit.results import save_figure
    with plt.style.context(STYLE):
        p = save_figure(fig, path)
    plt.close(fig)
    return p
