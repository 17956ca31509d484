"""Train the local learning rule (SPEC 11) or a baseline (SPEC 13) on a dataset (SPEC 12).

    python -m numerics.learning.train [--config PRESET] [--model ours|random-features|reservoir|mlp|
        perceptron] [--dataset entangled-mnist] [--P 100] [--P-eval 100] [--layers 1] [--hidden 200]
        [--J-D 0.5] [--lam 0] [--epochs 2] [--seed 17] [--out DIR] [--resume] [--quiet] ...

Defaults finish in well under a minute (entangled MNIST, the full 60k/10k split, H = 200, 2 epochs, the
clean ``pm1`` label encoding); ``--P`` / ``--P-eval`` take a subset (items per class). ``--config 1layer_largeP`` (and the other presets of
SPEC 11.6, see ``--list-configs``) sets everything a C-BL paper run used (``bl`` encoding, full data);
options given explicitly on the command line override the preset.

Per epoch (SPEC 11.5): the epoch itself (reshuffled, last incomplete batch dropped, progress bar with
the running fit accuracy and unstable fraction), then an evaluation by free relaxation of the training
set (or its first ``--eval-train`` items) and of the test set. ``OUT/epochs.csv`` (+ sidecar) has one
row per epoch: ``epoch, train_acc, test_acc, unstable_frac, seconds`` and the extra columns
``readout_unstable_frac, flip_frac, fit_acc, eval_seconds``. Row 0 evaluates the untrained network
(C-BL evaluates before every epoch; "max" includes it). ``unstable_frac`` is the epoch mean of the
fraction of hidden units the rule updated (s h_free <= theta_eff after the free phase), ``flip_frac``
the fraction with s h_free <= 0 (not at a fixed point of the free dynamics), ``fit_acc`` the fraction
of training samples whose free readout fields at the plasticity state point at the label (the
progress-bar accuracy; label-steered, not a test of generalisation), ``seconds`` the wall-clock time
of the training pass, ``eval_seconds`` that of the evaluation.

``OUT/checkpoint.npz`` (written atomically after every epoch) holds the weights, the epoch, the state of
the training random stream (``bit_generator.state`` as JSON), the run specification and the history;
``--resume`` continues from it and gives bit-identical weights and CSV values (timings aside). The
specification must match (only ``--epochs`` and the evaluation/threads/quiet options may change).
``OUT/summary.json``: final and max accuracies, trainable parameters, the configuration.

Random streams: the dataset uses ``--seed`` through its own streams; the model initialisation, the
training stream (shuffles and update masks) and the per-epoch evaluation streams are children
(1000,), (1001,) and (1002, epoch) of ``SeedSequence(seed)``.

BLAS threads default to 1 (``--threads``): the per-step GEMMs are small, and an oversubscribed
machine makes multi-threaded BLAS tens of times slower; use ``--threads 2`` on an idle machine.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass
from dataclasses import fields as dc_fields
from pathlib import Path

import numpy as np

from toolkit.cli import UsageError, make_parser, nonneg_float, nonneg_int, positive_int, run
from toolkit.progress import progress
from toolkit.results import read_npz, write_csv, write_json, write_npz

from . import datasets
from .baselines import (
    INITS,
    OPTIMIZERS,
    SURROGATES,
    BinarizedMLP,
    MLPConfig,
    Perceptron,
    PerceptronConfig,
    random_features_config,
    reservoir_config,
)
from .model import ENCODINGS, INPUT_LAYERS, THRESHOLDS, Model, ModelConfig, StepStats, count_parameters
from .sparse import SparseConfig, SparseModel

__all__ = [
    "COLUMNS",
    "MODELS",
    "PRESETS",
    "build",
    "evaluate_epoch",
    "fit",
    "load_checkpoint",
    "main",
    "probe_accuracy",
    "save_checkpoint",
]

_CLI = "python -m numerics.learning.train"
MODELS = ("ours", "random-features", "reservoir", "mlp", "perceptron", "sparse")
COLUMNS = ("epoch", "train_acc", "test_acc", "unstable_frac", "seconds", "readout_unstable_frac",
           "flip_frac", "fit_acc", "eval_seconds")
_TIMING = ("seconds", "eval_seconds")
_KEY_INIT, _KEY_TRAIN, _KEY_EVAL, _KEY_PROBE = 1000, 1001, 1002, 1003

# C-BL settings common to every config of SPEC 11.6
_CBL = dict(label_encoding="bl", threshold="bl", input_layers="all", lambda_y=1000.0, lambda_int=1.0,
            lambda_out=1.0, lr_W=0.1, lr_in=0.03, wd_J=0.005, wd_W=0.005, wd_in=0.0, batch=16,
            seed=17)
PRESETS: dict[str, dict] = {
    "1layer_largeP": dict(_CBL, dataset="entangled-mnist", N=100, P=None, P_eval=None, hidden=1600,
                          layers=1, J_D=0.5, T=5, lambda_in=5.0, lambda_back=0.9, theta_h=0.9,
                          theta_out=3.0, lr_J=0.005, p_update=1.0, double=True, epochs=20),
    "E1": dict(_CBL, dataset="entangled-mnist", N=100, P=None, P_eval=None, hidden=1600, layers=1,
               J_D=0.5, T=5, lambda_in=5.0, lambda_back=0.9, theta_h=0.9, theta_out=3.0, lr_J=0.005,
               p_update=1.0, double=False, epochs=200),
    "1layer_mnist": dict(_CBL, dataset="mnist", project="square", binarize=True, P=None, P_eval=None,
                         hidden=1600, layers=1, J_D=0.5, T=7, lambda_in=4.0, lambda_back=0.9,
                         theta_h=0.9, theta_out=3.0, lr_J=0.005, p_update=1.0, double=True,
                         epochs=20),
    "1layer_fmnist": dict(_CBL, dataset="fashion-mnist", project="square", binarize=True, P=None,
                          P_eval=None, hidden=1600, layers=1, J_D=0.5, T=5, lambda_in=3.0,
                          lambda_back=0.7, theta_h=0.9, theta_out=3.0, lr_J=0.005, p_update=1.0,
                          double=True, epochs=20),
    "1layer_smallP": dict(_CBL, dataset="entangled-mnist", N=100, P=600, P_eval=300, hidden=300,
                          layers=1, J_D=0.5, T=7, lambda_in=5.0, lambda_back=0.5, theta_h=0.5,
                          theta_out=3.0, lr_J=0.01, p_update=0.8, double=True, epochs=3),
    "lambda_advantage": dict(_CBL, dataset="entangled-mnist", N=100, P=None, P_eval=None,
                             hidden=1600, layers=2, J_D=0.0, lam=0.0, T=7, lambda_in=5.0,
                             lambda_back=0.9, theta_h=0.9, theta_out=3.0, lr_J=0.005, p_update=0.85,
                             double=True, epochs=30, lambda_skip_back=0.9, lambda_skip_out=1.0),
    "darnax_mnist": dict(model="sparse", dataset="mnist", P=None, P_eval=None, hidden=2000, layers=1,
                         batch=16, epochs=3, seed=17),
}
_PRESET_NOTES = {
    "1layer_largeP": "C-BL entangled MNIST, H = 1600, full 60k/10k, 20 epochs (SPEC 11.6)",
    "E1": "E1 width-scan point: as 1layer_largeP with double dynamics off, 200 epochs (SPEC 14)",
    "1layer_mnist": "C-BL MNIST projected (784 x 784) and binarised, T = 7 (SPEC 11.6)",
    "1layer_fmnist": "C-BL Fashion-MNIST projected and binarised (SPEC 11.6)",
    "1layer_smallP": "C-BL small-P run: entangled MNIST 6k/3k, H = 300, p_update 0.8 (SPEC 11.6)",
    "lambda_advantage": "E3 two-layer chain with skip feedback 0.9 into layer 1 and a learnable "
                        "skip readout (1.0) from it; sweep --J-D / --lam (SPEC 11.6, 14)",
    "darnax_mnist": "darnax's sparse MNIST network (--model sparse: 784-2000-10, W_in 10 % and J 1 % "
                    "dense, synchronous sweeps), raw pixels, 3 epochs",
}

# defaults of the quick run (what --config would otherwise provide)
_RUN_DEFAULTS = dict(model="ours", dataset="entangled-mnist", N=100, P=None, P_eval=None, classes=None,
                     flip_p=0.35, project=None, binarize=False, hidden=200, layers=1, epochs=2,
                     batch=16, seed=17)
# ModelConfig fields settable from the command line: argparse dest -> field
_MODEL_ARGS = {"J_D": "J_D", "lam": "lam", "lambda_int": "lambda_int", "lambda_in": "lambda_in",
               "lambda_back": "lambda_back", "lambda_out": "lambda_out", "lambda_y": "lambda_y",
               "input_layers": "input_layers", "lambda_skip_back": "lambda_skip_back",
               "lambda_skip_out": "lambda_skip_out", "lr_skip": "lr_skip", "wd_skip": "wd_skip",
               "theta_h": "theta_h", "theta_out": "theta_out",
               "threshold": "threshold", "lr_J": "lr_J", "lr_W": "lr_W", "lr_in": "lr_in",
               "wd_J": "wd_J", "wd_W": "wd_W", "wd_in": "wd_in", "T": "T", "T_eval": "T_eval",
               "double": "double", "p_update": "p_update", "label_encoding": "label_encoding",
               "dtype": "dtype", "tie_init": "tie_init", "skip_out_copy": "skip_out_copy",
               "density_in": "density_in", "density_J": "density_J"}
_DYNAMICS_MODELS = ("ours", "random-features", "reservoir")
_MLP_ARGS = {"mlp_beta": "beta", "mlp_surrogate": "surrogate", "mlp_lr": "lr", "mlp_wd": "wd",
             "mlp_mup_base": "mup_base", "mlp_layers": "hidden_layers",
             "mlp_optimizer": "optimizer", "mlp_momentum": "momentum", "mlp_init": "init"}


# ------------------------------------------------------------------------------------ the loop

def _child(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=tuple(key)))


@dataclass
class _Sums:
    n: int = 0
    hidden: float = 0.0
    readout: float = 0.0
    flip: float = 0.0
    fit: int = 0

    def add(self, s: StepStats) -> None:
        self.n += s.n
        self.hidden += s.hidden_unstable
        self.readout += s.readout_unstable
        self.flip += s.flip
        self.fit += s.fit_correct

    def mean(self, v) -> float:
        return float(v / self.n) if self.n else float("nan")


def _accuracy(model, x, y, rng, batch_size) -> float:
    if len(y) == 0:
        return float("nan")
    logits = model.predict(x, rng=rng, batch_size=batch_size)
    return float(np.mean(np.argmax(logits, axis=1) == y))


def evaluate_epoch(model, data, *, seed: int, epoch: int, eval_batch: int = 1000,
                   eval_train: int | None = None) -> tuple[float, float]:
    """(train accuracy, test accuracy) by free relaxation (SPEC 11.5), with the evaluation stream of
    this epoch (so evaluating never touches the training stream). ``eval_train`` limits the
    training-set evaluation to its first items."""
    x_tr, y_tr = data.x_train, data.y_train
    if eval_train is not None:
        x_tr, y_tr = x_tr[:eval_train], y_tr[:eval_train]
    rng = _child(seed, _KEY_EVAL, epoch)
    train_acc = _accuracy(model, x_tr, y_tr, rng, eval_batch)
    test_acc = _accuracy(model, data.x_test, data.y_test, rng, eval_batch)
    return train_acc, test_acc


def probe_accuracy(model, data, *, seed: int, step: int, items: int,
                   eval_batch: int = 1000) -> float:
    """Test accuracy on the first ``items`` test items after ``step`` training steps, with its own
    evaluation stream (child (1003, step) of the seed): the within-epoch learning curve of
    :func:`fit`'s ``probe_every``."""
    rng = _child(seed, _KEY_PROBE, step)
    return _accuracy(model, data.x_test[:items], data.y_test[:items], rng, eval_batch)


def fit(model, data, *, epochs: int, batch: int, rng: np.random.Generator, seed: int,
        history: list[dict] | None = None, eval_batch: int = 1000, eval_train: int | None = None,
        quiet: bool = True, on_epoch=None, probe_every: int | None = None, probe_items: int = 1000,
        probes: list[dict] | None = None) -> list[dict]:
    """Train ``model`` (a :class:`Model` or a baseline) for epochs len(history) .. ``epochs``.

    Each epoch: a permutation of the training set from ``rng``, ``n // batch`` steps (the last
    incomplete batch is dropped, as C-BL), then :func:`evaluate_epoch`. Returns the history, one row
    per epoch (keys :data:`COLUMNS`), row 0 being the evaluation before training; ``on_epoch(row,
    history)`` is called after each row (checkpointing). Resume by passing the stored history and the
    restored ``rng``.

    ``probe_every`` (steps): also measure the test accuracy on the first ``probe_items`` test items
    (:func:`probe_accuracy`) before every step whose global index (counted from the first epoch) is a
    multiple of it, and after the last step; the rows ``dict(step, epoch, test_acc)`` are appended to
    ``probes``. Probes read only their own random streams, so they leave the training untouched.
    """
    if probe_every is not None and (probes is None or probe_every < 1):
        raise ValueError("probe_every needs a positive step count and a probes list")
    history = list(history or [])
    x, y = data.x_train, data.y_train
    n = len(y)
    n_batches = n // batch
    if n_batches == 0:
        raise ValueError(f"batch size {batch} exceeds the {n} training items")

    probe_seconds = [0.0]                     # kept out of the epoch's training time

    def _probe(step, epoch):
        t = time.perf_counter()
        probes.append(dict(step=step, epoch=epoch, test_acc=probe_accuracy(
            model, data, seed=seed, step=step, items=probe_items, eval_batch=eval_batch)))
        probe_seconds[0] += time.perf_counter() - t

    if not history:
        t0 = time.perf_counter()
        tr, te = evaluate_epoch(model, data, seed=seed, epoch=0, eval_batch=eval_batch,
                                eval_train=eval_train)
        row = dict(epoch=0, train_acc=tr, test_acc=te, unstable_frac=float("nan"), seconds=0.0,
                   readout_unstable_frac=float("nan"), flip_frac=float("nan"),
                   fit_acc=float("nan"), eval_seconds=time.perf_counter() - t0)
        history.append(row)
        if on_epoch is not None:
            on_epoch(row, history)
    for epoch in range(len(history), epochs + 1):
        perm = rng.permutation(n)
        sums = _Sums()
        probe_seconds[0] = 0.0
        t0 = time.perf_counter()
        with progress(total=n_batches, desc=f"epoch {epoch}/{epochs}", quiet=quiet) as bar:
            for k in range(n_batches):
                step = (epoch - 1) * n_batches + k
                if probe_every is not None and step % probe_every == 0:
                    _probe(step, epoch)
                idx = perm[k * batch:(k + 1) * batch]
                sums.add(model.train_step(x[idx], y[idx], rng))
                if k % 20 == 19 or k == n_batches - 1:
                    bar.set_postfix(fit_acc=f"{sums.mean(sums.fit):.3f}",
                                    unstable=f"{sums.mean(sums.hidden):.3f}", refresh=False)
                    bar.update(k + 1 - bar.n)
        if probe_every is not None and epoch == epochs:
            _probe(epoch * n_batches, epoch)
        seconds = time.perf_counter() - t0 - probe_seconds[0]
        t1 = time.perf_counter()
        tr, te = evaluate_epoch(model, data, seed=seed, epoch=epoch, eval_batch=eval_batch,
                                eval_train=eval_train)
        row = dict(epoch=epoch, train_acc=tr, test_acc=te, unstable_frac=sums.mean(sums.hidden),
                   seconds=seconds, readout_unstable_frac=sums.mean(sums.readout),
                   flip_frac=sums.mean(sums.flip), fit_acc=sums.mean(sums.fit),
                   eval_seconds=time.perf_counter() - t1)
        history.append(row)
        if on_epoch is not None:
            on_epoch(row, history)
    return history


# ------------------------------------------------------------------------ specs and checkpoints

def build(spec: dict, rng: np.random.Generator | None = None, arrays: dict | None = None):
    """The model of a run specification (``spec["model"]`` and its config dict)."""
    kind = spec["model"]
    if kind in _DYNAMICS_MODELS:
        return Model(ModelConfig.from_dict(spec["config"]), rng, arrays=arrays)
    if kind == "sparse":
        return SparseModel(SparseConfig.from_dict(spec["config"]), rng, arrays=arrays)
    if kind == "mlp":
        return BinarizedMLP(MLPConfig.from_dict(spec["config"]), rng, arrays=arrays)
    if kind == "perceptron":
        return Perceptron(PerceptronConfig.from_dict(spec["config"]), rng, arrays=arrays)
    raise ValueError(f"unknown model {kind!r}; expected one of {', '.join(MODELS)}")


def save_checkpoint(path, model, spec: dict, history: list[dict], rng: np.random.Generator) -> Path:
    """Weights, epoch, training-stream state (JSON), spec and history in one atomic ``.npz``."""
    arrays = {f"model_{k}": v for k, v in model.arrays().items()}
    arrays.update(epoch=np.array(history[-1]["epoch"] if history else 0),
                  rng_state=np.array(json.dumps(rng.bit_generator.state)),
                  spec=np.array(json.dumps(spec, sort_keys=True)),
                  history=np.array(json.dumps(history)))
    return write_npz(path, arrays, params=spec, seed=spec.get("seed"))


def load_checkpoint(path):
    """(model, spec, history, rng) from :func:`save_checkpoint`."""
    z = read_npz(path)
    spec = json.loads(str(z["spec"]))
    history = json.loads(str(z["history"]))
    arrays = {k[len("model_"):]: v for k, v in z.items() if k.startswith("model_")}
    model = build(spec, arrays=arrays)
    state = json.loads(str(z["rng_state"]))
    bitgen = getattr(np.random, state["bit_generator"])()
    bitgen.state = state
    return model, spec, history, np.random.Generator(bitgen)


# ------------------------------------------------------------------------------ command line

def _p_type(text: str):
    if text.strip().lower() in ("all", "full"):
        return "all"
    return positive_int(text)


def _project_type(text: str):
    t = text.strip().lower()
    if t in ("square", "true"):
        return "square"
    if t in ("none", "no", "false", "0"):
        return "none"                     # explicit: overrides a preset's projection
    return positive_int(text)


def _parser():
    p = make_parser(_CLI, "Train the local learning rule of SPEC 11 (or a SPEC 13 baseline) and write "
                          "per-epoch accuracies, unstable fractions and timings.",
                    out="results/learning/run", seed=None)
    p.epilog = ("Presets (--config NAME, the paper's settings; explicit options override them): "
                + "; ".join(f"{k}: {v}" for k, v in _PRESET_NOTES.items()) + ".")
    g = p.add_argument_group("run")
    g.add_argument("--seed", type=nonneg_int, default=None, help="random seed (default 17)")
    g.add_argument("--config", default=None, choices=sorted(PRESETS), metavar="PRESET",
                   help="a preset of SPEC 11.6 (--list-configs); explicit options override it")
    g.add_argument("--list-configs", action="store_true", help="list the presets and exit")
    g.add_argument("--model", default=None, choices=MODELS,
                   help="the rule, a baseline, or the sparse network (default ours)")
    g.add_argument("--epochs", type=positive_int, default=None, help="number of epochs (default 2)")
    g.add_argument("--batch", type=positive_int, default=None, help="batch size B (default 16)")
    g.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz")
    g.add_argument("--eval-batch", type=positive_int, default=1000, help="samples per inference chunk")
    g.add_argument("--eval-train", type=positive_int, default=None,
                   help="evaluate the training accuracy on the first K training items (default all)")
    g.add_argument("--threads", type=int, default=1, help="BLAS threads (0: the BLAS default)")
    d = p.add_argument_group("data (SPEC 12)")
    d.add_argument("--dataset", default=None, help="entangled-mnist (default), mnist, fashion-mnist, "
                                                   "prototypes, random, idx:DIR")
    d.add_argument("--P", type=_p_type, default=None,
                   help="training items per class, or 'all' (default: all, the full training set; "
                        "a preset may set it)")
    d.add_argument("--P-eval", dest="P_eval", type=_p_type, default=None,
                   help="test items per class, or 'all' (default: all)")
    d.add_argument("--N", type=positive_int, default=None,
                   help="input dimension of entangled-mnist / prototypes / random (default 100)")
    d.add_argument("--classes", type=positive_int, default=None,
                   help="classes of the synthetic sets (prototypes 10, random 2)")
    d.add_argument("--flip-p", dest="flip_p", type=nonneg_float, default=None,
                   help="prototypes: bit-flip probability (0.35)")
    d.add_argument("--project", type=_project_type, default=None,
                   help="mnist / fashion-mnist / idx: Gaussian projection ('square' or a dimension)")
    d.add_argument("--binarize", action="store_true", default=None, help="sign of the (projected) input")
    d.add_argument("--no-binarize", dest="binarize", action="store_false", default=None,
                   help="keep the (projected) input real-valued (overrides a preset)")
    m = p.add_argument_group("architecture (SPEC 3.4)")
    m.add_argument("--layers", type=int, default=None, help="hidden layers L (default 1)")
    m.add_argument("--hidden", type=int, default=None, help="hidden width H (default 200)")
    m.add_argument("--J-D", dest="J_D", type=float, default=None, help="self coupling (0.5)")
    m.add_argument("--lam", type=float, default=None, help="one-to-one inter-layer coupling (0)")
    m.add_argument("--lambda-int", dest="lambda_int", type=float, default=None, help="scale of J (1)")
    m.add_argument("--lambda-in", dest="lambda_in", type=float, default=None, help="W_in scale (5)")
    m.add_argument("--lambda-back", dest="lambda_back", type=float, default=None,
                   help="W_back scale (0.9)")
    m.add_argument("--lambda-out", dest="lambda_out", type=float, default=None, help="W_out scale (1)")
    m.add_argument("--lambda-y", dest="lambda_y", type=float, default=None,
                   help="label field, bl encoding (1000)")
    m.add_argument("--lambda-skip-back", dest="lambda_skip_back", type=float, default=None,
                   help="skip feedback from the label into the layers below the top (0: none)")
    m.add_argument("--lambda-skip-out", dest="lambda_skip_out", type=float, default=None,
                   help="learnable skip readouts from the layers below the top (0: none)")
    m.add_argument("--input-layers", dest="input_layers", choices=INPUT_LAYERS, default=None,
                   help="hidden layers fed by the input (first)")
    m.add_argument("--tie-init", dest="tie_init", action="store_true", default=None,
                   help="draw W_out from the W_back Gaussians (older C-BL)")
    m.add_argument("--skip-out-copy", dest="skip_out_copy", action="store_true", default=None,
                   help="the skip readouts start as copies of W_out (the authors' code) instead of "
                        "independent draws")
    m.add_argument("--dtype", choices=("float32", "float64"), default=None, help="float type of the weights (default float32)")
    r = p.add_argument_group("learning rule (SPEC 11)")
    r.add_argument("--lr-J", dest="lr_J", type=float, default=None, help="learning rate of J (default 0.005)")
    r.add_argument("--lr-W", dest="lr_W", type=float, default=None, help="learning rate of W_out (default 0.1)")
    r.add_argument("--lr-in", dest="lr_in", type=float, default=None, help="learning rate of W_in (default 0.03)")
    r.add_argument("--wd-J", dest="wd_J", type=float, default=None, help="weight decay of J (default 0.005)")
    r.add_argument("--wd-W", dest="wd_W", type=float, default=None, help="weight decay of W_out (default 0.005)")
    r.add_argument("--wd-in", dest="wd_in", type=float, default=None, help="weight decay of W_in (default 0)")
    r.add_argument("--lr-skip", dest="lr_skip", type=float, default=None,
                   help="skip readouts' rate (0.1, as lr-W)")
    r.add_argument("--wd-skip", dest="wd_skip", type=float, default=None,
                   help="skip readouts' decay (0.005)")
    r.add_argument("--theta-h", dest="theta_h", type=float, default=None, help="hidden margin theta_h (default 0.9)")
    r.add_argument("--theta-out", dest="theta_out", type=float, default=None, help="readout margin theta_out (default 3.0)")
    r.add_argument("--threshold", choices=THRESHOLDS, default=None,
                   help="bl: theta_h + J_D (+ lam); dx: theta_h on the full field (bl)")
    r.add_argument("--T", type=int, default=None, help="sweeps per phase (5)")
    r.add_argument("--T-eval", dest="T_eval", type=int, default=None, help="inference sweeps (T)")
    r.add_argument("--p-update", dest="p_update", type=float, default=None, help="probability that a unit updates in a sweep (default 1.0)")
    r.add_argument("--double", dest="double", action="store_true", default=None,
                   help="double dynamics: T free sweeps after the clamped phase (default on)")
    r.add_argument("--no-double", dest="double", action="store_false", default=None,
                   help="no free phase after the clamped one")
    r.add_argument("--label-encoding", dest="label_encoding", default=None,
                   help=f"{' | '.join(ENCODINGS)} (pm1)")
    q = p.add_argument_group("sparse network (--model sparse; also uses --hidden, --J-D, --lambda-*, "
                             "--theta-*, --lr-*, --wd-*, --T, --T-eval, --dtype)")
    q.add_argument("--density-in", dest="density_in", type=float, default=None,
                   help="fraction of input couplings kept (0.1)")
    q.add_argument("--density-J", dest="density_J", type=float, default=None,
                   help="fraction of recurrent couplings kept (0.01)")
    b = p.add_argument_group("binarised MLP baseline (--model mlp)")
    b.add_argument("--mlp-beta", type=float, default=None, help="surrogate slope beta (1)")
    b.add_argument("--mlp-surrogate", choices=SURROGATES, default=None,
                   help="straight-through surrogate of sign (default square_tanh)")
    b.add_argument("--mlp-lr", type=float, default=None, help="AdamW learning rate (1e-3)")
    b.add_argument("--mlp-wd", type=float, default=None, help="AdamW weight decay (0.02)")
    b.add_argument("--mlp-mup-base", type=int, default=None, help="muP readout base width (off)")
    b.add_argument("--mlp-layers", type=positive_int, default=None,
                   help="binarised hidden layers (1; 2 = the v2 Fig. 2 '3-layer perceptron')")
    b.add_argument("--mlp-optimizer", choices=OPTIMIZERS, default=None, help="optimiser (default adamw)")
    b.add_argument("--mlp-momentum", type=float, default=None, help="SGD momentum (0.9)")
    b.add_argument("--mlp-init", choices=INITS, default=None, help="initialisation (default uniform)")
    return p


def _resolve(args) -> dict:
    """The run specification: defaults < preset < explicit options."""
    preset = PRESETS[args.config] if args.config else {}
    val = {}
    for key, default in _RUN_DEFAULTS.items():
        given = getattr(args, key, None)
        val[key] = given if given is not None else preset.get(key, default)
        if val[key] == "all":                # --P all / --P-eval all: the full split
            val[key] = None
        elif (key in ("P", "P_eval") and given is None and key not in preset
              and str(val["dataset"]).strip().lower() in ("prototypes", "random")):
            val[key] = 100                       # synthetic sets have no "full" size
    model_kw = {}
    for dest, field in _MODEL_ARGS.items():
        given = getattr(args, dest)
        if given is not None:
            model_kw[field] = given
        elif dest in preset:
            model_kw[field] = preset[dest]
    return {"val": val, "model_kw": model_kw}


def _load_data(val: dict, dtype: str):
    name = val["dataset"]
    key = name.strip().lower()
    opts: dict = {"seed": val["seed"]}
    synthetic = key in ("prototypes", "random")
    if key == "entangled-mnist":
        opts.update(N=val["N"], P=val["P"], P_eval=val["P_eval"])
    elif key in ("mnist", "fashion-mnist", "fmnist") or key.startswith("idx:"):
        project = None if val["project"] == "none" else val["project"]
        opts.update(project=True if project == "square" else project, binarize=bool(val["binarize"]),
                    P=val["P"], P_eval=val["P_eval"])
    elif key == "prototypes":
        opts.update(N=val["N"], C=val["classes"] or 10, P=val["P"], P_eval=val["P_eval"] or 0,
                    p=val["flip_p"])
    elif key == "random":
        opts.update(N=val["N"], C=val["classes"] or 2, P=val["P"])
    if synthetic and val["P"] is None:
        raise UsageError(f"dataset {name}: --P (items per class) is required, 'all' has no meaning")
    ds = datasets.load(name, **opts)
    return ds, opts


def _cast(ds, dtype: str):
    """The dataset with float inputs of the model's dtype (labels untouched)."""
    dt = np.dtype(dtype)
    return type(ds)(ds.name, np.ascontiguousarray(ds.x_train, dtype=dt), ds.y_train,
                    np.ascontiguousarray(ds.x_test, dtype=dt), ds.y_test, ds.n_classes, ds.meta,
                    ds.extras)


_SPARSE_FIELDS = frozenset(f.name for f in dc_fields(SparseConfig)) - {"N", "C", "H"}
_SPARSE_ONLY = ("density_in", "density_J")


def _given(args, dests) -> list[str]:
    return sorted(f"--{d.replace('_', '-')}" for d in dests if getattr(args, d) is not None)


def _sparse_kw(args, model_kw: dict) -> dict:
    """The SparseConfig options of ``model_kw``; an explicit option the sparse network does not have
    is an error (preset values it does not have are dropped)."""
    extra = _given(args, [d for d, f in _MODEL_ARGS.items() if f not in _SPARSE_FIELDS])
    if extra:
        raise UsageError(f"--model sparse has no option {', '.join(extra)}")
    return {k: v for k, v in model_kw.items() if k in _SPARSE_FIELDS}


def _dense_kw(args, model_kw: dict, kind: str) -> dict:
    """``model_kw`` without the sparse network's own options (an error when given explicitly)."""
    given = _given(args, _SPARSE_ONLY)
    if given:
        raise UsageError(f"{', '.join(given)} only apply to --model sparse, not {kind}")
    return {k: v for k, v in model_kw.items() if k not in _SPARSE_ONLY}


def _spec(args, ds, data_opts: dict, resolved: dict) -> dict:
    val, model_kw = resolved["val"], resolved["model_kw"]
    kind = val["model"]
    N, C = ds.n_features, ds.n_classes
    H, L = val["hidden"], val["layers"]
    if kind == "sparse":
        config = SparseConfig(N=N, C=C, H=H, **_sparse_kw(args, model_kw)).to_dict()
    elif kind in _DYNAMICS_MODELS:
        cfg = ModelConfig(N=N, C=C, H=H, L=L, **model_kw)
        if kind == "random-features":
            cfg = random_features_config(cfg)
        elif kind == "reservoir":
            cfg = reservoir_config(cfg)
        config = cfg.to_dict()
    elif kind == "mlp":
        mlp_kw = {f: getattr(args, d) for d, f in _MLP_ARGS.items() if getattr(args, d) is not None}
        if "dtype" in model_kw:
            mlp_kw["dtype"] = model_kw["dtype"]
        config = MLPConfig(N=N, C=C, H=H, **mlp_kw).to_dict()
    else:
        pk = {k: model_kw[k] for k in ("theta_out", "lr_W", "wd_W", "dtype") if k in model_kw}
        config = PerceptronConfig(N=N, C=C, **pk).to_dict()
    if H < 1:
        raise UsageError(f"--hidden must be >= 1, got {H}")
    return {"model": kind, "config": config, "dataset": val["dataset"],
            "data_options": {k: v for k, v in data_opts.items()}, "batch": val["batch"],
            "seed": val["seed"], "preset": args.config}


def _compare(stored: dict, spec: dict) -> list[str]:
    keys = sorted(set(stored) | set(spec))
    diff = []
    for k in keys:
        if k == "preset":
            continue
        a, b = stored.get(k), spec.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            diff += [f"{k}.{kk}" for kk in sorted(set(a) | set(b)) if a.get(kk) != b.get(kk)]
        elif a != b:
            diff.append(k)
    return diff


def _summary(history: list[dict], spec: dict, model) -> dict:
    def col(c):
        return [r[c] for r in history if not (isinstance(r[c], float) and math.isnan(r[c]))]
    tr, te = col("train_acc"), col("test_acc")
    out = {"epochs": history[-1]["epoch"] if history else 0,
           "final_train_acc": tr[-1] if tr else None, "final_test_acc": te[-1] if te else None,
           "max_train_acc": max(tr) if tr else None, "max_test_acc": max(te) if te else None,
           "train_seconds": sum(r["seconds"] for r in history),
           "spec": spec}
    if isinstance(model, Model):
        out["trainable_parameters"] = count_parameters(model.config)
    elif isinstance(model, SparseModel):
        out["trainable_parameters"] = model.parameters
    elif isinstance(model, BinarizedMLP):
        out["trainable_parameters"] = int(model.config.parameters)
    else:
        out["trainable_parameters"] = int(model.W.size)
    return out


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list_configs:
        for name in sorted(PRESETS):
            print(f"{name:<18} {_PRESET_NOTES[name]}")
        return 0
    if args.threads < 0:
        raise UsageError(f"--threads must be >= 0, got {args.threads}")
    if args.label_encoding is not None and args.label_encoding not in ENCODINGS:
        raise UsageError(f"unknown --label-encoding {args.label_encoding!r}; expected one of "
                         f"{', '.join(ENCODINGS)}")
    resolved = _resolve(args)
    val = resolved["val"]
    for name, key in (("--hidden", "hidden"), ("--layers", "layers")):
        if val[key] < 1:
            raise UsageError(f"{name} must be >= 1, got {val[key]}")
    kind = val["model"]
    if kind == "sparse":
        if val["layers"] != 1:
            raise UsageError(f"--model sparse has one hidden layer, got --layers {val['layers']}")
        SparseConfig(N=10 ** 9, C=2, H=val["hidden"], **_sparse_kw(args, resolved["model_kw"]))
    else:
        resolved["model_kw"] = _dense_kw(args, resolved["model_kw"], kind)
    if kind in _DYNAMICS_MODELS:
        # every check of the configuration that does not depend on the data, before the data are
        # looked up (so a bad number is reported as such even when a dataset is missing); N only
        # enters the bound wd_in * eta_in < 1, which a huge placeholder N cannot trip and the real
        # configuration re-checks
        ModelConfig(N=10 ** 9, C=2, H=val["hidden"], L=val["layers"], **resolved["model_kw"])
    dtype = resolved["model_kw"].get("dtype", "float32")
    ds, data_opts = _load_data(val, dtype)
    spec = _spec(args, ds, data_opts, resolved)
    data = _cast(ds, spec["config"].get("dtype", "float32"))
    epochs = val["epochs"]
    out = Path(args.out)
    ckpt = out / "checkpoint.npz"
    seed = spec["seed"]

    history: list[dict] = []
    if args.resume and ckpt.exists():
        model, stored, history, rng = load_checkpoint(ckpt)
        diff = _compare(stored, spec)
        if diff:
            raise UsageError(f"--resume: the run specification differs from {ckpt} in "
                             f"{', '.join(diff)}; use the original options or another --out")
        if not args.quiet:
            print(f"resuming from {ckpt} at epoch {history[-1]['epoch']}", file=sys.stderr)
    else:
        model = build(spec, _child(seed, _KEY_INIT))
        rng = _child(seed, _KEY_TRAIN)

    csv_path = out / "epochs.csv"
    params = {**spec, "epochs": epochs, "eval_train": args.eval_train}

    def on_epoch(row, hist):
        write_csv(csv_path, hist, params=params, seed=seed, columns=list(COLUMNS),
                  dataset_meta=ds.meta)
        save_checkpoint(ckpt, model, spec, hist, rng)
        if not args.quiet:
            print(f"epoch {row['epoch']:>3}  train {row['train_acc']:.4f}  test {row['test_acc']:.4f}"
                  f"  unstable {row['unstable_frac']:.4f}  {row['seconds']:.1f} s "
                  f"(+{row['eval_seconds']:.1f} s eval)", file=sys.stderr)

    from threadpoolctl import threadpool_limits
    limits = None if args.threads == 0 else args.threads
    with threadpool_limits(limits=limits, user_api="blas"):
        history = fit(model, data, epochs=epochs, batch=spec["batch"], rng=rng, seed=seed,
                      history=history, eval_batch=args.eval_batch, eval_train=args.eval_train,
                      quiet=args.quiet, on_epoch=on_epoch)
    summary = _summary(history, spec, model)
    write_json(out / "summary.json", summary)
    if not args.quiet:
        print(f"final test accuracy {summary['final_test_acc']}, max {summary['max_test_acc']}; "
              f"{out}/epochs.csv", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(run(main, prog=_CLI))
