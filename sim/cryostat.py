"""Simulated He-3 cryostat: sample-stage temperature relaxing to a setpoint (K).

Minimal first increment: first-order lag towards the setpoint (or the bath when the
heater is off), advanced lazily in closed form to ``lab.clock.now()``.
"""

from __future__ import annotations

import math
from typing import Any

BASE_K = 0.45


class Cryostat:
    """Sample stage with time constant ``tau_s`` (s); temperatures in K."""

    def __init__(self, lab: Any, start_K: float = 1.5, base_K: float = BASE_K,
                 tau_s: float = 60.0) -> None:
        self.lab = lab
        self.base_K = base_K
        self.tau_s = tau_s
        self._T = start_K
        self.setpoint_K = start_K
        self.heater_range = 0
        self.heater_open = False
        self.thermometer_invalid = False
        self._t = lab.clock.now()

    def _advance(self) -> None:
        now = self.lab.clock.now()
        dt = now - self._t
        self._t = now
        if dt <= 0:
            return
        target = self.base_K
        if self.heater_range > 0 and not self.heater_open:
            target = max(self.setpoint_K, self.base_K)
        self._T = target + (self._T - target) * math.exp(-dt / self.tau_s)

    def temperature(self) -> float:
        """Present sample temperature in K."""
        self._advance()
        return self._T

    def set_setpoint(self, kelvin: float) -> None:
        """New setpoint in K (state advanced first so the change acts from now)."""
        self._advance()
        self.setpoint_K = float(kelvin)

    def set_range(self, rng: int) -> None:
        """Heater range index (0 = off)."""
        self._advance()
        self.heater_range = int(rng)

    def resistance(self) -> float:
        """RuO2 sensor resistance in Ohm: ~1.5 kOhm at 300 K, tens of kOhm at 0.45 K."""
        return 1500.0 * (1.0 + 8.0 / math.sqrt(max(self.temperature(), 1e-3)))
