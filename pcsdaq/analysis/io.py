"""Reading the analysis commands' CSV input with clear errors (one line, no traceback)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pcsdaq.errors import PcsdaqError


class AnalysisInputError(PcsdaqError):
    """Input data the analysis cannot use (missing column, NaN, empty, wrong units)."""


def read_columns(path: str | Path, names: tuple[str, ...],
                 aliases: dict[str, tuple[str, ...]] | None = None) -> dict[str, np.ndarray]:
    """The named columns of a text table as float arrays (names matched without case or
    unit, comment lines and ``name [unit]`` headers allowed: pcsdaq.analysis.readers).

    Raises AnalysisInputError naming the file, line and problem."""
    from pcsdaq.analysis.readers import read_columns as _read

    return _read(path, names, aliases)
