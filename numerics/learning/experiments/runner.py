"""One entry point for every experiment: options over defaults, the run, the CSV and the figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from toolkit import drawing
from toolkit.cli import UsageError
from toolkit.results import write_csv

from .capacity import _run_capacity
from .common import _record
from .fig2 import _run_fig2
from .fig3 import _run_fig3
from .settings import _DEFAULT_OUT, DEFAULTS, EXPERIMENTS, FULL
from .stability import _run_stability


_RUNNERS = {"fig3": _run_fig3, "fig2": _run_fig2, "capacity": _run_capacity,
            "stability": _run_stability}


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
