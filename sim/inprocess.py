"""In-process pymeasure Adapter talking straight to an emulator (no sockets)."""

from __future__ import annotations

import re
from collections import deque
from typing import TYPE_CHECKING, Any

from pymeasure.adapters import Adapter

if TYPE_CHECKING:
    from threading import RLock

    from pcsdaq.sim.emulators.base import Emulator
    from pcsdaq.sim.faults import TransportFaults


class InProcessAdapter(Adapter):
    """Splits writes on the emulator's command terminators; replies queue for reads."""

    def __init__(self, emulator: Emulator, faults: TransportFaults | None = None,
                 lock: RLock | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.emulator = emulator
        self.faults = faults
        self.lock = lock
        self.dropped = False
        self._buf = ""
        self._replies: deque[str] = deque()
        greeting = emulator.on_connect()
        if greeting:
            self._replies.append(greeting.decode(errors="replace"))
        self._split = re.compile("|".join(re.escape(t) for t in emulator.command_terminators))

    def _check_link(self) -> None:
        name = self.emulator.name
        if not self.dropped and self.faults is not None and self.faults.drop(name):
            self.dropped = True
        if self.dropped:
            raise ConnectionError(f"connection to the simulated {name} was dropped")

    def _write(self, command: str, **kwargs: Any) -> None:
        self._check_link()
        term = self.emulator.command_terminators[0]
        self._buf += command if self._split.search(command) else command + term
        *messages, self._buf = self._split.split(self._buf)
        for msg in messages:
            if self.lock is not None:
                with self.lock:
                    reply = self.emulator.handle(msg)
                    wait = self.emulator.take_reply_delay()
            else:
                reply = self.emulator.handle(msg)
                wait = self.emulator.take_reply_delay()
            if wait > 0:  # the instrument is still busy (a DMM integrating)
                self.emulator.lab.clock.sleep(wait)
            if self.faults is not None and not isinstance(reply, bytes):
                reply = self.faults.reply(self.emulator.name, reply)
            if isinstance(reply, bytes):  # a binary block (SR830 TRCB?): no terminator
                self._replies.append(reply.decode("latin-1"))
            elif reply is not None:
                self._replies.append(reply + self.emulator.reply_terminator)

    def _read(self, **kwargs: Any) -> str:
        self._check_link()
        if not self._replies:
            raise TimeoutError("no reply queued")
        return self._replies.popleft().rstrip("\r\n")
