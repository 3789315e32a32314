"""End-to-end: the simulated chain read through the real drivers gives back the contact.

The station's drivers talk to the in-process simulated lab (``sim_station``); the needle is
walked in until the contact is ballistic (R above ~20 Ohm, Wexler paper preset), then a
slow bias sweep is fitted with BTK and a cooldown R(T) gives Tc by the two-line method.
"""

import numpy as np
import pytest

from pcsdaq.analysis.btk_fit import fit_btk
from pcsdaq.analysis.spectra import normalise
from pcsdaq.analysis.tc import tc_from_rt

pytestmark = pytest.mark.slow


def _zero_bias_resistance(station):
    station.clock.sleep(station.lockin.settle_time(accuracy=1e-4))
    return station.lockin.read_xy()[0] / station.lockin.ac_current()


def _approach(station, low_ohm=20.0, high_ohm=40.0):
    """Step the needle in until R(0) is inside [low, high] Ohm; returns R."""
    lockin = station.lockin
    lockin.sine_voltage = 1.0
    lockin.time_constant = 0.03
    lockin.filter_slope = 24
    lockin.sensitivity = 1.0
    station.positioner.set_voltage(30.0)
    for _ in range(2000):
        r = _zero_bias_resistance(station)
        if low_ohm <= r <= high_ohm:
            return r
        station.positioner.step(1 if r > high_ohm else -1)
    raise AssertionError("the needle never reached the target window")


def _hold(station, kelvin):
    station.thermometer.set_heater_range(4)
    station.thermometer.set_setpoint(kelvin)
    station.clock.sleep(600.0)


def test_slow_bias_sweep_through_the_chain_fits_back_the_gap(sim_station):
    lab, station = sim_station
    r0 = _approach(station)
    assert lab.contact.regime() == "ballistic"
    _hold(station, 2.0)
    lockin = station.lockin
    lockin.sensitivity = 1e-4
    i_max = 6.0 * lab.contact.params.delta0_meV * 1e-3 / r0
    volts, didv = [], []
    for current in np.linspace(-i_max, i_max, 301):
        station.bias.set_current(float(current))
        station.clock.sleep(lockin.settle_time(accuracy=1e-4))
        x, _ = lockin.read_xy()
        volts.append(station.dmm.read_voltage())
        didv.append(lockin.ac_current() / x)
    station.bias.zero()
    t = station.thermometer.read_temperature()
    fit = fit_btk(np.array(volts), normalise(np.array(volts), np.array(didv)), t)
    assert fit.delta_meV == pytest.approx(lab.contact.gap_now_meV(), rel=0.03)
    assert fit.Z == pytest.approx(lab.contact.params.z, abs=0.1)


def test_hurried_sweep_is_smeared(sim_station):
    """Reading before the output filter settles averages neighbouring points: the
    spectrum's features are lower than in a settled sweep."""
    lab, station = sim_station
    r0 = _approach(station)
    _hold(station, 1.0)
    lockin = station.lockin
    lockin.sensitivity = 1e-4
    lockin.time_constant = 0.3
    currents = np.linspace(0, 3.0 * lab.contact.params.delta0_meV * 1e-3 / r0, 60)

    def sweep(wait_s):
        out = []
        for current in currents:
            station.bias.set_current(float(current))
            station.clock.sleep(wait_s)
            out.append(lockin.read_xy()[0])
        return np.array(out)

    settled = sweep(lockin.settle_time(accuracy=1e-4))
    hurried = sweep(0.05 * lockin.time_constant)
    assert np.max(np.abs(hurried - settled)) > 0.05 * np.ptp(settled)


def test_cooldown_r_of_t_gives_the_contact_tc(sim_station):
    lab, station = sim_station
    _approach(station)
    tc = lab.contact.tc_now_K()
    therm = station.thermometer
    therm.set_heater_range(5)
    therm.set_setpoint(tc + 5.0)
    station.clock.sleep(600.0)
    therm.set_ramp(0.5)
    therm.set_setpoint(max(tc - 5.0, 0.5))
    temps, res = [], []
    while therm.read_temperature() > max(tc - 4.0, 0.6) and len(temps) < 5000:
        station.clock.sleep(5.0)
        temps.append(therm.read_temperature())
        res.append(_zero_bias_resistance(station))
    result = tc_from_rt(np.array(temps), np.array(res))
    assert result.tc_K == pytest.approx(tc, abs=0.5)
