"""The SR830's data buffer: two channels of 16383 points, filled at ``SRAT`` on the lab clock.

Sampling is lazy: the emulator calls :meth:`DataBuffer.catch_up` before it handles each
message (and before the contact changes), and every point due since the last call is taken
then, at its own time on the lab clock (the output filter is evaluated at that instant, with
fresh noise per point, all points of one call in one numpy pass), so
``SPTS?`` and ``TRCA?`` see exactly the points a real instrument would have stored.
Sample rate index i (0-13) is 62.5 mHz * 2**i; 14 means one point per ``TRIG``.
``SEND 0`` (1 shot) stops at a full buffer, ``SEND 1`` (loop) overwrites the oldest.
"""

from __future__ import annotations

import math
import struct
from collections import deque
from collections.abc import Callable

import numpy as np

CAPACITY = 16383
TRIGGER_RATE = 14


def sample_rate_hz(index: int) -> float:
    """Points per second (Hz) of ``SRAT index`` (0-13); 0 for 14 (external trigger)."""
    return 0.0 if index == TRIGGER_RATE else 0.0625 * 2.0 ** index


def trcl_word(value: float) -> bytes:
    """One ``TRCL?`` point: int16 mantissa m and int16 exponent e, value = m * 2**(e-124),
    little-endian (the PC byte order the manual gives)."""
    if value == 0 or not math.isfinite(value):
        return struct.pack("<hh", 0, 0)
    frac, ex = math.frexp(value)  # value = frac * 2**ex, 0.5 <= |frac| < 1
    mant = max(-32768, min(32767, round(frac * 32768)))
    return struct.pack("<hh", mant, ex - 15 + 124)


class DataBuffer:
    """Two-channel storage of CH1/CH2 display values (lab time in s, values in display units).

    ``sample(times)`` returns the (CH1, CH2) arrays the instrument would store at the lab
    times ``times`` (s, a numpy array, none later than now)."""

    def __init__(self, sample: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]) -> None:
        self.sample = sample
        self.points: deque[tuple[float, float]] = deque()
        self.running = False
        self.rate_index = 10
        self.loop = True  # SEND 1 (loop) is the power-on default
        self._t0 = 0.0  # lab time of point number 0 of the present run
        self._taken = 0  # points taken in the present run

    def reset(self) -> None:
        """``REST``: empty the buffer and stop (paused)."""
        self.points.clear()
        self.running = False
        self._taken = 0

    def start(self, now: float) -> None:
        """``STRT``: start or resume storing at the present rate from lab time ``now``."""
        if self.running:
            return
        self.running = True
        self._t0, self._taken = now, 0
        if self.rate_index != TRIGGER_RATE:
            self._store_at(np.array([now]))  # the first point at once
            self._taken = 1

    def pause(self, now: float) -> None:
        """``PAUS``: take what is due up to ``now`` and stop."""
        self.catch_up(now)
        self.running = False

    def trigger(self, now: float) -> None:
        """A trigger (``TRIG``) with ``SRAT 14``: store one point now."""
        if self.running and self.rate_index == TRIGGER_RATE:
            self._store_at(np.array([now]))

    def catch_up(self, now: float) -> None:
        """Take every point due up to lab time ``now`` (s)."""
        if not self.running or self.rate_index == TRIGGER_RATE:
            return
        dt = 1.0 / sample_rate_hz(self.rate_index)
        due = math.floor((now - self._t0) / dt + 1e-9) + 1
        if due <= self._taken:
            return
        first = self._taken
        if self.loop:  # older points would be overwritten anyway
            first = max(first, due - CAPACITY)
        else:  # 1 shot: no more than fit
            due = min(due, first + CAPACITY - len(self.points))
        self._store_at(self._t0 + np.arange(first, due) * dt)
        self._taken = due

    def _store_at(self, times: np.ndarray) -> None:
        """Store the points taken at ``times``; a full 1-shot buffer stops storing."""
        if not self.loop and len(self.points) >= CAPACITY:
            self.running = False
            return
        if len(times):
            ch1, ch2 = self.sample(times)
            self.points.extend(zip(ch1.tolist(), ch2.tolist(), strict=True))
        if self.loop:
            while len(self.points) > CAPACITY:
                self.points.popleft()
        elif len(self.points) >= CAPACITY:
            self.running = False  # 1 shot: storage stops when the buffer is full

    def read(self, channel: int, first: int, count: int) -> list[float]:
        """Points ``first`` .. ``first+count-1`` (0 = oldest) of ``channel`` (1 or 2);
        ValueError when they are not all stored (the instrument's execution error)."""
        if channel not in (1, 2) or first < 0 or count < 1 or first + count > len(self.points):
            raise ValueError("buffer range")
        return [self.points[i][channel - 1] for i in range(first, first + count)]
