"""Steps hold what they state on the in-process simulated lab: a temperature series at its
field, a field series at its temperature, R(T) at its fields whatever the step before left;
a sweep asked for a bias in mV converts it with the contact's resistance, or refuses before
any current is sent."""

import numpy as np
import pytest
from lab_helpers import walk_in

from pcsdaq.runner.plan import PlanStep
from pcsdaq.sim.magnet import HOLDING
from pcsdaq.storage import read_run


def aux_voltage(lab):
    return lab.emulators["sr830"].aux_out[0]


SWEEP = {"n_points": 31, "sensitivity_V": 1e-5, "time_constant_s": 0.01}


def leave_field(lab, field_T):
    """The magnet as a step before left it: holding at ``field_T``."""
    lab.magnet._B = lab.magnet.target = field_T
    lab.magnet.state = HOLDING


def test_temperature_series_goes_to_its_stated_field_first(engine_on_sim):
    lab, _station, engine, _events = engine_on_sim
    walk_in(lab)
    leave_field(lab, 1.0)
    engine.queue = [PlanStep("temperature_series", dict(
        SWEEP, max_current_A=5e-4, setpoints_K=[4.0, 6.0], field_T=0.0, window_s=10.0))]
    assert engine.run_blocking() == "finished"
    segs = read_run(engine.files[0]).segments
    assert [s.attrs["stated_field_T"] for s in segs] == [0.0, 0.0]
    assert all(np.all(np.abs(s.columns["field_T"]) < 1e-3) for s in segs)
    assert [s.attrs["stated_temperature_K"] for s in segs] == [4.0, 6.0]


def test_temperature_series_that_keeps_the_field_measures_where_it_is(engine_on_sim):
    lab, _station, engine, _events = engine_on_sim
    walk_in(lab)
    leave_field(lab, 1.0)
    engine.queue = [PlanStep("temperature_series", dict(
        SWEEP, max_current_A=5e-4, setpoints_K=[4.0], keep_field=True, window_s=10.0))]
    assert engine.run_blocking() == "finished"
    seg = read_run(engine.files[0]).segments[0]
    assert np.isnan(seg.attrs["stated_field_T"])
    assert seg.attrs["field_T"] == pytest.approx(1.0, abs=1e-3)  # recorded as it started


def test_field_series_stabilises_its_stated_temperature(engine_on_sim):
    lab, _station, engine, _events = engine_on_sim
    walk_in(lab)
    lab.cryostat.set_temperature(12.0)  # as a temperature series would leave it
    engine.queue = [PlanStep("field_series", dict(
        SWEEP, max_current_A=5e-4, fields_T=[0.5, 1.0], temperature_K=3.0, window_s=20.0,
        tolerance_K=0.02, heater_range=4))]
    assert engine.run_blocking() == "finished"
    segs = read_run(engine.files[0]).segments
    assert [s.attrs["stated_temperature_K"] for s in segs] == [3.0, 3.0]
    for s in segs:
        assert np.all(np.abs(s.columns["temperature_K"] - 3.0) <= 0.05), s.name


def test_rt_log_ramps_to_zero_field_when_the_step_before_left_another(engine_on_sim):
    lab, _station, engine, _events = engine_on_sim
    walk_in(lab)
    leave_field(lab, 1.0)
    engine.queue = [PlanStep("rt_log", {"start_K": 8.0, "end_K": 4.0, "rate_K_per_min": 5.0,
                                        "interval_s": 5.0, "fields_T": [0.0],
                                        "sensitivity_V": 1e-5})]
    assert engine.run_blocking() == "finished"
    seg = read_run(engine.files[0]).segments[0]
    assert seg.attrs["stated_field_T"] == 0.0
    assert np.all(np.abs(seg.columns["field_T"]) < 1e-3)


def test_sweep_in_mV_reaches_the_asked_bias_below_tc(engine_on_sim):
    """Below Tc Andreev reflection lowers the zero-bias resistance: the DC probes correct
    the range so the spectrum still ends at the asked bias."""
    lab, _station, engine, _events = engine_on_sim
    walk_in(lab)
    lab.cryostat.set_temperature(2.0)
    engine.queue = [PlanStep("bias_sweep", dict(SWEEP, max_bias_mV=12.0))]
    assert engine.run_blocking() == "finished"
    seg = read_run(engine.files[0]).segments[0]
    r0 = seg.attrs["contact_resistance_at_start_ohm"]
    assert abs(seg.attrs["max_current_A"] * r0 * 1e3 - 12.0) > 0.5  # the first guess was off
    assert np.abs(seg.columns["V_dc_V"]).max() * 1e3 == pytest.approx(12.0, rel=0.03)
    assert seg.attrs["bias_probe_mV"] == pytest.approx(12.0, rel=0.03)


def test_sweep_in_mV_converts_with_the_resistance_at_its_start(engine_on_sim):
    lab, _station, engine, events = engine_on_sim
    walk_in(lab)
    lab.cryostat.set_temperature(25.0)  # normal state: zero-bias R is R_N
    engine.queue = [PlanStep("bias_sweep", dict(SWEEP, max_bias_mV=10.0, dense_bias_mV=4.0,
                                                dense_factor=3))]
    assert engine.run_blocking() == "finished"
    seg = read_run(engine.files[0]).segments[0]
    r = seg.attrs["contact_resistance_at_start_ohm"]
    assert r == pytest.approx(lab.contact.normal_resistance_ohm(), rel=0.02)
    assert seg.attrs["max_current_A"] == pytest.approx(10e-3 / r)
    v = seg.columns["V_dc_V"] * 1e3
    assert np.abs(v).max() == pytest.approx(10.0, rel=0.03)
    steps = np.diff(np.sort(v))
    assert steps[np.abs(np.sort(v)[:-1]) < 3.0].mean() < steps[np.abs(np.sort(v)[:-1]) > 5.0
                                                               ].mean() / 2  # dense near 0
    assert any("+-10 mV is" in e.get("message", "") for e in events)
    assert aux_voltage(lab) == 0.0


def test_sweep_in_mV_beyond_the_bias_limit_is_refused_before_any_current(engine_on_sim):
    lab, _station, engine, _events = engine_on_sim
    walk_in(lab)
    sr830 = lab.emulators["sr830"]
    sent = []
    handle = sr830.handle

    def spy(msg):
        if msg.upper().startswith("AUXV") and "," in msg:
            sent.append(msg)
        return handle(msg)

    sr830.handle = spy
    engine.queue = [PlanStep("bias_sweep", dict(SWEEP, max_bias_mV=900.0))]  # ~30 mA
    assert engine.run_blocking() == "failed"
    assert "bias limit" in engine.reason and "nothing sent" in engine.reason
    assert read_run(engine.files[0]).n_rows == 0
    assert all(float(m.split(",")[1]) == 0.0 for m in sent), sent
