"""dI/dV versus bias: the lock-in's AC response at each DC current (BiasSweep)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pymeasure.experiment import (
    BooleanParameter,
    FloatParameter,
    IntegerParameter,
    ListParameter,
)

from pcsdaq.errors import LimitError, PcsdaqError
from pcsdaq.procedures.base import StationProcedure, check_max, role_limit
from pcsdaq.procedures.conditions import KEEPS_BOTH, Conditions
from pcsdaq.procedures.lockin_parameters import (
    sensitivity_parameter,
    sine_voltage_parameter,
    time_constant_parameter,
)
from pcsdaq.procedures.points import bias_points, current_for_bias
from pcsdaq.roles import LOCKIN_FILTER_SLOPES_DB, lockin_settle_time

if TYPE_CHECKING:
    from pcsdaq.procedures.base import RunContext
    from pcsdaq.roles import Lockin
    from pcsdaq.station import Station
    from pcsdaq.station_schema import StationConfig
from pcsdaq.procedures.waits import reading_status

SWEEP_COLUMNS = {"time_s": "s", "bias_set_A": "A", "V_dc_V": "V", "I_dc_A": "A", "X_V": "V",
                 "Y_V": "V", "dIdV_S": "S", "dVdI_Ohm": "Ohm", "temperature_K": "K",
                 "field_T": "T", "flags": ""}
#: flags column bits
FLAG_OVERLOAD_REMEASURED = 1  #: the point overloaded and was measured again less sensitive
FLAG_STILL_OVERLOADED = 2  #: still overloaded at the coarsest allowed retry
#: the lock-in's latched status (LIAS?, read every env_interval_s) showed an overload since
#: the previous check
FLAG_OVERLOAD_LATCHED = 4
FLAG_UNLOCKED = 8  #: the lock-in's reference unlocked since the previous status check
FLAG_TEMPERATURE_INVALID = 16  #: the thermometer reported an invalid reading (T is NaN)
MAX_OVERLOAD_RETRIES = 4


def divider_resistance(x_V: float, i_ac_A: float, v_sine_V: float) -> float:
    """dV/dI in Ohm from the in-phase AC voltage X (V rms).

    The sine output (``v_sine_V``) drives the contact through the excitation resistor, a
    divider: R = X / (I_ac (1 - X / V_sine)), which is X / I_ac for a contact much smaller
    than the resistor and stays right for an open one (inf when X reaches V_sine)."""
    frac = 1.0 - x_V / v_sine_V
    if i_ac_A <= 0 or frac <= 0:
        return math.inf
    return x_V / (i_ac_A * frac)


def contact_resistance(x_V: float, lockin: Lockin) -> float:
    """dV/dI in Ohm from X with the lock-in's present excitation (see divider_resistance)."""
    return divider_resistance(x_V, lockin.ac_current(), lockin.sine_voltage)


class Environment:
    """Temperature, field and the instruments' status, read at most every ``interval_s``
    (not every point).

    With each reading it checks the thermometer's reading status (an invalid reading gives
    T = NaN and :data:`FLAG_TEMPERATURE_INVALID`) and the lock-in's latched status
    (``LIAS?``: :data:`FLAG_OVERLOAD_LATCHED`, :data:`FLAG_UNLOCKED`); the flags found are
    collected until :meth:`take_flags`."""

    def __init__(self, station: Station, interval_s: float) -> None:
        self.station = station
        self.interval_s = interval_s
        self._t = -math.inf
        self.temperature_K = math.nan
        self.field_T = math.nan
        self.flags = 0

    def read(self, force: bool = False) -> tuple[float, float]:
        """(T in K, B in T), refreshed when older than the interval."""
        now = self.station.clock.now()
        if force or now - self._t >= self.interval_s:
            therm = self.station.thermometer
            if therm is not None:
                t = therm.read_temperature()
                if reading_status(therm):
                    t = math.nan
                    self.flags |= FLAG_TEMPERATURE_INVALID
                self.temperature_K = t
            if self.station.magnet is not None:
                self.field_T = self.station.magnet.read_field()
            self.flags |= lockin_status_flags(getattr(self.station, "lockin", None))
            self._t = now
        return self.temperature_K, self.field_T

    def take_flags(self) -> int:
        """The status flags found since the last call (then cleared)."""
        flags, self.flags = self.flags, 0
        return flags


def lockin_status_flags(lockin: Any) -> int:
    """Flags from the lock-in's latched status (one ``LIAS?``; 0 without a status)."""
    status = getattr(lockin, "status", None)
    if status is None:
        return 0
    names = status()
    flags = FLAG_OVERLOAD_LATCHED if names - {"unlock"} else 0
    return flags | (FLAG_UNLOCKED if "unlock" in names else 0)


def dmm_reading_time_s(station_config: StationConfig) -> float:
    """Time of one DMM reading, s, from the station's settings (its driver's
    ``reading_time_s``; 0 when the DMM role's driver does not say)."""
    rc = station_config.roles.get("dmm")
    if rc is None:
        return 0.0
    reading_time = getattr(rc.driver_class, "reading_time_s", None)
    return float(reading_time(rc.settings)) if reading_time is not None else 0.0


class BiasSweep(StationProcedure):
    """One dI/dV(V) spectrum: DC current points through the bias role, lock-in X/Y and DMM."""

    NAME: ClassVar[str] = "bias_sweep"
    REQUIRED_ROLES: ClassVar[tuple[str, ...]] = ("lockin", "bias", "dmm")
    ROLE_LIMITS: ClassVar[dict[str, tuple[str, str]]] = {
        "sine_voltage_V": ("lockin", "max_sine_voltage_V")}
    COLUMNS: ClassVar[dict[str, str]] = SWEEP_COLUMNS
    SIGNAL: ClassVar[str] = "dIdV_S"
    AXES: ClassVar[list[str]] = ["V_dc_V"]

    max_current_A = FloatParameter("Maximum |bias current|", units="A", minimum=1e-9,
                                   maximum=0.1, default=1e-3)
    max_bias_mV = FloatParameter("Maximum |bias voltage| (0 = use the current)", units="mV",
                                 minimum=0.0, maximum=1000.0, default=0.0)
    dense_bias_mV = FloatParameter("Dense region half-width (0 = use the fraction)", units="mV",
                                   minimum=0.0, maximum=1000.0, default=0.0)
    n_points = IntegerParameter("Points per direction", minimum=3, maximum=100001, default=201)
    direction = ListParameter("Direction", choices=["up", "down", "both"], default="up")
    dense_fraction = FloatParameter("Dense region (fraction of max)", minimum=0.0, maximum=0.5,
                                    default=0.0)
    dense_factor = IntegerParameter("Density factor in the dense region", minimum=1, maximum=10,
                                    default=1)
    sine_voltage_V = sine_voltage_parameter()
    frequency_Hz = FloatParameter("Reference frequency", units="Hz", minimum=0.001,
                                  maximum=102000.0, default=1037.0)
    time_constant_s = time_constant_parameter(0.03)
    filter_slope_db = ListParameter("Filter slope", units="dB/oct",
                                    choices=list(LOCKIN_FILTER_SLOPES_DB),
                                    default=24)
    sensitivity_V = sensitivity_parameter(1e-3)
    settle_factor = FloatParameter("Settle time factor", minimum=0.1, maximum=20.0, default=1.0)
    dc_settle_s = FloatParameter("DC settle time before the DMM reading", units="s",
                                 minimum=0.0, maximum=10.0, default=2e-3)
    env_interval_s = FloatParameter("T/B read interval", units="s", minimum=0.0, maximum=3600.0,
                                    default=5.0)
    #: the engine refits each spectrum in a worker process as its points arrive
    #: (pcsdaq.runner.live_fit; off everywhere with PCSDAQ_LIVE_FIT=0)
    live_fit = BooleanParameter("Fit the spectrum live (BTK, worker process)", default=True)

    def points(self, max_current_A: float | None = None) -> np.ndarray:
        """The DC currents of the sweep, A, up to ``max_current_A`` (default: the
        parameter; a sweep asked for ``max_bias_mV`` passes the converted current). With
        ``dense_bias_mV`` the dense region is that bias over the sweep's bias range."""
        fraction = self.dense_fraction
        if self.dense_bias_mV > 0 and self.max_bias_mV > 0:
            fraction = min(self.dense_bias_mV / self.max_bias_mV, 0.5)
        return bias_points(self.max_current_A if max_current_A is None else max_current_A,
                           self.n_points, self.direction, fraction, self.dense_factor)

    def validate(self, station_config: StationConfig) -> list[str]:
        """The table's roles and limits, then the bias range: ``max_bias_mV`` against the
        DMM range, or ``max_current_A`` against the bias limit (no I/O)."""
        problems = super().validate(station_config)
        if self.max_bias_mV > 0:
            # the current follows from the resistance measured as the sweep starts: checked
            # against the bias limit then, before any current is sent (sweep_range)
            rc = station_config.roles.get("dmm")
            dmm_range = rc.settings.get("range_V") if rc is not None else None
            check_max(problems, "max_bias_mV", self.max_bias_mV,
                      None if dmm_range is None else 1e3 * float(dmm_range), "mV",
                      "DMM range (dmm settings range_V)")
            if self.dense_bias_mV > self.max_bias_mV:
                problems.append(f"dense_bias_mV = {self.dense_bias_mV:g} mV is above "
                                f"max_bias_mV = {self.max_bias_mV:g} mV")
        else:
            check_max(problems, "max_current_A", self.max_current_A,
                      role_limit(station_config, "bias", "max_current_A"), "A", "bias limit")
            if self.dense_bias_mV > 0:
                problems.append(f"dense_bias_mV = {self.dense_bias_mV:g} mV needs max_bias_mV "
                                "(the bias range in mV); use dense_fraction with max_current_A")
        return problems

    def point_time_s(self, dmm_reading_s: float = 0.0) -> float:
        """Expected time per point, s: the lock-in's settle wait, or the DC settle plus the
        DMM reading (``dmm_reading_s``) if that takes longer (the DMM reads while the
        lock-in settles), plus ~5 ms of I/O."""
        lockin_s = lockin_settle_time(self.time_constant_s, int(self.filter_slope_db),
                                      self.settle_factor)
        return max(lockin_s, self.dc_settle_s + dmm_reading_s) + 5e-3

    def estimate_duration_s(self, station_config: StationConfig) -> float:
        """Points times the per-point time, s."""
        return len(self.points()) * self.point_time_s(dmm_reading_time_s(station_config))

    def configure_lockin(self, lockin: Lockin) -> None:
        """Apply the sweep's lock-in settings (once, before the first point)."""
        lockin.sine_voltage = self.sine_voltage_V
        lockin.frequency = self.frequency_Hz
        lockin.time_constant = self.time_constant_s
        lockin.filter_slope = int(self.filter_slope_db)
        lockin.sensitivity = self.sensitivity_V

    def conditions(self) -> Conditions:
        """A lone sweep measures where it is: it keeps the present temperature and field
        (and records them in its segment)."""
        return KEEPS_BOTH

    def execute_on(self, ctx: RunContext) -> None:
        """Configure the lock-in and measure one spectrum as one segment, recording the
        temperature and field it starts at."""
        station = ctx.station
        with station.lock:
            self.configure_lockin(station.lockin)
        env = Environment(station, self.env_interval_s)
        t, b = env.read(force=True)
        max_current = sweep_range(ctx, self)
        ctx.begin_segment("sweep", temperature_K=t, field_T=b, index=0,
                          stated_temperature_K=math.nan, stated_field_T=math.nan,
                          lockin=lockin_settings(station), **max_current)
        measure_sweep(ctx, self, env, progress=(0.0, 1.0),
                      max_current_A=max_current["max_current_A"])


def zero_bias_resistance(station: Station, settle_factor: float = 1.0) -> float:
    """dV/dI at zero DC bias (Ohm), read from the lock-in with the bias left as it is (no
    current sent): one settle time, then X; an overload steps the sensitivity up."""
    lockin, clock = station.lockin, station.clock
    with station.lock:
        wait = lockin.settle_time(settle_factor)
    clock.sleep(wait)
    for _ in range(MAX_OVERLOAD_RETRIES + 1):
        with station.lock:
            x, _y = lockin.read_xy()
            if not lockin.is_overloaded():
                break
            try:
                lockin.sensitivity_up()
            except Exception:  # coarsest range already: read what there is
                break
            wait = lockin.settle_time(settle_factor)
        clock.sleep(wait)
    with station.lock:
        return contact_resistance(x, lockin)


#: DC probes that refine a bias range asked in mV, and the accuracy they stop at
BIAS_PROBES, BIAS_PROBE_ACCURACY = 3, 0.02


def _refuse_above_limit(sweep: BiasSweep, current: float, limit: float | None, how: str,
                        sent: str) -> None:
    if limit is not None and current > limit:
        raise LimitError(f"max_bias_mV = {sweep.max_bias_mV:g} mV {how} needs {current:.4g} A, "
                         f"above the station's bias limit {limit:g} A; {sent}")


def sweep_range(ctx: RunContext, sweep: BiasSweep) -> dict[str, float]:
    """The sweep's current range as it starts, for its segment's attributes (A, mV, Ohm).

    ``max_current_A`` as given, or, for a sweep asked for ``max_bias_mV``: converted with the
    contact's zero-bias resistance measured now (I = V / R; beyond the station's bias limit
    it is refused here, LimitError, before any current is sent), then refined by up to
    BIAS_PROBES DC probes at the converted current (the DMM reads the bias there; the current
    is scaled until it is within 2 % of the asked bias: Andreev reflection or a barrier
    make the zero-bias resistance differ from the resistance at five gaps). A probe current
    is never above the bias limit; the bias is back at zero when this returns."""
    if sweep.max_bias_mV <= 0:
        return {"max_current_A": float(sweep.max_current_A)}
    station = ctx.station
    target_V = sweep.max_bias_mV * 1e-3
    r = zero_bias_resistance(station, sweep.settle_factor)
    if not (math.isfinite(r) and r > 0):
        raise PcsdaqError(f"max_bias_mV = {sweep.max_bias_mV:g} mV: the contact resistance "
                          f"reads {r:g} Ohm (open contact?); nothing sent")
    current = current_for_bias(target_V, r)
    limit = role_limit(station.config, "bias", "max_current_A")
    _refuse_above_limit(sweep, current, limit, f"at the measured {r:.4g} Ohm", "nothing sent")
    reached_V = math.nan
    try:
        for _ in range(BIAS_PROBES):
            with station.lock:
                station.bias.set_current(current)
                # read back on the source's own link: over a network the DMM's query can
                # overtake the set on another link; the read-back returns once it is done
                got = station.bias.get_current()
                set_at = station.clock.now()
            station.clock.sleep(set_at + sweep.dc_settle_s - station.clock.now())
            with station.lock:
                reached_V = abs(station.dmm.read_voltage())
            actual = abs(float(got)) if isinstance(got, int | float) else current
            if not (math.isfinite(reached_V) and reached_V > 0) or \
                    abs(reached_V / target_V - 1.0) <= BIAS_PROBE_ACCURACY:
                break
            current = actual * target_V / reached_V
            _refuse_above_limit(sweep, current, limit, f"(probed: {reached_V * 1e3:.3g} mV at "
                                f"{actual:.4g} A)", "bias back to zero")
    finally:
        with station.lock:
            station.bias.zero()
    ctx.log(f"contact {r:.4g} Ohm at zero bias; +-{sweep.max_bias_mV:g} mV is "
            f"+-{current:.4g} A (probe read {reached_V * 1e3:.3g} mV)")
    return {"max_current_A": current, "max_bias_mV": float(sweep.max_bias_mV),
            "contact_resistance_at_start_ohm": r, "bias_probe_mV": reached_V * 1e3}


def lockin_settings(station: Station) -> dict[str, Any]:
    """The lock-in's settings as a spectrum starts, for its segment's attributes: the run's
    station snapshot is taken before the procedure configures the lock-in, and an overload
    may have stepped the sensitivity since the previous spectrum."""
    with station.lock:
        return station.lockin.snapshot()


class _LockinState:
    """What the loop needs of the lock-in, read once and refreshed only when the
    sensitivity changes (the time constant may follow it): no per-point attribute traffic."""

    def __init__(self, lockin: Lockin, settle_factor: float) -> None:
        self.lockin = lockin
        self.settle_factor = settle_factor
        self.i_ac = lockin.ac_current()
        self.v_sine = lockin.sine_voltage
        self.refresh()

    def refresh(self) -> None:
        self.sensitivity = self.lockin.sensitivity
        self.wait_s = self.lockin.settle_time(self.settle_factor)

    def resistance(self, x_V: float) -> float:
        """dV/dI in Ohm from X (see :func:`divider_resistance`)."""
        return divider_resistance(x_V, self.i_ac, self.v_sine)


def _read_point(station: Station, state: _LockinState, set_at: float, dc_settle_s: float,
                wait_s: float) -> tuple[float, float, float, int]:
    """The bias was set at ``set_at``: read V_dc once the DC path has settled
    (``set_at + dc_settle_s``), then X/Y (one query) once the lock-in has (``set_at +
    wait_s``); on overload step the sensitivity up and measure X/Y again. Returns (X, Y,
    V_dc, flags).

    The DC voltage needs only the bias source and wiring to settle (well under a
    millisecond), not the lock-in's output filter: reading it first puts the DMM's
    integration (20 ms at NPLC 1) inside the lock-in's settle wait instead of after it."""
    lockin, clock = station.lockin, station.clock
    flags = 0
    clock.sleep(set_at + dc_settle_s - clock.now())
    v_dc = station.dmm.read_voltage()
    clock.sleep(set_at + wait_s - clock.now())
    for _ in range(MAX_OVERLOAD_RETRIES + 1):
        x, y = lockin.read_xy()
        # cheap test on the cached sensitivity; only then ask the instrument (LIAS?)
        if math.hypot(x, y) < 0.9 * state.sensitivity or not lockin.is_overloaded():
            break
        flags |= FLAG_OVERLOAD_REMEASURED
        try:
            lockin.sensitivity_up()
        except LimitError:  # already at the coarsest range: keep the point, flagged
            flags |= FLAG_STILL_OVERLOADED  # (a link fault is not an overload: it propagates)
            break
        state.refresh()
        clock.sleep(state.wait_s)
    else:
        flags |= FLAG_STILL_OVERLOADED
    return x, y, v_dc, flags


def measure_sweep(ctx: RunContext, sweep: BiasSweep, env: Environment,
                  progress: tuple[float, float] = (0.0, 1.0),
                  max_current_A: float | None = None) -> int:
    """Measure the sweep's points into the current segment; bias back to zero at the end.

    Each point's bookkeeping (storing the previous point, events, pause/abort) is done while
    the lock-in settles after the next bias step, so a real-time sweep takes the settle
    times and little more. ``progress`` maps this sweep onto a part (start, width) of the
    step's progress; ``max_current_A`` the range (default: the sweep's parameter; see
    :func:`sweep_range`). Returns the number of points recorded."""
    station = ctx.station
    points = sweep.points(max_current_A).tolist()
    clock = station.clock
    t0 = clock.now()
    start, width = progress
    n = 0
    pending: dict | None = None

    def publish(row: dict) -> None:
        nonlocal n
        ctx.record(row)
        n += 1
        ctx.progress(start + width * n / len(points))
        ctx.checkpoint()

    env.take_flags()  # what latched before this sweep is not its points'
    try:
        with station.lock:
            state = _LockinState(station.lockin, sweep.settle_factor)
        for k, current in enumerate(points):
            with station.lock:
                actual = station.bias.set_current(current)
                set_at = clock.now()
            if pending is not None:
                publish(pending)  # while the lock-in settles
            wait = state.wait_s * (3.0 if k == 0 else 1.0)  # the first step is a large one
            with station.lock:
                x, y, v_dc, flags = _read_point(station, state, set_at, sweep.dc_settle_s,
                                                wait)
                temp, field = env.read()
            flags |= env.take_flags()
            dvdi = state.resistance(x)
            pending = {"time_s": clock.now() - t0, "bias_set_A": current, "V_dc_V": v_dc,
                       "I_dc_A": actual, "X_V": x, "Y_V": y,
                       "dIdV_S": 1.0 / dvdi if dvdi > 0 else math.nan, "dVdI_Ohm": dvdi,
                       "temperature_K": temp, "field_T": field, "flags": float(flags)}
        if pending is not None:
            publish(pending)
    finally:
        with station.lock:
            station.bias.zero()
    return n
