"""The lock-in's output filter: n cascaded identical RC poles, advanced in closed form.

Each pole obeys dy_k/dt = (y_{k-1} - y_k) / tau with y_0 the (piecewise-constant) input.
For a constant input u over an interval t the error e_k = y_k - u evolves exactly as
e_k(t) = exp(-x) * sum_{j<=k} e_j(0) x^(k-j) / (k-j)!, x = t / tau, so the filter can be
advanced from its last update to ``clock.now()`` whenever the input changes or is read.
Slopes 6/12/18/24 dB/oct map to 1/2/3/4 poles.
"""

from __future__ import annotations

import math

SLOPE_POLES = {6: 1, 12: 2, 18: 3, 24: 4}


class OutputFilter:
    """n-pole RC low-pass on a complex signal (X + iY, V), advanced on a virtual clock (s)."""

    def __init__(self, clock, time_constant_s: float = 0.1, poles: int = 2) -> None:
        self.clock = clock
        self.time_constant_s = float(time_constant_s)
        self.poles = int(poles)
        self._input = 0j
        # a few complex numbers: plain Python is ~5x cheaper per update than numpy here,
        # and every lock-in query updates the filter
        self._state = [0j] * self.poles
        self._t = clock.now()
        self._t_input = self._t

    def _advance(self) -> None:
        now = self.clock.now()
        dt = now - self._t
        self._t = now
        if dt <= 0:
            return
        x = dt / self.time_constant_s
        decay = math.exp(-x) if x < 700 else 0.0
        u = self._input
        err = [y - u for y in self._state]
        terms = [x ** m / math.factorial(m) for m in range(self.poles)]  # x^m / m!
        self._state = [u + decay * sum(err[j] * terms[k - j] for j in range(k + 1))
                       for k in range(self.poles)]

    def set_input(self, value: complex) -> None:
        """Advance to now with the old input, then hold ``value`` (V) from now on."""
        self._advance()
        self._input = complex(value)
        self._t_input = self._t

    def follow(self, value: complex) -> None:
        """The input drifted (temperature, field) since the last update: after more than
        20 time constants the filter has tracked a slow drift, so it holds ``value`` already;
        sooner, it is treated as a step now (:meth:`set_input`)."""
        if self.clock.now() - self._t_input > 20.0 * self.time_constant_s:
            self._advance()
            self._input = complex(value)
            self._state = [self._input] * self.poles
            self._t_input = self._t
        else:
            self.set_input(value)

    def set_parameters(self, time_constant_s: float | None = None,
                       poles: int | None = None) -> None:
        """Change tau (s) or pole count; the filter is advanced to now first."""
        self._advance()
        if time_constant_s is not None:
            self.time_constant_s = float(time_constant_s)
        if poles is not None and int(poles) != self.poles:
            last = self._state[-1]
            self.poles = int(poles)
            self._state = [last] * self.poles

    def output(self) -> complex:
        """Filter output now (V)."""
        self._advance()
        return complex(self._state[-1])

    def settle_time_s(self, fraction: float = 1e-3) -> float:
        """Time (s) after a step until the error falls below ``fraction`` (bisection)."""
        lo, hi = 0.0, 100.0
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            err = math.exp(-mid) * sum(mid ** m / math.factorial(m) for m in range(self.poles))
            lo, hi = (mid, hi) if err > fraction else (lo, mid)
        return hi * self.time_constant_s
