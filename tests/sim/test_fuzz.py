"""Fuzzing every served emulator with random, garbled and truncated lines over TCP and over
the serial (pty) transport: the link stays up, no emulator raises, a valid command still
works afterwards, and the SR830, Keithley 2000 and ANC300 report bad input as their manuals
say (*ESR? command-error bit, -113 in the error queue, ERROR)."""

import os
import select
import socket
import time
import tty

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from served_lab import HAVE_PTYS

from pcsdaq.clock import VirtualClock
from pcsdaq.sim.lab import SimLab

NAMES = list(SimLab(clock=VirtualClock()).emulators)  # the registry: every served emulator
#: emulators whose bad-input behaviour this file checks in detail (the others: link and probe)
STRICT = ("sr830", "keithley2000", "anc300")
#: a valid set-and-query per emulator and the reply it must give: a value the fuzz lines
#: are unlikely to produce, so an old reply cannot pass for the probe's (n: a counter)
PROBES = {
    "sr830": lambda n: ([f"AUXV 4,{n / 1000:.3f}", "AUXV? 4"], f"{n / 1000:.3f}"),
    "keithley2000": lambda n: ([f":DISP:TEXT:DATA 'K{n}'", ":DISP:TEXT:DATA?"], f"'K{n}'"),
    "anc300": lambda n: ([f"setf 7 {n}", "getf 7"], f"frequency = {n} Hz"),
}
_counter = iter(range(1000, 10**6))
GENERIC_HEADERS = ["*IDN?", "*RST", "*CLS", "*ESR?", "*STB?", "SETP 1,5", "KRDG? A",
                   "RDGK? 1", "RAMP:RATE:CURR:1 0.1,50", "READ:DEV:GRPZ:PSU:SIG:CURR",
                   "SET:DEV:GRPZ:PSU:SIG:CSET:1.0", "FIELD:MAG?", "HTRRNG 0,3", "PID 1,50,20,0"]
EXTRA_ARGS = ["", " 1", " -1", " 1e999", " nan", " inf", " 99999999999999999999", ",,,",
              " 1,2,3,4,5,6,7,8", " 'VOLT:DC", ' "', " ?", "??", " c", " 0x10", ";;", " ;*IDN?"]


def _headers(name):
    emu = SimLab(clock=VirtualClock()).emulators[name]
    return list(getattr(emu, "COMMANDS", {}) or {}) + GENERIC_HEADERS


def _line_strategy(name):
    headers = _headers(name)
    garbage = st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=80)
    mutated = st.tuples(st.sampled_from(headers), st.sampled_from(EXTRA_ARGS),
                        st.integers(0, 40), st.text(max_size=5)).map(
        lambda t: (t[0] + t[1])[: t[2]] + t[3] if t[2] % 3 == 0 else t[0] + t[1] + t[3])
    return st.lists(st.one_of(garbage, mutated), min_size=1, max_size=40)


class Link:
    """A raw byte link to one served emulator (a TCP socket or a pty's slave side)."""

    def __init__(self, send, recv_ready, recv) -> None:
        self.send, self._ready, self._recv = send, recv_ready, recv
        self.buf = b""

    def until(self, needle: bytes, timeout: float = 5.0) -> bytes:
        """Read until ``needle`` arrives; return everything read (AssertionError on time-out:
        the link is dead or the emulator hangs)."""
        end = time.monotonic() + timeout
        while needle not in self.buf:
            left = end - time.monotonic()
            assert left > 0, f"no {needle!r} within {timeout} s; got {self.buf[-200:]!r}"
            if self._ready(min(left, 0.2)):
                data = self._recv()
                assert data, "the link was closed"
                self.buf += data
        out, _, self.buf = self.buf.partition(needle)
        return out + needle


def _login(name, emu, link):
    if name == "anc300" and emu.interface != "rs232":  # the TCP console's password
        link.send(b"123456\r\n")
        link.until(b"Authorization success")


def _identity_query(name):
    """(command, start of its reply) for an emulator this file knows no probe for: the
    first of *IDN? (SCPI and most), V (Oxford's legacy supplies), ver that a fresh one of
    its kind answers."""
    fresh = SimLab(clock=VirtualClock()).emulators[name]
    fresh.on_connect()
    for command in ("*IDN?", "V", "ver"):
        reply = fresh.handle(command)
        if isinstance(reply, str) and reply.strip():
            return command, reply.strip().splitlines()[0][:12]
    raise AssertionError(f"{name} answers none of *IDN?, V, ver")


def _probe(name, emu, link):
    term = emu.command_terminators[0].encode("latin-1")
    prefix = term  # ends a line the fuzz left unterminated
    if name == "sr830":
        prefix += b"OUTX " + (b"0" if emu.interface == "rs232" else b"1") + term
    if name in PROBES:
        commands, needle = PROBES[name](next(_counter) % 9000 + 1000)
    else:
        command, needle = _identity_query(name)
        commands = [command]
    link.send(prefix + b"".join(c.encode() + term for c in commands))
    link.until(needle.encode("latin-1"))
    link.until(emu.reply_terminator.encode())  # the rest of that reply


def _error_state(name, emu, link):
    """An unknown header as the manual says: SR830 *ESR? bit 5, Keithley -113, ANC300 ERROR."""
    term = emu.command_terminators[0].encode()
    if name == "sr830":
        link.send(b"*CLS" + term + b"FROB 1" + term + b"*ESR?" + term)
        assert link.until(emu.reply_terminator.encode()).strip() == b"32"  # command error
    elif name == "keithley2000":
        link.send(b"*CLS" + term + b":FROB 1" + term + b":SYST:ERR?" + term)
        assert b'-113,"Undefined header"' in link.until(b'"' + term)
    elif name == "anc300":
        link.send(b"frob 1" + term)
        assert b"ERROR" in link.until(b"ERROR")


def _fuzz(name, emu, link, max_examples):
    term = emu.command_terminators[0].encode("latin-1")

    @settings(max_examples=max_examples, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(_line_strategy(name))
    def session(lines):
        link.send(b"".join(line.encode("latin-1", errors="replace") + term for line in lines))
        _probe(name, emu, link)

    session()
    if name in STRICT:  # the others (another helper's) are kept alive by the transport
        assert emu.unhandled == [], emu.unhandled[:3]
    if name in STRICT:
        _error_state(name, emu, link)
    _probe(name, emu, link)


@pytest.fixture(scope="module")
def lab():
    return SimLab(clock=VirtualClock())


@pytest.mark.parametrize("name", NAMES)
def test_fuzz_over_tcp(lab, name):
    emu = lab.emulators[name]
    with lab.serve(ports={name: 0}, emulators=[name]) as server:
        port = int(server.resources[name].split("::")[2])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms ACK waits
            link = Link(sock.sendall,
                        lambda t: bool(select.select([sock], [], [], t)[0]),
                        lambda: sock.recv(65536))
            _login(name, emu, link)
            _fuzz(name, emu, link, max_examples=100)


@pytest.mark.skipif(not HAVE_PTYS, reason="no pseudo-terminals here")
@pytest.mark.parametrize("name", NAMES)
def test_fuzz_over_serial(lab, name):
    emu = lab.emulators[name]
    with lab.serve_serial([name]) as server:
        path = server.resources[name][len("ASRL"):-len("::INSTR")]
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        try:
            tty.setraw(fd)

            def send(data: bytes) -> None:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]

            link = Link(send, lambda t: bool(select.select([fd], [], [], t)[0]),
                        lambda: os.read(fd, 65536))
            _login(name, emu, link)
            _fuzz(name, emu, link, max_examples=25)
        finally:
            os.close(fd)


def test_an_emulator_exception_costs_one_reply_not_the_link():
    """The transport's last line of defence: an emulator bug is recorded, the link stays."""
    from pcsdaq.sim.server import answer_messages

    class Broken:
        name = "broken"
        command_terminators = ("\n",)
        reply_terminator = "\n"
        def __init__(self):
            self.unhandled = []
            self.lab = SimLab(clock=VirtualClock())

        def handle(self, message):
            if message == "boom":
                raise ZeroDivisionError
            return message.upper()

        def take_reply_delay(self):
            return 0.0

    sent = []
    emu = Broken()
    import threading
    answer_messages(emu, threading.Lock(), None, [b"boom\nok\n"], sent.append)
    assert sent == [b"OK\n"] and emu.unhandled[0][0] == "boom"
