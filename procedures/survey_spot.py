"""One spot of the contact survey: approach, drift check, classification, the regime's
measurement (see :mod:`pcsdaq.procedures.survey`). Every decision is kept with its reason."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from pcsdaq.analysis.io import AnalysisInputError
from pcsdaq.procedures.adaptive_sweep import AdaptiveBiasSweep, measure_adaptive
from pcsdaq.procedures.approach import ApproachFailed, NeedleApproach, NeedleCrash
from pcsdaq.procedures.bias_sweep import BiasSweep, Environment, measure_sweep, sweep_range
from pcsdaq.procedures.rt_log import RTLog
from pcsdaq.procedures.waits import StabilityTimeout, wait_temperature

if TYPE_CHECKING:
    from pcsdaq.procedures.survey import ContactSurvey
    from pcsdaq.procedures.survey_context import SpotContext

KB_MEV_PER_K = 0.08617333
#: R changed by more than this fraction over the spot's measurement: flagged as drifted
DRIFTED_FRACTION = 0.1


class SpotMeasurement:
    """Measure one spot with the survey's parameters; :meth:`run` returns its record."""

    def __init__(self, survey: ContactSurvey, ctx: SpotContext, pos: list[int],
                 decisions: list[dict] | None = None) -> None:
        self.s = survey
        self.ctx = ctx
        self.pos = list(pos)
        #: the spot's decisions so far (a spot measured again keeps those of the first try)
        self.decisions: list[dict] = decisions if decisions is not None else []
        self.values: dict[str, Any] = {}
        self.t0 = ctx.clock.now()

    def decide(self, decision: str, reason: str) -> None:
        """Keep and log one decision with its reason."""
        self.decisions.append({"t_s": round(self.ctx.clock.now() - self.t0, 3),
                               "decision": decision, "reason": reason})
        self.ctx.log(f"{decision}: {reason}")

    def record(self, **values: Any) -> dict:
        """The spot's row of the summary (see survey_summary.CSV_COLUMNS) plus decisions."""
        rec: dict[str, Any] = {"spot": self.ctx.spot, "x_steps": self.pos[0],
                               "y_steps": self.pos[1], "R_ohm": None, "R_normal_ohm": None,
                               "diameter_nm": None,
                               "regime": None, "tc_K": None, "tc_definition": "",
                               "delta_meV": None, "Z": None, "gamma_meV": None, "ic_A": None,
                               "verdict": None}
        rec.update(self.values)
        rec.update(values)
        rec["reason"] = self.decisions[-1]["reason"] if self.decisions else ""
        rec["decisions"] = list(self.decisions)
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in rec.items()}

    # --- steps ------------------------------------------------------------------------------
    def run(self) -> dict:
        """Approach, check, classify, measure; the record."""
        s, ctx = self.s, self.ctx
        approach = NeedleApproach.from_parameters({
            "target_min_ohm": s.target_min_ohm, "target_max_ohm": s.target_max_ohm,
            "crash_ohm": s.crash_ohm, "steps_per_burst": s.steps_per_burst,
            "retract_steps": max(1, s.steps_per_burst // 2),
            "max_total_steps": s.approach_max_steps, "step_voltage_V": s.step_voltage_V,
            "sine_voltage_V": s.sine_voltage_V})
        try:
            approach.execute_on(ctx)
        except NeedleCrash as exc:
            self.decide("short: move on", f"R = {exc.resistance_ohm:.3g} Ohm below crash_ohm "
                        f"= {s.crash_ohm:g} Ohm: the needle crashed into a short")
            return self.record(R_ohm=exc.resistance_ohm, regime="short", verdict="short")
        except ApproachFailed as exc:
            s.step_back(ctx, exc.net_steps)  # pressed all the way in: back to where it began
            if exc.resistance_ohm > s.target_max_ohm:
                self.decide("open: move on", f"no contact after {s.approach_max_steps} "
                            f"steps (R = {exc.resistance_ohm:.3g} Ohm)")
                return self.record(regime="open", verdict="open")
            self.decide("unusable: move on", str(exc))
            return self.record(R_ohm=exc.resistance_ohm, regime="unusable", verdict="unusable")
        from pcsdaq.analysis.series import size_regime

        r0 = s.read_resistance(ctx)  # the approach's last reading may not have settled
        if r0 < s.crash_ohm:
            self.decide("short: move on", f"R settled at {r0:.3g} Ohm (the approach read "
                        f"{ctx.metadata['contact_resistance_ohm']:.3g} Ohm), below crash_ohm "
                        f"= {s.crash_ohm:g} Ohm: the needle crashed into a short")
            return self.record(R_ohm=r0, regime="short", verdict="short")
        d_nm, size = size_regime(r0)
        self.values.update(R_ohm=r0, diameter_nm=d_nm)
        self.decide("contact", f"R = {r0:.3g} Ohm (approach read "
                    f"{ctx.metadata['contact_resistance_ohm']:.3g} Ohm in [{s.target_min_ohm:g}, "
                    f"{s.target_max_ohm:g}] Ohm): d = {d_nm or math.nan:.3g} nm, size regime "
                    f"{size}")
        if s.drift_wait_s > 0:
            ctx.clock.sleep(s.drift_wait_s)
            r1 = s.read_resistance(ctx)
            rate = (r1 - r0) / r0 / s.drift_wait_s * 60.0
            if abs(rate) > s.drift_limit_per_min:
                self.decide("drifting: move on", f"R went {r0:.4g} -> {r1:.4g} Ohm in "
                            f"{s.drift_wait_s:g} s ({100 * rate:+.2g} %/min, limit "
                            f"{100 * s.drift_limit_per_min:g} %/min)")
                return self.record(regime="drifting", verdict="drifting")
        base = self.base_spectrum()
        regime = self.classify(base)
        self.values.update(regime=regime)
        if regime == "ballistic":
            self.temperature_series(base)
        elif regime in ("intermediate", "thermal"):
            self.r_of_t(base)
        s.to_base(ctx)
        r_end = s.read_resistance(ctx)
        if r_end < s.crash_ohm:
            self.decide("short during the measurement: results kept, flagged",
                        f"R fell to {r_end:.3g} Ohm")
            self.values["verdict"] = f"{self.values.get('verdict')}; crashed"
        elif abs(r_end / r0 - 1.0) > DRIFTED_FRACTION:
            self.decide("drifted during the measurement: results flagged",
                        f"R {r0:.4g} -> {r_end:.4g} Ohm")
            self.values["verdict"] = f"{self.values.get('verdict')}; drifted"
        return self.record()

    def base_spectrum(self) -> dict | None:
        """A uniform spectrum over +-max_bias_mV at base temperature, fitted and judged."""
        try:
            res = self.uniform_spectrum("base")
        except AnalysisInputError as exc:
            self.decide("unusable spectrum", f"the base spectrum cannot be fitted: {exc}")
            return None
        rn = float(res.get("normal_resistance_ohm", math.nan))
        if math.isfinite(rn) and rn > 0:
            from pcsdaq.analysis.series import size_regime

            d_nm, size = size_regime(rn)
            self.values.update(R_normal_ohm=rn, diameter_nm=d_nm)
            self.decide("normal-state resistance", f"R_N = {rn:.3g} Ohm from the base "
                        f"spectrum's outermost 15 % of |V| (zero bias {self.values['R_ohm']:.3g} "
                        f"Ohm): d = {d_nm or math.nan:.3g} nm, size regime {size}")
        if res.get("ic_A") is not None:
            self.values["ic_of_T"] = [[float(res["temperature_K"]), float(res["ic_A"])]]
        return res

    def uniform_spectrum(self, name: str, n_points: int | None = None, **attrs: Any) -> dict:
        """A uniform spectrum of ``n_points`` (default the survey's) over +-max_bias_mV
        (segment ``name``) at the present temperature, fitted and annotated (dips, I_c in A,
        regimes); AnalysisInputError when it cannot be fitted."""
        from pcsdaq.analysis.series import annotate_spectrum
        from pcsdaq.analysis.spectra import normal_conductance
        from pcsdaq.analysis.spectrum_fit import fit_spectrum
        from pcsdaq.analysis.switching import add_dip_currents

        s, ctx = self.s, self.ctx
        sweep = BiasSweep.from_parameters({
            "max_bias_mV": s.max_bias_mV, "n_points": n_points or s.n_points,
            "sensitivity_V": s.sensitivity_V, "sine_voltage_V": s.sine_voltage_V,
            "time_constant_s": s.time_constant_s})
        station = ctx.station
        with station.lock:
            sweep.configure_lockin(station.lockin)
        env = Environment(station, sweep.env_interval_s)
        t, b = env.read(force=True)
        rng = sweep_range(ctx, sweep)
        ctx.begin_segment(name, temperature_K=t, field_T=b, **attrs, **rng)
        measure_sweep(ctx, sweep, env, max_current_A=rng["max_current_A"])
        bias = np.array(ctx.column("V_dc_V"))
        g = np.array(ctx.column("dIdV_S"))
        res = fit_spectrum(bias, g, t)
        # Wexler's diameter and a V_c / R_N fallback want the normal-state resistance: the
        # spectrum's high-bias conductance, not the zero-bias reading below Tc
        rn = 1.0 / normal_conductance(bias, g) if len(g) else math.nan
        res["normal_resistance_ohm"] = rn
        res["resistance_ohm"] = rn if math.isfinite(rn) and rn > 0 else self.values["R_ohm"]
        res["conductance_in_siemens"] = True
        add_dip_currents(res, np.array(ctx.column("I_dc_A")), bias)
        return annotate_spectrum(res)

    def ic_of_t(self, tc_K: float) -> None:
        """I_c(T): uniform spectra on the way back to base, at ``ic_fractions`` of the R(T)
        Tc (highest first: the stage cools anyway), I_c from each one's dips
        (:func:`pcsdaq.analysis.series.critical_current_A`, through annotate_spectrum); a
        temperature without dips gives no point."""
        s, ctx = self.s, self.ctx
        setpoints = sorted((f * tc_K for f in s.ic_fraction_list()
                            if s.base_temperature_K < f * tc_K <= s.rt_end_K), reverse=True)
        if not setpoints:
            return
        self.decide("I_c(T)", f"dip spectra at {', '.join(f'{t:.3g}' for t in setpoints)} K "
                    f"(fractions {s.ic_fractions} of Tc = {tc_K:.3g} K)")
        station = ctx.station
        with station.lock:
            station.thermometer.set_ramp(0.0, enabled=False)
            station.thermometer.set_heater_range(s.heater_range)
        points = list(self.values.get("ic_of_T") or [])
        for i, sp in enumerate(setpoints):
            with station.lock:
                station.thermometer.set_setpoint(sp)
            try:
                t = wait_temperature(ctx, sp, max(s.tolerance_K, 0.01 * sp), s.window_s, 1800.0)
                res = self.uniform_spectrum(f"ic{i:02d}_{sp:.3g}K", s.ic_points,
                                            setpoint_K=sp, index=i)
            except (StabilityTimeout, AnalysisInputError) as exc:
                self.decide("I_c point skipped", f"{sp:.3g} K: {exc}")
                continue
            ic = res.get("ic_A")
            if ic is None:  # near Tc the dips may sink into the noise; lower down they return
                self.decide("no I_c at this temperature", f"no dips at {t:.3g} K")
                continue
            points.append([t, float(ic)])
        self.values["ic_of_T"] = sorted(points)
        if len(points) > 1:
            self.decide("I_c(T)", "; ".join(f"{t:.3g} K: {ic * 1e3:.3g} mA"
                                            for t, ic in sorted(points)))

    def classify(self, res: dict | None) -> str:
        """The regime from the base spectrum's fit (see the module doc of survey)."""
        if res is None:
            self.values["verdict"] = "unusable"
            return "unusable"
        self.values.update(delta_meV=res.get("delta_meV"), Z=abs(res.get("Z", math.nan)),
                           gamma_meV=res.get("gamma_meV"), ic_A=res.get("ic_A"),
                           verdict=res["verdict"])
        reasons = "; ".join(res.get("reasons", []))
        if not res.get("gap_features", True):
            self.values.update(delta_meV=None, Z=None, gamma_meV=None)
            self.decide("no superconductivity: move on", "no gap features above the noise "
                        "in the base spectrum")
            return "none"
        if res["verdict"] == "poor" and not res.get("dips_mV"):
            self.decide("unusable: move on", f"base spectrum verdict poor: {reasons}")
            return "unusable"
        regime = str(res["regime_spectrum"])
        self.decide(f"regime {regime}", f"verdict {res['verdict']}, dips at "
                    f"{res.get('dips_mV') or 'none'} mV, Delta = {res.get('delta_meV', 0):.3g} "
                    f"meV; size regime {res.get('regime_size')}")
        return regime

    def temperature_series(self, base: dict | None) -> None:
        """Adaptive spectra at fractions of the Tc the base gap suggests; Tc from the BCS
        fit of Delta(T)."""
        from pcsdaq.analysis.bcs_fit import fit_gap_vs_temperature

        s, ctx = self.s, self.ctx
        assert base is not None
        d0 = float(base["delta_meV"])
        tc_est = d0 / (1.764 * KB_MEV_PER_K)
        temps, gaps, errs = [float(base["temperature_K"])], [d0], [
            float(base.get("delta_meV_err") or 0.05 * d0)]
        setpoints = [f * tc_est for f in s.fractions() if f * tc_est <= s.rt_end_K]
        self.decide("temperature series", f"Delta(base) = {d0:.3g} meV suggests Tc ~ "
                    f"{tc_est:.3g} K: spectra at {', '.join(f'{t:.3g}' for t in setpoints)} K")
        station = ctx.station
        r = float(self.values["R_ohm"])
        sweep = AdaptiveBiasSweep.from_parameters({
            "max_current_A": min(s.max_bias_mV * 1e-3 / r, 1e-2), "n_points": 31,
            "max_points": s.series_points, "target_delta_rel_err": 0.01,
            "sensitivity_V": s.sensitivity_V, "sine_voltage_V": s.sine_voltage_V,
            "time_constant_s": s.time_constant_s, "fit_window_mV": s.max_bias_mV})
        with station.lock:
            station.thermometer.set_heater_range(s.heater_range)
        for i, sp in enumerate(setpoints):
            with station.lock:
                station.thermometer.set_setpoint(sp)
            try:
                t = wait_temperature(ctx, sp, max(s.tolerance_K, 0.01 * sp), s.window_s, 1800.0)
            except StabilityTimeout as exc:
                self.decide("series point skipped", str(exc))
                continue
            with station.lock:
                sweep.configure_lockin(station.lockin)
            env = Environment(station, sweep.env_interval_s)
            ctx.begin_segment(f"T{i:02d}_{sp:.3g}K", temperature_K=t, setpoint_K=sp, index=i,
                              adaptive=1)
            sampler = sweep.sampler(t)
            measure_adaptive(ctx, sweep, env, sampler)
            fit = sampler.fit
            if fit is None or not fit.success or not math.isfinite(fit.delta_meV_err) or \
                    fit.delta_meV < 0.05:
                self.decide("gap gone", f"no gap fitted at {t:.3g} K: series ends")
                break
            temps.append(t)
            gaps.append(fit.delta_meV)
            errs.append(max(fit.delta_meV_err, 1e-3))
        if len(temps) < 3:
            self.decide("no spectroscopic Tc", f"only {len(temps)} gaps in the series")
            self.values.update(tc_K=tc_est, tc_definition="BCS ratio from Delta(base) "
                               "(Delta = 1.764 k_B Tc)")
            return
        try:
            bcs = fit_gap_vs_temperature(temps, gaps, errs)
        except ValueError as exc:
            bcs = {"failed": True, "reason": str(exc)}
        if bcs.get("failed"):
            self.decide("BCS fit failed", str(bcs.get("reason", bcs)))
            self.values.update(tc_K=tc_est, tc_definition="BCS ratio from Delta(base) "
                               "(Delta = 1.764 k_B Tc)")
            return
        self.values.update(tc_K=bcs["tc_K"], delta_meV=bcs["delta0_meV"],
                           tc_definition="spectroscopic: BCS fit of Delta(T)")
        self.decide("Tc", f"BCS fit of {len(temps)} gaps: Tc = {bcs['tc_K']:.3g} K, "
                    f"Delta(0) = {bcs['delta0_meV']:.3g} meV")

    def r_of_t(self, base: dict | None) -> None:
        """R(T) from base to rt_end_K; Tc by the two-slope crossing."""
        from pcsdaq.analysis.tc import tc_from_rt

        s, ctx = self.s, self.ctx
        self.decide("R(T)", f"dips / zero-bias enhancement: R(T) to {s.rt_end_K:g} K at "
                    f"{s.rt_rate_K_per_min:g} K/min; I_c from the dips = "
                    f"{self.values.get('ic_A')} A")
        log = RTLog.from_parameters({
            "start_K": s.base_temperature_K, "end_K": s.rt_end_K,
            "rate_K_per_min": s.rt_rate_K_per_min, "heater_range": s.heater_range,
            "interval_s": s.rt_interval_s, "sine_voltage_V": s.sine_voltage_V,
            "time_constant_s": max(s.time_constant_s, 0.1), "sensitivity_V": s.sensitivity_V,
            "fields_T": [0.0]})
        log.execute_on(self.ctx)
        try:
            tc = tc_from_rt(ctx.column("temperature_K"), ctx.column("R_Ohm"))
        except ValueError as exc:
            self.decide("no Tc from R(T)", str(exc))
            return
        self.values.update(tc_K=tc.tc_two_slope_K,
                           tc_definition="two-slope crossing of R(T) (paper SI VII)")
        self.decide("Tc", f"R(T): two-slope {tc.tc_two_slope_K:.3g} K, midpoint "
                    f"{tc.tc_midpoint_K:.3g} K")
        if base is not None and base.get("dips_mV") and math.isfinite(tc.tc_two_slope_K):
            self.ic_of_t(float(tc.tc_two_slope_K))
