"""Bad input as each instrument treats it, over a real TCP link: Lake Shore boxes stay
silent and set CME/EXE, the AMI 430 queues SCPI errors, the Mercury answers INVALID or
NOT_FOUND, the IPS120 echoes ``?<cmd>``; the link stays up and valid commands work after."""

import random
import string

import pytest
import pyvisa

from pcsdaq.clock import VirtualClock
from pcsdaq.sim.lab import SimLab

#: emulator -> (terminator, a valid query, what its reply starts with)
VALID = {"ls372": ("\r\n", "*IDN?", "LSCI,MODEL372"), "ls336": ("\r\n", "*IDN?", "LSCI,MODEL336"),
         "ls350": ("\r\n", "*IDN?", "LSCI,MODEL350"), "ls370": ("\r\n", "*IDN?", "LSCI,MODEL370"),
         "ami430": ("\r\n", "*IDN?", "AMERICAN MAGNETICS"),
         "mercury": ("\n", "*IDN?", "IDN:OXFORD INSTRUMENTS"), "ips120": ("\r", "V", "IPS120")}


def _garbage(rng, emu):
    headers = list(getattr(emu, "COMMANDS", {})) or ["X"]
    pieces = [rng.choice(headers), "".join(rng.choice(string.printable[:94]) for _ in
                                           range(rng.randint(0, 10)))]
    line = rng.choice(pieces) + rng.choice(["", " ", ":", ","]) + rng.choice(
        ["1", "nan", "-1e400", "A,B,C", "\x7f", "", "9" * 40])
    return line.replace("\r", "").replace("\n", "")


@pytest.mark.parametrize("name", sorted(VALID))
def test_garbage_never_costs_the_link(name):
    lab = SimLab(clock=VirtualClock())
    emu = lab.emulators[name]
    term, query, expected = VALID[name]
    rng = random.Random(name)
    with lab.serve(ports={name: 0}, emulators=[name]) as server:
        rm = pyvisa.ResourceManager("@py")
        inst = rm.open_resource(server.resources[name], read_termination=term,
                                write_termination=term, timeout=2000)
        try:
            if name == "ami430":
                inst.read(), inst.read()  # the greeting
            for _ in range(300):
                inst.write(_garbage(rng, emu))
            # whatever the garbage drew is answered in order and nothing more: drain it
            inst.timeout = 300
            replies = 0
            while True:
                try:
                    inst.read()
                    replies += 1
                except pyvisa.errors.VisaIOError:
                    break
            assert replies < 300 or name in ("mercury", "ips120")  # those answer every line
            inst.timeout = 2000
            assert inst.query(query).startswith(expected)
        finally:
            inst.close()
            rm.close()


def test_each_instruments_own_error_report():
    lab = SimLab(clock=VirtualClock())
    ls, ami = lab.emulators["ls336"], lab.emulators["ami430"]
    assert ls.handle("FOO 1") is None and ls.handle("*ESR?") == "032"
    assert ami.handle("FOO:BAR?") is None and ami.handle("SYST:ERR?").startswith("-101")
    assert lab.emulators["mercury"].handle("FOO").endswith(":INVALID")
    assert lab.emulators["ips120"].handle("FOO") == "?FOO"
