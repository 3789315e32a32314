"""Running the example plans of configs/ on the in-process simulated lab (virtual clock), with
a contact of a chosen regime, and keeping what the simulator drew for the truth tests.

A plan is run as it is (``reduce=False``) or shortened for CI (``reduced_plan``): fewer
setpoints, fields and points, a faster R(T) ramp; the conditions each step states (its
temperature, field, bias range) stay as the example file says them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from pcsdaq.runner.demo import plan_for_regime
from pcsdaq.runner.engine import RunEngine
from pcsdaq.runner.launch import open_station
from pcsdaq.runner.plan import Plan, PlanStep, load_plan
from pcsdaq.station import packaged_config

CONFIGS = Path(packaged_config("station-sim.yaml")).parent
EXAMPLE_PLANS = sorted(p.name for p in CONFIGS.glob("plan-*.yaml"))
#: the single-contact plans, compared with one contact's truth (the survey plan visits many
#: contacts: tests/procedures/test_survey.py)
CONTACT_PLANS = [p for p in EXAMPLE_PLANS if "survey" not in p]
REGIMES = ("ballistic", "intermediate", "thermal")


def _spread(values: list[float], n: int) -> list[float]:
    """At most n of the values, first and last kept, evenly spread."""
    if len(values) <= n:
        return list(values)
    idx = sorted({round(i * (len(values) - 1) / (n - 1)) for i in range(n)})
    return [values[i] for i in idx]


def reduced_plan(plan: Plan) -> Plan:
    """A CI-sized copy: at most 5 setpoints / 4 fields, 101 points a spectrum, R(T) at 1
    K/min or faster (logged every 3 s or more often), one-minute stability windows; stated
    conditions unchanged."""
    steps = []
    for step in plan.steps:
        p = dict(step.parameters)
        if step.procedure == "rt_log":
            # faster, but every ~0.05 K still: the drop at Tc must stay resolved
            p["rate_K_per_min"] = max(p.get("rate_K_per_min", 0.5), 1.0)
            p["interval_s"] = min(p.get("interval_s", 5.0), 3.0)
        if step.procedure in ("temperature_series", "field_series", "bias_sweep"):
            p["n_points"] = min(p.get("n_points", 201), 101)
            p["direction"] = "up"
            p["window_s"] = min(p.get("window_s", 60.0), 60.0)
        if step.procedure == "temperature_series":
            p["setpoints_K"] = _spread(p["setpoints_K"], 5)
        if step.procedure == "field_series":
            p["fields_T"] = _spread(p["fields_T"], 4)
        steps.append(PlanStep(step.procedure, p, step.name))
    return Plan(steps, plan.station_path, plan.data_dir, plan.source)


@dataclass
class PlanRun:
    """One plan run on the simulated lab: the plan as run, its files (one per step), the
    engine's final state and what the simulator drew (``truth``, see Contact.truth)."""

    name: str
    regime: str
    plan: Plan
    files: list[Path]
    state: str
    truth: dict[str, Any]
    contact: Any
    analyses: dict[int, dict] = field(default_factory=dict)

    def analysis(self, step: int) -> dict:
        """``analyze_run`` of a step's file (cached)."""
        from pcsdaq.analysis.run_report import analyze_run

        if step not in self.analyses:
            self.analyses[step] = analyze_run(self.files[step])
        return self.analyses[step]

    def steps(self, procedure: str) -> list[int]:
        """Indices of the plan's steps running ``procedure``."""
        return [i for i, s in enumerate(self.plan.steps) if s.procedure == procedure]


def sim_station_file(folder: Path, regime: str) -> Path:
    """The packaged sim station with its simulated contact set to ``regime``."""
    data = yaml.safe_load(packaged_config("station-sim.yaml").read_text())
    data["sim"]["contact_regime"] = regime
    path = folder / f"station-sim-{regime}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def run_plan(plan: Plan, name: str, regime: str, folder: Path) -> PlanRun:
    """Run ``plan`` on an in-process simulated lab with a ``regime`` contact, virtual
    clock; files in ``folder``."""
    station, lab, _ = open_station(sim_station_file(folder, regime), sim="inprocess",
                                   time_scale=0)
    try:
        engine = RunEngine(station, folder / "data", plan_source=f"{name} ({regime})")
        engine.queue = list(plan.steps)
        state = engine.run_blocking()
    finally:
        station.close()
    return PlanRun(name, regime, plan, list(engine.files), state, lab.contact.truth(),
                   lab.contact)


_RUNS: dict[tuple[str, str], PlanRun] = {}


def example_run(name: str, regime: str, factory: pytest.TempPathFactory) -> PlanRun:
    """The example plan ``name`` run once per session with a ``regime`` contact: the demo
    plan with a ballistic contact exactly as the file says, every other combination
    aimed at the regime (pcsdaq.runner.demo.plan_for_regime) and reduced for CI."""
    key = (name, regime)
    if key not in _RUNS:
        plan = load_plan(CONFIGS / name)
        if not (name == "plan-demo.yaml" and regime == "ballistic"):
            plan = reduced_plan(plan_for_regime(plan, regime))
        folder = factory.mktemp(f"{Path(name).stem}-{regime}")
        _RUNS[key] = run_plan(plan, name, regime, folder)
    return _RUNS[key]


@pytest.fixture(scope="module", params=[(p, r) for p in CONTACT_PLANS for r in REGIMES],
                ids=lambda pr: f"{Path(pr[0]).stem}-{pr[1]}")
def plan_run(request, tmp_path_factory) -> PlanRun:
    """Each example plan with each contact regime, run once."""
    run = example_run(*request.param, tmp_path_factory)
    assert run.state == "finished", f"{run.name} ({run.regime}) ended {run.state}"
    return run
