"""A sparse recurrent classifier with synchronous sign dynamics (darnax's MNIST architecture).

The network of ``docs/tutorials/09_sota_on_mnist.py`` of darnax (Willinki/darnax), re-implemented
with ``scipy.sparse`` storage (the facts it follows, and where they come from: docs/side_by_side.md,
"darnax's sparse MNIST network"). Input x in R^N (MNIST: pixels/255, N = 784), one hidden layer
s in {-1, +1}^H (H = 2000), a readout of C units:

    h_j = sum_i W^in_ji x_i + sum_{i != j} J_ji s_i + J_D s_j + chi_t sum_c W^back_jc e_c,
    s_j <- sign(h_j)  (sign(0) = +1),       readout o_c = sum_j W^out_cj s_j,

with W^in and J sparse with a fixed random pattern (each entry kept independently with probability
``density_in`` = 0.1 and ``density_J`` = 0.01, no self-couplings in the pattern), the self coupling
J_D (0.95) fixed, W^back dense and frozen, and the feedback label e = darnax's rescaled one-hot
(+1 -> sqrt(C-1)/2, -1 -> -1/sqrt(C-1), :func:`numerics.learning.model.encode_feedback`).
Initialisation: W^in_ji ~ N(0, lambda_in^2 / (N density_in)), J_ji ~ N(0, lambda_int^2 / (H density_J)),
W^back ~ N(0, lambda_back^2 / C), W^out ~ N(0, lambda_out^2 / H).

One training step on a batch of B samples: every sweep is synchronous (all units from the previous
state). Start from s = 0; one warm-up sweep without feedback (s = sign(W^in x)); ``T`` clamped sweeps
(chi = 1); ``T`` free sweeps (chi = 0). Then, on the final state and its free field h (J_D term
included, feedback excluded):

    u_j = [s_j h_j <= theta_h],   v_c = [y_c o_c <= theta_out]      (y in {-1, +1}^C),
    W^in_ji  += eta_in  / sqrt(B N) sum_b u_j s_j x_i     (on the pattern only)
    J_ji     += eta_J   / sqrt(B H) sum_b u_j s_j s_i     (on the pattern only)
    W^out_cj += eta_W   / sqrt(B H) sum_b v_c y_c s_j

all from the same pre-update weights, with eta_in = lr_in / sqrt(density_in), eta_J = lr_J /
sqrt(density_J), eta_W = lr_W; then the multiplicative decay M <- M (1 - wd_M lr_M / sqrt(fan_in))
of each learned block (raw rates; darnax's J decay carries an extra constant sqrt(0.1 / 0.01), which
is folded into the default wd_J = 6e-5 sqrt(10)). Inference: one warm-up and ``T_eval`` free sweeps
from s = 0, prediction argmax_c o_c (fields). No state is carried from one batch to the next.

Storage: the transposes W^in (H, N) and J (H, H) as CSR matrices (row j = incoming couplings of unit
j), states as (units, batch) arrays so that each field is one sparse-times-dense product. The pattern
updates are sampled products: for W^in the dense (H, N) product E X^T gathered on the pattern, for J
a row-gathered dot product over the batch per stored coupling. :func:`train_step_reference` is the
same step with dense masked float64 matrices, one sample at a time; the tests hold the two together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from toolkit.checks import finite_scalar, integer

from .baselines import _ConfigMixin
from .model import StepStats, encode_feedback, pm1_labels

__all__ = ["SparseConfig", "SparseModel", "train_step_reference"]

_WD_J_DARNAX = 6e-5 * math.sqrt(10.0)      # darnax's wd_j with its constant sqrt(0.1 / 0.01) folded in


def _positive(name, v) -> float:
    v = finite_scalar(name, v)
    if v <= 0:
        raise ValueError(f"{name} must be > 0, got {v!r}")
    return v


@dataclass(frozen=True)
class SparseConfig(_ConfigMixin):
    """Hyperparameters of the sparse network (defaults: darnax's MNIST tutorial 09).

    Sizes N, C, H; pattern densities density_in (W^in), density_J (J); scales lambda_in, lambda_int
    (J), lambda_back, lambda_out; J_D (fixed self coupling); margins theta_h (hidden, on the free field
    with J_D) and theta_out; raw rates lr_in, lr_J, lr_W and decays wd_in, wd_J, wd_W (per step
    M <- M (1 - wd lr / sqrt(fan_in))); T clamped and T free sweeps after one warm-up sweep, T_eval
    free sweeps at inference; dtype. Invalid values raise ValueError with a one-line reason.
    """

    N: int
    C: int
    H: int = 2000
    density_in: float = 0.1
    density_J: float = 0.01
    J_D: float = 0.95
    lambda_in: float = 5.0
    lambda_int: float = 1.0
    lambda_back: float = 1.3
    lambda_out: float = 1.0
    theta_h: float = 1.78
    theta_out: float = 7.0
    lr_in: float = 0.159
    lr_J: float = 0.058
    lr_W: float = 0.17
    wd_in: float = 0.01
    wd_J: float = _WD_J_DARNAX
    wd_W: float = 0.02
    T: int = 5
    T_eval: int = 5
    dtype: str = "float32"

    def __post_init__(self):
        for name in ("N", "C", "H"):
            if integer(name, getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if self.C < 2:
            raise ValueError(f"C must be >= 2 classes, got {self.C}")
        for name in ("T", "T_eval"):
            if integer(name, getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        for name in ("density_in", "density_J"):
            v = _positive(name, getattr(self, name))
            if v > 1:
                raise ValueError(f"{name} must be in (0, 1], got {v}")
        for name in ("lambda_in", "lambda_int", "lambda_back", "lambda_out"):
            _positive(name, getattr(self, name))
        for name in ("J_D", "theta_h", "theta_out", "lr_in", "lr_J", "lr_W", "wd_in", "wd_J",
                     "wd_W"):
            v = finite_scalar(name, getattr(self, name))
            if name.startswith(("lr", "wd")) and v < 0:
                raise ValueError(f"{name} must be >= 0, got {v}")
        for name, fan_in in (("in", self.N), ("J", self.H), ("W", self.H)):
            if self.decay(name, fan_in) >= 1:
                raise ValueError(f"wd_{name} * lr_{name} / sqrt(fan-in) must be < 1")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")

    def decay(self, block: str, fan_in: int) -> float:
        """Per-step shrinkage r of a block ("in", "J", "W"): M <- M (1 - r), r = wd lr / sqrt(fan_in)."""
        return getattr(self, f"wd_{block}") * getattr(self, f"lr_{block}") / math.sqrt(fan_in)

    @property
    def eta_in(self) -> float:
        return self.lr_in / math.sqrt(self.density_in)

    @property
    def eta_J(self) -> float:
        return self.lr_J / math.sqrt(self.density_J)

    def replace(self, **changes) -> SparseConfig:
        return SparseConfig.from_dict({**self.to_dict(), **changes})


def _pattern(rng, n_out: int, n_in: int, density: float, std: float, dtype, no_diag=False):
    """CSR (n_out, n_in): each entry kept with probability ``density``, value N(0, std^2)."""
    keep = rng.random((n_out, n_in)) < density
    if no_diag:
        np.fill_diagonal(keep, False)
    rows, cols = np.nonzero(keep)
    vals = (rng.standard_normal(rows.size) * std).astype(dtype)
    return sp.csr_matrix((vals, (rows, cols)), shape=(n_out, n_in), dtype=dtype)


def _sign(h: np.ndarray) -> np.ndarray:
    """sign with sign(0) = +1, in h's dtype."""
    one = h.dtype.type(1)
    return np.where(h >= 0, one, -one)


class SparseModel:
    """Weights of the sparse network for a :class:`SparseConfig`.

    ``W_in`` (H, N) and ``J`` (H, H) CSR (row j: incoming couplings of unit j; J has no diagonal),
    ``W_out`` (C, H), ``W_back`` (H, C) frozen. Same interface as :class:`numerics.learning.model.Model`
    for ``numerics.learning.train`` (``train_step``, ``predict``, ``arrays``, ``copy``).
    """

    _SPARSE = ("W_in", "J")

    def __init__(self, config: SparseConfig, rng: np.random.Generator | None = None, *,
                 arrays: dict | None = None):
        if not isinstance(config, SparseConfig):
            raise ValueError("config must be a SparseConfig")
        self.config = cfg = config
        self.dtype = dt = np.dtype(cfg.dtype)
        H, N, C = cfg.H, cfg.N, cfg.C
        if arrays is not None:
            for name, shape in (("W_in", (H, N)), ("J", (H, H))):
                try:
                    m = sp.csr_matrix((arrays[f"{name}_data"], arrays[f"{name}_indices"],
                                       arrays[f"{name}_indptr"]), shape=shape, dtype=dt)
                except KeyError as e:
                    raise ValueError(f"arrays lack {e.args[0]} for this config") from None
                setattr(self, name, m)
            for name, shape in (("W_out", (C, H)), ("W_back", (H, C))):
                if name not in arrays:
                    raise ValueError(f"arrays lack {name} for this config")
                a = np.ascontiguousarray(arrays[name], dtype=dt)
                if a.shape != shape:
                    raise ValueError(f"{name} has shape {a.shape}, config needs {shape}")
                setattr(self, name, a)
        else:
            if rng is None:
                raise ValueError("rng is required to initialise a SparseModel")
            self.W_in = _pattern(rng, H, N, cfg.density_in,
                                 cfg.lambda_in / math.sqrt(N * cfg.density_in), dt)
            self.J = _pattern(rng, H, H, cfg.density_J,
                              cfg.lambda_int / math.sqrt(H * cfg.density_J), dt, no_diag=True)
            self.W_back = (rng.standard_normal((H, C)) * (cfg.lambda_back / math.sqrt(C))).astype(dt)
            self.W_out = (rng.standard_normal((C, H)) * (cfg.lambda_out / math.sqrt(H))).astype(dt)
        for name in self._SPARSE:
            m = getattr(self, name)
            m.sum_duplicates()
            m.sort_indices()
        # the receiver of every stored coupling (CSR rows expanded), for the sampled products
        self._rows = {name: np.repeat(np.arange(H), np.diff(getattr(self, name).indptr))
                      for name in self._SPARSE}
        self._flat_in = self._rows["W_in"].astype(np.int64) * N + self.W_in.indices

    # -- views and (de)serialisation
    def arrays(self) -> dict[str, np.ndarray]:
        out = {"W_out": self.W_out, "W_back": self.W_back}
        for name in self._SPARSE:
            m = getattr(self, name)
            out.update({f"{name}_data": m.data, f"{name}_indices": m.indices,
                        f"{name}_indptr": m.indptr})
        return out

    def copy(self) -> SparseModel:
        return SparseModel(self.config, arrays={k: v.copy() for k, v in self.arrays().items()})

    @property
    def parameters(self) -> int:
        """Trainable parameters: stored W^in and J couplings and W^out."""
        return int(self.W_in.nnz + self.J.nnz + self.W_out.size)

    def dense(self) -> dict[str, np.ndarray]:
        """float64 dense copies (W_in, J with J_D on the diagonal, W_out, W_back)."""
        J = self.J.toarray().astype(np.float64)
        np.fill_diagonal(J, self.config.J_D)
        return {"W_in": self.W_in.toarray().astype(np.float64), "J": J,
                "W_out": self.W_out.astype(np.float64), "W_back": self.W_back.astype(np.float64)}

    # -- dynamics
    def _inputs(self, x) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.config.N:
            raise ValueError(f"x must have shape (B, {self.config.N}), got {x.shape}")
        return np.ascontiguousarray(x.T, dtype=self.dtype)            # (N, B)

    def _relax(self, XT: np.ndarray, feedback: np.ndarray | None, T_clamp: int, T_free: int):
        """(s, h_free) after warm-up, ``T_clamp`` clamped and ``T_free`` free sweeps, as (H, B)."""
        h_in = self.W_in @ XT                                          # constant over sweeps
        s = _sign(h_in)
        J_D = self.dtype.type(self.config.J_D)
        for t in range(T_clamp + T_free):
            h = self.J @ s
            h += h_in
            h += J_D * s
            if t < T_clamp:
                h += feedback
            s = _sign(h)
        h = self.J @ s
        h += h_in
        h += J_D * s
        return s, h

    def train_step(self, x, y, rng: np.random.Generator | None = None) -> StepStats:
        """One step on the batch (x (B, N), integer labels y (B,)); ``rng`` is not used (the
        dynamics are deterministic), accepted for the common interface."""
        cfg = self.config
        XT = self._inputs(x)
        B = XT.shape[1]
        Y_pm = pm1_labels(y, cfg.C, self.dtype)                        # (B, C)
        Y = np.ascontiguousarray(Y_pm.T)
        feedback = self.W_back @ encode_feedback(Y_pm, "darnax").T
        s, h = self._relax(XT, feedback, cfg.T, cfg.T)
        sh = s * h
        E = np.where(sh <= cfg.theta_h, s, self.dtype.type(0))         # u_j s_j, (H, B)
        o = self.W_out @ s
        yo = Y * o
        V = np.where(yo <= cfg.theta_out, Y, self.dtype.type(0))      # v_c y_c, (C, B)
        c_in = cfg.eta_in / math.sqrt(B * cfg.N)
        c_J = cfg.eta_J / math.sqrt(B * cfg.H)
        c_W = cfg.lr_W / math.sqrt(B * cfg.H)
        d_in = (E @ XT.T).ravel().take(self._flat_in)                  # sampled product on W_in
        d_J = np.einsum("kb,kb->k", E[self._rows["J"]], s[self.J.indices])
        d_W = V @ s.T
        self.W_in.data += self.dtype.type(c_in) * d_in
        self.J.data += self.dtype.type(c_J) * d_J
        self.W_out += self.dtype.type(c_W) * d_W
        self.W_in.data *= self.dtype.type(1 - cfg.decay("in", cfg.N))
        self.J.data *= self.dtype.type(1 - cfg.decay("J", cfg.H))
        self.W_out *= self.dtype.type(1 - cfg.decay("W", cfg.H))
        return StepStats(n=B, hidden_unstable=float(np.mean(sh <= cfg.theta_h, axis=0).sum()),
                         readout_unstable=float(np.mean(yo <= cfg.theta_out, axis=0).sum()),
                         flip=float(np.mean(sh <= 0, axis=0).sum()),
                         fit_correct=int(np.sum(np.argmax(o, axis=0) == np.asarray(y))))

    def predict(self, x, rng: np.random.Generator | None = None, batch_size: int = 1000):
        """Readout fields (n, C) after one warm-up and T_eval free sweeps from s = 0."""
        x = np.asarray(x)
        out = np.empty((len(x), self.config.C), dtype=np.float64)
        for a in range(0, len(x), batch_size):
            s, _ = self._relax(self._inputs(x[a:a + batch_size]), None, 0, self.config.T_eval)
            out[a:a + batch_size] = (self.W_out @ s).T
        return out


def _mask(m: sp.csr_matrix) -> np.ndarray:
    """The stored pattern of ``m`` as a dense boolean array (stored zeros included)."""
    ones = np.ones(m.nnz, dtype=np.int8)
    return sp.csr_matrix((ones, m.indices, m.indptr), shape=m.shape).toarray().astype(bool)


def train_step_reference(model: SparseModel, x, y) -> None:
    """The step of :meth:`SparseModel.train_step` written plainly: dense masked float64 matrices,
    one sample at a time, every field a full matrix-vector product, the updates accumulated as outer
    products and applied after the batch. Updates ``model`` in place (through its dense copies)."""
    cfg = model.config
    d = model.dense()
    W_in, J, W_out, W_back = d["W_in"], d["J"], d["W_out"], d["W_back"]
    mask_in, mask_J = (_mask(getattr(model, name)) for name in ("W_in", "J"))
    x = np.asarray(x, dtype=np.float64)
    B = len(x)
    acc_in, acc_J, acc_W = np.zeros_like(W_in), np.zeros_like(J), np.zeros_like(W_out)
    for b in range(B):
        yv = -np.ones(cfg.C)
        yv[int(y[b])] = 1.0
        e = np.where(yv > 0, math.sqrt(cfg.C - 1) / 2, -1 / math.sqrt(cfg.C - 1))
        s = np.zeros(cfg.H)
        s = np.where(W_in @ x[b] + J @ s >= 0, 1.0, -1.0)             # warm-up
        for t in range(2 * cfg.T):
            h = W_in @ x[b] + J @ s + (W_back @ e if t < cfg.T else 0.0)
            s = np.where(h >= 0, 1.0, -1.0)
        h = W_in @ x[b] + J @ s
        u = (s * h <= cfg.theta_h) * s
        o = W_out @ s
        v = (yv * o <= cfg.theta_out) * yv
        acc_in += np.outer(u, x[b])
        acc_J += np.outer(u, s)
        acc_W += np.outer(v, s)
    W_in += cfg.eta_in / math.sqrt(B * cfg.N) * acc_in * mask_in
    J_off = J - np.diag(np.diag(J)) + cfg.eta_J / math.sqrt(B * cfg.H) * acc_J * mask_J
    W_out += cfg.lr_W / math.sqrt(B * cfg.H) * acc_W
    W_in *= 1 - cfg.decay("in", cfg.N)
    J_off *= 1 - cfg.decay("J", cfg.H)
    W_out *= 1 - cfg.decay("W", cfg.H)
    dt = model.dtype
    model.W_in.data[:] = W_in[model._rows["W_in"], model.W_in.indices].astype(dt)
    model.J.data[:] = J_off[model._rows["J"], model.J.indices].astype(dt)
    model.W_out[:] = W_out.astype(dt)
