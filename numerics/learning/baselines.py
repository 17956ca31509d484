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
    "INITS",
    "OPTIMIZERS",
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

OPTIMIZERS = ("adamw", "sgd")
INITS = ("uniform", "xavier")


@dataclass(frozen=True)
class MLPConfig(_ConfigMixin):
    """Binarised MLP N -> H (-> H ...) -> C (SPEC 13): ``hidden_layers`` binarised layers of width H.
    ``hidden_layers = 1`` is C-BL's ``src/mlp.py``; 2 is the "binarized 3-layer perceptron" of the v2
    Fig. 2 (sisyphus-darnn ``clipped-3layer-mlp``: three weight matrices, Xavier init, SGD with
    momentum 0.9). Optimiser: ``adamw`` (lr, decoupled wd, betas, eps) or ``sgd`` (lr, momentum,
    coupled L2 wd); init ``uniform`` (PyTorch's U(+-1/sqrt(fan_in))) or ``xavier`` (uniform,
    +-sqrt(6/(fan_in + fan_out)))."""

    N: int
    C: int
    H: int = 200
    hidden_layers: int = 1
    beta: float = 1.0
    surrogate: str = "square_tanh"
    optimizer: str = "adamw"
    lr: float = 1e-3
    wd: float = 0.02
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    momentum: float = 0.9
    init: str = "uniform"
    mup_base: int | None = None
    dtype: str = "float32"

    def __post_init__(self):
        integer("N", self.N, 1)
        integer("C", self.C, 2)
        integer("H (hidden width)", self.H, 1)
        integer("hidden_layers", self.hidden_layers, 1)
        for name in ("beta", "lr", "wd", "eps"):
            v = finite_scalar(name, getattr(self, name))
            if v < 0 or (name in ("beta", "eps") and v == 0):
                raise ValueError(f"{name} must be {'> 0' if name in ('beta', 'eps') else '>= 0'}, "
                                 f"got {v!r}")
        for name in ("beta1", "beta2", "momentum"):
            v = finite_scalar(name, getattr(self, name))
            if not 0 <= v < 1:
                raise ValueError(f"{name} must lie in [0, 1), got {v!r}")
        for name, allowed in (("surrogate", SURROGATES), ("optimizer", OPTIMIZERS),
                              ("init", INITS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"unknown {name} {getattr(self, name)!r}; expected one of "
                                 f"{', '.join(allowed)}")
        if self.mup_base is not None:
            integer("mup_base", self.mup_base, 1)
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")

    @property
    def multiplier(self) -> float:
        return 1.0 if self.mup_base is None else self.mup_base / self.H

    @property
    def shapes(self) -> list[tuple[int, int]]:
        """(fan_out, fan_in) of every weight matrix, input side first."""
        widths = [self.N] + [self.H] * self.hidden_layers + [self.C]
        return [(b, a) for a, b in zip(widths, widths[1:])]

    @property
    def parameters(self) -> int:
        """Trainable parameters (no biases): N H + (hidden_layers - 1) H^2 + H C."""
        return sum(a * b for a, b in self.shapes)


def _sign_pm(z):
    """sign with sign(0) = +1 (SPEC 2), as +-1 of z's dtype."""
    return np.where(z >= 0, z.dtype.type(1), z.dtype.type(-1))


class BinarizedMLP:
    """The binarised MLP of SPEC 13 trained by backprop (see the module docstring and
    :class:`MLPConfig`). Arrays: ``W1 .. W{k+1}`` (fan_out, fan_in), the optimiser moments ``m*``
    (AdamW first moment or SGD velocity) and ``v*`` (AdamW second moment) and the step count ``t``."""

    def __init__(self, config: MLPConfig, rng: np.random.Generator | None = None, *,
                 arrays: dict | None = None):
        self.config = cfg = config
        dt = np.dtype(cfg.dtype)
        self.dtype = dt
        n = len(cfg.shapes)
        self._keys = ([f"W{i}" for i in range(1, n + 1)] + [f"{a}{i}" for i in range(1, n + 1)
                                                             for a in ("m", "v")] + ["t"])
        if arrays is not None:
            missing = [k for k in self._keys if k not in arrays]
            if missing:
                raise ValueError(f"arrays lack {', '.join(missing)} for this config")
            for k in self._keys:
                setattr(self, k, np.array(arrays[k], dtype=np.int64 if k == "t" else dt))
            return
        if rng is None:
            raise ValueError("rng is required to initialise a BinarizedMLP")
        for i, (fo, fi) in enumerate(cfg.shapes, 1):
            b = 1 / math.sqrt(fi) if cfg.init == "uniform" else math.sqrt(6 / (fi + fo))
            W = rng.uniform(-b, b, (fo, fi)).astype(dt)
            setattr(self, f"W{i}", W)
            setattr(self, f"m{i}", np.zeros_like(W))
            setattr(self, f"v{i}", np.zeros_like(W))
        self.t = np.array(0, dtype=np.int64)

    @property
    def weights(self) -> list[np.ndarray]:
        return [getattr(self, f"W{i}") for i in range(1, len(self.config.shapes) + 1)]

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in self._keys}

    def _forward(self, x):
        """(pre-activations z_l, activations a_l (a_0 = x), logits)."""
        Ws = self.weights
        zs, acts = [], [x]
        for W in Ws[:-1]:
            zs.append(acts[-1] @ W.T)
            acts.append(_sign_pm(zs[-1]))
        return zs, acts, (acts[-1] @ Ws[-1].T) * self.dtype.type(self.config.multiplier)

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

    def _sgd(self, W, g, m):
        """PyTorch's SGD: g += wd W; m = momentum m + g; W -= lr m."""
        cfg = self.config
        if cfg.wd:
            g = g + self.dtype.type(cfg.wd) * W
        m *= self.dtype.type(cfg.momentum)
        m += g
        W -= self.dtype.type(cfg.lr) * m

    def gradients(self, x, y):
        """(mean cross-entropy, correct predictions, [dL/dW1, ..., dL/dW{k+1}]) of a batch, through
        the straight-through surrogate of sign in every hidden layer (SPEC 13)."""
        cfg = self.config
        dt = self.dtype
        x, y = _check_batch(x, y, cfg.N, cfg.C)
        x = x.astype(dt)
        B = x.shape[0]
        zs, acts, logits = self._forward(x)
        correct = int(np.count_nonzero(np.argmax(logits, axis=1) == y))
        shifted = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(shifted)
        norm = p.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(norm[:, 0]) - shifted[np.arange(B), y]))
        p /= norm
        p[np.arange(B), y] -= 1
        g = p / dt.type(B) * dt.type(cfg.multiplier)                  # dL / d(a_k W^T)
        Ws = self.weights
        grads = [None] * len(Ws)
        grads[-1] = g.T @ acts[-1]
        for layer in range(len(Ws) - 2, -1, -1):
            da = g @ Ws[layer + 1]
            bz = dt.type(cfg.beta) * zs[layer]
            if cfg.surrogate == "square_tanh":                       # d clamp(beta z, -1, 1) / dz
                g = da * (dt.type(cfg.beta) * (np.abs(bz) < 1))
            else:                                                    # d tanh(beta z) / dz
                g = da * (dt.type(cfg.beta) * (1 - np.tanh(bz) ** 2))
            grads[layer] = g.T @ acts[layer]
        return loss, correct, grads

    def train_step(self, x, y, rng=None) -> StepStats:
        """One optimiser step on the mean softmax cross-entropy of the batch (straight-through
        sign)."""
        _, correct, grads = self.gradients(x, y)
        self.t = np.array(int(self.t) + 1, dtype=np.int64)
        for i, g in enumerate(grads, 1):
            W, m = getattr(self, f"W{i}"), getattr(self, f"m{i}")
            if self.config.optimizer == "adamw":
                self._adamw(W, g, m, getattr(self, f"v{i}"))
            else:
                self._sgd(W, g, m)
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
