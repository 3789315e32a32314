import numpy as np
import pytest
from pymeasure.adapters import Adapter

from pcsdaq.clock import VirtualClock
from pcsdaq.sim.contact import Contact
from pcsdaq.sim.emulators.keithley2000 import OVERFLOW, Keithley2000Emulator, normalize
from pcsdaq.sim.emulators.sr830 import SR830Emulator


class FakeLab:
    def __init__(self, touch=True):
        self.clock = VirtualClock()
        self.rng = np.random.default_rng(2)
        self.contact = Contact(self, {"gap_m": 0.0 if touch else 1e-3})
        self.contact.step(1, 30.0)
        self.emulators = {"sr830": SR830Emulator(self)}


class EmuAdapter(Adapter):
    """Minimal in-process adapter for the test only."""

    def __init__(self, emulator):
        super().__init__()
        self.em, self.buf = emulator, ""

    def _write(self, command, **kwargs):
        r = self.em.handle(command)
        if r is not None:
            self.buf += r + "\n"

    def _read(self, **kwargs):
        out, self.buf = self.buf, ""
        return out


def test_short_and_long_forms_are_one_header():
    assert normalize(":SENSe:VOLTage:DC:NPLCycles") == normalize(":VOLT:NPLC")
    assert normalize(":SYSTem:ERRor") == "SYST:ERR"


def test_reads_dc_voltage_of_contact():
    lab = FakeLab()
    lab.emulators["sr830"].handle("AUXV 1,1.0")  # 1 mA through 1 kOhm
    em = Keithley2000Emulator(lab)
    em.handle(":SENS:VOLT:DC:NPLC 10")
    v = float(em.handle(":READ?"))
    expected = 1e-3 * (lab.contact.normal_resistance_ohm() + lab.contact.lead_resistance_ohm)
    assert v == pytest.approx(expected, abs=1e-6)
    assert float(em.handle(":FETC?")) == v


def test_noise_falls_with_nplc():
    em = Keithley2000Emulator(FakeLab(touch=False))
    spreads = []
    for nplc in (0.1, 10):
        em.handle(f":VOLT:NPLC {nplc}")
        spreads.append(np.std([float(em.handle(":READ?")) for _ in range(200)]))
    assert spreads[1] < spreads[0] / 3


def test_overflow_and_error_queue():
    lab = FakeLab()
    lab.emulators["sr830"].handle("AUXV 1,10.0")  # 10 mA * 50 Ohm = 0.5 V
    em = Keithley2000Emulator(lab)
    em.handle(":INIT:CONT OFF;:SENS:VOLT:RANG 0.1")  # :READ? with continuous on is -213
    assert float(em.handle(":READ?")) == OVERFLOW
    for _ in range(12):
        em.handle(":BOGUS 1")
    first = em.handle(":SYST:ERR?")
    assert first == '-113,"Undefined header"'
    seen = [em.handle(":SYST:ERR?") for _ in range(10)]
    assert seen[-1] == '0,"No error"' and len([s for s in seen if s.startswith("-")]) == 9


def test_pymeasure_keithley2000_client_works():
    from pymeasure.instruments.keithley import Keithley2000

    lab = FakeLab()
    lab.emulators["sr830"].handle("AUXV 1,1.0")
    dmm = Keithley2000(EmuAdapter(Keithley2000Emulator(lab)))
    dmm.measure_voltage(max_voltage=1.0)
    dmm.voltage_nplc = 10
    assert dmm.voltage_nplc == 10
    assert dmm.voltage == pytest.approx(1e-3 * lab.contact.normal_resistance_ohm(), rel=1e-3)


def test_a_reading_takes_its_integration_time_on_the_lab_clock():
    """:READ? answers NPLC / 50 Hz later (the transport waits, the emulator never sleeps);
    :FETC? after :INIT answers when the integration started by :INIT is over."""
    from pcsdaq.sim.inprocess import InProcessAdapter

    lab = FakeLab()
    adapter = InProcessAdapter(Keithley2000Emulator(lab))

    def ask(command):
        adapter.write(command)
        return adapter.read()

    clock = lab.clock
    adapter.write(":INIT:CONT OFF")  # else :INIT is ignored (-213), as on the meter
    t0 = clock.now()
    float(ask(":READ?"))
    assert clock.now() - t0 == pytest.approx(1.0 / 50.0)  # NPLC 1 at power-up
    adapter.write(":SENS:VOLT:DC:NPLC 10")
    t0 = clock.now()
    float(ask(":READ?"))
    assert clock.now() - t0 == pytest.approx(10.0 / 50.0)
    adapter.write(":INIT")
    clock.sleep(0.15)  # 150 ms of the 200 ms integration pass elsewhere
    t0 = clock.now()
    ask(":FETC?")
    assert clock.now() - t0 == pytest.approx(0.05)
    t0 = clock.now()
    ask(":FETC?")  # the reading is there already
    assert clock.now() == t0
    ask("*IDN?")
    assert clock.now() == t0  # settings and identity answer at once
