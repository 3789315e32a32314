"""``pcsdaq analyze RUN.h5``: fit every spectrum / R(T) of a finished run, store the results
in the file (group ``/entry/analysis``) and save PNG figures beside it.

Spectra (segments with dIdV_S) get :func:`pcsdaq.analysis.spectrum_fit.fit_spectrum` at
their measured temperature (the same fit as ``pcsdaq fit``), with dips, I_c and regime; a
series gets Delta(T) / Delta(H) / I_c(T) (pcsdaq.analysis.series); R(T) segments get every
Tc definition and, at several fields, Hc2(T).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from pcsdaq.analysis.io import AnalysisInputError


def spectrum_jobs(run, options: dict | None = None) -> list[tuple]:
    """(bias_V, g, temperature_K, options, meta) of every spectrum segment of a run (RunData),
    with the segment's name, field and resistance in ``meta`` for the summary, and its DC
    current and voltage (``sweep_iv``, A and V; taken out by :func:`finish_spectrum`)."""
    from pcsdaq.analysis.readers import spectrum_from_segment

    jobs = []
    for seg in run.segments:
        if "dIdV_S" in seg.columns and "V_dc_V" in seg.columns:
            spec = spectrum_from_segment(seg)
            meta = {"segment": seg.name, "field_T": spec.field_T,
                    "resistance_ohm": spec.resistance_ohm, "n_rows": len(spec.bias_V),
                    "conductance_in_siemens": True,
                    "sweep_iv": (seg.columns.get("I_dc_A"), seg.columns["V_dc_V"])}
            jobs.append((spec.bias_V, spec.g, spec.temperature_K, dict(options or {}), meta))
    return jobs


def finish_spectrum(result: dict, meta: dict, temperature_K, **mfp) -> dict:
    """A batch fit result with the segment's metadata, I_c (from the sweep's current and
    voltage across the dips when meta has them, ``sweep_iv``) and regime added."""
    from pcsdaq.analysis.series import annotate_spectrum
    from pcsdaq.analysis.switching import add_dip_currents

    meta = dict(meta)
    current, voltage = meta.pop("sweep_iv", (None, None))
    out = {**meta, "temperature_K": temperature_K, **result}
    out["field_T"] = meta.get("field_T")
    if "error" not in out:
        add_dip_currents(out, current, voltage)
        annotate_spectrum(out, **mfp)
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
    except (RunFileError, OSError, RuntimeError, KeyError, ValueError) as exc:
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
                        "gamma_meV", "chi2_red", "P"):
                ds = grp.create_dataset(key, data=np.array(
                    [np.nan if s.get(key) is None else s[key] for s in good], dtype=float))
                ds.attrs["units"] = {"temperature_K": "K", "field_T": "T", "delta_meV": "meV",
                                     "delta_meV_err": "meV", "gamma_meV": "meV"}.get(key, "")


def save_figures(path: Path, results: dict[str, Any], out_dir: Path) -> list[Path]:
    """PNG figures of an analysed run (pcsdaq.analysis.figures)."""
    from pcsdaq.analysis.figures import save_run_figures

    return save_run_figures(path, results, out_dir)


def analyze_main(argv: list[str]) -> int:
    """Entry point of ``pcsdaq analyze`` (pcsdaq.analysis.analyze)."""
    from pcsdaq.analysis.analyze import main

    return main(argv)
