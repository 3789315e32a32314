"""``pcsdaq run PLAN.yaml``: validate a whole plan, then run it headless with progress.

The run holds its data folder (:class:`~pcsdaq.storage.folder_lock.DataFolderLock`): a
second ``pcsdaq run`` into it is refused while the first lives. Before it starts, run files
left by a killed run are repaired in place (:func:`~pcsdaq.storage.repair.repair_folder`).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from datetime import datetime
from pathlib import Path

from pcsdaq.cli_args import OneLineParser, finite_float, writable_folder
from pcsdaq.procedures import PlanError
from pcsdaq.runner.engine import RunEngine
from pcsdaq.runner.launch import open_station
from pcsdaq.runner.plan import describe_plan, load_plan, validate_plan
from pcsdaq.runner.progress import ConsoleProgress
from pcsdaq.safe_state import last_run_report
from pcsdaq.station import load_station_config
from pcsdaq.storage.folder_lock import DataFolderError, DataFolderLock
from pcsdaq.storage.layout import os_reason
from pcsdaq.storage.repair import repair_folder

EXIT_CODES = {"finished": 0, "aborted": 1, "failed": 1}


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``pcsdaq run`` and ``pcsdaq demo``."""
    parser.add_argument("--time-scale", type=finite_float(0.0, 10000.0), default=None,
                        help="simulated lab only: clock speed-up, 0 to 10000 (0 = virtual "
                             "clock, waits cost nothing); default: the station file's "
                             "clock.time_scale")


def attach_log_file(data_dir: Path) -> Path:
    """Log the run (engine, warnings) to a file in the data folder."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / f"pcsdaq-run-{datetime.now():%Y%m%d-%H%M%S}.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("pcsdaq")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return path


def run_engine_with_signals(engine: RunEngine, resume: bool = False) -> str:
    """Run the queue in a worker thread; Ctrl-C or SIGTERM abort cleanly. Returns the state."""
    def handler(signum: int, _frame: object) -> None:
        engine.abort("Ctrl-C" if signum == signal.SIGINT else "SIGTERM")

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        engine.start(resume=resume)
        while not engine.wait(0.2):
            pass
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)
    return engine.state


def main(argv: list[str]) -> int:
    """Entry point of ``pcsdaq run``."""
    parser = OneLineParser(prog="pcsdaq run", description="Run a measurement plan.")
    parser.add_argument("plan", help="plan YAML (station file and steps)")
    parser.add_argument("--station", help="station file (overrides the plan's)")
    parser.add_argument("--data", help="data folder (overrides the plan's; default ./data)")
    parser.add_argument("--resume", action="store_true",
                        help="continue where the last unfinished run of this plan in the data "
                             "folder stopped (by step and setpoint index)")
    parser.add_argument("--sim", choices=["inprocess", "tcp"], default=None,
                        help="run on the station file's simulated lab instead of its resources")
    parser.add_argument("--ports", metavar="FILE",
                        help="open the instruments a running `pcsdaq sim serve --json FILE` "
                             "serves (give its --time-scale too) instead of the file's")
    parser.add_argument("--check", action="store_true", help="validate and estimate only")
    add_run_arguments(parser)
    args = parser.parse_args(argv)

    plan = load_plan(args.plan)
    station_path = Path(args.station) if args.station else plan.station_path
    if station_path is None:
        raise PlanError(f"{args.plan}: no station file (key 'station' or --station)")
    config = load_station_config(station_path)
    ports = None
    if args.ports:
        if args.sim:
            raise PlanError("--ports opens a served lab; it does not go with --sim")
        from pcsdaq.sim.served import read_ports
        ports = read_ports(args.ports)
    problems = validate_plan(plan, config)
    if problems:
        raise PlanError(f"{args.plan}: refused before any instrument I/O: "
                        + "; ".join(problems))
    for line in describe_plan(plan, config):
        print(line)
    if args.check:
        return 0
    data_dir = writable_folder(Path(args.data) if args.data else (plan.data_dir or Path("data")),
                               "--data")
    plan_source = str(Path(args.plan).resolve())
    with DataFolderLock(data_dir, plan=plan_source) as lock:
        if lock.previous and lock.previous.get("pid"):
            print(f"data folder: the run of pid {lock.previous['pid']} (plan "
                  f"{lock.previous.get('plan', '?')}) ended without releasing it; taken over")
        for path, what in repair_folder(data_dir):
            print(f"repaired {path.name}: {what} (plain HDF5 readers open it now)")
        for line in last_run_report(data_dir):
            print(line)
        try:
            log_path = attach_log_file(data_dir)
        except OSError as exc:
            raise DataFolderError(f"data folder {data_dir}: cannot write the log "
                                  f"({os_reason(exc, data_dir)})") from None
        station, _lab, server = open_station(station_path, sim=args.sim,
                                             time_scale=args.time_scale,
                                             ports=ports)
        try:
            engine = RunEngine(station, data_dir, plan_source=plan_source)
            engine.queue = list(plan.steps)
            engine.subscribe(ConsoleProgress(len(plan.steps)))
            state = run_engine_with_signals(engine, resume=args.resume)
        finally:
            station.close()
            if server is not None:
                server.close()
    print(f"data in {data_dir.resolve()}, log {log_path}")
    for path in engine.files:
        print(f"  {path}")
    if state != "finished":
        print(f"run {state}: {engine.reason}", file=sys.stderr)
    return EXIT_CODES.get(state, 1)
