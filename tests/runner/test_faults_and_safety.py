"""Faults detected, one error taxonomy, a safe state that always happens: through the engine
on the in-process simulated lab (virtual clock)."""

import logging

import numpy as np
import pytest
from lab_helpers import walk_in

from pcsdaq.errors import InstrumentError, LimitError
from pcsdaq.procedures.bias_sweep import (
    FLAG_OVERLOAD_LATCHED,
    FLAG_TEMPERATURE_INVALID,
    FLAG_UNLOCKED,
)
from pcsdaq.procedures.waits import INVALID_GRACE_S, NO_RESPONSE_S
from pcsdaq.runner.plan import PlanStep
from pcsdaq.storage import read_run

SWEEP = {"max_current_A": 5e-4, "n_points": 41, "sensitivity_V": 1e-5, "time_constant_s": 0.01}


def messages(events):
    return [e.get("message", "") for e in events if e["type"] == "log"]


# --- faults of the experiment ------------------------------------------------------------
def test_open_heater_ends_a_temperature_series_safe_at_once(engine_on_sim):
    lab, _station, engine, _events = engine_on_sim
    walk_in(lab)
    lab.inject("heater_open")
    t0 = lab.clock.now()
    engine.queue = [PlanStep("temperature_series", dict(SWEEP, setpoints_K=[6.0],
                                                        heater_range=4))]
    assert engine.run_blocking() == "failed"
    assert "experiment fault: heater open" in engine.reason
    assert lab.clock.now() - t0 < 60  # not the 10 h of lab time it used to wait
    run = read_run(engine.files[0])
    assert run.status == "failed" and run.n_rows == 0
    safe = {o["role"]: o for o in run.metadata["safe_state"]}
    assert safe["thermometer"]["ok"] and lab.cryostat.heater_range == 0


def test_a_stage_that_does_not_respond_to_the_heater_is_a_fault(engine_on_sim):
    """A heater that fails without the controller noticing (HTRST? says ok)."""
    lab, station, engine, _events = engine_on_sim
    walk_in(lab)
    lab.cryostat.heater_open = True
    station.thermometer.heater_status = lambda: "ok"
    t0 = lab.clock.now()
    engine.queue = [PlanStep("temperature_series", dict(SWEEP, setpoints_K=[6.0],
                                                        heater_range=4, timeout_s=36000.0))]
    assert engine.run_blocking() == "failed"
    assert "no temperature response to the heater" in engine.reason
    assert NO_RESPONSE_S <= lab.clock.now() - t0 < NO_RESPONSE_S + 60


def test_invalid_thermometer_ends_an_rt_log_instead_of_logging_0_K(engine_on_sim):
    lab, _station, engine, _events = engine_on_sim
    walk_in(lab)
    lab.inject("thermometer_invalid")
    t0 = lab.clock.now()
    engine.queue = [PlanStep("rt_log", {"start_K": 8.0, "end_K": 2.0, "interval_s": 5.0})]
    assert engine.run_blocking() == "failed"
    assert "thermometer reading invalid (t_under)" in engine.reason
    assert lab.clock.now() - t0 < INVALID_GRACE_S + 30
    run = read_run(engine.files[0])
    assert run.status == "failed"
    assert not any(np.any(s.columns["temperature_K"] == 0.0) for s in run.segments)


def test_invalid_thermometer_during_an_rt_log_flags_rows_then_ends_safe(engine_on_sim):
    lab, _station, engine, _events = engine_on_sim
    walk_in(lab)
    engine.queue = [PlanStep("rt_log", {"start_K": 8.0, "end_K": 2.0, "interval_s": 5.0,
                                        "rate_K_per_min": 0.5})]

    def invalid_after_row_10(event):
        if event["type"] == "point" and event["row"]["time_s"] >= 50:
            lab.inject("thermometer_invalid")

    engine.subscribe(invalid_after_row_10)
    assert engine.run_blocking() == "failed"
    cols = read_run(engine.files[0]).segments[0].columns
    bad = (cols["flags"].astype(int) & FLAG_TEMPERATURE_INVALID) > 0
    assert bad.any() and np.all(np.isnan(cols["temperature_K"][bad]))
    assert np.all(np.isfinite(cols["temperature_K"][~bad]))


def test_a_thermometer_blip_during_a_sweep_flags_the_points(engine_on_sim):
    lab, _station, engine, _events = engine_on_sim
    walk_in(lab)
    engine.queue = [PlanStep("bias_sweep", dict(SWEEP, env_interval_s=0.0))]
    seen = []

    def blip(event):
        if event["type"] == "point":
            seen.append(1)
            if len(seen) == 10:
                lab.inject("thermometer_invalid")
            if len(seen) == 15:
                lab.clear_faults()

    engine.subscribe(blip)
    assert engine.run_blocking() == "finished"
    cols = read_run(engine.files[0]).segments[0].columns
    bad = (cols["flags"].astype(int) & FLAG_TEMPERATURE_INVALID) > 0
    assert 3 <= bad.sum() <= 7 and np.all(np.isnan(cols["temperature_K"][bad]))


@pytest.mark.parametrize(("fault", "flag"), [("overload", FLAG_OVERLOAD_LATCHED),
                                             ("unlock", FLAG_UNLOCKED)])
def test_lockin_status_bits_flag_the_points(engine_on_sim, fault, flag):
    lab, _station, engine, _events = engine_on_sim
    walk_in(lab)
    lab.inject(fault)
    engine.queue = [PlanStep("bias_sweep", dict(SWEEP, sensitivity_V=1e-2,
                                                env_interval_s=0.0))]
    assert engine.run_blocking() == "finished"
    flags = read_run(engine.files[0]).segments[0].columns["flags"].astype(int)
    assert np.all(flags & flag), flags


def test_lockin_status_is_read_at_the_environment_interval(engine_on_sim):
    lab, _station, engine, _events = engine_on_sim
    walk_in(lab)
    lab.inject("overload")
    engine.queue = [PlanStep("bias_sweep", dict(SWEEP, sensitivity_V=1e-2,
                                                env_interval_s=1.0))]
    assert engine.run_blocking() == "finished"
    cols = read_run(engine.files[0]).segments[0].columns
    flagged = (cols["flags"].astype(int) & FLAG_OVERLOAD_LATCHED) > 0
    # ~0.1 s per point: one status read a second flags about one point in ten
    assert 2 <= flagged.sum() <= 10


# --- the error taxonomy, one test per class ----------------------------------------------
def count_reconnects(station, monkeypatch):
    calls = []
    original = station.reconnect

    def counting():
        calls.append(1)
        return original()

    monkeypatch.setattr(station, "reconnect", counting)
    return calls


def fail_at_point(station, monkeypatch, exc, at=5):
    original = station.bias.set_current
    n = []

    def set_current(current):
        n.append(1)
        if len(n) == at:
            raise exc
        return original(current)

    monkeypatch.setattr(station.bias, "set_current", set_current)


@pytest.mark.parametrize("exc", [LimitError("bias current 1 A refused"),
                                 InstrumentError("AMI430 error: -101,Undefined header")])
def test_a_refusal_is_never_retried(engine_on_sim, monkeypatch, exc):
    lab, station, engine, events = engine_on_sim
    walk_in(lab)
    reconnects = count_reconnects(station, monkeypatch)
    fail_at_point(station, monkeypatch, exc)
    engine.queue = [PlanStep("bias_sweep", dict(SWEEP))]
    assert engine.run_blocking() == "failed"
    assert engine.reason.startswith(f"refused: {exc}")
    assert reconnects == [] and not any("retry" in m for m in messages(events))


def test_a_programming_error_fails_fast_with_the_traceback_in_the_log(engine_on_sim,
                                                                      monkeypatch, caplog):
    lab, station, engine, _events = engine_on_sim
    walk_in(lab)
    reconnects = count_reconnects(station, monkeypatch)
    fail_at_point(station, monkeypatch, TypeError("unsupported operand"))
    engine.queue = [PlanStep("bias_sweep", dict(SWEEP))]
    with caplog.at_level(logging.ERROR, logger="pcsdaq"):
        assert engine.run_blocking() == "failed"
    assert engine.reason.startswith("programming error: TypeError: unsupported operand")
    assert reconnects == []
    record = next(r for r in caplog.records if "programming error" in r.getMessage())
    assert record.exc_info and record.exc_info[0] is TypeError


def test_a_link_fault_is_retried_and_the_count_is_told_consistently(engine_on_sim):
    """The lock-in's link stays dead: every reconnect fails. The log says retry 1 of 2 and
    2 of 2, the reason 'after 2 retries'; the safe state still reaches every other
    instrument, each on its own."""
    lab, station, engine, events = engine_on_sim
    walk_in(lab)
    station.thermometer.set_heater_range(5)
    station.positioner.mode = "stp"
    station.magnet.ramp_to(1.0)
    engine.queue = [PlanStep("bias_sweep", dict(SWEEP))]

    def kill_lockin(event):
        if event["type"] == "point" and event["row"]["bias_set_A"] > -3e-4:
            lab.inject("drop", "sr830", count=10_000)

    engine.subscribe(kill_lockin)
    assert engine.run_blocking() == "failed"
    logs = messages(events)
    assert any("retry 1 of 2" in m for m in logs) and any("retry 2 of 2" in m for m in logs)
    assert "link fault after 2 retries" in engine.reason
    assert "safe state failed for bias" in engine.reason
    run = read_run(engine.files[0])
    safe = {o["role"]: o for o in run.metadata["safe_state"]}
    assert not safe["bias"]["ok"] and not safe["lockin"]["ok"]
    assert safe["thermometer"]["ok"] and safe["magnet"]["ok"] and safe["positioner"]["ok"]
    assert lab.cryostat.heater_range == 0
    assert lab.emulators["anc300"].axes[3]["mode"] == "gnd"
    field = lab.magnet.field()
    lab.clock.sleep(600)  # held: the ramp to 1 T stopped where it was
    assert lab.magnet.field() == pytest.approx(field, abs=1e-6) and field < 1.0


def test_the_safe_state_uses_a_fresh_connection_when_the_old_one_is_dead(sim_station):
    lab, station = sim_station
    station.thermometer.set_heater_range(5)
    station.thermometer.adapter.dropped = True  # this link is dead for good
    outcomes = {o.role: o for o in station.safe_state()}
    assert outcomes["thermometer"].ok and outcomes["thermometer"].fresh_connection
    assert "dropped" in outcomes["thermometer"].detail
    assert lab.cryostat.heater_range == 0
    assert all(o.ok for o in outcomes.values())
    assert not outcomes["bias"].fresh_connection


def test_a_hung_instrument_costs_its_own_timeout_only(sim_station, monkeypatch):
    import threading

    _lab, station = sim_station
    release = threading.Event()
    monkeypatch.setattr(station.magnet, "hold", lambda: release.wait(30))
    monkeypatch.setattr("pcsdaq.safe_state.open_role",
                        lambda *a, **k: release.wait(30))  # and a fresh link hangs too
    outcomes = {o.role: o for o in station.safe_state(timeout_s=0.2)}
    release.set()
    assert not outcomes["magnet"].ok and "no answer within 0.2 s" in outcomes["magnet"].detail
    assert outcomes["thermometer"].ok and outcomes["positioner"].ok and outcomes["bias"].ok


def test_connect_time_link_faults_are_retried(sim_station):
    from pcsdaq.runner.launch import connect_with_retries
    from pcsdaq.station import Station

    lab, station = sim_station
    lab.inject("drop", "sr830", count=1)  # the first connection attempt loses the lock-in
    notes = []
    opened = connect_with_retries(
        lambda: Station.open(station.config, adapter_factory=lab.adapter_factory(),
                             clock=lab.clock), pause_s=0.0, notify=notes.append)
    try:
        assert notes and "retry 1 of 2" in notes[0]
        assert opened.lockin.sensitivity > 0
    finally:
        opened.close()
