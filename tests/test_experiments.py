"""The learning experiments (SPEC 14): tiny runs write CSV + PNG, resume, match across executors."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

import pytest

from numerics.learning.experiments import capacity_search, main, run_experiment
from toolkit.results import read_csv

# synthetic prototypes (always available), tiny widths, one or two epochs
_DATA = dict(dataset="prototypes", N=20, classes=3, P=8, P_eval=4, batch=4)
TINY = {
    "fig3": dict(_DATA, hidden=12, epochs=1, lam=[0.0, 1.0], J_D=[0.0, 0.5]),
    "fig2": dict(_DATA, hidden=[6, 12], epochs=1, mlp_epochs=2, validation=8, tune_epochs=1,
                 tune_lambda_in=[1.0, 2.0], tune_theta_h=[0.9], tune_mlp_lr=[0.01, 0.1]),
    "capacity": dict(N=12, hidden=12, layers=[1, 2], epochs=10, batch=4, P0=2, P_max=16, seeds=1),
    "stability": dict(_DATA, hidden=12, epochs=2, J_D=[0.0, 0.5]),
}
_TIMING = ("train_seconds",)


def _strip(rows):
    return [{k: v for k, v in r.items() if k not in _TIMING} for r in rows]


@pytest.mark.parametrize("name", sorted(TINY))
def test_experiment_writes_csv_png_and_resumes(tmp_path, name):
    csv = run_experiment(name, TINY[name], out=tmp_path)
    assert csv == tmp_path / f"{name}.csv"
    assert (tmp_path / f"{name}.meta.json").exists() and (tmp_path / f"{name}.png").stat().st_size > 0
    rows = read_csv(csv)
    assert rows
    tasks = sorted((tmp_path / "tasks").glob("*.npz"))
    stamps = {p: p.stat().st_mtime_ns for p in tasks}
    text = csv.read_text()
    run_experiment(name, TINY[name], out=tmp_path)     # resume: nothing recomputed, same CSV
    assert {p: p.stat().st_mtime_ns for p in tasks} == stamps
    assert csv.read_text() == text
    if name == "fig3":
        assert {(r["sweep"], r["J_D"], r["lam"]) for r in rows} == {
            ("vs_lam", 0.0, 0.0), ("vs_lam", 0.0, 1.0), ("vs_J_D", 0.0, 0.0), ("vs_J_D", 0.5, 0.0)}
        assert len(tasks) == 3                          # (0, 0) is trained once
        assert all(0 <= r["final_test_acc"] <= 1 for r in rows)
        assert {r["lambda_in"] for r in rows} == {2.0} and {r["n_test"] for r in rows} == {12}
        ep = read_csv(tmp_path / "fig3_epochs.csv")
        assert sorted({(r["J_D"], r["lam"], r["epoch"]) for r in ep}) == [
            (0.0, 0.0, 0), (0.0, 0.0, 1), (0.0, 1.0, 0), (0.0, 1.0, 1), (0.5, 0.0, 0), (0.5, 0.0, 1)]
        ons = read_csv(tmp_path / "fig3_onsets.csv")
        assert {(o["along"], o["points"]) for o in ons} == {("lam", 2), ("J_D", 2)}
    if name == "fig2":
        assert {r["model"] for r in rows} == {"ours", "mlp"}
        ours = {r["H"]: r["params"] for r in rows if r["model"] == "ours"}
        assert ours[12] == 20 * 12 + 12 * 11 + 12 * 3
        mlp = {r["matched_to_H"]: (r["H"], r["params"]) for r in rows if r["model"] == "mlp"}
        h = mlp[12][0]                                  # h^2 + 23 h = 408: h = 11.7 -> 12
        assert h == 12 and mlp[12][1] == 20 * 12 + 12 * 12 + 12 * 3
        tune = read_csv(tmp_path / "fig2_tuning.csv")
        assert len(tune) == 4 and {t["model"] for t in tune} == {"ours", "mlp"}
        best = max((t for t in tune if t["model"] == "mlp"), key=lambda t: t["validation_acc"])
        assert all(r["settings"] == best["settings"] for r in rows if r["model"] == "mlp")
    if name == "capacity":
        assert [r["L"] for r in rows] == [1, 2]
        assert all(r["capacity"] >= 0 and r["capacity_total"] == 2 * r["capacity"] for r in rows)
        assert (tmp_path / "capacity_probes.csv").exists()
    if name == "stability":
        assert sorted({r["epoch"] for r in rows}) == [1, 2]
        assert all(abs(r["fp_frac"] + r["flip_frac"] - 1) < 1e-12 for r in rows)


@pytest.mark.parametrize("name", ["fig3", "capacity"])
def test_pool_matches_in_process(tmp_path, name):
    a = run_experiment(name, TINY[name], out=tmp_path / "a")
    with ProcessPoolExecutor(max_workers=2) as ex:
        b = run_experiment(name, TINY[name], out=tmp_path / "b", executor=ex)
    assert _strip(read_csv(a)) == _strip(read_csv(b))


def test_changed_option_recomputes_instead_of_reusing(tmp_path):
    run_experiment("stability", TINY["stability"], out=tmp_path)
    run_experiment("stability", {**TINY["stability"], "hidden": 10}, out=tmp_path)
    assert len(list((tmp_path / "tasks").glob("*.npz"))) == 4


def test_capacity_scan(tmp_path):
    o = dict(N=12, hidden=12, layers=[1, 2], epochs=10, batch=4, seeds=2, P_grid=[2, 16],
             input_layers="all")
    csv = run_experiment("capacity", o, out=tmp_path)
    rows = read_csv(csv)
    assert {(r["L"], r["P"]) for r in rows} == {(1, 2), (1, 16), (2, 2), (2, 16)}
    scan = read_csv(tmp_path / "capacity_scan.csv")
    assert len(scan) == 8 and {r["input_layers"] for r in scan} == {"all"}
    for r in rows:
        sel = [s for s in scan if s["L"] == r["L"] and s["P"] == r["P"]]
        assert r["success_fraction"] == sum(s["success"] for s in sel) / 2
    assert (tmp_path / "capacity.png").stat().st_size > 0
    assert {r["skip_readouts"] for r in scan} == {0}
    # with skip readouts the L = 2 readout reads both layers: H C more parameters, L = 1 unchanged
    run_experiment("capacity", {**o, "skip_readouts": True}, out=tmp_path / "skip")
    skip = read_csv(tmp_path / "skip" / "capacity_scan.csv")
    par = {(r["L"], r["skip_readouts"]): r["params"] for r in scan + skip}
    assert par[(2, 1)] - par[(2, 0)] == 12 * 2 and (1, 1) not in par


def test_capacity_from_scan_crossing():
    from numerics.learning.experiments import capacity_from_scan
    rows = [dict(L=1, P=P, seed=s, success=ok) for P, oks in ((10, (1, 1)), (20, (1, 0)),
                                                              (40, (0, 0))) for s, ok in enumerate(oks)]
    out = capacity_from_scan(rows)
    assert {r["capacity_status"] for r in out} == {"crossed"}
    assert out[0]["capacity"] == 20.0 and (out[0]["capacity_lo"], out[0]["capacity_hi"]) == (10, 20)


def test_mlp_width_matches_parameter_count():
    from numerics.learning.baselines import MLPConfig
    from numerics.learning.experiments import mlp_width
    for N, P, layers in ((784, 355_200, 2), (100, 727_200, 2), (100, 50_000, 1)):
        h = mlp_width(P, N, 10, layers)
        got = MLPConfig(N=N, C=10, H=h, hidden_layers=layers).parameters
        nxt = MLPConfig(N=N, C=10, H=h + 1, hidden_layers=layers).parameters
        assert abs(got - P) <= abs(nxt - P) and abs(got - P) < nxt - got
    assert mlp_width(355_200, 784, 10, 2) == 319          # sisyphus-darnn's MNIST H = 3000 match


def test_capacity_search_doubling_then_bisection():
    calls = []

    def probe(P):
        calls.append(P)
        return P <= 11

    cap, censored, _ = capacity_search(probe, 2, 1000)
    assert (cap, censored) == (11, False)
    assert calls == [2, 4, 8, 16, 12, 10, 11]
    assert capacity_search(lambda P: True, 3, 20)[:2] == (20, True)
    assert capacity_search(lambda P: False, 1, 20)[:2] == (0, False)
    assert capacity_search(lambda P: P <= 2, 4, 20)[0] == 2      # below a failing P0


def test_cli_runs_tiny_capacity(tmp_path):
    assert main(["capacity", "--out", str(tmp_path), "--N", "10", "--hidden", "10", "--layers", "1",
                 "--epochs", "5", "--P0", "2", "--P-max", "8", "--workers", "1", "--quiet"]) == 0
    assert (tmp_path / "capacity.png").exists()


@pytest.mark.parametrize("argv", [
    ["fig3", "--lam", "nan"],
    ["fig3", "--lam", "-1"],
    ["fig3", "--lambda-in", "-2"],
    ["fig3", "--lam-at-J-D", "nan"],
    ["fig3", "--probe-every", "0"],
    ["fig3", "--hidden", "0"],
    ["fig2", "--hidden", "10,abc"],
    ["capacity", "--layers", "0"],
    ["capacity", "--layers", "1", "--T", "1"],
    ["capacity", "--P0", "8", "--P-max", "4"],
    ["fig3", "--dataset", "nonexistent"],
    ["nosuch"],
])
def test_bad_input_one_line_exit_2(tmp_path, argv):
    r = subprocess.run([sys.executable, "-m", "numerics.learning.experiments", *argv,
                        "--out", str(tmp_path / "o"), "--workers", "1", "--quiet"]
                       if argv != ["nosuch"] else
                       [sys.executable, "-m", "numerics.learning.experiments", *argv],
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not list((tmp_path / "o").glob("**/*.csv"))
