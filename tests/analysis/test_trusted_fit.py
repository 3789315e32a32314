"""Fits a physicist can trust: synthetic round trips (spin polarisation, two gaps, dips),
the shared real spectra as shipped, fixed / bounded parameters, refused data."""

import numpy as np
import pytest

from pcsdaq.analysis.io import AnalysisInputError
from pcsdaq.analysis.quality import find_dips
from pcsdaq.analysis.readers import read_spectrum
from pcsdaq.analysis.spectrum_fit import fit_spectrum
from pcsdaq.physics import andreev
from pcsdaq.physics.contact import ContactIV
from tests.analysis.realdata import TEMPERATURES, realdata

BIAS_MV = np.linspace(-8, 8, 400)


def noisy(g, seed, level=0.003):
    return g * (1 + level * np.random.default_rng(seed).standard_normal(g.shape))


@pytest.mark.parametrize("p", [0.0, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9])
def test_spin_polarisation_round_trip(p):
    g = noisy(andreev.spin_conductance(BIAS_MV, 2.0, 0.4, 0.1, p, 2.0), seed=int(p * 100))
    res = fit_spectrum(BIAS_MV * 1e-3, g, 2.0, model="spin", normalized=True)
    assert res["P"] == pytest.approx(p, abs=0.03)
    assert res["delta_meV"] == pytest.approx(2.0, rel=0.01)
    assert res["Z"] == pytest.approx(0.4, abs=0.05)
    assert res["verdict"] in ("good", "degenerate") and res["dips_mV"] == []
    assert "Z~P" in res["correlations"] and -1 <= res["correlations"]["Z~P"] <= 1


def test_two_gap_round_trip():
    truth = (1.0, 0.5, 0.05, 0.0, 2.5, 0.08, 0.4)
    g = noisy(andreev.conductance(BIAS_MV, "two-gap", truth, 1.5), seed=7)
    res = fit_spectrum(BIAS_MV * 1e-3, g, 1.5, model="two-gap", normalized=True,
                       fixed={"P": 0.0})
    assert res["delta_meV"] == pytest.approx(1.0, rel=0.03)
    assert res["delta2_meV"] == pytest.approx(2.5, rel=0.03)
    assert res["weight"] == pytest.approx(0.4, abs=0.05)


def test_fix_and_bound():
    g = noisy(andreev.spin_conductance(BIAS_MV, 2.0, 0.4, 0.1, 0.5, 2.0), seed=3)
    fixed = fit_spectrum(BIAS_MV * 1e-3, g, 2.0, model="spin", fixed={"P": 0.0})
    assert fixed["P"] == 0.0 and fixed["P_err"] == 0.0
    assert not any("P" in pair.split("~") for pair in fixed["correlations"])
    bounded = fit_spectrum(BIAS_MV * 1e-3, g, 2.0, model="spin", bounds={"Z": (0.0, 0.3)})
    assert bounded["Z"] <= 0.3 + 1e-9 and "Z" in bounded["at_bound"]
    with pytest.raises(AnalysisInputError, match="cannot fix 'X'"):
        fit_spectrum(BIAS_MV * 1e-3, g, 2.0, fixed={"X": 1.0})


def contact_spectrum(ic_A=0.4e-3):
    """dI/dV(V) of a current-biased intermediate-regime contact (physics.contact), with the
    true dip positions (maxima of dV/dI) on its own bias points."""
    iv = ContactIV(r_normal_ohm=10.0, delta_meV=1.5, z=0.3, gamma_meV=0.05, temperature_K=2.0,
                   r_maxwell_ohm=3.0, critical_current_A=ic_A, max_current_A=1e-3)
    current = np.linspace(-1e-3, 1e-3, 801)
    v, dvdi = iv.response(current)
    true = [float(v[np.argmax(np.where(current < 0, dvdi, 0))]) * 1e3,
            float(v[np.argmax(np.where(current > 0, dvdi, 0))]) * 1e3]
    return v * 1e3, 1.0 / dvdi, true


def test_dips_found_within_one_bias_step():
    v_mV, g, true = contact_spectrum()
    dips = find_dips(v_mV, g)
    step = np.diff(np.sort(v_mV))
    assert len(dips) == 2
    for found, want in zip(dips, true):
        k = np.searchsorted(np.sort(v_mV), want)
        assert abs(found - want) <= step[max(k - 1, 0):k + 1].max() + 1e-12


def test_spectrum_with_dips_is_never_a_confident_gap():
    v_mV, g, _ = contact_spectrum()
    res = fit_spectrum(v_mV * 1e-3, g, 2.0, model="btk")
    assert res["verdict"] == "not-ballistic" and res["success"] is False
    assert len(res["dips_mV"]) == 2 and "underestimate" in res["reasons"][0]


@pytest.mark.parametrize("bias,message", [
    (np.zeros(50), "all biases are equal"),
    (np.linspace(-1e-3, 1e-3, 5), "only 5 points"),
])
def test_degenerate_data_refused(bias, message):
    with pytest.raises(AnalysisInputError, match=message):
        fit_spectrum(bias, np.ones_like(bias) + np.arange(bias.size) * 1e-3, 2.0)


def real(name, model):
    spec = read_spectrum(realdata(name))
    return fit_spectrum(spec.bias_V, spec.g, TEMPERATURES[name], model=model,
                        bias_unit=spec.bias_unit)


def test_real_nb_with_dips_is_not_ballistic():
    for model in ("btk", "spin"):
        res = real("tp_Nb.csv", model)
        assert res["verdict"] == "not-ballistic" and res["success"] is False
        assert any(abs(abs(d) - 1.08) < 0.05 for d in res["dips_mV"])


def test_real_ferromagnet_contact_needs_p():
    without = real("tp_t1.csv", "btk")
    with_p = real("tp_t1.csv", "spin")
    assert without["verdict"] == "poor"
    assert with_p["verdict"] in ("good", "degenerate")
    assert 0.1 < with_p["Z"] < 1.5 and 0.2 < with_p["P"] < 0.6
    assert 1.1 < with_p["delta_meV"] < 1.5
    assert with_p["rms"] < 0.7 * without["rms"]


@pytest.mark.parametrize("name", ["tp_b2.csv", "tp_NbSe2-FeTaS2_8_2K.csv",
                                  "tp_NbSe2-FeTaS2_8_3K.csv"])
def test_real_ballistic_spectra_are_good(name):
    res = real(name, "btk")
    assert res["verdict"] == "good" and res["success"] and res["dips_mV"] == []
    assert 0.6 < res["delta_meV"] < 1.0 and 0.5 < res["Z"] < 1.5
    assert res["rms"] < 3 * res["noise"]


@pytest.mark.parametrize("r_maxwell_fraction", [0.1, 0.3], ids=["intermediate", "thermal"])
def test_critical_current_from_the_dips(r_maxwell_fraction):
    from pcsdaq.analysis.series import annotate_spectrum

    r_n, ic = 3.0, 1.2e-3
    iv = ContactIV(r_normal_ohm=r_n, delta_meV=2.5, z=0.49, gamma_meV=0.12, temperature_K=2.0,
                   r_maxwell_ohm=r_maxwell_fraction * r_n, critical_current_A=ic,
                   max_current_A=20e-3)
    current = np.linspace(-20e-3, 20e-3, 1201)
    v, dvdi = iv.response(current)
    res = fit_spectrum(v, noisy(1.0 / dvdi, seed=2), 2.0)
    res.update(resistance_ohm=r_n, conductance_in_siemens=True)
    annotate_spectrum(res)
    assert res["ic_A"] == pytest.approx(ic, rel=0.05)
    assert res["regime"] in ("intermediate", "thermal") and res["verdict"] == "not-ballistic"


def test_published_curve_is_reproduced_in_its_own_convention():
    """The authors' model curve for t1 (tp_t1_BTK_Fit.csv) comes from a Re(u^2) code: fitted
    in that convention it is matched better than in the Dynes form."""
    spec = read_spectrum(realdata("tp_t1_BTK_Fit.csv"))
    fits = {c: fit_spectrum(spec.bias_V, spec.g, 1.66, model="spin", normalized=True,
                            convention=c) for c in ("dynes", "re-u2")}
    assert fits["re-u2"]["rms"] < 0.6 * fits["dynes"]["rms"]
    assert fits["re-u2"]["convention"] == "re-u2" and fits["re-u2"]["verdict"] == "good"


def test_normal_state_spectrum_is_no_gap():
    flat = noisy(np.ones_like(BIAS_MV), seed=9)
    res = fit_spectrum(BIAS_MV * 1e-3, flat, 20.0)
    assert res["verdict"] == "degenerate" and res["gap_features"] is False
    assert res["success"] is False
    assert "no gap features" in res["reasons"][0]


def test_series_leaves_untrusted_gaps_out():
    from pcsdaq.analysis.series import gap_series

    spectra = [{"segment": f"s{k}", "temperature_K": t, "field_T": 0.0, "delta_meV": d,
                "delta_meV_err": 0.01, "verdict": v, "gap_features": True}
               for k, (t, d, v) in enumerate([(2, 2.5, "good"), (5, 2.4, "poor"),
                                              (8, 63.0, "poor"), (11, 2.1, "not-ballistic")])]
    out = gap_series(spectra)
    assert [x["segment"] for x in out["left_out"]] == ["s1", "s2", "s3"]
    assert "no BCS fit" in out["bcs"]["failed"]


def test_degenerate_z_and_p_get_their_range_at_equal_chi2():
    bias = np.linspace(-4, 4, 40)
    g = noisy(andreev.spin_conductance(bias, 1.0, 0.3, 0.5, 0.3, 4.0), seed=3, level=0.005)
    res = fit_spectrum(bias * 1e-3, g, 4.0, model="spin", normalized=True)
    assert res["verdict"] == "degenerate"
    ranges = res["ranges_at_equal_chi2"]
    assert set(ranges) == {"P", "Z"}
    assert ranges["P"][0] <= res["P"] <= ranges["P"][1] and ranges["P"][1] - ranges["P"][0] > 0.1
    assert ranges["Z"][0] < ranges["Z"][1]
    assert any("at equal chi2 (profile" in r for r in res["reasons"])


def test_gaussian_smearing_convention_round_trip():
    truth = andreev.conductance(BIAS_MV, "spin", (2.0, 0.4, 0.05, 0.3), 2.0, smearing_meV=0.15)
    g = noisy(truth, seed=11)
    res = fit_spectrum(BIAS_MV * 1e-3, g, 2.0, model="spin", normalized=True, smearing_meV=0.15)
    assert res["delta_meV"] == pytest.approx(2.0, rel=0.01)
    assert res["P"] == pytest.approx(0.3, abs=0.03) and res["smearing_meV"] == 0.15


def _field_series(verdict: str, regime: str) -> list[dict]:
    """Gaps at 0.5 K for 0-6 T: Delta(0) = 2.5 meV, Hc2 = 8 T (the field model)."""
    return [{"segment": f"B{k}", "temperature_K": 0.5, "field_T": b,
             "delta_meV": 2.5 * (1 - b / 8.0) ** 0.5, "delta_meV_err": 0.01,
             "verdict": verdict, "regime_spectrum": regime, "window_mV": 2.0,
             "gap_features": True} for k, b in enumerate([0.0, 2.0, 4.0, 6.0])]


def test_field_fit_gives_hc2_from_trusted_gaps():
    from pcsdaq.analysis.series import gap_series

    fit = gap_series(_field_series("good", "ballistic"))["field"]
    assert "failed" not in fit
    assert fit["hc2_T"] == pytest.approx(8.0, rel=0.01)


def test_field_fit_of_gaps_below_the_dips_is_a_failure_with_its_reason():
    """Gaps fitted below the dips (lower bounds) give no Hc2, however well they fit."""
    from pcsdaq.analysis.series import gap_series

    out = gap_series(_field_series("not-ballistic", "intermediate"))
    assert out["gaps_below_dips"] == 4
    fit = out["field"]
    assert fit["hc2_T"] is None and fit["delta0_meV"] is None
    assert fit["rejected"]["hc2_T"] == pytest.approx(8.0, rel=0.01)
    assert "below the critical-current dips" in fit["failed"] and "R(T)" in fit["failed"]
