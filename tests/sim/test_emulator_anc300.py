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


def test_every_console_command(em):
    assert "capw" in em.handle("help") and em.handle("help").endswith("OK")
    assert em.handle("ver").startswith("attocube ANC300 controller version")
    assert em.handle("getcser").endswith("\r\nOK") and em.handle("getser 1").startswith("ANM150")
    assert em.handle("getser 4").startswith("ANM250")
    assert em.handle("setf 1 250") == "OK" and em.handle("getf 1") == "frequency = 250 Hz\r\nOK"
    assert em.handle("seta 4 12.5") == "OK" and em.handle("geta 4") == "voltage = 12.500000 V\r\nOK"
    assert em.handle("geto 4") == "voltage = 0.000000 V\r\nOK"  # grounded
    assert em.handle("setm 4 stp+") == "OK"
    assert em.handle("geto 4") == "voltage = 12.500000 V\r\nOK"
    assert em.handle("setm 1 stp+") == "Wrong axis type\r\nERROR"  # ANM150: no offset modes
    assert em.handle("setm 1 inp") == "Wrong axis type\r\nERROR"
    assert em.handle("setm 2 cap") == "OK" and em.handle("getm 2") == "mode = gnd\r\nOK"
    assert em.handle("capw 2") == "capacitance = 1012.500000 nF\r\nOK"
    assert em.handle("getc 2") == "capacitance = 1012.500000 nF\r\nOK"
    em.handle("setm 1 stp")
    assert em.handle("stepu 1 c") == "OK" and em.handle("stop 1") == "OK"
    assert em.handle("stepd 1 5") == "OK" and em.handle("stepw 1") == "OK"
    assert em.steps_done[1] == -5
    pattern = " ".join(str(255 - i) for i in range(256))
    assert em.handle(f"setpu 1 {pattern}") == "OK"
    assert em.handle("getpu 1").split("\r\n")[:2] == ["255", "254"]
    assert em.handle("getpd 1").split("\r\n")[0] == "255"
    assert em.handle("setpd 1 1 2 3").endswith("ERROR")  # not 256 values
    for setting, query, reply in (("setdci 5 on", "getdci 5", "dcin = on"),
                                  ("setaci 5 on", "getaci 5", "acin = on"),
                                  ("settu 5 3", "gettu 5", "trigger = 3"),
                                  ("settd 5 off", "gettd 5", "trigger = off"),
                                  ("setfil 5 160", "getfil 5", "filter = 160")):
        assert em.handle(setting) == "OK"
        assert em.handle(query) == f"{reply}\r\nOK"
    assert em.handle("echo on") == "OK"  # echoed from the next line on
    assert em.handle("getm 5") == "getm 5\r\nmode = gnd\r\nOK"


@pytest.mark.parametrize("line", ["getv", "getv 9", "getv x", "setv 3", "setv 3 abc",
                                  "setv 3 200", "setm 3 fly", "stepu 3 -1", "echo maybe",
                                  "ver 1", "stepu", "getf 1 2", "\x00\xff"])
def test_bad_input_answers_error(em, line):
    reply = em.handle(line)
    assert reply.endswith("\r\nERROR") and reply.count("\r\n") == 1
    assert em.handle("getm 3") == "mode = gnd\r\nOK"


def test_continuous_stepping_runs_on_the_lab_clock_until_stop(em):
    em.handle("setm 5 stp")
    em.handle("setf 5 100")
    assert em.handle("stepu 5 c") == "OK"
    em.lab.clock.sleep(2.0)
    em.handle("getm 5")
    assert em.steps_done[5] == 200
    assert em.handle("stop 5") == "OK"
    em.lab.clock.sleep(2.0)
    em.handle("getm 5")
    assert em.steps_done[5] == 200
    em.handle("stepd 5 c")
    em.lab.clock.sleep(0.5)
    em.handle("setm 5 gnd")  # leaving step mode stops it
    em.lab.clock.sleep(1.0)
    em.handle("getm 5")
    assert em.steps_done[5] == 150
