"""Contact resistance versus temperature during a controlled cooldown or warm-up (RTLog)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

from pymeasure.experiment import FloatParameter, IntegerParameter

from pcsdaq.procedures.base import (
    FloatListParameter,
    StationProcedure,
)
from pcsdaq.procedures.bias_sweep import (
    FLAG_TEMPERATURE_INVALID,
    contact_resistance,
    lockin_status_flags,
)
from pcsdaq.procedures.conditions import Condition, Conditions
from pcsdaq.procedures.lockin_parameters import (
    sensitivity_parameter,
    sine_voltage_parameter,
    time_constant_parameter,
)
from pcsdaq.procedures.waits import (
    HeaterResponseWatch,
    InvalidReadingWatch,
    StabilityTimeout,
    check_heater,
    reading_status,
    wait_field,
    wait_temperature,
)

if TYPE_CHECKING:
    from pcsdaq.procedures.base import RunContext
    from pcsdaq.station_schema import StationConfig


class RTLog(StationProcedure):
    """R(T) at a fixed small current, at each of the stated fields: go to the field, go to
    start_K, then ramp the setpoint to end_K at rate_K_per_min while logging every
    interval_s; one segment per field.

    Every row also reads the thermometer's reading status, the heater status and the
    lock-in's latched status: an invalid reading gives T = NaN and a flag (for longer than
    ``INVALID_GRACE_S`` the step ends safe), an open heater or a stage that does not follow
    a warming ramp ends the step safe, an overload or unlock flags the row (the flags
    column uses the bias sweep's bits).

    After a retry or ``--resume``, finished fields are skipped and an interrupted ramp
    continues from the present temperature in a new segment (``continued`` attribute), so
    a fault late in a long log does not send it back to start_K."""

    NAME: ClassVar[str] = "rt_log"
    REQUIRED_ROLES: ClassVar[tuple[str, ...]] = ("lockin", "thermometer")
    ROLE_LIMITS: ClassVar[dict[str, tuple[str, str]]] = {
        "start_K": ("thermometer", "max_temperature_K"),
        "end_K": ("thermometer", "max_temperature_K"),
        "rate_K_per_min": ("thermometer", "max_ramp_K_per_min"),
        "heater_range": ("thermometer", "max_heater_range"),
        "current_A": ("bias", "max_current_A"),  # 0: no DC current, no bias source needed
        "sine_voltage_V": ("lockin", "max_sine_voltage_V"),
        "fields_T": ("magnet", "max_field_T"),  # all 0 T: no magnet needed
    }
    COLUMNS: ClassVar[dict[str, str]] = {"time_s": "s", "temperature_K": "K",
                                         "sensor_ohm": "Ohm", "R_Ohm": "Ohm", "X_V": "V",
                                         "Y_V": "V", "field_T": "T", "flags": ""}
    SIGNAL: ClassVar[str] = "R_Ohm"
    AXES: ClassVar[list[str]] = ["temperature_K"]

    start_K = FloatParameter("Start temperature", units="K", minimum=0.3, maximum=320.0,
                             default=25.0)
    end_K = FloatParameter("End temperature", units="K", minimum=0.3, maximum=320.0,
                           default=2.0)
    rate_K_per_min = FloatParameter("Ramp rate", units="K/min", minimum=1e-3, maximum=100.0,
                                    default=0.5)
    heater_range = IntegerParameter("Heater range", minimum=0, maximum=8, default=5)
    interval_s = FloatParameter("Log interval", units="s", minimum=0.01, maximum=3600.0,
                                default=5.0)
    current_A = FloatParameter("DC bias current", units="A", minimum=-0.1, maximum=0.1,
                               default=0.0)
    sine_voltage_V = sine_voltage_parameter()
    time_constant_s = time_constant_parameter(0.3, maximum=30.0)
    sensitivity_V = sensitivity_parameter(1e-4)
    fields_T = FloatListParameter("Fields", units="T", minimum=-7.0, maximum=7.0, default=[0.0])
    timeout_s = FloatParameter("Timeout per field", units="s", minimum=10.0, maximum=1e6,
                               default=36000.0)

    def validate(self, station_config: StationConfig) -> list[str]:
        """Temperatures, rate, heater, current and fields against the limits (the table),
        and a timeout long enough for the ramp (no I/O)."""
        problems = super().validate(station_config)
        ramp_s = 60.0 * abs(self.start_K - self.end_K) / self.rate_K_per_min
        if ramp_s > self.timeout_s:
            problems.append(f"timeout_s = {self.timeout_s:g} s is shorter than the ramp "
                            f"({ramp_s:.0f} s from {self.start_K:g} to {self.end_K:g} K at "
                            f"{self.rate_K_per_min:g} K/min): the log would end unfinished")
        return problems

    def conditions(self) -> Conditions:
        """A temperature ramp start_K -> end_K at each stated field; leaves end_K and the
        last field."""
        return Conditions(Condition("ramped", (self.start_K, self.end_K), self.end_K),
                          Condition("stated", tuple(self.fields_T), self.fields_T[-1]))

    def estimate_duration_s(self, station_config: StationConfig) -> float:
        """Per field: reaching start_K (~10 min) plus the ramp, s."""
        ramp = abs(self.start_K - self.end_K) / self.rate_K_per_min * 60.0
        return len(self.fields_T) * (600.0 + ramp)

    def execute_on(self, ctx: RunContext) -> None:
        """One R(T) segment per field; every field is ramped to (also 0 T: the step before
        may have left another)."""
        station = ctx.station
        therm, lockin = station.thermometer, station.lockin
        with station.lock:
            lockin.sine_voltage = self.sine_voltage_V
            lockin.time_constant = self.time_constant_s
            lockin.filter_slope = 24
            lockin.sensitivity = self.sensitivity_V
            if self.current_A and station.bias is not None:
                station.bias.set_current(self.current_A)
            therm.set_heater_range(self.heater_range)
        n = len(self.fields_T)
        done = [int(k) for k in ctx.resume_state.get("completed_field_indices", [])]
        ramping = ctx.resume_state.get("ramping_field_index")
        try:
            for i, b in enumerate(self.fields_T):
                if i in done:
                    ctx.log(f"R(T) at field index {i} ({b:g} T) done earlier: skipped")
                    continue
                if station.magnet is not None:
                    with station.lock:
                        station.magnet.ramp_to(b)
                    wait_field(ctx, b, self.timeout_s)
                self._one_field(ctx, i, b, n, continued=ramping == i)
                done.append(i)
                ctx.save_resume_state(completed_field_indices=done, ramping_field_index=None)
        finally:
            with station.lock:
                therm.set_ramp(0.0, enabled=False)
                if self.current_A and station.bias is not None:
                    station.bias.zero()

    def _one_field(self, ctx: RunContext, i: int, field: float, n: int,
                   continued: bool = False) -> None:
        station = ctx.station
        therm, lockin = station.thermometer, station.lockin
        start_K = self.start_K
        if continued:  # an interrupted ramp: go on from where the stage is now
            with station.lock:
                now_K = therm.read_temperature()
                valid = not reading_status(therm)
            if valid and min(self.start_K, self.end_K) <= now_K <= max(self.start_K,
                                                                        self.end_K):
                start_K = now_K
                ctx.log(f"continuing the interrupted R(T) ramp from {now_K:.4g} K")
            else:
                continued = False
        with station.lock:
            therm.set_ramp(0.0, enabled=False)
            therm.set_setpoint(start_K)
        if not continued:
            try:
                wait_temperature(ctx, self.start_K, max(0.02 * self.start_K, 0.05), 0.0,
                                 self.timeout_s)
            except StabilityTimeout as exc:
                ctx.log(f"{exc}; starting the ramp anyway", level="warning")
        with station.lock:
            therm.set_ramp(self.rate_K_per_min)
            therm.set_setpoint(self.end_K)
        with station.lock:
            t_start = therm.read_temperature()
            b_start = station.magnet.read_field() if station.magnet is not None else field
        ctx.save_resume_state(ramping_field_index=i)
        ctx.begin_segment(f"RT{i:02d}_{field:g}T", field_T=field, stated_field_T=field,
                          start_field_T=b_start, start_temperature_K=t_start,
                          start_K=start_K, end_K=self.end_K,
                          rate_K_per_min=self.rate_K_per_min, continued=continued)
        t0 = station.clock.now()
        span = abs(start_K - self.end_K)
        tol = max(0.01 * self.end_K, 0.02)
        invalid = InvalidReadingWatch(station.clock)
        warming = self.end_K > self.start_K
        # the stage must follow a warming ramp: a tenth of the way within 30 min or 3x the
        # time the ramp needs for it, whichever is longer
        response = HeaterResponseWatch(station.clock, self.end_K, tol, window_s=max(
            1800.0, 3 * 60.0 * 0.1 * abs(self.start_K - self.end_K) / self.rate_K_per_min))
        lockin_status_flags(lockin)  # clear what latched before the log
        while True:
            station.clock.sleep(self.interval_s)
            flags = 0
            with station.lock:
                t = therm.read_temperature()
                status = reading_status(therm)
                check_heater(therm)
                sensor = therm.read_resistance()
                x, y = lockin.read_xy()
                flags |= lockin_status_flags(lockin)
                b = station.magnet.read_field() if station.magnet is not None else field
            invalid.update(status, t)
            if status:
                t, flags = math.nan, flags | FLAG_TEMPERATURE_INVALID
            elif warming:
                response.update(t)
            now = station.clock.now()
            ctx.record({"time_s": now - t0, "temperature_K": t, "sensor_ohm": sensor,
                        "R_Ohm": contact_resistance(x, lockin), "X_V": x, "Y_V": y,
                        "field_T": b, "flags": float(flags)})
            if math.isfinite(t):
                done = min(abs(t - start_K) / span, 1.0) if span else 1.0
                ctx.progress((i + done) / n)
            if abs(t - self.end_K) <= tol or now - t0 > self.timeout_s:
                break
            ctx.checkpoint()
