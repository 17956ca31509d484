"""The sparse network with synchronous dynamics (darnax's MNIST architecture, numerics.learning.sparse).

The batched sparse step against a plain dense masked per-sample float64 step; the fixed random
pattern (densities, no self-couplings, initial scales); the multiplicative decay; inference as free
relaxation; learning on a synthetic set; the command line (resume, presets, one-line errors).
"""

import math

import numpy as np
import pytest

from numerics.learning import datasets
from numerics.learning.sparse import SparseConfig, SparseModel, _sign, train_step_reference
from numerics.learning.train import PRESETS, _parser, _resolve, main
from toolkit.cli import run
from toolkit.results import read_csv, read_npz

CLI = "numerics.learning.train"


@pytest.fixture(scope="module")
def protos():
    return datasets.load("prototypes", N=60, C=4, P=40, P_eval=20, p=0.2, seed=2)


def _small(**kw):
    base = dict(N=60, C=4, H=80, density_in=0.3, density_J=0.1, theta_h=1.0, theta_out=1.0,
                dtype="float64")
    return SparseConfig(**{**base, **kw})


@pytest.mark.parametrize("kw", [{}, {"T": 2, "J_D": 0.3}, {"T": 0}, {"density_J": 1.0}])
def test_batched_sparse_step_equals_dense_per_sample_reference(protos, kw):
    """Float64: the sums differ only in order (<= B = 8 terms per entry per step), so 1e-12."""
    model = SparseModel(_small(**kw), np.random.default_rng(0))
    ref = model.copy()
    x, y = protos.x_train.astype(np.float64), protos.y_train
    moved = 0.0
    for k in range(6):
        idx = slice(8 * k, 8 * k + 8)
        w0 = model.W_in.data.copy()
        model.train_step(x[idx], y[idx])
        train_step_reference(ref, x[idx], y[idx])
        moved = max(moved, np.abs(model.W_in.data - w0).max())
        for name in ("W_in", "J"):
            np.testing.assert_allclose(getattr(model, name).data, getattr(ref, name).data,
                                       rtol=0, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(model.W_out, ref.W_out, rtol=0, atol=1e-12)
    assert moved > 1e-3                      # the comparison is not between two frozen models


def test_pattern_densities_no_self_couplings_and_initial_scales():
    cfg = SparseConfig(N=784, C=10, H=1000)
    m = SparseModel(cfg, np.random.default_rng(1))
    for M, n, dens, std in ((m.W_in, 784 * 1000, 0.1, 5 / math.sqrt(78.4)),
                            (m.J, 1000 * 999, 0.01, 1 / math.sqrt(10.0))):
        # kept entries ~ Binomial(n, density): 5 standard deviations
        assert abs(M.nnz - n * dens) < 5 * math.sqrt(n * dens * (1 - dens))
        # sample std of nnz Gaussians: relative error ~ 1/sqrt(2 nnz) < 1 %; allow 5 %
        assert abs(np.std(M.data) / std - 1) < 0.05
    assert not np.any(m.J.diagonal())
    assert abs(np.std(m.W_back) / (1.3 / math.sqrt(10)) - 1) < 0.05
    assert abs(np.std(m.W_out) / (1 / math.sqrt(1000)) - 1) < 0.05
    assert m.parameters == m.W_in.nnz + m.J.nnz + 10 * 1000


def test_pattern_is_fixed_and_decay_multiplicative_when_nothing_is_a_mistake(protos):
    """With margins far below every field nothing is updated: each step multiplies every learned
    block by exactly (1 - wd lr / sqrt(fan-in)) and the pattern never changes."""
    cfg = _small(theta_h=-1e9, theta_out=-1e9, wd_in=0.5, wd_J=0.7, wd_W=0.3)
    m = SparseModel(cfg, np.random.default_rng(3))
    before = {k: v.copy() for k, v in m.arrays().items()}
    x, y = protos.x_train[:8].astype(np.float64), protos.y_train[:8]
    for _ in range(3):
        st = m.train_step(x, y)
    assert st.hidden_unstable == 0 and st.readout_unstable == 0
    for name, block, fan in (("W_in", "in", 60), ("J", "J", 80)):
        np.testing.assert_array_equal(m.arrays()[f"{name}_indices"], before[f"{name}_indices"])
        np.testing.assert_allclose(getattr(m, name).data,
                                   before[f"{name}_data"] * (1 - cfg.decay(block, fan)) ** 3,
                                   rtol=1e-14)
    np.testing.assert_allclose(m.W_out, before["W_out"] * (1 - cfg.decay("W", 80)) ** 3, rtol=1e-14)
    np.testing.assert_array_equal(m.W_back, before["W_back"])
    assert cfg.decay("J", 80) == pytest.approx(0.7 * cfg.lr_J / math.sqrt(80))


def test_darnax_rates_and_decays():
    """The defaults reproduce darnax's effective rates and per-step decays (tutorial 09)."""
    cfg = SparseConfig(N=784, C=10, H=2000)
    assert cfg.eta_in == pytest.approx(0.159 / math.sqrt(0.1))
    assert cfg.eta_J == pytest.approx(0.58)
    assert cfg.decay("in", 784) == pytest.approx(0.01 * 0.159 / 28)
    assert cfg.decay("J", 2000) == pytest.approx(6e-5 * 0.058 / 0.1 * math.sqrt(0.1) / math.sqrt(2000))
    assert cfg.decay("W", 2000) == pytest.approx(0.02 * 0.17 / math.sqrt(2000))


def test_sign_of_zero_is_plus_one():
    np.testing.assert_array_equal(_sign(np.array([-0.5, 0.0, -0.0, 2.0])), [-1, 1, 1, 1])


def test_inference_is_free_synchronous_relaxation_from_zero(protos):
    cfg = _small(T_eval=3, J_D=0.4)
    m = SparseModel(cfg, np.random.default_rng(4))
    d = m.dense()
    x = protos.x_test.astype(np.float64)
    s = np.where(x @ d["W_in"].T >= 0, 1.0, -1.0)
    for _ in range(3):
        s = np.where(x @ d["W_in"].T + s @ d["J"].T >= 0, 1.0, -1.0)
    np.testing.assert_allclose(m.predict(x, batch_size=7), s @ d["W_out"].T, atol=1e-12)


def test_learns_prototypes(protos):
    """Prototypes with 20 % flipped bits: chance is 0.25; two epochs reach >= 0.9 on the test items
    (measured 1.0 with this seed)."""
    cfg = SparseConfig(N=60, C=4, H=300, density_in=0.3, density_J=0.05, lambda_in=1.0,
                       theta_out=2.0)
    m = SparseModel(cfg, np.random.default_rng(5))
    rng = np.random.default_rng(6)
    x = protos.x_train.astype(np.float32)
    for _ in range(2):
        perm = rng.permutation(len(x))
        for k in range(0, len(x) - 7, 8):
            m.train_step(x[perm[k:k + 8]], protos.y_train[perm[k:k + 8]])
    acc = np.mean(np.argmax(m.predict(protos.x_test.astype(np.float32)), 1) == protos.y_test)
    assert acc >= 0.9


@pytest.mark.parametrize("kw,match", [({"density_in": 0}, "density_in"), ({"density_J": 1.5}, "density_J"),
                                      ({"H": 0}, "H"), ({"lr_J": -1}, "lr_J"), ({"T": -1}, "T"),
                                      ({"dtype": "float16"}, "dtype")])
def test_bad_config_one_line(kw, match):
    with pytest.raises(ValueError, match=match):
        SparseConfig(**{"N": 10, "C": 3, **kw})


# ------------------------------------------------------------------------------ command line

_TINY = ["--model", "sparse", "--dataset", "prototypes", "--N", "30", "--classes", "3", "--P", "12",
         "--P-eval", "4", "--hidden", "40", "--density-J", "0.2", "--batch", "4", "--quiet"]


def test_cli_resume_is_bit_identical(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main([*_TINY, "--out", str(a), "--epochs", "2"]) == 0
    assert main([*_TINY, "--out", str(b), "--epochs", "1"]) == 0
    assert main([*_TINY, "--out", str(b), "--epochs", "2", "--resume"]) == 0
    ca, cb = read_npz(a / "checkpoint.npz"), read_npz(b / "checkpoint.npz")
    for k in ("model_W_in_data", "model_J_data", "model_J_indices", "model_W_out"):
        np.testing.assert_array_equal(ca[k], cb[k], err_msg=k)
    rows = read_csv(a / "epochs.csv")
    assert [r["epoch"] for r in rows] == [0, 1, 2]
    assert [r["test_acc"] for r in rows] == [r["test_acc"] for r in read_csv(b / "epochs.csv")]


def test_darnax_preset_resolves_to_the_sparse_model():
    val = _resolve(_parser().parse_args(["--config", "darnax_mnist"]))["val"]
    assert (val["model"], val["dataset"], val["hidden"], val["epochs"]) == ("sparse", "mnist", 2000, 3)
    assert PRESETS["darnax_mnist"]["batch"] == 16


@pytest.mark.parametrize("bad", [["--lam", "1"], ["--layers", "2"], ["--density-in", "0"],
                                 ["--p-update", "0.5"]])
def test_bad_sparse_options_fail_with_one_line(tmp_path, capsys, bad):
    rc = run(main, [*_TINY, "--out", str(tmp_path), *bad], prog=CLI)
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error" in err[0]


def test_density_options_refused_for_other_models(tmp_path, capsys):
    args = [a for a in _TINY if a not in ("--model", "sparse")]
    rc = run(main, [*args, "--out", str(tmp_path)], prog=CLI)
    assert rc == 2
    assert "--density-J only apply to --model sparse" in capsys.readouterr().err
