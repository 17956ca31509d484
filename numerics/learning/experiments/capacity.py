"""``capacity`` (E9): hetero-association capacity vs depth L at equal width."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from toolkit.cli import UsageError
from toolkit.results import write_csv
from toolkit.sweep import Task, run_sweep

from ..model import ModelConfig, count_parameters
from ..onset import crossing
from ..train import build, fit
from .common import _child, _key, _load, _ours_config, _record


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
