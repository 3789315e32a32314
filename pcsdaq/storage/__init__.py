"""HDF5 run storage: streamed, crash-consistent writer and a reader returning numpy arrays.

``RunWriter`` writes one run per file, rows appended and flushed point by point (SWMR, so
other processes read it while it grows; a ``kill -9`` loses nothing appended); ``read_run``
returns a :class:`RunData` (columns, units, attributes, segments) from a finished, live or
crashed run; ``list_runs`` lists the runs in a folder; ``RunFollower`` returns only the rows
added since its last poll (live plots in another process); ``repair_run`` / ``repair_folder``
make a run whose writer died readable by every HDF5 tool in place (status "interrupted"; the
reader does it before it opens such a file; ``pcsdaq recover DIR``), ``recover_run`` copies a
crashed run into a new closed file. ``pcsdaq export RUN.h5 --csv`` writes one CSV per
segment. File layout: :mod:`pcsdaq.storage.layout`; chunk checksums:
:mod:`pcsdaq.storage.checksum`; one run per data folder: :mod:`pcsdaq.storage.folder_lock`.
"""

from pcsdaq.storage.finalize import finalize_run
from pcsdaq.storage.follow import RunFollower, recover_run
from pcsdaq.storage.reader import (
    RunData,
    RunFileError,
    RunSummary,
    RunWriteError,
    Segment,
    list_runs,
    read_run,
)
from pcsdaq.storage.repair import repair_folder, repair_run
from pcsdaq.storage.writer import RunWriter

__all__ = [
    "RunData",
    "RunFileError",
    "RunFollower",
    "RunSummary",
    "RunWriteError",
    "RunWriter",
    "Segment",
    "finalize_run",
    "list_runs",
    "read_run",
    "recover_run",
    "repair_folder",
    "repair_run",
]
