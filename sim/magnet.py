"""Simulated superconducting magnet: field ramps at a rate (T/min) to a target (T)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pcsdaq.sim.lab import SimLab

# AMI 430 STATE? numbers
RAMPING, HOLDING, PAUSED, ZEROING, QUENCH = 1, 2, 3, 6, 7


class Magnet:
    """Field advanced lazily to ``lab.clock.now()``; coil constant in T/A."""

    def __init__(self, lab: SimLab, coil_T_per_A: float = 0.1, rate_T_per_min: float = 0.1) -> None:
        self.lab = lab
        self.coil = coil_T_per_A
        self.rate = rate_T_per_min
        self._B = 0.0
        self.target = 0.0
        self.state = PAUSED
        self.quenched = False
        self._t = lab.clock.now()

    def _advance(self) -> None:
        now = self.lab.clock.now()
        dt, self._t = now - self._t, now
        if self.state not in (RAMPING, ZEROING) or dt <= 0:
            return
        goal = 0.0 if self.state == ZEROING else self.target
        step = self.rate / 60.0 * dt
        if abs(goal - self._B) <= step:
            self._B = goal
            self.state = HOLDING if self.state == RAMPING else PAUSED
        else:
            self._B += step if goal > self._B else -step

    def field(self) -> float:
        """Present field in T."""
        self._advance()
        return self._B

    def current(self) -> float:
        """Present coil current in A."""
        return self.field() / self.coil

    def ramp(self) -> None:
        """Start ramping to ``target``."""
        self._advance()
        self.state = RAMPING

    def pause(self) -> None:
        """Hold the present field."""
        self._advance()
        self.state = PAUSED

    def zero(self) -> None:
        """Ramp to zero field."""
        self._advance()
        self.state = ZEROING

    def quench(self) -> None:
        """Quench: field drops to zero, state 7, flag set."""
        self._advance()
        self._B = 0.0
        self.state = QUENCH
        self.quenched = True
