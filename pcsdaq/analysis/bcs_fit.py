"""Fits of the gap versus temperature (BCS) and versus field.

Delta(T) = Delta(0) * f(T/Tc) with f the BCS gap-equation table (pcsdaq.physics.bcs); free
Delta(0) and Tc, errors from the Jacobian; the ratio Delta(0)/k_BTc with its propagated error.
Delta(H) = Delta(0) sqrt(1 - H/Hc2) (the field model of pcsdaq.physics.bcs).

A fit whose result is unphysical is reported as failed, never as a result: the numbers move
under ``rejected`` and ``failed`` says why (Tc far outside the measured range, Delta(0)/k_BTc
outside 1-3 (BCS: 1.764), chi2 far above the gaps' own errors, Hc2 far beyond the fields
measured, Delta(0) far above the largest gap measured).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

from pcsdaq.physics import bcs
from pcsdaq.physics.btk import KB_MEV_PER_K


def _errors(sol, n: int) -> tuple[np.ndarray, np.ndarray, float]:
    dof = max(n - len(sol.x), 1)
    chi2 = float(2.0 * sol.cost / dof)
    cov = np.linalg.pinv(sol.jac.T @ sol.jac) * chi2
    return np.sqrt(np.clip(np.diag(cov), 0.0, None)), cov, chi2


def _reject(result: dict, reasons: list[str], keys: tuple[str, ...]) -> dict:
    if not reasons:
        return result
    rejected = {k: result.pop(k) for k in keys if k in result}
    result.update({k: None for k in keys})
    result["rejected"] = rejected
    result["failed"] = "; ".join(reasons)
    return result


def fit_gap_vs_temperature(temperature_K, delta_meV, delta_err_meV=None) -> dict:
    """Fit Delta(T) in meV vs T in K to BCS: tc_K, delta0_meV, ratio (Delta(0)/k_BTc), errors;
    ``failed`` (with the numbers under ``rejected``) when the result is unphysical."""
    t = np.asarray(temperature_K, dtype=float)
    d = np.asarray(delta_meV, dtype=float)
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(d))):
        raise ValueError("temperatures and gaps must be finite")
    if len(t) < 3:
        raise ValueError(f"only {len(t)} gaps (need >= 3)")
    d0 = float(np.max(d))
    tc0 = max(float(t.max()) * 1.05, d0 / (bcs.BCS_RATIO * KB_MEV_PER_K))

    def resid(p):
        return p[0] * bcs.gap_ratio(t / p[1]) - d

    sol = least_squares(resid, [d0, tc0], bounds=([0.0, 1e-3], [np.inf, np.inf]))
    errs, cov, chi2 = _errors(sol, len(t))
    d0, tc = sol.x
    ratio = d0 / (KB_MEV_PER_K * tc)
    # error propagation for d0/tc with the covariance of the two
    rel = np.sqrt(cov[0, 0] / d0**2 + cov[1, 1] / tc**2 - 2 * cov[0, 1] / (d0 * tc))
    out = {"tc_K": float(tc), "tc_K_err": float(errs[1]), "delta0_meV": float(d0),
           "delta0_meV_err": float(errs[0]), "ratio": float(ratio),
           "ratio_err": float(abs(ratio) * rel), "chi2_red": chi2,
           "definition": "spectroscopic Tc: BCS fit of Delta(T)"}
    reasons = []
    if not (0.5 * t.min() <= tc <= 3.0 * t.max()):
        reasons.append(f"Tc {tc:.3g} K far outside the measured {t.min():.3g}-{t.max():.3g} K")
    if not 1.0 <= ratio <= 3.0:
        reasons.append(f"Delta(0)/k_BTc = {ratio:.3g} outside 1-3 (BCS 1.764)")
    reasons += _scatter_problem(chi2, delta_err_meV)
    return _reject(out, reasons, ("tc_K", "delta0_meV", "ratio"))


def _scatter_problem(chi2: float, delta_err_meV) -> list[str]:
    """[reason] when the gaps scatter (sqrt(chi2_red), meV) far more than their own errors
    say (5x the median error), else []."""
    if delta_err_meV is None:
        return []
    e = np.asarray(delta_err_meV, dtype=float)
    e = e[np.isfinite(e) & (e > 0)]
    if e.size and chi2 > 25.0 * float(np.median(e)) ** 2 + 1e-12:
        return [f"scatter sqrt(chi2_red) = {np.sqrt(chi2):.3g} meV is far above the gaps' "
                f"errors (median {np.median(e):.2g} meV)"]
    return []


def fit_gap_vs_field(field_T, delta_meV, delta_err_meV=None) -> dict:
    """Fit Delta(H) in meV vs H in T to Delta(0) sqrt(1 - H/Hc2): delta0_meV, hc2_T, errors."""
    h = np.abs(np.asarray(field_T, dtype=float))
    d = np.asarray(delta_meV, dtype=float)
    if len(h) < 3:
        raise ValueError(f"only {len(h)} gaps (need >= 3)")

    def resid(p):
        return p[0] * np.sqrt(np.clip(1.0 - h / p[1], 0.0, None)) - d

    sol = least_squares(resid, [float(d.max()), float(h.max()) * 1.5 + 0.1],
                        bounds=([0.0, 1e-3], [np.inf, np.inf]))
    errs, _, chi2 = _errors(sol, len(h))
    out = {"delta0_meV": float(sol.x[0]), "delta0_meV_err": float(errs[0]),
           "hc2_T": float(sol.x[1]), "hc2_T_err": float(errs[1]), "chi2_red": chi2}
    reasons = []
    if sol.x[0] > 1.5 * float(d.max()):
        reasons.append(f"Delta(0) {sol.x[0]:.3g} meV far above the largest gap measured "
                       f"{d.max():.3g} meV")
    if sol.x[1] > 10.0 * max(float(h.max()), 0.01):
        reasons.append(f"Hc2 {sol.x[1]:.3g} T far beyond the fields measured (<= {h.max():.3g} T)")
    reasons += _scatter_problem(chi2, delta_err_meV)
    return _reject(out, reasons, ("delta0_meV", "hc2_T"))
