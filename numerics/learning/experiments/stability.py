"""``stability`` (V16): fraction of hidden units at fixed points of the free dynamics vs epoch."""

from __future__ import annotations

from pathlib import Path

from toolkit.sweep import Task, run_sweep

from .common import _dataset_preset, _fmt, _key, _ours_config, _preset_kw, _shape, train_task


def _run_stability(o, executor, out: Path):
    kw = _preset_kw(_dataset_preset(o))
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
