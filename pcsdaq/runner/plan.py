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
    return problems


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
