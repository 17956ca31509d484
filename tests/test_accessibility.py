"""numerics.accessibility (SPEC 8, T5): tasks, resumable sweep, threshold fits, 1/N extrapolation, CLI.

The statistical tests use fixed seeds, so they are deterministic; each states how often a correct
implementation would fail over random seeds.
"""

import math
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from scipy.special import expit

from numerics import accessibility as acc
from numerics.models import is_fixed_point
from toolkit.cli import run as run_cli
from toolkit.results import read_csv
from toolkit.sweep import task_seed

TINY = dict(algorithms=("async", "sync", "fbp"), Ns=(20, 40), J_Ds=(-0.2, 0.2, 0.5, 1.0),
            instances=3, replicas=4, max_sweeps=50, fbp_dr=0.1, fbp_max_iter=50, bootstrap=20,
            quiet=True)
TABLES = ("accessibility.csv", "thresholds.csv", "time_scaling.csv")


def _tables(out):
    return {name: (out / name).read_bytes() for name in TABLES}


# ------------------------------------------------------------------------------------- the task

@pytest.mark.parametrize("algorithm", ["async", "sync", "layer", "fbp"])
def test_task_is_deterministic_and_reports_true_fixed_points(algorithm):
    kw = dict(algorithm=algorithm, N=30, L=1, J_D=0.6, lam=0.0, inst=2, root_seed=5, replicas=6,
              max_sweeps=100, fbp_dr=0.1, fbp_max_iter=50)
    seed = task_seed(5, acc.task_key(algorithm, 30, 1, 0.6, 0.0, 2))
    a, b = acc.accessibility_task(seed, **kw), acc.accessibility_task(seed, **kw)
    R = 1 if algorithm == "fbp" else 6
    for key in ("converged", "time", "cycle2"):
        assert a[key].shape == (R,)
        np.testing.assert_array_equal(a[key], b[key])
    assert a["converged"].any()                       # J_D = 0.6 is easy at N = 30
    if algorithm != "fbp":                            # time: sweeps, within the budget
        assert np.all((a["time"] >= 0) & (a["time"] <= 100))
        assert np.all(a["time"][~a["converged"] & ~a["cycle2"]] == 100)


def test_instances_are_shared_across_couplings_and_algorithms():
    """Common random numbers: the couplings and initial states of instance i do not depend on J_D,
    on the algorithm or (for the chain's diagonal blocks) on lam; different instances differ."""
    J1, S1 = acc.instance(3, 25, 1, 0.0, 0, 5)
    J2, S2 = acc.instance(3, 25, 1, 0.0, 0, 5)
    np.testing.assert_array_equal(J1, J2)
    np.testing.assert_array_equal(S1, S2)
    assert not np.array_equal(acc.instance(3, 25, 1, 0.0, 1, 5)[0], J1)
    Ja, Sa = acc.instance(3, 25, 2, 0.3, 0, 5)
    Jb, Sb = acc.instance(3, 25, 2, 1.2, 0, 5)
    off = ~np.kron(np.ones((2, 2)) - np.eye(2), np.eye(25)).astype(bool)     # all but the links
    np.testing.assert_array_equal(Ja[off], Jb[off])
    np.testing.assert_array_equal(Sa, Sb)
    assert Ja[25, 0] == 0.3 and Jb[0, 25] == 1.2
    # the task's final states are fixed points exactly when it says so (sync is deterministic)
    J, S0 = acc.instance(3, 25, 1, 0.0, 0, 5)
    from numerics.dynamics import relax_sync
    res = relax_sync(J, 0.8, rng=0, s0=S0, max_sweeps=60)
    out = acc.accessibility_task(task_seed(3, "x"), algorithm="sync", N=25, L=1, J_D=0.8, lam=0.0,
                                 inst=0, root_seed=3, replicas=5, max_sweeps=60)
    np.testing.assert_array_equal(out["converged"], is_fixed_point(J, 0.8, res.state))


# ------------------------------------------------------------------ sweep: workers and resume

def test_results_do_not_depend_on_the_executor(tmp_path):
    acc.run(out=tmp_path / "serial", executor=None, seed=11, **TINY)
    with ProcessPoolExecutor(2) as ex:
        acc.run(out=tmp_path / "pool", executor=ex, seed=11, **TINY)
    assert _tables(tmp_path / "serial") == _tables(tmp_path / "pool")
    rows = read_csv(tmp_path / "serial" / "accessibility.csv")
    assert len(rows) == 3 * 2 * 4
    for r in rows:
        assert r["runs"] == (3 if r["algorithm"] == "fbp" else 12)
        assert r["p_success"] == pytest.approx(r["successes"] / r["runs"])
        assert r["se_binomial"] == pytest.approx(math.sqrt(r["p_success"] * (1 - r["p_success"])
                                                           / r["runs"]))
        assert math.isnan(r["cycle2_fraction"]) == (r["algorithm"] != "sync")
    thr = read_csv(tmp_path / "serial" / "thresholds.csv")
    assert any(math.isinf(r["N"]) and math.isfinite(r["threshold"]) for r in thr)
    easy = [r for r in rows if r["J_D"] == 1.0]
    assert all(r["p_success"] == 1 for r in easy)
    assert (tmp_path / "serial" / "thresholds.meta.json").exists()


def test_interrupted_sweep_resumes_to_identical_output(tmp_path):
    acc.run(out=tmp_path, seed=4, **TINY)
    before = _tables(tmp_path)
    files = sorted((tmp_path / "tasks").glob("*.npz"))
    assert len(files) == 3 * 2 * 4 * 3
    for f in files[::5]:                                  # an "interrupted" sweep: some tasks missing
        f.unlink()
    kept = {f: f.stat().st_mtime_ns for f in files if f.exists()}
    acc.run(out=tmp_path, seed=4, **TINY)
    assert _tables(tmp_path) == before
    assert all(f.stat().st_mtime_ns == t for f, t in kept.items())      # not recomputed
    with pytest.raises(ValueError, match="other parameters"):             # other settings refused
        acc.run(out=tmp_path, seed=5, **TINY)


# -------------------------------------------------------------------------------- threshold fits

def _fisher_se_true(x, n, x0, w):
    z = (x - x0) / w
    v = n * expit(z) * (1 - expit(z))
    g = np.stack([-np.ones_like(z) / w, -z / w])
    return math.sqrt(np.linalg.inv((g * v) @ g.T)[0, 0])


def test_logistic_fit_recovers_a_known_threshold():
    """Binomial data from p = expit((x - 0.6)/0.05) on 9 points, 400 runs each. Tolerance: 4 Fisher
    standard errors at the true parameters (a correct ML fit fails that with probability ~6e-5);
    over 300 data sets the z-scores must have mean within 0.25 and s.d. within [0.8, 1.2] of the
    standard normal (4 s.e. of each statistic for 300 draws, plus the O(1/n) bias of ML)."""
    x0, w = 0.6, 0.05
    x = np.linspace(0.4, 0.8, 9)
    n = np.full(9, 400)
    se_true = _fisher_se_true(x, n, x0, w)
    rng = np.random.default_rng(2024)
    fit = acc.fit_logistic(x, rng.binomial(n, acc.logistic(x, x0, w)), n)
    assert fit.ok
    assert abs(fit.x0 - x0) < 4 * se_true
    assert fit.se_x0 == pytest.approx(se_true, rel=0.2)
    assert fit.width == pytest.approx(w, rel=0.3)
    z = []
    for _ in range(300):
        f = acc.fit_logistic(x, rng.binomial(n, acc.logistic(x, x0, w)), n)
        assert f.ok
        z.append((f.x0 - x0) / se_true)
    z = np.array(z)
    assert abs(z.mean()) < 0.25 and 0.8 < z.std() < 1.2


def test_threshold_bootstrap_over_instances():
    """Instances with their own threshold x_i ~ N(0.6, 0.05^2), all R = 50 replicas of an instance
    succeeding iff x > x_i: the runs are not independent, so the Fisher s.e. (50 x 20 'independent'
    runs) is far too small, while the instance bootstrap is close to the s.e. of a median-like
    statistic of 20 draws, ~ 1.25 * 0.05 / sqrt(20) = 0.014 (loose bounds: one bootstrap draw)."""
    rng = np.random.default_rng(7)
    x = np.linspace(0.4, 0.8, 17)
    xi = rng.normal(0.6, 0.05, size=20)
    K = 50.0 * (x[None, :] > xi[:, None])
    T = np.full_like(K, 50.0)
    th = acc.threshold(x, K, T, bootstrap=400, rng=1)
    assert th.method == "logistic"
    assert abs(th.value - 0.6) < 0.05
    fisher = acc.fit_logistic(x, K.sum(0), T.sum(0)).se_x0
    assert th.se > 3 * fisher
    assert 0.005 < th.se < 0.03
    with pytest.raises(ValueError, match="rng"):
        acc.threshold(x, K, T, bootstrap=10)


def test_midpoint_and_out_of_grid_thresholds():
    x = [0.1, 0.2, 0.3, 0.4]
    n = np.full(4, 10)
    th = acc.threshold(x, [0, 0, 10, 10], n, bootstrap=0)        # separated: no logistic
    assert (th.method, th.value, th.se) == ("midpoint", pytest.approx(0.25), pytest.approx(0.05))
    th = acc.threshold(x, [0, 2, 10, 10], n, bootstrap=0)        # one interior point: still midpoint
    assert th.method == "midpoint" and th.value == pytest.approx(0.25)
    th = acc.threshold(x, [0, 0, 3, 10], n, bootstrap=0)
    assert th.method == "midpoint" and th.value == pytest.approx(0.35)
    assert acc.threshold(x, [6, 8, 10, 10], n, bootstrap=0).method == "below_grid"
    th = acc.threshold(x, [0, 0, 1, 4], n, bootstrap=0)
    assert th.method == "above_grid" and math.isnan(th.value)
    th = acc.threshold(x, [0, 3, 7, 10], n, bootstrap=0)         # two interior points: logistic
    assert th.method == "logistic" and th.value == pytest.approx(0.25, abs=1e-9)   # symmetric


# --------------------------------------------------------------------------- 1/N extrapolation

def test_inverse_N_extrapolation_of_exact_data():
    Ns = np.array([250, 500, 1000, 2000, 4000])
    y = 0.42 - 31.0 / Ns
    ex = acc.extrapolate_inverse_N(Ns, y, np.full(5, 0.01))
    assert ex.value == pytest.approx(0.42, abs=1e-12)
    assert ex.slope == pytest.approx(-31.0, rel=1e-10)
    assert ex.chi2 < 1e-20 and ex.dof == 3
    # unweighted-s.e. check: with exact data the s.e. is the plain WLS one (chi2/dof < 1: no scaling)
    A = np.stack([np.ones(5), 1 / Ns], axis=1)
    assert ex.se == pytest.approx(math.sqrt(np.linalg.inv(A.T @ A)[0, 0]) * 0.01, rel=1e-10)
    # zero s.e. (e.g. an exactly reproducible fit) must not break the fit
    assert acc.extrapolate_inverse_N(Ns, y, np.zeros(5)).value == pytest.approx(0.42, abs=1e-12)


def test_inverse_N_extrapolation_uncertainty():
    # two sizes: the line through both points; x_inf = (N2 y2 - N1 y1)/(N2 - N1)
    N1, N2, y1, y2, s1, s2 = 500, 2000, 0.5, 0.6, 0.02, 0.03
    ex = acc.extrapolate_inverse_N([N1, N2], [y1, y2], [s1, s2])
    assert ex.value == pytest.approx((N2 * y2 - N1 * y1) / (N2 - N1), rel=1e-12)
    assert ex.se == pytest.approx(math.hypot(N2 * s2, N1 * s1) / (N2 - N1), rel=1e-10)
    assert ex.dof == 0
    # inconsistent points: s.e. inflated by sqrt(chi2/dof)
    Ns, y, s = [250, 500, 1000], [0.3, 0.5, 0.45], [0.01, 0.01, 0.01]
    ex = acc.extrapolate_inverse_N(Ns, y, s)
    A = np.stack([np.ones(3), 1 / np.array(Ns)], axis=1)
    raw = math.sqrt(np.linalg.inv(A.T @ A)[0, 0]) * 0.01
    assert ex.chi2 > 1 and ex.se == pytest.approx(raw * math.sqrt(ex.chi2), rel=1e-9)
    # NaN thresholds are dropped; one size left: no extrapolation
    assert math.isnan(acc.extrapolate_inverse_N([100, 200], [0.3, math.nan], [0.1, 0.1]).value)


def test_time_scaling_exponent():
    rows = [dict(algorithm="async", L=1, J_D=jd, lam=0.0, N=N, time_median_all=t)
            for jd, f in ((0.5, lambda N: 3.0 * N ** 0.7), (0.9, lambda N: 5.0 + 0 * N),
                          (0.2, lambda N: math.inf))
            for N in (250, 500, 1000) for t in [f(N)]]
    rows[2]["time_median_all"] = math.inf                 # J_D = 0.5 at N = 1000: half failed
    out = {r["J_D"]: r for r in acc.time_scaling(rows)}
    assert set(out) == {0.5, 0.9}                         # J_D = 0.2: never finite
    assert out[0.5]["z"] == pytest.approx(0.7, rel=1e-12) and out[0.5]["sizes"] == 2
    assert out[0.5]["N_max"] == 500
    assert out[0.9]["z"] == pytest.approx(0.0, abs=1e-12) and out[0.9]["sizes"] == 3


def _time_rows(funcs, Ns=(250, 500, 1000, 2000, 4000), se=0.05):
    return [dict(algorithm="async", L=1, J_D=jd, lam=0.0, N=N, time_median_all=float(f(N)),
                 time_log_se=se) for jd, f in funcs for N in Ns]


def test_time_scaling_curvature_separates_power_law_from_faster_and_slower_growth():
    # ln t = 1 + 0.5 u + c u^2 exactly (u = ln N - <ln N>): the quadratic fit returns c to round-off
    Ns = (250, 500, 1000, 2000, 4000)
    mu = float(np.mean(np.log(Ns)))
    quad = lambda c: (lambda N: math.exp(1 + 0.5 * (math.log(N) - mu) + c * (math.log(N) - mu) ** 2))
    rows = _time_rows([(0.6, quad(0.3)), (0.7, lambda N: 2.0 * N ** 0.8),
                       (0.8, lambda N: 3.0 * math.log(N)), (0.9, lambda N: math.exp(N / 1000.0))])
    out = {r["J_D"]: r for r in acc.time_scaling(rows)}
    assert out[0.6]["curvature"] == pytest.approx(0.3, abs=1e-10)
    assert out[0.7]["curvature"] == pytest.approx(0.0, abs=1e-10)
    assert out[0.7]["z"] == pytest.approx(0.8, abs=1e-10)
    assert out[0.7]["z_first"] == pytest.approx(0.8, abs=1e-12)
    assert out[0.8]["curvature"] < -0.01                   # logarithmic growth bends down
    assert out[0.9]["curvature"] > 0.1                     # exponential growth bends up
    assert out[0.9]["z_last"] > out[0.9]["z_first"]
    # weights 0.05 on an exact fit: chi2 = 0, so the s.e. is the weighted-covariance one
    A = np.vander(np.log(Ns) - mu, 3, increasing=True) / 0.05
    assert out[0.7]["curvature_se"] == pytest.approx(math.sqrt(np.linalg.inv(A.T @ A)[2, 2]),
                                                     rel=1e-9)
    # two sizes: slope and local exponents, no curvature
    two = acc.time_scaling(_time_rows([(0.7, lambda N: N ** 0.5)], Ns=(250, 500)))
    assert math.isnan(two[0]["curvature"]) and two[0]["z"] == pytest.approx(0.5, abs=1e-12)


def test_curvature_zero_interpolates_the_sign_change():
    x = [0.6, 0.7, 0.8, 0.9]
    v, se, note = acc.curvature_zero(x, [0.4, 0.2, -0.1, -0.2], [0.01, 0.01, 0.01, 0.01])
    assert note == "interpolated" and v == pytest.approx(0.7 + 0.1 * 0.2 / 0.3, abs=1e-12)
    g = np.array([0.1 * 0.1 / 0.09, 0.1 * 0.2 / 0.09])        # propagated from the two brackets
    assert se == pytest.approx(0.01 * math.sqrt(np.sum(g ** 2)), rel=1e-12)
    # above the change, noise around 0 does not matter: +0.03 ± 0.02 is not significant
    x6 = [0.6, 0.7, 0.8, 0.9, 1.0, 1.1]
    v2, _, _ = acc.curvature_zero(x6, [0.4, 0.2, -0.1, 0.03, -0.01, -0.02], [0.01, 0.01, 0.01,
                                                                               0.02, 0.02, 0.02])
    assert v2 == pytest.approx(v, abs=1e-12)
    # ... but a significant positive value above moves it there
    v3, _, _ = acc.curvature_zero(x6, [0.4, 0.2, -0.1, 0.1, -0.1, -0.2], [0.01] * 6)
    assert v3 == pytest.approx(0.95, abs=1e-12)
    # the point just above the last significant one is positive (not significantly): clipped there
    v4, se4, note4 = acc.curvature_zero(x, [0.4, 0.2, 0.01, -0.01], [0.01, 0.01, 0.02, 0.02])
    assert note4 == "clipped" and v4 == pytest.approx(0.8) and se4 == pytest.approx(0.1)
    # a point without s.e. cannot be significant
    assert acc.curvature_zero(x, [0.4, -0.1, -0.1, -0.1], [math.nan, 0.01, 0.01, 0.01])[2] == \
        "below_grid"
    assert acc.curvature_zero(x, [-0.1] * 4, [0.01] * 4)[2] == "below_grid"
    assert acc.curvature_zero(x, [0.1, 0.1, 0.1, 0.05], [0.01] * 4)[2] == "above_grid"
    assert acc.curvature_zero(x, [math.nan, math.nan, math.nan, 0.1], [0.01] * 4)[2] == \
        "too_few_points"
    # a huge s.e. is capped at the bracket width
    assert acc.curvature_zero(x, [0.4, 0.2, -0.1, -0.2], [0.01, 0.01, 9.0, 9.0])[1] == \
        pytest.approx(0.1)


def test_censored_next_size_bends_up():
    """At the next size half the runs exhaust the budget: the median there is at least the
    converged runs' median; compared with the power law through the two largest measurable sizes."""
    def rows(t_cond, se=0.05):
        out = [dict(algorithm="async", L=2, J_D=0.0, lam=1.3, N=N, time_median_all=2.0 * N,
                    time_median=2.0 * N, time_log_se=se) for N in (250, 500, 1000)]
        out.append(dict(algorithm="async", L=2, J_D=0.0, lam=1.3, N=2000, time_median_all=math.inf,
                        time_median=t_cond, time_log_se=math.nan))
        return out
    r = rows(8000.0)
    (ts,) = acc.time_scaling(r)
    # t ~ N: prediction 4000 at N = 2000; r = 1, s.e. = sqrt(4 + 1) * 0.05
    assert ts["censored_N"] == 2000 and ts["sizes"] == 3
    assert ts["censored_excess"] == pytest.approx(math.log(2.0), abs=1e-12)
    assert ts["censored_excess_se"] == pytest.approx(0.05 * math.sqrt(5), rel=1e-12)
    assert ts["bends_up"] == 1
    assert acc.time_scaling(rows(4100.0))[0]["bends_up"] == 0       # within the power law
    assert acc.time_scaling(rows(8000.0, se=0.5))[0]["bends_up"] == 0   # too noisy to tell
    assert acc.time_scaling(rows(math.nan))[0]["bends_up"] == 0     # no converged run: no bound
    assert math.isnan(acc.time_scaling(r[:3])[0]["censored_N"])     # nothing measured above


def test_curvature_zero_counts_a_bending_point():
    x = [1.3, 1.5, 1.7, 1.9]
    c, se = [0.19, 0.01, 0.05, -0.02], [0.15, 0.06, 0.06, 0.1]
    assert acc.curvature_zero(x, c, se)[2] == "below_grid"
    v, s, note = acc.curvature_zero(x, c, se, [1, 0, 0, 0])
    assert note == "clipped" and v == pytest.approx(1.5) and s == pytest.approx(0.2)
    # a bending point with only two finite sizes (no curvature): the middle of its bracket
    v2, s2, note2 = acc.curvature_zero(x, [math.nan, -0.01, 0.05, -0.02], se, [1, 0, 0, 0])
    assert note2 == "bracketed" and v2 == pytest.approx(1.4) and s2 == pytest.approx(0.1)


def test_time_scaling_thresholds_rows():
    Ns = (250, 500, 1000, 2000)
    rows = _time_rows([(0.6, lambda N: math.exp(N / 500.0)), (0.7, lambda N: math.exp(N / 2000.0)),
                       (0.8, lambda N: 2 * N ** 0.5), (0.9, lambda N: 3 * math.log(N))], Ns=Ns)
    thr = acc.time_scaling_thresholds(acc.time_scaling(rows))
    assert len(thr) == 1 and thr[0]["variable"] == "J_D" and math.isinf(thr[0]["N"])
    fbp_rows = [dict(r, algorithm="fbp") for r in rows]              # no time-scaling row for fBP
    assert acc.time_scaling_thresholds(acc.time_scaling(fbp_rows)) == []
    assert thr[0]["method"].startswith(acc.TIME_THRESHOLD_METHOD)
    assert 0.7 < thr[0]["threshold"] <= 0.8 + 1e-9
    assert set(thr[0]) == set(acc.THRESHOLD_COLUMNS)


def test_bootstrap_se_of_the_log_median_time():
    rng = np.random.default_rng(3)
    conv = [np.ones(16, bool) for _ in range(6)]
    same = [np.full(16, 40.0) for _ in range(6)]
    assert acc._log_median_se(conv, same, 200, rng) == pytest.approx(0.0, abs=1e-12)  # identical
    spread = [np.full(16, 40.0 * 1.5 ** i) for i in range(6)]
    se = acc._log_median_se(conv, spread, 400, rng)
    assert 0.1 < se < 1.5
    failed = [np.zeros(16, bool) for _ in range(6)]
    assert math.isnan(acc._log_median_se(failed, same, 200, rng))  # the median itself is inf
    assert math.isnan(acc._log_median_se(conv[:1], same[:1], 200, rng))


# ------------------------------------------------------------------------------------------ CLI

def _cli(argv, capsys):
    try:
        code = run_cli(acc.main, argv, prog="python -m numerics.accessibility")
    except SystemExit as exc:                         # argparse errors exit from parse_args
        code = exc.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize("args", [["--N", "-5"], ["--N", "10.5"], ["--algorithms", "async,foo"],
                                  ["--J-D", "nan"], ["--lam", "0.5"], ["--L", "2", "--lam", "-1"],
                                  ["--instances", "0"], ["--scheduler", "tcp://x:1"],
                                  ["--fbp-dr", "2"], ["--J-D-alg", "fbp"],
                                  ["--algorithms", "async", "--J-D-alg", "fbp=0,0.1"],
                                  ["--J-D-alg", "fbp=0:1"]])
def test_cli_bad_input(tmp_path, capsys, args):
    code, err = _cli(["--out", str(tmp_path), "--quiet", *args], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "error" in lines[0]
    assert not (tmp_path / "tasks").exists()


def test_cli_help_and_one_line_error_in_a_subprocess(tmp_path):
    res = subprocess.run([sys.executable, "-m", "numerics.accessibility", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "--max-sweeps" in res.stdout and "--executor" in res.stdout
    res = subprocess.run([sys.executable, "-m", "numerics.accessibility", "--N", "-5", "--out",
                          str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr


def test_cli_tiny_run(tmp_path, capsys):
    code, _ = _cli(["--out", str(tmp_path), "--quiet", "--N", "20", "--J-D", "0.2:1:3",
                    "--algorithms", "sync,fbp", "--J-D-alg", "fbp=0.3,0.9", "--instances", "2",
                    "--replicas", "3", "--max-sweeps", "30", "--fbp-dr", "0.2", "--fbp-max-iter",
                    "20", "--workers", "1", "--bootstrap", "5"], capsys)
    assert code == 0
    rows = read_csv(tmp_path / "accessibility.csv")
    assert [(r["algorithm"], r["J_D"]) for r in rows] == [("fbp", 0.3), ("fbp", 0.9), ("sync", 0.2),
                                                          ("sync", 0.6), ("sync", 1.0)]
    thr = read_csv(tmp_path / "thresholds.csv")
    assert [r["N"] for r in thr if r["algorithm"] == "sync"] == [20, math.inf]
    assert (tmp_path / "accessibility.png").stat().st_size > 10_000      # the CLI draws it too


def test_presets_set_defaults_that_explicit_options_override():
    args = acc.parse_args(["--preset", "core-dynamics"])
    assert list(args.N) == [250, 500, 1000, 2000, 4000] and args.max_sweeps == 3000
    assert args.J_D == pytest.approx([0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0])
    assert args.out == "results/accessibility/core-dynamics"
    args = acc.parse_args(["--preset", "chain-dynamics", "--N", "50", "--out", "x"])
    assert args.L == 2 and list(args.N) == [50] and args.out == "x" and len(args.lam) == 7
    assert list(acc.parse_args([]).N) == [100, 200]                     # no preset: the quick defaults
    for name in acc.PRESETS:                                        # every preset parses and checks
        a = acc.parse_args(["--preset", name])
        acc._check_inputs([x for x in a.algorithms.split(",")], a.N, a.J_D, a.lam, a.L,
                          a.instances, a.replicas, a.max_sweeps, a.fbp_protocol, a.fbp_dr,
                          a.fbp_max_iter, a.fbp_damping, 1e-3, a.bootstrap, {})


# --------------------------------------------------------------------------------------- figures

def test_figures_render_from_a_tiny_run(tmp_path):
    from figures import accessibility as fig
    from figures import accessibility_chain as fig_chain
    from figures.__main__ import FIGURES
    assert FIGURES["accessibility"].module == "figures.accessibility"
    assert FIGURES["accessibility_chain"].module == "figures.accessibility_chain"
    acc.run(out=tmp_path / "accessibility", seed=1, **TINY)
    png = fig.make(tmp_path, quick=True)
    assert png == tmp_path / "accessibility" / "accessibility.png"
    assert png.stat().st_size > 10_000
    assert not (tmp_path / "accessibility_quick").exists()      # read, not recomputed
    chain = dict(TINY, algorithms=("async", "layer"), Ns=(15, 30), J_Ds=(0.0,),
                 lams=(0.4, 0.9, 1.4, 1.9), L=2)
    acc.run(out=tmp_path / "accessibility_chain", seed=1, **chain)
    thr = read_csv(tmp_path / "accessibility_chain" / "thresholds.csv")
    assert {r["variable"] for r in thr} == {"lam"}
    png = fig_chain.make(tmp_path, quick=True)
    assert png.stat().st_size > 10_000
