"""Waiting for the cryostat and the magnet, on the station clock, between checkpoints.

While waiting for a temperature the thermometer's own diagnostics are read at every poll
and two faults end the step in the safe state (ExperimentFault, never retried) instead of
waiting out the timeout and measuring at a wrong temperature:

* the heater reports open or shorted (``HTRST?``), or the stage shows no response to the
  heater: asked to heat, T has not risen by a tenth of the gap (at least the tolerance)
  within ``NO_RESPONSE_S``;
* the reading status reports an invalid reading (``RDGST?``: under/over range, overload)
  continuously for ``INVALID_GRACE_S``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pcsdaq.errors import ExperimentFault, PcsdaqError, QuenchError

#: lab seconds an invalid thermometer reading may last before the step ends
INVALID_GRACE_S = 60.0
#: lab seconds the stage may show no response to the heater before the step ends
NO_RESPONSE_S = 1800.0

if TYPE_CHECKING:
    from pcsdaq.clock import Clock
    from pcsdaq.procedures.base import RunContext


class StabilityTimeout(PcsdaqError):
    """The temperature did not settle within the allowed time."""


class HeaterFault(ExperimentFault):
    """The heater is open or shorted, or the stage does not respond to it."""


class ThermometerFault(ExperimentFault):
    """The thermometer reading stays invalid."""


class MagnetFault(ExperimentFault):
    """The magnet does not reach its target (never holds within the timeout)."""


def reading_status(therm: Any) -> set[str]:
    """The thermometer's reading-status flags (empty: valid); one ``RDGST?``."""
    status = getattr(therm, "reading_status", None)
    if status is not None:
        return set(status())
    return set() if therm.reading_valid() else {"invalid"}


def check_heater(therm: Any) -> None:
    """HeaterFault when the controller reports its heater open or shorted (``HTRST?``)."""
    status = getattr(therm, "heater_status", None)
    if status is None:
        return
    state = status()
    if state in ("open", "short"):
        raise HeaterFault(f"heater {state} (the controller's heater status): the heater "
                          "cannot drive the temperature")


class InvalidReadingWatch:
    """Raises ThermometerFault once the reading has been invalid for ``grace_s``."""

    def __init__(self, clock: Clock, grace_s: float = INVALID_GRACE_S) -> None:
        self.clock = clock
        self.grace_s = grace_s
        self.since: float | None = None

    def update(self, status: set[str], temperature_K: float) -> None:
        """Feed one reading's status flags and value."""
        now = self.clock.now()
        if not status:
            self.since = None
            return
        if self.since is None:
            self.since = now
        if now - self.since >= self.grace_s:
            raise ThermometerFault(
                f"thermometer reading invalid ({', '.join(sorted(status))}) for "
                f"{now - self.since:.0f} s (reads {temperature_K:g} K)")


class HeaterResponseWatch:
    """Raises HeaterFault when, asked to heat towards ``setpoint_K``, the stage has not
    risen by max(tolerance, a tenth of the gap) within ``window_s``."""

    def __init__(self, clock: Clock, setpoint_K: float, tolerance_K: float,
                 window_s: float = NO_RESPONSE_S) -> None:
        self.clock = clock
        self.setpoint_K = setpoint_K
        self.tolerance_K = tolerance_K
        self.window_s = window_s
        self._start: tuple[float, float] | None = None

    def update(self, temperature_K: float) -> None:
        """Feed one valid reading."""
        now = self.clock.now()
        gap = self.setpoint_K - temperature_K
        if gap <= self.tolerance_K or not math.isfinite(temperature_K):
            self._start = None  # there, or cooling: nothing to heat
            return
        if self._start is None:
            self._start = (now, temperature_K)
            return
        t0, temp0 = self._start
        if now - t0 < self.window_s:
            return
        needed = max(self.tolerance_K, 0.1 * (self.setpoint_K - temp0))
        if temperature_K - temp0 < needed:
            raise HeaterFault(
                f"no temperature response to the heater: T went from {temp0:.4g} to "
                f"{temperature_K:.4g} K in {now - t0:.0f} s heating towards "
                f"{self.setpoint_K:g} K (open heater or wiring?)")
        self._start = (now, temperature_K)


def wait_temperature(ctx: RunContext, setpoint_K: float, tolerance_K: float, window_s: float,
                     timeout_s: float, poll_s: float = 5.0) -> float:
    """Block until |T - setpoint| <= tolerance continuously for window_s, the bridge reports
    its reading settled and valid. Returns T in K; raises StabilityTimeout after timeout_s,
    HeaterFault / ThermometerFault (see the module doc) as soon as one is detected."""
    station = ctx.station
    therm = station.thermometer
    start = station.clock.now()
    inside_since = None
    poll = max(min(poll_s, window_s / 5.0 if window_s > 0 else poll_s), 0.1)
    invalid = InvalidReadingWatch(station.clock)
    response = HeaterResponseWatch(station.clock, setpoint_K, tolerance_K)
    while True:
        with station.lock:
            t = therm.read_temperature()
            status = reading_status(therm)
            check_heater(therm)
            ok = not status and abs(t - setpoint_K) <= tolerance_K
            settled = ok and therm.is_settled()
        invalid.update(status, t)
        if not status:
            response.update(t)
        now = station.clock.now()
        if ok:
            inside_since = now if inside_since is None else inside_since
            if now - inside_since >= window_s and settled:
                return t
        else:
            inside_since = None
        if now - start > timeout_s:
            raise StabilityTimeout(f"T = {t:.4g} K not stable within {tolerance_K:g} K of "
                                   f"{setpoint_K:g} K after {timeout_s:g} s")
        ctx.checkpoint()
        station.clock.sleep(poll)


def wait_field(ctx: RunContext, field_T: float, timeout_s: float, poll_s: float = 2.0) -> float:
    """Block until the magnet holds at its target; a quench raises QuenchError (hard stop).
    Returns the field in T."""
    station = ctx.station
    magnet = station.magnet
    start = station.clock.now()
    while True:
        with station.lock:
            if magnet.is_quenched():
                raise QuenchError(f"magnet quench while ramping to {field_T:g} T")
            holding = magnet.is_holding()
            b = magnet.read_field()
        if holding:
            return b
        if station.clock.now() - start > timeout_s:
            raise MagnetFault(f"magnet not holding at {field_T:g} T after {timeout_s:g} s "
                              f"(reads {b:.4g} T)")
        ctx.checkpoint()
        station.clock.sleep(poll_s)
