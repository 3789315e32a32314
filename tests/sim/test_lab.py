from pcsdaq.clock import VirtualClock
from pcsdaq.sim.lab import SimLab
from pcsdaq.sim.magnet import HOLDING, QUENCH


def test_cryostat_settles_to_setpoint():
    lab = SimLab(clock=VirtualClock(), seed=1)
    lab.cryostat.set_setpoint(10.0)
    lab.cryostat.set_range(3)
    lab.clock.sleep(1200)
    assert abs(lab.cryostat.temperature() - 10.0) < 0.01


def test_magnet_ramps_at_rate_then_holds_and_quench():
    lab = SimLab(clock=VirtualClock())
    lab.magnet.target = 1.0
    lab.magnet.ramp()
    lab.clock.sleep(60)
    assert abs(lab.magnet.field() - 0.1) < 1e-9
    lab.clock.sleep(600)
    assert lab.magnet.field() == 1.0 and lab.magnet.state == HOLDING
    lab.magnet.quench()
    assert lab.magnet.state == QUENCH and lab.magnet.field() == 0.0


def test_inprocess_adapter_round_trip():
    lab = SimLab(clock=VirtualClock())
    ad = lab.adapter("sr830")
    ad.write("*IDN?")
    assert "SR830" in ad.read()


def test_ls372_setpoint_settles_and_ignores_unknown():
    lab = SimLab(clock=VirtualClock())
    ad = lab.adapter("ls372")
    ad.write("SETP 0,4.2")
    ad.write("RANGE 0,5")
    ad.write("BOGUS 1")
    lab.clock.sleep(1200)
    ad.write("RDGK? 1")
    assert abs(float(ad.read()) - 4.2) < 0.01


def test_ami430_greeting_ramp_and_error_queue():
    lab = SimLab(clock=VirtualClock())
    ad = lab.adapter("ami430")
    assert "American Magnetics" in ad.read()
    ad.write("CONF:FIELD:TARG 0.5")
    ad.write("RAMP")
    ad.write("NONSENSE")
    lab.clock.sleep(600)
    ad.write("FIELD:MAG?")
    assert float(ad.read()) == 0.5
    ad.write("SYST:ERR?")
    assert ad.read().startswith("-101")


def test_inject_quench_and_thermometer_invalid():
    lab = SimLab(clock=VirtualClock())
    ami = lab.adapter_factory()("AMI430", "TCPIP::x::1::SOCKET")
    ami.read()
    lab.inject("quench")
    ami.write("STATE?")
    assert ami.read() == "7"
    lab.inject("thermometer_invalid")
    ls = lab.adapter("ls372")
    ls.write("RDGST? 1")
    assert ls.read() == "128"
    lab.clear_faults()
    ls.write("RDGST? 1")
    assert ls.read() == "000"
