"""Limits nobody can bypass: strict station/plan YAML (duplicate keys, NaN, inf refused),
integers that must be integers, raw driver commands checked against the same limits, and
plan validation that walks the field path against the magnet's ramp table."""

import pytest
import yaml

from pcsdaq.cli import main
from pcsdaq.errors import ConfigError, LimitError
from pcsdaq.runner.plan import load_plan
from pcsdaq.station import load_station_config, packaged_config

SIM = packaged_config("station-sim.yaml")


def station_text(**replace):
    text = SIM.read_text()
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize(("old", "new", "message"), [
    # a duplicate key would silently restore a lowered limit
    ("      max_field_T: 7.0", "      max_field_T: 3.0\n      max_field_T: 7.0",
     "duplicate key 'max_field_T'"),
    ("[[3.0, 0.5], [5.0, 0.3], [7.0, 0.2]]", "[[3.0, .nan], [5.0, 0.3], [7.0, 0.2]]",
     "roles.magnet.settings.ramp_table[0][1]: nan is not a finite number"),
    ("      max_temperature_K: 300.0", "      max_temperature_K: .inf",
     "roles.thermometer.limits.max_temperature_K: inf is not a finite number"),
    ("  time_scale: 20.0", "  time_scale: .nan", "clock.time_scale: nan"),
    ("  start_temperature_K: 25.0", "  start_temperature_K: -.inf", "sim.start_temperature_K"),
])
def test_station_file_values_are_refused_in_one_line(tmp_path, capsys, old, new, message):
    path = tmp_path / "station.yaml"
    path.write_text(station_text(**{old: new}))
    with pytest.raises(ConfigError, match="finite|duplicate"):
        load_station_config(path)
    assert main(["station", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize(("visa", "message"), [
    ("{timeout: -5}", "visa.timeout: -5; allowed an integer 1 to 600000 ms"),
    ("{baud_rate: 9600.5}", "visa.baud_rate"),
    ("{read_termination: 10}", "must be a string"),
])
def test_visa_settings_are_checked(tmp_path, capsys, visa, message):
    path = tmp_path / "station.yaml"
    path.write_text(station_text(**{"      range_V: 1.0": "      range_V: 1.0\n    visa: " + visa}))
    assert main(["station", "check", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_binary_station_file_is_one_line(tmp_path, capsys):
    path = tmp_path / "station.yaml"
    path.write_bytes(b"\xff\xfe\x00r\x00o\x00")
    assert main(["station", "check", str(path)]) == 2
    assert "not a text file" in capsys.readouterr().err


def plan_file(tmp_path, text):
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("params", "message"), [
    ("{heater_range: 4.5}", "heater_range = 4.5 must be an integer (never rounded)"),
    ("{n_points: 10.5}", "n_points = 10.5 must be an integer"),
    ("{tolerance_K: .nan}", "nan is not a finite number"),
    ("{window_s: .inf}", "inf is not a finite number"),
    ("{n_points: 11, n_points: 12}", "duplicate key 'n_points'"),
])
def test_plan_values_are_never_rounded_or_accepted_non_finite(tmp_path, capsys, params,
                                                              message):
    path = plan_file(tmp_path, f"station: {SIM}\nsteps:\n  - procedure: temperature_series\n"
                               f"    parameters: {params}\n")
    assert main(["run", str(path), "--check"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err


def test_an_integral_float_is_an_integer(tmp_path):
    path = plan_file(tmp_path, f"station: {SIM}\nsteps:\n  - procedure: bias_sweep\n"
                               "    parameters: {n_points: 11.0}\n")
    proc = load_plan(path).steps[0].build()
    assert proc.n_points == 11 and isinstance(proc.n_points, int)


def test_a_missing_station_path_is_never_replaced_by_the_packaged_file(tmp_path, capsys):
    path = plan_file(tmp_path,
                     "station: configs/station-sim.yaml\nsteps: [{procedure: bias_sweep}]\n")
    assert main(["run", str(path), "--check"]) == 2
    assert "station 'configs/station-sim.yaml': no such file" in capsys.readouterr().err
    # a bare name not beside the plan still finds the packaged file (documented)
    bare = plan_file(tmp_path, "station: station-sim.yaml\nsteps: [{procedure: bias_sweep}]\n")
    assert load_plan(bare).station_path == SIM


def test_field_path_is_simulated_against_the_ramp_table(tmp_path, capsys):
    # 0.4 T/min is allowed below 3 T; the leg 2 -> 4 T crosses into the 0.3 T/min segment
    plan = {"station": str(SIM), "steps": [{"procedure": "field_series", "parameters": {
        "fields_T": [1.0, 2.0, 4.0], "ramp_rate_T_per_min": 0.4, "zero_at_end": False}}]}
    path = plan_file(tmp_path, yaml.safe_dump(plan))
    assert main(["run", str(path), "--check"]) == 2
    err = capsys.readouterr().err
    assert "fields_T[2] (2 -> 4 T allows at most 0.3 T/min)" in err
    assert "fields_T[1]" not in err
    plan["steps"][0]["parameters"]["fields_T"] = [1.0, 2.0]
    path.write_text(yaml.safe_dump(plan))
    assert main(["run", str(path), "--check"]) == 0


# --- raw commands ------------------------------------------------------------------------
def test_raw_piezo_command_meets_the_voltage_limit(sim_station):
    lab, station = sim_station
    anc = lab.emulators["anc300"]
    before = dict(anc.axes[3]) if hasattr(anc, "axes") else None
    with pytest.raises(LimitError, match="offset voltage"):
        station.positioner.command("seta 3 150")  # 60 V limit in the station file
    with pytest.raises(LimitError, match="step voltage"):
        station.positioner.command("setv 3 61")
    with pytest.raises(LimitError, match="continuous stepping"):
        station.positioner.command("stepu 3 c")
    with pytest.raises(LimitError, match="step burst"):
        station.positioner.command("stepd 3 5000")
    if before is not None:
        assert anc.axes[3] == before  # nothing reached the controller
    station.positioner.command("seta 3 10")  # within the limit: sent
    assert station.positioner.get_offset() == pytest.approx(10.0)


@pytest.mark.parametrize(("role", "command", "message"), [
    ("lockin", "SLVL 2.5", "raw SLVL"),  # 1 V limit in the station file
    ("lockin", "FREQ 100;SLVL 4", "raw SLVL"),  # hidden behind another command
    ("lockin", "AUXV 1,11", "raw AUXV"),
    ("thermometer", "RANGE 0,9", "raw RANGE"),
    ("thermometer", "SETP 0,400", "raw SETP"),
    ("thermometer", "RAMP 0,1,50", "raw RAMP"),
    ("magnet", "CONF:FIELD:TARG 9", "raw CONF:FIELD:TARG"),
    ("magnet", "CONF:RAMP:RATE:FIELD 1,0.5,7", "between 0 and 7 T"),
    ("magnet", "CONF:CURR:TARG 80", "bypasses the field limits"),
])
def test_raw_writes_of_every_driver_meet_the_limits(sim_station, role, command, message):
    _lab, station = sim_station
    inst = station.instruments[role]
    with pytest.raises(LimitError, match=message):
        inst.write(command)


def test_raw_writes_within_the_limits_go_through(sim_station):
    lab, station = sim_station
    station.lockin.write("SLVL 0.5")
    assert float(station.lockin.ask("SLVL?")) == pytest.approx(0.5)
    station.thermometer.write("RANGE 0,3")
    assert lab.cryostat.heater_range == 3
