"""Speed of a pcsdaq bias sweep streaming to HDF5, against plain pymeasure, and the storage cost.

Run: ``python benchmarks/bench_sweep.py [--points N] [--repeats R] [--quick]``. Prints numbers
only (no assertions; the machine is shared). Sections:

1. storage: per-point cost of append + flush for 12 float64 columns, for the candidate
   HDF5 layouts side by side (why RunWriter keeps one 2D ``rows`` dataset), RunWriter itself,
   and a CSV line written and flushed (what pymeasure's Recorder does per point);
2. sweep: points/s of a bias sweep on the in-process emulators (zero instrument delay,
   VirtualClock) with pcsdaq (drivers + RunWriter, durable per point) and with a plain
   pymeasure Procedure + Worker writing CSV via its SR830 ``x``/``y`` and Keithley2000
   ``voltage``; the ratio and the software overhead per point beyond instrument I/O;
3. settle: with a real-time clock and a 3 ms / 24 dB/oct lock-in, the total sweep time
   against N x settle time.

Medians over ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np

N_COLUMNS = 12


def median_of(fn: Callable[[], float], repeats: int) -> float:
    """Median of ``repeats`` calls of ``fn`` (each returns a time in s)."""
    return statistics.median(fn() for _ in range(repeats))


# -- 1. storage layouts -------------------------------------------------------------------
def _layout_per_column(path: Path, n: int, file_flush: bool) -> float:
    with h5py.File(path, "w", libver="latest") as f:
        cols = [f.create_dataset(f"c{i}", shape=(0,), maxshape=(None,), chunks=(256,),
                                 dtype="f8") for i in range(N_COLUMNS)]
        f.swmr_mode = True
        row = np.arange(N_COLUMNS, dtype=float)
        t0 = time.perf_counter()
        for k in range(n):
            for i, ds in enumerate(cols):
                ds.resize((k + 1,))
                ds[k] = row[i]
                if not file_flush:
                    ds.flush()
            if file_flush:
                f.flush()
        return (time.perf_counter() - t0) / n


def _layout_2d(path: Path, n: int, file_flush: bool) -> float:
    with h5py.File(path, "w", libver="latest") as f:
        ds = f.create_dataset("rows", shape=(0, N_COLUMNS), maxshape=(None, N_COLUMNS),
                              chunks=(256, N_COLUMNS), dtype="f8")
        f.swmr_mode = True
        row = np.arange(N_COLUMNS, dtype=float).reshape(1, N_COLUMNS)
        t0 = time.perf_counter()
        for k in range(n):
            ds.resize(k + 1, axis=0)
            ds.write_direct(row, dest_sel=np.s_[k : k + 1])
            if file_flush:
                f.flush()
            else:
                ds.flush()
        return (time.perf_counter() - t0) / n


def _layout_2d_lowlevel(path: Path, n: int) -> float:
    with h5py.File(path, "w", libver="latest") as f:
        ds = f.create_dataset("rows", shape=(0, N_COLUMNS), maxshape=(None, N_COLUMNS),
                              chunks=(256, N_COLUMNS), dtype="f8")
        f.swmr_mode = True
        row = np.arange(N_COLUMNS, dtype=float).reshape(1, N_COLUMNS)
        mspace = h5py.h5s.create_simple((1, N_COLUMNS))
        dsid = ds.id
        t0 = time.perf_counter()
        for k in range(n):
            dsid.set_extent((k + 1, N_COLUMNS))
            fspace = dsid.get_space()
            fspace.select_hyperslab((k, 0), (1, N_COLUMNS))
            dsid.write(mspace, fspace, row)
            dsid.flush()
        return (time.perf_counter() - t0) / n


def _run_writer(path: Path, n: int) -> float:
    from pcsdaq.storage import RunWriter

    columns = {f"c{i}": "V" for i in range(N_COLUMNS)}
    row = {f"c{i}": float(i) for i in range(N_COLUMNS)}
    with RunWriter(path, procedure="bench", columns=columns) as w:
        w.begin_segment("s")
        t0 = time.perf_counter()
        for _ in range(n):
            w.append(row)
        return (time.perf_counter() - t0) / n


def _csv_lines(path: Path, n: int) -> float:
    with open(path, "w") as fh:
        t0 = time.perf_counter()
        for k in range(n):
            fh.write(",".join(repr(float(k + i)) for i in range(N_COLUMNS)) + "\n")
            fh.flush()
        return (time.perf_counter() - t0) / n


def bench_storage(tmp: Path, n: int, repeats: int) -> None:
    """Print the per-point append+flush cost of each layout (ms per point)."""
    print(f"\n[1] storage: append + flush of one row of {N_COLUMNS} float64 columns, "
          f"{n} rows, median of {repeats}")
    cases = {
        "12 x 1D datasets, Dataset.flush() each": lambda: _layout_per_column(
            tmp / "a.h5", n, False),
        "12 x 1D datasets, one File.flush()": lambda: _layout_per_column(tmp / "b.h5", n, True),
        "one 2D dataset, Dataset.flush()": lambda: _layout_2d(tmp / "c.h5", n, False),
        "one 2D dataset, File.flush()": lambda: _layout_2d(tmp / "d.h5", n, True),
        "one 2D dataset, low-level h5py calls": lambda: _layout_2d_lowlevel(tmp / "g.h5", n),
        "RunWriter.append (2D + SWMR, dict row)": lambda: _run_writer(tmp / "e.h5", n),
        "CSV line write + flush (pymeasure-style)": lambda: _csv_lines(tmp / "f.csv", n),
    }
    for label, fn in cases.items():
        print(f"    {label:<44s} {median_of(fn, repeats) * 1e3:7.3f} ms/point")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark sections and print the numbers."""
    parser = argparse.ArgumentParser(prog="bench_sweep", description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1000, help="points per sweep / rows")
    parser.add_argument("--repeats", type=int, default=5, help="runs per number (median)")
    parser.add_argument("--quick", action="store_true", help="few points, 3 repeats")
    args = parser.parse_args(argv)
    if args.quick:
        args.points, args.repeats = 200, 3
    print(f"pcsdaq sweep benchmark: python {sys.version.split()[0]}, h5py {h5py.__version__}, "
          f"HDF5 {h5py.version.hdf5_version}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="pcsdaq-bench-") as tmpdir:
        tmp = Path(tmpdir)
        bench_storage(tmp, args.points, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
