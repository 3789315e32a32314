"""Series of spectra: one bias sweep per temperature (TemperatureSeries) or per field
(FieldSeries), each spectrum one segment of the run; resumable after a crash.

Each series states what it holds fixed: a temperature series the field it runs at
(``field_T``, or ``keep_field: true`` for the present one), a field series the temperature
(``temperature_K``, stabilised as the temperature series does, or ``keep_temperature:
true``). Left unstated, the series measures wherever the step before left the cryostat and
``pcsdaq run --check`` warns.

Resume is keyed by the setpoint's index in the list, never by its value: a hysteresis loop
``[0, 0.5, 0]`` measures zero field twice. The resume state is ``{"completed_indices": [...],
"next_index": k}``; a spectrum interrupted half-way is measured again whole (a new segment).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

from pymeasure.experiment import BooleanParameter, FloatParameter, IntegerParameter, ListParameter

from pcsdaq.limits import max_rate_on_path
from pcsdaq.procedures.base import FloatListParameter, check_max, require_roles, role_limit
from pcsdaq.procedures.bias_sweep import (
    BiasSweep,
    Environment,
    lockin_settings,
    measure_sweep,
    sweep_range,
)
from pcsdaq.procedures.conditions import (
    Condition,
    Conditions,
    both_given_problem,
    condition,
    is_stated,
)
from pcsdaq.procedures.waits import StabilityTimeout, wait_field, wait_temperature

NOT_STATED = math.nan  #: default of an optional fixed temperature/field: not stated


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


class _Stabilised(BiasSweep):
    """Stabilisation parameters shared by the series: heater range, tolerance, window,
    timeout and what to do on a timeout."""

    heater_range = IntegerParameter("Heater range", minimum=0, maximum=8, default=4)
    tolerance_K = FloatParameter("Stability tolerance", units="K", minimum=1e-4, maximum=10.0,
                                 default=0.02)
    window_s = FloatParameter("Stability window", units="s", minimum=0.0, maximum=36000.0,
                              default=60.0)
    timeout_s = FloatParameter("Stabilisation timeout", units="s", minimum=1.0,
                               maximum=360000.0, default=3600.0)
    on_timeout = ListParameter("On timeout", choices=["continue", "fail"], default="continue")

    def _validate_heater(self, problems: list[str], station_config: StationConfig) -> None:
        """The heater range against the thermometer's limit (a series that stabilises)."""
        require_roles(problems, station_config, ("thermometer",), self.NAME)
        check_max(problems, "heater_range", self.heater_range,
                  role_limit(station_config, "thermometer", "max_heater_range"), "",
                  "heater range limit")

    def stabilise(self, ctx: RunContext, setpoint_K: float, env: Environment) -> float:
        """Set the setpoint and wait until stable (or the timeout, then per ``on_timeout``);
        returns T in K."""
        station = ctx.station
        with station.lock:
            station.thermometer.set_setpoint(setpoint_K)
        ctx.log(f"going to {setpoint_K:g} K")
        try:
            return wait_temperature(ctx, setpoint_K, self.tolerance_K, self.window_s,
                                    self.timeout_s)
        except StabilityTimeout as exc:
            if self.on_timeout == "fail":
                raise
            ctx.log(f"{exc}; measuring anyway", level="warning")
            return env.read(force=True)[0]


class TemperatureSeries(_Stabilised):
    """At the stated field, for each setpoint: go there, wait until stable, then a bias
    sweep."""

    NAME: ClassVar[str] = "temperature_series"
    REQUIRED_ROLES: ClassVar[tuple[str, ...]] = (*BiasSweep.REQUIRED_ROLES, "thermometer")
    ROLE_LIMITS: ClassVar[dict[str, tuple[str, str]]] = {
        **BiasSweep.ROLE_LIMITS,
        "heater_range": ("thermometer", "max_heater_range"),
        "setpoints_K": ("thermometer", "max_temperature_K"),
        "field_T": ("magnet", "max_field_T"),  # not stated (NaN) or 0 T: no magnet needed
    }

    setpoints_K = FloatListParameter("Temperature setpoints", units="K", minimum=0.3,
                                     maximum=320.0, default=[2.0, 5.0, 10.0])
    field_T = FloatParameter("Field held during the series (nan = not stated)", units="T",
                             minimum=-7.0, maximum=7.0, default=NOT_STATED)
    keep_field = BooleanParameter("Keep the present field", default=False)

    def validate(self, station_config: StationConfig) -> list[str]:
        """Sweep limits plus every setpoint, the heater range and the field (the table), and
        the field stated one way only (no I/O)."""
        problems = super().validate(station_config)
        problems += both_given_problem("field_T", self.field_T, "keep_field", self.keep_field)
        return problems

    def conditions(self) -> Conditions:
        """The setpoints (stated) at the stated / kept / inherited field."""
        return Conditions(Condition("stated", tuple(self.setpoints_K), self.setpoints_K[-1]),
                          condition(self.field_T, self.keep_field))

    def estimate_duration_s(self, station_config: StationConfig) -> float:
        """Per setpoint: stabilisation (~3 window lengths + 5 min) plus the sweep, s."""
        per = 3 * self.window_s + 300.0 + super().estimate_duration_s(station_config)
        return len(self.setpoints_K) * per

    def execute_on(self, ctx: RunContext) -> None:
        """The stated field first, then the setpoints in order; those completed in a crashed
        earlier run are skipped."""
        station = ctx.station
        done = completed_indices(ctx.resume_state)
        with station.lock:
            self.configure_lockin(station.lockin)
            station.thermometer.set_heater_range(self.heater_range)
        if is_stated(self.field_T) and station.magnet is not None:
            with station.lock:
                station.magnet.ramp_to(self.field_T)
            ctx.log(f"field {self.field_T:g} T for the series")
            wait_field(ctx, self.field_T, self.timeout_s)
        env = Environment(station, self.env_interval_s)
        n = len(self.setpoints_K)
        for i, sp in enumerate(self.setpoints_K):
            if i in done:
                ctx.log(f"setpoint {i + 1} of {n} ({sp:g} K) done in an earlier run: skipped")
                continue
            t = self.stabilise(ctx, sp, env)
            b = env.read(force=True)[1]
            max_current = sweep_range(ctx, self)
            ctx.begin_segment(f"T{i:02d}_{sp:g}K", temperature_K=t, setpoint_K=sp, field_T=b,
                              stated_temperature_K=sp, stated_field_T=self.field_T,
                              index=i, lockin=lockin_settings(station), **max_current)
            measure_sweep(ctx, self, env, progress=(i / n, 1.0 / n),
                          max_current_A=max_current["max_current_A"])
            done.append(i)
            ctx.save_resume_state(completed_indices=done, next_index=i + 1)


class FieldSeries(_Stabilised):
    """At the stated temperature (stabilised first), for each field: ramp within the
    magnet's limits, wait for holding, then a bias sweep. A quench stops the run
    (QuenchError)."""

    NAME: ClassVar[str] = "field_series"
    REQUIRED_ROLES: ClassVar[tuple[str, ...]] = (*BiasSweep.REQUIRED_ROLES, "magnet")
    ROLE_LIMITS: ClassVar[dict[str, tuple[str, str]]] = {
        **BiasSweep.ROLE_LIMITS,
        "fields_T": ("magnet", "max_field_T"),
        "temperature_K": ("thermometer", "max_temperature_K"),  # NaN: not stated
    }

    fields_T = FloatListParameter("Fields", units="T", minimum=-7.0, maximum=7.0,
                                  default=[0.0, 1.0, 2.0])
    temperature_K = FloatParameter("Temperature held during the series (nan = not stated)",
                                   units="K", minimum=0.3, maximum=320.0, default=NOT_STATED)
    keep_temperature = BooleanParameter("Keep the present temperature", default=False)
    ramp_rate_T_per_min = FloatParameter("Ramp rate (0 = magnet table)", units="T/min",
                                         minimum=0.0, maximum=10.0, default=0.0)
    hold_timeout_s = FloatParameter("Ramp timeout", units="s", minimum=1.0, maximum=360000.0,
                                    default=7200.0)
    zero_at_end = BooleanParameter("Ramp to zero at the end", default=True)

    def validate(self, station_config: StationConfig) -> list[str]:
        """Sweep limits plus every field against the magnet limit and the temperature (no
        I/O; the driver also checks the ramp-rate table when ramping)."""
        problems = super().validate(station_config)
        problems += field_path_problems(station_config, self.fields_T,
                                        self.ramp_rate_T_per_min, self.zero_at_end)
        problems += both_given_problem("temperature_K", self.temperature_K,
                                       "keep_temperature", self.keep_temperature)
        if is_stated(self.temperature_K):  # stabilised there: the heater range matters
            self._validate_heater(problems, station_config)
        return problems

    def conditions(self) -> Conditions:
        """The fields (stated) at the stated / kept / inherited temperature."""
        end = 0.0 if self.zero_at_end else self.fields_T[-1]
        return Conditions(condition(self.temperature_K, self.keep_temperature),
                          Condition("stated", tuple(self.fields_T), end))

    def estimate_duration_s(self, station_config: StationConfig) -> float:
        """Stabilisation (if a temperature is stated), ramps at the slowest table rate plus
        one sweep per field, s."""
        table = magnet_table(station_config) or [[7.0, 0.1]]
        path = [0.0, *self.fields_T] + ([0.0] if self.zero_at_end else [])
        ramp_s = 0.0
        for a, b in zip(path, path[1:]):
            if a != b:
                rate = max_rate_on_path(table, a, b)
                if self.ramp_rate_T_per_min:
                    rate = min(rate, self.ramp_rate_T_per_min)
                ramp_s += 60.0 * abs(b - a) / rate
        settle = 3 * self.window_s + 300.0 if is_stated(self.temperature_K) else 0.0
        return settle + ramp_s + len(self.fields_T) * super().estimate_duration_s(station_config)

    def execute_on(self, ctx: RunContext) -> None:
        """The stated temperature first, then the fields in order; those completed in a
        crashed earlier run are skipped."""
        station = ctx.station
        done = completed_indices(ctx.resume_state)
        with station.lock:
            self.configure_lockin(station.lockin)
        env = Environment(station, self.env_interval_s)
        if is_stated(self.temperature_K):
            with station.lock:
                station.thermometer.set_heater_range(self.heater_range)
            self.stabilise(ctx, self.temperature_K, env)
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
            max_current = sweep_range(ctx, self)
            ctx.begin_segment(f"B{i:02d}_{b:g}T", temperature_K=t, field_T=field, index=i,
                              stated_temperature_K=self.temperature_K, stated_field_T=b,
                              lockin=lockin_settings(station), **max_current)
            measure_sweep(ctx, self, env, progress=(i / n, 1.0 / n),
                          max_current_A=max_current["max_current_A"])
            done.append(i)
            ctx.save_resume_state(completed_indices=done, next_index=i + 1)
        if self.zero_at_end:
            with station.lock:
                station.magnet.ramp_to(0.0, rate)
            wait_field(ctx, 0.0, self.hold_timeout_s)
