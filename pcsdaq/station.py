"""Instruments by role, built from a station file.

A station file (``configs/station-*.yaml``) maps each ROLE (lockin, bias, dmm, thermometer,
magnet, positioner) to a driver class, a VISA resource (or another role it ``uses``),
settings and safety limits. :func:`load_station_config` validates the whole file without
opening anything: an unknown role or driver, a malformed resource, a limit beyond what the
hardware allows or a missing key is refused with a :class:`~pcsdaq.errors.ConfigError`
naming the file, the key and the allowed values. :meth:`Station.open` then builds the
drivers; procedures only ever see the roles.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyvisa import constants as visa_constants
from pyvisa import rname

from pcsdaq.clock import ScaledClock
from pcsdaq.drivers import DRIVERS
from pcsdaq.errors import ConfigError, InstrumentFault, LimitError, PcsdaqError
from pcsdaq.limits import SafetyLimits
from pcsdaq.yamlio import check_finite, load_yaml

#: role -> driver classes that can fill it
ROLE_DRIVERS: dict[str, tuple[str, ...]] = {
    "lockin": ("SR830",),
    "bias": ("SR830AuxBias", "Keithley6221"),
    "dmm": ("Keithley2000",),
    "thermometer": ("LakeShore372", "LakeShore336"),
    "magnet": ("AMI430", "MercuryIPS"),
    "positioner": ("ANC300",),
}
#: drivers that ride on another role's instrument instead of opening a resource
USES_DRIVERS: dict[str, str] = {"SR830AuxBias": "lockin"}

TOP_KEYS = ("station", "clock", "roles", "sim")
ROLE_KEYS = ("driver", "resource", "uses", "settings", "limits", "visa")
#: pyvisa resource attributes a station file may set (serial framing, terminations, timeout)
VISA_KEYS = ("timeout", "read_termination", "write_termination", "baud_rate", "data_bits",
             "parity", "stop_bits")
_PARITY = {"none": visa_constants.Parity.none, "odd": visa_constants.Parity.odd,
           "even": visa_constants.Parity.even}
_STOP_BITS = {1: visa_constants.StopBits.one, 1.5: visa_constants.StopBits.one_and_a_half,
              2: visa_constants.StopBits.two}

AdapterFactory = Callable[[str, str], Any]


@dataclass(frozen=True)
class RoleConfig:
    """One validated role entry of a station file."""

    role: str
    driver: str
    driver_class: type
    resource: str | None
    uses: str | None
    settings: dict[str, Any]
    limits: dict[str, float]
    safety: SafetyLimits
    visa: dict[str, Any]


@dataclass(frozen=True)
class StationConfig:
    """A validated station file: its roles, clock time scale and simulator section."""

    source: str
    name: str
    roles: dict[str, RoleConfig]
    time_scale: float = 1.0
    sim: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


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
        port = str(parsed.port)
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


def _driver_class(name: str) -> type:
    return getattr(importlib.import_module(f"pcsdaq.drivers.{DRIVERS[name]}"), name)


def _role_config(source: str, role: str, entry: Any, all_roles: Mapping[str, Any]) -> RoleConfig:
    where = f"roles.{role}"
    if not isinstance(entry, Mapping):
        raise _fail(source, where, "must be a mapping with driver, resource, settings, limits")
    unknown = sorted(set(entry) - set(ROLE_KEYS))
    if unknown:
        raise _fail(source, where, f"unknown key {', '.join(unknown)}; allowed: {', '.join(ROLE_KEYS)}")
    if "driver" not in entry:
        raise _fail(source, f"{where}.driver", f"missing; allowed: {', '.join(ROLE_DRIVERS[role])}")
    driver = entry["driver"]
    if driver not in ROLE_DRIVERS[role]:
        raise _fail(source, f"{where}.driver",
                    f"{driver!r} cannot fill the {role} role; allowed: {', '.join(ROLE_DRIVERS[role])}")
    uses, resource = entry.get("uses"), entry.get("resource")
    if driver in USES_DRIVERS:
        if resource is not None:
            raise _fail(source, f"{where}.resource", f"{driver} has no resource of its own; "
                                                     f"give 'uses: {USES_DRIVERS[driver]}'")
        if uses != USES_DRIVERS[driver]:
            raise _fail(source, f"{where}.uses", f"{driver} needs 'uses: {USES_DRIVERS[driver]}'")
        if uses not in all_roles:
            raise _fail(source, f"{where}.uses", f"role {uses!r} is not defined in this file")
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
    cls = _driver_class(driver)
    try:
        safety = cls.check_config(dict(settings), dict(limits))
    except LimitError as exc:
        raise _fail(source, f"{where}.limits", str(exc)) from None
    except ConfigError as exc:
        key = f"{where}.{exc.key}" if exc.key else where
        raise _fail(source, key, str(exc).split(": ", 1)[-1]) from None
    except (TypeError, ValueError) as exc:
        raise _fail(source, where, str(exc)) from None
    return RoleConfig(role=role, driver=driver, driver_class=cls, resource=resource, uses=uses,
                      settings=cls.settings_with_defaults(settings), limits=dict(limits),
                      safety=safety, visa=visa)


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
        raise _fail(source, "roles", "missing or empty; allowed roles: " + ", ".join(ROLE_DRIVERS))
    for role in roles_raw:
        if role not in ROLE_DRIVERS:
            raise _fail(source, f"roles.{role}", f"unknown role; allowed: {', '.join(ROLE_DRIVERS)}")
    roles = {role: _role_config(source, role, entry, roles_raw) for role, entry in roles_raw.items()}
    clock = data.get("clock") or {}
    if not isinstance(clock, Mapping) or set(clock) - {"time_scale"}:
        raise _fail(source, "clock", "must be a mapping with only 'time_scale'")
    scale = clock.get("time_scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not 0 < scale <= 10000:
        raise _fail(source, "clock.time_scale", f"{scale!r}; allowed 0 < value <= 10000 "
                                                "(1 = real time; above 1 only for the simulated lab)")
    sim = data.get("sim") or {}
    if not isinstance(sim, Mapping):
        raise _fail(source, "sim", "must be a mapping")
    return StationConfig(source=source, name=str(data.get("station", Path(source).stem)),
                         roles=roles, time_scale=float(scale), sim=dict(sim), raw=dict(data))


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


class Station:
    """The opened instruments of a station, by role.

    Attributes ``lockin``, ``bias``, ``dmm``, ``thermometer``, ``magnet``, ``positioner``
    (None where the file has no such role); ``clock`` (virtual seconds; the procedures'
    waits use it); ``lock`` (an RLock held around each point's transactions, so a GUI poller
    interleaves between points instead of inside one); ``config``.
    """

    ROLES = tuple(ROLE_DRIVERS)

    def __init__(self, config: StationConfig, instruments: Mapping[str, Any], clock: Any) -> None:
        self.config = config
        self.instruments = dict(instruments)
        self.clock = clock
        self.lock = threading.RLock()
        self.adapter_factory: AdapterFactory | None = None
        for role in self.ROLES:
            setattr(self, role, self.instruments.get(role))

    @classmethod
    def from_file(cls, path: str | Path, *, adapter_factory: AdapterFactory | None = None,
                  clock: Any = None) -> Station:
        """Validate ``path`` and open its instruments (see :meth:`open`)."""
        return cls.open(load_station_config(path), adapter_factory=adapter_factory, clock=clock)

    @classmethod
    def open(cls, config: StationConfig, *, adapter_factory: AdapterFactory | None = None,
             clock: Any = None) -> Station:
        """Open every role of a validated config.

        ``adapter_factory(driver_name, resource)`` returns an adapter (the simulated lab's
        in-process mode) or another VISA resource string (a lab served on free ports); by
        default pyvisa-py opens the file's resource. On failure the instruments already opened are closed and InstrumentFault
        names the role and resource."""
        opened: dict[str, Any] = {}
        order = sorted(config.roles.values(), key=lambda rc: rc.uses is not None)
        try:
            for rc in order:
                kwargs = {"name": f"{rc.role} ({rc.driver})", "limits": rc.limits,
                          "settings": rc.settings}
                if rc.uses is not None:
                    opened[rc.role] = rc.driver_class(opened[rc.uses], **kwargs)
                    continue
                adapter = adapter_factory(rc.driver, rc.resource) if adapter_factory else None
                if adapter is not None and not isinstance(adapter, str):
                    opened[rc.role] = rc.driver_class(adapter, **kwargs)
                else:  # a VISA resource: the file's own, or one the factory chose
                    resource = adapter if isinstance(adapter, str) else rc.resource
                    opened[rc.role] = rc.driver_class(resource, visa_library="@py",
                                                      **rc.visa, **kwargs)
        except PcsdaqError:
            _close_all(opened, config)
            raise
        except Exception as exc:  # a link that did not open: name what failed
            _close_all(opened, config)
            raise InstrumentFault(f"{config.source}: cannot open role {rc.role} ({rc.driver} at "
                                  f"{rc.resource}): {type(exc).__name__}: {exc}") from exc
        station = cls(config, opened, clock if clock is not None else ScaledClock(config.time_scale))
        station.adapter_factory = adapter_factory
        return station

    def reconnect(self) -> None:
        """Close every link and open the station again in place (after a timeout or a dropped
        connection); roles, clock and lock stay. Raises InstrumentFault if it cannot."""
        with self.lock:
            _close_all(self.instruments, self.config)
            fresh = Station.open(self.config, adapter_factory=self.adapter_factory,
                                 clock=self.clock)
            self.instruments = fresh.instruments
            for role in self.ROLES:
                setattr(self, role, self.instruments.get(role))

    def snapshot(self) -> dict[str, Any]:
        """Every instrument's settings for the run record; a failing query is recorded, not raised."""
        snap: dict[str, Any] = {"station": self.config.name, "source": self.config.source}
        with self.lock:
            for role, inst in self.instruments.items():
                try:
                    snap[role] = inst.snapshot()
                except Exception as exc:  # the record says what could not be read
                    snap[role] = {"error": f"{type(exc).__name__}: {exc}"}
        return snap

    def safe_state(self, timeout_s: float | None = None) -> list[Any]:
        """Bias to zero, lock-in sine minimum, heater to its safe state, magnet hold, piezo
        grounded: each instrument on its own, on a fresh connection if its link is dead,
        each within ``timeout_s`` (see :mod:`pcsdaq.safe_state`). Never raises; returns one
        :class:`~pcsdaq.safe_state.SafeOutcome` per instrument."""
        from pcsdaq.safe_state import SAFE_TIMEOUT_S, safe_state

        timeout_s = SAFE_TIMEOUT_S if timeout_s is None else timeout_s
        locked = self.lock.acquire(timeout=timeout_s)  # a hung holder must not block it
        try:
            return safe_state(self.config, self.instruments, self.adapter_factory, timeout_s)
        finally:
            if locked:
                self.lock.release()

    def close(self) -> None:
        """Close every instrument link (each once)."""
        _close_all(self.instruments, self.config)


def _close_all(instruments: Mapping[str, Any], config: StationConfig) -> None:
    for role, inst in instruments.items():
        rc = config.roles.get(role)
        if rc is not None and rc.uses is not None:
            continue  # rides on another role's link
        try:
            inst.adapter.close()
        except Exception:  # closing is best effort; the link may already be gone
            pass


def main(argv: list[str]) -> int:
    """``pcsdaq station check FILE``: validate a station file and list its roles (no I/O)."""
    from pcsdaq.cli_args import OneLineParser

    parser = OneLineParser(prog="pcsdaq station",
                                     description="Check a station file without opening anything.")
    sub = parser.add_subparsers(dest="action", required=True)
    check = sub.add_parser("check", help="validate a station file")
    check.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    config = load_station_config(args.file)
    print(f"{config.source}: station '{config.name}' is valid (time scale {config.time_scale:g})")
    for rc in config.roles.values():
        where = f"uses {rc.uses}" if rc.uses else rc.resource
        limits = ", ".join(f"{k}={v:g}" for k, v in rc.safety.items())
        print(f"  {rc.role:<11} {rc.driver:<13} {where}  [{limits}]")
    return 0
