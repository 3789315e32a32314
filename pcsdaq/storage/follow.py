"""Follow a run while another process writes it, and recover a run whose writer crashed.

:class:`RunFollower` keeps the file open as an SWMR reader and returns only the rows (and
segments) added since the previous poll, so a live plot in another process costs the new
points, never a re-read of the whole run.

:func:`recover_run` copies a run whose writer crashed into a new, normally closed file
(status "failed", reason "interrupted ..."). The crashed file itself is repaired in place by
:func:`~pcsdaq.storage.repair.repair_run` (which every reader calls first), so the copy is
only needed to keep the original bytes untouched.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Self

import h5py
import numpy as np

from pcsdaq.storage import layout as L
from pcsdaq.storage.reader import RunFileError, _open, _read_attrs, read_run
from pcsdaq.storage.tables import ANALYSIS, TEXT
from pcsdaq.storage.writer import RunWriter


class RunFollower:
    """Incremental SWMR reader of one run file.

    ``poll()`` returns ``{column: array of the new rows}`` (empty arrays when nothing came);
    ``new_segments()`` returns ``[(first_row, name, attrs), ...]`` begun since its last call.
    ``n_rows`` is the number of rows delivered so far. Use as a context manager or ``close()``.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._file = _open(self.path)
        try:
            _read_attrs(self._file, self.path)
            self._rows = self._file[L.ROWS]
            self.columns = [L.decode_attr(c) for c in self._rows.attrs["columns"]]
            self.units = dict(zip(self.columns, (L.decode_attr(u) for u in
                                                 self._rows.attrs["units"]), strict=True))
        except Exception:
            self._file.close()
            raise
        self.n_rows = 0
        self._n_segments = 0

    def _refresh(self, ds: h5py.Dataset) -> h5py.Dataset:
        if self._file.swmr_mode:
            ds.refresh()
        return ds

    def poll(self) -> dict[str, np.ndarray]:
        """The rows flushed since the previous poll, column -> 1D array (SI units)."""
        rows = self._refresh(self._rows)
        n = rows.shape[0]
        block = rows[self.n_rows : n] if n > self.n_rows else np.empty((0, len(self.columns)))
        self.n_rows = max(n, self.n_rows)
        return {name: block[:, i].copy() for i, name in enumerate(self.columns)}

    def new_segments(self) -> list[tuple[int, str, dict]]:
        """Segments begun since the previous call: (first row, name, attributes)."""
        starts = self._refresh(self._file[L.SEG_START])
        names = self._refresh(self._file[L.SEG_NAME])
        attrs = self._refresh(self._file[L.SEG_ATTRS])
        k = min(starts.shape[0], names.shape[0], attrs.shape[0])
        out = []
        for i in range(self._n_segments, k):
            out.append((int(starts[i]), names.asstr()[i], json.loads(attrs.asstr()[i])))
        self._n_segments = k
        return out

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def table_units(path: Path, tables: dict) -> dict[str, dict[str, str]]:
    """name -> column -> unit of a run file's side tables (TEXT for strings)."""
    out: dict[str, dict[str, str]] = {}
    with _open(path) as f:
        for name, cols in tables.items():
            group = f[f"{ANALYSIS}/{name}"]
            out[name] = {c: TEXT if cols[c].dtype == object
                         else L.decode_attr(group[c].attrs.get("units", "")) for c in cols}
    return out


def recover_run(path: str | os.PathLike, out: str | os.PathLike | None = None) -> Path:
    """Copy an interrupted run (writer gone, status "running") into a closed file.

    The copy (default ``<stem>-recovered.h5`` beside it) holds every row, segment, metadata
    update and the original start time, with status "failed" and abort reason
    "interrupted: ...". Refuses a run that is not interrupted. Returns the new path.
    """
    path = Path(path)
    run = read_run(path)
    if run.status != "interrupted":
        raise RunFileError(f"{path}: status is {run.status!r}; only an interrupted run needs "
                           "recovery")
    target = Path(out) if out is not None else path.with_name(f"{path.stem}-recovered.h5")
    with _open(path) as f:
        data = f[L.DATA].attrs
        signal, axes = L.decode_attr(data["signal"]), L.decode_attr(data["axes"])[0]
    a = run.attrs
    writer = RunWriter(target, procedure=a.get("procedure", ""), columns=run.units,
                       parameters=a.get("parameters"), metadata=run.metadata,
                       snapshot=a.get("snapshot"), signal=signal, axes=axes,
                       tables=table_units(path, run.tables))
    for name, cols in run.tables.items():  # side tables (the live fit's) come along
        for i in range(min((len(v) for v in cols.values()), default=0)):
            writer.append_table(name, {c: v[i] for c, v in cols.items()})
    for seg in run.segments:
        writer.begin_segment(seg.name, **seg.attrs)
        for i in range(seg.n_rows):
            writer.append({c: v[i] for c, v in seg.columns.items()})
    writer.close("failed", reason=f"interrupted: the writer (pid {a.get('writer_pid')}) ended "
                 f"without closing the run; recovered from {path.name}")
    with h5py.File(target, "r+") as f:
        f[L.ENTRY].attrs["start_time"] = a.get("start_time", "")
        f[L.ENTRY].attrs["recovered_from"] = str(path)
    return target
