"""Shared by the emulator tests: an in-process simulated lab on a virtual clock, and one of
its emulators served over TCP or a serial pseudo-terminal."""

import contextlib
import os

import pytest

from pcsdaq.clock import VirtualClock
from pcsdaq.sim.lab import SimLab


def _have_ptys() -> bool:
    """True when this system can open a pseudo-terminal pair (the serial links' stand-in)."""
    if os.name != "posix":
        return False
    try:
        for fd in os.openpty():
            os.close(fd)
    except (OSError, AttributeError):
        return False
    return True


HAVE_PTYS = _have_ptys()


def new_lab() -> SimLab:
    """A simulated lab on a virtual clock (waits cost no real time)."""
    return SimLab(clock=VirtualClock())


@contextlib.contextmanager
def served(lab, name, transport):
    """The resource of emulator ``name`` served over "tcp" or "serial" (a pty)."""
    if transport == "serial" and not HAVE_PTYS:
        pytest.skip("no pseudo-terminals here")
    server = lab.serve(ports={name: 0}, emulators=[name]) if transport == "tcp" \
        else lab.serve_serial([name])
    with server:
        yield server.resources[name]
