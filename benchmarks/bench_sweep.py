"""Speed of a pcsdaq bias sweep streaming to HDF5, against plain pymeasure, and the storage cost.

Run: ``python benchmarks/bench_sweep.py [--points N] [--repeats R] [--quick]``. Prints numbers
only (no assertions; the machine is shared). Sections:

1. storage: per-point cost of append + flush for 12 float64 columns, for the candidate
   HDF5 layouts and write calls side by side (why RunWriter keeps one 2D ``rows`` dataset
   and writes its current chunk whole), RunWriter itself,
   and a CSV line written and flushed (what pymeasure's Recorder does per point);
2. sweep: points/s of a bias sweep on the in-process emulators on a VirtualClock (zero
   instrument delay: settle waits and the DMM's integration pass on the lab clock and cost
   no wall time) with pcsdaq (BiasSweep run by the RunEngine on a Station, every point
   durable in HDF5 with the full run record) and with a plain pymeasure Procedure + Worker
   writing CSV via its SR830 ``x``/``y`` and Keithley2000 ``voltage``, both waiting the same
   settle time per point on the lab clock; the ratio and the software overhead per point
   beyond instrument I/O; and the same pcsdaq BiasSweep run by pymeasure's Worker (its
   ``execute_on`` through the PymeasureContext, pymeasure's CSV) against the RunEngine path;
3. settle: with a real-time clock and a 3 ms / 24 dB/oct lock-in, the total sweep time
   against N x settle time;
4. live fit: the same real-time sweep of a superconducting contact at base temperature
   with the live BTK fit (pcsdaq.runner.live_fit: a worker process refits the newest
   points) and without, alternated in one run: the sweep's time against its settle waits
   for both, and how far behind the data the fit shown is (updates and points).

Medians over ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
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


def _layout_2d_direct_chunk(path: Path, n: int) -> float:
    with h5py.File(path, "w", libver="latest") as f:
        ds = f.create_dataset("rows", shape=(0, N_COLUMNS), maxshape=(None, N_COLUMNS),
                              chunks=(256, N_COLUMNS), dtype="f8")
        f.swmr_mode = True
        chunk = np.full((256, N_COLUMNS), np.nan)
        dsid = ds.id
        t0 = time.perf_counter()
        for k in range(n):
            chunk[k % 256] = np.arange(N_COLUMNS, dtype=float)
            dsid.set_extent((k + 1, N_COLUMNS))
            dsid.write_direct_chunk((k - k % 256, 0), chunk)
            dsid.flush()
        return (time.perf_counter() - t0) / n


def _run_writer(path: Path, n: int) -> float:
    from pcsdaq.storage import RunWriter

    columns = {f"c{i}": "V" for i in range(N_COLUMNS)}
    row = {f"c{i}": float(i) for i in range(N_COLUMNS)}
    path.unlink(missing_ok=True)  # RunWriter never overwrites
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
        "one 2D dataset, whole chunk H5Dwrite_chunk": lambda: _layout_2d_direct_chunk(
            tmp / "h.h5", n),
        "RunWriter.append (2D + SWMR, dict row)": lambda: _run_writer(tmp / "e.h5", n),
        "CSV line write + flush (pymeasure-style)": lambda: _csv_lines(tmp / "f.csv", n),
    }
    for label, fn in cases.items():
        print(f"    {label:<44s} {median_of(fn, repeats) * 1e3:7.3f} ms/point")


# -- 2. bias sweep: pcsdaq vs plain pymeasure, on the in-process emulators --------------------
STATION = Path(__file__).resolve().parents[1] / "configs" / "station-sim.yaml"
SWEEP_COLUMNS = {
    "bias_current": "A", "aux_voltage": "V", "X": "V", "Y": "V", "dIdV": "S", "V_dc": "V",
    "temperature": "K", "field": "T", "time": "s", "sensitivity": "V", "time_constant": "s",
    "overload": "",
}


MODE: dict[str, str] = {}
#: seconds from the first to the last point of each sweep (without file open/close)
LOOP_TIMES: dict[str, list[float]] = {"pcsdaq": [], "pymeasure": [], "pcsdaq_worker": []}


def make_lab(clock):
    """The simulated lab of the sim station file, on ``clock``."""
    from pcsdaq.sim.lab import SimLab

    MODE["lab"] = "pcsdaq.sim.lab in-process emulators, needle in contact (~30 Ohm)"
    lab = SimLab.from_station_file(STATION, clock=clock)
    lab.contact.place()  # both sides measure the same superconducting contact
    lab.cryostat.set_temperature(lab.cryostat.base_K)  # a steady stage, as during a sweep
    return lab


def pcsdaq_instruments(lab):
    """(lockin, bias, dmm) pcsdaq drivers on the lab's in-process adapters."""
    import yaml

    from pcsdaq.drivers import SR830, Keithley2000, SR830AuxBias

    roles = yaml.safe_load(STATION.read_text())["roles"]
    lockin = SR830(lab.adapter("sr830"), settings=roles["lockin"].get("settings"),
                   limits=roles["lockin"].get("limits"))
    bias = SR830AuxBias(lockin, settings=roles["bias"].get("settings"),
                        limits=roles["bias"].get("limits"))
    dmm = Keithley2000(lab.adapter("keithley2000"), settings=roles["dmm"].get("settings"),
                       limits=roles["dmm"].get("limits"))
    return lockin, bias, dmm


#: the sweep's settle wait per point: 10 time constants of 10 us (24 dB/oct), what the pcsdaq
#: BiasSweep below waits. Every loop of section 2 waits it on the lab's VirtualClock (no wall
#: time; the emulators simulate the elapsed time), as pymeasure's examples sleep(self.delay)
#: per point: the same physical waits on both sides, so only the software differs.
SETTLE_S = 10 * 1e-5


def _currents(n: int) -> np.ndarray:
    return np.linspace(-2e-3, 2e-3, n)


def pcsdaq_io_only(lab, n: int) -> float:
    """Seconds for the sweep's instrument transactions alone (no storage, no bookkeeping)."""
    lockin, bias, dmm = pcsdaq_instruments(lab)
    clock = lab.clock
    t0 = time.perf_counter()
    for current in _currents(n):
        bias.set_current(float(current))
        clock.sleep(SETTLE_S)
        lockin.read_xy()
        dmm.read_voltage()
    return time.perf_counter() - t0


def pcsdaq_engine_sweep(lab, n: int, data_dir: Path, time_constant_s: float = 1e-5,
                        slope_db: int = 24) -> tuple[float, float, float]:
    """The real thing: a BiasSweep run by the RunEngine on a Station of pcsdaq drivers, every
    point appended durably to HDF5 with the full run record. Returns (whole run s, first to
    last point s, the settle waits the sweep asked for in s)."""
    from pcsdaq.runner.engine import RunEngine
    from pcsdaq.runner.plan import PlanStep
    from pcsdaq.station import Station

    station = Station.from_file(STATION, adapter_factory=lab.adapter_factory(), clock=lab.clock)
    engine = RunEngine(station, data_dir, live_fit=False)  # section 4 measures the live fit
    engine.queue = [PlanStep("bias_sweep", {
        "n_points": n, "max_current_A": 2e-3, "time_constant_s": time_constant_s,
        "filter_slope_db": slope_db, "sensitivity_V": 1e-3, "env_interval_s": 3600.0})]
    stamps: list[float] = []
    engine.subscribe(lambda ev: stamps.append(time.perf_counter()) if ev["type"] == "point"
                     else None)
    t0 = time.perf_counter()
    state = engine.run_blocking()
    whole = time.perf_counter() - t0
    station.close()
    if state != "finished" or len(stamps) != n:
        raise RuntimeError(f"pcsdaq sweep {state}: {engine.reason} ({len(stamps)} points)")
    waits = (n + 2) * station.lockin.settle_time()  # the first point waits 3 settle times
    return whole, stamps[-1] - stamps[0], waits


def pcsdaq_worker_sweep(lab, n: int, path: Path) -> float:
    """The same BiasSweep as :func:`pcsdaq_engine_sweep`, run by pymeasure's Worker writing
    pymeasure's CSV (execute() -> execute_on through the PymeasureContext). Returns the whole
    run in s; the first-to-last point time goes to LOOP_TIMES["pcsdaq_worker"]."""
    import threading

    from pymeasure.experiment import Results
    from pymeasure.experiment.workers import Worker

    from pcsdaq.procedures import BiasSweep
    from pcsdaq.station import Station

    station = Station.from_file(STATION, adapter_factory=lab.adapter_factory(), clock=lab.clock)
    sweep = BiasSweep.from_parameters({
        "n_points": n, "max_current_A": 2e-3, "time_constant_s": 1e-5, "filter_slope_db": 24,
        "sensitivity_V": 1e-3, "env_interval_s": 3600.0}).use_station(station)
    worker = Worker(Results(sweep, str(path)))
    stamps: list[float] = []
    emit = worker.emit

    def stamped(topic, record):
        if topic == "results":
            stamps.append(time.perf_counter())
        emit(topic, record)

    worker.emit = stamped  # the Worker hands its emit to the procedure when it starts
    t0 = time.perf_counter()
    worker.start()
    threading.Thread.join(worker, 3600)
    whole = time.perf_counter() - t0
    station.close()
    rows = sum(1 for line in path.read_text().splitlines() if line and not line.startswith("#"))
    if len(stamps) != n or rows - 1 != n:
        raise RuntimeError(f"pcsdaq sweep in pymeasure's Worker: {len(stamps)} points, "
                           f"{rows - 1} rows, expected {n}")
    LOOP_TIMES["pcsdaq_worker"].append((stamps[-1] - stamps[0]) * n / (n - 1))
    return whole


def pymeasure_io_only(lab, n: int) -> float:
    """Seconds for the pymeasure-driver transactions of the sweep alone."""
    from pymeasure.instruments.keithley import Keithley2000 as PmKeithley2000
    from pymeasure.instruments.srs import SR830 as PmSR830

    lockin, dmm = PmSR830(lab.adapter("sr830")), PmKeithley2000(lab.adapter("keithley2000"))
    clock = lab.clock
    t0 = time.perf_counter()
    for current in _currents(n):
        lockin.aux_out_1 = float(current) * 1e3  # 1 kOhm series resistor
        clock.sleep(SETTLE_S)
        _ = lockin.x, lockin.y
        _ = dmm.voltage
    return time.perf_counter() - t0


def pymeasure_worker(lab, n: int, path: Path) -> float:
    """Seconds for the same sweep as a pymeasure Procedure run by a Worker writing CSV."""
    from pymeasure.experiment import FloatParameter, IntegerParameter, Procedure, Results
    from pymeasure.experiment.workers import Worker
    from pymeasure.instruments.keithley import Keithley2000 as PmKeithley2000
    from pymeasure.instruments.srs import SR830 as PmSR830

    class PymeasureBiasSweep(Procedure):
        """Bias sweep written the way pymeasure's examples write one (the loop of
        examples/Current-Voltage Measurements/iv_keithley.py: set the source, sleep the
        delay, read, emit the results and the progress, check should_stop)."""

        max_current = FloatParameter("Maximum current", units="A", default=2e-3)
        n_points = IntegerParameter("Points", default=n)
        delay = FloatParameter("Settle delay", units="s", default=SETTLE_S)
        DATA_COLUMNS = ["Current (A)", "X (V)", "Y (V)", "Voltage (V)"]

        def startup(self):
            self.lockin = PmSR830(lab.adapter("sr830"))
            self.dmm = PmKeithley2000(lab.adapter("keithley2000"))

        def execute(self):
            t_loop = time.perf_counter()
            currents = np.linspace(-self.max_current, self.max_current, self.n_points)
            for i, current in enumerate(currents):
                self.lockin.aux_out_1 = float(current) * 1e3
                lab.clock.sleep(self.delay)  # sleep(self.delay), on the simulated lab's clock
                self.emit("results", {"Current (A)": current, "X (V)": self.lockin.x,
                                      "Y (V)": self.lockin.y, "Voltage (V)": self.dmm.voltage})
                self.emit("progress", 100.0 * i / len(currents))
                if self.should_stop():
                    break
            LOOP_TIMES["pymeasure"].append(time.perf_counter() - t_loop)

    results = Results(PymeasureBiasSweep(), str(path))
    worker = Worker(results)
    t0 = time.perf_counter()
    worker.start()
    worker.join(timeout=3600)
    elapsed = time.perf_counter() - t0
    rows = sum(1 for line in path.read_text().splitlines() if line and not line.startswith("#"))
    if rows - 1 != n:
        raise RuntimeError(f"pymeasure wrote {rows - 1} rows, expected {n}")
    return elapsed


def bench_sweep(tmp: Path, n: int, repeats: int) -> None:
    """Print points/s of pcsdaq and pymeasure sweeps and the per-point software overhead."""
    from pcsdaq.clock import VirtualClock

    print(f"\n[2] bias sweep of {n} points on the in-process emulators (VirtualClock: zero "
          f"instrument delay in wall time), each point waiting {SETTLE_S * 1e3:g} ms of "
          f"virtual settle time, median of {repeats}")
    counter = iter(range(10**6))

    def fresh(fn, *args):
        return lambda: fn(make_lab(VirtualClock()), n, *args)

    def path(ext):
        return lambda: tmp / f"sweep{next(counter)}.{ext}"

    t_io = median_of(fresh(pcsdaq_io_only), repeats)
    runs = [pcsdaq_engine_sweep(make_lab(VirtualClock()), n, tmp / f"engine{k}")
            for k in range(repeats)]
    t_pc = statistics.median(r[0] for r in runs)
    LOOP_TIMES["pcsdaq"] = [r[1] * n / (n - 1) for r in runs]  # n points, n - 1 intervals
    t_pm_io = median_of(fresh(pymeasure_io_only), repeats)
    t_pm = median_of(lambda: pymeasure_worker(make_lab(VirtualClock()), n, path("csv")()),
                     repeats)
    t_pw = median_of(lambda: pcsdaq_worker_sweep(make_lab(VirtualClock()), n, path("csv")()),
                     repeats)
    loop_pc = statistics.median(LOOP_TIMES["pcsdaq"])
    loop_pm = statistics.median(LOOP_TIMES["pymeasure"])
    loop_pw = statistics.median(LOOP_TIMES["pcsdaq_worker"])
    print(f"    (lab: {MODE.get('lab')})")
    print(f"    {'per point, ms':<38s} whole run   in the loop   I/O alone   points/s")
    for label, whole, loop, io in (("pcsdaq BiasSweep+engine+HDF5", t_pc, loop_pc, t_io),
                                   ("pcsdaq BiasSweep+pymeasure Worker+CSV", t_pw, loop_pw, t_io),
                                   ("pymeasure Procedure+Worker+CSV", t_pm, loop_pm, t_pm_io)):
        print(f"    {label:<38s} {whole / n * 1e3:9.3f} {loop / n * 1e3:13.3f} "
              f"{io / n * 1e3:11.3f} {n / whole:10.0f}")
    print(f"    ratio of points/s pcsdaq/pymeasure: whole run {t_pm / t_pc:.2f}, "
          f"in the loop {loop_pm / loop_pc:.2f}")
    print(f"    the BiasSweep in pymeasure's Worker against the RunEngine: points/s ratio whole "
          f"run {t_pc / t_pw:.2f}, in the loop {loop_pc / loop_pw:.2f}")
    print(f"    software overhead per point beyond instrument I/O (in the loop): "
          f"pcsdaq {(loop_pc - t_io) / n * 1e3:.3f} ms, "
          f"pymeasure {(loop_pm - t_pm_io) / n * 1e3:.3f}"
          f" ms (pymeasure's CSV is written later by its Recorder thread, not per point)")


# -- 3. realistic settling ---------------------------------------------------------------------
def bench_settle(tmp: Path, n: int, repeats: int) -> None:
    """Print the total time of a real-time sweep with 3 ms / 24 dB/oct settling vs N x settle,
    split into the excess per point and the fixed cost per run."""
    from pcsdaq.clock import ScaledClock

    print(f"\n[3] real-time sweep of {n} points, lock-in 3 ms / 24 dB/oct, median of {repeats}")
    runs = []
    for k in range(repeats):
        lab = make_lab(ScaledClock(1.0))
        runs.append(pcsdaq_engine_sweep(lab, n, tmp / f"settle{k}", time_constant_s=3e-3))
    total = statistics.median(r[0] for r in runs)
    loop = statistics.median(r[1] for r in runs)
    waits = runs[0][2]
    settle = waits / (n + 2)
    per_point = loop / (n - 1) - settle
    fixed = statistics.median(r[0] - r[2] - n * (r[1] / (n - 1) - settle) for r in runs)
    print(f"    settle time per point {settle * 1e3:.1f} ms (10 tau at 24 dB/oct); the sweep's "
          f"waits add to {waits:.3f} s (N + 2 settle times: the first point waits 3)")
    print(f"    whole run {total:.3f} s: ratio to the waits {total / waits:.4f}")
    print(f"    first to last point {loop:.3f} s vs {(n - 1) * settle:.3f} s of waits: ratio "
          f"{loop / ((n - 1) * settle):.4f}, {per_point * 1e3:.3f} ms a point beyond the wait")
    print(f"    fixed per run (plan check, run file made and closed, lock-in set up, bias back "
          f"to zero): {fixed * 1e3:.1f} ms; the whole run is within 1 % of the waits from N = "
          f"{fixed / max(0.01 * settle - per_point, 1e-12):.0f} points on")


# -- 4. live fit ---------------------------------------------------------------------------
def live_fit_sweep(n: int, data_dir: Path, live: bool) -> tuple[float, float, float, list]:
    """A real-time BiasSweep of ``n`` points (3 ms / 24 dB/oct) across the gap of the
    simulated contact at base temperature, live fit on or off. Returns (whole run s, first
    to last point s, the settle waits s, the live_fit events with the point count then)."""
    from pcsdaq.clock import ScaledClock
    from pcsdaq.runner.engine import RunEngine
    from pcsdaq.runner.plan import PlanStep
    from pcsdaq.station import Station

    lab = make_lab(ScaledClock(1.0))
    station = Station.from_file(STATION, adapter_factory=lab.adapter_factory(), clock=lab.clock)
    engine = RunEngine(station, data_dir, live_fit=live)
    engine.queue = [PlanStep("bias_sweep", {
        "n_points": n, "max_current_A": 5e-4, "time_constant_s": 3e-3,
        "filter_slope_db": 24, "sensitivity_V": 1e-5, "env_interval_s": 3600.0})]
    stamps: list[float] = []
    fits: list[dict] = []

    def watch(ev: dict) -> None:
        if ev["type"] == "point":
            stamps.append(time.perf_counter())
        elif ev["type"] == "live_fit":
            fits.append(ev)

    engine.subscribe(watch)
    t0 = time.perf_counter()
    state = engine.run_blocking()
    whole = time.perf_counter() - t0
    station.close()
    if state != "finished" or len(stamps) != n:
        raise RuntimeError(f"live-fit sweep {state}: {engine.reason} ({len(stamps)} points)")
    waits = (n + 2) * station.lockin.settle_time()
    return whole, stamps[-1] - stamps[0], waits, fits


def updates_behind(fits: list[dict]) -> list[int]:
    """For each fit shown: how many later fits were computed on data that had all arrived
    when it was shown (a queue of stale requests would make this grow; newest-snapshot-only
    keeps it at 0 or 1)."""
    return [sum(1 for later in fits[k + 1:]
                if fit["n_points"] < later["n_points"] <= fit["n_acquired"])
            for k, fit in enumerate(fits)]


def data_lag(fits: list[dict]) -> list[float]:
    """For each fit shown but a sweep's first: the points acquired and not yet in it, in
    units of the sweep's median update (points between consecutive fits). The first fit
    waits for the worker's start."""
    spacing = np.diff([f["n_points"] for f in fits])
    step = float(np.median(spacing)) if spacing.size else 1.0
    return [(f["n_acquired"] - f["n_points"]) / max(step, 1.0) for f in fits[1:]]


def bench_live_fit(tmp: Path, n: int, repeats: int) -> None:
    """Print the sweep time against its settle waits with and without the live fit
    (alternated runs, medians) and how far behind the data the live fit shown is."""
    from pcsdaq.runner.live_fit import MIN_POINTS

    print(f"\n[4] live BTK fit: real-time sweep of {n} points across the gap, lock-in 3 ms / "
          f"24 dB/oct, live fit off and on alternated, median of {repeats}")
    ratios: dict[bool, list[float]] = {False: [], True: []}
    wholes: dict[bool, list[float]] = {False: [], True: []}
    behind: list[int] = []
    lag: list[float] = []
    first_lag: list[int] = []
    n_updates: list[int] = []
    last: list[dict] = []
    for k in range(repeats):
        for live in (False, True):
            whole, loop, waits, fits = live_fit_sweep(n, tmp / f"live{k}{int(live)}", live)
            ratios[live].append(loop / ((n - 1) * waits / (n + 2)))
            wholes[live].append(whole / waits)
            if live:
                behind += updates_behind(fits)
                lag += data_lag(fits)
                first_lag += [fits[0]["n_acquired"] - fits[0]["n_points"]] if fits else []
                n_updates.append(len(fits))
                last = fits
    off, on = statistics.median(ratios[False]), statistics.median(ratios[True])
    print(f"    first to last point / settle waits: without live fit {off:.4f}, with "
          f"{on:.4f}: the live fit changes it by {100 * (on / off - 1):+.2f} %")
    print(f"    whole run / waits: without {statistics.median(wholes[False]):.4f}, with "
          f"{statistics.median(wholes[True]):.4f} (with: the worker's start and the wait "
          f"for the final fit after the last point)")
    print(f"    updates per sweep: median {statistics.median(n_updates):.0f}; the fit shown "
          f"is at most {max(behind, default=0)} update(s) behind the data (later fits on "
          f"data already there when it was shown)")
    print(f"    points acquired but not in the fit shown, in updates' worth of points: median "
          f"{statistics.median(lag or [0]):.2f}, 95th percentile "
          f"{np.percentile(lag or [0], 95):.2f}, max {max(lag, default=0):.2f} (a slow fit: "
          f"a degenerate verdict adds the equal-chi2 profile); the first fit (from "
          f"{MIN_POINTS} points) waits for the worker's start: shown "
          f"{statistics.median(first_lag or [0]):.0f} points later")
    if last:
        f = last[-1]
        print(f"    last fit: Delta {f['delta_meV']:.4f} +- {f['delta_err_meV']:.4f} meV, "
              f"Z {f['Z']:.3f}, Gamma {f['gamma_meV']:.3f} meV, {f['verdict']}, "
              f"{f['n_points']} points, {f['fit_s'] * 1e3:.0f} ms in the worker")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark sections and print the numbers."""
    parser = argparse.ArgumentParser(prog="bench_sweep", description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1000, help="points per sweep / rows")
    parser.add_argument("--repeats", type=int, default=5, help="runs per number (median)")
    parser.add_argument("--quick", action="store_true", help="few points, 3 repeats")
    parser.add_argument("--only", choices=["1", "2", "3", "4"], help="run one section")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=FutureWarning, module="pymeasure")
    if args.quick:
        args.points, args.repeats = 200, 3
    print(f"pcsdaq sweep benchmark: python {sys.version.split()[0]}, h5py {h5py.__version__}, "
          f"HDF5 {h5py.version.hdf5_version}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="pcsdaq-bench-") as tmpdir:
        tmp = Path(tmpdir)
        sections = {"1": lambda: bench_storage(tmp, args.points, args.repeats),
                    "2": lambda: bench_sweep(tmp, args.points, args.repeats),
                    "3": lambda: bench_settle(tmp, max(40, args.points // 5), args.repeats),
                    "4": lambda: bench_live_fit(tmp, max(100, args.points // 2),
                                                args.repeats)}
        for key, section in sections.items():
            if args.only in (None, key):
                section()
    return 0


if __name__ == "__main__":
    sys.exit(main())
