"""The local learning rule (SPEC 3.4, 11), its training command and the baselines (SPEC 13).

Identities first: the batched step equals a plain per-sample loop; only learnable blocks move; the
decay factor, the 1/sqrt(B) scaling, ties counted as unstable, the C-BL readout re-encoding (V14, V15).
Then learning on tiny separable data, the command line (columns, resume bit-identical, one-line errors)
and the baselines. Everything runs on synthetic data in a few seconds.
"""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from numerics.learning import datasets
from numerics.learning.baselines import (
    BinarizedMLP,
    MLPConfig,
    Perceptron,
    PerceptronConfig,
    random_features_config,
    reservoir_config,
)
from numerics.learning.model import (
    Model,
    ModelConfig,
    _relax_supervised,
    _State,
    bl_transform,
    count_parameters,
    predict,
    train_step,
    train_step_reference,
    unstable_fractions,
)
from numerics.learning.train import COLUMNS, _parser, _resolve, fit, main
from toolkit.cli import run
from toolkit.results import read_csv, read_npz

CLI = "numerics.learning.train"


def _f(ds, dtype=np.float32):
    return datasets.Dataset(ds.name, ds.x_train.astype(dtype), ds.y_train, ds.x_test.astype(dtype),
                            ds.y_test, ds.n_classes, ds.meta)


@pytest.fixture(scope="module")
def protos():
    return datasets.load("prototypes", N=40, C=4, P=16, P_eval=8, p=0.2, seed=1)


@pytest.fixture(scope="module")
def separable():
    """40 random +-1 patterns in N = 100 with random labels: linearly separable (P < 2N; the
    perceptron test below confirms it by reaching 100 %)."""
    return _f(datasets.load("random", N=100, C=2, P=20, seed=3))


# --------------------------------------------------------------------------------- identities

@pytest.mark.parametrize("enc,p,L,double,threshold,skip", [
    ("pm1", 1.0, 1, True, "bl", 0), ("pm1", 0.8, 2, False, "dx", 0), ("bl", 1.0, 1, True, "bl", 0),
    ("bl", 0.7, 2, True, "bl", 0), ("darnax", 0.8, 1, True, "dx", 0),
    ("c-rescale", 1.0, 2, False, "bl", 0), ("pm1", 0.85, 3, True, "bl", 1.0),
    ("bl", 0.85, 2, True, "bl", 1.0)])
def test_batched_step_equals_per_sample_reference(protos, enc, p, L, double, threshold, skip):
    cfg = ModelConfig(N=40, C=4, H=30, L=L, lam=0.3, T=L + 3, p_update=p, label_encoding=enc,
                      double=double, threshold=threshold, input_layers="all", wd_in=0.01,
                      dtype="float64", lambda_skip_back=0.9 * skip, lambda_skip_out=skip)
    fast = Model(cfg, np.random.default_rng(0))
    ref = fast.copy()
    r1, r2 = np.random.default_rng(5), np.random.default_rng(5)
    for s in range(0, 64, 8):
        x, y = protos.x_train[s:s + 8], protos.y_train[s:s + 8]
        a, b = train_step(fast, x, y, r1), train_step_reference(ref, x, y, r2)
        assert (a.n, a.fit_correct) == (b.n, b.fit_correct)
        for k in ("hidden_unstable", "readout_unstable", "flip"):
            assert getattr(a, k) == pytest.approx(getattr(b, k), abs=1e-12)
    for k, v in fast.arrays().items():
        np.testing.assert_allclose(v, ref.arrays()[k], rtol=0, atol=1e-12, err_msg=k)
    assert set(fast.arrays()) == set(ref.arrays())
    assert r1.bit_generator.state == r2.bit_generator.state
    assert ("W_out_skip" in fast.arrays()) == bool(skip and L > 1)


def test_skip_connections(protos):
    """Skip feedback is the W^back draw rescaled (frozen); skip readouts add to h^out and learn;
    without them the random stream (hence every array) is that of a model that never had them."""
    base = dict(N=40, C=4, H=30, L=2, lam=0.3, T=5, input_layers="all", p_update=0.9)
    plain = Model(ModelConfig(**base), np.random.default_rng(0))
    m = Model(ModelConfig(**base, lambda_skip_back=0.45, lambda_skip_out=1.0),
              np.random.default_rng(0))
    for k in ("A", "W_in", "W_out", "W_back"):
        np.testing.assert_array_equal(m.arrays()[k], plain.arrays()[k], err_msg=k)
    np.testing.assert_allclose(m.W_back_skip, m.W_back * (0.45 / 0.9), rtol=1e-6)
    assert m.W_out_skip.shape == (1, 4, 30)
    assert np.std(m.W_out_skip) == pytest.approx(1 / math.sqrt(30), rel=0.15)
    S = np.sign(np.random.default_rng(3).standard_normal((2, 5, 30))).astype(np.float32)
    np.testing.assert_allclose(m.readout_fields(S), S[1] @ m.W_out.T + S[0] @ m.W_out_skip[0].T,
                               rtol=1e-5)
    before = {k: v.copy() for k, v in m.arrays().items()}
    rng = np.random.default_rng(1)
    for s in range(0, 64, 8):
        train_step(m, protos.x_train[s:s + 8], protos.y_train[s:s + 8], rng)
    np.testing.assert_array_equal(m.W_back_skip, before["W_back_skip"])
    assert not np.array_equal(m.W_out_skip, before["W_out_skip"])
    frozen = Model(ModelConfig(**base, lambda_skip_out=1.0, learn_out=False),
                   np.random.default_rng(0))
    w = frozen.W_out_skip.copy()
    train_step(frozen, protos.x_train[:8], protos.y_train[:8], np.random.default_rng(1))
    np.testing.assert_array_equal(frozen.W_out_skip, w)
    one = Model(ModelConfig(**{**base, "L": 1, "T": 3}, lambda_skip_out=1.0), np.random.default_rng(0))
    assert one.W_out_skip is None and one.W_back_skip is None      # nothing below the top layer
    with pytest.raises(ValueError, match="W_out_skip"):
        Model(m.config, arrays=plain.arrays())


def test_skip_readouts_copied_from_W_out(protos):
    """skip_out_copy (the authors' code): every skip readout starts equal to W^out and is a separate
    array afterwards (it learns from its own layer); the other arrays keep the independent-draw
    model's stream."""
    base = dict(N=40, C=4, H=30, L=3, lam=0.3, T=5, lambda_skip_out=1.0)
    drawn = Model(ModelConfig(**base), np.random.default_rng(0))
    m = Model(ModelConfig(**base, skip_out_copy=True), np.random.default_rng(0))
    for k in ("A", "W_in", "W_out", "W_back"):
        np.testing.assert_array_equal(m.arrays()[k], drawn.arrays()[k], err_msg=k)
    assert m.W_out_skip.shape == (2, 4, 30)
    for l in range(2):
        np.testing.assert_array_equal(m.W_out_skip[l], m.W_out)
    assert not np.array_equal(drawn.W_out_skip[0], drawn.W_out)
    rng = np.random.default_rng(1)
    for s in range(0, 64, 8):
        train_step(m, protos.x_train[s:s + 8], protos.y_train[s:s + 8], rng)
    assert not np.array_equal(m.W_out_skip[0], m.W_out)      # learned apart from W^out
    with pytest.raises(ValueError, match="skip_out_copy"):
        ModelConfig(**base, skip_out_copy=1)
    # a field added late stays out of the stored dict at its default: sweeps' task keys (hashes of
    # to_dict) from before it existed remain valid; set, it round-trips
    assert "skip_out_copy" not in ModelConfig(**base).to_dict()
    assert ModelConfig.from_dict(m.config.to_dict()) == m.config


def test_update_touches_only_learnable_blocks(protos):
    cfg = ModelConfig(N=40, C=4, H=30, L=2, lam=0.4, J_D=0.3, input_layers="all", p_update=0.9)
    m = Model(cfg, np.random.default_rng(0))
    before = {k: v.copy() for k, v in m.arrays().items()}
    rng = np.random.default_rng(1)
    for s in range(0, 64, 8):
        train_step(m, protos.x_train[s:s + 8], protos.y_train[s:s + 8], rng)
    assert set(m.arrays()) == {"A", "W_in", "W_out", "W_back"}      # no learnable lam block
    np.testing.assert_array_equal(m.W_back, before["W_back"])
    for l in range(cfg.L):
        assert np.all(np.diag(m.A[l]) == 0) and np.all(np.diag(m.J[l]) == cfg.J_D)
    for k in ("A", "W_in", "W_out"):
        assert not np.array_equal(m.arrays()[k], before[k]), k
    assert m.config.lam == 0.4
    # the free fields are still J s + J_D s + lam (neighbours) + W_in x with the frozen J_D and lam
    st = _State(m, protos.x_test[:5].astype(np.float32))
    S = np.sign(np.random.default_rng(2).standard_normal(st.S.shape)).astype(np.float32)
    st.set_hidden(S)
    F = st.free_fields().astype(np.float64)
    J = m.J
    for l in range(cfg.L):
        want = S[l] @ J[l].T + protos.x_test[:5] @ m.W_in[l].T.astype(np.float64)
        want += cfg.lam * (S[l - 1] if l > 0 else 0) + cfg.lam * (S[l + 1] if l < cfg.L - 1 else 0)
        np.testing.assert_allclose(F[l], want, atol=1e-4)


def test_frozen_blocks_of_the_reservoir_never_move(protos):
    for make in (random_features_config, reservoir_config):
        m = Model(make(ModelConfig(N=40, C=4, H=30)), np.random.default_rng(0))
        A, W_in, W_out = m.A.copy(), m.W_in.copy(), m.W_out.copy()
        train_step(m, protos.x_train[:8], protos.y_train[:8], np.random.default_rng(1))
        np.testing.assert_array_equal(m.A, A)
        np.testing.assert_array_equal(m.W_in, W_in)
        assert not np.array_equal(m.W_out, W_out)


def test_decay_is_multiplicative_when_nothing_is_unstable(protos):
    cfg = ModelConfig(N=40, C=4, H=30, threshold="dx", theta_h=-1e9, theta_out=-1e9, wd_J=0.5,
                      wd_W=0.3, wd_in=0.2, dtype="float64")
    m = Model(cfg, np.random.default_rng(0))
    A, W_in, W_out = m.A.copy(), m.W_in.copy(), m.W_out.copy()
    st = train_step(m, protos.x_train[:8], protos.y_train[:8], np.random.default_rng(1))
    assert st.hidden_unstable == 0 and st.readout_unstable == 0
    np.testing.assert_allclose(m.A, A * (1 - cfg.wd_J * cfg.eta_J), rtol=1e-15)
    np.testing.assert_allclose(m.W_in, W_in * (1 - cfg.wd_in * cfg.eta_in), rtol=1e-15)
    np.testing.assert_allclose(m.W_out, W_out * (1 - cfg.wd_W * cfg.eta_W), rtol=1e-15)


def test_unstable_fractions_are_the_steps_measurement_without_its_update(protos):
    # per layer, against the plain per-sample step (same masks for the same stream): its
    # hidden_unstable sums over samples the fraction over all L·H units; the model stays as it was
    cfg = ModelConfig(N=40, C=4, H=30, L=2, lam=1.0, p_update=0.85, dtype="float64")
    m = Model(cfg, np.random.default_rng(0))
    before = {k: v.copy() for k, v in m.arrays().items()}
    x, y = protos.x_train[:8], protos.y_train[:8]
    u = unstable_fractions(m, x, y, np.random.default_rng(1))
    ref = train_step_reference(m.copy(), x, y, np.random.default_rng(1))
    assert u.shape == (2,) and 0 < u.min() and u.max() < 1
    assert u.mean() * 8 == pytest.approx(ref.hidden_unstable, rel=1e-12)
    assert all(np.array_equal(v, before[k]) for k, v in m.arrays().items())


def test_update_scales_as_one_over_sqrt_batch(protos):
    cfg = ModelConfig(N=40, C=4, H=30, wd_J=0, wd_W=0, wd_in=0, dtype="float64")
    base = Model(cfg, np.random.default_rng(0))
    x, y = protos.x_train[:8], protos.y_train[:8]
    one, two = base.copy(), base.copy()
    train_step(one, x, y, None)
    train_step(two, np.concatenate([x, x]), np.concatenate([y, y]), None)   # the sum doubles
    for k in ("A", "W_in", "W_out"):
        d1 = one.arrays()[k] - base.arrays()[k]
        d2 = two.arrays()[k] - base.arrays()[k]
        assert np.abs(d1).max() > 0
        np.testing.assert_allclose(d2, math.sqrt(2) * d1, rtol=1e-9, atol=1e-15, err_msg=k)


def test_effective_rates_of_spec_11_3():
    cfg = ModelConfig(N=100, C=10, H=1600, lr_J=0.005, lr_W=0.1, lr_in=0.03, lambda_in=5)
    assert (cfg.eta_J, cfg.eta_W, cfg.eta_in) == pytest.approx((1.25e-4, 2.5e-3, 0.015))
    assert cfg.theta_eff == pytest.approx(0.9 + 0.5)
    assert cfg.replace(threshold="dx").theta_eff == 0.9
    assert cfg.replace(L=2, lam=0.7, T=7).theta_eff == pytest.approx(0.9 + 0.5 + 0.7)


@pytest.mark.parametrize("theta,unstable", [(0.5, True), (0.4375, False)])
def test_ties_are_unstable(theta, unstable):
    # one input, two hidden units with no recurrence: h = W_in x = 0.5 exactly, s = +1, s h = 0.5
    cfg = ModelConfig(N=1, C=2, H=2, J_D=0.0, lambda_int=0.0, lambda_back=0.0, threshold="dx",
                      theta_h=theta, dtype="float64")
    m = Model(cfg, np.random.default_rng(0))
    m.W_in[...] = 0.5
    st = train_step(m, np.ones((3, 1)), np.array([0, 1, 0]), None)
    assert st.hidden_unstable == (3.0 if unstable else 0.0)


def test_bl_readout_reencoding():
    C = 10
    v = np.array([[1.0] + [-1.0] * (C - 1)])
    once = bl_transform(v)
    assert once[0, 0] == pytest.approx(math.sqrt(C) / 2) and np.all(once[0, 1:] == -0.5)
    twice = bl_transform(once)                              # what the plasticity sees (V15)
    assert twice[0, 0] == pytest.approx(C / 4) and np.allclose(twice[0, 1:], -math.sqrt(C) / 4)
    assert bl_transform(np.zeros((1, C))).max() == 0        # silent stays silent


def test_bl_plasticity_targets_and_p_update_growth(protos):
    x, y = protos.x_train[:16].astype(np.float64), protos.y_train[:16]
    C = 4
    cfg = ModelConfig(N=40, C=C, H=30, label_encoding="bl", dtype="float64")
    _, target, _ = _relax_supervised(Model(cfg, np.random.default_rng(0)), x, y, None)
    expect = np.where(np.arange(C) == y[:, None], C / 4, -math.sqrt(C) / 4)
    np.testing.assert_allclose(target, expect)
    # p_update < 1: a readout entry not refreshed in the last sweep is transformed again
    m = Model(cfg.replace(p_update=0.3), np.random.default_rng(0))
    _, target, _ = _relax_supervised(m, x, y, np.random.default_rng(1))
    mags = np.unique(np.round(np.abs(target), 9))
    assert mags.max() > C / 4 + 1e-9 or mags.min() < math.sqrt(C) / 4 - 1e-9


def test_inference_is_free_relaxation_from_silence(protos):
    m = Model(ModelConfig(N=40, C=4, H=30), np.random.default_rng(0))
    x = protos.x_test.astype(np.float32)
    a, b = predict(m, x), predict(m, x, batch_size=3)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="rng"):
        predict(Model(m.config.replace(p_update=0.5), arrays=m.arrays()), x)


@pytest.mark.parametrize("kw,match", [
    (dict(H=-5), "H"), (dict(lr_J=-1.0), "lr_J"), (dict(p_update=0.0), "p_update"),
    (dict(p_update=1.5), "p_update"), (dict(label_encoding="onehot"), "label_encoding"),
    (dict(T=1), "T must exceed"), (dict(threshold="x"), "threshold"), (dict(theta_h=math.nan), "finite")])
def test_bad_config_one_line(kw, match):
    with pytest.raises(ValueError, match=match) as exc:
        ModelConfig(N=10, C=2, **kw)
    assert len(str(exc.value).splitlines()) == 1


def test_count_parameters():
    cfg = ModelConfig(N=100, C=10, H=50)
    assert count_parameters(cfg) == 100 * 50 + 50 * 49 + 50 * 10
    assert count_parameters(random_features_config(cfg)) == 50 * 10
    cfg2 = ModelConfig(N=100, C=10, H=50, L=2, T=4, input_layers="all")
    assert count_parameters(cfg2) == 2 * 100 * 50 + 2 * 50 * 49 + 50 * 10
    assert count_parameters(cfg2.replace(lambda_skip_out=1.0, lambda_skip_back=0.9)) == \
        count_parameters(cfg2) + 50 * 10


# ---------------------------------------------------------------------------------- learning

def test_separable_toy_set_reaches_full_training_accuracy(separable):
    m = Model(ModelConfig(N=100, C=2, H=100), np.random.default_rng(0))
    hist = fit(m, separable, epochs=15, batch=4, rng=np.random.default_rng(1), seed=0)
    assert hist[-1]["train_acc"] == 1.0
    assert math.isnan(hist[-1]["test_acc"])                  # random patterns: no test set
    # V16: the unstable fraction decreases as the configurations are stabilised
    assert hist[-1]["unstable_frac"] < 0.5 * hist[1]["unstable_frac"]


def test_probes_record_the_learning_curve_and_leave_training_untouched(protos):
    data = _f(protos)
    cfg = ModelConfig(N=40, C=4, H=30, L=2, lam=1.0, p_update=0.8)
    runs = []
    for probe in (None, 3):
        m = Model(cfg, np.random.default_rng(0))
        probes = []
        hist = fit(m, data, epochs=2, batch=4, rng=np.random.default_rng(1), seed=5,
                   probe_every=probe, probe_items=20, probes=probes)
        runs.append((m, hist, probes))
    (m0, h0, _), (m1, h1, p1) = runs
    assert all(np.array_equal(a, b) for a, b in zip(m0.arrays().values(), m1.arrays().values()))
    strip = [{k: v for k, v in r.items() if "seconds" not in k} for r in h0]
    np.testing.assert_equal(strip, [{k: v for k, v in r.items() if "seconds" not in k} for r in h1])
    # 64 items / batch 4 = 16 steps per epoch: probes before steps 0, 3, ..., 30 and after step 32
    assert [r["step"] for r in p1] == list(range(0, 32, 3)) + [32]
    assert [r["epoch"] for r in p1][:6] == [1] * 6 and p1[-1]["epoch"] == 2
    assert all(0.0 <= r["test_acc"] <= 1.0 for r in p1)
    # the probe at the very end sees the final weights: it equals a fresh probe of the trained model
    from numerics.learning.train import probe_accuracy
    assert p1[-1]["test_acc"] == probe_accuracy(m1, data, seed=5, step=32, items=20)
    with pytest.raises(ValueError, match="probes list"):
        fit(m1, data, epochs=1, batch=4, rng=np.random.default_rng(1), seed=5, probe_every=2)


@pytest.mark.parametrize("kind", ["random-features", "reservoir", "mlp", "perceptron"])
def test_baselines_learn_separable_toy_set(kind, separable):
    N, C = 100, 2
    if kind == "mlp":
        m = BinarizedMLP(MLPConfig(N=N, C=C, H=100, lr=1e-2), np.random.default_rng(0))
    elif kind == "perceptron":
        m = Perceptron(PerceptronConfig(N=N, C=C))
    else:
        make = random_features_config if kind == "random-features" else reservoir_config
        m = Model(make(ModelConfig(N=N, C=C, H=100)), np.random.default_rng(0))
    hist = fit(m, separable, epochs=15, batch=4, rng=np.random.default_rng(1), seed=0)
    assert hist[-1]["train_acc"] == 1.0, [r["train_acc"] for r in hist]


def test_mlp_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    m = BinarizedMLP(MLPConfig(N=6, C=3, H=5, beta=0.5, dtype="float64"), rng)
    x, y = rng.standard_normal((4, 6)), np.array([0, 2, 1, 2])
    _, _, (gW1, gW2) = m.gradients(x, y)
    W2 = m.W2.copy()
    num = np.zeros_like(W2)
    for i in np.ndindex(*W2.shape):                 # W2: the exact gradient of the loss
        for sgn in (1, -1):
            m.W2[...] = W2
            m.W2[i] += sgn * 1e-6
            num[i] += sgn * m.gradients(x, y)[0] / 2e-6
    m.W2[...] = W2
    np.testing.assert_allclose(gW2, num, atol=1e-8)
    # W1: straight-through = the gradient of the network with sign replaced by the surrogate in
    # the backward pass only; with |beta z| < 1 everywhere it is dL/da * beta, chained to W1
    z = x @ m.W1.T
    assert np.all(np.abs(0.5 * z) < 1)
    a = np.where(z >= 0, 1.0, -1.0)
    p = np.exp(a @ m.W2.T)
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(4), y] -= 1
    np.testing.assert_allclose(gW1, ((p / 4) @ m.W2 * 0.5).T @ x, atol=1e-12)


def test_three_layer_mlp_straight_through_chain_and_sgd():
    """Two binarised hidden layers (the v2 Fig. 2 baseline): the output gradient is exact (finite
    differences), the hidden ones follow the straight-through chain written out by hand; one SGD
    step with momentum and L2 is PyTorch's update."""
    rng = np.random.default_rng(1)
    cfg = MLPConfig(N=6, C=3, H=5, hidden_layers=2, beta=0.1, optimizer="sgd", lr=0.1, wd=0.01,
                    momentum=0.9, init="xavier", dtype="float64")
    m = BinarizedMLP(cfg, rng)
    assert [W.shape for W in m.weights] == [(5, 6), (5, 5), (3, 5)]
    assert cfg.parameters == 6 * 5 + 5 * 5 + 5 * 3
    assert np.abs(m.W1).max() <= math.sqrt(6 / 11)
    x, y = rng.standard_normal((4, 6)), np.array([0, 2, 1, 2])
    loss, _, (g1, g2, g3) = m.gradients(x, y)
    W3 = m.W3.copy()
    num = np.zeros_like(W3)
    for i in np.ndindex(*W3.shape):
        for sgn in (1, -1):
            m.W3[...] = W3
            m.W3[i] += sgn * 1e-6
            num[i] += sgn * m.gradients(x, y)[0] / 2e-6
    m.W3[...] = W3
    np.testing.assert_allclose(g3, num, atol=1e-8)
    z1 = x @ m.W1.T
    a1 = np.where(z1 >= 0, 1.0, -1.0)
    z2 = a1 @ m.W2.T
    a2 = np.where(z2 >= 0, 1.0, -1.0)
    assert np.all(np.abs(0.1 * z1) < 1) and np.all(np.abs(0.1 * z2) < 1)
    p = np.exp(a2 @ m.W3.T)
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(4), y] -= 1
    d2 = (p / 4) @ m.W3 * 0.1
    np.testing.assert_allclose(g2, d2.T @ a1, atol=1e-12)
    np.testing.assert_allclose(g1, (d2 @ m.W2 * 0.1).T @ x, atol=1e-12)
    before = [W.copy() for W in m.weights]
    m.train_step(x, y)
    for W0, W, g in zip(before, m.weights, (g1, g2, g3)):
        np.testing.assert_allclose(W, W0 - 0.1 * (g + 0.01 * W0), atol=1e-12)   # m = g at t = 1
    with pytest.raises(ValueError, match="unknown optimizer"):
        MLPConfig(N=2, C=2, optimizer="rmsprop")


# ------------------------------------------------------------------------------ command line

_TINY = ["--dataset", "prototypes", "--N", "30", "--classes", "3", "--P", "12", "--P-eval", "4",
         "--hidden", "40", "--batch", "4", "--quiet"]


def test_cli_writes_epochs_csv_checkpoint_and_summary(tmp_path):
    assert main([*_TINY, "--out", str(tmp_path), "--epochs", "2"]) == 0
    header = (tmp_path / "epochs.csv").read_text().splitlines()[0].split(",")
    assert header[:5] == ["epoch", "train_acc", "test_acc", "unstable_frac", "seconds"]
    assert header == list(COLUMNS)
    rows = read_csv(tmp_path / "epochs.csv")
    assert [r["epoch"] for r in rows] == [0, 1, 2]
    assert (tmp_path / "epochs.meta.json").exists()
    ck = read_npz(tmp_path / "checkpoint.npz")
    assert int(ck["epoch"]) == 2 and json.loads(str(ck["rng_state"]))["bit_generator"] == "PCG64"
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["final_test_acc"] == rows[-1]["test_acc"]


@pytest.mark.parametrize("extra", [["--p-update", "0.8", "--label-encoding", "bl"],
                                   ["--model", "mlp"],
                                   ["--layers", "2", "--T", "4", "--lambda-skip-back", "0.9",
                                    "--lambda-skip-out", "1", "--p-update", "0.85"]])
def test_resume_is_bit_identical(tmp_path, extra):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main([*_TINY, *extra, "--out", str(a), "--epochs", "2"]) == 0
    assert main([*_TINY, *extra, "--out", str(b), "--epochs", "1"]) == 0
    assert main([*_TINY, *extra, "--out", str(b), "--epochs", "2", "--resume"]) == 0
    ca, cb = read_npz(a / "checkpoint.npz"), read_npz(b / "checkpoint.npz")
    for k in ca:
        if k == "history":
            continue
        if ca[k].dtype.kind == "U":
            assert str(ca[k]) == str(cb[k]), k
        else:
            np.testing.assert_array_equal(ca[k], cb[k], err_msg=k)
    ra, rb = read_csv(a / "epochs.csv"), read_csv(b / "epochs.csv")
    assert len(ra) == len(rb) == 3
    for x, y in zip(ra, rb, strict=True):
        for c in COLUMNS:
            if c not in ("seconds", "eval_seconds"):
                assert x[c] == y[c] or (x[c] != x[c] and y[c] != y[c]), c     # NaN == NaN


def test_resume_refuses_a_changed_specification(tmp_path, capsys):
    assert main([*_TINY, "--out", str(tmp_path), "--epochs", "1"]) == 0
    assert run(main, [*_TINY, "--out", str(tmp_path), "--epochs", "2", "--resume", "--hidden", "41"],
               prog=CLI) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "config.H" in err[0]


@pytest.mark.parametrize("bad", [["--hidden", "-5"], ["--lr-J", "-1"], ["--p-update", "0"],
                                 ["--p-update", "1.5"], ["--dataset", "nope"],
                                 ["--label-encoding", "onehot"], ["--layers", "0"], ["--T", "1"],
                                 ["--batch", "0"], ["--mlp-lr", "-1", "--model", "mlp"]])
def test_bad_hyperparameters_fail_with_one_line(tmp_path, capsys, bad):
    try:
        rc = run(main, [*_TINY, "--out", str(tmp_path), *bad], prog=CLI)
    except SystemExit as exc:                       # argparse errors exit directly
        rc = exc.code
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error" in err[0]


def test_bad_hyperparameter_exit_status_in_a_subprocess(tmp_path):
    res = subprocess.run([sys.executable, "-m", CLI, "--out", str(tmp_path), "--hidden", "-5"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "hidden" in lines[0] and "Traceback" not in res.stderr


def test_presets_resolve_and_explicit_options_override():
    args = _parser().parse_args(["--config", "1layer_largeP", "--hidden", "400", "--T", "3"])
    r = _resolve(args)
    assert r["val"]["hidden"] == 400 and r["val"]["P"] is None and r["val"]["epochs"] == 20
    assert r["model_kw"]["T"] == 3 and r["model_kw"]["label_encoding"] == "bl"
    assert r["model_kw"]["lambda_in"] == 5.0 and r["model_kw"]["double"] is True
    args = _parser().parse_args(["--config", "1layer_largeP", "--no-double", "--P", "all"])
    assert _resolve(args)["model_kw"]["double"] is False
    # a preset's projection and binarisation can be switched off explicitly
    args = _parser().parse_args(["--config", "1layer_mnist", "--project", "none", "--no-binarize"])
    v = _resolve(args)["val"]
    assert v["project"] == "none" and v["binarize"] is False
    v = _resolve(_parser().parse_args(["--config", "1layer_mnist"]))["val"]
    assert v["project"] == "square" and v["binarize"] is True


def test_training_is_identical_across_blas_thread_counts(tmp_path):
    # issue 7: the same seed gives bit-identical weights whatever the number of BLAS threads
    base = ["--dataset", "prototypes", "--hidden", "64", "--epochs", "1", "--quiet"]
    for t in (1, 2):
        assert main(base + ["--out", str(tmp_path / f"t{t}"), "--threads", str(t)]) == 0
    a, b = read_npz(tmp_path / "t1" / "checkpoint.npz"), read_npz(tmp_path / "t2" / "checkpoint.npz")
    for k in ("model_A", "model_W_in", "model_W_out"):
        assert np.array_equal(a[k], b[k]), k
