"""Plans: a station file and a list of procedure steps, validated as a whole before anything moves.

A plan YAML::

    station: station-sim.yaml   # relative to the plan; a bare name also finds the packaged one
    data_dir: ./data            # optional (``pcsdaq run --data`` overrides)
    steps:
      - procedure: needle_approach
        name: approach to 5-20 Ohm
        parameters: {target_min_ohm: 5, target_max_ohm: 20}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from pcsdaq.errors import ConfigError
from pcsdaq.procedures import PROCEDURES, PlanError, StationProcedure
from pcsdaq.procedures.conditions import (
    KEPT,
    RAMPED,
    UNCONTROLLED,
    UNTOUCHED,
    Condition,
    Conditions,
    format_values,
)
from pcsdaq.station import packaged_config
from pcsdaq.yamlio import check_finite, load_yaml

if TYPE_CHECKING:
    from pcsdaq.station_schema import StationConfig

PLAN_KEYS = ("station", "data_dir", "steps", "name", "description")
STEP_KEYS = ("procedure", "name", "parameters")


@dataclass
class PlanStep:
    """One step: a procedure name, its parameters and an optional label."""

    procedure: str
    parameters: dict[str, Any] = field(default_factory=dict)
    name: str | None = None

    def label(self, index: int) -> str:
        """'step N (name)' with N counted from 1, for messages."""
        return f"step {index + 1} ({self.name or self.procedure})"

    def build(self) -> StationProcedure:
        """The procedure instance; PlanError for an unknown procedure or a bad parameter."""
        cls = PROCEDURES.get(self.procedure)
        if cls is None:
            raise PlanError(f"unknown procedure {self.procedure!r}; known: "
                            f"{', '.join(sorted(PROCEDURES))}", key="procedure")
        return cls.from_parameters(self.parameters)

    def as_dict(self) -> dict[str, Any]:
        """YAML-ready form."""
        out: dict[str, Any] = {"procedure": self.procedure}
        if self.name:
            out["name"] = self.name
        out["parameters"] = dict(self.parameters)
        return out


@dataclass
class Plan:
    """A loaded plan: its steps, station file and data folder (paths resolved)."""

    steps: list[PlanStep]
    station_path: Path | None = None
    data_dir: Path | None = None
    source: str = "<plan>"


def _resolve_station(name: str, base: Path, source: str) -> Path:
    """The plan's station file: relative to the plan; a bare file name (no folder) that is
    not beside the plan is looked up among the packaged ones. A path with a folder that
    does not exist is refused, never replaced by a packaged file of the same name."""
    path = (base / name) if not Path(name).is_absolute() else Path(name)
    if path.exists():
        return path
    if Path(name).name == name:
        packaged = packaged_config(name)
        if packaged.exists():
            return packaged
    raise PlanError(f"{source}: station {name!r}: no such file ({path})", key="station")


def parse_plan(data: Any, source: str = "<plan>", base_dir: Path | None = None) -> Plan:
    """Plan from parsed YAML; structure errors name the file and key."""
    base = base_dir or Path.cwd()
    if not isinstance(data, dict):
        raise PlanError(f"{source}: a plan is a mapping with keys {', '.join(PLAN_KEYS)}")
    unknown = sorted(set(data) - set(PLAN_KEYS))
    if unknown:
        raise PlanError(f"{source}: unknown key {', '.join(unknown)}; allowed: "
                        f"{', '.join(PLAN_KEYS)}", key=unknown[0])
    for key in ("station", "data_dir", "name", "description"):
        if key in data and not isinstance(data[key], str):
            raise PlanError(f"{source}: {key} = {data[key]!r}; allowed: a text "
                            f"({'a file path' if key in ('station', 'data_dir') else 'a label'})",
                            key=key)
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise PlanError(f"{source}: 'steps' must be a non-empty list of steps", key="steps")
    steps = []
    for i, raw in enumerate(raw_steps):
        where = f"{source}: step {i + 1}"
        if not isinstance(raw, dict):
            raise PlanError(f"{where}: a step is a mapping with keys {', '.join(STEP_KEYS)}")
        bad = sorted(set(raw) - set(STEP_KEYS))
        if bad:
            raise PlanError(f"{where}: unknown key {', '.join(bad)}; allowed: "
                            f"{', '.join(STEP_KEYS)}", key=bad[0])
        if not isinstance(raw.get("procedure"), str):
            raise PlanError(f"{where}: missing 'procedure'; known: {', '.join(sorted(PROCEDURES))}",
                            key="procedure")
        if "name" in raw and not isinstance(raw["name"], str):
            raise PlanError(f"{where}: name = {raw['name']!r}; allowed: a text label", key="name")
        params = raw.get("parameters") or {}
        if not isinstance(params, dict):
            raise PlanError(f"{where}: 'parameters' must be a mapping", key="parameters")
        steps.append(PlanStep(raw["procedure"], dict(params), raw.get("name")))
    station = data.get("station")
    data_dir = data.get("data_dir")
    for key, value in (("station", station), ("data_dir", data_dir)):
        if value is not None and not isinstance(value, str):
            raise PlanError(f"{source}: {key} = {value!r} must be a path", key=key)
    return Plan(steps, _resolve_station(station, base, source) if station else None,
                (base / data_dir) if data_dir else None, source)


def load_plan(path: str | Path) -> Plan:
    """Read and parse a plan YAML (paths in it are relative to the plan file)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise PlanError(f"{path}: not a text file (UTF-8 YAML expected)") from None
    try:
        data = load_yaml(text, str(path))  # duplicate keys refused
        check_finite(data, str(path))  # NaN or inf anywhere refused
    except ConfigError as exc:
        raise PlanError(str(exc)) from None
    return parse_plan(data, str(path), path.parent)


def save_plan(path: str | Path, steps: list[PlanStep], station: str | Path | None = None) -> None:
    """Write steps (and the station file name) as a plan YAML."""
    data: dict[str, Any] = {}
    if station is not None:
        data["station"] = str(station)
    data["steps"] = [s.as_dict() for s in steps]
    Path(path).write_text(yaml.safe_dump(data, sort_keys=False))


def validate_plan(plan: Plan | list[PlanStep], station_config: StationConfig) -> list[str]:
    """Every problem of every step against the station (no I/O), each prefixed with its step."""
    steps = plan.steps if isinstance(plan, Plan) else plan
    problems = []
    for i, step in enumerate(steps):
        try:
            proc = step.build()
        except PlanError as exc:
            problems.append(f"{step.label(i)}: {exc}")
            continue
        problems += [f"{step.label(i)}: {p}" for p in proc.validate(station_config)]
        if "max_bias_mV" in step.parameters and "max_current_A" in step.parameters:
            problems.append(f"{step.label(i)}: max_bias_mV and max_current_A both given; a "
                            "sweep's range is one of them")
    return problems


@dataclass
class StepConditions:
    """The temperature (K) and field (T) one step runs at, as ``--check`` prints them, and
    the warnings for what it inherits from the step before."""

    temperature: str
    field: str
    warnings: list[str]


def _describe(cond: Condition, unit: str, quantity: str, present: tuple[float, int] | None,
              label: str, keep_key: str, state_key: str) -> tuple[str, list[str]]:
    if present is None:
        left = "as the cryostat is when the plan starts"
        value = "unknown before the run"
    else:
        value = f"{present[0]:g} {unit}"
        left = (f"{value}, as step {present[1] + 1} leaves it" if present[1] >= 0
                else value)
    if cond.how == RAMPED:
        return f"{cond.values[0]:g} -> {cond.values[-1]:g} {unit} (ramped)", []
    if cond.how == "stated":
        return f"{format_values(cond.values, unit)} (stated)", []
    if cond.how == KEPT:
        return f"kept: {left}", []
    if cond.how == UNTOUCHED:
        return f"not set by this step ({left})", []
    return (f"inherited: {left}",
            [f"{label}: {quantity} not stated; it runs at {left if present else value} "
             f"(state {state_key}, or {keep_key}: true to keep it)"])


#: the parameter that states each quantity and the one that keeps it, per procedure
_STATE_KEYS = {"temperature_series": {"field": ("field_T", "keep_field")},
               "field_series": {"temperature": ("temperature_K", "keep_temperature")}}


def plan_conditions(plan: Plan | list[PlanStep]) -> list[StepConditions]:
    """Per step, the temperature and field it runs at: stated by the step, kept on purpose,
    or inherited from what the step before left (a warning). No I/O."""
    steps = plan.steps if isinstance(plan, Plan) else plan
    present: dict[str, tuple[float, int] | None] = {"temperature": None, "field": None}
    out = []
    for i, step in enumerate(steps):
        try:
            proc = step.build()
        except PlanError:
            out.append(StepConditions("?", "?", []))
            continue
        conds: Conditions = getattr(proc, "conditions", lambda: UNCONTROLLED)()
        keys = _STATE_KEYS.get(step.procedure, {})
        texts, warnings = {}, []
        for quantity, cond, unit in (("temperature", conds.temperature, "K"),
                                     ("field", conds.field, "T")):
            state_key, keep_key = keys.get(quantity, (f"the {quantity}", f"keep_{quantity}"))
            text, warn = _describe(cond, unit, quantity, present[quantity], step.label(i),
                                   keep_key, state_key)
            texts[quantity] = text
            warnings += warn
            if cond.controlled and cond.leaves is not None:
                present[quantity] = (cond.leaves, i)
        out.append(StepConditions(texts["temperature"], texts["field"], warnings))
    return out


def describe_plan(plan: Plan, station_config: StationConfig) -> list[str]:
    """What ``pcsdaq run`` prints before running (and ``--check`` instead of running): per
    step its estimated duration and the temperature and field it runs at, the warnings for
    inherited conditions, the total."""
    estimates = estimate_plan_duration_s(plan, station_config)
    lines = []
    warnings = []
    for i, (step, est, cond) in enumerate(zip(plan.steps, estimates, plan_conditions(plan))):
        lines.append(f"{step.label(i)}: about {format_duration(est)} (instrument time)")
        lines.append(f"    T: {cond.temperature}")
        lines.append(f"    B: {cond.field}")
        warnings += cond.warnings
    lines.append(f"plan: {len(plan.steps)} steps, about {format_duration(sum(estimates))}")
    lines += [f"warning: {w}" for w in warnings]
    return lines


def estimate_plan_duration_s(plan: Plan | list[PlanStep],
                             station_config: StationConfig) -> list[float]:
    """Estimated physical duration of each step, s (0 for a step that does not build)."""
    steps = plan.steps if isinstance(plan, Plan) else plan
    out = []
    for step in steps:
        try:
            out.append(step.build().estimate_duration_s(station_config))
        except PlanError:
            out.append(0.0)
    return out


def format_duration(seconds: float) -> str:
    """'1 h 05 min', '12 min 30 s', '45 s'."""
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s} s"
