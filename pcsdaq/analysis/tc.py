"""Tc from R(T): find the transition first, then every definition of docs/physics.md around it.

1. Normal state: a straight line fitted to the warmest part of the curve (the top 15 % of
   the temperature range, at least 5 points); its scatter sets the noise.
2. Onset: coming down from the warm end, the first temperature where the (5-point smoothed)
   R leaves the normal-state line by more than max(5 noise, 1 % of R_N) and stays away for
   three points. Whether R leaves it downwards (the usual drop) or upwards (the zero-bias
   resistance of a high-barrier contact, which rises below Tc) sets ``direction``.
3. Transition: from the onset down to the first extreme of the deviation in that direction
   (the bottom of the drop); ``drop_ohm`` is the deviation there. A second feature below it
   (R turning back by more than a fifth of the drop, e.g. a drop followed by a rise) is
   reported (``two_features``, ``second_feature_K``: where R turns back); it never moves
   the Tc.
4. Definitions (all in K, named): ``tc_two_slope_K`` the crossing of the normal-state line
   with a line through the steep part (between ``steep_fraction`` of the drop, default
   10-50 %; the paper's construction), ``tc_midpoint_K`` where half of the drop is reached,
   ``tc_90_K`` where R is still 90 % of the way from the bottom to the normal state (10 % of
   the drop), ``tc_10_K`` where 90 % of the drop is reached (the transition's width is
   tc_90 - tc_10). ``tc_K`` is the two-slope value (kept for older scripts).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass
class TcResult:
    """Tc by each definition (K), the two lines R = slope T + intercept (Ohm/K, Ohm), the
    ranges used (K) and what the curve looked like."""

    tc_K: float
    upper_slope_ohm_per_K: float
    upper_intercept_ohm: float
    lower_slope_ohm_per_K: float
    lower_intercept_ohm: float
    upper_range_K: tuple[float, float]
    lower_range_K: tuple[float, float]
    onset_K: float
    tc_two_slope_K: float = float("nan")
    tc_midpoint_K: float = float("nan")
    tc_10_K: float = float("nan")
    tc_90_K: float = float("nan")
    transition_range_K: tuple[float, float] = (float("nan"), float("nan"))
    direction: str = "drop"
    drop_ohm: float = float("nan")
    two_features: bool = False
    second_feature_K: float | None = None
    definitions: dict = field(default_factory=lambda: dict(DEFINITIONS))

    def as_dict(self) -> dict:
        """Plain dict for JSON output."""
        return asdict(self)


DEFINITIONS: dict[str, str] = {
    "tc_two_slope_K": "crossing of the normal-state line and the line through the steep part",
    "tc_midpoint_K": "50 % of the drop reached",
    "tc_90_K": "R still 90 % of the way to the normal state (10 % of the drop)",
    "tc_10_K": "90 % of the drop reached",
    "onset_K": "R leaves the normal-state line",
}


def _smooth(r: np.ndarray, n: int = 5) -> np.ndarray:
    if len(r) < 3 * n:
        return r
    return np.convolve(np.pad(r, n // 2, mode="edge"), np.ones(n) / n, mode="valid")


def _crossing(t: np.ndarray, frac: np.ndarray, level: float) -> float:
    """Highest temperature (interpolated) where ``frac`` (rising on cooling) reaches level;
    t descending."""
    above = np.nonzero(frac >= level)[0]
    if not above.size:
        return float("nan")
    k = int(above[0])
    if k == 0:
        return float(t[0])
    f0, f1 = frac[k - 1], frac[k]
    w = (level - f0) / (f1 - f0) if f1 != f0 else 0.0
    return float(t[k - 1] + w * (t[k] - t[k - 1]))


def tc_from_rt(temperature_K, resistance_ohm, *, onset_K: float | None = None,
               lower_drop: tuple[float, float] = (0.1, 0.5)) -> TcResult:
    """Tc in K from an R(T) curve (any order of points; K and Ohm), see the module doc.

    ``onset_K`` overrides the automatic onset; ``lower_drop`` the fraction of the drop the
    steep line is fitted over. Raises ValueError when there is no transition."""
    t = np.asarray(temperature_K, dtype=float)
    r = np.asarray(resistance_ohm, dtype=float)
    ok = np.isfinite(t) & np.isfinite(r)
    t, r = t[ok], r[ok]
    if len(t) < 10:
        raise ValueError(f"only {len(t)} R(T) points (need >= 10)")
    if np.ptp(t) <= 0:
        raise ValueError("all temperatures are equal: no R(T) curve")
    order = np.argsort(t)[::-1]  # warm to cold
    t, r = t[order], r[order]
    rs = _smooth(r)
    n = len(t)
    span = t[0] - t[-1]
    top = t >= t[0] - 0.15 * span
    if top.sum() < 5:
        top = np.arange(n) < 5
    if onset_K is not None:
        top = t >= onset_K
        if top.sum() < 3:
            raise ValueError(f"fewer than 3 points above the onset {onset_K:.3g} K")
    us, ui = np.polyfit(t[top], r[top], 1)
    line = us * t + ui
    noise = float(np.std(r[top] - (us * t[top] + ui))) if top.sum() > 2 else 0.0
    dev = rs - line
    r_n = float(np.median(r[top]))
    thresh = max(5.0 * noise, 0.01 * abs(r_n), 1e-12)
    away = np.abs(dev) > thresh
    # the onset: first point (from the warm end, below the fitted region) away for 3 points
    start = int(np.nonzero(~top)[0][0]) if (~top).any() else n
    k_on = None
    for k in range(start, n - 2):
        if away[k] and away[k + 1] and away[k + 2] and \
                np.sign(dev[k]) == np.sign(dev[k + 1]) == np.sign(dev[k + 2]):
            k_on = k
            break
    if k_on is None:
        raise ValueError("R does not change on cooling beyond the noise: no transition in "
                         "this R(T)")
    sign = -1.0 if dev[k_on] < 0 else 1.0
    direction = "drop" if sign < 0 else "rise"
    # back up to where the deviation starts growing: the onset proper
    k0 = k_on
    while k0 > start and sign * dev[k0 - 1] > max(noise, 0.2 * thresh):
        k0 -= 1
    onset = float(t[k0]) if onset_K is None else float(onset_K)
    # the bottom of the first feature: the extreme of the deviation before it turns back
    mag = sign * dev
    k_ext = k0
    turned = None
    for k in range(k0, n):
        if mag[k] > mag[k_ext]:
            k_ext = k
        elif mag[k_ext] - mag[k] > max(0.2 * mag[k_ext], 3 * noise) and mag[k_ext] > thresh:
            turned = k
            break
    drop = float(mag[k_ext])
    if drop <= thresh:
        raise ValueError("R does not change on cooling beyond the noise: no transition in "
                         "this R(T)")
    seg = slice(k0, k_ext + 1)
    frac = np.clip(mag[seg] / drop, 0.0, None)
    ts = t[seg]
    tc90 = _crossing(ts, frac, 0.1)
    tc50 = _crossing(ts, frac, 0.5)
    tc10 = _crossing(ts, frac, 0.9)
    steep = (frac >= lower_drop[0]) & (frac <= lower_drop[1])
    if steep.sum() < 3:
        # few points on the drop: take the three around the midpoint
        mid = int(np.argmin(np.abs(frac - 0.5)))
        steep = np.zeros_like(frac, dtype=bool)
        steep[max(mid - 1, 0):mid + 2] = True
    if steep.sum() < 2:
        raise ValueError("fewer than 2 points on the steep part of the transition")
    ls, li = np.polyfit(ts[steep], r[seg][steep], 1)
    if np.isclose(us, ls):
        raise ValueError("the two lines are parallel: no crossing")
    tc = float((li - ui) / (us - ls))
    second = float(t[k_ext]) if turned is not None else None  # where R turns back
    return TcResult(tc, float(us), float(ui), float(ls), float(li),
                    (float(t[top].min()), float(t[top].max())),
                    (float(ts[steep].min()), float(ts[steep].max())), onset,
                    tc_two_slope_K=tc, tc_midpoint_K=tc50, tc_10_K=tc10, tc_90_K=tc90,
                    transition_range_K=(float(t[k_ext]), float(t[k0])), direction=direction,
                    drop_ohm=drop, two_features=turned is not None, second_feature_K=second)


def hc2_from_tc(fields_T, tcs_K) -> dict:
    """Hc2(T) from Tc at several fields (each from an R(T) at that field): the points
    (T = Tc(H), H) and a fit Hc2(T) = Hc2(0) (1 - (T/Tc0)^2). Returns hc2_0_T, tc0_K, the
    points and ``failed`` with a reason when fewer than 3 fields or the fit is unphysical."""
    h = np.abs(np.asarray(fields_T, dtype=float))
    tc = np.asarray(tcs_K, dtype=float)
    ok = np.isfinite(h) & np.isfinite(tc)
    h, tc = h[ok], tc[ok]
    out: dict[str, Any] = {
        "points": [{"field_T": float(a), "tc_K": float(b)} for a, b in zip(h, tc)]}
    if len(np.unique(h)) < 3:
        out["failed"] = f"{len(np.unique(h))} field(s): need R(T) at >= 3 fields"
        return out
    # H = Hc2(0) - (Hc2(0)/Tc0^2) T^2: linear in T^2
    slope, icpt = np.polyfit(tc**2, h, 1)
    if slope >= 0 or icpt <= 0:
        out["failed"] = "Tc does not fall with field: no Hc2(T)"
        return out
    tc0 = float(np.sqrt(-icpt / slope))
    out.update({"hc2_0_T": float(icpt), "tc0_K": tc0,
                "model": "Hc2(T) = Hc2(0) (1 - (T/Tc0)^2)"})
    if tc0 > 2.0 * tc.max() or icpt > 20.0 * max(h.max(), 1e-3):
        out["failed"] = (f"extrapolation unphysical (Tc0 {tc0:.3g} K, Hc2(0) {icpt:.3g} T "
                         f"from fields up to {h.max():.3g} T)")
    return out
