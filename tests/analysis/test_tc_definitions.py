"""Tc from R(T): the transition is found before lines are fitted; every definition around it;
BCS / Delta(H) fits that come out unphysical are failures with a reason."""

import numpy as np
import pytest

from pcsdaq.analysis.bcs_fit import fit_gap_vs_field, fit_gap_vs_temperature
from pcsdaq.analysis.tc import hc2_from_tc, tc_from_rt
from pcsdaq.physics import bcs, rt


def drop_then_rise(t, tc=17.3):
    """An intermediate contact's zero-bias R: drops at Tc, rises again below ~15 K."""
    r = rt.contact_resistance_vs_T(t, r_normal_ohm=10.0, tc_K=tc, width_K=0.8,
                                   drop_fraction=0.25, slope_ohm_per_K=0.02)
    return r + np.where(t < 15.0, 0.9 * (15.0 - t), 0.0)


def test_drop_followed_by_a_rise_gives_the_drop():
    t = np.linspace(25.0, 0.5, 400)
    r = drop_then_rise(t) * (1 + 5e-4 * np.random.default_rng(1).standard_normal(t.shape))
    res = tc_from_rt(t, r)
    assert res.direction == "drop" and res.two_features and res.second_feature_K < 15.5
    assert res.tc_two_slope_K == pytest.approx(17.3, abs=0.7)
    assert 16.0 < res.tc_10_K < res.tc_midpoint_K < res.tc_90_K <= res.onset_K + 0.3
    assert res.transition_range_K[1] == pytest.approx(res.onset_K)


def test_rise_of_a_high_barrier_contact():
    t = np.linspace(2.0, 30.0, 300)
    r = 20.0 - rt.contact_resistance_vs_T(t, r_normal_ohm=10.0, tc_K=12.0, width_K=1.0,
                                          drop_fraction=0.3)
    res = tc_from_rt(t, r)
    assert res.direction == "rise" and res.tc_K == pytest.approx(12.0, abs=0.15)
    assert not res.two_features


def test_definitions_on_a_known_curve():
    t = np.linspace(2.0, 30.0, 600)
    r = rt.contact_resistance_vs_T(t, r_normal_ohm=10.0, tc_K=15.0, width_K=2.0,
                                   drop_fraction=0.3)
    res = tc_from_rt(t, r)
    # S(T) = tanh((Tc - T)/w): 10 %, 50 %, 90 % of the drop at w * atanh(0.1 / 0.5 / 0.9)
    assert res.tc_90_K == pytest.approx(15.0 - 2.0 * np.arctanh(0.1), abs=0.05)
    assert res.tc_midpoint_K == pytest.approx(15.0 - 2.0 * np.arctanh(0.5), abs=0.05)
    assert res.tc_10_K == pytest.approx(15.0 - 2.0 * np.arctanh(0.9), abs=0.1)
    assert res.tc_two_slope_K == pytest.approx(15.0, abs=0.1)


def test_hc2_from_several_fields():
    fields = np.array([0.0, 1.0, 2.0, 3.0])
    tcs = 16.0 * np.sqrt(1 - fields / 8.0)
    out = hc2_from_tc(fields, tcs)
    assert out["tc0_K"] == pytest.approx(16.0, rel=0.05) and 6.0 < out["hc2_0_T"] < 10.0
    assert "failed" in hc2_from_tc([0.0, 1.0], [16.0, 15.0])


def test_unphysical_bcs_fit_is_a_failure():
    # the intermediate-contact series: gaps from fits taken at face value
    t = np.array([0.5, 2, 4, 6, 8, 10, 12, 14, 16, 18, 19, 20.0])
    d = np.array([2.12, 2.10, 2.02, 1.71, 1.51, 2.73, 2.29, 1.44, 0.19, 2.4, 63.1, 0.32])
    out = fit_gap_vs_temperature(t, d)
    assert out["tc_K"] is None and out["failed"] and "rejected" in out
    good = fit_gap_vs_temperature(t[:8], bcs.gap_meV(t[:8], 18.0), np.full(8, 0.01))
    assert "failed" not in good and good["tc_K"] == pytest.approx(18.0, rel=1e-3)


def test_unphysical_field_fit_is_a_failure():
    out = fit_gap_vs_field([0.0, 0.5, 1.0, 1.5], [2.0, 2.5, 1.0, 3.0])
    assert out.get("failed") or out["hc2_T"] is not None
    bad = fit_gap_vs_field([0.0, 0.1, 0.2], [22.7, 22.7, 22.6])
    assert bad["failed"] and bad["hc2_T"] is None
