"""dI/dV spectrum with adaptively placed bias points (AdaptiveBiasSweep).

The same point transaction as BiasSweep (bias step, V_dc while the lock-in settles, one
SNAP? of X/Y, overload re-measure), with the biases chosen batch by batch by
:class:`pcsdaq.procedures.adaptive_sampling.AdaptiveBiasSampler`: a coarse pass, then points
where the spectrum bends and where the gap's uncertainty falls most, until the gap's
relative error, the point budget or the lab-time budget stops it. A jump larger than the
coarse grid's step waits longer (:func:`jump_wait_s`). Rows are stored in acquisition order
with their batch number; each batch's BTK fit is logged and published as an event.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from pymeasure.experiment import FloatParameter, IntegerParameter

from pcsdaq.procedures.adaptive_sampling import AdaptiveBiasSampler, StopRule, jump_wait_s
from pcsdaq.procedures.bias_sweep import (
    SWEEP_COLUMNS,
    BiasSweep,
    Environment,
    _LockinState,
    _read_point,
    lockin_settings,
)

if TYPE_CHECKING:
    from pcsdaq.procedures.base import RunContext
    from pcsdaq.station_schema import StationConfig

ADAPTIVE_COLUMNS = {**SWEEP_COLUMNS, "batch": ""}


class AdaptiveBiasSweep(BiasSweep):
    """One spectrum with adaptive bias sampling; ``max_current_A`` spans the sweep,
    ``n_points`` is the coarse pass, ``max_points`` the point budget."""

    NAME: ClassVar[str] = "adaptive_sweep"
    COLUMNS: ClassVar[dict[str, str]] = ADAPTIVE_COLUMNS

    n_points = IntegerParameter("Points of the coarse pass", minimum=9, maximum=100001,
                                default=21)
    batch_points = IntegerParameter("Points per adaptive batch", minimum=1, maximum=200,
                                    default=8)
    max_points = IntegerParameter("Point budget", minimum=9, maximum=100001, default=400)
    target_delta_rel_err = FloatParameter("Stop at relative gap error", minimum=0.0,
                                          maximum=0.5, default=0.005)
    max_time_s = FloatParameter("Lab-time budget, 0 for none", units="s", minimum=0.0,
                                maximum=1e6, default=0.0)
    fit_window_mV = FloatParameter("Fit window |V|, 0 for all", units="mV", minimum=0.0,
                                   maximum=1000.0, default=0.0)

    def validate(self, station_config: StationConfig) -> list[str]:
        """BiasSweep's checks plus the budget (no I/O)."""
        problems = super().validate(station_config)
        if self.n_points > self.max_points:
            problems.append(f"{self.NAME}: n_points (coarse pass) = {self.n_points} exceeds "
                            f"max_points = {self.max_points}")
        return problems

    def estimate_duration_s(self, station_config: StationConfig) -> float:
        """The budget's worst case: max_points points (or the time budget if shorter), s."""
        from pcsdaq.procedures.bias_sweep import dmm_reading_time_s

        worst = self.max_points * self.point_time_s(dmm_reading_time_s(station_config))
        return min(worst, self.max_time_s) if self.max_time_s > 0 else worst

    def sampler(self, temperature_K: float) -> AdaptiveBiasSampler:
        """The sampler for this sweep's parameters at the sample's temperature."""
        rule = StopRule(self.target_delta_rel_err or None, self.max_points,
                        self.max_time_s or None)
        return AdaptiveBiasSampler(self.max_current_A, temperature_K, rule,
                                   n_coarse=self.n_points, batch=self.batch_points,
                                   window_mV=self.fit_window_mV or None)

    def execute_on(self, ctx: RunContext) -> None:
        """Configure the lock-in and measure one adaptive spectrum as one segment."""
        station = ctx.station
        with station.lock:
            self.configure_lockin(station.lockin)
        env = Environment(station, self.env_interval_s)
        t, b = env.read(force=True)
        ctx.begin_segment("sweep", temperature_K=t, field_T=b, index=0, adaptive=1,
                          lockin=lockin_settings(station))
        sampler = self.sampler(t if math.isfinite(t) and t > 0 else 0.0)
        measure_adaptive(ctx, self, env, sampler)


def measure_adaptive(ctx: RunContext, sweep: AdaptiveBiasSweep, env: Environment,
                     sampler: AdaptiveBiasSampler) -> int:
    """Measure batches until the sampler stops; bias back to zero at the end. Returns the
    number of points recorded."""
    station = ctx.station
    clock = station.clock
    t0 = clock.now()
    step_ref = 2.0 * sweep.max_current_A / (sweep.n_points - 1)
    budget = sampler.stop.max_points or sweep.max_points
    n = 0
    last: float | None = None
    batch = 0
    try:
        with station.lock:
            state = _LockinState(station.lockin, sweep.settle_factor)
            lockin = station.lockin
        xs = sampler.first_points()
        while xs.size:
            got_x, got_v, got_g = [], [], []
            for current in xs.tolist():
                jump = 2.0 * sweep.max_current_A if last is None else current - last
                wait = jump_wait_s(lambda a: lockin.settle_time(sweep.settle_factor, a),
                                   jump, step_ref) if jump else state.wait_s
                wait = max(wait, state.wait_s)
                with station.lock:
                    got = station.bias.set_current(current)
                    set_at = clock.now()
                    x, y, v_dc, flags = _read_point(station, state, set_at,
                                                    sweep.dc_settle_s, wait)
                    temp, field = env.read()
                last = current
                actual = float(got)
                dvdi = state.resistance(x)
                didv = 1.0 / dvdi if dvdi > 0 else math.nan
                ctx.record({"time_s": clock.now() - t0, "bias_set_A": current, "V_dc_V": v_dc,
                            "I_dc_A": actual, "X_V": x, "Y_V": y, "dIdV_S": didv,
                            "dVdI_Ohm": dvdi, "temperature_K": temp, "field_T": field,
                            "flags": float(flags), "batch": float(batch)})
                n += 1
                got_x.append(current)
                got_v.append(v_dc * 1e3)
                got_g.append(didv)
                ctx.progress(min(n / budget, 0.99))
                ctx.checkpoint()
            sampler.tell(np.asarray(got_x), np.asarray(got_v), np.asarray(got_g),
                         lab_time_s=clock.now() - t0)
            fit = sampler.fit
            if fit is not None:
                ctx.log(f"adaptive batch {batch}: {n} points, Delta = {fit.delta_meV:.4g} "
                        f"+- {fit.delta_meV_err:.2g} meV, Z = {fit.Z:.3g}, "
                        f"Gamma = {fit.gamma_meV:.3g} meV")
            batch += 1
            xs = sampler.next_points()
        ctx.log(f"adaptive sweep stopped: {sampler.reason} ({n} points)")
        ctx.set_metadata(adaptive_stop_reason=sampler.reason, adaptive_points=n)
        ctx.progress(1.0)
    finally:
        with station.lock:
            station.bias.zero()
    return n
