"""One fit of a segment: pcsdaq fit (HDF5), analyze, demo's description and the data
browser's numbers all come from fit_segment; R(T) and series analyses of a run."""

import json

import numpy as np
import pytest

from pcsdaq.analysis.run_report import analyze_run
from pcsdaq.analysis.spectrum_fit import fit_segment
from pcsdaq.cli import main
from pcsdaq.physics import andreev, bcs, rt
from pcsdaq.runner.demo import describe
from pcsdaq.storage import RunWriter, read_run

COLUMNS = {"V_dc_V": "V", "dIdV_S": "S", "dVdI_Ohm": "Ohm", "temperature_K": "K",
           "field_T": "T", "R_Ohm": "Ohm"}


@pytest.fixture
def run_file(tmp_path):
    path = tmp_path / "series.h5"
    rng = np.random.default_rng(0)
    bias = np.linspace(-8e-3, 8e-3, 300)
    with RunWriter(path, procedure="temperature_series", columns=COLUMNS) as w:
        for k, t in enumerate((2.0, 5.0, 8.0, 11.0)):
            w.begin_segment(f"T={t}K")
            delta = float(bcs.gap_meV(t, 16.0, 2.5))
            g = 0.1 * andreev.spin_conductance(bias * 1e3, delta, 0.4, 0.1, 0.0, t)
            g *= 1 + 0.002 * rng.standard_normal(g.shape)
            for b, y in zip(bias, g):
                w.append({"V_dc_V": b, "dIdV_S": y, "dVdI_Ohm": 1 / y, "temperature_K": t,
                          "field_T": 0.0})
        for field, tc in ((0.0, 16.0), (2.0, 14.0), (4.0, 11.5)):
            w.begin_segment(f"RT B={field}T")
            temps = np.linspace(25, 2, 200)
            r = rt.contact_resistance_vs_T(temps, r_normal_ohm=10, tc_K=tc, width_K=1.0,
                                           drop_fraction=0.3)
            for t, y in zip(temps, r):
                w.append({"temperature_K": t, "R_Ohm": y, "field_T": field})
    return path


def test_every_caller_gets_the_same_fit(run_file, capsys):
    seg = read_run(run_file).segments[0]
    one = fit_segment(seg)
    assert main(["fit", str(run_file)]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert cli["delta_meV"] == pytest.approx(one["delta_meV"], rel=1e-9)
    assert cli["temperature_K"] == pytest.approx(2.0)
    report = analyze_run(run_file)
    assert report["spectra"][0]["delta_meV"] == pytest.approx(one["delta_meV"], rel=1e-9)
    assert f"Delta = {one['delta_meV']:.3f}" in "\n".join(describe(run_file))


def test_run_analysis_gives_tc_hc2_and_bcs(run_file):
    report = analyze_run(run_file)
    assert [s["verdict"] for s in report["spectra"]] == ["good"] * 4
    assert report["bcs"]["tc_K"] == pytest.approx(16.0, abs=0.5)
    assert report["tc_spectroscopic_K"] == report["bcs"]["tc_K"]
    tcs = {r["field_T"]: r["tc_two_slope_K"] for r in report["rt"]}
    assert tcs[0.0] == pytest.approx(16.0, abs=0.2) and tcs[4.0] == pytest.approx(11.5, abs=0.2)
    assert report["hc2"]["hc2_0_T"] > 4.0 and "failed" not in report["hc2"]
    for r in report["rt"]:
        assert r["tc_90_K"] > r["tc_midpoint_K"] > r["tc_10_K"]


def test_tc_reads_a_run_and_an_export(run_file, tmp_path, capsys):
    assert main(["tc", str(run_file)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["rt"]) == 3 and "hc2_0_T" in out["hc2"]
    assert main(["export", str(run_file), "--csv", "--out", str(tmp_path / "csv")]) == 0
    capsys.readouterr()
    exported = sorted((tmp_path / "csv").glob("*RT_B_0.0T*.csv"))
    assert exported, list((tmp_path / "csv").iterdir())
    assert main(["tc", str(exported[0])]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["tc_two_slope_K"] == pytest.approx(16.0, abs=0.2)
    assert {"tc_midpoint_K", "tc_10_K", "tc_90_K", "upper_range_K", "lower_range_K",
            "transition_range_K", "tc_K", "onset_K"} <= set(res)
    spectrum_csv = min((tmp_path / "csv").glob("*T_2.0K*.csv"))
    # a folder of exports: spectra at their recorded temperature, R(T) tables to Tc
    assert main(["analyze", str(tmp_path / "csv"), "--quiet", "--no-figures"]) == 0
    folder = json.loads(capsys.readouterr().out)
    assert len(folder["texts"]) == 4 and len(folder["texts_rt"]) == 3
    assert folder["texts"][0]["temperature_K"] == pytest.approx(2.0)
    assert folder["tc_distribution"]["n"] == 3
    assert main(["fit", str(spectrum_csv), "--temperature", "2"]) == 0
    fit = json.loads(capsys.readouterr().out)
    assert fit["bias_unit"] == "V" and fit["verdict"] == "good"


def test_gap_features_vanish_between_two_temperatures(tmp_path):
    path = tmp_path / "warm.h5"
    bias = np.linspace(-8e-3, 8e-3, 300)
    rng = np.random.default_rng(1)
    with RunWriter(path, procedure="temperature_series", columns=COLUMNS) as w:
        for t in (4.0, 12.0, 15.0, 17.0, 19.0):
            w.begin_segment(f"T={t}K")
            g = 0.1 * andreev.spin_conductance(bias * 1e3, float(bcs.gap_meV(t, 16.0, 2.5)) or
                                               1e-3, 0.4, 0.1, 0.0, t)
            g *= 1 + 0.002 * rng.standard_normal(g.shape)
            for b, y in zip(bias, g):
                w.append({"V_dc_V": b, "dIdV_S": y, "dVdI_Ohm": 1 / y, "temperature_K": t,
                          "field_T": 0.0})
    report = analyze_run(path)
    vanish = report["tc_features_vanish_K"]
    assert vanish["last_with_gap_features_K"] == 15.0 and vanish["first_without_K"] == 17.0
