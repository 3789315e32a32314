"""SimLab: one shared simulated physical state (clock, rng, cryostat, magnet, contact)
and the instrument emulators that read it. First increment: emulators of sim-A."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import numpy as np
from pcsdaq.sim.cryostat import Cryostat
from pcsdaq.sim.faults import TransportFaults
from pcsdaq.sim.magnet import Magnet

from pcsdaq.clock import ScaledClock


class SimLab:
    """Simulated lab; ``config`` is a station file's ``sim:`` section."""

    def __init__(self, config: dict | None = None, *, clock: Any = None, seed: int = 0) -> None:
        cfg = dict(config or {})
        self.config = cfg
        self.clock = clock if clock is not None else ScaledClock(cfg.get("time_scale", 1.0))
        self.rng = np.random.default_rng(cfg.get("seed", seed))
        self.cryostat = Cryostat(self, start_K=cfg.get("start_temperature_K", 1.5),
                                 base_K=cfg.get("base_temperature_K", 0.45))
        self.magnet = Magnet(self)
        self.contact = None
        self.emulators: dict[str, Any] = {}
        self.faults = TransportFaults()
        self.lock = threading.RLock()  #: one lock for the shared physical state
        try:
            from pcsdaq.sim.contact import Contact
            self.contact = Contact(self, cfg)
        except ImportError:
            pass
        from pcsdaq.sim.emulators import lakeshore, lakeshore370
        for cls in (lakeshore.LakeShore372Emulator, lakeshore.LakeShore336Emulator,
                    lakeshore.LakeShore350Emulator, lakeshore370.LakeShore370Emulator):
            self.emulators[cls.name] = cls(self)
        from pcsdaq.sim.emulators.ami430 import AMI430Emulator
        self.emulators["ami430"] = AMI430Emulator(self)
        from pcsdaq.sim.emulators.mercury import MercuryIPSEmulator
        self.emulators["mercury"] = MercuryIPSEmulator(self)
        from pcsdaq.sim.emulators.ips120 import IPS120Emulator
        self.emulators["ips120"] = IPS120Emulator(self)
        for name, mod, cls in (("sr830", "sr830", "SR830Emulator"),
                               ("keithley2000", "keithley2000", "Keithley2000Emulator"),
                               ("anc300", "anc300", "ANC300Emulator")):
            try:
                module = __import__(f"pcsdaq.sim.emulators.{mod}", fromlist=[cls])
                self.emulators[name] = getattr(module, cls)(self)
            except ImportError:
                pass

    def adapter(self, name: str) -> Any:
        """In-process pymeasure Adapter to emulator ``name`` (e.g. "sr830")."""
        from pcsdaq.sim.inprocess import InProcessAdapter
        return InProcessAdapter(self.emulators[name], faults=self.faults, lock=self.lock)

    def inject(self, fault: str, target: str | None = None, **params: Any) -> None:
        """Inject a fault, as tests and ``pcsdaq sim serve --fault`` do.

        Physical: ``quench`` (the magnet quenches; the supply reports it), ``heater_open``
        (the heater does nothing; HTRST? reports open), ``thermometer_invalid`` (reading
        status bits set, T reads 0), ``overload`` (the lock-in's overload bits latch).
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
        else:
            raise ValueError(f"unknown fault {fault!r}")

    def clear_faults(self) -> None:
        """Remove every injected fault (a quench stays latched in the magnet)."""
        self.faults.clear()
        self.cryostat.heater_open = False
        self.cryostat.thermometer_invalid = False
        if "sr830" in self.emulators:
            self.emulators["sr830"].force_overload = False

    _DRIVER_TO_EMULATOR: ClassVar[dict[str, str]] = {"SR830": "sr830", "Keithley2000": "keithley2000",
                           "LakeShore372": "ls372", "LakeShore336": "ls336",
                           "AMI430": "ami430", "MercuryIPS": "mercury", "IPS120": "ips120",
                           "ANC300": "anc300"}

    def adapter_factory(self) -> Any:
        """Callable ``(driver_name, resource) -> Adapter`` for a station on this lab."""
        def factory(driver_name: str, resource: str) -> Any:
            return self.adapter(self._DRIVER_TO_EMULATOR[driver_name])
        return factory

    @classmethod
    def from_station_file(cls, path: str, **kwargs: Any) -> SimLab:
        """Build a lab from a station YAML's ``sim:`` section and ``clock.time_scale``."""
        import yaml
        with open(path) as fh:
            station = yaml.safe_load(fh) or {}
        cfg = dict(station.get("sim") or {})
        cfg.setdefault("time_scale", (station.get("clock") or {}).get("time_scale", 1.0))
        roles = station.get("roles") or {}
        lockin = (roles.get("lockin") or {}).get("settings") or {}
        bias = (roles.get("bias") or {}).get("settings") or {}
        for key, src in (("excitation_resistance_ohm", lockin), ("series_resistance_ohm", bias),
                         ("aux_output", bias)):
            if key in src:
                cfg.setdefault(key, src[key])
        return cls(cfg, **kwargs)

    def serve(self, host: str = "127.0.0.1", ports: dict[str, int] | None = None,
              emulators: list[str] | None = None) -> Any:
        """Serve the emulators (all, or those named) over TCP; returns a SimServer (context
        manager)."""
        from pcsdaq.sim.server import SimServer
        chosen = {n: e for n, e in self.emulators.items() if emulators is None or n in emulators}
        return SimServer(chosen, host, ports or self.config.get("ports"),
                         faults=self.faults, lock=self.lock)

    def serve_serial(self, names: list[str]) -> Any:
        """Serve the named emulators on pseudo-terminals (the serial transport); returns a
        PtyServer (context manager) whose ``resources`` are ASRL resource names."""
        from pcsdaq.sim.serial_link import PtyServer
        return PtyServer(self.emulators, names, faults=self.faults, lock=self.lock)
