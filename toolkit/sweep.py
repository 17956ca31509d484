"""One sweep runner for every parameter sweep: any Executor, per-task seeds, atomic, resumable.

A sweep is a function ``fn(seed, **params) -> dict`` (arrays and scalars) and a list of
:class:`Task` s, each with a unique ``key``. :func:`run_sweep`:

- derives each task's ``np.random.SeedSequence`` from the root seed and a hash of the task key
  (so a task's random stream does not depend on the order, the number of tasks, or the workers);
- runs the tasks on any ``concurrent.futures.Executor`` (``None``: in this process; see
  :func:`default_executor` for a local process pool and :func:`dask_executor` for Dask), with BLAS
  capped at one thread inside each task;
- writes each finished task to ``<out>/tasks/<key>.npz`` atomically, and on a rerun loads the
  tasks already on disk instead of computing them again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from .memory import retain_freed_memory
from .progress import progress
from .results import read_npz, write_npz
from .rng import check_seed

_KEY_RE = re.compile(r"^[A-Za-z0-9_.=+-]+$")


@dataclass(frozen=True)
class Task:
    """One unit of a sweep: ``key`` names its result file; ``params`` are passed to the function."""

    key: str
    params: Mapping = field(default_factory=dict)

    def __post_init__(self):
        if not _KEY_RE.match(self.key):
            raise ValueError(f"task key must match {_KEY_RE.pattern}, got {self.key!r}")


def task_seed(root: int, key: str) -> np.random.SeedSequence:
    """SeedSequence(root, spawn_key = 4 words of sha256(key)): stable across runs and workers."""
    digest = hashlib.sha256(key.encode()).digest()
    words = tuple(int.from_bytes(digest[4 * i:4 * i + 4], "little") for i in range(4))
    return np.random.SeedSequence(check_seed(root), spawn_key=words)


def _run_task(fn: Callable, seed: np.random.SeedSequence, params: Mapping) -> dict:
    with threadpool_limits(limits=1):
        return fn(seed, **params)


def _cap_blas():
    """Worker set-up: one BLAS thread, freed memory kept (:func:`toolkit.memory.retain_freed_memory`)."""
    threadpool_limits(limits=1)
    retain_freed_memory()


def default_executor(workers: int | None = None) -> Executor:
    """A local process pool (``workers`` defaults to the CPU count) whose workers use one BLAS thread."""
    return ProcessPoolExecutor(max_workers=workers or os.cpu_count(), initializer=_cap_blas)


def dask_executor(scheduler: str | None = None, workers: int | None = None):
    """A Dask ``Client.get_executor()``: connect to ``scheduler``, or start a local cluster.

    Returns (executor, client); close the client when done. Needs the ``dist`` extra.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ValueError("Dask is not installed: pip install 'dynlearn-toolkit[dist]'") from exc
    if scheduler:
        client = Client(scheduler)
    else:
        client = Client(LocalCluster(n_workers=workers or os.cpu_count(), threads_per_worker=1,
                                     processes=True, dashboard_address=None))
    return client.get_executor(), client


def _readable(path: Path) -> bool:
    """A finished task file: present and a complete ``.npz`` (a damaged one is recomputed)."""
    if not path.exists():
        return False
    try:
        read_npz(path)
    except (OSError, EOFError, ValueError, zipfile.BadZipFile):
        return False
    return True


def task_path(out_dir: str | os.PathLike, key: str) -> Path:
    return Path(out_dir) / "tasks" / f"{key}.npz"


def run_sweep(fn: Callable[..., Mapping], tasks: Iterable[Task], out_dir: str | os.PathLike, *,
              seed: int = 0, executor: Executor | None = None, quiet: bool = False,
              desc: str = "sweep") -> dict[str, dict]:
    """Run ``fn`` on every task not already on disk; return ``{key: result}`` for all tasks.

    Results are the dicts ``fn`` returned, after a round trip through ``.npz`` (scalars become
    0-d arrays), whether computed now or loaded, so a resumed sweep returns exactly what an
    uninterrupted one does. ``fn`` must be a module-level function (picklable).
    """
    tasks = list(tasks)
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        raise ValueError("task keys must be unique")
    Path(out_dir).mkdir(parents=True, exist_ok=True)  # an unusable --out fails before any work
    todo = [t for t in tasks if not _readable(task_path(out_dir, t.key))]
    bar = progress(total=len(todo), desc=desc, quiet=quiet)

    def _store(task: Task, result: Mapping):
        arrays = {k: np.asarray(v) for k, v in result.items()}
        arrays["_params"] = np.asarray(json.dumps(dict(task.params), sort_keys=True, default=str))
        write_npz(task_path(out_dir, task.key), arrays, sidecar=False)
        bar.update(1)

    try:
        if executor is None:
            for t in todo:
                _store(t, _run_task(fn, task_seed(seed, t.key), t.params))
        else:
            futures = {executor.submit(_run_task, fn, task_seed(seed, t.key), t.params): t
                       for t in todo}
            try:
                for fut in as_completed(futures):
                    _store(futures[fut], fut.result())
            except BaseException:
                for fut in futures:  # a failed task or store: drop the work not yet started
                    fut.cancel()
                raise
    finally:
        bar.close()
    out = {}
    for t in tasks:
        res = read_npz(task_path(out_dir, t.key))
        res.pop("_params", None)
        out[t.key] = res
    return out


def add_executor_args(parser) -> None:
    """``--executor process|dask``, ``--workers N`` and ``--scheduler ADDRESS`` on a command."""
    from .cli import nonneg_int
    parser.add_argument("--executor", choices=("process", "dask"), default="process",
                        help="local process pool, or Dask distributed (needs the dist extra)")
    parser.add_argument("--workers", type=nonneg_int, default=0,
                        help="workers (0: one per CPU; 1 with --executor process: in this process; "
                             "with --executor dask and no --scheduler: a local cluster of N)")
    parser.add_argument("--scheduler", default=None,
                        help="Dask scheduler address, e.g. tcp://host:8786 (with --executor dask)")


@contextmanager
def executor_from_args(args):
    """The executor the flags of :func:`add_executor_args` ask for (None: in this process),
    shut down (or its Dask client closed) on exit."""
    if args.scheduler and args.executor != "dask":
        raise ValueError("--scheduler needs --executor dask")
    client = None
    if args.executor == "dask":
        ex, client = dask_executor(args.scheduler, args.workers or None)
    else:
        ex = None if args.workers == 1 else default_executor(args.workers or None)
    try:
        yield ex
    finally:
        if client is not None:
            client.close()
        elif ex is not None:
            ex.shutdown(cancel_futures=True)
