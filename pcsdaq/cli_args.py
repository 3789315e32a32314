"""Command-line parsing that reports bad input in one line (exit 2), never a traceback.

:class:`OneLineParser` is an ``argparse.ArgumentParser`` whose errors raise
:class:`~pcsdaq.errors.UsageError` (``pcsdaq.cli.main`` prints it as one line, exit 2)
instead of printing the usage block; the ``type=`` helpers refuse non-finite and
out-of-range numbers instead of rounding or accepting them.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from pcsdaq.errors import UsageError


class OneLineParser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line: ``UsageError("--x: ...")``."""

    def error(self, message: str) -> NoReturn:
        """Raise instead of printing the usage and exiting."""
        raise UsageError(f"{message} (see {self.prog} --help)")


def finite_float(low: float, high: float, *, low_open: bool = False,
                 unit: str = "") -> Callable[[str], float]:
    """argparse ``type=``: a finite float in [low, high] (or (low, high] with
    ``low_open``); the message names the allowed range."""
    left = "<" if low_open else "<="
    allowed = f"allowed {low:g} {left} value <= {high:g} {unit}".rstrip()

    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number; {allowed}") from None
        ok = math.isfinite(value) and (low < value if low_open else low <= value) and value <= high
        if not ok:
            raise argparse.ArgumentTypeError(f"{text!r} is out of range; {allowed}")
        return value

    convert.__name__ = "number"
    return convert


def strict_int(low: int, high: int) -> Callable[[str], int]:
    """argparse ``type=``: an integer in [low, high] written as one (``10.5`` refused)."""
    def convert(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer; allowed "
                                             f"{low} to {high}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range; allowed {low} to {high}")
        return value

    convert.__name__ = "integer"
    return convert


def writable_folder(path: str | Path, option: str = "--data") -> Path:
    """``path`` as a folder pcsdaq can write in, created if missing; ConfigError naming
    ``option`` when it is a file, cannot be created or is read-only (nothing is left behind)."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{option} {folder}: is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{option} {folder}: cannot create the folder "
                         f"({exc.strerror or exc})") from None
    probe = folder / f".pcsdaq-write-probe-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"{option} {folder}: cannot write in this folder "
                         f"({exc.strerror or exc})") from None
    return folder
