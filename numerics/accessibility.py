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

Thresholds (``thresholds.csv``)
-------------------------------
For each algorithm and N, along the coupling that varies (J_D for the core model or the chain at fixed
lam; lam at fixed J_D for a chain with several lam values), the accessibility threshold is the 50 %
point of the success probability:

1. :func:`fit_logistic`: maximum-likelihood fit of p(x) = 1/(1 + exp(-(x - x_acc)/w)) to the pooled
   counts (binomial likelihood, Newton's method). Used when the pooled success crosses 1/2 inside the
   grid, the fit converges with w > 0, x_acc lies inside the grid, and at least two grid points
   have a pooled success strictly between 0 and 1. (With fewer, the likelihood is maximal for
   w -> 0: the transition is not resolved by the grid and x_acc is pinned to a grid point or left
   anywhere between two, whatever the truth; the bootstrap s.e. would then be spuriously small.)
   Uncertainty: standard deviation of x_acc over ``bootstrap`` resamples of the *instances* (with
   replacement; a resample whose fit is rejected contributes its midpoint); with a single instance,
   the Fisher-information s.e. of the fit.
2. Otherwise :func:`midpoint_threshold`: halfway between the last grid point with pooled success < 1/2
   and the next one; uncertainty = half their distance (the grid resolution).
3. If the success never crosses 1/2 on the grid: no threshold (NaN, method ``below_grid`` when every
   point succeeds at >= 1/2, ``above_grid`` when the last point is still below).

Finite-size extrapolation (:func:`extrapolate_inverse_N`): weighted least squares of
x_acc(N) = x_acc(inf) + b/N over the sizes with a threshold (weights 1/se^2). The s.e. of x_acc(inf)
comes from the fit covariance, multiplied by sqrt(chi2/dof) when that exceeds 1 (three or more sizes;
with two sizes the line goes through both points and the s.e. is propagated from theirs). chi2/dof is
written out so that a visibly non-linear drift in 1/N is not hidden; the extrapolated rows carry
N = inf, inv_N = 0.

Second diagnostic, budget-free (:func:`time_scaling`, ``time_scaling.csv``, and the rows of
``thresholds.csv`` whose method starts with "time scaling"). With a fixed budget the 50 % point
drifts up for as long as convergence times grow with N, so a straight line in 1/N only extrapolates
the *finite-budget* threshold (on the core model it fails: chi2/dof ~ 20-60 at N = 200-1600). At
each coupling, from the sizes where more than half the runs succeed (so the median time does not
depend on the budget), the median time t(N) is fitted in ln-ln scale: slope z (t ~ N^z), local
exponents, and the curvature c of ln t vs ln N with its s.e. (weights from a bootstrap over
instances). Power-law growth is straight (c = 0); growth faster than any power bends up (c > 0);
logarithmic growth bends down. The *time-scaling threshold* is where c reaches 0 just above the
last coupling where it is significantly positive (:func:`curvature_zero`): above it a budget
growing like a power of N suffices, below it none does. A coupling also counts as bending up when, at
the next size, half the runs or more exhaust the budget while the power law through the two largest
measurable sizes predicts a median well inside it (``bends_up``: the median there is at least the
median time of the runs that did converge). It is a finite-size estimate too (three or more sizes, at
most a factor 16 in N here): state the sizes with it.

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import expit, log_expit

from numerics import dynamics, fbp
from numerics.models import sample_chain, sample_core
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

def logistic(x, x0: float, w: float):
    """p(x) = 1/(1 + exp(-(x - x0)/w)): the 50 % point is x0, w > 0 the width (p rises with x)."""
    return expit((np.asarray(x, float) - x0) / w)


@dataclass(frozen=True)
class LogisticFit:
    """Maximum-likelihood logistic fit: ``x0`` (50 % point), ``width`` w, ``se_x0`` (Fisher
    information at the fit, runs treated as independent), ``ok`` (accepted, see :func:`fit_logistic`),
    ``message``."""
    x0: float
    width: float
    se_x0: float
    ok: bool
    message: str


def _fisher_se(x, n, x0, w) -> float:
    """s.e. of x0 from the expected information I = sum_j n_j p_j (1-p_j) g_j g_j^T,
    g_j = d z_j / d(x0, w) = (-1/w, -z_j/w), z_j = (x_j - x0)/w."""
    z = (x - x0) / w
    p = expit(z)
    v = n * p * (1 - p)
    g = np.stack([-np.ones_like(z) / w, -z / w])
    info = (g * v) @ g.T
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return math.nan
    return float(math.sqrt(cov[0, 0])) if cov[0, 0] > 0 else math.nan


def fit_logistic(x, k, n, *, max_iter: int = 100) -> LogisticFit:
    """Binomial maximum-likelihood fit of :func:`logistic` to k successes out of n at each x.

    Logistic regression p = expit(a + b u) in the scaled variable u = (x - mean x)/span, by Newton's
    method on the concave log-likelihood l = sum_j [k_j ln p_j + (n_j - k_j) ln(1 - p_j)]
    (gradient X^T (k - n p), information X^T diag(n p (1-p)) X, X = [1, u]), halving a step that does
    not increase l; then x0 = mean x - span a/b and w = span/b. The maximum exists and is unique when
    the data are not separated (a point with 0 < k < n suffices). Accepted (``ok``) when Newton
    converged, b > 0 (success rises with x), x0 lies inside [min x, max x] and w > 1e-3 span.
    """
    x, k, n = (np.asarray(a, float) for a in (x, k, n))
    keep = n > 0
    x, k, n = x[keep], k[keep], n[keep]
    if x.size < 2:
        return LogisticFit(math.nan, math.nan, math.nan, False, "fewer than two points")
    lo, hi = float(x.min()), float(x.max())
    span = hi - lo
    if span <= 0:
        return LogisticFit(math.nan, math.nan, math.nan, False, "all points at the same x")
    xm = float(np.sum(n * x) / np.sum(n))
    X = np.stack([np.ones_like(x), (x - xm) / span], axis=1)

    def loglik(beta):
        z = X @ beta
        return float(np.sum(k * log_expit(z) + (n - k) * log_expit(-z)))

    beta = np.zeros(2)
    ll = loglik(beta)
    converged = False
    for _ in range(max_iter):
        p = expit(X @ beta)
        grad = X.T @ (k - n * p)
        info = (X.T * (n * p * (1 - p))) @ X
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        while t > 1e-10:
            cand = beta + t * step
            ll_c = loglik(cand)
            if ll_c >= ll - 1e-12 * abs(ll):
                break
            t *= 0.5
        beta, ll = cand, ll_c
        if np.max(np.abs(t * step)) < 1e-10 * (1.0 + np.max(np.abs(beta))):
            converged = True
            break
        if abs(beta[1]) > 1e6:                         # separated data: b -> infinity
            break
    a, b = float(beta[0]), float(beta[1])
    if not (converged and b > 0):
        msg = "Newton did not converge (separated data?)" if not converged else \
            "success does not rise with x (b <= 0)"
        return LogisticFit(math.nan, math.nan, math.nan, False, msg)
    x0, w = xm - span * a / b, span / b
    se = _fisher_se(x, n, x0, w)
    if not lo <= x0 <= hi:
        return LogisticFit(x0, w, se, False, f"50 % point {x0:.4g} outside the grid [{lo:g}, {hi:g}]")
    if w <= 1e-3 * span:
        return LogisticFit(x0, w, se, False, "width below 1e-3 of the grid span")
    return LogisticFit(x0, w, se, True, "ok")


def midpoint_threshold(x, p) -> tuple[float, float, str]:
    """Midpoint between the last grid point with p < 1/2 and the next one (x sorted internally).

    Returns (threshold, half the distance between the two points, method): method ``midpoint``;
    ``below_grid`` (NaN) when p >= 1/2 everywhere; ``above_grid`` (NaN) when p < 1/2 at the largest x.
    """
    x, p = np.asarray(x, float), np.asarray(p, float)
    order = np.argsort(x, kind="stable")
    x, p = x[order], p[order]
    below = np.flatnonzero(p < 0.5)
    if below.size == 0:
        return math.nan, math.nan, "below_grid"
    j = int(below[-1])
    if j == x.size - 1:
        return math.nan, math.nan, "above_grid"
    return 0.5 * (x[j] + x[j + 1]), 0.5 * (x[j + 1] - x[j]), "midpoint"


@dataclass(frozen=True)
class Threshold:
    """A 50 % point: ``value``, ``se``, ``method`` ("logistic", "midpoint", "below_grid",
    "above_grid"), ``width`` (logistic w, NaN otherwise), ``message``."""
    value: float
    se: float
    method: str
    width: float
    message: str


def _point_estimate(x, k, n) -> tuple[float, float, float, str, str]:
    """(value, fit or grid s.e., width, method, message) from pooled counts (module doc, 1-3)."""
    p = k / np.where(n > 0, n, 1)
    mid, half, mmethod = midpoint_threshold(x, p)
    if mmethod != "midpoint":
        return math.nan, math.nan, math.nan, mmethod, f"success never crosses 1/2 ({mmethod})"
    inner = int(np.count_nonzero((k > 0) & (k < n)))
    if inner < 2:           # the logistic ML fit degenerates (w -> 0): not enough points resolve it
        return mid, half, math.nan, "midpoint", \
            f"{inner} grid point(s) with 0 < p < 1 (the logistic fit needs 2); grid midpoint"
    fit = fit_logistic(x, k, n)
    if fit.ok:
        return fit.x0, fit.se_x0, fit.width, "logistic", "logistic ML fit"
    return mid, half, math.nan, "midpoint", f"logistic rejected ({fit.message}); grid midpoint"


def threshold(x, successes, runs, *, bootstrap: int = 200, rng=None) -> Threshold:
    """50 % point of the success probability along ``x`` (module doc, "Thresholds").

    ``successes`` and ``runs`` have shape (instances, len(x)) (per-instance counts; a 1-d array is one
    pooled instance). Point estimate from the pooled counts; for the logistic method with two or more
    instances the s.e. is the standard deviation over ``bootstrap`` resamples of the instances (``rng``
    required), else the Fisher s.e.; for the midpoint method half the grid gap.
    """
    x = np.asarray(x, float)
    K = np.atleast_2d(np.asarray(successes, float))
    T = np.atleast_2d(np.asarray(runs, float))
    if K.shape != T.shape or K.shape[1] != x.size:
        raise ValueError(f"successes and runs must have shape (instances, {x.size}), got "
                         f"{K.shape} and {T.shape}")
    value, se, width, method, msg = _point_estimate(x, K.sum(0), T.sum(0))
    if method == "logistic" and K.shape[0] >= 2 and bootstrap > 0:
        if rng is None:
            raise ValueError("rng is required for the bootstrap")
        rng = make_rng(rng)
        m = K.shape[0]
        draws = []
        for _ in range(bootstrap):
            idx = rng.integers(0, m, size=m)
            v = _point_estimate(x, K[idx].sum(0), T[idx].sum(0))[0]
            if math.isfinite(v):
                draws.append(v)
        if len(draws) >= 2:
            se = float(np.std(draws, ddof=1))
            msg += f"; s.e. from {len(draws)}/{bootstrap} bootstrap resamples of {m} instances"
    return Threshold(float(value), float(se), method, float(width), msg)


@dataclass(frozen=True)
class Extrapolation:
    """x(N) = value + slope/N fitted by weighted least squares (see :func:`extrapolate_inverse_N`)."""
    value: float
    se: float
    slope: float
    slope_se: float
    chi2: float
    dof: int
    sizes: tuple
    method: str


def extrapolate_inverse_N(Ns, values, se) -> Extrapolation:
    """Finite-size extrapolation x(N) = x_inf + b/N by weighted least squares, weights 1/se^2.

    Points with a non-finite value are dropped; an s.e. that is not finite or is below round-off
    (1e-9 max(1, max |x|)) is replaced by the smallest valid one (or by that floor). Solved on the
    whitened system; covariance (A^T W A)^{-1}, A = [1, 1/N]; with three or
    more sizes it is multiplied by max(1, chi2/dof). Fewer than two sizes: NaN. Two sizes: the line
    through both points (chi2 = 0, dof = 0), s.e. propagated from theirs.
    """
    N = np.asarray(Ns, float)
    y = np.asarray(values, float)
    s = np.asarray(se, float)
    keep = np.isfinite(y) & np.isfinite(N) & (N > 0)
    N, y, s = N[keep], y[keep], s[keep]
    sizes = tuple(int(v) for v in N)
    if N.size < 2 or np.unique(N).size < 2:
        return Extrapolation(math.nan, math.nan, math.nan, math.nan, math.nan, 0, sizes,
                             "fewer than two sizes with a threshold")
    floor = 1e-9 * max(1.0, float(np.max(np.abs(y))))       # below that, an s.e. is round-off
    good = np.isfinite(s) & (s > floor)
    s = np.where(good, s, s[good].min() if good.any() else floor)
    A = np.stack([np.ones_like(N), 1.0 / N], axis=1)
    Aw, yw = A / s[:, None], y / s                           # whitened: cov = (Aw^T Aw)^{-1}
    beta = np.linalg.lstsq(Aw, yw, rcond=None)[0]
    cov = np.linalg.pinv(Aw.T @ Aw)
    chi2 = float(np.sum((yw - Aw @ beta) ** 2))
    dof = int(N.size - 2)
    if dof > 0:
        cov = cov * max(1.0, chi2 / dof)
    return Extrapolation(float(beta[0]), float(math.sqrt(cov[0, 0])), float(beta[1]),
                         float(math.sqrt(cov[1, 1])), chi2, dof, sizes,
                         "weighted least squares in 1/N" + (", s.e. x max(1, sqrt(chi2/dof))"
                                                           if dof > 0 else ", exact through 2 sizes"))


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

def _weighted_polyfit(u, y, se, deg: int):
    """Least-squares polynomial fit of y(u) of degree ``deg`` (coefficients lowest first) with
    weights 1/se^2 (all 1 when any se is not finite and positive) and the coefficient s.e.: from
    the covariance (A^T W A)^{-1} times max(1, chi2/dof) with weights, from the residuals without
    (NaN when there are no degrees of freedom left)."""
    A = np.vander(u, deg + 1, increasing=True)
    weighted = bool(np.all(np.isfinite(se)) and np.all(se > 0))
    w = 1.0 / se if weighted else np.ones_like(y)
    Aw, yw = A * w[:, None], y * w
    beta = np.linalg.lstsq(Aw, yw, rcond=None)[0]
    cov = np.linalg.pinv(Aw.T @ Aw)
    dof = y.size - (deg + 1)
    chi2 = float(np.sum((yw - Aw @ beta) ** 2))
    if weighted:
        cov = cov * (max(1.0, chi2 / dof) if dof > 0 else 1.0)
    else:
        cov = cov * (chi2 / dof if dof > 0 else math.nan)
    return beta, np.sqrt(np.diag(cov))


def time_scaling(points: Sequence[Mapping]) -> list[dict]:
    """Rows of ``time_scaling.csv``: growth of the convergence time t(N) with N at each coupling.

    For each (algorithm, L, J_D, lam) with a finite unconditional median time (success > 1/2) at two
    or more sizes, in u = ln N and y = ln(time_median_all), weights 1/time_log_se^2 when every size
    has one (unweighted otherwise):

    - ``z``: slope of the straight-line fit (t ~ N^z);
    - ``z_first``, ``z_last``: local exponents between the two smallest and the two largest sizes;
    - ``curvature`` c and ``curvature_se`` (three or more sizes): the quadratic coefficient of
      y = a + b (u - <u>) + c (u - <u>)^2. Polynomial growth has c = 0; growth faster than any power
      (e.g. ln t ~ N^psi) bends up, c > 0; logarithmic or saturating growth bends down, c < 0.

    - ``censored_N``, ``censored_excess``, ``censored_excess_se``, ``bends_up``: when the next
      measured size N' above the last finite median has half or more of its runs unconverged within
      the budget, its median exceeds the budget, hence the median time of the runs that did converge
      (``time_median``), a lower bound t_lb. The power law through the two largest finite sizes
      predicts ln t_pred = (1 + r) ln t_k - r ln t_{k-1}, r = ln(N'/N_k) / ln(N_k/N_{k-1}), with
      s.e. sqrt((1 + r)^2 se_k^2 + r^2 se_{k-1}^2) from ``time_log_se``; ``censored_excess`` =
      ln t_lb - ln t_pred. ``bends_up`` is 1 when it exceeds CURVATURE_Z s.e.: growth faster than
      any power, seen one size beyond where the median can be measured (a one-sided test).

    A coupling where z stays clearly positive means the fixed budget becomes insufficient as N grows,
    so the finite-budget threshold keeps drifting up; :func:`time_scaling_thresholds` turns the sign
    change of c (and ``bends_up``) into the budget-free threshold.
    """
    groups: dict[tuple, list] = {}
    for r in points:
        groups.setdefault((r["algorithm"], r["L"], r["J_D"], r["lam"]), []).append(r)
    rows = []
    for (alg, L, J_D, lam), every in sorted(groups.items()):
        rs = sorted((r for r in every if math.isfinite(r["time_median_all"])
                     and r["time_median_all"] > 0), key=lambda r: r["N"])
        if len(rs) < 2:
            continue
        censored = _censored_excess(rs, [r for r in every if r["N"] > rs[-1]["N"]])
        lN = np.log([float(r["N"]) for r in rs])
        lt = np.log([r["time_median_all"] for r in rs])
        se = np.array([float(r.get("time_log_se", math.nan)) for r in rs])
        u = lN - lN.mean()
        beta, _ = _weighted_polyfit(u, lt, se, 1)
        c, c_se = math.nan, math.nan
        if len(rs) >= 3:
            b2, s2 = _weighted_polyfit(u, lt, se, 2)
            c, c_se = float(b2[2]), float(s2[2])
        rows.append(dict(algorithm=alg, L=L, J_D=J_D, lam=lam, time_unit=TIME_UNIT[alg],
                         z=float(beta[1]), z_first=float((lt[1] - lt[0]) / (lN[1] - lN[0])),
                         z_last=float((lt[-1] - lt[-2]) / (lN[-1] - lN[-2])), curvature=c,
                         curvature_se=c_se, N_min=rs[0]["N"], time_N_min=rs[0]["time_median_all"],
                         N_max=rs[-1]["N"], time_N_max=rs[-1]["time_median_all"], sizes=len(rs),
                         **censored))
    return rows


def _censored_excess(finite: Sequence[Mapping], larger: Sequence[Mapping]) -> dict:
    """The ``censored_*`` and ``bends_up`` columns of :func:`time_scaling` (see there)."""
    out = dict(censored_N=math.nan, censored_excess=math.nan, censored_excess_se=math.nan,
               bends_up=0)
    nxt = min(larger, key=lambda r: r["N"], default=None)
    if nxt is None or len(finite) < 2 or not (math.isfinite(float(nxt.get("time_median", math.nan)))
                                              and nxt["time_median"] > 0):
        return out
    (a, b) = finite[-2], finite[-1]
    lN = np.log([float(a["N"]), float(b["N"]), float(nxt["N"])])
    r = (lN[2] - lN[1]) / (lN[1] - lN[0])
    pred = (1 + r) * math.log(b["time_median_all"]) - r * math.log(a["time_median_all"])
    se = math.hypot((1 + r) * float(b.get("time_log_se", math.nan)),
                    r * float(a.get("time_log_se", math.nan)))
    excess = math.log(nxt["time_median"]) - pred
    out.update(censored_N=nxt["N"], censored_excess=excess, censored_excess_se=se,
               bends_up=int(math.isfinite(se) and excess > CURVATURE_Z * se))
    return out


TIME_THRESHOLD_METHOD = "time scaling: zero of the curvature of ln t vs ln N"


#: a curvature counts as "bending up" when it exceeds this many standard errors
CURVATURE_Z = 2.0


def curvature_zero(x, c, c_se, bends=None) -> tuple[float, float, str]:
    """(x*, s.e., note): where the curvature c(x) of ln t vs ln N stops being positive.

    k = the largest coupling where c is *significantly* positive, c > CURVATURE_Z s.e., or where
    ``bends`` is true (growth faster than a power of N; a point without s.e. does not count; see
    ``bends_up`` in :func:`time_scaling`); every coupling above it is
    compatible with power-law growth. x* is the zero of the straight line through (x_k, c_k) and
    (x_{k+1}, c_{k+1}), x* = x_k + (x_{k+1} - x_k) c_k / (c_k - c_{k+1}), clipped to x_{k+1} when
    c_{k+1} > 0 (note ``clipped``, s.e. = the bracket width); otherwise the s.e. is propagated from
    those of c_k and c_{k+1} (independent) and capped at the bracket width. Looking only above the
    last significant point keeps the noise of couplings far above the threshold, where c fluctuates
    around 0, from placing it there. When c_k or c_{k+1} is unknown (a point that counts through
    ``bends`` only), x* is the middle of the bracket, s.e. half its width (note ``bracketed``). NaN
    with note ``below_grid`` (no coupling bends up
    significantly), ``above_grid`` (the largest coupling still does) or ``too_few_points``.
    """
    x, c, s = (np.asarray(v, float) for v in (x, c, c_se))
    bends = np.zeros(x.shape, bool) if bends is None else np.asarray(bends, float) > 0
    keep = np.isfinite(c) | bends
    x, c, s, bends = x[keep], c[keep], s[keep], bends[keep]
    order = np.argsort(x)
    x, c, s, bends = x[order], c[order], s[order], bends[order]
    if x.size < 2:
        return math.nan, math.nan, "too_few_points"
    up = np.flatnonzero((np.isfinite(s) & (c > CURVATURE_Z * s)) | bends)
    if up.size == 0:
        return math.nan, math.nan, "below_grid"
    k = int(up[-1])
    if k == x.size - 1:
        return math.nan, math.nan, "above_grid"
    m = k + 1
    dx = float(x[m] - x[k])
    if c[m] > 0:
        return float(x[m]), dx, "clipped"
    if not (math.isfinite(c[k]) and math.isfinite(c[m])):     # a bending point without curvature
        return float(x[k] + dx / 2), dx / 2, "bracketed"
    d = c[k] - c[m]
    value = float(x[k] + dx * c[k] / d)
    g = np.array([-dx * c[m] / d ** 2, dx * c[k] / d ** 2])       # d x* / d(c_k, c_m)
    se = float(math.sqrt(np.sum((g * s[[k, m]]) ** 2))) if np.all(np.isfinite(s[[k, m]])) \
        else math.nan
    return value, min(se, dx) if math.isfinite(se) else dx, "interpolated"


def time_scaling_thresholds(scaling: Sequence[Mapping]) -> list[dict]:
    """Budget-free thresholds, rows in the format of ``thresholds.csv`` (N = inf, method
    :data:`TIME_THRESHOLD_METHOD`): along each line of couplings (J_D at fixed lam, or lam at fixed
    J_D when there are several lam), the coupling above which the median convergence time grows no
    faster than a power of N (:func:`curvature_zero` of the ``curvature`` column of
    :func:`time_scaling`). Below it the growth bends up in ln-ln scale, which no fixed or polynomial
    budget keeps up with. Dynamics only: fBP's message iterations are set by its focusing schedule
    (about 1/dr steps, each iterated to convergence), not by a relaxation time."""
    groups: dict[tuple, list] = {}
    for r in scaling:
        groups.setdefault((r["algorithm"], r["L"]), []).append(r)
    rows = []
    for (alg, L), rs in sorted(groups.items()):
        if alg == "fbp":
            continue                      # its time is set by the focusing schedule, not relaxation
        J_Ds, lams = sorted({r["J_D"] for r in rs}), sorted({r["lam"] for r in rs})
        lines = [("J_D", lam) for lam in lams] if len(J_Ds) > 1 else []
        lines += [("lam", jd) for jd in J_Ds] if len(lams) > 1 else []
        for var, fixed in lines:
            other = "lam" if var == "J_D" else "J_D"
            sel = sorted((r for r in rs if r[other] == fixed), key=lambda r: r[var])
            if len(sel) < 2:
                continue
            value, se, note = curvature_zero([r[var] for r in sel], [r["curvature"] for r in sel],
                                             [r["curvature_se"] for r in sel],
                                             [r.get("bends_up", 0) for r in sel])
            rows.append(dict(algorithm=alg, L=L, variable=var,
                             J_D=fixed if var == "lam" else math.nan,
                             lam=fixed if var == "J_D" else math.nan, N=math.inf, inv_N=0.0,
                             threshold=value, se=se, method=f"{TIME_THRESHOLD_METHOD} ({note})",
                             width=math.nan, slope=math.nan, slope_se=math.nan, chi2=math.nan,
                             dof="", sizes=" ".join(str(r["sizes"]) for r in sel),
                             instances=""))
    return rows


# ==================================================================================== the sweep

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
