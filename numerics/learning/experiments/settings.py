"""Defaults, the paper's settings (``--full``) and names shared by the learning experiments."""

from __future__ import annotations

from dataclasses import fields as dc_fields

import numpy as np

from ..model import ModelConfig

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
