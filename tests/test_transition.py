"""The densest-cluster internal entropy S_I^max(d) = S_I(d, y*) (SPEC §6.9), core model."""

import numpy as np
import pytest

from theory import transition as T


@pytest.fixture(scope="module")
def low():
    return T.densest(0.05, 0.05)


def test_y_star_zeroes_external_entropy(low):
    assert low.converged and low.frozen
    assert abs(low.result.external_entropy) < 1e-6
    assert 1 < low.y_star < 10


def test_ogp_signature_at_small_self_coupling(low):
    # J_D = 0.05, d = 0.05: even the densest existing clusters have no FPs at this distance
    # (S_I^max ≈ −8e-4 < 0), the OGP signature of SPEC §6.9; at J_D = 0.3 it is clearly positive.
    assert low.internal_entropy < -2e-4
    high = T.densest(0.05, 0.3)
    assert high.frozen and high.internal_entropy > 0.05


def test_lower_bound_mode_agrees_on_the_sign():
    fast = T.densest(0.12, 0.05, exact=False)
    assert not fast.frozen and fast.internal_entropy > 0
    full = T.densest(0.12, 0.05)
    # S_I increases with y, so the early-exit value bounds S_I^max from below
    assert full.internal_entropy >= fast.internal_entropy - 1e-9


def test_non_convergence_is_reported_not_nan_silently():
    r = T.densest(0.012, 0.05, max_iter=20)
    if not r.converged:
        assert np.isnan(r.internal_entropy) and "not converged" in r.message


@pytest.mark.parametrize("d,jd", [(0.05, 0.05), (0.03, 0.05), (0.05, 0.1)])
def test_zero_internal_cross_check_agrees_with_densest(d, jd):
    # SPEC §6.9: S_I^max(d) > 0  <=>  Σ_ext(d, y0) ≥ 0, with S_I(d, y0) = 0.
    z = T.zero_internal(d, jd)
    full = T.densest(d, jd)
    assert z.converged and full.converged
    assert z.rm == (full.internal_entropy > 0)
    if np.isfinite(z.y0) and z.y0 > 0:
        assert (z.y0 < full.y_star) == (full.internal_entropy > 0)


# --- the transition: min_d S_I^max(d) and the critical coupling -------------------------------

COARSE = [0.2, 0.1, 0.05, 0.03]


@pytest.mark.parametrize("jd,sign", [(0.05, -1), (0.08, +1)])
def test_branch_minimum_sign_on_both_sides_of_the_transition(jd, sign):
    # J_D = 0.05: S_I^max(0.03) ≈ −3.7e-3 (OGP); J_D = 0.08: S_I^max ≥ +6e-3 down to d = 0.03.
    b = T.branch_minimum(jd, d_grid=COARSE)
    assert np.sign(b.value) == sign and abs(b.value) > 2e-3
    assert b.rm == (sign > 0)
    assert b.d.size == len(COARSE) and b.d_end == 0.03


def test_curve_points_stay_off_the_collapsed_branch():
    for c in T.densest_curve(COARSE, 0.06):
        p = 1 - 2 * c.d
        assert c.converged and (c.result.q1 - p * p) < T.COLLAPSE_T * (1 - p * p)


class _Fake:
    """A BranchMinimum stand-in: g(x) = 0.2 (x − 0.061) − 1e-5 on the refined (longer) grid."""

    def __init__(self, x, grid):
        self.J_D = x
        self.value = 0.2 * (x - 0.061) - (1e-5 if len(grid) > 5 else 0.0)


def test_critical_root_and_grid_uncertainty():
    c = T._critical("J_D", _Fake, (0.0, 0.2), 1e-6, np.linspace(0.3, 0.01, 5), {})
    assert c.converged and abs(c.value - 0.061) < 2e-6
    assert c.grid_shift == pytest.approx(-1e-5)
    assert c.uncertainty == pytest.approx(c.tol_uncertainty + 1e-5 / 0.2, rel=1e-6)
    assert c.tol_uncertainty <= 1e-6


def test_the_secant_root_beats_the_tolerance_and_its_bracket_bounds_it():
    # g(x) = (x − 0.3)(1 + x), increasing on [0, 1]: Brent with a loose tolerance stops early; the
    # secant root of the final bracket is closer to 0.3 than that bracket's far end, which bounds it
    class Curved:
        def __init__(self, x, grid):
            self.x, self.value = x, (x - 0.3) * (1 + x)
    c = T._critical("x", Curved, (0.0, 1.0), 0.2, [0.2, 0.1], {})
    err = abs(c.value - 0.3)
    assert c.converged and err <= c.tol_uncertainty <= 0.2
    assert err < 0.2 * c.tol_uncertainty     # the secant, not an end of the bracket
    # the same g on the refined grid: the grid term is then the secant's own error, |g(x)|/g′
    assert c.grid_uncertainty == pytest.approx(abs((c.value - 0.3) * (1 + c.value)) / 1.5, rel=0.3)
    assert c.grid_uncertainty < 0.1 * c.tol_uncertainty


def test_final_bracket_picks_the_adjacent_sign_change_near_brents_answer():
    b = T.final_bracket({0.0: -1.0, 0.2: -0.5, 0.4: 0.5, 1.0: 1.0}, 0.3)
    assert b[:2] == (0.2, 0.4) and b[2] == pytest.approx(0.3) and b[3] == pytest.approx(0.1)
    # an exact zero is the root, with no bracket term; its neighbours give the slope
    assert T.final_bracket({0.0: -1.0, 0.3: 0.0, 1.0: 1.0}, 0.3) == (0.0, 1.0, 0.3, 0.0)
    # not monotone: two sign changes, the one nearer Brent's answer
    vals = {0.0: -1.0, 0.1: 1.0, 0.2: -1.0, 0.6: -0.2, 0.8: 0.6, 1.0: 1.0}
    assert T.final_bracket(vals, 0.65)[:2] == (0.6, 0.8)
    assert T.final_bracket(vals, 0.05)[:2] == (0.0, 0.1)


def _branch(x, grid, d_end):
    """A BranchMinimum stand-in, g = 0.2 (x − 0.061), its minimum at the branch end d_end."""
    d = np.asarray(grid, float)
    return T.BranchMinimum(x, 0.0, 1, 0.2 * (x - 0.061), d_end, d_end, True, d, d * 0, d * 0)


def test_grid_term_is_flagged_when_the_refinement_cannot_reach_past_the_fold():
    # the minimum sits at the branch's end (a fold at 0.03) in both grids: the refinement adds
    # distances only where the branch does not exist, so a zero grid term is no measurement
    grid = [0.2, 0.1, 0.05, 0.03]
    c = T._critical("J_D", lambda x, g: _branch(x, g, 0.03), (0.0, 0.2), 1e-6, grid, {})
    assert c.converged and not c.grid_measured and c.grid_uncertainty == 0
    assert "grid term not measured" in c.message
    # the refined grid resolves one more distance past the old end: measured (here still 0)
    c = T._critical("J_D", lambda x, g: _branch(x, g, 0.03 if len(g) == 4 else 0.02),
                    (0.0, 0.2), 1e-6, grid, {})
    assert c.grid_measured and "not measured" not in c.message


def test_failed_distances_of_the_final_evaluations_are_counted():
    # centred criterion: the minimum skips failed distances, so the root search must say how many
    # failed where the sign was decided (final bracket and refined grid: 3 evaluations × 1 here)
    def at(x, grid):
        d = np.asarray(grid, float)
        st = np.array([T.CROSSING] * (d.size - 1) + [T.FAILED])
        z = d * 0
        return T.CentredMinimum(x, 0.0, 1, 0.2 * (x - 0.058), float(d[0]), False, d, z, z, z, z,
                                st)
    c = T._critical("J_D", at, (0.0, 0.2), 1e-6, [0.05, 0.02, 0.01], dict(criterion="centred"))
    assert c.converged and c.failed_points == 3
    assert "3 failed distance(s)" in c.message
    assert at(0.06, [0.05, 0.01]).failed_d.tolist() == [0.01]


def test_critical_without_sign_change_is_reported():
    c = T._critical("J_D", _Fake, (0.1, 0.2), 1e-6, np.linspace(0.3, 0.01, 5), {})
    assert not c.converged and np.isnan(c.value) and "no sign change" in c.message


def test_critical_cache_resumes(tmp_path, monkeypatch):
    calls = []

    def fake(J_D, lam, L, kappa, d_grid):
        calls.append(J_D)
        d = np.asarray(d_grid)
        return T.BranchMinimum(J_D, lam, L, 0.2 * (J_D - 0.061), 0.03, 0.03, True, d, d * 0, d * 0)
    monkeypatch.setattr(T, "branch_minimum", fake)
    kw = dict(bracket=(0.0, 0.2), xtol=1e-6, d_grid=COARSE, cache_dir=tmp_path,
              criterion="resolved")
    first = T.critical_JD(**kw)
    n = len(calls)
    again = T.critical_JD(**kw)
    assert len(calls) == n and again.value == first.value and again.uncertainty == first.uncertainty


@pytest.mark.slow
def test_critical_self_coupling_of_the_core_model():
    # measured 0.0601 ± 0.0006 (session 2); the transition lies inside Fig. 4's range (0.05, 0.1)
    c = T.critical_JD(criterion="resolved")
    assert c.converged and 0.055 < c.value < 0.065 and c.uncertainty < 0.003


_ROWS = [(0.1, T.CROSSING, 0.01, 0.01, 0.02, 3.0),
         (0.02, T.CROSSING, 0.003, 0.003, 0.001, 4.0),
         (0.01, T.GAP, -0.002, np.nan, -0.002, np.nan),
         (0.005, T.FAILED, np.nan, np.nan, np.nan, np.nan)]


@pytest.mark.parametrize("rows,value,d_at,gap", [
    (_ROWS, -0.002, 0.01, True),           # a gap: its Σ_f/y_f is the minimum
    (_ROWS[:2], 0.001, 0.02, False),       # no gap: the fold term bounds the crossing's S_I^max
    (_ROWS[:1], 0.01, 0.1, False)])        # fold beyond: S_I^max itself
def test_centred_minimum_combines_crossings_folds_and_gaps(monkeypatch, rows, value, d_at, gap):
    # min over d of min(S_I^max, Σ_f/y_f) at crossings and Σ_f/y_f at gaps; failed points skipped
    monkeypatch.setattr(T, "_core_centred", lambda *a, **k: list(rows))
    m = T.centred_minimum(0.06, d_grid=[r[0] for r in rows])
    assert m.value == value and m.d_at == d_at and m.gap == gap and m.rm == (value > 0)
    assert list(m.status) == [r[1] for r in rows]


def test_centred_critical_is_cached_with_its_class(tmp_path, monkeypatch):
    calls = []

    def fake(J_D, lam, L, kappa, d_grid):
        calls.append(J_D)
        d = np.asarray(d_grid, float)
        st = np.array([T.CROSSING] * d.size)
        return T.CentredMinimum(J_D, lam, L, 0.2 * (J_D - 0.058), float(d[-1]), False, d, d * 0,
                                d * 0, d * 0, d * 0, st)
    monkeypatch.setattr(T, "centred_minimum", fake)
    kw = dict(bracket=(0.0, 0.2), xtol=1e-6, d_grid=COARSE, cache_dir=tmp_path)
    first = T.critical_JD(**kw)
    n = len(calls)
    again = T.critical_JD(**kw)
    assert first.converged and abs(first.value - 0.058) < 2e-6
    assert len(calls) == n and again.value == first.value
    assert all(isinstance(e, T.CentredMinimum) for e in again.evaluations)
    assert list(again.evaluations[0].status) == [T.CROSSING] * len(COARSE)


def test_refined_grid_adds_midpoints_and_one_step_below_the_end():
    g = T.refined_grid([0.2, 0.1, 0.05, 0.03])
    assert np.allclose(g, [0.018, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2])


class _FakeApprox(_Fake):
    value_uncertainty = 2e-5


def test_critical_uncertainty_parts_add_up():
    # tolerance 1e-6, grid |−1e-5|/0.2, interpolation 2e-5/0.2: the parts and their sum
    c = T._critical("J_D", _FakeApprox, (0.0, 0.2), 1e-6, np.linspace(0.3, 0.01, 5), {})
    assert 0 <= c.tol_uncertainty <= 1e-6
    assert c.grid_uncertainty == pytest.approx(5e-5, rel=1e-6)
    assert c.approx_uncertainty == pytest.approx(1e-4, rel=1e-6)
    assert c.uncertainty == pytest.approx(c.tol_uncertainty + 5e-5 + 1e-4, rel=1e-9)


#: the quick preset of theory.phase_diagram: J_c = 0.0573 ± 0.0047 (the d-grid below)
QUICK = np.array([0.2, 0.1, 0.05, 0.03])


def test_chain_at_zero_coupling_reproduces_the_core_criterion():
    # λ = 0: the chain is two independent cores, so its criterion (integer y, spline, per neuron)
    # is the core's (continuous y) at every distance, within the spline's own uncertainty
    # (7e-7 … 9e-5 here; measured differences 1e-8 … 1.2e-6) + 1e-6 (the y* Brent tolerance of
    # the core, 1e-6 in ln y)
    core = T.branch_minimum(0.0576, d_grid=QUICK)
    chain = T.branch_minimum(0.0576, 0.0, 2, d_grid=QUICK)
    assert np.allclose(chain.d, core.d)
    tol = chain.approx + 1e-6
    assert np.all(np.abs(chain.internal_entropy - core.internal_entropy) <= tol)
    assert abs(chain.value - core.value) <= chain.value_uncertainty + 1e-6


def test_chain_criterion_changes_sign_at_the_core_J_c_at_zero_coupling():
    # the line's anchor: at λ = 0 the chain's root in J_D is the core's. Both change sign between
    # 0.0568 and 0.0573 (g ≈ −2.4e-4 and +1e-5, slope 0.5); the secant roots agree to 1.5e-6 in
    # J_D (measured): tolerance 2e-5, i.e. 1e-5 in g, ten times the measured chain−core
    # difference (≤ 1.1e-6 at both ends) and a tenth of the spline's own bound (9e-5)
    a, b = 0.0568, 0.0573
    core = [T.branch_minimum(j, d_grid=QUICK).value for j in (a, b)]
    chain = [T.branch_minimum(j, 0.0, 2, d_grid=QUICK).value for j in (a, b)]
    assert core[0] < 0 < core[1] and chain[0] < 0 < chain[1]

    def root(g):
        return a - g[0] * (b - a) / (g[1] - g[0])
    assert root(chain) == pytest.approx(root(core), abs=2e-5)


#: the core's centred criterion on G = [0.05, 0.025, 0.018, 0.014, 0.011, 0.008, 0.005]
#: (T.centred_minimum(J_D, d_grid=G), 45–60 s): (J_D, d, status, S_I^max or nan, Σ_f/y_f)
CORE_CENTRED = [(0.07, 0.011, T.CROSSING, 3.0718e-3, 1.9902e-3),
                (0.066, 0.008, T.GAP, np.nan, -3.3725e-4)]


@pytest.mark.parametrize("J_D, d, status, S, fold", CORE_CENTRED)
def test_chain_centred_criterion_at_zero_coupling_is_the_cores(J_D, d, status, S, fold):
    # λ = 0: two independent cores, so the chain's centred criterion (integer y; between the fold
    # and the first integer y by theory.chain_fold, at fixed t) must give the core's status and
    # margins per neuron. The integer-y gap test alone (Σ_ext < 0 at ⌈y_f⌉) gave a gap at both
    # points, with margins −4.03e-4 and −7.09e-4, and J_c = 0.0731 instead of 0.0660.
    # Measured: |ΔS| = 2e-7, |ΔΣ_f/y_f| = 7e-6 and 3e-6; 8–10 s each.
    m = T.centred_minimum(J_D, 0.0, 2, d_grid=[0.014, d])
    k = int(np.flatnonzero(np.isclose(m.d, d))[0])
    assert m.status[k] == status
    assert m.fold_margin[k] == pytest.approx(fold, abs=2e-5)
    if status == T.CROSSING:
        assert m.internal_entropy[k] == pytest.approx(S, abs=2e-5)
        assert m.margin[k] == m.internal_entropy[k] and m.value > 0
    else:
        assert m.margin[k] == m.fold_margin[k] and m.value == m.margin[k] < 0


@pytest.mark.slow
def test_the_lambda_c_line_is_monotone_and_ends_at_J_c(tmp_path):
    # python -m theory.phase_diagram --layers transition (quick preset, 1 min): λ_c at ≥ 7 values
    # of J_D in [0, J_c) plus the anchor (J_c, 0); strictly decreasing in J_D (measured steps
    # −0.025 … −0.062); g(J_D, λ) is even in λ (flipping one layer maps λ → −λ), so near J_c
    # λ_c² is linear in J_D: the fit through the last three points must reach 0 within J_c's
    # error bar
    from theory.phase_diagram import main
    from toolkit.results import read_csv
    assert main(["--out", str(tmp_path), "--quiet", "--layers", "transition", "--no-plot"]) == 0
    rows = read_csv(tmp_path / "transition.csv")
    assert all(r["converged"] for r in rows)
    jc = next(r for r in rows if r["critical"] == "J_D")
    line = sorted((r["J_D"], r["lam"], r["uncertainty"]) for r in rows if r["critical"] == "lam")
    assert len(line) >= 7 and line[0][0] == 0 and line[-1][0] < jc["value"]
    J, lam, unc = np.array(line).T
    assert np.all(np.diff(lam) < 0)
    a, b = np.polyfit(J[-3:], lam[-3:] ** 2, 1)
    assert abs(-b / a - jc["value"]) < jc["uncertainty"]  # measured 0.0583 vs 0.0573 ± 0.0047
    assert any(r["critical"] == "anchor" and r["lam"] == 0 for r in rows)


@pytest.mark.slow
def test_centred_criterion_on_both_sides_of_its_J_c():
    # through the fold (5 min): J_D = 0.06 has gaps at d = 0.014 … 0.005 (g = −1.83e-3 at 0.011),
    # J_D = 0.07 none (g = +7.7e-4); J_c(centred) = 0.0673 ± 0.0008 (docs/theory_small_d.md)
    grid = np.array([0.05, 0.025, 0.018, 0.014, 0.011, 0.008, 0.005])
    lo, hi = T.centred_minimum(0.06, d_grid=grid), T.centred_minimum(0.07, d_grid=grid)
    assert lo.gap and lo.value < -1e-3 and list(lo.status[3:]) == [T.GAP] * 4
    assert not hi.gap and hi.value > 5e-4 and all(s == T.CROSSING for s in hi.status)


# --- the chain's centred rows (theory.transition._chain_row), with stand-ins ------------------

class _Chain:
    """A chain densest-cluster result stand-in (theory.chain_large_deviation.densest)."""

    def __init__(self, converged, frozen=True, message="", S=0.004, y=6.5, ys=(3, 4, 5, 6, 7)):
        self.converged, self.frozen, self.message = converged, frozen, message
        self.internal_entropy, self.y_star, self.L, self.d = S, y, 2, 0.01
        self.ys = np.array(ys, float)
        # Φ = 1 + 0.3 y − 0.02 y², so Σ_ext = Φ − yΦ′ = 1 + 0.02 y²
        self.phis = 1 + 0.3 * self.ys - 0.02 * self.ys ** 2
        self.results = {int(v): None for v in self.ys}


class _Fold:
    def __init__(self, sigma, y):
        self.external_entropy, self.y = sigma, y


class _Point:
    def __init__(self, fold, crossing=None):
        self.fold, self.crossing = fold, crossing


class _Crossing:
    internal_entropy, y = 0.006, 2.8


def test_chain_sigma_lo_is_the_splines_external_entropy_at_the_first_integer():
    # Φ quadratic: the not-a-knot spline is exact, Σ_ext(y) = Φ − yΦ′ = 1 + 0.02 y² at y0 = 3,
    # per neuron (÷ L = 2) over y0: (1 + 0.18)/6
    assert T._chain_sigma_lo(_Chain(False)) == pytest.approx(1.18 / 6, rel=1e-12)
    assert np.isnan(T._chain_sigma_lo(_Chain(False, ys=(3, 4, 5))))  # too few integers


@pytest.mark.parametrize("case, fold, expect", [
    # converged, Σ_ext > 0 up to y_max: a lower bound
    (dict(converged=True, frozen=False), None, (T.BOUND, 0.004, 0.004, np.nan, 6.5)),
    # a solver failure (not "below its fold"): failed, no margin
    (dict(converged=False, message="no saddle"), None, (T.FAILED, np.nan, 0.004, np.nan, 6.5)),
    # an integer-y crossing, fold located: margin S_I^max, fold term Σ_f/y_f per neuron
    (dict(converged=True), _Point(_Fold(0.01, 2.5)), (T.CROSSING, 0.004, 0.004, 0.002, 6.5)),
    # below the fold at the first integer, fold found with Σ_f < 0, no crossing: a gap
    (dict(converged=False, message="below its fold"), _Point(_Fold(-0.01, 2.5)),
     (T.GAP, -0.002, np.nan, -0.002, np.nan)),
    # below the fold at the first integer, but a crossing between y_f and ⌈y_f⌉: not a gap
    (dict(converged=False, message="below its fold"),
     _Point(_Fold(0.01, 2.5), _Crossing()),
     (T.CROSSING, 0.003, 0.003, 0.002, 2.8)),
    # fold not found: the integer-y bound Σ_ext(⌈y_f⌉)/(L y0) (over-reports gaps, flagged GAP)
    (dict(converged=False, message="below its fold"), None,
     (T.GAP, 1.18 / 6, np.nan, 1.18 / 6, np.nan)),
])
def test_chain_row_statuses_and_margins(monkeypatch, case, fold, expect):
    monkeypatch.setattr(T, "_chain_fold", lambda *a: fold)
    row = T._chain_row(_Chain(**case), 0.05, 0.3, 0.0)
    assert row[0] == expect[0]
    np.testing.assert_allclose(row[1:], expect[1:], rtol=1e-12)
