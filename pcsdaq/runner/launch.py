"""Opening a station for a run: real instruments, or the simulated lab in-process / over TCP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pcsdaq.clock import ScaledClock, VirtualClock
from pcsdaq.station import Station, load_station_config


def make_clock(time_scale: float | None, default: float) -> Any:
    """ScaledClock at ``time_scale`` (None: ``default``); 0 means a VirtualClock (waits cost
    no real time: the simulated lab only)."""
    scale = default if time_scale is None else time_scale
    return VirtualClock() if scale == 0 else ScaledClock(scale)


def open_station(station_path: str | Path, *, sim: str | None = None,
                 time_scale: float | None = None,
                 ports: dict[str, str] | None = None) -> tuple[Station, Any, Any]:
    """(station, lab, server) for ``station_path``.

    ``sim=None``: open the file's VISA resources (hardware, or ``pcsdaq sim serve`` on the
    file's ports); ``"inprocess"``: a SimLab from the file's ``sim:`` section, reached
    through in-process adapters; ``"tcp"``: that lab served on free TCP ports and reached
    through pyvisa-py. ``ports`` ({emulator: resource}, ``pcsdaq sim serve --json``): open
    the resources a running ``pcsdaq sim serve`` serves instead of the file's.
    ``lab``/``server`` are None when not used; close the server last."""
    config = load_station_config(station_path)
    clock = make_clock(time_scale, config.time_scale)
    if sim is None:
        if isinstance(clock, VirtualClock):
            raise ValueError("a virtual clock (time scale 0) needs the simulated lab")
        if ports is not None:
            from pcsdaq.sim.served import ports_adapter_factory
            factory = ports_adapter_factory(ports, config, "ports file")
            return Station.open(config, adapter_factory=factory, clock=clock), None, None
        return Station.open(config, clock=clock), None, None
    from pcsdaq.sim.lab import SimLab

    from pcsdaq.sim.served import ports_adapter_factory

    lab = SimLab.from_station_file(str(station_path), clock=clock)
    if sim == "inprocess":
        # the emulator of each role's model (a LakeShore336 with model "350" talks to the 350)
        names = ports_adapter_factory({n: n for n in lab.emulators}, config, str(station_path))
        return Station.open(config, adapter_factory=lambda d, r: lab.adapter(names(d, r)),
                            clock=clock), lab, None
    if sim != "tcp":
        raise ValueError(f"sim mode {sim!r}; allowed: inprocess, tcp")
    server = lab.serve(ports={name: 0 for name in lab.emulators})
    tcp_resource = ports_adapter_factory(server.resources, config, str(station_path))
    try:
        station = Station.open(config, adapter_factory=tcp_resource, clock=clock)
    except Exception:
        server.close()
        raise
    return station, lab, server
