"""The contact survey over real transports: `pcsdaq run` of the example survey plan (made
short) against `pcsdaq sim serve` in another process, at a high time scale. The full
12-hour night is the same command with the plan as it is (README, section Contact survey)."""

import csv
import signal
import subprocess
import sys
import time

import h5py
import pytest
import yaml

from pcsdaq.station import packaged_config

pytestmark = pytest.mark.slow
PCSDAQ = [sys.executable, "-m", "pcsdaq.cli"]
#: a short survey: three spots of the sample (seed 7: a ballistic contact, an insulating
#: patch, an intermediate contact), two series temperatures, lean spectra
SHORT = {"n_spots": 3, "series_fractions": "0.5, 0.8", "series_points": 40, "n_points": 81}


def _wait_for(path, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} not written")


def test_short_survey_against_a_served_lab_writes_the_summary_and_histogram(tmp_path):
    ports, station = tmp_path / "ports.json", tmp_path / "served-station.yaml"
    server = subprocess.Popen([*PCSDAQ, "sim", "serve", "--free-ports", "--json", str(ports),
                               "--station-out", str(station), "--time-scale", "1000"],
                              stdout=subprocess.DEVNULL)
    try:
        _wait_for(ports)
        _wait_for(station)
        plan = yaml.safe_load(packaged_config("plan-survey.example.yaml").read_text())
        plan["station"] = str(station)
        plan["steps"][0]["parameters"].update(SHORT)
        plan_path = tmp_path / "plan.yaml"
        plan_path.write_text(yaml.safe_dump(plan))
        data = tmp_path / "data"
        proc = subprocess.run([*PCSDAQ, "run", str(plan_path), "--data", str(data)],
                              capture_output=True, text=True, timeout=240)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (table,) = data.glob("survey-*.csv")
    with table.open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["spot"]) for r in rows] == [0, 1, 2]
    # the same spots, judged the same way, as on the in-process lab (tests/procedures/
    # test_survey.py): a contact that holds still is not taken for a drifting one
    assert [r["regime"] for r in rows] == ["ballistic", "open", "intermediate"]
    assert rows[0]["tc_definition"].startswith("spectroscopic")
    assert 10.0 < float(rows[0]["tc_K"]) < 22.0 and float(rows[0]["delta_meV"]) > 1.0
    assert rows[2]["tc_definition"].startswith("two-slope") and float(rows[2]["ic_A"]) > 0
    lab_times = [float(r["lab_time_s"]) for r in rows]
    assert lab_times == sorted(lab_times) and lab_times[-1] < 43200.0
    (h5,) = data.glob("survey-*.hdf5")
    with h5py.File(h5) as f:
        assert list(f["survey/spot"][:]) == [0, 1, 2]
    assert len(list(data.glob("survey-*_tc_histogram.png"))) == 1
