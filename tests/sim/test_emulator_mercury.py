"""Mercury iPS emulator: the syntax of the firmware it reports (PSU before 2.6, SPSU from
2.6), one or three groups, and pcsdaq's driver picking the syntax from *IDN? over TCP."""

import pytest

from pcsdaq.clock import VirtualClock
from pcsdaq.sim.lab import SimLab


def mercury(**cfg):
    lab = SimLab(cfg, clock=VirtualClock())
    return lab, lab.emulators["mercury"]


def test_default_firmware_speaks_psu():
    _, ips = mercury()
    fw = ips.handle("*IDN?").rsplit(":", 1)[-1]
    assert fw.startswith("2.5") and ips.handle("READ:SYS:VRSN") == f"STAT:SYS:VRSN:{fw}"
    assert ips.handle("READ:DEV:GRPZ:PSU:SIG:FLD") == "STAT:DEV:GRPZ:PSU:SIG:FLD:0.0000T"
    assert ips.handle("READ:DEV:GRPZ:SPSU:SIG:FLD").endswith(":NOT_FOUND")


def test_firmware_26_speaks_spsu_only():
    lab, ips = mercury(mercury_firmware="2.6.04.000")
    assert ips.handle("*IDN?").endswith(":2.6.04.000")
    assert ips.handle("READ:DEV:GRPZ:PSU:SIG:FLD").endswith(":NOT_FOUND")
    assert ips.handle("SET:DEV:GRPZ:PSU:SIG:FSET:1.0").endswith(":NOT_FOUND")
    assert ips.handle("SET:DEV:GRPZ:SPSU:SIG:FSET:0.2") == \
        "STAT:SET:DEV:GRPZ:SPSU:SIG:FSET:0.2:VALID"
    assert ips.handle("SET:DEV:GRPZ:SPSU:ACTN:RTOS").endswith(":VALID")
    lab.clock.sleep(200)
    assert ips.handle("READ:DEV:GRPZ:SPSU:SIG:FLD") == "STAT:DEV:GRPZ:SPSU:SIG:FLD:0.2000T"
    assert ips.handle("READ:SYS:CAT") == \
        "STAT:SYS:CAT:DEV:GRPX:SPSU:DEV:GRPY:SPSU:DEV:GRPZ:SPSU"
    assert ips.handle("READ:DEV:GRPZ:SPSU:ACTN").endswith(":HOLD")  # at the set point


def test_groups_by_configuration():
    _, solenoid = mercury(mercury_axes="Z")
    assert solenoid.handle("READ:DEV:GRPX:PSU:SIG:FLD").endswith(":NOT_FOUND")
    lab, vector = mercury(mercury_axes="XYZ")
    assert vector.handle("READ:SYS:CAT") == \
        "STAT:SYS:CAT:DEV:GRPX:PSU:DEV:GRPY:PSU:DEV:GRPZ:PSU"
    vector.handle("SET:DEV:GRPX:PSU:SIG:FSET:0.1")
    vector.handle("SET:DEV:GRPX:PSU:ACTN:RTOS")
    lab.clock.sleep(120)
    assert vector.handle("READ:DEV:GRPX:PSU:SIG:FLD").endswith(":0.1000T")
    assert vector.handle("READ:DEV:GRPZ:PSU:SIG:FLD").endswith(":0.0000T")  # its own magnet
    assert vector.handle("READ:DEV:GRPY:PSU:ACTN") == "STAT:DEV:GRPY:PSU:ACTN:HOLD"


def test_bad_input_answers_every_line():
    _, ips = mercury()
    assert ips.handle("READ:DEV:MB1.T1:TEMP:SIG:TEMP?") == "STAT:DEV:MB1.T1:TEMP:SIG:TEMP:4.2000K"
    assert ips.handle("SET:DEV:GRPZ:PSU:SIG:FSET:abc").endswith(":INVALID")
    assert ips.handle("SET:DEV:GRPZ:PSU:SIG:FSET:9").endswith(":INVALID")
    assert ips.handle("SET:DEV:GRPZ:PSU:ACTN:JUMP").endswith(":INVALID")
    assert ips.handle("read:dev:grpz:psu:sig:fld") == "STAT:read:dev:grpz:psu:sig:fld:INVALID"
    assert ips.handle("READ:DEV:GRPZ:PSU:SIG:NOPE").endswith(":NOT_FOUND")
    assert ips.handle("READ:") == "STAT::NOT_FOUND"
    assert ips.handle("SET:") == "STAT:SET::NOT_FOUND"
    ips.handle("SET:DEV:GRPZ:PSU:ACTN:CLMP")
    assert ips.handle("SET:DEV:GRPZ:PSU:ACTN:RTOS").endswith(":DENIED")
    assert ips.handle("READ:DEV:GRPZ:PSU:ATOB") == "STAT:DEV:GRPZ:PSU:ATOB:10.0000A/T"
    ips.handle("SET:DEV:GRPZ:PSU:SIG:CSET:5")
    assert ips.handle("READ:DEV:GRPZ:PSU:SIG:FSET").endswith(":0.5000T")


@pytest.mark.parametrize("firmware", ["2.5.09.000", "2.6.04.000"])
def test_pcsdaq_driver_follows_the_firmware_over_tcp(firmware):
    from pcsdaq.drivers import MercuryIPS

    lab, _ = mercury(mercury_firmware=firmware)
    with lab.serve(ports={"mercury": 0}, emulators=["mercury"]) as server:
        ips = MercuryIPS(server.resources["mercury"], visa_library="@py", timeout=2000)
        try:
            assert ips.psu.endswith("SPSU" if firmware.startswith("2.6") else ":PSU")
            ips.ramp_to(0.3)
            lab.clock.sleep(100)
            assert ips.is_holding() and ips.read_field() == pytest.approx(0.3)
        finally:
            ips.adapter.close()
