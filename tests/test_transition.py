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
