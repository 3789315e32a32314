"""The error taxonomy the engine's retry policy follows (pcsdaq.errors.classify)."""

import pytest
from pyvisa.errors import VisaIOError

from pcsdaq.errors import (
    AbortRequested,
    ConfigError,
    ExperimentFault,
    InstrumentError,
    LimitError,
    LinkFault,
    PcsdaqError,
    QuenchError,
    classify,
)


@pytest.mark.parametrize(("exc", "kind"), [
    (LinkFault("garbled"), "link"),
    (TimeoutError("no reply"), "link"),
    (ConnectionResetError("reset"), "link"),
    (VisaIOError(-1073807339), "link"),  # VI_ERROR_TMO
    (LimitError("150 V refused"), "refusal"),  # a ValueError too, but a refusal first
    (ConfigError("bad key"), "refusal"),
    (InstrumentError("ERROR: axis not in stepping mode"), "refusal"),
    (QuenchError("quench"), "hard_stop"),
    (ExperimentFault("heater open"), "experiment"),
    (AbortRequested("Ctrl-C"), "abort"),
    (PcsdaqError("not stable"), "error"),
    (OSError(28, "No space left on device"), "error"),
    (ValueError("could not convert"), "programming"),
    (TypeError("unsupported operand"), "programming"),
    (KeyError("x"), "programming"),
])
def test_each_class_has_one_kind(exc, kind):
    assert classify(exc) == kind


def test_raw_writes_of_the_current_source_meet_its_limit():
    from pymeasure.test import expected_protocol

    from pcsdaq.drivers.keithley6221 import Keithley6221

    with expected_protocol(Keithley6221, [("SOUR:CURR:COMP 1", None), ("OUTP?", "0"),
                                          ("SOUR:CURR 1.000000e-03", None)],
                           limits={"max_current_A": 0.01}) as src:
        with pytest.raises(LimitError, match="raw SOUR:CURR"):
            src.write("SOUR:CURR 0.05")
        with pytest.raises(LimitError, match="not finite"):
            src.write(":SOURce:CURRent nan")
        with pytest.raises(LimitError, match="not a number"):
            src.write("SOUR:CURR 1e-3A")
        src.write("SOUR:CURR 1.000000e-03")
