"""The learning architecture and the local learning rule (SPEC 3.4, 11), batched over samples.

Architecture (SPEC 3.4). Input x in R^N, L hidden layers s^l in {-1, 0, +1}^H (0 = silent, only before
a unit first receives input, SPEC 11.2), a readout of C units. The field on hidden unit i of layer l is

    h^l_i = sum_{j != i} J^l_ij s^l_j + J_D s^l_i + lam s^{l-1}_i [l > 0] + lam s^{l+1}_i [l < L-1]
            + sum_k W^{in,l}_ik x_k + chi_t [l = L-1] sum_c W^back_ic e_c,

and the readout field is h^out_c = sum_i W^out_ci s^{L-1}_i (layers are 0-based here).
Optional for L > 1 (SPEC 3.4, 3.5a; the E3 runs of C-RB): skip feedback chi_t sum_c W^{back,l}_ic e_c
into every layer l < L-1, with W^{back,l} the Gaussian draw of W^back rescaled to
lambda_skip_back / sqrt(C) (lambda_wbs; the same matrix for every lower layer), and learnable skip
readouts sum_{l<L-1} sum_i W^{out,l}_ci s^l_i added to h^out, W^{out,l} ~ N(0, lambda_skip_out^2 / H)
(lambda_wfs), learned like W^out with eta_skip = lr_skip lambda_skip_out / sqrt(H) (SPEC 11.3's
lr_wfs; its default here is lr_W's, a choice: SPEC does not record C-RB's value). Both are off (0)
by default; the random stream of a model without them is unchanged. chi_t = 1 only
in the clamped phase; e is the label as seen by the feedback (SPEC 11.4). The *free* field is h without
the feedback term (C-BL mode 4: input, recurrence with J_D, inter-module terms both ways); it drives the
warm-up, the free phase, the plasticity test and inference.

Frozen: diag J = J_D, the one-to-one couplings lam (both directions), W^back, the label clamp. Learned:
off-diagonal J^l, W^{in,l} and W^out with the skip readouts (each can be frozen, for the
baselines of SPEC 13). Initialisation
as C-BL (SPEC 3.5a): J^l_ij ~ N(0, 1/H) lambda_int (i != j), W^{in,l} ~ N(0, lambda_in^2 / N),
W^back ~ N(0, lambda_back^2 / C), W^out ~ N(0, lambda_out^2 / H) drawn independently (``tie_init``
draws W^out from the same Gaussian matrix as W^back, as older C-BL versions did).

One training step on a batch of B samples (SPEC 11.2, C-BL schedule, T = ``T``):

- start from silent hidden layers; sweeps t = 0 .. L-1 are the warm-up (free fields); sweeps
  t = L .. T-1 are clamped (free fields + W^back e into the top layer; readout = label); with
  ``double`` T more sweeps without feedback (the readout keeps the label);
- a sweep is partial-synchronous (SPEC 8.3): every field is computed from the current state, then every
  unit takes s <- sign(h) (sign(0) = 0) with probability ``p_update``;
- stability test on the free fields of the state reached: u_i = [s_i h_i <= theta_eff] (ties unstable),
  u_c = [t_c h^out_c <= theta_out] with readout target t (= y, or the C-BL re-encoded readout);
- perceptron-like update with 1/sqrt(B) and multiplicative decay on the learnable blocks only:
  M <- M (1 - wd_M eta_M) + eta_M / sqrt(B) sum_b t_k u_k pre_j, with the C-BL effective rates
  eta_J = lr_J lambda_int / sqrt(H), eta_W = lr_W lambda_out / sqrt(H), eta_in = lr_in lambda_in / sqrt(N)
  (SPEC 11.3).

Thresholds (SPEC 11.3, ``threshold``): ``"bl"`` (default) theta_eff = theta_h + J_D (+ lam when L > 1,
as in C-BL's two-layer runs; added once also for middle layers of deeper chains), i.e. the margin is on
the field without the frozen terms; ``"dx"`` theta_eff = theta_h on the full field.

Label encodings (SPEC 11.4, ``label_encoding``): ``"pm1"`` (default) feeds e = y in {-1, +1}^C back
from the first clamped sweep, readout target y; ``"darnax"`` and ``"c-rescale"`` feed the rescaled
labels (+1 -> sqrt(C-1)/2, -1 -> -1/sqrt(C-1); resp. onehot sqrt(C)/2 - 1/2), target y; ``"bl"``
reproduces C-BL exactly: the readout is a unit of the dynamics with the label field lambda_y y (only
from sweep L on), the feedback reads the readout *state* (one-sweep lag), and before every field
evaluation the readout row is rewritten in place, v <- -1/2 if v = -1 else v sqrt(C)/2, with C-BL's
count of evaluations (one per sweep, one after the clamped phase with double dynamics, one for the
unstable fraction, one for the plasticity), so the plasticity sees readout "spins" C/4 and -sqrt(C)/4.

Inference (SPEC 11.5): silent start, ``T_eval`` (default T) free sweeps (no feedback, no label),
prediction argmax_c h^out_c (fields, not signs).

Implementation. Couplings are stored transposed, ``A[l] = J^l.T`` with a zero diagonal (row k of A holds
the outgoing couplings of unit k), so the recurrent fields of a batch are ``S @ A``. They are kept up to
date incrementally: after a sweep only the rows of A of units that changed in some sample are read
(a dense GEMM when more than ``DENSE_FRACTION`` of the units changed). The J update is one in-place BLAS
GEMM, J <- (1 - wd eta) J + eta/sqrt(B) (t u)^T s, so J is read and written once per step. float32 by
default (``dtype``), float64 available; :func:`train_step_reference` is the plain per-sample float64
version of the same step, used by the tests and as the benchmark baseline.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from dataclasses import fields as dc_fields

import numpy as np
from scipy.linalg import blas

from numerics.dynamics import unstable_mask
from toolkit.checks import finite_scalar, integer

__all__ = [
    "ENCODINGS",
    "INPUT_LAYERS",
    "THRESHOLDS",
    "Model",
    "ModelConfig",
    "StepStats",
    "bl_transform",
    "count_parameters",
    "encode_feedback",
    "evaluate",
    "predict",
    "train_step",
    "train_step_reference",
]

ENCODINGS = ("pm1", "bl", "darnax", "c-rescale")
THRESHOLDS = ("bl", "dx")
INPUT_LAYERS = ("first", "all")
DTYPES = ("float32", "float64")
DENSE_FRACTION = 0.4      # recompute S @ A in full when more units than this fraction changed


# ----------------------------------------------------------------------------------- configuration

def _nonneg(name, v) -> float:
    v = finite_scalar(name, v)
    if v < 0:
        raise ValueError(f"{name} must be >= 0, got {v!r}")
    return v


@dataclass(frozen=True)
class ModelConfig:
    """Every hyperparameter of the architecture (SPEC 3.4) and of the rule (SPEC 11).

    Sizes: N inputs, C classes, H hidden units per layer, L layers. Couplings: J_D (frozen self
    coupling), lam (one-to-one inter-layer coupling, both directions), lambda_int (scale of J),
    lambda_in (W^in), lambda_back (W^back), lambda_out (W^out), lambda_y (label field, ``bl`` only),
    lambda_skip_back / lambda_skip_out (skip feedback / skip readouts of the layers below the top,
    L > 1; 0 = none), input_layers ("first" | "all"). Rule: theta_h, theta_out, threshold
    ("bl" | "dx"), lr_J, lr_W, lr_in, wd_J, wd_W, wd_in, lr_skip, wd_skip (skip readouts), T,
    T_eval (None = T), double, p_update in (0, 1], label_encoding
    ("pm1" | "bl" | "darnax" | "c-rescale"), learn_J / learn_in / learn_out (freeze a block: the
    baselines of SPEC 13), tie_init, skip_out_copy (the skip readouts start as copies of W^out, as
    in the authors' code, instead of independent draws), dtype ("float32" | "float64"). Invalid
    values raise ValueError with a one-line reason.
    """

    N: int
    C: int
    H: int = 200
    L: int = 1
    J_D: float = 0.5
    lam: float = 0.0
    lambda_int: float = 1.0
    lambda_in: float = 5.0
    lambda_back: float = 0.9
    lambda_out: float = 1.0
    lambda_y: float = 1000.0
    lambda_skip_back: float = 0.0
    lambda_skip_out: float = 0.0
    input_layers: str = "first"
    theta_h: float = 0.9
    theta_out: float = 3.0
    threshold: str = "bl"
    lr_J: float = 0.005
    lr_W: float = 0.1
    lr_in: float = 0.03
    wd_J: float = 0.005
    wd_W: float = 0.005
    wd_in: float = 0.0
    lr_skip: float = 0.1
    wd_skip: float = 0.005
    T: int = 5
    T_eval: int | None = None
    double: bool = True
    p_update: float = 1.0
    label_encoding: str = "pm1"
    learn_J: bool = True
    learn_in: bool = True
    learn_out: bool = True
    tie_init: bool = False
    skip_out_copy: bool = False
    dtype: str = "float32"

    def __post_init__(self):
        integer("N", self.N, 1)
        integer("C", self.C, 2)
        integer("H (hidden width)", self.H, 1)
        integer("L (layers)", self.L, 1)
        for name in ("J_D", "lam", "theta_h", "theta_out"):
            finite_scalar(name, getattr(self, name))
        for name in ("lambda_int", "lambda_in", "lambda_back", "lambda_out", "lambda_y", "lr_J",
                     "lr_W", "lr_in", "wd_J", "wd_W", "wd_in", "lambda_skip_back",
                     "lambda_skip_out", "lr_skip", "wd_skip"):
            _nonneg(name, getattr(self, name))
        integer("T", self.T, 1)
        if self.T <= self.L:
            raise ValueError(f"T must exceed the number of layers L = {self.L} (the first L sweeps "
                             f"are the warm-up, the clamped phase needs at least one), got T = "
                             f"{self.T}")
        if self.T_eval is not None:
            integer("T_eval", self.T_eval, 1)
        p = finite_scalar("p_update", self.p_update)
        if not 0.0 < p <= 1.0:
            raise ValueError(f"p_update must lie in (0, 1], got {self.p_update!r}")
        for name, allowed in (("label_encoding", ENCODINGS), ("threshold", THRESHOLDS),
                              ("input_layers", INPUT_LAYERS), ("dtype", DTYPES)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"unknown {name} {getattr(self, name)!r}; expected one of "
                                 f"{', '.join(allowed)}")
        for name in ("double", "learn_J", "learn_in", "learn_out", "tie_init",
                     "skip_out_copy"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        for name in ("wd_J", "wd_W", "wd_in", "wd_skip"):
            eta = {"wd_J": self.eta_J, "wd_W": self.eta_W, "wd_in": self.eta_in,
                   "wd_skip": self.eta_skip}[name]
            if getattr(self, name) * eta >= 1.0:
                raise ValueError(f"{name} * eta = {getattr(self, name) * eta:g} >= 1: the decay "
                                 "factor 1 - wd eta would not be positive")

    # effective rates (SPEC 11.3) and thresholds
    @property
    def eta_J(self) -> float:
        return self.lr_J * self.lambda_int / math.sqrt(self.H)

    @property
    def eta_W(self) -> float:
        return self.lr_W * self.lambda_out / math.sqrt(self.H)

    @property
    def eta_in(self) -> float:
        return self.lr_in * self.lambda_in / math.sqrt(self.N)

    @property
    def eta_skip(self) -> float:
        return self.lr_skip * self.lambda_skip_out / math.sqrt(self.H)

    @property
    def skip_back(self) -> bool:
        """Skip feedback into the layers below the top (L > 1 and lambda_skip_back > 0)."""
        return self.L > 1 and self.lambda_skip_back > 0

    @property
    def skip_out(self) -> bool:
        """Skip readouts from the layers below the top (L > 1 and lambda_skip_out > 0)."""
        return self.L > 1 and self.lambda_skip_out > 0

    @property
    def theta_eff(self) -> float:
        """Hidden threshold on the full field (SPEC 11.3): theta_h (+ J_D (+ lam if L > 1) for "bl")."""
        if self.threshold == "dx":
            return float(self.theta_h)
        return float(self.theta_h + self.J_D + (self.lam if self.L > 1 else 0.0))

    @property
    def sweeps_eval(self) -> int:
        return int(self.T if self.T_eval is None else self.T_eval)

    @property
    def n_input_layers(self) -> int:
        return 1 if self.input_layers == "first" else self.L

    def to_dict(self) -> dict:
        """The fields as a dict; fields added after results were stored (:data:`_LATE_FIELDS`) are
        left out at their defaults, so the task keys of earlier sweeps (hashes of this dict) stay
        valid and their results are reused."""
        d = asdict(self)
        for name in _LATE_FIELDS:
            if d[name] == _FIELD_DEFAULTS[name]:
                del d[name]
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d) -> ModelConfig:
        names = {f.name for f in dc_fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown ModelConfig field(s): {', '.join(sorted(unknown))}")
        return cls(**d)

    def replace(self, **changes) -> ModelConfig:
        return ModelConfig.from_dict({**self.to_dict(), **changes})


def count_parameters(cfg: ModelConfig) -> int:
    """Trainable parameters (SPEC 13, Fig. 2 axis [O]): off-diagonal J of every layer, W^in of the
    layers fed by the input, W^out and the skip readouts; frozen blocks (diag J, lam, W^back, skip
    feedback) are not counted."""
    n = 0
    if cfg.learn_J:
        n += cfg.L * cfg.H * (cfg.H - 1)
    if cfg.learn_in:
        n += cfg.n_input_layers * cfg.N * cfg.H
    if cfg.learn_out:
        n += cfg.H * cfg.C * (cfg.L if cfg.skip_out else 1)
    return n


# ------------------------------------------------------------------------------- label encodings

def pm1_labels(y, C: int, dtype=np.float64) -> np.ndarray:
    """y in {-1, +1}^C: +1 at the true class, -1 elsewhere (SPEC 3.4). ``y`` are integer labels."""
    y = np.asarray(y)
    out = np.full((y.shape[0], C), -1.0, dtype=dtype)
    out[np.arange(y.shape[0]), y] = 1.0
    return out


def encode_feedback(y_pm, encoding: str) -> np.ndarray:
    """The feedback input e(y) of the direct encodings (SPEC 11.4): ``pm1`` e = y; ``darnax``
    +1 -> sqrt(C-1)/2, -1 -> -1/sqrt(C-1); ``c-rescale`` onehot sqrt(C)/2 - 1/2. (``bl`` feeds back
    the readout state; see :func:`bl_transform`.)"""
    C = y_pm.shape[-1]
    if encoding == "pm1":
        return y_pm
    if encoding == "darnax":
        return np.where(y_pm > 0, math.sqrt(C - 1) / 2, -1 / math.sqrt(C - 1)).astype(y_pm.dtype)
    if encoding == "c-rescale":
        return np.where(y_pm > 0, math.sqrt(C) / 2 - 0.5, -0.5).astype(y_pm.dtype)
    raise ValueError(f"encoding {encoding!r} has no direct feedback form")


def bl_transform(v: np.ndarray) -> np.ndarray:
    """C-BL's in-place readout rewrite before every field evaluation (SPEC 11.4):
    v -> -1/2 where v = -1, else v sqrt(C)/2 (so 0 stays 0, +1 -> sqrt(C)/2, -1/2 -> -sqrt(C)/4)."""
    C = v.shape[-1]
    return np.where(v == -1, v.dtype.type(-0.5), v * v.dtype.type(math.sqrt(C) / 2))


# --------------------------------------------------------------------------------------- the model

#: fields added to ModelConfig after sweeps had stored results keyed by its dict (to_dict)
_LATE_FIELDS = ("skip_out_copy",)
_FIELD_DEFAULTS = {f.name: f.default for f in dc_fields(ModelConfig)}


@dataclass(frozen=True)
class StepStats:
    """Sums over the samples of one training step (divide by ``n`` for means).

    hidden_unstable: sum over samples of the fraction of hidden units with s h_free <= theta_eff (the
    units the rule updates); readout_unstable: the same for t h_out <= theta_out; flip: fraction of
    hidden units with s h_free <= 0 (not at a fixed point of the free dynamics); fit_correct: samples
    whose free readout fields at the plasticity state have their argmax at the label.
    """

    n: int
    hidden_unstable: float
    readout_unstable: float
    flip: float
    fit_correct: int


class Model:
    """Weights of the architecture of SPEC 3.4 for a :class:`ModelConfig`.

    Arrays (``dtype`` of the config): ``A`` (L, H, H) with ``A[l] = J^l.T`` and a zero diagonal;
    ``W_in`` (n_input_layers, H, N); ``W_out`` (C, H); ``W_back`` (H, C), frozen; with skip
    connections also ``W_back_skip`` (H, C), frozen (one matrix, fed to every layer below the
    top), and ``W_out_skip`` (L-1, C, H) (None without). ``J`` returns the
    couplings in the row-feeds-neuron convention with J_D on the diagonal (a copy).
    """

    def __init__(self, config: ModelConfig, rng: np.random.Generator | None = None, *,
                 arrays: dict | None = None):
        if not isinstance(config, ModelConfig):
            raise ValueError("config must be a ModelConfig")
        self.config = cfg = config
        self.dtype = np.dtype(cfg.dtype)
        L, H, N, C = cfg.L, cfg.H, cfg.N, cfg.C
        want = {"A": (L, H, H), "W_in": (cfg.n_input_layers, H, N), "W_out": (C, H),
                "W_back": (H, C)}
        if cfg.skip_back:
            want["W_back_skip"] = (H, C)
        if cfg.skip_out:
            want["W_out_skip"] = (L - 1, C, H)
        self.W_back_skip = self.W_out_skip = None
        if arrays is not None:
            missing = set(want) - set(arrays)
            if missing:
                raise ValueError(f"arrays lack {', '.join(sorted(missing))} for this config")
            for k, shape in want.items():
                setattr(self, k, np.ascontiguousarray(arrays[k], dtype=self.dtype))
                if getattr(self, k).shape != shape:
                    raise ValueError(f"{k} has shape {getattr(self, k).shape}, config needs {shape}")
            return
        if rng is None:
            raise ValueError("rng is required to initialise a Model")
        A = np.empty((L, H, H), dtype=self.dtype)
        for l in range(L):
            A[l] = (rng.standard_normal((H, H)) * (cfg.lambda_int / math.sqrt(H))).T
            np.fill_diagonal(A[l], 0.0)
        self.A = A
        self.W_in = (rng.standard_normal((cfg.n_input_layers, H, N))
                     * (cfg.lambda_in / math.sqrt(N))).astype(self.dtype)
        G_back = G = rng.standard_normal((H, C))
        self.W_back = (G * (cfg.lambda_back / math.sqrt(C))).astype(self.dtype)
        if not cfg.tie_init:
            G = rng.standard_normal((H, C))
        self.W_out = np.ascontiguousarray((G.T * (cfg.lambda_out / math.sqrt(H))).astype(self.dtype))
        if cfg.skip_back:                   # the W^back draw, rescaled (SPEC 3.5a): no new draws
            self.W_back_skip = (G_back * (cfg.lambda_skip_back / math.sqrt(C))).astype(self.dtype)
        if cfg.skip_out and cfg.skip_out_copy:  # the authors' code: W^out's values, no new draw
            self.W_out_skip = np.repeat(self.W_out[None], L - 1, axis=0)
        elif cfg.skip_out:                  # drawn last, so models without skips keep their stream
            self.W_out_skip = (rng.standard_normal((L - 1, C, H))
                               * (cfg.lambda_skip_out / math.sqrt(H))).astype(self.dtype)

    # -- views and (de)serialisation
    @property
    def J(self) -> np.ndarray:
        J = np.ascontiguousarray(np.transpose(self.A, (0, 2, 1))).astype(np.float64)
        for l in range(self.config.L):
            np.fill_diagonal(J[l], self.config.J_D)
        return J

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"A": self.A, "W_in": self.W_in, "W_out": self.W_out, "W_back": self.W_back}
        for k in ("W_back_skip", "W_out_skip"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        return out

    def readout_fields(self, S: np.ndarray) -> np.ndarray:
        """h^out = S[L-1] W_out^T (+ sum_{l<L-1} S[l] W_out_skip[l]^T): (B, C) from S (L, B, H)."""
        h = S[-1] @ self.W_out.T
        if self.W_out_skip is not None:
            for l in range(self.config.L - 1):
                h += S[l] @ self.W_out_skip[l].T
        return h

    def skip_feedback(self, e: np.ndarray) -> np.ndarray | None:
        """The clamped-phase input of the lower layers, e W_back_skip^T (the same for each):
        (B, H), or None."""
        if self.W_back_skip is None:
            return None
        return e @ self.W_back_skip.T

    def copy(self) -> Model:
        return Model(self.config, arrays={k: v.copy() for k, v in self.arrays().items()})

    # -- the rule (methods shared with the baselines' interface)
    def train_step(self, x, y, rng: np.random.Generator) -> StepStats:
        return train_step(self, x, y, rng)

    def predict(self, x, rng: np.random.Generator | None = None, batch_size: int = 1000):
        return predict(self, x, rng=rng, batch_size=batch_size)


# ------------------------------------------------------------------------------------ the dynamics

def _gemm(dtype):
    return blas.sgemm if dtype == np.float32 else blas.dgemm


class _State:
    """Hidden states S (L, B, H), recurrent fields R[l] = S[l] @ A[l] kept up to date, input fields."""

    def __init__(self, model: Model, x: np.ndarray):
        cfg = model.config
        self.model = model
        B = x.shape[0]
        dt = model.dtype
        self.S = np.zeros((cfg.L, B, cfg.H), dtype=dt)
        self.R = np.zeros((cfg.L, B, cfg.H), dtype=dt)
        self.X = np.empty((cfg.n_input_layers, B, cfg.H), dtype=dt)
        for l in range(cfg.n_input_layers):
            np.matmul(x, model.W_in[l].T, out=self.X[l])
        self.F = np.empty_like(self.S)

    def free_fields(self) -> np.ndarray:
        """F = R + J_D S + lam (S[l-1] + S[l+1]) + W_in x: the free fields of every layer."""
        cfg = self.model.config
        F, S = self.F, self.S
        np.multiply(S, F.dtype.type(cfg.J_D), out=F)
        F += self.R
        F[: self.X.shape[0]] += self.X
        if cfg.L > 1 and cfg.lam != 0.0:
            lam = F.dtype.type(cfg.lam)
            F[1:] += lam * S[:-1]
            F[:-1] += lam * S[1:]
        return F

    def set_hidden(self, new: np.ndarray) -> None:
        """S <- new, updating R incrementally (rows of A of the units that changed)."""
        A, S, R = self.model.A, self.S, self.R
        H = S.shape[2]
        for l in range(S.shape[0]):
            D = new[l] - S[l]
            changed = np.flatnonzero(D.any(axis=0))
            if changed.size == 0:
                continue
            if changed.size > DENSE_FRACTION * H:
                np.matmul(new[l], A[l], out=R[l])
            else:
                R[l] += D[:, changed] @ A[l][changed]
        S[...] = new


def _sweep(st: _State, rng, p: float, feedback: np.ndarray | None,
           skip: np.ndarray | None = None) -> None:
    """One partial-synchronous sweep of the hidden layers (SPEC 8.3, 11.2): all fields from the
    current state, then s <- sign(h) (sign(0) = 0: silent stays silent) with probability p.
    ``feedback`` (B, H) is added to the top layer's field, ``skip`` (B, H) to each of the others'."""
    F = st.free_fields()
    if feedback is not None:
        F[-1] += feedback
    if skip is not None:
        F[:-1] += skip
    new = np.sign(F)
    if p < 1.0:
        keep = rng.random(F.shape) >= p
        np.copyto(new, st.S, where=keep)
    st.set_hidden(new)


def _readout_sweep(v, h_out, rng, p):
    """The ``bl`` readout unit: v <- sign(h_out) with probability p (same rule as the hidden units)."""
    new = np.sign(h_out)
    if p < 1.0:
        keep = rng.random(new.shape) >= p
        np.copyto(new, v, where=keep)
    return new


def _as_batch(model: Model, x) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != model.config.N:
        raise ValueError(f"x must have shape (B, {model.config.N}), got {x.shape}")
    return np.ascontiguousarray(x, dtype=model.dtype)


def _labels(model: Model, y, B: int) -> np.ndarray:
    y = np.asarray(y)
    if y.shape != (B,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be {B} integer labels")
    if y.size and (y.min() < 0 or y.max() >= model.config.C):
        raise ValueError(f"labels must lie in 0..{model.config.C - 1}")
    return y


def _relax_supervised(model: Model, x: np.ndarray, y: np.ndarray, rng):
    """The dynamics of one training step (SPEC 11.2). Returns (state, readout target t, y_pm)."""
    cfg = model.config
    B = x.shape[0]
    dt = model.dtype
    p = float(cfg.p_update)
    st = _State(model, x)
    y_pm = pm1_labels(y, cfg.C, dt)
    bl = cfg.label_encoding == "bl"
    if bl:
        v = np.zeros((B, cfg.C), dtype=dt)              # silent readout
        label_field = dt.type(cfg.lambda_y) * y_pm
    else:
        e = encode_feedback(y_pm, cfg.label_encoding)
        fb_clamped, skip_clamped = e @ model.W_back.T, model.skip_feedback(e)

    def bl_sweep(feedback_on: bool, label_on: bool):
        nonlocal v
        v = bl_transform(v)                             # C-BL: rewrite before every field evaluation
        h_out = model.readout_fields(st.S)
        if label_on:
            h_out += label_field
        fb = v @ model.W_back.T if feedback_on else None
        _sweep(st, rng, p, fb, model.skip_feedback(v) if feedback_on else None)
        v = _readout_sweep(v, h_out, rng, p)

    for t in range(cfg.T):                              # warm-up (t < L), then clamped
        clamp = t >= cfg.L
        if bl:
            bl_sweep(clamp, clamp)
        else:
            _sweep(st, rng, p, *((fb_clamped, skip_clamped) if clamp else (None, None)))
    if cfg.double:
        if bl:
            v = bl_transform(v)                         # C-BL evaluates fields once between phases
        for _ in range(cfg.T):                          # free phase: no feedback, label kept
            if bl:
                bl_sweep(False, True)
            else:
                _sweep(st, rng, p, None)
    if bl:
        v = bl_transform(bl_transform(v))               # unstable-fraction and plasticity evaluations
        target = v
    else:
        target = y_pm
    return st, target, y_pm


def _update(model: Model, st: _State, x: np.ndarray, target: np.ndarray, y: np.ndarray) -> StepStats:
    """Stability test on the free fields and the perceptron-like update (SPEC 11.2, 11.3)."""
    cfg = model.config
    B = x.shape[0]
    dt = model.dtype
    F = st.free_fields()
    S = st.S
    u = unstable_mask(S, F, cfg.theta_eff)
    flip = np.count_nonzero(S * F <= 0) / (cfg.L * cfg.H)
    h_out = model.readout_fields(S)
    u_out = unstable_mask(target, h_out, cfg.theta_out)
    stats = StepStats(
        n=B,
        hidden_unstable=float(np.count_nonzero(u)) / (cfg.L * cfg.H),
        readout_unstable=float(np.count_nonzero(u_out)) / cfg.C,
        flip=float(flip),
        fit_correct=int(np.count_nonzero(np.argmax(h_out, axis=1) == y)))
    scale = 1.0 / math.sqrt(B)
    TU = S * u                                          # t u with t = s for hidden units
    if cfg.learn_J and cfg.eta_J > 0:
        gemm = _gemm(dt)
        alpha, beta = cfg.eta_J * scale, 1.0 - cfg.wd_J * cfg.eta_J
        for l in range(cfg.L):
            Jv = model.A[l].T                           # F-contiguous view: J^l, updated in place
            out = gemm(alpha, TU[l], S[l], beta=beta, c=Jv, trans_a=1, overwrite_c=1)
            if not np.shares_memory(out, model.A):      # never expected; keeps the result right
                model.A[l] = out.T
            np.fill_diagonal(model.A[l], 0.0)
    if cfg.learn_in and cfg.eta_in > 0:
        alpha, beta = dt.type(cfg.eta_in * scale), dt.type(1.0 - cfg.wd_in * cfg.eta_in)
        for l in range(model.W_in.shape[0]):
            model.W_in[l] *= beta
            model.W_in[l] += alpha * (TU[l].T @ x)
    if cfg.learn_out and cfg.eta_W > 0:
        alpha, beta = dt.type(cfg.eta_W * scale), dt.type(1.0 - cfg.wd_W * cfg.eta_W)
        model.W_out *= beta
        model.W_out += alpha * ((target * u_out).T @ S[-1])
    if cfg.learn_out and model.W_out_skip is not None and cfg.eta_skip > 0:
        alpha, beta = dt.type(cfg.eta_skip * scale), dt.type(1.0 - cfg.wd_skip * cfg.eta_skip)
        for l in range(cfg.L - 1):
            model.W_out_skip[l] *= beta
            model.W_out_skip[l] += alpha * ((target * u_out).T @ S[l])
    return stats


def train_step(model: Model, x, y, rng: np.random.Generator) -> StepStats:
    """One training step of SPEC 11.2 on a batch (x (B, N), integer labels y (B,)); updates ``model``
    in place and returns the step's :class:`StepStats`. ``rng`` draws the partial-synchronous update
    masks (nothing is drawn when p_update = 1)."""
    x = _as_batch(model, x)
    y = _labels(model, y, x.shape[0])
    st, target, _ = _relax_supervised(model, x, y, rng)
    return _update(model, st, x, target, y)


def unstable_fractions(model: Model, x, y, rng: np.random.Generator) -> np.ndarray:
    """Per layer, the fraction of hidden units unstable (s·h_free ≤ θ_eff) after the supervised
    relaxation of a training step (SPEC 11.2) on the batch (x, y); the model is not changed (the
    measurement of :func:`train_step` without its update). Used to look for a property of the
    initial network that decides whether a draw learns at the onset (docs/side_by_side.md: none
    found)."""
    x = _as_batch(model, x)
    y = _labels(model, y, x.shape[0])
    st, _, _ = _relax_supervised(model, x, y, rng)
    u = unstable_mask(st.S, st.free_fields(), model.config.theta_eff)
    return u.mean(axis=(1, 2))


def relax_free(model: Model, x, rng: np.random.Generator | None = None):
    """Inference dynamics (SPEC 11.5): silent start, ``T_eval`` free sweeps. Returns (S, logits)."""
    cfg = model.config
    if cfg.p_update < 1.0 and rng is None:
        raise ValueError("rng is required for inference when p_update < 1")
    x = _as_batch(model, x)
    st = _State(model, x)
    for _ in range(cfg.sweeps_eval):
        _sweep(st, rng, float(cfg.p_update), None)
    return st.S, model.readout_fields(st.S)


def predict(model: Model, x, *, rng: np.random.Generator | None = None,
            batch_size: int = 1000) -> np.ndarray:
    """Readout fields h^out (n, C) after the free relaxation of every sample (SPEC 11.5); the
    prediction is their argmax. Processed in chunks of ``batch_size`` samples."""
    x = np.asarray(x)
    batch_size = integer("batch_size", batch_size, 1)
    out = np.empty((x.shape[0], model.config.C), dtype=model.dtype)
    for s in range(0, x.shape[0], batch_size):
        out[s:s + batch_size] = relax_free(model, x[s:s + batch_size], rng)[1]
    return out


def evaluate(model, x, y, *, rng=None, batch_size: int = 1000) -> float:
    """Accuracy of argmax of ``model.predict`` (NaN for an empty set)."""
    y = np.asarray(y)
    if y.size == 0:
        return float("nan")
    logits = model.predict(x, rng=rng, batch_size=batch_size)
    return float(np.mean(np.argmax(logits, axis=1) == y))


# ----------------------------------------------------------------------- plain per-sample reference

def train_step_reference(model: Model, x, y, rng: np.random.Generator) -> StepStats:
    """The same training step written plainly (the baseline of ``benchmarks/learning.py`` and the
    reference of the tests): one sample at a time, float64, fields recomputed in full with the
    natural J (J_D on the diagonal) at every sweep, the update accumulated as a sum of outer products.
    The random update masks are drawn in the batched order, so for equal ``rng`` states it follows
    the same trajectory as :func:`train_step` up to round-off."""
    cfg = model.config
    x = np.asarray(x, dtype=np.float64)
    B = x.shape[0]
    y = _labels(model, y, B)
    L, H, C = cfg.L, cfg.H, cfg.C
    p = float(cfg.p_update)
    bl = cfg.label_encoding == "bl"
    J = model.J                                                 # (L, H, H), diag J_D, float64
    W_in = model.W_in.astype(np.float64)
    W_out = model.W_out.astype(np.float64)
    W_back = model.W_back.astype(np.float64)
    skips = L - 1 if model.W_out_skip is not None else 0
    W_out_skip = [model.W_out_skip[l].astype(np.float64) for l in range(skips)]
    W_back_skip = None if model.W_back_skip is None else model.W_back_skip.astype(np.float64)
    y_pm = pm1_labels(y, C)
    # the schedule: (feedback, label) per sweep; and the masks, drawn as the batched code draws them
    plan = [(t >= L, t >= L) for t in range(cfg.T)] + ([(False, True)] * cfg.T if cfg.double else [])
    masks = []
    for _ in plan:
        mh = rng.random((L, B, H)) < p if p < 1.0 else None
        mo = rng.random((B, C)) < p if (p < 1.0 and bl) else None
        masks.append((mh, mo))
    dJ = np.zeros((L, H, H))
    dW_in = np.zeros_like(W_in)
    dW_out = np.zeros((C, H))
    dW_out_skip = [np.zeros((C, H)) for _ in range(skips)]
    n_u = n_uo = n_flip = n_fit = 0
    for b in range(B):
        s = np.zeros((L, H))
        v = np.zeros(C)

        def free(s, xb=x[b]):
            h = np.stack([J[l] @ s[l] for l in range(L)])
            for l in range(W_in.shape[0]):
                h[l] += W_in[l] @ xb
            for l in range(L):
                if l > 0:
                    h[l] += cfg.lam * s[l - 1]
                if l < L - 1:
                    h[l] += cfg.lam * s[l + 1]
            return h

        for k, (fb_on, lab_on) in enumerate(plan):
            if bl:
                if cfg.double and k == cfg.T:
                    v = bl_transform(v[None])[0]
                v = bl_transform(v[None])[0]
            h = free(s)
            if fb_on:
                e = v if bl else encode_feedback(y_pm[b:b + 1], cfg.label_encoding)[0]
                h[L - 1] += W_back @ e
                if W_back_skip is not None:
                    h[:L - 1] += W_back_skip @ e
            h_out = W_out @ s[L - 1] + sum(W_out_skip[l] @ s[l] for l in range(skips)) \
                + (cfg.lambda_y * y_pm[b] if (bl and lab_on) else 0.0)
            mh, mo = masks[k]
            s = np.where(mh[:, b], np.sign(h), s) if mh is not None else np.sign(h)
            if bl:
                v = np.where(mo[b], np.sign(h_out), v) if mo is not None else np.sign(h_out)
        if bl:
            v = bl_transform(bl_transform(v[None]))[0]
        t_out = v if bl else y_pm[b]
        h = free(s)
        u = s * h <= cfg.theta_eff
        h_out = W_out @ s[L - 1] + sum(W_out_skip[l] @ s[l] for l in range(skips))
        uo = t_out * h_out <= cfg.theta_out
        n_u += np.count_nonzero(u) / (L * H)
        n_uo += np.count_nonzero(uo) / C
        n_flip += np.count_nonzero(s * h <= 0) / (L * H)
        n_fit += int(np.argmax(h_out) == y[b])
        for l in range(L):
            dJ[l] += np.outer(s[l] * u[l], s[l])
        for l in range(W_in.shape[0]):
            dW_in[l] += np.outer(s[l] * u[l], x[b])
        dW_out += np.outer(t_out * uo, s[L - 1])
        for l in range(skips):
            dW_out_skip[l] += np.outer(t_out * uo, s[l])
    c = 1.0 / math.sqrt(B)
    if cfg.learn_J:
        for l in range(L):
            Jl = J[l] * (1 - cfg.wd_J * cfg.eta_J) + cfg.eta_J * c * dJ[l]
            np.fill_diagonal(Jl, 0.0)
            model.A[l] = Jl.T
    if cfg.learn_in:
        model.W_in[...] = W_in * (1 - cfg.wd_in * cfg.eta_in) + cfg.eta_in * c * dW_in
    if cfg.learn_out:
        model.W_out[...] = W_out * (1 - cfg.wd_W * cfg.eta_W) + cfg.eta_W * c * dW_out
        for l in range(skips):
            model.W_out_skip[l] = (W_out_skip[l] * (1 - cfg.wd_skip * cfg.eta_skip)
                                   + cfg.eta_skip * c * dW_out_skip[l])
    return StepStats(n=B, hidden_unstable=n_u, readout_unstable=n_uo, flip=n_flip,
                     fit_correct=n_fit)
