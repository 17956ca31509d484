"""Baselines of SPEC 13, on the same data pipeline and with the interface of :class:`model.Model`
(``train_step(x, y, rng) -> StepStats``, ``predict(x, rng=None, batch_size=...)``, ``arrays()``).

- :func:`random_features_config`, :func:`reservoir_config`: the recurrent model of :mod:`.model` with
  frozen blocks, so only W^out learns, by the same margin rule (SPEC 13, C-BL):
  random features: lambda_int = 0 and J_D = 0 (diagonal included), lambda_back = 0, W^in fixed, T = 2,
  so the hidden layer is sign(W^in x); reservoir: J (J_D, lambda_int as given) and W^in random and
  fixed, lambda_back = 0, T as given (5 by default). Double dynamics is off for both (without feedback
  it would only run the free dynamics longer than inference does).
- :class:`BinarizedMLP`: Linear(N -> H, no bias) -> sign (forward) with a straight-through gradient of
  clamp(beta z, -1, 1) (``square_tanh``) or tanh(beta z) (``beta_tanh``) -> Linear(H -> C, no bias)
  -> softmax cross-entropy, trained with AdamW (decoupled weight decay), NumPy manual gradients
  (SPEC 13, C-BL ``src/mlp.py``). PyTorch's default init U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  Optional muP-style readout multiplier 1/m, m = H / ``mup_base`` (SPEC leaves muP open [O]; only the
  multiplier is implemented, learning rates are not rescaled).
- :class:`Perceptron`: the plain multi-class perceptron on the raw input: C units h_c = W_c . x, each
  trained by the same margin rule as the readout (u_c = [y_c h_c <= theta_out], dW = eta/sqrt(B)
  sum_b y u x, eta = lr_W / sqrt(N), decay wd_W eta), W = 0 at start; prediction argmax_c h_c.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from dataclasses import fields as dc_fields

import numpy as np

from toolkit.checks import finite_scalar, integer

from .model import ModelConfig, StepStats, pm1_labels

__all__ = [
    "SURROGATES",
    "BinarizedMLP",
    "MLPConfig",
    "Perceptron",
    "PerceptronConfig",
    "random_features_config",
    "reservoir_config",
]

SURROGATES = ("square_tanh", "beta_tanh")
_NAN = float("nan")


def random_features_config(cfg: ModelConfig) -> ModelConfig:
    """Random features (SPEC 13): hidden = sign(W^in x), W^in fixed; only W^out learns."""
    return cfg.replace(lambda_int=0.0, J_D=0.0, lam=0.0, lambda_back=0.0, learn_J=False,
                       learn_in=False, T=max(2, cfg.L + 1), T_eval=None, double=False)


def reservoir_config(cfg: ModelConfig) -> ModelConfig:
    """Reservoir (SPEC 13): random fixed J (with J_D) and W^in, no feedback; only W^out learns."""
    return cfg.replace(lambda_back=0.0, learn_J=False, learn_in=False, double=False)


def _check_batch(x, y, N, C):
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 2 or x.shape[1] != N:
        raise ValueError(f"x must have shape (B, {N}), got {x.shape}")
    if y.shape != (x.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be {x.shape[0]} integer labels")
    if y.size and (y.min() < 0 or y.max() >= C):
        raise ValueError(f"labels must lie in 0..{C - 1}")
    return x, y


class _ConfigMixin:
    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d):
        names = {f.name for f in dc_fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown {cls.__name__} field(s): {', '.join(sorted(unknown))}")
        return cls(**d)


# ------------------------------------------------------------------------------- binarised MLP

@dataclass(frozen=True)
class MLPConfig(_ConfigMixin):
    """Binarised MLP N -> H -> C (SPEC 13). AdamW: lr, wd (decoupled), betas, eps."""

    N: int
    C: int
    H: int = 200
    beta: float = 1.0
    surrogate: str = "square_tanh"
    lr: float = 1e-3
    wd: float = 0.02
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    mup_base: int | None = None
    dtype: str = "float32"

    def __post_init__(self):
        integer("N", self.N, 1)
        integer("C", self.C, 2)
        integer("H (hidden width)", self.H, 1)
        for name in ("beta", "lr", "wd", "eps"):
            v = finite_scalar(name, getattr(self, name))
            if v < 0 or (name in ("beta", "eps") and v == 0):
                raise ValueError(f"{name} must be {'> 0' if name in ('beta', 'eps') else '>= 0'}, "
                                 f"got {v!r}")
        for name in ("beta1", "beta2"):
            v = finite_scalar(name, getattr(self, name))
            if not 0 <= v < 1:
                raise ValueError(f"{name} must lie in [0, 1), got {v!r}")
        if self.surrogate not in SURROGATES:
            raise ValueError(f"unknown surrogate {self.surrogate!r}; expected one of "
                             f"{', '.join(SURROGATES)}")
        if self.mup_base is not None:
            integer("mup_base", self.mup_base, 1)
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")

    @property
    def multiplier(self) -> float:
        return 1.0 if self.mup_base is None else self.mup_base / self.H


def _sign_pm(z):
    """sign with sign(0) = +1 (SPEC 2), as +-1 of z's dtype."""
    return np.where(z >= 0, z.dtype.type(1), z.dtype.type(-1))


class BinarizedMLP:
    """The binarised MLP of SPEC 13 trained by backprop with AdamW (see the module docstring)."""

    _KEYS = ("W1", "W2", "m1", "v1", "m2", "v2", "t")

    def __init__(self, config: MLPConfig, rng: np.random.Generator | None = None, *,
                 arrays: dict | None = None):
        self.config = cfg = config
        dt = np.dtype(cfg.dtype)
        self.dtype = dt
        if arrays is not None:
            for k in self._KEYS:
                setattr(self, k, np.array(arrays[k], dtype=np.int64 if k == "t" else dt))
            return
        if rng is None:
            raise ValueError("rng is required to initialise a BinarizedMLP")
        b1, b2 = 1 / math.sqrt(cfg.N), 1 / math.sqrt(cfg.H)
        self.W1 = rng.uniform(-b1, b1, (cfg.H, cfg.N)).astype(dt)
        self.W2 = rng.uniform(-b2, b2, (cfg.C, cfg.H)).astype(dt)
        self.m1, self.v1 = np.zeros_like(self.W1), np.zeros_like(self.W1)
        self.m2, self.v2 = np.zeros_like(self.W2), np.zeros_like(self.W2)
        self.t = np.array(0, dtype=np.int64)

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in self._KEYS}

    def _forward(self, x):
        z = x @ self.W1.T
        a = _sign_pm(z)
        return z, a, (a @ self.W2.T) * self.dtype.type(self.config.multiplier)

    def _adamw(self, W, g, m, v):
        cfg = self.config
        t = int(self.t)
        W *= self.dtype.type(1 - cfg.lr * cfg.wd)
        m *= self.dtype.type(cfg.beta1)
        m += self.dtype.type(1 - cfg.beta1) * g
        v *= self.dtype.type(cfg.beta2)
        v += self.dtype.type(1 - cfg.beta2) * g * g
        mhat = m / (1 - cfg.beta1 ** t)
        vhat = v / (1 - cfg.beta2 ** t)
        W -= self.dtype.type(cfg.lr) * mhat / (np.sqrt(vhat) + self.dtype.type(cfg.eps))

    def gradients(self, x, y):
        """(mean cross-entropy, correct predictions, dL/dW1, dL/dW2) of a batch, the W1 gradient
        through the straight-through surrogate of sign (SPEC 13)."""
        cfg = self.config
        dt = self.dtype
        x, y = _check_batch(x, y, cfg.N, cfg.C)
        x = x.astype(dt)
        B = x.shape[0]
        z, a, logits = self._forward(x)
        correct = int(np.count_nonzero(np.argmax(logits, axis=1) == y))
        shifted = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(shifted)
        norm = p.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(norm[:, 0]) - shifted[np.arange(B), y]))
        p /= norm
        p[np.arange(B), y] -= 1
        g = p / dt.type(B) * dt.type(cfg.multiplier)                  # dL / d(a W2^T)
        gW2 = g.T @ a
        da = g @ self.W2
        bz = dt.type(cfg.beta) * z
        if cfg.surrogate == "square_tanh":                           # d clamp(beta z, -1, 1) / dz
            dz = da * (dt.type(cfg.beta) * (np.abs(bz) < 1))
        else:                                                        # d tanh(beta z) / dz
            dz = da * (dt.type(cfg.beta) * (1 - np.tanh(bz) ** 2))
        return loss, correct, dz.T @ x, gW2

    def train_step(self, x, y, rng=None) -> StepStats:
        """One AdamW step on the mean softmax cross-entropy of the batch (straight-through sign)."""
        _, correct, gW1, gW2 = self.gradients(x, y)
        self.t = np.array(int(self.t) + 1, dtype=np.int64)
        self._adamw(self.W1, gW1, self.m1, self.v1)
        self._adamw(self.W2, gW2, self.m2, self.v2)
        return StepStats(n=len(y), hidden_unstable=_NAN, readout_unstable=_NAN, flip=_NAN,
                         fit_correct=correct)

    def predict(self, x, rng=None, batch_size: int = 1000) -> np.ndarray:
        x = np.asarray(x)
        out = np.empty((x.shape[0], self.config.C), dtype=self.dtype)
        for s in range(0, x.shape[0], batch_size):
            out[s:s + batch_size] = self._forward(x[s:s + batch_size].astype(self.dtype))[2]
        return out


# ------------------------------------------------------------------------------------ perceptron

@dataclass(frozen=True)
class PerceptronConfig(_ConfigMixin):
    """Plain multi-class perceptron with margin (see the module docstring)."""

    N: int
    C: int
    theta_out: float = 3.0
    lr_W: float = 0.1
    wd_W: float = 0.0
    dtype: str = "float32"

    def __post_init__(self):
        integer("N", self.N, 1)
        integer("C", self.C, 2)
        finite_scalar("theta_out", self.theta_out)
        for name in ("lr_W", "wd_W"):
            if finite_scalar(name, getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")

    @property
    def eta(self) -> float:
        return self.lr_W / math.sqrt(self.N)


class Perceptron:
    """C perceptrons on the raw input, margin rule with 1/sqrt(B) and decay (SPEC 13)."""

    def __init__(self, config: PerceptronConfig, rng=None, *, arrays: dict | None = None):
        self.config = cfg = config
        self.dtype = np.dtype(cfg.dtype)
        self.W = (np.array(arrays["W"], dtype=self.dtype) if arrays is not None
                  else np.zeros((cfg.C, cfg.N), dtype=self.dtype))

    def arrays(self) -> dict[str, np.ndarray]:
        return {"W": self.W}

    def train_step(self, x, y, rng=None) -> StepStats:
        cfg = self.config
        x, y = _check_batch(x, y, cfg.N, cfg.C)
        x = x.astype(self.dtype)
        h = x @ self.W.T
        y_pm = pm1_labels(y, cfg.C, self.dtype)
        u = y_pm * h <= cfg.theta_out
        correct = int(np.count_nonzero(np.argmax(h, axis=1) == y))
        self.W *= self.dtype.type(1 - cfg.wd_W * cfg.eta)
        self.W += self.dtype.type(cfg.eta / math.sqrt(x.shape[0])) * ((y_pm * u).T @ x)
        return StepStats(n=x.shape[0], hidden_unstable=_NAN,
                         readout_unstable=float(np.count_nonzero(u)) / cfg.C, flip=_NAN,
                         fit_correct=correct)

    def predict(self, x, rng=None, batch_size: int = 1000) -> np.ndarray:
        return np.asarray(x).astype(self.dtype) @ self.W.T
