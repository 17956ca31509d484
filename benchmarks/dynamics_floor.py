"""Hardware floors of exact random-sequential dynamics (SPEC 8.1) on this machine.

    python benchmarks/dynamics_floor.py [--N 4000] [--replicas 64] [--unstable 0.26] [--block 256]
                                        [--seconds 1] [--seed 0] [--out FILE.csv]

Why issue 16's 10 M spin updates/s at N = 4000, J_D = 0 is not reached. Every exact simulation of
the rule must bring the fields of a spin up to date before deciding it, and at J_D = 0 a fraction
u = |U|/N ≈ 0.26 of the micro-steps flips a spin (measured for the whole 20-sweep budget). There are
two ways to pay for the flips; this script times the kernel of each and prints the ceiling it sets:

- **rank-1** (:func:`numerics.dynamics.relax_async`): a flip adds one coupling row (N int32) to the
  fields of its replica, one NumPy call per flip. Ceiling: 1 / (u · t_row) micro-steps per second,
  t_row the measured time of one in-place add of a random row of an (N, N) int32 matrix.
- **blocked**: replicas share the site sequence of a block of m micro-steps, the in-block
  corrections run step by step (the rule is sequential), and the fields of all N sites are brought
  up to date at the block's end by one product of the block's m coupling rows, (m, N)ᵀ x (m, R).
  Ceiling: 1 / (2N / F + t_step / R + t_rows / (m R)) micro-steps per second, F the measured GEMM
  rate (flop/s), t_step the measured NumPy calls of one in-block step for R replicas (read the field,
  decide, flip, correct the rest of the block) and t_rows the gather of m random coupling rows.
  This form was implemented and tested in session 8 (trajectories equal to the plain rule on the
  same sites, exact float64 decisions) and not kept: at N = 4000, J_D = 0, 64 replicas, one thread,
  it ran at 1.2 M updates/s against 0.97 for the rank-1 form, and slower than it at J_D = 0.8
  (1.5 against 3.5): the row gathers and the in-block loop eat the GEMM's advantage.

Both are upper bounds (nothing else is counted). The script prints them with the measured kernels and
writes a CSV with its JSON sidecar.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):                      # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from toolkit.cli import make_parser, nonneg_float, positive_int, run
from toolkit.results import write_csv

GOAL = 10e6                                          # spin updates per second (issues 4, 16)


def _rate(fn, seconds: float) -> float:
    """Seconds per call of ``fn``, repeated until ``seconds`` have passed (at least 3 calls)."""
    fn()
    n, t0 = 0, time.perf_counter()
    while n < 3 or time.perf_counter() - t0 < seconds:
        fn()
        n += 1
    return (time.perf_counter() - t0) / n


def row_add_seconds(N: int, rng: np.random.Generator, seconds: float) -> float:
    """One in-place add of a random row of an (N, N) int32 matrix into an int32 row (one flip of
    the rank-1 form)."""
    Q = rng.integers(-2 ** 20, 2 ** 20, size=(N, N), dtype=np.int32)
    w = np.zeros(N, dtype=np.int32)

    def flip():
        for k in rng.integers(0, N, size=1000).tolist():
            np.add(w, Q[k], out=w)
    return _rate(flip, seconds) / 1000


def gemm_flops(N: int, R: int, m: int, rng: np.random.Generator, seconds: float, dtype) -> float:
    """flop/s of the block-end field update, (R, m) @ (m, N), in ``dtype``."""
    X = rng.standard_normal((R, m)).astype(dtype)
    Y = rng.standard_normal((m, N)).astype(dtype)
    return 2.0 * R * m * N / _rate(lambda: X @ Y, seconds)


def row_gather_seconds(N: int, m: int, rng: np.random.Generator, seconds: float) -> float:
    """Q[sites] for m random rows of an (N, N) float64 matrix, new sites at every call."""
    Q = rng.standard_normal((N, N))
    return _rate(lambda: Q[rng.integers(0, N, size=m)], seconds)


def block_step_seconds(R: int, m: int, u: float, rng: np.random.Generator, seconds: float) -> float:
    """The NumPy calls of one in-block step for R replicas sharing the site: read the block field
    of the site, decide, flip the deciders (a fraction u), add their couplings to the fields of the
    later sites of the block. Averaged over the m steps of a block."""
    Wc = rng.standard_normal((m, R))
    B = rng.standard_normal((m, m))
    S = np.where(rng.random((m, R)) < 0.5, -1.0, 1.0)
    D = np.zeros((m, R))
    thr = float(np.quantile(Wc * S, u))

    def block():
        for t in range(m):
            s = S[t]
            f = Wc[t] * s <= thr
            if f.any():
                d = np.where(f, -s, 0.0)
                S[t] = s + 2.0 * d
                D[t] = d
                Wc[t + 1:] += np.multiply.outer(B[t, t + 1:], d)
    return _rate(block, seconds) / m


def floors(N: int, R: int, u: float, m: int, seconds: float, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    t_row = row_add_seconds(N, rng, seconds)
    f64 = gemm_flops(N, R, m, rng, seconds, np.float64)
    f32 = gemm_flops(N, R, m, rng, seconds, np.float32)
    t_step = block_step_seconds(R, m, u, rng, seconds)
    t_rows = row_gather_seconds(N, m, rng, seconds)
    rest = t_step / R + t_rows / (m * R)
    return dict(N=N, replicas=R, unstable_fraction=u, block=m, row_add_us=t_row * 1e6,
                gemm64_gflops=f64 / 1e9, gemm32_gflops=f32 / 1e9, block_step_us=t_step * 1e6,
                row_gather_ms=t_rows * 1e3, rank1_ceiling=1.0 / (u * t_row),
                blocked64_ceiling=1.0 / (2 * N / f64 + rest),
                blocked32_ceiling=1.0 / (2 * N / f32 + rest / 2),
                gemm64_only_ceiling=f64 / (2 * N), goal=GOAL)


def build_parser():
    p = make_parser("python benchmarks/dynamics_floor.py", __doc__.split("\n\n")[0], seed=0)
    p.add_argument("--N", type=positive_int, default=4000, help="spins")
    p.add_argument("--replicas", type=positive_int, default=64, help="replicas R")
    p.add_argument("--unstable", type=nonneg_float, default=0.26,
                   help="flips per micro-step, |U|/N (0.26 at J_D = 0, measured)")
    p.add_argument("--block", type=positive_int, default=256, help="micro-steps per block m")
    p.add_argument("--seconds", type=nonneg_float, default=1.0, help="timing per kernel")
    p.add_argument("--out", default=None, help="CSV path (default: print only)")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if not 0 < args.unstable <= 1:
        raise ValueError(f"--unstable must be in (0, 1], got {args.unstable}")
    r = floors(args.N, args.replicas, args.unstable, args.block, args.seconds, args.seed)
    print(f"N = {r['N']}, R = {r['replicas']}, |U|/N = {r['unstable_fraction']}, block {r['block']}")
    print(f"  rank-1: {r['row_add_us']:.2f} us per row add -> ceiling "
          f"{r['rank1_ceiling'] / 1e6:.2f} M updates/s")
    print(f"  blocked: GEMM {r['gemm64_gflops']:.0f} Gflop/s (float64), {r['gemm32_gflops']:.0f} "
          f"(float32); {r['block_step_us']:.1f} us per in-block step of R replicas; "
          f"{r['row_gather_ms']:.2f} ms per gather of the block's rows")
    print(f"           ceiling {r['blocked64_ceiling'] / 1e6:.2f} M updates/s (float64), "
          f"{r['blocked32_ceiling'] / 1e6:.2f} (float32, half the gather, exactness aside); the "
          f"float64 GEMM alone "
          f"{r['gemm64_only_ceiling'] / 1e6:.2f}")
    print(f"  goal {GOAL / 1e6:.0f} M updates/s")
    if args.out:
        write_csv(args.out, [r], params=vars(args))
    return 0


if __name__ == "__main__":
    sys.exit(run(main, prog="python benchmarks/dynamics_floor.py"))
