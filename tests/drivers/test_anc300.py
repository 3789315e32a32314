"""ANC300 driver: login through the junk bytes, OK/ERROR replies, stepping, limits."""

import pytest
from pymeasure.test import expected_protocol

from pcsdaq.drivers.anc300 import ANC300
from pcsdaq.errors import InstrumentError, LimitError

GREETING = "\xff\xfb\x01\xff\xfb\x03attocube ANC300\r\nAuthorization code: "
# the driver sends the password at once and then reads past the junk bytes and the prompt
LOGIN = [("123456", GREETING), (None, "123456\r\nAuthorization success"),
         ("echo off", "echo off\r\nOK")]


def test_login_and_values():
    with expected_protocol(ANC300, LOGIN + [("getv 3", "voltage = 30.000000 V\r\nOK"),
                                            ("getf 3", "frequency = 1000 Hz\r\nOK"),
                                            ("getc 3", "capacitance = 998.901733 nF\r\nOK"),
                                            ("getm 3", "mode = gnd\r\nOK")]) as anc:
        assert anc.get_voltage() == 30.0
        assert anc.get_frequency() == 1000.0
        assert anc.capacitance() == pytest.approx(998.901733e-9)
        assert anc.mode == "gnd"


def test_wrong_password_is_an_error():
    with pytest.raises(InstrumentError, match="password"):
        with expected_protocol(ANC300, [("000", GREETING),
                                        (None, "000\r\nAuthorization failed")],
                               settings={"password": "000"}):
            pass


def test_step_towards_the_sample_waits_for_completion():
    with expected_protocol(ANC300, LOGIN + [("setm 3 stp", "OK"), ("stepu 3 25", "OK"),
                                            ("stepw 3", "OK"), ("setm 3 stp", "OK"),
                                            ("stepd 3 5", "OK"), ("stepw 3", "OK"),
                                            ("setm 3 gnd", "OK")]) as anc:
        anc.step(25)
        anc.step(-5)
        anc.ground()
        assert anc.steps_total == 20


def test_reversed_approach_direction():
    with expected_protocol(ANC300, LOGIN + [("setm 2 stp", "OK"), ("stepd 2 4", "OK"),
                                            ("stepw 2", "OK")],
                           settings={"axis": 2, "approach": "down"}) as anc:
        anc.step(4)


def test_error_reply_raises_with_the_message():
    with expected_protocol(ANC300, LOGIN + [("setm 3 stp", "Axis not in stepping mode\r\nERROR")
                                            ]) as anc:
        with pytest.raises(InstrumentError, match="Axis not in stepping mode"):
            anc.mode = "stp"


def test_limits_send_nothing():
    with expected_protocol(ANC300, LOGIN, limits={"max_voltage_V": 40.0,
                                                  "max_steps_per_burst": 100}) as anc:
        with pytest.raises(LimitError):
            anc.set_voltage(60.0)
        with pytest.raises(LimitError):
            anc.step(101)
        with pytest.raises(LimitError):
            anc.set_frequency(20000.0)
    with pytest.raises(LimitError):
        ANC300.check_config(None, {"max_voltage_V": 200.0})
