"""Base class of the instrument emulators.

An emulator is a command parser bound to the shared :class:`~pcsdaq.sim.lab.SimLab`
state. Transports (TCP server, in-process adapter) split the incoming byte stream on
``command_terminators``, call :meth:`Emulator.handle` for each message and write back the
reply followed by ``reply_terminator``. Emulators never sleep and never touch sockets.
"""

from __future__ import annotations

from typing import Any


class Emulator:
    """One simulated instrument speaking its real command set."""

    #: short name used by ``pcsdaq sim serve`` and fault injection (e.g. "sr830")
    name: str = "instrument"
    #: byte sequences that end an incoming message (any of them)
    command_terminators: tuple[str, ...] = ("\n",)
    #: appended to every reply
    reply_terminator: str = "\n"
    #: sent once when a client connects (AMI 430 greeting, ANC300 junk bytes)
    greeting: bytes = b""

    def __init__(self, lab: Any) -> None:
        self.lab = lab

    def handle(self, message: str) -> str | None:
        """Process one message (terminator stripped); return the reply text without its
        terminator, or None when the instrument sends nothing back."""
        raise NotImplementedError

    def on_connect(self) -> bytes:
        """Bytes sent to a newly connected client."""
        return self.greeting
