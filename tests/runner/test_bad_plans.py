"""A corpus of bad plans, each refused with a clear message before any instrument I/O."""

import pytest
import yaml

from pcsdaq.cli import main
from pcsdaq.station import packaged_config

STATION = str(packaged_config("station-sim.yaml"))
SWEEP = {"procedure": "bias_sweep"}


def step(procedure, **params):
    return {"procedure": procedure, "parameters": params}


BAD_PLANS = [
    ({"station": STATION, "steps": [SWEEP], "colour": "red"}, "unknown key colour"),
    ({"station": STATION}, "'steps' must be a non-empty list"),
    ({"station": 7, "steps": [SWEEP]}, "station = 7; allowed: a text (a file path)"),
    ({"station": STATION, "steps": [SWEEP], "data_dir": ["a"]}, "data_dir = ['a']"),
    ({"station": STATION, "steps": [{"procedure": "bias_sweep", "name": 3}]},
     "name = 3; allowed: a text label"),
    ({"station": STATION, "steps": []}, "'steps' must be a non-empty list"),
    ({"station": STATION, "steps": ["bias_sweep"]}, "a step is a mapping"),
    ({"station": STATION, "steps": [{"procedure": "bias_sweep", "when": 1}]}, "unknown key when"),
    ({"station": STATION, "steps": [{"parameters": {}}]}, "missing 'procedure'"),
    ({"station": STATION, "steps": [{"procedure": "iv_curve"}]}, "unknown procedure 'iv_curve'"),
    ({"station": STATION, "steps": [{"procedure": "bias_sweep", "parameters": [1]}]},
     "'parameters' must be a mapping"),
    ({"station": STATION, "steps": [step("bias_sweep", max_curent_A=1e-3)]},
     "unknown parameter max_curent_A"),
    ({"station": STATION, "steps": [step("bias_sweep", max_current_A=0.02)]},
     "max_current_A = 0.02 A exceeds the station's bias limit (allowed |value| <= 0.01 A)"),
    ({"station": STATION, "steps": [step("bias_sweep", max_current_A=0.5)]},
     "allowed 1e-09 to 0.1 A"),
    ({"station": STATION, "steps": [step("bias_sweep", n_points=2)]}, "allowed 3 to 100001"),
    ({"station": STATION, "steps": [step("bias_sweep", n_points="many")]}, "n_points"),
    ({"station": STATION, "steps": [step("bias_sweep", direction="sideways")]},
     "one of up, down, both"),
    ({"station": STATION, "steps": [step("bias_sweep", sine_voltage_V=2.0)]},
     "sine_voltage_V = 2 V exceeds the station's lock-in sine limit"),
    ({"station": STATION, "steps": [step("bias_sweep", sine_voltage_V=10.0)]},
     "allowed 0.004 to 5 V"),
    ({"station": STATION, "steps": [step("bias_sweep", settle_factor=0)]}, "settle_factor"),
    ({"station": STATION, "steps": [step("bias_sweep", time_constant_s=0)]}, "time_constant_s"),
    ({"station": STATION, "steps": [step("bias_sweep", filter_slope_db=9)]},
     "one of 6, 12, 18, 24"),
    ({"station": STATION, "steps": [step("bias_sweep", max_current_A=True)]}, "must be a number"),
    ({"station": STATION, "steps": [step("temperature_series", setpoints_K=[2, 400])]},
     "400 is outside 0.3 to 320 K"),
    ({"station": STATION, "steps": [step("temperature_series", setpoints_K=[2, 310])]},
     "setpoints_K[1] = 310 K exceeds the station's temperature limit"),
    ({"station": STATION, "steps": [step("temperature_series", setpoints_K="2, warm")]},
     "not a list of numbers"),
    ({"station": STATION, "steps": [step("temperature_series", heater_range=9)]},
     "heater_range"),
    ({"station": STATION, "steps": [step("temperature_series", on_timeout="panic")]},
     "one of continue, fail"),
    ({"station": STATION, "steps": [step("rt_log", rate_K_per_min=20.0)]},
     "rate_K_per_min = 20 K/min exceeds the station's ramp limit"),
    ({"station": STATION, "steps": [step("rt_log", start_K=25.0, end_K=2.0,
                                         rate_K_per_min=0.01)]},
     "timeout_s = 36000 s is shorter than the ramp (138000 s"),
    ({"station": STATION, "steps": [step("rt_log", current_A=0.05)]},
     "current_A = 0.05 A exceeds the station's bias limit"),
    ({"station": STATION, "steps": [step("field_series", fields_T=[1.0, 8.0])]},
     "8 is outside -7 to 7 T"),
    ({"station": STATION, "steps": [step("field_series", ramp_rate_T_per_min=1.0)]},
     "exceeds the magnet's ramp table on the way to fields_T[1] (0 -> 1 T allows"),
    # 0.4 T/min is fine below 3 T but not on the leg 2 -> 4 T (0.3 T/min above 3 T)
    ({"station": STATION, "steps": [step("field_series", fields_T=[2.0, 4.0],
                                         ramp_rate_T_per_min=0.4)]},
     "on the way to fields_T[1] (2 -> 4 T allows at most 0.3 T/min)"),
    ({"station": STATION, "steps": [step("needle_approach", target_min_ohm=30,
                                         target_max_ohm=10)]},
     "target_min_ohm = 30 Ohm must be below target_max_ohm = 10 Ohm"),
    ({"station": STATION, "steps": [step("needle_approach", step_voltage_V=100.0)]},
     "step_voltage_V = 100 V exceeds the station's piezo voltage limit (allowed |value| <= 60 V)"),
    ({"station": STATION, "steps": [step("needle_approach", steps_per_burst=5000)]},
     "steps_per_burst = 5000 steps exceeds the station's burst limit"),
    ({"station": STATION, "steps": [step("needle_approach", step_voltage_V=200.0)]},
     "allowed 0 to 150 V"),
    ({"station": "no-such-station.yaml", "steps": [SWEEP]}, "no-such-station.yaml"),
    ({"steps": [SWEEP]}, "no station file"),
]


@pytest.fixture
def no_instruments(monkeypatch):
    """Fail the test if anything tries to open a station."""
    def refuse(*args, **kwargs):
        raise AssertionError("instrument I/O attempted for a bad plan")

    monkeypatch.setattr("pcsdaq.runner.cli.open_station", refuse)


def test_corpus_is_big_enough():
    assert len(BAD_PLANS) >= 30


@pytest.mark.parametrize("plan,message", BAD_PLANS, ids=[m[:40] for _, m in BAD_PLANS])
def test_bad_plan_refused_before_io(plan, message, tmp_path, capsys, no_instruments):
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    code = main(["run", str(path), "--sim", "inprocess", "--data", str(tmp_path / "data")])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "data").exists() or not list((tmp_path / "data").glob("*.h5"))


def test_errors_name_the_step(tmp_path, capsys, no_instruments):
    plan = {"station": STATION, "steps": [SWEEP, {"procedure": "bias_sweep", "name": "fast",
                                                  "parameters": {"max_current_A": 0.05}}]}
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    assert main(["run", str(path), "--sim", "inprocess"]) == 2
    assert "step 2 (fast): max_current_A = 0.05 A" in capsys.readouterr().err


def test_syntax_error_and_missing_plan(tmp_path, capsys, no_instruments):
    path = tmp_path / "plan.yaml"
    path.write_text("steps: [\n")
    assert main(["run", str(path)]) == 2
    assert "not valid YAML" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "none.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().err
