"""The ``sim:`` section of a station file: what the simulated lab reads, validated once.

The station loader (:func:`pcsdaq.station.load_station_config`) checks this section with
:func:`check_sim_section` like every other one, so a misspelt key is refused by
``pcsdaq station check``; :meth:`pcsdaq.sim.lab.SimLab.from_station_config` builds the lab
from the validated result (it never re-reads the YAML).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pcsdaq.errors import ConfigError
from pcsdaq.sim.contact import NEEDLE_TC_K, SAMPLE_TC_K

#: sample materials the simulated contact knows (Ce, and the ones with their own bulk Tc)
SAMPLES = ("Ce", *SAMPLE_TC_K)
NEEDLES = tuple(NEEDLE_TC_K)
CONTACT_REGIMES = ("auto", "ballistic", "intermediate", "thermal")

#: key -> (description with unit, check) for the positive real numbers of the section
_POSITIVE = {
    "start_temperature_K": "sample-stage temperature at start, K",
    "base_temperature_K": "base temperature of the cryostat, K",
    "series_resistance_ohm": "AUX OUT -> contact resistor, Ohm (default: the bias role's)",
    "excitation_resistance_ohm": "sine out -> contact resistor, Ohm (default: the lock-in's)",
    "gap_m": "needle-sample distance at start, m",
    "r_touch_ohm": "contact resistance at first touch, Ohm",
    "r_min_ohm": "floor of the contact resistance, Ohm",
    "depth_scale_m": "e-folding pressing depth of R(depth), m",
    "lead_resistance_ohm": "needle/sample leads in series, Ohm",
    "hc2_T": "upper critical field of the contact region, T",
    "spot_pitch_m": "size of one contact spot of the sample (lateral axes), m",
}
#: every key the section may hold -> description
SIM_KEYS: dict[str, str] = {
    "seed": "random seed of the lab (integer; contacts and noise are reproducible)",
    "ports": "emulator name -> TCP port for 'pcsdaq sim serve'",
    "sample": f"sample material: {', '.join(SAMPLES)}",
    "needle": f"needle material: {', '.join(NEEDLES)}",
    "aux_output": "SR830 AUX OUT driving the bias, 1-4 (default: the bias role's)",
    "mercury_firmware": "Mercury iPS firmware version it reports, e.g. '2.5.09.000' (PSU "
                        "syntax before 2.6, SPSU from 2.6)",
    "mercury_axes": "Mercury iPS magnet groups: Z (a solenoid) or XYZ (a vector magnet)",
    "ips120_switch": "IPS120-10: a persistent switch heater is fitted (true/false)",
    "contact_regime": "transport regime of the simulated contact: auto (from its Wexler "
                      "diameter), ballistic, intermediate or thermal",
    "spot_fractions": "share of spots of each kind: {short, open, normal, drifting: 0-1}",
    **_POSITIVE,
}


def _fail(source: str, key: str, message: str) -> ConfigError:
    return ConfigError(message, source=source, key=key)


def _is_version(value: Any) -> bool:
    parts = str(value).split(".")
    return isinstance(value, str | int | float) and len(parts) >= 2 and all(
        p.isdigit() for p in parts)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_sim_section(section: Any, source: str = "<station>") -> dict[str, Any]:
    """Validate a station file's ``sim:`` mapping (None: empty); return it as a dict.

    Raises ConfigError naming the file, ``sim.<key>`` and the allowed values."""
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        raise _fail(source, "sim", "must be a mapping; allowed keys: " + ", ".join(SIM_KEYS))
    for key, value in section.items():
        where = f"sim.{key}"
        if key not in SIM_KEYS:
            raise _fail(source, where, f"unknown key; allowed: {', '.join(SIM_KEYS)}")
        if key == "seed" and not (isinstance(value, int) and not isinstance(value, bool)
                                  and value >= 0):
            raise _fail(source, where, f"{value!r}; allowed: an integer >= 0")
        elif key == "sample" and value not in SAMPLES:
            raise _fail(source, where, f"{value!r}; allowed: {', '.join(SAMPLES)}")
        elif key == "needle" and value not in NEEDLES:
            raise _fail(source, where, f"{value!r}; allowed: {', '.join(NEEDLES)}")
        elif key == "aux_output" and value not in (1, 2, 3, 4):
            raise _fail(source, where, f"{value!r}; allowed: 1, 2, 3, 4")
        elif key == "mercury_firmware" and not _is_version(value):
            raise _fail(source, where, f"{value!r}; allowed: a version such as '2.5.09.000'")
        elif key == "mercury_axes" and str(value).upper() not in ("Z", "XYZ"):
            raise _fail(source, where, f"{value!r}; allowed: Z, XYZ")
        elif key == "contact_regime" and value not in CONTACT_REGIMES:
            raise _fail(source, where, f"{value!r}; allowed: {', '.join(CONTACT_REGIMES)}")
        elif key == "ips120_switch" and not isinstance(value, bool):
            raise _fail(source, where, f"{value!r}; allowed: true, false")
        elif key in _POSITIVE and not (_is_number(value) and value > 0):
            raise _fail(source, where, f"{value!r}; allowed: a number > 0 ({_POSITIVE[key]})")
        elif key == "spot_fractions":
            _check_fractions(source, value)
        elif key == "ports":
            _check_ports(source, value)
    return dict(section)


def _check_fractions(source: str, value: Any) -> None:
    from pcsdaq.sim.spots import DEFAULT_FRACTIONS

    allowed = ", ".join(DEFAULT_FRACTIONS)
    if not isinstance(value, Mapping):
        raise _fail(source, "sim.spot_fractions", f"must map spot kinds to fractions; "
                                                  f"kinds: {allowed}")
    for kind, share in value.items():
        if kind not in DEFAULT_FRACTIONS:
            raise _fail(source, f"sim.spot_fractions.{kind}", f"unknown kind; allowed: {allowed}")
        if not (_is_number(share) and 0.0 <= share <= 1.0):
            raise _fail(source, f"sim.spot_fractions.{kind}", f"{share!r}; allowed: 0 to 1")
    if sum(float(v) for v in value.values()) > 1.0:
        raise _fail(source, "sim.spot_fractions", "the fractions add up to more than 1")


def _check_ports(source: str, ports: Any) -> None:
    from pcsdaq.sim.emulators import emulator_classes

    known = emulator_classes()
    if not isinstance(ports, Mapping):
        raise _fail(source, "sim.ports", "must map emulator names to TCP ports; emulators: "
                                         + ", ".join(known))
    for name, port in ports.items():
        if name not in known:
            raise _fail(source, f"sim.ports.{name}",
                        f"unknown emulator; allowed: {', '.join(known)}")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise _fail(source, f"sim.ports.{name}",
                        f"{port!r}; allowed: a TCP port 1-65535 (0: any free port)")
