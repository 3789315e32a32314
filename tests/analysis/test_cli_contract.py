"""The command-line contract of fit / tc / gap-fit / diameter / analyze: the JSON keys, and
every input error as one line with exit 2 and no traceback (also under a fuzz test)."""

import json
import string

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pcsdaq.cli import main
from pcsdaq.physics import andreev
from tests.analysis.realdata import realdata


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, out, err):
    assert code == 2 and out == "", (code, out, err)
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.fixture
def spectrum(tmp_path):
    bias = np.linspace(-8, 8, 301)
    g = andreev.spin_conductance(bias, 1.5, 0.4, 0.1, 0.3, 2.0)
    g *= 1 + 0.003 * np.random.default_rng(1).standard_normal(g.shape)
    path = tmp_path / "s.csv"
    path.write_text("".join(f"{b:.5f},{y:.6f}\n" for b, y in zip(bias, g)))
    return path


def test_fit_prints_the_contract_keys(capsys, spectrum):
    code, out, _ = run(capsys, "fit", str(spectrum), "--temperature", "2", "--model", "spin",
                       "--offset", "auto", "--bound", "Z=0:3")
    assert code == 0
    res = json.loads(out)
    for key in ("delta_meV", "delta_meV_err", "Z", "Z_err", "gamma_meV", "gamma_meV_err",
                "scale", "scale_err", "chi2_red", "temperature_K", "n_points", "window_mV",
                "success", "P", "P_err", "verdict", "reasons", "dips_mV", "at_bound",
                "correlations", "offset_mV", "bias_unit", "rms"):
        assert key in res, key
    assert res["bias_unit"] == "mV" and "auto" in res["bias_unit_reason"]
    assert res["verdict"] in ("good", "degenerate", "poor", "not-ballistic")
    assert res["P"] == pytest.approx(0.3, abs=0.05) and abs(res["offset_mV"]) < 0.02
    code, out, _ = run(capsys, "fit", str(spectrum), "--temperature", "2", "--model",
                       "two-gap", "--fix", "P=0", "--symmetrize", "--background", "auto")
    res = json.loads(out)
    assert code == 0 and {"delta2_meV", "weight"} <= set(res) and res["P"] == 0.0


def test_real_files_through_the_cli(capsys):
    _, out, _ = run(capsys, "fit", str(realdata("tp_t1.csv")), "--temperature", "1.66",
                    "--model", "spin")
    spin = json.loads(out)
    code, out, _ = run(capsys, "fit", str(realdata("tp_t1.csv")), "--temperature", "1.66",
                       "--fix", "P=0")
    assert code == 0 and spin["rms"] < 0.7 * json.loads(out)["rms"]
    _, out, _ = run(capsys, "fit", str(realdata("tp_Nb.csv")), "--temperature", "1.6",
                    "--window-mV", "1.0")
    nb = json.loads(out)
    assert nb["verdict"] == "not-ballistic" and nb["success"] is False and nb["dips_mV"]


@pytest.mark.parametrize("argv,message", [
    (["--temperature", "inf"], "finite"),
    (["--temperature", "nan"], "finite"),
    (["--temperature", "1e9"], "<= 400"),
    (["--temperature", "2", "--window-mV", "0"], "> 0"),
    (["--temperature", "2", "--window-mV", "nan"], "finite"),
    (["--temperature", "2", "--fix", "P"], "NAME=VALUE"),
    (["--temperature", "2", "--fix", "Q=1"], "cannot fix 'Q'"),
    (["--temperature", "2", "--bound", "Z=3:1"], "LO < HI"),
    (["--temperature", "2", "--bound", "Z=a:1"], "expected a number"),
    (["--temperature", "2", "--model", "nope"], "invalid choice"),
    (["--temperature", "2", "--bias-unit", "kV"], "invalid choice"),
    (["--temperature", "2", "--offset", "left"], "expected a number"),
    (["--temperature", "2", "--columns", "0"], "BIAS,SIGNAL"),
    ([], "give --temperature"),
    (["--temperature", "2", "--unknown"], "unrecognized"),
])
def test_fit_option_errors(capsys, spectrum, argv, message):
    code, out, err = run(capsys, "fit", str(spectrum), *argv)
    one_line_error(code, out, err)
    assert message in err


@pytest.mark.parametrize("raw", ["bias,G\n1,2\n".encode("utf-16"), bytes(range(256)) * 4],
                         ids=["utf16", "binary"])
def test_fit_and_tc_refuse_utf16_and_binary(capsys, tmp_path, raw):
    path = tmp_path / "x.csv"
    path.write_bytes(raw)
    for command in (["fit", str(path), "--temperature", "2"], ["tc", str(path)],
                    ["gap-fit", str(path)]):
        code, out, err = run(capsys, *command)
        one_line_error(code, out, err)
        assert "UTF-16" in err or "binary" in err


@pytest.mark.parametrize("argv", [["inf"], ["nan"], ["-1"], ["0"], ["abc"], ["1e-308"],
                                  ["1e-300", "--convention", "wexler"],
                                  ["5", "--convention", "wexler", "--rho-ohm-m", "inf"]])
def test_diameter_errors(capsys, argv):
    one_line_error(*run(capsys, "diameter", *argv))


def test_tc_option_errors(capsys, tmp_path):
    path = tmp_path / "rt.csv"
    path.write_text("T_K,R_ohm\n" + "".join(f"{t},{10 - (t < 5)}\n" for t in range(1, 20)))
    for argv in (["--onset-K", "nan"], ["--onset-K", "-3"], ["--steep-fraction", "0.5"],
                 ["--steep-fraction", "0.6:0.2"]):
        one_line_error(*run(capsys, "tc", str(path), *argv))


CELL = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                 st.text(alphabet=string.printable, max_size=6))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, min_size=1, max_size=3), max_size=12),
       header=st.booleans(),
       extra=st.lists(st.sampled_from(["--temperature", "2", "0", "inf", "--window-mV", "-1",
                                       "--model", "spin", "--bias-unit", "mV", "--fix", "P=1",
                                       "--bound", "Z=0:1", "--offset", "auto", "--normalized",
                                       "--symmetrize", "--onset-K", "1e9", "nan"]),
                      max_size=6))
def test_fuzz_cli_inputs_never_trace_back(capsys, tmp_path_factory, rows, header, extra):
    path = tmp_path_factory.mktemp("fuzz") / "f.csv"
    lines = (["bias_V,dIdV,T_K"] if header else []) + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    for command in ("fit", "tc", "gap-fit"):
        try:
            code = main([command, str(path), *extra])
        except SystemExit as exc:  # --help only
            code = exc.code
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        assert code in (0, 2), (command, code, err)
        if code == 2:
            assert out == "" and err.count("\n") == 1


@settings(max_examples=40, deadline=None)
@given(args=st.lists(st.one_of(
    st.sampled_from(["--convention", "paper", "wexler", "--rho-ohm-m", "--kf-per-m", "--mfp-m",
                     "inf", "-inf", "nan", "0", "-1", "1e308", "1e-308", "9.5"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr)), max_size=5))
def test_fuzz_diameter_never_traces_back(args):
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["diameter", *args])
        except SystemExit as exc:
            code = exc.code
    assert "Traceback" not in err.getvalue()
    assert code in (0, 2), (args, code, err.getvalue())
    if code == 0:
        assert json.loads(out.getvalue())["diameter_nm"] > 0
