"""QCoDeS' drivers for the Lake Shore 372/336, Mercury iPS and AMI 430 through an ordinary
session over TCP, when QCoDeS is installed (it is not a pcsdaq dependency: skipped
otherwise). Where QCoDeS departs from the manuals the emulators follow the manuals: its
Lake Shore base sends the 335's five-field HTRSET (the 336/372 take four, so those group
parameters do not parse), and it asks HTRSET? for the 372's still output, which has no
heater setup (unanswered, as on the bridge)."""

import pytest

from pcsdaq.clock import ScaledClock
from pcsdaq.sim.lab import SimLab

qcodes = pytest.importorskip("qcodes")


@pytest.fixture(scope="module")
def served():
    lab = SimLab(clock=ScaledClock(50.0))
    names = ["ls372", "ls336", "mercury", "ami430"]
    with lab.serve(ports={n: 0 for n in names}, emulators=names) as server:
        yield lab, server.resources


def test_qcodes_lakeshore_372_and_336(served):
    from qcodes.instrument_drivers.Lakeshore import LakeshoreModel336, LakeshoreModel372

    _, res = served
    ls = LakeshoreModel372("sim_ls372", res["ls372"], timeout=2)
    try:
        assert ls.IDN()["model"] == "372"
        ch = ls.ch01
        assert ch.temperature() > 0 and ch.sensor_status() == "OK" and ch.enabled()
        assert ls.ch09.temperature() == 0.0  # nothing connected on 9
        heater = ls.sample_heater
        heater.setpoint(4.0)
        heater.output_range("1mA")
        heater.P(10)
        assert heater.setpoint() == 4.0 and heater.output_range() == "1mA" and heater.P() == 10
        assert heater.mode() == "closed_loop" and heater.input_channel() == 1
        assert ls.warmup_heater.output_range() == "off"
    finally:
        ls.close()
    ls = LakeshoreModel336("sim_ls336", res["ls336"], timeout=2)
    try:
        assert ls.A.temperature() > 0 and ls.D.sensor_type() == "disabled"
        ls.output_1.setpoint(5.0)
        ls.output_2.output_range("low")
        assert ls.output_1.setpoint() == 5.0 and ls.output_1.output_range() == "off"
        assert ls.output_2.output_range() == "low"
        assert ls.A.curve_name().strip() == "RX-102B-CB"
    finally:
        ls.close()


def test_qcodes_mercury_ips(served):
    import time

    from qcodes.instrument_drivers.oxford import OxfordMercuryiPS

    _, res = served
    ips = OxfordMercuryiPS("sim_ips", res["mercury"], timeout=2)
    try:
        assert ips.IDN()["firmware"].startswith("2.5")  # so it speaks PSU
        ips.GRPZ.field_ramp_rate(0.005)  # T/s
        ips.z_target(0.01)
        ips.ramp("simul")
        time.sleep(1.0)
        assert ips.GRPZ.ramp_status() == "HOLD"  # reached the target
        assert ips.GRPZ.field() == pytest.approx(0.01)
        assert ips.magnet_temp() == pytest.approx(4.2)
    finally:
        ips.close()


def test_qcodes_ami430(served):
    from qcodes.instrument_drivers.american_magnetics import AMIModel430

    lab, res = served
    lab.magnet.quenched = False
    ami = AMIModel430("sim_ami", res["ami430"], timeout=2)  # reads the greeting
    try:
        ami.switch_heater.enabled(False)
        ami.ramp_rate_units("seconds")
        ami.field_units("tesla")
        ami.ramp_rate(0.005)
        ami.set_field(0.02, block=True)
        assert ami.field() == pytest.approx(0.02) and ami.ramping_state() == "holding"
        assert ami.ask("SYST:ERR?") == '0,"No error"'
    finally:
        ami.close()
