"""Safety limits held by the drivers.

Every driver declares the limits it enforces as a class attribute ``LIMITS`` mapping a key
(``max_field_T``, ``max_voltage_V`` ...) to a :class:`Limit` with the hardware ceiling. A
station file may lower a limit, never raise it above the hardware value; a driver checks
every value it is asked to send against its :class:`SafetyLimits` *before* writing
anything, and raises :class:`~pcsdaq.errors.LimitError` when it refuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pcsdaq.errors import LimitError


@dataclass(frozen=True)
class Limit:
    """One configurable limit.

    ``hardware`` is the ceiling no configuration may exceed, ``default`` the value used when
    the station file says nothing, ``minimum`` the smallest value a configuration may set
    (a limit of zero would make the instrument unusable), ``unit`` the SI unit.
    """

    unit: str
    hardware: float
    default: float | None = None
    minimum: float = 0.0
    description: str = ""

    def allowed(self) -> str:
        """Human-readable allowed range of the configured value."""
        return f"{self.minimum:g} < value <= {self.hardware:g} {self.unit}".rstrip()


class SafetyLimits(Mapping[str, float]):
    """The configured limits of one instrument, read-only once built.

    ``SafetyLimits(spec, configured, owner)`` validates ``configured`` against ``spec``
    (unknown keys, non-numbers, values outside ``(minimum, hardware]`` are refused with a
    message naming the owner, the key and the allowed range). Building one does no I/O, so
    the station validates a whole file before any instrument is opened.
    """

    def __init__(
        self,
        spec: Mapping[str, Limit],
        configured: Mapping[str, float] | None = None,
        owner: str = "instrument",
    ) -> None:
        self.spec = MappingProxyType(dict(spec))
        self.owner = owner
        values: dict[str, float] = {}
        configured = dict(configured or {})
        unknown = sorted(set(configured) - set(spec))
        if unknown:
            raise LimitError(
                f"{owner}: unknown limit {', '.join(unknown)}; allowed keys: "
                f"{', '.join(sorted(spec)) or '(none)'}"
            )
        for key, lim in spec.items():
            raw = configured.get(key, lim.default if lim.default is not None else lim.hardware)
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise LimitError(f"{owner}: limit {key} = {raw!r} is not a number "
                                 f"({lim.allowed()})")
            value = float(raw)
            if not (lim.minimum < value <= lim.hardware) and not (
                lim.minimum == 0.0 and value == 0.0 and lim.hardware == 0.0
            ):
                raise LimitError(
                    f"{owner}: limit {key} = {value:g} {lim.unit} is outside what the hardware "
                    f"allows ({lim.allowed()})"
                )
            values[key] = value
        self._values = MappingProxyType(values)

    def __getitem__(self, key: str) -> float:
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def check_abs(self, key: str, value: float, what: str | None = None) -> float:
        """Return ``value`` if ``|value| <= limit[key]``, else raise LimitError (nothing sent)."""
        limit = self._values[key]
        unit = self.spec[key].unit
        if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
            raise LimitError(f"{self.owner}: {what or key} = {value!r} is not a number")
        if abs(value) > limit:
            raise LimitError(
                f"{self.owner}: {what or key} = {value:g} {unit} refused, beyond the limit "
                f"|value| <= {limit:g} {unit} ({key}); nothing was sent"
            )
        return value

    def check_range(self, key: str, value: float, low: float = 0.0,
                    what: str | None = None) -> float:
        """Return ``value`` if ``low <= value <= limit[key]``, else raise LimitError."""
        limit = self._values[key]
        unit = self.spec[key].unit
        if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
            raise LimitError(f"{self.owner}: {what or key} = {value!r} is not a number")
        if not (low <= value <= limit):
            raise LimitError(
                f"{self.owner}: {what or key} = {value:g} {unit} refused, allowed "
                f"{low:g} to {limit:g} {unit} ({key}); nothing was sent"
            )
        return value

    def as_dict(self) -> dict[str, float]:
        """Plain copy for snapshots and HDF5 attributes."""
        return dict(self._values)


# --- magnet ramp tables [[upper |B| in T, max rate in T/min], ...] -----------------------
def table_rate(table: Any, field: float) -> float:
    """Table rate in T/min at |field| (T); 0 beyond the last bound."""
    for upper, rate in table:
        if abs(field) <= upper:
            return float(rate)
    return 0.0


def max_rate_on_path(table: Any, start: float, end: float) -> float:
    """Lowest table rate (T/min) over all |B| crossed ramping from start to end (T)."""
    if start * end < 0:
        lo, hi = 0.0, max(abs(start), abs(end))
    else:
        lo, hi = sorted((abs(start), abs(end)))
    rates = [table_rate(table, lo), table_rate(table, hi)]
    lower_bounds = [0.0] + [u for u, _ in table]
    rates += [r for (u, r), prev in zip(table, lower_bounds) if prev < hi and u > lo]
    return min(rates)
