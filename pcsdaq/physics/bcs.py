"""BCS gap versus temperature and its suppression by a magnetic field.

Delta(T)/Delta(0) comes from the weak-coupling BCS gap equation, solved once on a grid of
reduced temperatures t = T/Tc and interpolated (in Delta^2, which is linear in t near Tc);
the tanh approximation is off by up to ~0.02 and is not used. Delta(0) = 1.764 k_B Tc.

Field model (documented choice, used by the simulator and by Delta(H) fits): pair breaking
lowers both Tc and Delta(0) as sqrt(1 - B/Hc2), keeping Delta(0)/k_BTc fixed:
Tc(B) = Tc sqrt(1 - B/Hc2), Delta(T, B) = Delta(0) sqrt(1 - B/Hc2) f(T/Tc(B)); zero at and
above Hc2. With ``hc2_T=None`` there is no field suppression.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
from scipy.integrate import quad
from scipy.optimize import brentq

from pcsdaq.physics.btk import KB_MEV_PER_K

BCS_RATIO = 1.764  #: Delta(0) / k_B Tc in weak coupling
_EULER_GAMMA = 0.5772156649015329
#: k_B Tc in units of Delta(0) from the gap equation (= e^gamma / pi = 1/1.7639)
_KTC_REDUCED = math.exp(_EULER_GAMMA) / math.pi


def _gap_at(t: float) -> float:
    """Delta(t)/Delta(0) solving ln(1/d) = 2 int_0^inf f(E)/E dx, E = sqrt(x^2 + d^2)."""
    kt = t * _KTC_REDUCED

    def mismatch(d: float) -> float:
        def integrand(x: float) -> float:
            e = math.hypot(x, d)
            return 1.0 / (e * (math.exp(min(e / kt, 700.0)) + 1.0))
        return math.log(1.0 / d) - 2.0 * quad(integrand, 0.0, 40.0 * kt + 10.0 * d, limit=200)[0]

    return brentq(mismatch, 1e-9, 1.0, xtol=1e-13)


@cache
def _table() -> tuple[np.ndarray, np.ndarray]:
    t = np.concatenate([np.linspace(0.0, 0.2, 5)[1:], np.linspace(0.2, 0.9, 71)[1:],
                        np.linspace(0.9, 1.0, 41)[1:-1]])
    d2 = np.array([_gap_at(ti) ** 2 for ti in t])
    return np.concatenate([[0.0], t, [1.0]]), np.concatenate([[1.0], d2, [0.0]])


def gap_ratio(t) -> np.ndarray | float:
    """Delta(T)/Delta(0) at reduced temperature t = T/Tc (0 for t >= 1); array or scalar."""
    grid, d2 = _table()
    tt = np.clip(np.asarray(t, dtype=float), 0.0, 1.0)
    out = np.sqrt(np.interp(tt, grid, d2))
    return float(out) if out.ndim == 0 else out


def delta0_meV(tc_K: float) -> float:
    """Weak-coupling zero-temperature gap in meV: 1.764 k_B Tc."""
    return BCS_RATIO * KB_MEV_PER_K * tc_K


def field_factor(field_T: float, hc2_T: float | None) -> float:
    """sqrt(1 - |B|/Hc2) (0 above Hc2; 1 when hc2_T is None)."""
    if hc2_T is None:
        return 1.0
    return math.sqrt(max(0.0, 1.0 - abs(field_T) / hc2_T))


def tc_in_field(tc_K: float, field_T: float, hc2_T: float | None) -> float:
    """Critical temperature in K at field ``field_T`` (T): Tc sqrt(1 - B/Hc2)."""
    return tc_K * field_factor(field_T, hc2_T)


def gap_meV(temperature_K, tc_K: float, delta0_meV: float | None = None,
            field_T: float = 0.0, hc2_T: float | None = None):
    """Gap Delta(T, B) in meV; ``delta0_meV`` defaults to 1.764 k_B Tc (see module field model)."""
    d0 = (BCS_RATIO * KB_MEV_PER_K * tc_K) if delta0_meV is None else delta0_meV
    tc_b = tc_in_field(tc_K, field_T, hc2_T)
    if tc_b <= 0:
        return 0.0 * np.asarray(temperature_K, dtype=float) if np.ndim(temperature_K) else 0.0
    return d0 * field_factor(field_T, hc2_T) * gap_ratio(np.asarray(temperature_K) / tc_b)
