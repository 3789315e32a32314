"""``pcsdaq analyze RUN.h5``: fit every spectrum / R(T) of a finished run, store the results
in the file (group ``/entry/analysis``) and save PNG figures beside it.

Spectra (segments with dIdV_S) get :func:`pcsdaq.analysis.spectrum_fit.fit_spectrum` at
their measured temperature (the same fit as ``pcsdaq fit``), with dips, I_c and regime; a
series gets Delta(T) / Delta(H) / I_c(T) (pcsdaq.analysis.series); R(T) segments get every
Tc definition and, at several fields, Hc2(T).
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


def spectrum_jobs(run, options: dict | None = None) -> list[tuple]:
    """(bias_V, g, temperature_K, options) of every spectrum segment of a run (RunData), with
    the segment's name, field and resistance in ``options['meta']`` for the summary."""
    from pcsdaq.analysis.readers import spectrum_from_segment

    jobs = []
    for seg in run.segments:
        if "dIdV_S" in seg.columns and "V_dc_V" in seg.columns:
            spec = spectrum_from_segment(seg)
            meta = {"segment": seg.name, "field_T": spec.field_T,
                    "resistance_ohm": spec.resistance_ohm, "n_rows": int(len(spec.bias_V))}
            jobs.append((spec.bias_V, spec.g, spec.temperature_K, dict(options or {}), meta))
    return jobs


def finish_spectrum(result: dict, meta: dict, temperature_K) -> dict:
    """A batch fit result with the segment's metadata, I_c and regime added."""
    from pcsdaq.analysis.series import annotate_spectrum

    out = {**meta, "temperature_K": temperature_K, **result}
    out["field_T"] = meta.get("field_T")
    if "error" not in out:
        annotate_spectrum(out)
    return out


def analyze_run(path: Path, window_mV: float | None = None, *, options: dict | None = None,
                workers: int = 1, scheduler=None) -> dict[str, Any]:
    """Fit what a run holds: {"spectra": [...], "rt": [...], "hc2": ..., "bcs": ...,
    "field": ..., "ic_vs_T": ..., "left_out": [...]} (pcsdaq.analysis.series)."""
    from pcsdaq.analysis.batch import fit_many
    from pcsdaq.analysis.series import gap_series, hc2_of, rt_segments
    from pcsdaq.storage import read_run
    from pcsdaq.storage.reader import RunFileError

    try:
        run = read_run(path)
    except (RunFileError, OSError) as exc:
        raise AnalysisInputError(f"{path}: cannot read the run ({exc})") from exc
    opts = dict(options or {})
    if window_mV is not None:
        opts["window_mV"] = window_mV
    out: dict[str, Any] = {"file": str(path), "procedure": run.attrs.get("procedure"),
                           "spectra": [], "rt": rt_segments(run)}
    jobs = [j for j in spectrum_jobs(run, opts) if len(j[0]) >= 8]
    results = fit_many([(b, g, t if t is not None else math.nan, o) for b, g, t, o, _ in jobs],
                       workers=workers, scheduler=scheduler)
    for (_, _, t, _, meta), res in zip(jobs, results):
        out["spectra"].append(finish_spectrum(res, meta, t))
    out.update(gap_series(out["spectra"]))
    if len(out["rt"]) > 1:
        out["hc2"] = hc2_of(out["rt"])
    return out


def store_results(path: Path, results: dict[str, Any]) -> None:
    """Write the results into the run file (``/entry/analysis``, replaced on re-analysis)."""
    with h5py.File(path, "a") as f:
        if "entry/analysis" in f:
            del f["entry/analysis"]
        grp = f.create_group("entry/analysis")
        grp.attrs["NX_class"] = "NXcollection"
        grp.attrs["results_json"] = json.dumps(results, default=float)
        good = [s for s in results["spectra"] if "delta_meV" in s]
        if good:
            for key in ("temperature_K", "field_T", "delta_meV", "delta_meV_err", "Z",
                        "gamma_meV", "chi2_red", "P"):
                ds = grp.create_dataset(key, data=np.array(
                    [np.nan if s.get(key) is None else s[key] for s in good], dtype=float))
                ds.attrs["units"] = {"temperature_K": "K", "field_T": "T", "delta_meV": "meV",
                                     "delta_meV_err": "meV", "gamma_meV": "meV"}.get(key, "")


def save_figures(path: Path, results: dict[str, Any], out_dir: Path) -> list[Path]:
    """PNG figures: spectra with fits, Delta(T) with the BCS curve, R(T) with the two lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pcsdaq.analysis.model_fit import parameter_names
    from pcsdaq.analysis.spectra import normalise
    from pcsdaq.physics import andreev, bcs
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
                    f"{s.get('field_T') or 0.0:.2f} T, {s.get('verdict', '')}")
            order = np.argsort(v)
            names = parameter_names(s.get("model", "btk"))[:-1]
            model = s["scale"] * andreev.conductance(v[order] * 1e3, s.get("model", "btk"),
                                                     [s[n] for n in names], s["temperature_K"])
            ax.plot(v[order] * 1e3, model + off, "k-", lw=0.8)
        ax.set(xlabel="V (mV)", ylabel="G/G_N (offset)", title=path.name)
        ax.legend(fontsize=7)
        saved.append(out_dir / f"{path.stem}_spectra.png")
        fig.savefig(saved[-1], dpi=120)
        plt.close(fig)
    if results.get("bcs", {}).get("tc_K") is not None:
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
    """Entry point of ``pcsdaq analyze`` (pcsdaq.analysis.analyze)."""
    from pcsdaq.analysis.analyze import main

    return main(argv)
