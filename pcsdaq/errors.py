"""Exceptions that pcsdaq raises on purpose, each with a message meant for the physicist."""

from __future__ import annotations


class PcsdaqError(Exception):
    """Base of every error pcsdaq reports to the user as one clear line (no traceback)."""


class ConfigError(PcsdaqError):
    """A station file, plan or parameter is invalid.

    The message names where the value came from (file and key), what was wrong and the
    allowed values, e.g. ``station-lab.yaml: roles.magnet.limits.max_field_T = 9.0 is above
    the hardware maximum 7.0 T (allowed 0 < value <= 7.0)``.
    """

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None):
        self.source = source
        self.key = key
        prefix = ": ".join(p for p in (source, key) if p)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class LimitError(PcsdaqError, ValueError):
    """A value was refused at the hardware boundary; nothing was sent to the instrument."""


class InstrumentError(PcsdaqError):
    """An instrument answered with an error (SCPI error queue, ``ERROR``, ``INVALID`` ...)."""


class InstrumentFault(PcsdaqError):
    """The instrument link failed (timeout, dropped connection, garbled reply)."""


class QuenchError(InstrumentError):
    """The magnet supply reports a quench: a hard stop for any run."""


class AbortRequested(PcsdaqError):
    """A run was asked to stop (Ctrl-C, SIGTERM, GUI abort); carries the reason."""
