"""Simulated He-3 cryostat: the sample-stage temperature (K) and its heater.

The stage relaxes exponentially (time constant ``tau_s``) towards the temperature the
heater can hold: the (possibly ramping) setpoint when the heater is on, its range can reach
it and the heater is not open; otherwise the bath (He-3 base 0.45 K). Each heater range
index r reaches at most ``RANGE_MAX_K[r]``. State is advanced lazily in closed form to
``lab.clock.now()`` (in steps no longer than 1 s while a setpoint ramps), so a fast or
virtual clock gives the same physics.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pcsdaq.sim.lab import SimLab

BASE_K = 0.45
#: highest stage temperature (K) each heater range index can hold (0 = heater off)
RANGE_MAX_K = (0.0, 1.0, 3.0, 10.0, 30.0, 80.0, 150.0, 300.0, 320.0)


class Cryostat:
    """Sample stage with time constant ``tau_s`` (s); temperatures in K."""

    def __init__(self, lab: SimLab, start_K: float = 1.5, base_K: float = BASE_K,
                 tau_s: float = 30.0) -> None:
        self.lab = lab
        self.base_K = base_K
        self.tau_s = tau_s
        self._T = start_K
        self.setpoint_K = start_K  #: the setpoint as commanded, K
        self._ramp_sp = start_K  #: the setpoint as it ramps towards setpoint_K, K
        self.ramp_enabled = False
        self.ramp_rate_K_per_min = 0.0
        self.heater_range = 0
        self.heater_open = False
        self.thermometer_invalid = False
        self._t = lab.clock.now()

    def _target(self) -> float:
        if self.heater_range <= 0 or self.heater_open:
            return self.base_K
        return min(max(self._ramp_sp, self.base_K), RANGE_MAX_K[self.heater_range])

    def _advance(self) -> None:
        now = self.lab.clock.now()
        while now - self._t > 0:
            dt = now - self._t
            if self.ramping:
                dt = min(dt, 1.0)
                step = self.ramp_rate_K_per_min / 60.0 * dt
                gap = self.setpoint_K - self._ramp_sp
                self._ramp_sp += math.copysign(min(step, abs(gap)), gap)
            target = self._target()
            self._T = target + (self._T - target) * math.exp(-dt / self.tau_s)
            self._t += dt

    @property
    def ramping(self) -> bool:
        """True while the control setpoint is still ramping towards the commanded one."""
        return (self.ramp_enabled and self.ramp_rate_K_per_min > 0
                and abs(self.setpoint_K - self._ramp_sp) > 1e-9)

    def temperature(self) -> float:
        """Present sample temperature in K."""
        self._advance()
        return self._T

    def set_setpoint(self, kelvin: float) -> None:
        """New setpoint in K (state advanced first so the change acts from now); without a
        ramp the control setpoint jumps there."""
        self._advance()
        self.setpoint_K = float(kelvin)
        if not (self.ramp_enabled and self.ramp_rate_K_per_min > 0):
            self._ramp_sp = self.setpoint_K

    def set_ramp(self, enabled: bool, rate_K_per_min: float) -> None:
        """Setpoint ramp on/off and its rate in K/min."""
        self._advance()
        self.ramp_enabled = bool(enabled)
        self.ramp_rate_K_per_min = float(rate_K_per_min)
        if not self.ramping:
            self._ramp_sp = self.setpoint_K if not self.ramp_enabled else self._ramp_sp

    def set_temperature(self, kelvin: float) -> None:
        """Put the stage at ``kelvin`` now, the heater off (tests and benchmarks that need a
        steady stage without waiting for a cooldown)."""
        self._advance()
        self._T = self.setpoint_K = self._ramp_sp = float(kelvin)
        self.heater_range = 0

    def set_range(self, rng: int) -> None:
        """Heater range index (0 = off)."""
        self._advance()
        self.heater_range = int(rng)

    def heater_percent(self) -> float:
        """Heater output in % of the range's full power (0 when off or open)."""
        self._advance()
        if self.heater_range <= 0 or self.heater_open:
            return 0.0
        top = RANGE_MAX_K[self.heater_range]
        return 100.0 * min(1.0, max(0.0, (self._target() - self.base_K) / (top - self.base_K)))

    def settled(self, tolerance_K: float = 0.01) -> bool:
        """True when the stage is within ``tolerance_K`` (relative to T above 1 K) of the
        temperature the heater can hold and the setpoint no longer ramps."""
        t = self.temperature()
        return not self.ramping and abs(t - self._target()) <= tolerance_K * max(1.0, t)

    def resistance(self) -> float:
        """RuO2 sensor resistance in Ohm: ~1.5 kOhm at 300 K, tens of kOhm at 0.45 K."""
        return 1500.0 * (1.0 + 8.0 / math.sqrt(max(self.temperature(), 1e-3)))
