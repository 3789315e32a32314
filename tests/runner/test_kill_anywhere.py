"""kill -9 of `pcsdaq run` against `pcsdaq sim serve` at 20 random moments: after one
pcsdaq command every file opens in plain h5py, and no point a reader saw flushed is lost."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest
import yaml

from pcsdaq.station import packaged_config
from pcsdaq.storage.repair import open_swmr_reader

pytestmark = pytest.mark.slow
PCSDAQ = [sys.executable, "-m", "pcsdaq.cli"]
KILLS = 20
TIME_SCALE = 1000


def _serve(tmp_path):
    ports = tmp_path / "ports.json"
    server = subprocess.Popen([*PCSDAQ, "sim", "serve", "--free-ports", "--json", str(ports),
                               "--time-scale", str(TIME_SCALE)], stdout=subprocess.DEVNULL)
    for _ in range(200):
        if ports.exists() and ports.stat().st_size:
            break
        time.sleep(0.05)
    resources = json.loads(ports.read_text())
    data = yaml.safe_load(packaged_config("station-sim.yaml").read_text())
    names = {"lockin": "sr830", "dmm": "keithley2000", "thermometer": "ls372",
             "magnet": "ami430", "positioner": "anc300"}
    for role, name in names.items():
        data["roles"][role]["resource"] = resources[name]
    data["clock"]["time_scale"] = TIME_SCALE
    station = tmp_path / "station-tcp.yaml"
    station.write_text(yaml.safe_dump(data))
    return server, station


def _wait_until_it_holds_the_folder(child, data):
    """Wait for the run to take its data folder (start-up and imports on a loaded machine
    take seconds); the random moment counts from there."""
    lock = data / "pcsdaq-run.lock"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None:
        try:
            if json.loads(lock.read_text() or "{}").get("pid") == child.pid:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.02)


def _snapshot(path):
    """The rows an SWMR reader sees flushed in ``path`` now (None if not readable yet)."""
    try:
        with open_swmr_reader(path) as f:
            ds = f["entry/data/rows"]
            ds.refresh()
            return ds[...]
    except (OSError, KeyError):
        return None


def test_kill_minus_9_at_random_moments_loses_no_flushed_point(tmp_path):
    server, station = _serve(tmp_path)
    plan = tmp_path / "plan.yaml"
    sweep = {"max_current_A": 5e-4, "sensitivity_V": 1e-5, "time_constant_s": 0.001,
             "dense_fraction": 0.0}
    plan.write_text(yaml.safe_dump({"station": str(station), "steps": [
        # ~6 s of sweeping after start-up on a quiet machine: longer than the longest
        # random moment (1.5 s), so most runs are killed, and steps still finish between
        {"procedure": "bias_sweep", "parameters": dict(sweep, n_points=600)},
        {"procedure": "temperature_series", "parameters": dict(
            sweep, n_points=200, setpoints_K=[2.0, 2.5, 2.0], window_s=5.0, heater_range=4)},
        {"procedure": "bias_sweep", "parameters": dict(sweep, n_points=600)}]}))
    # a plan that finished between kills (the kills took long enough to get it done: a
    # fast machine) starts over in a fresh folder, so every one of the KILLS runs has a
    # plan to be killed in
    folders = [tmp_path / "data0"]
    rng = random.Random(14)
    seen: dict = {}  # file -> rows a reader saw flushed just before a kill
    killed_with_file = 0
    ended = []  # return codes: -9 when killed, 0 when the plan finished first
    try:
        for _ in range(KILLS):
            data = folders[-1]
            args = [*PCSDAQ, "run", str(plan), "--data", str(data), "--resume"]
            log = (tmp_path / "out.txt").open("a")
            child = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
            _wait_until_it_holds_the_folder(child, data)
            # a random moment: repair, connection, a sweep, a close, between steps
            deadline = time.monotonic() + rng.uniform(0.0, 1.5)
            while time.monotonic() < deadline and child.poll() is None:
                time.sleep(0.02)
            files = sorted(data.glob("*.h5"))
            if files and child.poll() is None:
                rows = _snapshot(files[-1])
                if rows is not None:
                    seen[files[-1]] = rows
            if child.poll() is None:
                os.kill(child.pid, signal.SIGKILL)
            child.wait(10)
            log.close()
            ended.append(child.returncode)
            killed_with_file += bool(files)
            if child.returncode == 0:
                folders.append(tmp_path / f"data{len(folders)}")
        # one pcsdaq command touches each folder ...
        for data in folders:
            if data.exists():
                proc = subprocess.run([*PCSDAQ, "recover", str(data)], capture_output=True,
                                      text=True, timeout=60)
                assert proc.returncode == 0, proc.stdout + proc.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)
    # ... and every file opens in a plain reader, holding every row a reader saw flushed
    files = sorted(f for data in folders for f in data.glob("*.h5"))
    out = (tmp_path / "out.txt").read_text()
    print(f"kill -9: {ended.count(-signal.SIGKILL)} of {KILLS} runs killed, "
          f"{len(folders) - 1} plans finished between kills, {len(seen)} files snapshotted")
    assert set(ended) <= {0, -signal.SIGKILL}, out
    # most runs killed; the others finished a plan that earlier runs had taken far
    assert ended.count(-signal.SIGKILL) >= KILLS * 2 // 3, (ended, out)
    assert killed_with_file >= KILLS // 2 and len(seen) >= 3, (killed_with_file, len(seen))
    statuses = []
    for path in files:
        with h5py.File(path, "r") as f:
            statuses.append(str(f["entry"].attrs["status"]))
            rows = f["entry/data/rows"][...]
        if path in seen:
            before = seen[path]
            assert len(rows) >= len(before), path
            np.testing.assert_array_equal(rows[: len(before)], before)
    assert "interrupted" in statuses
    # no half-made file of a run killed at creation
    assert not [p for data in folders for p in data.glob(".*.part")]
    assert set(statuses) <= {"interrupted", "finished", "aborted", "failed"}, statuses
