"""The learning experiments of SPEC 14, one command each: tidy CSV + sidecar + PNG.

    python -m numerics.learning.experiments fig3      [--lam GRID] [--J-D GRID] [--full] ...
    python -m numerics.learning.experiments fig2      [--hidden GRID] [--mlp-hidden GRID] [--dataset D]
    python -m numerics.learning.experiments capacity  [--layers GRID] [--hidden H] [--P0 4] ...
    python -m numerics.learning.experiments stability [--J-D GRID] [--epochs E] ...

- ``fig3`` (E3, Fig. 3): accuracy of a two-layer one-to-one chain (L = 2) on entangled MNIST vs λ at
  J_D = 0 (sweep ``vs_lam``; also at every J_D of ``--lam-at-J-D``) and vs J_D at λ = 0 (sweep
  ``vs_J_D``), one scan per input strength ``--lambda-in``; the rule's other settings are the
  ``lambda_advantage`` preset of SPEC 11.6 (``bl`` encoding and thresholds θ_h + J_D + λ, T = 7,
  double dynamics, p_update 0.85, skip feedback 0.9 into layer 1 and a learnable skip readout from
  it). C-RB's symmetric rules are not implemented. A point belonging to several sweeps is trained
  once. Besides ``fig3.csv`` (final accuracies per run) it writes ``fig3_epochs.csv`` (every epoch of
  every run), ``fig3_onsets.csv`` (the learning onsets λ_learn(J_D) and J_learn(λ) of
  :mod:`numerics.learning.onset`) and, with ``--probe-every``, ``fig3_probes.csv`` (test accuracy
  every K training steps: the double-dynamics collapse at J_D = λ = 0 happens within the first
  thousand steps, before the end of the first epoch). The defaults (H = 100, 2000 items per class, 2
  epochs, λ_in = 2) are the smallest measured setting that still shows the collapse and the rise with
  λ; the paper's protocol is ``--full``.
- ``fig2`` (E2, Fig. 2): test accuracy vs trainable parameters, our one-layer model (widths
  ``--hidden``, preset ``1layer_largeP`` / ``1layer_mnist`` / ``1layer_fmnist`` by dataset) and the
  binarised MLP (widths ``--mlp-hidden``, SPEC 13 defaults: square_tanh, AdamW 1e-3, wd 0.02) on the
  same data. Parameters: :func:`numerics.learning.model.count_parameters` (NH + H(H-1) + HC) and
  NH + HC for the MLP (SPEC 13, [O]).
- ``capacity`` (E9, protocol [O], SPEC Q10): random ±1 inputs with balanced random labels (dataset
  ``random``, C = 2 by default), L one-to-one layers (λ = ``--lam``) of equal width H, input into the
  first layer. For each (L, seed) task: train a fresh network on P items per class for at most
  ``--epochs`` epochs, success = training accuracy (free relaxation, SPEC 11.5) exactly 1 after some
  epoch >= 1; P doubles from ``--P0`` until the first failure (or ``--P-max``, then the result is
  flagged ``censored``), then bisection between the last success and the first failure to a bracket of
  one. Capacity = the largest P that succeeded; the CSV also gives P·C and α = P·C / N. Every probe
  draws its own patterns (seeded by the task) and its own initialisation.
- ``stability`` (V16, [A v1]): after each training epoch, the fraction of hidden units at the
  plasticity state (supervision removed, free fields) that are fixed points of the free dynamics
  (``fp_frac`` = 1 − ``flip_frac``, s h_free > 0) and the fraction still below the learning margin
  (``unstable_frac``, s h_free <= θ_eff), epoch means as :func:`numerics.learning.train.fit` reports
  them; one curve per J_D (``--J-D``).

Defaults finish in well under two minutes on two cores (small H, 30–100 items per class, 2–3 epochs,
few grid points, one seed). ``--full`` selects the paper's settings, listed per experiment in ``--help``
(days of CPU at H = 1600 on the full 60k set); explicit options override either.

Every (grid point, seed) is one :func:`toolkit.sweep.run_sweep` task stored under ``OUT/tasks``; a
rerun loads the finished tasks (the task key carries a hash of the task's settings, so changing an
option recomputes instead of reusing). Seeds: replicate r uses dataset seed ``--seed + r`` (the same
data and projection at every grid point of a replicate) and the task's SeedSequence for the
initialisation and the training stream, so results do not depend on ``--workers``. Output:
``OUT/NAME.csv`` (+ ``.meta.json``), ``OUT/NAME.png`` (drawn by :mod:`figures.learning` from the CSV);
``capacity`` also writes ``capacity_probes.csv``. Bad input: one line on stderr, exit status 2.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import json
import sys
from dataclasses import fields as dc_fields
from pathlib import Path

import numpy as np

from toolkit import drawing
from toolkit.cli import (
    ArgumentParser,
    UsageError,
    finite_float,
    grid_type,
    nonneg_int,
    positive_int,
    run,
)
from toolkit.results import write_csv
from toolkit.sweep import Task, add_executor_args, executor_from_args, run_sweep

from . import datasets
from .baselines import MLPConfig
from .model import ModelConfig, count_parameters
from .onset import crossing, onsets
from .train import PRESETS, build, fit

__all__ = [
    "DEFAULTS",
    "EXPERIMENTS",
    "FULL",
    "capacity_from_scan",
    "capacity_point_task",
    "capacity_search",
    "capacity_task",
    "main",
    "run_experiment",
    "train_task",
]

_CLI = "python -m numerics.learning.experiments"
EXPERIMENTS = ("fig3", "fig2", "capacity", "stability")
_DEFAULT_OUT = "results/learning"
_MODEL_FIELDS = {f.name for f in dc_fields(ModelConfig)} - {"N", "C", "H", "L"}
_PRESET_BY_DATASET = {"entangled-mnist": "1layer_largeP", "mnist": "1layer_mnist",
                      "fashion-mnist": "1layer_fmnist", "fmnist": "1layer_fmnist"}

# Quick defaults (each well under two minutes on two cores) and the paper's settings (--full).
DEFAULTS: dict[str, dict] = {
    "fig3": dict(dataset="entangled-mnist", N=100, classes=None, P=2000, P_eval=200, hidden=100,
                 epochs=2, batch=16, seeds=1, lam=[0.0, 1.0, 2.0, 3.0, 5.0], J_D=[0.0, 0.5, 1.0],
                 lam_at_J_D=[], lambda_in=[2.0], eval_train=None, probe_every=None,
                 probe_items=1000),
    "fig2": dict(dataset="entangled-mnist", N=100, classes=None, P=200, P_eval=100,
                 hidden=[25, 100, 400], mlp_layers=2, input="raw", epochs=3, mlp_epochs=3,
                 batch=16, seeds=1, validation=None, tune_epochs=2, tune_hidden=None,
                 tune_lambda_in=[0.5, 1.0, 2.0], tune_theta_h=[0.5, 0.9],
                 tune_mlp_lr=[0.002, 0.005, 0.02]),
    "capacity": dict(dataset="random", N=50, classes=2, hidden=50, layers=[1, 2, 3], lam=1.0,
                     J_D=0.5, T=7, epochs=200, batch=8, seeds=2, P0=4, P_max=512, P_grid=None,
                     input_layers=None, skip_readouts=False),
    "stability": dict(dataset="entangled-mnist", N=100, classes=None, P=100, P_eval=100, hidden=400,
                      epochs=6, batch=16, seeds=1, J_D=[0.0, 0.5]),
}
FULL: dict[str, dict] = {
    "fig3": dict(P=None, P_eval=None, hidden=1600, epochs=30, seeds=3,
                 lam=list(np.round(np.linspace(0, 5, 11), 10)),
                 J_D=list(np.round(np.linspace(0, 1, 11), 10)), lambda_in=[2.0, 5.0],
                 eval_train=10000),
    "fig2": dict(P=None, P_eval=None, hidden=[100, 200, 400, 800], epochs=20, mlp_epochs=20,
                 seeds=5, validation=10000, tune_epochs=5,
                 tune_mlp_lr=[0.001, 0.002, 0.005, 0.01, 0.02]),
    "capacity": dict(N=100, hidden=100, layers=[1, 2, 3, 4], epochs=500, seeds=5, P_max=4096),
    "stability": dict(P=None, P_eval=None, hidden=1600, epochs=20, seeds=3, J_D=[0.0, 0.5]),
}
_FULL_TEXT = {
    "fig3": "E3: H 1600, full 60k/10k, 30 epochs, 3 seeds, lam 0:5:11, J-D 0:1:11, lambda-in 2,5, "
            "eval-train 10000",
    "fig2": "E2: full 60k/10k, ours H 100..800 (one layer), the matched 3-layer binarised MLP, "
            "20 epochs each, tuned on a 10k validation split, 5 seeds",
    "capacity": "E9: N 100, H 100, L 1..4, 500 epochs, 5 seeds, P-max 4096",
    "stability": "H 1600, full 60k/10k, 20 epochs (1layer_largeP), J-D 0,0.5, 3 seeds",
}


# ------------------------------------------------------------------------------- the task functions

def _child(ss: np.random.SeedSequence, *key: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(ss.entropy, spawn_key=tuple(ss.spawn_key) + tuple(key))


def _load(dataset: str, data_opts: dict, dtype: str):
    ds = datasets.load(dataset, **data_opts)
    dt = np.dtype(dtype)
    return type(ds)(ds.name, np.ascontiguousarray(ds.x_train, dtype=dt), ds.y_train,
                    np.ascontiguousarray(ds.x_test, dtype=dt), ds.y_test, ds.n_classes, ds.meta,
                    ds.extras)


def _n_params(spec: dict) -> int:
    if spec["model"] == "mlp":
        return MLPConfig.from_dict(spec["config"]).parameters
    return count_parameters(ModelConfig.from_dict(spec["config"]))


def train_task(seed: np.random.SeedSequence, *, spec: dict, dataset: str, data_opts: dict,
               epochs: int, batch: int, eval_train: int | None = None,
               probe_every: int | None = None, probe_items: int = 1000,
               validation: int | None = None) -> dict:
    """One training run (a :func:`toolkit.sweep.run_sweep` function): build ``spec`` (as
    :func:`numerics.learning.train.build`), initialise with child (0,) of ``seed``, train with child
    (1,) for ``epochs`` epochs; return the per-epoch history as arrays (row 0 = before training), the
    number of trainable parameters and the number of test items. ``eval_train`` limits the per-epoch
    training-set evaluation to its first items; ``probe_every`` adds the within-training learning
    curve (``probe_step``, ``probe_epoch``, ``probe_test_acc``; :func:`numerics.learning.train.fit`).
    ``validation``: train on all but the last K training items and evaluate on those K instead of
    the test set (:meth:`numerics.learning.datasets.Dataset.validation_split`)."""
    data = _load(dataset, data_opts, spec["config"].get("dtype", "float32"))
    if validation:
        data = data.validation_split(validation)
    model = build(spec, np.random.default_rng(_child(seed, 0)))
    eval_seed = int(_child(seed, 2).generate_state(1)[0])
    probes: list[dict] = []
    hist = fit(model, data, epochs=epochs, batch=min(batch, len(data.y_train)),
               rng=np.random.default_rng(_child(seed, 1)), seed=eval_seed, eval_train=eval_train,
               probe_every=probe_every, probe_items=probe_items, probes=probes)
    out = {k: np.array([r[k] for r in hist], dtype=float) for k in hist[0]}
    out["params"] = _n_params(spec)
    out["n_test"] = len(data.y_test)
    if probe_every is not None:
        for k in ("step", "epoch", "test_acc"):
            out[f"probe_{k}"] = np.array([r[k] for r in probes], dtype=float)
    return out


def _probe(seed, P: int, *, config: dict, N: int, C: int, epochs: int, batch: int) -> tuple[bool, int, float]:
    """Train a fresh network on P random associations per class: (success, epochs used, best acc)."""
    ss = _child(seed, P)
    data_seed = int(_child(ss, 0).generate_state(1)[0])
    data = _load("random", dict(N=N, C=C, P=P, seed=data_seed), config.get("dtype", "float32"))
    spec = {"model": "ours", "config": config}
    model = build(spec, np.random.default_rng(_child(ss, 1)))
    rng = np.random.default_rng(_child(ss, 2))
    eval_seed = int(_child(ss, 3).generate_state(1)[0])
    hist, best = [], 0.0
    b = min(batch, P * C)
    for e in range(1, epochs + 1):      # fit continues an existing history: stop at the first 1.0
        hist = fit(model, data, epochs=e, batch=b, rng=rng, seed=eval_seed, history=hist)
        acc = hist[-1]["train_acc"]
        best = max(best, acc)
        if acc == 1.0:
            return True, e, 1.0
    return False, epochs, best


def capacity_search(probe, P0: int, P_max: int) -> tuple[int, bool, list[tuple[int, bool]]]:
    """Largest P with ``probe(P)`` true: doubling from P0 to the first failure, then bisection.

    Returns (capacity, censored, probes in order). ``censored``: P_max itself succeeded, the
    capacity is only a lower bound. Capacity 0 when P0 fails and P0 = 1; when P0 > 1 fails the
    bisection continues below it. Assumes (does not check) that success is monotone in P.
    """
    if P0 < 1 or P_max < P0:
        raise ValueError(f"need 1 <= P0 <= P_max, got P0 = {P0}, P_max = {P_max}")
    probes: list[tuple[int, bool]] = []

    def test(P):
        ok = bool(probe(P))
        probes.append((P, ok))
        return ok

    lo, hi, P = 0, None, P0
    while True:
        if test(P):
            lo = P
            if P == P_max:
                return lo, True, probes
            P = min(2 * P, P_max)
        else:
            hi = P
            break
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if test(mid):
            lo = mid
        else:
            hi = mid
    return lo, False, probes


def capacity_task(seed: np.random.SeedSequence, *, config: dict, N: int, C: int, epochs: int,
                  batch: int, P0: int, P_max: int) -> dict:
    """Capacity of one network configuration (a run_sweep function): see :func:`capacity_search`."""
    info = {}

    def probe(P):
        ok, used, best = _probe(seed, P, config=config, N=N, C=C, epochs=epochs, batch=batch)
        info[P] = (used, best)
        return ok

    cap, censored, probes = capacity_search(probe, P0, P_max)
    return {"capacity": cap, "censored": censored,
            "probe_P": np.array([p for p, _ in probes], dtype=int),
            "probe_success": np.array([ok for _, ok in probes], dtype=bool),
            "probe_epochs": np.array([info[p][0] for p, _ in probes], dtype=int),
            "probe_best_acc": np.array([info[p][1] for p, _ in probes], dtype=float)}


# ----------------------------------------------------------------------------------- the experiments

def _fmt(x) -> str:
    return f"{float(x):g}"


def _key(label: str, params: dict) -> str:
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()
    return f"{label}_{digest[:10]}"


def _data_opts(o: dict, rep: int) -> dict:
    name = o["dataset"].strip().lower()
    opts: dict = {"seed": o["seed"] + rep}
    if name == "entangled-mnist":
        opts.update(N=o["N"], P=o["P"], P_eval=o["P_eval"])
    elif name in ("mnist", "fashion-mnist", "fmnist") or name.startswith("idx:"):
        projected = o.get("input", "projected") == "projected"
        opts.update(project=projected, binarize=projected, P=o["P"], P_eval=o["P_eval"])
    elif name == "prototypes":
        opts.update(N=o["N"], C=o["classes"] or 10, P=o["P"], P_eval=o["P_eval"] or 0)
    elif name == "random":
        raise UsageError("dataset random has no test set; use it with the capacity experiment")
    else:
        raise UsageError(f"unknown dataset {o['dataset']!r}; expected entangled-mnist, mnist, "
                         "fashion-mnist, prototypes or idx:DIR")
    if name in ("prototypes",) and o["P"] is None:
        raise UsageError("dataset prototypes: --P (items per class) is required")
    return opts


def _shape(o: dict, rep: int = 0) -> tuple[int, int, dict]:
    """(N, C, data options) of the experiment's dataset, from its metadata (loads it once)."""
    opts = _data_opts(o, rep)
    ds = datasets.load(o["dataset"], **opts)
    return ds.n_features, ds.n_classes, opts


def _preset_kw(name: str) -> dict:
    return {k: v for k, v in PRESETS[name].items() if k in _MODEL_FIELDS}


def _ours_config(N, C, H, L, kw) -> dict:
    return ModelConfig(N=N, C=C, H=int(H), L=L, **kw).to_dict()   # ValueError: one line, exit 2


def _last(res, col):
    return float(np.asarray(res[col])[-1])


def _nanmax(res, col):
    v = np.asarray(res[col], dtype=float)
    return float(np.nanmax(v)) if np.isfinite(v).any() else float("nan")


def fig3_points(o: dict) -> dict[tuple[float, float], list[str]]:
    """The (J_D, λ) points of a ``fig3`` scan and the sweeps each belongs to: ``vs_lam`` (the λ grid
    at J_D = 0 and at every J_D of ``lam_at_J_D``) and ``vs_J_D`` (the J_D grid at λ = 0)."""
    points: dict[tuple[float, float], list[str]] = {}
    for jd in [0.0, *(float(v) for v in o.get("lam_at_J_D") or [])]:
        for lam in o["lam"]:
            sweeps = points.setdefault((jd, float(lam)), [])
            if "vs_lam" not in sweeps:
                sweeps.append("vs_lam")
    for jd in o["J_D"]:
        points.setdefault((float(jd), 0.0), []).append("vs_J_D")
    return points


def _run_fig3(o, executor, out: Path):
    kw = _preset_kw("lambda_advantage")
    lambda_ins = o["lambda_in"] if o["lambda_in"] is not None else [kw["lambda_in"]]
    points = fig3_points(o)
    tasks, meta = [], []
    for rep in range(o["seeds"]):
        N, C, opts = _shape(o, rep)
        for lin in lambda_ins:
            for (jd, lam), sweeps in points.items():
                cfg = _ours_config(N, C, o["hidden"], 2,
                                   {**kw, "J_D": jd, "lam": lam, "lambda_in": float(lin)})
                params = dict(spec={"model": "ours", "config": cfg}, dataset=o["dataset"],
                              data_opts=opts, epochs=o["epochs"], batch=o["batch"],
                              eval_train=o["eval_train"], probe_every=o["probe_every"],
                              probe_items=o["probe_items"])
                key = _key(f"lin={_fmt(lin)}_JD={_fmt(jd)}_lam={_fmt(lam)}_r{rep}", params)
                tasks.append(Task(key, params))
                meta.append((key, float(lin), jd, lam, rep, sweeps, C))
    res = run_sweep(train_task, tasks, out, seed=o["seed"], executor=executor, quiet=o["quiet"],
                    desc="fig3")
    rows, epochs, probes = [], [], []
    for key, lin, jd, lam, rep, sweeps, C in meta:
        r = res[key]
        common = dict(J_D=jd, lam=lam, lambda_in=lin, seed=rep)
        for sweep in sweeps:
            rows.append(dict(sweep=sweep, **common, L=2, H=o["hidden"], epochs=o["epochs"],
                             classes=C, final_train_acc=_last(r, "train_acc"),
                             final_test_acc=_last(r, "test_acc"), max_test_acc=_nanmax(r, "test_acc"),
                             final_fit_acc=_last(r, "fit_acc"),
                             final_unstable_frac=_last(r, "unstable_frac"),
                             n_test=int(r["n_test"]) if "n_test" in r else None,
                             probe_items=(min(o["probe_items"], int(r["n_test"]))
                                          if "probe_step" in r else None),
                             params=int(r["params"]), train_seconds=float(np.sum(r["seconds"]))))
        for i, ep in enumerate(r["epoch"]):
            epochs.append(dict(**common, epoch=int(ep), train_acc=float(r["train_acc"][i]),
                               test_acc=float(r["test_acc"][i]), fit_acc=float(r["fit_acc"][i]),
                               unstable_frac=float(r["unstable_frac"][i]),
                               flip_frac=float(r["flip_frac"][i]), seconds=float(r["seconds"][i])))
        for i, step in enumerate(r.get("probe_step", [])):
            probes.append(dict(**common, step=int(step), epoch=int(r["probe_epoch"][i]),
                               test_acc=float(r["probe_test_acc"][i])))
    record = _record(o)
    write_csv(out / "fig3_epochs.csv", epochs, params=record, seed=o["seed"])
    if probes:
        write_csv(out / "fig3_probes.csv", probes, params=record, seed=o["seed"])
    C = meta[0][-1] if meta else 10
    write_csv(out / "fig3_onsets.csv", onsets(rows, classes=C), params=record, seed=o["seed"],
              columns=list(_ONSET_COLUMNS))
    return rows


_ONSET_COLUMNS = ("lambda_in", "along", "J_D", "lam", "value", "se", "lo", "hi", "level", "status",
                  "points", "seeds")


def mlp_width(params: int, N: int, C: int, hidden_layers: int) -> int:
    """The width h of a binarised MLP N -> h (-> h ...) -> C with (about) ``params`` weights:
    (hidden_layers - 1) h^2 + (N + C) h = params, rounded (at least 1)."""
    a, b = hidden_layers - 1, N + C
    h = params / b if a == 0 else (-b + math.sqrt(b * b + 4 * a * params)) / (2 * a)
    return max(1, int(round(h)))


def _fig2_configs(o, N, C, kind: str) -> list[dict]:
    """The tuning grid of one model: ours = the dataset's preset with λ_in scaled by
    ``tune_lambda_in`` and θ_h from ``tune_theta_h``; the MLP = SGD (momentum 0.9, Xavier, no decay)
    at each learning rate of ``tune_mlp_lr``. Each entry: the config's keyword overrides."""
    if kind == "ours":
        base = _preset_kw(_PRESET_BY_DATASET.get(o["dataset"].strip().lower(), "1layer_largeP"))
        return [dict(base, lambda_in=base["lambda_in"] * float(f), theta_h=float(t))
                for f in o["tune_lambda_in"] for t in o["tune_theta_h"]]
    return [dict(hidden_layers=o["mlp_layers"], optimizer="sgd", momentum=0.9, wd=0.0,
                 init="xavier", lr=float(lr)) for lr in o["tune_mlp_lr"]]


def _fig2_spec(kind, N, C, H, kw) -> dict:
    cfg = _ours_config(N, C, H, 1, kw) if kind == "ours" else MLPConfig(N=N, C=C, H=H, **kw).to_dict()
    return {"model": kind, "config": cfg}


def _run_fig2(o, executor, out: Path):
    N, C, opts0 = _shape(o, 0)
    widths = [int(H) for H in o["hidden"]]
    ours_params = {H: count_parameters(ModelConfig(N=N, C=C, H=H)) for H in widths}
    matched = {H: mlp_width(P, N, C, o["mlp_layers"]) for H, P in ours_params.items()}
    chosen = {}
    tune_rows = []
    if o["validation"]:
        # stage 1: each model's settings from a grid on a validation split of the training set
        H_t = int(o["tune_hidden"] or widths[len(widths) // 2])
        width = {"ours": H_t, "mlp": mlp_width(count_parameters(ModelConfig(N=N, C=C, H=H_t)), N, C,
                                                o["mlp_layers"])}
        tasks, meta = [], []
        for kind in ("ours", "mlp"):
            for i, kw in enumerate(_fig2_configs(o, N, C, kind)):
                params = dict(spec=_fig2_spec(kind, N, C, width[kind], kw), dataset=o["dataset"],
                              data_opts=opts0, epochs=o["tune_epochs"], batch=o["batch"],
                              validation=o["validation"])
                key = _key(f"tune_{kind}_{i}", params)
                tasks.append(Task(key, params))
                meta.append((key, kind, kw))
        res = run_sweep(train_task, tasks, out, seed=o["seed"], executor=executor,
                        quiet=o["quiet"], desc="fig2 tuning")
        for key, kind, kw in meta:
            acc = _last(res[key], "test_acc")
            tune_rows.append(dict(model=kind, H=width[kind], settings=json.dumps(kw, sort_keys=True),
                                  validation_acc=acc))
            if kind not in chosen or acc > chosen[kind][1]:
                chosen[kind] = (kw, acc)
        write_csv(out / "fig2_tuning.csv", tune_rows, params=_record(o), seed=o["seed"])
    else:
        chosen = {kind: (_fig2_configs(o, N, C, kind)[0] if kind == "mlp" else
                         _preset_kw(_PRESET_BY_DATASET.get(o["dataset"].strip().lower(),
                                                           "1layer_largeP")), float("nan"))
                  for kind in ("ours", "mlp")}
    # stage 2: the width scan with the chosen settings, on the test set, every seed
    tasks, meta = [], []
    for rep in range(o["seeds"]):
        _, _, opts = _shape(o, rep)
        for H in widths:
            for kind, h, epochs in (("ours", H, o["epochs"]), ("mlp", matched[H], o["mlp_epochs"])):
                params = dict(spec=_fig2_spec(kind, N, C, h, chosen[kind][0]), dataset=o["dataset"],
                              data_opts=opts, epochs=epochs, batch=o["batch"])
                key = _key(f"{kind}_H={h}_r{rep}", params)
                tasks.append(Task(key, params))
                meta.append((key, kind, h, H, rep, epochs))
    res = run_sweep(train_task, tasks, out, seed=o["seed"], executor=executor, quiet=o["quiet"],
                    desc="fig2")
    rows = []
    for key, kind, h, H, rep, epochs in meta:
        r = res[key]
        rows.append(dict(dataset=o["dataset"], input=o.get("input", ""), model=kind, H=h,
                         matched_to_H=H, seed=rep, params=int(r["params"]), epochs=epochs,
                         final_train_acc=_last(r, "train_acc"), final_test_acc=_last(r, "test_acc"),
                         max_test_acc=_nanmax(r, "test_acc"),
                         validation_acc=chosen[kind][1],
                         settings=json.dumps(chosen[kind][0], sort_keys=True),
                         train_seconds=float(np.sum(r["seconds"]))))
    return rows


def capacity_point_task(seed: np.random.SeedSequence, *, config: dict, N: int, C: int, epochs: int,
                        batch: int, P: int) -> dict:
    """One point of a capacity scan (a run_sweep function): a fresh network on P random
    associations per class, trained until the training accuracy is 1 or ``epochs`` have passed."""
    ok, used, best = _probe(seed, P, config=config, N=N, C=C, epochs=epochs, batch=batch)
    return {"success": ok, "epochs_used": used, "best_train_acc": best}


def capacity_from_scan(rows: list[dict]) -> list[dict]:
    """Per depth L of a capacity scan: the success fraction over seeds at every P, and the capacity
    P_c where it falls through 1/2 (linear interpolation, :func:`numerics.learning.onset.crossing`
    applied to the failure fraction, whose s.e. is binomial over seeds); the bracket is the pair of
    grid values around the crossing."""
    out = []
    for L in sorted({r["L"] for r in rows}):
        Ps = sorted({r["P"] for r in rows if r["L"] == L})
        frac = [np.mean([r["success"] for r in rows if r["L"] == L and r["P"] == P]) for P in Ps]
        n = [sum(1 for r in rows if r["L"] == L and r["P"] == P) for P in Ps]
        fail = [1.0 - f for f in frac]
        se = [math.sqrt(max(f * (1 - f), 1.0 / (4 * k)) / k) for f, k in zip(fail, n)]
        o = crossing(Ps, fail, se, 0.5)
        for P, f, k in zip(Ps, frac, n):
            out.append(dict(L=L, P=P, seeds=k, success_fraction=float(f),
                            capacity=o.value, capacity_se=o.se, capacity_lo=o.lo,
                            capacity_hi=o.hi, capacity_status=o.status))
    return out


def _capacity_config(o, N, C, L) -> dict:
    kw = dict(J_D=o["J_D"], lam=o["lam"] if L > 1 else 0.0, T=o["T"],
              input_layers=o.get("input_layers") or "first")
    if o.get("lambda_in") is not None:
        kw["lambda_in"] = o["lambda_in"]
    if o.get("skip_readouts") and L > 1:           # the readout sees every layer, not the top only
        kw["lambda_skip_out"] = 1.0
    return _ours_config(N, C, o["hidden"], L, kw)


def _run_capacity_scan(o, executor, out: Path):
    N, C = o["N"], o["classes"] or 2
    tasks, meta = [], []
    for rep in range(o["seeds"]):
        for L in o["layers"]:
            cfg = _capacity_config(o, N, C, int(L))
            for P in o["P_grid"]:
                params = dict(config=cfg, N=N, C=C, epochs=o["epochs"], batch=o["batch"], P=int(P))
                key = _key(f"scan_L={int(L)}_P={int(P)}_r{rep}", params)
                tasks.append(Task(key, params))
                meta.append((key, int(L), int(P), rep, cfg))
    res = run_sweep(capacity_point_task, tasks, out, seed=o["seed"], executor=executor,
                    quiet=o["quiet"], desc="capacity scan")
    rows = [dict(L=L, H=o["hidden"], N=N, C=C, lam=cfg["lam"], J_D=cfg["J_D"],
                 input_layers=cfg["input_layers"], skip_readouts=int(bool(cfg.get("lambda_skip_out"))),
                 P=P, alpha=P * C / N, seed=rep,
                 success=int(bool(res[key]["success"])),
                 best_train_acc=float(res[key]["best_train_acc"]),
                 epochs_used=int(res[key]["epochs_used"]),
                 params=count_parameters(ModelConfig.from_dict(cfg)))
            for key, L, P, rep, cfg in meta]
    write_csv(out / "capacity_scan.csv", rows, params=_record(o), seed=o["seed"])
    return capacity_from_scan(rows)


def _run_capacity(o, executor, out: Path):
    if o["dataset"] != "random":
        raise UsageError("capacity uses the dataset random (random associations)")
    if o.get("P_grid") is not None:
        return _run_capacity_scan(o, executor, out)
    if o["P0"] > o["P_max"]:
        raise UsageError(f"--P0 ({o['P0']}) must not exceed --P-max ({o['P_max']})")
    N, C = o["N"], o["classes"] or 2
    tasks, meta = [], []
    for rep in range(o["seeds"]):
        for L in o["layers"]:
            L = int(L)
            cfg = _capacity_config(o, N, C, L)
            params = dict(config=cfg, N=N, C=C, epochs=o["epochs"], batch=o["batch"], P0=o["P0"],
                          P_max=o["P_max"])
            key = _key(f"L={L}_r{rep}", params)
            tasks.append(Task(key, params))
            meta.append((key, L, rep, cfg))
    res = run_sweep(capacity_task, tasks, out, seed=o["seed"], executor=executor, quiet=o["quiet"],
                    desc="capacity")
    rows, probes = [], []
    for key, L, rep, cfg in meta:
        r = res[key]
        cap = int(r["capacity"])
        rows.append(dict(L=L, H=o["hidden"], N=N, C=C, lam=cfg["lam"], J_D=cfg["J_D"], seed=rep,
                         capacity=cap, capacity_total=cap * C, alpha=cap * C / N,
                         censored=bool(r["censored"]), probes=len(r["probe_P"]),
                         params=count_parameters(ModelConfig.from_dict(cfg))))
        for i, P in enumerate(r["probe_P"]):
            probes.append(dict(L=L, seed=rep, order=i, P=int(P), success=bool(r["probe_success"][i]),
                               epochs_used=int(r["probe_epochs"][i]),
                               best_train_acc=float(r["probe_best_acc"][i])))
    write_csv(out / "capacity_probes.csv", probes, params=_record(o), seed=o["seed"])
    return rows


def _run_stability(o, executor, out: Path):
    preset = _PRESET_BY_DATASET.get(o["dataset"].strip().lower(), "1layer_largeP")
    kw = _preset_kw(preset)
    tasks, meta = [], []
    for rep in range(o["seeds"]):
        N, C, opts = _shape(o, rep)
        for jd in o["J_D"]:
            cfg = _ours_config(N, C, o["hidden"], 1, {**kw, "J_D": float(jd)})
            params = dict(spec={"model": "ours", "config": cfg}, dataset=o["dataset"],
                          data_opts=opts, epochs=o["epochs"], batch=o["batch"])
            key = _key(f"JD={_fmt(jd)}_r{rep}", params)
            tasks.append(Task(key, params))
            meta.append((key, float(jd), rep))
    res = run_sweep(train_task, tasks, out, seed=o["seed"], executor=executor, quiet=o["quiet"],
                    desc="stability")
    rows = []
    for key, jd, rep in meta:
        r = res[key]
        for i, ep in enumerate(r["epoch"]):
            if ep == 0:
                continue                                  # no training pass, nothing measured
            rows.append(dict(J_D=jd, seed=rep, H=o["hidden"], epoch=int(ep),
                             unstable_frac=float(r["unstable_frac"][i]),
                             flip_frac=float(r["flip_frac"][i]),
                             fp_frac=1.0 - float(r["flip_frac"][i]),
                             readout_unstable_frac=float(r["readout_unstable_frac"][i]),
                             fit_acc=float(r["fit_acc"][i]), train_acc=float(r["train_acc"][i]),
                             test_acc=float(r["test_acc"][i])))
    return rows


_RUNNERS = {"fig3": _run_fig3, "fig2": _run_fig2, "capacity": _run_capacity,
            "stability": _run_stability}


def _record(o: dict) -> dict:
    return {k: v for k, v in o.items() if k not in ("quiet", "out")}


def run_experiment(name: str, options: dict | None = None, *, out=None, executor=None,
                   quiet: bool = True, full: bool = False, seed: int = 17) -> Path:
    """Run experiment ``name`` with ``options`` over its defaults (``full``: the paper's settings);
    write ``OUT/NAME.csv`` (+ sidecar) and ``OUT/NAME.png``; return the CSV path."""
    if name not in EXPERIMENTS:
        raise UsageError(f"unknown experiment {name!r}; expected one of {', '.join(EXPERIMENTS)}")
    o = dict(DEFAULTS[name])
    if full:
        o.update(FULL[name])
    o.update({k: v for k, v in (options or {}).items() if v is not None})
    o.update(seed=seed, quiet=quiet, full=full)
    for k in ("P", "P_eval"):
        if o.get(k) == "all":                     # --P all: the full split
            o[k] = None
    for k in ("lam", "J_D", "hidden", "mlp_hidden", "layers", "lam_at_J_D", "lambda_in",
              "tune_lambda_in", "tune_theta_h", "tune_mlp_lr", "P_grid"):
        if isinstance(o.get(k), np.ndarray):
            o[k] = [float(v) for v in o[k]]
    _check(name, o)
    out = Path(out or f"{_DEFAULT_OUT}/{name}")
    rows = _RUNNERS[name](o, executor, out)
    csv_path = write_csv(out / f"{name}.csv", rows, params=_record(o), seed=seed, experiment=name)
    drawing.draw("learning", name, csv_path, out / f"{name}.png")
    return csv_path


def _check(name: str, o: dict) -> None:
    def positive(key, label):
        vals = o[key] if isinstance(o[key], list) else [o[key]]
        for v in vals:
            if v is None:
                continue
            if float(v) != int(v) or int(v) < 1:
                raise UsageError(f"{label} must be positive integers, got {v!r}")
    for key, label in (("hidden", "--hidden"),
                       ("layers", "--layers"), ("epochs", "--epochs"), ("seeds", "--seeds"),
                       ("batch", "--batch"), ("P", "--P"), ("P_eval", "--P-eval"), ("N", "--N")):
        if key in o:
            positive(key, label)
    if name == "stability" and o["epochs"] < 1:
        raise UsageError("--epochs must be >= 1")


# ------------------------------------------------------------------------------------ command line

def _p_type(text: str):
    if text.strip().lower() in ("all", "full"):
        return "all"
    return positive_int(text)


def _parser() -> ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    p = ArgumentParser(prog=_CLI, description=__doc__.split("\n\n")[0], formatter_class=fmt)
    sub = p.add_subparsers(dest="name", metavar="NAME", required=True,
                           help=" | ".join(EXPERIMENTS))
    helps = {"fig3": "accuracy of a two-layer chain vs lambda (J_D = 0) and vs J_D (lambda = 0)",
             "fig2": "test accuracy vs trainable parameters: ours and the binarised MLP",
             "capacity": "hetero-association capacity vs depth L at equal width",
             "stability": "fraction of units at fixed points of the free dynamics vs epoch"}
    for name in EXPERIMENTS:
        d = DEFAULTS[name]
        s = sub.add_parser(name, help=helps[name], description=f"{helps[name]}. --full: "
                           f"{_FULL_TEXT[name]}. Defaults: {d}", formatter_class=fmt)
        s.add_argument("--out", default=None, help=f"output directory ({_DEFAULT_OUT}/{name})")
        s.add_argument("--seed", type=nonneg_int, default=17, help="root seed (17)")
        s.add_argument("--quiet", action="store_true", help="no progress bars or chatter")
        s.add_argument("--full", action="store_true", help=f"paper settings: {_FULL_TEXT[name]}")
        s.add_argument("--seeds", type=positive_int, default=None, help="replicates")
        s.add_argument("--epochs", type=positive_int, default=None, help="training epochs")
        s.add_argument("--batch", type=positive_int, default=None, help="batch size")
        s.add_argument("--N", type=positive_int, default=None, help="input dimension (synthetic / "
                       "entangled-mnist)")
        s.add_argument("--classes", type=positive_int, default=None, help="classes of synthetic sets")
        if name != "capacity":
            s.add_argument("--dataset", default=None,
                           help="entangled-mnist (default), mnist, fashion-mnist (projected and "
                                "binarised), prototypes, idx:DIR")
            s.add_argument("--P", type=_p_type, default=None, help="training items per class ('all')")
            s.add_argument("--P-eval", dest="P_eval", type=_p_type, default=None,
                           help="test items per class ('all')")
        if name in ("fig3", "stability"):
            s.add_argument("--hidden", type=positive_int, default=None, help="hidden width H")
        if name == "fig3":
            s.add_argument("--lam", type=grid_type("--lam", 0.0), default=None,
                           help="lambda grid at J_D = 0 ('a,b' or 'start:stop:num')")
            s.add_argument("--J-D", dest="J_D", type=grid_type("--J-D"), default=None,
                           help="J_D grid at lambda = 0")
            s.add_argument("--lam-at-J-D", dest="lam_at_J_D", type=grid_type("--lam-at-J-D", 0.0),
                           default=None, help="also scan the λ grid at these J_D (learning onsets "
                                              "λ_learn(J_D); default none)")
            s.add_argument("--lambda-in", dest="lambda_in", type=grid_type("--lambda-in", 0.0),
                           default=None, help="input strengths into both layers, one scan each "
                                              "(default 2; --full: 2,5)")
            s.add_argument("--eval-train", dest="eval_train", type=positive_int, default=None,
                           help="evaluate the training accuracy on the first K items (default all; "
                                "--full: 10000)")
            s.add_argument("--probe-every", dest="probe_every", type=positive_int, default=None,
                           help="also record the test accuracy every K training steps "
                                "(fig3_probes.csv; default off)")
            s.add_argument("--probe-items", dest="probe_items", type=positive_int, default=None,
                           help="test items per probe (1000)")
        if name == "stability":
            s.add_argument("--J-D", dest="J_D", type=grid_type("--J-D"), default=None,
                           help="one curve per J_D")
        if name == "fig2":
            s.add_argument("--hidden", type=grid_type("--hidden", 1), default=None,
                           help="widths H of our model (the MLP's widths match its parameters)")
            s.add_argument("--mlp-layers", dest="mlp_layers", type=positive_int, default=None,
                           help="binarised hidden layers of the MLP (2: the '3-layer perceptron')")
            s.add_argument("--mlp-epochs", dest="mlp_epochs", type=positive_int, default=None,
                           help="MLP epochs")
            s.add_argument("--input", choices=("raw", "projected"), default=None,
                           help="mnist / fashion-mnist: raw pixels/255 (v2, default) or the C-BL "
                                "784 x 784 projection + sign")
            s.add_argument("--validation", type=nonneg_int, default=None,
                           help="tune both models on the last K training items first (0: no "
                                "tuning, the presets; default 0, --full 10000)")
            s.add_argument("--tune-epochs", dest="tune_epochs", type=positive_int, default=None,
                           help="epochs of each tuning run")
            s.add_argument("--tune-hidden", dest="tune_hidden", type=positive_int, default=None,
                           help="our width for tuning (default: the middle of --hidden)")
            s.add_argument("--tune-lambda-in", dest="tune_lambda_in",
                           type=grid_type("--tune-lambda-in", 0.0), default=None,
                           help="factors of the preset's λ_in tried when tuning ours")
            s.add_argument("--tune-theta-h", dest="tune_theta_h",
                           type=grid_type("--tune-theta-h"), default=None,
                           help="hidden thresholds θ_h tried when tuning ours")
            s.add_argument("--tune-mlp-lr", dest="tune_mlp_lr",
                           type=grid_type("--tune-mlp-lr", 0.0), default=None,
                           help="MLP learning rates tried (SGD, momentum 0.9)")
        if name == "capacity":
            s.add_argument("--hidden", type=positive_int, default=None, help="width H of every layer")
            s.add_argument("--layers", type=grid_type("--layers", 1), default=None,
                           help="depths L")
            s.add_argument("--lam", type=finite_float, default=None, help="one-to-one coupling")
            s.add_argument("--J-D", dest="J_D", type=finite_float, default=None, help="self coupling")
            s.add_argument("--T", type=positive_int, default=None, help="sweeps per phase (> L)")
            s.add_argument("--P0", type=positive_int, default=None, help="first P (per class)")
            s.add_argument("--P-max", dest="P_max", type=positive_int, default=None,
                           help="largest P tried (per class)")
            s.add_argument("--P-grid", dest="P_grid", type=grid_type("--P-grid", 1), default=None,
                           help="scan these P (per class) for every L and seed instead of the "
                                "doubling + bisection search; writes capacity_scan.csv")
            s.add_argument("--input-layers", dest="input_layers", choices=("first", "all"),
                           default=None, help="hidden layers fed by the input (default first)")
            s.add_argument("--lambda-in", dest="lambda_in", type=finite_float, default=None,
                           help="input strength (default 5)")
            s.add_argument("--skip-readouts", dest="skip_readouts", action="store_true",
                           default=None, help="L > 1: learnable skip readouts from every layer "
                                              "below the top (λ_skip_out 1), so the readout sees "
                                              "all L H units")
        add_executor_args(s)
    return p


_COMMON = {"out", "seed", "quiet", "full", "executor", "workers", "scheduler", "name"}


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    opts = {k: v for k, v in vars(args).items() if k not in _COMMON}
    with executor_from_args(args) as ex:
        path = run_experiment(args.name, opts, out=args.out, executor=ex,
                              quiet=args.quiet, full=args.full, seed=args.seed)
    if not args.quiet:
        print(path, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(run(main, prog=_CLI))
