"""Resistance of a point contact through the broad superconducting transition (SI section VII).

Under the needle the sample has a distribution of local Tc; below the onset the contact
resistance falls gradually but never to zero. Model: R(T) = R_N (1 - drop_fraction * S(T))
with S the fraction of superconducting paths, a smooth step of width ``width_K`` whose
upper foot (onset) is at Tc: S(T) = 0 above Tc, rising as a logistic of (Tc - T) below it.
The two-line construction of the paper (lines above and below the onset) returns Tc to
within a fraction of the width.
"""

from __future__ import annotations

import numpy as np


def superconducting_fraction(temperature_K, tc_K: float, width_K: float):
    """Fraction 0..1 of the contact area superconducting at T (K): 0 above tc_K."""
    t = np.asarray(temperature_K, dtype=float)
    x = np.clip((tc_K - t) / max(width_K, 1e-6), 0.0, None)
    # linear onset at Tc that saturates: S = tanh(x) keeps a sharp kink at Tc (the crossing)
    out = np.tanh(x)
    return float(out) if out.ndim == 0 else out


def contact_resistance_vs_T(temperature_K, *, r_normal_ohm: float, tc_K: float,
                            width_K: float = 1.5, drop_fraction: float = 0.3,
                            slope_ohm_per_K: float = 0.0):
    """Contact resistance in Ohm at temperature(s) in K through the broad transition.

    ``r_normal_ohm`` just above Tc; ``drop_fraction`` of it is lost deep below Tc;
    ``slope_ohm_per_K`` a weak metallic slope of the normal state above Tc."""
    t = np.asarray(temperature_K, dtype=float)
    r_n = r_normal_ohm + slope_ohm_per_K * (t - tc_K)
    out = r_n * (1.0 - drop_fraction * superconducting_fraction(t, tc_K, width_K))
    return float(out) if out.ndim == 0 else out
