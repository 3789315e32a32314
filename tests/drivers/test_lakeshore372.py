import pytest
from pymeasure.test import expected_protocol

from pcsdaq.drivers.lakeshore372 import LakeShore372, decode_reading_status
from pcsdaq.errors import ConfigError, LimitError, LinkFault

S = {"command_delay_s": 0.0}


def test_temperature_resistance_status():
    with expected_protocol(LakeShore372, [("RDGK? A", "1.234E+00"), ("RDGR? A", "2.5E+03"),
                                          ("RDGST? A", "0"), ("RDGST? A", "32")],
                           settings=S) as inst:
        assert inst.read_temperature() == pytest.approx(1.234)
        assert inst.read_resistance() == pytest.approx(2500.0)
        assert inst.reading_valid()
        assert not inst.reading_valid()


def test_decode_status():
    assert decode_reading_status(1 | 128) == {"cs_overload", "t_under"}


def test_settled_channel():
    with expected_protocol(LakeShore372, [("RDGSTL?", "1,0")], settings={**S, "channel": 3}) as i:
        assert not i.is_settled()


def test_setpoint_readback_catches_silent_ignore():
    with expected_protocol(LakeShore372, [("SETP 0,0.5", None), ("SETP? 0", "+0.500")],
                           settings=S) as inst:
        inst.set_setpoint(0.5)
    with expected_protocol(LakeShore372, [("SETP 0,0.5", None), ("SETP? 0", "+1.000")],
                           settings=S) as inst, pytest.raises(LinkFault):
        inst.set_setpoint(0.5)


def test_range_readback_and_safe_state():
    with expected_protocol(LakeShore372, [("RANGE 0,3", None), ("RANGE? 0", "0")],
                           settings=S) as inst, pytest.raises(LinkFault):
        inst.set_heater_range(3)
    with expected_protocol(LakeShore372, [("RAMP 0,0,0", None), ("RANGE 0,0", None),
                                          ("RANGE? 0", "0")], settings=S) as inst:
        inst.safe_state()


def test_limits_send_nothing():
    with expected_protocol(LakeShore372, [], settings=S, limits={"max_heater_range": 4,
                                                                  "max_temperature_K": 10}) as i:
        with pytest.raises(LimitError):
            i.set_heater_range(5)
        with pytest.raises(LimitError):
            i.set_setpoint(11.0)
        with pytest.raises(LimitError):
            i.set_ramp(200.0)


def test_check_config():
    with pytest.raises(ConfigError):
        LakeShore372.check_config({"channel": 17}, None)
    with pytest.raises(LimitError):
        LakeShore372.check_config(None, {"max_heater_range": 9})
    with pytest.raises(ConfigError):
        LakeShore372.check_config({"output": 5}, None)


def test_station_sim_entry_and_role():
    from pathlib import Path

    import yaml

    from pcsdaq.roles import Thermometer
    entry = yaml.safe_load(Path("configs/station-sim.yaml").read_text())["roles"]["thermometer"]
    LakeShore372.check_config(entry.get("settings"), entry.get("limits"))
    with expected_protocol(LakeShore372, [], settings=S) as t:
        assert isinstance(t, Thermometer)


def test_sample_heater_output_and_status():
    with expected_protocol(LakeShore372, [("HTR?", "+012.50"), ("HTRST?", "0"), ("HTRST?", "1"),
                                          ("HTRST?", "2")], settings=S) as inst:
        assert inst.heater_output() == pytest.approx(12.5)
        assert inst.heater_status() == "ok"
        assert inst.sample_heater_status == "open"
        assert inst.heater_status() == "short"
