"""Contact diameter from the normal-state resistance (Wexler) and the transport regime.

Full formula (diameter d = 2a is what the paper calls the contact diameter, a in the
formula below is used as that diameter, as the paper writes it):

    R = (2h/e^2) / (a k_F)^2 + Gamma(l/a) rho / (2a)

Sharvin (ballistic) plus Maxwell (diffusive) terms, with Wexler's interpolation
Gamma(K) = (1 + 0.83 K) / (1 + 1.33 K). Conventions:

* ``"paper"``: the preset that reproduces the seed paper's tables (SI figures S3/S4, rows
  1-79): the Maxwell term alone, d = 369.98 Ohm*nm / R;
* ``"wexler"``: the full formula solved for a, with material constants (defaults: cerium-like
  rho = 74 uOhm cm, k_F = 1.0e10 1/m, l = 5 nm; pass your own).
"""

from __future__ import annotations

import math

from scipy.optimize import brentq

H_PLANCK = 6.62607015e-34  #: J s
E_CHARGE = 1.602176634e-19  #: C
PAPER_OHM_NM = 369.98  #: the paper's d * R, Ohm*nm
#: default material constants for the full formula (cerium-like; illustrative)
CERIUM = {"rho_ohm_m": 74e-8, "k_f_per_m": 1.0e10, "mean_free_path_m": 5e-9}
CONVENTIONS = ("paper", "wexler")


def wexler_gamma(k: float) -> float:
    """Wexler's numerical factor Gamma(K), K = l/a (1 for K = 0, 0.62 for K -> inf)."""
    return (1.0 + 0.83 * k) / (1.0 + 1.33 * k)


def contact_resistance(diameter_m: float, convention: str = "wexler", *,
                       rho_ohm_m: float = CERIUM["rho_ohm_m"],
                       k_f_per_m: float = CERIUM["k_f_per_m"],
                       mean_free_path_m: float = CERIUM["mean_free_path_m"]) -> float:
    """Normal-state resistance in Ohm of a contact of diameter ``diameter_m`` (m)."""
    if not diameter_m > 0:
        raise ValueError(f"diameter {diameter_m!r} m must be > 0")
    if convention == "paper":
        return PAPER_OHM_NM / (diameter_m * 1e9)
    if convention != "wexler":
        raise ValueError(f"convention {convention!r}; allowed: {', '.join(CONVENTIONS)}")
    a = diameter_m
    sharvin = (2.0 * H_PLANCK / E_CHARGE**2) / (a * k_f_per_m) ** 2
    maxwell = wexler_gamma(mean_free_path_m / a) * rho_ohm_m / (2.0 * a)
    return sharvin + maxwell


def contact_diameter(resistance_ohm: float, convention: str = "paper", **material: float) -> float:
    """Contact diameter in m from the normal-state resistance in Ohm.

    ``convention="paper"`` (default): d = 369.98 Ohm*nm / R; ``"wexler"``: the full formula
    with ``material`` constants (rho_ohm_m, k_f_per_m, mean_free_path_m)."""
    if not resistance_ohm > 0 or math.isinf(resistance_ohm):
        raise ValueError(f"resistance {resistance_ohm!r} Ohm must be finite and > 0")
    if convention == "paper":
        return PAPER_OHM_NM / resistance_ohm * 1e-9
    if convention != "wexler":
        raise ValueError(f"convention {convention!r}; allowed: {', '.join(CONVENTIONS)}")
    return brentq(lambda d: contact_resistance(d, "wexler", **material) - resistance_ohm,
                  1e-12, 1e-2, xtol=1e-15, rtol=1e-12)


def regime(diameter_m: float, elastic_mfp_m: float = 20e-9,
           inelastic_mfp_m: float = 150e-9) -> str:
    """Transport regime of a contact: "ballistic" (d < elastic mean free path), "thermal"
    (d > inelastic mean free path) or "intermediate" in between (lengths in m)."""
    if diameter_m < elastic_mfp_m:
        return "ballistic"
    if diameter_m > inelastic_mfp_m:
        return "thermal"
    return "intermediate"
