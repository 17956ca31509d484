"""Benchmark of one focusing-BP sweep, AMP form and full dense BP (SPEC 9).

    python benchmarks/fbp.py [--N 1000,4000] [--threads 1,2] [--J-D 0.5] [--amp-sweeps 30]
                             [--bp-max-N 4000] [--baseline-seconds 4] [--seed 0]

For each N, one core-model instance (SPEC 3.1) and the seconds per parallel sweep (every message
updated once) of

- ``AMP``: :class:`numerics.fbp.AMPMessages` (two passes over J per iteration), mean over
  ``--amp-sweeps`` sweeps after 3 warm-up sweeps, for each thread count of ``--threads``;
- ``BP``: :class:`numerics.fbp.BPMessages` (all N^2 messages, exact two-term expression), mean over
  ``--bp-sweeps`` sweeps, for each thread count, skipped above ``--bp-max-N``;
- ``factor loop``: a Python loop over the factors, each updated by
  :func:`numerics.fbp.factor_messages` (NumPy on one row of N messages);
- ``baseline``: the plain implementation, a Python loop over factors i and, inside, over inputs k
  with scalar arithmetic (``math`` plus scalar ``log_ndtr``), the same equations.

The two loops run for at most ``--baseline-seconds`` each and their time is extrapolated to all N
factors (marked ``~``). The messages they produced are compared with the vectorised BP sweep from
the same state (column ``max|du|``). All sweeps use (gamma, y) = (inf, 1.5) and damping 0; timings
are wall-clock (they are memory-bound for AMP, so a busy machine inflates them). Ratios:
baseline / AMP and baseline / BP, the loops being single-threaded.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

if __package__ in (None, ""):                      # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from scipy.special import log_ndtr

from numerics import fbp
from numerics.models import sample_core
from toolkit.cli import UsageError, finite_float, int_list, make_parser, positive_int, run
from toolkit.results import write_csv
from toolkit.rng import make_rng, spawn_seeds

GAMMA, Y = math.inf, 1.5


def scalar_factor(J_row, i: int, c, J_tilde: float, V_floor: float) -> list[float]:
    """Messages of factor i with scalar Python arithmetic (the plain baseline; SPEC 9)."""
    N = len(J_row)
    m = [math.tanh(x) for x in c]
    omega = 0.0
    V = 0.0
    for j in range(N):
        if j != i:
            omega += J_row[j] * m[j]
            V += J_row[j] * J_row[j] * (1.0 - m[j] * m[j])
    V = max(V, V_floor)
    out = [0.0] * N
    ci = c[i]
    for k in range(N):
        if k == i:
            sd = math.sqrt(V)
            u = 0.5 * (log_ndtr((J_tilde + omega) / sd) - log_ndtr((J_tilde - omega) / sd))
        else:
            Jk = J_row[k]
            om = omega - Jk * m[k]
            sd = math.sqrt(max(V - Jk * Jk * (1.0 - m[k] * m[k]), V_floor))
            pp = ci + log_ndtr((J_tilde + om + Jk) / sd)
            pm = -ci + log_ndtr((J_tilde - om - Jk) / sd)
            mp = ci + log_ndtr((J_tilde + om - Jk) / sd)
            mm = -ci + log_ndtr((J_tilde - om + Jk) / sd)
            u = 0.5 * (np.logaddexp(pp, pm) - np.logaddexp(mp, mm))
        out[k] = min(max(float(u), -fbp.U_MAX), fbp.U_MAX)
    return out


def loop_sweep(msgs: fbp.BPMessages, U0: np.ndarray, h: np.ndarray, seconds: float, scalar: bool):
    """Time a factor-by-factor sweep from (U0, h) for at most ``seconds``.

    Returns (extrapolated seconds per sweep, factors done, rows of messages computed).
    """
    N = msgs.N
    J = msgs.J
    rows = []
    t0 = time.perf_counter()
    for i in range(N):
        c = h - U0[i]
        if scalar:
            rows.append(scalar_factor(J[i].tolist(), i, c.tolist(), msgs.J_tilde, msgs.V_floor))
        else:
            rows.append(fbp.factor_messages(J[i], i, c, msgs.J_tilde, msgs.V_floor))
        if time.perf_counter() - t0 > seconds:
            break
    dt = time.perf_counter() - t0
    done = len(rows)
    return dt * N / done, done, np.asarray(rows, dtype=np.float64)


def main(argv=None) -> int:
    p = make_parser("benchmarks/fbp.py", __doc__.splitlines()[0], seed=0)
    p.add_argument("--N", default="1000,4000", help="comma-separated network sizes")
    p.add_argument("--J-D", type=finite_float, default=0.5, help="self coupling J_D")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts for AMP and BP")
    p.add_argument("--amp-sweeps", type=positive_int, default=30, help="timed AMP sweeps")
    p.add_argument("--bp-sweeps", type=positive_int, default=1, help="timed full-BP sweeps")
    p.add_argument("--bp-max-N", type=positive_int, default=4000,
                   help="largest N for the full BP (memory ~3 N^2 x 8 bytes)")
    p.add_argument("--baseline-seconds", type=finite_float, default=4.0,
                   help="time limit of each loop baseline (then extrapolated)")
    p.add_argument("--out", default=None, help="optional CSV file for the table")
    args = p.parse_args(argv)
    Ns = int_list(args.N, "--N", 2)
    threads = int_list(args.threads, "--threads", 1)
    if args.baseline_seconds <= 0:
        raise UsageError("--baseline-seconds must be > 0")
    seeds = spawn_seeds(args.seed, len(Ns))

    print(f"J_D = {args.J_D}, (gamma, y) = ({GAMMA}, {Y}), seed = {args.seed}; seconds per sweep; "
          f"'~' = loop extrapolated from the factors done within {args.baseline_seconds:g} s")
    print(f"{'N':>5} {'thr':>3} {'AMP s':>8} {'BP s':>8} {'factor loop s':>14} {'baseline s':>11} "
          f"{'base/AMP':>9} {'base/BP':>8} {'max|du|':>8}")
    rows = []
    for N, ss in zip(Ns, seeds):
        rng = make_rng(ss)
        J = sample_core(N, rng)
        bp_ok = N <= args.bp_max_N
        t_loop = t_base = dev = math.nan
        n_loop = n_base = 0
        for k, nt in enumerate(threads):
            amp = fbp.AMPMessages(J, args.J_D, rng=rng, threads=nt)
            for _ in range(3):
                amp.sweep(GAMMA, Y, 0.0)
            t0 = time.perf_counter()
            for _ in range(args.amp_sweeps):
                amp.sweep(GAMMA, Y, 0.0)
            t_amp = (time.perf_counter() - t0) / args.amp_sweeps
            del amp
            t_bp = math.nan
            if bp_ok:
                bp = fbp.BPMessages(J, args.J_D, rng=rng, threads=nt)
                bp.sweep(GAMMA, Y, 0.0)                       # leave the random initial state
                U0 = bp.U.copy() if k == 0 else None
                h = bp.fields(GAMMA, Y)
                t0 = time.perf_counter()
                bp.sweep(GAMMA, Y, 0.0)
                elapsed = time.perf_counter() - t0
                U1 = bp.U.copy() if k == 0 else None          # the vectorised sweep from U0
                t0 = time.perf_counter()
                for _ in range(args.bp_sweeps - 1):
                    bp.sweep(GAMMA, Y, 0.0)
                t_bp = (elapsed + time.perf_counter() - t0) / args.bp_sweeps
                if k == 0:                                    # the loops, once per N, from U0
                    t_loop, n_loop, loop_rows = loop_sweep(bp, U0, h, args.baseline_seconds, scalar=False)
                    t_base, n_base, base_rows = loop_sweep(bp, U0, h, args.baseline_seconds, scalar=True)
                    dev = max(float(np.abs(loop_rows - U1[:n_loop]).max()),
                              float(np.abs(base_rows - U1[:n_base]).max()))
                    del U0, U1
                del bp
            row = dict(N=N, threads=nt, amp_seconds=t_amp, bp_seconds=t_bp,
                       factor_loop_seconds=t_loop, factor_loop_factors=n_loop,
                       baseline_seconds=t_base, baseline_factors=n_base,
                       baseline_over_amp=t_base / t_amp, baseline_over_bp=t_base / t_bp,
                       max_message_deviation=dev)
            rows.append(row)
            ml = "~" if n_loop < N else " "
            mb = "~" if n_base < N else " "
            print(f"{N:>5} {nt:>3} {t_amp:>8.4f} {t_bp:>8.3f} {ml}{t_loop:>13.3f} {mb}{t_base:>10.1f} "
                  f"{t_base / t_amp:>9.0f} {t_base / t_bp:>8.1f} {dev:>8.1e}", flush=True)
    if args.out:
        write_csv(args.out, rows, params=vars(args), seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(run(main, prog="benchmarks/fbp.py"))
