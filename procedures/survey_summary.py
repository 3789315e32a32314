"""The contact survey's summary: one table per survey (CSV and HDF5) and its figures.

One row per spot: ``spot``, lateral position (``x_steps``, ``y_steps``: piezo steps from
where the survey started), ``R_ohm`` (zero-bias resistance at base temperature: what the
approach, the drift check and the short check read), ``R_normal_ohm`` (the normal-state
resistance, from the base spectrum's outermost 15 % of |V|), the Wexler diameter
(``diameter_nm``, paper preset, from R_normal_ohm; from R_ohm for a spot without a
spectrum), the ``regime`` (ballistic, intermediate,
thermal, none, short, open, drifting, unusable, fault), ``tc_K`` with its named definition
(``tc_definition``), Delta(0) (``delta_meV``), ``Z``, ``gamma_meV``, I_c (``ic_A``), the
``verdict`` and the reason for it. The HDF5 file holds the same table (one dataset per
column), every decision taken, spot by spot, as JSON, and I_c(T) where it was measured
(``/survey/ic_of_T/spotNNN``: rows of T in K and I_c in A; the table's ``ic_A`` is the
base temperature's). Figures (matplotlib Agg, PNG):
the Tc histogram by needle (the paper's figure 1f), Delta vs Tc with the BCS line
Delta = 1.764 k_B Tc, and Tc vs contact diameter.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from pcsdaq.physics.bcs import BCS_RATIO

KB_MEV_PER_K = 0.08617333
CSV_COLUMNS = ("spot", "x_steps", "y_steps", "R_ohm", "R_normal_ohm", "diameter_nm", "regime",
               "tc_K", "tc_definition", "delta_meV", "Z", "gamma_meV", "ic_A", "verdict",
               "reason",
               "lab_time_s")
_TEXT = {"regime", "tc_definition", "verdict", "reason"}


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return value


def write_csv(records: list[dict], path: Path) -> Path:
    """The table as CSV (one row per spot, :data:`CSV_COLUMNS`; empty cell: no value)."""
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CSV_COLUMNS)
        for rec in records:
            w.writerow([_cell(rec.get(c)) for c in CSV_COLUMNS])
    tmp.replace(path)
    return path


def write_hdf5(records: list[dict], path: Path, attrs: dict[str, Any]) -> Path:
    """The table as HDF5: ``/survey/<column>`` datasets (numbers as float with NaN for no
    value, text as strings), ``/survey/decisions_json`` (one JSON list per spot) and the
    survey's attributes (needle, sample, parameters, how it ended)."""
    import h5py

    tmp = path.with_name(path.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        grp = f.create_group("survey")
        grp.attrs["NX_class"] = "NXcollection"
        for key, value in attrs.items():
            grp.attrs[key] = value if isinstance(value, str | int | float) else json.dumps(
                value, default=str)
        for col in CSV_COLUMNS:
            values = [rec.get(col) for rec in records]
            if col in _TEXT:
                grp.create_dataset(col, data=np.array([str(v or "") for v in values],
                                                      dtype=h5py.string_dtype()))
            else:
                grp.create_dataset(col, data=np.array(
                    [np.nan if v is None else float(v) for v in values], dtype=float))
        grp.create_dataset("decisions_json", data=np.array(
            [json.dumps(rec.get("decisions", []), default=str) for rec in records],
            dtype=h5py.string_dtype()))
        ic = grp.create_group("ic_of_T")
        ic.attrs["columns"] = "T_K, ic_A"
        for rec in records:
            points = rec.get("ic_of_T") or []
            if points:
                ds = ic.create_dataset(f"spot{int(rec['spot']):03d}",
                                       data=np.array(points, dtype=float).reshape(-1, 2))
                ds.attrs["columns"] = "T_K, ic_A"
                ds.attrs["units"] = "K, A"
    tmp.replace(path)
    return path


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _tc_points(records: list[dict]) -> list[dict]:
    return [r for r in records if r.get("tc_K") is not None and math.isfinite(r["tc_K"])]


def _per_regime(ax: Any, pts: list[dict], x: str, y: str) -> None:
    """One marker series per regime: record key ``x`` against key ``y``."""
    for regime in sorted({r["regime"] for r in pts}):
        sel = [r for r in pts if r["regime"] == regime]
        ax.plot([r[x] for r in sel], [r[y] for r in sel], "o", label=regime)


def _save(plt: Any, fig: Any, out: Path) -> Path:
    """Lay the figure out, write it to ``out`` (PNG, 110 dpi), close it; returns ``out``."""
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def tc_histogram_by_needle(records: list[dict], needle: str, out: Path) -> Path:
    """Histogram of Tc over the survey's contacts, labelled by needle (figure 1f)."""
    plt = _plt()
    pts = _tc_points(records)
    fig, ax = plt.subplots(figsize=(6, 4))
    tcs = [r["tc_K"] for r in pts]
    if tcs:
        ax.hist(tcs, bins=np.arange(0.0, 24.0, 1.0), label=f"{needle or 'needle'} "
                f"(n = {len(tcs)}, mean {np.mean(tcs):.1f} K)", edgecolor="black")
        ax.legend()
    ax.set(xlabel="Tc (K)", ylabel="contacts", title=f"Tc over {len(records)} spots")
    return _save(plt, fig, out)


def delta_vs_tc(records: list[dict], out: Path) -> Path:
    """Delta(0) vs Tc per regime, with the BCS line Delta = 1.764 k_B Tc."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    pts = [r for r in _tc_points(records) if r.get("delta_meV") is not None
           and math.isfinite(r["delta_meV"])]
    _per_regime(ax, pts, "tc_K", "delta_meV")
    t = np.linspace(0.0, 22.0, 50)
    ax.plot(t, BCS_RATIO * KB_MEV_PER_K * t, "k--", label="BCS 1.764 k_B Tc")
    ax.set(xlabel="Tc (K)", ylabel="Delta(0) (meV)", title="gap vs Tc")
    ax.legend(fontsize=8)
    return _save(plt, fig, out)


def tc_vs_diameter(records: list[dict], out: Path) -> Path:
    """Tc vs Wexler contact diameter (nm, log axis), per regime."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    pts = [r for r in _tc_points(records) if r.get("diameter_nm")]
    _per_regime(ax, pts, "diameter_nm", "tc_K")
    ax.set_xscale("log")
    ax.set(xlabel="contact diameter (nm, Wexler, paper preset)", ylabel="Tc (K)",
           title="Tc vs contact size")
    if pts:
        ax.legend(fontsize=8)
    return _save(plt, fig, out)


def write_summary(records: list[dict], folder: Path, stem: str, *, needle: str,
                  attrs: dict[str, Any], figures: bool = True) -> list[Path]:
    """CSV (``<stem>.csv``), HDF5 (``<stem>.hdf5``) and, with ``figures``, the three PNGs
    into ``folder``; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    out = [write_csv(records, folder / f"{stem}.csv"),
           write_hdf5(records, folder / f"{stem}.hdf5", attrs)]
    if figures:
        out += [tc_histogram_by_needle(records, needle, folder / f"{stem}_tc_histogram.png"),
                delta_vs_tc(records, folder / f"{stem}_delta_vs_tc.png"),
                tc_vs_diameter(records, folder / f"{stem}_tc_vs_diameter.png")]
    return out
