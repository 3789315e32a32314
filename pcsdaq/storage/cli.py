"""``pcsdaq export RUN.h5 --csv [--out DIR]``: one CSV file per segment of a run.

Each CSV is named ``<run stem>_<NNN>_<segment name>.csv`` (NNN = segment number from 000,
unsafe characters of the name replaced by ``_``) and holds, in order: always five ``#``
comment lines (run procedure, status, start time, segment name, segment attributes as JSON),
one header line ``name [unit],...``, then one line per row (NaN as ``nan``). It loads with
``numpy.loadtxt(path, delimiter=",", skiprows=6)`` and with any spreadsheet. A run that is
still being written exports the rows flushed so far; an interrupted one (its writer died)
exports every flushed row; a truncated or corrupted one is refused in one line (exit 2).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np

from pcsdaq.cli_args import OneLineParser
from pcsdaq.errors import PcsdaqError
from pcsdaq.storage.layout import os_reason
from pcsdaq.storage.reader import RunData, Segment, read_run


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", name).strip("_") or "segment"


def segment_csv_text(run: RunData, segment: Segment) -> str:
    """The CSV text of one segment (comment lines, header with units, rows)."""
    def one_line(value: object) -> str:
        return " ".join(str(value).splitlines())

    lines = [
        f"# procedure: {one_line(run.attrs.get('procedure', ''))}",
        f"# status: {run.status}",
        f"# start_time: {run.attrs.get('start_time', '')}",
        f"# segment: {one_line(segment.name)}",
        f"# segment_attrs: {json.dumps(segment.attrs)}",
        ",".join(f"{name} [{unit}]" for name, unit in segment.units.items()),
    ]
    text = "\n".join(lines) + "\n"
    if segment.n_rows:
        table = np.column_stack([segment.columns[c] for c in segment.units])
        body = "\n".join(",".join(repr(float(v)) for v in row) for row in table)
        text += body + "\n"
    return text


def export_csv(path: str | Path, out_dir: str | Path | None = None) -> list[Path]:
    """Write one CSV per segment of the run at ``path`` into ``out_dir`` (default: beside it).

    Returns the written paths in segment order. Raises a PcsdaqError for a missing or
    non-pcsdaq file.
    """
    path = Path(path)
    run = read_run(path)
    out = Path(out_dir) if out_dir is not None else path.parent
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PcsdaqError(f"cannot create output folder {out}: {exc}") from None
    written = []
    for k, segment in enumerate(run.segments):
        target = out / f"{path.stem}_{k:03d}_{_safe(segment.name)}.csv"
        try:
            target.write_text(segment_csv_text(run, segment), encoding="utf-8")
        except OSError as exc:
            raise PcsdaqError(f"cannot write {target}: {os_reason(exc, out)}; choose "
                              "another folder with --out") from None
        written.append(target)
    return written


def main(argv: list[str]) -> int:
    """``pcsdaq export``: export an HDF5 run to CSV (one file per segment)."""
    parser = OneLineParser(
        prog="pcsdaq export",
        description="Export a pcsdaq HDF5 run to CSV: one file per segment "
        "(<run>_<NNN>_<segment>.csv), '#' comment lines, then a 'name [unit]' header.",
    )
    parser.add_argument("run", help="the run file (.h5)")
    parser.add_argument("--csv", action="store_true", required=True, help="export as CSV")
    parser.add_argument("--out", default=None, help="output folder (default: beside the run)")
    args = parser.parse_args(argv)
    written = export_csv(args.run, args.out)
    for p in written:
        print(p)
    if not written:
        print(f"{args.run}: the run has no rows; nothing exported")
    return 0


def recover_main(argv: list[str]) -> int:
    """``pcsdaq recover DIR|RUN.h5 ...``: repair run files whose writer died, in place."""
    from pcsdaq.storage.repair import remove_dead_parts, repair_run

    parser = OneLineParser(
        prog="pcsdaq recover",
        description="Repair run files left by a killed or crashed run, in place: clear "
        "HDF5's open-for-write flags (as h5clear -s) so every HDF5 tool opens them, and mark "
        "them 'interrupted' with every flushed point kept. Files still being written, and "
        "finished ones, are left alone.")
    parser.add_argument("paths", nargs="+", help="data folders (searched recursively) or "
                        "run files (.h5)")
    args = parser.parse_args(argv)
    files: list[Path] = []
    for name in args.paths:
        p = Path(name)
        if p.is_dir():
            for part, done in remove_dead_parts(p):
                print(f"{part}: {done}")
            files += sorted(p.rglob("*.h5"))
        elif p.is_file():
            files.append(p)
        else:
            raise PcsdaqError(f"{p}: no such file or folder")
    problems = 0
    for p in files:
        try:
            repaired = repair_run(p)
        except (OSError, KeyError, ValueError) as exc:
            print(f"{p}: cannot repair ({' '.join(str(exc).split())})", file=sys.stderr)
            problems += 1
            continue
        if repaired:
            print(f"{p}: {repaired}")
    print(f"{len(files)} run file(s) checked, {problems} could not be repaired")
    return 2 if problems else 0
