"""Oxford Instruments MercuryiPS emulator on the shared magnet (the Z group).

SCPI-like tree, LF framing, case-sensitive: ``READ:DEV:GRPZ:PSU:SIG:FLD`` ->
``STAT:DEV:GRPZ:PSU:SIG:FLD:1.2345T``; ``SET:DEV:GRPZ:PSU:SIG:FSET:1.0`` ->
``STAT:SET:DEV:GRPZ:PSU:SIG:FSET:1.0000:VALID``. Bad values answer ``INVALID``, unknown
paths ``NOT_FOUND``, a ramp while quenched or clamped ``DENIED``. The status word
(``READ:DEV:GRPZ:PSU:STAT``) has bit 0 set after a quench.

The syntax follows the firmware the supply reports (``*IDN?``, ``READ:SYS:VRSN``): before
2.6 the power-supply node is ``PSU``, from 2.6 on ``SPSU`` (docs/instruments.md); the other node
is NOT_FOUND. The firmware is a setting (station file ``sim: mercury_firmware``, default
:data:`DEFAULT_FIRMWARE`, PSU syntax, which the public drivers speak), as is the magnet
(``sim: mercury_axes``: "XYZ", a vector magnet with groups GRPX/GRPY/GRPZ, the default,
which clients such as QCoDeS' MercuryiPS read at connect; or "Z", a solenoid: then an
absent group is NOT_FOUND). X and Y are magnets of their own inside the emulator; Z is the
lab's magnet that the other supplies drive too. A ramp that reaches its set point (or
zero) goes back to HOLD, which clients wait for. The temperature boards a Mercury iPS
carries answer ``READ:DEV:<board>:TEMP:SIG:TEMP`` (MB1.T1 magnet 4.2 K, DB8.T1 PT1 stage
45 K, DB7.T1 PT2 stage 3.5 K).
"""

from __future__ import annotations

import math
from typing import ClassVar

from pcsdaq.sim.emulators.base import Emulator
from pcsdaq.sim.magnet import HOLDING, PAUSED, QUENCH, RAMPING, ZEROING, Magnet

DEFAULT_FIRMWARE = "2.5.09.000"
#: signal -> unit in READ replies
UNITS = {"FLD": "T", "PFLD": "T", "FSET": "T", "RFST": "T/m", "CURR": "A", "PCUR": "A",
         "CSET": "A", "RCST": "A/m", "VOLT": "V"}
MAX_FIELD_T = 7.0
#: temperature boards -> K (a cold magnet on a pulse-tube cryostat)
TEMPERATURE_BOARDS = {"MB1.T1": 4.2, "DB8.T1": 45.0, "DB7.T1": 3.5}


def finite(text: str) -> float:
    """A finite number from a parameter (ValueError for nan/inf, as for text)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def firmware_at_least(version: str, major: int, minor: int) -> bool:
    """True when a firmware string like "2.6.04.000" is major.minor or later."""
    try:
        parts = [int(p) for p in version.split(".")[:2]]
    except ValueError:
        return False
    return tuple(parts + [0] * (2 - len(parts))) >= (major, minor)


class _Group:
    """One magnet group's supply settings."""

    def __init__(self, magnet: Magnet) -> None:
        self.magnet = magnet
        self.fset = 0.0
        self.rfst = 0.1
        self.switch_heater = False
        self.clamped = False


class MercuryIPSEmulator(Emulator):
    """MercuryiPS: field, set point, rate, switch heater, HOLD/RTOS/RTOZ/CLMP per group."""

    name = "mercury"
    command_terminators = ("\n", "\r\n")
    reply_terminator = "\n"
    COMMANDS: ClassVar[dict[str, str]] = {
        "*IDN?": "identification: IDN:OXFORD INSTRUMENTS:MERCURY IPS:<serial>:<firmware>",
        "READ:SYS:CAT": "device catalogue (the groups present)",
        "READ:SYS:VRSN": "firmware version",
        "READ:DEV:GRPZ:PSU:SIG:FLD": "output field, T (pre-2.6 node PSU; 2.6+ SPSU)",
        "READ:DEV:GRPZ:PSU:SIG:PFLD": "persistent field, T",
        "READ:DEV:GRPZ:PSU:SIG:FSET": "field set point, T",
        "READ:DEV:GRPZ:PSU:SIG:RFST": "field sweep rate, T/min",
        "READ:DEV:GRPZ:PSU:SIG:CURR": "output current, A",
        "READ:DEV:GRPZ:PSU:SIG:PCUR": "persistent current, A",
        "READ:DEV:GRPZ:PSU:SIG:CSET": "current set point, A",
        "READ:DEV:GRPZ:PSU:SIG:RCST": "current sweep rate, A/min",
        "READ:DEV:GRPZ:PSU:SIG:VOLT": "output voltage, V",
        "READ:DEV:GRPZ:PSU:SIG:SWHT": "switch heater ON/OFF",
        "READ:DEV:GRPZ:PSU:ACTN": "action HOLD/RTOS/RTOZ/CLMP",
        "READ:DEV:GRPZ:PSU:STAT": "status word (hex; bit 0 quench)",
        "READ:DEV:GRPZ:PSU:ATOB": "amps per tesla",
        "SET:DEV:GRPZ:PSU:SIG:FSET": "field set point, T",
        "SET:DEV:GRPZ:PSU:SIG:RFST": "field sweep rate, T/min",
        "SET:DEV:GRPZ:PSU:SIG:CSET": "current set point, A",
        "SET:DEV:GRPZ:PSU:SIG:RCST": "current sweep rate, A/min",
        "SET:DEV:GRPZ:PSU:SIG:SWHT": "switch heater ON/OFF",
        "SET:DEV:GRPZ:PSU:ACTN": "action HOLD/RTOS/RTOZ/CLMP",
        "READ:DEV:GRPX:PSU:SIG:FLD": "X group (vector magnet): every GRPZ path on GRPX/GRPY",
        "READ:DEV:MB1.T1:TEMP:SIG:TEMP": "magnet temperature, K (also DB8.T1, DB7.T1)",
    }
    NOT_IMPLEMENTED: ClassVar[dict[str, str]] = {
        "SET:DEV:GRPZ:PSU:SIG:CLIM": "current limits are set in the station file",
    }

    def __init__(self, lab) -> None:
        super().__init__(lab)
        cfg = getattr(lab, "config", {}) or {}
        self.firmware = str(cfg.get("mercury_firmware", DEFAULT_FIRMWARE))
        axes = str(cfg.get("mercury_axes", "XYZ")).upper()
        self.groups = {f"GRP{a}": _Group(lab.magnet if a == "Z" else Magnet(lab))
                       for a in axes if a in "XYZ"}
        if "GRPZ" not in self.groups:
            self.groups["GRPZ"] = _Group(lab.magnet)

    @property
    def psu_node(self) -> str:
        """The power-supply node of this firmware: PSU before 2.6, SPSU from 2.6 on."""
        return "SPSU" if firmware_at_least(self.firmware, 2, 6) else "PSU"

    # kept for callers of the single-group emulator
    @property
    def fset(self) -> float:
        """Z group field set point, T."""
        return self.groups["GRPZ"].fset

    @property
    def switch_heater(self) -> bool:
        """Z group switch heater."""
        return self.groups["GRPZ"].switch_heater

    def idn(self) -> str:
        """Identification string with the configured firmware."""
        return f"IDN:OXFORD INSTRUMENTS:MERCURY IPS:SIM0001:{self.firmware}"

    def _group(self, path: str) -> tuple[_Group | None, str]:
        """(group, rest of the path after DEV:GRPn:<psu node>:) or (None, "")."""
        parts = path.split(":", 3)
        if len(parts) < 4 or parts[0] != "DEV" or parts[2] != self.psu_node:
            return None, ""
        return self.groups.get(parts[1]), parts[3]

    def _action(self, group: _Group) -> str:
        magnet = group.magnet
        magnet.field()  # advance the ramp first
        if group.clamped:
            return "CLMP"
        return {RAMPING: "RTOS", HOLDING: "HOLD", ZEROING: "RTOZ", PAUSED: "HOLD",
                QUENCH: "HOLD"}.get(magnet.state, "HOLD")

    def _signal(self, group: _Group, sig: str) -> str | None:
        magnet = group.magnet
        if sig == "SWHT":
            return "ON" if group.switch_heater else "OFF"
        if sig not in UNITS:
            return None
        ramping = magnet.state in (RAMPING, ZEROING)
        values = {"FLD": magnet.field(), "PFLD": magnet.field(), "FSET": group.fset,
                  "RFST": group.rfst, "CURR": magnet.current(), "PCUR": magnet.current(),
                  "CSET": group.fset / magnet.coil, "RCST": group.rfst / magnet.coil,
                  "VOLT": 0.05 if ramping else 0.0}
        return f"{values[sig]:.4f}{UNITS[sig]}"

    def handle(self, message: str) -> str | None:
        """One command line -> one STAT reply (the Mercury answers every line)."""
        text = message.strip()
        if not text:
            return None
        if text == "*IDN?":
            return self.idn()
        if text.startswith("READ:"):
            return self._read(text[len("READ:"):])
        if text.startswith("SET:"):
            return self._set(text[len("SET:"):])
        return f"STAT:{text}:INVALID"

    def _read(self, path: str) -> str:
        if path == "SYS:CAT":
            devs = ":".join(f"DEV:{g}:{self.psu_node}" for g in sorted(self.groups))
            return f"STAT:SYS:CAT:{devs}"
        if path == "SYS:VRSN":
            return f"STAT:SYS:VRSN:{self.firmware}"
        board = path.rstrip("?")
        for name, kelvin in TEMPERATURE_BOARDS.items():
            if board == f"DEV:{name}:TEMP:SIG:TEMP":
                return f"STAT:{board}:{kelvin:.4f}K"
        group, rest = self._group(path)
        if group is not None:
            if rest == "ACTN":
                return f"STAT:{path}:{self._action(group)}"
            if rest == "STAT":
                return f"STAT:{path}:{1 if group.magnet.quenched else 0:08X}"
            if rest == "ATOB":
                return f"STAT:{path}:{1.0 / group.magnet.coil:.4f}A/T"
            if rest.startswith("SIG:"):
                value = self._signal(group, rest[len("SIG:"):])
                if value is not None:
                    return f"STAT:{path}:{value}"
        return f"STAT:{path}:NOT_FOUND"

    def _set(self, path: str) -> str:
        head, _, value = path.rpartition(":")
        reply = f"STAT:SET:{path}"
        group, rest = self._group(head)
        if group is None:
            return f"{reply}:NOT_FOUND"
        magnet = group.magnet
        try:
            if rest == "SIG:FSET":
                v = finite(value)
                if abs(v) > MAX_FIELD_T:
                    return f"{reply}:INVALID"
                group.fset = v
            elif rest == "SIG:CSET":
                v = finite(value) * magnet.coil
                if abs(v) > MAX_FIELD_T:
                    return f"{reply}:INVALID"
                group.fset = v
            elif rest in ("SIG:RFST", "SIG:RCST"):
                v = finite(value) * (magnet.coil if rest == "SIG:RCST" else 1.0)
                if not 0 < v <= 1.0:
                    return f"{reply}:INVALID"
                group.rfst = v
            elif rest == "SIG:SWHT":
                if value not in ("ON", "OFF"):
                    return f"{reply}:INVALID"
                group.switch_heater = value == "ON"
            elif rest == "ACTN":
                return self._set_action(group, value, reply)
            else:
                return f"{reply}:NOT_FOUND"
        except ValueError:
            return f"{reply}:INVALID"
        return f"{reply}:VALID"

    def _set_action(self, group: _Group, value: str, reply: str) -> str:
        magnet = group.magnet
        if value not in ("HOLD", "RTOS", "RTOZ", "CLMP"):
            return f"{reply}:INVALID"
        if value in ("RTOS", "RTOZ") and (magnet.quenched or group.clamped):
            return f"{reply}:DENIED"  # from CLMP the supply must go HOLD first
        group.clamped = value == "CLMP"
        magnet.rate = group.rfst
        if value == "RTOS":
            magnet.target = group.fset
            magnet.ramp()
        elif value == "RTOZ":
            magnet.zero()
        else:
            magnet.pause()
        return f"{reply}:VALID"
