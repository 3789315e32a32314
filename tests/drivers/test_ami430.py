import pytest
from pymeasure.test import expected_protocol

from pcsdaq.drivers.ami430 import AMI430
from pcsdaq.errors import ConfigError, InstrumentError, LimitError, QuenchError

CONNECT = [(None, "American Magnetics Model 430 IP Interface"), (None, "Hello."),
           ("CONF:FIELD:UNITS 1", None), ("CONF:RAMP:RATE:UNITS 1", None)]


def test_greeting_discarded_and_field():
    with expected_protocol(AMI430, CONNECT + [("FIELD:MAG?", "1.2345")]) as m:
        assert m.read_field() == pytest.approx(1.2345)


def test_ramp_programs_segments():
    with expected_protocol(AMI430, CONNECT + [
        ("STATE?", "2"), ("FIELD:MAG?", "0.0"), ("CONF:RAMP:RATE:SEG 3", None),
        ("CONF:RAMP:RATE:FIELD 1,0.4,3", None), ("CONF:RAMP:RATE:FIELD 2,0.3,5", None),
        ("CONF:RAMP:RATE:FIELD 3,0.2,7", None), ("CONF:FIELD:TARG 2", None), ("RAMP", None),
    ]) as m:
        m.ramp_to(2.0, rate=0.4)


def test_refusals_send_nothing():
    with expected_protocol(AMI430, CONNECT, limits={"max_field_T": 5.0}) as m, \
            pytest.raises(LimitError):
        m.ramp_to(5.5)
    with expected_protocol(AMI430, CONNECT + [("STATE?", "2"), ("FIELD:MAG?", "2.0")]) as m, \
            pytest.raises(LimitError):
        m.ramp_to(4.0, rate=0.4)  # 3-4 T allows 0.3 T/min
    with expected_protocol(AMI430, CONNECT + [("STATE?", "7")]) as m, pytest.raises(QuenchError):
        m.ramp_to(1.0)
    with expected_protocol(AMI430, CONNECT + [("STATE?", "2"), ("PS?", "0")],
                           settings={"persistent_switch": True}) as m, \
            pytest.raises(InstrumentError):
        m.ramp_to(1.0)


def test_states_quench_errors():
    with expected_protocol(AMI430, CONNECT + [("STATE?", "10"), ("QU?", "1"), ("PAUSE", None),
                                              ("SYST:ERR?", "-101,Undefined header")]) as m:
        assert m.state() == "cooling_switch"
        assert m.is_quenched()
        m.hold()
        with pytest.raises(InstrumentError, match="Undefined"):
            m.check_errors()


def test_check_config_tables():
    with pytest.raises(ConfigError):
        AMI430.check_config({"ramp_table": [[3.0, 0.6], [7.0, 0.2]]}, None)
    with pytest.raises(ConfigError):
        AMI430.check_config({"ramp_table": [[5.0, 0.2], [3.0, 0.1]]}, None)
    with pytest.raises(ConfigError):
        AMI430.check_config({"ramp_table": [[3.0, 0.2]]}, None)
    with pytest.raises(LimitError):
        AMI430.check_config(None, {"max_field_T": 8.0})
    AMI430.check_config({"ramp_table": [[2.0, 0.5], [7.0, 0.1]]}, None)


def test_station_sim_entry_and_role():
    from pathlib import Path

    import yaml

    from pcsdaq.roles import Magnet
    entry = yaml.safe_load(Path("configs/station-sim.yaml").read_text())["roles"]["magnet"]
    AMI430.check_config(entry.get("settings"), entry.get("limits"))
    with expected_protocol(AMI430, CONNECT) as m:
        assert isinstance(m, Magnet)
        assert m.max_field == 7.0


def test_current_limit_from_coil_constant():
    with expected_protocol(AMI430, CONNECT + [("COIL?", "0.1"), ("CONF:CURR:LIMIT 50.0000", None)],
                           limits={"max_field_T": 5.0}) as m:
        assert m.apply_current_limit() == pytest.approx(50.0)


def test_switch_heater_and_quench_flag_from_the_command_table():
    with expected_protocol(AMI430, CONNECT + [("PS 1", None), ("PS?", "1"), ("PS 0", None),
                                              ("QU?", "0"), ("FIELD:MAG?", "-0.5")]) as m:
        m.set_switch_heater(True)
        assert m.switch_heater_on() is True
        m.switch_heater = False
        assert m.is_quenched() is False
        assert m.field == pytest.approx(-0.5)
        with pytest.raises(LimitError):
            m.switch_heater = "on"  # refused, nothing sent
