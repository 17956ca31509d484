"""``python -m validation.report [--quick]``: every theory-vs-numerics comparison in one Markdown report.

Runs each component into ``<out>/<component>/`` (a component whose output files already exist is
not rerun: the report is resumable, and a finished component is simply reloaded), then writes
``<out>/report.md`` with one section per comparison, its numbers and its PNG, and a verdict table
(comparison | measured | tolerance | pass). The components are the existing commands, called with
their own ``main``; nothing is recomputed here:

- ``annealed``: ``python -m validation.annealed`` (counts.csv, pairs.csv, annealed.png);
- ``clusters``: ``python -m validation.clusters`` (local.csv, clusters.csv, clusters.png);
- ``transition``: ``python -m theory.phase_diagram --layers transition`` (transition.csv: J_c of the
  core model, λ_c(J_D) of the two-module chain);
- ``accessibility``: ``python -m numerics.accessibility``, dynamics (async, sync) and fBP as two runs
  with their own sizes and J_D grids (accessibility.csv, thresholds.csv with the N = ∞ rows);
- ``chain``: ``python -m numerics.accessibility --L 2`` on the shared (J_D, λ) grid, asynchronous and
  layer-sequential dynamics (λ_acc at each J_D, J_D_acc at each λ);
- ``training``: ``python -m numerics.learning.train --config lambda_advantage`` (entangled MNIST,
  two-module chain, input into both modules, SPEC 11.6) at every point of the same grid, with a
  smaller width, subset and epoch count (Fig. 3 of the paper: λ takes the role of J_D).

The grid figure (``grid.png``, :mod:`validation.grid`) puts the predicted λ_c(J_D) line, the chain's
accessibility thresholds and the training accuracies on one (J_D, λ) plane.

A component that fails is reported (its one-line error in the report and in the verdict table), not
raised; its verdicts read "not measured". ``--quick``: tiny sizes, a few minutes on 2 cores (the
transition root searches dominate, about 2 minutes; they are cached under the component directory).
Verdicts and tolerances are in :func:`verdicts`; each tolerance is stated, with its reason, in the
report.
"""

from __future__ import annotations

import contextlib
import io
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toolkit.cli import make_parser, run
from toolkit.results import atomic_write, read_csv
from toolkit.sweep import add_executor_args
from validation import grid
from validation.verdict import NOT_MEASURED, Verdict

#: |z| bound for single comparison points: P(|z| > 3.5) = 4.7e-4 for a unit normal, so a few tens of
#: points pass together with probability ~ 99 %.
Z_MAX = 3.5


# ------------------------------------------------------------------------------- settings

QUICK = dict(
    annealed=["--N", "8,10", "--J-D", "0,0.25,0.5", "--chain-N", "4,5", "--instances", "200"],
    clusters=["--N", "12,14", "--J-D", "0.25,0.5", "--instances", "10", "--no-fp"],
    transition=["--transition-quality", "quick", "--transition-J-D", "0", "--transition-line", "0"],
    dynamics=["--algorithms", "async,sync", "--N", "100,200", "--J-D", "0.1:0.9:9",
              "--instances", "4", "--replicas", "8", "--max-sweeps", "200", "--bootstrap", "50"],
    fbp=["--algorithms", "fbp", "--N", "100", "--J-D", "0:0.4:5", "--instances", "4",
         "--fbp-dr", "0.05", "--fbp-max-iter", "100", "--bootstrap", "50"],
    grid=dict(J_D=(0.0, 0.5), lam=(0.0, 0.5, 1.0, 2.0)),
    chain=["--algorithms", "async,layer", "--N", "40,80", "--instances", "4", "--replicas", "8",
           "--max-sweeps", "200", "--bootstrap", "50"],
    # the smallest measured setting that still shows the collapse and the rise (2500 steps)
    training=["--hidden", "100", "--P", "2000", "--P-eval", "200", "--epochs", "2",
              "--lambda-in", "2", "--lam", "0,1,2,3,5", "--J-D", "0,0.5,1",
              "--probe-every", "250", "--probe-items", "500"],
)
FULL = dict(
    annealed=[],
    clusters=[],
    transition=["--transition-quality", "coarse", "--transition-J-D", "0,0.05",
                "--transition-line", "0"],
    dynamics=["--algorithms", "async,sync", "--N", "100,200,400"],
    fbp=["--algorithms", "fbp", "--N", "100,200", "--J-D", "0:0.4:9"],
    grid=dict(J_D=(0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0),
              lam=(0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0)),
    chain=["--algorithms", "async,layer", "--N", "100,200,400"],
    # issue 14: full 60k/10k, H = 400, 4 epochs, 2 seeds, λ_in 2 and 5, the paper's grids, λ scans
    # also at J_D = 0.1, 0.2 (below J_learn) for λ_learn(J_D)
    training=["--hidden", "400", "--P", "all", "--P-eval", "all", "--epochs", "4", "--seeds", "2",
              "--lambda-in", "2,5", "--lam", "0:5:11", "--J-D", "0:1:11", "--lam-at-J-D", "0.1,0.2",
              "--eval-train", "10000", "--probe-every", "250", "--probe-items", "1000"],
)


# ------------------------------------------------------------------------------- components

@dataclass
class Component:
    """One piece of the report: ``run(dir, settings, args)`` writes ``outputs`` under ``dir``."""
    name: str
    title: str
    outputs: Callable[[dict], list[str]]
    run: Callable[[Path, dict, object], None]


@dataclass
class Outcome:
    name: str
    dir: Path
    status: str                 # "ran", "cached" or "failed"
    seconds: float = 0.0
    error: str = ""
    log: list = field(default_factory=list)


def _executor_argv(args, workers_only: bool = False) -> list[str]:
    argv = ["--workers", str(args.workers)]
    if workers_only:
        return argv
    argv += ["--executor", args.executor]
    if args.scheduler:
        argv += ["--scheduler", args.scheduler]
    return argv


def _call(main, argv: list[str]) -> None:
    """``main(argv)``; a nonzero status (argparse's SystemExit included) becomes an exception."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    if code not in (0, None):
        raise RuntimeError(f"exit status {code}")


def _run_annealed(d, s, args):
    from validation.annealed import main
    _call(main, ["--out", str(d), "--quiet", *_executor_argv(args), *s["annealed"]])


def _run_clusters(d, s, args):
    from validation.clusters import main
    _call(main, ["--out", str(d), "--quiet", *_executor_argv(args), *s["clusters"]])


def _run_transition(d, s, args):
    from theory.phase_diagram import main
    _call(main, ["--out", str(d), "--quiet", "--layers", "transition",
                 *_executor_argv(args, workers_only=True), *s["transition"]])


def _run_accessibility(d, s, args):
    from numerics.accessibility import main
    for part in ("dynamics", "fbp"):
        sub = d / part
        if not (sub / "thresholds.csv").exists():
            _call(main, ["--out", str(sub), "--quiet", *_executor_argv(args), *s[part]])
    from figures.accessibility import draw
    points = read_csv(d / "dynamics" / "accessibility.csv") + read_csv(d / "fbp" / "accessibility.csv")
    thr = read_csv(d / "dynamics" / "thresholds.csv") + read_csv(d / "fbp" / "thresholds.csv")
    draw(points, thr, d / "accessibility.png", "J_D", "core model: async, sync dynamics and fBP")


def _grid_points(s) -> list[tuple[float, float]]:
    return [(jd, lam) for jd in s["grid"]["J_D"] for lam in s["grid"]["lam"]]


def _grid_argv(s) -> list[str]:
    return ["--J-D", ",".join(f"{v:g}" for v in s["grid"]["J_D"]),
            "--lam", ",".join(f"{v:g}" for v in s["grid"]["lam"])]


def _run_chain(d, s, args):
    from numerics.accessibility import main
    _call(main, ["--out", str(d), "--quiet", "--L", "2", *_grid_argv(s), *_executor_argv(args),
                 *s["chain"]])
    from figures.accessibility import draw
    points, thr = read_csv(d / "accessibility.csv"), read_csv(d / "thresholds.csv")
    draw(points, thr, d / "accessibility.png", "lam", "two-module chain: success vs λ")


MISSING = "missing.txt"       # the training component's note when its dataset is not installed


def _run_training(d, s, args):
    from numerics.learning import datasets
    from numerics.learning.experiments import main
    st = datasets.status("entangled-mnist", verify=False)
    note = d / MISSING
    if not st["available"]:
        atomic_write(note, f"dataset missing (install it with `{st['install']}`)".encode())
        return
    if note.exists():
        note.unlink()
    _call(main, ["fig3", "--out", str(d), "--quiet", "--dataset", "entangled-mnist",
                 *_executor_argv(args), *s["training"]])
    grid.draw_training(d, grid.load_training(d))


COMPONENTS = [
    Component("annealed", "Annealed counts vs enumeration",
              lambda s: ["counts.csv", "pairs.csv", "annealed.png"], _run_annealed),
    Component("clusters", "Local entropy vs enumeration",
              lambda s: ["local.csv", "clusters.csv", "clusters.png"], _run_clusters),
    Component("transition", "Predicted J_c and λ_c (OGP → RM)",
              lambda s: ["transition.csv"], _run_transition),
    Component("accessibility", "Accessibility thresholds",
              lambda s: ["dynamics/thresholds.csv", "fbp/thresholds.csv", "accessibility.png"],
              _run_accessibility),
    Component("chain", "Accessibility on the two-module chain over the (J_D, λ) grid",
              lambda s: ["thresholds.csv", "accessibility.png"], _run_chain),
    Component("training", "Training accuracy of the L = 2 chain over the (J_D, λ) grid",
              lambda s: ["fig3.csv", "fig3_onsets.csv", "training.png"], _run_training),
]


def one_line(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {msg[0]}" if msg else type(exc).__name__


def run_components(out: Path, settings: dict, args, components: Sequence[Component] | None = None,
                   quiet: bool = True) -> list[Outcome]:
    """Run (or reload) every component; failures are caught and returned as ``failed`` outcomes."""
    import json
    outcomes = []
    ledger = out / "components.json"
    try:
        past = json.loads(ledger.read_text()) if ledger.exists() else {}
    except ValueError:
        past = {}
    for comp in components if components is not None else COMPONENTS:
        d = out / comp.name
        if all((d / f).exists() for f in comp.outputs(settings)):
            outcomes.append(Outcome(comp.name, d, "cached",
                                    float(past.get(comp.name, {}).get("seconds", 0.0))))
            continue
        d.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        buf_out, buf_err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(buf_out), contextlib.redirect_stderr(buf_err):
                comp.run(d, settings, args)
            oc = Outcome(comp.name, d, "ran", time.perf_counter() - t0)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - a failing component is reported, not raised
            err = buf_err.getvalue().strip().splitlines()
            msg = one_line(exc)
            if err and msg.startswith("RuntimeError: exit status"):
                msg = err[-1]
            oc = Outcome(comp.name, d, "failed", time.perf_counter() - t0, msg)
        log = buf_out.getvalue() + buf_err.getvalue()
        if log.strip():
            atomic_write(d / "log.txt", log.encode())
        if not quiet:
            print(f"{comp.name}: {oc.status} ({oc.seconds:.1f} s){' ' + oc.error if oc.error else ''}",
                  file=sys.stderr)
        outcomes.append(oc)
        past[comp.name] = dict(status=oc.status, seconds=oc.seconds, error=oc.error)
        atomic_write(ledger, json.dumps(past, indent=1).encode())
    return outcomes


# ------------------------------------------------------------------------------- loading

def _load(path: Path):
    return read_csv(path) if path.exists() else None


def load(out: Path) -> dict:
    """Everything the report reads, ``None`` where a file is missing."""
    tr = out / "training"
    return dict(
        counts=_load(out / "annealed" / "counts.csv"),
        pairs=_load(out / "annealed" / "pairs.csv"),
        local=_load(out / "clusters" / "local.csv"),
        clusters=_load(out / "clusters" / "clusters.csv"),
        transition=_load(out / "transition" / "transition.csv"),
        thr_dynamics=_load(out / "accessibility" / "dynamics" / "thresholds.csv"),
        thr_fbp=_load(out / "accessibility" / "fbp" / "thresholds.csv"),
        thr_chain=_load(out / "chain" / "thresholds.csv"),
        training=grid.load_training(tr),
        training_missing=(tr / MISSING).read_text() if (tr / MISSING).exists() else None,
    )


# ------------------------------------------------------------------------------- verdicts



def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def verdict_counts(counts) -> Verdict:
    name = "annealed counts: enumeration vs E𝒩"
    tol_text = f"worst |z| < {Z_MAX}; |mean z| < 3/√n"
    why = (f"z = (mean − E𝒩)/s.e. over independent instances is ≈ N(0, 1) when the theory is exact; "
           f"P(|z| > {Z_MAX}) = 5e-4 per point, and the mean of n independent z has s.d. 1/√n, so "
           "3/√n is a 3σ bound on a common bias.")
    if not counts:
        return Verdict(name, NOT_MEASURED, tol_text, NOT_MEASURED, why)
    z = np.array([r["z"] for r in counts], float)
    worst, mean, n = float(np.max(np.abs(z))), float(np.mean(z)), z.size
    ok = worst < Z_MAX and abs(mean) < 3 / math.sqrt(n)
    return Verdict(name, f"worst |z| = {worst:.2f}, mean z = {mean:+.2f} (n = {n})",
                   f"worst |z| < {Z_MAX}; |mean z| < {3 / math.sqrt(n):.2f}", "pass" if ok else "FAIL",
                   why)


def verdict_pairs(pairs) -> Verdict:
    name = "pair counts E𝒩₂(k): enumeration vs theory (reliable points)"
    why = ("same z-score bound as the counts, on the points whose expected pair count times the "
           "number of instances is large enough for a normal s.e. (`reliable` = 1, set by "
           "validation.annealed); the histograms at different k share instances, so the points are "
           "not independent and only the worst |z| is tested.")
    tol = f"worst |z| < {Z_MAX}"
    rel = [r for r in pairs or [] if int(r["reliable"])]
    if not rel:
        return Verdict(name, NOT_MEASURED, tol, NOT_MEASURED, why)
    z = np.abs([r["z"] for r in rel])
    return Verdict(name, f"worst |z| = {z.max():.2f} over {len(rel)} of {len(pairs)} points", tol,
                   "pass" if z.max() < Z_MAX else "FAIL", why)


def local_points(local) -> list[dict]:
    """Typical-reference points at the largest N where both the count and E𝒩₂(k)/E𝒩 are ≥ 1."""
    typ = [r for r in local or [] if r["reference"] == "typical"]
    if not typ:
        return []
    Nmax = max(r["N"] for r in typ)
    return [r for r in typ if r["N"] == Nmax and r["mean_count"] > 0
            and _finite(r["log_count_per_spin"]) and _finite(r["theory_annealed_finiteN"])
            and r["theory_annealed_finiteN"] >= 0]


def verdict_local(local) -> Verdict:
    name = "typical local entropy vs finite-N annealed (1/N) ln E𝒩₂(k)/E𝒩"
    tol_text = "|Δs| < (ln 2 + 2 s.e./count)/N per point"
    why = ("the typical reference weighs every instance equally, the finite-N annealed value weighs "
           "them by their number of fixed points, so typical sits below it by an O(1) factor in the "
           "count (O(1/N) per spin) wherever the neighbour count grows with M; a factor 2 (ln 2 / N) "
           "covers that bias, and 2 s.e. of the log of the mean count (s.e./count by the delta "
           "method) the noise of a few instances. Points: largest N, E𝒩₂(k)/E𝒩 ≥ 1 and a nonzero "
           "count; the worst ratio |Δs|/tolerance is shown.")
    pts = local_points(local)
    if not pts:
        return Verdict(name, NOT_MEASURED, tol_text, NOT_MEASURED, why)
    N = pts[0]["N"]
    diff = np.array([r["log_count_per_spin"] - r["theory_annealed_finiteN"] for r in pts])
    tol = np.array([(math.log(2) + 2 * _nan0(r["se_count"]) / r["mean_count"]) / N for r in pts])
    ratio = np.abs(diff) / tol
    i = int(np.argmax(ratio))
    w = pts[i]
    return Verdict(name, f"worst Δs = {diff[i]:+.4f} (tolerance {tol[i]:.4f}, ratio {ratio[i]:.2f}) "
                   f"at N = {N}, J_D = {w['J_D']:g}, d = {w['d']:.3f}; {len(pts)} points, "
                   f"mean Δs = {diff.mean():+.4f}",
                   tol_text, "pass" if ratio[i] < 1 else "FAIL", why)


def critical(transition, L: int, J_D: float | None = None):
    """(value, uncertainty) of J_c (L = 1) or λ_c(J_D) (L = 2) from transition.csv, or None."""
    for r in transition or []:
        if int(r["L"]) == L and (J_D is None or abs(r["J_D"] - J_D) < 1e-12) \
                and int(r["converged"]) and _finite(r["value"]):
            return float(r["value"]), float(r["uncertainty"])
    return None


def threshold(thr, algorithm: str):
    """(value, s.e., label) of the core model's J_acc (:func:`validation.grid.best_threshold` along
    J_D at λ = 0), or None."""
    return grid.best_threshold(thr, algorithm, "J_D", 0.0)


def verdict_ordering(transition, thr_dyn, thr_fbp) -> Verdict:
    name = "ordering J_c ≤ J_acc(fBP) ≤ J_acc(async) (SPEC hypothesis)"
    tol = "each inequality within the sum of the two error bars"
    why = ("SPEC hypothesis: no algorithm finds fixed points in the OGP phase (J_D < J_c), and fBP, "
           "which targets dense clusters, reaches them at smaller J_D than plain dynamics. J_acc is "
           "the time-scaling threshold when three sizes resolve it, else the 1/N extrapolation "
           "when two sizes gave a threshold, else the largest N (marked); an "
           "inequality a ≤ b counts as violated only when a − b exceeds se_a + se_b.")
    jc = critical(transition, 1)
    fb = threshold(thr_fbp, "fbp")
    asy = threshold(thr_dyn, "async")
    parts = []
    if jc:
        parts.append(f"J_c = {jc[0]:.4f} ± {jc[1]:.4f}")
    else:
        parts.append("J_c not measured")
    for lab, t in (("fBP", fb), ("async", asy)):
        parts.append(f"J_acc({lab}) = {t[0]:.3f} ± {t[1]:.3f} ({t[2]})" if t
                     else f"J_acc({lab}) not measured")
    chain = [x for x in (jc, fb, asy)]
    pairs = [(a, b) for a, b in zip(chain, chain[1:]) if a is not None and b is not None]
    if jc is not None and asy is not None and fb is None:
        pairs.append((jc, asy))
    if not pairs:
        return Verdict(name, "; ".join(parts), tol, NOT_MEASURED, why)
    bad = any(a[0] - b[0] > _nan0(a[1]) + _nan0(b[1]) for a, b in pairs)
    missing = any(x is None for x in chain)
    status = "inconsistent" if bad else "consistent"
    if missing:
        status += " (partly not measured)"
    return Verdict(name, "; ".join(parts), tol, status, why)


def _nan0(x) -> float:
    return x if _finite(x) else 0.0


def verdicts(data: dict) -> list[Verdict]:
    return [verdict_counts(data["counts"]), verdict_pairs(data["pairs"]),
            verdict_local(data["local"]),
            verdict_ordering(data["transition"], data["thr_dynamics"], data["thr_fbp"]),
            grid.verdict_training(data["training"], missing=data["training_missing"]),
            grid.verdict_chain_ordering(data["transition"], data["thr_chain"]),
            grid.verdict_training(data["training"], along="J_D", missing=data["training_missing"]),
            grid.verdict_collapse(data["training"], missing=data["training_missing"]),
            grid.verdict_onset(data["training"], data["transition"], data["thr_chain"],
                               data["thr_dynamics"], missing=data["training_missing"])]


# ------------------------------------------------------------------------------- report

def _table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _g(x, fmt=".4g") -> str:
    if isinstance(x, float) and math.isinf(x):
        return "∞"
    return format(x, fmt) if _finite(x) else "–"


def _image(out: Path, rel: str, alt: str) -> str:
    return f"![{alt}]({rel})" if (out / rel).exists() else f"(no figure: `{rel}` missing)"


def _status_line(outcomes: dict, name: str) -> str:
    oc = outcomes.get(name)
    if oc is None:
        return ""
    if oc.status == "failed":
        return f"**Component failed:** `{oc.error}`\n\n"
    return ""


def render(out: Path, data: dict, vs: list[Verdict], outcomes: dict, settings: dict,
           quick: bool, seconds: float | None = None) -> str:
    """The Markdown text of the report."""
    md = ["# Validation report", "",
          f"Mode: {'`--quick` (tiny sizes: a smoke test of the pipeline, not a measurement)' if quick else 'full'}."
          + (f" Compute time of the components: {seconds:.0f} s (cached ones: as measured when "
             "they ran)." if seconds is not None else ""),
          "A component whose files exist is reloaded whatever settings made it: use a fresh "
          "`--out` after changing the settings.",
          "Regenerate with `python -m validation.report" + (" --quick" if quick else "")
          + f" --out {out}` (components whose files exist are reloaded, not rerun).", ""]
    md += ["## Verdicts", "",
           _table(["comparison", "measured", "tolerance", "pass"],
                  [(v.comparison, v.measured, v.tolerance, f"**{v.passed}**") for v in vs]), "",
           "Why these tolerances:", ""]
    md += [f"- *{v.comparison}*: {v.why}" for v in vs]
    md += [""]
    if outcomes:
        md += ["## Components", "",
               _table(["component", "status", "seconds", "settings", "error"],
                      [(oc.name, oc.status, _seconds(oc),
                        "`" + " ".join(_settings_of(oc.name, settings)) + "`", oc.error or "")
                       for oc in outcomes.values()]), ""]

    # annealed
    md += ["## 1. Annealed counts vs enumeration", "", _status_line(outcomes, "annealed")]
    if data["counts"]:
        md += [_table(["model", "N", "J_D", "λ", "instances", "mean # FP", "s.e.", "E𝒩", "z"],
                      [(r["model"], r["N"], _g(r["J_D"]), _g(r["lam"]), r["instances"],
                        _g(r["mean"]), _g(r["se"]), _g(r["theory"]), f"{r['z']:+.2f}")
                       for r in data["counts"]]), ""]
    if data["pairs"]:
        rel = [r for r in data["pairs"] if int(r["reliable"])]
        if rel:
            w = max(rel, key=lambda r: abs(r["z"]))
            md += [f"Pair counts: {len(rel)} reliable points of {len(data['pairs'])}; worst at "
                   f"N = {w['N']}, J_D = {w['J_D']:g}, k = {w['k']}: {w['mean']:.4g} ± {w['se']:.2g} "
                   f"vs E𝒩₂ = {w['theory']:.4g} (z = {w['z']:+.2f}).", ""]
    md += [_image(out, "annealed/annealed.png", "annealed"), ""]

    # local entropy
    md += ["## 2. Local entropy vs enumeration", "", _status_line(outcomes, "clusters")]
    pts = local_points(data["local"])
    if pts:
        md += [f"Typical references at N = {pts[0]['N']}: s = (1/N) ln(mean count at distance d) "
               "against the finite-N annealed value (1/N) ln E𝒩₂(k)/E𝒩 and its N → ∞ limit "
               "S_loc^ann(d).", "",
               _table(["J_D", "d", "mean count", "s.e.", "s", "finite-N annealed", "Δs", "S_loc^ann"],
                      [(_g(r["J_D"]), f"{r['d']:.3f}", _g(r["mean_count"]), _g(r["se_count"]),
                        f"{r['log_count_per_spin']:.4f}", f"{r['theory_annealed_finiteN']:.4f}",
                        f"{r['log_count_per_spin'] - r['theory_annealed_finiteN']:+.4f}",
                        _g(r["theory_annealed"], ".4f")) for r in pts]), ""]
    if data["clusters"]:
        md += [_table(["N", "J_D", "instances", "mean # FP", "E𝒩", "isolated fraction",
                       "cluster size seen by a FP"],
                      [(r["N"], _g(r["J_D"]), r["instances"], _g(r["mean_fp"]),
                        _g(r["theory_mean_fp"]), _g(r["isolated_fraction"], ".3f"),
                        _g(r["mean_cluster_size"], ".3g")) for r in data["clusters"]]), ""]
    md += [_image(out, "clusters/clusters.png", "clusters"), ""]

    # transition
    md += ["## 3. Predicted J_c and λ_c (OGP → RM, SPEC §6.9)", "", _status_line(outcomes, "transition")]
    if data["transition"]:
        md += [_table(["L", "critical", "J_D", "λ", "value", "uncertainty", "converged", "quality"],
                      [(r["L"], r["critical"], _g(r["J_D"]), _g(r["lam"]), f"{r['value']:.4f}",
                        f"{r['uncertainty']:.4f}", r["converged"], r.get("quality", ""))
                       for r in data["transition"]]), ""]
    md += [_image(out, "transition/phase_diagram.png", "transition"), ""]

    # accessibility
    md += ["## 4. Accessibility thresholds (50 % points, 1/N extrapolation, time scaling)", "",
           _status_line(outcomes, "accessibility")]
    thr = (data["thr_dynamics"] or []) + (data["thr_fbp"] or [])
    if thr:
        md += ["J_acc(N) is the J_D where the success probability crosses 1/2; the N = ∞ row is the "
               "weighted least-squares fit J_acc(N) = J_acc(∞) + b/N (through two sizes it is exact, "
               "so χ² = 0 there). A 'time scaling' row is the budget-free estimate: the J_D above "
               "which the median convergence time grows no faster than a power of N (the "
               "curvature of ln t vs ln N changes sign; numerics.accessibility).", "",
               _table(["algorithm", "N", "J_acc", "s.e.", "method"],
                      [(r["algorithm"], _g(r["N"], "g"), _g(r["threshold"], ".3f"), _g(r["se"], ".3f"),
                        r["method"]) for r in thr]), ""]
    md += [_image(out, "accessibility/accessibility.png", "accessibility"), ""]

    # the shared (J_D, λ) grid: chain accessibility and training
    md += ["## 5. The two-module chain on one (J_D, λ) grid: theory, accessibility, training", "",
           _status_line(outcomes, "chain"), _status_line(outcomes, "training"),
           "One plane: the predicted OGP → RM line λ_c(J_D) (theory; the OGP side is shaded), the "
           "accessibility thresholds of asynchronous and layer-sequential dynamics on the chain "
           "(λ_acc at each J_D of the grid, J_D_acc at each λ), and the test accuracy of the "
           "learning rule trained on the chain at each grid point (entangled MNIST).", "",
           _image(out, "grid.png", "grid"), ""]
    line = grid.theory_line(data["transition"])
    if line:
        md += ["Theory line: " + "; ".join(f"(J_D, λ_c) = ({jd:.3f}, {lc:.3f} ± {u:.3f})"
                                           for jd, lc, u in line) + ".", ""]
    if data["thr_chain"]:
        md += [_table(["algorithm", "along", "at", "N", "threshold", "s.e.", "method"],
                      [(r["algorithm"], r["variable"],
                        (f"J_D = {r['J_D']:g}" if r["variable"] == "lam" else f"λ = {r['lam']:g}"),
                        _g(r["N"], "g"), _g(r["threshold"], ".3f"), _g(r["se"], ".3f"), r["method"])
                       for r in data["thr_chain"]]), ""]
    md += [_image(out, "chain/accessibility.png", "chain accessibility"), ""]
    if data["training_missing"]:
        md += [f"Training not measured: {data['training_missing']}.", ""]
    if data["training"]:
        pts = grid.training_points(data["training"]["rows"])
        md += ["Training: the learning rule on the L = 2 chain (entangled MNIST, the "
               "`lambda_advantage` settings of SPEC 11.6; `python -m numerics.learning.experiments "
               "fig3`), final test accuracy as mean ± s.e. over seeds (binomial s.e. for one seed).",
               "",
               _table(["λ_in", "J_D", "λ", "H", "epochs", "seeds", "test accuracy", "s.e.",
                       "train accuracy"],
                      [(_g(r["lambda_in"], "g"), _g(r["J_D"], "g"), _g(r["lam"], "g"), r["H"],
                        r["epochs"], r["seeds"], f"{r['test_acc']:.3f}", _g(r["se"], ".3f"),
                        f"{r['train_acc']:.3f}") for r in pts]), ""]
        if data["training"]["onsets"]:
            md += ["Learning onsets (`fig3_onsets.csv`; numerics.learning.onset): where the mean "
                   "test accuracy crosses halfway between chance and the best accuracy of the scan "
                   "(linear interpolation; the bracket is the pair of grid points around the "
                   "crossing).", "",
                   _table(["λ_in", "along", "at", "onset", "s.e.", "bracket", "level", "status"],
                          [(_g(o["lambda_in"], "g"), o["along"],
                            (f"J_D = {o['J_D']:g}" if o["along"] == "lam" else f"λ = {o['lam']:g}"),
                            _g(o["value"], ".3f"), _g(o["se"], ".3f"),
                            f"[{_g(o['lo'], 'g')}, {_g(o['hi'], 'g')}]", f"{o['level']:.3f}",
                            o["status"]) for o in data["training"]["onsets"]]), ""]
    md += [_image(out, "training/training.png", "training"), ""]
    md += ["## Not covered", "",
           "- J_c cannot be checked by enumeration at N ≤ 30 (the exponents near the transition are "
           "~1e-3 per spin); the ordering verdicts are the only link between J_c, λ_c and the "
           "numerics.", ""]
    return "\n".join(md)


def _seconds(oc: Outcome) -> str:
    if oc.status != "cached":
        return f"{oc.seconds:.1f}"
    return f"{oc.seconds:.1f} (earlier run)" if oc.seconds > 0 else "–"


def _settings_of(name: str, settings: dict) -> list[str]:
    if name == "accessibility":
        return settings["dynamics"] + ["+ fbp:"] + settings["fbp"]
    if name == "training":
        return ["fig3", *settings["training"]]
    if name == "chain":
        return ["--L", "2", *_grid_argv(settings), *settings["chain"]]
    return list(settings.get(name, []))


def build(out: Path, outcomes: Sequence[Outcome] = (), settings: dict | None = None,
          quick: bool = False, seconds: float | None = None) -> tuple[Path, list[Verdict]]:
    """Read the component outputs under ``out``, write ``out/report.md``; (path, verdicts)."""
    out = Path(out)
    settings = settings or (QUICK if quick else FULL)
    data = load(out)
    vs = verdicts(data)
    if data["transition"] or data["thr_chain"] or data["training"]:
        grid.draw_grid(out / "grid.png", data["transition"], data["thr_chain"],
                       data["training"], settings["grid"]["J_D"], settings["grid"]["lam"])
    text = render(out, data, vs, {o.name: o for o in outcomes}, settings, quick, seconds)
    path = atomic_write(out / "report.md", text.encode())
    return Path(path), vs


# ------------------------------------------------------------------------------- CLI

def build_parser():
    p = make_parser("python -m validation.report", __doc__.split("\n\n")[0], out=None)
    p.add_argument("--out", default=None,
                   help="output directory (default results/report, or results/report_quick with --quick)")
    p.add_argument("--quick", action="store_true", help="tiny sizes: a few minutes on 2 cores")
    p.add_argument("--components", default=",".join(c.name for c in COMPONENTS),
                   help="comma-separated subset to run (the report reads whatever is on disk)")
    add_executor_args(p)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    names = [n.strip() for n in args.components.split(",") if n.strip()]
    known = {c.name: c for c in COMPONENTS}
    bad = [n for n in names if n not in known]
    if bad or not names:
        raise ValueError(f"unknown component(s) {', '.join(bad) or repr(args.components)}; "
                         f"choose from {', '.join(known)}")
    if args.scheduler and args.executor != "dask":
        raise ValueError("--scheduler needs --executor dask")
    out = Path(args.out or ("results/report_quick" if args.quick else "results/report"))
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / ".write_test", b"")          # an unwritable directory fails here, before work
    (out / ".write_test").unlink()
    settings = QUICK if args.quick else FULL
    outcomes = run_components(out, settings, args, [known[n] for n in names], quiet=args.quiet)
    total = sum(o.seconds for o in outcomes)
    path, vs = build(out, outcomes, settings, args.quick, total)
    if not args.quiet:
        for v in vs:
            print(f"{v.passed:>14s}  {v.comparison}: {v.measured}")
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(run(main, prog="python -m validation.report"))
