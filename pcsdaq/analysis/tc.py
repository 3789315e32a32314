"""Tc from R(T): the crossing of two straight lines above and below the onset (SI section VII).

The upper line is fitted to the normal state above the onset, the lower one to the steep
start of the change (a drop, or the rise of a high-barrier contact's zero-bias R) (between
10 % and 50 % of the total drop by default). The onset is found
automatically or given.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class TcResult:
    """Tc (K) and the two lines R = slope * T + intercept (Ohm/K, Ohm) with their fit ranges."""

    tc_K: float
    upper_slope_ohm_per_K: float
    upper_intercept_ohm: float
    lower_slope_ohm_per_K: float
    lower_intercept_ohm: float
    upper_range_K: tuple[float, float]
    lower_range_K: tuple[float, float]
    onset_K: float

    def as_dict(self) -> dict:
        """Plain dict for JSON output."""
        return asdict(self)


def _smooth(r: np.ndarray, n: int = 5) -> np.ndarray:
    if len(r) < 3 * n:
        return r
    return np.convolve(np.pad(r, n // 2, mode="edge"), np.ones(n) / n, mode="valid")


def tc_from_rt(temperature_K, resistance_ohm, *, onset_K: float | None = None,
               lower_drop: tuple[float, float] = (0.1, 0.5)) -> TcResult:
    """Tc in K from an R(T) curve (any order of points; K and Ohm).

    ``onset_K`` overrides the automatic onset (the upper line then uses T >= onset);
    ``lower_drop`` the fraction of the total drop spanned by the lower line."""
    t = np.asarray(temperature_K, dtype=float)
    r = np.asarray(resistance_ohm, dtype=float)
    order = np.argsort(t)
    t, r = t[order], r[order]
    if len(t) < 10:
        raise ValueError(f"only {len(t)} R(T) points (need >= 10)")
    rs = _smooth(r)
    n = len(t)
    r_high = float(np.median(rs[-max(n // 10, 3):]))
    r_low = float(np.median(rs[: max(n // 10, 3)]))
    # a contact's R usually drops below Tc, but a high-barrier contact's zero-bias R rises
    # (tunnelling-like spectra): work on the signed change so both give the same construction
    sign = 1.0 if r_high >= r_low else -1.0
    rs_signed, r_high_s, r_low_s = sign * rs, sign * r_high, sign * r_low
    drop = r_high_s - r_low_s
    if drop <= 1e-9 * max(abs(r_high), 1e-30):
        raise ValueError("R does not change on cooling: no transition in this R(T)")
    # last temperature (from the top) where the smoothed R is still within 5 % of the drop
    # of the normal state: the onset region starts below it
    below_onset = np.nonzero(rs_signed < r_high_s - 0.05 * drop)[0]
    auto_onset = float(t[below_onset[-1]]) if below_onset.size else float(t[-1])
    onset = auto_onset if onset_K is None else float(onset_K)
    upper = t >= onset + (0.0 if onset_K is not None else 0.02 * (t[-1] - t[0]))
    if upper.sum() < 3:
        raise ValueError(f"fewer than 3 points above the onset {onset:.3g} K")
    lo_r, hi_r = r_low_s + (1 - lower_drop[1]) * drop, r_low_s + (1 - lower_drop[0]) * drop
    lower = (rs_signed >= lo_r) & (rs_signed <= hi_r) & (t <= onset)
    if lower.sum() < 3:
        raise ValueError("fewer than 3 points on the steep part of the transition")
    us, ui = np.polyfit(t[upper], r[upper], 1)
    ls, li = np.polyfit(t[lower], r[lower], 1)
    if np.isclose(us, ls):
        raise ValueError("the two lines are parallel: no crossing")
    tc = (li - ui) / (us - ls)
    return TcResult(float(tc), float(us), float(ui), float(ls), float(li),
                    (float(t[upper].min()), float(t[upper].max())),
                    (float(t[lower].min()), float(t[lower].max())), onset)
