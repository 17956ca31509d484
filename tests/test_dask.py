"""Sweeps and enumeration on a Dask LocalCluster match in-process results bit for bit (issue 7)."""

import numpy as np
import pytest

from numerics.enumeration import fixed_points
from numerics.models import sample_core
from tests import sweep_fns
from toolkit import sweep

distributed = pytest.importorskip("distributed")


def test_sweep_on_local_cluster_matches_serial(tmp_path):
    tasks = [sweep.Task(f"t{i}", dict(n=3 + i)) for i in range(5)]
    serial = sweep.run_sweep(sweep_fns.draw, tasks, tmp_path / "s", seed=3, quiet=True)
    ex, client = sweep.dask_executor(workers=2)
    try:
        dask = sweep.run_sweep(sweep_fns.draw, tasks, tmp_path / "d", seed=3, executor=ex,
                               quiet=True)
        # enumeration split over Dask workers returns exactly the serial codes
        J = sample_core(16, np.random.default_rng(1))
        assert np.array_equal(fixed_points(J, 0.3, executor=ex, chunks=4), fixed_points(J, 0.3))
    finally:
        client.close()
        client.cluster.close()
    for k in serial:
        assert np.array_equal(serial[k]["x"], dask[k]["x"])


def test_validation_command_same_output_on_dask_and_in_process(tmp_path):
    # issue 7: the --executor dask flag of a real command; CSV values identical to a serial run
    from validation.annealed import main
    from toolkit.results import read_csv
    base = ["--quiet", "--N", "8", "--J-D", "0.3", "--chain-N", "", "--instances", "40",
            "--batch", "10"]
    assert main(base + ["--out", str(tmp_path / "serial"), "--workers", "1"]) == 0
    assert main(base + ["--out", str(tmp_path / "dask"), "--executor", "dask",
                        "--workers", "2"]) == 0
    for name in ("counts.csv", "pairs.csv"):
        assert read_csv(tmp_path / "serial" / name) == read_csv(tmp_path / "dask" / name)
