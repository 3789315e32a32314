"""Reading spectra as labs write them: the shared real files as shipped, and each format."""

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pcsdaq.analysis.io import AnalysisInputError
from pcsdaq.analysis.readers import read_columns, read_spectrum
from tests.analysis.realdata import REALDATA, TEMPERATURES, realdata


@pytest.mark.parametrize("name", [*TEMPERATURES, "tp_t1_BTK_Fit.csv"])
def test_every_shared_file_reads_as_shipped(name):
    spec = read_spectrum(realdata(name))
    assert spec.bias_unit == "mV" and "auto" in spec.bias_unit_reason
    assert np.all(np.diff(spec.bias_V) >= 0)
    assert 0.004 < spec.bias_V.max() < 0.008 and spec.bias_V.min() < -0.004
    assert spec.looks_normalised and spec.quantity == "dIdV"
    if name == "tp_t1_BTK_Fit.csv":  # index, V, G/GN: the index column is not the bias
        assert spec.columns == ("V", "G/GN") and len(spec.bias_V) == 600


def test_shared_folder_is_where_the_tests_look():
    if not REALDATA.exists():
        pytest.skip("../shared/realdata absent")
    assert (REALDATA / "README.md").exists()


def spectrum_text(bias, g, *, sep=",", header=None, newline="\n", decimal=".") -> str:
    lines = [] if header is None else [header]
    for b, y in zip(bias, g):
        lines.append(sep.join(f"{v:.6g}".replace(".", decimal) for v in (b, y)))
    return newline.join(lines) + newline


BIAS_MV = np.linspace(-5, 5, 101)
G = 1 + 0.5 * np.exp(-BIAS_MV**2)


@pytest.mark.parametrize("kwargs,encoding", [
    ({"sep": ","}, "utf-8"),
    ({"sep": "\t", "header": "V (mV)\tdI/dV"}, "utf-8"),
    ({"sep": " ", "newline": "\r\n"}, "utf-8-sig"),
    ({"sep": ";", "decimal": ",", "header": "bias_mV;G"}, "utf-8"),
    ({"sep": ",", "header": "V [mV],G/GN"}, "utf-8-sig"),
])
def test_formats(tmp_path, kwargs, encoding):
    path = tmp_path / "s.txt"
    path.write_bytes(spectrum_text(BIAS_MV[::-1], G[::-1], **kwargs).encode(encoding))
    spec = read_spectrum(path)
    assert spec.bias_unit == "mV"
    assert spec.bias_V == pytest.approx(BIAS_MV * 1e-3, abs=1e-9)
    assert spec.g == pytest.approx(G, rel=1e-5)


def test_volts_and_dvdi_and_uneven_bias(tmp_path):
    bias = np.sort(np.random.default_rng(0).uniform(-5e-3, 5e-3, 80))
    path = tmp_path / "r.csv"
    path.write_text("# a comment\nbias_V,dVdI_Ohm\n" +
                    "".join(f"{b:.9g},{10.0:.9g}\n" for b in bias))
    spec = read_spectrum(path)
    assert spec.bias_unit == "V" and spec.quantity == "dVdI"
    assert spec.g == pytest.approx(0.1)


def test_bias_unit_given_and_column_choice(tmp_path):
    path = tmp_path / "three.csv"
    path.write_text("".join(f"{b},{g},{2 * g}\n" for b, g in zip(BIAS_MV, G)))
    spec = read_spectrum(path, bias_unit="mV", signal_column=2)
    assert spec.g == pytest.approx(2 * G, rel=1e-5) and spec.bias_unit_reason.startswith("given")
    with pytest.raises(AnalysisInputError, match="looks like mV"):
        read_spectrum(path, bias_unit="V")


@pytest.mark.parametrize("raw,message", [
    ("bias,G\n".encode("utf-16"), "UTF-16"),
    (b"\x00\x01\x02\x03" * 50, "binary"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(128, 256)) * 4, "binary"),
    (b"1,2\n3,x\n", "line 2: 'x' is not a number"),
    (b"1,2\n3\n", "line 2: 1 column(s), expected 2"),
    (b"# only a comment\n", "empty file"),
], ids=["utf16", "nul", "binary", "not-a-number", "short-row", "empty"])
def test_unreadable_files_get_one_line(tmp_path, raw, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(raw)
    with pytest.raises(AnalysisInputError, match=re.escape(message)) as info:
        read_spectrum(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_read_columns_matches_names_without_case_or_unit(tmp_path):
    path = tmp_path / "rt.csv"
    path.write_text("# procedure: rt\n# x\nT_K [K],R_Ohm [Ohm]\n1,2\n3,4\n")
    cols = read_columns(path, ("T_K", "R_ohm"))
    assert cols["R_ohm"] == pytest.approx([2, 4]) and cols["T_K"] == pytest.approx([1, 3])



@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.one_of(st.binary(max_size=300),
                     st.lists(st.sampled_from(["1", "-2.5", "nan", "inf", "1e400", ",", ";", "\t",
                                               " ", "\r\n", "\n", "#", "V", "[mV]", "\ufeff",
                                               "dV/dI", "0,5"]), max_size=40).map("".join)
                     .map(lambda s: s.encode("utf-8"))))
def test_fuzz_reader_only_raises_one_line_errors(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("fz") / "x.csv"
    path.write_bytes(raw)
    for bias_unit in ("auto", "mV"):
        try:
            spec = read_spectrum(path, bias_unit=bias_unit)
        except AnalysisInputError as exc:
            assert "\n" not in str(exc)
        else:
            assert len(spec.bias_V) == len(spec.g) and np.all(np.diff(spec.bias_V) >= 0)


def test_units_row_and_common_names(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text("index,Bias,dI/dV\n,mV,uS\n" +
                    "".join(f"{k},{b},{g}\n" for k, (b, g) in enumerate(zip(BIAS_MV, G))))
    spec = read_spectrum(path)
    assert spec.bias_unit == "mV" and "header unit" in spec.bias_unit_reason
    assert spec.g == pytest.approx(G, rel=1e-5)
