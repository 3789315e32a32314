"""Keithley 2000 driver: connect sequence, fresh readings, overflow, error queue, settings."""

import math

import pytest
from pymeasure.test import expected_protocol

from pcsdaq.drivers.keithley2000 import Keithley2000
from pcsdaq.errors import ConfigError, LimitError, LinkFault

CONNECT = [(":INIT:CONT OFF;:SENS:FUNC 'VOLT:DC';:FORM:ELEM READ", None),
           (":SENS:VOLT:DC:NPLC 1", None), (":SENS:VOLT:DC:RANG:AUTO 1", None)]


def test_connect_then_fresh_readings():
    with expected_protocol(Keithley2000, CONNECT + [(":READ?", "+1.23456789E-03"),
                                                    (":READ?", "+9.9E37"),
                                                    (":READ?", "-9.9E37")]) as dmm:
        assert dmm.read_voltage() == pytest.approx(1.23456789e-3)
        assert dmm.read_voltage() == math.inf
        assert dmm.read_voltage() == -math.inf


def test_fixed_range_and_nplc_from_settings():
    comm = [CONNECT[0], (":SENS:VOLT:DC:NPLC 10", None), (":SENS:VOLT:DC:RANG 0.1", None)]
    with expected_protocol(Keithley2000, comm, settings={"nplc": 10.0, "range_V": 0.1}):
        pass


def test_error_queue_is_drained():
    with expected_protocol(Keithley2000, CONNECT + [
            (":SYST:ERR?", '-113,"Undefined header"'), (":SYST:ERR?", '-222,"Data out of range"'),
            (":SYST:ERR?", '0,"No error"')]) as dmm:
        assert dmm.check_errors() == [(-113, "Undefined header"), (-222, "Data out of range")]


def test_garbled_reading_and_bad_settings():
    with expected_protocol(Keithley2000, CONNECT + [(":READ?", "+1.2\x15#?E-03")]) as dmm:
        with pytest.raises(LinkFault):  # a garbled reply is a link fault: retried
            dmm.read_voltage()
    with pytest.raises(ConfigError):
        Keithley2000.check_config({"nplc": 20.0}, None)
    with pytest.raises(ConfigError):
        Keithley2000.check_config({"range_V": 3.0}, None)
    with expected_protocol(Keithley2000, CONNECT) as dmm, pytest.raises(ValueError):
        dmm.nplc = 50  # the validator refuses before writing


@pytest.mark.parametrize("name,bad", [("nplc", 50), ("nplc", 0.001), ("nplc", "1"),
                                      ("voltage_range", 2000), ("voltage_range", -1),
                                      ("autorange", "on")])
def test_settings_out_of_the_manual_range_are_refused_not_clipped(name, bad):
    with expected_protocol(Keithley2000, CONNECT) as dmm, pytest.raises(LimitError):
        setattr(dmm, name, bad)  # no exchange beyond the connect is allowed


def test_settings_read_back():
    with expected_protocol(Keithley2000, CONNECT + [
            (":SENS:VOLT:DC:RANG 10", None), (":SENS:VOLT:DC:RANG?", "+1.000000E+01"),
            (":SENS:VOLT:DC:RANG:AUTO?", "0"), (":SENS:VOLT:DC:NPLC?", "+1.000000E+00")]) as dmm:
        dmm.voltage_range = 10
        assert dmm.voltage_range == 10.0
        assert dmm.autorange is False
        assert dmm.nplc == 1.0
