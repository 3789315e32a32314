"""BTK normalised conductance with Dynes broadening, at T = 0 and at finite temperature.

Energies and biases in meV, temperatures in K (k_B = 0.08617333 meV/K).

Convention (docs/physics.md): the complex form. eps = E + i*Gamma, Omega = sqrt(eps - Delta) *
sqrt(eps + Delta) with the two principal roots taken separately (``sqrt(eps**2 - Delta**2)``
picks the wrong branch for E < -Delta), k = 1 + 2 Z^2, D = |eps + k Omega|^2,
A = Delta^2 / D, B = 4 Z^2 (1 + Z^2) |Omega|^2 / D and g = (1 + Z^2)(1 + A - B), which tends
to 1 far above the gap. Gamma enters through the complex energy (not through Re(u^2) as some
public codes do). Only Z^2 enters: fits report |Z|.

At finite T the spectrum is g convolved with the derivative of the Fermi function, done as
one matrix-vector product on a uniform energy grid (:class:`ThermalKernel`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KB_MEV_PER_K = 0.08617333  #: Boltzmann constant, meV/K
#: the Fermi-window kernel is cut at |E - eV| = 10 * 2k_BT (the weight beyond is 4e-9)
_TAIL_X = 10.0
#: kernels with at most this many (bias, energy) pairs are also kept dense, for BLAS
_DENSE_MAX = 2_000_000


def _parts(energy_meV, delta_meV, z, gamma_meV):
    eps = np.asarray(energy_meV, dtype=float) + 1j * gamma_meV
    omega = np.sqrt(eps - delta_meV) * np.sqrt(eps + delta_meV)
    k = 1.0 + 2.0 * z * z
    s = eps + k * omega
    d = (s * s.conjugate()).real
    return eps, omega, k, s, d


def conductance_T0(energy_meV, delta_meV: float, z: float, gamma_meV: float) -> np.ndarray:
    """Normalised BTK conductance g(E) at T = 0 (dimensionless, -> 1 far above the gap).

    ``energy_meV`` array of energies (= eV at T = 0) in meV; ``delta_meV`` gap, ``z``
    barrier strength, ``gamma_meV`` Dynes broadening (>= 0)."""
    _, omega, _, _, d = _parts(energy_meV, delta_meV, z, gamma_meV)
    w = (omega * omega.conjugate()).real
    a = delta_meV * delta_meV / d
    b = 4.0 * z * z * (1.0 + z * z) * w / d
    return (1.0 + z * z) * (1.0 + a - b)


def conductance_T0_with_gradient(energy_meV, delta_meV: float, z: float, gamma_meV: float):
    """g(E) at T = 0 and its analytic derivatives (dg/dDelta in 1/meV, dg/dZ, dg/dGamma in 1/meV).

    Returns ``(g, dg_ddelta, dg_dz, dg_dgamma)``; needs gamma_meV > 0 (Omega != 0)."""
    eps, omega, k, s, d = _parts(energy_meV, delta_meV, z, gamma_meV)
    w = (omega * omega.conjugate()).real
    z2 = z * z
    c = 4.0 * z2 * (1.0 + z2)
    a = delta_meV * delta_meV / d
    b = c * w / d
    # derivatives of Omega (Omega^2 = eps^2 - Delta^2) and of s = eps + k Omega
    domega_ddelta = -delta_meV / omega
    domega_dgamma = 1j * eps / omega
    ds = {"delta": k * domega_ddelta, "z": 4.0 * z * omega, "gamma": 1j + k * domega_dgamma}
    dw = {"delta": 2.0 * (omega.conjugate() * domega_ddelta).real, "z": 0.0,
          "gamma": 2.0 * (omega.conjugate() * domega_dgamma).real}
    out = []
    for p in ("delta", "z", "gamma"):
        dd = 2.0 * (s.conjugate() * ds[p]).real
        da = -a * dd / d + (2.0 * delta_meV / d if p == "delta" else 0.0)
        dc = 8.0 * z + 16.0 * z2 * z if p == "z" else 0.0
        db = c * (dw[p] / d - w * dd / (d * d)) + dc * w / d
        dg = (1.0 + z2) * (da - db)
        if p == "z":
            dg = dg + 2.0 * z * (1.0 + a - b)
        out.append(dg)
    return ((1.0 + z2) * (1.0 + a - b), *out)


def energy_step_meV(temperature_K: float, gamma_meV: float) -> float:
    """Energy grid step (meV) for the thermal convolution: min(k_BT / 3, max(Gamma, 4 ueV)).

    The integrand has features of width k_BT (kernel) and Gamma (gap edges); this step keeps
    the smearing error below 1e-4 of the normal-state conductance for Gamma >= 4 ueV
    (tests/physics check it against a 40x finer grid)."""
    kt = KB_MEV_PER_K * temperature_K
    return min(kt / 3.0, max(gamma_meV, 4e-3))


@dataclass
class ThermalKernel:
    """Fermi-window kernel on a uniform energy grid for fixed biases and temperature.

    ``G(V_i) = sum_j K_ij g(E_j)`` with K_ij = h sech^2((E_j - V_i)/2k_BT) / 4k_BT, rows
    normalised to 1 so a flat g stays exactly flat; cut at |E - V_i| = 2 k_BT * 10 (4e-9 of the
    weight lies beyond). A small kernel is kept as a dense matrix (one BLAS product per use); a
    large
    one (fine grids at low T) as a band: row i holds the ``width`` grid points from
    ``first[i]`` on, so building and applying cost O(n_bias * width)."""

    bias_meV: np.ndarray
    temperature_K: float
    step_meV: float
    #: extra Gaussian smearing omega (meV): kernel exp(-x^2/4omega^2), sigma = sqrt(2) omega
    smearing_meV: float = 0.0

    def __post_init__(self) -> None:
        self.bias_meV = np.asarray(self.bias_meV, dtype=float)
        two_kt = 2.0 * KB_MEV_PER_K * self.temperature_K
        sigma = np.sqrt(2.0) * self.smearing_meV
        half = _TAIL_X * two_kt + 6.0 * sigma
        h = self.step_meV
        lo = self.bias_meV.min() - half - h
        n = int(np.ceil((self.bias_meV.max() + half + h - lo) / h)) + 1
        self.energy_meV = lo + h * np.arange(n)
        self.width = min(int(np.ceil(2.0 * half / h)) + 2, n)
        self.first = np.clip(np.floor((self.bias_meV - half - lo) / h).astype(int), 0,
                             n - self.width)
        offsets = np.arange(self.width)
        rel = lo + h * self.first - self.bias_meV
        if sigma <= 0:
            band = _sech2(rel[:, None] / two_kt + (h / two_kt) * offsets[None, :])
        else:
            band = _smeared_profile(two_kt, sigma, half, h)(
                rel[:, None] + h * offsets[None, :])
        band /= band.sum(axis=1, keepdims=True)
        self.band = band
        self._dense = None
        if len(self.bias_meV) * n <= _DENSE_MAX:
            # small: also as a dense matrix, applied as one BLAS product
            dense = np.zeros((len(self.bias_meV), n))
            rows = np.arange(len(self.bias_meV))[:, None]
            dense[rows, self.first[:, None] + offsets[None, :]] = band
            self._dense = dense
            self._dense_t = np.ascontiguousarray(dense.T)  # g-and-gradients products

    def apply(self, g: np.ndarray) -> np.ndarray:
        """Thermally smeared spectrum at the biases from g sampled on ``energy_meV`` (the
        first axis; further axes, e.g. g and its derivatives side by side, are carried along)."""
        if self._dense is not None:
            if g.ndim == 2 and g.shape[1] > 1:
                # (k, n_grid) @ (n_grid, n_bias) suits BLAS better than (n_bias, n_grid) @
                # (n_grid, k) for a handful of columns
                return (np.ascontiguousarray(g.T) @ self._dense_t).T
            return self._dense @ g
        windows = np.lib.stride_tricks.sliding_window_view(g, self.width, axis=0)[self.first]
        if windows.ndim == 2:
            return np.einsum("im,im->i", self.band, windows)
        return np.einsum("im,ikm->ik", self.band, windows)

    @property
    def matrix(self) -> np.ndarray:
        """The kernel as a dense (n_bias, n_grid) matrix (for inspection and tests)."""
        if self._dense is not None:
            return self._dense
        dense = np.zeros((len(self.bias_meV), len(self.energy_meV)))
        rows = np.arange(len(self.bias_meV))[:, None]
        dense[rows, self.first[:, None] + np.arange(self.width)[None, :]] = self.band
        return dense


def _smeared_profile(two_kt: float, sigma: float, half: float, h: float):
    """The Fermi window convolved with a Gaussian of width sigma (meV), as a function of
    E - eV (meV), tabulated on a grid 8x finer than ``h`` and interpolated."""
    fine = min(h, sigma, two_kt if two_kt > 0 else h) / 8.0
    x = np.arange(-half - 4 * fine, half + 4 * fine + fine / 2, fine)
    gauss = np.exp(-0.5 * (x / sigma) ** 2)
    if two_kt > 0:
        thermal = _sech2(x / two_kt)
        prof = np.convolve(thermal, gauss, mode="same")
    else:
        prof = gauss
    return lambda e: np.interp(e, x, prof, left=0.0, right=0.0)


def _sech2(x: np.ndarray) -> np.ndarray:
    """sech^2(x) = 4 e^-2|x| / (1 + e^-2|x|)^2 (no overflow: the exponent is never positive)."""
    e = np.exp(-2.0 * np.abs(x))
    return 4.0 * e / (1.0 + e) ** 2


def conductance(bias_mV, delta_meV: float, z: float, gamma_meV: float,
                temperature_K: float) -> np.ndarray:
    """Normalised BTK conductance G(V) at temperature ``temperature_K`` (K) for biases in mV.

    T <= 0 gives the T = 0 spectrum g(eV)."""
    bias = np.asarray(bias_mV, dtype=float)
    if temperature_K <= 0:
        return conductance_T0(bias, delta_meV, z, gamma_meV)
    kernel = ThermalKernel(bias.ravel(), temperature_K, energy_step_meV(temperature_K, gamma_meV))
    g = conductance_T0(kernel.energy_meV, delta_meV, z, gamma_meV)
    return kernel.apply(g).reshape(bias.shape)


def gap_distribution_conductance(bias_mV, deltas_meV, weights, z: float, gamma_meV: float,
                                 temperature_K: float) -> np.ndarray:
    """Spectrum of a contact averaging over a distribution of gaps (SI section IV).

    ``deltas_meV`` and ``weights`` (any scale) describe the distribution; the result is the
    weighted mean of the BTK spectra, normalised like a single one."""
    bias = np.asarray(bias_mV, dtype=float)
    deltas = np.atleast_1d(np.asarray(deltas_meV, dtype=float))
    w = np.atleast_1d(np.asarray(weights, dtype=float))
    if deltas.shape != w.shape or not np.all(w >= 0) or w.sum() <= 0:
        raise ValueError("deltas_meV and weights must have the same shape, weights >= 0")
    if temperature_K <= 0:
        gs = [conductance_T0(bias, d, z, gamma_meV) for d in deltas]
        return np.tensordot(w / w.sum(), np.array(gs), axes=1)
    kernel = ThermalKernel(bias.ravel(), temperature_K, energy_step_meV(temperature_K, gamma_meV))
    g = sum(wi * conductance_T0(kernel.energy_meV, d, z, gamma_meV) for d, wi in zip(deltas, w))
    return kernel.apply(g / w.sum()).reshape(bias.shape)
