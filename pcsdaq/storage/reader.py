"""read_run / list_runs: a pcsdaq HDF5 run as numpy arrays, also while it is being written.

A finished file is opened as a plain HDF5 reader (which checks the file's length, so a
truncated file is refused at once). A file another process is writing is opened as an SWMR
reader: every row flushed before the read is there. A file whose writer died (kill -9,
power cut, full disk) is first repaired in place (:mod:`pcsdaq.storage.repair`: write flags
cleared, status "interrupted"), so that afterwards every HDF5 tool opens it; in a folder
pcsdaq cannot write it is read as it is and reported "interrupted" all the same. A chunk
whose Fletcher32 checksum fails, or a file cut short, raises :class:`RunFileError` naming
the file, never numbers read from a damaged block.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from pcsdaq.errors import PcsdaqError
from pcsdaq.storage import layout as L
from pcsdaq.storage.repair import is_write_flag_error, open_swmr_reader, repair_run
from pcsdaq.storage.repair import writer_alive as _writer_alive
from pcsdaq.storage.tables import read_tables

#: how long a reader waits while another process holds a run file locked (repairing it,
#: or a writer finalizing it), s
LOCK_WAIT_S = 3.0


class RunFileError(PcsdaqError):
    """A path is missing, not HDF5, not a pcsdaq run file, truncated or corrupted."""


class RunWriteError(RunFileError):
    """The file system refused a write to a run file (disk full, read-only folder, I/O
    error); what was flushed before stays readable."""


@dataclass
class Segment:
    """One segment of a run (one spectrum, one field of an R-T log): a row range.

    ``columns`` maps column name -> 1D array of this segment's rows (in ``units``);
    ``attrs`` holds the attributes given to ``begin_segment`` plus its ``start_time``.
    """

    name: str
    attrs: dict[str, Any]
    columns: dict[str, np.ndarray]
    units: dict[str, str]
    first_row: int = 0

    @property
    def n_rows(self) -> int:
        """Number of rows in this segment."""
        return len(next(iter(self.columns.values()))) if self.columns else 0


@dataclass
class RunData:
    """A whole run read from its file.

    ``attrs``: run attributes with JSON fields (parameters, metadata, snapshot) decoded;
    ``status``: running, finished, aborted, failed, or interrupted (file says running but
    its writer is gone); ``columns``: name -> 1D array over the whole run; ``units``: name ->
    unit; ``segments``: list of :class:`Segment` (rows before the first ``begin_segment``, if
    any, form a segment named "main").
    """

    path: Path
    attrs: dict[str, Any]
    status: str
    columns: dict[str, np.ndarray]
    units: dict[str, str]
    segments: list[Segment] = field(default_factory=list)
    #: side tables (``/entry/analysis/<name>``, e.g. "live"): name -> column -> 1D array
    tables: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        """Number of rows in the run."""
        return len(next(iter(self.columns.values()))) if self.columns else 0

    @property
    def metadata(self) -> dict[str, Any]:
        """The run metadata (sample, needle, contact resistance ...), updates merged."""
        return self.attrs.get("metadata", {})

    @property
    def parameters(self) -> dict[str, Any]:
        """The procedure parameters."""
        return self.attrs.get("parameters", {})


def _one_line(exc: BaseException) -> str:
    """HDF5's message in one line, in the lab's words where it is cryptic."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if "filter returned failure" in text or "fletcher32" in text:
        return "a data block fails its Fletcher32 checksum"
    m = re.search(r"truncated file: eof = (\d+).*stored_eof = (\d+)", text)
    if m:
        return f"the file is {m[1]} bytes, its HDF5 superblock says {m[2]}"
    return text


def _open(path: Path) -> h5py.File:
    """Open a run file for reading: plain when it is closed, SWMR while its writer lives;
    a file whose writer is gone is repaired first (see the module docstring)."""
    if not path.exists():
        raise RunFileError(f"{path}: no such file")
    if not path.is_file():
        raise RunFileError(f"{path}: not a file")
    try:
        repair_run(path)
    except (OSError, KeyError, ValueError):
        pass  # e.g. a read-only folder: read it as it is below
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            return h5py.File(path, "r")
        except OSError as exc:
            if "unable to lock file" in str(exc) and time.monotonic() < deadline:
                time.sleep(0.05)  # another process is repairing or finalizing it
                continue
            if not is_write_flag_error(exc):
                kind = "truncated" if "truncated" in str(exc) else \
                    "not a readable HDF5 file, or corrupted"
                raise RunFileError(f"{path}: {kind} ({_one_line(exc)})") from None
            break
    try:
        return open_swmr_reader(path)
    except OSError as exc:
        raise RunFileError(f"{path}: truncated or corrupted run file ({_one_line(exc)})"
                           ) from None


def _read_attrs(f: h5py.File, path: Path) -> dict[str, Any]:
    if L.ENTRY not in f or "format_version" not in f[L.ENTRY].attrs or L.ROWS not in f:
        raise RunFileError(f"{path}: HDF5 file is not a pcsdaq run (no /entry/data/rows)")
    attrs = {k: L.decode_attr(v) for k, v in f[L.ENTRY].attrs.items()}
    for key in L.JSON_ATTRS:
        if isinstance(attrs.get(key), str):
            try:
                attrs[key] = json.loads(attrs[key])
            except json.JSONDecodeError:
                pass
    return attrs


def _refreshed(ds: h5py.Dataset) -> h5py.Dataset:
    if ds.file.swmr_mode:
        ds.refresh()
    return ds


def _str_list(ds: h5py.Dataset) -> list[str]:
    return [str(s) for s in _refreshed(ds).asstr()[...]]


def read_run(path: str | os.PathLike) -> RunData:
    """Read a pcsdaq run file (finished, live, or left by a crashed writer).

    Raises :class:`RunFileError` for a missing, non-HDF5, non-pcsdaq, truncated or
    corrupted file (a chunk failing its checksum), within a second, never partial numbers.
    """
    path = Path(path)
    with _open(path) as f:
        try:
            return _read_open_run(f, path)
        except OSError as exc:
            raise RunFileError(f"{path}: corrupted or truncated run file ({_one_line(exc)}); "
                               "refused, nothing read from it") from None


def _read_open_run(f: h5py.File, path: Path) -> RunData:
    attrs = _read_attrs(f, path)
    rows_ds = _refreshed(f[L.ROWS])
    rows = rows_ds[...]
    names = [L.decode_attr(c) for c in rows_ds.attrs["columns"]]
    unit_list = [L.decode_attr(u) for u in rows_ds.attrs["units"]]
    starts = [int(s) for s in _refreshed(f[L.SEG_START])[...]]
    seg_names = _str_list(f[L.SEG_NAME])
    seg_attrs = _str_list(f[L.SEG_ATTRS])
    updates = _str_list(f[L.METADATA_UPDATES]) if L.METADATA_UPDATES in f else []
    status_log = _str_list(f[L.STATUS_LOG]) if L.STATUS_LOG in f else []
    n_rows = rows.shape[0]
    # A reader can see a table entry a moment before its rows: keep all three consistent.
    k = min(len(starts), len(seg_names), len(seg_attrs))
    starts, seg_names, seg_attrs = starts[:k], seg_names[:k], seg_attrs[:k]
    if attrs.get("status") == "running":  # not finalized: merge what the logs hold
        metadata = dict(attrs.get("metadata") or {})
        for text in updates:
            metadata.update(json.loads(text))
        attrs["metadata"] = metadata
        if status_log:  # closed, but another reader kept the file busy at finalization
            record = json.loads(status_log[-1])
            attrs.update(status=record["status"], abort_reason=record["reason"],
                         end_time=record["end_time"])
    units = dict(zip(names, unit_list, strict=True))
    columns = {name: rows[:, i].copy() for i, name in enumerate(names)}
    if n_rows and (not starts or starts[0] > 0):
        starts, seg_names, seg_attrs = [0, *starts], ["main", *seg_names], ["{}", *seg_attrs]
    segments = []
    for j, start in enumerate(starts):
        start = min(start, n_rows)
        stop = min(starts[j + 1], n_rows) if j + 1 < len(starts) else n_rows
        segments.append(
            Segment(
                name=seg_names[j],
                attrs=json.loads(seg_attrs[j]),
                columns={c: v[start:stop] for c, v in columns.items()},
                units=units,
                first_row=start,
            )
        )
    status = str(attrs.get("status", "running"))
    if status == "running" and not _writer_alive(attrs):
        status = "interrupted"
    return RunData(path=path, attrs=attrs, status=status, columns=columns, units=units,
                   segments=segments, tables=read_tables(f))


@dataclass
class RunSummary:
    """One line of :func:`list_runs`: path, procedure, status, start time (ISO), row count."""

    path: Path
    procedure: str
    status: str
    start_time: str
    n_rows: int


def list_runs(folder: str | os.PathLike) -> list[RunSummary]:
    """The pcsdaq runs (``*.h5``, recursively) in ``folder``, oldest first.

    Files that are not pcsdaq runs are skipped.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise RunFileError(f"{folder}: not a folder")
    out = []
    for p in sorted(folder.rglob("*.h5")):
        try:
            with _open(p) as f:
                attrs = _read_attrs(f, p)
                n = _refreshed(f[L.ROWS]).shape[0]
                log = _str_list(f[L.STATUS_LOG]) if L.STATUS_LOG in f else []
        except (RunFileError, OSError, KeyError):
            continue
        status = str(attrs.get("status", "running"))
        if status == "running" and log:
            status = json.loads(log[-1])["status"]
        if status == "running" and not _writer_alive(attrs):
            status = "interrupted"
        out.append(RunSummary(p, str(attrs.get("procedure", "")), status,
                              str(attrs.get("start_time", "")), int(n)))
    out.sort(key=lambda r: (r.start_time, str(r.path)))
    return out
