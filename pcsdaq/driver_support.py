"""What every pcsdaq driver adds to the pymeasure Instrument idiom.

A driver class mixes in :class:`StationDriver` and declares:

* ``ROLES``, ``EMULATOR``, ``MODELS`` (and ``USES`` for a driver riding on another role's
  link): what it fills, which emulator of the simulated lab speaks its command set, which
  models it talks to; :mod:`pcsdaq.drivers.registry` derives every driver table from them;
* ``LIMITS``: safety limits (key -> :class:`~pcsdaq.limits.Limit`) it enforces;
* ``SETTINGS``: the station-file settings it accepts (key -> (type, default, doc)).

The station calls :meth:`StationDriver.check_config` for every role *before* any instrument
is opened (no I/O), then constructs ``Driver(adapter, name=..., limits=..., **settings)``.
"""

from __future__ import annotations

import math
import re
import socket
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pcsdaq.errors import RAW_LINK_ERRORS, ConfigError, LimitError, LinkFault
from pcsdaq.limits import Limit, SafetyLimits

#: one command guard: (pattern matched against each ';'-separated command, check(driver,
#: match) raising LimitError). See StationDriver.guard_command.
CommandGuard = tuple[re.Pattern[str], Callable[[Any, re.Match[str]], None]]


def guard_number(match: re.Match[str], group: int | str, what: str) -> float:
    """The number in ``match`` group ``group`` of a raw command; LimitError (nothing sent)
    when it is not a finite number."""
    text = match.group(group)
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise LimitError(f"{what} {text!r} in {match.group(0)!r} is not a number; "
                         "nothing was sent") from None
    if not math.isfinite(value):
        raise LimitError(f"{what} {text!r} in {match.group(0)!r} is not finite; nothing was sent")
    return value


def refuse_command(why: str) -> Callable[[Any, re.Match[str]], None]:
    """A guard that refuses a raw command outright (one the driver never sends and whose
    limit it cannot check, e.g. a magnet current target that bypasses the field limit)."""
    def check(driver: Any, match: re.Match[str]) -> None:
        raise LimitError(f"{driver._owner()}: raw {match.group(0)!r} refused ({why}); "
                         "nothing was sent")
    return check


def parse_reply(reply: str, command: str, cast: Callable[[str], Any], owner: str) -> Any:
    """``cast(reply)``; a reply that does not parse is a garbled one (LinkFault, retried)."""
    try:
        return cast(reply.strip())
    except (TypeError, ValueError):
        raise LinkFault(f"{owner}: reply to {command!r} not understood (garbled?): "
                        f"{reply!r}") from None


class StationDriver:
    """Mixin for drivers usable in a station file (limits, settings, snapshot)."""

    # pymeasure's CommonBase.__getattribute__ runs ~3 Python calls on every attribute read
    # (self.adapter, self.write ...) to refuse reading the reserved names of dynamic
    # properties. pcsdaq drivers declare no dynamic property (a test checks that
    # _special_names is empty for every driver), so the guard never fires; the plain lookup
    # saves ~10 us per sweep point of three transactions (benchmarks/bench_sweep.py).
    __getattribute__ = object.__getattribute__

    #: station roles this driver can fill (see pcsdaq.roles.ROLE_PROTOCOLS)
    ROLES: ClassVar[tuple[str, ...]] = ()
    #: name of the simulated lab's emulator for it (None: none, or no link of its own)
    EMULATOR: ClassVar[str | None] = None
    #: instrument models it talks to
    MODELS: ClassVar[tuple[str, ...]] = ()
    #: role whose instrument it rides on instead of opening a link (None: its own link)
    USES: ClassVar[str | None] = None

    LIMITS: ClassVar[dict[str, Limit]] = {}
    #: setting key -> (accepted type or tuple of types, default, description with unit)
    SETTINGS: ClassVar[dict[str, tuple[Any, Any, str]]] = {}

    safety: SafetyLimits
    settings: dict[str, Any]

    if TYPE_CHECKING:  # what the station relies on; pymeasure's Instrument provides them
        adapter: Any

        def __init__(self, adapter: Any, name: str | None = None, **kwargs: Any) -> None: ...

        def ask(self, command: str) -> str: ...

    #: raw commands with a safety meaning, checked on every write (see guard_command)
    COMMAND_GUARDS: ClassVar[tuple[CommandGuard, ...]] = ()

    # --- the link: every byte goes through here ------------------------------------------
    def guard_command(self, command: str) -> None:
        """Refuse (LimitError, nothing sent) a raw command whose value breaks a limit.

        Every write of a driver passes here, the checked setters' and a raw
        ``write("SLVL 9")`` or ``command("seta 3 150")`` alike, so no path to the
        instrument skips the limits. Each ';'-separated command is matched against the
        class's ``COMMAND_GUARDS`` (queries, whose head holds a '?', are not)."""
        if not self.COMMAND_GUARDS:
            return
        for part in command.split(";"):
            part = part.strip()
            if "?" in part.split(None, 1)[0] if part else True:
                continue  # a query changes nothing
            for pattern, check in self.COMMAND_GUARDS:
                match = pattern.fullmatch(part)
                if match is not None:
                    check(self, match)

    def _owner(self) -> str:
        return str(getattr(self, "name", None) or type(self).__name__)

    def write(self, command: str, **kwargs: Any) -> None:
        """Write one command after :meth:`guard_command`; a failed link raises LinkFault."""
        self.guard_command(command)
        try:
            super().write(command, **kwargs)  # type: ignore[misc]
        except RAW_LINK_ERRORS as exc:
            raise LinkFault(f"{self._owner()}: {command!r} not sent: "
                            f"{type(exc).__name__}: {exc}") from exc

    def read(self, **kwargs: Any) -> str:
        """Read one reply; a timeout or dropped link raises LinkFault."""
        try:
            return super().read(**kwargs)  # type: ignore[misc]
        except RAW_LINK_ERRORS as exc:
            raise LinkFault(f"{self._owner()}: no reply: {type(exc).__name__}: {exc}") from exc

    def ask_float(self, command: str) -> float:
        """``float`` of the reply to ``command``; a garbled reply raises LinkFault."""
        return parse_reply(self.ask(command), command, float, self._owner())

    def ask_int(self, command: str) -> int:
        """``int`` of the reply to ``command``; a garbled reply raises LinkFault."""
        return parse_reply(self.ask(command), command,
                           lambda text: int(float(text)), self._owner())

    @classmethod
    def check_config(
        cls, settings: Mapping[str, Any] | None, limits: Mapping[str, float] | None
    ) -> SafetyLimits:
        """Validate a station entry without I/O; return the SafetyLimits it would use.

        Raises ConfigError naming the key and the allowed values (unknown setting, wrong
        type), or LimitError for a limit outside the hardware range. Subclasses extend this
        for value checks (channel names, tables) and call ``super().check_config``.
        """
        settings = dict(settings or {})
        unknown = sorted(set(settings) - set(cls.SETTINGS))
        if unknown:
            raise ConfigError(
                f"unknown setting {', '.join(unknown)} for {cls.__name__}; allowed: "
                f"{', '.join(sorted(cls.SETTINGS)) or '(none)'}",
                key="settings",
            )
        for key, value in settings.items():
            types = cls.SETTINGS[key][0]
            if types is float:
                types = (int, float)
            if isinstance(value, bool) and types is not bool and bool not in (
                types if isinstance(types, tuple) else (types,)
            ):
                raise ConfigError(f"{key} = {value!r} must be {cls._type_name(types)}",
                                  key="settings")
            if not isinstance(value, types):
                raise ConfigError(f"{key} = {value!r} must be {cls._type_name(types)}",
                                  key="settings")
        return SafetyLimits(cls.LIMITS, limits, owner=cls.__name__)

    @staticmethod
    def _type_name(types: Any) -> str:
        types = types if isinstance(types, tuple) else (types,)
        return " or ".join(t.__name__ for t in types)

    @classmethod
    def settings_with_defaults(cls, settings: Mapping[str, Any] | None) -> dict[str, Any]:
        """The given settings completed with the class defaults."""
        merged = {key: spec[1] for key, spec in cls.SETTINGS.items()}
        merged.update(settings or {})
        return merged

    def _init_station(self, settings: Mapping[str, Any] | None,
                      limits: Mapping[str, float] | None) -> None:
        """Validate and keep the station entry; call first in ``__init__``, before any I/O."""
        self.safety = self.check_config(settings, limits)
        self.settings = self.settings_with_defaults(settings)

    @staticmethod
    def visa_defaults(adapter: Any, visa_kwargs: dict[str, Any], **defaults: Any) -> dict[str, Any]:
        """``visa_kwargs`` completed with ``defaults`` (terminations ...) when ``adapter`` is a
        VISA resource string; an Adapter object (simulator, tests) is left as it is."""
        if isinstance(adapter, str):
            for key, value in defaults.items():
                visa_kwargs.setdefault(key, value)
        return visa_kwargs

    def tune_link(self) -> None:
        """Turn Nagle's algorithm off on a raw TCP socket link; call right after the link
        opens, before any I/O.

        VISA's default for sockets is VI_ATTR_TCPIP_NODELAY on, so that a command goes out at
        once; pyvisa-py leaves Nagle on, which holds a command written right after one that
        got no reply until the instrument's delayed ACK: ~40 ms per bias step of a sweep
        (set AUX OUT, then SNAP?) on a LAN-attached instrument or the simulated lab. pyvisa-py
        (0.8) refuses the attribute itself (UnknownAttribute), so where pyvisa-py is the
        backend its session's socket gets the option directly. Another VISA library (NI-VISA,
        Keysight VISA: ``visa_library: "@ivi"``) already has it on and is left alone."""
        conn = getattr(self.adapter, "connection", None)
        if conn is None or getattr(conn, "resource_class", "") != "SOCKET":
            return
        if not uses_pyvisa_py(conn):
            return
        session = getattr(conn.visalib, "sessions", {}).get(conn.session)
        sock = getattr(session, "interface", None)
        if isinstance(sock, socket.socket):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def snapshot(self) -> dict[str, Any]:
        """The instrument's settings for the run record (subclasses query their settings)."""
        return {"driver": type(self).__name__, "limits": self.safety.as_dict()}


def uses_pyvisa_py(resource: Any) -> bool:
    """True when a pyvisa resource runs on pyvisa-py (``visa_library="@py"``) rather than on
    an installed VISA library (NI-VISA, Keysight VISA)."""
    visalib = getattr(resource, "visalib", None)
    return type(visalib).__module__.split(".")[0] == "pyvisa_py"
