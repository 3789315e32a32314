"""The driver registry: every driver table derives from the drivers' own declarations, and a
new instrument is a driver class, an emulator class and one line of a station file."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
import yaml
from pymeasure.instruments import Instrument

from pcsdaq.driver_support import StationDriver
from pcsdaq.drivers import registry
from pcsdaq.errors import ConfigError
from pcsdaq.limits import Limit
from pcsdaq.roles import ROLE_PROTOCOLS, Voltmeter
from pcsdaq.runner.launch import open_station
from pcsdaq.sim.emulators import emulator_classes, register_emulator, unregister_emulator
from pcsdaq.sim.emulators.base import Emulator
from pcsdaq.sim.lab import SimLab
from pcsdaq.station import Station, load_station_config, packaged_config


class FakeMeterEmulator(Emulator):
    """A made-up DMM: ``*IDN?`` and ``MEAS?`` (a fixed 1.25 mV)."""

    name = "fakemeter"

    def handle(self, message: str) -> str | None:
        if message == "*IDN?":
            return "pcsdaq,FAKE1,0,1.0"
        if message == "MEAS?":
            return "1.25E-3"
        return None


class FakeMeter(StationDriver, Instrument):
    """The made-up DMM's driver, filling the dmm role."""

    ROLES = ("dmm",)
    EMULATOR = "fakemeter"
    MODELS = ("FAKE1",)
    LIMITS: ClassVar[dict[str, Limit]] = {}

    def __init__(self, adapter: Any, name: str | None = None, *, limits: dict | None = None,
                 settings: dict | None = None, **visa_kwargs: Any) -> None:
        self._init_station(settings, limits)
        self.visa_defaults(adapter, visa_kwargs, read_termination="\n", write_termination="\n")
        super().__init__(adapter, name or "fake meter", includeSCPI=False, **visa_kwargs)
        self.tune_link()

    def read_voltage(self) -> float:
        """The meter's reading, V."""
        return float(self.ask("MEAS?"))


@pytest.fixture
def fake_instrument():
    registry.register(FakeMeter)
    register_emulator(FakeMeterEmulator)
    yield
    registry.unregister("FakeMeter")
    unregister_emulator("fakemeter")


@pytest.fixture
def fake_station_file(tmp_path):
    """The packaged simulated station with the dmm role given to the fake meter: the one
    config line (plus the resource it is reached at)."""
    data = yaml.safe_load(packaged_config("station-sim.yaml").read_text())
    data["roles"]["dmm"] = {"driver": "FakeMeter",
                            "resource": "TCPIP::127.0.0.1::22001::SOCKET"}
    path = tmp_path / "station-fake.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_tables_derive_from_the_driver_declarations():
    table = registry.role_drivers()
    assert list(table) == list(ROLE_PROTOCOLS)
    assert table["lockin"] == ("SR830",)
    assert set(table["bias"]) == {"SR830AuxBias", "Keithley6221"}
    assert set(table["thermometer"]) == {"LakeShore372", "LakeShore336"}
    assert registry.uses_drivers() == {"SR830AuxBias": "lockin"}
    assert registry.emulators()["LakeShore372"] == "ls372"
    assert registry.drivers_for_model("350") == ["LakeShore336"]
    # every emulator a driver names exists in the simulated lab, and the lab maps back
    for driver, emulator in registry.emulators().items():
        assert emulator in emulator_classes(), driver
        assert SimLab.emulator_for_driver(driver) == emulator
    from pcsdaq import drivers

    assert drivers.SR830 is registry.driver_class("SR830")


def test_a_driver_without_emulator_is_named():
    with pytest.raises(KeyError, match="Keithley6221 has no emulator"):
        SimLab.emulator_for_driver("Keithley6221")
    with pytest.raises(KeyError, match="unknown driver 'Nope'"):
        registry.driver_class("Nope")


def test_fake_instrument_is_unknown_until_registered(fake_station_file):
    with pytest.raises(ConfigError, match="roles.dmm.driver.*'FakeMeter' cannot fill"):
        load_station_config(fake_station_file)


@pytest.mark.parametrize("sim", ["inprocess", "tcp"])
def test_fake_instrument_needs_no_edit_of_station_lab_or_runner(fake_instrument,
                                                                fake_station_file, sim):
    config = load_station_config(fake_station_file)
    assert config.roles["dmm"].driver_class is FakeMeter
    station, lab, server = open_station(fake_station_file, sim=sim, time_scale=0)
    try:
        assert isinstance(station, Station)
        assert isinstance(station.dmm, FakeMeter) and isinstance(station.dmm, Voltmeter)
        assert isinstance(lab.emulators["fakemeter"], FakeMeterEmulator)
        with station.lock:
            assert station.dmm.read_voltage() == pytest.approx(1.25e-3)
            assert station.lockin.read_xy()  # the rest of the station is unchanged
        assert station.snapshot()["dmm"]["driver"] == "FakeMeter"
    finally:
        station.close()
        if server is not None:
            server.close()
