"""Delta(T) to BCS through fitted spectra, Delta(H), and Tc from R(T)."""

import numpy as np
import pytest

from pcsdaq.analysis.bcs_fit import fit_gap_vs_field, fit_gap_vs_temperature
from pcsdaq.analysis.btk_fit import fit_series
from pcsdaq.analysis.tc import tc_from_rt
from pcsdaq.physics import bcs, btk, rt


def test_bcs_series_of_twelve_spectra_gives_tc_and_ratio():
    rng = np.random.default_rng(11)
    bias_mV = np.linspace(-10, 10, 400)
    temps = np.linspace(1.5, 18.5, 12)
    spectra = []
    for t in temps:
        g = btk.conductance(bias_mV, bcs.gap_meV(t, 20.0), 0.5, 0.15, t)
        spectra.append((bias_mV * 1e-3, g * (1 + 0.003 * rng.standard_normal(g.shape)), t))
    gaps = [f.delta_meV for f in fit_series(spectra)]
    out = fit_gap_vs_temperature(temps, gaps)
    assert out["tc_K"] == pytest.approx(20.0, abs=0.3)
    assert out["ratio"] == pytest.approx(1.764, rel=0.02)
    assert out["tc_K_err"] > 0 and out["ratio_err"] > 0


def test_gap_vs_field():
    h = np.linspace(0, 6, 8)
    d = 2.5 * np.sqrt(1 - h / 8.0)
    out = fit_gap_vs_field(h, d)
    assert out["hc2_T"] == pytest.approx(8.0, rel=1e-3)
    assert out["delta0_meV"] == pytest.approx(2.5, rel=1e-3)


@pytest.mark.parametrize("tc,width,slope", [(15.0, 1.5, 0.01), (8.0, 0.5, 0.0), (19.0, 2.0, 0.03)])
def test_tc_two_line_crossing(tc, width, slope):
    rng = np.random.default_rng(3)
    t = np.linspace(2.0, 30.0, 300)
    r = rt.contact_resistance_vs_T(t, r_normal_ohm=10.0, tc_K=tc, width_K=width,
                                   drop_fraction=0.3, slope_ohm_per_K=slope)
    r *= 1 + 0.001 * rng.standard_normal(t.shape)
    res = tc_from_rt(t[::-1], r[::-1])  # order does not matter
    assert res.tc_K == pytest.approx(tc, abs=0.15)
    assert res.upper_slope_ohm_per_K == pytest.approx(slope, abs=0.01)
    assert res.lower_slope_ohm_per_K > 0.5


def test_rising_zero_bias_resistance_and_onset_override():
    t = np.linspace(2.0, 30.0, 300)
    r = 20.0 - rt.contact_resistance_vs_T(t, r_normal_ohm=10.0, tc_K=12.0, width_K=1.0,
                                          drop_fraction=0.3)
    assert tc_from_rt(t, r).tc_K == pytest.approx(12.0, abs=0.15)
    assert tc_from_rt(t, r, onset_K=12.5).onset_K == 12.5


def test_no_transition_is_an_error():
    t = np.linspace(2.0, 30.0, 50)
    with pytest.raises(ValueError, match="no transition"):
        tc_from_rt(t, np.full_like(t, 5.0))
    with pytest.raises(ValueError):
        tc_from_rt(t[:5], t[:5])
