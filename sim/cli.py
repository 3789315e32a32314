"""``pcsdaq sim serve``: run the simulated lab's instruments on TCP ports (and, with
``--serial NAME``, on pseudo-terminal serial ports) until stopped; ``pcsdaq sim commands
[NAME]``: the emulators' command coverage table (:mod:`pcsdaq.sim.coverage`)."""

from __future__ import annotations

import dataclasses
import json
import signal
import threading
from contextlib import ExitStack
from importlib.resources import files

from pcsdaq.cli_args import OneLineParser, finite_float, strict_int
from pcsdaq.clock import ScaledClock
from pcsdaq.errors import UsageError
from pcsdaq.sim.faults import ALL_FAULTS
from pcsdaq.sim.lab import SimLab
from pcsdaq.station import load_station_config


def served_lab(config_path: str, time_scale: float | None = None,
               seed: int | None = None) -> SimLab:
    """The lab ``pcsdaq sim serve`` serves: the station file's, built on a clock at
    ``time_scale`` (None: the file's) and with ``seed`` (None: the file's). Built so, not
    changed afterwards: its parts (the lock-in's output filter, the cryostat, the sample's
    spots) keep the clock and seed they were made with."""
    config = load_station_config(config_path)  # one line naming file and key if it is bad
    if seed is not None:
        config = dataclasses.replace(config, sim={**config.sim, "seed": seed})
    clock = ScaledClock(time_scale) if time_scale is not None else None
    return SimLab.from_station_config(config, clock=clock)


def main(argv: list[str]) -> int:
    """Entry point of ``pcsdaq sim``; returns the exit code."""
    parser = OneLineParser(prog="pcsdaq sim")
    sub = parser.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve", help="serve every emulator on 127.0.0.1")
    serve.add_argument("--config", default=str(files("pcsdaq.configs") / "station-sim.yaml"))
    serve.add_argument("--json", help="write {name: resource} to this file")
    serve.add_argument("--time-scale", type=finite_float(0.0, 10000.0, low_open=True),
                       help="clock speed-up, 0 < value <= 10000")
    serve.add_argument("--seed", type=strict_int(0, 2**32 - 1))
    serve.add_argument("--fault", action="append", default=[],
                       help=f"NAME[:TARGET] ({', '.join(ALL_FAULTS)}); repeatable")
    serve.add_argument("--free-ports", action="store_true",
                       help="pick free ports instead of the station file's (see --json)")
    serve.add_argument("--station-out", metavar="FILE",
                       help="write a copy of the station file whose roles point at the served "
                            "resources (and whose clock runs at the served speed): "
                            "`pcsdaq run` can use it as it is")
    serve.add_argument("--serial", action="append", default=[], metavar="NAME",
                       help="serve this emulator on a serial port (a pseudo-terminal, "
                            "ASRL/dev/pts/N::INSTR) instead of TCP; repeatable")
    commands = sub.add_parser("commands", help="the emulators' command coverage table")
    commands.add_argument("name", nargs="?", help="one emulator (sr830, keithley2000 ...)")
    commands.add_argument("--markdown", action="store_true",
                          help="as docs/instruments_coverage.md (redirect it there)")
    args = parser.parse_args(argv)
    if args.cmd == "commands":
        from pcsdaq.sim.coverage import main_commands
        return main_commands(args.name, args.markdown)
    faults = []
    for spec in args.fault:
        name, _, target = spec.partition(":")
        if name not in ALL_FAULTS:
            raise UsageError(f"--fault {spec!r}: unknown fault {name!r}; allowed: "
                             f"{', '.join(ALL_FAULTS)}")
        faults.append((name, target or None))
    lab = served_lab(args.config, args.time_scale, args.seed)
    bad_targets = sorted({t for _, t in faults if t is not None} - set(lab.emulators))
    if bad_targets:
        raise UsageError(f"--fault target {', '.join(bad_targets)}: no such emulator; known: "
                         f"{', '.join(lab.emulators)}")
    unknown = sorted(set(args.serial) - set(lab.emulators))
    if unknown:
        parser.error(f"--serial {', '.join(unknown)}: no such emulator; known: "
                     f"{', '.join(lab.emulators)}")
    for name, target in faults:
        lab.inject(name, target)
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
