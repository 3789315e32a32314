"""What steps state they hold fixed, checked before any I/O, and what `--check` says."""

import pytest

from pcsdaq.procedures import BiasSweep, FieldSeries, PlanError, TemperatureSeries
from pcsdaq.runner.plan import PlanStep, describe_plan, parse_plan, plan_conditions, validate_plan
from pcsdaq.station import load_station_config, packaged_config

SIM = load_station_config(packaged_config("station-sim.yaml"))


def test_stating_and_keeping_at_once_is_refused():
    t = TemperatureSeries.from_parameters({"field_T": 1.0, "keep_field": True})
    assert any("field_T = 1 and keep_field" in p for p in t.validate(SIM))
    f = FieldSeries.from_parameters({"temperature_K": 2.0, "keep_temperature": True})
    assert any("temperature_K = 2 and keep_temperature" in p for p in f.validate(SIM))
    assert TemperatureSeries.from_parameters({"field_T": 1.0}).validate(SIM) == []


def test_stated_conditions_are_checked_against_the_station_limits():
    with pytest.raises(PlanError, match="field_T = 7.5 refused"):
        TemperatureSeries.from_parameters({"field_T": 7.5})
    f = FieldSeries.from_parameters({"temperature_K": 310.0})
    assert any("temperature_K = 310 K" in p and "300 K" in p for p in f.validate(SIM))


def test_bias_in_mV_is_checked_before_io_where_it_can_be():
    over = BiasSweep.from_parameters({"max_bias_mV": 999.0, "dense_bias_mV": 1000.0})
    problems = over.validate(SIM)
    assert any("dense_bias_mV = 1000 mV is above max_bias_mV" in p for p in problems)
    lab = load_station_config(packaged_config("station-lab.example.yaml"))  # 0.1 V range
    assert any("max_bias_mV = 999 mV" in p and "DMM range" in p for p in over.validate(lab))
    lone = BiasSweep.from_parameters({"dense_bias_mV": 3.0})
    assert any("needs max_bias_mV" in p for p in lone.validate(SIM))
    both = PlanStep("bias_sweep", {"max_bias_mV": 10.0, "max_current_A": 1e-3})
    assert any("both given" in p for p in validate_plan([both], SIM))


def test_dense_region_follows_the_bias_range_in_mV():
    sweep = BiasSweep.from_parameters({"max_bias_mV": 15.0, "dense_bias_mV": 6.0,
                                       "dense_factor": 3, "n_points": 301})
    pts = sweep.points(max_current_A=1.5e-3)
    assert abs(pts).max() == pytest.approx(1.5e-3)
    inner = abs(pts) <= 0.4 * 1.5e-3 * 0.99
    assert inner.sum() / len(pts) == pytest.approx(3 * 0.4 / (3 * 0.4 + 0.6), rel=0.05)


def _plan(*steps):
    return parse_plan({"steps": [dict(procedure=p, parameters=params) for p, params in steps]})


def test_check_warns_where_a_step_inherits_and_names_what_it_gets():
    plan = _plan(("rt_log", {"fields_T": [0.0, 3.0], "start_K": 20.0, "end_K": 2.0}),
                 ("temperature_series", {"setpoints_K": [1.0, 20.0]}),
                 ("field_series", {"fields_T": [1.0]}))
    conds = plan_conditions(plan)
    assert conds[0].warnings == [] and conds[0].field == "0, 3 T (stated)"
    assert conds[1].field == "inherited: 3 T, as step 1 leaves it"
    assert "field_T" in conds[1].warnings[0] and "3 T" in conds[1].warnings[0]
    assert conds[2].temperature == "inherited: 20 K, as step 2 leaves it"
    assert "temperature_K" in conds[2].warnings[0]
    lines = describe_plan(plan, SIM)
    assert sum(line.startswith("warning: ") for line in lines) == 2


def test_check_is_quiet_when_every_step_states_or_keeps():
    plan = _plan(("rt_log", {"fields_T": [3.0]}),
                 ("temperature_series", {"setpoints_K": [2.0], "keep_field": True}),
                 ("field_series", {"fields_T": [1.0], "temperature_K": 0.5}),
                 ("bias_sweep", {}))
    conds = plan_conditions(plan)
    assert all(c.warnings == [] for c in conds)
    assert conds[1].field == "kept: 3 T, as step 1 leaves it"
    assert conds[2].temperature == "0.5 K (stated)"
    assert conds[3].field == "kept: 0 T, as step 3 leaves it"  # zero_at_end
