"""Batch fitting: a process pool by default, a Dask cluster when given; 'pcsdaq analyze'
over a folder of runs and text spectra writes one summary table (CSV and HDF5)."""

import csv
import json

import h5py
import numpy as np
import pytest

from pcsdaq.analysis.batch import fit_many
from pcsdaq.cli import main
from pcsdaq.physics import andreev

BIAS_V = np.linspace(-6e-3, 6e-3, 200)


def jobs(n):
    rng = np.random.default_rng(2)
    out = []
    for k in range(n):
        p = 0.1 * (k % 5)
        g = andreev.spin_conductance(BIAS_V * 1e3, 1.5, 0.4, 0.08, p, 2.0)
        out.append((BIAS_V, g * (1 + 0.003 * rng.standard_normal(g.shape)), 2.0,
                    {"model": "spin", "normalized": True}))
    out.append((BIAS_V[:3], np.ones(3), 2.0, {}))  # refused: becomes an error entry
    return out


def test_process_pool_keeps_order_and_reports_progress():
    seen = []
    res = fit_many(jobs(12), workers=2, chunk=3, progress=lambda d, t: seen.append((d, t)))
    assert len(res) == 13 and "only 3 points" in res[-1]["error"]
    assert [round(r["P"], 1) for r in res[:5]] == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert seen[-1] == (13, 13)
    assert fit_many(jobs(2), workers=1)[0]["delta_meV"] == pytest.approx(res[0]["delta_meV"])


def test_dask_local_cluster():
    distributed = pytest.importorskip("distributed", reason="dask.distributed not installed "
                                      "(optional extra pcsdaq[dask])")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        res = fit_many(jobs(4), scheduler=client, chunk=2)
        by_address = fit_many(jobs(1), scheduler=cluster.scheduler_address)
    assert [round(r["P"], 1) for r in res[:4]] == [0.0, 0.1, 0.2, 0.3]
    assert by_address[0]["delta_meV"] == pytest.approx(1.5, rel=0.01)


def test_analyze_a_folder_of_text_spectra(tmp_path, capsys):
    rng = np.random.default_rng(4)
    for k, p in enumerate((0.0, 0.3)):
        g = andreev.spin_conductance(BIAS_V * 1e3, 1.5, 0.4, 0.08, p, 2.0)
        g *= 1 + 0.003 * rng.standard_normal(g.shape)
        (tmp_path / f"c{k}.csv").write_text(
            "".join(f"{b * 1e3:.5f};{y:.6f}\n".replace(".", ",") for b, y in zip(BIAS_V, g)))
    assert main(["analyze", str(tmp_path), "--temperature", "2", "--model", "spin",
                 "--workers", "2"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert "2/2 spectra fitted" in captured.err
    assert [round(s["P"], 1) for s in out["texts"]] == [0.0, 0.3]
    with open(out["summary_csv"]) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and {"file", "temperature_K", "verdict", "P", "P_err",
                               "regime"} <= set(rows[0])
    with h5py.File(out["summary_h5"]) as f:
        assert f["summary/delta_meV"].shape == (2,)
    assert main(["analyze", str(tmp_path)]) == 2
    assert "give --temperature" in capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (["--workers", "0"], "--workers"),
    (["--temperature", "nan"], "finite"),
    (["--elastic-mfp-nm", "-5"], "mean free paths"),
    (["--model", "x"], "invalid choice"),
])
def test_analyze_option_errors(tmp_path, capsys, argv, message):
    (tmp_path / "s.csv").write_text("".join(f"{b},{1 + 0.1 * (abs(b) < 1)}\n"
                                            for b in np.linspace(-5, 5, 50)))
    assert main(["analyze", str(tmp_path), *argv]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.err.count("\n") == 1
    assert main(["analyze", str(tmp_path / "missing")]) == 2
    assert "no such run file or folder" in capsys.readouterr().err
