"""Reading the analysis commands' CSV input with clear errors (one line, no traceback)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from pcsdaq.errors import PcsdaqError


class AnalysisInputError(PcsdaqError):
    """Input data the analysis cannot use (missing column, NaN, empty, wrong units)."""


def read_columns(path: str | Path, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The named columns of a CSV file with a header row, as float arrays.

    Raises AnalysisInputError naming the file and the problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise AnalysisInputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    rows = [r for r in csv.reader(text.splitlines()) if r and any(c.strip() for c in r)]
    if not rows:
        raise AnalysisInputError(f"{path}: empty file")
    header = [h.strip() for h in rows[0]]
    missing = [n for n in names if n not in header]
    if missing:
        raise AnalysisInputError(f"{path}: missing column {', '.join(missing)}; found: "
                                 f"{', '.join(header)} (needs {', '.join(names)})")
    if len(rows) < 2:
        raise AnalysisInputError(f"{path}: no data rows under the header")
    out = {}
    for name in names:
        j = header.index(name)
        values = []
        for i, row in enumerate(rows[1:], start=2):
            try:
                v = float(row[j])
            except (ValueError, IndexError):
                raise AnalysisInputError(f"{path}: line {i}, column {name}: "
                                         f"{row[j] if j < len(row) else '(missing)'!r} "
                                         "is not a number") from None
            if not math.isfinite(v):
                raise AnalysisInputError(f"{path}: line {i}, column {name} is {v} (NaN/inf)")
            values.append(v)
        out[name] = np.array(values)
    return out
