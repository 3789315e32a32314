"""DC bias current from an SR830 aux output through a series resistor (BiasSource role).

The aux output sets a voltage with 1 mV resolution; through ``series_resistance_ohm`` (much
larger than the contact) it drives I = V_aux / R. The current actually sourced is therefore
``round(I * R, 3) / R``: :meth:`SR830AuxBias.set_current` returns it, and the conversion is
recorded with the data (:meth:`SR830AuxBias.conversion`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pcsdaq.driver_support import StationDriver
from pcsdaq.errors import ConfigError
from pcsdaq.limits import Limit

if TYPE_CHECKING:
    from pcsdaq.drivers.sr830 import SR830


class SR830AuxBias(StationDriver):
    """Bias source riding on an SR830 instance: one ``AUXV n,x`` write per set point (A)."""

    ROLES = ("bias",)
    EMULATOR = None
    MODELS = ("SR830",)
    USES = "lockin"  #: rides on the lock-in's link

    max_current: float  #: configured |I| limit, A (the BiasSource role's attribute)

    LIMITS: ClassVar[dict[str, Limit]] = {
        "max_current_A": Limit("A", 0.1, description="largest |DC bias current|"),
    }
    SETTINGS: ClassVar[dict[str, tuple[Any, Any, str]]] = {
        "aux_output": (int, 1, "SR830 AUX OUT used for the bias (1-4)"),
        "series_resistance_ohm": (float, 1e3, "resistor from AUX OUT to the contact, Ohm"),
        "confirm_set": (bool, False, "read the setting back after each set: the next "
                        "reading on another instrument's link then sees the new bias (a "
                        "network or a busy host can reorder messages on separate links)"),
    }

    def __init__(self, lockin: SR830, name: str | None = None, *, limits: dict | None = None,
                 settings: dict | None = None) -> None:
        self._init_station(settings, limits)
        self.lockin = lockin
        self.name = name or "SR830 aux bias"
        self.max_current = self.safety["max_current_A"]
        self._output = self.settings["aux_output"]
        self._resistance = float(self.settings["series_resistance_ohm"])

    @classmethod
    def check_config(cls, settings, limits):
        """Base checks plus the aux output number and a positive resistor."""
        safety = super().check_config(settings, limits)
        merged = cls.settings_with_defaults(settings)
        if merged["aux_output"] not in (1, 2, 3, 4):
            raise ConfigError(f"aux_output = {merged['aux_output']!r}; allowed: 1, 2, 3, 4",
                              key="settings")
        if not merged["series_resistance_ohm"] > 0:
            raise ConfigError("series_resistance_ohm must be > 0 Ohm", key="settings")
        return safety

    def set_current(self, current: float) -> float:
        """Source ``current`` in A; returns the current really sourced (1 mV aux steps; read
        back from the lock-in with the ``confirm_set`` setting).

        Refused (nothing sent) beyond max_current_A or when I * R exceeds the lock-in's
        aux voltage limit."""
        self.safety.check_abs("max_current_A", current, what="bias current")
        volts = self.lockin.set_aux_voltage(self._output, current * self._resistance)
        if self.settings["confirm_set"]:  # one query: returns once the set is done
            volts = self.lockin.aux_voltage(self._output)
        return volts / self._resistance

    def get_current(self) -> float:
        """The sourced current in A, read back from the aux output setting."""
        return self.lockin.aux_voltage(self._output) / self._resistance

    def zero(self) -> None:
        """Safe state: bias to zero."""
        self.lockin.set_aux_voltage(self._output, 0.0)

    def conversion(self) -> dict[str, Any]:
        """How the current is made, for the run record."""
        return {"source": "SR830 AUX OUT", "aux_output": self._output,
                "series_resistance_ohm": self._resistance,
                "formula": "I_dc = V_aux / series_resistance_ohm",
                "resolution_A": 1e-3 / self._resistance, "units": {"V_aux": "V", "I_dc": "A"}}

    def snapshot(self) -> dict[str, Any]:
        """Limits and the conversion, for the run record."""
        snap = super().snapshot()
        snap.update(self.conversion())
        return snap

    def shutdown(self) -> None:
        """Nothing to close: the link belongs to the lock-in."""
