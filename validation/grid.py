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

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from numerics.learning.onset import mean_accuracy
from toolkit.results import read_csv
from validation.verdict import NOT_MEASURED, Verdict

__all__ = ["point_dir", "training_rows", "draw_training", "draw_grid", "acc_se", "theory_line",
           "best_threshold",
           "verdict_training", "verdict_chain_ordering"]


def acc_se(p: float, n) -> float:
    """Binomial s.e. of an accuracy p measured on n items (NaN when n is unknown)."""
    return math.sqrt(max(p * (1 - p), 1e-12) / n) if n else float("nan")


# ------------------------------------------------------------------------------- loading

def load_training(d: Path) -> dict | None:
    """The ``fig3`` scan of the training component (:mod:`numerics.learning.experiments`): its rows
    (``fig3.csv``), onsets (``fig3_onsets.csv``) and within-training probes (``fig3_probes.csv``), or
    None when the scan is missing."""
    d = Path(d)
    if not (d / "fig3.csv").exists():
        return None
    opt = (lambda name: read_csv(d / name) if (d / name).exists() else [])
    return dict(rows=read_csv(d / "fig3.csv"), onsets=opt("fig3_onsets.csv"),
                probes=opt("fig3_probes.csv"))


def training_points(rows) -> list[dict]:
    """Mean final test accuracy over seeds at each (lambda_in, J_D, λ) of a fig3 scan (one row per
    point even where it belongs to two sweeps): keys lambda_in, J_D, lam, test_acc, se, train_acc,
    seeds, n_test, H, epochs."""
    groups: dict[tuple, dict] = {}
    for r in rows or []:
        key = (float(r["lambda_in"]), float(r["J_D"]), float(r["lam"]))
        g = groups.setdefault(key, dict(seeds={}, r=r))
        g["seeds"][r["seed"]] = r
    out = []
    for (lin, jd, lam), g in sorted(groups.items()):
        runs = list(g["seeds"].values())
        m, se = mean_accuracy([x["final_test_acc"] for x in runs], g["r"].get("n_test"))
        out.append(dict(lambda_in=lin, J_D=jd, lam=lam, test_acc=m, se=se,
                        train_acc=float(np.mean([x["final_train_acc"] for x in runs])),
                        seeds=len(runs), n_test=g["r"].get("n_test"), H=g["r"]["H"],
                        epochs=g["r"]["epochs"]))
    return out


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

def draw_training(d: Path, training: dict) -> Path:
    """The Fig. 3 lines of the training scan (test accuracy vs λ at every scanned J_D, vs J_D at
    λ = 0; mean ± s.e. over seeds, one colour per λ_in, the onsets as dotted verticals) and, when
    probes exist, the within-training test accuracy of the corner points (the collapse at
    J_D = λ = 0)."""
    from figures import finish, subplots
    pts = training_points(training["rows"])
    probes = training.get("probes") or []
    ncol = 3 if probes else 2
    fig, axes = subplots(1, ncol, figsize=(4.2 * ncol, 3.6), squeeze=False)
    lins = sorted({p["lambda_in"] for p in pts})
    for ax, var, other in ((axes[0][0], "lam", "J_D"), (axes[0][1], "J_D", "lam")):
        fixed = sorted({p[other] for p in pts}) if var == "lam" else [0.0]
        for i, lin in enumerate(lins):
            for j, f in enumerate(fixed):
                sel = sorted((p for p in pts if p["lambda_in"] == lin and p[other] == f),
                             key=lambda p: p[var])
                if len(sel) < 2:
                    continue
                lab = rf"$\lambda_{{in}}$ = {lin:g}" + (f", $J_D$ = {f:g}" if var == "lam" else "")
                ax.errorbar([p[var] for p in sel], [p["test_acc"] for p in sel],
                            [p["se"] for p in sel], marker="o", ls=["-", "--", ":", "-."][j % 4],
                            color=f"C{i}", ms=3, capsize=2, label=lab)
        for o in training.get("onsets") or []:
            if o["along"] == var and o["status"] == "crossed" and (var == "J_D" or o["J_D"] == 0):
                ax.axvline(o["value"], color=f"C{lins.index(o['lambda_in'])}", ls=":", lw=0.8)
        ax.axhline(0.1, color="0.6", lw=0.6)
        lab = r"$\lambda$" if var == "lam" else r"$J_D$"
        ax.set(xlabel=lab, ylabel="final test accuracy",
               title=(r"L = 2 chain vs $\lambda$" if var == "lam" else r"L = 2 chain vs $J_D$, $\lambda$ = 0"))
        ax.legend(fontsize=6)
    if probes:
        ax = axes[0][2]
        keys = sorted({(r["lambda_in"], r["J_D"], r["lam"]) for r in probes})
        corners = [k for k in keys if k[1] == 0.0 and k[2] == 0.0]
        corners += [max((k for k in keys if k[1] == 0.0 and k[0] == c[0]), key=lambda k: k[2])
                    for c in corners]
        corners += [max((k for k in keys if k[2] == 0.0 and k[0] == c[0]), key=lambda k: k[1])
                    for c in corners[:len(corners) // 2]]
        for n, k in enumerate(dict.fromkeys(corners)):
            sel = [r for r in probes if (r["lambda_in"], r["J_D"], r["lam"]) == k]
            steps = sorted({r["step"] for r in sel})
            acc = [np.mean([r["test_acc"] for r in sel if r["step"] == t]) for t in steps]
            ax.plot(steps, acc, marker=".", ms=3, color=f"C{lins.index(k[0])}",
                    ls=["-", "--", ":"][n % 3],
                    label=rf"$\lambda_{{in}}$ {k[0]:g}, $J_D$ {k[1]:g}, $\lambda$ {k[2]:g}")
        ax.axhline(0.1, color="0.6", lw=0.6)
        ax.set(xlabel="training steps (batches of 16)", ylabel="test accuracy (probe subset)",
               title="within training: the collapse")
        ax.legend(fontsize=6)
    return finish(fig, d / "training.png")


def draw_grid(path, transition, thr_chain, training: dict | None, J_Ds: Sequence[float],
              lams: Sequence[float]) -> Path:
    """The (J_D, λ) plane: the predicted λ_c(J_D) line (OGP below it, shaded), the accessibility
    thresholds of the chain (λ_acc at each J_D, J_D_acc at each λ; best available estimate), the
    learning onsets λ_learn(J_D) and J_learn(λ = 0) of the training scan (filled markers, one colour
    per λ_in; the bar is the grid bracket of the crossing), and the test accuracy at each trained
    point for the smallest λ_in (colour, value written in the square)."""
    from figures import finish, subplots
    import matplotlib
    fig, ax = subplots(figsize=(6.4, 5.2))
    pts = training_points(training["rows"]) if training else []
    lins = sorted({p["lambda_in"] for p in pts})
    rows = [p for p in pts if lins and p["lambda_in"] == lins[0]]
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
                                                      zorder=1, alpha=0.8))
            if w > 0.08 * span_x and h > 0.06 * span_y:       # room for the value
                ax.annotate(f"{r['test_acc']:.2f}", (r["J_D"], r["lam"]), ha="center",
                            va="center", fontsize=5, color="w" if r["test_acc"] < 0.6 else "k",
                            zorder=2)
        ax.autoscale_view()
        sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
        fig.colorbar(sm, ax=ax, label=f"test accuracy (λ_in = {lins[0]:g}, mean over seeds)")
    line = theory_line(transition)
    if line:
        x = [p[0] for p in line]
        y = [p[1] for p in line]
        ax.errorbar(x, y, yerr=[p[2] for p in line], color="C3", marker="D", ms=4, capsize=2,
                    label=r"theory: $\lambda_c(J_D)$ (OGP below)", zorder=3)
        ax.fill_between(x, 0, y, color="C3", alpha=0.15, lw=0)
    for j, (alg, mk) in enumerate((("async", "o"), ("layer", "^"))):
        tp = [(jd, t[0]) for jd in J_Ds for t in [best_threshold(thr_chain, alg, "lam", jd)] if t]
        tp += [(t[0], lam) for lam in lams
               for t in [best_threshold(thr_chain, alg, "J_D", lam)] if t]
        if not tp:
            continue
        xs, ys = zip(*tp)
        ax.plot(xs, ys, ls="none", marker=mk, mfc="none", color=f"C{j}", ms=7,
                label=f"accessibility, {'asynchronous' if alg == 'async' else 'layer-sequential'}",
                zorder=4)
    for i, lin in enumerate(lins):
        first = True
        for o in (training or {}).get("onsets") or []:
            if o["lambda_in"] != lin or o["status"] == "below grid":
                continue
            lo = o["lo"]
            hi = o["hi"] if math.isfinite(o["hi"]) else lo
            v = o["value"] if math.isfinite(o["value"]) else lo
            xy, err = (((o["J_D"], v), dict(yerr=[[v - lo], [hi - v]])) if o["along"] == "lam"
                       else ((v, o["lam"]), dict(xerr=[[v - lo], [hi - v]])))
            if o["status"] != "crossed":        # censored: the onset lies beyond the scanned line
                ax.plot(*xy, ls="none", marker="^" if o["along"] == "lam" else ">", ms=5,
                        color=f"C{i + 4}", alpha=0.6, zorder=5)
                continue
            ax.errorbar(*xy, **err, marker="*", ms=9, color=f"C{i + 4}", capsize=2, zorder=5,
                        label=(rf"learning onset, $\lambda_{{in}}$ = {lin:g} (▲ ▶: beyond the "
                               "scanned line)" if first else None))
            first = False
    ax.set(xlabel=r"$J_D$", ylabel=r"$\lambda$", title="two-module chain: one (J_D, λ) plane")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
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

def verdict_training(training: dict | None, along: str = "lam", missing: str | None = None):
    """Fig. 3 claim along λ at J_D = 0 (``along="lam"``) or along J_D at λ = 0 (``"J_D"``), for every
    input strength λ_in of the scan: the mean test accuracy at the largest value exceeds that at
    the smallest by more than 2 s.e. of the difference (seed s.e.; binomial for one seed), and the
    learning onset lies inside the scanned range (:mod:`numerics.learning.onset`). ``missing``: the
    reason the scan is absent (e.g. the dataset), shown as "not measured: ..."."""
    other = "J_D" if along == "lam" else "lam"
    sym = "λ" if along == "lam" else "J_D"
    osym = "J_D" if along == "lam" else "λ"
    name = (f"λ replaces J_D: test accuracy at J_D = 0 grows with λ (Fig. 3)" if along == "lam"
            else "test accuracy at λ = 0 grows with J_D (Fig. 3, sweep B)")
    why = (f"along {sym} at {osym} = 0 the mean accuracy at the largest {sym} must exceed that at "
           "the smallest by more than 2 s.e. of the difference (s.e. over seeds, binomial for a "
           f"single seed), and the accuracy must cross the onset level (halfway between chance and "
           f"the best accuracy of the scan) inside the scanned {sym} range, for every λ_in.")
    tol = f"Δacc({sym}_max − {sym}_min) > 2 s.e.; onset inside the scan"
    if not training:
        status = NOT_MEASURED + (f": {missing}" if missing else "")
        return Verdict(name, status, tol, status, why)
    pts = training_points(training["rows"])
    parts, ok_all, n = [], True, 0
    for lin in sorted({p["lambda_in"] for p in pts}):
        line = sorted((p for p in pts if p["lambda_in"] == lin and p[other] == 0.0),
                      key=lambda p: p[along])
        if len(line) < 2:
            continue
        n += 1
        first, last = line[0], line[-1]
        gain = last["test_acc"] - first["test_acc"]
        s = math.hypot(_nan0(first["se"]), _nan0(last["se"]))
        ons = [o for o in training.get("onsets") or [] if o["lambda_in"] == lin
               and o["along"] == along and o[other] == 0.0]
        crossed = bool(ons) and ons[0]["status"] == "crossed"
        ok_all &= gain > 2 * s and crossed
        accs = ", ".join(f"{p['test_acc']:.3f}" for p in line)
        on = (f"{sym}_learn = {ons[0]['value']:.2f} ± {ons[0]['se']:.2f} (grid bracket "
              f"[{ons[0]['lo']:g}, {ons[0]['hi']:g}])" if crossed
              else f"onset {ons[0]['status'] if ons else 'not computed'}")
        parts.append(f"λ_in = {lin:g}: {accs} at {sym} = {', '.join(f'{p[along]:g}' for p in line)}"
                     f" ({line[0]['seeds']} seed(s)); gain {gain:+.3f} ± {s:.3f}; {on}")
    if not n:
        return Verdict(name, NOT_MEASURED, tol, NOT_MEASURED, why)
    return Verdict(name, "; ".join(parts), tol, "pass" if ok_all else "FAIL", why)


def collapse_state(steps, acc, n_items: int, C: int) -> dict:
    """Classify a probe trace (test accuracy on ``n_items`` fixed test items at ``steps``) at
    J_D = λ = 0 (the double-dynamics collapse).

    - transient: the peak is above chance by more than z* s.e., z* = Φ^{-1}(1 − 0.025/K) for K
      probes (Bonferroni: the maximum of K noisy probes at chance exceeds 2 s.e. by luck);
    - end: the mean of the last quarter of the probes, s.e. binomial over its pooled items;
    - trend: least-squares slope of the last half of the trace, s.e. from its residuals.

    state: "at chance" (end within 2 s.e. of 1/C), "falling" (end above chance, slope < −2 s.e.),
    "holds" (neither: learning persists). Chance is reached "after a transient" or "throughout".
    """
    from scipy.stats import norm
    steps, acc = np.asarray(steps, float), np.asarray(acc, float)
    K = acc.size
    chance = 1.0 / C
    z_star = float(norm.isf(0.025 / K))
    k = int(np.argmax(acc))
    transient = acc[k] - chance > z_star * acc_se(chance, n_items)
    tail = acc[-max(1, K // 4):]
    end = float(tail.mean())
    se_end = acc_se(end, n_items * tail.size)
    half = slice(K // 2, K)
    x, y = steps[half], acc[half]
    if x.size >= 3:
        A = np.vstack([x - x.mean(), np.ones_like(x)]).T
        coef, res, *_ = np.linalg.lstsq(A, y, rcond=None)
        resid = y - A @ coef
        slope = float(coef[0])
        se_slope = float(np.sqrt(resid @ resid / (x.size - 2) / ((x - x.mean()) ** 2).sum()))
    else:
        slope, se_slope = float("nan"), float("nan")
    if abs(end - chance) < 2 * math.hypot(se_end, acc_se(chance, n_items * tail.size)):
        state = "at chance"
    elif end > chance and slope < -2 * se_slope:
        state = "falling"
    else:
        state = "holds"
    return dict(state=state, transient=bool(transient), peak=float(acc[k]), peak_step=steps[k],
                z_star=z_star, end=end, se_end=se_end, slope=slope, se_slope=se_slope,
                last_step=steps[-1])


def verdict_collapse(training: dict | None, missing: str | None = None):
    """The double-dynamics collapse at J_D = λ = 0 (the OGP side): for every λ_in with probes, the
    test accuracy ends at chance or is still falling towards it (:func:`collapse_state`); where the
    input is strong enough, the first steps learn and the free phase then undoes it."""
    name = "collapse at J_D = λ = 0: no lasting learning (double dynamics)"
    tol = ("end (mean of the last quarter of the probes) within 2 s.e. of 1/C: pass; above it but "
           "falling (slope of the last half < −2 s.e.): consistent; else FAIL. Transient: peak − 1/C "
           "> z* s.e. with z* Bonferroni-corrected for the number of probes")
    why = ("the paper's Fig. 3 sits at chance at J_D = λ = 0 after 30 epochs; the authors' records "
           "show a collapse (the first few hundred steps learn, the free phase then destroys it), "
           "not a failure to start. Probes: test accuracy on a fixed test subset every K steps, "
           "mean over seeds; s.e. binomial on that subset.")
    if not training or not training.get("probes"):
        status = NOT_MEASURED + (f": {missing}" if missing else "")
        return Verdict(name, status, tol, status, why)
    probes = training["probes"]
    C = int(training["rows"][0].get("classes") or 10)
    n_items = _probe_items(training)
    parts, states = [], []
    for lin in sorted({r["lambda_in"] for r in probes}):
        sel = [r for r in probes if r["lambda_in"] == lin and r["J_D"] == 0.0 and r["lam"] == 0.0]
        if not sel:
            continue
        steps = sorted({r["step"] for r in sel})
        acc = [float(np.mean([r["test_acc"] for r in sel if r["step"] == t])) for t in steps]
        c = collapse_state(steps, acc, n_items, C)
        states.append(c["state"])
        how = ("after a transient to " f"{c['peak']:.3f} at step {c['peak_step']:.0f}"
               if c["transient"] else "no transient (peak within noise of chance)")
        parts.append(f"λ_in = {lin:g}: {c['state']}, end {c['end']:.3f} ± {c['se_end']:.3f} "
                     f"at step {c['last_step']:.0f}, slope {c['slope'] * 1e3:+.4f} ± "
                     f"{c['se_slope'] * 1e3:.4f} per 1000 steps; {how}")
    if not states:
        return Verdict(name, NOT_MEASURED, tol, NOT_MEASURED, why)
    status = ("FAIL" if "holds" in states else "consistent" if "falling" in states else "pass")
    return Verdict(name, "; ".join(parts) + f" (chance {1 / C:.2f}, {n_items} probe items)", tol,
                   status, why)


def _probe_items(training) -> int | None:
    rows = training["rows"]
    return rows[0].get("probe_items") or rows[0].get("n_test")


def _nan0(x) -> float:
    return x if _finite(x) else 0.0


def _interval(center, se, lo=None, hi=None):
    """(lo, hi) of a value: its grid bracket widened by 2 s.e. when given, else center ± 2 s.e."""
    s = 2 * _nan0(se)
    if lo is not None:
        return lo - s, hi + s
    return center - s, center + s


def _follows(learn, theory, dyn) -> str:
    """Where an onset interval sits relative to the theory and dynamics intervals."""
    def overlap(a, b):
        return a[0] <= b[1] and b[0] <= a[1]
    if theory and overlap(learn, theory) and not (dyn and overlap(learn, dyn)):
        return "follows theory"
    if dyn and overlap(learn, dyn) and not (theory and overlap(learn, theory)):
        return "follows dynamics"
    if theory and dyn and overlap(learn, theory) and overlap(learn, dyn):
        return "undecided"
    if theory and learn[1] < theory[0]:
        return "below theory"
    if dyn and learn[0] > dyn[1]:
        return "above dynamics"
    if theory and dyn and theory[1] < learn[0] and learn[1] < dyn[0]:
        return "between"
    return "undecided"


def verdict_onset(training: dict | None, transition, thr_chain, thr_core=None,
                  missing: str | None = None):
    """Which threshold the learning onset follows, at every line where the theory and the dynamics
    both give one: λ_learn(J_D) against λ_c(J_D) and λ_acc(J_D) (asynchronous dynamics on the
    chain), and J_learn(λ = 0) against J_c and J_acc (the chain at λ = 0 is two cores: the chain's
    J_D scan at λ = 0 when present, else the core model's)."""
    name = "learning onset vs theory (λ_c, J_c) and dynamics (λ_acc, J_acc)"
    tol = "intervals: onset bracket ± 2 s.e.; thresholds ± 2 s.e."
    why = ("the onset is the grid bracket of the crossing of the level halfway between chance and "
           "the best accuracy of the scan, widened by 2 s.e.; a threshold is its value ± 2 s.e. "
           "Learning 'follows' the threshold whose interval it overlaps (and not the other's); "
           "'between' means above the theory's and below the dynamics'; 'below theory' would "
           "contradict the hypothesis that learning needs the representation manifold.")
    if not training:
        status = NOT_MEASURED + (f": {missing}" if missing else "")
        return Verdict(name, status, tol, status, why)
    ons = [o for o in training.get("onsets") or [] if o["status"] != "below grid"]
    line = {round(jd, 9): (lc, u) for jd, lc, u in theory_line(transition) if lc > 0}
    jc = [(jd, u) for jd, lc, u in theory_line(transition) if lc == 0.0]
    parts, verdicts = [], []
    for o in ons:
        lin = o["lambda_in"]
        learn = _interval(o["value"], o["se"], o["lo"], o["hi"])
        if o["along"] == "lam":
            jd = o["J_D"]
            th = line.get(round(jd, 9))
            dyn = best_threshold(thr_chain, "async", "lam", jd)
            sym, where = "λ", f"J_D = {jd:g}"
        else:
            if o["lam"] != 0.0:
                continue
            th = jc[0] if jc else None
            dyn = (best_threshold(thr_chain, "async", "J_D", 0.0)
                   or best_threshold(thr_core, "async", "J_D", 0.0))
            sym, where = "J_D", "λ = 0"
        if th is None and dyn is None:
            continue
        th_i = _interval(*th) if th else None
        dyn_i = _interval(dyn[0], dyn[1]) if dyn else None
        f = _follows(learn, th_i, dyn_i)
        verdicts.append(f)
        v = f"{o['value']:.2f}" if math.isfinite(o["value"]) else f"> {o['lo']:g}"
        parts.append(f"{where}, λ_in = {lin:g}: {sym}_learn = {v} ([{o['lo']:g}, {o['hi']:g}]); "
                     + (f"{sym}_c = {th[0]:.3f} ± {th[1]:.3f}; " if th else "")
                     + (f"{sym}_acc = {dyn[0]:.3f} ± {_nan0(dyn[1]):.3f} ({dyn[2]})" if dyn
                        else f"{sym}_acc not measured")
                     + f" → {f}")
    if not parts:
        return Verdict(name, NOT_MEASURED, tol, NOT_MEASURED, why)
    uniq = sorted(set(verdicts))
    status = uniq[0] if len(uniq) == 1 else "mixed: " + ", ".join(uniq)
    return Verdict(name, "; ".join(parts), tol, status, why)


def verdict_chain_ordering(transition, thr_chain):
    """λ_c(J_D) ≤ λ_acc(J_D) of asynchronous dynamics on the chain, at every J_D where both exist."""
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
