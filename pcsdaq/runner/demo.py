"""``pcsdaq demo``: the demo plan on the simulated lab, then what the files hold and fits.

Runs configs/plan-demo.yaml on an in-process simulated lab with a virtual clock (waits cost
no real time; ``--tcp`` serves the lab on free ports and goes through pyvisa-py, ``--time-scale``
sets a real speed-up), writes the HDF5 files and prints, per file, its procedure, segments,
rows and temperature range, the BTK fits of the spectra and Tc from R(T), next to what the
simulator drew for the contact.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

from pcsdaq.runner.cli import (
    EXIT_CODES,
    add_run_arguments,
    attach_log_file,
    run_engine_with_signals,
)
from pcsdaq.runner.engine import RunEngine
from pcsdaq.runner.launch import open_station
from pcsdaq.runner.plan import load_plan, validate_plan
from pcsdaq.runner.progress import ConsoleProgress
from pcsdaq.station import packaged_config
from pcsdaq.storage import read_run


def describe(path: Path) -> list[str]:
    """Lines saying what a run file holds, with fits of its spectra / R(T)."""
    from pcsdaq.analysis.btk_fit import fit_btk
    from pcsdaq.analysis.spectra import normalise
    from pcsdaq.analysis.tc import tc_from_rt

    run = read_run(path)
    lines = [f"{path.name}: {run.attrs.get('procedure')} ({run.status}), "
             f"{run.n_rows} rows in {len(run.segments)} segment(s)"]
    meta = run.metadata
    if "contact_resistance_ohm" in meta:
        lines.append(f"  contact R = {meta['contact_resistance_ohm']:.3g} Ohm, d = "
                     f"{meta.get('contact_diameter_nm', math.nan):.3g} nm "
                     f"({meta.get('regime', '?')}, paper convention)")
    for seg in run.segments:
        cols = seg.columns
        if "dIdV_S" in cols and len(cols["dIdV_S"]) >= 8:
            t = float(np.nanmean(cols["temperature_K"]))
            try:
                fit = fit_btk(cols["V_dc_V"], normalise(cols["V_dc_V"], cols["dIdV_S"]), t)
                lines.append(f"  {seg.name}: T = {t:.2f} K, B = "
                             f"{float(np.nanmean(cols['field_T'])):.2f} T, BTK fit Delta = "
                             f"{fit.delta_meV:.3f} +- {fit.delta_meV_err:.3f} meV, Z = "
                             f"{fit.Z:.2f}, Gamma = {fit.gamma_meV:.3f} meV")
            except ValueError as exc:
                lines.append(f"  {seg.name}: no fit ({exc})")
        elif "R_Ohm" in cols and "temperature_K" in cols and len(cols["R_Ohm"]) >= 10:
            temps = cols["temperature_K"]
            span = f"R(T) {temps.min():.2f}-{temps.max():.2f} K"
            try:
                tc = tc_from_rt(temps, cols["R_Ohm"]).tc_K
                lines.append(f"  {seg.name}: {span}, Tc (two-line crossing) = {tc:.2f} K")
            except ValueError as exc:
                lines.append(f"  {seg.name}: {span}, no Tc ({exc})")
    return lines


def main(argv: list[str]) -> int:
    """Entry point of ``pcsdaq demo``."""
    parser = argparse.ArgumentParser(prog="pcsdaq demo", description="Run the demo plan on "
                                     "the simulated lab and show what it measured.")
    parser.add_argument("--data", default="pcsdaq-demo-data", help="data folder")
    parser.add_argument("--tcp", action="store_true",
                        help="serve the simulated lab on TCP ports and go through pyvisa-py")
    parser.add_argument("--plan", default=None, help="another plan (default: plan-demo.yaml)")
    add_run_arguments(parser)
    args = parser.parse_args(argv)
    plan_path = Path(args.plan) if args.plan else packaged_config("plan-demo.yaml")
    plan = load_plan(plan_path)
    station_path = plan.station_path or packaged_config("station-sim.yaml")
    data_dir = Path(args.data)
    scale = 0.0 if args.time_scale is None else args.time_scale
    station, lab, server = open_station(station_path, sim="tcp" if args.tcp else "inprocess",
                                        time_scale=scale)
    assert lab is not None  # a simulated mode always builds the lab
    problems = validate_plan(plan, station.config)
    if problems:
        station.close()
        raise SystemExit("demo plan invalid: " + "; ".join(problems))
    print(f"simulated lab: {lab.config.get('sample')} sample, {lab.config.get('needle')} needle, "
          f"{'TCP via pyvisa-py' if args.tcp else 'in-process'}, "
          f"{'virtual clock' if scale == 0 else f'time x{scale:g}'}")
    log_path = attach_log_file(data_dir)
    t0 = time.monotonic()
    try:
        engine = RunEngine(station, data_dir, plan_source=str(plan_path))
        engine.queue = list(plan.steps)
        engine.subscribe(ConsoleProgress(len(plan.steps)))
        state = run_engine_with_signals(engine)
    finally:
        station.close()
        if server is not None:
            server.close()
    print(f"\ndemo {state} in {time.monotonic() - t0:.1f} s real time, "
          f"{lab.clock.now() / 3600:.2f} h of lab time; data in {data_dir.resolve()} "
          f"(log {log_path.name})")
    for path in engine.files:
        for line in describe(path):
            print(line)
    p = lab.contact.params
    if p is not None:
        print(f"the simulator drew this contact: Tc = {p.tc_K:.2f} K, Delta(0) = "
              f"{p.delta0_meV:.3f} meV, Z = {p.z:.2f}, Gamma = {p.gamma_meV:.3f} meV")
    print("inspect: pcsdaq export FILE.h5 --csv; fit again: pcsdaq analyze FILE.h5")
    return EXIT_CODES.get(state, 1)
