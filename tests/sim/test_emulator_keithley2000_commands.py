"""Keithley 2000 emulator against the manual's SCPI tree (section 5): long/short forms,
optional nodes, compound commands, every setting read back, functions that measure what they
name, the trigger model and the error queue numbers."""

import numpy as np
import pytest

from pcsdaq.clock import VirtualClock
from pcsdaq.sim.contact import Contact
from pcsdaq.sim.emulators.keithley2000 import OVERFLOW, SPECS, Keithley2000Emulator
from pcsdaq.sim.emulators.sr830 import SR830Emulator


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


def test_infinite_trigger_count(em):
    em.handle(":TRIG:COUN INF")
    assert float(em.handle(":TRIG:COUN?")) == 9.9e37
    assert len(em.handle(":READ?").split(",")) == 1024  # one buffer's worth per query
    assert errors(em) == []


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


#: every stored setting of the SCPI tree: (set, query, reply); complete (checked below)
ROUND_TRIP = [
    (":VOLT:NPLC 0.1", ":VOLT:NPLC?", "0.1"),
    (":VOLT:REF 0.25", ":VOLT:REF?", "0.25"),
    (":VOLT:REF:STAT ON", ":VOLT:REF:STAT?", "1"),
    (":VOLT:DIG 7", ":VOLT:DIG?", "7"),
    (":VOLT:AVER:STAT ON", ":VOLT:AVER:STAT?", "1"),
    (":VOLT:AVER:TCON REPeat", ":VOLT:AVER:TCON?", "REP"),
    (":VOLT:AVER:COUN 100", ":VOLT:AVER:COUN?", "100"),
    (":VOLT:RANG 1", ":VOLT:RANG?", "1"),
    (":VOLT:RANG:AUTO OFF", ":VOLT:RANG:AUTO?", "0"),
    (":VOLT:AC:NPLC 0.1", ":VOLT:AC:NPLC?", "0.1"),
    (":VOLT:AC:REF 0.25", ":VOLT:AC:REF?", "0.25"),
    (":VOLT:AC:REF:STAT ON", ":VOLT:AC:REF:STAT?", "1"),
    (":VOLT:AC:DIG 7", ":VOLT:AC:DIG?", "7"),
    (":VOLT:AC:AVER:STAT ON", ":VOLT:AC:AVER:STAT?", "1"),
    (":VOLT:AC:AVER:TCON REPeat", ":VOLT:AC:AVER:TCON?", "REP"),
    (":VOLT:AC:AVER:COUN 100", ":VOLT:AC:AVER:COUN?", "100"),
    (":VOLT:AC:RANG 1", ":VOLT:AC:RANG?", "1"),
    (":VOLT:AC:RANG:AUTO OFF", ":VOLT:AC:RANG:AUTO?", "0"),
    (":VOLT:AC:DET:BAND 300", ":VOLT:AC:DET:BAND?", "300"),
    (":CURR:NPLC 0.1", ":CURR:NPLC?", "0.1"),
    (":CURR:REF 0.25", ":CURR:REF?", "0.25"),
    (":CURR:REF:STAT ON", ":CURR:REF:STAT?", "1"),
    (":CURR:DIG 7", ":CURR:DIG?", "7"),
    (":CURR:AVER:STAT ON", ":CURR:AVER:STAT?", "1"),
    (":CURR:AVER:TCON REPeat", ":CURR:AVER:TCON?", "REP"),
    (":CURR:AVER:COUN 100", ":CURR:AVER:COUN?", "100"),
    (":CURR:RANG 0.1", ":CURR:RANG?", "0.1"),
    (":CURR:RANG:AUTO OFF", ":CURR:RANG:AUTO?", "0"),
    (":CURR:AC:NPLC 0.1", ":CURR:AC:NPLC?", "0.1"),
    (":CURR:AC:REF 0.25", ":CURR:AC:REF?", "0.25"),
    (":CURR:AC:REF:STAT ON", ":CURR:AC:REF:STAT?", "1"),
    (":CURR:AC:DIG 7", ":CURR:AC:DIG?", "7"),
    (":CURR:AC:AVER:STAT ON", ":CURR:AC:AVER:STAT?", "1"),
    (":CURR:AC:AVER:TCON REPeat", ":CURR:AC:AVER:TCON?", "REP"),
    (":CURR:AC:AVER:COUN 100", ":CURR:AC:AVER:COUN?", "100"),
    (":CURR:AC:RANG 3", ":CURR:AC:RANG?", "3"),
    (":CURR:AC:RANG:AUTO OFF", ":CURR:AC:RANG:AUTO?", "0"),
    (":CURR:AC:DET:BAND 300", ":CURR:AC:DET:BAND?", "300"),
    (":RES:NPLC 0.1", ":RES:NPLC?", "0.1"),
    (":RES:REF 0.25", ":RES:REF?", "0.25"),
    (":RES:REF:STAT ON", ":RES:REF:STAT?", "1"),
    (":RES:DIG 7", ":RES:DIG?", "7"),
    (":RES:AVER:STAT ON", ":RES:AVER:STAT?", "1"),
    (":RES:AVER:TCON REPeat", ":RES:AVER:TCON?", "REP"),
    (":RES:AVER:COUN 100", ":RES:AVER:COUN?", "100"),
    (":RES:RANG 1000", ":RES:RANG?", "1000"),
    (":RES:RANG:AUTO OFF", ":RES:RANG:AUTO?", "0"),
    (":FRES:NPLC 0.1", ":FRES:NPLC?", "0.1"),
    (":FRES:REF 0.25", ":FRES:REF?", "0.25"),
    (":FRES:REF:STAT ON", ":FRES:REF:STAT?", "1"),
    (":FRES:DIG 7", ":FRES:DIG?", "7"),
    (":FRES:AVER:STAT ON", ":FRES:AVER:STAT?", "1"),
    (":FRES:AVER:TCON REPeat", ":FRES:AVER:TCON?", "REP"),
    (":FRES:AVER:COUN 100", ":FRES:AVER:COUN?", "100"),
    (":FRES:RANG 1000", ":FRES:RANG?", "1000"),
    (":FRES:RANG:AUTO OFF", ":FRES:RANG:AUTO?", "0"),
    (":FREQ:REF 0.25", ":FREQ:REF?", "0.25"),
    (":FREQ:REF:STAT ON", ":FREQ:REF:STAT?", "1"),
    (":FREQ:DIG 7", ":FREQ:DIG?", "7"),
    (":FREQ:APER 0.2", ":FREQ:APER?", "0.2"),
    (":FREQ:THR:VOLT:RANG 10", ":FREQ:THR:VOLT:RANG?", "10"),
    (":PER:REF 0.25", ":PER:REF?", "0.25"),
    (":PER:REF:STAT ON", ":PER:REF:STAT?", "1"),
    (":PER:DIG 7", ":PER:DIG?", "7"),
    (":PER:APER 0.2", ":PER:APER?", "0.2"),
    (":PER:THR:VOLT:RANG 10", ":PER:THR:VOLT:RANG?", "10"),
    (":TEMP:NPLC 0.1", ":TEMP:NPLC?", "0.1"),
    (":TEMP:REF 0.25", ":TEMP:REF?", "0.25"),
    (":TEMP:REF:STAT ON", ":TEMP:REF:STAT?", "1"),
    (":TEMP:DIG 7", ":TEMP:DIG?", "7"),
    (":TEMP:AVER:STAT ON", ":TEMP:AVER:STAT?", "1"),
    (":TEMP:AVER:TCON REPeat", ":TEMP:AVER:TCON?", "REP"),
    (":TEMP:AVER:COUN 100", ":TEMP:AVER:COUN?", "100"),
    (":TEMP:TC:TYPE T", ":TEMP:TC:TYPE?", "T"),
    (":DIOD:CURR:RANG 0.0001", ":DIOD:CURR:RANG?", "0.0001"),
    (":CONT:THR 100", ":CONT:THR?", "100"),
    (":INIT:CONT OFF", ":INIT:CONT?", "0"),
    (":TRIG:COUN 9999", ":TRIG:COUN?", "9999"),
    (":TRIG:DEL 0.5", ":TRIG:DEL?", "0.5"),
    (":TRIG:DEL:AUTO OFF", ":TRIG:DEL:AUTO?", "0"),
    (":TRIG:SOUR BUS", ":TRIG:SOUR?", "BUS"),
    (":TRIG:TIM 0.5", ":TRIG:TIM?", "0.5"),
    (":SAMP:COUN 1024", ":SAMP:COUN?", "1024"),
    (":FORM ASCII", ":FORM?", "ASC"),
    (":FORM:BORD NORMal", ":FORM:BORD?", "NORM"),
    (":SYST:BEEP OFF", ":SYST:BEEP?", "0"),
    (":SYST:KCL OFF", ":SYST:KCL?", "0"),
    (":SYST:AZER OFF", ":SYST:AZER?", "0"),
    (":SYST:POS SAV4", ":SYST:POS?", "SAV4"),
    (":STAT:MEAS:ENAB 65535", ":STAT:MEAS:ENAB?", "65535"),
    (":STAT:QUES:ENAB 65535", ":STAT:QUES:ENAB?", "65535"),
    (":STAT:OPER:ENAB 65535", ":STAT:OPER:ENAB?", "65535"),
    (":STAT:QUE:ENAB 'TEXT'", ":STAT:QUE:ENAB?", "'TEXT'"),
    (":STAT:QUE:DIS 'TEXT'", ":STAT:QUE:DIS?", "'TEXT'"),
    (":DISP:ENAB OFF", ":DISP:ENAB?", "0"),
    (":DISP:TEXT:DATA 'TEXT'", ":DISP:TEXT:DATA?", "'TEXT'"),
    (":DISP:TEXT:STAT ON", ":DISP:TEXT:STAT?", "1"),
    (":UNIT:TEMP K", ":UNIT:TEMP?", "K"),
    (":TRAC:POIN 1024", ":TRAC:POIN?", "1024"),
    (":TRAC:FEED NONE", ":TRAC:FEED?", "NONE"),
    (":TRAC:FEED:CONT NEVer", ":TRAC:FEED:CONT?", "NEV"),
    (":CALC:FORM PERCent", ":CALC:FORM?", "PERC"),
    (":CALC:KMAT:MMF 2.5", ":CALC:KMAT:MMF?", "2.5"),
    (":CALC:KMAT:MBF 2.5", ":CALC:KMAT:MBF?", "2.5"),
    (":CALC:KMAT:MUN 'TEXT'", ":CALC:KMAT:MUN?", "'TEXT'"),
    (":CALC:KMAT:PERC 2.5", ":CALC:KMAT:PERC?", "2.5"),
    (":CALC:STAT ON", ":CALC:STAT?", "1"),
    ("*ESE 255", "*ESE?", "255"),
    ("*SRE 255", "*SRE?", "255"),

]


@pytest.mark.parametrize(("command", "query", "reply"), ROUND_TRIP)
def test_setting_round_trip(em, command, query, reply):
    em.handle(command)
    assert em.handle(query) == reply
    assert errors(em) == []


def test_round_trip_table_lists_every_setting():
    from pcsdaq.sim.emulators.keithley2000 import normalize

    assert {normalize(q) for _, q, _ in ROUND_TRIP} == set(SPECS)


@pytest.mark.parametrize(("configure", "function"), [
    (":CONF:VOLT:DC", '"VOLT:DC"'), (":CONF:VOLT:AC", '"VOLT:AC"'),
    (":CONF:CURR:DC", '"CURR:DC"'), (":CONF:CURR:AC", '"CURR:AC"'),
    (":CONF:RES", '"RES"'), (":CONF:FRES", '"FRES"'), (":CONF:FREQ", '"FREQ"'),
    (":CONF:PER", '"PER"'), (":CONF:TEMP", '"TEMP"'), (":CONF:DIOD", '"DIOD"'),
    (":CONF:CONT", '"CONT"'),
])
def test_configure_selects_the_function_one_shot(em, configure, function):
    em.handle(":INIT:CONT ON;:TRIG:COUN 5")
    em.handle(configure)
    assert em.handle(":FUNC?") == function and em.handle(":CONF?") == function
    assert em.handle(":INIT:CONT?;:TRIG:COUN?") == "0;1"


def test_measure_queries_and_status_registers(em):
    em.lab.emulators["sr830"].handle("AUXV 1,1.0")
    v = float(em.handle(":MEAS:VOLT?"))
    assert v == pytest.approx(1e-3 * em.lab.contact.normal_resistance_ohm(), rel=1e-2)
    assert float(em.handle(":MEAS:FRES?")) == pytest.approx(
        em.lab.contact.normal_resistance_ohm(), rel=1e-3)
    assert em.handle(":STAT:MEAS:COND?;:STAT:QUES?;:STAT:OPER:COND?;*ESE?;*SRE?") == \
        "0;0;0;0;0"


@pytest.mark.parametrize(("function", "acquire"), [
    ("VOLT:DC", ":VOLT:REF:ACQ"), ("VOLT:AC", ":VOLT:AC:REF:ACQ"),
    ("CURR:DC", ":CURR:REF:ACQ"), ("CURR:AC", ":CURR:AC:REF:ACQ"),
    ("RES", ":RES:REF:ACQ"), ("FRES", ":FRES:REF:ACQ"), ("FREQ", ":FREQ:REF:ACQ"),
    ("PER", ":PER:REF:ACQ"), ("TEMP", ":TEMP:REF:ACQ"),
])
def test_reference_acquire_takes_the_reading(em, function, acquire):
    em.lab.emulators["sr830"].handle("SLVL 1;AUXV 1,1.0")
    em.handle(f":FUNC '{function}'")
    x = float(em.handle(":READ?"))
    em.handle(acquire)
    ref_query = acquire[: -len(":ACQ")] + "?"
    assert float(em.handle(ref_query)) == pytest.approx(x, rel=1e-6, abs=1e-12)
    em.handle(":FUNC 'VOLT:DC' ;" + acquire if function != "VOLT:DC" else ":FUNC 'RES';"
              + acquire)
    assert errors(em) == [-221]  # acquire on a function that is not measuring


def test_continuous_initiation_keeps_fetch_fresh():
    em = Keithley2000Emulator(FakeLab())  # power-on: :INIT:CONT ON
    first = em.handle(":FETC?")
    em.lab.clock.sleep(1.0)
    assert em.handle(":FETC?") != first  # a new reading, noise and all
    assert errors(em) == []
