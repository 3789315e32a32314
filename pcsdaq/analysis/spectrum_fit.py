"""ONE way to fit a spectrum: preprocessing, model fit, dips, noise and verdict.

:func:`fit_spectrum` is what ``pcsdaq fit``, ``pcsdaq analyze``, ``pcsdaq demo`` and the GUI's
data browser call, so a spectrum gets the same answer everywhere. Each preprocessing step is
recorded in the result (``preprocessing``):

1. bias offset: ``"auto"`` (the shift that makes the spectrum most symmetric), ``"none"``,
   or a value in mV subtracted from the bias;
2. normalisation: none when ``normalized``; else ``background="auto"`` divides by a
   quadratic fitted to G at |V| >= 60 % of the largest bias, ``"none"`` by the mean G of the
   outermost 15 % of |V|;
3. symmetrisation (optional) over the common range of both bias signs only, saying so;
4. dips are searched on the whole spectrum; with dips and no window given, the fit uses
   |V| < 0.9 x the innermost dip (the BTK part of an intermediate-regime spectrum);
5. fit window |V| <= ``window_mV``.

Returns a flat dict for JSON (energies in meV; see ``pcsdaq fit`` in the README).
"""

from __future__ import annotations

import math

import numpy as np

from pcsdaq.analysis import quality, spectra
from pcsdaq.analysis.io import AnalysisInputError
from pcsdaq.analysis.model_fit import fit_model, parameter_names
from pcsdaq.physics import andreev

#: largest temperature (K) a fit accepts (the thermal kernel's grid grows with T)
MAX_TEMPERATURE_K = 400.0
MIN_POINTS = 8


def _check_temperature(temperature_K: float) -> float:
    t = float(temperature_K)
    if not (math.isfinite(t) and 0 < t <= MAX_TEMPERATURE_K):
        raise AnalysisInputError(f"temperature {temperature_K} K: expected a finite value "
                                 f"> 0 and <= {MAX_TEMPERATURE_K:g} K")
    return t


def preprocess(bias_V, g, *, offset="none", background="none", normalized=False,
               symmetrize=False) -> tuple[np.ndarray, np.ndarray, float, list[str]]:
    """(bias in mV, normalised g, offset in mV, steps) after steps 1-3 of the module doc."""
    bias = np.asarray(bias_V, dtype=float)
    g = np.asarray(g, dtype=float)
    order = np.argsort(bias, kind="stable")
    bias, g = bias[order], g[order]
    steps: list[str] = []
    if bias.size < MIN_POINTS:
        raise AnalysisInputError(f"only {bias.size} points (need >= {MIN_POINTS})")
    if np.ptp(bias) <= 0:
        raise AnalysisInputError("all biases are equal: not a spectrum")
    if offset in (None, "none"):
        off_V = 0.0
    elif offset == "auto":
        off_V = spectra.bias_offset(bias, g) if bias.min() < 0 < bias.max() else 0.0
        steps.append(f"bias offset {off_V * 1e3:+.4g} mV from the spectrum's symmetry")
    else:
        off_mV = float(offset)
        if not math.isfinite(off_mV):
            raise AnalysisInputError(f"offset {offset!r}: expected auto, none or a finite mV")
        off_V = off_mV * 1e-3
        steps.append(f"bias offset {off_mV:+.4g} mV (given)")
    bias = bias - off_V
    if not normalized:
        if np.any(g <= 0) and np.median(g) <= 0:
            raise AnalysisInputError("conductance is not positive: cannot normalise")
        if background == "auto":
            edge = 0.6 * np.max(np.abs(bias))
            sel = np.abs(bias) >= edge
            if sel.sum() >= 6:
                coef = np.polyfit(bias[sel], g[sel], 2)
                bg = np.polyval(coef, bias)
                if np.all(bg > 0):
                    g = g / bg
                    steps.append(f"normalised by a quadratic background fitted to |V| >= "
                                 f"{edge * 1e3:.3g} mV")
                else:
                    background = "none"
            else:
                background = "none"
        if background != "auto":
            g = spectra.normalise(bias, g)
            steps.append("normalised by the mean G of the outermost 15 % of |V|")
    if symmetrize:
        lo, hi = -bias.min(), bias.max()
        common = min(lo, hi)
        if common <= 0:
            raise AnalysisInputError("cannot symmetrise: the bias has one sign only")
        keep = np.abs(bias) <= common
        if not keep.all():
            steps.append(f"symmetrised over the common range |V| <= {common * 1e3:.4g} mV "
                         f"({int((~keep).sum())} points outside dropped)")
        else:
            steps.append("symmetrised")
        bias, g = bias[keep], spectra.symmetrise(bias[keep], g[keep])
    return bias * 1e3, g, off_V * 1e3, steps


def fit_spectrum(bias_V, g, temperature_K: float, *, model: str = "btk",
                 offset="none", background="none", normalized: bool = False,
                 symmetrize: bool = False, window_mV: float | None = None,
                 fixed: dict | None = None, bounds: dict | None = None,
                 initial: dict | None = None, smearing_meV: float = 0.0,
                 avoid_dips: bool = True, bias_unit: str = "V",
                 convention: str = "dynes") -> dict:
    """Preprocess, fit and judge one spectrum (bias in V, any conductance, T in K).

    Returns the result dict: parameters with ``_err``, ``verdict``, ``reasons``, ``dips_mV``,
    ``at_bound``, ``correlations``, ``offset_mV``, ``rms``, ``noise``, ``preprocessing``
    (see module doc). Raises AnalysisInputError for data or options it cannot use."""
    t = _check_temperature(temperature_K)
    parameter_names(model)
    if window_mV is not None and not (math.isfinite(window_mV) and window_mV > 0):
        raise AnalysisInputError(f"window {window_mV} mV: expected a finite value > 0")
    v_mV, gn, off_mV, steps = preprocess(bias_V, g, offset=offset, background=background,
                                         normalized=normalized, symmetrize=symmetrize)
    noise = quality.noise_estimate(gn)
    found = quality.find_dips_with_depth(v_mV, gn, noise=noise)
    fit_kw = {"model": model, "fixed": fixed, "bounds": bounds, "initial": initial,
              "smearing_meV": smearing_meV, "noise": noise, "convention": convention}
    if window_mV is not None:
        keep = np.abs(v_mV) <= window_mV
        if keep.sum() < MIN_POINTS:
            raise AnalysisInputError(f"window {window_mV:g} mV keeps {int(keep.sum())} points "
                                     f"(need >= {MIN_POINTS})")
        steps.append(f"fit window |V| <= {window_mV:g} mV")
        fit = _best_fit(v_mV[keep], gn[keep], t, **fit_kw)
    else:
        fit = _best_fit(v_mV, gn, t, **fit_kw)
    window = window_mV
    if found:
        # a dip the model reproduces (e.g. between the peaks of two gaps) is not a dip
        curve = fit.values["scale"] * andreev.conductance(
            v_mV, model, [fit.values[n] for n in parameter_names(model)[:-1]], t,
            smearing_meV=smearing_meV, convention=convention)
        found = [(pos, depth) for pos, depth in found
                 if _unexplained(v_mV, gn - curve, pos, depth, noise)]
    dips = [pos for pos, _ in found]
    if found and window_mV is None and avoid_dips:
        deepest = max(depth for _, depth in found)
        inner = 0.9 * min(abs(pos) for pos, depth in found if depth >= 0.5 * deepest)
        keep = np.abs(v_mV) <= inner
        if int(keep.sum()) >= 20:
            window = inner
            steps.append(f"fit window |V| <= {inner:.3g} mV, below the innermost dip")
            fit = _best_fit(v_mV[keep], gn[keep], t, **fit_kw)
    contrast = float(np.ptp(np.convolve(gn, np.ones(5) / 5, mode="valid"))) if gn.size > 5 \
        else float(np.ptp(gn))
    has_features = bool(contrast > max(10.0 * (noise if math.isfinite(noise) else 0.0), 0.01))
    raw_v = np.sort(np.asarray(bias_V, dtype=float)) - off_mV * 1e-3
    raw_g = np.asarray(g, dtype=float)[np.argsort(np.asarray(bias_V, dtype=float), kind="stable")]
    dip_integrals = [_integral_to(raw_v, raw_g, d * 1e-3) for d in dips]
    verdict, reasons = quality.verdict(fit, dips_mV=dips, noise=noise,
                                       user_bounds=tuple((bounds or {}).keys()),
                                       gap_features=has_features)
    ranges = {}
    if verdict == "degenerate" and has_features:
        ranges = equal_chi2_ranges(fit, t, fit_kw)
        if ranges:
            reasons.append("at equal chi2 (profile, delta chi2 <= 1): " + ", ".join(
                f"{n} {lo:.3g}..{hi:.3g}" for n, (lo, hi) in ranges.items()))
    out: dict = {"model": model}
    for name in fit.values:
        out[name] = fit.values[name]
        out[f"{name}_err"] = fit.errors[name]
    out.update({
        "chi2_red": fit.chi2_red, "temperature_K": t, "n_points": fit.n_points,
        "window_mV": window,
        "success": bool(fit.success and has_features and verdict in ("good", "degenerate")),
        "verdict": verdict, "reasons": reasons, "dips_mV": dips, "at_bound": fit.at_bound,
        "correlations": fit.correlations, "fixed": fit.fixed, "tied": fit.tied,
        "offset_mV": off_mV,
        "dip_integrals": dip_integrals, "gap_features": has_features,
        "ranges_at_equal_chi2": ranges,
        "feature_contrast": contrast,
        "bias_unit": bias_unit, "rms": fit.rms, "noise": noise, "preprocessing": steps,
        "smearing_meV": smearing_meV, "convention": convention, "background": background,
        "normalized": normalized,
        "symmetrize": symmetrize,
    })
    return out


def _integral_to(bias_V: np.ndarray, g: np.ndarray, v_end: float) -> float:
    """Integral of g dV from 0 to v_end (V): the current at a dip when g is dI/dV in S."""
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (g[1:] + g[:-1]) * np.diff(bias_V))])
    return float(np.interp(v_end, bias_V, cum) - np.interp(0.0, bias_V, cum))


def _unexplained(v_mV, resid, pos, depth, noise) -> bool:
    """True when the data at a dip lie well below the fitted model (the model cannot make it)."""
    near = np.argsort(np.abs(v_mV - pos))[:3]
    floor = max(5.0 * noise if math.isfinite(noise) else 0.0, 0.4 * depth)
    return bool(np.min(resid[near]) < -floor)


def equal_chi2_ranges(fit, temperature_K: float, fit_kw: dict, n: int = 9) -> dict:
    """Profile of the most correlated pair of a degenerate fit: the parameter of the pair
    that matters more (P before Z before the rest) is stepped over +-4 standard errors (to
    its bounds), the others refitted at each step; returns {name: (lo, hi)} for both, over
    the steps whose sum of squares is within one chi2_red of the best (delta chi2 <= 1)."""
    pairs = [(abs(r), pair.split("~")) for pair, r in fit.correlations.items()
             if "scale" not in pair and math.isfinite(r)]
    if not pairs:
        return {}
    _, (a, b) = max(pairs)
    order = ["P", "Z", "Z2", "delta_meV", "delta2_meV", "weight", "gamma_meV", "gamma2_meV"]
    first, other = sorted((a, b), key=lambda x: order.index(x) if x in order else 99)
    value, err = fit.values[first], fit.errors[first]
    lo_b, hi_b = fit.bounds[first]
    if not (math.isfinite(err) and err > 0):
        return {}
    grid = np.linspace(max(value - 4 * err, lo_b), min(value + 4 * err, hi_b), n)
    s_min = float(np.sum(fit.residuals ** 2))
    kw = {k: v for k, v in fit_kw.items() if k != "noise"}
    kept = []
    for x in grid:
        try:
            prof = fit_model(fit.bias_mV, fit.data, temperature_K, **{
                **kw, "fixed": {**(kw.get("fixed") or {}), first: float(x)},
                "initial": {k: v for k, v in fit.values.items() if k != first}})
        except AnalysisInputError:
            continue
        if float(np.sum(prof.residuals ** 2)) - s_min <= fit.chi2_red:
            kept.append((float(x), prof.values[other]))
    if not kept:
        return {}
    xs, ys = zip(*kept)
    return {first: (min(xs), max(xs)), other: (min(ys), max(ys))}


def _best_fit(v_mV, g, t, *, model, fixed, bounds, initial, smearing_meV, noise=math.nan,
              convention="dynes"):
    """fit_model; for the spin model, when the first fit is not down to the noise or sits at
    a bound, also from the other side of the Z-P valley (Z and P trade off), keeping the
    lower chi2."""
    fit = fit_model(v_mV, g, t, model=model, fixed=fixed, bounds=bounds, initial=initial,
                    smearing_meV=smearing_meV, convention=convention)
    suspicious = not fit.success or bool(set(fit.at_bound) & {"Z", "delta_meV"}) or \
        not (fit.rms <= 1.5 * noise)
    if model == "spin" and "P" in fit.free and not (initial and "P" in initial) and suspicious:
        other = fit_model(v_mV, g, t, model=model, fixed=fixed, bounds=bounds,
                          initial={**(initial or {}), "P": 0.6 if fit.values["P"] < 0.4 else 0.1,
                                   "Z": 0.3 if fit.values["Z"] > 0.3 else 0.8},
                          smearing_meV=smearing_meV, convention=convention)
        if other.chi2_red < fit.chi2_red * (1 - 1e-6):
            fit = other
    return fit


def fit_segment(segment, *, model: str = "btk", window_mV: float | None = None,
                temperature_K: float | None = None, **options) -> dict:
    """:func:`fit_spectrum` of a run segment (columns V_dc_V, dIdV_S, temperature_K) at its
    mean temperature; adds ``segment``, ``temperature_K``, ``field_T``, ``resistance_ohm``
    and, when the segment has its DC current (I_dc_A) and dips, ``dip_currents_A`` (the
    switching current at each dip, A, None where no jump: pcsdaq.analysis.switching)."""
    from pcsdaq.analysis.readers import spectrum_from_segment

    spec = spectrum_from_segment(segment)
    t = temperature_K if temperature_K is not None else spec.temperature_K
    if t is None:
        raise AnalysisInputError(f"segment {segment.name}: no temperature_K column")
    res = fit_spectrum(spec.bias_V, spec.g, t, model=model, window_mV=window_mV, **options)
    res.update({"segment": segment.name, "field_T": spec.field_T if spec.field_T is not None
                else math.nan, "resistance_ohm": spec.resistance_ohm,
                "conductance_in_siemens": True})
    from pcsdaq.analysis.switching import add_dip_currents

    cols = segment.columns
    return add_dip_currents(res, cols.get("I_dc_A"), cols.get("V_dc_V"))
