"""Durability after SIGKILL and reading a run while another process writes it (SWMR)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from pcsdaq.storage import read_run

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
    assert run.attrs["status"] == "running"
    assert run.status == "interrupted"
    assert [s.name for s in run.segments] == ["first", "second"]
    assert run.segments[0].n_rows == 100
    assert run.segments[1].attrs["temperature_setpoint_K"] == 1.0
    assert run.units == {"x": "V", "y": "S", "z": "K"}


def test_reader_sees_rows_while_another_process_writes(tmp_path):
    path = tmp_path / "live.h5"
    proc = _start(path, "step")

    def ask(cmd: str) -> str:
        proc.stdin.write(cmd + "\n")
        proc.stdin.flush()
        return proc.stdout.readline().strip()

    try:
        for k in range(1, 6):
            assert ask("append") == str(k)
            run = read_run(path)
            assert run.status == "running"  # the writer is alive
            assert run.n_rows == k
            np.testing.assert_array_equal(run.columns["x"], np.arange(k, dtype=float))
        assert ask("segment second") == "ok"
        assert ask("meta 42.5") == "ok"
        assert ask("append") == "6"
        run = read_run(path)
        assert [(s.name, s.n_rows) for s in run.segments] == [("first", 5), ("second", 1)]
        assert run.metadata == {"sample": "crash test", "contact_resistance_Ohm": 42.5}
        assert ask("close") == "closed"
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    run = read_run(path)
    assert run.status == "aborted" and run.attrs["abort_reason"] == "told to stop"
    assert run.n_rows == 6 and run.metadata["contact_resistance_Ohm"] == 42.5
