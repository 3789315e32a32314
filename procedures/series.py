"""Series of spectra: one bias sweep per temperature (TemperatureSeries) or per field
(FieldSeries), each spectrum one segment of the run; resumable after a crash.

Resume is keyed by the setpoint's index in the list, never by its value: a hysteresis loop
``[0, 0.5, 0]`` measures zero field twice. The resume state is ``{"completed_indices": [...],
"next_index": k}``; a spectrum interrupted half-way is measured again whole (a new segment).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pymeasure.experiment import BooleanParameter, FloatParameter, IntegerParameter, ListParameter

from pcsdaq.limits import max_rate_on_path
from pcsdaq.procedures.base import FloatListParameter, check_max, require_roles, role_limit
from pcsdaq.procedures.bias_sweep import (
    BiasSweep,
    Environment,
    lockin_settings,
    measure_sweep,
)
from pcsdaq.procedures.waits import StabilityTimeout, wait_field, wait_temperature

if TYPE_CHECKING:
    from pcsdaq.procedures.base import RunContext
    from pcsdaq.station_schema import StationConfig


def magnet_table(station_config: StationConfig) -> list | None:
    """The station magnet's ramp table [[upper T, rate T/min], ...] (its driver's hardware
    table when the file gives none), or None without a magnet."""
    rc = station_config.roles.get("magnet")
    if rc is None:
        return None
    return rc.settings.get("ramp_table") or getattr(rc.driver_class, "HARDWARE_RAMP_TABLE", None)


def field_path_problems(station_config: StationConfig, fields: list[float], rate: float,
                        zero_at_end: bool, start: float = 0.0) -> list[str]:
    """Simulate the field path start -> fields[0] -> ... (-> 0) against the magnet's ramp
    table: a requested ``rate`` (T/min, 0 = the table's) that the table forbids anywhere on
    a leg is a problem now, not an hour into the run."""
    table = magnet_table(station_config)
    if table is None or not rate:
        return []
    path = [start, *fields] + ([0.0] if zero_at_end else [])
    problems = []
    for k, (a, b) in enumerate(zip(path, path[1:])):
        if a == b:
            continue
        allowed = max_rate_on_path(table, a, b)
        if rate > allowed:
            leg = f"fields_T[{k}]" if k < len(fields) else "the ramp to zero at the end"
            problems.append(f"ramp_rate_T_per_min = {rate:g} T/min exceeds the magnet's ramp "
                            f"table on the way to {leg} ({a:g} -> {b:g} T allows at most "
                            f"{allowed:g} T/min)")
    return problems


def completed_indices(resume_state: dict) -> list[int]:
    """The setpoint indices (from 0) a crashed earlier run of this step completed."""
    return [int(k) for k in resume_state.get("completed_indices", [])]


class TemperatureSeries(BiasSweep):
    """For each setpoint: go there, wait until stable, then a bias sweep."""

    NAME: ClassVar[str] = "temperature_series"

    setpoints_K = FloatListParameter("Temperature setpoints", units="K", minimum=0.3,
                                     maximum=320.0, default=[2.0, 5.0, 10.0])
    heater_range = IntegerParameter("Heater range", minimum=0, maximum=8, default=4)
    tolerance_K = FloatParameter("Stability tolerance", units="K", minimum=1e-4, maximum=10.0,
                                 default=0.02)
    window_s = FloatParameter("Stability window", units="s", minimum=0.0, maximum=36000.0,
                              default=60.0)
    timeout_s = FloatParameter("Stabilisation timeout", units="s", minimum=1.0,
                               maximum=360000.0, default=3600.0)
    on_timeout = ListParameter("On timeout", choices=["continue", "fail"], default="continue")

    def validate(self, station_config: StationConfig) -> list[str]:
        """Sweep limits plus every setpoint and the heater range (no I/O)."""
        problems = super().validate(station_config)
        require_roles(problems, station_config, ("thermometer",), self.NAME)
        t_max = role_limit(station_config, "thermometer", "max_temperature_K")
        for i, sp in enumerate(self.setpoints_K):
            check_max(problems, f"setpoints_K[{i}]", sp, t_max, "K", "temperature limit")
        check_max(problems, "heater_range", self.heater_range,
                  role_limit(station_config, "thermometer", "max_heater_range"), "",
                  "heater range limit")
        return problems

    def estimate_duration_s(self, station_config: StationConfig) -> float:
        """Per setpoint: stabilisation (~3 window lengths + 5 min) plus the sweep, s."""
        per = 3 * self.window_s + 300.0 + super().estimate_duration_s(station_config)
        return len(self.setpoints_K) * per

    def execute_on(self, ctx: RunContext) -> None:
        """Setpoints in order; those completed in a crashed earlier run are skipped."""
        station = ctx.station
        done = completed_indices(ctx.resume_state)
        with station.lock:
            self.configure_lockin(station.lockin)
            station.thermometer.set_heater_range(self.heater_range)
        env = Environment(station, self.env_interval_s)
        n = len(self.setpoints_K)
        for i, sp in enumerate(self.setpoints_K):
            if i in done:
                ctx.log(f"setpoint {i + 1} of {n} ({sp:g} K) done in an earlier run: skipped")
                continue
            with station.lock:
                station.thermometer.set_setpoint(sp)
            ctx.log(f"going to {sp:g} K")
            try:
                t = wait_temperature(ctx, sp, self.tolerance_K, self.window_s, self.timeout_s)
            except StabilityTimeout as exc:
                if self.on_timeout == "fail":
                    raise
                ctx.log(f"{exc}; measuring anyway", level="warning")
                t = env.read(force=True)[0]
            b = env.read(force=True)[1]
            ctx.begin_segment(f"T{i:02d}_{sp:g}K", temperature_K=t, setpoint_K=sp, field_T=b,
                              index=i, lockin=lockin_settings(station))
            measure_sweep(ctx, self, env, progress=(i / n, 1.0 / n))
            done.append(i)
            ctx.save_resume_state(completed_indices=done, next_index=i + 1)


class FieldSeries(BiasSweep):
    """For each field: ramp within the magnet's limits, wait for holding, then a bias sweep.
    A quench stops the run (QuenchError)."""

    NAME: ClassVar[str] = "field_series"

    fields_T = FloatListParameter("Fields", units="T", minimum=-7.0, maximum=7.0,
                                  default=[0.0, 1.0, 2.0])
    ramp_rate_T_per_min = FloatParameter("Ramp rate (0 = magnet table)", units="T/min",
                                         minimum=0.0, maximum=10.0, default=0.0)
    hold_timeout_s = FloatParameter("Ramp timeout", units="s", minimum=1.0, maximum=360000.0,
                                    default=7200.0)
    zero_at_end = BooleanParameter("Ramp to zero at the end", default=True)

    def validate(self, station_config: StationConfig) -> list[str]:
        """Sweep limits plus every field against the magnet limit (no I/O; the driver also
        checks the ramp-rate table when ramping)."""
        problems = super().validate(station_config)
        require_roles(problems, station_config, ("magnet",), self.NAME)
        b_max = role_limit(station_config, "magnet", "max_field_T")
        for i, b in enumerate(self.fields_T):
            check_max(problems, f"fields_T[{i}]", b, b_max, "T", "field limit")
        problems += field_path_problems(station_config, self.fields_T,
                                        self.ramp_rate_T_per_min, self.zero_at_end)
        return problems

    def estimate_duration_s(self, station_config: StationConfig) -> float:
        """Ramps at the slowest table rate plus one sweep per field, s."""
        table = magnet_table(station_config) or [[7.0, 0.1]]
        path = [0.0, *self.fields_T] + ([0.0] if self.zero_at_end else [])
        ramp_s = 0.0
        for a, b in zip(path, path[1:]):
            if a != b:
                rate = max_rate_on_path(table, a, b)
                if self.ramp_rate_T_per_min:
                    rate = min(rate, self.ramp_rate_T_per_min)
                ramp_s += 60.0 * abs(b - a) / rate
        return ramp_s + len(self.fields_T) * super().estimate_duration_s(station_config)

    def execute_on(self, ctx: RunContext) -> None:
        """Fields in order; those completed in a crashed earlier run are skipped."""
        station = ctx.station
        done = completed_indices(ctx.resume_state)
        with station.lock:
            self.configure_lockin(station.lockin)
        env = Environment(station, self.env_interval_s)
        rate = self.ramp_rate_T_per_min or None
        n = len(self.fields_T)
        for i, b in enumerate(self.fields_T):
            if i in done:
                ctx.log(f"field {i + 1} of {n} ({b:g} T) done in an earlier run: skipped")
                continue
            with station.lock:
                station.magnet.ramp_to(b, rate)
            ctx.log(f"ramping to {b:g} T")
            field = wait_field(ctx, b, self.hold_timeout_s)
            t = env.read(force=True)[0]
            ctx.begin_segment(f"B{i:02d}_{b:g}T", temperature_K=t, field_T=field, index=i,
                              lockin=lockin_settings(station))
            measure_sweep(ctx, self, env, progress=(i / n, 1.0 / n))
            done.append(i)
            ctx.save_resume_state(completed_indices=done, next_index=i + 1)
        if self.zero_at_end:
            with station.lock:
                station.magnet.ramp_to(0.0, rate)
            wait_field(ctx, 0.0, self.hold_timeout_s)
