"""validation.clusters: outputs and resume, neighbour counts by independent routes, clusters by BFS."""

import subprocess
import sys
from collections import deque

import numpy as np
import pytest

from numerics.enumeration import fixed_points, neighbour_counts, overlap_histogram
from numerics.models import sample_core
from toolkit.results import read_csv
from toolkit.rng import make_rng
from toolkit.sweep import task_seed
from validation.clusters import (_enum_key, fp_interpolate, instance_stats, main,
                                 spectral_neighbour_counts)

TINY = ["--N", "8,10", "--J-D", "0.25,0.75", "--instances", "6", "--batch", "3", "--workers", "1",
        "--no-fp", "--quiet", "--seed", "7"]


def _instances(seed, N, J_D, n):
    """The task's instances, drawn the same way (i-th sample_core of the task's stream)."""
    rng = make_rng(seed)
    return [fixed_points(sample_core(N, rng), J_D) for _ in range(n)]


def test_tiny_run_writes_files_and_resumes(tmp_path):
    argv = TINY + ["--out", str(tmp_path)]
    assert main(argv) == 0
    for name in ("local.csv", "local.meta.json", "clusters.csv", "clusters.meta.json"):
        assert (tmp_path / name).exists()
    assert (tmp_path / "clusters.png").stat().st_size > 10_000
    local = read_csv(tmp_path / "local.csv")
    clus = read_csv(tmp_path / "clusters.csv")
    refs = {"typical", "pooled", "top10", "top1", "max"}
    assert {r["reference"] for r in local} == refs
    assert len(local) == 2 * len(refs) * (8 // 2 + 10 // 2)
    assert len(clus) == 4 and all(r["instances"] == 6 for r in clus)
    # max >= densest 1 % >= ... and every count is finite and non-negative
    for r in local:
        assert r["mean_count"] >= 0
        assert r["d"] == pytest.approx(r["k"] / r["N"])
    tasks = sorted((tmp_path / "tasks").glob("*.npz"))
    assert len(tasks) == 2 * 2 * 2
    stamps = [p.stat().st_mtime_ns for p in tasks]
    before = {n: (tmp_path / n).read_bytes() for n in ("local.csv", "clusters.csv")}
    assert main(argv) == 0                       # resumed: nothing recomputed, same tables
    assert [p.stat().st_mtime_ns for p in tasks] == stamps
    for name, data in before.items():            # byte-identical (the tables hold NaNs)
        assert (tmp_path / name).read_bytes() == data


def test_typical_counts_match_overlap_histogram(tmp_path):
    N, J_D, n = 10, 0.75, 3
    argv = ["--N", str(N), "--J-D", str(J_D), "--instances", str(n), "--batch", str(n),
            "--workers", "1", "--no-fp", "--quiet", "--seed", "3", "--out", str(tmp_path)]
    assert main(argv) == 0
    seed = task_seed(3, _enum_key(N, J_D, n, 0, [0.1, 0.01]))
    codes = _instances(seed, N, J_D, n)
    assert all(c.size > 0 for c in codes)
    K = N // 2
    hists = np.array([overlap_histogram(c, N)[1:K + 1] for c in codes], float)
    M = np.array([c.size for c in codes], float)
    rows = read_csv(tmp_path / "local.csv")
    typ = np.array([r["mean_count"] for r in sorted(rows, key=lambda r: r["k"])
                    if r["reference"] == "typical"])
    pooled = np.array([r["mean_count"] for r in sorted(rows, key=lambda r: r["k"])
                       if r["reference"] == "pooled"])
    np.testing.assert_allclose(typ, (hists / M[:, None]).mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(pooled, hists.sum(axis=0) / M.sum(), rtol=1e-12)
    # top quantiles: q = 1 is the typical mean; a tiny q is the single best-ranked FP
    st = instance_stats(codes[0], N, K, 1, [1.0, 1e-9])
    np.testing.assert_allclose(st["top"][0], st["typical"])
    nc = neighbour_counts(codes[0], N, K)
    best = np.argmax(nc[:, 1])                   # first FP with the most single-flip neighbours
    np.testing.assert_array_equal(st["top"][1], nc[best, 1:])
    np.testing.assert_array_equal(st["max"], nc[:, 1:].max(axis=0))


@pytest.mark.parametrize("N,J_D", [(9, 0.3), (12, 1.0), (13, 0.6)])
def test_spectral_counts_equal_pairwise(N, J_D):
    codes = fixed_points(sample_core(N, np.random.default_rng(N)), J_D)
    for K in (0, 1, N // 2, N):
        np.testing.assert_array_equal(spectral_neighbour_counts(codes, N, K),
                                      neighbour_counts(codes, N, K))
    a = instance_stats(codes, N, N // 2, 1, [0.1], method="spectral")
    b = instance_stats(codes, N, N // 2, 1, [0.1], method="pairs")
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_cluster_statistics_against_bfs():
    N, J_D = 12, 0.6
    codes = fixed_points(sample_core(N, np.random.default_rng(11)), J_D)
    assert codes.size > 20
    members = {int(c) for c in codes}
    seen, sizes = set(), []
    for c in members:
        if c in seen:
            continue
        seen.add(c)
        queue, size = deque([c]), 0
        while queue:
            x = queue.popleft()
            size += 1
            for j in range(N):
                y = x ^ (1 << j)
                if y in members and y not in seen:
                    seen.add(y)
                    queue.append(y)
        sizes.append(size)
    sizes = np.array(sizes)
    st = instance_stats(codes, N, N // 2, 1, [0.1])
    assert st["M"] == codes.size == sizes.sum()
    assert st["largest"] == sizes.max()
    assert st["isolated"] == pytest.approx(np.sum(sizes == 1) / codes.size)
    assert st["seen"] == pytest.approx(np.sum(sizes ** 2) / codes.size)
    assert 1 < st["largest"] < codes.size      # a non-trivial instance


def test_no_fixed_points_and_fp_interpolation():
    st = instance_stats(np.empty(0, np.uint64), 8, 4, 1, [0.1])
    assert st["M"] == 0 and np.all(np.isnan(st["typical"])) and np.isnan(st["isolated"])
    fp = dict(d=np.array([0.1, 0.2, 0.3, 0.4]), entropy=np.array([0.1, 0.2, 0.3, 0.4]),
              converged=np.array([True, True, False, True]))
    v = fp_interpolate(fp, [0.05, 0.1, 0.15, 0.25, 0.35, 0.4])
    assert np.isnan(v[0]) and np.isnan(v[3]) and np.isnan(v[4])
    np.testing.assert_allclose(v[[1, 2, 5]], [0.1, 0.15, 0.4])


@pytest.mark.parametrize("args,word", [(["--N", "31"], "30"), (["--N", "2.5"], "integers"),
                                       (["--N", "30", "--J-D", "1"], "E[#FP]"),
                                       (["--quantiles", "0"], "quantiles")])
def test_bad_input_one_line_exit_2(tmp_path, args, word):
    res = subprocess.run([sys.executable, "-m", "validation.clusters", "--out", str(tmp_path),
                          *args], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "error" in lines[0] and word in lines[0], res.stderr
    assert not (tmp_path / "tasks").exists()


def test_franz_parisi_column_cached(tmp_path):
    # one J_D with the S_FP curve (a few seconds): interpolated values where converged, S_FP <= S_loc^ann
    argv = ["--N", "10", "--J-D", "1", "--instances", "2", "--batch", "2", "--workers", "1",
            "--quiet", "--out", str(tmp_path)]
    assert main(argv) == 0
    fp_tasks = list((tmp_path / "tasks").glob("fp_*.npz"))
    assert len(fp_tasks) == 1
    rows = [r for r in read_csv(tmp_path / "local.csv") if r["reference"] == "typical"]
    fp = np.array([r["theory_fp"] for r in rows], float)
    ann = np.array([r["theory_annealed"] for r in rows])
    assert np.all(np.isfinite(fp))
    assert np.all(fp <= ann + 1e-6)
    assert fp[-1] == pytest.approx(ann[-1], abs=1e-6)            # d = 1/2: both are S_a
