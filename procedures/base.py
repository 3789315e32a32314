"""What every pcsdaq procedure is: a pymeasure Procedure run by the engine on a station.

Procedures use instruments only through the role Protocols (:mod:`pcsdaq.roles`), wait only
on the station's clock, validate their parameters against the station's limits before any
I/O (:meth:`StationProcedure.validate`), and talk to storage and the operator through a
:class:`RunContext` the engine provides.

The same ``execute_on`` body also runs in pymeasure's Worker (ManagedWindow, Sequencer):
:meth:`StationProcedure.execute` hands it a
:class:`~pcsdaq.procedures.pymeasure_adapter.PymeasureContext` on the station of the
``station`` parameter (or one handed in with :meth:`StationProcedure.use_station`), and
``DATA_COLUMNS`` is derived from ``COLUMNS`` with units as pymeasure writes them.
"""

from __future__ import annotations

import copy
import logging
import math
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pymeasure.experiment import Parameter, Procedure
from pymeasure.experiment.parameters import VectorParameter

from pcsdaq.errors import AbortRequested, ConfigError
from pcsdaq.procedures.pymeasure_adapter import (
    PymeasureContext,
    data_columns,
    open_run_record,
    open_station,
)

log = logging.getLogger("pcsdaq.procedures")

if TYPE_CHECKING:
    from pcsdaq.clock import Clock
    from pcsdaq.station import Station
    from pcsdaq.station_schema import StationConfig


class PlanError(ConfigError):
    """A plan step or procedure parameter that cannot run (named key, value and range)."""


class RunContext(Protocol):
    """What the engine gives a running procedure (pcsdaq/runner/context.py implements it)."""

    station: Station  #: roles as attributes, .clock, .lock, .config
    clock: Clock  #: the station clock: now() in s, sleep(s)
    resume_state: dict  #: what save_resume_state stored in a crashed earlier run ({} if fresh)

    def begin_segment(self, name: str, **attrs: Any) -> None:
        """Start a new NXdata group (one spectrum, one R(T) log)."""

    def record(self, row: dict) -> None:
        """Append one point (durable on return) and publish it."""

    def checkpoint(self) -> None:
        """Between points: blocks while paused; raises AbortRequested when aborted."""

    def progress(self, fraction: float) -> None:
        """Progress 0..1 within this step."""

    def log(self, message: str, level: str = "info") -> None:
        """A line for the run log and the operator."""

    def set_metadata(self, **attrs: Any) -> None:
        """Run-level attributes (contact resistance, diameter ...)."""

    def save_resume_state(self, **state: Any) -> None:
        """Persist progress so ``--resume`` continues after a crash."""


class FloatListParameter(VectorParameter):
    """A list of floats (setpoints, fields) with units and per-element bounds, of any length.

    Accepts a list or a comma-separated string ("0.5, 1, 2", or pymeasure's "[0.5,1.0,2.0] K"
    from a results header); a pymeasure GUI edits it in its vector input."""

    def __init__(self, name: str, units: str | None = None, minimum: float = -1e12,
                 maximum: float = 1e12, **kwargs: Any) -> None:
        self.minimum = minimum
        self.maximum = maximum
        super().__init__(name, length=None, units=units, **kwargs)
        fields: list[Any] = list(getattr(self, "_help_fields", []))
        self._help_fields = [f for f in fields if f[1] != "_length"]

    def convert(self, value: Any) -> list[float]:
        """List of floats from a list or a comma-separated string; bounds checked."""
        if isinstance(value, str):  # "0.5, 1, 2", or pymeasure's "[0.5, 1.0, 2.0] K"
            text = value.strip()
            if self.units and text.endswith(self.units):
                text = text[: -len(self.units)]
            text = text.strip().strip("[]()")
            items = [v for v in text.replace(";", ",").split(",") if v.strip()]
        elif isinstance(value, list | tuple):
            items = list(value)
        else:
            raise ValueError(f"{value!r} is not a list of numbers")
        try:
            out = [float(v) for v in items]
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not a list of numbers") from None
        if not out:
            raise ValueError("the list is empty")
        bad = [v for v in out if not self.minimum <= v <= self.maximum]
        if bad:
            raise ValueError(f"{bad[0]:g} is outside {self.minimum:g} to {self.maximum:g} "
                             f"{self.units or ''}".rstrip())
        return out


def _exact_int(key: str, value: Any, spec: Parameter) -> Any:
    """``value`` as an int when it is one exactly (``4``, ``4.0``, ``"4"``); PlanError for
    ``4.5`` or ``"4.5"``, which pymeasure would silently round down."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip(), 10)
        except ValueError:
            pass
    if isinstance(value, int):
        return value
    raise PlanError(f"{key} = {value!r} must be an integer (never rounded); allowed "
                    f"{describe_range(spec)}", key=key)


def describe_range(param: Parameter) -> str:
    """Allowed range of a parameter with its unit, for error messages."""
    units = getattr(param, "units", None) or ""
    if getattr(param, "choices", None):
        return "one of " + ", ".join(map(str, param.choices))
    lo, hi = getattr(param, "minimum", None), getattr(param, "maximum", None)
    if lo is not None and hi is not None:
        return f"{lo:g} to {hi:g} {units}".rstrip()
    return units or "any"


class StationProcedure(Procedure):
    """Base of pcsdaq procedures: named, with columns, validated before any I/O.

    Run by the RunEngine (``execute_on(ctx)``) or by pymeasure's Worker (``startup``,
    ``execute``, ``shutdown``: the station of the ``station`` parameter, points as pymeasure
    results in ``DATA_COLUMNS``, the station's safe state at shutdown)."""

    NAME: ClassVar[str] = ""
    COLUMNS: ClassVar[dict[str, str]] = {}
    SIGNAL: ClassVar[str] = ""
    AXES: ClassVar[list[str]] = []
    #: roles the procedure cannot run without (checked before any I/O)
    REQUIRED_ROLES: ClassVar[tuple[str, ...]] = ()
    #: parameter -> (role, limit key): a value (each element of a list) whose magnitude must
    #: not exceed that role's configured limit; see :func:`role_limit_problems`
    ROLE_LIMITS: ClassVar[dict[str, tuple[str, str]]] = {}
    #: pymeasure's column labels of COLUMNS ("V_dc (V)" ...) plus "segment"; set per subclass
    DATA_COLUMNS: ClassVar[list[str]] = []
    #: parameters of the pymeasure runner only: not plan keys, not in the engine's record
    RUNNER_PARAMETERS: ClassVar[tuple[str, ...]] = ("station",)

    station = Parameter("Station file (sim:FILE for its simulated lab)", default="")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.DATA_COLUMNS = data_columns(cls.COLUMNS)

    @classmethod
    def parameter_specs(cls) -> dict[str, Parameter]:
        """Parameter name -> pymeasure Parameter (class attributes), without the pymeasure
        runner's ``station``."""
        return {name: p for name in dir(cls)
                if isinstance(p := getattr(cls, name, None), Parameter)
                and name not in cls.RUNNER_PARAMETERS}

    @classmethod
    def from_parameters(cls, params: dict | None) -> StationProcedure:
        """Instance from a plan's parameter dict; unknown keys and bad values are refused
        with the key, the value and the allowed range."""
        params = dict(params or {})
        specs = cls.parameter_specs()
        unknown = sorted(set(params) - set(specs))
        if unknown:
            raise PlanError(f"unknown parameter {', '.join(unknown)} for {cls.NAME}; known: "
                            f"{', '.join(sorted(specs))}", key=unknown[0])
        proc = cls()
        for key, value in params.items():
            kind = type(specs[key]).__name__
            if isinstance(value, bool) and not kind == "BooleanParameter":
                raise PlanError(f"{key} = {value!r} must be a number "
                                f"({describe_range(specs[key])})",
                                key=key)
            if kind == "IntegerParameter":
                value = _exact_int(key, value, specs[key])
            try:
                checked = copy.copy(specs[key])  # the class attribute stays untouched
                checked.value = value  # pymeasure converts and checks the bounds here
                converted = checked.value
            except (ValueError, TypeError) as exc:
                raise PlanError(f"{key} = {value!r} refused ({exc}); allowed "
                                f"{describe_range(specs[key])}", key=key) from None
            default = getattr(specs[key], "default", None)
            not_stated = (isinstance(default, float) and math.isnan(default)
                          and isinstance(converted, float) and math.isnan(converted))
            # NaN is refused, except as the default of an optional stated condition
            # (field_T / temperature_K: 'not stated', see procedures.conditions)
            if (isinstance(converted, float) and not math.isfinite(converted)
                    and not not_stated):
                raise PlanError(f"{key} = {value!r} is not a finite number; allowed "
                                f"{describe_range(specs[key])}", key=key)
            setattr(proc, key, converted)
        return proc

    def parameters_dict(self) -> dict[str, Any]:
        """Parameter name -> value, for the run record and plan files."""
        return {name: getattr(self, name) for name in self.parameter_specs()}

    def validate(self, station_config: StationConfig) -> list[str]:
        """Problems running this on the station (no I/O): each names key, value and range.

        The roles of ``REQUIRED_ROLES`` and the parameters of ``ROLE_LIMITS`` are checked
        here (:func:`role_limit_problems`); subclasses add what a table cannot say (window
        order, ramp tables, budgets) and call this first."""
        return role_limit_problems(self, station_config)

    def estimate_duration_s(self, station_config: StationConfig) -> float:
        """Expected duration in physical seconds."""
        return 0.0

    def execute_on(self, ctx: RunContext) -> None:
        """The measurement (subclasses)."""
        raise NotImplementedError

    # --- pymeasure's Worker ----------------------------------------------------------------
    _given_station: Any = None  #: a station handed in by code (use_station)
    _run_station: Any = None  #: the station of the pymeasure run in progress
    _owns_station: bool = False  #: opened by startup(), so closed by shutdown()
    context: PymeasureContext | None = None  #: the last pymeasure run's context
    #: where a pymeasure run also writes pcsdaq's HDF5 run record (None: pymeasure's CSV only)
    hdf5_path: str | None = None

    def use_station(self, station: Station) -> StationProcedure:
        """Run on ``station`` (an open pcsdaq Station) in pymeasure's Worker instead of the
        ``station`` parameter's; the caller keeps it open after the run. Returns self."""
        self._given_station = station
        return self

    def startup(self) -> None:
        """pymeasure: the station handed in, or the ``station`` parameter's opened (a file's
        VISA resources, or ``sim:FILE``'s simulated lab in this process)."""
        self._run_station, self._owns_station = self._given_station, False
        if self._run_station is None:
            self._run_station, self._owns_station = open_station(self.station), True

    def execute(self) -> None:
        """pymeasure: check the parameters against the station's limits (no I/O), then run
        :meth:`execute_on` with a :class:`PymeasureContext`. Stopping from pymeasure ends
        the run at the next point; the station goes safe in :meth:`shutdown`."""
        station = self._run_station
        if station is None:
            raise ConfigError("no station: pymeasure's Worker calls startup() before execute()")
        problems = self.validate(station.config)
        if problems:
            raise PlanError(f"{self.NAME}: " + "; ".join(problems))
        writer = open_run_record(self, station, self.hdf5_path) if self.hdf5_path else None
        self.context = PymeasureContext(self, station, writer)
        status, reason = "finished", None
        try:
            self.execute_on(self.context)
        except AbortRequested as exc:
            status, reason = "aborted", str(exc)
            log.warning("%s stopped after %d points: %s", self.NAME, self.context.n_points, exc)
        except Exception as exc:
            status, reason = "failed", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            if writer is not None:
                writer.close(status, reason)

    def shutdown(self) -> None:
        """pymeasure: the station's safe state (bias zero, heater safe, magnet hold, piezo
        grounded), problems logged; a station opened by startup() is closed."""
        station, self._run_station = self._run_station, None
        if station is None:
            return
        try:
            outcomes: list[Any] = list(station.safe_state())
        except Exception as exc:  # report, never raise from the safety path
            outcomes = [f"{type(exc).__name__}: {exc}"]
        for outcome in outcomes:
            # one line per instrument (pcsdaq.safe_state.SafeOutcome): failures as errors
            ok = bool(getattr(outcome, "ok", False))
            text = outcome.line() if hasattr(outcome, "line") else str(outcome)
            (log.info if ok else log.error)("%s: safe state: %s", self.NAME, text)
        if self._owns_station:
            station.close()


#: (role, limit key) -> (how a message names the limit, unit of the value): the limits a
#: procedure parameter can be bounded by, named once for every procedure's messages
ROLE_LIMIT_NAMES: dict[tuple[str, str], tuple[str, str]] = {
    ("bias", "max_current_A"): ("bias limit", "A"),
    ("lockin", "max_sine_voltage_V"): ("lock-in sine limit", "V"),
    ("positioner", "max_voltage_V"): ("piezo voltage limit", "V"),
    ("positioner", "max_steps_per_burst"): ("burst limit", "steps"),
    ("thermometer", "max_temperature_K"): ("temperature limit", "K"),
    ("thermometer", "max_ramp_K_per_min"): ("ramp limit", "K/min"),
    ("thermometer", "max_heater_range"): ("heater range limit", ""),
    ("magnet", "max_field_T"): ("field limit", "T"),
}


def role_limit_problems(procedure: StationProcedure,
                        station_config: StationConfig) -> list[str]:
    """The declarative part of :meth:`StationProcedure.validate` (no I/O): the roles in
    ``REQUIRED_ROLES``, then every parameter of ``ROLE_LIMITS`` against its role's configured
    limit, element by element for lists (``fields_T[2]``). A value that is not stated (NaN)
    or zero needs no role; any other value of a parameter whose role the station lacks is a
    problem naming the role."""
    problems: list[str] = []
    require_roles(problems, station_config, procedure.REQUIRED_ROLES, procedure.NAME)
    missing: set[str] = set()
    for name, (role, key) in procedure.ROLE_LIMITS.items():
        value = getattr(procedure, name)
        items = ([(f"{name}[{i}]", v) for i, v in enumerate(value)]
                 if isinstance(value, list | tuple) else [(name, value)])
        used = [(label, float(v)) for label, v in items
                if math.isfinite(float(v)) and float(v) != 0.0]
        if role not in station_config.roles:
            if used and role not in procedure.REQUIRED_ROLES and role not in missing:
                missing.add(role)
                require_roles(problems, station_config, (role,), procedure.NAME)
            continue
        what, unit = ROLE_LIMIT_NAMES.get((role, key), (f"{role} {key}", ""))
        limit = role_limit(station_config, role, key)
        for label, v in used:
            check_max(problems, label, v, limit, unit, what)
    return problems


def role_limit(station_config: StationConfig, role: str, key: str) -> float | None:
    """A configured limit of a role, or None when the station has no such role/limit."""
    rc = station_config.roles.get(role)
    if rc is None or key not in rc.safety:
        return None
    return float(rc.safety[key])


def check_max(problems: list[str], key: str, value: float, limit: float | None, unit: str,
              what: str) -> None:
    """Append a message when |value| exceeds a station limit."""
    if limit is not None and abs(value) > limit:
        problems.append(f"{key} = {value:g} {unit} exceeds the station's {what} "
                        f"(allowed |value| <= {limit:g} {unit})")


def require_roles(problems: list[str], station_config: StationConfig, roles: tuple[str, ...],
                  procedure: str) -> None:
    """Append a message for each role the procedure needs that the station lacks."""
    for role in roles:
        if role not in station_config.roles:
            problems.append(f"{procedure} needs a {role} role; the station "
                            f"{station_config.source} has none")
