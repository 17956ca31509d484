"""numerics.learning.onset: the learning onset along a line and its error propagation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from numerics.learning.onset import crossing, mean_accuracy, onsets


def test_crossing_of_a_straight_line_is_exact():
    x = [0.0, 1.0, 3.0, 4.0]
    m = [0.1 + 0.2 * v for v in x]                          # 0.5 is reached at x = 2
    o = crossing(x, m, [0.0] * 4, 0.5)
    assert o.status == "crossed" and o.value == pytest.approx(2.0, abs=1e-12)
    assert (o.lo, o.hi) == (1.0, 3.0) and o.se == 0.0


def test_crossing_se_matches_a_numerical_gradient():
    """Linear error propagation against central differences of the crossing itself."""
    x, m, se = [0.0, 0.5, 1.0], [0.1, 0.3, 0.8], [0.01, 0.02, 0.03]
    level, se_level = 0.45, 0.015
    o = crossing(x, m, se, level, se_level)
    h = 1e-6
    grads = []
    for k in (1, 2):                                        # the bracketing points
        up, dn = list(m), list(m)
        up[k] += h
        dn[k] -= h
        grads.append((crossing(x, up, se, level).value - crossing(x, dn, se, level).value) / (2 * h))
    g_level = (crossing(x, m, se, level + h).value - crossing(x, m, se, level - h).value) / (2 * h)
    expect = math.sqrt((grads[0] * se[1]) ** 2 + (grads[1] * se[2]) ** 2 + (g_level * se_level) ** 2)
    assert o.se == pytest.approx(expect, rel=1e-6)
    assert o.value == pytest.approx(0.5 + 0.5 * 0.15 / 0.5)


def test_crossing_censored_and_bad_input():
    o = crossing([0, 1], [0.6, 0.7], [0.01, 0.01], 0.5)
    assert o.status == "below grid" and o.value == 0.0 and o.hi == 0.0
    o = crossing([0, 1, 2], [0.1, 0.2, 0.3], [0.01] * 3, 0.5)
    assert o.status == "not reached" and o.value == math.inf and o.lo == 2.0
    with pytest.raises(ValueError, match="strictly increasing"):
        crossing([0, 0], [0.1, 0.2], [0, 0], 0.5)
    with pytest.raises(ValueError, match="same non-zero length"):
        crossing([0, 1], [0.1], [0, 0], 0.5)
    with pytest.raises(ValueError, match="finite"):
        crossing([0, 1], [0.1, math.nan], [0, 0], 0.5)


def test_crossing_takes_the_first_upward_crossing():
    o = crossing([0, 1, 2, 3], [0.1, 0.7, 0.2, 0.9], [0.0] * 4, 0.4)
    assert o.lo == 0 and o.hi == 1 and o.value == pytest.approx(0.5)


def test_mean_accuracy():
    m, se = mean_accuracy([0.5, 0.7], 100)
    assert m == pytest.approx(0.6) and se == pytest.approx(np.std([0.5, 0.7], ddof=1) / math.sqrt(2))
    m, se = mean_accuracy([0.2], 400)
    assert se == pytest.approx(math.sqrt(0.2 * 0.8 / 400))
    assert math.isnan(mean_accuracy([0.2], None)[1])
    with pytest.raises(ValueError):
        mean_accuracy([], 10)


def test_onsets_per_input_strength_and_line():
    rows = []
    for lin, best in ((2.0, 0.8), (5.0, 0.6)):
        for (jd, lam), a in {(0.0, 0.0): 0.1, (0.0, 1.0): 0.3, (0.0, 2.0): best,
                             (0.5, 0.0): best, (0.5, 1.0): best}.items():
            rows.append(dict(lambda_in=lin, J_D=jd, lam=lam, seed=0, final_test_acc=a, n_test=10000))
    out = onsets(rows)
    got = {(o["lambda_in"], o["along"], o["J_D"] if o["along"] == "lam" else o["lam"]): o
           for o in out}
    # λ_in = 2: level (0.1 + 0.8)/2 = 0.45, between λ = 1 (0.3) and 2 (0.8): 1.3
    assert got[(2.0, "lam", 0.0)]["value"] == pytest.approx(1.3)
    assert got[(2.0, "lam", 0.0)]["level"] == pytest.approx(0.45)
    # λ_in = 5 has its own level (0.1 + 0.6)/2 = 0.35: 1 + 0.05/0.3
    assert got[(5.0, "lam", 0.0)]["value"] == pytest.approx(1 + 0.05 / 0.3)
    assert got[(2.0, "lam", 0.5)]["status"] == "below grid"
    assert got[(2.0, "J_D", 0.0)]["value"] == pytest.approx(0.5 * 0.35 / 0.7)
    assert (2.0, "J_D", 2.0) not in got                     # a single J_D at λ = 2: no line
    assert all(o["seeds"] == 1 and o["points"] >= 2 for o in out)


# ----------------------------------------------------------------- the λ = 0 collapse (report)

def _trace(mean, n_items, rng):
    """Probe accuracies: binomial draws on n_items around the mean curve."""
    return rng.binomial(n_items, np.clip(mean, 0, 1)) / n_items


def test_collapse_states_of_synthetic_traces():
    from validation.grid import collapse_state
    rng = np.random.default_rng(5)
    steps = np.arange(0, 15001, 250.0)
    n, C = 1000, 10
    flat = np.full(steps.size, 0.1)
    decayed = 0.1 + 0.45 * np.exp(-steps / 1500) * (steps > 0)
    slow = 0.1 + 0.4 * np.exp(-steps / 12000) * (steps > 0)
    kept = 0.1 + 0.6 * (1 - np.exp(-steps / 1000))
    c = collapse_state(steps, _trace(flat, n, rng), n, C)
    assert (c["state"], c["transient"]) == ("at chance", False)
    c = collapse_state(steps, _trace(decayed, n, rng), n, C)
    assert (c["state"], c["transient"]) == ("at chance", True)
    c = collapse_state(steps, _trace(slow, n, rng), n, C)
    assert c["state"] == "falling" and c["slope"] < 0
    c = collapse_state(steps, _trace(kept, n, rng), n, C)
    assert c["state"] == "holds" and c["end"] == pytest.approx(0.7, abs=0.02)


def test_no_transient_is_read_into_noise_at_chance():
    """The maximum of 61 probes at chance exceeds 2 s.e. in most traces; the Bonferroni threshold
    keeps false transients near 2.5 % (bound 6 %: 400 traces, binomial s.e. of the rate 0.8 %)."""
    from validation.grid import acc_se, collapse_state
    rng = np.random.default_rng(11)
    steps = np.arange(0, 15001, 250.0)
    traces = [_trace(np.full(steps.size, 0.1), 1000, rng) for _ in range(400)]
    false = np.mean([collapse_state(steps, t, 1000, 10)["transient"] for t in traces])
    naive = np.mean([t.max() - 0.1 > 2 * acc_se(0.1, 1000) for t in traces])
    assert false < 0.06 and naive > 0.5
