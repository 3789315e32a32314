"""Side tables of a run file: small appendable tables beside the point rows.

A table is ``/entry/analysis/<name>`` (NX_class NXcollection), one 1D resizable dataset per
column with attribute ``units``; a column whose unit is :data:`TEXT` holds strings (a fit's
verdict). The live fit's updates go to ``/entry/analysis/live``, one row per update.

SWMR forbids creating objects once it has started, so a run declares its tables when its file
is made (``RunWriter(..., tables={"live": {...}})``); appending a row resizes each column by
one and flushes, like a point (:meth:`SideTable.append`). Only the writer's thread appends.
A reader sees the columns at equal length (:func:`read_tables` cuts them to the shortest, for
a row caught half-written).
"""

from __future__ import annotations

from collections.abc import Mapping

import h5py
import numpy as np

from pcsdaq.storage import layout as L

#: where the side tables live
ANALYSIS = "entry/analysis"
#: the unit that marks a column of strings
TEXT = "text"


class SideTable:
    """One appendable table of a run file (made before SWMR starts)."""

    def __init__(self, file: h5py.File, name: str, columns: Mapping[str, str]) -> None:
        if not name or "/" in name:
            raise ValueError(f"table name {name!r} is not allowed (non-empty, no '/')")
        if not columns:
            raise ValueError(f"table {name!r} needs at least one column (name -> unit)")
        group = file.require_group(ANALYSIS).create_group(name)
        L.add_text_attrs(group, NX_class="NXcollection")
        self.name = name
        self.columns = dict(columns)
        self._file = file
        self._datasets: dict[str, h5py.Dataset] = {}
        for col, unit in self.columns.items():
            text = unit == TEXT
            ds = group.create_dataset(
                col, shape=(0,), maxshape=(None,), chunks=(64,),
                dtype=h5py.string_dtype() if text else "f8",
                **({} if text else {"fillvalue": np.nan}))
            ds.attrs["units"] = "" if text else unit
            self._datasets[col] = ds
        self.n_rows = 0

    def append(self, row: Mapping[str, float | str]) -> None:
        """Append one row (column -> value; missing numbers NaN, missing text ""); durable
        when it returns. An unknown column raises ValueError and writes nothing; OSError
        from the file system propagates (the writer turns it into RunWriteError)."""
        unknown = set(row) - set(self.columns)
        if unknown:
            raise ValueError(f"unknown column {sorted(unknown)[0]!r} of table {self.name}; "
                             f"its columns are {list(self.columns)}")
        n = self.n_rows
        for col, ds in self._datasets.items():
            value = row.get(col)
            if self.columns[col] == TEXT:
                value = "" if value is None else str(value)
            else:
                value = np.nan if value is None else float(value)
            ds.resize((n + 1,))
            ds[n] = value
        self._file.flush()
        self.n_rows = n + 1


def read_tables(f: h5py.File) -> dict[str, dict[str, np.ndarray]]:
    """Every side table of an open run file: name -> column -> 1D array (floats, or an
    object array of str for text columns); {} when the run has none."""
    if ANALYSIS not in f:
        return {}
    out: dict[str, dict[str, np.ndarray]] = {}
    for name, group in f[ANALYSIS].items():
        if not isinstance(group, h5py.Group):
            continue
        cols: dict[str, np.ndarray] = {}
        for col, ds in group.items():
            if f.swmr_mode:
                ds.refresh()
            if h5py.check_string_dtype(ds.dtype) is not None:
                cols[col] = np.array(ds.asstr()[...], dtype=object)
            else:
                cols[col] = ds[...]
        n = min((len(v) for v in cols.values()), default=0)
        out[name] = {c: v[:n] for c, v in cols.items()}
    return out
