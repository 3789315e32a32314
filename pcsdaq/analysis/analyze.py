"""``pcsdaq analyze PATH...``: every spectrum of every run file and text spectrum under the
paths, fitted in a process pool (or on a Dask cluster with ``--scheduler``), one summary
table (CSV and HDF5), results stored in each run, figures, and the paper's analyses.

Paths may be run files (.h5), text spectra (.csv/.txt/.dat: fitted at ``--temperature``) or
folders (searched recursively for both). Prints JSON: for one run its results (as before);
for several ``{"runs": [...], "texts": [...], "summary_csv": ..., "tc_distribution": ...}``.
A progress line goes to stderr.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from pcsdaq.analysis.io import AnalysisInputError

TEXT_SUFFIXES = (".csv", ".txt", ".dat", ".tsv")
RUN_SUFFIXES = (".h5", ".hdf5", ".nxs")
#: columns of the summary table, in order (parameters and errors follow)
SUMMARY_COLUMNS = ("file", "segment", "temperature_K", "field_T", "resistance_ohm", "regime",
                   "verdict", "model")
PARAMETERS = ("delta_meV", "Z", "gamma_meV", "P", "delta2_meV", "gamma2_meV", "weight", "Z2",
              "scale")


def collect(paths: list[str]) -> tuple[list[Path], list[Path], set[Path]]:
    """(run files, text spectra, those found in folders) named or found under the paths
    (folders: recursively; this command's own summary files are not inputs)."""
    runs, texts, found = [], [], set()
    for name in paths:
        p = Path(name)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.name.startswith(("summary.", "tc_histogram.")):
                    continue
                if f.suffix.lower() in RUN_SUFFIXES:
                    runs.append(f)
                elif f.suffix.lower() in TEXT_SUFFIXES:
                    texts.append(f)
                found.add(f)
        elif p.exists():
            (runs if p.suffix.lower() in RUN_SUFFIXES else texts).append(p)
        else:
            raise AnalysisInputError(f"{p}: no such run file or folder")
    return runs, texts, found


class Progress:
    """One progress line on stderr: 'analyze: 120/1000 spectra fitted'."""

    def __init__(self, stream=None) -> None:
        self.stream = stream

    def __call__(self, done: int, total: int) -> None:
        stream = self.stream or sys.stderr
        end = "\n" if done >= total else ""
        stream.write(f"\ranalyze: {done}/{total} spectra fitted{end}")
        stream.flush()


def summary_rows(items: list[dict]) -> list[dict]:
    """One flat row per fitted spectrum (file, segment, T, B, R, regime, verdict, model,
    every parameter and its error, chi2_red, rms, noise, dips, I_c, error)."""
    rows = []
    for s in items:
        row = {c: s.get(c) for c in SUMMARY_COLUMNS}
        for p in PARAMETERS:
            row[p] = s.get(p)
            row[f"{p}_err"] = s.get(f"{p}_err")
        row.update({"chi2_red": s.get("chi2_red"), "rms": s.get("rms"), "noise": s.get("noise"),
                    "dips_mV": " ".join(f"{d:.4g}" for d in s.get("dips_mV") or []),
                    "ic_A": s.get("ic_A"), "error": s.get("error", "")})
        rows.append(row)
    return rows


def _text_rt(path: Path) -> dict | None:
    """Tc of a text R(T) table (columns temperature and resistance, no bias), else None."""
    from pcsdaq.analysis.readers import _canonical, read_table
    from pcsdaq.analysis.tc import tc_from_rt

    try:
        table = read_table(path)
    except AnalysisInputError:
        return None
    names = [_canonical(h)[0] for h in table.header or []]
    if not names:
        return None
    spectral = {"v_dc_v", "bias_v", "bias", "v", "didv_s", "didv"}
    if any(n in spectral and np.isfinite(table.data[:, j]).sum() >= 8
           for j, n in enumerate(names)):
        return None  # a spectrum (a bias column with data)
    j_t = next((names.index(n) for n in ("t_k", "temperature_k", "t", "temperature")
                if n in names), None)
    j_r = next((names.index(n) for n in ("r_ohm", "r", "resistance", "r_contact")
                if n in names), None)
    if j_t is None or j_r is None:
        return None
    try:
        return {"file": str(path), **tc_from_rt(table.data[:, j_t], table.data[:, j_r]).as_dict()}
    except ValueError as exc:
        return {"file": str(path), "error": str(exc)}


def write_summary(rows: list[dict], out_dir: Path) -> tuple[Path, Path]:
    """summary.csv and summary.h5 (one dataset per column) in ``out_dir``."""
    import csv

    import h5py

    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, h5_path = out_dir / "summary.csv", out_dir / "summary.h5"
    names = list(rows[0]) if rows else list(SUMMARY_COLUMNS)
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=names)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    with h5py.File(h5_path, "w") as f:
        grp = f.create_group("summary")
        for name in names:
            values = [r.get(name) for r in rows]
            if all(v is None or isinstance(v, (int, float)) for v in values):
                grp.create_dataset(name, data=np.array([math.nan if v is None else v
                                                        for v in values], dtype=float))
            else:
                grp.create_dataset(name, data=np.array(["" if v is None else str(v)
                                                        for v in values], dtype=object),
                                   dtype=h5py.string_dtype())
    return csv_path, h5_path


def main(argv: list[str]) -> int:
    """Entry point of ``pcsdaq analyze``."""
    from pcsdaq.analysis.batch import fit_many
    from pcsdaq.analysis.cli import _number, _Parser, add_spectrum_options, spectrum_options
    from pcsdaq.analysis.readers import read_spectrum
    from pcsdaq.analysis.run_report import (
        finish_spectrum,
        save_figures,
        spectrum_jobs,
        store_results,
    )
    from pcsdaq.analysis.series import distribution, gap_series, hc2_of, rt_segments
    from pcsdaq.storage import read_run
    from pcsdaq.storage.reader import RunFileError

    parser = _Parser(prog="pcsdaq analyze", description="Fit every spectrum of run files, "
                     "text spectra and folders (process pool; Dask with --scheduler); store "
                     "results in each run, write summary.csv / summary.h5 and figures.")
    parser.add_argument("paths", nargs="+", help="run files (.h5), text spectra, folders")
    add_spectrum_options(parser)
    parser.add_argument("--temperature", default=None, help="temperature of text spectra, K")
    parser.add_argument("--workers", default=None, help="worker processes (default: all cores)")
    parser.add_argument("--scheduler", default=None, help="Dask scheduler address "
                        "(tcp://host:8786): run the fits on that cluster ('pcsdaq[dask]')")
    parser.add_argument("--out", default=None, help="folder for summary.csv / summary.h5 "
                        "(default: the first path's folder)")
    parser.add_argument("--figures", default=None, help="folder for PNGs (default: beside)")
    parser.add_argument("--no-figures", action="store_true", help="no PNG figures")
    parser.add_argument("--no-store", action="store_true", help="do not write into the runs")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    parser.add_argument("--elastic-mfp-nm", default="20", help="sample's elastic mean free "
                        "path, nm: contacts smaller are ballistic (regime from size)")
    parser.add_argument("--inelastic-mfp-nm", default="150", help="inelastic mean free path, "
                        "nm: contacts larger are thermal")
    args = parser.parse_args(argv)
    options = spectrum_options(args)
    workers = None if args.workers is None else int(_number(args.workers, "--workers"))
    if workers is not None and workers < 1:
        raise AnalysisInputError(f"--workers {args.workers}: expected >= 1")
    mfp = {"elastic_mfp_m": _number(args.elastic_mfp_nm, "--elastic-mfp-nm") * 1e-9,
           "inelastic_mfp_m": _number(args.inelastic_mfp_nm, "--inelastic-mfp-nm") * 1e-9}
    if not 0 < mfp["elastic_mfp_m"] <= mfp["inelastic_mfp_m"]:
        raise AnalysisInputError("mean free paths: need 0 < --elastic-mfp-nm <= "
                                 "--inelastic-mfp-nm")
    runs, texts, found = collect(args.paths)
    temperature = None if args.temperature is None else _number(args.temperature,
                                                                 "--temperature")
    jobs, owners, loaded, skipped = [], [], {}, []
    text_rt = []
    for path in list(runs):
        try:
            run = read_run(path)
        except (RunFileError, OSError, RuntimeError, KeyError, ValueError) as exc:
            if path in found:  # a folder may hold other HDF5 files: skip them, say so
                skipped.append(f"{path}: {exc}")
                runs.remove(path)
                continue
            raise AnalysisInputError(f"{path}: cannot read the run ({exc})") from exc
        if run.status == "running":
            raise AnalysisInputError(f"{path}: the run is still being written; analyze it "
                                     "when it has finished")
        loaded[path] = run
        for b, g, t, o, meta in spectrum_jobs(run, options):
            if len(b) >= 8:
                jobs.append((b, g, t if t is not None else math.nan, o))
                owners.append((path, meta, t))
    for path in texts:
        rt = _text_rt(path)
        if rt is not None:
            text_rt.append(rt)
            continue
        try:
            spec = read_spectrum(path, bias_unit=args.bias_unit, quantity=args.quantity)
        except AnalysisInputError as exc:
            if path in found:
                skipped.append(str(exc))
                continue
            raise
        t = temperature if temperature is not None else spec.temperature_K
        if t is None:
            raise AnalysisInputError(f"{path}: no temperature column; give --temperature K")
        jobs.append((spec.bias_V, spec.g, t, {**options, "bias_unit": spec.bias_unit}))
        owners.append((path, {"segment": "", "field_T": spec.field_T, "resistance_ohm": None},
                       t))
    results = fit_many(jobs, workers=workers, scheduler=args.scheduler,
                       progress=None if args.quiet else Progress())
    per_run: dict[Path, list[dict]] = {p: [] for p in runs}
    text_results: list[dict] = []
    for (path, meta, t), res in zip(owners, results):
        item = finish_spectrum(res, meta, t, **mfp)
        item["file"] = str(path)
        per_run.get(path, text_results).append(item)
    reports = []
    for path in runs:
        rep: dict[str, Any] = {"file": str(path), "procedure": loaded[path].attrs.get("procedure"),
               "spectra": per_run[path], "rt": rt_segments(loaded[path])}
        rep.update(gap_series(rep["spectra"]))
        if len(rep["rt"]) > 1:
            rep["hc2"] = hc2_of(rep["rt"])
        if not args.no_store:
            store_results(path, rep)
        if not args.no_figures:
            figs = save_figures(path, rep, Path(args.figures) if args.figures else path.parent)
            rep["figures"] = [str(p) for p in figs]
        reports.append(rep)
    all_spectra = [s for r in reports for s in r["spectra"]] + text_results
    first = Path(args.paths[0])
    out_dir = Path(args.out) if args.out else (first if first.is_dir() else first.parent)
    csv_path, h5_path = write_summary(summary_rows(all_spectra), out_dir)
    tcs = [float(x["tc_K"]) for r in reports for x in r["rt"] if x.get("tc_K") is not None]
    tcs += [x["tc_K"] for x in text_rt if x.get("tc_K") is not None]
    deltas = [s["delta_meV"] for s in all_spectra
              if s.get("verdict") in ("good", "degenerate") and "delta_meV" in s]
    extra = {"summary_csv": str(csv_path), "summary_h5": str(h5_path), "skipped": skipped,
             "tc_distribution": distribution(tcs), "delta_distribution": distribution(deltas)}
    if not args.no_figures:
        from pcsdaq.analysis.figures import tc_histogram

        hist = tc_histogram(tcs, out_dir / "tc_histogram.png")
        if hist is not None:
            extra["tc_histogram"] = str(hist)
    if len(reports) == 1 and not text_results:
        out = {**reports[0], **extra}
    else:
        out = {"runs": reports, "texts": text_results, "texts_rt": text_rt, **extra}
    from pcsdaq.analysis.cli import _clean

    json.dump(_clean(out), sys.stdout, indent=1, default=str)
    sys.stdout.write("\n")
    return 0
