"""TCP transport: one listener per emulator on 127.0.0.1, threads, one lock per emulator."""

from __future__ import annotations

import re
import socket
import threading
from typing import Any


class SimServer:
    """Serves emulators; ``resources`` maps name -> "TCPIP::host::PORT::SOCKET"."""

    def __init__(self, emulators: dict[str, Any], host: str = "127.0.0.1",
                 ports: dict[str, int] | None = None, faults: Any = None,
                 lock: Any = None) -> None:
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

    def _accept(self, srv: socket.socket, emu: Any, lock: threading.Lock) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=self._client, args=(conn, emu, lock), daemon=True).start()

    def _client(self, conn: socket.socket, emu: Any, lock: threading.Lock) -> None:
        split = re.compile("|".join(re.escape(t) for t in emu.command_terminators))
        buf = ""
        with conn:
            greeting = emu.on_connect()
            if greeting:
                conn.sendall(greeting)
            while True:
                try:
                    data = conn.recv(4096)
                except OSError:
                    return
                if not data:
                    return
                buf += data.decode(errors="replace")
                *messages, buf = split.split(buf)
                for msg in messages:
                    if self.faults is not None and self.faults.drop(emu.name):
                        return  # closing the socket: the client sees the link drop
                    with lock:
                        reply = emu.handle(msg)
                        wait = emu.take_reply_delay()
                    if wait > 0:  # the instrument is still busy (a DMM integrating)
                        emu.lab.clock.sleep(wait)
                    if self.faults is not None:
                        reply = self.faults.reply(emu.name, reply)
                    if reply is not None:
                        conn.sendall((reply + emu.reply_terminator).encode())

    def close(self) -> None:
        """Stop listening."""
        self._closed.set()
        for s in self._socks:
            s.close()

    def __enter__(self) -> SimServer:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
