"""Finalize a closed run: copy its status log into attributes and add per-segment NXdata groups.

This is the non-SWMR second half of :meth:`RunWriter.close`. It needs the file to itself
(HDF5 refuses to reopen it for writing while another process reads it), so it retries for a
while; when it cannot, the run is still complete: :func:`read_run` takes the status from
``/entry/status_log``. Everything is read back from the file, so it can run later in another
process (``finalize_run(path)``).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import h5py

from pcsdaq.storage import layout as L


def _strings(f: h5py.File, name: str) -> list[str]:
    return [str(s) for s in f[name].asstr()[...]] if name in f else []


def _segment_groups(f: h5py.File) -> None:
    rows = f[L.ROWS]
    n, ncol = rows.shape
    names_col = [L.decode_attr(c) for c in rows.attrs["columns"]]
    units = [L.decode_attr(u) for u in rows.attrs["units"]]
    data = f[L.DATA].attrs
    signal, axes = L.decode_attr(data["signal"]), L.decode_attr(data["axes"])[0]
    starts = [int(s) for s in f[L.SEG_START][...]]
    names, attrs = _strings(f, L.SEG_NAME), _strings(f, L.SEG_ATTRS)
    if n and (not starts or starts[0] > 0):  # rows before the first segment: "main"
        starts, names, attrs = [0, *starts], ["main", *names], ["{}", *attrs]
    entry = f[L.ENTRY]
    for k, start in enumerate(starts):
        group_name = L.SEGMENT_GROUP.format(k)
        if group_name in entry:
            continue
        stop = starts[k + 1] if k + 1 < len(starts) else n
        g = entry.create_group(group_name)
        L.add_text_attrs(g, NX_class="NXdata", signal=signal, segment_name=names[k],
                         segment_attrs=attrs[k])
        g.attrs["axes"] = [axes]
        g.attrs[f"{axes}_indices"] = 0
        g.attrs["first_row"] = start
        g.attrs["n_rows"] = stop - start
        for i, (name, unit) in enumerate(zip(names_col, units, strict=True)):
            L.add_column_view(g, name, i, ncol, unit, start, stop)


def _apply(f: h5py.File, path: Path) -> None:
    log = _strings(f, L.STATUS_LOG)
    if not log:
        raise ValueError(f"{path}: the run has no status record; it was not closed")
    record = json.loads(log[-1])
    ea = f[L.ENTRY].attrs
    metadata = json.loads(L.decode_attr(ea["metadata"]))
    for text in _strings(f, L.METADATA_UPDATES):
        metadata.update(json.loads(text))
    ea["metadata"] = L.to_json(metadata)
    ea["status"] = record["status"]
    ea["abort_reason"] = record["reason"]
    ea["end_time"] = record["end_time"]
    _segment_groups(f)


def finalize_run(path: str | os.PathLike, *, wait_s: float = 0.0) -> bool:
    """Write a closed run's final attributes and segment groups; True when done.

    Retries every 0.05 s for up to ``wait_s`` s while another process has the file open;
    returns False if it still cannot open it. Already finalized -> True (no change).
    Raises ValueError for a run with no status record (still being written, or crashed).
    """
    path = Path(path)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            f = h5py.File(path, "r+", libver=L.LIBVER)
            break
        except OSError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
    with f:
        if L.decode_attr(f[L.ENTRY].attrs["status"]) == "running":
            _apply(f, path)
    return True
