"""An unattended contact survey (ContactSurvey, plan name ``contact_survey``).

For each spot: approach to the target resistance window (:class:`NeedleApproach`, whose
``crash_ohm`` stops at a short), check that the contact holds still (R read twice
``drift_wait_s`` apart), classify it (the resistance gives the Wexler diameter and a size
regime; a spectrum at base temperature, fitted and judged by :mod:`pcsdaq.analysis`, gives
the verdict, the dips and the regime: ballistic / intermediate / thermal / none (no gap
features) / unusable), then run what the regime deserves:

* ballistic: a short temperature series of adaptive spectra (AdaptiveBiasSweep's sampler)
  up to the Tc the base gap suggests; Tc from the BCS fit of Delta(T) (spectroscopic);
* intermediate and thermal: R(T) from base up to ``rt_end_K`` (RTLog), Tc by the two-slope
  crossing; I_c from the dips of the base spectrum and, on the way back to base, of
  spectra at ``ic_fractions`` of that Tc (I_c(T));
* none, short, open, drifting, unusable: logged, nothing more;

then cool back to base, retract until the contact is open, move sideways (ANC300 lateral
axes, a serpentine raster of ``spots_per_row``), and repeat until ``n_spots`` spots or
``max_lab_time_s`` of lab time (no spot is begun when less than the median spot's lab
time is left). Every decision and its reason is logged, kept in the spot's
record (run metadata ``survey_spotNNN``) and in the summary (:mod:`survey_summary`), which
is rewritten after each spot into the data folder (``survey-<start>.csv`` / ``.hdf5``;
figures at the end).

Faults: a link fault during a spot reconnects the station and measures the spot again
once, then records it as ``fault`` and moves on; an instrument's refusal records the spot as
``fault``; a quench, an experiment fault (heater, thermometer) or an abort end the step (the
engine's safe state). The resume state (``spots`` done, ``next_spot``, its position, the
needle's lateral position ``needle_xy`` saved after every lateral burst, the lab time spent)
is saved as the survey goes, so ``pcsdaq run --resume`` after a crash moves the needle back
to the next spot's place (from the origin on a fresh simulated lab, else from where it was
left: ``resume_needle_at``) and continues there; a spot interrupted half-way is measured
again whole.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from pymeasure.experiment import FloatParameter, IntegerParameter, Parameter

from pcsdaq.errors import PcsdaqError, classify
from pcsdaq.procedures.adaptive_sweep import ADAPTIVE_COLUMNS
from pcsdaq.procedures.base import StationProcedure, role_limit
from pcsdaq.procedures.conditions import Condition, Conditions
from pcsdaq.procedures.survey_context import SpotContext
from pcsdaq.procedures.survey_spot import SpotMeasurement
from pcsdaq.procedures.waits import wait_temperature

if TYPE_CHECKING:
    from pcsdaq.procedures.base import RunContext
    from pcsdaq.station_schema import StationConfig

SURVEY_COLUMNS = {**ADAPTIVE_COLUMNS, "spot": "", "steps_total": "", "R_Ohm": "Ohm",
                  "sensor_ohm": "Ohm"}
#: a contact reading above this (Ohm) is open: safe to move sideways
OPEN_OHM = 1e4
#: where the needle stands when a survey resumes (parameter ``resume_needle_at``): ``origin``
#: (a fresh simulated lab, or a positioner reset), ``kept`` (where the survey last moved it:
#: a real positioner, a served lab that kept running), ``auto`` (origin when the run made
#: its own simulated lab, ``--sim``; kept otherwise)
RESUME_NEEDLE_AT = ("auto", "origin", "kept")


class SurveyEnd(PcsdaqError):
    """The needle cannot be retracted to an open contact: moving sideways would drag it."""


class ContactSurvey(StationProcedure):
    """Many contacts, one after another, each classified and measured as its regime deserves."""

    NAME: ClassVar[str] = "contact_survey"
    REQUIRED_ROLES: ClassVar[tuple[str, ...]] = ("lockin", "bias", "dmm", "thermometer",
                                                 "positioner")
    ROLE_LIMITS: ClassVar[dict[str, tuple[str, str]]] = {
        "step_voltage_V": ("positioner", "max_voltage_V"),
        "steps_per_burst": ("positioner", "max_steps_per_burst"),
        "retract_steps": ("positioner", "max_steps_per_burst"),
        "lateral_steps": ("positioner", "max_steps_per_burst"),
        "rt_end_K": ("thermometer", "max_temperature_K"),
        "heater_range": ("thermometer", "max_heater_range"),
        "sine_voltage_V": ("lockin", "max_sine_voltage_V"),
    }
    #: the needle's lateral position, x and y steps from the survey's start (see execute_on)
    needle_xy: list[int]
    COLUMNS: ClassVar[dict[str, str]] = SURVEY_COLUMNS
    SIGNAL: ClassVar[str] = "dIdV_S"
    AXES: ClassVar[list[str]] = ["V_dc_V"]

    n_spots = IntegerParameter("Spots to survey", minimum=1, maximum=100000, default=24)
    max_lab_time_s = FloatParameter("Lab-time budget", units="s", minimum=60.0, maximum=1e7,
                                    default=43200.0)
    spots_per_row = IntegerParameter("Spots per raster row", minimum=1, maximum=10000,
                                     default=10)
    lateral_steps = IntegerParameter("Lateral steps between spots", minimum=1,
                                     maximum=100000, default=100)
    needle = Parameter("Needle material for the summary (default the station's)", default="")
    resume_needle_at = Parameter("Needle position on resume (auto, origin or kept)",
                                 default="auto")
    # approach
    target_min_ohm = FloatParameter("Target R min", units="Ohm", minimum=0.01, maximum=1e6,
                                    default=1.5)
    target_max_ohm = FloatParameter("Target R max", units="Ohm", minimum=0.01, maximum=1e6,
                                    default=60.0)
    crash_ohm = FloatParameter("Short below (needle crash)", units="Ohm", minimum=0.0,
                               maximum=1e3, default=0.5)
    steps_per_burst = IntegerParameter("Approach steps per burst", minimum=1, maximum=100000,
                                       default=4)
    approach_max_steps = IntegerParameter("Approach step budget per spot", minimum=1,
                                          maximum=10000000, default=1200)
    retract_steps = IntegerParameter("Retract burst", minimum=1, maximum=100000, default=20)
    step_voltage_V = FloatParameter("Step voltage", units="V", minimum=0.0, maximum=150.0,
                                    default=30.0)
    drift_wait_s = FloatParameter("Drift check interval", units="s", minimum=0.0,
                                  maximum=3600.0, default=60.0)
    drift_limit_per_min = FloatParameter("Drift limit (fraction of R per minute)", minimum=0.0,
                                         maximum=10.0, default=0.03)
    # spectra
    max_bias_mV = FloatParameter("Spectrum range |V|", units="mV", minimum=0.1,
                                 maximum=1000.0, default=12.0)
    n_points = IntegerParameter("Points of the base spectrum", minimum=21, maximum=100001,
                                default=161)
    sensitivity_V = FloatParameter("Lock-in sensitivity", units="V", minimum=2e-9,
                                   maximum=1.0, default=1e-5)
    sine_voltage_V = FloatParameter("Sine amplitude", units="V", minimum=0.004, maximum=5.0,
                                    default=0.05)
    time_constant_s = FloatParameter("Lock-in time constant", units="s", minimum=1e-5,
                                     maximum=30.0, default=0.03)
    series_points = IntegerParameter("Point budget per series spectrum", minimum=21,
                                     maximum=100001, default=120)
    series_fractions = Parameter("Series temperatures as fractions of the estimated Tc",
                                 default="0.45, 0.65, 0.8, 0.9")
    ic_fractions = Parameter("I_c(T) temperatures as fractions of the R(T) Tc",
                             default="0.85, 0.6")
    ic_points = IntegerParameter("Points of an I_c(T) spectrum", minimum=21, maximum=100001,
                                 default=81)
    # temperatures
    base_temperature_K = FloatParameter("Base temperature", units="K", minimum=0.3,
                                        maximum=10.0, default=0.5)
    heater_range = IntegerParameter("Heater range", minimum=0, maximum=8, default=5)
    tolerance_K = FloatParameter("Stability tolerance", units="K", minimum=1e-4, maximum=10.0,
                                 default=0.05)
    window_s = FloatParameter("Stability window", units="s", minimum=0.0, maximum=36000.0,
                              default=20.0)
    rt_end_K = FloatParameter("R(T) up to", units="K", minimum=1.0, maximum=320.0,
                              default=24.0)
    rt_rate_K_per_min = FloatParameter("R(T) ramp rate", units="K/min", minimum=1e-3,
                                       maximum=100.0, default=2.0)
    rt_interval_s = FloatParameter("R(T) log interval", units="s", minimum=0.01,
                                   maximum=3600.0, default=3.0)

    def fractions(self) -> list[float]:
        """The series temperatures as fractions of the estimated Tc."""
        return _numbers(self.series_fractions)

    def ic_fraction_list(self) -> list[float]:
        """The I_c(T) temperatures as fractions of the R(T) Tc (empty: I_c at base only)."""
        return _numbers(self.ic_fractions)

    def validate(self, station_config: StationConfig) -> list[str]:
        """Roles and limits (the table), the lateral axes, windows and fractions (no I/O)."""
        problems = super().validate(station_config)
        rc = station_config.roles.get("positioner")
        if rc is not None and not hasattr(rc.driver_class, "step_lateral"):
            problems.append(f"{self.NAME}: the positioner {rc.driver_class.__name__} cannot "
                            "move the needle sideways (no lateral axes)")
        if not self.crash_ohm < self.target_min_ohm < self.target_max_ohm:
            problems.append(f"need crash_ohm ({self.crash_ohm:g}) < target_min_ohm "
                            f"({self.target_min_ohm:g}) < target_max_ohm "
                            f"({self.target_max_ohm:g}) Ohm")
        if self.resume_needle_at not in RESUME_NEEDLE_AT:
            problems.append(f"resume_needle_at = {self.resume_needle_at!r}; allowed: "
                            f"{', '.join(RESUME_NEEDLE_AT)}")
        try:
            fr = self.fractions()
            if not fr or not all(0.05 <= f <= 1.5 for f in fr):
                raise ValueError
        except ValueError:
            problems.append(f"series_fractions = {self.series_fractions!r}: expected a list "
                            "of numbers 0.05 to 1.5")
        try:
            if not all(0.05 <= f < 1.0 for f in self.ic_fraction_list()):
                raise ValueError
        except ValueError:
            problems.append(f"ic_fractions = {self.ic_fractions!r}: expected a list of "
                            "numbers 0.05 to 0.99 (or empty)")
        return problems

    def conditions(self) -> Conditions:
        """Temperatures from base up to rt_end_K, at zero field; ends at base."""
        return Conditions(Condition("ramped", (self.base_temperature_K, self.rt_end_K),
                                    self.base_temperature_K),
                          Condition("stated", (0.0,), 0.0))

    def estimate_duration_s(self, station_config: StationConfig) -> float:
        """About 25 min of lab time per spot, within the budget, s."""
        return min(self.n_spots * 1500.0, self.max_lab_time_s)

    # --- the survey -----------------------------------------------------------------------
    def execute_on(self, ctx: RunContext) -> None:
        """Spot after spot until the count or the lab-time budget; see the module doc."""
        station = ctx.station
        state = dict(ctx.resume_state)
        records: list[dict] = list(state.get("spots", []))
        k = int(state.get("next_spot", 0))
        pos = [int(v) for v in state.get("position", [0, 0])]
        moved = bool(state.get("moved", True))
        #: the needle's lateral position (x, y steps from the survey's start) as the survey
        #: last moved it, saved after every lateral burst
        self.needle_xy = [int(v) for v in state.get(
            "needle_xy", pos if moved else self.raster(max(k - 1, 0)))]
        spent = float(state.get("lab_time_s", 0.0))
        stem = str(state.get("stem") or f"survey-{datetime.now():%Y%m%d-%H%M%S}")
        folder = survey_folder(ctx)
        needle = self.needle or str((getattr(station.config, "sim", None) or {}).get("needle", ""))
        t0 = station.clock.now()
        ctx.set_metadata(survey_summary=f"{stem}.csv", survey_needle=needle)
        self.retract(ctx)
        if records or k:
            ctx.log(f"survey resumed: {len(records)} spots done, continuing with spot {k} at "
                    f"({pos[0]}, {pos[1]}) steps")
            if k < self.n_spots:
                self.return_needle(ctx, k, pos)
        self.to_base(ctx)
        ending = "all spots done"
        while k < self.n_spots:
            elapsed = spent + station.clock.now() - t0
            typical = typical_spot_s(records)
            if elapsed + typical > self.max_lab_time_s:
                ending = (f"lab-time budget spent ({elapsed / 3600:.2f} h of "
                          f"{self.max_lab_time_s / 3600:.3g} h; a spot takes ~"
                          f"{typical / 60:.0f} min)")
                break
            rec = self.one_spot(ctx, k, pos)
            rec["lab_time_s"] = spent + station.clock.now() - t0
            records.append(rec)
            ctx.set_metadata(**{f"survey_spot{k:03d}": rec})
            k += 1
            nxt = self.raster(k)
            ctx.save_resume_state(spots=records, next_spot=k, position=nxt, moved=False,
                                  lab_time_s=rec["lab_time_s"], stem=stem)
            self.write(records, folder, stem, needle, figures=False)
            ctx.progress(min(k / self.n_spots, 0.99))
            if k < self.n_spots:
                self.move_to_next(ctx, k, nxt)
            pos = nxt
            ctx.save_resume_state(position=pos, moved=True,
                                  lab_time_s=spent + station.clock.now() - t0)
        ctx.log(f"survey ended: {ending}; {len(records)} spots, summary {folder / stem}.csv")
        ctx.set_metadata(survey_ended=ending, survey_spots=len(records))
        self.write(records, folder, stem, needle, figures=True)
        ctx.progress(1.0)

    def raster(self, k: int) -> list[int]:
        """Lateral position (x, y steps from the start) of spot ``k``: a serpentine raster."""
        row, col = divmod(k, self.spots_per_row)
        if row % 2:
            col = self.spots_per_row - 1 - col
        return [col * self.lateral_steps, row * self.lateral_steps]

    def one_spot(self, ctx: RunContext, k: int, pos: list[int]) -> dict:
        """One spot's record; link faults reconnect and measure it again once; a refusal or
        a second fault records it as ``fault``."""
        station = ctx.station
        decisions: list[dict] = []
        for attempt in (1, 2):
            spot_ctx = SpotContext(ctx, k)
            measurement = SpotMeasurement(self, spot_ctx, pos, decisions)
            try:
                return measurement.run()
            except Exception as exc:
                kind = classify(exc)
                if kind in ("abort", "hard_stop", "experiment", "programming"):
                    raise
                measurement.decide("fault", f"{kind}: {type(exc).__name__}: {exc}")
                try:
                    with station.lock:
                        station.bias.zero()
                except Exception:
                    if kind != "link":
                        raise
                if kind == "link":
                    station.reconnect()  # raises when the station cannot be reopened
                    self.retract(ctx)
                    if attempt == 1:
                        measurement.decide("measure the spot again", "reconnected after a "
                                           "link fault")
                        continue
                rec = measurement.record(regime="fault", verdict="fault")
                return rec
        raise AssertionError("unreachable")

    def to_base(self, ctx: RunContext) -> float:
        """Heater off; wait until the stage is at base temperature. Returns T in K."""
        with ctx.station.lock:
            ctx.station.thermometer.set_ramp(0.0, enabled=False)
            ctx.station.thermometer.set_heater_range(0)
        return wait_temperature(ctx, self.base_temperature_K, self.tolerance_K, self.window_s,
                                3600.0)

    def read_resistance(self, ctx: RunContext, sensitive: bool = True) -> float:
        """Zero-bias contact resistance (Ohm), the lock-in settled to 1e-6 of a step (from an
        open contact's full sine amplitude to a few Ohm is a step of five decades): at the
        survey's sensitivity (stepped up on overload), or (``sensitive=False``) at the
        coarsest one, which an open contact does not overload."""
        from pcsdaq.procedures.bias_sweep import contact_resistance, zero_bias_resistance

        station = ctx.station
        with station.lock:
            lockin = station.lockin
            # a larger excitation for a quieter reading (still far below any contact's I_c)
            quiet = min(0.25, role_limit(station.config, "lockin", "max_sine_voltage_V") or 0.25)
            lockin.sine_voltage = max(self.sine_voltage_V, quiet) if sensitive \
                else self.sine_voltage_V
            lockin.time_constant = max(self.time_constant_s, 1.0) if sensitive \
                else self.time_constant_s  # a quieter reading for the drift check
            lockin.sensitivity = 5.0 * self.sensitivity_V if sensitive else 1.0
            wait = lockin.settle_time(1.0, 1e-6)
        station.clock.sleep(wait)
        if sensitive:
            return float(np.mean([zero_bias_resistance(station) for _ in range(3)]))
        with station.lock:
            x, _y = lockin.read_xy()
            return contact_resistance(x, lockin)

    def retract(self, ctx: RunContext, max_bursts: int = 200) -> int:
        """Step back until the contact is open (R > OPEN_OHM), then one burst more; returns
        the steps taken (negative: away from the sample). SurveyEnd when it stays closed."""
        station = ctx.station
        with station.lock:
            station.bias.zero()
            station.positioner.set_voltage(self.step_voltage_V)
        steps = 0
        for _ in range(max_bursts):
            if self.read_resistance(ctx, sensitive=False) > OPEN_OHM:
                with station.lock:
                    station.positioner.step(-self.retract_steps)
                    station.positioner.ground()
                return steps - self.retract_steps
            with station.lock:
                station.positioner.step(-self.retract_steps)
            steps -= self.retract_steps
            ctx.checkpoint()
        raise SurveyEnd(f"{self.NAME}: the contact stays closed after {-steps} steps back; "
                        "not moving sideways (the needle would be dragged)")

    def step_back(self, ctx: RunContext, steps: int) -> None:
        """Undo ``steps`` net steps towards the sample, in bursts of ``retract_steps``."""
        station = ctx.station
        while steps > 0:
            n = min(steps, self.retract_steps)
            with station.lock:
                station.positioner.step(-n)
            steps -= n

    def needle_on_resume(self, ctx: RunContext) -> tuple[list[int], str]:
        """Where the needle stands as a resumed survey begins (x, y steps from the survey's
        start) and why (parameter ``resume_needle_at``, see :data:`RESUME_NEEDLE_AT`)."""
        where = str(self.resume_needle_at)
        if where == "auto":
            where = "origin" if getattr(ctx.station, "fresh_sim_lab", False) else "kept"
            why = ("a fresh simulated lab: its needle starts at the lateral origin"
                   if where == "origin" else "the positioner keeps its place across a restart")
        else:
            why = f"resume_needle_at = {where}"
        return ([0, 0] if where == "origin" else list(self.needle_xy)), why

    def return_needle(self, ctx: RunContext, k: int, target: list[int]) -> None:
        """On resume: move the (retracted) needle from where it stands to spot ``k``'s
        position ``target``, so the next spot is the plan's, not whatever is under it."""
        self.needle_xy, why = self.needle_on_resume(ctx)
        ctx.save_resume_state(needle_xy=list(self.needle_xy), moved=False)
        if self.needle_xy == list(target):
            ctx.log(f"needle at ({target[0]}, {target[1]}) steps, spot {k}'s place ({why})")
        else:
            ctx.log(f"needle at ({self.needle_xy[0]}, {self.needle_xy[1]}) steps ({why}): "
                    f"moving it back to spot {k}")
            self.move_to_next(ctx, k, target)
        ctx.save_resume_state(position=list(target), moved=True)

    def move_to_next(self, ctx: RunContext, k: int, target: list[int]) -> None:
        """Retract until open, then step sideways from where the needle stands
        (``needle_xy``) to ``target`` in bursts of at most ``lateral_steps`` (the driver
        checks each against its burst limit); the position is saved after each burst."""
        self.retract(ctx)
        station = ctx.station
        for direction, i in (("x", 0), ("y", 1)):
            burst = self.lateral_steps
            while self.needle_xy[i] != target[i]:
                n = max(-burst, min(burst, target[i] - self.needle_xy[i]))
                with station.lock:
                    station.positioner.step_lateral(direction, n)  # type: ignore[attr-defined]
                self.needle_xy[i] += n
                ctx.save_resume_state(needle_xy=list(self.needle_xy))
                ctx.checkpoint()
        ctx.log(f"moved to spot {k} at ({target[0]}, {target[1]}) steps")

    def write(self, records: list[dict], folder: Path, stem: str, needle: str,
              figures: bool) -> None:
        """The summary (CSV, HDF5; figures at the end)."""
        from pcsdaq.procedures.survey_summary import write_summary

        write_summary(records, folder, stem, needle=needle, figures=figures,
                      attrs={"needle": needle, "parameters": self.parameters_dict()})


def typical_spot_s(records: list[dict]) -> float:
    """The median lab time a spot took so far (s; 0 before three spots): a spot is not
    begun when less than that is left of the budget, so the survey ends within it."""
    ends = [float(r["lab_time_s"]) for r in records if r.get("lab_time_s") is not None]
    if len(ends) < 3:
        return 0.0
    return float(np.median(np.diff([0.0, *ends])))


def _numbers(text: object) -> list[float]:
    """"0.5, 0.8" (or [0.5, 0.8]) -> [0.5, 0.8]; ValueError on anything else."""
    text = str(text).strip().strip("[]")
    return [float(v) for v in text.replace(";", ",").split(",") if v.strip()]


def survey_folder(ctx: RunContext) -> Path:
    """Where the summary goes: the run's data folder (the engine's), else beside the run
    file, else the working folder."""
    folder = getattr(ctx, "data_dir", None)
    if folder is None:
        path = getattr(getattr(ctx, "writer", None), "path", None)
        folder = Path(path).parent if path is not None else Path(".")
    return Path(folder)
