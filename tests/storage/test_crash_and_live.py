"""Durability after SIGKILL and reading a run while another process writes it (SWMR)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from pcsdaq.storage import (
    RunFileError,
    RunFollower,
    finalize_run,
    list_runs,
    read_run,
    recover_run,
)

CHILD = str(Path(__file__).with_name("writer_child.py"))


def _start(path: Path, mode: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, CHILD, str(path), mode], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
    )


def test_sigkill_loses_nothing_appended(tmp_path):
    path = tmp_path / "crash.h5"
    proc = _start(path, "stream")
    reported = 0
    try:
        for line in proc.stdout:
            reported = int(line)
            if reported >= 300:
                break
        os.kill(proc.pid, signal.SIGKILL)
        rest = proc.stdout.read()  # counts printed before the kill landed
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    for line in rest.split():
        reported = int(line)
    assert proc.returncode == -signal.SIGKILL
    assert reported >= 300

    run = read_run(path)
    # Every reported row is there; at most the one in flight when killed is extra.
    assert reported <= run.n_rows <= reported + 1
    x = run.columns["x"][:reported]
    np.testing.assert_array_equal(x, np.arange(reported, dtype=float))
    np.testing.assert_array_equal(run.columns["y"][:reported], 2.0 * x)
    # read_run repaired the file in place: marked interrupted, and plain HDF5 opens it
    assert run.attrs["status"] == "interrupted"
    assert run.status == "interrupted"
    assert "ended without closing the run" in run.attrs["abort_reason"]
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["entry/data/x"][:reported], x)
        assert f["entry/segment_001"].attrs["segment_name"] == "second"
    assert [s.name for s in run.segments] == ["first", "second"]
    assert run.segments[0].n_rows == 100
    assert run.segments[1].attrs["temperature_setpoint_K"] == 1.0
    assert run.units == {"x": "V", "y": "S", "z": "K"}

    fixed = recover_run(path)
    with h5py.File(fixed, "r") as f:  # a plain (non-SWMR) reader opens the copy
        np.testing.assert_array_equal(f["entry/data/x"][...], run.columns["x"])
        assert f["entry/segment_001"].attrs["segment_name"] == "second"
    copy = read_run(fixed)
    assert copy.status == "failed" and copy.attrs["abort_reason"].startswith("interrupted")
    assert copy.attrs["start_time"] == run.attrs["start_time"]
    assert [(s.name, s.n_rows) for s in copy.segments] == [
        (s.name, s.n_rows) for s in run.segments]
    with pytest.raises(RunFileError, match="only an interrupted run"):
        recover_run(fixed)


def test_reader_sees_rows_while_another_process_writes(tmp_path):
    path = tmp_path / "live.h5"
    proc = _start(path, "step")

    def ask(cmd: str) -> str:
        proc.stdin.write(cmd + "\n")
        proc.stdin.flush()
        return proc.stdout.readline().strip()

    follower = None
    try:
        assert ask("append") == "1"
        follower = RunFollower(path)
        assert follower.poll()["x"].tolist() == [0.0]
        assert follower.new_segments()[0][:2] == (0, "first")
        assert follower.poll()["x"].size == 0  # nothing new, nothing re-read
        assert ask("append") == "2" and ask("append") == "3"
        assert follower.poll()["y"].tolist() == [2.0, 4.0]  # only the new rows
        for k in range(4, 6):
            assert ask("append") == str(k)
            run = read_run(path)
            assert run.status == "running"  # the writer is alive
            assert run.n_rows == k
            np.testing.assert_array_equal(run.columns["x"], np.arange(k, dtype=float))
        assert ask("segment second") == "ok"
        assert ask("meta 42.5") == "ok"
        assert ask("append") == "6"
        assert [(r, n) for r, n, _ in follower.new_segments()] == [(5, "second")]
        assert follower.poll()["x"].tolist() == [3.0, 4.0, 5.0]
        run = read_run(path)
        assert [(s.name, s.n_rows) for s in run.segments] == [("first", 5), ("second", 1)]
        assert run.metadata == {"sample": "crash test", "contact_resistance_Ohm": 42.5}
        # The follower keeps the file open: the writer cannot reopen it to finalize, but
        # the status is recorded and read_run reports it.
        assert ask("close") == "closed finalized=False"
        proc.wait(timeout=10)
        run = read_run(path)
        assert run.status == "aborted" and run.attrs["abort_reason"] == "told to stop"
        assert [r.status for r in list_runs(tmp_path)] == ["aborted"]
        assert finalize_run(path) is False  # still busy
    finally:
        if follower is not None:
            follower.close()
        if proc.poll() is None:
            proc.kill()
    assert finalize_run(path) is True
    with h5py.File(path, "r") as f:
        assert f["entry"].attrs["status"] == "aborted"
        assert f["entry/segment_001"].attrs["segment_name"] == "second"
    run = read_run(path)
    assert run.status == "aborted" and run.attrs["abort_reason"] == "told to stop"
    assert run.n_rows == 6 and run.metadata["contact_resistance_Ohm"] == 42.5
