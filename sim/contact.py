"""The simulated needle and point contact.

``Contact(lab, config)`` keeps the needle position (m, positive towards the sample) driven
by the ANC300 emulator's steps, decides whether the needle touches, gives the normal-state
contact resistance vs pressing depth, and draws each new contact's parameters.

Config keys (all optional):
  sample: "Ce" | "La" | "Sc"            sample material (Sc: no superconductivity)
  needle: "PtIr" | "Ag" | "Au"          needle material; sets the Tc distribution
  (draws use lab.rng, so the lab seed makes every contact reproducible)
  series_resistance_ohm: float          AUX OUT -> contact resistor (I_dc = V_aux / R), Ohm
  excitation_resistance_ohm: float      sine out -> contact resistor (I_ac = V_sine / R), Ohm
  aux_output: int                       which SR830 AUX OUT drives the bias (1-4)
  gap_m: float                          needle-sample distance at start, m (default 20 um)
  r_touch_ohm, r_min_ohm: float         resistance at first touch (50) and floor (1), Ohm
  depth_scale_m: float                  e-folding pressing depth of R(depth), m
  lead_resistance_ohm: float            needle/sample leads in series (mOhm range), Ohm
  hc2_T: float                          upper critical field of the contact region at 0 K, T
  contact_regime: "auto" | "ballistic" | "intermediate" | "thermal"
                                        transport regime of every contact (default auto: from
                                        the Wexler diameter of its normal resistance, paper
                                        convention); ``pcsdaq demo --contact`` sets it
  spot_pitch_m: float                   size of one contact spot of the sample, m (4 um)
  spot_fractions: {kind: fraction}      share of short / open / normal / drifting spots

Lateral position (m, ANC300 axes 1 and 2): the home cell (0, 0) is the contact described
above; every other cell is a spot of :mod:`pcsdaq.sim.spots` with its own local Tc, Delta,
Z, Gamma, diameter, resistance and kind (seeded per cell by the lab seed).

Regimes (docs/physics.md): a fraction ``MAXWELL_FRACTION[regime]`` of the normal resistance is
the Maxwell (diffusive) resistance of the contact region, which goes superconducting below
Tc up to its critical current I_c(T, B): ballistic contacts give a clean Andreev spectrum
(no Maxwell part); intermediate ones Andreev structure plus critical-current dips at
V_c ~ I_c R; thermal ones are dominated by the dips and the zero-bias enhancement, with
little Andreev structure. In R(T) (zero bias) the Maxwell part vanishes steeply below Tc
(over ~2 MAXWELL_WIDTH * Tc), before the broad drop of the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pcsdaq.physics import bcs, contact, rt, wexler
from pcsdaq.physics.btk import conductance
from pcsdaq.physics.contact import STEP_WIDTH, ContactIV
from pcsdaq.sim.spots import SHORT_OHM, Spot, SpotMap

if TYPE_CHECKING:
    from pcsdaq.sim.lab import SimLab

#: mean Tc (K) and spread of contacts for each needle material (sample Ce)
NEEDLE_TC_K = {"PtIr": (17.0, 2.0), "Ag": (16.0, 2.5), "Au": (12.0, 1.5)}
#: bulk Tc (K) of the other samples; None: not superconducting
SAMPLE_TC_K = {"La": 5.0, "Sc": None}
OPEN_RESISTANCE_OHM = 1e12
REGIMES = ("ballistic", "intermediate", "thermal")
#: part of the normal-state resistance that is the Maxwell resistance of the contact region
MAXWELL_FRACTION = {"ballistic": 0.0, "intermediate": 0.3, "thermal": 0.6}
#: width of the contact region's superconducting transition, relative to Tc: its Maxwell
#: resistance vanishes over ~2 widths below Tc (a steep but resolvable drop in R(T))
MAXWELL_WIDTH = 0.03


@dataclass
class ContactParams:
    """One contact's parameters: Tc (K), Delta(0) (meV), Z, Gamma (meV)."""

    tc_K: float
    delta0_meV: float
    z: float
    gamma_meV: float


def _temperature_bucket(temperature_K: float) -> tuple[int, int]:
    """Which cached response a temperature (K) uses: 5 mK steps up to 2.5 K, 0.2 % steps
    above (thermal smearing and the gap change by far less than the noise within one): an
    R(T) log then rebuilds the contact's table every few rows, not at each one."""
    if temperature_K <= 2.5:
        return 0, round(temperature_K / 0.005)
    return 1, round(math.log(temperature_K) / 0.002)


class Contact:
    """Needle position, touch state and the drawn parameters of the present contact."""

    def __init__(self, lab: SimLab, config: dict | None = None) -> None:
        cfg = dict(config or {})
        self.lab = lab
        self.sample = cfg.get("sample", "Ce")
        self.needle = cfg.get("needle", "PtIr")
        self.series_resistance_ohm = float(cfg.get("series_resistance_ohm", 1e3))
        self.excitation_resistance_ohm = float(cfg.get("excitation_resistance_ohm", 1e6))
        self.aux_output = int(cfg.get("aux_output", 1))
        self.r_touch_ohm = float(cfg.get("r_touch_ohm", 50.0))
        self.r_min_ohm = float(cfg.get("r_min_ohm", 1.0))
        self.depth_scale_m = float(cfg.get("depth_scale_m", 0.5e-6))
        self.lead_resistance_ohm = float(cfg.get("lead_resistance_ohm", 5e-3))
        self.surface_m = float(cfg.get("gap_m", 20e-6))
        self.position_m = 0.0
        self.params: ContactParams | None = None
        self.contacts_made = 0
        #: upper critical field of the contact region, T (gap features almost gone at 7 T)
        self.hc2_T = float(cfg.get("hc2_T", 8.0))
        self.regime_setting = str(cfg.get("contact_regime", "auto"))
        if self.regime_setting not in ("auto", *REGIMES):
            raise ValueError(f"sim contact_regime {self.regime_setting!r}; allowed: auto, "
                             f"{', '.join(REGIMES)}")
        self.home_surface_m = self.surface_m
        self.x_m = self.y_m = 0.0  #: lateral needle position, m (ANC300 axes 1 and 2)
        self.spots = SpotMap(int(getattr(lab, "seed", 0)), self.needle,
                             self.sample, pitch_m=float(cfg.get("spot_pitch_m", 4e-6)),
                             fractions=cfg.get("spot_fractions"))
        self.spot: Spot | None = None  #: the spot under the needle (None: the home cell)
        self.touched_at_s = 0.0  #: lab time the present contact was made, s
        self._iv_key: tuple[Any, ...] | None = None
        self._stamp: tuple[float, float, int] | None = None
        self._state_key: tuple[Any, ...] | None = None
        self._state_params: dict[str, Any] = {}
        self._zero_key: tuple[Any, ...] | None = None
        self._zero_dvdi = math.nan
        self._iv_max_A = 0.0
        self._table: ContactIV | None = None

    @staticmethod
    def step_size_m(voltage_V: float) -> float:
        """Needle travel per piezo step (m) at a step voltage (V): ~50 nm at 30 V, linear."""
        return max(float(voltage_V), 0.0) * 50e-9 / 30.0

    def step(self, n: int, voltage_V: float) -> None:
        """Move ``n`` steps (positive: towards the sample) at ``voltage_V`` (V)."""
        was = self.touching
        self.position_m += n * self.step_size_m(voltage_V)
        if self.touching and not was:
            self._new_contact()
        elif not self.touching:
            self.params = None
        # the lock-in's input changes at this instant, not when it is next queried
        sr830 = getattr(self.lab, "emulators", {}).get("sr830")
        if sr830 is not None:
            sr830.input_changed()

    def step_lateral(self, axis: int, n: int, voltage_V: float) -> None:
        """Move ``n`` steps sideways at ``voltage_V`` (V) along x (``axis`` 0) or y (1).
        A needle left touching is dragged: the contact breaks and a new one forms."""
        was = self.touching
        if axis == 0:
            self.x_m += n * self.step_size_m(voltage_V)
        else:
            self.y_m += n * self.step_size_m(voltage_V)
        cell = self.spots.cell(self.x_m, self.y_m)
        self.spot = None if cell == (0, 0) else self.spots.spot(cell)
        offset = self.spot.surface_offset_m if self.spot is not None else 0.0
        self.surface_m = self.home_surface_m - offset
        if self.touching:
            self._new_contact()
        elif was:
            self.params = None
        sr830 = getattr(self.lab, "emulators", {}).get("sr830")
        if sr830 is not None:
            sr830.input_changed()

    def place(self, high_ohm: float = 40.0, low_ohm: float = 20.0) -> float:
        """Move the needle directly (no piezo, no instrument I/O) until the contact's normal
        resistance is in [low_ohm, high_ohm] Ohm; returns it. For tests and set-ups that
        start from a made contact."""
        while not self.touching:
            self.step(50, 30.0)
        while self.normal_resistance_ohm() > high_ohm:
            self.step(1, 30.0)
        r = self.normal_resistance_ohm()
        if r < low_ohm:
            raise ValueError(f"no position gives {low_ohm:g}-{high_ohm:g} Ohm (got {r:.3g})")
        return r

    @property
    def touching(self) -> bool:
        """True while the needle presses on the sample."""
        return self.position_m >= self.surface_m

    @property
    def depth_m(self) -> float:
        """Pressing depth (m), 0 when not touching."""
        return max(self.position_m - self.surface_m, 0.0)

    def normal_resistance_ohm(self) -> float:
        """Normal-state contact resistance (Ohm) at the present depth; huge when open."""
        if not self.touching:
            return OPEN_RESISTANCE_OHM
        spot = self.spot
        if spot is not None:
            if spot.kind == "open":
                return OPEN_RESISTANCE_OHM
            if spot.kind == "short":
                return SHORT_OHM
            r = spot.r_ohm * (1.0 + 0.5 * math.exp(-self.depth_m / self.depth_scale_m))
            if spot.drift_per_s:
                age = self.lab.clock.now() - self.touched_at_s
                r *= max(1.0 + spot.drift_per_s * age, 0.0)
            return max(r, SHORT_OHM)
        span = self.r_touch_ohm - self.r_min_ohm
        return self.r_min_ohm + span * math.exp(-self.depth_m / self.depth_scale_m)

    def _new_contact(self) -> None:
        self.contacts_made += 1
        clock = getattr(self.lab, "clock", None)
        self.touched_at_s = clock.now() if clock is not None else 0.0
        self._iv_key = self._state_key = self._zero_key = None
        spot = self.spot
        if spot is not None:
            self.params = None if spot.kind == "open" else ContactParams(
                spot.tc_K, spot.delta0_meV, spot.z, spot.gamma_meV)
            return
        rng = self.lab.rng
        if self.sample in SAMPLE_TC_K:
            bulk = SAMPLE_TC_K[self.sample]
            tc = 0.0 if bulk is None else float(bulk * (1 + 0.03 * rng.standard_normal()))
        else:
            mean, spread = NEEDLE_TC_K.get(self.needle, NEEDLE_TC_K["PtIr"])
            tc = float(min(max(rng.normal(mean, spread), 2.0), 21.0))
        # Delta(0)/k_B Tc scatters by a few % around the weak-coupling 1.764
        delta0 = bcs.delta0_meV(tc) * (1 + 0.05 * rng.standard_normal())
        z = float(rng.uniform(0.1, 1.0))
        gamma = float(delta0 * rng.uniform(0.02, 0.2))
        self.params = ContactParams(tc, float(delta0), z, gamma)
        self._iv_key = self._state_key = self._zero_key = None

    def _field_T(self) -> float:
        return self.lab.magnet.field() if hasattr(self.lab, "magnet") else 0.0

    def tc_now_K(self) -> float:
        """Critical temperature of the contact in the present field (K; 0 when open/normal)."""
        if self.params is None or self.params.tc_K <= 0:
            return 0.0
        return bcs.tc_in_field(self.params.tc_K, self._field_T(), self.hc2_T)

    def gap_now_meV(self) -> float:
        """Present gap Delta(T, B) of the contact in meV (0 when open or normal)."""
        if self.params is None or self.params.tc_K <= 0:
            return 0.0
        return float(bcs.gap_meV(self.lab.cryostat.temperature(), self.params.tc_K,
                                 self.params.delta0_meV, field_T=self._field_T(),
                                 hc2_T=self.hc2_T))

    def regime(self) -> str:
        """Transport regime of the present contact: the ``contact_regime`` setting, or (auto)
        from its Wexler diameter (paper preset)."""
        if self.regime_setting != "auto":
            return self.regime_setting
        return wexler.regime(wexler.contact_diameter(self.normal_resistance_ohm()))

    def critical_current0_A(self) -> float:
        """Critical current of the contact region at T = 0, B = 0 (A): the
        Ambegaokar-Baratoff-like pi Delta(0) / (2 e R_N); 0 when open or normal."""
        if self.params is None or self.params.tc_K <= 0:
            return 0.0
        return math.pi * self.params.delta0_meV * 1e-3 / (2.0 * self.normal_resistance_ohm())

    def critical_current_A(self, temperature_K: float, field_T: float = 0.0) -> float:
        """I_c(T, B) of the present contact region, A (0 above Tc(B)); what the dips of an
        intermediate or thermal contact sit at (V_c ~ I_c R)."""
        if self.params is None or self.params.tc_K <= 0:
            return 0.0
        return contact.critical_current_A(temperature_K, self.params.tc_K,
                                          self.critical_current0_A(), field_T, self.hc2_T)

    def truth(self) -> dict:
        """What the simulator drew for the present contact, for tests and ``pcsdaq demo``:
        Tc (K, zero field), Delta(0) (meV), Z, Gamma (meV), Hc2(0) (T; Tc(B) = Tc
        sqrt(1 - B/Hc2), so Hc2(T) = Hc2 (1 - (T/Tc)^2)), the regime, the normal resistance
        (Ohm), its Maxwell fraction and I_c(0) (A). Empty when there is no contact."""
        if self.params is None:
            return {} if self.spot is None else {"spot": self.spot.as_dict()}
        reg = self.regime()
        spot = {} if self.spot is None else {"spot": self.spot.as_dict()}
        return {**spot, "tc_K": self.params.tc_K, "delta0_meV": self.params.delta0_meV,
                "z": self.params.z, "gamma_meV": self.params.gamma_meV, "hc2_T": self.hc2_T,
                "regime": reg, "r_normal_ohm": self.normal_resistance_ohm(),
                "maxwell_fraction": MAXWELL_FRACTION[reg],
                "critical_current0_A": self.critical_current0_A()}

    def _state(self) -> tuple[tuple, dict]:
        """(cache key, parameters) of the present contact state: the BTK part's resistance
        (Ohm, through the broad transition of pcsdaq.physics.rt), the Maxwell part (Ohm) and
        I_c (A, 0 when the contact region is normal), the gap (meV), T (K). The key changes
        when T (to 5 mK, or 0.2 % above 2.5 K), B (to 1 mT) or the resistance (to 0.01 %)
        does."""
        t = self.lab.cryostat.temperature()
        r_n = self.normal_resistance_ohm()
        key = (id(self.params), self.regime_setting, _temperature_bucket(t),
               round(self._field_T(), 3), round(math.log(r_n), 4))
        if key == self._state_key:
            return key, self._state_params
        r_m = MAXWELL_FRACTION[self.regime()] * r_n
        tc = self.tc_now_K()
        # below Tc the sample region under the needle goes superconducting over a broad
        # range of local Tc: the normal-state part of the resistance falls (pcsdaq.physics.rt)
        r_eff = rt.contact_resistance_vs_T(t, r_normal_ohm=r_n - r_m, tc_K=tc,
                                           width_K=max(0.08 * tc, 0.2), drop_fraction=0.2)
        ic = self.critical_current_A(t, self._field_T()) if r_m > 0 else 0.0
        if ic <= 0:  # normal contact region (above Tc(B)), or none: all in series
            r_eff, r_m = r_eff + r_m, 0.0
        else:  # the region's own local-Tc spread: the part not yet superconducting stays
            sc = rt.superconducting_fraction(t, tc, MAXWELL_WIDTH * tc)
            r_eff, r_m = r_eff + r_m * (1.0 - sc), r_m * sc
        self._state_key = key
        self._state_params = {"r_btk_ohm": r_eff, "r_maxwell_ohm": r_m, "ic_A": ic,
                              "delta_meV": self.gap_now_meV(), "temperature_K": t}
        return key, self._state_params

    def _iv(self, current_A: float) -> ContactIV:
        """The tabulated response of the present state, rebuilt only when the state's key
        (see _state) or the needed current range changed."""
        stamp = (self.lab.clock.now(), self.position_m, id(self.params))
        if (stamp == self._stamp and abs(current_A) <= self._iv_max_A
                and self._table is not None):
            return self._table  # nothing moved since the last query
        params = self.params
        assert params is not None, "the contact's response is asked only while touching"
        key, st = self._state()
        if key != self._iv_key or abs(current_A) > self._iv_max_A:
            self._iv_max_A = max(2.0 * abs(current_A), 2e-2)
            # with a superconducting contact region the Maxwell part switches on at I_c
            # (the critical-current dips)
            self._table = ContactIV(r_normal_ohm=st["r_btk_ohm"], delta_meV=st["delta_meV"],
                                    z=params.z, gamma_meV=params.gamma_meV,
                                    temperature_K=st["temperature_K"],
                                    r_maxwell_ohm=st["r_maxwell_ohm"],
                                    critical_current_A=st["ic_A"] or math.inf,
                                    max_current_A=self._iv_max_A)
            self._iv_key = key
        self._stamp = stamp
        assert self._table is not None  # built above on the first query
        return self._table

    def _zero_bias_dvdi(self) -> float:
        """dV/dI (Ohm, leads excluded) at zero DC current without the whole table: R(T)
        logs and the needle approach read only this, and one conductance value costs a
        fiftieth of a table. Equal to the table's value (same BTK point, V(0) = 0)."""
        key, st = self._state()
        params = self.params
        assert params is not None, "the contact's response is asked only while touching"
        if key != self._zero_key:
            g0 = float(conductance(np.array([0.0]), st["delta_meV"], params.z,
                                   params.gamma_meV, st["temperature_K"])[0]) \
                if st["delta_meV"] > 0 else 1.0
            dvdi = st["r_btk_ohm"] / g0
            if st["r_maxwell_ohm"] > 0:  # below I_c: the smooth step's foot at I = 0
                dvdi += st["r_maxwell_ohm"] * 0.5 * (1.0 + math.tanh(-1.0 / STEP_WIDTH))
            self._zero_key, self._zero_dvdi = key, dvdi
        return self._zero_dvdi

    def _response(self, current_A: float) -> tuple[float, float]:
        """(V_dc in V, dV/dI in Ohm) of the contact at a DC current (A), leads included."""
        r_n = self.normal_resistance_ohm()
        if self.params is None or self.params.tc_K <= 0:
            return current_A * (r_n + self.lead_resistance_ohm), r_n + self.lead_resistance_ohm
        if current_A == 0.0:
            return 0.0, self._zero_bias_dvdi() + self.lead_resistance_ohm
        v, dvdi = self._iv(current_A).response(current_A)
        return float(v) + current_A * self.lead_resistance_ohm, \
            float(dvdi) + self.lead_resistance_ohm

    def dvdi_ohm(self, current_A: float) -> float:
        """Differential resistance dV/dI (Ohm) of contact and leads at a DC current (A)."""
        return self._response(current_A)[1]

    def dc_voltage_V(self, current_A: float) -> float:
        """DC voltage (V) across contact and leads at a DC current (A); open: the voltmeter
        sees the source through a huge resistance (overflow)."""
        return self._response(current_A)[0]
