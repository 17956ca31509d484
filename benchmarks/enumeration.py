"""Benchmark of exhaustive fixed-point enumeration (SPEC 10).

    python benchmarks/enumeration.py [--N 24,26,28,30] [--J-D 0.5] [--workers 2] [--seed 0]

For each N, one core-model instance (SPEC 3.1) is enumerated by
:func:`numerics.enumeration.fixed_points` with a ``ProcessPoolExecutor`` of ``--workers`` processes
(the time includes building the tables in the workers, not starting the pool), and by a plain
chunked-GEMM baseline: chunks of 2^16 states, S in {-1,+1}^(N x 2^16), H = J_off @ S + J_D S with
BLAS (default threads), keep all(S * H > kappa) over the neurons. The spins of the 16 low bits are
built once and reused, which favours the baseline. Above ``--baseline-max-N`` the baseline visits
only the first ``--baseline-fraction`` of the chunks and its time is extrapolated (marked ``~``);
its count is then not compared. Reported: number of FPs, seconds, states per second, speed-up.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

if __package__ in (None, ""):                      # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from numerics.enumeration import default_n_low, fixed_points
from numerics.models import sample_core
from toolkit.cli import UsageError, finite_float, int_list, make_parser, positive_int, run
from toolkit.results import write_csv
from toolkit.rng import make_rng, spawn_seeds

_CHUNK_BITS = 16


def gemm_baseline(J, J_D: float, kappa: float = 0.0, fraction: float = 1.0) -> tuple[np.ndarray, float]:
    """Plain enumeration: chunks of 2^16 states, BLAS product, all(s*h > kappa).

    Returns (sorted codes found, fraction of the state space visited).
    """
    J_off = np.array(J, dtype=np.float64)
    np.fill_diagonal(J_off, 0.0)
    N = J_off.shape[0]
    lo_bits = min(_CHUNK_BITS, N)
    n_chunks = 1 << (N - lo_bits)
    todo = max(1, int(round(fraction * n_chunks)))
    lo = np.arange(1 << lo_bits, dtype=np.uint64)
    S = np.empty((N, 1 << lo_bits))
    S[:lo_bits] = ((lo[None, :] >> np.arange(lo_bits, dtype=np.uint64)[:, None]) & np.uint64(1)) * 2.0 - 1.0
    out = []
    for q in range(todo):
        for j in range(lo_bits, N):
            S[j] = 1.0 if (q >> (j - lo_bits)) & 1 else -1.0
        H = J_off @ S
        H += J_D * S
        H *= S
        ok = np.flatnonzero(np.all(H > kappa, axis=0))
        if ok.size:
            out.append(ok.astype(np.uint64) | np.uint64(q << lo_bits))
    codes = np.sort(np.concatenate(out)) if out else np.empty(0, dtype=np.uint64)
    return codes, todo / n_chunks


def main(argv=None) -> int:
    p = make_parser("benchmarks/enumeration.py", __doc__.splitlines()[0], seed=0)
    p.add_argument("--N", default="24,26,28,30", help="comma-separated network sizes")
    p.add_argument("--J-D", type=finite_float, default=0.5, help="self coupling J_D")
    p.add_argument("--kappa", type=finite_float, default=0.0, help="margin")
    p.add_argument("--workers", type=positive_int, default=2, help="processes for fixed_points")
    p.add_argument("--n-low", type=int, default=None, help="low-block size (default: automatic)")
    p.add_argument("--baseline-max-N", type=int, default=28,
                   help="largest N for a full baseline run; above it the baseline is extrapolated")
    p.add_argument("--baseline-fraction", type=finite_float, default=1 / 16,
                   help="fraction of the chunks the extrapolated baseline visits")
    p.add_argument("--repeats", type=positive_int, default=1, help="best of this many fixed_points runs")
    p.add_argument("--out", default=None, help="optional CSV file for the table")
    args = p.parse_args(argv)
    Ns = int_list(args.N, "--N", 2, 34)
    if not 0 < args.baseline_fraction <= 1:
        raise UsageError("--baseline-fraction must lie in (0, 1]")
    seeds = spawn_seeds(args.seed, len(Ns))

    print(f"J_D = {args.J_D}, kappa = {args.kappa}, workers = {args.workers}, seed = {args.seed}; "
          f"'~' = baseline extrapolated from a fraction {args.baseline_fraction:g} of the states")
    header = (f"{'N':>3} {'n_low':>5} {'#FP':>9} {'fp s':>8} {'fp states/s':>12} "
              f"{'base s':>9} {'base states/s':>13} {'speed-up':>8} {'same':>5}")
    print(header)
    rows = []
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        pool.submit(int, 0).result()                      # start the workers before timing
        for N, ss in zip(Ns, seeds):
            J = sample_core(N, make_rng(ss))
            n_low = default_n_low(N) if args.n_low is None else min(args.n_low, N - 1)
            best = np.inf
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                codes = fixed_points(J, args.J_D, args.kappa, executor=pool, n_low=n_low)
                best = min(best, time.perf_counter() - t0)
            full = N <= args.baseline_max_N
            t0 = time.perf_counter()
            base_codes, frac = gemm_baseline(J, args.J_D, args.kappa, 1.0 if full else args.baseline_fraction)
            t_base = (time.perf_counter() - t0) / frac
            full = frac == 1.0
            same = np.array_equal(codes, base_codes) if full else None
            states = 2.0 ** N
            row = dict(N=N, n_low=n_low, n_fp=int(codes.size), fp_seconds=best,
                       fp_states_per_s=states / best, baseline_seconds=t_base,
                       baseline_states_per_s=states / t_base, speedup=t_base / best,
                       baseline_extrapolated=not full, same_codes=same)
            rows.append(row)
            mark = " " if full else "~"
            print(f"{N:>3} {n_low:>5} {codes.size:>9} {best:>8.3f} {states / best:>12.3g} "
                  f"{mark}{t_base:>8.2f} {states / t_base:>13.3g} {t_base / best:>8.1f} "
                  f"{'-' if same is None else ('yes' if same else 'NO'):>5}", flush=True)
    if args.out:
        write_csv(args.out, rows, params=vars(args), seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(run(main, prog="benchmarks/enumeration.py"))
