"""The two-module chain on one shared (J_D, λ) grid: theory line, accessibility, training (issue 6).

Three results meet on the same grid of self-couplings J_D and one-to-one inter-module couplings λ
(SPEC 3.3, L = 2):

- the predicted OGP → RM line λ_c(J_D) from ``transition.csv`` (:mod:`theory.transition`: the points
  (J_c, 0) of the core model, where the chain decouples, and (J_D, λ_c(J_D)) of the chain);
- the accessibility thresholds of asynchronous and layer-sequential dynamics on the chain
  (:mod:`numerics.accessibility` with ``--L 2`` and both grids: λ_acc at each J_D and J_D_acc at each
  λ);
- the test accuracy of the learning rule on entangled MNIST with an L = 2 chain at every grid point
  (:mod:`numerics.learning.train`), the setting of the paper's Fig. 3 (sweep A: λ at J_D = 0; sweep
  B: J_D at λ = 0).

This module holds what :mod:`validation.report` needs for them: the runs, the loaders, the grid
figure and the verdicts. ``python -m validation.report --components chain,training`` runs them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from toolkit.results import read_csv

__all__ = ["point_dir", "training_rows", "draw_training", "draw_grid", "acc_se", "theory_line",
           "best_threshold",
           "verdict_training", "verdict_chain_ordering"]


def point_dir(J_D: float, lam: float) -> str:
    """Directory name of one grid point's training run."""
    return f"JD{J_D:g}_lam{lam:g}"


def acc_se(p: float, n) -> float:
    """Binomial s.e. of an accuracy p measured on n items (NaN when n is unknown)."""
    return math.sqrt(max(p * (1 - p), 1e-12) / n) if n else float("nan")


# ------------------------------------------------------------------------------- loading

def _n_test(sub: Path):
    """Number of test items of a training run, from the sidecar of its epochs.csv (None if absent)."""
    meta = sub / "epochs.meta.json"
    if not meta.exists():
        return None
    m = json.loads(meta.read_text())
    for key in ("n_test", "test_size"):
        v = m.get("dataset_meta", {}).get(key)
        if v:
            return int(v)
    p = m.get("params", {}).get("data", {})
    if isinstance(p, dict) and p.get("P_eval") and p.get("classes"):
        return int(p["P_eval"]) * int(p["classes"])
    return None


def training_rows(d: Path) -> list[dict]:
    """One row per training run found under ``d`` (any subdirectory with a ``summary.json``):
    J_D, λ, H, epochs, final test and train accuracy, best test accuracy, number of test items."""
    rows = []
    for f in sorted(Path(d).glob("*/summary.json")):
        s = json.loads(f.read_text())
        cfg = s.get("spec", {}).get("config", {})
        data = s.get("spec", {}).get("data", {})
        rows.append(dict(J_D=float(cfg.get("J_D", 0.0)), lam=float(cfg.get("lam", 0.0)),
                         H=cfg.get("H"), epochs=s.get("epochs"),
                         test_acc=float(s["final_test_acc"]), train_acc=float(s["final_train_acc"]),
                         max_test_acc=float(s["max_test_acc"]),
                         n_test=data.get("n_test") or _n_test(f.parent)))
    return sorted(rows, key=lambda r: (r["J_D"], r["lam"]))


def theory_line(transition) -> list[tuple[float, float, float]]:
    """(J_D, λ_c, uncertainty) points of the predicted OGP → RM line, sorted by J_D: the chain's
    λ_c(J_D) rows and, from the core model's J_c, the point (J_c, 0) (at λ = 0 the modules decouple).
    Unconverged or non-finite rows are skipped."""
    pts = []
    for r in transition or []:
        if not int(r["converged"]) or not _finite(r["value"]):
            continue
        if int(r["L"]) == 1:
            pts.append((float(r["value"]), 0.0, float(r["uncertainty"])))
        elif int(r["L"]) == 2 and r["critical"] == "lam":
            pts.append((float(r["J_D"]), float(r["value"]), float(r["uncertainty"])))
    return sorted(pts)


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def best_threshold(thr, algorithm: str, variable: str, fixed: float):
    """(value, s.e., label) of the threshold along one line (``variable`` varies, the other coupling
    is ``fixed``): the budget-free time-scaling threshold when finite, else the N = ∞ extrapolation
    in 1/N when finite, else the largest N; None when no size resolved it."""
    other = "J_D" if variable == "lam" else "lam"
    rows = [r for r in thr or [] if r["algorithm"] == algorithm and r["variable"] == variable
            and _finite(r[other]) and abs(r[other] - fixed) < 1e-12 and _finite(r["threshold"])]
    inf = sorted((r for r in rows if math.isinf(r["N"])),
                 key=lambda r: not str(r["method"]).startswith("time scaling"))
    if inf:
        how = "time scaling" if str(inf[0]["method"]).startswith("time scaling") else "1/N fit"
        return float(inf[0]["threshold"]), float(inf[0]["se"]), f"N = ∞, {how}"
    fin = sorted((r for r in rows if math.isfinite(r["N"])), key=lambda r: r["N"])
    if fin:
        return float(fin[-1]["threshold"]), float(fin[-1]["se"]), f"N = {int(fin[-1]['N'])}"
    return None


# ------------------------------------------------------------------------------- figures

def draw_training(d: Path, rows: list[dict]) -> Path:
    """Test and train accuracy along the two Fig. 3 lines: λ at J_D = 0 and J_D at λ = 0."""
    from figures import finish, subplots
    fig, axes = subplots(1, 2, figsize=(8.0, 3.3), squeeze=False)
    for ax, var, other in ((axes[0][0], "lam", "J_D"), (axes[0][1], "J_D", "lam")):
        sel = sorted((r for r in rows if r[other] == 0.0), key=lambda r: r[var])
        if sel:
            x = [r[var] for r in sel]
            ax.errorbar(x, [r["test_acc"] for r in sel],
                        [acc_se(r["test_acc"], r["n_test"]) for r in sel], fmt="o-", capsize=2,
                        label="test")
            ax.plot(x, [r["train_acc"] for r in sel], "s--", mfc="none", label="train")
        ax.axhline(0.1, color="0.6", lw=0.6, label="chance (10 classes)")
        lab = r"$\lambda$" if var == "lam" else r"$J_D$"
        ax.set(xlabel=lab, ylabel="accuracy",
               title=(r"L = 2 chain, $J_D$ = 0" if var == "lam" else r"L = 2 chain, $\lambda$ = 0"))
        ax.legend(fontsize=8)
    return finish(fig, d / "training.png")


def draw_grid(path, transition, thr_chain, rows: Sequence[dict], J_Ds: Sequence[float],
              lams: Sequence[float]) -> Path:
    """The (J_D, λ) plane: the predicted λ_c(J_D) line (OGP below it, shaded), the accessibility
    thresholds of the chain (λ_acc at each J_D, J_D_acc at each λ; best available estimate), and the
    test accuracy of the learning rule at each grid point (colour, value written in the square)."""
    from figures import finish, subplots
    import matplotlib
    fig, ax = subplots(figsize=(5.6, 4.4))
    if rows:
        norm = matplotlib.colors.Normalize(0.1, 1.0)
        cmap = matplotlib.colormaps["viridis"]
        xs, ys = [r["J_D"] for r in rows], [r["lam"] for r in rows]
        span_x = (max(xs) - min(xs)) or 1.0
        span_y = (max(ys) - min(ys)) or 1.0
        wx, wy = _cell_sizes(xs, 0.12 * span_x), _cell_sizes(ys, 0.12 * span_y)
        for r in rows:                  # one cell per grid point, no wider than its neighbours allow
            w, h = wx[r["J_D"]], wy[r["lam"]]
            ax.add_patch(matplotlib.patches.Rectangle((r["J_D"] - w / 2, r["lam"] - h / 2), w, h,
                                                      color=cmap(norm(r["test_acc"])), lw=0,
                                                      zorder=1))
            if w > 0.08 * span_x:       # room for the value
                ax.annotate(f"{r['test_acc']:.2f}", (r["J_D"], r["lam"]), ha="center",
                            va="center", fontsize=6, color="w" if r["test_acc"] < 0.6 else "k",
                            zorder=2)
        ax.autoscale_view()
        sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
        fig.colorbar(sm, ax=ax, label="test accuracy (training on the chain)")
    line = theory_line(transition)
    if line:
        x = [p[0] for p in line]
        y = [p[1] for p in line]
        ax.errorbar(x, y, yerr=[p[2] for p in line], color="C3", marker="D", ms=4, capsize=2,
                    label=r"theory: $\lambda_c(J_D)$ (OGP below)", zorder=3)
        ax.fill_between(x, 0, y, color="C3", alpha=0.15, lw=0)
    for j, (alg, mk) in enumerate((("async", "o"), ("layer", "^"))):
        pts = [(jd, t[0]) for jd in J_Ds for t in [best_threshold(thr_chain, alg, "lam", jd)] if t]
        pts += [(t[0], lam) for lam in lams
                for t in [best_threshold(thr_chain, alg, "J_D", lam)] if t]
        if not pts:
            continue
        xs, ys = zip(*pts)
        ax.plot(xs, ys, ls="none", marker=mk, mfc="none", color=f"C{j}", ms=7,
                label=f"accessibility, {'asynchronous' if alg == 'async' else 'layer-sequential'}",
                zorder=4)
    ax.set(xlabel=r"$J_D$", ylabel=r"$\lambda$", title="two-module chain: one (J_D, λ) grid")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
    return finish(fig, path)


def _cell_sizes(values, cap: float) -> dict[float, float]:
    """Width of the cell of each distinct grid value: 90 % of the gap to its nearest neighbour, at
    most ``cap``."""
    v = sorted(set(values))
    if len(v) == 1:
        return {v[0]: cap}
    gaps = np.diff(v)
    near = np.minimum(np.r_[gaps[0], gaps], np.r_[gaps, gaps[-1]])
    return {x: min(0.9 * float(g), cap) for x, g in zip(v, near)}


# ------------------------------------------------------------------------------- verdicts

def verdict_training(rows, along: str = "lam"):
    """Fig. 3 trend: along λ at J_D = 0 (``along="lam"``) or along J_D at λ = 0 (``"J_D"``), the
    test accuracy at the largest value exceeds that at the smallest by more than 2 s.e. and no step
    between neighbours drops by more than 2 s.e. (binomial s.e. of the difference)."""
    from validation.report import NOT_MEASURED, Verdict
    other = "J_D" if along == "lam" else "lam"
    sym = "λ" if along == "lam" else "J_D"
    osym = "J_D" if along == "lam" else "λ"
    name = (f"λ replaces J_D: test accuracy at J_D = 0 grows with λ (Fig. 3)" if along == "lam"
            else "test accuracy at λ = 0 grows with J_D (Fig. 3, sweep B)")
    why = (f"the accuracy at the largest {sym} must exceed that at the smallest {sym} by more than "
           "2 s.e. of the difference of two binomial proportions (n test items each), and no step "
           f"between neighbouring {sym} may drop by more than 2 s.e. (a small scan: one run per "
           f"point at {osym} = 0, so this tests the trend, not the size of the gain).")
    tol = f"Δacc({sym}_max − {sym}_min) > 2 s.e.; no step down > 2 s.e."
    rows = sorted((r for r in rows or [] if r.get(other, 0.0) == 0.0), key=lambda r: r[along])
    if len(rows) < 2:
        return Verdict(name, NOT_MEASURED if not rows else f"a single {sym}", tol, NOT_MEASURED,
                       why)

    def se2(a, b):
        s = math.hypot(acc_se(a["test_acc"], a["n_test"]), acc_se(b["test_acc"], b["n_test"]))
        return s if math.isfinite(s) else 0.0

    first, last = rows[0], rows[-1]
    gain = last["test_acc"] - first["test_acc"]
    s = se2(first, last)
    drops = [(a, b) for a, b in zip(rows, rows[1:]) if a["test_acc"] - b["test_acc"] > 2 * se2(a, b)]
    ok = gain > 2 * s and not drops
    accs = ", ".join(f"{r['test_acc']:.3f} ({sym}={r[along]:g})" for r in rows)
    return Verdict(name, f"test accuracy {accs}; gain {gain:+.3f} ± {s:.3f}", tol,
                   "pass" if ok else "FAIL", why)


def verdict_chain_ordering(transition, thr_chain):
    """λ_c(J_D) ≤ λ_acc(J_D) of asynchronous dynamics on the chain, at every J_D where both exist."""
    from validation.report import NOT_MEASURED, Verdict
    name = "chain: λ_c(J_D) ≤ λ_acc(async, J_D)"
    tol = "each inequality within the sum of the two error bars"
    why = ("the chain version of the SPEC hypothesis: dynamics cannot find fixed points in the OGP "
           "phase, so on the two-module chain the λ where asynchronous dynamics starts to succeed "
           "must not lie below the predicted λ_c at the same J_D; checked at the J_D where both the "
           "theory and the λ scan give a value (λ_acc: time scaling, else 1/N fit, else largest N).")
    parts, bad = [], False
    for jd, lc, lc_se in theory_line(transition):
        if lc == 0.0:
            continue                                   # the core model's J_c: not a λ scan
        t = best_threshold(thr_chain, "async", "lam", jd)
        if t is None:
            continue
        parts.append(f"J_D = {jd:g}: λ_c = {lc:.3f} ± {lc_se:.3f}, λ_acc = {t[0]:.3f} ± {t[1]:.3f} "
                     f"({t[2]})")
        bad |= lc - t[0] > lc_se + (t[1] if _finite(t[1]) else 0.0)
    if not parts:
        return Verdict(name, NOT_MEASURED, tol, NOT_MEASURED, why)
    return Verdict(name, "; ".join(parts), tol, "inconsistent" if bad else "consistent", why)


def load_chain_thresholds(d: Path):
    p = Path(d) / "thresholds.csv"
    return read_csv(p) if p.exists() else None
