"""Command coverage of the emulators, generated from the emulators themselves.

Each emulator class lists what it implements in ``COMMANDS`` (header as the manual spells
it -> one-line description) and what it leaves out in ``NOT_IMPLEMENTED`` (header -> why).
:func:`coverage_rows` turns them into a table (instrument, command, implemented or not,
which test file mentions the header) and :func:`coverage_markdown` into the page
``docs/instruments_coverage.md``, regenerated with::

    pcsdaq sim commands --markdown > docs/instruments_coverage.md

A header counts as tested when a test file that names the instrument (its emulator name,
class name or driver name) spells it: the header itself, or for SCPI headers any of its
spellings with optional nodes left in or out, in short or long form (``:VOLT:NPLC``,
``:SENS:VOLT:DC:NPLC`` ...), a query followed by ``?`` and a setting not.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pcsdaq.sim.emulators.scpi import parse_header, short_form

TESTS_DIR = Path(__file__).resolve().parents[1] / "tests"


@dataclass(frozen=True)
class CoverageRow:
    """One command of one emulator."""

    instrument: str  #: emulator name ("sr830")
    command: str  #: header as the manual spells it
    implemented: bool
    note: str  #: description, or why it is not implemented
    tests: tuple[str, ...]  #: test files (relative to tests/) that mention it


@lru_cache(maxsize=1)
def _registry() -> tuple[tuple[str, type], ...]:
    from pcsdaq.clock import VirtualClock
    from pcsdaq.sim.lab import SimLab

    lab = SimLab(clock=VirtualClock())
    return tuple((name, type(emu)) for name, emu in lab.emulators.items())


def emulator_classes() -> dict[str, type]:
    """name -> emulator class, from the simulated lab's registry (every served emulator)."""
    return dict(_registry())


def spellings(header: str) -> list[str]:
    """Every spelling of ``header`` a test may use (without the query ``?``)."""
    bare = header.rstrip("?").strip()
    if not (":" in bare or "[" in bare):
        return [bare]
    nodes = parse_header(bare)
    optional = [i for i, (_, opt) in enumerate(nodes) if opt]
    out = []
    for r in range(len(optional) + 1):
        for dropped in itertools.combinations(optional, r):
            kept = [w for i, (w, _) in enumerate(nodes) if i not in dropped]
            out.append(":".join(short_form(w) for w in kept))
            out.append(":".join(w.upper() for w in kept))
    return list(dict.fromkeys(out))


_TOKEN = re.compile(r"(?<![A-Za-z0-9*])(\*?[A-Za-z][A-Za-z0-9]*(?::[A-Za-z][A-Za-z0-9]*)*)"
                    r"(?![A-Za-z0-9:])(\s*\?)?")


@dataclass(frozen=True)
class _TestFile:
    path: str  #: relative to tests/
    lower: str  #: the text, lower case (instrument names are looked up in it)
    sets: frozenset[str]  #: headers spelled without "?" (upper case, every ":" suffix)
    queries: frozenset[str]  #: headers spelled with "?"


def _scan(path: str, text: str) -> _TestFile:
    sets: set[str] = set()
    queries: set[str] = set()
    for match in _TOKEN.finditer(text):
        nodes = match.group(1).upper().split(":")
        target = queries if match.group(2) else sets
        target.update(":".join(nodes[i:]) for i in range(len(nodes)))
    return _TestFile(path, text.lower(), frozenset(sets), frozenset(queries))


@lru_cache(maxsize=1)
def _test_files() -> tuple[_TestFile, ...]:
    if not TESTS_DIR.is_dir():
        return ()
    return tuple(_scan(str(p.relative_to(TESTS_DIR)), p.read_text(errors="replace"))
                 for p in sorted(TESTS_DIR.rglob("test_*.py")))


def _aliases(name: str, cls: type) -> list[str]:
    from pcsdaq.drivers import registry

    drivers = [d for d, e in registry.emulators().items() if e == name]
    return [name, cls.__name__, *drivers]


def covering_tests(name: str, cls: type, header: str) -> tuple[str, ...]:
    """Test files that name the instrument and spell ``header`` (a query with ``?``)."""
    aliases = [a.lower() for a in _aliases(name, cls)]
    wanted = {w.upper() for w in spellings(header)}
    query = header.endswith("?")
    found = [f.path for f in _test_files()
             if any(a in f.lower for a in aliases)
             and wanted & (f.queries if query else f.sets)]
    # the instrument's own test files first
    return tuple(sorted(found, key=lambda path: (name not in path, path)))


def coverage_rows(name: str | None = None) -> list[CoverageRow]:
    """The table for every emulator, or for the one called ``name`` (KeyError if none)."""
    classes = emulator_classes()
    if name is not None:
        classes = {name: classes[name]}
    rows = []
    for inst, cls in classes.items():
        commands: dict[str, str] = getattr(cls, "COMMANDS", {}) or {}
        missing: dict[str, str] = getattr(cls, "NOT_IMPLEMENTED", {}) or {}
        if not commands and not missing:
            rows.append(CoverageRow(inst, "(no COMMANDS table)", False,
                                    "the emulator does not list its commands yet", ()))
        for header, note in commands.items():
            rows.append(CoverageRow(inst, header, True, note, covering_tests(inst, cls, header)))
        for header, why in missing.items():
            rows.append(CoverageRow(inst, header, False, why, ()))
    return rows


def coverage_text(rows: list[CoverageRow]) -> str:
    """Plain-text table for a terminal."""
    width = max((len(r.command) for r in rows), default=10)
    lines = []
    for r in rows:
        state = "yes" if r.implemented else "NO "
        tests = ", ".join(r.tests) if r.tests else ("-" if not r.implemented else "untested")
        lines.append(f"{r.instrument:13s} {r.command:{width}s} {state} {tests}  # {r.note}")
    return "\n".join(lines)


def coverage_markdown(rows: list[CoverageRow]) -> str:
    """The generated page docs/instruments_coverage.md."""
    out = ["# Emulator command coverage", "",
           ("Generated from the emulators' `COMMANDS` / `NOT_IMPLEMENTED` tables by "
            "`pcsdaq sim commands --markdown > docs/instruments_coverage.md`; do not edit "
            "by hand (tests/sim/test_coverage.py checks it is up to date)."), ""]
    for inst in dict.fromkeys(r.instrument for r in rows):
        mine = [r for r in rows if r.instrument == inst]
        done = sum(r.implemented for r in mine)
        tested = sum(bool(r.tests) for r in mine if r.implemented)
        out += [f"## {inst}", "",
                (f"{done} commands implemented, {tested} of them named in a test; "
                 f"{len(mine) - done} not implemented."), "",
                "| command | implemented | test | description |", "|---|---|---|---|"]
        for r in mine:
            cmd = r.command.replace("|", "\\|")
            note = r.note.replace("|", "\\|")
            tests = f"`{r.tests[0]}`" if r.tests else "-"
            if len(r.tests) > 1:
                tests += f" (+{len(r.tests) - 1})"
            out.append(f"| `{cmd}` | {'yes' if r.implemented else 'no'} | {tests} | {note} |")
        out.append("")
    return "\n".join(out)


def main_commands(name: str | None, markdown: bool) -> int:
    """``pcsdaq sim commands [NAME] [--markdown]``; returns the exit code."""
    import sys

    try:
        rows = coverage_rows(name)
    except KeyError:
        known = ", ".join(emulator_classes())
        print(f"pcsdaq sim commands: no emulator {name!r}; known: {known}", file=sys.stderr)
        return 2
    print(coverage_markdown(rows) if markdown else coverage_text(rows))
    return 0
