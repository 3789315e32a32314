"""``pcsdaq analyze RUN.h5``: fit every spectrum / R(T) of a finished run, store the results
in the file (group ``/entry/analysis``) and save PNG figures beside it.

Spectra (segments with dIdV_S) get a BTK fit at their measured temperature (normalised by
their high-bias conductance); a series with three or more temperatures also gets Delta(T)
fitted to BCS, three or more fields Delta(H); R(T) segments get Tc by the two-line crossing.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from pcsdaq.analysis.io import AnalysisInputError


def analyze_run(path: Path, window_mV: float | None = None) -> dict[str, Any]:
    """Fit what a run holds; returns {"spectra": [...], "rt": [...], "bcs": ..., "field": ...}."""
    from pcsdaq.analysis.bcs_fit import fit_gap_vs_field, fit_gap_vs_temperature
    from pcsdaq.analysis.btk_fit import fit_btk
    from pcsdaq.analysis.spectra import normalise
    from pcsdaq.analysis.tc import tc_from_rt
    from pcsdaq.storage import read_run
    from pcsdaq.storage.reader import RunFileError

    try:
        run = read_run(path)
    except (RunFileError, OSError) as exc:
        raise AnalysisInputError(f"{path}: cannot read the run ({exc})") from exc
    out: dict[str, Any] = {"file": str(path), "procedure": run.attrs.get("procedure"),
                           "spectra": [], "rt": []}
    for seg in run.segments:
        cols = seg.columns
        if "dIdV_S" in cols and len(cols["dIdV_S"]) >= 8:
            ok = np.isfinite(cols["dIdV_S"]) & np.isfinite(cols["V_dc_V"])
            t = float(np.nanmean(cols["temperature_K"]))
            b = float(np.nanmean(cols["field_T"]))
            try:
                fit = fit_btk(cols["V_dc_V"][ok], normalise(cols["V_dc_V"][ok],
                                                            cols["dIdV_S"][ok]), t,
                              window_mV=window_mV)
                out["spectra"].append({"segment": seg.name, "temperature_K": t, "field_T": b,
                                       **fit.as_dict()})
            except ValueError as exc:
                out["spectra"].append({"segment": seg.name, "error": str(exc)})
        elif "R_Ohm" in cols and "temperature_K" in cols and len(cols["R_Ohm"]) >= 10:
            try:
                res = tc_from_rt(cols["temperature_K"], cols["R_Ohm"])
                out["rt"].append({"segment": seg.name, **res.as_dict()})
            except ValueError as exc:
                out["rt"].append({"segment": seg.name, "error": str(exc)})
    good = [s for s in out["spectra"] if "delta_meV" in s]
    temps = {round(s["temperature_K"], 2) for s in good}
    fields = {round(s["field_T"], 3) for s in good}
    if len(temps) >= 3:
        try:
            out["bcs"] = fit_gap_vs_temperature([s["temperature_K"] for s in good],
                                                [s["delta_meV"] for s in good])
        except ValueError as exc:
            out["bcs"] = {"error": str(exc)}
    if len(fields) >= 3:
        try:
            out["field"] = fit_gap_vs_field([s["field_T"] for s in good],
                                            [s["delta_meV"] for s in good])
        except ValueError as exc:
            out["field"] = {"error": str(exc)}
    return out


def store_results(path: Path, results: dict[str, Any]) -> None:
    """Write the results into the run file (``/entry/analysis``, replaced on re-analysis)."""
    try:
        f = h5py.File(path, "a")
    except OSError as exc:
        from pcsdaq.storage.layout import os_reason

        raise AnalysisInputError(f"{path}: cannot store the results in the run file "
                                 f"({os_reason(exc, path.parent)}); use --no-store") from None
    with f:
        if "entry/analysis" in f:
            del f["entry/analysis"]
        grp = f.create_group("entry/analysis")
        grp.attrs["NX_class"] = "NXcollection"
        grp.attrs["results_json"] = json.dumps(results, default=float)
        good = [s for s in results["spectra"] if "delta_meV" in s]
        if good:
            for key in ("temperature_K", "field_T", "delta_meV", "delta_meV_err", "Z",
                        "gamma_meV", "chi2_red"):
                ds = grp.create_dataset(key, data=np.array([s[key] for s in good]))
                ds.attrs["units"] = {"temperature_K": "K", "field_T": "T", "delta_meV": "meV",
                                     "delta_meV_err": "meV", "gamma_meV": "meV"}.get(key, "")


def save_figures(path: Path, results: dict[str, Any], out_dir: Path) -> list[Path]:
    """PNG figures: spectra with fits, Delta(T) with the BCS curve, R(T) with the two lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pcsdaq.analysis.spectra import normalise
    from pcsdaq.physics import bcs, btk
    from pcsdaq.storage import read_run

    run = read_run(path)
    segs = {s.name: s for s in run.segments}
    saved: list[Path] = []
    out_dir.mkdir(parents=True, exist_ok=True)
    good = [s for s in results["spectra"] if "delta_meV" in s]
    if good:
        fig, ax = plt.subplots(figsize=(7, 5))
        for k, s in enumerate(good):
            cols = segs[s["segment"]].columns
            v = cols["V_dc_V"]
            g = normalise(v, cols["dIdV_S"])
            off = 0.3 * k
            ax.plot(v * 1e3, g + off, ".", ms=2, label=f"{s['temperature_K']:.2f} K, "
                    f"{s['field_T']:.2f} T")
            order = np.argsort(v)
            model = s["scale"] * btk.conductance(v[order] * 1e3, s["delta_meV"], s["Z"],
                                                 s["gamma_meV"], s["temperature_K"])
            ax.plot(v[order] * 1e3, model + off, "k-", lw=0.8)
        ax.set(xlabel="V (mV)", ylabel="G/G_N (offset)", title=path.name)
        ax.legend(fontsize=7)
        saved.append(out_dir / f"{path.stem}_spectra.png")
        fig.savefig(saved[-1], dpi=120)
        plt.close(fig)
    if "bcs" in results and "tc_K" in results["bcs"]:
        r = results["bcs"]
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.errorbar([s["temperature_K"] for s in good], [s["delta_meV"] for s in good],
                    yerr=[s["delta_meV_err"] for s in good], fmt="o")
        t = np.linspace(0, r["tc_K"], 200)
        ax.plot(t, r["delta0_meV"] * bcs.gap_ratio(t / r["tc_K"]), "k-",
                label=f"BCS: Tc = {r['tc_K']:.2f} K, 2Delta/kTc = {2 * r['ratio']:.2f}")
        ax.set(xlabel="T (K)", ylabel="Delta (meV)")
        ax.legend()
        saved.append(out_dir / f"{path.stem}_gap_vs_T.png")
        fig.savefig(saved[-1], dpi=120)
        plt.close(fig)
    for item in results["rt"]:
        if "tc_K" not in item:
            continue
        cols = segs[item["segment"]].columns
        fig, ax = plt.subplots(figsize=(6, 4))
        t = cols["temperature_K"]
        ax.plot(t, cols["R_Ohm"], ".", ms=3)
        span = np.linspace(t.min(), t.max(), 50)
        for which in ("upper", "lower"):
            ax.plot(span, item[f"{which}_slope_ohm_per_K"] * span
                    + item[f"{which}_intercept_ohm"], "--", lw=0.8)
        ax.axvline(item["tc_K"], color="k", lw=0.8, label=f"Tc = {item['tc_K']:.2f} K")
        r = cols["R_Ohm"]
        ax.set(xlabel="T (K)", ylabel="R (Ohm)", ylim=(np.nanmin(r) * 0.95, np.nanmax(r) * 1.05))
        ax.legend()
        saved.append(out_dir / f"{path.stem}_{item['segment']}_RT.png")
        fig.savefig(saved[-1], dpi=120)
        plt.close(fig)
    return saved


def analyze_main(argv: list[str]) -> int:
    """Entry point of ``pcsdaq analyze``."""
    parser = argparse.ArgumentParser(prog="pcsdaq analyze", description="Fit every spectrum "
                                     "and R(T) of run files; store results and save figures.")
    parser.add_argument("runs", nargs="+", help="run files (.h5)")
    parser.add_argument("--window-mV", type=float, default=None, help="BTK fit window, mV")
    parser.add_argument("--figures", default=None, help="folder for PNGs (default: beside)")
    parser.add_argument("--no-store", action="store_true", help="do not write into the files")
    args = parser.parse_args(argv)
    summary = []
    for name in args.runs:
        path = Path(name)
        if not path.exists():
            raise AnalysisInputError(f"{path}: no such run file")
        from pcsdaq.storage import read_run
        from pcsdaq.storage.reader import RunFileError

        try:
            status = read_run(path).status
        except RunFileError as exc:
            raise AnalysisInputError(str(exc)) from None
        if status == "running":
            raise AnalysisInputError(f"{path}: the run is still being written; analyze it "
                                     "when it has finished")
        results = analyze_run(path, args.window_mV)
        if not args.no_store:
            store_results(path, results)
        fig_dir = Path(args.figures) if args.figures else path.parent
        try:
            figs = save_figures(path, results, fig_dir)
        except OSError as exc:
            from pcsdaq.storage.layout import os_reason

            raise AnalysisInputError(f"cannot save the figures in {fig_dir} "
                                     f"({os_reason(exc, fig_dir)}); use --figures DIR") from None
        results["figures"] = [str(p) for p in figs]
        summary.append(results)
    json.dump(summary if len(summary) > 1 else summary[0], sys.stdout, indent=1,
              default=lambda x: None if isinstance(x, float) and math.isnan(x) else str(x))
    sys.stdout.write("\n")
    return 0
