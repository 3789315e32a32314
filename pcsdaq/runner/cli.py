"""``pcsdaq run PLAN.yaml``: validate a whole plan, then run it headless with progress."""

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
from pcsdaq.runner.plan import estimate_plan_duration_s, format_duration, load_plan, validate_plan
from pcsdaq.runner.progress import ConsoleProgress
from pcsdaq.safe_state import last_run_report
from pcsdaq.station import load_station_config

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
                        help="continue where the last run of this plan in the data folder stopped")
    parser.add_argument("--sim", choices=["inprocess", "tcp"], default=None,
                        help="run on the station file's simulated lab instead of its resources")
    parser.add_argument("--check", action="store_true", help="validate and estimate only")
    add_run_arguments(parser)
    args = parser.parse_args(argv)

    plan = load_plan(args.plan)
    station_path = Path(args.station) if args.station else plan.station_path
    if station_path is None:
        raise PlanError(f"{args.plan}: no station file (key 'station' or --station)")
    config = load_station_config(station_path)
    problems = validate_plan(plan, config)
    if problems:
        raise PlanError(f"{args.plan}: refused before any instrument I/O: "
                        + "; ".join(problems))
    estimates = estimate_plan_duration_s(plan, config)
    for i, (step, est) in enumerate(zip(plan.steps, estimates)):
        print(f"{step.label(i)}: about {format_duration(est)} (instrument time)")
    print(f"plan: {len(plan.steps)} steps, about {format_duration(sum(estimates))}")
    if args.check:
        return 0
    data_dir = writable_folder(Path(args.data) if args.data else (plan.data_dir or Path("data")),
                               "--data")
    for line in last_run_report(data_dir):
        print(line)
    log_path = attach_log_file(data_dir)
    station, _lab, server = open_station(station_path, sim=args.sim, time_scale=args.time_scale)
    try:
        engine = RunEngine(station, data_dir, plan_source=str(Path(args.plan).resolve()))
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
