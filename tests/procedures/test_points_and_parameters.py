"""Bias points and parameter handling of the procedures (no instruments)."""

import numpy as np
import pytest

from pcsdaq.procedures import PROCEDURES, BiasSweep, NeedleApproach, PlanError, TemperatureSeries
from pcsdaq.procedures.points import bias_points
from pcsdaq.station import load_station_config, packaged_config

SIM = load_station_config(packaged_config("station-sim.yaml"))


def test_linear_symmetric_points_in_each_direction():
    up = bias_points(1e-3, 5, "up")
    assert up == pytest.approx([-1e-3, -5e-4, 0.0, 5e-4, 1e-3])
    assert bias_points(1e-3, 5, "down") == pytest.approx(up[::-1])
    both = bias_points(1e-3, 5, "both")
    assert len(both) == 9 and both[4] == pytest.approx(1e-3) and both[-1] == pytest.approx(-1e-3)


def test_dense_region_around_zero():
    pts = bias_points(1e-3, 401, "up", dense_fraction=0.2, dense_factor=4)
    assert pts[0] == pytest.approx(-1e-3) and pts[-1] == pytest.approx(1e-3)
    assert np.all(np.diff(pts) > 0)
    steps = np.diff(pts)
    inner = steps[np.abs(pts[:-1]) < 1.5e-4].mean()
    outer = steps[np.abs(pts[:-1]) > 5e-4].mean()
    assert outer / inner == pytest.approx(4.0, rel=0.05)


def test_every_procedure_has_columns_signal_axes_and_ranged_parameters():
    for name, cls in PROCEDURES.items():
        assert cls.NAME == name
        assert cls.SIGNAL in cls.COLUMNS and cls.AXES[0] in cls.COLUMNS
        for key, spec in cls.parameter_specs().items():
            assert spec.default is not None, key
        assert cls().validate(SIM) == [], name  # the defaults run on the sim station
        assert cls().estimate_duration_s(SIM) > 0


def test_estimates_follow_the_settle_time():
    fast = BiasSweep.from_parameters({"time_constant_s": 0.01, "n_points": 100})
    slow = BiasSweep.from_parameters({"time_constant_s": 0.1, "n_points": 100})
    assert slow.estimate_duration_s(SIM) > 5 * fast.estimate_duration_s(SIM)


@pytest.mark.parametrize(("time_constant_s", "point_s"), [
    (3e-3, 0.030 + 0.005),  # the lock-in's 10 tau outlasts 2 ms + 20 ms of DMM (NPLC 1)
    (1e-3, 0.022 + 0.005),  # the DMM's reading sets the pace
])
def test_estimates_take_the_longer_of_lockin_settle_and_dmm_reading(time_constant_s, point_s):
    assert SIM.roles["dmm"].settings.get("nplc", 1.0) == 1.0
    sweep = BiasSweep.from_parameters({"time_constant_s": time_constant_s, "n_points": 100,
                                       "filter_slope_db": 24, "dc_settle_s": 2e-3})
    assert sweep.estimate_duration_s(SIM) == pytest.approx(100 * point_s)


def test_validation_names_key_value_and_range():
    proc = TemperatureSeries.from_parameters({"setpoints_K": [2.0, 310.0], "heater_range": 8,
                                              "max_current_A": 0.02})
    problems = proc.validate(SIM)
    assert any("setpoints_K[1] = 310 K" in p and "300 K" in p for p in problems)
    assert any("max_current_A = 0.02 A" in p and "0.01 A" in p for p in problems)
    approach = NeedleApproach.from_parameters({"target_min_ohm": 50.0, "target_max_ohm": 5.0})
    assert any("must be below" in p for p in approach.validate(SIM))
    with pytest.raises(PlanError, match="unknown parameter"):
        BiasSweep.from_parameters({"points": 3})


def test_parameters_round_trip_for_plans():
    proc = TemperatureSeries.from_parameters({"setpoints_K": "1, 2.5", "n_points": 11})
    again = TemperatureSeries.from_parameters(proc.parameters_dict())
    assert again.parameters_dict() == proc.parameters_dict()
    assert again.setpoints_K == [1.0, 2.5]
