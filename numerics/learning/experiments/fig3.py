"""``fig3`` (E3, Fig. 3): accuracy of the two-layer chain vs λ (J_D = 0) and vs J_D (λ = 0)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from toolkit.results import write_csv
from toolkit.sweep import Task, run_sweep

from ..onset import onsets
from .common import _fmt, _key, _last, _nanmax, _ours_config, _preset_kw, _record, _shape, train_task


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
