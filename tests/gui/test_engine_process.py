"""The GUI's run engine in a process of its own (pcsdaq.gui.engine_process): the same queue
and controls as an in-process RunEngine, errors of the same class, events in order, the
window driving it, and a GUI killed with -9 leaving the run aborted in its safe state."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import pytest
from PyQt6 import QtCore

from pcsdaq.errors import ConfigError, LinkFault
from pcsdaq.gui.engine_process import RemoteEngine
from pcsdaq.procedures import PlanError
from pcsdaq.runner.plan import PlanStep
from pcsdaq.station import packaged_config

HERE = Path(__file__).parent
#: the packaged simulated station's needle walked into contact (demo parameters)
APPROACH = PlanStep("needle_approach", {"target_min_ohm": 5.0, "target_max_ohm": 20.0,
                                        "steps_per_burst": 2, "retract_steps": 3,
                                        "max_total_steps": 20000, "step_voltage_V": 30.0,
                                        "step_frequency_Hz": 100.0})


def _until(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


@pytest.fixture
def remote(tmp_path):
    engine = RemoteEngine(None, False, tmp_path / "data", time_scale=0.0)
    events: list[dict] = []
    engine.subscribe(events.append)
    yield engine, events
    engine.close()


def test_queue_commands_and_refusals_cross_to_the_engine_process(remote):
    engine, _events = remote
    assert engine.process.is_alive() and engine.process.pid != os.getpid()
    assert engine.state == "idle"
    assert "lockin" in engine.station.config.roles
    with pytest.raises(PlanError, match="n_points"):
        engine.enqueue(PlanStep("bias_sweep", {"n_points": -3}))
    assert engine.queue == []
    engine.enqueue(PlanStep("bias_sweep", {"n_points": 11}))
    engine.enqueue(PlanStep("bias_sweep", {"n_points": 21}))
    engine.move(1, 0)
    assert [s.parameters["n_points"] for s in engine.queue] == [21, 11]
    engine.replace(0, PlanStep("bias_sweep", {"n_points": 15}))
    with pytest.raises(PlanError, match="n_points"):
        engine.replace(0, PlanStep("bias_sweep", {"n_points": 2}))
    engine.remove(1)
    assert [s.parameters["n_points"] for s in engine.queue] == [15]
    reading = engine.station.read_dashboard()
    assert reading is not None and set(reading["connections"].values()) == {"ok"}


def test_a_plan_runs_in_the_engine_process_and_its_events_arrive_in_order(remote, tmp_path):
    engine, events = remote
    engine.enqueue(APPROACH)
    engine.enqueue(PlanStep("bias_sweep", {"n_points": 21}))
    engine.start()
    assert engine.wait(120)
    _until(lambda: any(e.get("state") == "finished" for e in events))
    assert engine.state == "finished"
    states = [e["state"] for e in events if e["type"] == "status"]
    assert states[0] == "running" and states[-1] == "finished"
    sweep = [e["row"] for e in events if e["type"] == "point" and "dIdV_S" in e["row"]]
    assert len(sweep) == 21
    assert [e["step"] for e in events if e["type"] == "step_finished"] == [0, 1]
    (path,) = (tmp_path / "data").glob("*_step02_bias_sweep.h5")
    with h5py.File(path, "r") as f:
        assert f["entry"].attrs["status"] == "finished"
        assert len(f["entry/data/dIdV_S"]) == 21


def test_a_station_that_does_not_open_is_one_error_in_the_gui_process(tmp_path):
    with pytest.raises(ConfigError):  # a bad file: refused before any child starts
        RemoteEngine(str(tmp_path / "nope.yaml"), False, tmp_path)
    # the simulated station's resources without its lab: nobody listens there
    t0 = time.monotonic()
    with pytest.raises(LinkFault):
        RemoteEngine(str(packaged_config("station-sim.yaml")), False, tmp_path)
    assert time.monotonic() - t0 < 60


def test_the_main_window_drives_the_engine_process(tmp_path, qtbot):
    from pcsdaq.gui.main_window import MainWindow

    engine = RemoteEngine(None, False, tmp_path / "data", time_scale=0.0)
    settings = QtCore.QSettings(str(tmp_path / "gui.ini"), QtCore.QSettings.Format.IniFormat)
    win = MainWindow(engine, settings=settings)
    qtbot.addWidget(win)
    try:
        win.dashboard.refresh()
        qtbot.waitUntil(lambda: "lockin: ok" in win.dashboard.connections.text(), timeout=10000)
        win.queue.add_step(APPROACH)
        win.queue.add_step(PlanStep("bias_sweep", {"n_points": 31}))
        assert win.queue.table.rowCount() == 2
        assert win.controls.buttons["start"].isEnabled()
        win.controls.buttons["start"].click()
        # the step's row, then the engine's state (its own event, just after)
        qtbot.waitUntil(lambda: win.queue.table.item(1, 3).text() == "finished", timeout=120000)
        qtbot.waitUntil(lambda: "finished" in win.status_label.text(), timeout=10000)
        assert win.controls.buttons["start"].isEnabled()
        assert not win.controls.buttons["abort"].isEnabled()
        assert sum(b.n for b in win.plots.didv.buffers.values()) == 31
    finally:
        win.close()
        engine.close()
    assert engine.process.exitcode == 0


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in state  # ended; its new parent has not reaped it yet


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_a_gui_killed_with_9_leaves_the_run_aborted_in_its_safe_state(tmp_path):
    data = tmp_path / "data"
    gui = subprocess.Popen([sys.executable, str(HERE / "engine_child_script.py"), str(data),
                            "20"], stdout=subprocess.PIPE, text=True)
    try:
        engine_pid = int(gui.stdout.readline())
        assert gui.stdout.readline().strip() == "running"
        gui.send_signal(signal.SIGKILL)
        gui.wait(10)
        _until(lambda: _gone(engine_pid), 60)
    finally:
        gui.kill()
    (path,) = data.glob("*_bias_sweep.h5")
    with h5py.File(path, "r") as f:  # a plain reader: the file was closed properly
        entry = f["entry"]
        assert entry.attrs["status"] == "aborted"
        assert "GUI" in entry.attrs["abort_reason"]
        points = len(entry["data/dIdV_S"])
    assert 0 < points < 2001
    report = json.loads((data / "pcsdaq-instruments.json").read_text())
    assert report["state"] == "aborted"
    assert {s["role"] for s in report["safe_state"] if s["ok"]} >= {"bias", "lockin"}


def _processes_with(marker: str) -> list[int]:
    """Pids of the processes whose environment holds ``marker`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and not _gone(int(entry.name)):
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_pcsdaq_gui_opens_and_closes_its_engine_process(tmp_path):
    marker = f"PCSDAQ_TEST_MARK={os.getpid()}-{time.monotonic_ns()}"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", marker.split("=")[0]:
           marker.split("=")[1]}
    gui = subprocess.Popen([sys.executable, "-m", "pcsdaq.cli", "gui", "--data",
                            str(tmp_path / "data"), "--time-scale", "0", "--quit-after", "6"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        _until(lambda: len(_processes_with(marker)) >= 2, 60)  # the GUI and its engine
        out, err = gui.communicate(timeout=120)
    finally:
        gui.kill()
    assert gui.returncode == 0, err
    assert "Traceback" not in err
    _until(lambda: not _processes_with(marker), 30)


def test_an_engine_process_that_dies_is_an_alarm_and_the_window_keeps_working(tmp_path,
                                                                               qtbot):
    from pcsdaq.gui.main_window import MainWindow

    engine = RemoteEngine(None, False, tmp_path / "data", time_scale=0.0)
    settings = QtCore.QSettings(str(tmp_path / "gui.ini"), QtCore.QSettings.Format.IniFormat)
    win = MainWindow(engine, settings=settings)
    win.dashboard.timer.stop()
    qtbot.addWidget(win)
    messages: list[str] = []
    win.queue.message.connect(messages.append)
    try:
        win.queue.add_step(PlanStep("bias_sweep", {"n_points": 11}))
        win.queue.add_step(PlanStep("bias_sweep", {"n_points": 21}))
        os.kill(engine.process.pid, signal.SIGKILL)
        qtbot.waitUntil(lambda: "run_failed" in win.banner.kinds(), timeout=10000)
        assert "ended unexpectedly" in win.banner.label.text()
        win.queue.select_row(1)
        win.queue.move_up()  # each is a message in the window, not an exception in Qt
        win.queue.remove_selected()
        win.queue.add_step(PlanStep("bias_sweep", {"n_points": 11}))
        win.controls.buttons["start"].click()
        assert len(messages) >= 3 and all("ended" in m for m in messages), messages
        assert win.queue.table.rowCount() == 2  # as it was when the engine went
    finally:
        win.close()
        engine.close()


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_ctrl_c_in_the_terminal_closes_the_gui_and_its_processes_cleanly(tmp_path):
    """Ctrl+C reaches the whole process group: the window closes as by its close button
    (the engine's process aborts and ends), and no child prints a traceback."""
    marker = f"PCSDAQ_TEST_MARK={os.getpid()}-{time.monotonic_ns()}"
    name, value = marker.split("=")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", name: value}
    gui = subprocess.Popen([sys.executable, "-m", "pcsdaq.cli", "gui", "--data",
                            str(tmp_path / "data"), "--time-scale", "0"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                           start_new_session=True)
    try:
        # the GUI, its engine and the fit worker it starts while the window opens; then the
        # helpers they start (a process hit while its interpreter starts dies loudly)
        _until(lambda: len(_processes_with(marker)) >= 3, 60)
        time.sleep(3.0)
        os.killpg(gui.pid, signal.SIGINT)
        _out, err = gui.communicate(timeout=60)
    finally:
        gui.kill()
    assert gui.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    _until(lambda: not _processes_with(marker), 30)
