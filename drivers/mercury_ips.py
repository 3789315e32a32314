"""Oxford Instruments MercuryiPS magnet supply (Magnet role), TCP port 7020, LF, SCPI-like.

Every command is answered: ``READ:DEV:GRPZ:PSU:SIG:FLD`` -> ``STAT:DEV:GRPZ:PSU:SIG:FLD:1.2345T``,
``SET:...:FSET:1.0`` -> ``STAT:SET:...:FSET:1.0000:VALID``. Replies ending INVALID, NOT_FOUND,
N/A or DENIED raise InstrumentError naming the command. The supply has one sweep rate (RFST),
so ramp_to uses the slowest table rate on the path (capped at ``rate``).

The power-supply node depends on the firmware: ``PSU`` before 2.6, ``SPSU`` from 2.6 on
(docs/instruments.md). With setting ``psu_node: auto`` (the default) the driver asks ``*IDN?``
at connect (``IDN:OXFORD INSTRUMENTS:MERCURY IPS:<serial>:<firmware>``) and picks it;
``PSU`` or ``SPSU`` fixes it. ``axis`` (X, Y or Z) names the group of a vector magnet.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pymeasure.instruments import Instrument

from pcsdaq.driver_support import guard_number, refuse_command
from pcsdaq.drivers._magnet_common import MagnetDriverBase, max_rate_on_path
from pcsdaq.errors import ConfigError, InstrumentError, LimitError, LinkFault, QuenchError

PSU = "DEV:GRPZ:PSU"  #: the pre-2.6 Z-group path (the default before detection)
ERROR_WORDS = ("INVALID", "NOT_FOUND", "N/A", "DENIED")
ACTIONS = {"HOLD": "holding", "RTOS": "ramping", "RTOZ": "zeroing", "CLMP": "clamped"}
_NUMBER = re.compile(r"^([-+0-9.eE]+)([A-Za-z/]*)$")


def firmware_at_least(version: str, major: int, minor: int) -> bool:
    """True when a firmware string like "2.6.04.000" is major.minor or later."""
    try:
        parts = [int(p) for p in version.split(".")[:2]]
    except ValueError:
        return False
    return tuple(parts + [0] * (2 - len(parts))) >= (major, minor)


def parse_value(reply: str) -> tuple[float, str]:
    """(value, unit) from the last field of a STAT reply, e.g. '...:FLD:1.2345T' -> (1.2345,
    'T')."""
    match = _NUMBER.match(reply.rsplit(":", 1)[-1].strip())
    if not match:
        raise LinkFault(f"MercuryIPS: cannot parse a number from {reply!r} (garbled?)")
    return float(match.group(1)), match.group(2)


def _guard_fset(driver: Any, match: re.Match[str]) -> None:
    driver.safety.check_abs("max_field_T", guard_number(match, "value", "field"),
                            what="target field (raw FSET)")


def _guard_rfst(driver: Any, match: re.Match[str]) -> None:
    rate = guard_number(match, "value", "sweep rate")
    start, end = getattr(driver, "_ramp_path", None) or (0.0, driver.max_field)
    allowed = max_rate_on_path(driver.ramp_table, start, end)
    if not 0 < rate <= allowed:
        raise LimitError(f"{driver.name}: sweep rate {rate:g} T/min (raw RFST) refused, the "
                         f"table allows 0 < rate <= {allowed:g} T/min between {start:g} and "
                         f"{end:g} T; nothing was sent")


class MercuryIPS(MagnetDriverBase, Instrument):
    """MercuryiPS Z-group supply: field in T, rate in T/min, switch heater, HOLD/RTOS/RTOZ."""

    ROLES = ("magnet",)
    EMULATOR = "mercury"
    MODELS = ("MercuryiPS",)

    #: Status-word bit taken as "quenched" in READ:DEV:GRPZ:PSU:STAT (unconfirmed vs a manual).
    QUENCH_MASK: ClassVar[int] = 0x1
    COMMAND_GUARDS = (
        (re.compile(r"(?i)SET:DEV:GRP[XYZ]:S?PSU:SIG:FSET:(?P<value>[^:\s]+?)(?:T)?"), _guard_fset),
        (re.compile(r"(?i)SET:DEV:GRP[XYZ]:S?PSU:SIG:RFST:(?P<value>[^:\s]+?)(?:T/m)?"),
         _guard_rfst),
        (re.compile(r"(?i)SET:DEV:GRP[XYZ]:S?PSU:SIG:(?:CSET|RCST):.*"),
         refuse_command("a current set point or rate bypasses the field limits; use ramp_to")),
    )

    SETTINGS: ClassVar[dict[str, tuple[Any, Any, str]]] = {
        **MagnetDriverBase.SETTINGS,
        "psu_node": (str, "auto", "'auto' (from the firmware in *IDN?), 'PSU' (< 2.6) or 'SPSU'"),
        "axis": (str, "Z", "magnet group: X, Y or Z (a solenoid has Z only)"),
    }

    @classmethod
    def check_config(cls, settings, limits):
        """Magnet checks plus psu_node and axis values."""
        safety = super().check_config(settings, limits)
        merged = cls.settings_with_defaults(settings)
        if merged["psu_node"] not in ("auto", "PSU", "SPSU"):
            raise ConfigError(f"psu_node = {merged['psu_node']!r} must be auto, PSU or SPSU",
                              key="settings")
        if merged["axis"] not in ("X", "Y", "Z"):
            raise ConfigError(f"axis = {merged['axis']!r} must be X, Y or Z", key="settings")
        return safety

    def __init__(self, adapter: Any, name: str | None = None, *, limits: dict | None = None,
                 settings: dict | None = None, **visa_kwargs: Any) -> None:
        self._init_station(settings, limits)
        visa_kwargs.setdefault("read_termination", "\n")
        visa_kwargs.setdefault("write_termination", "\n")
        super().__init__(adapter, name or "Oxford MercuryiPS", includeSCPI=False, **visa_kwargs)
        self.tune_link()
        node = self.settings["psu_node"]
        self.firmware = ""
        if node == "auto":
            self.firmware = self.ask("*IDN?").strip().rsplit(":", 1)[-1]
            node = "SPSU" if firmware_at_least(self.firmware, 2, 6) else "PSU"
        #: READ/SET path of the supply, e.g. DEV:GRPZ:PSU (pre-2.6) or DEV:GRPZ:SPSU
        self.psu = f"DEV:GRP{self.settings['axis']}:{node}"

    def query(self, command: str) -> str:
        """Send a READ/SET command and return the reply; InstrumentError on an error word."""
        reply = self.ask(command).strip()
        if reply.endswith(ERROR_WORDS):
            raise InstrumentError(f"MercuryIPS refused {command!r}: {reply!r}")
        if not reply.startswith("STAT:"):
            raise LinkFault(f"MercuryIPS: reply to {command!r} not understood (garbled?): "
                            f"{reply!r}")
        return reply

    def read_signal(self, signal: str) -> float:
        """A PSU signal (FLD, PFLD, CURR, PCUR, VOLT, CSET, RCST, RFST, FSET) as a number."""
        return parse_value(self.query(f"READ:{self.psu}:SIG:{signal}"))[0]

    def set_signal(self, signal: str, value: float) -> None:
        """SET a PSU signal; the reply must end VALID."""
        reply = self.query(f"SET:{self.psu}:SIG:{signal}:{value:.4f}")
        if not reply.endswith("VALID"):
            raise InstrumentError(f"MercuryIPS: SET {signal} gave {reply!r}")

    def read_field(self) -> float:
        """Magnet (lead) field in T."""
        return self.read_signal("FLD")

    def persistent_field(self) -> float:
        """Persistent field in T (PFLD)."""
        return self.read_signal("PFLD")

    def action(self) -> str:
        """Present action word: HOLD, RTOS, RTOZ or CLMP."""
        return self.query(f"READ:{self.psu}:ACTN").rsplit(":", 1)[-1]

    def set_action(self, word: str) -> None:
        """SET the action (HOLD, RTOS, RTOZ, CLMP)."""
        self.query(f"SET:{self.psu}:ACTN:{word}")

    def switch_heater_on(self) -> bool:
        """Switch heater state (SWHT ON/OFF)."""
        return self.query(f"READ:{self.psu}:SIG:SWHT").endswith("ON")

    def set_switch_heater(self, on: bool) -> None:
        """Switch heater ON/OFF; wait switch_heat/cool_time_s after."""
        self.query(f"SET:{self.psu}:SIG:SWHT:{'ON' if on else 'OFF'}")

    def is_quenched(self) -> bool:
        """Quench flag from the PSU status word (bit QUENCH_MASK; unconfirmed)."""
        word = self.query(f"READ:{self.psu}:STAT").rsplit(":", 1)[-1]
        try:
            return bool(int(word, 16) & self.QUENCH_MASK)
        except ValueError:
            return "QUENCH" in word.upper()

    def state(self) -> str:
        """State word: holding, ramping, zeroing, clamped (from ACTN)."""
        act = self.action()
        return ACTIONS.get(act, act.lower())

    def is_holding(self) -> bool:
        """True in HOLD, or in RTOS with the field at the set point (within 0.1 mT)."""
        act = self.action()
        if act == "HOLD":
            return True
        return act == "RTOS" and abs(self.read_field() - self.read_signal("FSET")) < 1e-4

    def ramp_to(self, field: float, rate: float | None = None) -> None:
        """Set FSET and RFST, then RTOS (HOLD first from CLMP). Refusals send no SET.

        Before refusing, queries the status word (quench), SWHT (if persistent_switch) and
        FLD (for the rate table along the path)."""
        self.safety.check_abs("max_field_T", field, "target field")
        if self.is_quenched():
            raise QuenchError("MercuryIPS: quench reported; nothing was sent")
        if self.settings["persistent_switch"] and not self.switch_heater_on():
            raise InstrumentError("MercuryIPS: persistent switch heater is off; nothing was sent")
        start = self.read_field()
        self._check_rate(start, field, rate)
        self._ramp_path = (start, field)  # the RFST guard checks the rate on this path
        use = max_rate_on_path(self.ramp_table, start, field)
        if rate is not None:
            use = min(use, rate)
        self.set_signal("FSET", field)
        self.set_signal("RFST", use)
        if self.action() == "CLMP":
            self.set_action("HOLD")
        self.set_action("RTOS")

    def hold(self) -> None:
        """Safe state: ACTN HOLD."""
        self.set_action("HOLD")

    def safe_state(self) -> None:
        """Alias of hold()."""
        self.hold()

    def snapshot(self) -> dict[str, Any]:
        """Settings, limits, ramp table, set point and rate."""
        snap = super().snapshot()
        snap.update(settings=dict(self.settings), ramp_table=self.ramp_table,
                    fset_T=self.read_signal("FSET"), rfst_T_per_min=self.read_signal("RFST"))
        return snap
