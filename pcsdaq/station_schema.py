"""The station file's schema: every section validated before anything is opened.

A station file (``configs/station-*.yaml``) maps each ROLE (lockin, bias, dmm, thermometer,
magnet, positioner) to a driver class, a VISA resource (or another role it ``uses``),
settings and safety limits. :func:`load_station_config` validates the whole file without
opening anything: an unknown role or driver, a malformed resource, a limit beyond what the
hardware allows or a missing key is refused with a :class:`~pcsdaq.errors.ConfigError`
naming the file, the key and the allowed values. :meth:`pcsdaq.station.Station.open`
then builds the drivers; procedures only ever see the roles. The ``sim:`` section is checked
by :func:`pcsdaq.sim.config.check_sim_section`, the schema the simulated lab builds from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyvisa import constants as visa_constants
from pyvisa import rname

from pcsdaq.driver_support import StationDriver
from pcsdaq.drivers import registry
from pcsdaq.errors import ConfigError, LimitError
from pcsdaq.limits import SafetyLimits
from pcsdaq.roles import ROLE_PROTOCOLS
from pcsdaq.yamlio import check_finite, load_yaml

TOP_KEYS = ("station", "clock", "visa_library", "roles", "sim")
ROLE_KEYS = ("driver", "resource", "uses", "settings", "limits", "visa", "visa_library")
#: the VISA library a station uses unless its file says otherwise: pyvisa-py
DEFAULT_VISA_LIBRARY = "@py"
#: VISA backends a station file may name with '@' (a library path is also allowed)
VISA_BACKENDS = ("@py", "@ivi")
#: pyvisa resource attributes a station file may set (serial framing, terminations, timeout)
VISA_KEYS = ("timeout", "read_termination", "write_termination", "baud_rate", "data_bits",
             "parity", "stop_bits")
_PARITY = {"none": visa_constants.Parity.none, "odd": visa_constants.Parity.odd,
           "even": visa_constants.Parity.even}
_STOP_BITS = {1: visa_constants.StopBits.one, 1.5: visa_constants.StopBits.one_and_a_half,
              2: visa_constants.StopBits.two}

@dataclass(frozen=True)
class RoleConfig:
    """One validated role entry of a station file."""

    role: str
    driver: str
    driver_class: type[StationDriver]
    resource: str | None
    uses: str | None
    settings: dict[str, Any]
    limits: dict[str, float]
    safety: SafetyLimits
    visa: dict[str, Any]
    visa_library: str = DEFAULT_VISA_LIBRARY


@dataclass(frozen=True)
class StationConfig:
    """A validated station file: its roles, clock time scale and simulator section."""

    source: str
    name: str
    roles: dict[str, RoleConfig]
    time_scale: float = 1.0
    sim: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    visa_library: str = DEFAULT_VISA_LIBRARY


def _fail(source: str, key: str, message: str) -> ConfigError:
    return ConfigError(message, source=source, key=key)


def _check_resource(source: str, key: str, resource: Any) -> str:
    if not isinstance(resource, str) or not resource.strip():
        raise _fail(source, key, f"{resource!r} is not a VISA resource string (e.g. "
                                 "GPIB0::8::INSTR, ASRL/dev/ttyUSB0::INSTR, "
                                 "TCPIP::192.168.1.5::7777::SOCKET)")
    try:
        parsed = rname.parse_resource_name(resource)
    except rname.InvalidResourceName as exc:
        raise _fail(source, key, f"malformed VISA resource {resource!r}: {exc}") from None
    if parsed.interface_type == "GPIB" and hasattr(parsed, "primary_address"):
        if not str(parsed.primary_address).isdigit() or not 0 <= int(parsed.primary_address) <= 30:
            raise _fail(source, key, f"GPIB address in {resource!r} must be 0-30")
    if type(parsed).__name__ == "TCPIPSocket":
        port = str(getattr(parsed, "port", ""))
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise _fail(source, key, f"TCP port in {resource!r} must be 1-65535")
    return resource


def _check_visa(source: str, key: str, visa: Any) -> dict[str, Any]:
    if not isinstance(visa, Mapping):
        raise _fail(source, key, "must be a mapping of pyvisa settings")
    unknown = sorted(set(visa) - set(VISA_KEYS))
    if unknown:
        raise _fail(source, key, f"unknown {', '.join(unknown)}; allowed: {', '.join(VISA_KEYS)}")
    out = dict(visa)
    ranges = {"timeout": (1, 600000, "ms"), "baud_rate": (50, 4000000, "baud"),
              "data_bits": (5, 8, "")}
    for name, (low, high, unit) in ranges.items():
        if name in out:
            value = out[name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise _fail(source, f"{key}.{name}", f"{value!r}; allowed an integer "
                                                     f"{low} to {high} {unit}".rstrip())
    for name in ("read_termination", "write_termination"):
        if name in out and not isinstance(out[name], str):
            raise _fail(source, f"{key}.{name}", f"{out[name]!r} must be a string (e.g. '\\n')")
    if "parity" in out:
        if out["parity"] not in _PARITY:
            raise _fail(source, f"{key}.parity", f"{out['parity']!r}; allowed: none, odd, even")
        out["parity"] = _PARITY[out["parity"]]
    if "stop_bits" in out:
        if out["stop_bits"] not in _STOP_BITS:
            raise _fail(source, f"{key}.stop_bits", f"{out['stop_bits']!r}; allowed: 1, 1.5, 2")
        out["stop_bits"] = _STOP_BITS[out["stop_bits"]]
    return out


def _check_visa_library(source: str, key: str, library: Any) -> str:
    """'@py' (pyvisa-py), '@ivi' (the installed IVI VISA: NI-VISA, Keysight VISA) or the
    path of a VISA library (e.g. /usr/lib/x86_64-linux-gnu/libvisa.so, C:/Windows/System32/
    visa64.dll)."""
    allowed = f"allowed: {', '.join(VISA_BACKENDS)} or the path of a VISA library"
    if not isinstance(library, str) or not library.strip():
        raise _fail(source, key, f"{library!r}; {allowed}")
    if library.startswith("@") and library not in VISA_BACKENDS:
        raise _fail(source, key, f"{library!r}; {allowed}")
    return library


def _role_config(source: str, role: str, entry: Any, all_roles: Mapping[str, Any],
                 visa_library: str = DEFAULT_VISA_LIBRARY) -> RoleConfig:
    where = f"roles.{role}"
    role_drivers = registry.role_drivers()[role]
    uses_drivers = registry.uses_drivers()
    if not isinstance(entry, Mapping):
        raise _fail(source, where, "must be a mapping with driver, resource, settings, limits")
    unknown = sorted(set(entry) - set(ROLE_KEYS))
    if unknown:
        raise _fail(source, where,
                    f"unknown key {', '.join(unknown)}; allowed: {', '.join(ROLE_KEYS)}")
    if "driver" not in entry:
        raise _fail(source, f"{where}.driver", f"missing; allowed: {', '.join(role_drivers)}")
    driver = entry["driver"]
    if driver not in role_drivers:
        raise _fail(source, f"{where}.driver",
                    f"{driver!r} cannot fill the {role} role; allowed: {', '.join(role_drivers)}")
    uses, resource = entry.get("uses"), entry.get("resource")
    if driver in uses_drivers:
        if resource is not None:
            raise _fail(source, f"{where}.resource", f"{driver} has no resource of its own; "
                                                     f"give 'uses: {uses_drivers[driver]}'")
        if uses != uses_drivers[driver]:
            raise _fail(source, f"{where}.uses", f"{driver} needs 'uses: {uses_drivers[driver]}'")
        if uses not in all_roles:
            raise _fail(source, f"{where}.uses", f"role {uses!r} is not defined in this file")
        if "visa_library" in entry:
            raise _fail(source, f"{where}.visa_library", f"{driver} rides on the {uses} "
                                                         "role's link; remove it")
    else:
        if uses is not None:
            raise _fail(source, f"{where}.uses", f"{driver} opens its own resource; remove 'uses'")
        if resource is None:
            raise _fail(source, f"{where}.resource", "missing (a VISA resource string)")
        _check_resource(source, f"{where}.resource", resource)
    settings = entry.get("settings") or {}
    limits = entry.get("limits") or {}
    for key, value in (("settings", settings), ("limits", limits)):
        if not isinstance(value, Mapping):
            raise _fail(source, f"{where}.{key}", "must be a mapping")
    visa = _check_visa(source, f"{where}.visa", entry.get("visa") or {})
    cls = registry.driver_class(driver)
    try:
        safety = cls.check_config(dict(settings), dict(limits))
    except LimitError as exc:
        raise _fail(source, f"{where}.limits", str(exc)) from None
    except ConfigError as exc:
        key = f"{where}.{exc.key}" if exc.key else where
        raise _fail(source, key, str(exc).split(": ", 1)[-1]) from None
    except (TypeError, ValueError) as exc:
        raise _fail(source, where, str(exc)) from None
    library = _check_visa_library(source, f"{where}.visa_library",
                                  entry.get("visa_library", visa_library))
    return RoleConfig(role=role, driver=driver, driver_class=cls, resource=resource, uses=uses,
                      settings=cls.settings_with_defaults(settings), limits=dict(limits),
                      safety=safety, visa=visa, visa_library=library)


def parse_station_config(data: Any, source: str = "<station>") -> StationConfig:
    """Validate an already-loaded station mapping (see :func:`load_station_config`)."""
    if not isinstance(data, Mapping):
        raise _fail(source, "", "a station file must be a YAML mapping with a 'roles' key")
    check_finite(data, source)  # NaN or inf anywhere (a ramp table, a limit) is refused
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        raise _fail(source, unknown[0], f"unknown top-level key; allowed: {', '.join(TOP_KEYS)}")
    roles_raw = data.get("roles")
    if not isinstance(roles_raw, Mapping) or not roles_raw:
        raise _fail(source, "roles",
                    "missing or empty; allowed roles: " + ", ".join(ROLE_PROTOCOLS))
    for role in roles_raw:
        if role not in ROLE_PROTOCOLS:
            raise _fail(source, f"roles.{role}",
                        f"unknown role; allowed: {', '.join(ROLE_PROTOCOLS)}")
    library = _check_visa_library(source, "visa_library",
                                  data.get("visa_library", DEFAULT_VISA_LIBRARY))
    roles = {role: _role_config(source, role, entry, roles_raw, library)
             for role, entry in roles_raw.items()}
    clock = data.get("clock") or {}
    if not isinstance(clock, Mapping) or set(clock) - {"time_scale"}:
        raise _fail(source, "clock", "must be a mapping with only 'time_scale'")
    scale = clock.get("time_scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not 0 < scale <= 10000:
        raise _fail(source, "clock.time_scale",
                    f"{scale!r}; allowed 0 < value <= 10000 "
                    "(1 = real time; above 1 only for the simulated lab)")
    from pcsdaq.sim.config import check_sim_section

    sim = check_sim_section(data.get("sim"), source)
    return StationConfig(source=source, name=str(data.get("station", Path(source).stem)),
                         roles=roles, time_scale=float(scale), sim=dict(sim), raw=dict(data),
                         visa_library=library)


def load_station_config(path: str | Path) -> StationConfig:
    """Read and validate a station file; no instrument is opened.

    Raises ConfigError naming the file, the key and the allowed values."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read station file: {exc.strerror}", source=source) from None
    except UnicodeDecodeError:
        raise ConfigError("not a text file (UTF-8 YAML expected)", source=source) from None
    data = load_yaml(text, source)  # duplicate keys refused: a repeated limit is an error
    return parse_station_config(data, source)


def packaged_config(name: str) -> Path:
    """Path of a station or plan file shipped in ``configs/`` (e.g. ``station-sim.yaml``)."""
    from importlib.resources import files

    return Path(str(files("pcsdaq.configs").joinpath(name)))
