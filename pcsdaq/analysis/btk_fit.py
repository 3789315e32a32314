"""BTK fit of a normalised dI/dV spectrum: Delta, Z, Gamma and a scale at fixed temperature.

Levenberg-Marquardt (MINPACK) with an analytic Jacobian: the derivatives of g(E) with respect
to Delta, Z and Gamma (pcsdaq.physics.btk.conductance_T0_with_gradient) go through the same
thermal kernel as g, so one evaluation is one matrix product with four columns. Standard
errors from the Jacobian at the optimum (scaled by the reduced chi^2). Energies in meV,
bias in mV inside; the public functions take the bias in V as recorded.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult, least_squares, leastsq

from pcsdaq.analysis.model_fit import initial_guess, single_blas
from pcsdaq.physics import btk

GAMMA_MIN_MEV = 1e-3


@dataclass
class BTKResult:
    """Fitted parameters (meV, dimensionless) with standard errors and the reduced chi^2.

    The fit is unweighted: ``chi2_red`` is the sum of squared residuals over (n - 4), in the
    data's units squared (about the noise variance for a good fit); the errors are scaled by it."""

    delta_meV: float
    Z: float
    gamma_meV: float
    scale: float
    delta_meV_err: float
    Z_err: float
    gamma_meV_err: float
    scale_err: float
    chi2_red: float
    temperature_K: float
    n_points: int
    window_mV: float | None = None
    success: bool = True

    def as_dict(self) -> dict:
        """Plain dict for JSON output."""
        return asdict(self)


class _Model:
    """scale * G(V; Delta, Z, Gamma) on fixed biases and temperature, with its Jacobian."""

    def __init__(self, bias_mV: np.ndarray, temperature_K: float, gamma_hint_meV: float) -> None:
        self.bias = bias_mV
        self.t0 = temperature_K <= 0
        self.even = False
        self.energy = bias_mV
        if not self.t0:
            step = btk.energy_step_meV(temperature_K, gamma_hint_meV)
            self.kernel = btk.ThermalKernel(bias_mV, temperature_K, step)
            # g(E) is even: on a symmetric grid only E >= 0 is computed
            self.even = self.kernel.even_from is not None
            self.energy = self.kernel.energy_meV[self.kernel.even_from:] if self.even \
                else self.kernel.energy_meV

    def value_and_jac(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        delta, z, gamma, scale = p
        stack = np.stack(btk.conductance_T0_with_gradient(self.energy, delta, z, gamma), axis=1)
        if not self.t0:
            stack = self.kernel.apply(stack, even=self.even)
        jac = np.empty((len(self.bias), 4))
        jac[:, :3] = scale * stack[:, 1:]
        jac[:, 3] = stack[:, 0]
        return scale * stack[:, 0], jac


def _initial_guess(bias_mV: np.ndarray, g: np.ndarray) -> list[float]:
    """Delta, Z, Gamma and scale to start from: the single-gap part of
    :func:`pcsdaq.analysis.model_fit.initial_guess` (one guess for every model)."""
    guess = initial_guess(bias_mV, g)
    return [guess["delta_meV"], guess["Z"], guess["gamma_meV"], guess["scale"]]


@single_blas
def fit_btk(bias_V, g, temperature_K: float, *, window_mV: float | None = None,
            initial: dict | None = None) -> BTKResult:
    """Fit a (normalised, roughly) spectrum; ``bias_V`` in V, ``g`` conductance, T in K.

    ``window_mV`` fits only |V| <= window (intermediate-regime spectra with dips);
    ``initial`` may give delta_meV, Z, gamma_meV, scale (e.g. the previous spectrum's fit)."""
    bias_mV = np.asarray(bias_V, dtype=float) * 1e3
    g = np.asarray(g, dtype=float)
    if window_mV is not None:
        keep = np.abs(bias_mV) <= window_mV
        bias_mV, g = bias_mV[keep], g[keep]
    if bias_mV.size < 8:
        raise ValueError(f"only {bias_mV.size} points to fit (need >= 8)")
    if initial:
        x0 = [initial["delta_meV"], abs(initial["Z"]), initial["gamma_meV"], initial["scale"]]
    else:
        x0 = _initial_guess(bias_mV, g)
    span = float(np.max(np.abs(bias_mV)))
    lower = [1e-3, 0.0, GAMMA_MIN_MEV, 0.0]
    upper = [span, 10.0, span, np.inf]
    x0 = np.clip(x0, np.array(lower) + 1e-9, np.array(upper) - 1e-9)
    model = _Model(bias_mV, temperature_K, max(0.5 * x0[2], 0.02))
    cache: dict = {}

    def evaluate(p):
        # Delta and Gamma enter through |.| and Z through Z^2, so Levenberg-Marquardt can run
        # unbounded (MINPACK: several times less overhead per iteration than 'trf')
        key = p.tobytes()
        if key not in cache:
            cache.clear()
            q = np.array([abs(p[0]), p[1], max(abs(p[2]), GAMMA_MIN_MEV), p[3]])
            dq = np.array([np.sign(p[0]) or 1.0, 1.0,
                           (np.sign(p[2]) or 1.0) if abs(p[2]) > GAMMA_MIN_MEV else 0.0, 1.0])
            value, jac = model.value_and_jac(q)
            cache[key] = (value - g, jac * dq)
        return cache[key]

    # MINPACK's Levenberg-Marquardt through leastsq (least_squares(method="lm") adds
    # wrappers that cost a third of a fit), tolerances as least_squares' defaults
    p_opt, _, _, _, status = leastsq(lambda p: evaluate(p)[0], np.asarray(x0, dtype=float),
                                     Dfun=lambda p: evaluate(p)[1], full_output=True,
                                     ftol=1e-8, xtol=1e-8, gtol=1e-8, maxfev=400)
    resid, jac_opt = evaluate(p_opt)
    sol = OptimizeResult(x=p_opt, success=status in (1, 2, 3, 4),
                         cost=0.5 * float(resid @ resid), jac=jac_opt)
    d, z, gm, sc = abs(sol.x[0]), abs(sol.x[1]), abs(sol.x[2]), sol.x[3]
    if not (sol.success and lower[0] <= d <= upper[0] and GAMMA_MIN_MEV <= gm <= upper[2]
            and sc > 0 and z <= upper[1]):
        # fall back to the bounded trust-region fit from the clipped values
        cache.clear()
        start = np.clip([d, z, gm, sc], np.array(lower) + 1e-9, np.array(upper) - 1e-9)
        sol = least_squares(lambda p: evaluate(p)[0], start, jac=lambda p: evaluate(p)[1],
                            bounds=(lower, upper), method="trf", x_scale="jac")
    dof = max(len(g) - 4, 1)
    chi2_red = float(2.0 * sol.cost / dof)
    try:
        cov = np.linalg.inv(sol.jac.T @ sol.jac) * chi2_red
        errs = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    except np.linalg.LinAlgError:
        errs = np.full(4, math.nan)
    d, z, gm, sc = np.abs(sol.x[:3]).tolist() + [float(sol.x[3])]
    d_err, z_err, gm_err, sc_err = (float(e) for e in errs)
    return BTKResult(float(d), float(abs(z)), float(gm), float(sc), d_err, z_err, gm_err, sc_err,
                     chi2_red=chi2_red, temperature_K=float(temperature_K),
                     n_points=len(g), window_mV=window_mV, success=bool(sol.success))


def fit_series(spectra, *, window_mV: float | None = None) -> list[BTKResult]:
    """Fit each (bias_V, g, temperature_K) of a series in order, starting each fit from the
    previous result when that fit succeeded (a series changes slowly)."""
    results: list[BTKResult] = []
    for bias_V, g, temperature_K in spectra:
        start = results[-1].as_dict() if results and results[-1].success else None
        try:
            res = fit_btk(bias_V, g, temperature_K, window_mV=window_mV, initial=start)
        except ValueError:
            res = fit_btk(bias_V, g, temperature_K, window_mV=window_mV)
        if start is not None and res.chi2_red > 2.0 * results[-1].chi2_red:
            fresh = fit_btk(bias_V, g, temperature_K, window_mV=window_mV)
            res = fresh if fresh.chi2_red < res.chi2_red else res
        results.append(res)
    return results


@single_blas
def fit_gap_distribution(bias_V, g, temperature_K: float, *, n_gaps: int = 7,
                         window_mV: float | None = None) -> dict:
    """Fit with a Gaussian distribution of gaps (SI section IV): mean Delta, its width
    sigma (meV), Z, Gamma, scale. Returns a dict of values, errors and chi2_red."""
    single = fit_btk(bias_V, g, temperature_K, window_mV=window_mV)
    bias_mV = np.asarray(bias_V, dtype=float) * 1e3
    gg = np.asarray(g, dtype=float)
    if window_mV is not None:
        keep = np.abs(bias_mV) <= window_mV
        bias_mV, gg = bias_mV[keep], gg[keep]
    nodes = np.linspace(-2.0, 2.0, n_gaps)
    weights = np.exp(-0.5 * nodes**2)

    def model(p):
        delta, sigma, z, gamma, scale = p
        deltas = np.clip(delta + sigma * nodes, 1e-3, None)
        return scale * btk.gap_distribution_conductance(bias_mV, deltas, weights, z, gamma,
                                                        temperature_K)

    x0 = [single.delta_meV, 0.1 * single.delta_meV, single.Z, single.gamma_meV, single.scale]
    sol = least_squares(lambda p: model(p) - gg, x0,
                        bounds=([1e-3, 0.0, 0.0, GAMMA_MIN_MEV, 0.0],
                                [np.inf, np.inf, 10.0, np.inf, np.inf]))
    dof = max(len(gg) - 5, 1)
    chi2_red = float(2.0 * sol.cost / dof)
    cov = np.linalg.pinv(sol.jac.T @ sol.jac) * chi2_red
    errs = np.sqrt(np.clip(np.diag(cov), 0, None))
    names = ("delta_meV", "sigma_meV", "Z", "gamma_meV", "scale")
    out: dict[str, Any] = {n: float(v) for n, v in zip(names, sol.x)}
    out.update({f"{n}_err": float(e) for n, e in zip(names, errs)})
    out["chi2_red"] = chi2_red
    # the width of the gap distribution and Gamma both broaden the spectrum: say how much
    den = errs[1] * errs[3]
    corr = float(cov[1, 3] / den) if den > 0 else math.nan
    out["correlation_sigma_gamma"] = corr
    out["reasons"] = []
    if not math.isfinite(corr) or abs(corr) > 0.9:
        out["reasons"].append(
            f"sigma and Gamma are not separately determined (correlation {corr:+.2f}): at equal "
            f"chi2 sigma spans {out['sigma_meV'] - errs[1]:.3g}..{out['sigma_meV'] + errs[1]:.3g}"
            f" meV and Gamma {out['gamma_meV'] - errs[3]:.3g}..{out['gamma_meV'] + errs[3]:.3g}"
            " meV")
    out["verdict"] = "degenerate" if out["reasons"] else "good"
    return out
