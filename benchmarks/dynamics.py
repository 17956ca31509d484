"""Benchmark of batched random-sequential dynamics (SPEC 8.1): spin updates per second.

    python benchmarks/dynamics.py [--N 1000,4000] [--replicas 64] [--J-D 0,0.8,1.2] [--max-sweeps 20]
                                  [--baseline-seconds 2] [--seed 0] [--out FILE.csv]

For each N and J_D, one core-model instance (SPEC 3.1) and R random initial states. The batched fast
form :func:`numerics.dynamics.relax_async` relaxes all R replicas at once; the baseline is the plain
one-replica loop :func:`numerics.dynamics.relax_async_naive` (pick i uniformly, flip if unstable, fields
kept up to date) on the same initial states, one replica after the other; it runs the first m
replicas, m = 1, 2, 4, ... until one call takes ``--baseline-seconds``, and its time for all R
replicas is extrapolated (marked ``~``) as set-up + (time - set-up) R / m.

Counted: a *spin update* is one micro-step of the plain rule (pick a spin, set s_i <- sign(h_i)),
whether or not the spin changes; the fast form simulates the micro-steps without a flip in bulk
(Geometric(|U|/N) waits), so its update rate grows as the unstable set shrinks. Both rates count the
same micro-steps (sum over replicas of sweeps * N, up to convergence or the budget). Effective flips
per second are shown too: each costs an O(N) field update in either method. Times include the set-up
(copying J, initial fields, final fixed-point check) once per call. Both methods are single-threaded
loops; BLAS (used only in the set-up) is limited to ``--blas-threads`` threads, since oversubscribed
BLAS threads can make the small set-up GEMMs slower than the whole relaxation on a busy machine.

Each effective flip streams one int32 row of the rounded couplings (4N bytes, :class:`numerics.dynamics
._FixedFields`; 8N bytes with float64 before) and rewrites one int32 row of fields, so flips per second
are bounded by memory bandwidth and per-call overhead (about 2 us per flip at N = 4000 here). Updates
per second are flips per second times N/|U|. At J_D = 0 the unstable fraction |U|/N stays near 0.26
for the whole budget (measured at N = 4000), so 10 M updates/s would need 2.6 M flips/s, i.e. 42 GB/s
of coupling rows: out of reach of one core. The goal can only be met late in a relaxation, where
|U|/N is around 1 % or less.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):                      # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from threadpoolctl import threadpool_limits

from numerics.dynamics import relax_async, relax_async_naive
from numerics.models import sample_core
from toolkit.cli import finite_float, int_list, make_parser, nonneg_float, parse_grid, positive_int, run
from toolkit.results import write_csv
from toolkit.rng import make_rng, spawn_seeds

GOAL = 10e6                                          # spin updates per second (issue 4)


def _timed_fast(J, J_D, S0, max_sweeps, rng, kappa):
    t0 = time.perf_counter()
    res = relax_async(J, J_D, rng=rng, s0=S0, max_sweeps=max_sweeps, kappa=kappa)
    return res, time.perf_counter() - t0


def _timed_baseline(J, J_D, S0, max_sweeps, rng, seconds, kappa):
    """The one-replica loop over the first m = 1, 2, 4, ... replicas until a call takes ``seconds``.

    Returns (updates, flips, seconds for all R replicas (extrapolated when m < R), m), from the last
    call. The set-up of a call (``max_sweeps = 0``: copy of J, fields, final check) is timed apart and
    counted once in the extrapolation.
    """
    N, R = J.shape[0], S0.shape[0]
    t0 = time.perf_counter()
    relax_async_naive(J, J_D, rng=rng, s0=S0[:1], max_sweeps=0, kappa=kappa)
    t_setup = time.perf_counter() - t0
    m = 1
    while True:
        t0 = time.perf_counter()
        res = relax_async_naive(J, J_D, rng=rng, s0=S0[:m], max_sweeps=max_sweeps, kappa=kappa)
        t_m = time.perf_counter() - t0
        if t_m >= seconds or m == R:
            break
        m = min(R, 2 * m)
    t_all = t_setup + max(t_m - t_setup, 0.0) * R / m
    scale = R / m
    return float(res.sweeps.sum()) * N * scale, float(res.flips.sum()) * scale, t_all, m


def main(argv=None) -> int:
    p = make_parser("benchmarks/dynamics.py", __doc__.splitlines()[0], seed=0, quiet=False)
    p.add_argument("--N", default="1000,4000", help="comma-separated network sizes")
    p.add_argument("--J-D", default="0,0.8,1.2", help="self couplings J_D (a,b,c or start:stop:num)")
    p.add_argument("--kappa", type=finite_float, default=0.0, help="margin")
    p.add_argument("--replicas", type=positive_int, default=64, help="replicas R sharing J")
    p.add_argument("--max-sweeps", type=positive_int, default=20, help="budget per replica, in sweeps")
    p.add_argument("--baseline-seconds", type=nonneg_float, default=2.0,
                   help="time budget of the one-replica baseline (0: one replica only)")
    p.add_argument("--blas-threads", type=int, default=1,
                   help="BLAS threads for the set-up GEMMs (the loops are single-threaded; <= 0: library "
                        "default)")
    p.add_argument("--out", default=None, help="optional CSV file for the table")
    args = p.parse_args(argv)
    if args.blas_threads > 0:
        with threadpool_limits(limits=args.blas_threads):
            return _bench(args)
    return _bench(args)


def _bench(args) -> int:
    Ns = int_list(args.N, "--N", 2)
    J_Ds = parse_grid(args.J_D, name="--J-D")
    seeds = spawn_seeds(args.seed, len(Ns) * len(J_Ds))
    R = args.replicas

    print(f"R = {R} replicas, budget {args.max_sweeps} sweeps, kappa = {args.kappa}, seed = {args.seed}, "
          f"BLAS threads = {args.blas_threads if args.blas_threads > 0 else 'default'}; "
          f"updates = micro-steps of the plain rule, flips = effective spin flips; "
          f"'~' = baseline extrapolated from the replicas it finished")
    print(f"{'N':>5} {'J_D':>5} {'conv':>6} {'fast s':>7} {'updates/s':>10} {'flips/s':>9} "
          f"{'base s':>8} {'updates/s':>10} {'flips/s':>9} {'speed-up':>8} {'goal':>5}")
    J8 = sample_core(8, make_rng(0))                 # warm-up: imports, BLAS threads, first calls
    relax_async(J8, 0.5, rng=0, replicas=4)
    relax_async_naive(J8, 0.5, rng=0, replicas=4)
    rows = []
    k = 0
    for N in Ns:
        for J_D in J_Ds:
            rng = make_rng(seeds[k])
            k += 1
            J = sample_core(N, rng)
            S0 = 2 * rng.integers(0, 2, size=(R, N)) - 1
            res, t_fast = _timed_fast(J, J_D, S0, args.max_sweeps, rng, args.kappa)
            upd = float(res.sweeps.sum()) * N
            fl = float(res.flips.sum())
            b_upd, b_fl, b_time, done = _timed_baseline(J, J_D, S0, args.max_sweeps, rng,
                                                        args.baseline_seconds, args.kappa)
            b_rate = b_upd / b_time
            t_base = b_time
            row = {"N": N, "J_D": float(J_D), "replicas": R, "max_sweeps": args.max_sweeps,
                   "converged": int(res.converged.sum()), "fast_seconds": t_fast,
                   "fast_updates_per_s": upd / t_fast, "fast_flips_per_s": fl / t_fast,
                   "baseline_replicas": done, "baseline_seconds": t_base,
                   "baseline_updates_per_s": b_rate, "baseline_flips_per_s": b_fl / b_time,
                   "speedup": (upd / t_fast) / b_rate, "baseline_extrapolated": done < R}
            rows.append(row)
            mark = "~" if done < R else " "
            print(f"{N:>5} {J_D:>5.2f} {res.converged.sum():>3}/{R:<2} {t_fast:>7.2f} {upd / t_fast:>10.3g} "
                  f"{fl / t_fast:>9.3g} {mark}{t_base:>7.1f} {b_rate:>10.3g} {b_fl / b_time:>9.3g} "
                  f"{row['speedup']:>8.1f} {'yes' if upd / t_fast >= GOAL else 'no':>5}", flush=True)
    if args.out:
        write_csv(args.out, rows, params=vars(args), seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(run(main, prog="benchmarks/dynamics.py"))
