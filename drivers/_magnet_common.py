"""Ramp-table and limit rules shared by the magnet supply drivers (AMI430, MercuryIPS)."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Any, ClassVar

from pcsdaq.driver_support import StationDriver
from pcsdaq.errors import ConfigError, LimitError
from pcsdaq.limits import Limit, SafetyLimits, max_rate_on_path, table_rate


def validate_ramp_table(table: Any, hardware: list[list[float]], max_field: float,
                        owner: str) -> list[tuple[float, float]]:
    """Check a ramp table [[upper |B| T, max rate T/min], ...]; return it as tuples.

    Bounds must strictly increase, rates be positive, the last bound reach ``max_field``, and
    no rate exceed the hardware table at any field. Raises ConfigError otherwise."""
    try:
        rows = [(float(u), float(r)) for u, r in table]
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{owner}: ramp_table must be [[upper T, rate T/min], ...]",
                          key="settings") from exc
    if not rows:
        raise ConfigError(f"{owner}: ramp_table is empty", key="settings")
    bounds = [u for u, _ in rows]
    if any(b <= a for a, b in pairwise(bounds)) or bounds[0] <= 0:
        raise ConfigError(f"{owner}: ramp_table bounds must be positive and strictly increasing",
                          key="settings")
    if any(r <= 0 for _, r in rows):
        raise ConfigError(f"{owner}: ramp_table rates must be > 0", key="settings")
    if bounds[-1] < max_field:
        raise ConfigError(f"{owner}: ramp_table ends at {bounds[-1]:g} T, below max_field_T "
                          f"{max_field:g} T", key="settings")
    # Compare at every breakpoint of either table, from below (segment i covers (prev, upper]).
    points = sorted({0.0, *bounds, *(u for u, _ in hardware)})
    for lo, hi in pairwise(points):
        mid = 0.5 * (lo + hi)
        if mid > max_field:
            break
        if table_rate(rows, mid) > table_rate(hardware, mid):
            raise ConfigError(f"{owner}: ramp_table rate {table_rate(rows, mid):g} T/min at "
                              f"{mid:g} T exceeds the magnet's {table_rate(hardware, mid):g} T/min",
                              key="settings")
    return rows


class MagnetDriverBase(StationDriver):
    """Common LIMITS/SETTINGS and checks for the magnet supplies (fields in T, rates T/min)."""

    max_field: float  #: configured |B| limit, T (the Magnet role's attribute)

    HARDWARE_RAMP_TABLE: ClassVar[list[list[float]]] = [[3.0, 0.5], [5.0, 0.3], [7.0, 0.2]]
    LIMITS: ClassVar[dict[str, Limit]] = {
        "max_field_T": Limit("T", 7.0, description="largest |B|"),
    }
    SETTINGS: ClassVar[dict[str, tuple[Any, Any, str]]] = {
        "ramp_table": (list, None, "[[upper |B| T, max rate T/min], ...]; None: hardware table"),
        "persistent_switch": (bool, False, "magnet has a persistent switch that must be on"),
        "switch_heat_time_s": (float, 30.0, "switch heater warm-up time, s"),
        "switch_cool_time_s": (float, 60.0, "switch heater cool-down time, s"),
    }

    @classmethod
    def check_config(cls, settings, limits) -> SafetyLimits:
        """Base checks plus the ramp table against the hardware table and max field."""
        safety = super().check_config(settings, limits)
        merged = cls.settings_with_defaults(settings)
        table = merged["ramp_table"] or cls.HARDWARE_RAMP_TABLE
        validate_ramp_table(table, cls.HARDWARE_RAMP_TABLE, safety["max_field_T"], cls.__name__)
        for key in ("switch_heat_time_s", "switch_cool_time_s"):
            if not 0 <= merged[key] <= 3600:
                raise ConfigError(f"{key} must be 0 to 3600 s", key="settings")
        return safety

    def _init_station(self, settings: Mapping[str, Any] | None,
                      limits: Mapping[str, float] | None) -> None:
        super()._init_station(settings, limits)
        self.ramp_table = validate_ramp_table(
            self.settings["ramp_table"] or self.HARDWARE_RAMP_TABLE, self.HARDWARE_RAMP_TABLE,
            self.safety["max_field_T"], type(self).__name__)
        self.max_field = self.safety["max_field_T"]

    def _check_rate(self, start: float, field: float, rate: float | None) -> None:
        """Refuse a rate above the table anywhere between start and field (T)."""
        if rate is None:
            return
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not rate > 0:
            raise LimitError(f"{type(self).__name__}: ramp rate {rate!r} must be > 0 T/min")
        allowed = max_rate_on_path(self.ramp_table, start, field)
        if rate > allowed:
            raise LimitError(f"{type(self).__name__}: ramp rate {rate:g} T/min refused, the table "
                             f"allows {allowed:g} T/min between {start:g} and {field:g} T; "
                             "nothing was sent")

    def segments_for(self, rate: float | None) -> list[tuple[float, float]]:
        """Ramp segments (upper T, rate T/min) to program: the table capped at ``rate``."""
        return [(u, r if rate is None else min(r, rate)) for u, r in self.ramp_table]
