"""Serial transport: emulators on pseudo-terminals, opened by pyvisa-py as serial ports.

Each served emulator gets a pty pair; the client opens the slave side
(``ASRL/dev/pts/N::INSTR``) exactly as it opens a USB-serial adapter: pyvisa-py's serial
session, through pyserial and termios. The emulator answers on the master side with the
loop the TCP transport uses (:func:`pcsdaq.sim.server.answer_messages`). The line is as
slow as the client set it up: every command and reply takes its bytes x (start + data +
parity + stop bits) / baud of lab time, read from the terminal's settings (SNAP? and its
reply, 37 bytes at 9600 baud 8N1: 38.5 ms). A Linux pty keeps no parity bit in its
settings, and pyvisa-py fails to open one with 7 data bits (EINVAL), so a client of the
Lake Shores' 7O1 line opens it as 8N1 here, and parity is not counted. A serial line has
no connection, so there is no greeting; a "drop" fault loses the message in flight and the
line goes on answering (a glitch: the client's query times out, and a reopen
works). POSIX only (``pty``).
"""

from __future__ import annotations

import os
import select
import termios
import threading
import tty
from typing import TYPE_CHECKING

from pcsdaq.sim.server import answer_messages

if TYPE_CHECKING:
    from threading import RLock

    from pcsdaq.sim.emulators.base import Emulator
    from pcsdaq.sim.faults import TransportFaults

#: how often (s) a reader thread looks whether the server was closed
_POLL_S = 0.1
#: termios speed constant -> baud
_BAUD = {getattr(termios, n): int(n[1:]) for n in dir(termios)
         if n.startswith("B") and n[1:].isdigit()}
_DATA_BITS = {termios.CS5: 5, termios.CS6: 6, termios.CS7: 7, termios.CS8: 8}


def line_time_s(fd: int, n_bytes: int) -> float:
    """Time (s) ``n_bytes`` take on the serial line ``fd`` as its terminal settings say
    (baud rate, data bits, parity, stop bits; a pty keeps no parity); 0 at speed 0."""
    attrs = termios.tcgetattr(fd)
    cflag, speed = attrs[2], attrs[5]
    baud = _BAUD.get(speed, 0)
    if baud <= 0:
        return 0.0
    bits = (1 + _DATA_BITS[cflag & termios.CSIZE] + (1 if cflag & termios.PARENB else 0)
            + (2 if cflag & termios.CSTOPB else 1))
    return n_bytes * bits / baud


class PtyServer:
    """Serves ``names`` of ``emulators`` on pseudo-terminals; ``resources`` maps name ->
    "ASRL/dev/pts/N::INSTR". Use as a context manager (close() releases the terminals)."""

    def __init__(self, emulators: dict[str, Emulator], names: list[str],
                 faults: TransportFaults | None = None, lock: RLock | None = None) -> None:
        unknown = sorted(set(names) - set(emulators))
        if unknown:
            raise ValueError(f"no emulator {', '.join(unknown)}; known: "
                             f"{', '.join(sorted(emulators))}")
        self.faults = faults
        self.resources: dict[str, str] = {}
        self._fds: list[int] = []
        self._threads: list[threading.Thread] = []
        self._served = [emulators[name] for name in names]
        self._closed = threading.Event()
        lock = lock or threading.RLock()  # one lock for the whole lab
        for name in names:
            emulators[name].interface = "rs232"
            master, slave = os.openpty()
            tty.setraw(slave)  # no echo, no line editing, before any client opens it
            # the slave stays open here too: with no slave open, reads on the master fail
            self._fds += [master, slave]
            self.resources[name] = f"ASRL{os.ttyname(slave)}::INSTR"
            thread = threading.Thread(target=self._serve,
                                      args=(master, slave, emulators[name], lock), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _chunks(self, master: int):
        while not self._closed.is_set():
            ready, _, _ = select.select([master], [], [], _POLL_S)
            if not ready:
                continue
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            if not data:
                return
            yield data

    def _serve(self, master: int, slave: int, emu: Emulator, lock: RLock) -> None:
        def send(data: bytes) -> None:
            os.write(master, data)

        def on_the_line(n_bytes: int) -> float:
            return line_time_s(slave, n_bytes)

        # after a "drop" the message in flight is lost and the line answers again
        while answer_messages(emu, lock, self.faults, self._chunks(master), send,
                              on_the_line):
            pass

    def close(self) -> None:
        """Stop answering and release the terminals."""
        self._closed.set()
        for thread in self._threads:  # each notices within _POLL_S
            thread.join(timeout=2.0)
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds.clear()
        for emu in self._served:  # back on the GPIB side for the other transports
            emu.interface = "gpib"

    def __enter__(self) -> PtyServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
