"""Benchmark of the learning rule (SPEC 11): seconds per entangled-MNIST training epoch at H = 1600.

    python benchmarks/learning.py [--preset 1layer_largeP|lambda_advantage] [--lam 3] [--hidden 1600]
                                  [--steps 300] [--full] [--label-encoding bl] [--baseline-seconds 15]
                                  [--threads 1] [--eval] [--seed 17] [--out FILE.csv]

The network and rule are those of a preset of ``numerics.learning.train`` (SPEC 11.6):
``1layer_largeP`` (N = 100, C = 10, one layer, T = 5 with double dynamics, p_update = 1, batch 16,
``bl`` encoding, float32) or ``lambda_advantage`` (the two-layer chain of Fig. 3: T = 7 with double
dynamics, p_update 0.85, skip feedback and skip readout, at ``--lam``), on the full entangled-MNIST
training set (60 000 items, 3 750 steps per epoch). The batched step
:func:`numerics.learning.model.train_step` is timed on the first ``--steps`` batches of a shuffled
epoch and the epoch time extrapolated (``--full`` times the whole epoch instead). Early steps are the
slowest ones (later in training fewer units flip, so the incremental field updates read fewer rows
of J), so the extrapolation is conservative.

The baseline is :func:`numerics.learning.model.train_step_reference`, the same step written plainly:
one sample at a time, float64, every field recomputed with a full matrix-vector product at every
sweep, the update accumulated as outer products. It runs on the following batches until
``--baseline-seconds`` have passed; its epoch time is extrapolated the same way (marked ``~``).
``--eval`` also times the inference of the 10 000 test items (chunks of 1000) and extrapolates the
evaluation of the 60 000 training items.

Goals: one epoch at H = 1600 in <= 45 s (one layer, issue 5) and <= 90 s (the two-layer chain,
issue 14) on a 2-core machine. BLAS threads default to 1: the per-step GEMMs are small (16 x 1600 by
1600 x 1600) and, on a machine that is busy with other work, multi-threaded BLAS spins and becomes
tens of times slower; try ``--threads 2`` on an idle machine.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):                      # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from threadpoolctl import threadpool_limits

from numerics.learning import datasets
from numerics.learning.model import Model, ModelConfig, predict, train_step, train_step_reference
from numerics.learning.train import PRESETS
from toolkit.cli import make_parser, nonneg_float, positive_int, run
from toolkit.results import write_csv

# seconds per epoch: issue 5 (one layer), issue 14 (the two-layer chain of Fig. 3)
GOALS = {"1layer_largeP": 45.0, "lambda_advantage": 90.0}
_CONFIG_KEYS = ("J_D", "T", "lambda_in", "lambda_back", "theta_h", "theta_out", "lr_J", "lr_W",
                "lr_in", "wd_J", "wd_W", "wd_in", "p_update", "double", "label_encoding",
                "threshold", "input_layers", "lambda_y", "lambda_int", "lambda_out",
                "lambda_skip_back", "lambda_skip_out")


def _config(H: int, encoding: str | None, dtype: str, preset_name: str = "1layer_largeP",
            lam: float | None = None) -> ModelConfig:
    preset = PRESETS[preset_name]
    kw = {k: preset[k] for k in _CONFIG_KEYS if k in preset}
    if encoding is not None:
        kw["label_encoding"] = encoding
    L = preset["layers"]
    if L > 1:
        kw["lam"] = preset.get("lam", 0.0) if lam is None else lam
    return ModelConfig(N=100, C=10, H=H, L=L, dtype=dtype, **kw)


def main(argv=None) -> int:
    p = make_parser("benchmarks/learning.py", __doc__.splitlines()[0], seed=17, quiet=False)
    p.add_argument("--hidden", type=positive_int, default=1600, help="hidden width H")
    p.add_argument("--steps", type=positive_int, default=300, help="timed steps (batches of 16)")
    p.add_argument("--full", action="store_true", help="time a whole epoch (3750 steps)")
    p.add_argument("--preset", choices=sorted(GOALS), default="1layer_largeP",
                   help="the network: one layer (1layer_largeP) or the two-layer chain of Fig. 3 "
                        "(lambda_advantage, at --lam)")
    p.add_argument("--lam", type=nonneg_float, default=3.0,
                   help="inter-layer coupling of the two-layer preset (3: a point that learns)")
    p.add_argument("--label-encoding", default=None, help="override the preset's bl encoding")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    add_epoch_options(p, "per-sample")
    return run_with_blas_threads(p.parse_args(argv), _bench)


def add_epoch_options(p, baseline: str) -> None:
    """The options every seconds-per-epoch benchmark shares (this one and ``sparse.py``)."""
    p.add_argument("--baseline-seconds", type=nonneg_float, default=15.0,
                   help=f"time budget of the {baseline} baseline (0: skip it)")
    p.add_argument("--eval", action="store_true", help="also time inference on the test set")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (0: library default)")
    p.add_argument("--out", default=None, help="optional CSV file for the result")


def run_with_blas_threads(args, bench) -> int:
    """``bench(args)`` with BLAS held at ``args.threads`` threads (0: the library default)."""
    with threadpool_limits(limits=None if args.threads <= 0 else args.threads, user_api="blas"):
        return bench(args)


#: batch size of the seconds-per-epoch benchmarks
BATCH = 16


def epoch_batches(x, y, args, B: int = BATCH):
    """The epoch set-up every seconds-per-epoch benchmark shares: (steps per epoch, timed steps
    (``--full``: all of them, else at most ``--steps``), the model's generator, the training
    generator (after it drew the shuffle), batch(k) = the k-th batch of the shuffled epoch), all
    from ``--seed``."""
    per_epoch = len(y) // B
    steps = per_epoch if args.full else min(args.steps, per_epoch)
    root = np.random.SeedSequence(args.seed)
    model_rng = np.random.default_rng(root.spawn(1)[0])
    rng = np.random.default_rng(root.spawn(2)[1])
    perm = rng.permutation(len(y))

    def batch(k):
        idx = perm[k * B:(k + 1) * B]
        return x[idx], y[idx]
    return per_epoch, steps, model_rng, rng, batch


def time_steps(step, steps: int):
    """(seconds, items fitted) of ``step(k)`` for k = 0 … steps − 1 (each returns its StepStats)."""
    fit, t0 = 0, time.perf_counter()
    for k in range(steps):
        fit += step(k).fit_correct
    return time.perf_counter() - t0, fit


def time_reference(step, start: int, per_epoch: int, seconds: float):
    """(steps, seconds) of the baseline ``step(k)`` on batches start, start + 1, … (mod
    ``per_epoch``): at least one step, then on until ``seconds`` have passed."""
    n, t0 = 0, time.perf_counter()
    while n == 0 or time.perf_counter() - t0 < seconds:
        step((start + n) % per_epoch)
        n += 1
    return n, time.perf_counter() - t0


def _bench(args) -> int:
    cfg = _config(args.hidden, args.label_encoding, args.dtype, args.preset, args.lam)
    goal = GOALS[args.preset]
    t0 = time.perf_counter()
    ds = datasets.load("entangled-mnist", seed=args.seed)
    x = ds.x_train.astype(cfg.dtype)
    y = ds.y_train
    t_load = time.perf_counter() - t0
    B = BATCH
    per_epoch, steps, model_rng, rng, batch = epoch_batches(x, y, args, B)
    model = Model(cfg, model_rng)

    print(f"entangled MNIST {len(y)} items ({t_load:.1f} s to load), {args.preset}: L = {cfg.L}, "
          f"lam = {cfg.lam:g}, H = {cfg.H}, T = {cfg.T}, "
          f"double = {cfg.double}, p_update = {cfg.p_update}, encoding {cfg.label_encoding}, "
          f"{cfg.dtype}, batch {B}, {per_epoch} steps per epoch, BLAS threads = "
          f"{args.threads if args.threads > 0 else 'default'}", flush=True)
    warm = Model(cfg.replace(H=32), np.random.default_rng(0))   # imports, BLAS start-up
    train_step(warm, *batch(0), rng=np.random.default_rng(0))

    t_fast, fit = time_steps(lambda k: train_step(model, *batch(k), rng), steps)
    fast_step = t_fast / steps
    fast_epoch = fast_step * per_epoch
    mark = " " if steps == per_epoch else "~"
    print(f"batched : {steps} steps in {t_fast:.2f} s = {1e3 * fast_step:.2f} ms/step -> "
          f"{mark}{fast_epoch:.1f} s/epoch (fit accuracy over these steps {fit / (B * steps):.3f}); "
          f"goal <= {goal:.0f} s: {'yes' if fast_epoch <= goal else 'no'}", flush=True)

    row = {"preset": args.preset, "L": cfg.L, "H": cfg.H, "goal": goal, "steps": steps, "steps_per_epoch": per_epoch, "batched_seconds": t_fast,
           "batched_ms_per_step": 1e3 * fast_step, "batched_seconds_per_epoch": fast_epoch,
           "extrapolated": steps < per_epoch, "threads": args.threads, "encoding": cfg.label_encoding}
    if args.baseline_seconds > 0:
        ref = model.copy()
        n_ref, t_ref = time_reference(lambda k: train_step_reference(ref, *batch(k), rng), steps,
                                      per_epoch, args.baseline_seconds)
        ref_step = t_ref / n_ref
        ratio = ref_step / fast_step
        print(f"per-sample reference: {n_ref} steps in {t_ref:.1f} s = {1e3 * ref_step:.0f} ms/step "
              f"-> ~{ref_step * per_epoch:.0f} s/epoch; batched speed-up {ratio:.0f}x", flush=True)
        row.update(reference_steps=n_ref, reference_ms_per_step=1e3 * ref_step,
                   reference_seconds_per_epoch=ref_step * per_epoch, speedup=ratio)
    if args.eval:
        xt = ds.x_test.astype(cfg.dtype)
        t0 = time.perf_counter()
        logits = predict(model, xt, batch_size=1000)
        t_eval = time.perf_counter() - t0
        acc = float(np.mean(np.argmax(logits, axis=1) == ds.y_test))
        print(f"inference: {len(xt)} test items in {t_eval:.1f} s (test accuracy after {steps} steps "
              f"{acc:.3f}); the 60 000 training items ~{t_eval * len(y) / len(xt):.0f} s", flush=True)
        row.update(eval_test_seconds=t_eval, eval_train_seconds=t_eval * len(y) / len(xt),
                   test_acc=acc)
    if args.out:
        write_csv(args.out, [row], params=vars(args), seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(run(main, prog="benchmarks/learning.py"))
