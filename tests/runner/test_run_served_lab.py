"""`pcsdaq run` pointed at `pcsdaq sim serve --free-ports` without writing a station file by
hand: the server writes one (--station-out), or the run takes the ports file (--ports)."""

import json
import signal
import subprocess
import sys
import time

import pytest
import yaml

from pcsdaq.station import load_station_config, packaged_config
from pcsdaq.storage import read_run

pytestmark = pytest.mark.slow
PCSDAQ = [sys.executable, "-m", "pcsdaq.cli"]
STEPS = [{"procedure": "needle_approach", "parameters": {"target_min_ohm": 20.0,
                                                         "target_max_ohm": 40.0,
                                                         "steps_per_burst": 1,
                                                         "retract_steps": 1}},
         {"procedure": "bias_sweep", "parameters": {"max_current_A": 5e-4, "n_points": 11,
                                                    "sensitivity_V": 1e-5}}]


def _wait_for(path):
    for _ in range(200):
        if path.exists() and path.stat().st_size:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} not written")


@pytest.fixture
def served(tmp_path):
    ports, station = tmp_path / "ports.json", tmp_path / "served-station.yaml"
    server = subprocess.Popen([*PCSDAQ, "sim", "serve", "--free-ports", "--json", str(ports),
                               "--station-out", str(station), "--time-scale", "500"],
                              stdout=subprocess.DEVNULL)
    try:
        _wait_for(ports)
        _wait_for(station)
        yield ports, station
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)


def _run(tmp_path, plan_station, *extra):
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump({"station": str(plan_station), "steps": STEPS}))
    data = tmp_path / "data"
    proc = subprocess.run([*PCSDAQ, "run", str(plan), "--data", str(data), *extra],
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    files = sorted(data.glob("*.h5"))
    assert read_run(files[-1]).n_rows == 11
    assert 20.0 <= read_run(files[0]).metadata["contact_resistance_ohm"] <= 40.0


def test_station_out_is_a_station_file_for_the_served_lab(served):
    ports, station = served
    resources = json.loads(ports.read_text())
    config = load_station_config(station)  # valid as it is
    assert config.roles["thermometer"].resource == resources["ls372"]
    assert config.roles["magnet"].resource == resources["ami430"]
    assert config.time_scale == 500
    data = yaml.safe_load(station.read_text())
    assert data["sim"]["ports"]["sr830"] == int(resources["sr830"].split("::")[2])
    # the bias source reads each set back: the DMM's query on its own socket cannot
    # overtake it (emulators answer on their own threads)
    assert config.roles["bias"].settings["confirm_set"] is True


def test_run_uses_the_served_station_file(served, tmp_path):
    _run(tmp_path, served[1])


def test_run_takes_the_ports_file(served, tmp_path):
    _run(tmp_path, packaged_config("station-sim.yaml"), "--ports", str(served[0]),
         "--time-scale", "500")


def test_bad_ports_file_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "ports.json"
    bad.write_text("[1, 2]")
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump({"station": str(packaged_config("station-sim.yaml")),
                                    "steps": STEPS}))
    proc = subprocess.run([*PCSDAQ, "run", str(plan), "--ports", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "ports.json" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("sim", ["inprocess", "tcp"])
def test_a_350_station_talks_to_the_350_emulator(tmp_path, sim):
    from pcsdaq.runner.launch import open_station

    data = yaml.safe_load(packaged_config("station-sim.yaml").read_text())
    data["roles"]["thermometer"] = {"driver": "LakeShore336",
                                    "resource": "TCPIP::127.0.0.1::7777::SOCKET",
                                    "settings": {"model": "350", "output": 1,
                                                 "command_delay_s": 0.0},
                                    "limits": {"max_heater_range": 5}}
    path = tmp_path / "station-350.yaml"
    path.write_text(yaml.safe_dump(data))
    station, lab, server = open_station(path, sim=sim, time_scale=0 if sim == "inprocess"
                                        else 100)
    try:
        ls = station.thermometer
        assert "MODEL350" in ls.ask("*IDN?")
        ls.set_heater_range(5)  # above the 336's 0-3: only a 350 takes it
        assert lab.emulators["ls350"].outputs[1].range == 5
    finally:
        station.close()
        if server is not None:
            server.close()


def test_field_series_with_an_ips120_magnet(tmp_path):
    """The IPS120 fills the magnet role of a run: a field series in process."""
    data = yaml.safe_load(packaged_config("station-sim.yaml").read_text())
    data["roles"]["magnet"] = {"driver": "IPS120", "resource": "ASRL/dev/ttyUSB1::INSTR",
                               "settings": {"ramp_table": [[3.0, 0.5], [5.0, 0.3], [7.0, 0.2]]},
                               "limits": {"max_field_T": 7.0}}
    station = tmp_path / "station-ips120.yaml"
    station.write_text(yaml.safe_dump(data))
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump({"station": str(station), "steps": [
        STEPS[0], {"procedure": "field_series",
                   "parameters": {"fields_T": [0.5], "max_current_A": 5e-4, "n_points": 11,
                                  "sensitivity_V": 1e-5, "time_constant_s": 0.03}}]}))
    proc = subprocess.run([*PCSDAQ, "run", str(plan), "--sim", "inprocess", "--time-scale", "0",
                           "--data", str(tmp_path / "data")],
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    files = sorted((tmp_path / "data").glob("*.h5"))
    assert read_run(files[-1]).attrs["procedure"] == "field_series"
