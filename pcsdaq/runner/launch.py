"""Opening a station for a run: real instruments, or the simulated lab in-process / over TCP."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pcsdaq.clock import Clock, ScaledClock, VirtualClock
from pcsdaq.errors import ConfigError, classify
from pcsdaq.station import Station, load_station_config

log = logging.getLogger("pcsdaq.runner")
#: retries of a link fault while the station first connects (as mid-run: RunEngine.max_retries)
CONNECT_RETRIES = 2
#: pause before each connect retry, real s
CONNECT_RETRY_PAUSE_S = 1.0


def connect_with_retries(open_station: Callable[[], Station], retries: int = CONNECT_RETRIES,
                         pause_s: float = CONNECT_RETRY_PAUSE_S,
                         notify: Callable[[str], None] | None = None) -> Station:
    """``open_station()``, retried ``retries`` times on a link fault (timeout, refused or
    dropped connection), like a fault mid-run; refusals and other errors are raised at once."""
    attempt = 0
    while True:
        try:
            return open_station()
        except Exception as exc:
            if classify(exc) != "link" or attempt >= retries:
                raise
            attempt += 1
            message = (f"connecting the station: {type(exc).__name__}: {exc}; "
                       f"retry {attempt} of {retries}")
            log.warning(message)
            if notify is not None:
                notify(message)
            time.sleep(pause_s)


if TYPE_CHECKING:
    from pcsdaq.sim.lab import SimLab
    from pcsdaq.sim.server import SimServer


def make_clock(time_scale: float | None, default: float) -> Clock:
    """ScaledClock at ``time_scale`` (None: ``default``); 0 means a VirtualClock (waits cost
    no real time: the simulated lab only)."""
    scale = default if time_scale is None else time_scale
    return VirtualClock() if scale == 0 else ScaledClock(scale)


def open_station(station_path: str | Path, *, sim: str | None = None,
                 time_scale: float | None = None,
                 ports: dict[str, str] | None = None
                 ) -> tuple[Station, SimLab | None, SimServer | None]:
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
            raise ConfigError("a virtual clock (time scale 0) needs the simulated lab (--sim)")
        if ports is not None:
            from pcsdaq.sim.served import ports_adapter_factory

            factory = ports_adapter_factory(ports, config, "ports file")
            return connect_with_retries(lambda: Station.open(
                config, adapter_factory=factory, clock=clock)), None, None
        return connect_with_retries(lambda: Station.open(config, clock=clock)), None, None
    from pcsdaq.sim.lab import SimLab
    from pcsdaq.sim.served import ports_adapter_factory

    lab = SimLab.from_station_config(config, clock=clock)
    if sim == "inprocess":
        # the emulator of each role's model (a LakeShore336 with model "350" talks to the 350)
        names = ports_adapter_factory({n: n for n in lab.emulators}, config, str(station_path))
        station = connect_with_retries(lambda: Station.open(
            config, adapter_factory=lambda d, r: lab.adapter(names(d, r)), clock=clock))
        station.fresh_sim_lab = True
        return station, lab, None
    if sim != "tcp":
        raise ConfigError(f"sim mode {sim!r}; allowed: inprocess, tcp")
    server = lab.serve(ports={name: 0 for name in lab.emulators})
    tcp_resource = ports_adapter_factory(server.resources, config, str(station_path))
    try:
        station = connect_with_retries(
            lambda: Station.open(config, adapter_factory=tcp_resource, clock=clock))
    except Exception:
        server.close()
        raise
    station.fresh_sim_lab = True
    return station, lab, server
