"""`pcsdaq gui [--station FILE] [--sim]`: open the lab GUI."""

from __future__ import annotations

import argparse
import sys

from pcsdaq.errors import ConfigError


def main(argv: list[str]) -> int:
    """Entry point for ``pcsdaq gui``; returns the Qt exit code."""
    parser = argparse.ArgumentParser(prog="pcsdaq gui", description="the lab GUI")
    parser.add_argument("--station", help="station YAML file")
    parser.add_argument("--sim", action="store_true", help="use the in-process simulated lab")
    args = parser.parse_args(argv)
    from PyQt6 import QtWidgets

    from pcsdaq.gui.main_window import MainWindow

    engine = None
    if args.station or args.sim:
        engine = _build_engine(args.station, args.sim)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    win = MainWindow(engine)
    win.resize(1100, 750)
    win.show()
    return app.exec()


def _build_engine(station_file: str | None, sim: bool):
    """Build station (+ simulated lab) and run engine; ConfigError if unavailable."""
    try:
        from pcsdaq.runner.engine import RunEngine
        from pcsdaq.station import Station
    except ImportError as exc:
        raise ConfigError(f"run engine/station not available: {exc}") from exc
    path = station_file or "configs/station-sim.yaml"
    factory = None
    if sim or path.endswith("station-sim.yaml"):
        from pcsdaq.sim.lab import SimLab

        lab = SimLab.from_station_file(path)
        factory = lab.adapter_factory()
    station = Station.from_file(path, adapter_factory=factory)
    return RunEngine(station, "data")
