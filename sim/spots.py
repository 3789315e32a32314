"""A sample with many contact spots: what the needle finds where the lateral axes put it.

The sample surface is cut into square cells of ``spot_pitch_m`` (sim key, default 4 um);
the ANC300's lateral axes (1: x, 2: y) move the needle over them. Each cell other than the
home cell (0, 0) (where single-contact plans measure the original contact model) is a
:class:`Spot` drawn from a generator seeded by (lab seed, cell): the same seed gives the
same spot at the same place whatever order the spots are visited in (a resumed survey meets
the spots it would have met).

What a spot is (fractions are sim keys, defaults in :data:`DEFAULT_FRACTIONS`):

* ``superconducting``: local Tc from the needle's distribution (NEEDLE_TC_K: mean ~12 K for
  Au, 16-17 K for Ag and Pt-Ir, clipped to 2-21 K), Delta(0) = 1.764 k_B Tc +- 5 %, Z
  0.1-1, Gamma 2-20 % of Delta; a contact diameter log-uniform over 10-200 nm, which sets
  the resistance it settles to (Wexler, paper preset: R = 369.98 Ohm nm / d) and so its
  regime (ballistic below 20 nm, thermal above 150 nm);
* ``normal``: a contact of the same kind on a region that does not superconduct (Tc = 0);
* ``short``: the needle breaks through to a metallic short: R collapses to ~0.05 Ohm;
* ``open``: an insulating patch: the needle never makes electrical contact;
* ``drifting``: superconducting, but the contact creeps: R changes by 6-15 % per minute.

On touching a spot the resistance is ``1.5 R_spot`` and falls towards ``R_spot`` with
pressing depth (e-folding ``depth_scale_m``); the spot's surface lies up to +-0.3 um from
the home cell's.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from pcsdaq.physics import bcs, wexler

SPOT_KINDS = ("superconducting", "normal", "short", "open", "drifting")
#: share of each non-superconducting kind among the spots (the rest superconduct)
DEFAULT_FRACTIONS = {"short": 0.08, "open": 0.08, "normal": 0.06, "drifting": 0.08}
SHORT_OHM = 0.05  #: resistance of a short (needle crashed into the sample), Ohm
DIAMETER_RANGE_NM = (10.0, 200.0)


@dataclass(frozen=True)
class Spot:
    """One place on the sample: kind, cell, local Tc (K), Delta(0) (meV), Z, Gamma (meV),
    contact diameter (nm), settled resistance (Ohm), surface offset (m, + nearer the
    needle) and drift of R (fraction per s)."""

    kind: str
    cell: tuple[int, int]
    tc_K: float
    delta0_meV: float
    z: float
    gamma_meV: float
    diameter_nm: float
    r_ohm: float
    surface_offset_m: float
    drift_per_s: float

    def as_dict(self) -> dict:
        """Plain dict (for truth() and tests)."""
        return asdict(self)


class SpotMap:
    """The drawn spots of one lab (cached per cell)."""

    def __init__(self, seed: int, needle: str, sample: str, *, pitch_m: float = 4e-6,
                 fractions: dict[str, float] | None = None) -> None:
        from pcsdaq.sim.contact import NEEDLE_TC_K, SAMPLE_TC_K

        self.seed = int(seed)
        self.pitch_m = float(pitch_m)
        self.fractions = {**DEFAULT_FRACTIONS, **(fractions or {})}
        if sum(self.fractions.values()) > 1.0:
            raise ValueError(f"spot fractions {self.fractions} add up to more than 1")
        self.tc_mean_K, self.tc_spread_K = NEEDLE_TC_K.get(needle, NEEDLE_TC_K["PtIr"])
        self.bulk_tc_K = SAMPLE_TC_K.get(sample, -1.0)  # -1: Ce, the needle sets Tc
        self._cache: dict[tuple[int, int], Spot] = {}

    def cell(self, x_m: float, y_m: float) -> tuple[int, int]:
        """The cell (ix, iy) under a lateral needle position (m)."""
        return math.floor(x_m / self.pitch_m + 0.5), math.floor(y_m / self.pitch_m + 0.5)

    def spot(self, cell: tuple[int, int]) -> Spot:
        """The spot of ``cell`` (drawn once, from the lab seed and the cell)."""
        if cell not in self._cache:
            self._cache[cell] = self._draw(cell)
        return self._cache[cell]

    def _draw(self, cell: tuple[int, int]) -> Spot:
        ix, iy = cell
        rng = np.random.default_rng([self.seed, 0x5B07, ix + 2**20, iy + 2**20])
        u = rng.random()
        kind, edge = "superconducting", 0.0
        for name in ("short", "open", "normal", "drifting"):
            edge += self.fractions.get(name, 0.0)
            if u < edge:
                kind = name
                break
        lo, hi = DIAMETER_RANGE_NM
        d_nm = float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
        if self.bulk_tc_K is None:
            tc = 0.0
        elif self.bulk_tc_K > 0:
            tc = float(self.bulk_tc_K * (1 + 0.03 * rng.standard_normal()))
        else:
            tc = float(min(max(rng.normal(self.tc_mean_K, self.tc_spread_K), 2.0), 21.0))
        delta0 = bcs.delta0_meV(tc) * (1 + 0.05 * rng.standard_normal()) if tc > 0 else 0.0
        z = float(rng.uniform(0.1, 1.0))
        gamma = float(max(delta0, 0.5) * rng.uniform(0.02, 0.2))
        offset = float(rng.uniform(-0.3e-6, 0.3e-6))
        drift = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.06, 0.15) / 60.0)
        if kind in ("normal", "short", "open"):
            tc, delta0 = 0.0, 0.0
        r = SHORT_OHM if kind == "short" else wexler.contact_resistance(d_nm * 1e-9, "paper")
        return Spot(kind, cell, tc, float(delta0), z, gamma, d_nm, float(r), offset,
                    drift if kind == "drifting" else 0.0)
