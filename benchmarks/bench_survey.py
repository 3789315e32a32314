"""A simulated 12-hour night of the example survey plan: how many contacts it characterises.

    python benchmarks/bench_survey.py [--data DIR] [--sim inprocess|tcp]

Runs ``pcsdaq run configs/plan-survey.example.yaml`` on the simulated lab (virtual clock,
time scale 0) and prints, from the survey's CSV: the spots visited, the contacts
characterised (ballistic, intermediate or thermal with a Tc), the regimes, the lab hours
spent and the wall-clock time. The issue asks for >= 20 contacts in a 12-hour night.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from collections import Counter
from pathlib import Path

from pcsdaq.cli import main as pcsdaq
from pcsdaq.station import packaged_config


def run(data: Path, sim: str) -> None:
    """Run the example plan into ``data`` and print the numbers."""
    t0 = time.perf_counter()
    code = pcsdaq(["run", str(packaged_config("plan-survey.example.yaml")), "--sim", sim,
                   "--time-scale", "0", "--data", str(data)])
    wall = time.perf_counter() - t0
    (path,) = data.glob("survey-*.csv")
    with path.open() as f:
        rows = list(csv.DictReader(f))
    done = [r for r in rows if r["regime"] in ("ballistic", "intermediate", "thermal")
            and r["tc_K"]]
    hours = float(rows[-1]["lab_time_s"]) / 3600.0 if rows else 0.0
    print(f"exit code {code}; summary {path}")
    print(f"regimes: {dict(Counter(r['regime'] for r in rows))}")
    print(f"spots visited: {len(rows)}; contacts characterised: {len(done)}; lab time: "
          f"{hours:.2f} h; wall clock: {wall:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--sim", choices=["inprocess", "tcp"], default="inprocess")
    args = parser.parse_args()
    if args.data is None:
        with tempfile.TemporaryDirectory() as tmp:
            run(Path(tmp), args.sim)
    else:
        run(args.data, args.sim)
