"""A current-biased point contact: DC voltage and dV/dI from the BTK spectrum.

The lab's chain imposes the current (aux output through a large resistor), so the contact's
I(V) = (1/R_N) int_0^V G(V') dV' is tabulated on a voltage grid and inverted. In the thermal
regime a Maxwell term switches on above the critical current (docs/physics.md):
V(I) = V_BTK(I) + I R_M s(|I| - I_c), with s a smooth step (width 5 % of I_c) so dV/dI stays
finite and shows the critical-current peak (a dip in dI/dV). I_c is the current at which
half of the Maxwell voltage has appeared (s = 1/2, the middle of the jump of V(I) and the
peak of dV/dI): what the simulator draws (:func:`critical_current_A`) and what the analysis
measures across each dip (pcsdaq.analysis.switching). Units: A, V, Ohm; gap and
broadening in meV, temperature in K.
"""

from __future__ import annotations

import math

import numpy as np

from pcsdaq.physics import andreev
from pcsdaq.physics.btk import KB_MEV_PER_K, conductance, conductance_T0

#: width of the smoothed critical-current step, relative to I_c
STEP_WIDTH = 0.05


class ContactIV:
    """Tabulated V(I) and dV/dI(I) of one contact state, for currents up to ``max_current_A``.

    Building costs a few ms; evaluating is an interpolation. The simulator keeps one per
    (contact, temperature, field) state. ``polarization`` P of a ferromagnetic contact
    (spin-polarised BTK of pcsdaq.physics.andreev, 0 for none)."""

    def __init__(self, *, r_normal_ohm: float, delta_meV: float, z: float, gamma_meV: float,
                 temperature_K: float, r_maxwell_ohm: float = 0.0,
                 critical_current_A: float = math.inf, max_current_A: float = 1e-2,
                 polarization: float = 0.0) -> None:
        if not r_normal_ohm > 0:
            raise ValueError(f"r_normal_ohm {r_normal_ohm!r} must be > 0")
        self.r_normal_ohm = r_normal_ohm
        self.r_maxwell_ohm = r_maxwell_ohm
        self.critical_current_A = critical_current_A
        v_max_mV = 1.2 * max_current_A * r_normal_ohm * 1e3 + 1.0
        if delta_meV > 0:
            kt = KB_MEV_PER_K * max(temperature_K, 0.0)
            v_in = min(v_max_mV, 20.0 * delta_meV + 30.0 * kt + 5.0 * gamma_meV)
            inner = np.linspace(-v_in, v_in, 1201)
            outer = np.geomspace(v_in, max(v_max_mV, v_in * 1.001), 200)[1:]
            v = np.concatenate([-outer[::-1], inner, outer])
            if polarization:
                # spin-polarised contact (pcsdaq.physics.andreev, the fitter's model)
                params = (delta_meV, z, gamma_meV, polarization)
                g_inner = andreev.conductance(inner, "spin", params, temperature_K)
                g_out = andreev.conductance(np.concatenate([-outer[::-1], outer]), "spin",
                                            params, 0.0)
                g = np.concatenate([g_out[:len(outer)], g_inner, g_out[len(outer):]])
            else:
                g_inner = conductance(inner, delta_meV, z, gamma_meV, temperature_K)
                g = np.concatenate([conductance_T0(-outer[::-1], delta_meV, z, gamma_meV),
                                    g_inner, conductance_T0(outer, delta_meV, z, gamma_meV)])
        else:
            v = np.array([-v_max_mV, 0.0, v_max_mV])
            g = np.ones(3)
        v_V = v * 1e-3
        current = np.concatenate([[0.0], np.cumsum(0.5 * (g[1:] + g[:-1]) * np.diff(v_V))])
        current = (current - np.interp(0.0, v_V, current)) / r_normal_ohm
        self._v, self._g, self._i = v_V, g, current

    def response(self, current_A) -> tuple[np.ndarray, np.ndarray]:
        """(DC voltage in V, dV/dI in Ohm) at DC current(s) in A."""
        i = np.asarray(current_A, dtype=float)
        v = np.interp(i, self._i, self._v)
        dvdi = self.r_normal_ohm / np.interp(v, self._v, self._g)
        if self.r_maxwell_ohm > 0 and math.isfinite(self.critical_current_A):
            w = STEP_WIDTH * self.critical_current_A
            x = (np.abs(i) - self.critical_current_A) / w
            s = 0.5 * (1.0 + np.tanh(x))
            ds = 0.5 / w / np.cosh(np.clip(x, -300, 300)) ** 2
            v = v + i * self.r_maxwell_ohm * s
            dvdi = dvdi + self.r_maxwell_ohm * (s + np.abs(i) * ds)
        return v, dvdi


def current_biased_response(current_A, *, r_normal_ohm: float, delta_meV: float, z: float,
                            gamma_meV: float, temperature_K: float, r_maxwell_ohm: float = 0.0,
                            critical_current_A: float = math.inf):
    """DC voltage (V) and dV/dI (Ohm) of a contact at DC current(s) in A (see module doc)."""
    i = np.asarray(current_A, dtype=float)
    iv = ContactIV(r_normal_ohm=r_normal_ohm, delta_meV=delta_meV, z=z, gamma_meV=gamma_meV,
                   temperature_K=temperature_K, r_maxwell_ohm=r_maxwell_ohm,
                   critical_current_A=critical_current_A,
                   max_current_A=max(float(np.max(np.abs(i))) if i.size else 0.0, 1e-9))
    return iv.response(i)


def critical_current_A(temperature_K: float, tc_K: float, ic0_A: float,
                       field_T: float = 0.0, hc2_T: float | None = None) -> float:
    """Critical current of the contact region (A): ic0 (1 - (T/Tc)^2)^(3/2), reduced by field
    like Tc (0 above Tc): the dips move to lower bias with rising T and H."""
    from pcsdaq.physics.bcs import tc_in_field

    tc = tc_in_field(tc_K, field_T, hc2_T)
    if tc <= 0 or temperature_K >= tc:
        return 0.0
    return ic0_A * (1.0 - (temperature_K / tc) ** 2) ** 1.5
