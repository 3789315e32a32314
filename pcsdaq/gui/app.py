"""`pcsdaq gui [--station FILE] [--sim] [--data DIR] [--time-scale X]`: open the lab GUI;
`pcsdaq gui --watch DIR`: follow a headless `pcsdaq run` writing into DIR (no instrument
opened).

Without ``--station`` the GUI opens on the packaged simulated station, so it works from a
fresh install; with a station file it opens those instruments (``--sim`` runs that file's
simulated lab instead). The run engine, and with it the instruments (or the simulated lab),
lives in a process of its own (:mod:`pcsdaq.gui.engine_process`); the GUI's process only
draws.
"""

from __future__ import annotations

import sys

from pcsdaq.cli_args import OneLineParser, finite_float, writable_folder


def build_engine(station_file: str | None, sim: bool, data_dir: str,
                 time_scale: float | None = None):
    """(engine, lab, server) in this process; lab/server are None on real instruments. The
    engine's process of ``pcsdaq gui`` builds its engine so; tests build one next to the
    window."""
    from pcsdaq.runner.engine import RunEngine
    from pcsdaq.runner.launch import open_station
    from pcsdaq.station import packaged_config

    path = station_file or str(packaged_config("station-sim.yaml"))
    use_sim = sim or station_file is None
    station, lab, server = open_station(path, sim="inprocess" if use_sim else None,
                                        time_scale=time_scale)
    return RunEngine(station, data_dir), lab, server


def settle_heap() -> None:
    """Once the window is built: collect, then freeze what exists (widgets, plots, modules:
    they live as long as the window) out of Python's cyclic garbage collector: a full pass
    over them took 95-204 ms of the GUI thread (benchmarks/bench_gui.py), a stall if it
    falls mid-series."""
    import gc

    gc.collect()
    gc.freeze()


def existing_folder(text: str) -> str:
    """An existing folder (argparse type): ``--watch`` only reads it."""
    import argparse
    from pathlib import Path

    if not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text}: no such folder")
    return text


def main(argv: list[str]) -> int:
    """Entry point for ``pcsdaq gui``; returns the Qt exit code."""
    parser = OneLineParser(prog="pcsdaq gui", description="the lab GUI")
    parser.add_argument("--station", help="station YAML file (default: the simulated lab)")
    parser.add_argument("--sim", action="store_true",
                        help="run the station file's simulated lab in-process")
    parser.add_argument("--data", default="data", help="data folder for the runs")
    parser.add_argument("--time-scale", type=finite_float(0.0, 10000.0), default=None,
                        help="simulated lab only: clock speed-up (default: the station file's)")
    parser.add_argument("--watch", metavar="DIR", type=existing_folder,
                        help="follow the runs a headless `pcsdaq run` writes into DIR: "
                             "plots, queue and alarms, read only, no instrument opened")
    parser.add_argument("--quit-after", type=finite_float(0.0, 1e7), default=None,
                        metavar="S", help="close the window after S seconds (scripts, tests)")
    args = parser.parse_args(argv)
    if not args.watch:  # watching writes nothing anywhere
        writable_folder(args.data, "--data")  # a file or a read-only folder: one line, exit 2
    from PyQt6 import QtCore, QtWidgets

    from pcsdaq.gui import fit_worker
    from pcsdaq.gui.main_window import MainWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    import signal

    # Ctrl+C or kill in the terminal closes the window as its close button does (the run is
    # aborted into its safe state); Python sees the signal at the next timer's callback
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: app.quit())
    if args.quit_after is not None:
        QtCore.QTimer.singleShot(int(args.quit_after * 1000), app.quit)
    if args.watch:
        win = MainWindow(None)
        win.resize(1280, 820)
        win.watch_folder(args.watch)
        win.show()
        settle_heap()
        try:
            return app.exec()
        finally:
            win.stop_watching()
            fit_worker.shutdown()
    from pcsdaq.gui.engine_process import RemoteEngine

    # the engine (and an in-process simulated lab) in a process of its own: a GUI that dies
    # leaves the run aborted in its safe state, and the engine's thread never holds the
    # interpreter lock the GUI thread paints with
    engine = RemoteEngine(args.station, args.sim, args.data, args.time_scale)
    win = MainWindow(engine)
    from pcsdaq.safe_state import last_run_report

    for line in last_run_report(args.data):  # what a crashed run left the instruments doing
        win.log.appendPlainText(f"[last run] {line}")
    win.resize(1280, 820)
    win.show()
    settle_heap()
    try:
        return app.exec()
    finally:
        fit_worker.shutdown()
        engine.close()  # abort, safe state, instruments closed, the engine's process ended
