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

Layout: :mod:`.settings` (defaults, ``--full``), :mod:`.common` (the training task, seeds, keys), one
module per experiment (:mod:`.fig3`, :mod:`.fig2`, :mod:`.capacity`, :mod:`.stability`),
:mod:`.runner` (:func:`run_experiment`) and :mod:`.cli` (the command).
"""

from .capacity import capacity_from_scan, capacity_point_task, capacity_search, capacity_task
from .cli import main
from .common import train_task
from .fig2 import mlp_width
from .fig3 import fig3_points
from .runner import run_experiment
from .settings import DEFAULTS, EXPERIMENTS, FULL

__all__ = [
    "DEFAULTS",
    "EXPERIMENTS",
    "FULL",
    "capacity_from_scan",
    "capacity_point_task",
    "capacity_search",
    "capacity_task",
    "fig3_points",
    "main",
    "mlp_width",
    "run_experiment",
    "train_task",
]
