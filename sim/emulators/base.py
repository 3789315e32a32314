"""Base class of the instrument emulators.

An emulator is a command parser bound to the shared :class:`~pcsdaq.sim.lab.SimLab`
state. Transports (TCP server, in-process adapter) split the incoming byte stream on
``command_terminators``, call :meth:`Emulator.handle` for each message and write back the
reply followed by ``reply_terminator``. Emulators never sleep and never touch sockets: an
instrument that needs time before it answers (a DMM integrating over its NPLC) says so in
:attr:`Emulator.reply_after_s`; the transport takes it with the reply, under the lab lock,
and waits that long on the lab clock, outside the lock, before it delivers the reply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from pcsdaq.sim.lab import SimLab


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
    #: real s the TCP transport waits before the greeting, as the instrument takes a moment
    #: (a client that clears the socket right after connecting, as VISA's device clear
    #: does, still finds the greeting)
    greeting_delay_s: float = 0.0
    #: set by handle(): (virtual) s the instrument still needs before the reply is ready
    reply_after_s: float = 0.0
    #: the instrument's port the transport stands for: "gpib" (TCP and in-process, as
    #: through a GPIB-Ethernet gateway) or "rs232" (the serial transport sets it)
    interface: str = "gpib"

    #: header as the manual spells it -> one-line description, for each command implemented
    #: (read by :mod:`pcsdaq.sim.coverage`)
    COMMANDS: ClassVar[dict[str, str]] = {}
    #: header -> why it is not implemented
    NOT_IMPLEMENTED: ClassVar[dict[str, str]] = {}

    def __init__(self, lab: SimLab) -> None:
        self.lab = lab
        #: (message, exception) of every message whose handling raised: the transports
        #: keep the link up and record it here (a fuzz test asserts it stays empty)
        self.unhandled: list[tuple[str, str]] = []

    def handle(self, message: str) -> str | bytes | None:
        """Process one message (terminator stripped); return the reply text without its
        terminator, or None when the instrument sends nothing back (bytes: a binary block,
        sent as it is with no terminator)."""
        raise NotImplementedError

    def take_reply_delay(self) -> float:
        """(Virtual) s to wait before delivering the reply of the message just handled; reset
        to 0. Transports call it right after :meth:`handle`, under the same lock."""
        wait, self.reply_after_s = self.reply_after_s, 0.0
        return wait

    def on_connect(self) -> bytes:
        """Bytes sent to a newly connected client."""
        return self.greeting

