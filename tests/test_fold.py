"""The densest-cluster branch in the regular variable t (theory.fold): it is the fixed-y saddle of
theory.large_deviation, its fold is a saddle-node of the RS equations (converged under quadrature
refinement, with the fixed-y iteration failing just below it), and the centred crossing turns into
a gap where Σ_ext < 0 on the whole centred branch."""

import numpy as np
import pytest

from theory import fold as F
from theory import large_deviation as LD


def test_solve_at_t_reproduces_the_fixed_y_saddle():
    # same stationarity equations, y now an unknown: tolerance 1e-9 of both solvers
    ref = LD.solve(0.05, 3.0, 0.3)
    p = 1 - 2 * 0.05
    t = (ref.q1 - p * p) / (1 - p * p)
    r = F.solve_at(0.05, t, 0.3, init=(ref.p_hat, ref.q1_hat * 1.1, 2.7))
    assert r.converged
    assert r.y == pytest.approx(3.0, abs=1e-7)
    assert r.phi == pytest.approx(ref.phi, abs=1e-9)
    assert r.internal_entropy == pytest.approx(ref.internal_entropy, abs=1e-8)


#: a centred saddle at J_D = 0.06, d = 0.012 (p̂, q̂1, y) at t = 0.26 (from theory.fold)
START = F.TSaddle(0.012, 7.843, 0.06, 0.0, "constrained", np.nan, np.nan, np.nan, p_hat=0.1866,
                  q1=np.nan, q1_hat=0.1100, converged=True, iterations=0, t=0.26)


@pytest.fixture(scope="module")
def fold_012():
    s = F.solve_at(0.012, 0.26, 0.06, init=START)
    return F.fold(0.012, 0.06, start=s)


def test_fold_is_a_converged_saddle_node(fold_012):
    f = fold_012
    assert f.exists and 5.0 < f.y < 5.2 and 0.5 < f.t < 0.65
    # quadrature halved: y_f and Σ_f move by < 1e-6 (not a resolution effect)
    g = F.solve_at(0.012, f.t, 0.06, init=f.saddle, step=0.25)
    assert g.converged
    assert g.y == pytest.approx(f.y, abs=1e-6)
    assert g.external_entropy == pytest.approx(f.external_entropy, abs=1e-7)
    # y(t) has its minimum there: larger on both sides
    for dt in (-0.05, 0.05):
        assert F.solve_at(0.012, f.t + dt, 0.06, init=f.saddle).y > f.y


def test_fixed_y_iteration_has_no_centred_saddle_below_the_fold(fold_012):
    # just above y_f the fixed-y iteration converges on the centred branch; just below it has
    # nothing to converge to (the old "fold" of theory.transition)
    f = fold_012
    centred_side = F.solve_at(0.012, 0.4, 0.06, init=START)
    above = LD.solve(0.012, f.y + 0.3, 0.06, init=centred_side, max_iter=400)
    p = 1 - 2 * 0.012
    assert above.converged and (above.q1 - p * p) / (1 - p * p) < f.t
    below = LD.solve(0.012, f.y - 0.3, 0.06, init=centred_side, max_iter=400, collapse=0.99)
    assert not below.converged or (below.q1 - p * p) / (1 - p * p) > f.t


@pytest.fixture(scope="module")
def gap_012():
    return F.centred(0.012, 0.06, init=START)


@pytest.fixture(scope="module")
def crossing_012():
    return F.centred(0.012, 0.07, init=START)


def test_gap_where_the_fold_has_negative_external_entropy(fold_012, gap_012):
    assert fold_012.external_entropy < 0 < fold_012.internal_entropy
    c = gap_012
    assert c.status == "gap" and c.margin < 0
    # the gap's margin is Σ_f/y_f of the fold located on its own from START (fold_012): the two
    # searches stop at 1e-5 in logit t, where y is flat and Σ_ext moves by < 1e-6
    assert c.margin == pytest.approx(fold_012.external_entropy / fold_012.y, abs=2e-7)


def test_crossing_above_the_gap(crossing_012):
    # J_D = 0.07 has no gap at d = 0.012: Σ_ext = 0 on the centred branch with S_I^max > 0
    c = crossing_012
    assert c.status == "crossing"
    assert abs(c.saddle.external_entropy) < 1e-7 and c.internal_entropy > 0 and c.t_star < 0.6


def test_fold_margin_of_a_gap_is_its_margin(fold_012, gap_012):
    c = gap_012
    # Σ/y of an independent solve at the fold's t with the quadrature step halved
    g = F.solve_at(0.012, c.fold.t, 0.06, init=c.fold.saddle, step=0.25)
    assert c.fold_margin == pytest.approx(g.external_entropy / g.y, abs=1e-7) and c.fold_margin < 0
    # the same fold as located from the centred side directly (Brent to 1e-5 in logit t: y_f flat)
    assert c.fold.y == pytest.approx(fold_012.y, abs=1e-6)
    assert c.fold.external_entropy == pytest.approx(fold_012.external_entropy, abs=1e-6)


@pytest.mark.slow
def test_fold_margin_of_a_crossing_is_positive_and_beyond_it(crossing_012):
    # Σ_ext increases and y decreases along the centred branch towards the fold, so a crossing
    # (Σ_ext = 0 at t*) has its fold at t_f > t*, y_f < y*, with Σ_f > 0
    c = F.centred(0.012, 0.07, init=START, with_fold=True)
    assert c.status == "crossing" and c.fold.exists
    assert c.fold.t > c.t_star and c.fold.y < c.y_star
    assert c.fold_margin > 0 and c.fold_margin == pytest.approx(c.fold.external_entropy / c.fold.y)
    assert np.isnan(crossing_012.fold_margin)  # not computed without with_fold


def test_centred_curve_from_an_explicit_start_keeps_the_input_order(crossing_012):
    # two distances given small-first: the curve is solved large-to-small from START (d = 0.012)
    # and returned in input order; each point is a centred crossing (Σ_ext = 0 to Brent's 1e-8
    # in logit t, i.e. ≲ 1e-9 in Σ_ext) on the branch continued from START
    cs = F.centred_curve([0.0115, 0.012], 0.07, start=START)
    assert [c.d for c in cs] == [0.0115, 0.012]
    for c in cs:
        assert c.status == "crossing" and abs(c.saddle.external_entropy) < 1e-8
    ref = crossing_012
    assert cs[1].internal_entropy == pytest.approx(ref.internal_entropy, abs=1e-10)
    # S_I^max falls towards the gap of J_D = 0.06 below (it is positive here, J_D = 0.07 > J_c)
    assert 0 < cs[0].internal_entropy < cs[1].internal_entropy


#: the centred crossing at J_D = 0.067, d = 0.011 (p̂, q̂1, y, t), from which centred_curve steps to
#: d = 0.008
START_067 = F.TSaddle(0.011, 4.6958, 0.067, 0.0, "constrained", np.nan, np.nan, np.nan,
                      p_hat=0.2746, q1=np.nan, q1_hat=0.2750, converged=True, iterations=0,
                      t=0.4953)


def test_a_march_step_over_the_fold_is_not_a_crossing():
    # from t = 0.495 one march step lands past the fold (t_f ≈ 0.62) on the partner branch, with
    # y below the previous point and Σ_ext > 0; Brent then found a partner "crossing" (t* = 0.637,
    # fold not found: fold term +inf), which set the core's J_c to 0.0660 instead of 0.0673.
    # The centred branch has Σ_f < 0 here: a gap, as the chain's criterion at λ = 0 finds
    # (margin −8e-5 at J_D = 0.067, tests/test_transition.py). 5 s.
    r = F.centred(0.008, 0.067, init=START_067, with_fold=True)
    assert r.status == "gap" and r.fold.exists
    assert r.fold.t < 0.63 and r.fold_margin == pytest.approx(-7.93e-5, abs=5e-6)


def test_fold_margin_tells_no_fold_from_a_failed_search():
    # no fold above y_floor: nothing bounds the crossing (+inf); a search that failed: unknown (NaN)
    none = F.Fold(0.1, 0.3, False, message="y(t) decreases below 1.5 without a fold")
    broken = F.Fold(0.1, 0.3, False, failed=True, message="march ended")
    assert F.Centred(0.1, 0.3, "crossing", fold=none).fold_margin == np.inf
    assert np.isnan(F.Centred(0.1, 0.3, "crossing", fold=broken).fold_margin)
    assert np.isnan(F.Centred(0.1, 0.3, "crossing").fold_margin)
