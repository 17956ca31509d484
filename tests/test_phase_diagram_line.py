"""The λ_c line of ``python -m theory.phase_diagram`` (issue 15, item 4): its brackets and the
fallback when a root lies outside them, with the root search replaced by stand-ins."""

import numpy as np
import pytest

from theory import phase_diagram as P
from theory import transition as T

#: λ_c of the quick preset at J_D = 0, 0.008, …, 0.048 (docs/theory_small_d.md; secant roots)
MEASURED = [0.4069, 0.3823, 0.3546, 0.3230, 0.2857, 0.2397, 0.1781]
MEASURED_J_C = 0.0573


def test_line_guess_interpolates_the_nominal_line_and_ends_at_J_c():
    assert P.line_guess(0.0) == P.NOMINAL_LINE[0]
    assert P.line_guess(P.NOMINAL_J_C) == 0.0 and P.line_guess(0.07) == 0.0
    # λ_c² linear in J_D between J_D = 0.048 and J_c (the criterion is even in λ)
    mid = (P.LINE_J_D_MAX + P.NOMINAL_J_C) / 2
    assert P.line_guess(mid) ** 2 == pytest.approx(P.NOMINAL_LINE[-1] ** 2 / 2, rel=1e-12)
    assert np.all(np.diff([P.line_guess(j) for j in np.linspace(0, 0.06, 50)]) <= 0)


def test_the_quick_brackets_cover_the_measured_line_with_room():
    # each root at least a fifth of the bracket from its ends, so a small change of the criterion
    # still finds its root in two evaluations
    pre = P.TRANSITION_PRESETS["quick"]
    for j, lam in zip(np.linspace(0, P.LINE_J_D_MAX, 7), MEASURED):
        lo, hi = P.line_bracket(j, pre["bracket_lam"])
        assert hi - lo == pytest.approx(pre["xtol_lam"])
        assert lo + 0.2 * (hi - lo) < lam < hi - 0.2 * (hi - lo)
    lo, hi = (P.NOMINAL_J_C + b for b in pre["bracket_J"])
    assert hi - lo == pytest.approx(pre["xtol_J"])
    assert lo + 0.2 * (hi - lo) < MEASURED_J_C < hi - 0.2 * (hi - lo)


def _crit(value, converged):
    return T.Critical("lam", value, 0.03, {}, (0, 1), [], 0.0, converged, "", 0.03, 0.0, 0.0)


def test_a_root_outside_its_bracket_is_searched_on_the_full_one(monkeypatch):
    calls = []

    def fake(J_D, L, kappa, *, bracket, **kw):
        calls.append(bracket)
        return _crit(np.nan, False) if bracket == (0.3, 0.35) else _crit(0.42, True)
    monkeypatch.setattr(T, "critical_lambda", fake)
    r = P.transition_root(0, "lam", 0.01, 0.0, "quick", None, bracket=(0.3, 0.35))
    assert calls == [(0.3, 0.35), (0.02, 0.6)]
    assert r["converged"] == 1 and r["lam"] == 0.42
    parts = r["tol_uncertainty"] + r["grid_uncertainty"] + r["approx_uncertainty"]
    assert r["uncertainty"] == parts


def test_J_c_outside_its_bracket_is_searched_on_the_full_one(monkeypatch):
    calls = []

    def fake(lam, L, kappa, *, bracket, **kw):
        calls.append(bracket)
        return _crit(np.nan, False) if bracket == (0.05, 0.055) else _crit(0.0577, True)
    monkeypatch.setattr(T, "critical_JD", fake)
    r = P.transition_root(0, "J_D", np.nan, 0.0, "quick", None, bracket=(0.05, 0.055))
    assert calls == [(0.05, 0.055), P.FULL_BRACKET["J_D"]]
    assert r["converged"] == 1 and r["J_D"] == 0.0577 and r["L"] == 1


def test_the_centred_preset_brackets_its_calibrated_roots():
    # λ_c(0) = 0.446 ± 0.003, λ_c(0.05) = 0.256 ± 0.004, J_c = 0.0673 ± 0.0008 (calibration,
    # docs/theory_small_d.md): inside the preset's brackets, a tolerance away from their ends
    pre = P.TRANSITION_PRESETS["centred"]
    assert pre["criterion"] == "centred" and np.array_equal(pre["d_grid"], P.CENTRED_D_GRID)
    for j, lam in ((0.0, 0.446), (0.05, 0.256)):
        lo, hi = P.line_bracket(j, pre["bracket_lam"], pre["nominal"])
        assert lo + pre["xtol_lam"] < lam < hi - pre["xtol_lam"]
    lo, hi = (pre["nominal"][0] + b for b in pre["bracket_J"])
    assert lo < 0.0673 - 0.0008 and 0.0673 + 0.0008 < hi
    # and the guess between the calibrated points is monotone, 0 at J_c
    g = [P.line_guess(j, pre["nominal"]) for j in np.linspace(0, 0.07, 30)]
    assert np.all(np.diff(g) <= 0) and g[-1] == 0.0
