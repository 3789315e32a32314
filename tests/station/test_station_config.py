"""Station files: the shipped ones load; bad ones are refused with file, key and allowed values."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pytest
import yaml

from pcsdaq.cli import main as cli_main
from pcsdaq.errors import ConfigError
from pcsdaq.station import load_station_config, packaged_config

SIM = packaged_config("station-sim.yaml")
LAB = packaged_config("station-lab.example.yaml")


def test_shipped_sim_station_loads():
    cfg = load_station_config(SIM)
    assert set(cfg.roles) == {"lockin", "bias", "dmm", "thermometer", "magnet", "positioner"}
    assert cfg.roles["magnet"].safety["max_field_T"] == 7.0
    assert cfg.roles["bias"].uses == "lockin" and cfg.roles["bias"].resource is None
    assert cfg.roles["positioner"].safety["max_voltage_V"] == 60.0
    assert cfg.time_scale == 20.0
    assert cfg.sim["ports"]["sr830"] == 25830


def test_shipped_lab_example_loads_with_serial_framing():
    from pyvisa import constants

    cfg = load_station_config(LAB)
    pos = cfg.roles["positioner"]
    assert pos.resource.startswith("ASRL")
    assert pos.visa["parity"] == constants.Parity.none
    assert pos.visa["stop_bits"] == constants.StopBits.one
    assert cfg.roles["lockin"].resource == "GPIB0::8::INSTR"
    assert cfg.time_scale == 1.0


def test_visa_library_per_station_and_per_role():
    cfg = load_station_config(SIM)
    assert cfg.visa_library == "@py"
    assert {rc.visa_library for rc in cfg.roles.values()} == {"@py"}
    data = yaml.safe_load(SIM.read_text())
    data["visa_library"] = "@ivi"  # NI-VISA for the GPIB card ...
    data["roles"]["positioner"]["visa_library"] = "@py"  # ... pyvisa-py for this one
    data["roles"]["dmm"]["visa_library"] = "/opt/keysight/lib/libvisa.so"
    cfg = load_station_config(_write(data))
    assert cfg.visa_library == "@ivi"
    assert cfg.roles["lockin"].visa_library == "@ivi"
    assert cfg.roles["positioner"].visa_library == "@py"
    assert cfg.roles["dmm"].visa_library == "/opt/keysight/lib/libvisa.so"


def test_station_opens_each_role_with_its_visa_library(monkeypatch):
    """Station.open hands each role's library to its driver (no hardware: a recording
    driver stands in)."""
    from pcsdaq.station import Station

    data = yaml.safe_load(SIM.read_text())
    data["visa_library"] = "@ivi"
    data["roles"] = {"dmm": dict(data["roles"]["dmm"], visa_library="@py"),
                     "positioner": data["roles"]["positioner"]}
    cfg = load_station_config(_write(data))
    seen = {}

    def recorder(role):
        class Recorder:
            def __init__(self, resource, *, visa_library, **kwargs):
                seen[role] = visa_library
                self.adapter = type("A", (), {"close": lambda self: None})()
        return Recorder

    roles = {name: dataclasses.replace(rc, driver_class=recorder(name))
             for name, rc in cfg.roles.items()}
    Station.open(dataclasses.replace(cfg, roles=roles)).close()
    assert seen == {"dmm": "@py", "positioner": "@ivi"}


def test_limits_default_to_hardware_when_unset():
    data = yaml.safe_load(SIM.read_text())
    del data["roles"]["magnet"]["limits"]
    cfg = load_station_config(_write(data))
    assert cfg.roles["magnet"].safety["max_field_T"] == 7.0


def _write(data, tmp=[]):
    import tempfile

    if not tmp:
        tmp.append(Path(tempfile.mkdtemp()))
    path = tmp[0] / f"station-{len(list(tmp[0].iterdir()))}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _mutate(fn):
    data = copy.deepcopy(yaml.safe_load(SIM.read_text()))
    fn(data)
    return data


BAD = {
    "unknown role": (lambda d: d["roles"].__setitem__("pump", {"driver": "SR830"}),
                     "roles.pump", "allowed: lockin"),
    "unknown driver": (lambda d: d["roles"]["dmm"].__setitem__("driver", "Keithley2700"),
                       "roles.dmm.driver", "allowed: Keithley2000"),
    "driver in the wrong role": (lambda d: d["roles"]["magnet"].__setitem__("driver", "SR830"),
                                 "roles.magnet.driver", "AMI430, IPS120, MercuryIPS"),
    "missing driver": (lambda d: d["roles"]["dmm"].pop("driver"), "roles.dmm.driver",
                       "Keithley2000"),
    "missing resource": (lambda d: d["roles"]["dmm"].pop("resource"), "roles.dmm.resource", "VISA"),
    "malformed resource": (lambda d: d["roles"]["dmm"].__setitem__("resource", "COM3"),
                           "roles.dmm.resource", "malformed VISA resource"),
    "GPIB address out of range": (lambda d: d["roles"]["dmm"].__setitem__(
        "resource", "GPIB0::31::INSTR"),
                                  "roles.dmm.resource", "0-30"),
    "TCP port out of range": (lambda d: d["roles"]["dmm"].__setitem__(
        "resource", "TCPIP::127.0.0.1::70000::SOCKET"), "roles.dmm.resource", "1-65535"),
    "9 T magnet": (lambda d: d["roles"]["magnet"]["limits"].__setitem__("max_field_T", 9.0),
                   "roles.magnet.limits", "7"),
    "piezo above 150 V": (lambda d: d["roles"]["positioner"]["limits"].__setitem__(
        "max_voltage_V", 200),
                          "roles.positioner.limits", "150"),
    "heater range above hardware": (lambda d: d["roles"]["thermometer"]["limits"].__setitem__(
        "max_heater_range", 9), "roles.thermometer.limits", "8"),
    "unknown limit": (lambda d: d["roles"]["magnet"]["limits"].__setitem__("max_fields_T", 5),
                      "roles.magnet.limits", "max_field_T"),
    "limit not a number": (lambda d: d["roles"]["magnet"]["limits"].__setitem__(
        "max_field_T", "7 T"),
                           "roles.magnet.limits", "not a number"),
    "unknown setting": (lambda d: d["roles"]["dmm"]["settings"].__setitem__("nplcs", 1),
                        "roles.dmm.settings", "nplc"),
    "unknown role key": (lambda d: d["roles"]["dmm"].__setitem__("adress", 16), "roles.dmm",
                         "allowed"),
    "unknown top key": (lambda d: d.__setitem__("instruments", {}), "instruments",
                        "allowed: station"),
    "no roles": (lambda d: d.__setitem__("roles", {}), "roles", "allowed roles"),
    "bias without uses": (lambda d: d["roles"]["bias"].pop("uses"), "roles.bias.uses",
                          "uses: lockin"),
    "bias with a resource": (lambda d: d["roles"]["bias"].__setitem__(
        "resource", "GPIB0::8::INSTR"),
                             "roles.bias.resource", "uses: lockin"),
    "uses a missing role": (lambda d: d["roles"].pop("lockin"), "roles.bias.uses", "not defined"),
    "bad time scale": (lambda d: d["clock"].__setitem__("time_scale", 0), "clock.time_scale",
                       "0 < value"),
    "bad parity": (lambda d: d["roles"]["dmm"].__setitem__("visa", {"parity": "mark"}),
                   "roles.dmm.visa.parity", "none, odd, even"),
    "unknown visa key": (lambda d: d["roles"]["dmm"].__setitem__("visa", {"baud": 9600}),
                         "roles.dmm.visa", "baud_rate"),
    "misspelt sim key": (lambda d: d["sim"].__setitem__("sampel", "Ce"), "sim.sampel",
                         "allowed: seed, ports, sample"),
    "unknown sim sample": (lambda d: d["sim"].__setitem__("sample", "Nb"), "sim.sample",
                           "allowed: Ce, La, Sc"),
    "sim seed not an integer": (lambda d: d["sim"].__setitem__("seed", 1.5), "sim.seed",
                                "integer"),
    "negative sim temperature": (lambda d: d["sim"].__setitem__("base_temperature_K", -1),
                                 "sim.base_temperature_K", "number > 0"),
    "sim port of an unknown emulator": (lambda d: d["sim"]["ports"].__setitem__("sr850", 1),
                                        "sim.ports.sr850", "allowed: ami430"),
    "sim port out of range": (lambda d: d["sim"]["ports"].__setitem__("sr830", 70000),
                              "sim.ports.sr830", "1-65535"),
    "sim not a mapping": (lambda d: d.__setitem__("sim", [1]), "sim", "allowed keys"),
    "unknown VISA backend": (lambda d: d.__setitem__("visa_library", "@ni"), "visa_library",
                             "allowed: @py, @ivi or the path of a VISA library"),
    "empty role VISA library": (lambda d: d["roles"]["dmm"].__setitem__("visa_library", ""),
                                "roles.dmm.visa_library", "@py, @ivi"),
    "VISA library on a riding role": (lambda d: d["roles"]["bias"].__setitem__(
        "visa_library", "@ivi"), "roles.bias.visa_library", "rides on the lockin"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_station_file_is_refused_with_file_key_and_allowed(case):
    mutate, key, allowed = BAD[case]
    path = _write(_mutate(mutate))
    with pytest.raises(ConfigError) as err:
        load_station_config(path)
    message = str(err.value)
    assert str(path) in message, message
    assert key in message, message
    assert allowed in message, message


def test_sim_lab_is_built_from_the_validated_section():
    from pcsdaq.clock import VirtualClock
    from pcsdaq.sim.lab import SimLab

    data = yaml.safe_load(SIM.read_text())
    data["sim"]["sample"] = "La"
    data["roles"]["bias"]["settings"]["series_resistance_ohm"] = 2.0e3
    cfg = load_station_config(_write(data))
    lab = SimLab.from_station_config(cfg, clock=VirtualClock())
    assert lab.contact.sample == "La"
    assert lab.contact.series_resistance_ohm == 2.0e3
    assert lab.contact.excitation_resistance_ohm == 1.0e6
    assert lab.config["time_scale"] == 20.0
    bad = _write(_mutate(BAD["misspelt sim key"][0]))
    with pytest.raises(ConfigError, match="sim.sampel"):
        SimLab.from_station_file(bad)


def test_unreadable_and_invalid_yaml(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_station_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("roles: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_station_config(bad)


def test_station_check_command(capsys, tmp_path):
    assert cli_main(["station", "check", str(SIM)]) == 0
    out = capsys.readouterr().out
    assert "valid" in out and "AMI430" in out and "max_field_T=7" in out
    assert "VISA library @py" in out
    bad = _write(_mutate(BAD["9 T magnet"][0]))
    assert cli_main(["station", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "max_field_T" in err and "Traceback" not in err
