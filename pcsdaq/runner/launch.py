"""Opening a station for a run: real instruments, or the simulated lab in-process / over TCP."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pcsdaq.clock import Clock, ScaledClock, VirtualClock
from pcsdaq.station import Station, load_station_config

if TYPE_CHECKING:
    from pcsdaq.sim.lab import SimLab
    from pcsdaq.sim.server import SimServer


def make_clock(time_scale: float | None, default: float) -> Clock:
    """ScaledClock at ``time_scale`` (None: ``default``); 0 means a VirtualClock (waits cost
    no real time: the simulated lab only)."""
    scale = default if time_scale is None else time_scale
    return VirtualClock() if scale == 0 else ScaledClock(scale)


def open_station(station_path: str | Path, *, sim: str | None = None,
                 time_scale: float | None = None
                 ) -> tuple[Station, SimLab | None, SimServer | None]:
    """(station, lab, server) for ``station_path``.

    ``sim=None``: open the file's VISA resources (hardware, or ``pcsdaq sim serve`` on the
    file's ports); ``"inprocess"``: a SimLab from the file's ``sim:`` section, reached
    through in-process adapters; ``"tcp"``: that lab served on free TCP ports and reached
    through pyvisa-py. ``lab``/``server`` are None when not used; close the server last."""
    config = load_station_config(station_path)
    clock = make_clock(time_scale, config.time_scale)
    if sim is None:
        if isinstance(clock, VirtualClock):
            raise ValueError("a virtual clock (time scale 0) needs the simulated lab")
        return Station.open(config, clock=clock), None, None
    from pcsdaq.sim.lab import SimLab

    lab = SimLab.from_station_config(config, clock=clock)
    if sim == "inprocess":
        return Station.open(config, adapter_factory=lab.adapter_factory(), clock=clock), lab, None
    if sim != "tcp":
        raise ValueError(f"sim mode {sim!r}; allowed: inprocess, tcp")
    server = lab.serve(ports={name: 0 for name in lab.emulators})
    resources = server.resources

    def tcp_resource(driver: str, resource: str) -> str:
        return resources[SimLab.emulator_for_driver(driver)]

    try:
        station = Station.open(config, adapter_factory=tcp_resource, clock=clock)
    except Exception:
        server.close()
        raise
    return station, lab, server
