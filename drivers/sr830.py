"""Stanford Research SR830 lock-in amplifier (Lockin role).

Subclasses pymeasure's SR830 for its many ordinary controls (phase, harmonic, buffer ...)
and replaces what the role needs with checked, cached versions:

* the sine amplitude is refused (nothing sent) above the station limit instead of being
  silently truncated as pymeasure's validator does;
* aux outputs are written with 1 mV resolution (``AUXV i,x.xxx``) and refused beyond the
  limit instead of truncated;
* time constant, slope and sensitivity are cached so :meth:`SR830.settle_time` and the
  procedures' overload check cost no I/O; the cache is refreshed by the setters and by
  :meth:`SR830.refresh_filter` (the SR830 may raise the time constant itself after a
  ``SENS``/``RMOD``/``OFSL`` change, so those setters re-read ``OFLT?``);
* ``OUTX 1`` (GPIB) or ``OUTX 0`` (RS-232) is sent on connect: replies go only to the
  selected interface (one public driver sends ``OUTX 2``, which is wrong);
* the plain reference and input settings are declared as pymeasure controls with refusing
  validators (:mod:`pcsdaq.validators`): a value outside the manual's range raises
  LimitError and sends nothing, where pymeasure's SR830 would clip it;
* ``aux_out_1`` ... ``aux_out_4`` go through :meth:`SR830.set_aux_voltage`, so they keep the
  station's aux limit instead of pymeasure's clipping at 10.5 V.
"""

from __future__ import annotations

import math
import re
from typing import Any, ClassVar

from pymeasure.instruments import Instrument
from pymeasure.instruments.srs.sr830 import SR830 as _PymeasureSR830

from pcsdaq.driver_support import StationDriver, guard_number
from pcsdaq.errors import ConfigError, LimitError, LinkFault
from pcsdaq.limits import Limit
from pcsdaq.roles import LOCKIN_FILTER_SLOPES_DB, lockin_settle_time
from pcsdaq.validators import refusing_choice, refusing_integer_range, refusing_range

#: SENS index -> full-scale sensitivity in V (voltage input)
SENSITIVITIES_V = [m * 10.0 ** e for e in range(-9, 1) for m in (1, 2, 5)][1:-2]
#: OFLT index -> time constant in s
TIME_CONSTANTS_S = [m * 10.0 ** e for e in range(-5, 5) for m in (1, 3)]
#: OFSL index -> slope in dB/oct (the lock-in role's slopes)
SLOPES_DB = list(LOCKIN_FILTER_SLOPES_DB)
#: LIAS? bits meaning an overload (input/reserve, filter, output)
OVERLOAD_BITS = {0: "input", 1: "filter", 2: "output"}
#: LIAS? bit: the reference is unlocked
UNLOCK_BIT = 3
AUX_HARDWARE_V = 10.5
#: sine output amplitude range, V rms
SINE_MIN_V, SINE_MAX_V = 0.004, 5.0


def _nearest_index(table: list[float], value: float) -> int:
    """Index of the table entry nearest ``value`` on a log scale."""
    if not value > 0:
        raise LimitError(f"{value!r} must be a positive number")
    return min(range(len(table)), key=lambda i: abs(math.log(table[i] / value)))


def _aux_output(output: int) -> property:
    """AUX OUT ``output`` as a property through the checked set_aux_voltage/aux_voltage."""
    def fget(self: SR830) -> float:
        return self.aux_voltage(output)

    def fset(self: SR830, volts: float) -> None:
        self.set_aux_voltage(output, volts)

    return property(fget, fset, doc=f"Control AUX OUT {output} in V (1 mV steps; refused "
                                    "beyond max_aux_voltage_V, nothing sent).")


def decode_overload(status: int) -> set[str]:
    """Overload names set in a ``LIAS?`` status byte (empty: no overload)."""
    return {name for bit, name in OVERLOAD_BITS.items() if status & (1 << bit)}


def decode_status(status: int) -> set[str]:
    """Overloads and ``unlock`` set in a ``LIAS?`` status byte (empty: all well)."""
    names = decode_overload(status)
    if status & (1 << UNLOCK_BIT):
        names.add("unlock")
    return names


def _guard_sine(driver: Any, match: re.Match[str]) -> None:
    driver.safety.check_range("max_sine_voltage_V", guard_number(match, "value", "sine"),
                              0.0, "sine amplitude (raw SLVL)")


def _guard_aux(driver: Any, match: re.Match[str]) -> None:
    driver.safety.check_abs("max_aux_voltage_V", guard_number(match, "value", "aux voltage"),
                            what=f"aux output {match.group('out')} (raw AUXV)")


class SR830(StationDriver, _PymeasureSR830):
    """SR830 lock-in: reference, filter, sensitivity, snap of X and Y, aux outputs (SI units)."""

    ROLES = ("lockin",)
    EMULATOR = "sr830"
    MODELS = ("SR830",)

    LIMITS: ClassVar[dict[str, Limit]] = {
        "max_sine_voltage_V": Limit("V", SINE_MAX_V,
                                    description="largest sine output amplitude, rms"),
        "max_aux_voltage_V": Limit("V", AUX_HARDWARE_V, description="largest |aux output|"),
    }
    COMMAND_GUARDS = (
        (re.compile(r"(?i)SLVL\s*(?P<value>\S+)"), _guard_sine),
        (re.compile(r"(?i)AUXV\s*(?P<out>\d)\s*,\s*(?P<value>\S+)"), _guard_aux),
    )
    SETTINGS: ClassVar[dict[str, tuple[Any, Any, str]]] = {
        "interface": (str, "gpib", "interface the replies go to: 'gpib' (OUTX 1) or 'rs232'"),
        "excitation_resistance_ohm": (float, 1e6, "resistor from SINE OUT to the contact, Ohm"),
    }

    # --- plain settings, as in the manual's command table (refused, never clipped) ---------
    frequency = Instrument.control(
        "FREQ?", "FREQ %.4f", """Control the reference frequency in Hz (0.001-102000).""",
        validator=refusing_range("frequency", "Hz"), values=[1e-3, 102e3])
    phase = Instrument.control(
        "PHAS?", "PHAS %.2f", """Control the reference phase shift in degrees (-360-729.99).""",
        validator=refusing_range("phase", "deg"), values=[-360.0, 729.99])
    harmonic = Instrument.control(
        "HARM?", "HARM %d", """Control the detection harmonic (1-19999; harmonic x frequency
        must stay <= 102 kHz, which the lock-in checks itself).""",
        validator=refusing_integer_range("harmonic"), values=[1, 19999], cast=int)
    reference_source = Instrument.control(
        "FMOD?", "FMOD %d", """Control the reference source: 'External' or 'Internal'.""",
        validator=refusing_choice("reference source"),
        values=_PymeasureSR830.REFERENCE_SOURCES, map_values=True)
    reference_source_trigger = Instrument.control(
        "RSLP?", "RSLP %d", """Control the external reference trigger: 'SINE', 'POS EDGE' or
        'NEG EDGE'.""",
        validator=refusing_choice("reference trigger"),
        values=_PymeasureSR830.REFERENCE_SOURCE_TRIGGER, map_values=True)
    input_config = Instrument.control(
        "ISRC?", "ISRC %d", """Control the input: 'A', 'A - B', 'I (1 MOhm)' or
        'I (100 MOhm)'.""",
        validator=refusing_choice("input configuration"),
        values=_PymeasureSR830.INPUT_CONFIGS, map_values=True)
    input_grounding = Instrument.control(
        "IGND?", "IGND %d", """Control the input shield grounding: 'Float' or 'Ground'.""",
        validator=refusing_choice("input grounding"),
        values=_PymeasureSR830.INPUT_GROUNDINGS, map_values=True)
    input_coupling = Instrument.control(
        "ICPL?", "ICPL %d", """Control the input coupling: 'AC' or 'DC'.""",
        validator=refusing_choice("input coupling"),
        values=_PymeasureSR830.INPUT_COUPLINGS, map_values=True)
    input_notch_config = Instrument.control(
        "ILIN?", "ILIN %d", """Control the line notch filters: 'None', 'Line', '2 x Line' or
        'Both'.""",
        validator=refusing_choice("notch filter"),
        values=_PymeasureSR830.INPUT_NOTCH_CONFIGS, map_values=True)
    filter_synchronous = Instrument.control(
        "SYNC?", "SYNC %d", """Control the synchronous filter below 200 Hz (bool).""",
        validator=refusing_choice("synchronous filter"), values={True: 1, False: 0},
        map_values=True)
    aux_out_1, aux_out_2, aux_out_3, aux_out_4 = (_aux_output(n) for n in (1, 2, 3, 4))

    def __init__(self, adapter: Any, name: str | None = None, *, limits: dict | None = None,
                 settings: dict | None = None, **visa_kwargs: Any) -> None:
        self._init_station(settings, limits)
        # replies end in LF on GPIB and CR on RS-232 (manual p. 5-2)
        reply_end = "\r" if self.settings["interface"] == "rs232" else "\n"
        self.visa_defaults(adapter, visa_kwargs, read_termination=reply_end,
                           write_termination="\n")
        super().__init__(adapter, name or "SR830 lock-in", **visa_kwargs)
        self.tune_link()
        self.write(f"OUTX {1 if self.settings['interface'] == 'gpib' else 0}")
        self._sine_voltage = self.ask_float("SLVL?")
        self.refresh_filter()

    @classmethod
    def check_config(cls, settings, limits):
        """Base checks plus the interface name and a positive excitation resistor."""
        safety = super().check_config(settings, limits)
        merged = cls.settings_with_defaults(settings)
        if merged["interface"] not in ("gpib", "rs232"):
            raise ConfigError(f"interface = {merged['interface']!r}; allowed: gpib, rs232",
                              key="settings")
        if not merged["excitation_resistance_ohm"] > 0:
            raise ConfigError("excitation_resistance_ohm must be > 0 Ohm", key="settings")
        return safety

    # --- cached filter state ------------------------------------------------------------
    def refresh_filter(self) -> None:
        """Re-read time constant, slope and sensitivity into the cache (3 queries)."""
        self._tau_index = self.ask_int("OFLT?")
        self._slope_index = self.ask_int("OFSL?")
        self._sens_index = self.ask_int("SENS?")

    @property
    def time_constant(self) -> float:
        """Control the output filter time constant in s (nearest of the OFLT table; cached)."""
        return TIME_CONSTANTS_S[self._tau_index]

    @time_constant.setter
    def time_constant(self, seconds: float) -> None:
        index = _nearest_index(TIME_CONSTANTS_S, seconds)
        self.write(f"OFLT {index}")
        self._tau_index = index

    @property
    def filter_slope(self) -> int:
        """Control the output filter slope in dB/oct: 6, 12, 18 or 24 (cached)."""
        return SLOPES_DB[self._slope_index]

    @filter_slope.setter
    def filter_slope(self, db_per_oct: int) -> None:
        if db_per_oct not in SLOPES_DB:
            raise LimitError(f"filter slope {db_per_oct!r} dB/oct; allowed: 6, 12, 18, 24")
        self.write(f"OFSL {SLOPES_DB.index(db_per_oct)}")
        self._slope_index = SLOPES_DB.index(db_per_oct)
        self._tau_index = self.ask_int("OFLT?")

    @property
    def sensitivity(self) -> float:
        """Control the full-scale sensitivity in V (nearest of the SENS table; cached)."""
        return SENSITIVITIES_V[self._sens_index]

    @sensitivity.setter
    def sensitivity(self, volts: float) -> None:
        self._set_sensitivity_index(_nearest_index(SENSITIVITIES_V, volts))

    def _set_sensitivity_index(self, index: int) -> None:
        self.write(f"SENS {index}")
        self._sens_index = index
        self._tau_index = self.ask_int("OFLT?")

    def sensitivity_up(self) -> float:
        """Step to the next coarser sensitivity (after an overload); returns it in V."""
        if self._sens_index >= len(SENSITIVITIES_V) - 1:
            raise LimitError("SR830 already at its coarsest sensitivity (1 V)")
        self._set_sensitivity_index(self._sens_index + 1)
        return self.sensitivity

    def sensitivity_down(self) -> float:
        """Step to the next finer sensitivity; returns it in V."""
        if self._sens_index <= 0:
            raise LimitError("SR830 already at its finest sensitivity (2 nV)")
        self._set_sensitivity_index(self._sens_index - 1)
        return self.sensitivity

    def settle_time(self, factor: float = 1.0, accuracy: float | None = None) -> float:
        """Time in s for the output filter to settle after a step (no I/O).

        Without ``accuracy``: 5/7/9/10 time constants for 6/12/18/24 dB/oct, times
        ``factor``; with ``accuracy`` (e.g. 1e-3): the exact n-pole time, times ``factor``."""
        return lockin_settle_time(self.time_constant, self.filter_slope, factor, accuracy)

    # --- reference ----------------------------------------------------------------------
    @property
    def sine_voltage(self) -> float:
        """Control the sine output amplitude in V rms (0.004-5 V, <= max_sine_voltage_V)."""
        return self._sine_voltage

    @sine_voltage.setter
    def sine_voltage(self, volts: float) -> None:
        self.safety.check_range("max_sine_voltage_V", volts, low=SINE_MIN_V,
                                what="sine amplitude")
        self.write(f"SLVL {volts:.3f}")
        self._sine_voltage = round(volts, 3)

    def ac_current(self) -> float:
        """AC excitation current in A rms: sine amplitude / excitation resistor (no I/O)."""
        return self._sine_voltage / self.settings["excitation_resistance_ohm"]

    # --- measurement --------------------------------------------------------------------
    def read_xy(self) -> tuple[float, float]:
        """Measure X and Y in V at one instant (one ``SNAP? 1,2`` query)."""
        reply = self.ask("SNAP? 1,2")
        try:
            x, y = (float(v) for v in reply.strip().split(","))
        except ValueError as exc:
            raise LinkFault(f"SR830 SNAP? reply not understood (garbled?): {reply!r}") from exc
        return x, y

    def overload_status(self) -> set[str]:
        """Overloads latched since the last read (``LIAS?``): input, filter, output."""
        return decode_overload(self.ask_int("LIAS?"))

    def status(self) -> set[str]:
        """Overloads and ``unlock`` latched since the last read (one ``LIAS?``)."""
        return decode_status(self.ask_int("LIAS?"))

    def is_overloaded(self) -> bool:
        """True when the input, filter or output overload bit is set (reads ``LIAS?``)."""
        return bool(self.overload_status())

    def safe_state(self) -> None:
        """Safe state: the sine output to its minimum (4 mV rms)."""
        self.sine_voltage = SINE_MIN_V

    # --- aux outputs --------------------------------------------------------------------
    def set_aux_voltage(self, output: int, volts: float) -> float:
        """Set AUX OUT ``output`` (1-4) to ``volts`` with 1 mV resolution; returns what was set."""
        if output not in (1, 2, 3, 4):
            raise LimitError(f"aux output {output!r}; allowed: 1-4")
        self.safety.check_abs("max_aux_voltage_V", volts, what=f"aux output {output}")
        self.write(f"AUXV {output},{volts:.3f}")
        return round(volts, 3)

    def aux_voltage(self, output: int) -> float:
        """Read AUX OUT ``output`` (1-4) in V."""
        if output not in (1, 2, 3, 4):
            raise LimitError(f"aux output {output!r}; allowed: 1-4")
        return self.ask_float(f"AUXV? {output}")

    def snapshot(self) -> dict[str, Any]:
        """Settings for the run record (queries the reference; filter from the cache)."""
        snap = super().snapshot()
        snap.update(frequency_Hz=self.frequency, sine_voltage_V=self.sine_voltage,
                    time_constant_s=self.time_constant, filter_slope_dB=self.filter_slope,
                    sensitivity_V=self.sensitivity, interface=self.settings["interface"],
                    excitation_resistance_ohm=self.settings["excitation_resistance_ohm"])
        return snap
