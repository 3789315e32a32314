"""SCPI grammar for the emulators of SCPI instruments (IEEE 488.2 / SCPI-1999 chapter 6-7).

A command tree is given as headers in the manual's notation, one node per ``:``, optional
nodes in brackets, e.g. ``[SENSe]:VOLTage:[DC]:NPLCycles``. Each node matches its short
form (the upper-case letters, ``NPLC``) or its long form (``NPLCYCLES``), in any case; a
numeric suffix ``1`` is optional (``SENSe1`` = ``SENSe``). :class:`CommandTree` resolves a
received header to the canonical key (every node in short form, optional ones included:
``SENS:VOLT:DC:NPLC``) and keeps the compound-command rule: after ``;`` a header without a
leading ``:`` starts at the node of the previous command (``:VOLT:NPLC 1;RANG 10`` sets
``VOLT:RANG``). :class:`ScpiError` carries the standard error numbers.
"""

from __future__ import annotations

import itertools
import re

#: standard SCPI error texts, by number
ERRORS = {
    -100: "Command error", -102: "Syntax error", -104: "Data type error",
    -108: "Parameter not allowed", -109: "Missing parameter", -113: "Undefined header",
    -200: "Execution error", -213: "Init ignored", -214: "Trigger deadlock",
    -220: "Parameter error", -221: "Settings conflict", -222: "Data out of range",
    -224: "Illegal parameter value", -230: "Data corrupted or stale", -350: "Queue overflow",
}
_HEADER = re.compile(r":?\*?[A-Za-z][A-Za-z0-9_]*(:[A-Za-z][A-Za-z0-9_]*)*\??$")


class ScpiError(Exception):
    """A SCPI error: ``code`` is the error number (-113 ...)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code

    def entry(self) -> str:
        """The error queue entry as ``:SYST:ERR?`` returns it: ``-113,"Undefined header"``."""
        return f'{self.code},"{ERRORS.get(self.code, "Error")}"'


def esr_bit(code: int) -> int:
    """Standard event register bit a SCPI error sets: command (-1xx) 0x20, execution (-2xx)
    0x10, device-specific (-3xx) 0x08, query (-4xx) 0x04."""
    return {1: 0x20, 2: 0x10, 3: 0x08, 4: 0x04}.get(-code // 100, 0x08)


def short_form(node: str) -> str:
    """``NPLCycles`` -> ``NPLC``; ``DC`` -> ``DC`` (the leading capitals and digits)."""
    match = re.match(r"[A-Z0-9*]*", node)  # always matches, maybe empty
    return (match.group(0) if match else "") or node.upper()


_NODE = re.compile(r"\[:?(\*?[A-Za-z]+)(?:\[\d\])?\]|:?(\*?[A-Za-z]+)(?:\[\d\])?")


def parse_header(header: str) -> list[tuple[str, bool]]:
    """The manual's notation -> [(node word, optional)]: ``[:SENSe[1]]:VOLTage[:DC]:NPLCycles?``
    -> [("SENSe", True), ("VOLTage", False), ("DC", True), ("NPLCycles", False)]."""
    return [(m.group(1) or m.group(2), m.group(1) is not None)
            for m in _NODE.finditer(header.rstrip("?"))]


def minimal_form(header: str) -> str:
    """Shortest spelling of a header: optional nodes left out, short forms, ``?`` kept:
    ``[:SENSe[1]]:DATA:FRESh?`` -> ``DATA:FRES?``."""
    nodes = [short_form(w) for w, optional in parse_header(header) if not optional]
    return ":".join(nodes) + ("?" if header.endswith("?") else "")


class CommandTree:
    """Headers in the manual's notation -> canonical keys; resolves received headers."""

    def __init__(self, headers: list[str]) -> None:
        self.vocabulary: dict[str, str] = {}  # SHORT or LONG (upper) -> SHORT
        self.variants: dict[tuple[str, ...], str] = {}  # received short nodes -> canonical
        for header in headers:
            self.add(header)

    def add(self, header: str) -> str:
        """Add one header (e.g. ``[:SENSe[1]]:DATA:FRESh?``); returns its canonical key."""
        parts = []
        for word, optional in parse_header(header):
            short = short_form(word)
            self.vocabulary[short] = short
            self.vocabulary[word.upper()] = short
            parts.append((short, optional))
        canonical = ":".join(s for s, _ in parts)
        optional_at = [i for i, (_, opt) in enumerate(parts) if opt]
        for dropped in itertools.chain.from_iterable(
                itertools.combinations(optional_at, r) for r in range(len(optional_at) + 1)):
            key = tuple(s for i, (s, _) in enumerate(parts) if i not in dropped)
            self.variants.setdefault(key, canonical)
        return canonical

    def _node(self, word: str) -> str:
        upper = word.upper()
        short = self.vocabulary.get(upper)
        if short is None and upper.endswith("1"):
            short = self.vocabulary.get(upper[:-1])  # the default numeric suffix
        if short is None:
            raise ScpiError(-113)
        return short

    def resolve(self, header: str, prefix: tuple[str, ...] = ()) -> tuple[str, tuple[str, ...]]:
        """(canonical key, new prefix) of a received ``header`` (without ``?``); ``prefix``
        is the node path a header without leading ``:`` continues from (compound rule)."""
        rooted = header.startswith(":")
        words = header.lstrip(":").split(":")
        if not all(words):
            raise ScpiError(-102)
        nodes = tuple(self._node(w) for w in words)
        if not rooted and prefix:
            found = self.variants.get(prefix + nodes)
            if found is not None:
                return found, prefix + nodes[:-1]
        found = self.variants.get(nodes)
        if found is None:
            raise ScpiError(-113)
        return found, nodes[:-1]


def split_message(message: str, sep: str = ";") -> list[str]:
    """Split a program message on ``sep`` (``;``) outside quotes."""
    parts, current, quote = [], [], ""
    for ch in message:
        if quote:
            current.append(ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            current.append(ch)
        elif ch == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def split_command(text: str) -> tuple[str, bool, list[str]]:
    """``":SENS:FUNC 'RES'"`` -> (header without ``?``, is_query, [arguments]); raises
    ScpiError(-102) for a header with characters SCPI does not allow."""
    text = text.strip()
    match = re.match(r"(\S+?)(\s*\?)?(\s+|$)(.*)$", text, re.DOTALL)
    if match is None:
        raise ScpiError(-102)
    header = match.group(1) + ("?" if match.group(2) else "")
    if not _HEADER.match(header):
        raise ScpiError(-102)
    query = header.endswith("?")
    rest = match.group(4).strip()
    args = [a.strip() for a in split_message(rest, ",")] if rest else []
    return header.rstrip("?"), query, args


def number(word: str, low: float, high: float, default: float | None = None) -> float:
    """A numeric parameter, with MINimum / MAXimum / DEFault; -104 when not a number,
    -222 when outside [low, high]."""
    upper = word.upper()
    if upper in ("MIN", "MINIMUM"):
        return low
    if upper in ("MAX", "MAXIMUM"):
        return high
    if upper in ("DEF", "DEFAULT") and default is not None:
        return default
    try:
        value = float(word)
    except ValueError:
        raise ScpiError(-104) from None
    if not low <= value <= high:  # NaN fails too
        raise ScpiError(-222)
    return value


def boolean(word: str) -> int:
    """ON / OFF / 1 / 0 -> 1 / 0; -224 otherwise."""
    upper = word.upper()
    if upper in ("ON", "1", "1.0"):
        return 1
    if upper in ("OFF", "0", "0.0"):
        return 0
    raise ScpiError(-224)


def choice(word: str, options: list[str]) -> str:
    """One of ``options`` in the manual's notation (``REPeat``), given short or long, in
    any case -> its short form; -224 otherwise."""
    upper = word.strip("'\"").upper()
    for option in options:
        if upper in (short_form(option), option.upper()):
            return short_form(option)
    raise ScpiError(-224)
