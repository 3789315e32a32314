"""Walk the needle in until the contact resistance is inside a target window (NeedleApproach)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pymeasure.experiment import FloatParameter, IntegerParameter

from pcsdaq.errors import PcsdaqError
from pcsdaq.procedures.base import StationProcedure
from pcsdaq.procedures.bias_sweep import contact_resistance
from pcsdaq.procedures.lockin_parameters import sine_voltage_parameter, time_constant_parameter

if TYPE_CHECKING:
    from pcsdaq.procedures.base import RunContext
    from pcsdaq.station_schema import StationConfig


class ApproachFailed(PcsdaqError):
    """The needle did not reach the target window within the allowed steps; ``resistance_ohm``
    is the last reading and ``net_steps`` the net steps taken towards the sample."""

    def __init__(self, message: str, resistance_ohm: float = float("nan"),
                 net_steps: int = 0) -> None:
        super().__init__(message)
        self.resistance_ohm = resistance_ohm
        self.net_steps = net_steps


class NeedleCrash(ApproachFailed):
    """The resistance collapsed below ``crash_ohm``: the needle went through to a short."""


class NeedleApproach(StationProcedure):
    """Step the positioner while watching the zero-bias contact resistance (lock-in dV/dI).

    Above the window: step towards the sample; below it (pressed too hard): retract. Each
    burst is one row of the trajectory; the final resistance and the Wexler diameter are
    stored as run metadata."""

    NAME: ClassVar[str] = "needle_approach"
    REQUIRED_ROLES: ClassVar[tuple[str, ...]] = ("lockin", "positioner")
    ROLE_LIMITS: ClassVar[dict[str, tuple[str, str]]] = {
        "step_voltage_V": ("positioner", "max_voltage_V"),
        "steps_per_burst": ("positioner", "max_steps_per_burst"),
        "retract_steps": ("positioner", "max_steps_per_burst"),
        "sine_voltage_V": ("lockin", "max_sine_voltage_V"),
    }
    COLUMNS: ClassVar[dict[str, str]] = {"time_s": "s", "steps_total": "", "R_Ohm": "Ohm",
                                         "X_V": "V", "Y_V": "V"}
    SIGNAL: ClassVar[str] = "R_Ohm"
    AXES: ClassVar[list[str]] = ["steps_total"]

    target_min_ohm = FloatParameter("Target R min", units="Ohm", minimum=0.01, maximum=1e6,
                                    default=5.0)
    target_max_ohm = FloatParameter("Target R max", units="Ohm", minimum=0.01, maximum=1e6,
                                    default=20.0)
    steps_per_burst = IntegerParameter("Steps per burst", minimum=1, maximum=100000, default=2)
    retract_steps = IntegerParameter("Retract steps", minimum=1, maximum=100000, default=3)
    max_total_steps = IntegerParameter("Maximum steps in total", minimum=1, maximum=10000000,
                                       default=5000)
    crash_ohm = FloatParameter("Short below (needle crash, 0 = off)", units="Ohm", minimum=0.0,
                               maximum=1e3, default=0.0)
    step_voltage_V = FloatParameter("Step voltage", units="V", minimum=0.0, maximum=150.0,
                                    default=30.0)
    step_frequency_Hz = FloatParameter("Step frequency", units="Hz", minimum=1.0,
                                       maximum=10000.0, default=100.0)
    sine_voltage_V = sine_voltage_parameter()
    time_constant_s = time_constant_parameter(0.03, maximum=30.0)

    def validate(self, station_config: StationConfig) -> list[str]:
        """Piezo and excitation limits (the table) and the window order (no I/O)."""
        problems = super().validate(station_config)
        if self.crash_ohm >= self.target_min_ohm:
            problems.append(f"crash_ohm = {self.crash_ohm:g} Ohm must be below "
                            f"target_min_ohm = {self.target_min_ohm:g} Ohm")
        if self.target_min_ohm >= self.target_max_ohm:
            problems.append(f"target_min_ohm = {self.target_min_ohm:g} Ohm must be below "
                            f"target_max_ohm = {self.target_max_ohm:g} Ohm")
        return problems

    def estimate_duration_s(self, station_config: StationConfig) -> float:
        """A few hundred bursts at 10 time constants plus the stepping, s (an upper guess)."""
        bursts = min(self.max_total_steps / self.steps_per_burst, 300)
        return bursts * (10 * self.time_constant_s + self.steps_per_burst / self.step_frequency_Hz)

    def execute_on(self, ctx: RunContext) -> None:
        """Walk in (or back) until target_min_ohm <= R <= target_max_ohm."""
        station = ctx.station
        lockin, positioner = station.lockin, station.positioner
        with station.lock:
            lockin.sine_voltage = self.sine_voltage_V
            lockin.time_constant = self.time_constant_s
            lockin.filter_slope = 24
            lockin.sensitivity = 1.0  # an open contact shows the whole sine amplitude
            positioner.set_voltage(self.step_voltage_V)
            positioner.set_frequency(self.step_frequency_Hz)
        ctx.begin_segment("approach", target_min_ohm=self.target_min_ohm,
                          target_max_ohm=self.target_max_ohm)
        t0 = station.clock.now()
        steps_total = 0
        moved = 0
        while True:
            with station.lock:
                station.clock.sleep(lockin.settle_time(1.0))
                x, y = lockin.read_xy()
            r = contact_resistance(x, lockin)
            ctx.record({"time_s": station.clock.now() - t0, "steps_total": float(steps_total),
                        "R_Ohm": r, "X_V": x, "Y_V": y})
            if self.target_min_ohm <= r <= self.target_max_ohm:
                break
            if r < self.crash_ohm:
                raise NeedleCrash(f"needle_approach: R = {r:.4g} Ohm, below crash_ohm = "
                                  f"{self.crash_ohm:g} Ohm after {steps_total} net steps: "
                                  "the needle crashed into a short", r, steps_total)
            if moved >= self.max_total_steps:
                raise ApproachFailed(f"needle_approach: R = {r:.4g} Ohm after {moved} steps, "
                                     f"not in [{self.target_min_ohm:g}, "
                                     f"{self.target_max_ohm:g}] Ohm (max_total_steps)",
                                     r, steps_total)
            burst = self.steps_per_burst if r > self.target_max_ohm else -self.retract_steps
            with station.lock:
                positioner.step(burst)
            steps_total += burst
            moved += abs(burst)
            ctx.progress(min(moved / self.max_total_steps, 0.99))
            ctx.checkpoint()
        with station.lock:
            positioner.ground()
        meta: dict[str, Any] = {"contact_resistance_ohm": r, "approach_steps": steps_total}
        try:
            from pcsdaq.physics import wexler

            d = wexler.contact_diameter(r)
            meta.update(contact_diameter_nm=d * 1e9, diameter_convention="paper",
                        regime=wexler.regime(d))
        except ValueError:
            pass
        ctx.set_metadata(**meta)
        ctx.log(f"contact at R = {r:.3g} Ohm after {steps_total} net steps")
        ctx.progress(1.0)
