"""Spin-polarised and two-gap Andreev conductance with analytic gradients (meV, K).

Spin polarisation (docs/physics.md; Strijkers et al. PRB 63 104510, Mazin et al. JAP 89 7576):
G = (1 - P) g_u + P g_p. g_u is the BTK conductance of pcsdaq.physics.btk (complex Dynes
form). g_p is the fully polarised (half-metal) channel: no Andreev reflection (A_p = 0);
inside the gap (|E| < Delta, on the real energy axis) every electron is normally reflected,
g_p = 0; outside, B_p = B_u / (1 - A_u) with A_u, B_u of the complex Dynes form, so
g_p = (1 + Z^2)(1 - A_u - B_u) / (1 - A_u) (-> 1 far above the gap). The gap edge of g_p is
a step; on the thermal kernel's energy grid it is resolved to a fraction of a grid cell
(the cell holding the edge is weighted by how much of it lies outside the gap), so the
smeared spectrum and its derivative with respect to Delta stay continuous.

Two gaps: G = w G(Delta_1, Z, Gamma_1) + (1 - w) G(Delta_2, Z_2, Gamma_2), one P; Z_2 is
the second band's barrier (docs/physics.md: one Z or two; a fit ties it to Z unless freed).

Conventions (docs/physics.md), selectable to reproduce published fits: ``dynes`` (the
complex form above), ``re-u2`` (the Re(u^2) Gamma variant), ``finite-difference`` (the Dynes
form, but the conductance is the finite difference of I(V) over each bias step, attributed
to the step's lower bias, so the curve is shifted by half a step, and normalised at the
largest |bias|).

Every model returns g and its derivatives with respect to its parameters, stacked as
columns, so that a fit needs one thermal-kernel product per evaluation.
"""

from __future__ import annotations

import numpy as np

from pcsdaq.physics import btk

#: parameter names of each model, in the order of the gradient columns
MODEL_PARAMETERS = {
    "btk": ("delta_meV", "Z", "gamma_meV", "P"),
    "spin": ("delta_meV", "Z", "gamma_meV", "P"),
    "two-gap": ("delta_meV", "Z", "gamma_meV", "P", "delta2_meV", "gamma2_meV", "weight", "Z2"),
}
#: models whose g(E) is even in E (computed on E >= 0 of a symmetric grid, then mirrored)
EVEN_CONVENTIONS = ("dynes", "finite-difference")


def _edge(energy_meV, delta_meV, cell_meV):
    """Fraction of each energy cell outside the gap (0 inside, 1 outside) and its derivative
    with respect to Delta; ``cell_meV`` 0 gives a hard step."""
    x = np.abs(energy_meV) - delta_meV
    if cell_meV <= 0:
        return (x >= 0).astype(float), np.zeros_like(x)
    f = x / cell_meV + 0.5
    m = np.clip(f, 0.0, 1.0)
    dm = np.where((f > 0.0) & (f < 1.0), -1.0 / cell_meV, 0.0)
    return m, dm


def spin_T0_with_gradient(energy_meV, delta_meV, z, gamma_meV, polarization, cell_meV=0.0,
                          p_gradient=True):
    """G(E) = (1-P) g_u + P g_p at T = 0 and its derivatives: array (n, 5) with columns
    g, dg/dDelta (1/meV), dg/dZ, dg/dGamma (1/meV), dg/dP. ``cell_meV`` the energy grid's
    step (resolves the half-metal channel's gap edge, see module doc); needs Gamma > 0.
    With P = 0 and ``p_gradient`` False the dg/dP column is left 0 (faster). A and B and
    their derivatives come from :func:`pcsdaq.physics.btk.ab_with_gradient`."""
    e = np.asarray(energy_meV, dtype=float)
    a, b, da, db = btk.ab_with_gradient(e, delta_meV, z, gamma_meV)
    z2 = 1.0 + z * z
    core = 1.0 + a - b
    gu = z2 * core
    dgu = da - db
    dgu *= z2
    dgu[1] += (2.0 * z) * core
    rows = np.empty((5, e.size))  # returned transposed: each column contiguous
    p = polarization
    if p == 0.0 and not p_gradient:
        rows[0] = gu
        rows[1:4] = dgu
        rows[4] = 0.0
        return rows.T
    q = 1.0 - a
    ratio = b / q
    m, dm = _edge(e, delta_meV, cell_meV)
    outside = z2 * (1.0 - ratio)
    gp = m * outside
    # d(B/(1 - A)) = (dB (1 - A) + B dA) / (1 - A)^2
    dgp = db * q
    dgp += b * da
    dgp *= (-z2) * m / (q * q)
    dgp[1] += (2.0 * z) * m * (1.0 - ratio)
    dgp[0] += dm * outside
    rows[0] = gu
    rows[0] += p * (gp - gu)
    rows[1:4] = dgu
    rows[1:4] *= 1.0 - p
    rows[1:4] += p * dgp
    rows[4] = gp - gu
    return rows.T


def two_gap_T0_with_gradient(energy_meV, delta_meV, z, gamma_meV, polarization, delta2_meV,
                             gamma2_meV, weight, z2=None, cell_meV=0.0):
    """w G(Delta_1, Z, Gamma_1) + (1-w) G(Delta_2, Z_2, Gamma_2) (shared P; ``z2`` None: the
    same Z) and its derivatives: array (n, 9) with columns g, then d/d(Delta, Z, Gamma, P,
    Delta2, Gamma2, w, Z2). With z2 None the Z column is the derivative of both bands and
    the Z2 column the second band's share of it."""
    one = spin_T0_with_gradient(energy_meV, delta_meV, z, gamma_meV, polarization, cell_meV)
    zb = z if z2 is None else z2
    two = spin_T0_with_gradient(energy_meV, delta2_meV, zb, gamma2_meV, polarization, cell_meV)
    w = weight
    out = np.empty((9, one.shape[0]))
    out[0] = w * one[:, 0] + (1.0 - w) * two[:, 0]
    out[1] = w * one[:, 1]
    out[2] = w * one[:, 2]
    out[3] = w * one[:, 3]
    out[4] = w * one[:, 4] + (1.0 - w) * two[:, 4]
    out[5] = (1.0 - w) * two[:, 1]
    out[6] = (1.0 - w) * two[:, 3]
    out[7] = one[:, 0] - two[:, 0]
    out[8] = (1.0 - w) * two[:, 2]
    if z2 is None:
        out[2] += out[8]
    return out.T


def model_T0_with_gradient(model: str, energy_meV, params, cell_meV=0.0):
    """g and gradient columns of ``model`` (a key of MODEL_PARAMETERS) at T = 0, with
    ``params`` in the order of MODEL_PARAMETERS[model] (two-gap: Z2 may be left out, then
    the second band has the first band's Z)."""
    if model in ("btk", "spin"):
        # (mypy cannot count *params: it fears they reach cell_meV)
        return spin_T0_with_gradient(energy_meV, *params, cell_meV=cell_meV)  # type: ignore[misc]
    if model == "two-gap":
        return two_gap_T0_with_gradient(energy_meV, *params,  # type: ignore[misc]
                                        cell_meV=cell_meV)
    raise ValueError(f"model {model!r}; allowed: {', '.join(MODEL_PARAMETERS)}")


CONVENTIONS = ("dynes", "re-u2", "finite-difference")


def check_convention(model: str, convention: str) -> None:
    """ValueError naming the allowed values unless ``convention`` applies to ``model``."""
    if convention not in CONVENTIONS:
        raise ValueError(f"convention {convention!r}; allowed: {', '.join(CONVENTIONS)}")
    if convention == "re-u2" and model == "two-gap":
        raise ValueError("the re-u2 convention is for the btk and spin models")


def finite_difference_biases(bias_mV: np.ndarray) -> np.ndarray:
    """The biases (increasing, mV) and the midpoints of their steps, interleaved: where the
    ``finite-difference`` convention samples the model (:func:`finite_difference`)."""
    out = np.empty(2 * bias_mV.size - 1)
    out[0::2] = bias_mV
    out[1::2] = 0.5 * (bias_mV[:-1] + bias_mV[1:])
    return out


def finite_difference(stack: np.ndarray, largest: int) -> np.ndarray:
    """The ``finite-difference`` convention from G (and its derivative columns) sampled on
    :func:`finite_difference_biases`: (I(V_i+1) - I(V_i)) / (V_i+1 - V_i), the mean of G over
    the step (Simpson's rule), attributed to V_i (the last bias repeats the last step),
    normalised at index ``largest`` (the largest |V|); derivative columns by the quotient
    rule, so a fit keeps its analytic Jacobian."""
    fd = np.empty((stack.shape[0] // 2 + 1,) + stack.shape[1:])
    fd[:-1] = (stack[0:-1:2] + 4.0 * stack[1::2] + stack[2::2]) / 6.0
    fd[-1] = fd[-2]
    ref = fd[largest].copy()
    if fd.ndim == 1:
        return fd / ref
    out = fd / ref[0]
    out[:, 1:] -= fd[:, :1] * (ref[1:] / (ref[0] * ref[0]))
    return out


def conductance(bias_mV, model: str, params, temperature_K: float, *,
                smearing_meV: float = 0.0, convention: str = "dynes") -> np.ndarray:
    """Normalised G(V) of ``model`` (parameters in the order of MODEL_PARAMETERS[model]) at
    temperature_K (K) for biases in mV; ``smearing_meV`` an extra Gaussian smearing omega
    (kernel exp(-x^2 / 4 omega^2), the convention of docs/physics.md), 0 for none;
    ``convention`` one of CONVENTIONS (module doc; re-u2 for the single-gap models only)."""
    check_convention(model, convention)
    bias = np.asarray(bias_mV, dtype=float)
    if convention == "finite-difference":
        order = np.argsort(bias.ravel(), kind="stable")
        v = bias.ravel()[order]
        g = conductance(finite_difference_biases(v), model, params, temperature_K,
                        smearing_meV=smearing_meV)
        fd = finite_difference(g, int(np.argmax(np.abs(v))))
        out = np.empty_like(fd)
        out[order] = fd
        return out.reshape(bias.shape)
    if convention == "re-u2":
        params = tuple(params)[:4]
    gamma = min(params[2], params[5]) if model == "two-gap" else params[2]

    def g_of(energy, cell):
        if convention == "re-u2":
            return re_u2_T0(energy, *params)
        return model_T0_with_gradient(model, energy, params, cell)[:, 0]

    if temperature_K <= 0 and smearing_meV <= 0:
        return g_of(bias.ravel(), 0.0).reshape(bias.shape)
    kernel = btk.ThermalKernel(bias.ravel(), max(temperature_K, 0.0),
                               btk.energy_step_meV(max(temperature_K, 0.05), gamma),
                               smearing_meV=smearing_meV,
                               layout="matrix" if convention == "re-u2" else "auto")
    if kernel.even_from is not None and convention in EVEN_CONVENTIONS:
        g = g_of(kernel.energy_meV[kernel.even_from:], kernel.step_meV)
        return kernel.apply(g, even=True).reshape(bias.shape)
    g = g_of(kernel.energy_meV, kernel.step_meV)
    return kernel.apply(g).reshape(bias.shape)


def spin_conductance(bias_mV, delta_meV: float, z: float, gamma_meV: float,
                     polarization: float, temperature_K: float, *,
                     smearing_meV: float = 0.0, convention: str = "dynes") -> np.ndarray:
    """Spin-polarised BTK G(V) (normalised) for biases in mV at temperature_K (K)."""
    return conductance(bias_mV, "spin", (delta_meV, z, gamma_meV, polarization), temperature_K,
                       smearing_meV=smearing_meV, convention=convention)


def re_u2_T0(energy_meV, delta_meV, z, gamma_meV, polarization):
    """The Re(u^2) convention of some public codes (docs/physics.md calls it a different Gamma
    convention; offered to reproduce published fits): coherence factors
    u^2, v^2 = (1 +- Re sqrt(((E - i Gamma)^2 - Delta^2) / (E - i Gamma)^2)) / 2; inside the gap
    (|E - i Gamma| <= Delta) A = Re(Delta^2 / (e^2 + (Delta^2 - e^2)(1 + 2Z^2)^2)), B = 1 - A;
    outside the original BTK A = u^2 v^2 / g^2, B = (u^2 - v^2)^2 Z^2 (1 + Z^2) / g^2 with
    g = u^2 + Z^2 (u^2 - v^2). The polarised channel follows docs/physics.md (0 inside the gap,
    B_p = B / (1 - A) outside). Normalised by (1 + Z^2) like the Dynes form; with Gamma -> 0
    both conventions are the original BTK."""
    e = np.asarray(energy_meV, dtype=float) - 1j * gamma_meV
    e2 = e * e
    d2 = delta_meV * delta_meV
    root = np.sqrt((e2 - d2) / e2).real
    u2, v2 = 0.5 * (1.0 + root), 0.5 * (1.0 - root)
    z2 = z * z
    g2 = (u2 + z2 * root) ** 2
    inside = np.abs(e) <= delta_meV
    with np.errstate(divide="ignore", invalid="ignore"):
        a_in = (d2 / (e2 + (d2 - e2) * (1.0 + 2.0 * z2) ** 2)).real
        a_out = u2 * v2 / g2
        b_out = root * root * z2 * (1.0 + z2) / g2
        gp_out = 1.0 - b_out / (1.0 - a_out)
    a = np.where(inside, a_in, a_out)
    b = np.where(inside, 1.0 - a_in, b_out)
    gp = np.where(inside, 0.0, gp_out)
    return (1.0 + z2) * ((1.0 - polarization) * (1.0 + a - b) + polarization * gp)


def convention_T0_with_gradient(convention: str, energy_meV, params, step=1e-6):
    """g and its derivatives (columns as spin_T0_with_gradient) in another ``convention``, the
    derivatives by central differences (no analytic form is kept for these)."""
    if convention != "re-u2":
        raise ValueError(f"convention {convention!r}: no numerical gradient kept for it")
    p = np.array(params, dtype=float)
    out = np.empty((np.size(energy_meV), 5))
    out[:, 0] = re_u2_T0(energy_meV, *p)
    for i in range(4):
        h = step * max(abs(p[i]), 1e-3)
        hi, lo = p.copy(), p.copy()
        hi[i] += h
        lo[i] -= h
        out[:, 1 + i] = (re_u2_T0(energy_meV, *hi) - re_u2_T0(energy_meV, *lo)) / (2 * h)
    return out
