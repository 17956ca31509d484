"""Fig. 4's two parts (figures.fig4): where the numerical branch hands over to the small-d
approximant, and how the CSV names the parts. The numerics are replaced by stand-ins with known
values, so the joining rule itself is what is tested."""

import numpy as np
import pytest

from figures import fig4
from theory import transition as T

C, G = T.CROSSING, T.GAP


def _rows(S):
    """numerical rows (d, status, S, y) from {d: S or 'gap'}"""
    return [(d, G if s == "gap" else C, np.nan if s == "gap" else s, 3.0)
            for d, s in sorted(S.items(), reverse=True)]


def test_join_at_the_largest_agreeing_distance_below_every_gap():
    # d = 0.02 agrees within 2 % but lies above the gap at 0.01: not a candidate; 0.005 is 5 % off,
    # 0.003 1 % off -> join at 0.003 (and 0.002, also agreeing, is below it)
    rows = _rows({0.1: 0.02, 0.02: 0.005, 0.01: "gap", 0.005: 0.004, 0.003: 0.003, 0.002: 0.0025})
    approx = {0.02: 0.005, 0.005: 0.0042, 0.003: 0.00303, 0.002: 0.0025}
    d, mis = fig4.join(rows, lambda d: (approx[d], 1.0))
    assert d == 0.003 and mis == pytest.approx(0.01)


def test_join_where_closest_when_nothing_agrees_and_nan_without_candidates():
    rows = _rows({0.02: 0.005, 0.01: 0.004, 0.005: 0.003})
    approx = {0.02: 0.004, 0.01: 0.0034, 0.005: 0.0027}   # 20 %, 15 %, 10 % off
    d, mis = fig4.join(rows, lambda d: (approx[d], 1.0))
    assert d == 0.005 and mis == pytest.approx(0.1)
    d, mis = fig4.join(_rows({0.05: 0.01, 0.01: "gap"}), lambda d: (1.0, 1.0))
    assert np.isnan(d) and np.isnan(mis)


def test_curve_parts_and_csv_rows(monkeypatch):
    rows = _rows({0.1: 0.02, 0.01: "gap", 0.004: 0.003, 0.002: 0.0021})
    monkeypatch.setattr(fig4, "numerical_branch", lambda *a: rows)
    monkeypatch.setattr(fig4, "approximant",
                        lambda J_D, lam, L, d: (0.003 * (d / 0.004) ** 0.5, 7.0))
    r = fig4.curve_task(0, 0.05, 0.0, 1, [0.1, 0.01, 0.004, 0.002], d_min=1e-6, n_asym=5)
    assert r["join_d"] == 0.004 and r["join_mismatch"] == pytest.approx(0.0, abs=1e-15)
    parts = dict(zip(map(float, r["d"]), r["part"]))
    assert 0.002 not in parts or parts[0.002] == fig4.ASYMPTOTIC  # numerical rows below the join go
    assert list(r["part"]).count(fig4.GAP) == 1 and list(r["part"]).count(fig4.NUMERICAL) == 2
    asy = r["d"][r["part"] == fig4.ASYMPTOTIC]
    assert asy[0] == 0.004 and asy[-1] == pytest.approx(1e-6) and asy.size == 5
    csv = fig4.rows_of({"JD0.05_lam0_L1": r})
    assert {c["part"] for c in csv} == {"numerical", "asymptotic", "gap"}
    joins = [c for c in csv if c["join"]]
    assert sorted(c["part"] for c in joins) == ["asymptotic", "numerical"]
    assert all(c["d"] == 0.004 for c in joins)


def test_a_curve_that_agrees_nowhere_is_not_joined_and_keeps_every_numerical_row(monkeypatch):
    # the approximant is 30 % above the branch everywhere: nothing is dropped, no row says join,
    # the approximant starts at the largest candidate (0.02 ≤ JOIN_MAX_D) so the parts overlap;
    # a failed distance and a lower bound are rows of their own, not silently gone
    rows = _rows({0.1: 0.02, 0.02: 0.01, 0.005: 0.004, 0.002: 0.002})
    rows.insert(2, (0.01, T.FAILED, np.nan, np.nan))
    rows.insert(1, (0.05, T.BOUND, 0.015, 30.0))
    monkeypatch.setattr(fig4, "numerical_branch", lambda *a: rows)
    monkeypatch.setattr(fig4, "approximant", lambda J_D, lam, L, d: (1.3 * d, 7.0))
    r = fig4.curve_task(0, 0.05, 0.0, 1, [0.1, 0.05, 0.02, 0.01, 0.005, 0.002], d_min=1e-6,
                        n_asym=4)
    num = r["d"][r["part"] == fig4.NUMERICAL]
    assert sorted(num) == [0.002, 0.005, 0.02, 0.1]
    assert r["d"][r["part"] == fig4.FAILED].tolist() == [0.01]
    assert np.isnan(r["S_I"][r["part"] == fig4.FAILED]).all()
    assert r["S_I"][r["part"] == fig4.BOUND].tolist() == [0.015]
    assert r["d"][r["part"] == fig4.ASYMPTOTIC][0] == 0.02
    # closest at 0.002 (0.0026 vs 0.002: 30 %, same everywhere up to rounding)
    assert r["join_mismatch"] == pytest.approx(0.3)
    csv = fig4.rows_of({"JD0.05_lam0_L1": r})
    assert not any(c["join"] for c in csv)
    assert {c["part"] for c in csv} == {"numerical", "asymptotic", "failed", "lower_bound"}
