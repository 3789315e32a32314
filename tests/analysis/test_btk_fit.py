"""BTK fit accuracy on synthetic spectra with known parameters, series, windows, real data."""

import numpy as np
import pytest

from pcsdaq.analysis.btk_fit import fit_btk, fit_gap_distribution, fit_series
from pcsdaq.analysis.spectra import bias_offset, normalise, quantile, symmetrise
from pcsdaq.physics import btk

BIAS_V = np.linspace(-8e-3, 8e-3, 400)


def synthetic(delta, z, gamma, t=2.0, noise=0.003, seed=0, scale=1.0, bias=BIAS_V):
    rng = np.random.default_rng(seed)
    g = scale * btk.conductance(bias * 1e3, delta, z, gamma, t)
    return g * (1 + noise * rng.standard_normal(g.shape))


@pytest.mark.parametrize("delta,z,gamma,seed", [(2.0, 0.5, 0.1, 1), (1.0, 0.2, 0.3, 2),
                                                (3.0, 1.0, 0.05, 3), (1.5, 0.0, 0.2, 4),
                                                (2.5, 0.35, 0.15, 5)])
def test_accuracy_at_0_3_percent_noise(delta, z, gamma, seed):
    fit = fit_btk(BIAS_V, synthetic(delta, z, gamma, seed=seed), 2.0)
    assert fit.delta_meV == pytest.approx(delta, rel=0.01)
    assert fit.Z == pytest.approx(z, abs=0.05)
    assert fit.gamma_meV == pytest.approx(gamma, abs=0.02)
    assert fit.scale == pytest.approx(1.0, abs=0.01)
    # unweighted: chi2_red is the mean square residual, here that of the multiplicative noise
    noise_ms = np.mean((0.003 * btk.conductance(BIAS_V * 1e3, delta, z, gamma, 2.0)) ** 2)
    assert fit.chi2_red == pytest.approx(noise_ms, rel=0.3)
    assert 0 < fit.delta_meV_err < 0.01 * delta


def test_errors_shrink_with_less_noise():
    noisy = fit_btk(BIAS_V, synthetic(2.0, 0.5, 0.1, noise=0.01), 2.0)
    clean = fit_btk(BIAS_V, synthetic(2.0, 0.5, 0.1, noise=0.001), 2.0)
    assert clean.delta_meV_err < noisy.delta_meV_err / 5


def test_window_ignores_what_lies_outside():
    g = synthetic(2.0, 0.5, 0.1)
    spoiled = g.copy()
    spoiled[np.abs(BIAS_V) > 6e-3] *= 1.3  # dips/heating at high bias
    fit = fit_btk(BIAS_V, spoiled, 2.0, window_mV=6.0)
    assert fit.delta_meV == pytest.approx(2.0, rel=0.02)
    assert fit.n_points == np.count_nonzero(np.abs(BIAS_V) <= 6e-3)


def test_series_starts_from_the_previous_fit():
    spectra = [(BIAS_V, synthetic(d, 0.4, 0.1, t=t, seed=k), t)
               for k, (d, t) in enumerate([(2.0, 2.0), (1.9, 5.0), (1.6, 8.0)])]
    fits = fit_series(spectra)
    assert [f.delta_meV for f in fits] == pytest.approx([2.0, 1.9, 1.6], rel=0.02)


def test_gap_distribution_fit_finds_the_mean_gap():
    bias = np.linspace(-8, 8, 300)
    g = btk.gap_distribution_conductance(bias, [1.6, 2.0, 2.4], [1, 2, 1], 0.4, 0.1, 2.0)
    out = fit_gap_distribution(bias * 1e-3, g, 2.0)
    assert out["delta_meV"] == pytest.approx(2.0, rel=0.03)
    assert out["sigma_meV"] > 0.1


def test_normalise_symmetrise_offset():
    g = synthetic(2.0, 0.5, 0.1, noise=0.0, scale=0.05)
    assert normalise(BIAS_V, g)[[0, -1]] == pytest.approx(1.0, abs=0.02)
    assert normalise(BIAS_V, g, normal_state=np.full_like(g, 0.05)) == pytest.approx(g / 0.05)
    shifted = np.interp(BIAS_V - 0.3e-3, BIAS_V, g)
    assert bias_offset(BIAS_V, shifted) == pytest.approx(0.3e-3, abs=0.03e-3)
    lopsided = g * (1 + 10 * BIAS_V)
    assert symmetrise(BIAS_V, lopsided) == pytest.approx(symmetrise(BIAS_V, lopsided)[::-1])


def test_a_real_spectrum_fits_sensibly(shared_dir):
    path = shared_dir / "realdata" / "tp_b2.csv"
    data = np.loadtxt(path.read_text(encoding="utf-8-sig").splitlines(), delimiter=",")
    bias_V, g = data[:, 0] * 1e-3, data[:, 1]  # the file's bias is in mV
    fit = fit_btk(bias_V, g, 1.6)
    assert fit.success
    assert 0.1 < fit.delta_meV < 5.0  # a conventional superconductor's gap at 1.6 K
    model = fit.scale * btk.conductance(bias_V * 1e3, fit.delta_meV, fit.Z, fit.gamma_meV, 1.6)
    assert np.sqrt(np.mean((model - g) ** 2)) < 0.05 * np.ptp(g)


@pytest.mark.parametrize("n", [1, 2, 3, 10, 400, 401])
def test_quantile_from_a_partial_sort_is_numpys(n):
    x = np.abs(np.random.default_rng(n).standard_normal(n))
    for q in (0.0, 0.15, 0.5, 0.85, 1.0):
        assert quantile(x, q) == pytest.approx(np.quantile(x, q), rel=1e-15, abs=1e-15)
