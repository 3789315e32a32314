"""Side tables of a run file (/entry/analysis/<name>): appended under SWMR, read live and
after close, refused columns."""

import h5py
import numpy as np
import pytest

from pcsdaq.storage import RunWriter, read_run
from pcsdaq.storage.tables import TEXT

LIVE = {"n_points": "", "delta_meV": "meV", "verdict": TEXT}


def test_a_side_table_grows_under_swmr_and_survives_close(tmp_path):
    path = tmp_path / "run.h5"
    w = RunWriter(path, procedure="p", columns={"V_dc_V": "V", "dIdV_S": "S"},
                  tables={"live": LIVE})
    w.append({"V_dc_V": 0.0, "dIdV_S": 1.0})
    w.append_table("live", {"n_points": 16, "delta_meV": 2.5, "verdict": "degenerate"})
    w.append_table("live", {"n_points": 40, "verdict": "good"})  # delta missing: NaN
    running = read_run(path).tables["live"]  # a second reader while the writer runs
    assert list(running["n_points"]) == [16, 40] and running["verdict"][1] == "good"
    w.close()
    done = read_run(path)
    live = done.tables["live"]
    assert done.status == "finished" and np.isnan(live["delta_meV"][1])
    with h5py.File(path, "r") as f:  # plain HDF5: any tool finds it
        assert f["entry/analysis/live/delta_meV"].attrs["units"] == "meV"
        assert f["entry/analysis/live"].attrs["NX_class"] == "NXcollection"


def test_unknown_table_or_column_is_refused_and_writes_nothing(tmp_path):
    w = RunWriter(tmp_path / "run.h5", procedure="p", columns={"a": "V"},
                  tables={"live": LIVE})
    with pytest.raises(ValueError, match="no table 'fits'"):
        w.append_table("fits", {"n_points": 1})
    with pytest.raises(ValueError, match="unknown column 'Z'"):
        w.append_table("live", {"n_points": 1, "Z": 0.5})
    w.close()
    assert len(read_run(tmp_path / "run.h5").tables["live"]["n_points"]) == 0


def test_a_run_without_tables_reads_none(tmp_path):
    with RunWriter(tmp_path / "run.h5", procedure="p", columns={"a": "V"}) as w:
        w.append({"a": 1.0})
    assert read_run(tmp_path / "run.h5").tables == {}


def test_recovering_a_crashed_run_keeps_its_side_tables(tmp_path):
    import subprocess
    import sys
    import textwrap

    from pcsdaq.storage import recover_run

    path = tmp_path / "run.h5"
    child = textwrap.dedent(f"""
        import os
        from pcsdaq.storage import RunWriter
        from pcsdaq.storage.tables import TEXT
        w = RunWriter({str(path)!r}, procedure="p", columns={{"a": "V"}},
                      tables={{"live": {{"n_points": "", "verdict": TEXT}}}})
        w.begin_segment("sweep")
        w.append({{"a": 1.0}})
        w.append_table("live", {{"n_points": 16, "verdict": "good"}})
        os._exit(0)  # dies without closing
    """)
    subprocess.run([sys.executable, "-c", child], check=True)
    copy = read_run(recover_run(path))
    assert copy.tables["live"]["verdict"][0] == "good" and copy.n_rows == 1
