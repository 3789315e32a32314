"""Keithley 6221 as a DC bias source: scripted exchanges and refusals that send nothing."""

import pytest
from pymeasure.test import expected_protocol

from pcsdaq.drivers.keithley6221 import Keithley6221
from pcsdaq.errors import ConfigError, LimitError
from pcsdaq.roles import BiasSource

CONNECT = [("SOUR:CURR:COMP 1", None), ("OUTP?", "0")]


def test_first_set_switches_the_output_on_once():
    with expected_protocol(Keithley6221, CONNECT + [
            ("SOUR:CURR 1.000000e-03", None), ("OUTP ON", None),
            ("SOUR:CURR -2.500000e-04", None), ("SOUR:CURR?", "-2.5E-04"),
            ("SOUR:CURR 0", None), ("SYST:ERR?", '0,"No error"')]) as src:
        assert isinstance(src, BiasSource)
        assert src.set_current(1e-3) == 1e-3
        src.set_current(-2.5e-4)
        assert src.get_current() == pytest.approx(-2.5e-4)
        src.zero()
        assert src.check_errors() == []


def test_confirm_set_reads_the_current_back():
    with expected_protocol(Keithley6221, CONNECT + [
            ("SOUR:CURR 1.000000e-03", None), ("OUTP ON", None), ("SOUR:CURR?", "1.0E-03")],
            settings={"confirm_set": True}) as src:
        assert src.set_current(1e-3) == pytest.approx(1e-3)


def test_limits_send_nothing():
    with expected_protocol(Keithley6221, CONNECT, limits={"max_current_A": 1e-3}) as src:
        with pytest.raises(LimitError):
            src.set_current(2e-3)
    with pytest.raises(LimitError):
        Keithley6221.check_config(None, {"max_current_A": 0.2})
    with pytest.raises(ConfigError):
        Keithley6221.check_config({"compliance_V": 200.0}, None)


def test_compliance_is_a_refusing_control():
    with expected_protocol(Keithley6221, CONNECT + [("SOUR:CURR:COMP 10", None),
                                                    ("SOUR:CURR:COMP?", "1.000000E+01")]) as src:
        src.compliance_voltage = 10
        assert src.compliance_voltage == pytest.approx(10.0)
        with pytest.raises(LimitError):
            src.compliance_voltage = 200  # refused, nothing sent
