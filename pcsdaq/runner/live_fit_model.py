"""What one live fit computes, in the worker process: the trusted fit of a spectrum's
snapshot (:func:`fit_snapshot`) and the fitted model curve to draw over it
(:func:`model_curve`, also used by the GUI for a watched file's rows). The scheduling around
it (one worker, newest snapshot only) is :mod:`pcsdaq.runner.live_fit`."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

#: the columns that draw the fitted curve (NaN where the model has no such parameter)
CURVE_COLUMNS = ("scale", "offset_mV", "delta2_meV", "gamma2_meV", "weight")


def _summary(res: Mapping[str, Any]) -> dict[str, Any]:
    return {"delta_meV": res["delta_meV"], "delta_err_meV": res["delta_meV_err"],
            "Z": res["Z"], "Z_err": res["Z_err"], "gamma_meV": res["gamma_meV"],
            "gamma_err_meV": res["gamma_meV_err"], "P": res.get("P", 0.0),
            "chi2_red": res["chi2_red"], "verdict": res["verdict"], "model": res["model"],
            **{k: res.get(k, math.nan) for k in CURVE_COLUMNS}}


def fit_snapshot(bias_V: np.ndarray, g: np.ndarray, temperature_K: float,
                 options: Mapping[str, Any]) -> dict[str, Any]:
    """One live fit (runs in the worker process): bias in V, conductance in any unit, T in
    K. Single-gap BTK by :func:`fit_spectrum` (with ``options``); when its verdict is
    "poor", also the spin and two-gap models, keeping the lowest chi2 whose verdict is not
    "poor". Returns delta_meV, delta_err_meV, Z, Z_err, gamma_meV, gamma_err_meV, P,
    chi2_red, verdict, model, the scale, offset and second-gap parameters, and fit_s (the
    worker's wall time); ``curve_bias_V`` and ``curve_g`` are the fitted model over the
    spectrum's bias range (:func:`model_curve`, G/G_N as the fit normalised it)."""
    from pcsdaq.analysis.spectrum_fit import fit_spectrum

    t0 = time.perf_counter()
    opts = {"model": "btk", **options}
    best = fit_spectrum(bias_V, g, temperature_K, **opts)
    if best["verdict"] == "poor" and "model" not in options:
        for model in ("spin", "two-gap"):
            try:
                other = fit_spectrum(bias_V, g, temperature_K, **{**opts, "model": model})
            except Exception:  # noqa: BLE001 - the single-gap fit stands
                continue
            if other["verdict"] != "poor" and other["chi2_red"] < best["chi2_red"]:
                best = other
    out = {**_summary(best), "temperature_K": float(temperature_K)}
    bias = np.asarray(bias_V, dtype=float)
    try:  # the curve to draw over the spectrum (the GUI's live plot)
        out["curve_bias_V"], out["curve_g"] = model_curve(out, float(np.min(bias)),
                                                          float(np.max(bias)))
    except (ValueError, KeyError):
        pass
    return {**out, "fit_s": time.perf_counter() - t0}


#: points of a live fit's curve
LIVE_CURVE_POINTS = 400


def _num(fit: Mapping[str, Any], key: str, default: float = math.nan) -> float:
    try:
        value = float(fit.get(key, default))
    except (TypeError, ValueError):
        return default
    return value


def model_curve(fit: Mapping[str, Any], bias_lo_V: float, bias_hi_V: float,
                temperature_K: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The model curve of one live fit (a ``live_fit`` event or a row of the run file's
    ``/entry/analysis/live``): (bias in V, G/G_N as the fit normalised it, times its scale)
    on LIVE_CURVE_POINTS biases from ``bias_lo_V`` to ``bias_hi_V``, at the fit's
    temperature (else ``temperature_K``, K)."""
    from pcsdaq.physics import andreev

    model = str(fit.get("model") or "btk")
    names = andreev.MODEL_PARAMETERS[model]
    params = [_num(fit, n) for n in names]
    params = [0.0 if n == "P" and not math.isfinite(p) else p  # P: NaN in old files
              for n, p in zip(names, params, strict=True)]
    t = _num(fit, "temperature_K")
    if not math.isfinite(t) or t <= 0:
        t = float(temperature_K) if temperature_K is not None else 0.0
    scale = _num(fit, "scale", 1.0)
    offset_mV = _num(fit, "offset_mV", 0.0)
    scale = scale if math.isfinite(scale) and scale > 0 else 1.0
    offset_mV = offset_mV if math.isfinite(offset_mV) else 0.0
    v = np.linspace(bias_lo_V, bias_hi_V, LIVE_CURVE_POINTS)
    if not all(math.isfinite(p) for p in params):
        return v, np.full_like(v, np.nan)
    g = scale * andreev.conductance(v * 1e3 - offset_mV, model, params, t)
    return v, g
