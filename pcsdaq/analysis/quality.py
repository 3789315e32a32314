"""How far a fit can be trusted: noise from the data, critical-current dips, a verdict.

* Noise: the robust spread of the spectrum about a 15-point cubic Savitzky-Golay smoothing
  (the smooth spectrum barely contributes on a dense bias grid).
* Dips (docs/physics.md, critical-current dips of the thermal / intermediate regime): narrow local
  minima of the lightly smoothed spectrum away from zero bias, deeper than 8 noise sigma and
  4 % of the normal conductance, either paired (a dip at -V within 15 % of one at +V) or
  alone and deeper than 15 %.
* Verdict: ``not-ballistic`` (dips, or zero-bias conductance above 2, impossible in BTK),
  ``poor`` (rms far above the noise with residual structure, or a parameter stuck at a bound
  that is not physical), ``degenerate`` (two parameters not separately determined: the range
  they span at equal chi2 is given), otherwise ``good``. Reasons are sentences.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
from scipy.signal import find_peaks

from pcsdaq.analysis.spectra import quantile

#: a pair of free parameters with |correlation| above this is a candidate degeneracy
CORRELATION_LIMIT = 0.95
#: parameters whose sitting at a bound is physical (P = 0, the Gamma floor, weight 0/1)
_NATURAL_BOUNDS = {"P", "gamma_meV", "gamma2_meV", "weight", "Z"}


@cache
def _savgol(window: int) -> np.ndarray:
    from scipy.signal import savgol_coeffs

    return savgol_coeffs(window, 3)


def noise_estimate(g) -> float:
    """Noise (std, data units) of a spectrum sampled on a dense bias grid: the robust spread
    of its deviation from a cubic Savitzky-Golay smoothing over 15 points (corrected for the
    smoothing's degrees of freedom; edges left out); also catches the lock-in's point-to-point
    correlation, which second differences miss."""
    g = np.asarray(g, dtype=float)
    if g.size < 9:
        return math.nan
    w = min(15, (g.size // 3) | 1)
    if w < 5:
        return math.nan
    r = g[w // 2: g.size - w // 2] - np.convolve(g, _savgol(w), mode="valid")
    return float(1.4826 * np.median(np.abs(r - np.median(r))) * math.sqrt(w / (w - 4)))


def find_dips(bias_mV, g, *, noise: float | None = None) -> list[float]:
    """Bias positions (mV, ascending) of critical-current dips in a spectrum (module doc);
    ``g`` normalised or raw (depths are relative to its high-bias level)."""
    return [pos for pos, _ in find_dips_with_depth(bias_mV, g, noise=noise)]


def find_dips_with_depth(bias_mV, g, *, noise: float | None = None) -> list[tuple[float, float]]:
    """(position in mV, depth relative to G_N) of each dip, ascending in bias."""
    v = np.asarray(bias_mV, dtype=float)
    y = np.asarray(g, dtype=float)
    if v.size < 15:
        return []
    order = np.argsort(v)
    v, y = v[order], y[order]
    mag = np.abs(v)
    outer = mag >= quantile(mag, 0.85)
    level = float(np.median(y[outer])) or 1.0
    y = y / level
    sigma = noise_estimate(y) if noise is None else noise / level
    smooth = np.convolve(np.pad(y, 1, mode="edge"), np.ones(3) / 3.0, mode="valid")
    threshold = max(6.0 * (sigma if math.isfinite(sigma) else 0.0), 0.04)
    peaks, props = find_peaks(-smooth, prominence=threshold, width=(None, max(5, 0.06 * v.size)))
    # the smoothing (3 samples) moves a dip resolved by one or two samples of a current-biased
    # sweep (the bias jumps across it) onto its neighbour: the dip is the data's own minimum
    at = [p - 1 + int(np.argmin(y[max(p - 1, 0):p + 2])) if p > 0 else p for p in peaks]
    # not a zero-bias feature: three samples or more between zero bias and the dip (a bias
    # step would say less where the bias is dense at low voltage, below a switch)
    cand = [(float(v[p]), float(pr)) for p, pr in zip(at, props["prominences"])
            if int(np.sum((v * v[p] > 0) & (np.abs(v) < abs(v[p])))) >= 3]
    out = []
    for pos, prom in cand:
        paired = any(q * pos < 0 and abs(abs(q) - abs(pos)) <= 0.15 * abs(pos) for q, _ in cand)
        if paired or prom > 0.15:
            out.append((pos, prom))
    return out


def _runs_z(resid: np.ndarray) -> float:
    """Wald-Wolfowitz runs test z-score of the residual signs (very negative: structure)."""
    s = resid > 0
    n1, n2 = int(s.sum()), int((~s).sum())
    if n1 == 0 or n2 == 0:
        return -math.inf
    runs = 1 + int(np.sum(s[1:] != s[:-1]))
    mu = 2.0 * n1 * n2 / (n1 + n2) + 1.0
    var = (mu - 1.0) * (mu - 2.0) / (n1 + n2 - 1.0)
    return (runs - mu) / math.sqrt(var) if var > 0 else 0.0


def verdict(fit, *, dips_mV: list[float], noise: float, user_bounds=(),
            gap_features: bool = True) -> tuple[str, list[str]]:
    """(verdict, reasons) of a :class:`pcsdaq.analysis.model_fit.ModelFit` (module doc)."""
    reasons: list[str] = []
    scale = fit.values.get("scale", 1.0) or 1.0
    v = fit.bias_mV
    zero = float(np.mean(fit.data[np.argsort(np.abs(v))[:3]])) / scale
    rel_rms = fit.rms / abs(scale)
    rel_noise = noise / abs(scale) if math.isfinite(noise) else math.nan
    structure = _runs_z(fit.residuals)
    if dips_mV:
        reasons.append("critical-current dips at " + ", ".join(f"{d:+.3g}" for d in dips_mV)
                       + " mV: the contact is not ballistic; a BTK gap fitted to it is an "
                       "underestimate")
    if zero > 2.05:
        reasons.append(f"zero-bias conductance {zero:.2f} G_N exceeds 2, impossible in BTK "
                       "(thermal-regime enhancement)")
    if reasons:
        return "not-ballistic", reasons
    if not gap_features:
        return "degenerate", [("no gap features above the noise (a normal-state spectrum?): "
                               "Delta is not determined")]
    poor = []
    if not fit.success:
        poor.append("the optimiser did not converge")
    if math.isfinite(rel_noise) and rel_rms > 3.0 * rel_noise and rel_rms > 0.005 and \
            structure < -4.0:
        poor.append(f"rms residual {rel_rms:.3g} is {rel_rms / rel_noise:.1f}x the noise "
                    f"{rel_noise:.2g} with structure (runs test z = {structure:.1f})")
    for name in fit.at_bound:
        if name not in _NATURAL_BOUNDS and name not in user_bounds and name != "scale":
            poor.append(f"{name} sits at its bound {fit.values[name]:.4g}")
        if name == "Z" and fit.values["Z"] > 1.0 and "Z" not in user_bounds:
            poor.append(f"Z sits at its upper bound {fit.values['Z']:.3g}")
    if poor:
        return "poor", poor
    degenerate = []
    for pair, r in fit.correlations.items():
        a, b = pair.split("~")
        if "scale" in (a, b) or not (abs(r) > CORRELATION_LIMIT or not math.isfinite(r)):
            continue
        ea, eb = fit.errors[a], fit.errors[b]
        loose = [n for n, e in ((a, ea), (b, eb)) if _loose(n, fit.values[n], e)]
        if loose:
            degenerate.append(
                f"{a} and {b} are not separately determined (correlation {r:+.3f}): at equal "
                f"chi2 {a} spans {fit.values[a] - ea:.3g}..{fit.values[a] + ea:.3g} and {b} "
                f"{fit.values[b] - eb:.3g}..{fit.values[b] + eb:.3g}")
    for name in fit.free:
        e = fit.errors[name]
        if name != "scale" and (not math.isfinite(e) or e > abs(fit.values[name]) > 0.05):
            degenerate.append(f"{name} is undetermined ({fit.values[name]:.3g} +- {e:.2g})")
    if degenerate:
        return "degenerate", degenerate
    return "good", [f"rms residual {rel_rms:.2g} (noise {rel_noise:.2g}); no dips"]


#: error above which a parameter counts as not determined: absolute, or relative (gaps)
_ABS_TOL = {"P": 0.05, "Z": 0.1, "weight": 0.1}
_REL_TOL = {"delta_meV": 0.05, "delta2_meV": 0.05}


def _loose(name: str, value: float, err: float) -> bool:
    """True when ``err`` is too large for ``name`` to count as determined (broadenings and
    the scale never make a fit degenerate on their own)."""
    if not math.isfinite(err):
        return True
    if name in _ABS_TOL:
        return err > _ABS_TOL[name]
    if name in _REL_TOL:
        return err > _REL_TOL[name] * abs(value)
    return False
