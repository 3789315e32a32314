"""Current-biased contact response and the R(T) model."""

import numpy as np
import pytest

from pcsdaq.physics import btk, rt
from pcsdaq.physics.contact import ContactIV, critical_current_A, current_biased_response


def test_normal_contact_is_ohmic():
    i = np.linspace(-1e-3, 1e-3, 11)
    v, dvdi = current_biased_response(i, r_normal_ohm=12.0, delta_meV=0.0, z=0.3,
                                      gamma_meV=0.1, temperature_K=2.0)
    assert v == pytest.approx(12.0 * i, abs=1e-12)
    assert dvdi == pytest.approx(12.0)


def test_dvdi_is_the_derivative_of_v_and_follows_btk():
    kw = dict(r_normal_ohm=10.0, delta_meV=2.0, z=0.5, gamma_meV=0.1, temperature_K=2.0)
    iv = ContactIV(max_current_A=2e-3, **kw)
    i = np.linspace(-1.5e-3, 1.5e-3, 3001)
    v, dvdi = iv.response(i)
    numeric = np.gradient(v, i)
    assert dvdi[10:-10] == pytest.approx(numeric[10:-10], rel=1e-2)
    # dI/dV * R_N is the normalised BTK conductance at the voltage reached
    g = btk.conductance(v[::300] * 1e3, 2.0, 0.5, 0.1, 2.0)
    assert 10.0 / dvdi[::300] == pytest.approx(g, rel=1e-3)


def test_critical_current_makes_a_peak_in_dvdi():
    kw = dict(r_normal_ohm=2.0, delta_meV=2.0, z=0.2, gamma_meV=0.1, temperature_K=2.0)
    i = np.linspace(0, 3e-3, 601)
    _, plain = current_biased_response(i, **kw)
    _, dips = current_biased_response(i, r_maxwell_ohm=0.5, critical_current_A=1.5e-3, **kw)
    k = np.argmax(dips - plain)
    assert i[k] == pytest.approx(1.5e-3, rel=0.05)
    assert (dips - plain)[k] > 1.0  # sharp: several times R_M
    assert critical_current_A(10.0, 10.0, 1e-3) == 0.0
    assert critical_current_A(2.0, 10.0, 1e-3) > critical_current_A(6.0, 10.0, 1e-3)


def test_rt_drops_below_tc_but_not_to_zero():
    t = np.linspace(2, 30, 200)
    r = rt.contact_resistance_vs_T(t, r_normal_ohm=10.0, tc_K=15.0, width_K=1.0,
                                   drop_fraction=0.3)
    assert np.all(r[t > 15.0] == pytest.approx(10.0))
    assert r.min() == pytest.approx(7.0, rel=1e-3) and r.min() > 0


def test_spin_polarised_contact_uses_the_fitters_model():
    import numpy as np

    from pcsdaq.physics import andreev
    from pcsdaq.physics.contact import ContactIV

    iv = ContactIV(r_normal_ohm=10.0, delta_meV=1.5, z=0.3, gamma_meV=0.05, temperature_K=2.0,
                   polarization=0.5, max_current_A=1e-3)
    current = np.linspace(-5e-4, 5e-4, 101)
    v, dvdi = iv.response(current)
    expected = andreev.spin_conductance(v * 1e3, 1.5, 0.3, 0.05, 0.5, 2.0)
    assert np.allclose(10.0 / dvdi, expected, atol=2e-3)
