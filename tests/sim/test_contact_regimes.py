"""The simulated contact's regime is a setting; each regime gives its characteristic
spectrum and R(T) (PHYSICS.md: ballistic clean Andreev, intermediate Andreev plus
critical-current dips, thermal dominated by the dips and the zero-bias enhancement)."""

import dataclasses

import numpy as np
import pytest

from pcsdaq.clock import VirtualClock
from pcsdaq.sim.contact import MAXWELL_FRACTION
from pcsdaq.sim.lab import SimLab


def set_temperature(lab, kelvin):
    """The stage at ``kelvin``, a moment later (the contact's response is cached per
    instant)."""
    lab.cryostat.set_temperature(kelvin)
    lab.clock.sleep(1e-3)


def contact_at(regime, temperature_K=2.0, seed=7, z=0.3):
    """A contact of ``regime`` with barrier ``z`` at ``temperature_K``."""
    lab = SimLab({"seed": seed, "contact_regime": regime}, clock=VirtualClock())
    lab.contact.place(40.0, 20.0)
    lab.contact.params = dataclasses.replace(lab.contact.params, z=z)
    set_temperature(lab, temperature_K)
    return lab, lab.contact


def spectrum(contact, i_max):
    i = np.linspace(-i_max, i_max, 2001)
    return i, np.array([contact.dvdi_ohm(x) for x in i])


@pytest.mark.parametrize("regime", ["ballistic", "intermediate", "thermal"])
def test_the_regime_is_what_the_setting_says_and_the_truth_tells_it(regime):
    _lab, c = contact_at(regime)
    truth = c.truth()
    assert c.regime() == truth["regime"] == regime
    assert truth["maxwell_fraction"] == MAXWELL_FRACTION[regime]
    assert truth["critical_current0_A"] == pytest.approx(
        np.pi * truth["delta0_meV"] * 1e-3 / (2 * truth["r_normal_ohm"]))
    assert c.critical_current_A(2.0) > c.critical_current_A(10.0) > 0.0
    assert c.critical_current_A(2.0, field_T=3.0) < c.critical_current_A(2.0)
    assert c.critical_current_A(truth["tc_K"] + 0.1) == 0.0


def test_unknown_regime_is_refused_naming_the_allowed_ones():
    with pytest.raises(ValueError, match="allowed: auto, ballistic, intermediate, thermal"):
        SimLab({"contact_regime": "diffusive"}, clock=VirtualClock())


def test_auto_regime_follows_the_contact_diameter():
    _lab, c = contact_at("auto")
    assert c.regime() == "ballistic"  # 20-40 Ohm: d < 20 nm (paper convention)


def test_ballistic_spectrum_is_clean_andreev():
    _lab, c = contact_at("ballistic")
    r_n = c.normal_resistance_ohm()
    i, dvdi = spectrum(c, 5 * c.params.delta0_meV * 1e-3 / r_n * 2)
    high = dvdi[-1]  # the normal state at five-plus gaps
    assert dvdi.max() < 1.05 * high  # no critical-current peak in dV/dI
    assert dvdi.min() < 0.75 * high  # Andreev reflection raises the conductance in the gap


@pytest.mark.parametrize("regime", ["intermediate", "thermal"])
def test_dips_sit_at_the_critical_current(regime):
    _lab, c = contact_at(regime)
    r_n, ic = c.normal_resistance_ohm(), c.critical_current_A(2.0)
    i, dvdi = spectrum(c, 3 * ic)
    pos = i > 0
    peak = i[pos][np.argmax(dvdi[pos])]
    assert peak == pytest.approx(ic, rel=0.1)
    assert dvdi[pos].max() > 2 * r_n  # a dip in dI/dV, far deeper than any BTK feature
    g0 = r_n / c.dvdi_ohm(0.0)
    if regime == "thermal":
        assert g0 > 2.0  # zero-bias enhancement impossible in BTK: the dips dominate
    else:
        assert g0 > 1.1  # Andreev reflection and the Maxwell part gone below I_c


def zero_bias_r(regime, temperature_K):
    lab, c = contact_at(regime)
    set_temperature(lab, temperature_K)
    return c.dvdi_ohm(0.0)


@pytest.mark.parametrize("regime", ["intermediate", "thermal"])
def test_r_of_t_loses_the_maxwell_part_steeply_below_tc(regime):
    _lab, c = contact_at(regime)
    tc, r_n = c.params.tc_K, c.normal_resistance_ohm()
    f = MAXWELL_FRACTION[regime]
    assert zero_bias_r(regime, tc + 0.05) == pytest.approx(r_n, rel=0.01)
    # 1.5 K below Tc the Maxwell part is gone; the rest is what a ballistic contact shows
    deep = zero_bias_r(regime, tc - 1.5) / zero_bias_r("ballistic", tc - 1.5)
    assert deep == pytest.approx(1.0 - f, abs=0.03)
    # ... and it goes steeply: most of it within the first half kelvin, none above Tc
    steep = 1.0 - zero_bias_r(regime, tc - 0.5) / r_n
    assert steep > 0.5 * f
    assert zero_bias_r(regime, tc - 0.1) > zero_bias_r(regime, tc - 0.3)  # resolvable


@pytest.mark.parametrize("regime", ["ballistic", "intermediate", "thermal"])
@pytest.mark.parametrize("temperature_K", [1.0, 10.0, 17.0, 25.0])
def test_zero_bias_reading_without_the_table_equals_the_table(regime, temperature_K):
    """R(T) logs and the approach read dV/dI at zero current from one conductance value:
    the same number the whole current-biased table gives."""
    lab, c = contact_at(regime, temperature_K)
    fast = c.dvdi_ohm(0.0)
    table = c._iv(1e-9).response(0.0)[1] + c.lead_resistance_ohm
    assert fast == pytest.approx(table, rel=1e-4)
    assert c.dc_voltage_V(0.0) == 0.0
