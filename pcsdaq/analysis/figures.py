"""Figures for a lab notebook (PNG, matplotlib Agg), each titled with contact and run.

* spectra: offset waterfall of the preprocessed spectra with the fitted curves, a residual
  panel, the parameters and the verdict in each label;
* Delta(T): the gaps used with error bars, the ones left out (verdict poor / not-ballistic)
  as open symbols, the BCS curve, or the reason the BCS fit failed;
* R(T): the data, the normal-state and steep lines, and each Tc definition marked;
* I_c(T) from the dips; a histogram of Tc over many contacts.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _title(path: Path, run) -> str:
    meta = getattr(run, "metadata", {}) or {}
    contact = meta.get("contact") or meta.get("sample") or ""
    r = meta.get("contact_resistance_ohm")
    extra = f", R = {r:.3g} Ohm" if isinstance(r, (int, float)) else ""
    return f"{path.name}{' - ' + str(contact) if contact else ''}{extra}"


def spectra_figure(path: Path, run, spectra: list[dict], out: Path) -> Path | None:
    """Waterfall of fitted spectra with model curves and residuals; None if nothing fitted."""
    from pcsdaq.analysis.model_fit import parameter_names
    from pcsdaq.analysis.readers import spectrum_from_segment
    from pcsdaq.analysis.spectrum_fit import preprocess
    from pcsdaq.physics import andreev

    segs = {s.name: s for s in run.segments}
    items = [s for s in spectra if "delta_meV" in s and s.get("segment") in segs]
    if not items:
        return None
    plt = _plt()
    fig, (ax, axr) = plt.subplots(2, 1, figsize=(7.5, 8), sharex=True,
                                  gridspec_kw={"height_ratios": [3, 1]})
    span = 0.0
    for k, s in enumerate(items):
        spec = spectrum_from_segment(segs[s["segment"]])
        v, g, _, _ = preprocess(spec.bias_V, spec.g, offset=s.get("offset_mV", 0.0),
                                background=s.get("background", "none"),
                                normalized=s.get("normalized", False),
                                symmetrize=s.get("symmetrize", False))
        model = s.get("model", "btk")
        names = parameter_names(model)[:-1]
        curve = s["scale"] * andreev.conductance(v, model, [s[n] for n in names],
                                                 s["temperature_K"],
                                                 smearing_meV=s.get("smearing_meV", 0.0),
                                                 convention=s.get("convention", "dynes"))
        off = 0.3 * k
        label = (f"{s['temperature_K']:.2f} K, {s.get('field_T') or 0.0:.2f} T: "
                 f"D={s['delta_meV']:.3f} Z={s['Z']:.2f} G={s['gamma_meV']:.3f}"
                 + (f" P={s['P']:.2f}" if model == "spin" else "") + f" [{s['verdict']}]")
        ax.plot(v, g + off, ".", ms=2, label=label)
        w = s.get("window_mV")
        inside = np.abs(v) <= w if w else np.ones_like(v, dtype=bool)
        ax.plot(v[inside], curve[inside] + off, "k-", lw=0.8)  # the fitted part only
        gap = s["delta_meV"] if s.get("gap_features", True) and s["verdict"] != "poor" else 0.0
        span = max(span, min(float(np.max(np.abs(v))),
                             max(6.0 * gap, 1.5 * max([abs(d) for d in s.get("dips_mV") or [0]]))))
        axr.plot(v[inside], (g - curve)[inside] + 0.05 * k, ".", ms=2)
        for d in s.get("dips_mV") or []:
            ax.axvline(d, color="r", lw=0.5, ls=":")
    ax.set(ylabel="G/G_N (offset 0.3)", title=_title(path, run))
    if span > 0:
        ax.set_xlim(-span, span)
    ax.legend(fontsize=6)
    axr.set(xlabel="V (mV)", ylabel="residual (offset)")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def gap_figure(path: Path, run, results: dict[str, Any], out: Path) -> Path | None:
    """Delta(T) with error bars, left-out points open, the BCS curve or why it failed."""
    from pcsdaq.physics import bcs

    fitted = [s for s in results["spectra"] if "delta_meV" in s]
    if len({round(s["temperature_K"], 2) for s in fitted}) < 2:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    used = [s for s in fitted if s.get("verdict") in ("good", "degenerate")]
    left = [s for s in fitted if s not in used]
    ax.errorbar([s["temperature_K"] for s in used], [s["delta_meV"] for s in used],
                yerr=[s["delta_meV_err"] for s in used], fmt="o", label="fitted gaps")
    if left:
        ax.plot([s["temperature_K"] for s in left], [s["delta_meV"] for s in left], "o",
                mfc="none", color="gray", label="left out (verdict)")
    b = results.get("bcs") or {}
    if b.get("tc_K"):
        t = np.linspace(0, b["tc_K"], 200)
        ax.plot(t, b["delta0_meV"] * bcs.gap_ratio(t / b["tc_K"]), "k-",
                label=f"BCS: Tc = {b['tc_K']:.2f} K, 2Delta/kTc = {2 * b['ratio']:.2f}")
    elif b.get("failed"):
        ax.set_title(f"BCS fit failed: {b['failed']}"[:90], fontsize=7)
    ax.set(xlabel="T (K)", ylabel="Delta (meV)")
    if not b.get("failed"):
        ax.set_title(_title(path, run), fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def rt_figure(path: Path, run, item: dict, out: Path) -> Path | None:
    """R(T) with the normal-state and steep lines and each Tc definition marked."""
    if item.get("tc_K") is None:
        return None
    seg = next((s for s in run.segments if s.name == item["segment"]), None)
    if seg is None:
        return None
    plt = _plt()
    cols = seg.columns
    fig, ax = plt.subplots(figsize=(6, 4))
    t, r = cols["temperature_K"], cols["R_Ohm"]
    ax.plot(t, r, ".", ms=3)
    span = np.linspace(np.nanmin(t), np.nanmax(t), 50)
    for which in ("upper", "lower"):
        ax.plot(span, item[f"{which}_slope_ohm_per_K"] * span + item[f"{which}_intercept_ohm"],
                "--", lw=0.8)
    for key, style in (("tc_two_slope_K", "k-"), ("tc_midpoint_K", "b:"), ("tc_90_K", "g:"),
                       ("tc_10_K", "m:")):
        v = item.get(key)
        if v is not None and math.isfinite(v):
            ax.axvline(v, color=style[0], ls=style[1:], lw=0.8, label=f"{key} = {v:.2f}")
    if item.get("two_features"):
        ax.axvline(item["second_feature_K"], color="r", lw=0.5, label="second feature")
    ax.set(xlabel="T (K)", ylabel="R (Ohm)", ylim=(np.nanmin(r) * 0.95, np.nanmax(r) * 1.05),
           title=f"{_title(path, run)} / {item['segment']} ({item.get('field_T', 0):.2g} T)")
    ax.title.set_fontsize(8)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def ic_figure(path: Path, run, results: dict[str, Any], out: Path) -> Path | None:
    """I_c(T) or I_c(H) from the dips (None without dips)."""
    key, axis, label = (("ic_vs_H", "field_T", "B (T)") if results.get("ic_vs_H")
                        else ("ic_vs_T", "temperature_K", "T (K)"))
    pts = results.get(key) or []
    if len(pts) < 2:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([p[axis] for p in pts], [p["ic_A"] * 1e3 for p in pts], "o")
    ax.set(xlabel=label, ylabel="I_c (mA)", title=_title(path, run))
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def tc_histogram(tcs: list[float], out: Path, title: str = "Tc over contacts") -> Path | None:
    """Histogram of Tc values (K); None with fewer than 2."""
    v = [x for x in tcs if x is not None and math.isfinite(x)]
    if len(v) < 2:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist(v, bins=min(20, max(len(v) // 2, 3)))
    ax.set(xlabel="Tc (K)", ylabel="contacts", title=f"{title} (n = {len(v)}, mean "
           f"{np.mean(v):.2f} K)")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def save_run_figures(path: Path, results: dict[str, Any], out_dir: Path) -> list[Path]:
    """All figures of one analysed run into ``out_dir``; returns the files written."""
    from pcsdaq.storage import read_run

    run = read_run(path)
    out_dir.mkdir(parents=True, exist_ok=True)
    made = [spectra_figure(path, run, results["spectra"], out_dir / f"{path.stem}_spectra.png"),
            gap_figure(path, run, results, out_dir / f"{path.stem}_gap_vs_T.png"),
            ic_figure(path, run, results, out_dir / f"{path.stem}_ic_vs_T.png")]
    for item in results.get("rt", []):
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in item["segment"])
        made.append(rt_figure(path, run, item, out_dir / f"{path.stem}_{safe}_RT.png"))
    return [p for p in made if p is not None]
