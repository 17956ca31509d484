"""Accessibility of fixed points to relaxation dynamics and to focusing BP, with finite-size analysis.

SPEC 8 ("Accessibility experiment"), 9, 14 (T5); issue 4. ``python -m numerics.accessibility --help``.

Protocol (the choices SPEC Q5 leaves open, as made here)
--------------------------------------------------------
- **Instances.** Core model (L = 1, :func:`numerics.models.sample_core`) or L-module chain with
  lam_left = lam_right = lam (:func:`numerics.models.sample_chain`; N is the module size, the network
  has L N spins). One instance = one coupling matrix plus R uniformly random initial states, both
  drawn from an *instance stream* ``task_seed(seed, "J_L{L}_N{N}_i{instance}")``: the same instance
  index gives the same couplings and initial states at every J_D, every lam and for every algorithm
  (common random numbers, so success curves and algorithms are compared on paired instances; the
  chain's diagonal blocks do not depend on lam). Everything else random (the asynchronous update
  order, fBP's initial messages) comes from the task's own stream, ``task_seed(seed, task key)``.
- **Algorithms** (``ALGORITHMS``). ``async``: random-sequential dynamics in its exact fast form
  (:func:`numerics.dynamics.relax_async`), R replicas from the R initial states, budget
  ``max_sweeps`` sweeps (N micro-steps each); time = sweeps to the last flip (geometric waits
  included). ``sync``: Little dynamics (:func:`numerics.dynamics.relax_sync`), same initial states and
  budget; time = parallel steps; a replica that closes a 2-cycle stops there and counts as a failure,
  and the 2-cycle fraction is reported. ``layer``: layer-sequential dynamics of a chain
  (:func:`numerics.dynamics.relax_layer_sequential`: modules in order, each synchronously; the same as
  ``sync`` for L = 1), with 2-cycle detection as for ``sync``. It is the synchronous rule to use for
  chains: plain ``sync`` updates the two ends of a one-to-one link together, and for lam of order 1 a
  misaligned pair flips back and forth forever (on L = 2 chains at J_D = 0 most ``sync`` runs end in
  2-cycles for lam >= 1.2). ``fbp``: one run of focusing BP per instance
  (:func:`numerics.fbp.solve`, AMP form), standard reinforcement (or pseudo-reinforcement) with step
  ``fbp_dr``, at most ``fbp_max_iter`` iterations per step, damping ``fbp_damping``, stop at the first
  fixed point; time = message iterations in total (each costs two O(N^2) passes, like two
  synchronous sweeps). The per-step cap defaults to 200 instead of C-FBP's 1000: on 9 instances at
  N = 400, J_D in {0.1, 0.15, 0.2} both caps gave the same outcome on every instance at 2-4x less cost
  (failures spend most of their time in steps that do not converge). On chains fBP runs on the
  (L N, L N) matrix as it is; its factors approximate each input sum by a Gaussian, which is poor
  for the single O(1) link lam against the O(1/sqrt N) couplings, so chain fBP results are those of
  that approximation.
- **Success** = the final configuration passes the strict fixed-point test s_i h_i > 0 for all i
  (SPEC 3.1), recomputed from scratch by the solvers.

Per point (algorithm, L, N, J_D, lam): success probability p = successes / runs (runs = instances x R
for the dynamics, instances for fBP) with two standard errors: ``se_binomial`` = sqrt(p(1-p)/runs),
which treats runs as independent, and ``se_instances`` = (standard deviation over instances of the
per-instance success fraction)/sqrt(instances), which does not assume the replicas of one instance are
independent (use the larger one). Times: ``time_median`` = median over successful runs,
``time_median_all`` = median over all runs with failures counted as infinite (inf when half or more
fail), ``cycle2_fraction`` (sync and layer only, NaN otherwise).

Thresholds, their 1/N extrapolation and the budget-free time-scaling threshold are computed by
:mod:`numerics.thresholds` (its docstring states the estimators).

Outputs under ``--out``: ``accessibility.csv``, ``thresholds.csv``, ``time_scaling.csv`` (each with a
``.meta.json`` sidecar: parameters, seed, versions, total task wall seconds) and
``tasks/<key>.npz``, one per (algorithm, L, N, J_D, lam, instance) task (per-run ``converged``,
``time``, ``cycle2``), from which an interrupted run resumes. Each algorithm may have its own J_D
grid (``--J-D-alg fbp=0:0.5:11``): fBP's threshold lies far below the dynamics', and a failing
point is the most expensive one (the whole budget is spent).
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from numerics import dynamics, fbp
from numerics.models import sample_chain, sample_core
from numerics.thresholds import (
    CURVATURE_Z,
    TIME_THRESHOLD_METHOD,
    Extrapolation,
    LogisticFit,
    Threshold,
    curvature_zero,
    extrapolate_inverse_N,
    fit_logistic,
    logistic,
    midpoint_threshold,
    threshold,
    time_scaling,
    time_scaling_thresholds,
)
from toolkit import drawing
from toolkit.checks import finite_scalar, integer
from toolkit.cli import grid_type, make_parser, nonneg_int, parse_grid, positive_int, run as run_cli
from toolkit.results import write_csv
from toolkit.rng import check_seed, make_rng
from toolkit.sweep import Task, add_executor_args, executor_from_args, run_sweep, task_path, task_seed

__all__ = [
    "ALGORITHMS", "DEFAULT_ALGORITHMS", "TIME_UNIT", "accessibility_task", "task_key", "instance",
    "aggregate", "LogisticFit", "Threshold", "Extrapolation", "logistic", "fit_logistic",
    "midpoint_threshold", "threshold", "extrapolate_inverse_N", "thresholds", "time_scaling",
    "curvature_zero", "time_scaling_thresholds", "TIME_THRESHOLD_METHOD", "CURVATURE_Z", "PRESETS",
    "parse_args", "run", "main",
]

ALGORITHMS = ("async", "sync", "layer", "fbp")
DEFAULT_ALGORITHMS = ("async", "sync", "fbp")
TIME_UNIT = {"async": "sweeps", "sync": "sweeps", "layer": "sweeps", "fbp": "iterations"}
DETERMINISTIC = ("sync", "layer")                  # rules with 2-cycle detection
FBP_PROTOCOLS = ("standard", "pseudo")
DEFAULT_OUT = "results/accessibility"
DEFAULT_NS = (100, 200)
DEFAULT_JDS = (0.15, 0.35, 0.55, 0.75, 0.95)

#: The measured experiments of issue 4, one command each (``--preset NAME``; explicit options
#: override). CPU times are for one core of the development machine.
PRESETS: dict[str, dict] = {
    "core-dynamics": dict(algorithms="async,sync", N="250,500,1000,2000,4000", J_D="0.65:1.0:8",
                          instances=6, replicas=16, max_sweeps=3000,
                          out="results/accessibility/core-dynamics"),
    "core-fbp": dict(algorithms="fbp", N="100,200,400,800,1600", J_D="0.05:0.4:8", instances=4,
                     out="results/accessibility/core-fbp"),
    "chain-dynamics": dict(algorithms="async,layer", L=2, N="250,500,1000,2000", J_D="0",
                           lam="0.9:2.1:7", instances=6, replicas=16, max_sweeps=2000,
                           out="results/accessibility/chain-dynamics"),
}
PRESET_NOTES = {
    "core-dynamics": "core model, async and sync, N = 250..4000, J_D = 0.65..1.0, budget 3000 "
                     "sweeps (the time-scaling threshold; about 1 CPU-hour)",
    "core-fbp": "core model, focusing BP (AMP), N = 100..1600, J_D = 0.05..0.4 (about 30 CPU-min)",
    "chain-dynamics": "two-module chain at J_D = 0, async and layer-sequential, N = 250..2000 per "
                      "module, lam = 0.9..2.1, budget 2000 sweeps (about 1 CPU-hour)",
}

POINT_COLUMNS = ["algorithm", "L", "N", "J_D", "lam", "instances", "runs", "successes", "p_success",
                 "se_binomial", "se_instances", "time_unit", "time_median", "time_median_all",
                 "time_log_se", "cycle2_fraction"]
TIME_COLUMNS = ["algorithm", "L", "J_D", "lam", "time_unit", "z", "z_first", "z_last", "curvature",
                "curvature_se", "N_min", "time_N_min", "N_max", "time_N_max", "sizes", "censored_N",
                "censored_excess", "censored_excess_se", "bends_up"]
THRESHOLD_COLUMNS = ["algorithm", "L", "variable", "J_D", "lam", "N", "inv_N", "threshold", "se",
                     "method", "width", "slope", "slope_se", "chi2", "dof", "sizes", "instances"]


# ======================================================================================= tasks

def task_key(algorithm: str, N: int, L: int, J_D: float, lam: float, inst: int) -> str:
    """File name of one task: ``{algorithm}_L{L}_N{N}_JD{J_D:+.10g}_lam{lam:.10g}_i{inst}``."""
    return f"{algorithm}_L{L}_N{N}_JD{J_D:+.10g}_lam{lam:.10g}_i{inst}"


def _instance_key(N: int, L: int, inst: int) -> str:
    return f"J_L{L}_N{N}_i{inst}"


def instance(root_seed: int, N: int, L: int, lam: float, inst: int, replicas: int):
    """Couplings and initial states of instance ``inst`` (module doc: the instance stream).

    Returns (J, S0): J of shape (L N, L N) (:func:`sample_core` for L = 1, :func:`sample_chain` with
    lam_left = lam_right = lam otherwise) and S0, ``replicas`` uniform +-1 rows of length L N, both
    from ``task_seed(root_seed, "J_L{L}_N{N}_i{inst}")`` (J first, then S0), independent of J_D and of
    the algorithm; the chain's diagonal blocks do not depend on lam either.
    """
    rng = make_rng(task_seed(root_seed, _instance_key(N, L, inst)))
    J = sample_core(N, rng) if L == 1 else sample_chain(N, L, rng, lam_left=lam)
    S0 = 2 * rng.integers(0, 2, size=(replicas, L * N), dtype=np.int8) - 1
    return J, S0


def _fbp_protocol(name: str, dr: float):
    if name == "standard":
        return fbp.StandardReinforcement(dr)
    if name == "pseudo":
        return fbp.PseudoReinforcement(dr)
    raise ValueError(f"unknown fBP protocol {name!r}; expected one of {', '.join(FBP_PROTOCOLS)}")


def accessibility_task(seed, *, algorithm: str, N: int, L: int, J_D: float, lam: float, inst: int,
                       root_seed: int, replicas: int = 16, max_sweeps: int = 300,
                       fbp_protocol: str = "standard", fbp_dr: float = 0.01, fbp_max_iter: int = 200,
                       fbp_damping: float = 0.5, fbp_eps: float = 1e-3) -> dict:
    """One (algorithm, N, L, J_D, lam, instance) task: run the algorithm, report per-run outcomes.

    ``seed`` (the task's SeedSequence from :func:`toolkit.sweep.run_sweep`) drives the algorithm's own
    randomness; couplings and initial states come from :func:`instance` (``root_seed``, ``inst``).
    Dynamics (``async``, ``sync``, ``layer``): ``replicas`` runs from the instance's initial states,
    budget ``max_sweeps``; ``fbp``: one run (the ``replicas`` and ``max_sweeps`` arguments are ignored).

    Returns ``converged`` (bool per run: a true fixed point was reached), ``time`` (per run: sweeps
    for the dynamics, message iterations for fBP; the budget spent for failures), ``cycle2`` (per run:
    2-cycle of a deterministic rule), and ``seconds`` (wall time of the task; not used in any table).
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; expected one of {', '.join(ALGORITHMS)}")
    t0 = time.perf_counter()
    rng = make_rng(seed)
    R = replicas if algorithm != "fbp" else 1
    J, S0 = instance(root_seed, N, L, lam, inst, R)
    out = {}
    if algorithm == "fbp":
        res = fbp.solve(J, J_D, rng=rng, protocol=_fbp_protocol(fbp_protocol, fbp_dr), method="amp",
                        max_iter=fbp_max_iter, damping=fbp_damping, eps=fbp_eps)
        out.update(converged=np.array([res.is_fixed_point]), time=np.array([float(res.iterations)]),
                   cycle2=np.zeros(1, dtype=bool), status=np.array([res.status]),
                   n_unstable=np.array([res.n_unstable]))
    else:
        if algorithm == "async":
            res = dynamics.relax_async(J, J_D, rng=rng, max_sweeps=max_sweeps, s0=S0)
        elif algorithm == "sync":
            res = dynamics.relax_sync(J, J_D, rng=rng, max_sweeps=max_sweeps, s0=S0)
        else:
            res = dynamics.relax_layer_sequential(J, J_D, L=L, rng=rng, max_sweeps=max_sweeps, s0=S0)
        out.update(converged=np.asarray(res.converged, bool), time=np.asarray(res.sweeps, float),
                   cycle2=np.asarray(res.cycle2, bool))
    out["seconds"] = time.perf_counter() - t0
    return out


def _tasks(algorithms, Ns, grids, lams, L, instances, root_seed, dyn_params, fbp_params) -> list[Task]:
    """All tasks (``grids``: the J_D grid of each algorithm), the heaviest first (large N, small
    couplings), for load balance."""
    tasks = []
    all_J_D = sorted({v for g in grids.values() for v in g})
    for N in sorted(Ns, reverse=True):
        for J_D in all_J_D:
            for lam in sorted(lams):
                for alg in algorithms:
                    if J_D not in grids[alg]:
                        continue
                    extra = fbp_params if alg == "fbp" else dyn_params
                    for i in range(instances):
                        tasks.append(Task(task_key(alg, N, L, J_D, lam, i),
                                          dict(algorithm=alg, N=N, L=L, J_D=J_D, lam=lam, inst=i,
                                               root_seed=root_seed, **extra)))
    return tasks


def _check_existing(tasks: Sequence[Task], out: Path) -> None:
    """Refuse to resume from task files written with other parameters (seed, budget, fBP settings)."""
    for t in tasks:
        p = task_path(out, t.key)
        if not p.exists():
            continue
        with np.load(p, allow_pickle=False) as z:
            stored = json.loads(str(z["_params"])) if "_params" in z.files else None
        want = json.loads(json.dumps(dict(t.params), sort_keys=True, default=str))
        if stored != want:
            diff = sorted(k for k in set(want) | set(stored or {})
                          if (stored or {}).get(k) != want.get(k))
            raise ValueError(f"{out} holds task {t.key} computed with other parameters "
                             f"({', '.join(diff)}); use another --out or delete {out / 'tasks'}")


# ================================================================================= aggregation

def _median_all(t_run: np.ndarray, ok: np.ndarray) -> float:
    """Median of ``t_run`` with failures counted as +inf (inf when half or more of the runs fail)."""
    t = np.where(ok, t_run, np.inf)
    return float(np.median(t)) if t.size else math.nan


def _log_median_se(conv: list, tim: list, bootstrap: int, rng) -> float:
    """Bootstrap s.e. of ln(median time, failures as inf) over the instances (resampled with
    replacement); NaN when the median itself is infinite, when there are fewer than two instances,
    or when more than 10 % of the resamples give an infinite median (the s.e. is then meaningless)."""
    if len(conv) < 2 or bootstrap < 2:
        return math.nan
    t = [np.where(c, x, np.inf) for c, x in zip(conv, tim)]
    if not math.isfinite(float(np.median(np.concatenate(t)))):
        return math.nan
    vals = np.array([np.median(np.concatenate([t[i] for i in rng.integers(0, len(t), len(t))]))
                     for _ in range(bootstrap)])
    fin = np.isfinite(vals) & (vals > 0)
    if fin.mean() < 0.9:
        return math.nan
    return float(np.std(np.log(vals[fin]), ddof=1))


def aggregate(results: Mapping[str, Mapping], tasks: Sequence[Task], *, seed: int = 0,
              bootstrap: int = 200) -> list[dict]:
    """One row per (algorithm, L, N, J_D, lam): success probability, s.e., times (module doc).

    ``time_log_se`` is the s.e. of ln(time_median_all) from ``bootstrap`` resamples of the instances
    (stream ``task_seed(seed, "bootstrap_time_" + point name)``), used as weights by
    :func:`time_scaling`."""
    groups: dict[tuple, list] = {}
    for t in tasks:
        p = t.params
        groups.setdefault((p["algorithm"], p["L"], p["N"], p["J_D"], p["lam"]), []).append(
            (p["inst"], results[t.key]))
    rows = []
    for (alg, L, N, J_D, lam), items in sorted(groups.items()):
        items.sort(key=lambda x: x[0])
        conv = [np.asarray(r["converged"], bool) for _, r in items]
        tim = [np.asarray(r["time"], float) for _, r in items]
        ok, tt = np.concatenate(conv), np.concatenate(tim)
        runs, k = ok.size, int(ok.sum())
        p = k / runs
        frac = np.array([c.mean() for c in conv])
        se_inst = float(frac.std(ddof=1) / math.sqrt(frac.size)) if frac.size > 1 else math.nan
        c2 = float(np.concatenate([np.asarray(r["cycle2"], bool) for _, r in items]).mean()) \
            if alg in DETERMINISTIC else math.nan
        name = f"bootstrap_time_{alg}_L{L}_N{N}_JD{J_D:.10g}_lam{lam:.10g}"
        log_se = _log_median_se(conv, tim, bootstrap, make_rng(task_seed(seed, name)))
        rows.append(dict(algorithm=alg, L=L, N=N, J_D=J_D, lam=lam, instances=len(items), runs=runs,
                         successes=k, p_success=p, se_binomial=math.sqrt(p * (1 - p) / runs),
                         se_instances=se_inst, time_unit=TIME_UNIT[alg],
                         time_median=float(np.median(tt[ok])) if k else math.nan,
                         time_median_all=_median_all(tt, ok), time_log_se=log_se,
                         cycle2_fraction=c2))
    return rows


# ============================================================================ threshold fitting

def _curves(results, tasks):
    """{(alg, L, variable, fixed J_D or lam, N): (x, successes, runs, instances)}; successes and runs
    have shape (instances present at every x, len(x))."""
    cell: dict[tuple, dict] = {}
    for t in tasks:
        p = t.params
        ok = np.asarray(results[t.key]["converged"], bool)
        cell.setdefault((p["algorithm"], p["L"], p["N"], p["J_D"], p["lam"]), {})[p["inst"]] = \
            (int(ok.sum()), ok.size)
    J_Ds = sorted({k[3] for k in cell})
    lams = sorted({k[4] for k in cell})
    out = {}
    for alg, L, N in sorted({k[:3] for k in cell}):
        lines = []
        if len(J_Ds) > 1:
            lines += [("J_D", lam, [(jd, (alg, L, N, jd, lam)) for jd in J_Ds]) for lam in lams]
        if len(lams) > 1:
            lines += [("lam", jd, [(lam, (alg, L, N, jd, lam)) for lam in lams]) for jd in J_Ds]
        for var, fixed, pts in lines:
            pts = [(xv, c) for xv, c in pts if c in cell]
            insts = sorted(set.intersection(*(set(cell[c]) for _, c in pts))) if pts else []
            if len(pts) < 2 or not insts:
                continue
            x = np.array([xv for xv, _ in pts])
            K = np.array([[cell[c][i][0] for _, c in pts] for i in insts], float)
            T = np.array([[cell[c][i][1] for _, c in pts] for i in insts], float)
            out[(alg, L, var, fixed, N)] = (x, K, T, len(insts))
    return out


def thresholds(results: Mapping[str, Mapping], tasks: Sequence[Task], *, seed: int = 0,
               bootstrap: int = 200) -> list[dict]:
    """Rows of ``thresholds.csv``: one per (algorithm, L, variable, fixed coupling, N), plus one
    extrapolated row (N = inf) per (algorithm, L, variable, fixed coupling). The bootstrap stream of
    each curve is ``task_seed(seed, "bootstrap_" + its name)``, so it does not depend on the others."""
    rows = []
    by_line: dict[tuple, list] = {}
    for (alg, L, var, fixed, N), (x, K, T, m) in _curves(results, tasks).items():
        name = f"bootstrap_{alg}_L{L}_{var}_{fixed:.10g}_N{N}"
        th = threshold(x, K, T, bootstrap=bootstrap, rng=task_seed(seed, name))
        row = dict(algorithm=alg, L=L, variable=var,
                   J_D=fixed if var == "lam" else math.nan, lam=fixed if var == "J_D" else math.nan,
                   N=N, inv_N=1.0 / N, threshold=th.value, se=th.se, method=th.method,
                   width=th.width, slope=math.nan, slope_se=math.nan, chi2=math.nan, dof="",
                   sizes="", instances=m)
        rows.append(row)
        by_line.setdefault((alg, L, var, fixed), []).append(row)
    for (alg, L, var, fixed), rs in by_line.items():
        ex = extrapolate_inverse_N([r["N"] for r in rs], [r["threshold"] for r in rs],
                                   [r["se"] for r in rs])
        rows.append(dict(algorithm=alg, L=L, variable=var,
                         J_D=fixed if var == "lam" else math.nan,
                         lam=fixed if var == "J_D" else math.nan, N=math.inf, inv_N=0.0,
                         threshold=ex.value, se=ex.se, method=f"extrapolated: {ex.method}",
                         width=math.nan, slope=ex.slope, slope_se=ex.slope_se, chi2=ex.chi2,
                         dof=ex.dof, sizes=" ".join(map(str, ex.sizes)),
                         instances=min(r["instances"] for r in rs)))
    rows.sort(key=lambda r: (r["algorithm"], r["L"], r["variable"],
                             r["lam"] if r["variable"] == "J_D" else r["J_D"], r["N"]))
    return rows


# ============================================================================== time scaling

def _tidy(v: float) -> float:
    """Grid value rounded to 12 significant digits (linspace's 0.30000000000000004 -> 0.3), -0 -> 0."""
    return float(f"{v:.12g}") + 0.0


def _grid(name, values) -> list[float]:
    out = sorted({_tidy(finite_scalar(name, v)) for v in np.atleast_1d(values)})
    if not out:
        raise ValueError(f"{name}: empty grid")
    return out


def _check_inputs(algorithms, Ns, J_Ds, lams, L, instances, replicas, max_sweeps, fbp_protocol,
                  fbp_dr, fbp_max_iter, fbp_damping, fbp_eps, bootstrap, J_D_grids=None):
    algorithms = list(dict.fromkeys(algorithms))
    if not algorithms:
        raise ValueError("no algorithm given")
    bad = [a for a in algorithms if a not in ALGORITHMS]
    if bad:
        raise ValueError(f"unknown algorithm(s) {', '.join(bad)}; expected some of "
                         f"{', '.join(ALGORITHMS)}")
    L = integer("L", L, 1)
    Ns_out = []
    for v in np.atleast_1d(Ns):
        fv = float(v)
        if not math.isfinite(fv) or fv != round(fv) or fv < 2:
            raise ValueError(f"N must be integers >= 2, got {v!r}")
        Ns_out.append(int(round(fv)))
    if not Ns_out:
        raise ValueError("N: empty grid")
    J_Ds = _grid("J_D", J_Ds)
    lams = _grid("lam", lams)
    extra = dict(J_D_grids or {})
    stray = [a for a in extra if a not in algorithms]
    if stray:
        raise ValueError(f"J_D grid given for {', '.join(map(str, stray))}, which is not among the "
                         f"algorithms ({', '.join(algorithms)})")
    grids = {a: _grid(f"J_D ({a})", extra[a]) if a in extra else J_Ds for a in algorithms}
    if L == 1 and lams != [0.0]:
        raise ValueError("lam needs a chain (L >= 2); the core model (L = 1) has no lam")
    if any(v < 0 for v in lams):
        raise ValueError(f"lam must be >= 0 (excitatory one-to-one couplings), got {lams}")
    integer("instances", instances, 1)
    integer("replicas", replicas, 1)
    integer("max_sweeps", max_sweeps, 1)
    integer("bootstrap", bootstrap, 0)
    if fbp_protocol not in FBP_PROTOCOLS:
        raise ValueError(f"unknown fBP protocol {fbp_protocol!r}; expected one of "
                         f"{', '.join(FBP_PROTOCOLS)}")
    _fbp_protocol(fbp_protocol, fbp_dr)
    integer("fbp_max_iter", fbp_max_iter, 1)
    d = finite_scalar("fbp_damping", fbp_damping)
    if not 0 <= d < 1:
        raise ValueError(f"fbp_damping must lie in [0, 1), got {fbp_damping!r}")
    if not finite_scalar("fbp_eps", fbp_eps) > 0:
        raise ValueError(f"fbp_eps must be > 0, got {fbp_eps!r}")
    return algorithms, sorted(set(Ns_out)), grids, lams, L


def run(algorithms: Sequence[str] = DEFAULT_ALGORITHMS, Ns: Sequence[int] = DEFAULT_NS,
        J_Ds: Sequence[float] = DEFAULT_JDS, lams: Sequence[float] = (0.0,), L: int = 1,
        instances: int = 6, out: str | Path = DEFAULT_OUT, executor=None, seed: int = 0, *,
        replicas: int = 16, max_sweeps: int = 300, fbp_protocol: str = "standard",
        fbp_dr: float = 0.01, fbp_max_iter: int = 200, fbp_damping: float = 0.5,
        fbp_eps: float = 1e-3, bootstrap: int = 200, J_D_grids: Mapping | None = None,
        quiet: bool = False) -> dict:
    """The accessibility experiment (module doc): tasks through :func:`run_sweep`, then the tables.

    ``J_Ds`` is the J_D grid of every algorithm except those given their own in ``J_D_grids``
    ({algorithm: grid}; e.g. a lower range for fBP, whose threshold is far below the dynamics').
    One task per (algorithm, N, J_D, lam, instance) on ``executor`` (None: in this process),
    resumable from ``<out>/tasks`` (task files written with other parameters are refused). Writes
    ``<out>/accessibility.csv`` (:func:`aggregate`), ``<out>/thresholds.csv`` (:func:`thresholds`) and
    ``<out>/time_scaling.csv`` (:func:`time_scaling`), with sidecars. Returns {"points": rows,
    "thresholds": rows, "time_scaling": rows, "paths": [csv paths], "task_seconds": total wall time
    of the tasks}.
    """
    seed = check_seed(seed)
    algorithms, Ns, grids, lams, L = _check_inputs(
        algorithms, Ns, J_Ds, lams, L, instances, replicas, max_sweeps, fbp_protocol, fbp_dr,
        fbp_max_iter, fbp_damping, fbp_eps, bootstrap, J_D_grids)
    out = Path(out)
    dyn_params = dict(replicas=int(replicas), max_sweeps=int(max_sweeps))
    fbp_params = dict(fbp_protocol=fbp_protocol, fbp_dr=float(fbp_dr), fbp_max_iter=int(fbp_max_iter),
                      fbp_damping=float(fbp_damping), fbp_eps=float(fbp_eps))
    tasks = _tasks(algorithms, Ns, grids, lams, L, int(instances), seed, dyn_params, fbp_params)
    _check_existing(tasks, out)
    results = run_sweep(accessibility_task, tasks, out, seed=seed, executor=executor, quiet=quiet,
                        desc="accessibility")
    points = aggregate(results, tasks, seed=seed, bootstrap=bootstrap)
    thr = thresholds(results, tasks, seed=seed, bootstrap=bootstrap)
    scaling = time_scaling(points)
    thr += time_scaling_thresholds(scaling)
    seconds = float(sum(float(r["seconds"]) for r in results.values()))
    params = dict(algorithms=algorithms, N=Ns, J_D=grids, lam=lams, L=L, instances=int(instances),
                  **dyn_params, **fbp_params, fbp_method="amp", bootstrap=int(bootstrap),
                  success="strict fixed point s_i h_i > 0 for all i",
                  time_units=dict(TIME_UNIT))
    p1 = write_csv(out / "accessibility.csv", points, params=params, seed=seed,
                   columns=POINT_COLUMNS, task_seconds_total=seconds, tasks=len(tasks))
    p2 = write_csv(out / "thresholds.csv", thr, params=params, seed=seed, columns=THRESHOLD_COLUMNS,
                   threshold_method="50 % point of the success probability: binomial ML logistic fit "
                   "(s.e.: bootstrap over instances), else midpoint of the grid interval where the "
                   "pooled success crosses 1/2 (s.e.: half the interval)",
                   extrapolation_method="x(N) = x_inf + b/N, weighted least squares (weights 1/se^2); "
                   "s.e. scaled by sqrt(chi2/dof) when > 1; rows with N = inf",
                   time_scaling_method=f"{TIME_THRESHOLD_METHOD}: the coupling above which the median "
                   "convergence time grows no faster than a power of N (rows with N = inf; 'sizes' "
                   "lists the number of sizes per grid point)")
    p3 = write_csv(out / "time_scaling.csv", scaling, params=params, seed=seed,
                   columns=TIME_COLUMNS,
                   method="z = weighted least-squares slope of ln(median time, failures as inf) vs "
                   "ln N (weights 1/time_log_se^2); z_first, z_last: local exponents of the two "
                   "smallest and largest sizes; curvature: quadratic coefficient in ln N - <ln N>; "
                   "censored_excess: ln(median time of the converged runs at censored_N, where half "
                   "or more exhaust the budget) minus the power-law prediction from the two largest "
                   "measurable sizes; bends_up = 1 when it exceeds CURVATURE_Z s.e.")
    return dict(points=points, thresholds=thr, time_scaling=scaling, paths=[p1, p2, p3],
                task_seconds=seconds)


# ========================================================================================== CLI

def build_parser():
    p = make_parser("python -m numerics.accessibility", __doc__.split("\n\n")[0], out=DEFAULT_OUT,
                    seed=0)
    p.add_argument("--preset", choices=sorted(PRESETS), default=None,
                   help="a measured experiment (explicit options override it): "
                   + "; ".join(f"{k}: {v}" for k, v in PRESET_NOTES.items()))
    p.add_argument("--algorithms", default=",".join(DEFAULT_ALGORITHMS),
                   help=f"comma-separated, some of {', '.join(ALGORITHMS)}")
    p.add_argument("--N", type=grid_type("--N", minimum=2), default=",".join(map(str, DEFAULT_NS)),
                   help="module sizes (integers >= 2)")
    p.add_argument("--J-D", dest="J_D", type=grid_type("--J-D"),
                   default=",".join(f"{v:g}" for v in DEFAULT_JDS), help="self-coupling grid")
    p.add_argument("--J-D-alg", dest="J_D_alg", action="append", default=[], metavar="ALG=GRID",
                   help="a J_D grid for one algorithm instead of --J-D (repeatable), e.g. "
                   "fbp=0:0.5:11")
    p.add_argument("--lam", type=grid_type("--lam", minimum=0), default="0",
                   help="one-to-one inter-module coupling grid (chains only)")
    p.add_argument("--L", type=positive_int, default=1,
                   help="modules: 1 core model, 2 two-module chain")
    p.add_argument("--instances", type=positive_int, default=6, help="coupling matrices per point")
    p.add_argument("--replicas", type=positive_int, default=16,
                   help="random initial states per instance (dynamics)")
    p.add_argument("--max-sweeps", dest="max_sweeps", type=positive_int, default=300,
                   help="budget of the dynamics, in sweeps")
    p.add_argument("--fbp-protocol", dest="fbp_protocol", choices=FBP_PROTOCOLS, default="standard",
                   help="focusing protocol (standard or pseudo-reinforcement)")
    p.add_argument("--fbp-dr", dest="fbp_dr", type=float, default=0.01, help="reinforcement step")
    p.add_argument("--fbp-max-iter", dest="fbp_max_iter", type=positive_int, default=200,
                   help="fBP iterations per protocol step")
    p.add_argument("--fbp-damping", dest="fbp_damping", type=float, default=0.5,
                   help="damping of the parallel fBP message updates")
    p.add_argument("--bootstrap", type=nonneg_int, default=200,
                   help="bootstrap resamples of the instances for the threshold s.e.")
    add_executor_args(p)
    return p


def _fmt(v, se) -> str:
    return "n/a" if not math.isfinite(v) else f"{v:.3f} ± {se:.3f}"


def _summary(thr_rows) -> None:
    print("accessibility thresholds (50 % points; N = inf: weighted fit in 1/N, or time scaling):")
    for r in thr_rows:
        fixed = f"lam={r['lam']:g}" if r["variable"] == "J_D" else f"J_D={r['J_D']:g}"
        n = "inf" if math.isinf(r["N"]) else str(r["N"])
        extra = f", chi2/dof={r['chi2']:.2f}/{r['dof']}" if math.isinf(r["N"]) and r["dof"] else ""
        print(f"  {r['algorithm']:5s} L={r['L']} {fixed:9s} N={n:>5s}: {r['variable']}_acc = "
              f"{_fmt(r['threshold'], r['se'])} ({r['method']}{extra})")


def parse_args(argv=None):
    """Parse the command line; a ``--preset`` supplies the defaults that explicit options override
    (argparse converts the preset's strings with each option's own type, so they are checked the same
    way)."""
    p = build_parser()
    known, _ = p.parse_known_args(argv)
    if known.preset:
        p.set_defaults(**PRESETS[known.preset])
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    algorithms = [a.strip() for a in args.algorithms.split(",") if a.strip()]
    grids = {}
    for item in args.J_D_alg:
        alg, sep, text = item.partition("=")
        if not sep:
            raise ValueError(f"--J-D-alg: expected ALG=GRID, got {item!r}")
        grids[alg.strip()] = parse_grid(text, name=f"--J-D-alg {alg.strip()}")
    _check_inputs(algorithms, args.N, args.J_D, args.lam, args.L, args.instances, args.replicas,
                  args.max_sweeps, args.fbp_protocol, args.fbp_dr, args.fbp_max_iter,
                  args.fbp_damping, 1e-3, args.bootstrap, grids)
    with executor_from_args(args) as ex:
        res = run(algorithms, args.N, args.J_D, args.lam, args.L, args.instances, args.out, ex,
                  args.seed, replicas=args.replicas, max_sweeps=args.max_sweeps,
                  fbp_protocol=args.fbp_protocol, fbp_dr=args.fbp_dr,
                  fbp_max_iter=args.fbp_max_iter, fbp_damping=args.fbp_damping,
                  bootstrap=args.bootstrap, J_D_grids=grids, quiet=args.quiet)
    variable = "lam" if args.L > 1 and len(args.lam) > 1 else "J_D"
    title = "core model" if args.L == 1 else f"{args.L}-module chain"
    png = drawing.draw("accessibility", res["points"], res["thresholds"],
                       Path(args.out) / "accessibility.png", variable, title)
    res["paths"].append(png or "no figure drawer installed (pip install -e .): CSVs only")
    if not args.quiet:
        _summary(res["thresholds"])
        if res["time_scaling"]:
            print("median convergence time ~ N^z:")
            for r in res["time_scaling"]:
                fixed = f"J_D={r['J_D']:g}" + (f" lam={r['lam']:g}" if r["L"] > 1 else "")
                curv = (f", curvature {r['curvature']:+.3f} ± {r['curvature_se']:.3f}"
                        if math.isfinite(r["curvature"]) else "")
                cens = (f"; at N = {r['censored_N']} half or more exhaust the budget, median >= "
                        f"power law x e^{r['censored_excess']:.2f}±{r['censored_excess_se']:.2f}"
                        + (" (bends up)" if r["bends_up"] else "")
                        if math.isfinite(r["censored_excess"]) else "")
                print(f"  {r['algorithm']:5s} L={r['L']} {fixed}: z = {r['z']:.2f} "
                      f"(local {r['z_first']:.2f} -> {r['z_last']:.2f}{curv}; "
                      f"{r['time_N_min']:.4g} -> {r['time_N_max']:.4g} {r['time_unit']}, "
                      f"N = {r['N_min']} -> {r['N_max']}{cens})")
        print(f"task time {res['task_seconds']:.1f} s in total")
    for p in res["paths"]:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main, prog="python -m numerics.accessibility"))
