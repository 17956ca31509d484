"""Annealed local entropy (SPEC §4.5, V6): endpoints, mpmath at tiny d, the small-d asymptote."""

import mpmath as mp
import numpy as np
import pytest

from tests import mpref
from theory import annealed as A
from theory import local_entropy as LE


def _S_loc_mp(d, jt):
    with mp.workdps(mpref.DPS):
        return _S_loc(d, jt)


def _S_loc(d, jt):
    d, jt = mp.mpf(d), mp.mpf(jt)
    hb = -d * mp.log(d) - (1 - d) * mp.log(1 - d)
    return (hb + (1 - d) * mpref.log_Phi2(jt, jt, 1 - 2 * d)
            + d * mpref.log_Phi2(jt, jt, -(1 - 2 * d)) - mp.log(mp.ncdf(jt)))


@pytest.mark.parametrize("jd", [0.0, 0.07, 0.5, 1.5])
def test_endpoints(jd):
    assert LE.annealed(0.0, jd) == pytest.approx(0.0, abs=1e-15)
    assert LE.annealed(0.5, jd) == pytest.approx(A.entropy_core(jd), abs=1e-14)
    assert LE.pair_entropy(0.2, jd) == A.pair_exponent(0.2, jd)


@pytest.mark.parametrize("jd", [0.0, 0.1, 0.8])
@pytest.mark.parametrize("d", [1e-10, 1e-6, 1e-3, 0.2])
def test_against_mpmath(jd, d):
    # Absolute 1e-13: S_loc is a sum of O(1) logs (each with relative error ~1e-14) and is itself
    # as small as √d·0.6 ~ 6e-6 at d = 1e-10, so relative agreement there is ~1e-8.
    assert LE.annealed(d, jd) == pytest.approx(float(_S_loc_mp(d, jd)), abs=1e-13)


@pytest.mark.parametrize("jd", [0.0, 0.05, 0.3, 1.0])
def test_small_d_asymptote(jd):
    # (S_loc − asymptote)/d stays bounded as d → 0 (the error term is O(d)); we check it on
    # d = 1e-3 .. 1e-9 with the full expression, and that it has settled (changes < 0.05).
    d = np.logspace(-3, -9, 7)
    r = (LE.annealed(d, jd) - LE.annealed_small_d(d, jd)) / d
    assert np.all(np.abs(r) < 2.0)
    assert np.all(np.abs(np.diff(r[2:])) < 0.05)
    # and the asymptote is not vacuous: its √d term dominates at small d
    assert LE.annealed(1e-8, jd) < 0


def test_typical_fixed_points_isolated():
    # S_loc^ann < 0 at small d for every J̃ ≥ 0: one flip violates O(√N) constraints. The negative
    # window shrinks with J̃ (the √d coefficient is e^{−J̃²/2}/(πΦ(J̃))): d ≤ 1e-3 for J̃ ≤ 0.5,
    # d = 1e-10 up to J̃ = 3.
    d = np.logspace(-8, -3, 6)[:, None]
    assert np.all(LE.annealed(d, np.array([0.0, 0.1, 0.5])[None, :]) < 0)
    assert np.all(LE.annealed(1e-10, np.array([1.0, 2.0, 3.0])) < 0)


def test_bad_input():
    with pytest.raises(ValueError):
        LE.annealed(-0.1, 0.2)
    with pytest.raises(ValueError):
        LE.annealed(0.1, np.nan)
    with pytest.raises(ValueError):
        LE.annealed_small_d(0.01, -0.1)
