"""The engine on the in-process simulated lab: runs, events, pause/abort, safe state,
quench, transport faults with recovery, resume."""

import threading

import numpy as np
import pytest
from lab_helpers import walk_in

from pcsdaq.runner.plan import PlanStep
from pcsdaq.storage import read_run

SWEEP = {"max_current_A": 5e-4, "n_points": 41, "sensitivity_V": 1e-5, "time_constant_s": 0.01}


def aux_voltage(lab):
    return lab.emulators["sr830"].aux_out[0]


def test_a_sweep_runs_to_a_finished_file_with_events(engine_on_sim):
    lab, _station, engine, events = engine_on_sim
    walk_in(lab)
    engine.queue = [PlanStep("bias_sweep", dict(SWEEP))]
    assert engine.run_blocking() == "finished"
    run = read_run(engine.files[0])
    assert run.status == "finished" and run.n_rows == 41
    seg = run.segments[0]
    assert np.all(np.isfinite(seg.columns["dIdV_S"]))
    assert seg.units["dIdV_S"] == "S" and run.attrs["procedure"] == "bias_sweep"
    kinds = [e["type"] for e in events]
    assert kinds.count("point") == 41 and "run_started" in kinds and "segment" in kinds
    assert events[-1] == {"type": "status", "state": "finished", "reason": None}
    progress = [e for e in events if e["type"] == "progress"]
    assert progress[-1]["fraction"] == pytest.approx(1.0)
    assert aux_voltage(lab) == 0.0  # bias back to zero


@pytest.mark.parametrize(("interval_s", "expected"), [(0.0, 41), (1e9, 2)])
def test_progress_events_are_rate_limited_but_the_end_is_always_reported(
        engine_on_sim, monkeypatch, interval_s, expected):
    from pcsdaq.runner.context import EngineContext

    lab, _station, engine, events = engine_on_sim
    walk_in(lab)
    monkeypatch.setattr(EngineContext, "PROGRESS_INTERVAL_S", interval_s)
    engine.queue = [PlanStep("bias_sweep", dict(SWEEP))]
    assert engine.run_blocking() == "finished"
    fractions = [e["fraction"] for e in events if e["type"] == "progress"]
    # one call per point: every one passes with no interval; with a long one the first
    # and the end only
    assert len(fractions) == expected
    assert fractions[0] == pytest.approx(1 / 41) and fractions[-1] == pytest.approx(1.0)


def test_abort_mid_sweep_leaves_the_station_safe(engine_on_sim):
    lab, station, engine, _events = engine_on_sim
    walk_in(lab)
    station.thermometer.set_heater_range(3)
    engine.queue = [PlanStep("bias_sweep", dict(SWEEP, n_points=401))]

    def abort_after_points(event):
        if event["type"] == "point" and event["row"]["bias_set_A"] > -2e-4:
            engine.abort("operator pressed abort")

    engine.subscribe(abort_after_points)
    assert engine.run_blocking() == "aborted"
    run = read_run(engine.files[0])
    assert run.status == "aborted" and "operator pressed abort" in run.attrs["abort_reason"]
    assert 0 < run.n_rows < 401
    assert aux_voltage(lab) == 0.0
    assert lab.cryostat.heater_range == 0  # the station file's safe heater range


def test_pause_holds_between_points_and_resume_continues(engine_on_sim):
    lab, _station, engine, events = engine_on_sim
    walk_in(lab)
    engine.queue = [PlanStep("bias_sweep", dict(SWEEP, n_points=200))]
    paused = threading.Event()

    def pause_once(event):
        if event["type"] == "point" and not paused.is_set():
            paused.set()
            engine.pause()

    engine.subscribe(pause_once)
    engine.start()
    assert paused.wait(10)
    n = sum(e["type"] == "point" for e in events)
    assert not engine.wait(0.3)  # still paused
    assert sum(e["type"] == "point" for e in events) == n
    assert engine.state == "paused"
    engine.resume()
    assert engine.wait(30)
    assert engine.state == "finished"
    assert sum(e["type"] == "point" for e in events) == 200


def test_quench_during_a_field_series_is_a_hard_stop(engine_on_sim):
    lab, _station, engine, _events = engine_on_sim
    walk_in(lab)
    engine.queue = [PlanStep("field_series", dict(SWEEP, fields_T=[1.0, 2.0]))]

    def quench_on_first_point(event):
        if event["type"] == "point" and event["row"]["field_T"] > 0.9:
            lab.inject("quench")

    engine.subscribe(quench_on_first_point)
    assert engine.run_blocking() == "failed"
    assert "quench" in engine.reason
    run = read_run(engine.files[0])
    assert run.status == "failed" and run.n_rows == 41  # the first spectrum is kept
    assert aux_voltage(lab) == 0.0


@pytest.mark.parametrize("fault", ["no_reply", "drop", "garble"])
def test_transport_fault_is_retried_after_reconnect(engine_on_sim, fault):
    lab, _station, engine, events = engine_on_sim
    walk_in(lab)
    engine.queue = [PlanStep("bias_sweep", dict(SWEEP))]
    injected = []

    def fault_at_point_10(event):
        if event["type"] == "point" and not injected and \
                sum(e["type"] == "point" for e in events) == 10:
            injected.append(True)
            lab.inject(fault, "sr830")

    engine.subscribe(fault_at_point_10)
    assert engine.run_blocking() == "finished"
    assert any("reconnecting (retry 1" in e.get("message", "") for e in events)
    run = read_run(engine.files[0])
    # nothing lost: the interrupted sweep's points stay, the retry is its own segment
    assert [s.name for s in run.segments] == ["sweep", "sweep_2"]
    assert run.segments[0].n_rows >= 10 and run.segments[1].n_rows == 41


def test_persistent_fault_ends_in_a_safe_failed_run(engine_on_sim):
    lab, _station, engine, _events = engine_on_sim
    walk_in(lab)
    engine.queue = [PlanStep("bias_sweep", dict(SWEEP))]
    lab.inject("no_reply", "keithley2000", count=1000)
    assert engine.run_blocking() == "failed"
    assert "link fault after 2 retries" in engine.reason
    assert read_run(engine.files[0]).status == "failed"
    assert aux_voltage(lab) == 0.0


def test_overload_is_remeasured_at_a_coarser_sensitivity(engine_on_sim):
    lab, station, engine, _events = engine_on_sim
    walk_in(lab)
    engine.queue = [PlanStep("bias_sweep", dict(SWEEP, sensitivity_V=1e-6))]
    assert engine.run_blocking() == "finished"
    flags = read_run(engine.files[0]).segments[0].columns["flags"]
    assert flags[0] == 1  # the first point overloaded at 1 uV and was measured again
    assert station.lockin.sensitivity > 1e-6


def test_temperature_series_resumes_at_the_next_setpoint(engine_on_sim):
    lab, _station, engine, events = engine_on_sim
    walk_in(lab)
    params = dict(SWEEP, setpoints_K=[4.0, 6.0, 8.0], window_s=10.0, heater_range=4)
    engine.queue = [PlanStep("temperature_series", params)]
    stop = []

    def crash_after_first_spectrum(event):
        if event["type"] == "segment" and event["attrs"]["index"] == 1 and not stop:
            stop.append(True)
            engine.abort("simulated crash")

    engine.subscribe(crash_after_first_spectrum)
    assert engine.run_blocking() == "aborted"
    first = read_run(engine.files[0])
    assert [s.attrs["setpoint_K"] for s in first.segments][:1] == [4.0]
    engine.run_blocking(resume=True)
    assert engine.state == "finished"
    second = read_run(engine.files[-1])
    assert [s.attrs["setpoint_K"] for s in second.segments] == [6.0, 8.0]
    assert all(s.attrs["lockin"]["time_constant_s"] == SWEEP["time_constant_s"]
               for s in second.segments)
    assert any("(4 K) done in an earlier run" in e.get("message", "") for e in events)


def test_steady_state_sweep_costs_three_transactions_per_point(sim_station, tmp_path):
    from pcsdaq.runner.engine import RunEngine

    lab, station = sim_station
    walk_in(lab)
    counts = {"sr830": 0, "keithley2000": 0}
    for name in counts:
        emu = lab.emulators[name]
        original = emu.handle

        def counting(msg, _orig=original, _name=name):
            counts[_name] += 1
            return _orig(msg)

        emu.handle = counting
    engine = RunEngine(station, tmp_path / "d")
    for n in (50, 150):
        for k in counts:
            counts[k] = 0
        engine.queue = [PlanStep("bias_sweep", dict(SWEEP, n_points=n, env_interval_s=3600.0))]
        assert engine.run_blocking() == "finished"
        total = sum(counts.values())
        if n == 50:
            first = total
    # the extra 100 points cost exactly 3 transactions each (set bias, SNAP?, :READ?)
    assert total - first == 3 * 100


@pytest.mark.parametrize(("nplc", "dc_settle_s", "point_s"), [
    (1.0, 2e-3, 0.030),  # 2 + 20 ms of DMM inside the lock-in's 30 ms settle
    (5.0, 2e-3, 0.102),  # 2 + 100 ms of DMM: the DMM sets the pace
])
def test_the_dmm_reads_while_the_lockin_settles(engine_on_sim, nplc, dc_settle_s, point_s):
    """V_dc is read dc_settle_s after the bias step, X/Y once the lock-in has settled: a
    point takes max(lock-in settle, DC settle + DMM integration), not their sum."""
    lab, station, engine, _events = engine_on_sim
    walk_in(lab)
    station.dmm.nplc = nplc
    log = []
    for name in ("sr830", "keithley2000"):
        emu = lab.emulators[name]

        def logged(msg, _orig=emu.handle):
            log.append((lab.clock.now(), msg.strip()))
            return _orig(msg)

        emu.handle = logged
    sweep = dict(SWEEP, n_points=21, time_constant_s=3e-3, filter_slope_db=24,
                 dc_settle_s=dc_settle_s, env_interval_s=3600.0)
    engine.queue = [PlanStep("bias_sweep", sweep)]
    assert engine.run_blocking() == "finished"
    times = read_run(engine.files[0]).segments[0].columns["time_s"]
    np.testing.assert_allclose(np.diff(times)[1:], point_s, rtol=1e-9)
    steps = [t for t, m in log if m.startswith("AUXV") and "?" not in m][2:-1]
    for t_set in steps:  # each steady-state point: bias, then :READ?, then SNAP?
        # (the previous point's SNAP? shares the bias step's instant: no time passes)
        reads = [(t, m) for t, m in log if t_set < t <= t_set + point_s + 1e-9
                 and m in (":READ?", "SNAP? 1,2")]
        assert [m for _, m in reads] == [":READ?", "SNAP? 1,2"]
        assert reads[0][0] == pytest.approx(t_set + dc_settle_s)
        assert reads[1][0] == pytest.approx(max(t_set + 0.030, t_set + dc_settle_s + nplc / 50))


def test_each_spectrum_records_the_lockin_settings_it_was_measured_with(engine_on_sim):
    lab, station, engine, _events = engine_on_sim
    walk_in(lab)
    before = station.lockin.time_constant
    engine.queue = [PlanStep("bias_sweep", dict(SWEEP, time_constant_s=3e-3,
                                                 filter_slope_db=18))]
    assert engine.run_blocking() == "finished"
    run = read_run(engine.files[0])
    seg = run.segments[0].attrs["lockin"]
    assert (seg["time_constant_s"], seg["filter_slope_dB"]) == (3e-3, 18)
    assert seg["sensitivity_V"] == SWEEP["sensitivity_V"]
    # the station snapshot of the run is taken before the sweep configures the lock-in
    assert run.attrs["snapshot"]["lockin"]["time_constant_s"] == before != 3e-3
