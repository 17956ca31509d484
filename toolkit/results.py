"""Result files: tidy CSV or ``.npz``, each with a JSON provenance sidecar, written atomically.

Every writer goes through :func:`atomic_write`: the bytes land in a temporary file in the target
directory, are flushed to disk, and are renamed over the target, so a reader (or a resumed sweep)
never sees a half-written file. The sidecar ``<stem>.meta.json`` records the parameters, the seed,
the package version, the git commit of the source tree (``+dirty`` when it has local changes), the
command line and the time.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from . import __version__

_SOURCE_DIR = Path(__file__).resolve().parent.parent


def git_hash() -> str | None:
    """The commit of the source tree this package runs from, ``+dirty`` if modified; None outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=_SOURCE_DIR, capture_output=True,
                              text=True, timeout=5)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=_SOURCE_DIR, capture_output=True, text=True, timeout=5)
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _jsonable(x):
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.generic):
        return _jsonable(x.item())
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, Path):
        return str(x)
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    return repr(x)


def command_line() -> str:
    """The command as a user would retype it: ``python -m pkg.module args`` for a module run with
    ``-m`` (sys.argv[0] is then the module's file path), else the script name and its arguments."""
    if not sys.argv:
        return ""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    head = (f"python -m {spec.name.removesuffix('.__main__')}" if spec is not None and spec.name
            else Path(sys.argv[0]).name)
    return " ".join([head, *sys.argv[1:]])


def provenance(params: Mapping | None = None, seed=None) -> dict:
    """The sidecar dictionary: parameters, seed, versions, git hash, command line, UTC time."""
    return {
        "params": _jsonable(dict(params or {})),
        "seed": _jsonable(seed),
        "package_version": __version__,
        "git_hash": git_hash(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "command": command_line(),
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; results follow the umask
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def sidecar_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.with_name(path.stem + ".meta.json")


def write_json(path: str | os.PathLike, obj) -> Path:
    return atomic_write(path, (json.dumps(_jsonable(obj), indent=2) + "\n").encode())


def write_sidecar(path: str | os.PathLike, params: Mapping | None = None, seed=None,
                  **extra) -> Path:
    meta = provenance(params, seed)
    meta.update(_jsonable(extra))
    return write_json(sidecar_path(path), meta)


def write_csv(path: str | os.PathLike, records: Sequence[Mapping], *, params: Mapping | None = None,
              seed=None, columns: Sequence[str] | None = None, **extra) -> Path:
    """Write tidy ``records`` (one dict per row) as CSV, plus the sidecar. Floats keep 17 digits."""
    if columns is None:
        columns = list(dict.fromkeys(k for r in records for k in r))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in records:
        writer.writerow([_fmt(r.get(c, "")) for c in columns])
    atomic_write(path, buf.getvalue().encode())
    write_sidecar(path, params, seed, **extra)
    return Path(path)


def _fmt(v):
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, np.generic):
        return v.item()
    return v


def read_csv(path: str | os.PathLike) -> list[dict]:
    """Read a CSV written by :func:`write_csv`; numeric fields come back as int or float."""
    with open(path, newline="") as fh:
        return [{k: _parse(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def _parse(v: str):
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return v


def write_npz(path: str | os.PathLike, arrays: Mapping[str, np.ndarray], *,
              params: Mapping | None = None, seed=None, sidecar: bool = True, **extra) -> Path:
    """Write named arrays as a compressed ``.npz`` (atomically), plus the sidecar unless told not."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    atomic_write(path, buf.getvalue())
    if sidecar:
        write_sidecar(path, params, seed, **extra)
    return Path(path)


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def save_figure(fig, path: str | os.PathLike, dpi: int = 170) -> Path:
    """Save a matplotlib figure as PNG atomically."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return atomic_write(path, buf.getvalue())
