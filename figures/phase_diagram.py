"""The multi-panel phase-diagram figure drawn from the CSVs of ``python -m theory.phase_diagram``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from toolkit.results import read_csv

from . import finish, subplots


def _col(rows, key):
    return np.array([r[key] for r in rows], dtype=float)


def _draw_core(ax, rows):
    jd = _col(rows, "J_D")
    ax.plot(jd, _col(rows, "S_a"), label=r"$S_a = \ln 2\Phi(\tilde J)$ (asymmetric)")
    ax.plot(jd, _col(rows, "S_sym_eta1"), "--", label=r"symmetric, $\eta = 1$")
    ax.axhline(0, color="k", lw=0.6)
    ax.set(xlabel=r"$J_D$", ylabel="entropy per spin", title="Annealed FP entropy, core model")
    ax.legend()


def _draw_chain(ax, rows):
    jd, lam, S = _col(rows, "J_D"), _col(rows, "lam"), _col(rows, "S_neuron")
    uj, ul = np.unique(jd), np.unique(lam)
    if len(uj) < 2 or len(ul) < 2:
        for v in ul:
            m = lam == v
            ax.plot(jd[m], S[m], label=rf"$\lambda={v:g}$")
        ax.set(xlabel=r"$J_D$", ylabel="S per neuron", title="Two-module chain (annealed)")
        ax.legend()
        return
    Z = S.reshape(len(uj), len(ul)).T
    im = ax.pcolormesh(uj, ul, Z, shading="auto")
    cs = ax.contour(uj, ul, Z, levels=[0.0], colors="w", linewidths=1.2)
    ax.clabel(cs, fmt={0.0: "S = 0"}, fontsize=7)
    ax.figure.colorbar(im, ax=ax, label="S per neuron")
    ax.set(xlabel=r"$J_D$", ylabel=r"$\lambda$", title="Two-module chain, annealed entropy")


def _draw_local(ax, rows):
    jd, d, S = _col(rows, "J_D"), _col(rows, "d"), _col(rows, "S_loc_ann")
    for v in np.unique(jd):
        m = jd == v
        ax.plot(d[m], S[m], label=rf"$J_D={v:g}$")
    ax.axhline(0, color="k", lw=0.6)
    ax.set(xlabel="distance d", ylabel=r"$S_{loc}^{ann}(d)$",
           title="Annealed local entropy around a typical FP")
    ax.legend(ncol=2)


#: layer name -> drawing function; later layers (the transition line) register here too.
DRAWERS = {"core": _draw_core, "chain": _draw_chain, "local": _draw_local}


def draw(out_dir, names=None) -> Path:
    """Draw every layer CSV found in ``out_dir`` (or the ``names`` given) into phase_diagram.png."""
    out_dir = Path(out_dir)
    names = [n for n in (names or DRAWERS) if (out_dir / f"{n}.csv").exists() and n in DRAWERS]
    if not names:
        raise ValueError(f"no phase-diagram results in {out_dir}: run python -m theory.phase_diagram")
    fig, axes = subplots(1, len(names), figsize=(4.6 * len(names), 3.8), squeeze=False)
    for ax, name in zip(axes[0], names):
        DRAWERS[name](ax, read_csv(out_dir / f"{name}.csv"))
    return finish(fig, out_dir / "phase_diagram.png")
