"""BCS gap table, Delta(0) and the field model."""

import numpy as np
import pytest

from pcsdaq.physics import bcs


def test_end_points_and_monotonic():
    t = np.linspace(0, 1.2, 121)
    r = bcs.gap_ratio(t)
    assert r[0] == pytest.approx(1.0) and r[-1] == 0.0 and bcs.gap_ratio(1.0) == 0.0
    assert np.all(np.diff(r) <= 1e-12)


@pytest.mark.parametrize("t", [0.33, 0.61, 0.87, 0.975])
def test_interpolation_matches_the_gap_equation(t):
    assert bcs.gap_ratio(t) == pytest.approx(bcs._gap_at(t), abs=2e-4)


def test_known_values_and_the_tanh_approximation_is_worse():
    # weak-coupling BCS: Delta(T)/Delta(0) = 0.9569 at t = 0.5 and ~1.74 sqrt(1 - t) near Tc
    assert bcs.gap_ratio(0.5) == pytest.approx(0.9569, abs=3e-4)
    assert bcs.gap_ratio(0.99) == pytest.approx(1.74 * np.sqrt(0.01), rel=0.02)
    t = np.linspace(0.05, 0.95, 50)
    tanh = np.tanh(1.74 * np.sqrt(1 / t - 1))
    assert np.max(np.abs(tanh - bcs.gap_ratio(t))) > 0.01


def test_delta0_and_gap_in_field():
    assert bcs.delta0_meV(20.0) == pytest.approx(1.764 * 0.08617333 * 20.0)
    assert bcs.gap_meV(0.0, 10.0) == pytest.approx(bcs.delta0_meV(10.0))
    assert bcs.tc_in_field(10.0, 4.0, 8.0) == pytest.approx(10.0 * np.sqrt(0.5))
    assert bcs.gap_meV(2.0, 10.0, field_T=9.0, hc2_T=8.0) == 0.0
    assert bcs.gap_meV(2.0, 10.0, field_T=3.0, hc2_T=8.0) < bcs.gap_meV(2.0, 10.0)
    assert bcs.gap_meV(2.0, 10.0, field_T=3.0) == bcs.gap_meV(2.0, 10.0)  # no Hc2: no effect
