"""Analysis commands: text in, JSON out (``pcsdaq fit|tc|gap-fit|diameter|analyze``)."""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

from pcsdaq.analysis.io import AnalysisInputError


def _clean(value):
    """JSON-safe: NaN and inf become null, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _print(result: dict) -> int:
    json.dump(_clean(result), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line (``pcsdaq X: error: ...``) and exit 2."""

    def error(self, message: str):
        raise AnalysisInputError(f"{message} (see {self.prog} --help)")


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise AnalysisInputError(f"{what} {text!r}: expected a number") from None
    if not math.isfinite(value):
        raise AnalysisInputError(f"{what} {text!r}: expected a finite number")
    return value


def _assignments(items: list[str], option: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise AnalysisInputError(f"{option} {item!r}: expected NAME=VALUE")
        out[name.strip()] = value.strip()
    return out


def parse_fix_and_bounds(fix: list[str], bound: list[str]) -> tuple[dict, dict]:
    """``--fix P=0`` and ``--bound Z=0:3`` options as dicts (name -> value, or None for
    ``NAME=free``; name -> (lo, hi)); names may be given short (delta, gamma, delta2, gamma2)."""
    short = {"delta": "delta_meV", "gamma": "gamma_meV", "delta2": "delta2_meV",
             "gamma2": "gamma2_meV", "w": "weight", "z": "Z", "p": "P"}
    fixed = {short.get(k, short.get(k.lower(), k)):
             None if v.lower() == "free" else _number(v, f"--fix {k}")
             for k, v in _assignments(fix, "--fix").items()}
    bounds = {}
    for k, v in _assignments(bound, "--bound").items():
        lo, sep, hi = v.partition(":")
        if not sep:
            raise AnalysisInputError(f"--bound {k}={v}: expected NAME=LO:HI")
        lo_v = -math.inf if lo.strip() == "" else float(_number(lo, f"--bound {k} LO"))
        hi_v = math.inf if hi.strip() == "" else float(_number(hi, f"--bound {k} HI"))
        if not lo_v < hi_v:
            raise AnalysisInputError(f"--bound {k}={v}: need LO < HI")
        bounds[short.get(k, short.get(k.lower(), k))] = (lo_v, hi_v)
    return fixed, bounds


def add_spectrum_options(parser: argparse.ArgumentParser) -> None:
    """Reading, preprocessing and model options shared by ``fit`` and ``analyze``."""
    from pcsdaq.analysis.model_fit import MODELS
    from pcsdaq.analysis.readers import BIAS_UNITS, QUANTITIES
    from pcsdaq.physics import andreev

    parser.add_argument("--model", choices=MODELS, default="btk",
                        help="btk (P = 0), spin (free P), two-gap (delta2, weight)")
    parser.add_argument("--bias-unit", choices=BIAS_UNITS, default="auto",
                        help="unit of the bias column (auto: from the header, else |V| > 0.5 "
                             "means mV; the JSON says what was used)")
    parser.add_argument("--columns", default=None, metavar="BIAS,SIGNAL",
                        help="bias and conductance columns (names or 0-based indices)")
    parser.add_argument("--quantity", choices=QUANTITIES, default="auto",
                        help="the signal column is dI/dV or dV/dI (auto: from its name)")
    parser.add_argument("--segment", default=None, help="HDF5 run: spectrum segment (name or "
                        "index among the spectra; default the first)")
    parser.add_argument("--offset", default="none", metavar="auto|none|VALUE_mV",
                        help="bias offset: from the spectrum's symmetry, none, or mV")
    parser.add_argument("--background", choices=("auto", "none"), default="none",
                        help="auto: divide by a quadratic fitted to the high-bias part; none: "
                             "by the mean high-bias conductance")
    parser.add_argument("--fix", action="append", default=[], metavar="NAME=VALUE",
                        help="fix a parameter (delta_meV, Z, gamma_meV, P, scale, delta2_meV, "
                             "gamma2_meV, weight, Z2), e.g. --fix P=0; NAME=free frees one the "
                             "model fixes or ties (P of two-gap; Z2, the second band's Z, "
                             "which is Z unless fixed or freed)")
    parser.add_argument("--bound", action="append", default=[], metavar="NAME=LO:HI",
                        help="bound a parameter, e.g. --bound Z=0:3")
    parser.add_argument("--window-mV", default=None, help="fit only |V| <= this bias, mV")
    parser.add_argument("--smearing-meV", default="0", help="extra Gaussian smearing omega, meV "
                        "(kernel exp(-x^2/4 omega^2)); 0: Dynes Gamma and temperature only")
    parser.add_argument("--convention", choices=andreev.CONVENTIONS, default="dynes",
                        help="dynes (complex energy, docs/physics.md), re-u2 (Gamma through "
                             "Re(u^2) as some public codes; btk and spin models) or "
                             "finite-difference (Dynes, G as the difference of I(V) over each "
                             "bias step, normalised at the largest |V|)")
    parser.add_argument("--normalized", action="store_true",
                        help="the conductance is already G/G_N (no normalisation)")
    parser.add_argument("--symmetrize", action="store_true",
                        help="average G(V) and G(-V) over the common bias range")


def spectrum_options(args) -> dict:
    """The keyword arguments of fit_spectrum from parsed ``add_spectrum_options`` options."""
    fixed, bounds = parse_fix_and_bounds(args.fix, args.bound)
    window = None if args.window_mV is None else _number(args.window_mV, "--window-mV")
    if window is not None and window <= 0:
        raise AnalysisInputError(f"--window-mV {args.window_mV}: expected a value > 0")
    smearing = _number(args.smearing_meV, "--smearing-meV")
    if smearing < 0:
        raise AnalysisInputError(f"--smearing-meV {args.smearing_meV}: expected >= 0")
    offset = args.offset
    if offset not in ("auto", "none"):
        offset = _number(offset, "--offset")
    return {"model": args.model, "offset": offset, "background": args.background,
            "normalized": args.normalized, "symmetrize": args.symmetrize, "window_mV": window,
            "fixed": fixed, "bounds": bounds, "smearing_meV": smearing,
            "convention": args.convention}


def read_spectrum_args(path: str, args):
    """The spectrum named on the command line, read with the ``--bias-unit``, ``--columns``,
    ``--quantity`` and ``--segment`` options."""
    from pcsdaq.analysis.readers import read_spectrum

    bias_col = signal_col = None
    if args.columns:
        parts = [p.strip() for p in args.columns.split(",")]
        if len(parts) != 2 or not all(parts):
            raise AnalysisInputError(f"--columns {args.columns!r}: expected BIAS,SIGNAL")
        bias_col, signal_col = parts
    return read_spectrum(path, bias_unit=args.bias_unit, bias_column=bias_col,
                         signal_column=signal_col, quantity=args.quantity, segment=args.segment)


def fit_main(argv: list[str]) -> int:
    """``pcsdaq fit SPECTRUM --temperature K``: fit of one spectrum -> JSON."""
    parser = _Parser(prog="pcsdaq fit", description="Fit a dI/dV spectrum (text table with or "
                     "without header, or a pcsdaq HDF5 run) with BTK, spin-polarised BTK or "
                     "two-gap BTK; prints the parameters, their errors and correlations, the "
                     "dips found and a verdict as JSON.")
    parser.add_argument("spectrum")
    parser.add_argument("--temperature", default=None,
                        help="sample temperature, K (default: from an HDF5 run)")
    add_spectrum_options(parser)
    args = parser.parse_args(argv)
    from pcsdaq.analysis.spectrum_fit import MAX_TEMPERATURE_K, fit_spectrum

    options = spectrum_options(args)
    temperature = None
    if args.temperature is not None:
        temperature = _number(args.temperature, "--temperature")
        if not 0 < temperature <= MAX_TEMPERATURE_K:
            raise AnalysisInputError(f"--temperature {args.temperature} K must be > 0 and "
                                     f"<= {MAX_TEMPERATURE_K:g} K")
    spec = read_spectrum_args(args.spectrum, args)
    if temperature is None:
        if spec.temperature_K is None:
            raise AnalysisInputError(f"{args.spectrum}: give --temperature K (the file does "
                                     "not record it)")
        temperature = spec.temperature_K
    try:
        result = fit_spectrum(spec.bias_V, spec.g, temperature, bias_unit=spec.bias_unit,
                              **options)
    except AnalysisInputError as exc:
        raise AnalysisInputError(f"{args.spectrum}: {exc}") from None
    result["file"] = str(args.spectrum)
    result["bias_unit_reason"] = spec.bias_unit_reason
    result["columns"] = list(spec.columns)
    result["notes"] = spec.notes
    return _print(result)


T_ALIASES = {"T_K": ("temperature_K", "T", "temperature", "T_sample_K"),
             "R_ohm": ("R", "resistance", "R_contact", "resistance_ohm", "dVdI_Ohm")}


def tc_main(argv: list[str]) -> int:
    """``pcsdaq tc RT.csv|RUN.h5``: Tc from R(T) by every definition -> JSON."""
    parser = _Parser(prog="pcsdaq tc", description="Tc from R(T): locates the transition, then "
                     "reports the two-slope crossing, midpoint, 10 %% and 90 %% points and the "
                     "ranges used (text table with columns T_K / temperature_K and R_ohm / "
                     "R_Ohm, as 'pcsdaq export' writes; or a run file: every R(T) segment and "
                     "Hc2(T) from the fields).")
    parser.add_argument("rt")
    parser.add_argument("--onset-K", default=None, help="override the onset, K")
    parser.add_argument("--steep-fraction", default="0.1:0.5", metavar="LO:HI",
                        help="part of the drop the steep line is fitted over (default 0.1:0.5)")
    args = parser.parse_args(argv)
    from pcsdaq.analysis.readers import read_columns as read_named
    from pcsdaq.analysis.tc import tc_from_rt

    onset = None if args.onset_K is None else _number(args.onset_K, "--onset-K")
    if onset is not None and onset <= 0:
        raise AnalysisInputError(f"--onset-K {args.onset_K}: expected > 0")
    lo, sep, hi = args.steep_fraction.partition(":")
    if not sep:
        raise AnalysisInputError(f"--steep-fraction {args.steep_fraction!r}: expected LO:HI")
    steep = (_number(lo, "--steep-fraction LO"), _number(hi, "--steep-fraction HI"))
    if not 0 <= steep[0] < steep[1] <= 1:
        raise AnalysisInputError(f"--steep-fraction {args.steep_fraction}: need 0 <= LO < HI "
                                 "<= 1")
    if _is_hdf5(args.rt):
        from pcsdaq.analysis.series import rt_of_run

        return _print(rt_of_run(args.rt, onset_K=onset, lower_drop=steep))
    data = read_named(args.rt, ("T_K", "R_ohm"), T_ALIASES)
    if np.any(data["T_K"] <= 0):
        raise AnalysisInputError(f"{args.rt}: T_K must be > 0 K")
    try:
        return _print(tc_from_rt(data["T_K"], data["R_ohm"], onset_K=onset,
                                 lower_drop=steep).as_dict())
    except ValueError as exc:
        raise AnalysisInputError(f"{args.rt}: {exc}") from exc


def _is_hdf5(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(8) == b"\x89HDF\r\n\x1a\n"
    except OSError as exc:
        raise AnalysisInputError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def gap_fit_main(argv: list[str]) -> int:
    """``pcsdaq gap-fit GAPS.csv``: BCS fit of Delta(T) -> JSON."""
    parser = _Parser(prog="pcsdaq gap-fit", description="BCS fit of Delta(T) (text table with "
                     "columns T_K and delta_meV); reported as failed, with the reason, when "
                     "the result is unphysical.")
    parser.add_argument("gaps")
    args = parser.parse_args(argv)
    from pcsdaq.analysis.bcs_fit import fit_gap_vs_temperature
    from pcsdaq.analysis.readers import read_columns as read_named

    data = read_named(args.gaps, ("T_K", "delta_meV"), {"T_K": T_ALIASES["T_K"],
                                                        "delta_meV": ("delta", "gap_meV")})
    if np.any(data["T_K"] <= 0):
        raise AnalysisInputError(f"{args.gaps}: T_K must be > 0 K")
    try:
        return _print(fit_gap_vs_temperature(data["T_K"], data["delta_meV"]))
    except ValueError as exc:
        raise AnalysisInputError(f"{args.gaps}: {exc}") from exc


def diameter_main(argv: list[str]) -> int:
    """``pcsdaq diameter R_OHM``: contact diameter (Wexler) -> JSON."""
    from pcsdaq.physics import wexler

    parser = _Parser(prog="pcsdaq diameter",
                     description="Contact diameter from the normal resistance.")
    parser.add_argument("resistance_ohm")
    parser.add_argument("--convention", choices=wexler.CONVENTIONS, default="paper",
                        help="paper: d = 369.98 Ohm nm / R; wexler: full Sharvin + Maxwell")
    parser.add_argument("--rho-ohm-m", default=str(wexler.CERIUM["rho_ohm_m"]))
    parser.add_argument("--kf-per-m", default=str(wexler.CERIUM["k_f_per_m"]))
    parser.add_argument("--mfp-m", default=str(wexler.CERIUM["mean_free_path_m"]))
    args = parser.parse_args(argv)
    values = {}
    for key, text in (("resistance", args.resistance_ohm), ("--rho-ohm-m", args.rho_ohm_m),
                      ("--kf-per-m", args.kf_per_m), ("--mfp-m", args.mfp_m)):
        v = _number(text, key)
        if v <= 0:
            raise AnalysisInputError(f"{key} {text}: expected a finite value > 0")
        values[key] = v
    r = values["resistance"]
    material = {} if args.convention == "paper" else {
        "rho_ohm_m": values["--rho-ohm-m"], "k_f_per_m": values["--kf-per-m"],
        "mean_free_path_m": values["--mfp-m"]}
    try:
        d = wexler.contact_diameter(r, args.convention, **material)
    except ValueError:
        d = math.nan
    if not (math.isfinite(d) and 1e-12 <= d <= 1e-2):
        raise AnalysisInputError(f"resistance {r:g} Ohm: no contact diameter between 1 pm and "
                                 f"1 cm gives it ({args.convention} convention)")
    return _print({"resistance_ohm": r, "diameter_nm": d * 1e9,
                   "convention": args.convention, "regime": wexler.regime(d), **material})


def analyze_main(argv: list[str]) -> int:
    """``pcsdaq analyze PATH...``: fit every spectrum of runs, texts and folders (pool/Dask),
    store results, write the summary table and figures."""
    from pcsdaq.analysis.analyze import main

    return main(argv)
