"""Waiting for the cryostat and the magnet, on the station clock, between checkpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pcsdaq.errors import PcsdaqError, QuenchError

if TYPE_CHECKING:
    from pcsdaq.procedures.base import RunContext


class StabilityTimeout(PcsdaqError):
    """The temperature did not settle within the allowed time."""


def wait_temperature(ctx: RunContext, setpoint_K: float, tolerance_K: float, window_s: float,
                     timeout_s: float, poll_s: float = 5.0) -> float:
    """Block until |T - setpoint| <= tolerance continuously for window_s, the bridge reports
    its reading settled and valid. Returns T in K; raises StabilityTimeout after timeout_s."""
    station = ctx.station
    therm = station.thermometer
    start = station.clock.now()
    inside_since = None
    poll = max(min(poll_s, window_s / 5.0 if window_s > 0 else poll_s), 0.1)
    while True:
        with station.lock:
            t = therm.read_temperature()
            ok = abs(t - setpoint_K) <= tolerance_K and therm.reading_valid()
            settled = ok and therm.is_settled()
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
            raise PcsdaqError(f"magnet not holding at {field_T:g} T after {timeout_s:g} s "
                              f"(reads {b:.4g} T)")
        ctx.checkpoint()
        station.clock.sleep(poll_s)
