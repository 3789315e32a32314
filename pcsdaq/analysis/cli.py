"""Analysis commands: text in, JSON out (``pcsdaq fit|tc|gap-fit|diameter|analyze``)."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from pcsdaq.analysis.io import AnalysisInputError, read_columns

#: a recorded bias beyond this (V) across a point contact means the file is in mV
MAX_PLAUSIBLE_BIAS_V = 0.5


def _print(result: dict) -> int:
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def fit_main(argv: list[str]) -> int:
    """``pcsdaq fit SPECTRUM.csv --temperature K``: BTK fit of one spectrum -> JSON."""
    parser = argparse.ArgumentParser(prog="pcsdaq fit", description="BTK fit of a dI/dV spectrum "
                                     "(CSV with header and columns bias_V, dIdV).")
    parser.add_argument("spectrum")
    parser.add_argument("--temperature", type=float, required=True, help="sample temperature, K")
    parser.add_argument("--window-mV", type=float, default=None,
                        help="fit only |V| <= this bias, mV (intermediate regime)")
    parser.add_argument("--normalized", action="store_true",
                        help="dIdV is already G/G_N (else divided by its high-bias value)")
    parser.add_argument("--symmetrize", action="store_true", help="average G(V) and G(-V)")
    args = parser.parse_args(argv)
    from pcsdaq.analysis import spectra
    from pcsdaq.analysis.btk_fit import fit_btk

    if args.temperature <= 0:
        raise AnalysisInputError(f"--temperature {args.temperature} K must be > 0")
    data = read_columns(args.spectrum, ("bias_V", "dIdV"))
    bias, g = data["bias_V"], data["dIdV"]
    if len(bias) < 8:
        raise AnalysisInputError(f"{args.spectrum}: only {len(bias)} points (need >= 8)")
    if np.max(np.abs(bias)) > MAX_PLAUSIBLE_BIAS_V:
        raise AnalysisInputError(f"{args.spectrum}: |bias_V| reaches {np.max(np.abs(bias)):g}; "
                                 "that looks like mV, not V (divide by 1000)")
    if not args.normalized:
        g = spectra.normalise(bias, g)
    if args.symmetrize:
        g = spectra.symmetrise(bias, g)
    return _print(fit_btk(bias, g, args.temperature, window_mV=args.window_mV).as_dict())


def tc_main(argv: list[str]) -> int:
    """``pcsdaq tc RT.csv``: Tc from R(T) as the crossing of two lines -> JSON."""
    parser = argparse.ArgumentParser(prog="pcsdaq tc", description="Tc from R(T) (CSV with "
                                     "header and columns T_K, R_ohm).")
    parser.add_argument("rt")
    parser.add_argument("--onset-K", type=float, default=None, help="override the onset, K")
    args = parser.parse_args(argv)
    from pcsdaq.analysis.tc import tc_from_rt

    data = read_columns(args.rt, ("T_K", "R_ohm"))
    if np.any(data["T_K"] <= 0):
        raise AnalysisInputError(f"{args.rt}: T_K must be > 0 K")
    try:
        return _print(tc_from_rt(data["T_K"], data["R_ohm"], onset_K=args.onset_K).as_dict())
    except ValueError as exc:
        raise AnalysisInputError(f"{args.rt}: {exc}") from exc


def gap_fit_main(argv: list[str]) -> int:
    """``pcsdaq gap-fit GAPS.csv``: BCS fit of Delta(T) -> JSON."""
    parser = argparse.ArgumentParser(prog="pcsdaq gap-fit", description="BCS fit of Delta(T) "
                                     "(CSV with header and columns T_K, delta_meV).")
    parser.add_argument("gaps")
    args = parser.parse_args(argv)
    from pcsdaq.analysis.bcs_fit import fit_gap_vs_temperature

    data = read_columns(args.gaps, ("T_K", "delta_meV"))
    if np.any(data["T_K"] <= 0):
        raise AnalysisInputError(f"{args.gaps}: T_K must be > 0 K")
    try:
        return _print(fit_gap_vs_temperature(data["T_K"], data["delta_meV"]))
    except ValueError as exc:
        raise AnalysisInputError(f"{args.gaps}: {exc}") from exc


def diameter_main(argv: list[str]) -> int:
    """``pcsdaq diameter R_OHM``: contact diameter (Wexler) -> JSON."""
    from pcsdaq.physics import wexler

    parser = argparse.ArgumentParser(prog="pcsdaq diameter",
                                     description="Contact diameter from the normal resistance.")
    parser.add_argument("resistance_ohm", type=float)
    parser.add_argument("--convention", choices=wexler.CONVENTIONS, default="paper",
                        help="paper: d = 369.98 Ohm nm / R; wexler: full Sharvin + Maxwell")
    parser.add_argument("--rho-ohm-m", type=float, default=wexler.CERIUM["rho_ohm_m"])
    parser.add_argument("--kf-per-m", type=float, default=wexler.CERIUM["k_f_per_m"])
    parser.add_argument("--mfp-m", type=float, default=wexler.CERIUM["mean_free_path_m"])
    args = parser.parse_args(argv)
    if not args.resistance_ohm > 0:
        raise AnalysisInputError(f"resistance {args.resistance_ohm} Ohm must be > 0")
    material = {} if args.convention == "paper" else {
        "rho_ohm_m": args.rho_ohm_m, "k_f_per_m": args.kf_per_m,
        "mean_free_path_m": args.mfp_m}
    d = wexler.contact_diameter(args.resistance_ohm, args.convention, **material)
    return _print({"resistance_ohm": args.resistance_ohm, "diameter_nm": d * 1e9,
                   "convention": args.convention, "regime": wexler.regime(d), **material})


def analyze_main(argv: list[str]) -> int:
    """``pcsdaq analyze RUN.h5``: fit every spectrum of a run, store results, save figures."""
    from pcsdaq.analysis.run_report import analyze_main as run

    return run(argv)
