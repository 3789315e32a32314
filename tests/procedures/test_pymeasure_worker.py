"""pcsdaq procedures run by pymeasure's Worker on the in-process simulated lab: the CSV that
pymeasure writes (read back with Results.load), stopping from pymeasure, refusals."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from pymeasure.experiment import Procedure, Results
from pymeasure.experiment.workers import Worker

from pcsdaq.procedures import PROCEDURES, BiasSweep, TemperatureSeries
from pcsdaq.procedures.pymeasure_adapter import (
    data_columns,
    forget_sim_labs,
    pymeasure_label,
    sim_lab,
)
from pcsdaq.station import packaged_config
from pcsdaq.storage import read_run

SWEEP_LABELS = ["time (s)", "bias_set (A)", "V_dc (V)", "I_dc (A)", "X (V)", "Y (V)",
                "dIdV (S)", "dVdI (ohm)", "temperature (K)", "field (T)", "flags", "segment"]


@pytest.fixture
def sim_spec():
    """The ``station`` parameter of the packaged sim station's in-process lab (a fresh lab
    for each test)."""
    forget_sim_labs()
    yield f"sim:{packaged_config('station-sim.yaml')}"
    forget_sim_labs()


def run_worker(procedure: Procedure, path, timeout: float = 120.0) -> Results:
    """Run ``procedure`` in pymeasure's Worker writing ``path``; wait for it to end."""
    results = Results(procedure, str(path))
    worker = Worker(results)
    worker.start()
    worker.join(timeout)  # pymeasure's: waits for the run to end (or stops it)
    threading.Thread.join(worker, 10.0)  # and the thread itself
    assert not worker.is_alive(), "the Worker did not finish"
    return results


def test_labels_are_pymeasure_columns_with_units():
    assert pymeasure_label("V_dc_V", "V") == "V_dc (V)"
    assert pymeasure_label("sensor_ohm", "Ohm") == "sensor (ohm)"
    assert pymeasure_label("flags", "") == "flags"
    assert BiasSweep.DATA_COLUMNS == SWEEP_LABELS
    for cls in PROCEDURES.values():
        assert cls.DATA_COLUMNS == data_columns(cls.COLUMNS)
        assert set(Procedure.parse_columns(cls.DATA_COLUMNS)) == {
            label for label in cls.DATA_COLUMNS if "(" in label}  # pint reads every unit


def test_worker_runs_a_bias_sweep_into_pymeasure_csv(sim_spec, tmp_path):
    sweep = BiasSweep(station=sim_spec, n_points=41, max_current_A=2e-3, time_constant_s=0.01,
                      direction="both")
    run_worker(sweep, tmp_path / "sweep.csv")
    assert sweep.status == Procedure.FINISHED

    loaded = Results.load(str(tmp_path / "sweep.csv"))
    assert type(loaded.procedure) is BiasSweep
    assert loaded.procedure.n_points == 41
    assert loaded.procedure.max_current_A == pytest.approx(2e-3)
    assert loaded.procedure.direction == "both"
    assert loaded.procedure.station == sim_spec
    data = loaded.data
    assert list(data.columns) == SWEEP_LABELS
    assert len(data) == 2 * 41 - 1
    np.testing.assert_allclose(data["bias_set (A)"], sweep.points())
    assert (data["segment"] == 0).all()
    # the contact the simulated lab made (20-40 Ohm normal resistance) is what was measured
    assert data["dVdI (ohm)"].between(5.0, 60.0).all()
    np.testing.assert_allclose(data["dIdV (S)"], 1.0 / data["dVdI (ohm)"], rtol=1e-9)
    assert data["temperature (K)"].lt(1.0).all()
    assert sim_lab(sim_spec[4:]).emulators["sr830"].aux_out[0] == 0.0  # bias back to zero


def test_temperature_series_segments_and_list_parameter_round_trip(sim_spec, tmp_path):
    series = TemperatureSeries(station=sim_spec, setpoints_K=[0.8, 1.2], n_points=11,
                               window_s=20.0, tolerance_K=0.05, timeout_s=3600.0,
                               time_constant_s=0.01)
    run_worker(series, tmp_path / "series.csv")
    assert series.status == Procedure.FINISHED

    loaded = Results.load(str(tmp_path / "series.csv"))
    assert loaded.procedure.setpoints_K == [0.8, 1.2]
    data = loaded.data
    assert list(data["segment"].unique()) == [0, 1]
    for segment, setpoint in enumerate([0.8, 1.2]):
        rows = data[data["segment"] == segment]
        assert len(rows) == 11
        assert rows["temperature (K)"].mean() == pytest.approx(setpoint, abs=0.1)
    # resume is keyed by setpoint index (a repeated setpoint is measured again)
    assert series.context.resume_state == {"completed_indices": [0, 1], "next_index": 2}


def test_worker_stop_aborts_and_leaves_the_station_safe(sim_station, tmp_path):
    lab, station = sim_station
    lab.contact.place()
    station.thermometer.set_heater_range(3)
    assert lab.cryostat.heater_range == 3
    sweep = BiasSweep(n_points=100001, max_current_A=2e-3, time_constant_s=1e-5).use_station(
        station)
    sweep.hdf5_path = str(tmp_path / "stopped.h5")
    results = Results(sweep, str(tmp_path / "stopped.csv"))
    worker = Worker(results)
    worker.start()
    deadline = time.monotonic() + 60.0
    while (sweep.context is None or sweep.context.n_points < 5) and time.monotonic() < deadline:
        time.sleep(0.005)
    worker.stop()
    threading.Thread.join(worker, 60.0)  # pymeasure's join returns once stop() is set
    assert not worker.is_alive()

    assert sweep.status == Procedure.ABORTED
    recorded = sweep.context.n_points
    assert 5 <= recorded < 100001
    assert len(Results.load(str(tmp_path / "stopped.csv")).data) == recorded
    record = read_run(tmp_path / "stopped.h5")  # pcsdaq's record beside pymeasure's CSV
    assert record.status == "aborted"
    assert record.n_rows == recorded
    assert lab.emulators["sr830"].aux_out[0] == 0.0  # bias zero
    assert lab.cryostat.heater_range == 0  # the station file's safe heater range
    assert station.lockin.aux_voltage(1) == 0.0  # a station handed in stays open


def test_parameters_beyond_the_station_limits_fail_before_any_io(sim_spec, tmp_path):
    lockin = sim_lab(sim_spec[4:]).emulators["sr830"]
    sine_before = lockin.values["SLVL"]
    sweep = BiasSweep(station=sim_spec, max_current_A=0.05, sine_voltage_V=0.5)  # max 10 mA
    run_worker(sweep, tmp_path / "refused.csv")
    assert sweep.status == Procedure.FAILED
    assert sweep.context is None  # refused before the measurement began
    assert lockin.values["SLVL"] == sine_before  # the lock-in was not configured
    assert len(Results.load(str(tmp_path / "refused.csv")).data) == 0


def test_no_station_fails_with_a_message(tmp_path, caplog):
    sweep = BiasSweep()
    run_worker(sweep, tmp_path / "nostation.csv")
    assert sweep.status == Procedure.FAILED
    assert "set the 'station' parameter" in caplog.text


def test_the_station_parameter_is_not_a_plan_key():
    assert "station" not in BiasSweep.parameter_specs()
    assert "station" not in BiasSweep.from_parameters({"n_points": 5}).parameters_dict()


def test_hdf5_record_beside_the_csv_holds_the_same_points(sim_spec, tmp_path):
    series = TemperatureSeries(station=sim_spec, setpoints_K=[0.8, 1.2], n_points=5,
                               window_s=10.0, time_constant_s=0.01)
    series.hdf5_path = str(tmp_path / "series.h5")
    run_worker(series, tmp_path / "series.csv")
    assert series.status == Procedure.FINISHED
    csv = Results.load(str(tmp_path / "series.csv")).data
    record = read_run(tmp_path / "series.h5")
    assert record.status == "finished"
    assert [seg.n_rows for seg in record.segments] == [5, 5]
    assert record.parameters["setpoints_K"] == [0.8, 1.2]
    assert "station" not in record.parameters
    assert record.metadata["runner"] == "pymeasure Worker"
    np.testing.assert_allclose(record.columns["dIdV_S"], csv["dIdV (S)"])
    np.testing.assert_allclose(record.columns["V_dc_V"], csv["V_dc (V)"])


def test_shutdown_logs_each_safe_outcome_at_its_level(caplog):
    """Instruments that went safe are info lines, failures error lines (a pymeasure log
    window shows errors in red: a safe station must not look like a failure)."""
    import logging

    from pcsdaq.procedures import BiasSweep
    from pcsdaq.safe_state import SafeOutcome

    class FakeStation:
        def safe_state(self):
            return [SafeOutcome("bias", "zero", True),
                    SafeOutcome("magnet", "hold", False, "no reply")]

    proc = BiasSweep()
    proc._run_station, proc._owns_station = FakeStation(), False
    with caplog.at_level(logging.INFO, logger="pcsdaq"):
        proc.shutdown()
    levels = {r.getMessage().split("safe state: ")[-1]: r.levelname for r in caplog.records}
    assert levels == {"bias: zero: ok": "INFO", "magnet: hold: FAILED: no reply": "ERROR"}
