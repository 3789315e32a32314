"""``pcsdaq sim serve``: run the simulated lab's instruments on TCP ports (and, with
``--serial NAME``, on pseudo-terminal serial ports) until stopped."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from contextlib import ExitStack
from importlib.resources import files

from pcsdaq.sim.lab import SimLab


def main(argv: list[str]) -> int:
    """Entry point of ``pcsdaq sim``; returns the exit code."""
    parser = argparse.ArgumentParser(prog="pcsdaq sim")
    sub = parser.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve", help="serve every emulator on 127.0.0.1")
    serve.add_argument("--config", default=str(files("pcsdaq.configs") / "station-sim.yaml"))
    serve.add_argument("--json", help="write {name: resource} to this file")
    serve.add_argument("--time-scale", type=float)
    serve.add_argument("--seed", type=int)
    serve.add_argument("--fault", action="append", default=[],
                       help="NAME[:TARGET] (quench, heater_open, thermometer_invalid, overload, "
                            "latency, no_reply, drop, garble); repeatable")
    serve.add_argument("--free-ports", action="store_true",
                       help="pick free ports instead of the station file's (see --json)")
    serve.add_argument("--station-out", metavar="FILE",
                       help="write a copy of the station file whose roles point at the served "
                            "resources (and whose clock runs at the served speed): "
                            "`pcsdaq run` can use it as it is")
    serve.add_argument("--serial", action="append", default=[], metavar="NAME",
                       help="serve this emulator on a serial port (a pseudo-terminal, "
                            "ASRL/dev/pts/N::INSTR) instead of TCP; repeatable")
    args = parser.parse_args(argv)
    lab = SimLab.from_station_file(args.config)
    unknown = sorted(set(args.serial) - set(lab.emulators))
    if unknown:
        parser.error(f"--serial {', '.join(unknown)}: no such emulator; known: "
                     f"{', '.join(lab.emulators)}")
    if args.time_scale is not None:
        lab.clock = type(lab.clock)(args.time_scale)
    if args.seed is not None:
        import numpy as np
        lab.rng = np.random.default_rng(args.seed)
    for spec in args.fault:
        name, _, target = spec.partition(":")
        lab.inject(name, target or None)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    ports = {name: 0 for name in lab.emulators} if args.free_ports else None
    on_tcp = [name for name in lab.emulators if name not in args.serial]
    with ExitStack() as servers:
        resources = dict(servers.enter_context(lab.serve(ports=ports, emulators=on_tcp)).resources)
        if args.serial:
            resources.update(servers.enter_context(lab.serve_serial(args.serial)).resources)
        if args.station_out:  # before the listing, as the ports file
            from pcsdaq.sim.served import write_served_station
            write_served_station(args.config, resources, args.station_out,
                                 time_scale=getattr(lab.clock, "scale", args.time_scale))
        if args.json:  # before the listing, so a script that saw the listing finds it
            with open(args.json, "w") as fh:
                json.dump(resources, fh)
        for name, res in resources.items():
            print(f"{name}  {type(lab.emulators[name]).__name__}  {res}", flush=True)
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    return 0
