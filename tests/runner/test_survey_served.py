"""The contact survey over real transports: `pcsdaq run` of the example survey plan (made
short) against `pcsdaq sim serve` in another process, at a high time scale. The full
12-hour night is the same command with the plan as it is (README, section Contact survey)."""

import json
import os
import signal
import subprocess
import sys
import time

import h5py
import pytest
from survey_helpers import survey_plan, survey_rows

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


def _serve(tmp_path):
    """A fresh `pcsdaq sim serve` (its needle at the lateral origin) at 1000x; its station
    file is tmp_path/served-station.yaml."""
    ports, station = tmp_path / "ports.json", tmp_path / "served-station.yaml"
    for path in (ports, station):
        path.unlink(missing_ok=True)
    server = subprocess.Popen([*PCSDAQ, "sim", "serve", "--free-ports", "--json", str(ports),
                               "--station-out", str(station), "--time-scale", "1000"],
                              stdout=subprocess.DEVNULL)
    _wait_for(ports)
    _wait_for(station)
    return server, station


def _stop(server):
    server.send_signal(signal.SIGTERM)
    server.wait(10)


def _plan(tmp_path, station, **parameters):
    return survey_plan(tmp_path, station, **{**SHORT, **parameters})


_rows = survey_rows


def test_short_survey_against_a_served_lab_writes_the_summary_and_histogram(tmp_path):
    server, station = _serve(tmp_path)
    try:
        data = tmp_path / "data"
        proc = subprocess.run([*PCSDAQ, "run", str(_plan(tmp_path, station)), "--data",
                               str(data)], capture_output=True, text=True, timeout=240)
    finally:
        _stop(server)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = _rows(data)
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


def test_kill_minus_9_then_resume_on_a_restarted_served_lab(tmp_path):
    """kill -9 of the run mid-survey, the served lab restarted (its needle back at the
    origin: resume_needle_at origin), --resume: the needle is stepped back over TCP and the
    spots measured are the plan's, each once, and the ones the plan's places hold."""
    server, station = _serve(tmp_path)
    plan = _plan(tmp_path, station, n_spots=4, resume_needle_at="origin")
    data = tmp_path / "data"
    args = [*PCSDAQ, "run", str(plan), "--data", str(data)]
    try:
        child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        done, deadline = 0, time.monotonic() + 120
        while done < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
            for path in data.glob("pcsdaq-run-*.state.json"):
                try:
                    resume = json.loads(path.read_text())["steps"]["0"]["resume_state"]
                    done = resume.get("next_spot", 0)
                except (ValueError, KeyError):
                    pass
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        assert done >= 2, "the survey never got going"
    finally:
        _stop(server)
    before = [int(r["spot"]) for r in _rows(data)]
    assert before == list(range(len(before))) and len(before) < 4
    server, station = _serve(tmp_path)  # a fresh lab on new ports, the same station file
    try:
        proc = subprocess.run([*args, "--resume"], capture_output=True, text=True,
                              timeout=240)
    finally:
        _stop(server)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "moving it back to spot" in proc.stdout
    rows = _rows(data)
    assert [int(r["spot"]) for r in rows] == [0, 1, 2, 3]
    assert [(int(r["x_steps"]), int(r["y_steps"])) for r in rows] == [
        (0, 0), (100, 0), (200, 0), (300, 0)]
    # seed 7's spots at those places (an uninterrupted run measures the same); measured at
    # the origin instead, spots 2 and 3 would be the home cell's ballistic contact
    assert [r["regime"] for r in rows] == ["ballistic", "open", "intermediate", "intermediate"]
