import pytest
from pymeasure.test import expected_protocol

from pcsdaq.drivers.lakeshore336 import LakeShore336
from pcsdaq.errors import ConfigError, LimitError, LinkFault

S = {"command_delay_s": 0.0}


def test_readings_and_settled():
    with expected_protocol(LakeShore336, [("KRDG? B", "+4.2000"), ("SRDG? B", "+1500.0"),
                                          ("RDGST? B", "000"), ("RAMPST? 1", "1"),
                                          ("RDGST? B", "032")],
                           settings={**S, "input": "B"}) as t:
        assert t.read_temperature() == pytest.approx(4.2)
        assert t.read_resistance() == pytest.approx(1500.0)
        assert not t.is_settled()  # ramping
        assert not t.reading_valid()


def test_range_336_and_340_forms():
    with expected_protocol(LakeShore336, [("RANGE 1,2", None), ("RANGE? 1", "2")],
                           settings=S) as t:
        t.set_heater_range(2)
    with expected_protocol(LakeShore336, [("RANGE 4", None), ("RANGE?", "4")],
                           settings={**S, "model": "340"}) as t:
        t.set_heater_range(4)
    with expected_protocol(LakeShore336, [("RANGE 1,2", None), ("RANGE? 1", "0")],
                           settings=S) as t, pytest.raises(LinkFault):
        t.set_heater_range(2)


def test_setpoint_readback():
    with expected_protocol(LakeShore336, [("SETP 1,10", None), ("SETP? 1", "+5.000")],
                           settings=S) as t, pytest.raises(LinkFault):
        t.set_setpoint(10.0)


def test_limits_send_nothing():
    with expected_protocol(LakeShore336, [], settings=S) as t:
        with pytest.raises(LimitError):
            t.set_heater_range(4)  # 336 output 1 stops at 3
        with pytest.raises(LimitError):
            t.set_setpoint(400.0)


def test_check_config():
    with pytest.raises(ConfigError):
        LakeShore336.check_config({"model": "336"}, {"max_heater_range": 5})
    LakeShore336.check_config({"model": "350"}, {"max_heater_range": 5})
    with pytest.raises(ConfigError):
        LakeShore336.check_config({"input": "E"}, None)
    with pytest.raises(ConfigError):
        LakeShore336.check_config({"model": "340", "output": 3}, None)


def test_control_loop_commands_on_the_configured_output():
    comm = [("PID 2,12,30,0", None), ("PID? 2", "+12.0,+30.0,+0.0"),
            ("RAMP 2,1,0.5", None), ("RAMPST? 2", "0"),
            ("SETP 2,4.2", None), ("SETP? 2", "+4.2000"),
            ("RAMP 2,0,0", None), ("RANGE 2,0", None), ("RANGE? 2", "0")]
    with expected_protocol(LakeShore336, comm, settings={**S, "output": 2}) as t:
        t.set_pid(12, 30, 0)
        assert t.get_pid() == (12.0, 30.0, 0.0)
        t.set_ramp(0.5)
        assert not t.is_ramping()
        t.set_setpoint(4.2)
        t.safe_state()  # ramp off, the safe heater range (0 by default)
