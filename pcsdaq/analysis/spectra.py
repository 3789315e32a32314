"""Preparing a measured dI/dV spectrum for a fit: normalisation, symmetrisation, bias offset.

Biases in V (as recorded), conductances in any unit (S or already normalised).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar


def quantile(x: np.ndarray, q: float) -> float:
    """np.quantile(x, q) (linear interpolation, the same number) from a partial sort: per
    spectrum of a batch, np.quantile's own overhead cost more than the sorting."""
    pos = q * (x.size - 1)
    j = int(np.floor(pos))
    k = min(j + 1, x.size - 1)
    part = np.partition(x, (j, k))
    return float(part[j] + (pos - j) * (part[k] - part[j]))


def normalise(bias_V, didv, *, normal_state=None, high_bias_fraction: float = 0.15) -> np.ndarray:
    """dI/dV divided by the normal-state conductance.

    With ``normal_state`` (a spectrum above Tc on the same biases): point by point. Otherwise
    by the mean conductance of the outermost ``high_bias_fraction`` of |V| on both sides."""
    g = np.asarray(didv, dtype=float)
    if normal_state is not None:
        return g / np.asarray(normal_state, dtype=float)
    return g / normal_conductance(bias_V, g, high_bias_fraction)


def normal_conductance(bias_V, didv, high_bias_fraction: float = 0.15) -> float:
    """The normal-state conductance of a spectrum (the unit of ``didv``, e.g. S): the mean
    conductance of the outermost ``high_bias_fraction`` of |V| on both sides, what
    :func:`normalise` divides by."""
    bias = np.asarray(bias_V, dtype=float)
    g = np.asarray(didv, dtype=float)
    cut = np.quantile(np.abs(bias), 1.0 - high_bias_fraction)
    return float(g[np.abs(bias) >= cut].mean())


def symmetrise(bias_V, g) -> np.ndarray:
    """(G(V) + G(-V)) / 2 on the same biases (G(-V) interpolated)."""
    bias = np.asarray(bias_V, dtype=float)
    g = np.asarray(g, dtype=float)
    order = np.argsort(bias)
    mirrored = np.interp(-bias, bias[order], g[order])
    return 0.5 * (g + mirrored)


def bias_offset(bias_V, g, max_offset_fraction: float = 0.1) -> float:
    """Bias offset in V that makes the spectrum most symmetric (subtract it from the bias)."""
    bias = np.asarray(bias_V, dtype=float)
    g = np.asarray(g, dtype=float)
    order = np.argsort(bias)
    b, gg = bias[order], g[order]
    span = max_offset_fraction * (b[-1] - b[0]) / 2.0
    inner = np.abs(b) <= (b[-1] - b[0]) / 2.0 - 2 * span

    def asymmetry(offset: float) -> float:
        x = b[inner]
        return float(np.mean((np.interp(offset + x, b, gg) - np.interp(offset - x, b, gg)) ** 2))

    return float(minimize_scalar(asymmetry, bounds=(-span, span), method="bounded").x)
