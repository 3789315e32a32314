"""`pcsdaq safe` over real transports (a lab served on TCP, pyvisa-py), and what `pcsdaq
run` says about the instruments a crashed run left behind."""

import pytest
import yaml
from lab_helpers import walk_in

from pcsdaq.cli import main
from pcsdaq.clock import VirtualClock
from pcsdaq.runner.plan import PlanStep
from pcsdaq.safe_state import last_run_report, read_record
from pcsdaq.sim.lab import SimLab
from pcsdaq.station import packaged_config

SIM_STATION = packaged_config("station-sim.yaml")
NAMES = {"lockin": "sr830", "dmm": "keithley2000", "thermometer": "ls372", "magnet": "ami430",
         "positioner": "anc300"}


@pytest.fixture
def served_lab(tmp_path):
    """(lab, station file naming the served ports): the lab served over TCP."""
    lab = SimLab.from_station_file(str(SIM_STATION), clock=VirtualClock())
    server = lab.serve(ports={name: 0 for name in lab.emulators})
    data = yaml.safe_load(SIM_STATION.read_text())
    for role, name in NAMES.items():
        data["roles"][role]["resource"] = server.resources[name]
    path = tmp_path / "station-tcp.yaml"
    path.write_text(yaml.safe_dump(data))
    try:
        yield lab, path, server
    finally:
        server.close()


def test_safe_command_puts_every_instrument_safe_one_line_each(served_lab, capsys):
    lab, path, _server = served_lab
    lab.cryostat.set_range(5)
    lab.emulators["anc300"].axes[3]["mode"] = "stp"
    lab.emulators["sr830"].aux_out[0] = 3.0
    assert main(["safe", str(path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["bias", "lockin", "thermometer",
                                                      "magnet", "positioner"]
    assert all(line.endswith(": ok") for line in lines), lines
    assert lab.cryostat.heater_range == 0
    assert lab.emulators["anc300"].axes[3]["mode"] == "gnd"
    assert lab.emulators["sr830"].aux_out[0] == 0.0


def test_safe_command_reports_an_unreachable_instrument_and_does_the_rest(served_lab, capsys,
                                                                         tmp_path):
    lab, path, _server = served_lab
    data = yaml.safe_load(path.read_text())
    data["roles"]["magnet"]["resource"] = "TCPIP::127.0.0.1::1::SOCKET"  # nothing listens
    data["roles"]["magnet"]["visa"] = {"timeout": 500}
    path.write_text(yaml.safe_dump(data))
    lab.cryostat.set_range(5)
    assert main(["safe", str(path), "--timeout", "5"]) == 1
    lines = dict(line.split(": ", 1) for line in capsys.readouterr().out.strip().splitlines())
    assert lines["magnet"].startswith("hold the field (pause any ramp): FAILED: ")
    assert lines["thermometer"].endswith(": ok") and lab.cryostat.heater_range == 0


def test_safe_command_input_errors_are_one_line(tmp_path, capsys):
    assert main(["safe", "--data", str(tmp_path)]) == 2
    assert "no STATION given and no run record" in capsys.readouterr().err
    assert main(["safe", str(SIM_STATION), "--timeout", "nan"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_run_says_what_a_crashed_run_left_the_instruments_doing(engine_on_sim, tmp_path,
                                                                  capsys):
    lab, station, engine, _events = engine_on_sim
    walk_in(lab)
    station.thermometer.set_heater_range(4)
    station.thermometer.set_setpoint(6.0)
    engine.queue = [PlanStep("bias_sweep", {"max_current_A": 5e-4, "n_points": 41,
                                            "time_constant_s": 0.01})]

    def crash(event):  # a BaseException gets past every handler, as a kill would
        if event["type"] == "point":
            raise SystemExit("killed")

    engine.subscribe(crash)
    with pytest.raises(SystemExit):
        engine.run_blocking()
    record = read_record(engine.data_dir)
    assert record["state"] == "running"
    report = "\n".join(last_run_report(engine.data_dir))
    assert "did not end" in report and "heater range 4, setpoint 6 K" in report
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump({"station": str(SIM_STATION), "steps": [
        {"procedure": "bias_sweep", "parameters": {"n_points": 11, "time_constant_s": 0.01}}]}))
    main(["run", str(plan), "--sim", "inprocess", "--time-scale", "0",
          "--data", str(engine.data_dir)])
    out = capsys.readouterr().out
    assert "did not end" in out and "thermometer: heater range 4" in out
    # that run ended: the next one hears how
    assert read_record(engine.data_dir)["state"] in ("finished", "failed")
