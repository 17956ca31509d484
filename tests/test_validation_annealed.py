"""Enumeration against the annealed theory (SPEC V2, V5): the statistical test behind validation.annealed.

Each point uses fixed seeds, so the test is deterministic. Pair points count only where the theory
expects ≥ 100 ordered pairs in the sample (``reliable``): rarer pairs come in lumps of 2–4 from a
few instances and their sample s.e. is not a usable error bar (e.g. N = 20, J_D = 0, k = 5: 29
pairs expected, 4 seen in one instance, "z" = −6.3 with a meaningless s.e.). Tolerance: every |z| < 3.5 (a correct
theory exceeds it with probability ~5e-4 per point, ~1% over the ~20 points here), and the points
as a whole must not drift: the mean of the z-scores over the independent count points within
±3/√(points). A wrong formula (e.g. σ_N = 1 instead of √((N−1)/N), or a swapped ρ in Φ₂) moves
the pair counts at the ends of the k-range by many standard errors at these N.
"""

import numpy as np
import pytest

from toolkit.sweep import Task, run_sweep
from validation.annealed import _key, compare, enumerate_batch

INSTANCES, BATCH = 400, 100


def _run(tmp_path, pts):
    tasks = [Task(_key(m, N, j, l, b), dict(model=m, N=N, J_D=j, lam=l, n=BATCH))
             for m, N, j, l in pts for b in range(INSTANCES // BATCH)]
    res = run_sweep(enumerate_batch, tasks, tmp_path, seed=2024, quiet=True)
    return compare(res, pts, INSTANCES, BATCH)


def test_core_counts_and_pairs(tmp_path):
    pts = [("core", N, jd, 0.0) for N in (12, 14, 16) for jd in (0.0, 0.25, 0.5)]
    counts, pairs = _run(tmp_path, pts)
    z = np.array([r["z"] for r in counts])
    assert np.all(np.abs(z) < 3.5), z
    assert abs(z.mean()) < 3 / np.sqrt(z.size)
    # pair histograms: independent k only (k and N − k are mirror images of each other)
    zp = np.array([r["z"] for r in pairs if r["k"] <= r["N"] // 2 and r["reliable"]])
    assert np.all(np.abs(zp) < 3.5), zp
    # structural zeros: at J_D = 0 no two FPs differ by one flip, in theory and in the data
    for r in pairs:
        if r["J_D"] == 0.0 and r["k"] in (1, r["N"] - 1):
            assert r["theory"] == 0.0 and r["mean"] == 0.0


def test_chain_counts(tmp_path):
    pts = [("chain", N, jd, lam) for N in (6, 8) for jd in (0.0, 0.2) for lam in (0.5, 1.0)]
    counts, _ = _run(tmp_path, pts)
    z = np.array([r["z"] for r in counts])
    assert np.all(np.abs(z) < 3.5), z
    assert abs(z.mean()) < 3 / np.sqrt(z.size)


@pytest.mark.slow
def test_core_counts_larger_N(tmp_path):
    # The range up to N = 20 (about a minute): same criterion as above.
    pts = [("core", N, jd, 0.0) for N in (18, 20) for jd in (0.0, 0.25, 0.5)]
    counts, pairs = _run(tmp_path, pts)
    z = np.array([r["z"] for r in counts])
    assert np.all(np.abs(z) < 3.5), z
    zp = np.array([r["z"] for r in pairs if r["k"] <= r["N"] // 2 and r["reliable"]])
    assert np.all(np.abs(zp) < 3.5), zp
