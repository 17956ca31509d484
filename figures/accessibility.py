"""Accessibility figure (SPEC 8, 9; T5): success probability vs J_D and the extrapolated thresholds.

One panel per algorithm (async, sync, fBP): the probability that a run ends in a fixed point vs J_D,
one line per N (error bars: the larger of the binomial and the between-instance s.e.); for the
deterministic rules the fraction of runs ending in a 2-cycle is dotted (when any). Next panel (when
some coupling has a finite median time at two or more sizes): the median convergence time vs N in
log-log scale, one line per coupling, for the first dynamics rule (straight = power law; bending up
= faster than any power). Last panel: the 50 % points J_acc(N) vs 1/N with their s.e., the weighted
straight-line fit in 1/N and its value at 1/N = 0 (open square), and the budget-free time-scaling
threshold (open diamond, where the curvature of ln t vs ln N changes sign). Methods:
:mod:`numerics.accessibility`.

Reads ``<out>/accessibility/accessibility.csv`` and ``thresholds.csv`` when they exist (e.g. written by
``python -m numerics.accessibility --out <out>/accessibility ...``); otherwise runs the experiment
there first with the command's default settings (N = 100, 200; under a minute). ``quick`` also accepts
``<out>/accessibility_quick`` and, when neither exists, runs a smaller experiment (a few seconds)
there. The PNG ``accessibility.png`` goes next to the CSVs it was drawn from.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from toolkit.results import read_csv

from . import finish, subplots

LABELS = {"async": "asynchronous", "sync": "synchronous", "layer": "layer-sequential",
          "fbp": "focusing BP"}
XLABEL = {"J_D": r"$J_D$", "lam": r"$\lambda$"}
YLABEL = {"J_D": r"$J_{D,\mathrm{acc}}$", "lam": r"$\lambda_{\mathrm{acc}}$"}
STYLES = ("-", "--", ":", "-.")

QUICK = dict(Ns=(40, 80), J_Ds=(0.1, 0.25, 0.4, 0.55, 0.7, 0.85), instances=4, replicas=8,
             max_sweeps=200, bootstrap=50, fbp_dr=0.05, fbp_max_iter=100)
DEFAULT: dict = {}


def _has_results(d: Path) -> bool:
    return (d / "accessibility.csv").exists() and (d / "thresholds.csv").exists()


def load_or_run(dirs: list[Path], run_kwargs: dict, quiet: bool = True) -> tuple[Path, list, list]:
    """(directory, rows of ``accessibility.csv``, rows of ``thresholds.csv``) from the first of
    ``dirs`` that holds both; when none does, runs the experiment into the last one first
    (:func:`numerics.accessibility.run` with ``run_kwargs``; resumable)."""
    sub = next((d for d in dirs if _has_results(d)), None)
    if sub is None:
        from numerics.accessibility import run
        sub = dirs[-1]
        run(out=sub, quiet=quiet, **run_kwargs)
    return sub, read_csv(sub / "accessibility.csv"), read_csv(sub / "thresholds.csv")


def _fixed_name(variable: str) -> str:
    return "lam" if variable == "J_D" else "J_D"


def draw(points: list[dict], thr: list[dict], path, variable: str = "J_D", title: str = "") -> Path:
    """Success-probability panels (vs ``variable``) and the J_acc(N) vs 1/N panel; saves ``path``."""
    fixed_name = _fixed_name(variable)
    fixed_values = sorted({r[fixed_name] for r in points})
    if len(fixed_values) > len(STYLES):
        fixed_values = fixed_values[:len(STYLES)]
    algs = [a for a in LABELS if any(r["algorithm"] == a for r in points)]
    Ns = sorted({r["N"] for r in points})
    time_alg = next((a for a in algs if a != "fbp" and _time_lines(points, a, variable)), None)
    ncol = len(algs) + 1 + (time_alg is not None)
    fig, axes = subplots(1, ncol, figsize=(3.3 * ncol, 3.3), squeeze=False)
    axes = axes[0]
    if time_alg is not None:
        _draw_times(axes[-2], _time_lines(points, time_alg, variable), variable, time_alg)
    for ax, alg in zip(axes, algs):
        for i, N in enumerate(Ns):
            for ls, fv in zip(STYLES, fixed_values):
                sel = sorted((r for r in points if r["algorithm"] == alg and r["N"] == N
                              and r[fixed_name] == fv), key=lambda r: r[variable])
                if len(sel) < 1:
                    continue
                x = [r[variable] for r in sel]
                p = [r["p_success"] for r in sel]
                err = [np.nanmax([r["se_binomial"], r["se_instances"]]) for r in sel]
                lab = f"N={N}" + (f", {fixed_name}={fv:g}" if len(fixed_values) > 1 else "")
                ax.errorbar(x, p, yerr=err, ls=ls, marker="o", ms=3, color=f"C{i}", label=lab,
                            capsize=2)
                c2 = [r["cycle2_fraction"] for r in sel]
                if alg in ("sync", "layer") and np.nanmax(c2) > 0:
                    ax.plot(x, c2, ls=":", marker="x", ms=4, lw=1, color=f"C{i}",
                            label="2-cycles" if i == 0 and fv == fixed_values[0] else None)
        ax.axhline(0.5, color="0.6", lw=0.6)
        ax.set(xlabel=XLABEL[variable], ylabel="P(fixed point reached)", ylim=(-0.03, 1.03),
               title=LABELS[alg])
        ax.legend(fontsize=7)
    ax = axes[-1]
    for j, alg in enumerate(algs):
        for ls, fv in zip(STYLES, fixed_values):
            rows = [r for r in thr if r["algorithm"] == alg and r["variable"] == variable
                    and r[fixed_name] == fv]
            fin = [r for r in rows if math.isfinite(r["N"]) and math.isfinite(r["threshold"])]
            ext = [r for r in rows if math.isinf(r["N"]) and math.isfinite(r["threshold"])
                   and str(r["method"]).startswith("extrapolated")]
            tsc = [r for r in rows if math.isinf(r["N"]) and math.isfinite(r["threshold"])
                   and str(r["method"]).startswith("time scaling")]
            if not fin:
                continue
            c = f"C{j}"
            ax.errorbar([r["inv_N"] for r in fin], [r["threshold"] for r in fin],
                        yerr=[r["se"] for r in fin], ls="none", marker="o", ms=4, color=c,
                        capsize=2, label=LABELS[alg] + (f" ({fixed_name}={fv:g})"
                                                        if len(fixed_values) > 1 else ""))
            if ext:
                e = ext[0]
                xs = np.linspace(0, max(r["inv_N"] for r in fin), 50)
                ax.plot(xs, e["threshold"] + e["slope"] * xs, ls=ls, color=c, lw=1)
                ax.errorbar([0.0], [e["threshold"]], yerr=[e["se"]], marker="s", mfc="none",
                            color=c, capsize=3)
            if tsc:
                ax.errorbar([0.0], [tsc[0]["threshold"]], yerr=[tsc[0]["se"]], marker="D", ms=5,
                            mfc="none", color=c, capsize=3, ls="none",
                            label=f"{LABELS[alg]}: time scaling")
    ax.set(xlabel=r"$1/N$", ylabel=YLABEL[variable], title="thresholds: 50 % points, N → ∞")
    inv = [r["inv_N"] for r in thr if math.isfinite(r["N"]) and math.isfinite(r["threshold"])]
    ax.set_xlim(left=-0.06 * max(inv, default=0.01))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    return finish(fig, path)


def _time_lines(points: list[dict], alg: str, variable: str) -> dict:
    """{coupling value: (N, median time)} for ``alg`` at the first value of the fixed coupling, for
    the couplings with a finite median time (success > 1/2) at two or more sizes."""
    fixed_name = _fixed_name(variable)
    sel = [r for r in points if r["algorithm"] == alg]
    if not sel:
        return {}
    fv = min(r[fixed_name] for r in sel)
    out: dict = {}
    for r in sorted(sel, key=lambda r: r["N"]):
        if r[fixed_name] == fv and math.isfinite(r["time_median_all"]):
            out.setdefault(r[variable], []).append((r["N"], r["time_median_all"]))
    return {k: v for k, v in sorted(out.items()) if len(v) >= 2}


def _draw_times(ax, lines: dict, variable: str, alg: str) -> None:
    cmap = __import__("matplotlib").colormaps["viridis"]
    vals = list(lines)
    for i, v in enumerate(vals):
        N, t = zip(*lines[v])
        ax.plot(N, t, marker="o", ms=3, lw=1, color=cmap(i / max(1, len(vals) - 1)),
                label=f"{'λ' if variable == 'lam' else 'J_D'}={v:g}")
    ax.set(xscale="log", yscale="log", xlabel=r"$N$", ylabel="median time to a fixed point",
           title=f"{LABELS[alg]}: time vs N")
    from matplotlib.ticker import NullFormatter
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.legend(fontsize=6, ncol=2)


def make(out_dir="results/figures", quick: bool = False) -> Path:
    out_dir = Path(out_dir)
    dirs = [out_dir / "accessibility"] + ([out_dir / "accessibility_quick"] if quick else [])
    sub, points, thr = load_or_run(dirs, QUICK if quick else DEFAULT)
    return draw(points, thr, sub / "accessibility.png", "J_D", "core model")
