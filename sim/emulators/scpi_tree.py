"""SCPI header matching as IEEE 488.2 defines it, for the emulators of SCPI instruments.

A header is written as the manual spells it, mixed case: ``CONFigure:FIELD:TARGet``. Each
node may be sent in its long form (``CONFIGURE``) or its short form (the upper-case letters,
``CONF``), in any case; a leading ``:`` is allowed; ``[NODE:]`` marks an optional node; ``#``
stands for a numeric suffix node (``RAMP:RATE:FIELD:#?`` takes ``RAMP:RATE:FIELD:2?``) whose
number is handed to the handler as its first argument. Matching is a dict lookup over every
accepted spelling, built once per class.
"""

from __future__ import annotations

import itertools
import re


def _node_forms(node: str) -> set[str]:
    if node == "#":
        return {"#"}
    short = "".join(c for c in node if c.isupper() or c.isdigit() or c in "*?")
    return {node.upper(), short or node.upper()}


def spellings(header: str) -> list[str]:
    """Every upper-case spelling of ``header`` (long/short forms, optional nodes)."""
    query = header.endswith("?")
    body = header.rstrip("?")
    parts = re.findall(r"\[:?([^\]]+?):?\]|([^:\[\]]+)", body)
    choices = []
    for optional, node in parts:
        forms = _node_forms(optional or node)
        choices.append(forms | {""} if optional else forms)
    out = []
    for combo in itertools.product(*choices):
        text = ":".join(c for c in combo if c)
        out.append(text + ("?" if query else ""))
    return out


def build_table(headers) -> dict[str, str]:
    """{accepted spelling: header as the manual spells it} for ``headers``."""
    table: dict[str, str] = {}
    for header in headers:
        for spelled in spellings(header):
            table.setdefault(spelled, header)
    return table


_NUMBER_NODE = re.compile(r"(?<=:)(\d+)(?=:|\?|$)")


def match(table: dict[str, str], header: str) -> tuple[str | None, list[str]]:
    """(header as the manual spells it, numeric suffixes) for a received header, or
    (None, []) when nothing matches. Case-insensitive; a leading ``:`` is dropped."""
    text = header.strip().lstrip(":").upper()
    if text in table:
        return table[text], []
    numbers = _NUMBER_NODE.findall(text)
    if numbers:
        found = table.get(_NUMBER_NODE.sub("#", text))
        if found is not None:
            return found, numbers
    return None, []
