"""Resume keyed by step and setpoint index, one resume state per run, one run per folder."""

import json
import os
import signal
import subprocess
import sys

import pytest
from lab_helpers import walk_in

from pcsdaq.runner.engine import RunEngine
from pcsdaq.runner.plan import PlanStep
from pcsdaq.storage import read_run
from pcsdaq.storage.folder_lock import DataFolderError, DataFolderLock

SWEEP = {"max_current_A": 5e-4, "n_points": 11, "sensitivity_V": 1e-5, "time_constant_s": 0.01}


def crash_at_segment(engine, index):
    """Abort the run (a crash as far as resume goes) when segment ``index`` begins."""
    fired = []

    def on_event(event):
        if event["type"] == "segment" and event["attrs"]["index"] == index and not fired:
            fired.append(True)
            engine.abort("simulated crash")

    engine.subscribe(on_event)


def test_a_fresh_hysteresis_loop_measures_every_field(engine_on_sim):
    lab, _station, engine, _events = engine_on_sim
    walk_in(lab)
    engine.queue = [PlanStep("field_series", dict(SWEEP, fields_T=[0.0, 0.5, 0.0]))]
    assert engine.run_blocking() == "finished"
    run = read_run(engine.files[0])
    assert [s.attrs["index"] for s in run.segments] == [0, 1, 2]
    assert [round(s.attrs["field_T"], 2) for s in run.segments] == [0.0, 0.5, 0.0]
    assert all(s.n_rows == 11 for s in run.segments)


def test_resume_continues_a_field_loop_at_the_interrupted_index(engine_on_sim):
    lab, _station, engine, events = engine_on_sim
    walk_in(lab)
    engine.queue = [PlanStep("field_series", dict(SWEEP, fields_T=[0.0, 0.5, 0.0]))]
    crash_at_segment(engine, 2)  # the second zero-field spectrum begins, then the crash
    assert engine.run_blocking() == "aborted"
    assert engine.run_blocking(resume=True) == "finished"
    second = read_run(engine.files[-1])
    # only the third spectrum (index 2, zero field again) is measured after the resume
    assert [s.attrs["index"] for s in second.segments] == [2]
    assert round(second.segments[0].attrs["field_T"], 2) == 0.0
    messages = [e.get("message", "") for e in events]
    assert any("field 1 of 3 (0 T) done in an earlier run" in m for m in messages)
    assert any("field 2 of 3 (0.5 T) done in an earlier run" in m for m in messages)


def test_a_repeated_temperature_is_measured_again_after_a_resume(engine_on_sim):
    lab, _station, engine, _events = engine_on_sim
    walk_in(lab)
    params = dict(SWEEP, setpoints_K=[4.0, 6.0, 4.0], window_s=10.0, heater_range=4)
    engine.queue = [PlanStep("temperature_series", params)]
    crash_at_segment(engine, 1)
    assert engine.run_blocking() == "aborted"
    state = json.loads(engine.state_path.read_text())
    assert state["steps"]["0"]["resume_state"]["completed_indices"] == [0]
    assert engine.run_blocking(resume=True) == "finished"
    second = read_run(engine.files[-1])
    assert [(s.attrs["index"], s.attrs["setpoint_K"]) for s in second.segments] == [
        (1, 6.0), (2, 4.0)]


def test_two_runs_in_one_folder_keep_their_own_resume_state(sim_station, tmp_path):
    lab, station = sim_station
    walk_in(lab)
    data = tmp_path / "data"
    a = RunEngine(station, data, plan_source="plan-a.yaml")
    a.queue = [PlanStep("temperature_series", dict(SWEEP, setpoints_K=[4.0, 6.0],
                                                   window_s=10.0))]
    crash_at_segment(a, 1)
    assert a.run_blocking() == "aborted"
    b = RunEngine(station, data, plan_source="plan-b.yaml")
    b.queue = [PlanStep("bias_sweep", dict(SWEEP))]
    assert b.run_blocking() == "finished"
    assert a.state_path != b.state_path
    assert len(list(data.glob("pcsdaq-run-*.state.json"))) == 2
    # plan a resumes from its own state, untouched by plan b's run
    again = RunEngine(station, data, plan_source="plan-a.yaml")
    again.queue = list(a.queue)
    assert again.run_blocking(resume=True) == "finished"
    assert again.state_path == a.state_path
    assert [s.attrs["index"] for s in read_run(again.files[0]).segments] == [1]
    # a finished run is never resumed: a second --resume (same engine) starts afresh, in a
    # state file of its own
    finished_state = again.state_path.read_text()
    assert again.run_blocking(resume=True) == "finished"
    assert [s.attrs["index"] for s in read_run(again.files[-1]).segments] == [0, 1]
    assert again.state_path != a.state_path and a.state_path.read_text() == finished_state


def test_an_edited_step_is_not_resumed_from_the_old_state(engine_on_sim):
    lab, _station, engine, _events = engine_on_sim
    walk_in(lab)
    engine.queue = [PlanStep("field_series", dict(SWEEP, fields_T=[0.0, 0.5, 0.0]))]
    crash_at_segment(engine, 2)
    assert engine.run_blocking() == "aborted"
    engine.queue = [PlanStep("field_series", dict(SWEEP, fields_T=[0.0, 0.2, 0.0]))]
    assert engine.run_blocking(resume=True) == "finished"
    assert [s.attrs["index"] for s in read_run(engine.files[-1]).segments] == [0, 1, 2]


HOLDER = """
import sys, time
from pcsdaq.storage.folder_lock import DataFolderLock
lock = DataFolderLock(sys.argv[1], plan="holder.yaml").acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_a_second_run_is_refused_while_the_first_lives_and_a_killed_ones_lock_is_taken(
        tmp_path):
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "held"
        with pytest.raises(DataFolderError, match=rf"in use by a run in progress \(pid "
                                                  rf"{child.pid}.*holder.yaml"):
            DataFolderLock(tmp_path).acquire()
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        with DataFolderLock(tmp_path, plan="mine.yaml") as lock:
            assert lock.previous["pid"] == child.pid  # the killed run's stale lock, taken
            with pytest.raises(DataFolderError, match="in use by a run in progress"):
                DataFolderLock(tmp_path).acquire()  # and now held by us
        with DataFolderLock(tmp_path) as lock:
            assert lock.previous is None  # released cleanly
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)


def test_a_data_folder_that_is_a_file_is_refused_in_one_line(tmp_path):
    target = tmp_path / "not-a-folder"
    target.write_text("x")
    with pytest.raises(DataFolderError, match="is a file, not a folder"):
        DataFolderLock(target).acquire()


def test_pcsdaq_run_into_a_folder_in_use_is_refused_in_one_line(tmp_path, capsys):
    from pcsdaq.cli import main
    from pcsdaq.station import packaged_config

    plan = tmp_path / "plan.yaml"
    plan.write_text(f"station: {packaged_config('station-sim.yaml')}\n"
                    "steps:\n  - procedure: bias_sweep\n")
    data = tmp_path / "data"
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(data)], stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout.readline().strip() == "held"
        code = main(["run", str(plan), "--sim", "inprocess", "--time-scale", "0",
                     "--data", str(data)])
        err = capsys.readouterr().err.strip()
        assert code == 2
        assert err.startswith("pcsdaq run: error: data folder") and "\n" not in err
        assert f"in use by a run in progress (pid {child.pid}" in err
        assert not list(data.glob("*.h5"))  # nothing written
    finally:
        child.kill()
        child.wait(10)
