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
