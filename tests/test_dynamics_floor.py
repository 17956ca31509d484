"""``benchmarks/dynamics_floor.py``: the floors it prints follow from the kernels it times."""

import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.results import read_csv

ROOT = Path(__file__).resolve().parents[1]


def test_floors_are_the_stated_formulas_of_the_timed_kernels(tmp_path):
    sys.path.insert(0, str(ROOT))
    from benchmarks import dynamics_floor as D
    assert D.main(["--N", "300", "--replicas", "8", "--block", "16", "--seconds", "0",
                   "--out", str(tmp_path / "f.csv")]) == 0
    r = read_csv(tmp_path / "f.csv")[0]
    assert r["rank1_ceiling"] == pytest.approx(1e6 / (r["unstable_fraction"] * r["row_add_us"]))
    rest = r["block_step_us"] * 1e-6 / 8 + r["row_gather_ms"] * 1e-3 / (16 * 8)
    assert r["blocked64_ceiling"] == pytest.approx(1 / (600 / (r["gemm64_gflops"] * 1e9) + rest))
    assert r["gemm64_only_ceiling"] == pytest.approx(r["gemm64_gflops"] * 1e9 / 600)
    assert r["blocked64_ceiling"] < r["gemm64_only_ceiling"]
    assert (tmp_path / "f.meta.json").exists()


def test_bad_unstable_fraction_is_one_line():
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "dynamics_floor.py"),
                          "--unstable", "1.5"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "--unstable" in res.stderr
