"""Keithley 2000 emulator against the manual's SCPI tree (section 5): long/short forms,
optional nodes, compound commands, every setting read back, functions that measure what they
name, the trigger model and the error queue numbers."""

import numpy as np
import pytest
from pcsdaq.sim.contact import Contact
from pcsdaq.sim.emulators.keithley2000 import OVERFLOW, SPECS, Keithley2000Emulator
from pcsdaq.sim.emulators.sr830 import SR830Emulator

from pcsdaq.clock import VirtualClock


class FakeLab:
    def __init__(self, touch=True):
        self.clock = VirtualClock()
        self.rng = np.random.default_rng(4)
        self.contact = Contact(self, {"gap_m": 0.0 if touch else 1e-3})
        self.contact.step(1, 30.0)
        self.emulators = {"sr830": SR830Emulator(self)}


@pytest.fixture
def em():
    e = Keithley2000Emulator(FakeLab())
    e.handle("*RST")  # continuous initiation off
    return e


def errors(em):
    out = []
    while (e := em.handle(":SYST:ERR?")) != '0,"No error"':
        out.append(int(e.split(",")[0]))
    return out


def test_optional_nodes_long_and_short_forms(em):
    em.handle(":SENSe1:VOLTage:DC:NPLCycles 2")
    assert em.handle("VOLT:NPLC?") == "2" and em.handle(":sens:volt:dc:nplc?") == "2"
    em.handle(":TRIGger:SEQuence1:COUNt 3;:TRIG:SEQ:DEL:AUTO OFF;:TRIG:DEL 0.5")
    assert em.handle(":TRIG:COUN?;:TRIGger:DELay?") == "3;0.5"
    assert em.handle(":SENS:VOLT:DC:RANG:UPP?") == "1000"
    assert errors(em) == []


def test_fresh_and_latest_data_with_sense_node(em):
    em.lab.emulators["sr830"].handle("AUXV 1,1.0")
    fresh = float(em.handle("SENSe:DATA:FRESh?"))
    assert fresh == pytest.approx(1e-3 * em.lab.contact.normal_resistance_ohm(), rel=1e-2)
    assert em.handle(":DATA?") == em.handle(":SENS:DATA:LAT?")


def test_compound_commands_follow_the_scpi_path_rule(em):
    em.handle(":SENS:VOLT:NPLC 5;RANG 10;:TRIG:COUN 2;SOUR BUS")
    assert em.handle(":VOLT:NPLC?;RANG?") == "5;10"
    assert em.handle(":TRIG:SOUR?") == "BUS" and em.handle(":VOLT:RANG:AUTO?") == "0"


def test_func_res_and_fres_read_the_contact_resistance(em):
    r_n = em.lab.contact.normal_resistance_ohm()
    em.handle(":SENS:FUNC 'RES'")
    assert em.handle(":FUNC?") == '"RES"'
    r2 = float(em.handle(":READ?"))
    em.handle(':FUNC "FRESistance";:FRES:NPLC 10')
    r4 = float(em.handle(":READ?"))
    assert r4 == pytest.approx(r_n, rel=1e-3) and r2 > r4  # 2-wire adds the leads
    assert em.handle(":FRES:NPLC?") == "10" and em.handle(":RES:NPLC?") == "1"
    em.handle(":FRES:RANG 100")
    assert em.handle(":FRES:RANG?") == "100" and em.handle(":FRES:RANG:AUTO?") == "0"
    open_lab = Keithley2000Emulator(FakeLab(touch=False))
    assert float(open_lab.handle(":MEAS:RES?")) == OVERFLOW


def test_other_functions(em):
    sr = em.lab.emulators["sr830"]
    sr.handle("SLVL 1.0;FREQ 137")
    assert float(em.handle(":MEAS:FREQ?")) == 137.0
    assert float(em.handle(":MEAS:PER?")) == pytest.approx(1 / 137)
    assert float(em.handle(":MEAS:VOLT:AC?")) == pytest.approx(abs(sr.signal_V()), abs=1e-5)
    assert abs(float(em.handle(":MEAS:CURR?"))) < 1e-7
    assert abs(float(em.handle(":MEAS:CURR:AC?"))) < 1e-7
    assert float(em.handle(":MEAS:TEMP?")) == 23.0
    em.handle(":UNIT:TEMP K")
    assert float(em.handle(":READ?")) == pytest.approx(296.15)
    assert float(em.handle(":MEAS:DIOD?")) > 0 and float(em.handle(":MEAS:CONT?")) > 0
    assert em.handle(":CONF?") == '"CONT"'
    em.handle(":CONF:VOLT:DC")
    assert em.handle(":CONF?") == '"VOLT:DC"' and errors(em) == []


def test_every_setting_round_trips(em):
    for key, spec in SPECS.items():
        kind = spec[0]
        if kind == "num":
            value = spec[2]
        elif kind == "bool":
            value = 1 - spec[1]
        elif kind == "choice":
            value = spec[1][-1]
        else:
            value = '"hello"'
        em.handle(f":{key} {value}" if not key.startswith("*") else f"{key} {value}")
        reply = em.handle(f":{key}?" if not key.startswith("*") else f"{key}?")
        if kind == "num":
            coerced = key.endswith(("RANG:UPP", "DET:BAND"))  # to the range that holds it
            assert float(reply) == pytest.approx(value, rel=1e-6) or coerced, key
        elif kind == "choice":
            assert reply == value.rstrip("abcdefghijklmnopqrstuvwxyz"), key
        else:
            assert reply == str(value), key
    assert errors(em) == []


def test_per_function_settings_that_do_not_exist_are_undefined_headers(em):
    em.handle(":SENS:FREQ:RANG:AUTO 1")  # pymeasure's auto_range in frequency mode
    em.handle(":SENS:PRE:THR:VOLT:RANG 10")  # pymeasure's period_threshold typo
    em.handle(":SENS:FREQ:NPLC 1")
    assert errors(em) == [-113, -113, -113]
    assert em.handle(":SENS:PER:THR:VOLT:RANG?") == "10"


def test_error_numbers_for_bad_data(em):
    em.handle(":VOLT:NPLC 50")
    em.handle(":VOLT:NPLC abc")
    em.handle(":VOLT:NPLC")
    em.handle(":VOLT:NPLC 1,2")
    em.handle(":TRIG:SOUR NOWHERE")
    em.handle(":FUNC 'BANANA'")
    em.handle(":SYST:BEEP 1000, 0.5")  # pymeasure's beep(): the 2000 has no such command
    em.handle("**IDN?")
    assert errors(em) == [-222, -104, -109, -108, -224, -224, -108, -102]
    assert int(em.handle("*ESR?")) == 0x30  # command and execution error bits
    assert em.handle(":VOLT:NPLC? MAX") == "10"


def test_trigger_model(em):
    em.handle(":FETC?")
    assert errors(em) == [-230]  # nothing measured yet
    em.handle(":TRIG:SOUR BUS;:SAMP:COUN 3")
    em.handle(":READ?")
    assert errors(em) == [-214]  # it would wait for a bus trigger forever
    em.handle(":INIT")
    assert em.handle(":FETC?") is None and errors(em) == [-230]
    em.handle("*TRG")
    assert len(em.handle(":FETC?").split(",")) == 3
    em.handle(":INIT;:ABOR;:TRIG:SIGN")
    em.handle("*RST;:INIT:CONT ON;:INIT")
    assert errors(em) == [-213]  # init ignored with continuous initiation on


def test_buffer_math_elements_and_setups(em):
    em.handle(":TRAC:CLE;:TRAC:POIN 3;:TRAC:FEED SENS;:TRAC:FEED:CONT NEXT")
    for _ in range(4):
        em.handle(":READ?")
    assert len(em.handle(":TRAC:DATA?").split(",")) == 3
    assert em.handle(":TRAC:FEED:CONT?") == "NEV"
    assert em.handle(":TRAC:FREE?").count(",") == 1
    em.handle(":CALC:FORM MXB;:CALC:KMAT:MMF 2;:CALC:KMAT:MBF 1;:CALC:STAT ON")
    x = float(em.handle(":READ?"))
    assert float(em.handle(":CALC:DATA?")) == pytest.approx(2 * x + 1)
    em.handle(":FORM:ELEM READ,UNIT")
    assert em.handle(":READ?").endswith("VDC") and em.handle(":FORM:ELEM?") == "READ,UNIT"
    em.handle(":VOLT:REF 0.5;:VOLT:REF:STAT ON;:VOLT:REF:ACQ")
    em.handle("*SAV 2;:VOLT:NPLC 7;*RCL 2")
    assert em.handle(":VOLT:NPLC?") == "1"
    assert em.handle("*IDN?").startswith("KEITHLEY INSTRUMENTS INC.,MODEL 2000")
    assert em.handle("*OPC?;*TST?;:SYST:VERS?;:SYST:LFR?") == "1;0;1991.0;50"
    em.handle("*ESE 32;*SRE 32;*OPC;:BOGUS")
    assert int(em.handle("*STB?")) & 0x64 == 0x64
    em.handle("*CLS;:STAT:PRES;:STAT:QUE:CLE;:SYST:CLE;*WAI;:SYST:REM;:SYST:LOC;:SYST:RWL")
    assert em.handle(":STAT:MEAS?;:STAT:QUES:COND?;:STAT:OPER?;:STAT:QUE?") == \
        '0;0;0;0,"No error"'
    em.handle(":DISP:TEXT:DATA 'HI';:DISP:TEXT:STAT ON;:DISP:ENAB OFF;:SYST:KEY 5;:SYST:PRES")
    assert em.handle(":INIT:CONT?") == "1" and errors(em) == []
