"""The command line ``python -m numerics.learning.experiments NAME [options]``."""

from __future__ import annotations

import argparse
import sys

from toolkit.cli import ArgumentParser, finite_float, grid_type, nonneg_int, positive_int
from toolkit.sweep import add_executor_args, executor_from_args

from .runner import run_experiment
from .settings import _CLI, _DEFAULT_OUT, _FULL_TEXT, DEFAULTS, EXPERIMENTS


# ------------------------------------------------------------------------------------ command line

def _p_type(text: str):
    if text.strip().lower() in ("all", "full"):
        return "all"
    return positive_int(text)


def _parser() -> ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    p = ArgumentParser(prog=_CLI, description=sys.modules[__package__].__doc__.split("\n\n")[0],
                       formatter_class=fmt)
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
