"""IPS120-10 emulator: echo replies, ``?<cmd>`` for bad input, LOCAL lockout, X status,
switch heater and persistent field; pcsdaq's IPS120 over TCP and over a serial pty (9600
8N2, CR), and pymeasure's IPS120_10 over TCP."""

import os

import pytest
from served_lab import new_lab, served

from pcsdaq.clock import VirtualClock
from pcsdaq.sim.lab import SimLab
from pcsdaq.station import load_station_config, packaged_config


@pytest.fixture
def lab():
    return new_lab()


def test_echo_and_bad_input(lab):
    ips = lab.emulators["ips120"]
    assert ips.handle("J1.0") == "?J1.0"  # powers up LOCAL & LOCKED: control refused
    assert ips.handle("R7") == "R+0.0000"  # reads work in local
    assert ips.handle("C3") == "C"
    for bad in ("Z9", "A7", "J9.5", "Jabc", "R99", "C9", "T0", "r7", "x"):
        assert ips.handle(bad) == f"?{bad}"
    assert ips.handle("$A1") is None
    assert ips.handle("@1R8") == "R+0.0000"
    assert ips.handle("Q4") is None
    assert ips.handle("R7") == "R+0.00000"  # extended resolution
    assert ips.handle("V").startswith("IPS120-10")
    assert ips.handle("R22") == "R+70.0000" and ips.handle("R24") == "R+5.00"


def test_ramp_status_and_persistent_mode(lab):
    ips = lab.emulators["ips120"]
    ips.handle("C3")
    assert ips.handle("X") == "X00A0C3H0M10P03"
    assert [ips.handle(c) for c in ("H1", "T0.5", "J1.0", "A1")] == ["H", "T", "J", "A"]
    assert ips.handle("X") == "X00A1C3H1M11P03"
    lab.clock.sleep(121)
    assert ips.handle("X")[4] == "1" and ips.handle("X")[11] == "0"
    assert float(ips.handle("R7")[1:]) == pytest.approx(1.0)
    ips.handle("H0")  # persistent at 1 T; the supply then runs down
    ips.handle("A2")
    lab.clock.sleep(121)
    assert float(ips.handle("R7")[1:]) == pytest.approx(0.0)
    assert float(ips.handle("R18")[1:]) == pytest.approx(1.0)
    assert ips.handle("X")[8] == "2"  # heater off, magnet at field
    assert ips.handle("H1") == "?H1"  # supply and magnet currents differ
    assert ips.handle("H2") == "H"  # forced
    lab.inject("quench")
    assert ips.handle("X").startswith("X1")


def _driver(resource, **kwargs):
    from pcsdaq.drivers import IPS120

    return IPS120(resource, settings={"ramp_table": [[3.0, 0.5], [5.0, 0.3], [7.0, 0.2]]},
                  limits={"max_field_T": 7.0}, visa_library="@py", timeout=2000, **kwargs)


def test_pcsdaq_ips120_over_tcp(lab):
    with lab.serve(ports={"ips120": 0}, emulators=["ips120"]) as server:
        ips = _driver(server.resources["ips120"])
        try:
            ips.ramp_to(0.5)
            assert ips.state() == "ramping"
            lab.clock.sleep(61)
            assert ips.is_holding() and ips.read_field() == pytest.approx(0.5)
            ips.zero()
            lab.clock.sleep(61)
            assert ips.read_field() == pytest.approx(0.0)
            lab.inject("quench")
            assert ips.is_quenched()
        finally:
            ips.adapter.close()


@pytest.mark.skipif(os.name != "posix" or not os.path.isdir("/dev/pts"),
                    reason="no pseudo-terminals here")
def test_pcsdaq_ips120_over_serial_9600_8n2(lab):
    with lab.serve_serial(["ips120"]) as server:
        ips = _driver(server.resources["ips120"])
        try:
            ips.status()  # after the connect-time writes have crossed the line
            t0 = lab.clock.now()
            assert ips.read_field() == 0.0
            # "R7\r" and "R+0.00000\r" at 9600 baud, 8 data bits, 2 stop bits: 11 bits each
            assert lab.clock.now() - t0 == pytest.approx((3 + 10) * 11 / 9600)
            ips.ramp_to(0.2)
            lab.clock.sleep(30)
            assert ips.is_holding()
        finally:
            ips.adapter.close()


def test_station_role_option(tmp_path):
    import yaml

    station = yaml.safe_load(packaged_config("station-sim.yaml").read_text())
    station["roles"]["magnet"] = {"driver": "IPS120", "resource": "ASRL/dev/ttyUSB0::INSTR",
                                  "settings": {"persistent_switch": False},
                                  "limits": {"max_field_T": 7.0}}
    path = tmp_path / "station.yaml"
    path.write_text(yaml.safe_dump(station))
    cfg = load_station_config(path)
    assert cfg.roles["magnet"].driver == "IPS120"
    lab = SimLab(clock=VirtualClock())
    adapter = lab.adapter_factory()("IPS120", "ASRL/dev/ttyUSB0::INSTR")
    assert adapter.emulator is lab.emulators["ips120"]


@pytest.mark.parametrize("transport", ["tcp", "serial"])
def test_pymeasure_ips120_10_session(lab, transport):
    """pymeasure's IPS120_10 reads every property and writes back every settable one."""
    from pymeasure.instruments.oxfordinstruments import IPS120_10

    with served(lab, "ips120", transport) as resource:
        ips = IPS120_10(resource, visa_library="@py", timeout=2000,
                        clear_buffer=False, write_termination="\r",
                        switch_heater_heating_delay=0, switch_heater_cooling_delay=0)
        try:
            assert ips.version.startswith("IPS120-10")
            ips.enable_control()  # C3; unclamps; heater on at zero field
            assert ips.control_mode == "RU"
            assert ips.switch_heater_enabled is True
            ips.sweep_rate = 0.5
            assert ips.sweep_rate == pytest.approx(0.5)
            ips.field_setpoint = 0.25
            assert ips.field_setpoint == pytest.approx(0.25)
            # pymeasure's current_setpoint reads R0, the demand (output) current, not the
            # target current R5 the manual gives: it reads 0 A while the target is 1 A
            ips.current_setpoint = 1.0
            assert ips.current_setpoint == pytest.approx(0.0)
            assert float(ips.ask("R5")) == pytest.approx(1.0)
            assert ips.demand_current == pytest.approx(0.0)
            assert ips.demand_field == pytest.approx(0.0)
            assert ips.persistent_field == pytest.approx(0.0)
            ips.field_setpoint = 0.25
            ips.activity = "to setpoint"
            assert ips.activity == "to setpoint" and ips.sweep_status == "sweeping"
            lab.clock.sleep(31)
            assert ips.sweep_status == "at rest" and ips.field == pytest.approx(0.25)
            # pymeasure's current_measured reads R1, the supply voltage (INSTRUMENTS.md):
            # at rest it is 0 V although 2.5 A flow; the emulator answers as the manual says
            assert ips.current_measured == 0.0
            assert float(ips.ask("R2")) == pytest.approx(2.5)
            ips.activity = "hold"
            ips.activity = "clamp"
            assert ips.activity == "clamp"
        finally:
            ips.adapter.close()
