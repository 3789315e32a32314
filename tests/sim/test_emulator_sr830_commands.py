"""SR830 emulator against the manual's command list (chapter 5): grammar, every setting read
back, auto functions, offsets, displays, status registers and the data buffer."""

import math
import struct

import numpy as np
import pytest

from pcsdaq.clock import VirtualClock
from pcsdaq.sim.contact import Contact
from pcsdaq.sim.emulators.sr830 import SENSITIVITIES_V, SR830Emulator
from pcsdaq.sim.emulators.sr830_commands import SETTINGS


class FakeLab:
    def __init__(self):
        self.clock = VirtualClock()
        self.rng = np.random.default_rng(3)
        self.contact = Contact(self, {"gap_m": 0.0, "excitation_resistance_ohm": 1e6})
        self.contact.step(1, 30.0)


@pytest.fixture
def em():
    return SR830Emulator(FakeLab())


def esr(em):
    return int(em.handle("*ESR?"))


@pytest.mark.parametrize("query", ["SRAT?", "SRAT ?", "srat?", " SRAT  ? ", "SrAt?"])
def test_whitespace_and_case_do_not_matter(em, query):
    em.handle("SRAT 4")
    assert em.handle(query) == "4"
    assert esr(em) == 0


def test_arguments_with_spaces_any_number_format_and_chaining(em):
    assert em.handle("AUXV 2 , 1.25 ; AUXV? 2 ; SENS .2E2;SENS?") == "1.250\n20"
    assert em.handle("SRAT4.000000;SRAT?") == "4"  # pymeasure's "SRAT%f"
    assert em.handle("OEXP? 3") == "0.00,0"


#: every plain setting (OUTX aside: the reply interface is tested below): (set, query, reply)
ROUND_TRIP = [
    ("FREQ 137.5", "FREQ?", "137.5"), ("SLVL 0.5", "SLVL?", "0.5"),
    ("PHAS 45.5", "PHAS?", "45.5"), ("FMOD 0", "FMOD?", "0"), ("HARM 3", "HARM?", "3"),
    ("RSLP 2", "RSLP?", "2"), ("ISRC 1", "ISRC?", "1"), ("IGND 1", "IGND?", "1"),
    ("ICPL 1", "ICPL?", "1"), ("ILIN 3", "ILIN?", "3"), ("SENS 12", "SENS?", "12"),
    ("RMOD 2", "RMOD?", "2"), ("OFLT 5", "OFLT?", "5"), ("OFSL 3", "OFSL?", "3"),
    ("SYNC 1", "SYNC?", "1"), ("OVRM 0", "OVRM?", "0"), ("LOCL 2", "LOCL?", "2"),
    ("KCLK 0", "KCLK?", "0"), ("ALRM 0", "ALRM?", "0"), ("SRAT 7", "SRAT?", "7"),
    ("SEND 0", "SEND?", "0"), ("TSTR 1", "TSTR?", "1"), ("FAST 2", "FAST?", "2"),
]


@pytest.mark.parametrize(("command", "query", "reply"), ROUND_TRIP)
def test_every_setting_is_stored_and_read_back(em, command, query, reply):
    em.handle(command)
    assert em.handle(query) == reply
    assert esr(em) == 0


def test_round_trip_table_is_complete():
    assert {q[:-1] for _, q, _ in ROUND_TRIP} | {"OUTX"} == set(SETTINGS)


def test_long_time_constants_are_lowered_above_200_hz(em):
    em.handle("LIAS?;FREQ 100;OFLT 19")
    assert em.handle("OFLT?") == "19"
    em.handle("FREQ 1000")
    assert em.handle("OFLT?") == "13" and em.handle("LIAS? 5") == "1"


def test_phase_wraps_and_out_of_range_is_an_execution_error(em):
    em.handle("PHAS 700")
    assert float(em.handle("PHAS?")) == pytest.approx(-20.0)
    em.handle("FREQ 200000")
    assert esr(em) == 0x10 and float(em.handle("FREQ?")) == 1000.0
    em.handle("FREQ")  # missing parameter
    em.handle("SENS 3.5")  # not an integer
    assert esr(em) == 0x10


def test_unknown_or_garbled_is_a_command_error_and_queries_of_set_only_commands(em):
    for line in ("FROB 1", "AGAN?", "12345", "?", "*", "SENS!?"):
        assert em.handle(line) is None
        assert esr(em) & 0x20, line
    assert em.handle("*IDN?").startswith("Stanford_Research_Systems,SR830")


def test_status_registers_with_enables_and_bits(em):
    em.handle("*ESE 32;*SRE 32")
    assert em.handle("*ESE?") == "32" and em.handle("*SRE? 5") == "1"
    em.handle("FROB")
    stb = int(em.handle("*STB?"))
    assert stb & 0x20 and stb & 0x40 and stb & 0x1 and stb & 0x2  # ESB, SRQ, no scan, idle
    assert em.handle("*STB? 5") == "1"
    assert em.handle("*ESR? 5") == "1" and em.handle("*ESR?") == "0"
    em.handle("ERRE 1,1;LIAE 4")
    assert em.handle("ERRE?") == "2" and em.handle("LIAE? 2") == "1"
    assert em.handle("ERRS?") == "0" and em.handle("ERRS? 4") == "0"
    em.handle("*PSC 0")
    assert em.handle("*PSC?") == "0"
    em.force_overload = True
    assert int(em.handle("*STB?")) & 0x08  # LIA: an enabled LIAS bit is set
    em.handle("*CLS")
    em.force_overload = False
    assert em.handle("LIAS?") == "0"


def test_auto_gain_reserve_phase_and_offset(em):
    em.handle("SLVL 1.0;SENS 0;PHAS 30")
    amplitude = abs(em.signal_V())
    em.handle("AGAN")
    sens = SENSITIVITIES_V[int(em.handle("SENS?"))]
    assert amplitude <= sens and (int(em.handle("SENS?")) == 0
                                  or amplitude > 0.9 * SENSITIVITIES_V[int(em.handle("SENS?")) - 1])
    em.handle("RMOD 0;ARSV")
    assert em.handle("RMOD?") == "2"  # low noise: the signal fits the sensitivity
    em.handle("APHS")
    assert abs(float(em.handle("PHAS?"))) < 0.01
    em.lab.clock.sleep(20.0)
    x = float(em.handle("OUTP? 1"))
    assert x == pytest.approx(amplitude, rel=1e-3)
    em.handle("AOFF 1")
    offset = float(em.handle("OEXP? 1").split(",")[0])
    assert offset == pytest.approx(x / sens * 100, abs=0.03)
    assert abs(float(em.handle("OUTP? 1"))) < 1e-3 * sens
    em.handle("OEXP 2,-10.5,2")
    assert em.handle("OEXP?2") == "-10.50,2"
    em.handle("OEXP 3,200,0")
    assert esr(em) == 0x10


def test_outputs_snap_displays_and_aux(em):
    em.handle("SLVL 1.0;OFLT 4")
    em.lab.clock.sleep(1.0)
    x, y, r, theta, aux1, f, ch1, ch2 = (float(v) for v in em.handle("SNAP? 1,2,3,4,5,9")
                                         .split(",") + em.handle("SNAP?10,11").split(","))
    assert r == pytest.approx(math.hypot(x, y), rel=1e-3) and f == 1000.0 and aux1 == 0.0
    # separate reads: each carries its own 5 nV of noise
    assert ch1 == pytest.approx(x, abs=5e-8) and abs(ch2) < 5e-8 and abs(theta) < 0.1
    em.handle("SNAP? 1")  # one value is not a snapshot
    em.handle("SNAP? 1,2,3,4,5,6,7")
    assert esr(em) == 0x10
    em.handle("DDEF 1,1,0;DDEF 2,1,0;FPOP 1,1")
    assert em.handle("DDEF? 1") == "1,0" and em.handle("FPOP? 1") == "1"
    assert float(em.handle("OUTR? 1")) == pytest.approx(r, abs=5e-8)
    assert abs(float(em.handle("OUTR? 2"))) < 0.1  # theta in deg
    assert em.handle("OAUX? 3") == "0.0000"
    em.handle("AUXV 3,-2.5")
    assert em.handle("AUXV? 3") == "-2.500"
    assert float(em.handle("OUTP? 4")) == pytest.approx(theta, abs=0.1)


def test_buffer_fills_at_the_sample_rate_on_the_lab_clock(em):
    em.handle("SLVL 1.0;OFLT 2;SRAT 4;SEND 0;REST")  # 1 Hz, one shot
    assert em.handle("SPTS?") == "0"
    em.handle("STRT")
    em.lab.clock.sleep(9.5)
    assert em.handle("SPTS?") == "10"  # t = 0, 1, ..., 9 s
    assert not int(em.handle("*STB? 0"))  # a scan is running
    em.handle("PAUS")
    em.lab.clock.sleep(5.0)
    assert em.handle("SPTS?") == "10"
    text = em.handle("TRCA? 1,0,10")
    assert text.endswith(",") and len(text.split(",")) == 11
    values = [float(v) for v in text.rstrip(",").split(",")]
    assert values[-1] == pytest.approx(abs(em.signal_V()), rel=1e-3)
    binary = em.handle("TRCB? 1,0,10")
    assert isinstance(binary, bytes) and len(binary) == 40
    assert np.allclose(struct.unpack("<10f", binary), values, rtol=1e-5)
    words = em.handle("TRCL? 1,0,10")
    m, e = struct.unpack("<hh", words[-4:])
    assert m * 2.0 ** (e - 124) == pytest.approx(values[-1], rel=1e-4)
    em.handle("TRCA? 1,5,6")  # past the stored points
    assert esr(em) == 0x10
    em.handle("REST")
    assert em.handle("SPTS?") == "0"


def test_trigger_rate_and_trigger_start(em):
    em.handle("SRAT 14;TSTR 1;REST")
    em.handle("TRIG")  # starts the scan and stores the first point
    em.handle("TRIG;TRIG")
    assert em.handle("SPTS?") == "3"
    assert int(em.handle("LIAS? 6")) == 1  # data storage triggered
    em.handle("SRAT 13;STRT;FAST 2;STRD")
    assert em.handle("FAST?") == "2"


def test_loop_mode_keeps_the_newest_points(em):
    em.handle("SRAT 13;SEND 1;REST;STRT")  # 512 Hz
    em.lab.clock.sleep(40.0)
    assert em.handle("SPTS?") == "16383"


def test_reset_keeps_the_interface_and_setups_recall(em):
    em.handle("SENS 5;OUTX 1;SSET 3;SENS 7")
    em.handle("RSET 3")
    assert em.handle("SENS?") == "5"
    em.handle("*RST")
    assert em.handle("SENS?") == "26" and em.handle("OUTX?") == "1"
    em.handle("RSET 9")  # nothing saved there
    assert esr(em) == 0x10
    em.handle("KCLK 0;ALRM 0;LOCL 1;OVRM 0")
    assert em.handle("KCLK?;ALRM?;LOCL?;OVRM?") == "0\n0\n1\n0"


def test_reply_terminator_follows_the_interface(em):
    assert em.reply_terminator == "\n"
    em.interface = "rs232"
    assert em.reply_terminator == "\r"
    assert em.handle("*IDN?") is None  # OUTX 1: replies go to GPIB
    em.handle("OUTX 0")
    assert em.handle("SENS?;OFLT?") == "26\r10"


def test_second_harmonic_reads_the_curvature_and_higher_ones_nothing():
    from pcsdaq.sim.lab import SimLab

    lab = SimLab(clock=VirtualClock())  # a superconducting contact: dV/dI is curved
    contact, em = lab.contact, lab.emulators["sr830"]
    contact.place(40.0, 20.0)
    em.handle("SLVL 1.0;AUXV 1,0.1")  # 100 uA: inside the gap structure
    first = em.signal_V()
    em.handle("HARM 2")
    second = em.signal_V()
    i_dc = 0.1 / contact.series_resistance_ohm
    peak = 2 ** 0.5 * 1.0 / (contact.excitation_resistance_ohm + contact.dvdi_ohm(i_dc))
    h = peak * 0.05
    d2v = (contact.dvdi_ohm(i_dc + h) - contact.dvdi_ohm(i_dc - h)) / (2 * h)
    assert second.real == pytest.approx(d2v * peak ** 2 / 4 / 2 ** 0.5, rel=1e-9)
    assert 0 < abs(second) < 1e-3 * abs(first)
    assert em.fundamental_V() == pytest.approx(abs(first))  # the input still sees it
    em.handle("HARM 3")
    assert em.signal_V() == 0


def test_external_reference_without_a_signal_is_unlocked(em):
    em.handle("SLVL 1.0;FMOD 0;LIAS?")
    assert em.signal_V() == 0
    assert em.handle("LIAS? 3") == "1"  # reference unlock
    em.handle("FMOD 1;LIAS?")
    assert em.handle("LIAS? 3") == "0"
