import numpy as np
import pytest

from pcsdaq.clock import VirtualClock
from pcsdaq.sim.contact import Contact
from pcsdaq.sim.emulators.sr830 import SR830Emulator


class FakeLab:
    def __init__(self):
        self.clock = VirtualClock()
        self.rng = np.random.default_rng(1)
        self.contact = Contact(self, {"gap_m": 0.0, "excitation_resistance_ohm": 1e6})
        self.contact.step(1, 30.0)


@pytest.fixture
def lab():
    return FakeLab()


def test_identity_and_set_query(lab):
    em = SR830Emulator(lab)
    assert em.handle("*IDN?").startswith("Stanford_Research_Systems,SR830")
    assert em.handle("FREQ 137.5") is None
    assert float(em.handle("FREQ?")) == 137.5
    assert em.handle("SENS 10;SENS?") == "10"


def test_out_of_range_sets_error_and_keeps_value(lab):
    em = SR830Emulator(lab)
    em.handle("SENS 12")
    assert em.handle("SENS 40") is None
    assert em.handle("SENS?") == "12"
    assert int(em.handle("*ESR?")) & 0x10
    assert int(em.handle("*ESR?")) == 0
    # an unknown header is a command error (*ESR? bit 5), not a hardware error (ERRS?)
    assert em.handle("BOGUS 1") is None and int(em.handle("*ESR?")) == 0x20
    assert em.handle("ERRS?") == "0"


def test_x_follows_contact_after_settling(lab):
    em = SR830Emulator(lab)
    em.handle("SLVL 1.0;OFLT 8;OFSL 3;SENS 26")  # 1 uA through R_touch ~ 50 Ohm
    lab.clock.sleep(0.01)
    early = float(em.handle("OUTP? 1"))
    lab.clock.sleep(em.filter.settle_time_s(1e-4))
    x, y = (float(v) for v in em.handle("SNAP? 1,2").split(","))
    expected = 1.0 / 1e6 * lab.contact.normal_resistance_ohm()
    assert x == pytest.approx(expected, rel=1e-3)
    assert abs(y) < 1e-7
    assert early < 0.5 * expected


def test_overload_latched_until_read(lab):
    em = SR830Emulator(lab)
    em.handle("SLVL 1.0;SENS 0;RMOD 1")
    em.handle("OUTP? 1")
    em.handle("SENS 26")
    assert int(em.handle("LIAS?")) & 1
    assert int(em.handle("LIAS?")) == 0
    em.force_overload = True
    assert em.handle("LIAS? 0") == "1"


def test_pymeasure_sr830_client_works(lab):
    from pymeasure.adapters import Adapter
    from pymeasure.instruments.srs import SR830

    class LineAdapter(Adapter):
        def __init__(self, emulator):
            super().__init__()
            self.em, self.buf = emulator, ""

        def _write(self, command, **kwargs):
            reply = self.em.handle(command.rstrip("\n"))
            if reply is not None:
                self.buf += reply + "\n"

        def _read(self, **kwargs):
            line, _, self.buf = self.buf.partition("\n")
            return line

    em = SR830Emulator(lab)
    li = SR830(LineAdapter(em))
    li.sine_voltage = 1.0
    li.time_constant = 0.1
    li.sensitivity = 1.0
    li.aux_out_1 = 0.5
    assert li.sine_voltage == pytest.approx(1.0)
    assert li.time_constant == pytest.approx(0.1)
    assert em.aux_out[0] == pytest.approx(0.5)
    lab.clock.sleep(10.0)
    x, _y = li.snap("X", "Y")
    assert x == pytest.approx(1e-6 * lab.contact.normal_resistance_ohm(), rel=1e-3)
