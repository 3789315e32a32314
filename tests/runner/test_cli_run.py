"""`pcsdaq run` and `pcsdaq demo` as a user runs them: in-process, over TCP against
`pcsdaq sim serve`, killed with -9 and resumed."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from pcsdaq.cli import main
from pcsdaq.sim.lab import SimLab
from pcsdaq.station import packaged_config
from pcsdaq.storage import read_run

pytestmark = pytest.mark.slow
PCSDAQ = [sys.executable, "-m", "pcsdaq.cli"]
SIM_STATION = packaged_config("station-sim.yaml")


def test_demo_plan_runs_in_process(tmp_path, capsys):
    code = main(["run", str(packaged_config("plan-demo.yaml")), "--sim", "inprocess",
                 "--time-scale", "0", "--data", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    files = sorted(tmp_path.glob("*.h5"))
    assert [read_run(f).attrs["procedure"] for f in files] == [
        "needle_approach", "rt_log", "temperature_series", "field_series"]
    assert all(read_run(f).status == "finished" for f in files)
    assert "plan: 4 steps, about" in out and list(tmp_path.glob("pcsdaq-run-*.log"))


def test_demo_command_prints_what_it_measured(tmp_path):
    proc = subprocess.run([*PCSDAQ, "demo", "--data", str(tmp_path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "demo finished" in proc.stdout
    assert "Tc (two-line crossing)" in proc.stdout and "BTK fit Delta" in proc.stdout
    assert len(list(tmp_path.glob("*.h5"))) == 4


def _station_file(tmp_path, resources, time_scale):
    data = yaml.safe_load(SIM_STATION.read_text())
    for entry in data["roles"].values():
        if "resource" in entry:  # the emulator the registry names for the role's driver
            entry["resource"] = resources[SimLab.emulator_for_driver(entry["driver"])]
    data["clock"]["time_scale"] = time_scale
    path = tmp_path / "station-tcp.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_run_against_sim_serve_over_tcp(tmp_path):
    ports = tmp_path / "ports.json"
    server = subprocess.Popen([*PCSDAQ, "sim", "serve", "--free-ports", "--json", str(ports),
                               "--time-scale", "500"], stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(100):
            if ports.exists() and ports.stat().st_size:
                break
            time.sleep(0.1)
        resources = json.loads(ports.read_text())
        station = _station_file(tmp_path, resources, 500)
        plan = tmp_path / "plan.yaml"
        plan.write_text(yaml.safe_dump({"station": str(station), "steps": [
            {"procedure": "needle_approach", "parameters": {"target_min_ohm": 20.0,
                                                            "target_max_ohm": 40.0,
                                                            "steps_per_burst": 1,
                                                            "retract_steps": 1}},
            {"procedure": "bias_sweep", "parameters": {"max_current_A": 5e-4, "n_points": 31,
                                                       "sensitivity_V": 1e-5}}]}))
        proc = subprocess.run([*PCSDAQ, "run", str(plan), "--data", str(tmp_path / "data")],
                              capture_output=True, text=True, timeout=240)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        files = sorted((tmp_path / "data").glob("*.h5"))
        sweep = read_run(files[-1])
        assert sweep.n_rows == 31
        assert 20.0 <= read_run(files[0]).metadata["contact_resistance_ohm"] <= 40.0
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)


def test_kill_minus_9_keeps_every_flushed_point_and_resume_continues(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump({"station": str(SIM_STATION), "steps": [
        {"procedure": "needle_approach", "parameters": {"target_min_ohm": 20.0,
                                                        "target_max_ohm": 40.0,
                                                        "steps_per_burst": 1,
                                                        "retract_steps": 1}},
        {"procedure": "bias_sweep", "parameters": {"max_current_A": 5e-4, "n_points": 100000,
                                                   "sensitivity_V": 1e-5,
                                                   "time_constant_s": 0.001}},
        {"procedure": "bias_sweep", "parameters": {"max_current_A": 5e-4, "n_points": 11,
                                                   "sensitivity_V": 1e-5}}]}))
    data = tmp_path / "data"
    args = [*PCSDAQ, "run", str(plan), "--sim", "inprocess", "--time-scale", "0",
            "--data", str(data)]
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        seen = 0
        deadline = time.monotonic() + 60
        while seen < 50 and time.monotonic() < deadline:
            time.sleep(0.2)
            files = sorted(data.glob("*_step02_*.h5"))
            if files:
                try:
                    seen = read_run(files[0]).n_rows
                except Exception:
                    seen = 0
        assert seen >= 50, "the sweep never got going"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    killed = read_run(sorted(data.glob("*_step02_*.h5"))[0])
    assert killed.n_rows >= seen and killed.status == "interrupted"
    (state_file,) = data.glob("pcsdaq-run-*.state.json")  # one state file per run
    state = json.loads(state_file.read_text())
    assert state["steps"]["0"]["status"] == "finished"
    assert state["steps"]["1"]["status"] == "running"
    # resume: the finished approach is skipped; we lower the sweep so the test ends quickly
    plan_data = yaml.safe_load(plan.read_text())
    plan_data["steps"][1]["parameters"]["n_points"] = 21
    plan.write_text(yaml.safe_dump(plan_data))
    proc = subprocess.run([*args, "--resume"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "step 1 (needle_approach) finished in an earlier run: skipped" in proc.stdout
    assert len(list(data.glob("*_step01_*.h5"))) == 1
    assert len(list(data.glob("*_step02_*.h5"))) == 2
