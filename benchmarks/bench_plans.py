"""The example plans on the in-process simulated lab (virtual clock), per contact regime:
wall and CPU seconds of a whole run, and the cost of one zero-bias reading of the simulated
contact at a new temperature (what an R(T) log asks at every row) from one conductance
value vs the whole current-biased table.

Prints medians of ``--repeat`` runs (default 3)."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from pcsdaq.clock import VirtualClock
from pcsdaq.runner.engine import RunEngine
from pcsdaq.runner.launch import open_station
from pcsdaq.runner.plan import load_plan
from pcsdaq.sim.lab import SimLab
from pcsdaq.station import packaged_config


def run_plan(name: str, regime: str) -> tuple[float, float, int]:
    """(wall s, CPU s, rows) of one run of configs/``name`` with a ``regime`` contact."""
    with tempfile.TemporaryDirectory() as tmp:
        station_file = Path(tmp) / "station.yaml"
        data = yaml.safe_load(packaged_config("station-sim.yaml").read_text())
        data["sim"]["contact_regime"] = regime
        station_file.write_text(yaml.safe_dump(data))
        station, _lab, _ = open_station(station_file, sim="inprocess", time_scale=0)
        engine = RunEngine(station, Path(tmp) / "data")
        rows = []
        engine.subscribe(lambda e: rows.append(1) if e["type"] == "point" else None)
        engine.queue = list(load_plan(packaged_config(name)).steps)
        w0, c0 = time.perf_counter(), time.process_time()
        engine.run_blocking()
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        station.close()
    return wall, cpu, len(rows)


def zero_bias_ms(regime: str, table: bool, n: int = 300) -> float:
    """ms per zero-bias reading at a new temperature (1 K + 6.7 mK per reading)."""
    lab = SimLab({"seed": 7, "contact_regime": regime}, clock=VirtualClock())
    lab.contact.place(40.0, 20.0)
    c = lab.contact
    t0 = time.perf_counter()
    for k in range(n):
        lab.cryostat.set_temperature(1.0 + 0.0067 * k * 10)
        lab.clock.sleep(1e-3)
        if table:
            c._iv(1e-9).response(0.0)
        else:
            c.dvdi_ohm(0.0)
    return (time.perf_counter() - t0) / n * 1e3


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for regime in ("ballistic", "intermediate", "thermal"):
        fast = statistics.median(zero_bias_ms(regime, False) for _ in range(args.repeat))
        slow = statistics.median(zero_bias_ms(regime, True, 60) for _ in range(args.repeat))
        print(f"zero-bias reading, {regime:12s}: {fast:.3f} ms (whole table: {slow:.1f} ms)")
    for name in ("plan-demo.yaml", "plan-overnight.example.yaml"):
        for regime in ("ballistic", "intermediate", "thermal"):
            runs = [run_plan(name, regime) for _ in range(args.repeat)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            print(f"{name:28s} {regime:12s}: {wall:6.1f} s wall, {cpu:6.1f} s CPU, "
                  f"{runs[0][2]} points")


if __name__ == "__main__":
    main()
