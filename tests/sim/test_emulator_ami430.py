"""AMI 430 emulator: SCPI long/short forms, units, segments, persistent switch, quench,
the error queue; pymeasure's AMI430 client over TCP."""


import pytest
from served_lab import new_lab, served


@pytest.fixture
def lab():
    return new_lab()


@pytest.fixture
def ami(lab):
    return lab.emulators["ami430"]


def test_long_short_and_mixed_case_forms_are_one_command(ami):
    for query in ("PS:HTIME?", "PSwitch:HeatTIME?", "pswitch:htime?", ":PS:HeatTime?"):
        assert ami.handle(query) == "20"
    ami.handle("CONFigure:PSwitch:CoolTIME 90")
    assert ami.handle("PS:CTIME?") == "90"
    assert ami.handle("PSwitch:INSTalled?;PS:INST?;PERS?;PERSistent?") == "1;1;0;0"
    assert ami.handle("PSwitch:CURRent?;PS:CURR?") == "20.0;20.0"
    assert ami.handle("RAMP:RATE:UNITS?;FIELD:UNITS?") == "1;1"
    assert ami.handle("CURR:SUPP?;CURRent:SUPPly?;VOLT:SUPP?") == "0.00000000;0.00000000;0.000000"


def test_units_apply_to_every_value(ami, lab):
    ami.handle("CONF:FIELD:TARG 2.0")
    ami.handle("CONF:FIELD:UNITS 0")  # kilogauss
    assert float(ami.handle("FIELD:TARG?")) == pytest.approx(20.0)
    assert float(ami.handle("COIL?")) == pytest.approx(1.0)  # 0.1 T/A = 1 kG/A
    ami.handle("CONF:RAMP:RATE:UNITS 0")  # per second
    ami.handle("CONF:RAMP:RATE:FIELD 1,0.05,70")  # 0.05 kG/s = 0.3 T/min
    ami.handle("CONF:FIELD:UNITS 1;CONF:RAMP:RATE:UNITS 1")
    assert ami.handle("RAMP:RATE:FIELD:1?") == "0.3000,7.0000"
    assert ami.handle("RAMP:RATE:CURR:1?") == "3.0000,70.0000"


def test_segments_and_ramp(ami, lab):
    ami.handle("CONF:RAMP:RATE:SEG 2;CONF:RAMP:RATE:FIELD 1,0.5,1;CONF:RAMP:RATE:FIELD 2,0.1,7")
    assert ami.handle("RAMP:RATE:SEG?;RAMP:RATE:FIELD:2?") == "2;0.1000,7.0000"
    ami.handle("CONF:RAMP:RATE:FIELD 2,0.1,-1")  # a negative bound is refused
    assert ami.handle("SYST:ERR?").startswith("-105")
    ami.handle("CONF:FIELD:TARG 0.5;RAMP")
    assert ami.handle("STATE?") == "1"
    lab.clock.sleep(61)
    assert ami.handle("STATE?;FIELD:MAG?") == "2;0.50000000"
    assert float(ami.handle("CURR:TARG?")) == pytest.approx(5.0)
    ami.handle("ZERO")
    assert ami.handle("STATE?") == "6"
    lab.clock.sleep(61)
    assert ami.handle("STATE?;FIELD:MAG?") == "8;0.00000000"  # at zero current
    ami.handle("INCR")
    lab.clock.sleep(60)
    # towards +80 A x 0.1 T/A at the slowest segment on the way, 0.1 T/min
    assert ami.handle("STATE?") == "4" and float(ami.handle("FIELD:MAG?")) == pytest.approx(0.1)
    ami.handle("PAUSE;DECR")
    assert ami.handle("STATE?;FIELD:TARG?") == "5;0.50000000"  # the target is kept
    ami.handle("PAUSE")
    assert ami.handle("STATE?") == "3"


def test_error_queue_per_manual(ami):
    ami.handle("FOO:BAR 1")
    ami.handle("CONF:RAMP:RATE:CURR 1,0.5")  # pymeasure's form: the upper bound is missing
    ami.handle("CONF:FIELD:TARG abc")
    ami.handle("CONF:PS:HTIME 500")
    ami.handle("RAMP:RATE:FIELD:9?")
    assert [ami.handle("SYST:ERR?").split(",")[0] for _ in range(6)] == \
        ["-101", "-104", "-102", "-105", "-105", "0"]
    for _ in range(20):
        ami.handle("NOPE")
    assert sum(1 for _ in iter(lambda: ami.handle("SYST:ERR?"), '0,"No error"')) == 10
    ami.handle("NOPE;*CLS")
    assert ami.handle("SYST:ERR?") == '0,"No error"'


def test_switch_quench_and_count(ami, lab):
    ami.handle("PS 1")
    assert ami.handle("STATE?") == "9"
    ami.handle("CONF:FIELD:TARG 0.2;RAMP")
    assert ami.handle("SYST:ERR?").startswith("-200")
    lab.clock.sleep(21)
    ami.handle("RAMP")
    lab.clock.sleep(200)
    ami.handle("PS 0")
    lab.clock.sleep(61)
    assert ami.handle("PERS?") == "1"
    lab.inject("quench")
    assert ami.handle("STATE?;QU?;QU:COUNT?") == "7;1;1"
    ami.handle("QU 0")
    assert ami.handle("QU?;QU:COUNT?") == "0;1"
    ami.handle("CONF:PS 0;PS 1")
    assert ami.handle("SYST:ERR?").startswith("-200")


@pytest.mark.parametrize("transport", ["tcp"])
def test_pymeasure_ami430_session(lab, transport):
    """pymeasure's AMI430 (its own greeting handling, LF read termination) reads every
    property and writes back every settable one. TCP only: the client reads the IP
    interface's two greeting lines at connect, which an RS-232 line never sends."""
    from pymeasure.instruments.ami import AMI430

    with served(lab, "ami430", transport) as resource:
        magnet = AMI430(resource, visa_library="@py", timeout=2000,
                        write_termination="\r\n")
        try:
            assert "MODEL 430" in magnet.id
            magnet.coilconst = 0.2
            assert magnet.coilconst == pytest.approx(0.2)
            magnet.voltage_limit = 2.5
            assert magnet.voltage_limit == pytest.approx(2.5)
            magnet.target_current = 5.0
            assert magnet.target_current == pytest.approx(5.0)
            magnet.target_field = 0.5
            assert magnet.target_field == pytest.approx(0.5)
            magnet.ramp_rate_field = 0.05
            assert magnet.ramp_rate_field == pytest.approx([0.05, 1.0])
            # pymeasure's ramp_rate_current sends "CONF:RAMP:RATE:CURR 1,<rate>" without the
            # segment's upper bound, which the manual requires: the 430 refuses it (-104)
            magnet.ramp_rate_current = 0.1
            assert magnet.ask("SYST:ERR?").strip().startswith("-104")
            assert magnet.ramp_rate_current == pytest.approx([0.25, 5.0])  # 0.05 T/min / 0.2
            assert magnet.magnet_current == pytest.approx(0.0)
            assert magnet.supply_current == pytest.approx(0.0)
            assert magnet.field == pytest.approx(0.0)
            magnet.enable_persistent_switch()
            assert magnet.magnet_status == "Heating Persistent Switch"
            # pymeasure's has_persistent_switch_enabled is bool(reply): True for "0" too
            magnet.disable_persistent_switch()
            assert magnet.ask("PSwitch?").strip() == "0"
            assert magnet.has_persistent_switch_enabled() is True  # the client's slip
            lab.clock.sleep(61)
            magnet.ramp()
            assert magnet.state == 1
            magnet.pause()
            assert magnet.magnet_status == "PAUSED"
            magnet.zero()
            assert magnet.state == 6
            assert magnet.next_error[0] == 0
        finally:
            magnet.adapter.close()
