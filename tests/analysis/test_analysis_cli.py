"""The analysis commands: JSON out, one clear line and exit 2 on bad input."""

import json

import numpy as np
import pytest

from pcsdaq.cli import main
from pcsdaq.physics import btk, rt


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_csv(path, header, columns):
    np.savetxt(path, np.column_stack(columns), delimiter=",", header=header, comments="")
    return str(path)


@pytest.fixture
def spectrum(tmp_path):
    bias = np.linspace(-8e-3, 8e-3, 400)
    g = 0.04 * btk.conductance(bias * 1e3, 2.0, 0.5, 0.1, 2.0)
    g *= 1 + 0.003 * np.random.default_rng(0).standard_normal(400)
    return write_csv(tmp_path / "s.csv", "bias_V,dIdV", [bias, g])


def test_fit_prints_the_parameters_as_json(capsys, spectrum):
    code, out, _ = run(capsys, "fit", spectrum, "--temperature", "2.0")
    assert code == 0
    res = json.loads(out)
    assert res["delta_meV"] == pytest.approx(2.0, rel=0.01)
    assert {"Z", "gamma_meV", "scale", "delta_meV_err", "Z_err", "gamma_meV_err",
            "chi2_red"} <= set(res)
    code, out, _ = run(capsys, "fit", spectrum, "--temperature", "2.0", "--window-mV", "5")
    assert json.loads(out)["n_points"] < 400


def test_tc_gap_fit_and_diameter(capsys, tmp_path):
    t = np.linspace(2, 30, 200)
    r = rt.contact_resistance_vs_T(t, r_normal_ohm=10, tc_K=15, width_K=1.5, drop_fraction=0.3)
    code, out, _ = run(capsys, "tc", write_csv(tmp_path / "rt.csv", "T_K,R_ohm", [t, r]))
    assert code == 0 and json.loads(out)["tc_K"] == pytest.approx(15.0, abs=0.2)
    from pcsdaq.physics import bcs
    temps = np.linspace(1, 18, 10)
    gaps = write_csv(tmp_path / "g.csv", "T_K,delta_meV", [temps, bcs.gap_meV(temps, 20.0)])
    code, out, _ = run(capsys, "gap-fit", gaps)
    res = json.loads(out)
    assert res["tc_K"] == pytest.approx(20.0, abs=0.05) and res["ratio"] == pytest.approx(1.764,
                                                                                         rel=1e-3)
    code, out, _ = run(capsys, "diameter", "9.5")
    assert json.loads(out)["diameter_nm"] == pytest.approx(38.94, rel=1e-3)
    code, out, _ = run(capsys, "diameter", "9.5", "--convention", "wexler")
    assert json.loads(out)["convention"] == "wexler"


@pytest.mark.parametrize("content,args,message", [
    ("bias_V,G\n0.001,1\n", ["--temperature", "2", "--columns", "bias_V,dIdV"],
     "no column 'dIdV'"),
    ("bias_V,G\n0.001,1\n", ["--temperature", "2"], "only 1 points"),
    ("", ["--temperature", "2"], "empty file"),
    ("bias_V,dIdV\n", ["--temperature", "2"], "no data rows"),
    ("bias_V,dIdV\n0.001,nan\n0.002,1\n", ["--temperature", "2"], "NaN"),
    ("bias_V,dIdV\n0.001,abc\n", ["--temperature", "2"], "not a number"),
    ("bias_V,dIdV\n" + "".join(f"{v},1\n" for v in range(-8, 9)), ["--temperature", "2"],
     "looks like mV"),
    ("bias_V,dIdV\n0.001,1\n", ["--temperature", "0"], "must be > 0"),
])
def test_bad_spectrum_input_is_one_clear_line(capsys, tmp_path, content, args, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    code, out, err = run(capsys, "fit", str(path), *args)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_bad_rt_and_missing_file(capsys, tmp_path):
    path = tmp_path / "flat.csv"
    write_csv(path, "T_K,R_ohm", [np.linspace(2, 30, 40), np.full(40, 5.0)])
    code, _, err = run(capsys, "tc", str(path))
    assert code == 2 and "no transition" in err
    code, _, err = run(capsys, "gap-fit", str(tmp_path / "nope.csv"))
    assert code == 2 and "cannot read" in err
