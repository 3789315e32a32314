"""Adaptive bias sampling: the sampler alone, on spectra of the one BTK model."""

import math

import numpy as np
import pytest

from pcsdaq.physics import btk
from pcsdaq.procedures.adaptive_sampling import AdaptiveBiasSampler, StopRule, jump_wait_s


def _draw(v_mV, seed=0, noise=0.003, params=(1.5, 0.5, 0.1, 1.5)):
    g = btk.conductance(np.asarray(v_mV), *params)
    return g * (1 + noise * np.random.default_rng(seed).standard_normal(g.shape))


def test_jump_wait_grows_with_the_jump_and_never_falls_below_the_base():
    settle = lambda acc: -math.log(acc) * 0.03  # noqa: E731  (one pole, tau 30 ms)
    base = jump_wait_s(settle, 1.0, 1.0)
    assert base == pytest.approx(-math.log(1e-2) * 0.03)
    assert jump_wait_s(settle, 0.2, 1.0) == pytest.approx(base)
    assert jump_wait_s(settle, 10.0, 1.0) == pytest.approx(base + math.log(10) * 0.03)
    assert jump_wait_s(settle, -40.0, 1.0) > jump_wait_s(settle, 10.0, 1.0)


def test_stop_rules_are_checked():
    with pytest.raises(ValueError, match="at least one stop rule"):
        StopRule(None, None, None)
    with pytest.raises(ValueError, match="max_points"):
        StopRule(0.01, 7)
    with pytest.raises(ValueError, match="delta_rel_err"):
        StopRule(float("nan"))


def test_points_go_to_the_gap_and_the_gap_converges():
    true = (1.5, 0.5, 0.1, 1.5)
    s = AdaptiveBiasSampler(15.0, 1.5, StopRule(0.002, 300), n_coarse=15, batch=8)
    x = s.first_points()
    assert len(x) == 15 and x[0] == -15.0 and x[-1] == 15.0
    k = 0
    while x.size:
        s.tell(x, x, _draw(x, seed=k, params=true))
        x = s.next_points()
        if x.size:  # each batch in sweep order
            assert np.all(np.diff(x) >= 0) or np.all(np.diff(x) <= 0)
        k += 1
    later = np.asarray(s.xs[15:])
    # most of the later points near the gap edges (|V| within 3 Delta), not in the tails
    assert np.mean(np.abs(later) <= 3 * true[0]) > 0.7
    assert s.fit.delta_meV == pytest.approx(true[0], rel=0.01)
    assert s.done and s.reason


def test_point_budget_stops_the_sampler():
    s = AdaptiveBiasSampler(10.0, 1.5, StopRule(None, 40), n_coarse=15, batch=10)
    x = s.first_points()
    while x.size:
        s.tell(x, x, _draw(x))
        x = s.next_points()
    assert len(s.xs) == 40 and "point budget" in s.reason
