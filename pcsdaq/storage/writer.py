"""RunWriter: stream one measurement run into one HDF5 file, durable point by point.

Rows go into one 2D float64 dataset (``/entry/data/rows``): per point the extent grows by one
row, the current chunk (256 rows) is written whole with ``H5Dwrite_chunk`` and the dataset
is flushed. The dataset carries HDF5's Fletcher32 filter, whose checksum the writer computes
itself (:mod:`pcsdaq.storage.checksum`), so every reader detects a corrupted chunk. Files
are written in the HDF5 1.10 format (``libver=("v110", "v110")``, SWMR's minimum), which
HDF5 1.10 tools (h5dump, MATLAB, Igor, Origin, HDFView) read; ``libver="latest"`` of the
HDF5 2.0 that h5py bundles encodes the virtual column views in a form 1.10 cannot decode.
Measured on the 2-core lab machine for 12 columns (``benchmarks/bench_sweep.py``, section
1): ~0.008 ms a point, against ~0.014 ms for a one-row hyperslab write, ~0.046 ms with
h5py's high-level resize()/write_direct() and ~0.5 ms for twelve 1D datasets each extended
and flushed. Per-column 1D virtual datasets beside it give NeXus viewers plottable
columns without costing anything per point. The layout is in :mod:`pcsdaq.storage.layout`.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import h5py
import numpy as np

from pcsdaq.errors import AbortRequested
from pcsdaq.storage import layout as L
from pcsdaq.storage.checksum import ChunkChecksum
from pcsdaq.storage.finalize import finalize_run
from pcsdaq.storage.reader import RunFileError, RunWriteError
from pcsdaq.storage.tables import SideTable

_ROW_CHUNK = 256  # rows per HDF5 chunk: ~24 kB for 12 columns


def _check_columns(columns: Mapping[str, str]) -> dict[str, str]:
    if not columns:
        raise ValueError("a run needs at least one column (name -> unit)")
    out: dict[str, str] = {}
    for name, unit in columns.items():
        if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
            raise ValueError(f"column name {name!r} is not allowed (non-empty, no '/')")
        if name in L.RESERVED_COLUMNS:
            raise ValueError(f"column name {name!r} is reserved by the file layout")
        if not isinstance(unit, str):
            raise TypeError(f"unit of column {name!r} must be a string, got {unit!r}")
        out[name] = unit
    return out


def _publish(part: Path, path: Path) -> None:
    """Give the made file its name, never replacing an existing file."""
    try:
        os.link(part, path)  # fails if ``path`` exists
    except FileExistsError:
        raise RunFileError(f"{path}: a file of that name exists; choose a new run name"
                           ) from None
    except OSError:  # a file system without hard links
        if path.exists():
            raise RunFileError(f"{path}: a file of that name exists; choose a new run name"
                               ) from None
        os.rename(part, path)
        return
    part.unlink()


class RunWriter:
    """Write one run (one HDF5 file) row by row; readable by other processes while it grows.

    ``columns`` maps column name -> SI unit ("V", "A", "S", "Ohm", "K", "T", "s", "" for
    flags); the run has this one column set. ``signal``/``axes`` name the columns a NeXus
    viewer plots (default: the second column vs the first). ``tables`` declares side tables
    (name -> column -> unit, :mod:`pcsdaq.storage.tables`) filled by :meth:`append_table`
    (the live fit's updates). ``parameters``, ``metadata`` and
    ``snapshot`` (every instrument's settings) are stored as JSON attributes. The parent
    folders are created; an existing file is never overwritten (:class:`RunFileError`).

    :meth:`append` returns only after the row is flushed to the operating system: a crash or
    ``kill -9`` afterwards loses nothing appended (a power cut can still lose what the OS had
    not written). Use as a context manager: an exception inside closes the run as "failed"
    with the exception text as reason and is re-raised (``AbortRequested`` or Ctrl-C: status
    "aborted" with the abort reason).
    """

    #: how long close() retries reopening the file while another process reads it, s
    FINALIZE_WAIT_S = 3.0

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        procedure: str,
        columns: Mapping[str, str],
        parameters: dict | None = None,
        metadata: dict | None = None,
        snapshot: dict | None = None,
        signal: str | None = None,
        axes: str | None = None,
        tables: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self._tables_spec = dict(tables or {})
        self._tables: dict[str, SideTable] = {}
        self.columns: dict[str, str] = _check_columns(columns)
        names = list(self.columns)
        self._index = {name: i for i, name in enumerate(names)}
        axes = axes if axes is not None else names[0]
        signal = signal if signal is not None else names[1 if len(names) > 1 else 0]
        for role, col in (("signal", signal), ("axes", axes)):
            if col not in self._index:
                raise ValueError(f"{role} column {col!r} is not one of the columns {names}")
        self.signal, self.axes = signal, axes
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._metadata = dict(metadata or {})
        self._n_rows = 0
        self._n_segments = 0
        self._closed = False
        self.write_error: str | None = None  #: set when the file system refused a write
        self.finalized = False  #: True once close() wrote the final attributes and groups
        if self.path.exists():  # never overwrite a record
            raise RunFileError(f"{self.path}: a file of that name exists; choose a new run name")
        # Made under a hidden temporary name and given its name once its layout is on disk
        # and SWMR has started, so a kill -9 during creation leaves no half-made "*.h5" (a
        # dead writer's part file is removed by repair_folder).
        part = self.path.with_name(f".{self.path.name}.{os.getpid()}{L.PART_SUFFIX}")
        try:
            self._file = h5py.File(part, "x", libver=L.LIBVER)
        except OSError as exc:
            raise RunWriteError(f"{self.path}: cannot create the run file "
                                f"({L.os_reason(exc, self.path.parent)})") from None
        try:
            self._create_layout(procedure, parameters, snapshot)
            self._file.swmr_mode = True
            _publish(part, self.path)
        except Exception as exc:
            try:
                self._file.close()
            except Exception:  # noqa: BLE001, S110 - the file is removed anyway
                pass
            part.unlink(missing_ok=True)  # no half-made record left behind
            if isinstance(exc, OSError):
                raise RunWriteError(f"{self.path}: cannot write the run file "
                                    f"({L.os_reason(exc, self.path.parent)})") from None
            raise

    # -- layout ---------------------------------------------------------------------------
    def _create_layout(self, procedure: str, parameters: dict | None, snapshot: dict | None):
        from pcsdaq import __version__

        f = self._file
        names, units = list(self.columns), list(self.columns.values())
        L.add_text_attrs(f, NX_class="NXroot", default=L.ENTRY, creator=f"pcsdaq {__version__}")
        entry = f.create_group(L.ENTRY)
        L.add_text_attrs(
            entry, NX_class="NXentry", default="data", procedure=procedure,
            parameters=L.to_json(parameters or {}), metadata=L.to_json(self._metadata),
            snapshot=L.to_json(snapshot or {}), software_version=__version__,
            start_time=L.utc_now_iso(), end_time="", status="running", abort_reason="",
            writer_host=socket.gethostname(), columns=L.to_json(names),
            units=L.to_json(self.columns),
        )
        entry.attrs["format_version"] = L.FORMAT_VERSION
        entry.attrs["writer_pid"] = os.getpid()
        L.add_text_attrs(entry, writer_process=L.process_identity(os.getpid()))

        data = f.create_group(L.DATA)
        L.add_text_attrs(data, NX_class="NXdata", signal=self.signal)
        data.attrs["axes"] = [self.axes]
        data.attrs[f"{self.axes}_indices"] = 0
        n = len(names)
        self._rows = data.create_dataset(
            "rows", shape=(0, n), maxshape=(None, n), chunks=(_ROW_CHUNK, n),
            dtype="f8", fillvalue=np.nan, fletcher32=True,
        )
        self._rows_id = self._rows.id
        self._ncol = n
        # the chunk the next row goes into, inside the buffer written with its checksum
        self._checksum = ChunkChecksum(_ROW_CHUNK, n)
        self._chunk = self._checksum.chunk
        self._chunk.fill(np.nan)
        self._checksum.reset()
        self._line = np.full(n, np.nan)
        self._rows.attrs["columns"] = names
        self._rows.attrs["units"] = units
        L.add_text_attrs(self._rows,
                         long_name="one row per measured point; columns in attr 'columns'")
        for i, (name, unit) in enumerate(self.columns.items()):
            L.add_column_view(data, name, i, n, unit)
        strs = h5py.string_dtype()
        self._seg_start = f.create_dataset(
            L.SEG_START, shape=(0,), maxshape=(None,), chunks=(64,), dtype="i8",
            fletcher32=True,
        )
        self._seg_start.attrs["units"] = ""
        self._seg_name = f.create_dataset(
            L.SEG_NAME, shape=(0,), maxshape=(None,), chunks=(64,), dtype=strs
        )
        self._seg_attrs = f.create_dataset(
            L.SEG_ATTRS, shape=(0,), maxshape=(None,), chunks=(64,), dtype=strs
        )
        for ds in (self._seg_name, self._seg_attrs):
            ds.attrs["units"] = ""
        self._meta_updates = f.create_dataset(
            L.METADATA_UPDATES, shape=(0,), maxshape=(None,), chunks=(16,), dtype=strs
        )
        self._meta_updates.attrs["units"] = ""
        self._status_log = f.create_dataset(
            L.STATUS_LOG, shape=(0,), maxshape=(None,), chunks=(4,), dtype=strs
        )
        self._status_log.attrs["units"] = ""
        for name, columns in self._tables_spec.items():
            self._tables[name] = SideTable(f, name, columns)
        f.flush()

    # -- streaming ------------------------------------------------------------------------
    @property
    def n_rows(self) -> int:
        """Number of rows appended so far."""
        return self._n_rows

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"run {self.path} is closed")

    def _failed_write(self, exc: OSError, what: str) -> RunWriteError:
        """A write the file system refused (disk full, read-only, I/O error): the run is
        closed for writing, the HDF5 handle dropped without flushing more metadata, and what
        was flushed before stays readable (the next pcsdaq command marks it interrupted)."""
        self._closed = True
        self.write_error = f"{self.path}: cannot {what} ({L.os_reason(exc, self.path.parent)})"
        try:
            self._file.close()
        except Exception:  # noqa: BLE001, S110 - the disk refused; the flushed file is what counts
            pass
        return RunWriteError(self.write_error + f"; the {self._n_rows} rows written before "
                             "are kept")

    def begin_segment(self, name: str, **attrs: Any) -> None:
        """Start a new segment (one spectrum, one field of an R-T log) at the next row.

        ``attrs`` (JSON-able: numbers, strings, lists) describe it, e.g.
        ``temperature_setpoint_K=4.2``. Durable when it returns.
        """
        self._check_open()
        i = self._n_segments
        attrs = {"start_time": L.utc_now_iso(), **attrs}
        try:
            for ds, value in (
                (self._seg_start, self._n_rows),
                (self._seg_name, str(name)),
                (self._seg_attrs, L.to_json(attrs)),
            ):
                ds.resize((i + 1,))
                ds[i] = value
            self._file.flush()
        except OSError as exc:
            raise self._failed_write(exc, "write a segment") from None
        self._n_segments = i + 1

    def append(self, row: Mapping[str, float]) -> None:
        """Append one row (column -> value in the column's unit); durable when it returns.

        Missing columns are stored as NaN; an unknown column raises ValueError and writes
        nothing. A refused write (disk full, read-only) raises :class:`RunWriteError` (one
        line); the rows appended before it stay in the file.
        """
        self._check_open()
        n = self._n_rows
        r = n % _ROW_CHUNK
        chunk = self._chunk
        index = self._index
        line = self._line  # built apart: a refused value changes nothing in the chunk
        line.fill(np.nan)
        for key, value in row.items():
            j = index.get(key)
            if j is None:
                raise ValueError(
                    f"unknown column {key!r}; the run's columns are {list(self.columns)}"
                )
            line[j] = value
        checksum = self._checksum
        if r == 0 and n:  # a new chunk: no row of the last one may reach the file in it
            chunk.fill(np.nan)
            checksum.reset()
        checksum.set_row(r, line)
        # The whole chunk goes to the file with H5Dwrite_chunk, past HDF5's chunk cache and
        # filter pipeline, with the Fletcher32 checksum the filter would have appended
        # (bench_sweep section 1). Only this method writes rows, so the chunk in memory is
        # the one on disk.
        dsid = self._rows_id
        try:
            dsid.set_extent((n + 1, self._ncol))
            dsid.write_direct_chunk((n - r, 0), checksum.buffer)
            dsid.flush()  # the new extent, so readers and a crash see the row
        except OSError as exc:
            try:  # the extent may have grown before the chunk was refused: no ghost row
                dsid.set_extent((n, self._ncol))
            except OSError:
                pass
            raise self._failed_write(exc, f"append row {n}") from None
        self._n_rows = n + 1

    def append_table(self, name: str, row: Mapping[str, float | str]) -> None:
        """Append one row to the side table ``name`` declared at creation (``tables``);
        durable when it returns. Costs nothing per point: only who appends pays."""
        self._check_open()
        table = self._tables.get(name)
        if table is None:
            raise ValueError(f"no table {name!r} in run {self.path}; declared: "
                             f"{list(self._tables) or 'none'}")
        try:
            table.append(row)
        except OSError as exc:
            raise self._failed_write(exc, f"append to table {name}") from None

    def set_metadata(self, **attrs: Any) -> None:
        """Add or update run metadata mid-run (e.g. ``contact_resistance_Ohm=12.3``).

        Stored as an appended JSON record (SWMR forbids changing attributes) and merged into
        the ``metadata`` attribute at close; :func:`read_run` merges it while running too.
        """
        self._check_open()
        self._metadata.update(attrs)
        i = self._meta_updates.shape[0]
        try:
            self._meta_updates.resize((i + 1,))
            self._meta_updates[i] = L.to_json(attrs)
            self._file.flush()
        except OSError as exc:
            raise self._failed_write(exc, "write metadata") from None

    def close(self, status: str = "finished", reason: str | None = None) -> None:
        """End the run: status "finished", "aborted" or "failed" (with ``reason``).

        First appends the status, reason and end time to ``/entry/status_log`` under SWMR
        (durable at once, and what :func:`read_run` reports), then closes the SWMR file and
        reopens it to write them as attributes with the merged metadata and one NXdata group
        per segment (:func:`finalize_run`). If another process holds the file open for
        reading for longer than ``FINALIZE_WAIT_S``, that second step is left for a later
        ``finalize_run(path)``; nothing is lost. Calling close again does nothing; after a
        refused write (:class:`RunWriteError`) close does nothing either: the file keeps its
        flushed rows and the next pcsdaq command that reads it marks it "interrupted".
        A refused write during close raises :class:`RunWriteError`.
        """
        if self._closed:
            return
        if status not in ("finished", "aborted", "failed"):
            raise ValueError(f"status must be finished, aborted or failed, got {status!r}")
        record = {"status": status, "reason": reason or "", "end_time": L.utc_now_iso()}
        try:
            i = self._status_log.shape[0]
            self._status_log.resize((i + 1,))
            self._status_log[i] = L.to_json(record)
            self._file.flush()
        except OSError as exc:
            raise self._failed_write(exc, "write the run's end status") from None
        self._closed = True
        try:
            self._file.close()
        except OSError as exc:
            raise RunWriteError(f"{self.path}: cannot close the run file "
                                f"({L.os_reason(exc, self.path.parent)})") from None
        try:
            self.finalized = finalize_run(self.path, wait_s=self.FINALIZE_WAIT_S)
        except OSError:  # e.g. disk full: the status log already holds the outcome
            self.finalized = False

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.write_error is not None:
            return
        if exc is None:
            self.close("finished")
        elif isinstance(exc, AbortRequested | KeyboardInterrupt):
            self.close("aborted", reason=str(exc) or type(exc).__name__)
        else:
            self.close("failed", reason=f"{type(exc).__name__}: {exc}")

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"RunWriter({str(self.path)!r}, {self._n_rows} rows, {state})"
