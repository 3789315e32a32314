"""``pcsdaq demo``: the demo plan on the simulated lab, then what the files hold and fits.

Runs configs/plan-demo.yaml on an in-process simulated lab with a virtual clock (waits cost
no real time; ``--tcp`` serves the lab on free ports and goes through pyvisa-py, ``--time-scale``
sets a real speed-up), writes the HDF5 files and prints, per file, its procedure, segments,
rows and temperature range, the BTK fits of the spectra and Tc from R(T), next to what the
simulator drew for the contact. ``--contact ballistic|intermediate|thermal`` sets the
simulated contact's regime (and walks the needle to a resistance of that regime).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from pcsdaq.cli_args import OneLineParser, writable_folder
from pcsdaq.procedures import PlanError
from pcsdaq.runner.cli import (
    EXIT_CODES,
    add_run_arguments,
    attach_log_file,
    run_engine_with_signals,
)
from pcsdaq.runner.engine import RunEngine
from pcsdaq.runner.launch import open_station
from pcsdaq.runner.plan import Plan, PlanStep, load_plan, validate_plan
from pcsdaq.runner.progress import ConsoleProgress
from pcsdaq.station import packaged_config
from pcsdaq.storage import read_run


def describe(path: Path) -> list[str]:
    """Lines saying what a run file holds, with fits of its spectra / R(T)."""
    from pcsdaq.analysis.io import AnalysisInputError
    from pcsdaq.analysis.series import critical_current_A
    from pcsdaq.analysis.spectrum_fit import fit_segment
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
            try:
                fit = fit_segment(seg)
                dips = (", dips at " + ", ".join(f"{d:+.2f}" for d in fit["dips_mV"]) + " mV"
                        if fit["dips_mV"] else "")
                ic = critical_current_A(fit["dips_mV"], fit["resistance_ohm"],
                                        fit["dip_integrals"], True, fit.get("dip_currents_A"))
                if ic is not None:
                    dips += f", I_c = {ic * 1e3:.3g} mA"
                lines.append(f"  {seg.name}: T = {fit['temperature_K']:.2f} K, B = "
                             f"{fit['field_T']:.2f} T, BTK fit Delta = "
                             f"{fit['delta_meV']:.3f} +- {fit['delta_meV_err']:.3f} meV, Z = "
                             f"{fit['Z']:.2f}, Gamma = {fit['gamma_meV']:.3f} meV "
                             f"[{fit['verdict']}{dips}]")
            except AnalysisInputError as exc:
                lines.append(f"  {seg.name}: no fit ({exc})")
        elif "R_Ohm" in cols and "temperature_K" in cols and len(cols["R_Ohm"]) >= 10:
            temps = cols["temperature_K"]
            span = f"R(T) {temps.min():.2f}-{temps.max():.2f} K"
            try:
                res = tc_from_rt(temps, cols["R_Ohm"])
                lines.append(f"  {seg.name}: {span}, Tc (two-line crossing) = "
                             f"{res.tc_K:.2f} K, midpoint {res.tc_midpoint_K:.2f} K"
                             + (" (two features)" if res.two_features else ""))
            except ValueError as exc:
                lines.append(f"  {seg.name}: {span}, no Tc ({exc})")
    return lines


#: needle-approach window (Ohm, the zero-bias resistance the approach reads at base
#: temperature, below Tc) whose contact's normal resistance lies in each regime (Wexler, paper
#: convention): below Tc the Maxwell part of a diffusive contact vanishes and Andreev
#: reflection raises the conductance, so the window lies well below the regime's R_N
APPROACH_OHM = {"ballistic": (20.0, 40.0), "intermediate": (2.0, 5.0),
                "thermal": (0.25, 0.45)}
#: a thermal contact's zero-bias resistance is a fraction of R_N: five gaps of bias
#: converted with it would exceed the simulated station's 10 mA; its sweeps cross I_c
#: (~2.5 mA at 2 Ohm) with a current range instead
THERMAL_MAX_CURRENT_A = 8e-3
#: and a tenth of an Ohm needs ten times the AC excitation (1 uA rms) to stand above the
#: lock-in's noise
THERMAL_SINE_VOLTAGE_V = 1.0


def plan_for_regime(plan: Plan, regime: str) -> Plan:
    """The plan with its needle approach aimed at a contact of ``regime`` (APPROACH_OHM);
    for a thermal contact, sweeps asked for a bias range get a current range instead and
    every measuring step a larger excitation (THERMAL_*)."""
    low, high = APPROACH_OHM[regime]
    steps = []
    for step in plan.steps:
        params = dict(step.parameters)
        name = step.name
        if step.procedure == "needle_approach":
            params.update(target_min_ohm=low, target_max_ohm=high)
            name = f"approach to {low:g}-{high:g} Ohm ({regime} contact)"
        elif regime == "thermal":
            if params.pop("max_bias_mV", None) is not None:
                params.pop("dense_bias_mV", None)
                params["max_current_A"] = THERMAL_MAX_CURRENT_A
            params["sine_voltage_V"] = THERMAL_SINE_VOLTAGE_V
        steps.append(PlanStep(step.procedure, params, name))
    return Plan(steps, plan.station_path, plan.data_dir, plan.source)


def describe_truth(truth: dict) -> str:
    """One line: what the simulator drew for the contact."""
    if not truth:
        return "the simulator drew no contact"
    line = (f"the simulator drew this contact: {truth['regime']}, Tc = {truth['tc_K']:.2f} K, "
            f"Delta(0) = {truth['delta0_meV']:.3f} meV, Z = {truth['z']:.2f}, Gamma = "
            f"{truth['gamma_meV']:.3f} meV, Hc2(0) = {truth['hc2_T']:g} T")
    if truth["maxwell_fraction"] > 0:
        line += (f", I_c(0) = {truth['critical_current0_A'] * 1e3:.3g} mA (dips; I_c(T, B) "
                 "= I_c(0) (1 - (T/Tc(B))^2)^1.5, Tc(B) = Tc sqrt(1 - B/Hc2); Maxwell "
                 f"{100 * truth['maxwell_fraction']:.0f} % of R_N)")
    return line


def main(argv: list[str]) -> int:
    """Entry point of ``pcsdaq demo``."""
    parser = OneLineParser(prog="pcsdaq demo", description="Run the demo plan on "
                                     "the simulated lab and show what it measured.")
    parser.add_argument("--data", default="pcsdaq-demo-data", help="data folder")
    parser.add_argument("--tcp", action="store_true",
                        help="serve the simulated lab on TCP ports and go through pyvisa-py")
    parser.add_argument("--plan", default=None, help="another plan (default: plan-demo.yaml)")
    parser.add_argument("--contact", choices=list(APPROACH_OHM), default=None,
                        help="regime of the simulated contact (default: the station file's "
                             "sim contact_regime, else from the contact's diameter)")
    add_run_arguments(parser)
    args = parser.parse_args(argv)
    plan_path = Path(args.plan) if args.plan else packaged_config("plan-demo.yaml")
    plan = load_plan(plan_path)
    if args.contact:
        plan = plan_for_regime(plan, args.contact)
    station_path = plan.station_path or packaged_config("station-sim.yaml")
    data_dir = writable_folder(Path(args.data), "--data")
    scale = 0.0 if args.time_scale is None else args.time_scale
    station, lab, server = open_station(station_path, sim="tcp" if args.tcp else "inprocess",
                                        time_scale=scale)
    assert lab is not None  # a simulated mode always builds the lab
    if args.contact:
        lab.contact.regime_setting = args.contact
    problems = validate_plan(plan, station.config)
    if problems:
        station.close()
        raise PlanError("demo plan invalid: " + "; ".join(problems))
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
    print(describe_truth(lab.contact.truth()))
    print("inspect: pcsdaq export FILE.h5 --csv; fit again: pcsdaq analyze FILE.h5")
    return EXIT_CODES.get(state, 1)
