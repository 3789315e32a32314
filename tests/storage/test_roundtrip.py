"""RunWriter -> read_run round trip: columns, units, attributes, segments, status."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from pcsdaq import __version__
from pcsdaq.errors import AbortRequested
from pcsdaq.storage import RunFileError, RunWriter, list_runs, read_run

COLUMNS = {"bias": "V", "dIdV": "S", "V_dc": "V", "temperature": "K", "field": "T", "t": "s",
           "overload": ""}


def _write_series(path, status="finished", reason=None):
    w = RunWriter(
        path, procedure="TemperatureSeries", columns=COLUMNS, signal="dIdV", axes="bias",
        parameters={"bias_start": -5e-3, "n_points": 4}, metadata={"sample": "Nb foil"},
        snapshot={"lockin": {"time_constant": 0.003, "sensitivity": 1e-3}},
    )
    bias = np.linspace(-5e-3, 5e-3, 4)
    for k, temp in enumerate((1.5, 4.2)):
        w.begin_segment(f"T={temp}K", temperature_setpoint_K=temp, index=k)
        for b in bias:
            w.append({"bias": b, "dIdV": 0.01 + b * (k + 1), "temperature": temp, "t": b + 1})
    w.set_metadata(contact_resistance_Ohm=12.5, contact_diameter_m=3.1e-9)
    w.close(status, reason)
    return bias


def test_round_trip_columns_units_attrs_segments(tmp_path):
    path = tmp_path / "deep" / "folder" / "run.h5"
    bias = _write_series(path)
    run = read_run(path)
    assert run.status == "finished"
    assert run.units == COLUMNS
    assert run.n_rows == 8
    np.testing.assert_array_equal(run.columns["bias"], np.concatenate([bias, bias]))
    assert np.isnan(run.columns["field"]).all()  # never given -> NaN
    a = run.attrs
    assert a["procedure"] == "TemperatureSeries"
    assert a["parameters"] == {"bias_start": -5e-3, "n_points": 4}
    assert a["snapshot"]["lockin"]["time_constant"] == 0.003
    assert a["metadata"] == {"sample": "Nb foil", "contact_resistance_Ohm": 12.5,
                             "contact_diameter_m": 3.1e-9}
    assert a["software_version"] == __version__
    assert a["start_time"].endswith("Z") and a["end_time"] >= a["start_time"]
    assert [s.name for s in run.segments] == ["T=1.5K", "T=4.2K"]
    seg = run.segments[1]
    assert seg.attrs["temperature_setpoint_K"] == 4.2 and seg.attrs["index"] == 1
    np.testing.assert_allclose(seg.columns["dIdV"], 0.01 + bias * 2)
    assert seg.first_row == 4 and seg.n_rows == 4 and seg.units["dIdV"] == "S"


def test_rows_before_first_segment_form_main_segment(tmp_path):
    with RunWriter(tmp_path / "r.h5", procedure="p", columns={"x": "V", "y": "S"}) as w:
        w.append({"x": 1.0, "y": 2.0})
        w.begin_segment("second")
        w.append({"x": 3.0})
    run = read_run(tmp_path / "r.h5")
    assert [(s.name, s.n_rows) for s in run.segments] == [("main", 1), ("second", 1)]
    assert np.isnan(run.segments[1].columns["y"][0])


@pytest.mark.parametrize("status,reason", [("finished", None), ("aborted", "user pressed Abort"),
                                           ("failed", "lock-in timeout")])
def test_status_and_reason(tmp_path, status, reason):
    _write_series(tmp_path / "r.h5", status, reason)
    run = read_run(tmp_path / "r.h5")
    assert run.status == status
    assert run.attrs["abort_reason"] == (reason or "")


def test_context_manager_failure_and_abort(tmp_path):
    with (
        pytest.raises(RuntimeError, match="boom"),
        RunWriter(tmp_path / "f.h5", procedure="p", columns={"x": "V"}) as w,
    ):
        w.append({"x": 1.0})
        raise RuntimeError("boom")
    run = read_run(tmp_path / "f.h5")
    assert run.status == "failed" and "boom" in run.attrs["abort_reason"]
    assert run.n_rows == 1
    with (
        pytest.raises(AbortRequested),
        RunWriter(tmp_path / "a.h5", procedure="p", columns={"x": "V"}),
    ):
        raise AbortRequested("Ctrl-C by operator")
    run = read_run(tmp_path / "a.h5")
    assert run.status == "aborted" and run.attrs["abort_reason"] == "Ctrl-C by operator"


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="at least one column"):
        RunWriter(tmp_path / "a.h5", procedure="p", columns={})
    with pytest.raises(ValueError, match="not allowed"):
        RunWriter(tmp_path / "b.h5", procedure="p", columns={"a/b": "V"})
    with pytest.raises(ValueError, match="signal column"):
        RunWriter(tmp_path / "c.h5", procedure="p", columns={"x": "V"}, signal="nope")
    w = RunWriter(tmp_path / "d.h5", procedure="p", columns={"x": "V", "y": "S"})
    w.append({"x": 1.0})
    with pytest.raises(ValueError, match="unknown column 'z'"):
        w.append({"x": 2.0, "z": 1.0})
    assert w.n_rows == 1
    with pytest.raises(ValueError, match="status"):
        w.close("done")
    w.close()
    with pytest.raises(ValueError, match="closed"):
        w.append({"x": 1.0})
    assert read_run(w.path).n_rows == 1  # the refused row was not written
    with pytest.raises(RunFileError, match="exists"):
        RunWriter(w.path, procedure="p", columns={"x": "V"})
    assert read_run(w.path).n_rows == 1  # the existing record is untouched


def test_reader_errors(tmp_path):
    with pytest.raises(RunFileError, match="no such file"):
        read_run(tmp_path / "missing.h5")
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(RunFileError, match="not a readable HDF5"):
        read_run(tmp_path / "text.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = [1, 2]
    with pytest.raises(RunFileError, match="not a pcsdaq run"):
        read_run(tmp_path / "other.h5")


def test_nexus_attributes(tmp_path):
    path = tmp_path / "r.h5"
    bias = _write_series(path)
    with h5py.File(path, "r") as f:
        assert f.attrs["NX_class"] == "NXroot" and f.attrs["default"] == "entry"
        entry = f["entry"]
        assert entry.attrs["NX_class"] == "NXentry" and entry.attrs["default"] == "data"
        groups = [entry["data"], entry["segment_000"], entry["segment_001"]]
        for g in groups:
            assert g.attrs["NX_class"] == "NXdata"
            assert g.attrs["signal"] == "dIdV"
            assert list(g.attrs["axes"]) == ["bias"]
            assert g[g.attrs["signal"]].shape == g["bias"].shape  # plottable 1D pair
            for name, unit in COLUMNS.items():
                assert g[name].attrs["units"] == unit
        np.testing.assert_array_equal(entry["data/bias"][...], np.concatenate([bias, bias]))
        np.testing.assert_allclose(entry["segment_001/dIdV"][...], 0.01 + 2 * bias)
        assert entry["segment_001"].attrs["segment_name"] == "T=4.2K"

        def check_units(name, obj):
            if isinstance(obj, h5py.Dataset):
                assert "units" in obj.attrs, name
        f.visititems(check_units)


def test_list_runs(tmp_path):
    _write_series(tmp_path / "a.h5")
    _write_series(tmp_path / "sub" / "b.h5", "aborted", "x")
    (tmp_path / "junk.h5").write_text("junk")
    runs = list_runs(tmp_path)
    assert [(r.path.name, r.status, r.n_rows) for r in runs] == [("a.h5", "finished", 8),
                                                                  ("b.h5", "aborted", 8)]
    assert runs[0].procedure == "TemperatureSeries"


def test_read_while_writing_in_the_same_process(tmp_path):
    path = tmp_path / "r.h5"
    w = RunWriter(path, procedure="p", columns={"x": "V", "y": "S"})
    w.begin_segment("s", temperature_setpoint_K=2.0)
    w.append({"x": 1.0})
    w.set_metadata(contact_resistance_Ohm=7.0)
    run = read_run(path)
    assert (run.status, run.n_rows, run.metadata) == ("running", 1, {"contact_resistance_Ohm": 7.0})
    w.append({"x": 2.0})
    assert read_run(path).columns["x"].tolist() == [1.0, 2.0]
    w.close()
    assert w.finalized and read_run(path).status == "finished"


def test_rows_across_chunks_keep_their_own_values(tmp_path):
    """RunWriter writes whole 256-row chunks: a row never shows a value of an earlier row
    (same slot of the previous chunk, or a refused append) in a column it left out."""
    path = tmp_path / "long.h5"
    n = 600  # three chunks, the last one partly filled
    w = RunWriter(path, procedure="p", columns={"x": "V", "y": "S", "z": "K"})
    w.begin_segment("a")
    for k in range(n):
        row = {"x": float(k)} if k >= 256 else {"x": float(k), "y": 2.0 * k, "z": -1.0}
        if k == 300:
            with pytest.raises(ValueError):
                w.append({"z": 5.0, "x": "not a number"})  # refused half-way through
        if k == 400:
            w.begin_segment("b", index=1)
        w.append(row)
    assert read_run(path).n_rows == n  # readable while running, every row there
    w.close()
    run = read_run(path)
    x, y, z = (run.columns[c] for c in ("x", "y", "z"))
    np.testing.assert_array_equal(x, np.arange(n, dtype=float))
    np.testing.assert_array_equal(y[:256], 2.0 * np.arange(256))
    assert np.isnan(y[256:]).all() and np.isnan(z[256:]).all()
    assert [(s.name, s.n_rows) for s in run.segments] == [("a", 400), ("b", 200)]
    with h5py.File(path, "r") as f:  # the column views of a plain reader see the same rows
        np.testing.assert_array_equal(f["entry/data/x"][...], x)
        np.testing.assert_array_equal(f["entry/segment_001/x"][...], x[400:])
        assert f["entry/data/rows"].shape == (n, 3)


def test_a_segment_without_rows_gets_empty_column_views(tmp_path):
    path = tmp_path / "empty.h5"
    w = RunWriter(path, procedure="p", columns={"x": "V", "y": "S"})
    w.begin_segment("a")
    w.append({"x": 1.0})
    w.begin_segment("b")  # aborted before its first point
    w.close("aborted", "operator")
    with h5py.File(path, "r") as f:
        assert f["entry/segment_001/x"].shape == (0,)
        assert f["entry/segment_001/y"].attrs["units"] == "S"
        assert f["entry/segment_000/x"][...].tolist() == [1.0]
    assert [(s.name, s.n_rows) for s in read_run(path).segments] == [("a", 1), ("b", 0)]
