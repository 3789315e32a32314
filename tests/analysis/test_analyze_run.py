"""`pcsdaq analyze RUN.h5` on a temperature series measured on the simulated lab."""

import json

import h5py
import pytest

from pcsdaq.cli import main
from pcsdaq.runner.engine import RunEngine
from pcsdaq.runner.plan import PlanStep


@pytest.fixture
def series_file(sim_station, tmp_path):
    lab, station = sim_station
    lab.contact.place()
    engine = RunEngine(station, tmp_path)
    engine.queue = [PlanStep("temperature_series", {
        "setpoints_K": [2.0, 5.0, 8.0], "max_current_A": 5e-4, "n_points": 121,
        "sensitivity_V": 1e-5, "window_s": 10.0})]
    assert engine.run_blocking() == "finished"
    return lab, engine.files[0]


def test_analyze_fits_stores_and_draws(series_file, capsys):
    lab, path = series_file
    assert main(["analyze", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["spectra"]) == 3
    t2 = next(s for s in out["spectra"] if abs(s["temperature_K"] - 2.0) < 0.1)
    assert t2["delta_meV"] == pytest.approx(lab.contact.params.delta0_meV, rel=0.05)
    assert "bcs" in out and out["bcs"]["tc_K"] > 0
    for fig in out["figures"]:
        assert fig.endswith(".png") and open(fig, "rb").read(4) == b"\x89PNG"
    with h5py.File(path) as f:
        assert f["entry/analysis/delta_meV"].shape == (3,)
        assert f["entry/analysis/delta_meV"].attrs["units"] == "meV"


def test_analyze_refuses_a_missing_file(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "none.h5")]) == 2
    assert "no such run file" in capsys.readouterr().err
