"""Run files every HDF5 tool opens: HDF5 1.10's h5dump, plain h5py after a crash, checksums
that refuse damaged blocks, truncated files refused at once, full and read-only disks."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from pcsdaq.storage import RunFileError, RunWriter, read_run
from pcsdaq.storage.reader import RunWriteError
from pcsdaq.storage.repair import repair_folder, repair_run

CHILD = str(Path(__file__).with_name("writer_child.py"))
PCSDAQ = [sys.executable, "-m", "pcsdaq.cli"]
H5DUMP = shutil.which("h5dump")


def finished_run(path: Path, n: int = 600) -> Path:
    with RunWriter(path, procedure="BiasSweep", columns={"x": "V", "y": "S"}) as w:
        w.begin_segment("up", index=0)
        for i in range(n // 2):
            w.append({"x": float(i), "y": 2.0 * i})
        w.begin_segment("down", index=1)
        for i in range(n // 2, n):
            w.append({"x": float(i), "y": 2.0 * i})
        w.set_metadata(contact_resistance_Ohm=12.5)
    return path


def killed_run(path: Path, rows: int = 300) -> int:
    """A writer process killed with -9 after ``rows`` rows; returns the rows it reported."""
    proc = subprocess.Popen([sys.executable, CHILD, str(path), "stream"],
                            stdout=subprocess.PIPE, text=True, bufsize=1)
    reported = 0
    try:
        for line in proc.stdout:
            reported = int(line)
            if reported >= rows:
                break
        os.kill(proc.pid, signal.SIGKILL)
        for line in proc.stdout.read().split():
            reported = int(line)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    return reported


def pcsdaq(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """A pcsdaq command; the timeout only guards the test suite against a hang."""
    return subprocess.run([*PCSDAQ, *args], capture_output=True, text=True, timeout=timeout)


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_a_killed_run_opens_in_plain_h5py_after_one_pcsdaq_command(tmp_path):
    path = tmp_path / "killed.h5"
    reported = killed_run(path)
    with pytest.raises(OSError, match="already open for write"):
        h5py.File(path, "r")  # what HDF5 leaves after kill -9 of an SWMR writer
    proc = pcsdaq("recover", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert f"{path}: interrupted" in proc.stdout
    with h5py.File(path, "r") as f:  # plain reader, no SWMR, no h5clear
        assert f["entry"].attrs["status"] == "interrupted"
        x = f["entry/data/rows"][:, 0]
        assert reported <= len(x) <= reported + 1
        np.testing.assert_array_equal(x[:reported], np.arange(reported, dtype=float))
        assert f["entry/segment_001"].attrs["segment_name"] == "second"
    again = pcsdaq("recover", str(path))  # nothing left to do
    assert again.returncode == 0 and "interrupted" not in again.stdout.split(":")[-1]


def test_export_and_analyze_read_an_interrupted_run(tmp_path):
    path = tmp_path / "killed.h5"
    reported = killed_run(path, rows=150)
    proc = pcsdaq("export", str(path), "--csv", "--out", str(tmp_path / "csv"))
    assert proc.returncode == 0, proc.stderr
    first, second = sorted((tmp_path / "csv").glob("*.csv"))
    assert "# status: interrupted" in first.read_text()
    rows = np.loadtxt(first, delimiter=",", skiprows=6)
    assert len(rows) == 100 and rows[99, 0] == 99.0
    assert len(np.loadtxt(second, delimiter=",", skiprows=6, ndmin=2)) >= reported - 100
    analyzed = pcsdaq("analyze", str(path), "--no-store", "--figures", str(tmp_path))
    assert "Traceback" not in analyzed.stderr and analyzed.returncode == 0, analyzed.stderr


@pytest.mark.skipif(H5DUMP is None, reason="h5dump not installed (apt-get install hdf5-tools)")
def test_h5dump_of_the_distribution_reads_finished_and_recovered_runs(tmp_path):
    done = finished_run(tmp_path / "finished.h5")
    crashed = tmp_path / "crashed.h5"
    killed_run(crashed, rows=120)
    assert repair_run(crashed) == "interrupted"
    for path in (done, crashed):
        whole = subprocess.run([H5DUMP, str(path)], capture_output=True, text=True, timeout=60)
        assert whole.returncode == 0 and "error" not in whole.stderr.lower(), whole.stderr
        # the virtual column views (what 1.10 could not decode from libver="latest")
        col = subprocess.run([H5DUMP, "-d", "/entry/segment_000/x", str(path)],
                             capture_output=True, text=True, timeout=60)
        assert col.returncode == 0, col.stderr
        assert "(0): 0, 1, 2, 3" in " ".join(col.stdout.split())
    ls = subprocess.run([shutil.which("h5ls") or "h5ls", "-r", str(done)], capture_output=True,
                        text=True, timeout=60)
    assert ls.returncode == 0 and "/entry/data/x" in ls.stdout


def test_a_corrupted_block_is_refused_not_exported(tmp_path):
    path = finished_run(tmp_path / "run.h5")
    with h5py.File(path, "r") as f:
        offset = f["entry/data/rows"].id.get_chunk_info(1).byte_offset
        assert f["entry/data/rows"].fletcher32  # the checksum filter is declared
    with open(path, "r+b") as fh:  # one bit of one float flipped on disk
        fh.seek(offset + 808)
        byte = fh.read(1)
        fh.seek(offset + 808)
        fh.write(bytes([byte[0] ^ 0x10]))
    with h5py.File(path, "r") as f, pytest.raises(OSError):
        f["entry/data/rows"][...]  # every HDF5 reader checks it, not only pcsdaq
    with pytest.raises(RunFileError, match="Fletcher32 checksum"):
        read_run(path)
    line = one_line_error(pcsdaq("export", str(path), "--csv", "--out", str(tmp_path / "o")))
    assert "Fletcher32 checksum" in line
    assert not list((tmp_path / "o").glob("*.csv")) if (tmp_path / "o").exists() else True
    assert "Fletcher32 checksum" in one_line_error(pcsdaq("analyze", str(path), "--no-store"))


def test_truncated_files_are_refused_at_once(tmp_path):
    done = finished_run(tmp_path / "finished.h5")
    crashed = tmp_path / "crashed.h5"
    killed_run(crashed, rows=600)
    for k, fraction in enumerate((0.97, 0.6, 0.2)):
        for source in (done, crashed):
            cut = tmp_path / f"cut{k}-{source.name}"
            data = source.read_bytes()
            cut.write_bytes(data[: int(len(data) * fraction)])
            command = ["export", str(cut), "--csv", "--out", str(tmp_path / "o")]
            if k == 1:  # analyze once for each kind; export every time
                command = ["analyze", str(cut), "--no-store"]
            line = one_line_error(pcsdaq(*command, timeout=60))  # was a hang of > 5 min
            assert "truncated" in line or "corrupted" in line, line
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


@contextlib.contextmanager
def small_disk(where: Path, size: str):
    """A tmpfs of ``size`` mounted at ``where`` (root only; skips the test otherwise)."""
    where.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          check=False, capture_output=True, text=True)
    if proc.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


FILL = """
import sys
from pcsdaq.storage import RunWriter
from pcsdaq.storage.reader import RunWriteError
w = RunWriter(sys.argv[1], procedure="p", columns={f"c{i}": "V" for i in range(12)})
w.begin_segment("s")
n = 0
try:
    while True:
        w.append({"c0": float(n)})
        n += 1
except RunWriteError as exc:
    print(n)
    print(exc)
w.close()
"""


def test_a_full_disk_ends_in_one_line_with_every_row_kept(tmp_path):
    with small_disk(tmp_path / "disk", "400k") as disk:
        path = disk / "run.h5"
        proc = subprocess.run([sys.executable, "-c", FILL, str(path)], capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr  # no segfault (was exit 139)
        written, message = proc.stdout.strip().splitlines()
        assert "disk full" in message and f"the {written} rows written before are kept" in message
        run = read_run(path)  # the disk is still full: read as it is, nothing repaired
        assert run.status == "interrupted" and run.n_rows == int(written)
        np.testing.assert_array_equal(run.columns["c0"], np.arange(int(written), dtype=float))
        assert repair_folder(disk) == []
        disk.joinpath("make-room").write_bytes(b"")  # space back (the run file stays)
        subprocess.run(["mount", "-o", "remount,size=2m", str(disk)], check=True)
        assert repair_folder(disk) == [(path, "interrupted")]
        with h5py.File(path, "r") as f:
            assert f["entry/data/rows"].shape[0] == int(written)


def test_a_read_only_folder_is_refused_in_one_line_and_its_runs_still_read(tmp_path):
    with small_disk(tmp_path / "disk", "4m") as disk:
        crashed = disk / "crashed.h5"
        reported = killed_run(crashed, rows=50)
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        with pytest.raises(RunWriteError, match="read-only"):
            RunWriter(disk / "new.h5", procedure="p", columns={"x": "V"})
        run = read_run(crashed)  # cannot be repaired here, read all the same
        assert run.status == "interrupted" and run.n_rows >= reported
        plan = tmp_path / "plan.yaml"
        plan.write_text(f"station: {_sim_station()}\nsteps:\n  - procedure: bias_sweep\n")
        line = one_line_error(pcsdaq("run", str(plan), "--sim", "inprocess",
                                     "--time-scale", "0", "--data", str(disk / "data")))
        assert "read-only" in line.lower()


def _sim_station() -> Path:
    from pcsdaq.station import packaged_config

    return packaged_config("station-sim.yaml")


def test_a_reused_pid_is_not_taken_for_the_writer():
    import socket

    from pcsdaq.storage import layout as L
    from pcsdaq.storage.repair import writer_alive

    parent = os.getppid()  # alive, but not the process that wrote the file
    host = socket.gethostname()
    assert writer_alive({"writer_pid": parent, "writer_host": host,
                         "writer_process": L.process_identity(parent)})
    assert not writer_alive({"writer_pid": parent, "writer_host": host,
                             "writer_process": "another-boot:12345"})
    assert writer_alive({"writer_pid": parent, "writer_host": "another-host"})


TORN = """
import os, sys
import numpy as np
from pcsdaq.storage import RunWriter
from pcsdaq.storage.checksum import fletcher32
w = RunWriter(sys.argv[1], procedure="p", columns={"x": "V", "y": "V"})
for i in range(10):
    w.append({"x": float(i), "y": -float(i)})
# what a SIGKILL between two pages of the next append's pwrite leaves: the new row's bytes
# on disk, the old checksum after them, the extent not yet flushed
stale = w._checksum.buffer[-4:].tobytes()
w._chunk[10] = [10.0, -10.0]
w._rows_id.write_direct_chunk((0, 0), w._chunk.tobytes() + stale)
os.kill(os.getpid(), 9)
"""


def test_an_append_cut_mid_write_by_kill_loses_only_that_point(tmp_path):
    path = tmp_path / "torn.h5"
    proc = subprocess.run([sys.executable, "-c", TORN, str(path)], timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert repair_run(path) == "interrupted"
    with h5py.File(path, "r") as f:  # the chunk's checksum holds again: every reader reads it
        rows = f["entry/data/rows"][...]
        assert "cut mid-write" in f["entry"].attrs["abort_reason"]
    np.testing.assert_array_equal(rows[:, 0], np.arange(10.0))
