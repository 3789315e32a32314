import pytest
from pymeasure.test import expected_protocol

from pcsdaq.drivers.mercury_ips import MercuryIPS, parse_value
from pcsdaq.errors import ConfigError, InstrumentError, LimitError, QuenchError

P = "DEV:GRPZ:PSU"
#: the connect-time firmware query of psu_node "auto": a pre-2.6 supply, PSU syntax
IDN = [("*IDN?", "IDN:OXFORD INSTRUMENTS:MERCURY IPS:123:2.5.09.000")]


def test_field_parse():
    assert parse_value("STAT:DEV:GRPZ:PSU:SIG:RFST:0.2000T/m") == (0.2, "T/m")
    reads = [(f"READ:{P}:SIG:FLD", f"STAT:{P}:SIG:FLD:1.2345T")]
    with expected_protocol(MercuryIPS, IDN + reads) as m:
        assert m.read_field() == pytest.approx(1.2345)


def test_ramp_from_clamp():
    with expected_protocol(MercuryIPS, IDN + [
        (f"READ:{P}:STAT", f"STAT:{P}:STAT:00000000"),
        (f"READ:{P}:SIG:FLD", f"STAT:{P}:SIG:FLD:2.0000T"),
        (f"SET:{P}:SIG:FSET:4.0000", f"STAT:SET:{P}:SIG:FSET:4.0000:VALID"),
        (f"SET:{P}:SIG:RFST:0.3000", f"STAT:SET:{P}:SIG:RFST:0.3000:VALID"),
        (f"READ:{P}:ACTN", f"STAT:{P}:ACTN:CLMP"),
        (f"SET:{P}:ACTN:HOLD", f"STAT:SET:{P}:ACTN:HOLD:VALID"),
        (f"SET:{P}:ACTN:RTOS", f"STAT:SET:{P}:ACTN:RTOS:VALID"),
    ]) as m:
        m.ramp_to(4.0)


def test_error_replies_name_command():
    with expected_protocol(MercuryIPS, IDN + [
        (f"SET:{P}:ACTN:HOLD", f"STAT:SET:{P}:ACTN:HOLD:DENIED"),
        (f"READ:{P}:SIG:FOO", f"STAT:{P}:SIG:FOO:INVALID"),
    ]) as m:
        with pytest.raises(InstrumentError, match="ACTN:HOLD"):
            m.hold()
        with pytest.raises(InstrumentError, match="FOO"):
            m.read_signal("FOO")


def test_refusals_send_nothing():
    with expected_protocol(MercuryIPS, IDN + [], limits={"max_field_T": 3.0}) as m, \
            pytest.raises(LimitError):
        m.ramp_to(-3.5)
    quench = [(f"READ:{P}:STAT", f"STAT:{P}:STAT:00000001")]
    with expected_protocol(MercuryIPS, IDN + quench) as m, \
            pytest.raises(QuenchError):
        m.ramp_to(1.0)
    reads = [(f"READ:{P}:STAT", f"STAT:{P}:STAT:00000000"),
             (f"READ:{P}:SIG:FLD", f"STAT:{P}:SIG:FLD:-1.0000T")]
    with expected_protocol(MercuryIPS, IDN + reads) as m, \
            pytest.raises(LimitError):
        m.ramp_to(6.0, rate=0.25)  # crosses 5-7 T: 0.2 T/min


def test_state_and_config():
    with expected_protocol(MercuryIPS, IDN + [(f"READ:{P}:ACTN", f"STAT:{P}:ACTN:RTOZ")]) as m:
        assert m.state() == "zeroing"
    with pytest.raises(ConfigError):
        MercuryIPS.check_config({"ramp_table": [[7.0, 0.3]]}, None)


def test_firmware_picks_the_psu_node():
    spsu = "DEV:GRPZ:SPSU"
    with expected_protocol(MercuryIPS, [
        ("*IDN?", "IDN:OXFORD INSTRUMENTS:MERCURY IPS:123:2.6.04.000"),
        (f"READ:{spsu}:SIG:FLD", f"STAT:{spsu}:SIG:FLD:0.5000T"),
    ]) as m:
        assert m.psu == spsu and m.read_field() == pytest.approx(0.5)
    with expected_protocol(MercuryIPS, [("READ:DEV:GRPX:PSU:ACTN", "STAT:DEV:GRPX:PSU:ACTN:HOLD")],
                           settings={"psu_node": "PSU", "axis": "X"}) as m:
        assert m.action() == "HOLD"
    with pytest.raises(ConfigError, match="psu_node"):
        MercuryIPS.check_config({"psu_node": "PSX"}, None)
