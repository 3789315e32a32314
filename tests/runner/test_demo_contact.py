"""`pcsdaq demo --contact REGIME`: the simulated contact of that regime, the approach aimed
at it, and what the simulator drew printed beside the fits."""

import pytest

from pcsdaq.cli import main
from pcsdaq.runner.demo import APPROACH_OHM, THERMAL_MAX_CURRENT_A, plan_for_regime
from pcsdaq.runner.plan import load_plan
from pcsdaq.station import packaged_config


def test_plan_for_a_regime_aims_the_approach_and_keeps_the_stated_conditions():
    plan = load_plan(packaged_config("plan-demo.yaml"))
    thermal = plan_for_regime(plan, "thermal")
    approach = thermal.steps[0].parameters
    assert (approach["target_min_ohm"], approach["target_max_ohm"]) == APPROACH_OHM["thermal"]
    series = thermal.steps[2].parameters
    assert "max_bias_mV" not in series and series["max_current_A"] == THERMAL_MAX_CURRENT_A
    assert series["field_T"] == plan.steps[2].parameters["field_T"]
    inter = plan_for_regime(plan, "intermediate")
    assert inter.steps[2].parameters == plan.steps[2].parameters


@pytest.mark.slow
def test_demo_with_an_intermediate_contact_says_what_it_drew(tmp_path, capsys):
    assert main(["demo", "--contact", "intermediate", "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "approach to 2-5 Ohm (intermediate contact)" in out
    truth = next(line for line in out.splitlines() if line.startswith("the simulator drew"))
    assert "intermediate" in truth and "I_c(0) =" in truth and "Hc2(0) = 8 T" in truth


def test_unknown_contact_regime_is_a_usage_error(capsys):
    assert main(["demo", "--contact", "diffusive"]) == 2  # one line, no traceback
    err = capsys.readouterr().err
    assert "ballistic" in err and err.count("\n") == 1
