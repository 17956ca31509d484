"""``fig2`` (E2, Fig. 2): test accuracy vs trainable parameters, ours against the binarised MLP."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from toolkit.results import write_csv
from toolkit.sweep import Task, run_sweep

from ..baselines import MLPConfig
from ..model import ModelConfig, count_parameters
from .common import (_dataset_preset, _key, _last, _nanmax, _ours_config, _preset_kw, _record,
                     _shape, train_task)


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
        base = _preset_kw(_dataset_preset(o))
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
                         _preset_kw(_dataset_preset(o)), float("nan"))
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
