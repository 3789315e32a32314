"""``pcsdaq export RUN.h5 --csv``: one CSV per segment with units in the header."""

from __future__ import annotations

import numpy as np
import pytest

from pcsdaq.cli import main as pcsdaq_main
from pcsdaq.errors import PcsdaqError
from pcsdaq.storage import RunWriter
from pcsdaq.storage.cli import main as export_main


def _run(path):
    with RunWriter(path, procedure="TemperatureSeries",
                   columns={"bias": "V", "dIdV": "S", "temperature": "K"}) as w:
        w.begin_segment("T=1.5 K", temperature_setpoint_K=1.5)
        w.append({"bias": -1e-3, "dIdV": 0.0125, "temperature": 1.5})
        w.append({"bias": 1e-3, "dIdV": 0.0135})
        w.begin_segment("T=4.2 K/b", temperature_setpoint_K=4.2)
        w.append({"bias": 0.0, "dIdV": 0.011, "temperature": 4.2})


def test_export_one_csv_per_segment(tmp_path, capsys):
    run = tmp_path / "run7.h5"
    _run(run)
    out = tmp_path / "csv"
    assert export_main([str(run), "--csv", "--out", str(out)]) == 0
    files = sorted(out.iterdir())
    assert [f.name for f in files] == ["run7_000_T_1.5_K.csv", "run7_001_T_4.2_K_b.csv"]
    assert str(files[0]) in capsys.readouterr().out
    lines = files[0].read_text().splitlines()
    assert lines[5] == "bias [V],dIdV [S],temperature [K]"  # 5 comment lines, header
    assert "# procedure: TemperatureSeries" in lines
    assert '# segment_attrs: {"start_time"' in next(x for x in lines if "segment_attrs" in x)
    assert "# segment: T=1.5 K" in lines
    header = next(x for x in lines if not x.startswith("#"))
    assert header == "bias [V],dIdV [S],temperature [K]"
    data = np.loadtxt(files[0], delimiter=",", skiprows=6, ndmin=2)
    np.testing.assert_array_equal(data[0], [-1e-3, 0.0125, 1.5])
    assert data[1, 1] == 0.0135 and np.isnan(data[1, 2])
    data2 = np.loadtxt(files[1], delimiter=",", skiprows=6, ndmin=2)
    np.testing.assert_array_equal(data2, [[0.0, 0.011, 4.2]])


def test_export_defaults_beside_the_run(tmp_path):
    run = tmp_path / "r.h5"
    _run(run)
    assert pcsdaq_main(["export", str(run), "--csv"]) == 0
    assert (tmp_path / "r_000_T_1.5_K.csv").exists()


def test_export_errors(tmp_path, capsys):
    with pytest.raises(PcsdaqError, match="no such file"):
        export_main([str(tmp_path / "missing.h5"), "--csv"])
    (tmp_path / "x.h5").write_bytes(b"\x00garbage")
    assert pcsdaq_main(["export", str(tmp_path / "x.h5"), "--csv"]) == 2
    err = capsys.readouterr().err
    assert "not a readable HDF5 file" in err and err.count("\n") == 1
    with pytest.raises(PcsdaqError, match="--csv"):  # one line via pcsdaq.cli, exit 2
        export_main([str(tmp_path / "x.h5")])  # --csv is the only format, and required
