import pytest
from pymeasure.test import expected_protocol

from pcsdaq.drivers.ips120 import IPS120, parse_status
from pcsdaq.errors import InstrumentError, LimitError, QuenchError

CONNECT = [("C3", "C"), ("$Q4", None)]


def test_status_string_decoded():
    st = parse_status("X10A4C3H1M11P03")
    assert st["system"] == 1 and st["activity"] == 4 and st["control"] == 3
    assert st["heater"] == 1 and st["sweep"] == 1
    with pytest.raises(InstrumentError):
        parse_status("?X")


def test_ramp_from_clamp_uses_the_table_rate():
    with expected_protocol(IPS120, [*CONNECT,
                                    ("X", "X00A4C3H1M10P03"),
                                    ("R7", "R+2.00000"),
                                    ("A0", "A"),
                                    ("T0.3000", "T"),
                                    ("J4.00000", "J"),
                                    ("A1", "A")]) as ips:
        ips.ramp_to(4.0)


def test_refusals_send_nothing_and_question_mark_raises():
    with expected_protocol(IPS120, CONNECT, limits={"max_field_T": 3.0}) as ips, \
            pytest.raises(LimitError):
        ips.ramp_to(3.5)
    with expected_protocol(IPS120, [*CONNECT, ("X", "X10A0C3H1M10P03")]) as ips, \
            pytest.raises(QuenchError):
        ips.ramp_to(1.0)
    with expected_protocol(IPS120, [*CONNECT, ("X", "X00A0C3H2M10P03")],
                           settings={"persistent_switch": True}) as ips, \
            pytest.raises(InstrumentError, match="heater is off"):
        ips.ramp_to(1.0)
    with expected_protocol(IPS120, [*CONNECT, ("H1", "?H1")]) as ips, \
            pytest.raises(InstrumentError, match="H1"):
        ips.set_switch_heater(True)


def test_readings_and_state():
    with expected_protocol(IPS120, [*CONNECT, ("R7", "R-1.23450"), ("R18", "R+0.50000"),
                                    ("X", "X00A1C3H1M11P03"), ("X", "X00A1C3H1M10P03"),
                                    ("X", "X00A2C3H1M11P03")]) as ips:
        assert ips.read_field() == pytest.approx(-1.2345)
        assert ips.persistent_field() == pytest.approx(0.5)
        assert ips.state() == "ramping"
        assert ips.is_holding()
        assert ips.state() == "zeroing"
