"""BTK normalised conductance with Dynes broadening, at T = 0 and at finite temperature.

Energies and biases in meV, temperatures in K (k_B = 0.08617333 meV/K).

Convention (docs/physics.md): the complex form. eps = E + i*Gamma, Omega = sqrt(eps - Delta) *
sqrt(eps + Delta) with the two principal roots taken separately (``sqrt(eps**2 - Delta**2)``
picks the wrong branch for E < -Delta), k = 1 + 2 Z^2, D = |eps + k Omega|^2,
A = Delta^2 / D, B = 4 Z^2 (1 + Z^2) |Omega|^2 / D and g = (1 + Z^2)(1 + A - B), which tends
to 1 far above the gap. Gamma enters through the complex energy (not through Re(u^2) as some
public codes do). Only Z^2 enters: fits report |Z|.

At finite T the spectrum is g convolved with the derivative of the Fermi function on a
uniform energy grid (:class:`ThermalKernel`): one FFT convolution when the biases are evenly
spaced, else one matrix product. :func:`ab_with_gradient` is the one implementation of the
analytic derivatives every model's fit uses.
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


def ab_with_gradient(energy_meV, delta_meV: float, z: float, gamma_meV: float):
    """A(E) and B(E) of the complex Dynes form and their analytic derivatives.

    Returns ``(a, b, da, db)``: ``da`` and ``db`` are arrays (3, n) with rows d/dDelta
    (1/meV), d/dZ, d/dGamma (1/meV). The one implementation of the BTK gradients: the BTK,
    spin-polarised and two-gap models (pcsdaq.physics.andreev) all build on it. Needs
    gamma_meV > 0 (Omega != 0).

    With r = 1/Omega and s = eps + k Omega: dD/dDelta = -2 k Delta Re(s* r),
    dD/dZ = 8 Z Re(s* Omega), dD/dGamma = -2 Im(s* (1 + k eps r)); |Omega|^2 = W with
    dW/dDelta = -2 Delta Re(Omega*^2) / W, dW/dGamma = -2 Im(Omega*^2 eps) / W; then
    dA = (2 Delta [Delta] - A dD) / D and dB = (c dW - B dD + dc W) / D."""
    e = np.asarray(energy_meV, dtype=float)
    eps = e + 1j * gamma_meV
    omega = np.sqrt(eps - delta_meV)
    omega *= np.sqrt(eps + delta_meV)
    k = 1.0 + 2.0 * z * z
    s = eps + k * omega
    sr, si = s.real, s.imag
    orr, oi = omega.real, omega.imag
    d = sr * sr + si * si
    w = orr * orr + oi * oi
    inv_d = 1.0 / d
    z2 = z * z
    c = 4.0 * z2 * (1.0 + z2)
    a = (delta_meV * delta_meV) * inv_d
    b = (c * w) * inv_d
    r = 1.0 / omega
    sc = s.conj()
    dd = np.empty((3, e.size))
    dd[0] = (sc * r).real
    dd[0] *= -2.0 * k * delta_meV
    dd[1] = sr * orr + si * oi  # Re(s* Omega)
    dd[1] *= 8.0 * z
    ker = eps * r
    ker *= k
    ker += 1.0
    ker *= sc
    dd[2] = ker.imag
    dd[2] *= -2.0
    # Omega*^2 = (or^2 - oi^2) - 2i or oi, over W
    re_oc2 = (orr * orr - oi * oi) / w
    im_oc2e = (orr * orr - oi * oi) * gamma_meV - 2.0 * orr * oi * e
    dw0 = re_oc2 * (-2.0 * delta_meV)
    dw2 = im_oc2e / w
    dw2 *= -2.0
    da = dd * (-a)
    da[0] += 2.0 * delta_meV
    da *= inv_d
    db = dd * (-b)
    db[0] += c * dw0
    db[1] += (8.0 * z + 16.0 * z2 * z) * w
    db[2] += c * dw2
    db *= inv_d
    return a, b, da, db


def conductance_T0_with_gradient(energy_meV, delta_meV: float, z: float, gamma_meV: float):
    """g(E) at T = 0 and its analytic derivatives (dg/dDelta in 1/meV, dg/dZ, dg/dGamma in 1/meV).

    Returns ``(g, dg_ddelta, dg_dz, dg_dgamma)``; needs gamma_meV > 0 (Omega != 0). Built on
    :func:`ab_with_gradient`: g = (1 + Z^2)(1 + A - B)."""
    a, b, da, db = ab_with_gradient(energy_meV, delta_meV, z, gamma_meV)
    z2 = 1.0 + z * z
    core = 1.0 + a - b
    dg = da - db
    dg *= z2
    dg[1] += 2.0 * z * core
    return (z2 * core, dg[0], dg[1], dg[2])


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
    weight lies beyond). Three layouts (``layout="auto"`` picks one):

    - ``convolution``, for evenly spaced increasing biases (a programmed sweep): the grid step
      is the bias step over an integer m (so it is at most ``step_meV``) and every bias sits on
      a grid point, so all rows are one profile shifted by m points: applied as one FFT
      convolution, O(n log n), whatever the width of the window;
    - ``dense``: a small kernel as a matrix, one BLAS product per use;
    - ``band``: a large one (fine grids at low T) as a band: row i holds the ``width`` grid
      points from ``first[i]`` on, so building and applying cost O(n_bias * width).

    When the grid is symmetric about E = 0 (a symmetric sweep), ``even_from`` is the index of
    the first grid energy >= 0 and :meth:`apply` can take a g that is even in E on
    ``energy_meV[even_from:]`` only (``even=True``): half the model evaluations."""

    bias_meV: np.ndarray
    temperature_K: float
    step_meV: float
    #: extra Gaussian smearing omega (meV): kernel exp(-x^2/4omega^2), sigma = sqrt(2) omega
    smearing_meV: float = 0.0
    #: "auto" (convolution for even biases, else by size), "matrix" (dense or band by size),
    #: "dense" or "band"
    layout: str = "auto"

    def __post_init__(self) -> None:
        self.bias_meV = np.asarray(self.bias_meV, dtype=float)
        bias = self.bias_meV
        two_kt = 2.0 * KB_MEV_PER_K * self.temperature_K
        sigma = np.sqrt(2.0) * self.smearing_meV
        half = _TAIL_X * two_kt + 6.0 * sigma
        even_step = _even_step(bias) if self.layout == "auto" else None
        self._stride = 0
        if even_step is not None:
            m = max(1, int(np.ceil(even_step / self.step_meV - 1e-9)))
            h = even_step / m
            pad = int(np.ceil(half / h)) + 1
            lo = bias[0] - pad * h
            n = (bias.size - 1) * m + 2 * pad + 1
            self.step_meV = h
            self.width = 2 * pad + 1
            self.first = m * np.arange(bias.size)
            self._stride = m
            rel = np.full(bias.size, -pad * h)
        else:
            h = self.step_meV
            lo = bias.min() - half - h
            n = int(np.ceil((bias.max() + half + h - lo) / h)) + 1
            self.width = min(int(np.ceil(2.0 * half / h)) + 2, n)
            self.first = np.clip(np.floor((bias - half - lo) / h).astype(int), 0,
                                 n - self.width)
            rel = lo + h * self.first - bias
        self.energy_meV = lo + h * np.arange(n)
        offsets = np.arange(self.width)
        if self._stride:
            rows = rel[:1, None] + h * offsets[None, :]
        else:
            rows = rel[:, None] + h * offsets[None, :]
        if sigma <= 0:
            band = _sech2(rows / two_kt)
        else:
            band = _smeared_profile(two_kt, sigma, half, h)(rows)
        band /= band.sum(axis=1, keepdims=True)
        e = self.energy_meV
        self.even_from: int | None = None
        if np.max(np.abs(e + e[::-1])) <= 1e-9 * h:
            self.even_from = int(np.searchsorted(e, -1e-9 * h))
        self._dense = None
        if self._stride:
            from scipy import fft

            self.band = np.broadcast_to(band, (bias.size, self.width))
            self._nfft = fft.next_fast_len(n, real=True)
            self._profile_ft = np.fft.rfft(band[0, ::-1], self._nfft)
            return
        self.band = band
        if self.layout != "band" and (len(bias) * n <= _DENSE_MAX or self.layout == "dense"):
            # small: also as a dense matrix, applied as one BLAS product
            dense = np.zeros((len(bias), n))
            rows_i = np.arange(len(bias))[:, None]
            dense[rows_i, self.first[:, None] + offsets[None, :]] = band
            self._dense = dense
            self._dense_t = np.ascontiguousarray(dense.T)  # g-and-gradients products

    @property
    def layout_used(self) -> str:
        """The layout in use: "convolution", "dense" or "band"."""
        return "convolution" if self._stride else ("dense" if self._dense is not None
                                                   else "band")

    def apply(self, g: np.ndarray, even: bool = False) -> np.ndarray:
        """Thermally smeared spectrum at the biases from g sampled on ``energy_meV`` (the
        first axis; further axes, e.g. g and its derivatives side by side, are carried along).
        ``even``: g is even in E and given on ``energy_meV[even_from:]`` only."""
        if even and self.even_from is None:
            raise ValueError("this kernel's energy grid is not symmetric about 0")
        if self._stride:
            # along the last axis of g.T: contiguous when g holds columns side by side (the
            # models return their (k, n) rows transposed); an FFT along a strided axis costs
            # several times more
            gt = g.T
            if even:
                gt = np.concatenate((gt[..., ::-1][..., :self.even_from], gt), axis=-1)
            spec = np.fft.rfft(gt, self._nfft)
            spec *= self._profile_ft
            full = np.fft.irfft(spec, self._nfft)
            stop = self.width - 1 + self._stride * (len(self.bias_meV) - 1) + 1
            return full[..., self.width - 1:stop:self._stride].T
        if even:
            g = np.concatenate((g[::-1][:self.even_from], g))
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


def _even_step(bias: np.ndarray) -> float | None:
    """The bias step when the biases increase in equal steps (to 1e-6 of a step), else None."""
    if bias.ndim != 1 or bias.size < 3:
        return None
    step = float(bias[-1] - bias[0]) / (bias.size - 1)
    if not step > 0 or np.max(np.abs(np.diff(bias) - step)) > 1e-6 * step:
        return None
    return step


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
