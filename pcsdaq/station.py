"""Instruments by role, built from a station file.

A station file (``configs/station-*.yaml``) maps each ROLE (lockin, bias, dmm, thermometer,
magnet, positioner) to a driver class, a VISA resource (or another role it ``uses``),
settings and safety limits. :mod:`pcsdaq.station_schema` validates the whole file without
opening anything (:func:`load_station_config`); :meth:`Station.open` then builds the
drivers; procedures only ever see the roles. ``pcsdaq station check`` is
:mod:`pcsdaq.station_cli`. The schema's public names are importable from here too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pcsdaq.clock import Clock, ScaledClock
from pcsdaq.errors import InstrumentFault, PcsdaqError
from pcsdaq.roles import (
    ROLE_PROTOCOLS,
    BiasSource,
    Lockin,
    Magnet,
    Positioner,
    Thermometer,
    Voltmeter,
)
from pcsdaq.station_cli import main
from pcsdaq.station_schema import (
    DEFAULT_VISA_LIBRARY,
    ROLE_KEYS,
    TOP_KEYS,
    VISA_BACKENDS,
    VISA_KEYS,
    RoleConfig,
    StationConfig,
    load_station_config,
    packaged_config,
    parse_station_config,
)

__all__ = ["DEFAULT_VISA_LIBRARY", "ROLE_KEYS", "TOP_KEYS", "VISA_BACKENDS", "VISA_KEYS",
           "AdapterFactory", "RoleConfig", "Station", "StationConfig", "load_station_config",
           "main", "packaged_config", "parse_station_config"]

#: ``(driver_name, resource) -> adapter or VISA resource string`` (see :meth:`Station.open`)
AdapterFactory = Callable[[str, str], Any]


class Station:
    """The opened instruments of a station, by role.

    Attributes ``lockin``, ``bias``, ``dmm``, ``thermometer``, ``magnet``, ``positioner``
    (None where the file has no such role); ``clock`` (virtual seconds; the procedures'
    waits use it); ``lock`` (an RLock held around each point's transactions, so a GUI poller
    interleaves between points instead of inside one); ``config``.
    """

    ROLES = tuple(ROLE_PROTOCOLS)

    # Typed as the role each holds. A role the station file lacks is None: procedures name
    # the roles they need (require_roles) and the plan is refused before it runs.
    lockin: Lockin
    bias: BiasSource
    dmm: Voltmeter
    thermometer: Thermometer
    magnet: Magnet
    positioner: Positioner

    def __init__(self, config: StationConfig, instruments: Mapping[str, Any],
                 clock: Clock) -> None:
        self.config = config
        self.instruments = dict(instruments)
        self.clock = clock
        self.lock = threading.RLock()
        self.adapter_factory: AdapterFactory | None = None
        #: True when this process made the simulated lab the station talks to (``--sim``):
        #: its needle starts at the lab's lateral origin, not where an earlier run left it
        self.fresh_sim_lab = False
        for role in self.ROLES:
            setattr(self, role, self.instruments.get(role))

    @classmethod
    def from_file(cls, path: str | Path, *, adapter_factory: AdapterFactory | None = None,
                  clock: Clock | None = None) -> Station:
        """Validate ``path`` and open its instruments (see :meth:`open`)."""
        return cls.open(load_station_config(path), adapter_factory=adapter_factory, clock=clock)

    @classmethod
    def open(cls, config: StationConfig, *, adapter_factory: AdapterFactory | None = None,
             clock: Clock | None = None) -> Station:
        """Open every role of a validated config.

        ``adapter_factory(driver_name, resource)`` returns an adapter (the simulated lab's
        in-process mode) or another VISA resource string (a lab served on free ports); by
        default the role's VISA library (``visa_library``, '@py' unless the file names
        another) opens the file's resource. On failure the instruments already opened are
        closed and InstrumentFault names the role and resource."""
        opened: dict[str, Any] = {}
        order = sorted(config.roles.values(), key=lambda rc: rc.uses is not None)
        try:
            for rc in order:
                kwargs: dict[str, Any] = {"name": f"{rc.role} ({rc.driver})", "limits": rc.limits,
                          "settings": rc.settings}
                if rc.uses is not None:
                    opened[rc.role] = rc.driver_class(opened[rc.uses], **kwargs)
                    continue
                assert rc.resource is not None  # the schema gives every role without 'uses' one
                adapter = adapter_factory(rc.driver, rc.resource) if adapter_factory else None
                if adapter is not None and not isinstance(adapter, str):
                    opened[rc.role] = rc.driver_class(adapter, **kwargs)
                else:  # a VISA resource: the file's own, or one the factory chose
                    resource = adapter if isinstance(adapter, str) else rc.resource
                    opened[rc.role] = rc.driver_class(resource, visa_library=rc.visa_library,
                                                      **rc.visa, **kwargs)
        except PcsdaqError:
            _close_all(opened, config)
            raise
        except Exception as exc:  # a link that did not open: name what failed
            _close_all(opened, config)
            raise InstrumentFault(f"{config.source}: cannot open role {rc.role} ({rc.driver} at "
                                  f"{rc.resource}): {type(exc).__name__}: {exc}") from exc
        station = cls(config, opened,
                      clock if clock is not None else ScaledClock(config.time_scale))
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
        """Every instrument's settings for the run record; a failing query is recorded, not
        raised."""
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
