"""What every learning experiment uses: the training task, seeds, data options, task keys."""

from __future__ import annotations

import hashlib
import json

import numpy as np

from toolkit.cli import UsageError

from .. import datasets
from ..baselines import MLPConfig
from ..model import ModelConfig, count_parameters
from ..train import PRESETS, build, fit
from .settings import _MODEL_FIELDS, _PRESET_BY_DATASET


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


def _dataset_preset(o: dict) -> str:
    """The one-layer preset of the experiment's dataset (``1layer_largeP`` for any other)."""
    return _PRESET_BY_DATASET.get(o["dataset"].strip().lower(), "1layer_largeP")


def _preset_kw(name: str) -> dict:
    return {k: v for k, v in PRESETS[name].items() if k in _MODEL_FIELDS}


def _ours_config(N, C, H, L, kw) -> dict:
    return ModelConfig(N=N, C=C, H=int(H), L=L, **kw).to_dict()   # ValueError: one line, exit 2


def _last(res, col):
    return float(np.asarray(res[col])[-1])


def _nanmax(res, col):
    v = np.asarray(res[col], dtype=float)
    return float(np.nanmax(v)) if np.isfinite(v).any() else float("nan")


def _record(o: dict) -> dict:
    return {k: v for k, v in o.items() if k not in ("quiet", "out")}
