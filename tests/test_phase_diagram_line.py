"""The λ_c line of ``python -m theory.phase_diagram`` (issue 15, item 4): its brackets and the
fallback when a root lies outside them, with the root search replaced by stand-ins."""

import numpy as np
import pytest

from theory import phase_diagram as P
from theory import transition as T

#: λ_c of the quick preset at J_D = 0, 0.008, …, 0.048 (docs/theory_small_d.md)
MEASURED = [0.4070, 0.3822, 0.3543, 0.3224, 0.2848, 0.2384, 0.1759]


def test_line_guess_ends_and_brackets_cover_the_measured_line():
    jc, lam0 = P.NOMINAL_ENDS
    assert P.line_guess(0.0) == lam0 and P.line_guess(jc) == 0.0 and P.line_guess(0.07) == 0.0
    # λ_c² linear in J_D (the criterion is even in λ)
    assert P.line_guess(jc / 2) ** 2 == pytest.approx(lam0 ** 2 / 2, rel=1e-12)
    for j, lam in zip(np.linspace(0, P.LINE_J_D_MAX, 7), MEASURED):
        lo, hi = P.line_bracket(j)
        assert lo < lam < hi


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
