"""Benchmark of the sparse network (darnax's MNIST architecture): seconds per MNIST training epoch.

    python benchmarks/sparse.py [--steps 400] [--full] [--hidden 2000] [--baseline-seconds 15]
                                [--eval] [--threads 1] [--seed 17] [--out FILE.csv]

The network of ``numerics.learning.sparse`` with its defaults (784-2000-10, W_in 10 % and J 1 %
dense in CSR storage, one warm-up, 5 clamped and 5 free synchronous sweeps, batch 16, float32) on
raw MNIST pixels (60 000 items, 3 750 steps per epoch). :meth:`SparseModel.train_step` is timed on
the first ``--steps`` batches of a shuffled epoch and the epoch time extrapolated (``--full``: the
whole epoch). ``--eval`` also times the inference of the 10 000 test items.

The baseline is :func:`numerics.learning.sparse.train_step_reference`: the same step with dense masked
float64 matrices, one sample at a time, every field a full matrix-vector product; it runs on the
following batches for ``--baseline-seconds`` and its epoch time is extrapolated.

Goal (issue 16): <= 55 s per epoch on 2 cores (darnax itself: about 219 s per epoch on this kind
of machine). Accuracy is not measured here: ``python -m numerics.learning.train --config
darnax_mnist`` trains the three epochs of the issue's target (>= 0.94 test).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):                      # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from benchmarks.learning import (BATCH, add_epoch_options, epoch_batches, run_with_blas_threads,
                                 time_reference, time_steps)
from numerics.learning import datasets
from numerics.learning.sparse import SparseConfig, SparseModel, train_step_reference
from toolkit.cli import make_parser, positive_int, run
from toolkit.results import write_csv

GOAL = 55.0                                         # seconds per epoch, issue 16


def main(argv=None) -> int:
    p = make_parser("benchmarks/sparse.py", __doc__.splitlines()[0], seed=17, quiet=False)
    p.add_argument("--hidden", type=positive_int, default=2000, help="hidden width H")
    p.add_argument("--steps", type=positive_int, default=400, help="timed steps (batches of 16)")
    p.add_argument("--full", action="store_true", help="time a whole epoch (3750 steps)")
    add_epoch_options(p, "dense per-sample")
    return run_with_blas_threads(p.parse_args(argv), _bench)


def _bench(args) -> int:
    t0 = time.perf_counter()
    ds = datasets.load("mnist", seed=args.seed)
    x, y = ds.x_train.astype(np.float32), ds.y_train
    t_load = time.perf_counter() - t0
    cfg = SparseConfig(N=ds.n_features, C=ds.n_classes, H=args.hidden)
    B = BATCH
    per_epoch, steps, model_rng, _, batch = epoch_batches(x, y, args, B)
    model = SparseModel(cfg, model_rng)

    print(f"MNIST {len(y)} items ({t_load:.1f} s to load); sparse network {cfg.N}-{cfg.H}-{cfg.C}, "
          f"{model.W_in.nnz} input and {model.J.nnz} recurrent couplings, T = {cfg.T}, batch {B}, "
          f"{per_epoch} steps per epoch, BLAS threads = "
          f"{args.threads if args.threads > 0 else 'default'}", flush=True)
    SparseModel(cfg.replace(H=32), np.random.default_rng(0)).train_step(*batch(0))   # warm start
    t_fast, fit = time_steps(lambda k: model.train_step(*batch(k)), steps)
    step = t_fast / steps
    epoch = step * per_epoch
    mark = " " if steps == per_epoch else "~"
    print(f"sparse  : {steps} steps in {t_fast:.2f} s = {1e3 * step:.2f} ms/step -> {mark}{epoch:.1f} "
          f"s/epoch (fit accuracy over these steps {fit / (B * steps):.3f}); goal <= {GOAL:.0f} s: "
          f"{'yes' if epoch <= GOAL else 'no'}", flush=True)
    row = {"H": cfg.H, "goal": GOAL, "steps": steps, "steps_per_epoch": per_epoch,
           "ms_per_step": 1e3 * step, "seconds_per_epoch": epoch, "extrapolated": steps < per_epoch,
           "threads": args.threads, "nnz_in": model.W_in.nnz, "nnz_J": model.J.nnz}
    if args.baseline_seconds > 0:
        ref = model.copy()
        n_ref, t_ref = time_reference(lambda k: train_step_reference(ref, *batch(k)), steps,
                                      per_epoch, args.baseline_seconds)
        ref_step = t_ref / n_ref
        print(f"dense per-sample reference: {n_ref} steps, {1e3 * ref_step:.0f} ms/step -> "
              f"~{ref_step * per_epoch:.0f} s/epoch; sparse speed-up {ref_step / step:.0f}x", flush=True)
        row.update(reference_steps=n_ref, reference_ms_per_step=1e3 * ref_step,
                   reference_seconds_per_epoch=ref_step * per_epoch, speedup=ref_step / step)
    if args.eval:
        t0 = time.perf_counter()
        acc = float(np.mean(np.argmax(model.predict(ds.x_test.astype(np.float32)), 1) == ds.y_test))
        t_eval = time.perf_counter() - t0
        print(f"inference: {len(ds.y_test)} test items in {t_eval:.1f} s (test accuracy after {steps} "
              f"steps {acc:.3f})", flush=True)
        row.update(eval_test_seconds=t_eval, test_acc=acc)
    if args.out:
        write_csv(args.out, [row], params=vars(args), seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(run(main, prog="benchmarks/sparse.py"))
