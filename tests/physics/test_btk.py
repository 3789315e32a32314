"""BTK conductance: the sanity values of docs/physics.md, the original piecewise BTK, gradients,
thermal smearing accuracy."""

import numpy as np
import pytest

from pcsdaq.physics import btk


def piecewise_btk(e, delta, z):
    """The original BTK (Gamma = 0), written independently from the complex form."""
    e = np.abs(np.asarray(e, dtype=float))
    out = np.empty_like(e)
    inside = e < delta
    ei = e[inside]
    a_in = delta**2 / (ei**2 + (delta**2 - ei**2) * (1 + 2 * z * z) ** 2)
    out[inside] = (1 + z * z) * 2 * a_in
    eo = e[~inside]
    root = np.sqrt(eo**2 - delta**2)
    u2 = 0.5 * (1 + root / eo)
    v2 = 1 - u2
    gamma = u2 + (u2 - v2) * z * z
    a = u2 * v2 / gamma**2
    b = (u2 - v2) ** 2 * z * z * (1 + z * z) / gamma**2
    out[~inside] = (1 + z * z) * (1 + a - b)
    return out


def test_andreev_limit_is_two_inside_the_gap():
    e = np.array([-0.99, -0.5, 0.0, 0.3, 0.99])
    assert btk.conductance_T0(e, 1.0, 0.0, 0.0) == pytest.approx(2.0, abs=1e-12)


@pytest.mark.parametrize("z", [0.0, 0.3, 0.5, 1.0, 2.5])
def test_zero_bias_value(z):
    expected = 2 * (1 + z * z) / (1 + 2 * z * z) ** 2
    assert btk.conductance_T0(0.0, 1.3, z, 0.0) == pytest.approx(expected, abs=1e-9)


def test_z_half_gives_ten_ninths():
    assert btk.conductance_T0(0.0, 2.0, 0.5, 0.0) == pytest.approx(10 / 9, abs=1e-12)


@pytest.mark.parametrize("z", [0.0, 0.4, 1.0, 3.0])
def test_equals_the_piecewise_original_at_gamma_zero(z):
    e = np.concatenate([np.linspace(-5, -1.001, 50), np.linspace(-0.999, 0.999, 50),
                        np.linspace(1.001, 5, 50)])
    assert btk.conductance_T0(e, 1.0, z, 0.0) == pytest.approx(piecewise_btk(e, 1.0, z),
                                                               abs=1e-9)


def test_tends_to_one_far_above_the_gap_and_is_symmetric():
    e = np.linspace(0.0, 200.0, 101)
    g = btk.conductance_T0(e, 1.0, 0.7, 0.1)
    assert g[-1] == pytest.approx(1.0, abs=1e-3)
    assert btk.conductance_T0(-e, 1.0, 0.7, 0.1) == pytest.approx(g, abs=1e-12)


def test_large_z_tends_to_the_dynes_density_of_states():
    e = np.linspace(1.2, 3.0, 20)
    gamma = 0.05
    dos = np.real((e + 1j * gamma) / np.sqrt((e + 1j * gamma) ** 2 - 1.0))
    assert btk.conductance_T0(e, 1.0, 30.0, gamma) == pytest.approx(dos, rel=2e-3)


def test_analytic_gradient_matches_finite_differences():
    e = np.linspace(-4, 4, 81)
    p = np.array([1.2, 0.6, 0.15])
    _, *grads = btk.conductance_T0_with_gradient(e, *p)
    for k, grad in enumerate(grads):
        h = np.zeros(3)
        h[k] = 1e-6
        numeric = (btk.conductance_T0(e, *(p + h)) - btk.conductance_T0(e, *(p - h))) / 2e-6
        assert grad == pytest.approx(numeric, abs=1e-5)


@pytest.mark.parametrize("t,gamma", [(0.45, 0.02), (2.0, 0.1), (2.0, 0.01), (15.0, 0.05)])
def test_thermal_smearing_error_below_1e_4(t, gamma):
    bias = np.linspace(-6, 6, 301)
    kt = btk.KB_MEV_PER_K * t
    fine = btk.ThermalKernel(bias, t, min(kt, gamma) / 40)
    reference = fine.apply(btk.conductance_T0(fine.energy_meV, 1.0, 0.3, gamma))
    assert np.max(np.abs(btk.conductance(bias, 1.0, 0.3, gamma, t) - reference)) < 1e-4


def test_temperature_smears_the_peaks():
    bias = np.linspace(-4, 4, 401)
    cold = btk.conductance(bias, 1.0, 0.8, 0.02, 0.5)
    warm = btk.conductance(bias, 1.0, 0.8, 0.02, 6.0)
    assert warm.max() < cold.max() - 0.2
    assert btk.conductance(bias, 1.0, 0.8, 0.02, 0.0) == pytest.approx(
        btk.conductance_T0(bias, 1.0, 0.8, 0.02))


def test_gap_distribution_of_one_gap_is_the_plain_spectrum_and_broadens_otherwise():
    bias = np.linspace(-5, 5, 201)
    single = btk.conductance(bias, 1.5, 0.5, 0.1, 2.0)
    assert btk.gap_distribution_conductance(bias, [1.5], [1.0], 0.5, 0.1, 2.0) == \
        pytest.approx(single, abs=1e-12)
    spread = btk.gap_distribution_conductance(bias, [1.2, 1.5, 1.8], [1, 2, 1], 0.5, 0.1, 2.0)
    assert spread.max() < single.max()
    with pytest.raises(ValueError):
        btk.gap_distribution_conductance(bias, [1.0, 2.0], [1.0], 0.5, 0.1, 2.0)


def test_banded_dense_and_convolution_kernels_agree():
    bias = np.linspace(-5, 5, 301)
    def g_of(k):
        return btk.conductance_T0(k.energy_meV, 1.0, 0.4, 0.05)

    dense = btk.ThermalKernel(bias, 1.5, 0.01, layout="dense")
    band = btk.ThermalKernel(bias, 1.5, 0.01, layout="band")
    conv = btk.ThermalKernel(bias, 1.5, 0.01)
    assert (dense.layout_used, band.layout_used, conv.layout_used) == \
        ("dense", "band", "convolution")
    # the dense matrix keeps the tails beyond the band (4e-9 of the weight)
    assert band.apply(g_of(band)) == pytest.approx(dense.apply(g_of(dense)), abs=1e-8)
    stack = np.stack([g_of(band), 2 * g_of(band)], axis=1)
    assert band.apply(stack)[:, 1] == pytest.approx(2 * dense.apply(g_of(dense)), abs=2e-8)
    assert band.matrix == pytest.approx(dense.matrix, abs=1e-8)
    # the convolution layout puts every bias on its (finer, aligned) grid: same spectrum to
    # far below the smearing error, and its FFT product is its matrix's product
    assert conv.step_meV <= 0.01
    assert conv.apply(g_of(conv)) == pytest.approx(dense.apply(g_of(dense)), abs=1e-6)
    assert conv.apply(g_of(conv)) == pytest.approx(conv.matrix @ g_of(conv), abs=1e-12)
    cstack = np.stack([g_of(conv), -g_of(conv)], axis=1)
    assert conv.apply(cstack)[:, 1] == pytest.approx(-conv.matrix @ g_of(conv), abs=1e-12)


def test_even_spectrum_from_the_positive_half_of_a_symmetric_grid():
    bias = np.linspace(-5, 5, 301)
    for layout in ("auto", "dense"):
        kernel = btk.ThermalKernel(bias, 1.5, 0.01, layout=layout)
        g = btk.conductance_T0(kernel.energy_meV, 1.0, 0.4, 0.05)
        if kernel.even_from is None:
            assert layout == "dense"  # the dense grid is symmetric only by chance
            continue
        assert kernel.energy_meV[kernel.even_from] >= 0 > kernel.energy_meV[kernel.even_from - 1]
        half = g[kernel.even_from:]
        assert kernel.apply(half, even=True) == pytest.approx(kernel.apply(g), abs=1e-12)
    uneven = btk.ThermalKernel(np.linspace(-4, 5, 301), 1.5, 0.01)
    assert uneven.even_from is None
    with pytest.raises(ValueError):
        uneven.apply(np.ones(5), even=True)


@pytest.mark.parametrize("p", [0.0, 0.5])
def test_re_u2_convention_is_btk_without_broadening(p):
    from pcsdaq.physics import andreev

    e = np.linspace(-5, 5, 101) + 1e-3
    dynes = andreev.spin_T0_with_gradient(e, 1.5, 0.5, 1e-7, p)[:, 0]
    assert andreev.re_u2_T0(e, 1.5, 0.5, 1e-7, p) == pytest.approx(dynes, abs=1e-4)
    # with broadening the two conventions differ (that is the point of offering both)
    assert np.max(np.abs(andreev.re_u2_T0(e, 1.5, 0.5, 0.3, p)
                         - andreev.spin_T0_with_gradient(e, 1.5, 0.5, 0.3, p)[:, 0])) > 0.01


def test_gaussian_smearing_kernel_width():
    """exp(-x^2/4 omega^2) smearing of a step: the 16-84 % width is 2 sigma = 2 sqrt(2) omega."""
    from pcsdaq.physics import btk

    bias = np.linspace(-2, 2, 2001)
    kernel = btk.ThermalKernel(bias, 0.0, 0.002, smearing_meV=0.2)
    smeared = kernel.apply((kernel.energy_meV > 0).astype(float))
    lo, hi = np.interp([0.1587, 0.8413], smeared, bias)
    assert hi - lo == pytest.approx(2 * np.sqrt(2) * 0.2, rel=0.02)


def _central(f, p, k, h=1e-6):
    hi, lo = np.array(p, dtype=float), np.array(p, dtype=float)
    hi[k] += h
    lo[k] -= h
    return (f(hi) - f(lo)) / (2 * h)


def test_a_and_b_gradients_match_finite_differences():
    """btk.ab_with_gradient is the one source of every model's Jacobian: check A and B."""
    e = np.linspace(-4, 4, 81) + 1e-3
    p = [1.2, 0.6, 0.15]
    _, _, da, db = btk.ab_with_gradient(e, *p)
    for k in range(3):
        assert da[k] == pytest.approx(_central(lambda q: btk.ab_with_gradient(e, *q)[0], p, k),
                                      abs=1e-5)
        assert db[k] == pytest.approx(_central(lambda q: btk.ab_with_gradient(e, *q)[1], p, k),
                                      abs=1e-5)


def test_spin_and_two_gap_gradients_match_finite_differences():
    from pcsdaq.physics import andreev

    # a cell wide enough that the half-metal channel's edge is smooth on the scale of h
    e = np.linspace(-4, 4, 161) + 1e-3
    spin = [1.2, 0.6, 0.15, 0.4]
    cols = andreev.spin_T0_with_gradient(e, *spin, cell_meV=0.05)
    for k in range(4):
        num = _central(lambda q: andreev.spin_T0_with_gradient(e, *q, cell_meV=0.05)[:, 0],
                       spin, k)
        assert cols[:, 1 + k] == pytest.approx(num, abs=1e-4)
    two = [1.0, 0.3, 0.05, 0.2, 2.5, 0.08, 0.4, 0.9]
    cols = andreev.two_gap_T0_with_gradient(e, *two, cell_meV=0.05)
    for k in range(8):
        num = _central(lambda q: andreev.two_gap_T0_with_gradient(e, *q, cell_meV=0.05)[:, 0],
                       two, k)
        assert cols[:, 1 + k] == pytest.approx(num, abs=1e-4)
    # Z2 left out: the second band takes Z, and the Z column is the derivative of both bands
    shared = andreev.two_gap_T0_with_gradient(e, *two[:7], cell_meV=0.05)
    num = _central(lambda q: andreev.two_gap_T0_with_gradient(e, *q, cell_meV=0.05)[:, 0],
                   two[:7], 1)
    assert shared[:, 2] == pytest.approx(num, abs=1e-4)


def test_symmetric_sweep_spectrum_within_the_smearing_error():
    """The even shortcut (E >= 0 computed, mirrored) on the bias-aligned convolution grid
    stays within 1e-4 of a 20x finer reference, for the spin model's stepped gap edge too."""
    from pcsdaq.physics import andreev

    bias = np.linspace(-8, 8, 400)
    fast = andreev.conductance(bias, "spin", (2.0, 0.5, 0.1, 0.4), 2.0)
    fine = btk.ThermalKernel(bias, 2.0, 0.002, layout="band")
    g = andreev.spin_T0_with_gradient(fine.energy_meV, 2.0, 0.5, 0.1, 0.4,
                                      cell_meV=fine.step_meV)[:, 0]
    assert fast == pytest.approx(fine.apply(g), abs=1e-4)
