"""Fit speed of this checkout against another one, measured side by side.

On a machine shared with other work, a number measured now and one measured an hour ago do
not compare; this runs the same measurements on both checkouts in alternation (each round a
fresh process per checkout) and prints the medians over the rounds and their ratios:
CPU time of a 5-parameter spin fit and of a 4-parameter BTK fit (400 points at 2 K, median
of 21), CPU time per spectrum of fit_spectrum (spin model, 50 spectra) and the wall time of
a batch of 200 spectra on 2 worker processes. CPU time is what the fit costs; wall time
also counts what the other processes on the machine take.
Run: python benchmarks/compare_fit.py OTHER_CHECKOUT [--rounds 3]
(OTHER_CHECKOUT: a directory holding an older pcsdaq/, e.g. from ``git worktree add`` or
``git archive REV pcsdaq | tar -x -C DIR``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

PROBE = r"""
import json, os, statistics, time
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(v, "1")
import numpy as np
from pcsdaq.analysis.batch import fit_chunk, fit_many
from pcsdaq.analysis.btk_fit import fit_btk
from pcsdaq.analysis.model_fit import fit_model
from pcsdaq.physics import andreev, btk

T = 2.0
bias = np.linspace(-8, 8, 400)
rng = np.random.default_rng(5)
gs = andreev.spin_conductance(bias, 2.0, 0.5, 0.1, 0.4, T) * (1 + 0.003 * rng.standard_normal(400))
gb = btk.conductance(bias, 2.0, 0.5, 0.1, T) * (1 + 0.003 * rng.standard_normal(400))


def cpu_ms(fn, reps=21):
    fn()
    times = []
    for _ in range(reps):
        t0 = time.process_time()
        fn()
        times.append((time.process_time() - t0) * 1e3)
    return statistics.median(times)


jobs = []
for k in range(200):
    g = andreev.spin_conductance(bias, 2.0, 0.5, 0.1, 0.09 * (k % 10), T)
    jobs.append((bias * 1e-3, g * (1 + 0.003 * rng.standard_normal(400)), T,
                 {"model": "spin", "normalized": True}))
fit_chunk(jobs[:2])
t0 = time.process_time()
fit_chunk(jobs[:50])
per_spectrum = (time.process_time() - t0) / 50 * 1e3
t0 = time.perf_counter()
fit_many(jobs, workers=2)
batch = time.perf_counter() - t0
print(json.dumps({
    "spin fit CPU ms": cpu_ms(lambda: fit_model(bias, gs, T, model="spin")),
    "btk fit CPU ms": cpu_ms(lambda: fit_btk(bias * 1e-3, gb, T)),
    "fit_spectrum CPU ms": per_spectrum,
    "batch of 200 on 2 workers, wall s": batch,
    "P": fit_model(bias, gs, T, model="spin").values["P"],
}))
"""


def measure(tree: Path) -> dict:
    """One round of the probe in a fresh process importing pcsdaq from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=tree, env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    """Alternate the two checkouts, then print medians and ratios (this / other)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path, help="checkout to compare against")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {"this": [], "other": []}
    for _ in range(args.rounds):
        runs["other"].append(measure(args.other.resolve()))
        runs["this"].append(measure(HERE))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"medians of {args.rounds} alternating rounds (load average {load:.1f}):")
    for key in runs["this"][0]:
        this = statistics.median(r[key] for r in runs["this"])
        other = statistics.median(r[key] for r in runs["other"])
        ratio = f"ratio {this / other:.2f}" if key != "P" else "(fitted P, true 0.4)"
        print(f"  {key:36s} this {this:8.3f}   other {other:8.3f}   {ratio}")


if __name__ == "__main__":
    main()
