"""The serial-port instruments against their pcsdaq drivers over the sim's serial transport:
pseudo-terminals opened by pyvisa-py's serial session (pyserial, termios), as a USB-serial
adapter on the bench."""

import math
import threading

import pytest
from served_lab import HAVE_PTYS

from pcsdaq.clock import VirtualClock
from pcsdaq.errors import LimitError
from pcsdaq.sim.lab import SimLab
from pcsdaq.station import load_station_config, packaged_config

pytestmark = pytest.mark.skipif(not HAVE_PTYS, reason="no pseudo-terminals here")

SERIAL = ["sr830", "keithley2000", "ls372", "ls336", "mercury"]
#: each instrument's RS-232 framing, as a station file gives it (the pty accepts any)
FRAMING = {"baud_rate": 9600, "data_bits": 8}


@pytest.fixture(scope="module")
def on_ptys():
    lab = SimLab.from_station_file(str(packaged_config("station-sim.yaml")), clock=VirtualClock())
    with lab.serve_serial(SERIAL) as server:
        yield lab, server.resources


def driver(name, resource, role, timeout_ms=2000, **settings):
    from pcsdaq import drivers

    rc = load_station_config(packaged_config("station-sim.yaml")).roles.get(role)
    merged = {**(rc.settings if rc is not None and rc.driver == name else {}), **settings}
    return getattr(drivers, name)(resource, settings=merged, visa_library="@py",
                                  timeout=timeout_ms, **FRAMING)


def test_resources_are_serial_ports(on_ptys):
    _, res = on_ptys
    assert sorted(res) == sorted(SERIAL)
    assert all(r.startswith("ASRL/dev/") and r.endswith("::INSTR") for r in res.values())


def test_lockin_in_rs232_mode_and_dmm_measure_the_contact(on_ptys):
    lab, res = on_ptys
    lab.contact.place(40.0, 20.0)
    lockin = driver("SR830", res["sr830"], "lockin", interface="rs232")
    dmm = driver("Keithley2000", res["keithley2000"], "dmm")
    try:
        assert lab.emulators["sr830"].values["OUTX"] == 0  # replies to the RS-232 port
        lockin.sine_voltage = 0.1
        lockin.set_aux_voltage(1, 0.5)
        assert lockin.aux_voltage(1) == 0.5  # a query: the writes are handled before the jump
        lab.clock.sleep(lockin.settle_time(accuracy=1e-4))
        x, y = lockin.read_xy()
        assert 0 < x / lockin.ac_current() < 40.0 and math.isfinite(y)  # the contact's dV/dI
        t0 = lab.clock.now()
        v = dmm.read_voltage()
        # it integrated, and ":READ?" and a 14-character reading crossed a 9600 8N1 line
        line_s = (len(":READ?\n") + len("+1.2345670E-02\n")) * 10 / 9600
        assert lab.clock.now() - t0 == pytest.approx(dmm.nplc / 50.0 + line_s)
        assert 0 < v < 0.5 * 40.0 / 1e3  # I = 0.5 V / 1 kOhm through < 40 Ohm
    finally:
        lockin.set_aux_voltage(1, 0.0)
        lockin.adapter.close()
        dmm.adapter.close()


def test_temperature_controllers_and_magnet_supply(on_ptys):
    lab, res = on_ptys
    lab.magnet.quenched = False
    ls = driver("LakeShore372", res["ls372"], "thermometer")
    ips = driver("MercuryIPS", res["mercury"], "magnet")
    try:
        assert 0.3 < ls.read_temperature() < 400
        ls.set_setpoint(4.0)
        assert ls.get_setpoint() == pytest.approx(4.0)
        ips.ramp_to(0.2)
        lab.clock.sleep(120)
        assert ips.is_holding() and ips.read_field() == pytest.approx(0.2)
        with pytest.raises(LimitError, match="raw RFST"):  # the driver's guard, not the box
            ips.set_signal("RFST", 5.0)
    finally:
        ls.adapter.close()
        ips.adapter.close()


def test_a_dropped_message_times_out_and_the_line_answers_again(on_ptys):
    lab, res = on_ptys
    ls = driver("LakeShore336", res["ls336"], "thermometer")
    ls.adapter.connection.timeout = 300  # ms
    try:
        lab.inject("drop", "ls336", count=1)
        with pytest.raises(Exception, match="(?i)timeout|timed out"):
            ls.read_temperature()
        assert 0.3 < ls.read_temperature() < 400
    finally:
        ls.adapter.close()


def test_closing_releases_the_terminals():
    lab = SimLab(clock=VirtualClock())
    server = lab.serve_serial(["ls372"])
    before = threading.active_count()
    server.close()
    assert threading.active_count() == before - 1
    with pytest.raises(ValueError, match="no emulator nope"):
        lab.serve_serial(["nope"])


@pytest.mark.parametrize(("framing", "bits"), [
    ({"baud_rate": 9600, "data_bits": 8}, 10),  # 8N1
    ({"baud_rate": 19200, "data_bits": 8, "stop_bits": 20}, 11),  # 8N2 (pyvisa: 20 = two)
    ({"baud_rate": 57600, "data_bits": 8}, 10),  # the Lake Shores' speed
])
def test_a_query_takes_its_bytes_time_on_the_line(on_ptys, framing, bits):
    import pyvisa

    lab, res = on_ptys
    rm = pyvisa.ResourceManager("@py")
    inst = rm.open_resource(res["sr830"], read_termination="\r", write_termination="\n",
                            timeout=2000, **framing)
    try:
        inst.query("*IDN?")  # the port is set up
        t0 = lab.clock.now()
        reply = inst.query("SNAP? 1,2")
        n_bytes = len("SNAP? 1,2\n") + len(reply) + 1
        assert lab.clock.now() - t0 == pytest.approx(n_bytes * bits / framing["baud_rate"])
    finally:
        inst.close()
        rm.close()


def test_a_lockin_set_to_answer_on_gpib_is_silent_on_its_serial_port(on_ptys):
    """OUTX chooses the SR830's reply port: a station file saying interface "gpib" for a
    lock-in wired over RS-232 times out at once, as on the bench, instead of half working."""
    lab, res = on_ptys
    with pytest.raises(Exception, match="(?i)timeout|timed out"):
        lockin = driver("SR830", res["sr830"], "lockin", timeout_ms=300, interface="gpib")
        lockin.adapter.close()
    assert lab.emulators["sr830"].values["OUTX"] == 1  # the command itself was executed
    ok = driver("SR830", res["sr830"], "lockin", interface="rs232")  # sends OUTX 0 first
    try:
        assert ok.sine_voltage > 0
    finally:
        ok.adapter.close()


def test_closing_puts_the_emulators_back_on_gpib():
    lab = SimLab(clock=VirtualClock())
    with lab.serve_serial(["sr830"]):
        assert lab.emulators["sr830"].interface == "rs232"
    assert lab.emulators["sr830"].interface == "gpib"
