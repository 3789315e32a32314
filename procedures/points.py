"""Bias points of a sweep (A): linear, symmetric, either direction, denser around zero;
the current range that reaches a bias voltage across a contact."""

from __future__ import annotations

import numpy as np


def bias_points(max_current_A: float, n_points: int, direction: str = "up",
                dense_fraction: float = 0.0, dense_factor: int = 1) -> np.ndarray:
    """DC currents in A from -max to +max (``up``), +max to -max (``down``) or up then down
    (``both``, 2 n - 1 points).

    With ``dense_fraction`` f > 0 and ``dense_factor`` k > 1, the central region
    |I| <= f * max gets k times the point density of the outer parts, at the same total
    number of points (for the zero-bias features of a spectrum)."""
    if n_points < 3:
        raise ValueError("n_points must be >= 3")
    if direction not in ("up", "down", "both"):
        raise ValueError(f"direction {direction!r}; allowed: up, down, both")
    u = np.linspace(-1.0, 1.0, n_points)
    if dense_fraction > 0 and dense_factor > 1:
        # map uniform u onto currents with density k inside |x| <= f, 1 outside
        f, k = dense_fraction, dense_factor
        total = 2 * (1 - f) + 2 * f * k
        s = np.abs(u) * total / 2  # arc length from zero
        inner = s <= f * k
        x = np.where(inner, s / k, f + (s - f * k))
        u = np.sign(u) * x
    points = max_current_A * u
    if direction == "down":
        return points[::-1].copy()
    if direction == "both":
        return np.concatenate([points, points[-2::-1]])
    return points


def current_for_bias(max_bias_V: float, resistance_ohm: float) -> float:
    """The DC current range (A) that reaches ``max_bias_V`` (V) across a contact of
    ``resistance_ohm`` (Ohm, its zero-bias dV/dI): I = V / R. A contact whose resistance
    falls with bias (Andreev reflection doubles the conductance inside the gap at most)
    reaches somewhat more than the asked bias; the sweep records the current it used."""
    if not resistance_ohm > 0:
        raise ValueError(f"resistance {resistance_ohm!r} Ohm must be > 0")
    return abs(float(max_bias_V)) / float(resistance_ohm)
