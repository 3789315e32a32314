"""Every emulator against its pcsdaq driver and against pymeasure's own client, over real TCP
sockets through pyvisa-py, as on the bench."""

import pytest

from pcsdaq.clock import VirtualClock
from pcsdaq.errors import InstrumentError, LimitError, QuenchError
from pcsdaq.sim.lab import SimLab
from pcsdaq.station import load_station_config, packaged_config

VISA = {"visa_library": "@py", "timeout": 2000}


@pytest.fixture(scope="module")
def served():
    lab = SimLab.from_station_file(str(packaged_config("station-sim.yaml")), clock=VirtualClock())
    server = lab.serve(ports={name: 0 for name in lab.emulators})
    yield lab, server.resources
    server.close()


def driver(name, resource, role):
    from pcsdaq import drivers  # a lazy name -> class table

    rc = load_station_config(packaged_config("station-sim.yaml")).roles.get(role)
    settings = dict(rc.settings) if rc is not None and rc.driver == name else None
    limits = dict(rc.safety) if rc is not None and rc.driver == name else None
    return getattr(drivers, name)(resource, settings=settings, limits=limits, **VISA)


def test_lakeshore372_over_tcp(served):
    lab, res = served
    ls = driver("LakeShore372", res["ls372"], "thermometer")
    try:
        assert 0.3 < ls.read_temperature() < 400
        assert ls.read_resistance() > 1000
        ls.set_heater_range(4)
        ls.set_setpoint(5.0)
        assert ls.get_setpoint() == pytest.approx(5.0)
        ls.set_pid(12, 30, 0)
        assert ls.get_pid() == (12.0, 30.0, 0.0)
        lab.clock.sleep(600)
        assert ls.read_temperature() == pytest.approx(5.0, rel=1e-3)
        assert ls.is_settled() and ls.reading_valid()
        assert ls.heater_output() > 0 and ls.heater_status() == "ok"
        lab.inject("thermometer_invalid")
        assert not ls.reading_valid()
        lab.inject("heater_open")
        assert ls.heater_status() == "open"
        lab.clear_faults()
        ls.safe_state()
        assert lab.cryostat.heater_range == 0
    finally:
        ls.adapter.close()


def test_lakeshore336_over_tcp(served):
    _lab, res = served
    ls = driver("LakeShore336", res["ls336"], "thermometer")
    try:
        ls.set_setpoint(4.0)
        assert ls.get_setpoint() == pytest.approx(4.0)
        assert ls.read_temperature() > 0
    finally:
        ls.adapter.close()


def test_ami430_over_tcp_ramps_by_its_table_and_quenches(served):
    lab, res = served
    magnet = driver("AMI430", res["ami430"], "magnet")
    try:
        magnet.ramp_to(1.0)
        assert magnet.state() == "ramping"
        lab.clock.sleep(60 * 1.0 / 0.5 + 1)  # the table's 0.5 T/min below 3 T
        assert magnet.is_holding() and magnet.read_field() == pytest.approx(1.0)
        with pytest.raises(LimitError):
            magnet.ramp_to(7.5)
        lab.inject("quench")
        assert magnet.is_quenched()
        with pytest.raises(QuenchError):
            magnet.ramp_to(0.5)
        magnet.clear_quench()
        assert not magnet.is_quenched()
    finally:
        magnet.adapter.close()


def test_mercury_over_tcp(served):
    lab, res = served
    lab.magnet.quenched = False
    ips = driver("MercuryIPS", res["mercury"], "magnet")
    try:
        ips.ramp_to(0.4)
        assert ips.action() == "RTOS"
        lab.clock.sleep(120)
        assert ips.is_holding() and ips.read_field() == pytest.approx(0.4)
        ips.hold()
        assert ips.state() == "holding"
        with pytest.raises(InstrumentError, match="NOT_FOUND"):
            ips.read_signal("NOPE")
        with pytest.raises(LimitError, match="raw RFST"):  # the driver's guard, not the box
            ips.set_signal("RFST", 5.0)
    finally:
        ips.adapter.close()


def test_lockin_dmm_and_piezo_over_tcp(served):
    lab, res = served
    li = driver("SR830", res["sr830"], "lockin")
    dmm = driver("Keithley2000", res["keithley2000"], "dmm")
    anc = driver("ANC300", res["anc300"], "positioner")
    try:
        li.sine_voltage = 0.1
        # a write returns before the server thread handles it: a query orders them before
        # the virtual clock jumps (on hardware, real time passes anyway)
        assert float(li.ask("SLVL?")) == pytest.approx(0.1)
        lab.clock.sleep(li.settle_time(accuracy=1e-4))
        x, _ = li.read_xy()
        assert x == pytest.approx(0.1, rel=0.05)  # open contact: the whole sine amplitude
        anc.set_voltage(30.0)
        for _ in range(100):
            anc.step(50)
            if lab.contact.touching:
                break
        assert lab.contact.touching
        lab.clock.sleep(li.settle_time(accuracy=1e-4))
        x, _ = li.read_xy()
        assert x / li.ac_current() < 1000  # a contact, no longer the 1 MOhm of an open circuit
        li.set_aux_voltage(1, 0.01)
        assert li.aux_voltage(1) == pytest.approx(0.01)  # handled before the DMM reads
        assert dmm.read_voltage() == pytest.approx(1e-5 * lab.contact.normal_resistance_ohm(),
                                                   rel=0.3)
        assert dmm.check_errors() == []
        anc.ground()
    finally:
        for inst in (li, dmm, anc):
            inst.adapter.close()


def test_pymeasure_ami430_client(served):
    from pymeasure.instruments.ami import AMI430

    _lab, res = served
    # pymeasure's AMI430 reads (and drops) the two greeting lines in its constructor
    ami = AMI430(res["ami430"], visa_library="@py", read_termination="\r\n",
                 write_termination="\r\n", timeout=2000)
    try:
        assert ami.field == pytest.approx(_lab.magnet.field(), abs=1e-6)
        assert ami.coilconst == pytest.approx(_lab.magnet.coil)
        assert isinstance(ami.magnet_status, str) and ami.magnet_status
    finally:
        ami.adapter.close()


def test_pymeasure_sr830_and_keithley2000_clients(served):
    from pymeasure.instruments.keithley import Keithley2000
    from pymeasure.instruments.srs import SR830

    lab, res = served
    li = SR830(res["sr830"], visa_library="@py", read_termination="\n", write_termination="\n",
               timeout=2000)
    dmm = Keithley2000(res["keithley2000"], visa_library="@py", read_termination="\n",
                       write_termination="\n", timeout=2000)
    try:
        li.sine_voltage = 0.2
        assert li.sine_voltage == pytest.approx(0.2)
        lab.clock.sleep(30)
        assert li.x == pytest.approx(li.sine_voltage * lab.contact.dvdi_ohm(0.0) /
                                     (1e6 + lab.contact.dvdi_ohm(0.0)), rel=0.05, abs=1e-6)
        assert isinstance(li.y, float)
        dmm.write(":INIT:CONT OFF")
        assert isinstance(dmm.voltage, float)
    finally:
        li.adapter.close()
        dmm.adapter.close()


def test_pymeasure_anc300_controller(served):
    from pymeasure.instruments.attocube import ANC300Controller

    lab, res = served
    anc = ANC300Controller(res["anc300"], axisnames=["a", "b", "z"], passwd="123456",
                           visa_library="@py", timeout=2000)
    try:
        anc.z.mode = "stp"
        anc.z.voltage = 20
        assert anc.z.voltage == pytest.approx(20.0)
        before = lab.contact.position_m
        anc.z.move_raw(10)
        assert lab.contact.position_m > before
    finally:
        anc.adapter.close()


def test_ami430_persistent_switch_heating_blocks_ramps():
    from pcsdaq.drivers.ami430 import AMI430

    lab = SimLab.from_station_file(str(packaged_config("station-sim.yaml")), clock=VirtualClock())
    rc = load_station_config(packaged_config("station-sim.yaml")).roles["magnet"]
    magnet = AMI430(lab.adapter("ami430"), settings={**rc.settings, "persistent_switch": True},
                    limits=dict(rc.safety))
    with pytest.raises(InstrumentError, match="heater is off"):
        magnet.ramp_to(0.5)
    magnet.set_switch_heater(True)
    assert magnet.state() == "heating_switch"
    with pytest.raises(InstrumentError, match="persistent switch heating"):
        magnet.ramp_to(0.5)
    lab.clock.sleep(lab.emulators["ami430"].heat_time_s + 1)
    magnet.ramp_to(0.5)
    assert magnet.state() == "ramping"


def _socket_drivers() -> list[tuple[str, str, str]]:
    """(driver, emulator, role) for every registered driver with an emulator."""
    from pcsdaq.drivers import registry

    return [(e.name, e.emulator, e.roles[0]) for e in registry.entries().values()
            if e.emulator is not None]


@pytest.mark.parametrize(("name", "emulator", "role"), _socket_drivers())
def test_socket_links_send_at_once(served, name, emulator, role):
    """Nagle off (VISA's default for sockets, which pyvisa-py does not apply): a command
    written after one that got no reply goes out at once, not after the delayed ACK."""
    import socket

    _lab, res = served
    inst = driver(name, res[emulator], role)
    try:
        conn = inst.adapter.connection
        sock = conn.visalib.sessions[conn.session].interface
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        inst.adapter.close()
