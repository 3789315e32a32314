"""SR830 driver: scripted exchanges from the manual, limits that send nothing, settle times."""

import pytest
from pymeasure.test import expected_protocol

from pcsdaq.drivers.bias import SR830AuxBias
from pcsdaq.drivers.sr830 import SR830, decode_overload
from pcsdaq.errors import ConfigError, LimitError, LinkFault
from pcsdaq.roles import step_settle_taus

# connect: replies to the GPIB interface, then the cached reference and filter state
CONNECT = [("OUTX 1", None), ("SLVL?", "0.100"), ("OFLT?", "8"), ("OFSL?", "1"),
           ("SENS?", "17")]


def lockin(extra, **kwargs):
    return expected_protocol(SR830, CONNECT + extra, **kwargs)


def test_connect_caches_filter_and_sensitivity():
    with lockin([]) as li:
        assert li.time_constant == pytest.approx(0.1)
        assert li.filter_slope == 12
        assert li.sensitivity == pytest.approx(1e-3)
        assert li.sine_voltage == pytest.approx(0.1)
        assert li.ac_current() == pytest.approx(0.1 / 1e6)


def test_rs232_sends_outx_0():
    comm = [("OUTX 0", None)] + CONNECT[1:]
    with expected_protocol(SR830, comm, settings={"interface": "rs232"}):
        pass


def test_snap_reads_x_and_y_in_one_query():
    with lockin([("SNAP? 1,2", "0.951359,0.0253297")]) as li:
        assert li.read_xy() == pytest.approx((0.951359, 0.0253297))


def test_garbled_snap_is_a_link_fault():
    with lockin([("SNAP? 1,2", "0.95#?")]) as li, pytest.raises(LinkFault, match="SNAP"):
        li.read_xy()


def test_settle_time_from_the_cache_without_io():
    with lockin([]) as li:  # no further exchange allowed
        assert li.settle_time() == pytest.approx(7 * 0.1)
        assert li.settle_time(2.0) == pytest.approx(14 * 0.1)
        assert li.settle_time(accuracy=1e-2) == pytest.approx(6.64 * 0.1, rel=2e-3)


@pytest.mark.parametrize("poles,taus99,taus999", [(1, 4.61, 6.9), (2, 6.64, 9.2), (3, 8.41, 11.2),
                                                  (4, 10.05, 13.1)])
def test_exact_settling_of_cascaded_poles(poles, taus99, taus999):
    assert step_settle_taus(poles, 1e-2) == pytest.approx(taus99, abs=0.01)
    assert step_settle_taus(poles, 1e-3) == pytest.approx(taus999, abs=0.05)


def test_setters_write_indices_and_reread_the_time_constant():
    with lockin([("OFLT 5", None), ("OFSL 3", None), ("OFLT?", "6"), ("SENS 22", None),
                 ("OFLT?", "6"), ("SLVL 0.250", None), ("FREQ 137.0000", None),
                 ("FREQ?", "137.0")]) as li:
        li.time_constant = 3e-3
        li.filter_slope = 24
        assert li.time_constant == pytest.approx(10e-3)  # the box raised it itself
        li.sensitivity = 0.04  # nearest on a log scale: 50 mV
        assert li.sensitivity == pytest.approx(50e-3)
        li.sine_voltage = 0.25
        li.frequency = 137.0
        assert li.frequency == 137.0


def test_sensitivity_steps_and_table_ends():
    comm = [("OUTX 1", None), ("SLVL?", "0.1"), ("OFLT?", "8"), ("OFSL?", "1"), ("SENS?", "25"),
            ("SENS 26", None), ("OFLT?", "8"), ("SENS 25", None), ("OFLT?", "8"),
            ("SENS 26", None), ("OFLT?", "8")]
    with expected_protocol(SR830, comm) as li:
        assert li.sensitivity_up() == pytest.approx(1.0)
        assert li.sensitivity_down() == pytest.approx(0.5)
        li.sensitivity_up()
        with pytest.raises(LimitError, match="coarsest"):
            li.sensitivity_up()


def test_overload_status():
    with lockin([("LIAS?", "5"), ("LIAS?", "8")]) as li:
        assert li.is_overloaded()
        assert not li.is_overloaded()  # bit 3 is reference unlock, not an overload
    assert decode_overload(0b111) == {"input", "filter", "output"}


def test_refused_values_send_nothing():
    with lockin([], limits={"max_sine_voltage_V": 1.0, "max_aux_voltage_V": 2.0}) as li:
        for bad in (2.0, 0.001, float("nan")):
            with pytest.raises(LimitError):
                li.sine_voltage = bad
        with pytest.raises(LimitError):
            li.set_aux_voltage(1, 2.5)
        with pytest.raises(LimitError):
            li.set_aux_voltage(5, 0.1)
        with pytest.raises(LimitError):
            li.frequency = 2e5
        with pytest.raises(LimitError):
            li.filter_slope = 9


def test_aux_output_keeps_millivolts():
    with lockin([("AUXV 1,0.004", None), ("AUXV? 1", "0.004")]) as li:
        assert li.set_aux_voltage(1, 0.0042) == pytest.approx(0.004)
        assert li.aux_voltage(1) == pytest.approx(0.004)


def test_bias_converts_current_through_the_resistor():
    with lockin([("AUXV 2,1.234", None), ("AUXV? 2", "1.234"), ("AUXV 2,0.000", None)]) as li:
        bias = SR830AuxBias(li, settings={"aux_output": 2, "series_resistance_ohm": 1e3},
                            limits={"max_current_A": 5e-3})
        assert bias.set_current(1.2344e-3) == pytest.approx(1.234e-3)
        assert bias.get_current() == pytest.approx(1.234e-3)
        bias.zero()
        conv = bias.conversion()
        assert conv["series_resistance_ohm"] == 1e3 and conv["resolution_A"] == 1e-6


def test_bias_confirm_set_reads_the_aux_output_back():
    """confirm_set: the set is followed by its query on the lock-in's link (the returned
    current is the one read back); without it, one write a point."""
    with lockin([("AUXV 1,0.500", None), ("AUXV? 1", "0.500")]) as li:
        bias = SR830AuxBias(li, settings={"confirm_set": True})
        assert bias.set_current(5e-4) == pytest.approx(5e-4)
    with lockin([("AUXV 1,0.500", None)]) as li:
        assert SR830AuxBias(li).set_current(5e-4) == pytest.approx(5e-4)


def test_bias_limits_send_nothing():
    with lockin([], limits={"max_aux_voltage_V": 1.0}) as li:
        bias = SR830AuxBias(li, settings={"series_resistance_ohm": 1e3},
                            limits={"max_current_A": 5e-3})
        with pytest.raises(LimitError):
            bias.set_current(6e-3)  # beyond the bias limit
        with pytest.raises(LimitError):
            bias.set_current(2e-3)  # 2 V: beyond the lock-in's aux limit


@pytest.mark.parametrize("settings,limits,error", [
    ({"interface": "usb"}, None, ConfigError), ({"excitation_resistance_ohm": 0.0}, None,
                                                ConfigError),
    ({"colour": 1}, None, ConfigError), (None, {"max_sine_voltage_V": 6.0}, LimitError),
])
def test_config_checks(settings, limits, error):
    with pytest.raises(error):
        SR830.check_config(settings, limits)
    with pytest.raises(ConfigError):
        SR830AuxBias.check_config({"aux_output": 5}, None)


def test_manual_table_controls_write_the_commands_and_map_the_replies():
    with lockin([("PHAS 45.00", None), ("PHAS?", "45.00"), ("HARM 2", None), ("HARM?", "2"),
                 ("ISRC 1", None), ("ICPL?", "1"), ("ILIN 3", None), ("FMOD?", "1"),
                 ("SYNC 1", None), ("AUXV 2,0.500", None), ("AUXV? 2", "0.500")]) as li:
        li.phase = 45
        assert li.phase == 45.0
        li.harmonic = 2
        assert li.harmonic == 2
        li.input_config = "A - B"
        assert li.input_coupling == "DC"
        li.input_notch_config = "Both"
        assert li.reference_source == "Internal"
        li.filter_synchronous = True
        li.aux_out_2 = 0.5
        assert li.aux_out_2 == pytest.approx(0.5)


@pytest.mark.parametrize("name,bad", [
    ("frequency", 0.0), ("frequency", "fast"), ("phase", 730.0), ("harmonic", 0),
    ("harmonic", 2.5), ("harmonic", 20000), ("input_config", "B"), ("input_coupling", "dc"),
    ("reference_source", True), ("filter_synchronous", "on"), ("aux_out_1", 2.5)])
def test_manual_table_controls_refuse_instead_of_clipping(name, bad):
    with lockin([], limits={"max_aux_voltage_V": 2.0}) as li:  # no exchange allowed
        with pytest.raises(LimitError):
            setattr(li, name, bad)
