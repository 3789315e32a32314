"""SimLab: one shared simulated physical state (clock, rng, cryostat, magnet, contact)
and the instrument emulators that read it. First increment: emulators of sim-A."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pcsdaq.clock import Clock, ScaledClock
from pcsdaq.sim.contact import Contact
from pcsdaq.sim.cryostat import Cryostat
from pcsdaq.sim.faults import TransportFaults
from pcsdaq.sim.magnet import Magnet

if TYPE_CHECKING:
    from pcsdaq.sim.inprocess import InProcessAdapter
    from pcsdaq.sim.serial_link import PtyServer
    from pcsdaq.sim.server import SimServer
    from pcsdaq.station import AdapterFactory
    from pcsdaq.station_schema import StationConfig


class SimLab:
    """Simulated lab; ``config`` is a station file's ``sim:`` section."""

    def __init__(self, config: dict | None = None, *, clock: Clock | None = None,
                 seed: int = 0) -> None:
        cfg = dict(config or {})
        self.config = cfg
        self.clock = clock if clock is not None else ScaledClock(cfg.get("time_scale", 1.0))
        self.seed = int(cfg.get("seed", seed))  #: the lab seed (the spots of the sample)
        self.rng = np.random.default_rng(self.seed)
        self.cryostat = Cryostat(self, start_K=cfg.get("start_temperature_K", 1.5),
                                 base_K=cfg.get("base_temperature_K", 0.45))
        self.magnet = Magnet(self)
        #: name -> emulator; each its own class, reached by name (lab.emulators["sr830"])
        self.emulators: dict[str, Any] = {}
        self.faults = TransportFaults()
        self.lock = threading.RLock()  #: one lock for the shared physical state
        self.contact = Contact(self, cfg)
        from pcsdaq.sim.emulators import emulator_classes

        for name, emulator_class in emulator_classes().items():
            self.emulators[name] = emulator_class(self)

    def adapter(self, name: str) -> InProcessAdapter:
        """In-process pymeasure Adapter to emulator ``name`` (e.g. "sr830")."""
        from pcsdaq.sim.inprocess import InProcessAdapter
        return InProcessAdapter(self.emulators[name], faults=self.faults, lock=self.lock)

    def inject(self, fault: str, target: str | None = None, **params: Any) -> None:
        """Inject a fault, as tests and ``pcsdaq sim serve --fault`` do.

        Physical: ``quench`` (the magnet quenches; the supply reports it), ``heater_open``
        (the heater does nothing; HTRST? reports open), ``thermometer_invalid`` (reading
        status bits set, T reads 0), ``overload`` (the lock-in's overload bits latch),
        ``unlock`` (the lock-in's reference-unlock bit latches).
        Transport (``target`` = emulator name or None for all; ``count`` events, see
        :mod:`pcsdaq.sim.faults`): ``latency`` (delay_s), ``no_reply``, ``drop``, ``garble``."""
        from pcsdaq.sim.faults import TRANSPORT_FAULTS

        if fault in TRANSPORT_FAULTS:
            self.faults.add(fault, target, **params)
        elif fault == "quench":
            self.magnet.quench()
        elif fault == "heater_open":
            self.cryostat.heater_open = True
        elif fault == "thermometer_invalid":
            self.cryostat.thermometer_invalid = True
        elif fault == "overload" and "sr830" in self.emulators:
            self.emulators["sr830"].force_overload = True
        elif fault == "unlock" and "sr830" in self.emulators:
            self.emulators["sr830"].force_unlock = True
        else:
            raise ValueError(f"unknown fault {fault!r}")

    def clear_faults(self) -> None:
        """Remove every injected fault (a quench stays latched in the magnet)."""
        self.faults.clear()
        self.cryostat.heater_open = False
        self.cryostat.thermometer_invalid = False
        if "sr830" in self.emulators:
            self.emulators["sr830"].force_overload = False
            self.emulators["sr830"].force_unlock = False

    @staticmethod
    def emulator_for_driver(driver_name: str) -> str:
        """Name of the emulator standing in for driver class ``driver_name`` (its
        ``EMULATOR`` declaration, :mod:`pcsdaq.drivers.registry`); KeyError naming the
        driver when it has none."""
        from pcsdaq.drivers import registry

        name = registry.emulator_for(driver_name)
        if name is None:
            raise KeyError(f"driver {driver_name} has no emulator in the simulated lab")
        return name

    def adapter_factory(self) -> AdapterFactory:
        """Callable ``(driver_name, resource) -> Adapter`` for a station on this lab."""
        def factory(driver_name: str, resource: str) -> InProcessAdapter:
            return self.adapter(self.emulator_for_driver(driver_name))
        return factory

    @classmethod
    def from_station_config(cls, config: StationConfig, **kwargs: Any) -> SimLab:
        """Build a lab from a validated station file: its ``sim:`` section
        (:mod:`pcsdaq.sim.config`), its ``clock.time_scale``, and the resistors and aux output
        its lock-in and bias roles are set up with (unless the section gives them)."""
        cfg = dict(config.sim)
        cfg.setdefault("time_scale", config.time_scale)
        for role, keys in (("lockin", ("excitation_resistance_ohm",)),
                           ("bias", ("series_resistance_ohm", "aux_output"))):
            rc = config.roles.get(role)
            settings = rc.settings if rc is not None else {}
            for key in keys:
                if key in settings:
                    cfg.setdefault(key, settings[key])
        return cls(cfg, **kwargs)

    @classmethod
    def from_station_file(cls, path: str | Path, **kwargs: Any) -> SimLab:
        """Validate a station file (ConfigError naming file, key and allowed values) and build
        a lab from it (see :meth:`from_station_config`)."""
        from pcsdaq.station_schema import load_station_config

        return cls.from_station_config(load_station_config(path), **kwargs)

    def serve(self, host: str = "127.0.0.1", ports: dict[str, int] | None = None,
              emulators: list[str] | None = None) -> SimServer:
        """Serve the emulators (all, or those named) over TCP; returns a SimServer (context
        manager)."""
        from pcsdaq.sim.server import SimServer
        chosen = {n: e for n, e in self.emulators.items() if emulators is None or n in emulators}
        return SimServer(chosen, host, ports or self.config.get("ports"),
                         faults=self.faults, lock=self.lock)

    def serve_serial(self, names: list[str]) -> PtyServer:
        """Serve the named emulators on pseudo-terminals (the serial transport); returns a
        PtyServer (context manager) whose ``resources`` are ASRL resource names."""
        from pcsdaq.sim.serial_link import PtyServer
        return PtyServer(self.emulators, names, faults=self.faults, lock=self.lock)
