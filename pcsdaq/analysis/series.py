"""The paper's analyses over a series of spectra and R(T) curves (API of ``pcsdaq analyze``).

* per spectrum: critical current at the innermost dip pair: the switching current measured
  across the dip (current-biased sweeps, pcsdaq.analysis.switching), else the integral of
  dI/dV up to the dip, else V_c / R_N, and the regime from the
  spectrum (dips and Andreev structure) and from the size (Wexler diameter, paper preset, with
  the sample's mean free paths as settings);
* over a series: Delta(T) from the spectra whose verdict is good or degenerate (the others
  are listed as left out), the BCS fit (spectroscopic Tc), Delta(H), I_c(T) and I_c(H);
* R(T): every Tc definition per segment, Hc2(T) from the Tc at each field;
* over many contacts: the distribution of Tc and Delta (mean, spread, histogram counts).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pcsdaq.analysis.io import AnalysisInputError


def _innermost_mean(dips_mV: list[float], values: list[float]) -> float:
    neg = [(abs(d), abs(q)) for d, q in zip(dips_mV, values) if d < 0]
    pos = [(d, abs(q)) for d, q in zip(dips_mV, values) if d > 0]
    return float(np.mean([min(side)[1] for side in (neg, pos) if side]))


def critical_current_A(dips_mV: list[float], resistance_ohm: float | None,
                       dip_integrals: list[float] | None = None,
                       conductance_in_siemens: bool = False,
                       dip_currents_A: list[float | None] | None = None) -> float | None:
    """I_c in A at the innermost dip on each side (mean of both signs). Best: the switching
    currents measured across each dip (``dip_currents_A``, from the sweep's DC current and
    voltage, pcsdaq.analysis.switching); else the integrals of the measured dI/dV from 0 to
    each dip (``dip_integrals``; in A when the conductance is in S, else divided by R_N),
    right for a densely sampled bias but high by up to a current step where the bias jumps
    across the dip; otherwise V_c / R_N (an underestimate when Andreev reflection raises G
    below V_c). None when there are no dips or nothing to convert with."""
    if not dips_mV:
        return None
    if dip_currents_A and len(dip_currents_A) == len(dips_mV):
        known = [(d, q) for d, q in zip(dips_mV, dip_currents_A) if q is not None]
        if known:
            return _innermost_mean([d for d, _ in known], [q for _, q in known])
    if dip_integrals and len(dip_integrals) == len(dips_mV):
        scale = 1.0 if conductance_in_siemens else (
            1.0 / resistance_ohm if resistance_ohm and math.isfinite(resistance_ohm) else None)
        if scale is not None:
            return _innermost_mean(dips_mV, dip_integrals) * scale
    if not resistance_ohm or not math.isfinite(resistance_ohm):
        return None
    neg_mV = [abs(d) for d in dips_mV if d < 0]
    pos_mV = [d for d in dips_mV if d > 0]
    inner_mV = [min(side) for side in (neg_mV, pos_mV) if side]
    return float(np.mean(inner_mV)) * 1e-3 / resistance_ohm


def spectrum_regime(result: dict) -> str:
    """ballistic / intermediate / thermal from a fit result: no dips -> ballistic; dips with
    Andreev structure below them (a fitted gap inside the window with verdict reasons not
    claiming an impossible zero-bias enhancement) -> intermediate; otherwise thermal."""
    dips = result.get("dips_mV") or []
    if not dips:
        return "ballistic"
    reasons = " ".join(result.get("reasons", []))
    if "exceeds 2" in reasons:
        return "thermal"
    window = result.get("window_mV")
    delta = result.get("delta_meV")
    if window and delta and delta < window:
        return "intermediate"
    return "thermal"


def size_regime(resistance_ohm: float | None, *, elastic_mfp_m: float = 20e-9,
                inelastic_mfp_m: float = 150e-9) -> tuple[float | None, str | None]:
    """(diameter in nm, regime) from R_N (Wexler, paper preset); (None, None) without R."""
    from pcsdaq.physics import wexler

    if not resistance_ohm or not math.isfinite(resistance_ohm) or resistance_ohm <= 0:
        return None, None
    d = wexler.contact_diameter(resistance_ohm, "paper")
    return d * 1e9, wexler.regime(d, elastic_mfp_m, inelastic_mfp_m)


def annotate_spectrum(result: dict, **mfp) -> dict:
    """Add ``ic_A``, ``regime_spectrum``, ``diameter_nm``, ``regime_size`` and ``regime`` (the
    spectrum's, which sees dips the size alone cannot) to a fit result, in place."""
    r = result.get("resistance_ohm")
    # dips of the conductance, else switches seen in V(I) (pcsdaq.analysis.switching)
    result["ic_A"] = critical_current_A(result.get("dips_mV") or result.get("switches_mV") or [],
                                        r,
                                        result.get("dip_integrals"),
                                        bool(result.get("conductance_in_siemens")),
                                        result.get("dip_currents_A"))
    result["regime_spectrum"] = spectrum_regime(result)
    result["diameter_nm"], result["regime_size"] = size_regime(r, **mfp)
    result["regime"] = result["regime_spectrum"]
    return result


def _trusted_gap(s: dict) -> bool:
    verdict = s.get("verdict", "good")
    err = s.get("delta_meV_err")
    determined = err is not None and math.isfinite(err) and err <= 0.1 * abs(s["delta_meV"])
    below_dips = (verdict == "not-ballistic" and s.get("regime_spectrum") == "intermediate"
                  and s.get("window_mV") is not None)
    return s.get("gap_features", True) and (
        verdict == "good" or (verdict == "degenerate" and determined)
        or (below_dips and determined))


def _no_hc2_below_dips(fit: dict, below: int, used: int) -> dict:
    """A Delta(H) fit over gaps fitted below the critical-current dips, reported as failed:
    such a gap is the BTK part of a contact whose Maxwell part is superconducting up to
    I_c, a lower bound whose field dependence is not the gap's (PHYSICS.md): its Hc2 is no
    result. The numbers go under ``rejected``; Hc2 comes from R(T) at several fields."""
    keys = ("delta0_meV", "hc2_T")
    rejected = {k: fit.pop(k) for k in keys if k in fit}
    return {**fit, **{k: None for k in keys}, "rejected": rejected,
            "failed": f"{below} of the {used} gaps are fitted below the critical-current "
                      "dips of a contact that is not ballistic (lower bounds): Delta(H) of "
                      "such gaps does not give Hc2; take Hc2 from R(T) at several fields"}


def gap_series(spectra: list[dict]) -> dict[str, Any]:
    """Delta(T), Delta(H), I_c(T), I_c(H) over the fitted spectra of one contact.

    Only gaps that can be trusted enter the gap fits: verdict ``good``, or ``degenerate``
    with Delta determined to 10 %, or an intermediate-regime spectrum fitted below its dips
    with Delta determined to 10 % (counted in ``gaps_below_dips``: lower bounds), and gap
    features in the spectrum; the others (``poor``, thermal, no gap features, undetermined)
    are listed in ``left_out`` with their verdicts. A BCS or Delta(H) fit needs >= 3
    temperatures or fields and is reported as failed, with the reason, when unphysical; a
    Delta(H) fit over gaps below the dips always (no Hc2 from lower bounds: R(T) gives it)."""
    from pcsdaq.analysis.bcs_fit import fit_gap_vs_field, fit_gap_vs_temperature

    fitted = [s for s in spectra if "delta_meV" in s]
    used = [s for s in fitted if _trusted_gap(s)]
    out: dict[str, Any] = {"left_out": [{"segment": s.get("segment"),
                                          "temperature_K": s.get("temperature_K"),
                                          "verdict": s.get("verdict")}
                                         for s in fitted if s not in used]}
    below = sum(s.get("verdict") == "not-ballistic" for s in used)
    if below:
        out["gaps_below_dips"] = below
    if len({round(s["temperature_K"], 2) for s in fitted}) >= 3 and \
            len({round(s["temperature_K"], 2) for s in used}) < 3:
        out["bcs"] = {"failed": f"only {len(used)} of {len(fitted)} spectra have a gap to "
                                "trust (see left_out): no BCS fit"}
    fields = np.array([s.get("field_T", 0.0) for s in used], dtype=float)
    temps = np.array([s["temperature_K"] for s in used], dtype=float)
    if len({round(t, 2) for t in temps}) >= 3:
        same_field = np.abs(fields - np.nanmedian(fields)) < 0.05 if fields.size else []
        sel = [s for s, k in zip(used, same_field) if k]
        if len({round(s["temperature_K"], 2) for s in sel}) >= 3:
            try:
                out["bcs"] = fit_gap_vs_temperature([s["temperature_K"] for s in sel],
                                                    [s["delta_meV"] for s in sel],
                                                    [s.get("delta_meV_err", math.nan) for s in sel])
                if "failed" not in out["bcs"]:
                    out["tc_spectroscopic_K"] = out["bcs"]["tc_K"]
            except ValueError as exc:
                out["bcs"] = {"failed": str(exc)}
    if len({round(f, 3) for f in fields if math.isfinite(f)}) >= 3:
        try:
            out["field"] = fit_gap_vs_field(fields, [s["delta_meV"] for s in used],
                                            [s.get("delta_meV_err", math.nan) for s in used])
        except ValueError as exc:
            out["field"] = {"failed": str(exc)}
        if below and "failed" not in out["field"]:
            out["field"] = _no_hc2_below_dips(out["field"], below, len(used))
    feat = [(s["temperature_K"], s.get("gap_features")) for s in spectra
            if s.get("temperature_K") is not None and s.get("gap_features") is not None]
    with_f = [t for t, f in feat if f]
    without = [t for t, f in feat if not f and with_f and t > max(with_f)]
    if with_f and without:
        out["tc_features_vanish_K"] = {
            "last_with_gap_features_K": max(with_f), "first_without_K": min(without),
            "definition": "spectroscopic Tc: where the gap features vanish (between these)"}
    with_ic = [s for s in spectra if s.get("ic_A")]
    if with_ic:
        points = [{"temperature_K": s.get("temperature_K"), "field_T": s.get("field_T"),
                   "ic_A": s["ic_A"]} for s in with_ic]
        temps_ic = {round(p["temperature_K"] or 0.0, 2) for p in points}
        fields_ic = {round(p["field_T"] or 0.0, 3) for p in points}
        if len(temps_ic) >= len(fields_ic):
            out["ic_vs_T"] = sorted(points, key=lambda p: p["temperature_K"] or 0.0)
        else:
            out["ic_vs_H"] = sorted(points, key=lambda p: abs(p["field_T"] or 0.0))
    return out


def rt_segments(run) -> list[dict]:
    """Tc by every definition for each R(T) segment of a run (RunData), with its field."""
    from pcsdaq.analysis.tc import tc_from_rt

    out = []
    for seg in run.segments:
        cols = seg.columns
        spectrum = "dIdV_S" in cols and np.isfinite(cols["dIdV_S"]).sum() >= 8
        if "R_Ohm" in cols and "temperature_K" in cols and \
                np.isfinite(cols["R_Ohm"]).sum() >= 10 and not spectrum:
            field = cols.get("field_T")
            b = float(np.nanmean(field)) if field is not None and np.isfinite(field).any() \
                else float(seg.attrs.get("field_T", math.nan))
            try:
                res = tc_from_rt(cols["temperature_K"], cols["R_Ohm"])
                out.append({"segment": seg.name, "field_T": b, **res.as_dict()})
            except ValueError as exc:
                out.append({"segment": seg.name, "field_T": b, "error": str(exc)})
    return out


def hc2_of(rt: list[dict]) -> dict:
    """Hc2(T) from the R(T) segments' Tc (two-slope) at their fields."""
    from pcsdaq.analysis.tc import hc2_from_tc

    good = [r for r in rt if "tc_K" in r and math.isfinite(r.get("field_T", math.nan))]
    return hc2_from_tc([r["field_T"] for r in good], [r["tc_K"] for r in good])


def rt_of_run(path, *, onset_K=None, lower_drop=(0.1, 0.5)) -> dict:
    """``pcsdaq tc RUN.h5``: Tc of every R(T) segment and Hc2(T) across the fields."""
    from pcsdaq.analysis.tc import tc_from_rt
    from pcsdaq.storage import read_run
    from pcsdaq.storage.reader import RunFileError

    try:
        run = read_run(path)
    except (RunFileError, OSError, RuntimeError, KeyError, ValueError) as exc:
        raise AnalysisInputError(f"{path}: cannot read the run ({exc})") from exc
    segs = rt_segments(run)
    if onset_K is not None or tuple(lower_drop) != (0.1, 0.5):
        for s in segs:
            seg = next(x for x in run.segments if x.name == s["segment"])
            try:
                s.update(tc_from_rt(seg.columns["temperature_K"], seg.columns["R_Ohm"],
                                    onset_K=onset_K, lower_drop=lower_drop).as_dict())
            except ValueError as exc:
                s["error"] = str(exc)
    if not segs:
        raise AnalysisInputError(f"{path}: no R(T) segment (columns temperature_K, R_Ohm)")
    return {"file": str(path), "rt": segs, "hc2": hc2_of(segs)}


def distribution(values, bins: int = 10) -> dict:
    """Mean, standard deviation, median, count and histogram (counts, edges) of values."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    if not v.size:
        return {"n": 0}
    counts, edges = np.histogram(v, bins=min(bins, max(v.size, 1)))
    return {"n": int(v.size), "mean": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1
            else 0.0, "median": float(np.median(v)), "counts": counts.tolist(),
            "edges": edges.tolist()}
