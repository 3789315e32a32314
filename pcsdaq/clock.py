"""Clocks shared by the simulated instruments and the procedures' waits.

Real hardware runs on :class:`ScaledClock` with scale 1. The simulated lab may run faster
than real time (``time_scale`` > 1) so an overnight temperature series takes minutes; the
station hands the same clock to the procedures so that their waits and the simulated
physics agree. :class:`VirtualClock` advances only when somebody sleeps: deterministic and
instant, for in-process tests.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """What procedures, the engine and the simulated lab ask of a clock (virtual seconds)."""

    def now(self) -> float:
        """Seconds since the clock was made."""

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""


class ScaledClock:
    """Wall clock running ``scale`` times faster than real time. Times in (virtual) s."""

    def __init__(self, scale: float = 1.0) -> None:
        if not scale > 0:
            raise ValueError(f"time scale must be > 0, got {scale!r}")
        self.scale = float(scale)
        self._t0_real = time.monotonic()

    def now(self) -> float:
        """Virtual seconds since the clock was made."""
        return (time.monotonic() - self._t0_real) * self.scale

    #: the last part of a wait is spun rather than slept: time.sleep wakes late by ~0.1 ms
    #: and to cold caches, which adds up over a sweep of short settle waits
    SPIN_S = 1e-3

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of virtual time (seconds / scale of real time), to ~10 us."""
        if seconds <= 0:
            return
        deadline = time.monotonic() + seconds / self.scale
        coarse = seconds / self.scale - self.SPIN_S
        if coarse > 0:
            time.sleep(coarse)
        while time.monotonic() < deadline:
            pass


class VirtualClock:
    """A clock that stands still until :meth:`sleep` advances it (thread-safe)."""

    scale = float("inf")

    def __init__(self, start: float = 0.0) -> None:
        self._t = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        """Virtual seconds."""
        with self._lock:
            return self._t

    def sleep(self, seconds: float) -> None:
        """Advance virtual time by ``seconds`` at once."""
        if seconds > 0:
            with self._lock:
                self._t += seconds

    def advance(self, seconds: float) -> None:
        """Alias of :meth:`sleep`, for tests that move time on purpose."""
        self.sleep(seconds)
