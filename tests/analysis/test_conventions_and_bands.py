"""The finite-difference conductance convention and the two-gap model with a Z per band:
spectra made in each are fitted back, from the API and the command line."""

import json

import numpy as np
import pytest

from pcsdaq.analysis.spectrum_fit import fit_spectrum
from pcsdaq.cli import main
from pcsdaq.physics import andreev

BIAS_MV = np.linspace(-8, 8, 400)


def noisy(g, seed, level=0.003):
    return g * (1 + level * np.random.default_rng(seed).standard_normal(g.shape))


def finite_difference_spectrum(bias_mV, delta, z, gamma, p, temperature_K):
    """What a lab computing G from a recorded I(V) gets, made independently of the fitter:
    I(V) integrated (trapezoid) from the model on a 20x finer grid, differenced over each
    bias step, the difference attributed to the step's lower bias, normalised at the
    largest |V|."""
    fine = np.linspace(bias_mV[0], bias_mV[-1], 20 * (bias_mV.size - 1) + 1)
    g = andreev.spin_conductance(fine, delta, z, gamma, p, temperature_K)
    current = np.concatenate([[0.0], np.cumsum(0.5 * (g[1:] + g[:-1]) * np.diff(fine))])
    i_at = current[::20]
    fd = np.diff(i_at) / np.diff(bias_mV)
    fd = np.append(fd, fd[-1])
    return fd / fd[np.argmax(np.abs(bias_mV))]


def test_finite_difference_model_matches_an_independent_construction():
    bias = np.linspace(-6, 6, 121)
    made = finite_difference_spectrum(bias, 1.5, 0.4, 0.1, 0.3, 2.0)
    model = andreev.spin_conductance(bias, 1.5, 0.4, 0.1, 0.3, 2.0,
                                     convention="finite-difference")
    assert model == pytest.approx(made, abs=5e-4)  # the smearing grids differ
    # half a step off the plain conductance: the curve is no longer symmetric in V
    plain = andreev.spin_conductance(bias, 1.5, 0.4, 0.1, 0.3, 2.0)
    assert np.max(np.abs(model - plain)) > 0.02
    # bias order does not matter to the model
    assert andreev.spin_conductance(bias[::-1], 1.5, 0.4, 0.1, 0.3, 2.0,
                                    convention="finite-difference") == \
        pytest.approx(model[::-1], abs=1e-12)


@pytest.mark.parametrize("p", [0.0, 0.4])
def test_finite_difference_spectrum_is_fitted_back_in_its_convention(p):
    bias = np.linspace(-8, 8, 161)  # 0.1 mV steps: half a step is 0.05 mV
    g = noisy(finite_difference_spectrum(bias, 2.0, 0.4, 0.1, p, 2.0), seed=11)
    own = fit_spectrum(bias * 1e-3, g, 2.0, model="spin", normalized=True,
                       convention="finite-difference")
    plain = fit_spectrum(bias * 1e-3, g, 2.0, model="spin", normalized=True)
    assert own["convention"] == "finite-difference"
    assert own["delta_meV"] == pytest.approx(2.0, rel=0.01)
    assert own["Z"] == pytest.approx(0.4, abs=0.05)
    assert own["P"] == pytest.approx(p, abs=0.03)
    assert own["verdict"] in ("good", "degenerate")
    assert own["rms"] < 0.5 * plain["rms"]


def two_gap_truth():
    # Delta1, Z, Gamma1, P, Delta2, Gamma2, weight, Z2: the second band's barrier differs
    return (1.0, 0.3, 0.05, 0.0, 2.5, 0.08, 0.5, 1.0)


def test_two_gap_with_a_z_per_band_round_trip():
    truth = two_gap_truth()
    g = noisy(andreev.conductance(BIAS_MV, "two-gap", truth, 1.5), seed=7)
    res = fit_spectrum(BIAS_MV * 1e-3, g, 1.5, model="two-gap", normalized=True,
                       fixed={"Z2": None})
    assert res["delta_meV"] == pytest.approx(1.0, rel=0.03)
    assert res["delta2_meV"] == pytest.approx(2.5, rel=0.03)
    assert res["Z2"] == pytest.approx(1.0, abs=0.1)
    assert res["Z"] == pytest.approx(0.3, abs=0.1)
    assert res["tied"] == {} and res["Z2_err"] > 0
    shared = fit_spectrum(BIAS_MV * 1e-3, g, 1.5, model="two-gap", normalized=True)
    assert shared["tied"] == {"Z2": "Z"} and shared["Z2"] == shared["Z"]
    assert res["rms"] < 0.8 * shared["rms"]


def test_two_gap_shares_z_by_default_and_z2_can_be_fixed():
    truth = (1.0, 0.5, 0.05, 0.0, 2.5, 0.08, 0.4)  # no Z2 given: both bands have Z
    g = noisy(andreev.conductance(BIAS_MV, "two-gap", truth, 1.5), seed=8)
    shared = fit_spectrum(BIAS_MV * 1e-3, g, 1.5, model="two-gap", normalized=True)
    assert shared["delta_meV"] == pytest.approx(1.0, rel=0.03)
    assert shared["delta2_meV"] == pytest.approx(2.5, rel=0.03)
    assert shared["Z2"] == shared["Z"] == pytest.approx(0.5, abs=0.05)
    assert not any("Z2" in pair.split("~") for pair in shared["correlations"])
    fixed = fit_spectrum(BIAS_MV * 1e-3, g, 1.5, model="two-gap", normalized=True,
                         fixed={"Z2": 0.5})
    assert fixed["Z2"] == 0.5 and fixed["Z2_err"] == 0.0 and fixed["fixed"]["Z2"] == 0.5


def test_cli_selects_the_convention_and_frees_z2(tmp_path, capsys):
    bias = np.linspace(-8, 8, 161)
    g = noisy(finite_difference_spectrum(bias, 2.0, 0.4, 0.1, 0.0, 2.0), seed=3)
    path = tmp_path / "fd.csv"
    path.write_text("".join(f"{b:.5f},{y:.6f}\n" for b, y in zip(bias, g)))
    assert main(["fit", str(path), "--temperature", "2", "--normalized",
                 "--convention", "finite-difference"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["convention"] == "finite-difference"
    assert res["delta_meV"] == pytest.approx(2.0, rel=0.01)
    two = tmp_path / "two.csv"
    g2 = noisy(andreev.conductance(BIAS_MV, "two-gap", two_gap_truth(), 1.5), seed=7)
    two.write_text("".join(f"{b:.5f},{y:.6f}\n" for b, y in zip(BIAS_MV, g2)))
    assert main(["fit", str(two), "--temperature", "1.5", "--normalized", "--model",
                 "two-gap", "--fix", "Z2=free"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["Z2"] == pytest.approx(1.0, abs=0.1) and res["tied"] == {}
    assert main(["fit", str(two), "--temperature", "1.5", "--convention", "finite"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "finite-difference" in err
