"""The multi-panel phase-diagram figure drawn from the CSVs of ``python -m theory.phase_diagram``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.ticker import MaxNLocator

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
           title="Local entropy, typical FP (annealed)")
    ax.legend(ncol=2)


def _draw_transition(ax, rows):
    """The OGP → RM line over the annealed entropy of the chain, zoomed on the transition."""
    from theory.annealed import entropy_chain
    ok = [r for r in rows if r["converged"]]
    chain = sorted((r for r in ok if r["L"] == 2 and r["critical"] == "lam"),
                   key=lambda r: r["J_D"])
    anchor = [r for r in ok if r["critical"] == "anchor"]
    core = [r for r in ok if r["L"] == 1]
    jmax = max([0.15] + [2 * r["J_D"] for r in core])
    lmax = max([0.6] + [1.3 * r["lam"] for r in chain])
    uj, ul = np.linspace(-0.05, jmax, 81), np.linspace(0, lmax, 81)
    JD, LAM = np.meshgrid(uj, ul)
    im = ax.pcolormesh(uj, ul, entropy_chain(JD, LAM, L=2) / 2, shading="auto", cmap="Greys_r",
                       alpha=0.6)
    ax.figure.colorbar(im, ax=ax, label="annealed S per neuron")
    if chain:
        ax.errorbar([r["J_D"] for r in chain], [r["lam"] for r in chain],
                    yerr=[r["uncertainty"] for r in chain], fmt="o-", color="C3", capsize=3,
                    label=r"$\lambda_c(J_D)$, chain $L=2$")
        if anchor:  # λ = 0: two independent cores, the line ends at (J_c, 0)
            a = anchor[0]
            ax.plot([chain[-1]["J_D"], a["J_D"]], [chain[-1]["lam"], 0.0], "--", color="C3",
                    lw=1, label=r"to the anchor $\lambda_c(J_c) = 0$")
    for r in core:
        ax.errorbar([r["J_D"]], [0.0], xerr=[r["uncertainty"]], fmt="*", ms=11, color="C0",
                    capsize=3, clip_on=False, label=rf"$J_c$ core $= {r['J_D']:.4f}$")
    ax.text(0.03, 0.05, "OGP", transform=ax.transAxes, fontsize=11, color="C3")
    ax.text(0.75, 0.85, "RM", transform=ax.transAxes, fontsize=11, color="C3")
    quality = rows[0].get("quality", "") if rows else ""
    ax.set(xlabel=r"$J_D$", ylabel=r"$\lambda$", xlim=(uj[0], uj[-1]), ylim=(0, lmax),
           title=f"OGP → RM line ({quality} grid)")
    ax.xaxis.set_major_locator(MaxNLocator(5))
    if chain or core:
        ax.legend(fontsize=7, loc="upper right" if not chain else "lower right")


#: layer name -> drawing function.
DRAWERS = {"core": _draw_core, "chain": _draw_chain, "local": _draw_local,
           "transition": _draw_transition}


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
