"""Exceptions that pcsdaq raises on purpose, each with a message meant for the physicist.

The run engine's retry policy follows one taxonomy (:func:`classify`):

* **link faults** (:class:`LinkFault`, alias :class:`InstrumentFault`): a timeout, a reset
  or dropped connection, a garbled reply. Drivers raise them (their ``read``/``write``
  convert pyvisa and socket errors, and a reply that does not parse is a garbled one);
  the engine reconnects and retries, a bounded number of times.
* **refusals** (:class:`Refusal`: :class:`LimitError`, :class:`ConfigError`,
  :class:`InstrumentError` when the instrument itself refused a command): never retried,
  reported as refusals ("refused: ...").
* **hard stops** (:class:`QuenchError`) and **faults of the experiment**
  (:class:`ExperimentFault`: open heater, invalid thermometer, a field that never holds):
  never retried; the step ends safe with the reason.
* **programming errors**: anything else (ValueError, TypeError, KeyError in code): fail
  fast, with the traceback in the run's log file.
"""

from __future__ import annotations


class PcsdaqError(Exception):
    """Base of every error pcsdaq reports to the user as one clear line (no traceback)."""


class Refusal(PcsdaqError):
    """Something was refused on purpose (bad input, limit, instrument refusal): never
    retried; nothing unsafe was sent."""


class ConfigError(Refusal):
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


class UsageError(ConfigError):
    """A bad command-line argument (one line, exit 2)."""


class LimitError(Refusal, ValueError):
    """A value was refused at the hardware boundary; nothing was sent to the instrument."""


class InstrumentError(Refusal):
    """An instrument answered with an error (SCPI error queue, ``ERROR``, ``INVALID`` ...)
    or refused a command: retrying the same command would get the same answer."""


class LinkFault(PcsdaqError):
    """The instrument link failed (timeout, reset or dropped connection, garbled reply):
    retried after a reconnect."""


#: the historical name of :class:`LinkFault`
InstrumentFault = LinkFault


class ExperimentFault(PcsdaqError):
    """The experiment misbehaves (heater open, thermometer reading invalid, a field that
    never holds): the step ends in the safe state with this reason, never retried."""


class QuenchError(InstrumentError):
    """The magnet supply reports a quench: a hard stop for any run."""


class AbortRequested(PcsdaqError):
    """A run was asked to stop (Ctrl-C, SIGTERM, GUI abort); carries the reason."""


def _raw_link_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [TimeoutError, ConnectionError]
    try:
        from pyvisa.errors import VisaIOError
        errors.append(VisaIOError)
    except ImportError:  # pragma: no cover - pyvisa is a dependency
        pass
    try:
        from serial import SerialException
        errors.append(SerialException)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


#: low-level exceptions that mean the link failed (converted to LinkFault by drivers)
RAW_LINK_ERRORS = _raw_link_errors()

#: what :func:`classify` returns
KINDS = ("abort", "hard_stop", "refusal", "link", "experiment", "error", "programming")


def classify(exc: BaseException) -> str:
    """Which branch of the retry policy ``exc`` takes (one of :data:`KINDS`).

    ``abort`` operator stop; ``hard_stop`` quench; ``refusal`` never retried; ``link``
    retried after reconnect; ``experiment`` safe abort with the reason; ``error`` another
    deliberate pcsdaq error (not retried); ``programming`` a bug: fail fast, traceback logged.
    """
    if isinstance(exc, AbortRequested):
        return "abort"
    if isinstance(exc, QuenchError):
        return "hard_stop"
    if isinstance(exc, Refusal):
        return "refusal"
    if isinstance(exc, (LinkFault, *RAW_LINK_ERRORS)):
        return "link"
    if isinstance(exc, ExperimentFault):
        return "experiment"
    if isinstance(exc, PcsdaqError | OSError):
        return "error"  # deliberate, or the computer's (disk full, read-only folder)
    return "programming"
