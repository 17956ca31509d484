"""Figures of the learning experiments (SPEC 14; :mod:`numerics.learning.experiments`).

Each ``draw_*`` reads the tidy CSV the experiment wrote and draws one PNG; it computes nothing but
means and standard deviations over seeds.

- ``fig3`` (E3, Fig. 3): final test (solid) and train (dashed) accuracy of the two-layer chain vs λ at
  J_D = 0 (left) and vs J_D at λ = 0 (right), mean ± std over seeds.
- ``fig2`` (E2, Fig. 2): final test accuracy vs trainable parameters (log axis), ours and the
  binarised MLP, mean ± std over seeds.
- ``capacity`` (E9): capacity P (per class) vs depth L, seeds as points and their mean; censored
  points (P_max learned) as open markers.
- ``stability`` (V16): fraction of hidden units at fixed points of the free dynamics (solid) and
  fraction below the learning margin (dashed) vs epoch, one colour per J_D.

``make_fig2``, ``make_fig3``, ``make_capacity``, ``make_stability`` follow the ``make(out_dir,
quick=False) -> Path`` convention of :mod:`figures`: they read ``<out_dir>/<name>/<name>.csv`` when it
exists (e.g. from ``python -m numerics.learning.experiments NAME --out <out_dir>/<name>``), otherwise
run the experiment there with its default settings (a minute or two; resumable). ``quick`` also
accepts ``<out_dir>/<name>_quick`` and, when neither exists, runs a smaller version there.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
from matplotlib.ticker import NullFormatter

from toolkit.results import read_csv

from . import finish, subplots

__all__ = [
    "draw",
    "draw_capacity",
    "draw_fig2",
    "draw_fig3",
    "draw_stability",
    "make_capacity",
    "make_fig2",
    "make_fig3",
    "make_stability",
]


def _mean_std(rows, x, y):
    groups = defaultdict(list)
    for r in rows:
        groups[r[x]].append(float(r[y]))
    xs = sorted(groups)
    m = np.array([np.nanmean(groups[k]) for k in xs])
    s = np.array([np.nanstd(groups[k]) for k in xs])
    return np.array(xs, dtype=float), m, s


def _lambda_in(r) -> float:
    """The input strength of a fig3 row (NaN in CSVs written before it was a column)."""
    return float(r.get("lambda_in", float("nan")))


def _same(a: float, b: float) -> bool:
    return a == b or (np.isnan(a) and np.isnan(b))


def draw_fig3(rows, path) -> Path:
    fig, axes = subplots(1, 2, figsize=(9.5, 3.8), sharey=True)
    lins = sorted({_lambda_in(r) for r in rows})
    jds = sorted({r["J_D"] for r in rows if r["sweep"] == "vs_lam"})
    styles = ["-", "--", ":", "-."]
    for ax, sweep, x, xl, title in ((axes[0], "vs_lam", "lam", r"$\lambda$", r"vs $\lambda$"),
                                    (axes[1], "vs_J_D", "J_D", r"$J_D$", r"vs $J_D$, $\lambda = 0$")):
        for i, lin in enumerate(lins):
            for j, jd in enumerate(jds if sweep == "vs_lam" else [None]):
                sel = [r for r in rows if r["sweep"] == sweep and _same(_lambda_in(r), lin)]
                if jd is not None:
                    sel = [r for r in sel if r["J_D"] == jd]
                if not sel:
                    continue
                xs, m, s = _mean_std(sel, x, "final_test_acc")
                lab = (f"$\\lambda_{{in}} = {lin:g}$" if np.isfinite(lin) else "test") + \
                    (f", $J_D = {jd:g}$" if jd is not None and len(jds) > 1 else "")
                ax.errorbar(xs, m, yerr=s, ls=styles[j % len(styles)], marker="o", ms=4,
                            capsize=2, color=f"C{i}", label=lab)
        ax.axhline(0.1, color="0.6", lw=0.6)
        ax.set(xlabel=xl, title=f"two-layer chain, test accuracy {title}")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("test accuracy (final epoch; mean ± std over seeds)")
    r0 = rows[0] if rows else {}
    fig.suptitle(f"Fig. 3 analogue: L = 2, H = {r0.get('H', '?')}, {r0.get('epochs', '?')} epochs, "
                 f"{len({r['seed'] for r in rows})} seed(s); grey: chance", fontsize=10)
    return finish(fig, path)


def draw_fig2(rows, path) -> Path:
    fig, ax = subplots(1, 1, figsize=(6.4, 4.2))                # >= 1000 px at 170 dpi
    labels = {"ours": "ours (one hidden layer)", "mlp": "binarised MLP (backprop)"}
    ticks = set()
    for i, kind in enumerate(("ours", "mlp")):
        sel = [r for r in rows if r["model"] == kind]
        if not sel:
            continue
        xs, m, s = _mean_std(sel, "params", "final_test_acc")
        ax.errorbar(xs, m, yerr=s, marker="o", ms=4, capsize=2, color=f"C{i}", label=labels[kind])
        if kind == "ours":
            ticks.update(float(x) for x in xs)
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())      # the minor labels of a log axis overlap
    if ticks:                                          # the scanned sizes, labelled
        ax.set_xticks(sorted(ticks), [f"{x / 1e3:.0f}k" if x < 1e6 else f"{x / 1e6:.2g}M"
                                      for x in sorted(ticks)])
    ds = rows[0]["dataset"] if rows else ""
    ax.set(xlabel="trainable parameters", ylabel="test accuracy (final epoch)", title=ds)
    ax.legend()
    return finish(fig, path)


def draw_capacity_scan(rows, path) -> Path:
    """Success fraction over seeds vs P per depth L, the capacities (crossing of 1/2) as bars."""
    fig, ax = subplots(1, 1, figsize=(5.6, 3.8))
    for i, L in enumerate(sorted({r["L"] for r in rows})):
        sel = sorted((r for r in rows if r["L"] == L), key=lambda r: r["P"])
        f = np.array([r["success_fraction"] for r in sel])
        n = np.array([r["seeds"] for r in sel])
        ax.errorbar([r["P"] for r in sel], f, yerr=np.sqrt(np.maximum(f * (1 - f), 0) / n),
                    marker="o", ms=4, capsize=2, color=f"C{i}", label=f"L = {L}")
        c = sel[0]
        if c["capacity_status"] == "crossed":
            ax.errorbar(c["capacity"], 0.5, xerr=[[c["capacity"] - c["capacity_lo"]],
                                                  [c["capacity_hi"] - c["capacity"]]],
                        marker="|", ms=12, color=f"C{i}", capsize=3)
    ax.axhline(0.5, color="0.6", lw=0.6)
    ax.set(xlabel="P (patterns per class)", ylabel="fraction of seeds reaching train acc = 1",
           title="capacity vs depth: random associations")
    ax.legend()
    return finish(fig, path)


def draw_capacity(rows, path) -> Path:
    if rows and "success_fraction" in rows[0]:
        return draw_capacity_scan(rows, path)
    fig, ax = subplots(1, 1, figsize=(4.8, 3.6))
    for r in rows:
        ax.plot(r["L"], r["capacity"], "o", ms=5, color="C0", alpha=0.5,
                mfc="none" if str(r["censored"]) == "True" else "C0")
    if rows:
        xs, m, s = _mean_std(rows, "L", "capacity")
        ax.errorbar(xs, m, yerr=s, color="k", marker="_", ms=12, capsize=3, lw=1, label="mean")
        ax.set_xticks(xs)
        ax.legend()
    H = rows[0]["H"] if rows else "?"
    N = rows[0]["N"] if rows else "?"
    ax.set(xlabel="depth L", ylabel="capacity P (per class, train acc = 1)",
           title=f"random associations, N = {N}, H = {H}")
    ax.set_ylim(bottom=0)
    return finish(fig, path)


def draw_stability(rows, path) -> Path:
    fig, ax = subplots(1, 1, figsize=(5.2, 3.6))
    jds = sorted({r["J_D"] for r in rows})
    for i, jd in enumerate(jds):
        sel = [r for r in rows if r["J_D"] == jd]
        for col, ls, lab in (("fp_frac", "-", "at a fixed point"),
                             ("unstable_frac", "--", "below margin")):
            xs, m, s = _mean_std(sel, "epoch", col)
            ax.errorbar(xs, m, yerr=s, ls=ls, marker="o", ms=3, capsize=2, color=f"C{i}",
                        label=f"$J_D={jd:g}$, {lab}")
    ax.set(xlabel="epoch", ylabel="fraction of hidden units", ylim=(-0.02, 1.02),
           title="stability after removing the supervision")
    ax.legend(fontsize=7)
    return finish(fig, path)


_DRAW = {"fig3": draw_fig3, "fig2": draw_fig2, "capacity": draw_capacity,
         "stability": draw_stability}


def draw(name: str, csv_path, png_path) -> Path:
    """Draw experiment ``name`` from its CSV into ``png_path``."""
    return _DRAW[name](read_csv(csv_path), png_path)


# reduced settings of make(quick=True) when no results exist
_QUICK = {
    "fig3": dict(hidden=100, P=2000, P_eval=100, epochs=2, lam=[0.0, 3.0], J_D=[0.0, 1.0]),
    "fig2": dict(P=30, P_eval=30, hidden=[25, 100], epochs=2,
                 mlp_epochs=5),
    "capacity": dict(N=30, hidden=30, layers=[1, 2], epochs=10, P_max=64),
    "stability": dict(hidden=100, P=30, P_eval=30, epochs=3),
}


def _make(name: str, out_dir, quick: bool) -> Path:
    out_dir = Path(out_dir)
    dirs = [out_dir / name] + ([out_dir / f"{name}_quick"] if quick else [])
    sub = next((d for d in dirs if (d / f"{name}.csv").exists()), None)
    if sub is None:
        from numerics.learning.datasets import DatasetUnavailable
        from numerics.learning.experiments import run_experiment
        sub = dirs[-1]
        opts = _QUICK[name] if quick else {}
        try:
            run_experiment(name, opts, out=sub)                 # draws the PNG too
        except DatasetUnavailable:
            if not quick or name == "capacity":
                raise
            # a quick check without MNIST installed: synthetic prototypes instead (named in the CSV)
            run_experiment(name, {**opts, "dataset": "prototypes", "classes": 10}, out=sub)
    return draw(name, sub / f"{name}.csv", sub / f"{name}.png")


def make_fig3(out_dir="results/figures", quick: bool = False) -> Path:
    return _make("fig3", out_dir, quick)


def make_fig2(out_dir="results/figures", quick: bool = False) -> Path:
    return _make("fig2", out_dir, quick)


def make_capacity(out_dir="results/figures", quick: bool = False) -> Path:
    return _make("capacity", out_dir, quick)


def make_stability(out_dir="results/figures", quick: bool = False) -> Path:
    return _make("stability", out_dir, quick)
