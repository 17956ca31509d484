"""Shared conventions: result files, CLI pattern, RNG streams and the resumable sweep runner."""

import json
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from tests import sweep_fns
from toolkit import cli, results, rng, sweep


def test_csv_roundtrip_and_sidecar(tmp_path):
    rows = [dict(a=1, b=0.1 + 0.2, c="x"), dict(a=2, b=1e-300, c="y")]
    p = results.write_csv(tmp_path / "r.csv", rows, params=dict(J_D=np.array([0.1, 0.2])), seed=7)
    back = results.read_csv(p)
    assert back == rows  # floats keep all 17 digits
    meta = json.loads((tmp_path / "r.meta.json").read_text())
    assert meta["params"]["J_D"] == [0.1, 0.2] and meta["seed"] == 7
    assert {"package_version", "git_hash", "created_utc", "command"} <= set(meta)


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    p = tmp_path / "f.bin"
    results.atomic_write(p, b"old")
    with pytest.raises(TypeError):
        results.atomic_write(p, "not bytes")  # fails inside the write
    assert p.read_bytes() == b"old"
    assert [f.name for f in tmp_path.iterdir()] == ["f.bin"]  # no temporary left behind


def test_npz_roundtrip(tmp_path):
    p = results.write_npz(tmp_path / "a.npz", {"x": np.arange(5)}, params={}, seed=None)
    assert np.array_equal(results.read_npz(p)["x"], np.arange(5))
    assert (tmp_path / "a.meta.json").exists()


@pytest.mark.parametrize("text,expected", [("0:1:3", [0, 0.5, 1]), ("0.1, 0.2", [0.1, 0.2]),
                                           ("-1", [-1.0])])
def test_parse_grid(text, expected):
    assert np.allclose(cli.parse_grid(text), expected)


@pytest.mark.parametrize("text", ["nan", "0,inf", "a,b", "1:2", "1:2:0", "", "0:1:x"])
def test_parse_grid_rejects(text):
    with pytest.raises(cli.UsageError):
        cli.parse_grid(text)


def test_parse_grid_minimum():
    with pytest.raises(cli.UsageError):
        cli.parse_grid("-0.5,1", minimum=0)


def test_rng_helpers():
    assert rng.make_rng(3).integers(1 << 30) == np.random.default_rng(3).integers(1 << 30)
    g = np.random.default_rng(1)
    assert rng.make_rng(g) is g
    with pytest.raises(ValueError):
        rng.make_rng(-1)
    a, b = rng.spawn_seeds(5, 2)
    assert rng.make_rng(a).random() != rng.make_rng(b).random()


def test_task_seed_depends_on_key_only():
    s1 = sweep.task_seed(0, "a").generate_state(4)
    assert np.array_equal(s1, sweep.task_seed(0, "a").generate_state(4))
    assert not np.array_equal(s1, sweep.task_seed(0, "b").generate_state(4))
    assert not np.array_equal(s1, sweep.task_seed(1, "a").generate_state(4))
    with pytest.raises(ValueError):
        sweep.Task("bad/key")


def _tasks(marker=None):
    return [sweep.Task(f"t{i}", dict(n=4 + i, fail_marker=marker, key=f"t{i}")) for i in range(6)]


def test_sweep_same_results_serial_and_pool(tmp_path):
    serial = sweep.run_sweep(sweep_fns.draw, _tasks(), tmp_path / "s", seed=11, quiet=True)
    with ProcessPoolExecutor(2) as ex:
        pooled = sweep.run_sweep(sweep_fns.draw, _tasks(), tmp_path / "p", seed=11, executor=ex,
                                 quiet=True)
    for k in serial:
        assert np.array_equal(serial[k]["x"], pooled[k]["x"])


def test_sweep_resumes_after_crash(tmp_path):
    marker = tmp_path / "crash"
    marker.touch()
    with pytest.raises(RuntimeError):
        sweep.run_sweep(sweep_fns.draw, _tasks(str(marker)), tmp_path / "r", seed=5, quiet=True)
    done = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "r" / "tasks").iterdir()}
    assert 0 < len(done) < 6 and not any(n.endswith(".tmp") for n in done)
    os.unlink(marker)
    resumed = sweep.run_sweep(sweep_fns.draw, _tasks(str(marker)), tmp_path / "r", seed=5,
                              quiet=True)
    # finished tasks were not recomputed, and the result equals an uninterrupted run
    assert all((tmp_path / "r" / "tasks" / n).stat().st_mtime_ns == t for n, t in done.items())
    fresh = sweep.run_sweep(sweep_fns.draw, _tasks(str(marker)), tmp_path / "f", seed=5, quiet=True)
    for k in fresh:
        assert np.array_equal(fresh[k]["x"], resumed[k]["x"])


def test_cli_run_reports_one_line(capsys):
    def main(argv):
        raise ValueError("N too large to enumerate: 40 > 34\nsecond line")
    assert cli.run(main, [], prog="cmd") == 2
    err = capsys.readouterr().err
    assert err == "cmd: error: N too large to enumerate: 40 > 34\n"


def test_command_line_of_a_module_run(tmp_path):
    """A sidecar written under ``python -m`` names the module, as the user would retype it."""
    code = ("import json, sys; from toolkit.results import write_csv; "
            f"p = write_csv({str(tmp_path / 'x.csv')!r}, [dict(a=1)]); "
            "print(json.load(open(str(p).replace('.csv', '.meta.json')))['command'])")
    mod = tmp_path / "cmdprobe.py"
    mod.write_text(code)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.getcwd()])}
    out = subprocess.run([sys.executable, "-m", "cmdprobe", "--flag", "3"], capture_output=True,
                         text=True, env=env, check=True).stdout.strip()
    assert out == "python -m cmdprobe --flag 3"


def test_retain_freed_memory_keeps_large_arrays_on_the_heap():
    """After retain_freed_memory, a freed 8 MB array is reused for the next one (same address), which
    glibc's default (a fresh mmap per allocation above 128 KiB .. 32 MiB) does not guarantee."""
    import subprocess
    import sys
    code = ("import numpy as np; from toolkit.memory import retain_freed_memory as r; "
            "print(r()); a = np.ones(10**6); p = a.ctypes.data; del a; "
            "b = np.ones(10**6); print(b.ctypes.data == p)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]
