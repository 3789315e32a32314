import numpy as np
import pytest

from pcsdaq.clock import VirtualClock
from pcsdaq.sim.contact import Contact
from pcsdaq.sim.emulators.anc300 import ANC300Emulator


class FakeLab:
    def __init__(self):
        self.clock = VirtualClock()
        self.rng = np.random.default_rng(5)
        self.contact = Contact(self, {"gap_m": 2e-6})


@pytest.fixture
def em():
    e = ANC300Emulator(FakeLab())
    assert b"\xff" in e.on_connect()
    assert e.handle("123456") == "123456\r\nAuthorization success"
    assert e.handle("echo off") == "echo off\r\nOK"
    return e


def test_password_required():
    e = ANC300Emulator(FakeLab())
    e.on_connect()
    assert "failed" in e.handle("000000")
    assert e.handle("123456").endswith("Authorization success")


def test_set_get_and_errors(em):
    assert em.handle("setv 3 42.5") == "OK"
    assert em.handle("getv 3") == "voltage = 42.500000 V\r\nOK"
    assert em.handle("setf 3 20000") == "Value out of range\r\nERROR"
    assert em.handle("getf 3") == "frequency = 1000 Hz\r\nOK"
    assert em.handle("setm 3 stp") == "OK" and em.handle("getm 3") == "mode = stp\r\nOK"
    assert em.handle("frobnicate").endswith("ERROR")


def test_steps_move_needle_to_contact(em):
    lab = em.lab
    assert em.handle("stepu 3 10").endswith("ERROR")  # grounded axis does not step
    em.handle("setm 3 stp")
    em.handle("setv 3 30")
    for _ in range(100):
        if lab.contact.touching:
            break
        assert em.handle("stepu 3 10") == "OK"
    assert lab.contact.touching
    r = lab.contact.normal_resistance_ohm()
    em.handle("stepu 3 50")
    assert lab.contact.normal_resistance_ohm() < r
    em.handle("stepd 3 2000")
    assert not lab.contact.touching


def test_pymeasure_anc300_client_works():
    from pymeasure.adapters import Adapter
    from pymeasure.instruments.attocube import ANC300Controller

    class LineAdapter(Adapter):
        def __init__(self, emulator):
            super().__init__()
            self.em = emulator
            self.buf = emulator.on_connect().decode("latin-1")

        def _write(self, command, **kwargs):
            reply = self.em.handle(command.rstrip("\r\n"))
            if reply is not None:
                self.buf += reply + self.em.reply_terminator

        def _read(self, **kwargs):
            line, _, self.buf = self.buf.partition("\r\n")
            return line

        def flush_read_buffer(self):
            self.buf = ""

    lab = FakeLab()
    anc = ANC300Controller(LineAdapter(ANC300Emulator(lab)), axisnames=["x", "y", "z"],
                           passwd="123456", query_delay=0)
    anc.z.mode = "stp"
    anc.z.voltage = 30
    assert anc.z.voltage == pytest.approx(30)
    assert anc.z.mode == "stp"
    anc.z.move_raw(1000)
    assert lab.contact.touching
