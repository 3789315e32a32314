"""TCP transport: one listener per emulator on 127.0.0.1, a thread per client, one lab lock;
and the message loop every transport shares (:func:`answer_messages`)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from threading import RLock

    from pcsdaq.sim.emulators.base import Emulator
    from pcsdaq.sim.faults import TransportFaults


def answer_messages(emu: Emulator, lock: RLock, faults: TransportFaults | None,
                    chunks: Iterable[bytes],
                    send: Callable[[bytes], None],
                    line_time_s: Callable[[int], float] | None = None) -> bool:
    """Answer a byte stream as the instrument does: split ``chunks`` on the emulator's
    command terminators, handle each message under the lab ``lock``, wait the instrument's
    busy time on the lab clock (outside the lock), apply transport ``faults`` and ``send``
    each reply with its terminator. ``line_time_s(n)``, for a slow line (serial), is the
    time n bytes take on it: the command's bytes are waited before it is handled and the
    reply's before it is sent, on the lab clock. Returns True when a "drop" fault cut the
    link, False when the stream ended."""
    split = re.compile("|".join(re.escape(t) for t in emu.command_terminators))
    buf = ""
    for data in chunks:
        buf += data.decode(errors="replace")
        *messages, buf = split.split(buf)
        for msg in messages:
            if faults is not None and faults.drop(emu.name):
                return True
            if line_time_s is not None:  # the command's bytes arriving
                emu.lab.clock.sleep(line_time_s(len(msg.encode()) + 1))
            with lock:
                try:
                    reply = emu.handle(msg)
                except Exception as exc:  # noqa: BLE001 - a bug in one emulator must not
                    # kill the link: the client sees no reply, the test sees the record
                    record = getattr(emu, "unhandled", None)
                    if record is not None:
                        record.append((msg, repr(exc)))
                    reply = None
                wait = emu.take_reply_delay()
            if wait > 0:  # the instrument is still busy (a DMM integrating)
                emu.lab.clock.sleep(wait)
            if faults is not None and not isinstance(reply, bytes):
                reply = faults.reply(emu.name, reply)
            if reply is not None:
                # a binary block (SR830 TRCB?) goes out as it is, with no terminator
                data = reply if isinstance(reply, bytes) else (
                    reply + emu.reply_terminator).encode()
                if line_time_s is not None:  # the reply's bytes leaving
                    emu.lab.clock.sleep(line_time_s(len(data)))
                send(data)
    return False


def _received(conn: socket.socket):
    while True:
        try:
            data = conn.recv(4096)
        except OSError:
            return
        if not data:
            return
        yield data


class SimServer:
    """Serves emulators; ``resources`` maps name -> "TCPIP::host::PORT::SOCKET"."""

    def __init__(self, emulators: dict[str, Emulator], host: str = "127.0.0.1",
                 ports: dict[str, int] | None = None,
                 faults: TransportFaults | None = None, lock: RLock | None = None) -> None:
        self.faults = faults
        self._socks: list[socket.socket] = []
        self._closed = threading.Event()
        self.resources: dict[str, str] = {}
        for name, emu in emulators.items():
            srv = socket.create_server((host, (ports or {}).get(name, 0)))
            self._socks.append(srv)
            self.resources[name] = f"TCPIP::{host}::{srv.getsockname()[1]}::SOCKET"
            # one lock for the whole lab: the emulators share its physical state
            threading.Thread(target=self._accept, args=(srv, emu, lock or threading.Lock()),
                             daemon=True).start()

    def _accept(self, srv: socket.socket, emu: Emulator, lock: RLock) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=self._client, args=(conn, emu, lock), daemon=True).start()

    def _client(self, conn: socket.socket, emu: Emulator, lock: RLock) -> None:
        with conn:  # leaving it closes the socket: after a "drop" the client sees the link go
            # replies go out at once: with Nagle on, a reply that follows an unacknowledged
            # one waits for the client's delayed ACK (~40 ms)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            greeting = emu.on_connect()
            if greeting:
                time.sleep(getattr(emu, "greeting_delay_s", 0.0))  # real time: on the wire
                conn.sendall(greeting)
            try:
                answer_messages(emu, lock, self.faults, _received(conn), conn.sendall)
            except OSError:  # the client went away while a reply was on its way
                pass

    def close(self) -> None:
        """Stop listening."""
        self._closed.set()
        for s in self._socks:
            s.close()

    def __enter__(self) -> SimServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
