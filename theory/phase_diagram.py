"""``python -m theory.phase_diagram``: the theory side of the (J_D, λ) phase diagram.

Computes, on a (J_D, λ) grid, a stack of *layers* and writes each as a tidy CSV with a JSON
sidecar under ``--out``, then draws them in one multi-panel PNG (``phase_diagram.png``):

- ``core``:  annealed entropy S_a(J_D) of the core model (SPEC §4.1) and its partially symmetric
  generalisation at η = 1 (§4.2);
- ``chain``: annealed entropy of the two-module chain, λ_L = λ_R = λ, per column and per neuron, on the
  full grid (§4.4);
- ``local``: the annealed local entropy S_loc^ann(d) around a typical fixed point for a few J_D (§4.5).

- ``transition``: the OGP → RM transition (SPEC §6.9): J_c of the core model and λ_c(J_D) of the
  two-module chain, each with its uncertainty, drawn over the annealed map of the chain. The slow
  layer (minutes); its curves are cached under ``<out>/transition_cache``.

Layers register themselves in :data:`LAYERS`; the command, the files and the figure pick them up
without further changes.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toolkit import drawing
from toolkit.cli import grid_type, make_parser, run
from toolkit.results import write_csv
from toolkit.sweep import add_executor_args

from . import annealed, local_entropy


@dataclass(frozen=True)
class Layer:
    """A named computation on the grid; ``compute(args) -> list of records`` (tidy rows)."""

    name: str
    help: str
    compute: Callable


def _core(args) -> list[dict]:
    jd = args.J_D
    S = annealed.entropy_core(jd, args.kappa)
    S_sym = annealed.entropy_symmetric(jd, 1.0, args.kappa)
    return [dict(J_D=float(j), kappa=args.kappa, S_a=float(s), S_sym_eta1=float(t))
            for j, s, t in zip(jd, S, S_sym)]


def _chain(args) -> list[dict]:
    JD, LAM = np.meshgrid(args.J_D, args.lam, indexing="ij")
    S = annealed.entropy_chain(JD, LAM, L=2, kappa=args.kappa)
    return [dict(J_D=float(j), lam=float(l), kappa=args.kappa, L=2, S_column=float(s),
                 S_neuron=float(s) / 2) for j, l, s in zip(JD.ravel(), LAM.ravel(), S.ravel())]


def _local(args) -> list[dict]:
    d = np.concatenate([np.logspace(-6, -2, 25), np.linspace(0.01, 0.5, 50)[1:]])
    rows = []
    for j in args.local_J_D:
        S = local_entropy.annealed(d, j, args.kappa)
        asym = (local_entropy.annealed_small_d(d, j, args.kappa) if j - args.kappa >= 0
                else np.full_like(d, np.nan))
        rows += [dict(J_D=float(j), kappa=args.kappa, d=float(x), S_loc_ann=float(s),
                      small_d_asymptote=float(a)) for x, s, a in zip(d, S, asym)]
    return rows


#: the λ_c line: ``--transition-line`` values of J_D evenly from 0 to this (below J_c ≈ 0.058 of
#: every preset); with the anchor (J_c, 0) the line has one point more
LINE_J_D_MAX = 0.048
LINE_POINTS = 7
#: the quick preset's J_c and λ_c at J_D = 0, 0.008, …, 0.048 (``python -m theory.phase_diagram
#: --layers transition``, secant roots; docs/theory_small_d.md). Used only to bracket the roots
NOMINAL_J_C = 0.0573
NOMINAL_LINE = (0.4069, 0.3823, 0.3547, 0.3231, 0.2859, 0.2400, 0.1785)
QUICK_NOMINAL = (NOMINAL_J_C, tuple(zip(np.linspace(0.0, LINE_J_D_MAX, LINE_POINTS).round(6).tolist(),
                                        NOMINAL_LINE)))
#: the centred criterion's J_c (core = chain at λ = 0) and λ_c(0), λ_c(0.05) on the calibration
#: grid (docs/theory_small_d.md, "Calibration"); used only to bracket the roots
CENTRED_NOMINAL = (0.0673, ((0.0, 0.446), (0.05, 0.256)))
#: d-grid of the centred preset: the calibration grid, where the last gaps close (d = 0.005–0.014)
CENTRED_D_GRID = np.array([0.05, 0.025, 0.018, 0.014, 0.011, 0.008, 0.005])

#: Accuracy presets of the transition layer: d-grid of the densest-cluster curves, root tolerances,
#: the nominal line (J_c, ((J_D, λ_c), …)) of :func:`line_guess` and the brackets of the roots
#: around it (offsets; a root outside its bracket is searched on the full one). "quick" (the
#: default: J_c and the λ_c line, about 80 CPU-seconds) stops at d = 0.03, so it cannot see the
#: small-d end of the branches (its roots sit 0.002–0.03 below the others; the grid part of the
#: error bars measures one step of that, docs/theory_small_d.md); its brackets are one tolerance
#: wide around its own measured line (two evaluations per root). "coarse" (about 10 minutes)
#: resolves the branch end to ±0.002 in d; "fine" is the grid of :data:`theory.transition.D_GRID`
#: (±0.0005), used for the core-model number in README. "centred" follows the branch through the
#: fold (:mod:`theory.fold`, :mod:`theory.chain_fold`: gaps count as OGP) on
#: :data:`CENTRED_D_GRID`: values, not lower bounds; minutes per root.
TRANSITION_PRESETS = {
    "coarse": dict(d_grid=np.r_[np.geomspace(0.2, 0.03, 6), np.arange(0.025, 0.0049, -0.004)],
                   xtol_J=2e-3, xtol_lam=1e-2, criterion="resolved", nominal=QUICK_NOMINAL,
                   bracket_J=(-0.03, 0.04), bracket_lam=(-0.02, 0.05)),
    "fine": dict(d_grid=None, xtol_J=5e-4, xtol_lam=5e-3, criterion="resolved",
                 nominal=QUICK_NOMINAL, bracket_J=(-0.03, 0.04), bracket_lam=(-0.02, 0.05)),
    "quick": dict(d_grid=np.array([0.2, 0.1, 0.05, 0.03]), xtol_J=5e-3, xtol_lam=3e-2,
                  criterion="resolved", nominal=QUICK_NOMINAL, bracket_J=(-2.5e-3, 2.5e-3),
                  bracket_lam=(-0.015, 0.015)),
    "centred": dict(d_grid=CENTRED_D_GRID, xtol_J=2e-3, xtol_lam=1e-2, criterion="centred",
                    nominal=CENTRED_NOMINAL, bracket_J=(-2e-3, 2e-3), bracket_lam=(-0.03, 0.03)),
}
#: the full brackets, searched when a root is not inside its bracket around the nominal line
FULL_BRACKET = {"J_D": (0.03, 0.1), "lam": (0.02, 0.6)}


def line_guess(J_D, nominal=QUICK_NOMINAL):
    """A guess of λ_c(J_D): λ_c² interpolated linearly in J_D through the points of ``nominal``
    = (J_c, ((J_D, λ_c), …)) and (J_c, 0) (the criterion is even in λ — flipping one layer maps
    λ → −λ — so near J_c λ_c² is linear in J_D), 0 beyond J_c, λ_c(0) below 0. Used only to
    bracket the roots."""
    jc, pts = nominal
    jd = np.r_[[p[0] for p in pts], jc]
    lam2 = np.r_[[p[1] ** 2 for p in pts], 0.0]
    return float(np.sqrt(np.interp(J_D, jd, lam2)))


def line_bracket(J_D, offsets=(-0.02, 0.05), nominal=QUICK_NOMINAL):
    """(guess + offsets[0], guess + offsets[1]) around :func:`line_guess`, inside (0.005, 0.65)."""
    g = line_guess(J_D, nominal)
    return (max(g + offsets[0], 0.005), min(g + offsets[1], 0.65))


def transition_root(seed, which, J_D, kappa, quality, cache, bracket=None) -> dict:
    """One root search of the transition layer (a :func:`toolkit.sweep.run_sweep` task; the
    search is deterministic, ``seed`` is unused). ``bracket`` is tried first; if the criterion
    has no sign change on it, the full bracket (:data:`FULL_BRACKET`) is searched (the
    evaluations are cached)."""
    from . import transition
    pre = TRANSITION_PRESETS[quality]
    kw = dict(d_grid=pre["d_grid"], cache_dir=cache, criterion=pre["criterion"])
    if which == "J_D":
        def search(b):
            return transition.critical_JD(0.0, 1, kappa, bracket=b, xtol=pre["xtol_J"], **kw)
    else:
        def search(b):
            return transition.critical_lambda(J_D, 2, kappa, bracket=b, xtol=pre["xtol_lam"], **kw)
    c = search(tuple(bracket)) if bracket is not None else None
    if c is None or not c.converged:
        c = search(FULL_BRACKET[which])
    L, jd, lam = (1, c.value, 0.0) if which == "J_D" else (2, J_D, c.value)
    return dict(L=L, J_D=jd, lam=lam, critical=which, value=c.value, uncertainty=c.uncertainty,
                tol_uncertainty=c.tol_uncertainty, grid_uncertainty=c.grid_uncertainty,
                approx_uncertainty=c.approx_uncertainty, grid_measured=int(c.grid_measured),
                failed_points=c.failed_points,
                grid_shift=c.grid_shift, evaluations=len(c.evaluations),
                converged=int(c.converged), message=c.message if not c.converged else "ok",
                kappa=kappa, quality=quality)


def _transition(args) -> list[dict]:
    """The OGP → RM line: J_c of the core model and λ_c(J_D) of the two-module chain (SPEC §6.9).

    The root searches are :func:`toolkit.sweep.run_sweep` tasks on the executor of ``--executor``,
    ``--workers``, ``--scheduler``: J_c, and λ_c at ``--transition-line`` values of J_D from 0 to
    :data:`LINE_J_D_MAX` and at the extra ``--transition-J-D`` (brackets from :func:`line_bracket`,
    κ = 0 only). The line closes at (J_c, 0): at λ = 0 the chain is two independent cores,
    so λ_c(J_c) = 0 (row ``critical`` = "anchor"). Column ``axis`` names the coordinate that
    ``value`` ± ``uncertainty`` measures: "J_D" for J_c and the anchor (the line meets λ = 0 at
    J_c, uncertain along J_D), "lam" for λ_c. Each finished root is stored under
    ``<out>/transition_cache/<quality>/roots`` and each criterion evaluation under
    ``<out>/transition_cache/<quality>``, so a rerun, or a run interrupted and restarted, reuses
    what is finished.
    """
    from toolkit.sweep import Task, executor_from_args, run_sweep
    cache = Path(args.out) / "transition_cache" / args.transition_quality
    common = dict(kappa=args.kappa, quality=args.transition_quality, cache=str(cache))

    def task(which, J_D, bracket=None):
        key = f"{which}_{'core' if which == 'J_D' else repr(J_D)}_k{args.kappa!r}"
        return Task(key, dict(which=which, J_D=J_D, bracket=bracket, **common))

    n = args.transition_line
    pre = TRANSITION_PRESETS[args.transition_quality]
    line = [round(float(j), 6) for j in np.linspace(0, LINE_J_D_MAX, n)] if n else []
    nominal = pre["nominal"]
    jc = tuple(nominal[0] + b for b in pre["bracket_J"]) if args.kappa == 0 else None
    tasks = [task("J_D", np.nan, jc)] if args.transition_core or n else []
    extra = [float(j) for j in args.transition_J_D if round(float(j), 6) not in line]
    tasks += [task("lam", j, line_bracket(j, pre["bracket_lam"], nominal) if args.kappa == 0
                   else None) for j in line + extra]
    with executor_from_args(args) as ex:
        res = run_sweep(transition_root, tasks, cache / "roots", executor=ex, quiet=args.quiet,
                        desc="transition roots")
    rows = [{k: v.item() for k, v in res[t.key].items()} for t in tasks]
    for r in rows:
        r["axis"] = r["critical"]
        for k in ("grid_measured", "failed_points"):  # roots cached before these columns: -1
            r.setdefault(k, -1)
    jc = next((r for r in rows if r["critical"] == "J_D"), None)
    if n and jc is not None and jc["converged"]:
        rows.append(dict(jc, L=2, J_D=jc["value"], lam=0.0, critical="anchor", axis="J_D",
                         message="λ = 0: the chain is two independent cores, λ_c(J_c) = 0"))
    return rows


#: The layers of the phase diagram, in drawing order. Later issues append to this dict.
LAYERS: dict[str, Layer] = {
    "core": Layer("core", "annealed entropy of the core model vs J_D", _core),
    "chain": Layer("chain", "annealed entropy of the two-module chain on the (J_D, λ) grid", _chain),
    "local": Layer("local", "annealed local entropy vs distance for --local-J-D", _local),
    "transition": Layer("transition", "OGP → RM line: J_c (core) and λ_c(J_D) of the chain "
                        "(minutes; cached)", _transition),
}


def build_parser():
    p = make_parser("python -m theory.phase_diagram", __doc__.split("\n\n")[0],
                    out="results/phase_diagram")
    p.add_argument("--J-D", dest="J_D", type=grid_type("--J-D"), default="-0.25:2:46",
                   help="self-coupling grid: 'a,b,c' or 'start:stop:num'")
    p.add_argument("--lam", type=grid_type("--lam", minimum=0.0), default="0:2:41",
                   help="inter-module coupling grid (λ ≥ 0)")
    p.add_argument("--kappa", type=float, default=0.0, help="stability margin κ (J̃ = J_D − κ)")
    p.add_argument("--local-J-D", dest="local_J_D", type=grid_type("--local-J-D"),
                   default="0,0.05,0.1,0.25,0.5,1", help="J_D values of the local-entropy curves")
    p.add_argument("--transition-J-D", dest="transition_J_D", type=grid_type("--transition-J-D",
                   allow_empty=True), default="",
                   help="extra J_D values at which λ_c of the two-module chain is found, besides "
                        "the line ('' for none)")
    p.add_argument("--transition-line", dest="transition_line", type=int, default=LINE_POINTS,
                   help=f"λ_c at this many J_D from 0 to {LINE_J_D_MAX}, plus the anchor (J_c, 0) "
                        "(0: no line)")
    p.add_argument("--no-transition-core", dest="transition_core", action="store_false",
                   help="skip the core-model J_c in the transition layer (only with "
                        "--transition-line 0: the line's anchor is J_c)")
    p.add_argument("--transition-quality", choices=sorted(TRANSITION_PRESETS), default="quick",
                   help="d-grid and tolerances of the transition layer")
    add_executor_args(p)
    p.add_argument("--layers", default=",".join(LAYERS),
                   help=f"comma-separated subset of: {', '.join(LAYERS)}")
    p.add_argument("--no-plot", action="store_true", help="write the CSVs only")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if not np.isfinite(args.kappa):
        raise ValueError(f"--kappa must be finite, got {args.kappa}")
    names = [n.strip() for n in args.layers.split(",") if n.strip()]
    unknown = [n for n in names if n not in LAYERS]
    if unknown or not names:
        raise ValueError(f"unknown layer(s) {unknown or names}; choose from {', '.join(LAYERS)}")
    out = Path(args.out)
    params = {k: v for k, v in vars(args).items()
              if k not in ("out", "quiet", "workers", "executor", "scheduler")}
    for name in names:
        t0 = time.perf_counter()
        rows = LAYERS[name].compute(args)
        path = write_csv(out / f"{name}.csv", rows, params=params,
                         seconds=time.perf_counter() - t0)
        if not args.quiet:
            print(f"{path}  ({len(rows)} rows, {time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    if not args.no_plot:
        png = drawing.draw("phase_diagram", out, names)
        if not args.quiet:
            print(png or "no figure drawer installed (pip install -e .): CSVs only", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(run(main, prog="python -m theory.phase_diagram"))
