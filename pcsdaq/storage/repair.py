"""Make a run file whose writer died readable by every HDF5 tool, in place.

A run is written in HDF5's SWMR mode, which sets "open for write" flags in the superblock
and does not keep the superblock's end-of-file address current. After ``kill -9``, a power
cut or a full disk the flags stay set, and plain readers (``h5py.File(path, "r")``, h5dump,
MATLAB) refuse the file until it is cleared (``h5clear -s``). :func:`repair_run` does what
``h5clear -s --increment=0`` does, through the HDF5 library h5py loaded (``H5Pset`` of the
file-access property ``clear_status_flags``, then ``H5Fincrement_filesize(file, 0)`` to set
the end-of-file address to the file's size), and then marks the run ``interrupted`` in the
file: a status record in ``/entry/status_log`` and the final attributes and segment groups
(:func:`~pcsdaq.storage.finalize.finalize_run`). Every flushed row stays.

Only a file whose writer process is gone is touched (the writer's pid and host are in the
file; a file written on another host is left alone). :func:`repair_folder` does it for
every ``*.h5`` of a data folder; the reader calls :func:`repair_run` before opening a file
(``pcsdaq export``, ``analyze``, ``run``, the GUI's data browser), and ``pcsdaq recover DIR``
does it explicitly.
"""

from __future__ import annotations

import ctypes
import fcntl
import glob
import json
import os
import socket
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from pcsdaq.storage import layout as L

#: how many times an SWMR reader re-reads a piece of metadata whose checksum fails (HDF5's
#: default 100 with back-off waits of up to 1 s each is what made a truncated file hang
#: ``export`` and ``analyze`` for minutes); a live writer's partial flush passes in a few
SWMR_READ_ATTEMPTS = 8

_lib: Any = None


def _hdf5_library() -> Any:
    """The HDF5 C library h5py uses (the one already loaded into this process)."""
    global _lib
    if _lib is not None:
        return _lib
    candidates: list[str] = []
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                name = line.rsplit(None, 1)[-1]
                base = os.path.basename(name)
                if base.startswith("libhdf5") and "_hl" not in base and ".so" in base:
                    candidates.append(name)
    except OSError:
        pass
    here = os.path.dirname(h5py.__file__)
    candidates += sorted(glob.glob(os.path.join(here, "..", "h5py.libs", "libhdf5-*.so*")))
    candidates += sorted(glob.glob(os.path.join(here, ".dylibs", "libhdf5*.dylib")))
    for name in candidates:
        try:
            lib = ctypes.CDLL(name)
            lib.H5Pset.argtypes = [ctypes.c_int64, ctypes.c_char_p, ctypes.c_void_p]
            lib.H5Fincrement_filesize.argtypes = [ctypes.c_int64, ctypes.c_uint64]
            lib.H5Pset_metadata_read_attempts.argtypes = [ctypes.c_int64, ctypes.c_uint]
        except (OSError, AttributeError):
            continue
        _lib = lib
        return lib
    raise OSError("cannot find the HDF5 library h5py uses (needed to clear the write flags)")


def is_write_flag_error(exc: BaseException) -> bool:
    """True if HDF5 refused to open a file because its "open for write" flags are set."""
    return "already open for write" in str(exc)


def open_swmr_reader(path: str | os.PathLike) -> h5py.File:
    """Open ``path`` as an SWMR reader that gives up on a broken file within a second
    (``SWMR_READ_ATTEMPTS`` metadata reads instead of HDF5's 100 with back-off)."""
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    try:
        _hdf5_library().H5Pset_metadata_read_attempts(fapl.id, SWMR_READ_ATTEMPTS)
    except OSError:
        pass
    fid = h5py.h5f.open(os.fsencode(path), h5py.h5f.ACC_RDONLY | h5py.h5f.ACC_SWMR_READ,
                        fapl=fapl)
    return h5py.File(fid)


def writer_alive(attrs: dict[str, Any]) -> bool:
    """True if the writer process recorded in the run attributes still runs (or may: it
    ran on another host, or the process cannot be checked)."""
    pid, host = attrs.get("writer_pid"), attrs.get("writer_host")
    if isinstance(host, bytes):
        host = host.decode("utf-8", "replace")
    if not pid or host != socket.gethostname():
        return True  # cannot tell from another host: trust the file
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    recorded = attrs.get("writer_process")
    if recorded:  # the pid lives: is it still the writer, or a reused pid / a reboot?
        now = L.process_identity(int(pid))
        if now and now != recorded:
            return False
    return True


def clear_write_flags(path: str | os.PathLike) -> None:
    """``h5clear -s --increment=0`` on ``path``: clear the superblock's open-for-write flags
    and set its end-of-file address to the file's size. Call only when no process writes it.
    Raises OSError (read-only folder, not HDF5, library not found)."""
    lib = _hdf5_library()
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_libver_bounds(h5py.h5f.LIBVER_V110, h5py.h5f.LIBVER_V110)
    clear = ctypes.c_bool(True)
    if lib.H5Pset(fapl.id, b"clear_status_flags", ctypes.byref(clear)) < 0:
        raise OSError("this HDF5 library cannot clear the write flags")
    fid = h5py.h5f.open(os.fsencode(path), h5py.h5f.ACC_RDWR, fapl=fapl)
    try:
        if lib.H5Fincrement_filesize(fid.id, 0) < 0:
            raise OSError(f"{path}: cannot set the end-of-file address")
    finally:
        fid.close()


#: free space (bytes) a repair needs before it writes: HDF5 marks a file it opens for
#: writing and clears the mark when it closes; on a full disk that close fails and leaves
#: the file unreadable, so on a disk this full the repair waits for space
MIN_FREE_TO_CLEAR = 64 * 1024
MIN_FREE_TO_MARK = 128 * 1024
#: bytes a segment's column view adds at finalization (~0.6 kB measured), with margin
BYTES_PER_VIEW = 2048


def _free_bytes(path: Path) -> int:
    st = os.statvfs(path.parent)
    return st.f_bavail * st.f_frsize


def _need_space(path: Path, need: int) -> None:
    free = _free_bytes(path)
    if free < need:
        raise OSError(28, f"{path}: only {free} bytes free on its disk; the repair needs "
                          f"{need} (disk full)")


def _nobody_has_it_open(path: Path) -> bool:
    """True if no process holds HDF5's file lock (flock) on ``path``: every HDF5 reader and
    non-SWMR writer holds it while the file is open (an SWMR writer releases it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _entry_attrs(f: h5py.File) -> dict[str, Any]:
    return {k: L.decode_attr(v) for k, v in f[L.ENTRY].attrs.items()}


def _heal_torn_chunk(f: h5py.File) -> bool:
    """Mend the rows chunk a killed append left half-written; True if it did.

    ``RunWriter.append`` rewrites the current chunk whole, data then checksum, in one
    ``pwrite``; a SIGKILL can stop that write at a page boundary (Linux checks for fatal
    signals between pages), leaving the new row on disk but the old checksum after it. The
    in-flight row is the one at the file's row count (its extent was not flushed) or, if the
    extent got out first, the last one. If the chunk, with that row and every later one set
    back to NaN, matches the checksum on disk, every earlier row of the chunk is proven
    intact: the chunk is rewritten that way with its checksum. Otherwise it is left alone
    (really corrupted: readers refuse it)."""
    from pcsdaq.storage.checksum import fletcher32

    ds = f[L.ROWS]
    if not ds.fletcher32 or ds.chunks is None:
        return False
    n, ncol = ds.shape
    size = ds.chunks[0]
    for first_lost in (n, n - 1):
        if first_lost < 0:
            continue
        start = (first_lost // size) * size
        if start >= n:
            continue  # a chunk past the extent: no reader sees it
        try:
            _mask, raw = ds.id.read_direct_chunk((start, 0))
        except (OSError, ValueError, KeyError):
            continue
        if len(raw) != size * ncol * 8 + 4:
            continue
        data, stored = raw[:-4], raw[-4:]
        if fletcher32(data).to_bytes(4, "little") == stored:
            continue  # this chunk is whole
        chunk = np.frombuffer(data, dtype="<f8").reshape(size, ncol).copy()
        chunk[first_lost - start:] = np.nan
        fixed = chunk.tobytes()
        checksum = fletcher32(fixed).to_bytes(4, "little")
        if checksum == stored:
            ds.id.write_direct_chunk((start, 0), fixed + checksum)
            if first_lost < n:
                ds.resize((first_lost, ncol))
            return True
    return False


def repair_run(path: str | os.PathLike) -> str | None:
    """Repair ``path`` in place if its writer is gone; returns what was done or None.

    "cleared": the open-for-write flags were cleared (kill -9, power cut, full disk);
    "interrupted": also the run was marked status "interrupted" (reason names the writer);
    "finalized": a run closed by its writer whose final attributes were never written (a
    reader kept it busy) got them. None: nothing to do (finished file, live writer, not a
    pcsdaq run). Raises OSError when the file needs repair but cannot be written (a
    read-only folder): it is still readable by pcsdaq's SWMR reader.
    """
    path = Path(path)
    cleared = False
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        if not is_write_flag_error(exc):
            return None  # not HDF5, truncated ...: the reader reports it
        try:
            with open_swmr_reader(path) as g:
                if L.ENTRY not in g or writer_alive(_entry_attrs(g)):
                    return None
        except (OSError, KeyError):
            # flags of a non-SWMR writer (a repair or `analyze` killed while writing): such
            # a writer holds HDF5's file lock while it lives, so a free lock means it is gone
            if not _nobody_has_it_open(path):
                return None
        _need_space(path, MIN_FREE_TO_CLEAR)
        clear_write_flags(path)
        cleared = True
        f = h5py.File(path, "r")
    with f:
        if L.ENTRY not in f or "format_version" not in f[L.ENTRY].attrs:
            return "cleared" if cleared else None
        attrs = _entry_attrs(f)
        has_log = L.STATUS_LOG in f and f[L.STATUS_LOG].shape[0] > 0
        n_views = (f[L.SEG_START].shape[0] + 1) * f[L.ROWS].shape[1]
    if attrs.get("status") != "running":
        return "cleared" if cleared else None
    if not has_log and writer_alive(attrs):
        return "cleared" if cleared else None  # a live writer whose flags were lost
    from pcsdaq.storage.finalize import _apply

    _need_space(path, MIN_FREE_TO_MARK + BYTES_PER_VIEW * n_views)
    with h5py.File(path, "r+", libver=L.LIBVER) as f:
        done = "finalized"
        if not has_log and _heal_torn_chunk(f):
            log_note = "; the point in flight was cut mid-write and dropped"
        else:
            log_note = ""
        if not has_log:
            log = f[L.STATUS_LOG]
            i = log.shape[0]
            log.resize((i + 1,))
            log[i] = json.dumps({
                "status": "interrupted",
                "reason": f"the writer (pid {attrs.get('writer_pid')} on "
                          f"{attrs.get('writer_host')}) ended without closing the run; "
                          f"every row it flushed is kept{log_note}",
                "end_time": L.utc_now_iso(),
            })
            done = "interrupted"
        _apply(f, path)
    return done


def remove_dead_parts(folder: str | os.PathLike) -> list[tuple[Path, str]]:
    """Remove the ``.<name>.<pid>.part`` files of dead writers under ``folder`` (a run
    killed while its file was being created, before any point); returns what it removed."""
    out = []
    for part in sorted(Path(folder).rglob(f".*.h5.*{L.PART_SUFFIX}")):
        pid = part.name[: -len(L.PART_SUFFIX)].rsplit(".", 1)[-1]
        if pid.isdigit() and not writer_alive({"writer_pid": int(pid),
                                               "writer_host": socket.gethostname()}):
            try:
                part.unlink()
            except OSError:
                continue
            out.append((part, "removed (killed while being created, held no point)"))
    return out


def repair_folder(folder: str | os.PathLike) -> list[tuple[Path, str]]:
    """:func:`repair_run` on every ``*.h5`` under ``folder`` (recursively); returns
    ``[(path, what was done)]`` for the files it changed. Files it cannot write are
    skipped (they stay readable by pcsdaq). A dead writer's ``.<name>.<pid>.part`` file (a
    run killed while its file was being created, before any point) is removed."""
    out = remove_dead_parts(folder)
    for p in sorted(Path(folder).rglob("*.h5")):
        try:
            done = repair_run(p)
        except (OSError, KeyError, ValueError):
            continue
        if done:
            out.append((p, done))
    return out
